"""Pictures of the workbook as LibreOffice renders it, for the docs (``./dev screenshots``).

``python -m tokencost.workbook.pictures [BOOK] [--out docs/images]`` writes:

* ``dashboard.png``: the Dashboard sheet, as printed (one page);
* ``outputs-N.png``: the pages of the Outputs sheet;
* ``pack-N.png``: every page of ``tokencost export --pdf`` (the PDF pack).

The sheets are printed by LibreOffice (headless, an isolated profile) with the
workbook's own page setup, then turned into PNG by poppler's ``pdftoppm``. These
pictures are how a reader sees the workbook without opening it.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .spec import REPO_ROOT

DPI = 80


def sheets_pdf(book: Path, sheets: list[str], work_dir: Path, paper: str = "A4") -> Path:
    """*sheets* of *book*, in that order, printed to one PDF by LibreOffice."""
    from openpyxl import load_workbook
    from .export import render_pdf
    wb = load_workbook(book, keep_vba=book.suffix.lower() == ".xlsm")
    for ws in wb.worksheets:
        ws.sheet_state = "visible" if ws.title in sheets else "hidden"
    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / "pictures-source.xlsx"
    wb.save(copy)
    return render_pdf(copy, work_dir, paper, sheets=sheets)


def pdf_to_png(pdf: Path, prefix: Path, dpi: int = DPI) -> list[Path]:
    """Every page of *pdf* as ``<prefix>-N.png`` (poppler's pdftoppm)."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise RuntimeError("pdftoppm is missing: apt-get install poppler-utils")
    for old in prefix.parent.glob(f"{prefix.name}-*.png"):
        old.unlink()
    subprocess.run([exe, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True)
    pages = sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
    for page in pages:          # pdftoppm pads page numbers by the page count: 1 or 01
        number = int(page.stem.rsplit("-", 1)[1])
        page.rename(prefix.parent / f"{prefix.name}-{number}.png")
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def render(book: Path, out: Path) -> list[Path]:
    """Write the pictures of *book* into *out*; return their paths."""
    from .export import export
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="tokencost-pictures-") as tmp:
        tmp = Path(tmp)
        dashboard = pdf_to_png(sheets_pdf(book, ["Dashboard"], tmp / "d"), tmp / "dashboard")
        shutil.copyfile(dashboard[0], out / "dashboard.png")
        written.append(out / "dashboard.png")
        written += pdf_to_png(sheets_pdf(book, ["Outputs"], tmp / "o"), out / "outputs")
        pdf = tmp / "pack.pdf"
        export(book, pdf=pdf, backup=False)
        written += pdf_to_png(pdf, out / "pack")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tokencost.workbook.pictures",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("book", nargs="?", type=Path, default=REPO_ROOT / "tokencost.xlsm")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    for path in render(args.book, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
