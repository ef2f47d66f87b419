"""The catalog functions (DECODE_TPS_BOUND, MIN_GPUS) have no one-cell native formula,
but the PhysicsCheck sheet computes the same quantities natively for every model
profile: as LibreOffice recalculates that sheet, each value equals the UDF called as
xlwings would on the same GPU, architecture, GPU count and batch."""
from __future__ import annotations

from openpyxl import load_workbook

from tokencost.excel import udfs
from tokencost.inputs.datasets import load_defaults
from tokencost.excel.arguments import xlwings_call

from workbook_helpers import close


def _profile_rows(book, values):
    ws = load_workbook(book)["PhysicsCheck"]
    for row in ws.iter_rows():
        if row[0].value == "Model profile" and row[0].style == "header":
            header = {c.value: c.column_letter for c in row if c.value}
            r = row[0].row + 1
            while values["PhysicsCheck"].get(f"A{r}") not in (None, ""):   # used slots only
                yield {name: values["PhysicsCheck"].get(f"{col}{r}") for name, col in header.items()}
                r += 1
            return


def test_physics_sheet_equals_the_catalog_functions(built_book, built_recalculated):
    batch_of = dict(zip(load_defaults().models["model"], load_defaults().models["batch_size"]))
    checked = 0
    for row in _profile_rows(built_book, built_recalculated):
        if row["Verdict"] == "not checked":
            continue
        gpu, arch = row["GPU"], row["Architecture"]
        bound = xlwings_call(udfs.DECODE_TPS_BOUND, gpu, arch, row["Bound on GPUs"], row["at batch"])
        assert close(bound[0][0], row["Decode bound tokens/s per GPU"]), row["Model profile"]
        batch = batch_of[row["Model profile"]]
        batch = None if batch != batch else batch          # blank (NaN): one sequence
        assert xlwings_call(udfs.MIN_GPUS, gpu, arch, batch) == [[row["Min GPUs (weights + KV)"]]]
        checked += 1
    assert checked == 2        # dense-70b and moe-284b-a13b (the seed's two classes)
