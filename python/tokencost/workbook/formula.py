"""A small spreadsheet formula evaluator, used to store cached values.

openpyxl writes formulas without their results, so a freshly generated
workbook would show blanks in file previews, pandas/calamine readers and
Protected View. The builder evaluates every formula it writes with this
evaluator and stores the result beside the formula; Excel and LibreOffice
still recalculate on open, and the tests check that LibreOffice's results
equal these cached values and the Python core.

It covers the portable subset the templates use (Excel 2010 / LibreOffice
7.4): arithmetic, comparison and ``&``; A1 references, ranges, other-sheet
references, defined names and structured references ``Table[column]``; and
the functions in :data:`FUNCTIONS`. Anything else raises
:class:`FormulaError`, so a template cannot silently get a blank cached value.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from openpyxl.utils.cell import column_index_from_string


class FormulaError(Exception):
    """A formula the evaluator cannot handle (unsupported syntax or function)."""


class XLError(str):
    """An Excel error value such as ``#N/A`` or ``#DIV/0!``."""


NA = XLError("#N/A")
DIV0 = XLError("#DIV/0!")
VALUE = XLError("#VALUE!")
REF = XLError("#REF!")
NUM = XLError("#NUM!")

_LO_ERROR = re.compile(r"^Err:\d{3}$")     # LibreOffice's own error codes (Err:502)


def is_error_value(value) -> bool:
    """Whether a cached value is a spreadsheet error (``#NAME?``, ``#N/A``, ...,
    LibreOffice's ``Err:502``): what a cell shows when it could not compute."""
    from ..excel.arguments import EXCEL_ERRORS
    if isinstance(value, XLError):
        return True
    return isinstance(value, str) and (value in EXCEL_ERRORS or bool(_LO_ERROR.match(value)))


@dataclass(frozen=True)
class Ref:
    """A rectangular reference (1-based, inclusive)."""
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def rows(self) -> int:
        return self.r2 - self.r1 + 1

    @property
    def cols(self) -> int:
        return self.c2 - self.c1 + 1


