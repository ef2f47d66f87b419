"""No command ever shows a traceback: one corpus of bad inputs through every subcommand.

The subcommands are discovered from ``tokencost.cli.COMMANDS`` (each module's parser,
down to the leaves: ``scenario add``, ``prices import`` ...), and each slot of each
parser is found from its argparse actions (a workbook, a file, a data folder, a number
option, ``--set``, a file to write, a name), so a new subcommand or option is covered
without editing this file. Every other slot keeps a valid value, so the bad one is what
is tested. A run passes when its exit code is 0, 1 or 2 (README: 0 done, 1 problems
found, 2 refused) and no output holds "Traceback" or a Python warning; an error must be
one line (``tokencost CMD: error: ...``, or argparse's usage line and one error line).
Runs go through ``tokencost.cli.main`` in-process; a few through the installed
``tokencost`` executable. The counts are printed at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tokencost import cli
from tokencost.inputs.datasets import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tokencost.xlsm"
CATALOG = ROOT / "tests" / "data" / "litellm_prices_sample.json"
INPUT_FILES = ["hardware.csv", "cost_components.csv", "models.csv", "prices.csv",
               "subscriptions.csv", "variants.csv"]
#: reference files and the command line that reads each (a --data folder may replace them)
REFERENCE_FILES = {"rental_prices.csv": ["rent-vs-own"], "tco_reference.csv": ["rent-vs-own"],
                   "token_mix.csv": ["token-mix"], "sensitivity_ranges.csv": ["sensitivity"],
                   "distributions.csv": ["sensitivity", "--montecarlo", "10"]}
#: bad number option values: argparse refuses these at once, for every option ...
UNREADABLE_NUMBERS = ["abc", "", "inf", "nan"]
#: ... these reach the command (slower): each option gets one, in turn
IMPLAUSIBLE_NUMBERS = ["1e308", "1e-320", "-1", "0.5"]
#: bad --set values; the first command with --set gets them all, the others a share each
BAD_SETS = [("pue=abc",), ("pue=inf",), ("pue=nan",), ("tokens_per_s=1e-320",),
            ("infra_usd_per_month=1e308", "staff_usd_per_month=1e308"), ("gpus=0.5",),
            ("batch_size=0.5",), ("batch_size=1e300",), ("utilization=2",), ("nosuch=1",),
            ("pue",), ("=1",), ("gpu=H100",)]
BAD_NAMES = ["", " ", "no such/name", "=1+1", "a" * 300]
EXIT_CODES = {0, 1, 2}


# --------------------------------------------------------------------------- the corpus

def _csv_variants(good: bytes) -> dict[str, bytes]:
    text = good.decode("utf-8")
    header = text.splitlines()[0]
    row = text.splitlines()[1]
    return {
        "empty": b"",
        "header only": (header + "\n").encode(),
        "unclosed quote": (header + "\n" + row.replace(",", ',"', 1) + "\n").encode(),
        "ragged row": (text + row + ",extra,fields\n").encode(),
        "cp1252": text.replace(",", ",é€", 1).encode("cp1252"),
        "neither utf-8 nor cp1252": b"\x81\x8d\x8f" + text.encode(),
        "bom": b"\xef\xbb\xbf" + text.encode(),
    }


@dataclass
class Corpus:
    tmp: Path
    files: dict[str, Path] = field(default_factory=dict)        # bad workbook / input files
    json_files: dict[str, Path] = field(default_factory=dict)
    csv_files: dict[str, Path] = field(default_factory=dict)
    folders: dict[tuple[str, str], Path] = field(default_factory=dict)   # (file, kind) -> data dir
    targets: dict[str, Path] = field(default_factory=dict)      # outputs that cannot be written
    book: Path = None
    perturbed_book: Path = None


def build_corpus(tmp: Path) -> Corpus:
    c = Corpus(tmp)
    c.book = tmp / "book.xlsm"
    shutil.copyfile(BOOK, c.book)
    bad = tmp / "bad"
    bad.mkdir()
    c.files = {"missing file": bad / "missing.xlsm", "folder": bad / "folder.xlsm",
               "empty file": bad / "empty.xlsm", "not a workbook": bad / "text.xlsm",
               "truncated zip": bad / "truncated.xlsm", "csv named xlsm": bad / "csv.xlsm",
               "cp1252 csv": bad / "cp1252.csv"}
    c.files["folder"].mkdir()
    c.files["empty file"].write_bytes(b"")
    c.files["not a workbook"].write_text("hello, I am not a workbook\n")
    c.files["truncated zip"].write_bytes(BOOK.read_bytes()[:5000])
    c.files["csv named xlsm"].write_bytes((DATA_DIR / "hardware.csv").read_bytes())
    c.files["cp1252 csv"].write_bytes(_csv_variants((DATA_DIR / "prices.csv").read_bytes())["cp1252"])
    c.json_files = {"empty json": bad / "empty.json", "invalid json": bad / "invalid.json",
                    "json with NaN": bad / "nan.json", "json list": bad / "list.json",
                    "json bad price": bad / "price.json"}
    c.json_files["empty json"].write_bytes(b"")
    c.json_files["invalid json"].write_text('{"m": {"output_cost_per_token": 1e-6,')
    c.json_files["json with NaN"].write_text('{"m": {"output_cost_per_token": NaN}}')
    c.json_files["json list"].write_text("[1, 2, 3]")
    c.json_files["json bad price"].write_text(
        '{"m": {"litellm_provider": "x", "output_cost_per_token": 1e308}}')
    for kind, content in _csv_variants((DATA_DIR / "sensitivity_ranges.csv").read_bytes()).items():
        c.csv_files[f"ranges {kind}"] = bad / f"ranges-{kind.replace(' ', '-')}.csv"
        c.csv_files[f"ranges {kind}"].write_bytes(content)
    c.csv_files["ranges folder"] = c.files["folder"]
    c.csv_files["ranges missing"] = c.files["missing file"]
    for name in INPUT_FILES + list(REFERENCE_FILES):
        for kind, content in list(_csv_variants((DATA_DIR / name).read_bytes()).items()) + [
                ("folder", None), ("missing", None)]:
            if name != "variants.csv" and name in INPUT_FILES and kind == "missing":
                continue   # a missing input table is its own case below
            folder = tmp / "data" / f"{name}-{kind.replace(' ', '-')}"
            shutil.copytree(DATA_DIR, folder)
            (folder / name).unlink()
            if kind == "folder":
                (folder / name).mkdir()
            elif content is not None:
                (folder / name).write_bytes(content)
            c.folders[(name, kind)] = folder
    c.folders[("hardware.csv", "missing")] = tmp / "data" / "no-hardware"
    shutil.copytree(DATA_DIR, c.folders[("hardware.csv", "missing")])
    (c.folders[("hardware.csv", "missing")] / "hardware.csv").unlink()
    plain = tmp / "plain.txt"
    plain.write_text("x")
    c.targets = {"a folder": c.files["folder"], "under a file": plain / "out", "a file": plain}
    # a workbook an analyst got wrong: a number typed as text, a padded name
    from openpyxl import load_workbook
    from workbook_helpers import set_table_value
    wb = load_workbook(BOOK, keep_vba=True)
    set_table_value(wb, "Models", "model", "dense-70b", "tokens_per_s", "700")
    set_table_value(wb, "Models", "model", "moe-284b-a13b", "gpu", " H100")
    set_table_value(wb, "CostComponents", "gpu", "H100", "hours_per_month", 1e-320)
    c.perturbed_book = tmp / "perturbed.xlsm"
    wb.save(c.perturbed_book)
    return c


# --------------------------------------------------------------------------- the commands

def leaf_parsers():
    """``(argv prefix, parser)`` of every command the CLI has, parents included."""
    parser = cli.build_parser()
    out = []

    def walk(p, prefix):
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if prefix:
            out.append((prefix, p))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, prefix + [name])

    walk(parser, [])
    return out


def _is_writer(parser) -> bool:
    dests = {a.dest for a in parser._actions}
    return bool(dests & {"output", "out", "no_backup"}) or parser.prog.endswith(" build")


def _baseline_value(action, corpus: Corpus, prefix):
    """A valid value for one slot, so that another slot's bad value is what is tested."""
    dest = action.dest
    if dest in ("book", "workbook"):
        return str(corpus.book)
    if dest == "file":
        return str(CATALOG)
    if dest == "out":
        return str(corpus.tmp / "out" / "export.xlsx")
    if dest == "output":
        return str(corpus.tmp / "out" / "written.xlsm")
    if dest == "gpu":
        return "H100"
    if dest in ("model", "cost_basis"):
        return "dense-70b"
    if dest == "name":
        return "subsidized_power" if "remove" in prefix else "p5"
    typename = getattr(action.type, "__name__", "")
    if typename in ("number", "count", "float", "int"):
        return "1"
    return "x"


