"""Contact-center entities (see shared DOMAIN.md). Pure: no I/O, no clock reads; times are epoch ms.

The shared terms (errors, channels, states, bounds, name patterns) live in ccaas.domain.vocabulary and are
re-exported here, so `from ccaas.domain.models import Channel` keeps working."""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccaas.domain.routing_engine.plan import RoutingPlan
from ccaas.domain.vocabulary import (  # noqa: F401 - re-exported
    ALLOWED_TRANSITIONS,
    DEFAULT_CAPACITY,
    E164_PATTERN,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_AGENT_QUEUES,
    MAX_CAPACITY,
    MAX_SECONDS,
    MAX_SKILLS,
    _NAME,
    NAME_PATTERN,
    TERMINAL_STATES,
    WAITING_STATES,
    AgentStatus,
    Bool,
    Channel,
    Conflict,
    ContactState,
    DisplayName,
    DomainError,
    Float,
    Frozen,
    InitiationMethod,
    Int,
    Name,
    NotFound,
    RequiredSkill,
    Seconds,
    SkillName,
    SkillRequirement,
    SlThresholdSeconds,
    SortedSet,
    StoredName,
    TooLarge,
    check_transition,
    shown_value,
    within_calendar,
)


class QueueSettings(Frozen):
    """What a client configures for a queue (PUT /queues/{id}); the tenant and id come from the call."""

    name: DisplayName
    channels: SortedSet[Channel] = Field(default=frozenset(Channel), min_length=1,
                                         description="the channels it takes (at least one; answered sorted)")
    required_skills: tuple[RequiredSkill, ...] = Field(default=(), max_length=20)
    sl_threshold_s: SlThresholdSeconds = Field(default=20, description="answered within this many seconds counts as in SL")
    # Below 1: no finite staffing answers every contact within the threshold (a target of 1 made every staffing
    # forecast of the queue fail).
    sl_target: Float = Field(default=0.8, ge=0.01, lt=1, allow_inf_nan=False,
                             description="the share answered within sl_threshold_s to aim for, 0.01 to below 1")
    max_wait_s: Int = Field(default=600, ge=1, le=MAX_SECONDS,
                            description="queue timeout: the contact is ended as ABANDONED")
    priority: Int = Field(default=5, ge=1, le=10)


class Queue(QueueSettings):
    name: StoredName
    # A queue stored before a "name:value" skill needed its value keeps loading (routing reads it as written).
    required_skills: tuple[SkillRequirement, ...] = Field(default=(), max_length=20)
    # Queues stored before writes were bounded below 1 keep loading (the staffing forecast plans a 1 as 0.9999).
    sl_target: float = Field(default=0.8, ge=0.01, le=1, allow_inf_nan=False,
                             description="the share answered within sl_threshold_s to aim for")
    tenant_id: str
    queue_id: Name

    def require_channel(self, channel: Channel) -> None:
        """One intake rule for the API and the Connect flow: a queue takes only its channels."""
        if channel not in self.channels:
            raise DomainError(f"queue {self.queue_id} does not take {channel} contacts", field="channel")


class QueueAssignment(Frozen):
    """One queue in a routing profile: priority 1 is served first; delay is seconds of wait required."""

    queue_id: Name
    priority: Int = Field(default=1, ge=1, le=100)
    delay_s: Seconds = 0


