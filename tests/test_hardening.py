"""Hardening on the real stack: secrets stay where they are used, bad input is refused or
isolated without quoting it, one record the database refuses never stops call history, and
every endpoint has limits (message and body sizes, rates, nesting, a CSP on the pages).

One stack for the module with its own SQLite history file (the recorder's
DDL below must not reach other modules' databases). The recorder tests run
against SQLite (the stack's recorder) and PostgreSQL: a second recorder
process in its own consumer group writes to a database on HEARTLINE_TEST_PG
(the mechanism of tests/test_recorder_store.py: skipped where no server
answers, a failure under CI).

The database refuses a record the way any schema drift would make it: a
trigger (SQLite) or CHECK constraint (PostgreSQL) that rejects utterances of
calls named ``poison-*``. "Unreachable" is the utterances table renamed away.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from heartline.broker import free_port
from heartline.stack import Proc
from services.recorder import db
from services.recorder.models import Base
from shared.schemas import iso, utcnow
from shared.topics import dlq
from tests.callkit import call_started, new_call_id, utterance
from tests.kafkatools import produce_raw, read_topic
from tests.stackkit import LiveStack

pytestmark = pytest.mark.e2e

MARKER = "保密标记七三一九"  # a value that must never be quoted by a reason or a log
GOOD = "你好,我想查一下我的账户余额"


@pytest.fixture(scope="module")
def stack(own_stack, tmp_path_factory):
    """The real stack (ingest, analyzer, nudger, recorder, gateway) with its own SQLite history file."""
    db_file = tmp_path_factory.mktemp("hardening") / "heartline.db"
    with own_stack("test_hardening", settings={"database_url": f"sqlite:///{db_file}"}) as live:
        yield live


# ---------------------------------------------------------------- A. secrets


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def test_workers_run_without_the_signing_key(stack):
    """Guards: the JWT secret reaches only the processes that mint or verify tokens (ingest,
    gateway); the analyzer, nudger and recorder run without it (a worker's environment dump or
    compromise cannot mint tokens)."""
    seen = {}
    for proc in stack.stack.procs:
        if proc.popen is None or proc.popen.poll() is not None:
            continue
        seen[proc.name] = "HEARTLINE_JWT_SECRET" in _environ(proc.popen.pid)
    assert seen["ingest"] and seen["gateway"], seen
    workers = {name: has for name, has in seen.items() if name.split("-")[0] in ("analyzer", "nudger", "recorder")}
    assert len(workers) >= 3 and not any(workers.values()), seen


# ---------------------------------------------------------------- B. reasons without values


def _dlq_records(settings, topic: str) -> list[tuple[bytes | None, dict]]:
    return [(k, json.loads(v)) for k, v in asyncio.run(read_topic(settings, dlq(topic))) if v]


def _wait(fn, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for: {what}")
        time.sleep(0.5)


def test_validation_reasons_never_quote_the_input(stack):
    """Guards: a record failing validation is explained by field and rule, never by its values —
    in ingest's 422 body, in the analyzer's DLQ reason (stt-events) and in the recorder's DLQ
    reason (call-state), which used to embed pydantic's full error list with the input."""
    s = stack.settings
    call_id = new_call_id("rv")
    resp = stack.post_events([{"type": MARKER, "call_id": call_id, "ts": "2026-11-23T08:00:00Z"}])
    assert resp.status_code == 422 and MARKER not in resp.text and "unknown" in resp.text, resp.text

    bad_state = {"call_id": call_id, "customer": {"name": MARKER * 10}, "sentiment": 0.5}
    asyncio.run(
        produce_raw(
            s,
            s.topics.stt_events,
            [
                (
                    call_id.encode(),
                    json.dumps(
                        {"type": MARKER, "call_id": call_id, "ts": "2026-11-23T08:00:00Z"}, ensure_ascii=False
                    ).encode(),
                )
            ],
        )
    )
    asyncio.run(
        produce_raw(s, s.topics.call_state, [(call_id.encode(), json.dumps(bad_state, ensure_ascii=False).encode())])
    )

    def reasons(topic):
        return [d["reason"] for k, d in _dlq_records(s, topic) if k == call_id.encode()]

    analyzer = _wait(lambda: reasons(s.topics.stt_events), 30, "the analyzer dead-letters the unknown type")
    recorder = _wait(lambda: reasons(s.topics.call_state), 30, "the recorder dead-letters the long name")
    assert all(MARKER not in r for r in analyzer + recorder), analyzer + recorder
    assert any("unknown" in r for r in analyzer), analyzer
    assert any("customer.name" in r and "64" in r for r in recorder), recorder


