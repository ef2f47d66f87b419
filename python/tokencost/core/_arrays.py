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
    if isinstance(value, pd.Series):
        raw = value.to_numpy()
    elif isinstance(value, (bool, np.bool_)):
        raise InputError(name, f"{name} must be a number, got {value!r}")
    else:
        raw = value
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        bad = raw
        if np.ndim(raw):
            for item in np.ravel(np.asarray(raw, dtype=object)):
                if not isinstance(item, Real) or isinstance(item, bool):
                    bad = item
                    break
        raise InputError(name, f"{name} must be a number, got {bad!r}") from None
    if arr.dtype == bool:
        raise InputError(name, f"{name} must be a number, got a boolean")
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
