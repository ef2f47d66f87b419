"""Render result tables as text: table, csv, json or markdown.

A shell: the only place that formats numbers for people. JSON keeps plain
numbers (NaN becomes null).
"""
from __future__ import annotations

import io
import json
import math
from typing import Mapping

import numpy as np
import pandas as pd

from .errors import NonFiniteResult

#: columns whose values are shown as money with two decimals, others by kind
_MONEY_HINTS = ("usd",)


def _cell(value, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            raise NonFiniteResult(column, float(value))
        if column == "markup":
            return f"{value:.1f}x"
        if column in ("gross_margin", "utilization", "cost_of_capital") or column.endswith("_share"):
            return f"{value:.1%}"
        if any(h in column for h in _MONEY_HINTS):
            return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
        if float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:,.4g}"
    return str(value)


def frame_to_text(frame: pd.DataFrame) -> str:
    """A fixed-width table with formatted numbers."""
    cols = list(frame.columns)
    rows = [[_cell(v, c) for v, c in zip(r, cols)] for r in frame.itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    def line(cells):
        return "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric)).rstrip()
    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
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
    for r in frame.itertuples(index=False):
        # a number is formatted by us (a minus sign is no formula); text is neutralised
        out.append("| " + " | ".join(
            markdown_text(v) if isinstance(v, str) else _cell(v, c).replace("|", "\\|")
            for v, c in zip(r, cols)) + " |")
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
            parts.append(f"{title}\n{frame_to_text(frame)}")
        elif fmt == "markdown":
            parts.append(f"### {title}\n\n{frame_to_markdown(frame)}")
        elif fmt == "csv":
            parts.append(f"# {title}\n{frame_to_csv(frame)}")
        else:
            raise ValueError(fmt)
    return "\n\n".join(parts) + "\n"
