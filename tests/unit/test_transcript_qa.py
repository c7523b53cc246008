"""The legacy QA rubric (qa.py, still accepted in stored settings but no longer scoring contacts) on
hand-computed fixtures, the `qa` field the analysis keeps (now the evaluation form's score), and the
whole analysis of the fixture transcripts. Evaluation forms themselves: test_evaluation_forms.py.

segments_conversation.json under the default rules (see test_transcript_conversation for timings):
- compliance: recording notice said by the agent at 0 s (passed), prohibited language not said
  (passed), mini-Miranda not applicable -> 2/2 -> 40 of 40 points
- customer last-quarter sentiment: "I am not happy at all." = not x happy = 3 x -0.74 = -2.22,
  normalised 5 x -2.22 / sqrt(2.22^2 + 15) = -2.486 -> below bad_at -2 -> 0 of 20
- customer trend: first quarter 0 ("I am calling about the bill I got.") -> -2.486 -> 0 of 10
- non-talk share 14 s of 40 s = 0.35 >= bad_at 0.25 -> 0 of 15
- agent interruptions 1: (1 - 5) / (0 - 5) = 0.8 -> 12 of 15
- complaint matched ("not happy" by the customer): -10
score 40 + 12 - 10 = 42
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import (
    AnalyticsRules,
    ComplianceStatus,
    QAItem,
    QARubric,
    analyze_transcript,
    parse_chat_messages,
    parse_segments,
    score_contact,
)
from ccaas.domain.analytics.rules import default_compliance

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"


def conversation_fixture():
    doc = json.loads((FIXTURES / "segments_conversation.json").read_text())
    return parse_segments(doc["segments"], doc["contact_id"])


def old_rules() -> AnalyticsRules:
    """The default rules with the three compliance rules these fixtures were computed against."""
    names = ("recording_disclosure", "mini_miranda", "prohibited_language")
    return AnalyticsRules(compliance=[r for r in default_compliance() if r.name in names])


def rubric_score(analysis, rubric: QARubric | None = None):
    return score_contact(rubric or QARubric.default(), analysis.compliance, analysis.categories, analysis.sentiment,
                         analysis.conversation)


def items(score) -> dict[str, tuple[bool, float | None, float]]:
    return {i.name: (i.applicable, i.fraction, i.points) for i in score.items}


def test_default_rubric_on_the_conversation_fixture():
    analysis = analyze_transcript(conversation_fixture(), old_rules())
    assert analysis.sentiment.customer.last_quarter == pytest.approx(-2.486)
    assert analysis.sentiment.customer.trend == pytest.approx(-2.486)
    score = rubric_score(analysis)
    assert items(score) == {
        "compliance": (True, 1.0, 40.0),
        "customer_end_sentiment": (True, 0.0, 0.0),
        "customer_sentiment_trend": (True, 0.0, 0.0),
        "non_talk": (True, 0.0, 0.0),
        "agent_interruptions": (True, 0.8, 12.0),
        "complaint": (True, 1.0, -10.0),
        "legal_threat": (True, 0.0, 0.0),
        "escalation_request": (True, 0.0, 0.0),
    }
    assert score.score == 42.0
    # the analysis' own QA score is now the evaluation form's (test_evaluation_forms has its arithmetic)
    assert analysis.qa.score == analysis.evaluation.score == 57.5 and analysis.qa.items == []
    details = {i.name: i.detail for i in score.items}
    assert details["compliance"] == "2/2 passed"
    assert details["agent_interruptions"] == "1 interruption(s) by agent"
    assert details["non_talk"] == "35.0% of the contact in silences >= 5 s"


def test_custom_rubric_scales_linearly_and_rewards_categories():
    rubric = QARubric(
        items=[
            QAItem(name="compliance", kind="compliance", weight=30),
            QAItem(name="end", kind="sentiment_end", weight=20, good_at=0, bad_at=-5),
            QAItem(name="silence", kind="non_talk_share", weight=25, good_at=0.1, bad_at=0.5),
            QAItem(name="customer_interrupts", kind="interruptions", speaker="CUSTOMER", weight=25, good_at=0, bad_at=4),
            QAItem(name="payment_handled", kind="category", target="payment_issue", weight=10),
            QAItem(name="complaint", kind="category", target="complaint", weight=-5),
        ]
    )
    rules = old_rules().extend(qa=rubric)  # still accepted (stored settings from before forms)
    analysis = analyze_transcript(conversation_fixture(), rules)
    score = rubric_score(analysis, rubric)
    assert analysis.qa.score == 57.5  # ...but the form scores the contact, not the rubric
    # positive weights 110: 30 x 1, 20 x (-2.486 + 5) / 5, 25 x (0.35 - 0.5) / (0.1 - 0.5), 25 x 0.75, 10 x 0
    expected = {
        "compliance": 100 * 30 / 110,
        "end": 100 * 20 * 0.5028 / 110,
        "silence": 100 * 25 * 0.375 / 110,
        "customer_interrupts": 100 * 25 * 0.75 / 110,
        "payment_handled": 0.0,
        "complaint": -5.0,
    }
    got = {name: points for name, (_, _, points) in items(score).items()}
    assert got == pytest.approx({k: round(v, 2) for k, v in expected.items()}, abs=0.006)
    assert score.score == round(sum(expected.values()), 1) == 57.0


def test_items_that_cannot_be_measured_share_their_points():
    chat = parse_chat_messages(json.loads((FIXTURES / "chat_messages.json").read_text()), "chat-1")
    analysis = analyze_transcript(chat, old_rules())
    assert analysis.conversation is None
    recording = next(r for r in analysis.compliance if r.rule == "recording_disclosure")
    assert recording.status is ComplianceStatus.NOT_APPLICABLE  # voice-only rule
    score = rubric_score(analysis)
    got = items(score)
    assert got["non_talk"] == (False, None, 0.0)
    assert got["agent_interruptions"] == (False, None, 0.0)
    assert got["customer_sentiment_trend"] == (False, None, 0.0)  # no customer message in the first quarter
    # compliance (40) and end sentiment (20) share 100 points: 66.67 + 33.33
    assert got["compliance"] == (True, 1.0, pytest.approx(66.67))
    assert got["customer_end_sentiment"] == (True, 1.0, pytest.approx(33.33))
    assert score.score == 100.0
    assert analysis.reason.reason == "delivery"


def test_score_is_clamped_at_zero():
    transcript = parse_segments(
        [
            {"speaker": "AGENT", "begin_ms": 40_000, "end_ms": 42_000, "text": "shut up"},
            {"speaker": "CUSTOMER", "begin_ms": 41_000, "end_ms": 60_000,
             "text": "This is ridiculous, I want to speak to a manager and my lawyer will sue you."},
        ],
        "bad",
    )  # fmt: skip
    analysis = analyze_transcript(transcript, old_rules())
    score = rubric_score(analysis)
    assert score.score == 0.0
    assert sum(i.points for i in score.items) < 0
    # the form fails the contact outright: prohibited language is an automatic-fail question
    assert analysis.qa.score == 0.0 and analysis.qa.auto_failed and analysis.evaluation.auto_failed


@pytest.mark.parametrize(
    "item",
    [
        {"name": "x", "kind": "sentiment_end", "weight": 0},
        {"name": "x", "kind": "sentiment_end", "weight": 10, "good_at": 1, "bad_at": 1},
        {"name": "x", "kind": "category", "weight": 10},
        {"name": "x", "kind": "interruptions", "weight": -10},
    ],
)
def test_invalid_rubric_items(item: dict):
    with pytest.raises(ValidationError):
        QAItem.model_validate(item)


def test_whole_analysis_of_contact_lens_fixture():
    from ccaas.domain.analytics import parse_contact_lens

    transcript = parse_contact_lens(json.loads((FIXTURES / "contact_lens.json").read_text()))
    analysis = analyze_transcript(transcript, AnalyticsRules.default())
    assert analysis.contact_id == "cl-0001"
    assert [s.sentiment > 0 for s in analysis.segments] == [True, False, False, True]
    assert analysis.segments[1].sentiment < 0
    assert analysis.sentiment.customer.trend is not None and analysis.sentiment.customer.trend > 0
    assert {c.name for c in analysis.categories} == {"complaint"}
    assert analysis.reason.reason == "technical_support"
    assert all(r.passed for r in analysis.compliance)
    assert 0 <= analysis.qa.score <= 100
    # JSON round trip of the result model
    from ccaas.domain.analytics import TranscriptAnalysis

    assert TranscriptAnalysis.model_validate_json(analysis.model_dump_json()) == analysis


def test_stored_settings_with_a_rubric_still_load_and_keep_it_but_the_form_scores():
    stored = old_rules().model_dump(mode="json")
    stored.pop("form")
    stored["qa"] = {"items": [{"name": "compliance", "kind": "compliance", "weight": 1}]}
    rules = AnalyticsRules.model_validate(stored)
    assert rules.qa is not None and rules.qa.items[0].name == "compliance"
    assert rules.form is None and rules.evaluation_form.sections[0].title == "Compliance"
    assert analyze_transcript(conversation_fixture(), rules).qa.score == 57.5
    # a legacy item pointing at a rule that does not exist is still refused
    stored["qa"] = {"items": [{"name": "c", "kind": "compliance", "target": "nope", "weight": 1}]}
    with pytest.raises(ValidationError, match="unknown compliance rule 'nope'"):
        AnalyticsRules.model_validate(stored)
