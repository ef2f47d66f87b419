"""The investment case in the workbook (#15): LifecycleInputs, the Lifecycle timeline (time
across columns, one formula per row) and the Investment summary, recalculated by LibreOffice
and compared with the core (rel 1e-9), for the defaults and after an analyst's edit made and
saved by LibreOffice itself."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from tokencost.analysis import lifecycle as life
from tokencost.inputs.datasets import read_raw_tables
from tokencost.inputs.validate import prepare
from tokencost.workbook.libreoffice import recalculated_values
from tokencost.workbook.read import read_inputs, read_named_values

from workbook_helpers import close, uno

#: Lifecycle row label -> the core's monthly key
ROWS = {"GPUs online": "gpus_online", "GPUs delivered": "gpus_delivered", "Utilization": "utilization",
        "Output tokens": "output_mtok", "Input tokens (uncached)": "input_mtok",
        "Cached input tokens": "cached_input_mtok", "Revenue": "revenue_usd", "Power": "power_usd",
        "Staff/ops": "staff_usd", "Opex": "opex_usd", "EBITDA": "ebitda_usd",
        "Depreciation (straight line from delivery)": "depreciation_usd", "EBIT": "ebit_usd",
        "Capex (at delivery)": "capex_usd", "Residual value (last month)": "residual_usd",
        "Net cash flow": "net_cash_usd", "Cumulative cash": "cumulative_cash_usd",
        "Discount factor (end of month)": "discount_factor"}
#: Investment summary name -> the core's summary key
SUMMARY = {"Life_NPV": "npv_usd", "Life_IRR_Annual": "irr_annual", "Life_Payback_Month": "payback_month",
           "Life_Lifetime_Cost_Per_MTok": "lifetime_cost_usd_per_mtok",
           "Life_Lifetime_Cost_Per_Output_MTok": "lifetime_cost_usd_per_output_mtok",
           "Life_Levelized_Cost_Per_MTok": "levelized_cost_usd_per_mtok",
           "Life_Min_Cumulative_Cash": "min_cumulative_cash_usd"}
FIRST_MONTH_COL = 4   # column D (tokencost.workbook.build.timeline.FIRST_PERIOD_COL)
MONTHS = 120


@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


def timeline_rows(book) -> dict:
    """{label: row number} of the Lifecycle timeline."""
    ws = load_workbook(book)["Lifecycle"]
    out = {}
    for r in range(1, ws.max_row + 1):
        label = ws.cell(r, 1).value
        if isinstance(label, str) and isinstance(ws.cell(r, FIRST_MONTH_COL).value, str) \
                and ws.cell(r, FIRST_MONTH_COL).value.startswith("="):
            out[label] = r
    return out


def named_cells(book) -> dict:
    """{defined name: (sheet, "B7")} of the book's single-cell names."""
    wb = load_workbook(book)
    out = {}
    for name, dn in wb.defined_names.items():
        m = re.match(r"^'?([^'!]+)'?!\$([A-Z]+)\$(\d+)$", dn.attr_text)
        if m:
            out[name] = (m.group(1), f"{m.group(2)}{m.group(3)}")
    return out


def core_case(raw, book=None):
    """The core's timeline and summary for the inputs *raw* and the book's LifecycleInputs."""
    inputs = prepare(raw)
    overrides = {}
    if book is not None:
        overrides = {k: v for k, (v, _where) in read_named_values(book, "LifeIn_").items()}
    return life.run(inputs, overrides=overrides)


def assert_book_equals_core(values, book, result, rel=1e-9):
    months, summary = result["months"], result["summary"]
    rows = timeline_rows(book)
    assert set(ROWS) <= set(rows), set(ROWS) - set(rows)
    horizon = int(round(summary["horizon_months"].iloc[0])) if "horizon_months" in summary else MONTHS
    checked = 0
    for label, key in ROWS.items():
        r = rows[label]
        expected = months[key].to_numpy(dtype=float)
        flows = (key.endswith(("_usd", "_mtok")) or key.startswith("gpus_")) and key != "cumulative_cash_usd"
        for m in range(MONTHS):
            got = values["Lifecycle"].get(f"{get_column_letter(FIRST_MONTH_COL + m)}{r}")
            if m >= len(expected) and not flows:
                continue          # a rate after the horizon: shown grey, not used
            want = expected[m] if m < len(expected) else 0.0   # after the horizon: 0
            assert close(float(got or 0.0), float(want), rel), (label, m + 1, got, want)
            checked += 1
    cells = named_cells(book)
    for name, key in SUMMARY.items():
        sheet, ref = cells[name]
        got = values[sheet].get(ref)
        want = summary[key].iloc[0]
        if want is None or (isinstance(want, float) and math.isnan(want)):
            assert isinstance(got, str), (name, got)      # a message, never a number
        else:
            assert close(got, float(want), rel), (name, got, want)
    return checked, horizon


