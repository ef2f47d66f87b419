"""Never lose an analyst's work; survive hostile or broken files (workbook/safety.py)."""
from __future__ import annotations

import hashlib
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText

import fixtures_safety as F
from tokencost.cli import main
from tokencost.errors import WorkbookError
from tokencost.workbook import libreoffice
from tokencost.workbook.edit.recalc import recalc_in_place
from tokencost.workbook.edit.session import rewrite_in_place
from tokencost.workbook.gate import check_readable
from tokencost.workbook.edit.inventory import check_in_place, inventory


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text and text
    return text


@pytest.fixture(scope="module")
def analyst(tmp_path_factory) -> Path:
    """tokencost.xlsm plus the analyst's own sheet (read-only: copy before changing)."""
    return F.analyst_workbook(tmp_path_factory.mktemp("analyst") / "analyst.xlsm")


@pytest.fixture
def analyst_copy(analyst, tmp_path) -> Path:
    target = tmp_path / "book.xlsm"
    shutil.copyfile(analyst, target)
    return target


# ---------------------------------------------------------------------------------------------
# what openpyxl carries survives a rewrite
# ---------------------------------------------------------------------------------------------

def snapshot(path):
    wb = load_workbook(path, keep_vba=True, rich_text=True)
    ws = wb[F.ANALYST]
    with zipfile.ZipFile(path) as zf:
        vba = zf.read("xl/vbaProject.bin")
    return {
        "sheets": wb.sheetnames,
        "vba": vba,
        "names": {n: wb.defined_names[n].attr_text for n in wb.defined_names},
        "styles": sorted(wb.named_styles),
        "comments": {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment},
        "validation": sorted((dv.type, str(dv.sqref), dv.formula1, dv.formula2)
                             for dv in ws.data_validations.dataValidation),
        "conditional": sorted((str(cf.sqref), rule.type) for cf in ws.conditional_formatting
                              for rule in cf.rules),
        "merged": [str(r) for r in ws.merged_cells.ranges],
        "hyperlink": ws["D2"].hyperlink.target,
        "a1_style": (ws["A1"].font.b, ws["A1"].font.sz, ws["A1"].font.color.rgb,
                     ws["A1"].fill.fgColor.rgb, ws["A1"].border.bottom.style),
        "a2_style": ws["A2"].style,
        "b2_format": ws["B2"].number_format,
        "rich": [(str(block), bool(getattr(block, "font", None) and block.font.b))
                 for block in ws["A11"].value] if isinstance(ws["A11"].value, CellRichText) else None,
        "charts": {s.title: len(s._charts) for s in wb.worksheets},
        "images": len(ws._images),
        "tables": {s.title: sorted(s.tables) for s in wb.worksheets},
        "input_validation": {s.title: len(s.data_validations.dataValidation) for s in wb.worksheets},
    }


def test_analyst_workbook_passes_the_round_trip_check(analyst):
    assert not check_in_place(analyst, raise_on_loss=False)
    assert openpyxl.__version__ == "3.1.5"


def test_rewrite_keeps_vba_names_styles_comments_validation_formatting_charts(analyst_copy):
    before = snapshot(analyst_copy)
    original = analyst_copy.read_bytes()

    def edit(wb):
        wb[F.ANALYST]["B20"] = "edited"

    result = rewrite_in_place(analyst_copy, edit)
    after = snapshot(analyst_copy)
    assert after == before
    assert before["rich"] == [("plain then ", False), ("bold red", True)]
    assert before["charts"]["Outputs"] == 2 and before["charts"][F.ANALYST] == 1
    assert before["images"] == 1
    assert before["names"]["Analyst_Rate"] == "Analyst!$B$2"
    assert load_workbook(analyst_copy)[F.ANALYST]["B20"].value == "edited"
    assert result.backup == analyst_copy.with_name("book.xlsm.bak")
    assert result.backup.read_bytes() == original
    assert result.lost == []


def test_edit_that_fails_writes_nothing(analyst_copy):
    digest = sha(analyst_copy)

    def edit(wb):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        rewrite_in_place(analyst_copy, edit)
    assert sha(analyst_copy) == digest
    assert sorted(p.name for p in analyst_copy.parent.iterdir()) == ["book.xlsm"]


