"""The inputs of every historical KPI: one flat `ContactRecord` per contact and `AgentActivity` spans.

Times are epoch milliseconds (UTC), as everywhere inside the backend. Derived durations follow
DOMAIN.md "Times on a contact" and never go negative: a record with clocks out of order (it happens
with merged sources) contributes zero for that duration instead of poisoning a sum.
"""
from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ccaas.domain.vocabulary import ActivityKind, Channel  # noqa: F401 - ActivityKind re-exported

__all__ = ["ActivityKind", "AgentActivity", "Channel", "ContactRecord", "FinalState"]


class FinalState(StrEnum):
    """The terminal state a history record ends in (same values as the lifecycle's ContactState)."""

    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"
    FAILED = "FAILED"
    TRANSFERRED = "TRANSFERRED"
    CALLBACK_SCHEDULED = "CALLBACK_SCHEDULED"


class ContactRecord(BaseModel):
    """History of one contact, flat, as the KPI code reads it.

    `initiation_method` stays a plain string: Amazon Connect has a dozen values and adds more, and a
    new one must not make a record unreadable. `followed_by_repeat` / `is_repeat` are set by
    `mark_repeat_contacts` (None = not part of the FCR population, see repeats.py).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(min_length=1)
    contact_id: str = Field(min_length=1)
    channel: Channel
    initiation_method: str = "INBOUND"
    queue_id: str | None = None
    agent_id: str | None = None
    team: str | None = None
    skill: str | None = None
    reason: str | None = None
    segment: str | None = None
    customer_id: str | None = None
    previous_contact_id: str | None = None
    initial_contact_id: str | None = None

    initiated_at: int | None = None
    enqueued_at: int | None = None
    connected_at: int | None = None
    disconnected_at: int | None = None
    acw_ended_at: int | None = None
    hold_ms: int = Field(default=0, ge=0)
    hold_count: int = Field(default=0, ge=0)

    transferred: bool = False
    # Moving work between people (DOMAIN.md "Moving work between people"). All default so records
    # stored before transfers existed still validate.
    next_contact_id: str | None = None  # the segment this one was transferred to
    transferred_to_kind: str | None = None  # QUEUE / AGENT / EXTERNAL when known (None: unknown or not transferred)
    handover_mode: str | None = None  # how this segment was created: BLIND / CONSULT / ESCALATION
    # Transferred in by a contact flow from another queue (Connect QUEUE_TRANSFER), not by an agent: its
    # previous segment was never handled, so this one starts the handling of its customer contact.
    queue_transfer: bool = False
    consult_ms: int = Field(default=0, ge=0)  # time this segment's agent spent as the consulted party
    conference_ms: int = Field(default=0, ge=0)  # time with customer and both agents connected
    # A consult leg that was cancelled (ended with consult_of still set): agent-to-agent work, not a
    # customer contact. It counts as a consult only, never as offered/answered/abandoned/handled.
    consult_leg: bool = False
    # Ended ABANDONED because the system ended its wait (our QUEUE_TIMEOUT / CALLBACK_EXPIRED), not because
    # the customer left: offered, never answered, and not an abandon (DOMAIN.md "Abandoned": the customer
    # left). Defaults False so records stored before it existed still validate (and count as before).
    timed_out: bool = False
    final_state: FinalState
    sl_threshold_s: int | None = Field(default=None, ge=0)
    last_updated_at: int = 0

    csat: int | None = Field(default=None, ge=1, le=5)
    ces: int | None = Field(default=None, ge=1, le=7)
    nps: int | None = Field(default=None, ge=0, le=10)

    followed_by_repeat: bool | None = None
    is_repeat: bool | None = None

    # The transcript analysis' evaluation, joined in like the survey answers (history.kpi_record).
    evaluation_score: float | None = Field(default=None, ge=0, le=100)
    evaluation_auto_failed: bool | None = None

    # --- what the contact counts as -------------------------------------------------------------
    # A cancelled consult leg (consult_leg) is none of these: no customer was offered, answered or handled.
    @property
    def offered(self) -> bool:
        """Entered a queue."""
        return self.enqueued_at is not None and not self.consult_leg

    @property
    def answered(self) -> bool:
        """Entered a queue and was connected to an agent (a queue metric)."""
        return self.enqueued_at is not None and self.connected_at is not None and not self.consult_leg

    @property
    def handled(self) -> bool:
        """Connected to an agent, queued or not (outbound included): the base of AHT and transfer rate."""
        return self.connected_at is not None and not self.consult_leg

    @property
    def abandoned(self) -> bool:
        """Queued, then the customer left before connection (callbacks, transfers and a wait the system
        ended, `timed_out`, are not abandons)."""
        return (
            self.final_state is FinalState.ABANDONED
            and self.enqueued_at is not None
            and self.connected_at is None
            and not self.consult_leg
            and not self.timed_out
        )

    @property
    def transferred_in(self) -> bool:
        """A handled segment that a transfer created (by an agent or, in Connect, a flow's queue transfer)."""
        return self.handled and self.initiation_method == "TRANSFER"

    @property
    def starts_handling(self) -> bool:
        """The first handled segment of its customer contact: handled, and not transferred in by an agent
        (whose segment was itself handled). Counting these counts each initial contact handled once."""
        return self.handled and (self.initiation_method != "TRANSFER" or self.queue_transfer)

    # --- durations (ms), per DOMAIN.md ----------------------------------------------------------
    @property
    def queue_wait_ms(self) -> int | None:
        """connected − enqueued when answered; disconnected − enqueued otherwise; None if unknown."""
        if self.enqueued_at is None:
            return None
        end = self.connected_at if self.connected_at is not None else self.disconnected_at
        return None if end is None else max(0, end - self.enqueued_at)

    @property
    def acw_ms(self) -> int:
        if self.acw_ended_at is None or self.disconnected_at is None:
            return 0
        return max(0, self.acw_ended_at - self.disconnected_at)

    @property
    def talk_ms(self) -> int:
        """disconnected − connected − hold."""
        if self.connected_at is None or self.disconnected_at is None:
            return 0
        return max(0, self.disconnected_at - self.connected_at - self.hold_ms)

    @property
    def handle_ms(self) -> int:
        """talk + hold + acw (0 for a contact that never reached an agent)."""
        if self.connected_at is None:
            return 0
        return self.talk_ms + self.hold_ms + self.acw_ms

    @property
    def arrival_at(self) -> int | None:
        """The instant queue metrics are bucketed by (Amazon Connect's convention): when it was enqueued."""
        return self.enqueued_at

    @property
    def completed_at(self) -> int | None:
        """The instant handle-time, survey and FCR metrics are bucketed by: end of ACW, else disconnect.

        None while the contact is still open; a corrected record adds it once it ends.
        """
        return self.acw_ended_at if self.acw_ended_at is not None else self.disconnected_at

    @property
    def contact_time(self) -> int | None:
        """When the customer reached out (orders contacts for FCR)."""
        for t in (self.initiated_at, self.enqueued_at, self.connected_at):
            if t is not None:
                return t
        return None


class AgentActivity(BaseModel):
    """A span of one agent's time in one activity, [start_ms, end_ms).

    Slots describe concurrency (e.g. 2 chats busy of 3 slots). When absent: on a contact or in ACW
    counts as 1 busy of 1 available slot, idle as 0 of 1, not ready / offline as 0 of 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str = Field(min_length=1)
    team: str | None = None
    tenant_id: str | None = None
    start_ms: int
    end_ms: int
    kind: ActivityKind
    slots_busy: int | None = Field(default=None, ge=0)
    slots_available: int | None = Field(default=None, ge=0)

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)

    def slots(self) -> tuple[int, int]:
        """(busy, available) slots during this span, defaults applied."""
        busy_default, available_default = _DEFAULT_SLOTS[self.kind]
        busy = self.slots_busy if self.slots_busy is not None else busy_default
        available = self.slots_available if self.slots_available is not None else available_default
        return busy, available


_DEFAULT_SLOTS: dict[ActivityKind, tuple[int, int]] = {
    ActivityKind.ON_CONTACT: (1, 1),
    ActivityKind.ACW: (1, 1),
    ActivityKind.AVAILABLE_IDLE: (0, 1),
    ActivityKind.NOT_READY: (0, 0),
    ActivityKind.OFFLINE: (0, 0),
}
