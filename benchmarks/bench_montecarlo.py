"""Benchmark: Monte Carlo draws through the full cost model, vectorized vs a scalar loop.

Full cost model = GPU monthly cost build-up (depreciation, infra, power, staff)
-> $/GPU-hour -> $/MTok, i.e. ``tokencost.core.gpu_hour_usd`` then
``tokencost.core.cost_per_mtok``, with the shipped distributions
(``data/distributions.csv``) around the seed's dense-70b / H100 point.

* vectorized: ``tokencost.analysis.sensitivity.monte_carlo`` end to end (drawing the
  inputs, evaluating the model, percentiles and histogram), best and median of
  --repeat runs;
* scalar loop: the *same draws* (the first --scalar-sample of them) pushed
  one at a time through the same core functions with Python floats, timed and
  extrapolated linearly to the full N (it says so). The scalar side times the
  model evaluation only, not the drawing, which flatters it.

Both run in the same process, one after the other. Peak memory of the
vectorized run is measured in a separate run under ``tracemalloc`` (so its
overhead does not touch the timings), plus the process's max RSS.

Usage: python benchmarks/bench_montecarlo.py [--draws 1000000] [--scalar-sample 20000]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
import tracemalloc

import numpy as np

from tokencost import core
from tokencost.inputs.reference_tables import read_catalog
from tokencost.inputs.datasets import load_defaults
from tokencost.analysis.deployment import PROFILE_INPUTS, profile_point
from tokencost.analysis.sensitivity import check_distributions, draw_inputs, monte_carlo


def scalar_cost(p: dict) -> float:
    """One draw through the core, the way a per-draw Python loop would call it."""
    hour = core.gpu_hour_usd(p["gpu_price_usd"], p["depreciation_years"], p["infra_usd_per_month"],
                             p["power_w"], p["pue"], p["power_price_usd_per_kwh"],
                             p["staff_usd_per_month"], p["hours_per_month"], p["cost_of_capital"])
    return core.cost_per_mtok(hour, p["tokens_per_s"], p["utilization"])


def inline_cost(p: dict) -> float:
    """The same arithmetic inlined in plain Python (no argument checks): the fastest
    a per-draw loop could be, a lower bound for the scalar side."""
    months = p["depreciation_years"] * 12
    i = p["cost_of_capital"] / 12
    dep = p["gpu_price_usd"] * (i / (1 - (1 + i) ** -months) if i > 0 else 1 / months)
    power = p["power_w"] / 1000 * p["pue"] * p["hours_per_month"] * p["power_price_usd_per_kwh"]
    total = dep + p["infra_usd_per_month"] + power + p["staff_usd_per_month"]
    return total / p["hours_per_month"] / (p["tokens_per_s"] * 3600 * p["utilization"] / 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1_000_000)
    ap.add_argument("--scalar-sample", type=int, default=20_000,
                    help="draws pushed through the scalar loop, extrapolated to --draws")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()

    inputs = load_defaults()
    point = profile_point(inputs, "dense-70b")
    dists = read_catalog("distributions.csv")
    n = args.draws

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"model: {point['model']} on {point['gpu']}, {n:,} draws, seed {args.seed}")

    # warm-up (imports, first-touch allocations)
    monte_carlo(point, dists, 10_000, seed=args.seed)

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = monte_carlo(point, dists, n, seed=args.seed)
        times.append(time.perf_counter() - t0)
    best, median = min(times), statistics.median(times)
    cpu0 = time.process_time()
    monte_carlo(point, dists, n, seed=args.seed)
    cpu = time.process_time() - cpu0
    print(f"vectorized: best {best:.3f} s, median {median:.3f} s of {args.repeat} "
          f"(CPU time of one run {cpu:.3f} s) -> {n / best:,.0f} draws/s")
    print(f"  P10 {result['p10']:.4f}  P50 {result['p50']:.4f}  P90 {result['p90']:.4f} USD/MTok "
          f"(base {result['base_cost_usd_per_mtok']:.4f})")

    # the model evaluation alone, on 1,000,000 pre-drawn inputs (no drawing, no percentiles)
    from tokencost.analysis.deployment import cost_usd_per_mtok_of
    specs = check_distributions(point, dists)
    predrawn = draw_inputs(point, specs, n, np.random.default_rng(args.seed))
    eval_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cost_usd_per_mtok_of(predrawn)
        eval_times.append(time.perf_counter() - t0)
    eval_best = min(eval_times)
    print(f"  of which the model evaluation alone (pre-drawn inputs): best {eval_best:.3f} s")
    del predrawn

    # the same draws, one at a time: regenerate them with the same seed and chunking
    rng = np.random.default_rng(args.seed)
    k = min(args.scalar_sample, n)
    draws = draw_inputs(point, specs, min(n, 250_000), rng)  # first chunk, as monte_carlo draws it
    cols = {name: np.broadcast_to(np.asarray(draws[name], dtype=float), (min(n, 250_000),))
            for name in PROFILE_INPUTS}
    rows = [{name: float(cols[name][i]) for name in PROFILE_INPUTS} for i in range(k)]
    t0 = time.perf_counter()
    scalar = [scalar_cost(r) for r in rows]
    t_scalar = time.perf_counter() - t0
    vec_first = np.asarray(core.cost_per_mtok(
        core.gpu_hour_usd(*(cols[c][:k] for c in ("gpu_price_usd", "depreciation_years",
                                                 "infra_usd_per_month", "power_w", "pue",
                                                 "power_price_usd_per_kwh", "staff_usd_per_month",
                                                 "hours_per_month", "cost_of_capital"))),
        cols["tokens_per_s"][:k], cols["utilization"][:k]))
    max_diff = float(np.max(np.abs(np.asarray(scalar) - vec_first)))
    per_draw = t_scalar / k
    extrapolated = per_draw * n
    print(f"scalar loop: {k:,} of the same draws in {t_scalar:.3f} s ({per_draw * 1e6:.1f} us/draw, "
          f"{1 / per_draw:,.0f} draws/s); extrapolated to {n:,} draws: {extrapolated:.1f} s "
          f"(linear extrapolation, not run in full)")
    print(f"  scalar and vectorized results agree to {max_diff:.1e} USD/MTok on those draws")
    print(f"speed-up: {extrapolated / best:,.0f}x (extrapolated scalar / best vectorized)")
    t0 = time.perf_counter()
    inline = [inline_cost(r) for r in rows]
    t_inline = time.perf_counter() - t0
    inline_full = t_inline / k * n
    print(f"inlined plain-Python loop (no checks, lower bound for any scalar loop): "
          f"{t_inline / k * 1e6:.2f} us/draw, extrapolated {inline_full:.2f} s -> "
          f"{inline_full / best:,.1f}x the vectorized end-to-end run, "
          f"{inline_full / eval_best:,.1f}x the vectorized evaluation alone "
          f"(agrees to {float(np.max(np.abs(np.asarray(inline) - vec_first))):.1e})")

    tracemalloc.start()
    monte_carlo(point, dists, n, seed=args.seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak memory: {peak / 2**20:.1f} MiB traced during one vectorized run; "
          f"process max RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
