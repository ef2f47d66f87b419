"""Scenario tabs: build-time examples, `tokencost scenario add/list/remove`, the Scenarios
sheet, a tab copied by hand, and LibreOffice's recalculation against the core.

Two LibreOffice conversions for the module (the workbook after `scenario add`, and the
same book edited by hand: a copied tab, a name that is no tab, two invalid overrides);
tolerance: relative 1e-9 (``workbook_helpers.close``).
"""
from __future__ import annotations

import re
import shutil
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tokencost.cli import main
from tokencost.inputs.datasets import load_defaults
from tokencost.errors import InputError, WorkbookError
from tokencost.analysis.model import evaluate
from tokencost.analysis.token_prices import MIX_VIEW
from tokencost.workbook.formula import functions_used, tokenize
from tokencost.workbook.libreoffice import LibreOfficeError, recalculated_values, soffice_path
from tokencost.workbook.udf_native import udf_names
from tokencost.inputs.schema import overridable_inputs
from tokencost.workbook import read as reader
from tokencost.workbook.build.scenario_tabs import BOUNDS, TAB_FILE
from tokencost.workbook.edit.scenarios import (_main_template, add_scenario, list_scenarios, name_problem,
                                              prototype_layout, remove_scenario)

from workbook_helpers import cached_values, close, formula_cells, formula_cells_without_value, uno

EXAMPLES = {"subsidized_power": {"power_price_usd_per_kwh": 0.06},
            "depreciation_5y": {"depreciation_years": 5.0}}
ADDED = "mix"
ADDED_OVERRIDES = {"power_price_usd_per_kwh": 0.05, "utilization": 0.8, "rd_usd_per_mtok": 3.0}
UNIVERSAL_CONSTANTS = {0.0, 1.0, 12.0, 100.0, 1000.0, 3600.0, 1000000.0}

#: (base block, column on the tab, core table, core column)
OUTPUTS = [("Calc_GPU", "total_usd_per_month", "gpu_costs", "total_usd_per_month"),
           ("Calc_GPU", "gpu_hour_usd", "gpu_costs", "gpu_hour_usd"),
           ("Calc_Models", "cost_usd_per_mtok", "model_costs", "cost_usd_per_mtok"),
           ("Calc_Prices", "markup", "markups", "markup"),
           ("Calc_Subs", "profit_usd_per_month", "subscriptions", "profit_usd_per_month"),
           ("Calc_Subs", "profit_with_rd_usd_per_month", "subscriptions",
            "profit_with_rd_usd_per_month")]
#: Scenarios sheet section header -> core table, column
SECTIONS = {"Total per GPU-month": ("gpu_costs", "total_usd_per_month"),
            "Per GPU-hour": ("gpu_costs", "gpu_hour_usd"),
            "Cost per MTok, by model profile": ("model_costs", "cost_usd_per_mtok"),
            "Markup (list price / cost)": ("markups", "markup"),
            "Subscription profit at hardware cost": ("subscriptions", "profit_usd_per_month"),
            "Subscription profit with R&D add-on": ("subscriptions", "profit_with_rd_usd_per_month")}


def core(overrides=None):
    return evaluate(load_defaults().with_overrides(overrides or {}))


@pytest.fixture(scope="module")
def proto():
    return prototype_layout(_main_template())


@pytest.fixture(scope="module")
def book(built_book):
    return built_book


@pytest.fixture(scope="module")
def added(book, tmp_path_factory):
    path = tmp_path_factory.mktemp("added") / "book.xlsm"
    shutil.copy(book, path)
    add_scenario(path, ADDED, ADDED_OVERRIDES)
    return path


@pytest.fixture(scope="module")
def added_lo(added):
    try:
        soffice_path()
    except LibreOfficeError as err:
        pytest.fail(str(err))
    return recalculated_values(added)


def tab_column(get, sheet, proto, base, key, n):
    """The first *n* slot values of column *key* of block *base* on scenario tab *sheet*."""
    layout = proto.blocks[base]
    col = layout.columns[key]
    return [get(sheet, f"{get_column_letter(col)}{layout.first_row + i}") for i in range(n)]


