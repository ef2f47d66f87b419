"""The investment case (#15): tokencost.core.lifecycle against the definitions of NPV, IRR and
payback, the steady-state fleet P&L, a scalar loop, and bad inputs; the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tokencost.analysis import lifecycle as life
from tokencost.cli import main
from tokencost.core import costs, fleet, throughput
from tokencost.core import lifecycle as core
from tokencost.errors import InputError
from tokencost.inputs.datasets import load_defaults


@pytest.fixture(scope="module")
def inputs():
    return load_defaults()


@pytest.fixture(scope="module")
def base(inputs):
    return life.parameters(inputs)


def plain_npv(rate, flows):
    """NPV by its definition, a flow at the end of each period 1..n."""
    total = 0.0
    for i, flow in enumerate(flows, start=1):
        total += flow / (1 + rate) ** i
    return total


def test_npv_is_the_discounted_sum_of_the_monthly_cash_flows(base):
    t = core.lifecycle_timeline(**base)
    s = core.lifecycle_summary(t)
    monthly = (1 + base["cost_of_capital"]) ** (1 / 12) - 1
    assert s["monthly_rate"] == pytest.approx(monthly, rel=1e-12)
    assert s["npv_usd"] == pytest.approx(plain_npv(monthly, t["net_cash_usd"]), rel=1e-10)
    assert core.npv(monthly, t["net_cash_usd"]) == pytest.approx(s["npv_usd"], rel=1e-12)


def test_npv_at_the_irr_is_zero_and_payback_is_the_first_month_cumulative_cash_is_positive(base):
    t = core.lifecycle_timeline(**base)
    s = core.lifecycle_summary(t)
    assert np.isfinite(s["irr_annual"])
    assert (1 + s["irr_monthly"]) ** 12 - 1 == pytest.approx(s["irr_annual"], rel=1e-12)
    scale = np.abs(t["net_cash_usd"]).sum()
    assert abs(plain_npv(s["irr_monthly"], t["net_cash_usd"])) < 1e-9 * scale
    cum = np.cumsum(t["net_cash_usd"])
    first = next(m + 1 for m in range(len(cum)) if cum[m] >= 0)
    assert s["payback_month"] == first
    assert cum[first - 2] < 0


def test_irr_of_known_flows():
    # -100 then 110 one period later: 10 %; -100, 60, 60: 13.07 % (the quadratic's root)
    assert core.irr([-100.0, 110.0]) == pytest.approx(0.1, rel=1e-12)
    root = (-1 + math.sqrt(1 + 4 * (100 / 60))) / 2   # 60x^2 + 60x - 100 = 0, x = 1/(1+r)
    assert core.irr([-100.0, 60.0, 60.0]) == pytest.approx(1 / root - 1, rel=1e-10)
    assert math.isnan(core.irr([10.0, 20.0]))           # never changes sign: no IRR
    assert math.isnan(core.irr([-10.0, -20.0]))


def test_steady_state_reproduces_n_times_12_monthly_fleet_pnl(inputs, base):
    """No ramp, full utilization and availability, no gains, no price change, no residual, the
    seed's server/rack/network amortization as capex, horizon = depreciation life, output-only
    workload: EBIT each month is the fleet P&L of that month at the TCO $/GPU-hour, the cash
    over the life is N x 12 of it, and the lifetime cost per output MTok is the seed's cost."""
    cc = inputs.cost_components.iloc[0]
    years = float(cc["depreciation_years"])
    p = dict(base, horizon_years=years, deployment_ramp_months=1, utilization_start=1.0,
             utilization_target=1.0, utilization_ramp_months=1, availability=1.0,
             throughput_gain_per_year=0.0, price_change_input_per_year=0.0,
             price_change_cached_input_per_year=0.0, price_change_output_per_year=0.0,
             residual_value_share=0.0, colocation_usd_per_gpu_month=0.0,
             server_capex_usd_per_gpu=float(cc["infra_usd_per_month"]) * 12 * years,
             input_tokens_per_output_token=0.0, cost_of_capital=0.0, gpus=64.0)
    t = core.lifecycle_timeline(**p)
    s = core.lifecycle_summary(t)
    hour = costs.gpu_hour_usd(p["gpu_price_usd"], years, cc["infra_usd_per_month"], p["power_w"], p["pue"],
                              p["power_price_usd_per_kwh"], p["staff_usd_per_month"], p["hours_per_month"], 0.0)
    month_tokens = 64 * p["decode_tokens_per_s"] * 3600 * p["hours_per_month"]
    pnl = fleet.fleet_pnl(64, 1, hour, p["hours_per_month"], 0.0, 0.0, month_tokens, 0.0, 0.0,
                          p["price_output_usd_per_mtok"])
    n = int(years * 12)
    assert np.allclose(t["ebit_usd"][:n], pnl["gross_profit_usd"], rtol=1e-10)
    assert t["net_cash_usd"][:n].sum() == pytest.approx(n * pnl["gross_profit_usd"], rel=1e-10)
    seed_cost = throughput.cost_per_mtok(hour, p["decode_tokens_per_s"], 1.0)
    assert s["lifetime_cost_usd_per_output_mtok"] == pytest.approx(seed_cost, rel=1e-10)


