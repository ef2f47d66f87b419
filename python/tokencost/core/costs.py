"""Fully-loaded cost of one GPU, term by term.

The build-up follows the seed's Methods line: "GPU-hour cost = (depreciation +
power + ops + infra) / hours per month" [1]_. Every function is vectorized:
scalars, numpy arrays and pandas Series all work, and mix.

References
----------
.. [1] H. (2026), "The Real Cost of an AI Token", Herm-an's Workshop (the
   seed document of this project): the H100 table ($833 depreciation, $350
   server/rack/network, $66 power, $150 staff, ~$1,400 a month, ~$1.92/hour).
"""
from __future__ import annotations

import numpy as np

from ._arrays import broadcast, check, wrap

MONTHS_PER_YEAR = 12
W_PER_KW = 1000.0


def depreciation_usd_per_month(gpu_price_usd, depreciation_years, cost_of_capital=0.0):
    r"""Monthly capital charge for one GPU.

    Straight-line when ``cost_of_capital`` is 0 (the seed: $30,000 / 36 =
    $833.33). With an annual cost of capital :math:`r > 0` the capital recovery
    factor is used instead, at the monthly rate :math:`i = r/12` over
    :math:`n = 12 \cdot years` months:
    :math:`price \cdot i / (1 - (1+i)^{-n})`, the level payment that repays
    the price with interest (the annuity formula, as in ``PMT``).

    Parameters
    ----------
    gpu_price_usd : float or array-like
        Purchase price of one GPU [USD]. Must be >= 0.
    depreciation_years : float or array-like
        Economic life [years]. Must be > 0.
    cost_of_capital : float or array-like, default 0
        Annual cost of capital as a fraction (0.08 = 8 %) [1/year]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        Capital charge [USD/month].
    """
    price = check(gpu_price_usd, "gpu_price_usd", ge=0)
    years = check(depreciation_years, "depreciation_years", gt=0)
    rate = check(cost_of_capital, "cost_of_capital", ge=0)
    broadcast(gpu_price_usd=price, depreciation_years=years, cost_of_capital=rate)
    months = years * MONTHS_PER_YEAR
    monthly_rate = rate / MONTHS_PER_YEAR
    # 1 - (1+i)^-n written with log1p/expm1 so that a tiny rate neither loses
    # digits nor divides by zero (1 + 1e-20 == 1 in floating point)
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = np.where(
            monthly_rate > 0,
            monthly_rate / -np.expm1(-months * np.log1p(monthly_rate)),
            1.0 / months,
        )
    return wrap(price * crf, gpu_price_usd, depreciation_years, cost_of_capital)


def power_usd_per_month(power_w, pue, power_price_usd_per_kwh, hours_per_month=730.0):
    """Monthly electricity bill of one GPU, facility overhead included.

    power = power_w / 1000 x pue x hours_per_month x power_price_usd_per_kwh
    (the seed: 0.7 kW x 1.3 x 730 h x $0.10 = $66.43).

    Parameters
    ----------
    power_w : float or array-like
        Average electrical draw of the GPU [W]. Must be >= 0.
    pue : float or array-like
        Power usage effectiveness of the facility [-]. Must be >= 1.
    power_price_usd_per_kwh : float or array-like
        Electricity price [USD/kWh]. Must be >= 0.
    hours_per_month : float or array-like, default 730
        Hours in a month [h] (8760 / 12 = 730). Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Power cost [USD/month].
    """
    watts = check(power_w, "power_w", ge=0)
    p = check(pue, "pue", ge=1)
    price = check(power_price_usd_per_kwh, "power_price_usd_per_kwh", ge=0)
    hours = check(hours_per_month, "hours_per_month", gt=0)
    broadcast(power_w=watts, pue=p, power_price_usd_per_kwh=price, hours_per_month=hours)
    return wrap(watts / W_PER_KW * p * hours * price,
                power_w, pue, power_price_usd_per_kwh, hours_per_month)


def gpu_monthly_cost_terms(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
                           power_price_usd_per_kwh, staff_usd_per_month, hours_per_month=730.0,
                           cost_of_capital=0.0):
    """The seed's monthly cost table for one GPU, term by term.

    Parameters
    ----------
    gpu_price_usd : float or array-like
        GPU purchase price [USD].
    depreciation_years : float or array-like
        Economic life [years].
    infra_usd_per_month : float or array-like
        Server, rack and network amortization per GPU [USD/month]. Must be >= 0.
    power_w, pue, power_price_usd_per_kwh, hours_per_month
        See :func:`power_usd_per_month`.
    staff_usd_per_month : float or array-like
        Pro-rated staff and operations per GPU [USD/month]. Must be >= 0.
    cost_of_capital : float or array-like, default 0
        See :func:`depreciation_usd_per_month`.

    Returns
    -------
    dict of str to float, ndarray or Series
        ``depreciation_usd_per_month``, ``infra_usd_per_month``,
        ``power_usd_per_month``, ``staff_usd_per_month``,
        ``total_usd_per_month`` [USD/month] and ``gpu_hour_usd`` [USD/h].
    """
    depreciation = depreciation_usd_per_month(gpu_price_usd, depreciation_years, cost_of_capital)
    power = power_usd_per_month(power_w, pue, power_price_usd_per_kwh, hours_per_month)
    infra = check(infra_usd_per_month, "infra_usd_per_month", ge=0)
    staff = check(staff_usd_per_month, "staff_usd_per_month", ge=0)
    hours = check(hours_per_month, "hours_per_month", gt=0)
    args = (gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
            power_price_usd_per_kwh, staff_usd_per_month, hours_per_month, cost_of_capital)
    dep, pw = np.asarray(depreciation, dtype=float), np.asarray(power, dtype=float)
    broadcast(depreciation=dep, infra_usd_per_month=infra, power=pw, staff_usd_per_month=staff)
    total = dep + infra + pw + staff

    def full(term):
        return wrap(np.broadcast_to(term, np.shape(total)), *args)

    return {
        "depreciation_usd_per_month": full(dep),
        "infra_usd_per_month": full(infra),
        "power_usd_per_month": full(pw),
        "staff_usd_per_month": full(staff),
        "total_usd_per_month": wrap(total, *args),
        "gpu_hour_usd": wrap(total / hours, *args),
    }


def gpu_monthly_cost_usd(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
                         power_price_usd_per_kwh, staff_usd_per_month, hours_per_month=730.0,
                         cost_of_capital=0.0):
    """Fully-loaded cost of one GPU per month [USD/month]: the sum of the four terms
    of :func:`gpu_monthly_cost_terms` (the seed: $1,399.76, "~$1,400")."""
    return gpu_monthly_cost_terms(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w,
                                  pue, power_price_usd_per_kwh, staff_usd_per_month,
                                  hours_per_month, cost_of_capital)["total_usd_per_month"]


def gpu_hour_usd(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w, pue,
                 power_price_usd_per_kwh, staff_usd_per_month, hours_per_month=730.0,
                 cost_of_capital=0.0):
    """Fully-loaded cost of one GPU per hour [USD/h] = monthly cost / hours_per_month
    (the seed: $1,399.76 / 730 = $1.9175, "~$1.92")."""
    return gpu_monthly_cost_terms(gpu_price_usd, depreciation_years, infra_usd_per_month, power_w,
                                  pue, power_price_usd_per_kwh, staff_usd_per_month,
                                  hours_per_month, cost_of_capital)["gpu_hour_usd"]
