"""tokencost lifecycle: the investment case over time (monthly cash flows, payback, NPV, IRR).

``register`` adds the subcommand; tables go through :mod:`tokencost.render`.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ._common import CSV_RULE, add_book, add_format, count, load_inputs, parse_overrides

RAW = argparse.RawDescriptionHelpFormatter


def register(sub):
    p = sub.add_parser(
        "lifecycle", help="investment case: monthly cash flows of a fleet, payback, NPV, IRR",
        description="Follow a fleet month by month for a horizon of whole years (lifecycle.csv, or "
                    "the LifecycleInputs sheet of BOOK): GPUs delivered over a ramp and paid at "
                    "delivery, utilization ramping up, availability from MTBI, throughput gains and "
                    "price changes in yearly steps, revenue from a price row's input, cached and "
                    "output prices on a workload's mix, opex, EBITDA, residual value. Cash flows "
                    "fall at the end of each month; NPV and IRR follow Excel's NPV and IRR. "
                    "--set NAME=VALUE sets a lifecycle parameter (horizon_years, gpus, "
                    "cost_of_capital ...) or an input-table column (power_price_usd_per_kwh ...).",
        epilog="Examples:\n  tokencost lifecycle\n"
               "  tokencost lifecycle --price-row 'Claude Opus 4.8' --workload 'coding agent' "
               "--set horizon_years=7\n"
               "  tokencost lifecycle tokencost.xlsm --format json --months all\n"
               "  tokencost lifecycle tokencost.xlsm --scenario subsidized_power\n"
               "  tokencost lifecycle --grid --tornado --plot case.png\n"
               "docs/lifecycle.md explains every convention.",
        formatter_class=RAW)
    add_book(p)
    p.add_argument("--data", type=Path, metavar="DIR",
                   help=f"folder of input CSV files (default: the shipped dataset; its lifecycle.csv, "
                        f"token_mix.csv and lifecycle_ranges.csv replace the shipped ones); {CSV_RULE}")
    p.add_argument("--price-row", metavar="MODEL", help="the Prices row (model) whose prices are earned")
    p.add_argument("--workload", metavar="NAME", help="the Workloads row (traffic mix)")
    p.add_argument("--scenario", metavar="NAME",
                   help="take the overrides of BOOK's scenario tab (or a Variants row of the data) "
                        "NAME: its GPU costs, throughput, prices and workload mix (default: "
                        "LifecycleInputs' scenario cell, else the base case)")
    p.add_argument("--set", dest="lifecycle_set", action="append", default=[], metavar="NAME=VALUE",
                   help="a lifecycle parameter or an input-table column, e.g. --set gpus=2048 "
                        "(repeatable)")
    p.add_argument("--months", choices=("years", "all", "none"), default=None,
                   help="the timeline: summed by year, every month, or none (default: years; "
                        "all for csv and json)")
    p.add_argument("--grid", action="store_true",
                   help="NPV over the yearly price change (all token types) x the utilization "
                        "reached after the ramp")
    p.add_argument("--steps", type=count(2, 41), default=5, help="grid points per axis (default 5)")
    p.add_argument("--tornado", action="store_true",
                   help="NPV at each parameter's low and high value of lifecycle_ranges.csv")
    p.add_argument("--plot", type=Path, metavar="PNG",
                   help="also draw monthly EBITDA and cumulative cash to a PNG (matplotlib)")
    add_format(p)
    p.set_defaults(func=run)


def _split(items):
    """``--set`` items -> (lifecycle parameters, input-table overrides as NAME=VALUE items)."""
    from ..analysis.lifecycle import DERIVED, read_parameters
    known = set(read_parameters()["name"]) | set(DERIVED)
    life, table = {}, []
    for item in items:
        name, _, value = item.partition("=")
        if name.strip() in known:
            life[name.strip()] = value.strip()
        else:
            table.append(item)
    parse_overrides(table)   # a malformed item: one line naming it
    return life, table


def _life_value(name: str, text: str):
    from ..analysis.lifecycle import OPTIONAL_TEXT, TEXT_PARAMETERS
    from ..errors import InputError
    if name in TEXT_PARAMETERS + OPTIONAL_TEXT:
        return text
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--set {name}", f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"--set {name}", f"{name} must be a number, got {text!r} (not finite)")
    return value


def run(args) -> int:
    from ..analysis import lifecycle as life
    from ..inputs.reference_tables import read_catalog
    from ..render import render_sections, to_json
    life_set, table_set = _split(args.lifecycle_set)
    args.overrides = table_set
    if args.plot is not None:
        from . import UserFacingError
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UserFacingError("--plot needs matplotlib: pip install 'tokencost-xl[plot]'") from None
        from ..workbook.files import check_writable
        check_writable(args.plot)
    inputs = load_inputs(args)
    overrides, where = {}, {}
    if args.book is not None:
        from ..workbook.read import read_named_values
        for name, (value, cell) in read_named_values(args.book, "LifeIn_").items():
            overrides[name], where[name] = value, cell
    for option, name in ((args.price_row, "price_row"), (args.workload, "workload"),
                         (args.scenario, "scenario")):
        if option is not None:
            overrides[name], where[name] = option, f"--{name.replace('_', '-')}"
    for name, text in life_set.items():
        overrides[name], where[name] = _life_value(name, text), f"--set {name}"
    table = life.read_parameters(args.data / "lifecycle.csv") if args.data is not None and (
        args.data / "lifecycle.csv").exists() else None
    mix = read_catalog("token_mix.csv", args.data)
    result = life.run(inputs, overrides, table=table, mix=mix, where=where)
    params = result["parameters"]
    summary = result["summary"].iloc[0].to_dict()
    messages = _messages(summary)
    extra = {}
    if args.grid:
        xs = [-0.5 + 0.5 * i / (args.steps - 1) for i in range(args.steps)]
        ys = [0.4 + 0.6 * i / (args.steps - 1) for i in range(args.steps)]
        extra["npv_grid"] = life.npv_grid(params, xs, ys)
    if args.tornado:
        ranges_path = args.data / "lifecycle_ranges.csv" if args.data is not None else None
        extra["npv_tornado"] = life.npv_tornado(
            params, life.read_ranges(ranges_path if ranges_path and ranges_path.exists() else None))
    months_mode = args.months or ("all" if args.format in ("csv", "json") else "years")
    months = result["months"]
    scenario = str(overrides.get("scenario") or "").strip() if isinstance(
        overrides.get("scenario"), str) else ""
    if args.plot is not None:
        _plot(months, summary, args.plot)
    if args.format == "json":
        payload = {"price_row": overrides.get("price_row") or _default("price_row"),
                   "workload": overrides.get("workload") or _default("workload"),
                   "scenario": scenario or None,
                   "parameters": params,
                   "summary": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                               for k, v in summary.items()},
                   **messages}
        if months_mode != "none":
            payload["months" if months_mode == "all" else "years"] = (
                months if months_mode == "all" else life.yearly(months))
        payload.update(extra)
        sys.stdout.write(to_json(payload))
    else:
        import pandas as pd
        rows = [(k, v) for k, v in summary.items()]
        frame = pd.DataFrame(rows, columns=["result", "value"])
        frame["value"] = [_shown(k, v, messages) for k, v in rows]
        sections = {"summary": frame}
        titles = {"summary": f"Investment case: {params['price_output_usd_per_mtok']:g} USD/MTok output "
                             f"({overrides.get('price_row') or _default('price_row')}), workload "
                             f"{overrides.get('workload') or _default('workload')}, "
                             f"{summary['fleet_gpus']:,.0f} GPUs, {summary['horizon_months']:.0f} months"
                             + (f", scenario {scenario}" if scenario else "")}
        if months_mode == "years":
            sections["years"] = life.yearly(months)
            titles["years"] = "By year (sums; GPUs online, utilization and prices averaged)"
        elif months_mode == "all":
            sections["months"] = months
            titles["months"] = "By month (cash flows at the end of each month)"
        for key, value in extra.items():
            sections[key] = value
        titles["npv_grid"] = "NPV (USD): yearly price change of every token type (columns) x utilization (rows)"
        titles["npv_tornado"] = "NPV (USD) at each parameter's low and high value (lifecycle_ranges.csv)"
        sys.stdout.write(render_sections(sections, args.format, titles))
    for text in messages.values():
        print(f"tokencost lifecycle: {text}", file=sys.stderr)
    if args.plot is not None:
        print(f"tokencost lifecycle: wrote {args.plot}", file=sys.stderr)
    return 0


def _default(name: str) -> str:
    from ..analysis.lifecycle import read_parameters
    frame = read_parameters()
    return str(frame.loc[frame["name"] == name, "value"].iloc[0])


def _messages(summary: dict) -> dict:
    out = {}
    if math.isnan(summary["irr_annual"]):
        out["irr_message"] = ("no IRR: the cash flows never change sign" if
                              summary["min_cumulative_cash_usd"] >= 0 or summary["npv_usd"] < 0 and
                              summary["total_revenue_usd"] <= summary["total_opex_usd"]
                              else "no IRR found between -99 % and the search limit a month")
    if math.isnan(summary["payback_month"]):
        out["payback_message"] = "no payback: cumulative cash stays below 0 within the horizon"
    return out


def _shown(key, value, messages):
    if isinstance(value, float) and math.isnan(value):
        if key.startswith("irr"):
            return messages.get("irr_message", "none")
        if key == "payback_month":
            return messages.get("payback_message", "never")
        return "n/a"
    return value


def _plot(months, summary: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.bar(months["month"], months["ebitda_usd"] / 1e6, color="#4472C4", label="EBITDA (left)")
    ax.set_xlabel("month")
    ax.set_ylabel("EBITDA per month (USD million)")
    ax2 = ax.twinx()
    ax2.plot(months["month"], months["cumulative_cash_usd"] / 1e6, color="#C00000",
             label="cumulative cash (right)")
    ax2.axhline(0, color="grey", lw=0.8)
    ax2.set_ylabel("cumulative cash (USD million)")
    irr = summary["irr_annual"]
    fig.suptitle(f"NPV ${summary['npv_usd'] / 1e6:,.1f} M, IRR "
                 f"{'n/a' if math.isnan(irr) else f'{irr:.1%}'} a year, payback month "
                 f"{'never' if math.isnan(summary['payback_month']) else int(summary['payback_month'])}")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left")
    fig.tight_layout()
    from .sensitivity import save_figure
    save_figure(fig, path)
