"""A disclosed fleet reproduced from its stated inputs (#14): DeepSeek-V3/R1's online service.

DeepSeek's Open-Source Week "Day 6" overview publishes one 24-hour window of its inference
fleet: the average node count, GPUs per node, an assumed $/GPU-hour, the input tokens (and the
part of them that hit the KV cache), the output tokens, the per-node throughput while
prefilling and while decoding, and the R1 prices. It also publishes three results: the daily
cost, the theoretical daily revenue and the cost-profit margin. ``tests/data/disclosed_fleets.csv``
holds each figure on one row with its unit, its source quote and ``kind`` (``input`` or
``published_result``). ``stated_to`` is the unit of the last digit as published (``~73.7k`` is
stated to 100 tokens/s, ``608B`` to 1e9 tokens; 0 = exact, an assumption or a price).

Everything below is computed from the ``input`` rows by the package's own functions
(``tokencost.core`` and the ``tokencost`` command) and compared with the ``published_result``
rows; the test only reads the file, divides per-node figures by GPUs per node and adds.

How the fleet is split between prefill and decode: each kind of token holds a GPU for
1/throughput of its phase, so prefill needs input tokens / prefill rate GPU-seconds and decode
output tokens / decode rate (``core.fleet.fleet_implied_utilization`` for each). The prefill rate
includes cache hits, so it is an average over all input tokens: the paper gives no separate
cached-token throughput, and cached input is costed like the average input token
(``cached_input_cost_factor = 1``).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tokencost import core
from tokencost.cli import main
from tokencost.core import fleet as cf

DATA = Path(__file__).with_name("data") / "disclosed_fleets.csv"
FLEET = "deepseek-v3-r1-2025-02-27"
SOURCE = ("https://github.com/deepseek-ai/open-infra-index/blob/main/202502OpenSourceWeek/"
          "day_6_one_more_thing_deepseekV3R1_inference_system_overview.md")
REL = 1e-12
REVENUE_REL = 1e-3     # the paper rounds token counts to 1B: revenue within 0.1 %
MARGIN_ABS = 0.01      # cost-profit margin within 1 percentage point of 545 %


def rows(fleet=FLEET):
    with open(DATA, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["fleet"] == fleet]


def figures(kind):
    return {r["name"]: float(r["value"]) for r in rows() if r["kind"] == kind}


def precision():
    return {r["name"]: float(r["stated_to"]) for r in rows()}


X = figures("input")
PUBLISHED = figures("published_result")


def per_gpu(x):
    """Per-GPU throughputs [tokens/s] from the per-node figures."""
    return (x["prefill_tokens_per_s_per_node"] / x["gpus_per_node"],
            x["decode_tokens_per_s_per_node"] / x["gpus_per_node"])


def pnl(x=X):
    return cf.fleet_pnl(x["nodes_average"], x["gpus_per_node"], x["gpu_hour_usd"], x["hours"],
                        x["input_tokens"], x["cached_input_tokens"], x["output_tokens"],
                        x["price_input_usd_per_mtok"], x["price_cached_input_usd_per_mtok"],
                        x["price_output_usd_per_mtok"])


def phase_shares(x=X):
    """Busy shares of the fleet's GPU-hours spent prefilling and decoding [-]."""
    prefill, decode = per_gpu(x)
    gpu_hours = x["nodes_average"] * x["gpus_per_node"] * x["hours"]
    return (float(cf.fleet_implied_utilization(x["input_tokens"], prefill, gpu_hours)),
            float(cf.fleet_implied_utilization(x["output_tokens"], decode, gpu_hours)))


def token_costs(x=X):
    prefill, decode = per_gpu(x)
    return cf.token_costs_usd_per_mtok(x["gpu_hour_usd"], decode, prefill,
                                       cached_input_cost_factor=1.0)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


# --------------------------------------------------------------------------- the data file

def test_the_data_file_states_each_figure_with_unit_source_and_kind():
    got = rows()
    assert {r["kind"] for r in got} == {"input", "published_result"}
    for r in got:
        assert r["unit"] and SOURCE in r["source"] and "'" in r["source"], r["name"]
        assert float(r["stated_to"]) >= 0, r["name"]
    assert set(PUBLISHED) == {"cost_usd", "revenue_usd", "cost_profit_margin", "cache_hit_share"}
    assert not set(PUBLISHED) & set(X)  # no published result typed in as an input
    # the published 56.3 % is the two token counts' ratio: 342B / 608B = 0.5625 from the
    # rounded counts, 0.5612 to 0.5638 over the half-billion their last digit allows
    half = {name: step / 2 for name, step in precision().items()}
    cached, total = X["cached_input_tokens"], X["input_tokens"]
    low = (cached - half["cached_input_tokens"]) / (total + half["input_tokens"])
    high = (cached + half["cached_input_tokens"]) / (total - half["input_tokens"])
    assert low < PUBLISHED["cache_hit_share"] < high and high - low < 0.003


# --------------------------------------------------------------------------- cost, revenue, margin

