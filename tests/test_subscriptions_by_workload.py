"""Subscriptions recalculated on a workload's mix (#14 item 5): the report's
``subscriptions_by_workload`` table against the shipped CSV inputs, and bad
``price_model`` cells refused at their line.

Expectations are computed here from the inputs read from the CSV files, with the formulas
written out: output MTok = bill / (r x ((1 - h) x input + h x cached) + output price),
input = r x output, cached = h x input; input cost = $/GPU-hour / (prefill tokens/s x 3600 x
utilization / 1e6), cached = input cost x factor; R&D on output MTok only.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from tokencost.analysis.report import report_data
from tokencost.cli import main
from tokencost.errors import InputError
from tokencost.inputs.datasets import DATA_DIR, load_defaults

REL = 1e-12


def rows(name):
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def by_key(name, key):
    return {r[key]: r for r in rows(name)}


def test_every_workload_splits_the_seed_bill_by_hand():
    table = report_data(load_defaults())["subscriptions_by_workload"]
    plan = rows("subscriptions.csv")[0]
    price = by_key("prices.csv", "model")[plan["price_model"]]
    mix = by_key("token_mix.csv", "model")[plan["cost_basis"]]
    hw, cc = rows("hardware.csv")[0], rows("cost_components.csv")[0]
    tps = float(by_key("models.csv", "model")[plan["cost_basis"]]["tokens_per_s"])
    total = (float(hw["gpu_price_usd"]) / (float(cc["depreciation_years"]) * 12)
             + float(cc["infra_usd_per_month"]) + float(hw["power_w"]) / 1000 * float(cc["pue"])
             * float(cc["hours_per_month"]) * float(cc["power_price_usd_per_kwh"])
             + float(cc["staff_usd_per_month"]))
    gpu_hour = total / float(cc["hours_per_month"])
    cost_out = gpu_hour / (tps * 3600 / 1e6)
    cost_in = gpu_hour / (float(mix["prefill_tokens_per_s"]) * 3600 / 1e6)
    cost_cached = cost_in * float(mix["cached_input_cost_factor"])
    pin, pc, pout = (float(price[k]) for k in ("price_input_usd_per_mtok",
                                                "price_cached_input_usd_per_mtok",
                                                "price_usd_per_mtok"))
    bill, sub, rd = (float(plan[k]) for k in ("api_equivalent_usd_per_month",
                                               "subscription_usd_per_month", "rd_usd_per_mtok"))
    mixed = table[table["view"] == "by token type"].set_index("workload")
    assert list(mixed.index) == [w["workload"] for w in rows("workloads.csv")]
    for w in rows("workloads.csv"):
        r, h = float(w["input_tokens_per_output_token"]), float(w["cache_hit_share"])
        out = bill / (r * ((1 - h) * pin + h * pc) + pout)
        inp, cached = r * out, h * r * out
        cost = out * cost_out + (inp - cached) * cost_in + cached * cost_cached
        got = mixed.loc[w["workload"]]
        assert got["price_model"] == plan["price_model"]
        assert got["output_mtok_per_month"] == pytest.approx(out, rel=REL)
        assert got["input_mtok_per_month"] == pytest.approx(inp, rel=REL)
        assert got["cached_input_mtok_per_month"] == pytest.approx(cached, rel=REL, abs=1e-15)
        assert got["cost_output_usd_per_month"] == pytest.approx(out * cost_out, rel=REL)
        assert got["hardware_cost_usd_per_month"] == pytest.approx(cost, rel=REL)
        assert got["profit_usd_per_month"] == pytest.approx(sub - cost, rel=REL)
        assert got["cost_with_rd_usd_per_month"] == pytest.approx(cost + out * rd, rel=REL)
        assert got["profit_with_rd_usd_per_month"] == pytest.approx(sub - cost - out * rd, rel=REL)


def test_the_seeds_output_only_row_comes_first_and_keeps_its_figures():
    data = report_data(load_defaults())
    table = data["subscriptions_by_workload"]
    seed = table.iloc[0]
    assert seed["view"] == "output only (the seed's view)" and seed["workload"] == ""
    assert seed["output_mtok_per_month"] == pytest.approx(18.0, rel=REL)
    assert seed["input_mtok_per_month"] == 0 and seed["cost_input_usd_per_month"] == 0
    assert round(seed["hardware_cost_usd_per_month"], 2) == 23.97
    assert round(seed["profit_usd_per_month"], 2) == 156.03
    assert round(seed["cost_with_rd_usd_per_month"], 2) == 59.97
    # the same numbers as the seed's subscriptions table
    subs = data["subscriptions"].iloc[0]
    for key in ("hardware_cost_usd_per_month", "profit_usd_per_month", "cost_with_rd_usd_per_month",
                "profit_with_rd_usd_per_month"):
        assert seed[key] == subs[key], key
    assert list(table["view"]).count("output only (the seed's view)") == len(rows("subscriptions.csv"))


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


def test_a_blank_price_model_or_an_older_file_leaves_only_the_seeds_reading(tmp_path, capsys):
    def older(frame):   # a subscriptions.csv from before the column existed
        del frame["price_model"]
    data = _data_with(tmp_path, "subscriptions.csv", older)
    assert main(["report", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)["subscriptions_by_workload"]
    assert [r["view"] for r in out] == ["output only (the seed's view)"]
    assert round(out[0]["profit_usd_per_month"], 2) == 156.03


def test_a_cost_basis_without_prefill_throughput_is_blank_not_a_guess(tmp_path):
    def edit(frame):
        frame.loc[0, "cost_basis"] = "moe-v4-pro-implied"    # no row in token_mix.csv
    data = _data_with(tmp_path, "subscriptions.csv", edit)
    table = report_data(load_defaults(data))["subscriptions_by_workload"]
    mixed = table[table["view"] == "by token type"]
    assert len(mixed) == len(rows("workloads.csv"))
    assert mixed["hardware_cost_usd_per_month"].isna().all()
    assert np.isfinite(table.iloc[0]["hardware_cost_usd_per_month"])


def test_a_price_row_without_input_price_leaves_the_mix_blank(tmp_path):
    data = _data_with(tmp_path, "prices.csv", _blank_opus_input)
    table = report_data(load_defaults(data))["subscriptions_by_workload"]
    mixed = table[table["view"] == "by token type"]
    assert len(mixed) == len(rows("workloads.csv"))
    assert mixed["output_mtok_per_month"].isna().all() and mixed["profit_usd_per_month"].isna().all()
    assert round(table.iloc[0]["profit_usd_per_month"], 2) == 156.03


def _blank_opus_input(frame):
    opus = frame["model"] == "Claude Opus 4.8"
    frame.loc[opus, "price_input_usd_per_mtok"] = ""
    frame.loc[opus, "price_cached_input_usd_per_mtok"] = ""


def _free_opus_output(frame):
    frame.loc[frame["model"] == "Claude Opus 4.8", "price_usd_per_mtok"] = "0"


@pytest.mark.parametrize("file,edit,message", [
    ("subscriptions.csv", lambda f: f.__setitem__("price_model", ["Claude Opus 9"]),
     "subscriptions.csv line 2, column price_model: price_model 'Claude Opus 9' is not a model in Prices"),
    ("prices.csv", _free_opus_output,
     "subscriptions.csv line 2, column price_model: price_model 'Claude Opus 4.8': its output price "
     "(prices.csv line 4, column price_usd_per_mtok) is 0, so the bill buys no countable output tokens"),
], ids=["unknown-price-row", "free-output"])
def test_a_bad_price_model_is_one_located_error(tmp_path, file, edit, message):
    data = _data_with(tmp_path, file, edit)
    with pytest.raises(InputError) as info:
        load_defaults(data)
    assert str(info.value).startswith(message)
