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
