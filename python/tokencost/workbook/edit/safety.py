"""Gatekeeping for workbook files an analyst hands us (read and in-place write).

Three entry points; each raises :class:`tokencost.errors.WorkbookError` with
one line that names the file and says what is wrong (the CLI prints it and
exits 2):

``check_readable(path, *, max_bytes=..., max_uncompressed_bytes=..., max_ratio=..., max_entries=..., max_cells=..., max_rows=..., max_shared_strings=..., max_xml_elements=...)``
    Call before anything opens a user's workbook (openpyxl, pandas,
    LibreOffice). Refuses, without decompressing anything large into memory:
    a missing file or directory, a file over *max_bytes*, a file that is not a
    zip package (an old ``.xls`` or a password-protected workbook is named as
    such), a truncated or corrupt zip, two entries of one part (the same name,
    or names equal but for case, a leading '/' or '\\' for '/': zipfile sees
    only the last of them, other readers the first), encrypted entries, too many entries, a
    zip bomb (total declared uncompressed size over *max_uncompressed_bytes*,
    or an entry over 1 MiB that expands more than *max_ratio* times), a zip
    that is no workbook (no ``[Content_Types].xml`` or workbook part; Word and
    PowerPoint files are named), and any XML entry whose prolog declares a
    DOCTYPE or entities (entity-expansion "billion laughs" and external
    entities), whatever the entry's name: an entry is XML when its first
    character after a byte-order mark and whitespace is ``<`` in UTF-8, UTF-16
    or UTF-32 (see :func:`_check_entry`). Every XML part is streamed through
    expat to its end (never held in memory; no tag or text run over 4 MiB), so
    it also refuses a part that is not well-formed, a cell, row, ``<dimension>``
    or table range outside Excel's grid (1,048,576 rows, 16,384 columns), and
    more cells, rows, shared strings or XML elements than tokencost processes
    (*max_cells* and the other limits below). It does not check that
    the workbook holds the expected sheets: that is the reader's job.

``check_in_place(path) -> Report``
    Call before rewriting a workbook with openpyxl. Does the round trip in
    memory (load as :func:`rewrite_in_place` would, save to a buffer, nothing
    written to disk) and compares what the two packages contain: the parts an
    analyst can add, found by walking the package's relationships (pivot
    tables and caches, slicers, timelines, threaded comments, form and ActiveX
    controls, embedded objects, custom XML, chart styles, external links,
    data connections, the ribbon customisation, ...), the objects on every
    drawing (pictures, shapes and text boxes, groups, connectors, SmartArt,
    Excel 2010+ objects), each worksheet's features (data validation and
    conditional-formatting rules, hyperlinks, merged cells, protection, page
    breaks, and Excel 2010+ extensions such as sparklines, x14 data validation
    and x14 conditional formats), each chart's elements, defined names, named
    styles, comments, rich-text runs and the VBA project's bytes. Anything
    present before and missing after raises ``WorkbookError("BOOK: writing it
    in place would lose 1 shape or text box on sheet 'Notes', 1 pivot table on
    sheet 'Pivot'; nothing was changed. ...")``. Returns the report (empty when
    nothing would be lost) when ``raise_on_loss=False``.

``rewrite_in_place(path, edit, output=None, *, backup=True, on_loss=None) -> Rewritten``
    The one way commands change a workbook: ``check_readable``, then
    ``check_in_place``, then load with openpyxl (``keep_vba`` for ``.xlsm``,
    ``keep_links=True``, ``rich_text=True``), call ``edit(wb)`` (it changes
    the openpyxl workbook in memory and returns nothing), and save through
    :func:`tokencost.workbook.build.write_atomic` (temporary file in the same
    folder, renamed into place; the replaced file is kept as ``<file>.bak``
    unless ``backup=False``). An exception inside ``edit`` leaves every file
    as it was.

    * ``output`` None or the same file: in place. If the round trip would lose
      anything the workbook is refused and nothing is written.
    * ``output`` another file (it must have the same suffix, ``.xlsm`` stays
      ``.xlsm``): the original is never touched, so a lossy write is allowed,
      but never silent: each lost item is passed to ``on_loss(lines)``
      (default: printed on stderr as ``warning: NEW.xlsm does not contain
      ...``) and listed in the returned ``Rewritten.lost``.

Why refuse rather than preserve: openpyxl rebuilds the package from its object
model and has no model for the parts listed above, so they cannot be carried
through a rewrite by openpyxl. Commands that only change cell values (such as
``tokencost recalc``, which edits the cells' ``<v>`` in the XML and copies every
other part byte for byte) need only :func:`check_readable`.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import posixpath
import re
import sys
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional
from xml.parsers import expat

from ...errors import WorkbookError

MiB = 1024 * 1024

#: default limits of :func:`check_readable` (arguments override them)
MAX_BYTES = 200 * MiB            # the file on disk
MAX_UNCOMPRESSED_BYTES = 2048 * MiB  # all entries, as declared in the zip directory
MAX_RATIO = 200                  # uncompressed / compressed, for entries over 1 MiB
RATIO_MIN_ENTRY_BYTES = 1 * MiB  # entries smaller than this cannot bomb, whatever their ratio
MAX_ENTRIES = 10_000
PROLOG_CHUNK = 64 * 1024         # bytes fed to the XML parser at a time
MAX_TOKEN_BYTES = 4 * MiB        # the longest tag or text run in an XML part (and blank start)

#: Excel's grid (Excel specifications and limits: 1,048,576 rows by 16,384 columns)
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
#: what tokencost processes at most (arguments of check_readable override them); see the
#: README ("Hostile or broken files") for the time and memory these bounds keep every
#: accepted file within
MAX_CELLS = 1_000_000            # <c> elements in all sheets together
MAX_ROWS = EXCEL_ROWS            # <row> elements in all sheets together: one full sheet
MAX_SHARED_STRINGS = MAX_CELLS   # <si> items: Excel writes only the strings its cells use
MAX_XML_ELEMENTS = 10_000_000    # elements in all XML parts together


# ---------------------------------------------------------------------------------------------
# check_readable
# ---------------------------------------------------------------------------------------------

def _size(n: float) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB / 10 else f"{n:.0f} bytes"


def check_readable(path, *, max_bytes: int = MAX_BYTES,
                   max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
                   max_ratio: float = MAX_RATIO, max_entries: int = MAX_ENTRIES,
                   max_cells: int = MAX_CELLS, max_rows: int = MAX_ROWS,
                   max_shared_strings: int = MAX_SHARED_STRINGS,
                   max_xml_elements: int = MAX_XML_ELEMENTS) -> None:
    """Refuse a file that is not a readable, safe xlsx/xlsm package.

    Parameters
    ----------
    path : str or Path
        The workbook.
    max_bytes : int
        Largest file accepted [bytes].
    max_uncompressed_bytes : int
        Largest total of the entries' uncompressed sizes [bytes].
    max_ratio : float
        Largest uncompressed/compressed ratio of an entry over 1 MiB [-].
        Deflate cannot exceed about 1032; spreadsheet XML is typically 5 to 50.
    max_entries : int
        Most entries in the zip [-].
    max_cells : int
        Most cells (``<c>`` elements) in all sheets together [-].
    max_rows : int
        Most rows (``<row>`` elements) in all sheets together [-].
    max_shared_strings : int
        Most strings (``<si>`` items) in the shared-string tables [-].
    max_xml_elements : int
        Most elements in all XML parts together [-].

    Whatever the arguments, every cell, row, ``<dimension>`` and table range must lie in
    Excel's grid (:data:`EXCEL_ROWS` rows, :data:`EXCEL_COLUMNS` columns) and no tag or
    text run may exceed :data:`MAX_TOKEN_BYTES`.

    Raises
    ------
    WorkbookError
        One line naming the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if not path.is_file():
        raise WorkbookError(f"{path}: not a file")
    size = path.stat().st_size
    if size > max_bytes:
        raise WorkbookError(f"{path}: the file is {_size(size)}, over the {_size(max_bytes)} limit "
                            "for a workbook; refused without reading it")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise WorkbookError(f"{path}: an old-format .xls or a password-protected workbook "
                            "(OLE2 file), not an .xlsx/.xlsm package; remove the password or "
                            "save it as .xlsx/.xlsm")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise WorkbookError(f"{path}: not an Excel workbook (an .xlsx/.xlsm file is a zip "
                            "package; this file is something else)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
        raise WorkbookError(f"{path}: corrupt or truncated workbook (the zip directory cannot "
                            f"be read: {err})") from None
    with zf:
        _check_directory(path, zf, max_uncompressed_bytes, max_ratio, max_entries)
        names = set(zf.namelist())
        if "[Content_Types].xml" not in names:
            raise WorkbookError(f"{path}: not an Excel workbook (a zip without "
                                "[Content_Types].xml)")
        budget = _Budget(path, zf, max_cells=max_cells, max_rows=max_rows,
                         max_shared_strings=max_shared_strings, max_xml_elements=max_xml_elements)
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if not info.is_dir():
                _check_entry(path, zf, info, budget)
        workbook_part = _workbook_part(zf)
        if workbook_part is not None and workbook_part not in names:
            raise WorkbookError(f"{path}: corrupt workbook (the package names {workbook_part}, "
                                "which is missing)")
        root = _root_tag(zf, workbook_part) if workbook_part else None
        if root != f"{MAIN_NS} workbook":
            kinds = {"wordprocessingml": "a Word document", "presentationml": "a PowerPoint "
                     "presentation"}
            for key, what in kinds.items():
                if root and key in root:
                    raise WorkbookError(f"{path}: {what}, not an Excel workbook")
            raise WorkbookError(f"{path}: not an Excel workbook (the package has no workbook part)")


def _check_directory(path, zf: zipfile.ZipFile, max_total, max_ratio, max_entries) -> None:
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise WorkbookError(f"{path}: the zip holds {len(infos)} entries, over the limit of "
                            f"{max_entries}; refused as a possible zip bomb")
    _check_unique_names(path, infos)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise WorkbookError(f"{path}: entry {info.filename} is encrypted; not a workbook "
                                "openpyxl or Excel can read")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookError(f"{path}: entry {info.filename} uses zip compression method "
                                f"{info.compress_type}; Excel packages use deflate or none")
        total += info.file_size
        if total > max_total:
            raise WorkbookError(f"{path}: the entries expand to over {_size(max_total)} "
                                "(declared sizes); refused as a possible zip bomb")
        if info.file_size >= RATIO_MIN_ENTRY_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio:
                raise WorkbookError(
                    f"{path}: entry {info.filename} expands {ratio:.0f} times "
                    f"({_size(info.compress_size)} to {_size(info.file_size)}), over the limit "
                    f"of {max_ratio:g}; refused as a possible zip bomb")


def part_key(name: str) -> str:
    """The part a zip entry name stands for, as readers other than Python's zipfile resolve
    it: backslashes as '/', no leading '/', and case ignored (ECMA-376 Part 2 compares part
    names case-insensitively).

    Parameters
    ----------
    name : str
        A zip entry's name.

    Returns
    -------
    str
        The same for every name some reader takes for the same part.
    """
    return name.replace("\\", "/").lstrip("/").lower()


def _check_unique_names(path, infos) -> None:
    """Refuse two entries of one part: zipfile's lookup by name returns the last entry of a
    name, other zip readers the first, and a check that inspected one copy proves nothing
    about the other."""
    seen: dict = {}
    for info in infos:
        key = part_key(info.filename)
        other = seen.get(key)
        if other is None:
            seen[key] = info.filename
        elif other == info.filename:
            raise WorkbookError(f"{path}: entry {info.filename} appears twice in the zip (readers "
                                "disagree on which copy is the part); refused")
        else:
            first, second = sorted((other, info.filename))
            raise WorkbookError(f"{path}: entries {first} and {second} name the same part (part "
                                "names ignore case, a leading '/' and '\\' for '/'), so readers "
                                "disagree on which is read; refused")


class _RootReached(Exception):
    pass


class _Forbidden(Exception):
    pass


def _root_tag(zf: zipfile.ZipFile, name: str) -> Optional[str]:
    """The namespace-qualified tag (``"ns local"``) of *name*'s root element."""
    found = []
    parser = expat.ParserCreate(namespace_separator=" ")

    def root(tag, _attrs):
        found.append(tag)
        raise _RootReached()

    parser.StartElementHandler = root
    try:
        with zf.open(name) as fh:
            parser.Parse(fh.read(PROLOG_CHUNK), False)
    except (_RootReached, expat.ExpatError):
        pass
    return found[0] if found else None


#: what an entry's first bytes say it is (XML 1.0 Appendix F): a byte-order mark, else the
#: zero bytes of a UTF-16/UTF-32 "<" (or of whitespace before it)
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"   # "<?xm" in EBCDIC
_BLANK = " \t\r\n"


def _guess_encoding(head: bytes) -> tuple:
    """(encoding, length of its byte-order mark) of an entry that starts with *head*."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    if head.startswith(_EBCDIC_XML):
        return "cp037", 0
    if len(head) >= 4 and head[1:4] == b"\x00\x00\x00" and head[0]:
        return "utf-32-le", 0
    if len(head) >= 4 and head[0:3] == b"\x00\x00\x00" and head[3]:
        return "utf-32-be", 0
    if len(head) >= 2 and not head[0] and head[1]:
        return "utf-16-be", 0
    if len(head) >= 2 and head[0] and not head[1]:
        return "utf-16-le", 0
    return "utf-8", 0


class _Entry:
    """The bytes of one zip entry, as XML if it is XML: :meth:`open` reads until the first
    character that is not whitespace (in the encoding the first bytes announce) and tells
    whether it is ``<``; :meth:`chunks` then yields the entry as bytes expat reads (UTF-16 is
    transcoded to UTF-8), from the start."""

    def __init__(self, path, name: str, fh):
        self.path, self.name, self.fh = path, name, fh
        self.encoding, self._bom, self._head = "utf-8", 0, b""

    def open(self) -> bool:
        """True when the entry's first character after a byte-order mark and whitespace is
        ``<`` (it is XML, or meant to be read as XML)."""
        head = self.fh.read(PROLOG_CHUNK)
        self.encoding, self._bom = _guess_encoding(head)
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        text = decoder.decode(head[self._bom:])
        blank = 0
        while True:
            stripped = text.lstrip(_BLANK)
            if stripped or not head:
                break
            blank += len(text)
            if blank > MAX_TOKEN_BYTES:
                raise WorkbookError(f"{self.path}: part {self.name} starts with over "
                                    f"{_size(MAX_TOKEN_BYTES)} of blank characters; refused")
            more = self.fh.read(PROLOG_CHUNK)
            if not more:
                break
            self._head += head
            head = more
            text = decoder.decode(more)
        self._head += head
        return stripped[:1] == "<"

    def chunks(self) -> Iterator[bytes]:
        """The entry from its first byte (after the byte-order mark for UTF-16), as bytes
        for expat: UTF-8 and the 8-bit encodings unchanged, UTF-16 as UTF-8."""
        if self.encoding.startswith("utf-16"):
            decoder = codecs.getincrementaldecoder(self.encoding)(errors="strict")
            data = self._head[self._bom:]
            while data:
                yield decoder.decode(data).encode("utf-8")
                data = self.fh.read(PROLOG_CHUNK)
            yield decoder.decode(b"", final=True).encode("utf-8")
        else:
            data = self._head
            while data:
                yield data
                data = self.fh.read(PROLOG_CHUNK)


def _check_entry(path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: "_Budget") -> None:
    """Refuse an entry whose XML declares a DOCTYPE or entities, whatever the entry's name,
    or breaks a limit of *budget*.

    An entry is XML when its first character (after a byte-order mark and whitespace, in
    UTF-8, UTF-16 or UTF-32 as its first bytes announce) is ``<``; other entries (VBA
    projects, pictures) are binary and skipped. XML in UTF-32 or EBCDIC (which expat cannot
    read and Excel never writes) is refused. The XML is parsed to its end, streamed, by
    :func:`_parse_entry`. A part named ``.xml`` or ``.rels`` must be well-formed; for any
    other entry (legacy ``.vml`` drawings are HTML-like, and a binary part may start with
    ``<``) a parse error is not refused, but the whole entry must then hold no ``<!DOCTYPE``
    or ``<!ENTITY`` (any case), so no lenient parser can find one either.
    """
    name = info.filename
    strict = name.lower().endswith((".xml", ".rels"))
    try:
        with zf.open(info) as fh:
            entry = _Entry(path, name, fh)
            if not entry.open():
                if strict:
                    raise WorkbookError(f"{path}: part {name} has no XML content; the workbook "
                                        "is corrupt")
                return
            if entry.encoding in ("utf-32-le", "utf-32-be", "cp037"):
                kind = "EBCDIC" if entry.encoding == "cp037" else "UTF-32"
                raise WorkbookError(f"{path}: part {name} is XML in {kind}, which Excel never "
                                    "writes and tokencost cannot check; refused")
            if _parse_entry(path, name, entry, strict, budget):
                return
        with zf.open(info) as fh:   # not XML after all: no lenient parser may find a DOCTYPE
            _scan_for_declarations(path, name, fh)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as err:
        raise WorkbookError(f"{path}: corrupt or truncated workbook (entry {name}: {err})") from None


def _doctype_error(path, name: str) -> WorkbookError:
    return WorkbookError(f"{path}: part {name} declares a DOCTYPE or XML entities, which Excel "
                         "never writes (an entity-expansion or external-entity attack?); refused")


def _parse_entry(path, name: str, entry: _Entry, strict: bool, budget: "_Budget") -> bool:
    """Parse *entry* with expat to its end (see :func:`_check_entry`): no DOCTYPE or entity
    declaration, no tag or text run over :data:`MAX_TOKEN_BYTES` (so expat never buffers
    more), and the limits of *budget* on what the root element makes the part (a sheet's
    cells and rows, a table's range, the shared strings). Returns False when a non-strict
    entry is not well-formed."""
    parser = expat.ParserCreate("UTF-8" if entry.encoding.startswith("utf-16") else None)

    def forbid(*_args):
        raise _Forbidden()

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.UnparsedEntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    parser.StartElementHandler = budget.root_handler(parser, name)
    gap = 0   # bytes since the last '>': the length of the tag or text being read
    try:
        for chunk in entry.chunks():
            first = chunk.find(b">")
            if first < 0:
                gap += len(chunk)
            else:
                gap, last = gap + first, chunk.rfind(b">")
            if gap > MAX_TOKEN_BYTES:
                raise WorkbookError(f"{path}: part {name} has a tag or text run over "
                                    f"{_size(MAX_TOKEN_BYTES)}, which Excel never writes (a "
                                    "cell holds at most 32,767 characters); refused")
            if first >= 0:
                gap = len(chunk) - last - 1
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
        budget.finish()
    except _Forbidden:
        raise _doctype_error(path, name) from None
    except (expat.ExpatError, ValueError, UnicodeError) as err:
        if strict:
            raise WorkbookError(f"{path}: part {name} is not well-formed XML ({err}); the "
                                "workbook is corrupt") from None
        budget.finish()   # what was read counts
        return False
    if not budget.rooted and strict:
        raise WorkbookError(f"{path}: part {name} has no XML content; the workbook is corrupt")
    return budget.rooted


_CELL_FAST = re.compile(r"[A-Z]{1,2}[1-9][0-9]{0,5}").fullmatch   # inside the grid: up to ZZ999999
_CELL = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,10})").fullmatch
_GRID = f"the last cell is XFD{EXCEL_ROWS}: {EXCEL_COLUMNS:,} columns, {EXCEL_ROWS:,} rows"


def _cell_position(ref: str):
    """(column, row) of ``B7`` or ``$B$7`` (1-based), or None when it is no cell reference."""
    m = _CELL(ref)
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col, int(m.group(2))


def _in_grid(col: int, row: int) -> bool:
    return 1 <= col <= EXCEL_COLUMNS and 1 <= row <= EXCEL_ROWS


class _Budget:
    """What :func:`check_readable` counts over the whole package while expat streams each
    part: cells and rows of the sheets, shared strings, and every element. Each part's
    root element decides how the part's elements are looked at (:meth:`root_handler`); the
    handlers count in local variables (the hot path: one call per element) and
    :meth:`finish` adds a part's counts to the totals."""

    def __init__(self, path, zf, *, max_cells, max_rows, max_shared_strings, max_xml_elements):
        self.path, self.zf = path, zf
        self.max_cells, self.max_rows = max_cells, max_rows
        self.max_shared_strings, self.max_xml_elements = max_shared_strings, max_xml_elements
        self.cells = self.rows = self.strings = self.elements = 0
        self.rooted = False
        self._flush = None

    def root_handler(self, parser, name: str):
        """The StartElementHandler for part *name*: at the root element it installs the
        handler for the rest of the part."""
        self.rooted, self._flush = False, None

        def root(tag, attrs):
            self.rooted = True
            local = tag.rpartition(":")[2]
            if local in ("worksheet", "dialogsheet", "macrosheet"):
                start, self._flush = self._sheet_handler(name)
            elif local == "sst":
                start, self._flush = self._strings_handler(name)
            else:
                if local == "table":
                    self._table(name, attrs)
                start, self._flush = self._element_handler(name, local == "table" and attrs)
            start(tag, {})
            parser.StartElementHandler = start

        return root

    def finish(self) -> None:
        """Add the counts of the part just parsed to the totals."""
        if self._flush is not None:
            self._flush()
            self._flush = None

    # -- refusals -------------------------------------------------------------------------

    def _too_many_elements(self, name: str):
        raise WorkbookError(f"{self.path}: the XML parts hold more than "
                            f"{self.max_xml_elements:,} elements (the limit is passed in "
                            f"{name}); tokencost processes no more; refused")

    def _sheet_label(self, name: str) -> str:
        """``sheet 'Data' (xl/worksheets/sheet9.xml)``, or the part alone when the workbook
        does not name it."""
        try:
            wb_part = _workbook_part(self.zf)
            sheets = _sheet_names(self.zf, wb_part)
            for rid, _type, target in _relationships(self.zf, set(self.zf.namelist()), wb_part):
                if target == name and rid in sheets:
                    return f"sheet '{sheets[rid]}' ({name})"
        except Exception:   # naming is best effort: the workbook part may be what is broken
            pass
        return f"part {name}"

    def _refuse(self, name: str, what: str):
        raise WorkbookError(f"{self.path}: {self._sheet_label(name)}: {what}; refused")

    # -- handlers: each returns (StartElementHandler, flush) --------------------------------

    def _element_handler(self, name: str, table_attrs=None):
        """Any part: count its elements (and check a table's autofilter range)."""
        budget, left, elements = self, self.max_xml_elements - self.elements, 0

        def start(tag, attrs):
            nonlocal elements
            elements += 1
            if elements > left:
                budget._too_many_elements(name)
            if table_attrs and "ref" in attrs and tag.rpartition(":")[2] == "autoFilter":
                budget._table(name, {**table_attrs, "ref": attrs["ref"]})

        def flush():
            budget.elements += elements

        return start, flush

    def _sheet_handler(self, name: str):
        """A sheet: every ``<c r>`` and ``<row r>`` (or the position an element without
        ``r`` takes) inside Excel's grid, the ``<dimension>`` too, and the budgets of cells,
        rows and elements."""
        budget = self
        elements_left = self.max_xml_elements - self.elements
        cells_left, rows_left = self.max_cells - self.cells, self.max_rows - self.rows
        elements = cells = rows = 0
        row = col = 0
        last_ref = None   # the ref of the last cell, whose column is worked out when needed
        kinds: dict = {}

        def start(tag, attrs):
            nonlocal elements, cells, rows, row, col, last_ref
            elements += 1
            if elements > elements_left:
                budget._too_many_elements(name)
            kind = kinds.get(tag)
            if kind is None:
                kind = kinds[tag] = {"c": 1, "row": 2, "dimension": 3}.get(tag.rpartition(":")[2], 0)
            if kind == 1:
                cells += 1
                if cells > cells_left:
                    budget._refuse(name, f"the sheets hold more than {budget.max_cells:,} cells "
                                         f"(the limit is passed at cell {attrs.get('r') or '?'}); "
                                         "tokencost processes no more")
                ref = attrs.get("r")
                if ref is not None and _CELL_FAST(ref):
                    last_ref = ref
                elif ref is None:   # the cell after the previous one
                    if last_ref is not None:
                        col, last_ref = _cell_position(last_ref)[0], None
                    col += 1
                    if col > EXCEL_COLUMNS:
                        budget._refuse(name, f"row {row:,} has a cell past Excel's last column "
                                             f"({_GRID})")
                else:
                    pos = _cell_position(ref)
                    if pos is None:
                        budget._refuse(name, f"cell reference {ref!r} is not a cell like B7")
                    if not _in_grid(*pos):
                        budget._refuse(name, f"cell {ref} is outside Excel's grid ({_GRID})")
                    col, last_ref = pos[0], None
            elif kind == 2:
                rows += 1
                r = attrs.get("r")
                if r is None:
                    row += 1
                elif r.isdigit():
                    row = int(r)
                else:
                    budget._refuse(name, f"row number {r!r} is not a number")
                if not 1 <= row <= EXCEL_ROWS:
                    budget._refuse(name, f"row {row:,} is outside Excel's grid ({_GRID})")
                col, last_ref = 0, None
                if rows > rows_left:
                    budget._refuse(name, f"the sheets hold more than {budget.max_rows:,} rows "
                                         f"(the limit is passed at row {row:,}); tokencost "
                                         "processes no more")
            elif kind == 3:
                ref = attrs.get("ref", "")
                corners = [_cell_position(p) for p in ref.split(":")]
                if any(c is not None and not _in_grid(*c) for c in corners):
                    budget._refuse(name, f"its dimension {ref} reaches outside Excel's grid "
                                         f"({_GRID})")

        def flush():
            budget.elements += elements
            budget.cells += cells
            budget.rows += rows

        return start, flush

    def _strings_handler(self, name: str):
        """The shared-string table: count its ``<si>`` items."""
        budget = self
        elements_left = self.max_xml_elements - self.elements
        strings_left = self.max_shared_strings - self.strings
        elements = strings = 0

        def start(tag, _attrs):
            nonlocal elements, strings
            elements += 1
            if elements > elements_left:
                budget._too_many_elements(name)
            if tag == "si" or tag.endswith(":si"):
                strings += 1
                if strings > strings_left:
                    raise WorkbookError(
                        f"{budget.path}: the shared-string table {name} holds more than "
                        f"{budget.max_shared_strings:,} strings (at most one per cell at the "
                        f"{budget.max_cells:,}-cell limit); tokencost processes no more; refused")

        def flush():
            budget.elements += elements
            budget.strings += strings

        return start, flush

    def _table(self, name: str, attrs) -> None:
        """A table's ``ref`` (and its autofilter's) must be a range inside Excel's grid."""
        ref = attrs.get("ref")
        table = attrs.get("displayName") or attrs.get("name") or "?"
        if ref is None:
            return
        corners = [_cell_position(p) for p in ref.split(":")]
        if len(corners) != 2 or None in corners:
            raise WorkbookError(f"{self.path}: table {table} ({name}) has the range {ref!r}, "
                                "not a range of cells like A7:F20; refused")
        if not all(_in_grid(*c) for c in corners):
            raise WorkbookError(f"{self.path}: table {table} ({name}) covers {ref}, outside "
                                f"Excel's grid ({_GRID}); refused")


#: ``<!doctype`` and ``<!entity`` in UTF-8 (and the 8-bit encodings), UTF-16LE and UTF-16BE
_DECLARATIONS = tuple(word.encode(enc) for word in ("<!doctype", "<!entity")
                      for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _scan_for_declarations(path, name: str, fh) -> None:
    """Refuse when the bytes of *fh* hold ``<!DOCTYPE`` or ``<!ENTITY`` in any case, in
    UTF-8 or UTF-16, also across chunk boundaries."""
    tail = b""
    while True:
        chunk = fh.read(PROLOG_CHUNK)
        if not chunk:
            return
        window = (tail + chunk).lower()
        if any(word in window for word in _DECLARATIONS):
            raise _doctype_error(path, name)
        tail = window[-20:]


# ---------------------------------------------------------------------------------------------
# the package as a graph of parts (relationships)
# ---------------------------------------------------------------------------------------------

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DRAW_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def _rels_path(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def _parse(zf: zipfile.ZipFile, name: str, start=None, end=None, text=None) -> None:
    """Stream *name* through expat with namespace-qualified ``"ns local"`` tags."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def forbid(*_args):
        raise WorkbookError(f"part {name} declares a DOCTYPE or XML entities; refused")

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    with zf.open(name) as fh:
        while True:
            chunk = fh.read(1 * MiB)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break


def _relationships(zf: zipfile.ZipFile, names: set, part: str) -> list:
    """[(rId, type, target part)] of *part*; external targets left out."""
    rels = _rels_path(part) if part else "_rels/.rels"
    if rels not in names:
        return []
    out = []

    def start(tag, attrs):
        if tag.endswith(" Relationship") and attrs.get("TargetMode") != "External":
            out.append((attrs.get("Id"), attrs.get("Type", ""), _resolve(part or "/", attrs.get("Target", ""))))

    _parse(zf, rels, start=start)
    return out


def _workbook_part(zf: zipfile.ZipFile) -> Optional[str]:
    names = set(zf.namelist())
    try:
        rels = _relationships(zf, names, "")
    except (expat.ExpatError, WorkbookError, KeyError):
        return None
    for _rid, rtype, target in rels:
        if rtype.endswith("/officeDocument"):
            return target
    return None


#: what a relationship type is, in words (the last segment of the type URI). Types not here
#: and not in _CONTAINERS are named by their segment.
_LABELS = {
    "pivotTable": "pivot table", "pivotCacheDefinition": "pivot cache",
    "pivotCacheRecords": "pivot cache records", "slicer": "slicer", "slicerCache": "slicer cache",
    "timeline": "timeline", "timelineCache": "timeline cache",
    "threadedComment": "threaded comments part", "person": "threaded-comment people list",
    "chart": "chart", "chartUserShapes": "shape drawn on a chart", "chartStyle": "chart style part",
    "chartColorStyle": "chart colour style part", "image": "picture file", "hdphoto": "picture file",
    "ctrlProp": "form control", "control": "ActiveX control",
    "activeXControlBinary": "ActiveX control data", "oleObject": "embedded (OLE) object",
    "package": "embedded document", "customXml": "custom XML part",
    "customXmlProps": "custom XML properties", "externalLink": "external workbook link",
    "connections": "data connection", "queryTable": "query table", "table": "Excel table",
    "vbaProject": "VBA project", "vbaProjectSignature": "VBA signature",
    "vbaProjectSignatureAgile": "VBA signature", "vbaProjectSignatureV3": "VBA signature",
    "extensibility": "ribbon customisation (customUI)", "sheetMetadata": "cell metadata",
    "rdRichValue": "rich data value", "rdRichValueStructure": "rich data value",
    "rdArray": "rich data value", "rdSupportingPropertyBag": "rich data value",
    "rdSupportingPropertyBagStructure": "rich data value", "richValueRel": "rich data value",
    "webextension": "Office add-in", "webextensiontaskpanes": "Office add-in task pane",
    "model": "data model (Power Pivot)", "revisionHeaders": "tracked changes",
    "usernames": "shared-workbook user list", "volatileDependencies": "volatile dependencies",
    "dialogsheet": "dialog sheet", "xlMacrosheet": "Excel 4.0 macro sheet",
    "xlIntlMacrosheet": "Excel 4.0 macro sheet", "diagramData": "SmartArt",
    "diagramLayout": "SmartArt layout", "diagramQuickStyle": "SmartArt style",
    "diagramColors": "SmartArt colours", "diagramDrawing": "SmartArt drawing",
    "printerSettings": "printer settings", "custom-properties": "custom document properties",
    "origin": "digital signature", "signature": "digital signature",
    "namedSheetView": "sheet view", "featurePropertyBag": "feature property bag",
    "attachedToolbars": "attached toolbars", "chartEx": "Excel 2016 chart",
}

#: parts whose loss is either no loss (a cache Excel rebuilds; openpyxl writes its own) or is
#: counted inside them (sheets, drawings, comments, VML)
_CONTAINERS = {
    "officeDocument", "worksheet", "chartsheet", "drawing", "vmlDrawing", "comments",
    "sharedStrings", "styles", "theme", "calcChain", "core-properties", "metadata",
    "extended-properties", "thumbnail", "custom-properties",
}

_SHEET_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet", "/xlMacrosheet", "/xlIntlMacrosheet")


# ---------------------------------------------------------------------------------------------
# inventory: what a package holds, by (where, what)
# ---------------------------------------------------------------------------------------------

#: worksheet children counted one by one (tag local name -> words)
_SHEET_COUNTED = {
    "cfRule": "conditional-formatting rule", "dataValidation": "data-validation rule",
    "hyperlink": "hyperlink", "mergeCell": "merged range", "brk": "page break",
    "protectedRange": "protected range", "scenario": "what-if scenario",
    "customSheetView": "custom view", "cellWatch": "cell watch", "ignoredError": "ignored-error rule",
    "oleObject": "embedded (OLE) object", "control": "control", "webPublishItem": "web publish item",
    "cellSmartTags": "smart tag", "sortState": "sort state", "dataConsolidate": "data consolidation",
}

#: top-level worksheet elements whose presence matters (local name -> words)
_SHEET_PRESENT = {
    "sheetProtection": "sheet protection", "autoFilter": "autofilter",
    "printOptions": "print options", "pageSetup": "page setup",
    "legacyDrawingHF": "header/footer picture", "picture": "background picture",
    "phoneticPr": "phonetic settings", "sheetCalcPr": "sheet calculation setting",
    "customProperties": "custom sheet properties", "smartTags": "smart tags",
}

#: Excel 2010+ extension URIs (upper case) -> words
_EXT_LABELS = {
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": "Excel 2010 conditional format (x14)",
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "Excel 2010 data validation (x14)",
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "sparkline group",
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "slicer list",
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "slicer list",
    "{FC87AEE6-9EDD-4A0A-B7FB-166176984837}": "protected range (x14)",
    "{01252117-D84E-4E92-8308-4BE1C098FCBB}": "ignored error (x14)",
    "{F7C9EE02-42E1-4005-9D12-6889AFFD525C}": "Office add-in",
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "timeline",
    "{BBE1A952-AA13-448E-AADC-164F8A28A991}": "slicer cache list",
    "{46BE6895-7355-4A93-B00E-2C351335B9C9}": "slicer cache list",
    "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}": "timeline cache list",
    "{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}": "data model",
    "{876F7934-8845-4945-9796-88D515C7AA90}": "pivot cache list (x14)",
    "{841E416B-1EF1-43B6-AB56-02D37102CBD5}": "pivot cache list (x15)",
    "{983426D0-5260-488C-9760-48F4B6AC55F4}": "pivot table reference",
    "{E67621CE-5B39-4880-91FE-76760E9C1902}": "named sheet view",
}

#: extensions whose items are counted one by one (sparklines, x14 rules) rather than as a whole
_EXT_COUNTED_INSIDE = {"{78C0D931-6437-407D-A8EE-F0AAD7539E65}", "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}",
                       "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}"}

#: what openpyxl drops that changes nothing an analyst sees or made, with the reason; never a
#: reason to refuse, but always reported (``Report.harmless``)
HARMLESS = {
    "printer settings": "the printer driver's own settings; the page setup itself (paper, "
                        "orientation, margins, scaling, print area) is kept in the sheet",
    "chart style part": "the Chart Styles gallery entry; the chart's own formatting is in the chart",
    "chart colour style part": "the Change Colors gallery entry; the chart's own colours are in "
                               "the chart",
}

#: extension URIs that carry no analyst content (Excel's own bookkeeping)
_EXT_BENIGN = {
    "{140A7094-0E35-4892-8432-C4D2E57EDB9E}",  # x15:workbookPr chartTrackingRefBase
    "{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}",  # xcalcf:calcFeatures
    "{C3380CC4-5D6E-409C-BE32-E72D297353CC}",  # c16:uniqueId of a chart series
    "{63B3BB69-23CF-44E3-9099-C40C66FF867C}",  # a14:compatExt (drawing compatibility)
    "{FF2B5EF4-FFF2-40B4-BE49-F238E27FC236}",  # a16:creationId of a drawing object
    "{C183D7F6-B498-43B3-948B-1728B52AA6E4}",  # adec:decorative flag
    "{56B9EC1D-385E-4148-901F-78D8002777C0}",  # c16r3:dataDisplayOptions16
    "{EB79DEF2-80B8-43E5-95BD-54CBDDF9020C}",  # x14:slicerStyles defaults in styles.xml
    "{9260A510-F301-46A8-8635-F512D64BE5F5}",  # x15:timelineStyles defaults in styles.xml
    "{7626C862-2A13-11E5-B345-FEFF819CDC9F}",  # LibreOffice's loext:extCalcPr (formula syntax)
}

#: chart elements that carry no analyst formatting (or that openpyxl rewrites under another name)
_CHART_BENIGN = {"extLst", "ext", "uniqueId", "AlternateContent", "Choice", "Fallback", "style",
                 "date1904", "lang", "roundedCorners", "printSettings", "headerFooter",
                 "pageMargins", "pageSetup", "userShapes", "externalData", "autoUpdate",
                 "clrMapOvr", "dataDisplayOptions16", "dispNaAsBlank", "pivotOptions",
                 "dropZoneFilter", "dropZoneCategories", "dropZoneData", "dropZoneSeries",
                 "dropZonesVisible", "separator"}


@dataclass
class Report:
    """What a rewrite would lose: ``lost`` maps (where, what) to a count; ``harmless`` the
    same for what openpyxl drops that nobody made or sees (:data:`HARMLESS`)."""
    lost: Counter = field(default_factory=Counter)
    harmless: Counter = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.lost)

    def lines(self) -> list:
        """One phrase per lost item, e.g. ``1 shape or text box on sheet 'Notes'``."""
        return self._lines(self.lost)

    def harmless_lines(self) -> list:
        return [f"{line} ({HARMLESS[what]})"
                for line, (_where, what) in zip(self._lines(self.harmless), sorted(self.harmless))]

    @staticmethod
    def _lines(counter) -> list:
        out = []
        for (where, what), n in sorted(counter.items()):
            place = "" if where == "workbook" else f" on sheet '{where}'"
            if what.startswith("=") or what.startswith("'"):
                out.append(f"{what[1:] if what.startswith('=') else what}{place}")
            else:
                out.append(f"{n} {what}{place}")
        return out

    def summary(self, limit: int = 6) -> str:
        lines = self.lines()
        text = ", ".join(lines[:limit])
        if len(lines) > limit:
            text += f" and {len(lines) - limit} more"
        return text


def inventory(source) -> Counter:
    """Count what a workbook package holds that an analyst could have made, as
    ``Counter({(where, what): n})``; *where* is a sheet name or ``"workbook"``."""
    zf = source if isinstance(source, zipfile.ZipFile) else zipfile.ZipFile(source)
    names = set(zf.namelist())
    inv: Counter = Counter()
    wb_part = _workbook_part(zf)
    if wb_part is None or wb_part not in names:
        return inv
    sheets = _sheet_names(zf, wb_part)
    seen = set()
    # walk the relationship graph from the workbook; every part remembers the sheet it hangs off
    stack = [(wb_part, "workbook", "officeDocument")]
    for _rid, rtype, target in _relationships(zf, names, ""):
        if not rtype.endswith("/officeDocument"):
            stack.append((target, "workbook", rtype.rsplit("/", 1)[-1]))
    sheet_of_part = {}
    while stack:
        part, where, kind = stack.pop()
        if part in seen or part not in names:
            continue
        seen.add(part)
        if kind not in _CONTAINERS:
            inv[(where, _LABELS.get(kind, f"{kind} part"))] += 1
        for rid, rtype, target in _relationships(zf, names, part):
            child_kind = rtype.rsplit("/", 1)[-1]
            child_where = where
            if part == wb_part and rtype.endswith(_SHEET_TYPES):
                child_where = sheets.get(rid, target)
                sheet_of_part[target] = child_where
            stack.append((target, child_where, child_kind))
    for part, sheet in sheet_of_part.items():
        inv[(sheet, "=the sheet itself")] += 1
        if part.startswith("xl/worksheets/"):
            _worksheet_features(zf, part, sheet, inv)
        for _rid, rtype, target in _relationships(zf, names, part):
            if rtype.endswith("/drawing") and target in names:
                _drawing_objects(zf, names, target, sheet, inv)
            elif rtype.endswith("/comments") and target in names:
                _count(zf, target, {"comment": "comment"}, sheet, inv)
    _workbook_features(zf, wb_part, inv)
    for _rid, rtype, target in _relationships(zf, names, ""):
        if rtype.endswith("/custom-properties") and target in names:
            def prop(tag, attrs):
                if _local(tag) == "property":
                    inv[("workbook", f"=custom document property '{attrs.get('name', '?')}'")] += 1
            _parse(zf, target, start=prop)
    for _rid, rtype, target in _relationships(zf, names, wb_part):
        if rtype.endswith("/styles") and target in names:
            _named_styles(zf, target, inv)
        elif rtype.endswith("/sharedStrings") and target in names:
            _count(zf, target, {"r": "rich-text run in a cell"}, "workbook", inv)
        elif rtype.endswith("/vbaProject") and target in names:
            digest = hashlib.sha256(zf.read(target)).hexdigest()[:12]
            inv[("workbook", f"=the VBA project's exact bytes (sha256 {digest})")] += 1
    return inv


def _local(tag: str) -> str:
    return tag.rsplit(" ", 1)[-1]


def _sheet_names(zf, wb_part) -> dict:
    out = {}

    def start(tag, attrs):
        if tag == f"{MAIN_NS} sheet":
            out[attrs.get(f"{R_NS} id")] = attrs.get("name", "?")

    _parse(zf, wb_part, start=start)
    return out


def _count(zf, part, tags: dict, where, inv) -> None:
    def start(tag, _attrs):
        label = tags.get(_local(tag))
        if label:
            inv[(where, label)] += 1

    _parse(zf, part, start=start)


def _ext_label(uri: str) -> Optional[str]:
    uri = (uri or "").upper()
    if uri in _EXT_BENIGN:
        return None
    return _EXT_LABELS.get(uri, f"Excel extension {uri}")


def _worksheet_features(zf, part, sheet, inv) -> None:
    depth = [0]
    in_ext = [0]
    header = [0]   # 0 outside <headerFooter>, 1 inside, 2 in one header, 3 one has text

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if local == "r" and depth[0] > 3:    # a run of an inline rich-text string (c/is/r)
            inv[("workbook", "rich-text run in a cell")] += 1
        if depth[0] == 3 and header[0] == 1 and local.endswith(("Header", "Footer")):
            header[0] = 2
        if depth[0] == 2:
            if local == "headerFooter":
                header[0] = 1
            label = _SHEET_PRESENT.get(local)
            if label:
                inv[(sheet, label)] += 1
            if local == "extLst":
                in_ext[0] = 1
        elif in_ext[0] and depth[0] == 3 and local == "ext":
            label = _ext_label(attrs.get("uri"))
            if label and (attrs.get("uri") or "").upper() not in _EXT_COUNTED_INSIDE:
                inv[(sheet, label)] += 1
        label = _SHEET_COUNTED.get(local)
        if label and not in_ext[0]:
            inv[(sheet, label)] += 1
        elif in_ext[0] and local in ("sparkline", "cfRule", "dataValidation"):
            inv[(sheet, {"sparkline": "sparkline",
                         "cfRule": "Excel 2010 (x14) conditional-formatting rule or setting",
                         "dataValidation": "Excel 2010 (x14) data-validation rule"}[local])] += 1

    def text(data):
        if header[0] == 2 and data.strip():
            header[0] = 3

    def end(tag):
        if depth[0] == 2 and _local(tag) == "extLst":
            in_ext[0] = 0
        if depth[0] == 2 and _local(tag) == "headerFooter":
            if header[0] == 3:    # an empty header/footer is no header (openpyxl leaves it out)
                inv[(sheet, "header/footer")] += 1
            header[0] = 0
        if depth[0] == 3 and header[0] == 2:
            header[0] = 1
        depth[0] -= 1

    _parse(zf, part, start=start, end=end, text=text)


_DRAWING_OBJECTS = {"sp": "shape or text box", "pic": "picture", "grpSp": "group of shapes",
                    "cxnSp": "connector line", "contentPart": "ink drawing"}
_GRAPHIC_URIS = {
    "http://schemas.openxmlformats.org/drawingml/2006/diagram": "SmartArt graphic",
    "http://schemas.microsoft.com/office/drawing/2010/slicer": "slicer",
    "http://schemas.microsoft.com/office/drawing/2012/timeslicer": "timeline",
    "http://schemas.microsoft.com/office/drawing/2014/chartex": "Excel 2016 chart",
    "http://schemas.openxmlformats.org/drawingml/2006/table": "drawing table",
}


def _drawing_objects(zf, names, part, sheet, inv) -> None:
    """Count the objects anchored on a drawing (the first object of each anchor)."""
    depth = [0]
    pending = [None]   # the anchor being read: None, or a dict(kind=..., uri=...)

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if depth[0] == 2:
            pending[0] = {"kind": None, "uri": None, "alt": local == "AlternateContent"}
        elif pending[0] is not None:
            obj = pending[0]
            if obj["kind"] is None and local in (*_DRAWING_OBJECTS, "graphicFrame"):
                obj["kind"] = local
            if local == "graphicData" and obj["uri"] is None:
                obj["uri"] = attrs.get("uri")

    def end(tag):
        if depth[0] == 2 and pending[0] is not None:
            obj = pending[0]
            pending[0] = None
            if obj["kind"] == "graphicFrame" or obj["uri"]:
                if obj["uri"] != CHART_URI:   # charts are counted as chart parts
                    inv[(sheet, _GRAPHIC_URIS.get(obj["uri"], f"drawing object {obj['uri']}"))] += 1
            elif obj["kind"]:
                inv[(sheet, _DRAWING_OBJECTS[obj["kind"]])] += 1
            elif obj["alt"]:
                inv[(sheet, "Excel 2010+ drawing object")] += 1
        depth[0] -= 1

    _parse(zf, part, start=start, end=end)
    # the elements of each chart on this drawing, in anchor order: lost elements = lost formatting
    charts = [t for _r, rt, t in _relationships(zf, names, part) if rt.endswith("/chart")]
    for i, chart in enumerate(sorted(charts, key=_natural), start=1):
        if chart in names:
            tags = set()

            def element(tag, attrs):
                if attrs.get("val") not in ("0", "false"):   # a false flag lost is its default
                    tags.add(_local(tag))

            _parse(zf, chart, start=element)
            for tag in tags - _CHART_BENIGN:
                inv[(sheet, f"=chart element <{tag}> (chart formatting)")] = 1


def _natural(name: str):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _workbook_features(zf, wb_part, inv) -> None:
    depth = [0]
    in_ext = [0]
    names = []
    current = []

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if depth[0] == 2 and local == "extLst":
            in_ext[0] = 1
        elif in_ext[0] and depth[0] == 3 and local == "ext":
            label = _ext_label(attrs.get("uri"))
            if label:
                inv[("workbook", label)] += 1
        elif depth[0] == 2 and local in ("workbookProtection", "fileSharing", "customWorkbookViews",
                                         "functionGroups", "webPublishObjects", "smartTagPr"):
            inv[("workbook", {"workbookProtection": "workbook protection",
                              "fileSharing": "file-sharing (write reservation) setting",
                              "customWorkbookViews": "custom views",
                              "functionGroups": "function groups",
                              "webPublishObjects": "web publish objects",
                              "smartTagPr": "smart-tag settings"}[local])] += 1
        elif local == "definedName":
            current.append((attrs.get("name", "?"), attrs.get("localSheetId")))

    def text(data):
        pass

    def end(tag):
        if depth[0] == 2 and _local(tag) == "extLst":
            in_ext[0] = 0
        if _local(tag) == "definedName" and current:
            names.append(current.pop())
        depth[0] -= 1

    _parse(zf, wb_part, start=start, end=end, text=text)
    for name, local_sheet in names:
        if name.startswith("_xlnm._FilterDatabase"):
            continue   # Excel's own bookkeeping for an autofilter (counted with the autofilter)
        scope = "" if local_sheet is None else f" (sheet #{int(local_sheet) + 1})"
        inv[("workbook", f"=defined name {name}{scope}")] += 1


def _named_styles(zf, part, inv) -> None:
    def start(tag, attrs):
        if _local(tag) == "cellStyle":
            inv[("workbook", f"=named cell style '{attrs.get('name', '?')}'")] = 1

    _parse(zf, part, start=start)


def compare(before: Counter, after: Counter) -> Report:
    """What *before* holds that *after* lacks."""
    report = Report()
    for key, n in before.items():
        missing = n - after.get(key, 0)
        if missing > 0:
            (report.harmless if key[1] in HARMLESS else report.lost)[key] = missing
    return report


# ---------------------------------------------------------------------------------------------
# check_in_place and rewrite_in_place
# ---------------------------------------------------------------------------------------------

def _load(path: Path):
    """Load a checked workbook with openpyxl the way every in-place rewrite does."""
    from openpyxl import load_workbook
    keep_vba = path.suffix.lower() in (".xlsm", ".xltm")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # openpyxl warns about what it drops; we report it
            return load_workbook(path, keep_vba=keep_vba, keep_links=True, rich_text=True)
    except WorkbookError:
        raise
    except Exception as err:  # openpyxl raises many kinds on a damaged package
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise WorkbookError(f"{path}: openpyxl cannot read this workbook ({type(err).__name__}: "
                            f"{first[:200]})") from None


def _save_to_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.save(buffer)
    return buffer.getvalue()


#: the names openpyxl opens (it decides the package type by the file name)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")


def require_workbook_suffix(path) -> None:
    """Refuse a workbook name openpyxl cannot open (a ``BOOK.xlsm.bak`` backup, no suffix)."""
    path = Path(path)
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise WorkbookError(f"{path}: tokencost changes .xlsx/.xlsm files only (the name "
                            f"decides the file type); copy it to a .xlsm or .xlsx name first")


def check_in_place(path, *, raise_on_loss: bool = True, **readable_limits) -> Report:
    """Refuse to rewrite *path* in place when an openpyxl round trip would lose anything.

    Runs :func:`check_readable` first (keyword arguments are its limits), then
    loads the workbook, saves it to memory and compares the two packages.

    Returns
    -------
    Report
        Empty (falsy) when nothing would be lost; with ``raise_on_loss=False``
        the losses, otherwise :class:`WorkbookError` is raised on any loss.
    """
    path = Path(path)
    check_readable(path, **readable_limits)
    report = _round_trip_report(path)
    if report and raise_on_loss:
        raise WorkbookError(
            f"{path}: writing it in place would lose {report.summary()}; nothing was changed. "
            f"Write the result to a new file with --output NEW{path.suffix} ({path.name} stays as "
            "it is; NEW will not contain those), or remove them from the workbook first")
    return report


def _round_trip_report(path: Path) -> Report:
    wb = _load(path)
    data = _save_to_bytes(wb)
    with zipfile.ZipFile(path) as before_zip, zipfile.ZipFile(io.BytesIO(data)) as after_zip:
        try:
            before = inventory(before_zip)
        except expat.ExpatError as err:
            raise WorkbookError(f"{path}: a part is not well-formed XML ({err})") from None
        return compare(before, inventory(after_zip))


@dataclass
class Rewritten:
    """What :func:`rewrite_in_place` wrote."""
    target: Path
    backup: Optional[Path]
    lost: list = field(default_factory=list)


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


def rewrite_in_place(path, edit: Callable, output=None, *, backup: bool = True,
                     on_loss: Optional[Callable] = None, **readable_limits) -> Rewritten:
    """Load *path*, apply ``edit(wb)`` and save, never losing an analyst's work.

    Parameters
    ----------
    path : str or Path
        The workbook to change.
    edit : callable
        ``edit(wb)`` changes the openpyxl workbook in memory; its return value is ignored.
        An exception from it propagates and nothing is written.
    output : str or Path, optional
        Write here instead of over *path* (same suffix as *path*). *path* is then never changed.
    backup : bool
        Keep the replaced file (``path`` in place, or an existing ``output``) as ``<file>.bak``.
    on_loss : callable, optional
        ``on_loss(lines)`` receives one line per item an *output* file lacks; default:
        a warning on stderr per line. Never called for an in-place write (that is refused).

    Returns
    -------
    Rewritten
        The file written, its backup (or None) and the lines of what *output* lacks.
    """
    from ..build import write_atomic
    path = Path(path)
    require_workbook_suffix(path)
    in_place = output is None or _same_file(path, Path(output))
    target = path if in_place else Path(output)
    if not in_place and target.suffix.lower() != path.suffix.lower():
        raise WorkbookError(f"{target}: the output must be a {path.suffix} file like {path.name} "
                            "(Excel refuses a workbook whose content does not match its extension)")
    from ..build import check_writable
    check_writable(target)   # a target that cannot be written: say so before the work
    report = check_in_place(path, raise_on_loss=in_place, **readable_limits)
    wb = _load(path)
    edit(wb)

    def save(tmp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb.save(tmp)

    bak = write_atomic(save, target, backup=backup)
    keeper = path.name if not in_place else (bak.name if bak else "no backup")
    lines = [f"{target.name} does not contain {line}; {keeper} still has it"
             for line in report.lines() + report.harmless_lines()]
    if lines:
        (on_loss or _print_lines)(lines)
    return Rewritten(target=target, backup=bak, lost=lines)
