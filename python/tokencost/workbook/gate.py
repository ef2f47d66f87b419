"""The gate every workbook an analyst hands us passes before anything opens it.


One entry point; it raises :class:`tokencost.errors.WorkbookError` with
one line that names the file and says what is wrong (the CLI prints it and
exits 2):

``check_readable(path, *, max_bytes=..., max_uncompressed_bytes=..., max_ratio=..., max_entries=...,
max_cells=..., max_rows=..., max_shared_strings=..., max_xml_elements=...)``
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

"""
from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from pathlib import Path
from typing import Iterator, Optional
from xml.parsers import expat

from ..errors import WorkbookError

from .package import MAIN_NS, MiB, relationships, sheet_names_by_id, workbook_part


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
        wb_part = workbook_part(zf)
        if wb_part is not None and wb_part not in names:
            raise WorkbookError(f"{path}: corrupt workbook (the package names {wb_part}, "
                                "which is missing)")
        root = _root_tag(zf, wb_part) if wb_part else None
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
            wb_part = workbook_part(self.zf)
            sheets = sheet_names_by_id(self.zf, wb_part)
            for rid, _type, target in relationships(self.zf, set(self.zf.namelist()), wb_part):
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


