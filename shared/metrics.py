"""Prometheus metrics shared by every Heartline service (one name, one meaning).

Label values never carry call ids, texts or other PII: only service, topic,
stage, type, action, role, reason class.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

EVENTS_IN = Counter("heartline_events_in_total", "Records consumed", ["service", "topic"])
EVENTS_OUT = Counter("heartline_events_out_total", "Records produced", ["service", "topic"])
DLQ = Counter("heartline_dlq_total", "Records sent to a dead-letter topic", ["service", "topic", "reason"])
STAGE_SECONDS = Histogram(
    "heartline_stage_seconds",
    "Processing time of one record per stage",
    ["service", "stage"],
    buckets=LATENCY_BUCKETS,
)
HOP_SECONDS = Histogram(
    "heartline_hop_seconds",
    "Time from ingest_ts until this service saw the record",
    ["service", "topic"],
    buckets=LATENCY_BUCKETS,
)
E2E_SECONDS = Histogram(
    "heartline_e2e_latency_seconds",
    "ingest_ts of the trigger -> nudge pushed on the agent socket",
    buckets=LATENCY_BUCKETS,
)
WS_CLIENTS = Gauge("heartline_ws_clients", "Open websocket clients", ["role"])
WS_QUEUE_DEPTH = Gauge("heartline_ws_queue_depth_max", "Deepest per-connection send queue", ["role"])
WS_DROPPED = Counter("heartline_ws_disconnects_total", "Clients disconnected", ["role", "reason"])
NUDGES = Counter("heartline_nudges_total", "Nudges emitted", ["type", "audience"])
NUDGE_FEEDBACK = Counter("heartline_nudge_feedback_total", "Agent feedback on nudges", ["type", "action"])
CONSUMER_LAG = Gauge("heartline_consumer_lag", "Records behind the high watermark", ["group", "topic"])
ACTIVE_CALLS = Gauge("heartline_active_calls", "Calls held in memory", ["service"])
INGEST_REJECTED = Counter("heartline_ingest_rejected_total", "Events rejected at ingest", ["reason"])
CONSUMER_STUCK = Gauge(
    "heartline_consumer_stuck",
    "1 while a consumer retries one batch that keeps failing (it makes no progress)",
    ["service"],
)
BATCH_FAILURES = Counter(
    "heartline_batch_failures_total", "Failed tries to store a batch, by error class", ["service", "error"]
)
PARKED = Counter(
    "heartline_records_parked_total",
    "Records held until the call's earlier record arrived from the other input topic",
    ["service"],
)
