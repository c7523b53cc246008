"""History, analytics and forecasting use-cases in process on the in-memory twins: a contact served
through the lifecycle use-cases, then the post-contact steps, then the KPI read shows it."""
from __future__ import annotations

import gc
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.history import DAY_MS
from ccaas.domain.kpis import ActivityKind, KpiSettings, MalformedContactRecord
from ccaas.domain.models import Agent, Channel, Conflict, DomainError, NotFound, Queue, QueueAssignment
from ccaas.domain.tenants import Tenant
from ccaas.usecases import admin, agents, analytics, connect_flow, contacts, forecasting, history
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.faults import FailingOnce, Throttled
from tests.history_data import CORPUS, card_leaks, strings_in, synthetic_records

NY = ZoneInfo("America/New_York")
# 2026-11-20 10:03:00 New York (15:03 UTC), a Friday
START = int(datetime(2026, 11, 20, 10, 3, tzinfo=NY).timestamp() * 1000)
CTR_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = START
    d.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="America/New_York"))
    d.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20))
    for agent_id in ("ana", "bob"):
        admin.put_agent(d, Agent(tenant_id="acme", agent_id=agent_id, name=agent_id, queues=(QueueAssignment(queue_id="sales"),)))
    return d


def serve(deps, agent_id: str, *, channel=Channel.CHAT, wait_s=10, talk_s=120, acw_s=30, customer="cust-1",
          reason="billing", messages=()) -> str:
    """One contact through the lifecycle use-cases, then the post-contact steps (as the workflow runs them)."""
    agents.set_agent_status(deps, "acme", agent_id, StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, "acme", NewContact(channel=channel, queue_id="sales", customer_id=customer, reason=reason))
    contacts.queue_and_route(deps, "acme", contact.contact_id, f"tok-{contact.contact_id}")
    deps.clock.advance(wait_s)
    contacts.accept_contact(deps, "acme", agent_id, contact.contact_id)
    for role, text in messages:
        analytics.add_chat_message(deps, "acme", contact.contact_id, analytics.NewMessage(participant_role=role, content=text))
        deps.clock.advance(talk_s / max(1, len(messages)))
    if not messages:
        deps.clock.advance(talk_s)
    contacts.complete_contact(deps, "acme", agent_id, contact.contact_id)
    deps.clock.advance(acw_s)
    contacts.end_after_contact_work(deps, "acme", agent_id, contact.contact_id)
    outcome = history.record_contact(deps, "acme", contact.contact_id)  # PostContact.RecordHistory
    if outcome.has_transcript:
        analytics.analyze_contact(deps, "acme", contact.contact_id)  # PostContact.AnalyzeTranscript
    agents.set_agent_status(deps, "acme", agent_id, StatusChange(status="BREAK"))
    return contact.contact_id


def _day(deps, **kw):
    return history.historical_metrics(deps, "acme", start=datetime(2026, 11, 20), end=datetime(2026, 11, 21), **kw)


def test_served_contacts_show_up_in_the_right_interval_with_the_right_numbers(deps):
    serve(deps, "ana", wait_s=10, talk_s=120, acw_s=30)  # enqueued 10:03:00, done 10:05:40
    deps.clock.now = START + 20 * 60_000  # 10:23
    serve(deps, "bob", wait_s=30, talk_s=200, acw_s=10, customer="cust-2")  # waited longer than the 20 s threshold
    report = _day(deps, interval="15m")
    assert report.time_zone == "America/New_York" and len(report.rows) == 96
    by_start = {r.interval_start: r for r in report.rows}
    first, second = by_start["2026-11-20T10:00:00-05:00"], by_start["2026-11-20T10:15:00-05:00"]
    assert (first.offered, first.answered, first.answered_within_sl, first.handled) == (1, 1, 1, 1)
    assert first.asa_s == 10.0 and first.aht_s == 150.0 and first.avg_acw_s == 30.0 and first.service_level == 1.0
    assert (second.offered, second.answered_within_sl, second.asa_s, second.aht_s) == (1, 0, 30.0, 210.0)
    assert second.service_level == 0.0
    assert sum(r.offered for r in report.rows) == 2
    hourly = _day(deps, interval="hour", group_by=("agent",))
    assert [(r.agent, r.offered, r.aht_s) for r in hourly.rows] == [("ana", 1, 150.0), ("bob", 1, 210.0)]


def test_recording_twice_is_a_no_op_and_open_contacts_are_not_recorded(deps):
    cid = serve(deps, "ana")
    again = history.record_contact(deps, "acme", cid)
    assert not again.recorded and again.state == "COMPLETED"
    waiting = contacts.create_contact(deps, "acme", NewContact(channel=Channel.CHAT, queue_id="sales"))
    assert history.record_contact(deps, "acme", waiting.contact_id).recorded is False
    assert deps.history.get_entry("acme", waiting.contact_id) is None


