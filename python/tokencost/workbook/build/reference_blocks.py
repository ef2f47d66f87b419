"""Block kind ``reference_table``: a package data file written as an Excel Table.

Reference data (the GPU catalog, the model-architecture catalog, the physics
assumptions) is not one of the schema's input tables, but an analyst may still
correct a datasheet figure, so it is laid out like an input: an Excel Table on
an input sheet, every cell styled ``input`` except the ``source`` and
``description`` columns, numeric columns guarded by data validation (a number
>= 0 or blank), and the table registered in ``state.tables`` so that
structured references (``GpuCatalog[memory_gb]``) evaluate for cached values.

Template fields (see :mod:`tokencost.workbook.spec`):

``table``         the Excel Table name (must not clash with an input table)
``data_file``     a CSV file name in the package data folder (``gpu_catalog.csv``),
                  a path relative to the repository root, or ``builtin:precisions``
                  (the precision table of :mod:`tokencost.inputs.catalog`)
``data_columns``  the columns to write, in order (default: all of the file's)
``units``         ``{column: unit}`` shown above the headers (default: none)
``title``         a header line above the table

Cell values: a cell whose text reads as a number is written as a number,
except in the first (key) column, which always stays text, so that names
such as ``H100`` or ``dense-70b`` are looked up as text.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...inputs import catalog as cat
from ...inputs.schema import TABLES_BY_NAME
from ..formula import Ref
from ..cells import put
from ..spec import REPO_ROOT, TemplateError
from ..validation import data_validation

#: columns written as documentation (style "note"), not as inputs
NOTE_COLUMNS = {"source", "description"}

PRECISIONS_SOURCE = ("storage = bits per value / 8 (block-scale overheads left out); math uses the "
                     "GPU's FP4 peak where the precision is 4-bit and the GPU has one, else its FP8 "
                     "peak where the precision is 8- or 4-bit and the GPU has one, else its BF16 peak "
                     "(tokencost.inputs.catalog.PRECISION_BYTES and PRECISION_PEAKS)")


def precisions_frame() -> pd.DataFrame:
    """The precision table: bytes per value and which tensor peaks math at it may use.

    ``uses_fp4_tflops`` / ``uses_fp8_tflops`` are 1 where the precision's peak
    fallback chain (:data:`tokencost.inputs.catalog.PRECISION_PEAKS`) starts with /
    contains that peak; BF16 is the last resort of every chain.
    """
    rows = []
    for name, size in cat.PRECISION_BYTES.items():
        chain = cat.PRECISION_PEAKS[name]
        if chain[-1] != "bf16_tflops":
            raise ValueError(f"precision {name}: the peak chain must end with bf16_tflops")
        rows.append({"precision": name, "bytes_per_value": size,
                     "uses_fp4_tflops": float("fp4_tflops" in chain),
                     "uses_fp8_tflops": float("fp8_tflops" in chain),
                     "source": PRECISIONS_SOURCE})
    return pd.DataFrame(rows)


BUILTIN = {"builtin:precisions": precisions_frame}


def read_reference(data_file: str, repo_root: Path) -> pd.DataFrame:
    """The frame a ``reference_table`` block writes (all cells as text or numbers)."""
    if data_file in BUILTIN:
        return BUILTIN[data_file]()
    path = Path(data_file)
    candidates = [cat.DATA_DIR / path, repo_root / path] if not path.is_absolute() else [path]
    for candidate in candidates:
        if candidate.exists():
            return pd.read_csv(candidate, dtype=str, keep_default_na=False)
    raise FileNotFoundError(f"reference data file {data_file!r} not found in {cat.DATA_DIR} "
                            f"or {repo_root}")


def _cell_value(text, key_column: bool):
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if not isinstance(text, str):
        return float(text)
    text = text.strip()
    if text == "":
        return None
    if key_column:
        return text
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def write_reference_table(state, ws, block, row: int) -> int:
    """Write *block* (kind ``reference_table``) at *row* of *ws*; return the next free row."""

    name = block.table
    if not name or not block.data_file:
        raise TemplateError(f"reference_table on {ws.title} needs a table name and a data_file")
    if name in TABLES_BY_NAME or name in state.tables:
        raise TemplateError(f"reference_table {name!r} clashes with another table")
    try:
        frame = read_reference(block.data_file, REPO_ROOT)
    except FileNotFoundError as err:
        raise TemplateError(str(err)) from None
    columns = list(block.data_columns) or list(frame.columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TemplateError(f"reference_table {name}: {block.data_file} has no column(s) {missing}")
    if block.title:
        put(state, ws, row, 1, block.title, "header")
        row += 1
    if block.units:
        for j, column in enumerate(columns, start=1):
            put(state, ws, row, j, block.units.get(column, ""), "unit")
        row += 1
    header_row = row
    for j, column in enumerate(columns, start=1):
        put(state, ws, header_row, j, column, "header")
        width = 70 if column in NOTE_COLUMNS else max(12, min(28, len(column) + 3))
        ws.column_dimensions[get_column_letter(j)].width = max(
            width, ws.column_dimensions[get_column_letter(j)].width or 0)
    numeric = set()
    for i in range(len(frame)):
        r = header_row + 1 + i
        for j, column in enumerate(columns, start=1):
            value = _cell_value(frame[column].iloc[i], key_column=(j == 1))
            if isinstance(value, float):
                numeric.add(j)
            style = "note" if column in NOTE_COLUMNS else "input"
            cell = put(state, ws, r, j, value, style)
            if column in NOTE_COLUMNS:
                cell.alignment = Alignment(wrap_text=False)
    last = header_row + max(len(frame), 1)
    ref = f"A{header_row}:{get_column_letter(len(columns))}{last}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    state.tables[name] = (ws.title, Ref(ws.title, header_row, 1, last, len(columns)), columns)
    for j in sorted(numeric):
        column = columns[j - 1]
        if column == "value":  # a mixed column (numbers and precision names): no number rule
            continue
        letter = get_column_letter(j)
        top = f"{letter}{header_row + 1}"
        ws.add_data_validation(data_validation(
            "custom", f"OR(ISBLANK({top}),AND(ISNUMBER({top}),{top}>=0))",
            f"{letter}{header_row + 1}:{letter}{last}", title=column,
            error=f"{name}[{column}] must be a number >= 0 or blank", allow_blank=True))
    return last + 1
