"""tokencost.excel.udfs (the xlwings functions), tokencost.excel.arguments and the xlwings Lite file.

No Excel here: each UDF is called as a plain function and through
``xlwings_call``, which hands arguments over the way xlwings does with
``ndim=2`` (``[[value]]`` for one cell, lists of rows for ranges, None for
blanks, floats for numbers, strings for text and error cells). Golden figures
are the seed's ($1.9175/GPU-hour, $1.33/MTok, 1.44M tokens/h, $156 profit...);
REL = 1e-12 relative (rounding noise only). Array results are compared with
the core called on the same arrays, exactly.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost import core

from tokencost.excel import lite, udfs
from tokencost.excel.arguments import OMITTED, to_cells, xlwings_call

REL = 1e-12
HOUR = 1.9174840182648403        # the seed's H100, $/GPU-hour
DENSE = 1.331586123795028        # $/MTok at 400 tok/s
MOE = 0.21305377980720447        # $/MTok at 2,500 tok/s
H100 = (30000, 3, 350, 700, 1.3, 0.10, 150)

#: each UDF and the core function it wraps (written out here, independently of udfs.py)
CORE_OF = {
    "COST_PER_MTOK": core.cost_per_mtok,
    "MARKUP": core.markup,
    "GROSS_MARGIN": core.gross_margin,
    "GPU_MONTHLY_COST": core.gpu_monthly_cost_usd,
    "GPU_HOUR_COST": core.gpu_hour_usd,
    "TOKENS_PER_HOUR": core.tokens_per_hour,
    "IMPLIED_TPS": core.implied_tokens_per_s,
    "BREAKEVEN_PRICE": core.breakeven_price,
    "SUBSCRIPTION_MARGIN": lambda *a: core.subscription_economics(*a)["profit_with_rd_usd_per_month"],
    "COST_FLOOR_PER_MTOK": core.physics.cost_floor_usd_per_mtok,
    "FLEET_PROFIT": lambda *a: core.fleet.fleet_pnl(*a)["gross_profit_usd"],
    "FLEET_MARGIN": lambda *a: core.fleet.fleet_pnl(*a)["cost_profit_margin"],
    "BREAKEVEN_UTILIZATION": core.fleet.rent_vs_own_breakeven_utilization,
    "ENERGY_PER_TOKEN": core.fleet.energy_j_per_token,
    "TOKENS_PER_S_PER_MW": core.fleet.tokens_per_s_per_mw,
    "BLENDED_PRICE": core.fleet.blended_price_usd_per_mtok,
    "BLENDED_COST": core.fleet.workload_cost_usd_per_mtok,
    "BLENDED_MARKUP": core.fleet.workload_markup,
}
#: the core wrapped by the functions that do not map one-to-one onto a core function's signature
WRAPPED = {"SUBSCRIPTION_MARGIN": core.subscription_economics, "FLEET_PROFIT": core.fleet.fleet_pnl,
           "FLEET_MARGIN": core.fleet.fleet_pnl}
REQUIRED = ["COST_PER_MTOK", "MARKUP", "GPU_MONTHLY_COST", "GPU_HOUR_COST", "TOKENS_PER_HOUR",
            "IMPLIED_TPS", "BREAKEVEN_PRICE", "SUBSCRIPTION_MARGIN"]
SPECS = {spec.name: spec for spec in udfs.UDF_SPECS if spec.lite}   # the core-only functions
CATALOG_SPECS = {spec.name: spec for spec in udfs.UDF_SPECS if not spec.lite}


def core_value(name, *args):
    return CORE_OF[name](*args)


# --------------------------------------------------------------------------- seed figures

def test_seed_figures_plain_calls():
    assert udfs.COST_PER_MTOK(HOUR, 400) == pytest.approx(DENSE, rel=REL)
    assert udfs.COST_PER_MTOK(1.9174840182648403, 400) == 1.331586123795028
    assert udfs.COST_PER_MTOK(HOUR, 2500) == pytest.approx(MOE, rel=REL)           # "$0.21"
    assert udfs.GPU_MONTHLY_COST(*H100) == pytest.approx(1399.7633333333333, rel=REL)  # "~$1,400"
    assert udfs.GPU_HOUR_COST(*H100) == pytest.approx(HOUR, rel=REL)                 # "~$1.92"
    assert udfs.TOKENS_PER_HOUR(400) == pytest.approx(1.44e6, rel=REL)              # "1.44M"
    assert udfs.TOKENS_PER_HOUR(2500) == pytest.approx(9e6, rel=REL)                # "9M"
    assert udfs.IMPLIED_TPS(0.50, HOUR) == pytest.approx(1065.2688990360225, rel=REL)
    assert udfs.MARKUP(30, 1.33) == pytest.approx(22.556390977443609, rel=REL)      # "22.6x"
    assert udfs.MARKUP(25, 1.33) == pytest.approx(18.796992481203006, rel=REL)      # "18.8x"
    assert udfs.MARKUP(0.28, 0.21) == pytest.approx(1.3333333333333335, rel=REL)    # "1.3x"
    assert udfs.BREAKEVEN_PRICE(DENSE) == pytest.approx(DENSE, rel=REL)
    assert udfs.BREAKEVEN_PRICE(1.0, 0.5) == pytest.approx(2.0, rel=REL)
    assert udfs.GROSS_MARGIN(30, 1.5) == pytest.approx(0.95, rel=REL)
    # "That's a $156 profit"; "R&D amortization (say another $2/MTok) ... cost ~$60"
    assert udfs.SUBSCRIPTION_MARGIN(180, 450, 25, DENSE) == pytest.approx(156.0314497716895, rel=REL)
    assert udfs.SUBSCRIPTION_MARGIN(180, 450, 25, DENSE, 2) == pytest.approx(120.0314497716895,
                                                                              rel=REL)


def test_required_functions_exist_with_canonical_signatures():
    assert set(REQUIRED) <= set(SPECS)
    assert set(SPECS) == set(CORE_OF)
    for name in SPECS:
        udf = getattr(udfs, name)
        wrapped = WRAPPED.get(name, CORE_OF[name])
        expected = [(p.name, p.default) for p in inspect.signature(wrapped).parameters.values()]
        got = [(p.name, p.default) for p in inspect.signature(udf).parameters.values()]
        assert got == expected, name   # same names, same defaults (the seed's) as the core


@pytest.mark.parametrize("name", sorted(CORE_OF))
def test_example_equals_core(name):
    spec = SPECS[name]
    udf = getattr(udfs, name)
    expected = core_value(name, *spec.example)
    assert udf(*spec.example) == expected
    assert xlwings_call(udf, *spec.example) == [[expected]]
    required = len(spec.args) - len(spec.defaults)
    assert xlwings_call(udf, *spec.example[:required]) == [[core_value(name, *spec.example[:required])]]


# --------------------------------------------------------------------------- harness calls

def test_harness_single_cells_and_omitted_optionals():
    assert xlwings_call(udfs.COST_PER_MTOK, HOUR, 400) == [[DENSE]]
    assert xlwings_call(udfs.COST_PER_MTOK, HOUR, 400, OMITTED) == [[DENSE]]
    assert xlwings_call(udfs.COST_PER_MTOK, HOUR, 400, None) == [[DENSE]]    # blank optional cell
    assert xlwings_call(udfs.COST_PER_MTOK, HOUR, 400, 0.5) == [[core.cost_per_mtok(HOUR, 400, 0.5)]]
    assert xlwings_call(udfs.GPU_HOUR_COST, *H100, OMITTED, 0.08) == [[core.gpu_hour_usd(*H100, 730, 0.08)]]
    assert xlwings_call(udfs.TOKENS_PER_HOUR, 400) == [[1.44e6]]   # int 400 arrives as 400.0


@pytest.mark.parametrize("value, message", [
    (None, "tokens_per_s must be a number, got a blank"),
    ("fast", "tokens_per_s must be a number, got text 'fast'"),
    ("#N/A", "tokens_per_s must be a number, got the error #N/A"),
    (True, "tokens_per_s must be a number, got TRUE"),
    (0, "tokens_per_s must be > 0, got 0"),
    (-5, "tokens_per_s must be > 0, got -5"),
])
def test_bad_single_cell_gives_message(value, message):
    assert udfs.COST_PER_MTOK(HOUR, value) == message
    assert xlwings_call(udfs.COST_PER_MTOK, HOUR, value) == [[message]]


def test_bad_optional_and_other_arguments():
    assert udfs.COST_PER_MTOK(HOUR, 400, 1.5) == "utilization must be <= 1, got 1.5"
    assert udfs.COST_PER_MTOK(-1, 400) == "gpu_hour_usd must be >= 0, got -1"
    assert udfs.BREAKEVEN_PRICE(1.0, 1.0) == "target_margin must be < 1, got 1"
    assert udfs.GPU_HOUR_COST(30000, 3, 350, 700, 0.9, 0.1, 150) == "pue must be >= 1, got 0.9"
    assert udfs.SUBSCRIPTION_MARGIN(180, 450, 0, DENSE) == "list_price_usd_per_mtok must be > 0, got 0"
    assert udfs.MARKUP("", 1.0) == "price_usd_per_mtok must be a number, got text ''"


def test_column_range_matches_core():
    hours = [[1.5], [HOUR], [2.5], [4.0]]
    tps = [[400.0], [400.0], [2500.0], [100.0]]
    out = xlwings_call(udfs.COST_PER_MTOK, hours, tps)
    assert out == core.cost_per_mtok(np.array(hours), np.array(tps)).tolist()
    assert out[1] == [pytest.approx(DENSE, rel=REL)]
    # a range and single cells; a blank optional range cell takes the default
    out = xlwings_call(udfs.COST_PER_MTOK, hours, 400, [[1.0], [None], [0.5], [1.0]])
    assert out == core.cost_per_mtok(np.array(hours), 400, np.array([[1.0], [1.0], [0.5], [1.0]])).tolist()


def test_column_and_row_give_a_table():
    hours = [[1.0], [2.0], [3.0]]
    tps = [[100.0, 400.0, 2500.0, 5000.0]]
    out = xlwings_call(udfs.COST_PER_MTOK, hours, tps)
    assert np.shape(out) == (3, 4)
    assert out == core.cost_per_mtok(np.array(hours), np.array(tps)).tolist()


def test_every_function_on_ranges_matches_core():
    rng = np.random.default_rng(7)
    for name, spec in SPECS.items():
        udf = getattr(udfs, name)
        base = np.array(spec.example)
        # utilization in (0.5, 1]; everything else scaled up (pue stays >= 1, margins stay 0)
        columns = [(base[i] * rng.uniform(0.5, 1.0, size=(6, 1)) if arg == "utilization"
                    else base[i] * rng.uniform(1.0, 1.5, size=(6, 1))).round(6)
                   for i, arg in enumerate(spec.args)]
        args = [c.tolist() for c in columns]
        assert xlwings_call(udf, *args) == np.asarray(core_value(name, *columns)).tolist(), name


def test_plain_python_arrays_and_series():
    out = udfs.COST_PER_MTOK(np.array([1.5, HOUR]), 400)
    assert out == [[1.5 / 1.44], [core.cost_per_mtok(HOUR, 400)]]          # a 1-D array is a column
    assert udfs.COST_PER_MTOK(pd.Series([1.5, HOUR]), 400) == out
    assert udfs.COST_PER_MTOK([1.5, HOUR], 400) == out
    assert udfs.COST_PER_MTOK(np.float64(HOUR), np.int64(400)) == pytest.approx(DENSE, rel=REL)
    assert isinstance(udfs.COST_PER_MTOK(HOUR, 400), float)


# --------------------------------------------------------------------------- bad cells in ranges

def test_only_the_bad_cells_are_marked():
    hours = [[HOUR], [HOUR], [None], ["n/a"], [-1.0], [HOUR], [True], ["#DIV/0!"]]
    tps = [[400.0], [0.0], [400.0], [400.0], [400.0], [2500.0], [400.0], [400.0]]
    out = xlwings_call(udfs.COST_PER_MTOK, hours, tps)
    assert out == [
        [core.cost_per_mtok(HOUR, 400.0)],
        ["tokens_per_s must be > 0, got 0"],
        ["gpu_hour_usd must be a number, got a blank"],
        ["gpu_hour_usd must be a number, got text 'n/a'"],
        ["gpu_hour_usd must be >= 0, got -1"],
        [core.cost_per_mtok(HOUR, 2500.0)],
        ["gpu_hour_usd must be a number, got TRUE"],
        ["gpu_hour_usd must be a number, got the error #DIV/0!"],
    ]


def test_bad_cells_in_a_table_and_in_several_arguments():
    price = [[30.0, 0.28], [25.0, -1.0]]
    cost = [[DENSE, 0.0], [None, MOE]]
    out = xlwings_call(udfs.MARKUP, price, cost)
    assert out == [[30.0 / DENSE, "cost_usd_per_mtok must be > 0, got 0"],
                   ["cost_usd_per_mtok must be a number, got a blank",
                    "price_usd_per_mtok must be >= 0, got -1"]]


def test_bad_cell_in_a_broadcast_row_marks_its_column():
    out = xlwings_call(udfs.COST_PER_MTOK, [[1.0], [2.0]], [[400.0, 0.0, 100.0]])
    assert out[0][1] == out[1][1] == "tokens_per_s must be > 0, got 0"
    assert [out[0][0], out[1][2]] == [1.0 / 1.44, 2.0 / 0.36]


def test_many_bad_rows_are_each_marked():
    n = 5000
    tps = np.full(n, 400.0)
    tps[::7] = 0.0
    tps[3::11] = -2.0
    hours = np.linspace(1.0, 3.0, n)
    out = udfs.COST_PER_MTOK(hours.reshape(-1, 1).tolist(), tps.reshape(-1, 1).tolist())
    for i in range(n):
        if tps[i] == 0.0:
            assert out[i] == ["tokens_per_s must be > 0, got 0"]
        elif tps[i] < 0:
            assert out[i] == ["tokens_per_s must be > 0, got -2"]
        else:
            assert out[i] == [core.cost_per_mtok(hours[i], 400.0)]


def test_a_bad_single_cell_or_mismatched_shapes_give_one_message():
    assert udfs.COST_PER_MTOK([[1.0], [2.0]], 400, 0) == "utilization must be > 0, got 0"
    assert udfs.COST_PER_MTOK([[1.0], [2.0]], None) == "tokens_per_s must be a number, got a blank"
    assert udfs.COST_PER_MTOK([[1.0], [2.0]], [[400.0], [0.0]], 0) == "utilization must be > 0, got 0"
    message = udfs.COST_PER_MTOK([[1.0], [2.0]], [[400.0], [500.0], [600.0]])
    assert message == ("ranges do not match: gpu_hour_usd is 2x1, tokens_per_s is 3x1 "
                       "(rows x columns); use ranges of one shape, or a column and a row")
    assert udfs.MARKUP([[1.0, 2.0]], [[1.0, 2.0, 3.0]]).startswith("ranges do not match")
    assert udfs.MARKUP([], 1.0) == "price_usd_per_mtok is an empty range"
    assert udfs.MARKUP([[1.0], [2.0, 3.0]], 1.0) == "price_usd_per_mtok has rows of different lengths"


def test_non_finite_result_is_a_message():
    # the message names the argument most likely to blame (farthest from 1 in orders of magnitude)
    blame = "result is not a finite number (inf): gpu_hour_usd=1e+308 is too large"
    assert udfs.COST_PER_MTOK(1e308, 1e-300) == blame
    out = udfs.COST_PER_MTOK([[1e308], [1.0]], [[1e-300], [400.0]])
    assert out == [[blame], [1.0 / 1.44]]


def test_cross_argument_rows_in_subscription_margin():
    out = xlwings_call(udfs.SUBSCRIPTION_MARGIN, [[180.0], [180.0], [20.0]], 450,
                       [[25.0], [0.0], [15.0]], DENSE, [[0.0], [2.0], [None]])
    assert out == [[core.subscription_economics(180, 450, 25, DENSE)["profit_usd_per_month"]],
                   ["list_price_usd_per_mtok must be > 0, got 0"],
                   [core.subscription_economics(20, 450, 15, DENSE)["profit_usd_per_month"]]]


_BAD = [0.0, -1.0, 0.5, 1.0, 2.0, None, "x", True, "#N/A"]   # some bad for some arguments


@settings(deadline=None, max_examples=120)
@given(st.data())
def test_property_each_cell_is_its_own_scalar_call(data):
    """Whatever the mix of good and bad cells, in any argument of any UDF, each row of
    the array call equals the scalar call on that row: the same value or the same message."""
    spec = data.draw(st.sampled_from(list(SPECS.values())))
    udf = getattr(udfs, spec.name)
    n = data.draw(st.integers(min_value=1, max_value=12))
    cell = [st.one_of(st.sampled_from([v, v * 1.5, round(v * 0.7, 6)]), st.sampled_from(_BAD))
            for v in spec.example]
    rows = [[data.draw(c) for c in cell] for _ in range(n)]
    out = udf(*[[[row[j]] for row in rows] for j in range(len(spec.args))])
    assert [r[0] for r in out] == [udf(*row) for row in rows]


def test_rule_over_two_arguments_falls_back_to_rows():
    """A check involving two arguments (none in the core today) is still pinned to rows."""
    from tokencost.errors import InputError
    from tokencost.excel.arguments import call

    def capped(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if (a > b).any():
            raise InputError("a", f"a must be <= b, got {a[a > b].flat[0]:g}")
        return a + b

    assert call(capped, [[3.0], [1.0], [2.0]], [[5.0], [0.0], [2.0]]) == [
        [8.0], ["a must be <= b, got 1"], [4.0]]


def test_to_cells_reads_what_xlwings_hands_over():
    assert to_cells([[1.0, 2.0], [3.0, 4.0]], "x").values.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert to_cells(5, "x").values.shape == ()
    assert to_cells([[None]], "x", default=730.0).values.tolist() == [[730.0]]
    cells = to_cells([[1.0], [None], ["a"]], "x")
    assert cells.problems == {1: "x must be a number, got a blank", 2: "x must be a number, got text 'a'"}


# --------------------------------------------------------------------------- docs and specs

def test_docs_category_and_specs():
    for spec in udfs.UDF_SPECS:
        udf = getattr(udfs, spec.name)
        assert udf.udf_spec is spec
        assert spec.category == "TokenCost"
        assert udf.__doc__ and len(udf.__doc__) <= 255, spec.name      # Excel's MacroOptions limit
        assert "[" in spec.description and spec.description == udf.__doc__.splitlines()[0]
        assert spec.args == tuple(inspect.signature(udf).parameters)
        assert len(spec.arg_docs) == len(spec.args) == len(spec.example)
        for name, doc in zip(spec.args, spec.arg_docs):
            assert 10 < len(doc) <= 255 and "[" in doc and doc.index("]") > doc.index("["), (spec.name, name)
            assert ("optional" in doc) == (name in spec.defaults)
            assert ("optional, default" in doc) == (spec.defaults.get(name) is not None)
        assert spec.returns
        assert spec.example_formula().startswith(f"={spec.name}(")
    assert set(CATALOG_SPECS) == {"DECODE_TPS_BOUND", "MIN_GPUS"}
    assert CATALOG_SPECS["MIN_GPUS"].example_formula() == '=MIN_GPUS("H100", "moe-284b-a13b")'
    assert SPECS["COST_PER_MTOK"].example_formula() == "=COST_PER_MTOK(1.9174840182648403, 400, 1)"
    assert SPECS["GPU_HOUR_COST"].defaults == {"hours_per_month": 730.0, "cost_of_capital": 0.0}


class _ClassicRecorder:
    """Stands in for classic xlwings' decorators (xlwings/udfs.py): ``arg`` re-runs ``func``
    without options, which resets the category to "xlwings", as the real one does."""

    @staticmethod
    def func(f=None, **kwargs):
        def inner(f):
            info = f.__dict__.setdefault("__xlfunc__", {"args": {}})
            info["category"] = kwargs.get("category", "xlwings")
            return f
        return inner(f) if f is not None else inner

    @classmethod
    def arg(cls, name, convert=None, **kwargs):
        def inner(f):
            cls.func(f)
            assert name in inspect.signature(f).parameters
            f.__xlfunc__["args"][name] = kwargs
            return f
        return inner


def _load_copy(path, module_name, monkeypatch, fake_xlwings):
    monkeypatch.setitem(sys.modules, "xlwings", fake_xlwings)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xlwings_decorators_get_docs_options_and_category(monkeypatch):
    fake = types.SimpleNamespace(func=_ClassicRecorder.func, arg=_ClassicRecorder.arg)
    copy = _load_copy(udfs.__file__, "tokencost.excel._udfs_recorded", monkeypatch, fake)
    for spec in copy.UDF_SPECS:
        info = getattr(copy, spec.name).__xlfunc__
        assert info["category"] == "TokenCost", spec.name
        assert set(info["args"]) == set(spec.args)
        for name, doc in zip(spec.args, spec.arg_docs):
            assert info["args"][name] == {"doc": doc, "ndim": 2, "err_to_str": True}


# --------------------------------------------------------------------------- xlwings Lite

class _LiteRecorder:
    """Records ``@func`` / ``@arg`` as xlwings Lite's decorators would."""

    @staticmethod
    def func(f):
        f.lite = {"func": True, "doc": f.__doc__, "args": getattr(f, "lite_args", {})}
        return f

    @staticmethod
    def arg(name, **kwargs):
        def inner(f):
            f.__dict__.setdefault("lite_args", {})[name] = kwargs
            return f
        return inner


