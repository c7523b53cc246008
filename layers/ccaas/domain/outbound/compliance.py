"""Pre-dial compliance (pure): `check_attempt` decides whether ONE dial of ONE number of a row may be
placed at instant `at`, and returns every rule's verdict with the facts it used.

Inputs are data or read-only views (ports implement them over storage; the in-memory classes below are
the reference implementations the tests and the simulation use):
- `AttemptHistory`: attempts per account (all campaigns: Reg F counts per debt, not per campaign), per
  record in this campaign, and telephone conversations about an account that were not dial attempts
  (e.g. the consumer called in).
- `SuppressionView`: the tenant's do-not-call list, imported lists and opt-outs from any channel, by
  number, e-mail or account. An opt-out is honoured as soon as the view shows it.
- `ConsentView` (optional): consent records newer than the list (a later grant or revocation).
- `AbandonmentStats` (predictive dials only): the campaign's rolling 30-day answered / abandoned counts.

Every check runs (no short-circuit) so an audit sees all verdicts. `Decision.next_allowed_at`:
None when allowed (dial now) or when a failed check does not clear by itself (DNC, consent, caps, a
paused campaign); otherwise the earliest instant at which every failed check has cleared AND the
time-based checks pass in every candidate zone (a campaign outside its hours waits, it does not fail).
Because the function reads only its inputs, a changed campaign rule applies to the next check only.

Conservative choices (documented in the package docstring): the 7-in-7 window is a rolling 168 h
(stricter than 7 calendar days), every call attempt counts except those made with direct consent (the
rule's "did not connect" exclusion is not used), the 7-day quiet period after a conversation is 168 h
from the conversation, and the calling window must hold in EVERY zone the number may be in.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from ccaas.domain.customers import normalise_email
from ccaas.domain.vocabulary import Frozen, Int
from ccaas.domain.outbound.zones import state_for_postal_code, states_for_number, states_for_zones
from ccaas.domain.outbound.models import (
    ABANDON_MESSAGE_WITHIN_S,
    Attempt,
    CallbackRequest,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    CheckResult,
    ConsentFlag,
    ContactListRow,
    Disposition,
    aware,
)

__all__ = [
    "AbandonmentStats", "AttemptHistory", "CallbackState", "ConsentLedger", "ConsentView", "Decision", "InMemoryHistory",
    "consent_channel", "consent_supersedes",
    "REG_F_MAX_CALLS", "REG_F_WINDOW", "Suppression", "SuppressionSet", "SuppressionView", "abandonment_gate",
    "email_suppression_key", "email_suppression_keys",
    "abandonment_stats", "agent_too_late", "callback_state", "candidate_zones", "pending_callback", "check_attempt", "effective_window", "next_time_allowed", "row_states",
    "pacing_mode", "time_allowed",
]

UTC = timezone.utc
REG_F_MAX_CALLS = 7                 # 12 CFR 1006.14(b)(2)(i)(A)
REG_F_WINDOW = timedelta(days=7)    # ... within 7 consecutive days; (B) 7 days after a conversation
ABANDON_WINDOW = timedelta(days=30)  # 47 CFR 64.1200(a)(7)(i): per campaign over a 30-day period
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
HORIZON_DAYS = 400                  # next_allowed_at looks this far ahead at most
_STATUTORY = (8 * 3600, 21 * 3600)  # seconds after local midnight: [08:00, 21:00)
NUMBER_SCOPED = frozenset({Disposition.INVALID_NUMBER, Disposition.WRONG_PARTY})  # end that number, not the row


# --- views ---------------------------------------------------------------------------------------
class AttemptHistory(Protocol):
    def account_attempts(self, account_id: str, since: datetime) -> Sequence[Attempt]:
        """Every call attempt about this account/debt (any campaign) started after `since`."""
        ...

    def record_attempts(self, campaign_id: str, row_id: str) -> Sequence[Attempt]:
        """Every attempt on this row in this campaign."""
        ...

    def conversations(self, account_id: str, since: datetime) -> Sequence[datetime]:
        """Telephone conversations with the person about this account after `since` that are NOT
        right-party-contact attempts already (e.g. an inbound call)."""
        ...

    def number_conversations(self, number: str, since: datetime) -> Sequence[datetime]:
        """Telephone conversations with the person on this number after `since` that are not attempts
        (an inbound call from it): a row naming the number gets the quiet period for its account."""
        ...


class Suppression(Frozen):
    kind: Literal["number", "email", "account"]
    value: str = Field(max_length=254)
    source: str = Field(default="internal_dnc", max_length=128, description="internal_dnc, list:<name>, sms_stop, agent, api")
    at: AwareDatetime | None = None


class SuppressionView(Protocol):
    def match(self, number: str, email: str | None, account_id: str | None) -> Suppression | None: ...


def email_suppression_key(value: str) -> str:
    """An e-mail as suppressions are kept and matched: read as the customer directory and list rows read one
    (customers.normalise_email: NFKC, lower case), so "JO@ＥＸＡＭＰＬＥ.com" suppresses a row "jo@example.com". A
    value that is no address (a suppression or a row stored before addresses were checked) by its NFKC lower case."""
    try:
        return normalise_email(value)
    except ValueError:
        return unicodedata.normalize("NFKC", value).strip().lower()


def email_suppression_keys(email: str | None) -> tuple[str, ...]:
    """The keys a row's e-mail is looked up by: its suppression key, and the lower case alone under which
    suppressions were kept before (one stored then keeps matching the rows it matched)."""
    if not email:
        return ()
    return tuple(dict.fromkeys(key for key in (email_suppression_key(email), email.lower()) if key))


class ConsentView(Protocol):
    def latest(self, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None: ...


class InMemoryHistory:
    """AttemptHistory over lists in memory (tests, simulation, the local runtime's twin)."""

    def __init__(self, attempts: Iterable[Attempt] = (), conversations: Iterable[tuple[str, datetime]] = (),
                 number_conversations: Iterable[tuple[str, datetime]] = ()):
        self._by_account: dict[str, list[Attempt]] = defaultdict(list)
        self._by_record: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
        self._conversations: dict[str, list[datetime]] = defaultdict(list)
        self._number_conversations: dict[str, list[datetime]] = defaultdict(list)
        for attempt in attempts:
            self.record(attempt)
        for account, at in conversations:
            self.add_conversation(account, at)
        for number, at in number_conversations:
            self.add_number_conversation(number, at)

    def record(self, attempt: Attempt) -> None:
        if attempt.account_id:
            self._by_account[attempt.account_id].append(attempt)
        self._by_record[(attempt.campaign_id, attempt.row_id)].append(attempt)

    def add_conversation(self, account_id: str, at: datetime) -> None:
        self._conversations[account_id].append(aware(at))

    def add_number_conversation(self, number: str, at: datetime) -> None:
        self._number_conversations[number].append(aware(at))

    def account_attempts(self, account_id: str, since: datetime) -> Sequence[Attempt]:
        return [a for a in self._by_account.get(account_id, ()) if a.started_at > since]

    def record_attempts(self, campaign_id: str, row_id: str) -> Sequence[Attempt]:
        return list(self._by_record.get((campaign_id, row_id), ()))

    def conversations(self, account_id: str, since: datetime) -> Sequence[datetime]:
        return [t for t in self._conversations.get(account_id, ()) if t > since]

    def number_conversations(self, number: str, since: datetime) -> Sequence[datetime]:
        return [t for t in self._number_conversations.get(number, ()) if t > since]

    def all_attempts(self) -> list[Attempt]:
        return sorted((a for v in self._by_record.values() for a in v), key=lambda a: a.started_at)


class SuppressionSet:
    """SuppressionView over dicts in memory; `add` takes effect for the very next check."""

    def __init__(self, entries: Iterable[Suppression] = ()):
        self._entries: dict[tuple[str, str], Suppression] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Suppression) -> None:
        value = email_suppression_key(entry.value) if entry.kind == "email" else entry.value
        self._entries.setdefault((entry.kind, value), entry)

    def match(self, number: str, email: str | None, account_id: str | None) -> Suppression | None:
        keys = [("number", number), *(("email", key) for key in email_suppression_keys(email)),
                ("account", account_id or "")]
        for key in keys:
            if key[1] and key in self._entries:
                return self._entries[key]
        return None


