"""The code passes the linter configured in pyproject.toml ([tool.ruff])."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    run = _ruff("python", "tests", "benchmarks")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_runs_with_the_project_configuration(tmp_path):
    """The configured rules are live: an unused import in a file under the project fails."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    run = _ruff("--config", str(ROOT / "pyproject.toml"), str(bad))
    assert run.returncode == 1 and "F401" in run.stdout
