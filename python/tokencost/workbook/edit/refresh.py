"""Cached values after an openpyxl edit of an analyst's workbook.

openpyxl drops every formula's cached value when it saves. After a command
edits a workbook (a scenario tab added, price rows appended), these functions
give every formula cell its value again without a spreadsheet engine:
:class:`IncrementalEvaluator` recomputes only the cells that depend on what
changed (new or edited cells, followed through the formulas as they are
evaluated, INDIRECT included) and keeps the value the file had cached for
every other cell, so a workbook saved without recalculation stays as the
analyst saved it. A cell the evaluator cannot compute (a function outside the
portable subset) keeps its old value; a new cell it cannot compute is an error.

Use::

    cached, _ = cached_cell_values(book)            # before the edit
    ... edit the openpyxl workbook wb, collecting the changed cells in fresh ...
    values = values_after_edit(wb, cached, fresh)
    ... save wb (safety.rewrite_in_place) ...
    store_cached_values(target, values)
"""
from __future__ import annotations

import re
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from ..formula import Evaluator, FormulaError, Ref, Text, XLError, a1, is_formula


def plain_cached(value, data_type):
    if data_type == "e" and isinstance(value, str):
        return XLError(value)
    if isinstance(value, (datetime, date, time, timedelta)):
        from openpyxl.utils.datetime import to_excel
        return float(to_excel(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def cached_values_of_package(zf) -> dict:
    """``{(sheet, row, col): value}`` of every cell of the package open in *zf*, as the file
    stores it (what openpyxl's ``data_only`` load gives, dates as serial numbers), read by
    streaming each sheet's XML once: no second openpyxl load of the workbook."""
    from xml.etree.ElementTree import iterparse
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    from ..cached import sheet_parts
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    shared: list = []
    if "xl/sharedStrings.xml" in zf.namelist():
        with zf.open("xl/sharedStrings.xml") as fh:
            for _event, elem in iterparse(fh):
                if elem.tag == f"{ns}si":
                    shared.append("".join(t.text or "" for t in elem.iter(f"{ns}t")))
                    elem.clear()
    out = {}
    for sheet, part in sheet_parts(zf).items():
        if part not in zf.namelist():
            continue
        with zf.open(part) as fh:
            for _event, elem in iterparse(fh):
                if elem.tag != f"{ns}c":
                    continue
                ref, kind = elem.get("r"), elem.get("t", "n")
                v = elem.find(f"{ns}v")
                value = None
                if kind == "inlineStr":
                    is_ = elem.find(f"{ns}is")
                    value = "".join(t.text or "" for t in is_.iter(f"{ns}t")) if is_ is not None else None
                elif v is not None and v.text is not None:
                    text = v.text
                    if kind == "s":
                        value = shared[int(text)] if text.isdigit() and int(text) < len(shared) else None
                    elif kind in ("str",):
                        value = text
                    elif kind == "b":
                        value = text.strip() in ("1", "true")
                    elif kind == "e":
                        value = XLError(text)
                    else:
                        try:
                            value = float(text)
                        except ValueError:
                            value = text
                elif v is not None and kind == "str":
                    value = ""
                if value is not None and ref:
                    letters, row = coordinate_from_string(ref)
                    out[(sheet, row, column_index_from_string(letters))] = value
                elem.clear()
    return out


def cached_cell_values(book) -> tuple[dict, object]:
    """({(sheet, row, col): cached value} of every cell as the file stores them, and the
    workbook loaded with ``data_only`` (for checks made before anything is written)."""
    from openpyxl import load_workbook
    from .inventory import require_workbook_suffix
    require_workbook_suffix(book)
    wb = load_workbook(book, data_only=True)
    return {(ws.title, c.row, c.column): plain_cached(c.value, c.data_type)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None}, wb


class IncrementalEvaluator(Evaluator):
    """Evaluate a changed workbook, keeping the cached value of every cell that does not
    depend on a change.

    A cell is *tainted* when it is new or changed (``fresh``) or when its evaluation read a
    tainted cell (INDIRECT included: the dependency is followed as evaluated). A formula
    cell that is not tainted keeps the value the file cached, even when a recomputation
    would differ (a workbook whose inputs were edited without recalculation stays as the
    analyst saved it).
    """

    def __init__(self, cells, tables, names, cached, fresh, lenient=()):
        super().__init__(cells, tables, names)
        self.cached = cached
        self.fresh = set(fresh)
        #: fresh cells that may fail (an analyst's formula the evaluator cannot compute):
        #: they keep their old value and are listed in ``unresolved``
        self.lenient = set(lenient)
        self.unresolved: list = []
        self.tainted: set = set()
        self._frames: list = []

    def value(self, sheet, row, col):
        key = (sheet, row, col)
        if key not in self.cache:
            raw = self.cells.get(key)
            if is_formula(raw):
                if key in self._busy:
                    raise FormulaError(f"circular reference at {sheet}!{a1(row, col)}")
                self._busy.add(key)
                self._frames.append(False)
                failed = None
                try:
                    result = self._scalar(self.eval(self._ast(raw), sheet))
                except FormulaError as err:
                    failed = err
                finally:
                    self._busy.discard(key)
                    tainted = self._frames.pop() or key in self.fresh
                if failed is not None:
                    if key in self.fresh and key not in self.lenient:
                        raise FormulaError(f"{sheet}!{a1(row, col)} {raw}: {failed}") from None
                    if key in self.fresh:
                        self.unresolved.append(key)
                    result, tainted = self.cached.get(key), False   # cannot tell: keep it
                elif not tainted:
                    result = self.cached.get(key)
            else:
                result, tainted = raw, key in self.fresh
            self.cache[key] = result
            if tainted:
                self.tainted.add(key)
        if key in self.tainted and self._frames:
            self._frames[-1] = True
        return self.cache[key]


def workbook_model(wb, cached):
    """(cells, formula keys, tables, names) of an openpyxl workbook for the evaluator."""
    cells, formulas = {}, []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                key = (ws.title, c.row, c.column)
                if c.data_type == "f" and isinstance(v, str):
                    formulas.append(key)
                elif isinstance(v, str) and v.startswith("="):
                    v = Text(v)   # text that looks like a formula stays text
                elif isinstance(v, bool) or isinstance(v, (str, float)):
                    pass
                elif isinstance(v, int):
                    v = float(v)
                else:   # array formulas, dates ...: their cached value
                    v = cached.get(key)
                cells[key] = v
    tables = {}
    for ws in wb.worksheets:
        for t in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(t.ref)
            columns = [tc.name for tc in t.tableColumns] or [
                str(ws.cell(r1, c).value) for c in range(c1, c2 + 1)]
            tables[t.displayName] = (ws.title, Ref(ws.title, r1, c1, r2, c2), columns)
    names = {n: dn.attr_text for n, dn in wb.defined_names.items() if dn.attr_text}
    return cells, formulas, tables, names


def values_after_edit(wb, cached, fresh, changed_tables=(), unresolved=None) -> dict:
    """{(sheet, "B7"): cached value} for every formula cell of the edited workbook.

    *fresh*: the ``(sheet, row, col)`` keys of the cells the edit wrote.
    *changed_tables*: names of Excel Tables whose range the edit changed (rows
    added): a formula that names such a table (``ROWS(Prices[model])``)
    depends on its size, not only on cells it reads, so it is recomputed; one
    the evaluator cannot compute (a function outside its portable subset) keeps
    its old value and its key is appended to *unresolved* (a list), so the
    caller can say which cells need a recalculation in a spreadsheet.
    """
    cells, formulas, tables, names = workbook_model(wb, cached)
    fresh = set(fresh)
    lenient = set()
    if changed_tables:
        pattern = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(t) for t in changed_tables)
                             + r")\[", re.I)
        lenient = {key for key in formulas if key not in fresh and pattern.search(cells[key])}
        fresh |= lenient
    ev = IncrementalEvaluator(cells, tables, names, cached, fresh, lenient)
    for key in sorted(formulas, key=lambda k: k not in ev.fresh):   # new cells first: errors surface
        ev.value(*key)
    if unresolved is not None:
        unresolved.extend(ev.unresolved)
    return {(s, f"{get_column_letter(c)}{r}"): ev.cache.get((s, r, c)) for s, r, c in formulas}


def store_cached_values(target: Path, values: dict) -> None:
    """Store *values* as the formula cells' cached values, atomically (no second backup)."""
    from ..files import write_atomic
    from ..cached import inject_cached_values

    def save(tmp):
        shutil.copyfile(target, tmp)
        inject_cached_values(tmp, lambda sheet, ref: values.get((sheet, ref)))

    write_atomic(save, target, backup=False)
