"""Orchestration of the physics check: catalogs + deployments -> the core -> tables.

:func:`deployment_bounds` is the one place that turns "model X on N GPUs of
type Y at batch B and context C" into memory needs, the decode roofline, the
estimate and the cost floor, vectorized over rows; the CLI (``tokencost
bound``), the model-profile flags (:func:`physics_flags`), the frontier and the
validation against published measurements all call it. The formulas are in
:mod:`tokencost.core.physics`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from ..inputs import catalog as cat
from ..core import physics as ph
from ..errors import InputError

BYTES_PER_GB = 1e9

#: columns :func:`deployment_bounds` adds, in order
BOUND_COLUMNS = [
    "gpu", "architecture", "gpus", "batch_size", "input_tokens", "output_tokens",
    "context_tokens", "weight_precision", "kv_precision", "memory_gb", "memory_bandwidth_tb_s",
    "peak_tflops", "attention_peak_tflops", "weights_gb", "kv_bytes_per_token",
    "kv_gb_per_sequence", "memory_needed_gb", "memory_usable_gb", "min_gpus_weights",
    "min_gpus", "fits", "max_batch_fits", "tokens_per_s_per_user_target", "batch",
    "step_time_s", "memory_time_s", "compute_time_s", "bound_by",
    "tokens_per_s_per_gpu_bound", "tokens_per_s_per_user", "batch_estimate",
    "interconnect_gb_s", "communication_time_s", "tokens_per_s_per_gpu_estimate",
    "tokens_per_s_per_user_estimate", "prefill_tokens_per_s_per_gpu_bound",
    "prefill_tokens_per_s_per_gpu_estimate", "serving_tokens_per_s_per_gpu_bound",
    "serving_tokens_per_s_per_gpu_estimate",
]


def _assumptions(assumptions: Optional[dict]) -> dict:
    base = cat.load_physics_assumptions()
    if assumptions:
        base.update(assumptions)
    return base


def _length(value) -> Optional[float]:
    """An assumption that may be blank (``""``): None, else the number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("physics_assumptions", f"must be a number or blank, got {value!r}") from None
    return None if np.isnan(number) else number


def default_context(assumptions: Optional[dict] = None) -> float:
    """The context a deployment that names none attends to [tokens]: input_tokens +
    output_tokens / 2 when the assumption ``output_tokens`` is set (blank input = 0),
    else the assumption ``context_tokens``."""
    a = _assumptions(assumptions)
    out = _length(a.get("output_tokens"))
    if out is None:
        return float(a["context_tokens"])
    inp = _length(a.get("input_tokens"))
    return float(ph.decode_context_tokens(0.0 if inp is None else inp, out))


def _column(frame: pd.DataFrame, name: str, default) -> pd.Series:
    if name in frame.columns:
        col = frame[name]
        if isinstance(default, str):
            return col.fillna("").astype(str).str.strip().where(
                col.fillna("").astype(str).str.strip() != "", default)
        return pd.to_numeric(col, errors="coerce").fillna(default) if default is not None else \
            pd.to_numeric(col, errors="coerce")
    return pd.Series([default] * len(frame), index=frame.index,
                     dtype=object if isinstance(default, str) else float)