def _slot_kind(action) -> str:
    dest, typename = action.dest, getattr(action.type, "__name__", "")
    if dest in ("book", "workbook"):
        return "book"
    if dest == "file":
        return "json"
    if dest == "data":
        return "data"
    if dest in ("ranges", "distributions"):
        return "csv"
    if dest == "overrides":
        return "set"
    if dest in ("output", "out", "plot", "pdf", "csv_dir", "markdown"):
        return "target"
    if typename in ("number", "count", "float", "int"):
        return "number"
    if action.nargs in (None, 1) and action.option_strings and action.type is None \
            and not isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction,
                                        argparse._StoreConstAction, argparse._HelpAction,
                                        argparse._VersionAction, argparse._AppendAction)) \
            and not action.choices:
        return "name"
    return ""


def command_runs(corpus: Corpus):
    """``(label, argv, writer)`` for every bad value of every slot of every command."""
    global DATA_COMMANDS
    DATA_COMMANDS = sum(any(a.dest == "data" for a in p._actions) for _, p in leaf_parsers())
    _DATA_COMMANDS.clear(), _SET_COMMANDS.clear()
    _TURN[0] = 0
    runs = []
    for prefix, parser in leaf_parsers():
        if any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            runs.append((f"{' '.join(prefix)} without an action", prefix, False))
            continue
        actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
        required = [a for a in actions if a.required or (not a.option_strings and a.nargs is None)]
        writer = _is_writer(parser)

        def argv_with(slot=None, value=None, extra=()):
            argv = list(prefix)
            for a in actions:
                if a is slot:
                    continue
                # an --output is always given: never a default place (build's is the repo root)
                if a in required or a.dest == "output":
                    v = _baseline_value(a, corpus, prefix)
                    argv += [v] if not a.option_strings else [a.option_strings[0], v]
            if slot is not None:
                argv += [value] if not slot.option_strings else [slot.option_strings[0], value]
            return argv + list(extra)

        name = " ".join(prefix)
        runs.append((f"{name} --nosuch-option", argv_with(extra=["--nosuch-option"]), writer))
        if not writer:   # the valid run itself, in one output format (each format in turn)
            fmt = next((a for a in actions if a.dest == "format"), None)
            f = fmt.choices[len(runs) % len(fmt.choices)] if fmt else None
            runs.append((f"{name} valid {f or ''}",
                         argv_with(extra=["--format", f] if f else []), writer))
            book = next((a for a in actions if a.dest == "book"), None)
            if book is not None:
                runs.append((f"{name} perturbed book",
                             argv_with(book, str(corpus.perturbed_book)), writer))
        for a in actions:
            kind = _slot_kind(a)
            values = {
                "book": {k: str(p) for k, p in corpus.files.items()},
                "json": {k: str(p) for k, p in {**corpus.files, **corpus.json_files}.items()},
                "csv": {k: str(p) for k, p in corpus.csv_files.items()},
                "set": _sets_for(prefix),
                # a folder is right for --csv DIR; a plain file is bad only there and for --plot
                "target": {k: str(p) for k, p in corpus.targets.items()
                           if (k != "a folder" or a.dest != "csv_dir")
                           and (k != "a file" or a.dest in ("csv_dir", "plot"))},
                "number": {n or "(empty)": n for n in UNREADABLE_NUMBERS + _implausible()},
                "name": {repr(n): n for n in BAD_NAMES},
            }.get(kind, {})
            if kind == "data":
                values = _data_folders_for(prefix, corpus)
                if writer:   # a valid folder (a BOM is fine) would be a full, slow build
                    values = {k: v for k, v in values.items() if not k.endswith(" bom")}
            for label, value in values.items():
                extra = []
                if isinstance(value, tuple):   # (value, more arguments)
                    value, extra = value
                argv = argv_with(a, value, extra)
                runs.append((f"{name} {a.option_strings[0] if a.option_strings else a.dest}="
                             f"{label}", argv, writer))
    return runs


