"""Validated inputs: the boundary between raw tables and the core.

Raw tables (pandas DataFrames, from the CSV data files or from a workbook's
Excel Tables) are checked once against :mod:`tokencost.inputs.schema`; the core then
trusts them. Every problem names where it is through a *locator* supplied by
the shell that read the table (``hardware.csv row 3, power_w`` for a CSV file,
``Inputs!C7`` for a workbook), and what is wrong. Pure: no I/O here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Collection, Mapping, Optional

import numpy as np
import pandas as pd

from ..errors import InputError
from .schema import (SUBSCRIPTIONS, TABLES, TABLES_BY_NAME, VARIANTS, Column, TableSpec, name_key,
                     overridable_inputs)

#: locate(table_name, row (0-based data row or None), column or None) -> "where" text
Locator = Callable[[str, Optional[int], Optional[str]], str]


def default_locator(table: str, row: Optional[int], column: Optional[str]) -> str:
    """Locate by table name, 1-based data row and column, e.g. ``Hardware row 2, power_w``."""
    text = table
    if row is not None:
        text += f" row {row + 1}"
    if column is not None:
        text += f", {column}" if row is not None else f" column {column}"
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs."""
    where: str
    message: str
    table: str = ""
    row: Optional[int] = None
    column: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Inputs:
    """Validated input tables, keyed by :class:`~tokencost.inputs.schema.TableSpec` name.

    Numeric columns are float, blanks in optional columns hold their default
    (or NaN where there is none), text columns are ``str``. ``locate`` is the
    locator of the shell that read the tables (so a problem found later, such as
    a result that is not a finite number, names the cell or file line);
    ``override_sources`` says where each override came from (``--set
    tokens_per_s``, ``variants.csv line 3``).
    """
    tables: Mapping[str, pd.DataFrame]
    overrides: Mapping[str, float] = field(default_factory=dict)
    locate: Locator = default_locator
    override_sources: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def hardware(self) -> pd.DataFrame:
        return self.tables["Hardware"]

    @property
    def cost_components(self) -> pd.DataFrame:
        return self.tables["CostComponents"]

    @property
    def models(self) -> pd.DataFrame:
        return self.tables["Models"]

    @property
    def prices(self) -> pd.DataFrame:
        return self.tables["Prices"]

    @property
    def subscriptions(self) -> pd.DataFrame:
        return self.tables["Subscriptions"]

    @property
    def variants(self) -> pd.DataFrame:
        return self.tables["Variants"]

    @property
    def workloads(self) -> pd.DataFrame:
        return self.tables["Workloads"]

    def with_overrides(self, overrides: Mapping[str, float],
                       sources: Optional[Mapping[str, str]] = None) -> "Inputs":
        """A copy in which each named input takes *value* in every row of its table
        (a scenario or a variant). Names are canonical input names; *sources* names
        where each override came from, for messages (default: the input name).
        Raises :class:`InputError` at that source for an unknown name or a value
        its column refuses (:meth:`tokencost.inputs.schema.Column.problem`)."""
        known = overridable_inputs()
        sources = dict(sources or {})
        tables = dict(self.tables)
        for name, value in overrides.items():
            where = sources.get(name, name)
            if name not in known:
                raise InputError(where, f"unknown input name {name!r}; known: {', '.join(sorted(known))}")
            spec = known[name]
            col = spec.column(name)
            if isinstance(value, str):  # a --set value or a Variants cell may arrive as text
                parsed = _parse_text_number(value)
                value = value if parsed is None else parsed
            if value is None or isinstance(value, (str, bool, np.bool_)):
                raise InputError(where, f"{name} must be a number, got {value!r}")
            number, bad = number_problem(col, value, typed=True)
            if bad:
                raise InputError(where, f"{name} {bad}")
            frame = tables[spec.name].copy()
            frame[name] = number
            tables[spec.name] = frame
            sources.setdefault(name, where)
        _check_overridden_pairs(tables, overrides, sources)
        return replace(self, tables=tables, overrides={**self.overrides, **overrides},
                       override_sources={**self.override_sources, **sources})


def _check_overridden_pairs(tables: Mapping[str, pd.DataFrame], overrides: Mapping[str, float],
                            sources: Mapping[str, str]) -> None:
    """An override of either side of a same-row rule (``le_column``: a cached price at
    most the input price) must keep the rule in every row; raise at the override's source,
    naming the first row it breaks (a blank side, NaN, breaks nothing)."""
    known = overridable_inputs()
    for spec in {known[n].name: known[n] for n in overrides}.values():
        frame = tables[spec.name]
        for col in spec.columns:
            if col.le_column is None or not {col.name, col.le_column} & set(overrides):
                continue
            value = pd.to_numeric(frame[col.name], errors="coerce").to_numpy(dtype=float)
            bound = pd.to_numeric(frame[col.le_column], errors="coerce").to_numpy(dtype=float)
            broken = np.flatnonzero(value > bound)
            if broken.size:
                i = int(broken[0])
                name = col.le_column if col.le_column in overrides else col.name
                key = frame[spec.key].iloc[i] if spec.key in frame.columns else i + 1
                raise InputError(sources.get(name, name),
                                 f"{name}={overrides[name]:g} leaves {col.name} ({value[i]:g}) above "
                                 f"{col.le_column} ({bound[i]:g}) in {spec.name} row {i + 1} ({key}); "
                                 f"{col.name} must be <= {col.le_column} in the same row")


