"""Token buckets: at most ``rate`` messages a second on average, ``burst`` at once.

``TokenBucket`` is one budget: one per connection (the gateway's sockets, ingest's
``/v1/stream``), where a client over its budget is closed with 4429, the way an HTTP client
would get 429. ``KeyedBuckets`` keeps one bucket per key (the gateway's whispers: one per
supervisor), bounded in memory. No locking: a bucket belongs to one event loop. ``now``
(monotonic seconds) can be passed in, for tests and replays.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBucket:
    def __init__(self, rate: float, burst: float, now: float | None = None):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = time.monotonic() if now is None else now

    def allow(self, now: float | None = None) -> bool:
        """Take one token if there is one."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class KeyedBuckets:
    """A ``TokenBucket`` per key, created full on first use; past ``max_keys`` the key used
    longest ago is forgotten (it comes back full: a bound on memory, not on the rate)."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000):
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(self.rate, self.burst, now)
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
        return bucket.allow(now)
