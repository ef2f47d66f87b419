"""Read the input tables of an analyst-edited workbook (``tokencost report BOOK``, ``check BOOK``).

Tables are found by *name* (the Excel Tables ``Hardware``, ``CostComponents``,
``Models``, ``Prices``, ``Subscriptions``; see :data:`tokencost.inputs.schema.TABLES`),
never by cell position: a table may sit anywhere on any sheet, its columns may
be reordered, an analyst may add columns of their own (kept, ignored by the
model), and rows typed under a table (Excel grows the table's ``ref``) are
read. Column headers match the canonical names ignoring case and surrounding
spaces.

Why not openpyxl: its normal mode builds every cell and style of the whole
workbook (seconds for a big file) and its read-only mode has no Table objects.
So the package is read directly, as the file format describes it (ECMA-376
Part 1, SpreadsheetML): ``xl/workbook.xml`` and its relationships give the
sheets, each sheet's relationships its table parts (``xl/tables/tableN.xml``:
name, ``ref``, column names), and one streaming pass over each sheet that
holds an input table collects only the cells inside the table ranges (shared
and inline strings, numbers, booleans, errors, and the cached value of
formula cells). The pass stops after the last table row. All XML goes through
defusedxml (no DTDs' entities, no external references).

Every value keeps its address, so a problem is reported where the analyst will
look for it: ``Models!C9: tokens_per_s must be > 0, got 0``.

The named variants of a book are its scenario tabs (``tokencost scenario``):
each tab is a variant named after its sheet, with one row per filled override
cell (located at that cell, so ``depreciation_5y!B12: ...`` names a bad one;
an override that is not a number or breaks the input's bounds is a problem,
as a bad table cell is). A tab is recognised as ``scenario list`` recognises
it (the purpose line and overrides header of
``templates/parts/scenario_tab.toml``), by streaming only the first rows of
each sheet. An Excel Table named ``Variants``, if an analyst adds one,
replaces the tabs; a book with neither uses the shipped ``data/variants.csv``.
"""
from __future__ import annotations

import gc
import math
import posixpath
import re
import tomllib
import zipfile
from functools import lru_cache
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Optional
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..errors import InputError, WorkbookError
from ..inputs.validate import Inputs, Locator, Problem, check_tables, prepare
from ..inputs.schema import TABLES, TABLES_BY_NAME, VARIANTS, overridable_inputs

#: the input tables a workbook must hold (Variants is optional: see the module docstring)
BOOK_TABLES = tuple(spec.name for spec in TABLES if spec is not VARIANTS)

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_WORKSHEET = "/worksheet"
_REL_SHARED_STRINGS = "/sharedStrings"
_REL_TABLE = "/table"
_PKG_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_DIGITS = "0123456789"
_FIRST_AT_ROW = re.compile(r"\(first at row (\d+)\)$")
_SIMPLE_SHEET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class CellError(str):
    """An Excel error value in a cell (``#DIV/0!``, ``#N/A``, ...)."""


class NoCachedValue(str):
    """A formula cell whose file holds no result (reported, never used as a value)."""


NO_CACHED_VALUE = NoCachedValue("(formula without a cached value)")


@dataclass(frozen=True)
class TableRef:
    """Where one Excel Table sits: its sheet and 1-based cell box (header row included)."""
    name: str
    sheet: str
    part: str
    min_col: int
    min_row: int
    max_col: int
    max_row: int
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]

    @property
    def first_data_row(self) -> int:
        return self.min_row + self.header_rows

    @property
    def last_data_row(self) -> int:
        return self.max_row - self.totals_rows

    @property
    def ref(self) -> str:
        return f"{column_letter(self.min_col)}{self.min_row}:{column_letter(self.max_col)}{self.max_row}"


@dataclass
class BookTables:
    """The raw input tables of a workbook, with where every value came from.

    ``raw`` holds one DataFrame per input table found (canonical column names,
    analyst columns under their own headers; rows blank in every input column
    dropped), plus ``Variants`` (the book's Variants table, else its scenario tabs,
    else the shipped ``variants.csv``).
    An error value stays in its cell as a :class:`CellError` and a formula
    without a cached value as :data:`NO_CACHED_VALUE`; each is reported in
    ``problems``, so use :func:`check_book` or :func:`read_inputs`, which never
    let them through. ``locate`` maps (table, data row, column) to the cell
    address, for :func:`tokencost.inputs.validate.check_tables` and ``prepare``;
    ``sheet_rows[table][i]`` is the sheet row of data row *i* and
    ``columns[table][name]`` the sheet column (1-based) of a canonical column.
    """
    path: Path
    raw: dict[str, pd.DataFrame]
    tables: dict[str, TableRef]
    problems: list[Problem]
    missing: list[str]
    locate: Locator
    sheet_rows: dict[str, list[int]] = field(default_factory=dict)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)
    variants_from_book: bool = False  # an Excel Table named Variants
    scenario_tabs: list[str] = field(default_factory=list)  # the sheets Variants was read from
    table_names: list[str] = field(default_factory=list)  # every Excel Table in the book

    @property
    def typed(self) -> set[str]:
        """The tables read from cells, where a number and text are told apart (as the
        workbook's own ISNUMBER and MATCH tell them apart): every one but a Variants
        table taken from the shipped CSV file."""
        names = set(self.tables)
        if self.scenario_tabs:
            names.add("Variants")
        return names

    @property
    def row_count(self) -> int:
        """Data rows in the five input tables."""
        return sum(len(self.raw[name]) for name in BOOK_TABLES if name in self.raw)


