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
    "gpu", "architecture", "gpus", "batch_size", "context_tokens", "weight_precision",
    "kv_precision", "memory_gb", "memory_bandwidth_tb_s", "peak_tflops", "weights_gb",
    "kv_bytes_per_token", "kv_gb_per_sequence", "memory_needed_gb", "memory_usable_gb",
    "min_gpus_weights", "min_gpus", "fits", "max_batch_fits", "batch", "step_time_s",
    "bound_by", "tokens_per_s_per_gpu_bound", "tokens_per_s_per_user",
    "tokens_per_s_per_gpu_estimate", "tokens_per_s_per_user_estimate",
    "prefill_tokens_per_s_per_gpu_bound",
]


def _assumptions(assumptions: Optional[dict]) -> dict:
    base = cat.load_physics_assumptions()
    if assumptions:
        base.update(assumptions)
    return base


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
    ``gpu_known`` / ``architecture_known`` flags and the canonical names.
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
    for column in ["bf16_tflops", "fp8_tflops", "fp4_tflops"]:
        out[column] = g[column].to_numpy(dtype=float)
    for column in cat.ARCHITECTURE_NUMBER_COLUMNS:
        out[column] = a[column].to_numpy(dtype=float)
    for column in ["weight_precision", "kv_precision"]:
        own = _column(frame, column, "").to_numpy()
        out[column] = np.where(own != "", own, a[column].fillna("").to_numpy()).astype(object)
        out[column] = out[column].astype(str).str.casefold()
    known = (out["gpu_known"] & out["architecture_known"]).to_numpy()
    out["peak_tflops"] = _peaks(out, known)
    for column, target in [("weight_precision", "weight_bytes_per_param"),
                           ("kv_precision", "kv_bytes_per_value")]:
        names = out[column].to_numpy()
        sizes = {name: cat.precision_bytes(name) for name in set(names[known])}
        out[target] = [sizes[n] if ok else np.nan for n, ok in zip(names, known)]
    return out


def _peaks(resolved: pd.DataFrame, known: np.ndarray) -> np.ndarray:
    """Dense peak [TFLOP/s] for math at each row's weight precision, vectorized by precision
    (FP4 falls back to FP8, FP8 to BF16 where the GPU lacks the format)."""
    precision = resolved["weight_precision"].to_numpy()
    peaks = np.full(len(resolved), np.nan)
    for name in set(precision[known]):
        if name not in cat.PRECISION_PEAKS:
            cat.precision_bytes(name)  # raises naming the known precisions
        rows = known & (precision == name)
        for column in cat.PRECISION_PEAKS[name]:
            values = resolved[column].to_numpy(dtype=float)
            fill = rows & np.isnan(peaks) & (values > 0)
            peaks[fill] = values[fill]
    missing = known & np.isnan(peaks)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError("gpu", f"GPU {resolved['gpu'].iloc[i]!r} has no tensor peak for "
                                f"{precision[i]}")
    return peaks