def test_a_late_survey_lands_in_the_interval_the_contact_completed_in(deps):
    cid = serve(deps, "ana", wait_s=10, talk_s=600, acw_s=0)  # completes 10:13:10: the 10:00 interval
    assert {r.interval_start: r.csat_count for r in _day(deps, interval="15m").rows if r.csat_count} == {}
    deps.clock.now = START + 5 * 3_600_000  # five hours later
    history.record_survey(deps, "acme", cid, history.SurveyAnswers(csat=4, ces=2, nps=10))
    rows = {r.interval_start: r for r in _day(deps, interval="15m").rows}
    late = rows["2026-11-20T10:00:00-05:00"]
    assert (late.csat_count, late.csat, late.ces, late.nps) == (1, 1.0, 2.0, 100.0)
    assert rows["2026-11-20T15:00:00-05:00"].csat_count == 0  # not the interval the survey arrived in
    history.record_survey(deps, "acme", cid, history.SurveyAnswers(csat=1))  # a corrected survey replaces it
    late = {r.interval_start: r for r in _day(deps, interval="15m").rows}["2026-11-20T10:00:00-05:00"]
    assert (late.csat_count, late.csat, late.ces_count, late.nps_count) == (1, 0.0, 0, 0)


def test_surveys_need_a_known_contact_and_an_answer(deps):
    with pytest.raises(NotFound):
        history.record_survey(deps, "acme", "nobody", history.SurveyAnswers(csat=3))
    cid = serve(deps, "ana")
    with pytest.raises(DomainError):
        history.record_survey(deps, "acme", cid, history.SurveyAnswers(comment="only words"))


def test_a_contact_no_agent_answered_has_no_survey(deps):
    """A survey rates a conversation: posted on a contact still waiting, or abandoned, it would join its queue's
    CSAT (every ended contact's survey counts there) and show in its history with no conversation behind it."""
    waiting = contacts.create_contact(deps, "acme", NewContact(channel=Channel.CHAT, queue_id="sales"))
    with pytest.raises(Conflict, match="not answered"):
        history.record_survey(deps, "acme", waiting.contact_id, history.SurveyAnswers(csat=1))
    contacts.abandon_contact(deps, "acme", waiting.contact_id, reason="caller hung up", from_workflow=False)
    history.record_contact(deps, "acme", waiting.contact_id)
    with pytest.raises(Conflict, match="not answered"):  # read from its history record now
        history.record_survey(deps, "acme", waiting.contact_id, history.SurveyAnswers(csat=1))
    assert deps.history.get_survey("acme", waiting.contact_id) is None
    answered = serve(deps, "ana")
    assert history.record_survey(deps, "acme", answered, history.SurveyAnswers(csat=5)).csat == 5


def test_repeat_contacts_within_the_window_set_fcr(deps):
    first = serve(deps, "ana", customer="cust-7", reason="billing")
    deps.clock.advance(3 * DAY_MS / 1000)
    second = serve(deps, "ana", customer="cust-7", reason="billing")  # routing prefers the customer's last agent
    deps.clock.advance(1 * DAY_MS / 1000)
    serve(deps, "ana", customer="cust-7", reason="delivery")  # another reason: not a repeat
    assert deps.history.get_entry("acme", first).followed_by_repeat is True
    assert deps.history.get_entry("acme", second).is_repeat is True
    report = history.historical_metrics(deps, "acme", start=datetime(2026, 11, 20), end=datetime(2026, 11, 25),
                                        interval="week", group_by=("reason",))
    billing = [r for r in report.rows if r.reason == "billing"]  # Fri 20th and Mon 23rd: two ISO weeks
    assert [(r.interval_start[:10], r.fcr_contacts, r.fcr_repeat_drivers, r.fcr, r.repeat_contacts) for r in billing] == [
        ("2026-11-16", 1, 1, 0.0, 0), ("2026-11-23", 1, 0, 1.0, 1)
    ]


def test_chat_transcripts_are_redacted_before_storage_and_analysed(deps):
    cid = serve(deps, "ana", messages=[("CUSTOMER", text) for text in CORPUS[:4]] + [("AGENT", "I will refund it")])
    stored = [m.content for m in deps.transcripts.messages("acme", cid)]
    assert len(stored) == 5 and "[CARD]" in stored[0]
    analysis = deps.transcripts.get_analysis("acme", cid)
    assert analysis is not None and analysis["channel"] == "CHAT"
    everything = [*stored, *strings_in(analysis), *strings_in(deps.history.get_entry("acme", cid).model_dump(mode="json"))]
    assert not [s for s in everything if card_leaks(s)]
    entry = deps.history.get_entry("acme", cid)
    assert entry.analysis.segments == 5 and 0 <= entry.analysis.qa_score <= 100


def test_uploaded_transcripts_in_every_format_are_analysed(deps):
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"
    cid = serve(deps, "ana", channel=Channel.VOICE)
    for name in sorted(p.name for p in fixtures.glob("*.json")):
        summary = analytics.upload_transcript(deps, "acme", cid, json.loads((fixtures / name).read_text()))
        assert summary.segments > 0, name
    with pytest.raises(DomainError) as error:
        analytics.upload_transcript(deps, "acme", cid, {"not": "a transcript"})
    assert error.value.field == "body"
    with pytest.raises(NotFound):
        analytics.upload_transcript(deps, "acme", "nobody", [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1, "text": "hi"}])


