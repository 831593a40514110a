"""Load a recipe file through Hydra's compose API, apply overrides, resolve paths, validate.

A recipe anywhere on disk may list packaged config groups (`configs/`) in its `defaults:`. Overrides use Hydra's
grammar. Two conveniences keep that grammar natural for recipes:

- `key=value` for a key the recipe file does not spell out (but the schema knows) behaves like `++key=value`, so
  `search.trials=20` works without the recipe having a `search:` block; unknown keys are still reported, with a
  did-you-mean, by validation.
- Selecting a group option the recipe's `defaults:` does not list (`resample=smote`) adds it (`+resample=smote`).
  When an override switches a section to another option (`model=logistic_regression` where the recipe chose
  lightgbm), the recipe's own keys for that section are dropped, since they were written for the other option;
  the dropped keys are reported as notes rather than leaking into the new option.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlengine.errors import Problem, RecipeError


def option_field(group: str) -> str | None:
    """The key that names the chosen option inside a config group's section (cv.kind, resample.method, model.name),
    used to detect a switch to another option (the recipe's own keys for that section are then dropped); taken
    from the section's registry. Groups without one (search, export) are presets: an override merges the preset
    and keeps the recipe's other keys (e.g. search=quick keeps search.estimators)."""
    from mlengine.recipe.schema import OPTION_REGISTRIES  # pydantic: off the import path of `mlengine --help`

    registry = OPTION_REGISTRIES.get(group)
    return registry.key if registry is not None else None


def configs_dir() -> Path:
    """The packaged config groups: mlengine/configs (a link to the repo's top-level `configs/` in a checkout, a copy
    in a wheel); the top-level folder itself if the link was lost (e.g. a checkout without symlinks)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "configs", here.parent / "configs"):
        if candidate.is_dir():
            return candidate
    raise RecipeError(f"mlengine's config groups were not found next to the package ({here.parent / 'configs'}); "
                      "reinstall mlengine")


def config_groups(extra_dirs: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """Group name -> available options, from the packaged configs and any extra search dirs."""
    groups: dict[str, set[str]] = {}
    for base in (configs_dir(), *extra_dirs):
        if not base.is_dir():
            continue
        for sub in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            opts = {f.stem for f in sub.glob("*.yaml")}
            if opts:
                groups.setdefault(sub.name, set()).update(opts)
    return {g: sorted(o) for g, o in sorted(groups.items())}


def option_description(path: Path) -> str:
    """The leading comment of a config option file (its one-line documentation)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("# ").strip())
    return " ".join(lines)


@dataclass
class LoadedRecipe:
    """The composed, validated recipe plus where it came from."""

    recipe: Any  # mlengine.recipe.schema.Recipe
    path: Path | None  # the recipe file (None for a recipe given as a dict)
    base_dir: Path  # relative paths in the recipe resolve against this folder
    overrides: list[str]
    resolved: dict[str, Any]  # the composed config as plain data, paths resolved
    notes: list[str] = field(default_factory=list)
    frame: Any = None  # the DataFrame of a `data.source: {kind: frame}` recipe (mlengine.run(..., data=df))


