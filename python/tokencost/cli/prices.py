"""tokencost prices import: list prices from a LiteLLM-format price catalog."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import add_format


def register(sub):
    p = sub.add_parser("prices", help="price catalogs: import list prices",
                       description="Work with providers' list prices.",
                       epilog="Example: tokencost prices import model_prices_and_context_window.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    psub = p.add_subparsers(dest="prices_command", metavar="ACTION")
    imp = psub.add_parser(
        "import", help="read a LiteLLM-format price catalog (JSON) and print its token prices",
        description="Read a price catalog in the format of LiteLLM's "
                    "model_prices_and_context_window.json (a JSON object of model entries with "
                    "per-token input_cost_per_token, output_cost_per_token, "
                    "cache_read_input_token_cost, litellm_provider and mode), convert the prices "
                    "to USD per million tokens and print one row per token-priced model. The "
                    "sample_spec entry and unknown fields are ignored; entries without a "
                    "per-token output price (images, audio) are skipped and counted; malformed "
                    "entries are reported on stderr naming the key and field, and make the exit "
                    "code 1 (the good rows are still printed). No network access: you supply "
                    "the file. With --workbook BOOK the rows are appended to BOOK's Prices "
                    "table instead (each compared against --cost-basis PROFILE; models already "
                    "in the table are left alone), atomically with a BOOK.bak, refusing a "
                    "workbook whose other parts a rewrite would lose.",
        epilog="Examples:\n"
               "  tokencost prices import model_prices_and_context_window.json --mode chat\n"
               "  tokencost prices import catalog.json --format csv > imported_prices.csv\n"
               "  tokencost prices import catalog.json --mode chat --workbook tokencost.xlsm "
               "--cost-basis dense-70b",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("file", type=Path, metavar="FILE.json", help="the catalog file")
    imp.add_argument("--mode", action="append", default=[], metavar="MODE",
                     help="keep only entries of this mode, e.g. chat (repeatable; default: all)")
    imp.add_argument("--workbook", type=Path, metavar="BOOK",
                     help="append the rows to this workbook's Prices table")
    imp.add_argument("--cost-basis", metavar="PROFILE",
                     help="with --workbook: the model profile (Models table) the imported prices "
                          "are compared against")
    imp.add_argument("--output", type=Path, metavar="NEW",
                     help="with --workbook: write the result to NEW and leave BOOK untouched")
    imp.add_argument("--no-backup", action="store_true",
                     help="with --workbook: do not keep BOOK.bak")
    add_format(imp)
    imp.set_defaults(func=run_import)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_import(args) -> int:
    from ..inputs.pricecatalog import import_file
    from ..render import render_sections, to_json
    result = import_file(args.file, modes=args.mode or None)
    if args.workbook is not None:
        return _into_workbook(args, result)
    if args.cost_basis or args.output or args.no_backup:
        from ..errors import InputError
        raise InputError("--cost-basis/--output/--no-backup", "these options need --workbook BOOK")
    summary = (f"imported: {len(result.rows)}, skipped: {result.skipped} "
               f"(not priced per token{' or other mode' if args.mode else ''}), "
               f"bad rows: {len(result.problems)}")
    if args.format == "json":
        payload = {"rows": result.rows, "problems": result.problems, "skipped": result.skipped}
        sys.stdout.write(to_json(payload))
    elif args.format == "csv":
        from ..render import frame_to_csv
        sys.stdout.write(frame_to_csv(result.rows))
    else:
        sys.stdout.write(render_sections({"prices": result.rows}, args.format,
                                         {"prices": f"Prices from {args.file.name} (USD per MTok)"}))
    for problem in result.problems:
        print(f"tokencost prices import: {args.file.name}: {problem}", file=sys.stderr)
    print(f"tokencost prices import: {summary}", file=sys.stderr)
    return 1 if result.problems else 0


def _into_workbook(args, result) -> int:
    from ..errors import InputError
    from openpyxl.utils import get_column_letter
    from ..workbook.edit.prices import append_prices
    if not args.cost_basis:
        raise InputError("--cost-basis", "--workbook needs --cost-basis PROFILE: the model profile "
                                         "the imported prices are compared against")
    done = append_prices(args.workbook, result.rows, args.cost_basis, output=args.output,
                         backup=not args.no_backup)
    for problem in result.problems:
        print(f"tokencost prices import: {args.file.name}: {problem} (not imported)",
              file=sys.stderr)
    if done.appended:
        print(f"appended {len(done.appended)} price row(s) to the Prices table of {done.target}"
              + (f" (backup: {done.backup})" if done.backup else ""))
    else:
        print(f"nothing appended: {args.workbook} is unchanged")
    if done.already_there:
        print(f"left alone, already in the Prices table: {', '.join(done.already_there)}")
    if done.unresolved:
        where = ", ".join(f"{sh}!{get_column_letter(c)}{r}" for sh, r, c in done.unresolved[:3])
        print(f"warning: {len(done.unresolved)} formula cell(s) that read the Prices table use "
              f"functions tokencost cannot compute ({where}{', ...' if len(done.unresolved) > 3 else ''}); "
              "they keep their old values until the workbook is recalculated (open it in Excel, "
              f"or run `tokencost recalc {done.target}`)", file=sys.stderr)
    if done.master_check:
        print(f"warning: the workbook's Checks sheet now counts {done.master_check:g} error(s) "
              "(e.g. more prices than the calculation block holds); see its Checks sheet",
              file=sys.stderr)
    return 1 if result.problems or done.master_check else 0
