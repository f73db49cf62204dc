"""The workers' periodic commit (shared/positions.py): a commit the coordinator does not
acknowledge keeps its positions for the next try and never ends the consume loop."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaTimeoutError
from aiokafka.structs import OffsetAndMetadata

from shared.positions import Positions

TP0, TP1 = TopicPartition("stt-events", 0), TopicPartition("stt-events", 1)


class Coordinator:
    """A consumer whose commits fail as scripted (one outcome per call)."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.committed: list[dict] = []

    def assignment(self) -> set[TopicPartition]:
        return {TP0, TP1}

    async def commit(self, offsets: dict) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.committed.append(dict(offsets))


def test_unacknowledged_commit_keeps_positions_and_newer_ones_win() -> None:
    c = Coordinator(KafkaTimeoutError())
    p = Positions()
    p.done = {TP0: OffsetAndMetadata(10, ""), TP1: OffsetAndMetadata(4, "")}
    asyncio.run(p.commit(c))  # raises nothing
    assert c.committed == []
    assert p.done == {TP0: OffsetAndMetadata(10, ""), TP1: OffsetAndMetadata(4, "")}
    p.done[TP0] = OffsetAndMetadata(12, "")  # the next batch moved partition 0 on
    asyncio.run(p.commit(c))
    assert c.committed == [{TP0: OffsetAndMetadata(12, ""), TP1: OffsetAndMetadata(4, "")}]
    assert p.done == {} and p.committed == {TP0: 12, TP1: 4}


def test_commit_after_a_rebalance_drops_positions() -> None:
    c = Coordinator(CommitFailedError())
    p = Positions()
    p.done = {TP0: OffsetAndMetadata(10, "")}
    asyncio.run(p.commit(c))
    assert p.done == {} and c.committed == []  # the new owner re-reads from the last commit
