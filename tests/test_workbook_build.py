"""The generated workbook, checked without a spreadsheet engine."""
from __future__ import annotations

import shutil
import zipfile

import pytest
from openpyxl import load_workbook

from tokencost.inputs.datasets import load_defaults
from tokencost.analysis.model import evaluate
from tokencost.workbook.spec import REPO_ROOT, TEMPLATES_DIR
from tokencost.workbook.build import build
from tokencost.workbook.udf_native import udf_names
from tokencost.workbook.formula import (FORBIDDEN_FUNCTIONS, PORTABLE_FUNCTIONS, Evaluator,
                                        functions_used, tokenize)

from workbook_helpers import cached_values, close, formula_cells, formula_cells_without_value

INPUT_TABLES = ["Hardware", "CostComponents", "Models", "Prices", "Subscriptions"]
#: numbers a formula may contain: universal constants only (FAST / ICAEW practice)
UNIVERSAL_CONSTANTS = {0.0, 1.0, 12.0, 100.0, 1000.0, 3600.0, 1000000.0}


@pytest.fixture(scope="module")
def main_book(built_book):
    return built_book


@pytest.fixture(scope="module")
def seed_book(tmp_path_factory):
    return build(tmp_path_factory.mktemp("seed") / "seed.xlsx", template="seed", backup=False)


def test_macro_enabled_with_xlwings_module_and_conf(main_book):
    with zipfile.ZipFile(main_book) as zf:
        names = zf.namelist()
        assert "xl/vbaProject.bin" in names
        content_types = zf.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in content_types
    wb = load_workbook(main_book, keep_vba=True)
    conf = wb["xlwings.conf"]
    settings = {row[0].value: row[1].value for row in conf.iter_rows(max_col=2)}
    assert settings["UDF Modules"] == "tokencost.excel.udfs"
    assert "_xlwings.conf" not in wb.sheetnames


def test_sheets_have_roles_and_input_tables(main_book):
    wb = load_workbook(main_book)
    assert wb.sheetnames[:3] == ["Cover", "Dashboard", "Hardware"]
    for name in ("Calc", "Outputs", "Checks"):
        assert name in wb.sheetnames
    tables = {t for ws in wb.worksheets for t in ws.tables}
    assert set(INPUT_TABLES) <= tables
    colours = {ws.title: ws.sheet_properties.tabColor.rgb[-6:] for ws in wb.worksheets
               if ws.sheet_properties.tabColor is not None}
    assert colours["Hardware"] == colours["Prices"] != colours["Calc"] != colours["Outputs"]


def test_input_cells_styled_and_validated(main_book):
    wb = load_workbook(main_book)
    for table_name in INPUT_TABLES:
        ws = next(w for w in wb.worksheets if table_name in w.tables)
        table = ws.tables[table_name]
        first_data = ws[table.ref.split(":")[0]].row + 1
        header_row = first_data - 1
        headers = [c.value for c in ws[header_row] if c.value]
        assert "source" in headers
        unit_row = [c.value for c in ws[header_row - 1]]
        assert all(unit_row[i] for i in range(len(headers))), f"{table_name}: every column has a unit"
        for j, header in enumerate(headers, start=1):
            cell = ws.cell(first_data, j)
            if header != "source":
                assert cell.style == "input", f"{table_name}.{header} is styled as an input"
        validated = set()
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                validated.add(rng.min_col)
        for j, header in enumerate(headers, start=1):
            if header not in ("source", "description", "architecture", "provider", "model", "plan",
                              "gpu") or header == "gpu" and table_name != "Hardware":
                assert j in validated, f"{table_name}.{header} has data validation"


def test_every_formula_has_a_cached_value(main_book, seed_book):
    for book in (main_book, seed_book):
        assert formula_cells(book), "the workbook has formulas"
        assert formula_cells_without_value(book) == []


def test_formulas_are_portable_and_carry_no_typed_numbers(main_book, seed_book):
    for book in (main_book, seed_book):
        for (sheet, ref), formula in formula_cells(book).items():
            used = functions_used(formula)
            if sheet == "Functions" and used & udf_names():
                # the one place a Python function is called: an example, alone in its cell
                assert len(used) == 1 and formula.startswith(f"={used.pop()}("), formula
                continue
            assert not used & FORBIDDEN_FUNCTIONS, f"{sheet}!{ref} uses {used & FORBIDDEN_FUNCTIONS}"
            assert used <= PORTABLE_FUNCTIONS, f"{sheet}!{ref} uses {used - PORTABLE_FUNCTIONS}"
            if sheet == "Checks" and ref.startswith("B") and "Tolerance" not in formula:
                pass
            numbers = {float(v) for kind, v in tokenize(formula[1:]) if kind == "number"}
            assert numbers <= UNIVERSAL_CONSTANTS, f"{sheet}!{ref} types {numbers} into {formula}"


