"""Outbound campaign entities (pure): campaigns and their attempt policy, contact-list rows, attempts,
dispositions and the check results stored with every attempt.

Every model is frozen, forbids unknown fields and bounds every collection and string, so a campaign or a
list row read back from storage or an API body is the same shape the compliance checks reason about.
Times are timezone-aware datetimes (UTC on the wire); a naive datetime is rejected.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from ccaas.domain.vocabulary import (Bool, E164_PATTERN, Float, Frozen, Int, NAME_PATTERN, PRINTABLE_PATTERN,
                                     SkillRequirement, SortedSet, shown_value)

__all__ = [
    "ABANDON_MESSAGE_WITHIN_S", "AGENT_DISPOSITIONS", "Attempt", "CALLBACK_GRACE", "CALLBACK_MAX_AHEAD",
    "CallbackRequest", "Campaign", "CampaignMode", "CampaignStatus", "CallingWindow",
    "CheckName", "CheckResult", "ConsentFlag", "ContactListRow", "DEFAULT_RETRY", "Disposition", "E164",
    "MAX_ABANDON_RATE", "MIN_RING_S", "NEVER_RETRIED", "PhoneEntry", "RetryRule", "AttemptPolicy", "STATUTORY_END",
    "STATUTORY_START", "US_STATES", "valid_zone",
]

# --- statutory constants (see the package docstring for the citations) ---------------------------
STATUTORY_START = "08:00"  # TCPA 47 CFR 64.1200(c)(1), FDCPA 15 USC 1692c(a)(1): not before 8 am local
STATUTORY_END = "21:00"    # ... and not after 9 pm local (end exclusive: 21:00:00 is already too late)
MAX_ABANDON_RATE = 0.03    # 47 CFR 64.1200(a)(7)(i): ≤ 3 % of calls answered by a person, per campaign, 30 days
ABANDON_MESSAGE_WITHIN_S = 2.0  # a call not connected to an agent within 2 s of the greeting is abandoned
MIN_RING_S = 15            # 47 CFR 64.1200(a)(6): ring ≥ 15 s or 4 rings before disconnecting an unanswered call
MAX_ROW_NUMBERS = 10
MAX_ATTRIBUTES = 50
MAX_BLACKOUTS = 366
MAX_STATE_WINDOWS = 60
# A requested callback ("call me back Thursday at 6 pm"): set at most this far ahead, and placed only within this
# grace after its time (then the normal rules apply again: compliance.check_attempt).
CALLBACK_MAX_AHEAD = timedelta(days=30)
CALLBACK_GRACE = timedelta(hours=2)

E164 = Annotated[str, Field(pattern=E164_PATTERN, description="E.164: + country code, 7-15 digits")]
_Name = Annotated[str, Field(pattern=NAME_PATTERN)]
_Text = Annotated[str, StringConstraints(max_length=256, pattern=PRINTABLE_PATTERN)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP FM MH PW".split())


_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})  # files of the tz database that are no place
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$")


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The zone names of the tz database zoneinfo reads (empty when it cannot list them: then a name is
    taken when zoneinfo loads it and it is no deny-listed file)."""
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)  # a list's rows repeat their zones: a Russian mobile number alone may be in 16
def valid_zone(name: str) -> str:
    """An IANA zone name of a place (or UTC/Etc) that zoneinfo knows; raises ValueError otherwise (not cached).
    Remembered per name: zoneinfo keeps only 8 zones loaded, and 10,000 rows of ten 16-zone numbers reloaded a zone
    file 1.6 M times (a 10,000-row upload the API accepts took ~60 s).

    Not the files of the database that are no zone of a place: `localtime` (the host's own zone),
    `Factory` (the "-00" placeholder), `posixrules`, and the `posix/` and `right/` trees."""
    if (not name or len(name) > 64 or not _ZONE_NAME.fullmatch(name) or name in _NOT_ZONES
            or name.startswith(("posix/", "right/"))):
        raise _not_a_zone(name)
    known = _known_zones()
    if known and name not in known:
        raise _not_a_zone(name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _not_a_zone(name) from None  # zoneinfo's own message quotes the name whole
    return name


def _not_a_zone(name: str) -> ValueError:
    # the name is quoted (the admin's setting, the row's cell), cut, and not when it holds a card-shaped number
    return ValueError(f"not an IANA time zone: {shown_value(str(name)[:64])!r}")


_Zone = Annotated[str, Field(max_length=64)]


class CampaignMode(StrEnum):
    PREVIEW = "preview"          # the agent sees the record, then dials it (agent-initiated, one call)
    PROGRESSIVE = "progressive"  # the dialer places one call per free agent
    PREDICTIVE = "predictive"    # the dialer dials ahead of free agents, paced by the abandonment target
    AGENTLESS = "agentless"      # a recorded message / voice drop, no agent

    @property
    def automated(self) -> bool:
        """Dialed by the system rather than by a person: needs prior express consent (see compliance)."""
        return self is not CampaignMode.PREVIEW


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


class Disposition(StrEnum):
    ANSWERED = "answered"                        # a person answered (party not yet identified)
    RIGHT_PARTY_CONTACT = "right_party_contact"  # a telephone conversation with the person (Reg F: 7-day quiet)
    WRONG_PARTY = "wrong_party"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    ANSWERING_MACHINE = "answering_machine"
    INVALID_NUMBER = "invalid_number"
    OPTED_OUT = "opted_out"
    ABANDONED = "abandoned"                      # answered by a person, dropped by the dialer (no agent in 2 s)
    MESSAGE_SENT = "message_sent"                # an agentless SMS the carrier accepted (ends the row)
    CALLBACK_REQUESTED = "callback_requested"    # a conversation in which the person asked to be called at a time

    @property
    def human_answered(self) -> bool:
        """Counts in the abandonment-rate denominator (calls answered by a person)."""
        return self in _HUMAN


_HUMAN = frozenset({Disposition.ANSWERED, Disposition.RIGHT_PARTY_CONTACT, Disposition.WRONG_PARTY,
                    Disposition.OPTED_OUT, Disposition.ABANDONED, Disposition.CALLBACK_REQUESTED})
# What an agent may say of the person the carrier reported as answered: the one change an ANSWERED attempt takes.
AGENT_DISPOSITIONS = frozenset({
    Disposition.RIGHT_PARTY_CONTACT, Disposition.WRONG_PARTY, Disposition.VOICEMAIL,
    Disposition.ANSWERING_MACHINE, Disposition.OPTED_OUT, Disposition.INVALID_NUMBER, Disposition.CALLBACK_REQUESTED,
})


class RetryRule(Frozen):
    """When a record may be dialed again after an attempt ended with a given disposition.

    `after_minutes=None` = never again (in this campaign). `next_local_day` = not before the called party's
    next local calendar day (and at least `after_minutes` later)."""

    after_minutes: Int | None = Field(default=None, ge=0, le=30 * 1440)
    next_local_day: Bool = False


DEFAULT_RETRY: dict[Disposition, RetryRule] = {
    Disposition.BUSY: RetryRule(after_minutes=30),
    Disposition.NO_ANSWER: RetryRule(after_minutes=240),
    Disposition.VOICEMAIL: RetryRule(after_minutes=0, next_local_day=True),
    Disposition.ANSWERING_MACHINE: RetryRule(after_minutes=0, next_local_day=True),
    Disposition.ABANDONED: RetryRule(after_minutes=60),
    Disposition.ANSWERED: RetryRule(after_minutes=1440),
    Disposition.WRONG_PARTY: RetryRule(after_minutes=None),
    Disposition.INVALID_NUMBER: RetryRule(after_minutes=None),
    Disposition.OPTED_OUT: RetryRule(after_minutes=None),
    Disposition.RIGHT_PARTY_CONTACT: RetryRule(after_minutes=None),
    Disposition.MESSAGE_SENT: RetryRule(after_minutes=None),
    # Before the requested time: not at all; within its grace: the callback. This rule applies once the grace has
    # passed without the callback placed, counted from the END of the grace (compliance.check_attempt).
    Disposition.CALLBACK_REQUESTED: RetryRule(after_minutes=0, next_local_day=True),
}


# Never dialed again (README: "never after a right-party contact, an opt-out, an invalid number or a wrong party"; a
# text the carrier accepted ends its row): a tenant's `retry` may not loosen these (POST/PATCH /campaigns: a 422 naming
# `policy.retry.<disposition>`), and `rule_for` ignores such an override were one ever stored.
NEVER_RETRIED = frozenset({Disposition.RIGHT_PARTY_CONTACT, Disposition.OPTED_OUT, Disposition.WRONG_PARTY,
                           Disposition.INVALID_NUMBER, Disposition.MESSAGE_SENT})


class AttemptPolicy(Frozen):
    max_attempts: Int = Field(default=6, ge=1, le=50, description="attempts per record in this campaign")
    min_gap_minutes: Int = Field(default=30, ge=0, le=30 * 1440, description="between two attempts on a record")
    retry: dict[Disposition, RetryRule] = Field(
        default_factory=lambda: dict(DEFAULT_RETRY), max_length=20,
        description="retry rule by disposition; right_party_contact, opted_out, wrong_party, invalid_number and "
                    "message_sent are never retried (after_minutes null only)")
    # Dispositions missing from `retry` fall back to DEFAULT_RETRY, and those NEVER_RETRIED always keep theirs, so a
    # map never loosens a statutory or terminal rule.

    def rule_for(self, disposition: Disposition) -> RetryRule:
        if disposition in NEVER_RETRIED:
            return DEFAULT_RETRY[disposition]
        return self.retry.get(disposition) or DEFAULT_RETRY[disposition]

    def loosened(self) -> tuple[Disposition, ...]:
        """The never-retried dispositions `retry` would allow a retry after (refused on input)."""
        return tuple(d for d in Disposition if d in NEVER_RETRIED and d in self.retry
                     and self.retry[d].after_minutes is not None)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class CallingWindow(Frozen):
    """A daily window in the called party's local time, only ever STRICTER than 08:00-21:00.

    `weekdays`: ISO weekdays (1 = Monday … 7 = Sunday) on which calls are allowed at all; at least one (a window
    never open would end every row for good as "never allowed", and the campaign would complete)."""

    start: str = Field(default=STATUTORY_START, max_length=5, description="HH:MM local, ≥ 08:00")
    end: str = Field(default=STATUTORY_END, max_length=5, description="HH:MM local, ≤ 21:00, after start")
    weekdays: SortedSet[Annotated[Int, Field(ge=1, le=7)]] = Field(
        default=frozenset(range(1, 8)), min_length=1, max_length=7, description="answered sorted")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"time must be HH:MM: {v!r}")
        return v

    @model_validator(mode="after")
    def _stricter_only(self) -> CallingWindow:
        if _minutes(self.start) < _minutes(STATUTORY_START) or _minutes(self.end) > _minutes(STATUTORY_END):
            raise ValueError(f"a calling window may only narrow {STATUTORY_START}-{STATUTORY_END}")
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError("a calling window ends after it starts")
        return self

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)


