"""tokencost scenario: add, list and remove scenario tabs in a workbook."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import add_format, parse_overrides


def register(sub):
    p = sub.add_parser(
        "scenario", help="add, list or remove scenario tabs in a workbook",
        description="A scenario tab overrides some inputs of the workbook in every row of their "
                    "column (a blank override keeps the base value) and recalculates $/GPU-month, "
                    "$/GPU-hour, cost per MTok, markups and subscriptions on its own sheet, with "
                    "native formulas. The Scenarios sheet shows every scenario beside the base. "
                    "add and remove change BOOK in place, atomically, keeping BOOK.bak (or write "
                    "--output NEW); they refuse a workbook holding parts a rewrite would lose.",
        epilog="Examples:\n"
               "  tokencost scenario add tokencost.xlsm --name power_0.05 "
               "--set power_price_usd_per_kwh=0.05\n"
               "  tokencost scenario add tokencost.xlsm --name b200-4y --set depreciation_years=4 "
               "--set utilization=0.7 --output what-if.xlsm\n"
               "  tokencost scenario list tokencost.xlsm\n"
               "  tokencost scenario remove tokencost.xlsm --name power_0.05",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    add = actions.add_parser(
        "add", help="add a scenario tab with overrides",
        description="Add a scenario tab NAME to BOOK with each --set NAME=VALUE as an override "
                    "(canonical input names: power_price_usd_per_kwh, depreciation_years, "
                    "tokens_per_s, utilization, pue, gpu_price_usd, ...), and list it on the "
                    "Scenarios sheet. The new cells get cached values; every other cell keeps its "
                    "cached value, except the Scenarios sheet column the new name fills.",
        epilog="Example:\n  tokencost scenario add tokencost.xlsm --name power_0.06 "
               "--set power_price_usd_per_kwh=0.06",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add.add_argument("book", type=Path, metavar="BOOK", help="the workbook (.xlsm/.xlsx)")
    add.add_argument("--name", required=True, help="tab name (at most 31 characters, none of [ ] : * ? / \\ ')")
    add.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                     help="an override, applied to every row of its column (repeatable)")
    _write_options(add)
    add.set_defaults(func=run_add)

    ls = actions.add_parser(
        "list", help="list the scenario tabs and their overrides",
        description="List BOOK's scenario tabs (copies made by hand in Excel included), the "
                    "overrides filled on each and whether the Scenarios sheet lists it. An "
                    "override that is not a number or outside its input's bounds is flagged, "
                    "e.g. power_price_usd_per_kwh='0.05 $' (not a number); the tab's status "
                    "on the Scenarios sheet says bad override.",
        epilog="Example:\n  tokencost scenario list tokencost.xlsm --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ls.add_argument("book", type=Path, metavar="BOOK", help="the workbook (.xlsm/.xlsx)")
    add_format(ls)
    ls.set_defaults(func=run_list)

    rm = actions.add_parser(
        "remove", help="remove a scenario tab",
        description="Remove scenario tab NAME from BOOK and clear its name on the Scenarios "
                    "sheet. Refuses a sheet that is not a scenario tab, and a tab that other "
                    "formulas refer to directly.",
        epilog="Example:\n  tokencost scenario remove tokencost.xlsm --name power_0.06",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rm.add_argument("book", type=Path, metavar="BOOK", help="the workbook (.xlsm/.xlsx)")
    rm.add_argument("--name", required=True, help="the scenario tab to remove")
    _write_options(rm)
    rm.set_defaults(func=run_remove)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _write_options(parser):
    parser.add_argument("--output", type=Path, metavar="NEW",
                        help="write the result to NEW (same suffix as BOOK) and leave BOOK as it is")
    parser.add_argument("--no-backup", action="store_true", help="do not keep a .bak of the file replaced")


def run_add(args) -> int:
    from ..workbook.edit.scenarios import add_scenario
    overrides = parse_overrides(args.overrides)
    done = add_scenario(args.book, args.name, overrides, output=args.output,
                        backup=not args.no_backup)
    shown = ", ".join(f"{k}={v:g}" for k, v in overrides.items()) or "no override yet"
    print(f"{done.target}: added scenario tab {args.name!r} ({shown})"
          + (f"; backup {done.backup}" if done.backup else ""))
    return 0


def run_list(args) -> int:
    import pandas as pd
    from ..render import render_sections, to_json
    from ..workbook.edit.scenarios import list_scenarios
    rows = list_scenarios(args.book)
    if args.format == "json":
        sys.stdout.write(to_json([{"scenario": s.name, "overrides": s.overrides,
                                   "invalid_overrides": s.invalid,
                                   "on_scenarios_sheet": s.in_summary} for s in rows]))
        return 0
    frame = pd.DataFrame({
        "scenario": [s.name for s in rows],
        "overrides": ["; ".join(s.shown) for s in rows],
        "on_scenarios_sheet": [s.in_summary for s in rows],
    }, columns=["scenario", "overrides", "on_scenarios_sheet"])
    sys.stdout.write(render_sections({"scenarios": frame}, args.format,
                                     {"scenarios": f"Scenario tabs in {args.book}"}))
    return 0


def run_remove(args) -> int:
    from ..workbook.edit.scenarios import remove_scenario
    done = remove_scenario(args.book, args.name, output=args.output, backup=not args.no_backup)
    print(f"{done.target}: removed scenario tab {args.name!r}"
          + (f"; backup {done.backup}" if done.backup else ""))
    return 0
