"""One edit of an analyst's workbook: gate, lock, read once, edit, verify unchanged, write.

Every command that changes a workbook (``scenario add``/``remove``, ``prices
import --workbook``, ``tables fix``, ``recalc``) goes through an edit session::

    with EditSession(book, output) as session:     # gate, lock, read once, round-trip check
        edit(session.wb)                           # change the openpyxl workbook in memory
        session.write(values)                      # verify unchanged, write atomically

``__enter__``

1. refuses a name openpyxl cannot open, an output of another type, an output
   that cannot be written;
2. refuses a book an office application has open: LibreOffice's owner file
   ``.~lock.BOOK#`` or Excel's ``~$BOOK`` beside it (an application saving its
   copy later would undo the change);
3. takes an exclusive OS lock for the book (and the output), so two tokencost
   commands on one book run one after the other: the second waits (up to
   :data:`LOCK_TIMEOUT_S`) and then reads the first one's result, so both
   changes are kept;
4. reads the file once: the bytes, their SHA-256, the gate
   (:func:`tokencost.workbook.gate.check_readable`), the openpyxl workbook
   (``session.wb``) and every cell's cached value (``session.cached``);
5. works out what a rewrite would lose (:func:`~.inventory.round_trip_report`:
   openpyxl's package, with every chart restored byte for byte, compared with
   the original part by part and element by element) and refuses an in-place
   edit that would lose anything.

:meth:`EditSession.write` writes openpyxl's package with the untouched charts
restored and *values* stored as cached values, through
:func:`tokencost.workbook.files.write_atomic` (a temporary file renamed into
place, the replaced file kept as ``.bak``); right before the rename it checks
that the book on disk still has the bytes it read, and refuses ("changed while
tokencost was working; nothing was written") if another program saved it
meanwhile. An exception anywhere leaves every file as it was; the lock is
released when the ``with`` block ends.

Writing to another file (*output*) never touches the book, so a lossy write is
allowed there, but never silent: each lost item is passed to ``on_loss(lines)``
(default: a warning on stderr) and listed in :attr:`Rewritten.lost`.
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from ...errors import WorkbookError
from ..cached import inject_cached_values
from ..files import check_writable, write_atomic
from ..gate import check_readable
from ..interrupt import shared_temp_dir
from .inventory import (Report, load_for_rewrite, loss_error, require_workbook_suffix,
                        rewritten_package, round_trip_report)
from .refresh import cached_values_of_package

#: how long a command waits for another tokencost command writing the same book [s]
LOCK_TIMEOUT_S = 120.0


@dataclass
class Rewritten:
    """What an edit session wrote."""
    target: Path
    backup: Optional[Path]
    lost: list = field(default_factory=list)


def owner_files(path: Path) -> list[Path]:
    """The owner (lock) files an office application keeps beside *path* while it has the
    book open: LibreOffice ``.~lock.NAME#``, Excel ``~$NAME`` (Excel writes ``~$`` over the
    first two characters of a long name)."""
    folder, name = path.parent, path.name
    candidates = [folder / f".~lock.{name}#", folder / f"~${name}"]
    if len(name) > 2:
        candidates.append(folder / f"~${name[2:]}")
    return [c for c in candidates if c.exists()]


def refuse_if_open(path: Path) -> None:
    """One line when an office application has *path* open."""
    found = owner_files(path)
    if found:
        app = "LibreOffice" if found[0].name.startswith(".~lock.") else "Excel"
        raise WorkbookError(
            f"{path}: the workbook is open in {app} (its lock file {found[0].name} is beside it); "
            f"close it there first: saving the open copy later would undo this change (if "
            f"{app} is not running, the lock file is stale: delete it)")


class BookLock:
    """An exclusive OS lock for one workbook, held by tokencost commands only.

    The lock file lives in the system's temporary folder (named after the book's
    resolved path), not beside the book, so an analyst's folder gets no extra
    file; the OS releases the lock when the process ends, however it ends.
    Waits up to *timeout_s* for another command to finish.
    """

    def __init__(self, book: Path, timeout_s: float = LOCK_TIMEOUT_S):
        self.book = Path(book)
        self.timeout_s = timeout_s
        self._fh = None

    def _lock_path(self) -> Path:
        key = hashlib.sha256(str(self.book.resolve()).encode()).hexdigest()[:32]
        folder = Path(shared_temp_dir()) / f"tokencost-locks-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"{key}.lock"

    def __enter__(self) -> "BookLock":
        try:
            import fcntl
        except ImportError:   # Windows: no fcntl; the unchanged-bytes check still guards
            return self
        fh = open(self._lock_path(), "a+")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    fh.close()
                    raise WorkbookError(
                        f"{self.book}: another tokencost command is still writing this workbook "
                        f"after {self.timeout_s:.0f} s; nothing was changed: try again when it "
                        "has finished") from None
                time.sleep(0.1)
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.close()   # closing the file releases the lock
            self._fh = None


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class EditSession:
    """One edit of *book* (in place, or to *output*); see the module docstring.

    Attributes (inside the ``with`` block)
    --------------------------------------
    wb : openpyxl.Workbook
        The workbook, loaded once; edit it in place.
    cached : dict
        ``{(sheet, row, col): value}`` of every cell as the file stores it (numbers as
        floats, errors as :class:`tokencost.workbook.formula.XLError`).
    report : Report
        What the write loses (empty for an in-place edit, which is refused otherwise).
    """

    def __init__(self, book, output=None, *, backup: bool = True,
                 on_loss: Optional[Callable] = None, lock_timeout_s: float = LOCK_TIMEOUT_S,
                 load: bool = True, **readable_limits):
        self.book = Path(book)
        self.in_place = output is None or _same_file(self.book, Path(output))
        self.target = self.book if self.in_place else Path(output)
        self.backup = backup
        self.on_loss = on_loss
        self.load = load
        self._limits = readable_limits
        self._locks = [BookLock(self.book, lock_timeout_s)]
        if not self.in_place:
            self._locks.append(BookLock(self.target, lock_timeout_s))
        self.wb = None
        self.cached: dict = {}
        self.report = Report()
        self.data = b""
        self._digest = ""

    # ---- entering: gate, lock, read once
    def __enter__(self) -> "EditSession":
        require_workbook_suffix(self.book)
        if not self.in_place and self.target.suffix.lower() != self.book.suffix.lower():
            raise WorkbookError(f"{self.target}: the output must be a {self.book.suffix} file like "
                                f"{self.book.name} (Excel refuses a workbook whose content does not "
                                "match its extension)")
        check_writable(self.target)
        refuse_if_open(self.book)
        if not self.in_place:
            refuse_if_open(self.target)
        entered = []
        try:
            for lock in self._locks:
                lock.__enter__()
                entered.append(lock)
            check_readable(self.book, **self._limits)
            self.data = self.book.read_bytes()
            self._digest = hashlib.sha256(self.data).hexdigest()
            if self.load:
                self.wb = load_for_rewrite(self.data, self.book)
                with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
                    self.cached = cached_values_of_package(zf)
                self.report = round_trip_report(self.data, self.wb, self.book)
                if self.report and self.in_place:
                    raise loss_error(self.book, self.report)
        except BaseException:
            for lock in reversed(entered):
                lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for lock in reversed(self._locks):
            lock.__exit__(None, None, None)

    # ---- writing: verify unchanged, atomic write
    def verify_unchanged(self) -> None:
        """Refuse when the book on disk is no longer the one read (another program saved it)."""
        try:
            same = _digest(self.book) == self._digest
        except OSError:
            same = False
        if not same:
            raise WorkbookError(
                f"{self.book}: the workbook changed on disk while tokencost was working (saved "
                "by another program?); nothing was written, so that change is kept: run the "
                "command again")
        refuse_if_open(self.book)

    def _cached_value(self, sheet: str, ref: str):
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
        letters, row = coordinate_from_string(ref)
        return self.cached.get((sheet, row, column_index_from_string(letters)))

    def write(self, values: Optional[dict] = None, *, package: Optional[Callable] = None) -> Rewritten:
        """Write the edited workbook (or ``package(tmp)``, a writer of the whole file,
        for an edit that changes only cached values) to the target; store *values*
        (``{(sheet, "B7"): value}``) as cached values."""
        def save(tmp):
            if package is not None:
                package(tmp)
            else:
                Path(tmp).write_bytes(rewritten_package(self.data, self.wb))
            if values is not None:
                inject_cached_values(tmp, lambda sheet, ref: values.get((sheet, ref)))
            elif package is None:   # openpyxl writes no cached value: keep the file's own
                inject_cached_values(tmp, self._cached_value)
            self.verify_unchanged()

        bak = write_atomic(save, self.target, backup=self.backup)
        keeper = self.book.name if not self.in_place else (bak.name if bak else "no backup")
        lines = [f"{self.target.name} does not contain {line}; {keeper} still has it"
                 for line in self.report.lines() + self.report.harmless_lines()]
        if lines:
            (self.on_loss or _print_lines)(lines)
        return Rewritten(target=self.target, backup=bak, lost=lines)


def rewrite_in_place(path, edit: Callable, output=None, *, backup: bool = True,
                     on_loss: Optional[Callable] = None, **readable_limits) -> Rewritten:
    """``edit(wb)`` on *path* (in place, or to *output*) in one :class:`EditSession`,
    cached values as the file had them (a caller that changes values computes them:
    see :func:`tokencost.workbook.edit.refresh.values_after_edit`)."""
    with EditSession(path, output, backup=backup, on_loss=on_loss, **readable_limits) as session:
        edit(session.wb)
        return session.write()
