"""Writing a workbook file: atomically, with a backup, never half done.

:func:`write_atomic` is the one way every command writes a file (a build, an
export, an edited workbook, a recalculated one): a temporary file in the
target's folder, renamed over the target, the replaced file kept as
``<file>.bak``; :func:`check_writable` refuses a target that cannot be
written before any long work starts.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from ..errors import OutputError


def check_writable(target: Path) -> Path:
    """The file *target* names (a symbolic link resolved), or :class:`OutputError` when it
    plainly cannot be written: a folder, a read-only file, a parent that is a file. For
    commands to check their targets before long work; :func:`write_atomic` checks too."""
    target = Path(target)
    if target.is_symlink():   # replace the file the link points to, not the link
        target = target.resolve()
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; name a file to write")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{target}: cannot write: the file is read-only")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{target}: cannot write in {parent}: it is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"{target}: cannot write in {parent}: permission denied")
            break
    return target



def write_atomic(save, target: Path, backup: bool = True) -> Optional[Path]:
    """Call ``save(tmp_path)``, then rename the temporary file over *target*.

    The temporary file is made in *target*'s folder (so the rename is atomic); an
    existing *target* is first copied to ``<target>.bak`` (through a temporary file
    of its own, renamed into place, so a backup is never half written). Returns the
    backup path.

    However the call ends (an exception in *save*, Ctrl-C, SIGTERM raised by the
    command line), the temporary files are removed in ``finally`` and *target* is
    either the old file or the new one, never a part of either; the old ``.bak`` is
    untouched. Creating a temporary file and naming it is one step with SIGINT and
    SIGTERM held back (:func:`tokencost.workbook.interrupt.deferred`), so no signal
    can leave a file the cleanup does not know. A target that cannot be written (a
    folder, a read-only file, a folder that cannot be created or written) raises
    :class:`OutputError`, one line naming the file, before anything is written.
    """
    from .interrupt import deferred
    target = check_writable(target)
    tmp = tmp_bak = None
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with deferred():
                fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix,
                                           dir=target.parent)
                os.close(fd)
        except OSError as err:
            raise OutputError(f"{target}: cannot write in {target.parent}: "
                              f"{err.strerror or err}") from None
        save(tmp)
        # mkstemp makes the file private (0600); give it the mode of the file it replaces,
        # or the mode a new file gets under the user's umask (workbooks are meant to be shared)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        bak = None
        if backup and target.exists():
            bak = target.with_name(target.name + ".bak")
            if bak.is_dir():
                raise OutputError(f"{bak}: is a folder, so {target.name} cannot be backed up; "
                                  "move it away or use --no-backup")
            with deferred():
                fd, tmp_bak = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".bak",
                                               dir=target.parent)
                os.close(fd)
            shutil.copy2(target, tmp_bak)
            os.replace(tmp_bak, bak)   # the backup is whole before the target changes
            tmp_bak = None
        os.replace(tmp, target)
        return bak
    except OSError as err:
        raise OutputError(f"{target}: cannot write: {err.strerror or err}") from None
    finally:
        for leftover in (tmp, tmp_bak):
            if leftover is not None and os.path.exists(leftover):
                os.unlink(leftover)