# ---------------------------------------------------------------- C. one bad record


@dataclass
class RecorderUnderTest:
    kind: str
    url: str
    proc: Proc

    @property
    def base(self) -> str:
        return self.proc.url

    def ddl(self, *statements: str) -> None:
        engine = db.make_engine(self.url, writer=True)
        try:
            with engine.begin() as conn:
                for sql in statements:
                    conn.execute(text(sql))
        finally:
            engine.dispose()

    def stored(self, call_id: str) -> int:
        engine = db.make_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM utterances WHERE call_id = :c"), {"c": call_id}).scalar()
        finally:
            engine.dispose()

    def metric(self, name: str, **labels) -> float:
        body = httpx.get(f"{self.base}/metrics", timeout=15).text
        total = 0.0
        for line in body.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def log(self, stack: LiveStack) -> str:
        return (stack.stack.log_dir / f"{self.proc.name}.log").read_text(encoding="utf-8", errors="replace")


REFUSE = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS hl_test_refuse_poison BEFORE INSERT ON utterances "
        "WHEN NEW.call_id LIKE 'poison-%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    ],
    "postgresql": [
        "ALTER TABLE utterances ADD CONSTRAINT hl_test_refuse_poison CHECK (call_id NOT LIKE 'poison-%') NOT VALID"
    ],
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def recorder(request, stack):
    """The stack's own recorder on SQLite, or a second recorder process (its own consumer group)
    on PostgreSQL; either way its database refuses utterances of `poison-*` calls."""
    if request.param == "sqlite":
        proc = next(p for p in stack.stack.procs if p.name == "recorder-0")
        rec = RecorderUnderTest("sqlite", stack.settings.db_url, proc)
        rec.ddl(*REFUSE["sqlite"])
        yield rec
        return
    url = request.getfixturevalue("pg_server")
    engine = db.make_engine(url, writer=True)
    with engine.begin() as conn:  # the PostgreSQL test database is shared by the session: start empty
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    port = free_port()
    proc = stack.stack.add(
        "recorder-pg",
        ["worker", "recorder"],
        port=port,
        HEARTLINE_WORKER_PORT=port,
        HEARTLINE_DATABASE_URL=url,
        HEARTLINE_GROUP_GENERATION=7,
    )
    try:
        stack.stack.wait_ready(120, procs=[proc])
        rec = RecorderUnderTest("postgresql", url, proc)
        rec.ddl(*REFUSE["postgresql"])
        yield rec
    finally:
        stack.stack.stop_proc(proc)


def test_ingest_refuses_a_microsecond_offset(stack):
    """Guards: an utterance whose start_ms is ~2.2e9 (an ASR sending microseconds) is a 422 at
    ingest naming the field, instead of being accepted and failing the history insert later."""
    call_id = new_call_id("us")
    bad = utterance(call_id, 1, GOOD, start_ms=2_200_000_000)
    resp = stack.post_events([call_started(call_id, "a-090"), bad])
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["accepted"] == 1 and body["errors"][0]["index"] == 1 and "start_ms" in body["errors"][0]["error"]


