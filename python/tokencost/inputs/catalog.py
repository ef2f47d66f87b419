"""GPU and model-architecture catalogs for the physics check (a shell: reads CSV files).

``data/gpu_catalog.csv`` holds datasheet figures per GPU, ``data/model_architectures.csv``
the shape of each model, ``data/physics_assumptions.csv`` the assumptions the
check makes (memory reserve, default context, calibrated efficiencies). Every
row names its source. Names are matched leniently: :func:`normalize_gpu_name`
ignores case, punctuation, vendor words and form-factor / memory suffixes, so
``h100``, ``H100-SXM`` and ``NVIDIA H100 SXM5 80GB`` are one GPU, while
``GB200``, ``B200``, ``H800``, ``H100`` and ``H200`` stay distinct.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import InputError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"   # the package data folder
GPU_CATALOG_FILE = "gpu_catalog.csv"
ARCHITECTURES_FILE = "model_architectures.csv"
ASSUMPTIONS_FILE = "physics_assumptions.csv"

#: storage per value by precision name [bytes] (bits / 8; block-scale overheads left out)
PRECISION_BYTES = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0,
    "fp4": 0.5, "nvfp4": 0.5, "mxfp4": 0.5, "int4": 0.5,
}
#: which catalog peak applies to math at a precision, most specific first (a GPU
#: without FP4 tensor cores runs FP4 weights at its next precision up)
PRECISION_PEAKS = {
    "fp32": ("bf16_tflops",), "bf16": ("bf16_tflops",), "fp16": ("bf16_tflops",),
    "fp8": ("fp8_tflops", "bf16_tflops"), "int8": ("fp8_tflops", "bf16_tflops"),
    "fp4": ("fp4_tflops", "fp8_tflops", "bf16_tflops"),
    "nvfp4": ("fp4_tflops", "fp8_tflops", "bf16_tflops"),
    "mxfp4": ("fp4_tflops", "fp8_tflops", "bf16_tflops"),
    "int4": ("fp4_tflops", "fp8_tflops", "bf16_tflops"),
}

_DROP_WORDS = {"NVIDIA", "AMD", "INSTINCT", "TESLA", "GPU", "TENSOR", "CORE", "HGX", "DGX",
               "SUPERCHIP", "ACCELERATOR"}
_SUFFIX_TOKEN = re.compile(r"(SXM\d*|PCIE\d*|NVL\d*|OAM|HBM\d*E?|\d+GB|\d+G)")
_SUFFIX_TAIL = re.compile(r"(SXM\d*|PCIE\d*|NVL\d*|OAM)$")

GPU_NUMBER_COLUMNS = ["memory_gb", "memory_bandwidth_tb_s", "bf16_tflops", "fp8_tflops", "fp4_tflops",
                      "tdp_w", "scaleup_gb_s", "scaleup_domain_gpus", "scaleout_gb_s"]
ARCHITECTURE_NUMBER_COLUMNS = ["total_params", "active_params", "layers", "hidden_size", "attention_heads",
                               "kv_heads", "head_dim", "kv_latent_dim", "kv_lora_rank",
                               "local_layer_share", "local_window_tokens",
                               "state_values_per_sequence", "experts", "active_experts",
                               "moe_layers"]
#: architecture columns a catalog written before they existed may lack (read as 0)
ARCHITECTURE_OPTIONAL_COLUMNS = ("kv_lora_rank", "state_values_per_sequence", "moe_layers")


def normalize_gpu_name(name: str) -> str:
    """The catalog key of a GPU name.

    Upper-cases, splits on anything that is not a letter or digit, drops vendor
    and marketing words (NVIDIA, AMD, Instinct, Tensor Core, HGX, DGX,
    Superchip) and form-factor or memory suffixes (SXM, SXM5, PCIe, NVL, NVL72,
    OAM, HBM3e, 80GB), then joins what is left: ``"H100 SXM5 80GB"`` ->
    ``"H100"``, ``"gb200-nvl72"`` -> ``"GB200"``, ``"H800"`` -> ``"H800"``.

    Parameters
    ----------
    name : str
        A GPU name as a person would write it.

    Returns
    -------
    str
        The normalized key ("" for a blank name).
    """
    tokens = [t for t in re.split(r"[^0-9A-Z]+", str(name).upper()) if t and t not in _DROP_WORDS]
    if not tokens:
        return ""
    kept = [tokens[0]] + [t for t in tokens[1:] if not _SUFFIX_TOKEN.fullmatch(t)]
    head = kept[0]
    while True:  # "H100SXM5" written as one word
        stripped = _SUFFIX_TAIL.sub("", head)
        if stripped == head or not stripped:
            break
        head = stripped
    return "".join([head] + kept[1:])


def normalize_model_name(name: str) -> str:
    """The catalog key of a model or architecture name: lower case, letters and
    digits only, an ``org/`` prefix dropped (``meta-llama/Llama-3.3-70B`` ->
    ``llama3370b``)."""
    text = str(name).strip().split("/")[-1]
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def precision_bytes(precision: str, where: str = "precision") -> float:
    """Bytes per value of a precision name (``fp8`` -> 1.0, ``NVFP4`` -> 0.5); InputError
    naming *where* (the argument or cell) and the known names if unknown."""
    key = str(precision).strip().casefold()
    if key not in PRECISION_BYTES:
        raise InputError(where, f"unknown precision {precision!r}; known: "
                                f"{', '.join(PRECISION_BYTES)}")
    return PRECISION_BYTES[key]


def peak_tflops(gpu: pd.Series, precision: str) -> float:
    """Dense tensor peak [TFLOP/s] of a catalog GPU row for math at *precision*
    (FP4 falls back to FP8, FP8 to BF16 where a GPU lacks the format)."""
    key = str(precision).strip().casefold()
    if key not in PRECISION_PEAKS:
        precision_bytes(key)  # raises with the known names
    for column in PRECISION_PEAKS[key]:
        value = gpu.get(column)
        if value is not None and not pd.isna(value) and float(value) > 0:
            return float(value)
    raise InputError("gpu", f"GPU {gpu.get('gpu')!r} has no tensor peak for {precision}")


def _read(path: Path, numbers: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in numbers:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column].replace("", np.nan), errors="raise")
    return frame


@lru_cache(maxsize=8)
def _gpu_catalog(path: str) -> pd.DataFrame:
    return _read(Path(path), GPU_NUMBER_COLUMNS)


@lru_cache(maxsize=8)
def _architectures(path: str) -> pd.DataFrame:
    return _read(Path(path), ARCHITECTURE_NUMBER_COLUMNS)


def load_gpu_catalog(directory: Optional[Path] = None) -> pd.DataFrame:
    """The GPU catalog (one row per GPU; a copy, safe to edit)."""
    return _gpu_catalog(str(Path(directory or DATA_DIR) / GPU_CATALOG_FILE)).copy()


def load_model_architectures(directory: Optional[Path] = None) -> pd.DataFrame:
    """The model-architecture catalog (one row per architecture; a copy)."""
    return _architectures(str(Path(directory or DATA_DIR) / ARCHITECTURES_FILE)).copy()


def load_physics_assumptions(directory: Optional[Path] = None) -> dict:
    """``{name: value}`` from data/physics_assumptions.csv (numbers as float,
    precision names as text)."""
    frame = pd.read_csv(Path(directory or DATA_DIR) / ASSUMPTIONS_FILE, dtype=str,
                        keep_default_na=False)
    out = {}
    for name, value in zip(frame["name"], frame["value"]):
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value.strip()
    return out


def _keys(frame: pd.DataFrame, column: str, normalize) -> dict[str, int]:
    keys: dict[str, int] = {}
    for i, (name, aliases) in enumerate(zip(frame[column], frame["aliases"])):
        for item in [name] + [a for a in str(aliases).split(";") if a.strip()]:
            keys.setdefault(normalize(item), i)
    return keys


def gpu_index(catalog: pd.DataFrame, names) -> np.ndarray:
    """Row positions in *catalog* of each GPU name (-1 where unknown)."""
    keys = _keys(catalog, "gpu", normalize_gpu_name)
    return np.array([keys.get(normalize_gpu_name(n), -1) for n in names], dtype=int)


def architecture_index(catalog: pd.DataFrame, names) -> np.ndarray:
    """Row positions in *catalog* of each architecture name (-1 where unknown or blank)."""
    keys = _keys(catalog, "architecture", normalize_model_name)
    return np.array([keys.get(normalize_model_name(n), -1) if str(n).strip() else -1
                     for n in names], dtype=int)


def find_gpu(name: str, catalog: Optional[pd.DataFrame] = None) -> pd.Series:
    """The catalog row of one GPU; InputError naming the known GPUs if unknown."""
    catalog = load_gpu_catalog() if catalog is None else catalog
    i = gpu_index(catalog, [name])[0]
    if i < 0:
        raise InputError("gpu", f"unknown GPU {name!r}; known: {', '.join(catalog['gpu'])}")
    return catalog.iloc[i]


def find_architecture(name: str, catalog: Optional[pd.DataFrame] = None) -> pd.Series:
    """The catalog row of one architecture; InputError naming the known ones if unknown."""
    catalog = load_model_architectures() if catalog is None else catalog
    i = architecture_index(catalog, [name])[0]
    if i < 0:
        raise InputError("model", f"unknown model architecture {name!r}; known: "
                                  f"{', '.join(catalog['architecture'])}")
    return catalog.iloc[i]


__all__ = ["normalize_gpu_name", "normalize_model_name", "precision_bytes", "peak_tflops",
           "load_gpu_catalog", "load_model_architectures", "load_physics_assumptions",
           "gpu_index", "architecture_index", "find_gpu", "find_architecture",
           "PRECISION_BYTES"]