TOKEN_PATTERN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"]|"")*")
  | (?P<sref>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!(?:\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?
                                               |\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(])))
  | (?P<struct>[A-Za-z_][\w.]*\[[^\[\]]+\])
  | (?P<func>[A-Za-z_][\w.]*\()
  | (?P<ref>(?:\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![\w(]))
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<op><>|<=|>=|[-+*/^&=<>%(),:])
""", re.VERBOSE)

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN_PATTERN.match(text, pos)
        if not m:
            raise FormulaError(f"cannot read formula at {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
    return out


_COLUMNS = re.compile(r"\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})")
MAX_ROW = 1048576   # a whole-column reference (A:F) spans Excel's rows


def _parse_cells(text: str) -> Tuple[int, int, int, int]:
    columns = _COLUMNS.fullmatch(text)
    if columns:   # whole columns, as LibreOffice writes a name over a full sheet height
        c1, c2 = (column_index_from_string(g.upper()) for g in columns.groups())
        return 1, min(c1, c2), MAX_ROW, max(c1, c2)
    parts = text.split(":")
    cells = [_CELL.fullmatch(p) for p in parts]
    if not all(cells):
        raise FormulaError(f"bad reference {text!r}")
    (c1, r1), (c2, r2) = [(column_index_from_string(m.group(1).upper()), int(m.group(2)))
                          for m in (cells[0], cells[-1])]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


class _Parser:
    """Precedence climbing over tokens -> nested tuples (the AST)."""

    BINARY = [("=", "<>", "<", ">", "<=", ">="), ("&",), ("+", "-"), ("*", "/"), ("^",)]

    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise FormulaError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.expr(0)
        if self.i != len(self.tokens):
            raise FormulaError(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self, level):
        if level == len(self.BINARY):
            return self.unary()
        node = self.expr(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.BINARY[level]:
            op = self.take()[1]
            node = ("bin", op, node, self.expr(level + 1))
        return node

    def unary(self):
        kind, value = self.peek()
        if kind == "op" and value in ("-", "+"):
            self.take()
            operand = self.unary()
            return ("neg", operand) if value == "-" else operand
        node = self.primary()
        while self.peek() == ("op", "%"):
            self.take()
            node = ("bin", "/", node, ("num", 100.0))
        return node

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            return ("num", float(value))
        if kind == "string":
            return ("str", value[1:-1].replace('""', '"'))
        if kind == "ref":
            node = ("ref", None, value)
        elif kind == "sref":
            sheet, _, cells = value.rpartition("!")
            if sheet.startswith("'"):
                sheet = sheet[1:-1].replace("''", "'")
            node = ("ref", sheet, cells)
        elif kind == "struct":
            table, _, col = value.partition("[")
            node = ("struct", table, col[:-1])
        elif kind == "func":
            name = value[:-1].upper()
            if name.startswith("_XLFN."):
                raise FormulaError(f"{name[6:]} is not an Excel 2010 function")
            args = []
            if self.peek() != ("op", ")"):
                while True:
                    args.append(self.expr(0))
                    if self.peek() == ("op", ","):
                        self.take()
                        continue
                    break
            self.take(")")
            node = ("call", name, args)
        elif kind == "name":
            upper = value.upper()
            node = ("bool", upper == "TRUE") if upper in ("TRUE", "FALSE") else ("name", value)
        elif (kind, value) == ("op", "("):
            node = self.expr(0)
            self.take(")")
        else:
            raise FormulaError(f"unexpected {value!r}")
        if self.peek() == ("op", ":"):  # range built from references, e.g. A$7:A7 or A1:INDEX(...)
            self.take()
            node = ("range", node, self.primary())
        return node


def parse(formula: str):
    """Parse a formula (with or without its leading ``=``) into an AST."""
    text = formula[1:] if formula.startswith("=") else formula
    return _Parser(tokenize(text)).parse()


# ---------------------------------------------------------------- values

def _is_err(v) -> bool:
    return isinstance(v, XLError)


def _num(v):
    """Scalar -> float for arithmetic (blank = 0, bool = 0/1), or an XLError."""
    if _is_err(v):
        return v
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        if v == "":
            return 0.0
        try:
            return float(v)
        except ValueError:
            return VALUE
    return VALUE


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.15g}"
    return str(v)


def _rank(v):
    if isinstance(v, bool):
        return 2
    if isinstance(v, str):
        return 1
    return 0


def _compare(op, a, b):
    if _is_err(a):
        return a
    if _is_err(b):
        return b
    if a is None:
        a = "" if isinstance(b, str) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else 0.0
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.casefold(), b.casefold()
    elif _rank(a) != _rank(b):
        a, b = _rank(a), _rank(b)
    else:
        a, b = float(a), float(b)
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _arith(op, a, b):
    x, y = _num(a), _num(b)
    if _is_err(x):
        return x
    if _is_err(y):
        return y
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return DIV0 if y == 0 else x / y
    if op == "^":
        try:
            r = x ** y
        except (OverflowError, ZeroDivisionError):
            return NUM
        return NUM if isinstance(r, complex) else r
    raise FormulaError(op)


def _binary(op, a, b):
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return _compare(op, a, b)
    if op == "&":
        if _is_err(a):
            return a
        if _is_err(b):
            return b
        return _text(a) + _text(b)
    return _arith(op, a, b)


def _elementwise(fn, *args):
    """Apply a scalar function element-wise over arrays (broadcast) or scalars."""
    if not any(isinstance(a, np.ndarray) for a in args):
        return fn(*args)
    arrays = np.broadcast_arrays(*[a if isinstance(a, np.ndarray) else np.array(a, dtype=object)
                                   for a in args])
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(*(arr[idx] for arr in arrays))
    return out


def _flat(*args):
    """Every scalar in the arguments (arrays flattened), for SUM/COUNT/MAX..."""
    for a in args:
        if isinstance(a, np.ndarray):
            yield from a.ravel()
        else:
            yield a


_CRIT = re.compile(r"^(<=|>=|<>|<|>|=)?(.*)$", re.S)


def _criterion(crit) -> Callable[[object], bool]:
    if isinstance(crit, str):
        op, rest = _CRIT.match(crit).groups()
        op = op or "="
        try:
            target = float(rest)
        except ValueError:
            target = rest
    else:
        op, target = "=", _num(crit)
    def test(v):
        if isinstance(target, float):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or v is None:
                return op == "<>"
            return bool(_compare(op, float(v), target))
        if v is None:
            v = ""
        if not isinstance(v, str):
            return op == "<>"
        return bool(_compare(op, v, target))
    return test


class Text(str):
    """A text cell whose text starts with ``=`` (not a formula), in an Evaluator's cells."""


def is_formula(raw) -> bool:
    """True for a formula in an Evaluator's cells (text starting with ``=``, not :class:`Text`)."""
    return isinstance(raw, str) and raw.startswith("=") and not isinstance(raw, Text)


class Evaluator:
    """Evaluate formulas over a workbook held as plain dictionaries.

    Parameters
    ----------
    cells : dict
        ``{(sheet, row, col): value}`` where a value is a number, text, bool,
        None, or a formula string starting with ``=``.
    tables : dict
        ``{table name: (sheet, Ref of the whole table incl. header, [column names])}``.
    names : dict
        ``{defined name: formula text it refers to}`` (e.g. ``"Checks!$C$5"``).
    """

    def __init__(self, cells: Dict, tables: Dict, names: Dict[str, str]):
        self.cells = cells
        self.tables = {k.casefold(): v for k, v in tables.items()}
        self.names = {k.casefold(): v for k, v in names.items()}
        self.cache: Dict[tuple, object] = {}
        self._busy: set = set()
        self._ast_cache: Dict[str, object] = {}

    # -- public
    def value(self, sheet: str, row: int, col: int):
        """The computed value of one cell (scalar)."""
        key = (sheet, row, col)
        if key in self.cache:
            return self.cache[key]
        raw = self.cells.get(key)
        if is_formula(raw):
            if key in self._busy:
                raise FormulaError(f"circular reference at {sheet}!{a1(row, col)}")
            self._busy.add(key)
            try:
                result = self._scalar(self.eval(self._ast(raw), sheet))
            except FormulaError as err:
                raise FormulaError(f"{sheet}!{a1(row, col)} {raw}: {err}") from None
            finally:
                self._busy.discard(key)
        else:
            result = raw
        self.cache[key] = result
        return result

    def evaluate(self, formula: str, sheet: str):
        return self._scalar(self.eval(self._ast(formula), sheet))

    def sheet_named(self, name: str) -> Optional[str]:
        """The workbook's spelling of sheet *name* (case-insensitive), or None."""
        if getattr(self, "_sheets", None) is None:
            self._sheets = {key[0].casefold(): key[0] for key in self.cells}
        return self._sheets.get(name.casefold())

    # -- internals
    def _ast(self, formula):
        if formula not in self._ast_cache:
            self._ast_cache[formula] = parse(formula)
        return self._ast_cache[formula]

    def _scalar(self, v):
        if isinstance(v, Ref):
            v = self._values(v)
        if isinstance(v, np.ndarray):
            if v.size == 1:
                v = v.ravel()[0]
            else:
                return VALUE
        if isinstance(v, (np.floating, np.integer)):
            v = float(v)
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return NUM
        return v

    def _values(self, ref: Ref) -> np.ndarray:
        out = np.empty((ref.rows, ref.cols), dtype=object)
        for i in range(ref.rows):
            for j in range(ref.cols):
                out[i, j] = self.value(ref.sheet, ref.r1 + i, ref.c1 + j)
        return out

    def _arg(self, v):
        """Reference -> array of values; scalars unchanged."""
        return self._values(v) if isinstance(v, Ref) else v

    def eval(self, node, sheet):
        kind = node[0]
        if kind == "num" or kind == "str" or kind == "bool":
            return node[1]
        if kind == "ref":
            r1, c1, r2, c2 = _parse_cells(node[2])
            return Ref(node[1] or sheet, r1, c1, r2, c2)
        if kind == "struct":
            return self._struct(node[1], node[2])
        if kind == "name":
            target = self.names.get(node[1].casefold())
            if target is None:
                raise FormulaError(f"unknown name {node[1]!r}")
            return self.eval(self._ast(target), sheet)
        if kind == "range":
            a, b = self.eval(node[1], sheet), self.eval(node[2], sheet)
            if not (isinstance(a, Ref) and isinstance(b, Ref)) or a.sheet != b.sheet:
                return REF
            return Ref(a.sheet, min(a.r1, b.r1), min(a.c1, b.c1), max(a.r2, b.r2), max(a.c2, b.c2))
        if kind == "neg":
            return _elementwise(lambda x: _arith("-", 0.0, x), self._arg(self.eval(node[1], sheet)))
        if kind == "bin":
            a = self._arg(self.eval(node[2], sheet))
            b = self._arg(self.eval(node[3], sheet))
            return _elementwise(lambda x, y: _binary(node[1], x, y), a, b)
        if kind == "call":
            fn = FUNCTIONS.get(node[1])
            if fn is None:
                raise FormulaError(f"unsupported function {node[1]}")
            return fn(self, node[2], sheet)
        raise FormulaError(f"unknown node {kind}")

    def _struct(self, table, column):
        entry = self.tables.get(table.casefold())
        if entry is None:
            raise FormulaError(f"unknown table {table!r}")
        sheet, ref, columns = entry
        lookup = {c.casefold(): i for i, c in enumerate(columns)}
        key = column.strip().casefold()
        if key not in lookup:
            raise FormulaError(f"table {table} has no column {column!r}")
        col = ref.c1 + lookup[key]
        return Ref(sheet, ref.r1 + 1, col, ref.r2, col)


def a1(row, col):
    from openpyxl.utils import get_column_letter
    return f"{get_column_letter(col)}{row}"


# ---------------------------------------------------------------- functions

def _eager(fn):
    """Wrap f(ev, *values) as a function of AST arguments, references resolved to arrays."""
    def call(ev, args, sheet):
        return fn(*[ev._arg(ev.eval(a, sheet)) for a in args])
    return call


def _scalar_fn(fn):
    """A scalar function applied element-wise, errors propagated."""
    def inner(*vals):
        def one(*xs):
            for x in xs:
                if _is_err(x):
                    return x
            return fn(*xs)
        return _elementwise(one, *vals)
    return _eager(inner)


def _if(ev, args, sheet):
    cond = ev._scalar(ev.eval(args[0], sheet))
    if _is_err(cond):
        return cond
    truth = bool(_num(cond)) if not isinstance(cond, str) else None
    if truth is None:
        return VALUE
    if truth:
        return ev.eval(args[1], sheet)
    return ev.eval(args[2], sheet) if len(args) > 2 else False


def _choose(ev, args, sheet):
    """CHOOSE(index, value1, value2, ...): only the chosen argument is evaluated."""
    index = _num(ev._scalar(ev.eval(args[0], sheet)))
    if _is_err(index):
        return index
    i = int(index)
    if not 1 <= i < len(args):
        return VALUE
    return ev.eval(args[i], sheet)


def _iferror(ev, args, sheet):
    v = ev._scalar(ev.eval(args[0], sheet))
    return ev.eval(args[1], sheet) if _is_err(v) else v


def _index(ev, args, sheet):
    target = ev.eval(args[0], sheet)
    row = _num(ev._scalar(ev.eval(args[1], sheet)))
    col = _num(ev._scalar(ev.eval(args[2], sheet))) if len(args) > 2 else 1.0
    for x in (row, col):
        if _is_err(x):
            return x
    row, col = int(row), int(col)
    if isinstance(target, Ref):
        if target.cols == 1 and len(args) == 2:
            col = 1
        elif target.rows == 1 and len(args) == 2:   # INDEX(one row, n): the n-th column
            row, col = 1, row
        if row < 0 or col < 0 or row > target.rows or col > target.cols:
            return REF
        r1, r2 = (target.r1, target.r2) if row == 0 else (target.r1 + row - 1,) * 2
        c1, c2 = (target.c1, target.c2) if col == 0 else (target.c1 + col - 1,) * 2
        return Ref(target.sheet, r1, c1, r2, c2)
    arr = np.atleast_2d(np.asarray(target, dtype=object))
    if arr.shape[1] == 1 and len(args) == 2:
        col = 1
    elif arr.shape[0] == 1 and len(args) == 2:   # INDEX(one row, n): the n-th column
        row, col = 1, row
    if not (1 <= row <= arr.shape[0] and 1 <= col <= arr.shape[1]):
        return REF
    return arr[row - 1, col - 1]


def _match(ev, args, sheet):
    needle = ev._scalar(ev.eval(args[0], sheet))
    hay = ev._arg(ev.eval(args[1], sheet))
    kind = _num(ev._scalar(ev.eval(args[2], sheet))) if len(args) > 2 else 1.0
    if kind != 0:
        raise FormulaError("MATCH is supported with match_type 0 only")
    if _is_err(needle):
        return needle
    for i, v in enumerate(np.asarray(hay, dtype=object).ravel()):
        if v is not None and _compare("=", v, needle) is True and _rank(v) == _rank(needle):
            return float(i + 1)
    return NA


_INDIRECT_REF = re.compile(r"^(?:(?:'((?:[^']|'')+)'|([^'!]+))!)?"
                           r"(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$")


def _indirect(ev, args, sheet):
    """INDIRECT(text) for A1 references (``'Sheet'!$B$2:$B$9``, ``Sheet!A1``, ``A1``);
    a sheet the workbook does not hold gives #REF!, as in Excel."""
    text = ev._scalar(ev.eval(args[0], sheet))
    if _is_err(text):
        return text
    if len(args) > 1 and not bool(_num(ev._scalar(ev.eval(args[1], sheet)))):
        raise FormulaError("INDIRECT is supported with A1 references only")
    m = _INDIRECT_REF.match(_text(text).strip())
    if not m:
        return REF
    quoted, bare, cells = m.groups()
    target = sheet
    if quoted is not None or bare is not None:
        target = ev.sheet_named(quoted.replace("''", "'") if quoted is not None else bare)
        if target is None:
            return REF
    r1, c1, r2, c2 = _parse_cells(cells)
    return Ref(target, r1, c1, r2, c2)


def _rows(ev, args, sheet):
    v = ev.eval(args[0], sheet)
    return float(v.rows) if isinstance(v, Ref) else float(np.atleast_2d(v).shape[0])


def _columns(ev, args, sheet):
    v = ev.eval(args[0], sheet)
    return float(v.cols) if isinstance(v, Ref) else float(np.atleast_2d(v).shape[1])


def _row(ev, args, sheet):
    """ROW(reference): the row number of its first cell (a scalar, as in a single cell)."""
    v = ev.eval(args[0], sheet)
    return float(v.r1) if isinstance(v, Ref) else (v if _is_err(v) else VALUE)


def _column(ev, args, sheet):
    """COLUMN(reference): the column number of its first cell."""
    v = ev.eval(args[0], sheet)
    return float(v.c1) if isinstance(v, Ref) else (v if _is_err(v) else VALUE)


def _address(row, col, kind=1.0):
    """ADDRESS(row, column, [abs_num]) for A1 style: 1 $A$1, 2 A$1, 3 $A1, 4 A1."""
    from openpyxl.utils import get_column_letter
    row, col, kind = int(_num(row)), int(_num(col)), int(_num(kind))
    if not (1 <= row <= 1048576 and 1 <= col <= 16384 and 1 <= kind <= 4):
        return VALUE
    letters = get_column_letter(col)
    c = ("$" if kind in (1, 3) else "") + letters
    r = ("$" if kind in (1, 2) else "") + str(row)
    return c + r


def _hyperlink(target, friendly=None):
    """HYPERLINK(link, [friendly name]): the cell shows the friendly name (else the link)."""
    return _text(friendly if friendly is not None else target)


def _numbers(vals):
    out = []
    for v in _flat(*vals):
        if _is_err(v):
            return v
        if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def _sum(*vals):
    nums = _numbers(vals)
    return nums if _is_err(nums) else float(sum(nums))


def _max(*vals):
    nums = _numbers(vals)
    return nums if _is_err(nums) else (max(nums) if nums else 0.0)


def _min(*vals):
    nums = _numbers(vals)
    return nums if _is_err(nums) else (min(nums) if nums else 0.0)


def _average(*vals):
    nums = _numbers(vals)
    return nums if _is_err(nums) else (sum(nums) / len(nums) if nums else DIV0)


def _count(*vals):
    return float(sum(1 for v in _flat(*vals)
                     if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)))