def test_chat_messages_only_for_chat_contacts(deps):
    cid = serve(deps, "ana", channel=Channel.VOICE)
    with pytest.raises(DomainError):
        analytics.add_chat_message(deps, "acme", cid, analytics.NewMessage(participant_role="CUSTOMER", content="hi"))


# --- Amazon Connect CTRs --------------------------------------------------------------------------------
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/5a1c2d3e-7f80-4a9b-8c0d-1e2f3a4b5c6d"


def test_ctrs_are_deduplicated_latest_wins_whatever_the_order(deps):
    admin.register_connect_instance(deps, tenant_id="acme", instance_arn=INSTANCE)
    batch = json.loads((CTR_DIR / "stream_at_least_once.json").read_text())
    outcomes = [history.ingest_ctr(deps, json.dumps(ctr).encode()) for ctr in batch]
    latest = max(batch, key=lambda c: c["LastUpdateTimestamp"])
    entry = deps.history.get_entry("acme", latest["ContactId"])
    assert entry.record.last_updated_at == history.parse_ctr(latest).LastUpdateTimestamp
    stored = [o.stored for o in outcomes]
    assert stored.count(True) >= 1 and stored.count(False) >= 2  # duplicates and stale versions wrote nothing
    for ctr in reversed(batch):  # a redelivery in any order changes nothing
        assert history.ingest_ctr(deps, json.dumps(ctr).encode()).stored is False
    assert deps.history.get_entry("acme", latest["ContactId"]) == entry


def test_ctrs_of_unknown_instances_or_malformed_are_rejected_with_a_reason(deps):
    answered = json.loads((CTR_DIR / "inbound_voice_answered.json").read_text())
    with pytest.raises(history.UnknownConnectInstance) as unknown:
        history.ingest_ctr(deps, json.dumps(answered).encode())
    assert unknown.value.contact_id == answered["ContactId"]
    admin.register_connect_instance(deps, tenant_id="acme", instance_arn=INSTANCE)  # the retried record now maps
    assert history.ingest_ctr(deps, json.dumps(answered).encode()).stored
    for bad, reason in ((b"{not json", "not JSON"), (b'{"Channel": "VOICE"}', "missing ContactId"),
                        (json.dumps({**answered, "Channel": "CARRIER_PIGEON"}).encode(), "unsupported Channel")):
        with pytest.raises(MalformedContactRecord) as error:
            history.ingest_ctr(deps, bad)
        assert reason in error.value.reason


def test_a_card_number_in_a_connect_records_attributes_is_never_stored(deps):
    """A flow that stores what the caller typed (reason, segment, customer id) hands it over in the contact
    record's attributes: the same detectors as POST /contacts' run before history (and the lake) hold it."""
    admin.register_connect_instance(deps, tenant_id="acme", instance_arn=INSTANCE)
    answered = json.loads((CTR_DIR / "inbound_voice_answered.json").read_text())
    answered["Attributes"] = {"reason": "card 4111 1111 1111 1111 declined", "segment": "5500005555555559",
                              "customer_id": "6011111111111117", "skill": "billing"}
    history.ingest_ctr(deps, json.dumps(answered).encode())
    record = deps.history.get_entry("acme", answered["ContactId"]).record
    stored = json.dumps(record.model_dump())
    assert not card_leaks(stored) and "4111" not in stored and "5559" not in stored and "1117" not in stored
    assert "[CARD]" in record.reason and record.skill == "billing"


def test_a_stores_instance_mapping_and_settings_never_answer_for_another_store():
    """Order dependence found in a full run: tenant_of_instance and tenant_context cached their answers
    by id(deps.config), and a later test's fresh store that got the id of a collected one was served the
    earlier store's registration (no UnknownConnectInstance) or KPI settings. Ids are reused at once."""
    for _ in range(20):
        registered = memory_dependencies()
        registered.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="Asia/Tokyo"))
        admin.register_connect_instance(registered, tenant_id="acme", instance_arn=INSTANCE)
        history.put_kpi_settings(registered, "acme", KpiSettings(fcr_window_days=3))
        assert history.tenant_of_instance(registered, INSTANCE) == "acme"
        assert history.tenant_context(registered, "acme") == ("Asia/Tokyo", KpiSettings(fcr_window_days=3))
        del registered
        gc.collect(1)  # young generations: the deps just made (a full collection costs seconds in a big run)
        fresh = memory_dependencies()
        fresh.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="America/New_York"))
        assert history.tenant_of_instance(fresh, INSTANCE) is None
        assert history.tenant_context(fresh, "acme") == ("America/New_York", KpiSettings())
        del fresh
        gc.collect(1)  # young generations: the deps just made (a full collection costs seconds in a big run)


def test_a_ctrs_queue_is_ours_through_the_tenants_connect_settings_or_its_name(deps):
    answered = json.loads((CTR_DIR / "inbound_voice_answered.json").read_text())  # Queue.Name "Sales"
    admin.register_connect_instance(deps, tenant_id="acme", instance_arn=INSTANCE)
    history.ingest_ctr(deps, json.dumps(answered).encode())
    assert deps.history.get_entry("acme", answered["ContactId"]).record.queue_id == "sales"  # by name, our queue
    connect_flow.put_flow_settings(deps, "acme", connect_flow.FlowSettings(queues={"inbound": answered["Queue"]["ARN"]}))
    newer = {**answered, "LastUpdateTimestamp": "2026-11-20T15:11:00Z"}
    assert history.ingest_ctr(deps, json.dumps(newer).encode()).stored
    assert deps.history.get_entry("acme", answered["ContactId"]).record.queue_id == "inbound"  # the flow's ARN map


