"""tokencost.core.throughput and tokencost.core.pricing: $/MTok and the seed's markup table.

Golden figures: the seed's "$1.33 per million tokens" (dense 70B at 400 tok/s) and
"$0.21" (13B-active MoE at 2,500 tok/s) from $1.9175/GPU-hour, and its markups
1.3x / 1.7x / 18.8x / 11.3x / 22.6x. REL = 1e-12 relative (rounding noise only).
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

HOUR = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730   # 1.917484... $/GPU-hour
DENSE = HOUR / 1.44      # 1.331586... $/MTok at 400 tok/s
MOE = HOUR / 9.0         # 0.213054... $/MTok at 2,500 tok/s
PRO_TPS = 1065.0         # the shipped implied profile for DeepSeek V4 Pro
PRO = HOUR / (PRO_TPS * 3600 / 1e6)


def test_golden_constants():
    assert HOUR == pytest.approx(1.9174840182648402, rel=REL)
    assert DENSE == pytest.approx(1.331586123795028, rel=REL)
    assert MOE == pytest.approx(0.21305377980720447, rel=REL)


# --------------------------------------------------------------------------- throughput

def test_tokens_per_hour_seed():
    assert core.tokens_per_hour(400) == pytest.approx(1.44e6, rel=REL)   # "1.44M tokens per hour"
    assert core.tokens_per_hour(2500) == pytest.approx(9e6, rel=REL)     # "9M tokens per hour"
    assert core.tokens_per_hour(400, 0.5) == pytest.approx(0.72e6, rel=REL)


def test_cost_per_mtok_seed():
    dense = core.cost_per_mtok(HOUR, 400)
    moe = core.cost_per_mtok(HOUR, 2500)
    assert dense == pytest.approx(1.331586123795028, rel=REL)
    assert moe == pytest.approx(0.21305377980720447, rel=REL)
    assert round(dense, 2) == 1.33   # "$1.33 per million tokens"
    assert round(moe, 2) == 0.21     # "$0.21 per million tokens"
    assert type(dense) is float


def test_cost_per_mtok_at_the_seeds_rounded_hour():
    # the seed's own chain: $1.92 / 1.44 = $1.333 -> still "$1.33"
    assert round(core.cost_per_mtok(1.92, 400), 2) == 1.33


def test_implied_tokens_per_s_for_deepseek_v4_pro():
    # the seed's "~$0.50" cost for V4 Pro at $1.9175/h implies 1,065 tok/s
    tps = core.implied_tokens_per_s(0.50, HOUR)
    assert tps == pytest.approx(HOUR / 0.50 * 1e6 / 3600, rel=REL)
    assert round(tps) == 1065
    assert core.implied_tokens_per_s(DENSE, HOUR) == pytest.approx(400, rel=REL)
    assert core.implied_tokens_per_s(DENSE, HOUR, 0.5) == pytest.approx(800, rel=REL)


# --------------------------------------------------------------------------- markup table

SEED_MARKUPS = [
    # (model, price $/MTok, cost $/MTok, markup as the seed prints it)
    ("DeepSeek V4 Flash", 0.28, MOE, 1.3),
    ("DeepSeek V4 Pro", 0.87, PRO, 1.7),
    ("Claude Opus 4.8", 25.00, DENSE, 18.8),
    ("Claude Sonnet 4.6", 15.00, DENSE, 11.3),
]


@pytest.mark.parametrize("model, price, cost, printed", SEED_MARKUPS, ids=[m[0] for m in SEED_MARKUPS])
def test_markup_table_at_one_decimal(model, price, cost, printed):
    value = core.markup(price, cost)
    assert value == pytest.approx(price / cost, rel=REL)
    assert round(value, 1) == printed


def test_gpt55_markup_is_22_5_unrounded_and_22_6_from_the_rounded_cost():
    # unrounded cost $1.3316 -> 22.53x; the seed divides by the rounded $1.33 -> 22.56x -> "22.6x"
    assert core.markup(30.0, DENSE) == pytest.approx(22.529522847910002, rel=REL)
    assert round(core.markup(30.0, DENSE), 1) == 22.5
    assert round(core.markup(30.0, round(DENSE, 2)), 1) == 22.6


def test_markup_table_vectorized():
    prices = np.array([0.28, 0.87, 25.0, 15.0, 30.0])
    costs = np.array([MOE, PRO, DENSE, DENSE, DENSE])
    np.testing.assert_array_equal(np.round(core.markup(prices, costs), 1), [1.3, 1.7, 18.8, 11.3, 22.5])


def test_gross_margin_and_breakeven_seed():
    assert core.gross_margin(25.0, DENSE) == pytest.approx((25 - DENSE) / 25, rel=REL)
    assert core.gross_margin(25.0, DENSE) == pytest.approx(0.9467365550481989, rel=REL)
    assert core.gross_margin(0.28, MOE) == pytest.approx(0.2390936435456984, rel=REL)
    assert core.gross_margin(1.0, 2.0) == pytest.approx(-1.0, rel=REL)  # priced below cost
    assert core.breakeven_price(DENSE) == pytest.approx(DENSE, rel=REL)
    assert core.breakeven_price(DENSE, 0.5) == pytest.approx(2 * DENSE, rel=REL)
    assert core.breakeven_price(1.0, 0.9) == pytest.approx(10.0, rel=REL)


# --------------------------------------------------------------------------- vectorized == scalar

def test_vectorized_equals_scalar_over_arrays():
    rng = np.random.default_rng(11)
    hour = rng.uniform(0.5, 10, 30)
    tps = rng.uniform(10, 20_000, 30)
    util = rng.uniform(0.05, 1.0, 30)
    price = rng.uniform(0.05, 80, 30)
    margin = rng.uniform(0, 0.95, 30)
    cost = core.cost_per_mtok(hour, tps, util)
    tph = core.tokens_per_hour(tps, util)
    implied = core.implied_tokens_per_s(cost, hour, util)
    mk = core.markup(price, cost)
    gm = core.gross_margin(price, cost)
    be = core.breakeven_price(cost, margin)
    for arr in (cost, tph, implied, mk, gm, be):
        assert isinstance(arr, np.ndarray) and arr.shape == (30,)
    for i in range(30):
        c = core.cost_per_mtok(float(hour[i]), float(tps[i]), float(util[i]))
        assert cost[i] == pytest.approx(c, rel=1e-15)
        assert tph[i] == pytest.approx(core.tokens_per_hour(float(tps[i]), float(util[i])), rel=1e-15)
        assert implied[i] == pytest.approx(core.implied_tokens_per_s(c, float(hour[i]), float(util[i])),
                                           rel=1e-15)
        assert mk[i] == pytest.approx(core.markup(float(price[i]), c), rel=1e-15)
        assert gm[i] == pytest.approx(core.gross_margin(float(price[i]), c), rel=1e-15)
        assert be[i] == pytest.approx(core.breakeven_price(c, float(margin[i])), rel=1e-15)


def test_series_keep_their_index_and_mix_with_scalars_and_arrays():
    index = pd.Index(["dense-70b", "moe-284b-a13b", "moe-v4-pro-implied"], name="model")
    tps = pd.Series([400.0, 2500.0, 1065.0], index=index)
    cost = core.cost_per_mtok(HOUR, tps)
    assert isinstance(cost, pd.Series) and cost.index.equals(index)
    np.testing.assert_allclose(cost.to_numpy(), [DENSE, MOE, PRO], rtol=REL)
    # a Series with an ndarray: the Series' index wins
    util = np.array([1.0, 0.5, 0.25])
    tph = core.tokens_per_hour(tps, util)
    assert tph.index.equals(index)
    np.testing.assert_allclose(tph.to_numpy(), tps.to_numpy() * 3600 * util, rtol=REL)
    # a scalar price against a Series cost
    mk = core.markup(30.0, cost)
    assert mk.index.equals(index) and mk["dense-70b"] == pytest.approx(30 / DENSE, rel=REL)
    gm = core.gross_margin(pd.Series([0.28, 0.87, 25.0], index=index), cost)
    assert gm.index.equals(index)
    be = core.breakeven_price(cost, pd.Series([0.0, 0.5, 0.9], index=index))
    np.testing.assert_allclose(be.to_numpy(), [DENSE, 2 * MOE, 10 * PRO], rtol=REL)
    assert core.implied_tokens_per_s(cost, HOUR).to_numpy() == pytest.approx([400, 2500, 1065], rel=REL)


# --------------------------------------------------------------------------- properties

hours = st.floats(0.01, 100)
rates = st.floats(1, 1e5)
utils = st.floats(0.01, 1.0)
prices = st.floats(0.001, 1000)


@PROPS
@given(hour=hours, tps=rates, util=utils)
def test_doubling_throughput_halves_cost_per_mtok(hour, tps, util):
    assert core.cost_per_mtok(hour, 2 * tps, util) == pytest.approx(core.cost_per_mtok(hour, tps, util) / 2,
                                                                    rel=1e-12)


@PROPS
@given(hour=hours, tps=rates, util=utils)
def test_utilization_u_divides_cost_by_u(hour, tps, util):
    assert core.cost_per_mtok(hour, tps, util) == pytest.approx(core.cost_per_mtok(hour, tps) / util, rel=1e-12)
    assert core.tokens_per_hour(tps, util) == pytest.approx(core.tokens_per_hour(tps) * util, rel=1e-12)


@PROPS
@given(hour=hours, tps=rates)
def test_cost_per_mtok_is_linear_in_gpu_hour(hour, tps):
    assert core.cost_per_mtok(3 * hour, tps) == pytest.approx(3 * core.cost_per_mtok(hour, tps), rel=1e-12)


@PROPS
@given(price=prices, cost=prices)
def test_markup_times_cost_is_price(price, cost):
    assert core.markup(price, cost) * cost == pytest.approx(price, rel=1e-12)


@PROPS
@given(hour=hours, tps=rates, util=utils)
def test_implied_tokens_per_s_inverts_cost_per_mtok(hour, tps, util):
    cost = core.cost_per_mtok(hour, tps, util)
    assert core.implied_tokens_per_s(cost, hour, util) == pytest.approx(tps, rel=1e-12)


@PROPS
@given(hour=hours, cost=prices, util=utils)
def test_cost_per_mtok_inverts_implied_tokens_per_s(hour, cost, util):
    tps = core.implied_tokens_per_s(cost, hour, util)
    assert core.cost_per_mtok(hour, tps, util) == pytest.approx(cost, rel=1e-12)


@PROPS
@given(cost=prices, margin=st.floats(0, 0.99))
def test_breakeven_price_earns_its_target_margin(cost, margin):
    price = core.breakeven_price(cost, margin)
    assert core.gross_margin(price, cost) == pytest.approx(margin, rel=1e-9, abs=1e-12)
    assert price >= cost


@PROPS
@given(price=prices, cost=prices)
def test_gross_margin_and_markup_agree(price, cost):
    # margin = 1 - 1 / markup
    assert core.gross_margin(price, cost) == pytest.approx(1 - 1 / core.markup(price, cost), rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- bad input

BAD = [
    ("tokens_per_hour", (0,), "tokens_per_s"),
    ("tokens_per_hour", (-400,), "tokens_per_s"),
    ("tokens_per_hour", (400, 0), "utilization"),
    ("tokens_per_hour", (400, 1.01), "utilization"),
    ("tokens_per_hour", (400, -0.5), "utilization"),
    ("cost_per_mtok", (-1.9, 400), "gpu_hour_usd"),
    ("cost_per_mtok", (1.9, 0), "tokens_per_s"),
    ("cost_per_mtok", (1.9, -1), "tokens_per_s"),
    ("cost_per_mtok", (1.9, np.array([400.0, 0.0])), "tokens_per_s"),
    ("cost_per_mtok", (1.9, pd.Series([400.0, -2.0])), "tokens_per_s"),
    ("cost_per_mtok", (1.9, 400, 0), "utilization"),
    ("cost_per_mtok", (1.9, 400, 2), "utilization"),
    ("cost_per_mtok", (1.9, "fast"), "tokens_per_s"),
    ("cost_per_mtok", (1.9, "400"), "tokens_per_s"),
    ("cost_per_mtok", (None, 400), "gpu_hour_usd"),
    ("cost_per_mtok", (1.9, float("nan")), "tokens_per_s"),
    ("cost_per_mtok", (1.9, True), "tokens_per_s"),
    ("cost_per_mtok", (1.9, np.array([True, True])), "tokens_per_s"),
    ("cost_per_mtok", (1.9, pd.Series(["400", "2500"])), "tokens_per_s"),
    ("cost_per_mtok", (1.9, [True, 2.0]), "tokens_per_s"),
    ("cost_per_mtok", (1.9, [[400, 500], [600]]), "tokens_per_s"),
    ("cost_per_mtok", (1.9, 400 + 1j), "tokens_per_s"),
    ("cost_per_mtok", (np.array(["2020-01-01"], dtype="datetime64[D]"), 400), "gpu_hour_usd"),
    ("cost_per_mtok", (1.9, {"rate": 400}), "tokens_per_s"),
    ("implied_tokens_per_s", (0, 1.9), "cost_usd_per_mtok"),
    ("implied_tokens_per_s", (1.33, -1.9), "gpu_hour_usd"),
    ("implied_tokens_per_s", (1.33, 1.9, 1.5), "utilization"),
    ("markup", (-25, 1.33), "price_usd_per_mtok"),
    ("markup", (25, 0), "cost_usd_per_mtok"),
    ("markup", (25, -1.33), "cost_usd_per_mtok"),
    ("markup", ("25", 1.33), "price_usd_per_mtok"),
    ("markup", (25, None), "cost_usd_per_mtok"),
    ("gross_margin", (0, 1.33), "price_usd_per_mtok"),
    ("gross_margin", (25, -1.33), "cost_usd_per_mtok"),
    ("gross_margin", (25, float("nan")), "cost_usd_per_mtok"),
    ("breakeven_price", (-1.33,), "cost_usd_per_mtok"),
    ("breakeven_price", (1.33, 1.0), "target_margin"),
    ("breakeven_price", (1.33, -0.1), "target_margin"),
    ("breakeven_price", (1.33, False), "target_margin"),
]


@pytest.mark.parametrize("func, args, name", BAD, ids=[f"{f}-{n}-{i}" for i, (f, _, n) in enumerate(BAD)])
def test_bad_input_raises_input_error_naming_the_argument(func, args, name):
    with pytest.raises(InputError) as info:
        getattr(core, func)(*args)
    assert info.value.where == name
    assert str(info.value).startswith(name)


def test_messages_state_the_rule_and_the_value():
    with pytest.raises(InputError, match=r"^tokens_per_s must be > 0, got 0$"):
        core.cost_per_mtok(1.9, 0)
    with pytest.raises(InputError, match=r"^utilization must be <= 1, got 1.5$"):
        core.tokens_per_hour(400, 1.5)
    with pytest.raises(InputError, match=r"^utilization must be > 0, got 0$"):
        core.tokens_per_hour(400, 0)
    with pytest.raises(InputError, match=r"^tokens_per_s must be a number, got text 'fast'$"):
        core.cost_per_mtok(1.9, [400, "fast"])


@pytest.mark.parametrize("func, args, names", [
    ("cost_per_mtok", (np.ones(3), np.ones(2)), ("gpu_hour_usd", "tokens_per_s")),
    ("tokens_per_hour", (np.ones(4), np.full(3, 0.5)), ("tokens_per_s", "utilization")),
    ("markup", (np.ones(2), np.ones(5)), ("price_usd_per_mtok", "cost_usd_per_mtok")),
    ("gross_margin", (pd.Series([1.0, 2.0]), np.ones(3)), ("price_usd_per_mtok", "cost_usd_per_mtok")),
    ("breakeven_price", (np.ones(2), np.full(3, 0.1)), ("cost_usd_per_mtok", "target_margin")),
    ("implied_tokens_per_s", (np.ones(2), np.ones(3)), ("cost_usd_per_mtok", "gpu_hour_usd")),
])
def test_mismatched_shapes_raise_input_error_naming_both(func, args, names):
    with pytest.raises(InputError, match="shapes do not match") as info:
        getattr(core, func)(*args)
    for name in names:
        assert name in str(info.value)
