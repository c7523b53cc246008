"""Supervisor alerts: the tenant's rules, and the pure evaluation that turns live state into decisions.

Two kinds of rules:
- condition rules hold while a state lasts and resolve themselves when it clears: a queue's service
  level over the last N minutes below target, its oldest contact waiting longer than X, its depth at
  or above a threshold, an agent not ready for longer than X, a customer's sentiment over the last K
  segments below a threshold (service level, depth and sentiment clear only past a margin, so they do
  not flap; too few contacts in the window holds an open service-level alert);
- moment rules fire on something seen in a live transcript (a silence longer than X, an escalation
  phrase) and stay open until a supervisor resolves them or the contact ends.

At most one alert per (rule, subject) is unresolved at a time. Evaluation only proposes (`Decisions`);
the store enforces the rule with a conditional write. Nothing here reads a clock, the environment or
AWS: `now_ms` and the live state are passed in. Messages and details hold ids, numbers and the
tenant's own configured phrases, never transcript text.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ccaas.domain.analytics.limits import visible_phrase
from ccaas.domain.analytics.text import PhraseIndex, normalize_phrase, segment_words
from ccaas.domain.analytics.transcript import Speaker
from ccaas.domain.events import AgentActivity, NotReadyStatus
from ccaas.domain.guidance import GuidanceState
from ccaas.domain.vocabulary import Bool, Float, Int, SortedSet, is_stored
from ccaas.domain.live_metrics import MINUTE_SLOTS, WINDOW_MINUTES, live_service_level, sliding_minutes

if TYPE_CHECKING:  # redact_and_score's arguments: its callers bring the redactor and the analyzer
    from ccaas.domain.analytics.redaction import Redactor
    from ccaas.domain.analytics.sentiment import SentimentAnalyzer
    from ccaas.domain.analytics.transcript import Segment

MAX_WINDOW_MINUTES = WINDOW_MINUTES  # the live view's "last 15 minutes" (the live item keeps MINUTE_SLOTS)
MAX_SCORES = 20  # customer sentiment scores kept per live transcript
# Bounds of the tenant's rules (one stored item, read on every evaluation).
MAX_THRESHOLD_S = 86_400  # a day
MAX_QUEUE_DEPTH = 100_000
MAX_ESCALATION_PHRASES = 200
MAX_ESCALATION_PHRASE = 80  # characters
# words of one phrase: a post costs its words plus its matches, and up to this many phrases can match
# at each word (one per length)
MAX_ESCALATION_PHRASE_WORDS = 12
MAX_IGNORED_STATUSES = 50
MAX_STATUS = 32  # characters of a not-ready reason (the agents API allows [A-Z][A-Z0-9_]{1,31})


class AlertRule(StrEnum):
    SERVICE_LEVEL = "service_level"
    LONG_WAIT = "long_wait"
    QUEUE_DEPTH = "queue_depth"
    AGENT_NOT_READY = "agent_not_ready"
    SILENCE = "silence"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    ESCALATION_PHRASE = "escalation_phrase"
    # a journey test failed (ccaas.usecases.journeys.record_runs opens and resolves it; subject journey/<name>)
    JOURNEY_FAILED = "journey_failed"


QUEUE_RULES = (AlertRule.SERVICE_LEVEL, AlertRule.LONG_WAIT, AlertRule.QUEUE_DEPTH)
AGENT_RULES = (AlertRule.AGENT_NOT_READY,)
CONTACT_RULES = (AlertRule.SILENCE, AlertRule.NEGATIVE_SENTIMENT, AlertRule.ESCALATION_PHRASE)


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class AlertStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"  # still unresolved: it keeps its (rule, subject) slot
    RESOLVED = "RESOLVED"


class Resolution(StrEnum):
    CONDITION_CLEARED = "condition_cleared"
    CONTACT_ENDED = "contact_ended"
    MANUAL = "manual"


# --- rules (tenant configuration) -------------------------------------------------------------------


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: Bool = True


class ServiceLevelRule(_Rule):
    severity: Severity = Severity.CRITICAL
    window_minutes: Int = Field(default=15, ge=1, le=MAX_WINDOW_MINUTES, description="the sliding window")
    min_contacts: Int = Field(
        default=5, ge=1, le=10_000, description="resolved contacts the window needs before SL means anything"
    )
    target: Float | None = Field(
        default=None, ge=0.01, le=1, allow_inf_nan=False, description="null: each queue's own sl_target"
    )
    clear_margin: Float = Field(
        default=0.05, ge=0, le=0.5, allow_inf_nan=False,
        description="an open alert resolves once SL over min_contacts or more is at least target + this",
    )

    def clear_at(self, target: float) -> float:
        return min(1.0, round(target + self.clear_margin, 6))


class LongWaitRule(_Rule):
    severity: Severity = Severity.WARNING
    threshold_s: Int = Field(
        default=120, ge=1, le=MAX_THRESHOLD_S, description="the queue's oldest contact has waited at least this long"
    )


class QueueDepthRule(_Rule):
    severity: Severity = Severity.WARNING
    threshold: Int = Field(default=10, ge=1, le=MAX_QUEUE_DEPTH, description="contacts in queue that open the alert")
    clear_below: Int | None = Field(
        default=None, ge=1, le=MAX_QUEUE_DEPTH, description="resolved once fewer wait (default 80 % of threshold)"
    )

    @model_validator(mode="after")
    def _clear_not_above_open(self) -> QueueDepthRule:
        if self.clear_below is not None and self.clear_below > self.threshold:
            raise ValueError("clear_below must not exceed threshold")
        return self

    @property
    def clear_at(self) -> int:
        return self.clear_below if self.clear_below is not None else max(1, math.ceil(self.threshold * 0.8))


class NotReadyRule(_Rule):
    severity: Severity = Severity.WARNING
    threshold_s: Int = Field(default=900, ge=1, le=MAX_THRESHOLD_S)
    # Only not-ready statuses an agent can be in (events.NotReadyStatus): "Lunch", RESERVED or AVAILABLE can never
    # match a not-ready agent, so they are refused rather than silently never applied (rules stored before load).
    ignore_statuses: SortedSet[Annotated[NotReadyStatus, Field(min_length=1, max_length=MAX_STATUS)]] = Field(
        default=frozenset(), max_length=MAX_IGNORED_STATUSES,
        description="planned not-ready reasons, e.g. LUNCH (NOT_READY or a reason; answered sorted)"
    )


class SilenceRule(_Rule):
    severity: Severity = Severity.WARNING
    threshold_s: Float = Field(default=15.0, ge=0.1, le=3600, allow_inf_nan=False)


class SentimentRule(_Rule):
    severity: Severity = Severity.WARNING
    threshold: Float = Field(
        default=-2.0, ge=-5, le=5, allow_inf_nan=False, description="mean customer score at or below this opens it"
    )
    segments: Int = Field(default=3, ge=1, le=MAX_SCORES, description="the last K customer segments are averaged")
    clear_above: Float | None = Field(
        default=None, ge=-5, le=5, allow_inf_nan=False,
        description="an open alert resolves once the mean is above this (default threshold + 0.5)",
    )

    @model_validator(mode="after")
    def _clear_not_below_open(self) -> SentimentRule:
        if self.clear_above is not None and self.clear_above < self.threshold:
            raise ValueError("clear_above must not be below threshold")
        return self

    @property
    def clear_at(self) -> float:
        return self.clear_above if self.clear_above is not None else min(5.0, self.threshold + 0.5)


DEFAULT_ESCALATION_PHRASES = (
    "cancel", "lawyer", "attorney", "sue", "legal action", "supervisor", "manager", "complaint", "ombudsman",
)  # fmt: skip


EscalationPhrase = Annotated[str, Field(min_length=1, max_length=MAX_ESCALATION_PHRASE), AfterValidator(visible_phrase)]


class EscalationRule(_Rule):
    severity: Severity = Severity.CRITICAL
    phrases: tuple[EscalationPhrase, ...] = Field(
        default=DEFAULT_ESCALATION_PHRASES, max_length=MAX_ESCALATION_PHRASES
    )
    speakers: SortedSet[Speaker] = Field(default=frozenset({Speaker.CUSTOMER}), min_length=1, max_length=len(Speaker),
                                         description="answered sorted")

    @field_validator("phrases")
    @classmethod
    def _phrases_have_words(cls, phrases: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for position, phrase in enumerate(phrases):  # named by position, never echoed
            words = len(normalize_phrase(phrase))  # raises on a phrase with no words
            if words > MAX_ESCALATION_PHRASE_WORDS and not is_stored(info.context):  # stored rules still load
                raise ValueError(f"phrase {position} has {words} words (at most {MAX_ESCALATION_PHRASE_WORDS})")
        return phrases


class AlertRules(BaseModel):
    """A tenant's alert rules. Sections left out take the defaults; `enabled: false` switches one off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_level: ServiceLevelRule = Field(default_factory=ServiceLevelRule)
    long_wait: LongWaitRule = Field(default_factory=LongWaitRule)
    queue_depth: QueueDepthRule = Field(default_factory=QueueDepthRule)
    agent_not_ready: NotReadyRule = Field(default_factory=NotReadyRule)
    silence: SilenceRule = Field(default_factory=SilenceRule)
    negative_sentiment: SentimentRule = Field(default_factory=SentimentRule)
    escalation_phrase: EscalationRule = Field(default_factory=EscalationRule)

    def rule(self, rule: AlertRule) -> Any:
        return getattr(self, rule.value)


