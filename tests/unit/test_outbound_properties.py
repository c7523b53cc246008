"""Property tests (hypothesis) of the outbound compliance checks, across random zones (multi-zone numbers,
Arizona and Hawaii without DST, half-hour and 30-minute-DST zones), random instants (DST transition days
included), random windows, blackouts, attempt histories and schedules:
- 0 allowed attempts outside 08:00-21:00 local in any candidate zone;
- next_allowed_at is really allowed, and nothing earlier is (when only the clock blocks);
- a loop that dials only when allowed produces 0 violations of Reg F 7-in-7 and the 7-day quiet period;
- 0 dials of a DNC or opted-out number, including an opt-out inserted mid-run.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaas.domain.outbound.compliance import (
    REG_F_MAX_CALLS,
    AbandonmentStats,
    InMemoryHistory,
    Suppression,
    SuppressionSet,
    check_attempt,
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
    PhoneEntry,
    RetryRule,
)
from local.testing import examples

UTC = timezone.utc
ZONE_SETS = [
    ("America/New_York",), ("America/Chicago",), ("America/Denver",), ("America/Phoenix",),
    ("America/Los_Angeles",), ("Pacific/Honolulu",), ("America/Anchorage", "America/Adak"),
    ("America/New_York", "America/Chicago"), ("America/Chicago", "America/Denver"),
    ("America/Boise", "America/Los_Angeles"), ("America/Phoenix", "America/Denver"),
    ("America/Indiana/Indianapolis", "America/Chicago"), ("America/St_Johns",), ("Europe/London",),
    ("Australia/Lord_Howe",), ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu"),
]
TRANSITIONS = [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
               datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
               datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, tzinfo=UTC),
               datetime(2027, 3, 14, 7, tzinfo=UTC)]
NUMBER = "+12125550134"

zones_st = st.sampled_from(ZONE_SETS)
instants = st.one_of(
    st.builds(lambda base, minutes: base + timedelta(minutes=minutes), st.sampled_from(TRANSITIONS),
              st.integers(-3 * 1440, 3 * 1440)),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
)
def _window(start: int, length: int, days: set[int]) -> CallingWindow | None:
    end = min(21 * 60, 8 * 60 + start + length)
    if end <= 8 * 60 + start:
        return None
    return CallingWindow(start=f"{(8 * 60 + start) // 60:02d}:{(8 * 60 + start) % 60:02d}",
                         end=f"{end // 60:02d}:{end % 60:02d}", weekdays=frozenset(days))


window_st = st.one_of(st.none(), st.builds(_window, st.integers(0, 12 * 60), st.integers(1, 13 * 60),
                                           st.sets(st.integers(1, 7), min_size=1)))
blackout_st = st.frozensets(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), max_size=6)


def campaign(window: CallingWindow | None = None, blackouts: frozenset[date] = frozenset(), **kw) -> Campaign:
    return Campaign(campaign_id=kw.pop("campaign_id", "c1"), name="p", mode=CampaignMode.PROGRESSIVE,
                    queue_id="q", caller_id="+12125550100", status=CampaignStatus.RUNNING, window=window,
                    blackout_dates=blackouts, **kw)


def row(zones: tuple[str, ...], row_id: str = "r1", account: str = "A1", number: str = NUMBER) -> ContactListRow:
    return ContactListRow(row_id=row_id, phones=(PhoneEntry(number=number, zones=zones, zone_source="number"),),
                          account_id=account, consent_automated_voice=ConsentFlag(granted=True))


def inside_statutory(at: datetime, zones: tuple[str, ...]) -> bool:
    for name in zones:
        local = at.astimezone(ZoneInfo(name))
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        if not 8 * 3600 <= seconds < 21 * 3600:
            return False
    return True


def only_time_blocks(decision) -> bool:
    return all(CheckName(name).time_based for name in decision.failed)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones=zones_st, at=instants, window=window_st, blackouts=blackout_st)
def test_never_allowed_outside_8_to_21_local_and_next_allowed_is_allowed(zones, at, window, blackouts):
    c, r = campaign(window, blackouts), row(zones)
    empty, none = InMemoryHistory(), SuppressionSet()
    decision = check_attempt(c, r, NUMBER, at, empty, none)
    if decision.allowed:
        assert inside_statutory(at, zones)
        if window is not None:
            for name in zones:
                local = at.astimezone(ZoneInfo(name))
                assert local.isoweekday() in window.weekdays
                assert window.start <= local.strftime("%H:%M") < window.end
        assert all(at.astimezone(ZoneInfo(z)).date() not in blackouts for z in zones)
        return
    assert only_time_blocks(decision)
    nxt = decision.next_allowed_at
    if nxt is None:
        return
    assert nxt > at
    assert inside_statutory(nxt, zones)
    assert check_attempt(c, r, NUMBER, nxt, empty, none).allowed
    # nothing earlier was allowed: probe a few instants between at and nxt (and just before nxt)
    span = (nxt - at).total_seconds()
    for fraction in (0.1, 0.5, 0.9, 0.999):
        probe = at + timedelta(seconds=span * fraction)
        assert not check_attempt(c, r, NUMBER, probe, empty, none).allowed
    assert not check_attempt(c, r, NUMBER, nxt - timedelta(seconds=1), empty, none).allowed


step = st.tuples(
    st.one_of(st.integers(1, 240), st.integers(1, 36 * 60)),  # minutes until the next try (often soon)
    st.integers(0, 2),                       # which row (rows 0 and 1 share the debt)
    st.integers(0, 1),                       # which campaign
    st.sampled_from([Disposition.NO_ANSWER] * 6 + [Disposition.BUSY, Disposition.VOICEMAIL,
                                                   Disposition.RIGHT_PARTY_CONTACT, Disposition.ANSWERED]),
    st.booleans(),                           # follow next_allowed_at when blocked by the clock only
    st.integers(0, 30),                      # 0 = the called party opts out (SMS STOP) now
    st.integers(0, 9),                       # 0 = a call with direct consent (not counted by Reg F)
)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones=zones_st, start=instants, steps=st.lists(step, min_size=5, max_size=45),
       dnc=st.sets(st.integers(0, 2), max_size=1))
def test_a_loop_that_dials_only_when_allowed_never_breaks_reg_f_hours_or_dnc(zones, start, steps, dnc):
    numbers = ["+12125550134", "+12125550135", "+12125550136"]
    rows = [row(zones, "r0", "A1", numbers[0]), row(zones, "r1", "A1", numbers[1]), row(zones, "r2", "A2", numbers[2])]
    fast = AttemptPolicy(max_attempts=50, min_gap_minutes=0, retry={d: RetryRule(after_minutes=0) for d in Disposition})
    campaigns = [campaign(policy=fast, campaign_id="c1"), campaign(policy=fast, campaign_id="c2")]
    history = InMemoryHistory()
    suppression = SuppressionSet([Suppression(kind="number", value=numbers[i], source="internal_dnc") for i in dnc])
    blocked_from: dict[str, datetime] = {numbers[i]: start for i in dnc}
    now = start
    for n, (minutes, index, which, disposition, follow, optout, consent) in enumerate(steps):
        now += timedelta(minutes=minutes)
        c, r = campaigns[which], rows[index]
        decision = check_attempt(c, r, r.numbers[0], now, history, suppression)
        if not decision.allowed and follow and decision.next_allowed_at is not None:
            now = decision.next_allowed_at
            decision = check_attempt(c, r, r.numbers[0], now, history, suppression)
        if decision.allowed:
            history.record(Attempt(attempt_id=f"a{n}", campaign_id=c.campaign_id, row_id=r.row_id,
                                   account_id=r.account_id, number=r.numbers[0], started_at=now,
                                   disposition=disposition if consent else Disposition.NO_ANSWER,
                                   direct_consent=consent == 0, checks=decision.checks))
        if optout == 0:
            suppression.add(Suppression(kind="number", value=r.numbers[0], source="sms_stop", at=now))
            blocked_from.setdefault(r.numbers[0], now)
    log = history.all_attempts()
    for a in log:
        assert inside_statutory(a.started_at, zones)
        assert not (a.number in blocked_from and a.started_at > blocked_from[a.number])  # opt-out came after
        assert a.checks and all(ch.passed for ch in a.checks)
    by_account: dict[str, list[Attempt]] = {}
    for a in log:
        by_account.setdefault(a.account_id or "", []).append(a)
    for attempts in by_account.values():
        counted = [a.started_at for a in attempts if not a.direct_consent]
        for t in counted:  # every rolling 7-day window ending at an attempt holds at most 7
            assert sum(1 for u in counted if t - timedelta(days=7) < u <= t) <= REG_F_MAX_CALLS
        talks = [a.started_at for a in attempts if a.disposition is Disposition.RIGHT_PARTY_CONTACT]
        for a in attempts:
            assert not any(t < a.started_at < t + timedelta(days=7) for t in talks)


@settings(max_examples=examples(60), deadline=None)
@given(zones=zones_st, at=instants, answered=st.integers(0, 5000), abandoned=st.integers(0, 300))
def test_a_predictive_dial_is_never_allowed_at_or_over_the_abandonment_cap(zones, at, answered, abandoned):
    c = campaign().model_copy(update={"mode": CampaignMode.PREDICTIVE})
    stats = AbandonmentStats(answered=answered, abandoned=min(abandoned, answered))
    d = check_attempt(c, row(zones), NUMBER, at, InMemoryHistory(), SuppressionSet(), abandonment=stats)
    if stats.rate >= c.max_abandon_rate:
        assert not d.allowed and CheckName.ABANDONMENT_RATE in d.failed