def test_register_connect_instance_checks_tenant_and_arn(deps):
    with pytest.raises(NotFound):
        admin.register_connect_instance(deps, tenant_id="ghost", instance_arn=INSTANCE)
    with pytest.raises(DomainError):
        admin.register_connect_instance(deps, tenant_id="acme", instance_arn="arn:aws:s3:::bucket")


# --- KPI settings and ranges ------------------------------------------------------------------------------
def test_tenant_settings_change_the_numbers(deps):
    serve(deps, "ana", wait_s=30)  # answered after the 20 s threshold
    assert _day(deps, interval="day").rows[0].service_level == 0.0
    history.put_kpi_settings(deps, "acme", KpiSettings(default_sl_threshold_s=60, agent_cost_per_staffed_hour=30.0))
    assert history.kpi_settings(deps, "acme").agent_cost_per_staffed_hour == 30.0
    # the record carries its queue's threshold (20 s): the tenant default only fills in a missing one
    assert _day(deps, interval="day").rows[0].service_level == 0.0


def test_intervals_without_contacts_are_the_callers_tenants(deps):
    """An empty range's rows said `tenant_id: null` (the roll-up learns its tenant from what it is fed); rows with
    data and the lake's empty intervals (fill_intervals) name it."""
    empty = _day(deps, interval="day")
    assert empty.rows and {r.tenant_id for r in empty.rows} == {"acme"}
    hourly = history.historical_metrics(deps, "acme", start=datetime(2026, 1, 1), end=datetime(2026, 1, 2), interval="hour")
    assert len(hourly.rows) == 24 and {r.tenant_id for r in hourly.rows} == {"acme"}
    summary = history.historical_summary(deps, "acme", start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))
    assert summary.totals.tenant_id == "acme"
    serve(deps, "ana")
    assert {r.tenant_id for r in _day(deps, interval="day").rows} == {"acme"}


def test_ranges_are_validated(deps):
    with pytest.raises(DomainError) as error:
        history.historical_metrics(deps, "acme", start=datetime(2026, 11, 21), end=datetime(2026, 11, 20))
    assert error.value.field == "to"
    with pytest.raises(DomainError) as error:
        history.historical_metrics(deps, "acme", start=datetime(2026, 1, 1), end=datetime(2026, 11, 20), interval="15m")
    assert error.value.field in ("to", "interval")


def test_day_limits_count_the_tenants_calendar_days_over_a_dst_change(deps):
    """14 local days across the fall-back are 14 days and 1 hour: counted as 24-hour blocks they were a 422."""
    fall_back = dict(start=datetime(2026, 10, 25), end=datetime(2026, 11, 8))
    assert len(history.historical_metrics(deps, "acme", interval="15m", **fall_back).rows) == 14 * 96 + 4
    history.historical_summary(deps, "acme", **fall_back)
    with pytest.raises(DomainError) as error:  # a quarter more is over the limit
        history.historical_metrics(deps, "acme", start=datetime(2026, 10, 25), end=datetime(2026, 11, 8, 0, 15))
    assert error.value.field == "interval"
    with pytest.raises(DomainError) as error:
        history.historical_summary(deps, "acme", start=datetime(2026, 10, 24, 23, 45), end=datetime(2026, 11, 8))
    assert error.value.field == "to"
    spring = history.historical_metrics(deps, "acme", start=datetime(2026, 3, 1), end=datetime(2026, 3, 15))
    assert len(spring.rows) == 14 * 96 - 4