def test_daily_gpu_cost_is_the_published_figure_exactly():
    res = pnl()
    # 226.75 nodes x 8 GPUs x 24 h = 43,536 GPU-hours; x $2 = $87,072
    assert float(res["gpu_hours"]) == pytest.approx(43_536.0, rel=REL)
    assert float(res["cost_usd"]) == PUBLISHED["cost_usd"]


def test_revenue_with_the_cache_hit_split_and_the_margin_match_the_published_ones():
    res = pnl()
    # (608 - 342) x 1e3 MTok x $0.55 + 342e3 x $0.14 + 168e3 x $2.19 = $562,100
    assert float(res["revenue_usd"]) == pytest.approx(PUBLISHED["revenue_usd"], rel=REVENUE_REL)
    assert float(res["cost_profit_margin"]) == pytest.approx(PUBLISHED["cost_profit_margin"],
                                                             abs=MARGIN_ABS)
    assert float(res["gross_margin"]) == pytest.approx(
        PUBLISHED["cost_profit_margin"] / (1 + PUBLISHED["cost_profit_margin"]), abs=1e-3)
    # the tolerance discriminates: without the cache-hit split (every input token at the
    # cache-miss price) the revenue is 25 % off the published one
    no_split = pnl({**X, "cached_input_tokens": 0.0})
    assert abs(float(no_split["revenue_usd"]) / PUBLISHED["revenue_usd"] - 1) > 100 * REVENUE_REL


def test_the_blended_price_of_the_day_s_traffic_gives_the_same_revenue():
    r = X["input_tokens"] / X["output_tokens"]
    h = X["cached_input_tokens"] / X["input_tokens"]
    blended = core.blended_price_usd_per_mtok(X["price_input_usd_per_mtok"],
                                              X["price_cached_input_usd_per_mtok"],
                                              X["price_output_usd_per_mtok"], r, h)
    traffic_mtok = (X["input_tokens"] + X["output_tokens"]) / 1e6
    assert float(blended) * traffic_mtok == pytest.approx(float(pnl()["revenue_usd"]), rel=1e-9)
    assert float(blended) * traffic_mtok == pytest.approx(PUBLISHED["revenue_usd"], rel=REVENUE_REL)


# --------------------------------------------------------------------------- input and output separately

def test_prefill_and_decode_split_the_fleet_and_fill_it():
    prefill, decode = phase_shares()
    # prefill: 608e9 / (73,700 / 8) / 3600 = 18,333 GPU-h; decode: 168e9 / (14,800 / 8) / 3600
    # = 25,225 GPU-h; of 43,536 paid: 0.4211 + 0.5794 = 1.0005
    assert 0 < prefill < 1 and 0 < decode < 1
    assert prefill == pytest.approx(0.42109, abs=5e-6)
    assert decode == pytest.approx(0.57941, abs=5e-6)
    # on average ~95.5 prefill nodes and ~131.4 decode nodes (of 226.75; the peak was 278)
    assert prefill * X["nodes_average"] == pytest.approx(95.48, abs=5e-3)
    assert decode * X["nodes_average"] == pytest.approx(131.38, abs=5e-3)
    busy = prefill + decode
    assert busy == pytest.approx(1.0005, abs=5e-5)
    assert busy * X["nodes_average"] < X["nodes_peak"]
    # Busy share within (0, 1]: 1.0005 is 1 within the published figures' rounding (the
    # throughputs are averages over the node-time of each phase, so they fill the fleet).
    # Each throughput and token count at the end of the interval its last digit allows:
    # fewer tokens at faster rates give the smallest share, more at slower the largest.
    half = {name: step / 2 for name, step in precision().items()}
    ends = []
    for sign in (-1, 1):
        x = dict(X)
        for name in ("input_tokens", "output_tokens"):
            x[name] = X[name] + sign * half[name]
        for name in ("prefill_tokens_per_s_per_node", "decode_tokens_per_s_per_node"):
            x[name] = X[name] - sign * half[name]
        ends.append(sum(phase_shares(x)))
    low, high = ends  # 0.9962 and 1.0048
    assert 0 < low <= 1 <= high
    assert low < busy < high and high - low < 0.01  # the rounding moves the share < 1 %


