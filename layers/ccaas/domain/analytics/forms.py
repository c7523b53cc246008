"""Evaluation forms (pure): tenant-defined QA forms, answered automatically from the analysis, with
automatic-fail questions and supervisor overrides kept beside the automatic answers.

A form has sections (title, weight), each with weighted questions of one type:
- `yes_no`: "yes" earns the question's weight, "no" earns nothing;
- `scale`: an integer in min..max earns (value - min) / (max - min) of it;
- `choice`: one of `options`, earning option.points / the best option's points of it.
A question may allow "na" (`not_applicable_allowed`): answered N/A, it is left out of the score.

Automatic answers (`automation`) come from the analysis and cite the transcript:
- `rule`: a compliance rule's result: PASSED -> yes, FAILED -> no, NOT_APPLICABLE -> "na" (or left for
  a human when the question does not allow N/A); evidence = the rule's evidence;
- `category`: matched -> `when_matched` ("yes" or "no"), not matched -> the other; evidence = the match's;
- `sentiment`: a speaker's `end` (last-quarter), `trend` or `overall` sentiment; yes_no: yes when the
  value is at least `threshold`; scale: linear from `bad_at` (min) to `good_at` (max); evidence = the
  speaker's most negative segment in the measured span;
- `conversation`: the share of non-talk (`non_talk_share`) or a speaker's `interruptions`; yes_no: yes
  when the value is at most `threshold`; scale as above; evidence = the longest silence / the first
  interruptions.
A measure the contact does not have (no customer speech, a chat has no silences) leaves the question
unanswered, as does a question without automation: a human answers it (override).

Scoring rule: a section's score is the weighted mean (0-100) of its answered questions (not N/A, not
unanswered); the overall score is the weighted mean of the sections that have a score; with no answered
question at all the score is 100 (nothing counted against the agent) and `answered` says 0: no score, so
the contact stays out of QA KPIs, search and rankings (history.AnalysisSummary.scored). A failing
answer (yes_no "no", or a choice option with `fails`) to an `auto_fail` question makes the whole
evaluation 0 with `auto_failed` and the reasons. An override wins over the automatic answer; both are
kept, the override with who and when.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Bool, Float, Int

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .conversation import ConversationCharacteristics
from .rules import CategoryMatch, ComplianceResult, ComplianceStatus
from .rules import Evidence as RuleEvidence
from .sentiment import SentimentSummary
from .transcript import Speaker

# Limits (a form is part of the tenant's analytics rules document and is copied into every evaluation).
MAX_FORM_NAME = 100
MAX_SECTIONS = 20
MAX_QUESTIONS = 50  # per section
MAX_FORM_QUESTIONS = 150  # in the whole form
MAX_QUESTION_TEXT = 300
MAX_OPTIONS = 10
MAX_FORM_WEIGHT = 1_000.0
MAX_SCALE = 100  # |min|, |max| of a scale question
MAX_MEASURE = 1_000.0  # |threshold|, |good_at|, |bad_at|
MAX_FORM_CHARS = 60_000  # the form as compact JSON (it is copied into every evaluation)
MAX_COMMENT = 1_000
MAX_EVIDENCE = 5  # per answer
MAX_SNIPPET = 160

QuestionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
RuleName = Annotated[str, Field(min_length=1, max_length=64)]
Weight = Annotated[Float, Field(gt=0, le=MAX_FORM_WEIGHT, allow_inf_nan=False)]
Measure = Annotated[Float, Field(ge=-MAX_MEASURE, le=MAX_MEASURE, allow_inf_nan=False)]
AnswerValue = bool | int | str  # yes_no: "yes"/"no"; scale: an int; choice: an option's value; "na"
NA = "na"

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# --- the form ---------------------------------------------------------------------------------------
class RuleAutomation(BaseModel):
    model_config = _FROZEN
    source: Literal["rule"] = "rule"
    rule: RuleName


class CategoryAutomation(BaseModel):
    model_config = _FROZEN
    source: Literal["category"] = "category"
    category: RuleName
    when_matched: Literal["yes", "no"] = "yes"  # the answer when the category matched (polarity)


class SentimentAutomation(BaseModel):
    model_config = _FROZEN
    source: Literal["sentiment"] = "sentiment"
    speaker: Speaker = Speaker.CUSTOMER
    measure: Literal["end", "trend", "overall"] = "end"
    threshold: Measure = 0.0  # yes_no: yes when the sentiment is at least this
    good_at: Measure = 2.0  # scale: max at or above this
    bad_at: Measure = -2.0  # scale: min at or below this


class ConversationAutomation(BaseModel):
    model_config = _FROZEN
    source: Literal["conversation"] = "conversation"
    measure: Literal["non_talk_share", "interruptions"]
    speaker: Speaker = Speaker.AGENT  # whose interruptions
    threshold: Measure | None = None  # yes_no: yes when the value is at most this (default 0.1 / 2)
    good_at: Measure | None = None  # scale: max at or below this (default 0.05 / 0)
    bad_at: Measure | None = None  # scale: min at or above this (default 0.25 / 5)

    def limits(self) -> tuple[float, float, float]:
        """(threshold, good_at, bad_at) with the measure's defaults."""
        defaults = (0.1, 0.05, 0.25) if self.measure == "non_talk_share" else (2.0, 0.0, 5.0)
        given = (self.threshold, self.good_at, self.bad_at)
        return tuple(d if g is None else g for g, d in zip(given, defaults))  # type: ignore[return-value]


