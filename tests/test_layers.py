"""The layers of the code (README, "Layout"; the contract in pyproject.toml's [tool.importlinter]) hold: the
kept import checker passes with no list of exceptions, and no module imports itself round a cycle."""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_the_contract_has_no_exceptions():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    contract = text[text.index("[tool.importlinter]"):text.index("[tool.pytest.ini_options]")]
    assert "ignore_imports" not in contract and "unmatched_ignore" not in contract