def _counta(*vals):
    return float(sum(1 for v in _flat(*vals) if v is not None))


def _sumproduct(*vals):
    arrays = [np.atleast_2d(np.asarray(v, dtype=object)) for v in vals]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        return VALUE
    total = 0.0
    for idx in np.ndindex(shape):
        prod = 1.0
        for a in arrays:
            x = a[idx]
            if _is_err(x):
                return x
            prod *= float(x) if isinstance(x, (int, float, np.floating)) else 0.0
        total += prod
    return total


def _countif(rng, crit):
    values = list(_flat(rng))
    return _elementwise(lambda c: float(sum(1 for v in values if _criterion(c)(v))), crit)


def _ifs_mask(pairs):
    mask = None
    for rng, crit in pairs:
        test = _criterion(crit)
        m = np.array([test(v) for v in _flat(rng)], dtype=bool)
        mask = m if mask is None else mask & m
    return mask


def _countifs(*vals):
    return float(_ifs_mask(zip(vals[0::2], vals[1::2])).sum())


def _sumifs(sum_range, *vals):
    mask = _ifs_mask(zip(vals[0::2], vals[1::2]))
    nums = [float(v) if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) else 0.0
            for v in _flat(sum_range)]
    return float(np.sum(np.array(nums)[mask]))


