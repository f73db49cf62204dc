"""The knowledge base as data: load, validate and hot-reload ``knowledge/*.yaml``.

Ops maintain the answers the agent desktop offers (docs/knowledge.md): every
file holds ``entries``, each with an ``id``, several ``questions`` (wordings a
customer might use, the card's title), what customers have ``asked`` that
this entry answered (their redacted words, matched but never shown), the
``answer`` to say, ``keywords`` (the domain terms and
synonyms that point to it), an ``owner`` and the date it was last
``reviewed``. The analyzer holds a ``KnowledgeWatcher``: a changed directory
is loaded again; a file that fails to parse or validate is refused with file,
line and field, logged and kept in ``last_error``, and the base already in
force keeps answering until a good set of files lands. Invalid files at start
refuse to start (like the rules).

Answers are said to customers as written, so validation also refuses what an
answer must never contain: a web address, a phone-number-like digit run (made
up numbers are worse than none), or a promise of returns.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.analyzer.knowledge import Entry, Retriever, fold
from shared.yaml_lines import YamlError, load, node_line

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"
STALE_AFTER = timedelta(days=365)  # an entry not reviewed for a year is reported (not refused)
_URL = re.compile(r"https?://|www\.|\.(?:com|cn|net|org)\b", re.I)
_DIGIT_RUN = re.compile(r"\d[\d\- ]{3,}\d")  # 5+ digits: a phone or account number
_PROMISES = ("保本", "稳赚", "包赚", "保证收益", "保证盈利", "肯定涨", "一定涨", "稳涨", "不会亏", "零风险", "无风险")


def _distinct_texts(value: list[str], longest: int, what: str) -> list[str]:
    """Stripped texts of 1 to ``longest`` characters, none listed twice."""
    value = [q.strip() for q in value]
    if any(not q or len(q) > longest for q in value):
        raise ValueError(f"every {what} must have 1 to {longest} characters")
    if len(set(value)) != len(value):
        raise ValueError(f"{'an' if what[0] in 'aeiou' else 'a'} {what} is listed twice")
    return value


class EntrySpec(BaseModel):
    """One entry as written in a knowledge file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    questions: list[str] = Field(min_length=2, max_length=20)
    asked: list[str] = Field(default_factory=list, max_length=60)
    answer: str = Field(min_length=8, max_length=240)
    keywords: list[str] = Field(min_length=1, max_length=30)
    owner: str = Field(min_length=1, max_length=64)
    reviewed: date

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        return _distinct_texts(value, 80, "question")

    @field_validator("asked")
    @classmethod
    def _asked(cls, value: list[str]) -> list[str]:
        value = _distinct_texts(value, 120, "asked question")
        if any(_DIGIT_RUN.search(q) for q in value):
            raise ValueError("an asked question is kept as redacted text: no number of 5 or more digits")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        value = [k.strip() for k in value]
        if any(not k or len(k) > 16 for k in value):
            raise ValueError("every keyword must have 1 to 16 characters")
        return value

    @field_validator("answer")
    @classmethod
    def _safe_answer(cls, value: str) -> str:
        value = value.strip()
        if _URL.search(value):
            raise ValueError("an answer may not contain a web address (say where in the App instead)")
        if _DIGIT_RUN.search(value):
            raise ValueError("an answer may not contain a phone or account number (5 or more digits)")
        promise = next((p for p in _PROMISES if p in value), None)
        if promise:
            raise ValueError(f"an answer may not promise returns ({promise})")
        return value

    @field_validator("reviewed")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today() + timedelta(days=1):
            raise ValueError("the review date is in the future")
        return value


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    entries: list[EntrySpec] = Field(default_factory=list)


class KnowledgeError(ValueError):
    """The knowledge files are not valid; the message names file, line and field."""


def parse_file(text: str, source: str) -> list[Entry]:
    """The entries of one knowledge file; ``KnowledgeError`` with line numbers if invalid."""
    try:
        doc, tree = load(text, KnowledgeFile, source)
    except YamlError as exc:
        raise KnowledgeError(str(exc)) from exc
    return [
        Entry(
            id=e.id,
            questions=tuple(e.questions),
            asked=tuple(e.asked),
            answer=e.answer,
            keywords=tuple(e.keywords),
            owner=e.owner,
            reviewed=e.reviewed,
            source=f"{source}:{node_line(tree, ('entries', i))}",
        )
        for i, e in enumerate(doc.entries)
    ]


def load_entries(directory: str | Path) -> list[Entry]:
    """Every entry of ``directory/*.yaml`` (sorted by file name); ids are unique across files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError(f"{directory}: no such directory")
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    owner_of: dict[str, Entry] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            found = parse_file(path.read_text(encoding="utf-8"), str(path))
        except KnowledgeError as exc:
            problems.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        for entry in found:
            if entry.id in seen:
                problems.append(f"{entry.source}: id {entry.id!r} is already used at {seen[entry.id]}")
                continue
            seen[entry.id] = entry.source
            for text in entry.questions + entry.asked:
                other = owner_of.setdefault(fold(text), entry)
                if other.id != entry.id:  # one wording cannot point to two answers
                    problems.append(
                        f"{entry.source}: {entry.id!r} lists a question {other.id!r} ({other.source}) lists too"
                    )
            entries.append(entry)
    if problems:
        raise KnowledgeError("invalid knowledge base:\n" + "\n".join(problems))
    return entries


def load_base(directory: str | Path) -> Retriever:
    return Retriever(load_entries(directory))


def stale(entries: list[Entry], today: date | None = None) -> list[str]:
    """Ids of entries not reviewed within ``STALE_AFTER`` (logged at load, for their owners)."""
    today = today or date.today()
    return [e.id for e in entries if today - e.reviewed > STALE_AFTER]


class KnowledgeWatcher:
    """Holds the current knowledge base and reloads it when a file in the directory changes.

    ``maybe_reload()`` costs one ``stat`` per file: call it from the worker's
    timer. A set of files that fails to load is logged and kept in
    ``last_error``; the previous base keeps answering.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._stamp = self._stat()
        self.base: Retriever = self._load()  # no previous base: an invalid one refuses to start
        self.last_error: str | None = None

    def _stat(self) -> tuple:
        try:
            paths = sorted(self.directory.glob("*.yaml"))
            return tuple((p.name, st.st_mtime_ns, st.st_size) for p in paths for st in [os.stat(p)])
        except OSError:
            return ()

    def _load(self) -> Retriever:
        base = load_base(self.directory)
        old = stale(list(base.entries.values()))
        if old:
            log.warning("knowledge entries not reviewed for a year: %s", ", ".join(old))
        log.info("knowledge base loaded", extra={"entries": len(base.entries), "directory": str(self.directory)})
        return base

    def maybe_reload(self) -> bool:
        """Reload if a file changed, appeared or went; True when a new base is in force."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            base = self._load()
        except KnowledgeError as exc:
            self.last_error = str(exc)
            log.error("knowledge reload refused, the previous base stays in force: %s", exc)
            return False
        self.base, self.last_error = base, None
        return True