class Campaign(Frozen):
    campaign_id: _Name
    name: _Text = Field(min_length=1, max_length=128)
    mode: CampaignMode
    queue_id: _Name
    required_skills: tuple[SkillRequirement, ...] = Field(default=(), max_length=20)
    caller_id: E164 = Field(description="the number shown to the called party (TCPA caller-ID rule)")
    status: CampaignStatus = CampaignStatus.DRAFT
    policy: AttemptPolicy = Field(default_factory=AttemptPolicy)
    window: CallingWindow | None = Field(default=None, description="the tenant's window, stricter than 8-21")
    state_windows: dict[Annotated[str, Field(min_length=2, max_length=2)], CallingWindow] = Field(
        default_factory=dict, max_length=MAX_STATE_WINDOWS, description="stricter windows per US state code")
    # Sets are answered sorted (vocabulary.SortedSet): a frozenset of dates iterates in an order that follows the
    # process's hash seed, so two Lambdas answered one stored campaign two ways.
    blackout_dates: SortedSet[date] = Field(default=frozenset(), max_length=MAX_BLACKOUTS,
                                            description="no calls on these dates, in the called party's local date "
                                                        "(answered sorted)")
    max_abandon_rate: Float = Field(default=MAX_ABANDON_RATE, gt=0, le=MAX_ABANDON_RATE)
    debt_collection: Bool = Field(default=False, description="rows must name the debt (Reg F counts per debt)")
    agentless_message: _Text | None = Field(default=None, description="the message an agentless call plays "
                                            "(or, channel sms, the text sent; the opt-out notice is appended)")
    channel: Literal["voice", "sms"] = Field(
        default="voice", description="agentless only: voice drop (voice) or a text message (sms, consent for "
                                     "automated texts required, calling hours apply)")
    version: Int = Field(default=1, ge=1)

    @field_validator("state_windows")
    @classmethod
    def _states(cls, v: dict[str, CallingWindow]) -> dict[str, CallingWindow]:
        unknown = sorted(k for k in v if k not in US_STATES)
        if unknown:
            raise ValueError(f"unknown state codes: {unknown}")
        return v

    @field_validator("state_windows")
    @classmethod
    def _states_open(cls, v: dict[str, CallingWindow], info: ValidationInfo) -> dict[str, CallingWindow]:
        # A state's window applies with the campaign's (their intersection): one that leaves no time would end
        # every row of that state for good.
        window = info.data.get("window")
        closed = sorted(code for code, w in v.items() if window is not None and (
            not w.weekdays & window.weekdays
            or max(w.start_minute, window.start_minute) >= min(w.end_minute, window.end_minute)))
        if closed:
            raise ValueError(f"no calling time left with the campaign's window (days and hours) for: {closed}")
        return v

    @model_validator(mode="after")
    def _agentless_needs_message(self) -> Campaign:
        if self.mode is CampaignMode.AGENTLESS and not self.agentless_message:
            raise ValueError("an agentless campaign needs its agentless_message")
        if self.channel == "sms" and self.mode is not CampaignMode.AGENTLESS:
            raise ValueError("channel sms is for agentless campaigns (agents work voice calls)")
        return self


