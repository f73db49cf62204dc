"""Heartline's AsyncAPI document (docs/asyncapi.yaml), generated from the pydantic models.

Everything that is not REST: the Kafka topics (key, value schema, who produces
and who consumes, compaction, dead letters) and the websockets (``/ws/agent``,
``/ws/wall``, ``/v1/stream``, ``/v1/audio``: every message kind in both
directions, close codes). Schemas come from ``shared.schemas`` (topic records)
and ``shared.socket_messages`` (socket messages), so the document cannot drift
from the code: ``tests/test_asyncapi.py`` regenerates it and compares it with
the committed file, and CI validates it with the AsyncAPI CLI.

    python -m shared.asyncapi            # writes docs/asyncapi.yaml
    python -m shared.asyncapi --check    # exit 1 if docs/asyncapi.yaml is not what the code says
    python -m shared.asyncapi --stdout
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared import socket_messages as sm
from shared import topics
from shared.errors import ErrorBody
from shared.schemas import (
    UTTERANCE_EXAMPLE,
    CallEventAdapter,
    CallState,
    DeadLetter,
    Nudge,
    NudgeFeedback,
    UtteranceAnalysis,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "asyncapi.yaml"
REF = "#/components/schemas/{model}"
KAFKA_BINDING = "0.5.0"
WS_BINDING = "0.1.0"

# ---------------------------------------------------------------- what travels where

# Topic -> (value schema, summary, producers, consumers). Producers and consumers are Heartline's
# services; an outside ASR/CTI may also produce CallEvents straight to stt-events. Every topic of
# shared.topics.ALL must be here (build() refuses to leave one out).
TOPICS: dict[str, tuple[str, str, list[str], list[str]]] = {
    topics.STT_EVENTS: (
        "CallEvent",
        "Speech-to-text events of every call: lifecycle, partials and finals "
        "(the only records an outside ASR/CTI system writes).",
        ["ingest", "asr", "simulator"],
        ["analyzer"],
    ),
    topics.CALL_EVENTS: (
        "CallEvent",
        "The lifecycle events of `stt-events` (call_started, hold_started, "
        "hold_ended, call_ended), forwarded unchanged by the analyzer for the nudger (which "
        "reads no raw `stt-events`).",
        ["analyzer"],
        ["nudger"],
    ),
    topics.UTTERANCE_ANALYSIS: (
        "UtteranceAnalysis",
        "Each utterance analysed: sentiment, emotion, cues, PII-redacted text, knowledge match.",
        ["analyzer"],
        ["nudger", "gateway", "recorder"],
    ),
    topics.CALL_STATE: (
        "CallState",
        "The latest state of each call (the wall's tile). Compacted: latest "
        "per call; a tombstone (null value) deletes an ended or erased call.",
        ["nudger", "heartline customer delete"],
        ["gateway", "recorder"],
    ),
    topics.NUDGES: (
        "Nudge",
        "Nudges for agents and alerts for supervisors; `supervisor_whisper` nudges "
        "come from the gateway, `repeat_caller` from the recorder.",
        ["nudger", "recorder", "gateway"],
        ["gateway", "recorder"],
    ),
    topics.NUDGE_FEEDBACK: (
        "NudgeFeedback",
        "What the agent did with a nudge (accepted / dismissed).",
        ["gateway"],
        ["nudger", "gateway", "recorder"],
    ),
}
# The analyzer's records of a call carry where they came from, so the nudger can apply a call's
# records in order although it reads them from two topics (services/nudger/order.py).
ORDERED_BY_HEADERS = {topics.UTTERANCE_ANALYSIS, topics.CALL_EVENTS}
ORDER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "Kafka record headers (UTF-8 values) the analyzer sets; other producers may omit them.",
    "properties": {
        topics.SRC_HEADER: {
            "type": "string",
            "pattern": r"^\d+:\d+$",
            "description": "`<partition>:<offset>` of the stt-events record this record was made from",
        },
        topics.AFTER_HEADER: {
            "type": "string",
            "pattern": r"^\d+:\d+$",
            "description": "`<partition>:<offset>` in stt-events of the previous record the analyzer wrote "
            "for the same call (absent for a call's first)",
        },
    },
}
CHANGELOG = "heartline-nudger-calls-changelog"

# Who dead-letters a record it cannot read from a topic (to `<topic>.dlq`).
DEAD_LETTERERS = {
    topics.STT_EVENTS: ["analyzer"],
    topics.CALL_EVENTS: ["nudger"],
    topics.UTTERANCE_ANALYSIS: ["nudger", "recorder"],
    topics.CALL_STATE: ["recorder"],
    topics.NUDGES: ["recorder"],
    topics.NUDGE_FEEDBACK: ["recorder"],
}

AGENT_SENT = [
    "CallMessage",
    "TranscriptMessage",
    "CallStateMessage",
    "NudgeMessage",
    "FeedbackAck",
    "Resumed",
    "Pong",
    "SocketError",
]
AGENT_RECEIVED = ["Feedback", "Resume", "Ping"]
WALL_SENT = [
    "CallStateMessage",
    "NudgeMessage",
    "Stats",
    "CallMessage",
    "TranscriptMessage",
    "WhisperAck",
    "Pong",
    "SocketError",
]
WALL_RECEIVED = ["Watch", "Unwatch", "Whisper", "Ping"]

GATEWAY_CLOSE = {
    4401: "missing, bad or expired token (also when the token expires while connected)",
    4403: "the token's role may not use this socket",
    4408: "the client could not keep up (its send queue filled): reconnect and resume",
    4429: "too many messages from the client (more than 20 a second, 40 at once)",
    1008: "origin not allowed",
    1009: "a message over 16,384 bytes",
}
STREAM_CLOSE = {
    4401: "missing or bad service token (role ingest or service)",
    4429: "more messages a second than `HEARTLINE_INGEST_STREAM_RATE` allows",
    1009: "a message over the ingest body limit (`HEARTLINE_MAX_BODY_BYTES`)",
}
AUDIO_CLOSE = {
    4400: "`call_id` and `speaker=agent|customer` are required",
    4401: "missing or bad service token",
    4403: "the token's role is not ingest or service",
    4409: "this speaker's channel of the call is already streaming",
    1009: "a binary message over 64 KiB (2 s of audio)",
}

SOCKET_MODELS: list[type[BaseModel]] = [
    sm.CallMessage,
    sm.TranscriptMessage,
    sm.CallStateMessage,
    sm.NudgeMessage,
    sm.FeedbackAck,
    sm.Resumed,
    sm.Pong,
    sm.SocketError,
    sm.Stats,
    sm.WhisperAck,
    sm.Feedback,
    sm.Resume,
    sm.Ping,
    sm.Watch,
    sm.Unwatch,
    sm.Whisper,
    sm.StreamError,
    sm.AudioEnd,
    sm.AsrEvent,
    sm.ChannelEnded,
]
RECORD_MODELS: list[type[BaseModel]] = [UtteranceAnalysis, CallState, Nudge, NudgeFeedback, DeadLetter, ErrorBody]

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "CallEvent": [{**UTTERANCE_EXAMPLE, "ingest_ts": "2026-11-23T08:00:14.103Z"}],
    "NudgeMessage": [
        {
            "kind": "nudge",
            "v": 2,
            "nudge_id": "c-20261123-0001:17:acknowledge_emotion",
            "call_id": "c-20261123-0001",
            "agent_id": "a-007",
            "type": "acknowledge_emotion",
            "audience": "agent",
            "priority": "high",
            "title": "先安抚情绪",
            "suggestion": "非常理解您的心情,让您久等了,我马上帮您处理。",
            "reason": "客户情绪: 愤怒 0.86 «你们这服务太差了…»",
            "trigger_seq": 17,
            "ingest_ts": "2026-11-23T08:00:14.103Z",
            "created_ts": "2026-11-23T08:00:14.121Z",
            "sender": None,
            "source": None,
        }
    ],
    "Feedback": [{"kind": "feedback", "nudge_id": "c-20261123-0001:17:acknowledge_emotion", "action": "accepted"}],
    "Resume": [
        {
            "kind": "resume",
            "call_id": "c-20261123-0001",
            "after_seq": 16,
            "seen_nudges": ["c-20261123-0001:17:acknowledge_emotion"],
        }
    ],
    "Whisper": [{"kind": "whisper", "call_id": "c-20261123-0001", "text": "先向客户道歉,再说明到账时间"}],
    "Stats": [{"kind": "stats", "live_calls": 12, "at_risk": 2, "nudges_per_min": 9, "acceptance_rate": 0.64}],
}


# ---------------------------------------------------------------- schemas


def _asyncapi_schema(node: Any) -> Any:
    """pydantic's JSON Schema as an AsyncAPI Schema Object: ``discriminator`` is a property name
    there (OpenAPI's ``{propertyName, mapping}`` object is not); descriptions in Markdown."""
    if isinstance(node, dict):
        out = {k: _asyncapi_schema(v) for k, v in node.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        if isinstance(out.get("description"), str):  # docstrings' reST literals as Markdown
            out["description"] = out["description"].replace("``", "`")
        return out
    if isinstance(node, list):
        return [_asyncapi_schema(v) for v in node]
    return node


def component_schemas() -> dict[str, dict[str, Any]]:
    _, top = models_json_schema([(m, "validation") for m in SOCKET_MODELS + RECORD_MODELS], ref_template=REF)
    out = dict(top.get("$defs", {}))
    event = CallEventAdapter.json_schema(ref_template=REF)
    out.update(event.pop("$defs", {}))
    out["CallEvent"] = event
    out["Tombstone"] = {"type": "null", "description": "A Kafka tombstone: the record has no value."}
    out["CallMemory"] = {
        "type": "object",
        "description": "The nudger's engine memory of one call (services/nudger/memory.py, internal).",
        "required": ["memory", "partition"],
        "properties": {
            "memory": {
                "type": "object",
                "description": "the engine's memory: the call state, its speech segments (timing and the "
                "analyzer's redacted text), open needs, nudges sent, cooldowns",
                "required": ["state"],
                "properties": {"state": {"$ref": "#/components/schemas/CallState"}},
            },
            "partition": {"type": "integer", "minimum": 0, "description": "the call's partition of the inputs"},
        },
    }
    out["PCM"] = {
        "type": "string",
        "format": "binary",
        "description": "16 kHz, 16-bit little-endian, mono PCM, any length up to 64 KiB per message",
    }
    out = _asyncapi_schema(out)
    for name, examples in EXAMPLES.items():
        out[name]["examples"] = examples
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- messages, channels, operations


def _message(
    name: str,
    title: str,
    summary: str,
    schema: str,
    content_type: str = "application/json",
    bindings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    msg = {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": content_type,
        "payload": {"$ref": f"#/components/schemas/{schema}"},
    }
    if bindings:
        msg["bindings"] = bindings
    return msg


def _doc_of(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or model.__name__).split()).replace("``", "`")


def _kind(model: type[BaseModel]) -> str:
    return str(typing.get_args(model.model_fields["kind"].annotation)[0])


def _socket_messages() -> dict[str, dict[str, Any]]:
    out = {}
    for model in SOCKET_MODELS:
        name = model.__name__
        out[name] = _message(_kind(model), name, _doc_of(model), name)
    out["CallEventText"] = _message("call_event", "CallEvent", "One CallEvent per text message.", "CallEvent")
    out["AudioChunk"] = _message(
        "audio", "PCM audio", "A binary message of call audio.", "PCM", content_type="application/octet-stream"
    )
    return out


def _kafka_messages() -> dict[str, dict[str, Any]]:
    key = {
        "kafka": {
            "key": {
                "type": "string",
                "description": "the call id (`call_id`): one call's records stay ordered on one partition",
            },
            "bindingVersion": KAFKA_BINDING,
        }
    }
    out = {}
    for topic, (schema, summary, _, _) in _described().items():
        out[f"{_camel(topic)}Record"] = _message(schema, f"{topic} record", summary, schema, bindings=key)
        if topic in ORDERED_BY_HEADERS:
            out[f"{_camel(topic)}Record"]["headers"] = ORDER_HEADERS
    out["callStateTombstone"] = _message(
        "tombstone",
        "call-state tombstone",
        "Deletes a call from the compacted topic (ended long enough, or its customer erased).",
        "Tombstone",
        bindings=key,
    )
    out["deadLetter"] = _message(
        "dead_letter",
        "Dead letter",
        "A record a consumer could not read: the reason (never the input's values) and a redacted excerpt.",
        "DeadLetter",
        bindings={
            "kafka": {
                "key": {
                    "type": ["string", "null"],
                    "description": "the key of the record that could not be read, as it was (the call id when "
                    "the producer set one; null when it had none)",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    )
    out["callMemory"] = _message(
        "call_memory",
        "Nudger call memory",
        "The nudger's memory of one live call (its call state, its speech segments with the analyzer's "
        "redacted text, open needs, nudges sent, cooldowns), read back only by the nudger when it is "
        "assigned the call's partition; "
        "a tombstone when the call ends or its customer is erased. Internal: its shape may change "
        "between versions.",
        "CallMemory",
        bindings=key,
    )
    return out


def _camel(topic: str) -> str:
    head, *rest = topic.replace(".", "-").split("-")
    return head + "".join(p.capitalize() for p in rest)


def _close_codes(codes: dict[int, str]) -> str:
    rows = "\n".join(f"| {code} | {why} |" for code, why in codes.items())
    return f"\n\nClose codes:\n\n| code | meaning |\n| --- | --- |\n{rows}"


def _ws_channel(
    address: str, server: str, description: str, messages: list[str], query: dict[str, Any], close: dict[int, str]
) -> dict[str, Any]:
    return {
        "address": address,
        "servers": [{"$ref": f"#/servers/{server}"}],
        "description": description + _close_codes(close),
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {
            "ws": {"method": "GET", "query": {"type": "object", "properties": query}, "bindingVersion": WS_BINDING}
        },
        "x-close-codes": {str(k): v for k, v in close.items()},
    }


TOKEN = {
    "type": "string",
    "description": "JWT; browsers send it as the subprotocol `heartline.bearer.<JWT>` "
    "(with `heartline`) instead, so it stays out of URLs",
}
SERVICE_TOKEN = {
    "type": "string",
    "description": "service JWT (role ingest or service); or the `Authorization: Bearer` header",
}


def _channels() -> dict[str, dict[str, Any]]:
    channels = {
        "agentSocket": _ws_channel(
            "/ws/agent",
            "gateway",
            "One agent's live calls (role `agent`, only the calls of the token's `sub`). On connect the "
            "gateway sends, per live call, a `call`, its `transcript` lines, its `call_state` and its open "
            "nudges; then live messages. A malformed client message gets an `error`; the socket stays open.",
            sorted(set(AGENT_SENT + AGENT_RECEIVED)),
            {"token": TOKEN},
            GATEWAY_CLOSE,
        ),
        "wallSocket": _ws_channel(
            "/ws/wall",
            "gateway",
            "The supervisor wall (role `supervisor`): on connect a `call_state` per live call, the recent "
            "supervisor alerts (`nudge`, audience supervisor) and `stats`; then live. `watch` adds one call's "
            "transcript and agent nudges (listen-in); `whisper` sends the agent a hint.",
            sorted(set(WALL_SENT + WALL_RECEIVED)),
            {"token": TOKEN},
            GATEWAY_CLOSE,
        ),
        "ingestStream": _ws_channel(
            "/v1/stream",
            "ingest",
            "One CallEvent per text message from an ASR/CTI bridge, each produced to `stt-events` once the "
            "broker acknowledged it (nothing is sent back for a good event). A bad message gets an `error`; "
            "the socket stays open.",
            ["CallEventText", "StreamError"],
            {"token": SERVICE_TOKEN},
            STREAM_CLOSE,
        ),
        "asrAudio": _ws_channel(
            "/v1/audio",
            "asr",
            "Live call audio, one socket per call channel: binary PCM messages, then `end` (or close). Every "
            "CallEvent the bridge emits is echoed as `event`; with `lifecycle` (default) the bridge also "
            "emits `call_started` when the call's first channel connects and `call_ended` when its last "
            "closes. `ended` closes the channel.",
            ["AudioChunk", "AudioEnd", "AsrEvent", "ChannelEnded"],
            {
                "token": SERVICE_TOKEN,
                "call_id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"},
                "speaker": {"type": "string", "enum": ["agent", "customer"]},
                "agent_id": {"type": "string", "description": "sent on the bridge's call_started"},
                "lifecycle": {"type": "string", "enum": ["0", "1", "false", "true"], "default": "1"},
            },
            AUDIO_CLOSE,
        ),
    }
    for topic, (_, summary, producers, consumers) in _described().items():
        compacted = topic in topics.COMPACTED
        messages = [f"{_camel(topic)}Record"] + (["callStateTombstone"] if compacted else [])
        channels[_camel(topic)] = {
            "address": topic,
            "servers": [{"$ref": "#/servers/kafka"}],
            "description": (
                f"{summary}\n\nProduced by: {', '.join(producers)}. Consumed by: {', '.join(consumers)}."
                " Keyed by call id; values are UTF-8 JSON, unknown fields ignored. Names take "
                "`HEARTLINE_TOPIC_PREFIX`."
            ),
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "topicConfiguration": {"cleanup.policy": ["compact"] if compacted else ["delete"]},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
            "x-producers": producers,
            "x-consumers": consumers,
        }
        channels[_camel(topics.dlq(topic))] = {
            "address": topics.dlq(topic),
            "servers": [{"$ref": "#/servers/kafka"}],
            "description": (
                f"Records of `{topic}` that {', '.join(DEAD_LETTERERS[topic])} could not read, with "
                "the reason; counted in `heartline_dead_letters_total`."
            ),
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            "bindings": {"kafka": {"topic": topics.dlq(topic), "bindingVersion": KAFKA_BINDING}},
            "x-producers": DEAD_LETTERERS[topic],
            "x-consumers": [],
        }
    channels["nudgerCallsChangelog"] = {
        "address": CHANGELOG,
        "servers": [{"$ref": "#/servers/kafka"}],
        "description": (
            "The nudger's call memories, compacted (key call id, on the call's partition of the inputs): "
            "when a nudger is assigned partitions it reads theirs to the end before `/readyz` says ready, so "
            "a call continues where a killed worker left it. Named `<group>-calls-changelog` after the "
            "nudger's consumer group (`heartline-nudger`, `-gN` after an embedded-broker reset), with "
            "`HEARTLINE_TOPIC_PREFIX`; created by the nudger. `heartline customer delete` writes its "
            "tombstones too."
        ),
        "messages": {
            "callMemory": {"$ref": "#/components/messages/callMemory"},
            "callStateTombstone": {"$ref": "#/components/messages/callStateTombstone"},
        },
        "bindings": {
            "kafka": {
                "topic": CHANGELOG,
                "topicConfiguration": {"cleanup.policy": ["compact"]},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-producers": ["nudger", "customer delete"],
        "x-consumers": ["nudger"],
    }
    return channels


def _operations(channels: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """From Heartline's side: ``send`` what a service writes, ``receive`` what it reads."""
    ops: dict[str, dict[str, Any]] = {}

    def op(op_id: str, action: str, channel: str, messages: list[str], summary: str) -> None:
        ops[op_id] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": summary,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
        }

    op("sendToAgent", "send", "agentSocket", AGENT_SENT, "The gateway sends an agent its calls, lines and nudges.")
    op("receiveFromAgent", "receive", "agentSocket", AGENT_RECEIVED, "The gateway takes feedback, resume, ping.")
    op("sendToWall", "send", "wallSocket", WALL_SENT, "The gateway sends the wall states, alerts and stats.")
    op("receiveFromWall", "receive", "wallSocket", WALL_RECEIVED, "The gateway takes watch, whisper, ping.")
    op("receiveStreamEvents", "receive", "ingestStream", ["CallEventText"], "Ingest takes CallEvents.")
    op("sendStreamErrors", "send", "ingestStream", ["StreamError"], "Ingest says what it could not take.")
    op("receiveAudio", "receive", "asrAudio", ["AudioChunk", "AudioEnd"], "The ASR bridge takes audio.")
    op("sendAsrEvents", "send", "asrAudio", ["AsrEvent", "ChannelEnded"], "The ASR bridge echoes its events.")
    op(
        "produceNudgerCallsChangelog",
        "send",
        "nudgerCallsChangelog",
        ["callMemory", "callStateTombstone"],
        "The nudger writes each call it changed once per batch; customer delete writes tombstones.",
    )
    op(
        "consumeNudgerCallsChangelog",
        "receive",
        "nudgerCallsChangelog",
        ["callMemory", "callStateTombstone"],
        "A nudger reads the changelog of partitions newly assigned to it.",
    )
    for topic, (_, _, producers, consumers) in _described().items():
        channel = _camel(topic)
        messages = list(channels[channel]["messages"])
        name = channel[0].upper() + channel[1:]
        op(f"produce{name}", "send", channel, messages, f"Produced by {', '.join(producers)}.")
        op(f"consume{name}", "receive", channel, messages, f"Consumed by {', '.join(consumers)}.")
        dlq = _camel(topics.dlq(topic))
        op(
            f"produce{dlq[0].upper() + dlq[1:]}",
            "send",
            dlq,
            ["deadLetter"],
            f"Dead-lettered by {', '.join(DEAD_LETTERERS[topic])}.",
        )
    return ops


def _described() -> dict[str, tuple[str, str, list[str], list[str]]]:
    """The topics of shared.topics.ALL with their description; a topic without one is an error."""
    missing = [t for t in topics.ALL if t not in TOPICS or t not in DEAD_LETTERERS]
    if missing:
        raise SystemExit(
            f"shared/asyncapi.py: describe topic(s) {missing} in TOPICS and DEAD_LETTERERS, "
            "then run python -m shared.asyncapi"
        )
    return {t: TOPICS[t] for t in topics.ALL}


def build() -> dict[str, Any]:
    channels = _channels()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Heartline",
            "version": _version(),
            "description": (
                "Real-time agent assist for Chinese call centers: what is not REST. The Kafka topics between "
                "Heartline's services and the websockets of the gateway (agent desktop, supervisor wall), "
                "ingest (`/v1/stream`) and the ASR bridge (`/v1/audio`). Generated from the pydantic models in "
                "`shared/schemas.py` and `shared/socket_messages.py` by `python -m shared.asyncapi`; the REST "
                "routes are in each service's OpenAPI (`/openapi.json`, local mode). Timestamps are UTC RFC "
                "3339 strings (`2026-11-23T08:00:14.100Z`); every record carries its schema version `v`."
            ),
            "license": {"name": "Proprietary"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "gateway": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "`heartline serve gateway` (`HEARTLINE_GATEWAY_PORT`)",
            },
            "ingest": {
                "host": "127.0.0.1:8001",
                "protocol": "ws",
                "description": "`heartline serve ingest` (`HEARTLINE_INGEST_PORT`)",
            },
            "asr": {
                "host": "127.0.0.1:8003",
                "protocol": "ws",
                "description": "`heartline serve asr` (`HEARTLINE_ASR_PORT`)",
            },
            "kafka": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "`HEARTLINE_KAFKA`; `heartline run` starts a local broker",
            },
        },
        "channels": channels,
        "operations": _operations(channels),
        "components": {"schemas": component_schemas(), "messages": {**_socket_messages(), **_kafka_messages()}},
    }


def _version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def render(doc: dict[str, Any] | None = None) -> str:
    header = (
        "# Generated by `python -m shared.asyncapi` from shared/schemas.py and shared/socket_messages.py.\n"
        "# Do not edit: change the models and regenerate (a test compares this file with the code).\n"
    )
    return header + yaml.safe_dump(doc or build(), sort_keys=False, allow_unicode=True, width=110)


def schema_validator(doc: dict[str, Any], schema: str) -> Any:
    """A jsonschema validator for ``components/schemas/<schema>`` of the document (tests use it)."""
    from jsonschema import Draft7Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    uri = "urn:heartline:asyncapi"
    registry: Registry[Any] = Registry().with_resource(uri, DRAFT7.create_resource(doc))
    return Draft7Validator(
        {"$ref": f"{uri}#/components/schemas/{schema}"},
        registry=registry,
        format_checker=Draft7Validator.FORMAT_CHECKER,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.asyncapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with docs/asyncapi.yaml, write nothing")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python -m shared.asyncapi", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
