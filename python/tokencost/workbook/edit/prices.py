"""Append imported list prices to a workbook's Prices table, safely.

The rows come from :func:`tokencost.inputs.pricecatalog.import_file` (a LiteLLM-format
catalog). Each becomes a Prices row (provider, model, output price, the
model profile it is compared against, source); models already in the table
are left alone and reported. The write goes through
:class:`tokencost.workbook.edit.session.EditSession` (refuses to lose parts,
atomic, ``.bak``), and every formula gets its cached value back through
:mod:`tokencost.workbook.edit.refresh` (only the cells that depend on the new rows
are recomputed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from ...errors import InputError, WorkbookError
from ..files import check_writable
from ..read import read_book
from .refresh import values_after_edit
from .session import EditSession
from .tables import append_rows
from ...inputs.schema import name_key


@dataclass
class PriceImport:
    target: Path
    backup: Optional[Path]
    appended: list = field(default_factory=list)        # model names added
    already_there: list = field(default_factory=list)   # model names skipped
    master_check: Optional[float] = None                # errors on the Checks sheet after
    lost: list = field(default_factory=list)            # parts a --output copy lacks
    unresolved: list = field(default_factory=list)      # formula cells left with old values


def append_prices(book, prices: pd.DataFrame, cost_basis: str, output=None,
                  backup: bool = True, on_loss=None) -> PriceImport:
    """Append *prices* (rows of :func:`tokencost.inputs.pricecatalog.parse`) to the Prices
    table of *book*, each compared against model profile *cost_basis*."""
    book = Path(book)
    tables = read_book(book)
    check_writable(Path(output) if output is not None else book)   # before the work
    for name in ("Prices", "Models"):
        if name in tables.missing:
            raise WorkbookError(f"{book}: no Excel Table named {name}; prices are appended to the "
                                "Prices table of a tokencost workbook")
    # names compare as the workbook's lookups compare them: ignoring case, nothing else
    profiles = {name_key(m): str(m) for m in tables.raw["Models"]["model"].dropna()}
    if name_key(cost_basis.strip()) not in profiles:
        raise InputError("--cost-basis", f"--cost-basis must be a model profile of {book.name} "
                                         f"(Models table): {', '.join(profiles.values())}; "
                                         f"got {cost_basis!r}")
    basis = profiles[name_key(cost_basis.strip())]
    present = {name_key(m) for m in tables.raw["Prices"]["model"].dropna()}
    rows, skipped = [], []
    for rec in prices.to_dict("records"):
        if name_key(rec["model"]) in present:
            skipped.append(rec["model"])
            continue
        present.add(name_key(rec["model"]))
        rows.append({"provider": rec["provider"], "model": rec["model"],
                     "price_usd_per_mtok": float(rec["price_usd_per_mtok"]),
                     "cost_basis": basis, "source": rec["source"]})
    result = PriceImport(book, None, [r["model"] for r in rows], skipped)
    if not rows:
        return result
    with EditSession(book, output, backup=backup, on_loss=on_loss) as session:
        fresh = append_rows(session.wb, "Prices", rows)
        values = values_after_edit(session.wb, session.cached, fresh, changed_tables=["Prices"],
                                   unresolved=result.unresolved)
        name = session.wb.defined_names.get("Master_Check")
        master = name.attr_text if name is not None else None
        done = session.write(values)
    result.target, result.backup, result.lost = done.target, done.backup, list(done.lost)
    if master:
        sheet, _, cell = master.rpartition("!")
        value = values.get((sheet.strip("'"), cell.replace("$", "")))
        result.master_check = float(value) if isinstance(value, (int, float)) else None
    return result
