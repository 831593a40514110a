"""Fit AutoGluon-Tabular (medium_quality) on one outer fold; run by the AutoGluon venv's python.

    autogluon_child.py TRAIN.csv TEST.csv TARGET TASK METRIC SECONDS OUT.json
Writes {"pred": [...], "proba": [[...]] or null, "classes": [...]} with probability columns in `classes` order.
"""

from __future__ import annotations

import json
import sys
import tempfile

import pandas as pd
from autogluon.tabular import TabularPredictor

train_csv, test_csv, target, task, metric, seconds, out = sys.argv[1:8]
train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
with tempfile.TemporaryDirectory() as path:
    predictor = TabularPredictor(label=target, problem_type=task, eval_metric=metric, path=path, verbosity=0)
    predictor.fit(train, time_limit=float(seconds), presets="medium_quality")
    if task == "regression":
        result = {"pred": predictor.predict(test).tolist(), "proba": None, "classes": []}
    else:
        proba = predictor.predict_proba(test)
        result = {"pred": predictor.predict(test).tolist(), "proba": proba.to_numpy().tolist(),
                  "classes": [c.item() if hasattr(c, "item") else c for c in proba.columns]}
with open(out, "w") as f:
    json.dump(result, f)
