"""Write a workbook from a template spec and the input dataset (openpyxl).

Data flows one way: template (layout, formulas; :mod:`tokencost.workbook.spec`) +
validated inputs (rows of the input tables) -> openpyxl workbook (the block writers
of :mod:`.blocks`, the scenario tabs of :mod:`.scenario_tabs`, the Functions sheet,
the reference tables) -> column widths, row heights and page setup
(:mod:`tokencost.workbook.layout`) -> charts (:mod:`tokencost.workbook.charts`) ->
cached values from :mod:`tokencost.workbook.formula` -> file written atomically.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.workbook.defined_name import DefinedName

from ...inputs.validate import Inputs
from ..cached import inject_cached_values
from ..cells import register_styles, write_header
from ..charts import add_chart
from ..files import write_atomic
from ..layout import chart_extent, fit_sheet, page_setup
from ..spec import REPO_ROOT, Chart, Sheet, Template, TemplateError, load_template, template_path
from . import functions_sheet, reference_blocks, scenario_tabs, timeline
from .scenario_tabs import expand_template
from .base import base_workbook
from .blocks import write_checks, write_grid, write_input_table, write_slots, write_text
from .state import PLACEHOLDER, BuildState, value_of_cell

FIXED_TIME = datetime(2026, 1, 1)



WRITERS = {"text": write_text, "input_table": write_input_table, "slots": write_slots,
           "grid": write_grid, "checks": write_checks, "functions": functions_sheet.write_functions,
           "reference_table": reference_blocks.write_reference_table,
           "scenario_tab": scenario_tabs.write_tab_block,
           "scenario_summary": scenario_tabs.write_summary_block,
           "parameters": timeline.write_parameters, "timeline": timeline.write_timeline}



def _add_chart(state: BuildState, ws, chart: Chart) -> None:
    ev = state.evaluator

    def value_of(sheet: str, coordinate: str):
        letters, row = coordinate_from_string(coordinate)
        return ev.value(sheet, row, column_index_from_string(letters))

    add_chart(state, ws, chart, value_of, TemplateError)



def _tab_layout_once():
    """``BuildState -> TabLayout`` computed on first use (a scratch tab), then remembered."""
    found = []

    def layout(state: BuildState):
        if not found:
            found.append(scenario_tabs.prototype_layout(state.template))
        return found[0]
    return layout


def build_workbook(template: Template, inputs: Inputs) -> BuildState:
    """Lay out the template in a new openpyxl workbook (no file written)."""
    template = expand_template(template, inputs)   # one sheet per [workbook] scenarios entry
    wb = base_workbook(template)
    state = BuildState(wb, template, inputs, tab_layout=_tab_layout_once())
    register_styles(wb, template)
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
        write_header(state, ws, sheet)
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
                   fit_height=sheet.fit_height, fit_width=sheet.fit_width,
                   title_cols=sheet.print_title_cols or None)
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
        used = {m.group(1) for t in texts for m in PLACEHOLDER.finditer(t) if m.group(2)}
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
    from ...inputs.datasets import load_defaults
    spec = load_template(template_path(template))
    inputs = inputs if inputs is not None else load_defaults()
    target = Path(output) if output is not None else REPO_ROOT / spec.output
    state = build_workbook(spec, inputs)
    write_atomic(lambda tmp: save_with_cached_values(state, tmp), target, backup=backup)
    return target