# --- alerts -----------------------------------------------------------------------------------------

Details = dict[str, float | int | str | None]


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    alert_id: str
    rule: AlertRule
    subject: str = Field(description="queue/<id>, agent/<id> or contact/<id>")
    severity: Severity
    status: AlertStatus = AlertStatus.OPEN
    message: str
    details: Details = Field(default_factory=dict)
    queue_id: str | None = None
    opened_at: int
    acknowledged_at: int | None = None
    resolved_at: int | None = None
    resolution: Resolution | None = None
    published: bool = Field(default=False, description="its opening reached the alerts bus")

    @property
    def key(self) -> tuple[AlertRule, str]:
        return self.rule, self.subject

    @property
    def subject_kind(self) -> str:
        return self.subject.split("/", 1)[0]

    @property
    def subject_id(self) -> str:
        return self.subject.split("/", 1)[1]

    @property
    def unresolved(self) -> bool:
        return self.status != AlertStatus.RESOLVED

    @property
    def sequence(self) -> int:
        """Where the alert is in its one-way life (OPEN 1, ACKNOWLEDGED 2, RESOLVED 3): its events carry it,
        so a consumer keeps the highest per alert_id, however EventBridge orders or repeats them."""
        return _SEQUENCE[self.status]

    def acknowledged(self, at_ms: int) -> Alert:
        return self.model_copy(update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_at": at_ms})

    def resolved(self, at_ms: int, resolution: Resolution) -> Alert:
        return self.model_copy(update={"status": AlertStatus.RESOLVED, "resolved_at": at_ms, "resolution": resolution})


_SEQUENCE = {AlertStatus.OPEN: 1, AlertStatus.ACKNOWLEDGED: 2, AlertStatus.RESOLVED: 3}


def new_alert_id(opened_at_ms: int, unique: str) -> str:
    """Time-ordered (sorts by opening), unique by the id generator's tail."""
    return f"{opened_at_ms:013d}-{unique.replace('-', '')[-12:]}"


@dataclass(frozen=True)
class Finding:
    """A rule's condition holds for a subject now."""

    rule: AlertRule
    subject: str
    severity: Severity
    message: str
    details: Mapping[str, float | int | str | None] = field(default_factory=dict)
    queue_id: str | None = None

    @property
    def key(self) -> tuple[AlertRule, str]:
        return self.rule, self.subject

    def alert(self, tenant_id: str, alert_id: str, now_ms: int) -> Alert:
        return Alert(
            tenant_id=tenant_id, alert_id=alert_id, rule=self.rule, subject=self.subject, severity=self.severity,
            message=self.message, details=dict(self.details), queue_id=self.queue_id, opened_at=now_ms,
        )


@dataclass
class Decisions:
    open: list[Finding] = field(default_factory=list)
    resolve: list[tuple[Alert, Resolution]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.open or self.resolve)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


# --- queues and agents (condition rules, from snapshots of the stored live state) -------------------


@dataclass(frozen=True)
class WindowCounts:
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    abandoned_within_sl: int = 0
    timed_out: int = 0  # the system ended the wait (live_metrics `timed_out`): a miss, not an abandon

    @property
    def resolved(self) -> int:
        """Contacts whose service level is decided: answered, abandoned after the threshold, or timed out (the
        live view's default SL, ccaas.domain.live_metrics)."""
        return self.answered + self.abandoned - self.abandoned_within_sl + self.timed_out

    def service_level(self, variant: str = "default") -> float | None:
        """By the tenant's variant, as the live view shows it (live_metrics.live_service_level)."""
        return live_service_level({name: getattr(self, name) for name in _WINDOW_COUNTERS}, variant)


_WINDOW_COUNTERS = ("answered", "answered_within_sl", "abandoned", "abandoned_within_sl", "timed_out")
# Attribute names per one-minute slot, built once: the sweep reads 15 slots of every queue.
_SLOT_KEYS = [(f"m{k}_at", tuple(f"m{k}_{name}" for name in _WINDOW_COUNTERS)) for k in range(MINUTE_SLOTS)]


def window_counts(live_item: Mapping[str, Any], now_ms: int, minutes: int) -> WindowCounts:
    """Sums over the live metrics item's one-minute slots (`m<k>_at` = epoch minute, `m<k>_<counter>`,
    see ccaas.domain.live_metrics) over the live view's window (live_metrics.sliding_minutes): the alert's "last
    15 min" is the wallboard's. A window thin at a minute's start does not resolve an open alert (queue_findings)."""
    totals = [0] * len(_WINDOW_COUNTERS)
    get = live_item.get
    for minute in sliding_minutes(now_ms, min(minutes, MAX_WINDOW_MINUTES)):
        tag, keys = _SLOT_KEYS[minute % MINUTE_SLOTS]
        if get(tag) != minute:
            continue
        for i, key in enumerate(keys):
            totals[i] += int(get(key, 0))
    return WindowCounts(*totals)


@dataclass(frozen=True)
class QueueSnapshot:
    queue_id: str
    sl_target: float
    in_queue: int
    oldest_enqueued_at: int | None = None
    oldest_contact_id: str | None = None
    live_item: Mapping[str, Any] = field(default_factory=dict)
    sl_variant: str = "default"  # the tenant's KpiSettings.service_level_variant: the SL its live view shows

    @property
    def subject(self) -> str:
        return f"queue/{self.queue_id}"


@dataclass(frozen=True)
class AgentSnapshot:
    agent_id: str
    status: str
    activity: str
    not_ready_since: int  # max(status set, last contact ended): not-ready time starts when work stops

    @property
    def subject(self) -> str:
        return f"agent/{self.agent_id}"


Active = Container[tuple[AlertRule, str]]


def queue_findings(rules: AlertRules, queue: QueueSnapshot, now_ms: int, active: Active = ()) -> list[Finding]:
    found: list[Finding] = []
    subject, qid = queue.subject, queue.queue_id

    sl = rules.service_level
    if sl.enabled:
        window = window_counts(queue.live_item, now_ms, sl.window_minutes)
        target = sl.target if sl.target is not None else queue.sl_target
        level = window.service_level(queue.sl_variant) if window.resolved >= sl.min_contacts else None  # None: too few
        # Too few contacts is no evidence of recovery: an open alert holds until enough of them show SL back at
        # target + clear_margin (hysteresis, as queue depth's clear_below).
        holding = (AlertRule.SERVICE_LEVEL, subject) in active
        if (level is not None and level < target) or (holding and (level is None or level < sl.clear_at(target))):
            since_ms = sliding_minutes(now_ms, sl.window_minutes).start * 60_000
            since = datetime.fromtimestamp(since_ms / 1000, tz=UTC).strftime("%H:%M")
            found.append(Finding(
                AlertRule.SERVICE_LEVEL, subject, sl.severity,
                f"Queue {qid}: service level {'-' if level is None else f'{level:.0%}'} over the last "
                f"{sl.window_minutes} min (since {since} UTC; target {target:.0%}, {window.resolved} contacts)",
                {"service_level": None if level is None else round(level, 4), "target": target,
                 "window_minutes": sl.window_minutes, "window_start": iso(since_ms), "contacts": window.resolved,
                 "clear_at": sl.clear_at(target)},
                qid,
            ))  # fmt: skip

    wait = rules.long_wait
    if wait.enabled and queue.oldest_enqueued_at is not None:
        waited_s = max(0, now_ms - queue.oldest_enqueued_at) / 1000
        if waited_s >= wait.threshold_s:
            found.append(Finding(
                AlertRule.LONG_WAIT, subject, wait.severity,
                f"Queue {qid}: oldest contact waiting {_duration(waited_s)} (threshold {_duration(wait.threshold_s)})",
                {"oldest_wait_s": round(waited_s, 1), "threshold_s": wait.threshold_s,
                 "contact_id": queue.oldest_contact_id},
                qid,
            ))  # fmt: skip

    depth = rules.queue_depth
    if depth.enabled:
        holding = (AlertRule.QUEUE_DEPTH, subject) in active
        if queue.in_queue >= depth.threshold or (holding and queue.in_queue >= depth.clear_at):
            found.append(Finding(
                AlertRule.QUEUE_DEPTH, subject, depth.severity,
                f"Queue {qid}: {queue.in_queue} contact{'s' if queue.in_queue != 1 else ''} in queue "
                f"(threshold {depth.threshold})",
                {"in_queue": queue.in_queue, "threshold": depth.threshold, "clear_below": depth.clear_at},
                qid,
            ))  # fmt: skip
    return found


def agent_findings(rules: AlertRules, agent: AgentSnapshot, now_ms: int) -> list[Finding]:
    rule = rules.agent_not_ready
    if not rule.enabled or agent.activity != AgentActivity.NOT_READY or agent.status in rule.ignore_statuses:
        return []
    for_s = max(0, now_ms - agent.not_ready_since) / 1000
    if for_s < rule.threshold_s:
        return []
    return [
        Finding(
            AlertRule.AGENT_NOT_READY, agent.subject, rule.severity,
            f"Agent {agent.agent_id}: not ready ({agent.status}) for {_duration(for_s)} "
            f"(threshold {_duration(rule.threshold_s)})",
            {"agent_id": agent.agent_id, "status": agent.status, "not_ready_s": round(for_s, 1),
             "threshold_s": rule.threshold_s},
        )
    ]  # fmt: skip


def reconcile(findings: Iterable[Finding], active: Sequence[Alert], in_scope: Callable[[Alert], bool]) -> Decisions:
    """Open what holds and has no unresolved alert; resolve the in-scope alerts whose condition is gone."""
    decisions = Decisions()
    holding = {a.key for a in active if a.unresolved}
    holds: set[tuple[AlertRule, str]] = set()
    for finding in findings:
        holds.add(finding.key)
        if finding.key not in holding:
            holding.add(finding.key)  # one decision per key even if two findings name it
            decisions.open.append(finding)
    for alert in active:
        if alert.unresolved and in_scope(alert) and alert.key not in holds:
            decisions.resolve.append((alert, Resolution.CONDITION_CLEARED))
    return decisions


def evaluate(
    rules: AlertRules,
    *,
    queues: Sequence[QueueSnapshot] = (),
    agents: Sequence[AgentSnapshot] = (),
    active: Sequence[Alert] = (),
    now_ms: int,
    whole_tenant: bool = False,
) -> Decisions:
    """Condition rules for the given queues and agents. Only their alerts can be resolved, unless
    `whole_tenant` says these are ALL the tenant's queues and agents (the sweep): then an alert on a
    queue or agent that no longer exists is resolved too. Contact alerts are never touched here."""
    keys = {a.key for a in active if a.unresolved}
    findings = [f for q in queues for f in queue_findings(rules, q, now_ms, keys)]
    findings += [f for a in agents for f in agent_findings(rules, a, now_ms)]
    subjects = {q.subject for q in queues} | {a.subject for a in agents}

    def in_scope(alert: Alert) -> bool:
        if alert.rule not in QUEUE_RULES and alert.rule not in AGENT_RULES:
            return False
        return whole_tenant or alert.subject in subjects

    return reconcile(findings, active, in_scope)


def contacts_ended(active: Iterable[Alert], contact_ids: Container[str]) -> list[tuple[Alert, Resolution]]:
    """A contact's alerts end with its conversation."""
    return [
        (a, Resolution.CONTACT_ENDED)
        for a in active
        if a.unresolved and a.subject_kind == "contact" and a.subject_id in contact_ids
    ]


# --- live transcripts (contact rules) ---------------------------------------------------------------


class LiveTranscriptState(BaseModel):
    """What alert evaluation keeps between posts of one contact's live transcript: no transcript text
    (the guidance prompts hold the tenant's own configured texts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    contact_id: str
    last_end_ms: int | None = None
    customer_scores: tuple[float, ...] = ()
    segments: int = 0
    updated_at: int = 0
    version: int = 0
    guidance: GuidanceState = Field(default_factory=GuidanceState)  # the agent's prompts (ccaas.domain.guidance)
    # The silence (its `at_ms`: where it began) whose alert a supervisor resolved by hand: not alerted again, by the
    # sweep while it lasts nor by the post ending it (its (rule, contact) slot was free again).
    silence_dismissed_at_ms: int | None = None

    def silence_alertable(self, at_ms: int) -> bool:
        """Whether the silence that began `at_ms` after connect may be alerted."""
        return at_ms != self.silence_dismissed_at_ms


class LiveSegment(BaseModel):
    """A posted segment after redaction: the only form anything after the redactor sees."""

    model_config = ConfigDict(frozen=True)

    speaker: Speaker
    begin_ms: int
    end_ms: int
    text: str
    sentiment: float


@dataclass(frozen=True)
class RedactedSegments:
    segments: list[LiveSegment]
    redaction_counts: dict[str, int]


def redact_and_score(segments: Sequence[Segment], redactor: Redactor, sentiment: SentimentAnalyzer) -> RedactedSegments:
    """Redaction first (the raw text is read by the redactor only), then sentiment on the redacted text."""
    ordered = sorted(segments, key=lambda s: (s.begin_ms, s.end_ms))
    redacted = redactor.redact_many([s.text for s in ordered], [s.speaker for s in ordered])
    scores = sentiment.analyze(list(redacted.texts)) if ordered else []
    return RedactedSegments(
        [
            LiveSegment(speaker=s.speaker, begin_ms=s.begin_ms, end_ms=s.end_ms, text=text, sentiment=score)
            for s, text, score in zip(ordered, redacted.texts, scores, strict=True)
        ],
        dict(redacted.counts),
    )


@lru_cache(maxsize=256)
def _phrase_index(phrases: tuple[str, ...]) -> tuple[PhraseIndex, dict[int, str]]:
    normalized = {normalize_phrase(p): p for p in phrases}
    index = PhraseIndex(normalized)
    return index, {index.id_of(words): phrase for words, phrase in normalized.items()}


@dataclass(frozen=True)
class TranscriptEvaluation:
    state: LiveTranscriptState
    findings: list[Finding]
    cleared: frozenset[AlertRule]  # condition rules (sentiment) that no longer hold


def evaluate_transcript(
    rules: AlertRules,
    state: LiveTranscriptState,
    segments: Sequence[LiveSegment],
    *,
    now_ms: int,
    queue_id: str | None = None,
) -> TranscriptEvaluation:
    """Silence (gaps between segments, from connection or the previous post's last one on), the customer's
    mean sentiment over the last K segments, escalation phrases. `segments` are redacted and time-ordered."""
    subject = f"contact/{state.contact_id}"
    cid = state.contact_id
    findings: list[Finding] = []

    # Silence: the longest span with nobody speaking (overlapping speech counts as talk).
    # Live offsets count from connection, so before the first segment nobody has spoken since 0: dead air
    # right after the customer is connected is silence too.
    longest_ms, at_ms = 0, None
    spoken_until = state.last_end_ms if state.last_end_ms is not None else 0
    for s in segments:
        if s.begin_ms - spoken_until > longest_ms and state.silence_alertable(spoken_until):
            longest_ms, at_ms = s.begin_ms - spoken_until, spoken_until
        spoken_until = max(spoken_until, s.end_ms)
    silence = rules.silence
    if silence.enabled and longest_ms >= silence.threshold_s * 1000:
        findings.append(Finding(
            AlertRule.SILENCE, subject, silence.severity,
            f"Contact {cid}: {longest_ms / 1000:.0f} s of silence (threshold {silence.threshold_s:g} s)",
            {"silence_s": round(longest_ms / 1000, 1), "threshold_s": silence.threshold_s, "at_ms": at_ms},
            queue_id,
        ))  # fmt: skip

    # Sentiment: the customer's last K segment scores.
    scores = state.customer_scores + tuple(s.sentiment for s in segments if s.speaker == Speaker.CUSTOMER)
    scores = scores[-MAX_SCORES:]
    sentiment = rules.negative_sentiment
    cleared: set[AlertRule] = set()
    if sentiment.enabled and len(scores) >= sentiment.segments:
        mean = sum(scores[-sentiment.segments :]) / sentiment.segments
        if mean <= sentiment.threshold:
            findings.append(Finding(
                AlertRule.NEGATIVE_SENTIMENT, subject, sentiment.severity,
                f"Contact {cid}: customer sentiment {mean:+.1f} over the last {sentiment.segments} segments "
                f"(threshold {sentiment.threshold:+.1f})",
                {"sentiment": round(mean, 2), "threshold": sentiment.threshold, "segments": sentiment.segments,
                 "clear_above": sentiment.clear_at},
                queue_id,
            ))  # fmt: skip
        elif mean > sentiment.clear_at:
            cleared.add(AlertRule.NEGATIVE_SENTIMENT)
        # in between (hysteresis): neither opens nor clears, so an open alert stays open
    elif not sentiment.enabled:
        cleared.add(AlertRule.NEGATIVE_SENTIMENT)

    # Escalation phrases, said by the configured speakers (matched on redacted, normalised words).
    escalation = rules.escalation_phrase
    if escalation.enabled and escalation.phrases and segments:
        index, names = _phrase_index(escalation.phrases)
        words = segment_words([s.text for s in segments])
        heard = [
            (segment, position, pid)
            for pid, hits in index.find(words).items()
            for segment, position in hits
            if segments[segment].speaker in escalation.speakers
        ]
        if heard:
            segment, _, pid = min(heard)  # the first one said
            findings.append(Finding(
                AlertRule.ESCALATION_PHRASE, subject, escalation.severity,
                f"Contact {cid}: escalation phrase '{names[pid]}' ({segments[segment].speaker.value.lower()})",
                {"phrase": names[pid], "speaker": segments[segment].speaker.value,
                 "at_ms": segments[segment].begin_ms, "matches": len(heard)},
                queue_id,
            ))  # fmt: skip

    new_state = state.model_copy(
        update={
            "last_end_ms": spoken_until,
            "customer_scores": scores,
            "segments": state.segments + len(segments),
            "updated_at": now_ms,
            "version": state.version + 1,
        }
    )
    return TranscriptEvaluation(new_state, findings, frozenset(cleared))


def transcript_decisions(evaluation: TranscriptEvaluation, active: Sequence[Alert]) -> Decisions:
    subject = f"contact/{evaluation.state.contact_id}"
    mine = [a for a in active if a.subject == subject and a.unresolved]
    return reconcile(evaluation.findings, mine, lambda a: a.rule in evaluation.cleared)


# --- what goes on the alerts bus ---------------------------------------------------------------------

EVENT_SOURCE = "ccaas.alerts"
EVENT_SCHEMA_VERSION = "1"


class AlertChange(StrEnum):
    OPENED = "Alert Opened"
    ACKNOWLEDGED = "Alert Acknowledged"
    RESOLVED = "Alert Resolved"


def iso(ms: int | None) -> str | None:
    """Epoch ms as ISO 8601 UTC with milliseconds (the API's and the events' time format)."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_detail(alert: Alert) -> dict[str, Any]:
    """The `detail` of an alert event (its detail-type is the AlertChange). `version` is the schema's;
    `sequence` orders one alert's events (EventBridge keeps no order: a late opening can follow its resolution)."""
    kind = alert.subject_kind
    return {
        "version": EVENT_SCHEMA_VERSION,
        "tenant_id": alert.tenant_id,
        "alert_id": alert.alert_id,
        "sequence": alert.sequence,
        "rule": alert.rule.value,
        "severity": alert.severity.value,
        "status": alert.status.value,
        "subject": alert.subject,
        "queue_id": alert.queue_id if kind != "queue" else alert.subject_id,
        "agent_id": alert.subject_id if kind == "agent" else None,
        "contact_id": alert.subject_id if kind == "contact" else None,
        "message": alert.message,
        "details": alert.details,
        "opened_at": iso(alert.opened_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_at": iso(alert.resolved_at),
        "resolution": alert.resolution.value if alert.resolution else None,
    }