class ConsentLedger:
    """ConsentView in memory: the latest record per (number, kind)."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], ConsentFlag] = {}

    def put(self, number: str, kind: Literal["voice", "sms"], flag: ConsentFlag) -> None:
        current = self._latest.get((number, kind))
        if current is None or consent_supersedes(flag, current):
            self._latest[(number, kind)] = flag

    def latest(self, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None:
        return self._latest.get((number, kind))


def consent_supersedes(a: ConsentFlag, b: ConsentFlag) -> bool:
    """Consent record `a` supersedes `b`: later, or at the same (or unknown) time a revocation beats a
    grant; a timed record beats an untimed one. The one rule every consent store keeps."""
    ta, tb = a.at, b.at
    if ta is not None and tb is not None and ta != tb:
        return ta > tb
    if ta is not None and tb is None:
        return True
    if ta is None and tb is not None:
        return False
    return not a.granted and b.granted


class AbandonmentStats(Frozen):
    """A campaign's calls answered by a person and those dropped (abandoned), rolling 30 days."""

    answered: Int = Field(ge=0)
    abandoned: Int = Field(ge=0)

    @property
    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


def abandonment_stats(attempts: Iterable[Attempt], campaign_id: str, at: datetime) -> AbandonmentStats:
    since = aware(at) - ABANDON_WINDOW
    answered = abandoned = 0
    for a in attempts:
        if a.campaign_id == campaign_id and since < a.started_at <= at and a.disposition is not None:
            if a.disposition.human_answered:
                answered += 1
                abandoned += a.disposition is Disposition.ABANDONED
    return AbandonmentStats(answered=answered, abandoned=abandoned)


