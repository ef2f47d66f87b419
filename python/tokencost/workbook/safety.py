"""Gatekeeping for workbook files an analyst hands us (read and in-place write).

Every shell that opens a user's workbook calls :func:`check_readable` first;
every command that rewrites one in place calls :func:`check_in_place` before
writing. Both raise :class:`tokencost.errors.WorkbookError` with one line.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import WorkbookError


def check_readable(path) -> None:
    """Refuse a file that is not a readable xlsx/xlsm package."""
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path}: not an Excel workbook (.xlsx/.xlsm is a zip package)")
