"""The leaf helpers: file hashes, numpy scalars as Python values, `module:attr` imports."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mlengine.lazy import import_path
from mlengine.records import plain, sha256_file


def test_sha256_file_matches_hashlib_over_several_chunks(tmp_path):
    data = bytes(range(256)) * 9000  # > 2 MiB: more than one 1 MiB chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_plain_turns_numpy_scalars_into_python_values_and_leaves_the_rest():
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert type(plain(np.float32(0.5))) is float
    assert type(plain(np.str_("yes"))) is str
    arr = np.array([1, 2])
    assert plain(arr) is arr  # arrays are not scalars
    assert plain("x") == "x" and plain(None) is None


def test_import_path_imports_on_demand_and_names_a_missing_attribute():
    assert import_path("collections:OrderedDict").__name__ == "OrderedDict"
    with pytest.raises(AttributeError):
        import_path("collections:NoSuchThing")