def assert_tab_equals_core(get, sheet, proto, overrides):
    res = core(overrides)
    for base, key, table, column in OUTPUTS:
        expected = list(getattr(res, table)[column])
        got = tab_column(get, sheet, proto, base, key, len(expected))
        assert all(close(a, b) for a, b in zip(got, expected)), (sheet, key, got, expected)


def summary_columns(book_path, get, headers=SECTIONS):
    """{section header: {scenario name or "Base": [values of active rows]}} for the
    sections whose header (before its unit) is one of *headers*."""
    ws = load_workbook(book_path)["Scenarios"]
    out = {}
    for row in ws.iter_rows():
        head = row[0].value
        if isinstance(head, str) and head.split(" [")[0] in headers and row[1].value == "Base":
            names = {"Base": 2}
            names_row = int(re.search(r"\$(\d+)", ws.cell(row[0].row, 3).value).group(1))
            for c in range(3, ws.max_column + 1):
                name = ws.cell(names_row, c).value
                if name:
                    names[name] = c
            section = {}
            for name, c in names.items():
                values, r = [], row[0].row + 1
                while ws.cell(r, 1).value is not None:
                    v = get("Scenarios", ws.cell(r, c).coordinate)
                    if v not in ("", None):
                        values.append(v)
                    r += 1
                section[name] = values
            out[head.split(" [")[0]] = section
    return out


# ------------------------------------------------------------------ build time

def test_build_ships_the_example_scenarios_with_core_values(book, proto):
    wb = load_workbook(book)
    names = wb.sheetnames
    assert names.index("Scenarios") < names.index("subsidized_power") < names.index("depreciation_5y") \
        < names.index("Checks")
    values = cached_values(book)
    get = lambda sheet, ref: values[(sheet, ref)]
    for sheet, overrides in EXAMPLES.items():
        assert_tab_equals_core(get, sheet, proto, overrides)
    # the seed's subsidized-power figures: $1.88/GPU-hour, $1.31 and $0.21 per MTok
    hour = tab_column(get, "subsidized_power", proto, "Calc_GPU", "gpu_hour_usd", 1)[0]
    mtok = tab_column(get, "subsidized_power", proto, "Calc_Models", "cost_usd_per_mtok", 2)
    assert (round(hour, 2), [round(x, 2) for x in mtok]) == (1.88, [1.31, 0.21])
    five = tab_column(get, "depreciation_5y", proto, "Calc_GPU", "total_usd_per_month", 1)[0]
    assert five == pytest.approx(1399.7633333 - 30000 / 36 + 30000 / 60, rel=1e-9)
    summary = summary_columns(book, get)
    for header, (table, column) in SECTIONS.items():
        assert summary[header]["Base"] == pytest.approx(list(getattr(core(), table)[column]), rel=1e-9)
        for sheet, overrides in EXAMPLES.items():
            expected = list(getattr(core(overrides), table)[column])
            assert summary[header][sheet] == pytest.approx(expected, rel=1e-9), (header, sheet)


def test_scenario_formulas_are_copy_safe_and_indirect_stays_on_the_summary(book):
    formulas = formula_cells(book)
    for (sheet, ref), formula in formulas.items():
        if sheet in EXAMPLES:
            assert sheet.casefold() not in formula.casefold(), f"{sheet}!{ref} names its own tab"
            # other sheets only through the input tables (structured references) or names
            assert "!" not in formula, f"{sheet}!{ref}: {formula}"
        if "INDIRECT" in functions_used(formula):
            # volatile cells stay few: the Scenarios sheet, and the investment case's column of
            # inputs that reads the scenario tab named on LifecycleInputs (never its months)
            assert sheet == "Scenarios" or (sheet == "Lifecycle" and ref.startswith("B")), \
                f"INDIRECT outside the Scenarios sheet and the Lifecycle case inputs: {sheet}!{ref}"
    assert sum(1 for (s, _), f in formulas.items() if s == "subsidized_power") > 300