# --------------------------------------------------------------------------- public API

def read_book(path) -> BookTables:
    """Read the input tables of the workbook at *path* (nothing is written).

    Raises :class:`WorkbookError` for a file that is not a readable workbook;
    missing tables and bad cells are returned in ``missing`` / ``problems``.
    """
    from .gate import check_readable
    path = Path(path)
    check_readable(path)
    collecting = gc.isenabled()
    gc.disable()   # the parse makes millions of objects and no cycles: collections only cost time
    try:
        with zipfile.ZipFile(path) as zf:
            return _read(zf, path)
    except WorkbookError as err:
        if str(err).startswith(str(path)):
            raise
        raise WorkbookError(f"{path}: {err}") from None
    except (ParseError, DefusedXmlException) as err:
        raise WorkbookError(f"{path}: not a readable workbook: {type(err).__name__}: {err}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise WorkbookError(f"{path}: not a readable workbook: {err}") from None
    finally:
        if collecting:
            gc.enable()


def _workbook_part(zf: zipfile.ZipFile) -> str:
    """The workbook part the package's relationships name (``xl/workbook.xml`` by default)."""
    part = "xl/workbook.xml"
    for rtype, target, _ in _rels(zf, ""):
        if rtype.endswith(_REL_OFFICE_DOCUMENT):
            part = target
    return part


def sheet_names(path) -> list[str]:
    """The sheet names of the workbook at *path*, in order, from its workbook part alone
    (fast: no sheet is read). Raises :class:`WorkbookError` for a file that is not one."""
    from .gate import check_readable
    path = Path(path)
    check_readable(path)
    try:
        with zipfile.ZipFile(path) as zf:
            wb = _parse(zf, _workbook_part(zf))
            return [sheet.get("name") or "" for sheet in wb.iter(f"{_ns(wb.tag)}sheet")]
    except (ParseError, DefusedXmlException, zipfile.BadZipFile, KeyError, ValueError,
            OSError) as err:
        raise WorkbookError(f"{path}: not a readable workbook: {err}") from None


_NAMED_CELL = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^'!:]+)!\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")


def read_named_values(path, prefix: str) -> dict[str, tuple[object, str]]:
    """The values of the workbook's single-cell defined names starting with *prefix*
    (``LifeIn_`` -> the LifecycleInputs cells), as ``{name without prefix: (value, where)}``
    with *where* the cell (``LifecycleInputs!B7``) for error messages. A blank cell is None;
    a formula cell gives its cached value. An empty dict when the book has no such names."""
    from .gate import check_readable
    path = Path(path)
    check_readable(path)
    try:
        with zipfile.ZipFile(path) as zf:
            workbook_part = _workbook_part(zf)
            wb = _parse(zf, workbook_part)
            ns = _ns(wb.tag)
            wb_rels = {rid: (rtype, target) for rtype, target, rid in _rels(zf, workbook_part)}
            parts = {}
            for sheet in wb.iter(f"{ns}sheet"):
                rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
                rtype, part = wb_rels.get(rid, ("", ""))
                if rtype.endswith(_REL_WORKSHEET) and part in zf.NameToInfo:
                    parts[sheet.get("name") or ""] = part
            wanted: dict[str, list] = {}
            for dn in wb.iter(f"{ns}definedName"):
                name = dn.get("name") or ""
                if not name.casefold().startswith(prefix.casefold()) or dn.get("localSheetId"):
                    continue
                m = _NAMED_CELL.match((dn.text or "").strip())
                if m is None:
                    continue
                sheet = m.group("sheet")
                sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
                if sheet in parts:
                    wanted.setdefault(sheet, []).append(
                        (name[len(prefix):], int(m.group("row")), column_index(m.group("col"))))
            shared_part = next((t for rtype, t in wb_rels.values()
                                if rtype.endswith(_REL_SHARED_STRINGS)), None)
            shared = _SharedStrings(zf, shared_part)
            out = {}
            for sheet, cells in wanted.items():
                boxes = [TableRef(name, sheet, parts[sheet], c, r, c, r, 0, 0, ())
                         for name, r, c in cells]
                values = _scan_sheet(zf, parts[sheet], boxes, shared, ns)
                for name, r, c in cells:
                    value = values.get((r, c))
                    out[name] = (None if _is_blank(value) else value,
                                 sheet_ref(sheet, f"{column_letter(c)}{r}"))
            return out
    except (ParseError, DefusedXmlException, zipfile.BadZipFile, KeyError, ValueError,
            OSError) as err:
        raise WorkbookError(f"{path}: not a readable workbook: {err}") from None


def check_book(book: BookTables) -> list[Problem]:
    """Every problem in the workbook's input tables, in table, row and column order:
    missing tables and columns, bad cells, duplicate keys, unknown references."""
    problems = list(book.problems)
    seen = {(p.table, p.row, p.column) for p in problems}
    for p in check_tables(book.raw, book.locate, book.typed):
        if p.table in book.missing and p.row is None and p.column is None:
            continue  # reported by the reader, with a clearer message
        if (p.table, p.row, p.column) in seen and p.row is not None:
            continue  # the reader already reported this cell (error value, no cached value)
        first = _FIRST_AT_ROW.search(p.message)
        if first and p.table in book.tables:  # "(first at row 1)" -> "(first at Hardware!A8)"
            where = book.locate(p.table, int(first.group(1)) - 1, p.column)
            p = replace(p, message=p.message[:first.start()] + f"(first at {where})")
        problems.append(p)
    return sort_problems(book, problems)


def read_inputs(path) -> Inputs:
    """The validated inputs of the workbook at *path*.

    Raises :class:`WorkbookError` (one line) when an input table is missing and
    :class:`InputError` naming the first bad cell (``Models!C9: ...``, with the
    count of further problems) otherwise.
    """
    book = read_book(path)
    if book.missing:
        raise WorkbookError(f"{book.path}: " + missing_table_message(book, book.missing[0])
                            + ("" if len(book.missing) == 1 else
                               f" (also missing: {', '.join(book.missing[1:])})"))
    if not book.problems:
        try:
            return prepare(book.raw, book.locate, book.typed)
        except InputError:
            pass  # report the first problem in sheet order, as `tokencost check` lists them
    problems = check_book(book)
    first = problems[0]
    more = (f" (and {len(problems) - 1} more problem(s); run `tokencost check {book.path}`)"
            if len(problems) > 1 else "")
    raise InputError(first.where, first.message + more)


def missing_table_message(book: BookTables, name: str) -> str:
    found = book.table_names
    return (f"no Excel Table named {name} in the workbook (tables found: "
            f"{', '.join(found) if found else 'none'}); the input tables are found by name: "
            f"restore the table (or its sheet) or rename it back to {name}")


def sort_problems(book: BookTables, problems: Iterable[Problem]) -> list[Problem]:
    """Problems ordered by table (schema order), then row, then the column's position."""
    order = {spec.name: i for i, spec in enumerate(TABLES)}

    def key(p: Problem):
        ref = book.tables.get(p.table)
        col = _column_position(book, p.table, p.column) if ref else None
        return (order.get(p.table, len(order)), -1 if p.row is None else p.row,
                -1 if col is None else col)

    return sorted(problems, key=key)


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def sheet_ref(sheet: str, cell: str) -> str:
    """``Sheet!B7``, quoting a sheet name that needs it (``'My inputs'!B7``)."""
    if not _SIMPLE_SHEET_NAME.match(sheet):
        sheet = "'" + sheet.replace("'", "''") + "'"
    return f"{sheet}!{cell}"


# --------------------------------------------------------------------------- the package

def _rels(zf: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(type, target part, id) of the internal relationships of *part* ("" = the package)."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    if rels_part not in zf.NameToInfo:
        return []
    root = _parse(zf, rels_part)
    out = []
    for rel in root.iter(f"{_PKG_RELS_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Type") or "", resolved, rel.get("Id")))
    return out


