"""The Functions sheet and the UDF -> native formula translation.

Parity, three ways: for each Python function (UDF), its value on the sheet's
example arguments (called as xlwings would), the native formula beside it as
LibreOffice recalculates it, and the core all agree (rel 1e-9: LibreOffice
stores 15 significant digits). The UDF cells themselves cannot run in
LibreOffice (it shows #NAME?, which the test also checks, so nothing here is
faked); their cached value is the Python function's own result.
"""
from __future__ import annotations

import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from tokencost.excel import udfs
from tokencost.excel.arguments import xlwings_call
from tokencost.workbook.formula import PORTABLE_FUNCTIONS, functions_used, tokenize
from tokencost.workbook.edit.recalc import recalc_in_place
from tokencost.workbook.libreoffice import recalculated_values
from tokencost.workbook.udf_native import (LITERAL_DEFAULTS, UdfCall, default_names_in, expand,
                                           is_universal, named_defaults, native_formula,
                                           native_templates, udf_calls, udf_names)

from test_udfs import CORE_OF as CORE   # the core value of each function, independent of udfs.py
from workbook_helpers import cached_values, close


@pytest.fixture(scope="module")
def book(built_book):
    return built_book


@pytest.fixture(scope="module")
def recalculated(built_recalculated):
    return built_recalculated


def _blocks(path):
    """{function name: (argument cells, UDF cell, native cell or None)} read from the sheet."""
    ws = load_workbook(path)["Functions"]
    out, name, args = {}, None, []
    for row in ws.iter_rows(min_col=1, max_col=2):
        label, value = row[0].value, row[1]
        if label in udf_names():
            name, args, udf_cell = label, [], None
        elif name and label == "Python function (add-in)":
            udf_cell = value.coordinate
        elif name and label == "Native formula":
            native = value.coordinate if isinstance(value.value, str) and value.value.startswith("=") else None
            out[name] = (args, udf_cell, native)
            name = None
        elif name and label:
            args.append(value.coordinate)
    return out


def test_every_function_has_an_example_block_with_a_native_formula_where_one_exists(book):
    blocks = _blocks(book)
    assert list(blocks) == [spec.name for spec in udfs.UDF_SPECS]
    ws = load_workbook(book)["Functions"]
    for spec in udfs.UDF_SPECS:
        args, udf_cell, native = blocks[spec.name]
        assert len(args) == len(spec.args)
        assert ws[udf_cell].value == f"={spec.name}({','.join(args)})"
        assert (native is None) == (spec.name not in native_templates()), spec.name
        if native:
            assert functions_used(ws[native].value) <= PORTABLE_FUNCTIONS
        for a, v in zip(args, spec.example):     # the example values are the input cells
            assert ws[a].value == v if not isinstance(v, float) else close(ws[a].value, v, rel=1e-14)
    assert set(native_templates()) == set(CORE)


def test_udf_cells_cache_the_python_result_which_equals_the_native_formula(book):
    cached = cached_values(book)
    for spec in udfs.UDF_SPECS:
        args, udf_cell, native = _blocks(book)[spec.name]
        expected = xlwings_call(getattr(udfs, spec.name), *spec.example)[0][0]
        assert cached[("Functions", udf_cell)] == expected, spec.name
        if native:
            assert close(cached[("Functions", native)], expected, rel=1e-12), spec.name
            assert close(expected, CORE[spec.name](*spec.example), rel=1e-12), spec.name


def test_libreoffice_native_formulas_equal_the_udfs_and_the_core(book, recalculated):
    values = recalculated["Functions"]
    checked = 0
    for spec in udfs.UDF_SPECS:
        args, udf_cell, native = _blocks(book)[spec.name]
        assert values[udf_cell] == "#NAME?"   # LibreOffice cannot run Python: nothing is faked
        if native is None:
            continue
        example = [values[a] for a in args]   # the arguments as LibreOffice read them
        udf_value = xlwings_call(getattr(udfs, spec.name), *example)[0][0]
        assert close(values[native], udf_value), spec.name
        assert close(values[native], CORE[spec.name](*example)), spec.name
        checked += 1
    assert checked == len(CORE)


