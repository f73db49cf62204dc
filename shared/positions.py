"""The input positions a consumer-group worker commits: at-least-once, committed in batches.

A worker handles a batch, waits until the broker has acknowledged every output,
then marks the batch ``done`` here; ``commit`` sends what is done at most every
``every_s`` (a commit request per batch was a request per batch for the
broker). A commit the coordinator refuses after a rebalance is dropped (the
partitions' new owner re-reads from the last commit and the outputs written
since are deduped downstream); one it does not acknowledge (a timeout, the
coordinator moving) is kept for the next try, the newer positions winning.
Nothing here ever ends the worker's loop. Used by the analyzer and the nudger.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)


class Positions:
    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self.done: dict[TopicPartition, OffsetAndMetadata] = {}
        self.committed: dict[TopicPartition, int] = {}  # what this worker committed last, per partition
        self._at = 0.0

    def mark(self, batches: dict[TopicPartition, list[Any]]) -> None:
        """A batch whose outputs the broker has: its partitions' next offsets are done."""
        for tp, records in batches.items():
            if records:
                self.done[tp] = OffsetAndMetadata(records[-1].offset + 1, "")

    def due(self) -> bool:
        return bool(self.done) and time.monotonic() - self._at >= self.every_s

    async def commit(self, consumer: Any) -> None:
        """Commit what is done on the partitions the consumer still owns."""
        self._at = time.monotonic()
        done, self.done = self.done, {}
        mine = {tp: o for tp, o in done.items() if tp in consumer.assignment()}
        if not mine:
            return
        try:
            await consumer.commit(mine)
            self.committed.update({tp: o.offset for tp, o in mine.items()})
        except CommitFailedError:
            log.warning("commit failed after a rebalance; the new owner re-reads from the last commit")
        except KafkaError as exc:
            self.done = {**mine, **self.done}
            log.warning("commit not acknowledged; retrying with the next", extra={"error": type(exc).__name__})

    async def commit_quietly(self, consumer: Any) -> None:
        """A commit whose failure is logged, never raised (before a rebalance, on stop)."""
        if consumer is None or not self.done:
            return
        try:
            await self.commit(consumer)
        except Exception:  # the partitions' next owner re-reads from the last commit
            log.warning("commit failed before a rebalance or a stop")
