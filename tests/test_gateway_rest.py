"""The gateway's REST routes on the real app without a broker (TestClient, fake feed, a migrated
SQLite history): the parameter bounds, date parsing and token schema that schemathesis found,
each checked before anything reaches the database, in the one error body."""

from __future__ import annotations

import pytest

from services.recorder.db import make_engine, upgrade
from tests.contractkit import error_body as _error_body
from tests.gatewaykit import Gateway, gateway


@pytest.fixture
def gw(tmp_path):
    with gateway(data_dir=tmp_path) as g:
        yield g


@pytest.fixture
def history(gw: Gateway) -> None:
    """An empty, migrated history database where the gateway reads it."""
    engine = make_engine(gw.settings.db_url, writer=True)
    upgrade(engine)
    engine.dispose()


def _get(gw: Gateway, path: str, token: str | None = None, params: dict | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return gw.client.get(path, headers=headers, params=params)


def test_review_parameters_are_bounded_and_checked_before_the_database(gw, history):
    """Guards: ?offset=10990711456729420267520 reached the database (500); since=null was a 422 in
    another shape than documented; a day or time at the edge of the calendar overflowed."""
    sup = gw.token("s-001", "supervisor")
    body = _error_body(_get(gw, "/api/review/calls?offset=10990711456729420267520", sup), 422)
    assert body["errors"][0]["where"] == "query.offset"
    _error_body(_get(gw, "/api/review/calls?limit=0", sup), 422)
    for value in ("null", "", "2026-13-01", "1700000000", "2026-11-23T25:00:00Z"):
        for name in ("since", "until"):
            body = _error_body(_get(gw, "/api/review/calls", sup, params={name: value}), 422)
            assert [e["where"] for e in body["errors"]] == [f"query.{name}"], body
    # the schema states the bound the route applies: a longer time is refused by the schema too
    spec = gw.client.get("/openapi.json").json()["paths"]["/api/review/calls"]["get"]["parameters"]
    since = next(p for p in spec if p["name"] == "since")["schema"]
    assert {branch["maxLength"] for branch in since["anyOf"]} == {64}
    _error_body(_get(gw, "/api/review/calls", sup, params={"since": "2026-11-23T08:00:00." + "1" * 60 + "Z"}), 422)
    for since, until in (
        ("9999-12-31", "9999-12-31"),
        ("0001-01-01", "0001-01-01"),
        ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"),
        ("2016-12-31T23:59:60Z", "2026-11-23"),
    ):
        for path in ("/api/review/calls", "/api/review/acceptance"):
            resp = _get(gw, path, sup, params={"since": since, "until": until})
            assert resp.status_code == 200, (path, since, until, resp.text)
    _error_body(_get(gw, "/api/review/scores", sup, params={"since": "2026-12-01", "until": "2026-11-01"}), 422)
    _error_body(_get(gw, "/api/review/scores", sup, params={"since": "2026-01-01", "until": "2026-11-01"}), 422)
    assert _get(gw, "/api/review/scores", sup, params={"since": "2026-11-01", "until": "2026-11-23"}).status_code == 200
    _error_body(_get(gw, "/api/review/calls/not%20an%20id", sup), 422)
    _error_body(_get(gw, "/api/history/" + "c" * 129, sup), 422)


def test_token_requests_outside_the_schema_are_refused_by_the_schema(gw):
    """Guards: POST /api/token accepted any role and subject in its schema and refused them later."""
    url = "/api/token"
    for bad in (
        {"sub": "", "role": "agent"},
        {"sub": "a-001", "role": "boss"},
        {"sub": "s-001", "role": "agent"},
        {"sub": "a-001", "role": "supervisor"},
        {"sub": "a-001"},
        ["a-001"],
    ):
        body = _error_body(gw.client.post(url, json=bad), 422)
        assert body["errors"], body
    _error_body(gw.client.post(url, content=b"[" * 5000, headers={"content-type": "application/json"}), 400)
    _error_body(gw.client.post(url, content=b"{not json", headers={"content-type": "application/json"}), 400)
    ok = gw.client.post(url, json={"sub": "s-001", "role": "supervisor"})
    assert ok.status_code == 200 and ok.json()["role"] == "supervisor"
    spec = gw.client.get("/openapi.json").json()["components"]["schemas"]
    assert spec["AgentTokenRequest"]["properties"]["sub"]["enum"][0] == "a-001"
