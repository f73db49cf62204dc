"""Post-call review for supervisors: ``GET /review`` and ``/api/review/...``.

* ``GET /api/review/calls?agent=&since=&until=&min_risk=&escalated=&nudge_type=&limit=&offset=``
  — finished calls, newest first (``since``/``until``: ISO dates or times, on the call's start).
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

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from services.gateway.history import LazyStore, bearer_claims
from services.recorder.judge import CN
from services.recorder.store import acceptance, review_call, review_calls, score_trend
from shared.config import Settings

STATIC = Path(__file__).resolve().parent / "static"


def _when(value: str | None, end: bool = False) -> datetime | None:
    """An ISO time, or a date taken as China-time midnight (an ``until`` date includes that day)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta(0))
            return datetime.combine(day, time(0), CN).astimezone(timezone.utc)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise HTTPException(422, f"not a date or time: {value!r}") from exc


def review_router(settings: Settings, store: LazyStore | None = None) -> APIRouter:
    router = APIRouter(tags=["review"])
    store = store or LazyStore(settings)

    @router.get("/review", include_in_schema=False)
    async def review_page() -> FileResponse:
        return FileResponse(STATIC / "review.html")

    @router.get("/api/review/calls")
    def calls(request: Request, agent: str | None = None, since: str | None = None, until: str | None = None,
              min_risk: float | None = Query(None, ge=0, le=1), escalated: bool | None = None,
              nudge_type: str | None = None, limit: int = Query(100, ge=1, le=500),
              offset: int = Query(0, ge=0)) -> dict:
        bearer_claims(settings, request, "supervisor")
        return store.call(review_calls, agent=agent or None, since=_when(since), until=_when(until, end=True),
                          min_risk=min_risk, escalated=escalated, nudge_type=nudge_type or None,
                          limit=limit, offset=offset)

    @router.get("/api/review/calls/{call_id}")
    def call(call_id: str, request: Request) -> dict:
        bearer_claims(settings, request, "supervisor")
        found = store.call(review_call, call_id)
        if found is None:
            raise HTTPException(404, "no such call")
        return found

    @router.get("/api/review/scores")
    def scores(request: Request, since: str | None = None, until: str | None = None,
               agent: str | None = None) -> dict:
        bearer_claims(settings, request, "supervisor")
        end = _when(until, end=True) or _when((datetime.now(CN) + timedelta(days=1)).date().isoformat())
        start = _when(since) or end - timedelta(days=7)
        if end <= start or end - start > timedelta(days=92):
            raise HTTPException(422, "since must be before until, at most 92 days apart")
        return store.call(score_trend, start, end, agent=agent or None)

    @router.get("/api/review/acceptance")
    def accept(request: Request, since: str | None = None, until: str | None = None) -> dict:
        bearer_claims(settings, request, "supervisor")
        return store.call(acceptance, since=_when(since), until=_when(until, end=True))

    return router
