"""The one exception type for bad user input.

Every shell turns it into its own kind of message: the CLI prints it on stderr,
a UDF returns it as a short text in the cell, the workbook reader turns it into
a ``Sheet!Cell: problem`` line.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad input, with *where* it is (argument name, ``file row N``, ``Sheet!C5``)
    and *what* is wrong.

    ``str(err)`` is ``"<where>: <problem>"`` unless the problem already starts
    with the name, as in ``tokens_per_s must be > 0, got 0``.
    """

    def __init__(self, where: str, problem: str):
        self.where = where
        self.problem = problem
        if problem.startswith(where):
            message = problem
        else:
            message = f"{where}: {problem}"
        super().__init__(message)


class WorkbookError(Exception):
    """A workbook file that cannot be read or safely changed: not a workbook, a
    corrupt or hostile package, a missing input table, or parts a write would
    lose. ``str(err)`` is one line naming the file and what is wrong; the CLI
    prints it and exits non-zero."""


class NonFiniteResult(ValueError):
    """A result that is not a finite number reached an output (a table, CSV or
    JSON): the renderer's last guard, so no output ever shows ``inf`` or holds
    ``Infinity``. The input checks refuse the inputs responsible first; the CLI
    turns this into one line naming its most extreme number option."""

    def __init__(self, result: str, value: float):
        self.result = result
        self.value = value
        super().__init__(f"{result} is not a finite number ({value})")


class OutputError(Exception):
    """A file a command cannot write (a folder, a read-only file, a folder it cannot
    create). ``str(err)`` is one line naming the file; nothing was written."""
