"""Benchmark: one array call of a UDF over N rows vs N single-cell calls.

Both go through the conversion path xlwings uses for tokencost's UDFs
(``ndim=2``): every argument a list of rows, the result a list of rows.

* scalar: N calls ``COST_PER_MTOK([[gpu_hour_usd]], [[tokens_per_s]])``, one
  per row, as N formulas each referring to one row's cells would make;
* array: one call ``COST_PER_MTOK(column_of_N, column_of_N)`` (a spilled
  formula over the whole columns);
* array with bad cells: the same with 1 % zeros and 0.1 % blanks, the path that
  marks each bad cell in its own position.

The same for ``MARKUP``. Times are per element; the ratio is scalar time per
element / array time per element. Excel's own per-call cost (the COM round
trip of classic xlwings, the add-in bridge of xlwings Lite) is not included: it
adds to every scalar call and once to the array call, so the ratio in Excel
is larger than the one printed here.

Usage: python benchmarks/bench_udfs.py [--rows 100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from tokencost import __version__

from tokencost.excel import udfs


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def _column(values) -> list:
    return np.asarray(values, dtype=float).reshape(-1, 1).tolist()


def bench(name, udf, a, b, repeat, bad_b):
    n = len(a)
    col_a, col_b, col_bad = _column(a), _column(b), bad_b
    cells_a = [[[v]] for v in a.tolist()]
    cells_b = [[[v]] for v in b.tolist()]

    def scalar():
        return [udf(x, y) for x, y in zip(cells_a, cells_b)]

    def array():
        return udf(col_a, col_b)

    def array_bad():
        return udf(col_a, col_bad)

    s_best, s_med, s_out = _best(scalar, max(1, repeat // 2))
    a_best, a_med, a_out = _best(array, repeat)
    b_best, b_med, b_out = _best(array_bad, repeat)
    assert [row[0] for row in a_out] == [cell[0][0] for cell in s_out]  # same figures both ways
    marked = sum(isinstance(row[0], str) for row in b_out)
    per = 1e6 / n
    print(f"{name}, {n:,} rows")
    print(f"  scalar: {n:,} calls      best {s_best:8.3f} s   median {s_med:8.3f} s   "
          f"{s_best * per:8.3f} us/element")
    print(f"  array:  1 call            best {a_best:8.4f} s   median {a_med:8.4f} s   "
          f"{a_best * per:8.3f} us/element")
    print(f"  array with {marked:,} bad cells  best {b_best:8.4f} s   median {b_med:8.4f} s   "
          f"{b_best * per:8.3f} us/element")
    print(f"  ratio scalar/array per element: {s_best / a_best:,.0f}x "
          f"(median {s_med / a_med:,.0f}x); with bad cells: {s_best / b_best:,.0f}x")
    return s_best / a_best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    n = args.rows
    rng = np.random.default_rng(0)
    print(f"tokencost {__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()} {platform.processor() or ''}".rstrip())

    hours = rng.uniform(1.0, 4.0, n).round(4)
    tps = rng.uniform(100.0, 5000.0, n).round(1)
    bad_tps = _column(tps)
    for i in range(0, n, 100):
        bad_tps[i][0] = 0.0
    for i in range(50, n, 1000):
        bad_tps[i][0] = None
    bench("COST_PER_MTOK(gpu_hour_usd, tokens_per_s)", udfs.COST_PER_MTOK, hours, tps,
          args.repeat, bad_tps)

    price = rng.uniform(0.2, 30.0, n).round(2)
    cost = rng.uniform(0.1, 2.0, n).round(4)
    bad_cost = _column(cost)
    for i in range(0, n, 100):
        bad_cost[i][0] = 0.0
    for i in range(50, n, 1000):
        bad_cost[i][0] = None
    bench("MARKUP(price_usd_per_mtok, cost_usd_per_mtok)", udfs.MARKUP, price, cost,
          args.repeat, bad_cost)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
