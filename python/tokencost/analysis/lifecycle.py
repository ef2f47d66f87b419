"""Orchestration of the investment case (:mod:`tokencost.core.lifecycle`) over validated inputs.

The case's own parameters come from ``lifecycle.csv`` (or a workbook's
LifecycleInputs cells, passed as *overrides*); everything else from the input
tables, as the workbook's Lifecycle sheet reads them: the Prices row named by
``price_row`` gives the three prices, its ``cost_basis`` profile the decode
tokens/s, the profile's GPU its price and power (Hardware) and operating
costs, utilization and depreciation life (CostComponents), the token-mix
catalog (``token_mix.csv``) the profile's prefill tokens/s and cached-input
cost factor, the Workloads row named by ``workload`` the input:output ratio and
cache-hit share. Sensitivity on the case (an NPV grid and a tornado) is one
vectorized core call over every point.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from ..core import lifecycle as corelife
from ..errors import InputError
from ..inputs.datasets import DATA_DIR
from ..inputs.csvfile import read_csv
from ..inputs.reference_tables import read_catalog
from ..inputs.schema import name_key
from ..inputs.validate import Inputs, variant_overrides, variant_sources

#: lifecycle.csv rows whose value is text (a name), not a number
TEXT_PARAMETERS = ("price_row", "workload")

#: lifecycle.csv rows whose value is text that may be blank: the scenario (a Variants row or a
#: workbook's scenario tab) whose overrides the case takes
OPTIONAL_TEXT = ("scenario",)

#: the parameters a grid or a tornado may vary besides lifecycle.csv's numbers
DERIVED = ("utilization_target", "price_change_per_year")


def read_parameters(path=None) -> pd.DataFrame:
    """``lifecycle.csv`` (name, value, unit, description, source), checked: every name once."""
    frame = read_csv(path or DATA_DIR / "lifecycle.csv")
    missing = {"name", "value"} - set(frame.columns)
    if missing:
        raise InputError("lifecycle.csv", f"lifecycle.csv needs the columns name and value (missing: "
                                          f"{', '.join(sorted(missing))})")
    names = frame["name"].astype(str).str.strip()
    dup = names[names.duplicated()]
    if len(dup):
        raise InputError("lifecycle.csv", f"lifecycle.csv names {dup.iloc[0]!r} twice")
    return frame.assign(name=names)


def _number(name: str, value, where: str):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise InputError(where, f"{where}: {name} must be a number or blank, got {value!r}") from None
    if isinstance(value, bool):
        raise InputError(where, f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def _row(frame: pd.DataFrame, column: str, key: str, what: str, option: str) -> pd.Series:
    hits = frame[frame[column].astype(str).map(name_key) == name_key(str(key).strip())]
    if hits.empty:
        known = ", ".join(str(v) for v in frame[column])
        raise InputError(option, f"unknown {what} {key!r}; known: {known}")
    return hits.iloc[0]


def _scenario_inputs(inputs: Inputs, scenario, where: str) -> Inputs:
    """*inputs* with the overrides of the variant (a workbook's scenario tab) named *scenario*;
    blank = *inputs* themselves."""
    if scenario is None or (isinstance(scenario, float) and math.isnan(scenario)) or not str(scenario).strip():
        return inputs
    variants = variant_overrides(inputs)
    found = {name_key(str(n)): n for n in variants}
    key = name_key(str(scenario).strip())
    if key not in found:
        known = ", ".join(variants) or "none (the book has no scenario tab, the data no Variants row)"
        raise InputError(where, f"{where}: unknown scenario {str(scenario).strip()!r}; known: {known}")
    name = found[key]
    return inputs.with_overrides(variants[name], variant_sources(inputs)[name])


def parameters(inputs: Inputs, overrides: Optional[Mapping] = None,
               table: Optional[pd.DataFrame] = None, mix: Optional[pd.DataFrame] = None,
               where: Optional[Mapping[str, str]] = None) -> dict:
    """Every argument of :func:`tokencost.core.lifecycle.lifecycle_timeline` for one case.

    Parameters
    ----------
    inputs : Inputs
        Validated input tables.
    overrides : mapping, optional
        ``{name: value}`` replacing lifecycle.csv values (a workbook's LifecycleInputs cells,
        ``--set`` options); None or NaN = blank. Unknown names are an error.
    table : DataFrame, optional
        The parameter table (default: the shipped lifecycle.csv).
    mix : DataFrame, optional
        The token-mix catalog (default: ``token_mix.csv``).
    where : mapping, optional
        ``{name: "Sheet!B7"}`` naming where each override came from, for messages.
    """
    table = read_parameters() if table is None else table
    values = {str(r["name"]): r["value"] for _, r in table.iterrows()}
    where = dict(where or {})
    for name, value in (overrides or {}).items():
        if name not in values and name not in DERIVED:
            known = ", ".join(list(values) + list(DERIVED))
            raise InputError(where.get(name, "--set"), f"unknown lifecycle parameter {name!r}; known: {known}")
        values[name] = value
    inputs = _scenario_inputs(inputs, values.get("scenario"), where.get("scenario", "scenario"))
    text = {}
    for name in TEXT_PARAMETERS:
        value = values.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
            raise InputError(where.get(name, name), f"{where.get(name, name)}: {name} is blank: name a "
                             f"{'Prices model' if name == 'price_row' else 'Workloads row'}")
        text[name] = str(value).strip()
    price = _row(inputs.prices, "model", text["price_row"], "price row", where.get("price_row", "price_row"))
    workload = _row(inputs.workloads, "workload", text["workload"], "workload",
                    where.get("workload", "workload"))
    model = _row(inputs.models, "model", price["cost_basis"], "model profile", "cost_basis")
    hw = _row(inputs.hardware, "gpu", model["gpu"], "GPU", "cost_basis")
    cc = _row(inputs.cost_components, "gpu", model["gpu"], "GPU in CostComponents", "cost_basis")
    mix = read_catalog("token_mix.csv") if mix is None else mix
    hits = mix[mix["model"].astype(str).map(name_key) == name_key(str(model["model"]))]
    prefill = float(hits["prefill_tokens_per_s"].iloc[0]) if len(hits) else math.nan
    factor = float(np.clip(hits["cached_input_cost_factor"].iloc[0], 0, 1)) if len(hits) else 0.0
    p_in = price.get("price_input_usd_per_mtok", math.nan)
    p_cached = price.get("price_cached_input_usd_per_mtok", math.nan)
    p_in = math.nan if p_in is None or pd.isna(p_in) else float(p_in)
    p_cached = p_in if p_cached is None or pd.isna(p_cached) else float(p_cached)
    nums = {name: _number(name, values[name], where.get(name, name)) for name in values
            if name not in TEXT_PARAMETERS + OPTIONAL_TEXT and name not in DERIVED}
    out = {
        "horizon_years": nums["horizon_years"], "gpus": nums["gpus"], "facility_mw": nums["facility_mw"],
        "power_w": float(hw["power_w"]), "pue": float(cc["pue"]), "gpu_price_usd": float(hw["gpu_price_usd"]),
        "server_capex_usd_per_gpu": nums["server_capex_usd_per_gpu"],
        "power_price_usd_per_kwh": float(cc["power_price_usd_per_kwh"]),
        "staff_usd_per_month": float(cc["staff_usd_per_month"]),
        "colocation_usd_per_gpu_month": nums["colocation_usd_per_gpu_month"],
        "hours_per_month": float(cc["hours_per_month"]),
        "rent_usd_per_gpu_hour": nums["rent_usd_per_gpu_hour"],
        "deployment_ramp_months": nums["deployment_ramp_months"],
        "utilization_start": nums["utilization_start"],
        "utilization_target": float(cc["utilization"]),
        "utilization_ramp_months": nums["utilization_ramp_months"],
        "mtbi_hours": nums["mtbi_hours"], "recovery_hours": nums["recovery_hours"],
        "availability": nums["availability"],
        "decode_tokens_per_s": float(model["tokens_per_s"]), "prefill_tokens_per_s": prefill,
        "cached_input_cost_factor": factor,
        "input_tokens_per_output_token": float(workload["input_tokens_per_output_token"]),
        "cache_hit_share": float(workload["cache_hit_share"]),
        "price_input_usd_per_mtok": p_in, "price_cached_input_usd_per_mtok": p_cached,
        "price_output_usd_per_mtok": float(price["price_usd_per_mtok"]),
        "throughput_gain_per_year": nums["throughput_gain_per_year"],
        "price_change_input_per_year": nums["price_change_input_per_year"],
        "price_change_cached_input_per_year": nums["price_change_cached_input_per_year"],
        "price_change_output_per_year": nums["price_change_output_per_year"],
        "depreciation_years": float(cc["depreciation_years"]),
        "cost_of_capital": nums["cost_of_capital"],
        "residual_value_share": nums["residual_value_share"],
    }
    for name in DERIVED:                     # the grid's and tornado's extra handles
        if name in (overrides or {}):
            value = _number(name, overrides[name], where.get(name, name))
            if name == "utilization_target":
                out[name] = value
            else:
                for key in ("price_change_input_per_year", "price_change_cached_input_per_year",
                            "price_change_output_per_year"):
                    out[key] = value
    if out["input_tokens_per_output_token"] > 0 and math.isnan(prefill):
        raise InputError("workload", f"workload {text['workload']!r} has input tokens but the profile "
                         f"{model['model']!r} has no prefill tokens/s in token_mix.csv")
    if out["input_tokens_per_output_token"] > 0 and math.isnan(p_in):
        raise InputError("price_row", f"price row {text['price_row']!r} has no input price, and the "
                         f"workload {text['workload']!r} has input tokens")
    return out


def _frames(timeline: dict, summary: dict, single: bool) -> dict:
    if single:
        months = pd.DataFrame({k: np.asarray(timeline[k]) for k in corelife.MONTHLY_KEYS})
        months = months[months["active"] > 0].reset_index(drop=True)
        row = {k: [v] for k, v in summary.items()}
        for key in ("fleet_gpus", "availability", "horizon_months", "seconds_per_output_token"):
            row[key] = [float(np.asarray(timeline[key]))]
        return {"months": months, "summary": pd.DataFrame(row)}
    return {"summary": pd.DataFrame(summary)}


def run(inputs: Inputs, overrides: Optional[Mapping] = None, *, table: Optional[pd.DataFrame] = None,
        mix: Optional[pd.DataFrame] = None, where: Optional[Mapping[str, str]] = None) -> dict:
    """The case: ``months`` (one row per month of the horizon, :data:`MONTHLY_KEYS` columns),
    ``summary`` (one row: NPV, IRR, payback, lifetime costs, fleet size, availability) and
    ``parameters`` (the core's arguments)."""
    params = parameters(inputs, overrides, table, mix, where)
    timeline = corelife.lifecycle_timeline(**params)
    out = _frames(timeline, corelife.lifecycle_summary(timeline), True)
    out["parameters"] = params
    return out


def yearly(months: pd.DataFrame) -> pd.DataFrame:
    """The monthly rows summed by year (prices and ratios averaged over the year's months)."""
    sums = [k for k in corelife.MONTHLY_KEYS if k.endswith(("_usd", "_mtok")) or k == "gpus_delivered"]
    sums = [k for k in sums if k != "cumulative_cash_usd" and not k.startswith("price_")]
    means = ["gpus_online", "utilization", "throughput_factor", "price_input_usd_per_mtok",
             "price_cached_input_usd_per_mtok", "price_output_usd_per_mtok"]
    grouped = months.groupby("year")
    out = grouped[sums].sum().join(grouped[means].mean())
    out["cumulative_cash_usd"] = grouped["cumulative_cash_usd"].last()
    return out.reset_index()[["year"] + means + sums + ["cumulative_cash_usd"]]


def _vectorized(params: Mapping, varied: Mapping[str, np.ndarray]) -> dict:
    args = {k: v for k, v in params.items()}
    for name, values in varied.items():
        if name == "price_change_per_year":
            for key in ("price_change_input_per_year", "price_change_cached_input_per_year",
                        "price_change_output_per_year"):
                args[key] = values
        else:
            args[name] = values
    return corelife.lifecycle_summary(corelife.lifecycle_timeline(**args))


def npv_grid(params: Mapping, xs, ys, x: str = "price_change_per_year",
             y: str = "utilization_target") -> pd.DataFrame:
    """NPV [USD] over a grid of two parameters (default: the yearly price change of every
    token type x the utilization reached after the ramp), one vectorized core call.

    Returns a frame with one row per *y* value and one column per *x* value."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    gx, gy = np.meshgrid(xs, ys)
    npv = _vectorized(params, {x: gx.ravel(), y: gy.ravel()})["npv_usd"].reshape(gy.shape)
    frame = pd.DataFrame(npv, columns=[f"{x}={v:g}" for v in xs])
    frame.insert(0, y, ys)
    return frame


def read_ranges(path=None) -> pd.DataFrame:
    """``lifecycle_ranges.csv``: the low and high value of each parameter for the tornado."""
    frame = read_csv(path or DATA_DIR / "lifecycle_ranges.csv")
    for column in ("name", "low", "high"):
        if column not in frame.columns:
            raise InputError("lifecycle_ranges.csv", f"lifecycle_ranges.csv needs a {column} column")
    return frame


def npv_tornado(params: Mapping, ranges: pd.DataFrame) -> pd.DataFrame:
    """NPV [USD] at each parameter's low and high value, the others at the case's values,
    sorted by swing (the widest first); all points in one vectorized core call."""
    names = [str(n) for n in ranges["name"]]
    for name in names:
        if name not in params and name not in DERIVED:
            raise InputError("lifecycle_ranges.csv", f"lifecycle_ranges.csv: unknown parameter {name!r}")
    base = float(corelife.lifecycle_summary(corelife.lifecycle_timeline(**params))["npv_usd"])
    n = len(names)
    points = {}
    for i, name in enumerate(names):
        current = params.get(name, params["price_change_output_per_year"] if name == "price_change_per_year"
                             else np.nan)
        column = np.full(2 * n, float(current))
        column[2 * i] = float(ranges["low"].iloc[i])
        column[2 * i + 1] = float(ranges["high"].iloc[i])
        points[name] = column
    npv = _vectorized(params, points)["npv_usd"]
    frame = pd.DataFrame({"parameter": names, "low": ranges["low"].astype(float).to_numpy(),
                          "high": ranges["high"].astype(float).to_numpy(),
                          "npv_low_usd": npv[0::2], "npv_high_usd": npv[1::2]})
    frame["swing_usd"] = (frame["npv_high_usd"] - frame["npv_low_usd"]).abs()
    frame["base_npv_usd"] = base
    return frame.sort_values("swing_usd", ascending=False).reset_index(drop=True)
