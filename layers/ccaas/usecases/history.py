"""History use-cases: ended contacts (ours and Amazon Connect's) into the History store, surveys,
repeat flags, and historical KPIs computed on read with the pure roll-up.

Why compute on read: KPI cells are additive, but the dimensions asked for (any two of seven) and the
tenant's variants (service level, abandonment, FCR population) multiply the cells a writer would have
to maintain; a day of 50,000 contacts rolls up in well under a second of CPU (bench/bench_kpis.py),
so storing one row per contact and rolling up per request is the simpler design at this scale. See
README "History and analytics" for where it stops scaling and what comes next.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from ccaas.bootstrap import Dependencies
from ccaas.domain.connect_flow import FLOW_SETTINGS, FlowSettings
from ccaas.domain.events import Event, EventType, check_time
from ccaas.domain.history import (
    DAY_MS,
    SETTLED_AFTER_MS,
    Containment,
    FlagChanges,
    FlowEvent,
    HistoryEntry,
    MAX_ACTIVITY_READ_DAYS,
    OpenActivity,
    Survey,
    ActivityKind,
    activity_kind,
    containment,
    record_from_contact,
    repeat_flag_changes,
)
from ccaas.domain.kpis import (
    AgentActivity,
    ConnectCtr,
    ContactRecord,
    CtrMapping,
    KpiRow,
    KpiSettings,
    MalformedContactRecord,
    busiest_intervals,
    channel_mix,
    contact_type_mix,
    parse_ctr,
    rollup,
    to_contact_record,
)
from ccaas.domain.kpis.intervals import Granularity, TenantCalendar
from ccaas.domain.kpis.settings import ServiceLevelVariant
from ccaas.domain.vocabulary import Conflict, ContactState, DomainError, Int, NotFound
from ccaas.usecases.tenancy import KPI_SETTINGS, kpi_settings_of, save_settings

if TYPE_CHECKING:
    from ccaas.domain.models import Contact

# Handling is read back 24 h: a contact that completes in a range and started at most a day before it is
# among the entries anchored in [from - 24 h, to); a longer one (a chat or an e-mail open for days) the store
# files under its completion day too (HistoryStore.entries_completed_between), and one enqueued more than a day
# after it began (a Connect scheduled task) under its enqueue day (entries_enqueued_between): no read looks back further.
HANDLING_LOOKBACK_MS = DAY_MS
MAX_RANGE_DAYS = 93
MAX_QUARTER_HOUR_RANGE_DAYS = 14
# A KPI range and its look-back must fit one activity read (the stores refuse longer ones).
assert MAX_RANGE_DAYS * DAY_MS + HANDLING_LOOKBACK_MS <= MAX_ACTIVITY_READ_DAYS * DAY_MS


# --- tenant context -------------------------------------------------------------------------------
# Read through deps.config, which the Lambdas' wiring caches for a few seconds per container
# (CachedConfigStore): no second cache here. A module cache keyed by id(deps.config) answered for a
# later store that got the id of a collected one (ids are reused): a registration or setting leaked.
def tenant_context(deps: Dependencies, tenant_id: str) -> tuple[str, KpiSettings]:
    """(time zone, KPI settings) of the tenant."""
    time_zone = deps.config.get_tenant(tenant_id).time_zone
    return time_zone, kpi_settings_of(deps, tenant_id)


def kpi_settings(deps: Dependencies, tenant_id: str) -> KpiSettings:
    return kpi_settings_of(deps, tenant_id)  # the settings alone: no read of the tenant for its time zone


def put_kpi_settings(deps: Dependencies, tenant_id: str, settings: KpiSettings) -> KpiSettings:
    return save_settings(deps, tenant_id, KPI_SETTINGS, settings)


# --- recording ------------------------------------------------------------------------------------
class RecordOutcome(BaseModel):
    """What the post-contact workflow branches on (no customer data)."""

    recorded: bool  # False: not ended yet, or this version was already stored
    has_transcript: bool
    state: str


def record_contact(deps: Dependencies, tenant_id: str, contact_id: str) -> RecordOutcome:
    """Post-contact step RecordHistory: the ended contact's record into history (idempotent)."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    record = record_from_contact(contact)
    stored = store_record(deps, record) if record is not None else False
    from ccaas.usecases.outbound import note_conversation  # noqa: PLC0415 - Reg F: an inbound conversation's quiet period
    note_conversation(deps, tenant_id, contact)
    has_transcript = contact.state == ContactState.COMPLETED and bool(deps.transcripts.messages(tenant_id, contact_id, limit=1))
    return RecordOutcome(recorded=stored, has_transcript=has_transcript, state=contact.state.value)


