"""Secrets and tokens, without a broker: what production mode refuses, what a token must carry.

The end-to-end half (workers started without the signing key) is in
tests/test_hardening.py.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import jwt
import pytest
import yaml

from shared.auth import TokenError, mint, verify
from shared.config import PLACEHOLDER_SALT, PLACEHOLDER_SECRET, Settings
from shared.secret_strength import weakness

ROOT = Path(__file__).resolve().parent.parent
K8S_TEMPLATE_VALUE = yaml.safe_load((ROOT / "deploy" / "k8s" / "secret-jwt.template.yaml").read_text(encoding="utf-8"))[
    "stringData"
]["jwt-secret"]
STRONG = "9c1f0e7b3a5d2c4e6f8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e"

WEAK = {
    "one letter": "a",
    "changeme": "changeme",
    "the k8s template's own text": K8S_TEMPLATE_VALUE,
    "the local JWT placeholder": PLACEHOLDER_SECRET,
    "the local salt": PLACEHOLDER_SALT,
    "31 random-looking bytes": STRONG[:31],
    "one character repeated": "x" * 48,
    "a short unit repeated": "abcd" * 12,
    "a placeholder padded long": "please-change-me-before-going-live-0123456789",
}


@pytest.mark.parametrize(
    "variable,field", [("HEARTLINE_JWT_SECRET", "jwt_secret"), ("HEARTLINE_CUSTOMER_SALT", "customer_salt")]
)
@pytest.mark.parametrize("why", list(WEAK))
def test_weak_secrets_are_refused_outside_local_mode_naming_the_variable(variable, field, why):
    """Guards: production mode refuses a known placeholder, a short secret or a low-variety one
    for the JWT key and the customer salt, with one message that names the variable."""
    with pytest.raises(ValueError, match=variable):
        Settings(mode="production", **{field: WEAK[why]})
    assert Settings(mode="local", **{field: WEAK[why]}).mode == "local"  # local mode keeps its demo values


def test_random_secrets_pass_and_a_missing_one_is_refused_where_needed():
    """Guards: `openssl rand -hex 32`-like values pass; a service that needs a secret refuses to
    start without it (naming it), one that does not (a worker) starts."""
    for _ in range(200):
        assert weakness(secrets.token_hex(32)) is None
        assert weakness(secrets.token_urlsafe(32)) is None
    worker = Settings(mode="production")
    with pytest.raises(ValueError, match="HEARTLINE_JWT_SECRET is not set"):
        worker.require_secrets("jwt_secret")
    with pytest.raises(ValueError, match="HEARTLINE_CUSTOMER_SALT is not set"):
        worker.require_secrets("customer_salt")
    with pytest.raises(ValueError, match="HEARTLINE_JWT_SECRET is not set"):
        mint(worker, "a-001", "agent")
    Settings(mode="production", jwt_secret=STRONG, customer_salt=secrets.token_hex(32)).require_secrets(
        "jwt_secret", "customer_salt"
    )


def test_service_apps_refuse_to_start_without_their_secret():
    """Guards: gateway and ingest (JWT secret) and the recorder (customer salt) fail at start in
    production mode when the secret they need is not set, instead of running with the placeholder."""
    from services.gateway.app import create_app as gateway
    from services.ingest.app import create_app as ingest
    from services.recorder.worker import create_app as recorder

    bare = Settings(mode="production", kafka="127.0.0.1:1")
    for create, variable in (
        (gateway, "HEARTLINE_JWT_SECRET"),
        (ingest, "HEARTLINE_JWT_SECRET"),
        (recorder, "HEARTLINE_CUSTOMER_SALT"),
    ):
        with pytest.raises(ValueError, match=variable):
            create(bare)


def _token(settings: Settings, **claims) -> str:
    now = int(time.time())
    base = {"sub": "a-001", "role": "agent", "aud": settings.token_audience, "iat": now, "exp": now + 60}
    base.update(claims)
    return jwt.encode(
        {k: v for k, v in base.items() if v is not None}, settings.jwt_secret.get_secret_value(), algorithm="HS256"
    )


def test_tokens_need_our_audience_an_expiry_and_a_bounded_lifetime():
    """Guards: a token is refused without `aud`, with another audience, without `exp` or `iat`,
    or when exp - iat is over token_max_ttl_s (a correctly signed 10-year token is no good);
    mint() puts our audience in and refuses to mint past the maximum."""
    s = Settings(jwt_secret=STRONG)
    now = int(time.time())
    good = mint(s, "a-001", "agent")
    claims = verify(s, good)
    assert claims["aud"] == "heartline" and claims["exp"] - claims["iat"] == s.token_ttl_s
    assert verify(s, _token(s))["sub"] == "a-001"
    bad = {
        "no aud": _token(s, aud=None),
        "another audience": _token(s, aud="some-other-app"),
        "no exp": _token(s, exp=None),
        "no iat": _token(s, iat=None),
        "lives ten years": _token(s, exp=now + 10 * 365 * 86400),
        "lives one second over the max": _token(s, exp=now + s.token_max_ttl_s + 1),
    }
    for why, token in bad.items():
        with pytest.raises(TokenError):
            verify(s, token)
            pytest.fail(why)
    with pytest.raises(ValueError, match="maximum"):
        mint(s, "a-001", "agent", ttl_s=s.token_max_ttl_s + 1)
    with pytest.raises(ValueError, match="HEARTLINE_TOKEN_TTL_S"):
        Settings(token_ttl_s=48 * 3600, token_max_ttl_s=12 * 3600)
