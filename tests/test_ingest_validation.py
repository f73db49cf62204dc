"""Ingest's validator on anything JSON can hold (a unit test: no broker, no HTTP).

The same input over real HTTP, on a running stack, is ``tests/test_bad_input.py``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings

from services.ingest.app import Publisher
from tests.badinputkit import event_like, json_values


@hsettings(max_examples=400, deadline=None)
@given(item=json_values | event_like)
def test_validate_never_raises_and_gives_a_reason(item):
    """Ingest's validator on anything JSON can hold: (key, value) or a reason, never an exception."""
    result = Publisher.__new__(Publisher).validate(item)
    assert (isinstance(result, str) and result) or (isinstance(result, tuple) and len(result) == 2)
