"""shared.yaml_lines: the one checker of the YAML files people edit (rules, scorecard, knowledge)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from shared import yaml_lines
from shared.yaml_lines import YamlError

TEXT = """\
version: 1
items:
  greeting:
    weight: 5
    phrases:
      - 您好
  closing:
    weight: lots
"""


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: int = Field(ge=0)
    phrases: list[str] = Field(default_factory=list, min_length=2)


class Doc(BaseModel):
    version: int
    items: dict[str, Item]


def test_a_location_is_the_values_line_or_the_line_of_its_key():
    _, tree = yaml_lines.parse(TEXT, "x.yaml")
    assert yaml_lines.node_line(tree, ("items", "greeting", "weight")) == 4
    assert yaml_lines.node_line(tree, ("items", "greeting", "phrases")) == 6, "a block list: its first item"
    assert yaml_lines.node_line(tree, ("items", "greeting", "phrases"), key=True) == 5
    assert yaml_lines.node_line(tree, ("items", "greeting"), key=True) == 3
    assert yaml_lines.node_line(tree, ("items", "closing", "phrases")) == 8, "missing: the mapping that lacks it"
    assert yaml_lines.node_line(None, ("items",)) is None


def test_every_problem_is_listed_with_its_line_and_never_its_value():
    bad = TEXT.replace("    weight: 5\n", "    weight: 5\n    colour: blue\n")
    with pytest.raises(YamlError) as err:
        yaml_lines.load(bad, Doc, "x.yaml")
    assert err.value.problems == [
        "x.yaml line 7: items.greeting.phrases: List should have at least 2 items after validation, not 1",
        "x.yaml line 5: items.greeting.colour: Extra inputs are not permitted",
        "x.yaml line 9: items.closing.weight: Input should be a valid integer, unable to parse string as an integer",
    ]
    assert str(err.value).startswith("invalid x.yaml:\n") and "blue" not in str(err.value)


def test_syntax_errors_and_wrong_shapes():
    with pytest.raises(YamlError, match=r"x.yaml line 2, column \d+: invalid YAML"):
        yaml_lines.load("version: 1\nitems: [a: b: c]\n", Doc, "x.yaml")
    with pytest.raises(YamlError, match=r"x\.yaml line 1: expected a list of things at the top"):
        yaml_lines.load("- a\n", Doc, "x.yaml", shape="a list of things")
    doc, tree = yaml_lines.load("version: 2\nitems: {}\n", Doc, "x.yaml")
    assert doc.version == 2 and tree is not None
