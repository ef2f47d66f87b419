"""`tokencost prices import FILE --workbook BOOK`: imported prices appended to the
workbook's Prices table, safely, with every formula's cached value right.

The sample catalog (tests/data/litellm_prices_sample.json) has two chat models
with a per-token output price: claude-test-opus ($25/MTok) and
deepseek/test-flash ($0.42/MTok).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tokencost.cli import main
from tokencost.workbook.spec import REPO_ROOT
from tokencost.workbook.formula import functions_used
from tokencost.workbook.libreoffice import recalculated_values
from tokencost.workbook.read import read_book
from tokencost.workbook.udf_native import udf_names

from workbook_helpers import cached_values, close, formula_cells

SAMPLE = Path(__file__).parent / "data" / "litellm_prices_sample.json"
COMMITTED = REPO_ROOT / "tokencost.xlsm"
NEW = ["claude-test-opus", "deepseek/test-flash"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    book = tmp_path_factory.mktemp("prices") / "book.xlsm"
    shutil.copyfile(COMMITTED, book)
    # exit 1: the sample also holds malformed entries, reported and not imported
    assert main(["prices", "import", str(SAMPLE), "--mode", "chat", "--workbook", str(book),
                 "--cost-basis", "DENSE-70B"]) == 1
    return book


def test_rows_are_appended_to_the_table_with_validation_and_a_backup(imported):
    assert imported.with_name("book.xlsm.bak").read_bytes() == COMMITTED.read_bytes()
    prices = read_book(imported).raw["Prices"]
    assert list(prices["model"])[-2:] == NEW
    assert list(prices["cost_basis"])[-2:] == ["dense-70b", "dense-70b"]   # the profile's spelling
    assert list(prices["price_usd_per_mtok"])[-2:] == [25.0, 0.42]
    wb = load_workbook(imported, keep_vba=True)
    table = wb["Prices"].tables["Prices"]
    last_row = int(table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert wb["Prices"].cell(last_row, 2).value == "deepseek/test-flash"
    covered = [dv for dv in wb["Prices"].data_validations.dataValidation
               if f"D{last_row}" in dv.sqref]                   # the cost_basis dropdown
    assert covered and covered[0].type == "list"
    assert wb["Prices"].cell(last_row, 3).style == wb["Prices"].cell(last_row - 1, 3).style == "input"
    assert "xl/vbaProject.bin" in __import__("zipfile").ZipFile(imported).namelist()


def test_report_and_every_cached_value_follow_the_new_rows(imported, capsys):
    code, out, err = run(capsys, "report", imported, "--format", "json")
    assert code == 0, err
    markups = {r["model"]: r for r in __import__("json").loads(out)["markups"]}
    dense = markups["GPT-5.5"]["cost_usd_per_mtok"]
    assert markups["claude-test-opus"]["markup"] == pytest.approx(25.0 / dense, rel=1e-12)
    assert markups["deepseek/test-flash"]["markup"] == pytest.approx(0.42 / dense, rel=1e-12)
    # LibreOffice recalculates the whole book: every cached value was right (UDF cells aside)
    lo = recalculated_values(imported)
    cached, formulas = cached_values(imported), formula_cells(imported)
    wrong = [(k, cached[k], lo[k[0]].get(k[1])) for k, f in formulas.items()
             if not functions_used(f) & udf_names() and not close(cached[k], lo[k[0]].get(k[1]))]
    assert wrong == []
    outputs = [v for (s, _), v in cached.items() if s == "Outputs"]
    assert "claude-test-opus" in outputs and any(close(v, 25.0 / dense) for v in outputs
                                                 if isinstance(v, float))


def test_a_second_import_appends_nothing_and_changes_nothing(imported, tmp_path, capsys):
    book = tmp_path / "again.xlsm"
    shutil.copyfile(imported, book)
    before = book.read_bytes()
    code, out, _ = run(capsys, "prices", "import", SAMPLE, "--mode", "chat", "--workbook", book,
                       "--cost-basis", "dense-70b")
    assert code == 1
    assert "nothing appended" in out and "claude-test-opus" in out
    assert book.read_bytes() == before and not book.with_name("again.xlsm.bak").exists()


@pytest.mark.parametrize("extra, message", [
    ([], "--workbook needs --cost-basis PROFILE"),
    (["--cost-basis", "no-such-profile"], "--cost-basis must be a model profile of"),
])
def test_cost_basis_is_required_and_checked(tmp_path, capsys, extra, message):
    book = tmp_path / "book.xlsm"
    shutil.copyfile(COMMITTED, book)
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--workbook", book, *extra)
    assert code == 2 and message in err and err.count("\n") == 1
    assert book.read_bytes() == COMMITTED.read_bytes()


def test_refuses_a_workbook_whose_shapes_a_rewrite_would_lose(tmp_path, capsys):
    from fixtures_safety import with_text_box
    book = with_text_box(COMMITTED, tmp_path / "textbox.xlsm")
    before = book.read_bytes()
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--mode", "chat", "--workbook", book,
                       "--cost-basis", "dense-70b")
    assert code == 2 and "would lose" in err and "--output" in err
    assert book.read_bytes() == before


def test_refuses_to_overwrite_cells_under_the_table(tmp_path, capsys):
    book = tmp_path / "busy.xlsm"
    wb = load_workbook(COMMITTED, keep_vba=True)
    ws = wb["Prices"]
    last = int(ws.tables["Prices"].ref.split(":")[1][1:])
    ws.cell(last + 2, 2, "an analyst's note")
    wb.save(book)
    before = book.read_bytes()
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--mode", "chat", "--workbook", book,
                       "--cost-basis", "dense-70b")
    assert code == 2 and f"Prices!B{last + 2}" in err and "not empty" in err
    assert book.read_bytes() == before


def test_options_need_the_workbook(capsys):
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--cost-basis", "dense-70b")
    assert code == 2 and "need --workbook" in err


def test_catalog_text_that_looks_like_a_formula_stays_text(tmp_path, capsys):
    catalog = tmp_path / "hostile.json"
    catalog.write_text('{"=2+3": {"litellm_provider": "=1+1", "mode": "chat", '
                       '"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}, '
                       '"=HYPERLINK(\\"http://x\\",\\"a\\")": {"litellm_provider": "evil", '
                       '"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}')
    book = tmp_path / "book.xlsm"
    shutil.copyfile(COMMITTED, book)
    code, out, err = run(capsys, "prices", "import", catalog, "--workbook", book,
                         "--cost-basis", "dense-70b")
    assert code == 0, err
    ws = load_workbook(book)["Prices"]
    cells = {c.value: c.data_type for row in ws.iter_rows() for c in row if c.value is not None}
    assert cells["=2+3"] == cells["=1+1"] == cells['=HYPERLINK("http://x","a")'] == "s"
    assert list(read_book(book).raw["Prices"]["model"])[-2:] == ["=2+3", '=HYPERLINK("http://x","a")']


def test_an_analysts_formula_on_the_prices_table_keeps_its_value_with_a_warning(tmp_path, capsys):
    """MEDIAN is outside tokencost's evaluator: the cell keeps its old value, the import
    goes on and says which cell needs a recalculation."""
    book = tmp_path / "mine.xlsm"
    wb = load_workbook(COMMITTED, keep_vba=True)
    ws = wb.create_sheet("Mine")
    ws["A3"] = "=MEDIAN(Prices[price_usd_per_mtok])"
    wb.save(book)
    code, out, err = run(capsys, "prices", "import", SAMPLE, "--mode", "chat", "--workbook", book,
                         "--cost-basis", "dense-70b")
    assert code == 1 and "Traceback" not in err          # 1: the sample's malformed entries
    assert "appended 2 price row(s)" in out
    assert "Mine!A3" in err and "tokencost recalc" in err


def test_a_backup_name_is_refused_in_one_line(tmp_path, capsys):
    book = tmp_path / "book.xlsm.bak"
    shutil.copyfile(COMMITTED, book)
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--workbook", book, "--cost-basis",
                       "dense-70b")
    assert code == 2 and "changes .xlsx/.xlsm files only" in err and err.count("\n") == 1


def test_a_symlinked_workbook_is_changed_where_it_lives(tmp_path, capsys):
    real = tmp_path / "real.xlsm"
    shutil.copyfile(COMMITTED, real)
    link = tmp_path / "link.xlsm"
    link.symlink_to(real)
    code, _, err = run(capsys, "prices", "import", SAMPLE, "--mode", "chat", "--workbook", link,
                       "--cost-basis", "dense-70b")
    assert code == 1, err
    assert link.is_symlink() and list(read_book(real).raw["Prices"]["model"])[-2:] == NEW
    assert (tmp_path / "real.xlsm.bak").read_bytes() == COMMITTED.read_bytes()


def test_a_free_model_shows_no_gross_margin(tmp_path, capsys):
    """A $0 price (the sample's embedding model) has no margin: blank, as in the core's
    report, not 0% (which would read as break-even)."""
    book = tmp_path / "all.xlsm"
    shutil.copyfile(COMMITTED, book)
    run(capsys, "prices", "import", SAMPLE, "--workbook", book, "--cost-basis", "dense-70b")
    cached = cached_values(book)
    wb = load_workbook(book)
    ws = wb["Outputs"]
    row = next(c.row for c in ws["A"] if cached.get(("Outputs", c.coordinate)) == "test-embedding")
    header = next(c for r in ws.iter_rows() for c in r if c.value == "Gross margin")
    assert cached.get(("Outputs", f"{header.column_letter}{row}")) in ("", None)
    code, out, _ = run(capsys, "report", book, "--format", "json")
    margin = {r["model"]: r["gross_margin"] for r in __import__("json").loads(out)["markups"]}
    assert margin["test-embedding"] is None and margin["GPT-5.5"] > 0.9
