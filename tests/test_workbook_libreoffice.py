"""Recalculate built and edited workbooks with LibreOffice (a real engine) and
compare with the cached values and the Python core.

These tests need LibreOffice (`libreoffice-calc-nogui`); without it they fail
with the install command (CI installs it; they are never skipped).
"""
from __future__ import annotations

import shutil
import re
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost.inputs.datasets import load_defaults, read_raw_tables
from tokencost.inputs.validate import prepare
from tokencost.analysis.model import evaluate
from tokencost.workbook.build import build
from tokencost.workbook.formula import functions_used
from tokencost.workbook.udf_native import udf_names
from tokencost.workbook.libreoffice import recalculated_values

from workbook_helpers import (append_table_row, cached_values, close, formula_cells,
                              set_table_value)


@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


@pytest.fixture(scope="module")
def main_book(built_book):
    return built_book


@pytest.fixture(scope="module")
def main_recalculated(built_recalculated):
    return built_recalculated


def _output_column(values, book, header):
    """Non-blank values under an Outputs header, in row order."""
    ws = load_workbook(book)["Outputs"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == header and cell.style == "header":
                out = []
                for r in range(cell.row + 1, cell.row + 41):
                    if ws.cell(r, cell.column).value is None:
                        break
                    v = values["Outputs"].get(ws.cell(r, cell.column).coordinate)
                    if v not in ("", None):
                        out.append(v)
                return out
    raise KeyError(header)


def test_libreoffice_equals_cached_values_everywhere_and_no_error_cell(main_book, main_recalculated):
    cached = cached_values(main_book)
    formulas = formula_cells(main_book)
    assert len(formulas) > 500
    mismatches, errors = [], []
    for (sheet, ref), formula in formulas.items():
        if functions_used(formula) & udf_names():
            continue  # a Python function: LibreOffice shows #NAME? (test_workbook_functions.py)
        lo = main_recalculated[sheet].get(ref)
        if isinstance(lo, str) and lo.startswith("#"):
            errors.append((sheet, ref, lo))
        if not close(cached[(sheet, ref)], lo):
            mismatches.append((sheet, ref, cached[(sheet, ref)], lo))
    assert errors == []
    assert mismatches == []


def test_libreoffice_outputs_equal_the_core_and_show_the_seed(main_book, main_recalculated):
    res = evaluate(load_defaults())
    pairs = [("Total per GPU-month", res.gpu_costs["total_usd_per_month"]),
             ("Per GPU-hour", res.gpu_costs["gpu_hour_usd"]),
             ("Cost per MTok at that utilization", res.model_costs["cost_usd_per_mtok"]),
             ("Markup", res.markups["markup"]),
             ("Gross margin", res.markups["gross_margin"]),
             ("Profit at hardware cost", res.subscriptions["profit_usd_per_month"]),
             ("Cost with R&D add-on", res.subscriptions["cost_with_rd_usd_per_month"])]
    for header, expected in pairs:
        got = _output_column(main_recalculated, main_book, header)
        assert len(got) == len(expected), header
        assert all(close(a, b) for a, b in zip(got, expected)), (header, got, list(expected))
    # the seed's figures at its printed precision
    assert round(_output_column(main_recalculated, main_book, "Total per GPU-month")[0], 2) == 1399.76
    assert round(_output_column(main_recalculated, main_book, "Per GPU-hour")[0], 2) == 1.92
    cost = _output_column(main_recalculated, main_book, "Cost per MTok at that utilization")
    assert [round(x, 2) for x in cost[:2]] == [1.33, 0.21]
    assert [round(x, 1) for x in _output_column(main_recalculated, main_book, "Markup")] \
        == [1.3, 1.7, 18.8, 11.3, 22.5]
    assert round(_output_column(main_recalculated, main_book, "Hardware cost to serve")[0]) == 24
    assert round(_output_column(main_recalculated, main_book, "Profit at hardware cost")[0]) == 156
    assert round(_output_column(main_recalculated, main_book, "Cost with R&D add-on")[0]) == 60
    assert main_recalculated["Checks"]["A2"] == "Master check: OK"


def test_analyst_edits_flow_through_exactly_as_the_core_predicts(main_book, tmp_path):
    edited = tmp_path / "edited.xlsm"
    wb = load_workbook(main_book, keep_vba=True)
    set_table_value(wb, "CostComponents", "gpu", "H100", "power_price_usd_per_kwh", 0.06)
    set_table_value(wb, "Models", "model", "dense-70b", "tokens_per_s", 500)
    append_table_row(wb, "Hardware", {"gpu": "B200", "gpu_price_usd": 45000, "power_w": 1000,
                                      "memory_gb": 180, "memory_bandwidth_tb_s": 8,
                                      "source": "test: an analyst's new GPU"})
    append_table_row(wb, "CostComponents", {"gpu": "B200", "depreciation_years": 4,
                                            "infra_usd_per_month": 500, "pue": 1.2,
                                            "power_price_usd_per_kwh": 0.08,
                                            "staff_usd_per_month": 150, "hours_per_month": 730,
                                            "utilization": 0.7, "cost_of_capital": 0.08})
    append_table_row(wb, "Models", {"model": "dense-70b-b200", "gpu": "B200", "tokens_per_s": 3000,
                                    "gpus": 1})
    append_table_row(wb, "Prices", {"provider": "Example", "model": "Example 70B", "price_usd_per_mtok": 0.9,
                                    "cost_basis": "dense-70b-b200"})
    wb.save(edited)

    # the core on the same edits
    raw = read_raw_tables()
    raw["CostComponents"].loc[raw["CostComponents"]["gpu"] == "H100", "power_price_usd_per_kwh"] = "0.06"
    raw["Models"].loc[raw["Models"]["model"] == "dense-70b", "tokens_per_s"] = "500"
    raw["Hardware"] = pd.concat([raw["Hardware"], pd.DataFrame([{
        "gpu": "B200", "gpu_price_usd": 45000, "power_w": 1000, "memory_gb": 180,
        "memory_bandwidth_tb_s": 8}])], ignore_index=True)
    raw["CostComponents"] = pd.concat([raw["CostComponents"], pd.DataFrame([{
        "gpu": "B200", "depreciation_years": 4, "infra_usd_per_month": 500, "pue": 1.2,
        "power_price_usd_per_kwh": 0.08, "staff_usd_per_month": 150, "hours_per_month": 730,
        "utilization": 0.7, "cost_of_capital": 0.08}])], ignore_index=True)
    raw["Models"] = pd.concat([raw["Models"], pd.DataFrame([{
        "model": "dense-70b-b200", "gpu": "B200", "tokens_per_s": 3000, "gpus": 1}])],
        ignore_index=True)
    raw["Prices"] = pd.concat([raw["Prices"], pd.DataFrame([{
        "provider": "Example", "model": "Example 70B", "price_usd_per_mtok": 0.9,
        "cost_basis": "dense-70b-b200"}])], ignore_index=True)
    res = evaluate(prepare(raw))

    values = recalculated_values(edited)
    assert values["Checks"]["A2"] == "Master check: OK"
    for header, expected in [("Total per GPU-month", res.gpu_costs["total_usd_per_month"]),
                             ("Per GPU-hour", res.gpu_costs["gpu_hour_usd"]),
                             ("Cost per MTok at that utilization", res.model_costs["cost_usd_per_mtok"]),
                             ("Markup", res.markups["markup"])]:
        got = _output_column(values, edited, header)
        assert len(got) == len(expected), header
        assert all(close(a, b) for a, b in zip(got, expected)), (header, got, list(expected))
    assert len(_output_column(values, edited, "Markup")) == 6


def test_checks_sheet_flags_a_bad_input(main_book, tmp_path):
    edited = tmp_path / "bad.xlsm"
    wb = load_workbook(main_book, keep_vba=True)
    set_table_value(wb, "CostComponents", "gpu", "H100", "utilization", 1.5)
    set_table_value(wb, "Prices", "model", "GPT-5.5", "cost_basis", "no-such-profile")
    wb.save(edited)
    values = recalculated_values(edited)
    assert values["Checks"]["A2"].startswith("Master check: ")
    assert values["Checks"]["A2"] != "Master check: OK"
    labels = load_workbook(edited)["Checks"]
    failing = {labels.cell(int(ref[1:]), 1).value for ref, v in values["Checks"].items()
               if ref.startswith("C") and v == "ERROR"}
    assert any("CostComponents[utilization]" in f for f in failing)
    assert any("Prices[cost_basis]" in f for f in failing)


def test_seed_one_pager_shows_the_post_figures(tmp_path):
    book = build(tmp_path / "seed.xlsx", template="seed", backup=False)
    values = recalculated_values(book)
    sheet = values["Real cost of an AI token"]
    text = {v for v in sheet.values() if isinstance(v, str)}
    nums = [v for v in sheet.values() if isinstance(v, (int, float))]
    assert "GPU depreciation (3yr, $30K)" in text
    assert "Power (700W, $0.10/kWh, PUE 1.3)" in text
    for figure, digits in [(1399.76, 2), (1.92, 2), (1.33, 2), (0.21, 2), (18.8, 1), (11.3, 1),
                           (22.5, 1), (1.3, 1), (1.7, 1), (156, 0), (24, 0), (60, 0)]:
        assert any(round(n, digits) == figure for n in nums), figure
    assert not [v for v in sheet.values() if isinstance(v, str) and v.startswith("#")]
    cached = cached_values(book)
    for (s, ref), formula in formula_cells(book).items():
        assert close(cached[(s, ref)], values[s].get(ref)), (s, ref, formula)


def test_libreoffice_really_recalculates(main_book, tmp_path):
    """A wrong cached value must not survive: LibreOffice recomputes on load."""
    wrong = tmp_path / "wrong.xlsm"
    shutil.copy(main_book, wrong)
    from tokencost.workbook.cached import inject_cached_values
    inject_cached_values(str(wrong), lambda sheet, ref: 12345.0)
    values = recalculated_values(wrong)
    assert values["Checks"]["A2"] == "Master check: OK"
    assert round(_output_column(values, wrong, "Per GPU-hour")[0], 4) == 1.9175


def test_recalc_command_refreshes_cached_values_and_keeps_everything_else(main_book, tmp_path):
    from tokencost.cli import main
    edited = tmp_path / "edited.xlsm"
    wb = load_workbook(main_book, keep_vba=True)
    set_table_value(wb, "CostComponents", "gpu", "H100", "power_price_usd_per_kwh", 0.06)
    wb.save(edited)  # openpyxl drops every cached value here
    before = load_workbook(edited, keep_vba=True)
    names_before = sorted(before.defined_names)
    dv_before = sum(len(ws.data_validations.dataValidation) for ws in before.worksheets)
    with zipfile.ZipFile(edited) as zf:
        vba_before = zf.read("xl/vbaProject.bin")
        parts_before = {n: zf.read(n) for n in zf.namelist()}

    assert main(["recalc", str(edited)]) == 0
    assert (tmp_path / "edited.xlsm.bak").exists()
    with zipfile.ZipFile(edited) as zf:
        assert zf.read("xl/vbaProject.bin") == vba_before
        for name, blob in parts_before.items():
            if name.startswith("xl/charts/chart"):
                # a chart's caches follow the values it draws; nothing else of it changes
                strip = lambda b: re.sub(rb"<(\w+:)?(num|str)Cache>.*?</(\w+:)?(num|str)Cache>", b"",
                                         b, flags=re.S)
                assert strip(zf.read(name)) == strip(blob), f"{name} changed"
            elif not name.startswith("xl/worksheets/sheet"):
                assert zf.read(name) == blob, f"{name} changed"
    after = load_workbook(edited, keep_vba=True)
    assert sorted(after.defined_names) == names_before
    assert sum(len(ws.data_validations.dataValidation) for ws in after.worksheets) == dv_before
    res = evaluate(load_defaults().with_overrides({"power_price_usd_per_kwh": 0.06}))
    cached = cached_values(edited)
    per_hour = [v for (s, ref), v in cached.items() if s == "Calc"]
    assert any(close(v, res.gpu_costs["gpu_hour_usd"].iloc[0]) for v in per_hour
               if isinstance(v, float))


def test_recalc_command_on_a_missing_file(tmp_path, capsys):
    from tokencost.cli import main
    assert main(["recalc", str(tmp_path / "nope.xlsm")]) == 2
    assert "no such file" in capsys.readouterr().err
