"""Orchestration: validated inputs -> the core -> result tables.

Joins the input tables (a model profile to its GPU's cost, a price to its cost
basis) and calls the core functions once per column, vectorized over rows.
Scenarios and variants are the same evaluation on overridden inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .. import core
from ..errors import InputError
from ..inputs.validate import Inputs, Problem, variant_inputs
from ..inputs.schema import TABLES_BY_NAME, name_key

COST_TERMS = ["depreciation_usd_per_month", "infra_usd_per_month", "power_usd_per_month",
              "staff_usd_per_month"]


@dataclass(frozen=True)
class Results:
    """Result tables of one evaluation (all money in USD)."""
    gpu_costs: pd.DataFrame
    model_costs: pd.DataFrame
    markups: pd.DataFrame
    subscriptions: pd.DataFrame
    overrides: Mapping[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"gpu_costs": self.gpu_costs, "model_costs": self.model_costs,
                "markups": self.markups, "subscriptions": self.subscriptions}


def _key(series: pd.Series) -> pd.Series:
    return series.astype(str).map(name_key)


def gpu_costs(inputs: Inputs) -> pd.DataFrame:
    """Monthly cost build-up and $/GPU-hour for each GPU that has cost components."""
    hw = inputs.hardware.assign(_k=_key(inputs.hardware["gpu"]))
    cc = inputs.cost_components.assign(_k=_key(inputs.cost_components["gpu"]))
    rows = cc.drop(columns=["gpu", "source"]).merge(hw.drop(columns=["source"]), on="_k", how="inner")
    terms = core.gpu_monthly_cost_terms(
        rows["gpu_price_usd"], rows["depreciation_years"], rows["infra_usd_per_month"],
        rows["power_w"], rows["pue"], rows["power_price_usd_per_kwh"], rows["staff_usd_per_month"],
        rows["hours_per_month"], rows["cost_of_capital"])
    out = pd.DataFrame({"gpu": rows["gpu"]})
    for name in COST_TERMS + ["total_usd_per_month", "gpu_hour_usd"]:
        out[name] = terms[name].to_numpy()
    out["hours_per_month"] = rows["hours_per_month"].to_numpy()
    out["utilization"] = rows["utilization"].to_numpy()
    return out


def model_costs(inputs: Inputs, gpus: pd.DataFrame) -> pd.DataFrame:
    """Tokens per hour and cost per MTok for each model profile."""
    m = inputs.models.assign(_k=_key(inputs.models["gpu"]))
    g = gpus[["gpu", "gpu_hour_usd", "utilization"]].rename(columns={"gpu": "_gpu_name"})
    g = g.assign(_k=_key(g["_gpu_name"]))
    rows = m.merge(g, on="_k", how="left")
    out = pd.DataFrame({
        "model": rows["model"], "gpu": rows["gpu"], "tokens_per_s": rows["tokens_per_s"],
        "batch_size": rows["batch_size"], "utilization": rows["utilization"],
    })
    out["tokens_per_hour"] = core.tokens_per_hour(rows["tokens_per_s"], rows["utilization"]).to_numpy()
    out["gpu_hour_usd"] = rows["gpu_hour_usd"].to_numpy()
    out["cost_usd_per_mtok"] = core.cost_per_mtok(rows["gpu_hour_usd"], rows["tokens_per_s"],
                                                  rows["utilization"]).to_numpy()
    out["description"] = rows["description"]
    return out


def _cost_of(basis: pd.Series, models: pd.DataFrame) -> pd.Series:
    lookup = pd.Series(models["cost_usd_per_mtok"].to_numpy(), index=_key(models["model"]))
    return pd.Series(lookup.reindex(_key(basis)).to_numpy(), index=basis.index)


def markups(inputs: Inputs, models: pd.DataFrame) -> pd.DataFrame:
    """Each price against the cost of its cost-basis profile."""
    p = inputs.prices
    price = p["price_usd_per_mtok"]
    cost = _cost_of(p["cost_basis"], models)
    margin = pd.Series(np.nan, index=p.index)  # undefined for a free (0) price
    paid = price > 0
    if paid.any():
        margin[paid] = core.gross_margin(price[paid], cost[paid])
    return pd.DataFrame({
        "provider": p["provider"], "model": p["model"], "cost_basis": p["cost_basis"],
        "price_usd_per_mtok": price, "cost_usd_per_mtok": cost,
        "markup": core.markup(price, cost), "gross_margin": margin,
    })


def subscriptions(inputs: Inputs, models: pd.DataFrame) -> pd.DataFrame:
    """Each subscription recalculated at the hardware cost of its cost-basis profile."""
    s = inputs.subscriptions
    cost = _cost_of(s["cost_basis"], models)
    econ = core.subscription_economics(s["subscription_usd_per_month"],
                                       s["api_equivalent_usd_per_month"],
                                       s["list_price_usd_per_mtok"], cost, s["rd_usd_per_mtok"])
    out = pd.DataFrame({
        "plan": s["plan"], "cost_basis": s["cost_basis"],
        "subscription_usd_per_month": s["subscription_usd_per_month"],
        "api_equivalent_usd_per_month": s["api_equivalent_usd_per_month"],
        "list_price_usd_per_mtok": s["list_price_usd_per_mtok"],
        "cost_usd_per_mtok": cost, "rd_usd_per_mtok": s["rd_usd_per_mtok"],
    })
    for name, values in econ.items():
        out[name] = values
    return out


#: result columns that must hold a finite number in every row (gross_margin too, where
#: the price is > 0: a free price has no margin)
FINITE_RESULTS = {
    "gpu_costs": COST_TERMS + ["total_usd_per_month", "gpu_hour_usd"],
    "model_costs": ["tokens_per_hour", "gpu_hour_usd", "cost_usd_per_mtok"],
    "markups": ["cost_usd_per_mtok", "markup", "gross_margin"],
    "subscriptions": ["tokens_mtok_per_month", "hardware_cost_usd_per_month", "profit_usd_per_month",
                      "cost_with_rd_usd_per_month", "profit_with_rd_usd_per_month"],
}


def numeric_cells(inputs: Inputs, table: str, row: int) -> list[tuple[str, str, float]]:
    """``(where, column, value)`` of the number cells of one input row; an input that
    an override replaced is located at the override (``--set NAME``)."""
    frame = inputs[table]
    out = []
    for col in TABLES_BY_NAME[table].columns:
        if col.kind != "number":
            continue
        value = float(frame[col.name].iloc[row])
        if col.name in inputs.override_sources:
            where = inputs.override_sources[col.name]
        else:
            where = inputs.locate(table, row, col.name)
        out.append((where, col.name, value))
    return out


def _row_of(frame: pd.DataFrame, column: str, key) -> int:
    hits = np.flatnonzero(_key(frame[column]).to_numpy() == name_key(key))
    return int(hits[0]) if len(hits) else -1


def extreme(cells):
    """The ``(where, column, value)`` whose value is farthest from 1 in orders of
    magnitude (zeros and blanks left out): the likely cause of an overflow."""
    usable = [c for c in cells if np.isfinite(c[2]) and c[2] != 0]
    if not usable:
        return None
    return max(usable, key=lambda c: abs(np.log10(abs(c[2]))))


def not_finite_problem(cells, result: str, what: str, table: str = "", row=None) -> Problem:
    """The problem for a result that is not a finite number, located at the most
    extreme of the input *cells* that feed it (see :func:`extreme`)."""
    worst = extreme(cells)
    if worst is None:
        return Problem(what, f"{result} of {what} is not a finite number", table, row)
    where, column, value = worst
    size = "large" if abs(value) > 1 else "small"
    return Problem(where, f"{column}={value:g} is too {size}: it makes {result} of {what} "
                          "not a finite number; use a value of realistic size", table, row, column)


def _bad_rows(frame: pd.DataFrame, columns, allowed_nan=None) -> np.ndarray:
    """Indices of rows with a value that is not a finite number in *columns*."""
    if frame.empty:
        return np.array([], dtype=int)
    values = frame[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if allowed_nan is not None:
        bad &= ~(np.isnan(values) & allowed_nan)
    return np.flatnonzero(bad.any(axis=1))


def _first_bad(frame: pd.DataFrame, columns, row: int, allowed_nan=None) -> str:
    values = frame[columns].iloc[row].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if allowed_nan is not None:
        bad &= ~(np.isnan(values) & allowed_nan[row])
    return columns[int(np.flatnonzero(bad)[0])]


def _gpu_cells(inputs: Inputs, gpu) -> list:
    cells = []
    cc = _row_of(inputs.cost_components, "gpu", gpu)
    hw = _row_of(inputs.hardware, "gpu", gpu)
    if cc >= 0:
        cells += numeric_cells(inputs, "CostComponents", cc)
    if hw >= 0:
        cells += numeric_cells(inputs, "Hardware", hw)
    return cells


def _model_cells(inputs: Inputs, model) -> list:
    m = _row_of(inputs.models, "model", model)
    if m < 0:
        return []
    return numeric_cells(inputs, "Models", m) + _gpu_cells(inputs, inputs.models["gpu"].iloc[m])


def _evaluate(inputs: Inputs) -> tuple[Results | None, list[Problem]]:
    """The results, or the problems of the first stage (GPU costs, model costs, prices
    and subscriptions) whose results are not all finite numbers."""
    with np.errstate(all="ignore"):  # overflow shows as a result that is not finite: below
        gpus = gpu_costs(inputs)
        cols = FINITE_RESULTS["gpu_costs"]
        problems = [not_finite_problem(_gpu_cells(inputs, gpus["gpu"].iloc[j]),
                                       _first_bad(gpus, cols, j), f"GPU {gpus['gpu'].iloc[j]}",
                                       "CostComponents", j)
                    for j in _bad_rows(gpus, cols).tolist()]
        if problems:
            return None, problems
        models = model_costs(inputs, gpus)
        cols = FINITE_RESULTS["model_costs"]
        problems = [not_finite_problem(_model_cells(inputs, models["model"].iloc[i]),
                                       _first_bad(models, cols, i),
                                       f"model profile {models['model'].iloc[i]}", "Models", i)
                    for i in _bad_rows(models, cols).tolist()]
        if problems:
            return None, problems
        prices = markups(inputs, models)
        cols = FINITE_RESULTS["markups"]
        free = (prices["price_usd_per_mtok"] == 0).to_numpy()[:, None] & (
            np.array(cols) == "gross_margin")[None, :]
        problems = [not_finite_problem(
            numeric_cells(inputs, "Prices", i) + _model_cells(inputs, prices["cost_basis"].iloc[i]),
            _first_bad(prices, cols, i, free), f"price {prices['model'].iloc[i]}", "Prices", i)
            for i in _bad_rows(prices, cols, free).tolist()]
        subs = subscriptions(inputs, models)
        cols = FINITE_RESULTS["subscriptions"]
        problems += [not_finite_problem(
            numeric_cells(inputs, "Subscriptions", i) + _model_cells(inputs, subs["cost_basis"].iloc[i]),
            _first_bad(subs, cols, i), f"subscription {subs['plan'].iloc[i]}", "Subscriptions", i)
            for i in _bad_rows(subs, cols).tolist()]
    if problems:
        return None, problems
    return Results(gpus, models, prices, subs, dict(inputs.overrides)), []


def result_problems(inputs: Inputs, variants: bool = False) -> list[Problem]:
    """The results that are not finite numbers (an overflow: inputs far too large or
    small), each located at the input most likely to blame; empty when all are finite.
    With *variants*, the results under each named variant too."""
    problems = _evaluate(inputs)[1]
    if variants and not problems:
        for variant in variant_inputs(inputs).values():
            problems += _evaluate(variant)[1]
    return problems


def evaluate(inputs: Inputs) -> Results:
    """Run the whole model once on validated inputs.

    Every result is a finite number, or :class:`~tokencost.errors.InputError` names
    the input that makes it overflow (see :func:`result_problems`)."""
    results, problems = _evaluate(inputs)
    if problems:
        raise InputError(problems[0].where, problems[0].message)
    return results


def evaluate_variants(inputs: Inputs) -> dict[str, Results]:
    """The model under each named variant of the Variants table."""
    return {name: evaluate(v) for name, v in variant_inputs(inputs).items()}
