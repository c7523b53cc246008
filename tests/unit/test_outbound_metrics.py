"""Outbound campaign metrics: the pure figures (hand-checked: occupancy and idle between calls included), the
live and historical use-cases on the in-memory twins, and the EMF documents the handlers print."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from ccaas.domain.history import HistoryEntry
from ccaas.domain.kpis.records import ContactRecord
from ccaas.domain.models import Channel, Contact, ContactState, DomainError, InitiationMethod, NotFound
from ccaas.domain.outbound.metrics import (
    AgentTime,
    AttemptFact,
    CampaignCall,
    agent_disposition_metrics,
    agent_time,
    agent_time_by,
    figures,
    is_connect,
    outcome_metrics,
    rolling_counts,
    tick_metrics,
)
from ccaas.domain.outbound.models import Attempt, CampaignMode, Disposition
from ccaas.ports_outbound import AttemptRecord, CarrierOutcome, new_attempt_id
from ccaas.usecases import outbound, outbound_metrics
from ccaas.usecases.outbound import CampaignRequest, ListUpload
from tests.outbound_builders import NOW, T, outbound_deps

UTC = timezone.utc
S = 1000  # ms


# --- pure: agent time ---------------------------------------------------------------------------------

def _call(agent: str, connected_s: int, ended_s: int | None) -> CampaignCall:
    return CampaignCall(agent_id=agent, connected_ms=connected_s * S, work_ended_ms=None if ended_s is None else ended_s * S)


CALLS = [
    _call("ana", 0, 200),       # busy 200
    _call("ana", 230, 400),     # gap 30 s, busy 170
    _call("ana", 1400, 1500),   # gap 1000 s > 15 min: a break, not idle; busy 100
    _call("ben", 100, 250),     # busy 150
    _call("ben", 310, None),    # gap 60 s; still on the call: busy until 400 -> 90
]


def test_occupancy_and_idle_between_calls_by_hand():
    t = agent_time(CALLS, until_ms=400 * S)
    # busy 200 + 170 + 100 + 150 + 90 = 710 s; idle 30 + 60 = 90 s (the 1000 s break counts as neither)
    assert (t.calls, t.agents, t.busy_ms, t.idle_ms, t.gaps) == (5, 2, 710 * S, 90 * S, 2)
    assert t.occupancy == pytest.approx(710 / 800) == 0.8875
    assert t.idle_between_calls_s == 45.0


def test_a_longer_session_break_counts_the_long_gap_as_idle():
    t = agent_time(CALLS, until_ms=400 * S, session_break_ms=1000 * S)
    assert (t.idle_ms, t.gaps) == (1090 * S, 3)
    assert t.occupancy == pytest.approx(710 / 1800)
    assert t.idle_between_calls_s == pytest.approx(1090 / 3)


def test_agent_time_per_bucket_puts_a_gap_in_the_bucket_of_the_call_that_ends_it():
    by = agent_time_by(CALLS, until_ms=400 * S, key=lambda ms: ms // (300 * S))  # 5-minute buckets
    assert sorted(by) == [0, 1, 4]
    assert (by[0].busy_ms, by[0].idle_ms, by[0].calls, by[0].agents) == (520 * S, 30 * S, 3, 2)
    assert by[0].occupancy == pytest.approx(520 / 550)
    assert (by[1].busy_ms, by[1].idle_ms, by[1].occupancy, by[1].idle_between_calls_s) == (90 * S, 60 * S, 0.6, 60.0)
    assert by[4].occupancy == 1.0 and by[4].idle_between_calls_s is None  # one call, no gap


def test_no_calls_no_figures_and_overlaps_count_as_zero_idle():
    assert agent_time([], until_ms=0) == AgentTime()
    assert AgentTime().occupancy is None and AgentTime().idle_between_calls_s is None
    t = agent_time([_call("ana", 0, 100), _call("ana", 90, 150)], until_ms=150 * S)
    assert (t.idle_ms, t.gaps, t.occupancy) == (0, 1, 1.0)


# --- pure: attempt figures, rolling window, EMF counts -------------------------------------------------

def test_figures_by_hand():
    facts = [
        AttemptFact(started_ms=1, disposition=Disposition.RIGHT_PARTY_CONTACT, has_contact=True),
        AttemptFact(started_ms=2, disposition=Disposition.ANSWERED, has_contact=True),
        AttemptFact(started_ms=3, disposition=Disposition.ABANDONED),
        AttemptFact(started_ms=4, disposition=Disposition.NO_ANSWER),
        AttemptFact(started_ms=5),  # in flight
        AttemptFact(started_ms=6, disposition=Disposition.VOICEMAIL, has_contact=True),  # the agent: no person
        AttemptFact(started_ms=7, disposition=Disposition.NO_ANSWER, dial_error=True),
        AttemptFact(started_ms=8, disposition=Disposition.ANSWERED),  # agentless: a person, no agent
    ]
    f = figures(facts)
    assert (f.attempts, f.completed, f.human_answered, f.connects) == (8, 7, 4, 2)
    assert (f.right_party_contacts, f.abandoned, f.opted_out, f.dial_errors) == (1, 1, 0, 1)
    assert f.abandonment_rate == 0.25
    assert f.outcomes == {"abandoned": 1, "answered": 2, "no_answer": 2, "right_party_contact": 1, "voicemail": 1}
    assert figures([]).abandonment_rate is None


def test_a_connect_is_a_person_handed_to_an_agent():
    assert is_connect(Disposition.OPTED_OUT, True) and is_connect(Disposition.WRONG_PARTY, True)
    assert not is_connect(Disposition.ABANDONED, True)  # dropped: no agent
    assert not is_connect(Disposition.ANSWERED, False)  # agentless
    assert not is_connect(Disposition.NO_ANSWER, True)  # a preview record nobody answered
    assert not is_connect(None, True)


def test_rolling_counts_sum_exactly_the_30_days_ending_the_last_day():
    days = {"2025-10-25": {"outcome.abandoned": 100}, "2025-10-26": {"outcome.abandoned": 1, "outcome.answered": 10},
            "2025-11-24": {"outcome.answered": 20, "blocked.consent": 2}, "2025-11-25": {"outcome.answered": 1000}}
    assert rolling_counts(days, date(2025, 11, 24)) == {"outcome.abandoned": 1, "outcome.answered": 30, "blocked.consent": 2}
    assert rolling_counts(days, date(2025, 11, 24), window_days=1) == {"outcome.answered": 20, "blocked.consent": 2}


def test_emf_counts_of_outcomes_ticks_and_agent_dispositions():
    assert outcome_metrics(Disposition.ANSWERED, connected=True) == {"Outcomes": 1, "HumanAnswered": 1, "Connects": 1}
    assert outcome_metrics(Disposition.ANSWERED, connected=False) == {"Outcomes": 1, "HumanAnswered": 1}
    assert outcome_metrics(Disposition.ABANDONED, connected=False) == {"Outcomes": 1, "HumanAnswered": 1, "Abandoned": 1}
    assert outcome_metrics(Disposition.BUSY, connected=False) == {"Outcomes": 1}
    assert tick_metrics(3, {"consent": 2, "calling_hours": 0}, dial_errors=1) == (
        {"Attempts": 3, "DialErrors": 1}, {"consent": 2})
    assert agent_disposition_metrics(Disposition.RIGHT_PARTY_CONTACT) == {"RightPartyContacts": 1}
    assert agent_disposition_metrics(Disposition.WRONG_PARTY) == {}


def test_emit_campaign_counts_prints_one_emf_document_per_campaign_and_per_rule(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "record_dial_outcomes")
    printed = outbound_metrics.emit_campaign_counts("t1", "renewals", {"Attempts": 3, "Connects": 0},
                                                    {"consent": 2, "calling_hours": 1}, namespace="CcaasTest")
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert printed == len(docs) == 3
    main, *rules = docs
    (directive,) = main["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CcaasTest"
    assert sorted(directive["Dimensions"][0]) == ["campaign", "service", "tenant"]
    assert (main["tenant"], main["campaign"], main["Attempts"]) == ("t1", "renewals", [3.0])
    assert "Connects" not in main  # zero counts are left out
    assert {(d["rule"], *d["Blocked"]) for d in rules} == {("calling_hours", 1.0), ("consent", 2.0)}
    assert all(sorted(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["campaign", "rule", "service", "tenant"]
               for d in rules)


# --- use-cases on the in-memory twins ------------------------------------------------------------------

@pytest.fixture
def deps():
    d = outbound_deps(time_zone="America/New_York")
    outbound.create_campaign(d, T, CampaignRequest(campaign_id="c1", name="Renewals", mode="progressive",
                                                   queue_id="sales", caller_id="+12125550199"))
    outbound.change_status(d, T, "c1", "start")
    return d


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _finish_contact(deps, contact_id: str, agent: str, connected: datetime, disconnected: datetime | None,
                    acw_ended: datetime | None) -> None:
    contact = deps.store.get_contact(T, contact_id)
    state = ContactState.COMPLETED if acw_ended else (ContactState.ACW if disconnected else ContactState.CONNECTED)
    deps.store.save(contacts=[contact.model_copy(update={
        "agent_id": agent, "state": state, "connected_at": _ms(connected),
        "disconnected_at": _ms(disconnected) if disconnected else None,
        "acw_ended_at": _ms(acw_ended) if acw_ended else None, "version": contact.version + 1})])


def test_live_metrics_keep_their_fields_and_add_occupancy_and_idle(deps):
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,consent_automated_voice\n"
        "r1,+12125550101,America/New_York,true\nr2,+12125550102,America/New_York,true\n")))
    assert outbound.dial_tick(deps, T, "c1").dialed == 2
    records = outbound.attempts_export(deps, T, "c1")
    done = [outbound.record_outcome(deps, T, "c1", r.attempt.row_id, r.attempt_id,
                                    CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=5)))
            for r in records]
    assert all(d.contact_id for d in done)
    # ana: call 1 connected at +10 s, hung up at +70 s, ACW until +100 s; call 2 connected at +130 s, still on
    _finish_contact(deps, done[0].contact_id, "ana", NOW + timedelta(seconds=10), NOW + timedelta(seconds=70),
                    NOW + timedelta(seconds=100))
    _finish_contact(deps, done[1].contact_id, "ana", NOW + timedelta(seconds=130), None, None)
    deps.clock.now = _ms(NOW + timedelta(seconds=200))
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.attempts, m.human_answered, m.connects, m.abandoned, m.calls_in_flight) == (2, 2, 2, 0, 0)
    assert m.status == "running" and m.mode == "progressive" and m.window_days == 30 and m.abandonment_rate == 0.0
    # busy 90 s + 70 s (open until now), idle 30 s between them
    assert m.agent_calls == 2 and m.occupancy == round(160 / 190, 5) and m.idle_between_calls_s == 30.0
    with pytest.raises(NotFound):
        outbound_metrics.campaign_metrics(deps, T, "nope")


def test_live_agent_time_reads_a_connect_contact_from_history(deps):
    """Amazon Connect's ContactId is not one of our contacts: its contact record in history gives the times."""
    a = _attempt(deps, "r1", NOW - timedelta(minutes=5), Disposition.ANSWERED, contact_id="connect-1")
    deps.history.put_record(ContactRecord(
        tenant_id=T, contact_id="connect-1", channel=Channel.VOICE, initiation_method="OUTBOUND", agent_id="cy",
        connected_at=_ms(a.attempt.started_at) + 8 * S, disconnected_at=_ms(a.attempt.started_at) + 68 * S,
        acw_ended_at=_ms(a.attempt.started_at) + 98 * S, final_state="COMPLETED"))
    assert isinstance(deps.history.get_entry(T, "connect-1"), HistoryEntry)
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert m.agent_calls == 1 and m.occupancy == 1.0 and m.idle_between_calls_s is None


