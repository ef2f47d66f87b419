"""The physics check: core formulas (hand-computed), catalogs, profile flags, validation, CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tokencost import cli
from tokencost.inputs.catalog import (find_architecture, find_gpu, load_gpu_catalog,
                               load_model_architectures, load_physics_assumptions,
                               normalize_gpu_name)
from tokencost.core import physics as ph
from tokencost.core.throughput import cost_per_mtok
from tokencost.errors import InputError
from tokencost.inputs.validate import prepare
from tokencost.analysis.physics_checks import (calibrate_efficiency, deployment_bounds, frontier,
                                      physics_flags, published_validation)

REL = 1e-9  # tolerance for exact arithmetic


# --------------------------------------------------------------------------- memory


def test_weights_70b_fp8_is_70_gb():
    assert ph.weights_bytes(70e9, 1.0) == pytest.approx(70e9, rel=REL)
    assert ph.weights_bytes(70e9, 2.0) == pytest.approx(140e9, rel=REL)


def test_kv_per_token_llama3_70b_bf16():
    # 2 (K and V) x 80 layers x 8 KV heads x 128 x 2 bytes
    assert ph.kv_bytes_per_token(80, 8, 128, 2) == 327_680.0


def test_kv_per_token_mla_is_the_latent():
    # DeepSeek-V3: 61 layers x (512 + 64) x 2 bytes; heads are ignored
    assert ph.kv_bytes_per_token(61, 128, 128, 2, kv_latent_dim=576) == 70_272.0


def test_kv_cache_with_local_layers():
    # half the layers keep a 128-token window: 1000 x (0.5 x 4096 + 0.5 x 128) bytes
    assert ph.kv_cache_bytes(1000.0, 1, 4096, 0.5, 128) == pytest.approx(2_112_000.0, rel=REL)
    assert ph.kv_cache_bytes(1000.0, 3, 100, 0.5, 128) == pytest.approx(300_000.0, rel=REL)


def test_min_gpus_seed_moe_on_h100():
    assert ph.min_gpus(284e9, 80) == 4.0                       # 284 / 76 = 3.74
    assert ph.min_gpus(284e9, 80, memory_reserve_fraction=0) == 4.0
    assert ph.min_gpus(304e9, 80) == 4.0                       # exactly 4 x 76 GB fits
    assert ph.min_gpus(70e9, 80, kv_cache_bytes=10e9) == 2.0   # 80 > 76


def test_fits_and_best_batch_dense70b_on_one_h100():
    weights = 70.6e9
    per_seq = 2048 * 163_840  # FP8 KV at 2,048 tokens = 335,544,320 B
    assert ph.fits(weights, 16 * per_seq, 80) is True
    assert ph.fits(weights, 17 * per_seq, 80) is False
    # (76e9 - 70.6e9) / 335,544,320 = 16.09
    assert ph.best_batch(weights, per_seq, 80) == 16.0
    assert ph.best_batch(weights, per_seq, 80, max_batch=8) == 8.0
    assert ph.best_batch(300e9, per_seq, 80) == 0.0


# --------------------------------------------------------------------------- MoE and time


def test_expected_experts_touched_occupancy():
    touched = ph.expected_experts_touched(256, 8, np.array([0, 1, 16, 100_000]))
    # 256 x (1 - (31/32)^16) = 101.962...
    assert touched == pytest.approx([0.0, 8.0, 256 * (1 - (31 / 32) ** 16), 256.0], rel=1e-9)
    assert ph.expected_experts_touched(1, 1, 5) == 1.0  # dense


def test_weights_read_moe_between_active_and_total():
    read = ph.weights_bytes_read_per_step(671e9, 37e9, 256, 8, np.array([1, 16, 1e6]), 1.0)
    assert read[0] == pytest.approx(37e9, rel=REL)
    assert read[2] == pytest.approx(671e9, rel=1e-9)
    per_expert = (671e9 - 37e9) / 248
    expected = 37e9 - 8 * per_expert + 256 * (1 - (31 / 32) ** 16) * per_expert
    assert read[1] == pytest.approx(expected, rel=1e-9)
    assert ph.weights_bytes_read_per_step(70e9, 70e9, 1, 1, 64, 1.0) == pytest.approx(70e9)


def _dense70(batch, context=0.0, **kw):
    return ph.decode_tokens_per_s_bound(70e9, 70e9, 1, 1, 80, 64, 128, 163_840, 1.0, 3.35, 1979,
                                        batch, context, **kw)


def test_decode_bound_memory_bound_hand_number():
    # batch 1, no context: 70 GB / 3.35 TB/s = 20.896 ms -> 47.857 tok/s
    assert _dense70(1) == pytest.approx(3.35e12 / 70e9, rel=1e-9)
    # batch 4 on 4 GPUs: the weights are read once per step at 4x the bandwidth,
    # so each GPU yields 4 x 47.857 = 191.43 tok/s
    assert _dense70(4, gpus=4) == pytest.approx(4 * 3.35e12 / 70e9, rel=1e-9)


def test_decode_bound_compute_bound_hand_number():
    # batch 10,000: 1.4e15 FLOPs / 1.979e15 FLOP/s = 0.707 s > 20.9 ms -> peak / (2 x params)
    assert _dense70(10_000) == pytest.approx(1979e12 / 140e9, rel=1e-9)


def test_decode_step_time_and_efficiency():
    assert ph.decode_step_time_s(3.35e12, 0, 3.35, 1979) == pytest.approx(1.0)
    assert ph.decode_step_time_s(3.35e12, 0, 3.35, 1979, gpus=2, bandwidth_efficiency=0.5) == \
        pytest.approx(1.0)
    assert ph.decode_step_time_s(0, 1979e12, 3.35, 1979, flops_efficiency=0.25) == pytest.approx(4.0)


def test_estimate_never_above_bound():
    batches = np.array([1, 8, 64, 512, 4096])
    args = (671e9, 37e9, 256, 8, 61, 128, 128, 35_136, 1.0, 4.8, 1979, batches, 3000)
    bound = ph.decode_tokens_per_s_bound(*args, gpus=8)
    estimate = ph.decode_tokens_per_s_estimate(*args, gpus=8)
    assert np.all(estimate <= bound * (1 + 1e-12))


def test_throughput_never_falls_with_batch():
    batches = np.arange(1, 3000)
    for args in [(70e9, 70e9, 1, 1), (284e9, 13e9, 256, 6), (235e9, 22e9, 128, 8)]:
        tps = ph.decode_tokens_per_s_bound(*args, 80, 64, 128, 163_840, 1.0, 3.35, 1979, batches,
                                           2048, gpus=4)
        assert np.all(np.diff(tps) >= -1e-9 * tps[1:])


def test_prefill_bound_and_per_user():
    assert ph.prefill_tokens_per_s_bound(70e9, 80, 64, 128, 0, 1979) == pytest.approx(1979e12 / 140e9)
    # attention adds 2 x 80 x 64 x 128 x 1000 FLOPs per token
    assert ph.prefill_flops_per_token(70e9, 80, 64, 128, 1000) == pytest.approx(140e9 + 1.31072e9)
    assert ph.decode_tokens_per_s_per_user(500.0, 16, 2) == pytest.approx(62.5)


def test_cost_floor_reuses_cost_per_mtok():
    assert ph.cost_floor_usd_per_mtok(1.9175, 400) == cost_per_mtok(1.9175, 400)
    assert ph.cost_floor_usd_per_mtok(1.9175, 400) == pytest.approx(1.9175 / 1.44, rel=REL)


def test_vectorized_kinds():
    s = pd.Series([70e9, 8e9], index=["a", "b"])
    out = ph.weights_bytes(s, 2.0)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]
    arr = ph.min_gpus(np.array([70e9, 284e9, 671e9]), np.array([80, 80, 141]))
    # 671 GB / (141 GB x 0.95) = 5.01 -> 6
    assert isinstance(arr, np.ndarray) and arr.tolist() == [1.0, 4.0, 6.0]
    assert isinstance(ph.min_gpus(70e9, 80), float)
    flags = ph.fits(out, 0.0, 80)  # 140 GB and 16 GB on one 80 GB GPU
    assert flags.dtype == bool and flags.tolist() == [False, True]


@pytest.mark.parametrize("call, name", [
    (lambda: ph.weights_bytes(0, 1), "total_params must be > 0, got 0"),
    (lambda: ph.weights_bytes(70e9, -1), "weight_bytes_per_param must be > 0"),
    (lambda: ph.kv_bytes_per_token(80, 8, 128, 2, kv_latent_dim=-1), "kv_latent_dim must be >= 0"),
    (lambda: ph.expected_experts_touched(8, 9, 1), "active_experts must be <= experts"),
    (lambda: ph.min_gpus(70e9, 80, memory_reserve_fraction=1), "memory_reserve_fraction must be < 1"),
    (lambda: ph.decode_step_time_s(1, 1, 3.35, 1979, bandwidth_efficiency=1.5),
     "bandwidth_efficiency must be <= 1"),
    (lambda: ph.cost_floor_usd_per_mtok(1.9, 0), "tokens_per_s_per_gpu must be > 0"),
    (lambda: ph.weights_bytes(np.array([1e9, np.nan]), 1), "total_params must be a number"),
    (lambda: ph.min_gpus(np.ones(2), np.ones(3)), "shapes do not match"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(InputError, match=name):
        call()


# --------------------------------------------------------------------------- catalogs


@pytest.mark.parametrize("name, key", [
    ("h100", "H100"), ("H100-SXM", "H100"), ("H100 SXM5 80GB", "H100"), ("H100SXM5", "H100"),
    ("NVIDIA H100 Tensor Core GPU", "H100"), ("GB200 NVL72", "GB200"), ("gb200", "GB200"),
    ("B200", "B200"), ("HGX B200", "B200"), ("H800", "H800"), ("H200 NVL", "H200"),
    ("A100-80GB-SXM", "A100"), ("AMD Instinct MI300X", "MI300X"),
])
def test_normalize_gpu_name(name, key):
    assert normalize_gpu_name(name) == key


def test_catalog_lookups_keep_similar_gpus_distinct():
    assert find_gpu("gb200-nvl72")["gpu"] == "GB200"
    assert find_gpu("b200")["gpu"] == "B200"
    assert find_gpu("h800")["gpu"] == "H800"
    assert find_gpu("H200")["memory_gb"] == 141
    assert find_architecture("Llama-3-70B")["architecture"] == "Llama-3.3-70B"
    assert find_architecture("deepseek-r1")["architecture"] == "DeepSeek-V3"
    with pytest.raises(InputError, match="unknown GPU 'TPU'"):
        find_gpu("TPU")


def test_catalog_rows_have_sources_and_consistent_shapes():
    gpus = load_gpu_catalog()
    archs = load_model_architectures()
    assert gpus["source"].str.len().min() > 20 and archs["source"].str.len().min() > 20
    assert {"A100", "H100", "H800", "H200", "B200", "GB200", "MI300X"} <= set(gpus["gpu"])
    needed = {"dense-70b", "moe-284b-a13b", "Llama-3.3-70B", "Llama-3.1-8B", "Llama-3.1-405B",
              "Llama-4-Scout", "Llama-4-Maverick", "DeepSeek-V3", "Qwen3-235B-A22B", "gpt-oss-120b"}
    assert needed <= set(archs["architecture"])
    assert "ASSUMED" in archs.set_index("architecture").loc["moe-284b-a13b", "source"]
    moe = archs["experts"] > archs["active_experts"]
    per_expert = (archs["total_params"] - archs["active_params"]) / (archs["experts"] - archs["active_experts"])
    shared = archs["active_params"] - archs["active_experts"] * per_expert
    assert (shared[moe] > 0).all()  # totals and expert counts agree


# --------------------------------------------------------------------------- published measurements


@pytest.fixture(scope="module")
def published():
    return pd.read_csv("tests/data/published_throughput.csv")


@pytest.fixture(scope="module")
def validation(published):
    return published_validation(published)


def test_bound_is_above_every_published_measurement(validation):
    ratios = validation[["model", "gpu", "gpus", "input_tokens", "output_tokens",
                         "measured_tokens_per_s_per_gpu", "decode_bound", "bound_ratio",
                         "serving_ratio", "estimate_error"]]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print("\nbound / measured ratios (decode bound, serving bound) and estimate error:")
        print(ratios.round(2).to_string(index=False))
    assert (validation["bound_ratio"] >= 1.0).all(), validation.loc[validation["bound_ratio"] < 1]
    assert (validation["serving_ratio"] >= 1.0).all()
    # golden: the tightest decode bound is Llama-3.1-8B on H100, 128 in / 4096 out
    assert validation["bound_ratio"].min() == pytest.approx(1.466, abs=0.002)


def test_estimate_median_error_with_default_efficiencies(validation):
    # golden (changed with the compute side, the MoE bandwidth share and the Llama 4 rows:
    # it was 0.2177 over the 98 rows of the file before them)
    error = validation["estimate_error"].abs()
    print(f"\nmedian |estimate / measured - 1| = {error.median():.4f}")
    assert error.median() == pytest.approx(0.2085, abs=0.002)
    assert error.median() <= 0.25
    for subset in ("dense", "moe"):
        assert error[validation["subset"] == subset].median() <= 0.25


def test_shipped_efficiencies_are_the_calibrated_ones(published):
    """The shipped efficiencies beat their neighbours on both published files (the
    calibration of calibrate_efficiency, on a 3 x 3 x 3 grid around them)."""
    a = load_physics_assumptions()
    eb, ef, em = a["bandwidth_efficiency"], a["flops_efficiency"], a["moe_bandwidth_efficiency"]
    newer = pd.read_csv("tests/data/published_throughput_2026.csv")

    def around(x, high=1.0):   # the neighbours within the default grid (bandwidth <= 0.9)
        return sorted({round(min(max(v, 0.05), high), 2) for v in (x - 0.05, x, x + 0.05)})

    best = calibrate_efficiency([published, newer], around(eb, 0.9), around(ef),
                                moe_bandwidth_grid=around(em))
    assert (best["bandwidth_efficiency"], best["flops_efficiency"],
            best["moe_bandwidth_efficiency"]) == pytest.approx((eb, ef, em))
    assert best["subset_goal_missed_by"] == 0


# --------------------------------------------------------------------------- model-profile flags


def test_seed_flags(seed_inputs):
    flags = physics_flags(seed_inputs).set_index("model")
    moe = flags.loc["moe-284b-a13b"]
    assert not moe["ok"] and not moe["fits"] and moe["min_gpus"] == 4
    assert moe["implied_replica_tokens_per_s"] == 10_000
    assert ("284B parameters (284 GB at FP8) need at least 4 H100s (80 GB each) but the profile "
            "assumes 1; at 2,500 tok/s per GPU that is a 4-GPU replica producing 10,000 tok/s") \
        in moe["reason"]
    dense = flags.loc["dense-70b"]
    assert dense["ok"] and dense["fits"] and dense["bound_batch"] == 16
    # 16 x 3.35e12 / (70.6e9 + 16 x 335,544,320) = 705.55 tok/s
    assert dense["tokens_per_s_per_gpu_bound"] == pytest.approx(16 * 3.35e12 / (70.6e9 + 16 * 335_544_320))
    implied = flags.loc["moe-v4-pro-implied"]
    assert implied["ok"] and not implied["checked"] and "not checked" in implied["reason"]


def _inputs_with(seed_raw, **changes):
    raw = {k: v.copy() for k, v in seed_raw.items()}
    for column, value in changes.items():
        raw["Models"].loc[0, column] = value
    return prepare(raw)


def test_flag_rate_above_the_bound(seed_raw):
    flags = physics_flags(_inputs_with(seed_raw, tokens_per_s="2000")).set_index("model")
    row = flags.loc["dense-70b"]
    assert not row["ok"] and row["fits"] and not row["within_bound"]
    assert "exceeds the physical decode bound of 706 tok/s per GPU on 1 H100" in row["reason"]


def test_flag_uses_hardware_table_and_unknown_gpu(seed_raw):
    raw = {k: v.copy() for k, v in seed_raw.items()}
    raw["Hardware"].loc[0, "memory_bandwidth_tb_s"] = "6.7"
    flags = physics_flags(prepare(raw)).set_index("model")
    assert flags.loc["dense-70b", "tokens_per_s_per_gpu_bound"] == pytest.approx(
        2 * 16 * 3.35e12 / (70.6e9 + 16 * 335_544_320))
    for table in ("Hardware", "CostComponents", "Models"):
        raw[table]["gpu"] = "TPU-v5"
    flags = physics_flags(prepare(raw)).set_index("model")
    assert flags["ok"].all() and not flags["checked"].any()
    assert "GPU 'TPU-v5' is not in the GPU catalog" in flags.loc["dense-70b", "reason"]


def test_deployment_bounds_vectorized_over_rows():
    frame = pd.DataFrame({"gpu": ["H100", "h100-sxm", "B200"],
                          "architecture": ["dense-70b", "moe-284b-a13b", "Llama-3.3-70B"],
                          "gpus": [1, 4, 1]})
    d = deployment_bounds(frame)
    assert d["fits"].tolist() == [True, True, True]
    assert d["batch"].tolist() == [16.0, 394.0, 44.0]
    assert d["weights_gb"].tolist() == pytest.approx([70.6, 284.0, 141.2])


def test_frontier_trades_speed_for_cost():
    table = frontier("H100", "dense-70b", 1, gpu_hour_usd=1.9175, points=8)
    assert table["batch"].iloc[0] == 1 and table["batch"].iloc[-1] == 16
    assert table["tokens_per_s_per_user"].is_monotonic_decreasing
    assert table["cost_floor_usd_per_mtok"].is_monotonic_decreasing
    assert (table["cost_estimate_usd_per_mtok"] >= table["cost_floor_usd_per_mtok"]).all()
    assert frontier("H100", "moe-284b-a13b", 1).empty


# --------------------------------------------------------------------------- CLI


def _json(capsys, argv):
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_bound_json(capsys):
    data = _json(capsys, ["bound", "--gpu", "H100", "--model", "dense-70b", "--format", "json"])["bound"]
    assert data["min_gpus"] == 1 and data["fits"] is True and data["batch"] == 16
    tps = 16 * 3.35e12 / (70.6e9 + 16 * 335_544_320)
    assert data["tokens_per_s_per_gpu_bound"] == pytest.approx(tps)
    assert data["tokens_per_s_per_user"] == pytest.approx(tps / 16)
    assert data["cost_floor_usd_per_mtok"] == pytest.approx(cost_per_mtok(data["gpu_hour_usd"], tps))
    assert data["gpu_hour_usd"] == pytest.approx(1.9175, abs=1e-3)  # the seed's H100 hour


def test_cli_bound_moe_on_one_h100_does_not_fit(capsys):
    data = _json(capsys, ["bound", "--gpu", "h100-sxm", "--model", "moe-284b-a13b", "--batch", "64",
                          "--gpu-hour-usd", "2", "--format", "json"])["bound"]
    assert data["fits"] is False and data["min_gpus"] == 4
    assert data["tokens_per_s_per_gpu_bound"] < 2500  # batch 64 on one GPU's bandwidth
    assert math.isfinite(data["cost_floor_usd_per_mtok"])


def test_cli_frontier_and_plot(capsys, tmp_path):
    png = tmp_path / "frontier.png"
    data = _json(capsys, ["bound", "--gpu", "H100", "--model", "Llama-3.3-70B", "--gpus", "4",
                          "--points", "6", "--plot", str(png), "--format", "json"])
    assert len(data["frontier"]) == 6
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_table_and_errors(capsys):
    assert cli.main(["bound", "--gpu", "H100", "--model", "dense-70b", "--frontier", "--points", "4"]) == 0
    out = capsys.readouterr().out
    assert "tokens_per_s_per_gpu_bound" in out and "cost_floor_usd_per_mtok" in out
    assert cli.main(["bound", "--gpu", "TPU", "--model", "dense-70b"]) == 2
    assert "unknown GPU 'TPU'" in capsys.readouterr().err
    assert cli.main(["bound", "--gpu", "H100", "--model", "dense-70b", "--batch", "0"]) == 2
    assert "batch must be > 0" in capsys.readouterr().err
