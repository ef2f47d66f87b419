"""tokencost.core.subscription: the seed's "Wierda subsidy, recalculated".

A $180/month subscriber whose usage would cost $450 at the $25/MTok list price
uses 18 MTok; at the hardware cost of $1.3316/MTok that is $23.97 ("$24") to
serve and a $156.03 profit; with R&D at $2/MTok the cost is $59.97 ("~$60").
REL = 1e-12 relative (rounding noise only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost import core
from tokencost.errors import InputError

REL = 1e-12
PROPS = settings(deadline=None, max_examples=60)

DENSE = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730 / 1.44   # 1.331586... $/MTok
SEED = dict(subscription_usd_per_month=180.0, api_equivalent_usd_per_month=450.0,
            list_price_usd_per_mtok=25.0, cost_usd_per_mtok=DENSE, rd_usd_per_mtok=2.0)
KEYS = {"tokens_mtok_per_month", "hardware_cost_usd_per_month", "profit_usd_per_month",
        "api_loss_usd_per_month", "cost_with_rd_usd_per_month", "profit_with_rd_usd_per_month"}


def test_tokens_used_seed():
    assert core.subscription_tokens_mtok(450, 25) == pytest.approx(18.0, rel=REL)


def test_wierda_recalculated_seed():
    e = core.subscription_economics(**SEED)
    assert set(e) == KEYS
    assert e["tokens_mtok_per_month"] == pytest.approx(18.0, rel=REL)
    assert e["hardware_cost_usd_per_month"] == pytest.approx(23.9685502283105, rel=REL)
    assert e["profit_usd_per_month"] == pytest.approx(156.0314497716895, rel=REL)
    assert e["api_loss_usd_per_month"] == pytest.approx(-270.0, rel=REL)   # the naive "$270 loss"
    assert e["cost_with_rd_usd_per_month"] == pytest.approx(59.968550228310505, rel=REL)
    assert e["profit_with_rd_usd_per_month"] == pytest.approx(120.0314497716895, rel=REL)
    for value in e.values():
        assert type(value) is float


def test_wierda_at_the_seeds_printed_precision():
    e = core.subscription_economics(**SEED)
    assert round(e["hardware_cost_usd_per_month"], 2) == 23.97
    assert round(e["hardware_cost_usd_per_month"]) == 24          # "$24"
    assert round(e["profit_usd_per_month"], 2) == 156.03
    assert round(e["profit_usd_per_month"]) == 156                # "a $156 profit"
    assert round(e["cost_with_rd_usd_per_month"], 2) == 59.97
    assert round(e["cost_with_rd_usd_per_month"], -1) == 60       # "still ~$60"


def test_wierda_with_the_seeds_rounded_cost_gives_the_same_story():
    e = core.subscription_economics(**{**SEED, "cost_usd_per_mtok": 1.33})
    assert e["hardware_cost_usd_per_month"] == pytest.approx(23.94, rel=REL)
    assert round(e["hardware_cost_usd_per_month"]) == 24
    assert round(e["profit_usd_per_month"]) == 156


def test_rd_defaults_to_zero():
    e = core.subscription_economics(180, 450, 25, DENSE)
    assert e["cost_with_rd_usd_per_month"] == e["hardware_cost_usd_per_month"]
    assert e["profit_with_rd_usd_per_month"] == e["profit_usd_per_month"]


# --------------------------------------------------------------------------- vectorized == scalar

def test_vectorized_equals_scalar_over_arrays():
    rng = np.random.default_rng(3)
    n = 20
    args = dict(subscription_usd_per_month=rng.uniform(0, 300, n),
                api_equivalent_usd_per_month=rng.uniform(0, 2000, n),
                list_price_usd_per_mtok=rng.uniform(0.1, 80, n),
                cost_usd_per_mtok=rng.uniform(0, 5, n), rd_usd_per_mtok=rng.uniform(0, 5, n))
    vec = core.subscription_economics(**args)
    tokens = core.subscription_tokens_mtok(args["api_equivalent_usd_per_month"],
                                           args["list_price_usd_per_mtok"])
    for i in range(n):
        one = core.subscription_economics(**{k: float(v[i]) for k, v in args.items()})
        for key in KEYS:
            assert vec[key][i] == pytest.approx(one[key], rel=1e-15, abs=1e-13), (key, i)
        assert tokens[i] == pytest.approx(one["tokens_mtok_per_month"], rel=1e-15)


def test_series_keep_their_index_and_scalars_broadcast():
    index = pd.Index(["light", "medium", "heavy"], name="plan")
    bill = pd.Series([45.0, 180.0, 450.0], index=index)
    e = core.subscription_economics(180, bill, 25, DENSE, 2)
    for key in KEYS:
        assert isinstance(e[key], pd.Series) and e[key].index.equals(index), key
    np.testing.assert_allclose(e["tokens_mtok_per_month"].to_numpy(), [1.8, 7.2, 18.0], rtol=REL)
    # a term that depends on scalars only is still one value per row
    np.testing.assert_allclose(e["api_loss_usd_per_month"].to_numpy(), [135.0, 0.0, -270.0], rtol=REL)
    assert e["profit_usd_per_month"]["heavy"] == pytest.approx(156.0314497716895, rel=REL)
    tokens = core.subscription_tokens_mtok(bill, 25)
    assert tokens.index.equals(index)


# --------------------------------------------------------------------------- properties

money = st.floats(0, 1e4)
positive = st.floats(0.01, 100)


@PROPS
@given(sub=money, bill=money, price=positive, cost=st.floats(0, 100), rd=st.floats(0, 100))
def test_accounting_identities(sub, bill, price, cost, rd):
    e = core.subscription_economics(sub, bill, price, cost, rd)
    tokens = bill / price
    assert e["tokens_mtok_per_month"] == pytest.approx(tokens, rel=1e-12)
    # sums/differences of products: rounding error scales with the products, not the result
    tol = 1e-12 * max(1.0, tokens * (cost + rd), sub)
    assert e["hardware_cost_usd_per_month"] + e["profit_usd_per_month"] == pytest.approx(sub, rel=1e-9, abs=tol)
    assert e["cost_with_rd_usd_per_month"] - e["hardware_cost_usd_per_month"] == pytest.approx(
        tokens * rd, rel=1e-9, abs=tol)
    assert e["profit_usd_per_month"] - e["profit_with_rd_usd_per_month"] == pytest.approx(
        tokens * rd, rel=1e-9, abs=tol)
    assert e["api_loss_usd_per_month"] == pytest.approx(sub - bill, rel=1e-12, abs=1e-12)


@PROPS
@given(bill=money, price=positive, cost=st.floats(0, 100))
def test_hardware_cost_is_linear_in_cost_per_mtok(bill, price, cost):
    one = core.subscription_economics(180, bill, price, cost)["hardware_cost_usd_per_month"]
    two = core.subscription_economics(180, bill, price, 2 * cost)["hardware_cost_usd_per_month"]
    assert two == pytest.approx(2 * one, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------- bad input

BAD = [
    ({"subscription_usd_per_month": -180}, "subscription_usd_per_month"),
    ({"api_equivalent_usd_per_month": -450}, "api_equivalent_usd_per_month"),
    ({"list_price_usd_per_mtok": 0}, "list_price_usd_per_mtok"),
    ({"list_price_usd_per_mtok": -25}, "list_price_usd_per_mtok"),
    ({"cost_usd_per_mtok": -1.33}, "cost_usd_per_mtok"),
    ({"rd_usd_per_mtok": -2}, "rd_usd_per_mtok"),
    ({"subscription_usd_per_month": "180 dollars"}, "subscription_usd_per_month"),
    ({"api_equivalent_usd_per_month": None}, "api_equivalent_usd_per_month"),
    ({"cost_usd_per_mtok": float("nan")}, "cost_usd_per_mtok"),
    ({"rd_usd_per_mtok": True}, "rd_usd_per_mtok"),
    ({"list_price_usd_per_mtok": pd.Series([25.0, None])}, "list_price_usd_per_mtok"),
]


@pytest.mark.parametrize("bad, name", BAD, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD)])
def test_bad_input_raises_input_error_naming_the_argument(bad, name):
    with pytest.raises(InputError) as info:
        core.subscription_economics(**{**SEED, **bad})
    assert info.value.where == name
    assert str(info.value).startswith(name)


@pytest.mark.parametrize("args, name", [((450, 0), "list_price_usd_per_mtok"),
                                        ((-1, 25), "api_equivalent_usd_per_month"),
                                        (("450", 25), "api_equivalent_usd_per_month")])
def test_tokens_bad_input(args, name):
    with pytest.raises(InputError) as info:
        core.subscription_tokens_mtok(*args)
    assert info.value.where == name


def test_mismatched_shapes_name_the_arguments():
    with pytest.raises(InputError, match="shapes do not match") as info:
        core.subscription_economics(180, np.ones(3), 25, np.ones(2))
    assert "api_equivalent_usd_per_month (3,)" in str(info.value)
    assert "cost_usd_per_mtok (2,)" in str(info.value)
    with pytest.raises(InputError, match="shapes do not match"):
        core.subscription_tokens_mtok(np.ones(3), np.ones(4))


# --------------------------------------------------------------------------- the bill on a mix

#: the seed's plan priced by Opus's three prices ($5 input, $0.50 cache read, $25 output) and
#: costed by dense-70b: output at the seed's cost, input at a tenth (4,000 prefill tok/s against
#: 400 decode), cached input at a tenth of that (token_mix.csv's factor 0.1)
MIX = dict(subscription_usd_per_month=180.0, api_equivalent_usd_per_month=450.0,
           price_input_usd_per_mtok=5.0, price_cached_input_usd_per_mtok=0.5,
           price_output_usd_per_mtok=25.0, cost_input_usd_per_mtok=DENSE / 10,
           cost_cached_input_usd_per_mtok=DENSE / 100, cost_output_usd_per_mtok=DENSE,
           rd_usd_per_mtok=2.0)
MIX_KEYS = {"price_usd_per_output_mtok", "output_mtok_per_month", "input_mtok_per_month",
            "cached_input_mtok_per_month", "cost_output_usd_per_month", "cost_input_usd_per_month",
            "cost_cached_input_usd_per_month", "hardware_cost_usd_per_month", "profit_usd_per_month",
            "cost_with_rd_usd_per_month", "profit_with_rd_usd_per_month"}


def test_chat_mix_by_hand():
    # chat: 1 input token per output token, no cache: one output MTok bills $5 + $25 = $30
    e = core.subscription_by_workload(**MIX, input_tokens_per_output_token=1, cache_hit_share=0)
    assert set(e) == MIX_KEYS and all(type(v) is float for v in e.values())
    assert e["price_usd_per_output_mtok"] == pytest.approx(30.0, rel=REL)
    assert e["output_mtok_per_month"] == pytest.approx(15.0, rel=REL)          # 450 / 30
    assert e["input_mtok_per_month"] == pytest.approx(15.0, rel=REL)
    assert e["cached_input_mtok_per_month"] == 0
    assert e["cost_output_usd_per_month"] == pytest.approx(15 * DENSE, rel=REL)
    assert e["cost_input_usd_per_month"] == pytest.approx(15 * DENSE / 10, rel=REL)
    assert e["hardware_cost_usd_per_month"] == pytest.approx(16.5 * DENSE, rel=REL)
    assert round(e["hardware_cost_usd_per_month"], 2) == 21.97
    assert e["profit_usd_per_month"] == pytest.approx(180 - 16.5 * DENSE, rel=REL)
    assert round(e["profit_usd_per_month"], 2) == 158.03
    # R&D on output MTok only: 15 x $2
    assert e["cost_with_rd_usd_per_month"] == pytest.approx(16.5 * DENSE + 30, rel=REL)
    assert e["profit_with_rd_usd_per_month"] == pytest.approx(150 - 16.5 * DENSE, rel=REL)


def test_coding_agent_mix_by_hand():
    # 20 input tokens per output token, 85% from cache: one output MTok bills
    # 20 x (0.15 x $5 + 0.85 x $0.50) + $25 = $48.50
    e = core.subscription_by_workload(**MIX, input_tokens_per_output_token=20, cache_hit_share=0.85)
    out = 450 / 48.5
    assert e["price_usd_per_output_mtok"] == pytest.approx(48.5, rel=REL)
    assert e["output_mtok_per_month"] == pytest.approx(out, rel=REL)
    assert e["input_mtok_per_month"] == pytest.approx(20 * out, rel=REL)
    assert e["cached_input_mtok_per_month"] == pytest.approx(17 * out, rel=REL)
    assert e["cost_input_usd_per_month"] == pytest.approx(3 * out * DENSE / 10, rel=REL)
    assert e["cost_cached_input_usd_per_month"] == pytest.approx(17 * out * DENSE / 100, rel=REL)
    cost = out * DENSE * (1 + 0.3 + 0.17)
    assert e["hardware_cost_usd_per_month"] == pytest.approx(cost, rel=REL)
    assert round(e["hardware_cost_usd_per_month"], 2) == 18.16
    assert round(e["profit_usd_per_month"], 2) == 161.84
    assert e["cost_with_rd_usd_per_month"] == pytest.approx(cost + 2 * out, rel=REL)
    assert round(e["profit_with_rd_usd_per_month"], 2) == 143.28


def test_no_input_tokens_is_the_seeds_output_only_reading():
    mix = core.subscription_by_workload(**MIX, input_tokens_per_output_token=0, cache_hit_share=0.5)
    seed = core.subscription_economics(**SEED)
    assert mix["output_mtok_per_month"] == pytest.approx(seed["tokens_mtok_per_month"], rel=REL)
    for key in ("hardware_cost_usd_per_month", "profit_usd_per_month", "cost_with_rd_usd_per_month",
                "profit_with_rd_usd_per_month"):
        assert mix[key] == pytest.approx(seed[key], rel=REL), key
    assert round(mix["hardware_cost_usd_per_month"], 2) == 23.97
    assert round(mix["profit_usd_per_month"], 2) == 156.03
    assert round(mix["cost_with_rd_usd_per_month"], 2) == 59.97


def test_mix_plans_by_workloads_in_one_call_equal_scalar_calls():
    bills = np.array([[450.0], [90.0], [1200.0]])
    ratios, hits = np.array([[1.0, 0.125, 8.0, 20.0]]), np.array([[0.0, 0.0, 0.0, 0.85]])
    grid = core.subscription_by_workload(**{**MIX, "api_equivalent_usd_per_month": bills},
                                         input_tokens_per_output_token=ratios, cache_hit_share=hits)
    assert grid["hardware_cost_usd_per_month"].shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = core.subscription_by_workload(**{**MIX, "api_equivalent_usd_per_month": bills[i, 0]},
                                                input_tokens_per_output_token=ratios[0, j],
                                                cache_hit_share=hits[0, j])
            for key in MIX_KEYS:
                assert grid[key][i, j] == pytest.approx(one[key], rel=1e-15, abs=1e-13), (key, i, j)
    plans = pd.Series([450.0, 90.0], index=pd.Index(["a", "b"], name="plan"))
    e = core.subscription_by_workload(**{**MIX, "api_equivalent_usd_per_month": plans},
                                      input_tokens_per_output_token=1, cache_hit_share=0)
    assert e["profit_usd_per_month"].index.equals(plans.index)


@PROPS
@given(bill=money, r=st.floats(0, 50), h=st.floats(0, 1), pin=st.floats(0, 50), pout=positive,
       cost=st.floats(0, 10), rd=st.floats(0, 10))
def test_mix_spends_the_whole_bill_and_costs_add_up(bill, r, h, pin, pout, cost, rd):
    e = core.subscription_by_workload(180, bill, pin, pin / 10, pout, r, h, cost / 10, cost / 100,
                                      cost, rd)
    out, inp, cached = (e[k] for k in ("output_mtok_per_month", "input_mtok_per_month",
                                       "cached_input_mtok_per_month"))
    # the tokens bought, priced back at the plan's prices, are the bill
    spent = (inp - cached) * pin + cached * pin / 10 + out * pout
    assert spent == pytest.approx(bill, rel=1e-9, abs=1e-9)
    parts = e["cost_output_usd_per_month"] + e["cost_input_usd_per_month"] + e["cost_cached_input_usd_per_month"]
    assert e["hardware_cost_usd_per_month"] == pytest.approx(parts, rel=1e-12, abs=1e-12)
    assert e["cost_with_rd_usd_per_month"] - e["hardware_cost_usd_per_month"] == pytest.approx(
        out * rd, rel=1e-9, abs=1e-9)


MIX_BAD = [
    ({"price_output_usd_per_mtok": 0}, "price_output_usd_per_mtok"),
    ({"price_input_usd_per_mtok": -5}, "price_input_usd_per_mtok"),
    ({"price_cached_input_usd_per_mtok": float("nan")}, "price_cached_input_usd_per_mtok"),
    ({"input_tokens_per_output_token": -1}, "input_tokens_per_output_token"),
    ({"cache_hit_share": 1.5}, "cache_hit_share"),
    ({"cost_input_usd_per_mtok": -0.1}, "cost_input_usd_per_mtok"),
    ({"cost_output_usd_per_mtok": "1.33"}, "cost_output_usd_per_mtok"),
    ({"api_equivalent_usd_per_month": None}, "api_equivalent_usd_per_month"),
    ({"rd_usd_per_mtok": -2}, "rd_usd_per_mtok"),
]


@pytest.mark.parametrize("bad, name", MIX_BAD, ids=[f"{n}-{i}" for i, (_, n) in enumerate(MIX_BAD)])
def test_mix_bad_input_names_the_argument(bad, name):
    args = {**MIX, "input_tokens_per_output_token": 1.0, "cache_hit_share": 0.0, **bad}
    with pytest.raises(InputError) as info:
        core.subscription_by_workload(**args)
    assert info.value.where == name