def _attempt(deps, row_id: str, started: datetime, disposition: Disposition | None, *, contact_id: str | None = None,
             dial_error: str | None = None, unique: int = 0) -> AttemptRecord:
    attempt_id = new_attempt_id(started, unique or abs(hash((row_id, started))) % 10**12)
    record = AttemptRecord(
        tenant_id=T, dial_mode=CampaignMode.PROGRESSIVE, campaign_version=2, contact_id=contact_id, dial_error=dial_error,
        attempt=Attempt(attempt_id=attempt_id, campaign_id="c1", row_id=row_id, number="+12125550101",
                        started_at=started, disposition=disposition))
    deps.outbound.attempts[(T, "c1", row_id, attempt_id)] = record
    return record


def _contact(deps, contact_id: str, agent: str, connected: datetime, ended: datetime) -> None:
    deps.store.save(contacts=[Contact(
        tenant_id=T, contact_id=contact_id, channel=Channel.VOICE, queue_id="sales", state=ContactState.COMPLETED,
        initiation_method=InitiationMethod.OUTBOUND, agent_id=agent, initiated_at=_ms(connected) - 5 * S,
        connected_at=_ms(connected), disconnected_at=_ms(ended) - 20 * S, acw_ended_at=_ms(ended))])


def test_historical_figures_per_hour_in_the_tenant_time_zone(deps):
    h10 = datetime(2025, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York
    # 10:00-11:00: two connects of ana (busy 120 + 60 s, 40 s between), an abandon, a no answer
    _attempt(deps, "r1", h10 + timedelta(minutes=1), Disposition.RIGHT_PARTY_CONTACT, contact_id="k1")
    _contact(deps, "k1", "ana", h10 + timedelta(minutes=1, seconds=10), h10 + timedelta(minutes=3, seconds=10))
    _attempt(deps, "r2", h10 + timedelta(minutes=3, seconds=40), Disposition.ANSWERED, contact_id="k2")
    _contact(deps, "k2", "ana", h10 + timedelta(minutes=3, seconds=50), h10 + timedelta(minutes=4, seconds=50))
    _attempt(deps, "r3", h10 + timedelta(minutes=5), Disposition.ABANDONED)
    _attempt(deps, "r4", h10 + timedelta(minutes=6), Disposition.NO_ANSWER, dial_error="RuntimeError")
    # 11:00-12:00: one opted-out connect of ben
    _attempt(deps, "r5", h10 + timedelta(hours=1, minutes=2), Disposition.OPTED_OUT, contact_id="k3")
    _contact(deps, "k3", "ben", h10 + timedelta(hours=1, minutes=2, seconds=5), h10 + timedelta(hours=1, minutes=3))
    deps.outbound.add_counts(T, "c1", "2025-11-24", {"outcome.answered": 9, "outcome.abandoned": 1, "blocked.consent": 4})
    deps.outbound.add_counts(T, "c1", "2025-10-20", {"outcome.answered": 5, "outcome.abandoned": 5})  # > 30 days back

    report = outbound_metrics.campaign_history(deps, T, "c1", start=datetime(2025, 11, 24, 10, 0),  # wall clock
                                               end=datetime(2025, 11, 24, 13, 0), interval="hour")
    assert report.time_zone == "America/New_York" and report.start == "2025-11-24T10:00:00-05:00"
    assert [r.start for r in report.rows] == ["2025-11-24T10:00:00-05:00", "2025-11-24T11:00:00-05:00",
                                             "2025-11-24T12:00:00-05:00"]
    ten, eleven, noon = report.rows
    assert (ten.attempts, ten.human_answered, ten.connects, ten.right_party_contacts, ten.abandoned) == (4, 3, 2, 1, 1)
    assert ten.dial_errors == 1 and ten.abandonment_rate == round(1 / 3, 5)
    assert ten.agent_calls == 2 and ten.occupancy == round(180 / 220, 5) and ten.idle_between_calls_s == 40.0
    assert (eleven.attempts, eleven.connects, eleven.opted_out, eleven.occupancy) == (1, 1, 1, 1.0)
    assert eleven.idle_between_calls_s is None
    assert noon.attempts == 0 and noon.occupancy is None and noon.abandonment_rate is None
    assert {r.abandonment_rate_30d for r in report.rows} == {0.1}  # the day counters: 1 of 10, Oct 20 out of the window
    assert report.blocks_by_day == {"2025-11-24": {"consent": 4}} and report.blocks_by_rule == {"consent": 4}
    assert report.warnings == []


def test_historical_days_default_to_the_last_week(deps):
    _attempt(deps, "r1", NOW - timedelta(days=2), Disposition.BUSY)
    report = outbound_metrics.campaign_history(deps, T, "c1", start=None, end=None, interval="day")
    assert len(report.rows) == 8  # 7 days back from 11:00 local: a part day at each end
    assert sum(r.attempts for r in report.rows) == 1
    (busy,) = [r for r in report.rows if r.attempts]
    assert busy.start == "2025-11-22T00:00:00-05:00" and busy.outcomes == {"busy": 1}


def test_historical_ranges_are_bounded_and_bad_input_names_its_field(deps):
    def error(**kw) -> str:
        with pytest.raises(DomainError) as caught:
            outbound_metrics.campaign_history(deps, T, "c1", **kw)
        return caught.value.field

    assert error(start=NOW, end=NOW - timedelta(hours=1)) == "to"
    assert error(start=NOW - timedelta(days=94), end=NOW) == "to"
    assert error(start=NOW - timedelta(days=8), end=NOW, interval="hour") == "interval"
    # 7 local days over the fall-back (2025-11-02) are 7 days, though 169 hours; a quarter more is not
    fall_back = outbound_metrics.campaign_history(deps, T, "c1", start=datetime(2025, 10, 29), end=datetime(2025, 11, 5),
                                                  interval="hour")
    assert len(fall_back.rows) == 7 * 24 + 1
    assert error(start=datetime(2025, 10, 29), end=datetime(2025, 11, 5, 0, 15), interval="hour") == "interval"
    assert error(start=None, end=None, interval="week") == "interval"
    with pytest.raises(NotFound):
        outbound_metrics.campaign_history(deps, T, "nope", start=None, end=None)


def test_a_range_with_too_many_attempts_is_refused_naming_from(deps, monkeypatch):
    monkeypatch.setattr(outbound_metrics, "MAX_HISTORY_ATTEMPTS", 3)
    monkeypatch.setattr(outbound_metrics, "PAGE", 2)
    for i in range(3):
        _attempt(deps, f"r{i}", NOW - timedelta(hours=1, minutes=i), Disposition.BUSY)
    assert sum(r.attempts for r in outbound_metrics.campaign_history(deps, T, "c1", start=None, end=None,
                                                                      interval="hour").rows) == 3
    _attempt(deps, "r9", NOW - timedelta(minutes=30), Disposition.BUSY)
    with pytest.raises(DomainError) as caught:
        outbound_metrics.campaign_history(deps, T, "c1", start=None, end=None, interval="hour")
    assert caught.value.field == "from"


def test_contact_reads_are_capped_and_the_rest_is_reported(deps, monkeypatch):
    monkeypatch.setattr(outbound_metrics, "MAX_HISTORY_CONTACT_READS", 1)
    h10 = datetime(2025, 11, 24, 15, 0, tzinfo=UTC)
    for i, hour in enumerate((0, 1)):
        _attempt(deps, f"r{i}", h10 + timedelta(hours=hour, minutes=1), Disposition.ANSWERED, contact_id=f"k{i}")
        _contact(deps, f"k{i}", "ana", h10 + timedelta(hours=hour, minutes=1, seconds=5), h10 + timedelta(hours=hour, minutes=2))
    report = outbound_metrics.campaign_history(deps, T, "c1", start=h10, end=h10 + timedelta(hours=2), interval="hour")
    first, second = report.rows
    assert first.occupancy == 1.0 and second.occupancy is None and second.connects == 1
    assert len(report.warnings) == 1 and "11:00:00-05:00" in report.warnings[0]


# --- the outcome handler's EMF ----------------------------------------------------------------------

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"


def _ctr(record: AttemptRecord, contact_id: str, *, agent: bool) -> bytes:
    ctr = {"ContactId": contact_id, "InstanceARN": INSTANCE, "InitiationMethod": "OUTBOUND",
           "InitiationTimestamp": "2025-11-24T16:00:00Z", "ConnectedToSystemTimestamp": "2025-11-24T16:00:07Z",
           "DisconnectTimestamp": "2025-11-24T16:04:00Z",
           "Attributes": {"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": record.attempt.row_id,
                          "ccaas_attempt_id": record.attempt_id}}
    if agent:
        ctr["Agent"] = {"ConnectedToAgentTimestamp": "2025-11-24T16:00:08Z"}
    return json.dumps(ctr).encode()


def test_record_dial_outcomes_emits_per_campaign_counts_and_the_alarm_roll_ups(deps, monkeypatch, capsys):
    from tests.lambda_harness import context, kinesis_event, load_module

    for name, value in {"POWERTOOLS_SERVICE_NAME": "record_dial_outcomes", "POWERTOOLS_METRICS_NAMESPACE": "CcaasTest",
                        "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    handler = load_module("record_dial_outcomes", prefix="om")
    monkeypatch.setattr(handler, "dependencies", lambda: deps)
    deps.config.put_connect_instance(INSTANCE, T)
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,consent_automated_voice\n"
        "r1,+12125550101,America/New_York,true\nr2,+12125550102,America/New_York,true\n")))
    assert outbound.dial_tick(deps, T, "c1").dialed == 2
    first, second = outbound.attempts_export(deps, T, "c1")
    capsys.readouterr()
    event = kinesis_event([_ctr(first, "connect-1", agent=True), _ctr(second, "connect-2", agent=False),
                           json.dumps({"ContactId": "connect-3", "InitiationMethod": "INBOUND"}).encode()])
    assert handler.lambda_handler(event, context("record_dial_outcomes")) == {"batchItemFailures": []}
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    (campaign,) = [d for d in docs if d.get("campaign") == "c1"]
    assert (campaign["tenant"], campaign["Outcomes"], campaign["HumanAnswered"]) == (T, [2.0], [2.0])
    assert campaign["Connects"] == [1.0] and campaign["Abandoned"] == [1.0]
    (rollup,) = [d for d in docs if "DialOutcomesRecorded" in d]
    assert rollup["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert (rollup["DialOutcomesRecorded"], rollup["HumanAnswered"], rollup["Abandoned"]) == ([2.0], [2.0], [1.0])
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.connects, m.abandoned, m.abandonment_rate) == (1, 1, 0.5)  # the store agrees with what was emitted


