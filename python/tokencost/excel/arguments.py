"""Cell values in, cell values out: the conversion every Excel function shares.

xlwings hands a user-defined function (UDF) what the cells hold. With the
argument option ``ndim=2`` that every tokencost UDF declares, a single cell or
a literal arrives as ``[[value]]`` and a range as a list of rows; a blank cell
is ``None``, a number a ``float``, text a ``str``, TRUE/FALSE a ``bool`` and,
with ``err_to_str=True``, an error cell its text (``"#N/A"``) [1]_ [2]_.
:func:`call` turns that into float arrays, calls one core function once,
vectorized, and turns the answer back into what a cell (or a spilled range)
can show:

* one value in every argument -> one float, or one message;
* ranges -> a list of rows with the broadcast shape (a column and a row give
  a table, as in Excel's own array arithmetic); a bad cell gets its message
  in its own position, the other cells their values;
* a problem that spoils every cell (a bad single-cell argument, ranges whose
  shapes do not match) -> one message.

Messages come from :class:`~tokencost.errors.InputError`: the core's own
checks (``tokens_per_s must be > 0, got 0``) or, for cells that are not
numbers at all, ``tokens_per_s must be a number, got a blank``. A blank cell
in an *optional* argument takes that argument's default, as a blank optional
cell does in the input tables. Nothing here computes a cost: every figure comes
from the core function passed in.

The part of this module above the line marked "xlwings Lite" is copied
verbatim into the self-contained ``xlwings_lite/main.py`` by
:mod:`tokencost.excel.lite`, so it may only use numpy and names defined in the
core modules.

References
----------
.. [1] xlwings documentation, "User Defined Functions (UDFs)" and "Converters
   and Options" (``ndim``, ``err_to_str``), https://docs.xlwings.org/en/stable/udfs.html
.. [2] xlwings Lite documentation, "Custom Functions" (dimension of arguments,
   ``@arg`` options), https://lite.xlwings.org/custom_functions
"""
from __future__ import annotations

import functools
import inspect

import numpy as np
import pandas as pd

from ..core._arrays import broadcast
from ..errors import InputError

#: argument name -> its whole-number rule and limit (a tokencost.inputs.schema.Column with
#: ``invalid`` and ``problem``); filled from the schema below the xlwings Lite line, so
#: it stays empty in main.py, whose functions take no such argument
COUNT_RULES: dict = {}

#: the xlwings argument options every tokencost UDF declares
XLWINGS_ARG_OPTIONS = {"ndim": 2, "err_to_str": True}


class Cells:
    """One argument's cells as floats.

    ``values`` has shape ``()`` for a single value and ``(rows, columns)`` for
    a range; ``problems`` maps the flat index of each cell that is not a number
    to its message (its value is NaN).
    """

    __slots__ = ("name", "values", "problems", "is_range")

    def __init__(self, name, values, problems, is_range):
        self.name = name
        self.values = values
        self.problems = problems
        self.is_range = is_range


def _is_number_type(kind) -> bool:
    return (issubclass(kind, (int, float, np.integer, np.floating))
            and not issubclass(kind, (bool, np.bool_)))


def _is_number(value) -> bool:
    return _is_number_type(type(value))


#: Excel's error values, as xlwings hands them over with ``err_to_str=True``
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BUSY!",
                          "#CONNECT!", "#BLOCKED!", "#UNKNOWN!"})


def not_a_number(name: str, value) -> str:
    """The message for a cell that holds no number."""
    if value is None:
        got = "a blank"
    elif isinstance(value, (bool, np.bool_)):
        got = "TRUE" if value else "FALSE"
    elif isinstance(value, str) and value in EXCEL_ERRORS:
        got = f"the error {value}"
    elif isinstance(value, str):
        got = f"text {value!r}"
    else:
        got = repr(value)
    return f"{name} must be a number, got {got}"


def not_finite(name: str, value) -> str:
    """The message for a cell that holds an infinite or NaN number."""
    return f"{name} must be a number, got {float(value)} (not finite)"


