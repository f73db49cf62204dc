"""Validate a YAML document with pydantic and say on which line each problem is.

Data files that people edit (the knowledge base, rules) are refused with the
file, line and field that is wrong: ``faq.yaml line 42: entries.3.answer:
String should have at most 240 characters``. ``load`` parses and validates;
``node_line`` follows a pydantic error location through the YAML node tree.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class YamlError(ValueError):
    """A YAML document that does not parse or validate; the message names file and line."""


def node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the node at ``loc`` (or of its nearest existing parent)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, val in node.value:
                if str(key.value) == str(part):
                    child = val
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break  # e.g. a missing field: the enclosing mapping is the best line
        node, line = child, child.start_mark.line + 1
    return line


def parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree; ``YamlError`` naming the line if it does not parse."""
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{source}{where}: invalid YAML: {problem}") from exc


def located(exc: ValidationError, tree: yaml.Node | None, source: str) -> list[str]:
    """``<source> line N: <field path>: <message>`` for every error of ``exc``."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc) or "(top)"
        out.append(f"{source} line {node_line(tree, loc)}: {path}: {err['msg']}")
    return out


def load(text: str, model: type[BaseModel], source: str) -> tuple[BaseModel, yaml.Node | None]:
    """Parse and validate one document as ``model``; ``YamlError`` lists every problem with its line."""
    data, tree = parse(text, source)
    if not isinstance(data, dict):
        raise YamlError(f"{source} line 1: expected a mapping at the top of the file")
    try:
        return model.model_validate(data), tree
    except ValidationError as exc:
        raise YamlError("\n".join(located(exc, tree, source))) from exc
