"""`tokencost report`: every figure of the seed, in every output format.

Golden figures (REL = 1e-12 relative, rounding noise only) and, where the seed
prints a rounded figure, the same figure at the seed's precision.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tokencost.cli import main
from tokencost.inputs.datasets import DATA_DIR

REL = 1e-12
DEPRECIATION = 30000 / 36
POWER = 0.7 * 1.3 * 730 * 0.10
TOTAL = DEPRECIATION + 350 + POWER + 150
HOUR = TOTAL / 730
DENSE = HOUR / 1.44
MOE = HOUR / 9.0
SUB_POWER = 0.7 * 1.3 * 730 * 0.06
SUB_HOUR = (DEPRECIATION + 350 + SUB_POWER + 150) / 730


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def report_json(capsys, *extra):
    code, out, err = run_cli(capsys, "report", "--format", "json", *extra)
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def by(records, key):
    return {r[key]: r for r in records}


def assert_plain_numbers(obj, path="$"):
    """Every number is a JSON number (float or int), never a formatted string like '$1.33'."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert_plain_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            assert_plain_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, str):
        try:
            float(obj.replace(",", "").rstrip("x%").lstrip("$"))
        except ValueError:
            return
        raise AssertionError(f"{path} holds a number as text: {obj!r}")


# --------------------------------------------------------------------------- JSON: every seed figure

@pytest.fixture(scope="module")
def seed_report():
    """The default report as parsed JSON (computed once for this module)."""
    buf_out, buf_err = io.StringIO(), io.StringIO()
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = buf_out, buf_err
    try:
        code = main(["report", "--format", "json"])
    finally:
        sys.stdout, sys.stderr = old_out, old_err
    assert code == 0, buf_err.getvalue()
    return json.loads(buf_out.getvalue())


def test_json_has_the_sections(seed_report):
    assert {"gpu_costs", "model_costs", "markups", "subscriptions", "variants", "notes",
            "overrides"} <= set(seed_report)
    assert seed_report["overrides"] == {}
    assert_plain_numbers(seed_report)


def test_json_monthly_cost_breakdown(seed_report):
    h100 = by(seed_report["gpu_costs"], "gpu")["H100"]
    for key in ("depreciation_usd_per_month", "infra_usd_per_month", "power_usd_per_month",
                "staff_usd_per_month", "total_usd_per_month", "gpu_hour_usd"):
        assert type(h100[key]) is float, key
    assert h100["depreciation_usd_per_month"] == pytest.approx(833.3333333333333, rel=REL)
    assert h100["infra_usd_per_month"] == 350.0
    assert h100["power_usd_per_month"] == pytest.approx(66.43, rel=REL)
    assert h100["staff_usd_per_month"] == 150.0
    assert h100["total_usd_per_month"] == pytest.approx(1399.7633333333333, rel=REL)
    assert round(h100["total_usd_per_month"], 2) == 1399.76
    assert h100["gpu_hour_usd"] == pytest.approx(1.9174840182648402, rel=REL)
    assert round(h100["gpu_hour_usd"], 2) == 1.92


def test_json_cost_per_mtok_by_profile(seed_report):
    models = by(seed_report["model_costs"], "model")
    assert models["dense-70b"]["tokens_per_hour"] == pytest.approx(1.44e6, rel=REL)
    assert models["dense-70b"]["cost_usd_per_mtok"] == pytest.approx(1.331586123795028, rel=REL)
    assert round(models["dense-70b"]["cost_usd_per_mtok"], 2) == 1.33
    assert models["moe-284b-a13b"]["tokens_per_hour"] == pytest.approx(9e6, rel=REL)
    assert models["moe-284b-a13b"]["cost_usd_per_mtok"] == pytest.approx(0.21305377980720447, rel=REL)
    assert round(models["moe-284b-a13b"]["cost_usd_per_mtok"], 2) == 0.21
    assert round(models["moe-v4-pro-implied"]["cost_usd_per_mtok"], 2) == 0.50   # the seed's "~$0.50"


