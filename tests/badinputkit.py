"""Hypothesis strategies for bad input: anything JSON can hold, and event-shaped objects
with wrong, missing or hostile fields (the validator's unit test and the HTTP property test)."""

from __future__ import annotations

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=20,
)
# CallEvent-shaped objects with wrong, missing or hostile fields
event_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["utterance", "call_started", "call_ended", "hold_started", "bogus", ""]) | json_values,
    },
    optional={
        "call_id": st.text(max_size=140) | json_values,
        "seq": st.integers(min_value=-5, max_value=2**63) | json_values,
        "speaker": st.sampled_from(["agent", "customer", "robot"]) | json_values,
        "text": st.text(max_size=200) | json_values,
        "ts": st.sampled_from(["2026-11-23T08:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "yesterday"])
        | st.datetimes().map(lambda d: d.isoformat())
        | json_values,
        "is_final": json_values,
        "confidence": json_values,
        "start_ms": json_values,
        "agent_id": json_values,
    },
)
