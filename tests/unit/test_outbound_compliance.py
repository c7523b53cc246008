"""Pre-dial compliance checks (ccaas.domain.outbound.compliance): hours in every zone, DST, blackouts,
stricter windows, Reg F 7-in-7 and the 7-day quiet period, DNC/opt-outs, consent, attempt policy,
the abandonment gate, and next_allowed_at."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ccaas.domain.outbound.compliance import (
    AbandonmentStats,
    ConsentLedger,
    InMemoryHistory,
    Suppression,
    SuppressionSet,
    abandonment_stats,
    check_attempt,
    next_time_allowed,
    effective_window,
    pacing_mode,
)
from ccaas.domain.outbound.models import (
    Attempt,
    AttemptPolicy,
    CallingWindow,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    ConsentFlag,
    ContactListRow,
    Disposition,
    RetryRule,
)
from tests.outbound_builders import NUMBER, NY, campaign, row

UTC = timezone.utc
LA = "America/Los_Angeles"
OTHER = "+12125550199"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def attempt(at: datetime, disposition: Disposition = Disposition.NO_ANSWER, *, campaign_id: str = "c1",
            row_id: str = "r1", number: str = NUMBER, account: str | None = "A1", consent: bool = False,
            n: list[int] = [0]) -> Attempt:  # noqa: B006 - a counter for unique ids
    n[0] += 1
    return Attempt(attempt_id=f"a{n[0]}", campaign_id=campaign_id, row_id=row_id, account_id=account, number=number,
                   started_at=at, disposition=disposition, direct_consent=consent)


def decide(c: Campaign | None = None, r: ContactListRow | None = None, at: datetime = utc(2026, 6, 10, 15),
           history: InMemoryHistory | None = None, suppression: SuppressionSet | None = None, number: str = NUMBER,
           **kw):
    return check_attempt(c or campaign(), r or row(), number, at, history or InMemoryHistory(),
                         suppression or SuppressionSet(), **kw)


def failed(decision) -> set[CheckName]:
    return set(decision.failed)


# --- calling hours -------------------------------------------------------------------------------
def test_allowed_inside_hours_with_every_check_recorded():
    d = decide(at=utc(2026, 6, 10, 15))  # 11:00 EDT
    assert d.allowed and d.next_allowed_at is None
    names = {c.name for c in d.checks}
    assert {CheckName.CALLING_HOURS, CheckName.SUPPRESSION, CheckName.CONSENT, CheckName.REG_F_7_IN_7,
            CheckName.REG_F_CONVERSATION, CheckName.MAX_ATTEMPTS} <= names
    hours = next(c for c in d.checks if c.name is CheckName.CALLING_HOURS)
    assert hours.facts["zones"] == [NY] and "2026-06-10T11:00:00-04:00" in hours.facts["local_times"][0]


def test_before_8_local_waits_until_8_local():
    d = decide(at=utc(2026, 6, 10, 11, 59))  # 07:59 EDT
    assert not d.allowed and failed(d) == {CheckName.CALLING_HOURS}
    assert d.next_allowed_at == utc(2026, 6, 10, 12)  # 08:00 EDT


def test_nine_pm_is_already_too_late_and_one_second_before_is_fine():
    assert decide(at=utc(2026, 6, 11, 0, 59, 59)).allowed  # 20:59:59 EDT
    late = decide(at=utc(2026, 6, 11, 1))  # 21:00 EDT
    assert not late.allowed and late.next_allowed_at == utc(2026, 6, 11, 12)


def test_multi_zone_number_takes_the_most_restrictive_window():
    d = decide(r=row(NY, LA), at=utc(2026, 6, 10, 13))  # 09:00 New York, 06:00 Los Angeles
    assert failed(d) == {CheckName.CALLING_HOURS}
    assert d.next_allowed_at == utc(2026, 6, 10, 15)  # 08:00 PDT
    evening = decide(r=row(NY, LA), at=utc(2026, 6, 11, 1, 30))  # 21:30 NY, 18:30 LA
    assert not evening.allowed and evening.next_allowed_at == utc(2026, 6, 11, 15)


def test_spring_forward_day_uses_the_days_own_offset():
    # 2026-03-08: clocks jump 02:00 -> 03:00 in New York; 08:00 EDT is 12:00 UTC (not 13:00).
    d = decide(at=utc(2026, 3, 8, 11, 30))
    assert not d.allowed and d.next_allowed_at == utc(2026, 3, 8, 12)
    assert decide(at=utc(2026, 3, 8, 12)).allowed
    assert not decide(at=utc(2026, 3, 7, 12, 30)).allowed  # the day before: 07:30 EST


def test_fall_back_day_and_arizona_without_dst():
    d = decide(at=utc(2026, 11, 1, 12, 30))  # 07:30 EST after the fall-back
    assert not d.allowed and d.next_allowed_at == utc(2026, 11, 1, 13)
    az = row("America/Phoenix")
    assert not decide(r=az, at=utc(2026, 7, 1, 14, 59)).allowed  # 07:59 MST in July
    assert decide(r=az, at=utc(2026, 7, 1, 15)).allowed
    hi = decide(r=row("Pacific/Honolulu"), at=utc(2026, 7, 1, 17))  # 07:00 HST
    assert hi.next_allowed_at == utc(2026, 7, 1, 18)


def test_no_zone_known_never_dials():
    d = decide(number="+13105550000")  # not a number of the row
    assert {CheckName.NUMBER, CheckName.CALLING_HOURS} <= failed(d) and d.next_allowed_at is None


def test_blackout_date_is_the_called_partys_local_date():
    c = campaign(blackout_dates=frozenset({date(2026, 7, 4)}))
    # 03:00 UTC on the 5th is still 20:00 on the 4th in Los Angeles
    d = decide(c, row(LA), at=utc(2026, 7, 5, 3))
    assert failed(d) == {CheckName.BLACKOUT_DATE}
    assert d.next_allowed_at == utc(2026, 7, 5, 15)  # 08:00 PDT on the 5th
    assert decide(c, row(NY), at=utc(2026, 7, 5, 15)).allowed


def test_state_window_and_weekdays_are_stricter():
    c = campaign(state_windows={"FL": CallingWindow(start="09:00", end="20:00")},
                 window=CallingWindow(weekdays=frozenset(range(1, 7))))  # no Sundays
    fl = row(NY, state="FL")
    d = decide(c, fl, at=utc(2026, 6, 10, 12, 30))  # Wed 08:30 EDT: federal ok, Florida not
    assert failed(d) == {CheckName.TENANT_WINDOW} and d.next_allowed_at == utc(2026, 6, 10, 13)
    sunday = decide(c, row(NY), at=utc(2026, 6, 14, 15))
    assert failed(sunday) == {CheckName.TENANT_WINDOW} and sunday.next_allowed_at == utc(2026, 6, 15, 12)


def test_windows_may_only_narrow_the_statutory_hours():
    with pytest.raises(ValidationError):
        CallingWindow(start="07:00", end="20:00")
    with pytest.raises(ValidationError):
        CallingWindow(start="09:00", end="21:30")
    with pytest.raises(ValidationError):
        CallingWindow(start="12:00", end="11:00")


def test_next_time_allowed_none_when_the_window_is_empty_across_zones():
    c = campaign(window=CallingWindow(start="08:00", end="09:00"))
    r = row(NY, LA)  # 08:00-09:00 New York never overlaps 08:00-09:00 Los Angeles
    window = effective_window(c, r)
    assert next_time_allowed(utc(2026, 6, 10, 12), [NY, LA], window, frozenset()) is None
    assert decide(c, r, at=utc(2026, 6, 10, 12)).next_allowed_at is None


# --- Reg F -----------------------------------------------------------------------------------------
def test_seven_attempts_in_seven_days_per_debt_across_campaigns():
    now = utc(2026, 6, 10, 15)
    times = [now - timedelta(days=6, hours=20) + timedelta(hours=20 * k) for k in range(7)]
    history = InMemoryHistory([attempt(t, campaign_id="other", row_id="x") for t in times])
    d = decide(history=history, at=now)
    assert failed(d) == {CheckName.REG_F_7_IN_7}
    check = next(c for c in d.checks if c.name is CheckName.REG_F_7_IN_7)
    assert check.facts["counted"] == 7 and check.clears_at == times[0] + timedelta(days=7)
    assert d.next_allowed_at == times[0] + timedelta(days=7)  # 11:00 EDT the next day: inside the window
    assert decide(history=history, at=d.next_allowed_at).allowed


def test_attempts_with_direct_consent_and_older_ones_do_not_count():
    now = utc(2026, 6, 10, 15)
    history = InMemoryHistory([attempt(now - timedelta(hours=h), consent=True, row_id="x") for h in range(1, 5)]
                              + [attempt(now - timedelta(days=7, minutes=1), row_id="x")]
                              + [attempt(now - timedelta(days=d), row_id="x") for d in range(1, 7)])
    d = decide(history=history, at=now)
    check = next(c for c in d.checks if c.name is CheckName.REG_F_7_IN_7)
    assert d.allowed and check.facts == {"counted": 6, "excluded_direct_consent": 4, "account_id": "A1"}


def test_seven_day_quiet_period_after_a_conversation():
    now = utc(2026, 6, 10, 15)
    talk = now - timedelta(days=3)
    d = decide(history=InMemoryHistory([attempt(talk, Disposition.RIGHT_PARTY_CONTACT, row_id="x")]), at=now)
    assert failed(d) == {CheckName.REG_F_CONVERSATION} and d.next_allowed_at == talk + timedelta(days=7)
    inbound = InMemoryHistory(conversations=[("A1", now - timedelta(days=6, hours=23))])
    d2 = decide(history=inbound, at=now)
    assert failed(d2) == {CheckName.REG_F_CONVERSATION}
    assert decide(history=inbound, at=now + timedelta(hours=1)).allowed


@pytest.mark.parametrize(("disposition", "quiet"), [
    (Disposition.ANSWERED, True),  # answered, reached an agent, nothing recorded: the collector talked to someone
    (Disposition.RIGHT_PARTY_CONTACT, True),
    (Disposition.WRONG_PARTY, False), (Disposition.VOICEMAIL, False), (Disposition.ABANDONED, False),
    (Disposition.NO_ANSWER, False),
])
def test_an_answered_call_nobody_disposed_starts_the_quiet_period(disposition, quiet):
    """Reg F 1006.14(b)(2)(i)(B): no call within 7 days after a telephone conversation about the debt. An agent
    who closes an answered collection call without an outcome leaves it ANSWERED; that used to let the debt be
    dialed again the next day (the ANSWERED retry rule, 24 h)."""
    now = utc(2026, 6, 10, 15)
    d = decide(history=InMemoryHistory([attempt(now - timedelta(days=1), disposition, row_id="x")]), at=now)
    assert (CheckName.REG_F_CONVERSATION in failed(d)) is quiet


def test_debt_collection_campaign_needs_the_debt():
    assert failed(decide(campaign(debt_collection=True), row(account=None))) == {
        CheckName.REG_F_7_IN_7, CheckName.REG_F_CONVERSATION}
    assert decide(campaign(), row(account=None)).allowed


# --- DNC, opt-out, consent ------------------------------------------------------------------------
@pytest.mark.parametrize("entry", [
    Suppression(kind="number", value=NUMBER, source="internal_dnc"),
    Suppression(kind="email", value="PAT@example.com", source="email_unsubscribe"),
    Suppression(kind="account", value="A1", source="api"),
])
def test_suppressed_by_number_email_or_account_never_waits(entry):
    d = decide(suppression=SuppressionSet([entry]))
    assert failed(d) == {CheckName.SUPPRESSION} and d.next_allowed_at is None


def test_opt_out_mid_campaign_applies_to_the_next_check():
    suppression = SuppressionSet()
    assert decide(suppression=suppression).allowed
    suppression.add(Suppression(kind="number", value=NUMBER, source="sms_stop"))
    d = decide(suppression=suppression)
    assert not d.allowed and next(c for c in d.checks if c.name is CheckName.SUPPRESSION).facts["source"] == "sms_stop"


def test_opted_out_disposition_blocks_even_without_a_list_entry():
    now = utc(2026, 6, 10, 15)
    history = InMemoryHistory([attempt(now - timedelta(days=8), Disposition.OPTED_OUT, campaign_id="old", row_id="z")])
    assert CheckName.SUPPRESSION in failed(decide(history=history, at=now))


def test_consent_required_for_automated_modes_not_for_preview():
    no_consent = row(consent=False)
    for mode in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE):
        d = decide(campaign(mode=mode), no_consent, abandonment=AbandonmentStats(answered=0, abandoned=0))
        assert failed(d) == {CheckName.CONSENT} and d.next_allowed_at is None
    agentless = campaign(mode=CampaignMode.AGENTLESS, agentless_message="This is Acme Bank.")
    assert failed(decide(agentless, row(consent=None))) == {CheckName.CONSENT}
    assert decide(campaign(mode=CampaignMode.PREVIEW), no_consent).allowed


def test_a_newer_revocation_wins_and_a_newer_grant_counts():
    ledger = ConsentLedger()
    ledger.put(NUMBER, "voice", ConsentFlag(granted=False, source="ivr", at=utc(2026, 6, 1)))
    assert failed(decide(consent=ledger)) == {CheckName.CONSENT}
    ledger.put(NUMBER, "voice", ConsentFlag(granted=True, source="web", at=utc(2026, 6, 5)))
    assert decide(r=row(consent=False), consent=ledger).allowed
    later = ConsentLedger()
    later.put(NUMBER, "voice", ConsentFlag(granted=True, source="web", at=utc(2026, 6, 20)))  # after `at`
    assert not decide(r=row(consent=None), consent=later).allowed


# --- attempt policy --------------------------------------------------------------------------------
def test_retry_by_disposition_and_min_gap():
    now = utc(2026, 6, 10, 15)
    busy = InMemoryHistory([attempt(now - timedelta(minutes=10), Disposition.BUSY)])
    d = decide(campaign(policy=AttemptPolicy(min_gap_minutes=0)), history=busy, at=now)
    assert failed(d) == {CheckName.RETRY_RULE} and d.next_allowed_at == now + timedelta(minutes=20)
    gap = decide(campaign(policy=AttemptPolicy(min_gap_minutes=60)), history=busy, at=now)
    assert failed(gap) == {CheckName.RETRY_RULE, CheckName.MIN_GAP} and gap.next_allowed_at == now + timedelta(minutes=50)
    rpc = InMemoryHistory([attempt(now - timedelta(days=20), Disposition.RIGHT_PARTY_CONTACT)])
    d2 = decide(history=rpc, at=now)
    assert failed(d2) == {CheckName.RETRY_RULE} and d2.next_allowed_at is None


def test_voicemail_retries_the_next_local_day_inside_the_window():
    now = utc(2026, 6, 10, 15)
    history = InMemoryHistory([attempt(now - timedelta(hours=1), Disposition.VOICEMAIL)])
    d = decide(r=row(LA), history=history, at=now + timedelta(hours=2))
    assert failed(d) == {CheckName.RETRY_RULE}
    assert d.next_allowed_at == utc(2026, 6, 11, 15)  # 08:00 PDT the next day


def test_a_retry_landing_after_nine_waits_for_the_next_morning():
    last = utc(2026, 6, 11, 0, 50)  # 20:50 EDT, busy: retry at 21:20 → next morning 08:00
    d = decide(history=InMemoryHistory([attempt(last, Disposition.BUSY)]), at=last + timedelta(minutes=5))
    assert d.next_allowed_at == utc(2026, 6, 11, 12)


def test_max_attempts_per_record_and_invalid_number_ends_only_that_number():
    now = utc(2026, 6, 10, 15)
    c = campaign(policy=AttemptPolicy(max_attempts=2, retry={Disposition.NO_ANSWER: RetryRule(after_minutes=0)}))
    two = InMemoryHistory([attempt(now - timedelta(hours=h)) for h in (3, 2)])
    d = decide(c, history=two, at=now)
    assert failed(d) == {CheckName.MAX_ATTEMPTS} and d.next_allowed_at is None
    invalid = InMemoryHistory([attempt(now - timedelta(hours=2), Disposition.INVALID_NUMBER)])
    r = row(numbers=(NUMBER, OTHER))
    assert failed(decide(c, r, history=invalid, at=now)) == {CheckName.NUMBER, CheckName.RETRY_RULE}
    assert decide(c, r, history=invalid, at=now, number=OTHER).allowed


def test_paused_campaign_waits_for_a_person():
    d = decide(campaign(status=CampaignStatus.PAUSED))
    assert failed(d) == {CheckName.CAMPAIGN_STATUS} and d.next_allowed_at is None


# --- abandonment gate ------------------------------------------------------------------------------
def test_predictive_over_the_abandonment_cap_must_dial_progressively():
    c = campaign(mode=CampaignMode.PREDICTIVE)
    over = AbandonmentStats(answered=1000, abandoned=30)
    assert pacing_mode(c, over) is CampaignMode.PROGRESSIVE
    assert pacing_mode(c, AbandonmentStats(answered=1000, abandoned=29)) is CampaignMode.PREDICTIVE
    assert failed(decide(c, abandonment=over)) == {CheckName.ABANDONMENT_RATE}
    assert decide(c, abandonment=over, dial_mode=CampaignMode.PROGRESSIVE).allowed
    assert failed(decide(c)) == {CheckName.ABANDONMENT_RATE}  # a predictive dial must bring the counts


def test_abandonment_stats_count_person_answers_in_30_days():
    now = utc(2026, 6, 10, 15)
    attempts = [attempt(now - timedelta(days=1), Disposition.ABANDONED),
                attempt(now - timedelta(days=2), Disposition.RIGHT_PARTY_CONTACT),
                attempt(now - timedelta(days=3), Disposition.NO_ANSWER),
                attempt(now - timedelta(days=31), Disposition.ABANDONED),
                attempt(now - timedelta(days=1), Disposition.ABANDONED, campaign_id="other")]
    stats = abandonment_stats(attempts, "c1", now)
    assert (stats.answered, stats.abandoned, stats.rate) == (2, 1, 0.5)


# --- rules change only the next check ---------------------------------------------------------------
def test_changed_rules_apply_to_the_next_check_and_decisions_are_frozen():
    at = utc(2026, 6, 10, 13)  # 09:00 EDT
    v1 = campaign()
    first = decide(v1, at=at)
    v2 = v1.model_copy(update={"window": CallingWindow(start="10:00", end="18:00"), "version": 2})
    second = decide(v2, at=at)
    assert first.allowed and not second.allowed and second.next_allowed_at == utc(2026, 6, 10, 14)
    assert first.allowed  # the earlier decision is a value: unchanged
    with pytest.raises(ValidationError):
        first.allowed = False  # type: ignore[misc]
    status = next(c for c in second.checks if c.name is CheckName.CAMPAIGN_STATUS)
    assert status.facts["version"] == 2


def test_models_reject_naive_times_and_loose_settings():
    with pytest.raises(ValidationError):
        Attempt(attempt_id="a", campaign_id="c", row_id="r", number=NUMBER, started_at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        campaign(mode=CampaignMode.AGENTLESS)  # no message
    with pytest.raises(ValidationError):
        campaign(max_abandon_rate=0.05)
    with pytest.raises(ValidationError):
        campaign(surprise=True)
    with pytest.raises(ValueError):
        decide(at=datetime(2026, 6, 10, 15))
