"""Small shared fixtures. No autouse fixtures here: several test modules share this file."""
from __future__ import annotations

import pytest

from tokencost.inputs.datasets import load_defaults, read_raw_tables


@pytest.fixture(scope="session")
def seed_inputs():
    """The validated shipped dataset (the seed's figures). Treat as read-only."""
    return load_defaults()


@pytest.fixture
def seed_raw():
    """A fresh copy of the shipped raw tables (all cells text, as read from the CSV files),
    safe to edit in a test."""
    return {name: frame.copy() for name, frame in read_raw_tables().items()}


# ---- the built main workbook, shared by the workbook test modules (build once, recalc once)

@pytest.fixture(scope="session")
def libreoffice():
    """The LibreOffice executable; the spreadsheet tests fail (never skip) without it."""
    from tokencost.workbook.libreoffice import LibreOfficeError, soffice_path
    try:
        return soffice_path()
    except LibreOfficeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """A fresh build of templates/main.toml with the seed data. Read-only: copy it to edit."""
    from tokencost.workbook.build import build
    return build(tmp_path_factory.mktemp("built") / "tokencost.xlsm", backup=False)


@pytest.fixture(scope="session")
def built_recalculated(built_book, libreoffice):
    """{sheet: {"B7": value}} of :func:`built_book` after LibreOffice recalculates it."""
    from tokencost.workbook.libreoffice import recalculated_values
    return recalculated_values(built_book)


@pytest.fixture(scope="session")
def built_wb(built_book):
    """:func:`built_book` loaded with openpyxl (formulas). Read-only: load your own to edit."""
    from openpyxl import load_workbook
    return load_workbook(built_book)


@pytest.fixture(scope="session")
def built_cached(built_book):
    """{(sheet, "B7"): cached value} of :func:`built_book`. Read-only."""
    from workbook_helpers import cached_values
    return cached_values(built_book)
