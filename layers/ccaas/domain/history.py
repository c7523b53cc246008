"""Contact history (pure): what the History store keeps per contact and how it becomes KPI input.

A `HistoryEntry` is one contact's row: its `ContactRecord` (replaced only by a newer version), the
survey answers, the repeat-contact flags and the summary of its transcript analysis. Each part has
its own writer (post-contact workflow or CTR consumer, survey API, flag refresh, analysis) and its
own attributes in storage, so a late survey or a flag change never races a record correction.
`kpi_record()` joins them into the one record the KPI roll-up reads.

Repeat flags (FCR) are set when a record is written, not on every read: `repeat_flag_changes`
recomputes them from the customer's contacts within ±W days of the new one (see its docstring for
why that window is exact for the flags it returns).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, computed_field, field_serializer, model_validator

from ccaas.domain.kpis.records import ActivityKind, AgentActivity, ContactRecord, FinalState
from ccaas.domain.kpis.repeats import repeat_flags
from ccaas.domain.routing_engine.synthetic import is_synthetic
from ccaas.domain.vocabulary import MAX_CAPACITY, ContactState, DomainError

if TYPE_CHECKING:  # an annotation only: history and KPI records never build a contact (nor its routing plan)
    from ccaas.domain.models import Contact

DAY_MS = 86_400_000
# A day whose end is this far past is settled: the forecast caches its interval series (usecases/forecasting.py).
SETTLED_AFTER_MS = 2 * DAY_MS

_FINAL_STATES: dict[ContactState, FinalState] = {
    ContactState.COMPLETED: FinalState.COMPLETED,
    ContactState.ABANDONED: FinalState.ABANDONED,
    ContactState.FAILED: FinalState.FAILED,
    ContactState.TRANSFERRED: FinalState.TRANSFERRED,
}
# Abandon reasons of a wait the system ended (usecases.contacts' recheck): the customer did not leave, so the
# record is `timed_out`, not an abandon (DOMAIN.md "Abandoned"; the live counters follow the same rule).
SYSTEM_ENDED_WAIT = frozenset({"QUEUE_TIMEOUT", "CALLBACK_EXPIRED"})
# Contact attributes that carry KPI dimensions the lifecycle itself does not know (first non-empty wins).
SEGMENT_KEYS = ("segment", "customer_segment")
SKILL_KEYS = ("skill", "primary_skill")
TEAM_KEYS = ("team",)


def _attribute(attributes: Mapping[str, str], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = (attributes.get(key) or "").strip()
        if value:
            return value
    return None


def record_from_contact(contact: Contact) -> ContactRecord | None:
    """The history record of one of our own contacts, or None while it has not ended (or is a journey
    test's synthetic contact: ccaas.domain.routing_engine.synthetic).

    `last_updated_at` is when it ended, so recording the same ended contact twice (a retried
    workflow step) is a no-op in the store. A hold or conference still open when the contact ended
    (it left CONNECTED without the disconnect that closes them) is counted up to its disconnect.
    A contact that ended with `consult_of` still set is a cancelled consult leg (`consult_leg`); one the
    queue gave up on (abandon reason in SYSTEM_ENDED_WAIT) is `timed_out`.
    """
    final_state = _FINAL_STATES.get(contact.state)
    if final_state is None or is_synthetic(contact):  # a journey test's contact never enters history or KPIs
        return None
    ended = contact.ended_at or contact.acw_ended_at or contact.disconnected_at or contact.initiated_at
    stop = contact.disconnected_at or ended
    hold_ms = contact.hold_ms + _open_span(contact.held_since, stop)
    conference_ms = contact.conference_ms + _open_span(contact.conference_since, stop)
    attributes = contact.attributes
    return ContactRecord(
        tenant_id=contact.tenant_id,
        contact_id=contact.contact_id,
        channel=contact.channel,
        initiation_method=contact.initiation_method.value,
        queue_id=contact.queue_id,
        agent_id=contact.agent_id if contact.connected_at is not None else None,
        team=_attribute(attributes, TEAM_KEYS),
        skill=_attribute(attributes, SKILL_KEYS),
        reason=contact.reason,
        segment=(contact.routing.segment if contact.routing is not None else None) or _attribute(attributes, SEGMENT_KEYS),
        customer_id=contact.customer_id,
        previous_contact_id=contact.previous_contact_id,
        initial_contact_id=contact.initial_contact_id,
        initiated_at=contact.initiated_at,
        # A waiting caller who chose a callback hands the wait over to the CALLBACK contact, which keeps the same
        # enqueued_at and is the one offered and answered: counted on both, one caller was two offers (SL halved).
        enqueued_at=None if _handed_to_callback(contact) else contact.enqueued_at,
        connected_at=contact.connected_at,
        disconnected_at=contact.disconnected_at,
        acw_ended_at=contact.acw_ended_at,
        hold_ms=hold_ms,
        hold_count=contact.hold_count,
        transferred=final_state is FinalState.TRANSFERRED,
        next_contact_id=contact.next_contact_id,
        transferred_to_kind=contact.transferred_to.kind.value if contact.transferred_to is not None else None,
        handover_mode=contact.handover.mode.value if contact.handover is not None else None,
        consult_ms=contact.consult_ms,
        conference_ms=conference_ms,
        consult_leg=contact.consult_of is not None,
        timed_out=final_state is FinalState.ABANDONED and contact.abandon_reason in SYSTEM_ENDED_WAIT,
        final_state=final_state,
        sl_threshold_s=contact.sl_threshold_s,
        last_updated_at=ended,
    )


def _handed_to_callback(contact: Contact) -> bool:
    """The original of a reached callback (lifecycle.reach_callback): completed unanswered, its wait handed on."""
    return (contact.state == ContactState.COMPLETED and contact.connected_at is None and contact.callback_number is not None
            and bool(contact.attributes.get("callback_contact_id")))


def _open_span(since: int | None, stop: int | None) -> int:
    """The part of a span still open at the end (0 when none is open or the clocks disagree)."""
    if since is None or stop is None:
        return 0
    return max(0, stop - since)


def anchor_time(record: ContactRecord) -> int:
    """The instant a record is filed under (history is read by ranges of it): when the customer
    reached out, else the record's version time."""
    contact_time = record.contact_time
    return contact_time if contact_time is not None else record.last_updated_at


class Survey(BaseModel):
    """A post-contact survey. `comment` is stored redacted (the API redacts before it gets here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    csat: int | None = Field(default=None, ge=1, le=5)
    ces: int | None = Field(default=None, ge=1, le=7)
    nps: int | None = Field(default=None, ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)
    submitted_at: int = 0

    @model_validator(mode="after")
    def _some_answer(self) -> Survey:
        if self.csat is None and self.ces is None and self.nps is None:
            raise ValueError("a survey needs at least one of csat, ces, nps")
        return self


class ParticipantRole(StrEnum):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"


class MessageRedaction(BaseModel):
    """One redaction in a stored chat message: its kind and where its placeholder is in the stored content
    (character offsets), never the value. The pieces of one value typed over several messages (a card in two
    halves) share `redaction`, so the analysis counts the value once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    redaction: str


def _iso(ms: int) -> str:
    """Epoch ms as the API's times read (ISO 8601 UTC with milliseconds, like api.views.iso)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChatMessage(BaseModel):
    """A chat message: `content` as stored (redacted); `absolute_time` when it was sent, ISO 8601, and
    `absolute_time_ms` the same instant in epoch milliseconds."""

    # In Python `absolute_time` is epoch ms, as stored; the JSON (model_dump(mode="json")) is what the API answers
    # (README "Times in answers"), without the redaction receipt (the contact's analysis carries it). The store
    # writes and reads stored_json() / from_stored(). `redactions` None: stored before messages kept their receipt.
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    participant_role: ParticipantRole
    content: str
    absolute_time: int = Field(description="when it was sent (ISO 8601 UTC)")  # epoch ms in Python
    redactions: tuple[MessageRedaction, ...] | None = Field(default=None, exclude=True)

    @field_serializer("absolute_time", when_used="json")
    def _readable(self, ms: int) -> Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]:
        return _iso(ms)

    @computed_field(description="absolute_time in epoch milliseconds")  # type: ignore[prop-decorator]
    @property
    def absolute_time_ms(self) -> int:
        return self.absolute_time

    @property
    def cursor(self) -> str:
        """Where the next page of a chat's messages starts after this one (time order, then id)."""
        return f"{self.absolute_time:013d}#{self.message_id}"

    def as_transcript_item(self) -> dict[str, object]:
        """The shape `analytics.parse_chat_messages` reads."""
        return {
            "participant_role": self.participant_role.value,
            "content": self.content,
            "absolute_time": self.absolute_time,
        }

    def stored_json(self) -> str:
        """The message as its store item holds it: epoch ms, the receipt once it has one. A message stored before
        receipts dumps exactly as it was written (a rewrite's condition compares the stored JSON)."""
        fields = {name: getattr(self, name) for name in _StoredMessage.model_fields}
        return _StoredMessage.model_construct(**fields).model_dump_json(exclude_none=True)

    @classmethod
    def from_stored(cls, text: str) -> ChatMessage:
        stored = _StoredMessage.model_validate_json(text)
        return cls.model_construct(**{name: getattr(stored, name) for name in _StoredMessage.model_fields})


class _StoredMessage(BaseModel):
    """A chat message's stored JSON (the item's `message`), written before receipts without `redactions`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    participant_role: ParticipantRole
    content: str
    absolute_time: int
    redactions: tuple[MessageRedaction, ...] | None = None


class AnalysisSummary(BaseModel):
    """What search, root-cause views and KPIs need of a transcript analysis (no text at all)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qa_score: float  # the evaluation's score 0-100 (0 when auto-failed), supervisor overrides included
    auto_failed: bool = False  # an automatic-fail question of the evaluation form failed
    categories: tuple[str, ...] = ()
    compliance_failed: tuple[str, ...] = ()
    customer_sentiment: float | None = None
    agent_sentiment: float | None = None
    reason: str | None = None  # classified reason; None when only the fallback matched
    segments: int = 0
    redactions: int = 0
    analyzed_at: int = 0
    # Real-time guidance given during the contact (its live transcript state): prompts shown by kind,
    # and how many of them the agent followed (ccaas.domain.guidance).
    guidance_prompts: dict[str, int] = Field(default_factory=dict)
    guidance_followed: int = 0
    # Questions of the evaluation answered (not N/A). With none (a form waiting for a person), qa_score's 100
    # is no score: `scored` is False. None: a summary stored before this was kept, counted as scored.
    answered: int | None = Field(default=None, ge=0)

    @property
    def scored(self) -> bool:
        """Whether qa_score is a score: KPIs (`evaluated`), qa_below and QA rankings count only these."""
        return self.answered is None or self.answered > 0

    @classmethod
    def of(cls, analysis: object, *, analyzed_at: int, fallback_reason: str = "other") -> AnalysisSummary:
        """From an `analytics.TranscriptAnalysis` (typed loosely to keep this module light)."""
        reason = analysis.reason.reason  # type: ignore[attr-defined]
        evaluation = analysis.evaluation  # type: ignore[attr-defined]
        return cls(
            qa_score=evaluation.score,
            auto_failed=evaluation.auto_failed,
            categories=tuple(sorted({c.name for c in analysis.categories})),  # type: ignore[attr-defined]
            compliance_failed=tuple(
                sorted(c.rule for c in analysis.compliance if c.status == "FAILED")  # type: ignore[attr-defined]
            ),
            customer_sentiment=analysis.sentiment.customer.overall,  # type: ignore[attr-defined]
            agent_sentiment=analysis.sentiment.agent.overall,  # type: ignore[attr-defined]
            reason=None if reason == fallback_reason else reason,
            segments=len(analysis.segments),  # type: ignore[attr-defined]
            redactions=sum(analysis.redaction.counts.values()),  # type: ignore[attr-defined]
            analyzed_at=analyzed_at,
            answered=evaluation.answered,
        )


# --- contact-flow (IVR) milestones ---------------------------------------------------------------------
SELF_SERVICE_SUCCESS = "self_service_success"  # the flow served the customer: the contact is contained
MILESTONE_NAME = r"^[a-z][a-z0-9_]{0,63}$"


class FlowEvent(BaseModel):
    """A milestone an Amazon Connect flow logged against its contact (menu choice, self-service done).
    `value` is what the flow sent (e.g. the menu option); flows must not send personal data in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MILESTONE_NAME)
    value: str | None = Field(default=None, max_length=128)
    at: int  # epoch ms

    @property
    def self_service(self) -> bool:
        return self.name == SELF_SERVICE_SUCCESS


class FlowSummary(BaseModel):
    """What the contact's history entry keeps of its flow milestones (the events are stored beside it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    milestones: int = 0
    last: str | None = None
    self_service: bool = False  # a self_service_success milestone was logged


class Containment(BaseModel):
    """Self-service containment over history entries: of the contacts whose flow logged milestones,
    those that logged self_service_success and never reached an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_flow: int = 0
    contained: int = 0
    containment_rate: float | None = None


def containment(entries: Iterable[HistoryEntry]) -> Containment:
    in_flow = contained = 0
    for entry in entries:
        if entry.flow is None:
            continue
        in_flow += 1
        reached_agent = entry.record is not None and (entry.record.connected_at is not None or entry.record.agent_id is not None)
        if entry.flow.self_service and not reached_agent:
            contained += 1
    return Containment(in_flow=in_flow, contained=contained, containment_rate=contained / in_flow if in_flow else None)


class HistoryEntry(BaseModel):
    """Everything the History store holds on one contact (any part may still be missing: a survey
    can arrive before the contact record does)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    contact_id: str
    record: ContactRecord | None = None
    csat: int | None = None
    ces: int | None = None
    nps: int | None = None
    followed_by_repeat: bool | None = None
    is_repeat: bool | None = None
    analysis: AnalysisSummary | None = None
    flow: FlowSummary | None = None

    @property
    def reason(self) -> str | None:
        """The record's reason, else the one the transcript analysis classified."""
        if self.record is not None and self.record.reason:
            return self.record.reason
        return self.analysis.reason if self.analysis is not None else None

    @property
    def contact_time(self) -> int | None:
        return None if self.record is None else anchor_time(self.record)

    def kpi_record(self) -> ContactRecord | None:
        """The record with survey answers (an API survey wins over answers carried in a CTR), repeat
        flags, the effective reason and the evaluation score joined in; None until the record itself
        has arrived."""
        record = self.record
        if record is None:
            return None
        update: dict[str, object] = {"followed_by_repeat": self.followed_by_repeat, "is_repeat": self.is_repeat}
        if self.csat is not None or self.ces is not None or self.nps is not None:
            update.update(csat=self.csat, ces=self.ces, nps=self.nps)
        reason = self.reason
        if reason != record.reason:
            update["reason"] = reason
        if self.analysis is not None and self.analysis.scored:  # nothing answered: not evaluated
            update.update(evaluation_score=self.analysis.qa_score, evaluation_auto_failed=self.analysis.auto_failed)
        return record.model_copy(update=update)


FlagChanges = dict[str, dict[str, bool | None]]


def repeat_flag_changes(entries: Iterable[HistoryEntry], anchor: HistoryEntry, *, window_days: int) -> FlagChanges:
    """Flag changes caused by `anchor` (a contact just recorded or re-classified).

    `entries` are the customer's contacts with a contact time within [t − W, t + W] of the anchor's
    time t (the anchor itself may be missing: index reads lag). From that window exactly these flags
    are decidable, and only these are returned when they differ from what is stored:
    - `followed_by_repeat` of contacts at or before t (their follow-ups within W lie inside the window);
    - `is_repeat` of contacts at or after t (their predecessors within W lie inside the window).
    """
    by_id = {e.contact_id: e for e in entries if e.record is not None}
    by_id[anchor.contact_id] = anchor
    t = anchor.contact_time
    if t is None:
        return {}
    records = [r for r in (e.kpi_record() for e in by_id.values()) if r is not None]
    flags = repeat_flags(records, window_days=window_days)
    changes: FlagChanges = {}
    for contact_id, (followed, repeat) in flags.items():
        entry = by_id[contact_id]
        when = entry.contact_time
        if when is None:
            continue
        change: dict[str, bool | None] = {}
        if when <= t and entry.followed_by_repeat is not followed:
            change["followed_by_repeat"] = followed
        if when >= t and entry.is_repeat is not repeat:
            change["is_repeat"] = repeat
        if change:
            changes[contact_id] = change
    return changes


# --- agent activity -----------------------------------------------------------------------------------
# The activity agent events carry (events.agent_activity) -> the KPI activity kinds. A reservation
# holds its slot (the agent can take nothing else on it), so ringing offers count as time on contacts
# for occupancy and utilization, as they did before RESERVED had its own name.
_ACTIVITY_KINDS = {
    "AVAILABLE": ActivityKind.AVAILABLE_IDLE,
    "RESERVED": ActivityKind.ON_CONTACT,
    "ON_CONTACT": ActivityKind.ON_CONTACT,
    "ACW": ActivityKind.ACW,
    "NOT_READY": ActivityKind.NOT_READY,
    "OFFLINE": ActivityKind.OFFLINE,
}


# The longest range of closed activity spans one read may cover: the KPI ranges (93 days) and their
# day of look-back, with a margin. The stores read spans one UTC day partition at a time, so this
# also bounds the queries of a read (a range from epoch 0 was ~20,000 of them).
MAX_ACTIVITY_READ_DAYS = 100


def check_activity_range(from_ms: int, to_ms: int) -> None:
    """DomainError (field "from") for a span read longer than MAX_ACTIVITY_READ_DAYS."""
    if to_ms - from_ms > MAX_ACTIVITY_READ_DAYS * DAY_MS:
        raise DomainError(f"agent activity is read for at most {MAX_ACTIVITY_READ_DAYS} days at a time", field="from")


def activity_kind(activity: str | None) -> ActivityKind | None:
    """None for an activity this version does not know (a newer producer): skipped, never guessed."""
    return _ACTIVITY_KINDS.get(activity or "")


# Kinds whose time counts in slot occupancy (not ready and offline have no slots: AgentActivity.slots).
_SLOTTED = frozenset({ActivityKind.ON_CONTACT, ActivityKind.ACW, ActivityKind.AVAILABLE_IDLE})


class OpenActivity(BaseModel):
    """What an agent has been doing since `since` (the span is closed by its next activity event)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    kind: ActivityKind
    since: int
    sequence: int  # the agent's version when it started: older or repeated events are ignored
    # Contact slots busy / available during it (Agent.slots), on spans that have slots (on a contact, in ACW,
    # idle); None: the span's defaults (AgentActivity.slots), as for spans recorded before slots were.
    slots_busy: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    slots_available: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)

    @classmethod
    def of_event(cls, agent_id: str, kind: ActivityKind, since: int, sequence: int, payload: Mapping[str, Any]) -> OpenActivity:
        """The activity an agent event opens, with the event's slot counts when the kind has slots and both counts
        are whole numbers in range (an older producer's event has none: the defaults apply)."""
        busy, available = payload.get("slots_busy"), payload.get("slots_available")
        counted = kind in _SLOTTED and all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_CAPACITY for n in (busy, available))
        return cls(agent_id=agent_id, kind=kind, since=since, sequence=sequence,
                   slots_busy=busy if counted else None, slots_available=available if counted else None)

    def until(self, end_ms: int, tenant_id: str | None) -> AgentActivity:
        """The span this activity makes once it ends at `end_ms`."""
        return AgentActivity(agent_id=self.agent_id, tenant_id=tenant_id, start_ms=self.since, end_ms=end_ms,
                             kind=self.kind, slots_busy=self.slots_busy, slots_available=self.slots_available)


