"""Scenario tabs in an analyst's workbook: list, add and remove them (``tokencost
scenario``). A tab is laid out by :mod:`tokencost.workbook.build.scenario_tabs` (the
same writer a build uses); this module finds the tabs of an existing book, writes a new
one into it and removes one, through an edit session that never loses the analyst's work.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from ...errors import InputError, WorkbookError
from ...inputs.schema import overridable_inputs
from ..build.scenario_tabs import (NAMES_NAME, TabLayout, TabSpec, col_range, load_tab_spec, name_problem,
                                   overridable_names, prototype_layout, write_tab)
from ..build.state import BuildState
from ..cells import put, register_styles, write_header
from ..read import scenario_tab_overrides
from ..spec import Sheet, Template
from ..gate import check_readable
from .inventory import require_workbook_suffix
from .refresh import values_after_edit
from .session import EditSession

# ------------------------------------------------------------------ existing workbooks

@dataclass
class ScenarioInfo:
    name: str
    overrides: dict          # every filled override cell, as typed
    in_summary: bool
    invalid: dict = field(default_factory=dict)   # name -> why (not a number, must be ...)
    shown: list = field(default_factory=list)     # "name=value", invalid ones quoted and flagged


def _marker(tab: TabSpec) -> tuple:
    """(start of cell A3, first and second overrides header): how a scenario tab is recognised."""
    return (tab.purpose.split(":")[0] + ":",) + tuple(tab.overrides_headers[:2])


def _tab_overrides(ws, tab: TabSpec):
    """The filled overrides of *ws* (:class:`tokencost.workbook.read.TabOverride`), or None
    when *ws* is not a scenario tab."""
    return scenario_tab_overrides(lambda r, c: ws.cell(r, c).value, _marker(tab))


def _is_tab(ws, tab: TabSpec) -> bool:
    return _tab_overrides(ws, tab) is not None


def _names_row_ranges(wb):
    """(sheet, min_col, min_row, max_col, max_row) of each range of the Scenarios sheet's
    names row (none when the workbook has no such name)."""
    dn = wb.defined_names.get(NAMES_NAME)
    if dn is None:
        return
    for sheet, ref in dn.destinations:
        if sheet in wb.sheetnames:
            yield (sheet, *range_boundaries(ref.replace("$", "")))


def _name_cells(wb):
    """[(sheet, row, col)] of the Scenarios sheet's names row, or [] when there is none."""
    return [(sheet, r, c) for sheet, c1, r1, c2, r2 in _names_row_ranges(wb)
            for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _listed_names(wb) -> list[str]:
    return [str(wb[s].cell(r, c).value).strip() for s, r, c in _name_cells(wb)
            if wb[s].cell(r, c).value not in (None, "")]


def list_scenarios(book) -> list[ScenarioInfo]:
    """Every scenario tab of *book* (hand-made copies included), in sheet order. Reads the
    book without changing it: openpyxl's read-only mode (it parses no chart or drawing, so
    a chart openpyxl cannot load does not stop a listing) and only each sheet's first rows."""
    import warnings
    from openpyxl import load_workbook
    from ..read import SCENARIO_HEADER_ROWS
    require_workbook_suffix(book)
    check_readable(book)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(book, read_only=True)
    try:
        tab = load_tab_spec()
        depth = SCENARIO_HEADER_ROWS + len(overridable_inputs()) + 2
        heads = {}
        for ws in wb.worksheets:
            rows = ws.iter_rows(min_row=1, max_row=depth, max_col=2, values_only=True)
            heads[ws.title] = {(r, c): v for r, row in enumerate(rows, start=1)
                               for c, v in enumerate(row, start=1) if v is not None}
        listed = {n.casefold() for n in _listed_names_read_only(wb)}
        out = []
        for title, cells in heads.items():
            found = scenario_tab_overrides(lambda r, c, cells=cells: cells.get((r, c)), _marker(tab))
            if found is not None:
                out.append(ScenarioInfo(title, {o.name: o.value for o in found},
                                        title.casefold() in listed,
                                        {o.name: o.problem for o in found if o.problem},
                                        [o.shown() for o in found]))
        return out
    finally:
        wb.close()


def _listed_names_read_only(wb) -> list[str]:
    """The names typed in the Scenarios sheet's names row of a read-only workbook."""
    out = []
    for sheet, c1, r1, c2, r2 in _names_row_ranges(wb):
        for row in wb[sheet].iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2,
                                       values_only=True):
            out += [str(v).strip() for v in row if v not in (None, "")]
    return out


