"""List price against cost: markup, margin, break-even price.

The seed's table "What they charge vs. what it costs" divides each list price
by the estimated hardware cost per MTok (DeepSeek V4 Flash $0.28 / $0.21 =
1.3x ... GPT-5.5 $30 / $1.33 = 22.6x) [1]_.

References
----------
.. [1] "The Real Cost of an AI Token" (the seed document), section "What they
   charge vs. what it costs".
"""
from __future__ import annotations

from ._arrays import broadcast, check, wrap


def markup(price_usd_per_mtok, cost_usd_per_mtok):
    """Price as a multiple of cost [-]: markup = price / cost.

    Parameters
    ----------
    price_usd_per_mtok : float or array-like
        List price [USD/MTok]. Must be >= 0.
    cost_usd_per_mtok : float or array-like
        Cost to serve [USD/MTok]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Markup [x]; 1.0 means priced at cost.

    Notes
    -----
    The seed prints 22.6x for GPT-5.5: it divides $30 by the *rounded* cost
    $1.33. The unrounded cost $1.3316 gives 22.5x.
    """
    price = check(price_usd_per_mtok, "price_usd_per_mtok", ge=0)
    cost = check(cost_usd_per_mtok, "cost_usd_per_mtok", gt=0)
    broadcast(price_usd_per_mtok=price, cost_usd_per_mtok=cost)
    return wrap(price / cost, price_usd_per_mtok, cost_usd_per_mtok)


def gross_margin(price_usd_per_mtok, cost_usd_per_mtok):
    """Gross margin as a share of price [-]: (price - cost) / price.

    Parameters
    ----------
    price_usd_per_mtok : float or array-like
        List price [USD/MTok]. Must be > 0.
    cost_usd_per_mtok : float or array-like
        Cost to serve [USD/MTok]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        Gross margin [-]; negative when priced below cost.
    """
    price = check(price_usd_per_mtok, "price_usd_per_mtok", gt=0)
    cost = check(cost_usd_per_mtok, "cost_usd_per_mtok", ge=0)
    broadcast(price_usd_per_mtok=price, cost_usd_per_mtok=cost)
    return wrap((price - cost) / price, price_usd_per_mtok, cost_usd_per_mtok)


def breakeven_price(cost_usd_per_mtok, target_margin=0.0):
    """Price that earns a target gross margin [USD/MTok]: cost / (1 - target_margin).

    Parameters
    ----------
    cost_usd_per_mtok : float or array-like
        Cost to serve [USD/MTok]. Must be >= 0.
    target_margin : float or array-like, default 0
        Gross margin wanted, as a share of price [-], in [0, 1).

    Returns
    -------
    float, ndarray or Series
        Price [USD/MTok]; equal to cost at a 0 margin.
    """
    cost = check(cost_usd_per_mtok, "cost_usd_per_mtok", ge=0)
    margin = check(target_margin, "target_margin", ge=0, lt=1)
    broadcast(cost_usd_per_mtok=cost, target_margin=margin)
    return wrap(cost / (1.0 - margin), cost_usd_per_mtok, target_margin)
