"""Deployment economics beyond the seed's single point estimate.

Rent vs own, the token mix (input, cached input, output), power-limited
fleets and a fleet P&L. Every function is vectorized like the rest of the
core: scalars, numpy arrays and pandas Series all work, and mix. Cost per
MTok always goes through :func:`tokencost.core.throughput.cost_per_mtok`.

References
----------
.. [1] "The Real Cost of an AI Token" (the seed document): $/GPU-hour from the
   monthly build-up, $/MTok = $/GPU-hour / (tokens/s x 3600 / 1e6).
.. [2] Artificial Analysis, "Benchmarking Methodology"
   (https://artificialanalysis.ai/methodology): a blended price is the 3:1
   weighted average of the input and output token prices.
.. [3] The Green Grid, "PUE: A Comprehensive Examination of the Metric" (2012):
   PUE = total facility energy / IT equipment energy.
.. [4] P. Patel et al., "Splitwise: Efficient Generative LLM Inference Using
   Phase Splitting", ISCA 2024 (arXiv:2311.18677): prompt (prefill) is
   compute-bound, token generation (decode) memory-bound, with distinct
   throughputs.
"""
from __future__ import annotations

import numpy as np

from ._arrays import InputError, broadcast, check, wrap
from .throughput import SECONDS_PER_HOUR, TOKENS_PER_MTOK, cost_per_mtok

W_PER_MW = 1e6
HOURS_PER_DAY = 24.0

__all__ = [
    "rent_vs_own_breakeven_utilization", "rent_vs_own_cost_per_mtok",
    "token_costs_usd_per_mtok", "blended_price_usd_per_mtok", "blended_cost_usd_per_mtok",
    "workload_economics", "workload_cost_usd_per_mtok", "workload_markup",
    "energy_j_per_token", "tokens_per_s_per_mw", "fleet_from_power_budget",
    "fleet_pnl", "fleet_implied_utilization",
]


# --------------------------------------------------------------------------- rent vs own

def rent_vs_own_breakeven_utilization(own_gpu_hour_usd, rent_gpu_hour_usd):
    """Utilization above which owning a GPU is cheaper than renting one on demand.

    Assumption (stated, not hidden): an owned GPU costs its full fully-loaded
    hourly cost (the TCO build-up, depreciation included) in *every* hour,
    busy or idle; an on-demand rental is paid only for the hours it is busy.
    For a workload that keeps a GPU busy a share *u* of the time, owning costs
    ``own`` per calendar hour and renting ``u x rent``, so owning wins when

        u > own_gpu_hour_usd / rent_gpu_hour_usd.

    A result >= 1 means owning never beats on-demand renting at that rental
    price. For a reserved rental (paid every hour, like owning) the utilization
    does not matter: compare the two hourly prices directly.

    Parameters
    ----------
    own_gpu_hour_usd : float or array-like
        Fully-loaded cost of an owned GPU per calendar hour [USD/h] (e.g.
        :func:`tokencost.core.costs.gpu_hour_usd`). Must be >= 0.
    rent_gpu_hour_usd : float or array-like
        On-demand rental price per busy GPU-hour [USD/h]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Break-even utilization [-] (the seed's $1.9175/h against a $3.99/h
        rental: 0.4806).
    """
    own = check(own_gpu_hour_usd, "own_gpu_hour_usd", ge=0)
    rent = check(rent_gpu_hour_usd, "rent_gpu_hour_usd", gt=0)
    broadcast(own_gpu_hour_usd=own, rent_gpu_hour_usd=rent)
    return wrap(own / rent, own_gpu_hour_usd, rent_gpu_hour_usd)


