"""The outbound store (OutboundStore): one suite, in memory and on (moto) AWS — the Outbound table exactly
as the template declares it."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from ccaas.domain.models import Conflict, NotFound
from ccaas.domain.outbound.compliance import Suppression
from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import (
    Attempt,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    CheckResult,
    ConsentFlag,
    Disposition,
)
from ccaas.ports_outbound import AttemptLedger, AttemptRecord, ConsentSeen, ledger_keys, new_attempt_id
from tests.outbound_on_stack import outbound_store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
UTC = timezone.utc
T0 = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "moto"])
def store(request, stack):
    return outbound_store(request.param, stack)


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _campaign(store, tenant, status=CampaignStatus.RUNNING, version=1, cid="c1") -> Campaign:
    campaign = Campaign(campaign_id=cid, name="C", mode=CampaignMode.PROGRESSIVE, queue_id="sales",
                        caller_id="+12125550199", status=status, version=version)
    store.put_campaign(tenant, campaign, expected_version=None if version == 1 else version - 1)
    return campaign


def _rows(store, tenant, n=3, at=T0, account=None):
    lines = "".join(f"r{i},+1212555{i:04d},America/New_York,{account or f'acct-{i}'},ana{i}@example.com\n" for i in range(n))
    parsed = parse_csv("row_id,phone,time_zone,account_id,email\n" + lines)
    assert parsed.accepted == n
    store.put_rows(tenant, "c1", parsed.rows, at)
    return parsed.rows


def _record(tenant, row, at, n=0, version=1, number=None) -> AttemptRecord:
    check = CheckResult(name=CheckName.CALLING_HOURS, passed=True, detail="in hours", facts={"zones": ["America/New_York"]})
    attempt = Attempt(attempt_id=new_attempt_id(at, n), campaign_id="c1", row_id=row.row_id, account_id=row.account_id,
                      number=number or row.numbers[0], started_at=at, checks=(check,))
    return AttemptRecord(tenant_id=tenant, attempt=attempt, dial_mode=CampaignMode.PROGRESSIVE, campaign_version=version)


def _start(store, record: AttemptRecord, row, *, next_due_at, consent: ConsentSeen | None = None) -> None:
    """Start the attempt as a dialer does: with its number's and its debt's ledgers as read now."""
    ledgers = [store.ledger(record.tenant_id, kind, value) for kind, value in ledger_keys(record.attempt)]
    store.start_attempt(record, row, next_due_at=next_due_at, ledgers=ledgers, consent=consent)


def test_campaign_writes_are_conditional_and_running_ones_are_listed(store, tenant):
    campaign = _campaign(store, tenant, status=CampaignStatus.DRAFT)
    with pytest.raises(Conflict):
        store.put_campaign(tenant, campaign, expected_version=None)
    assert store.get_campaign(tenant, "c1") == campaign
    running = campaign.model_copy(update={"status": CampaignStatus.RUNNING, "version": 2})
    with pytest.raises(Conflict):
        store.put_campaign(tenant, running, expected_version=5)
    store.put_campaign(tenant, running, expected_version=1)
    assert (tenant, "c1") in store.running_campaigns()
    store.put_campaign(tenant, running.model_copy(update={"status": CampaignStatus.PAUSED, "version": 3}), expected_version=2)
    assert (tenant, "c1") not in store.running_campaigns()
    assert [c.campaign_id for c in store.list_campaigns(tenant)] == ["c1"]
    with pytest.raises(NotFound):
        store.get_campaign(tenant, "nope")
    assert store.list_campaigns(f"{tenant}x") == []


def test_due_rows_come_from_the_due_index_earliest_first(store, tenant):
    _campaign(store, tenant)
    rows = _rows(store, tenant, n=4)
    assert [r.row.row_id for r in store.due_rows(tenant, "c1", T0, 10)] == ["r0", "r1", "r2", "r3"]
    assert store.due_rows(tenant, "c1", T0 - timedelta(seconds=1), 10) == []
    assert len(store.due_rows(tenant, "c1", T0, 2)) == 2
    r0 = store.get_row(tenant, "c1", "r0")
    assert r0.row == rows[0] and r0.state == "due" and r0.next_due_at == T0
    later = store.schedule_row(r0, next_due_at=T0 + timedelta(hours=2))
    done = store.schedule_row(store.get_row(tenant, "c1", "r1"), next_due_at=None, blocked_by=["suppression"])
    assert [r.row.row_id for r in store.due_rows(tenant, "c1", T0, 10)] == ["r2", "r3"]
    assert [r.row.row_id for r in store.due_rows(tenant, "c1", T0 + timedelta(hours=3), 10)] == ["r2", "r3", "r0"]
    assert store.get_row(tenant, "c1", "r1") == done and done.state == "done" and done.blocked_by == ("suppression",)
    with pytest.raises(Conflict):
        store.schedule_row(r0, next_due_at=T0)  # stale version
    assert store.get_row(tenant, "c1", "r0") == later


def test_start_attempt_is_atomic_with_the_row_the_campaign_and_the_suppressions(store, tenant):
    campaign = _campaign(store, tenant)
    rows = _rows(store, tenant, n=2)
    row = store.get_row(tenant, "c1", "r0")
    record = _record(tenant, rows[0], T0)
    _start(store, record, row, next_due_at=T0 + timedelta(minutes=10))
    assert store.get_attempt(tenant, "c1", "r0", record.attempt_id) == record
    assert store.record_attempts(tenant, "c1", "r0") == [record.attempt]
    assert store.get_row(tenant, "c1", "r0").next_due_at == T0 + timedelta(minutes=10)
    with pytest.raises(Conflict):  # the row moved on: a second dialer lost
        _start(store, _record(tenant, rows[0], T0, n=1), row, next_due_at=T0)
    # a suppression of the row's e-mail appears after the check: nothing is written
    row1 = store.get_row(tenant, "c1", "r1")
    store.add_suppressions(tenant, [Suppression(kind="email", value="ANA1@example.com", source="api")])
    with pytest.raises(Conflict):
        _start(store, _record(tenant, rows[1], T0, n=2), row1, next_due_at=T0)
    assert store.record_attempts(tenant, "c1", "r1") == [] and store.get_row(tenant, "c1", "r1") == row1
    # the campaign's rules changed (version 2) since the check made under version 1
    store.put_campaign(tenant, campaign.model_copy(update={"version": 2}), expected_version=1)
    store.add_suppressions(tenant, [])
    with pytest.raises(Conflict):
        _start(store, _record(tenant, rows[0], T0 + timedelta(minutes=1), n=3),
                            store.get_row(tenant, "c1", "r0"), next_due_at=T0)
    _start(store, _record(tenant, rows[0], T0 + timedelta(minutes=1), n=4, version=2),
                        store.get_row(tenant, "c1", "r0"), next_due_at=T0)
    assert len(store.record_attempts(tenant, "c1", "r0")) == 2


def test_start_attempt_stores_only_while_the_consent_the_check_read_is_unchanged(store, tenant):
    """An automated dial's check read the number's consent record; a revocation (or any new record) written
    after that read and before the attempt's write makes the write a Conflict: nothing stored, nothing dialed."""
    _campaign(store, tenant)
    rows = _rows(store, tenant, n=2)
    number = rows[0].numbers[0]
    row0 = store.get_row(tenant, "c1", "r0")
    # the check read no record; a revocation arrives before the write
    store.put_consent(tenant, number, "voice", ConsentFlag(granted=False, source="sms_stop", at=T0))
    with pytest.raises(Conflict):
        _start(store, _record(tenant, rows[0], T0), row0, next_due_at=T0, consent=ConsentSeen(kind="voice", flag=None))
    # the check read a grant; a revocation replaces it before the write
    granted = ConsentFlag(granted=True, source="web", at=T0 + timedelta(seconds=1))
    store.put_consent(tenant, number, "voice", granted)
    store.put_consent(tenant, number, "voice", ConsentFlag(granted=False, source="ivr", at=T0 + timedelta(seconds=2)))
    with pytest.raises(Conflict):
        _start(store, _record(tenant, rows[0], T0, n=1), row0, next_due_at=T0, consent=ConsentSeen(kind="voice", flag=granted))
    assert store.record_attempts(tenant, "c1", "r0") == [] and store.get_row(tenant, "c1", "r0") == row0
    # the record the check read is the one on file: stored (a record of the other kind does not matter)
    latest = store.latest_consent(tenant, number, "voice")
    store.put_consent(tenant, number, "sms", ConsentFlag(granted=False, source="sms_stop", at=T0 + timedelta(seconds=3)))
    _start(store, _record(tenant, rows[0], T0, n=2), row0, next_due_at=T0, consent=ConsentSeen(kind="voice", flag=latest))
    # and a row whose number has no record, read as none, is stored too
    _start(store, _record(tenant, rows[1], T0, n=3), store.get_row(tenant, "c1", "r1"), next_due_at=T0,
           consent=ConsentSeen(kind="sms", flag=None))
    assert len(store.record_attempts(tenant, "c1", "r0")) == len(store.record_attempts(tenant, "c1", "r1")) == 1


