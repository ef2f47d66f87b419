"""The shipped default dataset (the seed's figures) as CSV data files.

A shell: it reads files and hands raw tables to :func:`tokencost.inputs.validate.prepare`.
Adding a GPU, a model profile or a price is a row in ``data/*.csv``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .csvfile import read_csv
from ..errors import InputError
from .validate import Inputs, prepare
from .schema import TABLES

DATA_DIR = Path(__file__).resolve().parents[1] / "data"   # the package data folder


def read_raw_tables(directory: Optional[Path] = None) -> dict[str, pd.DataFrame]:
    """Raw input tables from the CSV files in *directory* (default: the shipped seed data).

    Each file is read by :func:`tokencost.inputs.csvfile.read_csv` (UTF-8 or cp1252, headers
    matched ignoring case and surrounding spaces, one-line errors naming the file
    and line); rows blank in every input column are dropped, and
    ``frame.attrs["lines"]`` keeps the file line of each row for :func:`csv_locator`.
    """
    directory = Path(directory) if directory is not None else DATA_DIR
    if not directory.is_dir():
        if directory.exists():
            raise InputError(str(directory), "not a folder; --data names a folder of input CSV files")
        raise InputError(str(directory), "no such folder of input CSV files")
    tables = {}
    for spec in TABLES:
        path = directory / spec.file
        if path.exists() or path.is_symlink():
            frame = read_csv(path, spec.column_names, label=_label(path, directory))
            present = [c for c in spec.column_names if c in frame.columns]
            if present and len(frame):
                keep = np.array([any(isinstance(v, str) and v.strip() for v in row)
                                 for row in zip(*(frame[c].tolist() for c in present))])
                lines = [line for line, k in zip(frame.attrs["lines"], keep) if k]
                attrs = dict(frame.attrs, lines=lines)
                frame = frame.loc[keep].reset_index(drop=True)
                frame.attrs.update(attrs)
            tables[spec.name] = frame
    return tables


def _label(path: Path, directory: Path) -> str:
    """How messages name a data file: its file name (in the folder ``--data`` names)."""
    return path.name


def csv_locator(directory: Optional[Path] = None, tables: Optional[dict] = None):
    """Locate problems as ``hardware.csv line N, column`` (line 1 is the header; with
    *tables* from :func:`read_raw_tables`, the line each row was read from)."""
    directory = Path(directory) if directory is not None else DATA_DIR
    files = {spec.name: _label(directory / spec.file, directory) for spec in TABLES}
    lines = {name: frame.attrs.get("lines") for name, frame in (tables or {}).items()}

    def locate(table, row, column):
        text = files.get(table, table)
        if row is not None:
            known = lines.get(table)
            text += f" line {known[row] if known and row < len(known) else row + 2}"
        if column is not None:
            text += f", column {column}"
        return text

    return locate


def load_defaults(directory: Optional[Path] = None) -> Inputs:
    """The validated default inputs (the seed dataset), or those of a folder of CSV files."""
    raw = read_raw_tables(directory)
    return prepare(raw, csv_locator(directory, raw))
