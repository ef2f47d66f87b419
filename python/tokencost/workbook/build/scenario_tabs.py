"""Scenario tabs: overrides on top of the base inputs, compared on a Scenarios sheet.

A scenario tab holds one override cell per overridable input that the base
calculation uses (``power_price_usd_per_kwh``, ``depreciation_years``,
``tokens_per_s`` ...): blank keeps the base value of every row, a number
replaces it in every row of its column (as :meth:`tokencost.inputs.validate.Inputs.with_overrides`
does). Below the overrides the tab re-derives the base calculation blocks of
the template (``Calc_GPU``, ``Calc_Models``, ``Calc_Prices``, ``Calc_Workloads``,
``Calc_Subs``, ``Calc_Subs_Mix`` in ``templates/main.toml``, listed in
``templates/parts/scenario_tab.toml``) with
the same formulas, except that every ``INDEX(Table[name],row)`` of an
overridable input becomes ``CHOOSE(flag+1,INDEX(Table[name],row),override)``.
The tab reads the input tables by structured reference and its own cells
without a sheet prefix, so a copy made in Excel (Move or Copy) is a working
scenario of its own.

Each override row also holds the input's schema bounds (the rule of the cell's
data validation, which a paste bypasses) and an "invalid" flag: filled but not a
number, or outside the bounds. The tab counts its invalid overrides; the
Scenarios sheet's status row says ``bad override`` for a tab whose count is not
0, which turns the master check red.

The Scenarios sheet (``templates/parts/scenarios.toml``) lists scenario tab
names in a row of input cells and shows each tab's outputs beside the base
with ``INDEX(INDIRECT("'"&name&"'!<column range on the tab>"),slot)`` (the
ranges come from :func:`prototype_layout`): typing the name of a hand-made copy
adds it. INDIRECT is used there and nowhere else (a test checks
it): referring to a sheet by a name typed in a cell has no other portable
form in Excel 2010 and LibreOffice 7.4.

The same writer (:func:`write_tab`) lays out a tab at build time (``[workbook]
scenarios`` of the template) and for ``tokencost scenario add`` on an
existing workbook; there the new cells' cached values are computed by
:class:`IncrementalEvaluator`, which keeps every other cell's cached value as it is
and recomputes only the cells that depend on what changed.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Mapping, Optional

from openpyxl.utils import get_column_letter

from ...errors import InputError
from ...inputs.schema import overridable_inputs
from ..cells import anchored, put, register_styles, sheet_ref, slot_rules, write_title
from ..numbers import number_format
from ..spec import TEMPLATES_DIR, Block, GridCell, Sheet, Template, TemplateError
from .blocks import input_validation, write_slots
from .state import BlockLayout, BuildState, resolve

TAB_FILE = TEMPLATES_DIR / "parts" / "scenario_tab.toml"
TAB_KIND = "scenario_tab"
SUMMARY_KIND = "scenario_summary"
NAMES_NAME = "Scenario_Names"      # defined name: the row of scenario tab names on the Scenarios sheet
STATUS_NAME = "Scenario_Status"    # defined name: OK / bad override / not found / not a scenario tab
STATUS_OK, STATUS_BAD = "OK", "bad override"
MAX_NAME = 31
_BAD_CHARS = set("[]:*?/\\'")


# ------------------------------------------------------------------ the tab spec

@dataclass(frozen=True)
class TabSpec:
    """``[scenario_tab]`` of ``templates/parts/scenario_tab.toml``."""
    role: str
    purpose: str
    title: str
    lines: tuple
    overrides_title: str
    overrides_headers: tuple
    count_label: str
    invalid_label: str
    base_blocks: tuple
    title_suffix: str
    outputs: dict = field(default_factory=dict)
    #: same-row rules over the re-derived blocks that an override can break (a cached price
    #: above the input price): ``{label, block, formula}``; each counts as invalid overrides
    row_checks: tuple = ()


def load_tab_spec(path: Path = TAB_FILE) -> TabSpec:
    with open(path, "rb") as fh:
        raw = dict(tomllib.load(fh)["scenario_tab"])
    for key in ("lines", "overrides_headers", "base_blocks"):
        raw[key] = tuple(raw.get(key, ()))
    raw["outputs"] = {k: tuple(v) for k, v in raw.get("outputs", {}).items()}
    raw["row_checks"] = tuple(dict(c) for c in raw.get("row_checks", ()))
    try:
        return TabSpec(**raw)
    except TypeError as err:
        raise TemplateError(f"{path.name}: {err}") from None


#: the schema bounds (:class:`tokencost.inputs.schema.Column` attribute) and the comparison an
#: override must pass, in the order of their columns on the tab
BOUNDS = (("gt", ">"), ("ge", ">="), ("le", "<="), ("lt", "<"))

_INDEX_CALL = re.compile(r"INDEX\(\s*([A-Za-z_]\w*)\[([A-Za-z_]\w*)\]\s*,\s*([^(),]+?)\s*\)")


def _base_blocks(template: Template, tab: TabSpec) -> list[Block]:
    found = {b.name: b for s in template.sheets for b in s.blocks if b.kind == "slots"}
    missing = [n for n in tab.base_blocks if n not in found]
    if missing:
        raise TemplateError(f"scenario tab: the template has no slots block {', '.join(missing)}")
    return [found[n] for n in tab.base_blocks]


def overridable_names(template: Template, tab: Optional[TabSpec] = None) -> list[str]:
    """Input names a scenario tab overrides: those the base blocks read with
    ``INDEX(Table[name],row)``, in schema order."""
    tab = tab or load_tab_spec()
    known = overridable_inputs()
    used = set()
    for block in _base_blocks(template, tab):
        for col in block.columns:
            for table, name, _row in _INDEX_CALL.findall(col.formula):
                if name in known and known[name].name == table:
                    used.add(name)
    return [n for n in known if n in used]


def _prefix(tab_name: str) -> str:
    """Block-name prefix unique to a tab (block names only live in the build state)."""
    return "Scn_" + hashlib.sha1(tab_name.casefold().encode()).hexdigest()[:10]


def _derived_blocks(template: Template, tab: TabSpec, prefix: str,
                    cells: Mapping[str, tuple]) -> list[Block]:
    """The base blocks with renamed blocks and override switches.

    *cells* maps an input name to ``(flag address, value address)`` on the tab.
    """
    known = overridable_inputs()
    bases = _base_blocks(template, tab)
    rename = re.compile(r"\{(" + "|".join(re.escape(b.name) for b in bases) + r")\.")
    names = {b.name for b in bases}

    def switch(m):
        table, name = m.group(1), m.group(2)
        if name in cells and known[name].name == table:
            flag, value = cells[name]
            return f"CHOOSE({flag}+1,{m.group(0)},{value})"
        return m.group(0)

    out = []
    for block in bases:
        columns = tuple(replace(c, formula=_INDEX_CALL.sub(switch, rename.sub(
            lambda m: "{" + f"{prefix}_{m.group(1)}.", c.formula))) for c in block.columns)
        # an `active` borrowed from another base block ("Calc_Subs.active") follows its rename
        owner, dot, key = block.active.partition(".")
        active = f"{prefix}_{owner}.{key}" if dot and owner in names else block.active
        out.append(replace(block, name=f"{prefix}_{block.name}", columns=columns, active=active,
                           title=(block.title + tab.title_suffix) if block.title else ""))
    return out


# ------------------------------------------------------------------ writing a tab

@dataclass
class TabLayout:
    """Where things are on a scenario tab (every tab of one template has the same layout)."""
    override_rows: Dict[str, int]
    value_col: int
    flag_col: int
    marker: tuple            # (row, col) of the overrides header "input name"
    marker_text: str
    count: tuple             # (row, col) of the number of overrides in effect
    invalid: tuple           # (row, col) of the number of invalid overrides
    blocks: Dict[str, BlockLayout]   # base block name -> its layout on the tab


def write_tab(state: BuildState, ws, overrides: Mapping[str, float], row: int) -> tuple[int, TabLayout]:
    """Write a scenario tab's content from *row* down (the sheet header rows 1-3 are the
    caller's; row 1 is overwritten with a title that does not name the tab)."""
    tab = load_tab_spec()
    names = overridable_names(state.template, tab)
    unknown = [n for n in overrides if n not in names]
    if unknown:
        raise InputError(unknown[0], f"{unknown[0]} is not an input the scenario tab can override; "
                                     f"it can override: {', '.join(names)}")
    known = overridable_inputs()
    put(state, ws, 1, 1, f"{state.template.title} | {tab.title}", "title")
    for line in tab.lines:
        put(state, ws, row, 1, line, "note")
        row += 1
    row += 1
    put(state, ws, row, 1, tab.overrides_title, "header")
    row += 1
    for j, text in enumerate(tab.overrides_headers, start=1):
        put(state, ws, row, j, text, "header")
    marker = (row, 1)
    row += 1
    first = row
    # columns (the order of overrides_headers): name, override, unit, in effect, invalid,
    # bounds > >= <= < (blank: none), input table, description
    value_col, flag_col, bad_col, bound_col = 2, 4, 5, 6
    if len(tab.overrides_headers) != bound_col + len(BOUNDS) + 1:
        raise TemplateError(f"scenario tab: overrides_headers needs {bound_col + len(BOUNDS) + 1} "
                            f"entries (got {len(tab.overrides_headers)})")
    v = get_column_letter(value_col)
    rows, cells = {}, {}
    for name in names:
        spec = known[name]
        col = spec.column(name)
        put(state, ws, row, 1, name, "label")
        put(state, ws, row, value_col, overrides.get(name), "input", number_format(col.unit))
        put(state, ws, row, 3, col.unit, "unit")
        put(state, ws, row, flag_col, f"=IF(ISNUMBER({v}{row}),1,0)", "calc", "0")
        tests = []
        for j, (attr, op) in enumerate(BOUNDS):
            b = f"{get_column_letter(bound_col + j)}{row}"
            put(state, ws, row, bound_col + j, getattr(col, attr), "unit")
            tests.append(f"OR(ISBLANK({b}),{v}{row}{op}{b})")
        put(state, ws, row, bad_col, f"=IF(ISBLANK({v}{row}),0,IF(ISNUMBER({v}{row}),"
                                      f"IF(AND({','.join(tests)}),0,1),1))", "check", "0")
        put(state, ws, row, bound_col + len(BOUNDS), spec.name, "label")
        put(state, ws, row, bound_col + len(BOUNDS) + 1, col.description, "note")
        dv = input_validation(state, spec, replace(col, required=False, default=None),
                               f"B{row}", f"B{row}")
        if dv is not None:
            ws.add_data_validation(dv)
        rows[name] = row
        cells[name] = (f"$D${row}", f"$B${row}")
        row += 1
    checks = []                    # (row, check): written once the derived blocks are placed
    for check in tab.row_checks:
        put(state, ws, row, 1, check["label"], "label")
        checks.append((row, check))
        row += 1
    put(state, ws, row, 1, tab.count_label, "label")
    put(state, ws, row, flag_col, f"=SUM(D{first}:D{row - 1})", "output", "0")
    count = (row, flag_col)
    row += 1
    bad = get_column_letter(bad_col)
    put(state, ws, row, 1, tab.invalid_label, "label")
    put(state, ws, row, bad_col, f"=SUM({bad}{first}:{bad}{row - 2})", "check", "0")
    invalid = (row, bad_col)
    row += 3
    prefix = _prefix(ws.title)
    blocks = {}
    for base, block in zip(tab.base_blocks, _derived_blocks(state.template, tab, prefix, cells)):
        row = write_slots(state, ws, block, row) + block.gap
        layout = state.blocks[block.name]
        blocks[base] = layout
        for key in tab.outputs.get(base, ()):
            if key not in layout.columns:
                raise TemplateError(f"scenario tab: block {base} has no column {key!r}")
            for r in range(layout.first_row, layout.first_row + layout.capacity):
                cell = ws.cell(r, layout.columns[key])
                fmt = cell.number_format
                cell.style = "output"
                cell.number_format = fmt
    rename = re.compile(r"\{(" + "|".join(re.escape(b) for b in tab.base_blocks) + r")\.")
    for r, check in checks:
        if check.get("block") not in blocks:
            raise TemplateError(f"scenario tab: row check {check['label']!r} names no base block")
        formula = rename.sub(lambda m: "{" + f"{prefix}_{m.group(1)}.", check["formula"])
        put(state, ws, r, bad_col, resolve(state, formula, blocks[check["block"]], 0), "check", "0")
    ws.column_dimensions["B"].width = 14
    return row, TabLayout(rows, value_col, flag_col, marker, tab.overrides_headers[0], count,
                          invalid, blocks)