def test_one_formula_per_calc_column(main_book):
    """FAST: every row of a calculation block uses the same formula (R1C1-equivalent)."""
    import re
    wb = load_workbook(main_book)
    ws = wb["Calc"]
    by_column = {}
    for row in ws.iter_rows(min_row=5):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                relative = re.sub(r"(?<![A-Z$])(\$?[A-Z]{1,3})(\$?)(\d+)",
                                  lambda m: f"{m.group(1)}{m.group(2)}R" if not m.group(2)
                                  else m.group(0), cell.value)
                by_column.setdefault((cell.column, _block_of(ws, cell.row)), set()).add(relative)
    assert by_column
    for key, shapes in by_column.items():
        assert len(shapes) == 1, f"column {key}: {shapes}"


def _block_of(ws, row):
    r = row
    while r > 1 and ws.cell(r, 1).style != "header":
        r -= 1
    return r


def test_cached_outputs_equal_the_core(main_book):
    res = evaluate(load_defaults())
    values = cached_values(main_book)
    wb = load_workbook(main_book)
    ws = wb["Outputs"]
    found = {}
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                found.setdefault(cell.column, []).append(cell.coordinate)
    # locate the model and price blocks by their header text
    def column_values(header):
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == header and cell.style == "header":
                    out = []
                    r = cell.row + 1
                    while ws.cell(r, cell.column).value is not None and r < cell.row + 40:
                        out.append(values[("Outputs", ws.cell(r, cell.column).coordinate)])
                        r += 1
                    return [v for v in out if v not in ("", None)]
        raise KeyError(header)
    assert all(close(a, b) for a, b in zip(column_values("Cost per MTok at that utilization"),
                                           res.model_costs["cost_usd_per_mtok"]))
    assert all(close(a, b) for a, b in zip(column_values("Markup"), res.markups["markup"]))
    assert all(close(a, b) for a, b in zip(column_values("Total per GPU-month"),
                                           res.gpu_costs["total_usd_per_month"]))
    assert all(close(a, b) for a, b in zip(column_values("Profit at hardware cost"),
                                           res.subscriptions["profit_usd_per_month"]))
    assert len(column_values("Markup")) == len(res.markups) == 5
    assert values[("Checks", "B6")] == 0 or any(
        v == 0 for (s, _), v in values.items() if s == "Checks")
    assert values[("Outputs", "A2")] == "Master check: OK"


def test_two_builds_are_identical(tmp_path):
    a = build(tmp_path / "a.xlsm", backup=False)
    b = build(tmp_path / "b.xlsm", backup=False)
    assert a.read_bytes() == b.read_bytes()
    assert not any(isinstance(v, type(__import__("datetime").datetime.now()))
                   for v in cached_values(a).values())


def test_committed_workbook_is_the_build_output(tmp_path):
    """Fails when tokencost.xlsm is stale: run `tokencost build` and commit it."""
    committed = REPO_ROOT / "tokencost.xlsm"
    assert committed.exists(), "tokencost.xlsm is missing: run `tokencost build`"
    fresh = build(tmp_path / "tokencost.xlsm", backup=False)
    with zipfile.ZipFile(committed) as old, zipfile.ZipFile(fresh) as new:
        assert sorted(old.namelist()) == sorted(new.namelist())
        for name in new.namelist():
            assert old.read(name) == new.read(name), f"{name} differs: rebuild tokencost.xlsm"


