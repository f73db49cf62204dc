"""Nudge rules as data: load, validate and hot-reload the rules YAML.

The YAML (``rules/default.yaml``, documented in ``docs/rules.md``) says, per
nudge type: enabled, priority, audience, cooldown, grace, thresholds, which
agent cues satisfy the need, and several wordings. The engine reads only
these objects, so a team lead tunes Heartline by editing the file; workers
pick the change up without a restart (``RulesWatcher``). A broken file is
refused with the line that is wrong, and the rules already running stay.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

# The catalog of DESIGN.md: every type the engine knows how to detect.
CATALOG = (
    "acknowledge_emotion",
    "confirm_request",
    "offer_hold_wording",
    "thank_for_waiting",
    "timely_response",
    "dont_interrupt",
    "privacy_guard",
    "polite_language",
    "guide_step_by_step",
    "affirm_customer",
    "closing_check",
    "compliance_warning",
    "escalate_supervisor",
)
# Types that live in the same rules file but are raised by another service
# (repeat_caller: the recorder, services/recorder/repeat.py); the nudger ignores them.
OTHER_SERVICES = ("repeat_caller",)


class RuleSpec(BaseModel):
    """One nudge type. Times are seconds; thresholds are named per rule (see docs/rules.md)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    priority: Literal["low", "normal", "high"] = "normal"
    audience: Literal["agent", "supervisor"] = "agent"
    cooldown_s: float = Field(default=30, ge=0)
    # Cool down each case on its own (privacy: the agent repeating a card number
    # after the customer read it out is a new, worse event).
    cooldown_per_case: bool = False
    # When another nudge fires for the same customer turn, drop this need
    # (one corrective card per turn); false for a need the others do not cover.
    one_per_turn: bool = True
    # How long an open need waits for the agent to meet it unprompted.
    grace_s: float = Field(default=0, ge=0)
    # Once met, the need stays met this long (no new need of this type opens).
    ack_window_s: float = Field(default=0, ge=0)
    # Agent cues / phrases that meet the need.
    satisfied_by: list[str] = Field(default_factory=list)
    satisfied_phrases: list[str] = Field(default_factory=list)
    title: str = Field(min_length=1)
    wordings: list[str] = Field(min_length=1)
    # Wordings for a particular case of the rule (e.g. privacy_guard.password).
    cases: dict[str, list[str]] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("wordings")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not w.strip() for w in value):
            raise ValueError("a wording is empty")
        return value

    def t(self, name: str, default: float) -> float:
        return float(self.thresholds.get(name, default))


class RiskWeights(BaseModel):
    """Weights of the wall's risk score (noisy-OR of independent signals)."""

    model_config = ConfigDict(extra="forbid")

    negative_sentiment: float = Field(default=0.45, ge=0, le=1)
    anger: float = Field(default=0.35, ge=0, le=1)
    anxiety: float = Field(default=0.2, ge=0, le=1)
    sadness: float = Field(default=0.2, ge=0, le=1)
    sustained_anger: float = Field(default=0.35, ge=0, le=1)
    asks_for_manager: float = Field(default=0.4, ge=0, le=1)
    complaint_threat: float = Field(default=0.6, ge=0, le=1)
    escalated: float = Field(default=0.3, ge=0, le=1)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    risk: RiskWeights = Field(default_factory=RiskWeights)
    nudges: dict[str, RuleSpec]

    @field_validator("nudges")
    @classmethod
    def _known_types(cls, value: dict[str, RuleSpec]) -> dict[str, RuleSpec]:
        unknown = sorted(set(value) - set(CATALOG) - set(OTHER_SERVICES))
        if unknown:
            raise ValueError(f"unknown nudge type(s) {unknown}; known: {', '.join(CATALOG)}")
        return value

    def get(self, nudge_type: str) -> RuleSpec | None:
        spec = self.nudges.get(nudge_type)
        return spec if spec is not None and spec.enabled else None


class RulesError(ValueError):
    """The rules file is not valid; the message names the file and line."""


def _node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line."""
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


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    """Validate rules YAML text; raise ``RulesError`` naming the line that is wrong."""
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesError(f"{source}{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{source} line 1: the rules file must be a mapping with a 'nudges' key")
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _node_line(tree, loc)
            path = ".".join(str(p) for p in loc) or "(top)"
            lines.append(f"{source} line {line}: {path}: {err['msg']}")
        raise RulesError("invalid rules:\n" + "\n".join(lines)) from exc


def load_rules(path: str | Path) -> Rules:
    path = Path(path)
    return parse_rules(path.read_text(encoding="utf-8"), str(path))


class RulesWatcher:
    """Holds the current rules and reloads them when the file changes.

    ``maybe_reload()`` is cheap (one ``stat``): call it from the worker's timer.
    A file that fails to load is logged with its line and kept in
    ``last_error``; the previous rules keep running until a good file lands.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._stamp = self._stat()
        self.rules: Rules = load_rules(self.path)  # no previous rules: refuse to start
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def maybe_reload(self) -> bool:
        """Reload if the file changed; True when new rules are in force."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            rules = load_rules(self.path)
        except (RulesError, OSError) as exc:
            self.last_error = str(exc)
            log.error("rules reload refused, previous rules stay in force: %s", exc)
            return False
        self.rules, self.last_error = rules, None
        log.info("rules reloaded from %s", self.path)
        return True