def write_tab_block(state: BuildState, ws, block: Block, row: int) -> int:
    """Template writer for a ``scenario_tab`` block (one per example scenario)."""
    overrides = {cells[0].value: cells[1].value for cells in block.rows}
    return write_tab(state, ws, overrides, row)[0]


def prototype_layout(template: Template) -> TabLayout:
    """The layout every scenario tab of *template* has (written to a scratch workbook)."""
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "Scenario"
    register_styles(wb, template)
    state = BuildState(wb, template, None)
    return write_tab(state, ws, {}, template.first_row)[1]


# ------------------------------------------------------------------ the Scenarios sheet

def col_range(layout: BlockLayout, key: str) -> str:
    letter = get_column_letter(layout.columns[key])
    return f"${letter}${layout.first_row}:${letter}${layout.first_row + layout.capacity - 1}"


def write_summary_block(state: BuildState, ws, block: Block, row: int) -> int:
    """Template writer for the ``scenario_summary`` block of the Scenarios sheet.

    Rows: the scenario tab names (input cells, one column per scenario), their status,
    the number of overrides in effect; then one section per ``columns`` entry (``key`` =
    ``Block.column`` of a base block, ``formula`` = the row label) with the base value and
    each scenario's value per slot of that block.
    """
    proto = prototype_layout(state.template)
    capacity = block.capacity
    examples = [s["name"] for s in state.template.scenarios]
    if len(examples) > capacity:
        raise TemplateError(f"{len(examples)} example scenarios, but the Scenarios sheet has "
                            f"room for {capacity}")
    if block.title:
        write_title(state, ws, row, 1, block.title)
        row += 1
    names_row, status_row, count_row = row, row + 1, row + 2
    letters = [get_column_letter(3 + k) for k in range(capacity)]
    sheet = sheet_ref(ws.title)
    put(state, ws, names_row, 1, "Scenario tab name (type a tab's name in a free cell)", "header")
    put(state, ws, names_row, 2, "Base", "header")
    put(state, ws, status_row, 1, f"Status ({STATUS_OK}, {STATUS_BAD}, not found, not a scenario tab)",
         "label")
    put(state, ws, count_row, 1, "Overrides in effect", "label")
    marker = f"${get_column_letter(proto.marker[1])}${proto.marker[0]}"
    count = f"${get_column_letter(proto.count[1])}${proto.count[0]}"
    invalid = f"${get_column_letter(proto.invalid[1])}${proto.invalid[0]}"
    for k, col in enumerate(letters):
        name = f"{col}${names_row}"
        tab = f'"\'"&{name}&"\'!'
        put(state, ws, names_row, 3 + k, examples[k] if k < len(examples) else None, "input")
        put(state, ws, status_row, 3 + k,
             f'=IF({name}="","",IFERROR(IF(INDIRECT({tab}{marker}")<>"{proto.marker_text}",'
             f'"not a scenario tab",IF(INDIRECT({tab}{invalid}")=0,"{STATUS_OK}","{STATUS_BAD}")),'
             f'"not found"))', "check")
        put(state, ws, count_row, 3 + k,
             f'=IF({col}${status_row}="{STATUS_OK}",INDIRECT({tab}{count}"),"")', "output", "0")
    state.names[NAMES_NAME] = f"{sheet}!${letters[0]}${names_row}:${letters[-1]}${names_row}"
    state.names[STATUS_NAME] = f"{sheet}!${letters[0]}${status_row}:${letters[-1]}${status_row}"
    row = count_row + 2
    for section in block.columns:
        base, _, key = section.key.partition(".")
        if base not in proto.blocks or key not in proto.blocks[base].columns:
            raise TemplateError(f"Scenarios sheet: no column {section.key!r} on a scenario tab")
        source = state.blocks[base]
        rng = col_range(proto.blocks[base], key)
        fmt = section.number_format if section.number_format != "General" else number_format(section.unit)
        put(state, ws, row, 1, f"{section.header} [{section.unit}]", "header")
        put(state, ws, row, 2, "Base", "header")
        for k, col in enumerate(letters):
            put(state, ws, row, 3 + k, f'={col}${names_row}&""', "header")
        first = row + 1
        here = BlockLayout(ws.title, first, source.capacity, {})
        # a block without active/slot columns of its own (Calc_Subs_Mix) borrows its owner's
        owner_active = state.block_active.get(base, "active")
        owner = owner_active.partition(".")[0] if "." in owner_active else base
        for slot in range(source.capacity):
            r = first + slot
            active = resolve(state, "{" + owner + ".active}", here, slot)
            index = resolve(state, "{" + owner + ".slot}", here, slot)
            put(state, ws, r, 1, resolve(state, section.formula, here, slot), "label")
            put(state, ws, r, 2, f'=IF({active}=1,{resolve(state, "{" + section.key + "}", here, slot)},"")',
                 "output_slot", fmt)
            for k, col in enumerate(letters):
                put(state, ws, r, 3 + k,
                     f'=IF(OR({active}<>1,{col}${status_row}<>"{STATUS_OK}"),"",'
                     f'INDEX(INDIRECT("\'"&{col}${names_row}&"\'!{rng}"),{index}))', "output_slot", fmt)
        slot_rules(ws, f"B{first}:{letters[-1]}{first + source.capacity - 1}",
                   anchored(resolve(state, "{" + owner + ".active}", here, 0)), "output")
        row = first + source.capacity + 1
    return row


