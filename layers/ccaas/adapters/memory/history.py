"""In-memory twin of the History table: the same entry parts, conditions and ordering as
adapters/aws/history.py, behind the same two ports."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ccaas.adapters.history_days import crossed_days, late_instant
from ccaas.adapters.item_size import check_item_size
from ccaas.domain.history import (
    DAY_MS, AnalysisSummary, ChatMessage, FlowEvent, FlowSummary, HistoryEntry, OpenActivity, Survey, anchor_time,
    check_activity_range,
)
from ccaas.domain.kpis.records import AgentActivity, ContactRecord
from ccaas.domain.models import Conflict


def utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


class MemoryHistoryTable:
    """Holds the data; `.history` and `.transcripts` are the two ports over it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # (tenant, contact) -> entry parts: record, csat/ces/nps, followed_by_repeat/is_repeat, analysis
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.surveys: dict[tuple[str, str], Survey] = {}
        self.analyses: dict[tuple[str, str], dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, ChatMessage]] = {}
        self.series: dict[tuple[str, str], dict[str, Any]] = {}
        self.series_dropped: dict[tuple[str, str], int] = {}  # (tenant, day) -> when drop_series last forgot it
        self.open_spans: dict[tuple[str, str], OpenActivity] = {}
        # The span each open one closed, as the DynamoDB open item carries it (`closed`): its event again writes it.
        self.carried: dict[tuple[str, str], AgentActivity] = {}
        self.spans: dict[tuple[str, str, int], AgentActivity] = {}
        self.flow_events: dict[tuple[str, str], list[FlowEvent]] = {}
        self.history = MemoryHistoryStore(self)
        self.transcripts = MemoryTranscriptStore(self)

    def entry(self, tenant_id: str, contact_id: str) -> HistoryEntry | None:
        parts = self.entries.get((tenant_id, contact_id))
        return None if parts is None else HistoryEntry(tenant_id=tenant_id, contact_id=contact_id, **parts)


