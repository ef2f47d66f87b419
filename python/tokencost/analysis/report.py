"""The seed's tables as report sections (orchestration over :mod:`tokencost.analysis.model`)."""
from __future__ import annotations

import pandas as pd

import numpy as np

from ..errors import InputError
from ..inputs.validate import Inputs, variant_inputs, variant_overrides
from .model import COST_TERMS, Results, numeric_cells, evaluate, not_finite_problem
from .token_prices import subscriptions_by_workload, token_prices, workload_economics

COMPONENT_LABELS = {
    "depreciation_usd_per_month": "GPU depreciation",
    "infra_usd_per_month": "Server/rack/network amortization",
    "power_usd_per_month": "Power",
    "staff_usd_per_month": "Staff/ops (pro-rated)",
    "total_usd_per_month": "Total per GPU-month",
    "gpu_hour_usd": "Per GPU-hour",
}

TITLES = {
    "cost_breakdown": "Monthly cost of one GPU (USD)",
    "gpu_costs": "GPU cost build-up",
    "model_costs": "Cost per million output tokens by model profile",
    "markups": "What they charge vs. what it costs",
    "token_prices": "Beyond the seed's output-only view: prices and costs by token type (USD per MTok)",
    "workload_economics": "Blended over each workload (USD per MTok of traffic, input and output)",
    "subscriptions": "Subscriptions recalculated at hardware cost (USD/month)",
    "subscriptions_by_workload": "Subscriptions on a workload's mix: the bill split into input, cached "
                                 "and output tokens, each at its cost (USD/month; R&D on output only)",
    "physics_checks": "Physics check: does each throughput assumption fit the hardware?",
}

PHYSICS_COLUMNS = ["model", "gpu", "gpus", "tokens_per_s", "min_gpus", "fits",
                   "tokens_per_s_per_gpu_bound", "within_bound", "implied_replica_tokens_per_s",
                   "checked", "ok", "reason"]


def physics_section(inputs: Inputs) -> pd.DataFrame:
    """One row per model profile: memory fit and decode bound (see tokencost.analysis.physics_checks).

    NaN marks a figure that does not apply (a profile not checked); an infinite
    figure is an overflow, refused at the profile's most extreme input."""
    from .physics_checks import physics_flags
    with np.errstate(all="ignore"):
        flags = physics_flags(inputs)[PHYSICS_COLUMNS]
    numeric = [c for c in PHYSICS_COLUMNS if pd.api.types.is_float_dtype(flags[c])]
    infinite = np.isinf(flags[numeric].to_numpy(dtype=float))
    for i in np.flatnonzero(infinite.any(axis=1)).tolist():
        column = numeric[int(np.flatnonzero(infinite[i])[0])]
        p = not_finite_problem(numeric_cells(inputs, "Models", i), column,
                               f"the physics check of {flags['model'].iloc[i]}")
        raise InputError(p.where, p.message)
    return flags

NOTES = [
    "Hardware-only cost: excludes R&D amortization and software development (as the seed).",
    "The seed prints 22.6x for GPT-5.5 because it divides $30 by the rounded cost $1.33; "
    "the unrounded $1.3316 gives 22.5x.",
    "By token type: input cost = $/GPU-hour / (prefill tokens/s x 3600 x utilization / 1,000,000), "
    "cached input = input cost x cached_input_cost_factor, both from token_mix.csv (assumptions); "
    "a blank means no input price or no prefill throughput for the cost basis.",
    "Subscriptions by workload: output MTok = bill / (r x ((1 - h) x input + h x cached) + output "
    "price), from the plan's price_model row; input = r x output, cached = h x input; R&D is "
    "charged on output MTok only, so the seed's output-only row keeps its $59.97.",
]


def cost_breakdown(gpu_costs: pd.DataFrame) -> pd.DataFrame:
    """The seed's 'Component / Monthly Cost' table: one row per component, one column per GPU."""
    rows = []
    for key, label in COMPONENT_LABELS.items():
        row = {"component": label}
        for gpu, value in zip(gpu_costs["gpu"], gpu_costs[key]):
            row[f"{gpu}_usd"] = value
        rows.append(row)
    frame = pd.DataFrame(rows)
    # each row is its own quantity (USD/month, the last USD/h): shown by its unit
    frame.attrs.update(row_units=list(COMPONENT_LABELS),
                       row_unit_columns=[c for c in frame.columns if c != "component"])
    return frame


