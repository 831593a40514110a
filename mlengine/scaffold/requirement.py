"""Where the generated project installs mlengine from: the checkout or wheel this mlengine came from.

No package index serves mlengine, so a pin like `mlengine==0.1.0` cannot install. `mlengine init` therefore writes
the source it finds now, in this order: `--mlengine-requirement` / `$MLENGINE_REQUIREMENT` (verbatim); the
install's PEP 610 record (`direct_url.json`: an editable or plain install from a checkout, or a wheel file) when
that path still exists; the source tree this module is imported from (a checkout on `sys.path`); otherwise a
documented placeholder, `mlengine==<version>`, to replace with an index, a wheel or a git URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

ENV_REQUIREMENT = "MLENGINE_REQUIREMENT"


@dataclass(frozen=True)
class Requirement:
    """A pip requirement line and the sentence (a comment in requirements.txt) that says where it came from."""

    line: str
    why: str
    placeholder: bool = False


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _is_source_tree(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    return pyproject.is_file() and (path / "mlengine" / "__init__.py").is_file() and \
        'name = "mlengine"' in pyproject.read_text(encoding="utf-8", errors="replace")


def _install_record() -> str | None:
    """The installed distribution's direct_url.json text (None when installed from an index, or not installed)."""
    from importlib import metadata

    records = [d.read_text("direct_url.json") for d in metadata.distributions(name="mlengine")]
    return next((r for r in records if r), None)  # a source folder's egg-info (no record) may come first


def _indexed() -> bool:
    """mlengine is installed (and has no direct-URL record): it came from a package index."""
    from importlib import metadata

    return any(True for _ in metadata.distributions(name="mlengine"))


def _from_install() -> Requirement | None:
    record = _install_record()
    if not record:
        return None  # installed from an index (that index serves it), or not installed at all
    info = json.loads(record)
    path = _local_path(info.get("url", ""))
    if path is None:
        if info.get("vcs_info"):
            vcs = info["vcs_info"]
            ref = f"@{vcs['commit_id']}" if vcs.get("commit_id") else ""
            return Requirement(f"mlengine @ {vcs.get('vcs', 'git')}+{info['url']}{ref}",
                               "mlengine was installed from this repository at this commit")
        return Requirement(f"mlengine @ {info['url']}", "mlengine was installed from this URL")
    if path.is_file() and path.suffix == ".whl":
        return Requirement(f"mlengine @ {path.as_uri()}", f"mlengine was installed from the wheel {path}")
    if path.is_dir() and _is_source_tree(path):
        how = "an editable install of" if (info.get("dir_info") or {}).get("editable") else "installed from"
        return Requirement(f"mlengine @ {path.as_uri()}", f"mlengine is {how} the checkout {path}")
    return None


def find_requirement(given: str | None = None) -> Requirement:
    """The requirement line for the generated requirements.txt (see the module docstring)."""
    from mlengine.version import __version__

    given = given or os.environ.get(ENV_REQUIREMENT)
    if given:
        return Requirement(given.strip(), "given to mlengine init (--mlengine-requirement or $MLENGINE_REQUIREMENT)")
    found = _from_install()
    if found:
        return found
    tree = Path(__file__).resolve().parents[2]
    if _is_source_tree(tree):
        return Requirement(f"mlengine @ {tree.as_uri()}", f"mlengine is imported from the checkout {tree}")
    if _indexed():
        return Requirement(f"mlengine=={__version__}", "mlengine was installed from a package index")
    return Requirement(f"mlengine=={__version__}", "PLACEHOLDER: no checkout or wheel of mlengine was found",
                       placeholder=True)