Automation = Annotated[
    RuleAutomation | CategoryAutomation | SentimentAutomation | ConversationAutomation,
    Field(discriminator="source"),
]


class ChoiceOption(BaseModel):
    model_config = _FROZEN
    value: QuestionId
    points: Float = Field(ge=0, le=MAX_FORM_WEIGHT, allow_inf_nan=False)
    fails: Bool = False  # choosing it fails an auto_fail question


class Question(BaseModel):
    model_config = _FROZEN

    id: QuestionId
    text: str = Field(min_length=1, max_length=MAX_QUESTION_TEXT)
    type: Literal["yes_no", "scale", "choice"] = "yes_no"
    weight: Weight = 1.0
    min: Int = Field(default=1, ge=-MAX_SCALE, le=MAX_SCALE)  # scale only
    max: Int = Field(default=5, ge=-MAX_SCALE, le=MAX_SCALE)  # scale only
    options: list[ChoiceOption] = Field(default_factory=list, max_length=MAX_OPTIONS)  # choice only
    auto_fail: Bool = False
    not_applicable_allowed: Bool = False
    automation: Automation | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type == "scale" and self.min >= self.max:
            raise ValueError("a scale needs min < max")
        if self.type == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice question needs at least 2 options")
            values = [o.value for o in self.options]
            if len(values) != len(set(values)) or NA in values:
                raise ValueError(f"option values must be unique and not {NA!r}")
            if max(o.points for o in self.options) <= 0:
                raise ValueError("at least one option must earn points")
        elif self.options:
            raise ValueError("only choice questions have options")
        if self.auto_fail and self.type == "scale":
            raise ValueError("auto_fail applies to yes_no questions (answer no) and choice questions (an option that fails)")
        if self.auto_fail and self.type == "choice" and not any(o.fails for o in self.options):
            raise ValueError("an auto_fail choice question needs an option with fails: true")
        automation = self.automation
        if isinstance(automation, (RuleAutomation, CategoryAutomation)) and self.type != "yes_no":
            raise ValueError(f"{automation.source} automation answers yes_no questions only")
        if isinstance(automation, (SentimentAutomation, ConversationAutomation)) and self.type == "choice":
            raise ValueError(f"{automation.source} automation answers yes_no and scale questions only")
        return self

    def check(self, value: AnswerValue) -> AnswerValue:
        """The answer normalised, or ValueError saying what this question accepts."""
        if value == NA:
            if not self.not_applicable_allowed:
                raise ValueError(f"question {self.id} does not allow {NA!r}")
            return NA
        if self.type == "yes_no":
            if isinstance(value, bool):
                return "yes" if value else "no"
            if value in ("yes", "no"):
                return value
            raise ValueError(f"question {self.id} is answered yes or no")
        if self.type == "scale":
            if isinstance(value, int) and not isinstance(value, bool) and self.min <= value <= self.max:
                return value
            raise ValueError(f"question {self.id} is answered with an integer {self.min}..{self.max}")
        if isinstance(value, str) and any(o.value == value for o in self.options):
            return value
        raise ValueError(f"question {self.id} is answered with one of {', '.join(o.value for o in self.options)}")

    def fraction(self, value: AnswerValue) -> float | None:
        """The share of the weight an answer earns (None: N/A)."""
        if value == NA:
            return None
        if self.type == "yes_no":
            return 1.0 if value == "yes" else 0.0
        if self.type == "scale":
            return (int(value) - self.min) / (self.max - self.min)
        best = max(o.points for o in self.options)
        return next(o.points for o in self.options if o.value == value) / best

    def fails(self, value: AnswerValue) -> bool:
        if not self.auto_fail:
            return False
        if self.type == "yes_no":
            return value == "no"
        return any(o.value == value and o.fails for o in self.options)


