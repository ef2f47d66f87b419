"""A flat-rate subscription recalculated at hardware cost.

The seed's "Wierda subsidy, recalculated": a $180/month subscriber whose usage
would cost $450 at API list prices ($25/MTok) uses 18 MTok; at a hardware cost
of $1.33/MTok that is ~$24 to serve, a $156 profit; with an R&D add-on of
$2/MTok the cost to serve is ~$60 [1]_.

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