def test_attempt_windows_per_account_number_and_campaign(store, tenant):
    _campaign(store, tenant)
    rows = _rows(store, tenant, n=3, account="debt-1")
    made = []
    for i, row in enumerate(rows):
        record = _record(tenant, row, T0 + timedelta(hours=i), n=i)
        _start(store, record, store.get_row(tenant, "c1", row.row_id), next_due_at=T0)
        made.append(record)
    assert [a.attempt_id for a in store.account_attempts(tenant, "debt-1", T0 - timedelta(days=7))] == [m.attempt_id for m in made]
    assert [a.row_id for a in store.account_attempts(tenant, "debt-1", T0 + timedelta(minutes=30))] == ["r1", "r2"]
    assert store.account_attempts(tenant, "debt-2", T0 - timedelta(days=7)) == []
    assert [a.row_id for a in store.number_attempts(tenant, rows[1].numbers[0], T0 - timedelta(days=1))] == ["r1"]
    listed = store.campaign_attempts(tenant, "c1", since=T0)
    assert listed == made
    assert store.campaign_attempts(tenant, "c1", since=T0 + timedelta(minutes=30)) == made[1:]
    assert store.campaign_attempts(tenant, "c1", since=T0, until=T0 + timedelta(hours=1)) == made[:1]
    assert store.campaign_attempts(tenant, "c1", since=T0, after=made[0].attempt_id, limit=1) == made[1:2]


