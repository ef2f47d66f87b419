"""The workbook's Deployment sheets (templates/parts/extensions.toml) against the core.

Rent vs own, token mix, energy per token and the power budget, and the fleet
P&L are native formulas; here they must equal ``tokencost.analysis.deployment`` /
``tokencost.core.fleet`` on the same inputs, as cached values and after
LibreOffice recalculates the file (also after an analyst's edits). Tolerance:
relative 1e-9 (``workbook_helpers.close``).
"""
from __future__ import annotations

import csv
import re

import pytest
from openpyxl import load_workbook

from tokencost.inputs.datasets import DATA_DIR, load_defaults
from tokencost.analysis.deployment import fleet, power_budget, rent_vs_own, token_mix
from tokencost.inputs.reference_tables import read_catalog
from tokencost.workbook.spec import TEMPLATES_DIR
from tokencost.workbook.libreoffice import recalculated_values

from workbook_helpers import close, formula_cells

SHEETS = ("DeploymentInputs", "Deployment")
RENT_TITLE = "Rent vs own, one row per rental quote"
TOKEN_KINDS = ["input (cache miss)", "cached input", "output", "blended"]

# the hand-checked example of `tokencost fleet --help` (tests/test_fleet.py)
FLEET_EXPECTED = {
    "Fleet_GPU_Hours": 57_600.0, "Fleet_Cost_USD": 115_200.0, "Fleet_Revenue_Input_USD": 120_000.0,
    "Fleet_Revenue_Cached_Input_USD": 18_000.0, "Fleet_Revenue_Output_USD": 300_000.0,
    "Fleet_Revenue_USD": 438_000.0, "Fleet_Gross_Profit_USD": 322_800.0,
    "Fleet_Gross_Margin": 322_800 / 438_000, "Fleet_Cost_Profit_Margin": 322_800 / 115_200,
}
FLEET_CORE = {"Fleet_GPU_Hours": "gpu_hours", "Fleet_Cost_USD": "cost_usd",
              "Fleet_Revenue_Input_USD": "revenue_input_usd",
              "Fleet_Revenue_Cached_Input_USD": "revenue_cached_input_usd",
              "Fleet_Revenue_Output_USD": "revenue_output_usd", "Fleet_Revenue_USD": "revenue_usd",
              "Fleet_Gross_Profit_USD": "gross_profit_usd", "Fleet_Gross_Margin": "gross_margin",
              "Fleet_Cost_Profit_Margin": "cost_profit_margin",
              "Fleet_Implied_Utilization": "implied_utilization"}
POWER_CORE = {"PowerBudget_GPUs": "gpus", "PowerBudget_IT_MW": "it_power_mw",
              "PowerBudget_Facility_MW_Used": "facility_power_mw",
              "PowerBudget_Fleet_Tokens_Per_S": "fleet_tokens_per_s",
              "PowerBudget_MTok_Per_Day": "mtok_per_day", "PowerBudget_Cost_Per_Day": "cost_usd_per_day",
              "PowerBudget_Revenue_Per_Day": "revenue_usd_per_day",
              "PowerBudget_Profit_Per_Day": "profit_usd_per_day",
              "PowerBudget_Cost_Per_MTok": "cost_usd_per_mtok",
              "PowerBudget_GPU_Hour_Used": "gpu_hour_usd", "Dep_J_Per_Token": "j_per_token",
              "Dep_Tokens_Per_S_Per_MW": "tokens_per_s_per_mw"}
MIX_COST = ["Mix_Input_Cost", "Mix_Cached_Input_Cost", "Mix_Output_Cost", "Mix_Blended_Cost"]
MIX_SHARE = ["Mix_Share_Input", "Mix_Share_Cached_Input", "Mix_Share_Output"]
MIX_MARKUP = ["Mix_Input_Markup", "Mix_Cached_Input_Markup", "Mix_Output_Markup", "Mix_Blended_Markup"]


# --------------------------------------------------------------------------- helpers

def named(wb, name):
    dest = list(wb.defined_names[name].destinations)
    assert len(dest) == 1, name
    sheet, ref = dest[0]
    return sheet, ref.replace("$", "")


def set_named(wb, name, value):
    sheet, ref = named(wb, name)
    wb[sheet][ref].value = value


def lo_lookup(lo):
    return {(s, ref): v for s, cells in lo.items() for ref, v in cells.items()}


