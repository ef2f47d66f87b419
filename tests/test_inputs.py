"""tokencost.inputs.validate: validating raw tables once at the boundary, and overrides.

Each problem is checked for its *where* text (the default locator, or the CSV
locator of tokencost.inputs.datasets) and its message. The shipped tables come from
the ``seed_raw`` fixture (a fresh, editable copy of ``data/*.csv``, all cells text).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tokencost.inputs.datasets import csv_locator
from tokencost.errors import InputError
from tokencost.inputs.validate import Inputs, check_tables, prepare, variant_overrides
from tokencost.analysis.model import evaluate

REL = 1e-12
SEED_HOUR = (30000 / 36 + 350 + 0.7 * 1.3 * 730 * 0.10 + 150) / 730


def edit(raw, table, row, column, value):
    frame = raw[table].copy()
    frame.loc[row, column] = value
    raw[table] = frame
    return raw


def add_row(raw, table, **cells):
    raw[table] = pd.concat([raw[table], pd.DataFrame([cells])], ignore_index=True)
    return raw


def only_problem(raw, locate=None):
    problems = check_tables(raw) if locate is None else check_tables(raw, locate)
    assert len(problems) == 1, problems
    return problems[0]


# --------------------------------------------------------------------------- the shipped data

def test_shipped_tables_are_valid(seed_raw):
    assert check_tables(seed_raw) == []


def test_prepared_tables_are_typed(seed_inputs):
    assert isinstance(seed_inputs, Inputs)
    hw = seed_inputs.hardware
    assert hw["gpu"].tolist() == ["H100"]
    assert hw["gpu_price_usd"].dtype == float and hw["gpu_price_usd"].iloc[0] == 30000.0
    cc = seed_inputs.cost_components
    assert cc.loc[0, ["depreciation_years", "infra_usd_per_month", "pue", "power_price_usd_per_kwh",
                      "staff_usd_per_month", "hours_per_month", "utilization", "cost_of_capital"]
                  ].tolist() == [3.0, 350.0, 1.3, 0.10, 150.0, 730.0, 1.0, 0.0]
    assert seed_inputs.models.set_index("model")["tokens_per_s"].to_dict() == {
        "dense-70b": 400.0, "moe-284b-a13b": 2500.0, "moe-v4-pro-implied": 1065.0}
    assert np.isnan(seed_inputs.models.loc[0, "batch_size"])  # blank optional, no default
    assert variant_overrides(seed_inputs) == {"subsidized-power": {"power_price_usd_per_kwh": 0.06}}


def test_every_shipped_row_names_its_source(seed_raw):
    for name, frame in seed_raw.items():
        assert frame["source"].map(lambda s: isinstance(s, str) and len(s.strip()) > 10).all(), name


# --------------------------------------------------------------------------- table and column problems

def test_missing_table(seed_raw):
    del seed_raw["Prices"]
    p = only_problem(seed_raw)
    assert (p.where, p.message, p.table) == ("Prices", "table Prices is missing", "Prices")
    with pytest.raises(InputError) as info:
        prepare(seed_raw)
    assert info.value.where == "Prices"
    assert str(info.value) == "Prices: table Prices is missing"


def test_missing_variants_table_is_allowed(seed_raw):
    del seed_raw["Variants"]
    inputs = prepare(seed_raw)
    assert len(inputs.variants) == 0 and variant_overrides(inputs) == {}


def test_missing_required_column(seed_raw):
    seed_raw["Hardware"] = seed_raw["Hardware"].drop(columns=["power_w"])
    p = only_problem(seed_raw)
    assert p.where == "Hardware column power_w"
    assert p.message == "required column power_w is missing from table Hardware"
    assert (p.table, p.row, p.column) == ("Hardware", None, "power_w")


def test_missing_optional_columns_take_their_defaults(seed_raw):
    seed_raw["Models"] = seed_raw["Models"].drop(
        columns=["gpus", "batch_size", "architecture", "description", "source"])
    seed_raw["Hardware"] = seed_raw["Hardware"].drop(columns=["memory_gb", "memory_bandwidth_tb_s"])
    inputs = prepare(seed_raw)
    assert inputs.models["gpus"].tolist() == [1.0, 1.0, 1.0]
    assert inputs.models["batch_size"].isna().all()
    assert inputs.models["description"].tolist() == ["", "", ""]
    assert np.isnan(inputs.hardware.loc[0, "memory_gb"])
    assert evaluate(inputs).model_costs.loc[0, "cost_usd_per_mtok"] == pytest.approx(SEED_HOUR / 1.44, rel=REL)


@pytest.mark.parametrize("column", ["hours_per_month", "utilization", "cost_of_capital"])
def test_seed_assumption_columns_must_be_present(seed_raw, column):
    # these have a default in the schema but are required: the seed's assumptions stay visible
    seed_raw["CostComponents"] = seed_raw["CostComponents"].drop(columns=[column])
    p = only_problem(seed_raw)
    assert p.where == f"CostComponents column {column}"
    assert p.message == f"required column {column} is missing from table CostComponents"


# --------------------------------------------------------------------------- cell problems

def test_text_in_numeric_cell(seed_raw):
    edit(seed_raw, "Models", 0, "tokens_per_s", "fast")
    p = only_problem(seed_raw)
    assert p.where == "Models row 1, tokens_per_s"
    assert p.message == "tokens_per_s must be a number, got text 'fast'"
    assert (p.table, p.row, p.column) == ("Models", 0, "tokens_per_s")


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "Infinity"])
def test_non_finite_text_is_not_a_number(seed_raw, text):
    # "inf" would pass every >= bound and make the JSON report invalid (Infinity)
    edit(seed_raw, "Hardware", 0, "gpu_price_usd", text)
    p = only_problem(seed_raw)
    assert p.where == "Hardware row 1, gpu_price_usd"
    assert "must be a number" in p.message


def test_csv_locator_names_file_line_and_column(seed_raw):
    edit(seed_raw, "Models", 1, "tokens_per_s", "lots")
    p = only_problem(seed_raw, csv_locator())
    assert p.where == "models.csv line 3, column tokens_per_s"   # line 1 is the header
    assert str(p) == "models.csv line 3, column tokens_per_s: tokens_per_s must be a number, got text 'lots'"


@pytest.mark.parametrize("blank", [None, np.nan, "", "   "])
def test_blank_required_number(seed_raw, blank):
    edit(seed_raw, "Hardware", 0, "power_w", blank)
    p = only_problem(seed_raw)
    assert p.where == "Hardware row 1, power_w"
    assert p.message == "power_w is required but blank"


def test_blank_required_text(seed_raw):
    edit(seed_raw, "Prices", 2, "provider", "")
    p = only_problem(seed_raw)
    assert p.where == "Prices row 3, provider"
    assert p.message == "provider is required but blank"


def test_blank_optional_cell_takes_its_default(seed_raw):
    edit(seed_raw, "Models", 0, "gpus", None)
    edit(seed_raw, "Models", 1, "gpus", "")
    edit(seed_raw, "Models", 1, "batch_size", " ")
    edit(seed_raw, "Hardware", 0, "memory_gb", None)
    inputs = prepare(seed_raw)
    assert inputs.models["gpus"].tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(inputs.models.loc[1, "batch_size"])
    assert np.isnan(inputs.hardware.loc[0, "memory_gb"])


def test_fully_blank_rows_are_dropped(seed_raw):
    add_row(seed_raw, "Prices", provider="", model=None, price_usd_per_mtok="", cost_basis="", source="")
    inputs = prepare(seed_raw)
    assert len(inputs.prices) == 5


def test_numbers_may_arrive_as_numbers(seed_raw):
    # a workbook reader hands over floats, not text
    edit(seed_raw, "Hardware", 0, "gpu_price_usd", 30000.0)
    edit(seed_raw, "Models", 0, "tokens_per_s", 400)
    assert check_tables(seed_raw) == []


@pytest.mark.parametrize("value, message", [
    ("1.2", "utilization must be in (0, 1], got 1.2"),
    ("0", "utilization must be in (0, 1], got 0"),
    ("-0.5", "utilization must be in (0, 1], got -0.5"),
])
def test_utilization_outside_zero_one(seed_raw, value, message):
    edit(seed_raw, "CostComponents", 0, "utilization", value)
    p = only_problem(seed_raw)
    assert p.where == "CostComponents row 1, utilization"
    assert p.message == message


@pytest.mark.parametrize("table, column, value, rule", [
    ("Hardware", "gpu_price_usd", "-30000", "must be >= 0, got -30000"),
    ("CostComponents", "depreciation_years", "0", "must be > 0, got 0"),
    ("CostComponents", "pue", "0.9", "must be >= 1, got 0.9"),
    ("CostComponents", "cost_of_capital", "1", "must be in [0, 1), got 1"),
    ("Models", "tokens_per_s", "0", "must be > 0, got 0"),
    ("Prices", "price_usd_per_mtok", "-1", "must be >= 0, got -1"),
    ("Subscriptions", "list_price_usd_per_mtok", "0", "must be > 0, got 0"),
])
def test_out_of_range_cells(seed_raw, table, column, value, rule):
    edit(seed_raw, table, 0, column, value)
    p = only_problem(seed_raw)
    assert p.where == f"{table} row 1, {column}"
    assert p.message == f"{column} {rule}"


# --------------------------------------------------------------------------- keys and references

def test_duplicate_gpu_names_case_insensitive(seed_raw):
    add_row(seed_raw, "Hardware", gpu="h100", gpu_price_usd="25000", power_w="700", source="typo")
    p = only_problem(seed_raw)
    assert p.where == "Hardware row 2, gpu"
    assert p.message == "duplicate gpu 'h100' (first at row 1)"


def test_surrounding_spaces_make_another_name(seed_raw):
    # was: ' H100 ' trimmed, so a duplicate of H100; the workbook's COUNTIF and MATCH do
    # not trim, so it is another name (and where it must match one, an error: below)
    add_row(seed_raw, "Hardware", gpu=" H100 ", gpu_price_usd="25000", power_w="700")
    assert check_tables(seed_raw) == []


def test_duplicate_model_profile(seed_raw):
    add_row(seed_raw, "Models", model="Dense-70B", gpu="H100", tokens_per_s="300")
    p = only_problem(seed_raw)
    assert p.where == "Models row 4, model"
    assert "duplicate model 'Dense-70B'" in p.message


def test_model_referencing_unknown_gpu(seed_raw):
    edit(seed_raw, "Models", 0, "gpu", "B200")
    p = only_problem(seed_raw)
    assert p.where == "Models row 1, gpu"
    assert p.message == "gpu 'B200' is not a gpu in CostComponents"


def test_cost_components_referencing_unknown_hardware(seed_raw):
    add_row(seed_raw, "CostComponents", gpu="MI300X", depreciation_years="4", infra_usd_per_month="350",
            pue="1.3", power_price_usd_per_kwh="0.1", staff_usd_per_month="150", hours_per_month="730",
            utilization="1", cost_of_capital="0")
    p = only_problem(seed_raw)
    assert p.where == "CostComponents row 2, gpu"
    assert p.message == "gpu 'MI300X' is not a gpu in Hardware"


def test_price_referencing_unknown_cost_basis(seed_raw):
    edit(seed_raw, "Prices", 4, "cost_basis", "dense-405b")
    p = only_problem(seed_raw)
    assert p.where == "Prices row 5, cost_basis"
    assert p.message == "cost_basis 'dense-405b' is not a model in Models"


def test_subscription_referencing_unknown_cost_basis(seed_raw):
    edit(seed_raw, "Subscriptions", 0, "cost_basis", "nope")
    p = only_problem(seed_raw)
    assert p.where == "Subscriptions row 1, cost_basis"


def test_references_are_case_insensitive_and_evaluate_joins_them(seed_raw):
    edit(seed_raw, "Models", 0, "gpu", "h100")
    edit(seed_raw, "Prices", 2, "cost_basis", "DENSE-70B")
    inputs = prepare(seed_raw)
    res = evaluate(inputs)
    assert res.model_costs.loc[0, "cost_usd_per_mtok"] == pytest.approx(SEED_HOUR / 1.44, rel=REL)
    assert res.markups.loc[2, "markup"] == pytest.approx(25 / (SEED_HOUR / 1.44), rel=REL)


@pytest.mark.parametrize("name", ["power_price", "gpu", "source", "POWER_W"])
def test_unknown_variant_input_name(seed_raw, name):
    edit(seed_raw, "Variants", 0, "name", name)
    p = only_problem(seed_raw)
    assert p.where == "Variants row 1, name"
    assert p.message == f"unknown input name {name!r}"


def test_all_problems_are_listed_in_order_and_prepare_raises_the_first(seed_raw):
    edit(seed_raw, "Hardware", 0, "power_w", "lots")
    edit(seed_raw, "Models", 2, "tokens_per_s", "-1")
    edit(seed_raw, "Prices", 0, "cost_basis", "unknown")
    problems = check_tables(seed_raw)
    assert [p.where for p in problems] == ["Hardware row 1, power_w", "Models row 3, tokens_per_s",
                                           "Prices row 1, cost_basis"]
    with pytest.raises(InputError) as info:
        prepare(seed_raw)
    assert info.value.where == "Hardware row 1, power_w"
    assert str(info.value).startswith("Hardware row 1, power_w: power_w must be a number, got text 'lots'")
    assert "and 2 more problem(s)" in str(info.value)


# --------------------------------------------------------------------------- overrides

def two_gpu_inputs(seed_raw):
    add_row(seed_raw, "Hardware", gpu="B200", gpu_price_usd="40000", power_w="1000", source="test")
    add_row(seed_raw, "CostComponents", gpu="B200", depreciation_years="4", infra_usd_per_month="400",
            pue="1.2", power_price_usd_per_kwh="0.08", staff_usd_per_month="150", hours_per_month="730",
            utilization="0.8", cost_of_capital="0", source="test")
    return prepare(seed_raw)


def test_with_overrides_applies_to_every_row(seed_raw):
    inputs = two_gpu_inputs(seed_raw)
    changed = inputs.with_overrides({"power_price_usd_per_kwh": 0.06})
    assert changed.cost_components["power_price_usd_per_kwh"].tolist() == [0.06, 0.06]
    assert changed.overrides == {"power_price_usd_per_kwh": 0.06}
    # the original is untouched
    assert inputs.cost_components["power_price_usd_per_kwh"].tolist() == [0.10, 0.08]
    assert inputs.overrides == {}
    gpus = evaluate(changed).gpu_costs.set_index("gpu")
    assert gpus.loc["H100", "power_usd_per_month"] == pytest.approx(39.858, rel=REL)
    assert gpus.loc["B200", "power_usd_per_month"] == pytest.approx(1.0 * 1.2 * 730 * 0.06, rel=REL)


def test_with_overrides_chains_and_merges(seed_inputs):
    a = seed_inputs.with_overrides({"pue": 1.1})
    b = a.with_overrides({"tokens_per_s": 1000, "pue": 1.2})
    assert b.overrides == {"pue": 1.2, "tokens_per_s": 1000}
    assert b.models["tokens_per_s"].tolist() == [1000.0] * 3
    assert b.cost_components["pue"].tolist() == [1.2]
    assert seed_inputs.overrides == {}


def test_with_overrides_accepts_numeric_text(seed_inputs):
    # a --set value or a Variants cell may arrive as text
    assert seed_inputs.with_overrides({"utilization": "0.5"}).cost_components["utilization"].tolist() == [0.5]


@pytest.mark.parametrize("name", ["nope", "gpu", "source", "Power_W"])
def test_with_overrides_rejects_unknown_names(seed_inputs, name):
    with pytest.raises(InputError) as info:
        seed_inputs.with_overrides({name: 1.0})
    assert info.value.where == name
    assert f"unknown input name {name!r}" in str(info.value)
    assert "power_price_usd_per_kwh" in str(info.value)  # lists the known names


@pytest.mark.parametrize("name, value, words", [
    ("utilization", 1.5, "utilization must be in (0, 1], got 1.5"),
    ("utilization", 0, "utilization must be in (0, 1], got 0"),
    ("pue", 0.5, "pue must be >= 1, got 0.5"),
    ("depreciation_years", 0, "depreciation_years must be > 0, got 0"),
    ("depreciation_years", -3, "depreciation_years must be > 0, got -3"),
    ("gpu_price_usd", -1, "gpu_price_usd must be >= 0, got -1"),
    ("tokens_per_s", 0, "tokens_per_s must be > 0, got 0"),
    ("power_w", "lots", "power_w must be a number, got 'lots'"),
    ("power_w", None, "power_w must be a number"),
    ("power_w", True, "power_w must be a number"),
    ("power_w", float("nan"), "power_w must be a number"),
    ("power_w", float("inf"), "power_w must be a number"),
])
def test_with_overrides_rejects_bad_values(seed_inputs, name, value, words):
    with pytest.raises(InputError) as info:
        seed_inputs.with_overrides({name: value})
    assert info.value.where == name
    assert words in str(info.value)


def test_with_overrides_keeps_the_cached_price_at_most_the_input_price(seed_inputs):
    """An override of either side of the same-row rule breaks it in a named row: refused at
    the override's source, naming the row; a blank input price breaks nothing."""
    cached = seed_inputs.prices["price_cached_input_usd_per_mtok"]
    low = float(cached.max()) / 2
    with pytest.raises(InputError) as info:
        seed_inputs.with_overrides({"price_input_usd_per_mtok": low}, {"price_input_usd_per_mtok": "--set x"})
    assert info.value.where == "--set x"
    assert "above price_input_usd_per_mtok" in str(info.value) and "in Prices row" in str(info.value)
    with pytest.raises(InputError, match="price_cached_input_usd_per_mtok=1e\\+06 leaves"):
        seed_inputs.with_overrides({"price_cached_input_usd_per_mtok": 1e6})
    both = seed_inputs.with_overrides({"price_input_usd_per_mtok": 3.0,
                                       "price_cached_input_usd_per_mtok": 0.3})
    assert (both.prices["price_input_usd_per_mtok"] == 3.0).all()
    assert (both.prices["price_cached_input_usd_per_mtok"] == 0.3).all()


