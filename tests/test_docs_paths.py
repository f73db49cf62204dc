"""Docs name only files that exist: every repository path in README.md and docs/*.md.

A path is a backticked name under one of the repository's top folders (``services/…``,
``shared/…``, ``deploy/…``) or a relative Markdown link; a test id (``tests/x.py::test_y``,
``[kafka]``), a line (``:12``) or an anchor is cut off first, and names with placeholders
(``<date>``, ``*``) are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPS = ("services", "shared", "tests", "deploy", "docs", "rules", "knowledge", "heartline", "bench", "tools")
BACKTICKED = re.compile(r"`((?:" + "|".join(TOPS) + r")/[^`\s]*)`")
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#[^)]*)?\)")


def _clean(name: str) -> str:
    name = re.split(r"::|\[|#", name)[0]
    return re.sub(r":\d+(-\d+)?$", "", name).rstrip(".,;:")


def mentioned() -> list[tuple[str, int, Path]]:
    out = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for raw in BACKTICKED.findall(line):
                name = _clean(raw)
                if not re.search(r"[<>*{}…]", name):
                    out.append((doc.name, n, ROOT / name))
            for raw in LINK.findall(line):
                out.append((doc.name, n, (doc.parent / _clean(raw)).resolve()))
    return out


def test_every_path_the_docs_name_exists():
    found = mentioned()
    assert len(found) > 100
    missing = [
        f"{doc}:{n}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
        for doc, n, path in found
        if not path.exists()
    ]
    assert not missing, "\n".join(missing)


DOTTED = re.compile(r"\b(?:services|shared)(?:\.[A-Za-z_]\w*)+")


def test_every_module_and_name_the_docs_name_exists():
    """A dotted name (``services.nudger.tracking.risk_score``) imports, and its attribute exists."""
    import importlib

    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for name in DOTTED.findall(line):
                parts = name.split(".")
                for cut in range(len(parts), 0, -1):
                    try:
                        obj = importlib.import_module(".".join(parts[:cut]))
                    except ImportError:
                        continue
                    try:
                        for attr in parts[cut:]:
                            obj = getattr(obj, attr)
                    except AttributeError:
                        missing.append(f"{doc.name}:{n}: {name}")
                    break
                else:
                    missing.append(f"{doc.name}:{n}: {name}")
    assert not missing, "\n".join(missing)
