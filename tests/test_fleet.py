"""Deployment extensions: rent vs own, token mix, power budget, fleet P&L (core, orchestration, CLI).

Golden figures are written out by hand from the seed's inputs; REL = 1e-12
relative (floating-point rounding only).
"""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost.inputs.reference_tables import read_catalog
from tokencost.cli import main
from tokencost.core import fleet as cf
from tokencost.inputs.datasets import DATA_DIR
from tokencost.analysis.deployment import fleet, power_budget, profile_point, rent_vs_own, token_mix
from tokencost.errors import InputError

REL = 1e-12
HOUR = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730  # seed $/GPU-hour, 1.917484...
DENSE = HOUR / 1.44  # seed dense-70b $/MTok, 1.331586...
TESTS_DATA = __import__("pathlib").Path(__file__).with_name("data")


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- fleet P&L

# Hand-checked example (the one in `tokencost fleet --help`):
#   10 nodes x 8 GPUs x 720 h           = 57,600 GPU-hours
#   cost     = 57,600 x $2.00            = $115,200
#   input    = 100e9 tokens, of which 60e9 cached -> 40e9 uncached
#   revenue  = 40,000 MTok x $3.00       = $120,000   (uncached input)
#            + 60,000 MTok x $0.30       =  $18,000   (cached input)
#            + 20,000 MTok x $15.00      = $300,000   (output)
#            =                             $438,000
#   gross profit       = 438,000 - 115,200 = $322,800
#   gross margin       = 322,800 / 438,000 = 0.736986...
#   cost-profit margin = 322,800 / 115,200 = 2.802083...
FLEET_ARGS = dict(nodes=10, gpus_per_node=8, gpu_hour_usd=2.0, hours=720, input_tokens=100e9,
                  cached_input_tokens=60e9, output_tokens=20e9, price_input_usd_per_mtok=3.0,
                  price_cached_input_usd_per_mtok=0.30, price_output_usd_per_mtok=15.0)
FLEET_EXPECTED = {
    "gpu_hours": 57_600.0, "cost_usd": 115_200.0, "revenue_input_usd": 120_000.0,
    "revenue_cached_input_usd": 18_000.0, "revenue_output_usd": 300_000.0,
    "revenue_usd": 438_000.0, "gross_profit_usd": 322_800.0,
    "gross_margin": 322_800 / 438_000, "cost_profit_margin": 322_800 / 115_200,
}


def test_fleet_pnl_hand_checked_example():
    res = cf.fleet_pnl(**FLEET_ARGS)
    for key, value in FLEET_EXPECTED.items():
        assert res[key] == pytest.approx(value, rel=REL), key
    assert res["gross_margin"] == pytest.approx(0.736986, abs=5e-7)
    assert res["cost_profit_margin"] == pytest.approx(2.802083, abs=5e-7)


def test_fleet_cli_reproduces_hand_checked_example(capsys):
    code, out, err = run_cli(capsys, "fleet", "--nodes", 10, "--gpus-per-node", 8,
                             "--gpu-hour-cost", 2, "--hours", 720, "--input-tokens", "100e9",
                             "--cached-input-tokens", "60e9", "--output-tokens", "20e9",
                             "--price-input", 3, "--price-cached-input", 0.30,
                             "--price-output", 15, "--format", "json")
    assert code == 0, err
    row = json.loads(out)["fleet"][0]
    for key, value in FLEET_EXPECTED.items():
        assert row[key] == pytest.approx(value, rel=REL), key


