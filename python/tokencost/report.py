"""The seed's tables as report sections (orchestration over :mod:`tokencost.model`)."""
from __future__ import annotations

import pandas as pd

from .inputs import Inputs, variant_overrides
from .model import COST_TERMS, Results, evaluate

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
    "subscriptions": "Subscriptions recalculated at hardware cost (USD/month)",
    "physics_checks": "Physics check: does each throughput assumption fit the hardware?",
}

PHYSICS_COLUMNS = ["model", "gpu", "gpus", "tokens_per_s", "min_gpus", "fits",
                   "tokens_per_s_per_gpu_bound", "within_bound", "implied_replica_tokens_per_s",
                   "checked", "ok", "reason"]


def physics_section(inputs: Inputs) -> pd.DataFrame:
    """One row per model profile: memory fit and decode bound (see tokencost.physics_checks)."""
    from .physics_checks import physics_flags
    return physics_flags(inputs)[PHYSICS_COLUMNS]

NOTES = [
    "Hardware-only cost: excludes R&D amortization and software development (as the seed).",
    "The seed prints 22.6x for GPT-5.5 because it divides $30 by the rounded cost $1.33; "
    "the unrounded $1.3316 gives 22.5x.",
]


def cost_breakdown(gpu_costs: pd.DataFrame) -> pd.DataFrame:
    """The seed's 'Component / Monthly Cost' table: one row per component, one column per GPU."""
    rows = []
    for key, label in COMPONENT_LABELS.items():
        row = {"component": label}
        for gpu, value in zip(gpu_costs["gpu"], gpu_costs[key]):
            row[f"{gpu}_usd"] = value
        rows.append(row)
    return pd.DataFrame(rows)


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


def report_data(inputs: Inputs) -> dict:
    """Everything ``tokencost report`` shows, as plain tables (JSON-ready via render)."""
    base = evaluate(inputs)
    data = {"overrides": dict(inputs.overrides), **base.tables(),
            "physics_checks": physics_section(inputs), "variants": {}, "notes": NOTES}
    for name, overrides in variant_overrides(inputs).items():
        res = evaluate(inputs.with_overrides(overrides))
        data["variants"][name] = {"overrides": overrides, **res.tables()}
    return data


def report_sections(inputs: Inputs) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Titled display tables for the text formats, variants included."""
    sections = _display(evaluate(inputs))
    sections["physics_checks"] = physics_section(inputs)[["model", "gpu", "tokens_per_s", "ok", "reason"]]
    titles = dict(TITLES)
    for name, overrides in variant_overrides(inputs).items():
        res = evaluate(inputs.with_overrides(overrides))
        what = ", ".join(f"{k}={v:g}" for k, v in overrides.items())
        for key, frame in _display(res).items():
            if key in ("subscriptions", "physics_checks"):
                continue
            sections[f"{name}:{key}"] = frame
            titles[f"{name}:{key}"] = f"Variant {name} ({what}): {TITLES[key][0].lower()}{TITLES[key][1:]}"
    return sections, titles


def render_report(inputs: Inputs, fmt: str) -> str:
    from .render import render_sections
    if fmt == "json":
        import json

        from .render import to_jsonable
        return json.dumps(to_jsonable(report_data(inputs)), indent=2) + "\n"
    sections, titles = report_sections(inputs)
    text = render_sections(sections, fmt, titles)
    if fmt in ("table", "markdown"):
        text += "\nNotes:\n" + "\n".join(f"- {n}" for n in NOTES) + "\n"
    return text


__all__ = ["report_data", "report_sections", "render_report", "cost_breakdown", "COST_TERMS"]
