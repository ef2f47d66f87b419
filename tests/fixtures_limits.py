"""Generate workbooks at (and past) the gate's size limits, fast: the zip's XML is written
directly, streamed into the zip entry, never through openpyxl and never held in memory whole.

Every builder copies tokencost.xlsm (or *source*) to *target* and changes or adds a few parts.
Generated rows go through a fast deflate level (1); a sheet of a million rows is written in
about two seconds.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Optional

from fixtures_safety import BOOK

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

#: the Hardware table of tokencost.xlsm: its sheet, table part and columns (header at row 7)
def _hardware_parts(book) -> tuple[str, str]:
    """(sheet part, table part) of the Hardware table in *book* (found, not assumed)."""
    import posixpath
    from tokencost.workbook.cached import sheet_parts
    with zipfile.ZipFile(book) as zf:
        sheet = sheet_parts(zf)["Hardware"]
        folder, name = posixpath.split(sheet)
        rels = zf.read(posixpath.join(folder, "_rels", name + ".rels")).decode()
        target = re.search(r'Target="([^"]*tables/table\d+\.xml)"', rels).group(1)
        table = posixpath.normpath(posixpath.join(folder, target)) if not target.startswith("/") \
            else target.lstrip("/")
    return sheet, table


HARDWARE_SHEET, HARDWARE_TABLE = _hardware_parts(BOOK)
HARDWARE_HEADER_ROW = 7
HARDWARE_COLUMNS = "ABCDEF"


def column_letters(index: int) -> str:
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _copy(source: Path, target: Path, skip: Iterable[str], edits: dict) -> zipfile.ZipFile:
    """Copy *source* to *target* leaving out *skip* and editing ``{name: f(bytes) -> bytes}``;
    return the target zip, open for more entries (the caller closes it)."""
    skip = set(skip)
    zout = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
    with zipfile.ZipFile(source) as zin:
        for info in zin.infolist():
            if info.filename in skip:
                continue
            data = zin.read(info.filename)
            if info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info.filename, data)
    return zout


def _stream(zout: zipfile.ZipFile, name: str, pieces: Iterable[bytes], batch: int = 1 << 20) -> None:
    """Write entry *name* from *pieces*, in batches of about *batch* bytes."""
    with zout.open(name, "w", force_zip64=True) as fh:
        buf, size = [], 0
        for piece in pieces:
            buf.append(piece)
            size += len(piece)
            if size >= batch:
                fh.write(b"".join(buf))
                buf, size = [], 0
        fh.write(b"".join(buf))


def hardware_rows(first: int, last: int, *, shared_index: Optional[Callable[[int], int]] = None,
                  duplicate_names: bool = False) -> Iterable[bytes]:
    """``<row>`` elements of valid Hardware rows *first*..*last* (6 cells each): a unique GPU
    name (inline string, or shared string ``shared_index(row)``), four numbers, a source."""
    for r in range(first, last + 1):
        name = b"G" if duplicate_names else b"G%d" % r
        if shared_index is None:
            gpu = b'<c r="A%d" t="inlineStr"><is><t>%s</t></is></c>' % (r, name)
        else:
            gpu = b'<c r="A%d" t="s"><v>%d</v></c>' % (r, shared_index(r))
        yield (b'<row r="%d">%s<c r="B%d"><v>30000</v></c><c r="C%d"><v>700</v></c>'
               b'<c r="D%d"><v>80</v></c><c r="E%d"><v>3.35</v></c>'
               b'<c r="F%d" t="inlineStr"><is><t>gen</t></is></c></row>'
               % (r, gpu, r, r, r, r, r))


def grown_hardware(target: Path, *, last_row: int, filled_to: int = 8, source: Path = BOOK,
                   rows: Optional[Callable[[int, int], Iterable[bytes]]] = None,
                   dimension: Optional[str] = None, edits: Optional[dict] = None) -> Path:
    """tokencost.xlsm whose Hardware table spans ``A7:F{last_row}`` (Excel grows a table's
    ref when rows are typed under it; an analyst who selects to the sheet's end makes it
    ``A7:F1048576``). Rows 9..*filled_to* are filled by ``rows(first, last)`` (default
    :func:`hardware_rows`); rows after *filled_to* are blank (no cells, as Excel stores them).
    *dimension* overrides the sheet's ``<dimension ref>``; *edits* (``{part: f(bytes) ->
    bytes}``) change other parts."""
    rows = rows or hardware_rows
    with zipfile.ZipFile(source) as zin:
        sheet = zin.read(HARDWARE_SHEET)
    head, _, rest = sheet.partition(b"</sheetData>")
    dim = (dimension or f"A1:F{max(filled_to, last_row)}").encode()
    head = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + dim + b'"', head, count=1)

    def table(xml: bytes) -> bytes:
        return re.sub(rb'ref="A7:F\d+"', b'ref="A7:F%d"' % last_row, xml)

    all_edits = {HARDWARE_TABLE: table, **(edits or {})}
    zout = _copy(source, target, skip=[HARDWARE_SHEET], edits=all_edits)
    with zout:
        generated = rows(9, filled_to) if filled_to >= 9 else []
        _stream(zout, HARDWARE_SHEET, _chain([head], generated, [b"</sheetData>" + rest]))
    return Path(target)


def _chain(*iterables):
    for it in iterables:
        yield from it


def data_sheet_rows(rows: int, cols: int, *, shared: bool = False, first_col: int = 1,
                    first_row: int = 1) -> Iterable[bytes]:
    """*rows* x *cols* cells of numbers (or shared strings 0, 1, 2, ... when *shared*)."""
    letters = [column_letters(first_col + j).encode() for j in range(cols)]
    index = 0
    for r in range(first_row, first_row + rows):
        if shared:
            cells = []
            for letter in letters:
                cells.append(b'<c r="%s%d" t="s"><v>%d</v></c>' % (letter, r, index))
                index += 1
            yield b'<row r="%d">' % r + b"".join(cells) + b"</row>"
        else:
            yield (b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>%d</v></c>' % (l, r, r)
                                                  for l in letters) + b"</row>")


def _sheet_pieces(body: Iterable[bytes], dimension: str) -> Iterable[bytes]:
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
           f'<dimension ref="{dimension}"/><sheetData>').encode()
    yield from body
    yield b"</sheetData></worksheet>"


def shared_strings_pieces(count: int, text: Callable[[int], bytes] = lambda i: b"s%d" % i
                          ) -> Iterable[bytes]:
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" '
           f'count="{count}" uniqueCount="{count}">').encode()
    for i in range(count):
        yield b"<si><t>%s</t></si>" % text(i)
    yield b"</sst>"


def with_data_sheet(target: Path, body: Iterable[bytes], *, dimension: str = "A1",
                    shared_strings: Optional[Iterable[bytes]] = None, source: Path = BOOK,
                    sheet_name: str = "Data", extra_parts: Optional[dict] = None) -> Path:
    """tokencost.xlsm plus a worksheet *sheet_name* (``xl/worksheets/sheet99.xml``) holding
    the ``<row>`` elements of *body*, and, when given, the shared-string part
    ``xl/sharedStrings.xml`` streamed from *shared_strings* (the whole part's bytes) and
    the entries of *extra_parts* (``{name: iterable of bytes}``, not in [Content_Types].xml
    nor any relationship: parts a reader never opens, which the gate still reads)."""
    sheet_part, rid = "xl/worksheets/sheet99.xml", "rId999"

    def workbook(xml: bytes) -> bytes:
        return xml.replace(b"</sheets>", f'<sheet xmlns:r="{REL}" name="{sheet_name}" '
                           f'sheetId="99" r:id="{rid}"/></sheets>'.encode(), 1)

    def rels(xml: bytes) -> bytes:
        new = (f'<Relationship Id="{rid}" Type="{REL}/worksheet" Target="/{sheet_part}"/>'
               + (f'<Relationship Id="rId998" Type="{REL}/sharedStrings" '
                  'Target="/xl/sharedStrings.xml"/>' if shared_strings is not None else ""))
        return xml.replace(b"</Relationships>", new.encode() + b"</Relationships>", 1)

    def types(xml: bytes) -> bytes:
        new = (f'<Override PartName="/{sheet_part}" ContentType="{CT}.worksheet+xml"/>'
               + (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
                  if shared_strings is not None else ""))
        return xml.replace(b"</Types>", new.encode() + b"</Types>", 1)

    zout = _copy(source, target, skip=[], edits={"xl/workbook.xml": workbook,
                                                 "xl/_rels/workbook.xml.rels": rels,
                                                 "[Content_Types].xml": types})
    with zout:
        _stream(zout, sheet_part, _sheet_pieces(body, dimension))
        if shared_strings is not None:
            _stream(zout, "xl/sharedStrings.xml", shared_strings)
        for name, pieces in (extra_parts or {}).items():
            _stream(zout, name, pieces)
    return Path(target)
