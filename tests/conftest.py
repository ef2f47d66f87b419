"""Small shared fixtures. No autouse fixtures here: several test modules share this file."""
from __future__ import annotations

import pytest

from tokencost.datasets import load_defaults, read_raw_tables


@pytest.fixture(scope="session")
def seed_inputs():
    """The validated shipped dataset (the seed's figures). Treat as read-only."""
    return load_defaults()


@pytest.fixture
def seed_raw():
    """A fresh copy of the shipped raw tables (all cells text, as read from the CSV files),
    safe to edit in a test."""
    return {name: frame.copy() for name, frame in read_raw_tables().items()}
