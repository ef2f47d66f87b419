"""Prices by token type (input, cached input, output) and workloads (#14).

Expectations are computed from the stated inputs (the shipped CSV files, read here) with
the formulas written out, never typed results: input cost = $/GPU-hour / (prefill tokens/s
x 3600 x utilization / 1e6), cached = input cost x factor, blended = (r((1-h)in + h cached)
+ out) / (r + 1).
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from tokencost.analysis.model import evaluate
from tokencost.analysis.report import report_data
from tokencost.cli import main
from tokencost.core.fleet import blended_price_usd_per_mtok, workload_economics
from tokencost.errors import InputError
from tokencost.inputs import pricecatalog as pc
from tokencost.inputs.datasets import DATA_DIR, load_defaults
from tokencost.inputs.reference_tables import read_catalog

REL = 1e-12


def rows(name):
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def blend(i, c, o, r, h):
    return (r * ((1 - h) * i + h * c) + o) / (r + 1)


# ------------------------------------------------------------------ core

def test_core_blends_price_and_cost_with_the_same_weights():
    out = workload_economics(5.0, 0.5, 25.0, 0.2, 0.02, 2.0, 20.0, 0.85)
    price, cost = blend(5, 0.5, 25, 20, 0.85), blend(0.2, 0.02, 2.0, 20, 0.85)
    assert out["blended_price_usd_per_mtok"] == pytest.approx(price, rel=REL)
    assert out["blended_cost_usd_per_mtok"] == pytest.approx(cost, rel=REL)
    assert out["blended_markup"] == pytest.approx(price / cost, rel=REL)
    assert out["gross_margin"] == pytest.approx((price - cost) / price, rel=REL)
    # the price blend is the existing blended_price_usd_per_mtok
    assert out["blended_price_usd_per_mtok"] == pytest.approx(
        blended_price_usd_per_mtok(5.0, 0.5, 25.0, 20.0, 0.85), rel=REL)


def test_core_is_vectorized_prices_by_workloads():
    pin = np.array([[1.0], [3.0]])
    ratio, hit = np.array([[1.0, 8.0, 0.125]]), np.array([[0.0, 0.5, 1.0]])
    out = workload_economics(pin, pin / 10, pin * 5, 0.1, 0.01, 1.0, ratio, hit)
    assert np.shape(out["blended_markup"]) == (2, 3)
    for a in range(2):
        for b in range(3):
            one = workload_economics(float(pin[a, 0]), float(pin[a, 0]) / 10, float(pin[a, 0]) * 5,
                                     0.1, 0.01, 1.0, float(ratio[0, b]), float(hit[0, b]))
            for key, value in one.items():
                assert out[key][a, b] == pytest.approx(value, rel=REL)
    series = workload_economics(pd.Series([1.0, 2.0], index=["x", "y"]), 0.1, 5.0, 0.1, 0.01, 1.0, 1, 0)
    assert list(series["blended_markup"].index) == ["x", "y"]


def test_core_margin_of_a_free_price_is_undefined_and_bad_arguments_are_refused():
    assert np.isnan(workload_economics(0, 0, 0, 0.1, 0.01, 1.0, 1, 0)["gross_margin"])
    with pytest.raises(InputError, match="cache_hit_share must be <= 1, got 1.5"):
        workload_economics(1, 0.1, 5, 0.1, 0.01, 1.0, 1, 1.5)
    with pytest.raises(InputError, match="input_tokens_per_output_token must be >= 0, got -1"):
        workload_economics(1, 0.1, 5, 0.1, 0.01, 1.0, -1, 0)
    with pytest.raises(InputError, match="price_input_usd_per_mtok must be >= 0"):
        workload_economics(-1, 0.1, 5, 0.1, 0.01, 1.0, 1, 0)


# ------------------------------------------------------------------ report

def test_report_costs_each_token_type_from_the_chip_up():
    inputs = load_defaults()
    data = report_data(inputs)
    mix = {r["model"]: r for r in rows("token_mix.csv")}
    models = evaluate(inputs).model_costs.set_index("model")
    prices = {r["model"]: r for r in rows("prices.csv")}
    got = {r["model"]: r for r in data["token_prices"].to_dict("records")}
    assert list(got) == list(prices)
    for name, p in prices.items():
        g = got[name]
        basis = models.loc[p["cost_basis"]]
        assert g["price_output_usd_per_mtok"] == float(p["price_usd_per_mtok"])
        assert g["cost_output_usd_per_mtok"] == pytest.approx(basis["cost_usd_per_mtok"], rel=REL)
        assert g["markup_output"] == pytest.approx(
            float(p["price_usd_per_mtok"]) / basis["cost_usd_per_mtok"], rel=REL)
        if p["cost_basis"] not in mix:     # the implied profile has no prefill throughput
            assert np.isnan(g["cost_input_usd_per_mtok"]) and np.isnan(g["markup_input"])
            continue
        m = mix[p["cost_basis"]]
        cin = basis["gpu_hour_usd"] / (float(m["prefill_tokens_per_s"]) * 3600
                                       * basis["utilization"] / 1e6)
        assert g["cost_input_usd_per_mtok"] == pytest.approx(cin, rel=REL)
        assert g["cost_cached_input_usd_per_mtok"] == pytest.approx(
            cin * float(m["cached_input_cost_factor"]), rel=REL)
        assert g["markup_input"] == pytest.approx(float(p["price_input_usd_per_mtok"]) / cin, rel=REL)


def test_report_blends_every_price_row_with_every_workload():
    data = report_data(load_defaults())
    prices = data["token_prices"].set_index("model")
    work = rows("workloads.csv")
    table = data["workload_economics"]
    assert len(table) == len(prices) * len(work)
    assert list(table["workload"][:len(work)]) == [w["workload"] for w in work]
    for rec in table.to_dict("records"):
        p = prices.loc[rec["model"]]
        r, h = rec["input_tokens_per_output_token"], rec["cache_hit_share"]
        if np.isnan(p["cost_input_usd_per_mtok"]):
            assert np.isnan(rec["blended_markup"])
            continue
        price = blend(p["price_input_usd_per_mtok"], p["price_cached_input_usd_per_mtok"],
                      p["price_output_usd_per_mtok"], r, h)
        cost = blend(p["cost_input_usd_per_mtok"], p["cost_cached_input_usd_per_mtok"],
                     p["cost_output_usd_per_mtok"], r, h)
        assert rec["blended_price_usd_per_mtok"] == pytest.approx(price, rel=REL)
        assert rec["blended_cost_usd_per_mtok"] == pytest.approx(cost, rel=REL)
        assert rec["blended_markup"] == pytest.approx(price / cost, rel=REL)
        assert rec["gross_margin"] == pytest.approx((price - cost) / price, rel=REL)


def test_blank_cached_price_means_no_cache_discount(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for f in DATA_DIR.glob("*.csv"):
        (data / f.name).write_bytes(f.read_bytes())
    frame = pd.read_csv(data / "prices.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["model"] == "Claude Sonnet 4.6", "price_cached_input_usd_per_mtok"] = ""
    frame.to_csv(data / "prices.csv", index=False)
    assert main(["report", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sonnet = next(r for r in out["token_prices"] if r["model"] == "Claude Sonnet 4.6")
    assert sonnet["price_cached_input_usd_per_mtok"] == sonnet["price_input_usd_per_mtok"] == 3.0
    assert set(out["workload_economics"][0]) >= {"blended_price_usd_per_mtok",
                                                  "blended_cost_usd_per_mtok", "blended_markup",
                                                  "gross_margin"}


def test_seed_output_only_markups_are_unchanged():
    data = report_data(load_defaults())
    seed = data["markups"].set_index("model")["markup"]
    by_type = data["token_prices"].set_index("model")["markup_output"]
    pd.testing.assert_series_equal(seed, by_type, check_names=False, rtol=REL)
    assert list(data["markups"].columns) == ["provider", "model", "cost_basis", "price_usd_per_mtok",
                                             "cost_usd_per_mtok", "markup", "gross_margin"]


# ------------------------------------------------------------------ bad input, located

def _data_with(tmp_path, name, edit):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for f in DATA_DIR.glob("*.csv"):
        if not (data / f.name).exists():
            (data / f.name).write_bytes(f.read_bytes())
    frame = pd.read_csv(data / name, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(data / name, index=False)
    return data


@pytest.mark.parametrize("file,row,column,value,message", [
    ("prices.csv", 2, "price_cached_input_usd_per_mtok", "9",
     "prices.csv line 4, column price_cached_input_usd_per_mtok: price_cached_input_usd_per_mtok "
     "must be <= price_input_usd_per_mtok (5) in the same row, got 9"),
    ("prices.csv", 0, "price_input_usd_per_mtok", "-1",
     "prices.csv line 2, column price_input_usd_per_mtok: price_input_usd_per_mtok must be >= 0, got -1"),
    ("workloads.csv", 1, "cache_hit_share", "1.2",
     "workloads.csv line 3, column cache_hit_share: cache_hit_share must be >= 0 and <= 1, got 1.2"),
    ("workloads.csv", 3, "input_tokens_per_output_token", "-3",
     "workloads.csv line 5, column input_tokens_per_output_token: input_tokens_per_output_token "
     "must be >= 0, got -3"),
])
def test_bad_input_is_one_located_error(tmp_path, file, row, column, value, message):
    def edit(frame):
        frame.loc[row, column] = value
    data = _data_with(tmp_path, file, edit)
    with pytest.raises(InputError) as info:
        load_defaults(data)
    assert str(info.value) == message


def test_a_data_folder_without_workloads_still_reports(tmp_path, capsys):
    data = _data_with(tmp_path, "prices.csv", lambda f: None)
    (data / "workloads.csv").unlink()
    assert main(["report", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["workload_economics"] == [] and len(out["token_prices"]) == len(rows("prices.csv"))


def test_token_mix_of_the_data_folder_is_used(tmp_path, capsys):
    def faster(frame):
        frame.loc[frame["model"] == "dense-70b", "prefill_tokens_per_s"] = "8000"
    data = _data_with(tmp_path, "token_mix.csv", faster)
    assert main(["report", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    base = report_data(load_defaults(), read_catalog("token_mix.csv"))["token_prices"]
    opus = next(r for r in out["token_prices"] if r["model"] == "Claude Opus 4.8")
    before = base.set_index("model").loc["Claude Opus 4.8", "cost_input_usd_per_mtok"]
    assert opus["cost_input_usd_per_mtok"] == pytest.approx(before / 2, rel=REL)


# ------------------------------------------------------------------ LiteLLM import

def test_litellm_import_fills_all_three_prices_and_keeps_cache_write_and_batch(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({
        "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "claude-x": {"litellm_provider": "anthropic", "mode": "chat",
                     "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
                     "cache_read_input_token_cost": 3e-7, "cache_creation_input_token_cost": 3.75e-6,
                     "input_cost_per_token_batches": 1.5e-6, "output_cost_per_token_batches": 7.5e-6},
        "no-cache": {"litellm_provider": "openai", "mode": "chat",
                     "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6},
        "bad/cache-above-input": {"litellm_provider": "x", "mode": "chat",
                                  "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
                                  "cache_read_input_token_cost": 2e-6},
    }))
    res = pc.import_file(path)
    got = res.rows.set_index("model")
    x = got.loc["claude-x"]
    for column, per_token in [("price_usd_per_mtok", 1.5e-5), ("price_input_usd_per_mtok", 3e-6),
                              ("price_cached_input_usd_per_mtok", 3e-7),
                              ("price_cache_write_usd_per_mtok", 3.75e-6),
                              ("price_batch_input_usd_per_mtok", 1.5e-6),
                              ("price_batch_output_usd_per_mtok", 7.5e-6)]:
        assert x[column] == pytest.approx(per_token * 1e6, rel=REL)
    assert np.isnan(got.loc["no-cache", "price_cached_input_usd_per_mtok"])
    assert "bad/cache-above-input" not in got.index
    assert res.problems == ["key 'bad/cache-above-input', field cache_read_input_token_cost: a cache "
                            "read must not cost more than input_cost_per_token, got 2e-06 > 1e-06"]


# ------------------------------------------------------------------ Excel functions

def test_blended_udfs_are_the_report_figures():
    """BLENDED_COST and BLENDED_MARKUP on the report's inputs give the report's blended cost
    and markup (Claude Sonnet 4.6 on dense-70b, the coding-agent workload)."""
    from tokencost.excel.udfs import BLENDED_COST, BLENDED_MARKUP
    inputs = load_defaults()
    data = report_data(inputs)
    dense = evaluate(inputs).model_costs.set_index("model").loc["dense-70b"]
    mix = {r["model"]: r for r in rows("token_mix.csv")}["dense-70b"]
    work = {r["workload"]: r for r in rows("workloads.csv")}["coding agent"]
    price = {r["model"]: r for r in rows("prices.csv")}["Claude Sonnet 4.6"]
    table = data["workload_economics"]
    want = table[(table["model"] == "Claude Sonnet 4.6") & (table["workload"] == "coding agent")].iloc[0]
    args = (float(dense["gpu_hour_usd"]), float(dense["tokens_per_s"]), float(mix["prefill_tokens_per_s"]),
            float(mix["cached_input_cost_factor"]), float(work["input_tokens_per_output_token"]),
            float(work["cache_hit_share"]), float(dense["utilization"]))
    assert BLENDED_COST(*args) == pytest.approx(want["blended_cost_usd_per_mtok"], rel=REL)
    prices = (float(price["price_input_usd_per_mtok"]), float(price["price_cached_input_usd_per_mtok"]),
              float(price["price_usd_per_mtok"]))
    assert BLENDED_MARKUP(*prices, *args) == pytest.approx(want["blended_markup"], rel=REL)
    assert BLENDED_COST(1.9, 400, 4000, 1.5) == "cached_input_cost_factor must be <= 1, got 1.5"
