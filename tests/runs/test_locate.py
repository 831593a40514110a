"""Finding a recorded run's data again (mlengine/runs/locate.py): --data, the recorded path, the repository path
and trailing path parts above the run directory; a sha256 match wins over the first file found."""

from __future__ import annotations

import hashlib

import pytest

from mlengine.errors import DataError, UserError
from mlengine.runs.locate import anchors, locate_base_dir, locate_files, parse_data_args, with_paths


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_anchors_are_the_folders_above_the_run_dir_then_the_cwd(tmp_path, monkeypatch):
    run_dir = tmp_path / "repo" / "runs" / "r1"
    run_dir.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    places = anchors(run_dir)
    assert places[:4] == [run_dir.resolve(), run_dir.parent.resolve(), (tmp_path / "repo").resolve(),
                          tmp_path.resolve()]
    assert len(places) == len(set(places))  # the cwd's parents are already listed once


def test_data_args_name_the_key_of_each_file(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    one = [{"key": "data.source.path"}]
    assert parse_data_args([str(f)], one) == {"data.source.path": f.resolve()}
    tables = [{"key": "data.source.tables.orders"}, {"key": "data.source.tables.people"}]
    assert parse_data_args([f"people={f}"], tables) == {"data.source.tables.people": f.resolve()}
    with pytest.raises(UserError, match=r"read 2 files; name the table as --data NAME=PATH \(tables: orders, people"):
        parse_data_args([str(f)], tables)
    with pytest.raises(UserError, match="read no data file"):
        parse_data_args([str(f)], [])
    with pytest.raises(DataError, match="--data: file .*nope.csv' does not exist"):
        parse_data_args([str(tmp_path / "nope.csv")], one)


def test_a_moved_project_is_found_by_its_repository_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clone = tmp_path / "clone"
    (clone / "data").mkdir(parents=True)
    (clone / "data" / "t.csv").write_text("a\n1\n", encoding="utf-8")
    run_dir = clone / "runs" / "r1"
    run_dir.mkdir(parents=True)
    entry = {"key": "data.source.path", "path": "/elsewhere/project/data/t.csv", "path_in_repo": "data/t.csv",
             "sha256": _sha(clone / "data" / "t.csv")}
    found, notes = locate_files([entry], run_dir, {})
    assert found == {"data.source.path": (clone / "data" / "t.csv").resolve()}
    assert notes == [f"data.source.path: recorded at /elsewhere/project/data/t.csv, found at {found[entry['key']]}"]


def test_the_file_whose_sha256_matches_wins_over_the_first_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "a" / "b" / "runs" / "r1"
    run_dir.mkdir(parents=True)
    near, far = run_dir.parent / "t.csv", tmp_path / "t.csv"  # near is looked at first
    near.write_text("a\n2\n", encoding="utf-8")
    far.write_text("a\n1\n", encoding="utf-8")
    entry = {"key": "data.source.path", "path": "/gone/t.csv", "sha256": _sha(far)}
    assert locate_files([entry], run_dir, {})[0]["data.source.path"] == far.resolve()
    entry["sha256"] = "0" * 64  # nothing matches: the first candidate is used and the fingerprint check speaks
    assert locate_files([entry], run_dir, {})[0]["data.source.path"] == near.resolve()


def test_a_recorded_path_that_exists_gives_no_note_and_data_wins(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    entry = {"key": "data.source.path", "path": str(f.resolve()), "sha256": _sha(f)}
    assert locate_files([entry], tmp_path, {}) == ({"data.source.path": f.resolve()}, [])
    other = tmp_path / "other.csv"
    found, notes = locate_files([entry], tmp_path, {"data.source.path": other})
    assert found == {"data.source.path": other} and notes == [f"data.source.path: using {other} (--data)"]


def test_a_missing_file_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = {"key": "data.source.path", "path": "/gone/project/data/t.csv", "path_in_repo": "data/t.csv"}
    with pytest.raises(DataError, match=r"data.source.path: the recorded data file '/gone/project/data/t.csv' is "
                                        r"missing \(also looked for 'data/t.csv'.*--data PATH"):
        locate_files([entry], tmp_path, {})


def test_base_dir_recorded_then_in_repo_then_the_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    (tmp_path / "recipes").mkdir()
    assert locate_base_dir({"base_dir": str(tmp_path / "recipes")}, run_dir) == tmp_path / "recipes"
    moved = {"base_dir": "/gone/recipes", "base_dir_in_repo": "recipes"}
    assert locate_base_dir(moved, run_dir) == (tmp_path / "recipes").resolve()
    assert locate_base_dir({"base_dir": "/gone/x", "base_dir_in_repo": "nowhere"}, run_dir) == run_dir.resolve()


def test_with_paths_points_a_copy_of_the_recipe_at_the_found_files(tmp_path):
    resolved = {"data": {"source": {"kind": "sql", "query": "SELECT 1", "tables": {"t": "/old/t.csv"},
                                    "url": "sqlite:////old/app.db"}}}
    new = with_paths(resolved, {"data.source.tables.t": tmp_path / "t.csv", "data.source.url": tmp_path / "app.db"})
    assert new["data"]["source"]["tables"] == {"t": str(tmp_path / "t.csv")}
    assert new["data"]["source"]["url"] == f"sqlite:///{tmp_path / 'app.db'}"
    assert resolved["data"]["source"]["tables"] == {"t": "/old/t.csv"}  # the record is untouched
    csv = with_paths({"data": {"source": {"kind": "csv", "path": "/old.csv"}}}, {"data.source.path": tmp_path})
    assert csv["data"]["source"]["path"] == str(tmp_path)
