"""/healthz, /readyz and /metrics for the FastAPI services, documented in their OpenAPI
(``/metrics`` as Prometheus text), and the apps' error answers (``shared.errors``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import errors
from shared.api_models import Health, Ready

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings

METRICS_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "Prometheus text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}
}


class Component(Protocol):
    """What a service app runs: started and stopped with the app, asked by /readyz."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ready(self) -> tuple[bool, dict[str, Any]]: ...


def health_router(service: str, ready: Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health, summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get(
        "/readyz",
        response_model=Ready,
        summary="Ready to serve (broker reachable, consumers assigned)",
        responses={503: {"model": Ready, "description": "Not ready: the fields say what is missing"}},
    )
    async def readyz() -> JSONResponse:
        ok, detail = await ready()
        return JSONResponse({"ready": ok, "service": service, **detail}, status_code=200 if ok else 503)

    @router.get("/metrics", response_class=Response, responses=METRICS_DOC, summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def service_app(service: str, title: str, settings: Settings, component: Component) -> FastAPI:
    """A FastAPI app whose lifespan sets up JSON logging and starts/stops ``component``
    (anything with ``start``, ``stop`` and ``ready``), with /healthz, /readyz, /metrics;
    API docs only in local mode."""
    from shared.logs import setup_logging

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging(service, settings.log_level)
        await component.start()
        yield
        await component.stop()

    app = FastAPI(title=title, lifespan=lifespan, **api_docs(settings))
    errors.install(app)
    app.include_router(health_router(service, component.ready))
    return app


def api_docs(settings: Settings) -> dict[str, Any]:
    """FastAPI's /docs, /redoc and /openapi.json in local mode only: outside it they would
    describe every route to anyone who can reach the port."""
    if settings.mode == "local":
        return {}
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


def serve_worker(create_app: Callable[[Settings], FastAPI]) -> None:
    """Run a worker's app (its health and metrics port, ``HEARTLINE_WORKER_PORT``) until stopped;
    a stop gives the worker 3 s to commit and leave its group."""
    import uvicorn

    from shared.config import get_settings

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.worker_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
