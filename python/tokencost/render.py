"""Render result tables as text: table, csv, json or markdown.

A shell: the only place that formats numbers for people. JSON and CSV keep plain
numbers at full precision (NaN is null in JSON, empty in CSV); the table and Markdown
formats show each number by its unit, which the column name says (the input
vocabulary's suffixes: ``*_usd*``, ``*_usd_per_mtok``, ``*tokens*``, ``*_share``,
``utilization``, ``markup`` ...): see :func:`unit_of`. Never scientific notation.

A table whose rows are different quantities (the monthly cost build-up, the fields
of ``tokencost bound``, the inputs of a tornado) names them in
``frame.attrs["row_units"]`` (one unit name per row, applied to the columns in
``frame.attrs["row_unit_columns"]``); ``frame.attrs["units"]`` maps a column to the
unit name its values take instead of its own name (the cost grid of ``sensitivity``,
whose columns are named after the input values).

The table format fits the terminal (``shutil.get_terminal_size``, 100 columns when
there is none): headers break at ``_``, long text wraps, and a table still too wide
is split into column groups that repeat its first column; no line is wider than the
terminal except one holding a single unbreakable word.
"""
from __future__ import annotations

import json
import math
import shutil
import textwrap
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from .errors import NonFiniteResult

#: the terminal width used when there is no terminal [characters]
DEFAULT_WIDTH = 100


@dataclass(frozen=True)
class Unit:
    """How the numbers of one unit are shown: a fixed number of decimals (None: four
    significant digits) and a suffix; ``percent`` shows a share x 100."""
    name: str
    decimals: Optional[int]
    suffix: str = ""
    percent: bool = False


MULTIPLE = Unit("multiple", 1, "x")            # markup: 22.5x
SHARE = Unit("share", 1, "%", percent=True)    # utilization, margins, shares: 95.6%
MONEY = Unit("USD", 2)                          # monthly, daily and total amounts: 1,399.76
MONEY_RATE = Unit("USD per unit", 4)            # per MTok, per GPU-hour, per kWh: 1.3316
MTOK = Unit("MTok", 2)                          # millions of tokens: 3,797,798.40
TOKEN_RATE = Unit("tokens/s", 1)                # 705.6 tok/s
TOKENS = Unit("tokens", 0)                      # 1,440,000 tokens
NUMBER = Unit("number", None)                   # anything else: 4 significant digits


def unit_of(name: str) -> Unit:
    """The unit of a column (or row) from its name: the one place the display rules are.

    ``markup`` -> 1 decimal and ``x``; a share (``utilization``, ``*margin*``,
    ``*share*``, ``cost_of_capital``) -> percent, 1 decimal; money (``*usd*``) -> 2
    decimals, or 4 for a price per unit (``*per_mtok``, ``*hour*``, ``*kwh``); tokens:
    millions (``*mtok*``) 2 decimals, rates (``*tokens_per_s*``) 1, counts 0; anything
    else 4 significant digits. Always thousands separators, never scientific notation.
    """
    n = str(name).lower()
    if n == "markup" or n.endswith("_markup") or n.startswith("markup_"):
        return MULTIPLE
    if "utilization" in n or "margin" in n or "share" in n or n == "cost_of_capital":
        return SHARE
    if "usd" in n:
        return MONEY_RATE if ("per_mtok" in n or "hour" in n or "kwh" in n) else MONEY
    if "mtok" in n:
        return MTOK
    if "tokens" in n:
        return TOKEN_RATE if "per_s" in n else TOKENS
    return NUMBER


def format_number(value: float, unit: Unit) -> str:
    """*value* as *unit* shows it, e.g. ``1,399.76``, ``95.6%``, ``22.5x``, ``0.02268``."""
    x = float(value) * (100 if unit.percent else 1)
    decimals = unit.decimals
    if decimals is None:   # four significant digits (no trailing zeros), whole numbers as they are
        if x == 0 or x.is_integer():
            decimals = 0
        else:
            decimals = min(12, max(0, 3 - math.floor(math.log10(abs(x)))))
        text = f"{x:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{x:,.{decimals}f}"
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]   # -0.00 -> 0.00
    return text + unit.suffix


