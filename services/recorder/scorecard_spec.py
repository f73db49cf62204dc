"""The scorecard standard (质检标准) as data: ``rules/scorecard.yaml``.

One entry per check the scorer knows (``CHECK_PARAMS``, docs/history.md): its
label, the service principle it stands for, its weight, extra wording that
counts (``phrases``) and the check's own parameters. Weights are relative:
a call's total is the weighted mean of the items that apply to it, on
0–100. A broken file is refused with its line (``shared.yaml_lines``); the
recorder refuses to start on one, and keeps the standard it has when a
reload fails (``SpecWatcher``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared import yaml_lines
from shared.yaml_lines import YamlError

log = logging.getLogger("recorder.scorecard")
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "rules" / "scorecard.yaml"
PRINCIPLES = ("关注", "尊重", "理解", "认同", "人性化", "合规")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(_Params):
    pass


class GreetingParams(_Params):
    first_agent_turns: int = Field(2, ge=1, le=10)  # the greeting must come this early


class AttentionParams(_Params):
    max_silence_s: float = Field(7.0, gt=0, le=120)  # customer finished, agent silent longer = a lapse


class RespectParams(_Params):
    min_overlap_ms: int = Field(1000, ge=0)  # shorter overlap is ordinary turn-taking
    lead_ms: int = Field(300, ge=0)  # agent started this long after the customer began


class AcknowledgeParams(_Params):
    emotion_score: float = Field(0.6, ge=0, le=1)  # the customer is upset from this score on
    within_agent_turns: int = Field(2, ge=1, le=10)  # the agent's next turns that may acknowledge it


class AffirmParams(_Params):
    within_agent_turns: int = Field(2, ge=1, le=10)  # the agent's next turns that may affirm the suggestion


class ClosingParams(_Params):
    last_agent_turns: int = Field(3, ge=1, le=10)  # the closing must be among the agent's last turns
    # wording that counts next to the analyzer's closing_question / closing cues
    question_phrases: list[str] = Field(default_factory=lambda: ["还有其他问题", "还有什么可以帮您"])
    farewell_phrases: list[str] = Field(default_factory=lambda: ["谢谢您的来电", "感谢您的来电", "再见"])


# check name -> its parameters (the scoring functions are in services/recorder/scorecard.py)
CHECK_PARAMS: dict[str, type[_Params]] = {
    "greeting": GreetingParams,
    "attention": AttentionParams,
    "respect": RespectParams,
    "understanding": AcknowledgeParams,
    "affirmation": AffirmParams,
    "confirm_request": NoParams,
    "hold_etiquette": NoParams,
    "privacy": NoParams,
    "compliance": NoParams,
    "closing": ClosingParams,
}


class ItemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    label: str = Field(min_length=1, max_length=32)
    principle: str
    weight: float = Field(ge=0, le=100)
    phrases: list[str] = Field(default_factory=list)
    params: dict = Field(default_factory=dict)
    # filled from ``params`` after validation (the check's own model)
    conf: _Params | None = Field(default=None, exclude=True)

    @field_validator("principle")
    @classmethod
    def _principle(cls, value: str) -> str:
        if value not in PRINCIPLES:
            raise ValueError(f"one of {', '.join(PRINCIPLES)}")
        return value

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("phrases must not be empty strings")
        return value


class ScorecardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    items: dict[str, ItemSpec]

    @field_validator("items")
    @classmethod
    def _known(cls, value: dict[str, ItemSpec]) -> dict[str, ItemSpec]:
        unknown = sorted(set(value) - set(CHECK_PARAMS))
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_PARAMS)}")
        if not any(i.enabled and i.weight > 0 for i in value.values()):
            raise ValueError("at least one enabled item needs a weight above 0")
        return value

    def active(self) -> list[tuple[str, ItemSpec]]:
        return [(k, i) for k, i in self.items.items() if i.enabled]


def _check_params(spec: ScorecardSpec, tree, source: str) -> list[str]:
    problems: list[str] = []
    for key, item in spec.items.items():
        if key == "closing" and item.phrases:
            problems.append(
                yaml_lines.problem(
                    source,
                    tree,
                    ("items", key, "phrases"),
                    "closing has two lists: params.question_phrases and params.farewell_phrases",
                )
            )
        try:
            item.conf = CHECK_PARAMS[key].model_validate(item.params)
        except ValidationError as exc:
            problems += yaml_lines.located(exc, tree, source, ("items", key, "params"))
    return problems


def parse_spec(text: str, source: str = "<scorecard>") -> ScorecardSpec:
    """Validate scorecard YAML text; raise ``YamlError`` naming each wrong line."""
    spec, tree = yaml_lines.load(text, ScorecardSpec, source)
    problems = _check_params(spec, tree, source)
    if problems:
        raise yaml_lines.fail(source, problems)
    return spec


def load_spec(path: str | Path = DEFAULT_PATH) -> ScorecardSpec:
    path = Path(path)
    return parse_spec(path.read_text(encoding="utf-8"), str(path))


class SpecWatcher:
    """The current standard, re-read when the file changes (one ``stat`` per call).

    The first load raises (a recorder must not start without a valid
    standard); a later broken file is logged with its line and the standard
    already in force stays.
    """

    def __init__(self, path: str | Path = DEFAULT_PATH):
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._spec: ScorecardSpec | None = None
        self.last_error: str | None = None

    def current(self) -> ScorecardSpec:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if self._spec is None or (stamp is not None and stamp != self._stamp):
            try:
                spec = load_spec(self.path)
            except (YamlError, OSError) as exc:
                if self._spec is None:
                    raise
                self.last_error = str(exc)
                log.error("scorecard reload refused, the standard in force stays: %s", exc)
                self._stamp = stamp
                return self._spec
            self._spec, self._stamp, self.last_error = spec, stamp, None
        return self._spec
