"""The physics check in the workbook (templates/parts/physics.toml): reference tables, the
native-formula memory fit / decode bound / cost floor per model profile, the warnings on the
Checks sheet and the frontier, against tokencost.analysis.physics_checks and LibreOffice.

Tolerance: rel 1e-9 (``close`` from workbook_helpers) for every number.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tokencost.inputs import catalog as cat
from tokencost.core import physics as ph
from tokencost.inputs.datasets import load_defaults, read_raw_tables
from tokencost.inputs.validate import prepare
from tokencost.analysis.model import evaluate
from tokencost.analysis.physics_checks import default_context, deployment_bounds, frontier, physics_flags
from tokencost.workbook.spec import TEMPLATES_DIR, template_path
from tokencost.workbook.build import build
from tokencost.workbook.formula import Evaluator
from tokencost.workbook.libreoffice import recalculated_values
from tokencost.workbook.build.reference_blocks import precisions_frame
from tokencost.workbook.spec import load_template

from workbook_helpers import cached_values, close, formula_cells

# --------------------------------------------------------------------------- helpers

SPEC = load_template(template_path("main"))


def _block(name):
    for sheet in SPEC.sheets:
        for block in sheet.blocks:
            if block.name == name:
                return sheet.name, block
    raise KeyError(name)


def _first_row(ws, title):
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == title:
            return r + 3  # title, unit row, header row, then data
    raise KeyError(title)


def block_frame(book, values, name):
    """A slots block as a DataFrame (one column per template key) from {sheet: {ref: value}}."""
    sheet, block = _block(name)
    ws = load_workbook(book)[sheet]
    first = _first_row(ws, block.title)
    data = {}
    for j, col in enumerate(block.columns, start=1):
        data[col.key] = [values[sheet].get(ws.cell(first + i, j).coordinate)
                         for i in range(block.capacity)]
    return pd.DataFrame(data)


def named_cell(book, values, name):
    wb = load_workbook(book)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return values[sheet].get(ref.replace("$", ""))


def as_sheets(flat):
    """{(sheet, ref): v} -> {sheet: {ref: v}} (the shape recalculated_values returns)."""
    out = {}
    for (sheet, ref), v in flat.items():
        out.setdefault(sheet, {})[ref] = v
    return out


def _num(x):
    return 0.0 if x in ("", None) else float(x)


def assert_column(got, expected, label):
    got = [_num(v) for v in got]
    expected = [0.0 if (isinstance(v, float) and np.isnan(v)) else float(v) for v in expected]
    bad = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if not close(g, e)]
    assert not bad, f"{label}: (row, workbook, python) {bad}"


def model_frame(inputs):
    """The deployments physics_flags builds from the Models and Hardware tables."""
    models = inputs.models.reset_index(drop=True)
    frame = pd.DataFrame({"gpu": models["gpu"], "architecture": models["architecture"].fillna(""),
                          "gpus": pd.to_numeric(models["gpus"]).fillna(1.0),
                          "batch_size": pd.to_numeric(models["batch_size"]),
                          "weight_precision": models["weight_precision"].fillna(""),
                          "kv_precision": models["kv_precision"].fillna("")})
    hw = inputs.hardware
    rows = [list(hw["gpu"]).index(g) if g in list(hw["gpu"]) else -1 for g in frame["gpu"]]
    for column in ["memory_gb", "memory_bandwidth_tb_s"]:
        values = pd.to_numeric(hw[column]).to_numpy(dtype=float)
        frame[column] = [values[i] if i >= 0 else np.nan for i in rows]
    return frame


def expected_rows(inputs, assumptions=None, gpus_catalog=None, architectures=None):
    """deployment_bounds per profile plus the physics_flags check on a deployment that fits
    (the retry on min_gpus written out, so that edited catalogs can be passed)."""
    a = cat.load_physics_assumptions()
    a.update(assumptions or {})
    frame = model_frame(inputs)
    frame["context_tokens"] = default_context(a)
    d = deployment_bounds(frame, a, gpus_catalog, architectures)
    again = d["gpu_known"] & d["architecture_known"] & ~d["fits"]
    check_gpus, check_batch = d["gpus"].copy(), d["batch"].copy()
    check_bound = d["tokens_per_s_per_gpu_bound"].copy()
    if again.any():
        retry = frame.loc[again].copy()
        retry["gpus"] = d.loc[again, "min_gpus"]
        retry["batch_size"] = np.nan
        r = deployment_bounds(retry, a, gpus_catalog, architectures)
        check_gpus.loc[again], check_batch.loc[again] = r["gpus"], r["batch"]
        check_bound.loc[again] = r["tokens_per_s_per_gpu_bound"]
        max_batch = d["max_batch_fits"].copy()
        max_batch.loc[again] = r["max_batch_fits"]
    else:
        max_batch = d["max_batch_fits"].copy()
    d["check_gpus"], d["check_batch"], d["check_bound"] = check_gpus, check_batch, check_bound
    d["check_max_batch"] = max_batch
    # the workbook matches catalog names exactly (ignoring case); Python also takes aliases
    gpu_names = {g.casefold() for g in (gpus_catalog if gpus_catalog is not None
                                        else cat.load_gpu_catalog())["gpu"]}
    arch_names = {x.casefold() for x in (architectures if architectures is not None
                                         else cat.load_model_architectures())["architecture"]}
    exact = [g.casefold() in gpu_names and x.casefold() in arch_names
             for g, x in zip(frame["gpu"], frame["architecture"])]
    d["checked"] = d["gpu_known"] & d["architecture_known"] & np.array(exact)
    d["check_memory_gb"], d["check_bandwidth"] = frame["memory_gb"], frame["memory_bandwidth_tb_s"]
    return d


def target_expected(d, row, target, assumptions=None, gpus_catalog=None):
    """deployment_bounds at a per-user target for the profile in *row* of expected_rows,
    on the GPUs it is checked on, with its memory and bandwidth (Hardware first)."""
    a = cat.load_physics_assumptions()
    a.update(assumptions or {})
    e = d.iloc[row]
    frame = pd.DataFrame({"gpu": [e["gpu"]], "architecture": [e["architecture"]],
                          "gpus": [e["check_gpus"]], "context_tokens": [e["context_tokens"]],
                          "weight_precision": [e["weight_precision"]],
                          "kv_precision": [e["kv_precision"]],
                          "memory_gb": [e["memory_gb"]],
                          "memory_bandwidth_tb_s": [e["memory_bandwidth_tb_s"]],
                          "tokens_per_s_per_user": [target]})
    return deployment_bounds(frame, a, gpus_catalog).iloc[0]


def evaluated(path):
    """{sheet: {ref: value}} of every formula of the workbook at *path*, computed afresh by the
    builder's evaluator (the edited inputs, not the cached values)."""
    from tokencost.workbook.edit.refresh import workbook_model
    wb = load_workbook(path)
    cells, formulas, tables, names = workbook_model(wb, {})
    ev = Evaluator(cells, tables, names)
    out = {}
    for sheet, r, c in formulas:
        if sheet in PHYSICS_SHEETS:   # the Functions sheet's UDF cells need Excel
            out.setdefault(sheet, {})[f"{get_column_letter(c)}{r}"] = ev.value(sheet, r, c)
    return out