class AgentProfile(BaseModel):
    """What a client configures for an agent (PUT /agents/{id}): never live state (status, contacts in
    hand, counters, version), which only the lifecycle writes."""

    model_config = ConfigDict(extra="forbid")

    name: DisplayName
    skills: dict[SkillName, Int] = Field(default_factory=dict, max_length=MAX_SKILLS,
                                         description="skill -> proficiency 1-5")
    queues: tuple[QueueAssignment, ...] = Field(default=(), max_length=MAX_AGENT_QUEUES)
    capacity: dict[Channel, Annotated[Int, Field(ge=0, le=MAX_CAPACITY)]] = Field(
        default_factory=lambda: dict(DEFAULT_CAPACITY), description="contacts of each channel at once (0: none)")
    # Voice blocks other channels while active (Amazon Connect's default cross-channel behaviour).
    voice_blocks_other_channels: Bool = True
    # Key into the tenant routing policy's profiles (cross-channel rules); None: the defaults above.
    routing_profile_id: Annotated[str, Field(pattern=_NAME)] | None = None

    @field_validator("skills")
    @classmethod
    def _proficiency_range(cls, skills: dict[str, int]) -> dict[str, int]:
        for name, level in skills.items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill {shown_value(name)}: proficiency must be 1-5")
        return skills

    @field_validator("queues")
    @classmethod
    def _each_queue_once(cls, queues: tuple[QueueAssignment, ...]) -> tuple[QueueAssignment, ...]:
        seen = [q.queue_id for q in queues]
        if len(seen) != len(set(seen)):
            raise ValueError("a queue may appear once in an agent's routing profile")
        return queues


PROFILE_FIELDS = frozenset(AgentProfile.model_fields)


class Agent(AgentProfile):
    name: StoredName
    # An agent stored before a "name:value" skill needed its value keeps loading.
    skills: dict[Name, Int] = Field(default_factory=dict, max_length=MAX_SKILLS)
    tenant_id: str
    agent_id: Name
    status: str = AgentStatus.OFFLINE
    status_since: int = 0
    active: dict[Channel, int] = Field(default_factory=dict)
    active_contact_ids: tuple[str, ...] = ()
    # Reserved for this agent, not yet accepted: what the agent's client shows as offers.
    offered_contact_ids: tuple[str, ...] = ()
    # Contacts whose customer is gone but whose after-contact work is not done: they hold their slot.
    acw_contact_ids: tuple[str, ...] = ()
    last_contact_ended_at: int = 0
    activity_since: int = 0
    # Contacts handled (ACW ended) on `handled_day`, the tenant-local day (YYYYMMDD).
    handled_day: str | None = None
    handled_today: int = 0
    # The status the agent goes to when its last contact ends (lifecycle.set_status: a supervisor's OFFLINE while
    # contacts are still connected). Meanwhile it takes no new work and counts as leaving, not staffed.
    next_status: str | None = None
    version: int = 0

    @property
    def is_available(self) -> bool:
        return self.status == AgentStatus.AVAILABLE and self.next_status is None

    @property
    def is_staffed(self) -> bool:
        return (self.next_status or self.status) != AgentStatus.OFFLINE

    def free_slots(self, channel: Channel) -> int:
        if not self.is_available:
            return 0
        if self.voice_blocks_other_channels and channel != Channel.VOICE and self.active.get(Channel.VOICE, 0):
            return 0
        if channel == Channel.VOICE and any(n for c, n in self.active.items() if c != Channel.VOICE):
            return 0  # a voice call is never offered on top of other work
        return max(0, self.capacity.get(channel, 0) - self.active.get(channel, 0))

    @property
    def busy(self) -> bool:
        return any(self.active.values())

    def serves(self, queue_id: str) -> QueueAssignment | None:
        return next((q for q in self.queues if q.queue_id == queue_id), None)

    def has_skills(self, requirements: tuple[SkillRequirement, ...]) -> bool:
        return all(self.skills.get(r.skill, 0) >= r.min_proficiency for r in requirements)

    def slots(self) -> tuple[int, int]:
        """(busy, available) contact slots, for slot occupancy (DOMAIN.md "Occupancy": busy slot-seconds ÷
        available slot-seconds): available = the most contacts it takes at once on one channel (3 chats, or 1
        call); busy = the contacts it holds (offers and after-contact work keep their slot), every slot while a
        call blocks its other channels."""
        available = max(self.capacity.values(), default=0)
        if self.voice_blocks_other_channels and self.active.get(Channel.VOICE, 0):
            return available, available
        return min(sum(self.active.values()), available), available

    def idle_since(self) -> int:
        """When the agent last became free of work: longest idle is served first."""
        return max(self.status_since, self.last_contact_ended_at)


class TransferKind(StrEnum):
    QUEUE = "QUEUE"
    AGENT = "AGENT"
    EXTERNAL = "EXTERNAL"