def _sumif(rng, crit, sum_range=None):
    return _sumifs(rng if sum_range is None else sum_range, rng, crit)


def _and(*vals):
    for v in _flat(*vals):
        if _is_err(v):
            return v
    return all(bool(_num(v)) for v in _flat(*vals) if v is not None)


def _or(*vals):
    for v in _flat(*vals):
        if _is_err(v):
            return v
    return any(bool(_num(v)) for v in _flat(*vals) if v is not None)


def _round_half_away(x, digits):
    factor = 10.0 ** digits
    return math.copysign(math.floor(abs(x) * factor + 0.5 + 1e-9) / factor, x)


def _n(value):
    """N(): a number as it is, TRUE/FALSE as 1/0, text and blanks as 0, errors kept."""
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else None
    if _is_err(value):
        return value
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(value)
    return 0.0


def _npv(rate, *vals):
    """NPV(rate, values...): the first value is discounted one period (end of period 1).
    Text, blanks and booleans inside ranges are skipped, as Excel and LibreOffice do."""
    rate = _num(rate.ravel()[0] if isinstance(rate, np.ndarray) and rate.size == 1 else rate)
    if _is_err(rate):
        return rate
    nums = _numbers(vals)
    if _is_err(nums):
        return nums
    if rate == -1:
        return DIV0
    return float(sum(v / (1 + rate) ** k for k, v in enumerate(nums, start=1)))


