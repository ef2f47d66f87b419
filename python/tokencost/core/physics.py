r"""Physical limits of LLM serving: memory fit, the decode roofline, the cost floor.

A decode step of a batch of ``B`` sequences on a group of ``N`` GPUs must move
every byte it reads through the GPUs' memory interfaces and do every FLOP on
their tensor cores, so (the roofline model [1]_)

.. math::

    t_{step} \ge \max\left(\frac{bytes_{step}}{N \cdot BW},\;
                           \frac{FLOPs_{step}}{N \cdot peak}\right)

with :math:`bytes_{step}` = weights read + KV cache read and
:math:`FLOPs_{step}` = :math:`B \cdot (2 \cdot active\ params + attention)`
(the accounting of Pope et al. [2]_ and Kaplan et al.'s :math:`2N` FLOPs per
token [3]_). The step produces ``B`` tokens, so the group's throughput is at
most :math:`B / t_{step}`, each user sees :math:`1 / t_{step}` tokens/s, and
each GPU contributes :math:`B / (N \cdot t_{step})`.

For a mixture-of-experts model a batch does not read all experts or just one:
``B`` tokens each routed to ``k`` of ``E`` experts touch on average
:math:`E\,(1 - (1 - k/E)^B)` distinct experts per MoE layer (the occupancy
formula for uniform, independent routing [4]_). Uniform routing maximises the
expected number of distinct experts, so skewed real routing reads fewer bytes.

Attention KV cache per token is :math:`2 \cdot layers \cdot kv\_heads \cdot
head\_dim` values for standard and grouped-query attention [5]_, and the
compressed latent (:math:`d_c + d_h^R` = 512 + 64 values per layer for
DeepSeek-V2/V3's multi-head latent attention) for MLA [6]_ [7]_.

The compute side counts the FLOPs a decode step cannot avoid, each on the
tensor cores at its own precision: the weight GEMMs (dense layers and the
routed experts, 2 FLOPs per active parameter) at the weight precision's peak,
and attention over the context at the KV cache's precision. For MLA the
decode kernels work on the latent itself (the "absorbed" form of DeepSeek-V2
[6]_, FlashMLA): 2 x heads x ((d_c + d_h^R) + d_c) FLOPs per attended token
per layer, which grows with the context and dominates a long-context MLA
decode step [9]_. The bound is

.. math::

    t_{step} \ge \max\left(\frac{bytes}{N \cdot BW},\;
        \frac{FLOPs_{GEMM}}{N \cdot peak_w} + \frac{FLOPs_{attn}}{N \cdot peak_{kv}}\right)

(the tensor cores are busy for the sum of both). It leaves out
communication, which only adds time; the estimate adds the expert-parallel
all-to-all over the interconnect (:func:`expert_parallel_bytes_per_token`,
:func:`all_to_all_bandwidth_gb_s`).

Throughput grows with batch (weights are read once per step for the whole
batch, KV and FLOPs grow linearly), so the best batch is the largest whose KV
cache fits next to the weights: :func:`best_batch`. Per-user speed falls as
the batch grows, so an interactivity target (tokens/s per user) caps the
batch: :func:`decode_batch_for_tokens_per_s_per_user`.

Units: parameters and tokens are counts, bytes are bytes (1 GB = 1e9 B,
1 TB/s = 1e12 B/s, as datasheets use them), FLOP rates are TFLOP/s (1e12),
times are seconds, money is USD. Every function takes scalars, numpy arrays
or pandas Series (broadcast together) and raises
:class:`~tokencost.errors.InputError` naming a bad argument.

References
----------
.. [1] S. Williams, A. Waterman, D. Patterson (2009), "Roofline: an insightful
   visual performance model for multicore architectures", Commun. ACM 52(4).
.. [2] R. Pope et al. (2022), "Efficiently Scaling Transformer Inference",
   arXiv:2211.05102, section 2 (memory time vs compute time per step, KV cache
   size, 2 x params FLOPs per token).
.. [3] J. Kaplan et al. (2020), "Scaling Laws for Neural Language Models",
   arXiv:2001.08361, table 1 (forward pass 2N + 2 n_layer n_ctx d_attn FLOPs per token).
.. [4] W. Feller (1968), "An Introduction to Probability Theory and Its
   Applications", vol. 1, ch. IV (occupancy problems): expected occupied cells.
.. [5] J. Ainslie et al. (2023), "GQA: Training Generalized Multi-Query
   Transformer Models from Multi-Head Checkpoints", arXiv:2305.13245.
.. [6] DeepSeek-AI (2024), "DeepSeek-V2: A Strong, Economical, and Efficient
   Mixture-of-Experts Language Model", arXiv:2405.04434, section 2.1 (MLA:
   (d_c + d_h^R) x l elements of KV cache per token).
.. [7] DeepSeek-AI (2024), "DeepSeek-V3 Technical Report", arXiv:2412.19437
   (d_c = 512, d_h^R = 64, 61 layers, 256 routed experts, 8 active).
.. [8] Z. Yuan et al. (2024), "LLM Inference Unveiled: Survey and Roofline
   Model Insights", arXiv:2402.16363.
.. [9] DeepSeek-AI (2025), FlashMLA (github.com/deepseek-ai/FlashMLA): MLA
   decode kernels on the 576-value latent (512 for values), compute-bound on
   H800 at large batch; SGLang team (2025), "Deploying DeepSeek on GB200 NVL72
   with PD and Large Scale EP (Part II)", lmsys.org blog (FP8 attention: "allows
   faster Tensor Core instructions").
.. [10] C. Zhao et al. (2025), DeepEP (github.com/deepseek-ai/DeepEP): the
   expert-parallel dispatch (FP8 tokens) and combine (BF16) of DeepSeek-V3,
   each token sent once per destination GPU; DeepSeek-V3 Technical Report
   [7]_ section 3.2 (all-to-all over NVLink within a node and InfiniBand
   between nodes).
.. [11] S. Yang, J. Kautz, A. Hatamizadeh (2024), "Gated Delta Networks:
   Improving Mamba2 with Delta Rule", arXiv:2412.06464: a linear-attention
   layer keeps a fixed heads x d_k x d_v state per sequence instead of a KV
   cache (the hybrid layers of Qwen3-Next / Qwen3.5).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ._arrays import broadcast, check, wrap
from .throughput import cost_per_mtok

BYTES_PER_GB = 1e9
BYTES_PER_S_PER_TB_S = 1e12
FLOPS_PER_TFLOPS = 1e12

#: default share of GPU memory kept back from weights and KV cache (CUDA
#: context, activations, communication buffers); the shipped value and its
#: source are in data/physics_assumptions.csv
DEFAULT_MEMORY_RESERVE_FRACTION = 0.05

__all__ = [
    "weights_bytes", "kv_bytes_per_token", "kv_cache_bytes", "expected_experts_touched",
    "weights_bytes_read_per_step", "attention_context_tokens", "decode_context_tokens",
    "attention_flops_per_token", "decode_flops_per_token",
    "usable_memory_bytes", "min_gpus", "fits", "max_batch_that_fits", "best_batch",
    "expert_parallel_bytes_per_token", "all_to_all_bandwidth_gb_s",
    "decode_step_time_s", "decode_step_time_bound_s", "decode_step_time_estimate_s",
    "decode_tokens_per_s_bound", "decode_tokens_per_s_estimate",
    "decode_tokens_per_s_per_user", "decode_batch_for_tokens_per_s_per_user",
    "prefill_flops_per_token", "prefill_tokens_per_s_bound", "prefill_tokens_per_s_estimate",
    "cost_floor_usd_per_mtok", "serving_tokens_per_s_estimate", "serving_tokens_per_s_bound",
]


def _bool(result, *inputs):
    """Like :func:`wrap` but for booleans (a bool, a bool ndarray or a bool Series)."""
    for item in inputs:
        if isinstance(item, pd.Series):
            arr = np.asarray(result, dtype=bool)
            if arr.ndim == 0:
                arr = np.full(len(item), bool(arr))
            return pd.Series(arr, index=item.index)
    arr = np.asarray(result, dtype=bool)
    return bool(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- memory

def weights_bytes(total_params, weight_bytes_per_param):
    """Bytes of model weights held in GPU memory.

    weights_bytes = total_params x weight_bytes_per_param (70e9 parameters at
    FP8, 1 byte each, are 70 GB).

    Parameters
    ----------
    total_params : float or array-like
        All parameters of the model, every expert included [parameters]. Must be > 0.
    weight_bytes_per_param : float or array-like
        Storage per parameter [bytes]: 2 for BF16, 1 for FP8, 0.5 for FP4. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Weights [bytes].
    """
    params = check(total_params, "total_params", gt=0)
    per = check(weight_bytes_per_param, "weight_bytes_per_param", gt=0)
    broadcast(total_params=params, weight_bytes_per_param=per)
    return wrap(params * per, total_params, weight_bytes_per_param)


def kv_bytes_per_token(layers, kv_heads, head_dim, kv_bytes_per_value, kv_latent_dim=0):
    """KV cache bytes one token adds, over all layers.

    Standard / grouped-query attention stores a key and a value vector per KV
    head per layer: 2 x layers x kv_heads x head_dim x bytes [2]_ [5]_
    (Llama-3-70B at BF16: 2 x 80 x 8 x 128 x 2 = 327,680 B).
    Latent-compressed attention (DeepSeek's MLA) stores one latent vector per
    layer shared by keys and values: layers x kv_latent_dim x bytes [6]_
    (DeepSeek-V3 at BF16: 61 x (512 + 64) x 2 = 70,272 B). Where
    ``kv_latent_dim`` > 0 the latent formula is used and ``kv_heads`` and
    ``head_dim`` are ignored.

    Parameters
    ----------
    layers : float or array-like
        Transformer layers [count]. Must be > 0.
    kv_heads : float or array-like
        Key/value heads per layer (= attention heads without GQA) [count]. Must be > 0.
    head_dim : float or array-like
        Dimension of one head [values]. Must be > 0.
    kv_bytes_per_value : float or array-like
        Storage per cached value [bytes]: 2 for BF16, 1 for FP8. Must be > 0.
    kv_latent_dim : float or array-like, default 0
        Values cached per token per layer for latent attention (MLA: d_c + d_h^R);
        0 for standard attention [values]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        KV cache per token [bytes/token].
    """
    n_layers = check(layers, "layers", gt=0)
    heads = check(kv_heads, "kv_heads", gt=0)
    dim = check(head_dim, "head_dim", gt=0)
    per = check(kv_bytes_per_value, "kv_bytes_per_value", gt=0)
    latent = check(kv_latent_dim, "kv_latent_dim", ge=0)
    broadcast(layers=n_layers, kv_heads=heads, head_dim=dim, kv_bytes_per_value=per,
              kv_latent_dim=latent)
    values_per_layer = np.where(latent > 0, latent, 2.0 * heads * dim)
    return wrap(n_layers * values_per_layer * per,
                layers, kv_heads, head_dim, kv_bytes_per_value, kv_latent_dim)


def attention_context_tokens(context_tokens, local_layer_share=0.0, local_window_tokens=0.0):
    """Tokens each layer attends to, averaged over layers.

    Layers with sliding-window or chunked (local) attention keep at most their
    window: effective = (1 - s) x context + s x min(context, window), where s is
    the share of local layers (gpt-oss: half its layers, window 128; Llama 4:
    three in four layers, chunks of 8,192).

    Parameters
    ----------
    context_tokens : float or array-like
        Tokens in the sequence so far (prompt + generated) [tokens]. Must be >= 0.
    local_layer_share : float or array-like, default 0
        Share of layers that use local attention [-], in [0, 1].
    local_window_tokens : float or array-like, default 0
        Window of the local layers [tokens]. Must be >= 0 (ignored where the share is 0).

    Returns
    -------
    float, ndarray or Series
        Average attended tokens per layer [tokens].
    """
    ctx = check(context_tokens, "context_tokens", ge=0)
    share = check(local_layer_share, "local_layer_share", ge=0, le=1)
    window = check(local_window_tokens, "local_window_tokens", ge=0)
    broadcast(context_tokens=ctx, local_layer_share=share, local_window_tokens=window)
    local = np.where(share > 0, np.minimum(ctx, window), ctx)
    return wrap((1.0 - share) * ctx + share * local,
                context_tokens, local_layer_share, local_window_tokens)


def decode_context_tokens(input_tokens, output_tokens):
    """Average context a decode step attends to over a generation.

    A request of ``input_tokens`` prompt tokens generating ``output_tokens``
    attends to input + i tokens at its i-th step, on average
    input + output / 2 (a steady batch holds requests at every stage of their
    generation, so this is also the average KV cache a sequence holds).

    Parameters
    ----------
    input_tokens : float or array-like
        Prompt length [tokens]. Must be >= 0.
    output_tokens : float or array-like
        Generated tokens per request [tokens]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Average attended context [tokens].
    """
    inp = check(input_tokens, "input_tokens", ge=0)
    out = check(output_tokens, "output_tokens", gt=0)
    broadcast(input_tokens=inp, output_tokens=out)
    return wrap(inp + out / 2.0, input_tokens, output_tokens)


def kv_cache_bytes(kv_bytes_per_token, batch_size, context_tokens, local_layer_share=0.0,
                   local_window_tokens=0.0, state_bytes_per_sequence=0.0):
    """KV cache of a batch of sequences at a given context length.

    kv_cache_bytes = batch_size x (kv_bytes_per_token x attended context +
    state_bytes_per_sequence) (see :func:`attention_context_tokens` for
    local-attention layers; the state is the fixed per-sequence memory of
    linear-attention layers [11]_, 0 for pure transformers).

    Parameters
    ----------
    kv_bytes_per_token : float or array-like
        From :func:`kv_bytes_per_token` [bytes/token]. Must be >= 0.
    batch_size : float or array-like
        Concurrent sequences [count]. Must be >= 0.
    context_tokens : float or array-like
        Tokens per sequence [tokens]. Must be >= 0.
    local_layer_share, local_window_tokens : float or array-like, default 0
        As in :func:`attention_context_tokens`.
    state_bytes_per_sequence : float or array-like, default 0
        Recurrent state one sequence holds whatever its length (Gated DeltaNet /
        Mamba layers: heads x d_k x d_v values per layer) [bytes]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        KV cache [bytes].
    """
    per = check(kv_bytes_per_token, "kv_bytes_per_token", ge=0)
    batch = check(batch_size, "batch_size", ge=0)
    state = check(state_bytes_per_sequence, "state_bytes_per_sequence", ge=0)
    ctx = attention_context_tokens(check(context_tokens, "context_tokens", ge=0),
                                   check(local_layer_share, "local_layer_share", ge=0, le=1),
                                   check(local_window_tokens, "local_window_tokens", ge=0))
    broadcast(kv_bytes_per_token=per, batch_size=batch, context_tokens=ctx,
              state_bytes_per_sequence=state)
    return wrap(batch * (per * np.asarray(ctx) + state), kv_bytes_per_token, batch_size,
                context_tokens, local_layer_share, local_window_tokens, state_bytes_per_sequence)


def usable_memory_bytes(memory_gb, gpus=1.0, memory_reserve_fraction=DEFAULT_MEMORY_RESERVE_FRACTION):
    """GPU memory available to weights and KV cache in a group of GPUs.

    usable = gpus x memory_gb x 1e9 x (1 - memory_reserve_fraction)

    Parameters
    ----------
    memory_gb : float or array-like
        Memory of one GPU [GB, 1e9 bytes]. Must be > 0.
    gpus : float or array-like, default 1
        GPUs in the group [count]. Must be > 0.
    memory_reserve_fraction : float or array-like, default 0.05
        Share of memory kept back for the CUDA context, activations and
        communication buffers [-], in [0, 1). The default is deliberately small
        (an engine's own cap, e.g. vLLM's gpu_memory_utilization = 0.9, is more
        cautious), so that a "does not fit" verdict is a safe one.

    Returns
    -------
    float, ndarray or Series
        Usable memory [bytes].
    """
    mem = check(memory_gb, "memory_gb", gt=0)
    n = check(gpus, "gpus", gt=0)
    reserve = check(memory_reserve_fraction, "memory_reserve_fraction", ge=0, lt=1)
    broadcast(memory_gb=mem, gpus=n, memory_reserve_fraction=reserve)
    return wrap(n * mem * BYTES_PER_GB * (1.0 - reserve), memory_gb, gpus, memory_reserve_fraction)


def min_gpus(weights_bytes, memory_gb, kv_cache_bytes=0.0,
             memory_reserve_fraction=DEFAULT_MEMORY_RESERVE_FRACTION):
    """Fewest GPUs whose memory holds the weights and a KV cache.

    min_gpus = ceil((weights + kv_cache) / (memory_gb x 1e9 x (1 - reserve)))
    (a 284B-parameter model at FP8 on 80 GB GPUs with 5 % reserve:
    ceil(284 / 76) = 4). Assumes weights and KV shard evenly (tensor or
    expert parallelism with no replicated parts), which gives the smallest count.

    Parameters
    ----------
    weights_bytes : float or array-like
        From :func:`weights_bytes` [bytes]. Must be > 0.
    memory_gb : float or array-like
        Memory of one GPU [GB]. Must be > 0.
    kv_cache_bytes : float or array-like, default 0
        KV cache the deployment must hold as well [bytes]. Must be >= 0.
    memory_reserve_fraction : float or array-like, default 0.05
        As in :func:`usable_memory_bytes`.

    Returns
    -------
    float, ndarray or Series
        GPUs [count, a whole number >= 1].
    """
    w = check(weights_bytes, "weights_bytes", gt=0)
    kv = check(kv_cache_bytes, "kv_cache_bytes", ge=0)
    per_gpu = np.asarray(usable_memory_bytes(check(memory_gb, "memory_gb", gt=0), 1.0,
                                             check(memory_reserve_fraction, "memory_reserve_fraction",
                                                   ge=0, lt=1)))
    broadcast(weights_bytes=w, memory_gb=per_gpu, kv_cache_bytes=kv)
    # a hair of tolerance so that an exact fit is not pushed up by rounding
    n = np.maximum(np.ceil((w + kv) / per_gpu * (1.0 - 1e-12)), 1.0)
    return wrap(n, weights_bytes, memory_gb, kv_cache_bytes, memory_reserve_fraction)


def fits(weights_bytes, kv_cache_bytes, memory_gb, gpus=1.0,
         memory_reserve_fraction=DEFAULT_MEMORY_RESERVE_FRACTION):
    """Whether weights plus KV cache fit in a group's usable memory.

    Parameters
    ----------
    weights_bytes : float or array-like
        [bytes]. Must be > 0.
    kv_cache_bytes : float or array-like
        [bytes]. Must be >= 0.
    memory_gb : float or array-like
        Memory of one GPU [GB]. Must be > 0.
    gpus : float or array-like, default 1
        GPUs in the group [count]. Must be > 0.
    memory_reserve_fraction : float or array-like, default 0.05
        As in :func:`usable_memory_bytes`.

    Returns
    -------
    bool, ndarray of bool or Series of bool
    """
    w = check(weights_bytes, "weights_bytes", gt=0)
    kv = check(kv_cache_bytes, "kv_cache_bytes", ge=0)
    usable = np.asarray(usable_memory_bytes(memory_gb, gpus, memory_reserve_fraction))
    broadcast(weights_bytes=w, kv_cache_bytes=kv, usable=usable)
    return _bool(w + kv <= usable * (1.0 + 1e-12), weights_bytes, kv_cache_bytes, memory_gb, gpus,
                 memory_reserve_fraction)


def max_batch_that_fits(weights_bytes, kv_bytes_per_sequence, memory_gb, gpus=1.0,
                        memory_reserve_fraction=DEFAULT_MEMORY_RESERVE_FRACTION):
    """Most sequences whose KV cache fits next to the weights.

    floor((usable memory - weights) / kv_bytes_per_sequence), and 0 where the
    weights alone do not fit.

    Parameters
    ----------
    weights_bytes : float or array-like
        [bytes]. Must be > 0.
    kv_bytes_per_sequence : float or array-like
        KV cache of one sequence at the context considered (from
        :func:`kv_cache_bytes` with batch 1) [bytes]. Must be > 0.
    memory_gb, gpus, memory_reserve_fraction
        As in :func:`usable_memory_bytes`.

    Returns
    -------
    float, ndarray or Series
        Sequences [count, a whole number >= 0].
    """
    w = check(weights_bytes, "weights_bytes", gt=0)
    per_seq = check(kv_bytes_per_sequence, "kv_bytes_per_sequence", gt=0)
    usable = np.asarray(usable_memory_bytes(memory_gb, gpus, memory_reserve_fraction))
    broadcast(weights_bytes=w, kv_bytes_per_sequence=per_seq, usable=usable)
    batch = np.floor(np.maximum(usable - w, 0.0) / per_seq * (1.0 + 1e-12))
    return wrap(batch, weights_bytes, kv_bytes_per_sequence, memory_gb, gpus, memory_reserve_fraction)


def best_batch(weights_bytes, kv_bytes_per_sequence, memory_gb, gpus=1.0,
               memory_reserve_fraction=DEFAULT_MEMORY_RESERVE_FRACTION, max_batch=np.inf):
    """The batch that maximises decode throughput within memory.

    Tokens per step grow linearly with the batch while the bytes per step grow
    at most linearly (weights are read once for the whole batch; for MoE the
    distinct experts touched grow concavely) and FLOPs grow linearly, so
    tokens/s = batch / step time never falls as the batch grows: the best batch
    is the largest that fits, :func:`max_batch_that_fits`, capped at
    ``max_batch`` (an engine's own limit, if any).

    Parameters
    ----------
    weights_bytes, kv_bytes_per_sequence, memory_gb, gpus, memory_reserve_fraction
        As in :func:`max_batch_that_fits`.
    max_batch : float or array-like, default inf
        Largest batch the engine runs [count]. Must be >= 1.

    Returns
    -------
    float, ndarray or Series
        Batch [count, a whole number >= 0; 0 where the weights do not fit].
    """
    cap = check(max_batch, "max_batch", ge=1)
    fit = np.asarray(max_batch_that_fits(weights_bytes, kv_bytes_per_sequence, memory_gb, gpus,
                                         memory_reserve_fraction))
    broadcast(fit=fit, max_batch=cap)
    return wrap(np.minimum(fit, np.floor(cap)), weights_bytes, kv_bytes_per_sequence, memory_gb,
                gpus, memory_reserve_fraction, max_batch)


# --------------------------------------------------------------------------- bytes and FLOPs

def expected_experts_touched(experts, active_experts, batch_size):
    """Expected distinct experts a batch routes to, per MoE layer.

    E x (1 - (1 - k/E)^B) for B tokens each choosing k of E experts uniformly
    and independently [4]_ (DeepSeek-V3, E = 256, k = 8: 8 at B = 1, 101.9 at
    B = 16, about 256 from B = 256 on). A dense model is E = k = 1.

    Parameters
    ----------
    experts : float or array-like
        Routed experts per MoE layer, E [count]. Must be >= 1.
    active_experts : float or array-like
        Routed experts each token uses, k [count]. Must be >= 1 and <= experts.
    batch_size : float or array-like
        Tokens in the step, B [count]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        Distinct experts [count, between min(k, E) x (B > 0) and E].
    """
    e = check(experts, "experts", ge=1)
    k = check(active_experts, "active_experts", ge=1)
    b = check(batch_size, "batch_size", ge=0)
    broadcast(experts=e, active_experts=k, batch_size=b)
    if np.any(k > e):
        first = np.broadcast_arrays(k, e)
        raise InputError("active_experts",
                         f"active_experts must be <= experts, got {first[0][first[0] > first[1]].flat[0]:g}")
    ratio = k / e
    partial = ratio < 1
    # 1 - (1 - k/E)^B via log1p/expm1; k = E (dense) touches all E as soon as B > 0
    safe = np.where(partial, ratio, 0.0)
    share = np.where(partial, -np.expm1(b * np.log1p(-safe)), np.where(b > 0, 1.0, 0.0))
    return wrap(e * share, experts, active_experts, batch_size)


def weights_bytes_read_per_step(total_params, active_params, experts, active_experts, batch_size,
                                weight_bytes_per_param):
    """Weight bytes one decode step reads for a batch.

    Dense (experts = active_experts): all weights. MoE: the always-active
    parameters plus the distinct experts the batch touches. With
    per_expert = (total - active) / (E - k) and
    shared = active - k x per_expert (attention, embeddings, dense layers,
    shared experts), bytes = (shared + touched x per_expert) x bytes/param,
    touched from :func:`expected_experts_touched`. Batch 1 reads the active
    parameters; a large batch reads them all.

    Parameters
    ----------
    total_params, active_params : float or array-like
        All parameters and those one token uses [parameters]. Must be > 0,
        active <= total.
    experts, active_experts : float or array-like
        Routed experts per MoE layer and per token [count] (1 and 1 for dense).
    batch_size : float or array-like
        Sequences decoded in the step [count]. Must be >= 0.
    weight_bytes_per_param : float or array-like
        [bytes]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Weights read per step [bytes].
    """
    total = check(total_params, "total_params", gt=0)
    active = check(active_params, "active_params", gt=0)
    e = check(experts, "experts", ge=1)
    k = check(active_experts, "active_experts", ge=1)
    b = check(batch_size, "batch_size", ge=0)
    per = check(weight_bytes_per_param, "weight_bytes_per_param", gt=0)
    broadcast(total_params=total, active_params=active, experts=e, active_experts=k,
              batch_size=b, weight_bytes_per_param=per)
    if np.any(active > total):
        raise InputError("active_params", "active_params must be <= total_params")
    touched = np.asarray(expected_experts_touched(e, k, b))
    moe = e > k
    with np.errstate(divide="ignore", invalid="ignore"):
        per_expert = np.where(moe, (total - active) / np.where(moe, e - k, 1.0), 0.0)
    shared = np.maximum(active - k * per_expert, 0.0)
    params_read = np.where(moe, shared + touched * per_expert, total)
    return wrap(params_read * per, total_params, active_params, experts, active_experts, batch_size,
                weight_bytes_per_param)


def attention_flops_per_token(layers, attention_heads, head_dim, context_tokens,
                              local_layer_share=0.0, local_window_tokens=0.0, kv_latent_dim=0.0,
                              kv_lora_rank=0.0):
    """Attention FLOPs to generate one token (scores and the weighted sum over the context).

    2 x layers x heads x (d_qk + d_v) x attended context: a multiply-add per
    query value per cached key (Q.K) and per cached value (the weighted sum of
    V) [2]_ [3]_. Standard / grouped-query attention: d_qk = d_v = head_dim
    (= 4 x layers x heads x head_dim x context). Latent attention (MLA) decodes
    on the latent itself (the absorbed form, the fewest FLOPs for a latent
    cache [6]_ [9]_): d_qk = kv_latent_dim (d_c + d_h^R = 576 for DeepSeek-V3)
    and d_v = kv_lora_rank (d_c = 512), 3.4 x the FLOPs of its 128-dim heads.
    Layers without a KV cache over the context (linear attention with
    local_window_tokens = 0) add nothing here.

    Parameters
    ----------
    layers, attention_heads, head_dim : float or array-like
        Layers, query heads per layer, head dimension [count, count, values]. Must be > 0.
    context_tokens : float or array-like
        Tokens attended to [tokens]. Must be >= 0.
    local_layer_share, local_window_tokens : float or array-like, default 0
        As in :func:`attention_context_tokens`.
    kv_latent_dim : float or array-like, default 0
        Latent values cached per token per layer (MLA); 0 for standard attention [values].
        Must be >= 0.
    kv_lora_rank : float or array-like, default 0
        The part of the latent values are read from (MLA's d_c) [values]. Must be >= 0
        and <= kv_latent_dim; ignored for standard attention.

    Returns
    -------
    float, ndarray or Series
        Attention FLOPs per generated token [FLOP/token].
    """
    n_layers = check(layers, "layers", gt=0)
    heads = check(attention_heads, "attention_heads", gt=0)
    dim = check(head_dim, "head_dim", gt=0)
    latent = check(kv_latent_dim, "kv_latent_dim", ge=0)
    rank = check(kv_lora_rank, "kv_lora_rank", ge=0)
    ctx = np.asarray(attention_context_tokens(context_tokens, local_layer_share, local_window_tokens))
    broadcast(layers=n_layers, attention_heads=heads, head_dim=dim, context_tokens=ctx,
              kv_latent_dim=latent, kv_lora_rank=rank)
    if np.any((latent > 0) & (rank > latent)):
        raise InputError("kv_lora_rank", "kv_lora_rank must be <= kv_latent_dim")
    per_head = np.where(latent > 0, latent + rank, 2.0 * dim)
    return wrap(2.0 * n_layers * heads * per_head * ctx, layers, attention_heads, head_dim,
                context_tokens, local_layer_share, local_window_tokens, kv_latent_dim, kv_lora_rank)


def decode_flops_per_token(active_params, layers, attention_heads, head_dim, context_tokens,
                           local_layer_share=0.0, local_window_tokens=0.0, kv_latent_dim=0.0,
                           kv_lora_rank=0.0):
    """FLOPs to generate one token.

    2 x active_params (every weight is a multiply-add) plus
    :func:`attention_flops_per_token` (for standard attention
    2 x 2 x layers x heads x head_dim x attended context) [2]_ [3]_.

    Parameters
    ----------
    active_params : float or array-like
        Parameters used per token [parameters]. Must be > 0.
    layers, attention_heads, head_dim : float or array-like
        Layers, query heads per layer, head dimension [count, count, values]. Must be > 0.
    context_tokens : float or array-like
        Tokens attended to [tokens]. Must be >= 0.
    local_layer_share, local_window_tokens : float or array-like, default 0
        As in :func:`attention_context_tokens`.
    kv_latent_dim, kv_lora_rank : float or array-like, default 0
        As in :func:`attention_flops_per_token` (MLA's absorbed decode).

    Returns
    -------
    float, ndarray or Series
        FLOPs per generated token [FLOP/token].
    """
    active = check(active_params, "active_params", gt=0)
    attention = np.asarray(attention_flops_per_token(layers, attention_heads, head_dim,
                                                     context_tokens, local_layer_share,
                                                     local_window_tokens, kv_latent_dim,
                                                     kv_lora_rank))
    broadcast(active_params=active, attention=attention)
    return wrap(2.0 * active + attention, active_params, layers, attention_heads, head_dim,
                context_tokens, local_layer_share, local_window_tokens, kv_latent_dim, kv_lora_rank)


def expert_parallel_bytes_per_token(hidden_size, moe_layers, experts, active_experts, gpus,
                                    dispatch_bytes_per_value, combine_bytes_per_value):
    """Bytes one token sends to other GPUs through the expert-parallel all-to-all.

    Each MoE layer dispatches the token's hidden vector to the GPUs holding
    its ``k`` experts and combines their outputs back, one copy per
    destination GPU [10]_. With the experts spread evenly over ``gpus`` GPUs
    and uniform routing, a token reaches on average
    (gpus - 1) x (1 - (1 - 1/gpus)^k) other GPUs (the occupancy formula [4]_), so

    bytes = moe_layers x hidden_size x (gpus - 1) x (1 - (1 - 1/gpus)^k)
            x (dispatch_bytes_per_value + combine_bytes_per_value)

    (DeepSeek-V3 on 48 GPUs, FP8 dispatch and BF16 combine: 58 x 7,168 x
    7.3 x 3 = 9.1 MB per token). 0 for a dense model or a single GPU.

    Parameters
    ----------
    hidden_size : float or array-like
        Model dimension [values]. Must be > 0.
    moe_layers : float or array-like
        Layers with routed experts [count]. Must be >= 0.
    experts, active_experts : float or array-like
        Routed experts per MoE layer and per token [count] (1 and 1 for dense).
    gpus : float or array-like
        GPUs the experts are spread over [count]. Must be > 0.
    dispatch_bytes_per_value, combine_bytes_per_value : float or array-like
        Precision of the tokens sent to the experts (quantized to the expert
        GEMMs' input: 1 for FP8, 0.5 for NVFP4) and of the outputs sent back
        (2 for BF16) [bytes]. Must be >= 0.

    Returns
    -------
    float, ndarray or Series
        Bytes sent per token [bytes/token].
    """
    hidden = check(hidden_size, "hidden_size", gt=0)
    layers_moe = check(moe_layers, "moe_layers", ge=0)
    e = check(experts, "experts", ge=1)
    k = check(active_experts, "active_experts", ge=1)
    n = check(gpus, "gpus", gt=0)
    dispatch = check(dispatch_bytes_per_value, "dispatch_bytes_per_value", ge=0)
    combine = check(combine_bytes_per_value, "combine_bytes_per_value", ge=0)
    broadcast(hidden_size=hidden, moe_layers=layers_moe, experts=e, active_experts=k, gpus=n,
              dispatch_bytes_per_value=dispatch, combine_bytes_per_value=combine)
    peers = np.maximum(n - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reached = np.where(n > 1, peers * -np.expm1(k * np.log1p(-1.0 / np.maximum(n, 1.0 + 1e-12))),
                           0.0)
    reached = np.where(e > k, reached, 0.0)
    return wrap(layers_moe * hidden * reached * (dispatch + combine), hidden_size, moe_layers,
                experts, active_experts, gpus, dispatch_bytes_per_value, combine_bytes_per_value)


def all_to_all_bandwidth_gb_s(gpus, scaleup_gb_s, scaleup_domain_gpus, scaleout_gb_s):
    """Per-GPU bandwidth of an all-to-all among ``gpus`` GPUs.

    Within one scale-up domain (NVLink: 8 GPUs of an HGX board, 72 of a GB200
    NVL72 rack) every peer is reached over NVLink. Beyond it, a share
    (gpus - domain) / (gpus - 1) of the peers sits behind the scale-out
    network (InfiniBand / Ethernet NICs, about 50 GB/s per GPU) while the
    rest stays on NVLink; both links run at once, so

    bandwidth = 1 / max(in_share / scaleup, out_share / scaleout)

    per GPU (DeepSeek-V3 [7]_ section 3.2: cross-node all-to-all limited by
    InfiniBand, within a node by NVLink).

    Parameters
    ----------
    gpus : float or array-like
        GPUs in the all-to-all [count]. Must be > 0.
    scaleup_gb_s : float or array-like
        Per-GPU, one-direction NVLink bandwidth [GB/s]. Must be > 0.
    scaleup_domain_gpus : float or array-like
        GPUs in one NVLink domain [count]. Must be >= 1.
    scaleout_gb_s : float or array-like
        Per-GPU, one-direction network bandwidth [GB/s]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Bandwidth per GPU [GB/s] (the NVLink figure for a group within one domain).
    """
    n = check(gpus, "gpus", gt=0)
    up = check(scaleup_gb_s, "scaleup_gb_s", gt=0)
    domain = check(scaleup_domain_gpus, "scaleup_domain_gpus", ge=1)
    out = check(scaleout_gb_s, "scaleout_gb_s", gt=0)
    broadcast(gpus=n, scaleup_gb_s=up, scaleup_domain_gpus=domain, scaleout_gb_s=out)
    peers = np.maximum(n - 1.0, 1.0)
    outside = np.clip(n - domain, 0.0, None) / peers
    inside = 1.0 - outside
    return wrap(1.0 / np.maximum(inside / up, outside / out), gpus, scaleup_gb_s,
                scaleup_domain_gpus, scaleout_gb_s)


def prefill_flops_per_token(active_params, layers, attention_heads, head_dim, input_tokens,
                            local_layer_share=0.0, local_window_tokens=0.0):
    """FLOPs per prompt token to prefill a prompt of ``input_tokens``.

    2 x active_params + 2 x layers x heads x head_dim x attended context: with
    causal attention the i-th token attends to i tokens, on average half the
    prompt, hence half the decode attention term of
    :func:`decode_flops_per_token` at the full prompt length [3]_.

    Parameters
    ----------
    active_params, layers, attention_heads, head_dim
        As in :func:`decode_flops_per_token`.
    input_tokens : float or array-like
        Prompt length [tokens]. Must be >= 0.
    local_layer_share, local_window_tokens
        As in :func:`attention_context_tokens`.

    Returns
    -------
    float, ndarray or Series
        FLOPs per prompt token [FLOP/token].
    """
    inp = check(input_tokens, "input_tokens", ge=0)
    full = np.asarray(decode_flops_per_token(active_params, layers, attention_heads, head_dim, inp,
                                             local_layer_share, local_window_tokens))
    base = 2.0 * check(active_params, "active_params", gt=0)
    return wrap(base + (full - base) / 2.0, active_params, layers, attention_heads, head_dim,
                input_tokens, local_layer_share, local_window_tokens)


# --------------------------------------------------------------------------- time and rates

def decode_step_time_s(bytes_per_step, flops_per_step, memory_bandwidth_tb_s, peak_tflops, gpus=1.0,
                       bandwidth_efficiency=1.0, flops_efficiency=1.0):
    """Shortest time for one decode step on a group of GPUs (the roofline [1]_).

    t = max(bytes / (gpus x bandwidth x eff_bw), FLOPs / (gpus x peak x eff_flops)).
    With both efficiencies at 1 this is a physical lower bound; fractions below
    1 turn it into an estimate.

    Parameters
    ----------
    bytes_per_step : float or array-like
        Weights read + KV cache read [bytes]. Must be >= 0.
    flops_per_step : float or array-like
        FLOPs of the whole step [FLOP]. Must be >= 0.
    memory_bandwidth_tb_s : float or array-like
        Memory bandwidth of one GPU [TB/s]. Must be > 0.
    peak_tflops : float or array-like
        Dense tensor peak of one GPU at the compute precision [TFLOP/s]. Must be > 0.
    gpus : float or array-like, default 1
        GPUs sharing the step [count]. Must be > 0.
    bandwidth_efficiency, flops_efficiency : float or array-like, default 1
        Achieved share of peak bandwidth and of peak FLOP/s [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Step time [s].
    """
    nbytes = check(bytes_per_step, "bytes_per_step", ge=0)
    flops = check(flops_per_step, "flops_per_step", ge=0)
    bw = check(memory_bandwidth_tb_s, "memory_bandwidth_tb_s", gt=0)
    peak = check(peak_tflops, "peak_tflops", gt=0)
    n = check(gpus, "gpus", gt=0)
    eb = check(bandwidth_efficiency, "bandwidth_efficiency", gt=0, le=1)
    ef = check(flops_efficiency, "flops_efficiency", gt=0, le=1)
    broadcast(bytes_per_step=nbytes, flops_per_step=flops, memory_bandwidth_tb_s=bw,
              peak_tflops=peak, gpus=n, bandwidth_efficiency=eb, flops_efficiency=ef)
    t_mem = nbytes / (n * bw * BYTES_PER_S_PER_TB_S * eb)
    t_flop = flops / (n * peak * FLOPS_PER_TFLOPS * ef)
    return wrap(np.maximum(t_mem, t_flop), bytes_per_step, flops_per_step, memory_bandwidth_tb_s,
                peak_tflops, gpus, bandwidth_efficiency, flops_efficiency)


def _decode_terms(total_params, active_params, experts, active_experts, layers, attention_heads,
                  head_dim, kv_bytes_per_token, weight_bytes_per_param, batch_size, context_tokens,
                  local_layer_share, local_window_tokens, kv_latent_dim=0.0, kv_lora_rank=0.0,
                  state_bytes_per_sequence=0.0):
    """Weights bytes, KV bytes (state included), GEMM FLOPs and attention FLOPs of one decode step."""
    w_read = np.asarray(weights_bytes_read_per_step(total_params, active_params, experts,
                                                    active_experts, batch_size,
                                                    weight_bytes_per_param))
    kv_read = np.asarray(kv_cache_bytes(kv_bytes_per_token, batch_size, context_tokens,
                                        local_layer_share, local_window_tokens,
                                        state_bytes_per_sequence))
    b = check(batch_size, "batch_size", ge=0)
    gemm = 2.0 * check(active_params, "active_params", gt=0) * b
    attention = np.asarray(attention_flops_per_token(layers, attention_heads, head_dim,
                                                     context_tokens, local_layer_share,
                                                     local_window_tokens, kv_latent_dim,
                                                     kv_lora_rank)) * b
    return w_read, kv_read, gemm, attention


def _rates(memory_bandwidth_tb_s, peak_tflops, attention_peak_tflops, gpus):
    """Group bandwidth [B/s], GEMM peak and attention peak [FLOP/s]."""
    n = check(gpus, "gpus", gt=0)
    bw = check(memory_bandwidth_tb_s, "memory_bandwidth_tb_s", gt=0) * BYTES_PER_S_PER_TB_S * n
    peak = check(peak_tflops, "peak_tflops", gt=0) * FLOPS_PER_TFLOPS * n
    attn = peak if attention_peak_tflops is None else \
        check(attention_peak_tflops, "attention_peak_tflops", gt=0) * FLOPS_PER_TFLOPS * n
    return n, bw, peak, attn


def _bound_step(terms, bw, peak, attn_peak, eb=1.0, ef=1.0):
    w_read, kv_read, gemm, attention = terms
    return np.maximum((w_read + kv_read) / (bw * eb), (gemm / peak + attention / attn_peak) / ef)


def _estimate_step(terms, batch, bw, peak, attn_peak, eb, ef, comm):
    w_read, kv_read, gemm, attention = terms
    return (np.maximum(w_read / (bw * eb), gemm / (peak * ef))
            + np.maximum(kv_read / (bw * eb), attention / (attn_peak * ef)) + batch * comm)


def _communication_s_per_token(ep_bytes_per_token, interconnect_gb_s, interconnect_efficiency, n):
    """Group-level all-to-all time per token [s]: bytes / (gpus x link x efficiency)."""
    nbytes = check(ep_bytes_per_token, "ep_bytes_per_token", ge=0)
    link = check(interconnect_gb_s, "interconnect_gb_s", gt=0)
    ec = check(interconnect_efficiency, "interconnect_efficiency", gt=0, le=1)
    return nbytes / (n * link * BYTES_PER_GB * ec)


def decode_step_time_bound_s(total_params, active_params, experts, active_experts, layers,
                             attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                             memory_bandwidth_tb_s, peak_tflops, batch_size, context_tokens,
                             gpus=1.0, local_layer_share=0.0, local_window_tokens=0.0,
                             kv_latent_dim=0.0, kv_lora_rank=0.0, attention_peak_tflops=None,
                             state_bytes_per_sequence=0.0, bandwidth_efficiency=1.0,
                             flops_efficiency=1.0):
    """Shortest possible decode step of a batch on a group of GPUs (the roofline [1]_).

    t = max((weights read + KV read) / (gpus x bandwidth),
    GEMM FLOPs / (gpus x peak_w) + attention FLOPs / (gpus x peak_kv)):
    memory traffic and tensor-core work overlap perfectly, but the tensor cores
    cannot run the GEMMs and attention at once. Weights read from
    :func:`weights_bytes_read_per_step`, KV from :func:`kv_cache_bytes`, FLOPs
    from :func:`decode_flops_per_token`. Communication is left out (it only
    adds time), as are kernel launches and scheduling.

    Parameters
    ----------
    total_params, active_params : float or array-like
        [parameters].
    experts, active_experts : float or array-like
        Routed experts per MoE layer and per token (1 and 1 for dense) [count].
    layers, attention_heads, head_dim : float or array-like
        Model shape [count, count, values].
    kv_bytes_per_token : float or array-like
        From :func:`kv_bytes_per_token` [bytes/token].
    weight_bytes_per_param : float or array-like
        [bytes].
    memory_bandwidth_tb_s, peak_tflops : float or array-like
        Per GPU [TB/s], and the dense tensor peak at the weight precision, which
        the weight GEMMs run at [TFLOP/s].
    batch_size : float or array-like
        Sequences per step for the whole group [count]. Must be > 0.
    context_tokens : float or array-like
        Tokens each sequence attends to (prompt + generated so far; over a whole
        generation :func:`decode_context_tokens`) [tokens].
    gpus : float or array-like, default 1
        GPUs in the group (tensor/expert parallel) [count].
    local_layer_share, local_window_tokens : float or array-like, default 0
        As in :func:`attention_context_tokens`.
    kv_latent_dim, kv_lora_rank : float or array-like, default 0
        MLA latent (d_c + d_h^R) and its value part (d_c), as in
        :func:`attention_flops_per_token` [values].
    attention_peak_tflops : float or array-like, optional
        Dense tensor peak at the KV cache's precision, which attention runs at
        [TFLOP/s] (default: ``peak_tflops``).
    state_bytes_per_sequence : float or array-like, default 0
        Fixed per-sequence state of linear-attention layers, read every step [bytes].
    bandwidth_efficiency, flops_efficiency : float or array-like, default 1
        Achieved shares of peak [-], in (0, 1] (1 = the physical bound).

    Returns
    -------
    float, ndarray or Series
        Step time [s].
    """
    b = check(batch_size, "batch_size", gt=0)
    terms = _decode_terms(total_params, active_params, experts, active_experts, layers,
                          attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param, b,
                          context_tokens, local_layer_share, local_window_tokens, kv_latent_dim,
                          kv_lora_rank, state_bytes_per_sequence)
    n, bw, peak, attn = _rates(memory_bandwidth_tb_s, peak_tflops, attention_peak_tflops, gpus)
    eb = check(bandwidth_efficiency, "bandwidth_efficiency", gt=0, le=1)
    ef = check(flops_efficiency, "flops_efficiency", gt=0, le=1)
    broadcast(step=terms[0], bw=bw, peak=peak, attention_peak=attn, eb=eb, ef=ef)
    return wrap(_bound_step(terms, bw, peak, attn, eb, ef), total_params, active_params,
                batch_size, context_tokens, gpus, memory_bandwidth_tb_s, peak_tflops)


def decode_step_time_estimate_s(total_params, active_params, experts, active_experts, layers,
                                attention_heads, head_dim, kv_bytes_per_token,
                                weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops,
                                batch_size, context_tokens, gpus=1.0, local_layer_share=0.0,
                                local_window_tokens=0.0, kv_latent_dim=0.0, kv_lora_rank=0.0,
                                attention_peak_tflops=None, state_bytes_per_sequence=0.0,
                                bandwidth_efficiency=1.0, flops_efficiency=1.0,
                                ep_bytes_per_token=0.0, interconnect_gb_s=np.inf,
                                interconnect_efficiency=1.0):
    """Estimated decode step: kernels in sequence at achieved fractions, then the all-to-all.

    step = max(weights / bw', GEMM FLOPs / peak_w') + max(KV / bw', attention
    FLOPs / peak_kv') + batch x ep_bytes_per_token / (gpus x link'), with
    bw' = gpus x bandwidth x bandwidth_efficiency, peak' = gpus x peak x
    flops_efficiency and link' = the per-GPU interconnect x
    interconnect_efficiency (:func:`all_to_all_bandwidth_gb_s`,
    :func:`expert_parallel_bytes_per_token` [10]_). Never below
    :func:`decode_step_time_bound_s` (a sum of maxima is at least the maximum of sums).

    Parameters
    ----------
    total_params, active_params : float or array-like
        [parameters].
    experts, active_experts : float or array-like
        Routed experts per MoE layer and per token (1 and 1 for dense) [count].
    layers, attention_heads, head_dim : float or array-like
        Model shape [count, count, values].
    kv_bytes_per_token : float or array-like
        From :func:`kv_bytes_per_token` [bytes/token].
    weight_bytes_per_param : float or array-like
        [bytes].
    memory_bandwidth_tb_s, peak_tflops : float or array-like
        Per GPU [TB/s], and the dense tensor peak at the weight precision, which
        the weight GEMMs run at [TFLOP/s].
    batch_size : float or array-like
        Sequences per step for the whole group [count]. Must be > 0.
    context_tokens : float or array-like
        Tokens each sequence attends to (prompt + generated so far; over a whole
        generation :func:`decode_context_tokens`) [tokens].
    gpus : float or array-like, default 1
        GPUs in the group (tensor/expert parallel) [count].
    local_layer_share, local_window_tokens : float or array-like, default 0
        As in :func:`attention_context_tokens`.
    kv_latent_dim, kv_lora_rank : float or array-like, default 0
        MLA latent (d_c + d_h^R) and its value part (d_c), as in
        :func:`attention_flops_per_token` [values].
    attention_peak_tflops : float or array-like, optional
        Dense tensor peak at the KV cache's precision, which attention runs at
        [TFLOP/s] (default: ``peak_tflops``).
    state_bytes_per_sequence : float or array-like, default 0
        Fixed per-sequence state of linear-attention layers, read every step [bytes].
    bandwidth_efficiency, flops_efficiency : float or array-like, default 1
        Achieved shares of peak bandwidth and FLOP/s [-], in (0, 1].
    ep_bytes_per_token : float or array-like, default 0
        From :func:`expert_parallel_bytes_per_token` [bytes/token]. Must be >= 0.
    interconnect_gb_s : float or array-like, default inf
        Per-GPU all-to-all bandwidth, from :func:`all_to_all_bandwidth_gb_s` [GB/s]. Must be > 0.
    interconnect_efficiency : float or array-like, default 1
        Achieved share of that bandwidth [-], in (0, 1].

    Returns
    -------
    float, ndarray or Series
        Step time [s].
    """
    b = check(batch_size, "batch_size", gt=0)
    terms = _decode_terms(total_params, active_params, experts, active_experts, layers,
                          attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param, b,
                          context_tokens, local_layer_share, local_window_tokens, kv_latent_dim,
                          kv_lora_rank, state_bytes_per_sequence)
    n, bw, peak, attn = _rates(memory_bandwidth_tb_s, peak_tflops, attention_peak_tflops, gpus)
    eb = check(bandwidth_efficiency, "bandwidth_efficiency", gt=0, le=1)
    ef = check(flops_efficiency, "flops_efficiency", gt=0, le=1)
    comm = _communication_s_per_token(ep_bytes_per_token, interconnect_gb_s,
                                      interconnect_efficiency, n)
    broadcast(step=terms[0], bw=bw, peak=peak, attention_peak=attn, eb=eb, ef=ef, comm=comm)
    return wrap(_estimate_step(terms, b, bw, peak, attn, eb, ef, comm), total_params,
                active_params, batch_size, context_tokens, gpus, memory_bandwidth_tb_s, peak_tflops)


def decode_tokens_per_s_bound(total_params, active_params, experts, active_experts, layers,
                              attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                              memory_bandwidth_tb_s, peak_tflops, batch_size, context_tokens,
                              gpus=1.0, local_layer_share=0.0, local_window_tokens=0.0,
                              bandwidth_efficiency=1.0, flops_efficiency=1.0, kv_latent_dim=0.0,
                              kv_lora_rank=0.0, attention_peak_tflops=None,
                              state_bytes_per_sequence=0.0):
    """Upper bound on decode output tokens/s per GPU at a batch size.

    tokens_per_s_per_gpu = batch / (gpus x t_step), t_step from
    :func:`decode_step_time_bound_s`. Memory fit is not checked here: pair it
    with :func:`best_batch` or :func:`fits`. Prefill work is left out (it only
    lowers throughput), as are communication, kernel launch and scheduling
    time. Parameters as in :func:`decode_step_time_bound_s`.

    Returns
    -------
    float, ndarray or Series
        Output tokens per second per GPU [tokens/s/GPU].
    """
    b = check(batch_size, "batch_size", gt=0)
    n = check(gpus, "gpus", gt=0)
    t = np.asarray(decode_step_time_bound_s(
        total_params, active_params, experts, active_experts, layers, attention_heads, head_dim,
        kv_bytes_per_token, weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops, b,
        context_tokens, n, local_layer_share, local_window_tokens, kv_latent_dim, kv_lora_rank,
        attention_peak_tflops, state_bytes_per_sequence, bandwidth_efficiency, flops_efficiency))
    return wrap(b / (n * t), total_params, active_params, experts, active_experts, layers,
                attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                memory_bandwidth_tb_s, peak_tflops, batch_size, context_tokens, gpus)


def decode_tokens_per_s_estimate(total_params, active_params, experts, active_experts, layers,
                                 attention_heads, head_dim, kv_bytes_per_token,
                                 weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops,
                                 batch_size, context_tokens, gpus=1.0, local_layer_share=0.0,
                                 local_window_tokens=0.0, bandwidth_efficiency=1.0,
                                 flops_efficiency=1.0, kv_latent_dim=0.0, kv_lora_rank=0.0,
                                 attention_peak_tflops=None, state_bytes_per_sequence=0.0,
                                 ep_bytes_per_token=0.0, interconnect_gb_s=np.inf,
                                 interconnect_efficiency=1.0):
    """Estimated decode output tokens/s per GPU: batch / (gpus x estimated step).

    The step from :func:`decode_step_time_estimate_s` (kernels one after
    another at achieved fractions of peak, plus the expert-parallel
    all-to-all). Never above :func:`decode_tokens_per_s_bound`. Parameters as
    in :func:`decode_step_time_estimate_s`.

    Returns
    -------
    float, ndarray or Series
        Output tokens per second per GPU [tokens/s/GPU].
    """
    b = check(batch_size, "batch_size", gt=0)
    n = check(gpus, "gpus", gt=0)
    step = np.asarray(decode_step_time_estimate_s(
        total_params, active_params, experts, active_experts, layers, attention_heads, head_dim,
        kv_bytes_per_token, weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops, b,
        context_tokens, n, local_layer_share, local_window_tokens, kv_latent_dim, kv_lora_rank,
        attention_peak_tflops, state_bytes_per_sequence, bandwidth_efficiency, flops_efficiency,
        ep_bytes_per_token, interconnect_gb_s, interconnect_efficiency))
    return wrap(b / (n * step), total_params, active_params, experts, active_experts, layers,
                attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                memory_bandwidth_tb_s, peak_tflops, batch_size, context_tokens, gpus,
                bandwidth_efficiency, flops_efficiency)


def decode_tokens_per_s_per_user(tokens_per_s_per_gpu, batch_size, gpus=1.0):
    """Tokens/s one user sees: the group's rate shared by the batch.

    per_user = tokens_per_s_per_gpu x gpus / batch_size (= 1 / step time).

    Parameters
    ----------
    tokens_per_s_per_gpu : float or array-like
        [tokens/s/GPU]. Must be >= 0.
    batch_size : float or array-like
        Sequences in the group's batch [count]. Must be > 0.
    gpus : float or array-like, default 1
        GPUs in the group [count]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Output tokens per second per user [tokens/s].
    """
    tps = check(tokens_per_s_per_gpu, "tokens_per_s_per_gpu", ge=0)
    b = check(batch_size, "batch_size", gt=0)
    n = check(gpus, "gpus", gt=0)
    broadcast(tokens_per_s_per_gpu=tps, batch_size=b, gpus=n)
    return wrap(tps * n / b, tokens_per_s_per_gpu, batch_size, gpus)


def decode_batch_for_tokens_per_s_per_user(tokens_per_s_per_user, max_batch, total_params,
                                           active_params, experts, active_experts, layers,
                                           attention_heads, head_dim, kv_bytes_per_token,
                                           weight_bytes_per_param, memory_bandwidth_tb_s,
                                           peak_tflops, context_tokens, gpus=1.0,
                                           local_layer_share=0.0, local_window_tokens=0.0,
                                           kv_latent_dim=0.0, kv_lora_rank=0.0,
                                           attention_peak_tflops=None,
                                           state_bytes_per_sequence=0.0, estimate=False,
                                           bandwidth_efficiency=1.0, flops_efficiency=1.0,
                                           ep_bytes_per_token=0.0, interconnect_gb_s=np.inf,
                                           interconnect_efficiency=1.0):
    """The largest batch whose every user still gets ``tokens_per_s_per_user``.

    Each sequence gains one token per decode step, so a user sees 1 / t_step
    tokens/s; t_step never falls as the batch grows (weights are shared, KV,
    FLOPs and traffic grow with it), so the batches meeting a per-user target
    are 1 .. B*: B* = max{B <= max_batch : t_step(B) <= 1 / target}, found by
    bisection on whole batches (a fixed number of halvings for every row at
    once). With the bound's step (:func:`decode_step_time_bound_s`) B* is the
    most any deployment can batch at that interactivity, so the bound at B*
    is the most tokens/s per GPU it can serve there (the throughput-
    interactivity frontier InferenceX plots from measurements); with
    ``estimate=True`` the estimate's step (:func:`decode_step_time_estimate_s`).

    Parameters
    ----------
    tokens_per_s_per_user : float or array-like
        Per-user speed to meet [tokens/s]. Must be > 0.
    max_batch : float or array-like
        Largest batch to consider, e.g. the largest that fits
        (:func:`max_batch_that_fits`) [count]. Must be >= 0.
    total_params ... state_bytes_per_sequence
        As in :func:`decode_step_time_bound_s` (without ``batch_size``).
    estimate : bool, default False
        Use the estimate's step instead of the bound's.
    bandwidth_efficiency, flops_efficiency, ep_bytes_per_token, interconnect_gb_s, interconnect_efficiency
        As in :func:`decode_step_time_estimate_s` (used with ``estimate=True``).

    Returns
    -------
    float, ndarray or Series
        Batch [count, a whole number; 0 where even batch 1 is slower than the
        target or ``max_batch`` < 1].
    """
    target = check(tokens_per_s_per_user, "tokens_per_s_per_user", gt=0)
    cap = np.floor(check(max_batch, "max_batch", ge=0))
    shape = dict(total_params=total_params, active_params=active_params, experts=experts,
                 active_experts=active_experts, layers=layers, attention_heads=attention_heads,
                 head_dim=head_dim, kv_bytes_per_token=kv_bytes_per_token,
                 weight_bytes_per_param=weight_bytes_per_param,
                 memory_bandwidth_tb_s=memory_bandwidth_tb_s, peak_tflops=peak_tflops,
                 context_tokens=context_tokens, gpus=gpus, local_layer_share=local_layer_share,
                 local_window_tokens=local_window_tokens, kv_latent_dim=kv_latent_dim,
                 kv_lora_rank=kv_lora_rank, attention_peak_tflops=attention_peak_tflops,
                 state_bytes_per_sequence=state_bytes_per_sequence)
    if estimate:
        def step(b):
            return np.asarray(decode_step_time_estimate_s(
                batch_size=b, bandwidth_efficiency=bandwidth_efficiency,
                flops_efficiency=flops_efficiency, ep_bytes_per_token=ep_bytes_per_token,
                interconnect_gb_s=interconnect_gb_s,
                interconnect_efficiency=interconnect_efficiency, **shape))
    else:
        def step(b):
            return np.asarray(decode_step_time_bound_s(batch_size=b, **shape))
    probe = step(np.ones_like(cap) if cap.ndim else 1.0)   # checks every argument once
    target, cap, probe = np.broadcast_arrays(target, cap, probe)
    lo = np.zeros(cap.shape)
    hi = cap.astype(float).copy()
    # invariant: every batch <= lo meets the target (0 trivially), every batch > hi misses it
    for _ in range(int(np.ceil(np.log2(np.max(hi, initial=1.0) + 1.0))) + 1):
        open_ = hi > lo
        if not open_.any():
            break
        mid = np.where(open_, np.ceil((lo + hi) / 2.0), 1.0)
        ok = np.broadcast_to(step(mid), mid.shape) * target <= 1.0 + 1e-12
        lo = np.where(open_ & ok, mid, lo)
        hi = np.where(open_ & ~ok, mid - 1.0, hi)
    return wrap(lo, tokens_per_s_per_user, max_batch, total_params, active_params,
                context_tokens, gpus, memory_bandwidth_tb_s, peak_tflops)


def prefill_tokens_per_s_bound(active_params, layers, attention_heads, head_dim, input_tokens,
                               peak_tflops, local_layer_share=0.0, local_window_tokens=0.0,
                               flops_efficiency=1.0, attention_peak_tflops=None):
    """Upper bound on prompt tokens processed per second per GPU (compute-bound).

    prefill tokens/s per GPU = 1 / (2 x active / peak_w + attention / peak_kv)
    with the FLOPs of :func:`prefill_flops_per_token` split into the weight
    GEMMs (at the weight precision's peak) and attention over the prompt (at
    the KV precision's peak). Prefill batches many tokens per weight read, so
    compute, not bandwidth, limits it [2]_; the GPU count cancels (N GPUs, N
    times the FLOPs).

    Parameters
    ----------
    active_params, layers, attention_heads, head_dim, input_tokens
        As in :func:`prefill_flops_per_token`.
    peak_tflops : float or array-like
        Dense tensor peak of one GPU at the weight precision [TFLOP/s]. Must be > 0.
    local_layer_share, local_window_tokens
        As in :func:`attention_context_tokens`.
    flops_efficiency : float or array-like, default 1
        Achieved share of peak [-], in (0, 1].
    attention_peak_tflops : float or array-like, optional
        Peak at the KV cache's precision [TFLOP/s] (default: ``peak_tflops``).

    Returns
    -------
    float, ndarray or Series
        Prompt tokens per second per GPU [tokens/s/GPU].
    """
    per_token = np.asarray(prefill_flops_per_token(active_params, layers, attention_heads, head_dim,
                                                   input_tokens, local_layer_share,
                                                   local_window_tokens))
    gemm = 2.0 * check(active_params, "active_params", gt=0)
    peak = check(peak_tflops, "peak_tflops", gt=0) * FLOPS_PER_TFLOPS
    attn = peak if attention_peak_tflops is None else \
        check(attention_peak_tflops, "attention_peak_tflops", gt=0) * FLOPS_PER_TFLOPS
    ef = check(flops_efficiency, "flops_efficiency", gt=0, le=1)
    broadcast(per_token=per_token, peak_tflops=peak, attention_peak_tflops=attn,
              flops_efficiency=ef)
    seconds = (gemm / peak + (per_token - gemm) / attn) / ef
    return wrap(1.0 / seconds, active_params, layers, attention_heads, head_dim, input_tokens,
                peak_tflops, flops_efficiency)


def prefill_tokens_per_s_estimate(active_params, layers, attention_heads, head_dim, input_tokens,
                                  peak_tflops, local_layer_share=0.0, local_window_tokens=0.0,
                                  flops_efficiency=1.0, attention_peak_tflops=None,
                                  ep_bytes_per_token=0.0, interconnect_gb_s=np.inf,
                                  interconnect_efficiency=1.0):
    """Estimated prompt tokens/s per GPU: the prefill FLOPs at the achieved share
    of peak, then each token's expert-parallel all-to-all.

    seconds per token per GPU = 1 / :func:`prefill_tokens_per_s_bound` (at
    ``flops_efficiency``) + ep_bytes_per_token / (link x interconnect_efficiency).
    Parameters as in :func:`prefill_tokens_per_s_bound` and, for the all-to-all,
    :func:`decode_step_time_estimate_s`.

    Returns
    -------
    float, ndarray or Series
        Prompt tokens per second per GPU [tokens/s/GPU].
    """
    compute = 1.0 / np.asarray(prefill_tokens_per_s_bound(
        active_params, layers, attention_heads, head_dim, input_tokens, peak_tflops,
        local_layer_share, local_window_tokens, flops_efficiency, attention_peak_tflops))
    comm = _communication_s_per_token(ep_bytes_per_token, interconnect_gb_s,
                                      interconnect_efficiency, 1.0)
    broadcast(compute=compute, comm=comm)
    return wrap(1.0 / (compute + comm), active_params, layers, attention_heads, head_dim,
                input_tokens, peak_tflops, flops_efficiency)


def cost_floor_usd_per_mtok(gpu_hour_usd, tokens_per_s_per_gpu):
    """Cost per million tokens at a throughput bound: the physical cost floor.

    The same arithmetic as :func:`tokencost.core.throughput.cost_per_mtok`
    (gpu_hour_usd / (tokens_per_s x 3600 / 1e6)) applied to the bound, at full
    utilization: no deployment of that GPU at that price can serve the model
    for less.

    Parameters
    ----------
    gpu_hour_usd : float or array-like
        Cost of one GPU-hour [USD/h]. Must be >= 0.
    tokens_per_s_per_gpu : float or array-like
        Throughput bound [tokens/s/GPU]. Must be > 0.

    Returns
    -------
    float, ndarray or Series
        Cost floor [USD per million tokens].
    """
    check(gpu_hour_usd, "gpu_hour_usd", ge=0)            # errors name this function's arguments
    check(tokens_per_s_per_gpu, "tokens_per_s_per_gpu", gt=0)
    return cost_per_mtok(gpu_hour_usd, tokens_per_s_per_gpu)


# --------------------------------------------------------------------------- whole workloads

def _serving(total_params, active_params, experts, active_experts, layers, attention_heads,
             head_dim, kv_bytes_per_token, weight_bytes_per_param, memory_bandwidth_tb_s,
             peak_tflops, batch_size, input_tokens, output_tokens, gpus, local_layer_share,
             local_window_tokens, bandwidth_efficiency, flops_efficiency, bound,
             kv_latent_dim=0.0, kv_lora_rank=0.0, attention_peak_tflops=None,
             state_bytes_per_sequence=0.0, ep_bytes_per_token=0.0, interconnect_gb_s=np.inf,
             interconnect_efficiency=1.0):
    inp = check(input_tokens, "input_tokens", ge=0)
    out = check(output_tokens, "output_tokens", gt=0)
    b = check(batch_size, "batch_size", gt=0)
    n, bw, peak, attn = _rates(memory_bandwidth_tb_s, peak_tflops, attention_peak_tflops, gpus)
    eb = check(bandwidth_efficiency, "bandwidth_efficiency", gt=0, le=1)
    ef = check(flops_efficiency, "flops_efficiency", gt=0, le=1)
    ctx = np.asarray(decode_context_tokens(inp, out))  # average context over the generation
    w_read, kv_read, gemm, attention = _decode_terms(
        total_params, active_params, experts, active_experts, layers, attention_heads, head_dim,
        kv_bytes_per_token, weight_bytes_per_param, b, ctx, local_layer_share, local_window_tokens,
        kv_latent_dim, kv_lora_rank, state_bytes_per_sequence)
    prefill = np.asarray(prefill_flops_per_token(active_params, layers, attention_heads, head_dim,
                                                 inp, local_layer_share, local_window_tokens)) * inp
    prefill_gemm = 2.0 * check(active_params, "active_params", gt=0) * inp
    broadcast(w_read=w_read, kv_read=kv_read, prefill=prefill, bw=bw, peak=peak, eb=eb, ef=ef)
    if bound:
        # per request: out/b decode steps' bytes, all FLOPs; one roofline over the whole workload
        t_request = np.maximum((w_read + kv_read) * out / b / bw,
                               (gemm * out / b + prefill_gemm) / peak
                               + (attention * out / b + prefill - prefill_gemm) / attn)
    else:
        # kernels run one after another: weight GEMMs, then attention, then prefill chunks,
        # then every token's all-to-all (prompt tokens are dispatched too)
        comm = _communication_s_per_token(ep_bytes_per_token, interconnect_gb_s,
                                          interconnect_efficiency, n)
        t_gemm = np.maximum(w_read / (bw * eb), gemm / (peak * ef))
        t_attention = np.maximum(kv_read / (bw * eb), attention / (attn * ef))
        t_request = ((t_gemm + t_attention) * out / b
                     + (prefill_gemm / peak + (prefill - prefill_gemm) / attn) / ef
                     + (inp + out) * comm)
    return out / t_request / n


def serving_tokens_per_s_bound(total_params, active_params, experts, active_experts, layers,
                               attention_heads, head_dim, kv_bytes_per_token,
                               weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops,
                               batch_size, input_tokens, output_tokens, gpus=1.0,
                               local_layer_share=0.0, local_window_tokens=0.0, kv_latent_dim=0.0,
                               kv_lora_rank=0.0, attention_peak_tflops=None,
                               state_bytes_per_sequence=0.0):
    """Upper bound on output tokens/s per GPU for requests of given input and output length.

    One roofline over a whole request (its prefill and its share of the decode
    steps at batch ``batch_size``, context averaging input + output/2,
    :func:`decode_context_tokens`): time >= max(decode bytes / bandwidth,
    GEMM FLOPs / peak_w + attention FLOPs / peak_kv, prefill included).
    Tighter than :func:`decode_tokens_per_s_bound` when prompts are long,
    never above it. Parameters as in :func:`decode_step_time_bound_s`, plus
    ``input_tokens`` and ``output_tokens`` per request [tokens].

    Returns
    -------
    float, ndarray or Series
        Output tokens per second per GPU [tokens/s/GPU].
    """
    result = _serving(total_params, active_params, experts, active_experts, layers,
                      attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                      memory_bandwidth_tb_s, peak_tflops, batch_size, input_tokens, output_tokens,
                      gpus, local_layer_share, local_window_tokens, 1.0, 1.0, bound=True,
                      kv_latent_dim=kv_latent_dim, kv_lora_rank=kv_lora_rank,
                      attention_peak_tflops=attention_peak_tflops,
                      state_bytes_per_sequence=state_bytes_per_sequence)
    return wrap(result, total_params, active_params, batch_size, input_tokens, output_tokens,
                memory_bandwidth_tb_s, peak_tflops, gpus)


def serving_tokens_per_s_estimate(total_params, active_params, experts, active_experts, layers,
                                  attention_heads, head_dim, kv_bytes_per_token,
                                  weight_bytes_per_param, memory_bandwidth_tb_s, peak_tflops,
                                  batch_size, input_tokens, output_tokens, gpus=1.0,
                                  local_layer_share=0.0, local_window_tokens=0.0,
                                  bandwidth_efficiency=1.0, flops_efficiency=1.0,
                                  kv_latent_dim=0.0, kv_lora_rank=0.0, attention_peak_tflops=None,
                                  state_bytes_per_sequence=0.0, ep_bytes_per_token=0.0,
                                  interconnect_gb_s=np.inf, interconnect_efficiency=1.0):
    """Estimated output tokens/s per GPU: the roofline with achieved fractions.

    Kernels are taken to run one after another, each at its own roofline with
    the achieved fractions of peak bandwidth and FLOP/s:
    decode step = max(weights / bw', GEMM FLOPs / peak_w') + max(KV / bw',
    attention FLOPs / peak_kv'), plus each request's prefill FLOPs at peak'
    and the expert-parallel all-to-all of its input and output tokens
    (bw' = bandwidth x bandwidth_efficiency, peak' = peak x flops_efficiency).
    Parameters as in :func:`serving_tokens_per_s_bound`, plus those of
    :func:`decode_step_time_estimate_s` (calibrated defaults in
    data/physics_assumptions.csv).

    Returns
    -------
    float, ndarray or Series
        Output tokens per second per GPU [tokens/s/GPU].
    """
    result = _serving(total_params, active_params, experts, active_experts, layers,
                      attention_heads, head_dim, kv_bytes_per_token, weight_bytes_per_param,
                      memory_bandwidth_tb_s, peak_tflops, batch_size, input_tokens, output_tokens,
                      gpus, local_layer_share, local_window_tokens, bandwidth_efficiency,
                      flops_efficiency, bound=False, kv_latent_dim=kv_latent_dim,
                      kv_lora_rank=kv_lora_rank, attention_peak_tflops=attention_peak_tflops,
                      state_bytes_per_sequence=state_bytes_per_sequence,
                      ep_bytes_per_token=ep_bytes_per_token, interconnect_gb_s=interconnect_gb_s,
                      interconnect_efficiency=interconnect_efficiency)
    return wrap(result, total_params, active_params, batch_size, input_tokens, output_tokens,
                memory_bandwidth_tb_s, peak_tflops, gpus, bandwidth_efficiency, flops_efficiency)
