"""`mlengine init`: the scaffold, its refusals, where it installs mlengine from, and (slow) the generated project's
own Makefile in a fresh venv: install, validate, run, replay, reference, and CI's replay-reference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from mlengine.scaffold import FILES, requirement

from tests.conftest import ROOT


def test_init_creates_the_project(cli, tmp_path):
    target = tmp_path / "proj"
    code, out, err = cli("init", target)
    assert code == 0, err
    for _, rel in FILES:
        assert (target / rel).is_file(), rel
    assert (target / "runs").is_dir()
    assert "/runs/" in (target / ".gitignore").read_text().splitlines()
    lines = (target / "requirements.txt").read_text().splitlines()
    # no index serves mlengine: the project installs from the checkout these tests run from, and says why
    assert [line for line in lines if not line.startswith("#")] == [f"mlengine @ {ROOT.as_uri()}"]
    assert lines[0].startswith("# mlengine for this project: mlengine is ") and str(ROOT) in lines[0]
    assert f"requirements.txt installs mlengine @ {ROOT.as_uri()}" in out
    assert (target / "README.md").read_text().startswith("# proj\n")
    makefile = (target / "Makefile").read_text()
    for t in ("run:", "sweep:", "replay:", "validate:", "reference:", "replay-reference:"):
        assert f"\n{t}" in makefile
    workflow = (target / ".github/workflows/mlengine.yml").read_text()
    assert "make validate" in workflow and "make replay-reference" in workflow
    code, out, _ = cli("validate", target / "recipes" / "starter.yaml")
    assert code == 0 and "data OK: 891 rows" in out


def test_requirement_given_and_placeholder(cli, tmp_path, monkeypatch):
    code, out, err = cli("init", tmp_path / "a", "--mlengine-requirement", "mlengine @ file:///wheels/m.whl")
    assert code == 0, err
    assert (tmp_path / "a" / "requirements.txt").read_text().splitlines()[-1] == "mlengine @ file:///wheels/m.whl"
    monkeypatch.setenv("MLENGINE_REQUIREMENT", "-e /src/mlengine")
    assert requirement.find_requirement().line == "-e /src/mlengine"
    monkeypatch.delenv("MLENGINE_REQUIREMENT")
    # neither an install record nor a source tree: the documented placeholder, and init says to replace it
    monkeypatch.setattr(requirement, "_from_install", lambda: None)
    monkeypatch.setattr(requirement, "_is_source_tree", lambda path: False)
    monkeypatch.setattr(requirement, "_indexed", lambda: False)
    code, out, err = cli("init", tmp_path / "b")
    assert code == 0, err
    text = (tmp_path / "b" / "requirements.txt").read_text()
    assert text.splitlines()[-1] == "mlengine==0.1.0" and "PLACEHOLDER" in text.splitlines()[0]
    assert "replace it with a wheel, git URL or index" in out
    # a wheel recorded by pip (PEP 610) is used while it exists
    wheel = tmp_path / "mlengine-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    monkeypatch.undo()
    monkeypatch.setattr(requirement, "_install_record",
                        lambda: f'{{"url": "{wheel.as_uri()}", "archive_info": {{}}}}')
    assert requirement.find_requirement().line == f"mlengine @ {wheel.as_uri()}"


def test_wheel_needs_a_local_source(cli, tmp_path):
    code, _, err = cli("init", tmp_path / "w", "--wheel", "--mlengine-requirement", "mlengine==0.1.0")
    assert code == 2 and "--wheel" in err and "not a local checkout or wheel" in err
    assert not (tmp_path / "w" / "requirements.txt").exists()


def test_init_refuses_a_non_empty_folder_and_never_overwrites(cli, tmp_path):
    target = tmp_path / "existing"
    (target / "recipes").mkdir(parents=True)
    (target / "Makefile").write_text("my own makefile\n")
    (target / "recipes" / "starter.yaml").write_text("name: mine\n")
    code, _, err = cli("init", target)
    assert code == 2 and "is not empty (2 entries: Makefile, recipes)" in err and "--force" in err
    assert not (target / "data").exists()
    code, out, err = cli("init", target, "--force")
    assert code == 0, err
    assert (target / "Makefile").read_text() == "my own makefile\n"
    assert (target / "recipes" / "starter.yaml").read_text() == "name: mine\n"
    assert "kept    Makefile (exists; not overwritten)" in out and "created data/titanic.csv" in out
    assert (target / "data" / "titanic.csv").stat().st_size == 57018
    (tmp_path / "afile").write_text("x")
    code, _, err = cli("init", tmp_path / "afile")
    assert code == 2 and "is a file" in err


def test_templates_ship_as_package_data():
    """Every template is reachable through importlib.resources (what an installed wheel provides)."""
    base = resources.files("mlengine.scaffold").joinpath("templates")
    for template, _ in FILES:
        assert base.joinpath(*template.split("/")).is_file(), template
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["mlengine.scaffold"]
    depth = max(t.count("/") for t, _ in FILES) + 1
    assert f"templates/{'/'.join(['*'] * depth)}" in globs


@pytest.mark.slow
def test_generated_project_installs_in_a_fresh_venv_and_its_ci_replay_passes(tmp_path):
    """What a new user and the generated CI do, on a machine that has this checkout: a fresh venv, `make install`
    (the requirement init wrote, pointing at this checkout, with --no-deps), validate, run, replay, reference, then
    replay-reference from a copy of the project at another path.

    The dependencies: installing requirements.lock into the fresh venv takes minutes on a shared 2-core machine,
    so by default the venv sees this interpreter's site-packages through a .pth line (a plain path entry: that
    folder's own .pth files, the editable hook of this checkout among them, are not run, so `import mlengine` in
    the venv finds only what `make install` put there). MLENGINE_TEST_FULL_VENV=1 installs the lock instead."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    quiet = ["-q", "--disable-pip-version-check"]
    if os.environ.get("MLENGINE_TEST_FULL_VENV") == "1":
        res = subprocess.run([str(py), "-m", "pip", "install", *quiet, "-r", str(ROOT / "requirements.lock")],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
    else:
        site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        Path(site, "host-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project = tmp_path / "proj"
    res = subprocess.run([sys.executable, "-m", "mlengine", "init", str(project)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(OMP_WAIT_POLICY="PASSIVE", MLENGINE=str(venv / "bin" / "mlengine"), PIP=f"{py} -m pip",
               PIP_FLAGS=f"--no-deps {' '.join(quiet)}")

    def make(folder, *targets, code=0):
        res = subprocess.run(["make", "-C", str(folder), *targets], capture_output=True, text=True, env=env)
        assert res.returncode == code, f"make {' '.join(targets)}: {res.stdout[-2000:]}{res.stderr[-2000:]}"
        return res.stdout + res.stderr

    make(project, "install")
    where = subprocess.run([str(py), "-c", "import mlengine; print(mlengine.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env).stdout.strip()
    assert where.startswith(str(venv)), where  # a real install into the fresh venv, not this checkout on a path
    assert "make run first" in make(project, "replay", code=2)
    assert "run directory:" in make(project, "validate", "run")
    assert len(list((project / "runs" / "starter").iterdir())) == 1
    assert "result: identical (exit 0)" in make(project, "replay")
    assert len(list((project / "runs" / "starter").iterdir())) == 1  # the replay went to a temporary folder
    make(project, "reference")
    clone = tmp_path / "clone"  # what CI checks out: the project without runs/, at another path
    shutil.copytree(project, clone, ignore=shutil.ignore_patterns("runs"))
    out = make(clone, "replay-reference")
    assert "result: identical (exit 0)" in out

    # `init --wheel`: a wheel committed with the project installs anywhere (CI needs no variable); the reference
    # made above replays under the mlengine installed from it
    ci = tmp_path / "ci"
    res = subprocess.run([sys.executable, "-m", "mlengine", "init", str(ci), "--wheel"], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    wheel = next((ci / "wheels").glob("mlengine-*.whl"))
    assert (ci / "requirements.txt").read_text().splitlines()[-1] == f"./wheels/{wheel.name}"
    shutil.copytree(project / "reference" / "starter", ci / "reference" / "starter")
    env["PIP_FLAGS"] += " --force-reinstall"
    make(ci, "install")
    record = subprocess.run([str(py), "-c", "from importlib import metadata as m; "
                             "print(m.distribution('mlengine').read_text('direct_url.json'))"],
                            capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert wheel.name in record, record
    assert "result: identical (exit 0)" in make(ci, "replay-reference")