def _cell(value, column: str) -> str:
    """One value as the table and Markdown formats show it; *column* names its unit."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer, float, np.floating)):
        if isinstance(value, (float, np.floating)) and math.isinf(value):
            raise NonFiniteResult(column, float(value))
        return format_number(value, unit_of(column))
    return str(value)


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    """Every value of *frame* as text, each by its row's or its column's unit."""
    cols = [str(c) for c in frame.columns]
    row_units = frame.attrs.get("row_units")
    row_cols = set(frame.attrs.get("row_unit_columns", ()))
    named = frame.attrs.get("units", {})
    units = [named.get(c, c) for c in cols]
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        out.append([_cell(v, row_units[i] if row_units is not None and c in row_cols else u)
                    for v, c, u in zip(row, cols, units)])
    return out


def terminal_width() -> int:
    """The width the table format fits [characters]: the terminal's, else 100."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def wrap_text(text: str, width: Optional[int] = None) -> str:
    """Prose (a title, a note) wrapped to the terminal width, line breaks kept."""
    width = width or terminal_width()
    return "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False,
                                    subsequent_indent="  " if line.startswith("- ") else "")
                      if len(line) > width else line for line in text.split("\n"))


def _header_lines(header: str, width: int) -> list[str]:
    """A header broken after ``_`` (or at spaces) to fit *width*, pieces kept whole."""
    pieces = [p for p in header.replace("_", "_\x00").replace(" ", " \x00").split("\x00") if p]
    lines, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece.rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        current += piece
    return lines + [current.rstrip()] if current else lines or [""]


def _longest_piece(header: str) -> int:
    return max(len(p.rstrip()) for p in header.replace("_", "_\x00").split("\x00") if p) \
        if header else 0


def frame_to_text(frame: pd.DataFrame, width: Optional[int] = None) -> str:
    """A fixed-width table with formatted numbers that fits *width* (default: the
    terminal): see the module docstring."""
    width = width or terminal_width()
    cols = [str(c) for c in frame.columns]
    if not cols:
        return ""
    rows = _cells(frame)
    numeric = [pd.api.types.is_numeric_dtype(frame.iloc[:, j]) and
               not pd.api.types.is_bool_dtype(frame.iloc[:, j]) for j in range(len(cols))]
    longest = [max([0] + [len(r[j]) for r in rows]) for j in range(len(cols))]
    widths = [max(longest[j], len(c)) for j, c in enumerate(cols)]

    def total(ws):
        return sum(ws) + 2 * (len(ws) - 1)

    # too wide: first break the headers longer than their values at "_", the longest first
    for j in sorted(range(len(cols)), key=lambda j: longest[j] - len(cols[j])):
        if total(widths) <= width:
            break
        widths[j] = max(longest[j], _longest_piece(cols[j]), min(len(cols[j]), 12))
    # then wrap long text (a reason, a source), the widest column first, down to 24
    for j in sorted((j for j in range(len(cols)) if not numeric[j]), key=lambda j: -widths[j]):
        excess = total(widths) - width
        if excess <= 0:
            break
        word = max([0] + [len(w) for r in rows for w in r[j].split()])   # unbreakable
        floor = min(widths[j], max(24, _longest_piece(cols[j]), word))
        widths[j] = max(floor, widths[j] - excess)
    # still too wide: column groups, each repeating the first column
    groups, current = [], [0]
    for j in range(1, len(cols)):
        if total([widths[k] for k in current + [j]]) > width and len(current) > 1:
            groups.append(current)
            current = [0, j]
        else:
            current.append(j)
    groups.append(current)
    blocks = []
    for group in groups:   # a group with room left gives it back to the text it wrapped
        ws = list(widths)
        for j in group:
            room = width - total([ws[k] for k in group])
            if room > 0 and not numeric[j]:
                ws[j] = min(max(longest[j], len(cols[j])), ws[j] + room)
        blocks.append(_text_block(cols, rows, numeric, ws, group))
    return "\n\n".join(blocks)


def _text_block(cols, rows, numeric, widths, group) -> str:
    def line(cells):
        return "  ".join(c.rjust(widths[j]) if numeric[j] else c.ljust(widths[j])
                         for c, j in zip(cells, group)).rstrip()

    def wrapped(cells):   # one table row as one or more lines of text
        parts = [textwrap.wrap(cells[j], widths[j], break_long_words=False,
                               break_on_hyphens=False) or [""]
                 if not numeric[j] and len(cells[j]) > widths[j] else [cells[j]] for j in group]
        height = max(len(p) for p in parts)
        return [line([p[k] if k < len(p) else "" for p in parts]) for k in range(height)]

    headers = [_header_lines(cols[j], widths[j]) for j in group]
    height = max(len(h) for h in headers)
    headers = [[""] * (height - len(h)) + h for h in headers]   # bottom-aligned over the values
    out = [line([h[k] for h in headers]) for k in range(height)]
    out.append(line(["-" * widths[j] for j in group]))
    for row in rows:
        out += wrapped(row)
    return "\n".join(out)


