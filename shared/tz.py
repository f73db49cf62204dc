"""The time zone Heartline's days are counted in: China time (UTC+8, one zone, no DST).

A customer's "calls this week", the review page's dates and the scorecard trend's days are
China days; the recorder and the gateway both count them from here.
"""

from __future__ import annotations

from datetime import timedelta, timezone

CN = timezone(timedelta(hours=8))
