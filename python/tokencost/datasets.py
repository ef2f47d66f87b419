"""The shipped default dataset (the seed's figures) as CSV data files.

A shell: it reads files and hands raw tables to :func:`tokencost.inputs.prepare`.
Adding a GPU, a model profile or a price is a row in ``data/*.csv``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from .errors import InputError
from .inputs import Inputs, prepare
from .schema import TABLES

DATA_DIR = Path(__file__).with_name("data")


def read_raw_tables(directory: Optional[Path] = None) -> dict[str, pd.DataFrame]:
    """Raw input tables from the CSV files in *directory* (default: the shipped seed data)."""
    directory = Path(directory) if directory is not None else DATA_DIR
    if not directory.is_dir():
        raise InputError(str(directory), "no such folder of input CSV files")
    tables = {}
    for spec in TABLES:
        path = directory / spec.file
        if path.exists():
            tables[spec.name] = pd.read_csv(path, dtype=object, keep_default_na=False,
                                            na_values=[""])
    return tables


def csv_locator(directory: Optional[Path] = None):
    """Locate problems as ``hardware.csv line N, column`` (line 1 is the header)."""
    files = {spec.name: spec.file for spec in TABLES}

    def locate(table, row, column):
        text = files.get(table, table)
        if row is not None:
            text += f" line {row + 2}"
        if column is not None:
            text += f", column {column}"
        return text

    return locate


def load_defaults(directory: Optional[Path] = None) -> Inputs:
    """The validated default inputs (the seed dataset)."""
    return prepare(read_raw_tables(directory), csv_locator(directory))