def test_a_record_the_database_refuses_is_dead_lettered_and_history_goes_on(stack, recorder):
    """Guards: when the database refuses one record of a batch, the recorder stores the others
    one by one, sends the refused one to utterance-analysis.dlq with the error class (not its
    text), commits and goes on — later calls are stored and /readyz stays 200. Before, it retried
    the same batch forever: history stopped, offsets never moved, /readyz said ready."""
    poison, good, later = new_call_id("poison"), new_call_id("ok"), new_call_id("ok")
    before = recorder.metric("heartline_dlq_total", service="recorder", reason="unstorable")
    assert (
        stack.post_events(
            [
                call_started(poison, "a-091"),
                utterance(poison, 1, f"{MARKER} 我的账户登录不上", start_ms=100),
                call_started(good, "a-092"),
                utterance(good, 1, GOOD, start_ms=100),
                utterance(good, 2, "好的,我帮您查一下", speaker="agent", start_ms=2000),
            ]
        ).status_code
        == 202
    )
    _wait(lambda: recorder.stored(good) == 2, 45, f"{recorder.kind}: the good call of the batch is stored")
    assert stack.post_events([call_started(later, "a-093"), utterance(later, 1, GOOD)]).status_code == 202
    _wait(lambda: recorder.stored(later) == 1, 45, f"{recorder.kind}: a later call is stored too")
    assert recorder.stored(poison) == 0

    _wait(
        lambda: recorder.metric("heartline_dlq_total", service="recorder", reason="unstorable") > before,
        20,
        "the refused record is counted as dead-lettered",
    )
    s = stack.settings
    recorders = 2 if recorder.kind == "postgresql" else 1  # the SQLite recorder runs (and refuses) throughout

    def letters():
        found = [
            d
            for k, d in _dlq_records(s, s.topics.utterance_analysis)
            if k == poison.encode() and d["reason"].startswith("not stored")
        ]
        return found if len(found) >= recorders else None

    letters = _wait(letters, 20, "each recorder put the refused record on utterance-analysis.dlq")
    assert all("IntegrityError" in d["reason"] and MARKER not in d["reason"] for d in letters), letters
    assert httpx.get(f"{recorder.base}/readyz", timeout=15).status_code == 200
    assert recorder.metric("heartline_consumer_stuck", service="recorder") == 0
    log = recorder.log(stack)
    assert MARKER not in log and "登录不上" not in log, "the recorder log quotes a refused row"


def test_a_unit_mixup_on_the_topic_is_dead_lettered_not_retried(stack, recorder):
    """Guards: an utterance-analysis record with start_ms 2.2e9 produced straight to the topic
    (bypassing ingest) is refused by the shared schema's bounds and dead-lettered; on PostgreSQL
    it used to fail the INTEGER insert and stop the recorder for good."""
    s = stack.settings
    odd, good = new_call_id("mix"), new_call_id("ok")
    record = {
        "call_id": odd,
        "seq": 1,
        "speaker": "customer",
        "text": GOOD,
        "is_final": True,
        "sentiment": 0.5,
        "emotion": "neutral",
        "emotion_score": 0.5,
        "cues": [],
        "start_ms": 2_200_000_000,
        "end_ms": 2_201_500_000,
        "ts": "2026-11-23T08:00:14.100Z",
        "ingest_ts": "2026-11-23T08:00:14.100Z",
        "analyzed_ts": "2026-11-23T08:00:14.120Z",
    }
    asyncio.run(produce_raw(s, s.topics.utterance_analysis, [(odd.encode(), json.dumps(record).encode())]))
    assert stack.post_events([call_started(good, "a-094"), utterance(good, 1, GOOD)]).status_code == 202
    _wait(lambda: recorder.stored(good) == 1, 45, f"{recorder.kind}: the call after the odd record is stored")
    assert recorder.stored(odd) == 0
    letters = _wait(
        lambda: [d for k, d in _dlq_records(s, s.topics.utterance_analysis) if k == odd.encode()],
        20,
        "the odd record is dead-lettered",
    )
    assert any("start_ms" in d["reason"] for d in letters), letters
    assert httpx.get(f"{recorder.base}/readyz", timeout=15).status_code == 200


