"""tokencost fleet (P&L), rent-vs-own, token-mix and power-budget: deployment economics.

``register`` adds four subcommands; all print tables through :mod:`tokencost.render`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import CSV_RULE, add_book, add_format, add_set, load_inputs, number

RAW = argparse.RawDescriptionHelpFormatter


def _data_and_model(p):
    add_book(p)
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="folder of input CSV files (default: the shipped seed dataset); "
                        f"catalog files found there replace the shipped ones; {CSV_RULE}")
    p.add_argument("--model", default="dense-70b", metavar="PROFILE",
                   help="model profile from the Models table (default: dense-70b)")


def _emit(sections, fmt, titles, extra=None):
    from ..render import render_sections, to_json
    if fmt == "json":
        payload = {**(extra or {}), **sections}
        sys.stdout.write(to_json(payload))
    else:
        sys.stdout.write(render_sections(sections, fmt, titles))


def register(sub):
    # ------------------------------------------------------------------ fleet
    p = sub.add_parser(
        "fleet", help="P&L of a fleet: cost, revenue, gross margin, cost-profit margin",
        description="Cost, revenue and margins of a fleet of NODES x GPUS-PER-NODE GPUs paid for "
                    "HOURS, serving the given token volumes at the given prices. --input-tokens "
                    "counts all input tokens; --cached-input-tokens the part of them served from "
                    "cache (priced at the cached price, the rest at the input price). Without "
                    "--gpu-hour-cost the TCO build-up of the model profile's GPU is used.",
        epilog="Example (hand-checked in the tests):\n"
               "  tokencost fleet --nodes 10 --gpus-per-node 8 --gpu-hour-cost 2 --hours 720 \\\n"
               "    --input-tokens 100e9 --cached-input-tokens 60e9 --output-tokens 20e9 \\\n"
               "    --price-input 3 --price-cached-input 0.30 --price-output 15\n"
               "  -> cost $115,200, revenue $438,000, gross margin 0.737, cost-profit margin 2.802",
        formatter_class=RAW)
    p.add_argument("--nodes", type=number(), required=True,
                   help="servers in the fleet (a whole number)")
    p.add_argument("--gpus-per-node", type=number(), required=True,
                   help="GPUs per server (a whole number)")
    p.add_argument("--gpu-hour-cost", type=number(), metavar="USD",
                   help="USD per GPU-hour, rental or TCO (default: the TCO build-up of --model's GPU)")
    p.add_argument("--hours", type=number(), required=True, help="hours the fleet is paid for")
    p.add_argument("--input-tokens", type=number(), required=True, help="all input tokens served")
    p.add_argument("--cached-input-tokens", type=number(), default=0.0,
                   help="the part of --input-tokens served from cache (default 0)")
    p.add_argument("--output-tokens", type=number(), required=True, help="output tokens served")
    p.add_argument("--price-input", type=number(), required=True, metavar="USD_PER_MTOK",
                   help="price of uncached input tokens, USD per million")
    p.add_argument("--price-cached-input", type=number(), metavar="USD_PER_MTOK",
                   help="price of cached input tokens (required when --cached-input-tokens > 0)")
    p.add_argument("--price-output", type=number(), required=True, metavar="USD_PER_MTOK",
                   help="price of output tokens, USD per million")
    p.add_argument("--tokens-per-s", type=number(), metavar="TOK_S",
                   help="decode tokens/s per GPU, to report the utilization the volume implies")
    _data_and_model(p)
    add_format(p)
    p.set_defaults(func=run_fleet)

    # ------------------------------------------------------------------ rent vs own
    p = sub.add_parser(
        "rent-vs-own", help="owning (TCO) vs renting on demand: break-even utilization",
        description="Break-even utilization above which owning a GPU (its full TCO every hour, "
                    "busy or idle) beats renting on demand (paid only for busy hours), against "
                    "each rental price in rental_prices.csv for the profile's GPU, and cost per "
                    "MTok under each basis at --utilization. Reference own costs per GPU-hour "
                    "come from tco_reference.csv.",
        epilog="Examples:\n  tokencost rent-vs-own\n"
               "  tokencost rent-vs-own --utilization 0.6 --rent-gpu-hour-usd 2.50 --format json",
        formatter_class=RAW)
    p.add_argument("--utilization", type=number(),
                   help="busy share of hours (default: CostComponents.utilization, the seed's 1.0)")
    p.add_argument("--rent-gpu-hour-usd", type=number(), metavar="USD",
                   help="add a rental quote of your own, USD per busy GPU-hour")
    _data_and_model(p)
    add_format(p)
    add_set(p)
    p.set_defaults(func=run_rent_vs_own)

    # ------------------------------------------------------------------ token mix
    p = sub.add_parser(
        "token-mix", help="costs of input, cached input and output tokens; blended cost and price",
        description="Cost per MTok of uncached input tokens (prefill throughput), cached input "
                    "tokens (a cost factor or a cached-prefill throughput) and output tokens "
                    "(decode throughput, the profile's tokens/s), and the blended cost at an "
                    "input:output ratio and cache-hit share. Defaults from token_mix.csv. "
                    "With all three prices, the blended price and markups too.",
        epilog="Examples:\n  tokencost token-mix\n"
               "  tokencost token-mix --input-output-ratio 10 --cache-hit-share 0.6 \\\n"
               "    --price-input 5 --price-cached-input 0.5 --price-output 25",
        formatter_class=RAW)
    p.add_argument("--prefill-tokens-per-s", type=number(), metavar="TOK_S")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cached-input-cost-factor", type=number(), metavar="SHARE",
                   help="cost of a cached input token as a share of an uncached one")
    g.add_argument("--cached-prefill-tokens-per-s", type=number(), metavar="TOK_S")
    p.add_argument("--input-output-ratio", type=number(), metavar="R", help="input tokens per output token")
    p.add_argument("--cache-hit-share", type=number(), metavar="H", help="share of input tokens from cache")
    p.add_argument("--utilization", type=number())
    p.add_argument("--gpu-hour-cost", type=number(), metavar="USD",
                   help="USD per GPU-hour (default: the TCO build-up)")
    p.add_argument("--price-input", type=number(), metavar="USD_PER_MTOK")
    p.add_argument("--price-cached-input", type=number(), metavar="USD_PER_MTOK")
    p.add_argument("--price-output", type=number(), metavar="USD_PER_MTOK")
    _data_and_model(p)
    add_format(p)
    add_set(p)
    p.set_defaults(func=run_token_mix)

    # ------------------------------------------------------------------ power budget
    p = sub.add_parser(
        "power-budget", help="what a facility power budget (MW) buys and earns",
        description="GPUs that fit a facility power budget (floor of MW x 1e6 / (power_w x PUE)), "
                    "fleet tokens/s, MTok/day, cost, revenue and profit per day at each list "
                    "price whose cost basis is the profile (or --price), plus J/token and "
                    "tokens/s per MW. --power-w defaults to the Hardware table's GPU power "
                    "(the seed: 700 W TDP); all-in IT power per GPU (host, network) is higher, "
                    "e.g. 1,730 W for H100 in tco_reference.csv.",
        epilog="Examples:\n  tokencost power-budget --facility-mw 100\n"
               "  tokencost power-budget --facility-mw 100 --power-w 1730 --utilization 0.6 "
               "--price 2 --format json",
        formatter_class=RAW)
    p.add_argument("--facility-mw", type=number(), required=True, metavar="MW")
    p.add_argument("--power-w", type=number(), metavar="W", help="power per GPU counted against the budget")
    p.add_argument("--pue", type=number())
    p.add_argument("--utilization", type=number())
    p.add_argument("--gpu-hour-cost", type=number(), metavar="USD")
    p.add_argument("--price", type=number(), metavar="USD_PER_MTOK", help="sell price of output tokens")
    _data_and_model(p)
    add_format(p)
    add_set(p)
    p.set_defaults(func=run_power_budget)


def run_fleet(args) -> int:
    from ..analysis.deployment import fleet, gpu_hour_usd_of, profile_point
    from ..errors import InputError
    hour = args.gpu_hour_cost
    basis = "--gpu-hour-cost"
    if hour is None:
        point = profile_point(load_inputs(args), args.model)
        hour = float(gpu_hour_usd_of(point))
        basis = f"TCO build-up of {point['gpu']} ({point['model']})"
    cached_price = args.price_cached_input
    if cached_price is None:
        if args.cached_input_tokens > 0:
            raise InputError("--price-cached-input",
                             "--price-cached-input is required when --cached-input-tokens > 0")
        cached_price = 0.0
    table = fleet(args.nodes, args.gpus_per_node, hour, args.hours, args.input_tokens,
                  args.cached_input_tokens, args.output_tokens, args.price_input, cached_price,
                  args.price_output, args.tokens_per_s)
    _emit({"fleet": table}, args.format, {"fleet": f"Fleet P&L (GPU-hour cost basis: {basis})"},
          {"gpu_hour_cost_basis": basis})
    return 0


def run_rent_vs_own(args) -> int:
    from ..inputs.reference_tables import read_catalog
    from ..analysis.deployment import rent_vs_own
    sections = rent_vs_own(load_inputs(args), read_catalog("rental_prices.csv", args.data),
                           read_catalog("tco_reference.csv", args.data), args.model,
                           args.utilization, args.rent_gpu_hour_usd)
    titles = {"rent_vs_own": "Owning (TCO every hour) vs renting on demand (busy hours only)",
              "own_reference": "Own cost per GPU-hour: this model's build-up and reference points"}
    _emit(sections, args.format, titles, {"model": args.model})
    if args.format in ("table", "markdown"):
        from ..render import wrap_text
        note = ("Owning beats an on-demand rental when utilization > own / rent "
                "(breakeven_utilization); >= 100% means never. A reserved rental is paid "
                "every hour like owning: compare the hourly prices directly.")
        sys.stdout.write("\n" + (wrap_text(note) if args.format == "table" else note) + "\n")
    return 0


def run_token_mix(args) -> int:
    from ..inputs.reference_tables import read_catalog
    from ..analysis.deployment import token_mix
    names = ("prefill_tokens_per_s", "cached_input_cost_factor", "cached_prefill_tokens_per_s",
             "input_output_ratio", "cache_hit_share", "utilization")
    ov = {n: getattr(args, n) for n in names}
    ov.update(gpu_hour_usd=args.gpu_hour_cost, price_input_usd_per_mtok=args.price_input,
              price_cached_input_usd_per_mtok=args.price_cached_input,
              price_output_usd_per_mtok=args.price_output)
    table = token_mix(load_inputs(args), read_catalog("token_mix.csv", args.data), args.model, ov)
    a = table.attrs
    title = (f"Token mix for {a['model']} at {a['input_output_ratio']:g}:1 input:output, "
             f"{a['cache_hit_share']:.0%} cache hits, ${a['gpu_hour_usd']:.4f}/GPU-hour, "
             f"utilization {a['utilization']:.0%}")
    _emit({"token_mix": table}, args.format, {"token_mix": title}, dict(a))
    return 0


def run_power_budget(args) -> int:
    from ..analysis.deployment import power_budget
    table = power_budget(load_inputs(args), args.facility_mw, args.model, args.power_w, args.pue,
                         args.utilization, args.gpu_hour_cost, args.price)
    title = f"What {args.facility_mw:g} MW of facility power buys and earns ({table.attrs['model']})"
    _emit({"power_budget": table}, args.format, {"power_budget": title}, {"model": table.attrs["model"]})
    return 0