def test_json_markup_table(seed_report):
    rows = by(seed_report["markups"], "model")
    expected = {"DeepSeek V4 Flash": (0.28, 1.3), "DeepSeek V4 Pro": (0.87, 1.7),
                "Claude Opus 4.8": (25.0, 18.8), "Claude Sonnet 4.6": (15.0, 11.3), "GPT-5.5": (30.0, 22.5)}
    assert set(rows) == set(expected)
    for model, (price, printed) in expected.items():
        row = rows[model]
        assert row["price_usd_per_mtok"] == price
        assert type(row["markup"]) is float
        assert row["markup"] == pytest.approx(price / row["cost_usd_per_mtok"], rel=REL)
        assert round(row["markup"], 1) == printed, model
    assert rows["GPT-5.5"]["markup"] == pytest.approx(30 / DENSE, rel=REL)
    # the seed's 22.6x: $30 over the cost rounded to $1.33 first
    assert round(30 / round(rows["GPT-5.5"]["cost_usd_per_mtok"], 2), 1) == 22.6
    assert any("22.6x" in note and "1.33" in note for note in seed_report["notes"])


def test_json_subscription_recalculation(seed_report):
    wierda = seed_report["subscriptions"][0]
    assert wierda["subscription_usd_per_month"] == 180.0
    assert wierda["api_equivalent_usd_per_month"] == 450.0
    assert wierda["tokens_mtok_per_month"] == pytest.approx(18.0, rel=REL)
    assert wierda["hardware_cost_usd_per_month"] == pytest.approx(18 * DENSE, rel=REL)
    assert round(wierda["hardware_cost_usd_per_month"], 2) == 23.97
    assert round(wierda["hardware_cost_usd_per_month"]) == 24
    assert wierda["profit_usd_per_month"] == pytest.approx(180 - 18 * DENSE, rel=REL)
    assert round(wierda["profit_usd_per_month"], 2) == 156.03
    assert wierda["api_loss_usd_per_month"] == pytest.approx(-270.0, rel=REL)
    assert wierda["cost_with_rd_usd_per_month"] == pytest.approx(18 * (DENSE + 2), rel=REL)
    assert round(wierda["cost_with_rd_usd_per_month"], 2) == 59.97
    assert round(wierda["cost_with_rd_usd_per_month"], -1) == 60


def test_json_subscriptions_by_workload(seed_report):
    table = seed_report["subscriptions_by_workload"]
    keys = {"plan", "view", "workload", "price_model", "cost_basis", "price_usd_per_output_mtok",
            "output_mtok_per_month", "input_mtok_per_month", "cached_input_mtok_per_month",
            "cost_output_usd_per_month", "cost_input_usd_per_month", "cost_cached_input_usd_per_month",
            "hardware_cost_usd_per_month", "profit_usd_per_month", "cost_with_rd_usd_per_month",
            "profit_with_rd_usd_per_month"}
    assert all(set(r) == keys for r in table)
    seed, *mixed = table
    assert seed["view"] == "output only (the seed's view)"
    assert seed["hardware_cost_usd_per_month"] == pytest.approx(18 * DENSE, rel=REL)
    assert seed["cost_with_rd_usd_per_month"] == pytest.approx(18 * (DENSE + 2), rel=REL)
    chat = by(mixed, "workload")["chat"]
    # chat on Opus's $5 in / $25 out: $30 per output MTok, 15 MTok each way; input at a tenth
    # of the output cost (4,000 prefill tok/s against 400 decode)
    assert chat["output_mtok_per_month"] == pytest.approx(15.0, rel=REL)
    assert chat["hardware_cost_usd_per_month"] == pytest.approx(15 * DENSE * 1.1, rel=REL)
    assert chat["cost_with_rd_usd_per_month"] == pytest.approx(15 * DENSE * 1.1 + 30, rel=REL)


def test_json_subsidized_power_variant(seed_report):
    variant = seed_report["variants"]["subsidized-power"]
    assert variant["overrides"] == {"power_price_usd_per_kwh": 0.06}
    h100 = by(variant["gpu_costs"], "gpu")["H100"]
    assert h100["power_usd_per_month"] == pytest.approx(39.858, rel=REL)
    assert h100["gpu_hour_usd"] == pytest.approx(SUB_HOUR, rel=REL)
    assert round(h100["gpu_hour_usd"], 3) == 1.881
    dense = by(variant["model_costs"], "model")["dense-70b"]
    assert dense["cost_usd_per_mtok"] == pytest.approx(SUB_HOUR / 1.44, rel=REL)
    # the base figures are untouched by the variant
    assert by(seed_report["gpu_costs"], "gpu")["H100"]["power_usd_per_month"] == pytest.approx(66.43, rel=REL)