def test_a_from_inside_the_spring_forward_gap_starts_when_the_clocks_jump(deps):
    """02:30 on 2026-03-08 does not exist in New York: it is 03:00 EDT (the jump), not 03:30 (fold=0), which
    left the contacts of 03:00-03:29 out of a report asked from 02:30."""
    jump = int(datetime(2026, 3, 8, 7, 0, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    assert history.epoch_ms(datetime(2026, 3, 8, 2, 30), "America/New_York") == jump
    assert history.epoch_ms(datetime(2026, 3, 8, 2, 0), "America/New_York") == jump
    assert history.epoch_ms(datetime(2026, 3, 8, 3, 0), "America/New_York") == jump
    assert history.epoch_ms(datetime(2026, 3, 8, 1, 59), "America/New_York") == jump - 60_000
    first_130 = int(datetime(2026, 11, 1, 5, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)  # 01:30 EDT
    assert history.epoch_ms(datetime(2026, 11, 1, 1, 30), "America/New_York") == first_130
    assert history.epoch_ms(datetime(2026, 3, 29, 1, 30), "Europe/London") == int(
        datetime(2026, 3, 29, 1, 0, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    report = history.historical_metrics(deps, "acme", start=datetime(2026, 3, 8, 2, 30), end=datetime(2026, 3, 8, 5))
    assert report.rows[0].interval_start == "2026-03-08T03:00:00-04:00"


# --- forecast ---------------------------------------------------------------------------------------------
def test_forecast_from_stored_history_follows_the_synthetic_truth(deps):
    first = date(2026, 10, 19)  # a Monday; four weeks of history up to 2026-11-15
    records, points = synthetic_records("acme", first, 28, tz=NY)
    for record in records:
        deps.history.put_record(record)
    deps.clock.now = int(datetime(2026, 11, 16, 6, 0, tzinfo=NY).timestamp() * 1000)
    plan = forecasting.staffing_forecast(deps, "acme", forecasting.ForecastQuery(queue_id="sales", day=date(2026, 11, 16), weeks=4))
    assert plan.history_from == first and plan.history_to == date(2026, 11, 15)
    assert len(plan.intervals) == 96
    forecast_total = sum(i.forecast_offered for i in plan.intervals)
    mondays = [sum(p.offered for p in points if p.interval_start.date() == first + timedelta(days=7 * k)) for k in range(4)]
    assert min(mondays) * 0.85 <= forecast_total <= max(mondays) * 1.15
    busy = [i for i in plan.intervals if i.forecast_offered > 1]
    assert busy and all(i.required_erlang_c >= 1 and i.erlang_c.service_level >= 0.8 for i in busy)
    weighted_aht = sum(i.aht_s * i.forecast_offered for i in busy) / sum(i.forecast_offered for i in busy)
    assert 216 <= weighted_aht <= 264  # the synthetic AHT is 240 s (± 6 % by time of day, noisy per interval)
    assert plan.patience_s is None and all(i.required_erlang_a is None for i in plan.intervals)  # nobody abandoned
    night = plan.intervals[8]  # 02:00
    assert night.forecast_offered == 0 and night.required_erlang_c == 0
    # the settled days were cached and are not recomputed from records
    assert deps.history.get_series("acme", first.isoformat()) is not None


def test_forecast_after_a_time_zone_change_does_not_read_days_cached_under_the_old_zone(deps):
    """Settled days were cached by date alone: after the tenant's zone was fixed, the forecast kept reading
    days cut at the old zone's midnights (half the volume, the busy hours shifted by the zones' offset)."""
    tokyo = ZoneInfo("Asia/Tokyo")
    records, _ = synthetic_records("acme", date(2026, 6, 1), 14, tz=tokyo)  # the business runs on Tokyo time
    for record in records:
        deps.history.put_record(record)
    deps.clock.now = int(datetime(2026, 6, 14, 12, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    query = forecasting.ForecastQuery(queue_id="sales", day=date(2026, 6, 15), weeks=1)
    forecasting.staffing_forecast(deps, "acme", query)  # caches the settled days cut at New York's midnights
    deps.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="Asia/Tokyo"))
    after_change = forecasting.staffing_forecast(deps, "acme", query)
    fresh = memory_dependencies()
    fresh.clock.now = deps.clock.now
    fresh.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="Asia/Tokyo"))
    fresh.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20))
    for record in records:
        fresh.history.put_record(record)
    expected = forecasting.staffing_forecast(fresh, "acme", query)
    assert after_change.time_zone == "Asia/Tokyo"
    assert [i.forecast_offered for i in after_change.intervals] == [i.forecast_offered for i in expected.intervals]
    assert deps.history.get_series("acme", "2026-06-10")["time_zone"] == "Asia/Tokyo"  # cached again, in Tokyo days


def test_what_if_with_the_required_agents_meets_the_target_and_fewer_do_not(deps):
    records, _ = synthetic_records("acme", date(2026, 10, 19), 28, tz=NY)
    for record in records:
        deps.history.put_record(record)
    deps.clock.now = int(datetime(2026, 11, 16, 6, 0, tzinfo=NY).timestamp() * 1000)
    plan = forecasting.staffing_forecast(deps, "acme", forecasting.ForecastQuery(queue_id="sales", day=date(2026, 11, 16), weeks=4))
    required = [i.required_erlang_c for i in plan.intervals]
    request = forecasting.WhatIfRequest(queue="sales", date=date(2026, 11, 16), agents=required, weeks=4)
    enough = forecasting.staffing_what_if(deps, "acme", request)
    short = forecasting.staffing_what_if(deps, "acme", request.model_copy(update={"agents": [max(0, n - 1) for n in required]}))
    peak = max(range(96), key=lambda i: plan.intervals[i].forecast_offered)
    assert enough.intervals[peak].expected.service_level >= 0.8 > short.intervals[peak].expected.service_level
    assert enough.intervals[peak].expected.occupancy < 1.0
    with pytest.raises(DomainError) as error:
        forecasting.staffing_what_if(deps, "acme", request.model_copy(update={"agents": [1, 2]}))
    assert error.value.field == "agents"
    with pytest.raises(DomainError):
        forecasting.staffing_what_if(deps, "acme", request.model_copy(update={"model": "erlang_a"}))  # no abandons


# --- agent activity -------------------------------------------------------------------------------------
def test_agent_events_become_spans_for_occupancy_utilization_and_cost(deps):
    history.put_kpi_settings(deps, "acme", KpiSettings(agent_cost_per_staffed_hour=36.0))
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="AVAILABLE"))  # 10:03:00, idle
    deps.clock.advance(60)
    contact = contacts.create_contact(deps, "acme", NewContact(channel=Channel.VOICE, queue_id="sales"))
    contacts.queue_and_route(deps, "acme", contact.contact_id, "tok")  # reserved (busy) from 10:04:00
    deps.clock.advance(10)
    contacts.accept_contact(deps, "acme", "ana", contact.contact_id)
    deps.clock.advance(120)
    contacts.complete_contact(deps, "acme", "ana", contact.contact_id)  # ACW from 10:06:10
    deps.clock.advance(30)
    contacts.end_after_contact_work(deps, "acme", "ana", contact.contact_id)  # idle again from 10:06:40
    history.record_contact(deps, "acme", contact.contact_id)
    deps.clock.advance(60)
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="BREAK"))  # not ready from 10:07:40
    deps.clock.advance(120)  # now 10:09:40: the break is still open
    published = list(deps.events.events)
    applied = [history.record_agent_activity(deps, e) for e in published]
    # AVAILABLE, RESERVED, ON_CONTACT, ACW, AVAILABLE, NOT_READY; contact events are skipped
    assert sum(applied) == 6
    assert [o.kind for o in deps.history.open_activities("acme")] == [ActivityKind.NOT_READY]
    assert not any(history.record_agent_activity(deps, e) for e in published)  # a redelivered batch adds nothing

    # an agent event from a day ahead (a broken producer's clock) is refused, not a span opened in the future
    from ccaas.domain.events import Event, MalformedEvent

    ahead = published[-1].model_copy(update={"occurred_at": published[-1].occurred_at + timedelta(days=1),
                                             "sequence": published[-1].sequence + 1, "event_id": "ahead-0001"})
    with pytest.raises(MalformedEvent):
        history.record_agent_activity(deps, Event.model_validate(ahead.model_dump()))
    assert [o.kind for o in deps.history.open_activities("acme")] == [ActivityKind.NOT_READY]

    (row,) = [r for r in _day(deps, interval="day").rows if r.offered]
    # busy 10 s reserved (the offer holds the slot) + 120 s on the contact + 30 s ACW; idle 60 + 60 s;
    # not ready 120 s so far; staffed 400 s
    assert (row.busy_ms, row.idle_ms, row.not_ready_ms, row.staffed_ms) == (160_000, 120_000, 120_000, 400_000)
    assert row.occupancy == pytest.approx(160 / 280) and row.utilization == pytest.approx(160 / 400)
    assert row.cost_per_contact == pytest.approx(36.0 * 400 / 3600)  # one handled contact
    (by_agent,) = [r for r in _day(deps, interval="day", group_by=("agent",)).rows if r.agent == "ana"]
    assert by_agent.utilization == pytest.approx(0.4)
    assert all(r.occupancy is None for r in _day(deps, interval="day", group_by=("queue",)).rows)  # no queue on spans