class Section(BaseModel):
    model_config = _FROZEN

    title: str = Field(min_length=1, max_length=MAX_FORM_NAME)
    weight: Weight = 1.0
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)


class EvaluationForm(BaseModel):
    """A tenant's evaluation form. Question ids are unique across the form (overrides name them)."""

    model_config = _FROZEN

    name: str = Field(default="Default evaluation", min_length=1, max_length=MAX_FORM_NAME)
    version: Int = Field(default=1, ge=1, le=1_000_000)
    sections: list[Section] = Field(min_length=1, max_length=MAX_SECTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationForm:
        ids = [q.id for s in self.sections for q in s.questions]
        if len(ids) > MAX_FORM_QUESTIONS:
            raise ValueError(f"{len(ids)} questions (at most {MAX_FORM_QUESTIONS})")
        if len(ids) != len(set(ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"question ids must be unique across the form: {', '.join(duplicates)}")
        size = len(json.dumps(self.model_dump(mode="json"), separators=(",", ":")))
        if size > MAX_FORM_CHARS:
            raise ValueError(f"the form takes {size:,} characters as JSON (at most {MAX_FORM_CHARS:,})")
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for s in self.sections for q in s.questions if q.id == question_id), None)

    def unknown_references(self, rules: set[str], categories: set[str]) -> list[tuple[str, str]]:
        """(path, message) for every automation naming a rule or category that does not exist."""
        problems = []
        for si, section in enumerate(self.sections):
            for qi, question in enumerate(section.questions):
                automation, path = question.automation, f"form.sections[{si}].questions[{qi}].automation"
                if isinstance(automation, RuleAutomation) and automation.rule not in rules:
                    problems.append((f"{path}.rule", f"unknown compliance rule {automation.rule!r}"))
                if isinstance(automation, CategoryAutomation) and automation.category not in categories:
                    problems.append((f"{path}.category", f"unknown category {automation.category!r}"))
        return problems


