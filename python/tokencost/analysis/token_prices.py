"""Prices and costs by token type (input, cached input, output), blended over workloads.

Orchestration over :func:`tokencost.core.fleet.token_costs_usd_per_mtok` (the cost of
each token type from the chip up) and :func:`tokencost.core.fleet.workload_economics`
(one call for every price row x every workload). A price row whose input price is
blank, or whose cost basis has no prefill throughput in the token-mix catalog
(``token_mix.csv``), has no input cost or no blended figures: NaN (``null`` in
JSON), never a guess.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from ..core import fleet as corefleet
from ..inputs.schema import name_key
from ..inputs.validate import Inputs

PRICE_COLUMNS = ["provider", "model", "cost_basis", "as_of", "price_input_usd_per_mtok",
                 "price_cached_input_usd_per_mtok", "price_output_usd_per_mtok",
                 "cost_input_usd_per_mtok", "cost_cached_input_usd_per_mtok",
                 "cost_output_usd_per_mtok", "markup_input", "markup_output"]

WORKLOAD_COLUMNS = ["provider", "model", "workload", "input_tokens_per_output_token",
                    "cache_hit_share", "blended_price_usd_per_mtok", "blended_cost_usd_per_mtok",
                    "blended_markup", "gross_margin"]


def _keyed(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.assign(_k=frame[column].astype(str).map(name_key)).drop_duplicates("_k")


def profile_token_costs(model_costs: pd.DataFrame, mix: Optional[pd.DataFrame]) -> pd.DataFrame:
    """Cost per MTok of each token type for every model profile [USD/MTok].

    Input (cache miss) = $/GPU-hour / (prefill tokens/s x 3600 x utilization / 1e6);
    cached input = input cost x ``cached_input_cost_factor``; output = the profile's
    cost per MTok (decode). Prefill throughput and the cached factor come from *mix*
    (``token_mix.csv``); a profile without a row there has NaN input costs."""
    m = model_costs[["model", "gpu_hour_usd", "tokens_per_s", "utilization",
                     "cost_usd_per_mtok"]].assign(_k=model_costs["model"].astype(str).map(name_key))
    if mix is None or mix.empty:
        mix = pd.DataFrame(columns=["model", "prefill_tokens_per_s", "cached_input_cost_factor"])
    mx = _keyed(mix, "model")[["_k", "prefill_tokens_per_s", "cached_input_cost_factor"]]
    rows = m.merge(mx, on="_k", how="left")
    out = pd.DataFrame({"model": rows["model"], "cost_output_usd_per_mtok": rows["cost_usd_per_mtok"],
                        "cost_input_usd_per_mtok": np.nan, "cost_cached_input_usd_per_mtok": np.nan})
    known = (rows["prefill_tokens_per_s"].notna() & rows["cached_input_cost_factor"].notna()).to_numpy()
    if known.any():
        k = rows.loc[known]
        costs = corefleet.token_costs_usd_per_mtok(
            k["gpu_hour_usd"].to_numpy(dtype=float), k["tokens_per_s"].to_numpy(dtype=float),
            k["prefill_tokens_per_s"].to_numpy(dtype=float),
            cached_input_cost_factor=np.clip(k["cached_input_cost_factor"].to_numpy(dtype=float), 0, 1),
            utilization=k["utilization"].to_numpy(dtype=float))
        out.loc[known, "cost_input_usd_per_mtok"] = costs["input_cost_usd_per_mtok"]
        out.loc[known, "cost_cached_input_usd_per_mtok"] = costs["cached_input_cost_usd_per_mtok"]
    return out


def token_prices(inputs: Inputs, model_costs: pd.DataFrame,
                 mix: Optional[pd.DataFrame]) -> pd.DataFrame:
    """One row per price: the three prices, the three costs and the markups by token type.

    A blank cached price is the input price (no cache discount); a row without an input
    price has no cached price either (as the workbook's Calc sheet reads it)."""
    p = inputs.prices
    costs = _keyed(profile_token_costs(model_costs, mix), "model").drop(columns=["model"])
    rows = p.assign(_k=p["cost_basis"].astype(str).map(name_key)).merge(costs, on="_k", how="left")
    # a blank cached price is the input price; with no input price, no cached price either
    cached = rows["price_cached_input_usd_per_mtok"].where(
        rows["price_cached_input_usd_per_mtok"].notna(), rows["price_input_usd_per_mtok"]).where(
        rows["price_input_usd_per_mtok"].notna())
    out = pd.DataFrame({
        "provider": rows["provider"], "model": rows["model"], "cost_basis": rows["cost_basis"],
        "as_of": rows["as_of"],
        "price_input_usd_per_mtok": rows["price_input_usd_per_mtok"],
        "price_cached_input_usd_per_mtok": cached,
        "price_output_usd_per_mtok": rows["price_usd_per_mtok"],
        "cost_input_usd_per_mtok": rows["cost_input_usd_per_mtok"],
        "cost_cached_input_usd_per_mtok": rows["cost_cached_input_usd_per_mtok"],
        "cost_output_usd_per_mtok": rows["cost_output_usd_per_mtok"],
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        cin = out["cost_input_usd_per_mtok"]
        out["markup_input"] = (out["price_input_usd_per_mtok"] / cin).where(cin > 0)
        out["markup_output"] = out["price_output_usd_per_mtok"] / out["cost_output_usd_per_mtok"]
    return out[PRICE_COLUMNS]


def workload_economics(prices: pd.DataFrame, workloads: pd.DataFrame) -> pd.DataFrame:
    """Every price row (of :func:`token_prices`) x every workload, in price then workload
    order: blended price, blended cost, blended markup and gross margin, from one call of
    :func:`tokencost.core.fleet.workload_economics`."""
    n, m = len(prices), len(workloads)
    out = pd.DataFrame({
        "provider": np.repeat(prices["provider"].to_numpy(dtype=object), m),
        "model": np.repeat(prices["model"].to_numpy(dtype=object), m),
        "workload": np.tile(workloads["workload"].to_numpy(dtype=object), n),
        "input_tokens_per_output_token": np.tile(
            workloads["input_tokens_per_output_token"].to_numpy(dtype=float), n),
        "cache_hit_share": np.tile(workloads["cache_hit_share"].to_numpy(dtype=float), n),
    })
    for name in WORKLOAD_COLUMNS[5:]:
        out[name] = np.nan
    needed = ["price_input_usd_per_mtok", "price_cached_input_usd_per_mtok",
              "price_output_usd_per_mtok", "cost_input_usd_per_mtok",
              "cost_cached_input_usd_per_mtok", "cost_output_usd_per_mtok"]
    values = prices[needed].to_numpy(dtype=float)
    known = np.isfinite(values).all(axis=1) & (values[:, 5] > 0)
    if known.any() and m:
        col = values[known]
        res = corefleet.workload_economics(
            *(col[:, [j]] for j in range(6)),
            workloads["input_tokens_per_output_token"].to_numpy(dtype=float)[None, :],
            workloads["cache_hit_share"].to_numpy(dtype=float)[None, :])
        rows = np.repeat(known, m)
        for name in WORKLOAD_COLUMNS[5:]:
            out.loc[rows, name] = np.asarray(res[name]).ravel()
    return out[WORKLOAD_COLUMNS]


__all__ = ["profile_token_costs", "token_prices", "workload_economics", "PRICE_COLUMNS",
           "WORKLOAD_COLUMNS"]
