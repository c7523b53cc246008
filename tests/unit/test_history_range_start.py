"""A KPI range [from, to) counts exactly what happened in it, on both ends, whatever the interval.

Outside probe of `make run`: contacts made and finished between 06:24 and 06:27:17 UTC, then
GET /metrics/historical?from=06:29:59Z&to=06:30:00Z&interval=15m answered offered 14, answered 5, abandoned 9 (the
whole 06:15-06:30 quarter) while its own warning said the row "counts only from the range's start"; the summary
gave the same totals with no warning, and from=06:26:50, 06:27:20, 06:27:30 or 06:15 all gave the same figures.
The ledger kept every cell whose quarter-hour overlapped the range: cells are whole quarters.

Each case here is checked against a count made directly from the records and spans (the oracle below): a
contact's queue side counts where it was enqueued, its handling side (surveys included) where it completed, agent
time clipped to the range; each row counts its interval's part of the range and keeps its interval's label.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.kpis import ActivityKind, AgentActivity, ContactRecord, FinalState, KpiLedger
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.tenants import Tenant
from ccaas.usecases import history
from ccaas.usecases.history import NO_CONTACTS

TENANT = "probe"
T0 = int(datetime(2026, 12, 6, 6, 0, tzinfo=UTC).timestamp() * 1000)  # 06:00 UTC
S, M = 1_000, 60_000
ZONES = ("UTC", "Asia/Kolkata", "America/New_York")  # UTC; +05:30 (its hours start at :30 UTC); -05:00


def at(minute: int, second: int = 0) -> int:
    return T0 + minute * M + second * S


def _contact(cid: str, enqueued: int, *, connected: int | None = None, disconnected: int, acw_end: int | None = None,
             csat: int | None = None) -> ContactRecord:
    return ContactRecord(
        tenant_id=TENANT, contact_id=cid, channel="VOICE", queue_id="sales", agent_id="ana" if connected else None,
        initiated_at=enqueued, enqueued_at=enqueued, connected_at=connected, disconnected_at=disconnected,
        acw_ended_at=acw_end, final_state=FinalState.COMPLETED if connected else FinalState.ABANDONED,
        sl_threshold_s=20, csat=csat, last_updated_at=acw_end or disconnected)


# Made and finished between 06:24 and 06:27:17, as the probe's.
RECORDS = [
    _contact("A", at(24), connected=at(24, 20), disconnected=at(25, 30), acw_end=at(26), csat=5),
    _contact("B", at(24, 30), disconnected=at(25)),
    _contact("C", at(25, 10), connected=at(25, 40), disconnected=at(26, 40), csat=2),
    _contact("D", at(26), disconnected=at(26, 20)),
    _contact("E", at(26, 45), connected=at(27), disconnected=at(27, 10), acw_end=at(27, 17), csat=4),
    _contact("F", at(27, 5), disconnected=at(27, 15)),
]
SPANS = [
    AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=at(0), end_ms=at(24, 20), kind=ActivityKind.AVAILABLE_IDLE),
    AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=at(24, 20), end_ms=at(26), kind=ActivityKind.ON_CONTACT),
    AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=at(26), end_ms=at(60), kind=ActivityKind.AVAILABLE_IDLE),
]
COUNTS = ("offered", "answered", "abandoned", "handled", "handle_ms", "csat_count", "csat_positive", "staffed_ms",
          "busy_ms", "idle_ms")


def oracle(from_ms: int, to_ms: int) -> dict[str, int]:
    """What happened in [from, to), counted straight from the records and spans."""
    queued = [r for r in RECORDS if from_ms <= r.enqueued_at < to_ms]
    done = [r for r in RECORDS if from_ms <= r.completed_at < to_ms]

    def clipped(kinds: set[ActivityKind]) -> int:
        return sum(max(0, min(a.end_ms, to_ms) - max(a.start_ms, from_ms)) for a in SPANS if a.kind in kinds)

    return {
        "offered": len(queued), "answered": sum(r.answered for r in queued), "abandoned": sum(r.abandoned for r in queued),
        "handled": sum(r.handled for r in done), "handle_ms": sum(r.handle_ms for r in done if r.handled),
        "csat_count": sum(r.csat is not None for r in done), "csat_positive": sum((r.csat or 0) >= 4 for r in done),
        "staffed_ms": clipped({ActivityKind.AVAILABLE_IDLE, ActivityKind.ON_CONTACT}),
        "busy_ms": clipped({ActivityKind.ON_CONTACT}), "idle_ms": clipped({ActivityKind.AVAILABLE_IDLE}),
    }


def _deps(time_zone: str):  # noqa: ANN202
    deps = memory_dependencies()
    deps.clock.now = T0 + 2 * 86_400_000
    deps.config.put_tenant(Tenant(tenant_id=TENANT, name=TENANT, time_zone=time_zone))
    for record in RECORDS:
        deps.history.put_record(record)
    for span in SPANS:  # closed spans, as the store keeps them
        deps.history._t.spans[(TENANT, span.agent_id, span.start_ms)] = span
    return deps


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _sums(rows) -> dict[str, int]:  # noqa: ANN001
    return {name: sum(getattr(r, name) for r in rows) for name in COUNTS}


# --- the probe's ranges -------------------------------------------------------------------------------
def test_the_probes_last_second_of_the_quarter_counts_no_contact():
    """from=06:29:59Z&to=06:30:00Z: nothing was enqueued or completed in that second (it answered 14/5/9); the
    agent was staffed all of it (1 s idle, not the quarter's 15 minutes). The row keeps its 06:15 label."""
    deps = _deps("UTC")
    report = history.historical_metrics(deps, TENANT, start=_utc(at(29, 59)), end=_utc(at(30)), interval="15m")
    (row,) = report.rows
    assert row.interval_start == "2026-12-06T06:15:00+00:00" and row.interval_end == "2026-12-06T06:30:00+00:00"
    assert _sums(report.rows) == oracle(at(29, 59), at(30))
    assert (row.offered, row.answered, row.abandoned, row.handled, row.csat) == (0, 0, 0, 0, None)
    assert (row.staffed_ms, row.idle_ms, row.busy_ms) == (1_000, 1_000, 0)
    assert NO_CONTACTS in report.warnings
    assert ("the first 15m row (from 2026-12-06T06:15:00+00:00) counts only from the range's start, "
            "2026-12-06T06:29:59+00:00") in report.warnings
    compact = history.compact_report(report, ["offered", "answered", "abandoned"])
    assert all(r.get("offered", 0) == r.get("answered", 0) == r.get("abandoned", 0) == 0 for r in compact.rows)


@pytest.mark.parametrize("start", [at(15), at(24, 30), at(25, 5), at(26, 50), at(27, 10), at(27, 20), at(27, 30)])
def test_a_later_start_inside_the_quarter_counts_less(start):
    """The probe's from=06:26:50, 06:27:20, 06:27:30 and 06:15 all gave offered 10, answered 3, CSAT 0.667."""
    deps = _deps("UTC")
    report = history.historical_metrics(deps, TENANT, start=_utc(start), end=_utc(at(45)), interval="15m")
    assert _sums(report.rows) == oracle(start, at(45))
    summary = history.historical_summary(deps, TENANT, start=_utc(start), end=_utc(at(45)))
    assert {name: getattr(summary.totals, name) for name in COUNTS} == oracle(start, at(45))
    want = oracle(start, at(45))
    assert summary.totals.csat == (want["csat_positive"] / want["csat_count"] if want["csat_count"] else None)


def test_the_probes_starts_give_different_figures_where_different_things_happened():
    deps = _deps("UTC")
    offered = {}
    for start in (at(15), at(26, 50), at(27, 20), at(27, 30)):
        summary = history.historical_summary(deps, TENANT, start=_utc(start), end=_utc(at(30)))
        offered[start] = (summary.totals.offered, summary.totals.answered, summary.totals.handled)
    assert offered == {at(15): (6, 3, 3), at(26, 50): (1, 0, 1), at(27, 20): (0, 0, 0), at(27, 30): (0, 0, 0)}


@pytest.mark.parametrize("end", [at(24, 10), at(25), at(26), at(26, 50), at(27, 17), at(27, 18)])
def test_an_end_inside_the_quarter_counts_only_up_to_it(end):
    """`to` is exclusive and exact too: a contact completed after it is not handled in the range (its record was
    read, as the range's entries are), one completed at it is not either."""
    deps = _deps("UTC")
    report = history.historical_metrics(deps, TENANT, start=_utc(at(0)), end=_utc(end), interval="15m")
    assert _sums(report.rows) == oracle(at(0), end)


# --- any zone, any interval: every row counts its part of the range --------------------------------------
RANGES = [
    (at(29, 59), at(30)),  # one second, the last of a quarter
    (at(24, 10), at(26, 10)),  # inside one quarter, both ends
    (at(26, 50), at(27, 16)),  # a few seconds around E's and F's contacts
    (at(10), at(50)),  # starts and ends inside hours (12:10-12:50 in the README's words)
    (at(-35), at(27, 5)),  # from the hour before, to F's enqueue instant (exclusive)
    (at(0), at(60)),  # whole quarters (whole hours in UTC and New York, halves in Kolkata)
]


@pytest.mark.parametrize("time_zone", ZONES)
@pytest.mark.parametrize("interval", ["15m", "hour", "day"])
@pytest.mark.parametrize(("start", "end"), RANGES)
def test_each_row_counts_exactly_its_intervals_part_of_the_range(time_zone, interval, start, end):
    deps = _deps(time_zone)
    calendar = TenantCalendar(time_zone)
    report = history.historical_metrics(deps, TENANT, start=_utc(start), end=_utc(end), interval=interval)
    assert [r.interval_start_ms for r in report.rows] == calendar.interval_starts(interval, start, end)
    for row in report.rows:  # labelled with its whole interval, counting only the range's part of it
        assert row.interval_end_ms == calendar.next_interval_start(row.interval_start_ms, interval)
        part = (max(start, row.interval_start_ms), min(end, row.interval_end_ms))
        assert {name: getattr(row, name) for name in COUNTS} == oracle(*part), (row.interval_start, part)
    assert _sums(report.rows) == oracle(start, end)
    partial = history.partial_interval_warnings(calendar, interval, start, end)
    assert [w for w in report.warnings if "counts only" in w] == partial
    assert (NO_CONTACTS in report.warnings) == (oracle(start, end)["offered"] + oracle(start, end)["handled"] == 0)


@pytest.mark.parametrize("time_zone", ZONES)
@pytest.mark.parametrize(("start", "end"), RANGES)
def test_the_summary_agrees_with_the_rows_and_says_the_same(time_zone, start, end):
    """The summary's totals are the range's, labelled with its bounds (it gave the quarter's label with `from`'s
    ms); its warnings are those of the 15-minute rows it sums (it said nothing of a partial quarter)."""
    deps = _deps(time_zone)
    calendar = TenantCalendar(time_zone)
    summary = history.historical_summary(deps, TENANT, start=_utc(start), end=_utc(end))
    rows = history.historical_metrics(deps, TENANT, start=_utc(start), end=_utc(end), interval="15m")
    assert {name: getattr(summary.totals, name) for name in COUNTS} == _sums(rows.rows) == oracle(start, end)
    assert summary.warnings == rows.warnings
    assert (summary.totals.interval_start, summary.totals.interval_end) == (calendar.iso(start), calendar.iso(end))
    assert (summary.totals.interval_start_ms, summary.totals.interval_end_ms) == (start, end)
    offered_by_quarter = {r.interval_start: r.offered for r in rows.rows}
    assert all(offered_by_quarter[label] == offered for label, offered in summary.busiest_intervals)
    assert sum(summary.channel_mix.values()) == (pytest.approx(1.0) if oracle(start, end)["offered"] else 0)


# --- the ledger itself --------------------------------------------------------------------------------
def test_a_ledger_fed_once_reads_any_range_exactly_and_additively():
    """One ledger, read for a range and for its two halves split inside a quarter: the halves add up to the whole
    (nothing of the split quarter counted twice), and each is what happened in it. Reading an edge quarter does not
    change the ledger's own cells (a later whole-quarter read is unchanged)."""
    ledger = KpiLedger(tz="Asia/Kolkata")
    ledger.apply_all(RECORDS)
    for span in SPANS:
        ledger.apply_activity(span)
    whole_before = ledger.rows("hour", from_ms=at(0), to_ms=at(60))
    for split in (at(24, 45), at(26, 20), at(27, 5), at(27, 17)):
        first = ledger.accumulators("day", from_ms=at(20), to_ms=split)
        second = ledger.accumulators("day", from_ms=split, to_ms=at(40))
        for name in COUNTS:
            halves = sum(getattr(acc, name) for acc in first.values()) + sum(getattr(acc, name) for acc in second.values())
            assert halves == oracle(at(20), at(40))[name], (split, name)
            assert sum(getattr(acc, name) for acc in first.values()) == oracle(at(20), split)[name], (split, name)
    assert ledger.rows("hour", from_ms=at(0), to_ms=at(60)) == whole_before
    # grouped by agent: the same clipping (agent time and contacts carry the agent; abandons have none)
    by_agent = KpiLedger(tz="UTC", group_by=("agent",))
    by_agent.apply_all(RECORDS)
    for span in SPANS:
        by_agent.apply_activity(span)
    cells = by_agent.accumulators("hour", from_ms=at(25, 30), to_ms=at(26, 30))
    assert {dims: (acc.busy_ms, acc.idle_ms, acc.offered, acc.handled) for (_, dims), acc in cells.items()} == {
        ("ana",): (30_000, 30_000, 0, 1), (None,): (0, 0, 1, 0)}  # A completed at 06:26 (ana's), D enqueued then
