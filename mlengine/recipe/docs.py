"""Render the recipe schema as a Markdown key reference (the README's "Recipe keys" section).

Run `python -m mlengine.recipe.docs --write README.md` after changing the schema; a test checks the README is current.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mlengine.sections.registry import registry_of

START, END = "<!-- recipe-keys:start -->", "<!-- recipe-keys:end -->"


def _type_name(ann: Any) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a).replace("'", "") for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin in (list, tuple):
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin is dict:
        return f"map[{_type_name(args[0])}, {_type_name(args[1])}]" if args else "map"
    if ann is type(None):
        return "null"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "section"
    return getattr(ann, "__name__", str(ann)).replace("Any", "any")


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        d = field.default
    elif field.default_factory is not None:
        d = field.default_factory()
        if isinstance(d, BaseModel):
            return ""
    else:
        return "required"
    if d is None:
        return "null"
    if isinstance(d, bool):
        return str(d).lower()
    return f"`{d}`" if not isinstance(d, str) else f"`{d}`"


def _models(ann: Any) -> list[type[BaseModel]]:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _models(args[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        return [m for a in args for m in _models(a)]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return []


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        subs = _models(field.annotation)
        is_map = typing.get_origin(field.annotation) is dict
        if subs and not is_map:
            if len(subs) > 1:  # a tagged union: the options, then each key once, naming the options that take it
                out += _union_rows(key, field, subs)
            else:
                is_list = typing.get_origin(field.annotation) is list
                out.append((key, "list of " + _type_name(typing.get_args(field.annotation)[0]) if is_list else "section",
                            _default(field) if is_list else "", field.description or ""))
                out += rows(subs[0], f"{key}.")
            continue
        out.append((key, _type_name(field.annotation), _default(field), field.description or ""))
        if is_map and subs:
            keys = (field.json_schema_extra or {}).get("keys", ["name"])  # placeholders of (nested) map keys
            out += rows(subs[0], f"{key}." + "".join(f"<{k}>." for k in keys))
    return out


def _discriminator(model: type[BaseModel]) -> str:
    registry = registry_of(model)
    return registry.key if registry else "kind"


def _tag(model: type[BaseModel]) -> str:
    return typing.get_args(model.model_fields[_discriminator(model)].annotation)[0]


def _union_rows(key: str, field: Any, subs: list[type[BaseModel]]) -> list[tuple[str, str, str, str]]:
    """A section with one typed option per `method`/`objective`/`kind`: a row for the option key listing every
    option with what it does, then each option key once per distinct meaning, with the options that take it."""
    disc = _discriminator(subs[0])
    default = "required"
    if field.default_factory is not None:
        default = f"`{_tag(type(field.default_factory()))}`"
    registry = registry_of(subs[0])
    summary = {_tag(s): (registry.names()[_tag(s)] if registry else s.model_fields[disc].description or "")
               for s in subs}
    out = [(key, f"section, one option per {disc}", default, field.description or ""),
           (f"{key}.{disc}", " \\| ".join(summary), default, "; ".join(f"{n}: {d}" for n, d in summary.items()))]
    keys: dict[str, list[tuple[str, str, str, str]]] = {}
    for s in subs:
        for k, typ, d, desc in rows(s, f"{key}."):
            if k != f"{key}.{disc}":
                keys.setdefault(k, []).append((_tag(s), typ, d, desc))
    for k, variants in keys.items():
        meanings: dict[tuple[str, str, str], list[str]] = {}
        for tag, typ, d, desc in variants:
            meanings.setdefault((typ, d, desc), []).append(tag)
        out += [(k if len(tags) == len(subs) else f"{k} ({', '.join(tags)})", typ, d, desc)
                for (typ, d, desc), tags in meanings.items()]  # a key every option takes alike: no option list
    return out


def render() -> str:
    from mlengine.recipe.schema import Recipe

    lines = [START, "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for key, typ, default, desc in rows(Recipe):
        lines.append(f"| `{key}` | {typ} | {default} | {desc} |")
    lines += ["", END]
    return "\n".join(lines)


def update_readme(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(START), text.index(END) + len(END)
    new = text[:start] + render() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        print("updated" if update_readme(Path(sys.argv[2])) else "up to date")
    else:
        print(render())
