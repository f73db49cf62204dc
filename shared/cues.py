"""The cue vocabulary: what the analyzer can say about an utterance.

The analyzer puts these strings in ``UtteranceAnalysis.cues``; the nudge
engine reads them. One list, so both sides spell them the same way.
"""

# Customer side
REQUEST = "request"  # states a request or need (我想…/帮我…/能不能…)
COMPLAINT_THREAT = "complaint_threat"  # 投诉 / 证监会 / 12386 / 曝光 / 找媒体
ASKS_FOR_MANAGER = "asks_for_manager"  # 找你们领导 / 经理 / 主管
CONFUSION = "confusion"  # 不太明白 / 怎么弄 / 听不懂
SUGGESTION = "suggestion"  # 建议 / 我觉得你们应该…
WAITING_COMPLAINT = "waiting_complaint"  # 等了半天 / 怎么还没人
GRATITUDE = "gratitude"  # 谢谢 / 麻烦你了
NOTHING_ELSE = "nothing_else"  # 没有了 / 没别的了 (call winding down)
URGENCY = "urgency"  # 马上收盘 / 来不及了 / 急用

# Agent side
HOLD_INTENT = "hold_intent"  # 我查一下 / 稍等 / 帮您核实
HOLD_ASKED = "hold_asked"  # 您方便在线等待吗 / 请您稍等片刻 (asked politely)
EMPATHY = "empathy"  # 理解您的心情 / 抱歉 / 不好意思 / 让您久等了
REQUEST_RESTATED = "request_restated"  # 跟您确认一下 / 您是想…对吗
IMPOLITE = "impolite"  # 你听不懂吗 / 这不归我管 / 我已经说过了
PROMISE_RETURNS = "promise_returns"  # 保本 / 稳赚 / 肯定涨 / 绝对不会亏 / 你就买这只
GREETING = "greeting"  # 您好 / 很高兴为您服务
CLOSING = "closing"  # 谢谢您的来电 / 再见 / 祝您生活愉快
CLOSING_QUESTION = "closing_question"  # 还有其他问题吗
THANKS_FOR_WAITING = "thanks_for_waiting"  # 感谢您的耐心等待
STEP_GUIDANCE = "step_guidance"  # 第一步 / 我一步一步带您 / 您先点…

# PII (detected on either side, always redacted in text)
PII_ID_CARD = "pii:id_card"
PII_BANK_CARD = "pii:bank_card"
PII_PHONE = "pii:phone"
PII_ACCOUNT = "pii:account"
PII_PASSWORD = "pii:password"
PII_EMAIL = "pii:email"

CUSTOMER_CUES = (
    REQUEST,
    COMPLAINT_THREAT,
    ASKS_FOR_MANAGER,
    CONFUSION,
    SUGGESTION,
    WAITING_COMPLAINT,
    GRATITUDE,
    NOTHING_ELSE,
    URGENCY,
)
AGENT_CUES = (
    HOLD_INTENT,
    HOLD_ASKED,
    EMPATHY,
    REQUEST_RESTATED,
    IMPOLITE,
    PROMISE_RETURNS,
    GREETING,
    CLOSING,
    CLOSING_QUESTION,
    THANKS_FOR_WAITING,
    STEP_GUIDANCE,
)
PII_CUES = (PII_ID_CARD, PII_BANK_CARD, PII_PHONE, PII_ACCOUNT, PII_PASSWORD, PII_EMAIL)
ALL_CUES = CUSTOMER_CUES + AGENT_CUES + PII_CUES
