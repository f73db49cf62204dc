"""Rules as data: the shipped file, validation errors with line numbers, hot reload."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from services.nudger.rules import CATALOG, OTHER_SERVICES, Rules, RulesError, RulesWatcher, load_rules, parse_rules

DEFAULT = Path(__file__).resolve().parent.parent / "rules" / "default.yaml"


def test_default_rules_cover_the_catalog():
    rules = load_rules(DEFAULT)
    assert isinstance(rules, Rules)
    assert set(rules.nudges) == set(CATALOG) | set(OTHER_SERVICES)
    for name, spec in rules.nudges.items():
        assert spec.enabled and spec.title
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
    with pytest.raises(RulesError, match=r"line 3: nudges: .*unknown nudge type"):
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
