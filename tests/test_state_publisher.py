"""The nudger's call-state publication, coalesced per call (pure, no broker): a call's start
(its agent known), end and holds go out at once, other changes at the next flush."""

from __future__ import annotations

import asyncio

from services.nudger.memory import new_memory
from services.nudger.worker import StatePublisher


def test_agent_known_goes_out_at_once_other_changes_are_coalesced() -> None:
    sent: list[bytes] = []

    async def send(key: bytes, value: bytes | None):
        sent.append(value)

    async def scenario() -> None:
        pub = StatePublisher(send)
        mem = new_memory("c-1")  # a record came before the call's call_started
        await pub.changed(b"c-1", mem)
        assert len(sent) == 1
        mem.state.agent_id = "a-001"  # call_started applied: the wall and the whisper need the agent now
        await pub.changed(b"c-1", mem)
        assert len(sent) == 2 and not pub.pending
        mem.state.sentiment = 0.2  # an ordinary change waits for the flush
        await pub.changed(b"c-1", mem)
        assert len(sent) == 2 and b"c-1" in pub.pending
        await pub.flush()
        assert len(sent) == 3

    asyncio.run(scenario())
