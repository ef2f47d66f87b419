"""The physics check as an inference engineer uses it: weight and KV precisions, input and
output lengths, an interactivity target, the compute side of a decode step (attention at
the KV precision, MLA's absorbed decode), linear-attention state, the expert-parallel
all-to-all in the estimate, and validation on the newer published measurements.

Hand numbers are worked in the comments; tolerances rel 1e-9 unless stated."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tokencost import cli
from tokencost.analysis.physics_checks import (bound, deployment_bounds, frontier, physics_flags,
                                               published_rows, published_validation,
                                               validation_summary)
from tokencost.core import physics as ph
from tokencost.errors import InputError
from tokencost.excel import udfs
from tokencost.excel.arguments import xlwings_call
from tokencost.inputs.catalog import find_architecture, find_gpu, load_physics_assumptions
from tokencost.inputs.validate import prepare

REL = 1e-9

# --------------------------------------------------------------------------- core: FLOPs


def test_attention_flops_gqa_and_mla_absorbed():
    # GQA: 2 x layers x heads x (d + d) x context = 4 x 80 x 64 x 128 x 1000
    assert ph.attention_flops_per_token(80, 64, 128, 1000) == pytest.approx(4 * 80 * 64 * 128 * 1000)
    # MLA (DeepSeek-V3): 2 x 61 x 128 x (576 + 512) per attended token, 3.4x the 128-dim heads
    mla = ph.attention_flops_per_token(61, 128, 128, 2000, kv_latent_dim=576, kv_lora_rank=512)
    assert mla == pytest.approx(2 * 61 * 128 * 1088 * 2000, rel=REL)
    assert mla / ph.attention_flops_per_token(61, 128, 128, 2000) == pytest.approx(1088 / 256)
    # linear-attention layers (window 0) attend to nothing: a quarter of the layers is left
    assert ph.attention_flops_per_token(60, 32, 256, 8000, 0.75, 0) == pytest.approx(
        4 * 60 * 32 * 256 * 8000 * 0.25, rel=REL)
    assert ph.decode_flops_per_token(37e9, 61, 128, 128, 2000, kv_latent_dim=576,
                                     kv_lora_rank=512) == pytest.approx(74e9 + mla, rel=REL)
    with pytest.raises(InputError, match="kv_lora_rank must be <= kv_latent_dim"):
        ph.attention_flops_per_token(61, 128, 128, 10, kv_latent_dim=576, kv_lora_rank=600)


def test_decode_context_and_state():
    assert ph.decode_context_tokens(1000, 1000) == 1500.0
    assert ph.decode_context_tokens(np.array([0, 8192]), 1024).tolist() == [512.0, 8704.0]
    with pytest.raises(InputError, match="output_tokens must be > 0, got 0"):
        ph.decode_context_tokens(100, 0)
    # 2 sequences x (1,000 B/token x 500 tokens + a 1 MB state)
    assert ph.kv_cache_bytes(1000.0, 2, 500, state_bytes_per_sequence=1e6) == pytest.approx(3e6)


def test_bound_step_sums_gemm_and_attention_at_their_own_peaks():
    # dense 70B, FP4 weights (0.5 B) on a 9,000-TFLOP FP4 / 4,500-TFLOP FP8 GPU, FP8 KV:
    # batch 10,000 at 100 tokens is compute-bound (memory: (35 GB + 10,000 x 16.4 MB) / 8 TB/s
    # = 24.9 ms): 10,000 x (140e9 / 9e15 + 4 x 80 x 64 x 128 x 100 / 4.5e15) = 156.1 ms
    kw = dict(attention_peak_tflops=4500)
    t = ph.decode_step_time_bound_s(70e9, 70e9, 1, 1, 80, 64, 128, 163_840, 0.5, 8.0, 9000,
                                    10_000, 100, **kw)
    expected = 10_000 * (140e9 / 9e15 + 4 * 80 * 64 * 128 * 100 / 4.5e15)
    assert t == pytest.approx(expected, rel=REL)
    # without the attention peak the old single-precision roofline
    t_one = ph.decode_step_time_bound_s(70e9, 70e9, 1, 1, 80, 64, 128, 163_840, 0.5, 8.0, 9000,
                                        10_000, 100)
    assert t_one == pytest.approx(10_000 * (140e9 + 4 * 80 * 64 * 128 * 100) / 9e15, rel=REL)
    assert t > t_one
    # memory-bound at batch 1: (35 GB + 163,840 x 1000 B) / 8 TB/s
    t1 = ph.decode_step_time_bound_s(70e9, 70e9, 1, 1, 80, 64, 128, 163_840, 0.5, 8.0, 9000, 1,
                                     1000, **kw)
    assert t1 == pytest.approx((35e9 + 163_840_000) / 8e12, rel=REL)


def test_prefill_bound_at_two_peaks():
    # 2 x 70e9 at 9 PFLOP/s + attention over half a 2,000-token prompt at 4.5 PFLOP/s
    attention = 2 * 80 * 64 * 128 * 2000
    rate = ph.prefill_tokens_per_s_bound(70e9, 80, 64, 128, 2000, 9000, attention_peak_tflops=4500)
    assert rate == pytest.approx(1 / (140e9 / 9e15 + attention / 4.5e15), rel=REL)
    assert ph.prefill_tokens_per_s_estimate(70e9, 80, 64, 128, 2000, 9000, flops_efficiency=0.5,
                                            attention_peak_tflops=4500) == pytest.approx(rate / 2)


# --------------------------------------------------------------------------- core: all-to-all


def test_expert_parallel_bytes_per_token():
    # DeepSeek-V3 on 48 GPUs, FP8 dispatch + BF16 combine: each token reaches
    # 47 x (1 - (47/48)^8) = 7.29 other GPUs in each of 58 MoE layers
    reached = 47 * (1 - (47 / 48) ** 8)
    assert ph.expert_parallel_bytes_per_token(7168, 58, 256, 8, 48, 1, 2) == pytest.approx(
        58 * 7168 * reached * 3, rel=REL)
    assert reached == pytest.approx(7.29, abs=0.005)
    assert ph.expert_parallel_bytes_per_token(7168, 58, 256, 8, 1, 1, 2) == 0.0   # one GPU
    assert ph.expert_parallel_bytes_per_token(8192, 0, 1, 1, 8, 1, 2) == 0.0      # dense


def test_all_to_all_bandwidth_nvlink_domain_and_network():
    assert ph.all_to_all_bandwidth_gb_s(8, 450, 8, 50) == 450.0          # one HGX board
    assert ph.all_to_all_bandwidth_gb_s(48, 900, 72, 50) == 900.0        # within an NVL72 rack
    # 32 H200: 24 of 31 peers behind 50 GB/s NICs, 7 on NVLink; both links at once
    assert ph.all_to_all_bandwidth_gb_s(32, 450, 8, 50) == pytest.approx(
        1 / max(7 / 31 / 450, 24 / 31 / 50), rel=REL)


def test_estimate_adds_communication_and_stays_below_the_bound():
    args = (671e9, 37e9, 256, 8, 61, 128, 128, 35_136, 1.0, 8.0, 5000, 4096, 2000)
    kw = dict(gpus=48, kv_latent_dim=576, kv_lora_rank=512)
    nbytes = ph.expert_parallel_bytes_per_token(7168, 58, 256, 8, 48, 1, 2)
    quiet = ph.decode_step_time_estimate_s(*args, **kw, bandwidth_efficiency=0.8,
                                           flops_efficiency=0.4)
    loud = ph.decode_step_time_estimate_s(*args, **kw, bandwidth_efficiency=0.8,
                                          flops_efficiency=0.4, ep_bytes_per_token=nbytes,
                                          interconnect_gb_s=900, interconnect_efficiency=0.7)
    # the all-to-all of 4,096 tokens over 48 GPUs at 900 x 0.7 GB/s each
    assert loud - quiet == pytest.approx(4096 * nbytes / (48 * 900e9 * 0.7), rel=1e-9)
    assert ph.decode_step_time_bound_s(*args, **kw) <= quiet


# --------------------------------------------------------------------------- core: interactivity


def test_batch_for_tokens_per_s_per_user_dense_closed_form():
    # dense 70B FP8 on one H100 at 2,048 tokens: t(B) = (70.6e9 + B x 335,544,320) / 3.35e12
    # (memory-bound throughout); 30 tok/s per user needs t <= 1/30:
    # B <= (3.35e12 / 30 - 70.6e9) / 335,544,320 = 122.39
    args = dict(total_params=70.6e9, active_params=70.6e9, experts=1, active_experts=1, layers=80,
                attention_heads=64, head_dim=128, kv_bytes_per_token=163_840,
                weight_bytes_per_param=1.0, memory_bandwidth_tb_s=3.35, peak_tflops=1979,
                context_tokens=2048)
    assert ph.decode_batch_for_tokens_per_s_per_user(30, 1000, **args) == 122.0
    assert ph.decode_batch_for_tokens_per_s_per_user(30, 16, **args) == 16.0      # memory caps it
    assert ph.decode_batch_for_tokens_per_s_per_user(60, 1000, **args) == 0.0     # batch 1: 47 tok/s
    many = ph.decode_batch_for_tokens_per_s_per_user(np.array([10.0, 30, 46, 48]), 1e6, **args)
    assert many.tolist() == [float(np.floor((3.35e12 / x - 70.6e9) / 335_544_320)) if
                             3.35e12 / x > 70.6e9 + 335_544_320 else 0.0 for x in [10, 30, 46, 48]]


@pytest.mark.parametrize("estimate", [False, True])
def test_batch_for_target_is_the_largest_meeting_it_moe(estimate):
    """MoE (concave weight traffic) and the estimate's sum of maxima: the batch found meets
    the target and the next one does not (checked against the step-time functions)."""
    shape = dict(total_params=671e9, active_params=37e9, experts=256, active_experts=8,
                 layers=61, attention_heads=128, head_dim=128, kv_bytes_per_token=35_136,
                 weight_bytes_per_param=1.0, memory_bandwidth_tb_s=4.8, peak_tflops=1979,
                 context_tokens=3000, gpus=8, kv_latent_dim=576, kv_lora_rank=512)
    extra = dict(bandwidth_efficiency=0.5, flops_efficiency=0.35,
                 ep_bytes_per_token=1e6, interconnect_gb_s=450) if estimate else {}
    step = ph.decode_step_time_estimate_s if estimate else ph.decode_step_time_bound_s
    for target in (5.0, 20.0, 50.0):
        b = ph.decode_batch_for_tokens_per_s_per_user(target, 100_000, **shape,
                                                      estimate=estimate, **extra)
        assert b >= 1
        assert 1 / step(batch_size=b, **shape, **extra) >= target * (1 - 1e-12)
        assert 1 / step(batch_size=b + 1, **shape, **extra) < target


# --------------------------------------------------------------------------- deployments


def test_llama4_at_fp8_fits_and_bounds_where_it_runs():
    """The issue's case: Llama 4 published at FP8 (TensorRT-LLM perf-overview) bounded at the
    catalog's BF16 fell below measured rates, or did not fit on 8 H100."""
    measured_h200 = 40_572 / 8                 # Maverick 8 x H200 FP8, 128 in / 2,048 out
    at_bf16 = bound("H200", "Llama-4-Maverick", 8, input_tokens=128, output_tokens=2048)
    at_fp8 = bound("H200", "Llama-4-Maverick", 8, input_tokens=128, output_tokens=2048,
                   weight_precision="fp8", kv_precision="fp8")
    assert at_bf16["weight_precision"] == "bf16" and at_fp8["weight_precision"] == "fp8"
    assert at_fp8["weight_precision_source"] == "--weight-precision"
    assert at_bf16["weight_precision_source"] == "catalog (Llama-4-Maverick)"
    assert at_fp8["tokens_per_s_per_gpu_bound"] > measured_h200 > 0.9 * at_bf16[
        "tokens_per_s_per_gpu_bound"]
    assert at_fp8["weights_gb"] == pytest.approx(400.0) and at_bf16["weights_gb"] == 800.0
    h100 = bound("H100", "Llama-4-Maverick", 8, weight_precision="fp8")
    assert h100["fits"] and not bound("H100", "Llama-4-Maverick", 8)["fits"]
    assert h100["tokens_per_s_per_gpu_bound"] > 10_829 / 8


