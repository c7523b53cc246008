"""Outbound compliance inputs from outside the dialer, on the in-memory twins through the real hooks: an opt-out
keyword texted on any chat / SMS contact suppresses the sender at once (mid-campaign, visible in the row's
audit), an inbound conversation starts Reg F's 7-day quiet period for the person's account, agentless SMS
campaigns text only with SMS consent and inside calling hours, raw CSV uploads, and campaigns that complete
by themselves once every row is final."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ccaas.adapters.memory.outbound import MemorySmsSender, RecordingDialer
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.customers import Customer
from ccaas.domain.history import ParticipantRole
from ccaas.domain.models import (
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    DomainError,
    InitiationMethod,
    Queue,
    QueueAssignment,
)
from ccaas.domain.outbound import compliance
from ccaas.domain.outbound.compliance import consent_supersedes
from ccaas.domain.outbound.messages import OPT_OUT_NOTICE, is_opt_out, sms_text
from ccaas.domain.outbound.models import CampaignStatus, CheckName, ConsentFlag, Disposition
from ccaas.domain.tenants import Tenant
from ccaas.ports_outbound import CarrierOutcome, DialerSettings
from ccaas.usecases import admin, analytics, history, outbound
from ccaas.usecases.analytics import NewMessage
from ccaas.usecases.contacts import NewContact, create_contact
from ccaas.usecases.outbound import CAMPAIGN_COMPLETED, CampaignRequest, ListUpload, SuppressionRequest

T = "t1"
UTC = timezone.utc
NOW = datetime.fromtimestamp(1_764_000_000, tz=UTC)  # FixedClock: 2025-11-24 16:00 UTC = 11:00 New York
NOW_MS = 1_764_000_000_000

CSV = """row_id,phone,time_zone,account_id,consent_automated_voice,consent_automated_sms
r1,+12125550101,America/New_York,acct-1,true,true
r2,+12125550102,America/New_York,acct-2,true,false
r3,+12125550103,America/New_York,acct-3,true,true
r4,+18085550104,Pacific/Honolulu,acct-4,true,true
"""


class Dialers:
    """One recording dialer and one in-memory SMS sender whatever the settings."""

    def __init__(self) -> None:
        self.dialer = RecordingDialer()
        self.texts = MemorySmsSender()

    def __call__(self, settings: DialerSettings) -> RecordingDialer:
        return self.dialer

    def sms(self, settings: DialerSettings) -> MemorySmsSender:
        return self.texts


@pytest.fixture
def deps():
    d = memory_dependencies(dialers=Dialers())
    d.config.put_tenant(Tenant(tenant_id=T, name="Outbound"))
    d.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    d.config.put_queue(Queue(tenant_id=T, queue_id="texts", name="Texts",
                             channels=frozenset({Channel.SMS, Channel.CHAT})))
    for agent_id in ("ana", "ben"):
        d.store.save(agents=[Agent(tenant_id=T, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                   queues=(QueueAssignment(queue_id="sales"),))])
    outbound.put_dialer_settings(d, T, DialerSettings(kind="simulated", sms_origination="+12125550100"))
    return d


def _campaign(deps, mode="progressive", csv=CSV, **kw):
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="c1", name="Renewals", mode=mode, queue_id="sales",
                                                      caller_id="+12125550199", **kw))
    outbound.change_status(deps, T, "c1", "start")
    if csv:
        assert outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=csv)).error_count == 0


def _at(deps, when: datetime) -> None:
    deps.clock.now = int(when.timestamp() * 1000)


def _text_contact(deps, contact_id="s1", channel=Channel.SMS, **kw) -> Contact:
    contact = Contact(tenant_id=T, contact_id=contact_id, channel=channel, queue_id="texts",
                      initiation_method=InitiationMethod.INBOUND, initiated_at=NOW_MS, **kw)
    deps.store.save(contacts=[contact])
    return contact


def _say(deps, contact_id: str, text: str, role=ParticipantRole.CUSTOMER) -> None:
    analytics.add_chat_message(deps, T, contact_id, NewMessage(participant_role=role, content=text))


# --- opt-out keywords (pure) ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["STOP", " stop ", "Stop.", "StopAll", "stop all", "UNSUBSCRIBE!", "cancel", "End",
                                  "quit", "Revoke", "OPT OUT", "opt-out", "Optout", "\uff33\uff34\uff2f\uff30", '"STOP"', "stop\n"])
def test_a_whole_message_that_is_a_carrier_keyword_is_an_opt_out(text):
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["", None, "don't stop", "stopped", "STOP IT NOW", "please cancel my order", "ending",
                                  "the end", "stop " * 20, "START", "HELP", "s-t-o-p-p"])
def test_a_keyword_inside_a_sentence_or_another_word_is_not(text):
    assert not is_opt_out(text)


def test_the_agentless_text_carries_the_opt_out_notice_once():
    assert sms_text("Your renewal is due.") == f"Your renewal is due. {OPT_OUT_NOTICE}"
    already = "Your renewal is due. Reply STOP to end texts."
    assert sms_text(already) == already


def test_consent_precedence_is_a_public_domain_function():
    assert not hasattr(compliance, "_newer")
    grant = ConsentFlag(granted=True, at=NOW)
    revoke = ConsentFlag(granted=False, at=NOW)
    assert consent_supersedes(revoke, grant) and not consent_supersedes(grant, revoke)
    assert consent_supersedes(ConsentFlag(granted=True, at=NOW + timedelta(seconds=1)), revoke)
    assert consent_supersedes(grant, ConsentFlag(granted=False))  # a timed record beats an untimed one


# --- opt-out from any channel, at once -------------------------------------------------------------------

def test_stop_texted_mid_campaign_blocks_the_next_attempt_and_the_row_audit_shows_why(deps):
    _campaign(deps)
    first = outbound.dial_tick(deps, T, "c1")
    assert first.dialed == 2  # two free agents: r1 and r2 dialed
    dialer = deps.dialers.dialer
    [r1] = [r for r in dialer.dialed if r.row_id == "r1"]
    dialer.outcomes[r1.attempt_id] = CarrierOutcome(disposition=Disposition.NO_ANSWER, at=NOW + timedelta(seconds=30))
    _at(deps, NOW + timedelta(minutes=1))
    outbound.dial_tick(deps, T, "c1")  # records r1's no-answer: due again after the retry gap (4 h)

    _text_contact(deps, attributes={"customer_endpoint": "(212) 555-0101"}, state="CONNECTED", agent_id="ana")
    _say(deps, "s1", "Stop all!", role=ParticipantRole.AGENT)  # an agent's words never opt anyone out
    assert deps.outbound.match_suppression(T, "+12125550101", None, None) is None
    _say(deps, "s1", " Stop. ")
    hit = deps.outbound.match_suppression(T, "+12125550101", None, None)
    assert hit is not None and hit.source == "sms_stop"

    _at(deps, NOW + timedelta(hours=5))
    tick = outbound.dial_tick(deps, T, "c1")
    assert "r1" not in {r.row_id for r in dialer.dialed[2:]}
    assert tick.blocks.get("suppression") == 1
    audit = outbound.row_audit(deps, T, "c1", "r1")
    assert audit.state == "done" and audit.blocked_by == ["suppression"]
    [block] = audit.blocked_checks
    assert block.name is CheckName.SUPPRESSION and "sms_stop" in block.detail
    [attempt] = audit.attempts  # the one attempt made before the opt-out, with the checks that allowed it
    assert attempt.disposition is Disposition.NO_ANSWER and all(c.passed for c in attempt.checks)


def test_an_opt_out_between_the_check_and_the_write_dials_nothing(deps):
    _campaign(deps, csv=CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n")
    real = deps.outbound.start_attempt

    def texted_stop_meanwhile(record, row, **kw):
        _text_contact(deps, attributes={"customer_phone": "+12125550101"})
        _say(deps, "s1", "STOP")
        return real(record, row, **kw)

    deps.outbound.start_attempt = texted_stop_meanwhile
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.conflicts == 1 and deps.dialers.dialer.dialed == []


def test_a_consent_revoked_between_the_check_and_the_write_dials_nothing(deps):
    """POST /consents revoking automated-call consent lands after the tick's check read the grant and before
    the attempt is stored: the write is refused (nothing dialed), and the next tick blocks the row on consent."""
    _campaign(deps, csv=CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n")
    outbound.record_consent(deps, T, outbound.ConsentRequest(number="+12125550101", granted=True, source="web_form",
                                                               at=NOW - timedelta(days=1)))
    real = deps.outbound.start_attempt

    def revoked_meanwhile(record, row, **kw):
        outbound.record_consent(deps, T, outbound.ConsentRequest(number="+12125550101", granted=False, source="ivr"))
        return real(record, row, **kw)

    deps.outbound.start_attempt = revoked_meanwhile
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.conflicts == 1 and deps.dialers.dialer.dialed == []
    deps.outbound.start_attempt = real
    _at(deps, NOW + timedelta(minutes=5))
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 0 and tick.blocks.get("consent") == 1
    assert outbound.row_audit(deps, T, "c1", "r1").blocked_by == ["consent"]


def test_a_consent_dated_in_the_future_is_refused_so_a_later_revocation_wins(deps):
    """A web form sending Berlin time labelled Z dated the grant an hour ahead: the newest time wins, so the
    revocation the person made twenty minutes later lost, and automated calls resumed (outside review)."""
    from ccaas.domain.models import DomainError

    with pytest.raises(DomainError) as refused:
        outbound.record_consent(deps, T, outbound.ConsentRequest(number="+12125550101", granted=True, source="web_form",
                                                                   at=NOW + timedelta(hours=1)))
    assert refused.value.field == "at" and "future" in str(refused.value)
    outbound.record_consent(deps, T, outbound.ConsentRequest(number="+12125550101", granted=True, source="web_form",
                                                               at=NOW + timedelta(minutes=4)))  # clocks drift
    _campaign(deps, csv=None)
    upload = outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,consent_automated_voice,consent_automated_voice_at\n"
        f"r1,+12125550102,America/New_York,true,{(NOW + timedelta(hours=1)).isoformat()}\n"
        f"r2,+12125550103,America/New_York,true,{(NOW - timedelta(days=1)).isoformat()}\n")))
    assert [(e.line, e.field) for e in upload.errors] == [(2, "consent_automated_voice_at")]
    assert [r.row.row_id for r in deps.outbound.rows.values()] == ["r2"]


def test_suppressions_and_consents_read_national_numbers_in_the_region_they_name(deps):
    """An Italian list's "312 345 6789" is +39 312 345 6789; suppressed with the same digits it was stored as a
    Chicago number (+1 312 …), and the Italian person was still dialed. The region is the request's (default US)
    and the stored numbers come back, so a mismatch shows."""
    from ccaas.usecases.outbound import ConsentRequest

    stored = outbound.add_suppressions(deps, T, SuppressionRequest(
        entries=[{"kind": "number", "value": "312 345 6789"}], region="IT"))
    assert stored.numbers == ["+393123456789"]
    assert deps.outbound.match_suppression(T, "+393123456789", None, None) is not None
    assert deps.outbound.match_suppression(T, "+13123456789", None, None) is None
    assert outbound.add_suppressions(deps, T, SuppressionRequest(
        entries=[{"kind": "number", "value": "312 345 6789"}])).numbers == ["+13123456789"]  # US unless told
    consent = outbound.record_consent(deps, T, ConsentRequest(number="312 345 6789", region="IT", granted=False))
    assert consent.number == "+393123456789"
    with pytest.raises(ValueError, match="not a region"):
        SuppressionRequest(entries=[{"kind": "number", "value": "1"}], region="XX")


def test_a_stop_texted_to_a_tenants_number_suppresses_the_sender_for_calls_too(deps):
    """Replies to a campaign's texts reach End User Messaging's two-way topic, not a contact: STOP added the number
    to End User Messaging's own opt-out list (no more texts) and nothing else, so the automated calls went on. The
    tenant is the one the receiving number is registered to; another tenant's suppressions stay as they are."""
    import json as _json

    deps.config.put_tenant(Tenant(tenant_id="other", name="Other"))
    admin.register_sms_sender(deps, tenant_id=T, kind="origination", name="+12125550199")
    admin.register_sms_sender(deps, tenant_id="other", kind="origination", name="+12125550198")

    def text(body, to="+12125550199", sender="+12125550101"):
        return _json.dumps({"originationNumber": sender, "destinationNumber": to, "messageKeyword": "KEYWORD_1",
                            "messageBody": body, "inboundMessageId": "m-1"})

    assert outbound.inbound_sms(deps, text("what is my balance?")) == ()
    assert deps.outbound.match_suppression(T, "+12125550101", None, None) is None
    assert outbound.inbound_sms(deps, text(" Stop. ")) == ("+12125550101",)
    hit = deps.outbound.match_suppression(T, "+12125550101", None, None)
    assert hit is not None and hit.source == "sms_stop"
    assert deps.outbound.match_suppression("other", "+12125550101", None, None) is None
    _campaign(deps, csv=CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n")
    tick = outbound.dial_tick(deps, T, "c1")  # a voice campaign: the number that texted STOP is not called
    assert tick.dialed == 0 and tick.blocks.get("suppression") == 1
    with pytest.raises(outbound.UnknownTextNumber):
        outbound.inbound_sms(deps, text("STOP", to="+12125550100"))
    for bad in ("not json", "[1]", _json.dumps({"destinationNumber": "+12125550199", "messageBody": "STOP"}),
                text("STOP", sender="nobody")):
        with pytest.raises(ValueError):
            outbound.inbound_sms(deps, bad)


def test_without_an_endpoint_every_number_of_the_customer_profile_is_opted_out(deps):
    deps.customers.put(Customer(tenant_id=T, customer_id="cust-1", phones=["+12125550101", "+12125550103"]))
    _text_contact(deps, channel=Channel.CHAT, customer_id="cust-1")
    _say(deps, "s1", "unsubscribe")
    for number in ("+12125550101", "+12125550103"):
        hit = deps.outbound.match_suppression(T, number, None, None)
        assert hit is not None and hit.source == "chat_stop"
    assert deps.outbound.match_suppression(T, "+12125550102", None, None) is None


def test_a_new_text_contact_whose_first_message_is_stop_opts_out(deps):
    create_contact(deps, T, NewContact(channel=Channel.SMS, queue_id="texts", initiation_method=InitiationMethod.INBOUND,
                                       reason="UNSUBSCRIBE", attributes={"customer_endpoint": "+12125550102"}))
    create_contact(deps, T, NewContact(channel=Channel.SMS, queue_id="texts", initiation_method=InitiationMethod.INBOUND,
                                       reason="billing question", attributes={"customer_endpoint": "+12125550103",
                                                                              "message": "where is my bill?"}))
    assert deps.outbound.match_suppression(T, "+12125550102", None, None).source == "sms_stop"
    assert deps.outbound.match_suppression(T, "+12125550103", None, None) is None


def test_a_voice_contact_is_never_read_for_keywords(deps):
    contact = _text_contact(deps, channel=Channel.VOICE, attributes={"customer_endpoint": "+12125550101"})
    assert outbound.inbound_text(deps, T, contact, "STOP") == ()
    assert deps.outbound.match_suppression(T, "+12125550101", None, None) is None


# --- Reg F: an inbound conversation starts the 7-day quiet period ------------------------------------------

def _inbound_call(deps, contact_id="v1", customer_id=None, **attributes) -> None:
    talk_end = NOW_MS - 3_600_000  # ended an hour ago
    contact = Contact(tenant_id=T, contact_id=contact_id, channel=Channel.VOICE, queue_id="sales",
                      initiation_method=InitiationMethod.INBOUND, state=ContactState.COMPLETED, agent_id="ana",
                      initiated_at=talk_end - 600_000, enqueued_at=talk_end - 590_000, connected_at=talk_end - 500_000,
                      disconnected_at=talk_end, acw_ended_at=talk_end + 60_000, ended_at=talk_end + 60_000,
                      customer_id=customer_id, attributes=attributes)
    deps.store.save(contacts=[contact])
    history.record_contact(deps, T, contact_id)  # the post-contact step: history, and Reg F's hook


def test_an_inbound_call_about_the_account_holds_its_rows_for_seven_days(deps):
    _inbound_call(deps, account_id="acct-1")
    _campaign(deps, debt_collection=True)
    tick = outbound.dial_tick(deps, T, "c1")
    assert "r1" not in {r.row_id for r in deps.dialers.dialer.dialed} and tick.blocks.get("reg_f_conversation") == 1
    row = deps.outbound.get_row(T, "c1", "r1")
    talked = NOW - timedelta(hours=1)
    assert row.state == "due" and row.next_due_at >= talked + timedelta(days=7)
    [check] = row.blocked_checks
    assert check.name is CheckName.REG_F_CONVERSATION and check.clears_at == talked + timedelta(days=7)


def test_an_inbound_call_from_a_listed_number_holds_that_rows_account(deps):
    _inbound_call(deps, customer_endpoint="+12125550102")  # no account named: the number is on the list
    _campaign(deps, debt_collection=True)
    outbound.dial_tick(deps, T, "c1")
    assert {r.row_id for r in deps.dialers.dialer.dialed} == {"r1", "r3"}
    assert deps.outbound.get_row(T, "c1", "r2").blocked_checks[0].name is CheckName.REG_F_CONVERSATION


def test_the_customer_profile_names_the_person_of_an_inbound_call(deps):
    deps.customers.put(Customer(tenant_id=T, customer_id="cust-3", phones=["+12125550103"],
                                attributes={"account_id": "acct-1"}))
    _inbound_call(deps, contact_id="v3", customer_id="cust-3")
    _campaign(deps, debt_collection=True)
    outbound.dial_tick(deps, T, "c1")
    assert {r.row_id for r in deps.dialers.dialer.dialed} == {"r2"}  # r1 by account, r3 by number; r4 out of hours


def test_an_inbound_call_carrying_a_campaign_calls_marks_still_starts_the_quiet_period(deps):
    """attempt_id / preview are what our dialer's own calls carry (their disposition decides); on a contact an
    integration made they are just attributes, and the conversation counts."""
    _inbound_call(deps, account_id="acct-1", attempt_id="a-made-up", preview="1")
    _campaign(deps, debt_collection=True)
    tick = outbound.dial_tick(deps, T, "c1")
    assert "r1" not in {r.row_id for r in deps.dialers.dialer.dialed} and tick.blocks.get("reg_f_conversation") == 1


def test_direct_consent_or_no_conversation_starts_no_quiet_period(deps):
    _inbound_call(deps, "v1", account_id="acct-1", direct_consent="true")
    abandoned = Contact(tenant_id=T, contact_id="v2", channel=Channel.VOICE, queue_id="sales",
                        initiation_method=InitiationMethod.INBOUND, state=ContactState.ABANDONED,
                        initiated_at=NOW_MS - 60_000, ended_at=NOW_MS - 30_000, attributes={"account_id": "acct-2"})
    deps.store.save(contacts=[abandoned])
    history.record_contact(deps, T, "v2")  # never reached a person
    _campaign(deps, debt_collection=True)
    assert outbound.dial_tick(deps, T, "c1").dialed == 2
    assert {r.row_id for r in deps.dialers.dialer.dialed} == {"r1", "r2"}


def test_a_connect_contact_record_of_an_inbound_call_is_a_conversation(deps):
    deps.config.put_connect_instance("arn:aws:connect:us-east-1:123456789012:instance/i-1", T)
    talked = NOW - timedelta(hours=2)
    ctr = {"ContactId": "ctr-1", "Channel": "VOICE", "InitiationMethod": "INBOUND",
           "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/i-1",
           "CustomerEndpoint": {"Address": "+12125550103", "Type": "TELEPHONE_NUMBER"},
           "Agent": {"ConnectedToAgentTimestamp": (talked - timedelta(minutes=5)).isoformat()},
           "DisconnectTimestamp": talked.isoformat(), "Attributes": {"debt_id": "acct-1"}}
    assert outbound.record_ctr_outcome(deps, ctr) is None  # not a campaign call
    assert outbound.record_ctr_outcome(deps, ctr) is None  # at least once: the same conversation again
    assert deps.outbound.conversations(T, "number", "+12125550103", NOW - timedelta(days=7)) == [talked]
    assert deps.outbound.conversations(T, "account", "acct-1", NOW - timedelta(days=7)) == [talked]
    _campaign(deps, debt_collection=True)
    outbound.dial_tick(deps, T, "c1")
    assert {r.row_id for r in deps.dialers.dialer.dialed} == {"r2"}


# --- agentless SMS --------------------------------------------------------------------------------------

def test_an_agentless_sms_campaign_texts_with_sms_consent_inside_calling_hours(deps):
    _campaign(deps, mode="agentless", channel="sms", agentless_message="Your policy renews on Dec 1.")
    tick = outbound.dial_tick(deps, T, "c1")
    sent = deps.dialers.texts.sent
    assert tick.texts == 2 and {m.number for m in sent} == {"+12125550101", "+12125550103"}
    assert deps.dialers.dialer.dialed == []  # no call placed
    for message in sent:
        assert message.text == f"Your policy renews on Dec 1. {OPT_OUT_NOTICE}" and message.origination == "+12125550100"
    records = outbound.attempts_export(deps, T, "c1")
    assert {r.attempt.disposition for r in records} == {Disposition.MESSAGE_SENT} and {r.channel for r in records} == {"sms"}
    consent = next(c for c in records[0].attempt.checks if c.name is CheckName.CONSENT)
    assert consent.passed and consent.facts["channel"] == "sms"
    r2 = deps.outbound.get_row(T, "c1", "r2")  # voice consent only: no automated texts
    assert r2.state == "done" and r2.blocked_by == ("consent",)
    r4 = deps.outbound.get_row(T, "c1", "r4")  # 06:00 in Honolulu: waits for 08:00
    assert r4.state == "due" and r4.next_due_at == datetime(2025, 11, 24, 18, 0, tzinfo=UTC)


def test_a_refused_text_is_recorded_on_its_attempt(deps):
    deps.dialers.texts.fail = True
    _campaign(deps, mode="agentless", channel="sms", agentless_message="Hello")
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dial_errors == 2 and tick.texts == 0
    assert {r.dial_error for r in outbound.attempts_export(deps, T, "c1")} == {"RuntimeError"}


INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"


def _connect_dialer(**sms) -> DialerSettings:
    return DialerSettings(kind="connect", instance_arn=INSTANCE, contact_flow_id="flow-1", **sms)


def test_a_connect_dialer_names_only_sms_senders_registered_to_its_tenant(deps):
    """The dialer's grant covers every End User Messaging identity and configuration set of the account: a tenant's
    settings may name only those the admin registered to it, another tenant's or none at all is a 422 at the field."""
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    deps.config.put_tenant(Tenant(tenant_id="t2", name="Other"))
    admin.register_sms_sender(deps, tenant_id="t2", kind="origination", name="+12125550100")
    admin.register_sms_sender(deps, tenant_id="t2", kind="configuration-set", name="others-texts")
    before = deps.config.get_settings(T, outbound.DIALER_SETTINGS)
    for sms, field in (({"sms_origination": "+12125550100"}, "sms_origination"),  # another tenant's
                       ({"sms_origination": "pool-unregistered"}, "sms_origination"),
                       ({"sms_configuration_set": "others-texts"}, "sms_configuration_set")):
        with pytest.raises(DomainError) as refused:
            outbound.put_dialer_settings(deps, T, _connect_dialer(**sms))
        assert refused.value.field == field and "register it with the admin tool" in str(refused.value)
    assert deps.config.get_settings(T, outbound.DIALER_SETTINGS) == before  # nothing stored
    # a configuration set and a sender id are separate namespaces: registering one name as a set lends no identity
    admin.register_sms_sender(deps, tenant_id=T, kind="configuration-set", name="ACME")
    with pytest.raises(DomainError):
        outbound.put_dialer_settings(deps, T, _connect_dialer(sms_origination="ACME"))
    admin.register_sms_sender(deps, tenant_id=T, kind="origination", name="+12125550111")
    saved = outbound.put_dialer_settings(deps, T, _connect_dialer(sms_origination="+12125550111", sms_configuration_set="ACME"))
    assert outbound.dialer_settings(deps, T) == saved
    with pytest.raises(DomainError) as unknown:
        admin.register_sms_sender(deps, tenant_id=T, kind="sender", name="x")
    assert unknown.value.field == "kind"
    with pytest.raises(DomainError) as malformed:
        admin.register_sms_sender(deps, tenant_id=T, kind="origination", name="+1 212 555 0111")
    assert malformed.value.field == "name"


@pytest.mark.parametrize(("stored", "caller_ids_tenant"), [
    ({}, "t2"), ({"sms_origination": "+12125550100"}, T), ({"sms_configuration_set": "others-texts"}, T)])
def test_a_text_goes_only_from_and_through_senders_of_the_tenant_when_it_is_sent(deps, stored, caller_ids_tenant):
    """Settings stored before the check, a sender moved to another tenant since, or a campaign caller id the tenant
    never registered (the origination when none is set): the attempt records the refusal, no text leaves."""
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    deps.config.put_tenant(Tenant(tenant_id="t2", name="Other"))
    admin.register_sms_sender(deps, tenant_id="t2", kind="origination", name="+12125550100")
    admin.register_sms_sender(deps, tenant_id="t2", kind="configuration-set", name="others-texts")
    admin.register_sms_sender(deps, tenant_id=caller_ids_tenant, kind="origination", name="+12125550199")  # caller id
    deps.config.put_settings(T, outbound.DIALER_SETTINGS, _connect_dialer(**stored).model_dump(mode="json"))
    _campaign(deps, mode="agentless", channel="sms", agentless_message="Hello")
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.texts == 0 and tick.dial_errors == 2 and deps.dialers.texts.sent == []
    assert {r.dial_error for r in outbound.attempts_export(deps, T, "c1")} == {"SmsSenderNotTheTenants"}


def test_a_connect_dialer_texts_from_the_caller_id_once_it_is_the_tenants(deps):
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    outbound.put_dialer_settings(deps, T, _connect_dialer())
    _campaign(deps, mode="agentless", channel="sms", agentless_message="Hello")
    assert outbound.dial_tick(deps, T, "c1").dial_errors == 2  # +12125550199 is nobody's yet
    admin.register_sms_sender(deps, tenant_id=T, kind="origination", name="+12125550199")
    deps.clock.now += 7 * 3600 * 1000  # the no-answer retry of the refused attempts, still inside calling hours
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.texts >= 1 and {m.origination for m in deps.dialers.texts.sent} == {"+12125550199"}


def test_sms_is_an_agentless_channel_only(deps):
    with pytest.raises(ValueError, match="agentless"):
        outbound.create_campaign(deps, T, CampaignRequest(campaign_id="c2", name="X", mode="progressive",
                                                          queue_id="sales", caller_id="+12125550199", channel="sms"))


# --- completion -----------------------------------------------------------------------------------------

def test_a_campaign_whose_rows_are_all_final_completes_and_is_no_longer_ticked(deps):
    _campaign(deps, mode="agentless", channel="sms", agentless_message="Hello",
              csv=CSV.replace("+18085550104,Pacific/Honolulu", "+13125550104,America/Chicago"))
    first = outbound.dial_tick(deps, T, "c1")
    assert first.texts == 3 and not first.completed  # r2 ended (no SMS consent); the texted rows are due again
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.RUNNING
    second = outbound.dial_tick(deps, T, "c1")  # each texted row's retry rule: never again -> done
    assert second.ended == 3 and second.completed
    campaign = outbound.get_campaign(deps, T, "c1")
    assert campaign.status is CampaignStatus.COMPLETED and campaign.version == 3
    [event] = [e for e in deps.events.events if e.type == CAMPAIGN_COMPLETED]
    assert event.subject == "campaign/c1" and event.sequence == 3 and event.payload["campaign_id"] == "c1"
    assert deps.outbound.running_campaigns() == []
    assert outbound.dial_sweep(deps).campaigns == 0
    with pytest.raises(Exception, match="completed"):
        outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=CSV))


