"""Keep SIGINT and SIGTERM out of the few steps that must not be split.

The command line turns SIGTERM into an exception (:class:`Terminated`, as Python turns
SIGINT into :class:`KeyboardInterrupt`), so ``finally`` blocks clean up whatever a command
was doing: temporary files are removed, LibreOffice is killed. Cleanup can only undo what
it knows about: a temporary file created, or a child started, a moment before the variable
that names it is assigned would leak. :func:`deferred` holds both signals back for such a
step (they are delivered, and raise, as soon as it ends); :func:`child_mask_cleared` gives
a child the signal mask it would have had without it.
"""
from __future__ import annotations

import contextlib
import signal

#: the signals a command is stopped by
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class Terminated(BaseException):
    """SIGTERM arrived (raised by the command line's handler; a BaseException, like
    KeyboardInterrupt, so ``except Exception`` does not swallow it)."""


#: POSIX only (Windows has no signal masks: there the steps are merely very short)
_MASKS = hasattr(signal, "pthread_sigmask")


@contextlib.contextmanager
def deferred():
    """Hold SIGINT and SIGTERM back while the ``with`` block runs (this thread only); a
    signal that arrives meanwhile is delivered when the block ends."""
    if not _MASKS:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def child_mask_cleared() -> None:
    """``preexec_fn`` (POSIX) for a child started inside :func:`deferred`: unblock the
    signals the child would otherwise inherit blocked."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