def resolve(frame: pd.DataFrame, gpus_catalog: Optional[pd.DataFrame] = None,
            architectures: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Join deployments to the catalogs.

    *frame* has columns ``gpu`` and ``architecture`` (names as people write
    them) and optionally ``weight_precision`` / ``kv_precision`` (blank: the
    architecture's own) and ``memory_gb`` / ``memory_bandwidth_tb_s`` (blank:
    the GPU catalog's). Returns one row per input row with the catalog numbers,
    ``gpu_known`` / ``architecture_known`` flags, the canonical names, bytes per
    weight and per KV value, the tensor peak at the weight precision
    (``peak_tflops``, the GEMMs) and at the KV precision
    (``attention_peak_tflops``, attention). An unknown precision name raises
    :class:`~tokencost.errors.InputError` naming the column and the known names.
    """
    gpus_catalog = cat.load_gpu_catalog() if gpus_catalog is None else gpus_catalog
    architectures = cat.load_model_architectures() if architectures is None else architectures
    gi = cat.gpu_index(gpus_catalog, frame["gpu"].fillna(""))
    ai = cat.architecture_index(architectures, frame["architecture"].fillna(""))
    g = gpus_catalog.reindex(np.where(gi >= 0, gi, len(gpus_catalog))).reset_index(drop=True)
    a = architectures.reindex(np.where(ai >= 0, ai, len(architectures))).reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    out["gpu_input"] = frame["gpu"].to_numpy()
    out["architecture_input"] = frame["architecture"].fillna("").to_numpy()
    out["gpu_known"] = gi >= 0
    out["architecture_known"] = ai >= 0
    out["gpu"] = np.where(gi >= 0, g["gpu"].fillna("").to_numpy(), frame["gpu"].to_numpy())
    out["architecture"] = np.where(ai >= 0, a["architecture"].fillna("").to_numpy(),
                                   out["architecture_input"].to_numpy())
    for column in ["memory_gb", "memory_bandwidth_tb_s"]:
        own = _column(frame, column, None).to_numpy()
        out[column] = np.where(np.isnan(own), g[column].to_numpy(dtype=float), own)
    for column in ["bf16_tflops", "fp8_tflops", "fp4_tflops", "scaleup_gb_s",
                   "scaleup_domain_gpus", "scaleout_gb_s"]:
        out[column] = (g[column].to_numpy(dtype=float) if column in g.columns
                       else np.full(len(g), np.nan))
    for column in cat.ARCHITECTURE_NUMBER_COLUMNS:
        if column in a.columns:
            out[column] = a[column].to_numpy(dtype=float)
        else:   # a catalog from before the column existed: 0 (no MLA value part, state, MoE layers)
            out[column] = np.where(ai >= 0, 0.0, np.nan)
    for column in cat.ARCHITECTURE_OPTIONAL_COLUMNS:
        out[column] = np.where((ai >= 0) & np.isnan(out[column].to_numpy()), 0.0,
                               out[column].to_numpy())
    for column in ["weight_precision", "kv_precision"]:
        own = _column(frame, column, "").to_numpy()
        out[column] = np.where(own != "", own, a[column].fillna("").to_numpy()).astype(object)
        out[column] = out[column].astype(str).str.strip().str.casefold()
    known = (out["gpu_known"] & out["architecture_known"]).to_numpy()
    for column, target in [("weight_precision", "weight_bytes_per_param"),
                           ("kv_precision", "kv_bytes_per_value")]:
        names = out[column].to_numpy()
        sizes = {name: cat.precision_bytes(name, column) for name in set(names[known])}
        out[target] = [sizes[n] if ok else np.nan for n, ok in zip(names, known)]
    out["peak_tflops"] = _peaks(out, known, "weight_precision")
    out["attention_peak_tflops"] = _peaks(out, known, "kv_precision")
    return out


def _peaks(resolved: pd.DataFrame, known: np.ndarray, column: str = "weight_precision") -> np.ndarray:
    """Dense peak [TFLOP/s] for math at each row's *column* precision, vectorized by precision
    (FP4 falls back to FP8, FP8 to BF16 where the GPU lacks the format)."""
    precision = resolved[column].to_numpy()
    peaks = np.full(len(resolved), np.nan)
    for name in set(precision[known]):
        if name not in cat.PRECISION_PEAKS:
            cat.precision_bytes(name, column)  # raises naming the known precisions
        rows = known & (precision == name)
        for source in cat.PRECISION_PEAKS[name]:
            values = resolved[source].to_numpy(dtype=float)
            fill = rows & np.isnan(peaks) & (values > 0)
            peaks[fill] = values[fill]
    missing = known & np.isnan(peaks)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError("gpu", f"GPU {resolved['gpu'].iloc[i]!r} has no tensor peak for "
                                f"{precision[i]}")
    return peaks


def _contexts(frame: pd.DataFrame, default_context: float):
    """(input, output, decode context, prompt length) per row: input + output / 2 where
    output_tokens is given, else context_tokens, else the assumption."""
    given = _column(frame, "context_tokens", None).to_numpy(dtype=float)
    inp = _column(frame, "input_tokens", None).to_numpy(dtype=float)
    outp = _column(frame, "output_tokens", None).to_numpy(dtype=float)
    has_out = ~np.isnan(outp)
    ctx = np.where(np.isnan(given), default_context, given)
    if has_out.any():
        ctx[has_out] = ph.decode_context_tokens(np.nan_to_num(inp[has_out]), outp[has_out])
    prompt = np.where(np.isnan(inp), ctx, inp)
    return inp, outp, ctx, prompt


def deployment_bounds(frame: pd.DataFrame, assumptions: Optional[dict] = None,
                      gpus_catalog: Optional[pd.DataFrame] = None,
                      architectures: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Memory fit, decode bound, estimate and prefill bound for each deployment row.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``gpu``, ``architecture`` and optionally ``gpus`` [GPUs per
        replica, default 1], ``batch_size`` [sequences per replica; blank = the
        best batch that fits], ``input_tokens`` and ``output_tokens`` [tokens
        per request; where output is given the context is input + output / 2,
        :func:`tokencost.core.physics.decode_context_tokens`],
        ``context_tokens`` [tokens; used where no output is given; blank =
        :func:`default_context`], ``tokens_per_s_per_user`` [an
        interactivity target: the batch becomes the largest that meets it],
        ``weight_precision``, ``kv_precision`` (blank = the architecture's),
        ``memory_gb``, ``memory_bandwidth_tb_s`` (blank = catalog).
    assumptions : dict, optional
        Overrides of data/physics_assumptions.csv (``memory_reserve_fraction``,
        ``context_tokens``, ``bandwidth_efficiency``, ``flops_efficiency``,
        ``interconnect_efficiency``, ``ep_combine_bytes_per_value``).

    Returns
    -------
    pandas.DataFrame
        :data:`BOUND_COLUMNS` plus ``gpu_known`` / ``architecture_known``.
        ``min_gpus`` counts the KV cache of ``batch_size`` (or of one sequence
        when blank) at the context; ``fits`` is for that batch on ``gpus``;
        ``batch`` is the batch the bound is for (NaN where none fits, or where
        even batch 1 misses the per-user target), ``batch_estimate`` the one
        the estimate is for (the same, except under a per-user target: the
        largest batch whose *estimated* per-user speed meets it). Rates are per
        GPU of the group; ``memory_time_s`` / ``compute_time_s`` are the two
        sides of the bound's step, ``communication_time_s`` the estimate's
        all-to-all per step. The serving columns (prefill included) need
        ``output_tokens``. Rows with an unknown GPU or architecture carry NaN.
    """
    a = _assumptions(assumptions)
    r = resolve(frame, gpus_catalog, architectures)
    known = (r["gpu_known"] & r["architecture_known"]).to_numpy()
    reserve = float(a["memory_reserve_fraction"])
    inp, outp, ctx_all, prompt_all = _contexts(frame, default_context(a))
    out = pd.DataFrame(index=frame.index)
    out["gpu"] = r["gpu"]
    out["architecture"] = r["architecture"]
    out["gpus"] = _column(frame, "gpus", 1.0)
    out["batch_size"] = _column(frame, "batch_size", None)
    out["input_tokens"] = inp
    out["output_tokens"] = outp
    out["context_tokens"] = ctx_all
    out["tokens_per_s_per_user_target"] = _column(frame, "tokens_per_s_per_user", None)
    for column in ["weight_precision", "kv_precision", "memory_gb", "memory_bandwidth_tb_s",
                   "peak_tflops", "attention_peak_tflops"]:
        out[column] = r[column]
    out["gpu_known"] = r["gpu_known"]
    out["architecture_known"] = r["architecture_known"]
    for column in BOUND_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    out["bound_by"] = ""
    out["fits"] = False
    if not known.any():
        return out[BOUND_COLUMNS + ["gpu_known", "architecture_known"]]

    k = r.loc[known]
    o = out.loc[known]
    gpus = o["gpus"].to_numpy(dtype=float)
    ctx = ctx_all[known]
    prompt = prompt_all[known]
    weights = ph.weights_bytes(k["total_params"].to_numpy(), k["weight_bytes_per_param"].to_numpy())
    kv_token = ph.kv_bytes_per_token(k["layers"].to_numpy(), k["kv_heads"].to_numpy(),
                                     k["head_dim"].to_numpy(), k["kv_bytes_per_value"].to_numpy(),
                                     k["kv_latent_dim"].to_numpy())
    state = k["state_values_per_sequence"].to_numpy() * k["kv_bytes_per_value"].to_numpy()
    share = k["local_layer_share"].to_numpy()
    window = k["local_window_tokens"].to_numpy()
    kv_seq = ph.kv_cache_bytes(kv_token, 1.0, ctx, share, window, state)
    given = o["batch_size"].to_numpy(dtype=float)
    batch_for_memory = np.where(np.isnan(given), 1.0, given)
    kv_need = kv_seq * batch_for_memory
    mem = k["memory_gb"].to_numpy()
    max_fit = ph.max_batch_that_fits(weights, np.maximum(kv_seq, 1e-9), mem, gpus, reserve)
    shape = dict(total_params=k["total_params"].to_numpy(), active_params=k["active_params"].to_numpy(),
                 experts=k["experts"].to_numpy(), active_experts=k["active_experts"].to_numpy(),
                 layers=k["layers"].to_numpy(), attention_heads=k["attention_heads"].to_numpy(),
                 head_dim=k["head_dim"].to_numpy(), kv_bytes_per_token=kv_token,
                 weight_bytes_per_param=k["weight_bytes_per_param"].to_numpy(),
                 memory_bandwidth_tb_s=k["memory_bandwidth_tb_s"].to_numpy(),
                 peak_tflops=k["peak_tflops"].to_numpy(), context_tokens=ctx, gpus=gpus,
                 local_layer_share=share, local_window_tokens=window,
                 kv_latent_dim=k["kv_latent_dim"].to_numpy(),
                 kv_lora_rank=k["kv_lora_rank"].to_numpy(),
                 attention_peak_tflops=k["attention_peak_tflops"].to_numpy(),
                 state_bytes_per_sequence=state)
    # the estimate's expert-parallel all-to-all over the catalog's interconnect
    links = np.column_stack([k[c].to_numpy(dtype=float) for c in
                             ("scaleup_gb_s", "scaleup_domain_gpus", "scaleout_gb_s")])
    has_link = np.all(np.isfinite(links) & (links > 0), axis=1)
    link = np.full(len(k), np.inf)
    if has_link.any():
        link[has_link] = ph.all_to_all_bandwidth_gb_s(gpus[has_link], *links[has_link].T)
    ep_bytes = ph.expert_parallel_bytes_per_token(
        k["hidden_size"].to_numpy(), k["moe_layers"].to_numpy(), shape["experts"],
        shape["active_experts"], gpus, shape["weight_bytes_per_param"],
        float(a["ep_combine_bytes_per_value"]))
    # MoE decode steps reach a lower share of peak bandwidth (grouped expert GEMMs over a few
    # tokens each, routing, token permutation): their own calibrated assumption
    moe = shape["experts"] > shape["active_experts"]
    efficiency = dict(bandwidth_efficiency=np.where(moe, float(a["moe_bandwidth_efficiency"]),
                                                    float(a["bandwidth_efficiency"])),
                      flops_efficiency=float(a["flops_efficiency"]))
    comm = dict(ep_bytes_per_token=ep_bytes, interconnect_gb_s=link,
                interconnect_efficiency=float(a["interconnect_efficiency"]))
    target = o["tokens_per_s_per_user_target"].to_numpy(dtype=float)
    has_target = ~np.isnan(target)
    cap = np.where(np.isnan(given), max_fit, given)
    batch = np.where(np.isnan(given), np.where(max_fit >= 1, max_fit, np.nan), given)
    batch_est = batch.copy()
    if has_target.any():
        t = np.where(has_target, target, 1.0)
        at_bound = ph.decode_batch_for_tokens_per_s_per_user(t, cap, **shape)
        at_estimate = ph.decode_batch_for_tokens_per_s_per_user(t, cap, **shape, estimate=True,
                                                               **efficiency, **comm)
        batch = np.where(has_target, np.where(at_bound >= 1, at_bound, np.nan), batch)
        batch_est = np.where(has_target, np.where(at_estimate >= 1, at_estimate, np.nan),
                             batch_est)
    b = np.where(np.isnan(batch), 1.0, batch)  # placeholder; masked below
    b_est = np.where(np.isnan(batch_est), 1.0, batch_est)
    bound = ph.decode_tokens_per_s_bound(batch_size=b, **shape)
    estimate = ph.decode_tokens_per_s_estimate(batch_size=b_est, **shape, **efficiency, **comm)
    w_read = ph.weights_bytes_read_per_step(shape["total_params"], shape["active_params"],
                                            shape["experts"], shape["active_experts"], b,
                                            shape["weight_bytes_per_param"])
    gemm = 2.0 * shape["active_params"] * b
    attention = b * ph.attention_flops_per_token(shape["layers"], shape["attention_heads"],
                                                 shape["head_dim"], ctx, share, window,
                                                 shape["kv_latent_dim"], shape["kv_lora_rank"])
    t_mem = (w_read + kv_seq * b) / (gpus * shape["memory_bandwidth_tb_s"] * 1e12)
    t_flop = (gemm / (shape["peak_tflops"] * 1e12)
              + attention / (shape["attention_peak_tflops"] * 1e12)) / gpus
    valid = ~np.isnan(batch)
    valid_est = ~np.isnan(batch_est)
    idx = o.index
    out.loc[idx, "weights_gb"] = weights / BYTES_PER_GB
    out.loc[idx, "kv_bytes_per_token"] = kv_token
    out.loc[idx, "kv_gb_per_sequence"] = kv_seq / BYTES_PER_GB
    out.loc[idx, "memory_needed_gb"] = (weights + kv_need) / BYTES_PER_GB
    out.loc[idx, "memory_usable_gb"] = ph.usable_memory_bytes(mem, gpus, reserve) / BYTES_PER_GB
    out.loc[idx, "min_gpus_weights"] = ph.min_gpus(weights, mem, 0.0, reserve)
    out.loc[idx, "min_gpus"] = ph.min_gpus(weights, mem, kv_need, reserve)
    out.loc[idx, "fits"] = ph.fits(weights, kv_need, mem, gpus, reserve)
    out.loc[idx, "max_batch_fits"] = max_fit
    out.loc[idx, "batch"] = batch
    out.loc[idx, "step_time_s"] = np.where(valid, np.maximum(t_mem, t_flop), np.nan)
    out.loc[idx, "memory_time_s"] = np.where(valid, t_mem, np.nan)
    out.loc[idx, "compute_time_s"] = np.where(valid, t_flop, np.nan)
    out.loc[idx, "bound_by"] = np.where(valid, np.where(t_mem >= t_flop, "memory bandwidth",
                                                        "compute"), "")
    out.loc[idx, "tokens_per_s_per_gpu_bound"] = np.where(valid, bound, np.nan)
    out.loc[idx, "tokens_per_s_per_user"] = np.where(valid, bound * gpus / b, np.nan)
    out.loc[idx, "batch_estimate"] = batch_est
    out.loc[idx, "interconnect_gb_s"] = np.where(np.isfinite(link), link, np.nan)
    out.loc[idx, "communication_time_s"] = np.where(
        valid_est, b_est * ep_bytes / (gpus * link * BYTES_PER_GB * comm["interconnect_efficiency"]),
        np.nan)
    out.loc[idx, "tokens_per_s_per_gpu_estimate"] = np.where(valid_est, estimate, np.nan)
    out.loc[idx, "tokens_per_s_per_user_estimate"] = np.where(valid_est, estimate * gpus / b_est,
                                                              np.nan)
    prefill_args = (shape["active_params"], shape["layers"], shape["attention_heads"],
                    shape["head_dim"], prompt, shape["peak_tflops"], share, window)
    out.loc[idx, "prefill_tokens_per_s_per_gpu_bound"] = ph.prefill_tokens_per_s_bound(
        *prefill_args, attention_peak_tflops=shape["attention_peak_tflops"])
    out.loc[idx, "prefill_tokens_per_s_per_gpu_estimate"] = ph.prefill_tokens_per_s_estimate(
        *prefill_args, flops_efficiency=efficiency["flops_efficiency"],
        attention_peak_tflops=shape["attention_peak_tflops"], **comm)
    has_out = ~np.isnan(outp[known])
    if has_out.any():
        rows = has_out
        sub = {key: (v[rows] if isinstance(v, np.ndarray) and v.shape == gpus.shape else v)
               for key, v in shape.items() if key != "context_tokens"}
        serving_in = np.nan_to_num(inp[known][rows])
        serving_out = outp[known][rows]
        keep = valid[rows]
        serving_bound = ph.serving_tokens_per_s_bound(batch_size=b[rows], input_tokens=serving_in,
                                                      output_tokens=serving_out, **sub)
        sub_comm = {key: v[rows] if isinstance(v, np.ndarray) else v
                    for key, v in {**comm, **efficiency}.items()}
        serving_est = ph.serving_tokens_per_s_estimate(
            batch_size=b_est[rows], input_tokens=serving_in, output_tokens=serving_out, **sub,
            **sub_comm)
        col_b = np.full(len(k), np.nan)
        col_e = np.full(len(k), np.nan)
        col_b[rows] = np.where(keep, serving_bound, np.nan)
        col_e[rows] = np.where(valid_est[rows], serving_est, np.nan)
        out.loc[idx, "serving_tokens_per_s_per_gpu_bound"] = col_b
        out.loc[idx, "serving_tokens_per_s_per_gpu_estimate"] = col_e
    out["fits"] = out["fits"].astype(bool)
    return out[BOUND_COLUMNS + ["gpu_known", "architecture_known"]]


# --------------------------------------------------------------------------- validation

#: the ``metric`` texts of published_throughput_2026.csv and what each measures
PUBLISHED_METRICS = {
    "decode output tok/s per GPU": "decode",    # decode GPUs of a disaggregated deployment
    "prefill input tok/s per GPU": "prefill",   # prompt tokens on prefill GPUs
    "total tok/s per GPU": "total",             # input + output tokens (InferenceX's tok/s/GPU)
}

#: columns of :func:`published_validation`
VALIDATION_COLUMNS = [
    "model", "gpu", "gpus", "weight_precision", "kv_precision", "input_tokens", "output_tokens",
    "metric", "subset", "tokens_per_s_per_user", "batch", "bound_by",
    "measured_tokens_per_s_per_gpu", "decode_bound", "serving_bound", "bound", "estimate",
    "bound_ratio", "serving_ratio", "estimate_error", "engine", "scenario",
]


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[name].fillna("").astype(str).str.strip()


def _number(frame: pd.DataFrame, name: str, fallback: Optional[str] = None) -> np.ndarray:
    values = (pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
              if name in frame.columns else np.full(len(frame), np.nan))
    if fallback is not None and fallback in frame.columns:
        other = pd.to_numeric(frame[fallback], errors="coerce").to_numpy(dtype=float)
        values = np.where(np.isnan(other), values, other)
    return values


def published_rows(published: pd.DataFrame, assumptions: Optional[dict] = None) -> pd.DataFrame:
    """Measurements of either published format as one table of deployments.

    ``published_throughput.csv`` (TensorRT-LLM max-load runs): ``precision``
    and ``output_tok_s_total`` for the whole group of ``gpus``; metric
    ``output`` (output tokens of aggregated serving, prefill included).
    ``published_throughput_2026.csv``: ``weight_precision``, ``kv_precision``,
    ``metric`` (:data:`PUBLISHED_METRICS`) and ``value`` per GPU, optional
    ``tokens_per_s_per_user``; the ``validation_*`` columns hold what a row
    leaves out, as its ``validation_note`` argues (GPUs, lengths, batch,
    subset). A "total" value counts input + output tokens, so its output
    share is value x output / (input + output). A blank KV precision is the
    assumption ``published_kv_precision``; "batch N" in the scenario of the
    older file fixes the batch.

    Returns
    -------
    pandas.DataFrame
        model, gpu, gpus, weight_precision, kv_precision, input_tokens,
        output_tokens (NaN where not given: the decode context is then the
        prompt), metric (output / decode / prefill / total), subset (dense /
        moe / disaggregated), measured_tokens_per_s_per_gpu (output tokens, or
        prompt tokens for prefill), tokens_per_s_per_user, batch_size, engine,
        scenario.
    """
    a = _assumptions(assumptions)
    p = published.reset_index(drop=True)
    new_format = "metric" in p.columns
    if new_format:
        unknown = ~_text(p, "metric").isin(list(PUBLISHED_METRICS))
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(f"published row {row + 1}",
                             f"unknown metric {p['metric'][row]!r}; known: "
                             f"{', '.join(PUBLISHED_METRICS)}")
        metric = _text(p, "metric").map(PUBLISHED_METRICS).to_numpy(dtype=object)
        weight = _text(p, "weight_precision")
        value = _number(p, "value")
    else:
        metric = np.full(len(p), "output", dtype=object)
        weight = _text(p, "precision")
        value = None
    gpus = _number(p, "gpus", "validation_gpus")
    gpus = np.where(np.isnan(gpus), 1.0, gpus)
    inp = _number(p, "input_tokens", "validation_input_tokens")
    outp = _number(p, "output_tokens", "validation_output_tokens")
    batch = _number(p, "validation_batch")
    from_scenario = pd.to_numeric(_text(p, "scenario").str.extract(r"^batch\s+(\d+)")[0],
                                  errors="coerce").to_numpy(dtype=float)
    batch = np.where(np.isnan(batch), from_scenario, batch)
    kv = _text(p, "kv_precision")
    kv = kv.where(kv != "", str(a["published_kv_precision"]))
    if new_format:
        measured = value.copy()
        total = metric == "total"
        measured[total] = value[total] * outp[total] / (np.nan_to_num(inp[total]) + outp[total])
    else:
        measured = _number(p, "output_tok_s_total") / gpus
    arch = cat.load_model_architectures()
    ai = cat.architecture_index(arch, p["model"].fillna(""))
    moe = np.where(ai >= 0, arch["experts"].reindex(ai).to_numpy(dtype=float)
                   > arch["active_experts"].reindex(ai).to_numpy(dtype=float), False)
    subset = _text(p, "validation_subset")
    subset = subset.where(subset != "", pd.Series(np.where(moe, "moe", "dense"), index=p.index))
    return pd.DataFrame({
        "model": p["model"], "gpu": p["gpu"], "gpus": gpus,
        "weight_precision": weight.str.casefold(), "kv_precision": kv.str.casefold(),
        "input_tokens": inp, "output_tokens": outp, "metric": metric, "subset": subset,
        "measured_tokens_per_s_per_gpu": measured,
        "tokens_per_s_per_user": _number(p, "tokens_per_s_per_user"), "batch_size": batch,
        "engine": _text(p, "engine"), "scenario": _text(p, "scenario"),
    })


def published_validation(published: pd.DataFrame, assumptions: Optional[dict] = None,
                         bandwidth_efficiency: Optional[float] = None,
                         flops_efficiency: Optional[float] = None,
                         interconnect_efficiency: Optional[float] = None) -> pd.DataFrame:
    """The bound and the estimate next to measured throughput, in each row's configuration.

    Rows come through :func:`published_rows` (either published format):
    weights and KV cache at the row's precisions, its GPUs, lengths
    (context = input + output / 2; the prompt where no output length is
    given), batch where stated and per-user speed where stated (the bound is
    then taken at the largest batch meeting it,
    :func:`tokencost.core.physics.decode_batch_for_tokens_per_s_per_user`).
    What each metric is compared with:

    * ``output`` (aggregated max-load runs) and ``total`` (InferenceX, its
      output share): the decode bound, the serving bound (prefill included)
      and the serving estimate;
    * ``decode`` (decode GPUs of a disaggregated deployment): the decode bound
      and estimate;
    * ``prefill`` (prompt tokens per prefill GPU): the prefill bound and estimate.

    Returns
    -------
    pandas.DataFrame
        :data:`VALIDATION_COLUMNS`: ``bound`` is the one compared
        (``decode_bound`` or the prefill bound), ``bound_ratio`` = bound /
        measured (>= 1 for a bound), ``serving_ratio`` = serving_bound /
        measured, ``estimate_error`` = estimate / measured - 1.
    """
    a = _assumptions(assumptions)
    for name, value in (("bandwidth_efficiency", bandwidth_efficiency),
                        ("flops_efficiency", flops_efficiency),
                        ("interconnect_efficiency", interconnect_efficiency)):
        if value is not None:
            a[name] = float(value)
    rows = published_rows(published, a)
    deployments = pd.DataFrame({
        "gpu": rows["gpu"], "architecture": rows["model"], "gpus": rows["gpus"],
        "batch_size": rows["batch_size"], "input_tokens": rows["input_tokens"],
        "output_tokens": rows["output_tokens"], "context_tokens": rows["input_tokens"],
        "tokens_per_s_per_user": rows["tokens_per_s_per_user"],
        "weight_precision": rows["weight_precision"], "kv_precision": rows["kv_precision"],
    })
    d = deployment_bounds(deployments, a)
    unknown = ~(d["gpu_known"] & d["architecture_known"])
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"published row {row + 1}",
                         f"no catalog entry for {rows['model'][row]!r} on {rows['gpu'][row]!r}")
    metric = rows["metric"].to_numpy(dtype=object)
    prefill = metric == "prefill"
    decode_only = metric == "decode"
    bound = np.where(prefill, d["prefill_tokens_per_s_per_gpu_bound"],
                     d["tokens_per_s_per_gpu_bound"])
    estimate = np.where(prefill, d["prefill_tokens_per_s_per_gpu_estimate"],
                        np.where(decode_only, d["tokens_per_s_per_gpu_estimate"],
                                 d["serving_tokens_per_s_per_gpu_estimate"]))
    measured = rows["measured_tokens_per_s_per_gpu"].to_numpy(dtype=float)
    out = pd.DataFrame({
        "model": rows["model"], "gpu": d["gpu"], "gpus": d["gpus"],
        "weight_precision": d["weight_precision"], "kv_precision": d["kv_precision"],
        "input_tokens": rows["input_tokens"], "output_tokens": rows["output_tokens"],
        "metric": metric, "subset": rows["subset"],
        "tokens_per_s_per_user": rows["tokens_per_s_per_user"], "batch": d["batch"],
        "bound_by": np.where(prefill, "compute", d["bound_by"]),
        "measured_tokens_per_s_per_gpu": measured,
        "decode_bound": np.where(prefill, np.nan, d["tokens_per_s_per_gpu_bound"]),
        # the serving bound covers prefill and decode on the same GPUs: aggregated rows only
        "serving_bound": np.where(prefill | decode_only, np.nan,
                                  d["serving_tokens_per_s_per_gpu_bound"]),
        "bound": bound, "estimate": estimate,
        "engine": rows["engine"], "scenario": rows["scenario"],
    })
    out["bound_ratio"] = out["bound"] / measured
    out["serving_ratio"] = out["serving_bound"] / measured
    out["estimate_error"] = out["estimate"] / measured - 1.0
    return out[VALIDATION_COLUMNS]


#: the subsets :func:`validation_summary` reports, in order
VALIDATION_SUBSETS = ("dense", "moe", "disaggregated")


def validation_summary(validation: pd.DataFrame) -> pd.DataFrame:
    """Per subset (dense / moe / disaggregated), the decode rows (every metric but
    prefill) and all rows: how many, the range of bound / measured and the median
    absolute error of the estimate (with the share of rows within 25 %)."""
    groups = [(name, validation["subset"] == name) for name in VALIDATION_SUBSETS]
    groups += [("decode rows", validation["metric"] != "prefill"),
               ("all", pd.Series(True, index=validation.index))]
    records = []
    for name, mask in groups:
        part = validation.loc[mask]
        error = part["estimate_error"].abs()
        records.append({
            "subset": name, "rows": int(len(part)),
            "bound_ratio_min": float(part["bound_ratio"].min()) if len(part) else np.nan,
            "bound_ratio_max": float(part["bound_ratio"].max()) if len(part) else np.nan,
            "estimate_median_abs_error": float(error.median()) if len(part) else np.nan,
            "estimate_share_within_25pct": float((error <= 0.25).mean()) if len(part) else np.nan,
        })
    return pd.DataFrame(records)


def calibrate_efficiency(published, bandwidth_grid=None, flops_grid=None,
                         assumptions: Optional[dict] = None, moe_bandwidth_grid=None,
                         subset_goal: float = 0.25) -> dict:
    """The efficiencies on a grid that fit the estimate best to *published*.

    *published* is one table or a list of tables of either published format
    (:func:`published_rows`). Among the (bandwidth_efficiency,
    flops_efficiency, moe_bandwidth_efficiency) triples of the grid whose
    median absolute error of the estimate is within *subset_goal* on each of
    the dense, MoE and disaggregated subsets, the one with the lowest median
    over all rows wins (where none meets the goal, the one that misses it
    least). The default grid stays within what the hardware can reach
    (bandwidth up to 90 % of the datasheet figure, about what streaming
    kernels sustain on HBM).

    Returns ``{"bandwidth_efficiency", "flops_efficiency",
    "moe_bandwidth_efficiency", "median_abs_error", "worst_subset_median_abs_error"}``.
    """
    tables = list(published) if isinstance(published, (list, tuple)) else [published]
    a = _assumptions(assumptions)
    bandwidth_grid = np.round(np.arange(0.50, 0.9001, 0.05), 2) if bandwidth_grid is None \
        else np.asarray(bandwidth_grid)
    flops_grid = np.round(np.arange(0.20, 0.8001, 0.05), 2) if flops_grid is None \
        else np.asarray(flops_grid)
    moe_grid = np.round(np.arange(0.10, 0.6001, 0.05), 2) if moe_bandwidth_grid is None \
        else np.asarray(moe_bandwidth_grid)
    best = None
    for eb in bandwidth_grid:
        for ef in flops_grid:
            for em in moe_grid:
                trial = dict(a, bandwidth_efficiency=float(eb), flops_efficiency=float(ef),
                             moe_bandwidth_efficiency=float(em))
                v = pd.concat([published_validation(t, trial) for t in tables], ignore_index=True)
                error = v["estimate_error"].abs()
                medians = [float(error[v["subset"] == name].median())
                           for name in VALIDATION_SUBSETS if (v["subset"] == name).any()]
                score = (max(0.0, max(medians) - subset_goal), float(error.median()))
                if best is None or score[0] < best[3][0] - 1e-12 or (
                        abs(score[0] - best[3][0]) <= 1e-12 and score[1] < best[3][1] - 1e-12):
                    best = (float(eb), float(ef), float(em), score)
    return {"bandwidth_efficiency": best[0], "flops_efficiency": best[1],
            "moe_bandwidth_efficiency": best[2], "median_abs_error": best[3][1],
            "subset_goal_missed_by": best[3][0]}


# --------------------------------------------------------------------------- model-profile flags

FLAG_COLUMNS = [
    "model", "gpu", "architecture", "gpus", "batch_size", "context_tokens", "tokens_per_s",
    "weights_gb", "min_gpus_weights", "min_gpus", "fits", "bound_gpus", "bound_batch",
    "tokens_per_s_per_gpu_bound", "within_bound", "implied_replica_tokens_per_s", "checked",
    "ok", "reason",
]


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _gpus_text(n: float, gpu: str) -> str:
    n = int(n)
    return f"{n} {gpu}" if n == 1 else f"{n} {gpu}s"


def physics_flags(inputs, assumptions: Optional[dict] = None,
                  context_tokens: Optional[float] = None,
                  use_hardware_table: bool = True) -> pd.DataFrame:
    """Check every model profile against memory and the decode bound.

    A profile is checked when its ``architecture`` is in the model catalog and
    its GPU in the GPU catalog (memory and bandwidth come from the Hardware
    table when it gives them, so an analyst's edits there count; weights and KV
    cache at the profile's ``weight_precision`` / ``kv_precision`` where given,
    else the architecture's). It fails when
    the weights plus the KV cache of its batch (one sequence when the batch is
    blank) at ``context_tokens`` do not fit its ``gpus``, or when its
    ``tokens_per_s`` exceeds the decode bound: at its batch when given, else at
    the best batch that fits. For a profile that does not fit, the bound is
    taken on ``min_gpus`` GPUs at the best batch there (is the rate possible at
    all on a deployment that fits?), and ``implied_replica_tokens_per_s`` says
    what the per-GPU figure means for the whole replica.

    Parameters
    ----------
    inputs : tokencost.inputs.validate.Inputs
        Validated inputs (the Models and Hardware tables are used).
    assumptions : dict, optional
        Overrides of data/physics_assumptions.csv.
    context_tokens : float, optional
        Context per sequence [tokens] (default: :func:`default_context`, the
        assumption ``context_tokens`` or input + output / 2 of ``input_tokens``
        and ``output_tokens``).
    use_hardware_table : bool, default True
        Take memory_gb / memory_bandwidth_tb_s from the Hardware table where given.

    Returns
    -------
    pandas.DataFrame
        One row per profile, columns :data:`FLAG_COLUMNS`; ``ok`` is True for
        profiles that pass or are not checked; ``reason`` is one plain sentence.
    """
    a = _assumptions(assumptions)
    if context_tokens is not None:
        a["context_tokens"] = float(context_tokens)
        a["output_tokens"] = ""
    models = inputs.models.reset_index(drop=True)
    frame = pd.DataFrame({
        "gpu": models["gpu"], "architecture": models["architecture"].fillna(""),
        "gpus": pd.to_numeric(models["gpus"]).fillna(1.0),
        "batch_size": pd.to_numeric(models["batch_size"]),
        "context_tokens": default_context(a),
    })
    for column in ("weight_precision", "kv_precision"):   # blank: the architecture's
        if column in models.columns:
            frame[column] = models[column].fillna("").astype(str)
    if use_hardware_table and len(inputs.hardware):
        hw = inputs.hardware
        lookup = {cat.normalize_gpu_name(g): i for i, g in enumerate(hw["gpu"])}
        rows = [lookup.get(cat.normalize_gpu_name(g), -1) for g in frame["gpu"]]
        for column in ["memory_gb", "memory_bandwidth_tb_s"]:
            if column in hw.columns:
                values = pd.to_numeric(hw[column]).to_numpy(dtype=float)
                frame[column] = [values[i] if i >= 0 else np.nan for i in rows]
    d = deployment_bounds(frame, a)
    # where the profile does not fit, ask the bound on the smallest group that does
    again = d["gpu_known"] & d["architecture_known"] & ~d["fits"]
    bound_gpus = d["gpus"].copy()
    bound_batch = d["batch"].copy()
    bound = d["tokens_per_s_per_gpu_bound"].copy()
    if again.any():
        retry = frame.loc[again].copy()
        retry["gpus"] = d.loc[again, "min_gpus"]
        retry["batch_size"] = np.nan
        r = deployment_bounds(retry, a)
        bound_gpus.loc[again] = r["gpus"]
        bound_batch.loc[again] = r["batch"]
        bound.loc[again] = r["tokens_per_s_per_gpu_bound"]
    tps = pd.to_numeric(models["tokens_per_s"]).astype(float)
    checked = (d["gpu_known"] & d["architecture_known"]).to_numpy()
    within = (tps.to_numpy() <= bound.to_numpy() * (1 + 1e-9)) & checked
    replica_gpus = np.maximum(d["gpus"].to_numpy(), d["min_gpus"].to_numpy())
    out = pd.DataFrame({
        "model": models["model"], "gpu": d["gpu"], "architecture": d["architecture"],
        "gpus": d["gpus"], "batch_size": d["batch_size"], "context_tokens": d["context_tokens"],
        "tokens_per_s": tps, "weights_gb": d["weights_gb"],
        "min_gpus_weights": d["min_gpus_weights"], "min_gpus": d["min_gpus"],
        "fits": d["fits"].to_numpy() & checked, "bound_gpus": np.where(checked, bound_gpus, np.nan),
        "bound_batch": bound_batch, "tokens_per_s_per_gpu_bound": bound,
        "within_bound": within,
        "implied_replica_tokens_per_s": np.where(checked, tps.to_numpy() * replica_gpus, np.nan),
        "checked": checked,
    })
    out["ok"] = ~checked | (out["fits"] & out["within_bound"])
    arch = cat.load_model_architectures()
    params = dict(zip(arch["architecture"], arch["total_params"]))
    out["reason"] = [_reason(row, d.loc[i], params.get(row["architecture"], np.nan))
                     for i, row in out.iterrows()]
    return out[FLAG_COLUMNS]


def _reason(row: pd.Series, d: pd.Series, total_params: float) -> str:
    model, gpu = row["model"], row["gpu"]
    if not str(row["architecture"]).strip():
        return f"{model}: not checked: the profile names no model architecture"
    if not d["architecture_known"]:
        return f"{model}: not checked: architecture {row['architecture']!r} is not in the model catalog"
    if not d["gpu_known"]:
        return f"{model}: not checked: GPU {gpu!r} is not in the GPU catalog"
    tps, bound = row["tokens_per_s"], row["tokens_per_s_per_gpu_bound"]
    ctx = _n(row["context_tokens"])
    if not row["fits"]:
        need = int(row["min_gpus"])
        weights_need = int(row["min_gpus_weights"])
        batch = row["batch_size"]
        requests = "one request" if np.isnan(batch) else f"{_n(batch)} requests"
        text = (f"{model}: {total_params / 1e9:,.0f}B parameters ({_n(row['weights_gb'])} GB at "
                f"{d['weight_precision'].upper()})")
        if weights_need == need:
            text += f" need at least {_gpus_text(need, gpu)} ({d['memory_gb']:g} GB each)"
        else:
            text += (f" need at least {_gpus_text(weights_need, gpu)} ({d['memory_gb']:g} GB each), "
                     f"{need} with the KV cache of {requests} at {ctx} tokens,")
        text += (f" but the profile assumes {int(row['gpus'])}; at {_n(tps)} tok/s per GPU that is "
                 f"a {need}-GPU replica producing {_n(tps * max(need, row['gpus']))} tok/s")
        if np.isnan(bound):
            return text
        verdict = ("a rate the physics allows" if row["within_bound"]
                   else "so even the per-GPU rate is out of reach")
        return (text + f" (on {_gpus_text(row['bound_gpus'], gpu)} the decode bound is "
                f"{_n(bound)} tok/s per GPU at batch {_n(row['bound_batch'])}: {verdict})")
    where = (f"on {_gpus_text(row['gpus'], gpu)} at batch {_n(row['bound_batch'])} and {ctx} tokens "
             f"of context")
    if not row["within_bound"]:
        return (f"{model}: {_n(tps)} tok/s per GPU exceeds the physical decode bound of "
                f"{_n(bound)} tok/s per GPU {where} ({d['bound_by']}-bound)")
    return f"{model}: {_n(tps)} tok/s per GPU is within the decode bound of {_n(bound)} tok/s per GPU {where}"


# --------------------------------------------------------------------------- frontier

FRONTIER_COLUMNS = ["batch", "tokens_per_s_per_user", "tokens_per_s_per_gpu_bound",
                    "cost_floor_usd_per_mtok", "tokens_per_s_per_user_estimate",
                    "tokens_per_s_per_gpu_estimate", "cost_estimate_usd_per_mtok", "bound_by",
                    "meets_target"]


def _query(gpu, architecture, gpus, context_tokens, weight_precision, kv_precision, input_tokens,
           output_tokens, **extra) -> dict:
    """One deployment as the columns of :func:`deployment_bounds` (blanks as NaN / "")."""
    row = {"gpu": [gpu], "architecture": [architecture], "gpus": [float(gpus)],
           "context_tokens": [np.nan if context_tokens is None else float(context_tokens)],
           "input_tokens": [np.nan if input_tokens is None else float(input_tokens)],
           "output_tokens": [np.nan if output_tokens is None else float(output_tokens)],
           "weight_precision": [weight_precision or ""], "kv_precision": [kv_precision or ""]}
    row.update({k: [v] for k, v in extra.items()})
    return row


def frontier(gpu: str, architecture: str, gpus: float = 1.0, context_tokens: Optional[float] = None,
             gpu_hour_usd: Optional[float] = None, points: int = 24,
             assumptions: Optional[dict] = None, weight_precision: Optional[str] = None,
             kv_precision: Optional[str] = None, input_tokens: Optional[float] = None,
             output_tokens: Optional[float] = None,
             tokens_per_s_per_user: Optional[float] = None) -> pd.DataFrame:
    """Cost per MTok against tokens/s per user, sweeping the batch from 1 to the best batch.

    The physics version of the throughput-interactivity trade-off that
    measured dashboards (InferenceMAX / InferenceX) plot: a small batch gives
    each user a fast stream at a high cost per token, the largest batch that
    fits gives the lowest cost. Batches are spaced geometrically (``points``
    of them, whole numbers, the best batch always included); with
    ``tokens_per_s_per_user`` the largest batches meeting it (bound and
    estimate) are added and ``meets_target`` marks the rows whose bound meets it.
    Precisions and lengths as in :func:`bound`.

    Returns
    -------
    pandas.DataFrame
        :data:`FRONTIER_COLUMNS`; costs are NaN without ``gpu_hour_usd``.
        Empty when the model does not fit the group at all.
    """
    a = _assumptions(assumptions)
    if points < 2:
        raise InputError("points", f"points must be >= 2, got {points}")
    query = _query(gpu, architecture, gpus, context_tokens, weight_precision, kv_precision,
                   input_tokens, output_tokens)
    top = deployment_bounds(pd.DataFrame(query), a)
    _require_known(top.iloc[0], gpu, architecture)
    best = top["batch"].iloc[0]
    if np.isnan(best):
        return pd.DataFrame(columns=FRONTIER_COLUMNS)
    batches = np.round(np.geomspace(1, best, points))
    if tokens_per_s_per_user is not None:
        at = deployment_bounds(pd.DataFrame({**query,
                                             "tokens_per_s_per_user": [tokens_per_s_per_user]}), a)
        extra = [x for x in (at["batch"].iloc[0], at["batch_estimate"].iloc[0]) if np.isfinite(x)]
        batches = np.concatenate([batches, extra])
    batches = np.unique(batches)
    sweep = pd.DataFrame({key: value * len(batches) for key, value in query.items()})
    sweep["batch_size"] = batches
    d = deployment_bounds(sweep, a)
    out = pd.DataFrame({"batch": batches, "tokens_per_s_per_user": d["tokens_per_s_per_user"],
                        "tokens_per_s_per_gpu_bound": d["tokens_per_s_per_gpu_bound"]})
    out["tokens_per_s_per_user_estimate"] = d["tokens_per_s_per_user_estimate"]
    out["tokens_per_s_per_gpu_estimate"] = d["tokens_per_s_per_gpu_estimate"]
    if gpu_hour_usd is None:
        out["cost_floor_usd_per_mtok"] = np.nan
        out["cost_estimate_usd_per_mtok"] = np.nan
    else:
        out["cost_floor_usd_per_mtok"] = ph.cost_floor_usd_per_mtok(
            gpu_hour_usd, out["tokens_per_s_per_gpu_bound"].to_numpy())
        out["cost_estimate_usd_per_mtok"] = ph.cost_floor_usd_per_mtok(
            gpu_hour_usd, out["tokens_per_s_per_gpu_estimate"].to_numpy())
    out["bound_by"] = d["bound_by"].to_numpy()
    out["meets_target"] = (out["tokens_per_s_per_user"].to_numpy() * (1 + 1e-12)
                           >= tokens_per_s_per_user) if tokens_per_s_per_user is not None else True
    return out[FRONTIER_COLUMNS].reset_index(drop=True)


def _require_known(row: pd.Series, gpu: str, architecture: str) -> None:
    if not row["gpu_known"]:
        cat.find_gpu(gpu)  # raises with the known names
    if not row["architecture_known"]:
        cat.find_architecture(architecture)


def check_query(gpus=1.0, batch_size=None, context_tokens=None, gpu_hour_usd=None,
                weight_precision=None, kv_precision=None, input_tokens=None, output_tokens=None,
                tokens_per_s_per_user=None) -> None:
    """The rules :func:`bound` and :func:`frontier` apply to their arguments, one
    :class:`~tokencost.errors.InputError` naming the option (as ``tokencost bound``
    spells it) for the first that breaks one."""
    if gpus is None or not np.isfinite(gpus) or gpus <= 0:
        raise InputError("gpus", f"gpus must be > 0, got {gpus}")
    if batch_size is not None and not batch_size > 0:
        raise InputError("batch", f"batch must be > 0, got {batch_size}")
    if context_tokens is not None and not context_tokens >= 0:
        raise InputError("context", f"context must be >= 0, got {context_tokens}")
    if gpu_hour_usd is not None and not gpu_hour_usd >= 0:
        raise InputError("gpu_hour_usd", f"gpu_hour_usd must be >= 0, got {gpu_hour_usd}")
    for label, name in (("weight-precision", weight_precision), ("kv-precision", kv_precision)):
        if name is not None:
            cat.precision_bytes(name, label)
    if output_tokens is not None and not output_tokens > 0:
        raise InputError("output-tokens", f"output-tokens must be > 0, got {output_tokens:g} "
                                          "(a request generates at least one token)")
    if input_tokens is not None and not input_tokens >= 0:
        raise InputError("input-tokens", f"input-tokens must be >= 0, got {input_tokens:g}")
    if input_tokens is not None and output_tokens is None:
        raise InputError("output-tokens", "give --output-tokens with --input-tokens (the decode "
                                          "context is input + output / 2)")
    if context_tokens is not None and output_tokens is not None:
        raise InputError("context", "give --context or --input-tokens / --output-tokens, not both")
    if tokens_per_s_per_user is not None and not tokens_per_s_per_user > 0:
        raise InputError("tokens-per-s-per-user", f"tokens-per-s-per-user must be > 0, got "
                                                  f"{tokens_per_s_per_user:g}")
    if tokens_per_s_per_user is not None and batch_size is not None:
        raise InputError("batch", "give --batch or --tokens-per-s-per-user, not both (the target "
                                  "sets the batch)")
    # then the rules every reader applies to these inputs: whole numbers, limits
    from ..inputs.schema import ARGUMENTS, MODELS
    for label, value, col in (("gpus", gpus, MODELS.column("gpus")),
                              ("batch", batch_size, MODELS.column("batch_size")),
                              ("context", context_tokens, ARGUMENTS["context_tokens"]),
                              ("input-tokens", input_tokens, ARGUMENTS["context_tokens"]),
                              ("output-tokens", output_tokens, ARGUMENTS["context_tokens"])):
        bad = col.problem(float(value)) if value is not None else None
        if bad:
            raise InputError(label, f"{label} {bad}")


def bound(gpu: str, architecture: str, gpus: float = 1.0, batch_size: Optional[float] = None,
          context_tokens: Optional[float] = None, gpu_hour_usd: Optional[float] = None,
          assumptions: Optional[dict] = None, weight_precision: Optional[str] = None,
          kv_precision: Optional[str] = None, input_tokens: Optional[float] = None,
          output_tokens: Optional[float] = None,
          tokens_per_s_per_user: Optional[float] = None) -> dict:
    """Everything ``tokencost bound`` prints for one deployment, as a flat dict.

    ``tokens_per_s_per_gpu_bound`` is at ``batch_size`` when given (memory not
    enforced: see ``fits``), at the largest batch meeting
    ``tokens_per_s_per_user`` when given (the estimate at its own such batch,
    ``batch_estimate``), else at the best batch that fits (None when even the
    weights do not fit). ``weight_precision`` / ``kv_precision`` replace the
    catalog's (``weight_precision_source`` / ``kv_precision_source`` say which
    was used); ``input_tokens`` + ``output_tokens`` set the context to input +
    output / 2 and add the serving bound and estimate (prefill included).
    ``cost_floor_usd_per_mtok`` and ``cost_estimate_usd_per_mtok`` need
    ``gpu_hour_usd``. A per-user target above what batch 1 allows raises
    :class:`~tokencost.errors.InputError`.
    """
    a = _assumptions(assumptions)
    check_query(gpus, batch_size, context_tokens, gpu_hour_usd, weight_precision, kv_precision,
                input_tokens, output_tokens, tokens_per_s_per_user)
    query = _query(gpu, architecture, gpus, context_tokens, weight_precision, kv_precision,
                   input_tokens, output_tokens,
                   batch_size=np.nan if batch_size is None else float(batch_size),
                   tokens_per_s_per_user=(np.nan if tokens_per_s_per_user is None
                                          else float(tokens_per_s_per_user)))
    d = deployment_bounds(pd.DataFrame(query), a).iloc[0]
    _require_known(d, gpu, architecture)
    if tokens_per_s_per_user is not None and d["max_batch_fits"] >= 1 and np.isnan(d["batch"]):
        one = deployment_bounds(pd.DataFrame({**query, "tokens_per_s_per_user": [np.nan],
                                              "batch_size": [1.0]}), a).iloc[0]
        raise InputError("tokens-per-s-per-user",
                         f"{tokens_per_s_per_user:,.6g} tok/s per user is above the batch-1 bound "
                         f"of {one['tokens_per_s_per_user']:,.1f} tok/s per user for "
                         f"{d['architecture']} on {gpus:g} {d['gpu']} (no batch can be that fast)")
    result = {k: d[k] for k in BOUND_COLUMNS}
    result["fits"] = bool(d["fits"])
    arch = cat.find_architecture(architecture)
    result["weight_precision_source"] = ("--weight-precision" if weight_precision
                                         else f"catalog ({arch['architecture']})")
    result["kv_precision_source"] = ("--kv-precision" if kv_precision
                                     else f"catalog ({arch['architecture']})")
    tps = d["tokens_per_s_per_gpu_bound"]
    result["gpu_hour_usd"] = gpu_hour_usd
    result["cost_floor_usd_per_mtok"] = (
        float(ph.cost_floor_usd_per_mtok(gpu_hour_usd, tps))
        if gpu_hour_usd is not None and np.isfinite(tps) and tps > 0 else None)
    est = d["tokens_per_s_per_gpu_estimate"]
    result["cost_estimate_usd_per_mtok"] = (
        float(ph.cost_floor_usd_per_mtok(gpu_hour_usd, est))
        if gpu_hour_usd is not None and np.isfinite(est) and est > 0 else None)
    for k, v in list(result.items()):
        if isinstance(v, (float, np.floating)) and np.isnan(v):
            result[k] = None
        elif isinstance(v, np.floating):
            result[k] = float(v)
        elif isinstance(v, np.bool_):
            result[k] = bool(v)
    return result