# --------------------------------------------------------------------------- other formats

def test_table_format_shows_the_key_figures(capsys):
    code, out, err = run_cli(capsys, "report")   # table is the default
    assert code == 0 and err == ""
    for figure in ("833.33", "350.00", "66.43", "150.00", "1,399.76", "1.9175", "1.3316", "0.2131",
                   "1.3x", "1.7x", "18.8x", "11.3x", "22.5x", "18", "23.97", "156.03", "59.97",
                   "39.86", "1.8811", "22.6x"):
        assert figure in out, figure
    assert "Variant subsidized-power" in out


def test_markdown_format_shows_the_key_figures(capsys):
    code, out, err = run_cli(capsys, "report", "--format", "markdown")
    assert code == 0 and err == ""
    assert "| Total per GPU-month | 1,399.76 |" in out
    assert "| Per GPU-hour | 1.9175 |" in out
    for figure in ("| 1.3316 |", "| 0.2131 |", "| 18.8x |", "| 22.5x |", "| 156.03 |", "| 59.97 |",
                   "| 39.86 |"):
        assert figure in out, figure
    assert out.count("|---") >= 4


def parse_csv_sections(text):
    """'# title' + CSV block, blank-line separated -> {title: [row dicts]}."""
    sections = {}
    for block in text.strip().split("\n\n"):
        block = block.strip()
        if not block:
            continue
        title, _, body = block.partition("\n")
        assert title.startswith("# "), title
        sections[title[2:]] = list(csv.DictReader(io.StringIO(body)))
    return sections


def test_csv_format_holds_full_precision_numbers(capsys):
    code, out, err = run_cli(capsys, "report", "--format", "csv")
    assert code == 0 and err == ""
    sections = parse_csv_sections(out)
    breakdown = {r["component"]: float(r["H100_usd"]) for r in sections["Monthly cost of one GPU (USD)"]}
    assert breakdown["Total per GPU-month"] == pytest.approx(TOTAL, rel=REL)
    assert breakdown["Per GPU-hour"] == pytest.approx(HOUR, rel=REL)
    assert breakdown["Power"] == pytest.approx(66.43, rel=REL)
    models = {r["model"]: float(r["cost_usd_per_mtok"])
              for r in sections["Cost per million output tokens by model profile"]}
    assert models["dense-70b"] == pytest.approx(DENSE, rel=REL)
    assert models["moe-284b-a13b"] == pytest.approx(MOE, rel=REL)
    markups = {r["model"]: float(r["markup"]) for r in sections["What they charge vs. what it costs"]}
    assert [round(markups[m], 1) for m in ("DeepSeek V4 Flash", "DeepSeek V4 Pro", "Claude Opus 4.8",
                                           "Claude Sonnet 4.6", "GPT-5.5")] == [1.3, 1.7, 18.8, 11.3, 22.5]
    subs = sections["Subscriptions recalculated at hardware cost (USD/month)"][0]
    assert float(subs["profit_usd_per_month"]) == pytest.approx(180 - 18 * DENSE, rel=REL)
    assert float(subs["cost_with_rd_usd_per_month"]) == pytest.approx(18 * (DENSE + 2), rel=REL)
    variant = [t for t in sections if t.startswith("Variant subsidized-power") and "monthly cost" in t]
    assert len(variant) == 1
    vb = {r["component"]: float(r["H100_usd"]) for r in sections[variant[0]]}
    assert vb["Power"] == pytest.approx(39.858, rel=REL)


def test_unknown_format_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["report", "--format", "xml"])
    assert info.value.code != 0
    assert "invalid choice" in capsys.readouterr().err


# --------------------------------------------------------------------------- --set and --data

def test_set_power_price_changes_power(capsys):
    data = report_json(capsys, "--set", "power_price_usd_per_kwh=0.06")
    assert data["overrides"] == {"power_price_usd_per_kwh": 0.06}
    h100 = data["gpu_costs"][0]
    assert h100["power_usd_per_month"] == pytest.approx(39.858, rel=REL)
    assert h100["gpu_hour_usd"] == pytest.approx(SUB_HOUR, rel=REL)