def test_overrides_that_alone_would_outgrow_the_analysis_item_are_refused_naming_the_comment(deps, monkeypatch):
    """The analysis sheds segment texts, snippets and trailing segments to fit; supervisors' comments are not
    shed. When they alone would take it past the bound, the override is a 413 naming `comment`, nothing written."""
    from ccaas.domain.vocabulary import TooLarge

    cid = serve(deps, "ana", messages=[("CUSTOMER", "hello, my bill is wrong"), ("AGENT", "let me fix that for you")])
    evaluation = analytics.get_evaluation(deps, "acme", cid).evaluation
    questions = [q.id for s in evaluation.form.sections for q in s.questions if q.type == "yes_no"]
    size = len(json.dumps(deps.transcripts.get_analysis("acme", cid), ensure_ascii=False))
    monkeypatch.setattr(analytics, "_MAX_ANALYSIS_BYTES", size + 2_500)  # room for about two long comments
    written = []
    with pytest.raises(TooLarge) as refused:
        for question in questions:
            analytics.override_answer(deps, "acme", cid, question,
                                      analytics.AnswerOverrideRequest(answer="yes", comment="x" * 1000), by="sue")
            written.append(question)
    assert refused.value.field == "comment" and 1 <= len(written) < len(questions)
    stored = deps.transcripts.get_analysis("acme", cid)
    assert set(stored["overrides"]) == set(written)


def test_a_retried_analysis_stores_the_repeat_flags_its_first_run_could_not(deps):
    """AnalyzeTranscript classifies the reason that makes a repeat; when the flags' write is throttled after the
    analysis was stored, the step's retry finds the reason unchanged and must still store the flags."""
    first = serve(deps, "ana", reason="billing")
    deps.clock.advance(3_600)
    deps.history.update_flags = write_flags = FailingOnce(deps.history.update_flags)
    with pytest.raises(Throttled):
        serve(deps, "ana", reason=None, messages=[
            ("CUSTOMER", "I was charged twice on my bill, there is a wrong charge on my invoice"),
            ("AGENT", "I see the double charge, I will refund the payment on your bill")])
    second = max(deps.store.contacts.values(), key=lambda c: c.initiated_at).contact_id
    assert deps.history.get_entry("acme", second).reason == "billing" and write_flags.calls == 1
    analytics.analyze_contact(deps, "acme", second)  # the step's retry
    assert deps.history.get_entry("acme", first).followed_by_repeat is True
    assert deps.history.get_entry("acme", second).is_repeat is True