# --------------------------------------------------------------------------- new rows flow through

def test_added_gpu_model_and_price_flow_through_evaluate(seed_raw):
    add_row(seed_raw, "Models", model="dense-70b-b200", gpu="B200", tokens_per_s="1200", gpus="1",
            source="test")
    add_row(seed_raw, "Prices", provider="Test", model="Test model", price_usd_per_mtok="10",
            cost_basis="dense-70b-b200", source="test")
    inputs = two_gpu_inputs(seed_raw)
    res = evaluate(inputs)

    month = 40000 / 48 + 400 + 1.0 * 1.2 * 730 * 0.08 + 150   # 1453.4133...
    hour = month / 730
    cost = hour / (1200 * 3600 * 0.8 / 1e6)                    # utilization 0.8 from CostComponents

    gpus = res.gpu_costs.set_index("gpu")
    assert gpus.loc["B200", "depreciation_usd_per_month"] == pytest.approx(40000 / 48, rel=REL)
    assert gpus.loc["B200", "power_usd_per_month"] == pytest.approx(70.08, rel=REL)
    assert gpus.loc["B200", "total_usd_per_month"] == pytest.approx(month, rel=REL)
    assert gpus.loc["B200", "gpu_hour_usd"] == pytest.approx(hour, rel=REL)
    assert gpus.loc["H100", "gpu_hour_usd"] == pytest.approx(SEED_HOUR, rel=REL)   # unchanged

    models = res.model_costs.set_index("model")
    assert models.loc["dense-70b-b200", "tokens_per_hour"] == pytest.approx(1200 * 3600 * 0.8, rel=REL)
    assert models.loc["dense-70b-b200", "cost_usd_per_mtok"] == pytest.approx(cost, rel=REL)
    assert models.loc["dense-70b", "cost_usd_per_mtok"] == pytest.approx(SEED_HOUR / 1.44, rel=REL)

    markups = res.markups.set_index("model")
    assert markups.loc["Test model", "markup"] == pytest.approx(10 / cost, rel=REL)
    assert markups.loc["Test model", "gross_margin"] == pytest.approx(1 - cost / 10, rel=REL)
    assert markups.loc["GPT-5.5", "markup"] == pytest.approx(30 / (SEED_HOUR / 1.44), rel=REL)