def test_pivot_table_survives(analyst, tmp_path):
    """openpyxl 3.1.5 reads and writes pivot tables: the check lets them through and the
    rewritten file still has the pivot table, its cache and its records."""
    book = F.with_pivot_table(analyst, tmp_path / "pivot.xlsm")
    assert inventory(book)[(F.ANALYST, "pivot table")] == 1
    rewrite_in_place(book, lambda wb: None)
    inv = inventory(book)
    assert inv[(F.ANALYST, "pivot table")] == 1
    assert inv[("workbook", "pivot cache")] == 1 and inv[("workbook", "pivot cache records")] == 1
    pivots = load_workbook(book)[F.ANALYST]._pivots
    assert [p.name for p in pivots] == ["AnalystPivot"]


# ---------------------------------------------------------------------------------------------
# what openpyxl drops is refused in place, and never dropped silently into a new file
# ---------------------------------------------------------------------------------------------

LOSSY = {
    "text box": (F.with_text_box, "1 shape or text box on sheet 'Outputs'"),
    "group of shapes": (F.with_group_of_shapes, "1 group of shapes on sheet 'Outputs'"),
    "sparklines": (F.with_sparklines, "1 sparkline on sheet 'Outputs'"),
    "x14 validation": (F.with_x14_validation,
                       "1 Excel 2010 (x14) data-validation rule on sheet 'Outputs'"),
    "threaded comment": (F.with_threaded_comment, "1 threaded comments part on sheet 'Outputs'"),
    "custom xml": (F.with_custom_xml, "1 custom XML part"),
}


@pytest.mark.parametrize("case", sorted(LOSSY))
def test_in_place_write_that_would_lose_parts_is_refused(case, analyst, tmp_path):
    build, phrase = LOSSY[case]
    book = build(analyst, tmp_path / "book.xlsm")
    digest = sha(book)
    with pytest.raises(WorkbookError) as err:
        check_in_place(book)
    message = one_line(err)
    assert message.startswith(f"{book}: writing it in place would lose ")
    assert phrase in message
    assert "nothing was changed" in message and "--output NEW.xlsm" in message
    with pytest.raises(WorkbookError):
        rewrite_in_place(book, lambda wb: None)
    assert sha(book) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsm"]


def test_threaded_comment_loses_its_people_list_too(analyst, tmp_path):
    book = F.with_threaded_comment(analyst, tmp_path / "book.xlsm")
    assert check_in_place(book, raise_on_loss=False).lines() == [
        "1 threaded comments part on sheet 'Outputs'", "1 threaded-comment people list"]


def test_writing_to_a_new_file_keeps_the_original_and_says_what_is_missing(analyst, tmp_path):
    book = F.with_text_box(analyst, tmp_path / "book.xlsm")
    digest = sha(book)
    heard = []
    result = rewrite_in_place(book, lambda wb: None, output=tmp_path / "new.xlsm",
                              on_loss=heard.extend)
    assert sha(book) == digest
    assert heard == result.lost == [
        "new.xlsm does not contain 1 shape or text box on sheet 'Outputs'; book.xlsm still has it"]
    assert inventory(tmp_path / "new.xlsm")[("Outputs", "shape or text box")] == 0
    assert inventory(book)[("Outputs", "shape or text box")] == 1


def test_default_loss_report_goes_to_stderr(analyst, tmp_path, capsys):
    book = F.with_sparklines(analyst, tmp_path / "book.xlsm")
    rewrite_in_place(book, lambda wb: None, output=tmp_path / "new.xlsm")
    assert capsys.readouterr().err == (
        "warning: new.xlsm does not contain 1 sparkline on sheet 'Outputs'; book.xlsm still has it\n")


def test_output_must_keep_the_suffix(analyst, tmp_path):
    with pytest.raises(WorkbookError) as err:
        rewrite_in_place(analyst, lambda wb: None, output=tmp_path / "new.xlsx")
    assert "must be a .xlsm file" in one_line(err)


