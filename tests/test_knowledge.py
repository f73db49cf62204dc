"""Knowledge answers, without a broker: the knowledge files, retrieval, the gate and threshold,
the knowledge_answer detector (one card per question, no entry twice in a call), and the
per-entry acceptance the gateway and the recorder report."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from services.analyzer.analysis import analyze_text, analyze_utterance
from services.analyzer.knowledge import PROBLEM, QUESTION, Entry, Retriever, asks, bigrams, fold, is_question
from services.analyzer.knowledge_base import (
    DEFAULT_DIR,
    KnowledgeError,
    KnowledgeWatcher,
    load_base,
    load_entries,
    parse_file,
    stale,
)
from services.analyzer.knowledge_model import EntryModel
from services.gateway.calls import CallBook
from services.nudger.engine import step
from services.nudger.rules import load_rules, parse_rules
from shared import nudge_types as T
from shared.schemas import CallStarted, KnowledgeMatch, Nudge, Utterance, UtteranceAnalysis, utcnow

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules" / "default.yaml")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

ONE = """\
entries:
  - id: perm-chinext
    questions:
      - 创业板怎么开通?
      - 开创业板有什么条件?
    answer: 开通创业板需要满足资产和交易经验的要求,具体以我司公布的标准为准。
    keywords: [创业板]
    owner: 运营部
    reviewed: 2026-11-10
"""
TWO = """\
entries:
  - id: transfer-in-arrival
    questions:
      - 从银行转到证券账户多久到账?
      - 转进来的钱什么时候能用?
    answer: 交易时段内转入通常实时到账,到账后就可以买入。
    keywords: [转入, 到账]
    owner: 运营部
    reviewed: 2026-11-18
