"""The ``tokencost`` command: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` has ``register(subparsers)``, which adds its
parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. Errors in the user's input (:class:`InputError`) and
in their files (:class:`UserFacingError`) become one line on stderr and a
non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import sys

from ..errors import InputError, NonFiniteResult, OutputError, WorkbookError

#: subcommand modules, in the order ``tokencost --help`` lists them
COMMANDS = [
    "report",
    "check",
    "build",
    "recalc",
    "scenario",
    "export",
    "fleet",
    "sensitivity",
    "prices",
    "bound",
]


class UserFacingError(Exception):
    """A problem to report to the user in one line (a missing file, a refused write)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokencost",
        description="What an AI token really costs to serve, from the chip up.",
        epilog="Example: tokencost report --format markdown",
    )
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"tokencost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process (parsing leaves it unchanged)."""
    return build_parser()


def main(argv=None) -> int:
    from ..workbook.formula import FormulaError
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    import numpy as np
    try:
        # an overflow shows as a result that is not finite, which the model's checks and
        # the renderer refuse with a located message; numpy's warnings would only add noise
        with np.errstate(all="ignore"):
            return int(args.func(args) or 0)
    except NonFiniteResult as err:  # the renderer's last guard: blame the command line
        print(f"tokencost {args.command}: error: {non_finite_message(args, err)}", file=sys.stderr)
        return 2
    except (InputError, UserFacingError, WorkbookError, OutputError) as err:
        print(f"tokencost {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FormulaError as err:  # a workbook formula tokencost's evaluator cannot compute
        print(f"tokencost {args.command}: error: cannot compute a workbook formula: {err}; "
              "recalculate the workbook in a spreadsheet (or `tokencost recalc BOOK`)",
              file=sys.stderr)
        return 2
    except BrokenPipeError:   # the reader of our output went away (`tokencost report | head`)
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # so that the interpreter's final flush is quiet
        return 1
    except KeyboardInterrupt:  # every file is written atomically: whole, or left as it was
        print(f"tokencost {args.command}: interrupted; any file being written was left as it was",
              file=sys.stderr)
        return 130


def number_options(args) -> list[tuple[str, str, float]]:
    """``(option, name, value)`` of every number the command line gave (``--set``
    overrides included), for blaming an overflow on the most extreme of them."""
    from ._common import parse_overrides
    out = []
    for dest, value in vars(args).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and dest != "seed":
            out.append((f"--{dest.replace('_', '-')}", dest, float(value)))
    try:
        overrides = parse_overrides(getattr(args, "overrides", None))
    except InputError:
        overrides = {}
    out += [(f"--set {name}", name, value) for name, value in overrides.items()]
    return out


def non_finite_message(args, err: NonFiniteResult) -> str:
    """One line for a result that is not a finite number: the most extreme number of
    the command line (see :func:`tokencost.model.extreme`) is named."""
    from ..model import not_finite_problem
    problem = not_finite_problem(number_options(args), err.result, "the output")
    return str(problem) if problem.where != "the output" else (
        f"{err}; an input is too large or too small for a finite result")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