def test_vectorized_equals_one_call_per_scenario(base):
    rng = np.random.default_rng(7)
    n = 300
    varied = {"utilization_target": rng.uniform(0.3, 1.0, n),
              "price_change_output_per_year": rng.uniform(-0.6, 0.1, n),
              "throughput_gain_per_year": rng.uniform(0, 0.5, n),
              "deployment_ramp_months": rng.integers(1, 24, n).astype(float),
              "residual_value_share": rng.uniform(0, 0.3, n),
              "rent_usd_per_gpu_hour": np.where(rng.uniform(size=n) < 0.3, 2.5, np.nan)}
    s = core.lifecycle_summary(core.lifecycle_timeline(**dict(base, **varied)))
    for i in range(0, n, 37):
        one = core.lifecycle_summary(core.lifecycle_timeline(**dict(base, **{k: v[i] for k, v in varied.items()})))
        for key in ("npv_usd", "payback_month", "lifetime_cost_usd_per_mtok", "irr_annual"):
            a, b = s[key][i], one[key]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), (key, i)


@pytest.mark.parametrize("name, value", [
    ("deployment_ramp_months", 61), ("utilization_ramp_months", 0), ("availability", 1.2),
    ("horizon_years", -3), ("horizon_years", 2.5), ("horizon_years", 11), ("utilization_start", 0),
    ("recovery_hours", -1), ("mtbi_hours", 0), ("price_change_output_per_year", -1),
    ("residual_value_share", 1.5), ("gpus", 10.5), ("cost_of_capital", -1)])
def test_bad_input_is_one_clear_error_naming_it(base, name, value):
    with pytest.raises(InputError, match=name):
        core.lifecycle_timeline(**dict(base, **{name: value}))


def test_no_fleet_size_and_a_workload_without_prefill(base, inputs):
    with pytest.raises(InputError, match="facility_mw"):
        core.lifecycle_timeline(**dict(base, gpus=np.nan, facility_mw=np.nan))
    with pytest.raises(InputError, match="prefill"):
        life.run(inputs, {"price_row": "DeepSeek V4 Pro"})        # its profile has no prefill row
    with pytest.raises(InputError, match="unknown price row"):
        life.run(inputs, {"price_row": "no such model"})
    with pytest.raises(InputError, match="unknown lifecycle parameter"):
        life.run(inputs, {"horizon_yaers": 3})


def test_a_power_budget_sizes_the_fleet(base):
    t = core.lifecycle_timeline(**dict(base, gpus=np.nan, facility_mw=10.0))
    assert float(t["fleet_gpus"]) == math.floor(10e6 / (base["power_w"] * base["pue"]))


def test_cash_flows_that_never_change_sign_have_no_irr(inputs, capsys):
    result = life.run(inputs, {"rent_usd_per_gpu_hour": 50.0})   # rent far above revenue
    s = result["summary"].iloc[0]
    assert s["npv_usd"] < 0 and math.isnan(s["irr_annual"]) and math.isnan(s["payback_month"])
    assert main(["lifecycle", "--set", "rent_usd_per_gpu_hour=50", "--format", "json", "--months", "none"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["irr_annual"] is None and "never change sign" in out["irr_message"]
    assert out["summary"]["npv_usd"] < 0


def test_cli_json_csv_markdown_and_plot(tmp_path, capsys):
    assert main(["lifecycle", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("npv_usd", "irr_annual", "payback_month", "lifetime_cost_usd_per_mtok"):
        assert key in out["summary"]
    assert len(out["months"]) == 60 and out["months"][0]["month"] == 1
    monthly = (1 + out["parameters"]["cost_of_capital"]) ** (1 / 12) - 1
    assert out["summary"]["npv_usd"] == pytest.approx(
        plain_npv(monthly, [m["net_cash_usd"] for m in out["months"]]), rel=1e-10)
    assert main(["lifecycle", "--price-row", "Claude Opus 4.8", "--workload", "coding agent",
                 "--set", "horizon_years=7", "--set", "power_price_usd_per_kwh=0.2", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert "cumulative_cash_usd" in text and text.count("\n") > 84
    png = tmp_path / "case.png"
    assert main(["lifecycle", "--grid", "--tornado", "--steps", "3", "--format", "markdown",
                 "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "NPV (USD)" in text and "price_change_per_year" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_input_is_one_line(capsys):
    for args in (["--set", "deployment_ramp_months=90"], ["--set", "availability=1.2"],
                 ["--set", "horizon_years=-3"], ["--workload", "nope"], ["--set", "gpus=abc"]):
        assert main(["lifecycle", *args]) != 0
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err, (args, err)


def test_the_grid_and_tornado_are_one_vectorized_call_each(base):
    grid = life.npv_grid(base, [-0.4, 0.0], [0.5, 1.0])
    one = core.lifecycle_summary(core.lifecycle_timeline(**dict(
        base, utilization_target=0.5, price_change_input_per_year=-0.4,
        price_change_cached_input_per_year=-0.4, price_change_output_per_year=-0.4)))
    assert grid.iloc[0, 1] == pytest.approx(one["npv_usd"], rel=1e-10)
    tornado = life.npv_tornado(base, life.read_ranges())
    assert list(tornado["swing_usd"]) == sorted(tornado["swing_usd"], reverse=True)
    assert isinstance(tornado, pd.DataFrame) and len(tornado) == len(life.read_ranges())


def test_data_folder_replaces_lifecycle_csv(tmp_path, capsys):
    import shutil
    from tokencost.inputs.datasets import DATA_DIR
    for f in DATA_DIR.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    text = (tmp_path / "lifecycle.csv").read_text().replace("horizon_years,5,", "horizon_years,3,")
    (tmp_path / "lifecycle.csv").write_text(text)
    assert main(["lifecycle", "--data", str(tmp_path), "--format", "json", "--months", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["horizon_months"] == 36