def test_a_recorder_that_cannot_store_reports_not_ready_and_loses_nothing(stack, recorder):
    """Guards: while the database cannot take writes (here: the utterances table is gone), the
    recorder keeps the offsets and retries — nothing is dead-lettered — and after a few failed
    tries /readyz answers 503 naming the problem and heartline_consumer_stuck is 1; once the
    table is back it stores the held records and is ready again. Before, /readyz stayed 200."""
    call_id = new_call_id("held")
    recorder.ddl("ALTER TABLE utterances RENAME TO utterances_away")
    try:
        assert stack.post_events([call_started(call_id, "a-095"), utterance(call_id, 1, GOOD)]).status_code == 202

        def not_ready():
            resp = httpx.get(f"{recorder.base}/readyz", timeout=15)
            return resp if resp.status_code == 503 else None

        resp = _wait(not_ready, 45, f"{recorder.kind}: the stuck recorder reports not ready")
        assert "stuck" in resp.json(), resp.text
        assert recorder.metric("heartline_consumer_stuck", service="recorder") == 1
        assert recorder.metric("heartline_batch_failures_total", service="recorder") >= 3
    finally:
        recorder.ddl("ALTER TABLE utterances_away RENAME TO utterances")
    _wait(lambda: recorder.stored(call_id) == 1, 45, "the held record is stored once the table is back")
    _wait(lambda: httpx.get(f"{recorder.base}/readyz", timeout=15).status_code == 200, 30, "ready again")
    assert recorder.metric("heartline_consumer_stuck", service="recorder") == 0
    s = stack.settings
    assert not [d for k, d in _dlq_records(s, s.topics.utterance_analysis) if k == call_id.encode()], (
        "a record held back by an unreachable database must not be dead-lettered"
    )


def test_a_migration_run_by_hand_hides_bound_values_from_its_errors(tmp_path):
    """Guards: `alembic … -x url=…` (the migration environment's own engine, not the recorder's
    connection) migrates the database and hides bound parameters from its errors, like every
    engine of the recorder: a failed statement's message never carries the values it was given
    (transcripts, customer names). Before, it built a plain engine whose errors printed them."""
    from argparse import Namespace

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import Engine, event, inspect
    from sqlalchemy import exc as sa_exc

    cfg = Config(cmd_opts=Namespace(x=[f"url=sqlite:///{tmp_path / 'history.db'}"]))
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    engines: list[Engine] = []

    def opened(conn) -> None:
        engines.append(conn.engine)

    event.listen(Engine, "engine_connect", opened)
    try:
        command.upgrade(cfg, "head")
    finally:
        event.remove(Engine, "engine_connect", opened)
    (engine,) = set(engines)
    assert {"calls", "utterances", "alembic_version"} <= set(inspect(engine).get_table_names())
    with pytest.raises(sa_exc.DBAPIError) as failed, engine.begin() as conn:
        conn.execute(text("UPDATE calls SET agent_id = :v WHERE no_such_column = :v"), {"v": MARKER})
    assert MARKER not in str(failed.value) and "parameters hidden" in str(failed.value), str(failed.value)
    engine.dispose()


# ---------------------------------------------------------------- D. limits


def _ws_close_code(url: str, messages: list, subprotocols=None) -> int | None:
    """Send `messages` as fast as possible; the close code the server sent (None: still open)."""
    import websockets

    async def go():
        async with websockets.connect(url, max_size=None, subprotocols=subprotocols) as ws:
            try:
                for m in messages:
                    await ws.send(m)
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None
            except TimeoutError:
                return None

    return asyncio.run(go())


