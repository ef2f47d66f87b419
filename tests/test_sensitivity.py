"""Sensitivity: tornado, 2-D grid, Monte Carlo (orchestration and CLI).

Golden figures from the seed's dense-70b on H100 point; REL = 1e-12 relative.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost.analysis import sensitivity as sens
from tokencost.inputs.reference_tables import read_catalog
from tokencost.cli import main
from tokencost.cli.sensitivity import ProgressBar
from tokencost.analysis.deployment import PROFILE_INPUTS, cost_usd_per_mtok_of, profile_point
from tokencost.errors import InputError

REL = 1e-12
HOUR = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730
DENSE = HOUR / 1.44


@pytest.fixture(scope="module")
def point():
    from tokencost.inputs.datasets import load_defaults
    return profile_point(load_defaults(), "dense-70b")


@pytest.fixture(scope="module")
def ranges():
    return read_catalog("sensitivity_ranges.csv")


@pytest.fixture(scope="module")
def dists():
    return read_catalog("distributions.csv")


def fixed_table(**values):
    rows = [{"input": k, "distribution": "fixed", "basis": "absolute", "low": np.nan, "mode": v,
             "high": np.nan, "mu": np.nan, "sigma": np.nan, "source": ""} for k, v in values.items()]
    return pd.DataFrame(rows)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_base_point_is_the_seed(point):
    assert float(cost_usd_per_mtok_of({k: point[k] for k in PROFILE_INPUTS})) == pytest.approx(DENSE, rel=REL)


# --------------------------------------------------------------------------- tornado

def test_tornado_golden_and_sorted(point, ranges):
    t = sens.tornado(point, sens.input_ranges(point, ranges))
    swings = t["swing_usd_per_mtok"].to_numpy()
    assert (np.diff(swings) <= 0).all()
    rows = t.set_index("input")
    # tokens_per_s +/-20% (no range row): 1.331586 / 0.8 and / 1.2
    assert rows.loc["tokens_per_s", "cost_at_low_usd_per_mtok"] == pytest.approx(DENSE / 0.8, rel=REL)
    assert rows.loc["tokens_per_s", "cost_at_high_usd_per_mtok"] == pytest.approx(DENSE / 1.2, rel=REL)
    # utilization from the range table: 0.5 doubles the cost, 1.0 is the seed
    assert rows.loc["utilization", "cost_at_low_usd_per_mtok"] == pytest.approx(2 * DENSE, rel=REL)
    assert rows.loc["utilization", "cost_at_high_usd_per_mtok"] == pytest.approx(DENSE, rel=REL)
    assert t["input"].iloc[0] == "utilization"
    # power price $0.05: (833.33 + 350 + 0.7 x 1.3 x 730 x 0.05 + 150) / 730 / 1.44
    low_power = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.05 + 150) / 730 / 1.44
    assert rows.loc["power_price_usd_per_kwh", "cost_at_low_usd_per_mtok"] == pytest.approx(low_power, rel=REL)
    assert "hours_per_month" not in rows.index
    assert t["base_cost_usd_per_mtok"].tolist() == pytest.approx([DENSE] * len(t), rel=REL)


def test_default_delta_is_clipped_to_valid_range(point):
    r = sens.input_ranges(point, None, 0.2).set_index("input")
    assert r.loc["utilization", "high"] == 1.0 and "clipped" in r.loc["utilization", "note"]
    assert r.loc["pue", "low"] == pytest.approx(1.04, rel=REL)
    assert r.loc["gpu_price_usd", "low"] == pytest.approx(24000, rel=REL)
    with pytest.raises(InputError, match="--delta must be in"):
        sens.input_ranges(point, None, 1.5)


def test_range_table_errors_name_file_and_line(point, tmp_path):
    path = tmp_path / "sensitivity_ranges.csv"
    path.write_text("input,basis,low,high\nutilisation,absolute,0.5,1\n")
    with pytest.raises(InputError, match=r"sensitivity_ranges.csv line 2, column input: unknown input 'utilisation'"):
        sens.input_ranges(point, read_catalog("sensitivity_ranges.csv", path=path))
    path.write_text("input,basis,low,high\npue,absolute,1.5,1.2\n")
    with pytest.raises(InputError, match=r"line 2, column low: low 1.5 is above high 1.2"):
        sens.input_ranges(point, read_catalog("sensitivity_ranges.csv", path=path))
    path.write_text("input,basis,low,high\ncost_of_capital,absolute,0,1.5\n")
    with pytest.raises(InputError, match=r"cost_of_capital high 1.5 must be < 1"):
        sens.input_ranges(point, read_catalog("sensitivity_ranges.csv", path=path))


# --------------------------------------------------------------------------- grid

def test_grid_golden(point, ranges):
    table = sens.input_ranges(point, ranges, names=["power_price_usd_per_kwh", "utilization"])
    g = sens.grid(point, "power_price_usd_per_kwh", "utilization", table, steps=3)
    assert g["x_values"].tolist() == pytest.approx([0.05, 0.10, 0.15], rel=REL)
    assert g["y_values"].tolist() == pytest.approx([0.5, 0.75, 1.0], rel=REL)
    assert g["cost_usd_per_mtok"].shape == (3, 3)
    assert g["cost_usd_per_mtok"][1, 2] == pytest.approx(DENSE, rel=REL)
    assert g["cost_usd_per_mtok"][1, 0] == pytest.approx(2 * DENSE, rel=REL)
    frame = sens.grid_frame(g)
    assert list(frame.columns) == ["power_price_usd_per_kwh", "utilization=0.5", "utilization=0.75",
                                   "utilization=1"]


@settings(max_examples=25, deadline=None)
@given(st.floats(50, 5000), st.floats(0.1, 1.0), st.floats(0.01, 0.5))
def test_doubling_throughput_halves_the_grid_cost(point, tps, util, power_price):
    base = {**point, "tokens_per_s": tps, "utilization": util, "power_price_usd_per_kwh": power_price}
    table = pd.DataFrame({"input": ["tokens_per_s", "power_price_usd_per_kwh"], "base": [tps, power_price],
                          "low": [tps, 0.01], "high": [2 * tps, 0.5], "source": "", "note": ""})
    g = sens.grid(base, "tokens_per_s", "power_price_usd_per_kwh", table, steps=2)
    np.testing.assert_allclose(g["cost_usd_per_mtok"][1], g["cost_usd_per_mtok"][0] / 2, rtol=1e-12)


def test_grid_errors(point, ranges):
    table = sens.input_ranges(point, ranges)
    with pytest.raises(InputError, match="two different inputs"):
        sens.grid(point, "pue", "pue", table)
    with pytest.raises(InputError, match="unknown input 'price'"):
        sens.grid(point, "price", "pue", table)
    with pytest.raises(InputError, match="--steps must be between 2 and 1001, got 1"):
        sens.grid(point, "pue", "utilization", table, steps=1)


# --------------------------------------------------------------------------- Monte Carlo

def test_montecarlo_all_fixed_gives_the_seed(point):
    mc = sens.monte_carlo(point, fixed_table(utilization=1.0), 1000, seed=1)
    for key in ("p10", "p50", "p90", "mean", "min", "max"):
        assert mc[key] == pytest.approx(DENSE, rel=REL)
    assert int(np.sum(mc["histogram"]["counts"])) == 1000


def test_montecarlo_seeded_reproducible_and_ordered(point, dists):
    a = sens.monte_carlo(point, dists, 30_000, seed=7)
    b = sens.monte_carlo(point, dists, 30_000, seed=7)
    c = sens.monte_carlo(point, dists, 30_000, seed=8)
    assert (a["p10"], a["p50"], a["p90"]) == (b["p10"], b["p50"], b["p90"])
    assert a["p50"] != c["p50"]
    assert a["min"] <= a["p10"] <= a["p50"] <= a["p90"] <= a["max"]
    assert np.sum(a["histogram"]["counts"]) == 30_000
    # shipped distributions put utilization below the seed's 1.0, so the median is above the seed
    assert a["p50"] > DENSE


def test_montecarlo_chunks_are_one_stream(point, dists):
    # chunking changes nothing about the statistics' validity, and a result is stable per chunk size
    a = sens.monte_carlo(point, dists, 5_000, seed=3, chunk=1_000)
    b = sens.monte_carlo(point, dists, 5_000, seed=3, chunk=1_000)
    assert a["p50"] == b["p50"]


def test_montecarlo_uniform_utilization_golden(point):
    # cost = DENSE / u with u ~ U(0.5, 1): median of 1/u is 1/0.75 exactly; P10 -> u at P90 = 0.95
    table = pd.DataFrame([{"input": "utilization", "distribution": "uniform", "basis": "absolute",
                           "low": 0.5, "mode": np.nan, "high": 1.0, "mu": np.nan, "sigma": np.nan,
                           "source": ""}])
    mc = sens.monte_carlo(point, table, 400_000, seed=11)
    assert mc["p50"] == pytest.approx(DENSE / 0.75, rel=3e-3)
    assert mc["p10"] == pytest.approx(DENSE / 0.95, rel=3e-3)
    assert mc["p90"] == pytest.approx(DENSE / 0.55, rel=3e-3)


def test_montecarlo_lognormal_relative_median(point):
    # tokens/s lognormal around the base: median cost = the seed's cost
    table = pd.DataFrame([{"input": "tokens_per_s", "distribution": "lognormal", "basis": "relative",
                           "low": np.nan, "mode": np.nan, "high": np.nan, "mu": 0.0, "sigma": 0.3,
                           "source": ""}])
    mc = sens.monte_carlo(point, table, 400_000, seed=5)
    assert mc["p50"] == pytest.approx(DENSE, rel=3e-3)
    assert mc["p90"] == pytest.approx(DENSE * np.exp(1.2815515655 * 0.3), rel=5e-3)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.floats(0.05, 0.95), st.floats(0.01, 0.5))
def test_percentiles_are_ordered(point, seed, n, lo_util, width):
    hi = min(1.0, lo_util + width)
    table = pd.DataFrame([{"input": "utilization", "distribution": "triangular", "basis": "absolute",
                           "low": lo_util, "mode": lo_util, "high": hi, "mu": np.nan, "sigma": np.nan,
                           "source": ""}])
    mc = sens.monte_carlo(point, table, n, seed=seed, bins=10)
    assert mc["min"] <= mc["p10"] <= mc["p50"] <= mc["p90"] <= mc["max"]


@pytest.mark.parametrize("row, message", [
    ({"input": "utilization", "distribution": "lognormal", "mu": 0, "sigma": 0.1},
     "a lognormal can leave utilization's valid range"),
    ({"input": "utilization", "distribution": "uniform", "low": 0.5, "high": 1.2},
     "utilization high 1.2 is above its bound <= 1"),
    ({"input": "pue", "distribution": "triangular", "low": 1.1, "mode": 1.7, "high": 1.5},
     "need low <= mode <= high"),
    ({"input": "tokens_per_s", "distribution": "uniform", "low": 100},
     "a uniform distribution needs high"),
    ({"input": "bogus", "distribution": "fixed", "mode": 1},
     "unknown input 'bogus'"),
])
def test_distribution_table_errors(point, row, message):
    full = {"basis": "absolute", "low": np.nan, "mode": np.nan, "high": np.nan, "mu": np.nan,
            "sigma": np.nan, "source": "", **row}
    with pytest.raises(InputError, match=message) as err:
        sens.monte_carlo(point, pd.DataFrame([full]), 10, seed=1)
    assert "distributions.csv line 2" in err.value.where


def test_shipped_distributions_are_valid_and_sourced(point, dists):
    specs = sens.check_distributions(point, dists)
    assert {s["input"] for s in specs} == set(PROFILE_INPUTS)
    assert dists["source"].map(lambda s: len(s) > 10).all()


def test_distribution_file_errors_name_line_and_column(tmp_path, point):
    path = tmp_path / "distributions.csv"
    path.write_text("input,distribution,basis,low,mode,high,mu,sigma\npue,normal,absolute,1,1.2,1.4,,\n")
    with pytest.raises(InputError, match=r"distributions.csv line 2, column distribution: .*got 'normal'"):
        read_catalog("distributions.csv", path=path)


# --------------------------------------------------------------------------- CLI

def test_cli_montecarlo_json(capsys):
    code, out, err = run_cli(capsys, "sensitivity", "--montecarlo", 20000, "--seed", 1, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    mc = data["montecarlo"]
    assert mc["p10"] <= mc["p50"] <= mc["p90"]
    assert len(mc["histogram"]["counts"]) == 30 and len(mc["histogram"]["edges"]) == 31
    assert "tornado" not in data  # only what was asked for
    code2, out2, _ = run_cli(capsys, "sensitivity", "--montecarlo", 20000, "--seed", 1, "--format", "json")
    assert json.loads(out2)["montecarlo"]["p50"] == mc["p50"]


def test_cli_default_is_tornado_and_grid_table(capsys):
    code, out, _ = run_cli(capsys, "sensitivity")
    assert code == 0 and out.startswith("Tornado: dense-70b on H100, base cost $1.3316/MTok")
    code, out, _ = run_cli(capsys, "sensitivity", "--grid", "power_price_usd_per_kwh", "utilization",
                           "--format", "csv")
    assert code == 0
    assert "power_price_usd_per_kwh,utilization=0.5" in out
    code, out, _ = run_cli(capsys, "sensitivity", "--tornado", "--grid", "tokens_per_s", "pue",
                           "--steps", 3, "--montecarlo", 1000, "--seed", 2, "--format", "markdown")
    assert code == 0 and "### Tornado" in out and "### Monte Carlo, 1,000 draws" in out


def test_cli_set_overrides_and_errors(capsys):
    code, out, _ = run_cli(capsys, "sensitivity", "--set", "utilization=0.5", "--format", "json")
    assert code == 0
    assert json.loads(out)["base_cost_usd_per_mtok"] == pytest.approx(2 * DENSE, rel=REL)
    code, _, err = run_cli(capsys, "sensitivity", "--grid", "pue", "nope")
    assert code == 2 and "unknown input 'nope'" in err
    code, _, err = run_cli(capsys, "sensitivity", "--model", "nope")
    assert code == 2 and "unknown model profile" in err


def test_cli_plot_writes_png(tmp_path, capsys):
    png = tmp_path / "s.png"
    code, _, err = run_cli(capsys, "sensitivity", "--tornado", "--grid", "pue", "utilization",
                           "--montecarlo", 2000, "--seed", 1, "--plot", png)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_only_after_a_second_and_on_a_tty():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = Tty()
    bar = ProgressBar(stream=quiet, after_s=60)
    bar(1, 2)
    bar(2, 2)
    assert quiet.getvalue() == ""
    shown = Tty()
    bar = ProgressBar(stream=shown, after_s=0)
    bar(1, 2)
    bar(2, 2)
    assert "[###############...............] 1/2 draws" in shown.getvalue()
    assert shown.getvalue().endswith("\n")
    pipe = io.StringIO()
    bar = ProgressBar(stream=pipe, after_s=0)
    bar(2, 2)
    assert pipe.getvalue() == ""
