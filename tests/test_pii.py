"""PII detection and redaction (pure, no broker)."""

from __future__ import annotations

import asyncio
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.analysis import analyze_text, redact
from shared import pii
from shared.pii import id_checksum_ok, luhn_ok

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body17: str) -> str:
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, _W, strict=True)) % 11]


def make_card(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


VALID_ID = make_id("11010519491231002")  # ends in X
CARD = make_card("622202100201234567")
SPOKEN = dict(zip("0123456789X", "洞幺两三四五六拐八九叉", strict=True))


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
    grouped = " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))
    assert redact(f"卡号 {grouped} 没错")[0] == "卡号 [银行卡号] 没错"
    dashed = "-".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))
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
@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.text(alphabet="，。 的我是号abc", max_size=6),
    st.text(alphabet="，。 的我是号abc", max_size=6),
)
def test_property_valid_ids_never_leak(body, prefix, suffix):
    number = make_id(body)
    text, cues = redact(prefix + "身份证" + number + suffix)
    assert number not in text
    assert cues and cues[0] in ("pii:id_card", "pii:bank_card", "pii:account")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9), st.booleans())
def test_property_phones_never_leak(second, rest, spoken):
    number = "1" + second + rest
    said = "".join(SPOKEN[c] for c in number) if spoken else number
    text, cues = redact(f"我的手机是{said}谢谢")
    assert "pii:phone" in cues and said not in text


def test_numbers_still_being_read_out_are_masked_in_partials():
    """A partial carries a half-read ID or phone number; nothing of it may leave."""
    for text in ("我的身份证号是11010119900307", "手机号是1381234", "我的卡号是6222 0212 3456"):
        masked, _ = redact(text)
        assert not any(ch.isdigit() for ch in masked), masked
    assert redact("订单123456")[0] == "订单123456"  # short numbers without a personal key stay


# ---------------------------------------------------------------- numbers as they are said


def test_spoken_digits_with_single_separators():
    """Digit by digit with a space between: the pre-check once wanted three numerals in a row."""
    assert redact("我的手机 幺 三 八 一 二 三 四 五 六 七 八") == ("我的手机 [手机号]", ["pii:phone"])
    spoken = " ".join(dict(zip("0123456789", "零一二三四五六七八九", strict=True))[c] for c in CARD)
    assert redact(f"卡号是 {spoken}") == ("卡号是 [银行卡号]", ["pii:bank_card"])


def test_numbers_split_by_punctuation_fillers_and_double_spaces():
    for said in (
        "138，1234，5678",
        "138。1234。5678",
        "138然后1234然后5678",
        "138  1234  5678",
        "一三八、一二三四、五六七八",
        "幺三八，嗯，幺二三四。然后 五六七八",
        "１３８　１２３４　５６７８",
    ):
        text, cues = redact(f"我手机{said}，记一下")
        assert cues == ["pii:phone"] and text == "我手机[手机号]，记一下", (said, text)


def test_passwords_with_symbols_or_spoken_as_words():
    assert redact("密码是P@ssw0rd!") == ("密码是[密码]", ["pii:password"])
    assert redact("我的密码是 Abc#2024$，你帮我看看") == ("我的密码是 [密码]，你帮我看看", ["pii:password"])
    assert redact("密码 六个八") == ("密码 [密码]", ["pii:password"])
    assert redact("密码是三个六三个八吧") == ("密码是[密码]吧", ["pii:password"])
    assert redact("交易密码 八 八 七 七 六 六") == ("交易密码 [密码]", ["pii:password"])
    assert redact("验证码是 4 8 2 9 1 7") == ("验证码是 [密码]", ["pii:password"])
    assert redact("密碼：ｈｅｌｌｏ１２３") == ("密碼：[密码]", ["pii:password"])  # traditional, full-width
    for text in ("我忘记密码了", "密码错误三次", "密码是多少来着", "密码是三个月前改的", "您的密码是8到16位"):
        assert "[密码]" not in redact(text)[0], text


