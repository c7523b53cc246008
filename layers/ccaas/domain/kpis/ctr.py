"""Amazon Connect contact records (CTRs), as streamed to Kinesis, into `ContactRecord`s.

Parsing is lenient in the way Connect asks consumers to be: unknown fields are ignored (the format
grows), null sections (no Agent, no Queue) are normal, an InitiationMethod Connect does not document is
stored as UNKNOWN (as a missing one), never as sent. A lone UTF-16 surrogate in a text becomes U+FFFD, as
in the flow adapter's event (an id holding one is refused). What no Connect record holds (an id, name or ARN
over MAX_TEXT characters, a duration over MAX_DURATION_S, a time ahead of now) is refused naming its field.
Connect's own durations win over timestamp arithmetic (DOMAIN.md "Amazon Connect interop"): handle
time is AgentInteractionDuration + CustomerHoldDuration + AfterContactWorkDuration and queue wait is
Queue.Duration, whatever the timestamps say. The queue is ours by the tenant's mapping of Connect queue
ARNs, else by its Name.
What cannot be mapped raises `MalformedContactRecord` with a reason, so a consumer skips and counts
that one record instead of failing the batch; the reading is total: whatever else the (pure) parsing and
mapping would raise on a record is that record's MalformedContactRecord too. A reason names fields, never
quotes the record (its texts carry phone numbers and whatever a caller typed). Records arrive at least
once: `dedupe_latest` keeps, per ContactId, the copy with the latest LastUpdateTimestamp.

The wire models keep Connect's PascalCase names so they read like the documentation.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo

from ccaas.domain.connect_channels import connect_channel
# the flow adapter's reading of Connect's text, shared: a lone surrogate, and Connect's bound on a contact id
from ccaas.domain.events import MAX_AHEAD_MS
from ccaas.domain.kpis.records import Channel, ContactRecord, FinalState
from ccaas.domain.vocabulary import FIRST_YEAR, LAST_YEAR, MAX_CONTACT_ID
from ccaas.domain.vocabulary import LONE_SURROGATE as _SURROGATE

__all__ = [
    "ConnectCtr",
    "CtrMapping",
    "MalformedContactRecord",
    "contact_records_from_ctrs",
    "dedupe_latest",
    "parse_ctr",
    "parse_timestamp",
    "to_contact_record",
]


class MalformedContactRecord(ValueError):
    """A CTR that cannot become a ContactRecord; `reason` says why (stable enough to count by)."""

    def __init__(self, reason: str, *, contact_id: str | None = None):
        super().__init__(reason if contact_id is None else f"contact {contact_id}: {reason}")
        self.reason = reason
        self.contact_id = contact_id


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_CONTACT_SPAN_MS = 14 * 86_400_000  # initiation to the end of ACW (Connect's longest: a scheduled task)
# A Connect duration (seconds) no contact can have: beyond the longest span and a day's margin. Refused when read:
# 1e308 s is finite, yet in ms it overflowed round() (OverflowError: the record crashed instead of being rejected).
MAX_DURATION_S = MAX_CONTACT_SPAN_MS // 1000 + 86_400
MAX_HOLDS = 10_000  # Agent.NumberOfHolds: a bigger integer (any JSON integer parses) is no count DynamoDB stores
# Connect's own texts the record is keyed or grouped by (ids, ARNs, queue, hierarchy group and user names):
# Connect's ids are 1-256 characters, its names at most 127, its ARNs under 200. A longer one is no Connect record
# (a 3,000-character ContactId was over DynamoDB's 2,048-byte key; a 390,000-character team name became a
# dimension value): refused naming the field. Contact attributes are free-form (Connect allows 32 KB): one used as
# a dimension is cut to MAX_TEXT instead (`_attribute`).
MAX_TEXT = MAX_CONTACT_ID
_CALENDAR_MS = tuple((datetime(year, 1, 1, tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)
                     for year in (FIRST_YEAR, LAST_YEAR + 1))


def parse_timestamp(value: Any) -> int | None:
    """ISO 8601 ("2026-11-20T10:15:02Z", with or without milliseconds or an offset) → epoch ms.
    None or "" → None; a naive time is taken as UTC (Connect's times are UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("not an ISO 8601 timestamp") from None  # the text itself is the record's: never quoted
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def _not_ahead_of_now(value: int | None, info: ValidationInfo) -> int | None:
    """A time further ahead of the reader's now (`parse_ctr(now_ms=...)`) than a clock drifts is forged or broken:
    a LastUpdateTimestamp in 2099 made its copy the newest for good, every later correction stored as stale."""
    now_ms = (info.context or {}).get("now_ms")
    if value is not None and now_ms is not None and value > now_ms + MAX_AHEAD_MS:
        raise ValueError(f"more than {MAX_AHEAD_MS // 60_000} minutes ahead of now")
    return value


def _as_text(value: Any) -> Any:
    # a lone UTF-16 surrogate (a JSON "\ud800" escape without its pair) is no text: neither DynamoDB nor the logs
    # can encode it (the history write failed on it, every retry alike; pydantic refuses it as a str): U+FFFD, as
    # the flow adapter reads it
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def _as_id(value: Any) -> Any:
    if isinstance(value, str) and _SURROGATE.search(value):  # changed, it would be another contact's: refused, as
        raise ValueError("not text (a lone UTF-16 surrogate)")  # the flow adapter does
    return value


Timestamp = Annotated[int | None, BeforeValidator(parse_timestamp), AfterValidator(_not_ahead_of_now)]
Seconds = Annotated[float | None, Field(le=MAX_DURATION_S)]  # one of Connect's durations
Text = Annotated[str, Field(max_length=MAX_TEXT), BeforeValidator(_as_text)]
ConnectId = Annotated[str, Field(max_length=MAX_CONTACT_ID), BeforeValidator(_as_id)]


class _Wire(BaseModel):
    # Infinity and NaN parse as JSON numbers: refused here, a duration or timestamp of them is a malformed record
    # (rejected with its reason), not an OverflowError in the arithmetic after. A ValidationError's text never
    # carries the input (it may reach a traceback).
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False, hide_input_in_errors=True)