class MemoryHistoryStore:
    def __init__(self, table: MemoryHistoryTable) -> None:
        self._t = table

    def put_record(self, record: ContactRecord) -> bool:
        key = (record.tenant_id, record.contact_id)
        with self._t.lock:
            parts = self._t.entries.setdefault(key, {})
            held: ContactRecord | None = parts.get("record")
            if held is not None and record.last_updated_at <= held.last_updated_at:
                return False
            parts["record"] = record
            return True

    def get_entry(self, tenant_id: str, contact_id: str) -> HistoryEntry | None:
        return self._t.entry(tenant_id, contact_id)

    def entries_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        return self._entries_at(tenant_id, from_ms, to_ms, anchor_time)

    def entries_completed_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        return self._entries_at(tenant_id, from_ms, to_ms, lambda r: late_instant(r, "completed_at"))

    def entries_enqueued_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        return self._entries_at(tenant_id, from_ms, to_ms, lambda r: late_instant(r, "enqueued_at"))

    def _entries_at(self, tenant_id: str, from_ms: int, to_ms: int,
                    instant: Callable[[ContactRecord], int | None]) -> Iterator[HistoryEntry]:
        """The tenant's entries whose record's `instant` (None: not filed there) is in [from, to), in its order."""
        found = []
        for (tenant, contact_id), parts in list(self._t.entries.items()):
            record = parts.get("record")
            at = instant(record) if tenant == tenant_id and record is not None else None
            if at is not None and from_ms <= at < to_ms:
                found.append((at, contact_id))
        for _, contact_id in sorted(found):
            entry = self._t.entry(tenant_id, contact_id)
            if entry is not None:
                yield entry

    def customer_entries(self, tenant_id: str, customer_id: str, from_ms: int, to_ms: int) -> list[HistoryEntry]:
        return [
            e
            for e in self.entries_between(tenant_id, from_ms, to_ms + 1)
            if e.record is not None and e.record.customer_id == customer_id
        ]

    def recent_customer_entries(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                                up_to: int = 0) -> list[HistoryEntry]:
        # the by_customer index's order: anchor time, then contact id
        mine = sorted(((anchor_time(parts["record"]), contact_id)
                       for (tenant, contact_id), parts in list(self._t.entries.items())
                       if tenant == tenant_id and parts.get("record") is not None
                       and parts["record"].customer_id == customer_id), reverse=True)
        limit = max(0, limit)
        found = mine[:limit]
        if since_ms is not None:
            found = (found + [(at, c) for at, c in mine[limit:] if at >= since_ms])[:max(limit, up_to)]
        return [e for e in (self._t.entry(tenant_id, c) for _, c in found) if e is not None]

    def update_flags(self, tenant_id: str, changes: Mapping[str, Mapping[str, bool | None]]) -> None:
        with self._t.lock:
            for contact_id, change in changes.items():
                parts = self._t.entries.setdefault((tenant_id, contact_id), {})
                for name, value in change.items():
                    if name not in ("followed_by_repeat", "is_repeat"):
                        raise ValueError(f"not a repeat flag: {name}")
                    parts[name] = value

    def put_survey(self, tenant_id: str, contact_id: str, survey: Survey) -> None:
        with self._t.lock:
            self._t.surveys[(tenant_id, contact_id)] = survey
            parts = self._t.entries.setdefault((tenant_id, contact_id), {})
            parts.update(csat=survey.csat, ces=survey.ces, nps=survey.nps)

    def get_survey(self, tenant_id: str, contact_id: str) -> Survey | None:
        return self._t.surveys.get((tenant_id, contact_id))

    def get_series(self, tenant_id: str, day: str) -> dict[str, Any] | None:
        return self._t.series.get((tenant_id, day))

    def put_series(self, tenant_id: str, day: str, series: Mapping[str, Any], *,
                   unless_dropped_since: int | None = None) -> bool:
        key = (tenant_id, day)
        with self._t.lock:
            dropped = self._t.series_dropped.get(key)
            if unless_dropped_since is not None and dropped is not None and dropped >= unless_dropped_since:
                return False
            self._t.series[key] = dict(series)
            self._t.series_dropped.pop(key, None)  # the DynamoDB put replaces the whole item, its drop time too
            return True

    def drop_series(self, tenant_id: str, day: str, at_ms: int) -> None:
        with self._t.lock:
            self._t.series.pop((tenant_id, day), None)
            self._t.series_dropped[(tenant_id, day)] = at_ms

    def apply_agent_activity(self, tenant_id: str, opened: OpenActivity) -> bool:
        return self.apply_agent_activity_span(tenant_id, opened)[0]

    def apply_agent_activity_span(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        key = (tenant_id, opened.agent_id)
        with self._t.lock:
            held = self._t.open_spans.get(key)
            if held is not None and opened.sequence <= held.sequence:
                return False, None
            closed = None
            if held is not None:
                closed = held.until(opened.since, tenant_id)
                self._put_span(closed)
            self._put_open(key, opened, closed)
            return True, closed

    def _put_span(self, span: AgentActivity) -> None:
        self._t.spans[(span.tenant_id, span.agent_id, span.start_ms)] = span

    def _put_open(self, key: tuple[str, str], opened: OpenActivity, closed: AgentActivity | None) -> None:
        self._t.open_spans[key] = opened
        if closed is None:
            self._t.carried.pop(key, None)
        else:
            self._t.carried[key] = closed

    def agent_activity_batch(self, agents: Iterable[tuple[str, str]]) -> MemoryActivityBatch:
        with self._t.lock:
            return MemoryActivityBatch(self, {key: self._t.open_spans.get(key) for key in agents})

    def agent_activities(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        if to_ms <= from_ms:
            return []
        check_activity_range(from_ms, to_ms)  # the same bound as the DynamoDB store's
        found = [a for (t, _, start), a in self._t.spans.items() if t == tenant_id and from_ms <= start < to_ms]
        return sorted(found, key=lambda a: (a.start_ms, a.agent_id))

    def agent_activities_overlapping(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        """What the DynamoDB store finds: the spans starting in the range or the day before it, and those that
        cross into the range's first UTC day (crossed_days: not an OFFLINE one)."""
        if to_ms <= from_ms:
            return []
        check_activity_range(from_ms, to_ms)
        first_day = utc_day(from_ms)
        found = [
            a for (t, _, start), a in self._t.spans.items()
            if t == tenant_id and start < to_ms and a.end_ms > from_ms
            and (start >= from_ms - DAY_MS or first_day in crossed_days(start, a.end_ms, a.kind))
        ]
        return sorted(found, key=lambda a: (a.start_ms, a.agent_id))

    def open_activities(self, tenant_id: str) -> list[OpenActivity]:
        return sorted((o for (t, _), o in self._t.open_spans.items() if t == tenant_id), key=lambda o: o.agent_id)

    def add_flow_event(self, tenant_id: str, contact_id: str, event: FlowEvent) -> None:
        with self._t.lock:
            self._t.flow_events.setdefault((tenant_id, contact_id), []).append(event)
            parts = self._t.entries.setdefault((tenant_id, contact_id), {})
            held: FlowSummary = parts.get("flow") or FlowSummary()
            parts["flow"] = FlowSummary(milestones=held.milestones + 1, last=event.name,
                                        self_service=held.self_service or event.self_service)

    def flow_events(self, tenant_id: str, contact_id: str) -> list[FlowEvent]:
        return sorted(self._t.flow_events.get((tenant_id, contact_id), []), key=lambda e: e.at)


class MemoryActivityBatch:
    """The DynamoDB store's batch (adapters/aws/history.py _DynamoActivityBatch), the same semantics: the open spans
    read when the batch began, each open one replaced only over the one read (else read again, three times), the
    span it closes carried and written by write_spans, or before the agent's next open one replaces it."""

    def __init__(self, store: MemoryHistoryStore, read: dict[tuple[str, str], OpenActivity | None]) -> None:
        self._store, self._t = store, store._t
        self._read = read  # (tenant, agent) -> the open span as read for the batch or written since
        self._unwritten: dict[tuple[str, str], AgentActivity] = {}

    def apply(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        key = (tenant_id, opened.agent_id)
        for attempt in range(3):
            with self._t.lock:
                if attempt or key not in self._read:  # another writer replaced it (or not read yet): read it now
                    self._read[key] = self._t.open_spans.get(key)
                    if attempt and key in self._t.carried:
                        self._unwritten[key] = self._t.carried[key]
                held = self._read[key]
                if held is not None and opened.sequence <= held.sequence:
                    if opened.sequence == held.sequence and key in self._t.carried:  # this event again
                        self._unwritten[key] = self._t.carried[key]
                    return False, None
                closed = None if held is None else held.until(opened.since, tenant_id)
                self._write({key})
                current = self._t.open_spans.get(key)
                if (None if current is None else current.sequence) != (None if held is None else held.sequence):
                    continue  # the condition on the sequence read failed
                self._store._put_open(key, opened, closed)
                self._read[key] = opened
                if closed is not None:
                    self._unwritten[key] = closed
                return True, closed
        self._read.pop(key, None)
        return False, None

    def write_spans(self) -> None:
        with self._t.lock:
            self._write(set(self._unwritten))

    def _write(self, keys: set[tuple[str, str]]) -> None:
        for key in keys & self._unwritten.keys():
            self._store._put_span(self._unwritten.pop(key))


class MemoryTranscriptStore:
    def __init__(self, table: MemoryHistoryTable) -> None:
        self._t = table

    def add_message(self, tenant_id: str, contact_id: str, message: ChatMessage) -> None:
        with self._t.lock:
            self._t.messages.setdefault((tenant_id, contact_id), {})[message.message_id] = message

    def messages(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                 limit: int | None = None) -> list[ChatMessage]:
        held = self._t.messages.get((tenant_id, contact_id), {})
        ordered = sorted(held.values(), key=lambda m: m.cursor)
        if after is not None:
            ordered = [m for m in ordered if m.cursor > after]
        return ordered if limit is None else ordered[:limit]

    def latest_messages(self, tenant_id: str, contact_id: str, limit: int, *,
                        through: str | None = None) -> list[ChatMessage]:
        with self._t.lock:
            held = list(self._t.messages.get((tenant_id, contact_id), {}).values())
        ordered = sorted((m for m in held if through is None or m.cursor <= through), key=lambda m: m.cursor)
        return ordered[-limit:] if limit > 0 else []

    def replace_messages(self, tenant_id: str, contact_id: str,
                         replacements: Sequence[tuple[ChatMessage, ChatMessage]]) -> None:
        with self._t.lock:
            held = self._t.messages.get((tenant_id, contact_id), {})
            if any(held.get(old.message_id) != old or new.cursor != old.cursor for old, new in replacements):
                raise Conflict(f"the messages of contact {contact_id} changed concurrently; retry", field="contact_id")
            for _, new in replacements:
                held[new.message_id] = new

    def put_analysis(
        self, tenant_id: str, contact_id: str, analysis: Mapping[str, Any], summary: AnalysisSummary,
        *, expected_version: int | None = None,
    ) -> None:
        check_item_size({"analysis": analysis}, "analysis")  # as DynamoDB's 400 KB would
        with self._t.lock:
            if expected_version is not None:
                held = self._t.analyses.get((tenant_id, contact_id))
                if int((held or {}).get("version", 0)) != expected_version:
                    raise Conflict(f"the analysis of contact {contact_id} changed concurrently; retry", field="contact_id")
            self._t.analyses[(tenant_id, contact_id)] = dict(analysis)
            self._t.entries.setdefault((tenant_id, contact_id), {})["analysis"] = summary

    def get_analysis(self, tenant_id: str, contact_id: str, *, consistent: bool = True) -> dict[str, Any] | None:
        del consistent  # every read of the twin is consistent
        held = self._t.analyses.get((tenant_id, contact_id))
        return None if held is None else dict(held)