def _irr(vals, guess=0.1):
    """IRR(values, [guess]): the rate at which the NPV of the flows (the first at period 0)
    is 0; Newton's method from *guess* as Excel's and LibreOffice's IRR, with a bisection
    fallback. #NUM! when the flows never change sign (no rate exists) or none is found."""
    guess = _num(guess.ravel()[0] if isinstance(guess, np.ndarray) and guess.size == 1 else guess)
    if _is_err(guess):
        return guess
    flows = _numbers([vals])
    if _is_err(flows):
        return flows
    flows = np.asarray(flows, dtype=float)
    if not (np.any(flows > 0) and np.any(flows < 0)):
        return NUM
    k = np.arange(len(flows), dtype=float)

    def f(r):
        return float(np.sum(flows / (1 + r) ** k))

    def df(r):
        return float(np.sum(-k * flows / (1 + r) ** (k + 1)))

    r = float(guess)
    for _ in range(100):
        d = df(r)
        if d == 0 or not math.isfinite(d):
            break
        step = f(r) / d
        r_new = r - step
        if not math.isfinite(r_new) or r_new <= -1:
            break
        if abs(r_new - r) <= 1e-12 * max(1.0, abs(r_new)):
            return r_new
        r = r_new
    lo, hi = -0.999999, 1.0
    while f(lo) * f(hi) > 0 and hi < 1e6:
        hi *= 2
    if f(lo) * f(hi) > 0:
        return NUM
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(lo) * f(mid) <= 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _pmt(rate, nper, pv, fv=0.0, typ=0.0):
    rate, nper, pv, fv, typ = (_num(v) for v in (rate, nper, pv, fv, typ))
    for v in (rate, nper, pv, fv, typ):
        if _is_err(v):
            return v
    if nper == 0:
        return NUM
    if rate == 0:
        return -(pv + fv) / nper
    growth = (1 + rate) ** nper
    return -(rate * (pv * growth + fv)) / ((1 + rate * typ) * (growth - 1))