def test_input_output_tokens_set_the_context_and_add_serving():
    r = bound("H100", "dense-70b", 1, input_tokens=1000, output_tokens=1000)
    assert r["context_tokens"] == 1500.0 and r["input_tokens"] == 1000.0
    same = bound("H100", "dense-70b", 1, context_tokens=1500)
    assert r["tokens_per_s_per_gpu_bound"] == pytest.approx(same["tokens_per_s_per_gpu_bound"])
    assert same["serving_tokens_per_s_per_gpu_bound"] is None
    # the serving bound adds the prefill, so it is at most the decode bound
    assert 0 < r["serving_tokens_per_s_per_gpu_bound"] <= r["tokens_per_s_per_gpu_bound"]
    assert r["serving_tokens_per_s_per_gpu_estimate"] < r["tokens_per_s_per_gpu_estimate"]


def test_interactivity_target_in_bound():
    # Llama-3.1-8B (BF16) on one H100 at 2,048 tokens: 16.06 GB of weights, 268 MB of KV per
    # sequence, 223 fit; the bound meets 100 tok/s per user up to
    # (3.35e12 / 100 - 16.06e9) / 268.4e6 = 64.99 sequences, the estimate (90 % of bandwidth)
    # up to (0.9 x 3.35e12 / 100 - 16.06e9) / 268.4e6 = 52.5
    r = bound("H100", "Llama-3.1-8B", 1, tokens_per_s_per_user=100.0, gpu_hour_usd=2.0)
    kv = 2 * 32 * 8 * 128 * 2 * 2048
    assert r["batch"] == np.floor((3.35e12 / 100 - 16.06e9) / kv)
    assert r["batch_estimate"] == np.floor((0.9 * 3.35e12 / 100 - 16.06e9) / kv)
    assert r["max_batch_fits"] == 223
    assert r["tokens_per_s_per_user"] >= 100.0
    assert bound("H100", "Llama-3.1-8B", 1, batch_size=r["batch"] + 1)["tokens_per_s_per_user"] < 100
    assert r["tokens_per_s_per_user_estimate"] >= 100.0 * (1 - 1e-12)
    assert r["cost_floor_usd_per_mtok"] == pytest.approx(
        2.0 / (r["tokens_per_s_per_gpu_bound"] * 3600 / 1e6), rel=REL)
    assert r["cost_estimate_usd_per_mtok"] == pytest.approx(
        2.0 / (r["tokens_per_s_per_gpu_estimate"] * 3600 / 1e6), rel=REL)
    # below what memory caps: the largest batch that fits
    slow = bound("H100", "Llama-3.1-8B", 1, tokens_per_s_per_user=10.0)
    assert slow["batch"] == slow["batch_estimate"] == 223
    # above the estimate's batch-1 speed (0.9 x 205 tok/s) but within the bound's: no estimate
    fast = bound("H100", "Llama-3.1-8B", 1, tokens_per_s_per_user=200.0)
    assert fast["batch"] >= 1 and fast["batch_estimate"] is None
    assert fast["tokens_per_s_per_gpu_estimate"] is None and fast["cost_estimate_usd_per_mtok"] is None