def test_every_timeline_row_is_one_formula_across_the_months(built_book):
    ws = load_workbook(built_book)["Lifecycle"]
    rows = timeline_rows(built_book)
    assert len(rows) >= 25
    for label, r in rows.items():
        shapes = set()
        for m in range(MONTHS):
            cell = ws.cell(r, FIRST_MONTH_COL + m)
            relative = re.sub(r"(?<![A-Z$])(\$?)([A-Z]{1,3})(\$?\d+)",
                              lambda x: x.group(0) if x.group(1) else
                              f"C[{column_index_from_string(x.group(2)) - cell.column}]{x.group(3)}",
                              cell.value)
            shapes.add(relative)
        assert len(shapes) == 1, (label, sorted(shapes)[:3])
    assert ws.cell(rows["Month"], FIRST_MONTH_COL + MONTHS).value is None   # 120 months, no more


def test_built_book_equals_the_core_cached_and_in_libreoffice(built_book, built_cached,
                                                              built_recalculated):
    result = core_case(read_raw_tables(), built_book)
    cached = {}
    for (sheet, ref), value in built_cached.items():
        cached.setdefault(sheet, {})[ref] = value
    checked, _ = assert_book_equals_core(cached, built_book, result)        # the file's cache
    assert checked >= len(ROWS) * 60
    assert_book_equals_core(built_recalculated, built_book, result)        # LibreOffice
    assert built_recalculated["Checks"]["A2"] == "Master check: OK"
    # the default case pays back within its horizon and has an IRR
    summary = result["summary"]
    assert 1 <= summary["payback_month"].iloc[0] <= 60
    assert np.isfinite(summary["irr_annual"].iloc[0])


def test_an_analysts_edit_saved_by_libreoffice_equals_the_core(built_book, tmp_path):
    """Through LibreOffice's own API: a 7-year case for Claude Opus 4.8 on the coding-agent
    workload, a 10 % residual value, 24-month ramp, then the same fleet rented at $2.10/GPU-hour;
    each time the book is read by tokencost (its LifecycleInputs cells) and compared with the core."""
    cells = named_cells(built_book)
    edits = {"LifeIn_price_row": "Claude Opus 4.8", "LifeIn_workload": "coding agent",
             "LifeIn_horizon_years": 7, "LifeIn_deployment_ramp_months": 24,
             "LifeIn_residual_value_share": 0.1, "LifeIn_throughput_gain_per_year": 0.35,
             "LifeIn_price_change_output_per_year": -0.45}
    saved = tmp_path / "analyst.xlsx"
    steps = [{"op": "open", "path": str(built_book)}]
    steps += [{"op": "set", "sheet": cells[n][0], "cell": cells[n][1], "value": v} for n, v in edits.items()]
    steps += [{"op": "save", "path": str(saved), "filter": "Calc MS Excel 2007 XML"}, {"op": "close"}]
    uno(steps)
    values = recalculated_values(saved)
    read = read_named_values(saved, "LifeIn_")
    assert read["price_row"][0] == "Claude Opus 4.8" and read["horizon_years"][0] == 7
    result = core_case(read_raw_tables(), saved)
    assert_book_equals_core(values, saved, result)
    assert values["Checks"]["A2"] == "Master check: OK"
    # still owned: capex paid as the GPUs arrive over the 24-month ramp
    assert result["months"]["capex_usd"].iloc[:24].gt(0).all()
    # and a rented fleet, through the same edit path
    steps = [{"op": "open", "path": str(saved)},
             {"op": "set", "sheet": cells["LifeIn_rent_usd_per_gpu_hour"][0],
              "cell": cells["LifeIn_rent_usd_per_gpu_hour"][1], "value": 2.1},
             {"op": "save", "path": str(saved), "filter": "Calc MS Excel 2007 XML"}, {"op": "close"}]
    uno(steps)
    values = recalculated_values(saved)
    result = core_case(read_raw_tables(), saved)
    assert_book_equals_core(values, saved, result)
    assert result["months"]["capex_usd"].sum() == 0 and result["months"]["rent_usd"].sum() > 0


def test_bad_lifecycle_inputs_show_on_checks(built_book, tmp_path):
    """A ramp longer than the horizon and an availability above 1: the master check counts
    them (LibreOffice), and the core refuses the same inputs with a message naming them."""
    cells = named_cells(built_book)
    saved = tmp_path / "bad.xlsx"
    steps = [{"op": "open", "path": str(built_book)},
             {"op": "set", "sheet": cells["LifeIn_deployment_ramp_months"][0],
              "cell": cells["LifeIn_deployment_ramp_months"][1], "value": 90},
             {"op": "set", "sheet": cells["LifeIn_availability"][0],
              "cell": cells["LifeIn_availability"][1], "value": 1.2},
             {"op": "save", "path": str(saved), "filter": "Calc MS Excel 2007 XML"}, {"op": "close"}]
    uno(steps)
    values = recalculated_values(saved)
    assert values["Checks"]["A2"].startswith("Master check: 2 error")
    from tokencost.errors import InputError
    for name, value in (("deployment_ramp_months", 90), ("availability", 1.2)):
        with pytest.raises(InputError, match=name):
            life.run(prepare(read_raw_tables()), overrides={name: value})


