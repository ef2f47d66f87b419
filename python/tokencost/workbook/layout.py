"""Fit a written sheet for reading and printing: column widths, wrapped text, row
heights, print area and page setup.

Excel stores no row height for wrapped text it did not lay out itself, so a
header that wraps to three lines sits in a one-line row and shows only its
last word. The builder therefore measures text the way Excel does: in pixels
of the workbook font (Calibri 11, whose advance widths are those of the
metric-compatible Carlito, ``data/font_widths.csv``), against column widths
in Excel's unit (the width of the digit 0, 7 pixels, plus 5 pixels of
padding). Measuring from a table, not from a font installed on the machine,
keeps every build byte-identical.

Rules, applied to each sheet after every block is written:

* a column the template sizes (``column_widths``, a slot column's ``width``)
  keeps its width, unless a number needs more (a number too wide shows ``###``);
  any other column gets the width of its widest number or text, at most
  :data:`MAX_WIDTH`; a header (it wraps) counts by its longest word;
* a text wider than its column wraps, unless it may spill into empty cells to
  its right (titles, the sheet's header rows, lines of text blocks);
* every row is as tall as its tallest wrapped text.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Optional

from openpyxl.styles import Alignment
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

MAX_WIDTH = 60.0        # widest column the builder makes by measure [Excel width units]
MIN_WIDTH = 8.0
DIGIT_PX = 7.0          # Calibri 11's digit width at 96 dpi [px]: Excel's width unit
PADDING_PX = 5.0        # Excel adds this to every column [px]
CELL_MARGIN_PX = 4.0    # text does not touch the cell's edges [px] (a little more than
                        # LibreOffice and Excel leave, so a measured width is never short)
LINE_PT = 15.0          # a line of Calibri 11 (Excel's default row height) [pt]
CM_PER_PX = 2.54 / 96
CM_PER_PT = 2.54 / 72


@lru_cache(maxsize=1)
def _widths() -> dict[str, tuple[int, int]]:
    path = Path(__file__).resolve().parents[1] / "data" / "font_widths.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {chr(int(r["char_code"])): (int(r["regular_units"]), int(r["bold_units"]))
                for r in csv.DictReader(fh)}


def text_px(text: str, size_pt: float = 11.0, bold: bool = False) -> float:
    """Width of *text* in the workbook font [px at 96 dpi]; unknown characters count as 'm'."""
    table = _widths()
    fallback = table["m"]
    units = sum(table.get(ch, fallback)[1 if bold else 0] for ch in text)
    return units / 2048 * size_pt * 96 / 72


def column_px(width: float) -> float:
    """Pixels of a column of *width* Excel units."""
    return width * DIGIT_PX + PADDING_PX


def room_px(width: float) -> float:
    """Pixels of text a column of *width* units holds on one line (margins left and right)."""
    return column_px(width) - 2 * CELL_MARGIN_PX


def width_for_px(px: float) -> float:
    """The Excel width that holds *px* of text on one line, rounded up to a quarter unit."""
    return math.ceil(max(px + 2 * CELL_MARGIN_PX - PADDING_PX, 0) / DIGIT_PX * 4) / 4


def wrapped_lines(text: str, width: float, size_pt: float = 11.0, bold: bool = False) -> int:
    """Lines *text* takes when wrapped at word boundaries in a column of *width* units."""
    room = room_px(width)
    lines = 0
    for paragraph in str(text).split("\n"):
        line_px = 0.0
        count = 1
        for word in paragraph.split(" "):
            w = text_px(word, size_pt, bold)
            space = text_px(" ", size_pt, bold) if line_px else 0.0
            if line_px and line_px + space + w > room:
                count += 1
                line_px = w
            else:
                line_px += space + w
            while line_px > room and w > room:   # a word longer than the line breaks
                count += 1
                line_px -= room
                w -= room
        lines += count
    return lines


def line_pt(size_pt: float) -> float:
    return LINE_PT * size_pt / 11.0


def display_text(value, number_format: str) -> str:
    """The text a cell shows for *value* under a simple Excel number format."""
    from .numbers import format_number
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(float(value), number_format)
    return str(value)


@dataclass
class Fitted:
    """The extent a sheet's content reaches, for its print area."""
    last_row: int
    last_col: int