def test_input_and_output_tokens_cost_separately_from_gpu_time():
    costs = token_costs()
    # input: $2 / (73,700 / 8 x 3600 / 1e6 MTok/h) = $0.060305/MTok
    # output: $2 / (14,800 / 8 x 3600 / 1e6 MTok/h) = $0.300300/MTok
    assert float(costs["input_cost_usd_per_mtok"]) == pytest.approx(0.060305, abs=5e-7)
    assert float(costs["output_cost_usd_per_mtok"]) == pytest.approx(0.300300, abs=5e-7)
    assert float(costs["cached_input_cost_usd_per_mtok"]) == float(costs["input_cost_usd_per_mtok"])
    # the same from the package's plain $/GPU-hour over tokens/s
    prefill, decode = per_gpu(X)
    assert float(core.cost_per_mtok(X["gpu_hour_usd"], prefill)) == pytest.approx(
        float(costs["input_cost_usd_per_mtok"]), rel=REL)
    # Costed token by token, the day's volumes pay for the busy GPU time: the fleet's cost
    # times the busy share (1.0005 x $87,072 = $87,116)
    by_token = (X["input_tokens"] / 1e6 * float(costs["input_cost_usd_per_mtok"])
                + X["output_tokens"] / 1e6 * float(costs["output_cost_usd_per_mtok"]))
    assert by_token == pytest.approx(sum(phase_shares()) * PUBLISHED["cost_usd"], rel=1e-9)
    assert by_token == pytest.approx(PUBLISHED["cost_usd"], rel=1e-3)
    # markups at the published prices: input $0.55 / $0.060305 = 9.1204x,
    # output $2.19 / $0.300300 = 7.2927x (cached input $0.14 / $0.060305 = 2.3216x)
    assert X["price_input_usd_per_mtok"] / float(costs["input_cost_usd_per_mtok"]) == \
        pytest.approx(9.1204, abs=5e-5)
    assert X["price_output_usd_per_mtok"] / float(costs["output_cost_usd_per_mtok"]) == \
        pytest.approx(7.2927, abs=5e-5)


def test_workload_economics_of_the_day_match_the_published_margin():
    costs = token_costs()
    res = core.workload_economics(X["price_input_usd_per_mtok"], X["price_cached_input_usd_per_mtok"],
                                  X["price_output_usd_per_mtok"], costs["input_cost_usd_per_mtok"],
                                  costs["cached_input_cost_usd_per_mtok"],
                                  costs["output_cost_usd_per_mtok"],
                                  X["input_tokens"] / X["output_tokens"],
                                  X["cached_input_tokens"] / X["input_tokens"])
    traffic_mtok = (X["input_tokens"] + X["output_tokens"]) / 1e6
    assert float(res["blended_price_usd_per_mtok"]) * traffic_mtok == pytest.approx(
        float(pnl()["revenue_usd"]), rel=1e-9)
    # markup over the busy GPU time: 6.4523x, a cost-profit margin of 545.2 %
    assert float(res["blended_markup"]) - 1 == pytest.approx(PUBLISHED["cost_profit_margin"],
                                                             abs=MARGIN_ABS)
    assert float(res["blended_markup"]) == pytest.approx(6.4523, abs=5e-5)


# --------------------------------------------------------------------------- the command line

def test_tokencost_fleet_and_token_mix_reproduce_the_disclosed_day(capsys):
    prefill, decode = per_gpu(X)
    row = run_cli(capsys, "fleet", "--nodes", X["nodes_average"], "--gpus-per-node",
                  X["gpus_per_node"], "--gpu-hour-cost", X["gpu_hour_usd"], "--hours", X["hours"],
                  "--input-tokens", X["input_tokens"], "--cached-input-tokens",
                  X["cached_input_tokens"], "--output-tokens", X["output_tokens"],
                  "--price-input", X["price_input_usd_per_mtok"], "--price-cached-input",
                  X["price_cached_input_usd_per_mtok"], "--price-output",
                  X["price_output_usd_per_mtok"], "--tokens-per-s", decode,
                  "--format", "json")["fleet"][0]
    assert row["cost_usd"] == PUBLISHED["cost_usd"]
    assert row["revenue_usd"] == pytest.approx(PUBLISHED["revenue_usd"], rel=REVENUE_REL)
    assert row["cost_profit_margin"] == pytest.approx(PUBLISHED["cost_profit_margin"], abs=MARGIN_ABS)
    assert row["implied_utilization"] == pytest.approx(phase_shares()[1], rel=REL)  # the decode share

    r = X["input_tokens"] / X["output_tokens"]
    h = X["cached_input_tokens"] / X["input_tokens"]
    mix = run_cli(capsys, "token-mix", "--set", f"tokens_per_s={decode!r}", "--gpu-hour-cost",
                  X["gpu_hour_usd"], "--prefill-tokens-per-s", repr(prefill),
                  "--cached-input-cost-factor", 1, "--input-output-ratio", repr(r),
                  "--cache-hit-share", repr(h), "--utilization", 1,
                  "--price-input", X["price_input_usd_per_mtok"], "--price-cached-input",
                  X["price_cached_input_usd_per_mtok"], "--price-output",
                  X["price_output_usd_per_mtok"], "--format", "json")["token_mix"]
    by_kind = {k["token_kind"]: k for k in mix}
    costs = token_costs()
    assert by_kind["input (cache miss)"]["cost_usd_per_mtok"] == pytest.approx(
        float(costs["input_cost_usd_per_mtok"]), rel=REL)
    assert by_kind["output"]["cost_usd_per_mtok"] == pytest.approx(
        float(costs["output_cost_usd_per_mtok"]), rel=REL)
    traffic_mtok = (X["input_tokens"] + X["output_tokens"]) / 1e6
    assert by_kind["blended"]["price_usd_per_mtok"] * traffic_mtok == pytest.approx(
        PUBLISHED["revenue_usd"], rel=REVENUE_REL)
    assert by_kind["blended"]["markup"] - 1 == pytest.approx(PUBLISHED["cost_profit_margin"],
                                                            abs=MARGIN_ABS)
