"""Reading an analyst-edited workbook: `tokencost report BOOK`, `tokencost check BOOK`.

Every test works on a copy of the committed ``tokencost.xlsm`` in tmp_path. One
LibreOffice conversion per module (the analyst-edit fixture) gives the numbers
the workbook itself shows after recalculation; the report of the same book
must equal them (relative 1e-9).
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from argparse import Namespace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.table import TableColumn

from tokencost.cli import main
from tokencost.inputs.datasets import load_defaults
from tokencost.errors import InputError, WorkbookError
from tokencost.workbook.cached import sheet_parts
from tokencost.workbook.libreoffice import LibreOfficeError, convert, soffice_path
from tokencost.workbook.read import check_book, read_book, read_inputs

from workbook_helpers import append_table_row, close, set_table_value, table_of

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tokencost.xlsm"
REL = 1e-9


@pytest.fixture
def book(tmp_path):
    target = tmp_path / "book.xlsm"
    shutil.copyfile(BOOK, target)
    return target


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def edit(path, change, target=None):
    """Open *path* with openpyxl as an analyst's Excel would keep it, apply *change*, save."""
    wb = load_workbook(path, keep_vba=True)
    change(wb)
    wb.save(target or path)
    return target or path


def rewrite_columns(wb, table_name, order, extra=None):
    """Lay an Excel Table out again with its columns in *order* (header names); names in
    *extra* ({header: [values]}) are new analyst columns. The table widens as needed."""
    ws, table = table_of(wb, table_name)
    c1, r1, c2, r2 = range_boundaries(table.ref)
    data = {ws.cell(r1, c).value: [ws.cell(r, c).value for r in range(r1 + 1, r2 + 1)]
            for c in range(c1, c2 + 1)}
    data.update(extra or {})
    for j, name in enumerate(order):
        ws.cell(r1, c1 + j).value = name
        for i, value in enumerate(data[name]):
            ws.cell(r1 + 1 + i, c1 + j).value = value
    table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c1 + len(order) - 1)}{r2}"
    table.autoFilter.ref = table.ref
    table.tableColumns = [TableColumn(id=i + 1, name=name) for i, name in enumerate(order)]


def set_cell_xml(path, sheet, ref, cell_xml):
    """Replace cell *ref* of *sheet* in the package by *cell_xml* (a cached formula result or an
    error value, which openpyxl cannot write), copying every other part unchanged."""
    with zipfile.ZipFile(path) as zf:
        part = sheet_parts(zf)[sheet]
        parts = {info: zf.read(info.filename) for info in zf.infolist()}
    tmp = Path(str(path) + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, blob in parts.items():
            if info.filename == part:
                xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', cell_xml, blob.decode(),
                                 count=1, flags=re.S)
                assert n == 1, ref
                blob = xml.encode()
            out.writestr(info, blob)
    tmp.replace(path)


# --------------------------------------------------------------------------- report BOOK

