"""Export an analyst workbook for colleagues without Python or macros.

``tokencost export BOOK OUT.xlsx [--pdf OUT.pdf] [--csv DIR] [--markdown FILE]``

The macro-free workbook (:func:`convert_to_xlsx`) is the one source of every
export: it is BOOK read through openpyxl without its VBA project, without the
``xlwings.conf`` sheet (and any defined name pointing at it), with every
TokenCost function call (``=COST_PER_MTOK(...)``, also written
``_xludf.COST_PER_MTOK`` / ``_xll.COST_PER_MTOK`` in the file) replaced by its
native formula (:func:`tokencost.workbook.udf_native.native_formula`) or, where
none exists (range arguments, array formulas, the catalog functions, another
add-in's function), by the value the cell showed. A TokenCost call the file
holds no value for (a book saved by openpyxl), or only an error value (``#NAME?``:
saved by Excel without the add-in, or by LibreOffice), is computed here by the
Python function itself when its arguments are constants or single cells. Every
formula cell keeps the cached value BOOK had; where BOOK had none, or an add-in
call showed an error, LibreOffice computes the values. An omitted optional
argument whose default is not a unit constant (``hours_per_month`` 730) is read
by the native formula from a named input cell on an added "Function defaults"
sheet, so no assumption is typed into a formula. The PDF, CSV and Markdown files
are rendered from that workbook, so all of them show the same numbers as the
colleague's spreadsheet.

Output tables are found by layout, not by address: on each output sheet (role
``output`` in the templates, or a tab coloured as output), a title cell in the
``header`` style with a ``unit`` row and a ``header`` row under it starts a
table; it ends at the first blank row.
"""
from __future__ import annotations

import io
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ..errors import WorkbookError
from ..excel.arguments import EXCEL_ERRORS
from .formula import is_error_value  # noqa: F401  (part of this module's interface)
from .numbers import format_number  # noqa: F401  (part of this module's interface)
from .udf_native import native_formula, udf_calls

#: sheets that only exist for the xlwings add-in (settings), dropped by the export
XLWINGS_SHEETS = ("xlwings.conf", "_xlwings.conf")
#: what the PDF shows: sheets of these template roles
PDF_ROLES = ("output",)
#: the sheet of named function defaults the export adds when a native formula needs one
DEFAULTS_SHEET = "Function defaults"
_STRING = re.compile(r'"(?:[^"]|"")*"')


@dataclass
class OutputTable:
    """One titled output block, as the workbook shows it (cached values)."""
    sheet: str
    name: str                      # the template's block name (Out_GPU) or a slug of the title
    title: str
    headers: List[str]
    units: List[str]
    rows: List[list]
    number_formats: List[list]     # the number format of each cell of *rows*


@dataclass
class ExportResult:
    xlsx: Optional[Path] = None
    pdf: Optional[Path] = None
    pdf_pages: int = 0
    csv_files: List[Path] = field(default_factory=list)
    markdown: Optional[Path] = None
    markdown_text: str = ""
    formulas: int = 0              # formula cells in the exported workbook
    udf_native: List[str] = field(default_factory=list)    # "Sheet!B7" now a native formula
    udf_values: List[str] = field(default_factory=list)    # "Sheet!B7" now a plain value
    udf_computed: List[str] = field(default_factory=list)  # of those, values computed in Python
    udf_errors: List[str] = field(default_factory=list)    # add-in cells BOOK saved an error in
    defaults_sheet: Optional[str] = None                    # the sheet of named defaults added
    default_names: List[str] = field(default_factory=list) # the names defined on it
    removed_sheets: List[str] = field(default_factory=list)
    removed_names: List[str] = field(default_factory=list)
    recalculated: bool = False     # LibreOffice filled missing cached values
    tables: List[OutputTable] = field(default_factory=list)
    backups: List[Path] = field(default_factory=list)


# ------------------------------------------------------------------ UDF cells

