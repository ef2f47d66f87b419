"""Reference tables shipped beside the seed dataset (deployment and sensitivity), read and checked.

A shell: it reads the extension CSV files (rental prices, TCO reference
points, token-mix assumptions, Monte Carlo distributions, tornado ranges) and
checks each once, naming ``file line N, column``. A folder given with
``--data DIR`` may hold its own copy of any of them; otherwise the shipped
file is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .csvfile import read_csv
from .datasets import DATA_DIR
from ..errors import InputError


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "number"  # "number" or "text"
    required: bool = True
    ge: Optional[float] = None
    gt: Optional[float] = None
    choices: tuple = ()


CATALOGS: dict[str, tuple[Field, ...]] = {
    "rental_prices.csv": (
        Field("provider", "text"), Field("gpu", "text"),
        Field("usd_per_gpu_hour", gt=0), Field("as_of", "text", required=False),
        Field("source", "text", required=False),
    ),
    "tco_reference.csv": (
        Field("gpu", "text"),
        Field("hyperscaler_own_usd_per_gpu_hour", gt=0, required=False),
        Field("neocloud_own_usd_per_gpu_hour", gt=0, required=False),
        Field("rental_3yr_usd_per_gpu_hour", gt=0, required=False),
        Field("all_in_power_kw_per_gpu", gt=0, required=False),
        Field("source", "text", required=False),
    ),
    "token_mix.csv": (
        Field("model", "text"), Field("prefill_tokens_per_s", gt=0),
        Field("cached_input_cost_factor", ge=0), Field("input_output_ratio", ge=0),
        Field("cache_hit_share", ge=0), Field("source", "text", required=False),
    ),
    "distributions.csv": (
        Field("input", "text"),
        Field("distribution", "text", choices=("fixed", "uniform", "triangular", "lognormal")),
        Field("basis", "text", choices=("absolute", "relative")),
        Field("low", required=False), Field("mode", required=False), Field("high", required=False),
        Field("mu", required=False), Field("sigma", required=False, ge=0),
        Field("source", "text", required=False),
    ),
    "sensitivity_ranges.csv": (
        Field("input", "text"), Field("basis", "text", choices=("absolute", "relative")),
        Field("low"), Field("high"), Field("source", "text", required=False),
    ),
}


def catalog_path(name: str, directory: Optional[Path] = None) -> Path:
    """The file to read: ``directory/name`` when it exists there, else the shipped one."""
    if directory is not None:
        candidate = Path(directory) / name
        if candidate.exists():
            return candidate
    return DATA_DIR / name


def read_catalog(name: str, directory: Optional[Path] = None, path: Optional[Path] = None) -> pd.DataFrame:
    """Read and check one catalog; numbers become float (NaN for a blank optional
    cell), text becomes ``str``. :class:`InputError` names file, line and column."""
    fields = CATALOGS[name]
    path = Path(path) if path is not None else catalog_path(name, directory)
    label = path.name
    raw = read_csv(path, [f.name for f in fields], label=label)  # one-line errors, file and line
    lines = raw.attrs["lines"]
    out = {}
    for f in fields:
        if f.name not in raw.columns:
            if f.required:
                raise InputError(f"{label} column {f.name}", f"required column {f.name} is missing")
            out[f.name] = pd.Series([np.nan if f.kind == "number" else ""] * len(raw),
                                    dtype=float if f.kind == "number" else object)
            continue
        values = []
        for i, v in enumerate(raw[f.name].tolist()):
            where = f"{label} line {lines[i]}, column {f.name}"
            blank = v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())
            if blank:
                if f.required:
                    raise InputError(where, f"{f.name} is required but blank")
                values.append(np.nan if f.kind == "number" else "")
                continue
            if f.kind == "text":
                text = str(v).strip()
                if f.choices and text.casefold() not in f.choices:
                    raise InputError(where, f"{f.name} must be one of {', '.join(f.choices)}, got {text!r}")
                values.append(text.casefold() if f.choices else text)
                continue
            try:
                number = float(v)
            except ValueError:
                raise InputError(where, f"{f.name} must be a number, got text {v!r}") from None
            if np.isnan(number) or np.isinf(number):
                raise InputError(where, f"{f.name} must be a finite number, got {v!r}")
            if f.gt is not None and not number > f.gt:
                raise InputError(where, f"{f.name} must be > {f.gt:g}, got {number:g}")
            if f.ge is not None and not number >= f.ge:
                raise InputError(where, f"{f.name} must be >= {f.ge:g}, got {number:g}")
            values.append(number)
        out[f.name] = pd.Series(values, dtype=float if f.kind == "number" else object)
    frame = pd.DataFrame(out, columns=[f.name for f in fields])
    frame.attrs["file"] = label
    frame.attrs["lines"] = lines
    return frame


__all__ = ["CATALOGS", "catalog_path", "read_catalog"]