def report_json(capsys, *argv):
    code, out, err = run_cli(capsys, "report", *argv, "--format", "json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def variant_of(report: dict, overrides: dict) -> dict:
    """What the report shows for a variant: the overrides and the tables of a --set report."""
    return {"overrides": overrides, **{k: report[k] for k in
                                       ("gpu_costs", "model_costs", "markups", "subscriptions")}}


#: the shipped workbook's scenario tabs, which are its variants
BOOK_SCENARIOS = {"subsidized_power": {"power_price_usd_per_kwh": 0.06},
                  "depreciation_5y": {"depreciation_years": 5.0}}


def unedited_report(capsys) -> dict:
    """The report of the unedited workbook: the default report, with the book's scenario tabs
    as its variants (checked by the test below)."""
    report = report_json(capsys)
    report["variants"] = {name: variant_of(report_json(capsys, *[f"--set={k}={v:g}" for k, v in
                                                                 overrides.items()]), overrides)
                          for name, overrides in BOOK_SCENARIOS.items()}
    return report


def test_report_of_the_unedited_workbook_equals_the_default_report(book, capsys):
    from_book = report_json(capsys, book)
    from_defaults = report_json(capsys)
    variants = from_book.pop("variants")
    from_defaults.pop("variants")
    assert from_book == from_defaults
    # the variants are the book's scenario tabs, each as `report --set` computes it
    assert list(variants) == list(BOOK_SCENARIOS)
    for name, overrides in BOOK_SCENARIOS.items():
        sets = [f"--set={k}={v:g}" for k, v in overrides.items()]
        assert variants[name] == variant_of(report_json(capsys, *sets), overrides), name
    # --set applies on top of the book
    a = report_json(capsys, book, "--set", "power_price_usd_per_kwh=0.07")
    b = report_json(capsys, "--set", "power_price_usd_per_kwh=0.07")
    assert {k: v for k, v in a.items() if k != "variants"} == \
        {k: v for k, v in b.items() if k != "variants"}
    # the text format: the same up to the variants (the book's come from its scenario tabs)
    text_book, text_default = run_cli(capsys, "report", book)[1], run_cli(capsys, "report")[1]
    cut = "Variant"
    assert cut in text_default and text_book[:text_book.index(cut)] == \
        text_default[:text_default.index(cut)]
    assert "subsidized_power" in text_book and "subsidized-power" not in text_book


def test_report_of_a_book_shows_a_scenario_added_to_it(book, capsys):
    assert main(["scenario", "add", str(book), "--name", "p5", "--set",
                 "power_price_usd_per_kwh=0.05", "--no-backup"]) == 0
    capsys.readouterr()
    variants = report_json(capsys, book)["variants"]
    assert list(variants) == [*BOOK_SCENARIOS, "p5"]
    expected = variant_of(report_json(capsys, "--set", "power_price_usd_per_kwh=0.05"),
                          {"power_price_usd_per_kwh": 0.05})
    assert variants["p5"] == expected


def test_a_book_without_scenario_tabs_falls_back_to_the_shipped_variants(book, capsys):
    def drop_tabs(wb):
        for name in BOOK_SCENARIOS:
            wb.remove(wb[name])
    edit(book, drop_tabs)
    assert read_book(book).scenario_tabs == []
    assert report_json(capsys, book)["variants"] == report_json(capsys)["variants"]


def test_an_invalid_scenario_override_is_a_problem_at_its_cell(book, capsys):
    """Text pasted into an override cell, and an override outside its input's bounds."""
    def bad(wb):
        wb["subsidized_power"]["B15"] = "0.05 $"
        wb["depreciation_5y"]["B18"] = 0
        assert wb["subsidized_power"]["A15"].value == "power_price_usd_per_kwh"
        assert wb["depreciation_5y"]["A18"].value == "utilization"
    edit(book, bad)
    code, out, err = run_cli(capsys, "report", book)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ("subsidized_power!B15: power_price_usd_per_kwh override must be a number, got text "
            "'0.05 $' (and 1 more problem(s)") in err
    code, out, _ = run_cli(capsys, "check", book)
    assert code == 1 and out.splitlines() == [
        "subsidized_power!B15: power_price_usd_per_kwh override must be a number, got text '0.05 $'",
        "depreciation_5y!B18: utilization override must be in (0, 1], got 0"]


def test_load_inputs_reads_a_book_for_any_subcommand_with_a_book_argument(book):
    from tokencost.cli._common import load_inputs
    from tokencost.inputs.validate import variant_overrides
    inputs = load_inputs(Namespace(book=str(book), data=None, overrides=["pue=1.5"]))
    expected = load_defaults().with_overrides({"pue": 1.5})
    for name in ("Hardware", "CostComponents", "Models", "Prices", "Subscriptions"):
        assert inputs[name].equals(expected[name]), name
    assert variant_overrides(inputs) == BOOK_SCENARIOS
    assert load_inputs(Namespace(overrides=[])).models.equals(load_defaults().models)
    with pytest.raises(InputError, match="not both"):
        load_inputs(Namespace(book=str(book), data=ROOT, overrides=[]))


@pytest.fixture(scope="module")
def analyst_book(tmp_path_factory):
    """An analyst's edits (power price, a GPU + cost + profile + price row appended, a column
    reordered, an extra notes column), and the same book after LibreOffice recalculation."""
    try:
        soffice_path()
    except LibreOfficeError as err:
        pytest.fail(str(err))
    tmp = tmp_path_factory.mktemp("analyst")
    path = tmp / "analyst.xlsm"

    def change(wb):
        set_table_value(wb, "CostComponents", "gpu", "H100", "power_price_usd_per_kwh", 0.08)
        rewrite_columns(wb, "Models", ["tokens_per_s", "model", "architecture", "gpu", "batch_size",
                                       "gpus", "description", "source"])
        rewrite_columns(wb, "Prices", ["provider", "analyst_notes", "model", "price_usd_per_mtok",
                                       "cost_basis", "source"],
                        extra={"analyst_notes": ["check list price", None, "", "ok", "ask sales"]})
        append_table_row(wb, "Hardware", {"gpu": "B200", "gpu_price_usd": 45000, "power_w": 1000,
                                          "memory_gb": 180, "memory_bandwidth_tb_s": 8,
                                          "source": "analyst"})
        append_table_row(wb, "CostComponents", {
            "gpu": "B200", "depreciation_years": 4, "infra_usd_per_month": 500, "pue": 1.2,
            "power_price_usd_per_kwh": 0.08, "staff_usd_per_month": 150, "hours_per_month": 730,
            "utilization": 0.7, "cost_of_capital": 0.08})
        append_table_row(wb, "Models", {"model": "dense-70b-b200", "gpu": "B200",
                                        "tokens_per_s": 3000, "gpus": 1, "architecture": "dense-70b"})
        append_table_row(wb, "Prices", {"provider": "Example", "model": "Example 70B",
                                        "price_usd_per_mtok": 0.9, "cost_basis": "dense-70b-b200",
                                        "analyst_notes": "new deal"})

    edit(BOOK, change, path)
    recalculated = convert(path, tmp / "lo")  # LibreOffice recalculates everything on load
    return path, recalculated


def _outputs_column(recalculated, header):
    """Values under an Outputs header after recalculation, down to the first blank."""
    ws = load_workbook(recalculated, data_only=True)["Outputs"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == header:
                out = []
                for r in range(cell.row + 1, cell.row + 41):
                    value = ws.cell(r, cell.column).value
                    if value in (None, ""):
                        return out
                    out.append(value)
    raise KeyError(header)


def test_report_of_an_edited_book_equals_what_the_workbook_shows(analyst_book, capsys):
    path, recalculated = analyst_book
    code, out, err = run_cli(capsys, "report", path, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [m["model"] for m in data["model_costs"]] == [
        "dense-70b", "moe-284b-a13b", "moe-v4-pro-implied", "dense-70b-b200"]
    pairs = [("Per GPU-hour", [g["gpu_hour_usd"] for g in data["gpu_costs"]]),
             ("Total per GPU-month", [g["total_usd_per_month"] for g in data["gpu_costs"]]),
             ("Cost per MTok at that utilization", [m["cost_usd_per_mtok"] for m in data["model_costs"]]),
             ("Markup", [p["markup"] for p in data["markups"]]),
             ("Gross margin", [p["gross_margin"] for p in data["markups"]])]
    for header, ours in pairs:
        shown = _outputs_column(recalculated, header)
        assert len(shown) == len(ours), header
        assert all(close(a, b, REL) for a, b in zip(shown, ours)), (header, shown, ours)
    # the edits really moved the numbers: power at $0.08/kWh, B200 costed, 6 markups
    assert data["gpu_costs"][0]["power_usd_per_month"] == pytest.approx(0.7 * 1.3 * 730 * 0.08,
                                                                        rel=1e-12)
    assert len(data["markups"]) == 6 and data["markups"][-1]["cost_basis"] == "dense-70b-b200"


def test_the_book_libreoffice_saved_reads_the_same(analyst_book):
    """LibreOffice writes shared strings, relative part names and an XML prolog."""
    path, recalculated = analyst_book
    ours, theirs = read_inputs(path), read_inputs(recalculated)
    for name in ("Hardware", "CostComponents", "Models", "Prices", "Subscriptions", "Variants"):
        assert ours[name].equals(theirs[name]), name
    assert read_book(recalculated).scenario_tabs == list(BOOK_SCENARIOS)
    assert read_book(path).raw["Prices"]["analyst_notes"].tolist()[:2] == ["check list price", None]


# --------------------------------------------------------------------------- check BOOK

def test_check_of_the_unedited_book_flags_only_the_moe_profile(book, capsys):
    before = (book.read_bytes(), book.stat().st_mtime_ns)
    code, out, err = run_cli(capsys, "check", book)
    assert code == 0                       # a physics flag is a warning ...
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Models!C9: physics: moe-284b-a13b: 284B parameters")
    assert "need at least 4 H100s" in lines[0]
    assert "1 physics warning(s)" in err
    assert run_cli(capsys, "check", book, "--strict")[0] == 1     # ... unless --strict
    code, out, err = run_cli(capsys, "check", book, "--no-physics")
    assert (code, out, err) == (0, "OK: 15 rows in 6 tables, no problem (physics check skipped)\n", "")
    assert (book.read_bytes(), book.stat().st_mtime_ns) == before


def test_check_ok_when_every_profile_is_physical(book, capsys):
    def change(wb):
        set_table_value(wb, "Models", "model", "moe-284b-a13b", "gpus", 4)
        set_table_value(wb, "Models", "model", "moe-284b-a13b", "batch_size", None)
    edit(book, change)
    assert run_cli(capsys, "check", book) == (0, "OK: 15 rows in 6 tables, no problem\n", "")


def test_check_flags_a_throughput_above_the_decode_bound_at_its_cell(book, capsys):
    def change(wb):
        set_table_value(wb, "Models", "model", "dense-70b", "tokens_per_s", 5000)
    edit(book, change)
    code, out, _ = run_cli(capsys, "check", book, "--strict")
    assert code == 1
    assert out.splitlines()[0] == (
        "Models!C8: physics: dense-70b: 5,000 tok/s per GPU exceeds the physical decode bound of "
        "706 tok/s per GPU on 1 H100 at batch 16 and 2,048 tokens of context (memory bandwidth-bound)")


def test_check_lists_every_bad_cell_where_it_is(book, capsys):
    def change(wb):
        set_table_value(wb, "Hardware", "gpu", "H100", "power_w", "seven hundred")
        set_table_value(wb, "Hardware", "gpu", "H100", "gpu_price_usd", "=20000+10000")
        append_table_row(wb, "Hardware", {"gpu": "h100", "gpu_price_usd": 1, "power_w": 1})
        set_table_value(wb, "CostComponents", "gpu", "H100", "infra_usd_per_month", -5)
        set_table_value(wb, "CostComponents", "gpu", "H100", "utilization", 1.5)
        set_table_value(wb, "Models", "model", "dense-70b", "tokens_per_s", 0)
        set_table_value(wb, "Models", "model", "moe-284b-a13b", "gpu", "H200")
        set_table_value(wb, "Prices", "model", "GPT-5.5", "price_usd_per_mtok", None)
        set_table_value(wb, "Prices", "model", "DeepSeek V4 Flash", "cost_basis", "no-such-profile")
    edit(book, change)
    set_cell_xml(book, "Subscriptions", "F8", '<c r="F8" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    before = (book.read_bytes(), book.stat().st_mtime_ns)
    code, out, err = run_cli(capsys, "check", book)
    assert code == 1
    assert out.splitlines() == [
        f"Hardware!B8: formula without a cached value; recalculate the workbook "
        f"(tokencost recalc {book})",
        "Hardware!C8: power_w must be a number, got text 'seven hundred'",
        "Hardware!A9: duplicate gpu 'h100' (first at Hardware!A8)",
        "CostComponents!C8: infra_usd_per_month must be >= 0, got -5",
        "CostComponents!H8: utilization must be in (0, 1], got 1.5",
        "Models!C8: tokens_per_s must be > 0, got 0",
        "Models!B9: gpu 'H200' is not a gpu in CostComponents",
        "Prices!D8: cost_basis 'no-such-profile' is not a model in Models",
        "Prices!C12: price_usd_per_mtok is required but blank",
        "Subscriptions!F8: rd_usd_per_mtok shows the error value #DIV/0!; enter a value or fix the "
        "formula",
    ]
    assert "10 problem(s)" in err and "physics check not run" in err
    assert (book.read_bytes(), book.stat().st_mtime_ns) == before
    # report stops at the first of them, in one line
    code, out, err = run_cli(capsys, "report", book)
    assert code == 2 and out == ""
    assert err == (f"tokencost report: error: Hardware!B8: formula without a cached value; "
                   f"recalculate the workbook (tokencost recalc {book}) (and 9 more problem(s); "
                   f"run `tokencost check {book}`)\n")


def test_a_formula_with_a_cached_value_is_an_input_like_any_other(book, capsys):
    set_cell_xml(book, "Hardware", "B8", '<c r="B8"><f>20000+10000</f><v>30000</v></c>')
    set_cell_xml(book, "Models", "A8", '<c r="A8" t="str"><f>"dense-"&amp;"70b"</f><v>dense-70b</v></c>')
    assert report_json(capsys, book) == unedited_report(capsys)


def test_missing_column_is_named_at_the_header_row(book, capsys):
    edit(book, lambda wb: rewrite_columns(
        wb, "Models", ["model", "gpu", "tps", "batch_size", "architecture", "gpus", "description",
                       "source"], extra={"tps": [400, 2500, 1065]}))
    code, out, _ = run_cli(capsys, "check", book)
    assert code == 1
    assert out.splitlines() == [
        "Models!A7:H7: required column tokens_per_s is missing from table Models"]
    code, out, err = run_cli(capsys, "report", book)
    assert code == 2 and err.count("\n") == 1
    assert "Models!A7:H7: required column tokens_per_s is missing from table Models" in err


@pytest.mark.parametrize("how", ["delete the sheet", "rename the table"])
def test_missing_table_is_one_clear_line(book, capsys, how):
    def change(wb):
        if how == "delete the sheet":
            del wb["Subscriptions"]
        else:
            table_of(wb, "Subscriptions")[1].displayName = "Plans"
    edit(book, change)
    code, out, err = run_cli(capsys, "report", book)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    m = re.fullmatch(rf"tokencost report: error: {re.escape(str(book))}: no Excel Table named "
                     r"Subscriptions in the workbook \(tables found: (.*)\); the input tables are "
                     r"found by name: restore the table \(or its sheet\) or rename it back to "
                     r"Subscriptions\n", err)
    assert m, err
    found = m.group(1).split(", ")
    assert {"CostComponents", "Hardware", "Models", "Prices"} <= set(found)
    assert ("Plans" in found) == (how == "rename the table") and "Subscriptions" not in found
    code, out, err = run_cli(capsys, "check", book)
    assert code == 1
    assert out.splitlines()[0].startswith("Subscriptions: no Excel Table named Subscriptions")


def test_a_renamed_sheet_still_reads_and_is_named_in_locations(book, capsys):
    edit(book, lambda wb: setattr(wb["Models"], "title", "Model profiles"))
    assert report_json(capsys, book) == unedited_report(capsys)
    code, out, _ = run_cli(capsys, "check", book)
    assert code == 0 and out.startswith("'Model profiles'!C9: physics: moe-284b-a13b")


def test_not_a_workbook_is_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.xlsm"
    bad.write_text("hello")
    for command in ("check", "report"):
        code, out, err = run_cli(capsys, command, bad)
        assert code == 2 and out == "" and err.count("\n") == 1 and str(bad) in err
    with pytest.raises(WorkbookError):
        read_book(tmp_path / "nope.xlsm")


def test_doctype_in_a_sheet_is_refused(book):
    with zipfile.ZipFile(book) as zf:
        part = sheet_parts(zf)["Models"]
        parts = {info: zf.read(info.filename) for info in zf.infolist()}
    with zipfile.ZipFile(book, "w") as out:
        for info, blob in parts.items():
            if info.filename == part:
                blob = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + blob
            out.writestr(info, blob)
    with pytest.raises(WorkbookError, match="DOCTYPE"):
        read_book(book)


# --------------------------------------------------------------------------- a big book

def test_ten_thousand_rows_read_correctly(book, monkeypatch):
    """Models grows from the seed's 3 profiles to 10,000 rows (shared strings, as openpyxl and
    Excel write them)."""
    def change(wb):
        ws, table = table_of(wb, "Models")
        c1, r1, c2, r2 = range_boundaries(table.ref)
        column = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}   # by header, not position
        for i in range(3, 10_000):
            r = r1 + 1 + i
            ws.cell(r, column["model"], f"profile-{i}")
            ws.cell(r, column["gpu"], "H100")
            ws.cell(r, column["tokens_per_s"], 100 + i)
            ws.cell(r, column["gpus"], 1 + i % 8)
            ws.cell(r, column["source"], f"row {i}")
        table.ref = f"A{r1}:{get_column_letter(c2)}{r1 + 10_000}"
        table.autoFilter.ref = table.ref
    edit(book, change)
    tables = read_book(book)
    assert tables.problems == [] and tables.row_count == 10_012
    models = read_inputs(book).models
    assert len(models) == 10_000
    assert models["model"].iloc[[0, 3, 4321, 9999]].tolist() == [
        "dense-70b", "profile-3", "profile-4321", "profile-9999"]
    assert models["tokens_per_s"].iloc[[0, 3, 9999]].tolist() == [400.0, 103.0, 10_099.0]
    assert models["gpus"].iloc[[3, 7, 8]].tolist() == [4.0, 8.0, 1.0]
    assert models["batch_size"].iloc[[1, 3]].fillna(-1).tolist() == [64.0, -1]
    assert models["architecture"].iloc[[1, 3]].tolist() == ["moe-284b-a13b", ""]
    assert models["source"].iloc[9999] == "row 9999"
    assert tables.locate("Models", 9999, "tokens_per_s") == "Models!C10007"
    assert check_book(tables) == []
    # big sheet parts are streamed row by row instead of parsed whole: same result
    import tokencost.workbook.read as reader
    monkeypatch.setattr(reader, "WHOLE_PART_BYTES", 0)
    streamed = read_book(book)
    for name, frame in tables.raw.items():
        assert streamed.raw[name].equals(frame), name


def test_blank_rows_inside_a_table_and_header_case_do_not_shift_locations(book, capsys):
    def change(wb):
        ws, table = table_of(wb, "Models")
        ws["C7"] = " Tokens_Per_S "  # headers match ignoring case and spaces
        table.tableColumns[2].name = " Tokens_Per_S "
        append_table_row(wb, "Models", {})  # an empty row left inside the table
        row = append_table_row(wb, "Models", {"model": "late", "gpu": "H100"})
        ws.cell(row, 3, -1)
    edit(book, change)
    code, out, _ = run_cli(capsys, "check", book)
    assert (code, out.splitlines()) == (1, [
        "Models!C12: tokens_per_s must be > 0, got -1",
        "Models!A11:J11: blank row inside table Models; fill it or delete the table row"])


def test_the_reader_refuses_a_doctype_itself():
    """A second guard behind safety.check_readable: the C parser only ever sees a prolog
    without a DOCTYPE (the only place entities can be declared)."""
    import io
    from tokencost.workbook.read import _checked_chunks
    sheet = b'<worksheet xmlns="x"><sheetData/></worksheet>'
    assert b"".join(_checked_chunks(io.BytesIO(b'<?xml version="1.0"?>\n<!-- c -->' + sheet), "p")) \
        .endswith(sheet)
    for bad in (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "b">]>' + sheet,
                b'\xef\xbb\xbf  <!-- c --><!DOCTYPE w SYSTEM "file:///etc/passwd">' + sheet):
        with pytest.raises(WorkbookError, match="DOCTYPE"):
            list(_checked_chunks(io.BytesIO(bad), "xl/worksheets/sheet4.xml"))
    with pytest.raises(WorkbookError, match="not UTF-8"):
        list(_checked_chunks(io.BytesIO(sheet.decode().encode("utf-16")), "p"))
