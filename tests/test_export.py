"""tokencost export: macro-free workbook, PDF, CSV and Markdown for colleagues.

Spreadsheet checks recalculate the exported files with LibreOffice (never
skipped: without LibreOffice they fail with the install command). Eight
LibreOffice runs in all: the PDF, the recalculation of two exported workbooks,
the export of two workbooks whose cached values openpyxl dropped, and a
conversion plus two exports of workbooks whose add-in cells saved ``#NAME?``.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from tokencost.excel import udfs
from tokencost.cli import main
from tokencost.inputs.datasets import load_defaults
from tokencost.errors import WorkbookError
from tokencost.analysis.model import evaluate
from tokencost.workbook.spec import REPO_ROOT
from tokencost.workbook.cached import inject_cached_values
from tokencost.workbook.export import (DEFAULTS_SHEET, classify_formula, export, format_number,
                                       is_error_value, output_sheets, python_value,
                                       read_output_tables)
from tokencost.workbook.formula import XLError, tokenize
from tokencost.workbook.libreoffice import convert, recalculated_values
from tokencost.workbook.udf_native import (is_universal, named_defaults, strip_udf_prefixes,
                                           udf_calls, udf_names)

from workbook_helpers import cached_values, close, formula_cells, formula_cells_without_value

COMMITTED = REPO_ROOT / "tokencost.xlsm"
XL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "Err:502", "Err:504"}
UDF_NAME = re.compile(r"(?<![\w.])(?:_xludf\.|_xll\.)?(" + "|".join(udf_names()) + r")\s*\(", re.I)


@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


@functools.lru_cache(maxsize=None)
def _committed_cached() -> dict:
    return cached_values(COMMITTED)


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _typed_numbers(formula: str) -> list:
    """Numbers typed into *formula* that the workbook convention does not allow
    (anything but 0, 1, 12, 100, 1000, 3600, 1e6)."""
    return [v for kind, v in tokenize(formula.lstrip("="))
            if kind == "number" and not is_universal(v)]


# ------------------------------------------------------------------ the committed workbook

@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``tokencost export`` of a copy of the committed workbook, every target at once."""
    tmp = tmp_path_factory.mktemp("export")
    book = tmp / "tokencost.xlsm"
    shutil.copy(COMMITTED, book)
    before = _sha(book)
    out = {"book": book, "xlsx": tmp / "for-finance.xlsx", "pdf": tmp / "outputs.pdf",
           "csv": tmp / "tables", "md": tmp / "outputs.md"}
    rc = main(["export", str(book), str(out["xlsx"]), "--pdf", str(out["pdf"]),
               "--csv", str(out["csv"]), "--markdown", str(out["md"])])
    assert rc == 0
    out["book_unchanged"] = _sha(book) == before
    return out


@pytest.fixture(scope="module")
def exported_recalculated(exported):
    return recalculated_values(exported["xlsx"])


def test_export_is_macro_free(exported):
    with zipfile.ZipFile(exported["xlsx"]) as zf:
        names = zf.namelist()
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        workbook = zf.read("xl/workbook.xml").decode()
    assert not [n for n in names if "vbaProject" in n]
    assert "macroEnabled" not in types
    assert ('PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"') in types
    assert "vbaProject" not in rels
    assert "xlwings" not in workbook
    wb = load_workbook(exported["xlsx"])
    assert "xlwings.conf" in load_workbook(COMMITTED, read_only=True).sheetnames
    assert "xlwings.conf" not in wb.sheetnames
    assert wb.vba_archive is None
    assert exported["book_unchanged"]


def test_defined_names_are_kept_and_all_resolve(exported):
    wb = load_workbook(exported["xlsx"])
    source = load_workbook(COMMITTED, read_only=True)
    # BOOK's names, plus the named defaults that the Functions sheet's native formulas
    # read when an analyst blanks an optional argument cell (IF(ISBLANK(B40),Default_...,B40))
    assert sorted(wb.defined_names) == sorted(
        set(source.defined_names) | {"Default_hours_per_month", "Default_input_output_ratio"})
    tables = {name for ws in wb.worksheets for name in ws.tables}
    for name, dn in wb.defined_names.items():
        text = dn.attr_text
        assert "#REF" not in text and "xlwings" not in text, name
        # a sheet before '!': quoted, or a bare name after the start or an operator
        for quoted, bare in re.findall(r"(?:'((?:[^']|'')+)'|(?<![\w.])([A-Za-z_][\w.]*))!", text):
            sheet = quoted.replace("''", "'") if quoted else bare
            assert sheet in wb.sheetnames, (name, text)
        for table in re.findall(r"([A-Za-z_]\w*)\[", text):
            assert table in tables, (name, text)
    for (sheet, ref), formula in formula_cells(exported["xlsx"]).items():
        assert "xlwings" not in formula, (sheet, ref)
        assert not UDF_NAME.search(formula), (sheet, ref, formula)


