"""A check for the sections whose keys depend on the chosen option but that have no option classes yet (threshold;
resample, select and reduce have one class per method in mlengine/sections/, where such a key is refused by the
registry)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlengine.errors import Problem


def foreign_params(section: Any, prefix: str, field: str, params: Mapping[str, Iterable[str]],
                   unset: tuple[Any, ...] = (None,)) -> list[Problem]:
    """Problems for keys the recipe set that the chosen option does not take, naming the options that do.

    `params` maps each option to the keys it takes; `field` is the key that names the option (method, objective).
    """
    chosen = getattr(section, field)
    problems = []
    for key in sorted(section.model_fields_set - {field}):
        if getattr(section, key) not in unset and key not in params.get(chosen, ()):
            users = [name for name, keys in params.items() if key in keys]
            problems.append(Problem(f"{prefix}.{key}", f"does not apply to {field} {chosen!r}; it is a parameter of "
                                                       f"{', '.join(users)}."))
    return problems