def test_fleet_cli_table_and_tco_basis(capsys):
    code, out, _ = run_cli(capsys, "fleet", "--nodes", 1, "--gpus-per-node", 8, "--hours", 730,
                           "--input-tokens", 0, "--output-tokens", "1e9", "--price-input", 3,
                           "--price-output", 15, "--tokens-per-s", 400, "--format", "json")
    assert code == 0
    data = json.loads(out)
    row = data["fleet"][0]
    assert "TCO build-up of H100" in data["gpu_hour_cost_basis"]
    assert row["gpu_hour_usd"] == pytest.approx(HOUR, rel=REL)
    assert row["cost_usd"] == pytest.approx(8 * 730 * HOUR, rel=REL)
    # 1e9 tokens / (400 tok/s x 3600 x 5,840 GPU-h)
    assert row["implied_utilization"] == pytest.approx(1e9 / (400 * 3600 * 5840), rel=REL)
    code, out, _ = run_cli(capsys, "fleet", "--nodes", 10, "--gpus-per-node", 8,
                           "--gpu-hour-cost", 2, "--hours", 720, "--input-tokens", "100e9",
                           "--cached-input-tokens", "60e9", "--output-tokens", "20e9",
                           "--price-input", 3, "--price-cached-input", 0.30, "--price-output", 15)
    assert code == 0 and "438,000.00" in out and "73.7%" in out


def test_fleet_cached_over_input_is_refused_naming_the_argument(capsys):
    with pytest.raises(InputError, match=r"^cached_input_tokens must be <= input_tokens, got 2e\+09 > 1e\+09"):
        cf.fleet_pnl(**{**FLEET_ARGS, "input_tokens": 1e9, "cached_input_tokens": 2e9})
    with pytest.raises(InputError) as err:
        cf.fleet_pnl(**{**FLEET_ARGS, "input_tokens": [5e9, 1e9], "cached_input_tokens": [1e9, 3e9]})
    assert err.value.where == "cached_input_tokens" and "3e+09 > 1e+09" in str(err.value)
    code, _, err_text = run_cli(capsys, "fleet", "--nodes", 1, "--gpus-per-node", 1, "--gpu-hour-cost", 1,
                                "--hours", 1, "--input-tokens", 10, "--cached-input-tokens", 20,
                                "--output-tokens", 1, "--price-input", 1, "--price-cached-input", 0.1,
                                "--price-output", 1)
    assert code == 2 and "cached_input_tokens must be <= input_tokens" in err_text
    code, _, err_text = run_cli(capsys, "fleet", "--nodes", 1, "--gpus-per-node", 1, "--gpu-hour-cost", 1,
                                "--hours", 1, "--input-tokens", 10, "--cached-input-tokens", 5,
                                "--output-tokens", 1, "--price-input", 1, "--price-output", 1)
    assert code == 2 and "--price-cached-input is required" in err_text


@pytest.mark.parametrize("name", ["nodes", "hours", "output_tokens", "price_output_usd_per_mtok"])
def test_fleet_negative_inputs_name_the_argument(name):
    with pytest.raises(InputError, match=rf"^{name} must be >= 0, got -1$"):
        cf.fleet_pnl(**{**FLEET_ARGS, name: -1})


def test_fleet_margins_undefined_at_zero_revenue_or_cost():
    res = cf.fleet_pnl(**{**FLEET_ARGS, "price_input_usd_per_mtok": 0, "price_cached_input_usd_per_mtok": 0,
                          "price_output_usd_per_mtok": 0})
    assert math.isnan(res["gross_margin"]) and res["cost_profit_margin"] == pytest.approx(-1.0, rel=REL)
    res = cf.fleet_pnl(**{**FLEET_ARGS, "gpu_hour_usd": 0})
    assert math.isnan(res["cost_profit_margin"]) and res["gross_margin"] == pytest.approx(1.0, rel=REL)


def test_fleet_pnl_vectorized_series_keeps_index():
    nodes = pd.Series([10, 20], index=["a", "b"])
    res = cf.fleet_pnl(**{**FLEET_ARGS, "nodes": nodes})
    assert list(res["cost_usd"].index) == ["a", "b"]
    assert res["cost_usd"].tolist() == pytest.approx([115_200.0, 230_400.0], rel=REL)
    assert res["revenue_usd"].tolist() == pytest.approx([438_000.0, 438_000.0], rel=REL)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1e12), st.floats(0, 1), st.floats(0, 1e12), st.floats(0.01, 100), st.floats(0, 1))