def default_form(rules: set[str] | None = None, categories: set[str] | None = None) -> EvaluationForm:
    """The default form; given the names that exist, questions pointing at missing rules or categories
    (a tenant that switched them off) and then empty sections are left out."""
    sections = [
        Section(title="Compliance", weight=40, questions=[
            Question(id="recording_disclosure", text="Did the agent give the recording notice within 30 s?",
                     not_applicable_allowed=True, automation=RuleAutomation(rule="recording_disclosure")),
            Question(id="mini_miranda", text="Did the agent give the mini-Miranda before discussing the debt?",
                     not_applicable_allowed=True, automation=RuleAutomation(rule="mini_miranda")),
            Question(id="no_prohibited_language", text="Did the agent avoid prohibited language?", auto_fail=True,
                     automation=RuleAutomation(rule="prohibited_language")),
            Question(id="no_threats", text="Did the agent avoid threats (arrest, legal action, violence)?",
                     auto_fail=True, automation=RuleAutomation(rule="fdcpa_threats")),
            Question(id="no_false_representation", text="Did the agent avoid misrepresenting who they are?",
                     auto_fail=True, automation=RuleAutomation(rule="fdcpa_false_representation")),
            Question(id="no_profanity", text="Did the agent avoid obscene or profane language?", auto_fail=True,
                     not_applicable_allowed=True, automation=RuleAutomation(rule="fdcpa_profanity")),
            Question(id="automated_consent", text="On an automated call or message, was the opt-out offered in time?",
                     not_applicable_allowed=True, automation=RuleAutomation(rule="tcpa_automated_consent")),
            Question(id="no_card_read_back", text="Did the agent avoid reading card data back?",
                     auto_fail=True, not_applicable_allowed=True, automation=RuleAutomation(rule="pci_card_read_back")),
        ]),
        Section(title="Customer experience", weight=30, questions=[
            Question(id="customer_end_sentiment", text="How did the customer feel at the end?", type="scale",
                     min=1, max=5, weight=2, automation=SentimentAutomation(measure="end", good_at=1.0, bad_at=-2.0)),
            Question(id="customer_sentiment_trend", text="Did the customer's sentiment hold up or improve?",
                     automation=SentimentAutomation(measure="trend", threshold=0.0)),
        ]),
        Section(title="Conversation", weight=15, questions=[
            Question(id="non_talk", text="Was dead air under 10% of the contact?", not_applicable_allowed=True,
                     automation=ConversationAutomation(measure="non_talk_share", threshold=0.1)),
            Question(id="agent_interruptions", text="Did the agent interrupt the customer at most twice?",
                     not_applicable_allowed=True, automation=ConversationAutomation(measure="interruptions", threshold=2)),
        ]),
        Section(title="Outcome", weight=15, questions=[
            Question(id="no_complaint", text="Did the contact end without a complaint?",
                     automation=CategoryAutomation(category="complaint", when_matched="no")),
            Question(id="no_escalation", text="Was it resolved without asking for a manager?",
                     automation=CategoryAutomation(category="escalation_request", when_matched="no")),
            Question(id="no_legal_threat", text="Did the customer not threaten legal action?",
                     automation=CategoryAutomation(category="legal_threat", when_matched="no")),
        ]),
    ]  # fmt: skip
    if rules is not None or categories is not None:
        kept = []
        for section in sections:
            questions = [
                q for q in section.questions
                if not (isinstance(q.automation, RuleAutomation) and rules is not None and q.automation.rule not in rules)
                and not (isinstance(q.automation, CategoryAutomation) and categories is not None
                         and q.automation.category not in categories)
            ]
            if questions:
                kept.append(section.model_copy(update={"questions": questions}))
        sections = kept or [Section(title="Review", questions=[Question(id="overall", text="Overall, was the contact handled well?")])]
    return EvaluationForm(sections=sections)


# --- results ----------------------------------------------------------------------------------------
class AnswerEvidence(BaseModel):
    """Where in the (redacted) transcript an automatic answer comes from."""

    segment_index: int
    speaker: Speaker | None = None
    begin_ms: int
    phrase: str | None = None  # the rule phrase that matched
    snippet: str | None = None  # the redacted segment text, cut to MAX_SNIPPET characters


class AutomaticAnswer(BaseModel):
    value: AnswerValue
    detail: str
    evidence: list[AnswerEvidence] = Field(default_factory=list)


class Override(BaseModel):
    """A supervisor's answer, kept beside the automatic one."""

    value: AnswerValue
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)
    by: str
    at: int  # epoch ms


class QuestionResult(BaseModel):
    id: str
    text: str
    type: str
    weight: float
    auto_fail: bool
    automatic: AutomaticAnswer | None  # None: left for a human
    override: Override | None = None
    answer: AnswerValue | None  # the override's value, else the automatic one; None: unanswered
    fraction: float | None  # share of the weight earned; None: N/A or unanswered
    failed: bool = False  # an auto_fail question answered with its failing answer


class SectionResult(BaseModel):
    title: str
    weight: float
    score: float | None  # None: no answered question
    answered: int
    questions: list[QuestionResult]


class EvaluationResult(BaseModel):
    form: EvaluationForm  # the form as it was when the contact was scored (overrides re-score with it)
    score: float
    auto_failed: bool
    auto_fail_reasons: list[str]
    answered: int
    unanswered: int
    overridden: int
    sections: list[SectionResult]

    def automatic_answers(self) -> dict[str, AutomaticAnswer]:
        return {q.id: q.automatic for s in self.sections for q in s.questions if q.automatic is not None}

    def overrides(self) -> dict[str, Override]:
        return {q.id: q.override for s in self.sections for q in s.questions if q.override is not None}


