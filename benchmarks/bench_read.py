"""How long does reading the inputs of a big analyst workbook take? (target: under 1 s for 10,000 rows)

Builds a copy of ``tokencost.xlsm`` whose input tables hold 10,000 rows in all
(2,000 GPUs with their 2,000 cost rows, 3,000 model profiles, 2,500 prices, 500
subscriptions), saved by openpyxl (inline strings) and, with ``--libreoffice``,
also as LibreOffice saves it (shared strings, as Excel writes them too). Then
times, as the median of several runs (wall clock and this process's CPU time,
which is steadier on a busy machine):

- ``read_book``: the package read of the five tables (cells only);
- ``read_inputs``: the same plus validation into :class:`tokencost.inputs.validate.Inputs`
  (what ``tokencost report BOOK`` does before computing);
- baseline, in the same run: ``openpyxl.load_workbook`` of the same file in its
  normal mode (the only mode that exposes Excel Tables), without any cell reads.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from tokencost.workbook.read import read_book, read_inputs

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
SPLIT = {"Hardware": 2000, "CostComponents": 2000, "Models": 3000, "Prices": 2500,
         "Subscriptions": 500}


def _row(table: str, i: int) -> dict:
    gpu = f"GPU-{i:05d}"
    model = f"profile-{i:05d}"
    return {
        "Hardware": {"gpu": gpu, "gpu_price_usd": 20000 + i, "power_w": 500 + i % 500,
                     "memory_gb": 80, "memory_bandwidth_tb_s": 3.35, "source": "benchmark row"},
        "CostComponents": {"gpu": gpu, "depreciation_years": 3 + i % 3, "infra_usd_per_month": 350,
                           "pue": 1.3, "power_price_usd_per_kwh": 0.1, "staff_usd_per_month": 150,
                           "hours_per_month": 730, "utilization": 0.5 + (i % 50) / 100,
                           "cost_of_capital": 0.05, "source": "benchmark row"},
        "Models": {"model": model, "gpu": f"GPU-{i % 2000:05d}", "tokens_per_s": 100 + i,
                   "batch_size": 16, "gpus": 1, "description": "benchmark profile",
                   "source": "benchmark row"},
        "Prices": {"provider": "Bench", "model": f"model-{i:05d}", "price_usd_per_mtok": 1 + i / 1000,
                   "cost_basis": f"profile-{i % 3000:05d}", "source": "benchmark row"},
        "Subscriptions": {"plan": f"plan-{i:05d}", "subscription_usd_per_month": 20,
                          "api_equivalent_usd_per_month": 100, "list_price_usd_per_mtok": 10,
                          "cost_basis": f"profile-{i % 3000:05d}", "rd_usd_per_mtok": 1,
                          "source": "benchmark row"},
    }[table]


def make_big_book(target: Path, split: dict = SPLIT, source: Path = ROOT / "tokencost.xlsm") -> Path:
    """A copy of *source* whose input tables hold ``split[table]`` rows each (their
    original rows replaced), written with openpyxl."""
    wb = load_workbook(source, keep_vba=True)
    for ws in wb.worksheets:
        for table in list(ws.tables.values()):
            name = table.name
            if name not in split:
                continue
            c1, r1, c2, r2 = range_boundaries(table.ref)
            headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
            for i in range(split[name]):
                values = _row(name, i)
                for j, header in enumerate(headers):
                    ws.cell(r1 + 1 + i, c1 + j, values.get(header))
            last = r1 + split[name]
            table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{last}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
    wb.save(target)
    return target


def _median(fn, runs: int = RUNS) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process)."""
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def bench(book: Path, label: str) -> None:
    rows = read_book(book).row_count
    inputs = read_inputs(book)
    assert len(inputs.models) == SPLIT["Models"], len(inputs.models)
    assert inputs.prices["cost_basis"].iloc[-1] == f"profile-{(SPLIT['Prices'] - 1) % 3000:05d}"
    cells = _median(lambda: read_book(book))
    full = _median(lambda: read_inputs(book))
    base = _median(lambda: load_workbook(book), runs=3)
    print(f"{label}: {rows:,} input rows, {book.stat().st_size / 1e6:.1f} MB; median of {RUNS} runs "
          f"(baseline 3), wall / CPU seconds")
    print(f"  read_book (tables only):          {cells[0]:.3f} / {cells[1]:.3f}")
    print(f"  read_inputs (read + validation):  {full[0]:.3f} / {full[1]:.3f}   target < 1 s")
    print(f"  baseline openpyxl.load_workbook:  {base[0]:.3f} / {base[1]:.3f}")
    print(f"  baseline / read_inputs:           {base[0] / full[0]:.1f}x wall, "
          f"{base[1] / full[1]:.1f}x CPU (baseline / read_book {base[1] / cells[1]:.1f}x CPU)")


def main() -> None:
    print(f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        book = make_big_book(Path(tmp) / "big.xlsm")
        bench(book, "openpyxl-saved (inline strings)")
        if "--libreoffice" in sys.argv[1:]:
            from tokencost.workbook.libreoffice import convert
            saved = convert(book, Path(tmp) / "lo")
            bench(saved, "LibreOffice-saved (shared strings)")


if __name__ == "__main__":
    main()
