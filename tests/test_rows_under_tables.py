"""A row typed under an input table in LibreOffice (which, unlike Excel, does not grow the
table) is not silently ignored: ``check``, ``report`` and the workbook's own Checks sheet
say so, and ``tokencost tables fix`` grows the table over it. The file is edited and saved
by LibreOffice itself, through its own API."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tokencost.analysis.model import evaluate
from tokencost.cli import main
from tokencost.inputs.datasets import read_raw_tables
from tokencost.inputs.validate import prepare
from tokencost.workbook.libreoffice import recalculated_values
from workbook_helpers import close, uno

REPO = Path(__file__).resolve().parents[1]
B200_HARDWARE = ["B200", 45000, 1000, 180, 8, "typed in LibreOffice under the table"]
B200_COSTS = ["B200", 4, 500, 1.2, 0.08, 150, 730, 0.7, 0.08]


@pytest.fixture(scope="module")
def typed_under(tmp_path_factory, libreoffice):
    """tokencost.xlsm with a B200 row typed in LibreOffice under Hardware and CostComponents."""
    path = tmp_path_factory.mktemp("lo") / "typed.xlsm"
    steps = [{"op": "open", "path": str(REPO / "tokencost.xlsm")}]
    for sheet, values in (("Hardware", B200_HARDWARE), ("CostComponents", B200_COSTS)):
        for col, value in zip("ABCDEFGHI", values):
            steps.append({"op": "set", "sheet": sheet, "cell": f"{col}9", "value": value})
    steps.append({"op": "save", "path": str(path), "filter": "Calc MS Excel 2007 VBA XML"})
    uno(steps)
    return path


def _master(values) -> float:
    line = values["Checks"]["A2"]
    return 0.0 if line == "Master check: OK" else float(line.split()[2])


def test_check_and_report_say_where_the_row_is_and_what_to_do(typed_under, capsys):
    assert main(["check", str(typed_under), "--no-physics"]) == 1
    out = capsys.readouterr().out.splitlines()
    hw = [ln for ln in out if ln.startswith("Hardware!A9:F9: row 9 under table Hardware")]
    cc = [ln for ln in out if ln.startswith("CostComponents!A9:J9: row 9 under table CostComponents")]
    assert hw and cc and "tokencost tables fix" in hw[0] and "'B200'" in hw[0]
    assert main(["report", str(typed_under)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "under table" in err


def test_the_workbooks_own_checks_count_it(typed_under):
    values = recalculated_values(typed_under)
    rows = {v: values["Checks"].get("B" + ref[1:]) for ref, v in values["Checks"].items()
            if ref.startswith("A") and isinstance(v, str) and "the row under the table" in v}
    assert rows["Hardware: the row under the table is empty (values typed there are not part "
                "of the table: grow the table over them, `tokencost tables fix`)"] >= 1
    assert sum(1 for v in rows.values() if v) == 2 and _master(values) >= 2


def test_tables_fix_grows_the_tables_and_the_row_counts(typed_under, tmp_path, capsys):
    book = tmp_path / "fixed.xlsm"
    shutil.copyfile(typed_under, book)
    assert main(["tables", "fix", str(book), "--no-backup"]) == 0
    out = capsys.readouterr().out
    assert "table Hardware now includes row 9" in out and "table CostComponents now includes row 9" in out
    assert main(["check", str(book), "--no-physics"]) == 0
    capsys.readouterr()
    assert main(["report", str(book), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    raw = read_raw_tables()
    import pandas as pd
    raw["Hardware"] = pd.concat([raw["Hardware"], pd.DataFrame([dict(zip(
        ["gpu", "gpu_price_usd", "power_w", "memory_gb", "memory_bandwidth_tb_s"],
        map(str, B200_HARDWARE[:5])))])], ignore_index=True)
    raw["CostComponents"] = pd.concat([raw["CostComponents"], pd.DataFrame([dict(zip(
        ["gpu", "depreciation_years", "infra_usd_per_month", "pue", "power_price_usd_per_kwh",
         "staff_usd_per_month", "hours_per_month", "utilization", "cost_of_capital"],
        map(str, B200_COSTS)))])], ignore_index=True)
    expected = evaluate(prepare(raw)).gpu_costs
    got = {r["gpu"]: r["gpu_hour_usd"] for r in data["gpu_costs"]}
    assert set(got) == {"H100", "B200"}
    assert close(got["B200"], expected.set_index("gpu").loc["B200", "gpu_hour_usd"])
    values = recalculated_values(book)   # and the workbook itself now counts the new GPU
    assert _master(values) == 0
    assert main(["tables", "fix", str(book)]) == 0
    assert "nothing to do" in capsys.readouterr().out