def test_one_formula_per_column_on_a_scenario_tab(book, proto):
    ws = load_workbook(book)["depreciation_5y"]
    for base, layout in proto.blocks.items():
        for key, col in layout.columns.items():
            shapes = set()
            for r in range(layout.first_row, layout.first_row + layout.capacity):
                shapes.add(re.sub(r"(?<![A-Z$])([A-Z]{1,3})(\d+)", r"\1R", ws.cell(r, col).value))
            assert len(shapes) == 1, (base, key, shapes)


def test_name_rules():
    assert name_problem("power_0.06", ["Calc"]) is None
    assert "31" in name_problem("x" * 32, [])
    for bad in ("a/b", "a[b]", "a:b", "a*b", "a?b", "a\\b", "it's"):
        assert "cannot contain" in name_problem(bad, []), bad
    assert "already has a sheet named 'Calc'" in name_problem("CALC", ["Calc"])
    assert name_problem("", []) == "a scenario needs a name"


# ------------------------------------------------------------------ scenario add

def test_add_keeps_every_cached_value_and_fills_the_new_ones(book, added, proto):
    before, after = cached_values(book), cached_values(added)
    assert formula_cells_without_value(added) == []
    wb = load_workbook(added)
    assert ADDED in wb.sheetnames
    assert wb.sheetnames.index(ADDED) == wb.sheetnames.index("depreciation_5y") + 1
    names_row = [c.value for c in wb["Scenarios"][9]]
    assert names_row[2:5] == ["subsidized_power", "depreciation_5y", ADDED]
    new_column = "E"   # the third scenario column of the Scenarios sheet
    changed = [(k, before[k], after.get(k)) for k in before
               if not close(before[k], after.get(k))
               and not (k[0] == "Scenarios" and re.match(new_column + r"\d", k[1]))]
    assert changed == []
    get = lambda sheet, ref: after[(sheet, ref)]
    assert_tab_equals_core(get, ADDED, proto, ADDED_OVERRIDES)
    summary = summary_columns(added, get)
    for header, (table, column) in SECTIONS.items():
        expected = list(getattr(core(ADDED_OVERRIDES), table)[column])
        assert summary[header][ADDED] == pytest.approx(expected, rel=1e-9), header
    # new formulas: portable, no typed numbers, copy-safe
    for (sheet, _ref), formula in formula_cells(added).items():
        if sheet == ADDED:
            assert ADDED not in formula and "!" not in formula
            assert {float(v) for k, v in tokenize(formula[1:]) if k == "number"} <= UNIVERSAL_CONSTANTS


def test_add_keeps_a_backup_vba_and_names(book, added):
    assert added.with_name(added.name + ".bak").read_bytes() == book.read_bytes()
    with zipfile.ZipFile(book) as old, zipfile.ZipFile(added) as new:
        assert old.read("xl/vbaProject.bin") == new.read("xl/vbaProject.bin")
    assert set(load_workbook(book).defined_names) <= set(load_workbook(added).defined_names)


def test_libreoffice_recalculates_the_added_scenario_like_the_core(added, added_lo, proto):
    cached = cached_values(added)
    mismatches, errors = [], []
    for (sheet, ref), formula in formula_cells(added).items():
        if functions_used(formula) & udf_names():
            continue  # a Python function: LibreOffice shows #NAME? (test_workbook_functions.py)
        lo = added_lo[sheet].get(ref)
        if isinstance(lo, str) and lo.startswith("#"):
            errors.append((sheet, ref, lo))
        if not close(cached[(sheet, ref)], lo):
            mismatches.append((sheet, ref, cached[(sheet, ref)], lo))
    assert errors == [] and mismatches == []
    get = lambda sheet, ref: added_lo[sheet].get(ref)
    for sheet, overrides in {**EXAMPLES, ADDED: ADDED_OVERRIDES}.items():
        assert_tab_equals_core(get, sheet, proto, overrides)
    # H100 at $0.06/kWh: $1.88 per GPU-hour
    assert round(tab_column(get, "subsidized_power", proto, "Calc_GPU", "gpu_hour_usd", 1)[0], 4) \
        == round(core({"power_price_usd_per_kwh": 0.06}).gpu_costs["gpu_hour_usd"][0], 4)
    assert added_lo["Checks"]["A2"] == "Master check: OK"


