"""One entry point: transcript in, analysis out.

Redaction runs first and its output is all that later steps (and the result) ever see: the raw
transcript is read once, by the redactor. The result holds redacted text, metrics, categories,
compliance results, the contact reason and the evaluation (the tenant's form answered from all of
these, with the transcript evidence behind each answer, and its score).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ccaas.domain.vocabulary import is_stored

from .conversation import ConversationCharacteristics, ConversationConfig, conversation_characteristics
from .limits import MAX_CATEGORIES, MAX_COMPLIANCE_RULES, MAX_DOCUMENT_CHARS, MAX_TOTAL_PHRASES
from .forms import ContactFacts, EvaluationForm, EvaluationResult, default_form, evaluate
from .qa import QARubric, QAScore
from .redaction import RedactionConfig, RedactionMark, Redactor
from .rules import (
    CategoryMatch,
    CategoryRule,
    CompiledRules,
    ComplianceResult,
    ComplianceRule,
    ContactReason,
    ReasonConfig,
    ReasonRule,
    SegmentTimes,
    default_categories,
    default_compliance,
    default_reasons,
)
from .sentiment import LocalLexiconSentiment, SentimentAnalyzer, SentimentSummary, summarise_sentiment
from .text import CLAUSE_BREAK, canonical_phrase, edits_taken, segment_words
from .transcript import Channel, Speaker, Transcript


@dataclass(frozen=True)
class _CompiledAnalytics:
    redactor: Redactor
    rules: CompiledRules


def _merge_by_name(current: Sequence, extra: Iterable, key: str) -> list:
    """Tenant entries replace defaults of the same name and are otherwise appended."""
    merged = {getattr(item, key): item for item in current}
    for item in extra:
        merged[getattr(item, key)] = item
    return list(merged.values())


class SentimentSetting(BaseModel):
    """Which engine scores sentiment: the offline contact-center lexicon (default), or Amazon Comprehend
    (batched; needs the stage's `comprehendSentiment` context, else every call falls back to the lexicon)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Literal["local", "comprehend"] = "local"
    # Comprehend's sentiment languages; the local lexicon reads English whatever this says.
    language: Literal["en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"] = "en"


class AnalyticsRules(BaseModel):
    """A tenant's analytics configuration. Sections left out of the JSON take the defaults; an
    explicit empty list switches a section off. Compiled once and cached (the model is frozen).
    Every part is bounded (limits.py); the whole stays well under DynamoDB's 400 KB item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: list[CategoryRule] = Field(default_factory=default_categories, max_length=MAX_CATEGORIES)
    compliance: list[ComplianceRule] = Field(default_factory=default_compliance, max_length=MAX_COMPLIANCE_RULES)
    reasons: ReasonConfig = Field(default_factory=default_reasons)
    # Legacy (before evaluation forms): still accepted and validated so stored settings keep loading,
    # but no longer scored; `form` is what scores a contact.
    qa: QARubric | None = None
    # None or left out: the default form (forms.default_form) without the questions whose rule or
    # category these rules do not have.
    form: EvaluationForm | None = None
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)
    sentiment: SentimentSetting = Field(default_factory=SentimentSetting)

    _compiled: _CompiledAnalytics | None = PrivateAttr(default=None)
    _default_form: EvaluationForm | None = PrivateAttr(default=None)

    @classmethod
    def default(cls) -> AnalyticsRules:
        return cls()

    @field_validator("categories", "compliance")
    @classmethod
    def _unique_names(cls, rules: list[CategoryRule] | list[ComplianceRule], info: ValidationInfo) -> list:
        """Rules are replaced and reported by name: two of one name are refused naming the list, by position."""
        first: dict[str, int] = {}
        for position, rule in enumerate(rules):
            earlier = first.setdefault(rule.name, position)
            if earlier != position:
                raise ValueError(f"{info.field_name}[{position}] has the name of {info.field_name}[{earlier}]: "
                                 "each name once")
        return rules

    @field_validator("compliance")
    @classmethod
    def _edits_the_phrases_take(cls, rules: list[ComplianceRule], info: ValidationInfo) -> list[ComplianceRule]:
        """A `max_edits` none of the rule's phrases can take (text.edits_taken: at most one per two words after the
        first) is refused naming it: it was cut silently ("max_edits": 2 on a four-word phrase is 1). Stored rules
        (written before this check) load: their phrases take what they can, as before."""
        if is_stored(info.context):
            return rules
        problems = []
        for position, rule in enumerate(rules):
            edits = getattr(rule, "max_edits", 0)
            if not edits:
                continue
            longest = max(len(canonical_phrase(phrase)) for field in rule._phrase_fields()  # type: ignore[union-attr]
                          for phrase in getattr(rule, field))
            if edits_taken(longest, edits) < edits:
                problems.append((f"compliance[{position}].max_edits",
                                 f"{edits} edits need a phrase of at least {2 * edits + 1} words (never the first or "
                                 f"last word, at most one per two words after the first); its longest has {longest}"))
        _refuse_at(problems)
        return rules

    @field_validator("qa")
    @classmethod
    def _qa_refers_to_known_rules(cls, qa: QARubric | None, info: ValidationInfo) -> QARubric | None:
        """A QA item pointing at a rule that does not exist would silently score 0 forever: refused by its path."""
        categories, compliance = info.data.get("categories"), info.data.get("compliance")
        if qa is None or categories is None or compliance is None:
            return qa  # none, or rules that failed validation themselves (their errors are reported)
        known = {"category": {c.name for c in categories}, "compliance": {c.name for c in compliance}}
        problems = []
        for position, item in enumerate(qa.items):
            if item.kind == "category" and item.target not in known["category"]:
                problems.append((position, f"QA item {item.name}: unknown category {item.target!r}"))
            if item.kind == "compliance" and item.target is not None and item.target not in known["compliance"]:
                problems.append((position, f"QA item {item.name}: unknown compliance rule {item.target!r}"))
        _refuse_at([(f"qa.items[{k}].target", message) for k, message in problems])
        return qa

    @model_validator(mode="after")
    def _consistent(self) -> AnalyticsRules:
        phrases = (
            sum(c.phrase_count() for c in self.categories)
            + sum(c.phrase_count() for c in self.compliance)
            + self.reasons.phrase_count()
        )
        if phrases > MAX_TOTAL_PHRASES:
            raise ValueError(
                f"{phrases} phrases and keywords in categories, compliance rules and reasons together "
                f"(at most {MAX_TOTAL_PHRASES})"
            )
        # As stored: compact JSON, non-ASCII escaped (the longest form of the same text).
        size = len(json.dumps(self.model_dump(mode="json"), separators=(",", ":")))
        if size > MAX_DOCUMENT_CHARS:
            raise ValueError(f"the rules take {size:,} characters as JSON (at most {MAX_DOCUMENT_CHARS:,})")
        return self

    @field_validator("form")
    @classmethod
    def _form_refers_to_known_rules(cls, form: EvaluationForm | None, info: ValidationInfo) -> EvaluationForm | None:
        categories, compliance = info.data.get("categories"), info.data.get("compliance")
        if form is None or categories is None or compliance is None:
            return form  # the default, or rules that failed validation themselves (their errors are reported)
        problems = form.unknown_references({c.name for c in compliance}, {c.name for c in categories})
        _refuse_at(problems)  # a question pointing at a rule that does not exist would never be answered
        return form

    @property
    def evaluation_form(self) -> EvaluationForm:
        """The form contacts are scored with: the tenant's, else the default for these rules."""
        if self.form is not None:
            return self.form
        if self._default_form is None:
            self._default_form = default_form({c.name for c in self.compliance}, {c.name for c in self.categories})
        return self._default_form

    def extend(
        self,
        *,
        categories: Iterable[CategoryRule] = (),
        compliance: Iterable[ComplianceRule] = (),
        reasons: Iterable[ReasonRule] = (),
        **sections: object,
    ) -> AnalyticsRules:
        """These rules plus the tenant's: same-named categories, compliance rules and reasons replace
        ours, new ones are added; other sections (form, qa, redaction, conversation) are replaced whole."""
        data = self.model_dump()
        data["categories"] = [c.model_dump() for c in _merge_by_name(self.categories, categories, "name")]
        data["compliance"] = [c.model_dump() for c in _merge_by_name(self.compliance, compliance, "name")]
        data["reasons"]["rules"] = [r.model_dump() for r in _merge_by_name(self.reasons.rules, reasons, "reason")]
        for section, value in sections.items():
            data[section] = value.model_dump() if isinstance(value, BaseModel) else value
        return type(self).model_validate(data)

    def __eq__(self, other: object) -> bool:
        # Same configuration, whether or not either side has compiled its cache yet.
        if not isinstance(other, AnalyticsRules):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds lists: not hashable

    def compiled(self) -> _CompiledAnalytics:
        if self._compiled is None:
            self._compiled = _CompiledAnalytics(
                redactor=Redactor(self.redaction),
                rules=CompiledRules(self.categories, self.compliance, self.reasons),
            )
        return self._compiled


