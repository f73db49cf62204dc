"""Rules as data: the shipped file, validation errors with line numbers, hot reload."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from services.nudger import registry
from services.nudger.rules import CATALOG, OTHER_SERVICES, Rules, RulesError, RulesWatcher, load_rules, parse_rules

DEFAULT = Path(__file__).resolve().parent.parent / "rules" / "default.yaml"


def test_default_rules_cover_the_catalog():
    rules = load_rules(DEFAULT)
    assert isinstance(rules, Rules)
    assert set(rules.nudges) == set(CATALOG) | set(OTHER_SERVICES)
    for name, spec in rules.nudges.items():
        assert spec.enabled and spec.title
        if name == "knowledge_answer":  # its wording is the knowledge entry's answer; one card per question
            assert "{answer}" in spec.wordings[0] and spec.cooldown_s == 0
            continue
        assert len(spec.wordings) >= 2, f"{name}: several wordings so an agent does not see one twice"
        assert spec.cooldown_s > 0 or name in OTHER_SERVICES  # repeat_caller: once per call by its id
        assert (spec.audience == "supervisor") == (name == "escalate_supervisor")
    assert rules.get("escalate_supervisor").priority == "high"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_invalid_value_names_the_line():
    text = DEFAULT.read_text(encoding="utf-8")
    bad = text.replace("    cooldown_s: 45\n", "    cooldown_s: -5\n", 1)
    with pytest.raises(RulesError) as exc:
        parse_rules(bad, "rules.yaml")
    msg = str(exc.value)
    assert f"rules.yaml line {_line_of(bad, 'cooldown_s: -5')}" in msg
    assert "nudges.dont_interrupt.cooldown_s" in msg


def test_unknown_field_and_wrong_type_name_their_lines():
    text = "version: 1\nnudges:\n  polite_language:\n    title: x\n    wordings: [a, b]\n    priorty: high\n"
    with pytest.raises(RulesError, match=r"line 6: nudges\.polite_language\.priorty"):
        parse_rules(text, "r.yaml")
    text = "version: 1\nnudges:\n  polite_language:\n    title: x\n    wordings: [a, b]\n    thresholds:\n      min: lots\n"
    with pytest.raises(RulesError, match=r"line 7: nudges\.polite_language\.thresholds\.min"):
        parse_rules(text, "r.yaml")
    with pytest.raises(RulesError, match=r"line 3: nudges\.be_nice: unknown nudge type"):
        parse_rules("version: 1\nnudges:\n  be_nice:\n    title: x\n    wordings: [a]\n", "r.yaml")


def test_broken_yaml_names_line_and_column():
    with pytest.raises(RulesError, match=r"r.yaml line 4, column \d+: invalid YAML"):
        parse_rules("version: 1\nnudges:\n  polite_language:\n    title: a: b\n", "r.yaml")
    with pytest.raises(RulesError, match="line 1"):
        parse_rules("- just\n- a list\n", "r.yaml")


def test_watcher_reloads_and_keeps_previous_rules_on_error(tmp_path, caplog):
    path = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT, path)
    watcher = RulesWatcher(path)
    assert watcher.maybe_reload() is False  # unchanged
    first = watcher.rules
    assert first.nudges["dont_interrupt"].cooldown_s == 45

    def write(text: str, bump: int):
        path.write_text(text, encoding="utf-8")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))

    good = DEFAULT.read_text(encoding="utf-8")
    write(good.replace("    cooldown_s: 45\n", "    cooldown_s: 90\n", 1), 2)
    assert watcher.maybe_reload() is True
    assert watcher.rules.nudges["dont_interrupt"].cooldown_s == 90

    in_force = watcher.rules
    write(good.replace("    cooldown_s: 45\n", "    cooldown_s: soon\n", 1), 4)
    assert watcher.maybe_reload() is False
    assert watcher.rules is in_force  # the previous rules keep running
    assert "line" in watcher.last_error and "cooldown_s" in watcher.last_error
    assert "previous rules stay" in caplog.text
    assert watcher.maybe_reload() is False  # not retried until the file changes again

    write(good, 6)
    assert watcher.maybe_reload() is True and watcher.last_error is None


def test_watcher_refuses_to_start_on_a_bad_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("nudges: {}\nversion: [\n", encoding="utf-8")
    with pytest.raises(RulesError):
        RulesWatcher(path)


def test_missing_file_during_run_keeps_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT, path)
    watcher = RulesWatcher(path)
    path.unlink()
    assert watcher.maybe_reload() is False and watcher.rules is not None


# --- the file is validated whole against the detector registry ----------------------------------
def _refused(text: str, needle: str, pattern: str):
    """The file is refused, naming the line that holds ``needle`` and matching ``pattern``."""
    with pytest.raises(RulesError) as exc:
        parse_rules(text, "rules.yaml")
    msg = str(exc.value)
    assert f"rules.yaml line {_line_of(text, needle)}:" in msg, msg
    assert re.search(pattern, msg), msg
    return msg


def test_misspelled_threshold_is_refused_not_defaulted():
    text = DEFAULT.read_text(encoding="utf-8")
    bad = text.replace("      silence_s: 7 ", "      silense_s: 7 ", 1)
    assert bad != text
    msg = _refused(bad, "silense_s: 7", r"nudges\.timely_response\.thresholds\.silense_s: unknown threshold")
    assert "silence_s" in msg  # says what is known


def test_unknown_cue_in_satisfied_by_is_refused():
    text = DEFAULT.read_text(encoding="utf-8")
    bad = text.replace("satisfied_by: [request_restated]", "satisfied_by: [request_restated, restated]", 1)
    _refused(bad, "restated]", r"nudges\.confirm_request\.satisfied_by\.1: unknown agent cue 'restated'")
    customer_cue = text.replace("satisfied_by: [step_guidance]", "satisfied_by: [confusion]", 1)
    _refused(customer_cue, "[confusion]", r"unknown agent cue 'confusion'")  # agent speech meets needs


@pytest.mark.parametrize(
    "old,new,pattern",
    [
        (
            "    cooldown_s: 45\n",
            '    cooldown_s: "45"\n',
            r"dont_interrupt\.cooldown_s: Input should be a valid number",
        ),
        (
            "      min_overlap_ms: 1000 ",
            "      min_overlap_ms: lots ",
            r"thresholds\.min_overlap_ms: Input should be a valid",
        ),
        (
            "      min_overlap_ms: 1000 ",
            "      min_overlap_ms: true ",
            r"thresholds\.min_overlap_ms: Input should be a valid",
        ),
        (
            "    enabled: true\n    priority: normal\n    audience: agent\n    cooldown_s: 45\n",
            "    enabled: 1\n    priority: normal\n    audience: agent\n    cooldown_s: 45\n",
            r"dont_interrupt\.enabled: Input should be a valid boolean",
        ),
        (
            "satisfied_by: [request_restated]",
            "satisfied_by: request_restated",
            r"satisfied_by: Input should be a valid list",
        ),
        ("    max_per_call: 2 ", "    max_per_call: 1.5 ", r"max_per_call: Input should be a valid integer"),
    ],
)
def test_wrong_types_are_refused(old, new, pattern):
    text = DEFAULT.read_text(encoding="utf-8")
    bad = text.replace(old, new, 1)
    assert bad != text
    _refused(bad, new.strip().splitlines()[0], pattern)


def test_out_of_range_threshold_unknown_case_and_covers_are_refused():
    text = DEFAULT.read_text(encoding="utf-8")
    _refused(
        text.replace("      silence_s: 7 ", "      silence_s: -7 ", 1),
        "silence_s: -7",
        r"timely_response\.thresholds\.silence_s: must be ≥ 1",
    )
    _refused(
        text.replace("      anger_score: 0.6", "      anger_score: 6", 1),
        "anger_score: 6",
        r"escalate_supervisor\.thresholds\.anger_score: must be ≤ 1",
    )
    _refused(
        text.replace("      anxiety:\n", "      anxious:\n", 1),
        "anxious:",
        r"acknowledge_emotion\.cases\.anxious: unknown case 'anxious'",
    )
    _refused(
        text.replace("covers: [thank_for_waiting, confirm_request]", "covers: [thank_you, confirm_request]", 1),
        "covers: [thank_you",
        r"acknowledge_emotion\.covers\.0: covers must name another nudger type",
    )
    _refused(
        text.replace("card_gap_s: 6 ", "card_gap_s: -1 ", 1),
        "card_gap_s: -1",
        r"card_gap_s: Input should be greater than or equal to 0",
    )


def test_every_error_is_listed_at_once():
    text = DEFAULT.read_text(encoding="utf-8")
    bad = text.replace("      silence_s: 7 ", "      silense_s: 7 ", 1).replace(
        "satisfied_by: [request_restated]", "satisfied_by: [restated]", 1
    )
    with pytest.raises(RulesError) as exc:
        parse_rules(bad, "rules.yaml")
    assert "silense_s" in str(exc.value) and "restated" in str(exc.value)


def test_one_source_of_threshold_defaults():
    """A threshold the file leaves out takes the default its detector declares — nowhere else."""
    text = (
        "version: 1\nnudges:\n  timely_response:\n    title: x\n    wordings: [a, b]\n    thresholds: {silence_s: 9}\n"
    )
    spec = parse_rules(text, "r.yaml").nudges["timely_response"]
    declared = registry.thresholds_of("timely_response")
    assert spec.t("silence_s") == 9
    assert spec.t("min_customer_chars") == declared["min_customer_chars"].default
    assert set(spec.thresholds) == set(declared)
    rules = load_rules(DEFAULT)
    assert rules.threshold("escalate_supervisor", "angry_streak") == 3


def test_default_file_states_every_detector_threshold():
    """The shipped file shows the team lead every number a detector reads (no hidden default)."""
    raw = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))["nudges"]
    for nudge_type, entry in registry.REGISTRY.items():
        missing = set(entry.thresholds) - set(raw[nudge_type].get("thresholds") or {})
        assert not missing, f"{nudge_type}: rules/default.yaml does not state {sorted(missing)}"


def test_watcher_refuses_a_misspelled_threshold_and_keeps_the_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT, path)
    watcher = RulesWatcher(path)
    in_force = watcher.rules
    text = DEFAULT.read_text(encoding="utf-8").replace("      silence_s: 7 ", "      silense_s: 2 ", 1)
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert watcher.maybe_reload() is False and watcher.rules is in_force
    assert f"line {_line_of(text, 'silense_s')}" in watcher.last_error
    assert watcher.rules.nudges["timely_response"].t("silence_s") == 7
