"""The analyzer's periodic commit: a commit the coordinator does not acknowledge keeps
its positions for the next try and never ends the consume loop."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaTimeoutError
from aiokafka.structs import OffsetAndMetadata

from services.analyzer.worker import Analyzer
from shared.config import Settings

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


def analyzer(consumer: Coordinator) -> Analyzer:
    a = Analyzer(Settings())
    a.consumer = consumer  # type: ignore[assignment]
    return a


def test_unacknowledged_commit_keeps_positions_and_newer_ones_win() -> None:
    c = Coordinator(KafkaTimeoutError())
    a = analyzer(c)
    a.done = {TP0: OffsetAndMetadata(10, ""), TP1: OffsetAndMetadata(4, "")}
    asyncio.run(a._commit_done())  # raises nothing
    assert c.committed == []
    assert a.done == {TP0: OffsetAndMetadata(10, ""), TP1: OffsetAndMetadata(4, "")}
    a.done[TP0] = OffsetAndMetadata(12, "")  # the next batch moved partition 0 on
    asyncio.run(a._commit_done())
    assert c.committed == [{TP0: OffsetAndMetadata(12, ""), TP1: OffsetAndMetadata(4, "")}]
    assert a.done == {}


def test_commit_after_a_rebalance_drops_positions() -> None:
    c = Coordinator(CommitFailedError())
    a = analyzer(c)
    a.done = {TP0: OffsetAndMetadata(10, "")}
    asyncio.run(a._commit_done())
    assert a.done == {} and c.committed == []  # the new owner re-reads from the last commit
