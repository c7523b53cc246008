"""KPI defects of the outside review R2 (/tmp/review-kpis): Connect CTRs' service-level threshold, the
"no contacts" warning, and a contact enqueued long after it was initiated (a Connect scheduled task)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from ccaas.domain.kpis import AgentActivity, ContactRecord
from ccaas.domain.kpis.records import ActivityKind
from ccaas.domain.models import Channel, Queue
from ccaas.usecases import admin, history
from ccaas.usecases.history import NO_AGENT_ACTIVITY, NO_CONTACTS, range_warnings
from tests.unit.demo import TENANT, demo_deps

H = 3_600_000
D = 24 * H
ARN = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555"


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _iso(ms: int) -> str:
    return _at(ms).isoformat().replace("+00:00", "Z")


def test_a_connect_record_uses_its_queues_service_level_threshold() -> None:
    """Queue `support` has T = 60 s: a CTR answered after 40 s in it is within SL (not a miss against 20 s)."""
    deps = demo_deps()
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="support", name="Support", channels=frozenset({Channel.VOICE}),
                                sl_threshold_s=60, max_wait_s=600))
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=ARN)
    now = deps.clock.now_ms()
    ctr = {"ContactId": "c-1", "InstanceARN": ARN, "Channel": "VOICE", "InitiationMethod": "INBOUND",
           "InitiationTimestamp": _iso(now - 200_000), "DisconnectTimestamp": _iso(now - 60_000),
           "LastUpdateTimestamp": _iso(now - 50_000),
           "Queue": {"ARN": ARN + "/queue/abc", "Name": "Support", "EnqueueTimestamp": _iso(now - 190_000),
                     "DequeueTimestamp": _iso(now - 150_000), "Duration": 40},
           "Agent": {"ARN": ARN + "/agent/ag1", "ConnectedToAgentTimestamp": _iso(now - 150_000),
                     "AgentInteractionDuration": 90, "CustomerHoldDuration": 0, "AfterContactWorkDuration": 0}}
    assert history.ingest_ctr(deps, json.dumps(ctr)).stored
    record = deps.history.get_entry(TENANT, "c-1").record
    assert (record.queue_id, record.sl_threshold_s) == ("support", 60)
    report = history.historical_metrics(deps, TENANT, start=_at(now - H), end=_at(now + 60_000), interval="day",
                                        group_by=("queue",))
    (row,) = report.rows
    assert (row.queue, row.offered, row.answered_within_sl, row.service_level) == ("support", 1, 1, 1.0)
    # a queue at the default keeps it; one we do not know falls back to the tenant default (no KeyError)
    assert history.ctr_mapping(deps, TENANT).sl_threshold_s_by_queue == {"sales": 20, "spanish": 20, "support": 60}


def test_no_contacts_warning_agrees_with_the_rows() -> None:
    """An e-mail begun three days ago and completed in the last hour is in that hour's handled: no "no contacts"."""
    deps = demo_deps()
    now = deps.clock.now_ms()
    record = ContactRecord(tenant_id=TENANT, contact_id="long-1", channel="EMAIL", queue_id="sales", initiated_at=now - 3 * D,
                           enqueued_at=now - 3 * D, connected_at=now - 2 * D, disconnected_at=now - 20 * 60_000,
                           acw_ended_at=now - 10 * 60_000, final_state="COMPLETED", last_updated_at=now - 10 * 60_000)
    assert history.store_record(deps, record)
    summary = history.historical_summary(deps, TENANT, start=_at(now - H), end=_at(now))
    assert summary.totals.handled == 1 and NO_CONTACTS not in summary.warnings
    report = history.historical_metrics(deps, TENANT, start=_at(now - H), end=_at(now), interval="hour")
    assert sum(r.handled for r in report.rows) == 1 and NO_CONTACTS not in report.warnings
    # the range it began in (three days ago) holds its arrival: offered there, so no warning either
    before = history.historical_metrics(deps, TENANT, start=_at(now - 3 * D - H), end=_at(now - 3 * D + H), interval="hour")
    assert sum(r.offered for r in before.rows) == 1 and NO_CONTACTS not in before.warnings
    # a day in between: neither enqueued nor completed in it, its rows are zeros and the warning says so
    between = history.historical_metrics(deps, TENANT, start=_at(now - D - H), end=_at(now - D), interval="hour")
    assert not any(r.offered or r.handled for r in between.rows) and NO_CONTACTS in between.warnings


