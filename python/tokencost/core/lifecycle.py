"""The investment case over time: a fleet's monthly cash flows, payback, NPV and IRR.

Everything else in the core is a steady state (one month of one GPU, a fleet for
some hours). Here a fleet is followed month by month for a horizon of whole
years: GPUs arrive over a deployment ramp and are paid for at delivery, the
site bills from energisation, utilization ramps up, availability is cut by
interruptions, software makes the same GPU faster each year while token
prices fall, and the hardware may be sold at the end. Every function is
vectorized over scenarios: each parameter is a scalar or a 1-D array of S
scenarios (they broadcast), the monthly rows come back with shape
``(S, months)`` (``(months,)`` when every parameter is a scalar).

Conventions (docs/lifecycle.md explains each; the workbook's Lifecycle sheet
computes the same cell by cell):

* months m = 1 .. ``months`` (120 = 10 years); every cash flow falls at the END
  of its month; there is no month 0; months after the horizon (12 x
  ``horizon_years``) hold 0;
* GPUs online in month m = fleet x min(m, ramp) / ramp; delivered = the increase;
  capex (GPU + server/rack/network) is paid in the month of delivery;
* utilization rises in a straight line from ``utilization_start`` in month 1
  to ``utilization_target`` in month ``utilization_ramp_months``;
* throughput gain and price changes apply in yearly steps (year 1 = today's);
* availability = MTBI / (MTBI + recovery hours) unless given;
* a GPU-second spent on prefill is not spent on decode: GPU-seconds per
  output token = 1/decode + R ((1 - H) + H f) / prefill for a workload of R
  input tokens per output token, a share H of them cached, a cached token
  costing a share f of an uncached one's GPU time;
* power and staff are paid on online GPUs, colocation on the whole fleet from
  month 1, rent (power included) on online GPUs instead of capex, power and
  colocation;
* residual value = a share of the capex, received at the end of the last
  month of the horizon; depreciation (straight line from delivery over the
  depreciation life) enters EBIT only, never the cash; no tax; no GPU refresh.

References
----------
.. [1] "The Real Cost of an AI Token" (the seed document): the H100 build-up
   ($30,000 GPU, $350 a month of server/rack/network, 700 W at PUE 1.3 and
   $0.10/kWh, $150 staff, 730 h a month) and cost per MTok from tokens/s.
.. [2] Microsoft, Excel functions NPV and IRR: NPV(rate, v1..vn) = sum of
   v_i / (1 + rate)^i (the first value one period out); IRR is the rate at
   which the NPV of the values is 0.
.. [3] SemiAnalysis InferenceX, "Fleet Lifecycle" view: a revenue staircase
   from configuration improvements against a cost line billing from
   energisation; availability = MTBI / (MTBI + recovery time).
.. [4] P. Patel et al., "Splitwise", ISCA 2024 (arXiv:2311.18677): prefill and
   decode phases have distinct throughputs.
"""
from __future__ import annotations

import numpy as np

from ._arrays import InputError, broadcast, check
from .throughput import SECONDS_PER_HOUR, TOKENS_PER_MTOK

MONTHS_PER_YEAR = 12
MAX_MONTHS = 120            # the timeline's length: 10 years (the workbook's month columns)
W_PER_KW = 1000.0
W_PER_MW = 1e6

__all__ = ["annual_to_monthly_rate", "npv", "irr", "lifecycle_timeline", "lifecycle_summary",
           "MAX_MONTHS", "MONTHLY_KEYS"]

#: the monthly rows of :func:`lifecycle_timeline`, in the workbook's order
MONTHLY_KEYS = ("month", "active", "year", "gpus_online", "gpus_delivered", "utilization",
                "throughput_factor", "output_mtok", "input_mtok", "cached_input_mtok", "traffic_mtok",
                "price_input_usd_per_mtok", "price_cached_input_usd_per_mtok",
                "price_output_usd_per_mtok", "revenue_usd", "power_usd", "staff_usd",
                "colocation_usd", "rent_usd", "opex_usd", "ebitda_usd", "depreciation_usd",
                "ebit_usd", "capex_usd", "residual_usd", "cost_usd", "net_cash_usd",
                "cumulative_cash_usd", "discount_factor")