def test_deeply_nested_json_is_a_400_not_a_500(stack):
    """Guards: JSON nested deeper than the parser's recursion limit is a 400 at ingest (HTTP) and
    an error message on /v1/stream (the socket stays), never a 500 from a RecursionError; the
    gateway's POST routes answer 400 with the error body too (a body nested 20,000 deep yet under
    the gateway's size limit, so it is parsed rather than refused as too large)."""
    import websockets

    from shared.errors import ErrorBody

    deep = "[" * 50_000 + "]" * 50_000
    deep_object = '{"type": "call_started", "call_id": "c-deep", "x": ' + deep + "}"
    token = stack.token("tests", "service")
    for body in (deep, deep_object):
        resp = httpx.post(
            f"{stack.ingest_url}/v1/events",
            content=body,
            timeout=10,
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        assert resp.status_code == 400 and "nested too deeply" in resp.json()["error"], resp.text
    nested = "[" * 20_000 + "]" * 20_000
    assert len(nested) < stack.settings.gateway_max_body_bytes  # not a 413: the parser meets it
    for body in (nested, '{"sub": "a-001", "role": ' + nested + "}"):
        resp = httpx.post(f"{stack.gateway_url}/api/token", content=body, headers={"content-type": "application/json"})
        assert resp.status_code == 400, (resp.status_code, resp.text)
        error = ErrorBody.model_validate(resp.json())
        assert resp.json().keys() == {"error", "errors"} and error.errors == [], resp.text
        assert error.error == "There was an error parsing the body", resp.text

    async def stream():
        url = stack.ingest_url.replace("http://", "ws://") + f"/v1/stream?token={stack.token('asr', 'ingest')}"
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(deep)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps(call_started(new_call_id("dp"), "a-096")))
            await ws.send("{oops")  # still served: the next error arrives
            after = json.loads(await asyncio.wait_for(ws.recv(), 5))
            return reply, after

    reply, after = asyncio.run(stream())
    assert reply["kind"] == "error" and "nested too deeply" in reply["error"], reply
    assert after["kind"] == "error" and "not valid JSON" in after["error"], after


def test_websocket_messages_over_the_endpoint_limit_are_refused_by_the_server(stack):
    """Guards: uvicorn's ws_max_size is each endpoint's own limit (gateway 16 KiB, ingest
    max_body_bytes), so an oversize message is refused with 1009 while it is read, instead of
    uvicorn's 16 MiB default buffering it before the handler looks at its length."""
    gw = f"{stack.gateway_ws}/ws/agent?token={stack.token('a-097')}"
    assert _ws_close_code(gw, [json.dumps({"kind": "ping", "pad": "x" * 17_000})]) == 1009
    assert _ws_close_code(gw, [json.dumps({"kind": "ping", "pad": "x" * 15_000})]) is None  # under it: served
    ingest = stack.ingest_url.replace("http://", "ws://") + f"/v1/stream?token={stack.token('asr', 'ingest')}"
    big = json.dumps({"type": "hold_started", "call_id": "c-big", "pad": "x" * (stack.settings.max_body_bytes + 10)})
    assert _ws_close_code(ingest, [big]) == 1009


def test_ingest_stream_flooding_closes_4429(stack):
    """Guards: one /v1/stream connection may send ingest_stream_rate messages a second (burst
    ingest_stream_burst); a client past it is closed with 4429 instead of taking the service's
    whole loop. A connection within the budget is served."""
    url = stack.ingest_url.replace("http://", "ws://") + f"/v1/stream?token={stack.token('asr', 'ingest')}"
    flood = ["{}"] * (stack.settings.ingest_stream_burst * 3)
    assert _ws_close_code(url, flood) == 4429
    assert _ws_close_code(url, ["{}"] * 20) is None


