"""Property tests (hypothesis) of the inputs from outside the dialer:
- an opt-out keyword in any case, padded with any blanks, punctuation or symbols, is an opt-out; a message with
  another word in it never is;
- an inbound conversation at a random instant holds every row naming the account or one of the numbers: a loop
  that texts / dials only when allowed makes 0 attempts within 7 days after it (direct-consent conversations
  aside, which are not recorded at all);
- an agentless SMS is never allowed without SMS consent, whatever the voice consent says, nor outside calling hours.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ccaas.domain.outbound.compliance import REG_F_WINDOW, InMemoryHistory, SuppressionSet, check_attempt
from ccaas.domain.outbound.messages import OPT_OUT_KEYWORDS, is_opt_out
from ccaas.domain.outbound.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckName,
    ConsentFlag,
    ContactListRow,
    PhoneEntry,
)
from local.testing import examples

UTC = timezone.utc
KEYWORDS = ["STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", "OPT-OUT", "OPTOUT"]
PADDING = st.text(alphabet=" \t\r\n.,;:!?-_'\"()[]*#~/\\", max_size=6)
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
         "Pacific/Honolulu", "America/Anchorage", "America/St_Johns"]
INSTANTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


def _cased(rng_text: str, pattern: list[bool]) -> str:
    return "".join(c.upper() if up else c.lower() for c, up in zip(rng_text, pattern + [False] * len(rng_text)))


@given(st.sampled_from(KEYWORDS), PADDING, PADDING, st.lists(st.booleans(), max_size=12))
def test_a_padded_keyword_in_any_case_is_an_opt_out(keyword, before, after, pattern):
    assert is_opt_out(before + _cased(keyword, pattern) + after)


@given(st.sampled_from(KEYWORDS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), PADDING)
def test_another_word_beside_a_keyword_makes_it_a_message(keyword, word, pad):
    for text in (f"{keyword} {word}", f"{word}{pad}{keyword}", f"{word} {keyword}"):
        letters = "".join(c for c in text.lower() if c.isalnum())
        assert is_opt_out(text) == (letters in OPT_OUT_KEYWORDS)


def _row(zone: str, sms: bool | None, voice: bool | None, account: str | None = "acct-1") -> ContactListRow:
    flag = lambda v: None if v is None else ConsentFlag(granted=v)  # noqa: E731
    return ContactListRow(row_id="r1", phones=(PhoneEntry(number="+12125550101", zones=(zone,), zone_source="row"),
                                               PhoneEntry(number="+13125550102", zones=(zone,), zone_source="row")),
                          account_id=account, consent_automated_sms=flag(sms), consent_automated_voice=flag(voice))


def _campaign(mode=CampaignMode.AGENTLESS, channel="sms") -> Campaign:
    return Campaign(campaign_id="c1", name="C", mode=mode, queue_id="q", caller_id="+12125550199",
                    status=CampaignStatus.RUNNING, agentless_message="Hi", channel=channel, debt_collection=True)


@settings(max_examples=examples(150), deadline=None)
@given(INSTANTS, st.sampled_from(ZONES), st.sampled_from(["account", "+12125550101", "+13125550102"]),
       st.integers(min_value=0, max_value=9 * 24 * 60), st.sampled_from([CampaignMode.PROGRESSIVE, CampaignMode.AGENTLESS]))
def test_no_attempt_within_seven_days_after_an_inbound_conversation(talk, zone, key, minutes_later, mode):
    history = InMemoryHistory(conversations=[("acct-1", talk)] if key == "account" else [],
                              number_conversations=[(key, talk)] if key != "account" else [])
    at = talk + timedelta(minutes=minutes_later)
    row = _row(zone, sms=True, voice=True)
    campaign = _campaign(mode, "sms" if mode is CampaignMode.AGENTLESS else "voice")
    decision = check_attempt(campaign, row, "+12125550101", at, history, SuppressionSet())
    conversation = next(c for c in decision.checks if c.name is CheckName.REG_F_CONVERSATION)
    assert conversation.passed == (at >= talk + REG_F_WINDOW)
    if decision.allowed:
        assert at >= talk + REG_F_WINDOW
    if not conversation.passed and decision.next_allowed_at is not None:
        assert decision.next_allowed_at >= talk + REG_F_WINDOW


@settings(max_examples=examples(150), deadline=None)
@given(INSTANTS, st.sampled_from(ZONES), st.sampled_from([True, False, None]), st.sampled_from([True, False, None]))
def test_an_agentless_text_needs_sms_consent_and_calling_hours(at, zone, sms, voice):
    decision = check_attempt(_campaign(), _row(zone, sms=sms, voice=voice, account=None), "+12125550101", at,
                             InMemoryHistory(), SuppressionSet())
    local = at.astimezone(ZoneInfo(zone))
    if decision.allowed:
        assert sms is True and 8 <= local.hour < 21
    consent = next(c for c in decision.checks if c.name is CheckName.CONSENT)
    assert consent.passed == (sms is True) and consent.facts["channel"] == "sms"