def rent_vs_own_cost_per_mtok(own_gpu_hour_usd, rent_gpu_hour_usd, tokens_per_s, utilization=1.0):
    """Cost per MTok under each cost basis, at a utilization.

    Owned: the full hourly cost is spread over the tokens actually served,
    ``cost_per_mtok(own, tokens_per_s, utilization)``. Rented on demand: only
    busy hours are paid, so the cost per MTok does not depend on utilization,
    ``cost_per_mtok(rent, tokens_per_s, 1)``. See
    :func:`rent_vs_own_breakeven_utilization` for the assumption.

    Parameters
    ----------
    own_gpu_hour_usd : float or array-like
        Owned GPU cost per calendar hour [USD/h]. Must be >= 0.
    rent_gpu_hour_usd : float or array-like
        On-demand rental price per busy GPU-hour [USD/h]. Must be > 0.
    tokens_per_s : float or array-like
        Output tokens per second per GPU while busy [tokens/s]. Must be > 0.
    utilization : float or array-like, default 1.0
        Busy share of the hours [-], in (0, 1].

    Returns
    -------
    dict of str to float, ndarray or Series
        ``owned_usd_per_mtok``, ``rented_usd_per_mtok`` [USD/MTok] and
        ``breakeven_utilization`` [-].
    """
    rent = check(rent_gpu_hour_usd, "rent_gpu_hour_usd", gt=0)
    args = (own_gpu_hour_usd, rent_gpu_hour_usd, tokens_per_s, utilization)
    owned = np.asarray(cost_per_mtok(own_gpu_hour_usd, tokens_per_s, utilization), dtype=float)
    rented = np.asarray(cost_per_mtok(rent, tokens_per_s, 1.0), dtype=float)
    breakeven = np.asarray(rent_vs_own_breakeven_utilization(own_gpu_hour_usd, rent), dtype=float)
    shape = broadcast(owned=owned, rented=rented, breakeven=breakeven)
    return {
        "owned_usd_per_mtok": wrap(np.broadcast_to(owned, shape), *args),
        "rented_usd_per_mtok": wrap(np.broadcast_to(rented, shape), *args),
        "breakeven_utilization": wrap(np.broadcast_to(breakeven, shape), *args),
    }


# --------------------------------------------------------------------------- token mix

def token_costs_usd_per_mtok(gpu_hour_usd, decode_tokens_per_s, prefill_tokens_per_s,
                             cached_input_cost_factor=None, cached_prefill_tokens_per_s=None,
                             utilization=1.0):
    """Cost of one million tokens of each kind: input (cache miss), cached input, output.

    Time-sharing model: a GPU-hour is split between the work it does, each
    token occupying the GPU for 1/throughput seconds of its phase, so each
    kind costs ``cost_per_mtok(gpu_hour_usd, its throughput, utilization)``.
    Output tokens run at the decode throughput (the seed's tokens/s), input
    tokens at the prefill throughput (compute-bound, much faster [4]_).
    Cached input tokens skip most prefill work: give either a cost factor
    relative to an uncached input token or a cached-prefill throughput
    (exactly one).

    Parameters
    ----------
    gpu_hour_usd : float or array-like
        Cost of one GPU-hour [USD/h]. Must be >= 0.
    decode_tokens_per_s : float or array-like
        Output tokens per second per GPU [tokens/s]. Must be > 0.
    prefill_tokens_per_s : float or array-like
        Uncached input tokens processed per second per GPU [tokens/s]. Must be > 0.
    cached_input_cost_factor : float or array-like, optional
        Cost of a cached input token as a share of an uncached one [-], in [0, 1].
    cached_prefill_tokens_per_s : float or array-like, optional
        Cached input tokens processed per second per GPU [tokens/s]. Must be > 0.
    utilization : float or array-like, default 1.0
        Busy share of paid hours [-], in (0, 1].

    Returns
    -------
    dict of str to float, ndarray or Series
        ``input_cost_usd_per_mtok``, ``cached_input_cost_usd_per_mtok``,
        ``output_cost_usd_per_mtok`` [USD/MTok].
    """
    if (cached_input_cost_factor is None) == (cached_prefill_tokens_per_s is None):
        raise InputError("cached_input_cost_factor",
                         "give exactly one of cached_input_cost_factor and cached_prefill_tokens_per_s")
    args = (gpu_hour_usd, decode_tokens_per_s, prefill_tokens_per_s, utilization,
            cached_input_cost_factor, cached_prefill_tokens_per_s)
    output = np.asarray(cost_per_mtok(gpu_hour_usd, check(decode_tokens_per_s,
                                                          "decode_tokens_per_s", gt=0), utilization))
    uncached = np.asarray(cost_per_mtok(gpu_hour_usd, check(prefill_tokens_per_s,
                                                            "prefill_tokens_per_s", gt=0), utilization))
    if cached_input_cost_factor is not None:
        factor = check(cached_input_cost_factor, "cached_input_cost_factor", ge=0, le=1)
        broadcast(input_cost=uncached, cached_input_cost_factor=factor)
        cached = uncached * factor
    else:
        cached = np.asarray(cost_per_mtok(
            gpu_hour_usd, check(cached_prefill_tokens_per_s, "cached_prefill_tokens_per_s", gt=0),
            utilization))
    shape = broadcast(output=output, input=uncached, cached_input=cached)
    return {
        "input_cost_usd_per_mtok": wrap(np.broadcast_to(uncached, shape), *args),
        "cached_input_cost_usd_per_mtok": wrap(np.broadcast_to(cached, shape), *args),
        "output_cost_usd_per_mtok": wrap(np.broadcast_to(output, shape), *args),
    }