def test_fleet_revenue_is_linear_in_volumes_and_caching_never_raises_it(tin, cached_share, tout, price, disc):
    # at a cached price below the input price, serving more input from cache lowers revenue
    args = {**FLEET_ARGS, "input_tokens": tin, "cached_input_tokens": tin * cached_share,
            "output_tokens": tout, "price_input_usd_per_mtok": price,
            "price_cached_input_usd_per_mtok": price * disc}
    res = cf.fleet_pnl(**args)
    none_cached = cf.fleet_pnl(**{**args, "cached_input_tokens": 0})
    assert res["revenue_usd"] <= none_cached["revenue_usd"] * (1 + 1e-12) + 1e-9
    doubled = cf.fleet_pnl(**{**args, "input_tokens": 2 * tin, "cached_input_tokens": 2 * tin * cached_share,
                               "output_tokens": 2 * tout})
    assert doubled["revenue_usd"] == pytest.approx(2 * res["revenue_usd"], rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- rent vs own

def test_breakeven_utilization_golden():
    # seed own $1.917484/h against Lambda's $3.99/h on demand: 1.917484 / 3.99 = 0.480573
    assert cf.rent_vs_own_breakeven_utilization(HOUR, 3.99) == pytest.approx(HOUR / 3.99, rel=REL)
    assert cf.rent_vs_own_breakeven_utilization(HOUR, 3.99) == pytest.approx(0.4806, abs=5e-5)
    with pytest.raises(InputError, match="^rent_gpu_hour_usd must be > 0, got 0$"):
        cf.rent_vs_own_breakeven_utilization(HOUR, 0)


def test_rent_vs_own_costs_cross_at_breakeven():
    u = HOUR / 3.99
    res = cf.rent_vs_own_cost_per_mtok(HOUR, 3.99, 400, u)
    assert res["owned_usd_per_mtok"] == pytest.approx(res["rented_usd_per_mtok"], rel=1e-12)
    # rented cost does not depend on utilization (busy hours only): 3.99 / 1.44
    low = cf.rent_vs_own_cost_per_mtok(HOUR, 3.99, 400, 0.25)
    assert low["rented_usd_per_mtok"] == pytest.approx(3.99 / 1.44, rel=REL)
    assert low["owned_usd_per_mtok"] == pytest.approx(DENSE / 0.25, rel=REL)
    assert low["owned_usd_per_mtok"] > low["rented_usd_per_mtok"]


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 10), st.floats(0.1, 10), st.floats(10, 10_000), st.floats(0.01, 1))
def test_owning_wins_exactly_above_breakeven(own, rent, tps, util):
    res = cf.rent_vs_own_cost_per_mtok(own, rent, tps, util)
    if util > res["breakeven_utilization"] * (1 + 1e-9):
        assert res["owned_usd_per_mtok"] < res["rented_usd_per_mtok"]
    elif util < res["breakeven_utilization"] * (1 - 1e-9):
        assert res["owned_usd_per_mtok"] > res["rented_usd_per_mtok"]


def test_rent_vs_own_table(seed_inputs):
    t = rent_vs_own(seed_inputs, read_catalog("rental_prices.csv"), read_catalog("tco_reference.csv"),
                    utilization=0.6, rent_gpu_hour_usd=2.5)
    table = t["rent_vs_own"]
    assert set(table["provider"]) == {"Epoch AI inference-economics notebook", "CoreWeave (via Vidur constants)",
                                      "CoreWeave list", "Lambda", "AWS Capacity Blocks", "(given)"}
    lam = table[table["provider"] == "Lambda"].iloc[0]
    assert lam["breakeven_utilization"] == pytest.approx(HOUR / 3.99, rel=REL)
    assert lam["owned_usd_per_mtok"] == pytest.approx(DENSE / 0.6, rel=REL)
    assert lam["cheaper"] == "own"
    epoch = table[table["provider"].str.startswith("Epoch")].iloc[0]
    assert epoch["cheaper"] == "rent"  # 2.10 x 0.6 < 1.9175
    ref = t["own_reference"]
    hyper = ref[ref["basis"] == "hyperscaler own (reference)"].iloc[0]
    assert hyper["usd_per_gpu_hour"] == 1.30
    assert hyper["usd_per_mtok"] == pytest.approx(1.30 / (400 * 3600 * 0.6 / 1e6), rel=REL)