def test_catalog_functions_cache_the_bound_and_the_gpu_count(book):
    from tokencost.analysis.physics_checks import bound
    cached = cached_values(book)
    blocks = _blocks(book)
    assert cached[("Functions", blocks["DECODE_TPS_BOUND"][1])] == bound(
        "H100", "dense-70b")["tokens_per_s_per_gpu_bound"]
    assert cached[("Functions", blocks["MIN_GPUS"][1])] == 4.0   # the seed's MoE on H100s


# --------------------------------------------------------------------------- translation

@pytest.mark.parametrize("formula, expected", [
    ("=COST_PER_MTOK(A1,B1)", "=(A1/(B1*3600*1/1000000))"),
    ("=2*_xludf.MARKUP(C3,COST_PER_MTOK(A1,B1,C1))+1",
     "=2*(C3/((A1/(B1*3600*IF(ISBLANK(C1),1,C1)/1000000))))+1"),
    ("=IF(A1>0,BREAKEVEN_PRICE(A1),0)", "=IF(A1>0,(A1/(1-0)),0)"),
    ("=MARKUP(A1+1,B1)", "=((A1+1)/B1)"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),                        # no UDF: unchanged
    ("=COST_PER_MTOK(A1:A3,B1)", None),                    # a range: the UDF returns an array
    ("=MARKUP(Prices[price_usd_per_mtok],B1)", None),
    ('=MIN_GPUS("H100","dense-70b")', None),              # catalog function: no native form
    ("=COST_PER_MTOK(A1)", None),                          # a required argument is missing
    # defaults that are not unit constants are named, never typed (730 h/month, 3:1)
    ("=GPU_MONTHLY_COST(A1,A2,A3,A4,A5,A6,A7)",
     "=(-PMT(0/12,A2*12,A1)+A3+A4/1000*A5*Default_hours_per_month*A6+A7)"),
    ("=GPU_HOUR_COST(A1,A2,A3,A4,A5,A6,A7,A8)",
     "=((-PMT(0/12,A2*12,A1)+A3+A4/1000*A5*IF(ISBLANK(A8),Default_hours_per_month,A8)*A6+A7)"
     "/IF(ISBLANK(A8),Default_hours_per_month,A8))"),
    ("=BLENDED_PRICE(1,0.1,4)",
     "=((Default_input_output_ratio*((1-0)*1+0*0.1)+4)/(Default_input_output_ratio+1))"),
    ("=TOKENS_PER_S_PER_MW(B1,B2,B3)", "=(1000000/(B1*B2)*B3*1)"),
])
def test_native_formula_rewrites_calls(formula, expected):
    assert native_formula(formula) == expected


def test_udf_calls_list_each_call_with_its_argument_texts():
    assert udf_calls('=2*_xludf.MARKUP(C3, cost_per_mtok(A1,B1,))+_xll.OTHER("x,y")') == [
        UdfCall("MARKUP", ("C3", "cost_per_mtok(A1,B1,)"), whole=False, foreign=False),
        UdfCall("COST_PER_MTOK", ("A1", "B1", ""), whole=False, foreign=False),
        UdfCall("OTHER", ('"x,y"',), whole=False, foreign=True)]
    assert udf_calls("= COST_PER_MTOK( A1 , 'My sheet'!B1 ) ") == [
        UdfCall("COST_PER_MTOK", ("A1", "'My sheet'!B1"), whole=True, foreign=False)]
    assert udf_calls("=MIN_GPUS()") == [UdfCall("MIN_GPUS", (), whole=True, foreign=False)]
    assert udf_calls("=MARKUP(A1") == [UdfCall("MARKUP", ("A1",), whole=False, foreign=False)]
    assert udf_calls('="COST_PER_MTOK("&MY_MARKUP(A1)&Sheet.MARKUP&_xlfn.IFNA(A1,0)') == []
    # syntax the evaluator does not read is still searched; no native formula for it
    assert udf_calls("={1,2}+MARKUP(#REF!,B1)") == [
        UdfCall("MARKUP", ("#REF!", "B1"), whole=False, foreign=False)]
    assert native_formula("={1,2}+MARKUP(A1,B1)") is None
    assert native_formula("=MARKUP(A1,B1") is None