def _parse(zf: zipfile.ZipFile, part: str):
    with zf.open(part) as fh:
        return SafeET.parse(fh).getroot()


def _ns(tag: str) -> str:
    return tag[:tag.index("}") + 1] if tag.startswith("{") else ""


def _read(zf: zipfile.ZipFile, path: Path) -> BookTables:
    workbook_part = "xl/workbook.xml"
    for rtype, target, _ in _rels(zf, ""):
        if rtype.endswith(_REL_OFFICE_DOCUMENT):
            workbook_part = target
    if workbook_part not in zf.NameToInfo:
        raise WorkbookError(f"{path}: not an Excel workbook (no {workbook_part} in the package)")
    wb = _parse(zf, workbook_part)
    ns = _ns(wb.tag)
    wb_rels = {rid: (rtype, target) for rtype, target, rid in _rels(zf, workbook_part)}
    shared_part = next((t for rtype, t in wb_rels.values() if rtype.endswith(_REL_SHARED_STRINGS)), None)

    tables: dict[str, TableRef] = {}
    by_casefold: dict[str, TableRef] = {}
    for sheet in wb.iter(f"{ns}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        rtype, part = wb_rels.get(rid, ("", ""))
        if not rtype.endswith(_REL_WORKSHEET) or part not in zf.NameToInfo:
            continue  # chart sheets, dialog sheets, dangling entries
        for ttype, tpart, _ in _rels(zf, part):
            if not ttype.endswith(_REL_TABLE) or tpart not in zf.NameToInfo:
                continue
            table = _table_ref(_parse(zf, tpart), sheet.get("name") or "", part)
            if table is not None:
                by_casefold.setdefault(table.name.casefold(), table)
                tables[table.name] = table

    wanted = {}
    missing = []
    for spec in TABLES:
        found = by_casefold.get(spec.name.casefold())
        if found is not None:
            wanted[spec.name] = found
        elif not spec.optional:
            missing.append(spec.name)

    shared = _SharedStrings(zf, shared_part)
    cells_by_part: dict[str, dict] = {}
    for part in {t.part for t in wanted.values()}:
        # each box one row taller: the row just under a table is read too (values typed there
        # are not part of the table: see rows_under_tables)
        boxes = [replace(t, max_row=t.max_row + 1) for t in wanted.values() if t.part == part]
        cells_by_part[part] = _scan_sheet(zf, part, boxes, shared, ns)

    raw: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    sheet_rows: dict[str, list[int]] = {}
    column_cells: dict[str, dict[str, int]] = {}
    for name, table in wanted.items():
        frame, rows, columns, cell_problems = _table_frame(name, table, cells_by_part[table.part],
                                                           path)
        raw[name] = frame
        sheet_rows[name] = rows
        column_cells[name] = columns
        problems.extend(cell_problems)

    variants_from_book = "Variants" in wanted
    csv_locate = None
    tab_cells: list[tuple[str, int]] = []   # (sheet, row) of each Variants row from a tab
    scenario_tabs: list[str] = []
    if not variants_from_book:
        frame, tab_cells, scenario_tabs, tab_problems = _scenario_variants(zf, wb, ns, wb_rels,
                                                                           shared)
        if scenario_tabs:
            raw["Variants"] = frame
            problems.extend(tab_problems)
        else:
            from ..inputs.datasets import csv_locator, read_raw_tables
            shipped = read_raw_tables()
            raw["Variants"] = shipped["Variants"]
            csv_locate = csv_locator(None, shipped)

    def locate(table: str, row: Optional[int], column: Optional[str]) -> str:
        ref = wanted.get(table)
        if ref is None:
            if table == "Variants" and csv_locate is not None:
                return csv_locate(table, row, column)
            if table == "Variants" and scenario_tabs:
                if row is None or row >= len(tab_cells):
                    return "scenario tabs " + ", ".join(scenario_tabs)
                sheet, sheet_row = tab_cells[row]
                return sheet_ref(sheet, f"{'B' if column == 'value' else 'A'}{sheet_row}")
            return table
        col = column_cells[table].get(column) if column is not None else None
        if row is None:
            if col is not None:
                return sheet_ref(ref.sheet, f"{column_letter(col)}{ref.min_row}")
            if column is not None:  # a column the table lacks: point at its header row
                return sheet_ref(ref.sheet, f"{column_letter(ref.min_col)}{ref.min_row}:"
                                            f"{column_letter(ref.max_col)}{ref.min_row}")
            return sheet_ref(ref.sheet, ref.ref)
        sheet_row = sheet_rows[table][row]
        if col is None:
            return sheet_ref(ref.sheet, f"{column_letter(ref.min_col)}{sheet_row}:"
                                        f"{column_letter(ref.max_col)}{sheet_row}")
        return sheet_ref(ref.sheet, f"{column_letter(col)}{sheet_row}")

    book = BookTables(path=path, raw=raw, tables=wanted, problems=[], missing=missing, locate=locate,
                      sheet_rows=sheet_rows, columns=column_cells,
                      variants_from_book=variants_from_book, table_names=sorted(tables),
                      scenario_tabs=scenario_tabs)
    for name in missing:
        problems.append(Problem(name, missing_table_message(book, name), name))
    problems.extend(rows_under_tables(wanted, cells_by_part))
    book.problems = sort_problems(book, problems)
    return book


def rows_under_tables(tables: dict, cells_by_part: dict) -> list[Problem]:
    """A problem for every input table with values in the row just under it.

    Excel grows a table over a row typed directly under it; LibreOffice does not, and a
    row pasted or typed there by any other means is not part of the table either: the
    workbook's formulas (which read the table), ``report`` and ``check`` would ignore it.
    The workbook's Checks sheet counts the same cells (one row under each table)."""
    out = []
    for name, table in tables.items():
        below = table.max_row + 1
        cells = cells_by_part.get(table.part, {})
        filled = [(c, cells[(below, c)]) for c in range(table.min_col, table.max_col + 1)
                  if not _is_blank(cells.get((below, c)))]
        if not filled:
            continue
        shown = ", ".join(f"{column_letter(c)}{below} {v!r}" for c, v in filled[:3])
        where = sheet_ref(table.sheet, f"{column_letter(table.min_col)}{below}:"
                                       f"{column_letter(table.max_col)}{below}")
        out.append(Problem(where, f"row {below} under table {name} holds values ({shown}) but is "
                                  f"not part of the table, so the workbook and tokencost ignore "
                                  f"it; grow the table over it: `tokencost tables fix BOOK`, or "
                                  f"in Excel drag the table's corner, in LibreOffice Data > "
                                  f"Define Range", name))
    return out


def _column_position(book: BookTables, table: str, column: Optional[str]) -> Optional[int]:
    if column is None:
        return None
    return book.columns.get(table, {}).get(column)


def _table_ref(root, sheet: str, part: str) -> Optional[TableRef]:
    ns = _ns(root.tag)
    name = root.get("displayName") or root.get("name")
    ref = root.get("ref") or ""
    if not name or ":" not in ref:
        return None
    first, last = ref.split(":", 1)
    m1, m2 = _REF.match(first), _REF.match(last)
    if not m1 or not m2:
        return None
    columns = tuple((c.get("name") or "") for c in root.iter(f"{ns}tableColumn"))
    return TableRef(name=name, sheet=sheet, part=part,
                    min_col=column_index(m1.group(1)), min_row=int(m1.group(2)),
                    max_col=column_index(m2.group(1)), max_row=int(m2.group(2)),
                    header_rows=int(root.get("headerRowCount", "1") or 1),
                    totals_rows=int(root.get("totalsRowCount", "0") or 0),
                    columns=columns)


class _SharedStrings:
    """The shared string table, parsed on first use."""

    def __init__(self, zf: zipfile.ZipFile, part: Optional[str]):
        self._zf, self._part, self._items = zf, part, None

    def __getitem__(self, index: int) -> str:
        if self._items is None:
            self._items = self._load()
        return self._items[index]

    def _load(self) -> list[str]:
        if not self._part or self._part not in self._zf.NameToInfo:
            return []
        items = []
        ns = None
        with self._zf.open(self._part) as fh:
            for _event, elem in _iterparse(fh, self._part):
                if ns is None:
                    ns = _ns(elem.tag)
                if elem.tag == f"{ns}si":
                    items.append(_rich_text(elem, ns))
                    elem.clear()
        return items


_CHUNK = 1 << 16


def _checked_chunks(fh, part: str, size: int = _CHUNK):
    """The bytes of one XML part in chunks, once its prolog is known to hold no DOCTYPE.

    The C parser is about twice as fast as defusedxml's (which runs expat's
    callbacks in Python), so defusedxml's protection is applied up front instead:
    the prolog must hold no DOCTYPE, the only place entities (internal or
    external) can be declared. Raises :class:`WorkbookError` for a DOCTYPE and for
    a part in an encoding the check cannot read (UTF-16: no Excel or LibreOffice
    writes one).
    """
    head = b""
    while True:
        chunk = fh.read(size)
        head += chunk
        verdict = _prolog_verdict(head, part)
        if verdict is not None or not chunk:
            break
    if verdict is False:
        raise WorkbookError(f"{part} is not UTF-8 XML; refused (save the workbook again in Excel "
                            "or LibreOffice)")
    chunk = head
    while chunk:
        yield chunk
        chunk = fh.read(size)


def _iterparse(fh, part: str):
    """``(event, element)`` "end" events of one XML part, parsed by the C parser
    after :func:`_checked_chunks` checked its prolog."""
    parser = ET.XMLPullParser(events=("end",))
    for chunk in _checked_chunks(fh, part):
        parser.feed(chunk)
        yield from parser.read_events()
    parser.close()
    yield from parser.read_events()


def _prolog_verdict(head: bytes, part: str) -> Optional[bool]:
    """True when the XML prolog in *head* ends without a DOCTYPE, None when more bytes
    are needed, False when the bytes are not UTF-8-like.
    Raises :class:`WorkbookError` on a DOCTYPE."""
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    n = len(head)
    while True:
        while pos < n and head[pos] in b" \t\r\n":
            pos += 1
        if pos + 1 >= n:
            return None if n < (1 << 20) else False
        if head[pos] != 0x3C:  # "<"
            return False
        if head.startswith(b"<?", pos):
            end = head.find(b"?>", pos + 2)
            if end < 0:
                return None
            pos = end + 2
        elif head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos + 4)
            if end < 0:
                return None
            pos = end + 3
        elif head[pos + 1] == 0x21:  # "<!": a DOCTYPE (or junk) before the root element
            raise WorkbookError(f"{part} declares a DOCTYPE (possible entity-expansion attack); "
                                "refused")
        else:
            return True