@pytest.mark.parametrize("build", [F.with_chart_label_range, F.with_chart_style])
def test_charts_and_their_style_parts_are_kept_byte_for_byte(build, analyst, tmp_path):
    """openpyxl drops a chart's c15 label range and its style/colour parts; the edit session
    puts every chart it did not change back as it was, with its own relationships."""
    book = build(analyst, tmp_path / "book.xlsm")
    chart = F.outputs_parts(book)["chart"]
    with zipfile.ZipFile(book) as z:
        parts = [chart] + [n for n in z.namelist()
                           if n.startswith("xl/charts/") and ("style" in n or "colors" in n)]
        before = {name: z.read(name) for name in parts}
    assert len(parts) == (3 if build is F.with_chart_style else 1)
    report = check_in_place(book)
    assert not report and not report.harmless_lines()
    heard = []
    rewrite_in_place(book, lambda wb: wb.create_sheet("Extra"), on_loss=heard.extend)
    assert heard == []
    with zipfile.ZipFile(book) as z:
        assert {name: z.read(name) for name in parts} == before
        assert "Extra" in z.read("xl/workbook.xml").decode()


@pytest.mark.parametrize("build, phrase", [
    (F.with_printer_settings, "1 printer settings on sheet 'Outputs'"),
])
def test_harmless_parts_do_not_block_but_are_reported(build, phrase, analyst, tmp_path):
    book = build(analyst, tmp_path / "book.xlsm")
    report = check_in_place(book)
    assert not report and any(line.startswith(phrase) for line in report.harmless_lines())
    heard = []
    rewrite_in_place(book, lambda wb: None, on_loss=heard.extend)
    assert heard and all(line.startswith("book.xlsm does not contain ") and
                         line.endswith("; book.xlsm.bak still has it") for line in heard)
    assert any(phrase in line for line in heard)


def test_libreoffice_saved_workbook_loses_only_its_x14_data_bar_settings(analyst, tmp_path):
    """A real file from another program: LibreOffice 7.4 saves the analyst workbook as .xlsx.
    The only thing openpyxl would drop is the Excel 2010 extension of the data bar rule."""
    saved = libreoffice.convert(analyst, tmp_path)
    check_readable(saved)
    assert check_in_place(saved, raise_on_loss=False).lines() == [
        "1 Excel 2010 (x14) conditional-formatting rule or setting on sheet 'Analyst'"]


# ---------------------------------------------------------------------------------------------
# hostile and broken files: one clear line, bounded time and memory
# ---------------------------------------------------------------------------------------------