class TransferTarget(Frozen):
    """Where a transfer (or consult) goes: a queue, a named agent, or an external number (a quick
    connect the tenant configured; Amazon Connect's TransferredToEndpoint)."""

    kind: TransferKind
    queue_id: str | None = None
    agent_id: str | None = None
    quick_connect_id: str | None = None
    phone_number: str | None = None


class HandoverMode(StrEnum):
    BLIND = "BLIND"
    CONSULT = "CONSULT"
    ESCALATION = "ESCALATION"


class Handover(Frozen):
    """On a segment made by a transfer: who sent it, how, why, and the sender's note (redacted)."""

    mode: HandoverMode
    from_agent_id: str
    from_contact_id: str
    from_queue_id: str
    target: TransferTarget
    reason: str | None = None
    note: str | None = None
    at: int


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    contact_id: str
    channel: Channel
    initiation_method: InitiationMethod = InitiationMethod.API
    queue_id: str
    state: ContactState = ContactState.INITIATED
    priority: int = 5
    customer_id: str | None = None
    reason: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    previous_contact_id: str | None = None
    initial_contact_id: str | None = None
    agent_id: str | None = None
    # Agents that rejected or missed this contact are not offered it again.
    declined_by: tuple[str, ...] = ()
    initiated_at: int
    enqueued_at: int | None = None
    offered_at: int | None = None
    connected_at: int | None = None
    disconnected_at: int | None = None
    acw_ended_at: int | None = None
    ended_at: int | None = None
    # Why an ABANDONED contact ended: CUSTOMER_LEFT, QUEUE_TIMEOUT, CALLBACK_EXPIRED, ...
    abandon_reason: str | None = None
    # The number to call back (E.164) while CALLBACK_SCHEDULED, and on the CALLBACK contact made from it.
    callback_number: str | None = None
    # Opaque callback token of the workflow step waiting on this contact (Step Functions task token).
    workflow_token: str | None = None
    # When that step's timer ends (epoch ms, set as it parks its token): an offer made outside the workflow whose
    # reservation ends well before it wakes the workflow (routing_engine.outcomes.offer_wakes_workflow).
    check_at: int | None = None
    sl_threshold_s: int = 20
    # The plan made at intake: steps that relax over time, segment, journey flags (routing engine).
    routing: RoutingPlan | None = None
    # --- moving work between people (ccaas.domain.transfers) ---
    # Segments as in Amazon Connect: a transfer ends this segment (disposition TRANSFERRED, target in
    # transferred_to) and links the next one; the next one carries the handover.
    next_contact_id: str | None = None
    segment_number: int = 1  # 1 for the customer's first segment, +1 per transfer
    transferred_to: TransferTarget | None = None
    handover: Handover | None = None
    # Hold: counted in handle time, not talk time. held_since is set while the customer is on hold.
    held_since: int | None = None
    hold_ms: int = 0
    hold_count: int = 0
    # A consult in progress: on the consulting segment, the consult leg's id (customer on hold); on the
    # leg, the consulting segment's id until the consult is completed, conferenced or cancelled.
    consult_contact_id: str | None = None
    consult_of: str | None = None
    consult_ms: int = 0
    # A conference: both agents' segments name each other while the customer talks to both.
    conference_with: str | None = None
    conference_since: int | None = None
    conference_ms: int = 0
    version: int = 0

    @property
    def on_hold(self) -> bool:
        return self.held_since is not None

    @property
    def answered(self) -> bool:
        """An agent took it and it did not fail: live, in ACW, or ended by its agent. The end of its after-contact
        work starts its post-contact workflow (the lifecycle ended at the answer)."""
        return self.connected_at is not None and self.state in (
            ContactState.CONNECTED, ContactState.ACW, ContactState.COMPLETED, ContactState.TRANSFERRED)

    def queue_wait_ms(self) -> int | None:
        if self.enqueued_at is None:
            return None
        end = self.connected_at or (self.disconnected_at if self.state == ContactState.ABANDONED else None)
        return None if end is None else end - self.enqueued_at