def override_rows(ws):
    header = next(r for r in range(1, 40) if ws.cell(r, 1).value == "input name")
    return {ws.cell(r, 1).value: r for r in range(header + 1, header + 30) if ws.cell(r, 1).value}


#: typed (or pasted, which bypasses data validation) into override cells by hand
BAD = {"subsidized_power": ("power_price_usd_per_kwh", "0.05 $"), ADDED: ("utilization", 0)}


@pytest.fixture(scope="module")
def by_hand(added, tmp_path_factory):
    """*added* edited in Excel's way: depreciation_5y copied (Move or Copy keeps formula text as
    is; openpyxl's copy_worksheet does the same) as dep5y_tps_600 with tokens_per_s = 600 and
    named on the Scenarios sheet, a name that is no tab, and the invalid overrides of BAD.
    Returns (path, LibreOffice's recalculated values)."""
    path = tmp_path_factory.mktemp("by_hand") / "copied.xlsm"
    wb = load_workbook(added, keep_vba=True)
    copy = wb.copy_worksheet(wb["depreciation_5y"])
    copy.title = "dep5y_tps_600"
    copy.cell(override_rows(copy)["tokens_per_s"], 2).value = 600
    wb["Scenarios"]["F9"] = "dep5y_tps_600"
    wb["Scenarios"]["G9"] = "no such tab"
    for sheet, (name, value) in BAD.items():
        wb[sheet].cell(override_rows(wb[sheet])[name], 2).value = value
    wb.save(path)
    return path, recalculated_values(path)


def test_a_tab_copied_by_hand_works_once_named_on_the_summary(by_hand, proto):
    path, values = by_hand
    get = lambda sheet, ref: values[sheet].get(ref)
    overrides = {"depreciation_years": 5.0, "tokens_per_s": 600.0}
    assert_tab_equals_core(get, "dep5y_tps_600", proto, overrides)
    summary = summary_columns(path, get)
    for header, (table, column) in SECTIONS.items():
        expected = list(getattr(core(overrides), table)[column])
        assert summary[header]["dep5y_tps_600"] == pytest.approx(expected, rel=1e-9), header
        assert summary[header]["no such tab"] == []
    assert values["Scenarios"]["F10"] == "OK" and values["Scenarios"]["G10"] == "not found"
    listed = {s.name: s for s in list_scenarios(path)}
    assert listed["dep5y_tps_600"].overrides == {"depreciation_years": 5, "tokens_per_s": 600}
    assert listed["dep5y_tps_600"].in_summary and listed["dep5y_tps_600"].invalid == {}


def test_an_invalid_override_is_counted_flagged_and_turns_the_master_check_red(by_hand, proto,
                                                                              capsys, monkeypatch):
    """Text in an override cell (left at the base before) and an override outside its input's
    bounds (utilization 0: every cost 0 before) are counted on their tab; the Scenarios sheet
    says `bad override`, leaves their columns blank, and the master check counts them."""
    path, values = by_hand
    invalid = f"{get_column_letter(proto.invalid[1])}{proto.invalid[0]}"
    assert {s: values[s][invalid] for s in ("subsidized_power", ADDED, "depreciation_5y",
                                            "dep5y_tps_600")} == {
        "subsidized_power": 1, ADDED: 1, "depreciation_5y": 0, "dep5y_tps_600": 0}
    status = {values["Scenarios"][f"{c}9"]: values["Scenarios"][f"{c}10"] for c in "CDEFG"}
    assert status == {"subsidized_power": "bad override", "depreciation_5y": "OK",
                      ADDED: "bad override", "dep5y_tps_600": "OK", "no such tab": "not found"}
    summary = summary_columns(path, lambda sheet, ref: values[sheet].get(ref))
    for header in SECTIONS:
        assert summary[header]["subsidized_power"] == summary[header][ADDED] == [], header
    # the Checks row: 3 names that are not OK (two bad overrides and one missing tab)
    assert values["Checks"]["A2"] == "Master check: 3 error(s), see the Checks sheet"
    listed = {s.name: s for s in list_scenarios(path)}
    assert listed["subsidized_power"].invalid == {"power_price_usd_per_kwh": "not a number"}
    assert listed[ADDED].invalid == {"utilization": "must be in (0, 1]"}
    monkeypatch.setenv("COLUMNS", "200")   # a terminal wide enough for the overrides unwrapped
    assert main(["scenario", "list", str(path)]) == 0
    out = capsys.readouterr().out
    assert "power_price_usd_per_kwh='0.05 $' (not a number)" in out
    assert "power_price_usd_per_kwh=0.05; utilization=0 (must be in (0, 1]); rd_usd_per_mtok=3" in out