@pytest.fixture
def lite_main(monkeypatch):
    fake = types.SimpleNamespace(func=_LiteRecorder.func, arg=_LiteRecorder.arg)
    return _load_copy(lite.DEFAULT_DIR / "main.py", "xlwings_lite_main", monkeypatch, fake)


def test_committed_lite_files_are_fresh():
    assert lite.stale() == [], "run: python -m tokencost.excel.lite"
    assert (lite.DEFAULT_DIR / "requirements.txt").read_text().split() == ["xlwings<1.0.0", "numpy",
                                                                           "pandas"]


def test_lite_main_is_self_contained():
    tree = ast.parse((lite.DEFAULT_DIR / "main.py").read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            modules.add(node.module.split(".")[0])
    assert modules <= {"__future__", "functools", "inspect", "numbers", "types", "numpy", "pandas",
                       "xlwings"}
    from_xlwings = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "xlwings"]
    assert [a.name for a in from_xlwings[0].names] == ["arg", "func"]


def test_lite_functions_match_the_package(lite_main):
    for spec in SPECS.values():
        function = getattr(lite_main, spec.name)
        assert function.lite["func"] and function.__doc__ == getattr(udfs, spec.name).__doc__
        assert function.lite["args"] == {
            name: {"ndim": 2, "err_to_str": True, "doc": doc}
            for name, doc in zip(spec.args, spec.arg_docs)}
        assert function(*spec.example) == core_value(spec.name, *spec.example)
        assert xlwings_call(function, *spec.example) == [[core_value(spec.name, *spec.example)]]
        columns = [[[v], [v * 0.5], [v * 0.25]] for v in spec.example]
        assert xlwings_call(function, *columns) == xlwings_call(getattr(udfs, spec.name), *columns)
    bad = ([[HOUR], [None], [1.0]], [[400.0], [400.0], [0.0]])
    assert lite_main.COST_PER_MTOK(*bad) == udfs.COST_PER_MTOK(*bad) == [
        [DENSE], ["gpu_hour_usd must be a number, got a blank"], ["tokens_per_s must be > 0, got 0"]]
    assert lite_main.COST_PER_MTOK(1.9174840182648403, 400) == 1.331586123795028


