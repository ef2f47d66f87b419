"""Every input path refuses what it cannot compute, in one line naming where.

The rules live in one place each (tokencost.inputs.schema's column specs, tokencost.inputs.validate'
number_problem, tokencost.analysis.model's result check, tokencost.inputs.csvfile, write_atomic);
these tests reach them through every entry point: ``--set``, a CSV data folder, a
workbook cell, an Excel function argument, a command option.

A. Finite or refused: no input is infinite; a result that overflows is refused at the
   input most likely to blame; JSON never holds NaN or Infinity; no numpy warning.
B. Whole numbers: gpus and batch_size are whole everywhere.
E. Names and numbers as the workbook's formulas see them (the LibreOffice side is in
   test_workbook_names_rule.py).
D. CSV files: encodings, empty files, bad quoting, ragged rows, a folder instead of a
   file; writes that cannot happen leave nothing behind.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost.excel import udfs
from tokencost.cli import main
from tokencost.inputs.datasets import DATA_DIR, load_defaults
from tokencost.excel.arguments import xlwings_call
from tokencost.workbook.files import write_atomic

from workbook_helpers import set_table_value

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tokencost.xlsm"


def run(capsys, *argv):
    """Run the CLI in-process with every warning an error (a numpy RuntimeWarning fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(capsys, *argv, code=2):
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, ""), (got, out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def book(tmp_path):
    target = tmp_path / "book.xlsm"
    shutil.copyfile(BOOK, target)
    return target


def edit_book(path, change):
    wb = load_workbook(path, keep_vba=True)
    change(wb)
    wb.save(path)
    return path


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity (not JSON)."""
    def refuse(name):
        raise ValueError(f"{name} in JSON output")
    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- A. finite or refused

def test_set_that_overflows_the_cost_is_refused_at_the_set(capsys):
    err = one_error(capsys, "report", "--set", "tokens_per_s=1e-320", "--format", "json")
    assert err.startswith("tokencost report: error: --set tokens_per_s: tokens_per_s=")
    assert "is too small: it makes cost_usd_per_mtok of model profile dense-70b not a finite number" in err
    err = one_error(capsys, "report", "--set", "infra_usd_per_month=1e308",
                    "--set", "staff_usd_per_month=1e308", "--format", "json")
    assert "--set infra_usd_per_month: infra_usd_per_month=1e+308 is too large" in err
    assert "total_usd_per_month of GPU H100" in err


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity"])
def test_set_refuses_non_finite_text(capsys, value):
    err = one_error(capsys, "report", "--set", f"infra_usd_per_month={value}")
    assert err == (f"tokencost report: error: --set infra_usd_per_month: infra_usd_per_month must be "
                   f"a number, got {value!r} (not finite)")


def test_large_but_finite_inputs_give_strict_json(capsys):
    code, out, err = run(capsys, "report", "--set", "infra_usd_per_month=1e308", "--format", "json")
    assert (code, err) == (0, "")
    data = strict_json(out)
    assert data["gpu_costs"][0]["total_usd_per_month"] == pytest.approx(1e308)


def test_data_folder_cell_that_overflows_names_file_line_and_column(capsys, data):
    replace_in(data / "models.csv", "dense-70b,H100,400,", "dense-70b,H100,1e-320,")
    err = one_error(capsys, "report", "--data", data, "--format", "json")
    assert err.startswith("tokencost report: error: models.csv line 2, column tokens_per_s: "
                          "tokens_per_s=")
    assert "is too small" in err


def test_workbook_cell_that_overflows_names_the_cell(capsys, book):
    edit_book(book, lambda wb: set_table_value(wb, "CostComponents", "gpu", "H100",
                                               "hours_per_month", 1e-320))
    err = one_error(capsys, "report", book, "--format", "json")
    assert err.startswith("tokencost report: error: CostComponents!G8: hours_per_month=")
    assert "gpu_hour_usd of GPU H100 not a finite number" in err
    code, out, _ = run(capsys, "check", book, "--no-physics")   # check sees it too
    assert code == 1 and out.startswith("CostComponents!G8: hours_per_month=")


def test_sensitivity_and_deployment_refuse_the_same_inputs(capsys):
    for command in (["sensitivity"], ["rent-vs-own"], ["token-mix"], ["power-budget", "--facility-mw", "1"]):
        err = one_error(capsys, *command, "--set", "tokens_per_s=1e-320")
        assert "--set tokens_per_s: tokens_per_s=" in err, command


def test_command_option_that_overflows_is_named(capsys):
    err = one_error(capsys, "fleet", "--nodes", "1e308", "--gpus-per-node", "1e308",
                    "--gpu-hour-cost", "2", "--hours", "720", "--input-tokens", "1",
                    "--output-tokens", "1", "--price-input", "1", "--price-output", "1",
                    "--format", "json")
    assert err == ("tokencost fleet: error: --nodes: nodes=1e+308 is too large: it makes gpu_hours "
                   "of the output not a finite number; use a value of realistic size")


def test_command_options_refuse_inf_and_nan(capsys):
    with pytest.raises(SystemExit) as info:   # argparse: like any unreadable number
        main(["bound", "--gpu", "H100", "--model", "dense-70b", "--gpu-hour-usd", "inf"])
    assert info.value.code == 2
    assert "argument --gpu-hour-usd: must be a number, got 'inf' (not finite)" in capsys.readouterr().err


def test_excel_function_refuses_infinite_arguments():
    assert udfs.COST_PER_MTOK(1.9, float("inf")) == "tokens_per_s must be a number, got inf (not finite)"
    assert udfs.COST_PER_MTOK(float("nan"), 400.0) == "gpu_hour_usd must be a number, got nan (not finite)"
    out = xlwings_call(udfs.COST_PER_MTOK, [[1.9], [1.9]], [[float("inf")], [400.0]])
    assert out == [["tokens_per_s must be a number, got inf (not finite)"], [1.9 / 1.44]]
    out = udfs.COST_PER_MTOK(np.array([1.9, 1.9]), np.array([np.inf, 400.0]))
    assert out[0] == ["tokens_per_s must be a number, got inf (not finite)"]
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", float("inf")) == \
        "gpus must be a number, got inf (not finite)"


def test_json_never_holds_nan_or_infinity():
    from tokencost.errors import NonFiniteResult
    from tokencost.render import to_json
    assert to_json({"margin": float("nan")}) == '{\n  "margin": null\n}\n'
    frame = pd.DataFrame({"cost_usd_per_mtok": [1.0, np.inf]})
    with pytest.raises(NonFiniteResult, match="cost_usd_per_mtok is not a finite number"):
        to_json({"t": frame})


def test_no_numpy_warning_reaches_the_user(capsys):
    """run() turns every warning into an error: these used to print RuntimeWarnings."""
    one_error(capsys, "report", "--set", "tokens_per_s=1e-320")
    one_error(capsys, "bound", "--gpu", "H100", "--model", "dense-70b", "--context", "1e308")


# --------------------------------------------------------------------------- B. whole numbers

@pytest.mark.parametrize("name", ["gpus", "batch_size"])
def test_set_refuses_a_fraction_of_a_count(capsys, name):
    err = one_error(capsys, "report", "--set", f"{name}=0.5")
    assert err == (f"tokencost report: error: --set {name}: {name} must be a whole number >= 1, "
                   "got 0.5")


def test_csv_refuses_a_fraction_of_a_count(capsys, data):
    replace_in(data / "models.csv", "moe-284b-a13b,H100,2500,64,", "moe-284b-a13b,H100,2500,64.5,")
    err = one_error(capsys, "report", "--data", data)
    assert err == ("tokencost report: error: models.csv line 3, column batch_size: batch_size must "
                   "be a whole number >= 1, got 64.5")


def test_variants_file_refuses_a_fraction_of_a_count(capsys, data):
    (data / "variants.csv").write_text("variant,name,value,source\nhalf,gpus,0.5,test\n")
    err = one_error(capsys, "report", "--data", data)
    assert err == ("tokencost report: error: variants.csv line 2, column value: gpus must be a whole "
                   "number >= 1, got 0.5")


def test_workbook_refuses_a_fraction_of_a_count(capsys, book):
    edit_book(book, lambda wb: set_table_value(wb, "Models", "model", "dense-70b", "gpus", 1.5))
    err = one_error(capsys, "report", book)
    assert err == "tokencost report: error: Models!F8: gpus must be a whole number >= 1, got 1.5"


def test_counts_have_a_limit_far_beyond_any_deployment(capsys):
    err = one_error(capsys, "report", "--set", "batch_size=1e300")   # was a traceback
    assert err == ("tokencost report: error: --set batch_size: batch_size must be at most "
                   "1,000,000,000 (far beyond any real deployment), got 1e+300")
    err = one_error(capsys, "bound", "--gpu", "H100", "--model", "dense-70b", "--batch", "0.5")
    assert err == "tokencost bound: error: batch must be a whole number >= 1, got 0.5"
    err = one_error(capsys, "bound", "--gpu", "H100", "--model", "dense-70b", "--gpus", "2e6")
    assert "gpus must be at most 1,000,000" in err
    assert udfs.MIN_GPUS("H100", "dense-70b", 1e300).startswith("batch_size must be at most")


# --------------------------------------------------------------------------- E. names and typed cells

def test_workbook_number_typed_as_text_is_an_error(capsys, book):
    edit_book(book, lambda wb: set_table_value(wb, "Models", "model", "dense-70b", "tokens_per_s", "700"))
    err = one_error(capsys, "report", book)
    assert err == ("tokencost report: error: Models!C8: tokens_per_s is text '700', not a number; "
                   "retype it as a number")


def test_csv_numbers_are_text_and_are_parsed(capsys, data):
    replace_in(data / "models.csv", "dense-70b,H100,400,", "dense-70b,H100, 400 ,")
    code, out, err = run(capsys, "report", "--data", data, "--format", "json")
    assert (code, err) == (0, "")
    assert strict_json(out)["model_costs"][0]["tokens_per_s"] == 400.0


@pytest.mark.parametrize("padded", [" h100 ", "H100\u00a0"])
def test_padded_name_is_an_error_where_it_must_match(capsys, book, data, padded):
    edit_book(book, lambda wb: set_table_value(wb, "Models", "model", "dense-70b", "gpu", padded))
    assert one_error(capsys, "report", book) == (
        f"tokencost report: error: Models!B8: gpu {padded!r} is not a gpu in CostComponents; "
        "remove the spaces")
    replace_in(data / "models.csv", "dense-70b,H100,", f"dense-70b,{padded},")
    assert one_error(capsys, "report", "--data", data) == (
        f"tokencost report: error: models.csv line 2, column gpu: gpu {padded!r} is not a gpu in "
        "CostComponents; remove the spaces")


def test_padded_key_points_at_the_cell_to_fix(capsys, book):
    edit_book(book, lambda wb: set_table_value(wb, "Hardware", "gpu", "H100", "gpu", "H100 "))
    assert one_error(capsys, "report", book) == (
        "tokencost report: error: CostComponents!A8: gpu 'H100' is not a gpu in Hardware "
        "(Hardware!A8 holds 'H100 ': remove the spaces there)")


def test_names_compare_ignoring_case_only(capsys, book):
    edit_book(book, lambda wb: set_table_value(wb, "Models", "model", "dense-70b", "gpu", "h100"))
    code, out, err = run(capsys, "report", book, "--format", "json")
    assert (code, err) == (0, "")
    assert strict_json(out)["model_costs"][0]["cost_usd_per_mtok"] == pytest.approx(
        1.331586123795028, rel=1e-12)


# --------------------------------------------------------------------------- D. CSV files

@pytest.mark.parametrize("name, content, message", [
    ("hardware.csv", b"", "hardware.csv: the file is empty; a CSV file starts with a header line"),
    ("hardware.csv", b"gpu,gpu_price_usd,power_w\n",
     "hardware.csv: table Hardware has no data rows"),
    ("hardware.csv", b'gpu,gpu_price_usd,power_w\nH100,"30000,700\n',
     'hardware.csv line 2: a quoted field is not closed'),
    ("hardware.csv", b"gpu,gpu_price_usd,power_w\nH100,30000,700,extra\n",
     "hardware.csv line 2: 4 fields, but the header names 3 columns"),
    ("hardware.csv", b"gpu,gpu_price_usd,power_w\n\x81\x8d,1,1\n",
     "hardware.csv: neither UTF-8 nor Windows-1252 (cp1252) text"),
    ("variants.csv", b"variant,name,value\nx,pue\n",
     "variants.csv line 2, column value: value is required but blank"),
    ("variants.csv", b"variant,name,value\nx,pue,1.2,extra\n",
     "variants.csv line 2: 4 fields, but the header names 3 columns"),
])
def test_bad_csv_is_one_line_naming_file_and_line(capsys, data, name, content, message):
    (data / name).write_bytes(content)
    err = one_error(capsys, "report", "--data", data)
    assert err.startswith(f"tokencost report: error: {message}"), err


def test_a_folder_where_a_csv_file_should_be(capsys, data):
    (data / "models.csv").unlink()
    (data / "models.csv").mkdir()
    assert one_error(capsys, "report", "--data", data) == \
        "tokencost report: error: models.csv: is a folder, not a CSV file"
    assert one_error(capsys, "report", "--data", data / "hardware.csv").endswith(
        "hardware.csv: not a folder; --data names a folder of input CSV files")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_bom_and_cp1252_read_alike(capsys, data, bom):
    path = data / "hardware.csv"
    text = path.read_text(encoding="utf-8").replace("seed: 'an H100", "sé€d: 'an H100")
    path.write_bytes(bom + text.encode("utf-8"))
    assert load_defaults(data).hardware["source"][0].startswith("sé€d: 'an H100")
    path.write_bytes(text.encode("cp1252"))   # Excel's plain "CSV" on Windows
    assert load_defaults(data).hardware["source"][0].startswith("sé€d: 'an H100")


def test_headers_match_ignoring_case_and_spaces_as_in_a_workbook(capsys, data):
    replace_in(data / "hardware.csv", "gpu,gpu_price_usd,power_w", " GPU , Gpu_Price_USD,power_w")
    assert load_defaults(data).hardware["gpu_price_usd"].tolist() == [30000.0]


def test_reference_tables_use_the_same_reader(tmp_path, capsys):
    ranges = tmp_path / "ranges.csv"
    ranges.write_bytes(b"input,basis,low,high\nutilization,absolute,0.5,1,extra\n")
    err = one_error(capsys, "sensitivity", "--ranges", ranges)
    assert err == ("tokencost sensitivity: error: ranges.csv line 2: 5 fields, but the header names "
                   "4 columns (a comma too many, or text with a comma that needs quotes)")
    ranges.write_bytes(b"input,basis,low,high\n\nutilization,absolute,x,1\n")
    assert one_error(capsys, "sensitivity", "--ranges", ranges) == (
        "tokencost sensitivity: error: ranges.csv line 3, column low: low must be a number, got "
        "text 'x'")


# --------------------------------------------------------------------------- D. writes

def leftovers(folder: Path, keep) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_write_atomic_refuses_targets_it_cannot_write(tmp_path):
    from tokencost.errors import OutputError
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    cases = [(tmp_path / "folder", "is a folder; name a file to write"),
             (tmp_path / "file.txt" / "out.xlsm", "cannot write in")]
    for target, words in cases:
        with pytest.raises(OutputError, match=words):
            write_atomic(lambda tmp: Path(tmp).write_text("new"), target)
    assert leftovers(tmp_path, {"folder", "file.txt"}) == []
    target = tmp_path / "out.csv"
    target.write_text("old")
    (tmp_path / "out.csv.bak").mkdir()   # the backup cannot be made: nothing changes
    with pytest.raises(OutputError, match="cannot be backed up"):
        write_atomic(lambda tmp: Path(tmp).write_text("new"), target)
    assert target.read_text() == "old"
    assert leftovers(tmp_path, {"folder", "file.txt", "out.csv", "out.csv.bak"}) == []


def test_interrupted_write_leaves_the_original_and_no_temporary_file(tmp_path):
    target = tmp_path / "book.csv"
    target.write_text("original")

    def save(tmp):
        Path(tmp).write_text("half writ")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(save, target)
    assert target.read_text() == "original"
    assert leftovers(tmp_path, {"book.csv"}) == []


def test_interrupted_command_prints_one_line(tmp_path, capsys, monkeypatch):
    import tokencost.workbook.build as build
    target = tmp_path / "out.xlsm"
    target.write_bytes(b"the analyst's file")

    def interrupted(state, path):
        Path(path).write_bytes(b"partial")
        raise KeyboardInterrupt   # the user presses Ctrl-C while the workbook is saved

    monkeypatch.setattr(build, "save_with_cached_values", interrupted)
    code = main(["build", "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 130
    assert err == "tokencost build: stopped by SIGINT (Ctrl-C); nothing half-done is left\n"
    assert target.read_bytes() == b"the analyst's file"
    assert leftovers(tmp_path, {"out.xlsm"}) == []


@pytest.mark.parametrize("argv", [
    ["build", "--output", "{dir}"],
    ["build", "--output", "{file}/x.xlsm"],
    ["export", "{book}", "{file}/x.xlsx"],
    ["export", "{book}", "--markdown", "{dir}"],
    ["scenario", "add", "{book}", "--name", "p5", "--set", "pue=1.2", "--output", "{file}/x.xlsm"],
    ["sensitivity", "--plot", "{dir}"],
])
def test_commands_that_cannot_write_say_so_in_one_line(tmp_path, capsys, argv):
    folder = tmp_path / "a-folder.xlsm"
    folder.mkdir()
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    book = tmp_path / "book.xlsm"
    shutil.copyfile(BOOK, book)
    before = sorted(os.listdir(tmp_path))
    args = [a.format(dir=folder, file=plain, book=book) for a in argv]
    err = one_error(capsys, *args)
    assert "cannot write" in err or "is a folder" in err or "not a folder" in err, err
    assert sorted(os.listdir(tmp_path)) == before and list(folder.iterdir()) == []
    assert book.read_bytes() == BOOK.read_bytes()