def test_no_assumption_is_typed_into_an_exported_formula(exported):
    """Workbook convention: numbers other than unit constants live in cells. The
    functions' defaults (730 hours a month, a 3:1 token mix) are named input cells."""
    out = formula_cells(exported["xlsx"])
    assert [(k, f) for k, f in out.items() if _typed_numbers(f)] == []
    assert "Default_hours_per_month" in out[("Functions", "B42")]
    wb = load_workbook(exported["xlsx"])
    ws = wb[DEFAULTS_SHEET]
    assert wb.sheetnames[-1] == DEFAULTS_SHEET and ws.sheet_state == "visible"
    for name, value in (("Default_hours_per_month", 730), ("Default_input_output_ratio", 3)):
        (sheet, ref), = list(wb.defined_names[name].destinations)
        assert sheet == DEFAULTS_SHEET and ws[ref.replace("$", "")].value == value, name
        assert ws[ref.replace("$", "")].style == "input"
    assert ws.sheet_properties.tabColor.rgb.endswith("FFC000")     # an input sheet: not printed


def test_every_formula_cell_keeps_its_cached_value(exported):
    assert formula_cells_without_value(exported["xlsx"]) == []
    source = {k: f for k, f in formula_cells(COMMITTED).items() if k[0] != "xlwings.conf"}
    out = formula_cells(exported["xlsx"])
    assert len(out) > 500
    src_cached, out_cached = _committed_cached(), cached_values(exported["xlsx"])
    for key, formula in source.items():
        # a formula stays a formula, except a UDF call with no native formula: then its value
        assert key in out or UDF_NAME.search(formula), (key, formula)
        assert close(src_cached[key], out_cached[key]), key
    assert set(out) <= set(source)


def test_libreoffice_opens_it_with_no_error_cell_and_the_cached_values(exported,
                                                                         exported_recalculated):
    cached = cached_values(exported["xlsx"])
    errors = [(s, ref, v) for s, cells in exported_recalculated.items() for ref, v in cells.items()
              if v in XL_ERRORS or (isinstance(v, str) and v.startswith("Err:"))]
    assert errors == []
    mismatches = [(s, ref, cached[(s, ref)], exported_recalculated[s].get(ref))
                  for (s, ref) in formula_cells(exported["xlsx"])
                  if not close(cached[(s, ref)], exported_recalculated[s].get(ref))]
    assert mismatches == []
    assert exported_recalculated["Outputs"]["A2"] == "Master check: OK"


def _column(table, header):
    j = table.headers.index(header)
    return [row[j] for row in table.rows]


def test_output_tables_equal_the_core(exported):
    res = evaluate(load_defaults())
    tables = {t.name: t for t in read_output_tables(exported["xlsx"])}
    assert {"Out_GPU", "Out_Models", "Out_Prices", "Out_Subs"} <= set(tables)
    pairs = [("Out_GPU", "Total per GPU-month", res.gpu_costs["total_usd_per_month"]),
             ("Out_GPU", "Per GPU-hour", res.gpu_costs["gpu_hour_usd"]),
             ("Out_Models", "Cost per MTok at that utilization", res.model_costs["cost_usd_per_mtok"]),
             ("Out_Prices", "Markup", res.markups["markup"]),
             ("Out_Prices", "Gross margin", res.markups["gross_margin"]),
             ("Out_Subs", "Profit at hardware cost", res.subscriptions["profit_usd_per_month"]),
             ("Out_Subs", "Cost with R&D add-on", res.subscriptions["cost_with_rd_usd_per_month"])]
    for name, header, expected in pairs:
        got = _column(tables[name], header)
        assert len(got) == len(expected), header
        assert all(close(a, b) for a, b in zip(got, expected)), (header, got, list(expected))
    assert _column(tables["Out_Prices"], "Model") == list(res.markups["model"])
    # every output sheet contributes its tables (the scenario comparison included)
    all_tables = read_output_tables(exported["xlsx"])
    assert {t.sheet for t in all_tables} == set(output_sheets(load_workbook(exported["xlsx"])))
    scenario = [t for t in all_tables if t.sheet == "Scenarios" and t.title.startswith("Cost per MTok")]
    assert len(scenario) == 1
    assert len(scenario[0].rows) == len(res.model_costs)
    assert all(close(a, b) for a, b in zip(_column(scenario[0], "Base"),
                                            res.model_costs["cost_usd_per_mtok"]))


def test_csv_files_hold_the_tables_at_full_precision(exported):
    res = evaluate(load_defaults())
    files = {p.name for p in exported["csv"].iterdir()}
    assert {"Out_GPU.csv", "Out_Models.csv", "Out_Prices.csv", "Out_Subs.csv"} <= files
    rows = list(csv.reader(io.StringIO((exported["csv"] / "Out_Prices.csv").read_text())))
    assert rows[0] == ["Model", "Provider", "Price/MTok [USD/MTok]",
                       "Est. hardware cost/MTok [USD/MTok]", "Markup [x]", "Gross margin [share]"]
    assert [r[0] for r in rows[1:]] == list(res.markups["model"])
    assert all(close(float(r[4]), m) for r, m in zip(rows[1:], res.markups["markup"]))


def test_markdown_shows_the_tables_as_the_workbook_formats_them(exported):
    text = exported["md"].read_text()
    for title in ("### What does it cost to run a GPU? (monthly cost per GPU)",
                  "### Cost per million output tokens by model profile",
                  "### What they charge vs. what it costs",
                  "### Subscriptions recalculated at hardware cost"):
        assert title in text
    assert "*Master check: OK*" in text
    assert "| H100 | 833.33 | 350.00 | 66.43 | 150.00 | 1,399.76 | 1.9175 |" in text
    assert "| GPT-5.5 | OpenAI | 30.0000 | 1.3316 | 22.5x | 95.6% |" in text
    assert "| dense-70b | H100 | 400 | 1,440,000 | 1.9175 | 100.0% | 1.3316 |" in text


