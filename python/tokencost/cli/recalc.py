"""tokencost recalc: refresh a workbook's cached values with LibreOffice."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import UserFacingError


def register(sub):
    p = sub.add_parser(
        "recalc", help="recalculate a workbook with LibreOffice and store the results in it",
        description="Recalculate every formula of BOOK with LibreOffice (headless, isolated "
                    "profile) and store the results as the cells' cached values, so previews and "
                    "pandas readers see current numbers. Only cached values change: VBA, names, "
                    "styles and validation are kept byte for byte. The original is kept as BOOK.bak.",
        epilog="Example:\n  tokencost recalc tokencost.xlsm",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", type=Path, help="the .xlsx/.xlsm workbook")
    p.add_argument("--no-backup", action="store_true", help="do not keep BOOK.bak")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..workbook.edit.recalc import recalc_in_place
    from ..workbook.libreoffice import LibreOfficeError
    try:   # recalc_in_place runs the gate, check_readable, before LibreOffice sees the file
        n = recalc_in_place(args.book, backup=not args.no_backup)
    except LibreOfficeError as err:
        raise UserFacingError(str(err)) from None
    print(f"{args.book}: refreshed {n} formula cells")
    return 0
