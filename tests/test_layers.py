"""The import layers in .importlinter hold (the same check `make lint` runs), and a broken one is reported."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_layer_contracts_are_kept():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_a_contract(tmp_path):
    """A copy of the package where the error module imports the runner: lint-imports must refuse it."""
    shutil.copytree(ROOT / "mlengine", tmp_path / "mlengine", symlinks=True)
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    errors = tmp_path / "mlengine" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _upward():\n    from mlengine.runner import run_recipe\n")
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    assert "mlengine.errors is not allowed to import mlengine.runner" in done.stdout
