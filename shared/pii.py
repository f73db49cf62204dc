"""PII in Heartline: redaction of text and hashing of customer ids — one module for every writer.

The analyzer redacts every utterance with ``redact``; ``shared.kafka.dead_letter``
redacts the dead-lettered records with the same function; the nudger and the
recorder hash customer ids with ``hash_customer``. No snownlp, no jieba: a
service that imports this module pays for a few compiled patterns only.

Detection runs on the *digit view* of the text (``digit_view``): full-width
characters folded to ASCII, Chinese punctuation to its ASCII cousin, the
traditional forms of the characters the patterns below use folded to
simplified, letters lower-cased (``x`` → ``X``, the ID check digit) and digits
spoken as Chinese numerals (零〇洞 一幺么 二两 … 拐 勾, 叉 = X) turned into ASCII
digits. Every mapping is one character to one character, so every span found
in the view is cut out of the original text at the same position.

A number is read in *groups*. Inside a group, up to six separators may stand
between two digits: whitespace, punctuation and symbols of any kind (， 。 — ~
/ _ 【】 …) and the commonest fillers (然后 嗯 呃 啊 额 哦 那个). Between groups,
*anything* up to eight characters (一三八，然后呢，一二三四，就是五六七八 /
138，对，1234 / 幺三八，您记一下，五六七八): groups that close are one number
being read out, whatever the words between them, unless a group counts
something (a unit or magnitude next to it: 五万 三天 两点 15号 3.5% 第三 十五;
a decimal point), ``:`` / 和 / 到 / 或 … alone stands between two (9:30到11:30,
600519和000001), or a personal key (卡号 手机 密码 …) names the next number. A
spoken numeral alone (一下, 什么) is a word and joins nothing. Such a chain is
cut where that validates the most digits (a phone and a card said in one
breath keep their names); what validates nowhere is masked as ``[号码]`` from
7 digits. What is found:

* ``pii:id_card`` — 18 characters (17 digits + digit or X) passing the
  GB 11643-1999 ISO 7064 MOD 11-2 check digit.
* ``pii:bank_card`` — 16–19 digits passing the Luhn check, or 16–19 digits
  right after 卡号/银行卡.
* ``pii:phone`` — mainland mobile: 11 digits, ``1[3-9]x``.
* ``pii:account`` — 资金账号/账号/客户号/股东代码… followed by 5+ digits.
* ``pii:password`` — 密码/口令/验证码, optionally 是/为/:/设成…, then a value:
  printable ASCII (symbols included, ``P@ssw0rd!``), digits (spoken or not,
  with separators) or counted digits (六个八 = 888888). An agent asking for
  the password (告诉我您的密码 / 密码是多少) is flagged too, nothing to mask.
* ``pii:email`` — ``name@domain.tld`` (also ＠, 艾特 for @ and 点 for the dot).
* no cue (``[号码]``) — any other run of 8+ digits, or 5+ right after a
  personal key (身份证/手机/账号/密码…): a number still being read out (a
  partial) or one the ASR got a digit wrong in.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from shared import cues as C

MASKS = {
    C.PII_ID_CARD: "[身份证号]",
    C.PII_BANK_CARD: "[银行卡号]",
    C.PII_PHONE: "[手机号]",
    C.PII_ACCOUNT: "[账号]",
    C.PII_PASSWORD: "[密码]",
    C.PII_EMAIL: "[邮箱]",
    "": "[号码]",
}

# ---------------------------------------------------------------- the digit view

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space → half-width.
_VIEW = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_VIEW[0x3000] = 0x20
# Chinese punctuation → its ASCII cousin.
_VIEW.update({ord(k): ord(v) for k, v in zip("。，、；：…～！？", ".,,;:.~!?", strict=True)})
# Traditional forms of the characters the patterns use (from snownlp's zh2hans
# table, single characters only), so 身份證 / 帳號 / 密碼 / 電話 are found too.
_VIEW.update(
    {
        ord(k): ord(v)
        for k, v in {
            "個": "个",
            "儲": "储",
            "報": "报",
            "帳": "帐",
            "後": "后",
            "戶": "户",
            "東": "东",
            "機": "机",
            "為": "为",
            "爲": "为",
            "碼": "码",
            "給": "给",
            "編": "编",
            "號": "号",
            "記": "记",
            "設": "设",
            "訴": "诉",
            "話": "话",
            "說": "说",
            "説": "说",
            "證": "证",
            "資": "资",
            "賬": "账",
            "郵": "邮",
            "銀": "银",
            "錄": "录",
            "録": "录",
            "電": "电",
            "額": "额",
            "驗": "验",
            "點": "点",
        }.items()
    }
)
_VIEW.update({code: code + 32 for code in range(ord("A"), ord("Z") + 1)})  # lower-case letters
# Spoken digits (兩/麼 are traditional forms). 叉 is how callers read the X check digit.
_VIEW.update(
    {
        ord(k): ord(v)
        for k, v in {
            "零": "0",
            "〇": "0",
            "洞": "0",
            "一": "1",
            "幺": "1",
            "么": "1",
            "麼": "1",
            "二": "2",
            "两": "2",
            "兩": "2",
            "三": "3",
            "四": "4",
            "五": "5",
            "六": "6",
            "七": "7",
            "八": "8",
            "九": "9",
            "拐": "7",
            "勾": "9",
            "叉": "X",
            "x": "X",
            "X": "X",
            "Ｘ": "X",
            "ｘ": "X",
        }.items()
    }
)
_VIEW_TABLE = str.maketrans(_VIEW)


def digit_view(text: str) -> str:
    """The text as detection reads it; same length, position for position."""
    return text.translate(_VIEW_TABLE)


# ---------------------------------------------------------------- patterns (on the digit view)

_FILLERS = "然后|嗯|呃|啊|额|哦|那个"
# What may stand between two digits of one group: whitespace, punctuation and symbols of
# any kind (— ~ / _ ( ) 【 】 …), the commonest fillers; not what marks a quantity
# or a time (9:30, 5%, ¥20, 3+4) or an e-mail (123@163).
_TIGHT = rf"(?:[^\w:%$¥￥+=*×÷<>@]|_|{_FILLERS})"
_GROUP = re.compile(rf"(?<![0-9])[0-9](?:{_TIGHT}{{0,6}}[0-9])*(?:{_TIGHT}{{0,6}}X)?(?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9X]")

# Groups of one number read out with anything between them (然后呢 / 对 / 您记一下):
# at most _GAP characters from one group to the next.
_GAP = 8
# Between groups that validate as no number together, only what a caller says while reading
# one out (punctuation, fillers, 对 / 您记一下 / 后面是 …) joins them into one masked number:
# 我转了20000，到账只有19950 is two amounts, 六二二八，然后呢，四八零零 one number read out.
_READING = (
    "然后呢|然后|那个|就是|对的|对对|没错|是的|好的|您记一下|你记一下|记一下|我再说一遍|再说一遍|"
    "我说一下|后面是|后面|接着是|接着|还有|最后是|最后|中间是|前面是|后几位是|后四位是|是|对|好|行|"
    "嗯|呃|啊|额|哦|噢|呢|吧|啦|哈|"
    # the same on the digit view, where a spoken numeral is a digit (记一下 → 记1下, 后四位 → 后4位)
    "您记1下|你记1下|记1下|我再说1遍|再说1遍|我说1下|后4位是"
)
_READING_GAP = re.compile(rf"(?:[^\w]|_|{_READING})*")
# A group right before one of these (spaces aside) counts something: 五万 三天 两点 15号 3.5% 20个.
# Units only, not the first characters of words a number is often followed by (号码 手机 多少 小姐).
_UNIT_AFTER = re.compile(
    r"\s*(?:[十百千万萬亿億兆元块塊毛角分年月日時时秒個个次天周週岁歲股倍%‰成折遍趟张張只隻笔筆"
    r"条條位份刻钟鐘米斤户款件种種辆輛轮輪句声聲半几幾wk]|号(?!码)|点(?!击)|小时)"
)
# ... and right after one of these: 第三 十五 百分之五 三点五 周六 星期三 ¥20.
_UNIT_BEFORE = re.compile(r"[第¥$￥十百千万萬亿億兆点之周週期拜]\s*$")
_DECIMAL = re.compile(r"[0-9]{1,6}\.[0-9]{1,2}")  # 12.58, 3.5 (written with a point, not 。): a price, a rate
# Two numbers, not one: 600519和000001, 9:30到11:30, 3到5.
_BETWEEN_TWO = re.compile(r"\s*(?::|和|与|跟|或|或者|还是|到|至|比|加|减|乘|除以)\s*")
# A key between two groups names the next number: 卡号…，手机… are two.
_KEY = re.compile(r"身份证|证件|卡号|银行卡|手机|电话|号码|账号|帐号|账户|客户号|股东|密码|口令|验证码|pin码|邮箱")
_ACCOUNT_KEY = re.compile(
    r"(?:资金账号|资金帐号|资金账户|证券账户|证券账号|股东账户|股东账号|股东代码|客户号|客户编号|"
    r"交易账号|账号|帐号|账户号|卡号)[是为:\s]{0,3}(?:是)?$"
)
_CARD_KEY = re.compile(r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡)[^,.;!?]{0,6}$")
_PII_KEY = re.compile(
    r"(?:身份证|证件|卡号|银行卡|手机|电话|号码|账号|帐号|账户|客户号|股东|密码|口令|验证码)"
    r"[^,.;!?]{0,8}$"
)

# A password: key, glue, then tokens — printable ASCII, or a counted digit (6个8),
# with spaces or fillers between them (八 八 七 七 / 幺二三 然后 四五六).
_PW_TOKEN = r"(?:[0-9]\s*个\s*[0-9]|[!-~])"
_PASSWORD = re.compile(
    r"(?:密码|口令|验证码|pin码)(?:是|为|:|=|就是|设的是|设成了?|改成了?|改为|[\s,])*"
    rf"({_PW_TOKEN}(?:(?:\s|{_FILLERS}){{0,2}}{_PW_TOKEN})*)"
)
_PW_WORD = re.compile(r"密码|口令|验证码|pin码")
_PW_ALNUM = re.compile(r"[0-9a-zX]")
_PW_TRAILING = set("，。、；：！？…～ \t\r\n\u3000")
_PASSWORD_ASK = re.compile(
    r"(?:告诉我|报一下|说一下|提供一下|念一下)(?:您的|你的)?(?:交易|登录|银行卡|资金)?密码|密码是多少|密码是什么|"
    r"密码(?:告诉|报给|说给|念给)我|把(?:您的|你的)?(?:交易|登录|银行卡|资金)?密码(?:告诉|报|说|念)"
)

_EMAIL = re.compile(r"[a-zX0-9._%+\-]+\s?(?:@|艾特)\s?[a-zX0-9\-]+(?:\s?(?:\.|点)\s?[a-zX0-9\-]+)+")

# Cheap pre-check on the original text: no digit, no password/e-mail word and
# no two spoken numerals within a group's reach of each other (the smallest
# group that links to another) = nothing to look for.
_NUMERAL = "零〇洞一幺么麼二两兩三四五六七八九拐勾"
_MAYBE = re.compile(
    rf"[0-9０-９@＠]|密[码碼]|口令|验证码|驗證碼|艾特|pin|PIN"
    rf"|[{_NUMERAL}](?:[^\w]|_|{_FILLERS}|然後|那個){{0,6}}[{_NUMERAL}]"
)

# ---------------------------------------------------------------- checksums

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """GB 11643: 17 digits + check character (0-9 or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ---------------------------------------------------------------- detection


def _classify(digits: str, before: str) -> str | None:
    n = len(digits)
    if n == 18 and id_checksum_ok(digits):
        return C.PII_ID_CARD
    if digits[-1] == "X":
        return C.PII_ID_CARD if n == 18 and "身份证" in before else None
    if 16 <= n <= 19 and (luhn_ok(digits) or _CARD_KEY.search(before)):
        return C.PII_BANK_CARD
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return C.PII_PHONE
    if n == 18 and "身份证" in before:
        return C.PII_ID_CARD
    if n >= 5 and _ACCOUNT_KEY.search(before):
        return C.PII_ACCOUNT
    return None


def _passwords(text: str, view: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _PASSWORD.finditer(view):
        start, end = m.span(1)
        while end > start and text[end - 1] in _PW_TRAILING:  # 密码是abc123，谢谢: not the comma
            end -= 1
        value = view[start:end]
        if _PW_ALNUM.search(value) and ("个" in value or len(value.replace(" ", "")) >= 3):
            spans.append((start, end, C.PII_PASSWORD))
    return spans


def _alone(view: str, start: int, end: int, digits: str) -> tuple[int, int, str] | None:
    """One group of digits read on its own."""
    before = view[max(0, start - 12) : start]
    cue = _classify(digits, before)
    if cue is not None:
        return start, end, cue
    if len(digits) >= 8 or (len(digits) >= 5 and _PII_KEY.search(before)):
        # Unvalidated but possibly personal: a number still being read out (a
        # partial), or one the ASR got a digit wrong in. Masked, no cue.
        return start, end, ""
    return None


def _counts_something(text: str, view: str, start: int, end: int) -> bool:
    """五万 三天 两点 第三 十五 3.5%: a quantity, a date, a time — not a piece of a number read out."""
    return bool(
        _UNIT_AFTER.match(view, end)
        or _UNIT_BEFORE.search(view, max(0, start - 4), start)
        or (_DECIMAL.fullmatch(view, start, end) and text[view.index(".", start)] in ".．")
    )


def _read_out(view: str, groups: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Groups close to each other, read as numbers: the split that validates the most digits.

    The groups of one chain are cut into consecutive parts so that as many
    digits as possible belong to a part that validates (a mobile, a Luhn card,
    an ID number, an account after its key) — a phone and a card said in one
    breath stay two numbers, each with its name. What validates nowhere is one
    number only where what stands between its groups is what a caller says
    while reading one out (``_READING_GAP``: punctuation, 然后呢, 对, 您记一下 …):
    masked when it is 7 digits or more (5 after a personal key), or 4 or more
    read out next to a number that validated. Two amounts with words between
    them (我转了20000，到账只有19950) stay as they are.
    """
    if len(groups) > 24:  # no number is read in so many groups: masked whole, the cost kept linear
        return [(groups[0][0], groups[-1][1], "")]
    # best[j]: (validated digits, -parts, i, cue) for groups[:j], its last part groups[i:j]
    best: list[tuple[int, int, int, str | None]] = [(0, 0, 0, None)]
    for j in range(1, len(groups) + 1):
        top: tuple[int, int, int, str | None] = (-1, 0, 0, None)
        digits = ""
        for i in range(j - 1, -1, -1):
            digits = groups[i][2] + digits
            if len(digits) > 19 and i < j - 1:
                break  # longer than any number that validates
            start = groups[i][0]
            cue = _classify(digits, view[max(0, start - 12) : start]) if len(digits) >= 5 else None
            here = (best[i][0] + (len(digits) if cue else 0), best[i][1] - 1, i, cue)
            if here[:2] > top[:2]:
                top = here
        best.append(top)
    split: list[tuple[int, int, str | None]] = []
    j = len(groups)
    while j:
        split.append((best[j][2], j, best[j][3]))
        j = best[j][2]
    split.reverse()
    # units in order: a validated part (its span and cue), or one group that validated nowhere (cue None)
    units: list[tuple[int, int, int, str | None]] = []
    for i, j, cue in split:
        if cue is None:
            units += [(g[0], g[1], len(g[2]), None) for g in groups[i:j]]
        else:
            units.append((groups[i][0], groups[j - 1][1], 0, cue))
    spans = [(start, end, cue) for start, end, _, cue in units if cue is not None]

    def reading(a: int, b: int) -> bool:
        return bool(_READING_GAP.fullmatch(view, a, b))

    k = 0
    while k < len(units):
        if units[k][3] is not None:
            k += 1
            continue
        first = k  # a run of groups that validated nowhere, joined only by what reading a number out says
        while k + 1 < len(units) and units[k + 1][3] is None and reading(units[k][1], units[k + 1][0]):
            k += 1
        start, end, n = units[first][0], units[k][1], sum(u[2] for u in units[first : k + 1])
        before = view[max(0, start - 12) : start]
        beside = (first > 0 and units[first - 1][3] is not None and reading(units[first - 1][1], start)) or (
            k + 1 < len(units) and units[k + 1][3] is not None and reading(end, units[k + 1][0])
        )
        if n >= 7 or (n >= 5 and _PII_KEY.search(before)) or (beside and n >= 4):
            spans.append((start, end, ""))
        k += 1
    return sorted(spans)


_ARABIC = frozenset("0123456789０１２３４５６７８９")
_OPEN, _CLOSE = "([{<", ")]}>"


def _numbers(text: str, view: str) -> list[tuple[int, int, str]]:
    """Spans of the numbers in the text: numbers read in groups first, then each group alone."""
    alone: list[tuple[int, int, str]] = []
    read: list[tuple[int, int, str]] = []
    chain: list[tuple[int, int, str]] = []
    for m in _GROUP.finditer(view):
        start, end = m.span()
        digits = _NOT_DIGIT.sub("", m.group())
        if len(digits) >= 5 and (span := _alone(view, start, end, digits)):
            alone.append(span)
        if _counts_something(text, view, start, end):
            read += _read_out(view, chain) if len(chain) > 1 else []
            chain = []
            continue
        if len(digits) == 1 and text[start] not in _ARABIC:
            continue  # one spoken numeral alone is a word more often than a digit: 一下, 什么
        if chain and (
            start - chain[-1][1] > _GAP
            or _BETWEEN_TWO.fullmatch(view, chain[-1][1], start)
            or _KEY.search(view, chain[-1][1], start)
        ):
            read += _read_out(view, chain) if len(chain) > 1 else []
            chain = []
        chain.append((start, end, digits))
    read += _read_out(view, chain) if len(chain) > 1 else []
    spans = []
    for start, end, cue in read + alone:
        # (138) 1234 5678: the brackets around a group go with it.
        if start and view[start - 1] in _OPEN and _CLOSE[_OPEN.index(view[start - 1])] in view[start:end]:
            start -= 1
        if end < len(view) and view[end] in _CLOSE and _OPEN[_CLOSE.index(view[end])] in view[start:end]:
            end += 1
        spans.append((start, end, cue))
    return spans


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, cue)`` of PII in ``text`` (positions in the original), sorted, disjoint."""
    view = digit_view(text)
    spans = _passwords(text, view) if _PW_WORD.search(view) else []
    if "@" in view or "艾特" in view:
        spans += [(m.start(), m.end(), C.PII_EMAIL) for m in _EMAIL.finditer(view)]
    return _merge(spans + _numbers(text, view))


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one; the first found (passwords, e-mails, then numbers) names it."""
    order = {id(s): i for i, s in enumerate(spans)}
    out: list[list[Any]] = []  # [start, end, cue]
    for start, end, cue in sorted(spans, key=lambda s: (s[0], order[id(s)])):
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
            out[-1][2] = out[-1][2] or cue
        else:
            out.append([start, end, cue])
    return [(s, e, c) for s, e, c in out]


def may_hold_pii(text: str) -> bool:
    """False when ``text`` certainly holds nothing ``redact`` would mask (the fast path)."""
    return _MAYBE.search(text) is not None


def redact(text: str) -> tuple[str, list[str]]:
    """Mask PII in ``text``; returns the redacted text and the ``pii:*`` cues found."""
    if not text or not may_hold_pii(text):
        return text, []
    spans = find_pii(text)
    cues: list[str] = []
    if spans:
        out, last = [], 0
        for start, end, cue in spans:
            out.append(text[last:start])
            out.append(MASKS[cue])
            last = end
            if cue and cue not in cues:
                cues.append(cue)
        out.append(text[last:])
        text = "".join(out)
    if C.PII_PASSWORD not in cues and _PASSWORD_ASK.search(text):
        cues.append(C.PII_PASSWORD)
    return text, cues


# ---------------------------------------------------------------- customer ids


def hash_customer(salt: str, customer_id: str) -> str:
    """The one form a customer id takes outside the CTI's own record: salted SHA-256 (hex)."""
    return hashlib.sha256(f"{salt}\x00{customer_id.strip()}".encode()).hexdigest()