def test_deepseek_production_decode_at_20_tokens_per_user():
    """DeepSeek serves V3/R1 decode on EP144 over 18 H800 nodes at 20-22 tok/s per user, with
    an average KV length of 4,989 tokens and MLA in BF16 (open-infra-index, day 6): the bound
    at 20 tok/s per user is compute-bound, attention at BF16 taking more tensor-core time than
    the FP8 weight GEMMs; the estimate adds the all-to-all over 50 GB/s NICs for 136 of 143 peers."""
    r = bound("H800", "DeepSeek-V3", 144, context_tokens=4989, tokens_per_s_per_user=20)
    assert r["kv_precision"] == "bf16" and r["attention_peak_tflops"] == 989
    assert r["bound_by"] == "compute" and r["tokens_per_s_per_user"] >= 20
    attention_s = 2 * 61 * 128 * 1088 * 4989 / 989e12      # 85.7 us a token on one GPU
    gemm_s = 2 * 37e9 / 1979e12                               # 37.4 us
    assert attention_s > 2 * gemm_s
    # compute-bound at the largest batch that fits: 1 / (attention + GEMM seconds) per GPU
    assert r["tokens_per_s_per_gpu_bound"] == pytest.approx(1 / (attention_s + gemm_s), rel=1e-9)
    assert r["tokens_per_s_per_gpu_bound"] > 1850       # DeepSeek's measured 14.8k per node / 8
    assert r["interconnect_gb_s"] == pytest.approx(1 / max(7 / 143 / 200, 136 / 143 / 50))
    assert r["tokens_per_s_per_user_estimate"] >= 20 * (1 - 1e-12)
    assert r["communication_time_s"] > 0.25 * (1 / 20)   # a large share of the 50 ms step