def _parse_text_number(text: str) -> Optional[float]:
    try:
        return float(text.strip())
    except ValueError:
        return None


def number_problem(col: Column, value, typed: bool = False) -> tuple[float, Optional[str]]:
    """``(number, problem)`` for one non-blank value of the number column *col*.

    The one rule every reader applies: a finite number that the column accepts
    (:meth:`~tokencost.inputs.schema.Column.problem`: bounds, whole numbers, limit).
    *typed* says the value comes from a cell that has a type (a workbook cell, a
    function argument, a ``--set`` number): there, text is not a number even when
    it reads as one, as the workbook's own ``ISNUMBER`` checks see it. Text from a
    CSV file (untyped) is parsed. *problem* is the text after the column name,
    None when the value is valid (*number* is NaN when it is not a number).
    """
    if isinstance(value, (bool, np.bool_)):
        return np.nan, f"must be a number, got {'TRUE' if value else 'FALSE'}"
    if isinstance(value, str):
        number = _parse_text_number(value)
        if typed:
            if number is not None:
                return np.nan, (f"is text {value!r}, not a number; retype it as a number")
            return np.nan, f"must be a number, got text {value!r}"
        if number is None:
            return np.nan, f"must be a number, got text {value!r}"
        if not np.isfinite(number):
            return np.nan, f"must be a number, got {value.strip()!r} (not finite)"
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return np.nan, f"must be a number, got {value!r}"
        if not np.isfinite(number):
            return np.nan, f"must be a number, got {number} (not finite)"
    bad = col.problem(number)
    return number, bad


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def check_tables(raw: Mapping[str, pd.DataFrame], locate: Locator = default_locator,
                 typed: Collection[str] = ()) -> list[Problem]:
    """Every problem in the raw tables, in table/row/column order (empty list: valid).
    *typed* names the tables read from typed cells (a workbook's): see
    :func:`number_problem`."""
    return _prepare(raw, locate, typed)[1]


def prepare(raw: Mapping[str, pd.DataFrame], locate: Locator = default_locator,
            typed: Collection[str] = ()) -> Inputs:
    """Validate raw tables and return :class:`Inputs`; raise :class:`InputError`
    naming the first problem (``str(err)`` lists how many more there are)."""
    inputs, problems = _prepare(raw, locate, typed)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s); run `tokencost check`)" if len(problems) > 1 else ""
        raise InputError(first.where, first.message + more)
    return inputs


def _prepare(raw: Mapping[str, pd.DataFrame], locate: Locator,
             typed: Collection[str] = ()) -> tuple[Inputs, list[Problem]]:
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    numbers: set = set()
    for spec in TABLES:
        frame = raw.get(spec.name)
        if frame is None:
            if spec.optional:
                frame = pd.DataFrame(columns=spec.column_names)
            else:
                problems.append(Problem(locate(spec.name, None, None),
                                        f"table {spec.name} is missing", spec.name))
                continue
        tables[spec.name] = _clean_table(spec, frame, locate, problems, spec.name in typed, numbers)
        if len(tables[spec.name]) < spec.min_rows and spec.name in raw:
            problems.append(Problem(locate(spec.name, None, None),
                                    f"table {spec.name} has no data rows; the cost model needs "
                                    f"at least {spec.min_rows}", spec.name))
    for spec in TABLES:
        if spec.name in tables:
            _check_keys_and_references(spec, tables, locate, problems, numbers)
    return Inputs(tables, locate=locate), _first_per_cell(problems)


