"""How long does `tokencost build` take for the main workbook? (target: under 2 s)

Prints the median of several builds and, as a baseline measured in the same
run, the time openpyxl alone needs to save the same workbook without cached
values, so the cost of evaluating formulas for cached values is visible.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tokencost.inputs.datasets import load_defaults
from tokencost.workbook.build import build, build_workbook
from tokencost.workbook.spec import template_path
from tokencost.workbook.spec import load_template

RUNS = 5


def main() -> None:
    inputs = load_defaults()
    with tempfile.TemporaryDirectory() as tmp:
        full, bare = [], []
        for i in range(RUNS):
            t0 = time.perf_counter()
            build(Path(tmp) / f"b{i}.xlsm", "main", inputs, backup=False)
            full.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            state = build_workbook(load_template(template_path("main")), inputs)
            state.wb.save(Path(tmp) / f"bare{i}.xlsm")
            bare.append(time.perf_counter() - t0)
    print(f"main workbook build (layout + cached values + atomic write): median {statistics.median(full):.3f} s "
          f"over {RUNS} runs (min {min(full):.3f}, max {max(full):.3f}); target < 2 s")
    print(f"baseline, openpyxl layout + save without cached values: median {statistics.median(bare):.3f} s")
    print(f"cached values and deterministic zip add {statistics.median(full) - statistics.median(bare):.3f} s")


if __name__ == "__main__":
    main()