def _blend(input_value, cached_value, output_value, ratio, hit):
    return (ratio * ((1.0 - hit) * input_value + hit * cached_value) + output_value) / (ratio + 1.0)


def blended_price_usd_per_mtok(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                               price_output_usd_per_mtok, input_output_ratio=3.0,
                               cache_hit_share=0.0):
    """Price of one million tokens of traffic (input and output together).

    blended = (r x ((1 - h) x input + h x cached) + output) / (r + 1),
    with r input tokens per output token and h the share of input tokens
    served from cache. With h = 0 and r = 3 this is Artificial Analysis's
    3:1 blended price [2]_.

    Parameters
    ----------
    price_input_usd_per_mtok : float or array-like
        List price of uncached input tokens [USD/MTok]. Must be >= 0.
    price_cached_input_usd_per_mtok : float or array-like
        List price of cached input tokens [USD/MTok]. Must be >= 0.
    price_output_usd_per_mtok : float or array-like
        List price of output tokens [USD/MTok]. Must be >= 0.
    input_output_ratio : float or array-like, default 3
        Input tokens per output token [-]. Must be >= 0.
    cache_hit_share : float or array-like, default 0
        Share of input tokens served from cache [-], in [0, 1].

    Returns
    -------
    float, ndarray or Series
        Blended price [USD per million tokens of traffic].
    """
    pin = check(price_input_usd_per_mtok, "price_input_usd_per_mtok", ge=0)
    pc = check(price_cached_input_usd_per_mtok, "price_cached_input_usd_per_mtok", ge=0)
    pout = check(price_output_usd_per_mtok, "price_output_usd_per_mtok", ge=0)
    r = check(input_output_ratio, "input_output_ratio", ge=0)
    h = check(cache_hit_share, "cache_hit_share", ge=0, le=1)
    broadcast(price_input_usd_per_mtok=pin, price_cached_input_usd_per_mtok=pc,
              price_output_usd_per_mtok=pout, input_output_ratio=r, cache_hit_share=h)
    return wrap(_blend(pin, pc, pout, r, h), price_input_usd_per_mtok,
                price_cached_input_usd_per_mtok, price_output_usd_per_mtok, input_output_ratio,
                cache_hit_share)


def blended_cost_usd_per_mtok(gpu_hour_usd, decode_tokens_per_s, prefill_tokens_per_s,
                              input_output_ratio=3.0, cache_hit_share=0.0,
                              cached_input_cost_factor=None, cached_prefill_tokens_per_s=None,
                              utilization=1.0):
    """Cost of one million tokens of traffic, weighted like :func:`blended_price_usd_per_mtok`.

    The per-kind costs come from :func:`token_costs_usd_per_mtok` and are
    blended with the same r and h, so blended cost and blended price compare
    like for like.

    Parameters
    ----------
    gpu_hour_usd, decode_tokens_per_s, prefill_tokens_per_s, cached_input_cost_factor,
    cached_prefill_tokens_per_s, utilization
        See :func:`token_costs_usd_per_mtok`.
    input_output_ratio : float or array-like, default 3
        Input tokens per output token [-]. Must be >= 0.
    cache_hit_share : float or array-like, default 0
        Share of input tokens served from cache [-], in [0, 1].

    Returns
    -------
    float, ndarray or Series
        Blended cost [USD per million tokens of traffic].
    """
    costs = token_costs_usd_per_mtok(gpu_hour_usd, decode_tokens_per_s, prefill_tokens_per_s,
                                     cached_input_cost_factor, cached_prefill_tokens_per_s,
                                     utilization)
    r = check(input_output_ratio, "input_output_ratio", ge=0)
    h = check(cache_hit_share, "cache_hit_share", ge=0, le=1)
    cin = np.asarray(costs["input_cost_usd_per_mtok"], dtype=float)
    cc = np.asarray(costs["cached_input_cost_usd_per_mtok"], dtype=float)
    cout = np.asarray(costs["output_cost_usd_per_mtok"], dtype=float)
    broadcast(costs=cout, input_output_ratio=r, cache_hit_share=h)
    return wrap(_blend(cin, cc, cout, r, h), gpu_hour_usd, decode_tokens_per_s,
                prefill_tokens_per_s, input_output_ratio, cache_hit_share,
                cached_input_cost_factor, cached_prefill_tokens_per_s, utilization)