class CtrEndpoint(_Wire):
    Address: Text | None = None
    Type: Text | None = None


class CtrNamedResource(_Wire):
    ARN: Text | None = None
    Name: Text | None = None


class CtrHierarchyGroup(_Wire):
    ARN: Text | None = None
    GroupName: Text | None = None


class CtrHierarchyGroups(_Wire):
    # Connect's five levels by name: other keys are ignored, and an error's location is never a key the record chose
    Level1: CtrHierarchyGroup | None = None
    Level2: CtrHierarchyGroup | None = None
    Level3: CtrHierarchyGroup | None = None
    Level4: CtrHierarchyGroup | None = None
    Level5: CtrHierarchyGroup | None = None

    def level(self, n: int) -> CtrHierarchyGroup | None:
        return getattr(self, f"Level{n}", None)


class CtrAgent(_Wire):
    ARN: Text | None = None
    Username: Text | None = None
    ConnectedToAgentTimestamp: Timestamp = None
    AfterContactWorkStartTimestamp: Timestamp = None
    AfterContactWorkEndTimestamp: Timestamp = None
    AfterContactWorkDuration: Seconds = None
    AgentInteractionDuration: Seconds = None
    CustomerHoldDuration: Seconds = None
    NumberOfHolds: int | None = Field(default=None, le=MAX_HOLDS)
    HierarchyGroups: CtrHierarchyGroups | None = None
    RoutingProfile: CtrNamedResource | None = None


class CtrQueue(_Wire):
    ARN: Text | None = None
    Name: Text | None = None
    EnqueueTimestamp: Timestamp = None
    DequeueTimestamp: Timestamp = None
    Duration: Seconds = None


