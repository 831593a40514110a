"""OMP_WAIT_POLICY=PASSIVE by default, set when mlengine is imported, unless the user chose a policy or opted out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _policy_after_import(env_extra: dict[str, str], pre_import: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "MLENGINE_OMP_PASSIVE")}
    env.update(env_extra)
    code = (f"{pre_import}import os, mlengine\nfrom mlengine.threads import late_note\n"
            "print(os.environ.get('OMP_WAIT_POLICY'), bool(late_note()))")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


@pytest.mark.parametrize("env,expected", [
    ({}, "PASSIVE False"),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE False"),  # the user's choice is kept
    ({"MLENGINE_OMP_PASSIVE": "0"}, "None False"),  # opted out
])
def test_the_wait_policy_after_import(env, expected):
    assert _policy_after_import(env) == expected


def test_importing_an_openmp_library_first_is_reported():
    assert _policy_after_import({}, pre_import="import sklearn\n") == "PASSIVE True"


def test_a_run_started_after_a_late_import_warns(monkeypatch, write_recipe, runs_dir, capsys):
    from mlengine import threads
    from mlengine.api import run

    from tests.conftest import TITANIC

    monkeypatch.setitem(threads._state, "late", True)
    run(write_recipe(TITANIC), runs_dir=runs_dir, progress=True)
    assert "OMP_WAIT_POLICY=PASSIVE was set after lightgbm/scikit-learn were imported" in capsys.readouterr().err
