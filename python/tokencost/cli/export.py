"""tokencost export: a macro-free workbook, a PDF, CSV or Markdown for colleagues."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import UserFacingError


def register(sub):
    p = sub.add_parser(
        "export", help="export a workbook without macros or Python: .xlsx, PDF, CSV, Markdown",
        description="Export BOOK for a colleague who has neither Python nor the add-in. OUT.xlsx is "
                    "a macro-free copy: no VBA, no xlwings.conf sheet, every TokenCost function "
                    "(=COST_PER_MTOK() ...) replaced by its native formula, or by its value where "
                    "none exists (a call saved as #NAME? without the add-in is computed again); an "
                    "optional argument left out or blank reads the function's default from a named "
                    "cell on an added 'Function defaults' sheet; every formula keeps its cached "
                    "value. --pdf renders a print pack with LibreOffice: the Dashboard, then the "
                    "output sheets and their charts, one page wide, every page numbered (A4, or "
                    "Letter with --paper Letter); --csv and --markdown write the output "
                    "tables as the workbook shows them (CSV and Markdown text that starts with =, +, "
                    "-, @, tab or CR is neutralised). BOOK is never changed; a file replaced is kept as FILE.bak.",
        epilog="Examples:\n"
               "  tokencost export tokencost.xlsm for-finance.xlsx\n"
               "  tokencost export tokencost.xlsm for-finance.xlsx --pdf outputs.pdf --csv tables/\n"
               "  tokencost export tokencost.xlsm --markdown -      # the output tables on stdout",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", type=Path, help="the .xlsm/.xlsx workbook to export (read only)")
    p.add_argument("out", type=Path, nargs="?", help="the macro-free workbook to write (*.xlsx)")
    p.add_argument("--pdf", type=Path, metavar="OUT.pdf",
                   help="the Dashboard and the output sheets with their charts as a PDF pack")
    p.add_argument("--paper", choices=("A4", "Letter"), default="A4",
                   help="paper of the PDF pack (default: A4)")
    p.add_argument("--csv", type=Path, metavar="DIR", dest="csv_dir",
                   help="one CSV file per output table in DIR (Out_GPU.csv, Out_Models.csv, ...)")
    p.add_argument("--markdown", metavar="FILE",
                   help="the output tables as Markdown in FILE ('-' for standard output)")
    p.add_argument("--no-backup", action="store_true", help="do not keep FILE.bak of a file replaced")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..workbook.export import export
    from ..workbook.libreoffice import LibreOfficeError

    def progress(message):
        print(f"tokencost export: {message}", file=sys.stderr, flush=True)

    try:
        result = export(args.book, args.out, pdf=args.pdf, csv_dir=args.csv_dir,
                        markdown=args.markdown, backup=not args.no_backup, progress=progress,
                        paper=args.paper)
    except LibreOfficeError as err:
        raise UserFacingError(str(err)) from None
    if args.markdown == "-":
        sys.stdout.write(result.markdown_text)
        report = sys.stderr
    else:
        report = sys.stdout
    if result.xlsx:
        udfs = ""
        if result.udf_native or result.udf_values:
            udfs = (f"; {len(result.udf_native)} add-in function cells now native formulas, "
                    f"{len(result.udf_values)} now values")
        print(f"{result.xlsx}: macro-free workbook, {result.formulas} formula cells with cached "
              f"values{udfs}", file=report)
        if result.udf_errors:
            print(f"{result.xlsx}: {len(result.udf_errors)} of those showed an error in BOOK "
                  f"(#NAME?: saved without the add-in), e.g. {result.udf_errors[0]}; computed "
                  "again", file=report)
        if result.defaults_sheet:
            print(f"{result.xlsx}: sheet '{result.defaults_sheet}' holds the functions' defaults "
                  f"the native formulas read ({', '.join(result.default_names)})", file=report)
    if result.pdf:
        print(f"{result.pdf}: PDF pack ({result.pdf_pages} pages, {args.paper}): the Dashboard "
              "and the output sheets", file=report)
    for path in result.csv_files:
        print(f"{path}: CSV", file=report)
    if result.markdown:
        print(f"{result.markdown}: Markdown, {len(result.tables)} tables", file=report)
    for bak in result.backups:
        print(f"{bak}: previous version kept", file=report)
    return 0
