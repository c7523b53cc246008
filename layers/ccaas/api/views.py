"""What the API returns: times as ISO 8601 UTC, internal fields (workflow tokens, versions) left out."""
from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ccaas.domain.history import ChatMessage
from ccaas.domain.models import Agent, Contact, Handover, TransferTarget
from ccaas.domain.routing_engine.journey import JourneySummary, PastContact
from ccaas.usecases.agents import Offer
from ccaas.usecases.waiting import HoursStatus, WaitInfo


def iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ContactView(BaseModel):
    contact_id: str
    channel: str
    initiation_method: str
    queue_id: str
    state: str
    priority: int
    customer_id: str | None
    reason: str | None
    attributes: dict[str, str]
    agent_id: str | None
    previous_contact_id: str | None
    initial_contact_id: str | None
    initiated_at: str | None
    enqueued_at: str | None
    offered_at: str | None
    connected_at: str | None
    disconnected_at: str | None
    acw_ended_at: str | None
    queue_wait_s: float | None
    routing_outcome: str | None = Field(default=None, description="queue | self_service | closed (plan at intake)")
    segment: str | None = None
    flags: list[str] = Field(default_factory=list, description="e.g. repeat_contact, last_agent_preferred, closed")
    next_open_at: str | None = Field(default=None, description="when the queue opens again (closed outcome)")
    callback: bool = Field(default=False, description="waiting as (or created from) a scheduled callback")
    abandon_reason: str | None = Field(default=None, description="ABANDONED: CUSTOMER_LEFT, QUEUE_TIMEOUT, CALLBACK_EXPIRED")
    wait: WaitInfo | None = Field(default=None, description="position and estimated wait, while waiting")
    # Moving work between people (README "Transfers, consults, conferences, hold").
    segment_number: int = Field(default=1, description="1 for the customer's first segment, +1 per transfer")
    next_contact_id: str | None = Field(default=None, description="the segment this one was transferred to")
    transferred_to: TransferTarget | None = Field(default=None, description="where this segment's agent sent it")
    handover: Handover | None = Field(default=None, description="on a transferred segment: who sent it, how, why, the note")
    on_hold: bool = False
    hold_count: int = 0
    hold_s: float = Field(default=0, description="hold time so far (a hold in progress counts once it ends)")
    consult_contact_id: str | None = Field(default=None, description="the consult leg in progress (customer on hold)")
    consult_of: str | None = Field(default=None, description="on a consult leg: the consulting agent's segment")
    conference_with: str | None = Field(default=None, description="the other agent's segment while in conference")

    @classmethod
    def of(cls, c: Contact, wait: WaitInfo | None = None) -> ContactView:
        wait_ms = c.queue_wait_ms()
        plan = c.routing
        return cls(
            **c.model_dump(
                mode="json",
                include={
                    "contact_id", "channel", "initiation_method", "queue_id", "state", "priority", "customer_id",
                    "reason", "attributes", "agent_id", "previous_contact_id", "initial_contact_id", "abandon_reason",
                    "segment_number", "next_contact_id", "hold_count", "consult_contact_id", "consult_of", "conference_with",
                },
            ),
            initiated_at=iso(c.initiated_at),
            enqueued_at=iso(c.enqueued_at),
            offered_at=iso(c.offered_at),
            connected_at=iso(c.connected_at),
            disconnected_at=iso(c.disconnected_at),
            acw_ended_at=iso(c.acw_ended_at),
            queue_wait_s=None if wait_ms is None else wait_ms / 1000,
            routing_outcome=plan.outcome if plan else None,
            segment=plan.segment if plan else None,
            flags=list(plan.flags) if plan else [],
            next_open_at=iso(plan.next_open_at) if plan else None,
            callback=c.callback_number is not None,
            wait=wait,
            transferred_to=c.transferred_to,
            handover=c.handover,
            on_hold=c.on_hold,
            hold_s=c.hold_ms / 1000,
        )


