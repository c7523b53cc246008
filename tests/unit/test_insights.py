"""domain/insights.py (search, root causes) and domain/planning.py (history -> forecast inputs), on
hand-computed fixtures."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ccaas.domain.history import AnalysisSummary, HistoryEntry
from ccaas.domain.insights import (
    ContactSearch,
    lowest_performers,
    repeat_drivers,
    search_entries,
    top_reasons,
)
from ccaas.domain.kpis import Channel, ContactRecord, FinalState, KpiSettings
from ccaas.domain.planning import (
    ABANDONED,
    HANDLE_MS,
    HANDLED,
    MAX_PATIENCE_S,
    OFFERED,
    WAIT_MS,
    day_series,
    history_points,
    patience_estimate,
)

T0 = 1_764_000_000_000
MIN = 60_000
SETTINGS = KpiSettings()


def _record(cid: str, at: int, *, agent="ana", queue="sales", reason="billing", answered=True, **kw) -> ContactRecord:
    values = dict(
        tenant_id="acme", contact_id=cid, channel=Channel.CHAT, queue_id=queue, agent_id=agent if answered else None,
        reason=reason, customer_id=f"cust-{cid}", initiated_at=at, enqueued_at=at,
        connected_at=at + 10_000 if answered else None, disconnected_at=at + 130_000,
        acw_ended_at=at + 160_000 if answered else None,
        final_state=FinalState.COMPLETED if answered else FinalState.ABANDONED, last_updated_at=at + 160_000,
    )
    values.update(kw)
    return ContactRecord(**values)


def _entry(record, *, qa=None, categories=(), sentiment=None, followed=None, reason=None) -> HistoryEntry:
    analysis = None if qa is None else AnalysisSummary(qa_score=qa, categories=tuple(categories),
                                                       customer_sentiment=sentiment, reason=reason)
    return HistoryEntry(tenant_id="acme", contact_id=record.contact_id, record=record, analysis=analysis,
                        followed_by_repeat=followed, is_repeat=None if followed is None else False)


ENTRIES = [
    _entry(_record("c1", T0), qa=92, categories=["payment_issue"], sentiment=1.5, followed=True),
    _entry(_record("c2", T0 + MIN, agent="bob"), qa=40, categories=["complaint", "payment_issue"], sentiment=-2.5, followed=False),
    _entry(_record("c3", T0 + 2 * MIN, reason="delivery"), qa=75, categories=["complaint"], sentiment=0.2, followed=False),
    _entry(_record("c4", T0 + 3 * MIN, agent="bob", queue="support", reason=None), qa=55, sentiment=-4.0, reason="delivery"),
    _entry(_record("c5", T0 + 4 * MIN, reason="billing", answered=False), followed=True),  # no transcript
    _entry(_record("c6", T0 + 50 * MIN, agent="cy", queue="support", reason="tech"), qa=20, followed=True),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["c6", "c4", "c3", "c2", "c1"]),  # analysed only, newest first
        ({"category": "complaint"}, ["c3", "c2"]),
        ({"agent": "bob"}, ["c4", "c2"]),
        ({"queue": "support"}, ["c6", "c4"]),
        ({"min_sentiment": 0.0}, ["c3", "c1"]),  # c6 has no sentiment: never matches a sentiment floor
        ({"qa_below": 60}, ["c6", "c4", "c2"]),
        ({"reason": "delivery"}, ["c4", "c3"]),  # c4 by its classified reason
        ({"category": "payment_issue", "agent": "bob", "qa_below": 50}, ["c2"]),
        ({"limit": 2}, ["c6", "c4"]),
    ],
)
def test_search_filters_combine_with_and(filters, expected):
    search = ContactSearch(from_ms=T0, to_ms=T0 + 60 * MIN, **filters)
    assert [e.contact_id for e in search_entries(ENTRIES, search)] == expected


def test_search_range_is_half_open():
    search = ContactSearch(from_ms=T0 + MIN, to_ms=T0 + 3 * MIN)
    assert [e.contact_id for e in search_entries(ENTRIES, search)] == ["c3", "c2"]


def test_top_reasons_count_contacts_with_their_handle_time_and_repeat_rate():
    stats = top_reasons(ENTRIES, from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    assert [(s.reason, s.contacts) for s in stats] == [("billing", 3), ("delivery", 2), ("tech", 1)]
    billing = stats[0]
    assert billing.share == pytest.approx(3 / 6)
    assert billing.handled == 2 and billing.aht_s == pytest.approx(150.0)  # 120 s talk + 30 s ACW each
    assert billing.fcr_contacts == 3 and billing.repeat_rate == pytest.approx(2 / 3)  # c1, c5 followed; c2 not


def test_repeat_drivers_rank_reasons_by_repeat_rate():
    drivers = repeat_drivers(ENTRIES, from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    assert [(d.reason, d.fcr_contacts, d.repeat_drivers) for d in drivers] == [
        ("tech", 1, 1), ("billing", 3, 2), ("delivery", 1, 0)
    ]
    assert drivers[1].repeat_rate == pytest.approx(2 / 3) and drivers[1].fcr == pytest.approx(1 / 3)
    assert [d.reason for d in repeat_drivers(ENTRIES, from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS, min_contacts=2)] == ["billing"]


def test_lowest_qa_and_fcr_by_agent_and_queue():
    qa = lowest_performers(ENTRIES, dimension="agent", metric="qa", from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    assert [(p.value, p.score, p.contacts) for p in qa] == [("cy", 20.0, 1), ("bob", 47.5, 2), ("ana", 83.5, 2)]
    by_queue = lowest_performers(ENTRIES, dimension="queue", metric="qa", from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    assert [(p.value, p.score) for p in by_queue] == [("support", 37.5), ("sales", 69.0)]
    fcr = lowest_performers(ENTRIES, dimension="agent", metric="fcr", from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    # ana: c1 followed, c3 not -> 0.5; bob: c2 not -> 1.0; cy: c6 followed -> 0.0 (c5 has no agent)
    assert [(p.value, p.score, p.contacts) for p in fcr] == [("cy", 0.0, 1), ("ana", 0.5, 2), ("bob", 1.0, 1)]


# --- planning -----------------------------------------------------------------------------------------
NY = ZoneInfo("America/New_York")
DAY = date(2026, 11, 20)


def _at(hour: int, minute: int, second: int = 0) -> int:
    return int(datetime(2026, 11, 20, hour, minute, second, tzinfo=NY).timestamp() * 1000)


def test_day_series_counts_arrivals_by_local_quarter_with_their_own_handle_time():
    records = [
        _record("a", _at(9, 0, 5), channel=Channel.VOICE),  # handled: 150 s, waited 10 s
        _record("b", _at(9, 14, 59), channel=Channel.VOICE),
        _record("c", _at(9, 15), channel=Channel.VOICE, answered=False),  # abandoned after 130 s
        _record("d", _at(9, 1), channel=Channel.CHAT),
        _record("e", _at(23, 59) + 2 * MIN, channel=Channel.VOICE),  # enqueued the next day: not this day's
    ]
    series = day_series(records, day=DAY, tz=NY)
    voice = series["sales|VOICE"]
    nine, nine_fifteen = str(_at(9, 0)), str(_at(9, 15))
    assert voice[nine][OFFERED] == 2 and voice[nine][HANDLED] == 2 and voice[nine][HANDLE_MS] == 300_000
    assert voice[nine][WAIT_MS] == 20_000
    assert voice[nine_fifteen][OFFERED] == 1 and voice[nine_fifteen][ABANDONED] == 1 and voice[nine_fifteen][WAIT_MS] == 130_000
    assert set(voice) == {nine, nine_fifteen} and series["sales|CHAT"][nine][OFFERED] == 1


def test_a_cancelled_consult_leg_is_no_arrival_for_the_forecast():
    leg = _record("leg", _at(9, 2), channel=Channel.VOICE).model_copy(
        update={"consult_leg": True, "initiation_method": "TRANSFER"})
    series = day_series([_record("a", _at(9, 0, 5), channel=Channel.VOICE), leg], day=DAY, tz=NY)
    assert series["sales|VOICE"][str(_at(9, 0))][OFFERED] == 1


def test_history_points_cover_every_interval_and_sum_channels():
    series = day_series([_record("a", _at(9, 0, 5), channel=Channel.VOICE), _record("d", _at(9, 1))], day=DAY, tz=NY)
    points = history_points({DAY: series}, queue_id="sales", channel=None, tz=NY)
    assert len(points) == 96
    busy = [p for p in points if p.offered]
    assert [(p.interval_start.hour, p.interval_start.minute, p.offered, p.aht_seconds) for p in busy] == [(9, 0, 2, 150.0)]
    voice_only = history_points({DAY: series}, queue_id="sales", channel="VOICE", tz=NY)
    assert sum(p.offered for p in voice_only) == 1
    assert sum(p.offered for p in history_points({DAY: series}, queue_id="other", channel=None, tz=NY)) == 0


def test_patience_is_total_wait_over_abandons():
    records = [_record("a", _at(9, 0)), _record("b", _at(9, 5), answered=False), _record("c", _at(10, 0), answered=False)]
    series = day_series(records, day=DAY, tz=NY)
    # waits: 10 s (answered) + 130 s + 130 s over 2 abandons
    assert patience_estimate({DAY: series}, queue_id="sales", channel=None) == pytest.approx(135.0)
    assert patience_estimate({DAY: day_series(records[:1], day=DAY, tz=NY)}, queue_id="sales", channel=None) is None
    # at most a day: history kept before intake checked contact records' times may hold a years-long abandon
    endless = [_record("e", _at(9, 0), answered=False, disconnected_at=_at(9, 0) + 30 * 86_400_000)]
    assert patience_estimate({DAY: day_series(endless, day=DAY, tz=NY)}, queue_id="sales", channel=None) == MAX_PATIENCE_S


def test_an_evaluation_with_nothing_answered_is_left_out_of_qa_rankings_and_qa_below():
    unscored = HistoryEntry(tenant_id="acme", contact_id="c7", record=_record("c7", T0 + 5 * MIN, agent="dee"),
                            analysis=AnalysisSummary(qa_score=100.0, answered=0))
    failed = AnalysisSummary(qa_score=0.0, auto_failed=True, answered=0)  # not a real case, but never a score
    unscored_low = HistoryEntry(tenant_id="acme", contact_id="c8", record=_record("c8", T0 + 6 * MIN, agent="ana"),
                                analysis=failed)
    entries = [*ENTRIES, unscored, unscored_low]
    qa = lowest_performers(entries, dimension="agent", metric="qa", from_ms=T0, to_ms=T0 + 60 * MIN, settings=SETTINGS)
    assert [(p.value, p.score, p.contacts) for p in qa] == [("cy", 20.0, 1), ("bob", 47.5, 2), ("ana", 83.5, 2)]
    found = search_entries(entries, ContactSearch(from_ms=T0, to_ms=T0 + 60 * MIN, qa_below=60))
    assert [e.contact_id for e in found] == ["c6", "c4", "c2"]