def _first_per_cell(problems: list[Problem]) -> list[Problem]:
    """One problem per cell, the first found (a name with surrounding spaces is not
    also reported as the duplicate its trimmed text would be)."""
    seen, out = set(), []
    for p in problems:
        key = (p.table, p.row, p.column)
        if p.row is not None and key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def _clean_table(spec: TableSpec, frame: pd.DataFrame, locate: Locator,
                 problems: list[Problem], typed: bool = False,
                 numbers: Optional[set] = None) -> pd.DataFrame:
    """The table with numbers as floats and names as text; *numbers* collects the
    ``(table, row, column)`` of name cells that hold a number (in typed tables)."""
    numbers = set() if numbers is None else numbers
    frame = frame.reset_index(drop=True)
    # drop rows that are blank in every spec column (an empty table row in Excel)
    present = [c for c in spec.column_names if c in frame.columns]
    if present and len(frame):
        blank = np.array([all(map(_is_blank, row)) for row in zip(*(frame[c].tolist() for c in present))])
        frame = frame.loc[~blank].reset_index(drop=True)
    out = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            if col.required:
                problems.append(Problem(locate(spec.name, None, col.name),
                                        f"required column {col.name} is missing from table {spec.name}",
                                        spec.name, None, col.name))
            fill = col.default if col.default is not None else (np.nan if col.kind == "number" else "")
            out[col.name] = pd.Series([fill] * len(frame), dtype=object if col.kind == "text" else float)
            continue
        values = frame[col.name].tolist()

        def problem(i, message):
            problems.append(Problem(locate(spec.name, i, col.name), message, spec.name, i, col.name))

        if col.kind == "text":
            # a name keeps its exact text (the workbook's lookups do not trim: a name with
            # surrounding spaces matches nothing, see _check_keys_and_references); free
            # text (description, source) is trimmed for display
            exact = col.unit == "name"
            cleaned = []
            for i, v in enumerate(values):
                if _is_blank(v):
                    if col.required:
                        problem(i, f"{col.name} is required but blank")
                    cleaned.append("")
                    continue
                text = str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
                if exact and typed and isinstance(v, (int, float)) and not isinstance(v, bool):
                    numbers.add((spec.name, i, col.name))  # a number cell: MATCH tells it from text
                if col.choices and text.casefold() not in col.choices:
                    problem(i, f"{col.name} {text!r} is not one of {', '.join(col.choices)}")
                cleaned.append(text if exact else text.strip())
            out[col.name] = pd.Series(cleaned, dtype=object)
        else:
            cleaned = np.empty(len(values))
            for i, v in enumerate(values):
                if _is_blank(v):
                    if col.required:
                        problem(i, f"{col.name} is required but blank")
                    cleaned[i] = col.default if col.default is not None else np.nan
                    continue
                number, bad = number_problem(col, v, typed)
                if bad:
                    problem(i, f"{col.name} {bad}")
                cleaned[i] = number
            out[col.name] = pd.Series(cleaned, dtype=float)
    return pd.DataFrame(out, columns=spec.column_names)


def _match_key(table: str, row: int, column: str, value, numbers: set):
    """How a name cell compares: its text ignoring case (:func:`~tokencost.inputs.schema.name_key`),
    and whether the cell holds a number (a number never matches text, as in MATCH)."""
    return ((table, row, column) in numbers, name_key(value))


def _near_miss(value: str, targets: list[tuple[int, str]], target_table: str, target_col: str,
               locate: Locator) -> str:
    """A hint for a name that matches nothing: spaces around it, or around the name it
    was meant to match, or a number where the other holds text."""
    if value != value.strip():
        return "; remove the spaces"
    for row, target in targets:
        if target != target.strip() and name_key(target.strip()) == name_key(value):
            return (f" ({locate(target_table, row, target_col)} holds {target!r}: remove the "
                    "spaces there)")
        if name_key(target) == name_key(value):
            return (f" (one of it and {locate(target_table, row, target_col)} is a number, the "
                    "other text; retype the number as text)")
    return ""