def test_ledgers_move_one_version_an_attempt_and_a_stale_one_stores_nothing(store, tenant):
    """Two dialers that checked one debt (or one number) against the same ledger versions: the first attempt is
    stored, the second is a Conflict that writes nothing (no attempt; the row and the ledgers as they were)."""
    _campaign(store, tenant)
    rows = _rows(store, tenant, n=3, account="debt-1")
    debt, number = store.ledger(tenant, "account", "debt-1"), store.ledger(tenant, "number", rows[0].numbers[0])
    assert (debt.version, debt.attempts, number.version) == (0, (), 0)
    first = _record(tenant, rows[0], T0)
    store.start_attempt(first, store.get_row(tenant, "c1", "r0"), next_due_at=T0, ledgers=[number, debt])
    debt = store.ledger(tenant, "account", "debt-1")
    assert debt.version == 1 and debt.attempts == (first.attempt.model_copy(update={"checks": ()}),)
    assert store.ledger(tenant, "number", rows[0].numbers[0]).version == 1
    row1 = store.get_row(tenant, "c1", "r1")
    stale = store.ledger(tenant, "account", "debt-1").model_copy(update={"version": 0, "attempts": ()})
    other_number = store.ledger(tenant, "number", rows[1].numbers[0])
    with pytest.raises(Conflict):  # checked against the debt before the first attempt: another dialer moved it
        store.start_attempt(_record(tenant, rows[1], T0, n=1), row1, next_due_at=T0, ledgers=[other_number, stale])
    # the first row's number, called by another row (two debts of one person), against its empty ledger
    shared = _record(tenant, rows[1], T0, n=2, number=rows[0].numbers[0])
    with pytest.raises(Conflict):
        store.start_attempt(shared, row1, next_due_at=T0, ledgers=[AttemptLedger(kind="number", value=rows[0].numbers[0]), debt])
    assert store.record_attempts(tenant, "c1", "r1") == [] and store.get_row(tenant, "c1", "r1") == row1
    assert store.ledger(tenant, "account", "debt-1") == debt
    assert store.ledger(tenant, "number", rows[1].numbers[0]).version == 0
    for ledgers in ([other_number], [debt], [other_number, debt, debt], [store.ledger(tenant, "account", "debt-2"), other_number]):
        with pytest.raises(ValueError):  # an attempt is started with exactly its number's and its debt's ledgers
            store.start_attempt(_record(tenant, rows[1], T0, n=3), row1, next_due_at=T0, ledgers=ledgers)
    # eight days on, the first attempt has left both windows: a ledger keeps only what the checks need
    later = _record(tenant, rows[1], T0 + timedelta(days=8), n=4, number=rows[0].numbers[0])
    _start(store, later, row1, next_due_at=T0)
    assert [(ledger.version, [a.attempt_id for a in ledger.attempts]) for ledger in (
        store.ledger(tenant, "account", "debt-1"), store.ledger(tenant, "number", rows[0].numbers[0]))] == [
        (2, [later.attempt_id]), (2, [later.attempt_id])]
    assert store.ledger(f"{tenant}x", "account", "debt-1").version == 0  # another tenant's debt of the same id