def store_record(deps: Dependencies, record: ContactRecord) -> bool:
    """Store a record if it is new or newer; then refresh the repeat flags it affects, and send the
    changed entries to the analytics lake when there is one (also for a repeated delivery: its first
    export may be what failed).

    The flags are refreshed on every delivery: a repeated one may follow a first whose flag write failed after
    the record was stored. And a repeated delivery exports the customer's whole FCR window: the neighbours
    whose flags the first delivery moved are no change any more, yet their export may be what failed."""
    from ccaas.usecases.lake import export_contacts  # noqa: PLC0415 - lake imports this module

    record = _without_card_numbers(record)
    stored = deps.history.put_record(record)
    if record.enqueued_at is not None and record.enqueued_at + SETTLED_AFTER_MS <= deps.clock.now_ms():
        # Only so old a record can be of a day the forecast cached without it (on every delivery, as the flags).
        from ccaas.usecases.forecasting import forget_cached_day  # noqa: PLC0415 - forecasting imports this module
        forget_cached_day(deps, record)
    refreshed = refresh_repeat_flags(deps, record.tenant_id, record.contact_id)
    export_contacts(deps, record.tenant_id, [record.contact_id, *(refreshed.changed if stored else refreshed.window)])
    return stored


def _without_card_numbers(record: ContactRecord) -> ContactRecord:
    """The record's attribute-borne dimensions (segment, skill, customer id) through the card/SSN detectors
    `POST /contacts` applies to attributes (never off), whichever route the record
    came by (ours, a Connect CTR, a contact stored before that route refused such ids): stored history and the
    lake (a copy of it) never hold a card number. A customer id they would change is dropped, not kept as a
    placeholder: "[CARD]" would file every such contact under one customer, each a repeat of the others."""
    from ccaas.domain.analytics.redaction import redact_attribute  # noqa: PLC0415 - only the record steps need it

    changes: dict = {}
    for name in ("segment", "skill", "customer_id"):
        if (value := getattr(record, name)) and (redacted := redact_attribute(value)) != value:
            changes[name] = None if name == "customer_id" else redacted
    return record.model_copy(update=changes) if changes else record


@dataclass(frozen=True)
class FlagRefresh:
    changed: FlagChanges  # the flags this refresh stored, by contact id
    window: tuple[str, ...] = ()  # every contact of the customer within the FCR window around the contact


def refresh_repeat_flags(deps: Dependencies, tenant_id: str, contact_id: str) -> FlagRefresh:
    """Recompute FCR flags around one contact (its customer's contacts within ±W days) and store
    the ones that changed. Called whenever a record or its classified reason changes."""
    entry = deps.history.get_entry(tenant_id, contact_id)
    record = None if entry is None else entry.kpi_record()
    if entry is None or record is None or record.customer_id is None:
        return FlagRefresh(changed={})
    window_days = kpi_settings(deps, tenant_id).fcr_window_days
    t = entry.contact_time or 0
    span = window_days * DAY_MS
    neighbours = deps.history.customer_entries(tenant_id, record.customer_id, t - span, t + span)
    changes = repeat_flag_changes(neighbours, entry, window_days=window_days)
    if changes:
        deps.history.update_flags(tenant_id, changes)
    return FlagRefresh(changed=changes, window=tuple(n.contact_id for n in neighbours if n.contact_id != contact_id))


# --- Amazon Connect contact records ----------------------------------------------------------------
class UnknownConnectInstance(MalformedContactRecord):
    """A CTR from a Connect instance no tenant registered (retried, then dead-lettered)."""


class CtrOutcome(BaseModel):
    tenant_id: str
    contact_id: str
    stored: bool  # False: a duplicate or an older version than the one held


def tenant_of_instance(deps: Dependencies, instance_arn: str) -> str | None:
    """The tenant an Amazon Connect instance is registered to (admin.register_connect_instance), read
    through deps.config like the rest of the tenant's configuration; None while it is not registered."""
    return deps.config.tenant_for_connect_instance(instance_arn)


def ctr_mapping(deps: Dependencies, tenant_id: str) -> CtrMapping:
    """How the tenant's contact records map: a Connect queue is ours through the tenant's Connect
    settings (the queue ARN map the contact-flow adapter uses), else by its Name among our queues."""
    settings = FlowSettings.of(deps.config.get_settings(tenant_id, FLOW_SETTINGS))
    queues = deps.config.list_queues(tenant_id)
    # Each queue's own service-level threshold T (DOMAIN.md), not the 20 s default the roll-up falls back to.
    return CtrMapping(queue_ids_by_arn=settings.queue_ids_by_arn(), known_queue_ids=frozenset(q.queue_id for q in queues),
                      sl_threshold_s_by_queue={q.queue_id: q.sl_threshold_s for q in queues})