HOSTILE = {
    "missing": (lambda d: d / "nope.xlsm", {}, "no such file"),
    "directory": (lambda d: d, {}, "not a file"),
    "empty": (lambda d: (d / "e.xlsx").write_bytes(b"") or d / "e.xlsx", {}, "not an Excel workbook"),
    "csv": (lambda d: F.text_file(d / "prices.xlsx"), {}, "not an Excel workbook"),
    "old xls or password": (lambda d: F.old_xls(d / "old.xlsx"), {}, "password-protected"),
    "truncated": (lambda d: F.truncated(F.BOOK, d / "t.xlsm"), {}, "corrupt or truncated"),
    "corrupt entry": (lambda d: F.corrupt_entry(F.BOOK, d / "c.xlsm"), {}, "corrupt"),
    "zip bomb": (lambda d: F.zip_bomb(F.BOOK, d / "bomb.xlsm"), {}, "possible zip bomb"),
    "expands too far": (lambda d: F.BOOK, {"max_uncompressed_bytes": 100_000}, "possible zip bomb"),
    "too many entries": (lambda d: F.BOOK, {"max_entries": 10}, "possible zip bomb"),
    "entity bomb": (lambda d: F.entity_bomb(F.BOOK, d / "lol.xlsm"), {}, "DOCTYPE or XML entities"),
    "external entity": (lambda d: F.external_entity(F.BOOK, d / "xxe.xlsm"), {},
                        "DOCTYPE or XML entities"),
    "word document": (lambda d: F.word_document(d / "memo.xlsx"), {}, "a Word document"),
    "over the size limit": (lambda d: F.large_workbook(F.BOOK, d / "big.xlsm", 12),
                            {"max_bytes": 10 * 2**20}, "over the 10.0 MB limit"),
    # two entries of one name: zipfile's lookup by name sees only the last
    "duplicate entry, DOCTYPE first": (lambda d: F.duplicate_entry(F.BOOK, d / "dup.xlsm"), {},
                                       "entry xl/worksheets/sheet2.xml appears twice"),
    "duplicate entry by case": (
        lambda d: F.duplicate_entry(F.BOOK, d / "dup.xlsm", name="xl/worksheets/Sheet2.XML"), {},
        "entries xl/worksheets/Sheet2.XML and xl/worksheets/sheet2.xml name the same part"),
    "duplicate entry by leading slash": (
        lambda d: F.duplicate_entry(F.BOOK, d / "dup.xlsm", name="/xl/worksheets/sheet2.xml"), {},
        "entries /xl/worksheets/sheet2.xml and xl/worksheets/sheet2.xml name the same part"),
    "duplicate entry by backslash": (
        lambda d: F.duplicate_entry(F.BOOK, d / "dup.xlsm", name="xl\\worksheets\\sheet2.xml"),
        {}, "name the same part"),
    # a DOCTYPE in a part whatever its name, in UTF-8 or UTF-16
    "DOCTYPE in a .bin part": (lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/worksheets/sheet1.bin"),
                               {}, "part xl/worksheets/sheet1.bin declares a DOCTYPE"),
    "DOCTYPE in a .dat part": (lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "customXml/item1.dat"),
                               {}, "part customXml/item1.dat declares a DOCTYPE"),
    "DOCTYPE in a part with no suffix": (lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/data"),
                                         {}, "part xl/data declares a DOCTYPE"),
    "DOCTYPE in a part typed XML": (
        lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/extra.part",
                                 content_type="application/vnd.example+xml"),
        {}, "part xl/extra.part declares a DOCTYPE"),
    "DOCTYPE in UTF-16 (BOM)": (
        lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/u16.bin", encoding="utf-16"),
        {}, "part xl/u16.bin declares a DOCTYPE"),
    "DOCTYPE in UTF-16LE (no BOM)": (
        lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/u16le.xml", encoding="utf-16-le"),
        {}, "part xl/u16le.xml declares a DOCTYPE"),
    "DOCTYPE in UTF-16BE (no BOM)": (
        lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/u16be", encoding="utf-16-be"),
        {}, "part xl/u16be declares a DOCTYPE"),
    "DOCTYPE after a parse error (.vml)": (
        lambda d: F.edit_zip(F.BOOK, d / "v.xlsm", add={
            "xl/drawings/vmlDrawing9.vml": b"<<broken vml\n" + F.BILLION_LAUGHS.encode()}),
        {}, "part xl/drawings/vmlDrawing9.vml declares a DOCTYPE"),
    "XML in UTF-32": (
        lambda d: F.doctype_part(F.BOOK, d / "b.xlsm", "xl/u32.bin", encoding="utf-32"),
        {}, "part xl/u32.bin is XML in UTF-32"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_or_broken_file_gets_one_line(case, tmp_path):
    build, limits, phrase = HOSTILE[case]
    path = build(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(WorkbookError) as err:
            check_readable(path, **limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = one_line(err)
    assert message.startswith(f"{path}: ") and phrase in message, message
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"


def test_binary_parts_and_legacy_vml_are_not_refused(analyst, tmp_path):
    """Only XML is parsed: a binary entry that starts with '<' (and holds no DOCTYPE) passes,
    as do the VBA project, the pictures and the comments' legacy VML of the analyst's copy."""
    book = F.edit_zip(analyst, tmp_path / "bin.xlsm", add={"xl/embeddings/blob.bin":
                                                           b"<\x00\x01\x02" + bytes(range(256))})
    with zipfile.ZipFile(book) as zf:
        assert any(n.endswith(".vml") for n in zf.namelist())
        assert any(n.startswith("xl/media/") for n in zf.namelist())
    check_readable(book)


def test_zip_bomb_message_names_the_entry_and_ratio(tmp_path):
    with pytest.raises(WorkbookError) as err:
        check_readable(F.zip_bomb(F.BOOK, tmp_path / "bomb.xlsm"))
    assert "entry xl/media/image1.png expands" in one_line(err)


def test_fifty_megabyte_workbook_is_read_in_bounded_memory(tmp_path):
    big = F.large_workbook(F.BOOK, tmp_path / "big.xlsm", 50)
    assert big.stat().st_size > 50 * 2**20
    tracemalloc.start()
    try:
        check_readable(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"


def test_openpyxl_parses_with_defusedxml():
    """openpyxl uses defusedxml when it is installed (a dependency of tokencost): even a file
    that bypassed check_readable cannot expand entities inside openpyxl."""
    import defusedxml  # noqa: F401  (a declared dependency; the import must work)
    assert openpyxl.DEFUSEDXML is True


def test_openpyxl_itself_refuses_the_entity_bomb(tmp_path):
    from defusedxml import DefusedXmlException
    bomb = F.entity_bomb(F.BOOK, tmp_path / "lol.xlsm")
    with pytest.raises(ValueError) as err:
        load_workbook(bomb)
    assert isinstance(err.value.__cause__, DefusedXmlException)


def test_damage_inside_a_sheet_is_refused_by_check_readable(tmp_path):
    """check_readable streams every XML part to its end (it counts cells and rows), so damage
    deep inside a sheet is refused before anything loads the workbook, in one line naming
    the part."""
    book = F.edit_zip(F.BOOK, tmp_path / "book.xlsm",
                      replace={"xl/worksheets/sheet2.xml": lambda x: x[: len(x) // 2]})
    with pytest.raises(WorkbookError) as err:
        check_readable(book)
    assert one_line(err).startswith(f"{book}: part xl/worksheets/sheet2.xml is not well-formed XML")
    with pytest.raises(WorkbookError) as err:
        check_in_place(book)
    assert "not well-formed XML" in one_line(err)


@pytest.mark.parametrize("build", [F.renamed_input_sheet, F.deleted_input_sheet])
def test_renamed_or_deleted_input_sheet_is_still_a_readable_workbook(build, tmp_path):
    """The file is sound; the workbook reader reports the missing input table."""
    book = build(F.BOOK, tmp_path / "book.xlsm")
    check_readable(book)
    assert not check_in_place(book, raise_on_loss=False)


def test_the_shipped_workbook_is_readable_and_round_trips():
    check_readable(F.BOOK)
    assert not check_in_place(F.BOOK, raise_on_loss=False)


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build, phrase", [
    (lambda d: F.entity_bomb(F.BOOK, d / "lol.xlsm"), "DOCTYPE or XML entities"),
    (lambda d: F.doctype_part(F.BOOK, d / "bin.xlsm", "xl/worksheets/sheet1.bin"),
     "part xl/worksheets/sheet1.bin declares a DOCTYPE"),
    (lambda d: F.duplicate_entry(F.BOOK, d / "dup.xlsm"), "appears twice"),
    (lambda d: F.text_file(d / "prices.xlsx"), "not an Excel workbook"),
    (lambda d: d / "missing.xlsm", "no such file"),
])
def test_recalc_refuses_hostile_file_with_exit_2_and_one_line(build, phrase, tmp_path, capsys):
    path = build(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["recalc", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tokencost recalc: error: {path}: ")
    assert phrase in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------------------------------------
# LibreOffice sees only files the gate passed, whoever calls it
# ---------------------------------------------------------------------------------------------

def test_libreoffice_never_opens_a_file_the_gate_refuses(tmp_path):
    """convert (the one place soffice starts), recalculated_values and recalc_in_place each
    refuse a DOCTYPE hidden in a part not named .xml, in one line, before LibreOffice runs:
    no output, no backup, the file unchanged."""
    bomb = F.doctype_part(F.BOOK, tmp_path / "bin.xlsm", "xl/worksheets/sheet1.bin")
    digest = sha(bomb)
    out = tmp_path / "out"
    calls = {
        "convert to xlsx": lambda: libreoffice.convert(bomb, out),
        "convert to pdf": lambda: libreoffice.convert(bomb, out, "pdf"),
        "recalculated_values": lambda: libreoffice.recalculated_values(bomb, out),
        "recalc_in_place": lambda: recalc_in_place(bomb),
    }
    for label, call in calls.items():
        with pytest.raises(WorkbookError) as err:
            call()
        assert one_line(err).startswith(f"{bomb.resolve()}: part xl/worksheets/sheet1.bin "
                                        "declares a DOCTYPE"), label
    assert sha(bomb) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin.xlsm"]


def test_export_refuses_a_hostile_file_in_one_line(tmp_path, capsys):
    bomb = F.doctype_part(F.BOOK, tmp_path / "bin.xlsm", "xl/worksheets/sheet1.bin")
    code = main(["export", str(bomb), str(tmp_path / "out.xlsx"), "--pdf", str(tmp_path / "o.pdf")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.splitlines() == [
        f"tokencost export: error: {bomb}: part xl/worksheets/sheet1.bin declares a DOCTYPE or "
        "XML entities, which Excel never writes (an entity-expansion or external-entity "
        "attack?); refused"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin.xlsm"]


def test_recalculated_values_visits_only_the_cells_a_sparse_sheet_holds(tmp_path):
    """A sheet with cells at A1, XFD1 and A1048576 has the used range A1:XFD1048576, as
    LibreOffice writes it back; walking that range row by row (openpyxl's iter_rows) would
    visit 17 billion cells. Run in a child process with a timeout, so the walk fails the
    test instead of hanging it."""
    import subprocess
    import sys
    import fixtures_limits as L
    base = tmp_path / "base.xlsx"
    openpyxl.Workbook().save(base)   # a one-sheet workbook: LibreOffice converts it in seconds
    body = [b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>',
            b'<row r="1048576"><c r="A1048576"><v>3</v></c></row>']
    book = L.with_data_sheet(tmp_path / "sparse.xlsx", body, dimension="A1:XFD1048576", source=base)
    probe = ("import json, sys; from tokencost.workbook.libreoffice import recalculated_values; "
             "print(json.dumps(recalculated_values(sys.argv[1])['Data']))")
    proc = subprocess.run([sys.executable, "-c", probe, str(book)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    import json
    assert json.loads(proc.stdout) == {"A1": 1, "XFD1": 2, "A1048576": 3}


# ---------------------------------------------------------------------------------------------
# SIGTERM and SIGINT: temporary files removed, LibreOffice killed, the workbook untouched
# ---------------------------------------------------------------------------------------------

def _processes() -> dict:
    """``{pid: (parent pid, process group, command name, state)}`` from /proc."""
    import os
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue   # gone meanwhile
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        state, ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        out[int(entry)] = (int(ppid), int(pgrp), comm, state)
    return out


def _descendants(pid: int, procs: dict) -> set:
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, (ppid, *_rest) in procs.items() if ppid in frontier} - found
        found |= frontier
    return found


def _left_in_tmp(tmp: Path) -> list:
    """What a stopped command left in TMPDIR, besides the folder of empty lock files the
    edit sessions share (one per book, kept on purpose: deleting a lock file another
    process is waiting on would let two writers in)."""
    left = []
    for p in tmp.iterdir():
        if p.name.startswith("tokencost-locks-") and p.is_dir():
            left += [f for f in p.iterdir() if not (f.suffix == ".lock" and f.stat().st_size == 0)]
        else:
            left.append(p)
    return left


def _wait_for_soffice_bin(child, timeout_s: float = 180):
    """(pids of *child*'s descendants, their process groups) once soffice.bin runs among them."""
    import time
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert child.poll() is None, f"tokencost ended first: {child.communicate()}"
        procs = _processes()
        below = _descendants(child.pid, procs)
        if any(procs[p][2] == "soffice.bin" for p in below if p in procs):
            return below, {procs[p][1] for p in below if p in procs}
        time.sleep(0.05)
    raise AssertionError("soffice.bin did not start")


def _running(pids: set, groups: set, own_group: int) -> list:
    """Processes still running (zombies, which only wait to be reaped, do not count) that are
    among *pids* or in one of *groups* (other than the test's own group)."""
    return [(p, v) for p, v in _processes().items() if v[3] != "Z"
            and (p in pids or (v[1] in groups and v[1] != own_group))]


STOPPED = {"SIGTERM": (143, "stopped by SIGTERM; nothing half-done is left"),
           "SIGINT": (130, "stopped by SIGINT (Ctrl-C); nothing half-done is left")}


def _stop_while_libreoffice_runs(tmp_path, argv, signame, beside=()):
    """Run ``tokencost *argv*`` (BOOK = a copy of tokencost.xlsm in *tmp_path*/work, TMPDIR =
    *tmp_path*/tmp), send *signame* once soffice.bin runs, and check the aftermath."""
    import os
    import signal
    import subprocess
    import sys
    import time
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    book = work / "BOOK.xlsm"
    shutil.copyfile(F.BOOK, book)
    digest = sha(book)
    env = dict(os.environ, TMPDIR=str(tmp))
    child = subprocess.Popen([sys.executable, "-m", "tokencost", *argv], cwd=work, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids, groups = _wait_for_soffice_bin(child)
        os.kill(child.pid, getattr(signal, signame))
        started = time.monotonic()
        out, err = child.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        if child.poll() is None:
            child.kill()
    code, message = STOPPED[signame]
    command = argv[0]
    assert child.returncode == code, (child.returncode, err)
    assert err.splitlines()[-1] == f"tokencost {command}: {message}", err
    assert "Traceback" not in err
    assert took < 30, f"{took:.1f} s to stop"
    deadline = time.monotonic() + 10   # SIGKILL is immediate; give the kernel a moment
    while _running(pids, groups, os.getpgrp()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(pids, groups, os.getpgrp()) == []
    assert sorted(p.name for p in work.iterdir()) == sorted(["BOOK.xlsm", *beside])
    assert _left_in_tmp(tmp) == []
    assert sha(book) == digest
    return err


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_recalc_stopped_while_libreoffice_runs_leaves_nothing(signame, tmp_path, libreoffice):
    err = _stop_while_libreoffice_runs(tmp_path, ["recalc", "BOOK.xlsm"], signame)
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_export_stopped_while_libreoffice_renders_the_pdf_leaves_nothing(signame, tmp_path,
                                                                          libreoffice):
    """The macro-free copy is written (atomically) before the PDF is rendered, so it is
    there, complete; the PDF is not, nor any temporary file."""
    _stop_while_libreoffice_runs(tmp_path, ["export", "BOOK.xlsm", "out.xlsx", "--pdf", "out.pdf"],
                                 signame, beside=["out.xlsx"])
    load_workbook(tmp_path / "work" / "out.xlsx")   # complete: it opens


def test_sigterm_while_the_workbook_is_being_written_removes_the_temporary_file(tmp_path):
    """scenario add writes through write_atomic: SIGTERM once its temporary file
    ``.BOOK-xxxx.xlsm`` exists beside BOOK. The file is removed, BOOK is unchanged and no
    backup is made (the write never happened)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import fixtures_limits as L
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    book = L.with_data_sheet(work / "BOOK.xlsm", L.data_sheet_rows(5_000, 10),
                             dimension="A1:J5000")   # a save of a second or two
    digest = sha(book)
    child = subprocess.Popen([sys.executable, "-m", "tokencost", "scenario", "add", "BOOK.xlsm",
                              "--name", "cheap", "--set", "power_price_usd_per_kwh=0.05"],
                             cwd=work, env=dict(os.environ, TMPDIR=str(tmp)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not any(p.name.startswith(".BOOK-") for p in work.iterdir()):
            assert child.poll() is None, f"scenario add ended first: {child.communicate()}"
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 143, err
    assert err.splitlines() == ["tokencost scenario: stopped by SIGTERM; nothing half-done is left"]
    assert sorted(p.name for p in work.iterdir()) == ["BOOK.xlsm"]
    assert _left_in_tmp(tmp) == []
    assert sha(book) == digest
