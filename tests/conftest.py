"""Shared fixtures: paths to the bundled data and recipes, and an in-process CLI runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
RECIPES = ROOT / "recipes"


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns (exit_code, stdout, stderr)."""
    from mlengine.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def write_recipe(tmp_path: Path):
    """Write a recipe YAML into tmp_path (with the bundled data copied beside it) and return its path."""
    data_dir = tmp_path / "data"

    def write(text: str, name: str = "recipe.yaml", files: tuple[str, ...] = ("titanic.csv",)) -> Path:
        data_dir.mkdir(exist_ok=True)
        for f in files:
            if not (data_dir / f).exists():
                shutil.copy(DATA / f, data_dir / f)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


TITANIC = """
name: t
seed: 1
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model:
  name: lightgbm
  params: {n_estimators: 30}
cv: {folds: 3}
"""


def titanic_run(root: Path, text: str) -> Path:
    """A real run of recipe `text` over the bundled titanic data, in `root` (for module- or session-scoped
    fixtures of the tests that serve, package or monitor a trained model)."""
    import os

    from mlengine.api import load_recipe
    from mlengine.runner import run_recipe

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    (root / "data").mkdir(exist_ok=True)
    shutil.copy(DATA / "titanic.csv", root / "data" / "titanic.csv")
    (root / "r.yaml").write_text(text, encoding="utf-8")
    return Path(run_recipe(load_recipe(root / "r.yaml"), runs_dir=root / "runs").run_dir)



@pytest.hookimpl(trylast=True)  # after deselection (-k, -m) and after pytest-xdist's own hook
def pytest_collection_modifyitems(config, items):
    """`--dist loadgroup` (make test, make test-fast): one xdist worker per group, each module a group of its own.

    pytest-xdist 3.8 puts a test in its `xdist_group` by appending `@<group>` to `item._nodeid`, an attribute pytest
    9 no longer reads (its node id lives in `item._id`), so the marks did nothing: the Ray-cluster tests were spread
    over both workers (each started its own Ray head), and since an ungrouped test is a unit of its own, a module's
    tests alternated between the workers and each worker computed the module's module-scoped fixtures (trained
    runs) again. Here each test gets its group suffix where pytest reads it: its `xdist_group`, else its module."""
    if not getattr(config.option, "loadgroup", False):  # set on the workers of --dist loadgroup only
        return
    from _pytest.nodeid import NodeId

    for item in items:
        if "@" in item.nodeid:  # a pytest-xdist that works with this pytest already did it
            continue
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names) or item.module.__name__}")
