"""One edit session per command that writes a workbook: nothing an analyst made is lost.

Each finding of the issue this answers is a test here, run for real: commands as
subprocesses racing on one book, LibreOffice's and Excel's owner files, another
program saving the book during an edit, charts made and saved by LibreOffice itself
(through its own API), and an empty LibreOffice chart openpyxl cannot read.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tokencost.cli import main
from tokencost.errors import WorkbookError
from tokencost.workbook.edit.inventory import inventory
from tokencost.workbook.edit.scenarios import list_scenarios
from tokencost.workbook.edit.session import BookLock, EditSession
from tokencost.workbook.package import sheet_charts, sheet_parts_by_name
from workbook_helpers import uno

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "tokencost.xlsm"
CATALOG = REPO / "tests" / "data" / "litellm_prices_sample.json"


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def book(tmp_path) -> Path:
    target = tmp_path / "book.xlsm"
    shutil.copyfile(BOOK, target)
    return target


def _tokencost(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "tokencost", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _tabs(path) -> list[str]:
    return [s.name for s in list_scenarios(path)]


# ------------------------------------------------------------------ exclusive writes

def test_two_scenario_adds_at_once_keep_both_tabs(book):
    first = _tokencost("scenario", "add", book, "--name", "power_0.05", "--set",
                       "power_price_usd_per_kwh=0.05")
    second = _tokencost("scenario", "add", book, "--name", "power_0.08", "--set",
                        "power_price_usd_per_kwh=0.08")
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert {"power_0.05", "power_0.08"} <= set(_tabs(book))


def test_a_scenario_add_and_a_price_import_at_once_keep_both(book):
    add = _tokencost("scenario", "add", book, "--name", "power_0.05", "--set",
                     "power_price_usd_per_kwh=0.05")
    prices = _tokencost("prices", "import", CATALOG, "--mode", "chat", "--workbook", book,
                        "--cost-basis", "dense-70b")
    outs = [p.communicate(timeout=300) for p in (add, prices)]
    assert add.returncode == 0 and prices.returncode in (0, 1), outs   # 1: the sample's bad rows
    assert "power_0.05" in _tabs(book)
    wb = load_workbook(book, read_only=True)
    models = [row[1] for row in wb["Prices"].iter_rows(min_row=8, values_only=True) if row[1]]
    assert "claude-test-opus" in models, models


def test_the_lock_is_held_across_processes_and_a_waiting_command_says_so(book):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from tokencost.workbook.edit.session import BookLock\n"
        f"with BookLock({str(book)!r}):\n    print('held', flush=True); time.sleep(4)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with pytest.raises(WorkbookError, match="another tokencost command is still writing"):
        with BookLock(book, timeout_s=0.5):
            pass
    assert time.monotonic() - start < 3
    holder.wait(timeout=30)
    with BookLock(book, timeout_s=5):   # released when the holder ended
        pass


@pytest.mark.parametrize("owner", [".~lock.book.xlsm#", "~$book.xlsm", "~$ok.xlsm"])
def test_a_book_open_in_an_office_application_is_refused(book, owner, capsys):
    (book.parent / owner).write_text("locked by an analyst")
    before = sha(book)
    code = main(["scenario", "add", str(book), "--name", "x", "--set", "pue=1.2"])
    err = capsys.readouterr().err
    assert code == 2 and sha(book) == before
    app = "LibreOffice" if owner.startswith(".~lock") else "Excel"
    assert f"open in {app}" in err and owner in err and len(err.strip().splitlines()) == 1


def test_a_book_another_program_saved_meanwhile_is_not_overwritten(book, tmp_path):
    other = tmp_path / "other.xlsm"
    shutil.copyfile(book, other)
    wb = load_workbook(other, keep_vba=True)
    wb["Cover"]["A30"] = "saved by the analyst's own Excel"
    wb.save(other)
    with pytest.raises(WorkbookError, match="changed on disk while tokencost was working"):
        with EditSession(book) as session:
            shutil.copyfile(other, book)      # another program saves the book now
            session.wb["Cover"]["A31"] = "tokencost's edit"
            session.write()
    assert sha(book) == sha(other)             # their change is kept, ours refused
    assert not any(p.name.startswith(".book-") for p in book.parent.iterdir())


# ------------------------------------------------------------------ preserve what LibreOffice made

@pytest.fixture(scope="module")
def libreoffice_books(tmp_path_factory, libreoffice):
    """tokencost.xlsm edited and saved by LibreOffice through its own API: one with a chart
    LibreOffice made on the analyst's data, one with an empty chart (no data series)."""
    tmp = tmp_path_factory.mktemp("lo")
    steps = [{"op": "open", "path": str(BOOK)},
             {"op": "add_chart", "sheet": "Hardware", "name": "AnalystChart", "range": "A7:C8"},
             {"op": "save", "path": str(tmp / "chart.xlsm"), "filter": "Calc MS Excel 2007 VBA XML"},
             {"op": "close"},
             {"op": "open", "path": str(BOOK)},
             {"op": "add_chart", "sheet": "Hardware", "name": "Empty", "range": "A7:C8",
              "series": False},
             {"op": "save", "path": str(tmp / "empty.xlsm"), "filter": "Calc MS Excel 2007 VBA XML"}]
    uno(steps)
    return {"chart": tmp / "chart.xlsm", "empty": tmp / "empty.xlsm"}