def _tab_insert_index(wb, tab: TabSpec) -> int:
    names = wb.sheetnames
    last = None
    for i, ws in enumerate(wb.worksheets):
        if _is_tab(ws, tab) or ws.title.casefold() == "scenarios":
            last = i
    if last is not None:
        return last + 1
    for anchor in ("Checks", "xlwings.conf"):
        if anchor in names:
            return names.index(anchor)
    return len(names)


_SUMMARY_RANGE = re.compile(r"'!(\$[A-Z]+\$\d+(?::\$[A-Z]+\$\d+)?)\"")


def _check_summary_layout(wb, proto: TabLayout) -> None:
    """Refuse when the Scenarios sheet reads tabs laid out unlike the tab this version writes."""
    cells = _name_cells(wb)
    if not cells:
        return
    expected = {col_range(layout, key) for layout in proto.blocks.values() for key in layout.columns}
    expected |= {f"${get_column_letter(c)}${r}" for r, c in (proto.marker, proto.count, proto.invalid)}
    ws = wb[cells[0][0]]
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and "INDIRECT(" in c.value:
                for rng in _SUMMARY_RANGE.findall(c.value):
                    if rng not in expected:
                        raise WorkbookError(
                            f"the {ws.title} sheet ({c.coordinate}) reads scenario tabs laid out "
                            "differently from the tab this version of tokencost writes; rebuild "
                            "the workbook or add the scenario by copying an existing tab in Excel")


def _validated_overrides(overrides: Mapping[str, float], template: Template) -> dict[str, float]:
    from ...inputs.datasets import load_defaults
    names = overridable_names(template)
    for name in overrides:
        if name not in names:
            known = overridable_inputs()
            why = "is not an input name" if name not in known else \
                "is not used by the workbook's cost calculation"
            raise InputError(f"--set {name}", f"{name} {why}; a scenario tab can override: "
                                              f"{', '.join(names)}")
    # numbers the inputs accept (bounds, whole numbers), with results that stay finite: the
    # tab's cells get cached values, and a cell cannot hold an infinite number
    from ...analysis.model import evaluate
    evaluate(load_defaults().with_overrides(dict(overrides),
                                            {name: f"--set {name}" for name in overrides}))
    return {k: float(v) for k, v in overrides.items()}


def _main_template() -> Template:
    from ..spec import load_template, template_path
    return load_template(template_path("main"))


def _check_new_name(book, name: str, wb) -> None:
    problem = name_problem(name, wb.sheetnames)
    if problem:
        raise WorkbookError(f"{book}: {problem}")
    _free_name_cells(book, wb)


def _free_name_cells(book, wb) -> list:
    """The empty cells of the Scenarios sheet's names row; refuses a full row."""
    cells = _name_cells(wb)
    free = [(s, r, c) for s, r, c in cells if wb[s].cell(r, c).value in (None, "")]
    if cells and not free:
        raise WorkbookError(f"{book}: the Scenarios sheet lists {len(cells)} scenarios, its "
                            "maximum; clear a name there (or remove a scenario) first")
    return free


