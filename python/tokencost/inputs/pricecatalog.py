"""Import provider list prices from a LiteLLM-format price catalog.

The community catalog ``model_prices_and_context_window.json`` of the LiteLLM
project [1]_ is one JSON object: model name -> entry, with per-token prices
``input_cost_per_token``, ``output_cost_per_token`` and (optionally)
``cache_read_input_token_cost``, the provider in ``litellm_provider`` and the
kind of endpoint in ``mode``. A ``sample_spec`` entry documents the format and
is skipped, as are fields this importer does not use.

Per-token USD prices become USD per million tokens (x 1e6). Entries without a
per-token output price (image, audio, rerank endpoints...) are not token
priced and are skipped, counted, not reported as errors. Entries that are
malformed (not an object, a price that is not a finite number >= 0, no
provider) are reported as problems naming the key and the field.

The user supplies the file; nothing here touches the network. The reader is
hardened against hostile files: a size limit checked before reading, JSON
only (no NaN/Infinity literals; a model key given twice is reported),
bounded nesting, printable text only.

References
----------
.. [1] BerriAI/litellm, ``model_prices_and_context_window.json``
   (https://github.com/BerriAI/litellm), the ``sample_spec`` entry documents
   the fields.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import pandas as pd

from ..errors import InputError

#: the largest catalog file read [bytes]; LiteLLM's own file is about 1.6 MB
MAX_BYTES = 32 * 1024 * 1024
#: the longest model or provider name kept [characters]
MAX_NAME_CHARS = 256
TOKENS_PER_MTOK = 1e6

COLUMNS = ["provider", "model", "price_usd_per_mtok", "input_price_usd_per_mtok",
           "cached_input_price_usd_per_mtok", "mode", "source"]

PRICE_FIELDS = {
    "price_usd_per_mtok": "output_cost_per_token",
    "input_price_usd_per_mtok": "input_cost_per_token",
    "cached_input_price_usd_per_mtok": "cache_read_input_token_cost",
}


@dataclass
class ImportResult:
    """Rows converted, problems found, entries skipped (not token priced or filtered out)."""
    rows: pd.DataFrame
    problems: list[str] = field(default_factory=list)
    skipped: int = 0


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str, where: str = "catalog") -> tuple[Any, list[str]]:
    """Strict JSON: no NaN/Infinity literals; nesting bounded by the parser's
    recursion limit. Returns the object and the keys that appeared twice in one
    JSON object (the last one wins, as in most JSON readers)."""
    duplicates: list[str] = []

    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=pairs), duplicates
    except json.JSONDecodeError as err:
        raise InputError(where, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise InputError(where, "JSON nested too deeply; not a price catalog") from None
    except ValueError as err:
        raise InputError(where, f"not valid JSON: {_safe(str(err))}") from None


def read_file(path, max_bytes: int = MAX_BYTES) -> tuple[Any, list[str]]:
    """Read a catalog file: refuse anything over *max_bytes* before reading it.
    Returns what :func:`loads` returns."""
    path = Path(path)
    where = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(where, f"file not found: {path}") from None
    except OSError as err:
        raise InputError(where, f"cannot read {path}: {err.strerror}") from None
    if not path.is_file():
        raise InputError(where, f"not a regular file: {path}")
    if size > max_bytes:
        raise InputError(where, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit for a "
                                f"price catalog")
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(where, f"file is over the {max_bytes:,}-byte limit for a price catalog")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(where, f"not UTF-8 text (byte {err.start}); a price catalog is JSON") from None
    return loads(text, where)


def _safe(text: str, limit: int = 80) -> str:
    """Printable, bounded text for messages (no terminal control sequences)."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return clean if len(clean) <= limit else clean[:limit] + "..."