def annual_to_monthly_rate(annual_rate):
    """Monthly rate with the same compound growth as an annual one: (1 + r)^(1/12) - 1.

    Parameters
    ----------
    annual_rate : float or array-like
        Annual rate as a fraction (0.1 = 10 %) [1/year]. Must be > -1.

    Returns
    -------
    float or ndarray
        Monthly rate [1/month] (10 % a year: 0.7974 % a month).
    """
    r = check(annual_rate, "cost_of_capital", gt=-1)
    out = np.expm1(np.log1p(r) / MONTHS_PER_YEAR)
    return float(out) if np.ndim(out) == 0 else out


def npv(rate, cash_flows):
    """Net present value with Excel's NPV convention: the first flow one period out.

    NPV = sum over i = 1..n of cash_flows[i] / (1 + rate)^i [2]_.

    Parameters
    ----------
    rate : float or array-like of shape (S,)
        Rate per period [1/period]. Must be > -1.
    cash_flows : array-like of shape (n,) or (S, n)
        Cash flows at the end of periods 1..n [USD].

    Returns
    -------
    float or ndarray of shape (S,)
        Net present value [USD].
    """
    r = check(rate, "rate", gt=-1)
    flows = np.asarray(cash_flows, dtype=float)
    periods = np.arange(1, flows.shape[-1] + 1, dtype=float)
    factors = np.exp(-periods * np.log1p(np.asarray(r)[..., None]))
    out = np.sum(flows * factors, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def _npv_rows(flows: np.ndarray, log_growth: np.ndarray, periods: np.ndarray) -> np.ndarray:
    return np.sum(flows * np.exp(-periods * log_growth[:, None]), axis=1)


def irr(cash_flows, low: float = -0.99, high: float = 1.0, tol: float = 1e-13) -> np.ndarray:
    """Internal rate of return per period of each row of cash flows.

    The rate at which the NPV of the flows is 0 [2]_ (where the flows are counted
    from, period 0 or 1, does not move the rate). Found by bisection on a bracket
    (``low`` .. ``high``, widened up to 1,000x while the NPV keeps its sign), then
    polished by Newton steps. NaN where the flows never change sign (no rate
    exists) or no root lies in the bracket.

    Parameters
    ----------
    cash_flows : array-like of shape (n,) or (S, n)
        Cash flows of periods 1..n [USD].
    low, high : float
        Bracket of rates [1/period]; ``low`` > -1.
    tol : float
        Bisection stops when the bracket is narrower than ``tol`` x (1 + |rate|).

    Returns
    -------
    float or ndarray of shape (S,)
        Rate per period [1/period], NaN where none exists.
    """
    flows = np.atleast_2d(np.asarray(cash_flows, dtype=float))
    n = flows.shape[1]
    periods = np.arange(1, n + 1, dtype=float)
    has_root = (flows > 0).any(axis=1) & (flows < 0).any(axis=1)
    rows = flows.shape[0]
    lo = np.full(rows, np.log1p(low))
    hi = np.full(rows, np.log1p(high))
    f_lo = _npv_rows(flows, lo, periods)
    f_hi = _npv_rows(flows, hi, periods)
    for _ in range(10):                      # widen the bracket while the sign does not change
        same = (np.sign(f_lo) == np.sign(f_hi)) & has_root
        if not same.any():
            break
        hi = np.where(same, hi + np.log(2.0), hi)
        f_hi = np.where(same, _npv_rows(flows, hi, periods), f_hi)
    found = has_root & (np.sign(f_lo) != np.sign(f_hi))
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = _npv_rows(flows, mid, periods)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
        if np.all(np.abs(np.expm1(hi) - np.expm1(lo)) <= tol * (1 + np.abs(np.expm1(lo)))):
            break
    x = (lo + hi) / 2
    for _ in range(3):                       # Newton on x = ln(1 + rate)
        weights = flows * np.exp(-periods * x[:, None])
        f = weights.sum(axis=1)
        df = -(periods * weights).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(df != 0, f / df, 0.0)
        x = np.where(np.isfinite(step) & (np.abs(step) < 1e-6), x - step, x)
    out = np.where(found, np.expm1(x), np.nan)
    return float(out[0]) if np.ndim(cash_flows) == 1 else out


def _optional(value, name: str, **bounds) -> np.ndarray:
    """A parameter that may be blank (NaN = take the default): bounds on the given ones."""
    arr = np.asarray(np.nan if value is None else value, dtype=float)
    given = ~np.isnan(arr)
    if given.any():
        check(arr[given], name, **bounds)
    return arr


def _whole(arr: np.ndarray, name: str) -> None:
    bad = np.abs(arr - np.round(arr)) > 1e-9
    if np.any(bad):
        raise InputError(name, f"{name} must be a whole number, got {float(np.ravel(arr)[np.ravel(bad)][0]):g}")


def lifecycle_timeline(*, horizon_years, gpus, facility_mw, power_w, pue, gpu_price_usd,
                       server_capex_usd_per_gpu, power_price_usd_per_kwh, staff_usd_per_month,
                       colocation_usd_per_gpu_month, hours_per_month, rent_usd_per_gpu_hour,
                       deployment_ramp_months, utilization_start, utilization_target,
                       utilization_ramp_months, mtbi_hours, recovery_hours, availability,
                       decode_tokens_per_s, prefill_tokens_per_s, cached_input_cost_factor,
                       input_tokens_per_output_token, cache_hit_share, price_input_usd_per_mtok,
                       price_cached_input_usd_per_mtok, price_output_usd_per_mtok,
                       throughput_gain_per_year, price_change_input_per_year,
                       price_change_cached_input_per_year, price_change_output_per_year,
                       depreciation_years, cost_of_capital, residual_value_share,
                       months: int = MAX_MONTHS, rounding: float = 1e-12) -> dict:
    """Month-by-month cash flows of a fleet serving one workload at one price row.

    Parameters (scalars or 1-D arrays of scenarios; NaN = blank where optional)
    ----------
    horizon_years : whole number in 1 .. months/12 [years]
    gpus : GPUs once fully deployed [GPUs], whole, >= 0; NaN: size from ``facility_mw``
    facility_mw : facility power budget [MW] >= 0, used when ``gpus`` is NaN:
        fleet = floor(MW x 1e6 / (power_w x pue) x (1 + rounding))
    power_w : electrical draw per GPU [W] > 0; pue : [-] >= 1
    gpu_price_usd, server_capex_usd_per_gpu : capex per GPU at delivery [USD] >= 0
    power_price_usd_per_kwh : [USD/kWh] >= 0; staff_usd_per_month : per online GPU [USD/month] >= 0
    colocation_usd_per_gpu_month : per GPU of the whole fleet from month 1 [USD/month] >= 0
    hours_per_month : [h] > 0
    rent_usd_per_gpu_hour : [USD/h] >= 0 per online GPU-hour, power included; NaN: own
    deployment_ramp_months, utilization_ramp_months : [months] in 1 .. 12 x horizon_years
    utilization_start, utilization_target : busy share of online hours [-] in (0, 1]
    mtbi_hours : mean time between interruptions of a serving instance [h] > 0
    recovery_hours : [h] >= 0
    availability : [-] in (0, 1]; NaN: mtbi / (mtbi + recovery)
    decode_tokens_per_s : output tokens/s per GPU [tokens/s] > 0
    prefill_tokens_per_s : input tokens/s per GPU [tokens/s] > 0 (unused, may be NaN, when R = 0)
    cached_input_cost_factor : GPU time of a cached input token / an uncached one [-] in [0, 1]
    input_tokens_per_output_token : R [-] >= 0; cache_hit_share : H [-] in [0, 1]
    price_input_usd_per_mtok, price_cached_input_usd_per_mtok, price_output_usd_per_mtok :
        today's prices [USD/MTok] >= 0 (input and cached may be NaN when R = 0)
    throughput_gain_per_year, price_change_*_per_year : yearly steps [1/year] > -1
    depreciation_years : accounting life [years] > 0 (EBIT only; rounded to whole months)
    cost_of_capital : annual discount rate [1/year] > -1
    residual_value_share : share of capex received at the end [-] in [0, 1]
    months : length of the timeline [months] (120)
    rounding : relative tolerance of the power-budget floor (as tokencost.core.fleet)

    Returns
    -------
    dict
        Every key of :data:`MONTHLY_KEYS`, shape ``(S, months)`` or ``(months,)``
        (``month``, ``year`` 1-based; ``active`` 1 inside the horizon); and per
        scenario ``fleet_gpus`` [GPUs], ``availability`` [-], ``monthly_rate``
        [1/month], ``horizon_months`` [months], ``seconds_per_output_token`` [s].
    """
    years = check(horizon_years, "horizon_years", ge=1, le=months / MONTHS_PER_YEAR)
    _whole(years, "horizon_years")
    gpus_a = _optional(gpus, "gpus", ge=0)
    _whole(gpus_a[~np.isnan(gpus_a)], "gpus")
    mw = _optional(facility_mw, "facility_mw", ge=0)
    if np.any(np.isnan(gpus_a) & np.isnan(mw)):
        raise InputError("gpus", "gpus is blank and so is facility_mw: give the fleet size or the "
                                 "facility power budget that sizes it")
    watts = check(power_w, "power_w", gt=0)
    p = check(pue, "pue", ge=1)
    gpu_price = check(gpu_price_usd, "gpu_price_usd", ge=0)
    server = check(server_capex_usd_per_gpu, "server_capex_usd_per_gpu", ge=0)
    kwh = check(power_price_usd_per_kwh, "power_price_usd_per_kwh", ge=0)
    staff = check(staff_usd_per_month, "staff_usd_per_month", ge=0)
    colo = check(colocation_usd_per_gpu_month, "colocation_usd_per_gpu_month", ge=0)
    hours = check(hours_per_month, "hours_per_month", gt=0)
    rent = _optional(rent_usd_per_gpu_hour, "rent_usd_per_gpu_hour", ge=0)
    horizon = years * MONTHS_PER_YEAR
    ramp = check(deployment_ramp_months, "deployment_ramp_months", ge=1)
    uramp = check(utilization_ramp_months, "utilization_ramp_months", ge=1)
    for arr, name in ((ramp, "deployment_ramp_months"), (uramp, "utilization_ramp_months")):
        over = np.broadcast_to(arr > horizon, np.broadcast_shapes(arr.shape, horizon.shape))
        if over.any():
            i = np.flatnonzero(over)[0]
            raise InputError(name, f"{name} must not exceed the horizon of "
                                   f"{float(np.broadcast_to(horizon, over.shape).ravel()[i]):g} months, "
                                   f"got {float(np.broadcast_to(arr, over.shape).ravel()[i]):g}")
    u0 = check(utilization_start, "utilization_start", gt=0, le=1)
    u1 = check(utilization_target, "utilization_target", gt=0, le=1)
    mtbi = check(mtbi_hours, "mtbi_hours", gt=0)
    recovery = check(recovery_hours, "recovery_hours", ge=0)
    avail_in = _optional(availability, "availability", gt=0, le=1)
    decode = check(decode_tokens_per_s, "decode_tokens_per_s", gt=0)
    ratio = check(input_tokens_per_output_token, "input_tokens_per_output_token", ge=0)
    hit = check(cache_hit_share, "cache_hit_share", ge=0, le=1)
    factor = check(cached_input_cost_factor, "cached_input_cost_factor", ge=0, le=1)
    prefill = _optional(prefill_tokens_per_s, "prefill_tokens_per_s", gt=0)
    p_in = _optional(price_input_usd_per_mtok, "price_input_usd_per_mtok", ge=0)
    p_cached = _optional(price_cached_input_usd_per_mtok, "price_cached_input_usd_per_mtok", ge=0)
    p_out = check(price_output_usd_per_mtok, "price_output_usd_per_mtok", ge=0)
    needs_input = np.broadcast_to(ratio > 0, np.broadcast_shapes(ratio.shape, prefill.shape, p_in.shape))
    for arr, name in ((prefill, "prefill_tokens_per_s"), (p_in, "price_input_usd_per_mtok")):
        if np.any(needs_input & np.isnan(np.broadcast_to(arr, needs_input.shape))):
            raise InputError(name, f"{name} is blank but the workload has input tokens "
                                   "(input_tokens_per_output_token > 0)")
    gain = check(throughput_gain_per_year, "throughput_gain_per_year", gt=-1)
    ch_in = check(price_change_input_per_year, "price_change_input_per_year", gt=-1)
    ch_cached = check(price_change_cached_input_per_year, "price_change_cached_input_per_year", gt=-1)
    ch_out = check(price_change_output_per_year, "price_change_output_per_year", gt=-1)
    dep_years = check(depreciation_years, "depreciation_years", gt=0)
    rate_annual = check(cost_of_capital, "cost_of_capital", gt=-1)
    residual_share = check(residual_value_share, "residual_value_share", ge=0, le=1)
    shape = broadcast(
        horizon_years=years, gpus=gpus_a, facility_mw=mw, power_w=watts, pue=p, gpu_price_usd=gpu_price,
        server_capex_usd_per_gpu=server, power_price_usd_per_kwh=kwh, staff_usd_per_month=staff,
        colocation_usd_per_gpu_month=colo, hours_per_month=hours, rent_usd_per_gpu_hour=rent,
        deployment_ramp_months=ramp, utilization_start=u0, utilization_target=u1,
        utilization_ramp_months=uramp, mtbi_hours=mtbi, recovery_hours=recovery,
        availability=avail_in, decode_tokens_per_s=decode, prefill_tokens_per_s=prefill,
        cached_input_cost_factor=factor, input_tokens_per_output_token=ratio, cache_hit_share=hit,
        price_input_usd_per_mtok=p_in, price_cached_input_usd_per_mtok=p_cached,
        price_output_usd_per_mtok=p_out, throughput_gain_per_year=gain,
        price_change_input_per_year=ch_in, price_change_cached_input_per_year=ch_cached,
        price_change_output_per_year=ch_out, depreciation_years=dep_years,
        cost_of_capital=rate_annual, residual_value_share=residual_share)
    if len(shape) > 1:
        raise InputError("scenarios", f"parameters must be scalars or 1-D arrays of scenarios, "
                                      f"got shape {shape}")

    def col(x):            # a per-scenario value as a column against the months
        return np.broadcast_to(np.asarray(x, dtype=float), shape)[..., None]

    m = np.arange(1, months + 1, dtype=float)
    fleet = np.where(np.isnan(gpus_a), np.floor(np.nan_to_num(mw) * W_PER_MW / (watts * p) * (1 + rounding)),
                     gpus_a)
    own = np.isnan(rent).astype(float)
    rent_used = np.where(np.isnan(rent), 0.0, rent)
    avail = np.where(np.isnan(avail_in), mtbi / (mtbi + recovery), avail_in)
    capex_per_gpu = gpu_price + server
    with np.errstate(invalid="ignore"):
        prefill_time = np.where(ratio > 0, ratio * ((1 - hit) + hit * factor) / np.where(
            np.isnan(prefill), 1.0, prefill), 0.0)
    seconds_per_token = 1 / decode + prefill_time
    monthly_rate = np.expm1(np.log1p(rate_annual) / MONTHS_PER_YEAR)
    dep_months = np.round(MONTHS_PER_YEAR * dep_years)

    active = (m <= col(horizon)).astype(float)
    year = np.floor((m - 1) / MONTHS_PER_YEAR) + 1
    online = active * col(fleet) * np.minimum(m, col(ramp)) / col(ramp)
    previous = np.concatenate([np.zeros(online.shape[:-1] + (1,)), online[..., :-1]], axis=-1)
    delivered = active * (online - previous)
    with np.errstate(invalid="ignore", divide="ignore"):
        rising = col(u0) + (col(u1) - col(u0)) * np.minimum(m - 1, col(uramp) - 1) / (col(uramp) - 1)
    utilization = np.where(col(uramp) <= 1, col(u1), rising)
    steps = year - 1
    throughput = (1 + col(gain)) ** steps
    output = (online * col(avail) * utilization * throughput * SECONDS_PER_HOUR * col(hours)
              / col(seconds_per_token) / TOKENS_PER_MTOK)
    uncached = output * col(ratio) * (1 - col(hit))
    cached = output * col(ratio) * col(hit)
    price_in = col(np.nan_to_num(p_in)) * (1 + col(ch_in)) ** steps
    price_cached = col(np.where(np.isnan(p_cached), np.nan_to_num(p_in), p_cached)) * (1 + col(ch_cached)) ** steps
    price_out = col(p_out) * (1 + col(ch_out)) ** steps
    revenue = uncached * price_in + cached * price_cached + output * price_out
    power = col(own) * online * col(watts) / W_PER_KW * col(p) * col(hours) * col(kwh)
    staff_m = online * col(staff)
    colocation = col(own) * active * col(fleet) * col(colo)
    rent_m = (1 - col(own)) * online * col(rent_used) * col(hours)
    opex = power + staff_m + colocation + rent_m
    ebitda = revenue - opex
    capex = col(own) * delivered * col(capex_per_gpu)
    lag = m - col(dep_months)                            # online GPUs dep_months earlier
    idx = np.clip(lag - 1, 0, months - 1).astype(int)
    online_lagged = np.where(lag >= 1, np.take_along_axis(online, np.broadcast_to(idx, online.shape), axis=-1), 0.0)
    depreciation = active * col(own) * col(capex_per_gpu) / col(dep_months) * (online - online_lagged)
    residual = col(own) * (m == col(horizon)) * col(residual_share) * col(fleet) * col(capex_per_gpu)
    net_cash = ebitda - capex + residual
    discount = np.exp(-m * np.log1p(col(monthly_rate)))
    out = {
        "month": np.broadcast_to(m, online.shape).copy(), "active": active,
        "year": np.broadcast_to(year, online.shape).copy(),
        "gpus_online": online, "gpus_delivered": delivered,
        "utilization": np.broadcast_to(utilization, online.shape).copy(),
        "throughput_factor": np.broadcast_to(throughput, online.shape).copy(),
        "output_mtok": output, "input_mtok": uncached, "cached_input_mtok": cached,
        "traffic_mtok": output + uncached + cached,
        "price_input_usd_per_mtok": np.broadcast_to(price_in, online.shape).copy(),
        "price_cached_input_usd_per_mtok": np.broadcast_to(price_cached, online.shape).copy(),
        "price_output_usd_per_mtok": np.broadcast_to(price_out, online.shape).copy(),
        "revenue_usd": revenue, "power_usd": power, "staff_usd": staff_m,
        "colocation_usd": colocation, "rent_usd": rent_m, "opex_usd": opex, "ebitda_usd": ebitda,
        "depreciation_usd": depreciation, "ebit_usd": ebitda - depreciation, "capex_usd": capex,
        "residual_usd": residual, "cost_usd": capex + opex - residual, "net_cash_usd": net_cash,
        "cumulative_cash_usd": np.cumsum(net_cash, axis=-1),
        "discount_factor": np.broadcast_to(discount, online.shape).copy(),
        "fleet_gpus": np.broadcast_to(fleet, shape).astype(float),
        "availability": np.broadcast_to(avail, shape).astype(float),
        "monthly_rate": np.broadcast_to(monthly_rate, shape).astype(float),
        "horizon_months": np.broadcast_to(horizon, shape).astype(float),
        "seconds_per_output_token": np.broadcast_to(seconds_per_token, shape).astype(float),
    }
    return out


def lifecycle_summary(timeline: dict) -> dict:
    """NPV, IRR, payback and lifetime costs of a :func:`lifecycle_timeline`.

    Returns
    -------
    dict of ndarray (shape (S,), or floats for a single scenario)
        ``npv_usd`` (Excel NPV at the monthly rate over all months), ``irr_monthly``,
        ``irr_annual`` = (1 + monthly)^12 - 1 (NaN: the flows never change sign, or no
        root was found), ``payback_month`` (first month in the horizon whose cumulative
        cash is >= 0; NaN: never), ``min_cumulative_cash_usd`` (peak funding need),
        ``total_revenue_usd``, ``total_capex_usd``, ``total_opex_usd``,
        ``total_residual_usd``, ``total_output_mtok``, ``total_traffic_mtok``,
        ``lifetime_cost_usd_per_mtok`` ((capex + opex - residual) / tokens served),
        ``lifetime_cost_usd_per_output_mtok``, ``levelized_cost_usd_per_mtok``
        (present value of costs / present value of tokens served).
    """
    net = np.atleast_2d(timeline["net_cash_usd"])
    single = np.ndim(timeline["net_cash_usd"]) == 1
    rate = np.atleast_1d(timeline["monthly_rate"])
    disc = np.atleast_2d(timeline["discount_factor"])
    cum = np.atleast_2d(timeline["cumulative_cash_usd"])
    active = np.atleast_2d(timeline["active"]) > 0
    month = np.atleast_2d(timeline["month"])
    irr_m = np.atleast_1d(irr(net))
    paid_back = active & (cum >= 0)
    payback = np.where(paid_back.any(axis=1), np.take_along_axis(
        month, paid_back.argmax(axis=1)[:, None], axis=1)[:, 0], np.nan)

    def total(key):
        return np.atleast_2d(timeline[key]).sum(axis=1)

    cost = total("capex_usd") + total("opex_usd") - total("residual_usd")
    traffic, output = total("traffic_mtok"), total("output_mtok")
    pv_cost = (np.atleast_2d(timeline["cost_usd"]) * disc).sum(axis=1)
    pv_traffic = (np.atleast_2d(timeline["traffic_mtok"]) * disc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "npv_usd": (net * disc).sum(axis=1),
            "irr_monthly": irr_m,
            "irr_annual": np.expm1(MONTHS_PER_YEAR * np.log1p(irr_m)),
            "payback_month": payback,
            "min_cumulative_cash_usd": cum.min(axis=1),
            "total_revenue_usd": total("revenue_usd"), "total_capex_usd": total("capex_usd"),
            "total_opex_usd": total("opex_usd"), "total_residual_usd": total("residual_usd"),
            "total_output_mtok": output, "total_traffic_mtok": traffic,
            "lifetime_cost_usd_per_mtok": np.where(traffic > 0, cost / traffic, np.nan),
            "lifetime_cost_usd_per_output_mtok": np.where(output > 0, cost / output, np.nan),
            "levelized_cost_usd_per_mtok": np.where(pv_traffic > 0, pv_cost / pv_traffic, np.nan),
            "monthly_rate": rate,
        }
    if single:
        return {k: float(v[0]) for k, v in out.items()}
    return out
