"""The demo tenant's generated past (local.demo_history) without moto: its shape over six weeks, the
records as the pipeline stores them, and the warnings the history and forecast use-cases add."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from ccaas.domain.analytics import default_categories
from ccaas.domain.forecast import HistoryPoint
from ccaas.domain.kpis import KpiSettings, rollup
from ccaas.domain.kpis.records import ActivityKind, AgentActivity, ContactRecord
from ccaas.usecases.forecasting import history_warnings
from ccaas.usecases.history import NO_AGENT_ACTIVITY, NO_CONTACTS, range_warnings
from local import demo_history
from local.seed import DEMO

END = date(2026, 11, 29)  # a Sunday


@pytest.fixture(scope="module")
def history() -> demo_history.GeneratedHistory:
    return demo_history.generate(DEMO, end_day=END)


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)  # the demo tenant is on UTC


def test_six_weeks_ending_on_the_day_asked(history) -> None:
    assert history.first_day == END - timedelta(days=41) and history.last_day == END
    days = {_local(e.record.initiated_at).date() for e in history.entries}
    assert min(days) == history.first_day and max(days) == END and len(days) == 42


def test_weekdays_are_busier_than_weekends_and_the_day_has_its_peaks(history) -> None:
    per_day = Counter(_local(e.record.initiated_at).date() for e in history.entries if e.record.initiation_method == "INBOUND")
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.8 * sum(weekend) / len(weekend)
    hours = Counter(_local(e.record.initiated_at).hour for e in history.entries if e.record.initiation_method == "INBOUND")
    assert set(hours) <= set(range(8, 20))  # open 08:00-20:00
    assert hours[10] > 2 * hours[8] and hours[14] > 2 * hours[19]  # morning and afternoon humps
    # growth: the last full week is not smaller than the first
    first = sum(n for d, n in per_day.items() if d < history.first_day + timedelta(days=7))
    last = sum(n for d, n in per_day.items() if d > END - timedelta(days=7))
    assert last >= first * 0.95


def test_every_channel_and_queue_of_the_demo(history) -> None:
    mix = Counter((e.record.queue_id, e.record.channel.value) for e in history.entries)
    assert {("sales", "VOICE"), ("support", "VOICE"), ("support", "CHAT"), ("support", "SMS"), ("billing", "EMAIL")} <= set(mix)
    assert mix[("sales", "VOICE")] > mix[("support", "SMS")] > 0
    assert {e.record.agent_id for e in history.entries if e.record.agent_id} == {a.agent_id for a in DEMO.agents}


def test_kpis_of_the_queue_model_are_plausible(history) -> None:
    records = [e.kpi_record() for e in history.entries]
    start = int(datetime(2026, 11, 16, tzinfo=UTC).timestamp() * 1000)
    rows = rollup(records, history.activities, tz="UTC", interval="week", from_ms=start,
                  to_ms=start + 14 * demo_history.DAY_MS, settings=KpiSettings())
    assert len(rows) == 2
    for row in rows:
        assert row.offered > 1000
        assert 0.6 <= row.service_level <= 0.98, row.service_level
        assert 0.01 <= row.abandonment_rate <= 0.2, row.abandonment_rate
        assert 200 <= row.aht_s <= 600, row.aht_s
        assert 0.2 <= row.occupancy <= 0.95, row.occupancy
        assert 0.01 <= row.transfer_rate <= 0.15, row.transfer_rate
        assert 0.5 <= row.fcr < 1.0 and row.csat is not None and row.nps is not None


def test_transfers_and_escalations_are_linked_segments(history) -> None:
    by_id = {e.contact_id: e.record for e in history.entries}
    moved = [r for r in by_id.values() if r.transferred]
    assert moved and all(r.final_state.value == "TRANSFERRED" and r.transferred_to_kind == "QUEUE" for r in moved)
    modes = Counter()
    for r in moved:
        nxt = by_id[r.next_contact_id]
        assert nxt.initiation_method == "TRANSFER" and nxt.previous_contact_id == r.contact_id
        assert nxt.initial_contact_id == r.contact_id and nxt.customer_id == r.customer_id
        assert nxt.agent_id != r.agent_id  # the escalation and transfer settings exclude the sender
        assert nxt.enqueued_at == r.disconnected_at
        modes[nxt.handover_mode] += 1
        if nxt.handover_mode == "ESCALATION":
            assert nxt.queue_id == "supervisors"
    assert modes["BLIND"] > modes["ESCALATION"] > 0


def test_outbound_calls_are_placed_by_free_sales_agents_on_weekdays(history) -> None:
    outbound = [e for e in history.entries if e.record.initiation_method == "OUTBOUND"]
    assert 5 * 30 < len(outbound) < 15 * 30
    sales = {a.agent_id for a in DEMO.agents if "sales" in dict(a.queues)}
    for e in outbound:
        r = e.record
        assert r.enqueued_at is None and not r.offered and r.handled and r.agent_id in sales
        assert _local(r.initiated_at).weekday() < 5 and 10 <= _local(r.initiated_at).hour < 17
        assert e.is_repeat is None and e.followed_by_repeat is None  # we called: not the customer coming back


def test_repeats_surveys_and_holds(history) -> None:
    entries = history.entries
    repeats = [e for e in entries if e.is_repeat]
    assert 0.05 < len(repeats) / len(entries) < 0.35
    assert any(e.followed_by_repeat for e in entries)
    transferred_in = [e for e in entries if e.record.initiation_method == "TRANSFER"]
    assert all(e.is_repeat is None for e in transferred_in)  # legs continue the request: not in FCR
    surveyed = [e for e in entries if e.csat is not None]
    assert 0.1 < len(surveyed) / len(entries) < 0.4 and len(history.surveys) == len(surveyed)
    assert {e.csat for e in surveyed} <= set(range(1, 6)) and len({e.csat for e in surveyed}) >= 4
    assert all(history.surveys[e.contact_id].nps == e.nps for e in surveyed)
    assert any(e.record.hold_ms and e.record.hold_count == 1 for e in entries)


def test_transcripts_carry_the_default_rules_categories_reasons_and_compliance(history) -> None:
    analysed = [e for e in history.entries if e.analysis is not None]
    assert analysed and all(e.record.channel.value in ("VOICE", "CHAT") for e in analysed)
    categories = Counter(c for e in analysed for c in e.analysis.categories)
    assert set(categories) == {rule.name for rule in default_categories()}
    failed = Counter(c for e in analysed for c in e.analysis.compliance_failed)
    assert {"recording_disclosure", "prohibited_language"} <= set(failed)
    # the analysis classifies the reason: the stored record has none, the entry's is the analysis's
    assert all(e.record.reason is None and e.reason == e.analysis.reason for e in analysed)
    assert {e.reason for e in analysed} >= {"sales", "technical_support", "billing", "cancellation"}
    full = json.loads(history.analyses[analysed[0].contact_id])
    assert full["contact_id"] == analysed[0].contact_id and full["connected_at_ms"] == analysed[0].record.connected_at
    assert history.distinct_analyses < len(analysed) / 5  # one real analysis per variant, reused


def test_agent_activity_spans_do_not_overlap_per_agent(history) -> None:
    kinds = Counter(s.kind for s in history.activities)
    assert {ActivityKind.ON_CONTACT, ActivityKind.ACW, ActivityKind.AVAILABLE_IDLE, ActivityKind.NOT_READY} <= set(kinds)
    last_end: dict[str, int] = {}
    for span in sorted(history.activities, key=lambda s: (s.agent_id, s.start_ms)):
        assert span.end_ms > span.start_ms
        assert span.start_ms >= last_end.get(span.agent_id, 0), span
        last_end[span.agent_id] = span.end_ms


def test_same_seed_same_history_another_seed_another() -> None:
    plan = demo_history.HistoryPlan(days=3)
    a = demo_history.generate(DEMO, end_day=END, plan=plan)
    b = demo_history.generate(DEMO, end_day=END, plan=plan)
    c = demo_history.generate(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=3, seed=99))
    assert [e.model_dump() for e in a.entries] == [e.model_dump() for e in b.entries]
    assert a.analyses == b.analyses and a.activities == b.activities
    assert [e.record for e in a.entries] != [e.record for e in c.entries]


def test_items_are_in_the_history_tables_layout(history) -> None:
    items = list(demo_history.history_items(history))
    entries = [i for i in items if i["sk"]["S"] == "ENTRY"]
    assert len(entries) == len(history.entries)
    sample = next(i for i in entries if "an" in i and "s_csat" in i)  # an analysed, surveyed contact
    cid = sample["pk"]["S"].split("#CONTACT#")[1]
    record = ContactRecord.model_validate_json(sample["rec"]["S"])
    assert record.contact_id == cid and sample["lu"]["N"] == str(record.last_updated_at)
    assert sample["day_pk"]["S"] == f"demo#DAY#{_local(record.initiated_at).date()}"
    assert sample["day_sk"]["S"] == f"{record.initiated_at:013d}#{cid}"
    assert sample["cust_pk"]["S"] == f"demo#CUST#{record.customer_id}"
    assert sample["s_csat"]["N"] == str(history.surveys[cid].csat)
    assert json.loads(sample["an"]["S"])["categories"] is not None
    assert all(v is not None for i in entries for v in i.values())
    assert sum(i["sk"]["S"] == "SURVEY" for i in items) == len(history.surveys)
    assert sum(i["sk"]["S"] == "ANALYSIS" for i in items) == len(history.analyses)
    spans = [i for i in items if "#ACTIVITY#" in i["pk"]["S"]]
    assert len(spans) == len(history.activities)
    # the forecast's day series are cached for the settled days only (ended two days ago or more)
    series_days = sorted(i["sk"]["S"] for i in items if i["pk"]["S"] == "demo#SERIES")
    assert series_days[0] == history.first_day.isoformat() and series_days[-1] == (END - timedelta(days=2)).isoformat()
    # in the forecast's cache layout: what a first forecast reads instead of computing the day
    from ccaas.usecases.forecasting import cached_series

    cached = [cached_series(json.loads(i["series"]["S"]), history.time_zone) for i in items if i["pk"]["S"] == "demo#SERIES"]
    assert all(c is not None for c in cached) and cached[0] == history.series[history.first_day]


# --- warnings of the use-cases ------------------------------------------------------------------------
def test_range_warnings_say_what_is_missing() -> None:
    record = ContactRecord(tenant_id="t", contact_id="c", channel="VOICE", enqueued_at=1_000, final_state="ABANDONED")
    span = AgentActivity(agent_id="a", start_ms=500, end_ms=2_000, kind=ActivityKind.AVAILABLE_IDLE)
    assert range_warnings([record], [span], 0, 5_000) == []
    assert range_warnings([], [], 0, 5_000) == [NO_CONTACTS, NO_AGENT_ACTIVITY]
    assert range_warnings([record], [span], 900_000, 905_000) == [NO_CONTACTS, NO_AGENT_ACTIVITY]


def test_history_warnings_of_a_forecast() -> None:
    def points(days: int, offered: int) -> list[HistoryPoint]:
        first = datetime(2026, 11, 1, 10, tzinfo=UTC)
        return [HistoryPoint(first + timedelta(days=i), offered, 300.0) for i in range(days)]

    frm, to = date(2026, 10, 20), date(2026, 11, 30)
    assert "no contacts in queue sales" in history_warnings(points(30, 0), queue_id="sales", weeks=6,
                                                            history_from=frm, history_to=to)[0]
    short = history_warnings(points(30, 3), queue_id="sales", weeks=6, history_from=frm, history_to=to)
    assert short == ["forecast needs at least 6 weeks of history (42 days); found 30 days (2026-11-01 .. 2026-11-30)"]
    assert history_warnings(points(30, 3), queue_id="sales", weeks=4, history_from=frm, history_to=to) == []