def _price(entry: Mapping, key: str, field_name: str, problems: list) -> Optional[float]:
    """A per-token price as USD/MTok; None when absent; problem when malformed."""
    if field_name not in entry or entry[field_name] is None:
        return None
    value = entry[field_name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"key {_safe(key)!r}, field {field_name}: must be a number, "
                        f"got {_safe(repr(value), 40)}")
        return float("nan")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        problems.append(f"key {_safe(key)!r}, field {field_name}: must be a finite number >= 0, "
                        f"got {value!r}")
        return float("nan")
    return value * TOKENS_PER_MTOK


def parse(catalog: Any, source: str = "LiteLLM catalog", modes=None) -> ImportResult:
    """Convert a parsed LiteLLM catalog to Prices-like rows.

    Parameters
    ----------
    catalog : dict
        The parsed JSON object.
    source : str
        Text for each row's ``source`` column (e.g. the file name).
    modes : iterable of str, optional
        Keep only entries whose ``mode`` is one of these (e.g. ``{"chat"}``).
    """
    if not isinstance(catalog, dict):
        raise InputError(source, f"a price catalog is a JSON object of model entries, "
                                 f"got a JSON {type(catalog).__name__}")
    wanted = {m.casefold() for m in modes} if modes else None
    rows, problems, skipped = [], [], 0
    for key, entry in catalog.items():
        if key == "sample_spec":
            continue
        if not isinstance(entry, dict):
            problems.append(f"key {_safe(key)!r}: entry must be a JSON object, got {type(entry).__name__}")
            continue
        if "output_cost_per_token" not in entry:
            skipped += 1  # not priced per token (images, audio, ...)
            continue
        mode = entry.get("mode", "")
        mode = mode if isinstance(mode, str) else ""
        if wanted is not None and mode.casefold() not in wanted:
            skipped += 1
            continue
        bad_before = len(problems)
        if len(key) > MAX_NAME_CHARS or not key.strip() or not key.isprintable():
            problems.append(f"key {_safe(key)!r}: model name must be 1-{MAX_NAME_CHARS} printable characters")
            continue
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str) or not provider.strip():
            problems.append(f"key {_safe(key)!r}, field litellm_provider: missing or not text")
        elif len(provider) > MAX_NAME_CHARS or not provider.isprintable():
            problems.append(f"key {_safe(key)!r}, field litellm_provider: must be 1-{MAX_NAME_CHARS} "
                            f"printable characters")
        prices = {col: _price(entry, key, f, problems) for col, f in PRICE_FIELDS.items()}
        if len(problems) > bad_before:
            continue
        if not mode.isprintable() or len(mode) > MAX_NAME_CHARS:
            mode = _safe(mode, MAX_NAME_CHARS)
        rows.append({
            "provider": provider.strip(), "model": key.strip(),
            "price_usd_per_mtok": prices["price_usd_per_mtok"],
            "input_price_usd_per_mtok": prices["input_price_usd_per_mtok"],
            "cached_input_price_usd_per_mtok": prices["cached_input_price_usd_per_mtok"],
            "mode": mode, "source": f"{source}, key {key.strip()!r} (per-token USD x 1e6)",
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for col in PRICE_FIELDS:
        # x 1e6 leaves binary noise (2.8e-08 x 1e6 = 0.028000000000000004); no price
        # is quoted finer than 1e-9 USD/MTok
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).round(9)
    return ImportResult(frame, problems, skipped)


def import_file(path, modes=None, max_bytes: int = MAX_BYTES) -> ImportResult:
    """Read and convert a LiteLLM-format catalog file."""
    path = Path(path)
    catalog, duplicates = read_file(path, max_bytes)
    result = parse(catalog, source=f"LiteLLM-format catalog {_safe(path.name)}", modes=modes)
    if isinstance(catalog, dict):
        top = [k for k in duplicates if k in catalog]
        result.problems[:0] = [f"key {_safe(k)!r}: appears more than once; the last entry was used"
                               for k in dict.fromkeys(top)]
    return result


__all__ = ["COLUMNS", "MAX_BYTES", "ImportResult", "loads", "read_file", "parse", "import_file"]