def test_email_addresses():
    assert redact("我的邮箱是zhang.san88@qq.com，发这里") == ("我的邮箱是[邮箱]，发这里", ["pii:email"])
    assert redact("邮箱 Li_Wei@Example.COM.cn 谢谢") == ("邮箱 [邮箱] 谢谢", ["pii:email"])
    assert redact("wangfang艾特163点com")[1] == ["pii:email"]
    assert redact("ｔｏｍ＠ｍａｉｌ．ｃｏｍ") == ("[邮箱]", ["pii:email"])
    assert redact("有事@我一下")[1] == []


NUMERALS = "0123456789"
FORMS = {
    "arabic": NUMERALS,
    "full_width": "０１２３４５６７８９",
    "chinese": "零一二三四五六七八九",
    "spoken": "洞幺两三四五六拐八勾",  # 0 洞, 1 幺, 2 两, 7 拐, 9 勾: how digits are read on the phone
    "variant": "〇么二三四五六七八九",
}
X_FORMS = ("X", "x", "Ｘ", "叉")
SEPARATORS = ("", "", "", " ", "  ", "，", "。", "、", "-", "然后", "嗯", "，然后", "。嗯，", " 呃 ", "那个")
# Context words hold no numeral (一 二 两 …), so any digit left after redaction is the number's.
SUFFIXES = ("", "，谢谢", "，麻烦您查查", "对吧", "。", " 好的")


@st.composite
def said(draw, number: str) -> str:
    """``number`` as a caller says it or an ASR writes it: one form or mixed, any separators."""
    style = draw(st.sampled_from(sorted(FORMS) + ["mixed"]))
    out = []
    for i, ch in enumerate(number):
        if i:
            out.append(draw(st.sampled_from(SEPARATORS)))
        if ch == "X":
            out.append(draw(st.sampled_from(X_FORMS)))
        else:
            form = draw(st.sampled_from(sorted(FORMS))) if style == "mixed" else style
            out.append(FORMS[form][int(ch)])
    return "".join(out)


def digits_left(text: str) -> str:
    from shared.pii import digit_view

    return "".join(re.findall(r"[0-9X]", digit_view(text)))


mobiles = st.builds(
    lambda p, rest: "1" + p + rest, st.sampled_from("3456789"), st.text(alphabet=NUMERALS, min_size=9, max_size=9)
)
ids = st.text(alphabet=NUMERALS, min_size=17, max_size=17).map(make_id)
cards = st.text(alphabet=NUMERALS, min_size=15, max_size=18).map(make_card)
accounts = st.text(alphabet=NUMERALS, min_size=6, max_size=12)


def _never_leaks(number: str, text: str, prefix: str, suffix: str, allowed: set[str]) -> None:
    said_text = prefix + text + suffix
    masked, cues = redact(said_text)
    assert not digits_left(masked), (said_text, masked)
    assert set(cues) & allowed, (said_text, masked, cues)
    assert number not in masked


@settings(max_examples=150, deadline=None)
@given(st.data(), mobiles, st.sampled_from(("我的手机号是", "手机", "电话是", "您记下", "")), st.sampled_from(SUFFIXES))
def test_property_mobiles_never_survive_in_any_form(data, number, prefix, suffix):
    _never_leaks(number, data.draw(said(number)), prefix, suffix, {"pii:phone"})


@settings(max_examples=150, deadline=None)
@given(
    st.data(), ids, st.sampled_from(("身份证号是", "我的身份证", "证件号码", "号码是", "")), st.sampled_from(SUFFIXES)
)
def test_property_id_numbers_never_survive_in_any_form(data, number, prefix, suffix):
    _never_leaks(number, data.draw(said(number)), prefix, suffix, {"pii:id_card"})


