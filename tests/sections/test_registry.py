"""`mlengine.sections.registry` on a tiny registry defined here: registering options (the name from the Literal of
the option key, duplicates refused), the discriminated-union field with its default option, and the messages for
foreign, missing and unknown keys; an option's `settings()` and `updated()`."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, ValidationError

from mlengine.errors import Problem
from mlengine.sections.registry import Option, Registry, Section, registry_of

SHAPES: Registry = Registry("shape", "kind", default="circle")


@SHAPES.register
class Circle(Option):
    summary = "a round shape"
    kind: Literal["circle"] = "circle"
    radius: float = Field(1.0, gt=0, description="the radius in cm")


@SHAPES.register
class Square(Option):
    summary = "four equal sides"
    kind: Literal["square"] = "square"
    side: float = Field(description="the side in cm")
    label: str | None = None


REQUIRED: Registry = Registry("source", "kind", default=None)


@REQUIRED.register
class Csv(Option):
    kind: Literal["csv"] = "csv"
    path: str = Field(description="where the file is")


ShapeConfig, SHAPE_FIELD = SHAPES.field("the shape to draw")
SourceConfig, SOURCE_FIELD = REQUIRED.field("where the data comes from")
CSV = {"kind": "csv", "path": "a.csv"}


class Drawing(Section):
    shape: ShapeConfig = SHAPE_FIELD  # type: ignore[valid-type]  (as the recipe's sections take them)
    source: SourceConfig = SOURCE_FIELD  # type: ignore[valid-type]


def test_register_names_each_option_by_the_literal_of_its_key():
    assert list(SHAPES) == ["circle", "square"] and "square" in SHAPES and "triangle" not in SHAPES
    assert SHAPES["square"] is Square and SHAPES.items() == [("circle", Circle), ("square", Square)]
    assert Circle.option_name() == "circle" and Square.registry is SHAPES
    assert SHAPES.names() == {"circle": "a round shape", "square": "four equal sides"}
    assert SHAPES.describe() == "Kinds: circle, square."


def test_registering_an_option_name_twice_is_refused():
    reg: Registry = Registry("shape", "kind", default=None)

    class One(Option):
        kind: Literal["one"] = "one"

    class Again(Option):
        kind: Literal["one"] = "one"

    reg.register(One)
    with pytest.raises(ValueError, match=r"^shape: option 'one' is registered twice$"):
        reg.register(Again)
    assert reg["one"] is One


def test_field_defaults_to_the_default_option_and_dispatches_on_the_key():
    d = Drawing.model_validate({"source": CSV})
    assert type(d.shape) is Circle and d.shape.radius == 1.0
    d = Drawing.model_validate({"shape": {"kind": "square", "side": 2}, "source": {"kind": "csv", "path": "a.csv"}})
    assert type(d.shape) is Square and d.shape.side == 2.0
    d = Drawing.model_validate({"shape": {"radius": 3}, "source": CSV})  # key left out: the default
    assert type(d.shape) is Circle and d.shape.radius == 3.0
    annotation, info = SHAPES.field("the shape to draw")
    assert info.description == "the shape to draw" and type(info.default_factory()) is Circle


def test_field_without_a_default_makes_the_section_required():
    _, info = REQUIRED.field("where the data comes from")
    assert info.is_required() and info.default_factory is None
    with pytest.raises(ValidationError) as exc:
        Drawing.model_validate({})
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("source",), "missing")]
    with pytest.raises(ValidationError) as exc:  # no default option: the key itself is required
        Drawing.model_validate({"source": {"path": "a.csv"}})
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("source",), "union_tag_not_found")]


def test_an_option_refuses_keys_of_another_option_and_unknown_option_names():
    with pytest.raises(ValidationError) as exc:
        Drawing.model_validate({"shape": {"kind": "circle", "side": 2}, "source": CSV})
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("shape", "circle", "side"), "extra_forbidden")]
    with pytest.raises(ValidationError) as exc:
        Drawing.model_validate({"shape": {"kind": "triangle"}, "source": CSV})
    assert exc.value.errors()[0]["type"] == "union_tag_invalid"


def test_options_are_frozen_values():
    c = Circle()
    with pytest.raises(ValidationError):
        c.radius = 2.0
    assert Circle(radius=2) == Circle(radius=2.0) and Circle(radius=2) != Circle(radius=3)


def test_tag_reads_the_key_or_the_default():
    assert SHAPES.tag({"kind": "square"}) == "square"
    assert SHAPES.tag({"radius": 2}) == "circle"
    assert SHAPES.tag(Square(side=1)) == "square"
    assert SHAPES.tag(42) is None  # neither a dict nor an option
    assert REQUIRED.tag({"path": "a.csv"}) is None  # no default: nothing chosen


def test_users_and_foreign_key_name_the_options_that_take_a_key():
    assert SHAPES.users("side") == ["square"] and SHAPES.users("kind") == ["circle", "square"]
    assert SHAPES.foreign_key("circle", "side") == Problem(
        "shape.side", "does not apply to kind 'circle'; it is a parameter of square.")
    assert SHAPES.foreign_key("circle", "colour") is None  # no option takes it: an unknown key, not a foreign one
    assert SHAPES.foreign_key("triangle", "side") is None  # an unknown option has its own message


def test_missing_names_the_required_key_with_its_description():
    assert SHAPES.missing("square", "side") == "kind 'square' needs side: the side in cm."
    assert SHAPES.missing("square", "label") == "kind 'square' needs label."  # no description
    assert SHAPES.missing("circle", "side") is None and SHAPES.missing("triangle", "side") is None


def test_unknown_suggests_the_closest_name_and_lists_the_allowed_ones():
    assert SHAPES.unknown("squar") == "unknown shape kind 'squar'. Did you mean 'square'? Allowed: circle, square."
    assert SHAPES.unknown("hexagon") == "unknown shape kind 'hexagon'. Allowed: circle, square."


def test_settings_are_the_effective_values_without_the_key_or_unset_optionals():
    assert Circle().settings() == {"radius": 1.0}
    assert Square(side=2).settings() == {"side": 2.0}
    assert Square(side=2, label="a").settings() == {"side": 2.0, "label": "a"}
    assert Square(side=2).key("side") == "shape.side"


def test_updated_replaces_keys_and_validates_like_the_recipe():
    sq = Square(side=2, label="a")
    new = sq.updated({"side": 5})
    assert type(new) is Square and new.side == 5.0 and new.label == "a" and sq.side == 2.0
    assert new.model_fields_set == {"side", "label"}  # the defaults stay defaults, not set keys
    with pytest.raises(ValidationError, match="greater than 0"):
        Circle().updated({"radius": -1})
    with pytest.raises(ValidationError, match="extra"):
        Circle().updated({"side": 1})


def test_registry_of_finds_the_registry_of_option_classes_only():
    assert registry_of(Square) is SHAPES and registry_of(Csv) is REQUIRED
    assert registry_of(Drawing) is None and registry_of(Square(side=1)) is None and registry_of(int) is None


def test_section_forbids_unknown_keys_and_validates_assignment():
    d = Drawing.model_validate({"source": CSV})
    with pytest.raises(ValidationError):
        Drawing.model_validate({"source": CSV, "colour": "red"})
    with pytest.raises(ValidationError):
        d.shape = {"kind": "square"}  # side is required
    d.shape = {"kind": "square", "side": 4}
    assert type(d.shape) is Square and d.shape.side == 4.0
