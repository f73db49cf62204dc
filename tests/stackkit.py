"""A test's view of a running Heartline: settings on a test broker (a fresh topic
prefix each time, so tests never see each other's records) and the started stack
with the calls clients make to it. The fixtures in conftest.py build on these."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from heartline.broker import free_port
from heartline.stack import Stack
from shared.auth import mint
from shared.config import Settings

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".heartline" / "test-logs"


def make_settings(broker, **kw) -> Settings:
    base: dict[str, Any] = dict(
        kafka=broker.bootstrap,
        broker=broker.kind,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}-",
        gateway_port=free_port(),
        ingest_port=free_port(),
        partitions=8,
    )
    base.update(kw)
    return Settings(**base)


class LiveStack:
    """A started Stack plus helpers to talk to it the way clients do."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.settings = stack.settings

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    @property
    def gateway_ws(self) -> str:
        return self.stack.gateway_url.replace("http://", "ws://")

    @property
    def ingest_url(self) -> str:
        return self.stack.ingest_url

    def token(self, sub: str, role: str = "agent", ttl_s: int | None = None) -> str:
        return mint(self.settings, sub, role, ttl_s)

    def post_events(self, events, token: str | None = None) -> httpx.Response:
        token = token or self.token("tests", "service")
        return httpx.post(
            f"{self.ingest_url}/v1/events", json=events, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


@contextmanager
def open_stack(
    broker, name: str, *, settings: dict | None = None, timeout: float = 120, **stack_kw
) -> Iterator[LiveStack]:
    """The whole stack as real processes on ``broker``, stopped on leaving the block; its logs
    under .heartline/test-logs/<name>-<broker kind>. ``settings`` override make_settings's,
    ``stack_kw`` go to Stack (analyzers=2, recorder=False, extra_env={...} …)."""
    st = Stack(make_settings(broker, **(settings or {})), log_dir=LOGS / f"{name}-{broker.kind}", **stack_kw)
    try:
        st.start(timeout=timeout)
        yield LiveStack(st)
    finally:
        st.stop()
