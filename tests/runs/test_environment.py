"""The environment a run records (mlengine/runs/environment.py) and the differences a replay warns about."""

from __future__ import annotations

import platform
import shutil
import subprocess
from importlib import metadata

import pytest

from mlengine.runs.environment import (
    compare_environments,
    environment,
    git_root,
    git_state,
    package_versions,
    thread_pools,
)


def test_environment_names_this_python_and_the_installed_stack():
    env = environment()
    assert env["python"] == platform.python_version() and env["machine"] == platform.machine()
    assert env["packages"]["scikit-learn"] == metadata.version("scikit-learn")
    assert "python" not in package_versions()  # it is a key of its own, not a package


def test_thread_pools_report_the_openmp_pool_after_lightgbm_loads():
    import lightgbm  # noqa: F401  (loads its OpenMP runtime)
    import numpy  # noqa: F401

    pools = thread_pools()
    assert pools.get("openmp", 0) >= 1
    assert all(isinstance(n, int) and n >= 0 for n in pools.values())


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_state_gives_the_commit_and_whether_tracked_files_changed(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("1", encoding="utf-8")
    _git(repo, "add", "a.txt")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert git_root(repo / "sub") == repo.resolve()
    assert git_state(repo / "sub") == {"root": str(repo.resolve()), "commit": head, "dirty": False}
    (repo / "new.txt").write_text("untracked files do not count", encoding="utf-8")
    assert git_state(repo)["dirty"] is False
    (repo / "a.txt").write_text("2", encoding="utf-8")
    assert git_state(repo)["dirty"] is True


def test_outside_a_repository_there_is_no_git_state(tmp_path):
    assert git_root(tmp_path / "missing") is None
    if git_root(tmp_path) is None:  # /tmp is not inside a work tree on this machine
        assert git_state(tmp_path) is None


def test_each_difference_is_one_sentence():
    recorded = {"python": "3.11.4", "machine": "x86_64", "cpu_count": 8,
                "packages": {"numpy": "1.26.4", "lightgbm": "4.3.0", "xgboost": "2.0.3"}}
    current = {"python": "3.11.4", "machine": "arm64", "cpu_count": 8,
               "packages": {"numpy": "2.0.0", "lightgbm": "4.3.0", "onnx": "1.16.0"}}
    assert compare_environments(recorded, current) == [
        "machine: x86_64 recorded, arm64 now",
        "package numpy: 1.26.4 recorded, 2.0.0 now",
        "package onnx: not installed recorded, 1.16.0 now",
        "package xgboost: 2.0.3 recorded, not installed now",
    ]
    assert compare_environments(recorded, recorded) == []