def test_linear_attention_state_counts_in_memory():
    """Qwen3.5's 45 Gated DeltaNet layers keep 48.8M state values per sequence: on one decode
    endpoint of 8 GB200 at NVFP4 / FP8 and 8k/1k requests the batch that fits is 6,656 (5,253
    with the state in BF16, as the vLLM post ran it), where the post saw KV capacity run out
    near 5,120 concurrent requests; without the state it would be 9,088."""
    d = deployment_bounds(pd.DataFrame({"gpu": ["GB200"], "architecture": ["Qwen3.5-397B-A17B"],
                                        "gpus": [8], "input_tokens": [8192], "output_tokens": [1024],
                                        "weight_precision": ["nvfp4"],
                                        "kv_precision": ["fp8"]})).iloc[0]
    kv_token = 60 * 2 * 2 * 256 * 1.0
    per_seq = kv_token * 0.25 * (8192 + 512) + 48_844_800 * 1.0
    assert d["kv_gb_per_sequence"] == pytest.approx(per_seq / 1e9, rel=REL)
    usable = 8 * 186e9 * 0.95
    assert d["max_batch_fits"] == np.floor((usable - 397e9 * 0.5) / per_seq)
    assert d["max_batch_fits"] == 6656
    no_state = np.floor((usable - 397e9 * 0.5) / (kv_token * 0.25 * (8192 + 512)))
    assert no_state == 9088