# --- answering --------------------------------------------------------------------------------------
class ContactFacts:
    """What automation reads of one analysed contact."""

    def __init__(
        self,
        compliance: Sequence[ComplianceResult],
        categories: Sequence[CategoryMatch],
        sentiment: SentimentSummary,
        conversation: ConversationCharacteristics | None,
        speakers: Sequence[Speaker] = (),
        begins: Sequence[int] = (),
        scores: Sequence[float] = (),
        texts: Sequence[str] = (),
    ) -> None:
        self.compliance = {r.rule: r for r in compliance}
        self.categories = {c.name: c for c in categories}
        self.sentiment = sentiment
        self.conversation = conversation
        self.speakers, self.begins, self.scores, self.texts = speakers, begins, scores, texts

    def evidence_at(self, index: int, phrase: str | None = None) -> AnswerEvidence:
        snippet = None
        if index < len(self.texts) and self.texts[index]:
            text = self.texts[index]
            snippet = text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"
        speaker = self.speakers[index] if index < len(self.speakers) else None
        begin = self.begins[index] if index < len(self.begins) else 0
        return AnswerEvidence(segment_index=index, speaker=speaker, begin_ms=begin, phrase=phrase, snippet=snippet)

    def from_rules(self, evidence: Sequence[RuleEvidence]) -> list[AnswerEvidence]:
        out = []
        for e in evidence[:MAX_EVIDENCE]:
            found = self.evidence_at(e.segment_index, e.phrase)
            out.append(found.model_copy(update={"speaker": e.speaker, "begin_ms": e.begin_ms}))
        return out


def _scaled(question: Question, value: float, good_at: float, bad_at: float) -> int:
    fraction = min(1.0, max(0.0, (value - bad_at) / (good_at - bad_at))) if good_at != bad_at else float(value >= good_at)
    return question.min + round(fraction * (question.max - question.min))


