"""Recalculate workbooks with a real engine: LibreOffice Calc, headless.

Every run uses a fresh, isolated user profile (so it neither reads nor
changes the user's own LibreOffice settings) configured to recalculate every
formula on load, instead of trusting the cached values in the file.

LibreOffice never sees a file the gate has not passed: :func:`convert`, the one
place soffice is started, runs :func:`tokencost.workbook.gate.check_readable`
on its input first, so every conversion of a user's file (``recalc``,
``export``, :func:`recalculated_values`) is gated whoever calls it. soffice runs
in a session of its own (it execs ``oosplash``, which forks ``soffice.bin``);
when a run ends early (a timeout, Ctrl-C, SIGTERM turned into
:class:`~tokencost.workbook.interrupt.Terminated`) the whole process group is
killed and the profile folder removed before the exception goes on.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from . import interrupt

INSTALL_HINT = ("LibreOffice is needed to recalculate workbooks: on Debian/Ubuntu run "
                "`sudo apt-get install libreoffice-calc-nogui` (./dev test installs it when run as root)")

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing or failed."""


def soffice_path() -> str:
    """The LibreOffice executable, or :class:`LibreOfficeError` saying how to install it."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise LibreOfficeError(INSTALL_HINT)


def convert(source: Path, out_dir: Path, target_format: str = "xlsx", timeout_s: float = 180) -> Path:
    """Open *source* in LibreOffice (recalculating everything) and save it as
    *target_format* (``xlsx``, ``pdf``, ``csv`` ...) in *out_dir*; return the new file.

    Parameters
    ----------
    source : Path
        The workbook; refused by :func:`~tokencost.workbook.gate.check_readable`
        (:class:`~tokencost.errors.WorkbookError`) before LibreOffice starts.
    out_dir : Path
        Where the converted file is written (``<source stem>.<target_format>``).
    target_format : str
        LibreOffice's name of the format.
    timeout_s : float
        Longest run [s]; LibreOffice and its children are then killed.

    Raises
    ------
    LibreOfficeError
        LibreOffice is missing, failed, or took longer than *timeout_s*.
    """
    from .gate import check_readable
    source, out_dir = Path(source).resolve(), Path(out_dir).resolve()
    check_readable(source)
    exe = soffice_path()
    out_dir.mkdir(parents=True, exist_ok=True)
    filters = {"xlsx": 'xlsx:Calc MS Excel 2007 XML', "pdf": "pdf:calc_pdf_Export"}
    produced = out_dir / f"{source.stem}.{target_format}"
    finished = False
    try:
        with tempfile.TemporaryDirectory(prefix="tokencost-lo-") as profile:
            user = Path(profile) / "user"
            user.mkdir()
            (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
            scratch = Path(profile) / "tmp"   # LibreOffice's own temporary files: removed with it
            scratch.mkdir()
            env = dict(os.environ, HOME=profile, TMPDIR=str(scratch), TMP=str(scratch),
                       TEMP=str(scratch))
            cmd = [exe, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   f"-env:UserInstallation={Path(profile).as_uri()}",
                   "--convert-to", filters.get(target_format, target_format),
                   "--outdir", str(out_dir), str(source)]
            returncode, output = _run(cmd, env, timeout_s, source.name)
        finished = True
    finally:
        if not finished and produced.exists():   # half written by a LibreOffice killed midway
            produced.unlink()
    if returncode != 0 or not produced.exists():
        raise LibreOfficeError(f"LibreOffice could not convert {source.name}: {output[:500]}")
    return produced


def _run(cmd: list, env: dict, timeout_s: float, name: str) -> tuple:
    """Run soffice in a session of its own; return (exit code, its stderr or stdout).
    However the call ends, no process of that session's group is left running."""
    proc = None
    try:
        if os.name == "posix":   # its own session: one process group holds soffice's children
            own_group = dict(start_new_session=True, preexec_fn=interrupt.child_mask_cleared)
        else:
            own_group = dict(creationflags=subprocess.CREATE_NEW_PROCESS_GROUP)
        with interrupt.deferred():   # started and named in one step: no orphan if a signal comes
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=env, text=True, **own_group)
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(f"LibreOffice took over {timeout_s:.0f} s on {name}") from None
        return proc.returncode, (err or out or "").strip()
    finally:
        if proc is not None and proc.returncode is None:
            kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL every process in *proc*'s process group (soffice, oosplash, soffice.bin;
    on Windows ``taskkill /T``, the process tree), then reap *proc*.

    Parameters
    ----------
    proc : subprocess.Popen
        A process started in a session of its own and not yet reaped, so its pid, which is
        the group's id, cannot have been reused by another process. Waits at most 30 s [s]
        for it to be reaped.
    """
    with interrupt.deferred():
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:   # Windows: the process and every process it started
                subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                               capture_output=True, check=False)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:   # SIGKILL cannot be caught: only a hung kernel
            pass
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def recalculated_values(source: Path, work_dir: Optional[Path] = None) -> dict:
    """``{sheet: {"B7": value}}`` for every cell after LibreOffice recalculates *source*
    (gated by :func:`convert`)."""
    with tempfile.TemporaryDirectory(prefix="tokencost-recalc-") as tmp:
        return sheet_values(convert(source, Path(work_dir or tmp)))


def sheet_values(xlsx: Path) -> dict:
    """Every cell of *xlsx* that holds a value, as openpyxl's read-only reader gives it.

    Only the cells in the file are visited: a sheet whose ``<dimension>`` is A1:XFD1048576
    but which holds two cells costs two cells, not the 17 billion a row-by-row walk of the
    dimension (``iter_rows``) would.

    Parameters
    ----------
    xlsx : Path
        A workbook LibreOffice wrote (cached values are read).

    Returns
    -------
    dict
        ``{sheet name: {"B7": value}}``; empty cells are left out.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser
    wb = load_workbook(xlsx, data_only=True, read_only=True)
    try:
        values = {}
        for ws in wb.worksheets:
            sheet = {}
            with ws._get_source() as src:
                parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                         date_formats=wb._date_formats,
                                         timedelta_formats=wb._timedelta_formats)
                for _row, cells in parser.parse():
                    for cell in cells:
                        if cell["value"] is not None:
                            sheet[f"{get_column_letter(cell['column'])}{cell['row']}"] = cell["value"]
            values[ws.title] = sheet
    finally:
        wb.close()
    return values