PHYSICS_SHEETS = ("PhysicsCatalog", "Physics", "PhysicsCheck", "Checks")


def compare_models(phys, inputs, d, flags=None, architectures=None):
    n = len(inputs.models)
    rows = phys.iloc[:n]
    checked = d["checked"].to_numpy()
    assert [int(_num(x)) for x in rows["checked"]] == [int(c) for c in checked]
    c = rows[checked]
    e = d[checked]
    for key in ["weights_gb", "kv_bytes_per_token", "kv_gb_per_sequence", "memory_needed_gb",
                "memory_usable_gb", "min_gpus_weights", "min_gpus", "max_batch_fits", "batch",
                "step_time_s", "tokens_per_s_per_gpu_bound", "tokens_per_s_per_user"]:
        assert_column(c[key], e[key], key)
    assert_column(c["fits"], e["fits"].astype(float), "fits")
    arch = (architectures if architectures is not None else cat.load_model_architectures())
    arch = arch.assign(key=arch["architecture"].str.casefold()).set_index("key")
    a = arch.loc[[x.casefold() for x in e["architecture"]]]
    attention = ph.attention_flops_per_token(
        a["layers"].to_numpy(), a["attention_heads"].to_numpy(), a["head_dim"].to_numpy(),
        e["context_tokens"].to_numpy(), a["local_layer_share"].to_numpy(),
        a["local_window_tokens"].to_numpy(), a["kv_latent_dim"].to_numpy(),
        a["kv_lora_rank"].to_numpy())
    flops = ph.decode_flops_per_token(a["active_params"].to_numpy(), a["layers"].to_numpy(),
                                      a["attention_heads"].to_numpy(), a["head_dim"].to_numpy(),
                                      e["context_tokens"].to_numpy(), a["local_layer_share"].to_numpy(),
                                      a["local_window_tokens"].to_numpy(), a["kv_latent_dim"].to_numpy(),
                                      a["kv_lora_rank"].to_numpy())
    assert_column(c["flops_per_token"], flops, "flops_per_token")
    assert_column(c["attention_flops_per_token"], attention, "attention_flops_per_token")
    gemm = 2 * a["active_params"].to_numpy()
    t_flop = e["batch"].to_numpy() * (gemm / e["peak_tflops"].to_numpy()
                                      + attention / e["attention_peak_tflops"].to_numpy()) / (
        e["gpus"].to_numpy() * 1e12)
    assert_column(c["compute_time_s"], np.nan_to_num(t_flop), "compute_time_s")
    assert_column(c["memory_time_s"], e["memory_time_s"], "memory_time_s")
    assert_column(c["compute_time_s"], e["compute_time_s"], "compute_time_s (deployment_bounds)")
    assert_column(c["peak_tflops"], e["peak_tflops"], "peak_tflops")
    assert_column(c["attention_peak_tflops"], e["attention_peak_tflops"], "attention_peak_tflops")
    for key in ("weight_precision", "kv_precision"):   # names compare ignoring case, as MATCH does
        assert [str(x).casefold() for x in c[key]] == list(e[key])
    assert ["" if pd.isna(b) else b for b in c["bound_by"]] == list(e["bound_by"])
    assert_column(c["check_gpus"], e["check_gpus"], "check_gpus")
    assert_column(c["check_batch"], e["check_batch"], "check_batch")
    assert_column(c["check_max_batch"], e["check_max_batch"], "check_max_batch")
    assert_column(c["check_tokens_per_s_per_gpu_bound"], e["check_bound"], "check bound")
    tps = pd.to_numeric(inputs.models["tokens_per_s"]).to_numpy(dtype=float)[checked]
    within = tps <= e["check_bound"].to_numpy() * (1 + 1e-9)
    assert_column(c["within_bound"], within.astype(float), "within_bound")
    assert_column(c["flag_does_not_fit"], (~e["fits"]).astype(float), "flag_does_not_fit")
    assert_column(c["flag_exceeds_bound"], (~within).astype(float), "flag_exceeds_bound")
    gpu_hour = evaluate(inputs).model_costs["gpu_hour_usd"].to_numpy(dtype=float)[checked]
    assert_column(c["cost_floor_usd_per_mtok"],
                  ph.cost_floor_usd_per_mtok(gpu_hour, e["check_bound"].to_numpy()), "cost floor")
    if flags is not None:  # the very function behind `tokencost report`
        f = flags[checked]
        assert_column(c["check_tokens_per_s_per_gpu_bound"], f["tokens_per_s_per_gpu_bound"],
                      "physics_flags bound")
        assert_column(c["check_gpus"], f["bound_gpus"], "physics_flags bound_gpus")
        assert_column(c["implied_replica_tokens_per_s"], f["implied_replica_tokens_per_s"],
                      "physics_flags implied replica")
        flagged = [_num(a) + _num(b) > 0 for a, b in zip(c["flag_does_not_fit"],
                                                          c["flag_exceeds_bound"])]
        assert flagged == [not ok for ok in f["ok"]]
    # unused slots and unchecked profiles carry zeros, never an error value
    for key in ["weights_gb", "min_gpus", "tokens_per_s_per_gpu_bound", "cost_floor_usd_per_mtok"]:
        assert all(_num(v) == 0 for v in phys[key].iloc[n:])
        assert all(_num(v) == 0 for v in rows[key][~checked])


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def default_book(built_book):
    return built_book


