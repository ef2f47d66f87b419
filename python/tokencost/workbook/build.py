"""Write a workbook from a template spec and the input dataset (openpyxl).

Data flows one way: template (layout, formulas) + validated inputs (rows of
the input tables) -> openpyxl workbook -> cached values from
:mod:`tokencost.workbook.formula` -> file written atomically.
"""
from __future__ import annotations

import io
import math
import os
import re
import shutil
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, Optional

from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..errors import OutputError
from ..inputs import Inputs
from ..schema import TABLES_BY_NAME, Column, TableSpec
from .cached import inject_cached_values
from .charts import add_chart
from .layout import chart_extent, fit_sheet, page_setup
from .formula import Evaluator, Ref
from .numbers import number_format
from .spec import Block, Chart, Sheet, Template, load_template
from .validation import data_validation

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATES_DIR = REPO_ROOT / "templates"
FIXED_TIME = datetime(2026, 1, 1)

DEFAULT_STYLES = {
    # name: (font colour, bold, fill colour or "", italic)
    "title": ("1F3864", True, "", False),
    "section": ("1F3864", True, "", False),      # a block's title: one line, spills right
    "header": ("FFFFFF", True, "1F3864", False),
    "unit": ("595959", False, "", True),
    "input": ("0000FF", False, "FFF2CC", False),
    "calc": ("000000", False, "", False),
    "output": ("000000", True, "E2EFDA", False),
    "kpi": ("1F3864", True, "E2EFDA", False),    # a headline number (the Dashboard)
    # slots blocks with an ``active`` column: the look of calc/output comes from a
    # conditional format on the rows in use, so empty slots show nothing
    "calc_slot": ("000000", False, "", False),
    "output_slot": ("000000", True, "", False),
    "check": ("000000", False, "", False),
    "note": ("595959", False, "", True),
    "label": ("000000", False, "", False),
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(\[\]|@first)?\}")


@dataclass
class BlockLayout:
    sheet: str
    first_row: int                 # first data row
    capacity: int
    columns: Dict[str, int]        # key -> column index


@dataclass
class BuildState:
    wb: Workbook
    template: Template
    inputs: Inputs
    cells: Dict[tuple, object] = field(default_factory=dict)
    tables: Dict[str, tuple] = field(default_factory=dict)
    names: Dict[str, str] = field(default_factory=dict)
    blocks: Dict[str, BlockLayout] = field(default_factory=dict)
    check_cells: list = field(default_factory=list)
    validations: Dict[str, list] = field(default_factory=dict)
    #: cached values set by a writer rather than computed by the evaluator (UDF cells)
    fixed_values: Dict[tuple, object] = field(default_factory=dict)
    #: first column of the block being written (a block's ``at``)
    col0: int = 1
    #: (sheet, row, col) of text that may spill into the empty cells to its right
    spill: set = field(default_factory=set)
    #: (sheet, column letter) whose width the template sets
    keep_width: set = field(default_factory=set)
    #: slots block -> its ``active`` column ("key" or "Block.key"), for charts
    block_active: Dict[str, str] = field(default_factory=dict)
    _evaluator: Optional[Evaluator] = None

    @property
    def evaluator(self) -> Evaluator:
        """One evaluator over the built cells (its values are computed once)."""
        if self._evaluator is None:
            self._evaluator = Evaluator(self.cells, self.tables, self.names)
        return self._evaluator


class TemplateError(Exception):
    """A template that cannot be built (unknown table, placeholder, function...)."""


def template_path(name: str) -> Path:
    """``main`` -> ``templates/main.toml``; a path to a .toml file is used as is."""
    p = Path(name)
    if p.suffix == ".toml" and p.exists():
        return p
    candidate = TEMPLATES_DIR / f"{name}.toml"
    if not candidate.exists():
        known = ", ".join(sorted(x.stem for x in TEMPLATES_DIR.glob("*.toml")))
        raise TemplateError(f"no template {name!r} in {TEMPLATES_DIR} (known: {known})")
    return candidate


def list_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.toml"))


# ------------------------------------------------------------------ helpers

def _sheet_ref(sheet: str) -> str:
    return f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet


def _put(state: BuildState, ws, row: int, col: int, value, style: str = "", number_format: str = ""):
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    cell = ws.cell(row=row, column=col, value=value)
    if style:
        cell.style = style
    if number_format:
        cell.number_format = number_format
    state.cells[(ws.title, row, col)] = float(value) if isinstance(value, int) and not isinstance(
        value, bool) else value
    return cell


def _register_styles(wb: Workbook, template: Template) -> None:
    styles = dict(DEFAULT_STYLES)
    for key, spec in template.styles.items():
        styles[key] = (spec.get("font", "000000"), spec.get("bold", False), spec.get("fill", ""),
                       spec.get("italic", False))
    thin = Side(style="thin", color="BFBFBF")
    existing = set(wb.named_styles)
    for key, (font, bold, fill, italic) in styles.items():
        if key in existing:
            continue
        st = NamedStyle(name=key)
        size = {"title": 14, "section": 12, "kpi": 14}.get(key, 11)
        st.font = Font(name="Calibri", size=size, color=font, bold=bold, italic=italic)
        if fill:
            st.fill = PatternFill("solid", start_color=fill, end_color=fill)
        if key in ("input", "calc", "output", "kpi"):
            st.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        if key == "header":
            st.alignment = Alignment(wrap_text=True, vertical="center")
        if key == "unit":   # beside a right-aligned number: keep a space between them
            st.alignment = Alignment(horizontal="left", indent=1)
        wb.add_named_style(st)


def _resolve(state: BuildState, formula: str, block: Optional[BlockLayout], slot: int) -> str:
    """Expand ``{...}`` placeholders for the row of *slot* (0-based) of *block*."""
    def repl(m):
        first, second, suffix = m.group(1), m.group(2), m.group(3)
        if second is None:
            if block is None:
                raise TemplateError(f"placeholder {{{first}}} outside a slots block")
            target, key, same_sheet = block, first, True
        else:
            if first not in state.blocks:
                raise TemplateError(f"unknown block {first!r} in {formula!r}")
            target, key = state.blocks[first], second
            same_sheet = block is not None and target.sheet == block.sheet
        if key not in target.columns:
            raise TemplateError(f"block has no column {key!r} in {formula!r}")
        col = get_column_letter(target.columns[key])
        prefix = "" if same_sheet else _sheet_ref(target.sheet) + "!"
        if suffix == "[]":
            last = target.first_row + target.capacity - 1
            return f"{prefix}${col}${target.first_row}:${col}${last}"
        if suffix == "@first":
            return f"{prefix}{col}${target.first_row}"
        return f"{prefix}{col}{target.first_row + slot}"
    return _PLACEHOLDER.sub(repl, formula)


# ------------------------------------------------------------------ blocks

def write_title(state: BuildState, ws, row: int, col: int, text: str) -> None:
    """A block's title: one line in the section style, spilling over the cells to its right."""
    _put(state, ws, row, col, text, "section")
    state.spill.add((ws.title, row, col))
    ws.row_dimensions[row].height = 18


def _write_text(state, ws, block: Block, row: int) -> int:
    col = state.col0
    if block.title:
        write_title(state, ws, row, col, block.title)
        row += 1
    for line in block.lines:
        if line.startswith("# "):
            write_title(state, ws, row, col, line[2:])
        else:
            _put(state, ws, row, col, line, "label")
            state.spill.add((ws.title, row, col))
        row += 1
    return row


def _input_validation(state: BuildState, spec: TableSpec, col: Column, ref: str, top_left: str):
    required = col.required or col.default is not None
    if col.kind == "number":
        parts = [f"ISNUMBER({top_left})"] if required else [
            f"OR(ISBLANK({top_left}),ISNUMBER({top_left}))"]
        for bound, op in ((col.gt, ">"), (col.ge, ">="), (col.le, "<="), (col.lt, "<")):
            if bound is not None:
                parts.append(f"OR(ISBLANK({top_left}),{top_left}{op}{bound:g})" if not required
                             else f"{top_left}{op}{bound:g}")
        rule = col.rule_text()
        return data_validation(
            "custom", "AND(" + ",".join(parts) + ")", ref, title=col.name,
            error=f"{spec.name}[{col.name}] must be a number{(' ' + rule) if rule else ''} "
                  f"[{col.unit}]",
            prompt=f"{col.description} [{col.unit}]", allow_blank=not required)
    if col.references:
        return data_validation(
            "list", "List_" + col.references.replace(".", "_"), ref, title=col.name,
            error=f"{spec.name}[{col.name}] must be one of {col.references}",
            prompt=f"{col.description} [{col.unit}]")
    if col.choices:   # a fixed list of names (precisions): the list itself, blank allowed
        return data_validation(
            "list", '"' + ",".join(col.choices) + '"', ref, title=col.name,
            error=f"{spec.name}[{col.name}] must be blank or one of {', '.join(col.choices)}",
            prompt=f"{col.description} [{col.unit}]", allow_blank=not col.required)
    return None