def test_rent_vs_own_cli(capsys):
    code, out, _ = run_cli(capsys, "rent-vs-own", "--utilization", 0.5, "--format", "json")
    assert code == 0
    rows = json.loads(out)["rent_vs_own"]
    assert {r["provider"] for r in rows} >= {"Lambda", "CoreWeave list"}
    code, out, _ = run_cli(capsys, "rent-vs-own")
    assert code == 0 and "breakeven_utilization" in out and "never" in out


# --------------------------------------------------------------------------- shipped catalogs

def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_rental_catalog_matches_reference_copy():
    assert _rows(DATA_DIR / "rental_prices.csv") == _rows(TESTS_DATA / "rental_prices.csv")


def test_tco_catalog_matches_reference_copy_with_sources_spelled_out():
    shipped, ref = _rows(DATA_DIR / "tco_reference.csv"), _rows(TESTS_DATA / "tco_per_gpu_hour.csv")
    assert [r["gpu"] for r in shipped] == [r["gpu"] for r in ref]
    for s, r in zip(shipped, ref):
        for key in r:
            if key != "source":
                assert s[key] == r[key], (r["gpu"], key)
        assert s["source"] != "same" and "SemiAnalysis" in s["source"]


def test_catalog_errors_name_file_line_and_column(tmp_path):
    (tmp_path / "rental_prices.csv").write_text("provider,gpu,usd_per_gpu_hour\nX,H100,abc\n")
    with pytest.raises(InputError, match=r"rental_prices.csv line 2, column usd_per_gpu_hour: .*got text 'abc'"):
        read_catalog("rental_prices.csv", tmp_path)
    (tmp_path / "rental_prices.csv").write_text("provider,gpu,usd_per_gpu_hour\nX,H100,-1\n")
    with pytest.raises(InputError, match=r"line 2, column usd_per_gpu_hour: usd_per_gpu_hour must be > 0"):
        read_catalog("rental_prices.csv", tmp_path)


# --------------------------------------------------------------------------- token mix

def test_token_costs_and_blends_golden():
    # input: $1.917484 / (4,000 x 3600 / 1e6) = $0.133159; cached 0.1 x that; output $1.331586
    c = cf.token_costs_usd_per_mtok(HOUR, 400, 4000, cached_input_cost_factor=0.1)
    assert c["input_cost_usd_per_mtok"] == pytest.approx(HOUR / 14.4, rel=REL)
    assert c["cached_input_cost_usd_per_mtok"] == pytest.approx(0.1 * HOUR / 14.4, rel=REL)
    assert c["output_cost_usd_per_mtok"] == pytest.approx(DENSE, rel=REL)
    # 3:1, half the input cached: (3 x (0.5 x 0.133159 + 0.5 x 0.0133159) + 1.331586) / 4
    blended = (3 * (0.5 * HOUR / 14.4 + 0.5 * 0.1 * HOUR / 14.4) + DENSE) / 4
    assert cf.blended_cost_usd_per_mtok(HOUR, 400, 4000, 3, 0.5, cached_input_cost_factor=0.1) == \
        pytest.approx(blended, rel=REL)
    # Artificial Analysis 3:1 blend of $3 in / $15 out = (3 x 3 + 15) / 4 = $6
    assert cf.blended_price_usd_per_mtok(3, 0.3, 15, 3, 0) == pytest.approx(6.0, rel=REL)
    assert cf.blended_price_usd_per_mtok(3, 0.3, 15, 3, 0.5) == pytest.approx((3 * 1.65 + 15) / 4, rel=REL)
    via_tps = cf.token_costs_usd_per_mtok(HOUR, 400, 4000, cached_prefill_tokens_per_s=40000)
    assert via_tps["cached_input_cost_usd_per_mtok"] == pytest.approx(HOUR / 144, rel=REL)