class ConsentFlag(Frozen):
    """Prior express consent for one kind of automated contact, with where and when it was given."""

    granted: bool
    source: _Text = Field(default="list", max_length=128, description="e.g. web_form:signup, ivr, agent")
    at: AwareDatetime | None = None


class PhoneEntry(Frozen):
    """One parsed number of a row and the time zones the called party may be in (all of them apply)."""

    number: E164
    zones: tuple[_Zone, ...] = Field(min_length=1, max_length=64)
    zone_source: Literal["row", "postal_code", "state", "number"]

    @field_validator("zones")
    @classmethod
    def _zones(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(valid_zone(z) for z in v)


_Attr = Annotated[str, StringConstraints(max_length=256)]


class ContactListRow(Frozen):
    row_id: _Name
    line: Int = Field(default=0, ge=0, description="the source line (CSV) or 1-based index (JSON)")
    phones: tuple[PhoneEntry, ...] = Field(min_length=1, max_length=MAX_ROW_NUMBERS)
    email: str | None = Field(default=None, max_length=254)
    time_zone: _Zone | None = None
    postal_code: str | None = Field(default=None, max_length=10)
    state: str | None = Field(default=None, min_length=2, max_length=2)
    account_id: _Name | None = Field(default=None, description="the account / debt id (Reg F counts per debt)")
    consent_automated_voice: ConsentFlag | None = None
    consent_automated_sms: ConsentFlag | None = None
    attributes: dict[Annotated[str, StringConstraints(max_length=64)], _Attr] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else valid_zone(v)

    def phone(self, number: str) -> PhoneEntry | None:
        return next((p for p in self.phones if p.number == number), None)

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(p.number for p in self.phones)


class CheckName(StrEnum):
    CAMPAIGN_STATUS = "campaign_status"
    NUMBER = "number"                    # the number belongs to the row, parsed, not known invalid
    SUPPRESSION = "suppression"          # internal DNC, imported lists, opt-outs (any channel)
    CONSENT = "consent"                  # prior express consent for automated calls
    CALLING_HOURS = "calling_hours"      # 08:00-21:00 local in every candidate zone
    TENANT_WINDOW = "tenant_window"      # the campaign's and the states' stricter windows, weekdays
    BLACKOUT_DATE = "blackout_date"
    REG_F_7_IN_7 = "reg_f_7_in_7"
    REG_F_CONVERSATION = "reg_f_conversation"
    MAX_ATTEMPTS = "max_attempts"
    MIN_GAP = "min_gap"
    RETRY_RULE = "retry_rule"
    ABANDONMENT_RATE = "abandonment_rate"  # predictive dialing only while the 30-day rate is under the cap

    @property
    def time_based(self) -> bool:
        """Clears by itself as the wall clock moves (the campaign waits)."""
        return self in (CheckName.CALLING_HOURS, CheckName.TENANT_WINDOW, CheckName.BLACKOUT_DATE)


Fact = str | int | float | bool | None | list[str]


class CheckResult(Frozen):
    """One rule's verdict on one attempt, with the facts it used (stored with the attempt, for audit)."""

    name: CheckName
    passed: bool
    detail: str = Field(max_length=512)
    facts: dict[Annotated[str, StringConstraints(max_length=64)], Fact] = Field(default_factory=dict, max_length=32)
    clears_at: AwareDatetime | None = Field(
        default=None, description="a failed check that clears by itself: when; None = not by itself")


class CallbackRequest(Frozen):
    """The person asked, in the conversation of an attempt, to be called back at `at` (disposition
    callback_requested): the row's next attempt, on that number, is placed then (not before), within CALLBACK_GRACE.
    `requested_at`: when the person asked, i.e. the conversation (the consent given directly dates from then), never
    the later time the agent recorded it (usecases.outbound.dispose_contact)."""

    at: AwareDatetime
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _ahead(self) -> CallbackRequest:
        if not self.requested_at < self.at <= self.requested_at + CALLBACK_MAX_AHEAD:
            raise ValueError(f"a callback is in the future, at most {CALLBACK_MAX_AHEAD.days} days ahead")
        return self

    @property
    def until(self) -> datetime:
        """The end of the grace: a callback not placed by then has lapsed."""
        return self.at + CALLBACK_GRACE


class Attempt(Frozen):
    """One dial (or one agentless call) and the checks that allowed it."""

    attempt_id: _Name
    campaign_id: _Name
    row_id: _Name
    account_id: _Name | None = None
    number: E164
    started_at: AwareDatetime
    disposition: Disposition | None = None
    direct_consent: bool = Field(
        default=False, description="made with the consumer's prior consent given directly (Reg F: not counted)")
    ring_seconds: float | None = Field(default=None, ge=0, le=600)
    abandon_message_played: bool | None = Field(
        default=None, description="a dropped call played the identification message within 2 s")
    checks: tuple[CheckResult, ...] = Field(default=(), max_length=32)
    callback: CallbackRequest | None = Field(
        default=None, description="disposition callback_requested: when the person asked to be called back")
    callback_of: _Name | None = Field(
        default=None, description="this attempt is the callback requested on that attempt (not counted against "
                                  "the campaign's max_attempts)")

    @model_validator(mode="after")
    def _callback_with_its_disposition(self) -> Attempt:
        if (self.callback is not None) != (self.disposition is Disposition.CALLBACK_REQUESTED):
            raise ValueError("a callback time goes with the disposition callback_requested, and only with it")
        return self

    @property
    def conversation(self) -> bool:
        """A telephone conversation with the person (Reg F's 7-day quiet): the agent said so (right party, callback requested), or a
        person answered and reached an agent and nobody said otherwise. An undisposed answered call is taken as one:
        the collector talked to someone and recorded nothing (wrong party, opted out refine it away)."""
        return self.disposition in (Disposition.RIGHT_PARTY_CONTACT, Disposition.ANSWERED, Disposition.CALLBACK_REQUESTED)


def aware(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware")
    return at


DAY = timedelta(days=1)


class ListError(Frozen):
    """A list row's problem (or warning): its line (CSV: the file's line, header = 1; JSON: the 1-based
    index) and field. Here, not in `lists`, so a module that only reports upload results does not import
    the parser and phonenumbers (the dialer's cold start)."""

    line: Int
    field: str
    message: str