def with_frame(loaded: LoadedRecipe, frame: Any) -> LoadedRecipe:
    """The recipe reading `frame` instead of its own data.source (the library's `run(recipe, data=df)`)."""
    import copy
    from dataclasses import replace

    import pandas as pd

    from mlengine.sections.source import FrameSource

    if not isinstance(frame, pd.DataFrame):
        raise RecipeError(f"data: expected a pandas DataFrame; got a {type(frame).__name__}.")
    data = loaded.recipe.data.model_copy(update={"source": FrameSource(kind="frame")})
    resolved = copy.deepcopy(loaded.resolved)
    resolved.setdefault("data", {})["source"] = {"kind": "frame"}
    return replace(loaded, recipe=loaded.recipe.model_copy(update={"data": data}), resolved=resolved, frame=frame)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping (plain YAML lets the second silently win)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise RecipeError(f"key {key!r} is given twice in one mapping (lines {seen[key]} and {line}); YAML "
                                  "would keep only the second: remove one.")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a recipe file, turning YAML errors into a RecipeError with the line and column."""
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.yaml"))[:5]
        raise RecipeError(f"recipe path {str(path)!r} is a directory; give the recipe file"
                          + (f" (it holds {', '.join(inside)})." if inside else "."))
    if not path.is_file():
        raise RecipeError(f"recipe file {str(path)!r} does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"recipe file {str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecipeError as exc:
        raise RecipeError(str(exc.problems[0].message), source=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(f"malformed YAML{where}: {problem}.", source=str(path)) from None
    if data is None:
        raise RecipeError("the recipe file is empty; it needs at least a `data:` section.", source=str(path))
    if not isinstance(data, dict):
        raise RecipeError(f"the recipe must be a mapping of sections; got a {type(data).__name__}.", source=str(path))
    if "hydra" in data:  # Hydra would read it as its own settings and ignore it for the recipe: say so
        raise RecipeError("hydra: Hydra's settings are not a recipe section; give them on the command line "
                          "(hydra.job.chdir=..., hydra/launcher=joblib with -m) or in a config group.",
                          source=str(path))
    return data


def _defaults_map(defaults: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in defaults or []:
        if isinstance(entry, dict):
            for key, value in entry.items():
                group = str(key).replace("override ", "").split("@")[0].strip()
                out[group] = str(value)
    return out


def parse_overrides(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    parsed, problems = [], []
    for line in overrides:
        try:
            parsed += parser.parse_overrides([line])
        except OverrideParseException as exc:
            problems.append(Problem(f"override {line!r}",
                                    f"malformed override: {str(exc).splitlines()[0]}. Use key=value, +key=value, "
                                    "++key=value, ~key or group=option (Hydra's override grammar)."))
    if problems:
        raise RecipeError(problems)
    return parsed


def plan_overrides(raw: dict[str, Any], overrides: list[str], groups: dict[str, list[str]],
                   allow_sweeps: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Rewrite overrides for a recipe (see module doc).

    Returns (overrides for Hydra, groups switched to another option, sections to delete after composing).
    """
    from hydra.core.override_parser.types import OverrideType

    chosen = _defaults_map(raw.get("defaults"))
    out, switched, deletes, problems = [], [], [], []
    for ov in parse_overrides(overrides):
        key, line = ov.key_or_group, ov.input_line
        if ov.is_sweep_override() and not allow_sweeps:
            problems.append(Problem(key, f"{line!r} is a sweep; run it with -m (multirun)."))
            continue
        if key.startswith("hydra"):
            if allow_sweeps:
                out.append(line)
            else:
                problems.append(Problem(key, f"{line!r} configures Hydra's sweeps; it only applies with -m."))
            continue
        if ov.type == OverrideType.ADD and key in groups and "." not in key and ov.package is None:
            section = raw.get(key) if isinstance(raw.get(key), dict) else {}
            picker = option_field(key)
            current = section.get(picker or "", None) if section else None
            if section and picker and str(ov.value()) != str(current):
                switched.append(key)
            out.append(line)
        elif ov.type == OverrideType.CHANGE and key in groups and "." not in key and ov.package is None:
            values = ov.value().list if ov.is_sweep_override() and hasattr(ov.value(), "list") else [ov.value()]
            bad = [v for v in values if isinstance(v, str) and v not in groups[key]]
            if bad and not (isinstance(ov.value(), str) and ov.value() in groups[key]):
                from mlengine.errors import unknown_name

                problems += [Problem(key, unknown_name(f"option of config group '{key}'", v, groups[key])) for v in bad]
                continue
            section = raw.get(key) if isinstance(raw.get(key), dict) else {}
            picker = option_field(key)
            current = chosen.get(key) or (section.get(picker or "", None) if section else None)
            if any(str(v) != str(current) for v in values) and section and picker:
                switched.append(key)
            out.append(line if key in chosen else "+" + line)
        elif ov.type == OverrideType.CHANGE:
            out.append("++" + line)
        elif ov.type == OverrideType.DEL and key in groups and key not in chosen:
            deletes.append(key)  # a section the recipe wrote inline: Hydra would look in the defaults list
        else:
            out.append(line)
    if problems:
        raise RecipeError(problems)
    return out, switched, deletes


