"""Read one CSV file of text cells: the one reader every CSV input goes through.

The data folder (``--data DIR``: ``hardware.csv``, ``models.csv`` ...) and the
reference tables (``rental_prices.csv``, ``sensitivity_ranges.csv``, ``--ranges
FILE`` ...) are read here, so every one gets the same rules and the same
one-line messages naming the file, and the line where there is one:

* **Encoding**: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"),
  else Windows-1252 (cp1252: what Excel's plain "CSV" writes on Windows, where
  ``é`` or ``€`` is one byte). Bytes that are neither are refused.
* **Shape**: a header line naming the columns, then one line per row. A file
  that is empty (no header) is refused; blank lines are skipped; a row with more
  fields than the header names is refused (a stray comma shifts every cell after
  it); a row with fewer fields is blank in the missing cells. A quoted field must
  be closed.
* **Headers** match the expected names ignoring case and surrounding spaces, as
  a workbook's table headers do.
* **Cells** are text (``str``); an empty cell is NaN. What a cell means (a
  number, a name) is decided by :mod:`tokencost.inputs.validate` and
  :mod:`tokencost.inputs.reference_tables`, which report the cell as ``FILE line N,
  column NAME``.

A shell: plain file reading, no interpretation.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import pandas as pd

from ..errors import InputError

#: the encodings tried, in order
ENCODINGS = ("utf-8-sig", "cp1252")
#: the largest CSV file read [bytes]: far above any input table, far below memory trouble
MAX_BYTES = 64 * 1024 * 1024


def decode(data: bytes, where: str) -> str:
    """*data* as text: UTF-8 (a BOM allowed), else cp1252; :class:`InputError` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise InputError(where, f"neither UTF-8 nor Windows-1252 (cp1252) text (byte {err.start} "
                                "is neither); save the file as CSV UTF-8") from None


def read_bytes(path: Path, max_bytes: int = MAX_BYTES, where: Optional[str] = None) -> bytes:
    """The bytes of the file at *path*, refusing a folder, a missing file or one too big
    (*where* names the file in messages; default: the path)."""
    where = where or str(path)
    if path.is_dir():
        raise InputError(where, "is a folder, not a CSV file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(where, f"the file is {size:,} bytes, over the {max_bytes:,}-byte limit "
                                    "for a CSV input")
        with open(path, "rb") as fh:
            return fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(where, "no such file") from None
    except IsADirectoryError:
        raise InputError(where, "is a folder, not a CSV file") from None
    except OSError as err:
        raise InputError(where, f"cannot read the file: {err.strerror or err}") from None


def read_csv(path, columns: Optional[Iterable[str]] = None, label: Optional[str] = None) -> pd.DataFrame:
    """The CSV file at *path* as a DataFrame of text cells (NaN where empty).

    *columns* are the expected column names: headers that match one ignoring case
    and surrounding spaces take its spelling (other headers are kept as they are).
    ``frame.attrs["lines"]`` holds the line number (1-based) of each row, for
    messages; *label* names the file in messages (default: the path).
    Raises :class:`InputError`, one line naming the file and the line.
    """
    path = Path(path)
    where = label or str(path)
    text = decode(read_bytes(path, where=where), where)
    if not text.strip():
        raise InputError(where, "the file is empty; a CSV file starts with a header line naming "
                                "its columns")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, lines = [], []
    header = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            detail = ("a quoted field is not closed (a \" without its closing \")"
                      if "end of data" in str(err) else f"not valid CSV ({err})")
            raise InputError(f"{where} line {start}", detail) from None
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line, or a row of empty cells (",,,")
        if header is None:
            header = row
            continue
        if len(row) > len(header):
            raise InputError(f"{where} line {start}",
                             f"{len(row)} fields, but the header names {len(header)} columns "
                             "(a comma too many, or text with a comma that needs quotes)")
        row = row + [""] * (len(header) - len(row))
        records.append([np.nan if cell == "" else cell for cell in row])
        lines.append(start)
    names = _headers(header, columns, where)
    frame = (pd.DataFrame(records, columns=names, dtype=object) if records else
             pd.DataFrame({n: pd.Series([], dtype=object) for n in names}, columns=names))
    frame.attrs["lines"] = lines
    frame.attrs["file"] = where
    return frame


def _headers(header: list[str], columns: Optional[Iterable[str]], where: str) -> list[str]:
    canonical = {c.casefold(): c for c in (columns or ())}
    names = []
    for j, h in enumerate(header):
        name = h.strip()
        name = canonical.get(name.casefold(), name) or f"column {j + 1}"
        if name in names:
            raise InputError(f"{where} line 1", f"column {name!r} appears twice in the header")
        names.append(name)
    return names


__all__ = ["ENCODINGS", "MAX_BYTES", "decode", "read_bytes", "read_csv"]