@pytest.fixture(scope="module")
def wide_inputs():
    """The seed plus profiles that reach every branch: BF16 / FP8 / MXFP4 (FP4 peak, and its
    fallback to FP8 on H100), MLA, local-window layers, multi-GPU, a blank Hardware memory
    (catalog fallback), a profile above the bound, unknown and alias architecture names, and
    profiles with their own precisions (NVFP4 GEMMs with FP8 attention, FP8 for a BF16
    catalog model, an upper-case name, linear-attention state)."""
    raw = read_raw_tables()
    hw = pd.DataFrame([
        {"gpu": "B200", "gpu_price_usd": "45000", "power_w": "1000", "memory_gb": "",
         "memory_bandwidth_tb_s": "", "source": "test"},
        {"gpu": "H200", "gpu_price_usd": "35000", "power_w": "700", "memory_gb": "141",
         "memory_bandwidth_tb_s": "4.8", "source": "test"}])
    raw["Hardware"] = pd.concat([raw["Hardware"], hw], ignore_index=True)
    cc = raw["CostComponents"]
    extra = pd.concat([cc.iloc[[0]].assign(gpu="B200"), cc.iloc[[0]].assign(gpu="H200")])
    raw["CostComponents"] = pd.concat([cc, extra], ignore_index=True)
    rows = [("llama8b", "H100", 5000, "", "Llama-3.1-8B", 1, "", ""),
            ("llama8b-too-fast", "H100", 50000, "32", "llama-3.1-8b", 1, "", ""),
            ("gptoss-b200", "B200", 3000, "", "gpt-oss-120b", 1, "", ""),
            ("gptoss-h100-256", "H100", 2000, "256", "gpt-oss-120b", 1, "", ""),
            ("scout-b200", "B200", 4000, "", "Llama-4-Scout", 1, "nvfp4", "fp8"),
            ("dsv3-h200x8", "H200", 1500, "", "DeepSeek-V3", 8, "", ""),
            ("405b-h200x8", "H200", 900, "64", "Llama-3.1-405B", 8, "fp8", "fp8"),
            ("405b-one-h100", "H100", 100, "", "Llama-3.1-405B", 1, "", ""),
            ("mystery", "H100", 100, "", "Mystery-1T", 1, "", ""),
            ("alias", "H100", 100, "", "Llama-3-70B", 1, "", ""),
            ("qwen35-b200x8", "B200", 2000, "", "Qwen3.5-397B-A17B", 8, "nvfp4", "fp8"),
            ("maverick-h100x8", "H100", 1200, "", "Llama-4-Maverick", 8, "FP8", "fp8")]
    models = pd.DataFrame([{"model": m, "gpu": g, "tokens_per_s": str(t), "batch_size": b,
                            "architecture": a, "gpus": str(n), "weight_precision": wp,
                            "kv_precision": kv, "description": "test", "source": "test"}
                           for m, g, t, b, a, n, wp, kv in rows])
    raw["Models"] = pd.concat([raw["Models"], models], ignore_index=True)
    return prepare(raw)


