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


def load_inputs(args):
    """The inputs a subcommand works on: ``--data DIR`` (default: the seed dataset) with
    every ``--set NAME=VALUE`` applied."""
    from ..datasets import load_defaults
    inputs = load_defaults(getattr(args, "data", None))
    overrides = parse_overrides(getattr(args, "overrides", None))
    return inputs.with_overrides(overrides) if overrides else inputs
