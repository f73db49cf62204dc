"""Nudge rules as data: load, validate and hot-reload the rules YAML.

The YAML (``rules/default.yaml``, documented in ``docs/rules.md``) says, per
nudge type: enabled, priority, audience, cooldown, grace, thresholds, which
agent cues satisfy the need, which other needs its card covers, and several
wordings. The engine reads only these objects, so a team lead tunes Heartline
by editing the file; workers pick the change up without a restart
(``RulesWatcher``).

The file is validated whole against the detector registry
(``services/nudger/registry.py``): an unknown nudge type, threshold name,
wording case or cue, a threshold out of range or a value of the wrong type
refuses the file with the line that is wrong, and the rules already running
stay. Threshold defaults live in one place, the detector that reads them; a
loaded ``RuleSpec`` carries every threshold of its type (``spec.t(name)``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.nudger import registry
from shared import cues as C
from shared import nudge_types as T
from shared import yaml_lines
from shared.yaml_lines import YamlError

log = logging.getLogger(__name__)

# Types that live in the same rules file but are raised by another service
# (repeat_caller: the recorder, services/recorder/repeat.py); the nudger ignores them.
OTHER_SERVICES = T.OTHER_SERVICES


def __getattr__(name: str):
    if name == "CATALOG":  # the types the nudger raises: derived from the detector registry
        return registry.catalog()
    raise AttributeError(name)


class RuleSpec(BaseModel):
    """One nudge type. Times are seconds; thresholds are named per rule (see docs/rules.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # YAML gives native types: "30" is no number

    enabled: bool = True
    priority: Literal["low", "normal", "high"] = "normal"
    audience: Literal["agent", "supervisor"] = "agent"
    cooldown_s: float = Field(default=30, ge=0)
    # Cool down each case on its own (privacy: the agent repeating a card number
    # after the customer read it out is a new, worse event).
    cooldown_per_case: bool = False
    # When this card fires, the open needs of these types for its turn, or for an
    # earlier turn still waiting, are dropped (the card covers them); every other
    # open need waits at least ``card_gap_s`` (one moment, one card).
    covers: list[str] = Field(default_factory=list)
    # At most this many nudges of the type per call (0: no limit beyond the cooldown).
    max_per_call: int = Field(default=0, ge=0)
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

    def t(self, name: str) -> float:
        """A threshold; every declared one is present once the rules are loaded."""
        return self.thresholds[name]


class RiskWeights(BaseModel):
    """Weights of the wall's risk score (noisy-OR of independent signals)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # YAML gives native types: "30" is no number

    negative_sentiment: float = Field(default=0.45, ge=0, le=1)
    anger: float = Field(default=0.35, ge=0, le=1)
    anxiety: float = Field(default=0.2, ge=0, le=1)
    sadness: float = Field(default=0.2, ge=0, le=1)
    sustained_anger: float = Field(default=0.35, ge=0, le=1)
    asks_for_manager: float = Field(default=0.4, ge=0, le=1)
    complaint_threat: float = Field(default=0.6, ge=0, le=1)
    escalated: float = Field(default=0.3, ge=0, le=1)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # YAML gives native types: "30" is no number

    version: int = 1
    # After a card fires, every other open need waits at least this long
    # (unless the card covers it): one moment, one card.
    card_gap_s: float = Field(default=6, ge=0)
    risk: RiskWeights = Field(default_factory=RiskWeights)
    nudges: dict[str, RuleSpec]

    @model_validator(mode="after")
    def _against_registry(self, info: ValidationInfo) -> Rules:
        if (info.context or {}).get("deferred"):
            return self  # parse_rules checks with line numbers, then resolves
        problems = registry_problems(self)
        if problems:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in problems))
        return resolve(self)

    def get(self, nudge_type: str) -> RuleSpec | None:
        spec = self.nudges.get(nudge_type)
        return spec if spec is not None and spec.enabled else None

    def threshold(self, nudge_type: str, name: str) -> float:
        """A threshold of a type even when the file leaves the type out (its declared default)."""
        spec = self.nudges.get(nudge_type)
        if spec is not None:
            return spec.t(name)
        return float(registry.thresholds_of(nudge_type)[name].default)


def registry_problems(rules: Rules) -> list[tuple[tuple[Any, ...], str]]:
    """Everything the registry says is wrong with validated rules: ``[(location, message)]``."""
    catalog = registry.catalog()
    known = set(catalog) | set(OTHER_SERVICES)
    agent_cues = set(C.AGENT_CUES)
    out: list[tuple[tuple[Any, ...], str]] = []
    for name, spec in rules.nudges.items():
        at = ("nudges", name)
        if name not in known:
            out.append((at, f"unknown nudge type {name!r}; known: {', '.join(catalog + OTHER_SERVICES)}"))
            continue
        if name in OTHER_SERVICES:
            continue  # read by its own service
        declared = registry.thresholds_of(name)
        for th, value in spec.thresholds.items():
            if th not in declared:
                out.append(
                    (
                        (*at, "thresholds", th),
                        f"unknown threshold {th!r} for {name}; known: {', '.join(sorted(declared))}",
                    )
                )
            elif (why := declared[th].problem(value)) is not None:
                out.append(((*at, "thresholds", th), why))
        for i, cue in enumerate(spec.satisfied_by):
            if cue not in agent_cues:
                out.append(((*at, "satisfied_by", i), f"unknown agent cue {cue!r}; known: {', '.join(C.AGENT_CUES)}"))
        cases = registry.cases_of(name)
        for case in spec.cases:
            if case not in cases:
                out.append(
                    (
                        (*at, "cases", case),
                        f"unknown case {case!r} for {name}; known: {', '.join(sorted(cases)) or '(none)'}",
                    )
                )
        for i, other in enumerate(spec.covers):
            if other not in catalog or other == name:
                out.append(((*at, "covers", i), f"covers must name another nudger type, not {other!r}"))
    return out


def resolve(rules: Rules) -> Rules:
    """Fill every declared threshold the file leaves out with its default (in place)."""
    for name, spec in rules.nudges.items():
        if name in OTHER_SERVICES:
            continue
        spec.thresholds = {
            **{k: float(th.default) for k, th in registry.thresholds_of(name).items()},
            **{k: float(v) for k, v in spec.thresholds.items()},
        }
    return rules


class RulesError(YamlError):
    """The rules file is not valid; the message names the file and line."""


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    """Validate rules YAML text; raise ``RulesError`` naming the line that is wrong."""
    try:
        rules, tree = yaml_lines.load(
            text, Rules, source, context={"deferred": True}, shape="a mapping with a 'nudges' key"
        )
    except YamlError as exc:
        raise RulesError(str(exc), exc.problems) from exc
    # what the registry refuses is a name (a type, a threshold, a case): the line of its key
    problems = [yaml_lines.problem(source, tree, loc, msg, key=True) for loc, msg in registry_problems(rules)]
    if problems:
        raise RulesError(str(yaml_lines.fail(source, problems)), problems)
    return resolve(rules)


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
