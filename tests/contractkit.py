"""Contract testing helpers: schemathesis against a running service, and its hooks.

``run_schemathesis`` runs the schemathesis command line (pinned in
requirements-dev.txt) with every check and every phase (examples, coverage,
fuzzing, stateful) against a service's served ``/openapi.json``, bounded by
``max_examples`` per operation, and returns its exit code and report.

The hooks (loaded by schemathesis through ``SCHEMATHESIS_HOOKS``) keep
generated requests inside the two rules that JSON Schema cannot state and the
services enforce, so that the checks judge everything else:

* ingest refuses an event whose ``ts`` is more than a day ahead of the clock
  (422): a generated future time is moved back to 2020, same day and time;
* ``/api/review/scores`` needs ``since`` before ``until`` and at most 92 days
  apart (422): a generated pair outside that is dropped (the defaults apply).

Both rules have their own regular tests (tests/test_contract.py, tests/test_gateway_rest.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import schemathesis

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
YEAR = re.compile(r"^\d{4}(?=-\d{2}-\d{2}[Tt ])")


def _future(value: str) -> bool:
    try:
        ts = datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(":60", ":59"))
    except ValueError:
        return False
    try:
        ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        return ts.astimezone(UTC) - datetime.now(UTC) > timedelta(hours=23)
    except OverflowError:
        return ts.year > 2000


def _past(event):
    if isinstance(event, dict):
        for key in ("ts", "ingest_ts"):
            value = event.get(key)
            if isinstance(value, str) and _future(value):
                event[key] = YEAR.sub("2020", value)
    return event


@schemathesis.hook
def map_case(context, case):
    path = context.operation.path if context.operation else ""
    if path == "/v1/events":
        if isinstance(case.body, list):
            case.body = [_past(e) for e in case.body]
        else:
            case.body = _past(case.body)
    elif path == "/api/review/scores" and isinstance(case.query, dict):
        from fastapi.exceptions import RequestValidationError

        from services.gateway.review import _when

        try:
            end = _when(case.query.get("until"), end=True) if case.query.get("until") is not None else None
            start = _when(case.query.get("since")) if case.query.get("since") is not None else None
        except (RequestValidationError, TypeError):
            return case  # not a day or a time: the service must refuse it, leave it
        now = datetime.now(UTC) + timedelta(days=1)
        end_ = end or now
        start_ = start or end_ - timedelta(days=7)
        if end_ <= start_ or end_ - start_ > timedelta(days=92):
            case.query = {k: v for k, v in case.query.items() if k not in ("since", "until")}
    return case


def run_schemathesis(
    base_url: str, token: str, report_dir: Path, max_examples: int = 25, seed: int = 20261123, timeout_s: float = 400
) -> subprocess.CompletedProcess:
    """schemathesis with every check and phase against ``base_url``'s /openapi.json."""
    report_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "10",
        "--workers",
        "2",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contractkit",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout_s)


def error_body(resp: Any, status: int) -> dict:
    """The one error body (``{error, errors}``, never FastAPI's ``detail``) with ``status``; returned."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body["error"], str) and body["error"], body
    assert all(isinstance(i["error"], str) for i in body.get("errors", [])), body
    assert "detail" not in body, body
    return body