def test_lite_check_command(tmp_path, capsys):
    assert lite.main(["--dir", str(tmp_path), "--check"]) == 1
    assert lite.main(["--dir", str(tmp_path)]) == 0
    assert lite.main(["--dir", str(tmp_path), "--check"]) == 0
    (tmp_path / "main.py").write_text("# edited\n")
    assert lite.main(["--dir", str(tmp_path), "--check"]) == 1
    assert "stale" in capsys.readouterr().err


def test_lite_main_runs_without_tokencost():
    """In a fresh interpreter where tokencost cannot be imported, main.py still works."""
    import subprocess

    code = ("import sys, runpy; sys.modules['tokencost'] = None; "
            f"ns = runpy.run_path({str(lite.DEFAULT_DIR / 'main.py')!r}); "
            "print(repr(ns['COST_PER_MTOK'](1.9174840182648403, 400)), "
            "ns['COST_PER_MTOK']([[1.0], [None]], 400))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split(" ", 1) == [
        "1.331586123795028", "[[0.6944444444444444], ['gpu_hour_usd must be a number, got a blank']]\n"]


# --------------------------------------------------------------------------- catalog functions

def test_catalog_functions_equal_the_bound_command():
    from tokencost.analysis.physics_checks import bound
    dense = bound("H100", "dense-70b")
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b") == dense["tokens_per_s_per_gpu_bound"]
    assert xlwings_call(udfs.DECODE_TPS_BOUND, "h100-sxm", "dense-70b") == [[dense["tokens_per_s_per_gpu_bound"]]]
    at_64 = bound("B200", "llama-3.3-70b", gpus=2, batch_size=64, context_tokens=4096)
    assert udfs.DECODE_TPS_BOUND("B200", "llama-3.3-70b", 2, 64, 4096) == at_64["tokens_per_s_per_gpu_bound"]
    # the seed's MoE on one H100: 4 GPUs needed, and no batch fits on one
    assert udfs.MIN_GPUS("H100", "moe-284b-a13b") == 4.0
    assert udfs.DECODE_TPS_BOUND("H100", "moe-284b-a13b") == (
        "moe-284b-a13b does not fit on 1 H100: needs at least 4 GPUs")
    assert udfs.DECODE_TPS_BOUND("H100", "moe-284b-a13b", 4) == bound(
        "H100", "moe-284b-a13b", gpus=4)["tokens_per_s_per_gpu_bound"]
    # a bound is only given for a deployment that fits: a batch too big is said so
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, 16) == dense["tokens_per_s_per_gpu_bound"]
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, 100) == (
        "dense-70b at batch 100 does not fit on 1 H100: needs at least 2 GPUs")
    assert udfs.DECODE_TPS_BOUND("H100", "moe-284b-a13b", 1, 64) == (
        "moe-284b-a13b at batch 64 does not fit on 1 H100: needs at least 4 GPUs")
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 2.5) == "gpus must be a whole number >= 1, got 2.5"
    assert udfs.MIN_GPUS("H100", "dense-70b", 0.5) == "batch_size must be a whole number >= 1, got 0.5"


