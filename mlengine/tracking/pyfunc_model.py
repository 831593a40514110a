"""The MLflow pyfunc of an mlengine model: the run directory's verified joblib bundle behind `predict`.

Logged as "models from code" (this file is copied into the MLflow model and run on load: no pickled object), so
it is imported only when MLflow loads the model. `predict` returns a
DataFrame: `prediction`, plus `proba_<class>` columns for classifiers; the data contract checks every request as
in `mlengine predict`, and the sha256 of model.joblib is checked when the model loads.
"""

from typing import Any

import mlflow.models
import mlflow.pyfunc
import pandas as pd

RUN_DIR_ARTIFACT = "run_dir"


class MlengineModel(mlflow.pyfunc.PythonModel):
    """Loads `artifacts/run_dir` with `mlengine.export.loaded.load_model` (sha256 verified)."""

    def load_context(self, context: Any) -> None:
        from mlengine.export.loaded import load_model

        self.model = load_model(context.artifacts[RUN_DIR_ARTIFACT], format="joblib")

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """A DataFrame hint: MLflow validates against the logged signature, not the hint."""
        model = self.model
        out = pd.DataFrame({"prediction": list(model.predict(model_input))})
        if model.task != "regression":
            proba = model.predict_proba(model_input)
            for j, cls in enumerate(model.classes):
                out[f"proba_{cls}"] = proba[:, j]
        return out


mlflow.models.set_model(MlengineModel())