def ingest_ctr(deps: Dependencies, raw: bytes | str | ConnectCtr) -> CtrOutcome:
    """One Amazon Connect CTR from the stream into history. Raises MalformedContactRecord (with a
    reason that never quotes the record) for anything that cannot be mapped."""
    ctr = raw if isinstance(raw, ConnectCtr) else parse_ctr(raw)
    if not ctr.InstanceARN:
        raise MalformedContactRecord("missing InstanceARN", contact_id=ctr.ContactId)
    tenant_id = tenant_of_instance(deps, ctr.InstanceARN)
    if tenant_id is None:
        raise UnknownConnectInstance("Connect instance not registered to a tenant", contact_id=ctr.ContactId)
    record = _redacted_free_text(deps, to_contact_record(ctr, tenant_id=tenant_id, mapping=ctr_mapping(deps, tenant_id)))
    return CtrOutcome(tenant_id=tenant_id, contact_id=record.contact_id, stored=store_record(deps, record))


def _redacted_free_text(deps: Dependencies, record: ContactRecord) -> ContactRecord:
    """A Connect record's `reason` (from contact attributes a flow set: a caller's typed digits can land there)
    through the tenant's redactor, as `POST /contacts` does; the other attribute-borne dimensions (segment,
    skill, customer id) store_record passes through the card/SSN detectors for every route."""
    from ccaas.usecases.analytics import redact

    return record.model_copy(update={"reason": redact(deps, record.tenant_id, record.reason)}) if record.reason else record


# --- agent activity -------------------------------------------------------------------------------
AGENT_EVENTS = frozenset({EventType.AGENT_STATUS_CHANGED, EventType.AGENT_ACTIVITY_CHANGED})


def _opened_activity(event: Event) -> OpenActivity | None:
    """The activity an agent event opens; None for any other event, and for a test agent's: journey tests' work is
    no workforce time, and synthetic data never becomes history (its events counted as OFFLINE wrote a span each,
    kept for good, which also hid the "no agent activity" warning of a range with no real agent in it)."""
    if event.type not in AGENT_EVENTS or _test_agent_of(event) is not None:
        return None
    kind = activity_kind(event.payload.get("activity"))
    agent_id = event.payload.get("agent_id")
    if kind is None or not agent_id:
        return None
    return OpenActivity.of_event(str(agent_id), kind, event.occurred_ms, event.sequence, event.payload)


def _test_agent_of(event: Event) -> str | None:
    """The agent of a test agent's event (domain/events.py marks it `test_agent`)."""
    agent_id = event.payload.get("agent_id")
    return str(agent_id) if event.payload.get("test_agent") and agent_id else None


def _opened_activities(deps: Dependencies, events: Sequence[Event]) -> list[OpenActivity | None]:
    """_opened_activity of each event, but a test agent's first event closes an open span an earlier rule left the
    agent (one opened while it was online: staffed for good otherwise) by opening an OFFLINE item in its place;
    after that its open item is OFFLINE, and its events write nothing. The open items are read (one Query per
    tenant) only for events of a test agent."""
    activities = [_opened_activity(event) for event in events]
    tests = [(i, event.tenant_id, agent) for i, event in enumerate(events)
             if event.type in AGENT_EVENTS and (agent := _test_agent_of(event)) is not None]
    left_open = {(tenant_id, held.agent_id) for tenant_id in {t for _, t, _ in tests}
                 for held in deps.history.open_activities(tenant_id) if held.kind is not ActivityKind.OFFLINE}
    for i, tenant_id, agent in tests:
        if (tenant_id, agent) in left_open:
            left_open.discard((tenant_id, agent))  # closed once: the agent's later events in the batch write nothing
            event = events[i]
            activities[i] = OpenActivity.of_event(agent, ActivityKind.OFFLINE, event.occurred_ms, event.sequence,
                                                  event.payload)
    return activities


def _check_agent_time(deps: Dependencies, event: Event) -> None:
    if event.type in AGENT_EVENTS:
        check_time(event, deps.clock.now_ms())  # a span opened in the future would swallow the agent's real ones


def _checked_activity(deps: Dependencies, event: Event) -> OpenActivity | None:
    _check_agent_time(deps, event)
    return _opened_activities(deps, [event])[0]


def record_agent_activity(deps: Dependencies, event: Event) -> bool:
    """An agent event closes that agent's open activity span and opens the next (occupancy,
    utilization and cost per contact read the spans). A test agent's event (journey tests' work is no workforce
    time) writes nothing: no span, open item or lake row, so no KPI, staffing read or lake figure counts its time;
    only a span an earlier rule left it open (online when it was deployed) is closed by its next event instead of
    being staffed for good (_opened_activities). False for other events and for a repeated or older event of the
    agent (its `sequence`, the agent's version, is not newer); MalformedEvent for one from further ahead of now than a
    clock drifts (ccaas.domain.events.check_time: a poison record). A stream batch: record_agent_activities."""
    opened = _checked_activity(deps, event)
    if opened is None:
        return False
    from ccaas.usecases import lake  # noqa: PLC0415 - lake imports this module

    if lake.lake_export(deps) is None:
        return deps.history.apply_agent_activity(event.tenant_id, opened)
    applied, closed = deps.history.apply_agent_activity_span(event.tenant_id, opened)
    if applied:  # the span this event closed, as the store wrote it: no read
        lake.export_closed_span(deps, event.tenant_id, closed)
    else:  # a redelivery: its first export may be what failed; find the span it closed
        lake.export_agent_activity(deps, event.tenant_id, opened)
    return applied