DATA_COMMANDS = 1   # how many commands take --data (set by command_runs)
_DATA_COMMANDS: list = []
_SET_COMMANDS: list = []
_TURN = [0]


def _implausible() -> list:
    _TURN[0] += 1
    return [IMPLAUSIBLE_NUMBERS[_TURN[0] % len(IMPLAUSIBLE_NUMBERS)]]


def _sets_for(prefix) -> dict:
    """Every bad --set value for the first command that takes --set, a share for each other."""
    if prefix not in _SET_COMMANDS:
        _SET_COMMANDS.append(prefix)
    i = _SET_COMMANDS.index(prefix)
    chosen = BAD_SETS if i == 0 else BAD_SETS[i % 4::4]
    return {" ".join(items): (items[0], [x for item in items[1:] for x in ("--set", item)])
            for items in chosen}


def _data_folders_for(prefix, corpus: Corpus) -> dict:
    """Each bad CSV kind of each input table, for one of the commands that take --data in
    turn (every command gets some, every file every kind), plus the reference files for
    the commands that read them."""
    if prefix not in _DATA_COMMANDS:
        _DATA_COMMANDS.append(prefix)
    i = _DATA_COMMANDS.index(prefix)
    out = {}
    inputs = [(key, folder) for key, folder in corpus.folders.items()
              if key[0] not in REFERENCE_FILES]
    for j, ((name, kind), folder) in enumerate(inputs):
        if j % DATA_COMMANDS == i % DATA_COMMANDS or (i == 0 and j % 3 == 0):
            out[f"{name} {kind}"] = str(folder)
    for (name, kind), folder in corpus.folders.items():
        reader = REFERENCE_FILES.get(name)
        if reader and prefix == reader[:1]:
            out[f"{name} {kind}"] = (str(folder), reader[1:])
    return out