@pytest.fixture(scope="module")
def wide_book(tmp_path_factory, wide_inputs):
    return build(tmp_path_factory.mktemp("physwide") / "wide.xlsm", inputs=wide_inputs,
                 backup=False)


@pytest.fixture(scope="module")
def edited(tmp_path_factory, wide_book):
    """The wide workbook edited as an analyst would (longer context, larger reserve, a GPU
    catalog figure, the frontier profile), recalculated once by LibreOffice."""
    path = tmp_path_factory.mktemp("physedit") / "edited.xlsm"
    wb = load_workbook(wide_book, keep_vba=True)
    from workbook_helpers import set_table_value
    # the context from request lengths: 16,000 + 768 / 2 = 16,384 (context_tokens is then unused)
    set_table_value(wb, "PhysicsAssumptions", "name", "context_tokens", "value", 1000)
    set_table_value(wb, "PhysicsAssumptions", "name", "input_tokens", "value", 16000)
    set_table_value(wb, "PhysicsAssumptions", "name", "output_tokens", "value", 768)
    set_table_value(wb, "PhysicsAssumptions", "name", "memory_reserve_fraction", "value", 0.1)
    set_table_value(wb, "GpuCatalog", "gpu", "B200", "memory_bandwidth_tb_s", 7.7)
    sheet, ref = next(iter(wb.defined_names["Frontier_Profile"].destinations))
    wb[sheet][ref.replace("$", "")] = "moe-284b-a13b"
    sheet, ref = next(iter(wb.defined_names["Frontier_Target_Tokens_Per_User"].destinations))
    wb[sheet][ref.replace("$", "")] = 100       # binds: the MoE's Newton steps do the work
    wb.save(path)
    return path, recalculated_values(path)


