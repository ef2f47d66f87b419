"""Options shared by several subcommands."""
from __future__ import annotations

from ..errors import InputError

FORMATS = ("table", "csv", "json", "markdown")


def add_format(parser, default="table", choices=FORMATS):
    parser.add_argument("--format", choices=choices, default=default,
                        help=f"output format (default: {default})")


def add_set(parser):
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a canonical input in every row of its table, "
                             "e.g. --set power_price_usd_per_kwh=0.06 (repeatable)")


def parse_overrides(items) -> dict[str, float]:
    """``["name=value", ...]`` -> ``{name: float}``; InputError naming the bad item."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("--set", f"expected NAME=VALUE, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise InputError(f"--set {name}", f"{name} must be a number, got {value.strip()!r}") from None
    return out


def add_book(parser):
    """An optional positional ``BOOK``: read the inputs from that workbook's tables."""
    parser.add_argument("book", nargs="?", metavar="BOOK", default=None,
                        help="read the input tables from this workbook (.xlsm/.xlsx, e.g. an "
                             "analyst-edited tokencost.xlsm) instead of the CSV dataset")


def load_inputs(args):
    """The inputs a subcommand works on: the workbook ``BOOK`` when the subcommand has that
    argument and it is given, else ``--data DIR`` (default: the seed dataset); then every
    ``--set NAME=VALUE`` applied on top."""
    book = getattr(args, "book", None)
    if book is not None:
        if getattr(args, "data", None) is not None:
            raise InputError("--data", "give either a workbook BOOK or --data DIR, not both")
        from ..workbook.read import read_inputs
        inputs = read_inputs(book)
    else:
        from ..datasets import load_defaults
        inputs = load_defaults(getattr(args, "data", None))
    overrides = parse_overrides(getattr(args, "overrides", None))
    return inputs.with_overrides(overrides) if overrides else inputs
