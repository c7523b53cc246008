"""Small interfaces the use-cases depend on. AWS adapters and in-memory twins implement them."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

# Type-only: the ports name every feature's models, but a function imports only the features it uses
# (annotations are strings here, never evaluated; the cold start pays for no domain module it does not need).
if TYPE_CHECKING:
    from ccaas.domain.alerts import Alert, AlertChange, AlertRules, LiveTranscriptState
    from ccaas.domain.analytics.sentiment import SentimentAnalyzer
    from ccaas.domain.customers import Customer
    from ccaas.domain.events import Event
    from ccaas.domain.history import AnalysisSummary, ChatMessage, FlowEvent, HistoryEntry, OpenActivity, Survey
    from ccaas.domain.kpis.records import AgentActivity, ContactRecord
    from ccaas.domain.live_metrics import WritePlan
    from ccaas.domain.models import Agent, Contact, Queue
    from ccaas.domain.push import Connection
    from ccaas.domain.tenants import ApiKeyRecord, Credential, Tenant


class StateStore(Protocol):
    """Contacts and agents. `save` is all-or-nothing and optimistic: each entity is written only if
    the stored version is still `entity.version - 1` (or absent for version 0)."""

    def get_contact(self, tenant_id: str, contact_id: str) -> Contact: ...
    def get_agent(self, tenant_id: str, agent_id: str) -> Agent: ...
    def get_agents(self, tenant_id: str, agent_ids: Sequence[str]) -> list[Agent]:
        """These agents as get_agent reads them (consistently), in the order asked; one that does not exist is
        left out. One request for a stream batch's agents rather than one each."""
        ...
    def list_agents(self, tenant_id: str) -> list[Agent]: ...
    def staffing_roster(self, tenant_id: str) -> list[Agent]:
        """The tenant's agents for routing's one question about them, "could anyone staffed take this step?"
        (routing_engine.reach): may be a copy up to a few seconds old. Never for what an agent or an API
        caller is shown (list_agents)."""
        ...
    def available_agents(self, tenant_id: str, limit: int) -> list[Agent]:
        """AVAILABLE agents, longest idle first."""
        ...
    def waiting_contacts(self, tenant_id: str, queue_id: str, limit: int) -> list[Contact]:
        """Waiting (QUEUED or CALLBACK_SCHEDULED) contacts of one queue, longest waiting first."""
        ...
    def waiting_in_queues(self, tenant_id: str, queue_ids: Sequence[str], limit: int) -> dict[str, list[Contact]]:
        """The first `limit` waiting contacts of each of these queues, longest waiting first, keyed by
        queue (every queue asked for is a key). A freed agent's whole routing profile in one read."""
        ...
    def save(
        self, *, contacts: Sequence[Contact] = (), agents: Sequence[Agent] = (),
        decisions: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    ) -> None:
        """`decisions` ((tenant_id, contact_id, decision)) are kept in the same atomic write (see
        record_decision): a reservation and its explanation land together or not at all."""
        ...
    def recent_contacts(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                        up_to: int = 0) -> list[Contact]:
        """The customer's contacts, newest first (the journey context routing plans with): the newest `limit`, and with
        `since_ms` every older one initiated at or after it too (the FCR window a repeat is looked for in), at most
        max(limit, up_to) in all (a Query bounded by time on the customer's index, paged). A journey test's (synthetic)
        contact is not indexed under its customer, so it never crowds out the real ones."""
        ...
    def record_decision(self, tenant_id: str, contact_id: str, decision: Mapping[str, Any], *,
                        expires_at: int | None = None) -> None:
        """Keep a routing decision (candidates, scores, step, why) with the contact it concerns; `expires_at`: the
        contact's TTL (a journey test's, synthetic_expiry), so the decision goes when the contact does."""
        ...
    def decisions(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                  limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The contact's routing decisions, oldest first, each with its cursor (`<at, 13 digits>#<8 hex>`, in the
        same order): at most `limit` of those after the cursor `after`."""
        ...


class ConfigStore(Protocol):
    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def put_tenant(self, tenant: Tenant) -> None: ...
    def tenant_for_key(self, key_hash: str) -> str | None: ...
    def put_api_key(self, key_hash: str, tenant_id: str) -> None:
        """A key in the shape stored before roles (tenant only; read back as an admin credential)."""
        ...
    def credential_for_key(self, key_hash: str) -> Credential | None:
        """The credential a live key's hash stands for; None when unknown (or revoked: its hash is gone)."""
        ...
    def add_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new key: its by-hash item (the authorizer's lookup) and its by-id item, atomically."""
        ...
    def get_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        """NotFound when the tenant has no such key."""
        ...
    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]: ...
    def replace_api_key(self, current: ApiKeyRecord, updated: ApiKeyRecord) -> None:
        """Rotate or revoke, atomically: the by-id item becomes `updated` (Conflict unless it still is
        `current`), `current`'s hash stops resolving, and `updated`'s resolves unless it is revoked."""
        ...
    def get_queue(self, tenant_id: str, queue_id: str) -> Queue: ...
    def list_queues(self, tenant_id: str) -> list[Queue]: ...
    def put_queue(self, queue: Queue) -> None: ...
    def list_tenants(self) -> list[str]:
        """Every registered tenant id (put_tenant registers it): what the alert sweep walks."""
        ...
    def get_alert_rules(self, tenant_id: str) -> AlertRules:
        """The tenant's alert rules; the defaults when it never set any."""
        ...
    def put_alert_rules(self, tenant_id: str, rules: AlertRules) -> None: ...
    def put_connect_instance(self, instance_arn: str, tenant_id: str) -> None:
        """Amazon Connect instance -> the tenant its contact records belong to (admin only)."""
        ...
    def tenant_for_connect_instance(self, instance_arn: str) -> str | None: ...
    def put_sms_sender(self, kind: str, name: str, tenant_id: str) -> None:
        """An AWS End User Messaging SMS origination identity (kind "origination") or configuration set (kind
        "configuration-set") -> the tenant that may send texts through it (admin only)."""
        ...
    def tenant_for_sms_sender(self, kind: str, name: str) -> str | None: ...
    def get_settings(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        """A named settings document of the tenant ("kpis", "analytics"); None when never set."""
        ...
    def put_settings(self, tenant_id: str, name: str, values: Mapping[str, Any]) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> None: ...


class AlertStore(Protocol):
    """Supervisor alerts, and the per-contact state live-transcript rules keep (no text).

    At most one unresolved alert per (tenant, rule, subject): `open` is a conditional write."""

    def open(self, alert: Alert) -> Alert:
        """Store `alert` unless an unresolved alert holds its (rule, subject); returns the stored one."""
        ...
    def unresolved(self, tenant_id: str) -> list[Alert]: ...
    def get(self, tenant_id: str, alert_id: str) -> Alert: ...
    def recent(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        """Newest first, any status; with `after`, those older than that alert id."""
        ...
    def resolved(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        """The resolved ones as `recent` lists them, however many newer alerts are open."""
        ...
    def index_resolved(self, tenant_id: str) -> int:
        """Put the tenant's alerts resolved before `resolved` could list them where it does (an upgrade's one-off;
        idempotent). Returns how many it indexed."""
        ...
    def acknowledge(self, tenant_id: str, alert_id: str, at_ms: int) -> Alert:
        """OPEN -> ACKNOWLEDGED (an acknowledged alert is returned as it is); Conflict once resolved."""
        ...
    def resolve(self, alert: Alert) -> bool:
        """Store `alert` (status RESOLVED) and free its (rule, subject); False if it was already resolved."""
        ...
    def mark_published(self, alerts: Sequence[Alert]) -> None: ...
    def transcript_state(self, tenant_id: str, contact_id: str) -> LiveTranscriptState | None: ...
    def save_transcript_state(self, state: LiveTranscriptState) -> None:
        """Optimistic: written only if the stored version is `state.version - 1` (absent for 1)."""
        ...


class AlertPublisher(Protocol):
    def publish(self, changes: Sequence[tuple[AlertChange, Alert]]) -> None:
        """Every change reaches the alerts bus, or this raises."""
        ...


class Workflow(Protocol):
    def start_contact(self, contact: Contact, wait_s: int) -> None:
        """Start the contact's lifecycle; its first wait for an agent lasts at most `wait_s` seconds."""
        ...
    def start_post_contact(self, contact: Contact) -> None:
        """Start the post-contact workflow (history, transcript analysis) of a contact an agent handled,
        once it has ended; starting it twice is harmless (its steps are idempotent)."""
        ...
    def succeed(self, token: str, output: Mapping[str, Any]) -> None: ...
    def fail(self, token: str, error: str, cause: str) -> None: ...


class LiveMetricsStore(Protocol):
    """One item per (tenant, queue); see ccaas.domain.live_metrics for its layout."""

    def snapshots(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The current items (strongly consistent) of these (tenant_id, queue_id) keys that exist."""
        ...
    def write(self, tenant_id: str, queue_id: str, plan: WritePlan) -> dict[str, Any]:
        """Apply the plan in one conditional write and return the item after it; Conflict if a
        condition no longer holds (another writer moved the watermark or reset a slot)."""
        ...
    def read(self, tenant_id: str, queue_id: str) -> dict[str, Any]: ...
    def add_abandons(self, tenant_id: str, queue_id: str, page: str, entries: Sequence[str], expires_at_s: int) -> set[str]:
        """Add abandons' entries (minute, wait, event hash) to a queue's page, a set: once each however often they
        come; returns the page's entries."""
        ...
    def abandons(self, tenant_id: str, queue_id: str, days: Sequence[str]) -> dict[str, set[str]]:
        """Day -> the entries of the queue's abandon pages of that day."""
        ...


class EventDeduplicator(Protocol):
    def first_sequence(self, event: Event, sequence: str) -> str:
        """The stream sequence number under which this event id was first seen (one record)."""
        ...

    def seen(self, event_ids: Sequence[str]) -> dict[str, str]:
        """event id -> first sequence, for the ids already stored (a batch in one read)."""
        ...

    def remember(self, first_sequences: Mapping[str, str]) -> None:
        """Store these first sightings (event id -> sequence)."""
        ...


class AgentActivityBatch(Protocol):
    """A stream batch's agent events applied together (HistoryStore.agent_activity_batch): the agents' open
    spans are read once for the batch, and the spans the events close are written together by `write_spans`.

    The crash protocol of apply_agent_activity holds per event: the open item is written first, carrying the
    span it closes, so an event applied while its span is still unwritten is completed by its redelivery
    (equal sequence: the carried span is written again). Hence: a span is written before its agent's next open
    item replaces the one carrying it, and a caller that cannot `write_spans` must fail the whole batch (every
    event whose span is unwritten is then redelivered)."""

    def apply(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        """apply_agent_activity_span against the open span read for the batch (or this batch's own last write;
        a fresh read after a conflicting writer), except that the span closed, and a repeated event's carried
        span, are written by `write_spans` (or before the agent's next open item). Raises as that method."""
        ...
    def write_spans(self) -> None:
        """Write every span closed or carried so far and not yet written (once each). Raises if any is left
        unwritten; nothing is then lost: each one is still carried by its agent's open item."""
        ...


class HistoryStore(Protocol):
    """Contact history: one entry per contact (record, survey answers, repeat flags, analysis summary),
    each part written on its own so late writers never overwrite each other (see domain/history.py)."""

    def put_record(self, record: ContactRecord) -> bool:
        """Store the record, or replace the stored one only if this one has a strictly newer
        last_updated_at. False (nothing written) for a duplicate or an older version."""
        ...
    def get_entry(self, tenant_id: str, contact_id: str) -> HistoryEntry | None: ...
    def entries_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        """Entries whose record's anchor time (domain.history.anchor_time) is in [from_ms, to_ms)."""
        ...
    def entries_completed_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        """Entries whose record completed (ContactRecord.completed_at) in [from_ms, to_ms) more than a day
        (domain.history.DAY_MS) after its anchor time: the long contacts a read of anchor times with a day of
        look-back misses (adapters/history_days.py). One read per day of the range, as entries_between."""
        ...
    def entries_enqueued_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        """Entries whose record was enqueued (ContactRecord.enqueued_at) in [from_ms, to_ms) more than a day after
        its anchor time (a Connect scheduled task): the queue side a read of anchor times with a day of look-back
        misses (adapters/history_days.py). One read per day of the range, as entries_between."""
        ...
    def customer_entries(self, tenant_id: str, customer_id: str, from_ms: int, to_ms: int) -> list[HistoryEntry]:
        """The customer's entries with an anchor time in [from_ms, to_ms] (may lag a fresh write)."""
        ...
    def recent_customer_entries(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                                up_to: int = 0) -> list[HistoryEntry]:
        """The customer's `limit` latest entries, newest anchor time first: one Query (may lag a fresh write); with
        `since_ms`, every older one anchored at or after it too, at most max(limit, up_to) in all (as recent_contacts)."""
        ...
    def update_flags(self, tenant_id: str, changes: Mapping[str, Mapping[str, bool | None]]) -> None:
        """Set (or clear, with None) followed_by_repeat / is_repeat per contact id."""
        ...
    def put_survey(self, tenant_id: str, contact_id: str, survey: Survey) -> None:
        """Store the survey (replacing an earlier one) and its answers on the contact's entry, atomically."""
        ...
    def get_survey(self, tenant_id: str, contact_id: str) -> Survey | None: ...
    def get_series(self, tenant_id: str, day: str) -> dict[str, Any] | None:
        """A cached per-day interval series (domain/planning.py), keyed by tenant-local ISO date; None when
        none is cached or it was dropped."""
        ...
    def put_series(self, tenant_id: str, day: str, series: Mapping[str, Any], *,
                   unless_dropped_since: int | None = None) -> bool:
        """Cache the day's series; with `unless_dropped_since` (epoch ms), only if drop_series was not called for the
        day at or after it (a record written while the series was computed may be missing from it). False: not
        cached."""
        ...
    def drop_series(self, tenant_id: str, day: str, at_ms: int) -> None:
        """Forget the day's cached series (a record of that day was written) and note when, for put_series."""
        ...
    def apply_agent_activity(self, tenant_id: str, opened: OpenActivity) -> bool:
        """Close the agent's open span at `opened.since` (it becomes a stored span) and open `opened`, only if
        `opened.sequence` is newer than the open one's. False: stale or repeated. Not necessarily atomic: after
        a failure, the same event again completes the change (the DynamoDB store writes the span last), and the
        agent's later events wait for it."""
        ...
    def apply_agent_activity_span(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        """apply_agent_activity, also returning the span it closed as agent_activities reads it back: (True,
        span); (True, None) for the agent's first event (nothing was open); (False, None) stale or repeated.
        The lake's export then needs no read of its own (ccaas.usecases.lake.export_closed_span)."""
        ...
    def agent_activity_batch(self, agents: Iterable[tuple[str, str]]) -> AgentActivityBatch:
        """A batch of agent events for these (tenant, agent) pairs: their open spans read now, consistently (the
        DynamoDB store: one BatchGetItem a hundred agents), for AgentActivityBatch.apply."""
        ...
    def agent_activities(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        """Closed spans that start in [from_ms, to_ms); a range longer than `MAX_ACTIVITY_READ_DAYS`
        (domain.history) raises DomainError(field="from") before any read."""
        ...
    def agent_activities_overlapping(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        """Closed spans that overlap [from_ms, to_ms), however long before it they started (each is filed
        again in every later UTC day it crosses, adapters/history_days.py; an OFFLINE span, in no KPI, only when
        it starts at most a day before the range). Bounded as agent_activities."""
        ...
    def open_activities(self, tenant_id: str) -> list[OpenActivity]: ...
    def add_flow_event(self, tenant_id: str, contact_id: str, event: FlowEvent) -> None:
        """Keep a contact-flow milestone beside the contact's entry and fold it into the entry's
        `flow` summary (count, last, self-service), atomically."""
        ...
    def flow_events(self, tenant_id: str, contact_id: str) -> list[FlowEvent]:
        """The contact's flow milestones, oldest first."""
        ...


class TranscriptStore(Protocol):
    """Redacted chat messages and transcript analyses. Nothing here ever holds raw text."""

    def add_message(self, tenant_id: str, contact_id: str, message: ChatMessage) -> None: ...
    def messages(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                 limit: int | None = None) -> list[ChatMessage]:
        """In time order; only those after the cursor `after` (a message's `cursor`), at most `limit`."""
        ...
    def latest_messages(self, tenant_id: str, contact_id: str, limit: int, *,
                        through: str | None = None) -> list[ChatMessage]:
        """The newest `limit` messages (those at or before the cursor `through`), in time order (consistent)."""
        ...
    def replace_messages(self, tenant_id: str, contact_id: str,
                         replacements: Sequence[tuple[ChatMessage, ChatMessage]]) -> None:
        """Rewrite stored messages (more of them redacted), each (expected, new) pair only while the message is
        still `expected`, all at once: Conflict otherwise, and none is rewritten (at most 100)."""
        ...
    def put_analysis(
        self,
        tenant_id: str,
        contact_id: str,
        analysis: Mapping[str, Any],
        summary: AnalysisSummary,
        *,
        expected_version: int | None = None,
    ) -> None:
        """The full (redacted) analysis, and its summary on the contact's history entry, atomically.
        With `expected_version`, only over the stored document of that version (0: none or unversioned):
        Conflict otherwise (two supervisors' overrides never overwrite each other)."""
        ...
    def get_analysis(self, tenant_id: str, contact_id: str, *, consistent: bool = True) -> dict[str, Any] | None: ...


class SentimentEngines(Protocol):
    """The sentiment analyzer a tenant's analytics setting names (engine, language); built once per pair."""

    def analyzer(self, engine: str, language: str) -> SentimentAnalyzer: ...


class CustomerStore(Protocol):
    """The tenant's customer directory. Within a tenant a phone number or an e-mail address names at
    most one customer: `put` writes the customer and its lookup entries atomically (stale ones removed)."""

    def get(self, tenant_id: str, customer_id: str) -> Customer | None: ...
    def find(self, tenant_id: str, *, phone: str | None = None, email: str | None = None) -> Customer | None:
        """By a normalised phone number or e-mail address (domain.customers normalise_phone / normalise_email): exactly
        one of the two; the store keys by the value as given (callers normalise once, at the edge)."""
        ...
    def put(self, customer: Customer) -> Customer:
        """Create or replace the customer; Conflict (field phones / emails) when one of its numbers or
        addresses already belongs to another customer of the tenant (nothing is written then)."""
        ...


class Clock(Protocol):
    def now_ms(self) -> int: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


# --- Push over WebSocket (ccaas.domain.push) ---------------------------------------------------------


class ConnectionStore(Protocol):
    """Open WebSocket connections, tenant first. Lookups are by audience: (tenant, agent) for an
    agent's connections, (tenant) for the supervisors/admins watching queues; one Query each."""

    def put(self, connection: Connection) -> None: ...
    def get(self, tenant_id: str, connection_id: str) -> Connection | None: ...
    def delete(self, tenant_id: str, connection_id: str) -> None:
        """Idempotent: deleting an unknown connection is not an error."""
        ...
    def subscribe(self, tenant_id: str, connection_id: str, queues: Sequence[str]) -> Connection:
        """Replace the connection's subscriptions; NotFound when the tenant has no such connection."""
        ...
    def of_agent(self, tenant_id: str, agent_id: str) -> list[Connection]: ...
    def watchers(self, tenant_id: str) -> list[Connection]:
        """The tenant's supervisor and admin connections (their subscriptions say which queues)."""
        ...
    def watchers_of(self, tenant_id: str, key_id: str) -> list[Connection]:
        """The tenant's watcher connections opened with one credential (its key id): what a watcher's $connect
        bounds, without reading every other supervisor's sockets."""
        ...


class PushChannel(Protocol):
    def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        """Send one message; ccaas.domain.push.ConnectionGone when the connection no longer exists,
        MessageRefused when this message can never be sent (over 128 KB, malformed), any other exception for a
        failure worth retrying."""
        ...
    def close(self, connection_id: str) -> None:
        """Close the client's socket (DeleteConnection); closing a gone connection is not an error."""
        ...