def _finite_cells(name: str, values, problems: dict, is_range: bool, defaulted=()) -> "Cells":
    """Cells with every infinite or NaN number (not already a problem) marked, and
    every number that breaks the argument's whole-number rule or limit (the input
    tables' own rule for ``gpus``, ``batch_size``, ``nodes`` ...: tokencost.inputs.schema)."""
    bad = ~np.isfinite(values)
    if len(defaulted):  # a blank optional cell holds its default (NaN: "the best batch")
        bad.flat[list(defaulted)] = False
    rule = COUNT_RULES.get(name)
    finite = np.isfinite(values)
    broken = rule.invalid(values, bounds=False) & finite if rule is not None else bad & False
    for i in np.flatnonzero((bad | broken).reshape(-1)).tolist():
        if i not in problems:
            v = float(values.flat[i])
            problems[i] = not_finite(name, v) if bad.flat[i] else f"{name} {rule.problem(v)}"
        values.flat[i] = np.nan
    return Cells(name, values, problems, is_range)


def to_cells(value, name: str, default=None) -> Cells:
    """Read one argument as xlwings hands it over (or as a Python caller passes it).

    A list of rows, a 1-D list (read as a column), a numpy array or a pandas
    Series is a range; anything else is one value. ``default`` (for optional
    arguments) replaces blanks. An infinite or NaN number is not a usable
    number: its cell gets a message (``tokens_per_s must be a finite number,
    got inf``), as text does. Raises :class:`InputError` when the whole
    argument is unusable: one value that is not a finite number, an empty or
    ragged range.
    """
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_cells(value.item(), name, default)
        if value.ndim > 2:
            raise InputError(name, f"{name} must be a range of rows and columns, "
                                   f"got {value.ndim} dimensions")
        if value.ndim == 1:
            value = value.reshape(-1, 1)
        if value.size and value.dtype.kind in "fiu":
            return _finite_cells(name, value.astype(float), {}, True)
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        if value is None and default is not None:
            return Cells(name, np.asarray(float(default)), {}, False)
        if not _is_number(value):
            raise InputError(name, not_a_number(name, value))
        cells = _finite_cells(name, np.asarray(float(value)), {}, False)
        if cells.problems:
            raise InputError(name, cells.problems[0])
        return cells

    rows = value
    if len(rows) == 0:
        raise InputError(name, f"{name} is an empty range")
    row_kinds = set(map(type, rows))
    if not row_kinds & {list, tuple}:
        rows = [[v] for v in rows]  # a 1-D list is a column
    elif not row_kinds <= {list, tuple}:
        raise InputError(name, f"{name} mixes single values and rows")
    widths = set(map(len, rows))
    if len(widths) != 1 or 0 in widths:
        raise InputError(name, f"{name} has rows of different lengths")
    shape = (len(rows), widths.pop())
    flat = [v for row in rows for v in row]
    if set(map(type, flat)) <= {float, int}:  # the usual case: every cell a number
        return _finite_cells(name, np.array(flat, dtype=float).reshape(shape), {}, True)
    kinds = list(map(type, flat))
    numbers = {kind for kind in set(kinds) if _is_number_type(kind)}
    filled = list(flat)
    problems = {}
    defaulted = []
    for i in [i for i, kind in enumerate(kinds) if kind not in numbers]:
        if flat[i] is None and default is not None:
            filled[i] = default
            defaulted.append(i)
        else:
            filled[i] = np.nan
            problems[i] = not_a_number(name, flat[i])
    values = np.array(filled, dtype=float)
    return _finite_cells(name, values.reshape(shape), problems, True, defaulted)


@functools.lru_cache(maxsize=None)
def parameters(core_function) -> tuple:
    """``((name, default or None), ...)`` of a core function, in order."""
    return tuple(
        (p.name, None if p.default is inspect.Parameter.empty else p.default)
        for p in inspect.signature(core_function).parameters.values()
    )


def call(core_function, *args, pick=None):
    """Evaluate ``core_function`` on cell values; give back cell values.

    Parameters
    ----------
    core_function : callable
        A vectorized core function; its parameter names are the argument names
        used in messages, its defaults fill blank optional cells.
    *args
        The UDF's arguments as xlwings hands them over (see module docstring).
    pick : str, optional
        Key of the figure to return when the core function returns a dict.

    Returns
    -------
    float, str or list of list
        One value or message, or the rows of a range of values and messages.
    """
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _call(core_function, args, pick)  # a non-finite result becomes a message
    except InputError as err:
        return str(err)


