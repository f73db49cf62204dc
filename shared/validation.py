"""Why a record failed validation, in words safe for a log, a 4xx body or a dead letter.

``reasons(exc)`` turns a pydantic ``ValidationError`` into ``"<field>: <what
is wrong>"`` lines that never carry the input's values: transcripts, names
and ids may be personal data, and a reason travels further than the record
(logs, metrics dashboards, the ``.dlq`` topics). Pydantic's messages quote
the input in a few error types (an unknown discriminator tag); those get a
value-free wording, and any other message that happens to contain the
offending value has it replaced by ``…``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from fastapi.exceptions import RequestValidationError

# Error types whose pydantic message quotes the input, with a wording that does not.
_VALUE_FREE = {
    "union_tag_invalid": "unknown {discriminator}; expected one of {expected_tags}",
}
_MAX_LOC_PART = 64  # a location part longer than this came from the input (a dict key): not shown


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) if len(str(p)) <= _MAX_LOC_PART else "…" for p in loc]
    return ".".join(parts) or "value"


def _what(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    template = _VALUE_FREE.get(err.get("type", ""))
    if template:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return str(err.get("type", "invalid"))
    msg = str(err.get("msg", "invalid"))
    value = err.get("input")
    if isinstance(value, (str, bytes, int, float)) and not isinstance(value, bool):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if len(text) >= 3 and text in msg:
            msg = msg.replace(text, "…")
    return msg


def _errors(exc: ValidationError | RequestValidationError) -> list[Mapping[str, Any]]:
    """pydantic's error dicts of a ``ValidationError`` or FastAPI's ``RequestValidationError``."""
    if isinstance(exc, ValidationError):
        return list(exc.errors(include_url=False))
    return list(exc.errors())  # RequestValidationError.errors() takes no arguments


def describe(exc: ValidationError | RequestValidationError, limit: int = 5) -> list[tuple[str, str]]:
    """``(field path, what is wrong)`` for the first ``limit`` errors of a ``ValidationError`` or a
    FastAPI ``RequestValidationError``, without input values."""
    return [(_where(tuple(err.get("loc", ()))), _what(err)) for err in _errors(exc)[:limit]]


def kinds(exc: ValidationError | RequestValidationError) -> set[str]:
    """The pydantic error types in ``exc`` (``json_invalid``, ``missing``, …)."""
    return {str(err.get("type", "")) for err in _errors(exc)}


def reasons(exc: ValidationError, limit: int = 5) -> list[str]:
    """``"<field path>: <what is wrong>"`` for the first ``limit`` errors, without input values."""
    return [f"{where}: {what}" for where, what in describe(exc, limit)]


def reason(exc: ValidationError, model: str, limit: int = 5) -> str:
    """One line: ``invalid <model>: <field>: <what>; …`` (for dead letters and logs)."""
    return f"invalid {model}: " + "; ".join(reasons(exc, limit))