def _rich_text(elem, ns: str) -> str:
    """Text of an ``<si>`` or ``<is>``: its ``<t>`` or the ``<t>`` of each run (phonetic runs skipped)."""
    t_tag, r_tag = f"{ns}t", f"{ns}r"
    parts = []
    for child in elem:
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            t = child.find(t_tag)
            if t is not None:
                parts.append(t.text or "")
    return "".join(parts)


#: worksheet parts up to this size are parsed whole (fastest); bigger ones are streamed
WHOLE_PART_BYTES = 16 * 1024 * 1024


def _rows(zf: zipfile.ZipFile, part: str, ns: str):
    """The ``<row>`` elements of a worksheet part, in order. The caller may stop early
    and should ``clear()`` each row it is done with."""
    row_tag, data_tag = f"{ns}row", f"{ns}sheetData"
    with zf.open(part) as fh:
        if zf.getinfo(part).file_size <= WHOLE_PART_BYTES:
            parser = ET.XMLParser()
            for chunk in _checked_chunks(fh, part):
                parser.feed(chunk)
            data = parser.close().find(data_tag)
            if data is not None:
                yield from data.iterfind(row_tag)
            return
        for _event, elem in _iterparse(fh, part):
            if elem.tag == row_tag:
                yield elem
            elif elem.tag == data_tag:
                return


