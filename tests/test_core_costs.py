"""tokencost.core.costs: the seed's monthly cost table for one H100, term by term.

Golden figures are the seed's table ("What one GPU can do") recomputed exactly;
tolerances are stated on each assertion (REL = 1e-12 relative: floating-point
noise only), and each figure is also checked at the precision the seed prints.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost import core
from tokencost.errors import InputError

REL = 1e-12  # relative tolerance for golden figures: rounding noise only

#: the seed's H100: $30K, 3 years, $350 infra, 700 W, PUE 1.3, $0.10/kWh, $150 staff, 730 h
SEED = dict(gpu_price_usd=30000.0, depreciation_years=3.0, infra_usd_per_month=350.0, power_w=700.0,
            pue=1.3, power_price_usd_per_kwh=0.10, staff_usd_per_month=150.0, hours_per_month=730.0)

DEPRECIATION = 30000 / 36               # 833.333...
POWER = 0.7 * 1.3 * 730 * 0.10          # 66.43
TOTAL = DEPRECIATION + 350 + POWER + 150  # 1399.7633...
HOUR = TOTAL / 730                      # 1.917484...

PROPS = settings(deadline=None, max_examples=60)


# --------------------------------------------------------------------------- golden seed figures

def test_golden_constants_are_the_seed_arithmetic():
    # the literal values, so a change in the formulas above cannot hide
    assert DEPRECIATION == pytest.approx(833.3333333333333, rel=REL)
    assert POWER == pytest.approx(66.43, rel=REL)
    assert TOTAL == pytest.approx(1399.7633333333333, rel=REL)
    assert HOUR == pytest.approx(1.9174840182648402, rel=REL)


def test_depreciation_straight_line_seed():
    assert core.depreciation_usd_per_month(30000, 3) == pytest.approx(833.3333333333333, rel=REL)
    assert round(core.depreciation_usd_per_month(30000, 3)) == 833  # seed prints $833


def test_power_seed():
    value = core.power_usd_per_month(700, 1.3, 0.10, 730)
    assert value == pytest.approx(66.43, rel=REL)
    assert round(value) == 66  # seed prints $66


def test_power_default_hours_is_730():
    assert core.power_usd_per_month(700, 1.3, 0.10) == pytest.approx(66.43, rel=REL)


def test_monthly_terms_seed_table():
    terms = core.gpu_monthly_cost_terms(**SEED)
    assert set(terms) == {"depreciation_usd_per_month", "infra_usd_per_month", "power_usd_per_month",
                          "staff_usd_per_month", "total_usd_per_month", "gpu_hour_usd"}
    assert terms["depreciation_usd_per_month"] == pytest.approx(833.3333333333333, rel=REL)
    assert terms["infra_usd_per_month"] == 350.0
    assert terms["power_usd_per_month"] == pytest.approx(66.43, rel=REL)
    assert terms["staff_usd_per_month"] == 150.0
    assert terms["total_usd_per_month"] == pytest.approx(1399.7633333333333, rel=REL)
    assert terms["gpu_hour_usd"] == pytest.approx(1.9174840182648402, rel=REL)
    for value in terms.values():
        assert type(value) is float  # scalars in, plain floats out


def test_monthly_total_and_hour_at_seed_precision():
    total = core.gpu_monthly_cost_usd(**SEED)
    hour = core.gpu_hour_usd(**SEED)
    assert round(total, 2) == 1399.76
    assert round(total, -2) == 1400      # "~$1,400"
    assert round(hour, 2) == 1.92        # "~$1.92"
    assert total == pytest.approx(TOTAL, rel=REL)
    assert hour == pytest.approx(HOUR, rel=REL)


def test_total_is_the_sum_of_the_four_terms():
    t = core.gpu_monthly_cost_terms(**SEED)
    parts = (t["depreciation_usd_per_month"] + t["infra_usd_per_month"] + t["power_usd_per_month"]
             + t["staff_usd_per_month"])
    assert t["total_usd_per_month"] == pytest.approx(parts, rel=REL)
    assert t["gpu_hour_usd"] == pytest.approx(t["total_usd_per_month"] / 730, rel=REL)


def test_subsidized_power_variant():
    # the seed's "$0.05-0.07/kWh" for Chinese tech zones, at the midpoint $0.06
    terms = core.gpu_monthly_cost_terms(**{**SEED, "power_price_usd_per_kwh": 0.06})
    assert terms["power_usd_per_month"] == pytest.approx(39.858, rel=REL)
    assert terms["total_usd_per_month"] == pytest.approx(DEPRECIATION + 350 + 39.858 + 150, rel=REL)
    assert terms["gpu_hour_usd"] == pytest.approx(1.8810840182648401, rel=REL)
    assert round(terms["gpu_hour_usd"], 3) == 1.881


# --------------------------------------------------------------------------- cost of capital

def annuity_payment(price, annual_rate, years):
    """Level monthly payment repaying *price* over *years* at *annual_rate*/12 a month:
    the textbook annuity formula (numpy-financial ``pmt(rate, nper, -pv)``), written out
    independently of the code under test."""
    i = annual_rate / 12
    n = years * 12
    growth = (1 + i) ** n
    return price * i * growth / (growth - 1)


def test_capital_recovery_at_8_percent_matches_pmt():
    # PMT(0.08/12, 36, -30000) = 940.0909638... (spreadsheet PMT, numpy_financial.pmt)
    value = core.depreciation_usd_per_month(30000, 3, 0.08)
    assert value == pytest.approx(annuity_payment(30000, 0.08, 3), rel=1e-12)
    assert value == pytest.approx(940.0909638, abs=5e-7)


def test_capital_recovery_payments_discount_back_to_the_price():
    # the present value of 36 level payments at the monthly rate is the price
    payment = core.depreciation_usd_per_month(30000, 3, 0.10)
    i = 0.10 / 12
    present_value = sum(payment / (1 + i) ** k for k in range(1, 37))
    assert present_value == pytest.approx(30000, rel=1e-12)


def test_capital_recovery_zero_rate_is_straight_line_exactly():
    assert core.depreciation_usd_per_month(30000, 3, 0.0) == core.depreciation_usd_per_month(30000, 3)


@pytest.mark.parametrize("rate", [1e-20, 1e-15, 1e-12, 1e-9])
def test_capital_recovery_tiny_rate_tends_to_straight_line(rate):
    # 1 + 1e-20 == 1 in floating point: a naive (1+i)^-n gives inf or loses digits
    value = core.depreciation_usd_per_month(30000, 3, rate)
    assert math.isfinite(value)
    assert value == pytest.approx(30000 / 36, rel=1e-8)
    assert value >= 30000 / 36 * (1 - 1e-15)  # interest never lowers the payment


@PROPS
@given(price=st.floats(100, 1e6), rate=st.floats(1e-4, 0.5), years=st.floats(0.5, 15))
def test_capital_recovery_matches_annuity_formula(price, rate, years):
    value = core.depreciation_usd_per_month(price, years, rate)
    assert value == pytest.approx(annuity_payment(price, rate, years), rel=1e-9)
    assert value > price / (years * 12)


def test_capital_recovery_vectorized():
    rates = np.array([0.0, 0.05, 0.08, 0.12])
    got = core.depreciation_usd_per_month(30000, 3, rates)
    want = [30000 / 36] + [annuity_payment(30000, r, 3) for r in rates[1:]]
    np.testing.assert_allclose(got, want, rtol=1e-12)


# --------------------------------------------------------------------------- vectorized == scalar

def _random_gpu_args(n, seed=7):
    rng = np.random.default_rng(seed)
    return dict(
        gpu_price_usd=rng.uniform(5_000, 60_000, n), depreciation_years=rng.uniform(1, 7, n),
        infra_usd_per_month=rng.uniform(0, 800, n), power_w=rng.uniform(200, 1500, n),
        pue=rng.uniform(1.0, 2.0, n), power_price_usd_per_kwh=rng.uniform(0, 0.3, n),
        staff_usd_per_month=rng.uniform(0, 400, n), hours_per_month=rng.uniform(600, 744, n),
        cost_of_capital=np.where(rng.uniform(size=n) < 0.3, 0.0, rng.uniform(0, 0.2, n)),
    )


def test_terms_vectorized_equals_scalar_over_arrays():
    args = _random_gpu_args(25)
    vec = core.gpu_monthly_cost_terms(**args)
    for key, values in vec.items():
        assert isinstance(values, np.ndarray) and values.shape == (25,), key
    for i in range(25):
        one = core.gpu_monthly_cost_terms(**{k: float(v[i]) for k, v in args.items()})
        for key in vec:
            assert vec[key][i] == pytest.approx(one[key], rel=1e-14), (key, i)


def test_terms_over_series_keep_the_index():
    args = _random_gpu_args(6)
    index = pd.Index(["a", "b", "c", "d", "e", "f"], name="gpu")
    series_args = {k: pd.Series(v, index=index) for k, v in args.items()}
    vec = core.gpu_monthly_cost_terms(**series_args)
    plain = core.gpu_monthly_cost_terms(**args)
    for key, values in vec.items():
        assert isinstance(values, pd.Series), key
        assert values.index.equals(index), key
        np.testing.assert_allclose(values.to_numpy(), plain[key], rtol=1e-15)


def test_series_mixed_with_scalars_broadcasts_scalar_terms():
    index = pd.Index([10, 20, 30])
    price = pd.Series([20_000.0, 30_000.0, 40_000.0], index=index)
    terms = core.gpu_monthly_cost_terms(**{**SEED, "gpu_price_usd": price})
    # scalar terms are broadcast to the Series' length and index
    assert terms["infra_usd_per_month"].index.equals(index)
    assert terms["infra_usd_per_month"].tolist() == [350.0] * 3
    assert terms["power_usd_per_month"].to_numpy() == pytest.approx([66.43] * 3, rel=REL)
    assert terms["total_usd_per_month"][20] == pytest.approx(TOTAL, rel=REL)
    np.testing.assert_allclose(terms["depreciation_usd_per_month"], price.to_numpy() / 36, rtol=REL)


def test_two_dimensional_sensitivity_grid():
    # a price x power-price grid in one call: (3, 1) against (1, 4)
    prices = np.array([[20_000.0], [30_000.0], [40_000.0]])
    kwh = np.array([[0.05, 0.06, 0.10, 0.15]])
    hour = core.gpu_hour_usd(**{**SEED, "gpu_price_usd": prices, "power_price_usd_per_kwh": kwh})
    assert hour.shape == (3, 4)
    assert hour[1, 2] == pytest.approx(HOUR, rel=REL)
    for r in range(3):
        for c in range(4):
            one = core.gpu_hour_usd(**{**SEED, "gpu_price_usd": prices[r, 0],
                                       "power_price_usd_per_kwh": kwh[0, c]})
            assert hour[r, c] == pytest.approx(one, rel=1e-14)


def test_power_and_depreciation_vectorized_over_lists():
    np.testing.assert_allclose(core.power_usd_per_month([700, 1000], [1.3, 1.2], 0.1),
                               [66.43, 1.0 * 1.2 * 730 * 0.1], rtol=REL)
    np.testing.assert_allclose(core.depreciation_usd_per_month([30_000, 36_000], [3, 4]),
                               [30_000 / 36, 36_000 / 48], rtol=REL)


# --------------------------------------------------------------------------- properties

money = st.floats(0, 5_000)


@PROPS
@given(base=money, delta=money, term=st.sampled_from(["infra_usd_per_month", "staff_usd_per_month"]))
def test_total_is_linear_in_the_flat_monthly_terms(base, delta, term):
    # d(total)/d(term) = 1, d(gpu_hour)/d(term) = 1 / hours
    t0 = core.gpu_monthly_cost_usd(**{**SEED, term: base})
    t1 = core.gpu_monthly_cost_usd(**{**SEED, term: base + delta})
    assert t1 - t0 == pytest.approx(delta, rel=1e-9, abs=1e-9)
    h0 = core.gpu_hour_usd(**{**SEED, term: base})
    h1 = core.gpu_hour_usd(**{**SEED, term: base + delta})
    assert h1 - h0 == pytest.approx(delta / 730, rel=1e-9, abs=1e-12)


@PROPS
@given(factor=st.floats(0, 20), arg=st.sampled_from(["power_w", "power_price_usd_per_kwh", "gpu_price_usd"]))
def test_total_is_linear_in_the_drivers_of_power_and_depreciation(factor, arg):
    # scaling power_w or the power price scales the power term; scaling the price scales depreciation
    term = "depreciation_usd_per_month" if arg == "gpu_price_usd" else "power_usd_per_month"
    base = core.gpu_monthly_cost_terms(**SEED)
    scaled = core.gpu_monthly_cost_terms(**{**SEED, arg: SEED[arg] * factor})
    assert scaled[term] == pytest.approx(base[term] * factor, rel=1e-12, abs=1e-12)
    expected_total = base["total_usd_per_month"] + (factor - 1) * base[term]
    assert scaled["total_usd_per_month"] == pytest.approx(expected_total, rel=1e-12, abs=1e-9)


@PROPS
@given(pue=st.floats(1, 3), hours=st.floats(1, 744))
def test_power_is_linear_in_pue_and_hours(pue, hours):
    assert core.power_usd_per_month(700, pue, 0.1, hours) == pytest.approx(0.7 * pue * hours * 0.1, rel=1e-12)


@PROPS
@given(args=st.fixed_dictionaries({
    "gpu_price_usd": st.floats(0, 1e5), "depreciation_years": st.floats(0.25, 10),
    "infra_usd_per_month": money, "power_w": st.floats(0, 2000), "pue": st.floats(1, 3),
    "power_price_usd_per_kwh": st.floats(0, 1), "staff_usd_per_month": money,
    "hours_per_month": st.floats(1, 744), "cost_of_capital": st.floats(0, 0.5)}))
def test_terms_sum_to_total_and_hour_is_total_over_hours(args):
    t = core.gpu_monthly_cost_terms(**args)
    parts = (t["depreciation_usd_per_month"] + t["infra_usd_per_month"] + t["power_usd_per_month"]
             + t["staff_usd_per_month"])
    assert t["total_usd_per_month"] == pytest.approx(parts, rel=1e-12, abs=1e-12)
    assert t["gpu_hour_usd"] == pytest.approx(t["total_usd_per_month"] / args["hours_per_month"], rel=1e-12)
    assert all(v >= 0 for v in t.values())


# --------------------------------------------------------------------------- bad input

BAD = [
    # (function, bad keyword arguments, argument the message must name)
    ("gpu_monthly_cost_terms", {"gpu_price_usd": -1}, "gpu_price_usd"),
    ("gpu_monthly_cost_terms", {"depreciation_years": 0}, "depreciation_years"),
    ("gpu_monthly_cost_terms", {"depreciation_years": -3}, "depreciation_years"),
    ("gpu_monthly_cost_terms", {"infra_usd_per_month": -350}, "infra_usd_per_month"),
    ("gpu_monthly_cost_terms", {"power_w": -700}, "power_w"),
    ("gpu_monthly_cost_terms", {"pue": 0.9}, "pue"),
    ("gpu_monthly_cost_terms", {"power_price_usd_per_kwh": -0.1}, "power_price_usd_per_kwh"),
    ("gpu_monthly_cost_terms", {"staff_usd_per_month": -1}, "staff_usd_per_month"),
    ("gpu_monthly_cost_terms", {"hours_per_month": 0}, "hours_per_month"),
    ("gpu_monthly_cost_terms", {"cost_of_capital": -0.05}, "cost_of_capital"),
    ("gpu_monthly_cost_terms", {"gpu_price_usd": "thirty thousand"}, "gpu_price_usd"),
    ("gpu_monthly_cost_terms", {"gpu_price_usd": "30000"}, "gpu_price_usd"),
    ("gpu_monthly_cost_terms", {"power_w": None}, "power_w"),
    ("gpu_monthly_cost_terms", {"pue": float("nan")}, "pue"),
    ("gpu_monthly_cost_terms", {"pue": True}, "pue"),
    ("gpu_monthly_cost_terms", {"power_w": [700, "x"]}, "power_w"),
    ("gpu_monthly_cost_terms", {"power_w": np.array([700.0, np.nan])}, "power_w"),
    ("gpu_monthly_cost_terms", {"power_w": pd.Series([700.0, None])}, "power_w"),
    ("gpu_monthly_cost_terms", {"depreciation_years": np.array([3.0, 0.0])}, "depreciation_years"),
    ("gpu_hour_usd", {"pue": 0.5}, "pue"),
    ("gpu_monthly_cost_usd", {"depreciation_years": 0}, "depreciation_years"),
    ("depreciation_usd_per_month", {"gpu_price_usd": -30000, "depreciation_years": 3}, "gpu_price_usd"),
    ("depreciation_usd_per_month", {"gpu_price_usd": 30000, "depreciation_years": 0}, "depreciation_years"),
    ("depreciation_usd_per_month", {"gpu_price_usd": 30000, "depreciation_years": 3,
                                    "cost_of_capital": -0.1}, "cost_of_capital"),
    ("power_usd_per_month", {"power_w": 700, "pue": 0.99, "power_price_usd_per_kwh": 0.1}, "pue"),
    ("power_usd_per_month", {"power_w": 700, "pue": 1.3, "power_price_usd_per_kwh": "cheap"},
     "power_price_usd_per_kwh"),
    ("power_usd_per_month", {"power_w": 700, "pue": 1.3, "power_price_usd_per_kwh": 0.1,
                             "hours_per_month": -730}, "hours_per_month"),
]


@pytest.mark.parametrize("func, bad, name", BAD, ids=[f"{f}-{n}-{i}" for i, (f, _, n) in enumerate(BAD)])
def test_bad_input_raises_input_error_naming_the_argument(func, bad, name):
    kwargs = {**SEED, **bad} if func.startswith("gpu_") else bad
    with pytest.raises(InputError) as info:
        getattr(core, func)(**kwargs)
    err = info.value
    assert err.where == name
    assert name in str(err)
    assert isinstance(err, ValueError)  # callers catching ValueError still work


@pytest.mark.parametrize("value, words", [
    (-1, "must be >= 0, got -1"), ("abc", "must be a number, got text 'abc'"),
    (None, "must be a number"), (float("nan"), "blank or NaN"), (True, "must be a number, got True"),
])
def test_bad_input_message_says_what_is_wrong(value, words):
    with pytest.raises(InputError) as info:
        core.depreciation_usd_per_month(value, 3)
    assert str(info.value).startswith("gpu_price_usd")
    assert words in str(info.value)


def test_mismatched_shapes_name_the_arguments():
    with pytest.raises(InputError) as info:
        core.gpu_monthly_cost_terms(**{**SEED, "gpu_price_usd": np.ones(3) * 30000,
                                       "depreciation_years": np.array([3.0, 4.0])})
    assert "gpu_price_usd" in str(info.value) and "depreciation_years" in str(info.value)
    assert "shapes do not match" in str(info.value)
    with pytest.raises(InputError) as info:
        core.power_usd_per_month(np.ones(3) * 700, 1.3, np.array([0.1, 0.2]))
    assert "power_w (3,)" in str(info.value) and "power_price_usd_per_kwh (2,)" in str(info.value)
    with pytest.raises(InputError) as info:
        core.gpu_monthly_cost_terms(**{**SEED, "infra_usd_per_month": np.ones(2),
                                       "staff_usd_per_month": np.ones(5)})
    assert "infra_usd_per_month" in str(info.value) and "staff_usd_per_month" in str(info.value)