def _write_input_table(state: BuildState, ws, block: Block, row: int) -> int:
    spec = TABLES_BY_NAME.get(block.table)
    if spec is None:
        raise TemplateError(f"unknown input table {block.table!r}")
    frame = state.inputs[spec.name]
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    desc_row, unit_row, header_row = row, row + 1, row + 2
    for j, col in enumerate(spec.columns, start=1):
        _put(state, ws, desc_row, j, col.description, "note")
        ws.cell(desc_row, j).alignment = Alignment(wrap_text=True, vertical="top")
        _put(state, ws, unit_row, j, col.unit, "unit")
        _put(state, ws, header_row, j, col.name, "header")
        width = max(14, min(60, len(col.name) + 3)) if col.name != "source" else 70
        ws.column_dimensions[get_column_letter(j)].width = width
    n = max(len(frame), 1)
    for i in range(n):
        r = header_row + 1 + i
        for j, col in enumerate(spec.columns, start=1):
            value = frame[col.name].iloc[i] if i < len(frame) else None
            if isinstance(value, float) and math.isnan(value):
                value = None
            if value == "":
                value = None
            style = "input" if col.name != "source" else "note"
            _put(state, ws, r, j, value, style, number_format(col.unit) if col.kind == "number" else "")
    last = header_row + n
    ref = f"A{header_row}:{get_column_letter(len(spec.columns))}{last}"
    table = Table(displayName=spec.name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    state.tables[spec.name] = (ws.title, Ref(ws.title, header_row, 1, last, len(spec.columns)),
                               spec.column_names)
    ws.row_dimensions[desc_row].height = 45
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    for j, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        dv = _input_validation(state, spec, col, f"{letter}{header_row + 1}:{letter}{last}",
                               f"{letter}{header_row + 1}")
        if dv is not None:
            ws.add_data_validation(dv)
        if col.name == spec.key:
            state.names[f"List_{spec.name}_{col.name}"] = f"{spec.name}[{col.name}]"
    return last + 1


def anchored(ref: str) -> str:
    """``Calc!B7`` -> ``Calc!$B7``: the column fixed, the row relative (a rule over a range)."""
    return re.sub(r"(^|!)([A-Z]{1,3})(\d+)$", r"\1$\2\3", ref)


def slot_rules(ws, cells: str, flag: str, style: str) -> None:
    """Rows of *cells* whose *flag* (a cell of the first row, e.g. ``Calc!$B7``) is 1 look
    like calculations (``calc``) or outputs (``output``); the others show nothing (no zeros,
    no boxes): empty slots of a block stay blank."""
    thin = Side(style="thin", color="BFBFBF")
    fill = PatternFill("solid", start_color="E2EFDA", end_color="E2EFDA", bgColor="E2EFDA") \
        if style == "output" else None
    in_use = DifferentialStyle(border=Border(left=thin, right=thin, top=thin, bottom=thin),
                               fill=fill)
    blank = DifferentialStyle(numFmt=NumberFormat(numFmtId=200, formatCode=";;;"))
    ws.conditional_formatting.add(cells, Rule(type="expression", dxf=in_use,
                                              formula=[f"{flag}=1"]))
    ws.conditional_formatting.add(cells, Rule(type="expression", dxf=blank,
                                              formula=[f"{flag}<>1"]))


def _slot_rules(state: BuildState, ws, block: Block, layout: BlockLayout, style: str) -> None:
    flag = anchored(_resolve(state, "{" + block.active + "}", layout, 0))
    first_col = min(layout.columns.values())
    last_col = max(layout.columns.values())
    last_row = layout.first_row + layout.capacity - 1
    slot_rules(ws, f"{get_column_letter(first_col)}{layout.first_row}:"
                   f"{get_column_letter(last_col)}{last_row}", flag, style)


def _write_slots(state: BuildState, ws, block: Block, row: int) -> int:
    if not block.name or block.capacity <= 0:
        raise TemplateError(f"slots block on {ws.title} needs a name and a capacity")
    col0 = state.col0
    if block.title:
        write_title(state, ws, row, col0, block.title)
        row += 1
    unit_row, header_row, first = row, row + 1, row + 2
    layout = BlockLayout(ws.title, first, block.capacity,
                         {c.key: col0 + j for j, c in enumerate(block.columns)})
    state.blocks[block.name] = layout
    role = _role_of(state, ws.title)
    style = "output" if role == "output" else "calc"
    if block.active:
        state.block_active[block.name] = block.active
        cell_style = style + "_slot"
    else:
        cell_style = style
    for col in block.columns:
        j = layout.columns[col.key]
        letter = get_column_letter(j)
        _put(state, ws, unit_row, j, col.unit, "unit")
        _put(state, ws, header_row, j, col.header or col.key, "header")
        if col.width:
            ws.column_dimensions[letter].width = col.width
            state.keep_width.add((ws.title, letter))
    for slot in range(block.capacity):
        for col in block.columns:
            fmt = col.number_format if col.number_format != "General" else number_format(col.unit)
            _put(state, ws, first + slot, layout.columns[col.key],
                 _resolve(state, col.formula, layout, slot), cell_style, fmt)
    if block.active:
        _slot_rules(state, ws, block, layout, style)
    return first + block.capacity


def _data_value(state: BuildState, path: str):
    m = re.fullmatch(r"(\w+)\.(\w+)\[(.+)\]", path)
    if not m:
        raise TemplateError(f"bad data reference {path!r} (expected Table.column[key])")
    table, column, key = m.groups()
    spec = TABLES_BY_NAME[table]
    frame = state.inputs[table]
    hit = frame[frame[spec.key].str.casefold() == key.casefold()]
    if hit.empty:
        raise TemplateError(f"no row {key!r} in {table}")
    return hit[column].iloc[0]


def _write_grid(state: BuildState, ws, block: Block, row: int) -> int:
    col0 = state.col0
    if block.title:
        write_title(state, ws, row, col0, block.title)
        row += 1
    for cells in block.rows:
        for j, cell in enumerate(cells, start=col0):
            value = _data_value(state, cell.data) if cell.data else cell.value
            if isinstance(value, str) and value.startswith("="):
                value = _resolve(state, value.replace("{row}", str(row)), None, 0)
            if value is None and not cell.name:
                continue
            style = cell.style or ("calc" if isinstance(value, str) and value.startswith("=") else "label")
            fmt = cell.number_format
            nxt = cells[j - col0 + 1] if j - col0 + 1 < len(cells) else None
            if not fmt and nxt is not None and isinstance(nxt.value, str) and not nxt.style:
                fmt = number_format(nxt.value) if number_format(nxt.value) != "General" else ""
            _put(state, ws, row, j, value, style, fmt)
            if cell.validation:
                ws.add_data_validation(data_validation(
                    "list", cell.validation, f"{get_column_letter(j)}{row}",
                    title=cell.name or f"{ws.title}!{get_column_letter(j)}{row}",
                    error=f"choose one of the values listed in {cell.validation}"))
            if cell.name:
                state.names[cell.name] = f"{_sheet_ref(ws.title)}!${get_column_letter(j)}${row}"
        row += 1
    return row


def _input_checks(state: BuildState) -> list[tuple[str, str]]:
    """One check row per input column, generated from the schema."""
    rows = []
    for name, (sheet, ref, columns) in state.tables.items():
        spec = TABLES_BY_NAME.get(name)
        if spec is None:  # reference data (reference_table blocks): not a schema input table
            continue
        for col in spec.columns:
            if col.name not in columns:
                continue
            r = f"{name}[{col.name}]"
            if col.kind == "number":
                # the workbook has no hidden defaults: a column with a default needs a number too
                required = col.required or col.default is not None
                count = f"(ROWS({r})-COUNT({r}))" if required else f"(COUNTA({r})-COUNT({r}))"
                parts = [count]
                for bound, op in ((col.gt, "<="), (col.ge, "<"), (col.le, ">"), (col.lt, ">=")):
                    if bound is not None:
                        parts.append(f'COUNTIF({r},"{op}{bound:g}")')
                need = f"a number {col.rule_text()}".strip()
                label = f"{r}: {need} in every row" if required else f"{r}: blank or {need}"
                rows.append((label, "=" + "+".join(parts)))
            elif col.required:
                rows.append((f"{r}: no blank cell", f"=ROWS({r})-COUNTA({r})"))
            if col.name == spec.key and spec.unique_key:
                rows.append((f"{r}: no duplicate names",
                             f"=SUMPRODUCT(--(COUNTIF({r},{r})>1))"))
            if col.references:
                t, c = col.references.split(".")
                if t in state.tables:
                    rows.append((f"{r}: every value is a {c} in {t}",
                                 f"=SUMPRODUCT(--(COUNTIF({t}[{c}],{r})=0))"))
    return rows


def _write_checks(state: BuildState, ws, block: Block, row: int) -> int:
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    master_row = row
    _put(state, ws, master_row, 1, "Master check: number of errors (0 = all checks pass)", "header")
    row += 2
    _put(state, ws, row, 1, "check", "header")
    _put(state, ws, row, 2, "errors", "header")
    _put(state, ws, row, 3, "status", "header")
    row += 1
    first = row
    items = [(c.label, c.formula) for c in block.checks if c.severity != "warning"]
    if block.generate_input_checks:
        items += _input_checks(state)
    warnings = [(c.label, c.formula) for c in block.checks if c.severity == "warning"]
    for label, formula in items + warnings:
        status = "WARNING" if row - first >= len(items) else "ERROR"
        _put(state, ws, row, 1, label, "label")
        _put(state, ws, row, 2, _resolve(state, formula, None, 0), "check", "0")
        _put(state, ws, row, 3, f'=IF(B{row}=0,"OK","{status}")', "check")
        row += 1
    last = first + len(items) - 1
    _put(state, ws, master_row, 2, f"=SUM(B{first}:B{last})", "output", "0")
    if warnings:  # counted apart: a warning questions an assumption, it is not a broken model
        _put(state, ws, master_row + 1, 1, "Warnings (not in the master check; see the rows "
                                           "marked WARNING)", "label")
        _put(state, ws, master_row + 1, 2, f"=SUM(B{last + 1}:B{row - 1})", "output", "0")
        state.names["Warning_Count"] = f"{_sheet_ref(ws.title)}!$B${master_row + 1}"
    state.names["Master_Check"] = f"{_sheet_ref(ws.title)}!$B${master_row}"
    red = PatternFill("solid", start_color="F4B6B6", end_color="F4B6B6")
    ws.conditional_formatting.add(f"C{first}:C{row - 1}",
                                  FormulaRule(formula=[f"$B{first}<>0"], fill=red))
    ws.column_dimensions["A"].width = 70
    return row


def _write_reference_table(state, ws, block: Block, row: int) -> int:
    from .reference_blocks import write_reference_table
    return write_reference_table(state, ws, block, row)


def _write_functions(state, ws, block: Block, row: int) -> int:
    from .functions_sheet import write_functions
    return write_functions(state, ws, block, row)


def _write_scenario(state, ws, block: Block, row: int) -> int:
    from . import scenario
    writer = scenario._write_summary_block if block.kind == "scenario_summary" else scenario._write_tab_block
    return writer(state, ws, block, row)


WRITERS = {"text": _write_text, "input_table": _write_input_table, "slots": _write_slots,
           "grid": _write_grid, "checks": _write_checks, "functions": _write_functions,
           "reference_table": _write_reference_table,
           "scenario_tab": _write_scenario, "scenario_summary": _write_scenario}


def _role_of(state: BuildState, sheet_name: str) -> str:
    for s in state.template.sheets:
        if s.name == sheet_name:
            return s.role
    return ""


def _write_header(state: BuildState, ws, sheet: Sheet) -> None:
    _put(state, ws, 1, 1, f"{state.template.title} | {sheet.name}", "title")
    state.spill.update({(ws.title, 1, 1), (ws.title, 2, 1), (ws.title, 3, 1)})
    _put(state, ws, 2, 1, '=IF(Master_Check=0,"Master check: OK",'
                          '"Master check: "&Master_Check&" error(s), see the Checks sheet")', "check")
    red = PatternFill("solid", start_color="F4B6B6", end_color="F4B6B6")
    green = PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE")
    ws.conditional_formatting.add("A2", FormulaRule(formula=["Master_Check<>0"], fill=red))
    ws.conditional_formatting.add("A2", FormulaRule(formula=["Master_Check=0"], fill=green))
    if sheet.purpose:
        _put(state, ws, 3, 1, sheet.purpose, "note")


def _add_chart(state: BuildState, ws, chart: Chart) -> None:
    ev = state.evaluator

    def value_of(sheet: str, coordinate: str):
        letters, row = coordinate_from_string(coordinate)
        return ev.value(sheet, row, column_index_from_string(letters))

    add_chart(state, ws, chart, value_of, TemplateError)


# ------------------------------------------------------------------ base workbook

#: the quickstart's sample macro (``RunPython "import tokencost;tokencost.main()"``), which
#: is not part of the workbook: removed from the VBA project it ships in
SAMPLE_MODULES = ("Module1",)


def required_xlwings() -> str:
    """The xlwings version the package pins (``xlwings==X`` in its dependencies)."""
    from importlib import metadata
    try:
        requirements = metadata.requires("tokencost-xl") or []
    except metadata.PackageNotFoundError:
        requirements = []
    if not requirements:   # running from a source tree that was never installed
        with open(REPO_ROOT / "pyproject.toml", "rb") as fh:
            requirements = tomllib.load(fh)["project"]["dependencies"]
    for req in requirements:
        m = re.fullmatch(r"\s*xlwings\s*==\s*([\w.]+)\s*", req)
        if m:
            return m.group(1)
    raise TemplateError("the package does not pin xlwings (xlwings==X in its dependencies)")


def xlwings_vba_project() -> tuple[bytes, str]:
    """The VBA project of the installed xlwings' standalone workbook without its sample
    macro, and the xlwings version that VBA is for. Refuses an xlwings other than the pin:
    the VBA loads ``xlwings64-<version>.dll``, which only that xlwings installs."""
    import xlwings
    from . import vba
    pin = required_xlwings()
    if xlwings.__version__ != pin:
        raise TemplateError(f"xlwings {xlwings.__version__} is installed but tokencost pins "
                            f"xlwings=={pin}, whose VBA the workbook carries; run "
                            f"`pip install xlwings=={pin}`")
    source = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    with zipfile.ZipFile(source) as zf:
        project = zf.read("xl/vbaProject.bin")
    version = vba.constant(project, "XLWINGS_VERSION")
    if version != pin:
        raise TemplateError(f"xlwings {pin}'s standalone VBA says XLWINGS_VERSION = {version!r}")
    return vba.without_modules(project, SAMPLE_MODULES), version


def _base_workbook(template: Template) -> Workbook:
    if template.base == "xlwings-standalone":
        import xlwings
        project, _version = xlwings_vba_project()
        source = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
        wb = load_workbook(source, keep_vba=True)
        archive = zipfile.ZipFile(io.BytesIO(), "a", zipfile.ZIP_DEFLATED)
        for name in wb.vba_archive.namelist():
            archive.writestr(name, project if name == "xl/vbaProject.bin"
                             else wb.vba_archive.read(name))
        wb.vba_archive = archive
        conf = wb["_xlwings.conf"]
        conf.title = "xlwings.conf"
        for row in conf.iter_rows(min_col=1, max_col=2):
            if row[0].value == "UDF Modules":
                row[1].value = template.udf_modules or None
        for ws in list(wb.worksheets):
            if ws.title != "xlwings.conf":
                wb.remove(ws)
        return wb
    if template.base == "blank":
        wb = Workbook()
        wb.remove(wb.active)
        return wb
    raise TemplateError(f"unknown base {template.base!r} (xlwings-standalone or blank)")


def build_workbook(template: Template, inputs: Inputs) -> BuildState:
    """Lay out the template in a new openpyxl workbook (no file written)."""
    from .scenario import expand_template
    template = expand_template(template, inputs)   # one sheet per [workbook] scenarios entry
    wb = _base_workbook(template)
    state = BuildState(wb, template, inputs)
    _register_styles(wb, template)
    conf = wb["xlwings.conf"] if "xlwings.conf" in wb.sheetnames else None
    for index, sheet in enumerate(template.sheets):
        wb.create_sheet(sheet.name, index)
    for sheet in _write_order(template):
        ws = wb[sheet.name]
        ws.sheet_properties.tabColor = template.role_colors.get(sheet.role, "FFFFFF")
        ws.column_dimensions["A"].width = 34
        for col, width in sheet.column_widths.items():
            ws.column_dimensions[col].width = width
            state.keep_width.add((sheet.name, col))
        _write_header(state, ws, sheet)
        row = template.first_row
        for block in sheet.blocks:
            writer = WRITERS.get(block.kind)
            if writer is None:
                raise TemplateError(f"unknown block kind {block.kind!r} on sheet {sheet.name}")
            at_row, state.col0 = row, 1
            if block.at:
                if block.kind not in ("text", "grid", "slots"):
                    raise TemplateError(f"{sheet.name}: a {block.kind} block cannot be placed "
                                        f"with at = {block.at!r} (text, grid and slots can)")
                letters, at_row = coordinate_from_string(block.at)
                state.col0 = column_index_from_string(letters)
            end = writer(state, ws, block, at_row) + block.gap
            if not block.at or state.col0 == 1:
                row = max(row, end)
        state.col0 = 1
    extents = {}
    for sheet in template.sheets:
        extents[sheet.name] = _fit(state, wb[sheet.name])
    for sheet in template.sheets:
        ws = wb[sheet.name]
        last_row, last_col = extents[sheet.name]
        for chart in sheet.charts:
            _add_chart(state, ws, chart)
            r, c = chart_extent(ws, chart.anchor, chart.width_cm, chart.height_cm)
            last_row, last_col = max(last_row, r), max(last_col, c)
        page_setup(ws, last_row=last_row, last_col=last_col, title=template.title,
                   scenario=_scenario_label(state, sheet), orientation=sheet.orientation,
                   title_rows=sheet.print_title_rows or None, paper=template.paper,
                   fit_height=sheet.fit_height)
    if conf is not None:
        conf.sheet_properties.tabColor = template.role_colors.get("control", "FFFFFF")
        for r, row in enumerate(conf.iter_rows(), start=1):
            for c, cell in enumerate(row, start=1):
                if cell.value is not None:
                    state.cells[(conf.title, r, c)] = cell.value
    for name, target in sorted(state.names.items()):
        wb.defined_names[name] = DefinedName(name, attr_text=target)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is wb.worksheets[0]
    wb.properties.creator = "tokencost"
    wb.properties.lastModifiedBy = "tokencost"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.title = template.title
    return state


def _write_order(template: Template) -> list[Sheet]:
    """The sheets in an order that writes each block before a formula names it
    (``{Block.key}`` needs the block's layout): the tab order, except that a sheet
    waits for the sheets holding the blocks it reads (a Dashboard before Calc)."""
    home = {b.name: s.name for s in template.sheets for b in s.blocks if b.name}
    needs = {}
    for sheet in template.sheets:
        texts = [c.formula for b in sheet.blocks for c in b.columns]
        texts += [str(cell.value) for b in sheet.blocks for r in b.rows for cell in r]
        texts += [c.formula for b in sheet.blocks for c in b.checks]
        texts += [b.active for b in sheet.blocks]
        used = {m.group(1) for t in texts for m in _PLACEHOLDER.finditer(t) if m.group(2)}
        used |= {t.partition(".")[0] for b in sheet.blocks for t in (b.active,) if "." in t}
        needs[sheet.name] = {home[b] for b in used if b in home} - {sheet.name}
    done, order, pending = set(), [], list(template.sheets)
    while pending:
        ready = [s for s in pending if needs[s.name] <= done]
        if not ready:
            raise TemplateError("sheets read each other's blocks in a circle: "
                                + ", ".join(s.name for s in pending))
        first = ready[0]
        order.append(first)
        done.add(first.name)
        pending.remove(first)
    return order


def value_of_cell(state: BuildState, sheet: str, row: int, col: int):
    """A built cell's value: a UDF cell's fixed value, else what the evaluator computes."""
    key = (sheet, row, col)
    if key in state.fixed_values:
        return state.fixed_values[key]
    return state.evaluator.value(*key)


def _fit(state: BuildState, ws) -> tuple[int, int]:
    """Fit the columns and rows of a written sheet; the (row, col) its content reaches."""
    spill = {(r, c) for s, r, c in state.spill if s == ws.title}
    keep = {letter for s, letter in state.keep_width if s == ws.title}
    fitted = fit_sheet(ws, lambda r, c: value_of_cell(state, ws.title, r, c), spill=spill,
                       keep_width=keep)
    return fitted.last_row, fitted.last_col


def _scenario_label(state: BuildState, sheet: Sheet) -> str:
    """What a printed page says about the inputs it shows."""
    if any(entry.get("name") == sheet.name for entry in state.template.scenarios):
        return f"Scenario: {sheet.name}"
    return "Scenario: base case (the input tables)"


def check_writable(target: Path) -> Path:
    """The file *target* names (a symbolic link resolved), or :class:`OutputError` when it
    plainly cannot be written: a folder, a read-only file, a parent that is a file. For
    commands to check their targets before long work; :func:`write_atomic` checks too."""
    target = Path(target)
    if target.is_symlink():   # replace the file the link points to, not the link
        target = target.resolve()
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; name a file to write")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{target}: cannot write: the file is read-only")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{target}: cannot write in {parent}: it is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"{target}: cannot write in {parent}: permission denied")
            break
    return target