def test_each_override_row_carries_its_inputs_schema_bounds(book, proto):
    ws = load_workbook(book)["subsidized_power"]
    known = overridable_inputs()
    assert [ws.cell(proto.marker[0], 6 + j).value for j in range(len(BOUNDS))] == [
        "must be >", "must be >=", "must be <=", "must be <"]
    for name, row in proto.override_rows.items():
        column = known[name].column(name)
        assert [ws.cell(row, 6 + j).value for j in range(len(BOUNDS))] == [
            getattr(column, attr) for attr, _ in BOUNDS], name
    # the reader of `report BOOK` recognises a tab from the same template file
    assert reader.SCENARIO_TAB_FILE == TAB_FILE


# ------------------------------------------------------------------ list, remove, refusals

def test_cli_list(added, capsys):
    assert main(["scenario", "list", str(added), "--format", "json"]) == 0
    import json
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"scenario": "subsidized_power", "overrides": {"power_price_usd_per_kwh": 0.06},
         "invalid_overrides": {}, "on_scenarios_sheet": True},
        {"scenario": "depreciation_5y", "overrides": {"depreciation_years": 5},
         "invalid_overrides": {}, "on_scenarios_sheet": True},
        {"scenario": ADDED, "overrides": ADDED_OVERRIDES, "invalid_overrides": {},
         "on_scenarios_sheet": True}]


@pytest.mark.parametrize("argv", [["list"], ["add", "--name", "x", "--set", "pue=1.2"],
                                  ["remove", "--name", "depreciation_5y"]])
def test_a_backup_file_is_refused_in_one_line(added, tmp_path, capsys, argv):
    """BOOK.xlsm.bak: openpyxl decides the file type by the name and raised a traceback."""
    path = tmp_path / "old.xlsm.bak"
    shutil.copy(added, path)
    original = path.read_bytes()
    assert main(["scenario", argv[0], str(path)] + argv[1:]) == 2
    err = capsys.readouterr().err
    assert "old.xlsm.bak: tokencost changes .xlsx/.xlsm files only" in err and err.count("\n") == 1
    assert path.read_bytes() == original and sorted(p.name for p in tmp_path.iterdir()) == [
        "old.xlsm.bak"]


def test_cli_remove_restores_the_list_and_keeps_other_values(added, tmp_path, capsys):
    path = tmp_path / "rm.xlsm"
    shutil.copy(added, path)
    before = cached_values(path)
    assert main(["scenario", "remove", str(path), "--name", "MIX"]) == 0
    assert "removed scenario tab" in capsys.readouterr().out
    wb = load_workbook(path)
    assert ADDED not in wb.sheetnames
    assert wb["Scenarios"]["E9"].value is None
    after = cached_values(path)
    assert formula_cells_without_value(path) == []
    changed = [k for k in after if not close(before.get(k), after[k])
               and not (k[0] == "Scenarios" and k[1].startswith("E"))]
    assert changed == []
    assert all(after[k] in ("", None) for k in after if k[0] == "Scenarios"
               and re.fullmatch(r"E(1[0-9]|[2-9]\d|\d{3})", k[1]))
    assert [s.name for s in list_scenarios(path)] == list(EXAMPLES)


def test_cli_add_with_output_leaves_the_book_alone(added, tmp_path, capsys):
    path = tmp_path / "in.xlsm"
    shutil.copy(added, path)
    original = path.read_bytes()
    out = tmp_path / "out.xlsm"
    assert main(["scenario", "add", str(path), "--name", "pue_1.1", "--set", "pue=1.1",
                 "--output", str(out)]) == 0
    assert path.read_bytes() == original
    assert not (tmp_path / "in.xlsm.bak").exists()
    assert [s.name for s in list_scenarios(out)][-1] == "pue_1.1"
    assert formula_cells_without_value(out) == []


