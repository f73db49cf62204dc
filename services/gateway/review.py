"""Post-call review for supervisors: ``GET /review`` and ``/api/review/...``.

* ``GET /api/review/calls?agent=&since=&until=&min_risk=&escalated=&nudge_type=&limit=&offset=``
  — finished calls, newest first (``since``/``until``: days or RFC 3339 times, on the call's
  start; ``limit`` 1–500, ``offset`` 0–1,000,000).
* ``GET /api/review/calls/{call_id}`` — one call: transcript, sentiment curve, nudges and
  what the agent did with each (accepted / dismissed / null = left alone).
* ``GET /api/review/acceptance?since=&until=`` — per agent and per nudge type.
* ``GET /api/review/scores?since=&until=&agent=`` — scorecard totals per agent and
  per day (China time), default the last 7 days including today, with each agent's
  weakest item.

A call's detail carries its ``scorecard`` (``total`` 0–100, ``items`` with
evidence lines) and its post-call summary ``recap`` once it has ended.

Supervisor tokens only (``Authorization: Bearer``): 401 without a valid
token, 403 for another role.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import WithJsonSchema

from services.gateway.history import CallIdPath, LazyStore, bearer_claims
from services.recorder.queries import acceptance, review_call, review_calls, score_trend
from shared import errors
from shared.api_models import (
    MAX_OFFSET,
    Acceptance,
    ReviewCall,
    ReviewCalls,
    ScoreTrend,
)
from shared.config import Settings
from shared.openapi import BEARER
from shared.tz import CN

STATIC = Path(__file__).resolve().parent / "static"


# ``since`` / ``until``: a day (China time) or an RFC 3339 time. Times far outside any call
# history are clamped (a year-1 ``since`` means "from the start"), so no value reaches the
# database as something it cannot compare.
When = Annotated[
    str | None,
    Query(max_length=64, description="a day, `2026-11-23` (China time), or an RFC 3339 time, `2026-11-23T08:00:00Z`"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "maxLength": 64},
                {"type": "string", "format": "date-time", "maxLength": 64},
            ]
        }
    ),
]
Agent = Annotated[str, Query(max_length=64, description="an agent id")]
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
LEAP = re.compile(r"(?<=\d\d:\d\d):60(?=\D|$)")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?")
AUTH = (401, 403)


def _when(value: str | None, end: bool = False) -> datetime | None:
    """An RFC 3339 time, or a day taken as China-time midnight (an ``until`` day includes that day).
    Not one: a 422 whose ``errors`` name the parameter (``query.since`` / ``query.until``)."""
    if value is None:
        return None
    try:
        if DAY.fullmatch(value):
            day = date.fromisoformat(value)
            if not EARLIEST.date() < day < LATEST.date():
                return EARLIEST if day <= EARLIEST.date() else LATEST
            start = datetime.combine(day, time(0), CN)
            return _clamp(start + timedelta(days=1) if end else start)
        if not TIME.fullmatch(value):
            raise ValueError(value)
        # RFC 3339 allows a leap second (:60), which Python's datetime has no room for.
        parsed = datetime.fromisoformat(LEAP.sub(":59", value.upper().replace("Z", "+00:00")))
        return _clamp(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    except (ValueError, OverflowError) as exc:
        where = ("query", "until" if end else "since")
        raise RequestValidationError(
            [{"type": "value_error", "loc": where, "msg": "not a day (YYYY-MM-DD) or an RFC 3339 time"}]
        ) from exc


def _clamp(ts: datetime) -> datetime:
    try:
        return min(max(ts.astimezone(UTC), EARLIEST), LATEST)
    except OverflowError:  # a time within hours of year 1 or 9999: outside any history
        return EARLIEST if ts.year < 5000 else LATEST


def review_router(settings: Settings, store: LazyStore | None = None) -> APIRouter:
    router = APIRouter(tags=["review"], dependencies=[BEARER])
    store = store or LazyStore(settings)

    @router.get("/review", include_in_schema=False)
    async def review_page() -> FileResponse:
        return FileResponse(STATIC / "review.html")

    @router.get(
        "/api/review/calls",
        response_model=ReviewCalls,
        summary="Finished calls, newest first",
        responses=errors.responses(*AUTH, 422, 503),
    )
    def calls(
        request: Request,
        agent: Agent = None,
        since: When = None,
        until: When = None,
        min_risk: float = Query(None, ge=0, le=1, description="calls whose risk reached this"),
        escalated: bool = Query(None, description="only escalated calls, or only the others"),
        nudge_type: str = Query(None, max_length=64, description="calls that got this nudge type"),
        limit: int = Query(100, ge=1, le=500),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict:
        bearer_claims(settings, request, "supervisor")
        return store.call(
            review_calls,
            agent=agent or None,
            since=_when(since),
            until=_when(until, end=True),
            min_risk=min_risk,
            escalated=escalated,
            nudge_type=nudge_type or None,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/api/review/calls/{call_id}",
        response_model=ReviewCall,
        summary="One call: transcript, sentiment curve, nudges and answers, scorecard, summary",
        responses=errors.responses(*AUTH, 404, 422, 503),
    )
    def call(call_id: CallIdPath, request: Request) -> dict:
        bearer_claims(settings, request, "supervisor")
        found = store.call(review_call, call_id)
        if found is None:
            raise HTTPException(404, "no such call")
        return found

    @router.get(
        "/api/review/scores",
        response_model=ScoreTrend,
        summary="Scorecard totals per agent and day (default: the last 7 days)",
        responses=errors.responses(
            *AUTH, 422, 503, s422="A bad parameter, or `since` not before `until`, or more than 92 days apart."
        ),
    )
    def scores(request: Request, since: When = None, until: When = None, agent: Agent = None) -> dict:
        bearer_claims(settings, request, "supervisor")
        end = _when(until, end=True) or _when((datetime.now(CN) + timedelta(days=1)).date().isoformat())
        start = _when(since) or end - timedelta(days=7)
        if end <= start or end - start > timedelta(days=92):
            raise HTTPException(422, "since must be before until, at most 92 days apart")
        return store.call(score_trend, start, end, agent=agent or None)

    @router.get(
        "/api/review/acceptance",
        response_model=Acceptance,
        summary="Nudge acceptance per agent, per type and per knowledge entry",
        responses=errors.responses(*AUTH, 422, 503),
    )
    def accept(request: Request, since: When = None, until: When = None) -> dict:
        bearer_claims(settings, request, "supervisor")
        return store.call(acceptance, since=_when(since), until=_when(until, end=True))

    return router
