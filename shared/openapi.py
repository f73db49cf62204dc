"""What FastAPI cannot infer for a service's OpenAPI: schemas of bodies a route reads itself.

Ingest reads its body by hand (per-item validation, size limits while
streaming), so FastAPI does not see the CallEvent union it takes. ``schemas``
renders pydantic models or type adapters to OpenAPI components (references
``#/components/schemas/<Model>``); ``with_components`` makes an app's
``openapi()`` include them, so a route's ``openapi_extra`` can point at them.
``BEARER`` documents a route's bearer token.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.security import HTTPBearer
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

REF = "#/components/schemas/{model}"
# Documents ``Authorization: Bearer <JWT>`` on a route (``dependencies=[BEARER]``); the routes
# check the token themselves (shared.auth), so this never answers for them.
BEARER = Depends(
    HTTPBearer(
        auto_error=False,
        scheme_name="bearer",
        bearerFormat="JWT",
        description="HS256 JWT (`heartline token --sub ID --role ROLE`): claims `sub`, `role`, `exp`",
    )
)


def schema_of(kind: Any, mode: JsonSchemaMode = "validation") -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema, components) for a model or a TypeAdapter, references into components."""
    adapter = kind if isinstance(kind, TypeAdapter) else TypeAdapter(kind)
    schema = adapter.json_schema(ref_template=REF, mode=mode)
    defs = schema.pop("$defs", {})
    return schema, defs


def schemas(named: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Components for ``{name: model or TypeAdapter}``: each named schema and all it references."""
    out: dict[str, dict[str, Any]] = {}
    for name, kind in named.items():
        schema, defs = schema_of(kind)
        out.update(defs)
        out[name] = schema
    return out


def with_components(app: FastAPI, components: dict[str, dict[str, Any]]) -> FastAPI:
    """Make ``app.openapi()`` carry ``components`` next to the ones FastAPI generates."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            spec.setdefault("components", {}).setdefault("schemas", {}).update(components)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
