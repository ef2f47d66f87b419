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
from ..core.subscription import subscription_by_workload as core_subscription_by_workload
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


#: the view of a row of :func:`subscriptions_by_workload`: the seed's reading, or a workload's mix
SEED_VIEW = "output only (the seed's view)"
MIX_VIEW = "by token type"

SUBSCRIPTION_MIX_TERMS = ["output_mtok_per_month", "input_mtok_per_month",
                          "cached_input_mtok_per_month", "cost_output_usd_per_month",
                          "cost_input_usd_per_month", "cost_cached_input_usd_per_month",
                          "hardware_cost_usd_per_month", "profit_usd_per_month",
                          "cost_with_rd_usd_per_month", "profit_with_rd_usd_per_month"]
SUBSCRIPTION_MIX_COLUMNS = ["plan", "view", "workload", "price_model", "cost_basis",
                            "price_usd_per_output_mtok"] + SUBSCRIPTION_MIX_TERMS


def subscriptions_by_workload(inputs: Inputs, subscriptions: pd.DataFrame,
                              model_costs: pd.DataFrame, mix: Optional[pd.DataFrame]) -> pd.DataFrame:
    """Each subscription's API-equivalent bill split by token type, per workload.

    Per plan, first the seed's output-only reading (*view* ``output only (the seed's
    view)``: the bill / the plan's list price, all output, from *subscriptions*, the
    result table of :func:`tokencost.analysis.model.subscriptions`), then, for a plan
    with a ``price_model``, one row per workload (*view* ``by token type``) from one
    call of :func:`tokencost.core.subscription.subscription_by_workload`: the price
    row's input, cached and output prices split the bill, the plan's cost basis costs
    each type (:func:`profile_token_costs`), R&D on output MTok only. A price row without
    an input price, or a cost basis without a token-mix row (no prefill throughput), leaves
    the by-type figures NaN."""
    s = inputs.subscriptions
    seed = pd.DataFrame({
        "plan": s["plan"], "view": SEED_VIEW, "workload": "", "price_model": "",
        "cost_basis": s["cost_basis"], "price_usd_per_output_mtok": s["list_price_usd_per_mtok"],
        "output_mtok_per_month": subscriptions["tokens_mtok_per_month"].to_numpy(),
        "input_mtok_per_month": 0.0, "cached_input_mtok_per_month": 0.0,
        "cost_output_usd_per_month": subscriptions["hardware_cost_usd_per_month"].to_numpy(),
        "cost_input_usd_per_month": 0.0, "cost_cached_input_usd_per_month": 0.0,
        **{k: subscriptions[k].to_numpy() for k in SUBSCRIPTION_MIX_TERMS[6:]},
    })
    seed["_plan"], seed["_order"] = np.arange(len(s)), -1
    w = inputs.workloads
    priced = s["price_model"].astype(str).str.len().to_numpy() > 0
    frames = [seed]
    if priced.any() and len(w):
        plans = s.loc[priced]
        n, m = len(plans), len(w)
        prices = _keyed(inputs.prices, "model")
        p = plans[["price_model"]].assign(_k=plans["price_model"].astype(str).map(name_key)).merge(
            prices, on="_k", how="left")
        costs = _keyed(profile_token_costs(model_costs, mix), "model").drop(columns=["model"])
        c = plans[["cost_basis"]].assign(_k=plans["cost_basis"].astype(str).map(name_key)).merge(
            costs, on="_k", how="left")
        # a blank cached price is the input price (no cache discount), as in token_prices
        cached = p["price_cached_input_usd_per_mtok"].where(p["price_cached_input_usd_per_mtok"].notna(),
                                                            p["price_input_usd_per_mtok"])
        out = pd.DataFrame({
            "plan": np.repeat(plans["plan"].to_numpy(dtype=object), m), "view": MIX_VIEW,
            "workload": np.tile(w["workload"].to_numpy(dtype=object), n),
            "price_model": np.repeat(plans["price_model"].to_numpy(dtype=object), m),
            "cost_basis": np.repeat(plans["cost_basis"].to_numpy(dtype=object), m),
            "_plan": np.repeat(np.flatnonzero(priced), m), "_order": np.tile(np.arange(m), n)})
        for name in ["price_usd_per_output_mtok"] + SUBSCRIPTION_MIX_TERMS:
            out[name] = np.nan
        cost_values = c[["cost_input_usd_per_mtok", "cost_cached_input_usd_per_mtok",
                         "cost_output_usd_per_mtok"]].to_numpy(dtype=float)
        # a price row without an input price cannot split the bill: NaN, never a guess
        known = np.isfinite(cost_values).all(axis=1) & np.isfinite(
            p["price_input_usd_per_mtok"].to_numpy(dtype=float)) & (
            p["price_usd_per_mtok"].to_numpy(dtype=float) > 0)
        if known.any():
            def col(values):   # one row per priced plan with known costs, as a column
                return np.asarray(values, dtype=float)[known][:, None]
            res = core_subscription_by_workload(
                col(plans["subscription_usd_per_month"]), col(plans["api_equivalent_usd_per_month"]),
                col(p["price_input_usd_per_mtok"]), col(cached), col(p["price_usd_per_mtok"]),
                w["input_tokens_per_output_token"].to_numpy(dtype=float)[None, :],
                w["cache_hit_share"].to_numpy(dtype=float)[None, :],
                *(cost_values[known][:, [j]] for j in range(3)), col(plans["rd_usd_per_mtok"]))
            rows = np.repeat(known, m)
            for name in ["price_usd_per_output_mtok"] + SUBSCRIPTION_MIX_TERMS:
                out.loc[rows, name] = np.asarray(res[name]).ravel()
        frames.append(out)
    table = pd.concat(frames, ignore_index=True).sort_values(["_plan", "_order"], kind="stable")
    return table[SUBSCRIPTION_MIX_COLUMNS].reset_index(drop=True)


__all__ = ["profile_token_costs", "token_prices", "workload_economics", "subscriptions_by_workload",
           "PRICE_COLUMNS", "WORKLOAD_COLUMNS", "SUBSCRIPTION_MIX_COLUMNS", "SEED_VIEW", "MIX_VIEW"]