def _charts(path) -> dict:
    """{(sheet, i): chart part bytes} in anchor order."""
    with zipfile.ZipFile(path) as zf:
        return {(sheet, i): zf.read(part) for sheet, sp in sheet_parts_by_name(zf).items()
                for i, part in enumerate(sheet_charts(zf, sp))}


def test_a_libreoffice_chart_survives_an_in_place_edit_byte_for_byte(libreoffice_books, tmp_path):
    book = tmp_path / "analyst.xlsm"
    shutil.copyfile(libreoffice_books["chart"], book)
    charts = _charts(book)
    assert ("Hardware", 0) in charts and b"roundedCorners" in charts[("Hardware", 0)]
    assert main(["scenario", "add", str(book), "--name", "power_0.08", "--set",
                 "power_price_usd_per_kwh=0.08", "--no-backup"]) == 0
    after = _charts(book)
    assert after[("Hardware", 0)] == charts[("Hardware", 0)]
    assert all(after[k] == v for k, v in charts.items())
    inv_before, inv_after = inventory(libreoffice_books["chart"]), inventory(book)
    lost = {k: n for k, n in inv_before.items() if inv_after.get(k, 0) < n}
    assert not lost, lost


def test_the_shipped_charts_keep_their_style_through_an_edit(book):
    assert main(["scenario", "add", str(book), "--name", "x", "--set", "pue=1.2",
                 "--no-backup"]) == 0
    with zipfile.ZipFile(BOOK) as a, zipfile.ZipFile(book) as b:
        styled = [n for n in a.namelist() if n.startswith("xl/charts/") and b"<style " in a.read(n)]
        assert styled
        assert all(b"<style " in b.read(n) for n in styled)


def test_an_empty_libreoffice_chart_does_not_stop_a_command(libreoffice_books, tmp_path, capsys):
    book = tmp_path / "empty.xlsm"
    shutil.copyfile(libreoffice_books["empty"], book)
    with zipfile.ZipFile(book) as zf:   # the file really holds a chart with no series
        empty = [n for n in zf.namelist() if n.startswith("xl/charts/chart")
                 and b"<c:ser>" not in zf.read(n)]
    assert empty
    assert _tabs(book) == ["subsidized_power", "depreciation_5y"]
    assert main(["scenario", "add", str(book), "--name", "x", "--set", "pue=1.2",
                 "--no-backup"]) == 0
    assert main(["scenario", "remove", str(book), "--name", "x", "--no-backup"]) == 0
    code = main(["prices", "import", str(CATALOG), "--mode", "chat", "--workbook", str(book),
                 "--cost-basis", "dense-70b", "--no-backup"])
    assert code in (0, 1) and "Traceback" not in capsys.readouterr().err
    with zipfile.ZipFile(libreoffice_books["empty"]) as a, zipfile.ZipFile(book) as b:
        kept = [n for n in b.namelist() if n.startswith("xl/charts/chart") and b"<c:ser>" not in b.read(n)]
        assert sorted(a.read(n) for n in empty) == sorted(b.read(n) for n in kept)


def test_the_edit_reads_the_book_once(book, monkeypatch):
    """One openpyxl load and one gate per in-place edit (the gate: check_readable)."""
    import openpyxl.reader.excel as reader
    from tokencost.workbook import gate
    from tokencost.workbook.edit import session as session_module
    loads, gates = [], []
    real_load, real_gate = reader.load_workbook, gate.check_readable
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    monkeypatch.setattr(session_module, "check_readable", lambda *a, **k: gates.append(1) or real_gate(*a, **k))
    from tokencost.workbook.edit.scenarios import add_scenario
    add_scenario(book, "x", {"pue": 1.2}, backup=False)
    assert len(loads) == 1 and len(gates) == 1


def test_a_commands_temporary_files_leave_with_it_however_it_ends(tmp_path, monkeypatch):
    """A library's temporary file that no cleanup knows of (openpyxl registers its worksheet
    files only after creating them: a stop signal in between leaked one) is removed with the
    command's private folder; the lock folder stays in the shared one."""
    import tempfile

    from tokencost.workbook.interrupt import Terminated, private_temp_dir, shared_temp_dir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(Terminated):
        with private_temp_dir() as folder:
            assert tempfile.gettempdir() == folder and shared_temp_dir() == str(tmp_path)
            leaked = tempfile.NamedTemporaryFile(prefix="openpyxl.", delete=False).name
            assert Path(leaked).parent == Path(folder)
            raise Terminated()
    assert not Path(leaked).exists() and list(tmp_path.iterdir()) == []
    assert tempfile.gettempdir() == str(tmp_path) and shared_temp_dir() == str(tmp_path)