@settings(max_examples=150, deadline=None)
@given(st.data(), cards, st.sampled_from(("卡号是", "银行卡", "我的储蓄卡号", "您看下", "")), st.sampled_from(SUFFIXES))
def test_property_bank_cards_never_survive_in_any_form(data, number, prefix, suffix):
    _never_leaks(number, data.draw(said(number)), prefix, suffix, {"pii:bank_card", "pii:id_card"})


@settings(max_examples=150, deadline=None)
@given(
    st.data(),
    accounts,
    st.sampled_from(("资金账号是", "我的资金账号", "客户号", "股东代码是 ", "账号：")),
    st.sampled_from(SUFFIXES),
)
def test_property_account_numbers_never_survive_in_any_form(data, number, prefix, suffix):
    _never_leaks(number, data.draw(said(number)), prefix, suffix, {"pii:account", "pii:phone"})  # 11 digits 1[3-9]…


@settings(max_examples=100, deadline=None)
@given(st.data(), mobiles, st.integers(min_value=5, max_value=11))
def test_property_partials_mask_a_number_still_being_read(data, number, read):
    """A partial holds the first digits only: once five are out after a key, none may show."""
    head = data.draw(said(number[:read]))
    result = analyze_text(f"我的手机号是{head}", "customer", partial=True)
    assert not digits_left(result.text), (head, result.text)


# ---------------------------------------------------------------- dead letters


def digit_view(text: str) -> str:
    from shared.pii import digit_view

    return digit_view(text)


def _dead_letter(raw: bytes) -> dict:
    from shared.kafka import dead_letter

    sent = []

    async def send(topic, key, value):
        sent.append((topic, value))

    asyncio.run(dead_letter(send, "tests", "stt-events", b"k", raw, "invalid CallEvent: seq", "invalid"))
    assert sent and sent[0][0] == "stt-events.dlq"
    return json.loads(sent[0][1])


def test_dead_letter_redacts_unicode_escaped_json():
    """json.dumps escapes non-ASCII by default: the Chinese key words and the digits arrive as \\uXXXX."""
    card = json.dumps({"type": "utterance", "seq": "bad", "text": f"我的卡号是{CARD}"})
    assert "\\u5361\\u53f7" in card
    spoken = json.dumps({"text": "手机 " + " ".join(SPOKEN[c] for c in "13912345678")})
    digits = "".join(f"\\u{ord(c):04x}" for c in "13912345678")  # even the ASCII digits escaped
    escaped_digits = '{"text": "\\u624b\\u673a' + digits + '"}'
    split = json.dumps({"text": "身份证\n" + VALID_ID[:9] + "\t" + VALID_ID[9:]})
    for raw, secret in ((card, CARD), (spoken, "13912345678"), (escaped_digits, "13912345678"), (split, VALID_ID[:9])):
        record = _dead_letter(raw.encode())
        assert not re.search(r"[0-9]", digit_view(record["raw"])), (raw, record["raw"])
        assert secret not in json.dumps(record, ensure_ascii=False)
    assert "[银行卡号]" in _dead_letter(card.encode())["raw"]


def test_dead_letter_cut_never_leaves_half_a_number():
    """A long record is cut to DLQ_RAW_LIMIT: the digits of a number that straddles the cut go with it."""
    from shared.kafka import DLQ_RAW_LIMIT

    for pad in range(DLQ_RAW_LIMIT - 8, DLQ_RAW_LIMIT + 2):
        raw = ("好" * pad + "13912345678" + "好" * 3000).encode()
        text = _dead_letter(raw)["raw"]
        assert len(text) <= DLQ_RAW_LIMIT and not re.search(r"[0-9]", text), (pad, text[-20:])


def test_a_supervisor_whisper_is_redacted_too():
    """Every writer of text uses the same redaction: a number typed into a whisper is masked."""
    from services.gateway.whisper import clean_text

    assert clean_text(f"请跟客户核对卡号 {CARD}") == "请跟客户核对卡号 [银行卡号]"
    assert clean_text("先安抚客户，再确认诉求") == "先安抚客户，再确认诉求"