# --------------------------------------------------------------------------- reference tables

def test_reference_tables_are_input_tables_with_sources(default_book):
    wb = load_workbook(default_book)
    ws = wb["PhysicsCatalog"]
    assert {"GpuCatalog", "Architectures", "PhysicsAssumptions", "Precisions"} <= set(ws.tables)
    gpus = cat.load_gpu_catalog()
    table = ws.tables["GpuCatalog"]
    top = ws[table.ref.split(":")[0]].row
    headers = [c.value for c in ws[top] if c.value]
    assert headers[0] == "gpu" and headers[-1] == "source" and "aliases" not in headers
    for i, row in gpus.iterrows():
        cells = {h: ws.cell(top + 1 + i, j) for j, h in enumerate(headers, start=1)}
        assert cells["gpu"].value == row["gpu"] and isinstance(cells["gpu"].value, str)
        assert cells["memory_gb"].value == row["memory_gb"]
        assert cells["memory_gb"].style == "input" and cells["source"].style == "note"
        assert (cells["fp4_tflops"].value is None) == pd.isna(row["fp4_tflops"])
    assert any(dv.sqref and "B" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    pre = precisions_frame().set_index("precision")
    assert pre.loc["mxfp4", "bytes_per_value"] == 0.5 and pre.loc["mxfp4", "uses_fp4_tflops"] == 1
    assert pre.loc["fp8", "uses_fp4_tflops"] == 0 and pre.loc["fp8", "uses_fp8_tflops"] == 1
    assert pre.loc["bf16", "uses_fp8_tflops"] == 0


def test_default_names_are_catalog_names():
    """The workbook matches names exactly (ignoring case): the shipped profiles must use
    the catalogs' canonical names, not aliases."""
    models = load_defaults().models
    gpus = {g.casefold() for g in cat.load_gpu_catalog()["gpu"]}
    archs = {a.casefold() for a in cat.load_model_architectures()["architecture"]}
    assert all(g.casefold() in gpus for g in models["gpu"])
    assert all(a.casefold() in archs for a in models["architecture"].fillna("") if a)


# --------------------------------------------------------------------------- the seed

def test_default_workbook_flags_the_moe_profile_as_a_warning(default_book):
    values = as_sheets(cached_values(default_book))
    inputs = load_defaults()
    phys = block_frame(default_book, values, "Phys_Models")
    compare_models(phys, inputs, expected_rows(inputs), physics_flags(inputs))
    out = block_frame(default_book, values, "Out_Physics")
    assert list(out["verdict"][:3]) == ["within bound", "does not fit", "not checked"]
    reason = out["reason"][1]
    assert reason.startswith("moe-284b-a13b: 284B parameters (284 GB at FP8) need at least 4 x H100")
    assert "that is a 4-GPU replica producing 10,000 tok/s" in reason
    assert "the decode bound is 4,342 tok/s per GPU at batch 394" in reason
    assert out["min_gpus"][1] == 4
    assert out["reason"][0] == ("dense-70b: 400 tok/s per GPU is within the decode bound of 706 "
                                "tok/s per GPU on 1 x H100 at batch 16 and 2,048 tokens of context "
                                "(memory bandwidth-bound)")
    # a warning, not an error: the master check stays 0, the warning count is 1
    assert named_cell(default_book, values, "Master_Check") == 0
    assert named_cell(default_book, values, "Warning_Count") == 1
    ws = load_workbook(default_book)["Checks"]
    status = {ws.cell(r, 1).value: values["Checks"].get(f"C{r}") for r in range(1, ws.max_row + 1)}
    assert status["Physics: model profiles whose model does not fit their GPUs (reasons on "
                  "PhysicsCheck)"] == "WARNING"
    assert status["Physics: model profiles whose tokens_per_s exceeds the decode bound (reasons "
                  "on PhysicsCheck)"] == "OK"


def test_default_target_equals_bound(default_book):
    """Frontier_Target_Tokens_Per_User (45 by default) on dense-70b on one H100: the largest
    batch whose users all get 45 tok/s is (3.35e12 / 45 - 70.6e9) / 335,544,320 = 11.4 -> 11."""
    values = as_sheets(cached_values(default_book))
    inputs = load_defaults()
    d = expected_rows(inputs)
    t = target_expected(d, 0, 45.0)
    assert t["batch"] == 11 == named_cell(default_book, values, "Target_Batch")
    assert close(named_cell(default_book, values, "Target_Tokens_Per_S_Per_GPU"),
                 t["tokens_per_s_per_gpu_bound"])
    assert close(named_cell(default_book, values, "Target_Tokens_Per_User_At_Batch"),
                 t["tokens_per_s_per_user"])
    gpu_hour = float(evaluate(inputs).model_costs["gpu_hour_usd"].iloc[0])
    assert close(named_cell(default_book, values, "Target_Cost_Floor_USD_Per_MTok"),
                 ph.cost_floor_usd_per_mtok(gpu_hour, t["tokens_per_s_per_gpu_bound"]))
    one = deployment_bounds(pd.DataFrame({"gpu": ["H100"], "architecture": ["dense-70b"],
                                          "batch_size": [1.0]})).iloc[0]
    assert close(named_cell(default_book, values, "Target_Batch1_Tokens_Per_User"),
                 one["tokens_per_s_per_user"])


def test_target_above_batch_one_and_unknown_precision(wide_book, tmp_path):
    """Edited, then evaluated by the builder's evaluator: a target no batch reaches gives
    batch 0 and says so; an unknown profile precision leaves the profile not checked, with
    the reason, and counts as an error."""
    path = tmp_path / "bad.xlsm"
    wb = load_workbook(wide_book, keep_vba=True)
    sheet, ref = next(iter(wb.defined_names["Frontier_Target_Tokens_Per_User"].destinations))
    wb[sheet][ref.replace("$", "")] = 60
    from workbook_helpers import set_table_value
    set_table_value(wb, "Models", "model", "llama8b", "kv_precision", "fp5")
    wb.save(path)
    values = evaluated(path)
    assert named_cell(path, values, "Target_Batch") == 0
    assert named_cell(path, values, "Target_Summary") == (
        "no batch: 60.0 tok/s per user is above the batch-1 bound of 47.2")
    out = block_frame(path, values, "Out_Physics").set_index("model")
    assert out.loc["llama8b", "verdict"] == "not checked"
    assert out.loc["llama8b", "reason"] == (
        "llama8b: not checked: precision 'fp5' is not in the Precisions table")
    assert named_cell(path, values, "Master_Check") >= 1


def test_frontier_equals_the_python_frontier(default_book):
    values = as_sheets(cached_values(default_book))
    inputs = load_defaults()
    gpu_hour = float(evaluate(inputs).model_costs["gpu_hour_usd"].iloc[0])
    py = frontier("H100", "dense-70b", 1.0, gpu_hour_usd=gpu_hour, points=24).set_index("batch")
    out = block_frame(default_book, values, "Out_Frontier")
    assert list(out["batch"]) == [1, 2, 4, 8] + [16] * 12
    for _, row in out.iterrows():
        e = py.loc[row["batch"]]
        assert close(row["tokens_per_s_per_user"], e["tokens_per_s_per_user"])
        assert close(row["tokens_per_s_per_gpu"], e["tokens_per_s_per_gpu_bound"])
        assert close(row["cost_floor"], e["cost_floor_usd_per_mtok"])
    charts = load_workbook(default_book)["PhysicsCheck"]._charts
    assert len(charts) == 1 and type(charts[0]).__name__ == "ScatterChart"


# --------------------------------------------------------------------------- every branch

def test_wide_workbook_cached_values_equal_deployment_bounds(wide_book, wide_inputs):
    values = as_sheets(cached_values(wide_book))
    phys = block_frame(wide_book, values, "Phys_Models")
    d = expected_rows(wide_inputs)
    flags = physics_flags(wide_inputs)
    compare_models(phys, wide_inputs, d, flags)
    models = list(wide_inputs.models["model"])
    verdict = dict(zip(models, block_frame(wide_book, values, "Out_Physics")["verdict"]))
    assert verdict["llama8b-too-fast"] == "exceeds bound"
    assert verdict["gptoss-h100-256"] == "does not fit"
    assert verdict["405b-one-h100"] == "does not fit"
    assert verdict["mystery"] == "not checked"
    # aliases: Python resolves them, the workbook does not (documented)
    assert verdict["alias"] == "not checked" and bool(flags["checked"][models.index("alias")])
    phys = phys.set_index("model")
    assert phys.loc["gptoss-b200", "uses_fp4"] == 1 and phys.loc["gptoss-b200", "peak_tflops"] == 9000
    assert phys.loc["gptoss-h100-256", "peak_tflops"] == 1979  # FP4 falls back to FP8
    assert phys.loc["gptoss-b200", "memory_gb"] == 180      # blank Hardware memory: the catalog
    assert phys.loc["dsv3-h200x8", "kv_bytes_per_token"] == 61 * 576 * 2
    # the profile's own precisions: NVFP4 GEMMs at the FP4 peak, FP8 attention at the FP8 peak
    assert phys.loc["scout-b200", "weight_precision"] == "nvfp4"
    assert (phys.loc["scout-b200", "peak_tflops"], phys.loc["scout-b200", "attention_peak_tflops"]) \
        == (9000, 4500)
    assert phys.loc["maverick-h100x8", "weight_precision"] == "FP8"   # as typed; matched ignoring case
    assert verdict["maverick-h100x8"] == "within bound"                # 400 GB at FP8 on 8 x 80 GB
    # linear-attention state: 48.8M values a sequence at FP8, besides the KV of 15 of 60 layers
    assert close(phys.loc["qwen35-b200x8", "kv_gb_per_sequence"],
                 (60 * 2 * 2 * 256 * 0.25 * 2048 + 48_844_800) / 1e9)
    # MLA decodes in its absorbed form: 2 x 61 x 128 x (576 + 512) FLOPs per attended token
    assert close(phys.loc["dsv3-h200x8", "attention_flops_per_token"], 2 * 61 * 128 * 1088 * 2048)


def test_libreoffice_recalculation_of_an_edited_workbook(wide_book, wide_inputs, edited):
    path, values = edited
    # every formula on the physics sheets recalculates without an error value
    errors = [(s, r, values[s].get(r)) for (s, r) in formula_cells(path)
              if s in ("Physics", "PhysicsCheck", "PhysicsCatalog", "Checks")
              and isinstance(values[s].get(r), str) and values[s][r].startswith("#")]
    assert errors == []
    gpus = cat.load_gpu_catalog()
    gpus.loc[gpus["gpu"] == "B200", "memory_bandwidth_tb_s"] = 7.7
    assumptions = {"context_tokens": 1000.0, "input_tokens": 16000.0, "output_tokens": 768.0,
                   "memory_reserve_fraction": 0.1}
    d = expected_rows(wide_inputs, assumptions, gpus_catalog=gpus)
    compare_models(block_frame(path, values, "Phys_Models"), wide_inputs, d)
    assert values["Checks"]["A2"] == "Master check: OK"
    # the frontier of the MoE profile on the 4 H100s it needs, batch 1, 2, 4 ... up to the best
    out = block_frame(path, values, "Out_Frontier")
    best = d["check_max_batch"].iloc[1]
    expected_batches = [min(2.0 ** i, best) for i in range(15)] + [best]
    assert_column(out["batch"], expected_batches, "frontier batch")
    sweep = pd.DataFrame({"gpu": "H100", "architecture": "moe-284b-a13b",
                          "gpus": d["check_gpus"].iloc[1], "batch_size": expected_batches,
                          "context_tokens": 16384.0, "memory_gb": 80.0,
                          "memory_bandwidth_tb_s": 3.35})
    a = cat.load_physics_assumptions()
    a.update(assumptions)
    e = deployment_bounds(sweep, a)
    assert_column(out["tokens_per_s_per_user"], e["tokens_per_s_per_user"], "frontier per user")
    assert_column(out["tokens_per_s_per_gpu"], e["tokens_per_s_per_gpu_bound"], "frontier per GPU")
    gpu_hour = float(evaluate(wide_inputs).model_costs["gpu_hour_usd"].iloc[1])
    assert_column(out["cost_floor"], ph.cost_floor_usd_per_mtok(
        gpu_hour, e["tokens_per_s_per_gpu_bound"].to_numpy()), "frontier cost floor")
    # the interactivity target on the MoE profile, as LibreOffice computes it
    t = target_expected(d, 1, 100.0, assumptions, gpus)
    assert 1 <= t["batch"] < best                      # the target binds below the memory cap
    assert named_cell(path, values, "Target_Batch") == t["batch"]
    assert close(named_cell(path, values, "Target_Tokens_Per_S_Per_GPU"),
                 t["tokens_per_s_per_gpu_bound"])
    assert close(named_cell(path, values, "Target_Tokens_Per_User_At_Batch"),
                 t["tokens_per_s_per_user"])
    assert close(named_cell(path, values, "Target_Cost_Floor_USD_Per_MTok"),
                 ph.cost_floor_usd_per_mtok(gpu_hour, t["tokens_per_s_per_gpu_bound"]))
    assert named_cell(path, values, "Target_Summary").startswith(
        f"batch {t['batch']:,.0f} is the largest whose every user gets 100.0 tok/s")


def test_evaluator_equals_libreoffice_on_the_edited_workbook(edited):
    """The builder's evaluator, run afresh on the analyst-edited workbook (request lengths,
    the MoE frontier, a binding target: POWER and LN in the Newton steps), gives
    LibreOffice's values on every physics formula."""
    path, values = edited
    mine = evaluated(path)
    bad = [(s, r, mine[s][r], values[s].get(r)) for s in ("Physics", "PhysicsCheck", "Checks")
           for r in mine.get(s, {}) if not close(mine[s][r], values[s].get(r))]
    assert bad == []
    assert mine["Physics"]  # the sheet was evaluated


def test_wide_workbook_cached_values_equal_libreoffice(wide_book, tmp_path):
    """Cached values of the unedited wide workbook are what LibreOffice computes (the main
    workbook is covered cell by cell in test_workbook_libreoffice.py)."""
    cached = cached_values(wide_book)
    values = recalculated_values(wide_book, tmp_path)
    bad = [(s, r, cached[(s, r)], values[s].get(r)) for (s, r) in formula_cells(wide_book)
           if s in ("Physics", "PhysicsCheck", "Checks") and not close(cached[(s, r)], values[s].get(r))]
    assert bad == []


# --------------------------------------------------------------------------- evaluator additions

def test_evaluator_choose_and_upper():
    cells = {("S", 1, 1): 2.0, ("S", 2, 1): '=CHOOSE(A1,"a",UPPER("fp8"),1/0)',
             ("S", 3, 1): "=CHOOSE(1+(A1>5),10,20)", ("S", 4, 1): '=CHOOSE(4,"a","b")'}
    ev = Evaluator(cells, {}, {})
    assert ev.value("S", 2, 1) == "FP8"          # only the chosen argument is evaluated
    assert ev.value("S", 3, 1) == 10.0
    assert ev.value("S", 4, 1) == "#VALUE!"


def test_the_part_is_in_the_main_template():
    text = (TEMPLATES_DIR / "main.toml").read_text()
    assert '"physics"' in next(line for line in text.splitlines() if line.startswith("parts"))
    names = [s.name for s in SPEC.sheets]
    assert names.index("PhysicsCatalog") < names.index("Physics") < names.index("PhysicsCheck") \
        < names.index("Checks")
