"""HS256 JWTs: ``sub`` (agent, supervisor or service id), ``role``, ``aud``, ``iat``, ``exp``.

A token is accepted only with our audience (``HEARTLINE_TOKEN_AUDIENCE``),
an ``exp`` in the future, and a lifetime (``exp - iat``) no longer than
``HEARTLINE_TOKEN_MAX_TTL_S``: a leaked token is good for hours, not years.
Only the services that mint or verify user tokens hold the key.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import jwt

from shared.config import Settings

Role = Literal["agent", "supervisor", "ingest", "service"]
ROLES = ("agent", "supervisor", "ingest", "service")
REQUIRED_CLAIMS = ["sub", "role", "aud", "iat", "exp"]


class TokenError(Exception):
    """The token is missing, malformed, badly signed, for another audience, expired or too long-lived."""


def _key(settings: Settings) -> str:
    settings.require_secrets("jwt_secret")
    return settings.jwt_secret.get_secret_value()


def mint(settings: Settings, sub: str, role: Role, ttl_s: int | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    ttl = ttl_s or settings.token_ttl_s
    if ttl > settings.token_max_ttl_s:
        raise ValueError(f"ttl {ttl} s is over the maximum token lifetime ({settings.token_max_ttl_s} s)")
    now = int(time.time())
    claims = {"sub": sub, "role": role, "aud": settings.token_audience, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, _key(settings), algorithm="HS256")


def verify(settings: Settings, token: str | None) -> dict[str, Any]:
    if not token:
        raise TokenError("missing token")
    try:
        claims = jwt.decode(
            token,
            _key(settings),
            algorithms=["HS256"],
            audience=settings.token_audience,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if claims.get("role") not in ROLES:
        raise TokenError("unknown role")
    try:
        lifetime = int(claims["exp"]) - int(claims["iat"])
    except (TypeError, ValueError):
        raise TokenError("exp and iat must be numbers") from None
    if lifetime > settings.token_max_ttl_s:
        raise TokenError(f"token lifetime {lifetime} s is over the maximum ({settings.token_max_ttl_s} s)")
    return claims