@dataclass(frozen=True)
class RedactedTranscript:
    """A transcript after redaction: the only form later steps receive. Word counts are taken from
    the original words (a 16-digit card said as four groups is still four words of talk)."""

    contact_id: str
    channel: Channel
    connected_at_ms: int | None
    speakers: tuple[Speaker, ...]
    begins: tuple[int, ...]
    ends: tuple[int, ...]
    texts: tuple[str, ...]
    word_counts: tuple[int, ...]
    redaction_counts: dict[str, int]
    segments_redacted: int
    # what was replaced where (kind, segment, offsets), never the value; bounded (MAX_RECEIPT)
    receipt: tuple[RedactionMark, ...] = ()
    receipt_dropped: int = 0
    # per segment, its words' start times where the parser kept them (rules time phrases by them)
    word_begins: tuple[tuple[int, ...] | None, ...] = ()
    dropped_segments: int = 0  # entries the parser could not place or attribute (Transcript.dropped_segments)


def redact_transcript(transcript: Transcript, redactor: Redactor) -> RedactedTranscript:
    segments = transcript.segments
    raw = [s.text for s in segments]
    speakers = tuple(s.speaker for s in segments)
    redacted = redactor.redact_many(raw, speakers)
    return RedactedTranscript(
        contact_id=transcript.contact_id,
        channel=transcript.channel,
        connected_at_ms=transcript.connected_at_ms,
        speakers=speakers,
        begins=tuple(s.begin_ms for s in segments),
        ends=tuple(s.end_ms for s in segments),
        texts=tuple(redacted.texts),
        # Segment text is whitespace-collapsed, so words = spaces + 1 (C-speed count, no split).
        word_counts=tuple(t.count(" ") + 1 if t else 0 for t in raw),
        redaction_counts=redacted.counts,
        segments_redacted=redacted.changed_segments,
        receipt=tuple(redacted.receipt),
        receipt_dropped=redacted.receipt_dropped,
        word_begins=tuple(s.word_begins_ms for s in segments) if any(s.word_begins_ms for s in segments) else (),
        dropped_segments=transcript.dropped_segments,
    )