def _pick(result, pick):
    return result[pick] if pick is not None else result


def _call(core_function, args, pick):
    cells = [to_cells(value, name, default)
             for value, (name, default) in zip(args, parameters(core_function))]
    ranges = [c for c in cells if c.is_range]
    if not ranges:
        result = float(_pick(core_function(*(float(c.values) for c in cells)), pick))
        if not np.isfinite(result):
            raise InputError("result", not_finite_result(
                result, {c.name: float(c.values) for c in cells}))
        return result
    shape = _broadcast_shape(ranges)
    if not any(c.problems for c in ranges):
        try:
            result = _pick(core_function(*(c.values if c.is_range else float(c.values)
                                            for c in cells)), pick)
        except InputError as err:
            if err.where not in {c.name for c in ranges}:
                raise  # a single-cell argument is bad: every cell would say so
        else:
            result = np.broadcast_to(np.asarray(result, dtype=float), shape)
            if np.isfinite(result).all():
                return result.tolist()
    return _cell_by_cell(core_function, cells, ranges, shape, pick)


def not_finite_result(result: float, arguments: dict) -> str:
    """The message for a result that is not a finite number: the argument farthest
    from 1 in orders of magnitude (the likely cause of the overflow) is named."""
    usable = {k: v for k, v in arguments.items() if np.isfinite(v) and v != 0}
    text = f"result is not a finite number ({result})"
    if usable:
        name = max(usable, key=lambda k: abs(np.log10(abs(usable[k]))))
        size = "large" if abs(usable[name]) > 1 else "small"
        text += f": {name}={usable[name]:g} is too {size}"
    return text


def _broadcast_shape(ranges) -> tuple:
    try:
        return broadcast(**{c.name: c.values for c in ranges})
    except InputError:
        sizes = ", ".join(f"{c.name} is {c.values.shape[0]}x{c.values.shape[1]}" for c in ranges)
        raise InputError("ranges", f"ranges do not match: {sizes} (rows x columns); "
                                   "use ranges of one shape, or a column and a row") from None


def _cell_by_cell(core_function, cells, ranges, shape, pick):
    """Mark the bad cells; compute the others in as few vectorized calls as possible.

    Cells that are not numbers are known from the conversion. For the rest,
    the core's own checks decide, in three steps:

    1. call the core on all remaining cells; done if it accepts them;
    2. if it refuses, its error names the argument X checked first that has a
       bad value. The core checks each argument on its own, whole-array, in a
       fixed order (``tokencost.core._arrays.check``), so every argument checked
       before X is fine in every remaining cell. The distinct values of X are
       then tried against the other arguments of one remaining cell, halving
       the set of values until each refused value is pinned down with its
       message: a column of 100,000 cells holding three kinds of bad value
       costs a few dozen small calls, not 100,000. Cells with a refused value
       of X get its message (the one the core gives for that cell alone), and
       step 1 repeats on the rest;
    3. should a refusal not be pinned to values that way (a rule that involves
       two arguments), the remaining rows are halved instead until each refusal
       is pinned to its row.
    """
    size = int(np.prod(shape))
    flat = {c.name: np.broadcast_to(c.values, shape).reshape(size) for c in ranges}
    messages = np.full(size, None, dtype=object)
    bad = np.zeros(size, dtype=bool)
    for c in ranges:
        if not c.problems:
            continue
        own = np.full(c.values.shape, None, dtype=object)
        own.flat[list(c.problems)] = list(c.problems.values())
        own = np.broadcast_to(own, shape).reshape(size)
        new = ~bad & (own != None)  # noqa: E711 (element-wise comparison)
        messages[new] = own[new]
        bad |= new

    def evaluate(columns):  # the core on {range name: values}, single cells as they are
        return np.asarray(_pick(core_function(
            *(columns[c.name] if c.is_range else float(c.values) for c in cells)), pick),
            dtype=float)

    def refused(err):  # the error names one range argument: cells can be told apart
        if err.where not in flat:
            raise err  # a single-cell argument is bad: every cell would say so
        return err.where

    result = np.full(size, np.nan)
    remaining = np.flatnonzero(~bad)
    while remaining.size:
        try:
            result[remaining] = evaluate({name: v[remaining] for name, v in flat.items()})
            break
        except InputError as err:
            name = refused(err)
        values = flat[name][remaining]
        refusals = _refused_values(evaluate, refused, flat, name, np.unique(values),
                                   remaining[0])
        hit = np.isin(values, list(refusals)) if refusals else np.zeros(len(values), bool)
        if not hit.any():
            _bisect_rows(evaluate, refused, flat, remaining, result, messages, bad)
            break
        # a refused value is refused in its own row only where the rule is about that
        # argument alone; a rule over two arguments (cached_input_tokens <= input_tokens)
        # refuses it in some rows and not others: confirm row by row (distinct rows only,
        # so one bad column against single cells costs a call per distinct bad value)
        _bisect_rows(evaluate, refused, flat, remaining[hit], result, messages, bad)
        remaining = remaining[~hit]
    infinite = ~bad & ~np.isfinite(result)
    if infinite.any():
        messages[infinite] = [
            not_finite_result(result[i], {c.name: float(np.broadcast_to(c.values, shape).flat[i])
                                          for c in cells})
            for i in np.flatnonzero(infinite).tolist()]
        bad |= infinite
    out = result.reshape(shape).tolist()
    for i in np.flatnonzero(bad).tolist():  # the messages, in their cells
        row, column = divmod(i, shape[1])
        out[row][column] = messages[i]
    return out


