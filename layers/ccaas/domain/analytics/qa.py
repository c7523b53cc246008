"""The QA rubric of weighted items, from before evaluation forms (forms.py), and the `QAScore` kept
on every analysis.

The rubric is still accepted in a tenant's stored analytics settings (`qa`) and validated, so settings
written before forms keep loading, but contacts are scored by the evaluation form: `QAScore.score` is
the evaluation's score and `auto_failed` its automatic fail (`items` stays empty; `score_contact`
remains for tenants' tooling and tests of the old rubric). What follows describes the old rubric.

QA score 0-100 from a tenant rubric of weighted items.

Each item measures one thing and turns it into a fraction f in [0, 1]:
- `compliance`: share of applicable compliance results that passed (`target`: one rule, else all);
- `category`: 1 when the category `target` matched, else 0;
- `sentiment_end` / `sentiment_trend`: the `speaker`'s last-quarter sentiment / trend, scaled
  linearly from `bad_at` (f = 0) to `good_at` (f = 1);
- `non_talk_share`: share of the contact spent in long silences, scaled the same way;
- `interruptions`: how often `speaker` interrupted, scaled the same way.

Positive weights share the 100 points in proportion (an item's contribution is 100 x weight x f /
sum of applicable positive weights); a negative weight is a penalty in points, applied when f = 1
(e.g. complaint -10). Items that cannot be measured (no customer speech, a chat has no silences,
no applicable compliance rule) are left out and the others re-share the points. The score is the sum
of contributions clamped to 0..100, and every item reports what it measured and what it contributed.
"""
from __future__ import annotations
from ccaas.domain.vocabulary import Float

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .conversation import ConversationCharacteristics
from .limits import MAX_QA_ITEMS, MAX_QA_SCALE, MAX_QA_WEIGHT, Name
from .rules import CategoryMatch, ComplianceResult, ComplianceStatus
from .sentiment import SentimentSummary
from .transcript import Speaker

QAItemKind = Literal["compliance", "category", "sentiment_end", "sentiment_trend", "non_talk_share", "interruptions"]

_SCALED_KINDS = {"sentiment_end", "sentiment_trend", "non_talk_share", "interruptions"}
_DEFAULT_SCALES = {  # (good_at, bad_at)
    "sentiment_end": (0.0, -2.0),
    "sentiment_trend": (0.0, -2.0),
    "non_talk_share": (0.05, 0.25),
    "interruptions": (0.0, 5.0),
}


class QAItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    kind: QAItemKind
    # a share of the points; negative: a penalty in points (so never below -100)
    weight: Float = Field(ge=-100, le=MAX_QA_WEIGHT, allow_inf_nan=False)
    target: Name | None = None  # compliance rule name (None = all rules) or category name
    speaker: Speaker | None = None  # for sentiment (default CUSTOMER) and interruptions (default AGENT)
    good_at: Float | None = Field(default=None, ge=-MAX_QA_SCALE, le=MAX_QA_SCALE, allow_inf_nan=False)
    bad_at: Float | None = Field(default=None, ge=-MAX_QA_SCALE, le=MAX_QA_SCALE, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> QAItem:
        if self.weight == 0:
            raise ValueError(f"item {self.name}: weight must not be 0")
        if self.weight < 0 and self.kind != "category":
            raise ValueError(f"item {self.name}: only category items may have a negative (penalty) weight")
        if self.kind == "category" and not self.target:
            raise ValueError(f"item {self.name}: category items need a target category")
        good, bad = self.scale()
        if self.kind in _SCALED_KINDS and good == bad:
            raise ValueError(f"item {self.name}: good_at and bad_at must differ")
        return self

    def scale(self) -> tuple[float, float]:
        default_good, default_bad = _DEFAULT_SCALES.get(self.kind, (1.0, 0.0))
        return (
            default_good if self.good_at is None else self.good_at,
            default_bad if self.bad_at is None else self.bad_at,
        )


class QARubric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[QAItem] = Field(min_length=1, max_length=MAX_QA_ITEMS)

    @model_validator(mode="after")
    def _unique_names(self) -> QARubric:
        names = [i.name for i in self.items]
        if len(names) != len(set(names)):
            raise ValueError("QA item names must be unique")
        return self

    @classmethod
    def default(cls) -> QARubric:
        return cls(
            items=[
                QAItem(name="compliance", kind="compliance", weight=40),
                QAItem(name="customer_end_sentiment", kind="sentiment_end", weight=20),
                QAItem(name="customer_sentiment_trend", kind="sentiment_trend", weight=10),
                QAItem(name="non_talk", kind="non_talk_share", weight=15),
                QAItem(name="agent_interruptions", kind="interruptions", weight=15),
                QAItem(name="complaint", kind="category", target="complaint", weight=-10),
                QAItem(name="legal_threat", kind="category", target="legal_threat", weight=-15),
                QAItem(name="escalation_request", kind="category", target="escalation_request", weight=-10),
            ]
        )


class QAItemResult(BaseModel):
    name: str
    kind: str
    weight: float
    applicable: bool
    measured: float | None  # the raw input (pass share, sentiment, share, count, 1/0 matched)
    fraction: float | None  # measured mapped to 0..1
    points: float  # contribution to the score
    detail: str


class QAScore(BaseModel):
    score: float
    auto_failed: bool = False
    items: list[QAItemResult] = Field(default_factory=list)


def _linear(value: float, good_at: float, bad_at: float) -> float:
    fraction = (value - bad_at) / (good_at - bad_at)
    return min(1.0, max(0.0, fraction))


def _measure(
    item: QAItem,
    compliance: Sequence[ComplianceResult],
    categories: Sequence[CategoryMatch],
    sentiment: SentimentSummary,
    conversation: ConversationCharacteristics | None,
) -> tuple[float | None, str]:
    """The raw measurement for an item, or None when it does not apply, plus a short explanation."""
    if item.kind == "compliance":
        relevant = [
            r
            for r in compliance
            if r.status is not ComplianceStatus.NOT_APPLICABLE and (item.target is None or r.rule == item.target)
        ]
        if not relevant:
            return None, "no applicable compliance rule"
        passed = sum(1 for r in relevant if r.passed)
        failed = [r.rule for r in relevant if not r.passed]
        detail = f"{passed}/{len(relevant)} passed" + (f"; failed: {', '.join(failed)}" if failed else "")
        return passed / len(relevant), detail
    if item.kind == "category":
        matched = any(c.name == item.target for c in categories)
        return (1.0 if matched else 0.0), f"{item.target} {'matched' if matched else 'not matched'}"
    if item.kind in ("sentiment_end", "sentiment_trend"):
        speaker = item.speaker or Speaker.CUSTOMER
        of = sentiment.customer if speaker == Speaker.CUSTOMER else sentiment.agent
        value = of.last_quarter if item.kind == "sentiment_end" else of.trend
        label = "last-quarter sentiment" if item.kind == "sentiment_end" else "sentiment trend"
        if value is None:
            return None, f"no {speaker.lower()} {label}"
        return value, f"{speaker.lower()} {label} {value:+.2f}"
    if conversation is None:
        return None, "no conversation timing (chat)"
    if item.kind == "non_talk_share":
        share = conversation.non_talk.share
        return share, f"{share:.1%} of the contact in silences >= {conversation.non_talk.threshold_ms / 1000:g} s"
    speaker = item.speaker or Speaker.AGENT
    count = (conversation.agent if speaker == Speaker.AGENT else conversation.customer).interruptions
    return float(count), f"{count} interruption(s) by {speaker.lower()}"


def score_contact(
    rubric: QARubric,
    compliance: Sequence[ComplianceResult],
    categories: Sequence[CategoryMatch],
    sentiment: SentimentSummary,
    conversation: ConversationCharacteristics | None,
) -> QAScore:
    measured = []
    for item in rubric.items:
        value, detail = _measure(item, compliance, categories, sentiment, conversation)
        if value is None:
            fraction = None
        elif item.kind in _SCALED_KINDS:
            fraction = _linear(value, *item.scale())
        else:
            fraction = value
        measured.append((item, value, fraction, detail))

    positive_weight = sum(i.weight for i, _, f, _ in measured if f is not None and i.weight > 0)
    results = []
    total = 0.0
    for item, value, fraction, detail in measured:
        if fraction is None:
            points = 0.0
        elif item.weight > 0:
            points = 100.0 * item.weight * fraction / positive_weight
        else:
            points = item.weight if fraction else 0.0  # a penalty, in points, when matched
        total += points
        results.append(
            QAItemResult(
                name=item.name,
                kind=item.kind,
                weight=item.weight,
                applicable=fraction is not None,
                measured=None if value is None else round(value, 4),
                fraction=None if fraction is None else round(fraction, 4),
                points=round(points, 2),
                detail=detail,
            )
        )
    if positive_weight == 0:
        total += 100.0  # nothing measurable to earn: start full, penalties still apply
    return QAScore(score=round(min(100.0, max(0.0, total)), 1), items=results)