def workload_economics(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                       price_output_usd_per_mtok, cost_input_usd_per_mtok,
                       cost_cached_input_usd_per_mtok, cost_output_usd_per_mtok,
                       input_tokens_per_output_token, cache_hit_share):
    """Blended price, blended cost, blended markup and gross margin of a workload.

    A workload sends r input tokens per output token, a share h of them read
    from cache. Price and cost are blended with the same weights
    (:func:`blended_price_usd_per_mtok`), per million tokens of traffic:

        blended = (r x ((1 - h) x input + h x cached) + output) / (r + 1)

        blended markup = blended price / blended cost
        gross margin = (blended price - blended cost) / blended price

    Every argument broadcasts against the others, so one call gives every
    price row x every workload (a column of prices against a row of
    workloads).

    Parameters
    ----------
    price_input_usd_per_mtok : float or array-like
        List price of input tokens not served from cache [USD/MTok]. Must be >= 0.
    price_cached_input_usd_per_mtok : float or array-like
        List price of cached input tokens [USD/MTok]; pass the input price where
        there is no cache discount. Must be >= 0.
    price_output_usd_per_mtok : float or array-like
        List price of output tokens [USD/MTok]. Must be >= 0.
    cost_input_usd_per_mtok : float or array-like
        Cost to serve input tokens not served from cache (prefill) [USD/MTok],
        e.g. from :func:`token_costs_usd_per_mtok`. Must be >= 0.
    cost_cached_input_usd_per_mtok : float or array-like
        Cost to serve cached input tokens [USD/MTok]. Must be >= 0.
    cost_output_usd_per_mtok : float or array-like
        Cost to serve output tokens (decode) [USD/MTok]. Must be > 0.
    input_tokens_per_output_token : float or array-like
        Input tokens per output token, r [-]. Must be >= 0.
    cache_hit_share : float or array-like
        Share of input tokens served from cache, h [-], in [0, 1].

    Returns
    -------
    dict of str to float, ndarray or Series
        ``blended_price_usd_per_mtok`` and ``blended_cost_usd_per_mtok`` [USD per
        million tokens of traffic], ``blended_markup`` [x] and ``gross_margin``
        [share of the blended price; NaN where the blended price is 0].

    References
    ----------
    .. [2] Artificial Analysis, "Benchmarking Methodology": the 3:1 blend (r = 3, h = 0).
    """
    args = (price_input_usd_per_mtok, price_cached_input_usd_per_mtok, price_output_usd_per_mtok,
            cost_input_usd_per_mtok, cost_cached_input_usd_per_mtok, cost_output_usd_per_mtok,
            input_tokens_per_output_token, cache_hit_share)
    pin = check(price_input_usd_per_mtok, "price_input_usd_per_mtok", ge=0)
    pc = check(price_cached_input_usd_per_mtok, "price_cached_input_usd_per_mtok", ge=0)
    pout = check(price_output_usd_per_mtok, "price_output_usd_per_mtok", ge=0)
    cin = check(cost_input_usd_per_mtok, "cost_input_usd_per_mtok", ge=0)
    cc = check(cost_cached_input_usd_per_mtok, "cost_cached_input_usd_per_mtok", ge=0)
    cout = check(cost_output_usd_per_mtok, "cost_output_usd_per_mtok", gt=0)
    r = check(input_tokens_per_output_token, "input_tokens_per_output_token", ge=0)
    h = check(cache_hit_share, "cache_hit_share", ge=0, le=1)
    shape = broadcast(price_input_usd_per_mtok=pin, price_cached_input_usd_per_mtok=pc,
                      price_output_usd_per_mtok=pout, cost_input_usd_per_mtok=cin,
                      cost_cached_input_usd_per_mtok=cc, cost_output_usd_per_mtok=cout,
                      input_tokens_per_output_token=r, cache_hit_share=h)
    price = np.broadcast_to(_blend(pin, pc, pout, r, h), shape)
    cost = np.broadcast_to(_blend(cin, cc, cout, r, h), shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(price > 0, (price - cost) / np.where(price > 0, price, 1.0), np.nan)
    return {
        "blended_price_usd_per_mtok": wrap(price, *args),
        "blended_cost_usd_per_mtok": wrap(cost, *args),
        "blended_markup": wrap(price / cost, *args),
        "gross_margin": wrap(margin, *args),
    }


def _workload_from_gpu(price_input, price_cached_input, price_output, gpu_hour_usd, tokens_per_s,
                       prefill_tokens_per_s, cached_input_cost_factor, input_output_ratio,
                       cache_hit_share, utilization):
    try:
        costs = token_costs_usd_per_mtok(gpu_hour_usd, tokens_per_s, prefill_tokens_per_s,
                                         cached_input_cost_factor=cached_input_cost_factor,
                                         utilization=utilization)
    except InputError as err:
        if err.where != "decode_tokens_per_s":
            raise
        # name the argument as the caller passed it (the Excel functions pin a refusal to
        # the cells of the argument it names)
        raise InputError("tokens_per_s", err.problem.replace("decode_tokens_per_s", "tokens_per_s")) from None
    return workload_economics(price_input, price_cached_input, price_output,
                              costs["input_cost_usd_per_mtok"],
                              costs["cached_input_cost_usd_per_mtok"],
                              costs["output_cost_usd_per_mtok"], input_output_ratio,
                              cache_hit_share)


def workload_cost_usd_per_mtok(gpu_hour_usd, tokens_per_s, prefill_tokens_per_s,
                               cached_input_cost_factor, input_output_ratio=3.0,
                               cache_hit_share=0.0, utilization=1.0):
    """Blended cost of one million tokens of a workload's traffic, from the GPU-hour up.

    The costs of each token type (:func:`token_costs_usd_per_mtok`) blended by
    :func:`workload_economics`: (r x ((1 - h) x input + h x cached) + output) / (r + 1).

    Parameters
    ----------
    gpu_hour_usd : float or array-like
        Cost of one GPU-hour [USD/h]. Must be >= 0.
    tokens_per_s : float or array-like
        Output (decode) tokens per second per GPU [tokens/s]. Must be > 0.
    prefill_tokens_per_s : float or array-like
        Uncached input tokens processed per second per GPU [tokens/s]. Must be > 0.
    cached_input_cost_factor : float or array-like
        Cost of a cached input token as a share of an uncached one [-], in [0, 1].
    input_output_ratio : float or array-like, default 3
        Input tokens per output token, r [-]. Must be >= 0.
    cache_hit_share : float or array-like, default 0
        Share of input tokens served from cache, h [-], in [0, 1].
    utilization : float or array-like, default 1.0
        Busy share of paid hours [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Blended cost [USD per million tokens of traffic].
    """
    return _workload_from_gpu(0.0, 0.0, 0.0, gpu_hour_usd, tokens_per_s, prefill_tokens_per_s,
                              cached_input_cost_factor, input_output_ratio, cache_hit_share,
                              utilization)["blended_cost_usd_per_mtok"]


def workload_markup(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                    price_output_usd_per_mtok, gpu_hour_usd, tokens_per_s, prefill_tokens_per_s,
                    cached_input_cost_factor, input_output_ratio=3.0, cache_hit_share=0.0,
                    utilization=1.0):
    """Blended markup of a workload [x] = blended price / blended cost.

    The ``blended_markup`` of :func:`workload_economics`, with each token type's cost from
    the GPU-hour up (:func:`token_costs_usd_per_mtok`).

    Parameters
    ----------
    price_input_usd_per_mtok, price_cached_input_usd_per_mtok, price_output_usd_per_mtok
        List prices of uncached input, cached input and output tokens [USD/MTok], each >= 0.
    gpu_hour_usd, tokens_per_s, prefill_tokens_per_s, cached_input_cost_factor,
    input_output_ratio, cache_hit_share, utilization
        See :func:`workload_cost_usd_per_mtok`.

    Returns
    -------
    float, ndarray or Series
        Blended markup [x]; 1.0 means the workload is priced at cost.
    """
    return _workload_from_gpu(price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                              price_output_usd_per_mtok, gpu_hour_usd, tokens_per_s,
                              prefill_tokens_per_s, cached_input_cost_factor, input_output_ratio,
                              cache_hit_share, utilization)["blended_markup"]


# --------------------------------------------------------------------------- power

def energy_j_per_token(power_w, pue, tokens_per_s):
    """Facility energy per token while serving [J/token].

    J/token = power_w x pue / tokens_per_s (the seed's H100: 700 W x 1.3 / 400
    tok/s = 2.275 J per output token). PUE scales IT power to facility power [3]_.

    Parameters
    ----------
    power_w : float or array-like
        Electrical draw per GPU [W] (GPU alone, or all-in IT power per GPU). Must be >= 0.
    pue : float or array-like
        Power usage effectiveness [-]. Must be >= 1.
    tokens_per_s : float or array-like
        Tokens per second per GPU while busy [tokens/s]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Energy [J/token].
    """
    watts = check(power_w, "power_w", ge=0)
    p = check(pue, "pue", ge=1)
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    broadcast(power_w=watts, pue=p, tokens_per_s=tps)
    return wrap(watts * p / tps, power_w, pue, tokens_per_s)


def tokens_per_s_per_mw(power_w, pue, tokens_per_s, utilization=1.0):
    """Tokens per second one megawatt of facility power delivers.

    tokens/s per MW = 1e6 / (power_w x pue) x tokens_per_s x utilization
    (the seed's dense 70B on H100: 1e6 / 910 x 400 = 439,560 tok/s per MW).
    Facility power is provisioned for peak, so utilization scales the
    average delivered rate, not the GPU count.

    Parameters
    ----------
    power_w : float or array-like
        Electrical draw per GPU [W]. Must be > 0.
    pue : float or array-like
        Power usage effectiveness [-]. Must be >= 1.
    tokens_per_s : float or array-like
        Tokens per second per GPU while busy [tokens/s]. Must be > 0.
    utilization : float or array-like, default 1.0
        Busy share of hours [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Throughput [tokens/s per MW of facility power].
    """
    watts = check(power_w, "power_w", gt=0)
    p = check(pue, "pue", ge=1)
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    util = check(utilization, "utilization", gt=0, le=1)
    broadcast(power_w=watts, pue=p, tokens_per_s=tps, utilization=util)
    return wrap(W_PER_MW / (watts * p) * tps * util, power_w, pue, tokens_per_s, utilization)


def fleet_from_power_budget(facility_mw, power_w, pue, tokens_per_s, gpu_hour_usd,
                            price_usd_per_mtok, utilization=1.0, hours_per_day=HOURS_PER_DAY):
    """Size a fleet from a facility power budget: what does *N* MW earn?

    gpus = floor(facility_mw x 1e6 / (power_w x pue));
    fleet tokens/s = gpus x tokens_per_s x utilization;
    cost/day = gpus x gpu_hour_usd x hours_per_day (owned GPUs cost every hour);
    revenue/day = fleet tokens/s x 3600 x hours_per_day / 1e6 x price.

    Parameters
    ----------
    facility_mw : float or array-like
        Facility power budget [MW]. Must be >= 0.
    power_w : float or array-like
        Electrical draw per GPU [W]; use all-in IT power per GPU (GPU, host,
        network) for a realistic count. Must be > 0.
    pue : float or array-like
        Power usage effectiveness [-]. Must be >= 1.
    tokens_per_s : float or array-like
        Tokens per second per GPU while busy [tokens/s]. Must be > 0.
    gpu_hour_usd : float or array-like
        Cost of one GPU-hour [USD/h]. Must be >= 0.
    price_usd_per_mtok : float or array-like
        Price the tokens sell at [USD/MTok]. Must be >= 0.
    utilization : float or array-like, default 1.0
        Busy share of hours [-], in (0, 1].
    hours_per_day : float or array-like, default 24
        Hours in the day counted [h]. Must be > 0.

    Returns
    -------
    dict of str to float, ndarray or Series
        ``gpus`` [GPUs, whole], ``it_power_mw`` and ``facility_power_mw`` used [MW],
        ``fleet_tokens_per_s`` [tokens/s], ``mtok_per_day`` [MTok/day],
        ``cost_usd_per_day``, ``revenue_usd_per_day``, ``profit_usd_per_day`` [USD/day],
        ``cost_usd_per_mtok`` [USD/MTok].
    """
    mw = check(facility_mw, "facility_mw", ge=0)
    watts = check(power_w, "power_w", gt=0)
    p = check(pue, "pue", ge=1)
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    hour = check(gpu_hour_usd, "gpu_hour_usd", ge=0)
    price = check(price_usd_per_mtok, "price_usd_per_mtok", ge=0)
    util = check(utilization, "utilization", gt=0, le=1)
    hours = check(hours_per_day, "hours_per_day", gt=0)
    shape = broadcast(facility_mw=mw, power_w=watts, pue=p, tokens_per_s=tps, gpu_hour_usd=hour,
                      price_usd_per_mtok=price, utilization=util, hours_per_day=hours)
    # a tiny tolerance so that 100 MW / 910 W exactly-divisible budgets are not floored down
    gpus = np.floor(mw * W_PER_MW / (watts * p) * (1 + 1e-12))
    fleet_tps = gpus * tps * util
    mtok_day = fleet_tps * SECONDS_PER_HOUR * hours / TOKENS_PER_MTOK
    cost_day = gpus * hour * hours
    revenue_day = mtok_day * price
    with np.errstate(divide="ignore", invalid="ignore"):
        cost_mtok = np.where(mtok_day > 0, cost_day / np.where(mtok_day > 0, mtok_day, 1), np.nan)
    args = (facility_mw, power_w, pue, tokens_per_s, gpu_hour_usd, price_usd_per_mtok,
            utilization, hours_per_day)

    def out(x):
        return wrap(np.broadcast_to(x, shape), *args)

    return {
        "gpus": out(gpus),
        "it_power_mw": out(gpus * watts / W_PER_MW),
        "facility_power_mw": out(gpus * watts * p / W_PER_MW),
        "fleet_tokens_per_s": out(fleet_tps),
        "mtok_per_day": out(mtok_day),
        "cost_usd_per_day": out(cost_day),
        "revenue_usd_per_day": out(revenue_day),
        "profit_usd_per_day": out(revenue_day - cost_day),
        "cost_usd_per_mtok": out(cost_mtok),
    }


# --------------------------------------------------------------------------- fleet P&L

def fleet_pnl(nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens, cached_input_tokens,
              output_tokens, price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
              price_output_usd_per_mtok):
    """Profit and loss of a fleet serving given token volumes at given prices.

    gpu_hours = nodes x gpus_per_node x hours; cost = gpu_hours x gpu_hour_usd;
    revenue = (input - cached)/1e6 x price_input + cached/1e6 x price_cached
    + output/1e6 x price_output; gross_profit = revenue - cost;
    gross_margin = gross_profit / revenue; cost_profit_margin = gross_profit / cost.

    Parameters
    ----------
    nodes : float or array-like
        Servers in the fleet [nodes]. Must be >= 0.
    gpus_per_node : float or array-like
        GPUs per server [GPUs/node]. Must be >= 0.
    gpu_hour_usd : float or array-like
        Cost per GPU-hour, rental price or TCO basis [USD/h]. Must be >= 0.
    hours : float or array-like
        Period the fleet is paid for [h]. Must be >= 0.
    input_tokens : float or array-like
        All input tokens served in the period, cached ones included [tokens]. Must be >= 0.
    cached_input_tokens : float or array-like
        The part of ``input_tokens`` served from cache [tokens]. Must be >= 0 and
        <= input_tokens.
    output_tokens : float or array-like
        Output tokens served in the period [tokens]. Must be >= 0.
    price_input_usd_per_mtok, price_cached_input_usd_per_mtok, price_output_usd_per_mtok
        List prices of uncached input, cached input and output tokens [USD/MTok]. Must be >= 0.

    Returns
    -------
    dict of str to float, ndarray or Series
        ``gpu_hours`` [GPU-h]; ``cost_usd``, ``revenue_input_usd``,
        ``revenue_cached_input_usd``, ``revenue_output_usd``, ``revenue_usd``,
        ``gross_profit_usd`` [USD]; ``gross_margin`` and ``cost_profit_margin``
        [-] (NaN where revenue, respectively cost, is 0).
    """
    n = check(nodes, "nodes", ge=0)
    g = check(gpus_per_node, "gpus_per_node", ge=0)
    hour = check(gpu_hour_usd, "gpu_hour_usd", ge=0)
    h = check(hours, "hours", ge=0)
    tin = check(input_tokens, "input_tokens", ge=0)
    tc = check(cached_input_tokens, "cached_input_tokens", ge=0)
    tout = check(output_tokens, "output_tokens", ge=0)
    pin = check(price_input_usd_per_mtok, "price_input_usd_per_mtok", ge=0)
    pc = check(price_cached_input_usd_per_mtok, "price_cached_input_usd_per_mtok", ge=0)
    pout = check(price_output_usd_per_mtok, "price_output_usd_per_mtok", ge=0)
    shape = broadcast(nodes=n, gpus_per_node=g, gpu_hour_usd=hour, hours=h, input_tokens=tin,
                      cached_input_tokens=tc, output_tokens=tout, price_input_usd_per_mtok=pin,
                      price_cached_input_usd_per_mtok=pc, price_output_usd_per_mtok=pout)
    over = np.broadcast_to(tc > tin, shape)
    if over.any():
        i = np.flatnonzero(over)[0]
        cached = float(np.broadcast_to(tc, shape).ravel()[i])
        total = float(np.broadcast_to(tin, shape).ravel()[i])
        raise InputError("cached_input_tokens",
                         f"cached_input_tokens must be <= input_tokens, got {cached:g} > {total:g}")
    gpu_hours = n * g * h
    cost = gpu_hours * hour
    rev_in = (tin - tc) / TOKENS_PER_MTOK * pin
    rev_c = tc / TOKENS_PER_MTOK * pc
    rev_out = tout / TOKENS_PER_MTOK * pout
    revenue = rev_in + rev_c + rev_out
    profit = revenue - cost
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        margin = np.where(revenue > 0, profit / np.where(revenue > 0, revenue, 1), np.nan)
        cost_margin = np.where(cost > 0, profit / np.where(cost > 0, cost, 1), np.nan)
    args = (nodes, gpus_per_node, gpu_hour_usd, hours, input_tokens, cached_input_tokens,
            output_tokens, price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
            price_output_usd_per_mtok)

    def out(x):
        return wrap(np.broadcast_to(x, shape), *args)

    return {
        "gpu_hours": out(gpu_hours), "cost_usd": out(cost),
        "revenue_input_usd": out(rev_in), "revenue_cached_input_usd": out(rev_c),
        "revenue_output_usd": out(rev_out), "revenue_usd": out(revenue),
        "gross_profit_usd": out(profit), "gross_margin": out(margin),
        "cost_profit_margin": out(cost_margin),
    }


def fleet_implied_utilization(output_tokens, tokens_per_s, gpu_hours):
    """Busy share a fleet needs to produce a given output volume [-].

    utilization = output_tokens / (tokens_per_s x 3600 x gpu_hours). Above 1
    the fleet cannot produce that volume at that decode throughput.

    Parameters
    ----------
    output_tokens : float or array-like
        Output tokens served [tokens]. Must be >= 0.
    tokens_per_s : float or array-like
        Output tokens per second per GPU while busy [tokens/s]. Must be > 0.
    gpu_hours : float or array-like
        GPU-hours paid [GPU-h]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Implied utilization [-].
    """
    tout = check(output_tokens, "output_tokens", ge=0)
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    gh = check(gpu_hours, "gpu_hours", gt=0)
    broadcast(output_tokens=tout, tokens_per_s=tps, gpu_hours=gh)
    return wrap(tout / (tps * SECONDS_PER_HOUR * gh), output_tokens, tokens_per_s, gpu_hours)