def _ceiling(x, sig=1.0):
    x, sig = _num(x), _num(sig)
    if sig == 0:
        return 0.0
    return math.ceil(x / sig) * sig


def _floor(x, sig=1.0):
    x, sig = _num(x), _num(sig)
    if sig == 0:
        return DIV0
    return math.floor(x / sig) * sig


def _scalar_math(fn):
    def inner(*xs):
        nums = [_num(x) for x in xs]
        for n in nums:
            if _is_err(n):
                return n
        try:
            return fn(*nums)
        except (ValueError, OverflowError):
            return NUM
    return _scalar_fn(inner)


_TEXT_FORMAT = re.compile(r"(#,##)?0(\.(0+))?")


def _text_fn(value, fmt):
    """TEXT() for the plain number formats 0, 0.00, #,##0, #,##0.0 ... only."""
    m = _TEXT_FORMAT.fullmatch(str(fmt))
    if not m:
        raise FormulaError(f"TEXT format {fmt!r} is not supported")
    x = _num(value)
    if _is_err(x):
        return x
    decimals = len(m.group(3) or "")
    rounded = _round_half_away(x, decimals)
    return f"{rounded:{',' if m.group(1) else ''}.{decimals}f}"


def _fixed_fn(value, decimals=2.0, no_commas=False):
    """FIXED(): a number as text, rounded, with thousands separators. Unlike TEXT() with
    a format code, Excel applies the user's locale separators, so it reads right everywhere."""
    x, d = _num(value), _num(decimals)
    for v in (x, d):
        if _is_err(v):
            return v
    d = int(d)
    rounded = _round_half_away(x, d)
    return f"{rounded:{'' if no_commas else ','}.{max(d, 0)}f}"


