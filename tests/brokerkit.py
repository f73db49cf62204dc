"""Marks for a test that starts a broker of its own (a ``heartline run``, a Stack of its own).

``tests/conftest.py`` marks the ``[kafka]`` and ``[embedded]`` runs of a test that takes its
broker from the ``broker`` fixture, and ``pytest --broker`` keeps only the runs it names. A
test that starts its own broker says which one with ``@on_broker("kafka")`` (or
``pytest.param(..., marks=broker_marks("kafka"))``): it carries that broker's marker, so
``-m kafka`` and the per-broker counts include it, and ``pytest --broker`` skips it when it
leaves that broker out, like the fixture-driven runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., object])


def broker_marks(kind: str) -> tuple[pytest.MarkDecorator, pytest.MarkDecorator]:
    """The broker's marker and a skip when ``--broker`` is given without ``kind``."""
    left_out = f"bool(config.getoption('--broker')) and {kind!r} not in config.getoption('--broker')"
    return getattr(pytest.mark, kind), pytest.mark.skipif(left_out, reason=f"--broker leaves out {kind}")


def on_broker(kind: str) -> Callable[[F], F]:
    """Decorator form of ``broker_marks``."""

    def mark(test: F) -> F:
        for m in broker_marks(kind):
            test = m(test)
        return test

    return mark
