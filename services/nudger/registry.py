"""The detector registry: which nudge types the nudger raises, on which inputs.

A detector is a function ``fn(ctx, spec)`` registered with ``@detector``:

    @detector(T.TIMELY_RESPONSE, on=(SPEECH,), thresholds={"silence_s": Threshold(7, "…")})
    def timely(ctx: Ctx, spec: RuleSpec) -> None: ...

- ``type``: the nudge type it raises (a constant of ``shared/nudge_types.py``);
- ``on``: the inputs it needs (``INPUTS`` below); the engine calls it for those only,
  and only while its rule is enabled, in ``nudge_types.NUDGER_ORDER``;
- ``thresholds``: the named numbers it reads with ``spec.t(name)`` — the one place
  their defaults live; the rules file may set them and may set nothing else;
- ``cases``: the wording cases it asks for (``cases:`` in the rules file).

A type may have several detector functions (one per input, say); their
declarations are merged. ``catalog()`` — the types the nudger raises — is
derived from this registry; ``load()`` imports ``services.nudger.detectors``,
whose modules register themselves.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import nudge_types as T

if TYPE_CHECKING:  # pragma: no cover
    from services.nudger.memory import CallMemory, Segment
    from services.nudger.rules import Rules, RuleSpec
    from shared.schemas import Nudge

# Inputs a detector can ask for.
SPEECH = "speech"  # a speech segment grew or became final (either speaker; timing)
CUSTOMER_FINAL = "customer_final"  # a customer final analysis (judged once per seq)
CUSTOMER_PARTIAL = "customer_partial"  # a customer partial analysis
AGENT_FINAL = "agent_final"  # an agent final analysis
AGENT_PARTIAL = "agent_partial"  # an agent partial analysis
HOLD_STARTED = "hold_started"
HOLD_ENDED = "hold_ended"
CALL_ENDED = "call_ended"  # the only input after which a nudge may still be raised
INPUTS = (SPEECH, CUSTOMER_FINAL, CUSTOMER_PARTIAL, AGENT_FINAL, AGENT_PARTIAL, HOLD_STARTED, HOLD_ENDED, CALL_ENDED)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A named number of one rule: its default, allowed range and meaning."""

    default: float
    doc: str = ""
    ge: float | None = 0.0
    le: float | None = None

    def problem(self, value: float) -> str | None:
        if self.ge is not None and value < self.ge:
            return f"must be ≥ {self.ge:g}"
        if self.le is not None and value > self.le:
            return f"must be ≤ {self.le:g}"
        return None


# Read by the engine itself for every type that opens needs (services/nudger/needs.py).
COMMON_THRESHOLDS = {
    "max_extend_s": Threshold(6, "an agent mid-sentence when the grace ends may finish it, up to this long"),
}


@dataclass(slots=True)
class Ctx:
    """What a detector sees of one input, and where it puts the nudges it raises."""

    mem: CallMemory
    rules: Rules
    clock: datetime
    input: str
    item: Any = None  # the event or UtteranceAnalysis (the detector's input says which)
    seg: Segment | None = None  # SPEECH: the segment as known now
    new_segment: bool = False  # SPEECH: first time this seq is seen
    became_final: bool = False  # SPEECH: this update made it final
    out: list[Nudge] = field(default_factory=list)

    @property
    def now(self) -> float:
        return self.clock.timestamp()

    @property
    def ingest_ts(self) -> datetime | None:
        """When the triggering record entered Heartline (carried into the nudge for latency)."""
        return getattr(self.item, "ingest_ts", None) or getattr(self.item, "ts", None)

    def add(self, nudge: Nudge | None) -> None:
        if nudge is not None:
            self.out.append(nudge)


# A detector: ``fn(ctx, spec)``, raising nudges into ``ctx.out``.
Detector = Callable[["Ctx", "RuleSpec"], None]


@dataclass
class Entry:
    type: str
    handlers: dict[str, list[Detector]] = field(default_factory=dict)
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    cases: set[str] = field(default_factory=set)


REGISTRY: dict[str, Entry] = {}
_BY_INPUT: dict[str, tuple[tuple[str, Detector], ...]] = {}
_loaded = False


def detector(
    nudge_type: str,
    *,
    on: tuple[str, ...] | str,
    thresholds: dict[str, Threshold] | None = None,
    cases: tuple[str, ...] = (),
) -> Callable[[Detector], Detector]:
    """Register ``fn(ctx, spec)`` as a detector of ``nudge_type`` for the inputs ``on``."""
    inputs = (on,) if isinstance(on, str) else tuple(on)
    if nudge_type not in T.NUDGER_ORDER:
        raise ValueError(f"{nudge_type!r} is not a nudger type of shared/nudge_types.py")
    unknown = [i for i in inputs if i not in INPUTS]
    if unknown or not inputs:
        raise ValueError(f"{nudge_type}: unknown inputs {unknown}; known: {INPUTS}")

    def wrap(fn: Detector) -> Detector:
        entry = REGISTRY.setdefault(nudge_type, Entry(nudge_type))
        for name, th in (thresholds or {}).items():
            if name in entry.thresholds and entry.thresholds[name] != th:
                raise ValueError(f"{nudge_type}: threshold {name} declared twice, differently")
            entry.thresholds[name] = th
        entry.cases.update(cases)
        for i in inputs:
            entry.handlers.setdefault(i, []).append(fn)
        _BY_INPUT.clear()
        return fn

    return wrap


def load() -> None:
    """Import every module of ``services.nudger.detectors`` (each registers itself)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("services.nudger.detectors")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def catalog() -> tuple[str, ...]:
    """The types the nudger raises, in ``NUDGER_ORDER``."""
    load()
    return tuple(t for t in T.NUDGER_ORDER if t in REGISTRY)


def thresholds_of(nudge_type: str) -> dict[str, Threshold]:
    load()
    entry = REGISTRY.get(nudge_type)
    return {**COMMON_THRESHOLDS, **(entry.thresholds if entry else {})}


def cases_of(nudge_type: str) -> set[str]:
    load()
    entry = REGISTRY.get(nudge_type)
    return set(entry.cases) if entry else set()


_TABLES: dict[int, tuple[object, dict[str, Any]]] = {}
_TABLES_KEPT = 8  # rules objects in use at once: the file in force, a reload, tests' copies


def tables(rules: Rules) -> dict[str, Any]:
    """A dict of tables derived from one ``Rules`` object (dispatch per input, satisfiers), kept
    while those rules are in use. Keyed by identity and holding the object, so new or reloaded
    rules start empty. (Not a pydantic private attribute: each access of one is a slow
    ``__getattr__``, ~50x a field, on the hot path.)"""
    hit = _TABLES.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    if len(_TABLES) >= _TABLES_KEPT:
        del _TABLES[next(iter(_TABLES))]
    table: dict[str, Any] = {}
    _TABLES[id(rules)] = (rules, table)
    return table


def handlers(input_kind: str) -> tuple[tuple[str, Detector], ...]:
    """``(type, fn)`` for one input, in ``NUDGER_ORDER`` (computed once)."""
    found = _BY_INPUT.get(input_kind)
    if found is None:
        load()
        found = tuple(
            (t, fn) for t in T.NUDGER_ORDER if t in REGISTRY for fn in REGISTRY[t].handlers.get(input_kind, ())
        )
        _BY_INPUT[input_kind] = found
    return found
