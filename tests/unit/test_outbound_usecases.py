"""Outbound use-cases on the in-memory twins: the dialing loop never dials what a check did not allow, stores
the checks with every attempt, honours opt-outs and rule changes from the next attempt, and reports list
errors per row; outcomes route answered calls to agents as OUTBOUND contacts."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from ccaas.adapters.memory.outbound import MemoryDialers, RecordingDialer
from ccaas.domain.models import Agent, AgentStatus, Channel, Conflict, DomainError, InitiationMethod, Queue, QueueAssignment
from ccaas.domain.outbound.lists import upload_tag
from ccaas.domain.outbound.models import CampaignStatus, CheckName, Disposition
from ccaas.ports_outbound import AttemptRecord, CarrierOutcome, DialerSettings
from ccaas.usecases import outbound, outbound_metrics
from ccaas.usecases.outbound import (
    CampaignPatch,
    CampaignRequest,
    DispositionRequest,
    ListUpload,
    SuppressionRequest,
)
from tests.faults import FailingOnce, Throttled
from tests.outbound_builders import NOW, T, outbound_deps

UTC = timezone.utc

CSV = """row_id,phone,time_zone,account_id,consent_automated_voice,email
r1,+12125550101,America/New_York,acct-1,true,a@example.com
r2,+12125550102,America/New_York,acct-2,false,
r3,+12125550103,America/New_York,acct-3,true,
r4,+13105550104,America/Los_Angeles,acct-4,true,
"""


@pytest.fixture
def deps():
    return outbound_deps()


def _campaign(deps, mode="progressive", **kw):
    body = CampaignRequest(campaign_id="c1", name="Renewals", mode=mode, queue_id="sales", caller_id="+12125550199", **kw)
    outbound.create_campaign(deps, T, body)
    return outbound.change_status(deps, T, "c1", "start")


def _upload(deps, text=CSV):
    return outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=text))


def _dialer(deps) -> RecordingDialer:
    return deps.dialers.dialer


def test_a_tick_dials_only_rows_every_check_allowed_and_stores_the_checks(deps):
    _campaign(deps)
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number", "value": "+12125550103"}]))
    result = _upload(deps)
    assert result.accepted == 4 and result.errors == []
    tick = outbound.dial_tick(deps, T, "c1")
    # two free agents, progressive: at most two dials; r2 has no consent, r3 is on the DNC list
    dialed = {r.number for r in _dialer(deps).dialed}
    assert "+12125550102" not in dialed and "+12125550103" not in dialed
    assert tick.dialed == len(dialed) == 2 and tick.blocks == {"consent": 1, "suppression": 1}
    for record in outbound.attempts_export(deps, T, "c1"):
        names = {c.name for c in record.attempt.checks}
        assert {CheckName.SUPPRESSION, CheckName.CONSENT, CheckName.CALLING_HOURS, CheckName.REG_F_7_IN_7} <= names
        assert all(c.passed for c in record.attempt.checks) and record.campaign_version == 2
    # rows ended by a check that never clears leave the due index; the dialed ones wait for their outcome
    assert deps.outbound.get_row(T, "c1", "r3").state == "done"
    assert deps.outbound.get_row(T, "c1", "r3").blocked_by == ("suppression",)
    metrics = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert metrics.attempts == 2 and metrics.blocks_by_rule == {"consent": 1, "suppression": 1}
    assert metrics.calls_in_flight == 2


def test_outside_calling_hours_the_campaign_waits_instead_of_failing(deps):
    _campaign(deps)
    deps.clock.now = int(datetime(2025, 11, 24, 12, 0, tzinfo=UTC).timestamp() * 1000)  # 07:00 in New York
    text = "phone,time_zone,consent_automated_voice\n+12125550101,America/New_York,true\n"
    _upload(deps, text)
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.deferred == 1 and tick.blocks == {"calling_hours": 1}
    row = deps.outbound.get_row(T, "c1", f"line-2.{upload_tag(text)}")
    assert row.state == "due" and row.next_due_at == datetime(2025, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 EST
    deps.clock.now = int(datetime(2025, 11, 24, 13, 0, tzinfo=UTC).timestamp() * 1000)
    assert outbound.dial_tick(deps, T, "c1").dialed == 1


def test_an_opt_out_mid_campaign_is_honoured_by_the_next_attempt(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    assert outbound.dial_tick(deps, T, "c1").dialed == 1
    (record,) = outbound.attempts_export(deps, T, "c1")
    outbound.record_outcome(deps, T, "c1", "r1", record.attempt_id,
                            CarrierOutcome(disposition=Disposition.NO_ANSWER, at=NOW + timedelta(seconds=30)))
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number", "value": "(212) 555-0101"}],
                                                          source="sms_stop"))
    deps.clock.advance(6 * 3600)  # past the no-answer retry gap (4 h)
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.blocks == {"suppression": 1}
    assert len(_dialer(deps).dialed) == 1


def test_a_suppression_landing_between_check_and_write_dials_nothing(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    store = deps.outbound
    original = store.start_attempt

    def racing(record, row, **kw):
        store.add_suppressions(T, [outbound.Suppression(kind="number", value="+12125550101", source="api")])
        return original(record, row, **kw)

    store.start_attempt = racing
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.conflicts == 1 and _dialer(deps).dialed == []
    assert outbound.attempts_export(deps, T, "c1") == []


def test_a_rule_change_applies_to_the_next_attempt_never_to_a_decision_made_before_it(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    store = deps.outbound
    original = store.start_attempt

    def racing(record, row, **kw):
        # the admin narrows the window (to 13:00-21:00 local) between the check and the write
        outbound.update_campaign(deps, T, "c1", CampaignPatch(window={"start": "13:00", "end": "21:00"}))
        return original(record, row, **kw)

    store.start_attempt = racing
    assert outbound.dial_tick(deps, T, "c1").dialed == 0  # the write under version 2 lost: nothing dialed
    store.start_attempt = original
    tick = outbound.dial_tick(deps, T, "c1")  # the next check reads version 3: 11:00 local is outside 13-21
    assert tick.dialed == 0 and tick.blocks == {"tenant_window": 1}
    assert store.get_campaign(T, "c1").version == 3 and _dialer(deps).dialed == []


def test_paused_campaigns_do_not_dial_and_status_changes_follow_the_lifecycle(deps):
    _campaign(deps)
    _upload(deps)
    assert outbound.change_status(deps, T, "c1", "pause").status is CampaignStatus.PAUSED
    assert outbound.dial_tick(deps, T, "c1").dialed == 0
    assert outbound.change_status(deps, T, "c1", "stop").status is CampaignStatus.STOPPED
    with pytest.raises(Conflict) as stopped:
        outbound.change_status(deps, T, "c1", "start")
    assert stopped.value.field == "status"
    assert deps.outbound.running_campaigns() == []


def test_list_upload_reports_each_bad_row_with_line_and_field_and_loads_the_rest(deps):
    _campaign(deps)
    text = ("row_id,phone,time_zone,email,consent_automated_voice\n"
            "ok1,+12125550101,America/New_York,,true\n"
            "bad1,not-a-number,America/New_York,,true\n"
            "bad2,+12125550102,Mars/Olympus,,true\n"
            "bad3,+12125550103,America/New_York,nope,maybe\n"
            "ok2,+12125550104,,,true\n")
    result = _upload(deps, text)
    assert result.accepted == 2 and result.total == 5 and result.rejected == 3
    where = {(e.line, e.field) for e in result.errors}
    assert {(3, "phone"), (4, "time_zone"), (5, "email"), (5, "consent_automated_voice")} <= where
    assert deps.outbound.get_row(T, "c1", "ok2").row.phones[0].zone_source == "number"
    json_result = outbound.upload_list(deps, T, "c1", ListUpload(format="json", rows=[
        {"row_id": "j1", "phone": "+12125550105", "time_zone": "America/New_York"}, {"row_id": "j2"}]))
    assert json_result.accepted == 1 and [(e.line, e.field) for e in json_result.errors] == [(2, "phone")]


def _answered(deps) -> tuple[AttemptRecord, outbound.TickResult]:
    """r1 (+12125550101, debt acct-1) dialed, then answered: the attempt as dialed and the tick that saw the answer."""
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice,account_id\nr1,+12125550101,America/New_York,true,acct-1\n")
    outbound.dial_tick(deps, T, "c1")
    (record,) = outbound.attempts_export(deps, T, "c1")
    _dialer(deps).outcomes[record.attempt_id] = CarrierOutcome(disposition=Disposition.ANSWERED,
                                                               at=NOW + timedelta(seconds=9), ring_seconds=9)
    deps.clock.advance(10)
    return record, outbound.dial_tick(deps, T, "c1")


def test_an_answered_call_becomes_an_outbound_contact_and_the_agent_disposes_it(deps):
    record, tick = _answered(deps)
    assert tick.outcomes == 1
    answered = deps.outbound.get_attempt(T, "c1", "r1", record.attempt_id)
    assert answered.attempt.disposition is Disposition.ANSWERED and answered.contact_id
    contact = deps.store.get_contact(T, answered.contact_id)
    assert contact.initiation_method is InitiationMethod.OUTBOUND and contact.queue_id == "sales"
    assert contact.attributes["attempt_id"] == record.attempt_id
    done = outbound.dispose_contact(deps, T, contact.contact_id, DispositionRequest(disposition="opted_out"))
    assert done.attempt.disposition is Disposition.OPTED_OUT
    assert deps.outbound.match_suppression(T, "+12125550101", None, None).source == "agent"
    assert deps.outbound.match_suppression(T, "+19999999999", None, "acct-1") is not None
    with pytest.raises(Conflict):  # the audit trail is not rewritten
        outbound.dispose_contact(deps, T, contact.contact_id, DispositionRequest(disposition="right_party_contact"))
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert (m.connects, m.human_answered, m.opted_out, m.abandoned) == (1, 1, 1, 0)


def test_an_opt_out_whose_first_try_failed_is_recorded_by_the_retry(deps):
    """The suppression comes before the disposition: after it, a failed suppression left the agent's retry a 409
    (the disposition set) and the person who asked to stop was dialed again."""
    record, _ = _answered(deps)
    contact_id = deps.outbound.get_attempt(T, "c1", "r1", record.attempt_id).contact_id
    deps.outbound.add_suppressions = FailingOnce(deps.outbound.add_suppressions)
    with pytest.raises(Throttled):
        outbound.dispose_contact(deps, T, contact_id, DispositionRequest(disposition="opted_out"))
    done = outbound.dispose_contact(deps, T, contact_id, DispositionRequest(disposition="opted_out"))
    assert done.attempt.disposition is Disposition.OPTED_OUT
    assert deps.outbound.match_suppression(T, "+12125550101", None, None) is not None
    assert outbound_metrics.campaign_metrics(deps, T, "c1").opted_out == 1


def test_a_tick_that_fails_part_way_counts_the_calls_it_placed(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\n"
                  "r1,+12125550101,America/New_York,true\nr2,+12125550102,America/New_York,true\n")
    deps.outbound.start_attempt = start = FailingOnce(deps.outbound.start_attempt, fail_on=2)
    free_agents = sum(1 for a in deps.store.list_agents(T) if a.status == "AVAILABLE")
    with pytest.raises(Throttled):
        outbound.dial_tick(deps, T, "c1")
    assert free_agents >= 2 and start.calls == 2  # the first row dialed, the second throttled
    assert outbound_metrics.campaign_metrics(deps, T, "c1").attempts == len(outbound.attempts_export(deps, T, "c1")) == 1


def test_an_answer_with_no_free_agent_is_an_abandoned_call_with_its_message(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    outbound.dial_tick(deps, T, "c1")
    (record,) = outbound.attempts_export(deps, T, "c1")
    for agent in deps.store.list_agents(T):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.OFFLINE, "version": agent.version + 1})])
    done = outbound.record_outcome(deps, T, "c1", "r1", record.attempt_id,
                                   CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=5)))
    assert done.attempt.disposition is Disposition.ABANDONED and done.attempt.abandon_message_played is True
    assert done.contact_id is None
    again = outbound.record_outcome(deps, T, "c1", "r1", record.attempt_id,
                                    CarrierOutcome(disposition=Disposition.BUSY, at=NOW + timedelta(seconds=6)))
    assert again.attempt.disposition is Disposition.ABANDONED  # a repeated outcome changes nothing
    m = outbound_metrics.campaign_metrics(deps, T, "c1")
    assert m.abandoned == 1 and m.abandonment_rate == 1.0


def test_reg_f_counts_attempts_per_debt_across_campaigns(deps):
    _campaign(deps)
    rows = "".join(f"r{i},+1212555{i:04d},America/New_York,true,debt-9\n" for i in range(1, 10))
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice,account_id\n" + rows)
    for agent_id in ("cy", "di", "ed", "fu", "gi", "ha", "io"):
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 7 and tick.blocks.get("reg_f_7_in_7") == 2  # the 8th and 9th call about one debt wait
    assert len({r.number for r in _dialer(deps).dialed}) == 7


def test_audit_export_as_csv_names_every_check(deps):
    _campaign(deps)
    _upload(deps)
    outbound.dial_tick(deps, T, "c1")
    records = outbound.attempts_export(deps, T, "c1")
    text = outbound.attempts_csv(records)
    lines = text.strip().splitlines()
    assert lines[0].startswith("attempt_id,campaign_id,campaign_version") and len(lines) == 1 + len(records)
    assert "calling_hours=pass" in lines[1] and "suppression=pass" in lines[1]
    assert outbound.attempts_export(deps, T, "c1", after=records[0].attempt_id) == records[1:]
    # no cell a spreadsheet would run as a formula, whatever a stored value holds (ccaas.domain.spreadsheet)
    forged = records[0].model_copy(update={"attempt": records[0].attempt.model_copy(update={"account_id": "=1+1"})})
    (line,) = list(csv.DictReader(io.StringIO(outbound.attempts_csv([forged]))))
    number = records[0].attempt.number
    assert line["account_id"] == "'=1+1" and number.startswith("+1") and line["number"] == number  # E.164 as is


def test_a_failed_dial_is_recorded_never_left_in_flight(deps):
    deps.dialers.dialer.fail = True
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dial_errors == 1
    (record,) = outbound.attempts_export(deps, T, "c1")
    assert record.dial_error == "RuntimeError" and record.attempt.disposition is Disposition.NO_ANSWER


def test_predictive_dials_ahead_of_free_agents_and_the_simulated_carrier_answers(deps):
    deps.dialers = outbound_simulated = MemoryDialers()
    outbound.put_dialer_settings(deps, T, DialerSettings(kind="simulated", seed=7, p_human=0.5))
    for i in range(8):
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=f"x{i}", name="x", status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
    _campaign(deps, mode="predictive")
    rows = "".join(f"r{i},+1212555{i:04d},America/New_York,true\n" for i in range(1, 60))
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\n" + rows)
    first = outbound.dial_tick(deps, T, "c1")
    assert first.mode == "predictive" and first.dialed > 10  # more calls than the ten free agents
    deps.clock.advance(40)  # every simulated call has an outcome after 32 s at most
    second = outbound.dial_tick(deps, T, "c1")
    assert second.outcomes == first.dialed
    (dialer,) = outbound_simulated.made.values()
    assert len(dialer.dialed) == first.dialed + second.dialed
    assert all(r.attempt.disposition is not None for r in outbound.attempts_export(deps, T, "c1")[: first.dialed])


def test_a_connect_contact_record_sets_the_outcome_of_the_attempt_it_names(deps):
    _campaign(deps)
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    outbound.dial_tick(deps, T, "c1")
    (record,) = outbound.attempts_export(deps, T, "c1")
    instance = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"
    deps.config.put_connect_instance(instance, T)
    ctr = {"ContactId": "connect-1", "InstanceARN": instance, "InitiationMethod": "OUTBOUND",
           "InitiationTimestamp": "2025-11-24T16:00:00Z", "ConnectedToSystemTimestamp": "2025-11-24T16:00:07Z",
           "DisconnectTimestamp": "2025-11-24T16:04:00Z", "Agent": {"ConnectedToAgentTimestamp": "2025-11-24T16:00:08Z"},
           "Attributes": {"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                          "ccaas_attempt_id": record.attempt_id}}
    done = outbound.record_ctr_outcome(deps, ctr)
    assert done.attempt.disposition is Disposition.ANSWERED and done.contact_id == "connect-1"
    assert done.attempt.ring_seconds == 7.0
    assert not [c for c in deps.store.contacts.values() if c.initiation_method is InitiationMethod.OUTBOUND]
    assert outbound.record_ctr_outcome(deps, ctr) == done  # at least once: the repeat changes nothing
    assert outbound_metrics.campaign_metrics(deps, T, "c1").connects == 1


def test_an_agentless_campaign_plays_its_message_to_whoever_answers(deps):
    _campaign(deps, mode="agentless", agentless_message="This is Example Co about your renewal.")
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 1 and _dialer(deps).dialed[0].agentless_message.startswith("This is Example Co")
    (record,) = outbound.attempts_export(deps, T, "c1")
    done = outbound.record_outcome(deps, T, "c1", "r1", record.attempt_id,
                                   CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=8)))
    assert done.attempt.disposition is Disposition.ANSWERED and done.contact_id is None


def test_a_preview_dial_the_dialer_refuses_says_so_to_the_agent(deps):
    """A refused dial (on AWS: Connect's AccessDenied, a missing instance) stores the attempt as a dial error and
    answers with it: the agent's desktop must not wait for a call that never rings."""
    from ccaas.domain.models import ContactState
    from ccaas.usecases.outbound import PreviewDialRequest

    _campaign(deps, mode="preview")
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,false\n")
    outbound.dial_tick(deps, T, "c1")
    (contact,) = (c for c in deps.store.contacts.values() if c.attributes.get("preview") == "1")
    deps.store.save(contacts=[contact.model_copy(update={"state": ContactState.CONNECTED, "agent_id": "ana",
                                                         "version": contact.version + 1})])
    deps.dialers.dialer.fail = True
    dialed = outbound.dial_preview(deps, T, contact.contact_id, PreviewDialRequest())
    assert dialed.dial_error == "RuntimeError"
    (record,) = outbound.attempts_export(deps, T, "c1")
    assert record.attempt_id == dialed.attempt_id and record.dial_error == "RuntimeError"
    assert record.attempt.disposition is Disposition.NO_ANSWER


def test_preview_offers_the_record_to_an_agent_who_then_dials_it_after_the_checks(deps):
    from ccaas.domain.models import ContactState
    from ccaas.usecases.outbound import PreviewDialRequest

    _campaign(deps, mode="preview")
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice,first_name\n"
                  "r1,+12125550101,America/New_York,false,Alex\nr2,+12125550102,America/New_York,false,Sam\n"
                  "r3,+12125550103,America/New_York,false,Jo\n")
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number", "value": "+12125550102"}]))
    tick = outbound.dial_tick(deps, T, "c1")
    # two free agents: two records offered (no consent needed: the agent dials by hand), the DNC one held back
    assert tick.previews == 2 and tick.dialed == 0 and tick.blocks == {"suppression": 1}
    assert _dialer(deps).dialed == [] and outbound.attempts_export(deps, T, "c1") == []  # nothing dialed yet
    previews = sorted((c for c in deps.store.contacts.values() if c.attributes.get("preview") == "1"),
                      key=lambda c: c.attributes["row_id"])
    assert [c.attributes["row_id"] for c in previews] == ["r1", "r3"] and previews[0].attributes["first_name"] == "Alex"
    assert all(c.initiation_method is InitiationMethod.OUTBOUND for c in previews)
    contact = previews[0]
    with pytest.raises(Conflict):  # not accepted yet
        outbound.dial_preview(deps, T, contact.contact_id, PreviewDialRequest())
    deps.store.save(contacts=[contact.model_copy(update={"state": ContactState.CONNECTED, "agent_id": "ana",
                                                         "version": contact.version + 1})])
    # the customer opts out while the agent reads the record: the dial-time check blocks it
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number", "value": "+12125550101"}]))
    with pytest.raises(Conflict) as blocked:
        outbound.dial_preview(deps, T, contact.contact_id, PreviewDialRequest())
    assert blocked.value.field == "checks" and "suppression" in str(blocked.value)
    assert _dialer(deps).dialed == []
    other = previews[1]
    deps.store.save(contacts=[other.model_copy(update={"state": ContactState.CONNECTED, "agent_id": "ben",
                                                       "version": other.version + 1})])
    dialed = outbound.dial_preview(deps, T, other.contact_id, PreviewDialRequest())
    assert dialed.number == "+12125550103" and all(c.passed for c in dialed.checks) and dialed.dial_error is None
    assert [r.number for r in _dialer(deps).dialed] == ["+12125550103"]
    (record,) = outbound.attempts_export(deps, T, "c1")
    assert record.dial_mode is outbound.CampaignMode.PREVIEW and record.contact_id == other.contact_id
    assert deps.store.get_contact(T, other.contact_id).attributes["attempt_id"] == record.attempt_id
    # the same marks on a contact an integration made: not a preview record, nothing dialed
    from ccaas.usecases.contacts import NewContact, create_contact

    made = create_contact(deps, T, NewContact(channel=Channel.VOICE, queue_id="sales", attributes={
        "preview": "1", "campaign_id": "c1", "row_id": "r1"}))
    deps.store.save(contacts=[deps.store.get_contact(T, made.contact_id).model_copy(update={
        "state": ContactState.CONNECTED, "agent_id": "ana", "version": made.version + 1})])
    with pytest.raises(DomainError, match="not a preview record"):
        outbound.dial_preview(deps, T, made.contact_id, PreviewDialRequest())
    assert [r.number for r in _dialer(deps).dialed] == ["+12125550103"]
    with pytest.raises(Conflict):
        outbound.dial_preview(deps, T, other.contact_id, PreviewDialRequest())  # once
    _dialer(deps).outcomes[record.attempt_id] = CarrierOutcome(disposition=Disposition.ANSWERED, at=NOW + timedelta(seconds=5))
    deps.clock.advance(6)
    outbound.dial_tick(deps, T, "c1")
    answered = deps.outbound.get_attempt(T, "c1", "r3", record.attempt_id)
    assert answered.attempt.disposition is Disposition.ANSWERED and answered.contact_id == other.contact_id
    done = outbound.dispose_contact(deps, T, other.contact_id, DispositionRequest(disposition="right_party_contact"))
    assert done.attempt.disposition is Disposition.RIGHT_PARTY_CONTACT