# ---------------------------------------------------------------- numbers read out with anything between groups


def test_groups_split_by_words_and_punctuation_outside_any_list():
    """The groups of one number, with a word, a pause or any punctuation between them, are one number."""
    for said_text in (
        "一三八，然后呢，一二三四，就是五六七八",
        "138，对，1234，对，5678",
        "幺三八，一二三四，您记一下，五六七八",
        "手机：138—1234—5678",
        "138~1234~5678",
        "138/1234/5678",
        "138_1234_5678",
        "138–1234―5678",
        "【138】【1234】【5678】",
    ):
        masked, cues = redact(said_text)
        assert cues == ["pii:phone"] and not digits_left(masked), (said_text, masked)
    assert redact("(138) 1234 5678") == ("[手机号]", ["pii:phone"])
    assert redact("我的电话是（138）1234-5678，打这个") == ("我的电话是[手机号]，打这个", ["pii:phone"])


def test_counted_password_digits_with_spaces():
    assert redact("密码是 六 个 八") == ("密码是 [密码]", ["pii:password"])
    assert redact("密码 六 个八") == ("密码 [密码]", ["pii:password"])


def test_a_phone_and_a_card_in_one_breath_keep_their_names():
    masked, cues = redact(f"手机13912345678，然后卡号 {CARD}")
    assert masked == "手机[手机号]，然后卡号 [银行卡号]" and cues == ["pii:phone", "pii:bank_card"]
    masked, cues = redact(f"13912345678，对，{CARD}")
    assert not digits_left(masked) and set(cues) == {"pii:phone", "pii:bank_card"}, masked


EVERYDAY = (
    "我转了五万然后等了三天",
    "三月十五号下午两点",
    "二零二六年十二月一号",
    "买了一百股两千块",
    "第三次打电话了",
    "等了二十分钟",
    "我2024年3月15日转的50000元，等了3天，打了10次电话",
    "下午3点到5点之间，大概两三个小时",
    "涨了3.5%，跌了2.1%，一共亏了12.58万",
    "股价从12.58跌到9.37，又涨到10.21",
    "代码600519和000001哪个好",
    "我买了600519，两千股，然后又买了000001，五百股",
    "今天上午10:30到11:30，下午13:00到15:00",
    "我在2025年12月31号之前买的，成本价15.6元，现在跌到8.2元",
    "二零二五年，二零二六年，两年都亏了",
    "我一直在等，等了两三天了，打了三四次电话，一个人都没有",
    "为什么一直没到账，我等了一两个小时了",
    "百分之七十五的仓位，百分之二十五的现金",
    "这个基金年化百分之三点五，七天年化二点一",
    "我账户里有12万3千块，冻结了5万6千",
    "第一次是一月，第二次是三月，第三次是五月",
    "三四个月前，五六万块钱，七八十万的资金，亏了二三十万",
    "单价9.87，买了500股，总共4935元",
    "九点半到十一点半，一点到三点，三点一刻",
    # two numbers with words between them that validate as nothing together: amounts, not one number
    "我转了20000，到账只有19950",
    "昨天存了10000进去，今天取了8000出来",
    "指数涨到3250，又跌到3180",
    "打了12345热线，还有95588",
)


def test_a_number_that_validates_nowhere_joins_only_across_what_reading_one_out_says():
    """An account number (no checksum) read in groups with fillers is one number; the same digits
    with other words between them are amounts and stay readable (the list above)."""
    for text in ("六二二八，然后呢，四八零零，就是一二三四", "6228，对，4800，您记一下，1234", "6228 4800 1234"):
        masked, _ = redact(text)
        assert not digits_left(masked), (text, masked)
    masked, cues = redact("我的手机13812345678，我转了20000")
    assert (masked, cues) == ("我的手机[手机号]，我转了20000", ["pii:phone"])