def agent_too_late(answered_at: datetime, agent_at: datetime) -> bool:
    """A call a person answered at `answered_at` whose agent connected at `agent_at` is an abandoned call: no live
    agent within ABANDON_MESSAGE_WITHIN_S of the greeting (47 CFR 64.1200(a)(7)), however long it then talked."""
    return (agent_at - answered_at).total_seconds() > ABANDON_MESSAGE_WITHIN_S


def abandonment_gate(campaign: Campaign, stats: AbandonmentStats | None) -> CheckResult:
    """May the dialer dial ahead of free agents? Only while the 30-day abandonment rate is under the cap."""
    if stats is None:
        return CheckResult(name=CheckName.ABANDONMENT_RATE, passed=False,
                           detail="a predictive dial needs the campaign's 30-day abandonment counts")
    facts = {"answered_30d": stats.answered, "abandoned_30d": stats.abandoned, "rate": round(stats.rate, 5),
             "limit": campaign.max_abandon_rate}
    if stats.rate >= campaign.max_abandon_rate:
        return CheckResult(name=CheckName.ABANDONMENT_RATE, passed=False, facts=facts,
                           detail=f"30-day abandonment {stats.rate:.2%} ≥ {campaign.max_abandon_rate:.2%}: "
                                  "dial progressively (one call per free agent)")
    return CheckResult(name=CheckName.ABANDONMENT_RATE, passed=True, facts=facts,
                       detail=f"30-day abandonment {stats.rate:.2%} < {campaign.max_abandon_rate:.2%}")


def pacing_mode(campaign: Campaign, stats: AbandonmentStats | None) -> CampaignMode:
    """The mode the pacer dials in now: a predictive campaign at or over its cap falls back to progressive."""
    if campaign.mode is CampaignMode.PREDICTIVE and not abandonment_gate(campaign, stats).passed:
        return CampaignMode.PROGRESSIVE
    return campaign.mode


# --- time ----------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)  # zoneinfo keeps only 8 loaded: a row's numbers may name dozens, each checked per tick


def candidate_zones(row: ContactListRow, number: str) -> tuple[str, ...]:
    entry = row.phone(number)
    return entry.zones if entry else ()


@dataclass(frozen=True)
class _Window:
    start_s: int
    end_s: int
    weekdays: frozenset[int]
    sources: tuple[str, ...]