def test_a_second_upload_adds_rows_and_a_retried_upload_replaces_its_own(deps):
    """Default row ids carry the upload: line 2 of another file is another row, the same file again is not."""
    _campaign(deps)
    first = "phone,time_zone,consent_automated_voice\n+12125550101,America/New_York,true\n"
    second = "phone,time_zone,consent_automated_voice\n+12125550102,America/New_York,true\n"
    results = [_upload(deps, text) for text in (first, second, first)]
    stored = sorted(r.row.numbers[0] for (t, c, _), r in deps.outbound.rows.items() if (t, c) == (T, "c1"))
    assert stored == ["+12125550101", "+12125550102"]
    # the answer says how this upload's rows are named, so a row can be looked up
    assert results[0].row_ids == results[2].row_ids != results[1].row_ids
    row_id = results[1].row_ids.replace("<n>", "2")
    assert deps.outbound.get_row(T, "c1", row_id).row.numbers == ("+12125550102",)


def _tick_both_after_both_checked(deps, campaigns: tuple[str, str]) -> list[outbound.TickResult]:
    """Two campaigns' ticks (each its own dial_campaign invocation) at once: both check, then both write."""
    import threading

    store, both_checked = deps.outbound, threading.Barrier(2, timeout=10)
    original = store.start_attempt

    def after_both_checks(record, row, **kw):
        both_checked.wait()
        return original(record, row, **kw)

    store.start_attempt = after_both_checks
    ticks: dict[str, outbound.TickResult] = {}
    threads = [threading.Thread(target=lambda c=c: ticks.__setitem__(c, outbound.dial_tick(deps, T, c))) for c in campaigns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    store.start_attempt = original
    return [ticks[c] for c in campaigns]


def _one_row_campaigns(deps, rows: dict[str, str]) -> None:
    """Each on a queue of its own with one agent: campaigns sharing a queue tick one at a time (its lease)."""
    for campaign_id, row in rows.items():
        queue_id = f"q-{campaign_id}"
        deps.config.put_queue(Queue(tenant_id=T, queue_id=queue_id, name=queue_id, channels=frozenset({Channel.VOICE})))
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=f"a-{campaign_id}", name=campaign_id,
                                      status=AgentStatus.AVAILABLE, queues=(QueueAssignment(queue_id=queue_id),))])
        outbound.create_campaign(deps, T, CampaignRequest(campaign_id=campaign_id, name=campaign_id, mode="progressive",
                                                          queue_id=queue_id, caller_id="+12125550199"))
        outbound.change_status(deps, T, campaign_id, "start")
        outbound.upload_list(deps, T, campaign_id, ListUpload(format="csv", content=(
            "row_id,phone,time_zone,consent_automated_voice,account_id\n" + row + "\n")))


