"""`mlengine.export.predict`: reading and writing CSV/Parquet tables, `predict_file` over a run folder built from
a pipeline fitted on real titanic/penguins/taxi rows (output columns, ids, probabilities, ignored columns, notes,
chunked path) and the errors for bad files, a missing column and an output that would overwrite the input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError, UserError
from mlengine.export.joblib_bundle import read_bundle, write_bundle
from mlengine.export.loaded import load_model
from mlengine.export.predict import (
    PredictResult,
    missing_columns_error,
    output_frame,
    output_prefix,
    predict_file,
    read_table,
    write_table,
)

from tests.conftest import DATA
from tests.export_helpers import run_folder


@pytest.fixture(scope="module")
def titanic(tmp_path_factory):
    return run_folder(tmp_path_factory.mktemp("titanic"), id_column="pid")


@pytest.fixture(scope="module")
def rows():
    """40 raw titanic rows (the CSV as a user has it, extra columns included) with a pid column first."""
    raw = pd.read_csv(DATA / "titanic.csv").iloc[300:340].reset_index(drop=True)
    raw.insert(0, "pid", [f"P{i:03d}" for i in range(len(raw))])
    return raw


def test_read_table_reads_csv_and_parquet(tmp_path, rows):
    rows.to_csv(tmp_path / "a.csv", index=False)
    rows.to_parquet(tmp_path / "a.parquet", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.csv"), rows)
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.parquet"), rows)


def test_read_table_refuses_empty_headless_unknown_and_missing_files(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is empty: no header and no rows"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="has a header but no rows; nothing to predict"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="could not be read as parquet"):
        read_table(tmp_path / "bad.parquet")
    with pytest.raises(UserError, match=r"unknown file type '\.txt'; allowed: \.csv, \.parquet, \.pq"):
        read_table(tmp_path / "x.txt")
    with pytest.raises(UserError, match="does not exist"):
        read_table(tmp_path / "missing.csv")


def test_write_table_creates_folders_and_refuses_unknown_suffixes(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path = write_table(frame, tmp_path / "deep" / "out.pq")
    assert path == tmp_path / "deep" / "out.pq"
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert write_table(frame, tmp_path / "out.csv").read_text(encoding="utf-8") == "a,b\n1,x\n2,y\n"
    with pytest.raises(UserError, match=r"--output .*unknown file type '\.json'"):
        write_table(frame, tmp_path / "out.json")


def test_predict_file_writes_ids_labels_and_probabilities(titanic, rows, tmp_path):
    run_dir, _, pipe = titanic
    rows.to_csv(tmp_path / "in.csv", index=False)
    result = predict_file(run_dir, tmp_path / "in.csv", tmp_path / "out.csv", format="joblib", proba=True)
    assert isinstance(result, PredictResult) and result.rows == 40 and result.format == "joblib"
    assert result.output == tmp_path / "out.csv" and result.notes == [] and result.contract is None
    assert result.ignored_columns == ["survived", "class", "who", "adult_male", "embark_town", "alive"]
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["pid", "prediction", "proba_0", "proba_1"]
    assert out["pid"].tolist() == rows["pid"].tolist()
    features = rows[list(read_bundle(run_dir)["inputs"][i]["name"] for i in range(9))]
    assert out["prediction"].tolist() == pipe.predict(features).tolist()
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].to_numpy(), pipe.predict_proba(features), rtol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temporary file left


def test_progress_is_called_once_with_the_row_count(titanic, rows, tmp_path):
    calls = []
    rows.to_parquet(tmp_path / "in.parquet", index=False)
    predict_file(titanic[0], tmp_path / "in.parquet", tmp_path / "out.parquet",
                 progress=lambda n, frac: calls.append((n, frac)))
    assert calls == [(40, 1.0)]
    assert list(pd.read_parquet(tmp_path / "out.parquet").columns) == ["pid", "prediction"]


def test_a_file_without_the_id_column_is_predicted_in_file_order_with_a_note(titanic, rows, tmp_path):
    rows.drop(columns=["pid"]).to_csv(tmp_path / "in.csv", index=False)
    result = predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "out.csv")
    assert result.notes == ["the id column 'pid' is not in DATA; rows are in file order"]
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == ["prediction"]


def test_the_chunked_path_gives_the_same_file(titanic, rows, tmp_path):
    rows.to_csv(tmp_path / "in.csv", index=False)
    whole = predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "whole.csv", proba=True)
    chunked = predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "chunked.csv", proba=True, chunk_rows=7)
    assert chunked.rows == whole.rows == 40 and chunked.ignored_columns == whole.ignored_columns
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_a_missing_column_is_named_with_a_suggestion(titanic, rows, tmp_path):
    rows.rename(columns={"fare": "Fare"}).drop(columns=["deck"]).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match=r"DATA is missing 2 column\(s\) the model needs: fare, deck\. "
                                        r"Did you mean 'Fare'\? Required: pclass, "):
        predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    err = missing_columns_error(["a", "b"], ["a"], ["zzz"])
    assert str(err) == "DATA is missing 1 column(s) the model needs: b. Required: a, b."


def test_the_output_may_not_be_the_input_or_an_unknown_type(titanic, rows, tmp_path):
    rows.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(UserError, match="is the input file DATA: writing it would replace the rows"):
        predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "in.csv")
    with pytest.raises(UserError, match=r"--output .*unknown file type '\.xlsx'"):
        predict_file(titanic[0], tmp_path / "in.csv", tmp_path / "out.xlsx")
    with pytest.raises(UserError, match="DATA .* does not exist"):
        predict_file(titanic[0], tmp_path / "nope.csv", tmp_path / "out.csv", chunk_rows=10)


def test_an_id_column_named_like_an_output_prefixes_the_outputs(titanic, tmp_path, rows):
    run_dir = Path(shutil.copytree(titanic[0], tmp_path / "run"))
    bundle = read_bundle(run_dir)
    bundle["id_column"] = "prediction"
    write_bundle(run_dir, bundle)
    model = load_model(run_dir)
    assert output_prefix(model, "prediction") == "mlengine_" and output_prefix(model, "proba_1") == "mlengine_"
    assert output_prefix(model, "pid") == "" and output_prefix(model, None) == ""
    frame = rows.rename(columns={"pid": "prediction"})
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = predict_file(run_dir, tmp_path / "in.csv", tmp_path / "out.csv", proba=True)
    assert any("outputs are prefixed mlengine_" in n for n in result.notes)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["prediction", "mlengine_prediction", "mlengine_proba_0", "mlengine_proba_1"]
    assert out["prediction"].tolist() == rows["pid"].tolist()


def test_string_classes_come_back_as_strings(tmp_path):
    run_dir, data, pipe = run_folder(tmp_path / "run", "penguins.yaml", ("model.n_jobs=1",))
    model = load_model(run_dir)
    frame = data.X.iloc[300:320]
    out = output_frame(model, frame, proba=True, id_col=None, checked=False)
    assert list(out.columns) == ["prediction", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    assert all(type(v) is str for v in out["prediction"])  # not numpy str_ / bytes from onnxruntime
    assert set(out["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert out["prediction"].tolist() == [str(v) for v in pipe.predict(frame)]
    np.testing.assert_allclose(out.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-12)


def test_regression_writes_one_float_column_and_ignores_proba(tmp_path):
    run_dir, data, pipe = run_folder(tmp_path / "run", "nyc_taxis_fare.yaml")
    data.X.iloc[300:330].to_parquet(tmp_path / "in.parquet", index=False)
    result = predict_file(run_dir, tmp_path / "in.parquet", tmp_path / "out.parquet", proba=True)
    assert result.notes == ["--proba ignored: a regression model has no class probabilities"]
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["prediction"] and out["prediction"].dtype == np.float64
    np.testing.assert_allclose(out["prediction"].to_numpy(), pipe.predict(data.X.iloc[300:330]), rtol=1e-12)
