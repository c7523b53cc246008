"""A requested callback's consent given directly (Reg F 1006.14(b)(3)(i)) dates from the conversation the person gave
it in, not from when the agent posted the disposition; and a callback's own conversation starts the 7-day quiet
period for the calls after it, even when its agent came too late for the abandonment cap (a drop)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Channel, Contact, ContactState, InitiationMethod
from ccaas.domain.outbound.compliance import InMemoryHistory, SuppressionSet, check_attempt
from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import (
    Attempt,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    ConsentFlag,
    ContactListRow,
    Disposition,
    PhoneEntry,
)
from ccaas.domain.vocabulary import DomainError
from ccaas.ports_outbound import AttemptRecord, ledger_keys, new_attempt_id
from ccaas.usecases import outbound

UTC = timezone.utc
T = "t1"
NUMBER = "+12125550134"
T0 = datetime(2026, 6, 8, 15, tzinfo=UTC)  # Monday 11:00 in New York: the call
ANSWERED_AT = T0 + timedelta(minutes=3)    # the carrier's outcome as stored on the attempt
ARN = "arn:aws:connect:us-east-1:111111111111:instance/abc"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _campaign() -> Campaign:
    return Campaign(campaign_id="c1", name="C", mode=CampaignMode.PROGRESSIVE, queue_id="sales",
                    caller_id="+12125550199", status=CampaignStatus.RUNNING, debt_collection=True)


def _row() -> ContactListRow:
    return ContactListRow(row_id="r1", account_id="A1",
                          phones=(PhoneEntry(number=NUMBER, zones=("America/New_York",), zone_source="row"),),
                          consent_automated_voice=ConsentFlag(granted=True, source="web"))


def _dialed(at: datetime = T0, **attempt) -> tuple:
    """Campaign c1 (collecting a debt), row r1 and one attempt on it started at `at`: (deps, the attempt)."""
    deps = memory_dependencies()
    store = deps.outbound
    store.put_campaign(T, _campaign(), expected_version=None)
    (row,) = parse_csv(f"row_id,phone,time_zone,account_id\nr1,{NUMBER},America/New_York,A1\n").rows
    store.put_rows(T, "c1", [row], at)
    att = Attempt(attempt_id=new_attempt_id(at, 0), campaign_id="c1", row_id="r1", account_id="A1",
                  number=row.numbers[0], started_at=at, **attempt)
    store.start_attempt(AttemptRecord(tenant_id=T, attempt=att, dial_mode=CampaignMode.PROGRESSIVE, campaign_version=1),
                        store.get_row(T, "c1", "r1"), next_due_at=at,
                        ledgers=[store.ledger(T, k, v) for k, v in ledger_keys(att)])
    return deps, att


def _agent_contact(deps, att: Attempt, *, disconnected: datetime | None = None) -> None:
    deps.store.save(contacts=[Contact(
        tenant_id=T, contact_id="k1", channel=Channel.VOICE, queue_id="sales", state=ContactState.ACW,
        initiation_method=InitiationMethod.OUTBOUND, agent_id="ana", initiated_at=_ms(att.started_at),
        connected_at=_ms(att.started_at + timedelta(seconds=20)),
        disconnected_at=_ms(disconnected) if disconnected else None,
        attributes={"campaign_id": "c1", "row_id": "r1", "attempt_id": att.attempt_id})])


def _callback(deps, at: datetime, posted: datetime):
    deps.clock.now = _ms(posted)
    return outbound.dispose_contact(deps, T, "k1", outbound.DispositionRequest(
        disposition="callback_requested", callback_at=at))


def _seven_calls_before(at: datetime) -> list[Attempt]:
    """Seven counted calls about the debt (another campaign) in the day before `at`."""
    return [Attempt(attempt_id=f"o{i}", campaign_id="c2", row_id="x", account_id="A1", number="+12125550111",
                    started_at=at - timedelta(hours=23) + timedelta(minutes=20 * i), disposition=Disposition.NO_ANSWER)
            for i in range(7)]


def test_a_disposition_posted_days_late_dates_the_consent_from_the_call_and_the_8th_call_is_blocked():
    deps, att = _dialed()
    deps.outbound.finish_attempt(T, "c1", "r1", att.attempt_id, disposition=Disposition.ANSWERED, at=ANSWERED_AT)
    _agent_contact(deps, att)
    callback_at = T0 + timedelta(days=8)  # Tuesday next week, 11:00 in New York
    done = _callback(deps, callback_at, posted=T0 + timedelta(days=5))  # the agent records it on Saturday
    assert done.attempt.callback.requested_at == ANSWERED_AT  # not Saturday's POST

    history = InMemoryHistory([*deps.outbound.record_attempts(T, "c1", "r1"), *_seven_calls_before(callback_at)])
    decision = check_attempt(deps.outbound.get_campaign(T, "c1"), _row(), NUMBER, callback_at, history, SuppressionSet())
    # the consent is 8 days old at the callback: an ordinary call, the 8th in 7 days
    assert not decision.allowed and not decision.direct_consent
    assert CheckName.REG_F_7_IN_7 in decision.failed

    # the control: the same disposition posted right after the call leaves the consent fresh at a callback 6 days on
    deps, att = _dialed()
    deps.outbound.finish_attempt(T, "c1", "r1", att.attempt_id, disposition=Disposition.ANSWERED, at=ANSWERED_AT)
    _agent_contact(deps, att)
    soon = T0 + timedelta(days=6)
    _callback(deps, soon, posted=ANSWERED_AT + timedelta(minutes=2))
    history = InMemoryHistory([*deps.outbound.record_attempts(T, "c1", "r1"), *_seven_calls_before(soon)])
    fresh = check_attempt(deps.outbound.get_campaign(T, "c1"), _row(), NUMBER, soon, history, SuppressionSet())
    assert fresh.allowed and fresh.direct_consent


def test_before_the_carrier_outcome_the_consent_dates_from_the_contact_end_never_from_before_the_dial():
    deps, att = _dialed()
    _agent_contact(deps, att, disconnected=T0 + timedelta(minutes=4))  # no outcome stored yet (a CTR comes later)
    done = _callback(deps, T0 + timedelta(days=2), posted=T0 + timedelta(hours=20))
    assert done.attempt.callback.requested_at == T0 + timedelta(minutes=4)

    deps, att = _dialed()
    _agent_contact(deps, att, disconnected=T0 - timedelta(days=3))  # a contact clock gone wrong: the dial bounds it
    done = _callback(deps, T0 + timedelta(days=2), posted=T0 + timedelta(hours=20))
    assert done.attempt.callback.requested_at == T0


def test_a_callback_more_than_30_days_after_the_call_is_refused_naming_callback_at_and_nothing_is_written():
    deps, att = _dialed()
    deps.outbound.finish_attempt(T, "c1", "r1", att.attempt_id, disposition=Disposition.ANSWERED, at=ANSWERED_AT)
    _agent_contact(deps, att)
    due = deps.outbound.get_row(T, "c1", "r1").next_due_at
    # 32 days after the call, 27 after the POST: within 30 days of the POST, not of the consent
    with pytest.raises(DomainError) as refused:
        _callback(deps, T0 + timedelta(days=32), posted=T0 + timedelta(days=5))
    assert refused.value.field == "callback_at"
    held = deps.outbound.get_attempt(T, "c1", "r1", att.attempt_id)
    assert held.attempt.disposition is Disposition.ANSWERED and held.attempt.callback is None
    assert deps.outbound.get_row(T, "c1", "r1").next_due_at == due


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_callback_whose_connect_agent_came_late_starts_the_quiet_period_for_the_next_ordinary_call():
    placed = datetime(2026, 6, 11, 22, tzinfo=UTC)  # Thursday 18:00 in New York: the requested callback
    deps, att = _dialed(placed, direct_consent=True, callback_of="a-req")
    deps.config.connect_instances[ARN] = T
    ended = placed + timedelta(minutes=5)
    ctr = {"InstanceARN": ARN, "InitiationMethod": "OUTBOUND", "Channel": "VOICE", "ContactId": "ct-1",
           "Attributes": {"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                          "ccaas_attempt_id": att.attempt_id},
           "InitiationTimestamp": _iso(placed), "ConnectedToSystemTimestamp": _iso(placed + timedelta(seconds=10)),
           "Agent": {"ConnectedToAgentTimestamp": _iso(placed + timedelta(seconds=13))},  # 3 s: a drop for the cap
           "DisconnectTimestamp": _iso(ended)}
    done = outbound.record_ctr_outcome(deps, ctr)
    assert done.attempt.disposition is Disposition.ABANDONED and done.attempt.direct_consent

    since = placed - timedelta(days=1)
    assert deps.outbound.conversations(T, "account", "A1", since) == [ended]
    assert deps.outbound.conversations(T, "number", NUMBER, since) == [ended]
    history = InMemoryHistory(deps.outbound.record_attempts(T, "c1", "r1"),
                              conversations=[("A1", t) for t in deps.outbound.conversations(T, "account", "A1", since)])
    monday_noon = datetime(2026, 6, 15, 16, tzinfo=UTC)  # 3.7 days after the conversation
    decision = check_attempt(deps.outbound.get_campaign(T, "c1"), _row(), NUMBER, monday_noon, history, SuppressionSet())
    assert not decision.allowed and CheckName.REG_F_CONVERSATION in decision.failed
    quiet = next(c for c in decision.checks if c.name is CheckName.REG_F_CONVERSATION)
    assert quiet.clears_at == ended + timedelta(days=7)