def compose_recipe(path: Path, overrides: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Compose a recipe file with Hydra; returns the plain config and notes (dropped keys)."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    raw = read_yaml(path)
    groups = config_groups((path.parent,))
    hydra_overrides, switched, deletes = plan_overrides(raw, overrides, groups)
    notes = []
    copy = dict(raw)
    for group in switched:
        dropped = copy.pop(group)
        notes.append(f"{group}: the recipe's own '{group}' keys ({_flat_keys(dropped, group)}) were written for "
                     f"another option and were dropped when the override selected a new one.")
    if "defaults" in copy and "_self_" not in copy["defaults"]:
        copy["defaults"] = [*copy["defaults"], "_self_"]
    tmp = Path(tempfile.mkdtemp(prefix="mlengine-recipe-"))
    try:
        (tmp / "recipe.yaml").write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
        search = ",".join(f"file://{d}" for d in (path.parent.resolve(), configs_dir()))
        with warnings.catch_warnings(), _own_global_hydra():
            warnings.simplefilter("ignore")
            with initialize_config_dir(config_dir=str(tmp), version_base="1.3"):
                cfg = compose("recipe", overrides=[f"hydra.searchpath=[{search}]", *hydra_overrides])
        data = OmegaConf.to_container(cfg, resolve=True)
        for key in deletes:
            data.pop(key, None)
        notes += prune_switched_options(data, overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise RecipeError(_hydra_message(exc, groups), source=str(path)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return data, notes


def prune_switched_options(data: dict[str, Any], overrides: list[str]) -> list[str]:
    """A dotted override that picks an option of a section (`cv.kind=none`, `resample.method=smote`) drops the
    section's keys that option does not take, as a group override (`cv=kfold`) does: they were written for
    another option. Keys given on the command line stay, so validation still names them. Returns notes."""
    from mlengine.recipe.schema import OPTION_REGISTRIES  # pydantic: off the import path of `mlengine --help`

    parsed = parse_overrides(overrides)
    given = {ov.key_or_group for ov in parsed}
    notes = []
    for ov in parsed:
        group, _, key = ov.key_or_group.partition(".")
        registry = OPTION_REGISTRIES.get(group)
        section = data.get(group)
        if registry is None or key != registry.key or not isinstance(section, dict):
            continue
        name = section.get(key)
        if name not in registry:
            continue  # an unknown option: validation names it and the options there are
        takes = registry[name].model_fields
        dropped = [k for k in section if k not in takes and f"{group}.{k}" not in given]
        for k in dropped:
            del section[k]
        if dropped:
            notes.append(f"{group}: {', '.join(f'{group}.{k}' for k in dropped)} dropped: the override "
                         f"{ov.input_line!r} picked {key} {name!r}, which does not take "
                         f"{'it' if len(dropped) == 1 else 'them'}.")
    return notes


@contextmanager
def _own_global_hydra() -> Iterator[None]:
    """Compose even inside a running Hydra app (a sweep job): set its global state aside and restore it."""
    from hydra.core.global_hydra import GlobalHydra

    gh = GlobalHydra.instance()
    saved = gh.hydra if gh.is_initialized() else None
    gh.clear()
    try:
        yield
    finally:
        gh.clear()
        if saved is not None:
            gh.initialize(saved)


def _flat_keys(value: Any, prefix: str) -> str:
    if isinstance(value, dict) and value:
        return ", ".join(_flat_keys(v, f"{prefix}.{k}") for k, v in value.items())
    return prefix


def _hydra_message(exc: Exception, groups: dict[str, list[str]]) -> str:
    from mlengine.errors import unknown_name

    text = str(exc).strip().splitlines()[0]
    marker = "Could not find '"
    if marker in text:  # e.g. "In 'recipe': Could not find 'model/lightgbn'"
        target = text.split(marker, 1)[1].split("'")[0]
        group, _, option = target.rpartition("/")
        if group in groups:
            return f"defaults: {unknown_name(f'option of config group {group!r}', option, groups[group])}"
        if group:
            return f"defaults: {unknown_name('config group', group, groups)}"
    return f"could not compose the recipe: {text}"


def resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make file paths in the data sources (data.source, evaluate.adversarial.data) absolute, relative to the
    recipe's folder."""
    _resolve_source((data.get("data") or {}).get("source"), base)
    adversarial = (data.get("evaluate") or {}).get("adversarial")
    if isinstance(adversarial, dict) and isinstance(adversarial.get("data"), str):
        from mlengine.sections.evaluate import source_from_path

        try:
            adversarial["data"] = source_from_path(adversarial["data"])
        except ValueError:
            return  # the schema names the key and the bad value
    if isinstance(adversarial, dict):
        _resolve_source(adversarial.get("data"), base)


def _resolve_source(source: Any, base: Path) -> None:
    if not isinstance(source, dict):
        return

    def absolute(p: str) -> str:
        return p if os.path.isabs(p) else str((base / p).resolve())

    if isinstance(source.get("path"), str):
        source["path"] = absolute(source["path"])
    if isinstance(source.get("tables"), dict):
        source["tables"] = {k: absolute(v) if isinstance(v, str) else v for k, v in source["tables"].items()}
    url = source.get("url")
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:":
            source["url"] = "sqlite:///" + absolute(rest)


def load_recipe(path: str | os.PathLike[str], overrides: list[str] | None = None) -> LoadedRecipe:
    """Compose, resolve and validate a recipe file; raises RecipeError listing every problem."""
    from mlengine.recipe.validate import validate_config

    path = Path(path).expanduser().resolve()
    overrides = list(overrides or [])
    data, notes = compose_recipe(path, overrides)
    data.setdefault("name", path.stem)
    resolve_paths(data, path.parent)
    recipe = validate_config(data, source=str(path))
    return LoadedRecipe(recipe=recipe, path=path, base_dir=path.parent, overrides=overrides, resolved=data,
                        notes=notes)


def recipe_from_dict(data: dict[str, Any], base_dir: str | os.PathLike[str] | None = None) -> LoadedRecipe:
    """Validate a recipe given as a dict (library use); relative paths resolve against base_dir or the cwd."""
    from mlengine.recipe.validate import validate_config

    data = yaml.safe_load(yaml.safe_dump(data))  # deep copy as plain data
    data.pop("defaults", None)
    data.setdefault("name", "recipe")
    base = Path(base_dir or Path.cwd()).resolve()
    resolve_paths(data, base)
    recipe = validate_config(data, source="<dict>")
    return LoadedRecipe(recipe=recipe, path=None, base_dir=base, overrides=[], resolved=data)
