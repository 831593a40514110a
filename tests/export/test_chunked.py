"""`mlengine predict --chunk-rows`: streamed Parquet/CSV prediction equals the whole-file one, violations are
reported for the whole file, and nothing half-written is left under the output name."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import mlengine
from mlengine.errors import DataError

from tests.conftest import DATA, TITANIC, read_json

RECIPE = TITANIC.replace("data:\n", "data:\n  id: pid\n  on_violation: warn\n  schema:\n"
                         "    age: {dtype: float, ge: 0, le: 120}\n    sex: {isin: [male, female]}\n"
                         ).replace("titanic.csv", "titanic_ids.csv") + "export: {format: [onnx, joblib]}\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunked")
    (root / "data").mkdir()
    raw = pd.read_csv(DATA / "titanic.csv")
    raw.insert(0, "pid", [f"P{i:04d}" for i in range(len(raw))])
    raw.to_csv(root / "data" / "titanic_ids.csv", index=False)
    (root / "r.yaml").write_text(RECIPE, encoding="utf-8")
    result = mlengine.run(root / "r.yaml", overrides=["model.n_jobs=1"], runs_dir=root / "runs")
    return result.run_dir, raw


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["onnx", "joblib"])
def test_chunked_equals_whole_file(cli, run, tmp_path, fmt):
    run_dir, raw = run
    raw.to_csv(tmp_path / "in.csv", index=False)
    raw.to_parquet(tmp_path / "in.parquet", row_group_size=100)  # 9 row groups
    for ext in ("csv", "parquet"):
        code, _, err = cli("predict", run_dir, tmp_path / "in.csv", "-o", tmp_path / f"whole.{ext}", "--format", fmt,
                           "--proba")
        assert code == 0, err
    expected = pd.read_parquet(tmp_path / "whole.parquet")
    assert len(expected) == 891 and list(expected.columns) == ["pid", "prediction", "proba_0", "proba_1"]
    for src in ("in.csv", "in.parquet"):
        for out_name, rows in (("c.csv", 7), ("c.parquet", 250), ("big.parquet", 5000)):
            out = tmp_path / out_name
            code, stdout, err = cli("predict", run_dir, tmp_path / src, "-o", out, "--format", fmt, "--proba",
                                    "--chunk-rows", rows, "--json")
            assert code == 0, err
            assert "predict: 891 rows (100%)" in err and "rows/s" in err  # the progress line's last state
            if fmt == "joblib" and out.suffix == ".csv":  # the same bytes as the whole-file CSV
                assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes(), (src, rows)
            got = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
            # onnxruntime's tree ensemble sums in a batch-size dependent order: 1 ulp apart at most
            pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "whole.csv") if out.suffix == ".csv"
                                          else expected, check_exact=fmt == "joblib", rtol=0, atol=1e-15)
            assert (got["prediction"] == expected["prediction"]).all() and (got["pid"] == expected["pid"]).all()
            report = json.loads(stdout)["contract"]
            assert report["passed"] and report["rows"] == 891 and report["checks"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet", "c.csv", "c.parquet", "in.csv",
                                                          "in.parquet", "whole.csv", "whole.parquet"]  # no partial files


def test_violations_are_reported_for_the_whole_file(cli, run, tmp_path):
    run_dir, raw = run
    bad = raw.copy()
    bad.loc[[5, 250, 800], "age"] = 500  # in three different chunks
    bad.loc[[10, 600], "sex"] = "Jane Doe"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code, stdout, err = cli("predict", run_dir, tmp_path / "bad.csv", "-o", tmp_path / "o.csv", "--chunk-rows",
                            "100", "--json")
    assert code == 0, err  # data.on_violation: warn predicts every row and reports
    report = json.loads(stdout)["contract"]
    assert report["rows_with_violations"] == 5 and report["first_rows_with_violations"] == [5, 10, 250, 600, 800]
    assert {(v["column"], v["rule"], v["count"]) for v in report["violations"]} == {("age", "le", 3),
                                                                                   ("sex", "isin", 2)}
    assert "2 contract check(s) failed on 5 of 891 rows" in err and len(pd.read_csv(tmp_path / "o.csv")) == 891
    # the same run with data.on_violation: fail: refused, every chunk still checked, nothing written
    strict = tmp_path / "strict"
    shutil.copytree(run_dir, strict)
    bundle = read_json(strict / "model.json")
    bundle["data_checks"]["on_violation"] = "fail"
    (strict / "model.json").write_text(json.dumps(bundle))
    out = tmp_path / "strict.parquet"
    code, _, err = cli("predict", strict, tmp_path / "bad.csv", "-o", out, "--chunk-rows", "100")
    assert code == 2 and "failed on 5 of 891 rows" in err and "Nothing was written" in err
    assert not out.exists() and not list(tmp_path.glob(".strict*"))
    with pytest.raises(DataError, match="5 of 891 rows"):
        mlengine.export.predict.predict_file(strict, tmp_path / "bad.csv", out, chunk_rows=1000)


def test_chunked_bad_inputs(cli, run, tmp_path):
    run_dir, raw = run
    raw.drop(columns=["age"]).to_csv(tmp_path / "missing.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "missing.csv", "-o", tmp_path / "o.csv", "--chunk-rows", "10")
    assert code == 2 and "missing 1 column(s) the model needs: age" in err
    raw.head(0).to_csv(tmp_path / "header.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "header.csv", "-o", tmp_path / "o.csv", "--chunk-rows", "10")
    assert code == 2 and "no rows" in err and not (tmp_path / "o.csv").exists()
    code, _, err = cli("predict", run_dir, tmp_path / "missing.csv", "-o", tmp_path / "o.csv", "--chunk-rows", "0")
    assert code == 2 and "--chunk-rows 0" in err
    bad = raw.head(30).copy()
    bad["fare"] = bad["fare"].astype(object)
    bad.loc[25, "fare"] = "forty"  # in the third chunk: earlier chunks were written to the partial file only
    bad.to_csv(tmp_path / "badtype.csv", index=False)
    code, _, err = cli("predict", run_dir, tmp_path / "badtype.csv", "-o", tmp_path / "o.csv", "--chunk-rows", "10")
    assert code == 2 and "fare" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["badtype.csv", "header.csv", "missing.csv"]
