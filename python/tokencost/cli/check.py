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
            "columns, text in a number cell even when it reads as one ('700'), names with spaces\n"
            "around them that match nothing, inputs that make a result overflow (not a finite\n"
            "number). Then the physics check of every model profile (throughput above the decode\n"
            "bound, weights that do not fit its GPUs), at the profile's tokens_per_s cell. Also\n"
            "blank rows inside an input table, and the workbook's own master check when it counts\n"
            "errors as last calculated (e.g. a table that outgrew its calculation block).\n"
            "The file is only read. Exit code 0 when no input is wrong (physics flags are\n"
            "warnings: they are printed but do not fail the check unless --strict), 1 otherwise,\n"
            "2 when the file is not a readable workbook."),
        epilog="Examples:\n  tokencost check tokencost.xlsm\n"
               "  tokencost check my-copy.xlsm --strict        # physics warnings fail too\n"
               "  tokencost check my-copy.xlsm --no-physics   # inputs only",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", metavar="BOOK", help="the workbook to check (.xlsm/.xlsx)")
    p.add_argument("--no-physics", action="store_true",
                   help="skip the physics check of the model profiles (its warnings then do not "
                        "make the exit code non-zero)")
    p.add_argument("--strict", action="store_true",
                   help="physics warnings make the exit code 1 too (as the input problems do)")
    p.set_defaults(func=run)


def physics_warnings(inputs, locate) -> list[str]:
    """``Models!C9: physics: ...`` for every model profile the physics check flags."""
    from ..physics_checks import physics_flags
    flags = physics_flags(inputs)
    return [f"{locate('Models', i, 'tokens_per_s')}: physics: {reason}"
            for i, (ok, reason) in enumerate(zip(flags["ok"], flags["reason"])) if not ok]


def blank_rows(book) -> list[str]:
    """``Prices!A10:E10: blank row inside table Prices ...`` for each row of an input table
    that is blank in every input column (the reader skips it; the workbook's checks count
    its blank required cells)."""
    from ..workbook.read import BOOK_TABLES, column_letter, sheet_ref
    out = []
    for name in BOOK_TABLES:
        table = book.tables.get(name)
        if table is None or name not in book.sheet_rows:
            continue
        used = set(book.sheet_rows[name])
        for r in range(table.first_data_row, table.last_data_row + 1):
            if r not in used:
                box = f"{column_letter(table.min_col)}{r}:{column_letter(table.max_col)}{r}"
                out.append(f"{sheet_ref(table.sheet, box)}: blank row inside table {name}; "
                           "fill it or delete the table row")
    return out


def own_master_check(path) -> list[str]:
    """The workbook's master check (defined name Master_Check) as last calculated, when it
    counts errors: ``Checks!B7: the workbook's own checks count 5 error(s) ...``."""
    import warnings
    from openpyxl import load_workbook
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        name = wb.defined_names.get("Master_Check")
        if name is None:
            return []
        for sheet, cell in name.destinations:
            if sheet not in wb.sheetnames:
                return []
            ref = cell.replace("$", "")
            letters, row = coordinate_from_string(ref)
            col = column_index_from_string(letters)
            value = next(wb[sheet].iter_rows(min_row=row, max_row=row, min_col=col, max_col=col,
                                             values_only=True))[0]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                from ..workbook.read import sheet_ref
                return [f"{sheet_ref(sheet, ref)}: the workbook's own checks count {value:g} "
                        "error(s) as last calculated; see its Checks sheet"]
        return []
    finally:
        wb.close()


def run(args) -> int:
    from ..inputs import prepare
    from ..workbook.read import BOOK_TABLES, check_book, read_book
    from ..model import result_problems
    book = read_book(args.book)
    problems = [str(p) for p in check_book(book)] + blank_rows(book)
    if not problems:  # valid inputs whose results overflow (report would refuse them)
        problems = [str(p) for p in result_problems(prepare(book.raw, book.locate, book.typed),
                                                    variants=True)]
    if not problems:
        problems = own_master_check(book.path)   # what the input checks cannot see
    for problem in problems:
        print(problem)
    warnings: list[str] = []
    physics_note = ""
    if args.no_physics:
        physics_note = "physics check skipped"
    elif problems:
        physics_note = "physics check not run until the input problems are fixed"
    else:
        warnings = physics_warnings(prepare(book.raw, book.locate, book.typed), book.locate)
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
    return 1 if problems or args.strict else 0
