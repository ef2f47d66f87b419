"""The workbook's Sensitivity sheets (templates/parts/sensitivity.toml) against the core.

The tornado and the 2-D grid are native formulas; here they must equal
``tokencost.analysis.sensitivity`` on the same inputs, both as the cached values the
builder stores and after LibreOffice recalculates the file, also after an
analyst edits the settings (another profile, other ranges, other grid axes).
Tolerance: relative 1e-9 (``workbook_helpers.close``); the formulas and the
core do the same arithmetic, so the real differences are ~1e-16.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost.analysis import sensitivity as sens
from tokencost.inputs.datasets import load_defaults
from tokencost.analysis.deployment import PROFILE_INPUTS
from tokencost.inputs.reference_tables import read_catalog
from tokencost.inputs.schema import overridable_inputs
from tokencost.workbook.spec import TEMPLATES_DIR
from tokencost.workbook.libreoffice import recalculated_values

from workbook_helpers import close, formula_cells

SHEETS = ("SensitivityInputs", "SensitivityCalc", "Sensitivity")
GRID = ("power_price_usd_per_kwh", "utilization")


# --------------------------------------------------------------------------- helpers

def named(wb, name):
    """(sheet, coordinate) of a single-cell defined name."""
    dest = list(wb.defined_names[name].destinations)
    assert len(dest) == 1, name
    sheet, ref = dest[0]
    return sheet, ref.replace("$", "")


def set_named(wb, name, value):
    sheet, ref = named(wb, name)
    wb[sheet][ref].value = value


def name_row(wb, name, n):
    """Coordinates of *n* cells to the right of a named cell (an axis row)."""
    sheet, ref = named(wb, name)
    cell = wb[sheet][ref]
    return [(sheet, wb[sheet].cell(cell.row, cell.column + j).coordinate) for j in range(n)]


def block_columns(wb, sheet, title, values, sheet_values=None):
    """{header: [values]} of a slots block found by its title cell (column A)."""
    ws = wb[sheet]
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == title:
            header = r + 2
            break
    else:
        raise KeyError(title)
    heads = {}
    c = 1
    while ws.cell(header, c).value is not None:
        heads[ws.cell(header, c).value] = c
        c += 1
    rows = []
    r = header + 1
    while ws.cell(r, 1).value is not None:
        rows.append(r)
        r += 1
    get = (lambda coord: values[(sheet, coord)]) if sheet_values is None else \
        (lambda coord: sheet_values[sheet].get(coord))
    return {h: [get(ws.cell(r, c).coordinate) for r in rows] for h, c in heads.items()}


def lo_lookup(lo):
    return {(s, ref): v for s, cells in lo.items() for ref, v in cells.items()}


def tornado_from(values, wb):
    return block_columns(wb, "Sensitivity",
                         "Tornado: cost per MTok with each input at its low and high value, "
                         "largest swing first", values)


def grid_from(values, wb):
    sheet, ref = named(wb, "Sens_GridOut_Corner")
    ws = wb[sheet]
    top = ws[ref]
    ys = [values.get((sheet, ws.cell(top.row, top.column + 1 + j).coordinate)) for j in range(5)]
    xs = [values.get((sheet, ws.cell(top.row + 1 + i, top.column).coordinate)) for i in range(5)]
    cost = [[values.get((sheet, ws.cell(top.row + 1 + i, top.column + 1 + j).coordinate))
             for j in range(5)] for i in range(5)]
    return xs, ys, cost


def assert_tornado_equal(got, expected):
    assert got["Input"] == list(expected["input"])
    for head, col in [("Base value", "base_value"), ("Low value", "low_value"),
                      ("High value", "high_value"), ("Cost at low", "cost_at_low_usd_per_mtok"),
                      ("Cost at high", "cost_at_high_usd_per_mtok"), ("Swing", "swing_usd_per_mtok"),
                      ("Base cost", "base_cost_usd_per_mtok")]:
        assert all(close(a, b) for a, b in zip(got[head], expected[col])), (head, got[head],
                                                                              list(expected[col]))


def assert_grid_equal(got, expected):
    xs, ys, cost = got
    assert all(close(a, b) for a, b in zip(xs, expected["x_values"]))
    assert all(close(a, b) for a, b in zip(ys, expected["y_values"]))
    assert np.allclose(np.array(cost, dtype=float), expected["cost_usd_per_mtok"], rtol=1e-9, atol=0)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


@pytest.fixture(scope="module")
def book(built_book):
    return built_book


@pytest.fixture(scope="module")
def wb(built_wb):
    return built_wb


@pytest.fixture(scope="module")
def cached(built_cached):
    return built_cached


@pytest.fixture(scope="module")
def recalculated(built_recalculated):
    return built_recalculated


@pytest.fixture(scope="module")
def core():
    return sens.run(load_defaults(), "dense-70b", ranges=read_catalog("sensitivity_ranges.csv"),
                    grid_inputs=GRID, steps=5)


# --------------------------------------------------------------------------- layout

def test_ranges_on_the_input_sheet_are_the_shipped_ranges(wb, cached):
    """Rows with a range in sensitivity_ranges.csv carry it (absolute); the others
    move by the CLI's default delta (relative 0.8 / 1.2); bounds are the schema's."""
    ws = wb["SensitivityInputs"]
    s1, first = named(wb, "Sens_RangeInput_First")
    s2, last = named(wb, "Sens_RangeInput_Last")
    r1, r2 = ws[first].row, ws[last].row
    names = [ws.cell(r, 1).value for r in range(r1, r2 + 1)]
    assert names == list(sens.TORNADO_INPUTS)
    shipped = read_catalog("sensitivity_ranges.csv").set_index("input")
    specs = overridable_inputs()
    for r, name in zip(range(r1, r2 + 1), names):
        low, high, basis, valid_from, valid_to = (ws.cell(r, c).value for c in range(2, 7))
        assert ws.cell(r, 2).style == ws.cell(r, 3).style == ws.cell(r, 4).style == "input"
        if name in shipped.index:
            row = shipped.loc[name]
            assert (basis, low, high) == (row["basis"], row["low"], row["high"]), name
        else:
            assert (basis, low, high) == ("relative", pytest.approx(0.8, abs=1e-15),
                                          pytest.approx(1.2, abs=1e-15)), name
        col = specs[name].column(name)
        assert valid_from == col.ge and valid_to == col.le, name
    for name in ("Sens_Model", "Sens_Grid_X", "Sens_Grid_Y", "Sens_GridX_First", "Sens_GridY_Last"):
        sheet, ref = named(wb, name)
        assert sheet == "SensitivityInputs" and wb[sheet][ref].style == "input", name


def test_calc_blocks_use_one_formula_per_column(wb):
    """FAST: every row of a slots block has the same formula (in R1C1 terms)."""
    text = (TEMPLATES_DIR / "parts" / "sensitivity.toml").read_text()
    titles = re.findall(r'kind = "slots"\nname = "\w+"\ntitle = "([^"]+)"', text)
    assert len(titles) == 8   # 6 on SensitivityCalc (with the tornado order and chart data), 2 on Sensitivity
    for sheet in ("SensitivityCalc", "Sensitivity"):
        ws = wb[sheet]
        for r in range(1, ws.max_row + 1):
            if ws.cell(r, 1).value not in titles:
                continue
            c = 1
            while ws.cell(r + 2, c).value is not None:
                shapes = set()
                rr = r + 3
                while isinstance(ws.cell(rr, c).value, str) and ws.cell(rr, c).value.startswith("="):
                    shapes.add(re.sub(r"(?<![A-Za-z_$])(\$?[A-Z]{1,3})(\d+)(?![\w(])",
                                      lambda m: f"{m.group(1)}R{int(m.group(2)) - rr}",
                                      ws.cell(rr, c).value))
                    rr += 1
                assert len(shapes) == 1, (sheet, r, c, shapes)
                c += 1


def test_tornado_chart_is_a_horizontal_stacked_bar(wb):
    charts = wb["Sensitivity"]._charts
    assert len(charts) == 1
    chart = charts[0]
    assert (chart.tagname, chart.type, chart.grouping) == ("barChart", "bar", "stacked")
    assert len(chart.series) == 2


# --------------------------------------------------------------------------- cached values

def test_cached_tornado_equals_the_core(wb, cached, core):
    got = tornado_from(cached, wb)
    assert_tornado_equal(got, core["tornado"])
    # the seed's story: utilization first, then depreciation years and tokens/s
    assert got["Input"][:3] == ["utilization", "depreciation_years", "tokens_per_s"]
    assert [round(x, 2) for x in got["Swing"][:3]] == [1.33, 0.79, 0.55]
    base_cost = cached[named(wb, "Sens_Base_Cost")]
    assert close(base_cost, core["base_cost_usd_per_mtok"])
    assert close(base_cost, cached[named(wb, "Sens_Calc_Cost")])
    chart = block_columns(wb, "SensitivityCalc", "Chart data: change from the base cost, smallest "
                          "swing first (a bar chart draws its first row at the bottom)", cached)
    assert chart["Input"] == list(reversed(got["Input"]))
    assert all(close(a, b - base_cost) for a, b in zip(chart["Input at its low"],
                                                       reversed(got["Cost at low"])))


def test_cached_grid_equals_the_core(wb, cached, core):
    assert_grid_equal(grid_from(cached, wb), core["grid"])
    xs, ys, cost = grid_from(cached, wb)
    assert round(cost[2][4], 4) == 1.3316      # the seed's point: $0.10/kWh, utilization 1
    assert round(cost[0][0], 4) == 2.6000      # $0.05/kWh, half busy


# --------------------------------------------------------------------------- LibreOffice

def test_libreoffice_equals_cached_values_and_the_core(book, wb, cached, recalculated, core):
    formulas = [(s, ref) for (s, ref) in formula_cells(book) if s in SHEETS]
    assert len(formulas) > 500
    errors = [(s, ref, recalculated[s].get(ref)) for s, ref in formulas
              if isinstance(recalculated[s].get(ref), str) and recalculated[s][ref].startswith("#")]
    assert errors == []
    mismatches = [(s, ref, cached[(s, ref)], recalculated[s].get(ref)) for s, ref in formulas
                  if not close(cached[(s, ref)], recalculated[s].get(ref))]
    assert mismatches == []
    lo = lo_lookup(recalculated)
    assert_tornado_equal(tornado_from(lo, wb), core["tornado"])
    assert_grid_equal(grid_from(lo, wb), core["grid"])
    assert recalculated["Sensitivity"]["A2"] == "Master check: OK"


def _checks_failing(wb, values):
    ws = wb["Checks"]
    return {ws.cell(int(ref[1:]), 1).value for ref, v in values["Checks"].items()
            if ref.startswith("C") and v == "ERROR"}


def test_an_analysts_edits_flow_through_as_the_core_predicts(book, tmp_path):
    """Another profile, a relative range that gets clipped (PUE >= 1), an absolute
    range for tokens/s, and tokens/s x utilization on the grid."""
    wb = load_workbook(book, keep_vba=True)
    set_named(wb, "Sens_Model", "moe-284b-a13b")
    ws = wb["SensitivityInputs"]
    first_row = ws[named(wb, "Sens_RangeInput_First")[1]].row
    rows = {ws.cell(r, 1).value: r for r in range(first_row, first_row + 10)}
    edits = {"pue": ("relative", 0.7, 1.3), "tokens_per_s": ("absolute", 2000, 3000),
             "utilization": ("absolute", 0.6, 1.0)}
    for name, (basis, low, high) in edits.items():
        ws.cell(rows[name], 2).value = low
        ws.cell(rows[name], 3).value = high
        ws.cell(rows[name], 4).value = basis
    set_named(wb, "Sens_Grid_X", "tokens_per_s")
    set_named(wb, "Sens_Grid_Y", "utilization")
    for (sheet, ref), v in zip(name_row(wb, "Sens_GridX_First", 5), np.linspace(2000, 3000, 5)):
        wb[sheet][ref].value = float(v)
    for (sheet, ref), v in zip(name_row(wb, "Sens_GridY_First", 5), np.linspace(0.6, 1.0, 5)):
        wb[sheet][ref].value = float(v)
    edited = tmp_path / "edited.xlsm"
    wb.save(edited)

    ranges = read_catalog("sensitivity_ranges.csv")
    ranges = ranges[~ranges["input"].isin(edits)]
    ranges = pd.concat([ranges, pd.DataFrame([{"input": k, "basis": b, "low": lo, "high": hi,
                                               "source": "test"} for k, (b, lo, hi) in edits.items()])],
                       ignore_index=True)
    core = sens.run(load_defaults(), "moe-284b-a13b", ranges=ranges,
                    grid_inputs=("tokens_per_s", "utilization"), steps=5)
    assert core["tornado"].set_index("input").loc["pue", "note"] == "low clipped to 1"

    values = recalculated_values(edited)
    lo = lo_lookup(values)
    assert values["Checks"]["A2"] == "Master check: OK", _checks_failing(wb, values)
    assert_tornado_equal(tornado_from(lo, wb), core["tornado"])
    assert_grid_equal(grid_from(lo, wb), core["grid"])
    assert close(lo[named(wb, "Sens_Base_Cost")], 1.9174840182648403 / 9)


def test_checks_flag_bad_sensitivity_settings(book, tmp_path):
    wb = load_workbook(book, keep_vba=True)
    set_named(wb, "Sens_Model", "no-such-profile")
    set_named(wb, "Sens_Grid_Y", "power_price_usd_per_kwh")   # same as x
    set_named(wb, "Sens_Basis_First", "percent")
    bad = tmp_path / "bad.xlsm"
    wb.save(bad)
    values = recalculated_values(bad)
    failing = _checks_failing(wb, values)
    assert "Sensitivity: the model profile on SensitivityInputs is in the Models table" in failing
    assert "Sensitivity: the grid's two inputs are different inputs of the profile" in failing
    assert any(f.startswith("Sensitivity: every tornado low and high is a number") for f in failing)
    assert values["Checks"]["A2"] != "Master check: OK"


def test_profile_inputs_are_the_cost_models_inputs():
    """The base block lists exactly the inputs of the core's cost model, in its order."""
    text = (TEMPLATES_DIR / "parts" / "sensitivity.toml").read_text()
    names = re.findall(r"name = 'Sens_Base_([a-z]\w*)'", text)
    assert tuple(names) == PROFILE_INPUTS