def test_catalog_functions_over_ranges_mark_only_the_bad_cells():
    from tokencost.analysis.physics_checks import bound
    out = xlwings_call(udfs.DECODE_TPS_BOUND, [["H100"], ["B200"], ["nope"], [None], ["H100"]],
                       "dense-70b", [[1], [1], [1], [1], [0]], [[8], [64], [8], [8], [8]])
    assert out == [[bound("H100", "dense-70b", batch_size=8)["tokens_per_s_per_gpu_bound"]],
                   [bound("B200", "dense-70b", batch_size=64)["tokens_per_s_per_gpu_bound"]],
                   ["gpu 'nope' is not in the GPU catalog"],
                   ["gpu must be a name, got a blank"],
                   ["gpus must be a whole number >= 1, got 0"]]
    # a row of GPUs against a column of models: a 2 x 3 table
    table = udfs.MIN_GPUS([["H100", "B200", "H200"]], [["dense-70b"], ["moe-284b-a13b"]])
    assert [[float(v) for v in row] for row in table] == [
        [bound(g, m)["min_gpus"] for g in ("H100", "B200", "H200")]
        for m in ("dense-70b", "moe-284b-a13b")]
    assert udfs.MIN_GPUS([["H100"], ["B200"]], [["a"], ["b"], ["c"]]).startswith("ranges do not match")
    assert udfs.MIN_GPUS("H100", "no-such-model") == (
        "model 'no-such-model' is not in the model-architecture catalog")


def test_a_refused_range_argument_of_a_composed_function_stays_in_its_cells():
    """BLENDED_COST's core passes tokens_per_s on as decode_tokens_per_s; the refusal must
    still name tokens_per_s, so a range call answers cell by cell (a bare message was returned
    for a one-row range before)."""
    hour = 1.9174840182648403
    out = udfs.BLENDED_COST([[hour], [hour]], [[0.0], [400.0]], 4000.0, 0.1, 3.0, 0.5)
    assert out[0] == ["tokens_per_s must be > 0, got 0"]
    assert out[1] == [udfs.BLENDED_COST(hour, 400.0, 4000.0, 0.1, 3.0, 0.5)]
    assert udfs.BLENDED_COST([[hour]], [[0.0]], 4000.0, 0.1) == [["tokens_per_s must be > 0, got 0"]]