# ------------------------------------------------------------------ build time

def _scenario_overrides(entry: Mapping, inputs) -> dict[str, float]:
    from ...inputs.validate import variant_overrides
    extra = set(entry) - {"name", "set", "variant"}
    if extra or "name" not in entry:
        raise TemplateError(f"[workbook] scenarios: each entry has a name and `set` or `variant` "
                            f"(got {sorted(entry)})")
    overrides = dict(entry.get("set", {}))
    if "variant" in entry:
        variants = variant_overrides(inputs)
        if entry["variant"] not in variants:
            raise TemplateError(f"scenario {entry['name']}: no variant {entry['variant']!r} in "
                                f"the Variants table (known: {', '.join(variants)})")
        overrides = {**variants[entry["variant"]], **overrides}
    inputs.with_overrides(overrides)   # the core's rules: known names, numbers, bounds
    return {k: float(v) for k, v in overrides.items()}


def expand_template(template: Template, inputs) -> Template:
    """Add one sheet per ``[workbook] scenarios`` entry after the Scenarios sheet
    (before Checks when there is none)."""
    if not template.scenarios:
        return template
    tab = load_tab_spec()
    sheets = list(template.sheets)
    seen = [s.name for s in sheets]
    new = []
    for entry in template.scenarios:
        name = str(entry.get("name", ""))
        problem = name_problem(name, seen)
        if problem:
            raise TemplateError(f"[workbook] scenarios: {problem}")
        seen.append(name)
        overrides = _scenario_overrides(entry, inputs)
        rows = tuple((GridCell(value=k), GridCell(value=v)) for k, v in overrides.items())
        new.append(Sheet(name=name, role=tab.role, purpose=tab.purpose,
                         blocks=(Block(kind=TAB_KIND, rows=rows),)))
    at = next((i + 1 for i, s in enumerate(sheets)
               if any(b.kind == SUMMARY_KIND for b in s.blocks)), None)
    if at is None:
        at = next((i for i, s in enumerate(sheets) if s.name == "Checks"), len(sheets))
    return replace(template, sheets=tuple(sheets[:at] + new + sheets[at:]))


# ------------------------------------------------------------------ names

def name_problem(name: str, existing) -> Optional[str]:
    """Why *name* cannot be a new tab (None when it can); *existing*: the sheet names."""
    if not name or not name.strip():
        return "a scenario needs a name"
    if name != name.strip():
        return f"scenario name {name!r} starts or ends with a space"
    if len(name) > MAX_NAME:
        return f"scenario name {name!r} is {len(name)} characters; a sheet name has at most {MAX_NAME}"
    bad = sorted(set(name) & _BAD_CHARS)
    if bad:
        return (f"scenario name {name!r} contains {' '.join(bad)}; a sheet name cannot contain "
                "[ ] : * ? / \\ and the Scenarios sheet needs names without '")
    if name.casefold() == "history":
        return "'History' is a name Excel reserves"
    from ...render import FORMULA_STARTS
    if name.startswith(FORMULA_STARTS):
        return (f"scenario name {name!r} starts with {name[0]!r}; the Scenarios sheet lists the "
                "name in a cell, where a spreadsheet would read it as a formula")
    for other in existing:
        if other.casefold() == name.casefold():
            return f"the workbook already has a sheet named {other!r}"
    return None


