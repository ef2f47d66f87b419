"""Excel functions (xlwings UDFs) over the core: the module named in the workbook's
``xlwings.conf`` sheet under ``UDF Modules``.

Each function is a thin wrapper: :func:`~tokencost.excel.arguments.call` converts
the cells, calls one core function once (vectorized over ranges) and converts
the answer back. Argument names are the canonical input names; optional
arguments default to the seed's values (the core's defaults). Every argument
takes a single cell or a range; ranges spill in dynamic-array Excel; bad cells
show a short message in their own position (see :mod:`tokencost.excel.arguments`).

:data:`UDF_SPECS` lists the functions (name, argument names, one-line
description, argument docs, seed example values, unit of the result) for the
workbook's Functions sheet and for tests. ``python -m tokencost.excel.lite`` copies
these same functions into the self-contained ``xlwings_lite/main.py``.

Classic xlwings UDFs need Excel on Windows; ``import xlwings`` works on every
platform (elsewhere its decorators do nothing), and without xlwings installed
the functions still work as plain Python functions.
"""
from __future__ import annotations

from .. import core
from ..inputs.schema import TABLES
from .arguments import UdfRegistry, call, call_deployment

try:
    import xlwings
except ImportError:  # plain Python use without the Excel extra
    xlwings = None

CATEGORY = "TokenCost"

#: per-argument docs (Excel's function wizard), unit in brackets; the input tables'
#: own descriptions where the argument is an input column
ARG_DOCS = {
    col.name: f"{col.description} [{col.unit}]"
    for table in TABLES for col in table.columns if col.kind == "number"
}
ARG_DOCS.update({
    "gpu_hour_usd": "Fully-loaded (or rental) cost of one GPU-hour [USD/h]",
    "cost_usd_per_mtok": "Cost to serve one million output tokens [USD/MTok]",
    "price_usd_per_mtok": "List price for one million output tokens [USD/MTok]",
    "target_margin": "Gross margin wanted, as a share of price, in [0, 1) [share]",
    "tokens_per_s_per_gpu": "Throughput per GPU, e.g. the physical bound [tokens/s]",
    "gpu": "GPU name from the GPU catalog, e.g. H100 (case and punctuation ignored) [name]",
    "model": "Model architecture from the catalog, e.g. llama-3.3-70b or dense-70b [name]",
    "gpus": "GPUs serving one replica of the model [GPUs]",
    "context_tokens": "Tokens of context per sequence; blank = the catalog assumption [tokens]",
    "weight_precision": ("Weight precision: bf16, fp16, fp8, int8, fp4, nvfp4, mxfp4 or int4; "
                         "blank = the architecture's [name]"),
    "kv_precision": "KV-cache precision (same names); blank = the architecture's [name]",
    "tokens_per_s_per_user": ("Interactivity target: each user gets at least this speed; blank = "
                              "none [tokens/s per user]"),
    "nodes": "Servers in the fleet [nodes]",
    "gpus_per_node": "GPUs per server [GPUs/node]",
    "hours": "Period the fleet is paid for [h]",
    "input_tokens": "All input tokens served in the period, cached ones included [tokens]",
    "cached_input_tokens": "The part of input_tokens served from cache [tokens]",
    "output_tokens": "Output tokens served in the period [tokens]",
    "price_input_usd_per_mtok": "List price of uncached input tokens [USD/MTok]",
    "price_cached_input_usd_per_mtok": "List price of cached input tokens [USD/MTok]",
    "price_output_usd_per_mtok": "List price of output tokens [USD/MTok]",
    "own_gpu_hour_usd": "Fully-loaded cost of an owned GPU per calendar hour [USD/h]",
    "rent_gpu_hour_usd": "On-demand rental price per busy GPU-hour [USD/h]",
    "input_output_ratio": "Input tokens per output token, e.g. 3 for 3:1 [ratio]",
    "cache_hit_share": "Share of input tokens served from cache, in [0, 1] [share]",
    "prefill_tokens_per_s": "Uncached input tokens processed per second per GPU (prefill) [tokens/s]",
    "cached_input_cost_factor": "Cost of a cached input token as a share of an uncached one, in [0, 1] [share]",
})
# batch_size here may be blank (the best batch that fits), unlike the Models column
ARG_DOCS["batch_size"] = "Concurrent sequences per replica; blank = the largest batch that fits [sequences]"