def test_blocked_rows_end_a_campaign_in_the_tick_that_ends_them(deps):
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[{"kind": "number", "value": "+12125550101"}]))
    _campaign(deps, csv="row_id,phone,time_zone,consent_automated_voice\n"
                        "r1,+12125550101,America/New_York,true\nr2,+12125550102,America/New_York,false\n")
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.ended == 2 and tick.completed and tick.dialed == 0


def test_waiting_rows_in_flight_calls_and_an_empty_list_keep_a_campaign_running(deps):
    _campaign(deps, csv=None)
    assert not outbound.dial_tick(deps, T, "c1").completed  # started before its list is loaded
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=CSV))
    tick = outbound.dial_tick(deps, T, "c1")
    assert tick.dialed == 2 and not tick.completed  # calls in flight, r3 waits for an agent, r4 for 08:00
    _at(deps, NOW + timedelta(minutes=11))
    assert not outbound.dial_tick(deps, T, "c1").completed
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.RUNNING


# --- raw CSV uploads --------------------------------------------------------------------------------------

UGLY = ("\ufeffRow_ID , Phone,phone,Time_Zone,Account_ID,Consent_Automated_Voice,Notes,\r\n"
        'r1,+12125550101,+12125550101,America/New_York,acct-1,true,"hello, ""world""\r\nsecond line",\r\n'
        "\r\n"
        ",,,,,,,\r\n"
        "r2,1.21255E+10,,America/New_York,acct-2,true,,\r\n"
        'r3,"+1 (212) 555-0103",,America/New_York,acct-3,true,x,\r\n'
        "r4,12125550104.0,,America/New_York,acct-4,true,,,,\r\n"
        "r5,+12125550105,+12125550199,America/New_York,acct-5,true,,\r\n"
        "r6,+12125550106,,America/New_York,acct-6,true,a,b,c\r\n"
        "r7,+12125550107,,America/New_York,acct-7,maybe,,\r\n")


