"""The published contracts, without a broker: docs/asyncapi.yaml is what the code says, and each
service's OpenAPI declares its bodies, its error answers, bounded parameters and real content types."""

from __future__ import annotations

import unicodedata

import pytest
import yaml

from services.nudger.worker import changelog_topic
from shared import asyncapi
from shared.config import Settings
from shared.schemas import parse_event
from shared.topics import AFTER_HEADER, SRC_HEADER


def test_the_committed_asyncapi_is_what_the_models_generate():
    """Guards: docs/asyncapi.yaml drifting from shared/schemas.py and shared/socket_messages.py
    (vendors generate clients from the file, the services speak the models)."""
    committed = asyncapi.OUT.read_text(encoding="utf-8")
    assert committed == asyncapi.render(), "docs/asyncapi.yaml is stale: run python -m shared.asyncapi"
    assert asyncapi.main(["--check"]) == 0


def test_asyncapi_covers_every_topic_socket_and_message_kind():
    doc = yaml.safe_load(asyncapi.OUT.read_text(encoding="utf-8"))
    addresses = {c["address"] for c in doc["channels"].values()}
    for topic in ("stt-events", "call-events", "utterance-analysis", "call-state", "nudges", "nudge-feedback"):
        assert {topic, f"{topic}.dlq"} <= addresses
    assert {"/ws/agent", "/ws/wall", "/v1/stream", "/v1/audio"} <= addresses
    agent = doc["channels"]["agentSocket"]
    kinds = {doc["components"]["messages"][m["$ref"].rsplit("/", 1)[1]]["name"] for m in agent["messages"].values()}
    assert kinds == {
        "call",
        "transcript",
        "call_state",
        "nudge",
        "feedback_ack",
        "resumed",
        "pong",
        "error",
        "feedback",
        "resume",
        "ping",
    }
    assert set(agent["x-close-codes"]) == {"4401", "4403", "4408", "4429", "1008", "1009"}
    state = doc["channels"]["callState"]
    assert state["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
    assert "callStateTombstone" in state["messages"]
    assert doc["channels"]["sttEvents"]["x-producers"] == ["ingest", "asr", "simulator"]
    changelog = doc["channels"]["nudgerCallsChangelog"]
    assert changelog["address"] == changelog_topic(Settings()), "the nudger's changelog as it is named"
    assert changelog["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
    for name in ("utteranceAnalysisRecord", "callEventsRecord"):
        assert set(doc["components"]["messages"][name]["headers"]["properties"]) == {SRC_HEADER, AFTER_HEADER}
    for message in doc["components"]["messages"].values():
        if message["name"] not in ("audio",):
            assert message["payload"]["$ref"].rsplit("/", 1)[1] in doc["components"]["schemas"]


@pytest.mark.parametrize("schema", sorted(asyncapi.EXAMPLES))
def test_every_example_in_the_asyncapi_validates_against_its_schema(schema):
    doc = yaml.safe_load(asyncapi.OUT.read_text(encoding="utf-8"))
    validator = asyncapi.schema_validator(doc, schema)
    for example in doc["components"]["schemas"][schema]["examples"]:
        assert not list(validator.iter_errors(example)), example


def test_asyncapi_schemas_refuse_what_the_models_refuse():
    doc = yaml.safe_load(asyncapi.OUT.read_text(encoding="utf-8"))
    event = asyncapi.schema_validator(doc, "CallEvent")
    good = {
        "type": "utterance",
        "call_id": "c-1",
        "seq": 1,
        "speaker": "customer",
        "text": "好",
        "ts": "2026-11-23T08:00:00.000Z",
    }
    assert event.is_valid(good)
    parse_event(good)
    for bad in (
        {**good, "seq": -1},
        {**good, "speaker": "robot"},
        {**good, "type": "dtmf"},
        {**good, "call_id": "bad id"},
        {**good, "seq": "1"},
    ):
        assert not event.is_valid(bad), bad
        with pytest.raises(ValueError):
            parse_event(bad)


def _openapis() -> dict[str, dict]:
    from services.asr_bridge.app import create_app as asr
    from services.gateway.app import create_app as gateway
    from services.ingest.app import create_app as ingest

    settings = Settings()
    return {
        "ingest": ingest(settings).openapi(),
        "gateway": gateway(settings).openapi(),
        "asr": asr(settings, transcriber=object(), sink=object()).openapi(),
    }


def test_openapi_declares_bodies_errors_bounds_and_content_types():
    """Guards: ingest's POST /v1/events documented without a body and with 202 only; 401/413/422
    undocumented; /metrics documented as JSON; unbounded offsets; FastAPI's HTTPValidationError
    documented while the services answer {"error": ...}."""
    for name, spec in _openapis().items():
        schemas = spec["components"]["schemas"]
        assert "HTTPValidationError" not in schemas, name
        metrics = spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        assert list(metrics) == ["text/plain"], name
        for path, ops in spec["paths"].items():
            for _method, op in ops.items():
                for code, answer in op["responses"].items():
                    if code.startswith(("4", "5")) and path != "/readyz":
                        ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                        assert ref in ("ErrorBody", "IngestRejected"), (name, path, code, ref)
                for param in op.get("parameters", []):
                    schema = param["schema"]
                    if schema.get("type") == "integer":
                        assert "maximum" in schema and "minimum" in schema, (name, path, param["name"])
                    if param["name"] in ("since", "until"):
                        assert {s["format"] for s in schema["anyOf"]} == {"date", "date-time"}
    ingest = _openapis()["ingest"]["paths"]["/v1/events"]["post"]
    assert set(ingest["responses"]) == {"202", "400", "401", "413", "422", "503"}
    body = ingest["requestBody"]["content"]["application/json"]
    assert body["schema"]["oneOf"][0] == {"$ref": "#/components/schemas/CallEvent"} and body["examples"]
    assert ingest["security"] == [{"bearer": []}]


def test_the_whisper_text_pattern_is_the_check():
    """The OpenAPI pattern of a whisper's text and the gateway's check share one table of hidden
    code points: it must be exactly Unicode's Cc, Cf, Co and Cs."""
    from services.gateway.whisper import HIDDEN

    hidden = {cp for lo, hi in HIDDEN for cp in range(lo, hi + 1)}
    expected = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Co", "Cs")}
    assert hidden == expected
