"""Sensitivity of cost per MTok: tornado, 2-D grid and Monte Carlo.

Orchestration over the whole cost model of one model profile (GPU monthly
build-up -> $/GPU-hour -> $/MTok, :func:`tokencost.analysis.deployment.cost_usd_per_mtok_of`).
Every analysis evaluates all its points as arrays in one call of the core:
the tornado's 2k points, the grid's rows x columns, and the Monte Carlo's
draws (in a few large chunks, so a progress bar can advance), never one point
at a time in Python.

The operating point comes from :class:`~tokencost.inputs.validate.Inputs` (the
shipped CSV data today; a workbook reader will hand in its own Inputs). The
ranges and distributions are tables (``sensitivity_ranges.csv``,
``distributions.csv``), read by :mod:`tokencost.inputs.reference_tables`.

References
----------
.. [1] A. Saltelli et al., *Global Sensitivity Analysis: The Primer*, Wiley
   (2008), ch. 1: one-at-a-time (tornado) screening and Monte Carlo
   propagation of input uncertainty.
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .deployment import PROFILE_INPUTS, cost_usd_per_mtok_of, profile_point
from ..errors import InputError
from ..inputs.validate import Inputs
from ..inputs.schema import overridable_inputs

#: inputs a tornado moves by default (hours_per_month is a calendar fact, not a driver)
TORNADO_INPUTS = tuple(n for n in PROFILE_INPUTS if n != "hours_per_month")
#: draws evaluated per call of the core in the Monte Carlo (progress granularity)
CHUNK_DRAWS = 250_000

Progress = Callable[[int, int], None]


def _bounds(name: str):
    """Schema bounds of an input: (gt, ge, le, lt)."""
    col = overridable_inputs()[name].column(name)
    return col.gt, col.ge, col.le, col.lt


def _check_name(name: str, where: str) -> None:
    if name not in PROFILE_INPUTS:
        raise InputError(where, f"unknown input {name!r}; known: {', '.join(PROFILE_INPUTS)}")


def _within(name: str, low: float, high: float, where: str, clip: bool) -> tuple[float, float, str]:
    """Clip a low/high pair into the input's valid range (or refuse), with a note."""
    gt, ge, le, lt = _bounds(name)
    note = []
    if le is not None and high > le:
        if not clip:
            raise InputError(where, f"{name} high {high:g} is above its bound <= {le:g}")
        high, low = min(high, le), min(low, le)
        note.append(f"high clipped to {le:g}")
    if ge is not None and low < ge:
        if not clip:
            raise InputError(where, f"{name} low {low:g} is below its bound >= {ge:g}")
        low, high = max(low, ge), max(high, ge)
        note.append(f"low clipped to {ge:g}")
    if gt is not None and low <= gt:
        raise InputError(where, f"{name} low {low:g} must be > {gt:g}")
    if lt is not None and high >= lt:
        raise InputError(where, f"{name} high {high:g} must be < {lt:g}")
    return low, high, "; ".join(note)


# --------------------------------------------------------------------------- ranges / tornado

def input_ranges(point: Mapping[str, float], ranges: Optional[pd.DataFrame] = None,
                 delta: float = 0.2, names: Sequence[str] = TORNADO_INPUTS) -> pd.DataFrame:
    """Low and high value of each input: its row in *ranges* (absolute values,
    or multipliers of the base when ``basis`` is relative), else base x (1 -/+ delta).
    Values are clipped into each input's valid range (utilization <= 1, PUE >= 1),
    and the ``note`` column says so."""
    if not 0 < delta < 1:
        raise InputError("--delta", f"--delta must be in (0, 1), got {delta:g}")
    given = {}
    label = (ranges.attrs.get("file", "sensitivity_ranges.csv") if ranges is not None else "")
    if ranges is not None:
        lines = ranges.attrs.get("lines") or [i + 2 for i in range(len(ranges))]
        for i, r in enumerate(ranges.itertuples(index=False)):
            where = f"{label} line {lines[i]}"
            _check_name(r.input, f"{where}, column input")
            if r.input in given:
                raise InputError(f"{where}, column input", f"duplicate input {r.input!r}")
            given[r.input] = (r, where)
    rows = []
    for name in names:
        _check_name(name, "--input")
        base = float(point[name])
        if name in given:
            r, where = given[name]
            scale = base if r.basis == "relative" else 1.0
            low, high, source = float(r.low) * scale, float(r.high) * scale, r.source
            if low > high:
                raise InputError(f"{where}, column low", f"low {low:g} is above high {high:g}")
        else:
            where = "--delta"
            low, high, source = base * (1 - delta), base * (1 + delta), f"base -/+ {delta:.0%}"
        low, high, note = _within(name, low, high, where, clip=True)
        rows.append({"input": name, "base": base, "low": low, "high": high, "source": source,
                     "note": note})
    return pd.DataFrame(rows, columns=["input", "base", "low", "high", "source", "note"])