def test_two_campaigns_checking_one_debt_at_once_never_place_its_8th_call_in_7_days(deps):
    """Reg F is per debt across campaigns. Two campaigns' ticks check one debt at the same moment, both see 6
    calls, and both would store the 7th: the attempt's transaction holds the debt's ledger to the version the
    check read, so one is stored and the other is a conflict, dialed by no one (its row stays due)."""
    _campaign(deps)
    rows = "".join(f"r{i},+1212555{i:04d},America/New_York,true,debt-9\n" for i in range(1, 7))
    _upload(deps, "row_id,phone,time_zone,consent_automated_voice,account_id\n" + rows)
    for agent_id in ("cy", "di", "ed", "fu"):
        deps.store.save(agents=[Agent(tenant_id=T, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                      queues=(QueueAssignment(queue_id="sales"),))])
    assert outbound.dial_tick(deps, T, "c1").dialed == 6
    _one_row_campaigns(deps, {"c2": "x,+12125550707,America/New_York,true,debt-9",
                              "c3": "x,+12125550808,America/New_York,true,debt-9"})
    ticks = _tick_both_after_both_checked(deps, ("c2", "c3"))
    assert sorted(t.dialed for t in ticks) == [0, 1] and sorted(t.conflicts for t in ticks) == [0, 1]
    assert len(deps.outbound.account_attempts(T, "debt-9", NOW - timedelta(days=7))) == 7
    assert len(_dialer(deps).dialed) == 7


