"""tokencost check BOOK: validate every input of an analyst-edited workbook, writing nothing."""
from __future__ import annotations

import argparse
import sys


def register(sub):
    p = sub.add_parser(
        "check", help="validate the input tables of a workbook (Sheet!Cell: problem)",
        description=(
            "Read the input tables (Hardware, CostComponents, Models, Prices, Subscriptions) of a\n"
            "workbook by name and print every problem as `Sheet!Cell: what is wrong`: text in a\n"
            "number cell, blank required cells, values out of bounds, duplicate names, unknown GPU\n"
            "or model references, error values, formulas without a cached value, missing tables or\n"
            "columns. Then the physics check of every model profile (throughput above the decode\n"
            "bound, weights that do not fit its GPUs), at the profile's tokens_per_s cell.\n"
            "The file is only read. Exit code 0 when nothing is wrong, 1 otherwise, 2 when the\n"
            "file is not a readable workbook."),
        epilog="Examples:\n  tokencost check tokencost.xlsm\n"
               "  tokencost check my-copy.xlsm --no-physics   # inputs only",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", metavar="BOOK", help="the workbook to check (.xlsm/.xlsx)")
    p.add_argument("--no-physics", action="store_true",
                   help="skip the physics check of the model profiles (its warnings then do not "
                        "make the exit code non-zero)")
    p.set_defaults(func=run)


def physics_warnings(inputs, locate) -> list[str]:
    """``Models!C9: physics: ...`` for every model profile the physics check flags."""
    from ..physics_checks import physics_flags
    flags = physics_flags(inputs)
    return [f"{locate('Models', i, 'tokens_per_s')}: physics: {reason}"
            for i, (ok, reason) in enumerate(zip(flags["ok"], flags["reason"])) if not ok]


def run(args) -> int:
    from ..inputs import prepare
    from ..workbook.read import BOOK_TABLES, check_book, read_book
    book = read_book(args.book)
    problems = check_book(book)
    for problem in problems:
        print(problem)
    warnings: list[str] = []
    physics_note = ""
    if args.no_physics:
        physics_note = "physics check skipped"
    elif problems:
        physics_note = "physics check not run until the input problems are fixed"
    else:
        warnings = physics_warnings(prepare(book.raw, book.locate), book.locate)
        for line in warnings:
            print(line)
    rows = f"{book.row_count} rows in {len(BOOK_TABLES) - len(book.missing)} tables"
    if not problems and not warnings:
        print(f"OK: {rows}, no problem" + (f" ({physics_note})" if physics_note else ""))
        return 0
    parts = []
    if problems:
        parts.append(f"{len(problems)} problem(s)")
    if warnings:
        parts.append(f"{len(warnings)} physics warning(s) (--no-physics to skip)")
    print(f"{book.path}: " + " and ".join(parts) + f" ({rows})"
          + (f"; {physics_note}" if physics_note else ""), file=sys.stderr)
    return 1