udf = UdfRegistry(CATEGORY, ARG_DOCS, xlwings)

# Seed figures used as examples (the seed's H100: $30K, 3 years, $350 infra, 700 W,
# PUE 1.3, $0.10/kWh, $150 staff, 730 h -> $1,399.76/month, $1.9175/h).
_H100 = (30000.0, 3.0, 350.0, 700.0, 1.3, 0.10, 150.0, 730.0, 0.0)
_H100_HOUR_USD = 1.9174840182648403
_DENSE_COST_USD_PER_MTOK = 1.331586123795028  # $1.9175/h at 400 tok/s
_MOE_COST_USD_PER_MTOK = 0.21305377980720447  # $1.9175/h at 2,500 tok/s


@udf(returns="USD/MTok", example=(_H100_HOUR_USD, 400.0, 1.0))
def COST_PER_MTOK(gpu_hour_usd, tokens_per_s, utilization=1.0):
    """Cost of one million output tokens [USD/MTok] = GPU-hour cost / (tokens per hour / 1e6). Seed: $1.92/h at 400 tok/s = $1.33."""
    return call(core.cost_per_mtok, gpu_hour_usd, tokens_per_s, utilization)


@udf(returns="x", example=(30.0, _DENSE_COST_USD_PER_MTOK))
def MARKUP(price_usd_per_mtok, cost_usd_per_mtok):
    """Price as a multiple of cost [x] = price / cost. Seed: GPT-5.5 $30 / $1.33 = 22.5x (the seed prints 22.6x from the rounded cost)."""
    return call(core.markup, price_usd_per_mtok, cost_usd_per_mtok)


@udf(returns="share", example=(30.0, _DENSE_COST_USD_PER_MTOK))
def GROSS_MARGIN(price_usd_per_mtok, cost_usd_per_mtok):
    """Gross margin as a share of price [share] = (price - cost) / price; negative below cost."""
    return call(core.gross_margin, price_usd_per_mtok, cost_usd_per_mtok)


@udf(returns="USD/month", example=_H100)
def GPU_MONTHLY_COST(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
                     power_price_usd_per_kwh, staff_usd_per_month, hours_per_month=730.0,
                     cost_of_capital=0.0):
    """Fully-loaded cost of one GPU per month [USD/month]: depreciation + infra + power + staff. Seed H100: ~$1,400."""
    return call(core.gpu_monthly_cost_usd, gpu_price_usd, depreciation_years, infra_usd_per_month,
                power_w, pue, power_price_usd_per_kwh, staff_usd_per_month, hours_per_month,
                cost_of_capital)


@udf(returns="USD/h", example=_H100)
def GPU_HOUR_COST(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
                  power_price_usd_per_kwh, staff_usd_per_month, hours_per_month=730.0,
                  cost_of_capital=0.0):
    """Fully-loaded cost of one GPU per hour [USD/h] = monthly cost / hours per month. Seed H100: ~$1.92."""
    return call(core.gpu_hour_usd, gpu_price_usd, depreciation_years, infra_usd_per_month,
                power_w, pue, power_price_usd_per_kwh, staff_usd_per_month, hours_per_month,
                cost_of_capital)


@udf(returns="tokens/h", example=(400.0, 1.0))
def TOKENS_PER_HOUR(tokens_per_s, utilization=1.0):
    """Tokens one GPU produces in an hour [tokens/h] = tokens/s x 3600 x utilization. Seed: 400 tok/s = 1.44M."""
    return call(core.tokens_per_hour, tokens_per_s, utilization)


@udf(returns="tokens/s", example=(0.50, _H100_HOUR_USD, 1.0))
def IMPLIED_TPS(cost_usd_per_mtok, gpu_hour_usd, utilization=1.0):
    """Throughput per GPU [tokens/s] needed for a cost per MTok at a GPU-hour cost. Seed: $0.50/MTok at $1.92/h needs ~1,065 tok/s."""
    return call(core.implied_tokens_per_s, cost_usd_per_mtok, gpu_hour_usd, utilization)


