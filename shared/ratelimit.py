"""A token bucket: at most ``rate`` messages a second on average, ``burst`` at once.

One per connection (the gateway's sockets, ingest's ``/v1/stream``): a
client over its budget is closed with 4429, the way an HTTP client would get
429. No locking: each bucket belongs to one connection's task.
"""

from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = time.monotonic()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
