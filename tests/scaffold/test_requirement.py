"""Where a generated project installs mlengine from (mlengine/scaffold/requirement.py): the given line, the
install's PEP 610 record (checkout, wheel, VCS), the importing checkout, an index, or a placeholder."""

from __future__ import annotations

import json

import pytest

from mlengine.errors import UserError
from mlengine.scaffold import requirement as req
from mlengine.version import __version__

from tests.conftest import ROOT


def test_a_given_requirement_wins_verbatim(monkeypatch):
    monkeypatch.setenv(req.ENV_REQUIREMENT, "mlengine @ git+https://example.org/mlengine")
    assert req.find_requirement("  ./wheels/x.whl ").line == "./wheels/x.whl"
    found = req.find_requirement()
    assert found.line == "mlengine @ git+https://example.org/mlengine" and "MLENGINE_REQUIREMENT" in found.why


def _record(monkeypatch, info):
    monkeypatch.delenv(req.ENV_REQUIREMENT, raising=False)
    monkeypatch.setattr(req, "_install_record", lambda: None if info is None else json.dumps(info))


def test_an_editable_install_of_a_checkout_points_at_the_checkout(monkeypatch):
    _record(monkeypatch, {"url": ROOT.as_uri(), "dir_info": {"editable": True}})
    found = req.find_requirement()
    assert found.line == f"mlengine @ {ROOT.as_uri()}" and found.source == ROOT and not found.placeholder
    assert "an editable install of the checkout" in found.why


def test_a_wheel_and_a_vcs_install(monkeypatch, tmp_path):
    wheel = tmp_path / "mlengine-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    _record(monkeypatch, {"url": wheel.as_uri(), "archive_info": {}})
    assert req.find_requirement().line == f"mlengine @ {wheel.as_uri()}"
    _record(monkeypatch, {"url": "https://github.com/o/mlengine", "vcs_info": {"vcs": "git", "commit_id": "abc"}})
    assert req.find_requirement().line == "mlengine @ git+https://github.com/o/mlengine@abc"


def test_a_record_whose_path_is_gone_falls_back_to_the_importing_checkout(monkeypatch, tmp_path):
    _record(monkeypatch, {"url": (tmp_path / "gone").as_uri(), "dir_info": {}})
    found = req.find_requirement()
    assert found.source == ROOT and "imported from the checkout" in found.why  # the tests run from a checkout


def test_outside_a_checkout_an_index_install_or_a_placeholder(monkeypatch):
    _record(monkeypatch, None)
    monkeypatch.setattr(req, "_is_source_tree", lambda path: False)
    monkeypatch.setattr(req, "_indexed", lambda: True)
    assert req.find_requirement().line == f"mlengine=={__version__}" and not req.find_requirement().placeholder
    monkeypatch.setattr(req, "_indexed", lambda: False)
    found = req.find_requirement()
    assert found.placeholder and found.why.startswith("PLACEHOLDER")


def test_a_source_tree_is_a_pyproject_named_mlengine_with_the_package(tmp_path):
    assert req._is_source_tree(ROOT)
    (tmp_path / "mlengine").mkdir()
    (tmp_path / "mlengine" / "__init__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert not req._is_source_tree(tmp_path)


def test_vendoring_copies_a_wheel_and_refuses_a_non_local_source(tmp_path):
    wheel = tmp_path / "mlengine-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    project = tmp_path / "project"
    got = req.vendor_wheel(req.Requirement(f"mlengine @ {wheel.as_uri()}", "a wheel", source=wheel), project)
    assert got.line == "./wheels/mlengine-0.1.0-py3-none-any.whl" and (project / "wheels" / wheel.name).is_file()
    with pytest.raises(UserError, match="init --wheel: mlengine's source is not a local checkout or wheel"):
        req.vendor_wheel(req.Requirement("mlengine==0.1.0", "an index"), project)
