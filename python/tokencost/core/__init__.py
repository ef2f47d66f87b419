"""The pure core: array functions, no file I/O, no Excel.

Where is each quantity computed?

==============================  ==========================================
quantity                        function
==============================  ==========================================
depreciation, power, total,     :mod:`tokencost.core.costs`
$/GPU-hour
tokens/hour, $/MTok,            :mod:`tokencost.core.throughput`
implied tokens/s
markup, gross margin,           :mod:`tokencost.core.pricing`
break-even price
subscription at cost            :mod:`tokencost.core.subscription`
memory fit, decode/prefill      :mod:`tokencost.core.physics`
bounds, cost floor
rent vs own, token mix,         :mod:`tokencost.core.fleet`
workload blends, energy,
power budget, fleet P&L
==============================  ==========================================
"""
from .costs import (depreciation_usd_per_month, gpu_hour_usd, gpu_monthly_cost_terms,
                    gpu_monthly_cost_usd, power_usd_per_month)
from .fleet import (blended_price_usd_per_mtok, energy_j_per_token, fleet_pnl,
                    rent_vs_own_breakeven_utilization, tokens_per_s_per_mw, workload_cost_usd_per_mtok,
                    workload_economics, workload_markup)
from .physics import cost_floor_usd_per_mtok
from .pricing import breakeven_price, gross_margin, markup
from .subscription import (subscription_by_workload, subscription_economics,
                           subscription_tokens_mtok)
from .throughput import cost_per_mtok, implied_tokens_per_s, tokens_per_hour

__all__ = [
    "depreciation_usd_per_month", "power_usd_per_month", "gpu_monthly_cost_terms",
    "gpu_monthly_cost_usd", "gpu_hour_usd", "tokens_per_hour", "cost_per_mtok",
    "implied_tokens_per_s", "markup", "gross_margin", "breakeven_price",
    "subscription_tokens_mtok", "subscription_economics", "subscription_by_workload",
    "cost_floor_usd_per_mtok", "fleet_pnl",
    "rent_vs_own_breakeven_utilization", "energy_j_per_token", "tokens_per_s_per_mw",
    "blended_price_usd_per_mtok", "workload_economics", "workload_cost_usd_per_mtok",
    "workload_markup",
]