def slots(wb, values, sheet, title):
    """{header: [values]} of a slots block found by its title cell (column A)."""
    ws = wb[sheet]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == title)
    heads = {}
    c = 1
    while ws.cell(top + 2, c).value is not None:
        heads[ws.cell(top + 2, c).value] = c
        c += 1
    rows = []
    r = top + 3
    while ws.cell(r, 1).value is not None:
        rows.append(r)
        r += 1
    return {h: [values.get((sheet, ws.cell(r, c).coordinate)) for r in rows] for h, c in heads.items()}


def check_against_core(wb, values, inputs, model, rent_util, mix_overrides, power_kwargs,
                       fleet_args, own_quote=None):
    """Every block's values (cached or LibreOffice) against the core on the same inputs
    (*own_quote*: the analyst's quote in the last rental row, the core's rent_gpu_hour_usd)."""
    def v(name):
        return values[named(wb, name)]

    # rent vs own
    rentals = read_catalog("rental_prices.csv")
    core = rent_vs_own(inputs, rentals, read_catalog("tco_reference.csv"), model, rent_util,
                       own_quote)
    table = core["rent_vs_own"]
    got = slots(wb, values, "Deployment", RENT_TITLE)
    active = [i for i, a in enumerate(got["active"]) if a == 1]
    providers = [got["provider"][i].replace("(your quote)", "(given)") for i in active]
    assert providers == list(table["provider"])
    for head in ("rent_usd_per_gpu_hour", "own_usd_per_gpu_hour", "breakeven_utilization",
                 "owned_usd_per_mtok", "rented_usd_per_mtok"):
        assert all(close(got[head][i], b) for i, b in zip(active, table[head])), head
    assert [got["cheaper"][i] for i in active] == list(table["cheaper"])

    # token mix
    mix = token_mix(inputs, read_catalog("token_mix.csv"), model, mix_overrides)
    assert list(mix["token_kind"]) == TOKEN_KINDS
    assert all(close(v(n), b) for n, b in zip(MIX_COST, mix["cost_usd_per_mtok"]))
    assert all(close(v(n), b) for n, b in zip(MIX_SHARE, mix["share_of_traffic"]))
    assert all(close(v(n), b) for n, b in zip(MIX_MARKUP, mix["markup"]))
    assert close(v("Mix_Blended_Price"), mix["price_usd_per_mtok"].iloc[3])

    # energy and power budget
    power = power_budget(inputs, model=model, **power_kwargs).iloc[0]
    for name, key in POWER_CORE.items():
        assert close(v(name), float(power[key])), name

    # fleet P&L
    row = fleet(**fleet_args).iloc[0]
    for name, key in FLEET_CORE.items():
        assert close(v(name), float(row[key])), name


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", autouse=True)
def _needs_libreoffice(libreoffice):
    """Every test here needs LibreOffice (fails, never skips, without it)."""


@pytest.fixture(scope="module")
def book(built_book):
    return built_book


@pytest.fixture(scope="module")
def wb(built_wb):
    return built_wb


@pytest.fixture(scope="module")
def cached(built_cached):
    return built_cached


@pytest.fixture(scope="module")
def recalculated(built_recalculated):
    return built_recalculated


DEFAULTS = dict(
    model="dense-70b", rent_util=0.6,
    mix_overrides={"cache_hit_share": 0.5, "price_input_usd_per_mtok": 3.0,
                   "price_cached_input_usd_per_mtok": 0.3, "price_output_usd_per_mtok": 15.0},
    power_kwargs={"facility_mw": 100, "price_usd_per_mtok": 25.0},
    fleet_args=dict(nodes=10, gpus_per_node=8, gpu_hour_usd=2.0, hours=720, input_tokens=100e9,
                    cached_input_tokens=60e9, output_tokens=20e9, price_input_usd_per_mtok=3.0,
                    price_cached_input_usd_per_mtok=0.3, price_output_usd_per_mtok=15.0,
                    tokens_per_s=400.0))


# --------------------------------------------------------------------------- layout

