"""Every word the pages show goes through i18n (services/gateway/static/js/strings.js).

Static checks, no browser: both languages have the same keys (English may name a few server
words more: topics, scorecard items, principles); every key a page or module uses exists; no
Chinese text is written into a page or a module outside strings.js; every visible Chinese
text or attribute in the HTML carries its data-i18n key. The pages themselves are driven in
Chromium by tests/test_pages.py and tests/test_review_pages.py (the language switch too).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

STATIC = Path(__file__).resolve().parent.parent / "services" / "gateway" / "static"
JS = STATIC / "js"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN_ONLY = ("topic.", "principle.", "score.item.")  # Chinese pages show the server's own label
LITERAL_KEYS = [
    re.compile(r"""\bt\(\s*"([\w.]+)"\s*[,)]"""),
    re.compile(r"""\blabel\(\s*"([\w.]+)"\s*[,)]"""),
    re.compile(r""""data-i18n(?:-title|-placeholder|-aria)?":\s*"([\w.]+)\""""),
    re.compile(r"""\bdata-i18n(?:-title|-placeholder|-aria)?="([\w.]+)\""""),
]
DYNAMIC = ("emotion.", "outcome.", "speaker.", "signin.title.", "signin.pick.", "status.", "action.", "segment.")


def tables() -> dict[str, dict[str, str]]:
    text = (JS / "strings.js").read_text(encoding="utf-8")
    zh, en = text.split("\n  en: {", 1)
    pair = re.compile(r'^\s+"([^"]+)":\s*"((?:[^"\\]|\\.)*)",$', re.M)
    return {"zh": dict(pair.findall(zh)), "en": dict(pair.findall(en))}


def test_both_languages_have_the_same_words():
    t = tables()
    assert len(t["zh"]) > 150 and len(t["en"]) > 150
    assert not set(t["zh"]) - set(t["en"]), "missing in English"
    extra = set(t["en"]) - set(t["zh"])
    assert all(k.startswith(EN_ONLY) for k in extra), sorted(k for k in extra if not k.startswith(EN_ONLY))
    for key, text in t["en"].items():
        assert not CJK.search(text) or key.startswith(("principle.", "lang.toggle")), (key, text)
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", t["zh"].get(key, text))), key
    for prefix in DYNAMIC:  # keys built at run time ("emotion." + name): a family complete in both
        assert {k for k in t["zh"] if k.startswith(prefix)} == {k for k in t["en"] if k.startswith(prefix)}, prefix


def test_every_key_a_page_uses_exists():
    t = tables()
    known = set(t["zh"]) | set(t["en"])
    used: dict[str, str] = {}
    for path in [*JS.glob("*.js"), *STATIC.glob("*.html")]:
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)  # not the comments
        for pattern in LITERAL_KEYS:
            for key in pattern.findall(text):
                if not key.endswith("."):  # a prefix completed at run time: DYNAMIC above
                    used[key] = path.name
    assert len(used) > 100
    missing = {k: f for k, f in used.items() if k not in known}
    assert not missing, missing


def test_no_chinese_outside_the_string_tables():
    """Chinese in a module is a word that cannot switch language. Allowed: comments, and a
    recap field's id (the Chinese field name pages and tests address, paired with its key)."""
    field_id = re.compile(r'\["[\u4e00-\u9fff]+", "[\w.]+"')
    for path in JS.glob("*.js"):
        if path.name == "strings.js":
            continue
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        for line in code.splitlines():
            line = field_id.sub("", line.split(" // ")[0])
            assert not CJK.search(line), f"{path.name}: {line.strip()}"


class _Visible(HTMLParser):
    """Chinese text or attributes in the HTML whose element has no data-i18n key for it."""

    ATTRS: ClassVar[dict[str, str]] = {
        "placeholder": "data-i18n-placeholder",
        "title": "data-i18n-title",
        "aria-label": "data-i18n-aria",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict] = []
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr, key in self.ATTRS.items():
            if a.get(attr) and CJK.search(a[attr]) and key not in a:
                self.bad.append(f"<{tag} {attr}={a[attr]!r}>")
        if tag not in ("meta", "link", "input", "br"):
            self.stack.append(a)

    def handle_endtag(self, tag):
        if self.stack and tag not in ("meta", "link", "input", "br"):
            self.stack.pop()

    def handle_data(self, data):
        if CJK.search(data) and not (self.stack and "data-i18n" in self.stack[-1]):
            self.bad.append(data.strip())


def test_every_chinese_text_in_the_html_has_its_key():
    for path in STATIC.glob("*.html"):
        parser = _Visible()
        parser.feed(path.read_text(encoding="utf-8"))
        assert not parser.bad, (path.name, parser.bad)