def test_amounts_dates_counts_times_and_rates_stay_readable():
    for text in EVERYDAY:
        assert redact(text) == (text, []), text


# Anything may stand between the groups of a number, up to shared.pii._GAP characters:
# punctuation and symbols of every kind, spaces, and words (random CJK text, not a list).
# Left out: what marks a quantity or a time by design — the characters of the unit
# patterns (元 天 万 % after a group, 第 十 点 ¥ before one), a decimal point, a
# colon, 和/到/或… alone between two groups, a personal key (电话 卡号 …) — and numerals
# (they would be digits of the number).
_MARKS = set(
    re.sub(r"[^\u4e00-\u9fa5]", "", pii._UNIT_AFTER.pattern + pii._UNIT_BEFORE.pattern + pii._BETWEEN_TWO.pattern)
)
_MARKS |= {chr(c) for c in range(0x4E00, 0x9FA6) if pii.digit_view(chr(c)) in _MARKS | set("0123456789X")}
_NOT_PUNCT = set(".．:：%％‰‱$＄¥￥@＠")
punctuation = st.characters(
    categories=("Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Pc", "Sm", "Sc", "Sk", "So", "Zs"),
    exclude_characters="".join(_NOT_PUNCT),
    max_codepoint=0xFFFF,
)
words = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5, exclude_characters="".join(_MARKS)),
    min_size=1,
    max_size=4,
).filter(lambda w: not pii._KEY.search(pii.digit_view(w)))  # a key (手机 卡号 …) names the next number
gaps = st.one_of(
    st.sampled_from(SEPARATORS),
    st.text(alphabet=punctuation, min_size=1, max_size=6),
    st.builds(
        lambda a, w, b: a + w + b,
        st.text(alphabet=punctuation, max_size=2),
        words,
        st.text(alphabet=punctuation, max_size=2),
    ),
)


@st.composite
def read_in_groups(draw, number: str) -> str:
    """``number`` in groups of 2–5 digits, each said in any form, anything up to 8 characters between."""
    out, i = [], 0
    while i < len(number):
        size = draw(st.integers(min_value=2, max_value=5))
        if len(number) - (i + size) < 2 or (number[-1] == "X" and len(number) - (i + size) < 3):
            size = len(number) - i  # no group of one, and X stays with digits
        if i:
            out.append(draw(gaps))
        out.append(draw(said(number[i : i + size])))
        i += size
    return "".join(out)


def _no_run_survives(number: str, text: str, allowed: set[str]) -> None:
    masked, cues = redact(text)
    left = digits_left(masked)
    assert not any(number[i : i + 4] in left for i in range(len(number) - 3)), (text, masked)
    assert not left, (text, masked)  # the context holds no numeral: nothing of the number is left
    assert set(cues) & allowed, (text, masked, cues)


@settings(max_examples=150, deadline=None)
@given(st.data(), mobiles, st.sampled_from(("我的手机号是", "电话", "您记好", "")), st.sampled_from(SUFFIXES))
def test_property_mobiles_read_in_groups_with_anything_between(data, number, prefix, suffix):
    _no_run_survives(number, prefix + data.draw(read_in_groups(number)) + suffix, {"pii:phone"})


@settings(max_examples=150, deadline=None)
@given(st.data(), ids, st.sampled_from(("身份证号是", "证件号码", "")), st.sampled_from(SUFFIXES))
def test_property_id_numbers_read_in_groups_with_anything_between(data, number, prefix, suffix):
    _no_run_survives(number, prefix + data.draw(read_in_groups(number)) + suffix, {"pii:id_card"})


@settings(max_examples=150, deadline=None)
@given(st.data(), cards, st.sampled_from(("卡号是", "银行卡", "")), st.sampled_from(SUFFIXES))
def test_property_cards_read_in_groups_with_anything_between(data, number, prefix, suffix):
    _no_run_survives(number, prefix + data.draw(read_in_groups(number)) + suffix, {"pii:bank_card", "pii:id_card"})
