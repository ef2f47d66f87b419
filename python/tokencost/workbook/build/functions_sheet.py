"""The ``functions`` block: each Python function (UDF) in an example call beside
its native formula.

One small block per function of :data:`tokencost.excel.udfs.UDF_SPECS`, in order:

=========================  ===================  =========  =====================
A                          B                    C          D
=========================  ===================  =========  =====================
FUNCTION_NAME (header)     unit of the result              one-line description
argument name              example value        unit       argument doc
...                        (input cells)
Python function (add-in)   =FUNCTION(B.., ..)   unit       what shows without it
Native formula             =B../(...)           unit       (from [native])
=========================  ===================  =========  =====================

The UDF cell's cached value is the Python function's own result on the example
values (the same number as the native formula beside it, which the tests check
in LibreOffice), so the sheet reads correctly before the add-in is installed.
"""
from __future__ import annotations

from openpyxl.utils import get_column_letter

from ...excel import udfs
from ..cells import put
from ..numbers import number_format
from ..spec import Block
from ..udf_native import expand

def _unit(doc: str) -> str:
    """The bracketed unit at the end of an argument doc."""
    return doc[doc.rindex("[") + 1: doc.rindex("]")] if "[" in doc else ""


def write_functions(state, ws, block: Block, row: int) -> int:

    if block.title:
        put(state, ws, row, 1, block.title, "header")
        row += 1
    for spec in udfs.UDF_SPECS:
        function = getattr(udfs, spec.name)
        put(state, ws, row, 1, spec.name, "header")
        put(state, ws, row, 2, spec.returns, "unit")
        put(state, ws, row, 4, spec.description, "note")
        row += 1
        refs = []
        for name, doc, value in zip(spec.args, spec.arg_docs, spec.example):
            unit = _unit(doc)
            put(state, ws, row, 1, name, "label")
            fmt_in = "" if isinstance(value, str) or value is None else number_format(unit)
            put(state, ws, row, 2, value, "input", fmt_in)
            put(state, ws, row, 3, unit, "unit")
            put(state, ws, row, 4, doc, "note")
            refs.append(f"B{row}")
            row += 1
        fmt = number_format(spec.returns)
        put(state, ws, row, 1, "Python function (add-in)", "label")
        put(state, ws, row, 2, f"={spec.name}({','.join(refs)})", "calc", fmt)
        state.fixed_values[(ws.title, row, 2)] = _cached(function(*spec.example))
        put(state, ws, row, 3, spec.returns, "unit")
        put(state, ws, row, 4, "needs the tokencost add-in (xlwings); shows the stored value "
                                "until Excel recalculates without it", "note")
        row += 1
        native = expand(spec.name, refs)
        put(state, ws, row, 1, "Native formula", "label")
        if native is None:
            put(state, ws, row, 2, "(none)", "note")
            put(state, ws, row, 4, "no portable formula: this function reads the GPU and "
                                    "model-architecture catalogs in Python (see the Physics "
                                    "sheet for each model profile's bound)", "note")
        else:
            put(state, ws, row, 2, "=" + native, "calc", fmt)
            put(state, ws, row, 3, spec.returns, "unit")
            put(state, ws, row, 4, "built-in functions only: works without Python", "note")
        row += 2
    ws.column_dimensions[get_column_letter(2)].width = 22
    return row


def _cached(value):
    """A UDF's scalar result as a cell value (a message stays text)."""
    return value if isinstance(value, str) else float(value)
