"""The writers of the template's block kinds: ``text``, ``input_table``, ``slots``,
``grid`` and ``checks`` (:mod:`tokencost.workbook.spec` describes each)."""
from __future__ import annotations

import math
import re

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...inputs.schema import TABLES_BY_NAME, Column, TableSpec
from ..cells import anchored, put, sheet_ref, slot_rules, write_title
from ..formula import Ref
from ..numbers import number_format
from ..spec import Block, TemplateError
from ..validation import data_validation
from .state import BlockLayout, BuildState, resolve, role_of


def write_text(state, ws, block: Block, row: int) -> int:
    col = state.col0
    if block.title:
        write_title(state, ws, row, col, block.title)
        row += 1
    for line in block.lines:
        if line.startswith("# "):
            write_title(state, ws, row, col, line[2:])
        else:
            put(state, ws, row, col, line, "label")
            state.spill.add((ws.title, row, col))
        row += 1
    return row



def input_validation(state: BuildState, spec: TableSpec, col: Column, ref: str, top_left: str):
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
            prompt=f"{col.description} [{col.unit}]", allow_blank=not col.required)
    if col.choices:   # a fixed list of names (precisions): the list itself, blank allowed
        return data_validation(
            "list", '"' + ",".join(col.choices) + '"', ref, title=col.name,
            error=f"{spec.name}[{col.name}] must be blank or one of {', '.join(col.choices)}",
            prompt=f"{col.description} [{col.unit}]", allow_blank=not col.required)
    return None