def test_a_raw_csv_from_a_spreadsheet_loads_its_good_rows_and_reports_the_rest(deps):
    _campaign(deps, csv=None)
    result = outbound.upload_csv_text(deps, T, "c1", UGLY)
    assert result.accepted == 3 and result.rejected == 4
    stored = {r: deps.outbound.get_row(T, "c1", r).row for r in ("r1", "r3", "r4")}
    assert stored["r1"].attributes == {"notes": 'hello, "world"\r\nsecond line'} and stored["r1"].line == 2
    assert stored["r3"].numbers == ("+12125550103",) and stored["r3"].line == 7
    assert stored["r4"].numbers == ("+12125550104",)  # a spreadsheet's float, no digit lost
    errors = {(e.line, e.field): e.message for e in result.errors}
    assert "duplicate column" in errors[(1, "phone")] and "without a name" in errors[(1, "column 8")]
    assert "scientific notation" in errors[(6, "phone")]
    assert errors[(9, "phone")] == "duplicate columns disagree"
    assert errors[(10, "row")] == "9 cells for 8 columns"
    assert errors[(11, "consent_automated_voice")] == "must be true or false"


def test_an_unusable_csv_body_is_a_clear_client_error(deps):
    _campaign(deps, csv=None)
    with pytest.raises(DomainError, match="empty"):
        outbound.upload_csv_text(deps, T, "c1", " \r\n")
    with pytest.raises(DomainError) as bad_region:
        outbound.upload_csv_text(deps, T, "c1", "phone\n+12125550101\n", region="usa")
    assert bad_region.value.field == "region"
    with pytest.raises(DomainError, match="no header line") as header_only:  # nothing to load: a 422, not a 200
        outbound.upload_csv_text(deps, T, "c1", "\ufeff\r\n\r\n")
    assert header_only.value.field == "body"  # the raw file is the body


def test_a_lost_completion_event_never_undoes_the_completion(deps):
    def refused(events):
        raise RuntimeError("stream unavailable")

    deps.events.publish = refused
    _campaign(deps, csv="row_id,phone,time_zone,consent_automated_voice\nr1,+12125550102,America/New_York,false\n")
    assert outbound.dial_tick(deps, T, "c1").completed
    assert outbound.get_campaign(deps, T, "c1").status is CampaignStatus.COMPLETED


def test_a_csv_body_reaches_the_route_as_text_with_its_content_type():
    from ccaas.api import request_body

    event = {"httpMethod": "POST", "body": "phone\r\n123\r\n", "isBase64Encoded": False,
             "headers": {"Content-Type": "text/csv; charset=utf-8"}}
    assert request_body.normalise(event) == event  # not read as JSON ("123" is a JSON number), not a 415
    with pytest.raises(request_body.BodyProblem) as latin:
        request_body.normalise({**event, "body": "cGhvbmUKQ2Fm6Qo=", "isBase64Encoded": True})  # "Café" in latin-1
    assert latin.value.status == 400
