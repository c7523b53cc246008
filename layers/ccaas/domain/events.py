"""The event envelope on the contact-events stream (schema version 1, documented in the README)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, uuid5
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_serializer

from ccaas.domain.routing_engine.synthetic import is_synthetic, is_test_agent
from ccaas.domain.vocabulary import NOT_READY_REASON, ActivityKind, AgentStatus, is_stored, shown_value

if TYPE_CHECKING:  # annotations only: a consumer that reads the envelope builds no entity (nor a routing plan)
    from ccaas.domain.guidance import Prompt
    from ccaas.domain.models import Agent, Contact

SCHEMA_VERSION = "1"


class MalformedEvent(ValueError):
    """An event a consumer cannot apply (a poison record: reported as a batch item failure); `reason` names the
    field, never its value (events carry customers' data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_ids(event: Event) -> Event:
    """The event, or MalformedEvent when an id of its payload (`queue_id`, `agent_id`, `contact_id` …) is not text:
    consumers key sets and tables by them, and an object or list there raised in the middle of their batch."""
    for key, value in event.payload.items():
        if key.endswith("_id") and value is not None and not isinstance(value, str):
            raise MalformedEvent(f"payload.{key} must be a string")
    return event


# A producer's clock may run a little ahead of a consumer's; an event from further ahead is forged or broken.
# Applied, it would move live metrics' day and minute slots to a period that has not begun (the rest of today
# then dropped as older) or open an agent's activity span in the future.
MAX_AHEAD_MS = 5 * 60_000


def check_time(event: Event, now_ms: int) -> None:
    if event.occurred_ms > now_ms + MAX_AHEAD_MS:
        raise MalformedEvent(f"occurred_at is more than {MAX_AHEAD_MS // 60_000} minutes ahead of now")


class EventType(StrEnum):
    CONTACT_QUEUED = "contact.queued"
    CONTACT_OFFERED = "contact.offered"
    CONTACT_OFFER_DECLINED = "contact.offer_declined"
    CONTACT_CONNECTED = "contact.connected"
    CONTACT_ACW_STARTED = "contact.acw_started"
    CONTACT_COMPLETED = "contact.completed"
    CONTACT_ABANDONED = "contact.abandoned"
    CONTACT_CALLBACK_SCHEDULED = "contact.callback_scheduled"
    # A scheduled callback reached an agent: it ends and its CALLBACK contact (payload callback_contact_id) takes over.
    CONTACT_CALLBACK_REACHED = "contact.callback_reached"
    # Moving work between people (ccaas.domain.transfers). transferred: on the segment its agent left
    # (payload mode BLIND/CONSULT/ESCALATION, to_kind, to_queue_id, to_agent_id, next_contact_id).
    CONTACT_TRANSFERRED = "contact.transferred"
    # A transfer or consult taken back because its new segment's workflow could not start: the sender has
    # the customer again; the payload repeats the undone contact.transferred's (mode, to_queue_id, ...).
    CONTACT_TRANSFER_UNDONE = "contact.transfer_undone"
    CONTACT_HELD = "contact.held"
    CONTACT_RESUMED = "contact.resumed"
    CONTACT_CONSULT_STARTED = "contact.consult_started"
    CONTACT_CONSULT_CANCELLED = "contact.consult_cancelled"
    CONTACT_CONFERENCE_JOINED = "contact.conference_joined"
    CONTACT_CONFERENCE_LEFT = "contact.conference_left"
    AGENT_STATUS_CHANGED = "agent.status_changed"
    # Also when only the slots held change, and when PUT /agents changes the queues (or the capacity, so the slots)
    # of an agent: then the payload's `previous_queue_ids` names the queues it served before (absent: `queue_ids`).
    AGENT_ACTIVITY_CHANGED = "agent.activity_changed"
    # A guidance prompt for the contact's agent (ccaas.domain.guidance): subject guidance/<contact id> and sequence
    # the prompt's number among the contact's prompts (guidance_event), so each prompt is its own (subject, sequence).
    AGENT_GUIDANCE_PROMPTED = "agent.guidance_prompted"


class Event(BaseModel):
    """`sequence` is the subject's version after the change: consumers order and deduplicate by it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: str = SCHEMA_VERSION
    event_id: str = Field(min_length=8)
    tenant_id: str = Field(min_length=1)
    type: str
    occurred_at: datetime
    subject: str
    sequence: int = Field(ge=0)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("occurred_at", when_used="json")
    def _iso_milliseconds(self, at: datetime) -> str:
        """ISO 8601 UTC to the millisecond, as documented ("2026-11-25T10:15:02.120Z"): every time of the domain is
        epoch milliseconds, so the microseconds pydantic writes are always zeros."""
        return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @property
    def occurred_ms(self) -> int:
        return int(self.occurred_at.timestamp() * 1000)

    @property
    def partition_key(self) -> str:
        # One subject's events share a shard, so they stay in order.
        return f"{self.tenant_id}#{self.subject}"


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def queued_event_id(contact: Contact) -> str:
    """The `contact.queued` event's id, the same however often it is published: a retried step publishes it again
    and the consumers' de-duplication (by event id) keeps one."""
    return str(uuid5(NAMESPACE_URL, f"ccaas:{contact.tenant_id}:{contact.contact_id}:queued:{contact.enqueued_at}"))


def contact_event(event_type: EventType, contact: Contact, event_id: str, at_ms: int, **extra: Any) -> Event:
    payload = {
        "contact_id": contact.contact_id,
        "queue_id": contact.queue_id,
        "channel": contact.channel.value,
        "initiation_method": contact.initiation_method.value,
        "state": contact.state.value,
        "agent_id": contact.agent_id,
        "enqueued_at": contact.enqueued_at,
        "connected_at": contact.connected_at,
        "disconnected_at": contact.disconnected_at,
        # A consult leg names the consulting segment and its agent, whose desktop follows the leg too.
        **({"consult_of": contact.consult_of, "consulting_agent_id": contact.handover.from_agent_id}
           if contact.consult_of and contact.handover else {}),
        # A journey test's contact (ccaas.domain.routing_engine.synthetic): metrics, history and alerts leave it out.
        **({"synthetic": True} if is_synthetic(contact) else {}),
        # Never the contact itself (a `contact.offered` once carried its dump: the customer's number,
        # attributes, customer id): every consumer and the failure bucket get each record. The push consumer reads
        # the offered contact (usecases.push) and still takes such a dump from a record written before.
        **extra,
    }
    return Event(
        event_id=event_id,
        tenant_id=contact.tenant_id,
        type=event_type,
        occurred_at=_at(at_ms),
        subject=f"contact/{contact.contact_id}",
        sequence=contact.version,
        payload=payload,
    )


def agent_event(event_type: EventType, agent: Agent, event_id: str, at_ms: int, **extra: Any) -> Event:
    payload = {
        "agent_id": agent.agent_id,
        "status": agent.status,
        "activity": agent_activity(agent),
        "queue_ids": [q.queue_id for q in agent.queues],
        "active": {c.value: n for c, n in agent.active.items() if n},
        # Contact slots held and offered (Agent.slots): a span of one count each (slot occupancy).
        **dict(zip(("slots_busy", "slots_available"), agent.slots(), strict=True)),
        **({"test_agent": True} if is_test_agent(agent) else {}),  # journey tests' agent: not in queue metrics
        **extra,
    }
    return Event(
        event_id=event_id,
        tenant_id=agent.tenant_id,
        type=event_type,
        occurred_at=_at(at_ms),
        subject=f"agent/{agent.agent_id}",
        sequence=agent.version,
        payload=payload,
    )


def guidance_event(contact: Contact, prompt: Prompt, number: int, event_id: str, at_ms: int) -> Event:
    """A guidance prompt for the contact's agent. Subject `guidance/<contact id>`, sequence `number`: the prompt's
    place among the contact's prompts (1 for its first; they are only ever appended, at most
    guidance.MAX_PROMPTS), so a consumer that orders and deduplicates by (subject, sequence) keeps every prompt
    once. (Under the contact's own subject, with the live transcript state's version, prompts clashed with the
    contact's events and with each other: two prompts of one post had one sequence.)"""
    return Event(
        event_id=event_id,
        tenant_id=contact.tenant_id,
        type=EventType.AGENT_GUIDANCE_PROMPTED,
        occurred_at=_at(at_ms),
        subject=f"guidance/{contact.contact_id}",
        sequence=number,
        payload={"agent_id": contact.agent_id, "contact_id": contact.contact_id, "rule": prompt.rule,
                 "kind": prompt.kind.value, "text": prompt.text, "at": prompt.at_ms, "segment_index": prompt.segment_index},
    )


class AgentActivity(StrEnum):
    OFFLINE = "OFFLINE"
    NOT_READY = "NOT_READY"
    AVAILABLE = "AVAILABLE"  # staffed, ready and idle
    # Only offers: contacts reserved for the agent, ringing, none accepted yet (Amazon Connect: Incoming).
    RESERVED = "RESERVED"
    ON_CONTACT = "ON_CONTACT"
    ACW = "ACW"


# What agent_activity and the activity spans call an agent's state, but the statuses themselves (RESERVED,
# ON_CONTACT, ACW, AVAILABLE_IDLE): never a status an agent is set to, by the status route or by a routing policy's
# not-ready status of a missed offer. Derived, so an activity added later is refused too.
SHOWN_NOT_SET = frozenset({*AgentActivity, *ActivityKind} - set(AgentStatus))
_NOT_READY_REASON = re.compile(NOT_READY_REASON)


def not_ready_status_problem(status: str) -> str | None:
    """Why `status` is no not-ready status an agent can be in (None when it is one: NOT_READY or a named reason
    such as BREAK). One definition for what a routing policy sets a missed offer's agent to and what the
    agent_not_ready alert rule may ignore; the status route takes the same reasons. The message names the status
    (a configuration value: README "Errors, limits and retries"), unless it may be a card number."""
    if not _NOT_READY_REASON.fullmatch(status):
        return (f"{shown_value(status)} is not an agent status: upper case letters, digits and _, a letter first, "
                "2-32 characters (e.g. BREAK)")
    if status in (AgentStatus.AVAILABLE, AgentStatus.OFFLINE):
        return f"a not-ready status, not {status}"
    if status in SHOWN_NOT_SET:
        return f"{status} is an activity the product shows, not a status an agent sets"
    return None


def settable_not_ready_status(status: str, info: ValidationInfo) -> str:
    """NotReadyStatus's check. Bounds added later: a document stored before them still loads
    (vocabulary.STORED_DOCUMENT), so no tenant's routing or alerts stop at an upgrade."""
    problem = not_ready_status_problem(status)
    if problem is not None and not is_stored(info.context):
        raise ValueError(problem)
    return status


NotReadyStatus = Annotated[str, AfterValidator(settable_not_ready_status)]


def agent_activity(agent: Agent) -> str:
    """One word for what the agent is doing now, derived from status and active contacts.

    Offers (reserved, not yet accepted) hold a slot but are no work yet: an agent whose only contacts
    are offers is RESERVED; otherwise the accepted ones decide (all in after-contact work: ACW)."""
    if agent.status == "OFFLINE" and not agent.busy:
        return AgentActivity.OFFLINE
    if agent.busy:
        offered = set(agent.offered_contact_ids)
        accepted = [c for c in agent.active_contact_ids if c not in offered]
        if offered and not accepted:
            return AgentActivity.RESERVED
        in_acw = set(agent.acw_contact_ids)
        if in_acw and all(c in in_acw for c in accepted):
            return AgentActivity.ACW
        return AgentActivity.ON_CONTACT
    if agent.status != "AVAILABLE":
        return AgentActivity.NOT_READY
    return AgentActivity.AVAILABLE
