"""Which extra days a history item is filed under, the same rule in the DynamoDB store and its in-memory twin.

Reads are by day partition and look back one day (a KPI range reads what is anchored in it or the day
before). What lasts longer than that is filed again where a read of its later days looks:
- an agent's activity span in each later UTC day it crosses (an agent logged in for 50 hours is staffed in the
  third day's report), except OFFLINE: offline time is in no KPI, and a fortnight's leave would be 14 copies;
- a contact completed more than a day after its anchor time (a chat or an e-mail open for days) under its
  completion day: its handling side counts where it completed (ContactRecord.completed_at);
- a contact enqueued more than a day after its anchor time (a Connect scheduled task, an e-mail parked before it
  reached a queue) under its enqueue day: its queue side counts where it was enqueued (offered, SL, ASA).
Both happen once, when the span closes or the record is stored, so a read stays one Query per day of its
range whatever the length of what it finds.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccaas.domain.history import DAY_MS, anchor_time
from ccaas.domain.kpis.records import ActivityKind, ContactRecord


# A span is filed again in at most this many later days: one left open for years (a test agent nobody logged
# out) would otherwise cost a write per day when it closes; reports of its days past a year do not see it.
MAX_CROSSED_DAYS = 366


def crossed_days(start_ms: int, end_ms: int, kind: ActivityKind) -> list[str]:
    """The UTC dates after the span's start date that [start, end) reaches into (none for OFFLINE; at most
    MAX_CROSSED_DAYS)."""
    if kind is ActivityKind.OFFLINE or end_ms <= start_ms:
        return []
    day = datetime.fromtimestamp(start_ms / 1000, tz=UTC).date() + timedelta(days=1)
    last = min(datetime.fromtimestamp((end_ms - 1) / 1000, tz=UTC).date(), day + timedelta(days=MAX_CROSSED_DAYS - 1))
    days = []
    while day <= last:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def late_instant(record: ContactRecord, instant: str) -> int | None:
    """The record's `instant` ("completed_at" or "enqueued_at") when it falls more than a day after its anchor
    time, where a range's read of anchor times (one day of look-back) cannot reach it from that instant's day;
    else None."""
    at = getattr(record, instant)
    return at if at is not None and at - anchor_time(record) > DAY_MS else None
