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

from . import core
from .inputs import Inputs, variant_overrides

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
    return series.astype(str).str.strip().str.casefold()


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


def evaluate(inputs: Inputs) -> Results:
    """Run the whole model once on validated inputs."""
    gpus = gpu_costs(inputs)
    models = model_costs(inputs, gpus)
    return Results(gpus, models, markups(inputs, models), subscriptions(inputs, models),
                   dict(inputs.overrides))


def evaluate_variants(inputs: Inputs) -> dict[str, Results]:
    """The model under each named variant of the Variants table."""
    return {name: evaluate(inputs.with_overrides(ov)) for name, ov in variant_overrides(inputs).items()}
