"""Recipe and table builders shared by the data-contract, PII and profile tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import DATA, TITANIC

FAST = ["cv.kind=none", "report.html=false", "report.explain=false"]  # what these tests do not look at
DROP_LINE = "  drop: [alive, who, adult_male, class, embark_town]\n"
SCHEMA = """  schema:
    age: {ge: 0, le: 100, description: age in years}
    fare: {le: 520}
    sex: {isin: [male, female]}
    pclass: {dtype: int, isin: [1, 2, 3]}
"""


def titanic_with(data_keys: str, csv: str = "titanic.csv") -> str:
    """The TITANIC test recipe with extra keys in its data section."""
    return TITANIC.replace(DROP_LINE, DROP_LINE + data_keys).replace("titanic.csv", csv)


def _people(tmp_path) -> pd.DataFrame:
    """The Titanic passengers with made-up e-mail addresses and phone numbers added."""
    df = pd.read_csv(DATA / "titanic.csv")
    rng = np.random.default_rng(3)
    df["email"] = [f"passenger{i}@example{i % 7}.com" for i in range(len(df))]
    df["contact"] = [f"+44 20 {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}" for _ in range(len(df))]
    (tmp_path / "data").mkdir(exist_ok=True)
    df.to_csv(tmp_path / "data" / "people.csv", index=False)
    return df
