"""Forecast defects from an outside test of `make run` (round 38): AHT weighted by handled contacts, late records
reaching cached days, the plot's per-channel actuals and subtitle, the schedule covering Erlang A's cap, and a
channel's warning naming the channel. Domain and use-cases on the in-memory twins; the AWS adapter's side of the
cache in tests/contract/test_history_series_cache_38.py."""
from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain import forecast as fc
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.models import Queue
from ccaas.domain.planning import HANDLE_MS, HANDLED, OFFERED, history_points, series_key
from ccaas.domain.staffing import required_agents, scheduled_agents
from ccaas.domain.tenants import Tenant
from ccaas.usecases import admin, forecasting, history
from local import plot_forecast

UTC_ZONE = ZoneInfo("UTC")
TENANT = "acme"
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
# Monday 2026-11-02 .. Sunday 2026-11-15 of history; "now" is Tuesday 2026-11-17 12:00 UTC.
FIRST = date(2026, 11, 2)
NOW = int(datetime(2026, 11, 17, 12, tzinfo=UTC).timestamp() * 1000)


def _ms(day: date, hour: int, seconds: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000) + seconds * 1000


def _contact(day: date, n: int, *, handle_s: int | None, queue: str = "sales", channel: Channel = Channel.VOICE,
             hour: int = 10) -> ContactRecord:
    """The n-th contact enqueued in the day's `hour`:00 interval: handled in handle_s, or abandoned (None)."""
    enqueued = _ms(day, hour, 20 * n)
    common = dict(tenant_id=TENANT, contact_id=f"{day}-{queue}-{channel.value}-{n}-{uuid.uuid4().hex[:6]}",
                  channel=channel, queue_id=queue, initiated_at=enqueued, enqueued_at=enqueued)
    if handle_s is None:
        return ContactRecord(**common, disconnected_at=enqueued + 60_000, final_state=FinalState.ABANDONED,
                             last_updated_at=enqueued + 60_000)
    connected = enqueued + 10_000
    end = connected + handle_s * 1000
    return ContactRecord(**common, connected_at=connected, disconnected_at=end, acw_ended_at=end,
                         final_state=FinalState.COMPLETED, last_updated_at=end)


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = NOW
    d.config.put_tenant(Tenant(tenant_id=TENANT, name="Acme", time_zone="UTC"))
    d.config.put_queue(Queue(tenant_id=TENANT, queue_id="sales", name="Sales", sl_threshold_s=20))
    return d


def _plan(deps, day: date, **query):
    weeks = query.pop("weeks", 2)
    return forecasting.staffing_forecast(
        deps, TENANT, forecasting.ForecastQuery(queue_id="sales", day=day, weeks=weeks, **query))


# --- 1. AHT: total handle time ÷ handled contacts ---------------------------------------------------------------
def test_the_fitted_aht_is_total_handle_time_over_handled_contacts_not_offered():
    monday, tuesday = datetime(2026, 11, 2, 10), datetime(2026, 11, 3, 10)
    history = [
        fc.HistoryPoint(monday, 10, 600.0, 1),  # 1 handled in 600 s, 9 abandoned
        fc.HistoryPoint(tuesday, 10, 100.0, 10),  # 10 handled in 100 s each
        fc.HistoryPoint(datetime(2026, 11, 3, 23, 45), 0),
    ]
    model = fc.fit_forecaster(history, weeks=1)
    slot = fc.slot_of(monday)
    assert model.aht_by_slot[slot] == pytest.approx(1600 / 11)  # was (10·600 + 10·100) / 20 = 350
    assert model.aht_overall == pytest.approx(1600 / 11)
    wednesday = model.forecast(date(2026, 11, 4))[slot]  # no Wednesday of its own: the slot's AHT on any day
    assert wednesday.aht_seconds == pytest.approx(1600 / 11)
    # Without a handled count a point's AHT counts for all it offered (synthetic history: nobody abandons).
    assert fc.fit_forecaster([(monday, 4, 300.0), (tuesday, 1, 100.0)], weeks=1).aht_overall == pytest.approx(260.0)


