"""Categories, compliance (order, timing, prohibited phrases) and contact reasons."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import (
    AnalyticsRules,
    CategoryRule,
    ComplianceStatus,
    PhraseMatcher,
    ProhibitedPhrase,
    ReasonRule,
    RequiredDisclosure,
    Speaker,
    analyze_transcript,
    parse_segments,
)

A, C = Speaker.AGENT, Speaker.CUSTOMER


def transcript(*turns: tuple[str, int, str], connected_at_ms: int | None = None):
    """turns: (speaker, begin seconds, text); each lasts 2 s."""
    return parse_segments(
        [
            {"speaker": speaker, "begin_ms": int(begin * 1000), "end_ms": int(begin * 1000) + 2000, "text": text}
            for speaker, begin, text in turns
        ],
        "rules",
        connected_at_ms=connected_at_ms,
    )


def only(categories=(), compliance=(), reasons=None) -> AnalyticsRules:
    data = {
        "categories": [c.model_dump() for c in categories],
        "compliance": [c.model_dump() for c in compliance],
        "qa": {"items": [{"name": "compliance", "kind": "compliance", "weight": 1}]},
    }
    if reasons is not None:
        data["reasons"] = reasons
    return AnalyticsRules.model_validate(data)


def result_of(analysis, rule: str):
    return next(r for r in analysis.compliance if r.rule == rule)


# --- compliance: timing ----------------------------------------------------------------------------

RECORDING_10S = RequiredDisclosure(name="recording", phrases=["this call may be recorded"], within_ms=10_000)


@pytest.mark.parametrize("said_at, status", [(5, ComplianceStatus.PASSED), (10, ComplianceStatus.PASSED), (15, ComplianceStatus.FAILED)])
def test_recording_disclosure_within_n_seconds(said_at: int, status: ComplianceStatus):
    analysis = analyze_transcript(
        transcript(("AGENT", 1, "Hello, thanks for calling."), ("AGENT", said_at, "This call may be recorded.")),
        only(compliance=[RECORDING_10S]),
    )
    result = result_of(analysis, "recording")
    assert result.status is status
    assert result.passed is (status is ComplianceStatus.PASSED)
    assert [(e.segment_index, e.begin_ms, e.phrase) for e in result.evidence] == [
        (1, said_at * 1000, "this call may be recorded")
    ]


def test_timing_counts_from_connection():
    # said 14 s into the recording, but the customer was connected at 6 s: 8 s after connection
    analysis = analyze_transcript(
        transcript(("AGENT", 14, "this call may be recorded"), connected_at_ms=6_000), only(compliance=[RECORDING_10S])
    )
    assert result_of(analysis, "recording").passed


def test_disclosure_by_the_wrong_speaker_or_never_said_fails():
    analysis = analyze_transcript(
        transcript(("CUSTOMER", 2, "is this call may be recorded or not?")), only(compliance=[RECORDING_10S])
    )
    result = result_of(analysis, "recording")
    assert result.status is ComplianceStatus.FAILED and result.detail == "disclosure not said"


# --- compliance: order (mini-Miranda) ------------------------------------------------------------

MINI_MIRANDA = RequiredDisclosure(
    name="mini_miranda",
    phrases=["this is an attempt to collect a debt"],
    before_phrases=["amount owed", "balance due"],
)


def test_mini_miranda_before_the_debt_passes():
    analysis = analyze_transcript(
        transcript(
            ("AGENT", 1, "This is an attempt to collect a debt."),
            ("AGENT", 5, "The amount owed is two hundred dollars."),
        ),
        only(compliance=[MINI_MIRANDA]),
    )
    result = result_of(analysis, "mini_miranda")
    assert result.status is ComplianceStatus.PASSED
    assert [e.segment_index for e in result.evidence] == [0, 1]


def test_mini_miranda_after_the_debt_fails_with_both_places_as_evidence():
    analysis = analyze_transcript(
        transcript(
            ("AGENT", 1, "Hi, I'm calling about your account."),
            ("CUSTOMER", 4, "What is the balance due?"),
            ("AGENT", 8, "This is an attempt to collect a debt."),
        ),
        only(compliance=[MINI_MIRANDA]),
    )
    result = result_of(analysis, "mini_miranda")
    assert result.status is ComplianceStatus.FAILED and not result.passed
    assert [(e.segment_index, e.speaker, e.phrase) for e in result.evidence] == [
        (1, C, "balance due"),
        (2, A, "this is an attempt to collect a debt"),
    ]


def test_order_within_one_segment_uses_word_position():
    after = transcript(("AGENT", 1, "The amount owed is due today; this is an attempt to collect a debt."))
    before = transcript(("AGENT", 1, "This is an attempt to collect a debt, and the amount owed is due today."))
    assert not result_of(analyze_transcript(after, only(compliance=[MINI_MIRANDA])), "mini_miranda").passed
    assert result_of(analyze_transcript(before, only(compliance=[MINI_MIRANDA])), "mini_miranda").passed


def test_mini_miranda_does_not_apply_when_the_debt_never_comes_up():
    analysis = analyze_transcript(transcript(("AGENT", 1, "How can I help?")), only(compliance=[MINI_MIRANDA]))
    result = result_of(analysis, "mini_miranda")
    assert result.status is ComplianceStatus.NOT_APPLICABLE and result.passed


# --- compliance: prohibited phrases --------------------------------------------------------------

PROHIBITED = ProhibitedPhrase(name="no_rudeness", phrases=["shut up", "not my problem"])


def test_prohibited_phrase_by_agent_fails_with_evidence():
    analysis = analyze_transcript(
        transcript(("CUSTOMER", 1, "My bill is wrong."), ("AGENT", 4, "Honestly, that's not my problem.")),
        only(compliance=[PROHIBITED]),
    )
    result = result_of(analysis, "no_rudeness")
    assert result.status is ComplianceStatus.FAILED
    assert [(e.segment_index, e.speaker, e.begin_ms, e.phrase) for e in result.evidence] == [
        (1, A, 4_000, "not my problem")
    ]


def test_same_phrase_by_customer_passes():
    analysis = analyze_transcript(
        transcript(("CUSTOMER", 1, "Oh shut up, that's not my problem!"), ("AGENT", 4, "I understand.")),
        only(compliance=[PROHIBITED]),
    )
    assert result_of(analysis, "no_rudeness").status is ComplianceStatus.PASSED


# --- categories --------------------------------------------------------------------------------


def names(analysis) -> set[str]:
    return {c.name for c in analysis.categories}


def test_default_categories_respect_speaker():
    rules = AnalyticsRules.default()
    customer = analyze_transcript(transcript(("CUSTOMER", 1, "I want to cancel my account, this is ridiculous.")), rules)
    assert {"cancellation_risk", "complaint"} <= names(customer)
    agent = analyze_transcript(transcript(("AGENT", 1, "Do you want to cancel my account offer? Ridiculous.")), rules)
    assert not {"cancellation_risk", "complaint"} & names(agent)


def test_default_categories_cover_legal_escalation_payment():
    rules = AnalyticsRules.default()
    analysis = analyze_transcript(
        transcript(
            ("CUSTOMER", 1, "I was charged twice."),
            ("CUSTOMER", 4, "I want to speak to a manager."),
            ("CUSTOMER", 8, "Otherwise my lawyer will hear about it."),
        ),
        rules,
    )
    assert {"payment_issue", "escalation_request", "legal_threat"} <= names(analysis)
    legal = next(c for c in analysis.categories if c.name == "legal_threat")
    assert [(e.segment_index, e.phrase) for e in legal.evidence] == [(2, "lawyer")]


@pytest.mark.parametrize("said", ["You charged me twice for the same order.", "They billed us twice.",
                                  "Somebody charged my card twice", "I've been double billed again"])
def test_being_charged_twice_is_a_payment_issue_however_it_is_said(said):
    analysis = analyze_transcript(transcript(("CUSTOMER", 1, said)), AnalyticsRules.default())
    assert "payment_issue" in names(analysis), said


def test_absent_phrases_veto_the_category():
    rules = AnalyticsRules.default()
    analysis = analyze_transcript(
        transcript(
            ("CUSTOMER", 1, "I was going to cancel my account."),
            ("CUSTOMER", 5, "But I don't want to cancel if you fix it."),
        ),
        rules,
    )
    assert "cancellation_risk" not in names(analysis)


EARLY_COMPLAINT = CategoryRule(
    name="early_complaint",
    matchers=[PhraseMatcher(phrases=["not happy", "ridiculous"], speaker=Speaker.CUSTOMER, to_ms=60_000)],
)


@pytest.mark.parametrize("said_at, tagged", [(30, True), (60, True), (90, False)])
def test_time_window(said_at: int, tagged: bool):
    analysis = analyze_transcript(
        transcript(("CUSTOMER", said_at, "This is ridiculous.")), only(categories=[EARLY_COMPLAINT])
    )
    assert ("early_complaint" in names(analysis)) is tagged


def test_window_from_connection_and_lower_bound():
    late = CategoryRule(name="late_thanks", matchers=[PhraseMatcher(phrases=["thank you"], from_ms=60_000)])
    rules = only(categories=[late])
    assert "late_thanks" not in names(analyze_transcript(transcript(("CUSTOMER", 30, "thank you")), rules))
    assert "late_thanks" in names(analyze_transcript(transcript(("CUSTOMER", 70, "thank you")), rules))
    shifted = transcript(("CUSTOMER", 70, "thank you"), connected_at_ms=20_000)  # 50 s after connection
    assert "late_thanks" not in names(analyze_transcript(shifted, rules))


def test_all_versus_any():
    matchers = [
        PhraseMatcher(phrases=["refund"], speaker=Speaker.CUSTOMER),
        PhraseMatcher(phrases=["processed", "approved"], speaker=Speaker.AGENT),
    ]
    both = CategoryRule(name="refund_granted", match="all", matchers=matchers)
    either = CategoryRule(name="refund_talk", match="any", matchers=matchers)
    rules = only(categories=[both, either])
    asked = analyze_transcript(transcript(("CUSTOMER", 1, "I need a refund.")), rules)
    assert names(asked) == {"refund_talk"}
    granted = analyze_transcript(
        transcript(("CUSTOMER", 1, "I need a refund."), ("AGENT", 4, "Your refund is approved.")), rules
    )
    assert names(granted) == {"refund_granted", "refund_talk"}
    evidence = next(c for c in granted.categories if c.name == "refund_granted").evidence
    assert [(e.segment_index, e.phrase) for e in evidence] == [(0, "refund"), (1, "approved")]


def test_phrases_match_whole_words_across_case_and_punctuation():
    rule = CategoryRule(name="cancel", matchers=[PhraseMatcher(phrases=["Cancel my account"])])
    rules = only(categories=[rule])
    assert names(analyze_transcript(transcript(("CUSTOMER", 1, "CANCEL, my account!")), rules)) == {"cancel"}
    assert names(analyze_transcript(transcript(("CUSTOMER", 1, "cancellation of my account")), rules)) == set()
    assert names(analyze_transcript(transcript(("CUSTOMER", 1, "cancel my"), ("CUSTOMER", 3, "account")), rules)) == set()


def test_rules_load_from_json():
    doc = {
        "categories": [
            {
                "name": "competitor_mention",
                "match": "any",
                "matchers": [{"phrases": ["acme telecom", "globex"], "speaker": "CUSTOMER", "to_ms": 120000}],
                "absent": [{"phrases": ["never heard of"]}],
            }
        ],
        "compliance": [
            {"kind": "required_disclosure", "name": "recording", "phrases": ["this call is recorded"], "within_ms": 10000},
            {"kind": "prohibited_phrase", "name": "promises", "phrases": ["i promise"], "speaker": None},
        ],
        "qa": {"items": [{"name": "compliance", "kind": "compliance", "weight": 1}]},
    }
    rules = AnalyticsRules.model_validate_json(json.dumps(doc))
    analysis = analyze_transcript(
        transcript(("AGENT", 2, "This call is recorded."), ("CUSTOMER", 5, "Globex offered me a better deal, I promise.")),
        rules,
    )
    assert names(analysis) == {"competitor_mention"}
    assert [(r.rule, r.status) for r in analysis.compliance] == [
        ("recording", ComplianceStatus.PASSED),
        ("promises", ComplianceStatus.FAILED),
    ]
    # round trip
    assert AnalyticsRules.model_validate_json(rules.model_dump_json()) == rules


@pytest.mark.parametrize(
    "doc",
    [
        {"categories": [{"name": "x", "matchers": [{"phrases": ["  ...  "]}]}]},
        {"categories": [{"name": "x", "matchers": []}]},
        {"categories": [{"name": "x", "matchers": [{"phrases": ["a"], "from_ms": 5, "to_ms": 1}]}]},
        {"compliance": [{"kind": "nonsense", "name": "x", "phrases": ["a"]}]},
        {"categories": [{"name": "x", "matchers": [{"phrases": ["a"]}]}, {"name": "x", "matchers": [{"phrases": ["b"]}]}]},
        {"qa": {"items": [{"name": "q", "kind": "category", "target": "no_such_category", "weight": -5}]}},
        {"qa": {"items": [{"name": "q", "kind": "non_talk_share", "weight": -5}]}},
        {"surprise": True},
    ],
)
def test_invalid_rules_are_rejected_on_load(doc: dict):
    with pytest.raises(ValidationError):
        AnalyticsRules.model_validate(doc)


# --- contact reason ------------------------------------------------------------------------------


def reason(*turns, rules: AnalyticsRules | None = None) -> str:
    return analyze_transcript(transcript(*turns), rules or AnalyticsRules.default()).reason.reason


def test_default_reasons():
    assert reason(("CUSTOMER", 1, "My bill has a charge I don't recognise.")) == "billing"
    assert reason(("CUSTOMER", 1, "My internet is not working and the router keeps blinking.")) == "technical_support"
    assert reason(("CUSTOMER", 1, "I'd like to cancel, please close my account.")) == "cancellation"
    assert reason(("CUSTOMER", 1, "I'm thinking of an upgrade, can you give me a quote?")) == "sales"
    assert reason(("CUSTOMER", 1, "I'm locked out, my password doesn't work.")) == "account_access"
    assert reason(("CUSTOMER", 1, "My package hasn't arrived and tracking shows nothing.")) == "delivery"
    assert reason(("CUSTOMER", 1, "Hi, just a general question.")) == "other"


def test_customer_words_count_more_than_agent_words():
    analysis = analyze_transcript(
        transcript(("AGENT", 1, "Is it about your bill or the invoice?"), ("CUSTOMER", 4, "No, my password.")),
        AnalyticsRules.default(),
    )
    # agent: (bill 2 + invoice 2) x 0.5 = 2.0; customer: password 3
    assert analysis.reason.scores == {"billing": 2.0, "account_access": 3.0}
    assert analysis.reason.reason == "account_access"
    assert analysis.reason.keywords == ["password"]


def test_tenant_extends_reasons_and_categories():
    rules = AnalyticsRules.default().extend(
        reasons=[
            ReasonRule(reason="insurance_claim", keywords={"claim": 3, "accident": 2}),
            ReasonRule(reason="billing", keywords={"premium": 3}),  # replaces our billing rule
        ],
        categories=[CategoryRule(name="complaint", matchers=[PhraseMatcher(phrases=["appalling"])])],
    )
    assert reason(("CUSTOMER", 1, "I had an accident and want to make a claim."), rules=rules) == "insurance_claim"
    assert reason(("CUSTOMER", 1, "Why did my premium go up?"), rules=rules) == "billing"
    assert reason(("CUSTOMER", 1, "Why is my bill so high?"), rules=rules) == "other"  # old billing keywords gone
    analysis = analyze_transcript(transcript(("CUSTOMER", 1, "This is ridiculous and appalling.")), rules)
    complaint = next(c for c in analysis.categories if c.name == "complaint")
    assert [e.phrase for e in complaint.evidence] == ["appalling"]
    assert {c.name for c in rules.categories} >= {"cancellation_risk", "legal_threat", "complaint"}
