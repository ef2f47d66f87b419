"""One number format per unit, everywhere the workbook shows a number.

The unit vocabulary is the one of :mod:`tokencost.inputs.schema` and the templates
(the unit row above every header). Money has thousands separators and fixed
decimals, markups a trailing x, shares a percent sign, token counts
thousands separators. :func:`format_number` renders a number as such a format
shows it (for exports, and to measure column widths).
"""
from __future__ import annotations

import re

NUMBER_FORMATS = {
    "USD": "#,##0.00", "USD/month": "#,##0.00", "USD/day": "#,##0", "USD/kWh": "#,##0.000",
    "USD/MTok": "#,##0.0000", "USD/h": "#,##0.0000",
    "share": "0.0%", "1/year": "0.0%", "W": "#,##0", "GB": "#,##0.0", "GB per sequence": "#,##0.0000", "MW": "#,##0.00",
    "TB/s": "#,##0.00", "years": "0.0", "ratio": "#,##0.00", "h/month": "#,##0", "h": "#,##0",
    "h/day": "#,##0", "tokens/s per GPU": "#,##0", "requests": "#,##0", "GPUs": "#,##0",
    "nodes": "#,##0", "x": '0.0"x"', "tokens": "#,##0", "tokens/h": "#,##0",
    "MTok/month": "#,##0.00", "flag": "0", "#": "0", "J/token": "#,##0.000",
    "tokens/s per MW": "#,##0", "tokens/s": "#,##0", "tokens/s per user": "#,##0.0",
}


def number_format(unit: str) -> str:
    """The number format of *unit* ("General" for a unit the table does not know)."""
    return NUMBER_FORMATS.get(unit, "General")


def format_number(value: float, number_format: str) -> str:
    """A number as a simple Excel number format shows it (``#,##0.00``, ``0.0%``,
    ``0.0"x"``); other formats fall back to up to 6 significant digits."""
    fmt = (number_format or "General").split(";")[0]
    suffix = "".join(re.findall(r'"([^"]*)"', fmt))
    core = re.sub(r'"[^"]*"', "", fmt)
    m = re.search(r"([#0,]*0)(?:\.(0+))?(%?)", core)
    if fmt == "General" or not m:
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"
    decimals = len(m.group(2) or "")
    percent = bool(m.group(3))
    comma = "," if "," in m.group(1) else ""
    shown = value * 100 if percent else value
    text = f"{shown:{comma}.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text + ("%" if percent else "") + suffix