def test_input_tables_are_the_shipped_catalogs(wb):
    ws = wb["DeploymentInputs"]
    r = ws[named(wb, "Rent_Provider_First")[1]].row
    quotes = list(csv.DictReader(open(DATA_DIR / "rental_prices.csv")))
    for i, x in enumerate(quotes):
        assert ws.cell(r + i, 1).value == x["provider"]
        assert ws.cell(r + i, 2).value == pytest.approx(float(x["usd_per_gpu_hour"]), abs=0)
        assert ws.cell(r + i, 3).value == x["gpu"]
        assert ws.cell(r + i, 2).style == ws.cell(r + i, 3).style == "input"
    assert ws.cell(r + len(quotes), 2).coordinate == named(wb, "Rent_Quote_Last")[1]
    r = ws[named(wb, "Mix_Model_First")[1]].row
    rows = list(csv.DictReader(open(DATA_DIR / "token_mix.csv")))
    for i, x in enumerate(rows):
        assert [ws.cell(r + i, c).value for c in (1, 2, 3)] == [
            x["model"], float(x["prefill_tokens_per_s"]), float(x["cached_input_cost_factor"])]
    assert ws.cell(r + len(rows) - 1, 1).coordinate == named(wb, "Mix_Model_Last")[1]


def test_every_named_input_is_styled_as_an_input(wb):
    text = (TEMPLATES_DIR / "parts" / "extensions.toml").read_text()
    inputs = re.findall(r"name = '(\w+)', style = 'input'", text)
    assert len(inputs) > 30
    for name in inputs:
        sheet, ref = named(wb, name)
        assert sheet == "DeploymentInputs" and wb[sheet][ref].style == "input", name


def test_rent_block_uses_one_formula_per_column(wb):
    ws = wb["Deployment"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == RENT_TITLE)
    c = 1
    while ws.cell(top + 2, c).value is not None:
        shapes = {re.sub(r"(?<![A-Za-z_$])(\$?[A-Z]{1,3})(\d+)(?![\w(])",
                         lambda m, rr=rr: f"{m.group(1)}R{int(m.group(2)) - rr}",
                         ws.cell(rr, c).value) for rr in range(top + 3, top + 9)}
        assert len(shapes) == 1, (c, shapes)
        c += 1


# --------------------------------------------------------------------------- cached values

def test_cached_fleet_pnl_is_the_hand_checked_example(wb, cached):
    for name, expected in FLEET_EXPECTED.items():
        assert cached[named(wb, name)] == pytest.approx(expected, rel=1e-12), name
    assert round(cached[named(wb, "Fleet_Gross_Margin")], 3) == 0.737
    assert round(cached[named(wb, "Fleet_Cost_Profit_Margin")], 3) == 2.802


def test_cached_values_equal_the_core(wb, cached):
    check_against_core(wb, cached, load_defaults(), **DEFAULTS)


def test_cached_values_show_the_readme_figures(wb, cached):
    def v(name):
        return cached[named(wb, name)]
    assert round(v("Dep_J_Per_Token"), 3) == 2.275
    assert round(v("Dep_Tokens_Per_S_Per_MW")) == 439_560
    assert v("PowerBudget_GPUs") == 109_890
    assert round(v("PowerBudget_Cost_Per_Day") / 1e6, 2) == 5.06
    assert round(v("PowerBudget_Revenue_Per_Day") / 1e6, 1) == 94.9
    assert [round(v(n), 4) for n in MIX_COST] == [0.1332, 0.0133, 1.3316, 0.3878]
    assert round(v("Mix_Blended_Price"), 4) == 4.9875
    rent = slots(wb, cached, "Deployment", RENT_TITLE)
    lam = rent["provider"].index("Lambda")
    assert round(rent["breakeven_utilization"][lam], 3) == 0.481


# --------------------------------------------------------------------------- LibreOffice

def test_libreoffice_equals_cached_values_and_the_core(book, wb, cached, recalculated):
    formulas = [(s, ref) for (s, ref) in formula_cells(book) if s in SHEETS]
    assert len(formulas) > 100
    errors = [(s, ref, recalculated[s].get(ref)) for s, ref in formulas
              if isinstance(recalculated[s].get(ref), str) and recalculated[s][ref].startswith("#")]
    assert errors == []
    mismatches = [(s, ref, cached[(s, ref)], recalculated[s].get(ref)) for s, ref in formulas
                  if not close(cached[(s, ref)], recalculated[s].get(ref))]
    assert mismatches == []
    check_against_core(wb, lo_lookup(recalculated), load_defaults(), **DEFAULTS)
    assert recalculated["Deployment"]["A2"] == "Master check: OK"


def _failing(wb, values):
    ws = wb["Checks"]
    return {ws.cell(int(ref[1:]), 1).value for ref, v in values["Checks"].items()
            if ref.startswith("C") and v == "ERROR"}


