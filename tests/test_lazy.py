"""`module:attr` paths resolve to the object, imported only when asked for."""

from __future__ import annotations

import os.path

import pytest

from mlengine.lazy import import_path


def test_a_path_resolves_to_its_object():
    assert import_path("os.path:join") is os.path.join


def test_a_wrong_path_fails_loudly():
    with pytest.raises(AttributeError):
        import_path("os.path:no_such_name")
    with pytest.raises(ModuleNotFoundError):
        import_path("no_such_module_xyz:thing")