class EarlierEventFailed(Exception):
    """An earlier event of the same agent (partition key) failed in this batch: this one waits for its redelivery."""


def record_agent_activities(deps: Dependencies, events: Sequence[Event]) -> list[bool | Exception]:
    """record_agent_activity for a stream batch's events, in fewer calls: the agents' open spans read once, the
    closed spans written together after the open items (HistoryStore.agent_activity_batch). Each agent's events
    apply in order; events of different agents are independent, so the batch applies in rounds,
    every agent's first event, then every second one, ..., the spans written after each round (a span must be
    written before its agent's next open item replaces the one carrying it): one span write per round.

    Per event: True applied, False skipped (another event, repeated or older), or the exception that failed it
    (the caller reports it failed: retried, then dead-lettered). An event fails unapplied once an earlier event
    of its agent failed (EarlierEventFailed): the failed one may have left the agent's open item ahead carrying an
    unwritten span, which only its redelivery writes, and a later event applied before it would replace that item.
    Raises, nothing reported, when the spans cannot be written: the caller fails the whole batch, and every event
    whose span is unwritten comes again and writes it (AgentActivityBatch).

    With the lake, the spans are exported after they are written (as record_agent_activity does each), in order; a
    failed export fails its event and the agent's later ones (all applied by then: their redelivery exports what
    they closed, export_agent_activity)."""
    from ccaas.usecases import lake  # noqa: PLC0415 - lake imports this module

    outcomes: list[bool | Exception] = [False] * len(events)
    failed: set[tuple[str, str]] = set()  # agents (_agent_keys)
    activities = _opened_activities(deps, events)  # once each: the batch, the rounds, the applying
    batch = deps.history.agent_activity_batch(
        [(event.tenant_id, opened.agent_id) for event, opened in zip(events, activities) if opened])
    exports: dict[int, tuple[bool, AgentActivity | None, OpenActivity]] = {}
    keys = _agent_keys(events, activities)
    for number, indices in enumerate(_rounds(keys)):
        if number:
            batch.write_spans()  # the spans of the round before, ahead of its agents' next open items
        for index in indices:
            event = events[index]
            if keys[index] in failed:
                outcomes[index] = EarlierEventFailed(f"an earlier event of {event.subject} failed in this batch")
                continue
            try:
                _check_agent_time(deps, event)
                opened = activities[index]
                if opened is None:
                    continue
                applied, closed = batch.apply(event.tenant_id, opened)
            except Exception as error:  # noqa: BLE001 - reported as this event's failure
                failed.add(keys[index])
                outcomes[index] = error
                continue
            outcomes[index] = applied
            exports[index] = (applied, closed, opened)
    batch.write_spans()
    if lake.lake_export(deps) is not None:
        _export_spans(deps, events, keys, outcomes, exports)
    return outcomes


def _agent_keys(events: Sequence[Event], activities: Sequence[OpenActivity | None]) -> list[tuple[str, str]]:
    """Each event's agent, the one whose open item it replaces: (tenant, the payload's agent_id). The stream's
    partition key (tenant#subject) names the same agent for the product's own events, but the order that
    matters is the agent's open item's, so a record whose subject and agent_id disagree still waits its turn.
    Events that open no activity keep their subject (they apply nothing). `activities`: each event's
    `_opened_activity`."""
    return [(event.tenant_id, opened.agent_id) if opened else (event.tenant_id, f"subject:{event.subject}")
            for event, opened in zip(events, activities, strict=True)]


