"""PII detection and redaction: ID numbers, bank cards, phones, accounts, passwords.

Detection runs on the digit view of the text (``normalize.digit_view``: digits
spoken as 一二三/幺/两/洞 and full-width digits are ASCII digits there), and
because that view maps one character to one character, every span found is
cut out of the original text and replaced by a mask.

* ``pii:id_card`` — 18 characters (17 digits + digit or X) passing the
  GB 11643-1999 ISO 7064 MOD 11-2 check digit.
* ``pii:bank_card`` — 16–19 digits passing the Luhn check (spaces or dashes
  between groups allowed), or 16–19 digits right after 卡号/银行卡.
* ``pii:phone`` — mainland mobile: 11 digits, ``1[3-9]x``.
* ``pii:account`` — 资金账号/账号/客户号/股东代码… followed by 5+ digits.
* ``pii:password`` — 密码是/为/: followed by a value; an agent asking for the
  password (告诉我您的密码 / 密码是多少) is flagged too, nothing to redact.
"""

from __future__ import annotations

import re

from shared import cues as C

from .normalize import digit_view

MASKS = {C.PII_ID_CARD: "[身份证号]", C.PII_BANK_CARD: "[银行卡号]", C.PII_PHONE: "[手机号]",
         C.PII_ACCOUNT: "[账号]", C.PII_PASSWORD: "[密码]", "": "[号码]"}

# A run of digits, optionally grouped by single spaces, dashes or commas (138 1234 5678,
# 6222-0212-…); an X may close an ID number. Not preceded/followed by a digit.
_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-,]?[0-9]){4,22}(?:[ \-]?X)?(?![0-9])")
_ACCOUNT_KEY = re.compile(
    r"(?:资金账号|资金帐号|资金账户|证券账户|证券账号|股东账户|股东账号|股东代码|客户号|客户编号|"
    r"交易账号|账号|帐号|账户号|卡号)[是为:\s]{0,3}(?:是)?$")
_CARD_KEY = re.compile(r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡)[^,.;!?]{0,6}$")
_PASSWORD = re.compile(r"(?:密码|口令|验证码)(?:是|为|:|设的是|设成了?|改成了?|就是)\s*([0-9A-Za-z]{3,32})")
_PASSWORD_ASK = re.compile(r"(?:告诉我|报一下|说一下|提供一下|念一下)(?:您的|你的)?(?:交易|登录|银行卡|资金)?密码|密码是多少|密码是什么|"
                           r"密码(?:告诉|报给|说给|念给)我|把(?:您的|你的)?(?:交易|登录|银行卡|资金)?密码(?:告诉|报|说|念)")

_UNSURE = ""
_PII_KEY = re.compile(r"(?:身份证|证件|卡号|银行卡|手机|电话|账号|帐号|账户|客户号|股东|密码)[^,.;!?，。；！？]{0,8}$")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """GB 11643: 17 digits + check character (0-9 or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
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


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, cue)`` of PII in ``text`` (positions in the original)."""
    view = digit_view(text)
    spans: list[tuple[int, int, str]] = []
    for m in _PASSWORD.finditer(view):
        spans.append((m.start(1), m.end(1), C.PII_PASSWORD))
    for m in _RUN.finditer(view):
        start, end = m.span()
        if any(s <= start < e for s, e, _ in spans):
            continue
        digits = m.group().replace(" ", "").replace("-", "").replace(",", "")
        before = view[max(0, start - 12):start]
        cue = _classify(digits, before)
        if cue is not None:
            spans.append((start, end, cue))
        elif len(digits) >= 8 or (len(digits) >= 5 and _PII_KEY.search(before)):
            # Unvalidated but possibly personal: a number still being read out (a
            # partial), or one the ASR got a digit wrong in. Masked, no cue.
            spans.append((start, end, _UNSURE))
    return sorted(spans)


def redact(text: str) -> tuple[str, list[str]]:
    """Mask PII in ``text``; returns the redacted text and the ``pii:*`` cues found."""
    if not text:
        return text, []
    if not _ASCII_DIGIT.search(text) and "密码" not in text and not _may_have_spoken_digits(text):
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


_ASCII_DIGIT = re.compile(r"[0-9０-９]")
_SPOKEN_RUN = re.compile(r"[零〇洞一幺么二两三四五六七八九拐勾]{3}")


def _may_have_spoken_digits(text: str) -> bool:
    # Cheap pre-check: a number read out digit by digit has groups of 3+.
    return _SPOKEN_RUN.search(text) is not None
