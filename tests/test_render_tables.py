"""Tables for people (finding F): numbers by unit, shares as %, text fits the terminal.

The unit rules are in one place, tokencost.render.unit_of, keyed on the column-name
vocabulary; the table format fits the terminal width. CSV and JSON keep plain numbers
at full precision.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tokencost.cli import main
from tokencost.render import format_number, frame_to_text, unit_of

ROOT = Path(__file__).resolve().parents[1]
FLEET = ["fleet", "--nodes", "10", "--gpus-per-node", "8", "--gpu-hour-cost", "2", "--hours", "720",
         "--input-tokens", "100e9", "--cached-input-tokens", "60e9", "--output-tokens", "20e9",
         "--price-input", "3", "--price-cached-input", "0.30", "--price-output", "15",
         "--tokens-per-s", "400"]
#: a valid run of every subcommand that prints a table
TABLE_COMMANDS = {
    "report": ["report"],
    "fleet": FLEET,
    "rent-vs-own": ["rent-vs-own"],
    "token-mix": ["token-mix", "--price-input", "5", "--price-cached-input", "0.5",
                  "--price-output", "25"],
    "power-budget": ["power-budget", "--facility-mw", "100"],
    "sensitivity": ["sensitivity", "--tornado", "--grid", "power_price_usd_per_kwh", "utilization",
                    "--steps", "3", "--montecarlo", "2000", "--seed", "1"],
    "bound": ["bound", "--gpu", "H100", "--model", "dense-70b", "--frontier", "--points", "6"],
    "prices import": ["prices", "import", str(ROOT / "tests" / "data" / "litellm_prices_sample.json")],
    "scenario list": ["scenario", "list", str(ROOT / "tokencost.xlsm")],
}
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def run(capsys, monkeypatch, argv, columns=None):
    if columns is not None:
        monkeypatch.setenv("COLUMNS", str(columns))
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return out


@pytest.mark.parametrize("name, value, shown", [
    ("cost_usd_per_mtok", 25.0, "25.0000"),
    ("price_usd_per_mtok", 0.28, "0.2800"),
    ("gpu_hour_usd", 1.9174840182648403, "1.9175"),
    ("rent_usd_per_gpu_hour", 2.1, "2.1000"),
    ("power_price_usd_per_kwh", 0.06, "0.0600"),
    ("total_usd_per_month", 1399.756, "1,399.76"),
    ("revenue_usd_per_day", 94944960.0, "94,944,960.00"),
    ("mtok_per_day", 3797798.4, "3,797,798.40"),
    ("tokens_mtok_per_month", 18.0, "18.00"),
    ("tokens_per_hour", 1.44e6, "1,440,000"),
    ("input_tokens", 1e11, "100,000,000,000"),
    ("tokens_per_s_per_mw", 439560.44, "439,560.4"),
    ("utilization", 1.0, "100.0%"),
    ("breakeven_utilization", 0.91309, "91.3%"),
    ("gross_margin", 0.9556, "95.6%"),
    ("cost_profit_margin", 2.8021, "280.2%"),
    ("share_of_traffic", 0.75, "75.0%"),
    ("cache_hit_share", 0.6, "60.0%"),
    ("cost_of_capital", 0.08, "8.0%"),
    ("markup", 22.52, "22.5x"),
    ("pue", 1.3, "1.3"),
    ("step_time_s", 0.022683, "0.02268"),
    ("gpus", 109890.0, "109,890"),
    ("weights_gb", 1e20, "100,000,000,000,000,000,000"),
])
def test_one_unit_rule_per_column_name(name, value, shown):
    assert format_number(value, unit_of(name)) == shown


def test_a_column_has_one_number_of_decimals():
    frame = pd.DataFrame({"price_usd_per_mtok": [0.28, 25.0, 30.0]})
    assert frame_to_text(frame).splitlines()[2:] == ["            0.2800", "           25.0000",
                                                     "           30.0000"]


@pytest.mark.parametrize("command", list(TABLE_COMMANDS))
@pytest.mark.parametrize("columns", [60, 100])
def test_every_table_fits_the_terminal_without_scientific_notation(capsys, monkeypatch, command,
                                                                   columns):
    out = run(capsys, monkeypatch, TABLE_COMMANDS[command], columns)
    for line in out.splitlines():
        assert len(line) <= columns or len(line.split()) == 1, (command, line)
        # "x 1e6" is prose; a file path (a temporary folder such as tmp.gRvIxs3e8u) is no number
        prose = " ".join(w for w in line.replace("1e6", "").split() if "/" not in w)
        assert not SCIENTIFIC.search(prose), (command, line)


def test_without_a_terminal_the_width_is_100(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = run(capsys, monkeypatch, ["report"])
    assert max(len(line) for line in out.splitlines()) <= 100
    reason = next(line for line in out.splitlines() if line.startswith("moe-284b-a13b  ")
                  and " no " in line)
    assert reason.endswith("moe-284b-a13b: 284B parameters (284 GB at FP8) need at")   # wrapped


def test_shares_are_percent_in_every_table(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["rent-vs-own"], 200)
    row = next(line for line in out.splitlines() if line.startswith("Epoch AI"))
    assert "91.3%" in row and "100.0%" in row and "0.9131" not in row
    out = run(capsys, monkeypatch, TABLE_COMMANDS["token-mix"], 200)
    assert "75.0%" in out and " 0.75 " not in out
    out = run(capsys, monkeypatch, FLEET, 200)
    assert "73.7%" in out and "280.2%" in out and "24.1%" in out


def test_money_and_token_counts_are_plain_numbers(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["power-budget", "--facility-mw", "100"], 300)
    assert "3,797,798.40" in out and "3.798e+06" not in out and "439,560.4" in out
    out = run(capsys, monkeypatch, ["report", "--format", "markdown"])
    assert "| 1,440,000 |" in out and "| 25.0000 |" in out and not SCIENTIFIC.search(out)


def test_rows_of_different_quantities_show_each_by_its_unit(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["report"], 100)
    assert re.search(r"Total per GPU-month\s+1,399\.76", out)
    assert re.search(r"Per GPU-hour\s+1\.9175", out)
    out = run(capsys, monkeypatch, TABLE_COMMANDS["sensitivity"], 200)
    assert re.search(r"utilization\s+100\.0%\s+50\.0%\s+100\.0%", out)
    assert re.search(r"gpu_price_usd\s+30,000\.00\s+24,000\.00\s+36,000\.00", out)
    out = run(capsys, monkeypatch, ["bound", "--gpu", "H100", "--model", "dense-70b"], 100)
    assert re.search(r"context_tokens\s+2,048\n", out) and re.search(r"gpu_hour_usd\s+1\.9175", out)


def test_csv_and_json_stay_plain_full_precision(capsys, monkeypatch):
    out = run(capsys, monkeypatch, ["power-budget", "--facility-mw", "100", "--format", "csv"])
    row = next(csv.DictReader(io.StringIO(out.split("\n", 1)[1])))
    assert float(row["mtok_per_day"]) == pytest.approx(3797798.4) and "," not in row["mtok_per_day"]
    assert row["utilization"] == "1.0"
    out = run(capsys, monkeypatch, ["bound", "--gpu", "H100", "--model", "dense-70b", "--format", "csv"])
    fields = {r["field"]: r["value"] for r in csv.DictReader(io.StringIO(out))}
    assert fields["context_tokens"] == "2048.0" and fields["gpu_hour_usd"].startswith("1.91748401826")
    out = run(capsys, monkeypatch, ["report", "--format", "json"])
    assert json.loads(out)["gpu_costs"][0]["gpu_hour_usd"] == pytest.approx(1.9174840182648403,
                                                                            rel=1e-15)
