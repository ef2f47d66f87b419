"""Writing cells, styles and the look of blocks: shared by building a workbook from a
template and by editing one in place (a scenario tab added to an analyst's book is
written with these).

The ``state`` these functions take is a :class:`tokencost.workbook.build.state.BuildState`
(the cells written so far, for the evaluator, and the sheets' spill cells); they use
only its ``cells``, ``spill`` and ``template`` attributes.
"""
from __future__ import annotations

import re

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat

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


def sheet_ref(sheet: str) -> str:
    return f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet



def put(state, ws, row: int, col: int, value, style: str = "", number_format: str = ""):
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



def register_styles(wb: Workbook, template) -> None:
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



def write_title(state, ws, row: int, col: int, text: str) -> None:
    """A block's title: one line in the section style, spilling over the cells to its right."""
    put(state, ws, row, col, text, "section")
    state.spill.add((ws.title, row, col))
    ws.row_dimensions[row].height = 18



def write_header(state, ws, sheet) -> None:
    put(state, ws, 1, 1, f"{state.template.title} | {sheet.name}", "title")
    state.spill.update({(ws.title, 1, 1), (ws.title, 2, 1), (ws.title, 3, 1)})
    put(state, ws, 2, 1, '=IF(Master_Check=0,"Master check: OK",'
                          '"Master check: "&Master_Check&" error(s), see the Checks sheet")', "check")
    red = PatternFill("solid", start_color="F4B6B6", end_color="F4B6B6")
    green = PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE")
    ws.conditional_formatting.add("A2", FormulaRule(formula=["Master_Check<>0"], fill=red))
    ws.conditional_formatting.add("A2", FormulaRule(formula=["Master_Check=0"], fill=green))
    if sheet.purpose:
        put(state, ws, 3, 1, sheet.purpose, "note")



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
