"""``tokencost recalc BOOK``: the cached values of an analyst's book, as LibreOffice computes them."""
from __future__ import annotations

import tempfile
from pathlib import Path

from ..cached import inject_cached_values, rewrite_formulas
from ..formula import is_error_value
from ..libreoffice import recalculated_values
from ..udf_native import LITERAL_DEFAULTS, native_formula, udf_calls
from .session import EditSession


def recalc_in_place(book: Path, backup: bool = True) -> int:
    """Refresh the cached values of *book* with LibreOffice's results.

    Only the ``<v>`` of formula cells change (and the caches of charts on chart names,
    which follow them): VBA, names, styles, validation, charts and every other part of
    the file are copied byte for byte. Cells calling a TokenCost Python function (which
    LibreOffice cannot run) get the value of the function's native formula, computed by
    LibreOffice on a copy where the call is replaced (:mod:`tokencost.workbook.udf_native`);
    a call with no native form keeps its stored value. One edit session
    (:class:`~.session.EditSession`: the gate, the lock, the book read once and found
    unchanged before it is replaced, written atomically with a ``.bak``); only ``<v>``
    values change, so no round trip through openpyxl is made. Returns the number of
    formula cells.
    """
    book = Path(book)
    with EditSession(book, backup=backup, load=False) as session:
        with tempfile.TemporaryDirectory(prefix="tokencost-native-") as tmp:
            native_copy = Path(tmp) / book.name
            native_copy.write_bytes(session.data)
            rewrite_formulas(str(native_copy),   # a scratch copy: defaults as numbers
                             lambda f: native_formula(f, defaults=LITERAL_DEFAULTS))
            values = recalculated_values(native_copy)

        def keep(sheet, ref, formula):   # a UDF call LibreOffice could not value: keep it
            value = values.get(sheet, {}).get(ref)
            return ((value is None or is_error_value(value))
                    and any(not call.foreign for call in udf_calls(formula)))

        count = {}

        def package(tmp):
            Path(tmp).write_bytes(session.data)
            count["n"] = inject_cached_values(tmp, lambda sheet, ref: values.get(sheet, {}).get(ref),
                                              keep=keep)

        session.write(package=package)
    return count["n"]
