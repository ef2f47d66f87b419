"""`tokencost prices import`: LiteLLM-format price catalogs.

The fixture tests/data/litellm_prices_sample.json is hand-written in the format
of LiteLLM's model_prices_and_context_window.json: a sample_spec entry, an
unknown field, an image entry (not token priced) and four bad rows.
Per-token USD x 1e6 = USD/MTok; REL = 1e-12.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from tokencost.inputs import pricecatalog as pc
from tokencost.cli import main
from tokencost.errors import InputError

FIXTURE = Path(__file__).with_name("data") / "litellm_prices_sample.json"
REL = 1e-12


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_converts_per_token_to_per_mtok():
    res = pc.import_file(FIXTURE)
    rows = res.rows.set_index("model")
    assert list(res.rows.columns) == pc.COLUMNS
    opus = rows.loc["claude-test-opus"]
    # 2.5e-05 $/token x 1e6 = $25/MTok; 5e-06 -> $5; cache read 5e-07 -> $0.50
    assert opus["price_usd_per_mtok"] == pytest.approx(25.0, rel=REL)
    assert opus["input_price_usd_per_mtok"] == pytest.approx(5.0, rel=REL)
    assert opus["cached_input_price_usd_per_mtok"] == pytest.approx(0.5, rel=REL)
    assert opus["provider"] == "anthropic" and opus["mode"] == "chat"
    assert "litellm_prices_sample.json" in opus["source"] and "claude-test-opus" in opus["source"]
    flash = rows.loc["deepseek/test-flash"]
    assert flash["cached_input_price_usd_per_mtok"] == 0.028  # rounded to 1e-9, no binary noise
    assert math.isnan(rows.loc["test-completion-no-cache", "cached_input_price_usd_per_mtok"])
    assert rows.loc["test-embedding", "price_usd_per_mtok"] == 0.0


def test_sample_spec_unknown_fields_and_non_token_entries_are_ignored():
    res = pc.import_file(FIXTURE)
    assert "sample_spec" not in set(res.rows["model"])
    assert "1024-x-1024/test-image" not in set(res.rows["model"])
    assert res.skipped == 1
    assert len(res.rows) == 4


def test_bad_rows_are_reported_naming_key_and_field():
    res = pc.import_file(FIXTURE)
    assert res.problems == [
        "key 'bad/string-price', field input_cost_per_token: must be a number, got '0.000003'",
        "key 'bad/negative-output', field output_cost_per_token: must be a finite number >= 0, got -2e-06",
        "key 'bad/no-provider', field litellm_provider: missing or not text",
        "key 'bad/not-an-object': entry must be a JSON object, got int",
    ]
    assert not any(m.startswith("bad/") for m in res.rows["model"])


def test_mode_filter():
    res = pc.import_file(FIXTURE, modes=["chat"])
    assert set(res.rows["mode"]) == {"chat"} and len(res.rows) == 2
    assert res.skipped == 3


def test_hostile_files(tmp_path):
    big = tmp_path / "big.json"
    big.write_text("{" + " " * 2048 + "}")
    with pytest.raises(InputError, match=r"big.json: file is 2,050 bytes, over the 1,024-byte limit"):
        pc.import_file(big, max_bytes=1024)
    nan = tmp_path / "nan.json"
    nan.write_text('{"m": {"litellm_provider": "x", "output_cost_per_token": NaN}}')
    with pytest.raises(InputError, match="NaN is not valid JSON"):
        pc.import_file(nan)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match="nested too deeply|not valid JSON"):
        pc.import_file(deep)
    notjson = tmp_path / "prices.csv"
    notjson.write_text("provider,model\nx,y\n")
    with pytest.raises(InputError, match=r"prices.csv: not valid JSON: Expecting value at line 1, column 1"):
        pc.import_file(notjson)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        pc.import_file(binary)
    with pytest.raises(InputError, match="a price catalog is a JSON object"):
        pc.parse([1, 2])
    with pytest.raises(InputError, match="not a regular file"):
        pc.import_file(tmp_path)


def test_hostile_names_and_values(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(
        '{"evil\\u001b[2Jname": {"litellm_provider": "x", "output_cost_per_token": 1e-6},\n'
        ' "=HYPERLINK(\\"http://x\\")": {"litellm_provider": "x", "output_cost_per_token": 1e-6},\n'
        ' "huge": {"litellm_provider": "x", "output_cost_per_token": 1e400},\n'
        ' "boolean": {"litellm_provider": "x", "output_cost_per_token": true},\n'
        ' "dup": {"litellm_provider": "x", "output_cost_per_token": 1e-6},\n'
        ' "dup": {"litellm_provider": "y", "output_cost_per_token": 2e-6}}')
    res = pc.import_file(path)
    problems = "\n".join(res.problems)
    assert "key 'dup': appears more than once; the last entry was used" in problems
    assert "evil?[2Jname" in problems and "\u001b" not in problems
    assert "key 'huge', field output_cost_per_token: must be a finite number >= 0, got inf" in problems
    assert "key 'boolean', field output_cost_per_token: must be a number, got True" in problems
    rows = res.rows.set_index("model")
    assert rows.loc["dup", "provider"] == "y"
    # a formula-looking model name is kept as text and neutralised in CSV output
    from tokencost.render import frame_to_csv
    assert "'=HYPERLINK" in frame_to_csv(res.rows)


def test_cli_table_csv_json_and_exit_code(capsys):
    code, out, err = run_cli(capsys, "prices", "import", FIXTURE)
    assert code == 1  # bad rows make the exit code non-zero; good rows are still printed
    assert "claude-test-opus" in out and "25.00" in out
    assert "key 'bad/string-price', field input_cost_per_token" in err
    assert "imported: 4, skipped: 1" in err and "bad rows: 4" in err
    code, out, _ = run_cli(capsys, "prices", "import", FIXTURE, "--format", "csv", "--mode", "chat")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["model"] for r in rows] == ["claude-test-opus", "deepseek/test-flash"]
    assert float(rows[0]["price_usd_per_mtok"]) == 25.0
    code, out, _ = run_cli(capsys, "prices", "import", FIXTURE, "--format", "json")
    data = json.loads(out)
    assert len(data["rows"]) == 4 and len(data["problems"]) == 4 and data["skipped"] == 1
    assert data["rows"][2]["cached_input_price_usd_per_mtok"] is None


def test_cli_clean_file_exits_zero(tmp_path, capsys):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"sample_spec": {}, "m": {"litellm_provider": "p", "mode": "chat",
                                                         "input_cost_per_token": 3e-6,
                                                         "output_cost_per_token": 1.5e-5}}))
    code, out, err = run_cli(capsys, "prices", "import", path, "--format", "csv")
    assert code == 0
    assert out.splitlines()[1].startswith("p,m,15.0,3.0,,chat,")


def test_cli_missing_file_and_no_action(tmp_path, capsys):
    code, _, err = run_cli(capsys, "prices", "import", tmp_path / "nope.json")
    assert code == 2 and "nope.json: file not found" in err
    code, _, err = run_cli(capsys, "prices")
    assert code == 2 and "import" in err
