"""What `heartline lag` and `heartline status` print, from given answers (no broker).

The commands on a running stack, on both brokers, are
``tests/test_e2e.py::test_lag_and_status_commands_report_the_running_groups``."""

from __future__ import annotations

from heartline.ops import lag_lines, membership_lines


def _row(group: str, topic: str, partition: int, committed: int | None, high: int) -> dict:
    return {
        "group": group,
        "topic": topic,
        "partition": partition,
        "committed": committed,
        "high_watermark": high,
        "lag": high - (committed or 0),
    }


def test_lag_lines_list_each_partition_then_each_groups_total():
    rows = [
        _row("heartline-analyzer", "stt-events", 0, 40, 45),
        _row("heartline-analyzer", "stt-events", 1, None, 3),
        _row("heartline-nudger", "utterance-analysis", 0, 12, 12),
    ]
    lines = lag_lines(rows)
    assert lines[0].split() == ["group", "topic", "part", "committed", "high", "lag"]
    assert lines[1].split() == ["heartline-analyzer", "stt-events", "0", "40", "45", "5"]
    assert lines[2].split() == ["heartline-analyzer", "stt-events", "1", "None", "3", "3"]
    assert lines[4:] == ["total lag heartline-analyzer: 8", "total lag heartline-nudger: 0"]


def test_lag_lines_without_committed_offsets_say_so():
    assert lag_lines([]) == ["no consumer group has committed offsets yet"]


def test_membership_lines_count_each_groups_members():
    members = {
        "heartline-analyzer": [{"member": "m1", "client": "c", "host": "/127.0.0.1"}] * 2,
        "heartline-nudger": [{"member": "m2", "client": "c", "host": "/127.0.0.1"}],
        "heartline-recorder": [],
    }
    assert membership_lines(members) == [
        "group heartline-analyzer: 2 member(s)",
        "group heartline-nudger: 1 member(s)",
        "group heartline-recorder: 0 member(s)",
    ]


def test_membership_lines_say_when_the_broker_does_not_tell():
    members = {"unavailable": [{"member": "KafkaTimeoutError: describe timed out"}]}
    assert membership_lines(members) == [
        "group membership: not available from this broker (KafkaTimeoutError: describe timed out)"
    ]
