"""Options shared by several subcommands."""
from __future__ import annotations

from ..errors import InputError

FORMATS = ("table", "csv", "json", "markdown")

#: the CSV rule every --data folder and CSV option follows (tokencost.inputs.csvfile), for --help
CSV_RULE = ("CSV files are read as UTF-8 (with or without a BOM), else as Windows-1252 "
            "(Excel's plain CSV)")


def add_format(parser, default="table", choices=FORMATS):
    parser.add_argument("--format", choices=choices, default=default,
                        help=f"output format (default: {default})")


def add_set(parser):
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a canonical input in every row of its table, "
                             "e.g. --set power_price_usd_per_kwh=0.06 (repeatable)")


def number():
    """An argparse ``type`` for a number option: what ``float`` reads, except ``inf``
    and ``nan`` (no input is infinite). Bounds and whole-number rules are checked by
    the function the option feeds, in one line naming the option."""
    import argparse
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r} (not finite)")
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


def count(low: int = 1, high: int = 1_000_000):
    """An argparse ``type`` for a whole-number option in ``[low, high]`` (points of a
    sweep, grid steps, histogram bins: bounded, so a typo cannot exhaust memory)."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:,}, {high:,}], got {value:,}")
        return value

    parse.__name__ = "count"
    return parse


def parse_overrides(items) -> dict[str, float]:
    """``["name=value", ...]`` -> ``{name: float}``; InputError naming the bad item
    (``--set NAME``): not NAME=VALUE, not a finite number. Names and bounds are
    checked where the overrides are applied (:meth:`tokencost.inputs.validate.Inputs.with_overrides`)."""
    import math
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("--set", f"expected NAME=VALUE, got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"--set {name}", f"{name} must be a number, got {value.strip()!r}") from None
        if not math.isfinite(number):
            raise InputError(f"--set {name}", f"{name} must be a number, got {value.strip()!r} "
                                              "(not finite)")
        out[name] = number
    return out


def override_sources(overrides) -> dict[str, str]:
    """``{name: "--set name"}``: where each override of the command line came from."""
    return {name: f"--set {name}" for name in overrides}


def add_book(parser):
    """An optional positional ``BOOK``: read the inputs from that workbook's tables."""
    parser.add_argument("book", nargs="?", metavar="BOOK", default=None,
                        help="read the input tables from this workbook (.xlsm/.xlsx, e.g. an "
                             "analyst-edited tokencost.xlsm) instead of the CSV dataset")


def load_inputs(args):
    """The inputs a subcommand works on: the workbook ``BOOK`` when the subcommand has that
    argument and it is given, else ``--data DIR`` (default: the seed dataset); then every
    ``--set NAME=VALUE`` applied on top."""
    overrides = parse_overrides(getattr(args, "overrides", None))   # before reading any file
    book = getattr(args, "book", None)
    if book is not None:
        if getattr(args, "data", None) is not None:
            raise InputError("--data", "give either a workbook BOOK or --data DIR, not both")
        from ..workbook.read import read_inputs
        inputs = read_inputs(book)
    else:
        from ..inputs.datasets import load_defaults
        inputs = load_defaults(getattr(args, "data", None))
    if overrides:
        inputs = inputs.with_overrides(overrides, override_sources(overrides))
    from ..analysis.model import evaluate
    evaluate(inputs)  # every result finite, or InputError at the input to blame
    return inputs