def _sentiment_span(facts: ContactFacts, speaker: Speaker, measure: str) -> list[int]:
    mine = [i for i, s in enumerate(facts.speakers) if s == speaker]
    if measure == "end" and mine:
        mine = mine[len(mine) - max(1, len(mine) // 4):]
    return mine


def _answer(question: Question, facts: ContactFacts) -> AutomaticAnswer | None:
    automation = question.automation
    if isinstance(automation, RuleAutomation):
        result = facts.compliance.get(automation.rule)
        if result is None:
            return None
        if result.status is ComplianceStatus.NOT_APPLICABLE:
            if not question.not_applicable_allowed:
                return None
            return AutomaticAnswer(value=NA, detail=f"{result.rule}: {result.detail}")
        value = "yes" if result.status is ComplianceStatus.PASSED else "no"
        return AutomaticAnswer(value=value, detail=f"{result.rule} {result.status.value.lower()}: {result.detail}",
                               evidence=facts.from_rules(result.evidence))
    if isinstance(automation, CategoryAutomation):
        match = facts.categories.get(automation.category)
        other = "no" if automation.when_matched == "yes" else "yes"
        if match is None:
            return AutomaticAnswer(value=other, detail=f"{automation.category} not matched")
        return AutomaticAnswer(value=automation.when_matched, detail=f"{automation.category} matched",
                               evidence=facts.from_rules(match.evidence))
    if isinstance(automation, SentimentAutomation):
        of = facts.sentiment.customer if automation.speaker == Speaker.CUSTOMER else facts.sentiment.agent
        value = {"end": of.last_quarter, "trend": of.trend, "overall": of.overall}[automation.measure]
        if value is None:
            return None
        span = _sentiment_span(facts, automation.speaker, automation.measure)
        evidence = []
        if span and len(facts.scores) == len(facts.speakers):
            lowest = min(span, key=lambda i: (facts.scores[i], i))
            evidence = [facts.evidence_at(lowest)]
        detail = f"{automation.speaker.lower()} {automation.measure} sentiment {value:+.2f}"
        if question.type == "scale":
            answer: AnswerValue = _scaled(question, value, automation.good_at, automation.bad_at)
        else:
            answer = "yes" if value >= automation.threshold else "no"
            detail += f" ({'at least' if answer == 'yes' else 'below'} {automation.threshold:+g})"
        return AutomaticAnswer(value=answer, detail=detail, evidence=evidence)
    if isinstance(automation, ConversationAutomation):
        conversation = facts.conversation
        if conversation is None:
            return AutomaticAnswer(value=NA, detail="no conversation timing (chat)") if question.not_applicable_allowed else None
        threshold, good_at, bad_at = automation.limits()
        if automation.measure == "non_talk_share":
            measured = conversation.non_talk.share
            detail = f"{measured:.1%} of the contact in silences >= {conversation.non_talk.threshold_ms / 1000:g} s"
            spans = sorted(conversation.non_talk.spans, key=lambda s: -s.duration_ms)[:MAX_EVIDENCE]
            evidence = [AnswerEvidence(segment_index=_segment_before(facts, s.begin_ms), begin_ms=s.begin_ms,
                                       phrase=f"silence {s.duration_ms / 1000:g} s") for s in spans]
        else:
            talk = conversation.agent if automation.speaker == Speaker.AGENT else conversation.customer
            measured = float(talk.interruptions)
            detail = f"{talk.interruptions} interruption(s) by {automation.speaker.lower()}"
            hits = [i for i in conversation.interruptions if i.by == automation.speaker][:MAX_EVIDENCE]
            evidence = [facts.evidence_at(i.segment_index).model_copy(update={"begin_ms": i.at_ms}) for i in hits]
        if question.type == "scale":
            answer = _scaled(question, -measured, -good_at, -bad_at)  # lower is better
        else:
            answer = "yes" if measured <= threshold else "no"
            detail += f" ({'at most' if answer == 'yes' else 'above'} {threshold:g})"
        return AutomaticAnswer(value=answer, detail=detail, evidence=evidence)
    return None


def _segment_before(facts: ContactFacts, at_ms: int) -> int:
    """The last segment that began at or before `at_ms` (the one the silence follows)."""
    index = 0
    for i, begin in enumerate(facts.begins):
        if begin <= at_ms:
            index = i
    return index


def answer_form(form: EvaluationForm, facts: ContactFacts) -> dict[str, AutomaticAnswer]:
    """The automatic answers (question id -> answer); questions left for a human are absent."""
    answers = {}
    for section in form.sections:
        for question in section.questions:
            found = _answer(question, facts)
            if found is not None:
                answers[question.id] = found
    return answers


# --- scoring ----------------------------------------------------------------------------------------
def score_form(
    form: EvaluationForm,
    automatic: Mapping[str, AutomaticAnswer],
    overrides: Mapping[str, Override] | None = None,
) -> EvaluationResult:
    """The evaluation (see the module docstring for the rule). Overrides for questions the form does
    not have are ignored here (the caller keeps them)."""
    overrides = overrides or {}
    sections, reasons = [], []
    answered = unanswered = overridden = 0
    weighted = weights = 0.0
    for section in form.sections:
        results, earned, possible, count = [], 0.0, 0.0, 0
        for q in section.questions:
            auto, override = automatic.get(q.id), overrides.get(q.id)
            answer = override.value if override is not None else auto.value if auto is not None else None
            fraction = failed = None
            if answer is not None:
                fraction = q.fraction(answer)
                failed = q.fails(answer)
                if failed:
                    reasons.append(f"{q.id}: {q.text}")
            if override is not None:
                overridden += 1
            if answer is None:
                unanswered += 1
            elif fraction is not None:
                answered += 1
                count += 1
                earned += q.weight * fraction
                possible += q.weight
            results.append(QuestionResult(
                id=q.id, text=q.text, type=q.type, weight=q.weight, auto_fail=q.auto_fail, automatic=auto,
                override=override, answer=answer, fraction=None if fraction is None else round(fraction, 4),
                failed=bool(failed),
            ))  # fmt: skip
        score = round(100.0 * earned / possible, 1) if possible else None
        if score is not None:
            weighted += section.weight * score
            weights += section.weight
        sections.append(SectionResult(title=section.title, weight=section.weight, score=score, answered=count, questions=results))
    total = round(weighted / weights, 1) if weights else 100.0
    return EvaluationResult(
        form=form, score=0.0 if reasons else total, auto_failed=bool(reasons), auto_fail_reasons=reasons,
        answered=answered, unanswered=unanswered, overridden=overridden, sections=sections,
    )


def evaluate(form: EvaluationForm, facts: ContactFacts) -> EvaluationResult:
    """Answer the form from the contact's facts and score it."""
    return score_form(form, answer_form(form, facts))


def rescore(result: EvaluationResult, overrides: Mapping[str, Override]) -> EvaluationResult:
    """The same evaluation with these overrides (they win over the automatic answers)."""
    known = {k: v for k, v in overrides.items() if result.form.question(k) is not None}
    return score_form(result.form, result.automatic_answers(), known)