class AnalyzedSegment(BaseModel):
    index: int
    speaker: Speaker
    begin_ms: int
    end_ms: int
    text: str  # redacted
    sentiment: float


class RedactionSummary(BaseModel):
    counts: dict[str, int]  # per type; never the values
    segments_redacted: int
    # one entry per replaced span: kind, segment, offsets in the original and the redacted text;
    # never the value. At most MAX_RECEIPT entries; `receipt_dropped` counts the rest.
    receipt: list[RedactionMark] = Field(default_factory=list)
    receipt_dropped: int = 0


class TranscriptAnalysis(BaseModel):
    contact_id: str
    channel: Channel
    connected_at_ms: int | None
    segments: list[AnalyzedSegment]
    redaction: RedactionSummary
    sentiment: SentimentSummary
    conversation: ConversationCharacteristics | None  # None for chat: no speech timing
    categories: list[CategoryMatch]
    compliance: list[ComplianceResult]
    reason: ContactReason
    qa: QAScore  # the evaluation's score (kept for readers of the QA score before forms)
    evaluation: EvaluationResult
    # transcript entries the parser could not place on the timeline or attribute (so the loss is visible)
    dropped_segments: int = 0


_LOCAL_SENTIMENT = LocalLexiconSentiment()


def _checked_scores(scores: Sequence[float], expected: int) -> list[float]:
    # A plugged-in analyzer is outside our control: wrong lengths fail loudly, odd values are tamed.
    if len(scores) != expected:
        raise ValueError(f"sentiment analyzer returned {len(scores)} scores for {expected} texts")
    return [min(5.0, max(-5.0, float(s))) if math.isfinite(s) else 0.0 for s in scores]


