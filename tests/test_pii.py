"""PII detection and redaction (pure, no broker)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.analysis import analyze_text, redact
from services.analyzer.pii import id_checksum_ok, luhn_ok

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body17: str) -> str:
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, _W)) % 11]


def make_card(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


VALID_ID = make_id("11010519491231002")  # ends in X
CARD = make_card("622202100201234567")
SPOKEN = dict(zip("0123456789X", "洞幺两三四五六拐八九叉"))


def test_checksums():
    assert VALID_ID.endswith("X") and id_checksum_ok(VALID_ID)
    assert not id_checksum_ok(VALID_ID[:-1] + "1")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_id_card_redacted_and_bad_checksum_kept():
    text, cues = redact(f"我的身份证号是{VALID_ID}，麻烦查一下")
    assert text == "我的身份证号是[身份证号]，麻烦查一下" and cues == ["pii:id_card"]
    bad = VALID_ID[:-1] + "1"
    assert redact(f"编号{bad}")[1] == []


def test_id_card_spoken_digits():
    spoken = "".join(SPOKEN[c] for c in VALID_ID)
    text, cues = redact(f"身份证{spoken}")
    assert cues == ["pii:id_card"] and text == "身份证[身份证号]"


def test_bank_card_with_spaces_and_dashes():
    grouped = " ".join(CARD[i:i + 4] for i in range(0, len(CARD), 4))
    assert redact(f"卡号 {grouped} 没错")[0] == "卡号 [银行卡号] 没错"
    dashed = "-".join(CARD[i:i + 4] for i in range(0, len(CARD), 4))
    assert redact(dashed) == ("[银行卡号]", ["pii:bank_card"])


def test_luhn_failure_without_context_is_not_a_card():
    assert redact("订单号4111111111111112")[1] == []


def test_phone_forms():
    assert redact("手机13812345678")[0] == "手机[手机号]"
    assert redact("电话１３８１２３４５６７８")[1] == ["pii:phone"]  # full-width digits
    assert redact("手机号是幺三八 幺二三四 五六七八") == ("手机号是[手机号]", ["pii:phone"])
    assert redact("号码一三九，一二三四，五六七八")[1] == ["pii:phone"]
    assert redact("12812345678")[1] == []  # 12x is not a mobile prefix


def test_account_and_password():
    text, cues = redact("资金账号是310088273641，密码是887766")
    assert text == "资金账号是[账号]，密码是[密码]"
    assert cues == ["pii:account", "pii:password"] or sorted(cues) == ["pii:account", "pii:password"]
    assert redact("密码是幺二三四五六") == ("密码是[密码]", ["pii:password"])
    assert redact("请告诉我您的交易密码")[1] == ["pii:password"]
    assert redact("我忘记密码了")[1] == []


def test_amounts_and_dates_are_not_pii():
    for text in ("今天转了100000元", "2024年3月15日", "代码600519", "工号三一七"):
        assert redact(text)[1] == [], text


def test_analysis_redacts_text_and_reports_cues():
    result = analyze_text(f"卡号{CARD}，手机13912345678", "customer")
    assert CARD not in result.text and "13912345678" not in result.text
    assert "pii:bank_card" in result.cues and "pii:phone" in result.cues
    partial = analyze_text(f"我的身份证是{VALID_ID}", "customer", partial=True)
    assert partial.text == "我的身份证是[身份证号]" and "pii:id_card" in partial.cues


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17),
       st.text(alphabet="，。 的我是号abc", max_size=6), st.text(alphabet="，。 的我是号abc", max_size=6))
def test_property_valid_ids_never_leak(body, prefix, suffix):
    number = make_id(body)
    text, cues = redact(prefix + "身份证" + number + suffix)
    assert number not in text
    assert cues and cues[0] in ("pii:id_card", "pii:bank_card", "pii:account")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9),
       st.booleans())
def test_property_phones_never_leak(second, rest, spoken):
    number = "1" + second + rest
    said = "".join(SPOKEN[c] for c in number) if spoken else number
    text, cues = redact(f"我的手机是{said}谢谢")
    assert "pii:phone" in cues and said not in text


def test_numbers_still_being_read_out_are_masked_in_partials():
    """A partial carries a half-read ID or phone number; nothing of it may leave."""
    from services.analyzer.pii import redact

    for text in ("我的身份证号是11010119900307", "手机号是1381234", "我的卡号是6222 0212 3456"):
        masked, _ = redact(text)
        assert not any(ch.isdigit() for ch in masked), masked
    assert redact("订单123456")[0] == "订单123456"  # short numbers without a personal key stay
