"""Validate a YAML file against pydantic models and say which line is wrong.

``yaml_line(tree, loc)`` follows a pydantic error location (``("items",
"greeting", "weight")``) through the composed YAML node tree to a 1-based
line; ``parse_yaml`` validates text and raises ``YamlError`` listing every
error as ``<file> line N: <path>: <message>``. Used by the scorecard
standard (``rules/scorecard.yaml``); any data file a team edits by hand can
use it.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class YamlError(ValueError):
    """The file is not valid; the message names the file and the line of each error."""


def yaml_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
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


def error_lines(exc: ValidationError, tree: yaml.Node | None, source: str, prefix: tuple = ()) -> list[str]:
    out = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        path = ".".join(str(p) for p in loc) or "(top)"
        out.append(f"{source} line {yaml_line(tree, loc)}: {path}: {err['msg']}")
    return out


def parse_yaml(text: str, model: type[M], source: str = "<yaml>",
               extra_checks: Callable[[M, yaml.Node | None, str], list[str]] | None = None) -> M:
    """Validate YAML text as ``model``; ``extra_checks(result, tree, source)`` may return more error lines."""
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{source}{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise YamlError(f"{source} line 1: expected a mapping at the top of the file")
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        raise YamlError("invalid " + source + ":\n" + "\n".join(error_lines(exc, tree, source))) from exc
    problems = extra_checks(result, tree, source) if extra_checks else []
    if problems:
        raise YamlError("invalid " + source + ":\n" + "\n".join(problems))
    return result
