"""A flat-rate subscription recalculated at hardware cost.

The seed's "Wierda subsidy, recalculated": a $180/month subscriber whose usage
would cost $450 at API list prices ($25/MTok) uses 18 MTok; at a hardware cost
of $1.33/MTok that is ~$24 to serve, a $156 profit; with an R&D add-on of
$2/MTok the cost to serve is ~$60 [1]_. That reading counts every dollar of the
bill as output tokens (:func:`subscription_economics`);
:func:`subscription_by_workload` splits the same bill into input, cached input
and output tokens by a workload's mix and costs each type at its own cost.

References
----------
.. [1] "The Real Cost of an AI Token" (the seed document), section "The Wierda
   subsidy, recalculated".
"""
from __future__ import annotations

import numpy as np

from ._arrays import broadcast, check, wrap


def subscription_tokens_mtok(api_equivalent_usd_per_month, list_price_usd_per_mtok):
    """Tokens a subscriber uses a month [MTok/month] = API-equivalent bill / list price.

    Parameters
    ----------
    api_equivalent_usd_per_month : float or array-like
        What the subscriber's usage would cost at API list prices [USD/month]. Must be >= 0.
    list_price_usd_per_mtok : float or array-like
        The API list price used for that bill [USD/MTok]. Must be > 0.
    """
    bill = check(api_equivalent_usd_per_month, "api_equivalent_usd_per_month", ge=0)
    price = check(list_price_usd_per_mtok, "list_price_usd_per_mtok", gt=0)
    broadcast(api_equivalent_usd_per_month=bill, list_price_usd_per_mtok=price)
    return wrap(bill / price, api_equivalent_usd_per_month, list_price_usd_per_mtok)


def subscription_economics(subscription_usd_per_month, api_equivalent_usd_per_month,
                           list_price_usd_per_mtok, cost_usd_per_mtok, rd_usd_per_mtok=0.0):
    """Cost to serve a subscriber and the provider's profit, with and without R&D.

    Parameters
    ----------
    subscription_usd_per_month : float or array-like
        What the subscriber pays [USD/month]. Must be >= 0.
    api_equivalent_usd_per_month : float or array-like
        The same usage at API list prices [USD/month]. Must be >= 0.
    list_price_usd_per_mtok : float or array-like
        List price behind that bill [USD/MTok]. Must be > 0.
    cost_usd_per_mtok : float or array-like
        Hardware cost to serve [USD/MTok]. Must be >= 0.
    rd_usd_per_mtok : float or array-like, default 0
        R&D amortization added per MTok [USD/MTok]. Must be >= 0.

    Returns
    -------
    dict of str to float, ndarray or Series
        ``tokens_mtok_per_month`` [MTok/month], ``hardware_cost_usd_per_month``,
        ``profit_usd_per_month`` (subscription - hardware cost),
        ``api_loss_usd_per_month`` (subscription - API bill, the naive view),
        ``cost_with_rd_usd_per_month``, ``profit_with_rd_usd_per_month`` [USD/month].
    """
    sub = check(subscription_usd_per_month, "subscription_usd_per_month", ge=0)
    bill = check(api_equivalent_usd_per_month, "api_equivalent_usd_per_month", ge=0)
    price = check(list_price_usd_per_mtok, "list_price_usd_per_mtok", gt=0)
    cost = check(cost_usd_per_mtok, "cost_usd_per_mtok", ge=0)
    rd = check(rd_usd_per_mtok, "rd_usd_per_mtok", ge=0)
    shape = broadcast(subscription_usd_per_month=sub, api_equivalent_usd_per_month=bill,
              list_price_usd_per_mtok=price, cost_usd_per_mtok=cost, rd_usd_per_mtok=rd)
    args = (subscription_usd_per_month, api_equivalent_usd_per_month, list_price_usd_per_mtok,
            cost_usd_per_mtok, rd_usd_per_mtok)
    tokens = bill / price
    hardware = tokens * cost
    with_rd = tokens * (cost + rd)
    terms = {
        "tokens_mtok_per_month": tokens,
        "hardware_cost_usd_per_month": hardware,
        "profit_usd_per_month": sub - hardware,
        "api_loss_usd_per_month": sub - bill,
        "cost_with_rd_usd_per_month": with_rd,
        "profit_with_rd_usd_per_month": sub - with_rd,
    }
    return {key: wrap(np.broadcast_to(value, shape), *args) for key, value in terms.items()}


