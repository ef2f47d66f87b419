"""The reader follows the workbook's own rule for names and numbers (finding E).

The workbook's formulas look names up with MATCH and COUNTIF (case-insensitive, no
trimming) and check numbers with ISNUMBER (text is not a number). ``report BOOK`` and
``check BOOK`` must agree with what the workbook itself shows: for each perturbation of
a copy of the committed tokencost.xlsm, recalculated by LibreOffice, either

* the report's cost per MTok equals the Outputs sheet's (relative 1e-9), both commands
  exit 0 and the workbook's Master_Check is 0, or
* both commands refuse it with a message located at a cell (``Sheet!B8: ...``) and the
  recalculated Master_Check counts errors.

All perturbed copies are recalculated in one LibreOffice run.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tokencost.cli import main

from workbook_helpers import append_table_row, close, recalculate_many, set_table_value

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tokencost.xlsm"
REL = 1e-9
LOCATED = re.compile(r"^[A-Za-z_]+![A-Z]+\d+: ")


def _models(column, value, model="dense-70b"):
    return lambda wb: set_table_value(wb, "Models", "model", model, column, value)


#: name -> (edit, the workbook and tokencost should both flag it)
PERTURBATIONS = {
    "padded_gpu": (_models("gpu", " h100 "), True),
    "nbsp_gpu": (_models("gpu", "H100\u00a0"), True),
    "upper_case_gpu": (_models("gpu", "h100"), False),
    "upper_case_cost_basis": (lambda wb: set_table_value(wb, "Prices", "model", "GPT-5.5",
                                                         "cost_basis", "DENSE-70B"), False),
    "padded_hardware_key": (lambda wb: set_table_value(wb, "Hardware", "gpu", "H100", "gpu",
                                                       "H100 "), True),
    "padded_extra_gpu_row": (lambda wb: append_table_row(wb, "Hardware", {
        "gpu": "h100 ", "gpu_price_usd": 1, "power_w": 1}), False),
    "padded_provider": (lambda wb: set_table_value(wb, "Prices", "model", "GPT-5.5", "provider",
                                                   " OpenAI "), False),
    "padded_price_model": (lambda wb: set_table_value(wb, "Prices", "model", "GPT-5.5", "model",
                                                      "GPT-5.5 "), False),
    "text_700_tokens_per_s": (_models("tokens_per_s", "700"), True),
    "text_number_pue": (lambda wb: set_table_value(wb, "CostComponents", "gpu", "H100", "pue",
                                                   "1.3"), True),
    "number_in_description": (_models("description", 42), False),
    "number_as_a_referenced_name": (_models("model", 1065, model="moe-v4-pro-implied"), True),
    "number_as_a_cost_basis": (lambda wb: set_table_value(wb, "Prices", "model", "GPT-5.5",
                                                          "cost_basis", 5), True),
}


@pytest.fixture(scope="module")
def perturbed(tmp_path_factory, libreoffice):
    """{name: (perturbed .xlsm, its LibreOffice recalculation)}."""
    tmp = tmp_path_factory.mktemp("names-rule")
    books = {}
    for name, (change, _) in PERTURBATIONS.items():
        wb = load_workbook(BOOK, keep_vba=True)
        change(wb)
        wb.save(tmp / f"{name}.xlsm")
        books[name] = tmp / f"{name}.xlsm"
    recalculated = recalculate_many(books.values(), tmp / "lo")
    return {name: (path, recalculated[path.resolve()]) for name, path in books.items()}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _shown(recalculated):
    """(Master_Check, the Outputs sheet's cost per MTok column) after recalculation."""
    wb = load_workbook(recalculated, data_only=True)
    sheet, cell = next(iter(wb.defined_names["Master_Check"].destinations))
    master = wb[sheet][cell.replace("$", "")].value
    ws = wb["Outputs"]
    for row in ws.iter_rows():
        for c in row:
            if c.value == "Cost per MTok at that utilization":
                values = []
                for r in range(c.row + 1, c.row + 41):
                    v = ws.cell(r, c.column).value
                    if v in (None, ""):
                        return master, values
                    values.append(v)
    raise KeyError("Cost per MTok at that utilization")


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_reader_and_workbook_agree(perturbed, capsys, name):
    path, recalculated = perturbed[name]
    flagged = PERTURBATIONS[name][1]
    master, shown = _shown(recalculated)
    code, out, err = _run(capsys, "report", path, "--format", "json")
    check_code, check_out, _ = _run(capsys, "check", path, "--no-physics")
    if not flagged:
        assert (code, err, check_code) == (0, "", 0), (err, check_out)
        assert master == 0
        ours = [m["cost_usd_per_mtok"] for m in json.loads(out)["model_costs"]]
        assert len(ours) == len(shown) and all(close(a, b, REL) for a, b in zip(ours, shown)), \
            (ours, shown)
    else:
        assert code == 2 and out == ""
        message = err.strip().removeprefix("tokencost report: error: ")
        assert LOCATED.match(message) and len(err.strip().splitlines()) == 1, err
        assert check_code == 1 and LOCATED.match(check_out.splitlines()[0]), check_out
        assert isinstance(master, (int, float)) and master > 0, master


def test_the_messages_say_what_to_do(perturbed, capsys):
    expected = {
        "padded_gpu": "Models!B8: gpu ' h100 ' is not a gpu in CostComponents; remove the spaces",
        "nbsp_gpu": "Models!B8: gpu 'H100\\xa0' is not a gpu in CostComponents; remove the spaces",
        "padded_hardware_key": ("CostComponents!A8: gpu 'H100' is not a gpu in Hardware "
                                "(Hardware!A8 holds 'H100 ': remove the spaces there)"),
        "text_700_tokens_per_s": ("Models!C8: tokens_per_s is text '700', not a number; retype "
                                  "it as a number"),
        "text_number_pue": "CostComponents!D8: pue is text '1.3', not a number; retype it as a number",
    }
    for name, line in expected.items():
        code, out, err = _run(capsys, "check", perturbed[name][0], "--no-physics")
        assert out.splitlines()[0] == line, name