def analyze_redacted(
    redacted: RedactedTranscript,
    rules: AnalyticsRules,
    analyzer: SentimentAnalyzer = _LOCAL_SENTIMENT,
) -> TranscriptAnalysis:
    """Everything after redaction (exposed so the stages can be measured separately)."""
    compiled = rules.compiled()
    texts = list(redacted.texts)
    # One normalisation pass serves the rules and, when it is ours, the sentiment analyzer.
    words = segment_words(texts, clause_breaks=True, placeholders=True)  # "[CARD]" stays distinct (PCI rule)
    if isinstance(analyzer, LocalLexiconSentiment):
        scores = analyzer.score_words(words)
    else:
        scores = _checked_scores(analyzer.analyze(texts), len(texts))
    sentiment = summarise_sentiment(redacted.speakers, redacted.begins, redacted.ends, redacted.word_counts, scores)

    origin = redacted.connected_at_ms or 0
    conversation = None
    if redacted.channel == Channel.VOICE:
        conversation = conversation_characteristics(
            redacted.speakers,
            redacted.begins,
            redacted.ends,
            redacted.word_counts,
            origin_ms=origin,
            config=rules.conversation,
        )

    occurrences = compiled.rules.index.find(words)
    times = SegmentTimes(
        speakers=redacted.speakers, begins=redacted.begins, origin_ms=origin, channel=redacted.channel, ends=redacted.ends,
        token_counts=[len(w) - w.count(CLAUSE_BREAK) for w in words], word_begins=redacted.word_begins or None,
    )
    categories = compiled.rules.categories(occurrences, times)
    compliance = compiled.rules.compliance(occurrences, times)
    reason = compiled.rules.reason(occurrences, times)
    facts = ContactFacts(compliance, categories, sentiment, conversation, redacted.speakers, redacted.begins, scores, texts)
    evaluation = evaluate(rules.evaluation_form, facts)
    qa = QAScore(score=evaluation.score, auto_failed=evaluation.auto_failed, items=[])

    # Plain dicts, validated in bulk by pydantic-core when the result is built (far cheaper than
    # constructing 1,000 models one by one from Python).
    segments = [
        {"index": i, "speaker": speaker, "begin_ms": begin, "end_ms": end, "text": text, "sentiment": score}
        for i, (speaker, begin, end, text, score) in enumerate(
            zip(redacted.speakers, redacted.begins, redacted.ends, texts, scores)
        )
    ]
    return TranscriptAnalysis(
        contact_id=redacted.contact_id,
        channel=redacted.channel,
        connected_at_ms=redacted.connected_at_ms,
        segments=segments,
        redaction=RedactionSummary(
            counts=redacted.redaction_counts,
            segments_redacted=redacted.segments_redacted,
            receipt=list(redacted.receipt),
            receipt_dropped=redacted.receipt_dropped,
        ),
        sentiment=sentiment,
        conversation=conversation,
        categories=categories,
        compliance=compliance,
        reason=reason,
        qa=qa,
        evaluation=evaluation,
        dropped_segments=redacted.dropped_segments,
    )


def analyze_transcript(
    transcript: Transcript,
    rules: AnalyticsRules | None = None,
    analyzer: SentimentAnalyzer = _LOCAL_SENTIMENT,
) -> TranscriptAnalysis:
    """Redact, then measure, classify and score one contact. `rules` defaults to AnalyticsRules.default()."""
    rules = rules or _default_rules()
    redacted = redact_transcript(transcript, rules.compiled().redactor)
    return analyze_redacted(redacted, rules, analyzer)


_DEFAULT_RULES: AnalyticsRules | None = None


def _default_rules() -> AnalyticsRules:
    global _DEFAULT_RULES
    if _DEFAULT_RULES is None:
        _DEFAULT_RULES = AnalyticsRules.default()
    return _DEFAULT_RULES


def _refuse_at(problems: Sequence[tuple[str, str]]) -> None:
    """Refuse the settings by the path of each problem (the first five): located problems (journeys' SpecError) make
    the 422's `field` that path ("compliance[2].max_edits"), not the top-level field. ccaas.domain.journeys costs
    ~25 ms at import: imported on the error path only (cold start)."""
    if not problems:
        return
    from ccaas.domain.journeys import SpecError, SpecErrors  # noqa: PLC0415 - the error path only

    raise SpecErrors([SpecError(path, message, loc=_path_loc(path)[1:]) for path, message in problems[:5]])


def _path_loc(path: str) -> tuple[str | int, ...]:
    """"form.sections[1].questions[0].automation.rule" as pydantic's loc ("form", "sections", 1, ...)."""
    return tuple(int(part) if part.isdigit() else part for part in path.replace("[", ".").replace("]", "").split("."))
