"""Text tokencost writes is never run as a formula by a spreadsheet (finding C).

Every CSV and Markdown writer neutralises text that starts with =, +, -, @, tab or CR
(a leading apostrophe), whatever the pandas dtype of its column: pandas >= 3 gives text
the ``str`` dtype, not ``object``. Where text goes into a workbook cell, text that would
be stored as a formula is refused.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost.cli import main
from tokencost.inputs.datasets import DATA_DIR
from tokencost.render import frame_to_csv, frame_to_markdown, render_sections

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tokencost.xlsm"
HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("dtype", ["str", "string", object, "category"])
def test_csv_neutralises_text_whatever_the_dtype(dtype):
    frame = pd.DataFrame({"model": pd.Series(HOSTILE + ["plain"], dtype=dtype),
                          "price_usd_per_mtok": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    assert pd.api.types.is_string_dtype(pd.Series(["x"], dtype="str"))   # pandas' own text dtype
    rows = list(csv.reader(io.StringIO(frame_to_csv(frame))))
    assert [r[0] for r in rows[1:]] == ["'" + t for t in HOSTILE] + ["plain"]
    assert rows[1][1] == "-1.5"   # a number stays a plain number, minus sign and all


def test_markdown_neutralises_text_but_not_numbers():
    frame = pd.DataFrame({"provider": pd.Series(HOSTILE[:4], dtype="str"),
                          "profit_usd_per_month": [-12.5, 1.0, 2.0, 3.0]})
    lines = frame_to_markdown(frame).splitlines()[2:]
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines] == \
        ["'" + t for t in HOSTILE[:4]]
    assert lines[0].split(" | ")[1].strip(" |").startswith("-12.5")


def test_section_titles_and_headers_are_safe():
    text = render_sections({"t": pd.DataFrame({"=x": pd.Series(["a"], dtype="str")})}, "csv",
                           {"t": "=title"})
    assert text.splitlines()[:2] == ["# =title", "'=x"]   # a "# " line is a comment, not a cell


def test_prices_import_csv_and_markdown(tmp_path, capsys):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({
        HOSTILE[0]: {"litellm_provider": "=cmd|'/c calc'!A1", "mode": "chat",
                     "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}))
    code, out, _ = run(capsys, "prices", "import", catalog, "--format", "csv")
    assert code == 0
    row = next(r for r in csv.DictReader(io.StringIO(out)))
    assert row["provider"] == "'=cmd|'/c calc'!A1" and row["model"] == "'" + HOSTILE[0]
    assert row["source"].startswith("LiteLLM-format catalog")
    code, out, _ = run(capsys, "prices", "import", catalog, "--format", "markdown")
    assert "| '=cmd\\|'/c calc'!A1 | '=HYPERLINK(" in out


def test_scenario_list_csv_neutralises_a_hand_made_tab_name(tmp_path, capsys):
    book = tmp_path / "b.xlsm"
    wb = load_workbook(BOOK, keep_vba=True)
    copy = wb.copy_worksheet(wb["subsidized_power"])   # an analyst's copy of a scenario tab
    copy.title = "=1+1"
    wb.save(book)
    code, out, _ = run(capsys, "scenario", "list", book, "--format", "csv")
    assert code == 0
    names = [r["scenario"] for r in csv.DictReader(io.StringIO(out.split("\n", 1)[1]))]
    assert "'=1+1" in names and "=1+1" not in names


def test_scenario_add_refuses_a_name_a_spreadsheet_would_run(tmp_path, capsys):
    book = tmp_path / "b.xlsm"
    shutil.copyfile(BOOK, book)
    code, _, err = run(capsys, "scenario", "add", book, "--name", "=1+1", "--set", "pue=1.2")
    assert code == 2 and "starts with '='" in err
    assert book.read_bytes() == BOOK.read_bytes()


def test_build_refuses_input_text_the_workbook_would_store_as_a_formula(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "prices.csv"
    path.write_text(path.read_text().replace("DeepSeek,DeepSeek V4 Flash,",
                                             'DeepSeek,"=SUM(1,2)",', 1))
    code, _, err = run(capsys, "build", "--data", data, "--output", tmp_path / "out.xlsm")
    assert code == 2 and not (tmp_path / "out.xlsm").exists()
    assert err.strip() == ("tokencost build: error: prices.csv line 2, column model: model "
                           "'=SUM(1,2)' starts with '=': the workbook would store it as a formula; "
                           "remove the '=' (or start the text with another character)")


def test_export_markdown_neutralises_workbook_text(tmp_path, capsys, libreoffice):
    book = tmp_path / "b.xlsm"
    wb = load_workbook(BOOK, keep_vba=True)
    ws = wb["Prices"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "OpenAI")
    cell.value = "@SUM(1)"   # text in Excel (openpyxl only makes "=..." a formula)
    cell.data_type = "s"
    wb.save(book)
    code, out, err = run(capsys, "export", book, "--markdown", "-")
    assert code == 0, err
    assert "'@SUM(1)" in out and "| @SUM(1)" not in out