def _scan_sheet(zf: zipfile.ZipFile, part: str, boxes: list[TableRef], shared: _SharedStrings,
                ns: str) -> dict:
    """``{(row, col): value}`` for the cells of *part* inside any of *boxes* (1-based);
    *ns* is the SpreadsheetML namespace (``{...}``) of the workbook."""
    row_min = min(b.min_row for b in boxes)
    row_max = max(b.max_row for b in boxes)
    col_min = min(b.min_col for b in boxes)
    col_max = max(b.max_col for b in boxes)
    single = len(boxes) == 1
    out: dict = {}
    v_tag, is_tag, t_tag = f"{ns}v", f"{ns}is", f"{ns}t"
    columns: dict[str, int] = {}
    row_number = 0
    for elem in _rows(zf, part, ns):
        r = elem.get("r")
        row_number = int(r) if r else row_number + 1
        if row_number < row_min:
            elem.clear()
            continue
        if row_number > row_max:
            break
        col_number = 0
        for c in elem:
            ref = c.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                col_number = columns.get(letters) or columns.setdefault(letters,
                                                                         column_index(letters))
            else:
                col_number += 1
            if col_number < col_min or col_number > col_max:
                continue
            if not single and not any(b.min_row <= row_number <= b.max_row
                                      and b.min_col <= col_number <= b.max_col for b in boxes):
                continue
            if len(c) == 1 and c[0].tag == v_tag and c[0].text:  # fast paths: <c><v>x</v></c>
                t = c.get("t")
                if t is None or t == "n":
                    try:
                        out[(row_number, col_number)] = float(c[0].text)
                        continue
                    except ValueError:
                        pass
                elif t == "s":
                    out[(row_number, col_number)] = shared[int(c[0].text)]
                    continue
            elif len(c) == 1 and c[0].tag == is_tag and len(c[0]) == 1 and c[0][0].tag == t_tag:
                out[(row_number, col_number)] = c[0][0].text or ""  # <c><is><t>x</t></is></c>
                continue
            value = _cell_value(c, ns, shared)
            if value is not None:
                out[(row_number, col_number)] = value
        elem.clear()
    return out


