"""Block kinds ``parameters`` (named input cells from a data file) and ``timeline``
(time across columns, one formula per row).

``parameters``
    A name/value data file of the package (``data_file``, columns ``name, value,
    unit, description, source``; e.g. ``lifecycle.csv``) written as one row per
    parameter: its name, an input cell holding the value (a defined name
    ``prefix + name``, e.g. ``Life_horizon_years``), the unit, the description and
    the source. A blank value stays a blank input cell (the formulas read blank as
    "take the default" with ``ISNUMBER``). ``validations`` gives dropdowns
    (``{workload = "List_Workloads_workload"}``), ``number_formats`` formats.
    A numeric cell is guarded by data validation (a number or blank); text
    parameters by their dropdown.

``timeline``
    FAST-standard time rows: column A the row's label, B its total (``total = "sum"``),
    C its unit, then ``capacity`` period columns from D. Each
    ``columns`` entry is a row whose formula is written once and copied across, so
    every row holds one formula (R1C1-identical). Placeholders: ``{key}`` this
    period's cell of row *key*, ``{key@prev}`` the previous period's (for the first
    period the unit column, text that ``N()`` reads as 0), ``{key@first}``, ``{key[]}``
    the whole row, ``{Block.key}`` / ``{Block.key[]}`` from other blocks. ``active``
    names the row of 0/1 flags marking the periods in use: the others are shown
    grey, their values kept (0).
"""
from __future__ import annotations

import math

from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter

from ..cells import put, sheet_ref, write_title
from ..numbers import number_format
from ..spec import REPO_ROOT, Block, TemplateError
from ..validation import data_validation
from .reference_blocks import read_reference
from .state import BuildState, TimelineLayout, resolve

#: the columns of a timeline block before its first period
LABEL_COL, TOTAL_COL, UNIT_COL, FIRST_PERIOD_COL = 1, 2, 3, 4


def _value(text: str):
    text = (text or "").strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def write_parameters(state: BuildState, ws, block: Block, row: int) -> int:
    """Write a ``parameters`` block at *row*; return the next free row."""
    if not block.data_file or not block.prefix:
        raise TemplateError(f"parameters block on {ws.title} needs a data_file and a prefix")
    try:
        frame = read_reference(block.data_file, REPO_ROOT)
    except FileNotFoundError as err:
        raise TemplateError(str(err)) from None
    missing = {"name", "value", "unit", "description", "source"} - set(frame.columns)
    if missing:
        raise TemplateError(f"parameters block: {block.data_file} has no column(s) {sorted(missing)}")
    unknown = (set(block.validations) | set(block.number_formats)) - set(frame["name"])
    if unknown:
        raise TemplateError(f"parameters block: {block.data_file} has no parameter(s) {sorted(unknown)}")
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    for j, header in enumerate(("parameter", "value", "unit", "description", "source"), start=1):
        put(state, ws, row, j, header, "header")
    row += 1
    for _, p in frame.iterrows():
        name = str(p["name"]).strip()
        value = _value(p["value"])
        fmt = block.number_formats.get(name, "")
        if not fmt and isinstance(value, float) or (value is None and name not in block.validations):
            fmt = fmt or number_format(str(p["unit"]))
        put(state, ws, row, 1, name, "label")
        cell = put(state, ws, row, 2, value, "input", fmt if fmt != "General" else "")
        put(state, ws, row, 3, str(p["unit"]), "unit")
        for j, column in ((4, "description"), (5, "source")):
            note = put(state, ws, row, j, str(p[column]), "note")
            note.alignment = Alignment(wrap_text=False)
        ref = f"B{row}"
        defined = f"{block.prefix}{name}"
        state.names[defined] = f"{sheet_ref(ws.title)}!$B${row}"
        if name in block.validations:
            ws.add_data_validation(data_validation(
                "list", block.validations[name], ref, title=defined,
                error=f"choose one of the values listed in {block.validations[name]}"))
        else:
            ws.add_data_validation(data_validation(
                "custom", f"OR(ISBLANK({ref}),ISNUMBER({ref}))", ref, title=defined,
                error=f"{defined} must be a number or blank", allow_blank=True))
        del cell
        row += 1
    return row


def write_timeline(state: BuildState, ws, block: Block, row: int) -> int:
    """Write a ``timeline`` block at *row*; return the next free row."""
    if not block.name or block.capacity <= 0:
        raise TemplateError(f"timeline block on {ws.title} needs a name and a capacity")
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    header_row = row
    first = header_row + 1
    layout = TimelineLayout(ws.title, FIRST_PERIOD_COL, block.capacity,
                            {c.key: first + i for i, c in enumerate(block.columns)}, TOTAL_COL)
    state.blocks[block.name] = layout
    for j, text in ((LABEL_COL, "row"), (TOTAL_COL, "total"), (UNIT_COL, "unit")):
        put(state, ws, header_row, j, text, "header")
    last_col = FIRST_PERIOD_COL + block.capacity - 1
    for i, col in enumerate(block.columns):
        r = first + i
        style = col.style or "calc"
        fmt = col.number_format if col.number_format != "General" else number_format(col.unit)
        put(state, ws, r, LABEL_COL, col.header or col.key, "label")
        put(state, ws, r, UNIT_COL, col.unit, "unit")
        if col.total == "sum":
            lo, hi = get_column_letter(FIRST_PERIOD_COL), get_column_letter(last_col)
            put(state, ws, r, TOTAL_COL, f"=SUM({lo}{r}:{hi}{r})", style, fmt)
        elif col.total:
            raise TemplateError(f"timeline {block.name}: unknown total {col.total!r} (sum)")
        for period in range(block.capacity):
            put(state, ws, r, FIRST_PERIOD_COL + period, resolve(state, col.formula, layout, period),
                style, fmt)
    for period in range(block.capacity):
        ws.column_dimensions[get_column_letter(FIRST_PERIOD_COL + period)].width = 14
        state.keep_width.add((ws.title, get_column_letter(FIRST_PERIOD_COL + period)))
    if block.active:
        if block.active not in layout.rows:
            raise TemplateError(f"timeline {block.name}: no row {block.active!r} for active")
        flag_row = layout.rows[block.active]
        cells = (f"{get_column_letter(FIRST_PERIOD_COL)}{first}:"
                 f"{get_column_letter(last_col)}{first + len(block.columns) - 1}")
        grey = DifferentialStyle(font=Font(color="A6A6A6"))
        ws.conditional_formatting.add(cells, Rule(
            type="expression", dxf=grey,
            formula=[f"{get_column_letter(FIRST_PERIOD_COL)}${flag_row}<>1"]))
    ws.freeze_panes = ws.cell(first, FIRST_PERIOD_COL)
    return first + len(block.columns)
