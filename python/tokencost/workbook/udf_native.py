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
caller then keeps the cell's value. :func:`udf_calls` lists the calls of a
formula (name, argument texts, whether the formula is that one call); it and
:func:`native_formula` share one reading of calls, built on the formula
tokenizer, which ``tokencost export`` also uses to classify cells.

Omitted or blank optional arguments take the function's default. The workbook
convention allows no typed numbers in formulas except unit constants
(:data:`UNIVERSAL_CONSTANTS`: 0, 1, 12, 100, 1000, 3600, 1e6), so a default
that is one of those is written as the number (``utilization`` 1,
``cost_of_capital`` 0) and every other default is written as a defined name,
``Default_<argument>`` (``Default_hours_per_month`` = 730,
``Default_input_output_ratio`` = 3; :func:`named_defaults` lists them). A
workbook that receives such a formula must define the name: ``tokencost
export`` adds a "Function defaults" sheet of named input cells. A formula only
computed on a scratch copy (``tokencost recalc``) can ask for the numbers
instead (``defaults=LITERAL_DEFAULTS``).
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple, Union

from .formula import TOKEN_PATTERN, FormulaError, tokenize

FUNCTIONS_PART = Path(__file__).resolve().parents[3] / "templates" / "parts" / "functions.toml"
_PREFIXES = ("_XLUDF.", "_XLL.")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")

#: the only numbers a formula may hold under the workbook convention (unit conversions)
UNIVERSAL_CONSTANTS = frozenset({0.0, 1.0, 12.0, 100.0, 1000.0, 3600.0, 1e6})
#: prefix of the defined names that hold the functions' non-universal defaults
DEFAULT_NAME_PREFIX = "Default_"
#: ``defaults=`` value asking :func:`expand` / :func:`native_formula` for plain numbers
LITERAL_DEFAULTS = "values"

#: how a default is written: None (a ``Default_<argument>`` name unless universal),
#: LITERAL_DEFAULTS (the number), or a callable ``name -> formula text`` (e.g. a renamed name)
Defaults = Union[None, str, Callable[[str], str]]


@functools.lru_cache(maxsize=None)
def native_templates(path: Path = FUNCTIONS_PART) -> dict:
    """``{UDF name: native template}`` from the functions part file."""
    with open(path, "rb") as fh:
        return dict(tomllib.load(fh).get("native", {}))


@functools.lru_cache(maxsize=None)
def _specs() -> dict:
    from ..excel.udfs import UDF_SPECS
    return {spec.name: spec for spec in UDF_SPECS}


def udf_names() -> frozenset:
    """Names of every TokenCost UDF (upper case)."""
    return frozenset(_specs())