def test_a_disposition_is_set_once_then_refined_once_from_answered(store, tenant):
    _campaign(store, tenant)
    (row,) = _rows(store, tenant, n=1)
    record = _record(tenant, row, T0)
    _start(store, record, store.get_row(tenant, "c1", "r0"), next_due_at=T0)
    answered = store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ANSWERED,
                                    at=T0 + timedelta(seconds=9), contact_id="k1", ring_seconds=9.0)
    assert answered.contact_id == "k1" and answered.attempt.ring_seconds == 9.0
    assert store.get_attempt(tenant, "c1", "r0", record.attempt_id) == answered
    refined = store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.RIGHT_PARTY_CONTACT,
                                   at=T0 + timedelta(minutes=3))
    assert refined.attempt.disposition is Disposition.RIGHT_PARTY_CONTACT and refined.contact_id == "k1"
    with pytest.raises(Conflict):
        store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.OPTED_OUT, at=T0)
    assert store.account_attempts(tenant, row.account_id, T0 - timedelta(days=1))[0].disposition is Disposition.RIGHT_PARTY_CONTACT


def test_a_disposition_and_its_counters_are_one_write(store, tenant):
    """Counted apart, a failure between the two left the counters short for good: the retry finds the disposition
    set (pacing's abandonment rate and the 3 % cap read these counters)."""
    _campaign(store, tenant)
    (row,) = _rows(store, tenant, n=1)
    record = _record(tenant, row, T0)
    _start(store, record, store.get_row(tenant, "c1", "r0"), next_due_at=T0)
    day = T0.astimezone(timezone.utc).date().isoformat()
    store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ABANDONED, at=T0,
                         counts={"outcome.abandoned": 1})
    with pytest.raises(Conflict):  # a repeated outcome: nothing written, nothing counted
        store.finish_attempt(tenant, "c1", "r0", record.attempt_id, disposition=Disposition.ABANDONED, at=T0,
                             counts={"outcome.abandoned": 1})
    assert store.day_counts(tenant, "c1", day, day) == {day: {"outcome.abandoned": 1}}


def test_counters_add_per_day(store, tenant):
    store.add_counts(tenant, "c1", "2025-11-24", {"attempts": 2, "blocked.consent": 1})
    store.add_counts(tenant, "c1", "2025-11-24", {"attempts": 3, "outcome.answered": 1})
    store.add_counts(tenant, "c1", "2025-11-25", {"attempts": 1})
    assert store.day_counts(tenant, "c1", "2025-11-24", "2025-11-25") == {
        "2025-11-24": {"attempts": 5, "blocked.consent": 1, "outcome.answered": 1}, "2025-11-25": {"attempts": 1}}
    assert store.day_counts(tenant, "c1", "2025-11-25", "2025-11-30") == {"2025-11-25": {"attempts": 1}}


def test_suppressions_match_number_email_and_account_and_keep_the_first_entry(store, tenant):
    store.add_suppressions(tenant, [Suppression(kind="number", value="+12125550100", source="internal_dnc"),
                                    Suppression(kind="email", value="Opt.Out@Example.com", source="sms_stop"),
                                    Suppression(kind="account", value="acct-9", source="agent")])
    store.add_suppressions(tenant, [Suppression(kind="number", value="+12125550100", source="api")])
    assert store.match_suppression(tenant, "+12125550100", None, None).source == "internal_dnc"
    assert store.match_suppression(tenant, "+12125550111", "opt.out@example.COM", None).source == "sms_stop"
    assert store.match_suppression(tenant, "+12125550111", None, "acct-9").kind == "account"
    assert store.match_suppression(tenant, "+12125550111", "other@example.com", "acct-1") is None
    assert store.match_suppression(f"{tenant}x", "+12125550100", None, None) is None  # tenant first


def test_the_latest_consent_wins_and_a_revocation_wins_a_tie(store, tenant):
    number = "+12125550100"
    granted = ConsentFlag(granted=True, source="web", at=T0)
    store.put_consent(tenant, number, "voice", granted)
    store.put_consent(tenant, number, "voice", ConsentFlag(granted=False, source="old", at=T0 - timedelta(days=1)))
    assert store.latest_consent(tenant, number, "voice") == granted
    revoked = ConsentFlag(granted=False, source="sms_stop", at=T0)
    store.put_consent(tenant, number, "voice", revoked)
    assert store.latest_consent(tenant, number, "voice") == revoked
    assert store.latest_consent(tenant, number, "sms") is None
