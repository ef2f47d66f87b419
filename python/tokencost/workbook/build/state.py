"""The state of a build: where every block is, and every cell written so far.

Formulas in templates name cells by placeholders (``{key}``, ``{Block.key}``,
``{Block.key[]}``, ``{key@first}``; :mod:`tokencost.workbook.spec`):
:func:`resolve` turns them into A1 references from the blocks' layouts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ...inputs.validate import Inputs
from ..cells import sheet_ref
from ..formula import Evaluator
from ..spec import Template, TemplateError

#: ``{key}``, ``{Block.key}`` with an optional suffix: ``[]`` the column's range, ``@first`` its
#: first cell, ``@prev`` a timeline's previous period, ``[]@tab(On,Name)`` the column's range on
#: the scenario tab whose name the defined name *Name* holds when the flag name *On* is 1, else
#: the base range (``CHOOSE(On+1,base,INDIRECT("'"&Name&"'!range"))``; a base block a scenario
#: tab re-derives, at the place every tab has it)
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?"
                         r"(\[\]|@first|@prev|\[\]@tab\(([A-Za-z_]\w*),([A-Za-z_]\w*)\))?\}")


@dataclass
class BlockLayout:
    sheet: str
    first_row: int                 # first data row
    capacity: int
    columns: Dict[str, int]        # key -> column index


@dataclass
class TimelineLayout:
    """A ``timeline`` block: one row per quantity, one column per period (time runs across)."""
    sheet: str
    first_col: int                 # column of the first period
    capacity: int                  # periods
    rows: Dict[str, int]           # key -> row number
    total_col: int = 0             # column of each row's total (0: none)

    @property
    def columns(self) -> Dict[str, int]:   # the keys a placeholder may name
        return self.rows



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
    #: the layout every scenario tab has (BuildState -> TabLayout), for ``[]@tab`` placeholders
    tab_layout: Optional[Callable] = None
    _evaluator: Optional[Evaluator] = None

    @property
    def evaluator(self) -> Evaluator:
        """One evaluator over the built cells (its values are computed once)."""
        if self._evaluator is None:
            self._evaluator = Evaluator(self.cells, self.tables, self.names)
        return self._evaluator



def resolve(state: BuildState, formula: str, block: Optional[BlockLayout], slot: int) -> str:
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
        if isinstance(target, TimelineLayout):
            return _timeline_ref(target, key, suffix, slot, same_sheet, formula)
        if suffix == "@prev":
            raise TemplateError(f"{{...@prev}} is for timeline blocks only, in {formula!r}")
        col = get_column_letter(target.columns[key])
        prefix = "" if same_sheet else sheet_ref(target.sheet) + "!"
        if suffix and suffix.startswith("[]@tab"):
            return _tab_switch(state, first, key, m.group(4), m.group(5), formula,
                               f"{prefix}${col}${target.first_row}:${col}${target.first_row + target.capacity - 1}")
        if suffix == "[]":
            last = target.first_row + target.capacity - 1
            return f"{prefix}${col}${target.first_row}:${col}${last}"
        if suffix == "@first":
            return f"{prefix}{col}${target.first_row}"
        return f"{prefix}{col}{target.first_row + slot}"
    return PLACEHOLDER.sub(repl, formula)



def _tab_switch(state: BuildState, block: str, key: str, flag: str, name: str, formula: str,
                base: str) -> str:
    """``{Block.key[]@tab(flag,name)}``: the base range, or the same range on a scenario tab."""
    tabs = state.tab_layout(state) if state.tab_layout else None
    if tabs is None or block not in tabs.blocks:
        raise TemplateError(f"{{{block}.{key}[]@tab(...)}}: {block} is not a block a scenario tab "
                            f"re-derives, in {formula!r}")
    layout = tabs.blocks[block]
    col = get_column_letter(layout.columns[key])
    there = f"${col}${layout.first_row}:${col}${layout.first_row + layout.capacity - 1}"
    return f"CHOOSE({flag}+1,{base},INDIRECT(\"'\"&{name}&\"'!{there}\"))"


def _timeline_ref(target: TimelineLayout, key: str, suffix, period: int, same_sheet: bool,
                  formula: str) -> str:
    """``{key}`` this period's cell of row *key*; ``{key@prev}`` the previous period's (for the
    first period: the empty spacer column before it, which N() reads as 0); ``{key@first}`` the
    first period, column-absolute; ``{key[]}`` the whole row."""
    prefix = "" if same_sheet else sheet_ref(target.sheet) + "!"
    row = target.rows[key]
    first = get_column_letter(target.first_col)
    if suffix == "[]":
        last = get_column_letter(target.first_col + target.capacity - 1)
        return f"{prefix}${first}${row}:${last}${row}"
    if suffix == "@first":
        return f"{prefix}${first}{row}"
    col = target.first_col + period - (1 if suffix == "@prev" else 0)
    if col < 1:
        raise TemplateError(f"no column before the first period in {formula!r}")
    return f"{prefix}{get_column_letter(col)}{row}"


def role_of(state: BuildState, sheet_name: str) -> str:
    for s in state.template.sheets:
        if s.name == sheet_name:
            return s.role
    return ""



def value_of_cell(state: BuildState, sheet: str, row: int, col: int):
    """A built cell's value: a UDF cell's fixed value, else what the evaluator computes."""
    key = (sheet, row, col)
    if key in state.fixed_values:
        return state.fixed_values[key]
    return state.evaluator.value(*key)
