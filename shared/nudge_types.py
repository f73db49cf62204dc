"""The nudge types: one list, so every service spells them the same way.

The nudger raises the types that have a detector (``services/nudger/detectors/``,
its catalog is derived from that registry); ``OTHER_SERVICES`` are raised by
another service from the same rules file. ``NUDGER_ORDER`` is the order in
which the nudger's detectors run for one input (and so the order of nudges
raised by one event). docs/rules.md describes each type and its numbers.
"""

# 关注 / 理解 / 认同 / 人性化 — what the agent is nudged to do
ACKNOWLEDGE_EMOTION = "acknowledge_emotion"  # customer anger / anxiety / sadness not acknowledged
REASSURE_URGENCY = "reassure_urgency"  # 马上收盘 / 来不及了: promise prompt action and a time
CONFIRM_REQUEST = "confirm_request"  # restate the customer's request
OFFER_HOLD_WORDING = "offer_hold_wording"  # ask before making the customer wait
THANK_FOR_WAITING = "thank_for_waiting"  # after a hold, dead air or a waiting complaint
TIMELY_RESPONSE = "timely_response"  # customer finished, agent silent
DONT_INTERRUPT = "dont_interrupt"  # agent talks over the customer
PRIVACY_GUARD = "privacy_guard"  # ID / card / phone / account / password spoken
POLITE_LANGUAGE = "polite_language"  # impolite agent phrasing
GUIDE_STEP_BY_STEP = "guide_step_by_step"  # confused or senior customer
AFFIRM_CUSTOMER = "affirm_customer"  # customer opinion or suggestion
CLOSING_CHECK = "closing_check"  # standard closing phrases
COMPLIANCE_WARNING = "compliance_warning"  # promise of returns / stock tip
ESCALATE_SUPERVISOR = "escalate_supervisor"  # the supervisor's alert
# … and what to answer
KNOWLEDGE_ANSWER = "knowledge_answer"  # the knowledge base's answer to the customer's question

# Raised by other services (same rules file; the nudger ignores them)
REPEAT_CALLER = "repeat_caller"  # services/recorder/repeat.py

NUDGER_ORDER = (
    PRIVACY_GUARD,
    ESCALATE_SUPERVISOR,
    POLITE_LANGUAGE,
    COMPLIANCE_WARNING,
    REASSURE_URGENCY,
    ACKNOWLEDGE_EMOTION,
    THANK_FOR_WAITING,
    CONFIRM_REQUEST,
    OFFER_HOLD_WORDING,
    TIMELY_RESPONSE,
    DONT_INTERRUPT,
    GUIDE_STEP_BY_STEP,
    AFFIRM_CUSTOMER,
    CLOSING_CHECK,
    KNOWLEDGE_ANSWER,
)
OTHER_SERVICES = (REPEAT_CALLER,)
# Written by a person, not raised by a rule (no entry in the rules file)
SUPERVISOR_WHISPER = "supervisor_whisper"  # services/gateway/whisper.py: a supervisor's hint to the agent
SENT_BY_PEOPLE = (SUPERVISOR_WHISPER,)
ALL_TYPES = NUDGER_ORDER + OTHER_SERVICES + SENT_BY_PEOPLE
