"""Gateway: assembles settings, the feed (Kafka's by default), the sockets and the pages.

Every response carries the security headers of ``shared.http_guard`` (a CSP of
``default-src 'self'``: the pages load nothing from elsewhere and run no inline
code); POST bodies over ``gateway_max_body_bytes`` are a 413; a websocket
message over ``MAX_CLIENT_MESSAGE`` bytes is refused by uvicorn (close 1009).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from services.gateway.calls import CallBook
from services.gateway.feed import Feed, FeedFactory
from services.gateway.history import history_router
from services.gateway.hub import Hub
from services.gateway.relay import Relay
from services.gateway.review import review_router
from services.gateway.sockets import MAX_CLIENT_MESSAGE, socket_router
from services.gateway.whisper import Whisperer, whisper_router
from shared import errors
from shared.api_models import DemoPerson, RuleStats, TokenAnswer, TokenRequest
from shared.auth import mint
from shared.config import Settings, get_settings
from shared.demo import DEMO_AGENTS, DEMO_SUPERVISORS
from shared.health import service_app
from shared.http_guard import BodyLimit, SecurityHeaders

SERVICE = "gateway"
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, feed_factory: FeedFactory = Feed) -> FastAPI:
    """``feed_factory(settings, relay)`` builds what reads the topics into the relay and
    produces the gateway's records: the Kafka ``Feed``; tests/gatewaykit.py passes one
    without a broker."""
    settings = settings or get_settings()
    settings.require_secrets("jwt_secret")
    book, hub = CallBook(), Hub()
    feed = feed_factory(settings, Relay(settings.topics, book, hub))

    app = service_app(SERVICE, "Heartline gateway", settings, feed)  # with shared.errors' handlers
    app.add_middleware(BodyLimit, max_bytes=settings.gateway_max_body_bytes)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so a 413 carries the headers too
    app.state.ws_max_size = MAX_CLIENT_MESSAGE
    whisperer = Whisperer(settings, book, feed.send_nudge)
    app.include_router(socket_router(settings, book, hub, feed, whisperer))
    app.include_router(whisper_router(settings, whisperer))
    app.include_router(history_router(settings))
    app.include_router(review_router(settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "agent.html")

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> FileResponse:
        return FileResponse(STATIC / "agent.html")

    @app.get("/wall", include_in_schema=False)
    async def wall_page() -> FileResponse:
        return FileResponse(STATIC / "wall.html")

    @app.get(
        "/api/demo/agents",
        response_model=list[DemoPerson],
        tags=["sign-in"],
        summary="The demo agents and supervisors (local mode)",
        responses=errors.responses(403, s403="Not in local mode: there are no demo people."),
    )
    async def demo_agents() -> list[dict]:
        if settings.mode != "local":
            raise HTTPException(403, "demo sign-in is only available in local mode")
        return DEMO_AGENTS + DEMO_SUPERVISORS

    @app.post(
        "/api/token",
        response_model=TokenAnswer,
        tags=["sign-in"],
        summary="A token for a demo agent or supervisor (local mode)",
        responses=errors.responses(
            400, 403, 413, 422, s403="Not in local mode: tokens come from the identity provider."
        ),
    )
    async def demo_token(req: TokenRequest) -> dict:
        if settings.mode != "local":
            raise HTTPException(403, "tokens are minted by your identity provider outside local mode")
        return {"token": mint(settings, req.sub, req.role), "sub": req.sub, "role": req.role}

    @app.get(
        "/api/rules/stats",
        response_model=RuleStats,
        tags=["rules"],
        summary="Per nudge type: shown, accepted, dismissed, acceptance rate (this gateway's view)",
    )
    async def rule_stats() -> dict:
        return {"types": book.rule_stats(), **book.stats()}

    return app
