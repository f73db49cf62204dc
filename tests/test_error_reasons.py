"""Error reasons that never carry the input's values (pure functions and the history DB engine).

The end-to-end half (ingest's 422 body, the analyzer's and the recorder's
dead letters, the recorder's log) is in tests/test_hardening.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import insert

from services.recorder import db
from services.recorder.models import UtteranceRow
from shared.schemas import CallState, UtteranceAnalysis, parse_event
from shared.validation import reason, reasons

ROOT = Path(__file__).resolve().parent.parent
MARKER = "保密标记七三一九"

BAD = {
    "unknown type tag": lambda: parse_event({"type": MARKER, "call_id": "c-1", "ts": "2026-11-23T08:00:00Z"}),
    "bad call id": lambda: parse_event(
        {"type": "hold_started", "call_id": f"c {MARKER}", "ts": "2026-11-23T08:00:00Z"}
    ),
    "bad speaker": lambda: parse_event(
        {"type": "utterance", "call_id": "c-1", "seq": 1, "speaker": MARKER, "text": "x", "ts": "2026-11-23T08:00:00Z"}
    ),
    "bad timestamp": lambda: parse_event({"type": "call_ended", "call_id": "c-1", "ts": MARKER}),
    "seq not a number": lambda: parse_event(
        {
            "type": "utterance",
            "call_id": "c-1",
            "seq": MARKER,
            "speaker": "customer",
            "text": "x",
            "ts": "2026-11-23T08:00:00Z",
        }
    ),
    "name too long": lambda: CallState.model_validate({"call_id": "c-1", "customer": {"name": MARKER * 10}}),
    "not JSON": lambda: UtteranceAnalysis.model_validate_json(f'{{"call_id": "{MARKER}", '.encode()),
}


@pytest.mark.parametrize("case", list(BAD))
def test_reasons_name_the_field_and_never_quote_the_input(case):
    """Guards: shared.validation.reasons explains a failed record by field and rule only — pydantic's
    own message quotes the input for an unknown discriminator tag, and the recorder used to put the
    whole error list (with the input) into its dead letters."""
    with pytest.raises(ValidationError) as caught:
        BAD[case]()
    lines = reasons(caught.value)
    assert lines and all(MARKER not in line for line in lines), lines
    assert all(re.match(r"^[\w.…]+: \S", line) for line in lines), lines
    assert MARKER not in reason(caught.value, "CallEvent")


def test_every_service_builds_validation_reasons_with_the_shared_helper():
    """Guards: no service keeps its own copy of the reason-building code (ingest, analyzer, nudger,
    recorder and the CLI each had one; the recorder's quoted the input). Only the checker of the
    files operators write (shared/yaml_lines.py: rules, scorecard, knowledge) reads errors() itself:
    it points at their lines."""
    allowed = {"shared/validation.py", "shared/yaml_lines.py"}
    offenders = []
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/*.py"), *ROOT.glob("heartline/*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel not in allowed and ".errors()" in path.read_text(encoding="utf-8"):
            offenders.append(rel)
    assert not offenders, f"use shared.validation.reasons instead of reading .errors(): {offenders}"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path}/history.db" if request.param == "sqlite" else request.getfixturevalue("pg_server")
    eng = db.make_engine(url, writer=True)
    if request.param == "postgresql":
        from sqlalchemy import text

        from services.recorder.models import Base

        with eng.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade(eng)
    yield eng
    eng.dispose()


def test_database_errors_do_not_carry_the_row(engine):
    """Guards: a failed insert's message (what a log would print) does not contain the row's
    values — engines hide bound parameters — and error_class names what failed without the message."""
    from shared.schemas import utcnow

    row = dict(
        call_id="c-hide-1",
        seq=1,
        speaker="customer",
        text=f"{MARKER} 我的身份证号是",
        sentiment=0.2,
        emotion="anger",
        emotion_score=0.9,
        cues=[],
        start_ms=0,
        end_ms=1000,
        ts=utcnow(),
    )
    with engine.begin() as conn:
        conn.execute(insert(UtteranceRow).values(**row))
    with pytest.raises(Exception) as caught, engine.begin() as conn:
        conn.execute(insert(UtteranceRow).values(**row))  # the same key again: refused
    message = str(caught.value)
    assert MARKER not in message and "身份证" not in message, message
    assert db.error_class(caught.value).startswith("IntegrityError(")
    assert not db.unavailable(caught.value)