def markdown_text(text: str) -> str:
    """One Markdown table cell: formula-safe (:func:`safe_text`), ``|`` escaped, on one line."""
    text = str(safe_text(str(text)))
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def frame_to_markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    out = ["| " + " | ".join(markdown_text(c) for c in cols) + " |",
           "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for r, shown in zip(frame.itertuples(index=False), _cells(frame)):
        # a number is formatted by us (a minus sign is no formula); text is neutralised
        out.append("| " + " | ".join(
            markdown_text(v) if isinstance(v, str) else text.replace("|", "\\|")
            for v, text in zip(r, shown)) + " |")
    return "\n".join(out)


#: how text that a spreadsheet would run as a formula starts (OWASP's CSV injection list)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text a spreadsheet would run as a formula (it starts with =, +, -, @, tab or
    CR) with a leading apostrophe, so it is shown as text; anything else unchanged.
    Every text tokencost writes for a spreadsheet or a document (CSV, Markdown) goes
    through it, whatever the column's dtype."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: the former name, kept for callers
safe_csv_text = safe_text


def _csv_field(value) -> str:
    """One CSV field: numbers plain at full precision, text through :func:`safe_text`
    and quoted when it holds a comma, a quote, a line feed or a carriage return (a bare
    CR would end the row in a spreadsheet; Python's csv module leaves it unquoted)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            raise NonFiniteResult("value", float(value))
        return repr(float(value))
    text = str(safe_text(str(value)))
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def frame_to_csv(frame: pd.DataFrame) -> str:
    """CSV text: numbers plain at full precision, every other value through
    :func:`safe_text` (an ``object``, pandas ``str`` or categorical column alike)."""
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            values = frame[col].to_numpy(dtype=float)
            if np.isinf(values).any():
                raise NonFiniteResult(str(col), float(values[np.isinf(values)][0]))
    lines = [",".join(_csv_field(str(c)) for c in frame.columns)]
    columns = [frame.iloc[:, j].astype(object).tolist() for j in range(frame.shape[1])]
    lines += [",".join(_csv_field(v) for v in row) for row in zip(*columns)]
    return "\n".join(lines) + "\n"


def _plain(value, key: str = "value"):
    if isinstance(value, (np.floating, float)):
        if math.isnan(value):
            return None  # a figure that does not apply (a free price has no margin)
        if math.isinf(value):
            raise NonFiniteResult(key, float(value))
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def frame_records(frame: pd.DataFrame) -> list[dict]:
    return [{c: _plain(v, str(c)) for c, v in zip(frame.columns, r)}
            for r in frame.itertuples(index=False)]


def to_jsonable(obj, key: str = "value"):
    """Nested dicts/lists of frames and numbers -> JSON-ready plain Python: NaN
    becomes None (null); an infinite number raises :class:`NonFiniteResult`."""
    if isinstance(obj, pd.DataFrame):
        return frame_records(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, key) for v in obj]
    return _plain(obj, key)


def to_json(obj) -> str:
    """*obj* as indented JSON text ending in a newline. Never holds NaN or Infinity
    (not JSON): NaN is null, an infinite number raises, and ``allow_nan=False``
    makes any other way one could slip in raise too."""
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"


def render_sections(sections: Mapping[str, pd.DataFrame], fmt: str, titles: Mapping[str, str] = None) -> str:
    """Several titled tables in one format (json: ``{section: [records]}``)."""
    titles = titles or {}
    if fmt == "json":
        return to_json(sections).rstrip("\n")
    parts = []
    for key, frame in sections.items():
        title = titles.get(key, key)
        if fmt == "table":
            parts.append(f"{wrap_text(title)}\n{frame_to_text(frame)}")
        elif fmt == "markdown":
            parts.append(f"### {title}\n\n{frame_to_markdown(frame)}")
        elif fmt == "csv":
            parts.append(f"# {title}\n{frame_to_csv(frame)}")
        else:
            raise ValueError(fmt)
    return "\n\n".join(parts) + "\n"