def test_live_agent_time_reads_only_the_latest_connected_calls_of_the_last_hour(deps, monkeypatch):
    monkeypatch.setattr(outbound_metrics, "LIVE_CONTACT_READS", 2)
    old = NOW - timedelta(minutes=90)  # outside the hour: never read
    _attempt(deps, "r0", old, Disposition.ANSWERED, contact_id="k0")
    _contact(deps, "k0", "ana", old + timedelta(seconds=5), old + timedelta(minutes=30))
    starts = [NOW - timedelta(minutes=m) for m in (30, 20, 10)]
    for i, at in enumerate(starts, start=1):  # ana: 60 s calls every 10 minutes (9 min between: within a session)
        _attempt(deps, f"r{i}", at, Disposition.RIGHT_PARTY_CONTACT, contact_id=f"k{i}")
        _contact(deps, f"k{i}", "ana", at, at + timedelta(seconds=60))
    reads = []
    get_contact = deps.store.get_contact
    monkeypatch.setattr(deps.store, "get_contact", lambda t, c: reads.append(c) or get_contact(t, c))
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert reads == ["k2", "k3"]  # the latest two, oldest first
    assert m.agent_calls == 2 and m.idle_between_calls_s == 540.0 and m.occupancy == round(120 / 660, 5)


def test_emit_tick_counts_sums_an_invocations_ticks_per_campaign(capsys, monkeypatch):
    from ccaas.usecases.outbound import TickResult

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "dial_campaign")
    ticks = [TickResult(tenant_id="t1", campaign_id="a", dialed=2, blocks={"consent": 1}),
             TickResult(tenant_id="t1", campaign_id="a", dialed=3, dial_errors=1, blocks={"consent": 2, "calling_hours": 4}),
             TickResult(tenant_id="t2", campaign_id="b", dialed=0)]
    totals = outbound_metrics.emit_tick_counts(ticks, namespace="CcaasTest")
    assert totals == {"Attempts": 5, "DialErrors": 1, "Blocked": 7}
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    counts = [d for d in docs if "Attempts" in d]
    assert [(d["tenant"], d["campaign"], d["Attempts"], d["DialErrors"]) for d in counts] == [("t1", "a", [5.0], [1.0])]
    assert {(d["rule"], *d["Blocked"]) for d in docs if "rule" in d} == {("consent", 3.0), ("calling_hours", 4.0)}
    assert not [d for d in docs if d.get("campaign") == "b"]  # an idle campaign prints nothing
