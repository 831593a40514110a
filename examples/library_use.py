"""Library use: run a recipe from Python, read its metrics, load the model and predict on raw rows.

    python examples/library_use.py [RUNS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import mlengine

HERE = Path(__file__).resolve().parent


def main(runs_dir: str = "runs") -> dict:
    recipe = mlengine.load_recipe(HERE.parent / "recipes" / "titanic.yaml", overrides=["cv.folds=3"])
    print(mlengine.compile_recipe(recipe).to_text())

    result = mlengine.run(recipe, runs_dir=runs_dir)
    print("holdout:", {k: round(v, 4) for k, v in result.metrics["holdout"].items()})
    print("run directory:", result.run_dir)

    model = mlengine.load_model(result.run_dir)
    passenger = {"pclass": 3, "sex": "male", "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "S",
                 "deck": None, "alone": False}
    label = model.predict([passenger])[0]
    proba = model.predict_proba([passenger])[0]
    print(f"prediction for one passenger: survived={label} (p={proba[model.classes.index(1)]:.3f})")
    return {"result": result, "label": label, "proba": proba}


if __name__ == "__main__":
    main(*sys.argv[1:])