@udf(returns="USD/MTok", example=(_MOE_COST_USD_PER_MTOK, 0.0))
def BREAKEVEN_PRICE(cost_usd_per_mtok, target_margin=0.0):
    """Price that earns a target gross margin [USD/MTok] = cost / (1 - target_margin); the cost itself at 0."""
    return call(core.breakeven_price, cost_usd_per_mtok, target_margin)


@udf(returns="USD/month", example=(180.0, 450.0, 25.0, _DENSE_COST_USD_PER_MTOK, 0.0))
def SUBSCRIPTION_MARGIN(subscription_usd_per_month, api_equivalent_usd_per_month,
                        list_price_usd_per_mtok, cost_usd_per_mtok, rd_usd_per_mtok=0.0):
    """Monthly profit on a subscriber [USD/month] = subscription - (bill / list price) x (cost + R&D). Seed: $180 plan, $450 at $25/MTok, $1.33 cost: $156."""
    return call(core.subscription_economics, subscription_usd_per_month,
                api_equivalent_usd_per_month, list_price_usd_per_mtok, cost_usd_per_mtok,
                rd_usd_per_mtok, pick="profit_with_rd_usd_per_month")


@udf(returns="USD/MTok", example=(_H100_HOUR_USD, 706.0))
def COST_FLOOR_PER_MTOK(gpu_hour_usd, tokens_per_s_per_gpu):
    """Physical cost floor [USD/MTok]: GPU-hour cost at the throughput bound, full utilization. Seed H100 $1.92/h at a 706 tok/s bound: $0.75."""
    return call(core.cost_floor_usd_per_mtok, gpu_hour_usd, tokens_per_s_per_gpu)


# The hand-checked fleet of tests/test_fleet.py: 10 nodes x 8 GPUs at $2/h for 720 h serving
# 100B input (60B cached) and 20B output tokens at $3 / $0.30 / $15 per MTok: $322,800 profit.
_FLEET = (10.0, 8.0, 2.0, 720.0, 100e9, 60e9, 20e9, 3.0, 0.30, 15.0)


@udf(returns="USD", example=_FLEET)
def FLEET_PROFIT(nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens, cached_input_tokens,
                 output_tokens, price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                 price_output_usd_per_mtok):
    """Fleet gross profit [USD] = token revenue (uncached input, cached input, output) - nodes x GPUs x hours x $/GPU-hour."""
    return call(core.fleet_pnl, nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens,
                cached_input_tokens, output_tokens, price_input_usd_per_mtok,
                price_cached_input_usd_per_mtok, price_output_usd_per_mtok, pick="gross_profit_usd")


@udf(returns="share", example=_FLEET)
def FLEET_MARGIN(nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens, cached_input_tokens,
                 output_tokens, price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                 price_output_usd_per_mtok):
    """Fleet cost-profit margin [share] = (revenue - cost) / cost, for the same arguments as FLEET_PROFIT."""
    return call(core.fleet_pnl, nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens,
                cached_input_tokens, output_tokens, price_input_usd_per_mtok,
                price_cached_input_usd_per_mtok, price_output_usd_per_mtok,
                pick="cost_profit_margin")


@udf(returns="share", example=(_H100_HOUR_USD, 3.99))
def BREAKEVEN_UTILIZATION(own_gpu_hour_usd, rent_gpu_hour_usd):
    """Utilization above which owning a GPU beats renting it on demand [share] = own $/h / rental $/h. Seed H100 $1.92/h vs $3.99/h: 0.48."""
    return call(core.rent_vs_own_breakeven_utilization, own_gpu_hour_usd, rent_gpu_hour_usd)


@udf(returns="J/token", example=(700.0, 1.3, 400.0))
def ENERGY_PER_TOKEN(power_w, pue, tokens_per_s):
    """Facility energy per output token [J/token] = power_w x PUE / tokens_per_s. Seed H100 at 400 tok/s: 2.275 J."""
    return call(core.energy_j_per_token, power_w, pue, tokens_per_s)


@udf(returns="tokens/s per MW", example=(700.0, 1.3, 400.0, 1.0))
def TOKENS_PER_S_PER_MW(power_w, pue, tokens_per_s, utilization=1.0):
    """Throughput per MW of facility power [tokens/s per MW] = 1e6 / (power_w x PUE) x tokens_per_s x utilization."""
    return call(core.tokens_per_s_per_mw, power_w, pue, tokens_per_s, utilization)