def _check_keys_and_references(spec: TableSpec, tables: Mapping[str, pd.DataFrame], locate: Locator,
                               problems: list[Problem], numbers: set = frozenset()) -> None:
    frame = tables[spec.name]
    if spec.unique_key and spec.key in frame.columns:
        seen: dict = {}
        for i, key in enumerate(frame[spec.key]):
            if not key:
                continue
            k = _match_key(spec.name, i, spec.key, key, numbers)
            if k in seen:
                problems.append(Problem(locate(spec.name, i, spec.key),
                                        f"duplicate {spec.key} {key!r} (first at row {seen[k] + 1})",
                                        spec.name, i, spec.key))
            else:
                seen[k] = i
    for col in spec.columns:
        if col.le_column is None or col.name not in frame.columns:
            continue
        other = spec.column(col.le_column)
        for i, (value, bound) in enumerate(zip(frame[col.name], frame[col.le_column])):
            valid = not col.invalid(value).any() and not other.invalid(bound).any()  # else reported
            if valid and value > bound:
                problems.append(Problem(locate(spec.name, i, col.name),
                                        f"{col.name} must be <= {col.le_column} ({bound:g}) in the "
                                        f"same row, got {value:g}", spec.name, i, col.name))
    if spec is VARIANTS:
        known = overridable_inputs()
        for i, (name, value) in enumerate(zip(frame["name"], frame["value"])):
            if name and name not in known:
                hint = "; remove the spaces" if name.strip() in known else ""
                problems.append(Problem(locate(spec.name, i, "name"),
                                        f"unknown input name {name!r}{hint}", spec.name, i, "name"))
            elif name and np.isfinite(value):  # the value as the input it replaces takes it
                bad = known[name].column(name).problem(float(value))
                if bad:
                    problems.append(Problem(locate(spec.name, i, "value"), f"{name} {bad}",
                                            spec.name, i, "value"))
    for col in spec.columns:
        if not col.references:
            continue
        target_table, target_col = col.references.split(".")
        if target_table not in tables:
            continue
        targets = [(j, v) for j, v in enumerate(tables[target_table][target_col]) if v]
        allowed = {_match_key(target_table, j, target_col, v, numbers) for j, v in targets}
        for i, value in enumerate(frame[col.name]):
            if value and _match_key(spec.name, i, col.name, value, numbers) not in allowed:
                hint = _near_miss(value, targets, target_table, target_col, locate)
                problems.append(Problem(locate(spec.name, i, col.name),
                                        f"{col.name} {value!r} is not a {target_col} in "
                                        f"{target_table}{hint}", spec.name, i, col.name))
    if spec is SUBSCRIPTIONS and "Prices" in tables:
        _check_price_rows(frame, tables["Prices"], locate, problems, numbers)


def _check_price_rows(subs: pd.DataFrame, prices: pd.DataFrame, locate: Locator,
                      problems: list[Problem], numbers: set) -> None:
    """A subscription's ``price_model`` must name a price row with an output price > 0: the
    bill is counted in output tokens, and at a free output price it would buy unboundedly
    many. An unknown name is reported by the reference check; a row without an input price
    leaves the by-type figures blank (as the blended figures of such a row), not an error."""
    rows = {_match_key("Prices", j, "model", v, numbers): j for j, v in enumerate(prices["model"]) if v}
    for i, value in enumerate(subs["price_model"]):
        j = rows.get(_match_key("Subscriptions", i, "price_model", value, numbers)) if value else None
        if j is not None and prices["price_usd_per_mtok"].iloc[j] == 0:   # negative, blank: at that cell
            problems.append(Problem(locate("Subscriptions", i, "price_model"), (
                f"price_model {value!r}: its output price ({locate('Prices', j, 'price_usd_per_mtok')}) "
                "is 0, so the bill buys no countable output tokens; pick a priced row or leave "
                "price_model blank (the seed's output-only reading)"), "Subscriptions", i, "price_model"))


def formula_text_problems(inputs: Inputs) -> list[Problem]:
    """Text cells that would become formulas when written into a workbook cell (text
    starting with ``=``: openpyxl, and so the workbook builder, stores it as a formula),
    located by the inputs' own locator. ``tokencost build`` refuses them."""
    problems = []
    for spec in TABLES:
        frame = inputs.tables.get(spec.name)
        if frame is None:
            continue
        for col in spec.columns:
            if col.kind != "text" or col.name not in frame.columns:
                continue
            for i, v in enumerate(frame[col.name]):
                if isinstance(v, str) and v.startswith("="):
                    problems.append(Problem(
                        inputs.locate(spec.name, i, col.name),
                        f"{col.name} {v!r} starts with '=': the workbook would store it as a "
                        "formula; remove the '=' (or start the text with another character)",
                        spec.name, i, col.name))
    return problems


def variant_overrides(inputs: Inputs) -> dict[str, dict[str, float]]:
    """The Variants table as ``{variant: {input name: value}}``, in table order."""
    out: dict[str, dict[str, float]] = {}
    for row in inputs.variants.itertuples(index=False):
        out.setdefault(row.variant, {})[row.name] = float(row.value)
    return out


def variant_sources(inputs: Inputs) -> dict[str, dict[str, str]]:
    """Where each override of each variant is, ``{variant: {input name: where}}``
    (``variants.csv line 3, column value``, ``subsidized_power!B15``), for messages."""
    out: dict[str, dict[str, str]] = {}
    for i, row in enumerate(inputs.variants.itertuples(index=False)):
        out.setdefault(row.variant, {})[row.name] = inputs.locate("Variants", i, "value")
    return out


def variant_inputs(inputs: Inputs) -> dict[str, Inputs]:
    """The inputs under each named variant of the Variants table, in table order."""
    sources = variant_sources(inputs)
    return {name: inputs.with_overrides(ov, sources[name])
            for name, ov in variant_overrides(inputs).items()}


__all__ = ["Inputs", "Problem", "Locator", "default_locator", "check_tables", "prepare",
           "number_problem", "formula_text_problems", "variant_overrides", "variant_sources", "variant_inputs",
           "TABLES_BY_NAME"]