def test_token_costs_need_exactly_one_cached_basis():
    with pytest.raises(InputError, match="exactly one"):
        cf.token_costs_usd_per_mtok(HOUR, 400, 4000)
    with pytest.raises(InputError, match="exactly one"):
        cf.token_costs_usd_per_mtok(HOUR, 400, 4000, 0.1, 40000)
    with pytest.raises(InputError, match="^cache_hit_share must be <= 1, got 1.5$"):
        cf.blended_price_usd_per_mtok(3, 0.3, 15, 3, 1.5)
    with pytest.raises(InputError, match="^prefill_tokens_per_s must be > 0, got 0$"):
        cf.token_costs_usd_per_mtok(HOUR, 400, 0, 0.1)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 100), st.floats(0, 1), st.floats(0, 50), st.floats(0, 50), st.floats(0, 50))
def test_blended_price_lies_between_its_parts(ratio, hit, pin, pc, pout):
    b = cf.blended_price_usd_per_mtok(pin, pc, pout, ratio, hit)
    lo, hi = min(pin, pc, pout), max(pin, pc, pout)
    assert lo - 1e-9 <= b <= hi + 1e-9


def test_token_mix_table_and_cli(seed_inputs, capsys):
    t = token_mix(seed_inputs, read_catalog("token_mix.csv"),
                  overrides={"cache_hit_share": 0.5, "price_input_usd_per_mtok": 3,
                             "price_cached_input_usd_per_mtok": 0.3, "price_output_usd_per_mtok": 15})
    blended = t[t["token_kind"] == "blended"].iloc[0]
    assert blended["price_usd_per_mtok"] == pytest.approx((3 * 1.65 + 15) / 4, rel=REL)
    assert blended["share_of_traffic"] == 1.0
    assert t["share_of_traffic"].iloc[:3].sum() == pytest.approx(1.0, rel=REL)
    code, out, _ = run_cli(capsys, "token-mix", "--input-output-ratio", 1, "--format", "json")
    assert code == 0
    rows = {r["token_kind"]: r for r in json.loads(out)["token_mix"]}
    assert rows["blended"]["cost_usd_per_mtok"] == pytest.approx((HOUR / 14.4 + DENSE) / 2, rel=REL)
    code, _, err = run_cli(capsys, "token-mix", "--model", "moe-v4-pro-implied")
    assert code == 2 and "--prefill-tokens-per-s" in err
    code, _, err = run_cli(capsys, "token-mix", "--price-input", 3)
    assert code == 2 and "all three" in err


# --------------------------------------------------------------------------- power

def test_energy_and_tokens_per_mw_golden():
    # 700 W x 1.3 / 400 tok/s = 2.275 J/token; 1e6 W / 910 W x 400 = 439,560.44 tok/s per MW
    assert cf.energy_j_per_token(700, 1.3, 400) == pytest.approx(2.275, rel=REL)
    assert cf.tokens_per_s_per_mw(700, 1.3, 400) == pytest.approx(1e6 / 910 * 400, rel=REL)
    assert cf.tokens_per_s_per_mw(700, 1.3, 400, 0.5) == pytest.approx(1e6 / 910 * 200, rel=REL)
    with pytest.raises(InputError, match="^pue must be >= 1, got 0.9$"):
        cf.energy_j_per_token(700, 0.9, 400)


