"""tokencost tables: Excel Tables of an analyst's workbook (grow them over rows typed under them)."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub):
    p = sub.add_parser(
        "tables", help="grow the input tables over rows typed under them",
        description="`tokencost tables fix BOOK` grows every input table (Hardware, "
                    "CostComponents, Models, Prices, Subscriptions) over the filled rows right "
                    "under it. Excel does this when a row is typed under a table; LibreOffice "
                    "does not, and the workbook's formulas, `report` and `check` ignore a row "
                    "outside its table (`check` and the Checks sheet say so). The new rows keep "
                    "their values and take the table's style, validation and number formats; "
                    "written atomically with BOOK.bak.",
        epilog="Example:\n  tokencost tables fix tokencost.xlsm",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    fix = actions.add_parser("fix", help="grow the tables over the rows under them")
    fix.add_argument("book", type=Path, metavar="BOOK", help="the workbook (.xlsm/.xlsx)")
    fix.add_argument("--output", type=Path, metavar="NEW",
                     help="write the result to NEW (same suffix as BOOK) and leave BOOK as it is")
    fix.add_argument("--no-backup", action="store_true", help="do not keep a .bak of the file replaced")
    fix.set_defaults(func=run)


def run(args) -> int:
    from ..workbook.edit.tables import fix_tables
    written, grown = fix_tables(args.book, args.output, backup=not args.no_backup)
    if not grown:
        print(f"{args.book}: no table has values typed under it; nothing to do")
        return 0
    for name, rows in grown.items():
        what = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]} to {rows[-1]}"
        print(f"{written.target}: table {name} now includes {what}")
    return 0