def test_the_reader_finds_the_inputs_by_name_wherever_they_are(built_book):
    read = read_named_values(built_book, "LifeIn_")
    import csv
    from tokencost.inputs.datasets import DATA_DIR
    rows = list(csv.DictReader(open(DATA_DIR / "lifecycle.csv", encoding="utf-8")))
    assert set(read) == {r["name"] for r in rows}
    for r in rows:
        value, where = read[r["name"]]
        assert where.startswith("LifecycleInputs!B")
        if r["value"] == "":
            assert value is None
        else:
            try:
                assert value == float(r["value"])
            except ValueError:
                assert value == r["value"]
    read_inputs(built_book)   # the book still reads as a whole


def test_chart_cache_never_holds_more_points_than_the_range():
    """A flags row whose cells say more months than the timeline holds (a file whose
    caches are wrong, or a flag an analyst typed over) must not make the chart cache
    read past the name's range (the rebuilt cache keeps the range's cells)."""
    from tokencost.workbook.charts import name_values
    names = {"chart_x": "Lifecycle!$D$9:INDEX(Lifecycle!$D$9:$DS$9,Life_months)",
             "life_months": "MAX(1,SUM(Lifecycle!$D$5:$DS$5))",
             "chart_y": "Sheet!$B$7:INDEX(Sheet!$B$7:$B$16,Rows_used)",
             "rows_used": "MAX(1,SUM(Sheet!$A$7:$A$16))"}
    seen = []

    def value_of(sheet, ref):
        seen.append(ref)
        return 12345.0
    assert len(name_values("Chart_X", names, value_of)) == 120
    assert "DS9" in seen and "DT9" not in seen
    seen.clear()
    assert len(name_values("Chart_Y", names, value_of)) == 10
    assert "B16" in seen and "B17" not in seen


def test_the_case_takes_a_scenario_tabs_overrides(built_book, tmp_path):
    """Through LibreOffice's own API an analyst names the scenario tab subsidized_power on
    LifecycleInputs and types, on that tab, 3 input tokens per output token: the Lifecycle
    sheet then reads the tab's re-derived GPU costs, prices and workload mix, equal to the
    core run on the book's inputs with the same scenario (rel 1e-9); the NPV moves. A name
    that is no scenario tab turns the master check red and is refused by the core."""
    from tokencost.workbook.edit.scenarios import _main_template, prototype_layout
    cells = named_cells(built_book)
    ratio_row = prototype_layout(_main_template()).override_rows["input_tokens_per_output_token"]
    saved = tmp_path / "scenario.xlsx"
    steps = [{"op": "open", "path": str(built_book)},
             {"op": "set", "sheet": cells["LifeIn_scenario"][0], "cell": cells["LifeIn_scenario"][1],
              "value": "subsidized_power"},
             {"op": "set", "sheet": "subsidized_power", "cell": f"B{ratio_row}", "value": 3},
             {"op": "save", "path": str(saved), "filter": "Calc MS Excel 2007 XML"}, {"op": "close"}]
    uno(steps)
    values = recalculated_values(saved)
    assert values["Checks"]["A2"] == "Master check: OK"
    inputs = read_inputs(saved)
    overrides = {k: v for k, (v, _where) in read_named_values(saved, "LifeIn_").items()}
    assert overrides["scenario"] == "subsidized_power"
    result = life.run(inputs, overrides=overrides)
    assert result["parameters"]["power_price_usd_per_kwh"] == 0.06
    assert result["parameters"]["input_tokens_per_output_token"] == 3
    assert_book_equals_core(values, saved, result)
    base = life.run(inputs, overrides={**overrides, "scenario": ""})
    assert base["summary"]["npv_usd"].iloc[0] != result["summary"]["npv_usd"].iloc[0]
    # a name that is no scenario tab
    bad = tmp_path / "no_tab.xlsx"
    uno([{"op": "open", "path": str(saved)},
         {"op": "set", "sheet": cells["LifeIn_scenario"][0], "cell": cells["LifeIn_scenario"][1],
          "value": "no such tab"},
         {"op": "save", "path": str(bad), "filter": "Calc MS Excel 2007 XML"}, {"op": "close"}])
    assert recalculated_values(bad)["Checks"]["A2"].startswith("Master check: 1 error")
    from tokencost.errors import InputError
    with pytest.raises(InputError, match="unknown scenario 'no such tab'; known: subsidized_power"):
        life.run(read_inputs(bad), overrides={"scenario": "no such tab"})