def _cell_value(c, ns: str, shared: _SharedStrings):
    t = c.get("t", "n")
    v = c.find(f"{ns}v")
    if t == "inlineStr":
        is_ = c.find(f"{ns}is")
        return _rich_text(is_, ns) if is_ is not None else (v.text if v is not None else None)
    text = v.text if v is not None else None
    if not text and t != "str" and c.find(f"{ns}f") is not None:
        # a formula with no result stored (openpyxl writes <v></v>); an empty text result is t="str"
        return NO_CACHED_VALUE
    if v is None:
        return None
    if t == "s":
        return shared[int(text)] if text not in (None, "") else None
    if t == "str":
        return text or ""
    if t == "b":
        return (text or "").strip() in ("1", "true")
    if t == "e":
        return CellError((text or "#VALUE!").strip())
    if t == "d":
        return text or None
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not isinstance(value, CellError)
                             and not value.strip())


def _table_frame(name: str, table: TableRef, cells: dict, path: Path):
    """(raw frame, sheet row of each frame row, {canonical column: sheet column}, problems)."""
    spec = TABLES_BY_NAME[name]
    canonical = {c.casefold(): c for c in spec.column_names}
    headers: list[str] = []
    columns: dict[str, int] = {}
    used: set[str] = set()
    for j, col in enumerate(range(table.min_col, table.max_col + 1)):
        header = cells.get((table.min_row, col)) if table.header_rows else None
        if header is None or isinstance(header, (CellError, NoCachedValue)) or not str(header).strip():
            header = table.columns[j] if j < len(table.columns) else f"Column{j + 1}"
        header = str(header).strip() if not isinstance(header, float) else f"{header:g}"
        key = canonical.get(header.casefold())
        if key is not None and key not in columns:
            columns[key] = col
            header = key
        while header in used:
            header += " (2)"
        used.add(header)
        headers.append(header)
    spec_cols = [table.min_col + headers.index(c) for c in spec.column_names if c in columns]

    rows, records, problems = [], [], []
    # only rows with a cell: a table may span to Excel's last row, 1,048,576, mostly blank
    in_spec = set(spec_cols)
    filled = sorted({r for r, c in cells if c in in_spec
                     and table.first_data_row <= r <= table.last_data_row})
    for r in filled:
        if all(_is_blank(cells.get((r, c))) for c in spec_cols):
            continue
        rows.append(r)
        records.append([cells.get((r, c)) for c in range(table.min_col, table.max_col + 1)])
    # error values and formulas without a cached value stay in the frame as non-blank text
    # (so row numbering matches inputs.check_tables, which drops blank rows); each is
    # reported here, and check_book drops the follow-on problems at the same cell
    for i, record in enumerate(records):
        for j, value in enumerate(record):
            if isinstance(value, (CellError, NoCachedValue)):
                column = headers[j]
                if column not in columns:
                    continue  # an analyst's own column: not an input
                where = sheet_ref(table.sheet, f"{column_letter(table.min_col + j)}{rows[i]}")
                if isinstance(value, CellError):
                    message = f"{column} shows the error value {value}; enter a value or fix the formula"
                else:
                    message = (f"formula without a cached value; recalculate the workbook "
                               f"(tokencost recalc {path})")
                problems.append(Problem(where, message, name, i, column))
    frame = pd.DataFrame(records, columns=headers, dtype=object)
    return frame, rows, columns, problems