def test_history_points_carry_the_handled_count_of_each_interval():
    quarter = str(_ms(FIRST, 10))
    cell = [0] * 5
    cell[OFFERED], cell[HANDLED], cell[HANDLE_MS] = 10, 1, 600_000
    points = history_points({FIRST: {series_key("sales", "VOICE"): {quarter: cell}}}, queue_id="sales", channel=None,
                            tz=UTC_ZONE)
    busy = [p for p in points if p.offered]
    assert busy == [fc.HistoryPoint(datetime(2026, 11, 2, 10, tzinfo=UTC_ZONE), 10, 600.0, 1)]


def test_the_staffing_forecast_uses_the_kpis_aht_and_staffs_by_it(deps):
    """The tester's queue: day A 1 handled in 600 s + 9 abandoned, day B 10 handled in 100 s. The KPI API's AHT is
    1600 / 11 = 145.5 s; the forecast said 350 s and asked for agents by it."""
    day_a, day_b = date(2026, 11, 11), date(2026, 11, 12)  # the last week: the same weight in the fit
    records = [_contact(day_a, 0, handle_s=600), *(_contact(day_a, n, handle_s=None) for n in range(1, 10)),
               *(_contact(day_b, n, handle_s=100) for n in range(10))]
    for record in records:
        deps.history.put_record(record)
    kpis = history.historical_metrics(deps, TENANT, start=datetime(2026, 11, 11), end=datetime(2026, 11, 13),
                                      interval="day")
    assert sum(r.handled for r in kpis.rows) == 11
    kpi_aht = sum(r.handle_ms for r in kpis.rows) / 1000 / 11
    assert kpi_aht == pytest.approx(1600 / 11)
    plan = _plan(deps, date(2026, 11, 20))  # a Friday: the 10:00 slot's AHT over both days
    ten = plan.intervals[40]
    assert ten.aht_s == pytest.approx(kpi_aht, abs=0.001)
    assert ten.required_erlang_c == required_agents(aht_seconds=ten.aht_s, sl_target=0.8, threshold_seconds=20,
                                                    arrival_rate=ten.forecast_offered / 900)


# --- 2. a record written for a cached day drops it ------------------------------------------------------------
def _seed_two_weeks(deps) -> list[ContactRecord]:
    records = [_contact(FIRST + timedelta(days=d), n, handle_s=240) for d in range(14) for n in range(6)]
    for record in records:
        deps.history.put_record(record)
    return records


def _offered_on(deps, day: date) -> int:
    series = forecasting._history_days(deps, TENANT, UTC_ZONE, day, day)[day]  # noqa: SLF001 - the days read
    return sum(cell[OFFERED] for cells in series.values() for cell in cells.values())


def _fresh_plan(records, day: date):
    """The forecast of a backend that never cached anything, from the same records."""
    fresh = memory_dependencies()
    fresh.clock.now = NOW
    fresh.config.put_tenant(Tenant(tenant_id=TENANT, name="Acme", time_zone="UTC"))
    fresh.config.put_queue(Queue(tenant_id=TENANT, queue_id="sales", name="Sales", sl_threshold_s=20))
    for record in records:
        fresh.history.put_record(record)
    return _plan(fresh, day)


def test_a_late_record_for_a_cached_day_reaches_the_forecast(deps):
    records = _seed_two_weeks(deps)
    late_day = date(2026, 11, 9)  # a Monday, cached by the first forecast (it ended > 2 days ago)
    target = date(2026, 11, 23)  # the next Monday but one: Mondays' 10:00 carry the late contacts
    before = _plan(deps, target)
    assert deps.history.get_series(TENANT, late_day.isoformat()) is not None
    late = [_contact(late_day, n, handle_s=240, hour=11) for n in range(8)]  # a replay of the stream, a week on
    for record in late:
        assert history.store_record(deps, record)
    assert deps.history.get_series(TENANT, late_day.isoformat()) is None  # dropped, the neighbours kept
    assert deps.history.get_series(TENANT, (late_day - timedelta(days=1)).isoformat()) is not None
    deps.clock.advance(10 * 60)  # past the re-cache guard: this read caches the day again, with them
    after = _plan(deps, target)
    assert _offered_on(deps, late_day) == 6 + 8
    assert deps.history.get_series(TENANT, late_day.isoformat())["version"] == forecasting.SERIES_CACHE_VERSION
    eleven = after.intervals[44]
    assert before.intervals[44].forecast_offered == 0 and eleven.forecast_offered > 0
    assert after == _fresh_plan(records + late, target)  # as if nothing had been cached