"""


@pytest.fixture(scope="module")
def base() -> Retriever:
    return load_base(DEFAULT_DIR)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------ loading and validation


def test_starter_base_is_valid_and_safe():
    entries = load_entries(DEFAULT_DIR)
    assert len(entries) >= 50
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert len(e.questions) >= 2 and e.keywords and e.owner and e.reviewed
        assert "您" in e.answer or "请" in e.answer, f"{e.id}: the answer addresses the customer politely"
    assert not stale(entries, today=T0.date()), "every starter entry was reviewed this year"


def test_invalid_file_names_file_line_and_field(tmp_path):
    bad = ONE.replace("    owner: 运营部\n", "    owner: 运营部\n    colour: blue\n").replace(
        "answer: 开通创业板", "answer: 请访问 www.example.com 开通创业板"
    )
    with pytest.raises(KnowledgeError) as err:
        parse_file(bad, "faq.yaml")
    text = str(err.value)
    assert "faq.yaml line 6: entries.0.answer" in text and "web address" in text
    assert "faq.yaml line 9: entries.0.colour: Extra inputs are not permitted" in text


@pytest.mark.parametrize(
    "answer, why",
    [
        ("请拨打95551234转人工,我们帮您处理。", "phone or account number"),
        ("这个产品保本保息,您放心购买吧。", "may not promise returns"),
        ("您好", "at least 8 characters"),
    ],
)
def test_unsafe_or_empty_answers_are_refused(answer, why):
    with pytest.raises(KnowledgeError, match=why):
        parse_file(ONE.replace("开通创业板需要满足资产和交易经验的要求,具体以我司公布的标准为准。", answer), "x.yaml")


def test_yaml_syntax_error_and_wrong_shapes_are_located():
    with pytest.raises(KnowledgeError, match=r"x.yaml line 4, column 1: invalid YAML"):
        parse_file("entries:\n  - id: a\n    questions: [unclosed\n", "x.yaml")
    with pytest.raises(KnowledgeError, match=r"x\.yaml line 1: expected a mapping"):
        parse_file("- just a list\n", "x.yaml")
    with pytest.raises(KnowledgeError, match=r"x\.yaml line 4: entries\.0\.questions: List should have at least 2"):
        parse_file(ONE.replace("      - 开创业板有什么条件?\n", ""), "x.yaml")
    with pytest.raises(KnowledgeError, match="review date is in the future"):
        parse_file(ONE.replace("2026-11-10", "2999-01-01"), "x.yaml")


def test_duplicate_ids_across_files_name_both_places(tmp_path):
    write(tmp_path, "a.yaml", ONE)
    write(tmp_path, "b.yaml", "# other team\n" + ONE)
    with pytest.raises(KnowledgeError) as err:
        load_entries(tmp_path)
    assert f"{tmp_path / 'b.yaml'}:3: id 'perm-chinext' is already used at {tmp_path / 'a.yaml'}:2" in str(err.value)


def test_missing_directory_refuses_to_start(tmp_path):
    with pytest.raises(KnowledgeError, match="no such directory"):
        KnowledgeWatcher(tmp_path / "nowhere")


def test_watcher_reloads_and_keeps_the_previous_base_on_a_bad_file(tmp_path):
    shutil.copytree(DEFAULT_DIR, tmp_path / "kb")
    kb = tmp_path / "kb"
    (kb / "transfers.yaml").unlink()
    watcher = KnowledgeWatcher(kb)
    assert watcher.base.match("创业板怎么开通?").id == "perm-chinext"
    assert "transfer-in-arrival" not in watcher.base.entries
    assert watcher.maybe_reload() is False  # nothing changed

    write(kb, "transfers.yaml", TWO)
    assert watcher.maybe_reload() is True
    assert watcher.base.match("转进来的钱多久能到账?").id == "transfer-in-arrival"

    bad = write(kb, "transfers.yaml", TWO.replace("reviewed: 2026-11-18", "reviewed: soon"))
    os.utime(bad, ns=(1, 1))  # a different mtime for sure
    assert watcher.maybe_reload() is False
    assert "transfers.yaml line 9: entries.0.reviewed" in watcher.last_error
    assert watcher.base.match("转进来的钱多久能到账?").id == "transfer-in-arrival", "previous base stays"

    (kb / "transfers.yaml").unlink()
    assert watcher.maybe_reload() is True and watcher.last_error is None
    assert "transfer-in-arrival" not in watcher.base.entries


# ------------------------------------------------------------ retrieval, gate, threshold


@pytest.mark.parametrize(
    "text, entry",
    [
        ("您好,我想问一下手续费怎么算", "fee-commission"),
        ("转账多久到账啊", "transfer-in-arrival"),
        ("风险测评怎么重做", "risk-assessment-redo"),
        ("创业板怎么开通", "perm-chinext"),
        ("我的密码锁定了怎么办", "pwd-locked"),
        ("港股通有什么开通要求", "perm-hk-connect"),
        ("中签了什么时候缴款", "ipo-win-pay"),
        ("父亲去世了股票怎么继承", "inheritance"),
        ("你們的手續費怎麼算", "fee-commission"),  # traditional characters are folded
    ],
)
def test_common_questions_find_their_entry(base, text, entry):
    a = analyze_text(text)
    match = base.match(a.text, a.cues, a.emotion, a.emotion_score)
    assert match is not None and match.id == entry, (text, base.rank(a.text))
    assert match.answer == base.entries[entry].answer
    assert match.question in base.entries[entry].questions


@pytest.mark.parametrize(
    "text",
    [
        "好的,谢谢你啊",  # not a question
        "我的身份证号是110101199003074514",  # a number read out
        "凭什么收我这么多手续费,你们到底讲不讲理?",  # angry rhetorical question: acknowledge, don't quote the FAQ
        "没有了,谢谢。",
    ],
)
def test_no_card_when_not_a_question(base, text):
    a = analyze_text(text)
    assert base.match(a.text, a.cues, a.emotion, a.emotion_score) is None


@pytest.mark.parametrize(
    "text",
    [
        "请问你们那边今天天气怎么样",
        "我想问一下期货的夜盘怎么交易",
        "你叫什么名字",
    ],
)
def test_weak_matches_show_nothing(base, text):
    a = analyze_text(text)
    assert is_question(a.text, a.cues, a.emotion, a.emotion_score)
    assert base.match(a.text, a.cues, a.emotion, a.emotion_score) is None, base.rank(a.text)


def test_asking_how_to_complain_gets_the_complaints_answer_even_when_angry(base):
    a = analyze_text("我要投诉,你告诉我怎么投诉")
    assert a.emotion == "anger"
    assert base.match(a.text, a.cues, a.emotion, a.emotion_score).id == "complaint-channel"


def test_matching_runs_on_the_redacted_text(base):
    a = analyze_text("我资金账号是310088273641,交易密码忘了怎么办")
    assert "310088273641" not in a.text
    assert base.match(a.text, a.cues).id == "pwd-forgot"


def test_empty_base_answers_nothing():
    r = Retriever([])
    assert len(r) == 0 and r.match("创业板怎么开通?") is None and r.rank("创业板") == []


def test_keywords_join_what_jieba_cuts_apart():
    # a two-entry base scores lower than the starter base: its own threshold
    r = Retriever(
        [
            Entry(id="a", questions=("科创板开通条件", "怎么开科创板"), answer="x" * 10, keywords=("科创板",)),
            Entry(id="b", questions=("板块轮动是什么", "行业板块怎么看"), answer="y" * 10, keywords=("板块",)),
        ],
        min_score=0.5,
    )
    words, keys = r.tokens("科创板怎么开")
    assert "科创板" in words and keys == {"科创板"}
    assert r.match("科创板怎么开?").id == "a"


def test_keyword_scan_takes_the_longest_term_and_no_overlaps():
    r = Retriever(
        [
            Entry(id="open", questions=("融资融券怎么开通", "两融开通条件"), answer="x" * 10, keywords=("融资融券",)),
            Entry(id="rate", questions=("融券费率多少", "融券利息怎么算"), answer="y" * 10, keywords=("融券",)),
        ]
    )
    assert r.tokens("融资融券怎么开")[1] == {"融资融券"}, "融券 inside 融资融券 is not a second term"
    assert r.tokens("融券的费率是多少")[1] == {"融券"}


def test_bigrams_follow_runs_of_content_words():
    assert bigrams(["银行卡", "换"]) == ["银行", "行卡"]
    assert bigrams(["银行卡换"]) == ["银行", "行卡", "卡换"]
    assert bigrams(["etf基金"]) == ["基金"], "only Chinese characters make bigrams"
    r = Retriever([Entry(id="a", questions=("银行卡怎么换", "换卡"), answer="x" * 10)])
    # 那个 / 我 / 想 / 把 / 的 are dropped and break the runs: no bigram spans a filler
    assert r.grams("那个我想把绑定的银行卡换了") == ["绑定", "银行", "行卡", "卡换"]


def test_a_paraphrase_that_jieba_cuts_differently_meets_the_wording_through_bigrams():
    r = Retriever(
        [
            Entry(id="custody", questions=("转托管怎么办", "股票转到别的券商"), answer="x" * 10),
            Entry(id="statement", questions=("交割单在哪查", "成交明细"), answer="y" * 10),
        ],
        min_score=0.1,
        min_coverage=0.0,
    )
    # jieba: 转托管 / 交割单 in the wordings, 托管 / 交割 in the questions: no word in common
    assert "托管" not in r.tokens("转托管怎么办")[0] and "交割" not in r.tokens("交割单在哪查")[0]
    assert r.match("托管怎么转?").id == "custody"
    assert r.match("交割怎么看?").id == "statement"


def test_spoken_variants_are_folded_before_matching():
    assert fold("在别的证券公司开过户") == "在别的券商开过户"
    assert fold("礼拜天能转账吗") == "周末能转账吗"
    assert fold("交易軟件打不開") == "app打不开"  # traditional folded first


@pytest.mark.parametrize(
    "text",
    [
        "我那个风险评估做得不准,想再做一遍",  # a want without 我想
        "我想投诉你们的营业部,应该找谁",  # who to turn to
    ],
)
def test_gate_hears_requests_without_a_question_word(text):
    assert is_question(text)


def test_gate_lets_an_angry_question_through_but_not_a_rhetorical_one():
    # the emotion model hears anger in a plain question; the question still gets its answer
    assert is_question("我融资买的股票卖了,负债要怎么还", emotion="anger", emotion_score=0.87)
    assert not is_question("凭什么收我这么多手续费?", emotion="anger", emotion_score=0.9)
    assert not is_question("什么破系统,钱转出去了两边都说不归自己管?", emotion="anger", emotion_score=0.9)
    assert is_question("凭什么收我这么多手续费?"), "the rhetoric only closes the gate on an angry turn"
    assert not is_question("没什么不满意的,挺好的"), "没什么 is not asking anything"


# ------------------------------------------------------------ analyzer record and nudger card


def _event(seq: int, text: str, speaker: str = "customer", final: bool = True) -> Utterance:
    return Utterance(
        type="utterance",
        call_id="c-k",
        seq=seq,
        speaker=speaker,
        text=text,
        is_final=final,
        start_ms=seq * 4000,
        end_ms=seq * 4000 + 2500,
        ts=T0 + timedelta(seconds=seq * 4 + 2.5),
    )


def test_analysis_carries_the_match_for_customer_finals_only(base):
    assert analyze_utterance(_event(1, "创业板怎么开通?"), knowledge=base).knowledge.id == "perm-chinext"
    assert analyze_utterance(_event(1, "创业板怎么开通?", final=False), knowledge=base).knowledge is None
    assert analyze_utterance(_event(1, "创业板怎么开通?", speaker="agent"), knowledge=base).knowledge is None
    assert analyze_utterance(_event(1, "创业板怎么开通?")).knowledge is None  # no base: no lookup
    rec = analyze_utterance(_event(1, "创业板怎么开通?"), knowledge=base)
    assert rec.v == 2 and UtteranceAnalysis.model_validate_json(rec.to_json()).knowledge == rec.knowledge


def test_v1_records_still_read():
    old = {
        "v": 1,
        "nudge_id": "c:1:acknowledge_emotion",
        "call_id": "c",
        "agent_id": "a",
        "type": "acknowledge_emotion",
        "title": "t",
        "suggestion": "s",
        "reason": "r",
        "created_ts": "2026-11-23T08:00:00.000Z",
    }
    assert Nudge.model_validate(old).source is None


class Call:
    def __init__(self, rules=RULES, call_id="c-k"):
        self.rules, self.mem, self.cards = rules, None, []
        self.mem, _ = step(None, CallStarted(type="call_started", call_id=call_id, ts=T0, agent_id="a-001"), T0, rules)

    def ask(self, seq: int, text: str, knowledge: KnowledgeMatch | None):
        a = UtteranceAnalysis(
            call_id="c-k",
            seq=seq,
            speaker="customer",
            text=text,
            sentiment=0.5,
            emotion="neutral",
            emotion_score=0.5,
            cues=[],
            start_ms=seq * 4000,
            end_ms=seq * 4000 + 2500,
            ts=T0 + timedelta(seconds=seq * 4),
            ingest_ts=T0 + timedelta(seconds=seq * 4),
            analyzed_ts=utcnow(),
            knowledge=knowledge,
        )
        self.mem, out = step(self.mem, a, T0 + timedelta(seconds=seq * 4), self.rules)
        cards = [n for n in out if n.type == T.KNOWLEDGE_ANSWER]
        self.cards += cards
        return cards


def _match(entry_id: str, question: str = "创业板怎么开通?") -> KnowledgeMatch:
    return KnowledgeMatch(id=entry_id, question=question, answer=f"{entry_id} 的答案,以我司公布的标准为准。", score=7.5)


def test_card_is_the_entry_with_its_source_and_the_customers_words():
    call = Call()
    (card,) = call.ask(3, "我想问一下[账号]创业板怎么开通", _match("perm-chinext"))
    assert card.nudge_id == "c-k:3:knowledge_answer" and card.trigger_seq == 3
    assert card.title == "创业板怎么开通?" and card.suggestion == "perm-chinext 的答案,以我司公布的标准为准。"
    assert card.source == "perm-chinext" and card.audience == "agent" and card.priority == "normal"
    assert card.reason == "客户提问 «我想问一下[账号]创业板怎么开通»"
    assert Nudge.model_validate_json(card.to_json()).source == "perm-chinext"


def test_one_card_per_question_and_no_entry_twice_in_a_call():
    call = Call()
    assert len(call.ask(1, "创业板怎么开通", _match("perm-chinext"))) == 1
    assert call.ask(2, "那创业板开通条件是什么", _match("perm-chinext")) == [], "same entry: not again"
    assert len(call.ask(3, "转账多久到账", _match("transfer-in-arrival", "转账多久到账?"))) == 1
    assert call.ask(4, "嗯嗯", None) == []
    # a redelivered analysis of seq 3 changes nothing
    assert call.ask(3, "转账多久到账", _match("transfer-in-arrival", "转账多久到账?")) == []
    assert [c.source for c in call.cards] == ["perm-chinext", "transfer-in-arrival"]
    assert Call().ask(1, "创业板怎么开通", _match("perm-chinext")), "another call gets it again"


def test_memory_round_trip_keeps_what_was_shown():
    call = Call()
    call.ask(1, "创业板怎么开通", _match("perm-chinext"))
    call.mem = type(call.mem).model_validate(call.mem.model_dump(mode="json"))  # as the changelog does
    assert call.ask(2, "创业板到底怎么开通", _match("perm-chinext")) == []


def test_disabled_rule_shows_no_card():
    data = yaml.safe_load((ROOT / "rules" / "default.yaml").read_text(encoding="utf-8"))
    data["nudges"]["knowledge_answer"]["enabled"] = False
    rules = parse_rules(yaml.safe_dump(data, allow_unicode=True))
    assert Call(rules).ask(1, "创业板怎么开通", _match("perm-chinext")) == []


# ------------------------------------------------------------ acceptance per entry


def test_gateway_rule_stats_count_knowledge_answers_per_entry():
    book = CallBook()
    nudges = [
        ("c:1:knowledge_answer", "perm-chinext"),
        ("c:2:knowledge_answer", "pwd-locked"),
        ("d:1:knowledge_answer", "perm-chinext"),
    ]
    for nid, source in nudges:
        book.on_nudge(
            {
                "call_id": nid.split(":")[0],
                "nudge_id": nid,
                "type": "knowledge_answer",
                "source": source,
                "agent_id": "a-001",
                "audience": "agent",
            }
        )
    book.on_nudge({"call_id": "c", "nudge_id": "c:1:acknowledge_emotion", "type": "acknowledge_emotion"})
    for nid, action in [
        ("c:1:knowledge_answer", "accepted"),
        ("c:2:knowledge_answer", "dismissed"),
        ("d:1:knowledge_answer", "accepted"),
        ("d:1:knowledge_answer", "dismissed"),
    ]:
        book.on_feedback({"call_id": nid.split(":")[0], "nudge_id": nid, "type": "knowledge_answer", "action": action})
    stats = book.rule_stats()
    assert stats["knowledge_answer"]["shown"] == 3 and stats["knowledge_answer"]["accepted"] == 2
    assert stats["knowledge_answer"]["entries"] == {
        "perm-chinext": {"shown": 2, "accepted": 2, "dismissed": 0, "acceptance_rate": 1.0},
        "pwd-locked": {"shown": 1, "accepted": 0, "dismissed": 1, "acceptance_rate": 0.0},
    }
    assert "entries" not in stats["acknowledge_emotion"]


def test_recorder_acceptance_per_entry(tmp_path):
    from services.recorder.db import make_engine, upgrade
    from services.recorder.queries import acceptance
    from services.recorder.store import Store
    from shared.schemas import NudgeFeedback

    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}", writer=True)
    upgrade(engine)
    store = Store(engine, salt="s")
    now = utcnow()
    recs = []
    for i, source in enumerate(["perm-chinext", "perm-chinext", "pwd-locked"]):
        recs.append(
            Nudge(
                nudge_id=f"c-{i}:1:knowledge_answer",
                call_id=f"c-{i}",
                agent_id="a-001",
                type="knowledge_answer",
                title="q",
                suggestion="a",
                reason="r",
                created_ts=now,
                source=source,
            )
        )
    recs.append(
        NudgeFeedback(
            nudge_id="c-0:1:knowledge_answer",
            call_id="c-0",
            agent_id="a-001",
            type="knowledge_answer",
            action="accepted",
            ts=now,
        )
    )
    recs.append(
        NudgeFeedback(
            nudge_id="c-2:1:knowledge_answer",
            call_id="c-2",
            agent_id="a-001",
            type="knowledge_answer",
            action="dismissed",
            ts=now,
        )
    )
    store.apply(recs, now=now)
    by_entry = acceptance(store)["by_entry"]
    assert by_entry["perm-chinext"]["shown"] == 2 and by_entry["perm-chinext"]["accepted"] == 1
    assert by_entry["perm-chinext"]["ignored"] == 1
    assert by_entry["pwd-locked"]["dismissed"] == 1 and by_entry["pwd-locked"]["acceptance_rate"] == 0.0
    engine.dispose()


@pytest.mark.parametrize(
    "text",
    [
        "我那个账户好几年没动了,还能用不能用啊",  # A不A
        "那个资产证明在App上能申请不",  # …不 at the end
        "转进去的钱到了没有",  # …了没有
        "我是稳健型的,那就是说这个我买不了是吧",  # …是吧
        "这个分红到底是发钱还是发股票",  # 是…还是…
        "你们服务太差了,我要反映问题,在哪里提",  # angry, but asks where to complain
    ],
)
def test_gate_hears_spoken_questions(text):
    assert asks(text, emotion="anger" if "太差" in text else "neutral", emotion_score=0.9) == QUESTION


@pytest.mark.parametrize(
    "text",
    [
        "我挂单挂不上去,一点就报错",
        "我点了获取验证码,手机一直没收到短信",
        "从证券往银行转,弹出来转账失败",
        "App一打开就闪退",
    ],
)
def test_a_problem_stated_without_asking_is_looked_up_but_not_in_anger(text):
    assert asks(text) == PROBLEM
    assert asks(text, emotion="anger", emotion_score=0.9) is None, "an angry complaint wants the emotion heard first"


@pytest.mark.parametrize("text", ["好的谢谢", "我昨天买的那个股票又跌了", "我老公也在你们这开的户", "我不是说了嘛"])
def test_nothing_asked_is_not_looked_up(text):
    assert asks(text) is None


def test_a_stated_problem_needs_a_stronger_match_than_a_question(base):
    strong = "我点了获取验证码,等了半天手机都没收到短信"
    card = base.match(strong)
    assert card is not None and card.id == "sms-code"
    # a match a question passes (score over MIN_SCORE) is not enough for a statement (PROBLEM_MIN_SCORE)
    _, score, _, _, _ = base.rank("我的密码忘了")[0]
    assert base.min_score <= score < 10
    assert base.match("我的密码忘了") is None
    asked = base.match("我的密码忘了怎么办")
    assert asked is not None and asked.id == "pwd-forgot"


def test_the_entry_model_scores_like_scikit_learn(base):
    texts = [q for _, q in base.wordings()] + [e.answer for e in base.entries.values()]
    labels = [entry_id for entry_id, _ in base.wordings()] + list(base.entries)
    model = EntryModel(texts, labels, lambda t: base.tokens(t)[0], cache=None)  # trained here, not read
    assert set(model.classes) == set(base.entries)
    for text in ["我那个炒股的软件怎么也登不进去", "分红的钱什么时候到", "佣金万几", "喂你好", ""]:
        words = base.tokens(text)[0]
        fast = model.probabilities(words)
        assert fast.shape == (len(base.entries),) and abs(float(fast.sum()) - 1) < 1e-5
        assert max(abs(fast - model.sklearn_probabilities(text))) < 1e-5


def test_the_entry_model_reads_an_entry_from_all_its_wordings_together():
    # no single wording shares more than one content word with the question; the entry's wordings together do
    r = Retriever(
        [
            Entry(
                id="ipo-result",
                questions=("新股中签结果在哪看", "摇号以后怎么知道中没中", "打新有没有抽中怎么查"),
                answer="中签结果在App的新股申购页查看。",
            ),
            Entry(
                id="ipo-how",
                questions=("新股怎么申购", "打新在哪里操作", "申购新股要什么条件"),
                answer="在App交易页点新股申购即可。",
            ),
            Entry(id="fees", questions=("手续费怎么收", "佣金是多少"), answer="佣金按签约费率收取。"),
        ]
    )
    ranked = r.rank("我打的新股摇号结果出来了没,中签没有")
    assert ranked[0][0] == "ipo-result" and ranked[0][4] > ranked[1][4]


def test_a_base_of_one_entry_needs_no_model():
    r = Retriever([Entry(id="a", questions=("银行卡怎么换", "换卡"), answer="x" * 10)])
    assert r._model is None
    assert r.rank("银行卡怎么换")[0][0] == "a"


ASKED = ONE.replace(
    "    answer: 开通创业板",
    "    asked:\n      - 我想买三零零开头的票,要先弄个什么\n      - 创业板那个要开什么东西\n    answer: 开通创业板",
)


def test_asked_questions_are_matched_but_the_card_shows_a_wording(tmp_path):
    write(tmp_path, "a.yaml", ASKED)
    write(tmp_path, "b.yaml", TWO)
    base = load_base(tmp_path)
    assert base.entries["perm-chinext"].asked == ("我想买三零零开头的票,要先弄个什么", "创业板那个要开什么东西")
    ranked = base.rank("我想买三零零开头的票,要先弄个什么")
    assert ranked[0][0] == "perm-chinext"
    assert ranked[0][2] in base.entries["perm-chinext"].questions, "the title is a wording, never a customer's words"


@pytest.mark.parametrize(
    "asked, why",
    [
        ("      - 我的账号是12345678怎么开创业板", "redacted text: no number of 5 or more digits"),
        ("      - 创业板怎么开\n      - 创业板怎么开", "an asked question is listed twice"),
        ("      - ''", "every asked question must have 1 to 120 characters"),
    ],
)
def test_invalid_asked_questions_are_refused_with_their_line(asked, why):
    text = ONE.replace("    answer: 开通创业板", f"    asked:\n{asked}\n    answer: 开通创业板")
    with pytest.raises(KnowledgeError, match=rf"x\.yaml line \d+: entries\.0\.asked: .*{why}"):
        parse_file(text, "x.yaml")


def test_one_question_cannot_point_to_two_entries(tmp_path):
    write(tmp_path, "a.yaml", ONE)
    write(tmp_path, "b.yaml", TWO.replace("    answer:", "    asked:\n      - 开创业板有什么条件?\n    answer:"))
    with pytest.raises(KnowledgeError) as err:
        load_entries(tmp_path)
    assert "'transfer-in-arrival' lists a question 'perm-chinext'" in str(err.value)
    assert str(tmp_path / "a.yaml") + ":2" in str(err.value)


def test_cross_validation_matches_each_asked_question_against_a_base_without_it(tmp_path):
    from services.analyzer.knowledge_eval import cross_validate

    write(tmp_path, "a.yaml", ASKED)
    write(tmp_path, "b.yaml", TWO)
    base = load_base(tmp_path)
    r = cross_validate(base, folds=2)
    assert r["n"] == 2 and r["top1"] + r["no_card"] + r["wrong_card"] == pytest.approx(1.0)


def test_a_trained_model_is_cached_by_what_it_was_trained_on(tmp_path):
    words = {
        "创业板怎么开通": ["创业板", "开通"],
        "转账多久到账": ["转账", "?when", "到账"],
        "佣金多少": ["佣金", "?amount"],
    }
    texts, labels = list(words), ["chinext", "transfer", "fees"]
    trained = EntryModel(texts, labels, words.__getitem__, cache=tmp_path)
    (cached_file,) = tmp_path.glob("knowledge-*.npz")
    read = EntryModel(texts, labels, words.__getitem__, cache=tmp_path)
    assert read._sklearn is None and trained._sklearn is not None, "the second one was read, not trained"
    for w in words.values():
        assert list(read.probabilities(w)) == list(trained.probabilities(w))
    EntryModel(texts, ["chinext", "fees", "transfer"], words.__getitem__, cache=tmp_path)  # other labels: trained
    assert len(list(tmp_path.glob("knowledge-*.npz"))) == 2
    cached_file.write_bytes(b"not a model")  # a damaged cache is trained again, not fatal
    assert EntryModel(texts, labels, words.__getitem__, cache=tmp_path)._sklearn is not None