def deployment_bounds(frame: pd.DataFrame, assumptions: Optional[dict] = None,
                      gpus_catalog: Optional[pd.DataFrame] = None,
                      architectures: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Memory fit, decode bound, estimate and prefill bound for each deployment row.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``gpu``, ``architecture`` and optionally ``gpus`` [GPUs per
        replica, default 1], ``batch_size`` [sequences per replica; blank = the
        best batch that fits], ``context_tokens`` [tokens; blank = the
        assumption ``context_tokens``], ``weight_precision``, ``kv_precision``,
        ``memory_gb``, ``memory_bandwidth_tb_s`` (blank = catalog).
    assumptions : dict, optional
        Overrides of data/physics_assumptions.csv (``memory_reserve_fraction``,
        ``context_tokens``, ``bandwidth_efficiency``, ``flops_efficiency``).

    Returns
    -------
    pandas.DataFrame
        :data:`BOUND_COLUMNS` plus ``gpu_known`` / ``architecture_known``.
        ``min_gpus`` counts the KV cache of ``batch_size`` (or of one sequence
        when blank) at the context; ``fits`` is for that batch on ``gpus``;
        ``batch`` is the batch the rates are for (NaN where none fits), rates
        are per GPU of the group. Rows with an unknown GPU or architecture
        carry NaN.
    """
    a = _assumptions(assumptions)
    r = resolve(frame, gpus_catalog, architectures)
    known = (r["gpu_known"] & r["architecture_known"]).to_numpy()
    reserve = float(a["memory_reserve_fraction"])
    out = pd.DataFrame(index=frame.index)
    out["gpu"] = r["gpu"]
    out["architecture"] = r["architecture"]
    out["gpus"] = _column(frame, "gpus", 1.0)
    out["batch_size"] = _column(frame, "batch_size", None)
    out["context_tokens"] = _column(frame, "context_tokens", float(a["context_tokens"]))
    for column in ["weight_precision", "kv_precision", "memory_gb", "memory_bandwidth_tb_s",
                   "peak_tflops"]:
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
    ctx = o["context_tokens"].to_numpy(dtype=float)
    weights = ph.weights_bytes(k["total_params"].to_numpy(), k["weight_bytes_per_param"].to_numpy())
    kv_token = ph.kv_bytes_per_token(k["layers"].to_numpy(), k["kv_heads"].to_numpy(),
                                     k["head_dim"].to_numpy(), k["kv_bytes_per_value"].to_numpy(),
                                     k["kv_latent_dim"].to_numpy())
    share = k["local_layer_share"].to_numpy()
    window = k["local_window_tokens"].to_numpy()
    kv_seq = ph.kv_cache_bytes(kv_token, 1.0, ctx, share, window)
    given = o["batch_size"].to_numpy(dtype=float)
    batch_for_memory = np.where(np.isnan(given), 1.0, given)
    kv_need = kv_seq * batch_for_memory
    mem = k["memory_gb"].to_numpy()
    max_fit = ph.max_batch_that_fits(weights, np.maximum(kv_seq, 1e-9), mem, gpus, reserve)
    batch = np.where(np.isnan(given), np.where(max_fit >= 1, max_fit, np.nan), given)
    b = np.where(np.isnan(batch), 1.0, batch)  # placeholder; masked below
    args = dict(total_params=k["total_params"].to_numpy(), active_params=k["active_params"].to_numpy(),
                experts=k["experts"].to_numpy(), active_experts=k["active_experts"].to_numpy(),
                layers=k["layers"].to_numpy(), attention_heads=k["attention_heads"].to_numpy(),
                head_dim=k["head_dim"].to_numpy(), kv_bytes_per_token=kv_token,
                weight_bytes_per_param=k["weight_bytes_per_param"].to_numpy(),
                memory_bandwidth_tb_s=k["memory_bandwidth_tb_s"].to_numpy(),
                peak_tflops=k["peak_tflops"].to_numpy(), batch_size=b, context_tokens=ctx,
                gpus=gpus, local_layer_share=share, local_window_tokens=window)
    bound = ph.decode_tokens_per_s_bound(**args)
    estimate = ph.decode_tokens_per_s_estimate(**args,
                                               bandwidth_efficiency=float(a["bandwidth_efficiency"]),
                                               flops_efficiency=float(a["flops_efficiency"]))
    w_read = ph.weights_bytes_read_per_step(args["total_params"], args["active_params"],
                                            args["experts"], args["active_experts"], b,
                                            args["weight_bytes_per_param"])
    flops = b * ph.decode_flops_per_token(args["active_params"], args["layers"],
                                          args["attention_heads"], args["head_dim"], ctx, share,
                                          window)
    t_mem = (w_read + kv_seq * b) / (gpus * args["memory_bandwidth_tb_s"] * 1e12)
    t_flop = flops / (gpus * args["peak_tflops"] * 1e12)
    valid = ~np.isnan(batch)
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
    out.loc[idx, "bound_by"] = np.where(valid, np.where(t_mem >= t_flop, "memory bandwidth",
                                                        "compute"), "")
    out.loc[idx, "tokens_per_s_per_gpu_bound"] = np.where(valid, bound, np.nan)
    out.loc[idx, "tokens_per_s_per_user"] = np.where(valid, bound * gpus / b, np.nan)
    out.loc[idx, "tokens_per_s_per_gpu_estimate"] = np.where(valid, estimate, np.nan)
    out.loc[idx, "tokens_per_s_per_user_estimate"] = np.where(valid, estimate * gpus / b, np.nan)
    out.loc[idx, "prefill_tokens_per_s_per_gpu_bound"] = ph.prefill_tokens_per_s_bound(
        args["active_params"], args["layers"], args["attention_heads"], args["head_dim"], ctx,
        args["peak_tflops"], share, window)
    out["fits"] = out["fits"].astype(bool)
    return out[BOUND_COLUMNS + ["gpu_known", "architecture_known"]]


# --------------------------------------------------------------------------- validation

def published_validation(published: pd.DataFrame, assumptions: Optional[dict] = None,
                         bandwidth_efficiency: Optional[float] = None,
                         flops_efficiency: Optional[float] = None) -> pd.DataFrame:
    """The bound and the estimate next to measured throughput.

    *published* has the columns of ``published_throughput.csv``: model, gpu,
    gpus, precision, input_tokens, output_tokens, scenario ("batch N" fixes the
    batch; otherwise the best batch that fits), output_tok_s_total. Weights
    are taken at the row's precision, the KV cache at the assumption
    ``published_kv_precision``, the context at input + output / 2 (the average
    over a generation).

    Returns
    -------
    pandas.DataFrame
        One row per measurement: measured and bound output tokens/s per GPU,
        ``decode_bound`` (decode steps only, what ``tokencost bound`` prints),
        ``serving_bound`` (one roofline over prefill + decode),
        ``estimate`` (sequential kernels at the efficiencies, prefill included),
        ``bound_ratio`` = decode_bound / measured, ``serving_ratio`` and
        ``estimate_error`` = estimate / measured - 1.
    """
    a = _assumptions(assumptions)
    eb = float(a["bandwidth_efficiency"] if bandwidth_efficiency is None else bandwidth_efficiency)
    ef = float(a["flops_efficiency"] if flops_efficiency is None else flops_efficiency)
    p = published.reset_index(drop=True)
    inp = pd.to_numeric(p["input_tokens"]).to_numpy(dtype=float)
    outp = pd.to_numeric(p["output_tokens"]).to_numpy(dtype=float)
    batch = pd.to_numeric(p["scenario"].astype(str).str.extract(r"^batch\s+(\d+)")[0],
                          errors="coerce")
    deployments = pd.DataFrame({
        "gpu": p["gpu"], "architecture": p["model"], "gpus": pd.to_numeric(p["gpus"]),
        "batch_size": batch, "context_tokens": inp + outp / 2.0,
        "weight_precision": p["precision"].astype(str).str.casefold(),
        "kv_precision": str(a["published_kv_precision"]),
    })
    d = deployment_bounds(deployments, a)
    unknown = ~(d["gpu_known"] & d["architecture_known"])
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"published row {row + 1}",
                         f"no catalog entry for {p['model'][row]!r} on {p['gpu'][row]!r}")
    r = resolve(deployments)
    kv_token = d["kv_bytes_per_token"].to_numpy()
    common = (r["total_params"].to_numpy(), r["active_params"].to_numpy(), r["experts"].to_numpy(),
              r["active_experts"].to_numpy(), r["layers"].to_numpy(),
              r["attention_heads"].to_numpy(), r["head_dim"].to_numpy(), kv_token,
              r["weight_bytes_per_param"].to_numpy(), r["memory_bandwidth_tb_s"].to_numpy(),
              r["peak_tflops"].to_numpy(), d["batch"].to_numpy(), inp, outp)
    gpus = d["gpus"].to_numpy()
    local = dict(local_layer_share=r["local_layer_share"].to_numpy(),
                 local_window_tokens=r["local_window_tokens"].to_numpy())
    serving = ph.serving_tokens_per_s_bound(*common, gpus=gpus, **local)
    estimate = ph.serving_tokens_per_s_estimate(*common, gpus=gpus, **local,
                                                bandwidth_efficiency=eb, flops_efficiency=ef)
    measured = pd.to_numeric(p["output_tok_s_total"]).to_numpy(dtype=float) / gpus
    out = pd.DataFrame({
        "model": p["model"], "gpu": d["gpu"], "gpus": gpus, "precision": p["precision"],
        "input_tokens": inp, "output_tokens": outp, "batch": d["batch"],
        "bound_by": d["bound_by"], "measured_tokens_per_s_per_gpu": measured,
        "decode_bound": d["tokens_per_s_per_gpu_bound"], "serving_bound": serving,
        "estimate": estimate,
    })
    out["bound_ratio"] = out["decode_bound"] / measured
    out["serving_ratio"] = out["serving_bound"] / measured
    out["estimate_error"] = out["estimate"] / measured - 1.0
    return out


def calibrate_efficiency(published: pd.DataFrame, bandwidth_grid=None, flops_grid=None,
                         assumptions: Optional[dict] = None) -> dict:
    """The (bandwidth_efficiency, flops_efficiency) pair on a grid that minimises the
    median absolute error of the estimate against *published*.

    Returns ``{"bandwidth_efficiency", "flops_efficiency", "median_abs_error"}``.
    """
    bandwidth_grid = np.round(np.arange(0.30, 1.0001, 0.05), 2) if bandwidth_grid is None \
        else np.asarray(bandwidth_grid)
    flops_grid = np.round(np.arange(0.20, 1.0001, 0.05), 2) if flops_grid is None \
        else np.asarray(flops_grid)
    best = None
    for eb in bandwidth_grid:
        for ef in flops_grid:
            err = published_validation(published, assumptions, eb, ef)["estimate_error"].abs()
            score = float(np.median(err))
            if best is None or score < best[2] - 1e-12:
                best = (float(eb), float(ef), score)
    return {"bandwidth_efficiency": best[0], "flops_efficiency": best[1],
            "median_abs_error": best[2]}


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
    table when it gives them, so an analyst's edits there count). It fails when
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
        Context per sequence [tokens] (default: the assumption ``context_tokens``).
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
    models = inputs.models.reset_index(drop=True)
    frame = pd.DataFrame({
        "gpu": models["gpu"], "architecture": models["architecture"].fillna(""),
        "gpus": pd.to_numeric(models["gpus"]).fillna(1.0),
        "batch_size": pd.to_numeric(models["batch_size"]),
        "context_tokens": float(a["context_tokens"]),
    })
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
                    "tokens_per_s_per_gpu_estimate", "cost_estimate_usd_per_mtok", "bound_by"]


def frontier(gpu: str, architecture: str, gpus: float = 1.0, context_tokens: Optional[float] = None,
             gpu_hour_usd: Optional[float] = None, points: int = 24,
             assumptions: Optional[dict] = None) -> pd.DataFrame:
    """Cost per MTok against tokens/s per user, sweeping the batch from 1 to the best batch.

    The physics version of the throughput-interactivity trade-off that
    measured dashboards (InferenceMAX / InferenceX) plot: a small batch gives
    each user a fast stream at a high cost per token, the largest batch that
    fits gives the lowest cost. Batches are spaced geometrically (``points``
    of them, whole numbers, the best batch always included).

    Returns
    -------
    pandas.DataFrame
        :data:`FRONTIER_COLUMNS`; costs are NaN without ``gpu_hour_usd``.
        Empty when the model does not fit the group at all.
    """
    a = _assumptions(assumptions)
    ctx = float(a["context_tokens"] if context_tokens is None else context_tokens)
    if points < 2:
        raise InputError("points", f"points must be >= 2, got {points}")
    top = deployment_bounds(pd.DataFrame({"gpu": [gpu], "architecture": [architecture],
                                          "gpus": [gpus], "context_tokens": [ctx]}), a)
    _require_known(top.iloc[0], gpu, architecture)
    best = top["batch"].iloc[0]
    if np.isnan(best):
        return pd.DataFrame(columns=FRONTIER_COLUMNS)
    batches = np.unique(np.round(np.geomspace(1, best, points)))
    sweep = pd.DataFrame({"gpu": gpu, "architecture": architecture, "gpus": float(gpus),
                          "batch_size": batches, "context_tokens": ctx})
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
    return out[FRONTIER_COLUMNS].reset_index(drop=True)


def _require_known(row: pd.Series, gpu: str, architecture: str) -> None:
    if not row["gpu_known"]:
        cat.find_gpu(gpu)  # raises with the known names
    if not row["architecture_known"]:
        cat.find_architecture(architecture)


def bound(gpu: str, architecture: str, gpus: float = 1.0, batch_size: Optional[float] = None,
          context_tokens: Optional[float] = None, gpu_hour_usd: Optional[float] = None,
          assumptions: Optional[dict] = None) -> dict:
    """Everything ``tokencost bound`` prints for one deployment, as a flat dict.

    ``tokens_per_s_per_gpu_bound`` is at ``batch_size`` when given (memory not
    enforced: see ``fits``), else at the best batch that fits (None when even
    the weights do not fit). ``cost_floor_usd_per_mtok`` needs ``gpu_hour_usd``.
    """
    a = _assumptions(assumptions)
    if gpus is None or not np.isfinite(gpus) or gpus <= 0:
        raise InputError("gpus", f"gpus must be > 0, got {gpus}")
    if batch_size is not None and not batch_size > 0:
        raise InputError("batch", f"batch must be > 0, got {batch_size}")
    if context_tokens is not None and not context_tokens >= 0:
        raise InputError("context", f"context must be >= 0, got {context_tokens}")
    if gpu_hour_usd is not None and not gpu_hour_usd >= 0:
        raise InputError("gpu_hour_usd", f"gpu_hour_usd must be >= 0, got {gpu_hour_usd}")
    # then the rules every reader applies to these inputs: whole numbers, limits
    from ..inputs.schema import ARGUMENTS, MODELS
    for label, value, col in (("gpus", gpus, MODELS.column("gpus")),
                              ("batch", batch_size, MODELS.column("batch_size")),
                              ("context", context_tokens, ARGUMENTS["context_tokens"])):
        bad = col.problem(float(value)) if value is not None else None
        if bad:
            raise InputError(label, f"{label} {bad}")
    frame = pd.DataFrame({"gpu": [gpu], "architecture": [architecture], "gpus": [float(gpus)],
                          "batch_size": [np.nan if batch_size is None else float(batch_size)],
                          "context_tokens": [float(a["context_tokens"] if context_tokens is None
                                                   else context_tokens)]})
    d = deployment_bounds(frame, a).iloc[0]
    _require_known(d, gpu, architecture)
    result = {k: d[k] for k in BOUND_COLUMNS}
    result["fits"] = bool(d["fits"])
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
