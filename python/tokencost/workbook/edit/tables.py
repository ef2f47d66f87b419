"""Grow an Excel Table of an analyst's workbook the way Excel does (openpyxl).

Typing a row directly under a table makes Excel extend it; :func:`append_rows`
does the same in a loaded workbook: it writes the values under the last row,
copies that row's style and number format, extends the table's range (and its
auto-filter) and every data-validation range that ended at the table's last
row, so dropdowns and number rules cover the new rows too. It refuses, rather
than overwrite, when the cells under the table are not empty.
"""
from __future__ import annotations

import copy
from typing import Mapping, Sequence

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.cell_range import CellRange

from ...errors import WorkbookError
from ...inputs.schema import TABLES
from .refresh import values_after_edit
from .session import EditSession


def find_table(wb, name: str):
    """(worksheet, table) of the Excel Table *name* (case-insensitive), or WorkbookError."""
    for ws in wb.worksheets:
        for table in ws.tables.values():
            if table.displayName.casefold() == name.casefold():
                return ws, table
    raise WorkbookError(f"the workbook has no Excel Table named {name}")


def append_rows(wb, table_name: str, rows: Sequence[Mapping[str, object]]) -> set:
    """Append *rows* ({column header: value}, headers matched case-insensitively;
    columns a row leaves out stay blank) to Excel Table *table_name*.

    Returns the ``(sheet, row, column)`` keys of the cells written (for
    :func:`tokencost.workbook.edit.refresh.values_after_edit`).
    """
    ws, table = find_table(wb, table_name)
    c1, r1, c2, r2 = range_boundaries(table.ref)
    headers = {str(ws.cell(r1, c).value or "").strip().casefold(): c for c in range(c1, c2 + 1)}
    for row in rows:
        unknown = [k for k in row if k.casefold() not in headers]
        if unknown:
            raise WorkbookError(f"table {table.displayName} on sheet {ws.title!r} has no column "
                                f"{unknown[0]!r}")
    n = len(rows)
    if n == 0:
        return set()
    for r in range(r2 + 1, r2 + n + 1):
        for c in range(c1, c2 + 1):
            if ws.cell(r, c).value not in (None, ""):
                raise WorkbookError(
                    f"cell {ws.title}!{get_column_letter(c)}{r} under table {table.displayName} is "
                    "not empty; move what is there before adding rows to the table")
    written = set()
    template_row = r2 if r2 > r1 else None
    for i, row in enumerate(rows):
        r = r2 + 1 + i
        values = {headers[k.casefold()]: v for k, v in row.items()}
        for c in range(c1, c2 + 1):
            cell = ws.cell(r, c)
            if template_row is not None:
                above = ws.cell(template_row, c)
                cell._style = copy.copy(above._style)
            cell.value = values.get(c)
            if isinstance(cell.value, str):
                cell.data_type = "s"   # text stays text: a name like "=HYPERLINK(...)" is no formula
            written.add((ws.title, r, c))
    _extend(ws, table, r2 + n)
    return written


def _extend(ws, table, new_last: int) -> None:
    """Make *table* end at row *new_last*, as Excel does when it grows a table: its range,
    its auto-filter, and every data-validation range that ended at its last row."""
    c1, r1, c2, r2 = range_boundaries(table.ref)
    table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{new_last}"
    if table.autoFilter is not None and table.autoFilter.ref:
        table.autoFilter.ref = table.ref
    for dv in ws.data_validations.dataValidation:
        grown = []
        for rng in dv.sqref.ranges:
            if rng.max_row == r2 and c1 <= rng.min_col and rng.max_col <= c2 and rng.min_row > r1:
                rng = CellRange(min_col=rng.min_col, min_row=rng.min_row, max_col=rng.max_col,
                                max_row=new_last)
            grown.append(rng.coord)
        dv.sqref = " ".join(grown)


def grow_over_rows_below(wb, names) -> dict:
    """Grow each Excel Table of *names* over the filled rows right under it (what Excel does
    when a row is typed there and LibreOffice does not): ``{table: [rows added]}`` for the
    tables that grew. A row joins when any cell of the table's columns holds a value; the
    rows stop at the first empty one. The new rows take the style and number format of the
    table's last row where they have none of their own."""
    grown = {}
    for name in names:
        try:
            ws, table = find_table(wb, name)
        except WorkbookError:
            continue
        c1, r1, c2, r2 = range_boundaries(table.ref)
        rows = []
        r = r2 + 1
        while any(ws.cell(r, c).value not in (None, "") for c in range(c1, c2 + 1)):
            rows.append(r)
            r += 1
        if not rows:
            continue
        for r in rows:
            for c in range(c1, c2 + 1):
                cell = ws.cell(r, c)
                if not cell.has_style and r2 > r1:
                    cell._style = copy.copy(ws.cell(r2, c)._style)
        _extend(ws, table, rows[-1])
        grown[table.displayName] = rows
    return grown


def fix_tables(book, output=None, backup: bool = True):
    """``tokencost tables fix BOOK``: every input table of *book* grown over the rows typed
    under it, in one :class:`~.session.EditSession` (cached values recomputed for the cells
    that read the grown tables). Returns ``(Rewritten or None, {table: [rows]})``; nothing is
    written when no table needs to grow."""
    with EditSession(book, output, backup=backup) as session:
        grown = grow_over_rows_below(session.wb, [spec.name for spec in TABLES])
        if not grown:
            return None, {}
        fresh = {(ws.title, r, c) for name in grown for ws, table in [find_table(session.wb, name)]
                 for r in grown[name] for c in range(range_boundaries(table.ref)[0],
                                                     range_boundaries(table.ref)[2] + 1)}
        values = values_after_edit(session.wb, session.cached, fresh, changed_tables=list(grown))
        return session.write(values), grown
