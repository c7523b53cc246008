"""Tenant rules over a (redacted) transcript: categories, compliance checks, contact reason.

Rules are pydantic models so a tenant's set loads from JSON. Every phrase from every rule goes into
one PhraseIndex, so a transcript is scanned once however many rules there are; each rule then only
looks at the occurrences of its own phrases.

Phrases match whole words, case- and punctuation-insensitively ("Amount owed." matches "amount
owed"). Times in rules are milliseconds from connection (the transcript's `connected_at_ms`, else 0),
compared with the begin time of the segment holding the phrase.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .limits import (
    MAX_COMPLIANCE_RULES,
    MAX_KEYWORDS,
    MAX_MATCHERS,
    MAX_PHRASES,
    MAX_REASONS,
    MAX_SCORE,
    MAX_WEIGHT,
    Name,
    OffsetMs,
    Phrase,
)
from .text import PhraseIndex, normalize_phrase
from .transcript import Channel, Speaker

MAX_EVIDENCE = 10  # per rule; enough to review, bounded for 1,000-segment contacts

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _check_phrases(phrases: list[str]) -> list[str]:
    for phrase in phrases:
        normalize_phrase(phrase)  # raises on phrases with no words
    return phrases


class PhraseMatcher(BaseModel):
    """Matches when any of `phrases` is said, by `speaker` (None: anyone), in [from_ms, to_ms]."""

    model_config = _FROZEN

    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = None
    from_ms: OffsetMs | None = None
    to_ms: OffsetMs | None = None

    _check = field_validator("phrases")(_check_phrases)

    @model_validator(mode="after")
    def _window_order(self) -> PhraseMatcher:
        if self.from_ms is not None and self.to_ms is not None and self.to_ms < self.from_ms:
            raise ValueError("to_ms before from_ms")
        return self


class CategoryRule(BaseModel):
    """Tags the contact when its matchers match (`all` of them, or `any`) and none of `absent` does."""

    model_config = _FROZEN

    name: Name
    match: Literal["all", "any"] = "any"
    matchers: list[PhraseMatcher] = Field(min_length=1, max_length=MAX_MATCHERS)
    absent: list[PhraseMatcher] = Field(default_factory=list, max_length=MAX_MATCHERS)

    def phrase_count(self) -> int:
        return sum(len(m.phrases) for m in (*self.matchers, *self.absent))


class RequiredDisclosure(BaseModel):
    """A phrase that must be said: by `speaker`, within `within_ms` of connection if set, and before
    the first `before_phrases` trigger if set. With triggers and none said, it does not apply
    (e.g. the debt-collection mini-Miranda is owed only once the debt comes up)."""

    model_config = _FROZEN

    kind: Literal["required_disclosure"] = "required_disclosure"
    name: Name
    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = Speaker.AGENT
    within_ms: OffsetMs | None = None
    before_phrases: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    before_speaker: Speaker | None = None
    # None: every channel (a recording notice is VOICE only)
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))

    _check = field_validator("phrases", "before_phrases")(_check_phrases)

    def phrase_count(self) -> int:
        return len(self.phrases) + len(self.before_phrases)


class ProhibitedPhrase(BaseModel):
    """Phrases `speaker` (default the agent) must never say."""

    model_config = _FROZEN

    kind: Literal["prohibited_phrase"] = "prohibited_phrase"
    name: Name
    phrases: list[Phrase] = Field(min_length=1, max_length=MAX_PHRASES)
    speaker: Speaker | None = Speaker.AGENT
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))  # None: every channel

    _check = field_validator("phrases")(_check_phrases)

    def phrase_count(self) -> int:
        return len(self.phrases)


ComplianceRule = Annotated[RequiredDisclosure | ProhibitedPhrase, Field(discriminator="kind")]


class ReasonRule(BaseModel):
    """Keyword (phrase) -> weight for one contact reason; `speaker` limits whose words count."""

    model_config = _FROZEN

    reason: Name
    keywords: dict[
        Phrase,
        Annotated[float, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)],
    ] = Field(min_length=1, max_length=MAX_KEYWORDS)
    speaker: Speaker | None = None

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, keywords: dict[str, float]) -> dict[str, float]:
        _check_phrases(list(keywords))
        return keywords


class ReasonConfig(BaseModel):
    """Score per reason = sum of keyword weight x occurrences (capped per keyword), agent words
    weighted by `agent_weight` (the customer states the reason); the best score wins if it reaches
    `min_score`, else `fallback`. Ties go to the rule listed first."""

    model_config = _FROZEN

    rules: list[ReasonRule] = Field(default_factory=list, max_length=MAX_REASONS)
    min_score: float = Field(default=2.0, ge=0, le=MAX_SCORE, allow_inf_nan=False)
    fallback: Name = "other"
    agent_weight: float = Field(default=0.5, ge=0, le=10, allow_inf_nan=False)
    max_hits_per_keyword: int = Field(default=3, ge=1, le=100)

    def phrase_count(self) -> int:
        return sum(len(r.keywords) for r in self.rules)


# --- results --------------------------------------------------------------------------------------


class Evidence(BaseModel):
    segment_index: int
    speaker: Speaker
    begin_ms: int
    phrase: str  # the rule phrase that matched (normalised), never transcript text


class CategoryMatch(BaseModel):
    name: str
    evidence: list[Evidence]


class ComplianceStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class ComplianceResult(BaseModel):
    rule: str
    kind: str
    status: ComplianceStatus
    passed: bool  # False only when FAILED
    detail: str
    evidence: list[Evidence]


class ContactReason(BaseModel):
    reason: str
    score: float
    scores: dict[str, float]  # reasons with a non-zero score
    keywords: list[str]  # rule keywords that counted for the winning reason


# --- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentTimes:
    """What rules may know of segments: speaker and begin time (timeline ms) by index; no text."""

    speakers: Sequence[Speaker]
    begins: Sequence[int]
    origin_ms: int = 0
    channel: Channel = Channel.VOICE


Occurrences = dict[int, list[tuple[int, int]]]  # phrase id -> [(segment index, word position)]


class _Phrases:
    """Collects phrases while compiling, so that rules refer to phrase ids."""

    def __init__(self) -> None:
        self.normalised: list[tuple[str, ...]] = []
        self._seen: dict[tuple[str, ...], int] = {}

    def ids(self, phrases: Iterable[str]) -> tuple[int, ...]:
        out = []
        for phrase in phrases:
            words = normalize_phrase(phrase)
            if words not in self._seen:
                self._seen[words] = len(self.normalised)
                self.normalised.append(words)
            out.append(self._seen[words])
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class _Matcher:
    phrase_ids: tuple[int, ...]
    speaker: Speaker | None
    from_ms: int | None
    to_ms: int | None

    def hits(self, occurrences: Occurrences, times: SegmentTimes) -> list[tuple[int, int, int]]:
        """(segment index, word position, phrase id) of qualifying occurrences, in spoken order."""
        found = []
        for pid in self.phrase_ids:
            for segment, position in occurrences.get(pid, ()):
                if self.speaker is not None and times.speakers[segment] != self.speaker:
                    continue
                offset = times.begins[segment] - times.origin_ms
                if self.from_ms is not None and offset < self.from_ms:
                    continue
                if self.to_ms is not None and offset > self.to_ms:
                    continue
                found.append((segment, position, pid))
        found.sort()
        return found


def _matcher(phrases: _Phrases, m: PhraseMatcher) -> _Matcher:
    return _Matcher(phrases.ids(m.phrases), m.speaker, m.from_ms, m.to_ms)


class CompiledRules:
    """Categories, compliance and reason rules ready to run; build once per tenant rule set."""

    def __init__(
        self,
        categories: Sequence[CategoryRule],
        compliance: Sequence[RequiredDisclosure | ProhibitedPhrase],
        reasons: ReasonConfig,
    ) -> None:
        phrases = _Phrases()
        self._categories = [
            (rule, [_matcher(phrases, m) for m in rule.matchers], [_matcher(phrases, m) for m in rule.absent])
            for rule in categories
        ]
        self._compliance: list[tuple[RequiredDisclosure | ProhibitedPhrase, _Matcher, _Matcher | None]] = []
        for rule in compliance:
            said = _Matcher(phrases.ids(rule.phrases), rule.speaker, None, None)
            trigger = None
            if isinstance(rule, RequiredDisclosure) and rule.before_phrases:
                trigger = _Matcher(phrases.ids(rule.before_phrases), rule.before_speaker, None, None)
            self._compliance.append((rule, said, trigger))
        self._reasons = reasons
        self._reason_keywords = [
            (rule, [(phrases.ids([k])[0], w) for k, w in rule.keywords.items()]) for rule in reasons.rules
        ]
        self._phrases = phrases.normalised
        self.index = PhraseIndex(phrases.normalised)

    def _evidence(self, hits: Iterable[tuple[int, int, int]], times: SegmentTimes) -> list[Evidence]:
        out = []
        for segment, _, pid in hits:
            out.append(
                Evidence(
                    segment_index=segment,
                    speaker=times.speakers[segment],
                    begin_ms=times.begins[segment],
                    phrase=" ".join(self._phrases[pid]),
                )
            )
            if len(out) >= MAX_EVIDENCE:
                break
        return out

    def categories(self, occurrences: Occurrences, times: SegmentTimes) -> list[CategoryMatch]:
        matched = []
        for rule, matchers, absent in self._categories:
            hits = [m.hits(occurrences, times) for m in matchers]
            ok = all(hits) if rule.match == "all" else any(hits)
            if not ok or any(a.hits(occurrences, times) for a in absent):
                continue
            # evidence: the first hit of each matcher that matched, in spoken order
            firsts = sorted(h[0] for h in hits if h)
            matched.append(CategoryMatch(name=rule.name, evidence=self._evidence(firsts, times)))
        return matched

    def compliance(self, occurrences: Occurrences, times: SegmentTimes) -> list[ComplianceResult]:
        results = []
        for rule, said, trigger in self._compliance:
            if rule.channels is not None and times.channel not in rule.channels:
                results.append(
                    ComplianceResult(
                        rule=rule.name,
                        kind=rule.kind,
                        status=ComplianceStatus.NOT_APPLICABLE,
                        passed=True,
                        detail=f"not checked on {times.channel.value}",
                        evidence=[],
                    )
                )
                continue
            said_hits = said.hits(occurrences, times)
            if isinstance(rule, ProhibitedPhrase):
                results.append(
                    ComplianceResult(
                        rule=rule.name,
                        kind=rule.kind,
                        status=ComplianceStatus.FAILED if said_hits else ComplianceStatus.PASSED,
                        passed=not said_hits,
                        detail=f"said {len(said_hits)} time(s)" if said_hits else "not said",
                        evidence=self._evidence(said_hits, times),
                    )
                )
                continue
            results.append(self._disclosure(rule, said_hits, trigger, occurrences, times))
        return results

    def _disclosure(
        self,
        rule: RequiredDisclosure,
        said_hits: list[tuple[int, int, int]],
        trigger: _Matcher | None,
        occurrences: Occurrences,
        times: SegmentTimes,
    ) -> ComplianceResult:
        def result(status: ComplianceStatus, detail: str, hits: list[tuple[int, int, int]]) -> ComplianceResult:
            return ComplianceResult(
                rule=rule.name,
                kind=rule.kind,
                status=status,
                passed=status is not ComplianceStatus.FAILED,
                detail=detail,
                evidence=self._evidence(sorted(hits), times),
            )

        trigger_hits = trigger.hits(occurrences, times) if trigger else []
        if trigger is not None and not trigger_hits:
            return result(ComplianceStatus.NOT_APPLICABLE, "trigger never said", [])
        if not said_hits:
            return result(ComplianceStatus.FAILED, "disclosure not said", trigger_hits[:1])
        first = said_hits[0]
        if trigger_hits and trigger_hits[0][:2] < first[:2]:
            return result(ComplianceStatus.FAILED, "disclosure came after the trigger", [first, trigger_hits[0]])
        if rule.within_ms is not None:
            offset = times.begins[first[0]] - times.origin_ms
            if offset > rule.within_ms:
                return result(
                    ComplianceStatus.FAILED,
                    f"disclosure at {offset / 1000:g} s, required within {rule.within_ms / 1000:g} s",
                    [first],
                )
        return result(ComplianceStatus.PASSED, "disclosure said in time", [first] + trigger_hits[:1])

    def reason(self, occurrences: Occurrences, times: SegmentTimes) -> ContactReason:
        config = self._reasons
        scores: dict[str, float] = {}
        keywords: dict[str, list[str]] = {}
        for rule, weighted in self._reason_keywords:
            total = 0.0
            for pid, weight in weighted:
                counted = 0.0
                hits = 0
                for segment, _ in occurrences.get(pid, ()):
                    speaker = times.speakers[segment]
                    if rule.speaker is not None and speaker != rule.speaker:
                        continue
                    counted += config.agent_weight if speaker == Speaker.AGENT else 1.0
                    hits += 1
                    if hits >= config.max_hits_per_keyword:
                        break
                if counted:
                    total += weight * counted
                    keywords.setdefault(rule.reason, []).append(" ".join(self._phrases[pid]))
            if total:
                scores[rule.reason] = round(scores.get(rule.reason, 0.0) + total, 3)
        best = max(scores.items(), key=lambda kv: kv[1], default=(config.fallback, 0.0))  # first max wins
        if best[1] < config.min_score:
            return ContactReason(reason=config.fallback, score=best[1], scores=scores, keywords=[])
        return ContactReason(reason=best[0], score=best[1], scores=scores, keywords=keywords.get(best[0], []))


# --- defaults -------------------------------------------------------------------------------------


def default_categories() -> list[CategoryRule]:
    customer = Speaker.CUSTOMER
    return [
        CategoryRule(
            name="cancellation_risk",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "cancel my account", "cancel my subscription", "cancel my service", "cancel the service",
                        "cancel my contract", "close my account", "i want to cancel", "going to cancel",
                        "terminate my contract", "switch to another provider", "switching providers",
                        "take my business elsewhere", "i'm leaving", "port my number",
                    ],
                )
            ],
            absent=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=["don't want to cancel", "do not want to cancel", "not going to cancel", "won't cancel"],
                )
            ],
        ),
        CategoryRule(
            name="complaint",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "ridiculous", "unacceptable", "file a complaint", "make a complaint", "formal complaint",
                        "terrible service", "worst service", "not happy", "very disappointed", "fed up",
                        "waste of time", "this is a joke", "sick and tired",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="legal_threat",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "lawyer", "attorney", "sue you", "sue your company", "legal action", "take you to court",
                        "small claims", "class action", "better business bureau", "ombudsman",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="escalation_request",
            matchers=[
                PhraseMatcher(
                    speaker=customer,
                    phrases=[
                        "speak to a manager", "speak to your manager", "talk to a manager", "talk to your manager",
                        "speak to a supervisor", "speak to your supervisor", "talk to a supervisor",
                        "talk to your supervisor", "someone more senior", "escalate this",
                    ],
                )
            ],
        ),
        CategoryRule(
            name="payment_issue",
            matchers=[
                PhraseMatcher(
                    phrases=[
                        "charged twice", "double charged", "overcharged", "payment failed", "payment declined",
                        "card was declined", "card declined", "wrong amount", "billing error", "late fee",
                        "refund",
                    ],
                )
            ],
        ),
    ]  # fmt: skip


def default_compliance() -> list[RequiredDisclosure | ProhibitedPhrase]:
    return [
        RequiredDisclosure(
            name="recording_disclosure",
            phrases=[
                "this call may be recorded", "this call is being recorded", "this call will be recorded",
                "call may be monitored or recorded", "calls are recorded", "recorded for quality",
                "recorded for training",
            ],
            within_ms=30_000,
            channels=[Channel.VOICE],
        ),
        RequiredDisclosure(
            name="mini_miranda",
            phrases=[
                "this is an attempt to collect a debt", "attempt to collect a debt",
                "communication is from a debt collector",
            ],
            before_phrases=["amount owed", "balance due", "past due", "outstanding balance", "you owe"],
        ),
        ProhibitedPhrase(
            name="prohibited_language",
            phrases=["shut up", "not my problem", "i don't care", "you're stupid", "guaranteed approval"],
        ),
    ]  # fmt: skip


def default_reasons() -> ReasonConfig:
    return ReasonConfig(
        rules=[
            ReasonRule(reason="billing", keywords={
                "bill": 2, "billing": 2, "invoice": 2, "charge": 1.5, "charged": 1.5, "statement": 1,
                "overcharged": 2, "charged twice": 2, "double charged": 2, "refund": 1.5, "late fee": 2, "payment": 1, "balance": 1,
            }),
            ReasonRule(reason="technical_support", keywords={
                "not working": 2, "doesn't work": 2, "internet": 1.5, "router": 2, "modem": 2, "error": 1.5,
                "outage": 2, "no signal": 2, "connection": 1, "slow": 1, "crash": 1.5, "crashes": 1.5,
                "restart": 1, "reboot": 1.5, "technical": 2, "broken": 1,
            }),
            ReasonRule(reason="cancellation", keywords={
                "cancel": 3, "cancellation": 3, "close my account": 3, "terminate": 2,
                "switch provider": 2, "switching providers": 2,
            }),
            ReasonRule(reason="sales", keywords={
                "upgrade": 2, "new plan": 2, "pricing": 1.5, "price": 1, "quote": 2, "buy": 1.5,
                "purchase": 1.5, "offer": 1, "discount": 1, "sign up": 2, "add a line": 2,
            }),
            ReasonRule(reason="account_access", keywords={
                "password": 3, "log in": 2, "login": 2, "locked out": 3, "username": 2,
                "verification code": 2, "two factor": 2, "can't access": 2, "access my account": 2,
            }),
            ReasonRule(reason="delivery", keywords={
                "delivery": 3, "delivered": 2, "package": 2, "parcel": 2, "tracking": 2, "shipment": 2,
                "shipping": 2, "courier": 2, "hasn't arrived": 3, "where is my order": 3,
            }),
        ]
    )  # fmt: skip
