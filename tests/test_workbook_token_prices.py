"""The workbook's prices and costs by token type, its blended markup for a chosen workload
(on Outputs and on the Dashboard) and its subscriptions on a mix (#14), recalculated by
LibreOffice and compared with the core (rel 1e-9), also after an analyst adds a price row, a
workload row and subscription rows and picks that workload on Outputs (the Dashboard follows
the same choice)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tokencost.analysis.model import evaluate
from tokencost.analysis.token_prices import (MIX_VIEW, subscriptions_by_workload, token_prices,
                                             workload_economics)
from tokencost.errors import InputError
from tokencost.inputs.datasets import read_raw_tables
from tokencost.inputs.reference_tables import read_catalog
from tokencost.inputs.validate import prepare
from tokencost.workbook.libreoffice import recalculated_values
from tokencost.workbook.read import read_inputs

from workbook_helpers import append_table_row, close, set_table_value

#: Outputs header -> column of the core's tables (token_prices, or workload_economics)
PRICE_HEADERS = {"Input price": "price_input_usd_per_mtok",
                 "Cached input price": "price_cached_input_usd_per_mtok",
                 "Output price": "price_output_usd_per_mtok",
                 "Input cost": "cost_input_usd_per_mtok",
                 "Cached input cost": "cost_cached_input_usd_per_mtok",
                 "Output cost": "cost_output_usd_per_mtok",
                 "Markup on input": "markup_input", "Markup on output": "markup_output"}
BLENDED_HEADERS = {"Blended price": "blended_price_usd_per_mtok",
                   "Blended cost": "blended_cost_usd_per_mtok",
                   "Blended markup": "blended_markup", "Blended gross margin": "gross_margin"}
#: Dashboard header -> column of the core's tables (its "Markup by token type" block)
DASH_PRICE_HEADERS = {"Provider": "provider", "Model": "model",
                      **{h: c for h, c in PRICE_HEADERS.items() if h != "Cached input cost"}}
DASH_BLENDED_HEADERS = {"Blended markup": "blended_markup"}
#: Outputs header of the subscriptions-on-a-mix table -> column of subscriptions_by_workload
SUBSCRIPTION_HEADERS = {"Output tokens": "output_mtok_per_month",
                        "Input tokens (cache hits included)": "input_mtok_per_month",
                        "Cached input tokens": "cached_input_mtok_per_month",
                        "Output cost to serve": "cost_output_usd_per_month",
                        "Input cost to serve (cache misses)": "cost_input_usd_per_month",
                        "Cached input cost to serve": "cost_cached_input_usd_per_month",
                        "Hardware cost on the mix": "hardware_cost_usd_per_month",
                        "Profit on the mix": "profit_usd_per_month",
                        "Cost on the mix with R&D (on output)": "cost_with_rd_usd_per_month",
                        "Profit on the mix with R&D": "profit_with_rd_usd_per_month"}


@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


def column(values, book, header, n, sheet="Outputs", below=0):
    """The first *n* values under the header *header* of *sheet* (the first such header
    below row *below*)."""
    ws = load_workbook(book)[sheet]
    for row in ws.iter_rows(min_row=below + 1):
        for cell in row:
            if cell.value == header and cell.style == "header":
                return [values[sheet].get(ws.cell(cell.row + 1 + i, cell.column).coordinate)
                        for i in range(n)]
    raise KeyError(header)


def core_tables(raw, workload):
    inputs = prepare(raw)
    prices = token_prices(inputs, evaluate(inputs).model_costs, read_catalog("token_mix.csv"))
    blended = workload_economics(prices, inputs.workloads)
    return prices, blended[blended["workload"] == workload].reset_index(drop=True)


def core_subscriptions(raw, workload):
    """One row per plan, in table order: the bill split for *workload* (NaN for a plan
    without a price_model)."""
    inputs = prepare(raw)
    res = evaluate(inputs)
    table = subscriptions_by_workload(inputs, res.subscriptions, res.model_costs,
                                      read_catalog("token_mix.csv"))
    mixed = table[(table["view"] == MIX_VIEW) & (table["workload"] == workload)]
    plans = inputs.subscriptions[["plan"]]
    return plans.merge(mixed, on="plan", how="left")


def assert_subscriptions_equal_core(values, book, subs):
    n = len(subs)
    for header, name in SUBSCRIPTION_HEADERS.items():
        got = column(values, book, header, n + 1)
        expected = [None if np.isnan(x) else float(x) for x in subs[name]]
        assert got[n] in ("", None), header
        for a, b in zip(got[:n], expected):
            assert (a in ("", None)) if b is None else close(a, b, 1e-9), (header, got, expected)
    return True


def assert_outputs_equal_core(values, book, prices, blended):
    n = len(prices)
    for headers, frame in ((PRICE_HEADERS, prices), (BLENDED_HEADERS, blended)):
        for header, name in headers.items():
            got = column(values, book, header, n + 1)
            expected = [None if np.isnan(x) else float(x) for x in frame[name]]
            assert got[n] in ("", None), header                        # the first unused slot
            for a, b in zip(got[:n], expected):
                assert (a in ("", None)) if b is None else close(a, b, 1e-9), (header, got, expected)
    return True


def dashboard_block_row(book):
    """The row of the Dashboard's "Markup by token type" title (its headers are below it;
    "Model" is also a header of the output-only markup block above)."""
    ws = load_workbook(book)["Dashboard"]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("Markup by token type"):
                return cell.row
    raise KeyError("Markup by token type")


def assert_dashboard_equals_core(values, book, prices, blended, workload):
    n, top = len(prices), dashboard_block_row(book)
    for headers, frame in ((DASH_PRICE_HEADERS, prices), (DASH_BLENDED_HEADERS, blended)):
        for header, name in headers.items():
            got = column(values, book, header, n + 1, "Dashboard", below=top)
            assert got[n] in ("", None), header                        # the first unused slot
            if frame[name].dtype == object:
                assert got[:n] == frame[name].tolist(), header
                continue
            expected = [None if np.isnan(x) else float(x) for x in frame[name]]
            for a, b in zip(got[:n], expected):
                assert (a in ("", None)) if b is None else close(a, b, 1e-9), (header, got, expected)
    shown = [v for ref, v in values["Dashboard"].items()
             if values["Dashboard"].get("G" + ref[1:]) == "Blended for workload" and ref[0] == "H"]
    assert shown == [workload]
    return True


def test_built_book_by_token_type_equals_the_core(built_book, built_recalculated):
    prices, blended = core_tables(read_raw_tables(), "coding agent")
    assert built_recalculated["Outputs"] and assert_outputs_equal_core(
        built_recalculated, built_book, prices, blended)
    assert assert_dashboard_equals_core(built_recalculated, built_book, prices, blended,
                                        "coding agent")
    # the DeepSeek V4 Pro profile has no prefill throughput: blank, not a guess
    assert np.isnan(prices.loc[1, "cost_input_usd_per_mtok"])
    assert built_recalculated["Checks"]["A2"] == "Master check: OK"


def test_built_book_subscription_on_the_coding_agent_mix_equals_the_core(built_book, built_recalculated):
    subs = core_subscriptions(read_raw_tables(), "coding agent")
    assert assert_subscriptions_equal_core(built_recalculated, built_book, subs)
    # the seed's plan: $450 at Opus's $5 / $0.50 / $25 over 20 input tokens per output, 85% cached
    out = 450 / (20 * (0.15 * 5 + 0.85 * 0.5) + 25)
    assert column(built_recalculated, built_book, "Output tokens", 1)[0] == pytest.approx(out, rel=1e-9)


def test_an_analysts_price_row_and_workload_row_flow_through(built_book, tmp_path):
    edited = tmp_path / "edited.xlsm"
    wb = load_workbook(built_book, keep_vba=True)
    price = {"provider": "Example", "model": "Example 70B", "price_usd_per_mtok": 12.0,
             "cost_basis": "dense-70b", "price_input_usd_per_mtok": 2.0}      # cached blank
    work = {"workload": "rag", "input_tokens_per_output_token": 30.0, "cache_hit_share": 0.4}
    # a plan priced by the new row (no cache discount), and one left to the output-only reading
    plans = [{"plan": "Example team", "subscription_usd_per_month": 60.0,
              "api_equivalent_usd_per_month": 240.0, "list_price_usd_per_mtok": 12.0,
              "cost_basis": "dense-70b", "rd_usd_per_mtok": 1.0, "price_model": "example 70b"},
             {"plan": "Output only", "subscription_usd_per_month": 20.0,
              "api_equivalent_usd_per_month": 30.0, "list_price_usd_per_mtok": 15.0,
              "cost_basis": "moe-284b-a13b", "rd_usd_per_mtok": 0.0}]
    append_table_row(wb, "Prices", price)
    append_table_row(wb, "Workloads", work)
    for plan in plans:
        append_table_row(wb, "Subscriptions", plan)
    wb["Outputs"][_out_workload_cell(wb)].value = "rag"
    wb.save(edited)

    raw = read_raw_tables()
    raw["Prices"] = pd.concat([raw["Prices"], pd.DataFrame([price])], ignore_index=True)
    raw["Workloads"] = pd.concat([raw["Workloads"], pd.DataFrame([work])], ignore_index=True)
    raw["Subscriptions"] = pd.concat([raw["Subscriptions"], pd.DataFrame(plans)], ignore_index=True)
    prices, blended = core_tables(raw, "rag")
    assert prices.loc[5, "price_cached_input_usd_per_mtok"] == 2.0     # no cache discount
    subs = core_subscriptions(raw, "rag")
    # $240 at 30 x (0.6 x $2 + 0.4 x $2) + $12 = $72 per output MTok: 3.33 MTok of output
    assert subs.loc[1, "output_mtok_per_month"] == pytest.approx(240 / 72, rel=1e-12)
    assert np.isnan(subs.loc[2, "output_mtok_per_month"])              # no price_model: blank
    values = recalculated_values(edited)
    assert values["Checks"]["A2"] == "Master check: OK"
    assert assert_outputs_equal_core(values, edited, prices, blended)
    assert assert_dashboard_equals_core(values, edited, prices, blended, "rag")
    assert assert_subscriptions_equal_core(values, edited, subs)
    # what `report BOOK` reads back is what the core was given
    back = read_inputs(edited)
    assert back.workloads["workload"].tolist()[-1] == "rag"
    assert np.isnan(back.prices["price_cached_input_usd_per_mtok"].iloc[-1])


def _out_workload_cell(wb):
    dest = wb.defined_names["Out_Workload"].attr_text
    return dest.split("!")[1].replace("$", "")


def test_cached_price_above_input_price_is_flagged_in_the_book_and_by_the_reader(built_book, tmp_path):
    edited = tmp_path / "bad.xlsm"
    wb = load_workbook(built_book, keep_vba=True)
    where = set_table_value(wb, "Prices", "model", "GPT-5.5", "price_cached_input_usd_per_mtok", 9.0)
    wb.save(edited)
    values = recalculated_values(edited)
    assert values["Checks"]["A2"] != "Master check: OK"
    with pytest.raises(InputError) as info:
        read_inputs(edited)
    assert str(info.value).startswith(f"Prices!{where}: price_cached_input_usd_per_mtok must be <= "
                                      "price_input_usd_per_mtok (5) in the same row, got 9")


def _named_value(wb, values, name):
    sheet, cell = wb.defined_names[name].attr_text.replace("$", "").split("!")
    return values[sheet.strip("'")][cell]


def test_a_price_row_without_input_price_leaves_the_mix_blank_with_a_warning(built_book,
                                                                             built_recalculated,
                                                                             tmp_path):
    """An older Prices table (no input prices) keeps working: the seed's reading stays, the
    mix figures are blank in the book and null in the report, and Checks warns."""
    edited = tmp_path / "no-input.xlsm"
    wb = load_workbook(built_book, keep_vba=True)
    set_table_value(wb, "Prices", "model", "Claude Opus 4.8", "price_input_usd_per_mtok", None)
    set_table_value(wb, "Prices", "model", "Claude Opus 4.8", "price_cached_input_usd_per_mtok", None)
    wb.save(edited)
    values = recalculated_values(edited)
    assert values["Checks"]["A2"] == "Master check: OK"
    before = _named_value(wb, built_recalculated, "Warning_Count")
    assert _named_value(wb, values, "Warning_Count") == before + 1
    assert column(values, edited, "Output tokens", 1)[0] in ("", None)
    # the seed's reading is untouched: $180 - $450 / $25 x the dense-70b cost
    assert column(values, edited, "Profit at hardware cost", 1)[0] == pytest.approx(
        180 - 450 / 25 * _dense(), rel=1e-9)
    subs = core_subscriptions(read_inputs(edited).tables, "coding agent")
    assert subs["output_mtok_per_month"].isna().all()


def _dense():
    return (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730 / 1.44


def test_a_price_row_with_a_free_output_price_is_flagged_in_the_book_and_by_the_reader(built_book,
                                                                                      tmp_path):
    edited = tmp_path / "bad.xlsm"
    wb = load_workbook(built_book, keep_vba=True)
    set_table_value(wb, "Prices", "model", "Claude Opus 4.8", "price_usd_per_mtok", 0)
    where = set_table_value(wb, "Subscriptions", "plan", "Wierda heavy user", "price_model",
                            "Claude Opus 4.8")
    wb.save(edited)
    values = recalculated_values(edited)
    assert values["Checks"]["A2"] != "Master check: OK"
    assert column(values, edited, "Output tokens", 1)[0] in ("", None)
    with pytest.raises(InputError) as info:
        read_inputs(edited)
    assert str(info.value).startswith(f"Subscriptions!{where}: price_model 'Claude Opus 4.8': its output "
                                      "price (Prices!")
    assert "is 0, so the bill buys no countable output tokens" in str(info.value)


def test_workload_cache_hit_share_out_of_range_is_located(built_book, tmp_path):
    edited = tmp_path / "bad.xlsm"
    wb = load_workbook(built_book, keep_vba=True)
    where = set_table_value(wb, "Workloads", "workload", "chat", "cache_hit_share", 1.5)
    wb.save(edited)
    with pytest.raises(InputError) as info:
        read_inputs(edited)
    assert str(info.value).startswith(f"Workloads!{where}: cache_hit_share must be")