def test_gateway_post_bodies_over_the_limit_are_413(stack):
    """Guards: a POST to the gateway with a body over gateway_max_body_bytes is a 413 before the
    route reads it, whether Content-Length announces it or the body is streamed in chunks."""
    url = f"{stack.gateway_url}/api/token"
    size = stack.settings.gateway_max_body_bytes + 1
    resp = httpx.post(url, content=b'{"sub": "' + b"x" * size + b'"}', headers={"content-type": "application/json"})
    assert resp.status_code == 413, resp.status_code

    def chunks():
        yield b'{"sub": "'
        for _ in range(size // 4096 + 2):
            yield b"x" * 4096
        yield b'", "role": "agent"}'

    resp = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413, resp.status_code
    assert httpx.post(url, json={"sub": "a-001", "role": "agent"}).status_code == 200  # a normal sign-in


def test_api_docs_only_in_local_mode():
    """Guards: FastAPI's /docs, /redoc and /openapi.json are served in local mode only; in
    production mode they are 404 on gateway, ingest and the ASR bridge."""
    from fastapi.testclient import TestClient

    from services.asr_bridge.app import create_app as asr
    from services.gateway.app import create_app as gateway
    from shared.config import Settings
    from tests.test_secrets import STRONG

    for mode, want in (("local", 200), ("production", 404)):
        s = Settings(mode=mode, kafka="127.0.0.1:1", jwt_secret=STRONG)
        from services.ingest.app import create_app as ingest

        for create in (gateway, ingest, asr):
            client = TestClient(create(s, transcriber=object(), sink=object()) if create is asr else create(s))
            for path in ("/docs", "/redoc", "/openapi.json"):
                assert client.get(path).status_code == want, (mode, create.__module__, path)


def test_worker_web_serves_only_health_and_metrics(stack):
    """Guards: the analyzer's and nudger's web port serves /healthz, /readyz and /metrics and not
    a /table (calls in progress) or /router (the cluster's worker URLs) page, as a faust worker had."""
    workers = [p for p in stack.stack.procs if p.name.split("-")[0] in ("analyzer", "nudger")]
    assert len(workers) >= 2
    for proc in workers:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(f"{proc.url}{path}", timeout=10).status_code == 200, (proc.name, path)
        for path in ("/table/", "/table/calls/", "/router/", "/graph/", "/stats/"):
            assert httpx.get(f"{proc.url}{path}", timeout=10).status_code == 404, (proc.name, path)


CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '')));
"""


def test_pages_work_under_the_csp_and_never_take_a_token_from_the_url(stack):
    """Guards: every page and asset carries the security headers (CSP default-src 'self',
    frame-ancestors 'none', nosniff, no-referrer); the desk, the wall and the review page sign in
    through the form and run in Chromium with no CSP violation; their websockets carry the token
    as a subprotocol, never in the URL; a link with ?token= does not sign the page in."""
    pw = pytest.importorskip("playwright.sync_api")
    for path in ("/agent", "/wall", "/review", "/static/js/socket.js", "/static/nudge.css", "/api/demo/agents"):
        headers = httpx.get(f"{stack.gateway_url}{path}").headers
        csp = headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (path, csp)
        assert headers.get("x-content-type-options") == "nosniff" and headers.get("referrer-policy") == "no-referrer"

    from tests.pagekit import sign_in

    agent, call_id = "a-098", new_call_id("csp")
    p = pw.sync_playwright().start()
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    try:
        ctx = browser.new_context(locale="zh-CN")
        ctx.add_init_script(CSP_WATCH)
        sockets: list[str] = []
        ctx.on("page", lambda pg: pg.on("websocket", lambda ws: sockets.append(ws.url)))
        page = ctx.new_page()
        page.set_default_timeout(20_000)

        crafted = stack.token("a-099")  # someone else's token in a link
        page.goto(f"{stack.gateway_url}/agent?token={crafted}")
        pw.expect(page.locator("[data-testid=token-input]")).to_be_visible()
        assert "token=" not in page.url
        assert page.evaluate("localStorage.getItem('heartline.token.agent')") is None

        desk_token = stack.token(agent)
        sign_in(page, f"{stack.gateway_url}/agent", desk_token)
        pw.expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
        assert stack.post_events([call_started(call_id, agent), utterance(call_id, 1, GOOD)]).status_code == 202
        pw.expect(page.locator("[data-testid=transcript-line]").first).to_be_visible()

        wall = ctx.new_page()
        wall.set_default_timeout(20_000)
        sign_in(wall, f"{stack.gateway_url}/wall", stack.token("s-001", "supervisor"))
        pw.expect(wall.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")

        review = ctx.new_page()
        review.set_default_timeout(20_000)
        review.goto(f"{stack.gateway_url}/review")  # same browser: signed in by the wall's form
        pw.expect(review.locator("#signin")).to_be_hidden()
        review.wait_for_timeout(1000)

        for pg in (page, wall, review):
            assert pg.evaluate("window.__cspViolations") == [], (pg.url, pg.evaluate("window.__cspViolations"))
        assert sockets and not [u for u in sockets if "token" in u], sockets
    finally:
        browser.close()
        p.stop()
        stack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow())}])
    log = (stack.stack.log_dir / "gateway.log").read_text(encoding="utf-8", errors="replace")
    assert desk_token.split(".")[2] not in log, "the desk's token reached the gateway log"