class ConnectCtr(_Wire):
    """The parts of a Connect contact record the KPIs use; everything else is ignored."""

    AWSAccountId: str | None = None
    AWSContactTraceRecordFormatVersion: str | None = None
    InstanceARN: ConnectId | None = None  # the tenant's key (Config `CONNECT#<arn>`)
    ContactId: ConnectId
    InitialContactId: ConnectId | None = None
    PreviousContactId: ConnectId | None = None
    NextContactId: ConnectId | None = None
    Channel: Text | None = None
    InitiationMethod: Text | None = None
    InitiationTimestamp: Timestamp = None
    ConnectedToSystemTimestamp: Timestamp = None
    DisconnectTimestamp: Timestamp = None
    DisconnectReason: Text | None = None
    LastUpdateTimestamp: Timestamp = None
    TransferCompletedTimestamp: Timestamp = None
    TransferredToEndpoint: CtrEndpoint | None = None
    CustomerEndpoint: CtrEndpoint | None = None
    SystemEndpoint: CtrEndpoint | None = None
    Agent: CtrAgent | None = None
    Queue: CtrQueue | None = None
    Attributes: dict[str, Any] | None = None
    SegmentAttributes: dict[str, Any] | None = None


class CtrMapping(BaseModel):
    """Per-tenant choices of where our dimensions live in a CTR (contact attributes are free-form)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Attribute keys tried in order; the first non-empty value wins.
    reason_keys: tuple[str, ...] = ("reason", "contact_reason")
    segment_keys: tuple[str, ...] = ("segment", "customer_segment")
    customer_id_keys: tuple[str, ...] = ("customer_id",)
    skill_keys: tuple[str, ...] = ("skill", "primary_skill")
    csat_keys: tuple[str, ...] = ("csat",)
    ces_keys: tuple[str, ...] = ("ces",)
    nps_keys: tuple[str, ...] = ("nps",)
    # Set by the queue flow when the customer chose a callback ("true"/"yes"/"1").
    callback_requested_keys: tuple[str, ...] = ("callback_requested",)
    # Off by default: the customer's phone number is personal data and a poor identity for chats.
    customer_id_from_endpoint: bool = False
    # Agent hierarchy level that is the "team"; None = the deepest level the agent has.
    team_hierarchy_level: int | None = Field(default=None, ge=1, le=5)
    # Our queue id for a Connect queue: its ARN through `queue_ids_by_arn` (the tenant's Connect
    # settings, the map the contact-flow adapter uses), else by `queue_key`: "name" = Queue.Name, or
    # its lower case when that is one of `known_queue_ids` (the rule the flow's `queue` follows);
    # "id" = Connect's queue id (the ARN's tail), for a tenant whose queue ids are Connect's.
    queue_ids_by_arn: dict[str, str] = Field(default_factory=dict)
    known_queue_ids: frozenset[str] = frozenset()
    queue_key: Literal["name", "id"] = "name"
    agent_key: Literal["id", "username"] = "id"
    # Service-level threshold per queue (keyed like queue_id); others use KpiSettings' default.
    sl_threshold_s_by_queue: dict[str, int] = Field(default_factory=dict)


# --- parsing --------------------------------------------------------------------------------------
def parse_ctr(raw: Mapping[str, Any] | str | bytes, *, now_ms: int | None = None) -> ConnectCtr:
    """One CTR from a decoded Kinesis record (JSON text or an already-decoded object). With `now_ms` (a
    consumer's clock), a time more than MAX_AHEAD_MS ahead of it is refused naming its field."""
    if isinstance(raw, (str, bytes, bytearray)):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:  # its text is the decoder's and a position, never the document's
            raise MalformedContactRecord(f"not JSON: {exc}") from None
        except UnicodeDecodeError:  # its text quotes the offending byte
            raise MalformedContactRecord("not JSON: not UTF-8 text") from None
        except ValueError:  # an integer past Python's 4,300 digits: no JSONDecodeError, it crashed the record
            raise MalformedContactRecord("not JSON: a number too long to read") from None
        except RecursionError:  # nested past Python's decoder (not a ValueError): rejected with a reason too
            raise MalformedContactRecord("not JSON: nested too deeply") from None
    if not isinstance(raw, Mapping):
        raise MalformedContactRecord(f"not a JSON object but {type(raw).__name__}")
    contact_id = raw.get("ContactId")
    if not isinstance(contact_id, str) or not contact_id.strip():
        raise MalformedContactRecord("missing ContactId")
    try:
        return ConnectCtr.model_validate(raw, context={"now_ms": now_ms})
    except ValidationError as exc:
        raise MalformedContactRecord(_first_error(exc), contact_id=_loggable_id(contact_id)) from None
    except Exception as exc:  # noqa: BLE001 - pure reading, no I/O: whatever it raises is this record's fault
        raise MalformedContactRecord(_unexpected(exc), contact_id=_loggable_id(contact_id)) from None


def _loggable_id(contact_id: str) -> str | None:
    """The ContactId a rejection may carry to the log: not one that is itself the fault (too long, no text)."""
    return contact_id if len(contact_id) <= MAX_CONTACT_ID and not _SURROGATE.search(contact_id) else None


def _unexpected(exc: Exception) -> str:
    # its type only: an unforeseen exception's message may quote the record
    return f"cannot be read ({type(exc).__name__})"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {message}{more}"


def dedupe_latest(ctrs: Iterable[ConnectCtr | Mapping[str, Any]]) -> list[ConnectCtr]:
    """Per ContactId, the copy with the latest LastUpdateTimestamp (ties, and copies without one,
    keep the first seen), in order of each ContactId's first appearance. Raw mappings are parsed
    (and may raise MalformedContactRecord)."""
    latest: dict[str, ConnectCtr] = {}
    for item in ctrs:
        ctr = item if isinstance(item, ConnectCtr) else parse_ctr(item)
        held = latest.get(ctr.ContactId)
        if held is None or _version(ctr) > _version(held):
            latest[ctr.ContactId] = ctr  # replacing a value keeps the key's first position
    return list(latest.values())


def _version(ctr: ConnectCtr) -> int:
    return ctr.LastUpdateTimestamp if ctr.LastUpdateTimestamp is not None else -1


# --- mapping --------------------------------------------------------------------------------------
# Connect's initiation methods (its CTR data model's list), its variants folded onto DOMAIN.md's five; the
# others it documents (DISCONNECT, MONITOR: repeats.py reads it, FLOW) kept. Anything else is stored as UNKNOWN,
# as a missing one is (counted as a customer's own contact, as INBOUND is), never as sent: the field is the
# record's text (a card number was stored as an initiation method).
_INITIATION_METHODS = {
    "INBOUND": "INBOUND",
    "OUTBOUND": "OUTBOUND",
    "TRANSFER": "TRANSFER",
    "CALLBACK": "CALLBACK",
    "API": "API",
    "DISCONNECT": "DISCONNECT",
    "MONITOR": "MONITOR",
    "FLOW": "FLOW",
    "QUEUE_TRANSFER": "TRANSFER",
    "EXTERNAL_OUTBOUND": "OUTBOUND",
    "CAMPAIGN": "OUTBOUND",
    "AGENT_REPLY": "OUTBOUND",
    "WEBRTC_API": "API",
}
UNKNOWN_INITIATION = "UNKNOWN"
_TRUTHY = frozenset({"true", "yes", "y", "1"})


def to_contact_record(ctr: ConnectCtr, *, tenant_id: str, mapping: CtrMapping | None = None) -> ContactRecord:
    """Map one (deduplicated) CTR. The tenant comes from the caller, who knows which Connect instance
    belongs to whom; nothing here reads the environment.

    Times: when an agent was connected, the agent's part is laid out from ConnectedToAgentTimestamp
    with Connect's own durations (`_agent_part`): `disconnected_at` = connected + (AgentInteraction +
    CustomerHold) s and `acw_ended_at` = that + AfterContactWork s, so talk, hold, ACW and handle time
    are exactly Connect's (its timestamps can disagree with its durations by seconds); a duration
    Connect left out falls back to its timestamps (ACW start, ACW end). `disconnected_at` is thus the
    end of the agent's part, not DisconnectTimestamp, which is later when an agent hands the customer
    to an external number. Without an agent it is DisconnectTimestamp. The queue wait is Connect's
    Queue.Duration ("the length of time the contact was in queue"), not a difference of timestamps:
    `_enqueued_at` places `enqueued_at` so that the record's queue wait comes out as Queue.Duration.

    Transfers (segments): NextContactId / PreviousContactId / InitialContactId link the segments as
    ours do; InitiationMethod QUEUE_TRANSFER (a flow moved the contact between queues) is folded onto
    TRANSFER and flagged `queue_transfer`, since its previous segment had no agent. Holds are
    Agent.NumberOfHolds and Agent.CustomerHoldDuration.

    State: a callback request (attribute) before connection → CALLBACK_SCHEDULED; a completed transfer
    or a successor contact (NextContactId) → TRANSFERRED; connected → COMPLETED; enqueued and never
    connected → ABANDONED when the customer left, FAILED on a telecom failure, else ABANDONED and `timed_out`
    (`_unanswered`); not enqueued: a failure disconnect reason → FAILED; otherwise (self-service) COMPLETED.

    Whatever the mapping raises on the record other than MalformedContactRecord (it does no I/O: the record's
    fault, or a case no rule foresaw) is that record's MalformedContactRecord too, its reason the error's type.
    """
    try:
        return _mapped(ctr, tenant_id, mapping or CtrMapping())
    except MalformedContactRecord:
        raise
    except Exception as exc:  # noqa: BLE001 - pure mapping, no I/O: see the docstring
        raise MalformedContactRecord(f"cannot be mapped ({type(exc).__name__})", contact_id=ctr.ContactId) from None


def _mapped(ctr: ConnectCtr, tenant_id: str, mapping: CtrMapping) -> ContactRecord:
    cid = ctr.ContactId
    # a lone surrogate in an attribute (a JSON "\ud800" escape) failed the history write, every retry alike
    attributes = {_as_text(str(k)): "" if v is None else _as_text(str(v)) for k, v in (ctr.Attributes or {}).items()}
    agent, queue = ctr.Agent, ctr.Queue

    channel = _channel(ctr)
    connected_at = agent.ConnectedToAgentTimestamp if agent else None
    acw_started_at = agent.AfterContactWorkStartTimestamp if agent else None
    acw_ended_at = None
    if agent is not None and connected_at is not None:
        disconnected_at, acw_ended_at = _agent_part(agent, connected_at, ctr.DisconnectTimestamp)
    else:
        disconnected_at = ctr.DisconnectTimestamp if ctr.DisconnectTimestamp is not None else acw_started_at
    enqueued_at = _enqueued_at(queue, connected_at, disconnected_at)

    to_external = bool(ctr.TransferredToEndpoint and ctr.TransferredToEndpoint.Address)
    transferred_out = ctr.TransferCompletedTimestamp is not None or to_external or bool(ctr.NextContactId)
    callback_requested = _attribute(attributes, mapping.callback_requested_keys).lower() in _TRUTHY
    timed_out = False
    if callback_requested and connected_at is None:
        state, transferred = FinalState.CALLBACK_SCHEDULED, False
    elif transferred_out:
        state, transferred = FinalState.TRANSFERRED, True
    elif connected_at is not None:
        state, transferred = FinalState.COMPLETED, False
    elif enqueued_at is not None:
        state, timed_out = _unanswered(ctr.DisconnectReason, ctr.InitiationMethod)
        transferred = False
    elif _is_failure(ctr.DisconnectReason):
        state, transferred = FinalState.FAILED, False
    else:
        state, transferred = FinalState.COMPLETED, False

    check_times(cid, ctr.InitiationTimestamp, enqueued_at, connected_at, disconnected_at, acw_ended_at)
    queue_id = _queue_id(queue, mapping, cid)
    customer_id = _attribute(attributes, mapping.customer_id_keys, cut=False) or None
    if customer_id is None and mapping.customer_id_from_endpoint and ctr.CustomerEndpoint:
        customer_id = ctr.CustomerEndpoint.Address or None

    try:
        return ContactRecord(
            tenant_id=tenant_id,
            contact_id=cid,
            channel=channel,
            initiation_method=_initiation_method(ctr.InitiationMethod),
            queue_id=queue_id,
            agent_id=_agent_id(agent, mapping, cid),
            team=_team(agent, mapping),
            skill=_attribute(attributes, mapping.skill_keys) or None,
            reason=_attribute(attributes, mapping.reason_keys) or None,
            segment=_attribute(attributes, mapping.segment_keys) or None,
            customer_id=customer_id,
            previous_contact_id=ctr.PreviousContactId or None,
            initial_contact_id=ctr.InitialContactId or None,
            initiated_at=ctr.InitiationTimestamp,
            enqueued_at=enqueued_at,
            connected_at=connected_at,
            disconnected_at=disconnected_at,
            acw_ended_at=acw_ended_at,
            hold_ms=max(0, round((agent.CustomerHoldDuration or 0) * 1000)) if agent else 0,
            hold_count=max(0, agent.NumberOfHolds or 0) if agent else 0,
            transferred=transferred,
            next_contact_id=ctr.NextContactId or None,
            # Connect names the endpoint only for a transfer out of the instance (a phone number); a
            # queue or agent transfer shows as NextContactId alone, which does not say which of the two.
            transferred_to_kind="EXTERNAL" if transferred and to_external else None,
            queue_transfer=(ctr.InitiationMethod or "").upper() == "QUEUE_TRANSFER",
            timed_out=timed_out,
            final_state=state,
            sl_threshold_s=mapping.sl_threshold_s_by_queue.get(queue_id) if queue_id else None,
            last_updated_at=_first_known(ctr.LastUpdateTimestamp, ctr.DisconnectTimestamp, ctr.InitiationTimestamp),
            csat=_survey(attributes, mapping.csat_keys, 1, 5),
            ces=_survey(attributes, mapping.ces_keys, 1, 7),
            nps=_survey(attributes, mapping.nps_keys, 0, 10),
        )
    except ValidationError as exc:
        raise MalformedContactRecord(_first_error(exc), contact_id=cid) from None


def contact_records_from_ctrs(
    raws: Iterable[Mapping[str, Any] | str | bytes], *, tenant_id: str, mapping: CtrMapping | None = None
) -> tuple[list[ContactRecord], list[MalformedContactRecord]]:
    """A Kinesis batch end to end: parse, keep the latest copy per contact, map. Bad records are
    returned, not raised, so one of them does not hold back the rest."""
    parsed: list[ConnectCtr] = []
    errors: list[MalformedContactRecord] = []
    for raw in raws:
        try:
            parsed.append(parse_ctr(raw))
        except MalformedContactRecord as exc:
            errors.append(exc)
    records: list[ContactRecord] = []
    for ctr in dedupe_latest(parsed):
        try:
            records.append(to_contact_record(ctr, tenant_id=tenant_id, mapping=mapping))
        except MalformedContactRecord as exc:
            errors.append(exc)
    return records, errors


def check_times(contact_id: str, *times: int | None) -> None:
    """A record whose times lie outside the contact center's calendar, or span longer than any contact lives
    (Connect: a chat or task at most 7 days, a task scheduled up to 6 days ahead), is malformed: its queue
    wait or handle time would weigh on every KPI, patience estimate and plan that reads its queue's days."""
    known = [t for t in times if t is not None]
    if not known:
        return
    first, last = min(known), max(known)
    if first < _CALENDAR_MS[0] or last > _CALENDAR_MS[1]:
        raise MalformedContactRecord(f"a time outside the years {FIRST_YEAR}-{LAST_YEAR}", contact_id=contact_id)
    if last - first > MAX_CONTACT_SPAN_MS:
        raise MalformedContactRecord(
            f"its times span {(last - first) / 86_400_000:.1f} days: a contact lasts at most "
            f"{MAX_CONTACT_SPAN_MS // 86_400_000} (timestamps and durations disagree)", contact_id=contact_id)


def _duration_ms(seconds: float | None) -> int | None:
    """One of Connect's durations (seconds; absent or negative = unknown) in ms."""
    return None if seconds is None or seconds < 0 else round(seconds * 1000)


def _agent_part(agent: CtrAgent, connected_at: int, disconnect_timestamp: int | None) -> tuple[int | None, int | None]:
    """(disconnected_at, acw_ended_at) of a connected contact, from Connect's durations where it gave
    them: interaction + hold after the connection, then ACW. Talk = interaction, hold = hold, ACW = ACW."""
    interaction = _duration_ms(agent.AgentInteractionDuration)
    if interaction is not None:
        disconnected_at: int | None = connected_at + interaction + (_duration_ms(agent.CustomerHoldDuration) or 0)
    elif agent.AfterContactWorkStartTimestamp is not None:
        disconnected_at = agent.AfterContactWorkStartTimestamp
    else:
        disconnected_at = disconnect_timestamp
    acw = _duration_ms(agent.AfterContactWorkDuration)
    start, end = agent.AfterContactWorkStartTimestamp, agent.AfterContactWorkEndTimestamp
    if acw is None and start is not None and end is not None:
        acw = max(0, end - start)
    if disconnected_at is None:
        return None, end
    return disconnected_at, (disconnected_at + acw if acw is not None else end)


def _enqueued_at(queue: CtrQueue | None, connected_at: int | None, disconnected_at: int | None) -> int | None:
    """When the record's queue wait starts: the end of the wait (connected to the agent, else disconnected)
    minus Queue.Duration, so queue_wait_ms is Connect's own figure for answered and unanswered contacts.

    The timestamps overstate the wait: ConnectedToAgentTimestamp comes after the dequeue by the agent's ring
    time, DisconnectTimestamp after it by whatever the flow played before the hang-up. Moving the start rather
    than the end keeps every agent-side time (talk, hold, ACW) and the completion interval exactly Connect's;
    the arrival interval moves by those few seconds at most. A Duration the timestamps cannot hold (longer than
    enqueue to that end) or an absent one leaves EnqueueTimestamp."""
    if queue is None:
        return None
    enqueued = queue.EnqueueTimestamp
    wait = _duration_ms(queue.Duration)
    end = connected_at if connected_at is not None else disconnected_at
    if enqueued is None or wait is None or end is None or not enqueued <= end - wait:
        return enqueued
    return end - wait


def _channel(ctr: ConnectCtr) -> Channel:
    """The flow adapter's table (domain/connect_channels.py): reported as the channel it was routed as."""
    subtype = (ctr.SegmentAttributes or {}).get("connect:Subtype")
    value = subtype.get("ValueString") if isinstance(subtype, Mapping) else None
    channel = connect_channel(ctr.Channel, value if isinstance(value, str) else None)
    if channel is None:
        # A channel we cannot report on is a record we cannot count; say so rather than guess.
        raise MalformedContactRecord("unsupported Channel", contact_id=ctr.ContactId)  # its text is the record's
    return channel


def _initiation_method(value: str | None) -> str:
    return _INITIATION_METHODS.get((value or "").strip().upper(), UNKNOWN_INITIATION)


def _resource_id(arn: str | None) -> str | None:
    """The id at the end of a Connect ARN (…/queue/<id>, …/agent/<id>)."""
    if not arn:
        return None
    return arn.rsplit("/", 1)[-1] or None


def _queue_id(queue: CtrQueue | None, mapping: CtrMapping, contact_id: str) -> str | None:
    """Our queue id (CtrMapping.queue_ids_by_arn / queue_key); the ARN's tail only when the queue has
    neither a mapped ARN nor a Name (a stable dimension rather than none)."""
    if queue is None:
        return None
    if queue.ARN and queue.ARN in mapping.queue_ids_by_arn:
        return mapping.queue_ids_by_arn[queue.ARN]
    name = (queue.Name or "").strip()
    if mapping.queue_key == "id":
        return _resource_id(queue.ARN) or _name_as_id("Queue.Name", name, contact_id) or None
    if not name:
        return _resource_id(queue.ARN)
    ours = next((c for c in (name, name.lower()) if c in mapping.known_queue_ids), None)
    return ours or _name_as_id("Queue.Name", name, contact_id)


def _agent_id(agent: CtrAgent | None, mapping: CtrMapping, contact_id: str) -> str | None:
    if agent is None:
        return None
    if mapping.agent_key == "username":
        return _name_as_id("Agent.Username", agent.Username, contact_id) or _resource_id(agent.ARN)
    return _resource_id(agent.ARN) or _name_as_id("Agent.Username", agent.Username, contact_id)


def _team(agent: CtrAgent | None, mapping: CtrMapping) -> str | None:
    """The hierarchy group's name, a label (stored, exported, a dimension): through the card/SSN detectors the
    attribute-borne dimensions pass (store_record), a number in it stored as its placeholder."""
    if agent is None or not agent.HierarchyGroups:
        return None
    groups = agent.HierarchyGroups
    if mapping.team_hierarchy_level is not None:
        group = groups.level(mapping.team_hierarchy_level)
        name = group.GroupName if group else None
    else:
        name = next((g.GroupName for g in map(groups.level, range(5, 0, -1)) if g and g.GroupName), None)
    return _without_card_numbers(name) if name else name


def _name_as_id(field: str, name: str | None, contact_id: str) -> str | None:
    """A Connect name (queue, user name) that becomes an id of the record: one holding a card or social security
    number is refused naming its field (an id is never stored redacted: every such contact would share one)."""
    if name and _without_card_numbers(name) != name:
        raise MalformedContactRecord(f"{field} holds a card or social security number", contact_id=contact_id)
    return name


def _without_card_numbers(text: str) -> str:
    from ccaas.domain.analytics.redaction import redact_attribute  # noqa: PLC0415 - a large module, needed here only

    return redact_attribute(text)


def _attribute(attributes: Mapping[str, str], keys: Iterable[str], *, cut: bool = True) -> str:
    """The first non-empty value of `keys`. Longer than MAX_TEXT (attributes are free-form: Connect allows 32 KB),
    a label (reason, segment, skill) is cut to MAX_TEXT, an id (`cut=False`: a customer's) is dropped (cut, it
    would be another customer's)."""
    for key in keys:
        value = attributes.get(key, "").strip()
        if value:
            return value[:MAX_TEXT] if cut else (value if len(value) <= MAX_TEXT else "")
    return ""


def _survey(attributes: Mapping[str, str], keys: Iterable[str], low: int, high: int) -> int | None:
    """A survey answer from an attribute; anything that is not a whole number in range is ignored
    (a typo in a flow must not drop the whole contact)."""
    text = _attribute(attributes, keys)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or not low <= number <= high:
        return None
    return int(number)


# The customer's own leaving (voice, chat, web calling): the only abandon (DOMAIN.md "Abandoned").
_CUSTOMER_LEFT = frozenset({"CUSTOMER_DISCONNECT", "CUSTOMER_CONNECTION_NOT_ESTABLISHED", "CUSTOMER_NEVER_ARRIVED"})
# Connect: "the call is cancelled by the originating party before the connection is established" (CTR data model,
# DisconnectReason): on a call the customer placed, the customer hanging up before an agent (an abandon); on one
# we placed (an agent's or the API's outbound call, a callback, a campaign's), our side cancelling or 60 s unanswered
# (FAILED, as the other TELECOM_* reasons).
_ORIGINATOR_CANCEL = "TELECOM_ORIGINATOR_CANCEL"
_WE_ORIGINATED = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND", "CAMPAIGN", "AGENT_REPLY", "CALLBACK", "API"})


def _unanswered(disconnect_reason: str | None, initiation_method: str | None = None) -> tuple[FinalState, bool]:
    """(state, timed_out) of an enqueued contact never connected. The customer left: an abandon; a telecom or
    system failure: FAILED; any other end (a flow's Disconnect after the longest wait, a task or chat EXPIRED in
    queue, StopContact) is a wait the system ended: ABANDONED and `timed_out`, as our own QUEUE_TIMEOUT is
    (domain/history.py SYSTEM_ENDED_WAIT), so a Connect tenant's abandonment counts as ours. No reason: an abandon.
    TELECOM_ORIGINATOR_CANCEL is the customer leaving when the customer placed the call (see _ORIGINATOR_CANCEL)."""
    reason = (disconnect_reason or "").strip().upper()
    customer_placed = (initiation_method or "").strip().upper() not in _WE_ORIGINATED
    if not reason or reason in _CUSTOMER_LEFT or (reason == _ORIGINATOR_CANCEL and customer_placed):
        return FinalState.ABANDONED, False
    if reason.startswith("TELECOM_") or (reason != "EXPIRED" and _is_failure(reason)):  # EXPIRED: the wait's end
        return FinalState.FAILED, False
    return FinalState.ABANDONED, True


def _is_failure(disconnect_reason: str | None) -> bool:
    reason = (disconnect_reason or "").upper()
    return "ERROR" in reason or "FAIL" in reason or reason in {"TELECOM_PROBLEM", "EXPIRED"}


def _first_known(*values: int | None) -> int:
    for value in values:
        if value is not None:
            return value
    return 0