def test_a_caller_who_chose_a_callback_is_offered_once(deps):
    """The waiting caller's contact and the CALLBACK contact that reached an agent share the wait (the same
    enqueued_at): both were counted offered, one caller two offers, the service level halved (outside review)."""
    contact = contacts.create_contact(deps, "acme", NewContact(channel=Channel.VOICE, queue_id="sales", customer_id="c-9"))
    contacts.queue_and_route(deps, "acme", contact.contact_id, "tok-cb")
    deps.clock.advance(5)
    contacts.request_callback(deps, "acme", contact.contact_id, "+14155550143")
    deps.clock.advance(5)
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="AVAILABLE"))  # reaches the callback
    callback_id = deps.store.get_contact("acme", contact.contact_id).attributes["callback_contact_id"]
    contacts.accept_contact(deps, "acme", "ana", callback_id)
    deps.clock.advance(60)
    contacts.complete_contact(deps, "acme", "ana", callback_id)
    contacts.end_after_contact_work(deps, "acme", "ana", callback_id)
    for cid in (contact.contact_id, callback_id):
        history.record_contact(deps, "acme", cid)
    report = _day(deps, interval="day")
    (row,) = [r for r in report.rows if r.offered]
    assert (row.offered, row.answered, row.service_level) == (1, 1, 1.0)


def _local_day(deps, day: date):
    return history.historical_metrics(deps, "acme", start=datetime.combine(day, datetime.min.time()),
                                      end=datetime.combine(day + timedelta(days=1), datetime.min.time()), interval="day")


def test_an_agent_logged_in_for_days_is_staffed_in_every_day_s_report(deps):
    """Logged in (idle) for 50 h from Friday 10:03: Sunday's report shows the 12 h 03 min until she logged off,
    and the stored span is still found from that third day (the read does not reach back to its start)."""
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="AVAILABLE"))
    deps.clock.advance(50 * 3600)  # Sunday 12:03 New York
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="OFFLINE"))
    for event in list(deps.events.events):
        history.record_agent_activity(deps, event)
    assert [o.kind for o in deps.history.open_activities("acme")] == [ActivityKind.OFFLINE]  # the span is closed
    staffed = {day: _local_day(deps, day).rows[0] for day in (date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22))}
    assert {d: (r.staffed_ms, r.idle_ms) for d, r in staffed.items()} == {
        date(2026, 11, 20): (13 * 3_600_000 + 57 * 60_000,) * 2,  # 10:03 to midnight
        date(2026, 11, 21): (24 * 3_600_000,) * 2,
        date(2026, 11, 22): (12 * 3_600_000 + 3 * 60_000,) * 2,  # midnight to 12:03
    }
    assert history.NO_AGENT_ACTIVITY not in _local_day(deps, date(2026, 11, 22)).warnings


def test_a_contact_open_for_days_is_handled_on_the_day_it_completed(deps):
    """A chat answered Friday 10:03 and completed 48 h later: Sunday's report counts it handled with its
    whole handle time (handling side by completion), Friday's counts it offered and answered."""
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, "acme", NewContact(channel=Channel.CHAT, queue_id="sales"))
    contacts.queue_and_route(deps, "acme", contact.contact_id, "tok-long")
    contacts.accept_contact(deps, "acme", "ana", contact.contact_id)
    deps.clock.advance(48 * 3600)
    contacts.complete_contact(deps, "acme", "ana", contact.contact_id)
    deps.clock.advance(60)
    contacts.end_after_contact_work(deps, "acme", "ana", contact.contact_id)
    history.record_contact(deps, "acme", contact.contact_id)
    (friday,) = _local_day(deps, date(2026, 11, 20)).rows
    (sunday,) = _local_day(deps, date(2026, 11, 22)).rows
    assert (friday.offered, friday.answered, friday.handled) == (1, 1, 0)
    assert (sunday.offered, sunday.handled, sunday.aht_s) == (0, 1, 48 * 3600 + 60.0)
    assert [r.contact_id for r in history.kpi_records(deps, "acme", *_range(deps, date(2026, 11, 22)))] == [contact.contact_id]


def _range(deps, day: date) -> tuple[int, int]:
    return (history.epoch_ms(datetime.combine(day, datetime.min.time()), "America/New_York"),
            history.epoch_ms(datetime.combine(day + timedelta(days=1), datetime.min.time()), "America/New_York"))


def test_an_upload_with_an_infinite_offset_is_a_422_naming_the_field(deps):
    cid = serve(deps, "ana", channel=Channel.VOICE)
    for document, field in (
        ({"segments": [{"speaker": "AGENT", "begin_ms": "inf", "end_ms": 5, "text": "hello"}]}, "segments[0].begin_ms"),
        ({"Transcript": [{"ParticipantId": "AGENT", "BeginOffsetMillis": 0, "EndOffsetMillis": float("inf"),
                          "Content": "hello"}]}, "Transcript[0].EndOffsetMillis"),
    ):
        with pytest.raises(DomainError) as error:  # was an OverflowError: a 500
            analytics.upload_transcript(deps, "acme", cid, document)
        assert error.value.field == field