# --------------------------------------------------------------------------- running

@dataclass
class Outcome:
    label: str
    argv: list
    code: int
    out: str
    err: str


def run_in_process(label, argv) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("error")   # a warning would reach the user: fail
        try:
            code = cli.main(argv)
        except SystemExit as exit_:   # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException:  # noqa: BLE001 - anything else is a traceback
            import traceback
            return Outcome(label, argv, -1, out.getvalue(),
                           err.getvalue() + "Traceback (in-process)\n" + traceback.format_exc())
    return Outcome(label, argv, code, out.getvalue(), err.getvalue())


def problems_of(o: Outcome) -> list[str]:
    text = o.out + o.err
    found = []
    if "Traceback" in text:
        found.append("traceback")
    if "Warning" in o.err:
        found.append("a warning")
    if o.code not in EXIT_CODES:
        found.append(f"exit code {o.code}")
    if o.code == 2:
        errors = [line for line in o.err.splitlines() if ": error: " in line]
        if len(errors) != 1 and "usage:" not in o.out + o.err:
            found.append(f"{len(errors)} error lines")
        for line in errors:
            if len(line) > 2000:
                found.append("an error line over 2,000 characters")
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_every_command_over_the_corpus(corpus, capsys):
    runs = command_runs(corpus)
    modules = {importlib.import_module(f"tokencost.cli.{m}") for m in cli.COMMANDS}
    covered = {r[1][0] for r in runs}
    for module in modules:   # every module registers commands the corpus reaches
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub)
        assert set(sub.choices) <= covered, module.__name__
    outcomes = []
    for label, argv, writer in runs:
        if writer:   # a write must never happen to the shared book: give it its own copy
            own = corpus.tmp / "own.xlsm"
            shutil.copyfile(BOOK, own)
            argv = [str(own) if v == str(corpus.book) else v for v in argv]
        outcomes.append(run_in_process(label, argv))
    bad = [(o.label, problems_of(o), o.argv, (o.out + o.err)[-600:]) for o in outcomes
           if problems_of(o)]
    errors = [o for o in outcomes if o.code in (1, 2)]
    leaves = {" ".join(prefix) for prefix, parser in leaf_parsers()
              if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)}
    with capsys.disabled():
        print(f"\ncorpus: {len(outcomes)} inputs tried over {len(leaves)} subcommands, "
              f"{len(errors)} clear errors (exit 1 or 2, one line), "
              f"{len(outcomes) - len(errors) - len(bad)} accepted (exit 0), "
              f"{sum('traceback' in p for _, p, _, _ in bad)} tracebacks")
    assert bad == [], bad[:5]
    # the corpus really exercises refusals: every bad-file run is refused
    refused = {o.label for o in errors}
    for o in outcomes:
        if any(f"={k}" in o.label for k in ("missing file", "folder", "empty file",
                                              "not a workbook", "truncated zip")):
            assert o.label in refused, o.label


@pytest.mark.parametrize("argv", [
    ["report", "--set", "pue=inf"],
    ["report", "--data", "{folder}"],
    ["check", "{missing}"],
    ["prices", "import", "{empty}"],
    ["build", "--output", "{folder}"],
])
def test_the_installed_executable_says_it_in_one_line(corpus, argv):
    exe = Path(sys.executable).with_name("tokencost")
    args = [a.format(folder=corpus.folders[("models.csv", "unclosed quote")] if "--data" in argv
                     else corpus.files["folder"], missing=corpus.files["missing file"],
                     empty=corpus.json_files["empty json"]) for a in argv]
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"tokencost {argv[0]}")