def row_states(row: ContactListRow, number: str | None = None) -> tuple[str, ...]:
    """The US states the person called on `number` (None: any of the row's numbers) may be in: the row's `state`,
    its ZIP's, and the state of the number's area code (`+1 415`: CA; zones.states_for_number). When none of them
    is known (no state, no ZIP, a toll-free or foreign number), every state one of the number's zones is a zone of
    (a `time_zone` of America/Los_Angeles alone: CA, ID, NV, OR, WA): a state's window must not be missed because
    the list left the state out."""
    entries = [e for e in row.phones if number is None or e.number == number]
    postal = state_for_postal_code(row.postal_code) if row.postal_code else None
    known = [s for s in (row.state, postal) if s] + [s for e in entries for s in states_for_number(e.number)]
    if not known:
        known = list(states_for_zones([z for e in entries for z in e.zones]))
    return tuple(dict.fromkeys(known))


def effective_window(campaign: Campaign, row: ContactListRow, number: str | None = None) -> _Window:
    """The intersection of 08:00-21:00, the campaign's window and the window of every state the person may be in
    (`row_states`): all of them apply, so the strictest wins."""
    start, end, days, sources = _STATUTORY[0], _STATUTORY[1], frozenset(range(1, 8)), ["statutory 08:00-21:00"]
    windows = [("campaign", campaign.window)]
    if campaign.state_windows:
        windows += [(f"state {code}", campaign.state_windows[code]) for code in row_states(row, number)
                    if code in campaign.state_windows]
    for label, window in windows:
        if window is not None:
            start, end = max(start, window.start_minute * 60), min(end, window.end_minute * 60)
            days &= window.weekdays
            sources.append(f"{label} {window.start}-{window.end}")
    return _Window(start_s=start, end_s=end, weekdays=days, sources=tuple(sources))


def _seconds(local: datetime) -> int:
    return local.hour * 3600 + local.minute * 60 + local.second


def time_allowed(at: datetime, zones: Sequence[str], window: _Window, blackouts: frozenset[date]) -> bool:
    """Inside the window, on an allowed weekday, not a blackout date — in EVERY zone."""
    if not zones:
        return False
    for name in zones:
        local = at.astimezone(_zone(name))
        s = _seconds(local)
        if not window.start_s <= s < window.end_s:
            return False
        if local.isoweekday() not in window.weekdays or local.date() in blackouts:
            return False
    return True