def _display(results: Results) -> dict[str, pd.DataFrame]:
    m = results.model_costs
    s = results.subscriptions
    return {
        "cost_breakdown": cost_breakdown(results.gpu_costs),
        "model_costs": m[["model", "gpu", "tokens_per_s", "utilization", "tokens_per_hour",
                          "gpu_hour_usd", "cost_usd_per_mtok"]],
        "markups": results.markups[["provider", "model", "price_usd_per_mtok", "cost_basis",
                                    "cost_usd_per_mtok", "markup", "gross_margin"]],
        "subscriptions": s[["plan", "subscription_usd_per_month", "api_equivalent_usd_per_month",
                            "tokens_mtok_per_month", "cost_usd_per_mtok",
                            "hardware_cost_usd_per_month", "profit_usd_per_month",
                            "rd_usd_per_mtok", "cost_with_rd_usd_per_month",
                            "profit_with_rd_usd_per_month"]],
    }


def _token_mix(mix):
    if mix is None:
        from ..inputs.reference_tables import read_catalog
        mix = read_catalog("token_mix.csv")
    return mix


def token_sections(inputs: Inputs, base: Results, mix=None) -> dict[str, pd.DataFrame]:
    """``token_prices`` (per price row: price, cost and markup by token type),
    ``workload_economics`` (per price row x workload: blended price, cost, markup and
    gross margin) and ``subscriptions_by_workload`` (per plan: the seed's output-only
    reading, then per workload the bill split and costed by token type). *mix* is the
    token-mix catalog (default: the shipped ``token_mix.csv``)."""
    mix = _token_mix(mix)
    prices = token_prices(inputs, base.model_costs, mix)
    return {"token_prices": prices, "workload_economics": workload_economics(prices, inputs.workloads),
            "subscriptions_by_workload": subscriptions_by_workload(inputs, base.subscriptions,
                                                                   base.model_costs, mix)}


def report_data(inputs: Inputs, mix=None) -> dict:
    """Everything ``tokencost report`` shows, as plain tables (JSON-ready via render)."""
    base = evaluate(inputs)
    data = {"overrides": dict(inputs.overrides), **base.tables(),
            **token_sections(inputs, base, mix),
            "physics_checks": physics_section(inputs), "variants": {}, "notes": NOTES}
    variants = variant_inputs(inputs)
    for name, overrides in variant_overrides(inputs).items():
        res = evaluate(variants[name])
        data["variants"][name] = {"overrides": overrides, **res.tables()}
    return data


def report_sections(inputs: Inputs, mix=None) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Titled display tables for the text formats, variants included."""
    base = evaluate(inputs)
    sections = _display(base)
    tokens = token_sections(inputs, base, mix)
    sections["token_prices"] = tokens["token_prices"].drop(columns=["as_of"])
    sections["workload_economics"] = tokens["workload_economics"].drop(
        columns=["input_tokens_per_output_token", "cache_hit_share"])
    sections["subscriptions_by_workload"] = tokens["subscriptions_by_workload"].drop(
        columns=["price_model", "cost_basis"])
    sections["physics_checks"] = physics_section(inputs)[["model", "gpu", "tokens_per_s", "ok", "reason"]]
    titles = dict(TITLES)
    variants = variant_inputs(inputs)
    for name, overrides in variant_overrides(inputs).items():
        res = evaluate(variants[name])
        what = ", ".join(f"{k}={v:g}" for k, v in overrides.items())
        for key, frame in _display(res).items():
            if key in ("subscriptions", "physics_checks"):
                continue
            sections[f"{name}:{key}"] = frame
            titles[f"{name}:{key}"] = f"Variant {name} ({what}): {TITLES[key][0].lower()}{TITLES[key][1:]}"
    return sections, titles


__all__ = ["report_data", "report_sections", "token_sections", "cost_breakdown", "COST_TERMS",
           "NOTES"]