def test_a_late_connect_ctr_drops_its_cached_day(deps):
    """The CTR consumer's path (ingest_ctr): Connect records may be replayed from the stream for 7 days."""
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=INSTANCE)
    _seed_two_weeks(deps)
    late_day = date(2026, 11, 10)
    _plan(deps, date(2026, 11, 18))
    assert deps.history.get_series(TENANT, late_day.isoformat()) is not None
    enqueued = datetime(2026, 11, 10, 9, 0, 5, tzinfo=UTC)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    ctr = {"AWSAccountId": "111122223333", "InstanceARN": INSTANCE, "ContactId": str(uuid.uuid4()), "Channel": "VOICE",
           "InitiationMethod": "INBOUND", "InitiationTimestamp": iso(enqueued - timedelta(seconds=5)),
           "Queue": {"Name": "Sales", "EnqueueTimestamp": iso(enqueued),
                     "DequeueTimestamp": iso(enqueued + timedelta(seconds=60)), "Duration": 60},
           "DisconnectTimestamp": iso(enqueued + timedelta(seconds=60)), "DisconnectReason": "CUSTOMER_DISCONNECT",
           "LastUpdateTimestamp": iso(enqueued + timedelta(seconds=60))}
    assert history.ingest_ctr(deps, json.dumps(ctr).encode()).stored
    assert deps.history.get_series(TENANT, late_day.isoformat()) is None
    assert _offered_on(deps, late_day) == 6 + 1


def test_a_redelivered_record_drops_again_and_recent_records_touch_no_cache(deps):
    _seed_two_weeks(deps)
    _plan(deps, date(2026, 11, 18))
    late = _contact(date(2026, 11, 12), 50, handle_s=240)
    assert history.store_record(deps, late)
    deps.clock.advance(10 * 60)
    _plan(deps, date(2026, 11, 18))  # cached again, with it
    # A retry after a drop that failed: the record is held already, the day is dropped all the same.
    assert history.store_record(deps, late) is False
    assert deps.history.get_series(TENANT, "2026-11-12") is None
    # Yesterday's and today's records: their days are never cached, nothing is dropped (nor the tenant read).
    cached = dict(deps.history._t.series)  # noqa: SLF001 - the twin's cache, whole
    deps.config.get_tenant = None  # a read would fail: the common case reads nothing
    for day in (date(2026, 11, 16), date(2026, 11, 17)):
        history.store_record(deps, _contact(day, 0, handle_s=240, hour=1))
    assert dict(deps.history._t.series) == cached  # noqa: SLF001


def test_a_day_dropped_while_it_was_computed_is_not_cached_without_the_record(deps):
    """A record written between a read of the day's records and the caching of its series (the by_day index may
    also lag the write): the series lacks it, so it is used for this answer but not cached."""
    _seed_two_weeks(deps)
    day = date(2026, 11, 11)
    deps.history.drop_series(TENANT, day.isoformat(), NOW - 60_000)  # a record of the day, a minute ago
    _plan(deps, date(2026, 11, 18))
    assert deps.history.get_series(TENANT, day.isoformat()) is None
    assert deps.history.get_series(TENANT, (day - timedelta(days=1)).isoformat()) is not None
    deps.clock.advance(forecasting.RECACHE_AFTER_DROP_MS / 1000)
    _plan(deps, date(2026, 11, 18))
    assert deps.history.get_series(TENANT, day.isoformat()) is not None


def test_a_day_cached_in_an_older_layout_is_computed_again(deps):
    """Days cached before late records dropped them may lack some: they carry no version and are read again."""
    _seed_two_weeks(deps)
    day = date(2026, 11, 9)
    deps.history.put_series(TENANT, day.isoformat(), {"time_zone": "UTC", "series": {}})  # the old layout, stale
    assert _offered_on(deps, day) == 6
    assert deps.history.get_series(TENANT, day.isoformat())["version"] == forecasting.SERIES_CACHE_VERSION