def test_two_campaigns_checking_one_number_at_once_ring_it_once(deps):
    """Two debts of one person in two campaigns: both ticks find no call in flight to the number and would ring
    it twice at once; the number's ledger makes the second a conflict (its row waits for the call to end)."""
    _one_row_campaigns(deps, {"c2": "x,+12125550707,America/New_York,true,debt-1",
                              "c3": "y,+12125550707,America/New_York,true,debt-2"})
    ticks = _tick_both_after_both_checked(deps, ("c2", "c3"))
    assert sorted(t.dialed for t in ticks) == [0, 1] and sorted(t.conflicts for t in ticks) == [0, 1]
    assert [r.number for r in _dialer(deps).dialed] == ["+12125550707"]
    # the next ticks: the loser's row waits while the winner's call is in flight
    assert [outbound.dial_tick(deps, T, c).dialed for c in ("c2", "c3")] == [0, 0]


def test_a_dialer_naming_another_tenants_connect_instance_dials_nothing(deps):
    """The dialer's grant covers every instance the deployment configures: settings stored before the instance
    check, or an instance moved to another tenant since, dial nothing (and say why in the log)."""
    from ccaas.usecases.outbound import DIALER_SETTINGS

    arn = "arn:aws:connect:us-east-1:123456789012:instance/abcd-0001"
    deps.config.put_connect_instance(arn, "someone-else")
    deps.config.put_settings(T, DIALER_SETTINGS, DialerSettings(kind="connect", instance_arn=arn, contact_flow_id="f").model_dump(mode="json"))
    assert outbound.dialer_settings(deps, T) is None
    with pytest.raises(DomainError) as refused:
        outbound.put_dialer_settings(deps, T, DialerSettings(kind="connect", instance_arn=arn, contact_flow_id="f"))
    assert refused.value.field == "instance_arn"
    deps.config.put_connect_instance(arn, T)
    assert outbound.dialer_settings(deps, T).instance_id == "abcd-0001"