# --------------------------------------------------------------------------- scenario tabs

SCENARIO_TAB_FILE = Path(__file__).resolve().parents[3] / "templates" / "parts" / "scenario_tab.toml"
#: the overrides header of a scenario tab is looked for in its first rows
SCENARIO_HEADER_ROWS = 80


@dataclass(frozen=True)
class TabOverride:
    """One filled override cell of a scenario tab (column B of its row)."""
    name: str
    row: int
    value: object
    problem: Optional[str]   # None, "not a number" or "must be <rule>"

    def shown(self) -> str:
        """``name=value``, with the value quoted and the problem named when it is invalid."""
        text = repr(str(self.value)) if isinstance(self.value, str) else _number_text(self.value)
        return f"{self.name}={text}" + (f" ({self.problem})" if self.problem else "")


def _number_text(value) -> str:
    """30000.0 -> "30000", 0.06 -> "0.06" (every digit kept); anything else as str()."""
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@lru_cache(maxsize=None)
def scenario_tab_marker(path: Path = SCENARIO_TAB_FILE) -> tuple[str, str, str]:
    """(start of cell A3, first and second overrides header) of a scenario tab."""
    with open(path, "rb") as fh:
        tab = tomllib.load(fh)["scenario_tab"]
    return tab["purpose"].split(":")[0] + ":", tab["overrides_headers"][0], tab["overrides_headers"][1]