@pytest.mark.parametrize("argv, message", [
    (["add", "--name", "subsidized_POWER"], "already has a sheet named 'subsidized_power'"),
    (["add", "--name", "a/b"], "cannot contain"),
    (["add", "--name", "x" * 32], "at most 31"),
    (["add", "--name", "x", "--set", "memory_gb=80"], "memory_gb is not used"),
    (["add", "--name", "x", "--set", "no_such=1"], "no_such is not an input name"),
    (["add", "--name", "x", "--set", "utilization=1.5"], "utilization must be in (0, 1]"),
    (["add", "--name", "x", "--set", "pue=abc"], "pue must be a number"),
    (["remove", "--name", "Calc"], "'Calc' is not a scenario tab"),
    (["remove", "--name", "nope"], "no scenario tab named 'nope'"),
])
def test_cli_refusals_are_one_line_and_change_nothing(added, tmp_path, capsys, argv, message):
    path = tmp_path / "book.xlsm"
    shutil.copy(added, path)
    original = path.read_bytes()
    action, rest = argv[0], argv[1:]
    assert main(["scenario", action, str(path)] + rest) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert path.read_bytes() == original
    assert not (tmp_path / "book.xlsm.bak").exists()


def test_remove_refuses_a_tab_another_formula_uses(added, tmp_path):
    path = tmp_path / "ref.xlsm"
    wb = load_workbook(added, keep_vba=True)
    wb["Outputs"]["Z1"] = "='depreciation_5y'!B12*1"
    wb.save(path)
    with pytest.raises(WorkbookError, match=r"Outputs!Z1 refers to sheet 'depreciation_5y'"):
        remove_scenario(path, "depreciation_5y")


def test_the_summary_is_full_at_eight(added, tmp_path):
    path = tmp_path / "full.xlsm"
    wb = load_workbook(added, keep_vba=True)
    for col in "FGHIJ":   # an analyst's names of tabs to come
        wb["Scenarios"][f"{col}9"] = f"planned_{col}"
    wb.save(path)
    original = path.read_bytes()
    with pytest.raises(WorkbookError, match="lists 8 scenarios, its maximum"):
        add_scenario(path, "s9", {})
    with pytest.raises(InputError):
        add_scenario(path, "s9", {"gpus": 2})
    assert path.read_bytes() == original


def test_add_refuses_a_workbook_whose_shapes_a_rewrite_would_lose(book, tmp_path, capsys):
    from fixtures_safety import with_text_box
    path = with_text_box(book, tmp_path / "shapes.xlsm")
    original = path.read_bytes()
    assert main(["scenario", "add", str(path), "--name", "x", "--set", "pue=1.2"]) == 2
    assert "would lose 1 shape or text box" in capsys.readouterr().err
    assert path.read_bytes() == original
    out = tmp_path / "new.xlsm"   # to another file: allowed, with a warning per lost item
    assert main(["scenario", "add", str(path), "--name", "x", "--output", str(out)]) == 0
    assert "does not contain" in capsys.readouterr().err
    assert path.read_bytes() == original and formula_cells_without_value(out) == []


# ------------------------------------------------------------------ token-type overrides (#14)

TOKEN_OVERRIDES = {"price_input_usd_per_mtok": 2.0, "price_cached_input_usd_per_mtok": 0.2,
                   "input_tokens_per_output_token": 5.0, "cache_hit_share": 0.6}


