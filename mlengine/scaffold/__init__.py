"""`mlengine init DIR`: scaffold a new ML project.

The project gets `recipes/` (a starter recipe on a bundled dataset), `data/` (the dataset and a data dictionary),
`runs/` (git-ignored), `reference/` (runs CI replays), a Makefile with run / sweep / replay targets and a GitHub
Actions workflow. Templates ship as package data in `templates/` (dot-files are stored without their dot so
packaging tools do not skip them). A non-empty folder is refused unless `force`; existing files are never
overwritten, even with `force`. `requirements.txt` names where mlengine installs from (`scaffold.requirement`:
the checkout or wheel this mlengine came from, since no public index serves it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mlengine.errors import UserError
from mlengine.scaffold.requirement import Requirement, find_requirement, vendor_wheel

# (template under templates/, path in the new project)
FILES = [
    ("README.md", "README.md"),
    ("Makefile", "Makefile"),
    ("gitignore", ".gitignore"),
    ("requirements.txt", "requirements.txt"),
    ("recipes/starter.yaml", "recipes/starter.yaml"),
    ("data/README.md", "data/README.md"),
    ("data/titanic.csv", "data/titanic.csv"),
    ("reference/README.md", "reference/README.md"),
    ("github/workflows/mlengine.yml", ".github/workflows/mlengine.yml"),
]
EMPTY_DIRS = ["runs"]
TEXT_VARS = ("{{name}}", "{{version}}", "{{requirement}}", "{{requirement_why}}")


@dataclass
class Scaffold:
    """What `scaffold` did: files created and files kept because they existed."""

    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    requirement: Requirement | None = None

    def lines(self) -> list[str]:
        out = [f"created {p}" for p in self.created] + [f"kept    {p} (exists; not overwritten)" for p in self.kept]
        if self.requirement and "requirements.txt" in self.created:
            out.append(f"requirements.txt installs {self.requirement.line} ({self.requirement.why})")
            if self.requirement.placeholder:
                out.append("  replace it with a wheel, git URL or index mlengine installs from: no index serves "
                           "mlengine, so this pin does not install as is (see the comments in requirements.txt)")
        out += ["", f"project ready in {self.root}. Next:", f"  cd {self.root}",
                "  make install  # mlengine, from where requirements.txt says", "  make run      # starter recipe",
                "  make replay   # prove the latest run reproduces"]
        return out


def template_bytes(name: str) -> bytes:
    return resources.files("mlengine.scaffold").joinpath("templates", *name.split("/")).read_bytes()


def scaffold(target: str | os.PathLike[str], force: bool = False, requirement: str | None = None,
             wheel: bool = False) -> Scaffold:
    """Create the project in `target` (see the module docstring); `requirement` overrides the mlengine source
    written to requirements.txt (default: `find_requirement()`); `wheel` puts a wheel of it in `wheels/` and points
    requirements.txt there."""
    from mlengine.version import __version__

    root = Path(target).expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(f"init: {str(root)!r} is a file; give a folder for the new project.")
    if root.is_dir():
        entries = sorted(p.name for p in root.iterdir())
        if entries and not force:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise UserError(f"init: {str(root)!r} is not empty ({len(entries)} entries: {shown}). mlengine init "
                            "scaffolds into an empty or new folder; pass --force to add the missing scaffold files "
                            "(existing files are never overwritten).")
    root.mkdir(parents=True, exist_ok=True)
    req = find_requirement(requirement)
    if wheel and not (root / "requirements.txt").exists():
        req = vendor_wheel(req, root)
    result = Scaffold(root=root.resolve(), requirement=req)
    values = {"{{name}}": root.resolve().name, "{{version}}": __version__, "{{requirement}}": req.line,
              "{{requirement_why}}": req.why}
    for template, rel in FILES:
        dest = root / rel
        if dest.exists() or dest.is_symlink():
            result.kept.append(rel)
            continue
        data = template_bytes(template)
        if not rel.endswith(".csv"):
            text = data.decode("utf-8")
            for key in TEXT_VARS:
                text = text.replace(key, values[key])
            data = text.encode("utf-8")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "xb") as f:  # "x": never overwrite, even if the file appeared meanwhile
            f.write(data)
        result.created.append(rel)
    if req.source is not None and req.source.parent == root / "wheels":
        result.created.append(f"wheels/{req.source.name}")
    for d in EMPTY_DIRS:
        if not (root / d).exists():
            (root / d).mkdir()
            result.created.append(d + "/")
    return result