def test_fleet_from_power_budget_golden():
    # 100 MW / (700 W x 1.3) = 109,890.1 -> 109,890 GPUs; x 400 tok/s = 43,956,000 tok/s
    # cost/day = 109,890 x $1.917484 x 24; revenue/day = 43,956,000 x 86,400 / 1e6 x $25
    res = cf.fleet_from_power_budget(100, 700, 1.3, 400, HOUR, 25.0)
    assert res["gpus"] == 109_890
    assert res["fleet_tokens_per_s"] == pytest.approx(43_956_000, rel=REL)
    assert res["cost_usd_per_day"] == pytest.approx(109_890 * HOUR * 24, rel=REL)
    assert res["revenue_usd_per_day"] == pytest.approx(43_956_000 * 86_400 / 1e6 * 25, rel=REL)
    assert res["cost_usd_per_mtok"] == pytest.approx(DENSE, rel=1e-12)
    assert res["facility_power_mw"] <= 100
    # an exactly divisible budget is not floored one GPU short: 0.91 MW / 910 W = 1,000 GPUs
    assert cf.fleet_from_power_budget(0.91, 700, 1.3, 400, HOUR, 1)["gpus"] == 1000


def test_power_budget_table_and_cli(seed_inputs, capsys):
    t = power_budget(seed_inputs, 100)
    assert set(t["price_of"]) == {"Anthropic Claude Opus 4.8", "Anthropic Claude Sonnet 4.6", "OpenAI GPT-5.5"}
    assert (t["gpus"] == 109_890).all()
    code, out, _ = run_cli(capsys, "power-budget", "--facility-mw", 100, "--power-w", 1730,
                           "--price", 2, "--format", "json")
    assert code == 0
    row = json.loads(out)["power_budget"][0]
    assert row["gpus"] == math.floor(100e6 / (1730 * 1.3))
    # the given power also feeds the power term of the $/GPU-hour build-up
    hour_1730 = (30000 / 36 + 350 + 1.73 * 1.3 * 730 * 0.10 + 150) / 730
    assert row["gpu_hour_usd"] == pytest.approx(hour_1730, rel=REL)
    assert row["j_per_token"] == pytest.approx(1730 * 1.3 / 400, rel=REL)


def test_profile_point_unknown_model(seed_inputs):
    with pytest.raises(InputError, match="unknown model profile 'nope'; known: dense-70b"):
        profile_point(seed_inputs, "nope")
    assert profile_point(seed_inputs, "DENSE-70B")["tokens_per_s"] == 400


def test_fleet_table_shape():
    t = fleet(**{k: v for k, v in FLEET_ARGS.items()}, tokens_per_s=None)
    assert len(t) == 1 and "implied_utilization" not in t.columns
    assert np.isclose(t["revenue_usd"].iloc[0], 438_000.0, rtol=REL)


def test_help_has_examples(capsys):
    for cmd in (["fleet"], ["rent-vs-own"], ["token-mix"], ["power-budget"], ["sensitivity"],
                ["prices", "import"]):
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        out = capsys.readouterr().out
        assert "Example" in out, cmd


@pytest.mark.parametrize("command", [["rent-vs-own"], ["token-mix"],
                                     ["power-budget", "--facility-mw", "100"],
                                     ["sensitivity", "--tornado"]])
def test_commands_read_an_edited_workbook_like_the_same_set(command, tmp_path, capsys):
    """BOOK gives what --set gives for the same edit: the inputs come from the workbook."""
    from openpyxl import load_workbook
    from tokencost.workbook.spec import REPO_ROOT
    from workbook_helpers import set_table_value
    book = tmp_path / "edited.xlsm"
    wb = load_workbook(REPO_ROOT / "tokencost.xlsm", keep_vba=True)
    set_table_value(wb, "CostComponents", "gpu", "H100", "power_price_usd_per_kwh", 0.06)
    wb.save(book)
    code, from_book, err = run_cli(capsys, *command, book, "--format", "json")
    assert code == 0, err
    code, from_set, err = run_cli(capsys, *command, "--set", "power_price_usd_per_kwh=0.06",
                                  "--format", "json")
    assert code == 0, err
    assert json.loads(from_book) == json.loads(from_set)
    code, default, _ = run_cli(capsys, *command, "--format", "json")
    assert json.loads(default) != json.loads(from_book)     # the edit did change the answer