def test_expand_uses_defaults_for_missing_optionals():
    args = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    assert expand("GPU_HOUR_COST", args) == (
        "(-PMT(0/12,A2*12,A1)+A3+A4/1000*A5*Default_hours_per_month*A6+A7)/Default_hours_per_month")
    # numbers only for a formula that is computed and thrown away (tokencost recalc)
    assert expand("GPU_HOUR_COST", args, defaults=LITERAL_DEFAULTS) == (
        "(-PMT(0/12,A2*12,A1)+A3+A4/1000*A5*730*A6+A7)/730")
    # a workbook that already uses the name gets another one
    assert expand("BLENDED_PRICE", ["1", "2", "3"], defaults=lambda n: n + "_2") == (
        "(Default_input_output_ratio_2*((1-0)*1+0*2)+3)/(Default_input_output_ratio_2+1)")
    assert expand("DECODE_TPS_BOUND", ['"H100"', '"dense-70b"']) is None


def test_native_templates_and_defaults_type_no_assumption():
    """Convention: formulas hold only unit constants (0, 1, 12, 100, 1000, 3600, 1e6);
    the functions' other defaults are the named cells of named_defaults()."""
    for name, template in native_templates().items():
        body = template.replace("{", "").replace("}", "")
        assert [v for k, v in tokenize(body) if k == "number" and not is_universal(v)] == [], name
    assert {n: (d.value, d.unit, d.functions) for n, d in named_defaults().items()} == {
        "Default_hours_per_month": (730.0, "h/month", ("GPU_MONTHLY_COST", "GPU_HOUR_COST")),
        "Default_input_output_ratio": (3.0, "ratio", ("BLENDED_PRICE",)),
    }
    for spec in udfs.UDF_SPECS:            # every default of a native function is covered
        if spec.name in native_templates():
            for arg, value in spec.defaults.items():
                named = [d for d in named_defaults().values() if d.arg == arg]
                assert is_universal(value) or [d.value for d in named] == [value], (spec.name, arg)
    assert default_names_in("=A1*Default_hours_per_month+default_input_output_ratio") == {
        "Default_hours_per_month", "Default_input_output_ratio"}
    for n in (0, 1, 12, 100, 1000, 3600, "1e6", "1000000"):
        assert is_universal(n), n
    for n in (730, 3, 0.5, 8760, "x", None):
        assert not is_universal(n), n


def test_translated_formulas_compute_the_udf_values_in_libreoffice(tmp_path):
    """Each function called on cells (one optional argument left blank, one omitted),
    translated, then recalculated by LibreOffice, equals the UDF on the same cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = "T"
    expected = {}
    for r, spec in enumerate((s for s in udfs.UDF_SPECS if s.name in CORE), start=1):
        values = list(spec.example)
        for c, v in enumerate(values, start=2):
            ws.cell(r, c, v)
        refs = [ws.cell(r, c).coordinate for c in range(2, 2 + len(values))]
        handed = list(values)
        if spec.defaults:                           # leave the last optional argument blank
            ws.cell(r, 1 + len(values)).value = None
            handed[-1] = None
        ws.cell(r, 1, native_formula(f"={spec.name}({','.join(refs)})"))
        expected[f"A{r}"] = (spec.name, xlwings_call(getattr(udfs, spec.name), *handed)[0][0])
    path = tmp_path / "translated.xlsx"
    wb.save(path)
    values = recalculated_values(path)["T"]
    for ref, (name, value) in expected.items():
        assert close(values[ref], value), name


def test_recalc_values_udf_cells_through_their_native_formulas(book, tmp_path):
    copy = tmp_path / "copy.xlsm"
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Functions"]
    args, udf_cell, native = _blocks(book)["COST_PER_MTOK"]
    ws[args[1]] = 800                                   # twice the throughput: half the cost
    gpu = _blocks(book)["GPU_HOUR_COST"][0]
    ws["F1"] = f"=GPU_HOUR_COST({','.join(gpu[:7])})"    # hours_per_month left out: 730
    wb.save(copy)                                       # openpyxl drops every cached value
    recalc_in_place(copy, backup=False)
    cached = cached_values(copy)
    half = udfs.COST_PER_MTOK(float(ws[args[0]].value), 800.0)
    assert close(cached[("Functions", udf_cell)], half)
    assert close(cached[("Functions", native)], half)
    assert close(cached[("Functions", "F1")], udfs.GPU_HOUR_COST(*[ws[a].value for a in gpu[:7]]))
    with zipfile.ZipFile(copy) as zf:                  # the formula itself is kept
        assert "COST_PER_MTOK(" in zf.read(_sheet_part(copy, "Functions")).decode()


def _sheet_part(path, sheet):
    from tokencost.workbook.cached import sheet_parts
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)[sheet]
