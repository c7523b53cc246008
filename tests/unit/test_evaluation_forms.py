"""Evaluation forms (domain/analytics/forms.py): automatic answers with their transcript evidence,
weights and sections, automatic-fail questions, N/A, overrides, and forms that cannot be evaluated
refused by the path of the offending key.

The conversation fixture under the default form (see test_transcript_conversation for its timings):
- Compliance (40): recording notice by the agent at 0 s -> yes; mini-Miranda trigger never said -> N/A;
  no prohibited language -> yes: 2/2 -> 100
- Customer experience (30): end sentiment -2.486 on a 1..5 scale from -2 (1) to +1 (5) -> 1 -> 0 of
  weight 2; trend -2.486 < 0 -> no: 0 of 1 -> 0
- Conversation (15): non-talk 35% > 10% -> no; agent interrupted once <= 2 -> yes -> 50
- Outcome (15): complaint matched -> no; no escalation, no legal threat -> yes, yes -> 66.67
overall (40 x 100 + 30 x 0 + 15 x 50 + 15 x 66.67) / 100 = 57.5
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ccaas.domain.analytics import (
    AnalyticsRules,
    ProhibitedPhrase,
    QARubric,
    analyze_transcript,
    parse_chat_messages,
    parse_segments,
    score_contact,
)
from ccaas.domain.analytics.rules import default_compliance
from ccaas.domain.analytics.forms import (
    MAX_SECTIONS,
    AutomaticAnswer,
    CategoryAutomation,
    ChoiceOption,
    ConversationAutomation,
    EvaluationForm,
    Override,
    Question,
    RuleAutomation,
    Section,
    SentimentAutomation,
    default_form,
    rescore,
    score_form,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"
THREATS = ProhibitedPhrase(name="fdcpa_threats", phrases=["you will be arrested", "we will have you arrested", "send the police"])


def conversation():
    doc = json.loads((FIXTURES / "segments_conversation.json").read_text())
    return parse_segments(doc["segments"], doc["contact_id"])


def answers(evaluation) -> dict[str, object]:
    return {q.id: q.answer for s in evaluation.sections for q in s.questions}


def question(evaluation, question_id: str):
    return next(q for s in evaluation.sections for q in s.questions if q.id == question_id)


def good_call(*agent_lines: str) -> list[dict]:
    """A polite, compliant voice call; `agent_lines` are said by the agent in the middle."""
    segments = [
        {"speaker": "AGENT", "begin_ms": 0, "end_ms": 3_000, "text": "Hello, this call may be recorded for quality."},
        {"speaker": "CUSTOMER", "begin_ms": 3_500, "end_ms": 6_000, "text": "Hi, I have a question about my bill."},
    ]
    at = 6_500
    for line in agent_lines:
        segments.append({"speaker": "AGENT", "begin_ms": at, "end_ms": at + 2_500, "text": line})
        at += 3_000
    segments += [
        {"speaker": "AGENT", "begin_ms": at, "end_ms": at + 2_500, "text": "I have fixed the bill for you."},
        {"speaker": "CUSTOMER", "begin_ms": at + 3_000, "end_ms": at + 5_000, "text": "Great, thank you so much, that is perfect."},
    ]
    return segments


# --- the default form -------------------------------------------------------------------------------
OLD_RULES = ("recording_disclosure", "mini_miranda", "prohibited_language")


def old_rules() -> AnalyticsRules:
    """The default rules with the compliance rules the default form was first written against."""
    return AnalyticsRules(compliance=[r for r in default_compliance() if r.name in OLD_RULES])


def test_default_form_on_the_conversation_fixture_with_evidence_offsets():
    analysis = analyze_transcript(conversation(), old_rules())
    evaluation = analysis.evaluation
    assert answers(evaluation) == {
        "recording_disclosure": "yes", "mini_miranda": "na", "no_prohibited_language": "yes",
        "customer_end_sentiment": 1, "customer_sentiment_trend": "no",
        "non_talk": "no", "agent_interruptions": "yes",
        "no_complaint": "no", "no_escalation": "yes", "no_legal_threat": "yes",
    }  # fmt: skip
    assert [(s.title, s.score) for s in evaluation.sections] == [
        ("Compliance", 100.0), ("Customer experience", 0.0), ("Conversation", 50.0), ("Outcome", 66.7),
    ]
    assert evaluation.score == 57.5 and not evaluation.auto_failed
    assert (evaluation.answered, evaluation.unanswered, evaluation.overridden) == (9, 0, 0)
    # no threats rule in these rules: the default form leaves that question out rather than never answer it
    assert evaluation.form.question("no_threats") is None

    recording = question(evaluation, "recording_disclosure").automatic
    assert [(e.segment_index, e.begin_ms, e.phrase) for e in recording.evidence] == [(0, 0, "this call may be recorded")]
    assert recording.evidence[0].snippet == "Hello and welcome, this call may be recorded for quality."
    complaint = question(evaluation, "no_complaint").automatic
    assert complaint.detail == "complaint matched"
    assert [(e.segment_index, e.speaker, e.begin_ms, e.phrase) for e in complaint.evidence] == [(6, "CUSTOMER", 37_000, "not happy")]
    end = question(evaluation, "customer_end_sentiment").automatic
    assert end.detail == "customer end sentiment -2.49" and [e.segment_index for e in end.evidence] == [6]
    silence = question(evaluation, "non_talk").automatic
    assert [(e.begin_ms, e.phrase) for e in silence.evidence] == [(12_000, "silence 8 s"), (31_000, "silence 6 s")]
    interruption = question(evaluation, "agent_interruptions").automatic
    assert [(e.segment_index, e.begin_ms) for e in interruption.evidence] == [(4, 25_000)]
    # the analysis' QA score is the evaluation's
    assert analysis.qa.score == 57.5 and analysis.qa.auto_failed is False


def test_a_threat_fails_the_whole_evaluation_where_the_rubric_still_gave_85():
    # the rules of before (three compliance rules) plus a threats rule
    before = [r for r in default_compliance() if r.name in OLD_RULES]
    rules = AnalyticsRules(compliance=[*before, THREATS])
    transcript = parse_segments(good_call("If you do not pay today you will be arrested."), "threat")
    analysis = analyze_transcript(transcript, rules)
    evaluation = analysis.evaluation
    threat = question(evaluation, "no_threats")
    assert threat.answer == "no" and threat.failed and threat.auto_fail
    assert [(e.segment_index, e.begin_ms, e.phrase) for e in threat.automatic.evidence] == [(2, 6_500, "you will be arrested")]
    assert evaluation.auto_failed and evaluation.score == 0.0 and analysis.qa.score == 0.0
    assert evaluation.auto_fail_reasons == ["no_threats: Did the agent avoid threats (arrest, legal action, violence)?"]
    # the sections still say how the rest went
    assert [s.score for s in evaluation.sections][1:] == [100.0, 100.0, 100.0]
    # the old rubric: a failed rule cost 40/N points
    old = score_contact(QARubric.default(), analysis.compliance, analysis.categories, analysis.sentiment, analysis.conversation)
    assert old.score >= 85

    clean = analyze_transcript(parse_segments(good_call("Let me look at that."), "clean"), rules).evaluation
    assert not clean.auto_failed and clean.score == 100.0 and question(clean, "no_threats").answer == "yes"


def test_prohibited_language_is_an_automatic_fail_of_the_default_form():
    analysis = analyze_transcript(parse_segments(good_call("Honestly, that is not my problem."), "rude"), old_rules())
    assert analysis.evaluation.auto_failed and analysis.evaluation.score == 0.0
    assert question(analysis.evaluation, "no_prohibited_language").automatic.evidence[0].phrase == "not my problem"


def test_a_chat_answers_timing_questions_na_and_a_voice_only_rule_na():
    chat = parse_chat_messages(json.loads((FIXTURES / "chat_messages.json").read_text()), "chat-1")
    evaluation = analyze_transcript(chat, old_rules()).evaluation
    got = answers(evaluation)
    assert got["non_talk"] == got["agent_interruptions"] == got["recording_disclosure"] == "na"
    assert got["customer_sentiment_trend"] is None  # no customer message in the first quarter: left for a human
    assert [s.score for s in evaluation.sections if s.title == "Conversation"] == [None]  # out of the score
    assert evaluation.unanswered == 1


# --- scoring ----------------------------------------------------------------------------------------
def _scored_form() -> EvaluationForm:
    return EvaluationForm(name="Custom", version=3, sections=[
        Section(title="A", weight=3, questions=[
            Question(id="a1", text="yes/no", weight=1),
            Question(id="a2", text="scale", type="scale", min=0, max=4, weight=3),
        ]),
        Section(title="B", weight=1, questions=[
            Question(id="b1", text="choice", type="choice", weight=2, options=[
                ChoiceOption(value="great", points=10), ChoiceOption(value="ok", points=5), ChoiceOption(value="bad", points=0)]),
            Question(id="b2", text="na allowed", not_applicable_allowed=True),
            Question(id="b3", text="for a human"),
        ]),
    ])  # fmt: skip


def test_weights_sections_scales_and_choices():
    auto = {
        "a1": AutomaticAnswer(value="yes", detail=""),
        "a2": AutomaticAnswer(value=1, detail=""),
        "b1": AutomaticAnswer(value="ok", detail=""),
        "b2": AutomaticAnswer(value="na", detail=""),
    }
    result = score_form(_scored_form(), auto)
    # A: (1 x 1 + 3 x 0.25) / 4 = 43.75; B: b1 only (b2 N/A, b3 unanswered) = 50; (3 x 43.75 + 1 x 50) / 4
    assert [s.score for s in result.sections] == [43.8, 50.0]
    assert result.score == round((3 * 43.75 + 50) / 4, 1) == 45.3
    assert (result.answered, result.unanswered) == (3, 1)
    assert question(result, "b3").answer is None and question(result, "b2").fraction is None


def test_nothing_answered_scores_100_and_says_so():
    result = score_form(_scored_form(), {})
    assert result.score == 100.0 and result.answered == 0 and result.unanswered == 5


def test_an_automatic_fail_choice_and_an_override_that_clears_it():
    form = EvaluationForm(sections=[Section(title="S", questions=[
        Question(id="verify", text="Identity verified?", type="choice", auto_fail=True, options=[
            ChoiceOption(value="full", points=2), ChoiceOption(value="partial", points=1),
            ChoiceOption(value="none", points=0, fails=True)]),
        Question(id="greet", text="Greeted?"),
    ])])  # fmt: skip
    result = score_form(form, {"verify": AutomaticAnswer(value="none", detail=""), "greet": AutomaticAnswer(value="yes", detail="")})
    assert result.auto_failed and result.score == 0.0 and result.auto_fail_reasons == ["verify: Identity verified?"]
    override = Override(value="partial", comment="verified by date of birth", by="supervisor:k1", at=1)
    cleared = rescore(result, {"verify": override})
    assert not cleared.auto_failed and cleared.score == 75.0 and cleared.overridden == 1
    kept = question(cleared, "verify")
    assert kept.automatic.value == "none" and kept.override == override and kept.answer == "partial"
    # an override of a question the form does not have is ignored by the score (the store keeps it)
    assert rescore(result, {"gone": override}).score == 0.0


def test_override_checks_the_answer_against_the_question():
    form = _scored_form()
    assert form.question("a1").check(True) == "yes"
    assert form.question("a2").check(4) == 4
    for question_id, value, message in [
        ("a1", "maybe", "answered yes or no"), ("a2", 5, "integer 0..4"), ("a2", "3", "integer 0..4"),
        ("b1", "superb", "one of great, ok, bad"), ("a1", "na", "does not allow 'na'"),
    ]:
        with pytest.raises(ValueError, match=message):
            form.question(question_id).check(value)


def test_sentiment_and_conversation_scales():
    form = EvaluationForm(sections=[Section(title="S", questions=[
        Question(id="mood", text="?", type="scale", min=1, max=5,
                 automation=SentimentAutomation(measure="overall", good_at=2, bad_at=-2)),
        Question(id="quiet", text="?", type="scale", min=0, max=10,
                 automation=ConversationAutomation(measure="non_talk_share", good_at=0.0, bad_at=0.7)),
        Question(id="polite", text="?", automation=ConversationAutomation(measure="interruptions", speaker="CUSTOMER", threshold=0)),
    ])])  # fmt: skip
    analysis = analyze_transcript(conversation(), old_rules().extend(form=form))
    overall = analysis.sentiment.customer.overall
    got = answers(analysis.evaluation)
    assert got["mood"] == 1 + round(min(1, max(0, (overall + 2) / 4)) * 4)
    assert got["quiet"] == 5  # 35% of the way from 0.7 (0) to 0 (10)
    customer_interruptions = analysis.conversation.customer.interruptions
    assert got["polite"] == ("yes" if customer_interruptions == 0 else "no")


# --- validation -------------------------------------------------------------------------------------
def _with_form(form: dict) -> dict:
    return {"form": form}


def _question(**fields) -> dict:
    return {"id": "q", "text": "?", **fields}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"sections": [{"title": "A", "questions": [_question()]},
                       {"title": "B", "questions": [_question(id="r", automation={"source": "rule", "rule": "nope"})]}]},
         "form.sections[1].questions[0].automation.rule: unknown compliance rule 'nope'"),
        ({"sections": [{"title": "A", "questions": [_question(automation={"source": "category", "category": "gossip"})]}]},
         "form.sections[0].questions[0].automation.category: unknown category 'gossip'"),
    ],
)
def test_automation_pointing_at_unknown_rules_is_refused_by_path(form, expected):
    with pytest.raises(ValidationError) as raised:
        AnalyticsRules.model_validate(_with_form(form))
    assert expected in str(raised.value)
    assert raised.value.errors()[0]["loc"][0] == "form"


@pytest.mark.parametrize(
    ("form", "loc", "message"),
    [
        ({"sections": [{"title": "A", "questions": [_question(), _question()]}]}, (), "unique across the form: q"),
        ({"sections": [{"title": "A", "questions": [_question(type="scale", auto_fail=True)]}]},
         ("sections", 0, "questions", 0), "auto_fail applies to yes_no"),
        ({"sections": [{"title": "A", "questions": [_question(type="scale", automation={"source": "rule", "rule": "x"})]}]},
         ("sections", 0, "questions", 0), "rule automation answers yes_no questions only"),
        ({"sections": [{"title": "A", "questions": [_question(type="choice", options=[{"value": "a", "points": 1}])]}]},
         ("sections", 0, "questions", 0), "at least 2 options"),
        ({"sections": [{"title": "A", "questions": [_question(type="scale", min=3, max=3)]}]},
         ("sections", 0, "questions", 0), "min < max"),
        ({"sections": [{"title": "A", "questions": [_question(weight=0)]}]}, ("sections", 0, "questions", 0, "weight"), "greater than 0"),
        ({"sections": [{"title": "A", "questions": [_question(automation={"source": "sentiment", "threshold": float("inf")})]}]},
         ("sections", 0, "questions", 0, "automation", "sentiment", "threshold"), "finite"),
        ({"sections": [{"title": f"S{i}", "questions": [_question(id=f"q{i}")]} for i in range(MAX_SECTIONS + 1)]},
         ("sections",), "at most 20"),
        ({"sections": []}, ("sections",), "at least 1"),
    ],
)
def test_forms_that_cannot_be_evaluated_are_refused_naming_the_key(form, loc, message):
    with pytest.raises(ValidationError) as raised:
        EvaluationForm.model_validate(form)
    error = raised.value.errors()[0]
    assert tuple(error["loc"]) == loc and message in error["msg"]


def test_default_form_keeps_only_questions_whose_rules_exist():
    assert default_form().question("no_threats").automation.rule == "fdcpa_threats"
    with_threats = AnalyticsRules(compliance=[*old_rules().compliance, THREATS])
    assert with_threats.evaluation_form.question("no_threats") is not None
    form = default_form(rules={"prohibited_language"}, categories=set())
    assert [s.title for s in form.sections] == ["Compliance", "Customer experience", "Conversation"]
    assert [q.id for q in form.sections[0].questions] == ["no_prohibited_language"]
    rules = AnalyticsRules.model_validate({"categories": [], "compliance": []})
    assert rules.form is None and rules.evaluation_form.question("no_complaint") is None


def test_a_tenant_form_round_trips_through_the_stored_settings():
    form = EvaluationForm(name="Collections", version=2, sections=[Section(title="Must", questions=[
        Question(id="miranda", text="Mini-Miranda?", auto_fail=True, automation=RuleAutomation(rule="mini_miranda"),
                 not_applicable_allowed=True),
        Question(id="calm", text="No complaint?", automation=CategoryAutomation(category="complaint", when_matched="no")),
    ])])  # fmt: skip
    rules = AnalyticsRules.default().extend(form=form)
    again = AnalyticsRules.model_validate(json.loads(json.dumps(rules.model_dump(mode="json"))))
    assert again == rules and again.evaluation_form == form