@udf(returns="USD/MTok", example=(3.0, 0.30, 15.0, 3.0, 0.5))
def BLENDED_PRICE(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                  price_output_usd_per_mtok, input_output_ratio=3.0, cache_hit_share=0.0):
    """Price of one million tokens of traffic [USD/MTok] = (r x ((1-h) x input + h x cached) + output) / (r + 1)."""
    return call(core.blended_price_usd_per_mtok, price_input_usd_per_mtok,
                price_cached_input_usd_per_mtok, price_output_usd_per_mtok, input_output_ratio,
                cache_hit_share)


@udf(returns="USD/MTok", example=(_H100_HOUR_USD, 400.0, 4000.0, 0.1, 3.0, 0.5, 1.0))
def BLENDED_COST(gpu_hour_usd, tokens_per_s, prefill_tokens_per_s, cached_input_cost_factor,
                 input_output_ratio=3.0, cache_hit_share=0.0, utilization=1.0):
    """Cost of one million tokens of traffic [USD/MTok]: input at $/GPU-hour / (prefill tok/s x 3600 x utilization / 1e6), cached at that x factor, output at the decode cost, blended (r x ((1-h) x input + h x cached) + output) / (r + 1)."""
    return call(core.workload_cost_usd_per_mtok, gpu_hour_usd, tokens_per_s,
                prefill_tokens_per_s, cached_input_cost_factor, input_output_ratio,
                cache_hit_share, utilization)


@udf(returns="x", example=(3.0, 0.30, 15.0, _H100_HOUR_USD, 400.0, 4000.0, 0.1, 3.0, 0.5, 1.0))
def BLENDED_MARKUP(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                   price_output_usd_per_mtok, gpu_hour_usd, tokens_per_s, prefill_tokens_per_s,
                   cached_input_cost_factor, input_output_ratio=3.0, cache_hit_share=0.0,
                   utilization=1.0):
    """Blended markup of a workload [x] = BLENDED_PRICE / BLENDED_COST with the same mix (r input tokens per output token, a share h of them cached)."""
    return call(core.workload_markup, price_input_usd_per_mtok,
                price_cached_input_usd_per_mtok, price_output_usd_per_mtok, gpu_hour_usd,
                tokens_per_s, prefill_tokens_per_s, cached_input_cost_factor, input_output_ratio,
                cache_hit_share, utilization)


# The catalog functions read the package's GPU and model-architecture catalogs, so they
# exist in the classic add-in only (xlwings Lite's main.py carries the core, not the data).

@udf(returns="tokens/s per GPU", example=("H100", "dense-70b", 1.0, None, None, None, None, None),
     lite=False)
def DECODE_TPS_BOUND(gpu, model, gpus=1.0, batch_size=None, context_tokens=None,
                     weight_precision=None, kv_precision=None, tokens_per_s_per_user=None):
    """Roofline bound on decode throughput [tokens/s per GPU] of a model on N GPUs at batch_size, at the largest batch meeting tokens_per_s_per_user, or at the largest that fits."""
    return call_deployment("tokens_per_s_per_gpu_bound", gpu, model, gpus, batch_size,
                           context_tokens, weight_precision, kv_precision, tokens_per_s_per_user)


@udf(returns="GPUs", example=("H100", "moe-284b-a13b", None, None, None, None), lite=False)
def MIN_GPUS(gpu, model, batch_size=None, context_tokens=None, weight_precision=None,
             kv_precision=None):
    """Fewest GPUs whose memory holds the model's weights plus the KV cache of batch_size sequences (one when blank), at the precisions given [GPUs]."""
    return call_deployment("min_gpus", gpu, model, 1.0, batch_size, context_tokens,
                           weight_precision, kv_precision)


#: one :class:`~tokencost.excel.arguments.UdfSpec` per function, in definition order
UDF_SPECS = tuple(udf.specs)

__all__ = [spec.name for spec in UDF_SPECS] + ["UDF_SPECS", "ARG_DOCS", "CATEGORY"]