def classify_formula(formula: str, names=None) -> str:
    """``"udf"`` (calls a TokenCost function), ``"foreign"`` (calls another add-in's
    function: ``_xludf.X(`` / ``_xll.X(``) or ``"native"``. *names*: the TokenCost
    function names (default all of them)."""
    calls = udf_calls(formula, names)
    if any(call.foreign for call in calls):
        return "foreign"
    return "udf" if calls else "native"


def _outside_strings(formula: str) -> str:
    """The formula with string literals blanked (same length), so a sheet name inside
    quotes is not taken for a reference."""
    return _STRING.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', formula)


def _argument_value(text: str, sheet: str, value_of: Callable[[str, str], tuple]) -> tuple:
    """``(known, value)`` of a call's argument that is a number, text, a logical, a
    blank or a single cell (*value_of* as in :func:`python_value`)."""
    from .formula import FormulaError, tokenize
    try:
        tokens = tokenize(text)
    except FormulaError:
        return False, None
    if not tokens:
        return True, None
    kind, value = tokens[-1]
    if kind == "number" and [v for _, v in tokens[:-1]] in ([], ["-"], ["+"]):
        return True, float("".join(v for _, v in tokens))
    if len(tokens) != 1:
        return False, None
    if kind == "string":
        return True, value[1:-1].replace('""', '"')
    if kind == "name" and value.upper() in ("TRUE", "FALSE"):
        return True, value.upper() == "TRUE"
    if kind in ("ref", "sref") and ":" not in value:
        target, _, cell = value.rpartition("!")
        if target.startswith("'"):
            target = target[1:-1].replace("''", "'")
        return value_of(target or sheet, cell.replace("$", "").upper())
    return False, None


def python_value(formula: str, sheet: str, value_of: Callable[[str, str], tuple]):
    """What the TokenCost function in *formula* gives, computed here in Python: for a
    formula that is one call whose arguments are numbers, text, blanks or single
    cells. *value_of(sheet, "B7")* returns ``(known, value)``. Returns ``(True, value)``,
    or ``(False, None)`` when the call is not that simple or gives an array."""
    from ..excel import udfs
    calls = udf_calls(formula)
    if not calls or not calls[0].whole or calls[0].foreign:
        return False, None
    values = []
    for arg in calls[0].args:
        known, value = _argument_value(arg, sheet, value_of)
        if not known:
            return False, None
        values.append(value)
    try:
        result = getattr(udfs, calls[0].name)(*values)
    except Exception:          # a function that raises instead of giving its message
        return False, None
    if isinstance(result, (list, tuple)):
        return False, None
    return True, result


# ------------------------------------------------------------------ reading a package

def formula_cells_without_value(path) -> set:
    """{(sheet, "B7")} of formula cells whose XML carries no cached value (<v>)."""
    import zipfile
    from .cached import sheet_parts
    missing = set()
    cell = re.compile(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
    with zipfile.ZipFile(path) as zf:
        for sheet, part in sheet_parts(zf).items():
            if part not in zf.namelist():
                continue
            xml = zf.read(part).decode("utf-8")
            for m in cell.finditer(xml):
                body = m.group(3) or ""
                if "<f" not in body:
                    continue
                # openpyxl writes a formula without a value as <v/> (or <v></v> when it
                # serializes with lxml); only a text result (t="str") can be empty
                value = re.search(r"<v(?:\s[^>]*)?>(.*?)</v>", body, re.S)
                text = re.search(r'\st="(str|s|inlineStr)"', m.group(2)) is not None
                if value is None or (value.group(1) == "" and not text):
                    missing.add((sheet, m.group(1)))
    return missing


def _cached_values(path) -> Dict[tuple, object]:
    from openpyxl import load_workbook
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, data_only=True)
    try:
        return {(ws.title, c.coordinate): c.value for ws in wb.worksheets
                for row in ws.iter_rows() for c in row if c.value is not None}
    finally:
        wb.close()


def _as_cached(value):
    from .formula import XLError
    if isinstance(value, str) and value in EXCEL_ERRORS:
        return XLError(value)
    return value


