"""HS256 JWTs: ``sub`` (agent, supervisor or service id), ``role``, ``exp``."""

from __future__ import annotations

import time
from typing import Literal

import jwt

from shared.config import Settings

Role = Literal["agent", "supervisor", "ingest", "service"]
ROLES = ("agent", "supervisor", "ingest", "service")


class TokenError(Exception):
    """The token is missing, malformed, badly signed or expired."""


def mint(settings: Settings, sub: str, role: Role, ttl_s: int | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + (ttl_s or settings.token_ttl_s)}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def verify(settings: Settings, token: str | None) -> dict:
    if not token:
        raise TokenError("missing token")
    try:
        claims = jwt.decode(
            token, settings.jwt_secret.get_secret_value(), algorithms=["HS256"],
            options={"require": ["sub", "role", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if claims.get("role") not in ROLES:
        raise TokenError("unknown role")
    return claims