def add_scenario(book, name: str, overrides: Mapping[str, float], output=None, backup: bool = True,
                 template: Optional[Template] = None):
    """Add a scenario tab *name* with *overrides* to *book* (in place, or to *output*) and
    list it on the Scenarios sheet, in one :class:`~.session.EditSession`. Returns its
    :class:`~.session.Rewritten`."""
    book = Path(book)
    template = template or _main_template()
    overrides = _validated_overrides(overrides, template)
    problem = name_problem(name, ())   # the name itself, before the book is read
    if problem:
        raise WorkbookError(f"{book}: {problem}")
    tab = load_tab_spec()
    with EditSession(book, output, backup=backup) as session:
        wb = session.wb
        _check_new_name(book, name, wb)
        missing = sorted({"Hardware", "CostComponents", "Models", "Prices", "Subscriptions"}
                         - {t for ws in wb.worksheets for t in ws.tables})
        if missing:
            raise WorkbookError(f"{book}: no input table {', '.join(missing)}; a scenario tab "
                                "reads the tables of tokencost.xlsm")
        _check_summary_layout(wb, prototype_layout(template))
        free = _free_name_cells(book, wb)
        state = BuildState(wb, template, None)
        register_styles(wb, template)
        ws = wb.create_sheet(name, _tab_insert_index(wb, tab))
        ws.sheet_properties.tabColor = template.role_colors.get(tab.role, "FFFFFF")
        ws.column_dimensions["A"].width = 34
        sheet = Sheet(name=name, role=tab.role, purpose=tab.purpose)
        if "Master_Check" in wb.defined_names:
            write_header(state, ws, sheet)
        else:
            put(state, ws, 3, 1, tab.purpose, "note")
        write_tab(state, ws, overrides, template.first_row)
        fresh = set(state.cells)
        if free:
            s_, r, c = free[0]
            wb[s_].cell(r, c).value = name
            fresh.add((s_, r, c))
        return session.write(values_after_edit(wb, session.cached, fresh))


def _direct_references(wb, sheet: str) -> Optional[str]:
    """The first cell or name outside *sheet* whose formula names *sheet* directly."""
    bare = re.escape(sheet)
    pattern = re.compile(r"(?:'" + re.escape(sheet.replace("'", "''")) + r"'|(?<![\w.'])" + bare + r")!",
                         re.IGNORECASE)
    for ws in wb.worksheets:
        if ws.title == sheet:
            continue
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("=") and pattern.search(c.value):
                    return f"{ws.title}!{c.coordinate}"
    for n, dn in wb.defined_names.items():
        if dn.attr_text and pattern.search(dn.attr_text):
            return f"the defined name {n}"
    return None


def remove_scenario(book, name: str, output=None, backup: bool = True):
    """Remove scenario tab *name* from *book* and clear it from the Scenarios sheet's list.
    Refuses a sheet that is not a scenario tab and a tab other cells refer to directly."""
    book = Path(book)
    tab = load_tab_spec()
    with EditSession(book, output, backup=backup) as session:
        wb = session.wb
        actual = next((s_ for s_ in wb.sheetnames if s_.casefold() == name.casefold()), None)
        if actual is None:
            tabs = [ws.title for ws in wb.worksheets if _is_tab(ws, tab)]
            raise WorkbookError(f"{book}: no scenario tab named {name!r} (scenario tabs: "
                                f"{', '.join(tabs) or 'none'}; `tokencost scenario list` shows them)")
        if not _is_tab(wb[actual], tab):
            raise WorkbookError(f"{book}: sheet {actual!r} is not a scenario tab; refusing to remove it")
        where = _direct_references(wb, actual)
        if where:
            raise WorkbookError(f"{book}: {where} refers to sheet {actual!r}; removing the tab "
                                "would break that formula (change it first)")
        index = wb.sheetnames.index(actual)
        wb.remove(wb[actual])
        fresh = set()
        for s_, r, c in _name_cells(wb):
            if str(wb[s_].cell(r, c).value or "").strip().casefold() == actual.casefold():
                wb[s_].cell(r, c).value = None
                fresh.add((s_, r, c))
        wb.active = max(0, min(index - 1, len(wb.sheetnames) - 1))
        for i, ws in enumerate(wb.worksheets):
            ws.sheet_view.tabSelected = i == wb.index(wb.active)
        return session.write(values_after_edit(wb, session.cached, fresh))
