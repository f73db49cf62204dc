"""The detector registry: the catalog is derived from it, and it refuses what it cannot run."""

from __future__ import annotations

import pytest

from services.nudger import registry
from services.nudger.rules import CATALOG
from shared import nudge_types as T


def test_catalog_is_the_registry_in_nudger_order():
    assert registry.catalog() == CATALOG
    assert set(CATALOG) == set(registry.REGISTRY)
    assert list(CATALOG) == [t for t in T.NUDGER_ORDER if t in CATALOG]
    assert set(CATALOG) == set(T.NUDGER_ORDER), "every nudger type constant has a detector"
    assert not set(CATALOG) & set(T.OTHER_SERVICES)


def test_every_detector_declares_real_inputs_and_handlers():
    for nudge_type, entry in registry.REGISTRY.items():
        assert entry.handlers, nudge_type
        assert set(entry.handlers) <= set(registry.INPUTS), nudge_type
        for name, th in entry.thresholds.items():
            assert th.problem(th.default) is None, f"{nudge_type}.{name}: default out of its own range"
    assert all(t in CATALOG for t, _ in registry.handlers(registry.CUSTOMER_FINAL))


def test_registration_refuses_unknown_types_and_inputs():
    with pytest.raises(ValueError, match="not a nudger type"):
        registry.detector("be_nice", on=registry.CUSTOMER_FINAL)
    with pytest.raises(ValueError, match="not a nudger type"):
        registry.detector(T.REPEAT_CALLER, on=registry.CUSTOMER_FINAL)  # the recorder raises it
    with pytest.raises(ValueError, match="unknown inputs"):
        registry.detector(T.CONFIRM_REQUEST, on="customer_said_hi")


def test_conflicting_threshold_defaults_are_refused():
    with pytest.raises(ValueError, match="declared twice"):
        registry.detector(T.TIMELY_RESPONSE, on=registry.SPEECH, thresholds={"silence_s": registry.Threshold(99)})(
            lambda ctx, spec: None
        )
