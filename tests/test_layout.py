"""The tests mirror the package (tests/README.md): every module of mlengine has its direct test file, and every
test file sits where the mapping rule puts it, so a test for a module is found without searching.

mlengine/<pkg>/<module>.py -> tests/<pkg>/test_<module>.py; mlengine/<module>.py -> tests/test_<module>.py; a
package __init__.py with code of its own -> tests/<pkg>/test_<pkg>.py. An __init__.py that only re-exports is
not a module to test on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "mlengine"
TESTS = ROOT / "tests"

# Modules with no behaviour of their own to test directly; each entry says why.
TRIVIAL = {
    "__main__.py": "`python -m mlengine` is one call of cli.main, which tests/test_cli.py runs",
    "version.py": "one string; the packaging reads it (pyproject's dynamic version)",
}
# Suites that test a promise across packages rather than one module; they stay at the top of tests/.
CROSS_CUTTING = {
    "test_bad_input.py": "the bad-input corpus: every user error of every command, exit 2, no traceback",
    "test_ci_example.py": "examples/ci: the workflow's own commands",
    "test_examples.py": "the runnable examples in examples/",
    "test_layers.py": "the import-layer contracts of .importlinter",
    "test_layout.py": "this file",
    "test_recipes.py": "every recipe in recipes/ end to end",
}
# Modules still without their direct test (issue 13 item 8): this list only shrinks. Write
# tests/<pkg>/test_<module>.py and delete the line; a listed module that has its test fails the check below.
PENDING: set[str] = set()  # every module has its direct test file now
# Top-level files that are shared code, not tests.
HELPERS = {"__init__.py", "conftest.py", "modelling.py"}


def _only_reexports(path: Path) -> bool:
    """True for an __init__.py of docstring, imports and __all__ only."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        return False
    return True


def expected_test(module: Path, package: Path) -> Path | None:
    """The direct test file of `module` (a path under `package`), relative to the tests folder; None if exempt."""
    rel = module.relative_to(package)
    if len(rel.parts) == 1:
        return None if rel.name in TRIVIAL or rel.name == "__init__.py" else Path(f"test_{rel.stem}.py")
    pkg = Path(*rel.parts[:-1])
    if rel.name == "__init__.py":
        return None if _only_reexports(module) else pkg / f"test_{pkg.name}.py"
    return pkg / f"test_{rel.stem}.py"


def missing_tests(package: Path, tests: Path) -> list[str]:
    """'module -> expected test' for every module of `package` whose direct test file is absent from `tests`."""
    out = []
    for module in sorted(package.rglob("*.py")):
        want = expected_test(module, package)
        if want is not None and not (tests / want).is_file():
            out.append(f"{module.relative_to(package.parent)} -> tests/{want}")
    return out


def suggested_place(name: str, package: Path) -> str:
    """Where the mapping rule moves a flat tests/test_<name>.py (the lead's mechanical step after a merge)."""
    stem = name.removeprefix("test_").removesuffix(".py")
    packages = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    for pkg in packages:
        if stem.startswith(pkg + "_"):
            return f"tests/{pkg}/test_{stem.removeprefix(pkg + '_')}.py"
        if stem == pkg:
            return f"tests/{pkg}/test_{pkg}.py"
    owners = [m.parent.name for m in package.glob(f"*/{stem}.py")]
    if len(owners) == 1:
        return f"tests/{owners[0]}/test_{stem}.py"
    return "tests/<package of the module it tests>/" + name


def misplaced(tests: Path, package: Path) -> list[str]:
    """Test files the rule does not allow where they are, each with where the rule puts it."""
    top_modules = {p.stem for p in package.glob("*.py")}
    packages = {p.parent.name for p in package.glob("*/__init__.py")}
    out = []
    for path in sorted(tests.glob("*.py")):
        name = path.name
        if name in HELPERS or name.endswith("_helpers.py") or name in CROSS_CUTTING:
            continue
        stem = name.removeprefix("test_").removesuffix(".py")
        if name.startswith("test_") and any(stem == m or stem.startswith(m + "_") for m in top_modules):
            continue  # a top-level module's test (test_plan.py, test_plan_golden.py)
        out.append(f"tests/{name} -> {suggested_place(name, package)}")
    for folder in sorted(p for p in tests.iterdir() if p.is_dir() and p.name not in {"golden", "__pycache__"}):
        if folder.name not in packages:
            out.append(f"tests/{folder.name}/ is no package of mlengine")
        elif not (folder / "__init__.py").is_file():
            out.append(f"tests/{folder.name}/__init__.py is missing (test modules of two folders may share a name)")
    return out


def test_every_module_has_its_direct_test():
    missing = [m for m in missing_tests(PACKAGE, TESTS) if m.split(" -> ")[0] not in PENDING]
    assert missing == [], "modules without their direct test file (see tests/README.md):\n" + "\n".join(missing)


def test_every_test_file_sits_where_the_mapping_rule_puts_it():
    wrong = misplaced(TESTS, PACKAGE)
    assert wrong == [], "move these test files (tests/README.md, the mapping rule):\n" + "\n".join(wrong)


def test_pending_modules_still_lack_their_test():
    done = sorted(PENDING - {m.split(" -> ")[0] for m in missing_tests(PACKAGE, TESTS)})
    assert done == [], "these modules have their test now: delete them from PENDING\n" + "\n".join(done)


def test_exemptions_name_real_files():
    assert all((PACKAGE / name).is_file() for name in TRIVIAL)
    assert all((TESTS / name).is_file() for name in CROSS_CUTTING)


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_the_checker_finds_missing_and_misplaced_tests(tmp_path):
    pkg, tests = tmp_path / "mlengine", tmp_path / "tests"
    _tree(tmp_path, {
        "mlengine/__init__.py": "", "mlengine/cli.py": "x = 1\n", "mlengine/__main__.py": "",
        "mlengine/search/__init__.py": '"""doc"""\nfrom .a import b\n__all__ = ["b"]\n',
        "mlengine/search/budget.py": "", "mlengine/search/spaces.py": "",
        "mlengine/scaffold/__init__.py": "def init():\n    pass\n",
        "mlengine/export/chunked.py": "", "mlengine/export/__init__.py": "",
        "tests/__init__.py": "", "tests/conftest.py": "", "tests/serving_helpers.py": "",
        "tests/test_cli.py": "", "tests/test_cli_exit_codes.py": "",
        "tests/search/__init__.py": "", "tests/search/test_budget.py": "",
        "tests/test_search_spaces.py": "", "tests/test_chunked.py": "", "tests/test_odd.py": "",
        "tests/nothing/test_x.py": "",
    })
    assert missing_tests(pkg, tests) == [
        "mlengine/export/chunked.py -> tests/export/test_chunked.py",
        "mlengine/scaffold/__init__.py -> tests/scaffold/test_scaffold.py",
        "mlengine/search/spaces.py -> tests/search/test_spaces.py",
    ]
    assert misplaced(tests, pkg) == [
        "tests/test_chunked.py -> tests/export/test_chunked.py",
        "tests/test_odd.py -> tests/<package of the module it tests>/test_odd.py",
        "tests/test_search_spaces.py -> tests/search/test_spaces.py",
        "tests/nothing/ is no package of mlengine",
    ]
