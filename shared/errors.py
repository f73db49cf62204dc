"""One error body for every Heartline HTTP service: ``{"error": "...", "errors": [...]}``.

Every answer that is not a success — a 4xx the route chose, a request that
failed validation, a path that does not exist, a method not allowed, a body
too large — carries ``error`` (one line saying what was wrong) and, where
several things were wrong, ``errors`` (one item each: ``where`` it was, or the
batch ``index`` of the item, and ``error``). Reasons never quote the values
sent (``shared.validation``): ids and transcripts may be personal data.

``install(app)`` puts the handlers on a FastAPI app; ``responses(...)`` gives
a route's ``responses=`` for its OpenAPI, with a description per status code.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.validation import describe, kinds

MAX_ITEMS = 10


class ErrorItem(BaseModel):
    """One thing wrong with a request: where (a field path, or a batch item's index) and what."""

    model_config = ConfigDict(extra="ignore")

    error: str = Field(description="what was wrong, without the value sent")
    where: str | None = Field(default=None, description="the field: `query.offset`, `body.call_id`, `2.ts` …")
    index: int | None = Field(default=None, ge=0, description="the item's position in a batch (ingest)")


class ErrorBody(BaseModel):
    """The body of every error answer of every Heartline HTTP service."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"error": "unauthorized: token missing"},
                {
                    "error": "invalid request: query.offset: Input should be less than or equal to 1000000",
                    "errors": [{"where": "query.offset", "error": "Input should be less than or equal to 1000000"}],
                },
            ]
        },
    )

    error: str = Field(description="one line: what was wrong")
    errors: list[ErrorItem] = Field(default_factory=list, description="each thing wrong, when there are several")


DESCRIPTIONS = {
    400: "The body is not JSON (or not UTF-8, or nested too deeply).",
    401: "No valid token: `Authorization: Bearer <JWT>` is missing, malformed, badly signed or expired.",
    403: "The token's role may not use this route (or the route is off outside local mode).",
    404: "No such resource.",
    405: "Method not allowed on this path.",
    409: "The resource is in a state that does not allow this.",
    413: "The request body is over the size limit.",
    422: "The request is well-formed JSON but something in it is invalid: `errors` says where.",
    429: "Too many requests: slow down.",
    503: "A dependency (the broker, the history database) is not available: retry later.",
}


# Headers that always come with a status (every 401 names the scheme; a 429 or 503 says when to retry).
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}},
}


def responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code documented with ErrorBody. ``descriptions`` override
    the default wording, keyed ``s404="…"``."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = {"model": ErrorBody, "description": descriptions.get(f"s{code}", DESCRIPTIONS[code])}
        if code in HEADERS:
            out[code]["headers"] = HEADERS[code]
    return out


def body(message: str, items: list[ErrorItem] | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": message, "errors": [i.model_dump(exclude_none=True) for i in items or []], **extra}


def error_response(
    status: int, message: str, items: list[ErrorItem] | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(body(message, items, **extra), status_code=status, headers=headers)


# Starlette calls a handler only for the class it was added for: the asserts say which.
async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if kinds(exc) == {"json_invalid"}:
        return error_response(400, "body is not valid JSON")
    items = [ErrorItem(where=where, error=what) for where, what in describe(exc, MAX_ITEMS)]
    first = f"{items[0].where}: {items[0].error}" if items else "invalid"
    return error_response(422, f"invalid request: {first}", items)


def install(app: FastAPI) -> FastAPI:
    """ErrorBody for HTTP errors (raised ``HTTPException``, unknown paths, 405) and for
    requests that fail validation (422; a body that is not JSON: 400)."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app