def test_an_analysts_edits_flow_through_as_the_core_predicts(book, tmp_path):
    """Another profile, TCO instead of a typed $/GPU-hour, all-in power, overrides."""
    wb = load_workbook(book, keep_vba=True)
    edits = {"Dep_Model": "moe-284b-a13b", "Rent_Utilization": None, "Rent_Quote_Last": 2.5,
             "Mix_Input_Output_Ratio": 10, "Mix_Cache_Hit_Share": 0.6, "Mix_Utilization": 0.7,
             "Mix_GPU_Hour": 2.2, "Mix_Cached_Prefill_Tokens_Per_S": 150000,
             "Mix_Price_Input": 5, "Mix_Price_Cached_Input": 0.5, "Mix_Price_Output": 25,
             "PowerBudget_Power_W": 1730, "PowerBudget_Utilization": 0.6, "PowerBudget_PUE": 1.2,
             "PowerBudget_Facility_MW": 250, "PowerBudget_Price": 2,
             "Fleet_GPU_Hour": None, "Fleet_Tokens_Per_S": 3000, "Fleet_Cached_Input_Tokens": 0}
    for name, value in edits.items():
        set_named(wb, name, value)
    edited = tmp_path / "edited.xlsm"
    wb.save(edited)
    values = recalculated_values(edited)
    assert values["Checks"]["A2"] == "Master check: OK", _failing(wb, values)

    inputs = load_defaults()
    tco = 1.9174840182648403
    kwargs = dict(
        model="moe-284b-a13b", rent_util=None,
        mix_overrides={"input_output_ratio": 10, "cache_hit_share": 0.6, "utilization": 0.7,
                       "gpu_hour_usd": 2.2, "cached_prefill_tokens_per_s": 150000,
                       "price_input_usd_per_mtok": 5, "price_cached_input_usd_per_mtok": 0.5,
                       "price_output_usd_per_mtok": 25},
        power_kwargs={"facility_mw": 250, "power_w": 1730, "pue": 1.2, "utilization": 0.6,
                      "price_usd_per_mtok": 2},
        fleet_args=dict(nodes=10, gpus_per_node=8, gpu_hour_usd=tco, hours=720, input_tokens=100e9,
                        cached_input_tokens=0, output_tokens=20e9, price_input_usd_per_mtok=3.0,
                        price_cached_input_usd_per_mtok=0.3, price_output_usd_per_mtok=15.0,
                        tokens_per_s=3000))
    check_against_core(wb, lo_lookup(values), inputs, **kwargs, own_quote=2.5)
    rent = slots(wb, lo_lookup(values), "Deployment", RENT_TITLE)
    assert rent["provider"][11] == "(your quote)" and close(rent["breakeven_utilization"][11], tco / 2.5)


def test_checks_flag_bad_deployment_inputs(book, tmp_path):
    wb = load_workbook(book, keep_vba=True)
    set_named(wb, "Dep_Model", "moe-v4-pro-implied")          # a profile without token-mix row
    set_named(wb, "Fleet_Cached_Input_Tokens", 200e9)           # more than the input tokens
    set_named(wb, "Mix_Cache_Hit_Share", 1.5)
    set_named(wb, "Rent_Quote_Last", -1)
    bad = tmp_path / "bad.xlsm"
    wb.save(bad)
    values = recalculated_values(bad)
    failing = _failing(wb, values)
    for label in ("Deployment: the token-mix throughput table has a row for the profile",
                  "Deployment: fleet cached input tokens do not exceed input tokens",
                  "Deployment: rental quotes are numbers > 0 (or blank)",
                  "Deployment: utilizations in (0, 1], cache-hit share and cost factors in [0, 1], PUE >= 1",
                  "Deployment: every result is a number (no error cell on the Deployment sheet)"):
        assert label in failing, label
    assert "Deployment: the model profile on DeploymentInputs is in the Models table" not in failing


def test_rent_vs_own_counts_only_quotes_for_the_profiles_gpu(wb, cached):
    """The quote table holds every GPU of rental_prices.csv; the H100 profile is compared
    with the H100 quotes only (an A100 or B200 price says nothing about an H100)."""
    quotes = list(csv.DictReader(open(DATA_DIR / "rental_prices.csv")))
    rent = slots(wb, cached, "Deployment", RENT_TITLE)
    active = [i for i, a in enumerate(rent["active"]) if a == 1]
    assert [rent["provider"][i] for i in active] == [q["provider"] for q in quotes if q["gpu"] == "H100"]
    assert len(rent["active"]) == len(quotes) + 1                    # + the analyst's own quote row
    assert all(rent["verdict"][i] in ("", None) for i in range(len(rent["active"])) if i not in active)