def test_repeated_set(capsys):
    data = report_json(capsys, "--set", "utilization=0.5", "--set", "tokens_per_s=800")
    dense = by(data["model_costs"], "model")["dense-70b"]
    assert dense["cost_usd_per_mtok"] == pytest.approx(HOUR / (800 * 3600 * 0.5 / 1e6), rel=REL)


@pytest.mark.parametrize("item, name", [
    ("pue=0.5", "pue"),
    ("utilization=1.5", "utilization"),
    ("depreciation_years=0", "depreciation_years"),
    ("tokens_per_s=-1", "tokens_per_s"),
    ("power_price_usd_per_kwh=cheap", "power_price_usd_per_kwh"),
    ("power_w=inf", "power_w"),
    ("nonexistent_input=1", "nonexistent_input"),
    ("pue", "--set"),
    ("=3", "--set"),
])
def test_bad_set_is_one_line_on_stderr(capsys, item, name):
    code, out, err = run_cli(capsys, "report", "--set", item, "--format", "json")
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tokencost report: error:")
    assert name in lines[0]
    assert "Traceback" not in err


def copy_data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_data_dir_with_an_edited_copy(capsys, tmp_path):
    folder = copy_data(tmp_path)
    path = folder / "hardware.csv"
    path.write_text(path.read_text().replace("H100,30000,700", "H100,36000,700"))
    data = report_json(capsys, "--data", str(folder))
    h100 = data["gpu_costs"][0]
    assert h100["depreciation_usd_per_month"] == pytest.approx(1000.0, rel=REL)
    assert h100["total_usd_per_month"] == pytest.approx(1000 + 350 + POWER + 150, rel=REL)


def test_data_dir_with_a_bad_cell_names_file_line_and_column(capsys, tmp_path):
    folder = copy_data(tmp_path)
    path = folder / "models.csv"
    path.write_text(path.read_text().replace("dense-70b,H100,400,", "dense-70b,H100,four hundred,"))
    code, out, err = run_cli(capsys, "report", "--data", str(folder))
    assert code != 0 and out == ""
    assert err.strip().splitlines() == [
        "tokencost report: error: models.csv line 2, column tokens_per_s: "
        "tokens_per_s must be a number, got text 'four hundred'"]


def test_data_dir_without_variants_file(capsys, tmp_path):
    folder = copy_data(tmp_path)
    (folder / "variants.csv").unlink()
    data = report_json(capsys, "--data", str(folder))
    assert data["variants"] == {}
    assert data["gpu_costs"][0]["gpu_hour_usd"] == pytest.approx(HOUR, rel=REL)


# --------------------------------------------------------------------------- the installed command

def console_command():
    script = Path(sys.executable).with_name("tokencost")
    if script.exists():
        return [str(script)]
    found = shutil.which("tokencost")
    return [found] if found else [sys.executable, "-m", "tokencost"]


def test_installed_console_script_json(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(console_command() + ["report", "--format", "json"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    h100 = data["gpu_costs"][0]
    assert h100["total_usd_per_month"] == pytest.approx(TOTAL, rel=REL)
    assert h100["gpu_hour_usd"] == pytest.approx(HOUR, rel=REL)
    assert round(by(data["markups"], "model")["GPT-5.5"]["markup"], 1) == 22.5
    assert data["variants"]["subsidized-power"]["gpu_costs"][0]["power_usd_per_month"] == pytest.approx(
        39.858, rel=REL)


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tokencost", "report", "--set", "pue=0"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "tokencost report: error: --set pue: pue must be >= 1, got 0"


def test_report_flags_the_seed_moe_on_one_h100(capsys):
    """The physics check: 284B parameters cannot sit on one 80 GB H100; the report says how
    many GPUs the per-GPU figure implies."""
    import json

    from tokencost.cli import main
    assert main(["report", "--format", "json"]) == 0
    flags = {r["model"]: r for r in json.loads(capsys.readouterr().out)["physics_checks"]}
    moe = flags["moe-284b-a13b"]
    assert moe["ok"] is False and moe["fits"] is False
    assert moe["min_gpus"] == 4
    assert moe["implied_replica_tokens_per_s"] == 10000
    assert "need at least 4 H100s" in moe["reason"]
    assert flags["dense-70b"]["ok"] is True
    assert main(["report"]) == 0   # the table wraps long text to the terminal width
    assert "need at least 4 H100s" in " ".join(capsys.readouterr().out.split())
