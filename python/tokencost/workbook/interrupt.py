"""Keep SIGINT and SIGTERM out of the few steps that must not be split.

The command line turns SIGTERM into an exception (:class:`Terminated`, as Python turns
SIGINT into :class:`KeyboardInterrupt`), so ``finally`` blocks clean up whatever a command
was doing: temporary files are removed, LibreOffice is killed. Cleanup can only undo what
it knows about: a temporary file created, or a child started, a moment before the variable
that names it is assigned would leak. :func:`deferred` holds both signals back for such a
step (they are delivered, and raise, as soon as it ends); :func:`child_mask_cleared` gives
a child the signal mask it would have had without it.

Libraries create temporary files too, beyond our reach (openpyxl writes each worksheet
through a ``NamedTemporaryFile`` it registers only after creating it). :func:`private_temp_dir`
gives a whole command one temporary folder, removed when it ends however it ends, so
nothing any library left half-registered survives the command; :func:`shared_temp_dir` is
the system's folder, for what commands share (the edit sessions' lock files).
"""
from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile

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


#: the system's temporary folder while :func:`private_temp_dir` is active
_SHARED_TEMP = None


@contextlib.contextmanager
def private_temp_dir():
    """Point :mod:`tempfile` (and so every library) at a folder of this command's own inside
    the system's temporary folder, and remove it with everything in it when the block ends."""
    global _SHARED_TEMP
    shared, previous = tempfile.gettempdir(), tempfile.tempdir
    with deferred():   # created and named in one step: a stop signal cannot leak it
        folder = tempfile.mkdtemp(prefix="tokencost-run-", dir=shared)
        _SHARED_TEMP, tempfile.tempdir = shared, folder
    try:
        yield folder
    finally:
        with deferred():
            tempfile.tempdir, _SHARED_TEMP = previous, None
            shutil.rmtree(folder, ignore_errors=True)


def shared_temp_dir() -> str:
    """The system's temporary folder, also inside :func:`private_temp_dir`."""
    return _SHARED_TEMP or tempfile.gettempdir()
