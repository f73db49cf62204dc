"""The Apache Kafka broker's set-up, without starting it (the e2e modules start it)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from heartline.kafka_broker import cluster_id, kafka_version, server_properties
from shared.config import Settings
from tests.brokerkit import on_broker

ROOT = Path(__file__).resolve().parent.parent


def test_the_maven_broker_is_the_compose_image_version():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image = compose["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{kafka_version()}", "align deploy/kafka/pom.xml and docker-compose.yml"


def test_server_properties_single_node_kraft_on_loopback(tmp_path):
    props = dict(
        line.split("=", 1)
        for line in server_properties(tmp_path, 19092, 19093).splitlines()
        if line and not line.startswith("#")
    )
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["log.dirs"] == str(tmp_path / "logs")
    assert props["offsets.topic.replication.factor"] == "1"


def test_cluster_id_is_kafkas_uuid_format():
    ids = {cluster_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


def test_settings_follow_the_broker():
    embedded = Settings(kafka=None)
    assert embedded.broker == "embedded" and embedded.fetch_max_wait_ms == 10 and embedded.session_timeout_s == 4.0
    deployed = Settings(kafka="kafka:9092")  # a deployment sets HEARTLINE_KAFKA only: Apache Kafka
    assert deployed.broker == "kafka" and deployed.fetch_max_wait_ms == 500 and deployed.session_timeout_s == 6.0
    moved = embedded.on_broker("127.0.0.1:9092", "kafka")
    assert (moved.kafka, moved.broker, moved.fetch_max_wait_ms) == ("127.0.0.1:9092", "kafka", 500)
    pinned = Settings(kafka="k:1", fetch_max_wait_ms=33).on_broker("e:1", "embedded")
    assert pinned.fetch_max_wait_ms == 33, "a value set explicitly survives a broker change"


@pytest.mark.e2e
@on_broker("kafka")
def test_storage_formats_with_a_cluster_id_that_starts_with_a_dash(tmp_path, monkeypatch):
    """A cluster id is random URL-safe base64: 1 in 64 starts with "-", which Kafka's storage tool
    once read as an option (the broker then failed to start)."""
    import heartline.kafka_broker as kb

    if not shutil.which("java"):
        pytest.skip("no java")
    monkeypatch.setattr(kb, "cluster_id", lambda: "-" + "A" * 21)
    broker = kb.KafkaBroker(data_dir=tmp_path / "kafka")
    broker._prepare()
    meta = (tmp_path / "kafka" / "logs" / "meta.properties").read_text()
    assert "cluster.id=-AAAAAAAAAAAAAAAAAAAAA" in meta
