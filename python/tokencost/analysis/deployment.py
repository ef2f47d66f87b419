"""Orchestration of the deployment extensions over validated inputs.

One model profile's operating point (its GPU's cost build-up, throughput and
utilization) is taken from :class:`~tokencost.inputs.validate.Inputs`; the reference
catalogs (rental prices, TCO reference points, token-mix assumptions) come in
as DataFrames read by :mod:`tokencost.inputs.reference_tables`. Every number is computed by
:mod:`tokencost.core`; this module only joins tables and picks rows.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
import pandas as pd

from .. import core
from ..core import fleet as corefleet
from ..errors import InputError
from ..inputs.validate import Inputs
from ..inputs.schema import name_key

#: the inputs of the cost model for one profile, in build-up order
PROFILE_INPUTS = ("gpu_price_usd", "depreciation_years", "infra_usd_per_month", "power_w", "pue",
                  "power_price_usd_per_kwh", "staff_usd_per_month", "hours_per_month",
                  "cost_of_capital", "utilization", "tokens_per_s")


def _norm(text) -> str:
    """How names compare here, as everywhere: ignoring case only (tokencost.inputs.schema.name_key)."""
    return name_key(text)


def _row(frame: pd.DataFrame, column: str, key: str, what: str, option: str) -> pd.Series:
    hits = frame[frame[column].map(_norm) == _norm(str(key).strip())]  # a typed option: trimmed
    if hits.empty:
        known = ", ".join(str(v) for v in frame[column])
        raise InputError(option, f"unknown {what} {key!r}; known: {known}")
    return hits.iloc[0]


def profile_point(inputs: Inputs, model: str = "dense-70b") -> dict:
    """The operating point of one model profile: every input of the cost model
    (:data:`PROFILE_INPUTS`) as a float, plus ``model`` and ``gpu`` names."""
    m = _row(inputs.models, "model", model, "model profile", "--model")
    hw = _row(inputs.hardware, "gpu", m["gpu"], "GPU", "--model")
    cc = _row(inputs.cost_components, "gpu", m["gpu"], "GPU in CostComponents", "--model")
    point = {"model": str(m["model"]), "gpu": str(hw["gpu"])}
    for name in PROFILE_INPUTS:
        source = m if name in m.index else hw if name in hw.index else cc
        point[name] = float(source[name])
    return point


def gpu_hour_usd_of(point: Mapping[str, float]):
    """Fully-loaded $/GPU-hour of an operating point (scalars or arrays)."""
    return core.gpu_hour_usd(point["gpu_price_usd"], point["depreciation_years"],
                             point["infra_usd_per_month"], point["power_w"], point["pue"],
                             point["power_price_usd_per_kwh"], point["staff_usd_per_month"],
                             point["hours_per_month"], point["cost_of_capital"])


def cost_usd_per_mtok_of(point: Mapping[str, float]):
    """Cost per million output tokens of an operating point: the full model
    (monthly build-up -> $/GPU-hour -> $/MTok), vectorized over array inputs."""
    return core.cost_per_mtok(gpu_hour_usd_of(point), point["tokens_per_s"], point["utilization"])


# --------------------------------------------------------------------------- rent vs own

def rent_vs_own(inputs: Inputs, rentals: pd.DataFrame, tco_reference: pd.DataFrame,
                model: str = "dense-70b", utilization: Optional[float] = None,
                rent_gpu_hour_usd: Optional[float] = None) -> dict[str, pd.DataFrame]:
    """Owning (the TCO build-up, or reference TCO points) against renting on demand.

    Returns ``{"rent_vs_own": one row per rental price for the profile's GPU,
    "own_reference": the TCO reference points for that GPU}``.
    """
    point = profile_point(inputs, model)
    util = point["utilization"] if utilization is None else utilization
    own = float(gpu_hour_usd_of(point))
    rows = rentals[rentals["gpu"].map(_norm) == _norm(point["gpu"])]
    table = pd.DataFrame({
        "provider": rows["provider"].tolist(), "as_of": rows["as_of"].tolist(),
        "rent_usd_per_gpu_hour": rows["usd_per_gpu_hour"].to_numpy(dtype=float),
    })
    if rent_gpu_hour_usd is not None:
        table = pd.concat([table, pd.DataFrame({"provider": ["(given)"], "as_of": [""],
                                                "rent_usd_per_gpu_hour": [float(rent_gpu_hour_usd)]})],
                          ignore_index=True)
    if table.empty:
        raise InputError("--model", f"no rental price for GPU {point['gpu']!r}; give --rent-gpu-hour-usd")
    res = corefleet.rent_vs_own_cost_per_mtok(own, table["rent_usd_per_gpu_hour"],
                                              point["tokens_per_s"], util)
    table.insert(3, "own_usd_per_gpu_hour", own)
    table["breakeven_utilization"] = res["breakeven_utilization"].to_numpy()
    table["utilization"] = util
    table["owned_usd_per_mtok"] = res["owned_usd_per_mtok"].to_numpy()
    table["rented_usd_per_mtok"] = res["rented_usd_per_mtok"].to_numpy()
    table["cheaper"] = np.where(table["owned_usd_per_mtok"] < table["rented_usd_per_mtok"], "own", "rent")

    ref = tco_reference[tco_reference["gpu"].map(_norm) == _norm(point["gpu"])]
    bases = []
    for _, r in ref.iterrows():  # a handful of reference rows, not a hot path
        for col, label in (("hyperscaler_own_usd_per_gpu_hour", "hyperscaler own (reference)"),
                           ("neocloud_own_usd_per_gpu_hour", "neocloud own (reference)"),
                           ("rental_3yr_usd_per_gpu_hour", "3-year rental contract (reference)")):
            if not np.isnan(r[col]):
                bases.append({"basis": label, "usd_per_gpu_hour": float(r[col]), "source": r["source"]})
    bases.insert(0, {"basis": "TCO build-up (this model's inputs)", "usd_per_gpu_hour": own,
                     "source": "CostComponents and Hardware tables"})
    own_ref = pd.DataFrame(bases)
    own_ref.insert(2, "utilization", util)
    own_ref.insert(3, "usd_per_mtok", np.asarray(core.cost_per_mtok(
        own_ref["usd_per_gpu_hour"], point["tokens_per_s"], util)))
    return {"rent_vs_own": table, "own_reference": own_ref}


# --------------------------------------------------------------------------- token mix

def token_mix(inputs: Inputs, mix: pd.DataFrame, model: str = "dense-70b",
              overrides: Optional[Mapping[str, Optional[float]]] = None) -> pd.DataFrame:
    """Per-kind costs and the blended cost (and price, when prices are given) for one profile.

    *mix* is the token-mix catalog (one row per profile); *overrides* may set
    ``prefill_tokens_per_s``, ``cached_input_cost_factor``,
    ``cached_prefill_tokens_per_s``, ``input_output_ratio``, ``cache_hit_share``,
    ``utilization``, ``gpu_hour_usd`` and the three prices
    ``price_input_usd_per_mtok``, ``price_cached_input_usd_per_mtok``,
    ``price_output_usd_per_mtok``. Returns one row per token kind plus a blended row.
    """
    ov = {k: v for k, v in (overrides or {}).items() if v is not None}
    point = profile_point(inputs, model)
    hits = mix[mix["model"].map(_norm) == _norm(point["model"])]
    base = hits.iloc[0].to_dict() if len(hits) else {}

    def pick(name):
        if name in ov:
            return float(ov[name])
        if name in base and not pd.isna(base[name]):
            return float(base[name])
        raise InputError(f"--{name.replace('_', '-')}",
                         f"no {name} for model profile {point['model']!r} in token_mix.csv; "
                         f"give --{name.replace('_', '-')}")

    util = float(ov.get("utilization", point["utilization"]))
    hour = float(ov.get("gpu_hour_usd", gpu_hour_usd_of(point)))
    prefill = pick("prefill_tokens_per_s")
    ratio = pick("input_output_ratio")
    hit = pick("cache_hit_share")
    if "cached_prefill_tokens_per_s" in ov:
        factor, cached_tps = None, float(ov["cached_prefill_tokens_per_s"])
    else:
        factor, cached_tps = pick("cached_input_cost_factor"), None
    costs = corefleet.token_costs_usd_per_mtok(hour, point["tokens_per_s"], prefill, factor,
                                               cached_tps, util)
    blended = corefleet.blended_cost_usd_per_mtok(hour, point["tokens_per_s"], prefill, ratio, hit,
                                                  factor, cached_tps, util)
    share_in = ratio / (ratio + 1.0)
    table = pd.DataFrame({
        "token_kind": ["input (cache miss)", "cached input", "output", "blended"],
        "share_of_traffic": [share_in * (1 - hit), share_in * hit, 1 / (ratio + 1.0), 1.0],
        "tokens_per_s": [prefill, cached_tps if cached_tps is not None else np.nan,
                         point["tokens_per_s"], np.nan],
        "cost_usd_per_mtok": [costs["input_cost_usd_per_mtok"], costs["cached_input_cost_usd_per_mtok"],
                              costs["output_cost_usd_per_mtok"], blended],
    })
    prices = [ov.get(k) for k in ("price_input_usd_per_mtok", "price_cached_input_usd_per_mtok",
                                  "price_output_usd_per_mtok")]
    if any(p is not None for p in prices):
        if any(p is None for p in prices):
            raise InputError("--price-input", "give all three of --price-input, "
                             "--price-cached-input and --price-output (or none)")
        bp = corefleet.blended_price_usd_per_mtok(*prices, ratio, hit)
        table["price_usd_per_mtok"] = [*prices, bp]
        table["markup"] = np.asarray(core.markup(table["price_usd_per_mtok"],
                                                 table["cost_usd_per_mtok"]))
    table.attrs.update({"model": point["model"], "gpu_hour_usd": hour, "utilization": util,
                        "input_output_ratio": ratio, "cache_hit_share": hit})
    return table


# --------------------------------------------------------------------------- power

def power_budget(inputs: Inputs, facility_mw, model: str = "dense-70b", power_w=None, pue=None,
                 utilization=None, gpu_hour_usd=None, price_usd_per_mtok=None) -> pd.DataFrame:
    """What a facility power budget buys and earns for one profile.

    One row per price: the given ``price_usd_per_mtok``, or else every Prices
    row whose cost basis is the profile. ``power_w`` defaults to the Hardware
    table's (the seed: GPU TDP only; pass all-in IT power per GPU for a
    realistic count), ``pue`` and ``utilization`` to CostComponents.
    """
    point = profile_point(inputs, model)
    watts = point["power_w"] if power_w is None else float(power_w)
    p = point["pue"] if pue is None else float(pue)
    util = point["utilization"] if utilization is None else float(utilization)
    # the power counted against the budget is the power paid for in the TCO build-up
    paid = {**point, "power_w": watts, "pue": p}
    hour = float(gpu_hour_usd_of(paid)) if gpu_hour_usd is None else float(gpu_hour_usd)
    if price_usd_per_mtok is not None:
        labels = pd.Series(["(given)"])
        prices = pd.Series([float(price_usd_per_mtok)])
    else:
        pr = inputs.prices[inputs.prices["cost_basis"].map(_norm) == _norm(point["model"])]
        if pr.empty:
            raise InputError("--price", f"no Prices row has cost basis {point['model']!r}; give --price")
        labels = (pr["provider"] + " " + pr["model"]).reset_index(drop=True)
        prices = pr["price_usd_per_mtok"].reset_index(drop=True)
    res = corefleet.fleet_from_power_budget(facility_mw, watts, p, point["tokens_per_s"], hour,
                                            prices, util)
    table = pd.DataFrame({"price_of": labels, "price_usd_per_mtok": prices})
    table["facility_mw"] = float(facility_mw)
    table["power_w"] = watts
    table["pue"] = p
    table["utilization"] = util
    table["gpu_hour_usd"] = hour
    for key, values in res.items():
        table[key] = np.asarray(values)
    table["j_per_token"] = corefleet.energy_j_per_token(watts, p, point["tokens_per_s"])
    table["tokens_per_s_per_mw"] = corefleet.tokens_per_s_per_mw(watts, p, point["tokens_per_s"], util)
    table.attrs["model"] = point["model"]
    return table


# --------------------------------------------------------------------------- fleet P&L

def fleet(nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens, cached_input_tokens,
          output_tokens, price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
          price_output_usd_per_mtok, tokens_per_s=None) -> pd.DataFrame:
    """The fleet P&L as a one-row table (plus implied utilization when a decode
    throughput is given)."""
    res = corefleet.fleet_pnl(nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens,
                              cached_input_tokens, output_tokens, price_input_usd_per_mtok,
                              price_cached_input_usd_per_mtok, price_output_usd_per_mtok)
    row = {"nodes": float(nodes), "gpus_per_node": float(gpus_per_node),
           "gpu_hour_usd": float(gpu_hour_usd), "hours": float(hours),
           "input_tokens": float(input_tokens), "cached_input_tokens": float(cached_input_tokens),
           "output_tokens": float(output_tokens)}
    row.update({k: float(v) for k, v in res.items()})
    if tokens_per_s is not None:
        if res["gpu_hours"] > 0:
            row["implied_utilization"] = float(corefleet.fleet_implied_utilization(
                output_tokens, tokens_per_s, res["gpu_hours"]))
        else:
            row["implied_utilization"] = float("nan")
    return pd.DataFrame([row])


__all__ = ["PROFILE_INPUTS", "profile_point", "gpu_hour_usd_of", "cost_usd_per_mtok_of",
           "rent_vs_own", "token_mix", "power_budget", "fleet"]
