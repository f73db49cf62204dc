"""Validate a YAML file that people edit with pydantic, and say on which line each problem is.

The one helper for every hand-edited data file — the nudge rules (``rules/default.yaml``),
the scorecard standard (``rules/scorecard.yaml``), the knowledge base (``knowledge/*.yaml``):
a broken file is refused with every problem as ``<file> line N: <field path>: <message>``
(``faq.yaml line 42: entries.3.answer: String should have at most 240 characters``), never
with the values it holds.

* ``load(text, model, source)`` parses and validates: the model and the node tree, or
  ``YamlError`` listing every problem.
* ``node_line(tree, loc)`` follows a location (``("items", "greeting", "weight")``) through
  the YAML node tree to a 1-based line: the value's line, or with ``key=True`` the line of the
  key that names it (for a problem with the name itself: an unknown field or type).
* ``problem`` / ``located`` format one problem, or every error of a pydantic
  ``ValidationError`` (an unknown field points at its key), for checks a caller adds.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


class YamlError(ValueError):
    """A YAML document that does not parse or validate; the message names the file and each
    line, ``problems`` lists them one by one."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def node_line(node: yaml.Node | None, loc: Loc, key: bool = False) -> int | None:
    """The 1-based line of the node at ``loc``, or of its nearest existing parent (a missing
    field: the mapping that lacks it)."""
    if node is None:
        return None
    line = key_line = node.start_mark.line + 1
    for part in loc:
        child = None
        at = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(part):
                    child, at = v, k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            at = child.start_mark.line + 1
        if child is None:
            break
        node, line, key_line = child, child.start_mark.line + 1, at
    return key_line if key else line


def problem(source: str, tree: yaml.Node | None, loc: Loc, message: str, key: bool = False) -> str:
    """``<source> line N: <field path>: <message>``."""
    path = ".".join(str(p) for p in loc) or "(top)"
    return f"{source} line {node_line(tree, loc, key)}: {path}: {message}"


def located(exc: ValidationError, tree: yaml.Node | None, source: str, prefix: Loc = ()) -> list[str]:
    """One ``problem`` per error of ``exc``; ``prefix`` is where the validated part sits in the file."""
    return [
        problem(source, tree, prefix + tuple(err["loc"]), err["msg"], key=err["type"] == "extra_forbidden")
        for err in exc.errors(include_url=False)
    ]


def fail(source: str, problems: list[str]) -> YamlError:
    """The error for a file with these problems (raise it)."""
    return YamlError(f"invalid {source}:\n" + "\n".join(problems), problems)


def parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree; ``YamlError`` naming the line if it does not parse."""
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{source}{where}: invalid YAML: {reason}") from exc


def load(
    text: str, model: type[M], source: str, context: dict[str, Any] | None = None, shape: str = "a mapping"
) -> tuple[M, yaml.Node | None]:
    """Parse and validate one document as ``model`` (``context``: pydantic's validation
    context); ``YamlError`` lists every problem with its line. ``shape`` says what the top of
    the file must be, for the message when it is not a mapping."""
    data, tree = parse(text, source)
    if not isinstance(data, dict):
        raise YamlError(f"{source} line 1: expected {shape} at the top of the file")
    try:
        return model.model_validate(data, context=context), tree
    except ValidationError as exc:
        raise fail(source, located(exc, tree, source)) from exc
