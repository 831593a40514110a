"""Every private scikit-learn API mlengine uses, in one place, with the versions it was checked against.

Calibration replays scikit-learn's own code path (its calibrator fitting and the calibrated classifier) on
out-of-fold scores rather than copying it; those functions are private, so a scikit-learn release may move or
change them. `tests/test_compat.py` fails first when that happens: it checks each name below exists and behaves
as used here, on the installed version, and that the version is inside `TESTED` (pyproject's range).
"""

from __future__ import annotations

from typing import Any

TESTED = ((1, 6), (1, 10))  # scikit-learn >= 1.6, < 1.10 (pyproject.toml)
PRIVATE = ("sklearn.calibration:_CalibratedClassifier", "sklearn.calibration:_fit_calibrator",
           "sklearn.utils._response:_get_response_values", "sklearn.utils._array_api:get_namespace",
           "sklearn.utils._param_validation:validate_parameter_constraints",
           "sklearn.utils._param_validation:HasMethods")


def get_response_values(estimator: Any, X: Any, methods: Any) -> tuple[Any, Any, str]:
    """(scores, positive label, method used): the first of `methods` the estimator has."""
    from sklearn.utils._response import _get_response_values

    return _get_response_values(estimator, X, methods, return_response_method_used=True)


def calibrated_classifier(estimator: Any, calibrators: Any, classes: Any, method: str) -> Any:
    from sklearn.calibration import _CalibratedClassifier

    return _CalibratedClassifier(estimator, calibrators, classes=classes, method=method)


def fit_calibrator(estimator: Any, scores: Any, y: Any, classes: Any, method: str) -> Any:
    """scikit-learn's own calibrator fit (what CalibratedClassifierCV does per fold)."""
    from sklearn.calibration import _fit_calibrator
    from sklearn.utils._array_api import get_namespace

    xp, _ = get_namespace(scores)
    return _fit_calibrator(estimator, scores, y, classes, method, xp=xp)


def check_estimator_params(section: str, estimator_cls: Any, params: dict[str, Any],
                           names: dict[str, str] | None = None) -> list[Any]:
    """Recipe values checked against the estimator's own `_parameter_constraints` (scikit-learn's, which
    imbalanced-learn shares), one Problem per bad key, in scikit-learn's words ("The 'k_neighbors' parameter of
    SMOTE must be an int in the range [1, inf). Got 0 instead."). Constraints a YAML value can never meet (objects
    with methods, callables) are left out so the message lists only what a recipe can write. `names` maps a
    recipe key to the estimator's parameter where they differ (select.n_features -> n_features_to_select)."""
    from sklearn.utils._param_validation import (
        HasMethods,
        InvalidParameterError,
        validate_parameter_constraints,
    )

    from mlengine.errors import Problem

    constraints = getattr(estimator_cls, "_parameter_constraints", None) or {}
    problems = []
    for key, value in params.items():
        param = (names or {}).get(key, key)
        allowed = constraints.get(param)
        if not isinstance(allowed, list):
            continue
        writable = [c for c in allowed if not isinstance(c, HasMethods) and c is not callable] or allowed
        try:
            validate_parameter_constraints({param: writable}, {param: value}, caller_name=estimator_cls.__name__)
        except InvalidParameterError as exc:
            problems.append(Problem(f"{section}.{key}", str(exc)))
    return problems
