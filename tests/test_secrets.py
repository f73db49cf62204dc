"""Secrets and tokens, without a broker: what production mode refuses, what a token must carry.

The end-to-end half (workers started without the signing key) is in
tests/test_hardening.py.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
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
    # 32 bytes or more, yet under an estimated 256 bits: length x log2(the alphabet's size)
    "the alphabet typed out": "abcdefghijklmnopqrstuvwxyzABCDEF",
    "a name and a year": "Heartline-Production-JWT-Secret-Key-2026",
    "16 random bytes in hex (32 characters)": STRONG[:32],
    # 256 bits by that estimate, yet patterns no random string shows
    "one character repeated, long": "x" * 64,
    "hex digits counted out": "0123456789abcdef" * 4,
    "a phrase repeated": "Heartline-Production-JWT-Secret-Key-2026-Heartline-Production",
    "a run in random hex": STRONG[:30] + "0" * 12 + STRONG[30:],
    "a sequence in random base64": "dsYIebMGsFy3sFkoVo3sFI2e" + "ABCDEFGHIJ" + "ZotJYPD3OldhSD07r94=",
    "few distinct characters": "ab12" * 4 + "ba21" * 4 + "1a2b" * 4 + "b1a2" * 4 + "2b1a" * 4,
}


@pytest.mark.parametrize(
    "variable,field", [("HEARTLINE_JWT_SECRET", "jwt_secret"), ("HEARTLINE_CUSTOMER_SALT", "customer_salt")]
)
@pytest.mark.parametrize("why", list(WEAK))
def test_weak_secrets_are_refused_outside_local_mode_naming_the_variable(variable, field, why):
    """Guards: production mode refuses a known placeholder, a short secret, one under an
    estimated 256 bits or one with a pattern no random value shows, for the JWT key and the
    customer salt, with one message that names the variable and how to make a good one, and
    quotes no part of the value (pydantic's error would otherwise show the input)."""
    with pytest.raises(ValueError, match=variable) as refused:
        Settings(mode="production", **{field: WEAK[why]})
    assert "openssl rand -hex 32" in str(refused.value)  # how to make a good one
    value = WEAK[why]  # never quoted, not even in part
    assert not any(value[i : i + 8] in str(refused.value) for i in range(len(value) - 7)), str(refused.value)
    assert Settings(mode="local", **{field: WEAK[why]}).mode == "local"  # local mode keeps its demo values


def test_random_secrets_pass_and_a_missing_one_is_refused_where_needed():
    """Guards: what `openssl rand -hex 32`, `openssl rand -base64 32` and
    `secrets.token_urlsafe(32)` print passes (each check is one a random value fails less than
    once in a billion); a service that needs a secret refuses to start without it (naming it),
    one that does not (a worker) starts."""
    for _ in range(2000):
        for value in (secrets.token_hex(32), base64.b64encode(os.urandom(32)).decode(), secrets.token_urlsafe(32)):
            assert weakness(value) is None, value
    if shutil.which("openssl"):
        for form in ("-hex", "-base64"):
            made = subprocess.run(["openssl", "rand", form, "32"], capture_output=True, text=True, check=True)
            assert weakness(made.stdout.strip()) is None
    assert weakness("a" + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")) is None
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