def test_range_warnings_bucket_like_the_rows() -> None:
    """Begun before the range, completed in it: counted; a range starting mid-quarter counts only from its start,
    as its rows do (it once held that whole quarter, and its rows counted it too: an outside probe's defect)."""
    record = ContactRecord(tenant_id="t", contact_id="c", channel="VOICE", initiated_at=0, enqueued_at=1_000,
                           connected_at=2_000, disconnected_at=10 * H, final_state="COMPLETED", last_updated_at=10 * H)
    span = AgentActivity(agent_id="a", start_ms=500, end_ms=2_000, kind=ActivityKind.AVAILABLE_IDLE)
    assert range_warnings([record], [], 9 * H, 11 * H) == [NO_AGENT_ACTIVITY]
    assert range_warnings([record], [span], 5 * H, 9 * H) == [NO_CONTACTS, NO_AGENT_ACTIVITY]
    assert range_warnings([record], [], 1_000, H) == [NO_AGENT_ACTIVITY]  # enqueued at its first instant
    assert range_warnings([record], [], 60_000, H) == [NO_CONTACTS, NO_AGENT_ACTIVITY]  # enqueued before it
    assert range_warnings([record], [], 10 * H + 1, 11 * H) == [NO_CONTACTS, NO_AGENT_ACTIVITY]  # completed before it


def test_a_contact_enqueued_days_after_it_was_initiated_counts_where_it_was_enqueued() -> None:
    """A Connect scheduled task initiated 3 days before it is enqueued, worked into the next day: the range it was
    enqueued in counts it offered and answered (the arrival side buckets by enqueue time)."""
    deps = demo_deps()
    t = deps.clock.now_ms()
    record = ContactRecord(tenant_id=TENANT, contact_id="task-1", channel="TASK", queue_id="sales", initiated_at=t - 3 * D - 2 * H,
                           enqueued_at=t - 2 * H, connected_at=t - 2 * H + 360_000, disconnected_at=t + D,
                           final_state="COMPLETED", last_updated_at=t + D)
    assert history.store_record(deps, record)
    deps.clock.advance((D + H) // 1000)
    report = history.historical_metrics(deps, TENANT, start=_at(t - 3 * H), end=_at(t), interval="hour")
    assert (sum(r.offered for r in report.rows), sum(r.answered for r in report.rows)) == (1, 1)
    assert NO_CONTACTS not in report.warnings
    # its handling still counts once, on the day it completed; the day it was initiated has nothing of it
    done = history.historical_metrics(deps, TENANT, start=_at(t + D - H), end=_at(t + D + H), interval="hour")
    assert (sum(r.offered for r in done.rows), sum(r.handled for r in done.rows)) == (0, 1)
    begun = history.historical_metrics(deps, TENANT, start=_at(t - 3 * D - 3 * H), end=_at(t - 3 * D), interval="hour")
    assert not any(r.offered or r.handled for r in begun.rows)


def test_the_forecasts_history_counts_a_contact_where_it_was_enqueued_however_long_after_it_began() -> None:
    """The forecast's daily series (offered by enqueue time) read a day's entries from an hour before it: a task
    enqueued 5 hours, or 3 days, after it began was missing from the day it queued on, and from every forecast."""
    from zoneinfo import ZoneInfo

    from ccaas.usecases import forecasting

    deps = demo_deps()
    t = deps.clock.now_ms()
    day_start = t - t % D  # midnight UTC of the clock's day
    for contact_id, begun_before in (("ivr", 10 * 60_000), ("task-5h", 5 * H), ("task-3d", 3 * D)):
        enqueued = day_start + 2 * H
        assert history.store_record(deps, ContactRecord(
            tenant_id=TENANT, contact_id=contact_id, channel="TASK", queue_id="sales", initiated_at=enqueued - begun_before,
            enqueued_at=enqueued, connected_at=enqueued + 60_000, disconnected_at=enqueued + 600_000,
            final_state="COMPLETED", last_updated_at=enqueued + 600_000))  # fmt: skip
    day = datetime.fromtimestamp(day_start / 1000, tz=UTC).date()
    series = forecasting._history_days(deps, TENANT, ZoneInfo("UTC"), day, day)[day]  # noqa: SLF001
    offered = sum(cell[0] for cells in series.values() for cell in cells.values())
    assert offered == 3
