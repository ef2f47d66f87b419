"""tokencost report: the seed's tables from the default inputs, a data folder or a workbook."""
from __future__ import annotations

import sys
from pathlib import Path

from ._common import CSV_RULE, add_book, add_format, add_set, load_inputs


def register(sub):
    p = sub.add_parser(
        "report", help="print the cost tables (defaults: the seed's figures)",
        description="Print the monthly GPU cost build-up, $/GPU-hour, cost per MTok by model "
                    "profile, markups, subscriptions and the named variants, from the seed dataset, "
                    "a folder of CSV files (--data) or the input tables of a workbook (BOOK).",
        epilog="Examples:\n  tokencost report\n  tokencost report --format json\n"
               "  tokencost report --set power_price_usd_per_kwh=0.06 --format markdown\n"
               "  tokencost report my-copy.xlsm --format json   # the inputs an analyst edited",
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    add_book(p)
    p.add_argument("--data", type=Path, metavar="DIR",
                   help=f"folder of input CSV files (default: the shipped seed dataset); {CSV_RULE}")
    add_format(p)
    add_set(p)
    p.set_defaults(func=run)


def render_report(inputs, fmt: str) -> str:
    """The report of *inputs* in *fmt* (table, csv, json, markdown)."""
    from ..analysis.report import NOTES, report_data, report_sections
    from ..render import render_sections, to_json, wrap_text
    if fmt == "json":
        return to_json(report_data(inputs))
    sections, titles = report_sections(inputs)
    text = render_sections(sections, fmt, titles)
    if fmt in ("table", "markdown"):
        notes = "\n".join(f"- {n}" for n in NOTES)
        text += "\nNotes:\n" + (wrap_text(notes) if fmt == "table" else notes) + "\n"
    return text


def run(args) -> int:
    sys.stdout.write(render_report(load_inputs(args), args.format))
    return 0