@pytest.fixture(scope="module")
def token_tab(book, tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "book.xlsm"
    shutil.copy(book, path)
    add_scenario(path, "tokens", TOKEN_OVERRIDES)
    return path, recalculated_values(path)


def test_a_tab_overrides_the_token_type_prices_and_the_workload_mix(token_tab, proto):
    """Input and cached prices, input tokens per output token and the cache-hit share are
    overrides like any other (one number for every row of its column, as --set): the
    tab's blended markup for the workload chosen on Outputs equals the core's with the same
    overrides, in LibreOffice's recalculation (and every other cell its cached value)."""
    from tokencost.analysis.report import token_sections
    path, lo = token_tab
    assert all(n in proto.override_rows for n in TOKEN_OVERRIDES)
    workload = load_workbook(path, read_only=True)["Outputs"]
    chosen = next(r[1] for r in workload.iter_rows(values_only=True) if r and r[0] == "Workload")
    get = lambda sheet, ref: lo[sheet].get(ref)

    def blended(overrides):
        inputs = load_defaults().with_overrides(overrides)
        econ = token_sections(inputs, evaluate(inputs))["workload_economics"]
        # no blended figure (a price row without a cost by token type): a blank cell
        return [None if v != v else v for v in econ.loc[econ["workload"] == chosen, "blended_markup"]]

    def sub_mix(overrides):
        """Per plan: the subscription's profit on the chosen workload's mix (None: a plan
        without a price_model, which the workbook leaves blank)."""
        inputs = load_defaults().with_overrides(overrides)
        table = token_sections(inputs, evaluate(inputs))["subscriptions_by_workload"]
        mine = table[(table["view"] == MIX_VIEW) & (table["workload"] == chosen)]
        out = []
        for plan in inputs.subscriptions["plan"]:
            v = mine.loc[mine["plan"] == plan, "profit_usd_per_month"]
            out.append(None if v.empty or v.iloc[0] != v.iloc[0] else float(v.iloc[0]))
        return out

    expected = blended(TOKEN_OVERRIDES)
    got = tab_column(get, "tokens", proto, "Calc_Prices", "blended_markup", len(expected))
    assert all(close(a, b) for a, b in zip(got, expected)), (got, expected)
    assert expected != blended({})          # the overrides move the figure
    # the subscription on the mix is re-derived on the tab (Calc_Subs_Mix) and compared on
    # the Scenarios sheet beside the base
    expected, base = sub_mix(TOKEN_OVERRIDES), sub_mix({})
    assert any(v is not None for v in expected) and expected != base
    got = [None if v in ("", None) else v
           for v in tab_column(get, "tokens", proto, "Calc_Subs_Mix", "profit_usd_per_month",
                               len(expected))]
    assert all((a is None and b is None) or close(a, b) for a, b in zip(got, expected)), (got, expected)
    header = ("Subscription profit on the workload chosen on Outputs (bill split by token type; "
              "blank: no price_model)")
    section = summary_columns(path, get, headers={header})[header]
    assert all(close(a, b) for a, b in zip(section["tokens"], [v for v in expected if v is not None]))
    assert all(close(a, b) for a, b in zip(section["Base"], [v for v in base if v is not None]))
    assert len(section["tokens"]) == len([v for v in expected if v is not None]) > 0
    cached = cached_values(path)
    for (sheet, ref), formula in formula_cells(path).items():
        if not functions_used(formula) & udf_names():
            assert close(cached[(sheet, ref)], lo[sheet].get(ref)), (sheet, ref, formula)
    assert lo["Checks"]["A2"] == "Master check: OK"


def test_an_input_price_typed_below_a_cached_price_is_an_invalid_override(token_tab, proto, tmp_path):
    """The same-row rule (cached <= input) holds on a tab too: an analyst types, in
    LibreOffice, an input price below a row's cached price into the override cell; the
    tab counts it with its invalid overrides and the master check turns red (the CLI
    refuses the same override: tests/test_inputs.py)."""
    path, _ = token_tab
    row = proto.override_rows["price_input_usd_per_mtok"]
    invalid = f"{get_column_letter(proto.invalid[1])}{proto.invalid[0]}"
    steps = [{"op": "open", "path": str(path)},
             {"op": "get", "sheet": "tokens", "cell": invalid},
             {"op": "set", "sheet": "tokens", "cell": f"B{row}", "value": 0.01},
             {"op": "get", "sheet": "tokens", "cell": invalid},
             {"op": "get", "sheet": "Checks", "cell": "A2"},
             {"op": "close"}]
    results = uno(steps)
    before, after, master = float(results[1]), float(results[3]), results[4]
    # the tab's cached override (0.2) now sits above the input price in every price row
    assert (before, after) == (0, len(load_defaults().prices))
    assert master != "Master check: OK"