def subscription_by_workload(subscription_usd_per_month, api_equivalent_usd_per_month,
                             price_input_usd_per_mtok, price_cached_input_usd_per_mtok,
                             price_output_usd_per_mtok, input_tokens_per_output_token,
                             cache_hit_share, cost_input_usd_per_mtok,
                             cost_cached_input_usd_per_mtok, cost_output_usd_per_mtok,
                             rd_usd_per_mtok=0.0):
    """A subscriber's API-equivalent bill split by token type and costed by type.

    The seed reads the $450 bill as output tokens only (18 MTok at $25/MTok) [1]_.
    A real bill is a mix: a workload sends r input tokens per output token, a
    share h of them read from cache. One MTok of output then bills, with its
    input,

        price per output MTok = r x ((1 - h) x input price + h x cached price) + output price

    so the bill buys

        output MTok = bill / price per output MTok
        input MTok  = r x output MTok          (cache hits included)
        cached MTok = h x input MTok

    and costs, per type at its own cost per MTok,

        output cost = output MTok x output cost
        input cost  = (input MTok - cached MTok) x input cost   (cache misses)
        cached cost = cached MTok x cached input cost
        hardware cost = the sum of the three.

    The R&D add-on is charged on **output MTok only**: the seed's "say another
    $2/MTok" is a per-MTok figure of its output-only reading, and charging it on
    every input token too would make R&D scale with re-sent context (a coding
    agent's 20 input tokens per output token) rather than with the model's
    work. With r = 0 and the output price equal to the seed's list price this
    is exactly :func:`subscription_economics` ($23.97 cost, $156.03 profit,
    $59.97 with R&D for the seed's plan).

    Every argument broadcasts against the others (a column of plans against a
    row of workloads gives every plan x workload in one call).

    Parameters
    ----------
    subscription_usd_per_month : float or array-like
        What the subscriber pays [USD/month]. Must be >= 0.
    api_equivalent_usd_per_month : float or array-like
        The same usage at API list prices [USD/month]. Must be >= 0.
    price_input_usd_per_mtok : float or array-like
        The plan's API price of input tokens not served from cache [USD/MTok]. Must be >= 0.
    price_cached_input_usd_per_mtok : float or array-like
        API price of cached input tokens [USD/MTok]; the input price where there is
        no cache discount. Must be >= 0.
    price_output_usd_per_mtok : float or array-like
        API price of output tokens [USD/MTok]. Must be > 0 (the bill is counted
        in output tokens: a free output price would make it buy unboundedly many).
    input_tokens_per_output_token : float or array-like
        The workload's input tokens per output token, r [-]. Must be >= 0.
    cache_hit_share : float or array-like
        Share of input tokens served from cache, h [-], in [0, 1].
    cost_input_usd_per_mtok : float or array-like
        Cost to serve uncached input tokens (prefill) [USD/MTok]. Must be >= 0.
    cost_cached_input_usd_per_mtok : float or array-like
        Cost to serve cached input tokens [USD/MTok]. Must be >= 0.
    cost_output_usd_per_mtok : float or array-like
        Cost to serve output tokens (decode; the seed's cost per MTok) [USD/MTok].
        Must be >= 0.
    rd_usd_per_mtok : float or array-like, default 0
        R&D amortization per MTok of **output** [USD/MTok]. Must be >= 0.

    Returns
    -------
    dict of str to float, ndarray or Series
        ``price_usd_per_output_mtok`` [USD per MTok of output, its input included];
        ``output_mtok_per_month``, ``input_mtok_per_month`` (cache hits included),
        ``cached_input_mtok_per_month`` [MTok/month]; ``cost_output_usd_per_month``,
        ``cost_input_usd_per_month`` (cache misses), ``cost_cached_input_usd_per_month``,
        ``hardware_cost_usd_per_month`` (their sum), ``profit_usd_per_month``
        (subscription - hardware cost), ``cost_with_rd_usd_per_month`` (hardware
        cost + output MTok x R&D), ``profit_with_rd_usd_per_month`` [USD/month].

    References
    ----------
    .. [1] "The Real Cost of an AI Token" (the seed document), section "The Wierda
       subsidy, recalculated": $450 at $25/MTok = 18 MTok, $1.33/MTok, $2/MTok R&D.
    """
    args = (subscription_usd_per_month, api_equivalent_usd_per_month, price_input_usd_per_mtok,
            price_cached_input_usd_per_mtok, price_output_usd_per_mtok,
            input_tokens_per_output_token, cache_hit_share, cost_input_usd_per_mtok,
            cost_cached_input_usd_per_mtok, cost_output_usd_per_mtok, rd_usd_per_mtok)
    sub = check(subscription_usd_per_month, "subscription_usd_per_month", ge=0)
    bill = check(api_equivalent_usd_per_month, "api_equivalent_usd_per_month", ge=0)
    pin = check(price_input_usd_per_mtok, "price_input_usd_per_mtok", ge=0)
    pc = check(price_cached_input_usd_per_mtok, "price_cached_input_usd_per_mtok", ge=0)
    pout = check(price_output_usd_per_mtok, "price_output_usd_per_mtok", gt=0)
    r = check(input_tokens_per_output_token, "input_tokens_per_output_token", ge=0)
    h = check(cache_hit_share, "cache_hit_share", ge=0, le=1)
    cin = check(cost_input_usd_per_mtok, "cost_input_usd_per_mtok", ge=0)
    cc = check(cost_cached_input_usd_per_mtok, "cost_cached_input_usd_per_mtok", ge=0)
    cout = check(cost_output_usd_per_mtok, "cost_output_usd_per_mtok", ge=0)
    rd = check(rd_usd_per_mtok, "rd_usd_per_mtok", ge=0)
    shape = broadcast(subscription_usd_per_month=sub, api_equivalent_usd_per_month=bill,
                      price_input_usd_per_mtok=pin, price_cached_input_usd_per_mtok=pc,
                      price_output_usd_per_mtok=pout, input_tokens_per_output_token=r,
                      cache_hit_share=h, cost_input_usd_per_mtok=cin,
                      cost_cached_input_usd_per_mtok=cc, cost_output_usd_per_mtok=cout,
                      rd_usd_per_mtok=rd)
    per_output = r * ((1.0 - h) * pin + h * pc) + pout
    output = bill / per_output
    inputs = r * output
    cached = h * inputs
    cost_output = output * cout
    cost_input = (inputs - cached) * cin
    cost_cached = cached * cc
    hardware = cost_output + cost_input + cost_cached
    with_rd = hardware + output * rd
    terms = {
        "price_usd_per_output_mtok": per_output,
        "output_mtok_per_month": output,
        "input_mtok_per_month": inputs,
        "cached_input_mtok_per_month": cached,
        "cost_output_usd_per_month": cost_output,
        "cost_input_usd_per_month": cost_input,
        "cost_cached_input_usd_per_month": cost_cached,
        "hardware_cost_usd_per_month": hardware,
        "profit_usd_per_month": sub - hardware,
        "cost_with_rd_usd_per_month": with_rd,
        "profit_with_rd_usd_per_month": sub - with_rd,
    }
    return {key: wrap(np.broadcast_to(value, shape), *args) for key, value in terms.items()}