def fit_sheet(ws, value_of: Callable[[int, int], object], *, spill: set, keep_width: set,
              header_styles: Iterable[str] = ("header",)) -> Fitted:
    """Size *ws*'s columns and rows (module docstring).

    Parameters
    ----------
    value_of : callable
        ``value_of(row, col)``: a cell's value (a formula's computed value).
    spill : set
        ``(row, col)`` of text cells that may spill into empty cells to their right.
    keep_width : set
        Column letters whose width the template set.
    """
    headers = set(header_styles)
    cells = {}
    for (r, c), cell in ws._cells.items():
        if cell.value is None:
            continue
        value = value_of(r, c)
        font = cell.font
        cells[(r, c)] = (cell, display_text(value, cell.number_format), isinstance(value, (int, float))
                         and not isinstance(value, bool), float(font.sz or 11), bool(font.b))
    need: dict[int, float] = {}
    for (r, c), (cell, text, number, size, bold) in cells.items():
        if not text or ((r, c) in spill and not number):
            continue
        if cell.style in headers:
            px = max((text_px(w, size, bold) for w in text.split()), default=0.0)
        else:
            px = text_px(text, size, bold)
        need[c] = max(need.get(c, 0.0), width_for_px(px))
    # what even a template-sized column must hold: its numbers (else ###) and the longest
    # word of each text (a name such as depreciation_years is not broken), at most MAX_WIDTH
    floor: dict[int, float] = {}
    for (r, c), (_cell, text, number, size, bold) in cells.items():
        if number:
            floor[c] = max(floor.get(c, 0.0), width_for_px(text_px(text, size, bold)))
        elif text and (r, c) not in spill:
            longest = max((text_px(w, size, bold) for w in text.split()), default=0.0)
            floor[c] = max(floor.get(c, 0.0), min(MAX_WIDTH, width_for_px(longest)))
    for c, width in need.items():
        letter = get_column_letter(c)
        dim = ws.column_dimensions[letter]
        if letter in keep_width:
            dim.width = max(dim.width or MIN_WIDTH, floor.get(c, 0.0))
        else:
            dim.width = max(MIN_WIDTH, min(MAX_WIDTH, width), floor.get(c, 0.0))
    widths = {c: ws.column_dimensions[get_column_letter(c)].width or 8.43
              for c in {c for _r, c in cells}}
    heights: dict[int, float] = {}
    last_row = last_col = 1
    for (r, c), (cell, text, number, size, bold) in cells.items():
        if text:   # a formula showing "" (an empty slot) does not extend the printed page
            last_row = max(last_row, r)
        lines = 1
        if (r, c) in spill and not number:
            span, cc = widths[c], c + 1   # spills over the empty cells to its right
            while text_px(text, size, bold) > room_px(span) and (r, cc) not in cells and cc < c + 30:
                span += ws.column_dimensions[get_column_letter(cc)].width or 8.43
                cc += 1
            last_col = max(last_col, cc - 1)
        else:
            if text:
                last_col = max(last_col, c)
            if text and not number and (cell.style in headers or
                                        text_px(text, size, bold) > room_px(widths[c])):
                a = cell.alignment
                cell.alignment = Alignment(horizontal=a.horizontal, vertical=a.vertical or "top",
                                           wrap_text=True, indent=a.indent)
                lines = wrapped_lines(text, widths[c], size, bold)
        heights[r] = max(heights.get(r, LINE_PT), lines * line_pt(size) + (1 if lines > 1 else 0))
    for r, h in heights.items():
        if h > LINE_PT:
            ws.row_dimensions[r].height = math.ceil(h)
    return Fitted(last_row, last_col)


def chart_extent(ws, anchor: str, width_cm: float, height_cm: float) -> tuple[int, int]:
    """(last row, last column) a chart anchored at *anchor* covers."""
    letters = "".join(ch for ch in anchor if ch.isalpha())
    row = int("".join(ch for ch in anchor if ch.isdigit()))
    col = column_index_from_string(letters)
    cm = 0.0
    while cm < width_cm:
        cm += column_px(ws.column_dimensions[get_column_letter(col)].width or 8.43) * CM_PER_PX
        col += 1
    cm = 0.0
    while cm < height_cm:
        cm += (ws.row_dimensions[row].height or LINE_PT) * CM_PER_PT
        row += 1
    return row - 1, col - 1


PAPER_SIZES = {"A4": 9, "Letter": 1}


def page_setup(ws, *, last_row: int, last_col: int, title: str, scenario: str,
               orientation: str = "landscape", title_rows: Optional[str] = "1:3",
               paper: str = "A4", fit_height: int = 0, fit_width: int = 1,
               title_cols: Optional[str] = None) -> None:
    """Print area, orientation, *fit_width* pages wide (one by default), repeated title rows, header and footer
    (title, scenario, print date, "Page N of M")."""
    ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = PAPER_SIZES[paper]
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = fit_width
    ws.page_setup.fitToHeight = fit_height
    if title_rows:
        ws.print_title_rows = title_rows
    if title_cols:               # a wide timeline: its labels repeated on every page
        ws.print_title_cols = title_cols
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    for part in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        part.left.text = title.replace("&", "&&")
        part.center.text = scenario.replace("&", "&&")
        part.right.text = "Printed &D"
    for part in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        part.left.text = "&A"
        part.right.text = "Page &P of &N"