FUNCTIONS: Dict[str, Callable] = {
    "IF": _if,
    "IFERROR": _iferror,
    "INDIRECT": _indirect,
    "CHOOSE": _choose,
    "UPPER": _scalar_fn(lambda x: _text(x).upper()),
    "INDEX": _index,
    "MATCH": _match,
    "ROWS": _rows,
    "ROW": _row,
    "COLUMN": _column,
    "ADDRESS": _scalar_fn(_address),
    "HYPERLINK": _scalar_fn(_hyperlink),
    "COLUMNS": _columns,
    "SUM": _eager(_sum),
    "MAX": _eager(_max),
    "MIN": _eager(_min),
    "AVERAGE": _eager(_average),
    "COUNT": _eager(_count),
    "COUNTA": _eager(_counta),
    "COUNTIF": _eager(_countif),
    "COUNTIFS": _eager(_countifs),
    "SUMIF": _eager(_sumif),
    "SUMIFS": _eager(_sumifs),
    "SUMPRODUCT": _eager(_sumproduct),
    "AND": _eager(_and),
    "OR": _eager(_or),
    "NOT": _scalar_fn(lambda x: not bool(_num(x))),
    "ISNUMBER": _eager(lambda v: _elementwise(
        lambda x: isinstance(x, (int, float, np.floating)) and not isinstance(x, bool), v)),
    "ISTEXT": _eager(lambda v: _elementwise(lambda x: isinstance(x, str) and not _is_err(x), v)),
    "ISBLANK": _eager(lambda v: _elementwise(lambda x: x is None, v)),
    "ISERROR": _eager(lambda v: _elementwise(_is_err, v)),
    "NA": _eager(lambda: NA),
    "ABS": _scalar_math(abs),
    "SQRT": _scalar_math(math.sqrt),
    "EXP": _scalar_math(math.exp),
    "LN": _scalar_math(math.log),
    "INT": _scalar_math(lambda x: float(math.floor(x))),
    "MOD": _scalar_math(lambda x, y: x - y * math.floor(x / y) if y else DIV0),
    "POWER": _scalar_math(lambda x, y: x ** y),
    "ROUND": _scalar_math(lambda x, d: _round_half_away(x, int(d))),
    "ROUNDUP": _scalar_math(lambda x, d: math.copysign(math.ceil(abs(x) * 10 ** int(d) - 1e-9)
                                                       / 10 ** int(d), x)),
    "ROUNDDOWN": _scalar_math(lambda x, d: math.copysign(math.floor(abs(x) * 10 ** int(d) + 1e-9)
                                                         / 10 ** int(d), x)),
    "CEILING": _scalar_math(_ceiling),
    "FLOOR": _scalar_math(_floor),
    "PMT": _scalar_fn(_pmt),
    "N": _eager(_n),
    "NPV": _eager(_npv),
    "IRR": _eager(_irr),
    "TEXT": _scalar_fn(_text_fn),
    "FIXED": _scalar_fn(_fixed_fn),
}

#: functions a template formula may use (all exist in Excel 2010 and LibreOffice 7.4)
PORTABLE_FUNCTIONS = frozenset(FUNCTIONS)

#: functions that must never appear (newer than Excel 2010, volatile or fragile)
FORBIDDEN_FUNCTIONS = frozenset({
    "XLOOKUP", "XMATCH", "LET", "LAMBDA", "FILTER", "UNIQUE", "SEQUENCE", "SORT", "SORTBY",
    "OFFSET", "IFS", "SWITCH", "MAXIFS", "MINIFS", "CONCAT", "TEXTJOIN", "RANDARRAY",
})


def functions_used(formula: str) -> set[str]:
    """Names of the functions a formula calls."""
    return {value[:-1].upper() for kind, value in tokenize(formula.lstrip("=")) if kind == "func"}