def write_input_table(state: BuildState, ws, block: Block, row: int) -> int:
    spec = TABLES_BY_NAME.get(block.table)
    if spec is None:
        raise TemplateError(f"unknown input table {block.table!r}")
    frame = state.inputs[spec.name]
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    desc_row, unit_row, header_row = row, row + 1, row + 2
    for j, col in enumerate(spec.columns, start=1):
        put(state, ws, desc_row, j, col.description, "note")
        ws.cell(desc_row, j).alignment = Alignment(wrap_text=True, vertical="top")
        put(state, ws, unit_row, j, col.unit, "unit")
        put(state, ws, header_row, j, col.name, "header")
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
            put(state, ws, r, j, value, style, number_format(col.unit) if col.kind == "number" else "")
    last = header_row + n
    ref = f"A{header_row}:{get_column_letter(len(spec.columns))}{last}"
    table = Table(displayName=spec.name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    # the table's columns down the whole sheet: the Checks sheet looks at the row under it
    state.names[f"Grid_{spec.name}"] = (f"{sheet_ref(ws.title)}!$A$1:"
                                        f"${get_column_letter(len(spec.columns))}$1048576")
    state.tables[spec.name] = (ws.title, Ref(ws.title, header_row, 1, last, len(spec.columns)),
                               spec.column_names)
    ws.row_dimensions[desc_row].height = 45
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    for j, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        dv = input_validation(state, spec, col, f"{letter}{header_row + 1}:{letter}{last}",
                               f"{letter}{header_row + 1}")
        if dv is not None:
            ws.add_data_validation(dv)
        if col.name == spec.key:
            state.names[f"List_{spec.name}_{col.name}"] = f"{spec.name}[{col.name}]"
    return last + 1



def _slot_rules(state: BuildState, ws, block: Block, layout: BlockLayout, style: str) -> None:
    flag = anchored(resolve(state, "{" + block.active + "}", layout, 0))
    first_col = min(layout.columns.values())
    last_col = max(layout.columns.values())
    last_row = layout.first_row + layout.capacity - 1
    slot_rules(ws, f"{get_column_letter(first_col)}{layout.first_row}:"
                   f"{get_column_letter(last_col)}{last_row}", flag, style)



def write_slots(state: BuildState, ws, block: Block, row: int) -> int:
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
    role = role_of(state, ws.title)
    style = "output" if role == "output" else "calc"
    if block.active:
        state.block_active[block.name] = block.active
        cell_style = style + "_slot"
    else:
        cell_style = style
    for col in block.columns:
        j = layout.columns[col.key]
        letter = get_column_letter(j)
        put(state, ws, unit_row, j, col.unit, "unit")
        put(state, ws, header_row, j, col.header or col.key, "header")
        if col.width:
            ws.column_dimensions[letter].width = col.width
            state.keep_width.add((ws.title, letter))
    for slot in range(block.capacity):
        for col in block.columns:
            fmt = col.number_format if col.number_format != "General" else number_format(col.unit)
            put(state, ws, first + slot, layout.columns[col.key],
                 resolve(state, col.formula, layout, slot), cell_style, fmt)
    if block.active:
        _slot_rules(state, ws, block, layout, style)
    return first + block.capacity



def data_value(state: BuildState, path: str):
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



def write_grid(state: BuildState, ws, block: Block, row: int) -> int:
    col0 = state.col0
    if block.title:
        write_title(state, ws, row, col0, block.title)
        row += 1
    for cells in block.rows:
        for j, cell in enumerate(cells, start=col0):
            value = data_value(state, cell.data) if cell.data else cell.value
            if isinstance(value, str) and value.startswith("="):
                value = resolve(state, value.replace("{row}", str(row)), None, 0)
            if value is None and not cell.name:
                continue
            style = cell.style or ("calc" if isinstance(value, str) and value.startswith("=") else "label")
            fmt = cell.number_format
            nxt = cells[j - col0 + 1] if j - col0 + 1 < len(cells) else None
            if not fmt and nxt is not None and isinstance(nxt.value, str) and not nxt.style:
                fmt = number_format(nxt.value) if number_format(nxt.value) != "General" else ""
            put(state, ws, row, j, value, style, fmt)
            if cell.validation:
                ws.add_data_validation(data_validation(
                    "list", cell.validation, f"{get_column_letter(j)}{row}",
                    title=cell.name or f"{ws.title}!{get_column_letter(j)}{row}",
                    error=f"choose one of the values listed in {cell.validation}"))
            if cell.name:
                state.names[cell.name] = f"{sheet_ref(ws.title)}!${get_column_letter(j)}${row}"
        row += 1
    return row



def input_checks(state: BuildState) -> list[tuple[str, str]]:
    """One check row per input column, generated from the schema."""
    rows = []
    for name, (_sheet, _ref, columns) in state.tables.items():
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
                if t in state.tables and col.required:
                    rows.append((f"{r}: every value is a {c} in {t}",
                                 f"=SUMPRODUCT(--(COUNTIF({t}[{c}],{r})=0))"))
                elif t in state.tables:   # optional: a blank cell names nothing
                    rows.append((f"{r}: blank or a {c} in {t}",
                                 f"=SUMPRODUCT((1-ISBLANK({r}))*(COUNTIF({t}[{c}],{r})=0))"))
        if f"Grid_{name}" in state.names:
            # values in the row just under the table are not part of it (LibreOffice does not
            # grow a table over a row typed under it): the formulas would ignore them
            key = f"{name}[{spec.columns[0].name}]"
            below = f"ROW(INDEX({key},ROWS({key})))+1"
            grid = f"Grid_{name}"
            rows.append((f"{name}: the row under the table is empty (values typed there are not "
                         "part of the table: grow the table over them, `tokencost tables fix`)",
                         f"=COUNTA(INDEX({grid},{below},1):INDEX({grid},{below},COLUMNS({grid})))"))
    return rows



def write_checks(state: BuildState, ws, block: Block, row: int) -> int:
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    master_row = row
    put(state, ws, master_row, 1, "Master check: number of errors (0 = all checks pass)", "header")
    row += 2
    put(state, ws, row, 1, "check", "header")
    put(state, ws, row, 2, "errors", "header")
    put(state, ws, row, 3, "status", "header")
    row += 1
    first = row
    items = [(c.label, c.formula) for c in block.checks if c.severity != "warning"]
    if block.generate_input_checks:
        items += input_checks(state)
    warnings = [(c.label, c.formula) for c in block.checks if c.severity == "warning"]
    for label, formula in items + warnings:
        status = "WARNING" if row - first >= len(items) else "ERROR"
        put(state, ws, row, 1, label, "label")
        put(state, ws, row, 2, resolve(state, formula, None, 0), "check", "0")
        put(state, ws, row, 3, f'=IF(B{row}=0,"OK","{status}")', "check")
        row += 1
    last = first + len(items) - 1
    put(state, ws, master_row, 2, f"=SUM(B{first}:B{last})", "output", "0")
    if warnings:  # counted apart: a warning questions an assumption, it is not a broken model
        put(state, ws, master_row + 1, 1, "Warnings (not in the master check; see the rows "
                                           "marked WARNING)", "label")
        put(state, ws, master_row + 1, 2, f"=SUM(B{last + 1}:B{row - 1})", "output", "0")
        state.names["Warning_Count"] = f"{sheet_ref(ws.title)}!$B${master_row + 1}"
    state.names["Master_Check"] = f"{sheet_ref(ws.title)}!$B${master_row}"
    red = PatternFill("solid", start_color="F4B6B6", end_color="F4B6B6")
    ws.conditional_formatting.add(f"C{first}:C{row - 1}",
                                  FormulaRule(formula=[f"$B{first}<>0"], fill=red))
    ws.column_dimensions["A"].width = 70
    return row