class AgentView(BaseModel):
    agent_id: str
    name: str
    status: str
    status_since: str | None
    next_status: str | None = Field(default=None, description=(
        "a status pending until the agent's last contact ends (a supervisor's OFFLINE during a conversation): "
        "meanwhile the agent takes no new work"))
    activity: str
    activity_since: str | None
    handled_today: int
    skills: dict[str, int]
    queues: list[dict]
    capacity: dict[str, int]
    # the rest of the profile PUT /agents/{id} takes: what it stored is what it answers, and what GET reads
    voice_blocks_other_channels: bool
    routing_profile_id: str | None = Field(description=(
        "a profile of the tenant's routing policy (its cross-channel rule); null, or one the policy does not have "
        "(removed or not yet added): only the agent's own capacity and voice_blocks_other_channels apply"))
    active: dict[str, int]
    offers: list[str]
    active_contact_ids: list[str]
    acw_contact_ids: list[str]

    @classmethod
    def of(cls, a: Agent, today: str) -> AgentView:
        """`today` (tenant-local YYYYMMDD) decides whether the stored handled count is today's."""
        from ccaas.domain.events import agent_activity

        dumped = a.model_dump(mode="json")
        return cls(
            agent_id=a.agent_id,
            name=a.name,
            status=a.status,
            status_since=iso(a.status_since),
            next_status=a.next_status,
            activity=agent_activity(a),
            activity_since=iso(a.activity_since),
            handled_today=a.handled_today if a.handled_day == today else 0,
            skills=a.skills,
            queues=dumped["queues"],
            capacity=dumped["capacity"],
            voice_blocks_other_channels=a.voice_blocks_other_channels,
            routing_profile_id=a.routing_profile_id,
            active=dumped["active"],
            offers=list(a.offered_contact_ids),
            active_contact_ids=list(a.active_contact_ids),
            acw_contact_ids=list(a.acw_contact_ids),
        )


class HoursView(BaseModel):
    queue_id: str
    open: bool
    next_open_at: str | None
    next_close_at: str | None
    time_zone: str

    @classmethod
    def of(cls, h: HoursStatus) -> HoursView:
        return cls(queue_id=h.queue_id, open=h.open, next_open_at=iso(h.next_open_at), next_close_at=iso(h.next_close_at),
                   time_zone=h.time_zone)


class OfferCustomerView(BaseModel):
    """The directory profile an agent sees with an offer (no phone numbers or e-mail addresses)."""

    customer_id: str
    name: str | None
    tier: str | None
    vip: bool
    preferred_language: str | None


class PastContactView(BaseModel):
    """One of the customer's recent contacts on an offer: its times as the API's others are (ISO 8601, and the
    same instant in epoch ms as `_ms`); the stored journey keeps epoch ms."""

    contact_id: str
    started_at: str | None = Field(description="when the customer reached out (KPI contact_time)")
    started_at_ms: int
    ended_at: str | None
    ended_at_ms: int | None
    agent_id: str | None
    queue_id: str | None
    channel: str | None
    reason: str | None
    outcome: str | None = Field(description="e.g. COMPLETED, ABANDONED, TRANSFERRED")
    sentiment: float | None

    @classmethod
    def of(cls, p: PastContact) -> PastContactView:
        return cls(**p.model_dump(mode="json", exclude={"started_at", "ended_at"}), started_at=iso(p.started_at),
                   started_at_ms=p.started_at, ended_at=iso(p.ended_at), ended_at_ms=p.ended_at)


class JourneyView(BaseModel):
    customer_id: str | None
    repeat_contact: bool
    repeat_of: str | None
    last_agent_id: str | None
    recent: list[PastContactView] = Field(description="the customer's most recent contacts, newest first")
    sentiment: float | None

    @classmethod
    def of(cls, j: JourneySummary) -> JourneyView:
        return cls(**j.model_dump(mode="json", exclude={"recent"}), recent=[PastContactView.of(p) for p in j.recent])


class OfferView(BaseModel):
    contact: ContactView
    expires_at: str | None
    journey: JourneyView | None = Field(description="repeat_contact, repeat_of, last_agent_id, recent contacts")
    customer: OfferCustomerView | None
    earlier_messages: list[ChatMessage] = Field(
        default_factory=list, description="a transferred contact's earlier segments' messages (redacted), oldest first")

    @classmethod
    def of(cls, offer: Offer) -> OfferView:
        customer = offer.customer
        return cls(
            earlier_messages=offer.earlier_messages,
            contact=ContactView.of(offer.contact),
            expires_at=iso(offer.expires_at),
            journey=JourneyView.of(offer.journey) if offer.journey else None,
            customer=None if customer is None else OfferCustomerView(
                customer_id=customer.customer_id, name=customer.name, tier=customer.tier, vip=customer.vip,
                preferred_language=customer.preferred_language),
        )
