"""Typed, declarative specs of a workbook template (read from ``templates/*.toml``).

The specs are data; :mod:`tokencost.workbook.build` is the writer. A template
lists sheets; a sheet holds blocks placed one under another:

``text``         lines of text (a Cover page)
``input_table``  an Excel Table of one input kind; columns, units and data
                 validation come from :mod:`tokencost.inputs.schema`, rows from the dataset
``slots``        a calculation or output block: ``capacity`` rows, one formula
                 per column written once and copied down (placeholders below)
``grid``         explicit rows of cells: text, numbers, formulas, named inputs
``checks``       one row per check (an error count), plus generated input checks;
                 a check row with ``severity = "warning"`` is listed after the
                 errors and counted apart, not in the master check
``reference_table``  a package data file (``data_file``) as an Excel Table of
                 input cells (:mod:`tokencost.workbook.build.reference_blocks`)
``parameters``   a name/value data file (``data_file``: name, value, unit, description,
                 source) as one named input cell per row, ``prefix`` + name
                 (:mod:`tokencost.workbook.build.timeline`)
``timeline``     time across columns: ``capacity`` periods, one row per ``columns`` entry,
                 one formula per row copied across (:mod:`tokencost.workbook.build.timeline`)

Placeholders in formulas
------------------------
``{key}``            same-row cell of column *key* in this block (``D7``)
``{key@first}``      first row of that column, row-absolute (``D$7``)
``{Block.key}``      same-slot cell of another slots block (``Calc!O7``)
``{Block.key[]}``    the whole column of another block (``Calc!$O$7:$O$26``)
``{row}``            in a grid block: the current row number (``=B{row}/C{row}``)
``{key@prev}``       in a timeline block: the previous period's cell of row *key* (for the
                     first period the empty column before it; wrap it in ``N()``)
Defined names (a grid cell's ``name``) are used in formulas as they are.

Parts
-----
``[workbook] parts = ["functions", ...]`` names template fragments
(``templates/parts/<name>.toml``), each holding ``[[sheets]]`` and an optional
``[part] before = "SheetName"``: its sheets are inserted before that sheet
(appended when absent), and its ``[[checks]]`` rows (label, formula) are
appended to the template's checks block. Parts keep one feature's layout in
one file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class SlotColumn:
    key: str
    formula: str
    header: str = ""
    unit: str = ""
    number_format: str = "General"
    width: Optional[float] = None
    total: str = ""          # timeline: "sum" writes the row's total beside its label
    style: str = ""          # timeline: a row's style ("output" for a result row)


@dataclass(frozen=True)
class Chart:
    kind: str            # "bar", "stacked_bar" or "scatter" (lines through points)
    title: str
    block: str           # slots block providing the data
    categories: str      # column key for category labels (scatter: the x values)
    series: tuple[str, ...]
    anchor: str
    y_title: str = ""
    x_title: str = ""
    direction: str = "col"   # bar charts: "col" (vertical) or "bar" (horizontal, e.g. a tornado)
    width_cm: float = 16.0
    height_cm: float = 8.0
    rows: str = ""           # the 0/1 column marking rows in use ("Block.key"); default: the
                             # block's own ``active``; none: every row of the block
    data_labels: bool = False
    label_format: str = ""   # number format of the data labels (e.g. '0.0"x"')


@dataclass(frozen=True)
class CheckRow:
    label: str
    formula: str
    severity: str = "error"              # "warning": shown on Checks, not summed into the master check


@dataclass(frozen=True)
class GridCell:
    value: object = None          # text, number, or formula ("=...")
    name: str = ""                # defined name for this cell
    style: str = ""               # "input", "calc", "output", "header", "title", "note", "check"
    number_format: str = ""
    data: str = ""                # "Table.column[key]": take the value from the dataset
    validation: str = ""          # a defined name listing the allowed values (a dropdown)


@dataclass(frozen=True)
class Block:
    kind: str
    title: str = ""
    name: str = ""                       # slots/grid block name used in placeholders
    table: str = ""                      # input_table: schema table name
    capacity: int = 0                    # slots: rows
    active: str = ""                     # slots: key of the 0/1 column marking rows in use
    columns: tuple[SlotColumn, ...] = ()
    lines: tuple[str, ...] = ()          # text
    rows: tuple[tuple[GridCell, ...], ...] = ()   # grid
    checks: tuple[CheckRow, ...] = ()
    generate_input_checks: bool = False
    gap: int = 2                          # empty rows after the block
    data_file: str = ""                   # reference_table: CSV in the package data folder
    data_columns: tuple[str, ...] = ()    # reference_table: columns to write (default all)
    units: dict = field(default_factory=dict)   # reference_table: {column: unit} above headers
    at: str = ""                          # text, grid, slots: top-left cell ("H5"); default: the
                                          # next free row of column A
    prefix: str = ""                      # parameters: defined name of each value = prefix + name
    validations: dict = field(default_factory=dict)     # parameters: {name: list name} dropdowns
    number_formats: dict = field(default_factory=dict)  # parameters: {name: number format}


@dataclass(frozen=True)
class Sheet:
    name: str
    role: str                              # control / input / calc / output / check
    purpose: str = ""
    blocks: tuple[Block, ...] = ()
    charts: tuple[Chart, ...] = ()
    column_widths: dict = field(default_factory=dict)
    print_title_rows: str = "1:3"          # rows repeated at the top of every printed page
    orientation: str = "landscape"
    fit_height: int = 0                    # printed pages tall (0: as many as it takes)
    fit_width: int = 1                     # printed pages wide (a timeline: several)
    print_title_cols: str = ""             # columns repeated at the left of every page ("A:C")


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    sheets: tuple[Sheet, ...]
    base: str = "blank"                    # "xlwings-standalone" or "blank"
    udf_modules: str = ""
    output: str = "tokencost.xlsm"
    role_colors: dict = field(default_factory=dict)
    styles: dict = field(default_factory=dict)
    first_row: int = 5
    parts: tuple[str, ...] = ()
    scenarios: tuple[dict, ...] = ()       # example scenario tabs: {name, set = {input: value} | variant}
    paper: str = "A4"                      # printed pages: "A4" or "Letter"


def _cells(row) -> tuple[GridCell, ...]:
    out = []
    for cell in row:
        if isinstance(cell, dict):
            out.append(GridCell(**cell))
        else:
            out.append(GridCell(value=cell))
    return tuple(out)


def _block(raw: dict) -> Block:
    raw = dict(raw)
    raw["columns"] = tuple(SlotColumn(**c) for c in raw.get("columns", ()))
    raw["lines"] = tuple(raw.get("lines", ()))
    raw["rows"] = tuple(_cells(r) for r in raw.get("rows", ()))
    raw["checks"] = tuple(CheckRow(**c) for c in raw.get("checks", ()))
    return Block(**raw)


def _sheet(raw: dict) -> Sheet:
    raw = dict(raw)
    raw["blocks"] = tuple(_block(b) for b in raw.get("blocks", ()))
    charts = []
    for c in raw.get("charts", ()):
        c = dict(c)
        c["series"] = tuple(c["series"])
        charts.append(Chart(**c))
    raw["charts"] = tuple(charts)
    return Sheet(**raw)


def _append_checks(sheets: list, checks: tuple) -> list:
    for i, sheet in enumerate(sheets):
        for j, block in enumerate(sheet.blocks):
            if block.kind == "checks":
                blocks = list(sheet.blocks)
                blocks[j] = replace(block, checks=block.checks + checks)
                sheets[i] = replace(sheet, blocks=tuple(blocks))
                return sheets
    raise ValueError("template parts add checks but the template has no checks block")


def _insert_part(sheets: list, part_path: Path, checks: list) -> list:
    if not part_path.exists():
        raise ValueError(f"template part {part_path} does not exist")
    raw = _read_toml(part_path)
    checks.extend(CheckRow(**c) for c in raw.get("checks", ()))
    new = [_sheet(s) for s in raw.get("sheets", ())]
    before = raw.get("part", {}).get("before", "")
    names = [s.name for s in sheets]
    if before and before not in names:
        raise ValueError(f"{part_path.name}: no sheet {before!r} to insert before")
    at = names.index(before) if before else len(sheets)
    return sheets[:at] + new + sheets[at:]


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path.name}: not valid TOML: {err}") from None


def load_template(path: Path) -> Template:
    """Read a template file into a :class:`Template` (unknown keys are an error)."""
    path = Path(path)
    raw = _read_toml(path)
    try:
        wb = dict(raw["workbook"])
        sheets = [_sheet(s) for s in raw.get("sheets", ())]
        wb["parts"] = tuple(wb.get("parts", ()))
        wb["scenarios"] = tuple(dict(x) for x in wb.get("scenarios", ()))
        extra_checks = []
        for part in wb["parts"]:
            part_path = path.parent / "parts" / f"{part}.toml"
            if not part_path.exists():   # a template copied elsewhere uses the shipped parts
                part_path = Path(__file__).resolve().parents[3] / "templates" / "parts" / f"{part}.toml"
            sheets = _insert_part(sheets, part_path, extra_checks)
        if extra_checks:
            sheets = _append_checks(sheets, tuple(extra_checks))
        wb["sheets"] = tuple(sheets)
        wb["role_colors"] = dict(raw.get("role_colors", {}))
        wb["styles"] = dict(raw.get("styles", {}))
        wb.setdefault("name", path.stem)
        return Template(**wb)
    except TypeError as err:
        raise ValueError(f"{path.name}: {err}") from None


class TemplateError(Exception):
    """A template that cannot be built (unknown table, placeholder, function...)."""


#: the repository (templates/ and the committed workbook live there)
REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATES_DIR = REPO_ROOT / "templates"


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