def _wall_instants(day: date, seconds: int, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants a local wall time may denote (both folds: a skipped or repeated time gives two)."""
    wall = datetime.combine(day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60))
    return sorted({wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)})


def next_time_allowed(after: datetime, zones: Sequence[str], window: _Window, blackouts: frozenset[date],
                      horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """The earliest instant ≥ `after` that `time_allowed` accepts, None if none within the horizon (see
    `_next_time_allowed`). Remembered per arguments: a tick asks it for every blocked number at one instant, and
    rows repeat their zones (1,000 rows of ten 16-zone numbers: 1.3 s a tick, 0.17 s remembered)."""
    return _next_time_allowed(after, tuple(zones), window, frozenset(blackouts), horizon_days)


@lru_cache(maxsize=4096)
def _next_time_allowed(after: datetime, zones: tuple[str, ...], window: _Window, blackouts: frozenset[date],
                       horizon_days: int) -> datetime | None:
    """The earliest instant ≥ `after` that `time_allowed` accepts, None if none within the horizon.

    The allowed set is an intersection of per-zone daily windows, so it starts either at `after` or at a
    window start in one of the zones: those candidates are tried in time order and each is verified with
    `time_allowed` itself (a start skipped by a DST gap yields the instants on both sides of the gap)."""
    after = aware(after, "after").astimezone(UTC)
    if time_allowed(after, zones, window, blackouts):
        return after
    if not zones or window.end_s <= window.start_s or not window.weekdays:
        return None
    firsts = {name: after.astimezone(_zone(name)).date() for name in zones}
    done, span = 0, 8
    while done <= horizon_days:
        candidates = sorted(
            instant for name in zones for offset in range(done, span + 1)
            for instant in _wall_instants(firsts[name] + timedelta(days=offset), window.start_s, _zone(name))
            if instant > after)
        # A candidate of day offset k in any zone lies within (after + (k-2) d, after + (k+1) d): only those
        # before after + (span - 1) d are known to have no earlier candidate still ungenerated.
        bound = after + timedelta(days=span - 1)
        for instant in candidates:
            if instant >= bound:
                break
            if time_allowed(instant, zones, window, blackouts):
                return instant
        done, span = max(done, span - 2), min(span * 2, horizon_days + 2)
        if done >= horizon_days:
            break
    return None


def _next_local_day(after: datetime, zones: Sequence[str]) -> datetime:
    """The first instant at which the local date in every zone is later than at `after`."""
    out = after
    for name in zones:
        local = after.astimezone(_zone(name))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=_zone(name))
        out = max(out, midnight.astimezone(UTC))
    return out


# --- the decision --------------------------------------------------------------------------------
class Decision(Frozen):
    allowed: bool
    checks: tuple[CheckResult, ...]
    next_allowed_at: AwareDatetime | None = None
    callback_of: str | None = Field(default=None, description="allowed as the callback requested on this attempt")
    direct_consent: bool = Field(default=False, description="the attempt is made with the consumer's prior consent "
                                 "given directly (a requested callback): stored with it, not counted by Reg F")

    @property
    def failed(self) -> tuple[CheckName, ...]:
        return tuple(c.name for c in self.checks if not c.passed)


# --- requested callbacks ---------------------------------------------------------------------------
class CallbackState(Frozen):
    """A row's latest requested callback as the API shows it: pending (not placed yet, its grace not over), placed
    (the attempt `placed_attempt_id` is it) or lapsed (its grace passed without it: the normal rules apply)."""

    attempt_id: str = Field(description="the attempt in whose conversation the person asked for it")
    number: str
    at: AwareDatetime
    requested_at: AwareDatetime
    until: AwareDatetime = Field(description="the end of its grace")
    status: Literal["pending", "placed", "lapsed"]
    placed_attempt_id: str | None = None


def pending_callback(record: Sequence[Attempt]) -> tuple[Attempt, CallbackRequest] | None:
    """The callback requested on the row's LAST attempt (oldest first), if it is one: only the next attempt fulfils
    it, so one placed (or any attempt since) leaves nothing pending."""
    last = record[-1] if record else None
    if last is None or last.disposition is not Disposition.CALLBACK_REQUESTED or last.callback is None:
        return None
    return last, last.callback


def callback_state(record: Sequence[Attempt], at: datetime) -> CallbackState | None:
    """The row's latest requested callback at `at` (None when none was ever requested)."""
    ordered = sorted(record, key=lambda a: a.started_at)
    index = next((i for i in range(len(ordered) - 1, -1, -1) if ordered[i].callback is not None), None)
    if index is None:
        return None
    request, callback = ordered[index], ordered[index].callback
    assert callback is not None
    after = ordered[index + 1] if index + 1 < len(ordered) else None
    placed = after if after is not None and after.callback_of == request.attempt_id else None
    status: Literal["pending", "placed", "lapsed"] = (
        "placed" if placed else "lapsed" if after is not None or at >= callback.until else "pending")
    return CallbackState(attempt_id=request.attempt_id, number=request.number, at=callback.at,
                         requested_at=callback.requested_at, until=callback.until, status=status,
                         placed_attempt_id=placed.attempt_id if placed else None)


def consent_channel(campaign: Campaign, mode: CampaignMode | None = None) -> Literal["voice", "sms"]:
    """Which consent an automated contact of `campaign` needs: texts for an agentless SMS campaign, else calls."""
    return "sms" if (mode or campaign.mode) is CampaignMode.AGENTLESS and campaign.channel == "sms" else "voice"


def _result(name: CheckName, passed: bool, detail: str, clears_at: datetime | None = None,
            **facts: object) -> CheckResult:
    return CheckResult(name=name, passed=passed, detail=detail[:512], facts=facts,  # type: ignore[arg-type]
                       clears_at=None if passed else clears_at)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def check_attempt(campaign: Campaign, row: ContactListRow, number: str, at: datetime, history: AttemptHistory,
                  suppression: SuppressionView, consent: ConsentView | None = None, *,
                  dial_mode: CampaignMode | None = None, abandonment: AbandonmentStats | None = None) -> Decision:
    """May `number` of `row` be dialed for `campaign` at `at`? See the module docstring.

    `dial_mode`: how the pacer is dialing this call (default: the campaign's mode). A predictive campaign
    over its abandonment cap must dial progressively (`pacing_mode`); a predictive dial then fails."""
    at = aware(at).astimezone(UTC)
    mode = dial_mode or campaign.mode
    checks: list[CheckResult] = []
    entry = row.phone(number)
    zones = entry.zones if entry else ()
    record = sorted((a for a in history.record_attempts(campaign.campaign_id, row.row_id) if a.started_at <= at),
                    key=lambda a: a.started_at)
    # A callback the person asked for on the row's last attempt, on this number: due in [at, until), ahead before.
    # Direct consent (Reg F 1006.14(b)(3)(i)) waives the 7-in-7 count and the quiet period of the conversations up
    # to the request, for that one attempt, only while the consent is at most 7 days old (conservative: a later
    # callback is placed at its time under the ordinary counts; the quiet period has ended by then anyway).
    pending = pending_callback(record)
    request, callback = pending if pending else (None, None)
    mine = request is not None and request.number == number
    callback_due = callback is not None and mine and callback.at <= at < callback.until
    callback_ahead = callback is not None and mine and at < callback.at
    consent_fresh = callback is not None and max(at, callback.at) - callback.requested_at < REG_F_WINDOW
    waive = (callback_due or callback_ahead) and consent_fresh

    # campaign status: only a running campaign dials (a paused one waits for a person, not for the clock)
    checks.append(_result(CheckName.CAMPAIGN_STATUS, campaign.status is CampaignStatus.RUNNING,
                          f"campaign is {campaign.status}", status=str(campaign.status), version=campaign.version))

    # the number: one of the row's parsed numbers, not ended by an earlier invalid/wrong-party disposition
    ended = next((a for a in record if a.number == number and a.disposition in NUMBER_SCOPED), None)
    if entry is None:
        checks.append(_result(CheckName.NUMBER, False, "not a parsed number of this row", number=number))
    elif ended is not None:
        checks.append(_result(CheckName.NUMBER, False, f"number ended by an earlier {ended.disposition}",
                              number=number, attempt_id=ended.attempt_id))
    else:
        checks.append(_result(CheckName.NUMBER, True, "parsed and valid", number=number,
                              zone_source=entry.zone_source))

    # suppression: DNC lists, opt-outs from any channel, and opted-out dispositions in the history
    hit = suppression.match(number, row.email, row.account_id)
    opted = next((a for a in record if a.disposition is Disposition.OPTED_OUT), None)
    if opted is None and row.account_id:
        opted = next((a for a in history.account_attempts(row.account_id, _EPOCH)
                      if a.disposition is Disposition.OPTED_OUT and a.started_at <= at), None)
    if hit is not None:
        checks.append(_result(CheckName.SUPPRESSION, False, f"suppressed by {hit.kind} ({hit.source})",
                              kind=hit.kind, source=hit.source))
    elif opted is not None:
        checks.append(_result(CheckName.SUPPRESSION, False, "opted out on an earlier attempt",
                              attempt_id=opted.attempt_id))
    else:
        checks.append(_result(CheckName.SUPPRESSION, True, "not on any suppression list"))

    # consent: automated dialing (progressive, predictive, agentless) needs prior express consent
    if not mode.automated:
        checks.append(_result(CheckName.CONSENT, True, "preview: the agent dials manually (not an automated call)",
                              mode=str(mode)))
    else:
        kind = consent_channel(campaign, mode)
        listed = row.consent_automated_sms if kind == "sms" else row.consent_automated_voice
        flags = [f for f in (listed, consent.latest(number, kind) if consent else None) if f]
        best = None
        for flag in flags:
            if best is None or consent_supersedes(flag, best):
                best = flag
        granted = best is not None and best.granted and (best.at is None or best.at <= at)
        what = "text" if kind == "sms" else "call"
        checks.append(_result(
            CheckName.CONSENT, granted,
            f"automated-{what} consent on record" if granted else f"no prior express consent for automated {what}s",
            mode=str(mode), channel=kind, source=best.source if best else None,
            given_at=_iso(best.at) if best and best.at else None))

    # calling hours: 08:00-21:00 local in every candidate zone; the tenant's and the state's stricter windows
    window = effective_window(campaign, row, number)
    statutory = _Window(start_s=_STATUTORY[0], end_s=_STATUTORY[1], weekdays=frozenset(range(1, 8)),
                        sources=("statutory",))
    local_times = [f"{z} {at.astimezone(_zone(z)).isoformat()}" for z in zones]
    hours_ok = time_allowed(at, zones, statutory, frozenset())
    checks.append(_result(CheckName.CALLING_HOURS, hours_ok,
                          "08:00-21:00 local in every zone" if hours_ok else
                          ("no time zone known" if not zones else "outside 08:00-21:00 local in some zone"),
                          zones=list(zones), local_times=local_times))
    # the tenant's and the state's windows (inside 08:00-21:00 by construction); none = nothing stricter
    tenant = window if len(window.sources) > 1 else None
    tenant_ok = tenant is None or time_allowed(at, zones, tenant, frozenset())
    checks.append(_result(CheckName.TENANT_WINDOW, tenant_ok,
                          "; ".join(window.sources[1:])[:512] if tenant else "no stricter window",
                          start_s=window.start_s, end_s=window.end_s, weekdays=[str(d) for d in sorted(window.weekdays)],
                          state=row.state, states=list(row_states(row, number))))
    local_dates = sorted({at.astimezone(_zone(z)).date().isoformat() for z in zones})
    blacked = [d for d in local_dates if date.fromisoformat(d) in campaign.blackout_dates]
    checks.append(_result(CheckName.BLACKOUT_DATE, not blacked,
                          f"blackout date {blacked[0]}" if blacked else "not a blackout date", local_dates=local_dates))

    # Reg F: ≤ 7 call attempts per debt within 7 days (direct-consent calls excluded), none 7 days after a conversation
    if row.account_id is None:
        na = "no account/debt id: Reg F frequency limits not applicable"
        ok = not campaign.debt_collection
        detail = na if ok else "a debt-collection campaign needs the row's account/debt id"
        checks.append(_result(CheckName.REG_F_7_IN_7, ok, detail))
        checks.append(_result(CheckName.REG_F_CONVERSATION, ok, detail))
    else:
        since = at - REG_F_WINDOW
        account = [a for a in history.account_attempts(row.account_id, since) if since < a.started_at <= at]
        counted = sorted(a.started_at for a in account if not a.direct_consent)
        excluded = len(account) - len(counted)
        if callback_due and waive:
            checks.append(_result(CheckName.REG_F_7_IN_7, True, "the callback the person asked for (prior consent "
                                  "given directly, 1006.14(b)(3)(i)): not counted", counted=len(counted),
                                  excluded_direct_consent=excluded, account_id=row.account_id))
        elif len(counted) >= REG_F_MAX_CALLS:
            clears = counted[len(counted) - REG_F_MAX_CALLS] + REG_F_WINDOW
            if waive and callback is not None:  # the callback, due before then, is not counted
                clears = min(clears, callback.at)
            checks.append(_result(CheckName.REG_F_7_IN_7, False,
                                  f"{len(counted)} call attempts about this debt in the last 7 days", clears,
                                  counted=len(counted), excluded_direct_consent=excluded, account_id=row.account_id))
        else:
            checks.append(_result(CheckName.REG_F_7_IN_7, True,
                                  f"{len(counted)} of {REG_F_MAX_CALLS} call attempts in the last 7 days",
                                  counted=len(counted), excluded_direct_consent=excluded, account_id=row.account_id))
        talks = [a.started_at for a in account if a.conversation] + [
            t for t in history.conversations(row.account_id, since) if t <= at] + [
            t for n in row.numbers for t in history.number_conversations(n, since) if t <= at]
        last_talk = max(talks, default=None)
        # a requested callback waives the quiet period of the conversations up to the request, not of a later one
        later = max((t for t in talks if callback is not None and t > callback.requested_at), default=None)
        if waive and callback is not None and last_talk is not None and later is None:
            if callback_due:
                checks.append(_result(CheckName.REG_F_CONVERSATION, True, "the callback the person asked for in the "
                                      "conversation (prior consent given directly): the quiet period does not apply",
                                      conversation_at=_iso(last_talk), callback_at=_iso(callback.at)))
            else:
                checks.append(_result(CheckName.REG_F_CONVERSATION, False, "telephone conversation about this debt "
                                      "within the last 7 days; the requested callback is due at "
                                      f"{_iso(callback.at)}", min(last_talk + REG_F_WINDOW, callback.at),
                                      conversation_at=_iso(last_talk), callback_at=_iso(callback.at)))
        elif last_talk is not None:
            checks.append(_result(CheckName.REG_F_CONVERSATION, False, "telephone conversation about this debt "
                                  "within the last 7 days", last_talk + REG_F_WINDOW, conversation_at=_iso(last_talk)))
        else:
            checks.append(_result(CheckName.REG_F_CONVERSATION, True, "no conversation in the last 7 days"))

    # attempt policy: cap per record, minimum gap, retry by the last disposition
    # (a requested callback is not counted against max_attempts, and is placed even when the request used the last)
    policy = campaign.policy
    made = sum(1 for a in record if a.callback_of is None)
    if callback_due:
        checks.append(_result(CheckName.MAX_ATTEMPTS, True, f"the requested callback ({made} of "
                              f"{policy.max_attempts} attempts made; a callback is not counted)",
                              attempts=made, max_attempts=policy.max_attempts))
    else:
        checks.append(_result(CheckName.MAX_ATTEMPTS, made < policy.max_attempts,
                              f"{made} of {policy.max_attempts} attempts on this record",
                              callback.at if callback_ahead and callback is not None else None,
                              attempts=made, max_attempts=policy.max_attempts))
    last = record[-1] if record else None
    if last is None:
        checks.append(_result(CheckName.MIN_GAP, True, "first attempt on this record"))
        checks.append(_result(CheckName.RETRY_RULE, True, "first attempt on this record"))
    else:
        gap_clear = last.started_at + timedelta(minutes=policy.min_gap_minutes)
        checks.append(_result(CheckName.MIN_GAP, at >= gap_clear, f"last attempt {_iso(last.started_at)}, "
                              f"gap {policy.min_gap_minutes} min", gap_clear, last_attempt_at=_iso(last.started_at)))
        if last.disposition is None:
            checks.append(_result(CheckName.RETRY_RULE, True, "last attempt has no disposition yet: the gap applies"))
        elif callback is not None and at < callback.until:
            if not mine:
                checks.append(_result(CheckName.RETRY_RULE, False, f"the person asked to be called back on "
                                      f"{request.number if request else ''}", callback.until,
                                      callback_at=_iso(callback.at)))
            elif at < callback.at:
                checks.append(_result(CheckName.RETRY_RULE, False, f"callback requested for {_iso(callback.at)}",
                                      callback.at, callback_at=_iso(callback.at)))
            else:
                checks.append(_result(CheckName.RETRY_RULE, True, f"the requested callback is due (until "
                                      f"{_iso(callback.until)})", callback_at=_iso(callback.at)))
        elif last.disposition in NUMBER_SCOPED and last.number != number:
            checks.append(_result(CheckName.RETRY_RULE, True, f"{last.disposition} ended another number",
                                  last_disposition=str(last.disposition)))
        else:
            rule = policy.rule_for(last.disposition)
            # a lapsed callback: the rule counts from the end of its grace
            base = callback.until if callback is not None else last.started_at
            if rule.after_minutes is None:
                checks.append(_result(CheckName.RETRY_RULE, False, f"no retry after {last.disposition}",
                                      last_disposition=str(last.disposition)))
            else:
                clear = base + timedelta(minutes=rule.after_minutes)
                if rule.next_local_day:
                    clear = max(clear, _next_local_day(base, zones or ("UTC",)))
                checks.append(_result(CheckName.RETRY_RULE, at >= clear, f"after {last.disposition}: retry from "
                                      f"{_iso(clear)}", clear, last_disposition=str(last.disposition)))

    # abandonment: a predictive dial only while the 30-day rate is under the cap
    if mode is CampaignMode.PREDICTIVE:
        checks.append(abandonment_gate(campaign, abandonment))

    allowed = all(c.passed for c in checks)
    fulfils = allowed and callback_due and request is not None
    next_at = None
    failed = [c for c in checks if not c.passed]
    if failed and all(c.name.time_based or c.clears_at is not None for c in failed):
        start = max([at, *(c.clears_at for c in failed if c.clears_at is not None)])
        next_at = next_time_allowed(start, zones, window, campaign.blackout_dates)
    return Decision(allowed=allowed, checks=tuple(checks), next_allowed_at=next_at,
                    callback_of=request.attempt_id if fulfils and request else None,
                    direct_consent=fulfils and waive)
