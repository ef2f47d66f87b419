"""The workbook an analyst sends to a CFO: the dashboard, readable sheets, charts of the
rows in use, print-ready pages. Checked as LibreOffice renders it, not as we wrote it.

* rows: LibreOffice's own optimal height of every row (through its API) is no taller
  than the height in the file, so no wrapped text is cut;
* ``###``: the whole workbook printed to PDF shows no ``###`` (a number wider than
  its column);
* charts: each chart draws only rows in use, in the file (its caches) and in
  LibreOffice (the data its charts hold), the Dashboard's markup-by-token-type chart too;
* print: every output sheet has a print area, one page wide, title rows, a header
  and a footer; the PDF pack numbers every page "Page N of M", has no empty page
  and at most 15 pages;
* the dashboard equals the core, for the seed and after an analyst's edit.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tokencost.analysis import model
from tokencost.cli import main
from tokencost.inputs.datasets import load_defaults, read_raw_tables
from tokencost.inputs.validate import prepare
from tokencost.workbook.libreoffice import convert, recalculated_values
from tokencost.workbook.numbers import NUMBER_FORMATS
from tokencost.workbook.spec import load_template
from workbook_helpers import close, set_table_value, uno

REPO = Path(__file__).resolve().parents[1]
MAIN = load_template(REPO / "templates" / "main.toml")
OUTPUT_SHEETS = [s.name for s in MAIN.sheets if s.role == "output"]
MAX_PACK_PAGES = 15


@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    return libreoffice


def _pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (poppler's pdftotext), in order."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


# ------------------------------------------------------------------ what LibreOffice shows

@pytest.fixture(scope="module")
def shown(built_book):
    """Row heights (stored, LibreOffice's optimal) of every sheet, and every chart's data."""
    wb = load_workbook(built_book, read_only=True)
    sheets = wb.sheetnames
    wb.close()
    steps = [{"op": "open", "path": str(built_book)}]
    steps += [{"op": "row_heights", "sheet": s} for s in sheets]
    steps.append({"op": "charts"})
    result = uno(steps)
    return {"rows": dict(zip(sheets, result[1:-1])), "charts": result[-1]}


def test_no_row_is_shorter_than_its_text(shown):
    short = [(sheet, row, round(stored, 1), round(optimal, 1))
             for sheet, rows in shown["rows"].items() for row, stored, optimal in rows
             if optimal > stored + 0.75]
    assert not short, f"rows LibreOffice needs taller (sheet, row, stored pt, needed pt): {short}"


def test_the_workbook_printed_shows_no_hash_marks(built_book, tmp_path):
    pdf = convert(built_book, tmp_path, "pdf")
    pages = _pdf_pages(pdf)
    bad = [i + 1 for i, page in enumerate(pages) if "###" in page]
    assert not bad, f"pages with ### (a number wider than its column): {bad}"
    assert len(pages) < 60   # the whole workbook, every sheet fitted to its width


def test_every_chart_draws_only_rows_in_use_in_libreoffice(shown, built_cached):
    charts = shown["charts"]
    assert {"Dashboard", "Outputs", "PhysicsCheck", "Sensitivity"} <= set(charts)
    for sheet, items in charts.items():
        for chart in items:
            assert all(str(c).strip() for c in chart["categories"]), (sheet, chart["title"])
            assert all(s for s in chart["series"] if s) or chart["categories"] == [], chart
            for row in chart["values"]:
                assert any(v is not None for v in row), (sheet, chart["title"])
    markups = [c for c in charts["Outputs"] if c["title"].startswith("Markup")][0]
    assert markups["categories"] == ["DeepSeek V4 Flash", "DeepSeek V4 Pro", "Claude Opus 4.8",
                                     "Claude Sonnet 4.6", "GPT-5.5"]
    assert len(charts["Outputs"][0]["categories"]) == 1     # one GPU type: one bar
    # the Dashboard's token-type chart: the same five price rows of its ten slots, three series
    by_type = [c for c in charts["Dashboard"] if c["title"] == "Markup by token type"][0]
    assert by_type["categories"] == markups["categories"]
    assert len(by_type["series"]) == 3 and all(len(row) == 3 for row in by_type["values"])


def test_chart_series_are_names_that_end_at_the_last_row_in_use(built_book):
    with zipfile.ZipFile(built_book) as zf:
        charts = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")}
        workbook = zf.read("xl/workbook.xml").decode()
    for part, xml in charts.items():
        refs = re.findall(r"<(?:c:)?f>([^<]+)</(?:c:)?f>", xml)
        data = [r for r in refs if not re.fullmatch(r"[^!]+!\$[A-Z]+\$\d+", r)]   # not titles
        assert data and all(r.startswith("[0]!Chart_") for r in data), (part, data)
        for ref in data:
            name = ref[len("[0]!"):]
            text = re.search(rf'definedName name="{re.escape(name)}"[^>]*>([^<]+)<', workbook).group(1)
            assert ":INDEX(" in text and text.endswith("_Rows)"), (name, text)
        caches = re.findall(r"<(?:c:)?strCache><(?:c:)?ptCount val=\"(\d+)\"", xml)
        assert all(int(n) > 0 for n in caches)


def test_a_price_added_in_libreoffice_flows_into_the_chart_data_after_recalc(tmp_path):
    """An analyst adds a price; after tokencost recalc the chart caches (what LibreOffice
    draws) hold six models, none blank."""
    book = tmp_path / "book.xlsm"
    shutil.copy(REPO / "tokencost.xlsm", book)
    wb = load_workbook(book, keep_vba=True)
    from workbook_helpers import append_table_row
    append_table_row(wb, "Prices", {"provider": "Mistral", "model": "Mistral Large",
                                    "price_usd_per_mtok": 6.0, "cost_basis": "dense-70b"})
    wb.save(book)
    assert main(["recalc", str(book), "--no-backup"]) == 0
    charts = uno([{"op": "open", "path": str(book)}, {"op": "charts"}])[1]
    markups = [c for c in charts["Outputs"] if c["title"].startswith("Markup")][0]
    assert markups["categories"][-1] == "Mistral Large" and len(markups["categories"]) == 6
    assert markups["values"][-1][0] == pytest.approx(6.0 / 1.331586123795, rel=1e-9)
    by_type = [c for c in charts["Dashboard"] if c["title"] == "Markup by token type"][0]
    assert by_type["categories"] == markups["categories"]
    assert by_type["values"][-1][1] == pytest.approx(6.0 / 1.331586123795, rel=1e-9)


# ------------------------------------------------------------------ print

def test_every_output_sheet_prints_one_page_wide_with_titles_header_and_footer(built_wb):
    for name in OUTPUT_SHEETS:
        ws = built_wb[name]
        assert ws.print_area, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, name
        assert ws.page_setup.orientation == "landscape"
        assert ws.print_title_rows.replace("$", "") == "1:3", name
        assert "Page &P of &N" in ws.oddFooter.right.text
        assert "Scenario" in ws.oddHeader.center.text and "&D" in ws.oddHeader.right.text


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pack")
    out = {}
    for paper in ("A4", "Letter"):
        pdf = tmp / f"pack-{paper}.pdf"
        assert main(["export", str(REPO / "tokencost.xlsm"), "--pdf", str(pdf),
                     "--paper", paper]) == 0
        out[paper] = pdf
    return out


def test_the_pdf_pack_numbers_every_page_and_fits_fifteen_pages(pack):
    pages = _pdf_pages(pack["A4"])
    assert 1 <= len(pages) <= MAX_PACK_PAGES
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page, i
        body = [ln for ln in page.splitlines() if ln.strip() and "Page " not in ln
                and "Scenario:" not in ln and "| " not in ln and "Master check" not in ln
                and not ln.strip().startswith(("DASHBOARD:", "OUTPUTS:", "SCENARIOS:"))]
        assert len(body) >= 3, f"page {i} has no content: {page[:300]!r}"
    assert "| Dashboard" in pages[0]     # the dashboard comes first
    names = [re.search(r"\| (\w+)", p).group(1) for p in pages]
    assert names == sorted(names, key=lambda n: ["Dashboard", *OUTPUT_SHEETS].index(n))


def test_the_pack_is_on_the_paper_asked_for(pack):
    def size(pdf):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
        return sorted((round(w), round(h)))
    assert size(pack["A4"]) == [595, 842]
    assert size(pack["Letter"]) == [612, 792]


# ------------------------------------------------------------------ the dashboard

def _dashboard(values: dict) -> dict:
    """The headline cells of the Dashboard, by label (column A), from {"B7": v}."""
    out = {}
    for ref, v in values.items():
        if ref.startswith("A") and isinstance(v, str):
            out[v] = values.get("B" + ref[1:])
    return out


def test_the_dashboard_equals_the_core(built_recalculated, built_cached):
    inputs = load_defaults()
    result = model.evaluate(inputs)
    dense = result.model_costs.set_index("model").loc["dense-70b"]
    for values in (built_recalculated["Dashboard"],
                   {k[1]: v for k, v in built_cached.items() if k[0] == "Dashboard"}):
        dash = _dashboard(values)
        assert dash["Model profile shown"] == "dense-70b" and dash["GPU it runs on"] == "H100"
        assert close(dash["Cost per million output tokens"], dense["cost_usd_per_mtok"])
        assert close(dash["Cost per GPU-hour"], dense["gpu_hour_usd"])
        assert dash["Master check (the Checks sheet)"] == "OK"
        assert close(dash["Power price"], 0.10) and close(dash["GPU price"], 30000)
        assert dash["Utilization (busy share of hours)"] == 1
        markups = [values[f"J{r}"] for r in range(8, 18) if values.get(f"J{r}") not in (None, "")]
        assert all(close(a, b) for a, b in zip(markups, result.markups["markup"]))
        assert len(markups) == len(result.markups)


def test_the_dashboard_follows_an_analysts_edit_in_libreoffice(tmp_path):
    """An analyst adds a GPU (Hardware, CostComponents and Models rows), picks the new
    profile and changes the H100's power price: LibreOffice's recalculated dashboard equals
    the core on the same edits, and its 'set in' cells name the cells of the new rows."""
    import pandas as pd
    from workbook_helpers import append_table_row
    book = tmp_path / "edited.xlsm"
    shutil.copy(REPO / "tokencost.xlsm", book)
    wb = load_workbook(book, keep_vba=True)
    set_table_value(wb, "CostComponents", "gpu", "H100", "power_price_usd_per_kwh", 0.07)
    hw = {"gpu": "B200", "gpu_price_usd": 45000, "power_w": 1000, "memory_gb": 180,
          "memory_bandwidth_tb_s": 8, "source": "test: an analyst's new GPU"}
    cc = {"gpu": "B200", "depreciation_years": 4, "infra_usd_per_month": 500, "pue": 1.2,
          "power_price_usd_per_kwh": 0.08, "staff_usd_per_month": 150, "hours_per_month": 730,
          "utilization": 0.7, "cost_of_capital": 0.08}
    mo = {"model": "dense-70b-b200", "gpu": "B200", "tokens_per_s": 3000, "gpus": 1}
    hw_row = append_table_row(wb, "Hardware", hw)
    cc_row = append_table_row(wb, "CostComponents", cc)
    mo_row = append_table_row(wb, "Models", mo)
    wb["Dashboard"]["B6"] = "dense-70b-b200"
    wb.save(book)
    values = recalculated_values(book)["Dashboard"]
    raw = read_raw_tables()
    raw["CostComponents"].loc[raw["CostComponents"]["gpu"] == "H100", "power_price_usd_per_kwh"] = "0.07"
    for table, row in (("Hardware", hw), ("CostComponents", cc), ("Models", mo)):
        raw[table] = pd.concat([raw[table], pd.DataFrame([row])], ignore_index=True)
    result = model.evaluate(prepare(raw))
    b200 = result.model_costs.set_index("model").loc["dense-70b-b200"]
    dash = _dashboard(values)
    assert dash["Model profile shown"] == "dense-70b-b200" and dash["GPU it runs on"] == "B200"
    assert close(dash["Cost per million output tokens"], b200["cost_usd_per_mtok"])
    assert close(dash["Cost per GPU-hour"], b200["gpu_hour_usd"])
    assert close(dash["Utilization (busy share of hours)"], 0.7)
    assert close(dash["GPU price"], 45000) and close(dash["Power price"], 0.08)
    assert dash["Master check (the Checks sheet)"] == "OK"
    set_in = {values.get("A" + ref[1:]): v for ref, v in values.items() if ref.startswith("D")}
    assert set_in["Power price"] == f"CostComponents!$E${cc_row}"
    assert set_in["Utilization (busy share of hours)"] == f"CostComponents!$H${cc_row}"
    assert set_in["GPU price"] == f"Hardware!$B${hw_row}"
    assert set_in["Output tokens/s per GPU"] == f"Models!$C${mo_row}"
    markups = [values[f"J{r}"] for r in range(8, 18) if values.get(f"J{r}") not in (None, "")]
    assert all(close(a, b) for a, b in zip(markups, result.markups["markup"]))


# ------------------------------------------------------------------ formats and empty slots

def _unit_cells(template):
    """(where, unit, number format) of every slot column and every grid number with a unit."""
    for sheet in template.sheets:
        for block in sheet.blocks:
            for col in block.columns:
                if col.number_format != "General":
                    yield f"{block.name}.{col.key}", col.unit, col.number_format
            for row in block.rows:
                for cell, nxt in zip(row, row[1:]):
                    if cell.number_format and isinstance(nxt.value, str) and not nxt.style:
                        yield f"{sheet.name} {cell.name or row[0].value}", nxt.value, cell.number_format


def test_one_number_format_per_unit():
    wrong = [(where, unit, fmt) for where, unit, fmt in _unit_cells(MAIN)
             if unit in NUMBER_FORMATS and fmt != NUMBER_FORMATS[unit]]
    assert not wrong, wrong


def test_every_cell_of_a_unit_has_its_format(built_wb, seed_inputs):
    """In the file: every cell of a slot column carries its unit's format."""
    from tokencost.workbook.build import build_workbook
    state = build_workbook(MAIN, seed_inputs)
    checked = 0
    for sheet in MAIN.sheets:
        ws = built_wb[sheet.name]
        for block in sheet.blocks:
            if block.kind != "slots":
                continue
            layout = state.blocks[block.name]
            for col in block.columns:
                if col.unit not in NUMBER_FORMATS:
                    continue
                want = NUMBER_FORMATS[col.unit] if col.number_format == "General" else col.number_format
                formats = {ws.cell(layout.first_row + i, layout.columns[col.key]).number_format
                           for i in range(layout.capacity)}
                assert formats == {want}, (block.name, col.key, formats)
                checked += 1
    assert checked > 100


def test_empty_slots_show_nothing(built_book, tmp_path):
    """The Calc sheet as printed: no row of zeros for a GPU, profile, price or plan that is
    not there (the seed has 1 GPU in 10 slots, 3 profiles in 15, 5 prices in 20)."""
    wb = load_workbook(built_book, keep_vba=True)
    for ws in wb.worksheets:
        if ws.title != "Calc":
            ws.sheet_state = "hidden"
            ws.print_area = None
            ws.print_title_rows = None
    wb.active = wb.sheetnames.index("Calc")
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "Calc"
    copy = tmp_path / "calc.xlsm"
    wb.save(copy)
    text = "\n".join(_pdf_pages(convert(copy, tmp_path, "pdf")))
    zero_rows = [ln for ln in text.splitlines() if re.fullmatch(r"\s*\d+(\s+0(\.0+)?%?)+\s*", ln)]
    assert not zero_rows, zero_rows[:5]
    assert "H100" in text and "dense-70b" in text
