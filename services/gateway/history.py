"""``GET /api/history/{call_id}``: the customer's recent calls, for the agent desktop.

An agent token may read the history of its own calls only (the call's
``agent_id`` in the history DB); a supervisor token any call's. The gateway
reads the recorder's database through ``services.recorder.queries`` (one
read-only engine, created on first use; nothing of the recorder's worker). 404 while the recorder has not
stored the call yet (the page retries), 503 when the database is not there.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from sqlalchemy.exc import SQLAlchemyError

from services.recorder import db
from services.recorder.queries import Reader, history
from shared import errors
from shared.api_models import HistoryAnswer
from shared.auth import TokenError, verify
from shared.config import Settings
from shared.openapi import BEARER
from shared.schemas import CALL_ID_PATTERN

# A call id in a path: what CallEvents allow (a request for any other id is a 422, not a lookup).
CallIdPath = Annotated[str, Path(pattern=CALL_ID_PATTERN, max_length=128, description="the call's id")]

log = logging.getLogger("gateway.history")


def bearer_claims(settings: Settings, request: Request, role: str | tuple[str, ...]) -> dict:
    """Claims of the request's Bearer token: 401 without a good one, 403 for another role."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    try:
        claims = verify(settings, token)
    except TokenError as exc:
        raise HTTPException(401, f"unauthorized: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc
    roles = (role,) if isinstance(role, str) else role
    if claims["role"] not in roles:
        raise HTTPException(403, f"role {claims['role']} may not use this")
    return claims


class LazyStore:
    """The history DB as the gateway sees it: opened on first use, never migrated here."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store: Reader | None = None
        self._lock = threading.Lock()

    def get(self) -> Reader:
        with self._lock:
            if self._store is None:
                self._store = Reader(db.make_engine(self.settings.db_url))
            return self._store

    def call(self, fn, *args, **kw):
        try:
            return fn(self.get(), *args, **kw)
        except SQLAlchemyError as exc:
            log.warning("history database unavailable", extra={"error": type(exc).__name__})
            raise HTTPException(
                503, "call history is not available (is the recorder running?)", headers={"Retry-After": "5"}
            ) from exc


def history_router(settings: Settings, store: LazyStore | None = None) -> APIRouter:
    router = APIRouter(prefix="/api/history", tags=["history"], dependencies=[BEARER])
    store = store or LazyStore(settings)

    @router.get(
        "/{call_id}",
        response_model=HistoryAnswer,
        summary="The customer's recent calls, for the desktop when a call starts",
        responses=errors.responses(
            401,
            403,
            404,
            422,
            503,
            s404="The call is not recorded (yet: the page retries), or it is another agent's call.",
        ),
    )
    def call_history(call_id: CallIdPath, request: Request) -> dict:
        claims = bearer_claims(settings, request, ("agent", "supervisor"))
        found = store.call(history, call_id, settings.history_calls)
        if found is None or (claims["role"] == "agent" and found["agent_id"] != claims["sub"]):
            raise HTTPException(404, "no such call for this agent (yet)")
        return found

    return router
