"""Validated inputs: the boundary between raw tables and the core.

Raw tables (pandas DataFrames, from the CSV data files or from a workbook's
Excel Tables) are checked once against :mod:`tokencost.schema`; the core then
trusts them. Every problem names where it is through a *locator* supplied by
the shell that read the table (``hardware.csv row 3, power_w`` for a CSV file,
``Inputs!C7`` for a workbook), and what is wrong. Pure: no I/O here.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd

from .errors import InputError
from .schema import TABLES, TABLES_BY_NAME, VARIANTS, Column, TableSpec, overridable_inputs

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
    """Validated input tables, keyed by :class:`~tokencost.schema.TableSpec` name.

    Numeric columns are float, blanks in optional columns hold their default
    (or NaN where there is none), text columns are ``str``.
    """
    tables: Mapping[str, pd.DataFrame]
    overrides: Mapping[str, float] = field(default_factory=dict)

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

    def with_overrides(self, overrides: Mapping[str, float]) -> "Inputs":
        """A copy in which each named input takes *value* in every row of its table
        (a scenario or a variant). Names are canonical input names."""
        known = overridable_inputs()
        tables = dict(self.tables)
        for name, value in overrides.items():
            if name not in known:
                raise InputError(name, f"unknown input name {name!r}; known: {', '.join(sorted(known))}")
            spec = known[name]
            col = spec.column(name)
            number = _to_float(value)
            if number is None:
                raise InputError(name, f"{name} must be a number, got {value!r}")
            bad = _bound_problem(col, number)
            if bad:
                raise InputError(name, f"{name} {bad}")
            frame = tables[spec.name].copy()
            frame[name] = number
            tables[spec.name] = frame
        return replace(self, tables=tables, overrides={**self.overrides, **overrides})


def _to_float(value) -> Optional[float]:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None  # NaN, inf: not a usable number


def _bound_problem(col: Column, x: float) -> Optional[str]:
    checks = ((col.gt, operator.gt), (col.ge, operator.ge), (col.le, operator.le), (col.lt, operator.lt))
    if any(bound is not None and not op(x, bound) for bound, op in checks):
        return f"must be {col.rule_text()}, got {x:g}"
    return None


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def check_tables(raw: Mapping[str, pd.DataFrame], locate: Locator = default_locator) -> list[Problem]:
    """Every problem in the raw tables, in table/row/column order (empty list: valid)."""
    return _prepare(raw, locate)[1]


def prepare(raw: Mapping[str, pd.DataFrame], locate: Locator = default_locator) -> Inputs:
    """Validate raw tables and return :class:`Inputs`; raise :class:`InputError`
    naming the first problem (``str(err)`` lists how many more there are)."""
    inputs, problems = _prepare(raw, locate)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s); run `tokencost check`)" if len(problems) > 1 else ""
        raise InputError(first.where, first.message + more)
    return inputs


def _prepare(raw: Mapping[str, pd.DataFrame], locate: Locator) -> tuple[Inputs, list[Problem]]:
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    for spec in TABLES:
        frame = raw.get(spec.name)
        if frame is None:
            if spec is VARIANTS:
                frame = pd.DataFrame(columns=spec.column_names)
            else:
                problems.append(Problem(locate(spec.name, None, None),
                                        f"table {spec.name} is missing", spec.name))
                continue
        tables[spec.name] = _clean_table(spec, frame, locate, problems)
    for spec in TABLES:
        if spec.name in tables:
            _check_keys_and_references(spec, tables, locate, problems)
    return Inputs(tables), problems


def _clean_table(spec: TableSpec, frame: pd.DataFrame, locate: Locator,
                 problems: list[Problem]) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    # drop rows that are blank in every spec column (an empty table row in Excel)
    present = [c for c in spec.column_names if c in frame.columns]
    if present and len(frame):
        blank = frame[present].apply(lambda col: col.map(_is_blank)).all(axis=1)
        frame = frame.loc[~blank.to_numpy()].reset_index(drop=True)
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
        if col.kind == "text":
            cleaned = []
            for i, v in enumerate(values):
                if _is_blank(v):
                    if col.required:
                        problems.append(Problem(locate(spec.name, i, col.name),
                                                f"{col.name} is required but blank", spec.name, i, col.name))
                    cleaned.append("")
                else:
                    cleaned.append(str(v).strip() if not isinstance(v, float) or not v.is_integer()
                                   else str(int(v)))
            out[col.name] = pd.Series(cleaned, dtype=object)
        else:
            cleaned = np.empty(len(values))
            for i, v in enumerate(values):
                if _is_blank(v):
                    if col.required:
                        problems.append(Problem(locate(spec.name, i, col.name),
                                                f"{col.name} is required but blank", spec.name, i, col.name))
                    cleaned[i] = col.default if col.default is not None else np.nan
                    continue
                number = _to_float(v)
                if number is None:
                    problems.append(Problem(locate(spec.name, i, col.name),
                                            f"{col.name} must be a number, got text {v!r}",
                                            spec.name, i, col.name))
                    cleaned[i] = np.nan
                    continue
                bad = _bound_problem(col, number)
                if bad:
                    problems.append(Problem(locate(spec.name, i, col.name), f"{col.name} {bad}",
                                            spec.name, i, col.name))
                cleaned[i] = number
            out[col.name] = pd.Series(cleaned, dtype=float)
    return pd.DataFrame(out, columns=spec.column_names)


def _norm(name: str) -> str:
    return str(name).strip().casefold()


def _check_keys_and_references(spec: TableSpec, tables: Mapping[str, pd.DataFrame], locate: Locator,
                               problems: list[Problem]) -> None:
    frame = tables[spec.name]
    if spec.unique_key and spec.key in frame.columns:
        seen: dict[str, int] = {}
        for i, key in enumerate(frame[spec.key]):
            if not key:
                continue
            k = _norm(key)
            if k in seen:
                problems.append(Problem(locate(spec.name, i, spec.key),
                                        f"duplicate {spec.key} {key!r} (first at row {seen[k] + 1})",
                                        spec.name, i, spec.key))
            else:
                seen[k] = i
    if spec is VARIANTS:
        known = overridable_inputs()
        for i, name in enumerate(frame["name"]):
            if name and name not in known:
                problems.append(Problem(locate(spec.name, i, "name"),
                                        f"unknown input name {name!r}", spec.name, i, "name"))
    for col in spec.columns:
        if not col.references:
            continue
        target_table, target_col = col.references.split(".")
        if target_table not in tables:
            continue
        allowed = {_norm(v) for v in tables[target_table][target_col] if v}
        for i, value in enumerate(frame[col.name]):
            if value and _norm(value) not in allowed:
                problems.append(Problem(locate(spec.name, i, col.name),
                                        f"{col.name} {value!r} is not a {target_col} in {target_table}",
                                        spec.name, i, col.name))


def variant_overrides(inputs: Inputs) -> dict[str, dict[str, float]]:
    """The Variants table as ``{variant: {input name: value}}``, in table order."""
    out: dict[str, dict[str, float]] = {}
    for row in inputs.variants.itertuples(index=False):
        out.setdefault(row.variant, {})[row.name] = float(row.value)
    return out


__all__ = ["Inputs", "Problem", "Locator", "default_locator", "check_tables", "prepare",
           "variant_overrides", "TABLES_BY_NAME"]
