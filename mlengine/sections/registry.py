"""The one registry shape of every recipe section: option name (the YAML value of `method`, `objective`, `kind`)
-> the typed option class that owns that option's keys, defaults, checks, builder and record.

A leaf module (pydantic and the errors module only), so each section module and the recipe schema import it.
`Registry.field()` is the annotation a section takes in the recipe: a pydantic union discriminated by the option
key, whose missing key means the section's default option. Adding an option is one class decorated with
`@REGISTRY.register` in the section's module.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from mlengine.errors import Problem, unknown_name


class Section(BaseModel):
    """Base of every recipe section: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class Option(BaseModel):
    """One option of a recipe section: unknown keys are errors; an option is a value (frozen) once validated."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    registry: ClassVar[Registry[Any]]
    summary: ClassVar[str] = ""  # one line: what the option does (listed with the option names)

    @classmethod
    def option_name(cls) -> str:
        return typing.get_args(cls.model_fields[cls.registry.key].annotation)[0]

    def settings(self) -> dict[str, Any]:
        """The option's own keys with their effective values (defaults included; unset optional keys left out)."""
        return {k: v for k, v in self.model_dump().items() if k != self.registry.key and v is not None}

    def updated(self, values: dict[str, Any]) -> Option:
        """This option with some keys replaced (e.g. a search's chosen values), validated like the recipe."""
        return type(self).model_validate({**self.model_dump(exclude_unset=True), **values})

    def key(self, name: str) -> str:
        """The dotted recipe key of one of this option's fields (for messages)."""
        return f"{self.registry.section}.{name}"


OptionT = TypeVar("OptionT", bound=Option)


class Registry(Generic[OptionT]):
    """Option name -> option class for one recipe section (e.g. resample: method -> SMOTE's class)."""

    def __init__(self, section: str, key: str, default: str | None) -> None:
        """`default`: the option a section without the key gets; None makes the key required (data.source.kind)."""
        self.section, self.key, self.default = section, key, default
        self._options: dict[str, type[OptionT]] = {}

    def register(self, cls: type[OptionT]) -> type[OptionT]:
        """Class decorator: the option's name is the Literal of its `key` field."""
        cls.registry = self
        name = cls.option_name()
        if name in self._options:
            raise ValueError(f"{self.section}: option {name!r} is registered twice")
        self._options[name] = cls
        return cls

    def __getitem__(self, name: str) -> type[OptionT]:
        return self._options[name]

    def __contains__(self, name: object) -> bool:
        return name in self._options

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def items(self) -> list[tuple[str, type[OptionT]]]:
        return list(self._options.items())

    def names(self) -> dict[str, str]:
        """Option name -> one-line summary (for docs and messages)."""
        return {name: cls.summary for name, cls in self._options.items()}

    def users(self, field: str) -> list[str]:
        """The options that take `field` (for "it is a parameter of ..." messages)."""
        return [name for name, cls in self._options.items() if field in cls.model_fields]

    def foreign_key(self, option: str, field: str) -> Problem | None:
        """A key the chosen option does not take but another does: one problem naming the options that take it."""
        users = self.users(field)
        if not users or option not in self._options:
            return None
        return Problem(f"{self.section}.{field}", f"does not apply to {self.key} {option!r}; it is a parameter of "
                                                  f"{', '.join(users)}.")

    def missing(self, option: str, field: str) -> str | None:
        """The message for a required key the chosen option needs (e.g. select.k for kbest), naming what it is."""
        cls = self._options.get(option)
        if cls is None or field not in cls.model_fields:
            return None
        desc = cls.model_fields[field].description
        return f"{self.key} {option!r} needs {field}" + (f": {desc}." if desc else ".")

    def unknown(self, name: Any) -> str:
        return unknown_name(f"{self.section} {self.key}", name, self._options)

    def tag(self, value: Any) -> str | None:
        """The option a recipe value chooses: its key, or the default when the key is left out."""
        if isinstance(value, dict):
            name = value.get(self.key, self.default)
            return None if name is None else str(name)
        return getattr(value, self.key, None)

    def field(self, description: str) -> Any:
        """(annotation, FieldInfo) for the recipe's section field: the discriminated union, default option."""
        tagger = self.tag
        members = tuple(typing.Annotated[cls, Tag(name)] for name, cls in self._options.items())
        union = typing.Annotated[typing.Union[members], Discriminator(tagger)]  # noqa: UP007 (a runtime tuple)
        if self.default is None:
            return union, Field(description=description)
        return union, Field(default_factory=self._options[self.default], description=description)

    def describe(self) -> str:
        return f"{self.key.capitalize()}s: " + ", ".join(self._options) + "."


def registry_of(model: Any) -> Registry[Any] | None:
    """The registry an option class belongs to (None for other models)."""
    return getattr(model, "registry", None) if isinstance(model, type) and issubclass(model, Option) else None