def _sheet_pattern(names) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?:'(?:{alternatives})'|(?<![\w.])(?:{alternatives}))!", re.I)


# ------------------------------------------------------------------ the macro-free workbook

def convert_to_xlsx(book: Path, target: Path, progress: Callable[[str], None] = lambda s: None,
                    result: Optional[ExportResult] = None) -> ExportResult:
    """Write the macro-free copy of *book* to *target* (a plain path, not atomic)."""
    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet.formula import ArrayFormula
    from .cached import inject_cached_values

    result = result or ExportResult()
    cached = _cached_values(book)
    missing = formula_cells_without_value(book)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # what openpyxl drops was checked by _check_book
        wb = load_workbook(book, keep_vba=False, keep_links=True, rich_text=True)
    modified = wb.properties.modified

    removed = [n for n in wb.sheetnames if n in XLWINGS_SHEETS]
    if removed and len(removed) == len(wb.sheetnames):
        raise WorkbookError(f"{book}: nothing to export besides {', '.join(removed)}")
    for name in removed:
        wb.remove(wb[name])
    result.removed_sheets = removed
    gone = _sheet_pattern(removed) if removed else None
    if gone is not None:
        for name in list(wb.defined_names):
            if gone.search(wb.defined_names[name].attr_text or ""):
                del wb.defined_names[name]
                result.removed_names.append(name)
        for ws in wb.worksheets:
            for name in list(ws.defined_names):
                if gone.search(ws.defined_names[name].attr_text or ""):
                    del ws.defined_names[name]
                    result.removed_names.append(f"{ws.title}!{name}")

    def cell_value(sheet: str, ref: str) -> tuple:
        """(known, value) of a cell as the workbook shows it, for :func:`python_value`."""
        if sheet not in wb.sheetnames:
            return False, None
        value = wb[sheet][ref].value
        if isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("=")):
            key = (sheet, ref)
            shown = cached.get(key)     # an error shown (#NAME?) is no value to compute with
            return (key not in missing and not is_error_value(shown), shown)
        return True, (str(value) if value is not None and not isinstance(
            value, (int, float, bool, str)) else value)

    fixed: Dict[tuple, object] = {}       # (sheet, ref) -> cached value of a new native formula
    no_value = []
    taken = {n.upper() for n in wb.defined_names} | {
        n.upper() for ws in wb.worksheets for n in ws.defined_names}
    chosen: Dict[str, str] = {}           # Default_x -> the name it has in this book
    pending: set = set()                  # the defaults the call being translated names
    names_used: Dict[str, str] = {}       # those of the native formulas written

    def default_ref(name: str) -> str:
        """The book's name for a function default (renamed if BOOK defines it already)."""
        if name not in chosen:
            chosen[name], n = name, 1
            while chosen[name].upper() in taken:
                n += 1
                chosen[name] = f"{name}_{n}"
        pending.add(name)
        return chosen[name]

    for ws in wb.worksheets:
        array_done = set()
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                is_array = isinstance(value, ArrayFormula)
                text = value.text if is_array else value
                if not (isinstance(text, str) and text.startswith("=")):
                    continue
                key = (ws.title, cell.coordinate)
                where = f"{ws.title}!{cell.coordinate}"
                kind = classify_formula(text)
                if gone is not None and gone.search(_outside_strings(text)):
                    kind = "removed-sheet"
                if kind == "native":
                    continue
                native = None
                # an error saved in an add-in cell (#NAME?: saved without the add-in) is
                # no value: the cell is computed again, like a cell saved with none
                shown_error = kind == "udf" and key not in missing and is_error_value(cached.get(key))
                if shown_error:
                    result.udf_errors.append(where)
                if kind == "udf" and not is_array:
                    pending.clear()
                    native = native_formula(text, defaults=default_ref)
                    if native is not None and key not in missing and not shown_error \
                            and isinstance(cached.get(key), str):
                        native = None       # the UDF showed a message: keep what the reader saw
                    elif native is not None and (key in missing or shown_error):
                        known, computed = python_value(text, ws.title, cell_value)
                        if known and isinstance(computed, str):
                            native = None   # the function's own message: what the add-in shows
                if native is not None:
                    cell.value = native
                    names_used.update((name, chosen[name]) for name in pending)
                    fixed[key] = None if shown_error else cached.get(key)
                    result.udf_native.append(where)
                    continue
                cells = [cell]
                if is_array and value.ref and value.ref not in array_done:
                    array_done.add(value.ref)
                    c1, r1, c2, r2 = range_boundaries(value.ref)
                    cells = [ws.cell(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
                for target_cell in cells:
                    k = (ws.title, target_cell.coordinate)
                    shown = cached.get(k)
                    if k in missing or (target_cell is cell and k not in cached and is_array) or (
                            kind == "udf" and is_error_value(shown)):
                        known = False
                        if kind == "udf" and not is_array:
                            known, shown = python_value(text, ws.title, cell_value)
                        if not known:
                            no_value.append((f"{ws.title}!{target_cell.coordinate}", kind))
                        else:
                            result.udf_computed.append(where)
                    target_cell.value = shown
                    if isinstance(shown, str) and shown.startswith("="):
                        target_cell.data_type = "s"      # text that looks like a formula stays text
                    result.udf_values.append(f"{ws.title}!{target_cell.coordinate}")
    if no_value:
        (first, kind), more = no_value[0], len(no_value) - 1
        what = ("refers to the removed xlwings.conf sheet" if kind == "removed-sheet"
                else "calls a function that only works with the Python add-in")
        raise WorkbookError(
            f"{book}: {first} {what} and has no saved value (none, or an error such as #NAME?)"
            f"{f' ({more} more cells like it)' if more else ''}; open the book in Excel with the "
            "add-in, recalculate and save, then export again")
    if names_used:
        _add_defaults_sheet(wb, names_used, result)

    if wb.active is None or wb.active.sheet_state != "visible":
        wb.active = next(i for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible")
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is wb.active
    progress("making the macro-free copy")
    from .package import restore_charts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buffer = io.BytesIO()
        wb.save(buffer)
    # the charts the export does not change get their exact bytes back (openpyxl rebuilds a
    # chart from its model and drops what it has no model for, as a rewrite in place would)
    Path(target).write_bytes(restore_charts(Path(book).read_bytes(), buffer.getvalue())[0])
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else None

    def value_of(sheet, ref):
        key = (sheet, ref)
        return _as_cached(fixed[key] if key in fixed else cached.get(key))

    result.formulas = inject_cached_values(str(target), value_of, modified=stamp)
    unfilled = {k for k in missing if (k[0], k[1]) not in fixed} | {
        k for k, v in fixed.items() if v is None}
    still_formula = set(_formula_keys(target))
    if result.udf_errors:
        # cells over them saved the error too (=B5*2 shows #NAME?): recalculate every cell
        progress(f"{len(result.udf_errors)} add-in function cells were saved with an error "
                 "(#NAME?: saved without the add-in): recalculating with LibreOffice")
    elif unfilled & still_formula:
        progress(f"{len(unfilled & still_formula)} formula cells had no saved value: "
                 "recalculating with LibreOffice")
    if result.udf_errors or unfilled & still_formula:
        from .libreoffice import LibreOfficeError, recalculated_values
        try:
            values = recalculated_values(target)
        except LibreOfficeError as err:
            raise WorkbookError(f"{book}: some formulas have no saved value and {err}; "
                                "run `tokencost recalc BOOK` on a machine with LibreOffice") from None
        inject_cached_values(str(target), lambda s, r: _as_cached(values.get(s, {}).get(r)),
                             modified=stamp)
        result.recalculated = True
    return result


def _add_defaults_sheet(wb, names_used: Dict[str, str], result: ExportResult) -> None:
    """Append the sheet of named function defaults the native formulas read: one
    input cell per default, its defined name in column A."""
    from openpyxl.workbook.defined_name import DefinedName
    from .cells import register_styles
    from .spec import TEMPLATES_DIR
    from .numbers import number_format
    from .spec import load_template
    from .udf_native import named_defaults
    template = load_template(TEMPLATES_DIR / "main.toml")
    register_styles(wb, template)            # a book without the template's styles gets them
    title, n = DEFAULTS_SHEET, 1
    while title in wb.sheetnames:
        n += 1
        title = f"{DEFAULTS_SHEET} {n}"
    ws = wb.create_sheet(title)
    ws.sheet_properties.tabColor = template.role_colors.get("input", "FFC000")
    ws["A1"], ws["A1"].style = "Defaults of the TokenCost functions", "title"
    notes = ("Added by tokencost export. Where a function call left an optional argument out or "
             "blank, its native formula reads the function's default from the named cell below "
             "(the same default the Python function uses).",
             "Change a value here to change every such formula; a value in the call's own "
             "argument cell still overrides it for that call.")
    for r, note in enumerate(notes, start=2):
        ws.cell(r, 1, note).style = "note"
    for c, head in enumerate(("Name", "Value", "Unit", "Default of"), start=1):
        ws.cell(5, c, head).style = "header"
    sheet_ref = f"'{title}'"
    for r, (name, used) in enumerate(sorted(names_used.items()), start=6):
        named = named_defaults()[name]
        ws.cell(r, 1, used).style = "label"
        cell = ws.cell(r, 2, int(named.value) if named.value.is_integer() else named.value)
        cell.style = "input"
        cell.number_format = number_format(named.unit)
        ws.cell(r, 3, named.unit).style = "unit"
        ws.cell(r, 4, f"{', '.join(named.functions)}: {named.arg} ({named.doc})").style = "note"
        wb.defined_names[used] = DefinedName(used, attr_text=f"{sheet_ref}!$B${r}")
        result.default_names.append(used)
    for col, width in (("A", 32), ("B", 14), ("C", 12), ("D", 100)):
        ws.column_dimensions[col].width = width
    result.defaults_sheet = title


def _formula_keys(path):
    import zipfile
    from .cached import sheet_parts
    with zipfile.ZipFile(path) as zf:
        for sheet, part in sheet_parts(zf).items():
            xml = zf.read(part).decode("utf-8")
            for m in re.finditer(r'<c r="([A-Z]+\d+)"[^>]*>\s*<f', xml):
                yield (sheet, m.group(1))


# ------------------------------------------------------------------ which sheets are outputs

def _template_roles() -> Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]:
    """(sheet name -> role, role -> tab colour, block title -> block name) over every template."""
    from .spec import TEMPLATES_DIR
    from .spec import load_template
    roles, colors, blocks = {}, {}, {}
    for path in sorted(TEMPLATES_DIR.glob("*.toml")):
        try:
            template = load_template(path)
        except (ValueError, OSError):
            continue
        for role, color in template.role_colors.items():
            colors.setdefault(role, color.upper())
        for sheet in template.sheets:
            roles.setdefault(sheet.name, sheet.role)
            for block in sheet.blocks:
                if block.title and block.name:
                    blocks.setdefault(block.title, block.name)
    return roles, colors, blocks


def sheet_roles(wb) -> Dict[str, str]:
    """Role of each sheet of an open workbook: the template's role for a sheet the
    template names, else the role whose tab colour it has (``""`` when neither)."""
    roles, colors, _ = _template_roles()
    by_color = {c[-6:]: r for r, c in colors.items()}
    out = {}
    for ws in wb.worksheets:
        role = roles.get(ws.title, "")
        tab = ws.sheet_properties.tabColor
        rgb = (tab.rgb if tab is not None and isinstance(tab.rgb, str) else "") or ""
        out[ws.title] = role or by_color.get(rgb.upper()[-6:], "")
    return out


def output_sheets(wb) -> List[str]:
    roles = sheet_roles(wb)
    return [ws.title for ws in wb.worksheets
            if roles[ws.title] in PDF_ROLES and ws.sheet_state == "visible"]


# ------------------------------------------------------------------ output tables

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "table"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _is_title(ws, r: int, c: int) -> bool:
    """A block's title (the section style; workbooks before it used the header style)."""
    if r < 1 or c < 1:
        return False
    cell = ws.cell(r, c)
    return cell.style == "section" and not _blank(cell.value)


def _is_header(ws, r: int, c: int) -> bool:
    if r < 1 or c < 1:
        return False
    cell = ws.cell(r, c)
    return cell.style == "header" and not _blank(cell.value)


def _read_table(ws, title: str, header_row: int, c: int, unit_row: Optional[int]):
    headers, units, col = [], [], c
    while not _blank(ws.cell(header_row, col).value):     # (a scenario name typed in a header)
        headers.append(str(ws.cell(header_row, col).value))
        unit = ws.cell(unit_row, col).value if unit_row else None
        units.append("" if _blank(unit) else str(unit))
        col += 1
    rows, formats, r = [], [], header_row + 1
    while r <= ws.max_row:
        cells = [ws.cell(r, c + j) for j in range(len(headers))]
        if all(_blank(x.value) for x in cells):
            break
        rows.append([x.value for x in cells])
        formats.append([x.number_format for x in cells])
        r += 1
    return title, headers, units, rows, formats


def read_output_tables(path: Path) -> List[OutputTable]:
    """Every table on the output sheets of *path*, with its cached values.

    Two layouts are recognised: a title cell (``header`` style) over a ``unit``
    row over a row of headers (the templates' slots blocks), and a row of two or
    more ``header`` cells on its own (titled by a lone header cell right above it,
    else by its first cell: the scenario comparison tables). A table ends at the
    first blank row."""
    from openpyxl import load_workbook
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, data_only=True)
    try:
        _, _, names = _template_roles()
        tables, used = [], set()
        for sheet in output_sheets(wb):
            ws = wb[sheet]
            header_rows = set()
            for row in ws.iter_rows():
                for cell in row:
                    if not (_is_header(ws, cell.row, cell.column) or _is_title(ws, cell.row, cell.column)):
                        continue
                    r, c = cell.row, cell.column
                    if ws.cell(r + 1, c).style == "unit" and _is_header(ws, r + 2, c):
                        found = _read_table(ws, str(cell.value), r + 2, c, r + 1)
                        header_rows.add((r + 2, c))
                    elif (_is_header(ws, r, c) and _is_header(ws, r, c + 1)
                          and not _is_header(ws, r, c - 1) and (r, c) not in header_rows):
                        lone = ((_is_header(ws, r - 1, c) or _is_title(ws, r - 1, c))
                                and not _is_header(ws, r - 1, c + 1))
                        title = ws.cell(r - 1, c).value if lone else cell.value
                        found = _read_table(ws, str(title), r, c, None)
                    else:
                        continue
                    title, headers, units, rows, formats = found
                    name = names.get(title) or f"{_slug(sheet)}_{_slug(title)}"
                    while name in used:
                        name += "_"
                    used.add(name)
                    tables.append(OutputTable(sheet, name, title, headers, units, rows, formats))
        return tables
    finally:
        wb.close()


def _header(table: OutputTable, j: int) -> str:
    unit = table.units[j]
    header = table.headers[j]
    if not unit or unit in ("name", "#", "text") or unit.lower() in header.lower():
        return header
    return f"{header} [{unit}]"


def table_csv(table: OutputTable) -> str:
    """CSV of one table: plain numbers at full precision, text neutralised against
    formula injection (a cell starting with =, +, -, @ gets a leading apostrophe)."""
    import csv
    import io
    from ..render import safe_csv_text
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([safe_csv_text(_header(table, j)) for j in range(len(table.headers))])
    for row in table.rows:
        out = []
        for v in row:
            if v is None:
                out.append("")
            elif isinstance(v, bool):
                out.append("TRUE" if v else "FALSE")
            elif isinstance(v, (int, float)):
                out.append(str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v)))
            else:
                out.append(safe_csv_text(str(v)))
        writer.writerow(out)
    return buf.getvalue()