def write_atomic(save, target: Path, backup: bool = True) -> Optional[Path]:
    """Call ``save(tmp_path)``, then rename the temporary file over *target*.

    The temporary file is made in *target*'s folder (so the rename is atomic); an
    existing *target* is first copied to ``<target>.bak`` (through a temporary
    file of its own, renamed into place). Returns the backup path.

    Nothing is left behind when anything fails or is interrupted (Ctrl-C) before
    the rename: *target* keeps its content, no temporary file remains, the old
    ``.bak`` is untouched. A target that cannot be written (a folder, a read-only
    file, a folder that cannot be created or written) raises :class:`OutputError`,
    one line naming the file, before anything is written.
    """
    target = check_writable(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix,
                                   dir=target.parent)
    except OSError as err:
        raise OutputError(f"{target}: cannot write in {target.parent}: "
                          f"{err.strerror or err}") from None
    os.close(fd)
    tmp_bak = None
    try:
        save(tmp)
        # mkstemp makes the file private (0600); give it the mode of the file it replaces,
        # or the mode a new file gets under the user's umask (workbooks are meant to be shared)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        bak = None
        if backup and target.exists():
            bak = target.with_name(target.name + ".bak")
            if bak.is_dir():
                raise OutputError(f"{bak}: is a folder, so {target.name} cannot be backed up; "
                                  "move it away or use --no-backup")
            fd, tmp_bak = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".bak",
                                           dir=target.parent)
            os.close(fd)
            shutil.copy2(target, tmp_bak)
            os.replace(tmp_bak, bak)   # the backup is whole before the target changes
            tmp_bak = None
        os.replace(tmp, target)
        return bak
    except OSError as err:
        raise OutputError(f"{target}: cannot write: {err.strerror or err}") from None
    finally:
        for leftover in (tmp, tmp_bak):
            if leftover is not None and os.path.exists(leftover):
                os.unlink(leftover)


def save_with_cached_values(state: BuildState, path: str) -> int:
    """Save the workbook to *path* and store every formula's computed value."""
    state.wb.save(path)

    def value_of(sheet, coordinate):
        letters, row = coordinate_from_string(coordinate)
        return value_of_cell(state, sheet, row, column_index_from_string(letters))

    return inject_cached_values(path, value_of, modified=FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"))


def build(output: Optional[Path] = None, template: str = "main", inputs: Optional[Inputs] = None,
          backup: bool = True) -> Path:
    """Build a template into a workbook file (default: the main template at the repo root)."""
    from ..datasets import load_defaults
    spec = load_template(template_path(template))
    inputs = inputs if inputs is not None else load_defaults()
    target = Path(output) if output is not None else REPO_ROOT / spec.output
    state = build_workbook(spec, inputs)
    write_atomic(lambda tmp: save_with_cached_values(state, tmp), target, backup=backup)
    return target
