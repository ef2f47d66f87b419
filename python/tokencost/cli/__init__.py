"""The ``tokencost`` command: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` has ``register(subparsers)``, which adds its
parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. Errors in the user's input (:class:`InputError`) and
in their files (:class:`UserFacingError`) become one line on stderr and a
non-zero exit code, never a traceback.

A command stopped by Ctrl-C (SIGINT) or SIGTERM (``kill``, a CI job's timeout,
systemd) unwinds like an exception: SIGTERM is raised as
:class:`~tokencost.workbook.interrupt.Terminated`, so every ``finally`` runs
(temporary files beside the workbook are removed, LibreOffice's process group
is killed), further stop signals are ignored while that cleanup runs, and the
command ends with one line on stderr and exit code 130 (SIGINT) or 143
(SIGTERM), 128 plus the signal's number as a shell reports it.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import signal
import sys
import threading

from ..errors import InputError, NonFiniteResult, OutputError, WorkbookError

#: subcommand modules, in the order ``tokencost --help`` lists them
COMMANDS = [
    "report",
    "check",
    "build",
    "recalc",
    "scenario",
    "tables",
    "export",
    "fleet",
    "sensitivity",
    "prices",
    "bound",
    "lifecycle",
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


def _stop(signum, _frame):
    """SIGINT and SIGTERM handler: ignore further stop signals (the cleanup this starts must
    not be cut short) and raise, so the command unwinds through its ``finally`` blocks."""
    from ..workbook.interrupt import Terminated
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated()


def _handle_stop_signals():
    """Install :func:`_stop` for SIGINT and SIGTERM; return a function that restores the
    previous handlers (``main`` may be called in-process, by tests)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore():
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def main(argv=None) -> int:
    from ..workbook.formula import FormulaError
    from ..workbook.interrupt import Terminated, private_temp_dir
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    import numpy as np
    restore = _handle_stop_signals()
    try:
        # an overflow shows as a result that is not finite, which the model's checks and
        # the renderer refuse with a located message; numpy's warnings would only add noise
        # and every temporary file of the command (libraries' too) lives in a folder of its
        # own, removed when it ends, also when a stop signal lands mid-creation
        with np.errstate(all="ignore"), private_temp_dir():
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
        print(f"tokencost {args.command}: stopped by SIGINT (Ctrl-C); nothing half-done is left",
              file=sys.stderr)
        return 130
    except Terminated:
        print(f"tokencost {args.command}: stopped by SIGTERM; nothing half-done is left",
              file=sys.stderr)
        return 143
    finally:
        restore()


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
    the command line (see :func:`tokencost.analysis.model.extreme`) is named."""
    from ..analysis.model import not_finite_problem
    problem = not_finite_problem(number_options(args), err.result, "the output")
    return str(problem) if problem.where != "the output" else (
        f"{err}; an input is too large or too small for a finite result")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
