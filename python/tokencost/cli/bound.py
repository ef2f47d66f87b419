"""tokencost bound: the physical limits of serving a model on a GPU type."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ._common import add_format, count, number

EPILOG = """Examples:
  tokencost bound --gpu H100 --model dense-70b
  tokencost bound --gpu h100-sxm --model moe-284b-a13b --gpus 4 --batch 64 --format json
  tokencost bound --gpu B200 --model Llama-3.3-70B --context 4096 --gpu-hour-usd 3.50
  tokencost bound --gpu H200 --model Llama-4-Maverick --gpus 8 --weight-precision fp8 \
      --kv-precision fp8 --input-tokens 1000 --output-tokens 1000
  tokencost bound --gpu H800 --model DeepSeek-V3 --gpus 32 --kv-precision fp8 \
      --input-tokens 2000 --output-tokens 1000 --tokens-per-s-per-user 20
  tokencost bound --gpu H200 --model DeepSeek-V3 --gpus 8 --frontier --plot frontier.png

Without --batch the rates are at the best batch that fits in memory; with
--tokens-per-s-per-user at the largest batch whose every user gets that speed
(the bound's batch for the bound, the estimate's for the estimate).
Precisions: bf16, fp16, fp8, int8, fp4, nvfp4, mxfp4, int4 (default: the model
catalog's; the output says which was used). --input-tokens/--output-tokens set
the context a decode step attends to on average (input + output / 2) and add
the serving bound and estimate with prefill. Without --gpu-hour-usd the cost
floor uses the GPU's fully-loaded $/GPU-hour from the shipped inputs when it
has one (H100: the seed's $1.92)."""


def register(sub):
    p = sub.add_parser(
        "bound", help="physical bound on throughput and the cost floor for a model on a GPU",
        description="Memory fit, the decode roofline bound (tokens/s per GPU and per user), an "
                    "estimate with calibrated efficiencies, and the $/MTok floor at that bound.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu", required=True, metavar="NAME", help="GPU type, e.g. H100, B200, GB200")
    p.add_argument("--model", required=True, metavar="NAME",
                   help="model architecture from the catalog, e.g. dense-70b, Llama-3.3-70B")
    p.add_argument("--gpus", type=number(), default=1.0, metavar="N",
                   help="GPUs in one replica, a whole number (default: 1)")
    p.add_argument("--batch", type=number(), default=None, metavar="B",
                   help="concurrent sequences per replica, a whole number (default: the best "
                        "batch that fits)")
    p.add_argument("--context", type=number(), default=None,
                   metavar="TOKENS",
                   help="tokens each sequence attends to (default: 2048, data/physics_assumptions.csv)")
    p.add_argument("--input-tokens", type=number(), default=None, metavar="TOKENS",
                   help="prompt tokens per request (with --output-tokens; instead of --context)")
    p.add_argument("--output-tokens", type=number(), default=None, metavar="TOKENS",
                   help="generated tokens per request, > 0: the decode context is input + "
                        "output / 2, and the serving bound and estimate include the prefill")
    p.add_argument("--weight-precision", default=None, metavar="NAME",
                   help="precision the weights are stored and multiplied in: bf16, fp16, fp8, "
                        "int8, fp4, nvfp4, mxfp4, int4 (default: the model catalog's)")
    p.add_argument("--kv-precision", default=None, metavar="NAME",
                   help="precision of the KV cache, which attention runs at (same names; "
                        "default: the model catalog's)")
    p.add_argument("--tokens-per-s-per-user", type=number(), default=None, metavar="X",
                   help="interactivity target: the rates and costs at the largest batch whose "
                        "every user gets X tokens/s (instead of --batch)")
    p.add_argument("--gpu-hour-usd", type=number(), default=None, metavar="X",
                   help="cost of one GPU-hour for the cost floor [USD/h]")
    p.add_argument("--frontier", action="store_true",
                   help="also print cost per MTok against tokens/s per user, sweeping the batch")
    p.add_argument("--points", type=count(2, 10_000), default=24, metavar="N",
                   help="batches in the frontier sweep, 2 to 10,000 (default: 24)")
    p.add_argument("--plot", type=Path, default=None, metavar="PNG",
                   help="write the frontier chart to this PNG file (implies --frontier)")
    add_format(p)
    p.set_defaults(func=run)


def default_gpu_hour_usd(gpu: str):
    """$/GPU-hour of *gpu* from the shipped inputs, or None when it has no cost row."""
    from ..inputs.catalog import normalize_gpu_name
    from ..inputs.datasets import load_defaults
    from ..analysis.model import gpu_costs
    costs = gpu_costs(load_defaults())
    key = normalize_gpu_name(gpu)
    for name, value in zip(costs["gpu"], costs["gpu_hour_usd"]):
        if normalize_gpu_name(name) == key:
            return float(value)
    return None


def run(args) -> int:
    from ..analysis.physics_checks import bound, frontier
    from ..render import frame_to_csv, frame_to_markdown, frame_to_text, to_json, wrap_text
    from . import UserFacingError

    if args.plot is not None:
        from ..workbook.files import check_writable
        check_writable(args.plot)   # before the sweep, not after it
    gpu_hour = args.gpu_hour_usd
    gpu_hour_source = "--gpu-hour-usd"
    if gpu_hour is None:
        gpu_hour = default_gpu_hour_usd(args.gpu)
        gpu_hour_source = "shipped inputs" if gpu_hour is not None else "none (pass --gpu-hour-usd)"
    query = dict(weight_precision=args.weight_precision, kv_precision=args.kv_precision,
                 input_tokens=args.input_tokens, output_tokens=args.output_tokens,
                 tokens_per_s_per_user=args.tokens_per_s_per_user)
    result = bound(args.gpu, args.model, args.gpus, args.batch, args.context, gpu_hour, **query)
    result["gpu_hour_source"] = gpu_hour_source
    want_frontier = args.frontier or args.plot is not None
    table = None
    if want_frontier:
        table = frontier(args.gpu, args.model, args.gpus, args.context, gpu_hour, args.points,
                         **query)
    if args.plot is not None:
        if table is None or table.empty:
            raise UserFacingError(f"{args.model} does not fit on {args.gpus:g} {result['gpu']}: "
                                  f"nothing to plot (it needs {result['min_gpus']:g} GPUs)")
        write_plot(table, args.plot, f"{result['architecture']} on {args.gpus:g} x {result['gpu']}"
                                     f", {result['context_tokens']:,.0f}-token context, weights "
                                     f"{result['weight_precision'].upper()}, KV "
                                     f"{result['kv_precision'].upper()}",
                   target=args.tokens_per_s_per_user)

    if args.format == "json":
        data = {"bound": result}
        if table is not None:
            data["frontier"] = table
        sys.stdout.write(to_json(data))
        return 0
    # one row per field: each value shown by its field's unit (render.unit_of), plain in CSV
    fields = pd.DataFrame({"field": list(result), "value": pd.Series(list(result.values()),
                                                                     dtype=object)})
    fields.attrs.update(row_units=list(result), row_unit_columns=["value"])
    render = {"table": frame_to_text, "markdown": frame_to_markdown, "csv": frame_to_csv}[args.format]
    parts = [render(fields)]
    if table is not None:
        parts.append(render(table) if not table.empty else "frontier: the model does not fit")
    sep = "\n" if args.format == "csv" else "\n\n"
    sys.stdout.write(sep.join(p.rstrip("\n") for p in parts) + "\n")
    if not result["fits"] and args.format in ("table", "markdown"):
        sys.stdout.write("\n" + wrap_text(
            f"Does not fit: {result['architecture']} needs at least {result['min_gpus']:,.0f} x "
            f"{result['gpu']} for its weights and KV cache.") + "\n")
    return 0


def write_plot(table: pd.DataFrame, path: Path, title: str, target=None) -> None:
    """The frontier as a PNG: cost per MTok (or tokens/s per GPU without a price)
    against tokens/s per user, bound and estimate, as InferenceX draws measured
    frontiers; a dotted line marks the per-user target when one is given."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    has_cost = table["cost_floor_usd_per_mtok"].notna().any()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    if has_cost:
        ax.plot(table["tokens_per_s_per_user"], table["cost_floor_usd_per_mtok"], "o-",
                label="physical floor (roofline bound)")
        ax.plot(table["tokens_per_s_per_user_estimate"], table["cost_estimate_usd_per_mtok"], "s--",
                label="estimate (calibrated efficiencies)")
        ax.set_ylabel("cost [USD per million output tokens]")
        ax.set_yscale("log")
    else:
        ax.plot(table["tokens_per_s_per_user"], table["tokens_per_s_per_gpu_bound"], "o-",
                label="bound")
        ax.plot(table["tokens_per_s_per_user_estimate"], table["tokens_per_s_per_gpu_estimate"],
                "s--", label="estimate")
        ax.set_ylabel("output tokens/s per GPU")
    if target is not None:
        ax.axvline(target, linestyle=":", color="grey", label=f"target {target:g} tok/s per user")
    ax.set_xlabel("output tokens/s per user (batch swept from 1 to the largest that fits)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    from ..workbook.files import write_atomic
    try:   # atomically, as every file tokencost writes (OutputError: one line)
        write_atomic(lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}), path)
    finally:
        plt.close(fig)