def table_markdown(table: OutputTable) -> str:
    from .formula import XLError
    numeric = [any(isinstance(r[j], (int, float)) and not isinstance(r[j], bool) for r in table.rows)
               for j in range(len(table.headers))]

    from ..render import markdown_text as esc   # formula-safe, | escaped, one line

    def show(v, j, i):
        if v is None:
            return ""
        if isinstance(v, (int, float)) and not isinstance(v, (bool, XLError)):
            return format_number(float(v), table.number_formats[i][j])
        return esc(v)

    lines = [f"### {esc(table.title)}", "",
             "| " + " | ".join(esc(_header(table, j)) for j in range(len(table.headers))) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for i, row in enumerate(table.rows):
        lines.append("| " + " | ".join(show(v, j, i) for j, v in enumerate(row)) + " |")
    return "\n".join(lines)


def tables_markdown(tables: List[OutputTable], book_name: str, master: Optional[str] = None) -> str:
    parts = [f"## {book_name}: outputs", ""]
    if master:
        parts += [f"*{master}*", ""]
    parts += ["\n\n".join(table_markdown(t) for t in tables), ""]
    return "\n".join(parts)


def master_check_text(path: Path) -> Optional[str]:
    """The master-check line (A2 of the first output sheet) as the workbook shows it."""
    from openpyxl import load_workbook
    wb = load_workbook(path, data_only=True)
    try:
        sheets = output_sheets(wb)
        value = wb[sheets[0]]["A2"].value if sheets else None
        return value if isinstance(value, str) and value.startswith("Master check") else None
    finally:
        wb.close()


# ------------------------------------------------------------------ PDF

def pdf_pack_sheets(wb) -> List[str]:
    """The sheets of the PDF pack, in order: the Dashboard first, then the other output
    sheets in tab order."""
    sheets = output_sheets(wb) or [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    return sorted(sheets, key=lambda name: name != "Dashboard")


def render_pdf(xlsx: Path, work_dir: Path, paper: str = "A4",
               sheets: Optional[List[str]] = None) -> Path:
    """The PDF pack of the exported workbook (LibreOffice, headless, isolated profile):
    the Dashboard, then the output sheets with their charts, each sheet's own print setup
    (print area, one page wide, title rows, header and footer with the scenario, the date
    and "Page N of M" counted over the whole pack), on *paper* ("A4" or "Letter").
    A sheet without a print setup gets landscape, one page wide. *sheets*: print these
    (in this order) instead of the pack."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.properties import PageSetupProperties
    from .layout import PAPER_SIZES
    from .libreoffice import LibreOfficeError, convert
    if paper not in PAPER_SIZES:
        raise WorkbookError(f"paper {paper!r}: choose {' or '.join(PAPER_SIZES)}")
    wb = load_workbook(xlsx)
    show = list(sheets) if sheets else pdf_pack_sheets(wb)
    order = show + [name for name in wb.sheetnames if name not in show]
    wb._sheets = [wb[name] for name in order]   # the pack's page order is the tab order
    for ws in wb.worksheets:
        if ws.title in show:
            ws.sheet_state = "visible"
            ws.page_setup.paperSize = PAPER_SIZES[paper]
            if ws.sheet_properties.pageSetUpPr is None or not ws.print_area:
                ws.page_setup.orientation = "landscape"
                ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
                ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        else:
            ws.sheet_state = "hidden"
            ws.print_area = None   # LibreOffice prints a hidden sheet that has a print area
            ws.print_title_rows = None
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == show[0]
    source = Path(work_dir) / "pdf-source" / f"{Path(xlsx).stem}.xlsx"
    source.parent.mkdir(parents=True, exist_ok=True)
    wb.save(source)
    try:
        return convert(source, Path(work_dir) / "pdf", "pdf")
    except LibreOfficeError as err:
        raise WorkbookError(str(err)) from None


# ------------------------------------------------------------------ the whole export

def _check_targets(book: Path, xlsx, pdf, csv_dir, markdown) -> None:
    if not any((xlsx, pdf, csv_dir, markdown)):
        raise WorkbookError("nothing to export: give OUT.xlsx, --pdf, --csv or --markdown")
    src = book.resolve()
    for label, target in (("OUT", xlsx), ("--pdf", pdf), ("--csv", csv_dir), ("--markdown", markdown)):
        if target is None or str(target) == "-":
            continue
        if Path(target).resolve() == src:
            raise WorkbookError(f"{label} {target} is the workbook being exported; "
                                "export never overwrites BOOK: pick another name")
    if xlsx is not None and Path(xlsx).suffix.lower() != ".xlsx":
        raise WorkbookError(f"OUT {xlsx}: the export is a macro-free workbook; name it *.xlsx "
                            "(Excel refuses a macro-free file named .xlsm)")
    if pdf is not None and Path(pdf).suffix.lower() != ".pdf":
        raise WorkbookError(f"--pdf {pdf}: name the file *.pdf")
    if csv_dir is not None and Path(csv_dir).exists() and not Path(csv_dir).is_dir():
        raise WorkbookError(f"--csv {csv_dir}: not a folder")
    from .files import check_writable   # before the conversion, not after it
    for target in (xlsx, pdf, markdown):
        if target is not None and str(target) != "-":
            check_writable(Path(target))
    if csv_dir is not None:
        check_writable(Path(csv_dir) / "Out.csv")


def _check_book(book: Path) -> None:
    from .edit.inventory import check_in_place
    # the export is a rewrite through openpyxl: refuse what it would drop (VBA aside)
    report = check_in_place(book, raise_on_loss=False)   # the gate first
    if report:
        raise WorkbookError(f"{book}: the export would lose {', '.join(report.lines())}; nothing "
                            "was written (openpyxl cannot carry these parts; remove them from a "
                            "copy to export the rest, or send the workbook itself)")


def export(book, xlsx=None, pdf=None, csv_dir=None, markdown=None, backup: bool = True,
           progress: Callable[[str], None] = lambda s: None, paper: str = "A4") -> ExportResult:
    """Export *book*; each target given is written atomically (a ``.bak`` of a file
    replaced). *markdown* ``"-"`` only fills ``result.markdown_text`` (the CLI
    prints it). BOOK itself is never written."""
    from .files import write_atomic
    book = Path(book)
    _check_targets(book, xlsx, pdf, csv_dir, markdown)
    _check_book(book)
    result = ExportResult()
    with tempfile.TemporaryDirectory(prefix="tokencost-export-") as tmp:
        converted = Path(tmp) / f"{book.stem}.xlsx"
        convert_to_xlsx(book, converted, progress, result)

        def put(target: Path, save) -> Path:
            bak = write_atomic(save, Path(target), backup=backup)
            if bak is not None:
                result.backups.append(bak)
            return Path(target)

        if xlsx is not None:
            result.xlsx = put(xlsx, lambda t: shutil.copyfile(converted, t))
        if csv_dir is not None or markdown is not None:
            result.tables = read_output_tables(converted)
            if not result.tables:
                raise WorkbookError(f"{book}: no output tables found (a title with a unit row "
                                    "and a header row under it, on an output sheet)")
        if csv_dir is not None:
            for table in result.tables:
                text = table_csv(table)
                result.csv_files.append(put(Path(csv_dir) / f"{table.name}.csv",
                                            lambda t, text=text: Path(t).write_text(text, "utf-8")))
        if markdown is not None:
            text = tables_markdown(result.tables, book.name, master_check_text(converted))
            result.markdown_text = text
            if str(markdown) != "-":
                result.markdown = put(Path(markdown), lambda t: Path(t).write_text(text, "utf-8"))
        if pdf is not None:
            progress("rendering the output sheets to PDF with LibreOffice")
            produced = render_pdf(converted, Path(tmp), paper)
            result.pdf = put(pdf, lambda t: shutil.copyfile(produced, t))
            result.pdf_pages = len(re.findall(rb"/Type\s*/Page[^s]", produced.read_bytes()))
    return result