def test_bad_inputs_give_one_line_errors():
    with pytest.raises(InputError, match=r"weight-precision: unknown precision 'fp5'; known: "):
        bound("H100", "dense-70b", weight_precision="fp5")
    with pytest.raises(InputError, match=r"kv-precision: unknown precision 'q3'"):
        bound("H100", "dense-70b", kv_precision="q3")
    with pytest.raises(InputError, match="output-tokens must be > 0, got 0"):
        bound("H100", "dense-70b", input_tokens=10, output_tokens=0)
    with pytest.raises(InputError, match="above the batch-1 bound of 47.2 tok/s per user"):
        bound("H100", "dense-70b", tokens_per_s_per_user=50)
    with pytest.raises(InputError, match="give --output-tokens with --input-tokens"):
        bound("H100", "dense-70b", input_tokens=10)
    with pytest.raises(InputError, match="not both"):
        bound("H100", "dense-70b", context_tokens=10, output_tokens=10)
    with pytest.raises(InputError, match="not both"):
        bound("H100", "dense-70b", batch_size=4, tokens_per_s_per_user=10)
    with pytest.raises(InputError, match="weight_precision: unknown precision 'fp7'"):
        deployment_bounds(pd.DataFrame({"gpu": ["H100"], "architecture": ["dense-70b"],
                                        "weight_precision": ["fp7"]}))


def test_frontier_with_target_and_precisions():
    table = frontier("H200", "Llama-4-Maverick", 8, gpu_hour_usd=3.0, points=6,
                     weight_precision="fp8", kv_precision="fp8", input_tokens=1000,
                     output_tokens=1000, tokens_per_s_per_user=100)
    assert table["tokens_per_s_per_user"].is_monotonic_decreasing
    assert table["cost_floor_usd_per_mtok"].is_monotonic_decreasing
    r = bound("H200", "Llama-4-Maverick", 8, weight_precision="fp8", kv_precision="fp8",
              input_tokens=1000, output_tokens=1000, tokens_per_s_per_user=100)
    row = table.set_index("batch").loc[r["batch"]]
    assert row["tokens_per_s_per_gpu_bound"] == pytest.approx(r["tokens_per_s_per_gpu_bound"])
    assert bool(row["meets_target"])
    assert not table.loc[table["batch"] > r["batch"], "meets_target"].any()
    assert r["batch_estimate"] in set(table["batch"])


