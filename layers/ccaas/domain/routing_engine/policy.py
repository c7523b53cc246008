"""A tenant's routing policy: declarative, JSON-loadable, every field defaulted (pure).

    {
      "name": "default",
      "queue_defaults": {"steps": [...], "hours": {...}, "callback": {...}},
      "queues": {"billing": {"steps": [{"condition": "billing>=4", "expiry_s": 20},
                                        {"condition": "billing>=2", "expiry_s": 40}]}},
      "segments": {"platinum": {"priority": 1, "first_step_min_proficiency": 4}, ...},
      "journey": {"last_agent_window_s": 86400, "fcr_window_days": 7, ...},
      "agent_scoring": {"proficiency": 1.0, "idle": 1.0, "occupancy": 0.5},
      "contact_scoring": {"queue_priority": "strict", "contact_priority": 1.0, "wait": 1.0, "sl_risk": 1.0},
      "reservation": {"timeout_s": 30, "timeout": {"set_not_ready": true}},
      "profiles": {"billing_first": {"queues": [{"queue_id": "billing", "priority": 1}], ...}}
    }

`queues.<id>` is merged key by key over `queue_defaults`, its objects too (a queue that sets only "steps"
keeps the default hours and callback settings; one that sets only `callback.keep_place` keeps the default
offer threshold). A partial object takes the defaults of its place, never another place's: `reservation.
timeout` sets the agent not-ready by default, `reservation.reject` does not. Unknown keys are rejected so
typos do not pass silently.

Every field is bounded (constants below; ids match NAME_PATTERN, seconds ≤ 7 days, weights finite in
[0, 1000], ≤ 200 queues and profiles, ≤ 50 segments, ≤ 20 steps a queue, conditions as in conditions.py,
hours as in hours.py), and the whole policy as stored ≤ MAX_POLICY_BYTES: an over-large policy is a
ValidationError naming the field (the API answers 422), never a store error on save.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ccaas.domain.events import settable_not_ready_status
from ccaas.domain.models import MAX_CAPACITY, MAX_SECONDS, Channel, QueueAssignment
from ccaas.domain.vocabulary import Bool, Float, Int, NOT_READY_REASON, PRINTABLE_PATTERN, SortedSet
from ccaas.domain.routing_engine.conditions import NAME_PATTERN, WrittenCondition
from ccaas.domain.routing_engine.hours import HoursOfOperation

__all__ = [
    "AgentScoring",
    "CallbackPolicy",
    "ContactScoring",
    "CrossChannelRule",
    "DEFAULT_SEGMENTS",
    "MAX_POLICY_BYTES",
    "JourneyPolicy",
    "OfferFailurePolicy",
    "OfferTimeoutPolicy",
    "QueuePolicy",
    "ReservationPolicy",
    "RoutingPolicy",
    "RoutingProfile",
    "SegmentPolicy",
    "StepSpec",
]


# Bounds: every number, string, list and map of a policy is bounded, so a policy always fits its store
# item (checked last, on the whole: MAX_POLICY_BYTES) and an over-large one is a 422 naming the field.
MAX_QUEUES = 200
MAX_SEGMENTS = 50
MAX_PROFILES = 200
MAX_STEPS = 20
MAX_PREFERRED = 20
MAX_WEIGHT = 1_000.0
MAX_LABEL = 64
MAX_POLICY_BYTES = 350_000  # the stored JSON document; a DynamoDB item holds 400 KB

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Label = Annotated[str, Field(max_length=MAX_LABEL, pattern=PRINTABLE_PATTERN)]
Weight = Annotated[Float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
Seconds = Annotated[Float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
SecondsOrZero = Annotated[Float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
# A not-ready status an agent can be in: events.settable_not_ready_status, the one definition (the alert rules'
# events.NotReadyStatus too). The pattern first, and in the OpenAPI schema: a policy always refused other patterns.
NotReadyStatus = Annotated[str, Field(pattern=f"^{NOT_READY_REASON}$"), AfterValidator(settable_not_ready_status)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepSpec(_Frozen):
    """One routing step: who may take the contact while it is in force, and for how long (seconds)."""

    name: Label = ""
    condition: WrittenCondition | None = Field(default=None, description="None = any agent serving the queue")
    preferred_agents: tuple[Name, ...] = Field(default=(), max_length=MAX_PREFERRED,
                                               description="non-empty = only these agents")
    expiry_s: Seconds | None = Field(default=None, description="None = never expires")


class SegmentPolicy(_Frozen):
    priority: Int | None = Field(default=None, ge=1, le=10, description="contact priority, 1 = most urgent")
    first_step_min_proficiency: Int | None = Field(
        default=None, ge=1, le=5, description="prepend the queue's skill condition raised to this level")
    first_step_expiry_s: Seconds = 30
    first_step: StepSpec | None = Field(default=None, description="explicit first step (wins over the derived one)")
    deflect: Literal["never", "always", "when_wait_exceeds"] = "never"
    deflect_wait_s: SecondsOrZero = Field(default=60, description="for when_wait_exceeds: estimated wait above this")


DEFAULT_SEGMENTS: dict[str, SegmentPolicy] = {
    "platinum": SegmentPolicy(priority=1, first_step_min_proficiency=4, first_step_expiry_s=30),
    "gold": SegmentPolicy(priority=3, first_step_min_proficiency=4, first_step_expiry_s=15),
    "standard": SegmentPolicy(priority=5),
    "self_service": SegmentPolicy(priority=7, deflect="always"),
}


class JourneyPolicy(_Frozen):
    prefer_last_agent: Bool = True
    last_agent_window_s: SecondsOrZero = Field(default=86_400, description="last contact ended at most this long ago")
    last_agent_step_s: Seconds = Field(default=20, description="how long the last agent is waited for")
    fcr_window_days: Float = Field(default=7, gt=0, le=90, allow_inf_nan=False)
    repeat_priority_boost: Int = Field(default=1, ge=0, le=9,
                                       description="priority number lowered by this (more urgent)")
    recent_limit: Int = Field(default=5, ge=0, le=50)


class AgentScoring(_Frozen):
    """Score of an agent for a contact: proficiency·p + idle·i + occupancy·(1 − o) (see scoring.py)."""

    proficiency: Weight = 1.0
    idle: Weight = 1.0
    occupancy: Weight = 0.5
    idle_horizon_s: Seconds = Field(default=300, description="idle time at which the idle term saturates")
    candidate_limit: Int = Field(default=50, ge=1, le=10_000, description="eligible agents scored per decision")
    explain_top: Int = Field(default=5, ge=0, le=50)


class ContactScoring(_Frozen):
    """Order of waiting contacts for a free agent (see scoring.py for the formula)."""

    mode: Literal["scored", "fifo"] = "scored"
    queue_priority: Literal["strict", "weighted"] = "strict"
    queue_priority_weight: Weight = Field(default=1.0, description="weighted mode: per priority step")
    contact_priority: Weight = 1.0
    wait: Weight = 1.0
    sl_risk: Weight = 1.0
    sl_risk_horizon: Float = Field(default=0.25, gt=0, le=100, allow_inf_nan=False,
                                   description="mean time to the next chance, × T, without stats")
    explain_top: Int = Field(default=5, ge=0, le=50)


class OfferFailurePolicy(_Frozen):
    reoffer: Bool = True
    set_not_ready: Bool = False
    not_ready_status: NotReadyStatus = "MISSED"


class OfferTimeoutPolicy(OfferFailurePolicy):
    """An offer nobody answered: the agent is set not-ready by default (an explicit reject is not). Its own
    class, so a partial `timeout` object keeps this default (a field's default instance does not lend its
    values to the fields a client leaves out: they take the class's)."""

    set_not_ready: Bool = True


class ReservationPolicy(_Frozen):
    timeout_s: Seconds = 30
    reject: OfferFailurePolicy = OfferFailurePolicy()
    timeout: OfferTimeoutPolicy = OfferTimeoutPolicy()
    max_declines: Int | None = Field(
        default=None, ge=1, le=1_000, description="after this many refusals the exclusions are cleared (None = never)")


class CallbackPolicy(_Frozen):
    offer_when_wait_exceeds_s: SecondsOrZero | None = Field(default=None, description="None = never offer")
    keep_place: Bool = True
    max_wait_s: Seconds = Field(default=86_400, description="a callback not reached by then is abandoned")


class QueuePolicy(_Frozen):
    steps: tuple[StepSpec, ...] = Field(default=(), max_length=MAX_STEPS)
    priority: Int | None = Field(default=None, ge=1, le=10, description="default contact priority")
    hours: HoursOfOperation | None = Field(default=None, description="None = always open")
    when_closed: Literal["reject", "queue", "callback"] = Field(
        default="reject", description="a contact arriving while closed: turned away (the caller plays its closed "
        "message), queued anyway, or queued as a callback (needs a callback number)")
    callback: CallbackPolicy = CallbackPolicy()
    expected_aht_s: Seconds = Field(default=180, description="AHT prior for wait estimates of a quiet queue")


class CrossChannelRule(_Frozen):
    """Extra limits on top of Agent.free_slots: while on a contact of channel K, the channels in
    blocks[K] are not offered; max_contacts caps concurrent contacts over all channels."""

    blocks: dict[Channel, SortedSet[Channel]] = Field(default_factory=dict)
    max_contacts: Int | None = Field(default=None, ge=1, le=100)


class RoutingProfile(_Frozen):
    queues: tuple[QueueAssignment, ...] = Field(default=(), max_length=MAX_QUEUES)
    capacity: dict[Channel, Annotated[Int, Field(ge=0, le=MAX_CAPACITY)]] | None = None
    cross_channel: CrossChannelRule | None = None


def _over(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A queue's override merged key by key over queue_defaults, and so are its objects (`callback`, `hours`):
    a queue that sets only callback.keep_place keeps the default's offer threshold, not the class's "never"."""
    return {**base, **{key: {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict)
                       else value for key, value in override.items()}}


class RoutingPolicy(_Frozen):
    name: Label = "default"
    queue_defaults: QueuePolicy = QueuePolicy()
    queues: dict[Name, QueuePolicy] = Field(default_factory=dict, max_length=MAX_QUEUES)
    segments: dict[Name, SegmentPolicy] = Field(default_factory=lambda: dict(DEFAULT_SEGMENTS),
                                                max_length=MAX_SEGMENTS)
    journey: JourneyPolicy = JourneyPolicy()
    agent_scoring: AgentScoring = AgentScoring()
    contact_scoring: ContactScoring = ContactScoring()
    reservation: ReservationPolicy = ReservationPolicy()
    profiles: dict[Name, RoutingProfile] = Field(default_factory=dict, max_length=MAX_PROFILES)

    @model_validator(mode="before")
    @classmethod
    def _merge_queue_overrides(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("queues"), dict):
            return data
        base = data.get("queue_defaults")
        if isinstance(base, QueuePolicy):
            base = base.model_dump(exclude_unset=True)
        if not isinstance(base, dict):
            return data
        merged = {qid: _over(base, q) if isinstance(q, dict) else q for qid, q in data["queues"].items()}
        return {**data, "queues": merged}

    @model_validator(mode="after")
    def _fits_its_item(self) -> RoutingPolicy:
        """The whole policy as stored (queues carry the merged queue_defaults) fits one store item."""
        size = len(self.__pydantic_serializer__.to_json(self))
        if size > MAX_POLICY_BYTES // 3:  # large: measure what is stored (non-ASCII escaped as \uXXXX)
            size = len(json.dumps(self.model_dump(mode="json"), separators=(",", ":")))
        if size > MAX_POLICY_BYTES:
            parts = {f: len(json.dumps(self.model_dump(mode="json", include={f}), separators=(",", ":")))
                     for f in ("queue_defaults", "queues", "segments", "profiles")}
            biggest = max(parts, key=parts.__getitem__)
            raise ValueError(f"the policy is {size} bytes stored, at most {MAX_POLICY_BYTES}: "
                             f"{biggest} is the largest part ({parts[biggest]} bytes)")
        return self

    def for_queue(self, queue_id: str) -> QueuePolicy:
        return self.queues.get(queue_id, self.queue_defaults)

    @classmethod
    def from_json(cls, text: str | bytes) -> RoutingPolicy:
        return cls.model_validate_json(text)

    @classmethod
    def load(cls, path: str | Path) -> RoutingPolicy:
        return cls.model_validate(json.loads(Path(path).read_text()))
