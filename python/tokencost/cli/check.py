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
    from ..analysis.physics_checks import physics_flags
    flags = physics_flags(inputs)
    return [f"{locate('Models', i, 'tokens_per_s')}: physics: {reason}"
            for i, (ok, reason) in enumerate(zip(flags["ok"], flags["reason"])) if not ok]


def _capped_physics(lines: list[str]) -> list[str]:
    """*lines* of :func:`physics_warnings`, at most :data:`LINES_PER_PROBLEM` and a count."""
    if len(lines) <= LINES_PER_PROBLEM:
        return lines
    rest = lines[LINES_PER_PROBLEM:]
    first, last = rest[0].split(": ", 1)[0], rest[-1].split(": ", 1)[0]
    return lines[:LINES_PER_PROBLEM] + [
        f"{first} to {last}: {len(rest):,} more physics warning(s), not listed one by one "
        f"(the first {LINES_PER_PROBLEM} are above)"]


#: lines printed for one problem (one column of one table, one table's blank rows, the
#: physics check); the rest are summed up in one more line
LINES_PER_PROBLEM = 10


def blank_runs(book) -> list[tuple]:
    """Each run of rows of an input table that are blank in every input column (the reader
    skips them; the workbook's checks count their blank required cells).

    The work is proportional to the rows that hold something, not to the table's span
    (which may reach Excel's last row, 1,048,576).

    Parameters
    ----------
    book : tokencost.workbook.read.BookTables
        The workbook as read.

    Returns
    -------
    list of tuple
        ``(table name, TableRef, first sheet row, last sheet row)`` per run, in table order.
    """
    from ..workbook.read import BOOK_TABLES
    out = []
    for name in BOOK_TABLES:
        table = book.tables.get(name)
        if table is None or name not in book.sheet_rows:
            continue
        start = table.first_data_row
        for r in sorted(set(book.sheet_rows[name])) + [table.last_data_row + 1]:
            if r > start:
                out.append((name, table, start, r - 1))
            start = max(start, r + 1)
    return out


def blank_rows(book, runs=None) -> list[str]:
    """The lines ``check`` prints for the runs of :func:`blank_runs`.

    Parameters
    ----------
    book : tokencost.workbook.read.BookTables
        The workbook as read.
    runs : list of tuple, optional
        :func:`blank_runs` of *book* (computed when not given).

    Returns
    -------
    list of str
        ``Prices!A10:E10: blank row inside table Prices ...`` for one row,
        ``Hardware!A9:F1048576: rows 9 to 1048576 of table Hardware are blank ...`` for a
        run; at most :data:`LINES_PER_PROBLEM` per table and one line for the runs after.
    """
    from ..workbook.read import column_letter, sheet_ref
    runs = blank_runs(book) if runs is None else runs
    by_table: dict = {}
    for run in runs:
        by_table.setdefault(run[0], []).append(run)
    out = []
    for name, table_runs in by_table.items():
        table = table_runs[0][1]

        def box(first, last):
            return sheet_ref(table.sheet, f"{column_letter(table.min_col)}{first}:"
                                          f"{column_letter(table.max_col)}{last}")

        for _name, _table, first, last in table_runs[:LINES_PER_PROBLEM]:
            if first == last:
                out.append(f"{box(first, last)}: blank row inside table {name}; "
                           "fill it or delete the table row")
            else:
                out.append(f"{box(first, last)}: rows {first} to {last} of table {name} are "
                           "blank; fill them or delete those table rows")
        rest = table_runs[LINES_PER_PROBLEM:]
        if rest:
            blank = sum(last - first + 1 for *_x, first, last in rest)
            out.append(f"{box(rest[0][2], rest[-1][3])}: {blank:,} more blank rows of table "
                       f"{name} in {len(rest):,} more runs between rows {rest[0][2]} and "
                       f"{rest[-1][3]}, not listed one by one (the first {LINES_PER_PROBLEM} "
                       "runs are above)")
    return out


def capped(problems, key=lambda p: (p.table, p.column)) -> list[str]:
    """The lines to print for *problems*, at most :data:`LINES_PER_PROBLEM` per problem.

    Parameters
    ----------
    problems : list of tokencost.inputs.validate.Problem
        In the order to print them (each ``str()`` is one line).
    key : callable
        What makes problems one problem: by default one column of one table.

    Returns
    -------
    list of str
        The first :data:`LINES_PER_PROBLEM` of each key, then one line per key for the
        rest: where the first and last of them are and how many.
    """
    shown, hidden = [], {}
    seen: dict = {}
    for p in problems:
        k = key(p)
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= LINES_PER_PROBLEM:
            shown.append(str(p))
        else:
            hidden.setdefault(k, []).append(p)
    for (table, column), rest in hidden.items():
        what = f"column {column} of table {table}" if column else f"table {table}"
        where = rest[0].where if len(rest) == 1 else f"{rest[0].where} to {rest[-1].where}"
        shown.append(f"{where}: {len(rest):,} more problem(s) in {what}, not listed one by one "
                     f"(the first {LINES_PER_PROBLEM} are above)")
    return shown


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
    from ..inputs.validate import prepare
    from ..workbook.read import BOOK_TABLES, check_book, read_book
    from ..analysis.model import result_problems
    book = read_book(args.book)
    found, runs = check_book(book), blank_runs(book)
    problems = [str(p) for p in found] + [f"{r[0]}:{r[2]}" for r in runs]   # each counts
    lines = capped(found) + blank_rows(book, runs)   # at most LINES_PER_PROBLEM per problem
    if not problems:  # valid inputs whose results overflow (report would refuse them)
        problems = lines = [str(p) for p in result_problems(
            prepare(book.raw, book.locate, book.typed), variants=True)]
    if not problems:
        problems = lines = own_master_check(book.path)   # what the input checks cannot see
    for line in lines:
        print(line)
    warnings: list[str] = []
    physics_note = ""
    if args.no_physics:
        physics_note = "physics check skipped"
    elif problems:
        physics_note = "physics check not run until the input problems are fixed"
    else:
        warnings = physics_warnings(prepare(book.raw, book.locate, book.typed), book.locate)
        for line in _capped_physics(warnings):
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