# --------------------------------------------------------------------------- model profiles


def test_profile_precisions_change_the_check(seed_raw):
    raw = {k: v.copy() for k, v in seed_raw.items()}
    raw["Models"].loc[0, "weight_precision"] = "bf16"     # dense-70b at BF16: 141 GB on 80 GB
    flags = physics_flags(prepare(raw)).set_index("model")
    assert not flags.loc["dense-70b", "fits"] and flags.loc["dense-70b", "min_gpus"] == 2
    assert "(141 GB at BF16)" in flags.loc["dense-70b", "reason"]
    raw["Models"].loc[0, "weight_precision"] = ""
    raw["Models"].loc[0, "kv_precision"] = "FP4"          # names ignore case
    flags = physics_flags(prepare(raw)).set_index("model")
    assert flags.loc["dense-70b", "bound_batch"] == 32    # half the KV bytes, twice the batch


def test_profile_precision_names_are_checked(seed_raw):
    raw = {k: v.copy() for k, v in seed_raw.items()}
    raw["Models"].loc[1, "kv_precision"] = "fp5"
    with pytest.raises(InputError) as err:
        prepare(raw)
    assert "kv_precision 'fp5' is not one of bf16, fp16, fp8" in str(err.value)


# --------------------------------------------------------------------------- functions and CLI


def test_udfs_take_precisions_and_a_target():
    at_fp8 = bound("H100", "Llama-4-Maverick", 8, context_tokens=1500, weight_precision="fp8",
                   kv_precision="fp8")
    assert udfs.DECODE_TPS_BOUND("H100", "Llama-4-Maverick", 8, None, 1500, "FP8", "fp8") == \
        at_fp8["tokens_per_s_per_gpu_bound"]
    target = bound("H100", "dense-70b", 1, tokens_per_s_per_user=40)
    assert xlwings_call(udfs.DECODE_TPS_BOUND, "H100", "dense-70b", 1, None, None, None, None,
                        40) == [[target["tokens_per_s_per_gpu_bound"]]]
    assert udfs.MIN_GPUS("H100", "Llama-4-Maverick", None, None, "fp8") == 6.0
    assert udfs.MIN_GPUS("H100", "Llama-4-Maverick") == 11.0
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, None, None, "fp5") == (
        "weight_precision 'fp5' is not one of bf16, fp16, fp8, int8, fp4, nvfp4, mxfp4, int4, fp32")
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, None, None, None, None, 60) == (
        "tokens_per_s_per_user 60 is above what batch 1 allows for dense-70b on 1 H100")
    assert udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, 8, None, None, None, 10) == (
        "give batch_size or tokens_per_s_per_user, not both")
    row = xlwings_call(udfs.DECODE_TPS_BOUND, "H100", "dense-70b", 1, None, None,
                       [["fp8", "bf16", "nope"]])
    assert row[0][0] == bound("H100", "dense-70b")["tokens_per_s_per_gpu_bound"]
    assert row[0][1].startswith("dense-70b does not fit on 1 H100")
    assert row[0][2].startswith("weight_precision 'nope' is not one of")


