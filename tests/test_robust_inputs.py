"""Every input path refuses what it cannot compute, in one line naming where.

The rules live in one place each (tokencost.schema's column specs, tokencost.inputs'
number_problem, tokencost.model's result check, tokencost.csvfile, write_atomic);
these tests reach them through every entry point: ``--set``, a CSV data folder, a
workbook cell, an Excel function argument, a command option.

A. Finite or refused: no input is infinite; a result that overflows is refused at the
   input most likely to blame; JSON never holds NaN or Infinity; no numpy warning.
B. Whole numbers: gpus and batch_size are whole everywhere.
E. Names and numbers as the workbook's formulas see them (the LibreOffice side is in
   test_workbook_names_rule.py).
"""
from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost import udfs
from tokencost.cli import main
from tokencost.datasets import DATA_DIR, load_defaults
from tokencost.udf_support import xlwings_call

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