def override_problem(name: str, value) -> Optional[str]:
    """Why *value* cannot be the override of input *name* (None: it can). Only a number is
    one (text that looks like a number is not, as in the tab's ``ISNUMBER``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "not a number"
    # the input's own rule (bounds, whole numbers, limit), as for its table cells
    return overridable_inputs()[name].column(name).violation(float(value))


def scenario_tab_overrides(cell, marker: Optional[tuple] = None) -> Optional[list[TabOverride]]:
    """The filled overrides of a sheet read through ``cell(row, col) -> value`` (None: the
    sheet is not a scenario tab). Shared by ``scenario list`` (openpyxl) and the reader."""
    prefix, first, second = marker or scenario_tab_marker()
    a3 = cell(3, 1)
    if not isinstance(a3, str) or not a3.startswith(prefix):
        return None
    header = next((r for r in range(1, SCENARIO_HEADER_ROWS + 1)
                   if cell(r, 1) == first and cell(r, 2) == second), None)
    if header is None:
        return None
    known = overridable_inputs()
    out, r = [], header + 1
    while isinstance(cell(r, 1), str) and cell(r, 1) in known:
        name, value = cell(r, 1), cell(r, 2)
        if value is not None:
            out.append(TabOverride(name, r, value, override_problem(name, value)))
        r += 1
    return out


def _scenario_variants(zf: zipfile.ZipFile, wb, ns: str, wb_rels: dict, shared: "_SharedStrings"):
    """(Variants frame, (sheet, row) per frame row, scenario tab names, problems) of the
    book's scenario tabs, in sheet order."""
    marker = scenario_tab_marker()
    last_row = SCENARIO_HEADER_ROWS + len(overridable_inputs()) + 1
    records, cells_at, tabs, problems = [], [], [], []
    for sheet in wb.iter(f"{ns}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        rtype, part = wb_rels.get(rid, ("", ""))
        if not rtype.endswith(_REL_WORKSHEET) or part not in zf.NameToInfo:
            continue
        cells = _sheet_head(zf, part, ns, shared, marker[0], last_row)
        if cells is None:
            continue
        overrides = scenario_tab_overrides(lambda r, c: cells.get((r, c)), marker)
        if overrides is None:
            continue
        name = sheet.get("name") or ""
        tabs.append(name)
        for o in overrides:
            i = len(records)
            records.append([name, o.name, o.value, "scenario tab"])
            cells_at.append((name, o.row))
            if o.problem is not None:
                rule = "must be a number" if o.problem == "not a number" else o.problem
                got = f"text {o.value!r}" if isinstance(o.value, str) else _number_text(o.value)
                problems.append(Problem(sheet_ref(name, f"B{o.row}"), f"{o.name} override {rule}, "
                                        f"got {got}", "Variants", i, "value"))
    frame = pd.DataFrame(records, columns=list(VARIANTS.column_names), dtype=object)
    return frame, cells_at, tabs, problems


_HEAD_CHUNK = 1 << 13


def _sheet_head(zf: zipfile.ZipFile, part: str, ns: str, shared: "_SharedStrings", prefix: str,
                last_row: int) -> Optional[dict]:
    """``{(row, col): value}`` of columns A and B in rows 1..*last_row* of a worksheet part,
    streamed in small chunks; None as soon as cell A3 shows the sheet is not a scenario tab
    (most sheets cost one chunk)."""
    row_tag, data_tag = f"{ns}row", f"{ns}sheetData"
    out: dict = {}
    parser = ET.XMLPullParser(events=("end",))
    number = 0

    def a3_fails() -> bool:
        a3 = out.get((3, 1))
        return not isinstance(a3, str) or not a3.startswith(prefix)

    with zf.open(part) as fh:
        for chunk in _checked_chunks(fh, part, _HEAD_CHUNK):
            parser.feed(chunk)
            for _, elem in parser.read_events():
                if elem.tag == data_tag:
                    return None if a3_fails() else out
                if elem.tag != row_tag:
                    continue
                r = elem.get("r")
                number = int(r) if r else number + 1
                if number > 3 and a3_fails():
                    return None
                if number > last_row:
                    return out
                col = 0
                for c in elem:
                    ref = c.get("r")
                    col = column_index(ref.rstrip(_DIGITS)) if ref else col + 1
                    if col > 2:
                        break
                    value = _cell_value(c, ns, shared)
                    if value is not None:
                        out[(number, col)] = value
                elem.clear()
    return None if a3_fails() else out


__all__ = ["BookTables", "TableRef", "CellError", "NO_CACHED_VALUE", "BOOK_TABLES", "read_book",
           "check_book", "read_inputs", "column_letter", "column_index", "sheet_ref",
           "TabOverride", "override_problem", "scenario_tab_overrides", "scenario_tab_marker"]