def _json(capsys, argv):
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_bound_flags(capsys, tmp_path):
    data = _json(capsys, ["bound", "--gpu", "H200", "--model", "Llama-4-Maverick", "--gpus", "8",
                          "--weight-precision", "fp8", "--kv-precision", "fp8",
                          "--input-tokens", "1000", "--output-tokens", "1000",
                          "--tokens-per-s-per-user", "50", "--gpu-hour-usd", "3",
                          "--frontier", "--points", "5", "--plot", str(tmp_path / "f.png"),
                          "--format", "json"])
    b = data["bound"]
    expected = bound("H200", "Llama-4-Maverick", 8, None, None, 3.0, weight_precision="fp8",
                     kv_precision="fp8", input_tokens=1000, output_tokens=1000,
                     tokens_per_s_per_user=50)
    for key in ("batch", "batch_estimate", "tokens_per_s_per_gpu_bound",
                "tokens_per_s_per_gpu_estimate", "cost_floor_usd_per_mtok",
                "cost_estimate_usd_per_mtok", "context_tokens"):
        assert b[key] == pytest.approx(expected[key])
    assert b["weight_precision"] == "fp8" and b["kv_precision_source"] == "--kv-precision"
    assert any(row["meets_target"] for row in data["frontier"])
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["--weight-precision", "fp5"], "weight-precision: unknown precision 'fp5'"),
    (["--output-tokens", "0"], "output-tokens must be > 0, got 0"),
    (["--tokens-per-s-per-user", "5000"], "above the batch-1 bound"),
    (["--input-tokens", "100"], "give --output-tokens with --input-tokens"),
])
def test_cli_bound_errors_are_one_line(capsys, argv, message):
    assert cli.main(["bound", "--gpu", "H100", "--model", "dense-70b"] + argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def newer():
    return pd.read_csv("tests/data/published_throughput_2026.csv")


@pytest.fixture(scope="module")
def all_validation(newer):
    older = pd.read_csv("tests/data/published_throughput.csv")
    return pd.concat([published_validation(older), published_validation(newer)],
                     ignore_index=True)


def test_newer_rows_read_as_their_metric_says(newer):
    rows = published_rows(newer)
    assert list(rows["metric"].unique()) == ["decode", "prefill", "total"]
    # InferenceX counts input + output tokens: the output share of 12,981.3 at 8k/1k
    llama = rows.iloc[8]
    assert llama["measured_tokens_per_s_per_gpu"] == pytest.approx(12981.3 * 1024 / 9216)
    assert llama["tokens_per_s_per_user"] == 15.6 and llama["gpus"] == 1
    # a blank KV precision is the published-runs assumption; a stated batch is used
    assert rows.iloc[5]["kv_precision"] == load_physics_assumptions()["published_kv_precision"]
    assert rows.iloc[1]["batch_size"] == 1408 * 48
    assert set(rows["subset"]) == {"dense", "moe", "disaggregated"}
    with pytest.raises(InputError, match="unknown metric 'tokens'"):
        published_rows(newer.assign(metric="tokens"))


def test_bound_holds_on_every_published_row(all_validation):
    v = all_validation
    with pd.option_context("display.width", 220, "display.max_rows", 300):
        print(v[["model", "gpu", "gpus", "weight_precision", "kv_precision", "metric", "subset",
                 "measured_tokens_per_s_per_gpu", "bound", "bound_ratio",
                 "estimate_error"]].round(3).to_string())
    assert len(v) == 173 and v["bound"].notna().all()
    assert (v["bound_ratio"] >= 1.0).all(), v.loc[v["bound_ratio"] < 1]
    assert (v["serving_ratio"].dropna() >= 1.0).all()
    # the rows at a stated per-user speed are bounded at that interactivity
    rated = v["tokens_per_s_per_user"].notna()
    assert rated.sum() == 6 and (v.loc[rated, "batch"] > 0).all()


def test_validation_summary_per_subset(all_validation):
    summary = validation_summary(all_validation).set_index("subset")
    print("\n" + summary.round(3).to_string())
    assert summary.loc["dense", "rows"] == 76 and summary.loc["moe", "rows"] == 87
    assert summary.loc["disaggregated", "rows"] == 10 and summary.loc["all", "rows"] == 173
    assert (summary["bound_ratio_min"] >= 1).all()
    # the goal: the estimate within 25 % median on the decode rows and on every subset
    assert (summary["estimate_median_abs_error"] <= 0.25).all()
    assert summary.loc["decode rows", "estimate_median_abs_error"] == pytest.approx(0.213, abs=0.003)


def test_catalog_has_the_published_models():
    for name, experts, moe_layers in [("MiniMax-M2.5", 256, 62), ("Qwen3.5-397B-A17B", 512, 60),
                                      ("Kimi-K2.6", 384, 60), ("DeepSeek-V3", 256, 58)]:
        arch = find_architecture(name)
        assert arch["experts"] == experts and arch["moe_layers"] == moe_layers
        assert len(arch["source"]) > 100
    assert find_architecture("deepseek-r1")["kv_lora_rank"] == 512
    assert find_gpu("GB200")["scaleup_domain_gpus"] == 72
    assert find_gpu("H800")["scaleup_gb_s"] == 200