def _pdf_objects(data: bytes) -> dict:
    """{number: (dictionary bytes, stream bytes or None)} read through the xref table
    (LibreOffice writes a classic one), stream lengths from /Length."""
    xref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    table = data[xref:data.index(b"trailer", xref)]
    offsets, number = {}, 0
    for line in table.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2:
            number = int(parts[0])
        elif len(parts) == 3:
            if parts[2] == b"n":
                offsets[number] = int(parts[0])
            number += 1
    heads = {}
    for num, offset in offsets.items():
        m = re.compile(rb"\d+\s+\d+\s+obj(.*?)(stream\r?\n|endobj)", re.S).match(data, offset)
        heads[num] = (m.group(1), m.end() if m.group(2).startswith(b"stream") else None)
    objs = {}
    for num, (head, body_at) in heads.items():
        stream = None
        if body_at is not None:
            length = re.search(rb"/Length\s+(\d+)(\s+\d+\s+R)?", head)
            n = int(heads[int(length.group(1))][0].strip()) if length.group(2) else int(length.group(1))
            stream = data[body_at:body_at + n]
            if b"FlateDecode" in head:
                stream = zlib.decompress(stream)
        objs[num] = (head, stream)
    return objs


def _pdf_pages(data: bytes) -> list[str]:
    """Text of each page of a LibreOffice PDF: content streams decoded through each
    font's ToUnicode map (LibreOffice writes glyph codes, not characters)."""
    objs = _pdf_objects(data)

    def ref(body, key):
        m = re.search(rb"/" + key + rb"\s+(\d+) 0 R", body)
        return int(m.group(1)) if m else None

    def cmap(num):
        text, table = objs[num][1].decode("latin-1"), {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                table[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for a, b, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                        block):
                for i, code in enumerate(range(int(a, 16), int(b, 16) + 1)):
                    table[code] = chr(int(dst, 16) + i)
        return table

    pages = []
    for head, _ in objs.values():
        if not re.search(rb"/Type\s*/Page[^s]", head):
            continue
        res = objs[ref(head, b"Resources")][0]
        fonts_body = objs[ref(res, b"Font")][0] if ref(res, b"Font") else res
        fonts = {}
        for name, num in re.findall(rb"/(\w+)\s+(\d+) 0 R", fonts_body):
            to_unicode = ref(objs[int(num)][0], b"ToUnicode")
            fonts[name.decode()] = cmap(to_unicode) if to_unicode else {}
        out, font = [], {}
        content = objs[ref(head, b"Contents")][1].decode("latin-1")
        for m in re.finditer(r"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>", content):
            if m.group(1):
                font = fonts.get(m.group(1), {})
            else:
                h = m.group(2)
                out.append("".join(font.get(int(h[i:i + 2], 16), "") for i in range(0, len(h), 2)))
        pages.append("".join(out))
    return pages


def test_pdf_shows_the_output_sheet_and_its_charts_only(exported):
    data = exported["pdf"].read_bytes()
    assert data.startswith(b"%PDF-")
    pages = _pdf_pages(data)
    assert len(pages) >= 1
    text = "".join(pages)
    for shown in ("What they charge vs. what it costs", "GPT-5.5", "22.5x", "1,399.76",
                  "Monthly cost per GPU by component (USD)",    # chart titles: charts drawn
                  "Markup: list price / hardware cost", "Master check: OK"):
        assert shown in text, shown
    assert "What this workbook does" not in text          # the Cover is not exported
    assert "Check settings" not in text                   # nor the Checks sheet
    assert "Defaults of the TokenCost functions" not in text   # nor the added input sheet


# ------------------------------------------------------------------ UDF cells

def _outputs_cell(wb, title, header, slot=0):
    ws = wb["Outputs"]
    for row in ws.iter_rows(max_col=1):
        if row[0].value == title:
            r = row[0].row + 2
            for c in range(1, 30):
                if ws.cell(r, c).value == header:
                    return ws.cell(r + 1 + slot, c).coordinate
    raise KeyError((title, header))


@pytest.fixture(scope="module")
def udf_book(tmp_path_factory):
    """The committed workbook plus an analyst's sheet of TokenCost function calls, with
    the values the Python functions gave as cached values (as Excel with the add-in saves)."""
    path = tmp_path_factory.mktemp("udf") / "analyst.xlsm"
    wb = load_workbook(COMMITTED, keep_vba=True)
    cached = _committed_cached()
    title = "Cost per million output tokens by model profile"
    hour = [_outputs_cell(wb, title, "Cost per GPU-hour", s) for s in (0, 1)]
    tps = [_outputs_cell(wb, title, "Output tokens/s per GPU", s) for s in (0, 1)]
    h = [cached[("Outputs", c)] for c in hour]
    t = [cached[("Outputs", c)] for c in tps]
    ws = wb.create_sheet("Analyst", 8)
    cells = {
        "B5": (f"=COST_PER_MTOK(Outputs!{hour[0]},Outputs!{tps[0]})", udfs.COST_PER_MTOK(h[0], t[0])),
        "B6": ("=_xludf.MARKUP(30,B5)", udfs.MARKUP(30, udfs.COST_PER_MTOK(h[0], t[0]))),
        "B7": (f"=ROUND(_xll.TOKENS_PER_HOUR(Outputs!{tps[1]},0.5),0)",
               round(udfs.TOKENS_PER_HOUR(t[1], 0.5))),
        "B8": ("=_xludf.GPU_HOUR_COST(30000,3,350,700,1.3,0.1,150)",
               udfs.GPU_HOUR_COST(30000, 3, 350, 700, 1.3, 0.1, 150)),
        "B9": (f"=SUM(COST_PER_MTOK(Outputs!{hour[0]}:{hour[1]},Outputs!{tps[0]}:{tps[1]}))",
               sum(v[0] for v in udfs.COST_PER_MTOK([[h[0]], [h[1]]], [[t[0]], [t[1]]]))),
        "B10": (f"=COST_PER_MTOK(Outputs!{hour[0]},0)", udfs.COST_PER_MTOK(h[0], 0)),
        "B11": ("=_xll.OTHERADDIN.RATE(1)", 42.0),
        "B12": ('="COST_PER_MTOK(x)"', "COST_PER_MTOK(x)"),
        "B13": ("=B5*2", 2 * udfs.COST_PER_MTOK(h[0], t[0])),
    }
    for ref, (formula, _) in cells.items():
        ws[ref] = formula
    array = udfs.COST_PER_MTOK([[h[0]], [h[1]]], [[t[0]], [t[1]]])
    ws["B14"] = ArrayFormula("B14:B15", f"=COST_PER_MTOK(Outputs!{hour[0]}:{hour[1]},"
                                        f"Outputs!{tps[0]}:{tps[1]})")
    ws["B15"] = array[1][0]
    # optional arguments left out or blank, every argument a cell (no typed number)
    gpu = [30000, 3, 350, 700, 1.3, 0.1, 150]           # hours_per_month, cost_of_capital: none
    mix = [1.25, 0.125, 10, 0.5]                        # input, cached, output price; cache share
    ws2 = wb.create_sheet("Defaults", 9)
    for c, v in enumerate(gpu, start=1):
        ws2.cell(1, c, v)
    for c, v in enumerate(mix, start=1):
        ws2.cell(2, c, v)
    ws2["A3"], ws2["B3"], ws2["C3"] = 700, 1.3, 400
    defaults = {
        "A5": ("=GPU_MONTHLY_COST(A1,B1,C1,D1,E1,F1,G1)", udfs.GPU_MONTHLY_COST(*gpu)),
        "A6": ("=_xludf.GPU_HOUR_COST(A1,B1,C1,D1,E1,F1,G1,H1,I1)",     # H1, I1 blank
               udfs.GPU_HOUR_COST(*gpu, None, None)),
        "A7": ("=BLENDED_PRICE(A2,B2,C2)", udfs.BLENDED_PRICE(*mix[:3])),
        "A8": ("=BLENDED_PRICE(A2,B2,C2,,D2)", udfs.BLENDED_PRICE(*mix[:3], None, mix[3])),
        "A9": ("=BLENDED_PRICE(A2,B2,C2,E2,D2)", udfs.BLENDED_PRICE(*mix[:3], None, mix[3])),
        "A10": ("=TOKENS_PER_S_PER_MW(A3,B3,C3)", udfs.TOKENS_PER_S_PER_MW(700, 1.3, 400)),
    }
    for ref, (formula, _) in defaults.items():
        ws2[ref] = formula
    wb.save(path)
    values = {("Analyst", ref): v for ref, (_, v) in cells.items()}
    values.update({("Defaults", ref): v for ref, (_, v) in defaults.items()})
    values[("Analyst", "B14")] = array[0][0]
    inject_cached_values(str(path), lambda s, ref: values.get((s, ref), cached.get((s, ref))))
    assert formula_cells_without_value(path) == []
    return path, cells, array, defaults


@pytest.fixture(scope="module")
def udf_exported(udf_book, tmp_path_factory):
    path, cells, array, _ = udf_book
    out = tmp_path_factory.mktemp("udf-out") / "analyst.xlsx"
    result = export(path, out)
    return out, result, recalculated_values(out)


def test_udf_cells_become_native_formulas_that_libreoffice_computes_alike(udf_book, udf_exported):
    _, cells, array, _ = udf_book
    out, result, lo = udf_exported
    ws = load_workbook(out)["Analyst"]
    assert not result.recalculated
    for ref in ("B5", "B6", "B7", "B8"):            # single-cell calls, with and without prefixes
        formula = ws[ref].value
        assert isinstance(formula, str) and formula.startswith("="), ref
        assert not UDF_NAME.search(formula) and "_xl" not in formula, (ref, formula)
        assert close(lo["Analyst"][ref], cells[ref][1]), (ref, formula, lo["Analyst"][ref])
        assert "Analyst!" + ref in result.udf_native
    assert ws["B7"].value.startswith("=ROUND(")      # the native function around it stays
    # a UDF cell that showed its message keeps the message; another add-in's function: its value
    assert ws["B10"].value == "tokens_per_s must be > 0, got 0"
    assert ws["B11"].value == 42
    # an array formula over ranges cannot be one native formula: each cell keeps its value
    assert close(ws["B14"].value, array[0][0]) and close(ws["B15"].value, array[1][0])
    # whatever became of a range call, it shows the same number
    assert not (isinstance(ws["B9"].value, str) and UDF_NAME.search(ws["B9"].value))
    assert close(lo["Analyst"]["B9"], cells["B9"][1])
    # text that merely names a function, and formulas over UDF cells, stay as they were
    assert ws["B12"].value == '="COST_PER_MTOK(x)"' and ws["B13"].value == "=B5*2"
    assert close(lo["Analyst"]["B13"], cells["B13"][1])


def test_omitted_optional_arguments_read_named_defaults_not_typed_numbers(udf_book, udf_exported):
    """GPU_MONTHLY_COST with 7 arguments, BLENDED_PRICE with 3: the native formulas name
    the defaults (730 h/month, 3:1) instead of typing them, and compute the UDF values."""
    source, _, _, defaults = udf_book
    out, result, lo = udf_exported
    wb = load_workbook(out)
    ws = wb["Defaults"]
    for ref, (_formula, value) in defaults.items():
        native = ws[ref].value
        assert native.startswith("=") and not UDF_NAME.search(native), (ref, native)
        assert _typed_numbers(native) == [], (ref, native)
        assert close(lo["Defaults"][ref], value), (ref, native, lo["Defaults"][ref], value)
    assert "Default_hours_per_month" in ws["A5"].value
    assert "IF(ISBLANK(H1),Default_hours_per_month,H1)" in ws["A6"].value
    assert "IF(ISBLANK(I1),0,I1)" in ws["A6"].value                 # 0 is a unit constant
    assert "Default_input_output_ratio" in ws["A7"].value
    assert "*1" in load_workbook(out)["Defaults"]["A10"].value         # utilization 1: allowed
    # the export adds no typed number anywhere: any left is in the analyst's own formula
    src = formula_cells(source)
    for key, formula in formula_cells(out).items():
        extra = set(_typed_numbers(formula)) - set(_typed_numbers(src.get(key, "=0")))
        assert not extra, (key, formula)
    # the named cells: on the added input sheet, the functions' own defaults
    assert result.defaults_sheet == DEFAULTS_SHEET
    assert result.default_names == ["Default_hours_per_month", "Default_input_output_ratio"]
    sheet = wb[DEFAULTS_SHEET]
    for name in result.default_names:
        (where, ref), = list(wb.defined_names[name].destinations)
        cell = sheet[ref.replace("$", "")]
        assert where == DEFAULTS_SHEET and cell.style == "input"
        assert cell.value == named_defaults()[name].value
        assert sheet.cell(cell.row, 1).value == name
    assert lo[DEFAULTS_SHEET]["B6"] == 730 and lo[DEFAULTS_SHEET]["B7"] == 3


def test_udf_export_opens_in_libreoffice_with_no_error_and_the_cached_values(udf_exported):
    out, _, lo = udf_exported
    cached = cached_values(out)
    assert formula_cells_without_value(out) == []
    errors = [(s, r, v) for s, c in lo.items() for r, v in c.items()
              if v in XL_ERRORS or (isinstance(v, str) and v.startswith("Err:"))]
    assert errors == []
    bad = [(s, r) for (s, r) in formula_cells(out) if not close(cached[(s, r)], lo[s].get(r))]
    assert bad == []


def test_a_udf_cell_with_neither_a_value_nor_a_native_formula_is_refused(tmp_path):
    book = tmp_path / "novalue.xlsx"
    wb = Workbook()
    wb.active["A1"], wb.active["A2"] = 1.9, 2.0
    wb.active["B1"], wb.active["B2"] = 400, 500
    wb.active["C1"] = "=SUM(_xludf.COST_PER_MTOK(A1:A2,B1:B2))"
    wb.save(book)              # openpyxl stores no cached value
    with pytest.raises(WorkbookError, match=r"Sheet!C1 calls a function that only works with "
                                            r"the Python add-in and has no saved value"):
        export(book, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_udf_call_without_a_value_is_computed_in_python_when_its_arguments_are_cells(tmp_path):
    book = tmp_path / "catalog.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["C1"] = "H100", "dense-70b", 1
    ws["D1"] = "=MIN_GPUS(A1,B1)"                      # no native formula (a catalog function)
    ws["D2"] = '=_xludf.DECODE_TPS_BOUND(A1,"dense-70b",C1,,)'
    ws["D3"] = "=COST_PER_MTOK(2,400)"                 # has a native formula
    wb.save(book)                                       # openpyxl stores no cached value
    result = export(book, tmp_path / "out.xlsx")
    out = load_workbook(tmp_path / "out.xlsx")["Sheet"]
    assert result.udf_computed == ["Sheet!D1", "Sheet!D2"]
    assert out["D1"].value == udfs.MIN_GPUS("H100", "dense-70b")
    assert close(out["D2"].value, udfs.DECODE_TPS_BOUND("H100", "dense-70b", 1, None, None))
    assert result.recalculated                          # D3's native formula: LibreOffice
    assert out["D3"].value.startswith("=") and not UDF_NAME.search(out["D3"].value)
    assert close(cached_values(tmp_path / "out.xlsx")[("Sheet", "D3")], udfs.COST_PER_MTOK(2, 400))


# ------------------------------------------------------------------ add-in cells that saved #NAME?

@pytest.fixture(scope="module")
def libreoffice_saved(tmp_path_factory):
    """The committed workbook opened and saved by LibreOffice (which cannot run the
    add-in: every function cell is stored as #NAME?), then exported."""
    tmp = tmp_path_factory.mktemp("lo-saved")
    book = convert(COMMITTED, tmp / "converted", "xlsx")
    out = tmp / "out.xlsx"
    return book, out, export(book, out)


def test_a_book_saved_by_libreoffice_exports_native_formulas_not_name_errors(libreoffice_saved):
    book, out, result = libreoffice_saved
    saved = cached_values(book)
    assert saved[("Functions", "B17")] == "#NAME?"          # what LibreOffice stored
    source = _committed_cached()                            # the Python functions' values
    udf_cells = sorted(k for k, f in formula_cells(COMMITTED).items() if UDF_NAME.search(f))
    assert len(udf_cells) == 18
    assert sorted(result.udf_errors) == sorted(f"{s}!{r}" for s, r in udf_cells)
    assert len(result.udf_native) == 16 and sorted(result.udf_values) == [
        "Functions!B159", "Functions!B169"]                 # DECODE_TPS_BOUND, MIN_GPUS
    assert result.recalculated
    formulas, cached = formula_cells(out), cached_values(out)
    b17 = formulas[("Functions", "B17")]
    assert b17.startswith("=") and not UDF_NAME.search(b17), b17
    for key in udf_cells:
        assert not is_error_value(cached[key]), key
        assert close(cached[key], source[key]), (key, cached[key], source[key])
    assert cached[("Functions", "B169")] == udfs.MIN_GPUS("H100", "moe-284b-a13b") == 4
    errors = [(k, cached[k]) for k in formulas if is_error_value(cached[k])]
    assert errors == []


def _with_saved_errors(path: Path, refs) -> None:
    """Hand-edit the sheet XML: each formula cell in *refs* gets the cached error
    #NAME? (``t="e"``), as Excel saves a function it does not know."""
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i.filename)) for i in zf.infolist()]
    out = []
    for info, data in entries:
        if info.filename == "xl/worksheets/sheet1.xml":
            xml = data.decode()
            for ref in refs:
                xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>(?:</v>)?</c>|'
                                 rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v></v></c>',
                                 lambda m: f'<c r="{ref}"{m.group(1) or m.group(3) or ""} t="e">'
                                           f'<f>{m.group(2) or m.group(4)}</f><v>#NAME?</v></c>',
                                 xml)
                assert n == 1, (ref, xml)
            data = xml.encode()
        out.append((info, data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in out:
            zf.writestr(info, data)


def test_a_book_saved_by_excel_without_the_add_in_is_computed_again(tmp_path):
    book = tmp_path / "no-addin.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = 2.0, 400, "H100", "dense-70b"
    ws["C1"] = "=_xludf.COST_PER_MTOK(A1,B1)"              # a native formula exists
    ws["C2"] = "=_xludf.MIN_GPUS(A2,B2)"                    # none: the Python function's value
    ws["C3"] = "=C1*2"                                      # over a #NAME? cell: #NAME? too
    ws["C4"] = "=_xludf.COST_PER_MTOK(A1,0)"                # the function's own message
    ws["C5"] = "=_xludf.BLENDED_PRICE(A1,B1,A1)"            # input_output_ratio left out
    ws["C6"] = "=2*_xludf.MARKUP(B1,C1)"                    # nested, over an error cell
    ws["C7"] = "=_xludf.GPU_MONTHLY_COST(A1,0,1,1,1,1,1)"   # a message (needs no named default)
    wb.save(book)
    _with_saved_errors(book, ["C1", "C2", "C3", "C4", "C5", "C6", "C7"])
    assert cached_values(book)[("Sheet", "C1")] == "#NAME?"
    assert formula_cells_without_value(book) == []
    result = export(book, tmp_path / "out.xlsx")
    assert result.udf_errors == ["Sheet!C1", "Sheet!C2", "Sheet!C4", "Sheet!C5", "Sheet!C6",
                                 "Sheet!C7"]
    assert result.udf_native == ["Sheet!C1", "Sheet!C5", "Sheet!C6"]
    assert result.udf_values == ["Sheet!C2", "Sheet!C4", "Sheet!C7"] == result.udf_computed
    assert result.default_names == ["Default_input_output_ratio"]     # C7 keeps its message
    assert result.recalculated
    out = load_workbook(tmp_path / "out.xlsx")["Sheet"]
    cached = cached_values(tmp_path / "out.xlsx")
    cost = udfs.COST_PER_MTOK(2.0, 400)
    assert out["C1"].value == "=(A1/(B1*3600*1/1000000))"
    assert close(cached[("Sheet", "C1")], cost)
    assert out["C2"].value == udfs.MIN_GPUS("H100", "dense-70b")
    assert out["C3"].value == "=C1*2" and close(cached[("Sheet", "C3")], 2 * cost)
    assert out["C4"].value == "tokens_per_s must be > 0, got 0" == udfs.COST_PER_MTOK(2.0, 0)
    assert "Default_input_output_ratio" in out["C5"].value
    assert close(cached[("Sheet", "C5")], udfs.BLENDED_PRICE(2.0, 400, 2.0))
    assert close(cached[("Sheet", "C6")], 2 * udfs.MARKUP(400, cost))
    assert out["C7"].value == "depreciation_years must be > 0, got 0"
    assert not any(is_error_value(v) for v in cached.values())


def test_a_saved_error_with_no_native_formula_and_no_computable_call_is_refused(tmp_path):
    book = tmp_path / "no-addin.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["B1"], ws["B2"] = 1.9, 2.0, 400, 500
    ws["C1"] = "=_xludf.COST_PER_MTOK(A1,B1)"
    ws["C2"] = "=SUM(_xludf.COST_PER_MTOK(A1:A2,B1:B2))"     # a range: no native formula
    ws["C3"] = '=_xludf.MIN_GPUS(C1,"dense-70b")'            # over a #NAME? cell
    wb.save(book)
    _with_saved_errors(book, ["C1", "C2", "C3"])
    with pytest.raises(WorkbookError, match=r"Sheet!C2 calls a function that only works with the "
                                            r"Python add-in and has no saved value \(none, or an "
                                            r"error such as #NAME\?\) \(1 more cells like it\)"):
        export(book, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_default_name_the_book_already_uses_is_not_taken_over(tmp_path):
    from openpyxl.workbook.defined_name import DefinedName
    book = tmp_path / "names.xlsx"
    wb = Workbook()
    ws = wb.active
    gpu = [30000, 3, 350, 700, 1.3, 0.1, 150]
    for c, v in enumerate(gpu, start=1):
        ws.cell(1, c, v)
    ws["Z1"] = 8760
    ws["C2"] = "=GPU_MONTHLY_COST(A1,B1,C1,D1,E1,F1,G1)"
    wb.defined_names["Default_hours_per_month"] = DefinedName(
        "Default_hours_per_month", attr_text="Sheet!$Z$1")        # the analyst's own meaning
    wb.create_sheet(DEFAULTS_SHEET)["A1"] = "the analyst's notes"
    wb.save(book)
    inject_cached_values(str(book), lambda s, r: udfs.GPU_MONTHLY_COST(*gpu) if r == "C2" else None)
    result = export(book, tmp_path / "out.xlsx")
    assert not result.recalculated                          # BOOK's value is kept
    out = load_workbook(tmp_path / "out.xlsx")
    assert "*Default_hours_per_month_2*" in out["Sheet"]["C2"].value
    assert result.default_names == ["Default_hours_per_month_2"]
    assert result.defaults_sheet == f"{DEFAULTS_SHEET} 2"
    assert out.defined_names["Default_hours_per_month"].attr_text == "Sheet!$Z$1"
    assert list(out.defined_names["Default_hours_per_month_2"].destinations) == [
        (f"{DEFAULTS_SHEET} 2", "$B$6")]
    assert out[f"{DEFAULTS_SHEET} 2"]["B6"].value == 730
    assert out[DEFAULTS_SHEET]["A1"].value == "the analyst's notes"


def test_error_values_are_told_from_messages():
    for shown in ("#NAME?", "#VALUE!", "#N/A", "#REF!", "#DIV/0!", "#NUM!", "#NULL!", "Err:502"):
        assert is_error_value(shown), shown
    for shown in ("tokens_per_s must be > 0, got 0", "#1 model", "Err:", 0.0, None, "NAME?"):
        assert not is_error_value(shown), shown


def test_a_workbook_with_parts_openpyxl_would_drop_is_refused(tmp_path):
    from fixtures_safety import with_text_box
    book = with_text_box(COMMITTED, tmp_path / "textbox.xlsm")
    before = _sha(book)
    with pytest.raises(WorkbookError, match=r"the export would lose 1 shape or text box on sheet 'Outputs'"):
        export(book, tmp_path / "out.xlsx", csv_dir=tmp_path / "csv")
    assert not (tmp_path / "out.xlsx").exists() and not (tmp_path / "csv").exists()
    assert _sha(book) == before


def test_formula_classification_and_prefixes():
    call = udf_names()
    assert classify_formula("=COST_PER_MTOK(B5,C5)", call) == "udf"
    assert classify_formula("=_xludf.MARKUP(B5,C5)", call) == "udf"
    assert classify_formula("=IF(A1>0,_xll.GPU_HOUR_COST(A1,3,350,700,1.3,0.1,150),0)", call) == "udf"
    assert classify_formula('="COST_PER_MTOK("&A1', call) == "native"
    assert classify_formula("=MY_COST_PER_MTOK(A1)+Sheet.COST_PER_MTOK", call) == "native"
    assert classify_formula("=_xll.OTHER(1)+COST_PER_MTOK(1,2)", call) == "foreign"
    assert classify_formula("=_xlfn.IFNA(A1,0)", call) == "native"
    assert strip_udf_prefixes('=_xludf.MARKUP(_xll.COST_PER_MTOK(A1,B1),"_xludf.MARKUP(")', call) \
        == '=MARKUP(COST_PER_MTOK(A1,B1),"_xludf.MARKUP(")'


def test_classification_reads_syntax_the_evaluator_does_not():
    """Array constants, error literals and whole-column references do not hide a call."""
    assert classify_formula("={1,2}+_xludf.MARKUP(A1,#REF!)") == "udf"
    assert classify_formula("=SUM(Data!A:A)+_xll.OTHER(1)") == "foreign"
    assert classify_formula('=SUM(Data!A:A)&"_xll.OTHER("') == "native"
    assert [c.name for c in udf_calls("=MARKUP(1,2)+COST_PER_MTOK(1,2)")] == ["MARKUP", "COST_PER_MTOK"]


def test_a_simple_call_is_computed_in_python():
    cells = {("S", "A1"): (True, 2.0), ("Other sheet", "B2"): (True, 400.0)}

    def value_of(sheet, ref):
        return cells.get((sheet, ref), (False, None))

    assert python_value("=COST_PER_MTOK(A1, 'Other sheet'!$B$2)", "S", value_of) == (
        True, udfs.COST_PER_MTOK(2.0, 400.0))
    assert python_value("=_xludf.markup(3,+1.5)", "S", value_of) == (True, 2.0)
    assert python_value('=MARKUP(3,0)', "S", value_of) == (
        True, "cost_usd_per_mtok must be > 0, got 0")        # the function's own message
    for formula in ("=COST_PER_MTOK(A1,C9)",                 # a cell without a value
                    "=1+COST_PER_MTOK(A1,400)",              # not one call
                    "=COST_PER_MTOK(A1+1,400)", "=COST_PER_MTOK(SUM(A1),400)",
                    "=COST_PER_MTOK({1,2},400)", "=COST_PER_MTOK(A1:A2,400)",
                    "=_xll.OTHER(1)", "=SUM(1,2)"):
        assert python_value(formula, "S", value_of) == (False, None), formula


def test_error_values():
    for value in ("#NAME?", "#N/A", "#DIV/0!", "#SPILL!", "#CALC!", "Err:502", XLError("#REF!")):
        assert is_error_value(value), value
    for value in ("#hashtag", "Err:50", "N/A", 0, None, "#name?"):
        assert not is_error_value(value), value

def test_number_formats_as_the_workbook_shows_them():
    assert format_number(1399.7623, "#,##0.00") == "1,399.76"
    assert format_number(0.9556, "0.0%") == "95.6%"
    assert format_number(22.5295, '0.0"x"') == "22.5x"
    assert format_number(1440000, "#,##0") == "1,440,000"
    assert format_number(-0.00001, "0.00") == "0.00"
    assert format_number(0.123456789, "General") == "0.123457"


# ------------------------------------------------------------------ CSV injection, no cached values

@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A workbook saved by openpyxl (no cached values at all) with price rows whose model
    names a spreadsheet would run as formulas."""
    tmp = tmp_path_factory.mktemp("inject")
    book = tmp / "edited.xlsm"
    wb = load_workbook(COMMITTED, keep_vba=True)
    ws = wb["Prices"]
    evil = ['=HYPERLINK("http://example.invalid/x","click")', "@SUM(1+1)", "+1+2", "-3+4"]
    names = [ws.cell(r, c) for r in range(1, ws.max_row + 1) for c in range(1, ws.max_column + 1)
             if ws.cell(r, c).value in ("DeepSeek V4 Flash", "DeepSeek V4 Pro", "Claude Opus 4.8",
                                        "Claude Sonnet 4.6")]
    for cell, text in zip(names, evil):
        cell.value = text
        cell.data_type = "s"          # typed as text, as Excel keeps a quoted entry
    wb.save(book)
    assert formula_cells_without_value(book)
    csv_dir, md = tmp / "csv", tmp / "out.md"
    result = export(book, csv_dir=csv_dir, markdown=md)
    return result, csv_dir, md, evil


def test_a_workbook_without_cached_values_is_recalculated_first(injected):
    result, csv_dir, _, _ = injected
    assert result.recalculated
    res = evaluate(load_defaults())
    rows = list(csv.reader(io.StringIO((csv_dir / "Out_Prices.csv").read_text())))
    assert all(close(float(r[4]), m) for r, m in zip(rows[1:], res.markups["markup"]))


def test_csv_neutralises_text_a_spreadsheet_would_run(injected):
    _, csv_dir, md, evil = injected
    raw = (csv_dir / "Out_Prices.csv").read_text()
    rows = list(csv.reader(io.StringIO(raw)))
    assert [r[0] for r in rows[1:5]] == ["'" + e for e in evil]
    assert raw.splitlines()[1].startswith('"\'=HYPERLINK(""http://example.invalid/x"",""click"")"')
    for path in csv_dir.iterdir():
        for row in csv.reader(io.StringIO(path.read_text())):
            for field in row:
                try:
                    float(field)
                except ValueError:
                    assert field[:1] not in ("=", "+", "-", "@"), (path.name, field)
    # Markdown tables are pasted into spreadsheets too: the same neutralisation
    assert "| =HYPERLINK" not in md.read_text()
    assert '''| \'=HYPERLINK("http://example.invalid/x","click") |''' in md.read_text()


# ------------------------------------------------------------------ command line

def test_cli_never_overwrites_the_book_and_keeps_a_backup(exported, tmp_path, capsys):
    book = exported["book"]
    before = _sha(book)
    assert main(["export", str(book), str(book)]) == 2
    assert "never overwrites BOOK" in capsys.readouterr().err
    assert main(["export", str(book), str(tmp_path / "out.xlsm")]) == 2
    assert "name it *.xlsx" in capsys.readouterr().err
    assert main(["export", str(book)]) == 2
    assert "nothing to export" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.xlsm"), str(tmp_path / "o.xlsx")]) == 2
    assert "no such file" in capsys.readouterr().err
    out = tmp_path / "out.xlsx"
    assert main(["export", str(book), str(out)]) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert main(["export", str(book), str(out), "--markdown", "-"]) == 0
    assert "### What they charge vs. what it costs" in capsys.readouterr().out
    assert (tmp_path / "out.xlsx.bak").read_bytes() == first
    assert out.read_bytes() == first                     # deterministic: same book, same bytes
    assert _sha(book) == before
