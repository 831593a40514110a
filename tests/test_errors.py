"""The error family: exit codes by kind (1 internal, 2 user, 3 gate), every problem in one message, did-you-mean."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlengine.errors import (
    DataError,
    ExportError,
    ModelLoadError,
    Problem,
    QualityGateError,
    RecipeError,
    UserError,
    did_you_mean,
    unknown_name,
)


def test_exit_codes_follow_the_kind_of_error():
    assert [e.exit_code for e in (DataError("x"), ModelLoadError("x"), RecipeError("x"))] == [2, 2, 2]
    assert ExportError("x").exit_code == 1 and QualityGateError("x").exit_code == 3
    assert not isinstance(ExportError("x"), UserError)


def test_a_recipe_error_lists_every_problem_with_its_key():
    one = RecipeError([Problem("cv.folds", "must be >= 2")], source="r.yaml")
    assert str(one) == "Invalid recipe in r.yaml: cv.folds: must be >= 2"
    two = RecipeError([Problem("a", "bad"), Problem("b.c", "worse")])
    assert str(two).splitlines() == ["Invalid recipe: 2 problems.", "  - a: bad", "  - b.c: worse"]


def test_unknown_names_suggest_the_closest_and_list_what_is_allowed():
    assert did_you_mean("lightgmb", ["lightgbm", "xgboost"]) == " Did you mean 'lightgbm'?"
    assert did_you_mean("zzz", ["lightgbm"]) == ""
    assert unknown_name("model", "lightgmb", ["xgboost", "lightgbm"]) == (
        "unknown model 'lightgmb'. Did you mean 'lightgbm'? Allowed: lightgbm, xgboost.")



_CALL_BACK = """
import ctypes, ctypes.util, sys
from mlengine.errors import (RunInterrupted, clear_interrupt, hush_lost_interrupts, raise_if_interrupted,
                             request_interrupt, unhush_lost_interrupts)

def call_back_raising(exc):
    # libc's qsort calling a Python comparison: an exception there cannot propagate, Python reports it through
    # sys.unraisablehook, as with XGBoost's data iterator
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
    def compare(a, b):
        raise exc
    libc.qsort((ctypes.c_int * 2)(2, 1), 2, ctypes.sizeof(ctypes.c_int), compare_type(compare))

before = sys.unraisablehook
if sys.argv[1] == "hushed":
    hush_lost_interrupts()
call_back_raising(request_interrupt(RunInterrupted("interrupted by SIGTERM")))
try:
    raise_if_interrupted()
except RunInterrupted:
    print("raised again")
call_back_raising(ValueError("a real bug in a call back"))
unhush_lost_interrupts()
clear_interrupt()
print("restored" if sys.unraisablehook is before else "not restored")
"""


@pytest.mark.parametrize("mode", ["hushed", "plain"])
def test_a_remembered_interrupt_dropped_inside_a_c_call_back_prints_no_traceback(mode):
    """A signal landing in a C call back (the CI flake: SIGTERM inside XGBoost's data iterator) printed
    "Exception ignored ... Traceback" on stderr. It is remembered and raised again at the next check point, so
    while a run catches signals it is hushed; any other error in a call back still prints. "plain" shows the
    traceback the hush removes, so the test cannot pass for want of a call back."""
    done = subprocess.run([sys.executable, "-c", _CALL_BACK, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["raised", "again", "restored"]
    assert "a real bug in a call back" in done.stderr
    assert ("interrupted by SIGTERM" in done.stderr) is (mode == "plain")