def test_build_keeps_a_backup_and_writes_atomically(tmp_path):
    target = tmp_path / "book.xlsm"
    target.write_bytes(b"analyst's previous file")
    build(target)
    assert (tmp_path / "book.xlsm.bak").read_bytes() == b"analyst's previous file"
    assert zipfile.is_zipfile(target)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_template_change_needs_no_python_change(tmp_path):
    """Add a calculation column and a whole sheet by editing the template only."""
    text = (TEMPLATES_DIR / "main.toml").read_text()
    text = text.replace('''[[sheets.blocks]]
kind = "slots"
name = "Calc_Models"''', '''[[sheets.blocks.columns]]
key = "power_share"
unit = "share"
formula = "=IF({total_usd_per_month}>0,{power_usd_per_month}/{total_usd_per_month},0)"

[[sheets.blocks]]
kind = "slots"
name = "Calc_Models"''', 1)
    text += '''
[[sheets]]
name = "Notes"
role = "control"
[[sheets.blocks]]
kind = "grid"
rows = [["Power share of the first GPU's cost", "=Calc!S8"]]
'''
    path = tmp_path / "custom.toml"
    path.write_text(text)
    shutil.copytree(TEMPLATES_DIR / "parts", tmp_path / "parts")   # parts sit beside the template
    book = build(tmp_path / "custom.xlsm", template=str(path), backup=False)
    values = cached_values(book)
    res = evaluate(load_defaults()).gpu_costs.iloc[0]
    share = res["power_usd_per_month"] / res["total_usd_per_month"]
    assert "Notes" in load_workbook(book).sheetnames
    assert close(values[("Notes", "B5")], share)


def test_evaluator_basics():
    cells = {("S", 1, 1): 2.0, ("S", 2, 1): "=A1*3", ("S", 3, 1): '=IF(A2>5,"big","small")',
             ("S", 4, 1): "=-PMT(0,36,30000)", ("S", 5, 1): "=IFERROR(MATCH(7,A1:A2,0),0)",
             ("S", 6, 1): "=1/0", ("S", 7, 1): '=COUNTIF(A1:A2,">=2")'}
    ev = Evaluator(cells, {}, {})
    assert ev.value("S", 2, 1) == 6.0
    assert ev.value("S", 3, 1) == "big"
    assert ev.value("S", 4, 1) == pytest.approx(30000 / 36, rel=1e-12)
    assert ev.value("S", 5, 1) == 0
    assert ev.value("S", 6, 1) == "#DIV/0!"
    assert ev.value("S", 7, 1) == 2.0



def test_evaluator_fixed_and_text_that_looks_like_a_formula():
    from tokencost.workbook.formula import Text
    cells = {("S", 1, 1): 1234567.5, ("S", 2, 1): "=FIXED(A1,0)", ("S", 3, 1): "=FIXED(A1)",
             ("S", 4, 1): "=FIXED(-0.125,2,TRUE)", ("S", 5, 1): Text("=2+3"), ("S", 6, 1): "=A5"}
    ev = Evaluator(cells, {}, {})
    assert ev.value("S", 2, 1) == "1,234,568"        # half away from zero, as Excel rounds
    assert ev.value("S", 3, 1) == "1,234,567.50"
    assert ev.value("S", 4, 1) == "-0.13"
    assert ev.value("S", 6, 1) == "=2+3"              # text, not evaluated as a formula


def test_evaluator_refuses_unsupported_functions():
    from tokencost.workbook.formula import FormulaError
    ev = Evaluator({("S", 1, 1): "=XLOOKUP(1,A2:A3,B2:B3)"}, {}, {})
    with pytest.raises(FormulaError, match="XLOOKUP"):
        ev.value("S", 1, 1)


def test_cli_build_and_list(tmp_path, capsys):
    from tokencost.cli import main
    assert main(["build", "--list"]) == 0
    assert {"main", "seed"} <= set(capsys.readouterr().out.split())
    out = tmp_path / "x.xlsm"
    assert main(["build", "--output", str(out)]) == 0
    assert out.exists()
    assert main(["build", "--template", "nope", "--output", str(tmp_path / "y.xlsx")]) == 2
    assert "no template 'nope'" in capsys.readouterr().err


def test_named_profile_choices_are_dropdowns_of_the_models_table(main_book):
    wb = load_workbook(main_book)
    for name in ("Sens_Model", "Dep_Model", "Frontier_Profile"):
        (sheet, ref), = wb.defined_names[name].destinations
        ref = ref.replace("$", "")
        lists = [dv for dv in wb[sheet].data_validations.dataValidation
                 if dv.type == "list" and ref in dv.sqref]
        assert [dv.formula1 for dv in lists] == ["List_Models_model"], name
    assert wb.defined_names["List_Models_model"].attr_text == "Models[model]"