def _literal(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def is_universal(value) -> bool:
    """Whether a number may be typed into a formula (:data:`UNIVERSAL_CONSTANTS`)."""
    try:
        return float(value) in UNIVERSAL_CONSTANTS
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class NamedDefault:
    """A function default that native formulas read from a named cell."""
    name: str                     # Default_hours_per_month
    arg: str                      # hours_per_month
    value: float                  # 730.0
    unit: str                     # h/month
    doc: str                      # the argument's doc (function wizard), unit included
    functions: Tuple[str, ...]    # the functions with a native formula that default it


@functools.lru_cache(maxsize=None)
def named_defaults() -> dict:
    """``{name: NamedDefault}``: every default that is not a universal constant, of
    the functions with a native formula. One name per argument; an argument whose
    default differs between functions gets one name per function
    (``Default_<FUNCTION>_<argument>``)."""
    by_arg = {}
    for spec in _specs().values():
        if spec.name not in native_templates():
            continue
        for arg, value in spec.defaults.items():
            if value is not None and not is_universal(value):
                by_arg.setdefault(arg, []).append((spec, float(value)))
    out = {}
    for arg, uses in by_arg.items():
        groups = ([(f"{DEFAULT_NAME_PREFIX}{arg}", uses)] if len({v for _, v in uses}) == 1 else
                  [(f"{DEFAULT_NAME_PREFIX}{spec.name}_{arg}", [(spec, v)]) for spec, v in uses])
        for name, group in groups:
            spec = group[0][0]
            doc = spec.arg_docs[spec.args.index(arg)]
            unit = doc[doc.rindex("[") + 1: doc.rindex("]")] if "[" in doc else ""
            out[name] = NamedDefault(name, arg, group[0][1], unit, doc,
                                     tuple(s.name for s, _ in group))
    return out


def default_name(function: str, arg: str) -> Optional[str]:
    """The defined name that holds *function*'s default for *arg* (None when the
    default is a universal constant, or there is none)."""
    for name, named in named_defaults().items():
        if named.arg == arg and function in named.functions:
            return name
    return None


def _default_text(function: str, arg: str, value, defaults: Defaults) -> str:
    name = None if defaults == LITERAL_DEFAULTS else default_name(function, arg)
    if name is None:
        return _literal(value)
    return defaults(name) if callable(defaults) else name


def expand(name: str, args: list, blank_defaults: bool = False,
           defaults: Defaults = None) -> Optional[str]:
    """The native formula (no ``=``) of UDF *name* called with argument texts *args*.

    Missing or empty optional arguments take the function's default: a universal
    constant (0, 1) as the number, any other default as its defined name
    (``Default_hours_per_month``, see :func:`named_defaults`); *defaults*
    ``LITERAL_DEFAULTS`` writes every default as the number, a callable maps each
    name to the text to write. With *blank_defaults*, an optional argument given
    as one cell reference becomes ``IF(ISBLANK(ref),default,ref)``: a UDF reads a
    blank cell as its default, while a native formula would read 0. Returns None
    when *name* has no native formula.
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
            texts[arg] = _default_text(name, arg, default, defaults)
            continue
        single = len(tokenize(text)) == 1
        if blank_defaults and default is not None and single and _is_cell(text):
            texts[arg] = f"IF(ISBLANK({text}),{_default_text(name, arg, default, defaults)},{text})"
        else:
            texts[arg] = text if single else f"({text})"
    return _PLACEHOLDER.sub(lambda m: texts[m.group(1)], template)


def _is_cell(text: str) -> bool:
    kind, value = tokenize(text)[0]
    return kind in ("ref", "sref") and ":" not in value


def _is_range(tokens: list) -> bool:
    return any((kind in ("ref", "sref") and ":" in value) or kind == "struct"
               for kind, value, _ in tokens)


# ------------------------------------------------------------------ finding the calls

@dataclass(frozen=True)
class UdfCall:
    """A call of a user-defined function in a formula, as :func:`udf_calls` finds it."""
    name: str                     # COST_PER_MTOK: upper case, no _xludf. / _xll. prefix
    args: Tuple[str, ...]         # the argument texts, tokens joined; () for NAME()
    whole: bool                   # the formula is this one call: =NAME(...)
    foreign: bool                 # another add-in's function (_xll.OTHER(), not TokenCost's


@dataclass(frozen=True)
class _Call:
    name: str
    foreign: bool
    first: int                    # token index of NAME(
    end: int                      # token index after its ")"
    args: Tuple[Tuple[int, int], ...]   # token range of each argument
    closed: bool                  # False: the formula ends before its ")"


def _tokens(body: str) -> list:
    """``(kind, text, offset)`` of each token of *body*, read with the grammar of
    :func:`tokencost.workbook.formula.tokenize`; a character it cannot read (``{``,
    ``#``, ``!``, ``@``: syntax the evaluator does not support) becomes an ``"other"``
    token instead of an error, so such a formula can still be searched for calls."""
    pos, out = 0, []
    while pos < len(body):
        m = TOKEN_PATTERN.match(body, pos)
        if m is None:
            out.append(("other", body[pos], pos))
            pos += 1
            continue
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group(), pos))
        pos = m.end()
    return out


def _text(tokens: list, lo: int, hi: int) -> str:
    return "".join(value for _, value, _ in tokens[lo:hi])


def _arguments(tokens: list, i: int):
    """(token range of each argument, index after ")", closed) of the call at *i*."""
    spans, depth, start = [], 0, i + 1
    for j in range(i + 1, len(tokens)):
        kind, value, _ = tokens[j]
        if kind == "func" or (kind == "op" and value == "("):
            depth += 1
        elif kind == "op" and value == ")":
            if depth == 0:
                spans.append((start, j))
                return spans, j + 1, True
            depth -= 1
        elif kind == "op" and value == "," and depth == 0:
            spans.append((start, j))
            start = j + 1
    spans.append((start, len(tokens)))
    return spans, len(tokens), False


def _parse(formula: str, names=None):
    """(offset of the body in *formula*, its tokens, its calls in order)."""
    skip = 1 if formula.startswith("=") else 0
    tokens = _tokens(formula[skip:])
    names = udf_names() if names is None else frozenset(n.upper() for n in names)
    calls = []
    for i, (kind, value, _) in enumerate(tokens):
        if kind != "func":
            continue
        written = value[:-1].upper()
        name = next((written[len(p):] for p in _PREFIXES if written.startswith(p)), written)
        if name not in names and name == written:
            continue                      # a spreadsheet function
        spans, end, closed = _arguments(tokens, i)
        if len(spans) == 1 and spans[0][0] == spans[0][1]:
            spans = []                    # NAME()
        calls.append(_Call(name, name not in names, i, end, tuple(spans), closed))
    return skip, tokens, calls


def udf_calls(formula: str, names=None) -> list:
    """Every :class:`UdfCall` in *formula* (``=`` optional), in order, nested calls
    included: each call of a TokenCost function (also written ``_xludf.NAME(`` /
    ``_xll.NAME(``, any case) and each call of another add-in's function (a name with
    one of those prefixes that is no TokenCost function: ``foreign``). A name inside a
    string, or one that merely contains a function's name, is no call. *names*: the
    TokenCost function names (default :func:`udf_names`)."""
    _, tokens, calls = _parse(formula, names)
    return [UdfCall(c.name, tuple(_text(tokens, a, b) for a, b in c.args),
                    c.closed and c.first == 0 and c.end == len(tokens), c.foreign)
            for c in calls]


def strip_udf_prefixes(formula: str, names=None) -> str:
    """``=_xludf.COST_PER_MTOK(B5,C5)`` -> ``=COST_PER_MTOK(B5,C5)``: each TokenCost call
    gets its plain upper-case name; the rest of the text stays as written."""
    skip, tokens, calls = _parse(formula, names)
    out, last = [], 0
    for call in calls:
        if not call.foreign:
            _, value, at = tokens[call.first]
            out += [formula[last:skip + at], call.name]
            last = skip + at + len(value) - 1         # keep the "("
    out.append(formula[last:])
    return "".join(out)


# ------------------------------------------------------------------ rewriting a formula

def native_formula(formula: str, defaults: Defaults = None) -> Optional[str]:
    """*formula* (``=...``) with every UDF call replaced by its native formula;
    the formula itself when it calls no UDF; None when a call cannot be
    replaced (a range argument, a function without a native formula) or the
    formula holds syntax the formula tokenizer does not read.

    An omitted or blank optional argument whose default is not a universal
    constant is written as its defined name (``Default_hours_per_month``), which
    the workbook must define (:func:`named_defaults`, :func:`default_names_in`);
    *defaults* as in :func:`expand`."""
    _, tokens, calls = _parse(formula)
    if any(kind == "other" for kind, _, _ in tokens):
        return None
    calls = [c for c in calls if not c.foreign]
    if not calls:
        return formula
    try:
        return "=" + _rewrite(tokens, 0, len(tokens), calls, defaults)
    except _CannotReplace:
        return None


class _CannotReplace(Exception):
    pass


def default_names_in(formula: str) -> set:
    """The :func:`named_defaults` names a formula refers to."""
    body = formula[1:] if formula.startswith("=") else formula
    known = {n.upper(): n for n in named_defaults()}
    return {known[v.upper()] for kind, v in tokenize(body) if kind == "name" and v.upper() in known}


def _rewrite(tokens: list, lo: int, hi: int, calls: list, defaults: Defaults) -> str:
    """The text of ``tokens[lo:hi]`` with each outermost UDF call in it replaced by its
    native formula (the call's arguments rewritten first)."""
    out, i = [], lo
    for call in calls:
        if call.first < i or call.first >= hi:
            continue                      # inside a call replaced already, or outside the range
        if not call.closed:
            raise _CannotReplace("unbalanced parentheses")
        if any(_is_range(tokens[a:b]) for a, b in call.args):
            raise _CannotReplace(call.name)
        args = [_rewrite(tokens, a, b, calls, defaults) for a, b in call.args]
        try:
            native = expand(call.name, args, blank_defaults=True, defaults=defaults)
        except FormulaError:
            raise _CannotReplace(call.name) from None
        if native is None:
            raise _CannotReplace(call.name)
        out += [_text(tokens, i, call.first), f"({native})"]
        i = call.end
    out.append(_text(tokens, i, hi))
    return "".join(out)
