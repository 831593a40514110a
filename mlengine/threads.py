"""Thread hygiene, applied when the package is imported, before any OpenMP runtime loads.

LightGBM's (and scikit-learn's) OpenMP threads busy-wait between parallel regions. On a machine with anything else
running, that spinning steals the cores the other threads need: a LightGBM fit measured ~6x slower on 2 cores with
one background process, unless `OMP_WAIT_POLICY=PASSIVE` is set before the runtime loads (it is read once, when
libgomp is loaded). So mlengine sets it unless the user already chose a policy; `MLENGINE_OMP_PASSIVE=0` opts out.
Worker processes (trials, sweep jobs) inherit the environment. If an OpenMP library was imported before mlengine
(a notebook that imported lightgbm or sklearn first), the setting comes too late: `late_note()` says so.
"""

from __future__ import annotations

import os
import sys

# modules whose import loads an OpenMP runtime
_OPENMP_USERS = ("lightgbm", "sklearn", "xgboost", "catboost")
_state = {"set_by_mlengine": False, "late": False}


def apply_passive_wait() -> None:
    """Set OMP_WAIT_POLICY=PASSIVE unless the user set a policy or opted out (MLENGINE_OMP_PASSIVE=0)."""
    if "OMP_WAIT_POLICY" in os.environ or os.environ.get("MLENGINE_OMP_PASSIVE", "1") == "0":
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    _state["set_by_mlengine"] = True
    _state["late"] = any(name in sys.modules for name in _OPENMP_USERS)


def late_note() -> str | None:
    """A warning when PASSIVE was set after an OpenMP library had loaded (it then has no effect)."""
    if not _state["late"]:
        return None
    return ("OMP_WAIT_POLICY=PASSIVE was set after lightgbm/scikit-learn were imported, so their OpenMP threads "
            "still busy-wait (slow on a busy machine): import mlengine first, or set OMP_WAIT_POLICY=PASSIVE in the "
            "environment before starting Python.")