def test_chat_messages_typed_while_queued_are_analysed(deps):
    agents.set_agent_status(deps, "acme", "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, "acme", NewContact(channel=Channel.CHAT, queue_id="sales", customer_id="cu"))
    cid = contact.contact_id

    def say(role: str, text: str) -> None:
        analytics.add_chat_message(deps, "acme", cid, analytics.NewMessage(participant_role=role, content=text))

    say("CUSTOMER", "This is ridiculous, I want to cancel my subscription")  # while waiting in the queue
    deps.clock.advance(5)
    contacts.queue_and_route(deps, "acme", cid, "tok")
    deps.clock.advance(10)
    contacts.accept_contact(deps, "acme", "ana", cid)
    deps.clock.advance(2)
    say("AGENT", "Hello, thanks for waiting, how can I help?")
    deps.clock.advance(5)
    say("CUSTOMER", "see above")
    contacts.complete_contact(deps, "acme", "ana", cid)
    contacts.end_after_contact_work(deps, "acme", "ana", cid)
    history.record_contact(deps, "acme", cid)
    summary = analytics.analyze_contact(deps, "acme", cid)
    stored = analytics.get_analysis(deps, "acme", cid)
    assert [s["speaker"] for s in stored["segments"]] == ["CUSTOMER", "AGENT", "CUSTOMER"]
    assert stored["segments"][0]["begin_ms"] == 0 and stored["dropped_segments"] == 0
    assert set(summary.categories) == {"cancellation_risk", "complaint"} and summary.reason == "cancellation"


def test_an_evaluation_with_nothing_answered_is_left_out_of_kpis_search_and_rankings(deps):
    manual = {"sections": [{"title": "Manual", "questions": [{"id": "greet", "text": "Greeted properly?"}]}]}
    analytics.put_analytics_rules(deps, "acme", analytics.AnalyticsRules.model_validate({"form": manual}))
    cid = serve(deps, "ana", messages=[("AGENT", "Hello, how can I help?"), ("CUSTOMER", "All good, thanks")])
    entry = deps.history.get_entry("acme", cid)
    assert entry.analysis.qa_score == 100.0 and entry.analysis.answered == 0 and not entry.analysis.scored
    def evaluated() -> list[tuple[int, float | None]]:
        return [(r.evaluated, r.evaluation_score) for r in _day(deps).rows if r.evaluated]

    assert evaluated() == []  # was [(1, 100.0)], from a form nobody answered
    everything = {"start": datetime(2026, 11, 20), "end": datetime(2026, 11, 21)}
    assert analytics.search_contacts(deps, "acme", qa_below=100, **everything) == []
    assert analytics.search_contacts(deps, "acme", **everything)[0].contact_id == cid  # still found otherwise
    assert analytics.lowest_performers_report(deps, "acme", dimension="agent", metric="qa", **everything) == []
    # a supervisor answers: now it is a score, and counts
    analytics.override_answer(deps, "acme", cid, "greet", analytics.AnswerOverrideRequest(answer="no"), by="sup")
    assert deps.history.get_entry("acme", cid).analysis.answered == 1
    assert evaluated() == [(1, 0.0)]
    assert [p.score for p in analytics.lowest_performers_report(deps, "acme", dimension="agent", metric="qa",
                                                                **everything)] == [0.0]


def test_a_range_that_starts_or_ends_inside_an_interval_says_so():
    """An outside probe read from=12:10&to=12:50 by hour as one row labelled 12:00-13:00 holding 20 of the hour's 27
    contacts: the row keeps its label (the tenant's intervals), and the report says it is partial."""
    from ccaas.domain.kpis.intervals import TenantCalendar
    from ccaas.usecases.history import partial_interval_warnings

    calendar = TenantCalendar("America/New_York")
    at = lambda text: int(datetime.fromisoformat(text).timestamp() * 1000)  # noqa: E731
    inside = partial_interval_warnings(calendar, "hour", at("2026-12-01T12:10:00-05:00"), at("2026-12-01T12:50:00-05:00"))
    assert inside == ["the first hour row (from 2026-12-01T12:00:00-05:00) counts only from the range's start, "
                      "2026-12-01T12:10:00-05:00",
                      "the last hour row (from 2026-12-01T12:00:00-05:00) counts only up to the range's end, "
                      "2026-12-01T12:50:00-05:00"]
    assert partial_interval_warnings(calendar, "hour", at("2026-12-01T12:00:00-05:00"), at("2026-12-01T14:00:00-05:00")) == []
    # days across the fall-back change (25 hours) and a week from its Monday
    assert partial_interval_warnings(calendar, "day", at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")) == []
    assert partial_interval_warnings(calendar, "week", at("2026-11-16T00:00:00-05:00"), at("2026-11-23T00:00:00-05:00")) == []
    [week] = partial_interval_warnings(calendar, "week", at("2026-11-20T00:00:00-05:00"), at("2026-11-23T00:00:00-05:00"))
    assert week.startswith("the first week row (from 2026-11-16T00:00:00-05:00)")