def _refused_values(evaluate, refused, flat, name, candidates, cell) -> dict:
    """``{value: message}`` for the values of argument *name* the core refuses,
    trying them against the other arguments' values in *cell*."""
    others = {other: float(v[cell]) for other, v in flat.items() if other != name}
    found = {}
    pending = [candidates]
    while pending:
        values = pending.pop()
        try:
            evaluate({**others, name: values})
        except InputError as err:
            if refused(err) != name:
                continue  # this argument passed; a later one did not
            if len(values) == 1:
                found[float(values[0])] = str(err)
            else:
                pending += [values[: len(values) // 2], values[len(values) // 2:]]
    return found


def _bisect_rows(evaluate, refused, flat, rows, result, messages, bad):
    """Halve *rows* (distinct argument rows first) until each refusal is pinned to one."""
    keys, inverse = np.unique(np.column_stack([v[rows] for v in flat.values()]),
                              axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    key_result = np.full(len(keys), np.nan)
    key_message = np.full(len(keys), None, dtype=object)
    pending = [np.arange(len(keys))]
    while pending:
        idx = pending.pop()
        try:
            key_result[idx] = evaluate({name: keys[idx, j] for j, name in enumerate(flat)})
        except InputError as err:
            refused(err)
            if len(idx) == 1:
                key_message[idx[0]] = str(err)
            else:
                pending += [idx[: len(idx) // 2], idx[len(idx) // 2:]]
    result[rows] = key_result[inverse]
    found = key_message[inverse]
    hit = found != None  # noqa: E711
    messages[rows[hit]] = found[hit]
    bad[rows[hit]] = True


# ---- xlwings Lite: everything above this line is copied into xlwings_lite/main.py ----

def _load_count_rules() -> None:
    """Fill :data:`COUNT_RULES` from :func:`tokencost.inputs.schema.count_rules` (here, below the
    Lite line, so main.py needs no schema)."""
    from ..inputs.schema import count_rules
    COUNT_RULES.update(count_rules())


_load_count_rules()


class UdfSpec:
    """Machine-readable description of one UDF (for the workbook's Functions sheet)."""

    __slots__ = ("name", "args", "defaults", "description", "arg_docs", "example",
                 "returns", "category", "lite")

    def __init__(self, name, args, defaults, description, arg_docs, example, returns, category,
                 lite=True):
        self.name = name                # Excel name, e.g. "COST_PER_MTOK"
        self.args = args                # canonical argument names, in order
        self.defaults = defaults        # {name: default} of the optional arguments
        self.description = description  # one line
        self.arg_docs = arg_docs        # one doc per argument (unit in brackets)
        self.example = example          # seed values, one per argument
        self.returns = returns          # unit of the result
        self.category = category        # Excel function-wizard category
        self.lite = lite                # also in xlwings Lite's main.py (needs only the core)

    def __repr__(self) -> str:
        return f"UdfSpec({self.name}({', '.join(self.args)}))"

    def example_formula(self) -> str:
        """The example as an Excel formula, e.g. ``=COST_PER_MTOK(1.9174840182648403, 400)``
        (text quoted, trailing blank optional arguments left out)."""
        values = list(self.example)
        while values and values[-1] is None:
            values.pop()
        return f"={self.name}({', '.join(_formula_number(v) for v in values)})"


def _formula_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


class UdfRegistry:
    """Declares Excel functions once: xlwings decorators plus a :class:`UdfSpec`.

    ``registry(returns=..., example=...)`` decorates a function whose name is
    the Excel name, whose parameters are canonical input names and whose
    docstring (at most 255 characters: Excel's limit) describes it. It applies
    ``xlwings.arg(name, doc=..., ndim=2, err_to_str=True)`` for every parameter
    and then ``xlwings.func(category=...)`` (``func`` last: in classic xlwings
    an ``arg`` applied after ``func`` would reset the category), and records
    the spec in :attr:`specs`. With ``xlwings=None`` it only records.
    """

    def __init__(self, category: str, arg_docs: dict, xlwings=None):
        self.category = category
        self.arg_docs = arg_docs
        self.xlwings = xlwings
        self.specs: list = []

    def __call__(self, *, returns: str, example: tuple, lite: bool = True):
        def decorate(function):
            spec = self.spec_of(function, returns, example)
            spec.lite = lite
            if self.xlwings is not None:
                for name, doc in zip(spec.args, spec.arg_docs):
                    function = self.xlwings.arg(name, doc=doc, **XLWINGS_ARG_OPTIONS)(function)
                function = self.xlwings.func(category=self.category)(function)
            function.udf_spec = spec
            self.specs.append(spec)
            return function
        return decorate

    def spec_of(self, function, returns, example) -> UdfSpec:
        params = list(inspect.signature(function).parameters.values())
        names = tuple(p.name for p in params)
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        if len(example) != len(names):
            raise ValueError(f"{function.__name__}: example has {len(example)} values "
                             f"for {len(names)} arguments")
        docs = []
        for name in names:
            doc = self.arg_docs[name]
            if name in defaults:
                doc += ("; optional" if defaults[name] is None else
                        f"; optional, default {_formula_number(defaults[name])}")
            docs.append(doc)
        text = inspect.cleandoc(function.__doc__ or "")
        if not text:
            raise ValueError(f"{function.__name__} has no docstring")
        return UdfSpec(function.__name__, names, defaults, text.splitlines()[0], tuple(docs),
                       tuple(v if v is None or isinstance(v, str) else float(v) for v in example),
                       returns, self.category)


#: stands for an argument left out of the formula (``=COST_PER_MTOK(A1, B1)``)
OMITTED = object()


def xlwings_call(udf, *args):
    """Call a UDF the way xlwings does, for tests without Excel.

    Each argument is what a formula gives: a number, text, ``None`` (a blank
    cell), ``"#N/A"`` (an error cell), a list of rows (a range), or
    :data:`OMITTED` (left out). As xlwings does with ``ndim=2``, a single value
    arrives as ``[[value]]``, numbers as floats and an omitted optional
    argument as its default. The result is checked to be what Excel can show:
    a float, a str, or a rectangular list of rows of those.
    """
    params = list(inspect.signature(udf).parameters.values())
    handed = []
    for param, value in zip(params, args):
        if value is OMITTED:
            if param.default is inspect.Parameter.empty:
                raise TypeError(f"{param.name} is required")
            handed.append(param.default)
            continue
        if isinstance(value, (list, tuple)):
            if not all(isinstance(row, (list, tuple)) for row in value):
                raise TypeError("give a range as a list of rows")
            rows = [list(row) for row in value]
        else:
            rows = [[value]]
        handed.append([[float(v) if _is_number(v) else v for v in row] for row in rows])
    for param in params[len(args):]:
        if param.default is inspect.Parameter.empty:
            raise TypeError(f"{param.name} is required")
        handed.append(param.default)
    result = udf(*handed)
    cells = result if isinstance(result, list) else [[result]]
    if not cells or len({len(row) for row in cells}) != 1:
        raise TypeError(f"{udf.__name__} returned a ragged range")
    for row in cells:
        for value in row:
            if type(value) not in (float, str):
                raise TypeError(f"{udf.__name__} returned {type(value).__name__}: {value!r}")
    return result


# --------------------------------------------------------------------------- catalog functions

def _text_rows(value, name: str) -> list:
    """A text argument (one cell, a range or a Series) as a list of equal-length rows."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    rows = value if isinstance(value, (list, tuple, np.ndarray)) else [[value]]
    rows = [list(r) if isinstance(r, (list, tuple, np.ndarray)) else [r] for r in rows]
    if not rows or len({len(r) for r in rows}) != 1 or not rows[0]:
        raise InputError(name, f"{name} has rows of different lengths")
    return rows


def _names(value, name: str):
    """A text argument (one cell or a range) as an object array of stripped names."""
    rows = _text_rows(value, name)
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    problems = {}
    for i, v in enumerate(v for r in rows for v in r):
        if isinstance(v, str) and v.strip() and v.strip() not in EXCEL_ERRORS:
            out.flat[i] = v.strip()
        else:
            out.flat[i] = ""
            problems[i] = (f"{name} must be a name, got a blank" if v is None or v == "" else
                           f"{name} must be a name, got {v!r}")
    return out, problems


def _spread(problems: dict, array_shape: tuple, shape: tuple) -> dict:
    """{flat index in the broadcast result: message} for problems of one argument."""
    if not problems:
        return {}
    owner = np.broadcast_to(np.arange(int(np.prod(array_shape))).reshape(array_shape), shape).ravel()
    return {int(j): problems[int(k)] for j, k in enumerate(owner) if int(k) in problems}


def _optional_names(value, name: str, choices):
    """An optional text argument (blank = ""), each name one of *choices* (ignoring case)."""
    if value is None:
        return np.array([[""]], dtype=object), {}
    rows = _text_rows(value, name)
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    problems = {}
    for i, v in enumerate(v for r in rows for v in r):
        text = v.strip() if isinstance(v, str) else v
        if text is None or text == "":
            out.flat[i] = ""
        elif isinstance(text, str) and text not in EXCEL_ERRORS and text.casefold() in choices:
            out.flat[i] = text.casefold()
        else:
            out.flat[i] = ""
            problems[i] = f"{name} {v!r} is not one of {', '.join(choices)}"
    return out, problems


def call_deployment(pick: str, gpu, model, gpus=1.0, batch_size=None, context_tokens=None,
                    weight_precision=None, kv_precision=None, tokens_per_s_per_user=None):
    """One column of :func:`tokencost.analysis.physics_checks.deployment_bounds` for catalog
    names in cells (GPU, model architecture), vectorized over ranges.

    Blank ``batch_size`` = the best batch that fits; blank ``context_tokens`` =
    the catalog assumption; blank precisions = the architecture's; a
    ``tokens_per_s_per_user`` target sets the batch to the largest whose every
    user gets that speed. Unknown names, bad numbers, a target above the batch-1
    bound and deployments with no batch that fits become messages in their own cells.
    """
    from ..inputs import catalog as cat
    from ..analysis.physics_checks import deployment_bounds
    from ..inputs.schema import PRECISIONS
    try:
        names = [_names(gpu, "gpu"), _names(model, "model"),
                 _optional_names(weight_precision, "weight_precision", PRECISIONS),
                 _optional_names(kv_precision, "kv_precision", PRECISIONS)]
        numbers = [to_cells(v, n, d) for v, n, d in ((gpus, "gpus", 1.0),
                                                      (batch_size, "batch_size", np.nan),
                                                      (context_tokens, "context_tokens", np.nan),
                                                      (tokens_per_s_per_user,
                                                       "tokens_per_s_per_user", np.nan))]
        arrays = [a for a, _ in names] + [np.atleast_2d(c.values) for c in numbers]
        problems = [p for _, p in names] + [c.problems for c in numbers]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise InputError("ranges", "ranges do not match: use ranges of one shape, "
                                       "or a column and a row") from None
    except InputError as err:
        return str(err)
    gpu_v, model_v, wp, kvp, g, b, ctx, target = (np.broadcast_to(a, shape).ravel()
                                                  for a in arrays)
    messages = np.full(g.size, None, dtype=object)
    for a, p in zip(arrays, problems):
        for j, text in _spread(p, a.shape, shape).items():
            messages[j] = messages[j] or text
    # gpus and batch_size follow the Models columns' own rules (whole numbers >= 1, at
    # most a limit): the rule every reader applies (tokencost.inputs.schema.Column.problem)
    from ..inputs.schema import ARGUMENTS, MODELS
    gpus_col, batch_col = MODELS.column("gpus"), MODELS.column("batch_size")
    ctx_col = ARGUMENTS["context_tokens"]
    rules = [(gpus_col.invalid(g), gpus_col, g),
             (~np.isnan(b) & batch_col.invalid(b), batch_col, b),
             (~np.isnan(ctx) & ctx_col.invalid(ctx), ctx_col, ctx)]
    unknown_gpu = cat.gpu_index(cat.load_gpu_catalog(), gpu_v) < 0
    unknown_model = cat.architecture_index(cat.load_model_architectures(), model_v) < 0
    for j in range(g.size):
        if messages[j] is None:
            for bad, col, values in rules:
                if bad[j]:
                    messages[j] = f"{col.name} {col.problem(float(values[j]))}"
                    break
        if messages[j] is None and not np.isnan(target[j]) and not target[j] > 0:
            messages[j] = f"tokens_per_s_per_user must be > 0, got {target[j]:g}"
        if messages[j] is None and not np.isnan(target[j]) and not np.isnan(b[j]):
            messages[j] = "give batch_size or tokens_per_s_per_user, not both"
        if messages[j] is None and unknown_gpu[j]:
            messages[j] = f"gpu {gpu_v[j]!r} is not in the GPU catalog"
        if messages[j] is None and unknown_model[j]:
            messages[j] = f"model {model_v[j]!r} is not in the model-architecture catalog"
    ok = np.array([m is None for m in messages])
    result = np.full(g.size, np.nan)
    if ok.any():
        d = deployment_bounds(pd.DataFrame({"gpu": gpu_v[ok], "architecture": model_v[ok],
                                            "gpus": g[ok], "batch_size": b[ok],
                                            "context_tokens": ctx[ok],
                                            "weight_precision": wp[ok], "kv_precision": kvp[ok],
                                            "tokens_per_s_per_user": target[ok]}))
        result[ok] = d[pick].to_numpy(dtype=float)
        fits = d["fits"].to_numpy(dtype=bool)
        for k, j in enumerate(np.flatnonzero(ok)):
            if (not np.isnan(target[j]) and d["max_batch_fits"].iloc[k] >= 1
                    and np.isnan(d["batch"].iloc[k])):
                messages[j] = (f"tokens_per_s_per_user {target[j]:,.6g} is above what batch 1 "
                               f"allows for {model_v[j]} on {g[j]:,.0f} {gpu_v[j]}")
            # a bound is only a bound for a deployment that fits in memory
            elif not np.isfinite(result[j]) or (pick != "min_gpus" and not fits[k]
                                                 and np.isnan(target[j])):
                at = "" if np.isnan(b[j]) else f" at batch {b[j]:,.0f}"
                messages[j] = (f"{model_v[j]}{at} does not fit on {g[j]:,.0f} {gpu_v[j]}: needs "
                               f"at least {d['min_gpus'].iloc[k]:,.0f} GPUs")
    cells = [m if m is not None else float(r) for m, r in zip(messages, result)]
    if not any(isinstance(v, (list, tuple, np.ndarray)) or hasattr(v, "to_numpy")
               for v in (gpu, model, gpus, batch_size, context_tokens, weight_precision,
                         kv_precision, tokens_per_s_per_user)):
        return cells[0]
    return [cells[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
