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
            if len(subs) > 1:  # a tagged union: one block per variant
                out.append((key, "one of: " + ", ".join(f"kind={_tag(s)}" for s in subs), "required",
                            field.description or ""))
                for s in subs:
                    out += [(f"{key}.{k[len(key) + 1:]} ({_tag(s)})" if k.startswith(key) else k, t, d, desc)
                            for k, t, d, desc in rows(s, f"{key}.")]
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


def _tag(model: type[BaseModel]) -> str:
    kind = model.model_fields["kind"].annotation
    return typing.get_args(kind)[0]


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