# --- 5. the schedule covers the larger requirement --------------------------------------------------------------
def test_scheduled_agents_cover_erlang_a_where_its_abandonment_cap_needs_more():
    intervals = [fc.ForecastInterval(datetime(2026, 12, 7, 8) + timedelta(minutes=15 * i), offered, 240.0)
                 for i, offered in enumerate((2.0, 5.0, 9.0, 14.0, 30.0, 60.0))]
    plan = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=30, max_abandon=0.01, shrinkage=0.0)
    assert any(p.required_erlang_a > p.required_erlang_c for p in plan)  # the cap binds in these intervals
    for p in plan:
        assert p.scheduled == max(p.required_erlang_c, p.required_erlang_a)
        assert p.erlang_a.p_abandon <= 0.01
    shrunk = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=30, max_abandon=0.01, shrinkage=0.3)
    assert [p.scheduled for p in shrunk] == [scheduled_agents(max(p.required_erlang_c, p.required_erlang_a), 0.3)
                                             for p in shrunk]
    # Either model alone, when asked for; without a patience Erlang C's is all there is.
    only_c = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=30, max_abandon=0.01, scheduled_from="erlang_c")
    assert [p.scheduled for p in only_c] == [p.required_erlang_c for p in only_c]
    no_patience = fc.staffing_plan(intervals, 0.8, 20, patience_seconds=None)
    assert [p.scheduled for p in no_patience] == [p.required_erlang_c for p in no_patience]


def test_the_staffing_api_schedules_at_least_erlang_as_requirement(deps):
    # Some abandon after 30 s: a patience estimate, and a cap of 0.5 % of callers that binds Erlang A.
    for d in range(14):
        for n in range(12):
            record = _contact(FIRST + timedelta(days=d), n, handle_s=None if n % 4 == 3 else 240)
            deps.history.put_record(record.model_copy(update={"disconnected_at": record.enqueued_at + 30_000})
                                    if record.connected_at is None else record)
    capped = forecasting.staffing_forecast(deps, TENANT, forecasting.ForecastQuery(
        queue_id="sales", day=date(2026, 11, 18), weeks=2), max_abandon=0.005)
    assert capped.patience_s is not None
    assert any(i.required_erlang_a > i.required_erlang_c for i in capped.intervals)
    assert all(i.scheduled >= max(i.required_erlang_c, i.required_erlang_a) for i in capped.intervals)


# --- 6. a channel's warning names the channel -------------------------------------------------------------------
def test_a_channel_with_no_contacts_says_which_channel(deps):
    _seed_two_weeks(deps)  # voice only
    plan = _plan(deps, date(2026, 11, 18), channel=Channel.CHAT)
    assert plan.warnings == ["no contacts in queue sales on channel CHAT from 2026-11-03 to 2026-11-16: "
                             "the forecast is all zeros"]
    assert _plan(deps, date(2026, 11, 18)).warnings == []  # the queue itself is busy
    short = _plan(deps, date(2026, 11, 18), channel=Channel.VOICE, weeks=4)
    assert short.warnings == ["forecast needs at least 4 weeks of history (28 days); found 15 days on channel VOICE "
                              "(2026-11-02 .. 2026-11-16)"]