def _rounds(keys: Sequence[tuple[str, str]]) -> list[list[int]]:
    """The events' indices by round: round n holds each agent's n-th event (0-based), in batch order."""
    rounds: list[list[int]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, key in enumerate(keys):
        number = seen.get(key, 0)
        seen[key] = number + 1
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(index)
    return rounds


def _export_spans(deps: Dependencies, events: Sequence[Event], keys: Sequence[tuple[str, str]],
                  outcomes: list[bool | Exception],
                  exports: dict[int, tuple[bool, AgentActivity | None, OpenActivity]]) -> None:
    """record_agent_activities' lake exports, after the spans are written: the span an applied event closed (no
    read), a repeated event's found again (its first export may be what failed)."""
    from ccaas.usecases import lake  # noqa: PLC0415 - lake imports this module

    failed: set[tuple[str, str]] = set()
    for index, event in enumerate(events):
        if isinstance(outcomes[index], Exception):
            continue
        if keys[index] in failed:
            outcomes[index] = EarlierEventFailed(f"an earlier event of {event.subject} failed in this batch")
            continue
        if index not in exports:
            continue
        applied, closed, opened = exports[index]
        try:
            if applied:
                lake.export_closed_span(deps, event.tenant_id, closed)
            else:
                lake.export_agent_activity(deps, event.tenant_id, opened)
        except Exception as error:  # noqa: BLE001 - reported as this event's failure
            failed.add(keys[index])
            outcomes[index] = error


def activity_spans(deps: Dependencies, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
    """Closed spans that overlap [from, to), however long before it they began (an agent logged in for two
    days is staffed in the third day's report; the store files a span under every day it crosses, so the read
    is one Query per day of the range), and every agent's open span up to now (capped at `to`)."""
    now = deps.clock.now_ms()
    spans = deps.history.agent_activities_overlapping(tenant_id, from_ms, to_ms)
    for held in deps.history.open_activities(tenant_id):
        end = min(now, to_ms)
        if held.since < end:
            spans.append(held.until(end, tenant_id))
    return spans


# --- contact-flow milestones ------------------------------------------------------------------------
def record_flow_event(deps: Dependencies, tenant_id: str, contact_id: str, name: str, value: str | None = None) -> FlowEvent:
    """A milestone an Amazon Connect flow reached on its contact (ContactId): menu choices, self-service
    success. It joins the contact's CTR in history (same contact id), so containment can be reported."""
    try:
        event = FlowEvent(name=name, value=value or None, at=deps.clock.now_ms())
    except ValueError:
        raise DomainError("milestone names are lower-case letters, digits and _ (at most 64); values at most 128 characters",
                          field="milestone") from None
    deps.history.add_flow_event(tenant_id, contact_id, event)
    return event


def record_caller_milestone(deps: Dependencies, tenant_id: str, contact_id: str, name: str,
                            value: str | None = None) -> FlowEvent:
    """A milestone a flow logged (action=log_event), its value through the tenant's redactor first: flows log
    what the caller keyed in ($.StoredCustomerInput), which at the wrong prompt is a card number, a phone
    number or an e-mail address."""
    if value:
        from ccaas.usecases.analytics import redact  # only a milestone with a value needs the redactors

        value = redact(deps, tenant_id, value[:1024])  # longer than any value taken (128): refused all the same
    return record_flow_event(deps, tenant_id, contact_id, name, value)


# --- surveys --------------------------------------------------------------------------------------
class SurveyAnswers(BaseModel):
    """POST /contacts/{id}/survey. The comment is redacted before it is stored."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)  # the API's

    csat: Int | None = Field(default=None, ge=1, le=5, description="customer satisfaction, 1-5")
    ces: Int | None = Field(default=None, ge=1, le=7, description="customer effort, 1-7")
    nps: Int | None = Field(default=None, ge=0, le=10, description="likelihood to recommend, 0-10")
    comment: str | None = Field(default=None, max_length=2000, repr=False)


def known_contact(deps: Dependencies, tenant_id: str, contact_id: str) -> tuple[HistoryEntry | None, Contact | None]:
    """The contact's history entry, and the contact itself when history has no record of it yet (read once here, for
    the callers' checks); NotFound unless it is in history or is one of our contacts."""
    entry = deps.history.get_entry(tenant_id, contact_id)
    if entry is None or entry.record is None:
        return entry, deps.store.get_contact(tenant_id, contact_id)  # raises NotFound (404) for an unknown contact
    return entry, None


def _answered_on_the_customer_side(deps: Dependencies, tenant_id: str, contact_id: str, entry: HistoryEntry | None,
                                  contact: Contact | None, verb: str) -> bool:
    """Whether an agent answered the contact; a consult leg is refused first (lifecycle.require_customer_side: a
    409 naming the customer's segment), whether it is still going on or ended as one (its record's
    `consult_leg`). A leg completed or conferenced is the customer's segment (`consult_of` cleared) and passes.
    `contact`: known_contact's (None: read here)."""
    record = entry.record if entry is not None else None
    if record is not None and not record.consult_leg:
        return record.connected_at is not None  # ended on the customer's side, or an Amazon Connect contact
    from ccaas.domain import lifecycle  # noqa: PLC0415 - the contact entities: only a survey of our own contact

    contact = contact or deps.store.get_contact(tenant_id, contact_id)
    lifecycle.require_customer_side(contact, verb)
    return contact.answered


def record_survey(deps: Dependencies, tenant_id: str, contact_id: str, answers: SurveyAnswers) -> Survey:
    """Store the survey against the contact; its answers join that contact's KPIs in the interval
    the contact completed in, however late the survey arrives. A consult leg has no customer to rate it: its
    survey would join the consulting queue's CSAT (409, nothing stored)."""
    from ccaas.usecases.analytics import is_synthetic_contact, redact

    entry, contact = known_contact(deps, tenant_id, contact_id)
    if not _answered_on_the_customer_side(deps, tenant_id, contact_id, entry, contact, "surveyed"):
        # A survey rates a conversation: one on a contact still waiting, or abandoned, would join its queue's CSAT.
        raise Conflict(f"contact {contact_id} was not answered by an agent: nothing to rate", field="contact_id")
    if answers.csat is None and answers.ces is None and answers.nps is None:
        raise DomainError("a survey needs at least one of csat, ces, nps", field="csat")
    comment = redact(deps, tenant_id, answers.comment) if answers.comment else None
    survey = Survey(csat=answers.csat, ces=answers.ces, nps=answers.nps, comment=comment, submitted_at=deps.clock.now_ms())
    if is_synthetic_contact(deps, tenant_id, contact_id, entry, contact):
        return survey  # a journey test's contact never becomes history (no TTL there): answered, not kept
    deps.history.put_survey(tenant_id, contact_id, survey)
    from ccaas.usecases.lake import export_contacts, export_surveys  # noqa: PLC0415 - lake imports this module

    export_contacts(deps, tenant_id, [contact_id])  # a late survey corrects its (exported) day in the lake
    export_surveys(deps, tenant_id, [contact_id], {contact_id: survey.submitted_at})
    return survey


def get_survey(deps: Dependencies, tenant_id: str, contact_id: str) -> Survey:
    survey = deps.history.get_survey(tenant_id, contact_id)
    if survey is None:
        raise NotFound(f"no survey for contact {contact_id}", field="contact_id")
    return survey


def get_entry(deps: Dependencies, tenant_id: str, contact_id: str) -> HistoryEntry:
    entry = deps.history.get_entry(tenant_id, contact_id)
    if entry is None:
        raise NotFound(f"contact {contact_id} has no history yet", field="contact_id")
    return entry


# --- historical KPIs ------------------------------------------------------------------------------
# The reports' models are built by their first use (pydantic's defer_build), as KpiRow is: the stream consumers
# import this module for the recording use-cases above and never build a report.
def epoch_ms(moment: datetime, time_zone: str) -> int:
    """A naive time (or a bare date) is the tenant's wall clock; an aware one is taken as is. A wall time
    the clocks skip (02:30 on a spring-forward night) is the instant they jump: nothing after it is
    left out; a repeated one (fall-back) is its first occurrence."""
    if moment.tzinfo is None:
        wall = moment.replace(tzinfo=ZoneInfo(time_zone))
        if wall.astimezone(UTC).astimezone(wall.tzinfo).replace(tzinfo=None, fold=0) != moment.replace(fold=0):
            return _clocks_jump_over(wall)
        moment = wall
    return int(moment.timestamp() * 1000)


def _clocks_jump_over(wall: datetime) -> int:
    """Epoch ms of the jump that skips local `wall`: read with the offset after the jump (fold=1) it lies
    before it, with the offset before (fold=0) after it; the offset changes between the two."""
    before, after = int(wall.replace(fold=1).timestamp()), int(wall.replace(fold=0).timestamp())
    offset_after = datetime.fromtimestamp(after, wall.tzinfo).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, wall.tzinfo).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return after * 1000


def spans_more_days(time_zone: str, from_ms: int, to_ms: int, days: int) -> bool:
    """Whether [from, to) ends after the same wall time `days` local dates after `from`: limits count the
    tenant's calendar days, so 14 days over a DST change (a 23- or 25-hour day among them) are 14 days."""
    start = datetime.fromtimestamp(from_ms / 1000, ZoneInfo(time_zone)).replace(tzinfo=None)
    return to_ms > epoch_ms(start + timedelta(days=days), time_zone)


class TimeRange(BaseModel):
    model_config = ConfigDict(defer_build=True)

    from_ms: int
    to_ms: int


def time_range(
    deps: Dependencies, tenant_id: str, start: datetime | None, end: datetime | None, *, default_days: int = 1,
    max_days: int = MAX_RANGE_DAYS,
) -> tuple[str, TimeRange]:
    """Validated [from, to) in epoch ms; `to` defaults to now and `from` to `default_days` before it."""
    time_zone, _ = tenant_context(deps, tenant_id)
    to_ms = epoch_ms(end, time_zone) if end is not None else deps.clock.now_ms()
    from_ms = epoch_ms(start, time_zone) if start is not None else to_ms - default_days * DAY_MS
    if to_ms <= from_ms:
        raise DomainError("`to` must be after `from`", field="to")
    if spans_more_days(time_zone, from_ms, to_ms, max_days):
        raise DomainError(f"the range may span at most {max_days} days", field="to")
    return time_zone, TimeRange(from_ms=from_ms, to_ms=to_ms)


class HistoricalReport(BaseModel):
    model_config = ConfigDict(defer_build=True)

    time_zone: str
    interval: Granularity
    group_by: tuple[str, ...]
    service_level_variant: ServiceLevelVariant
    rows: list[KpiRow]
    # What the report could not be based on (e.g. no contacts in the range): rows are then all zeros.
    warnings: list[str] = Field(default_factory=list)


class CompactHistoricalReport(BaseModel):
    """GET /metrics/historical?compact=true (or with `fields`): rows with activity only, each with its
    interval, grouped dimensions and the chosen fields, rounded (domain.kpis.export.compact_rows)."""

    model_config = ConfigDict(defer_build=True)

    time_zone: str
    interval: Granularity
    group_by: tuple[str, ...]
    service_level_variant: ServiceLevelVariant
    fields: tuple[str, ...]
    rows: list[dict[str, str | float | int | None]]
    rows_left_out: int = Field(description="intervals (or groups) with no activity at all, not listed")
    warnings: list[str] = Field(default_factory=list)


def compact_report(report: HistoricalReport, fields: Sequence[str] | None = None) -> CompactHistoricalReport:
    from ccaas.domain.kpis.export import COMPACT_FIELDS, compact_rows

    chosen = tuple(fields) if fields else COMPACT_FIELDS
    try:
        rows = compact_rows(report.rows, chosen)
    except ValueError as error:
        raise DomainError(str(error), field="fields") from None
    return CompactHistoricalReport(
        time_zone=report.time_zone, interval=report.interval, group_by=report.group_by,
        service_level_variant=report.service_level_variant, fields=chosen, rows=rows,
        rows_left_out=len(report.rows) - len(rows), warnings=report.warnings,
    )


NO_CONTACTS = "no contacts in this range"
NO_AGENT_ACTIVITY = "no agent activity in this range: occupancy, utilization and staffed time are empty"


def partial_interval_warnings(calendar: TenantCalendar, interval: Granularity, from_ms: int, to_ms: int) -> list[str]:
    """A range that starts or ends inside an interval: that row keeps its interval's label (12:00-13:00) and counts
    only the range's part of it (from 12:10), said so rather than left for a reader to take as the whole hour."""
    warnings = []
    first = calendar.interval_start(calendar.quarter_start(from_ms), interval)
    if first != from_ms:
        warnings.append(f"the first {interval} row (from {calendar.iso(first)}) counts only from the range's start, "
                        f"{calendar.iso(from_ms)}")
    last = calendar.interval_start(calendar.quarter_start(to_ms - 1), interval)
    if calendar.next_interval_start(last, interval) != to_ms:
        warnings.append(f"the last {interval} row (from {calendar.iso(last)}) counts only up to the range's end, "
                        f"{calendar.iso(to_ms)}")
    return warnings


def range_warnings(records: Sequence[ContactRecord], activities: Sequence[AgentActivity], from_ms: int,
                   to_ms: int) -> list[str]:
    """What a KPI view over [from, to) lacks: contacts its rows count, agent activity overlapping it.

    A contact is in the rows when it was enqueued (queue side) or completed (handling side) in [from, to), as
    the roll-up counts it: not by when it began (an e-mail opened three days ago and completed in the range is in
    the range's handled/AHT, so "no contacts" would be false), nor by the quarter-hour it fell in (a contact of
    12:05 is not in a range from 12:10)."""
    warnings = []

    def counted(t: int | None) -> bool:
        return t is not None and from_ms <= t < to_ms

    if not any(counted(r.enqueued_at) or counted(r.completed_at) for r in records):
        warnings.append(NO_CONTACTS)
    if not any(a.start_ms < to_ms and a.end_ms > from_ms for a in activities):
        warnings.append(NO_AGENT_ACTIVITY)
    return warnings


def entries_for(deps: Dependencies, tenant_id: str, from_ms: int, to_ms: int) -> list[HistoryEntry]:
    """Every entry that can contribute to [from, to): anchored in it or up to a day before it, the longer
    contacts that completed in it (their handling side, surveys and FCR count there) and those enqueued in it
    more than a day after they began (their queue side counts there)."""
    entries = list(deps.history.entries_between(tenant_id, from_ms - HANDLING_LOOKBACK_MS, to_ms))
    held = {e.contact_id for e in entries}
    for late in (deps.history.entries_completed_between(tenant_id, from_ms, to_ms),
                 deps.history.entries_enqueued_between(tenant_id, from_ms, to_ms)):
        for entry in late:
            if entry.contact_id not in held:
                held.add(entry.contact_id)
                entries.append(entry)
    return entries


def kpi_records(deps: Dependencies, tenant_id: str, from_ms: int, to_ms: int, entries: list[HistoryEntry] | None = None,
                ) -> list[ContactRecord]:
    """The KPI records of entries_for (or of `entries` already read for the same range)."""
    entries = entries if entries is not None else entries_for(deps, tenant_id, from_ms, to_ms)
    return [r for r in (e.kpi_record() for e in entries) if r is not None]


def historical_metrics(
    deps: Dependencies,
    tenant_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    interval: Granularity = "15m",
    group_by: Sequence[str] = (),
    service_level_variant: ServiceLevelVariant | None = None,
) -> HistoricalReport:
    time_zone, settings = tenant_context(deps, tenant_id)
    _, span = time_range(deps, tenant_id, start, end)
    if interval == "15m" and spans_more_days(time_zone, span.from_ms, span.to_ms, MAX_QUARTER_HOUR_RANGE_DAYS):
        raise DomainError(f"15-minute intervals cover at most {MAX_QUARTER_HOUR_RANGE_DAYS} days", field="interval")
    if service_level_variant is not None:
        settings = settings.model_copy(update={"service_level_variant": service_level_variant})
    records = kpi_records(deps, tenant_id, span.from_ms, span.to_ms)
    activities = activity_spans(deps, tenant_id, span.from_ms, span.to_ms)
    try:
        rows = rollup(
            records, activities, tz=time_zone, interval=interval, group_by=tuple(group_by), from_ms=span.from_ms,
            to_ms=span.to_ms, settings=settings, tenant_id=tenant_id,
        )
    except ValueError as error:  # a bad group_by the API pattern let through
        raise DomainError(str(error), field="group_by") from None
    return HistoricalReport(
        time_zone=time_zone, interval=interval, group_by=tuple(group_by),
        service_level_variant=settings.service_level_variant, rows=rows,
        warnings=[*range_warnings(records, activities, span.from_ms, span.to_ms),
                  *partial_interval_warnings(TenantCalendar(time_zone), interval, span.from_ms, span.to_ms)],
    )


class HistoricalSummary(BaseModel):
    model_config = ConfigDict(defer_build=True)

    time_zone: str
    totals: KpiRow  # exactly [from, to) as one row, labelled with the range's bounds (its 15-minute rows summed)
    channel_mix: dict[str, float]
    contact_type_mix: dict[str, float]
    busiest_intervals: list[tuple[str, int]]  # 15-minute interval start, offered (as GET /metrics/historical's 15m rows)
    # Contacts anchored in the range whose Amazon Connect flow logged milestones (log_event), and those
    # of them contained by self-service (a self_service_success milestone, never reached an agent).
    self_service: Containment = Containment()
    warnings: list[str] = Field(default_factory=list)  # as HistoricalReport.warnings


def historical_summary(
    deps: Dependencies, tenant_id: str, *, start: datetime | None, end: datetime | None, top: int = 5
) -> HistoricalSummary:
    time_zone, settings = tenant_context(deps, tenant_id)
    _, span = time_range(deps, tenant_id, start, end, max_days=MAX_QUARTER_HOUR_RANGE_DAYS)
    entries = entries_for(deps, tenant_id, span.from_ms, span.to_ms)
    records = kpi_records(deps, tenant_id, span.from_ms, span.to_ms, entries)
    activities = activity_spans(deps, tenant_id, span.from_ms, span.to_ms)
    quarters = rollup(records, activities, tz=time_zone, interval="15m", from_ms=span.from_ms, to_ms=span.to_ms,
                      settings=settings, tenant_id=tenant_id)
    by_channel = rollup(records, tz=time_zone, interval="day", group_by=("channel",), from_ms=span.from_ms,
                        to_ms=span.to_ms, settings=settings)
    by_reason = rollup(records, tz=time_zone, interval="day", group_by=("reason",), from_ms=span.from_ms,
                       to_ms=span.to_ms, settings=settings)
    calendar = TenantCalendar(time_zone)
    return HistoricalSummary(
        time_zone=time_zone,
        totals=_sum_rows(quarters, span, settings, calendar),
        channel_mix={str(k): round(v, 6) for k, v in channel_mix(by_channel).items()},
        contact_type_mix={("unclassified" if k is None else str(k)): round(v, 6) for k, v in contact_type_mix(by_reason).items()},
        busiest_intervals=busiest_intervals(quarters, top),
        self_service=containment(e for e in entries if e.contact_time is not None and e.contact_time >= span.from_ms),
        # As GET /metrics/historical by 15m says it: busiest_intervals lists those 15-minute rows.
        warnings=[*range_warnings(records, activities, span.from_ms, span.to_ms),
                  *partial_interval_warnings(calendar, "15m", span.from_ms, span.to_ms)],
    )


def _sum_rows(rows: Sequence[KpiRow], span: TimeRange, settings: KpiSettings, calendar: TenantCalendar) -> KpiRow:
    """The rows (each counting only its part of [from, to)) summed into one row of the range, labelled with the
    range's own bounds: it counts exactly [from, to), not the quarter-hours its first and last rows are labelled by."""
    from ccaas.domain.kpis import KpiAccumulator, derive_kpis
    from ccaas.domain.kpis.accumulators import ACCUMULATOR_FIELDS

    acc = KpiAccumulator.summed([tuple(getattr(r, f) for f in ACCUMULATOR_FIELDS) for r in rows]) if rows else KpiAccumulator()
    first = rows[0] if rows else None
    values = {
        "tenant_id": first.tenant_id if first else None, "interval": "range", "group_by": (),
        "interval_start": calendar.iso(span.from_ms), "interval_end": calendar.iso(span.to_ms),
        "interval_start_ms": span.from_ms, "interval_end_ms": span.to_ms,
    }
    values.update(derive_kpis(acc, settings, agent_time=True))
    values.update(acc.as_dict())
    return KpiRow.model_validate(values)
