"""Argument checking and array plumbing shared by the core functions.

Core functions accept scalars, numpy arrays and pandas Series. They compute
on float ndarrays and give back the caller's kind: a Python float for scalar
inputs, a Series (with the first Series argument's index) when any argument
is a Series, an ndarray otherwise.
"""
from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["check", "wrap", "broadcast", "InputError"]


def _describe(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(int(value)) if abs(value) < 1e15 else repr(value)
    return repr(value)


def check(value, name: str, *, gt=None, ge=None, le=None, lt=None) -> np.ndarray:
    """Return *value* as a float ndarray, or raise :class:`InputError`.

    Parameters
    ----------
    value : scalar, array-like or pandas.Series
    name : str
        The canonical argument name, used in the message.
    gt, ge, le, lt : float, optional
        Bounds every element must respect (NaN fails every bound).
    """
    raw = value.to_numpy() if isinstance(value, pd.Series) else value
    if isinstance(raw, (str, bytes)):
        raise InputError(name, f"{name} must be a number, got text {raw!r}")
    if isinstance(raw, (bool, np.bool_)):
        raise InputError(name, f"{name} must be a number, got {raw!r}")
    try:
        probe = np.asarray(raw)
    except (TypeError, ValueError):
        raise InputError(name, f"{name} must be a number or a rectangular array of numbers") from None
    if probe.dtype == bool:
        raise InputError(name, f"{name} must be a number, got a boolean")
    if probe.dtype.kind in "mMcV":  # dates, durations, complex, records
        raise InputError(name, f"{name} must be a number, got {probe.dtype} values")
    if probe.dtype.kind in "USO" or (probe.ndim and not isinstance(raw, np.ndarray)):
        # text is not a number, even text that float() would parse ("400"); nor is
        # a boolean mixed into a list ([True, 2] would otherwise become [1.0, 2.0])
        for item in np.ravel(np.asarray(raw, dtype=object)):
            if isinstance(item, (str, bytes)):
                raise InputError(name, f"{name} must be a number, got text {item!r}")
            if isinstance(item, (bool, np.bool_)):
                raise InputError(name, f"{name} must be a number, got a boolean")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        bad = raw
        if probe.ndim:
            for item in np.ravel(np.asarray(raw, dtype=object)):
                if not isinstance(item, Real):
                    bad = item
                    break
        raise InputError(name, f"{name} must be a number, got {bad!r}") from None
    nan = np.isnan(arr)
    if nan.any():
        raise InputError(name, f"{name} must be a number, got a blank or NaN")
    for bound, op, text in ((gt, np.less_equal, ">"), (ge, np.less, ">="),
                            (le, np.greater, "<="), (lt, np.greater_equal, "<")):
        if bound is None:
            continue
        bad = op(arr, bound)
        if bad.any():
            first = arr[bad].flat[0] if arr.ndim else float(arr)
            raise InputError(
                name, f"{name} must be {text} {_describe(float(bound))}, got {_describe(float(first))}"
            )
    return arr


def wrap(result, *inputs):
    """Give *result* back in the caller's kind (see module docstring)."""
    for item in inputs:
        if isinstance(item, pd.Series):
            arr = np.asarray(result, dtype=float)
            if arr.ndim == 0:
                arr = np.full(len(item), float(arr))
            return pd.Series(arr, index=item.index)
    arr = np.asarray(result, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    return arr


def broadcast(**arrays: np.ndarray) -> tuple:
    """The common shape of the named arrays; :class:`InputError` when they cannot
    be combined element-wise."""
    try:
        return np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items() if np.ndim(v))
        raise InputError(", ".join(arrays), f"shapes do not match: {shapes}") from None
