"""Native-formula equivalents of the Python functions (UDFs).

The formulas are data: the ``[native]`` table of ``templates/parts/functions.toml``,
one template per function with a ``{argument}`` placeholder per argument. They
serve the Functions sheet (each example call beside its native formula) and
``tokencost export``, which hands colleagues without Python a workbook whose
UDF calls are replaced by native formulas.

:func:`native_formula` rewrites a cell formula: every call of a TokenCost UDF
(also when stored with an ``_xludf.`` or ``_xll.`` prefix, nested or inside a
larger expression) becomes its native formula with the call's own arguments.
It gives up (returns None) where the native formula would not mean the same:
a range argument (the UDF returns an array; an Excel 2010 formula would need
array entry) or a function with no native formula (the catalog functions). The
caller then keeps the cell's value.
"""
from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Optional

from .formula import FormulaError, tokenize

FUNCTIONS_PART = Path(__file__).resolve().parents[3] / "templates" / "parts" / "functions.toml"
_PREFIXES = ("_XLUDF.", "_XLL.")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


@functools.lru_cache(maxsize=None)
def native_templates(path: Path = FUNCTIONS_PART) -> dict:
    """``{UDF name: native template}`` from the functions part file."""
    with open(path, "rb") as fh:
        return dict(tomllib.load(fh).get("native", {}))


@functools.lru_cache(maxsize=None)
def _specs() -> dict:
    from ..udfs import UDF_SPECS
    return {spec.name: spec for spec in UDF_SPECS}


def udf_names() -> frozenset:
    """Names of every TokenCost UDF (upper case)."""
    return frozenset(_specs())


def _literal(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def expand(name: str, args: list, blank_defaults: bool = False) -> Optional[str]:
    """The native formula (no ``=``) of UDF *name* called with argument texts *args*.

    Missing or empty optional arguments take the function's default. With
    *blank_defaults*, an optional argument given as one cell reference becomes
    ``IF(ISBLANK(ref),default,ref)``: a UDF reads a blank cell as its default,
    while a native formula would read 0. Returns None when *name* has no native
    formula.
    """
    spec = _specs().get(name)
    template = native_templates().get(name)
    if spec is None or template is None:
        return None
    if len(args) > len(spec.args):
        raise FormulaError(f"{name} takes at most {len(spec.args)} arguments, got {len(args)}")
    texts = {}
    for i, arg in enumerate(spec.args):
        text = args[i].strip() if i < len(args) else ""
        default = spec.defaults.get(arg)
        if not text:
            if arg not in spec.defaults or default is None:
                raise FormulaError(f"{name}: argument {arg} is required")
            texts[arg] = _literal(default)
            continue
        single = len(tokenize(text)) == 1
        if blank_defaults and default is not None and single and _is_cell(text):
            texts[arg] = f"IF(ISBLANK({text}),{_literal(default)},{text})"
        else:
            texts[arg] = text if single else f"({text})"
    return _PLACEHOLDER.sub(lambda m: texts[m.group(1)], template)


def _is_cell(text: str) -> bool:
    kind, value = tokenize(text)[0]
    return kind in ("ref", "sref") and ":" not in value


def _is_range(tokens: list) -> bool:
    return any((kind in ("ref", "sref") and ":" in value) or kind == "struct"
               for kind, value in tokens)


def _udf_name(token_value: str) -> str:
    name = token_value[:-1].upper()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def native_formula(formula: str) -> Optional[str]:
    """*formula* (``=...``) with every UDF call replaced by its native formula;
    the formula itself when it calls no UDF; None when a call cannot be
    replaced (a range argument, a function without a native formula)."""
    body = formula[1:] if formula.startswith("=") else formula
    try:
        tokens = tokenize(body)
    except FormulaError:
        return None
    names = udf_names()
    if not any(kind == "func" and _udf_name(value) in names for kind, value in tokens):
        return formula
    try:
        text, end = _rewrite(tokens, 0, names)
    except _CannotReplace:
        return None
    return "=" + text


class _CannotReplace(Exception):
    pass


def _rewrite(tokens: list, i: int, names, stop_at_close: bool = False):
    """Rewrite tokens from *i*; returns (text, index after). With *stop_at_close*,
    stops before a ``)`` or ``,`` at depth 0 (the end of an argument)."""
    out = []
    depth = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if stop_at_close and depth == 0 and kind == "op" and value in (")", ","):
            break
        if kind == "func" and _udf_name(value) in names:
            name = _udf_name(value)
            args, i = [], i + 1
            while True:
                start = i
                text, i = _rewrite(tokens, i, names, stop_at_close=True)
                if _is_range(tokens[start:i]):
                    raise _CannotReplace(name)
                args.append(text)
                if i >= len(tokens):
                    raise _CannotReplace("unbalanced parentheses")
                sep = tokens[i][1]
                i += 1
                if sep == ")":
                    break
            if args == [""]:
                args = []
            try:
                native = expand(name, args, blank_defaults=True)
            except FormulaError:
                raise _CannotReplace(name) from None
            if native is None:
                raise _CannotReplace(name)
            out.append(f"({native})")
            continue
        if kind == "func" or (kind == "op" and value == "("):
            depth += 1
        elif kind == "op" and value == ")":
            depth -= 1
        out.append(value)
        i += 1
    return "".join(out), i