def tornado(point: Mapping[str, float], ranges: pd.DataFrame) -> pd.DataFrame:
    """Cost per MTok with each input at its low and its high value, the others at
    base; sorted by swing, largest first. All 2k points in one evaluation."""
    k = len(ranges)
    params = {n: np.full(2 * k, float(point[n])) for n in PROFILE_INPUTS}
    for i, r in enumerate(ranges.itertuples(index=False)):
        params[r.input][i] = r.low
        params[r.input][k + i] = r.high
    cost = np.asarray(cost_usd_per_mtok_of(params), dtype=float)
    base = float(cost_usd_per_mtok_of({n: point[n] for n in PROFILE_INPUTS}))
    out = pd.DataFrame({
        "input": ranges["input"].to_numpy(), "base_value": ranges["base"].to_numpy(),
        "low_value": ranges["low"].to_numpy(), "high_value": ranges["high"].to_numpy(),
        "cost_at_low_usd_per_mtok": cost[:k], "cost_at_high_usd_per_mtok": cost[k:],
    })
    out["swing_usd_per_mtok"] = np.abs(out["cost_at_high_usd_per_mtok"] - out["cost_at_low_usd_per_mtok"])
    out["base_cost_usd_per_mtok"] = base
    out["note"] = ranges["note"].to_numpy()
    order = np.argsort(-out["swing_usd_per_mtok"].to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


# --------------------------------------------------------------------------- grid

def grid(point: Mapping[str, float], x: str, y: str, ranges: pd.DataFrame, steps: int = 5) -> dict:
    """Cost per MTok over two inputs, each from its low to its high in *steps*
    values; the others at base. One evaluation of steps x steps points.

    Returns ``{"x", "y", "x_values", "y_values", "cost_usd_per_mtok"}`` with
    ``cost_usd_per_mtok[i][j]`` at ``x_values[i]``, ``y_values[j]``.
    """
    _check_name(x, "--grid")
    _check_name(y, "--grid")
    if x == y:
        raise InputError("--grid", f"--grid needs two different inputs, got {x} twice")
    if not 2 <= int(steps) <= 1001:
        raise InputError("--steps", f"--steps must be between 2 and 1001, got {steps}")
    lookup = {r.input: r for r in ranges.itertuples(index=False)}
    missing = [n for n in (x, y) if n not in lookup]
    if missing:
        raise InputError("--grid", f"no range for {', '.join(missing)}")
    xs = np.linspace(lookup[x].low, lookup[x].high, int(steps))
    ys = np.linspace(lookup[y].low, lookup[y].high, int(steps))
    params = {n: float(point[n]) for n in PROFILE_INPUTS}
    params[x] = xs[:, None]
    params[y] = ys[None, :]
    cost = np.broadcast_to(np.asarray(cost_usd_per_mtok_of(params), dtype=float), (xs.size, ys.size))
    return {"x": x, "y": y, "x_values": xs, "y_values": ys, "cost_usd_per_mtok": np.array(cost)}


def grid_frame(result: Mapping) -> pd.DataFrame:
    """The grid as a table: one row per x value, one column per y value."""
    frame = pd.DataFrame(result["cost_usd_per_mtok"],
                         columns=[f"{result['y']}={v:.4g}" for v in result["y_values"]])
    frame.insert(0, result["x"], result["x_values"])
    return frame


# --------------------------------------------------------------------------- Monte Carlo

def check_distributions(point: Mapping[str, float], distributions: pd.DataFrame) -> list[dict]:
    """Validate the distribution table against the inputs' valid ranges; return
    one spec per input (absolute parameters), in table order."""
    label = distributions.attrs.get("file", "distributions.csv")
    specs, seen = [], set()
    lines = distributions.attrs.get("lines") or [i + 2 for i in range(len(distributions))]
    for i, r in enumerate(distributions.itertuples(index=False)):
        where = f"{label} line {lines[i]}"
        _check_name(r.input, f"{where}, column input")
        if r.input in seen:
            raise InputError(f"{where}, column input", f"duplicate input {r.input!r}")
        seen.add(r.input)
        base = float(point[r.input])
        scale = base if r.basis == "relative" else 1.0
        kind = r.distribution
        spec = {"input": r.input, "distribution": kind}

        def need(*cols):
            for c in cols:
                v = getattr(r, c)
                if v is None or np.isnan(v):
                    raise InputError(f"{where}, column {c}", f"a {kind} distribution needs {c}")
            return [float(getattr(r, c)) for c in cols]

        if kind == "fixed":
            value = base if np.isnan(r.mode) else float(r.mode) * scale
            _within(r.input, value, value, f"{where}, column mode", clip=False)
            spec["value"] = value
        elif kind == "uniform":
            low, high = (v * scale for v in need("low", "high"))
            if not low < high:
                raise InputError(f"{where}, column low", f"low {low:g} must be below high {high:g}")
            _within(r.input, low, high, f"{where}, column low", clip=False)
            spec.update(low=low, high=high)
        elif kind == "triangular":
            low, mode, high = (v * scale for v in need("low", "mode", "high"))
            if not (low <= mode <= high and low < high):
                raise InputError(f"{where}, column mode",
                                 f"need low <= mode <= high and low < high, got {low:g}, {mode:g}, {high:g}")
            _within(r.input, low, high, f"{where}, column low", clip=False)
            spec.update(low=low, mode=mode, high=high)
        else:  # lognormal: mu, sigma of log(value); relative: of log(value / base)
            mu, sigma = need("mu", "sigma")
            gt, ge, le, lt = _bounds(r.input)
            if le is not None or lt is not None or (ge is not None and ge > 0):
                raise InputError(f"{where}, column distribution",
                                 f"a lognormal can leave {r.input}'s valid range "
                                 f"({overridable_inputs()[r.input].column(r.input).rule_text()}); "
                                 f"use uniform or triangular")
            spec.update(mu=mu + (np.log(scale) if r.basis == "relative" else 0.0), sigma=sigma)
        specs.append(spec)
    return specs


def draw_inputs(point: Mapping[str, float], specs: Sequence[Mapping], n: int,
                rng: np.random.Generator) -> dict:
    """*n* draws of every input: arrays for the uncertain ones, the base value
    (a scalar) for the others."""
    params = {name: float(point[name]) for name in PROFILE_INPUTS}
    for s in specs:
        kind = s["distribution"]
        if kind == "fixed":
            params[s["input"]] = s["value"]
        elif kind == "uniform":
            params[s["input"]] = rng.uniform(s["low"], s["high"], n)
        elif kind == "triangular":
            params[s["input"]] = rng.triangular(s["low"], s["mode"], s["high"], n)
        else:
            params[s["input"]] = rng.lognormal(s["mu"], s["sigma"], n)
    return params


def monte_carlo(point: Mapping[str, float], distributions: pd.DataFrame, n: int, seed=None,
                bins: int = 30, progress: Optional[Progress] = None,
                chunk: int = CHUNK_DRAWS) -> dict:
    """Propagate the input distributions through the cost model.

    Returns ``n``, ``seed``, ``base_cost_usd_per_mtok``, ``p10``, ``p50``, ``p90``,
    ``mean``, ``std``, ``min``, ``max`` [USD/MTok] and ``histogram``
    (``edges``, ``counts``). The same seed, n and chunk give the same numbers.
    """
    n = int(n)
    if n < 1:
        raise InputError("--montecarlo", f"--montecarlo needs at least 1 draw, got {n}")
    if not 1 <= int(bins) <= 10_000:
        raise InputError("--bins", f"--bins must be between 1 and 10000, got {bins}")
    specs = check_distributions(point, distributions)
    rng = np.random.default_rng(seed)
    costs = np.empty(n)
    done = 0
    while done < n:
        size = min(chunk, n - done)
        params = draw_inputs(point, specs, size, rng)
        costs[done:done + size] = np.broadcast_to(cost_usd_per_mtok_of(params), (size,))
        done += size
        if progress is not None:
            progress(done, n)
    p10, p50, p90 = np.percentile(costs, [10, 50, 90])
    counts, edges = np.histogram(costs, bins=int(bins))
    return {
        "n": n, "seed": seed,
        "base_cost_usd_per_mtok": float(cost_usd_per_mtok_of({k: point[k] for k in PROFILE_INPUTS})),
        "p10": float(p10), "p50": float(p50), "p90": float(p90),
        "mean": float(costs.mean()), "std": float(costs.std()),
        "min": float(costs.min()), "max": float(costs.max()),
        "histogram": {"edges": edges, "counts": counts},
        "distributions": specs,
    }


def montecarlo_frames(result: Mapping) -> dict[str, pd.DataFrame]:
    """Summary and histogram tables of a Monte Carlo result."""
    stats = ["base_cost_usd_per_mtok", "p10", "p50", "p90", "mean", "std", "min", "max"]
    summary = pd.DataFrame({"statistic": stats, "usd_per_mtok": [result[s] for s in stats]})
    edges = np.asarray(result["histogram"]["edges"])
    counts = np.asarray(result["histogram"]["counts"])
    peak = max(int(counts.max()), 1)
    hist = pd.DataFrame({"bin_low_usd_per_mtok": edges[:-1], "bin_high_usd_per_mtok": edges[1:],
                         "count": counts.astype(int),
                         "bar": ["#" * int(round(40 * c / peak)) for c in counts]})
    return {"summary": summary, "histogram": hist}


# --------------------------------------------------------------------------- all together

def run(inputs: Inputs, model: str = "dense-70b", *, ranges: Optional[pd.DataFrame] = None,
        distributions: Optional[pd.DataFrame] = None, tornado_on: bool = True,
        grid_inputs: Optional[Sequence[str]] = None, steps: int = 5, montecarlo_n: int = 0,
        seed=None, bins: int = 30, delta: float = 0.2,
        progress: Optional[Progress] = None) -> dict:
    """Every analysis asked for, on one model profile of *inputs*."""
    point = profile_point(inputs, model)
    out: dict = {"model": point["model"], "gpu": point["gpu"],
                 "base": {k: point[k] for k in PROFILE_INPUTS},
                 "base_cost_usd_per_mtok": float(cost_usd_per_mtok_of(
                     {k: point[k] for k in PROFILE_INPUTS}))}
    names = list(TORNADO_INPUTS)
    for extra in grid_inputs or ():
        _check_name(extra, "--grid")
        if extra not in names:
            names.append(extra)
    table = input_ranges(point, ranges, delta, names)
    if tornado_on:
        out["tornado"] = tornado(point, table[table["input"].isin(TORNADO_INPUTS)].reset_index(drop=True))
    if grid_inputs:
        out["grid"] = grid(point, grid_inputs[0], grid_inputs[1], table, steps)
    if montecarlo_n:
        if distributions is None:
            raise InputError("--montecarlo", "Monte Carlo needs a distributions table")
        out["montecarlo"] = monte_carlo(point, distributions, montecarlo_n, seed, bins, progress)
    return out


__all__ = ["TORNADO_INPUTS", "input_ranges", "tornado", "grid", "grid_frame", "check_distributions",
           "draw_inputs", "monte_carlo", "montecarlo_frames", "run"]
