"""The ``tokencost`` command: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` has ``register(subparsers)``, which adds its
parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. Errors in the user's input (:class:`InputError`) and
in their files (:class:`UserFacingError`) become one line on stderr and a
non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import InputError, WorkbookError

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


def main(argv=None) -> int:
    from ..workbook.formula import FormulaError
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (InputError, UserFacingError, WorkbookError) as err:
        print(f"tokencost {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FormulaError as err:  # a workbook formula tokencost's evaluator cannot compute
        print(f"tokencost {args.command}: error: cannot compute a workbook formula: {err}; "
              "recalculate the workbook in a spreadsheet (or `tokencost recalc BOOK`)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tokencost: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
