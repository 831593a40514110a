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
    source: Path | None = None  # the local checkout or wheel the line points at, if any


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
        return Requirement(f"mlengine @ {path.as_uri()}", f"mlengine was installed from the wheel {path}",
                           source=path)
    if path.is_dir() and _is_source_tree(path):
        how = "an editable install of" if (info.get("dir_info") or {}).get("editable") else "installed from"
        return Requirement(f"mlengine @ {path.as_uri()}", f"mlengine is {how} the checkout {path}", source=path)
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
        return Requirement(f"mlengine @ {tree.as_uri()}", f"mlengine is imported from the checkout {tree}",
                           source=tree)
    if _indexed():
        return Requirement(f"mlengine=={__version__}", "mlengine was installed from a package index")
    return Requirement(f"mlengine=={__version__}", "PLACEHOLDER: no checkout or wheel of mlengine was found",
                       placeholder=True)


def vendor_wheel(req: Requirement, project: Path) -> Requirement:
    """Put a wheel of `req`'s checkout (built with pip) or wheel (copied) in `project/wheels/` and return the
    requirement `./wheels/<file>`: committed with the project, it installs on every machine, CI included."""
    import shutil
    import subprocess
    import sys
    from importlib.util import find_spec

    from mlengine.errors import UserError

    if req.source is None:
        raise UserError(f"init --wheel: mlengine's source is not a local checkout or wheel ({req.why}); give "
                        "--mlengine-requirement instead, or run init from an mlengine installed from a checkout.")
    wheels = project / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if req.source.is_file():
        target = wheels / req.source.name
        if not target.exists():
            shutil.copy2(req.source, target)
        return Requirement(f"./wheels/{target.name}", f"a copy of the wheel {req.source}, committed with the "
                           "project so every machine installs the same mlengine", source=target)
    before = set(wheels.glob("mlengine-*.whl"))
    # build with this environment's setuptools + wheel when it has them (no download); else pip's isolated build
    local = find_spec("setuptools") is not None and find_spec("wheel") is not None
    isolation = ["--no-build-isolation"] if local else []
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                          *isolation, "-w", str(wheels), str(req.source)], capture_output=True, text=True)
    built = sorted(set(wheels.glob("mlengine-*.whl")) - before) or sorted(wheels.glob("mlengine-*.whl"))
    if res.returncode != 0 or not built:
        lines = res.stderr.strip().splitlines()
        tail = next((ln.strip() for ln in lines if ln.strip().startswith("error:")), lines[-1] if lines else "")
        raise UserError(f"init --wheel: pip could not build a wheel of {req.source} (exit {res.returncode}: "
                        f"{tail}). Build one yourself (pip wheel --no-deps {req.source} -w wheels/) and pass "
                        "--mlengine-requirement ./wheels/<file>.whl.")
    return Requirement(f"./wheels/{built[-1].name}", f"a wheel built from the checkout {req.source} by "
                       "`mlengine init --wheel`, committed with the project so every machine (CI included) installs "
                       "the same mlengine", source=built[-1])
