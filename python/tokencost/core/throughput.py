"""From GPU-hour cost and throughput to cost per million tokens.

The seed: "At $1.92/hour, one H100 serving 400 tok/s of dense model output
produces 1.44M tokens per hour. That works out to $1.33 per million tokens" [1]_.

References
----------
.. [1] "The Real Cost of an AI Token" (the seed document), section "What one GPU can do".
"""
from __future__ import annotations

from ._arrays import broadcast, check, wrap

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MTOK = 1e6


def tokens_per_hour(tokens_per_s, utilization=1.0):
    """Tokens one GPU produces in an hour.

    tokens_per_hour = tokens_per_s x 3600 x utilization (the seed: 400 x 3600 = 1.44M).

    Parameters
    ----------
    tokens_per_s : float or array-like
        Output tokens per second per GPU while busy [tokens/s]. Must be > 0.
    utilization : float or array-like, default 1.0
        Share of paid hours the GPU is serving at that rate [-], in (0, 1].
        The seed assumes 1.0.

    Returns
    -------
    float, ndarray or Series
        Tokens per hour [tokens/h].
    """
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    util = check(utilization, "utilization", gt=0, le=1)
    broadcast(tokens_per_s=tps, utilization=util)
    return wrap(tps * SECONDS_PER_HOUR * util, tokens_per_s, utilization)


def cost_per_mtok(gpu_hour_usd, tokens_per_s, utilization=1.0):
    """Cost of one million tokens [USD/MTok].

    usd_per_mtok = gpu_hour_usd / (tokens_per_hour / 1e6)
    (the seed: $1.9175 / 1.44 = $1.3316 dense 70B; $1.9175 / 9 = $0.2131 MoE).

    Parameters
    ----------
    gpu_hour_usd : float or array-like
        Fully-loaded (or rental) cost of one GPU-hour [USD/h]. Must be >= 0.
    tokens_per_s : float or array-like
        Output tokens per second per GPU [tokens/s]. Must be > 0.
    utilization : float or array-like, default 1.0
        Busy share of paid hours [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Cost [USD per million tokens].
    """
    hour = check(gpu_hour_usd, "gpu_hour_usd", ge=0)
    tps = check(tokens_per_s, "tokens_per_s", gt=0)
    util = check(utilization, "utilization", gt=0, le=1)
    broadcast(gpu_hour_usd=hour, tokens_per_s=tps, utilization=util)
    mtok_per_hour = tps * SECONDS_PER_HOUR * util / TOKENS_PER_MTOK
    return wrap(hour / mtok_per_hour, gpu_hour_usd, tokens_per_s, utilization)


def implied_tokens_per_s(cost_usd_per_mtok, gpu_hour_usd, utilization=1.0):
    """Throughput needed to reach a given cost per MTok at a given GPU-hour cost.

    The inverse of :func:`cost_per_mtok`:
    tokens_per_s = gpu_hour_usd / cost_usd_per_mtok x 1e6 / 3600 / utilization
    (the seed's "~$0.50" for DeepSeek V4 Pro at $1.9175/h implies ~1,065 tok/s).

    Parameters
    ----------
    cost_usd_per_mtok : float or array-like
        Target cost [USD/MTok]. Must be > 0.
    gpu_hour_usd : float or array-like
        Cost of one GPU-hour [USD/h]. Must be >= 0.
    utilization : float or array-like, default 1.0
        Busy share of paid hours [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Implied throughput [tokens/s per GPU].
    """
    cost = check(cost_usd_per_mtok, "cost_usd_per_mtok", gt=0)
    hour = check(gpu_hour_usd, "gpu_hour_usd", ge=0)
    util = check(utilization, "utilization", gt=0, le=1)
    broadcast(cost_usd_per_mtok=cost, gpu_hour_usd=hour, utilization=util)
    return wrap(hour / cost * TOKENS_PER_MTOK / SECONDS_PER_HOUR / util,
                cost_usd_per_mtok, gpu_hour_usd, utilization)