# --- 3 and 4. the plot from the API: one channel's actuals, a subtitle inside the image ------------------------
class _FakeApi:
    """GET /forecast/staffing and /metrics/historical as the backend answers them; the queries asked."""

    def __init__(self, channel: str | None):
        self.queries: dict[str, dict[str, str]] = {}
        tz = ZoneInfo("America/New_York")
        starts = fc.day_intervals(date(2026, 11, 26), tz)
        self.staffing = {
            "queue_id": "support", "channel": channel, "date": "2026-11-26", "time_zone": "America/New_York",
            "method": forecasting.METHOD + " " + "x" * 200, "history_from": "2026-10-15", "history_to": "2026-11-25",
            "trend_per_week": 1.01, "sl_target": 0.8, "sl_threshold_s": 20, "patience_s": 90.0, "max_abandon": 0.05,
            "shrinkage": 0.3, "warnings": [],
            "intervals": [{"interval_start": s.isoformat(), "forecast_offered": 0.5 if 32 <= i < 80 else 0.0,
                           "aht_s": 300.0, "required_erlang_c": 1, "required_erlang_a": 1, "scheduled": 2}
                          for i, s in enumerate(starts)],
        }
        # 10:00 has contacts on three channels of the queue, and some of another queue
        ten = starts[40].isoformat()
        self.rows = [{"interval_start": ten, "queue": "support", "channel": c, "offered": n}
                     for c, n in (("CHAT", 69), ("SMS", 19), ("VOICE", 89))]
        self.rows.append({"interval_start": ten, "queue": "sales", "channel": "SMS", "offered": 500})

    def urlopen(self, request, timeout=None):
        url = urllib.parse.urlsplit(request.full_url)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.queries[url.path.rsplit("/v1", 1)[-1]] = query
        if url.path.endswith("/forecast/staffing"):
            return io.BytesIO(json.dumps(self.staffing).encode())
        by = query["group_by"].split(",")
        rows: dict[tuple, dict] = {}
        for row in self.rows:  # the roll-up's grouping: by queue alone, the channels are summed
            key = (row["interval_start"], *(row[d] for d in by))
            held = rows.setdefault(key, {**{d: row[d] for d in by}, "interval_start": key[0], "offered": 0})
            held["offered"] += row["offered"]
        return io.BytesIO(json.dumps({"rows": list(rows.values()), "warnings": []}).encode())


@pytest.fixture
def drawn(monkeypatch):
    """The figures render() drew, kept open to measure."""
    import matplotlib.pyplot as plt

    close, figures = plt.close, []
    monkeypatch.setattr(plt, "close", figures.append)
    yield figures
    for figure in figures:
        close(figure)


def _plot(monkeypatch, tmp_path, channel: str | None) -> tuple[_FakeApi, list]:
    api = _FakeApi(channel)
    monkeypatch.setattr(urllib.request, "urlopen", api.urlopen)
    actuals = []
    original = plot_forecast.render

    def render(path, **kwargs):
        actuals.append(kwargs["actual"])
        original(path, **kwargs)

    monkeypatch.setattr(plot_forecast, "render", render)
    argv = ["--api", "http://backend.test/v1", "--key", "ck_x", "--queue", "support", "--day", "2026-11-26",
            "--out", str(tmp_path / "plot.png")]
    assert plot_forecast.main(argv + (["--channel", channel] if channel else [])) == 0
    return api, actuals


def test_the_api_plot_of_one_channel_draws_that_channels_actuals(monkeypatch, tmp_path, drawn):
    api, actuals = _plot(monkeypatch, tmp_path, "SMS")
    assert api.queries["/forecast/staffing"]["channel"] == "SMS"
    assert api.queries["/metrics/historical"]["group_by"] == "queue,channel"
    assert sum(actuals[0].values()) == 19  # not CHAT 69 + SMS 19 + VOICE 89, nor the sales queue's SMS
    api, actuals = _plot(monkeypatch, tmp_path, None)  # the whole queue: its channels summed
    assert api.queries["/metrics/historical"]["group_by"] == "queue"
    assert sum(actuals[0].values()) == 69 + 19 + 89


def test_the_api_plots_subtitle_stays_inside_the_image(monkeypatch, tmp_path, drawn):
    _plot(monkeypatch, tmp_path, "SMS")
    figure = drawn[-1]
    renderer = figure.canvas.get_renderer()
    title = figure.axes[0].title
    box = title.get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width, (box, title.get_text())
    assert "SMS" in title.get_text().split("\n")[0]  # the title names the channel plotted


def test_a_history_files_handled_counts_weigh_the_aht(tmp_path):
    records = [{"queue_id": "q", "channel": "VOICE", "interval_start": "2026-11-02T10:00:00", "offered": 10,
                "aht_seconds": 600, "handled": 1},
               {"queue_id": "q", "channel": "VOICE", "interval_start": "2026-11-03T10:00:00", "offered": 10,
                "aht_seconds": 100}]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(records))
    points, *_ = plot_forecast.load_history(path, queue="q", channel=None, tenant=None, tz_name=None)
    assert [p.handled for p in points] == [1, None]
    records[0]["handled"] = -1
    path.write_text(json.dumps(records))
    with pytest.raises(plot_forecast.UsageError, match=r"\[0\]\.handled"):
        plot_forecast.load_history(path, queue="q", channel=None, tenant=None, tz_name=None)
