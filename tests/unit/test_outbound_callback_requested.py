"""A requested callback ("call me back Thursday at 6 pm", disposition callback_requested): the row's next attempt
is placed at the requested time, not before, within CALLBACK_GRACE; it is made with the consumer's prior consent
given directly (Reg F 1006.14(b)(3)(i)), so the 7-day quiet period after the conversation and the 7-in-7 count do
not hold it back — for that one attempt, on that number. Everything else still applies (DNC, calling hours, consent)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ccaas.domain.outbound.compliance import (
    InMemoryHistory,
    Suppression,
    SuppressionSet,
    callback_state,
    check_attempt,
)
from ccaas.domain.outbound.models import (
    CALLBACK_GRACE,
    AGENT_DISPOSITIONS,
    Attempt,
    AttemptPolicy,
    CallbackRequest,
    Campaign,
    CheckName,
    ConsentFlag,
    ContactListRow,
    Disposition,
)
from tests import outbound_builders as builders
from tests.outbound_builders import NUMBER

UTC = timezone.utc
OTHER = "+12125550199"
T0 = datetime(2026, 6, 8, 15, tzinfo=UTC)            # Monday 11:00 in New York: the conversation
REQUESTED = T0 + timedelta(minutes=5)                 # the agent's disposition
THURSDAY_6PM = datetime(2026, 6, 11, 22, tzinfo=UTC)  # Thursday 18:00 in New York


def campaign(**changes) -> Campaign:
    """The shared campaign, collecting a debt (Reg F applies)."""
    return builders.campaign(**{"debt_collection": True, **changes})


def row(numbers: tuple[str, ...] = (NUMBER,)) -> ContactListRow:
    """The shared row r1 on `numbers`, without an email."""
    return builders.row(numbers=numbers, email=None)


def request(at: datetime = THURSDAY_6PM, *, started: datetime = T0, requested: datetime | None = None) -> Attempt:
    return Attempt(attempt_id="a-req", campaign_id="c1", row_id="r1", account_id="A1", number=NUMBER,
                   started_at=started, disposition=Disposition.CALLBACK_REQUESTED,
                   callback=CallbackRequest(at=at, requested_at=requested or started + timedelta(minutes=5)))


def decide(at: datetime, *attempts: Attempt, c: Campaign | None = None, r: ContactListRow | None = None,
           history: InMemoryHistory | None = None, suppression: SuppressionSet | None = None, number: str = NUMBER):
    history = history or InMemoryHistory()
    for a in attempts:
        history.record(a)
    return check_attempt(c or campaign(), r or row(), number, at, history, suppression or SuppressionSet())


def check(decision, name: CheckName):
    return next(c for c in decision.checks if c.name is name)


def test_the_callback_waits_for_its_time_then_the_quiet_period_is_waived_for_it():
    before = decide(THURSDAY_6PM - timedelta(minutes=1), request())
    assert not before.allowed
    assert {CheckName.RETRY_RULE, CheckName.REG_F_CONVERSATION} <= set(before.failed)
    assert before.next_allowed_at == THURSDAY_6PM  # not the end of the quiet period (Monday next week)
    assert before.callback_of is None and not before.direct_consent

    due = decide(THURSDAY_6PM, request())
    assert due.allowed and due.callback_of == "a-req" and due.direct_consent
    assert check(due, CheckName.REG_F_CONVERSATION).passed  # 3 days after the conversation
    assert decide(THURSDAY_6PM + CALLBACK_GRACE - timedelta(seconds=1), request()).allowed


def test_after_the_grace_the_normal_rules_apply_again():
    lapsed = decide(THURSDAY_6PM + CALLBACK_GRACE, request())
    assert not lapsed.allowed and not lapsed.direct_consent and lapsed.callback_of is None
    assert CheckName.REG_F_CONVERSATION in lapsed.failed
    assert lapsed.next_allowed_at == T0 + timedelta(days=7)  # the quiet period's end, in hours


def test_the_waiver_is_for_that_one_attempt_only():
    placed = Attempt(attempt_id="a-cb", campaign_id="c1", row_id="r1", account_id="A1", number=NUMBER,
                     started_at=THURSDAY_6PM, disposition=Disposition.NO_ANSWER, direct_consent=True,
                     callback_of="a-req")
    later = decide(datetime(2026, 6, 12, 15, tzinfo=UTC), request(), placed)  # Friday 11:00, retry rule passed
    assert not later.allowed and CheckName.REG_F_CONVERSATION in later.failed and not later.direct_consent
    assert check(later, CheckName.RETRY_RULE).passed


def test_only_the_number_the_person_asked_on():
    r = row((OTHER, NUMBER))
    other = decide(THURSDAY_6PM, request(), r=r, number=OTHER)
    assert not other.allowed and CheckName.RETRY_RULE in other.failed and CheckName.REG_F_CONVERSATION in other.failed
    assert decide(THURSDAY_6PM, request(), r=r, number=NUMBER).allowed


def test_the_callback_is_not_counted_in_seven_in_seven():
    """Six calls about the debt from another campaign and the conversation: seven counted. The callback is
    still placed (it is not counted), stored with direct_consent, and later checks exclude it."""
    others = [Attempt(attempt_id=f"o{i}", campaign_id="c2", row_id="x", account_id="A1", number=OTHER,
                      started_at=T0 + timedelta(hours=1 + i), disposition=Disposition.NO_ANSWER) for i in range(6)]
    waiting = decide(THURSDAY_6PM - timedelta(hours=1), request(), *others)
    assert CheckName.REG_F_7_IN_7 in waiting.failed and waiting.next_allowed_at == THURSDAY_6PM
    due = decide(THURSDAY_6PM, request(), *others)
    assert due.allowed and due.direct_consent
    assert check(due, CheckName.REG_F_7_IN_7).facts["counted"] == 7
    placed = Attempt(attempt_id="a-cb", campaign_id="c1", row_id="r1", account_id="A1", number=NUMBER,
                     started_at=THURSDAY_6PM, disposition=Disposition.NO_ANSWER, direct_consent=due.direct_consent,
                     callback_of=due.callback_of)
    after = decide(THURSDAY_6PM + timedelta(hours=1), request(), placed, *others)
    seven = check(after, CheckName.REG_F_7_IN_7)
    assert seven.facts["counted"] == 7 and seven.facts["excluded_direct_consent"] == 1


def test_dnc_and_an_opt_out_still_block_it():
    dnc = SuppressionSet([Suppression(kind="number", value=NUMBER)])
    blocked = decide(THURSDAY_6PM, request(), suppression=dnc)
    assert not blocked.allowed and CheckName.SUPPRESSION in blocked.failed and blocked.next_allowed_at is None
    assert not blocked.direct_consent
    revoked = row().model_copy(update={"consent_automated_voice": ConsentFlag(granted=False, source="ivr")})
    assert CheckName.CONSENT in decide(THURSDAY_6PM, request(), r=revoked).failed


def test_a_conversation_after_the_request_keeps_its_quiet_period():
    history = InMemoryHistory(conversations=[("A1", REQUESTED + timedelta(days=1))])
    d = decide(THURSDAY_6PM, request(), history=history)
    assert not d.allowed and CheckName.REG_F_CONVERSATION in d.failed


def test_outside_the_calling_window_it_waits_for_the_window_within_the_grace():
    seven_am = datetime(2026, 6, 11, 11, tzinfo=UTC)  # 07:00 in New York
    early = decide(seven_am, request(seven_am))
    assert not early.allowed and CheckName.CALLING_HOURS in early.failed
    assert early.next_allowed_at == datetime(2026, 6, 11, 12, tzinfo=UTC)  # 08:00, inside the 2 h grace
    opened = decide(early.next_allowed_at, request(seven_am))
    assert opened.allowed and opened.direct_consent


def test_max_attempts_does_not_end_the_row_before_its_callback():
    c = campaign(policy=AttemptPolicy(max_attempts=1))  # the request's call was the last
    waiting = decide(THURSDAY_6PM - timedelta(hours=2), request(), c=c)
    assert CheckName.MAX_ATTEMPTS in waiting.failed and waiting.next_allowed_at == THURSDAY_6PM
    due = decide(THURSDAY_6PM, request(), c=c)
    assert due.allowed and check(due, CheckName.MAX_ATTEMPTS).passed


def test_a_callback_more_than_seven_days_after_the_consent_is_an_ordinary_counted_call():
    later = THURSDAY_6PM + timedelta(days=7)
    d = decide(later, request(later))
    assert d.allowed and d.callback_of == "a-req" and not d.direct_consent


def test_callback_request_model_and_its_disposition():
    assert Disposition.CALLBACK_REQUESTED in AGENT_DISPOSITIONS and Disposition.CALLBACK_REQUESTED.human_answered
    assert request().conversation
    with pytest.raises(ValidationError):
        CallbackRequest(at=T0, requested_at=T0)  # not in the future
    with pytest.raises(ValidationError):
        CallbackRequest(at=T0 + timedelta(days=30, seconds=1), requested_at=T0)
    with pytest.raises(ValidationError):  # a time without the disposition
        Attempt(attempt_id="a", campaign_id="c1", row_id="r1", number=NUMBER, started_at=T0,
                disposition=Disposition.RIGHT_PARTY_CONTACT, callback=CallbackRequest(at=THURSDAY_6PM, requested_at=T0))


def test_callback_state_pending_placed_lapsed():
    state = callback_state([request()], THURSDAY_6PM)
    assert state is not None and state.status == "pending" and state.at == THURSDAY_6PM
    assert state.until == THURSDAY_6PM + CALLBACK_GRACE and state.number == NUMBER
    assert callback_state([request()], THURSDAY_6PM + CALLBACK_GRACE).status == "lapsed"
    placed = Attempt(attempt_id="a-cb", campaign_id="c1", row_id="r1", number=NUMBER, started_at=THURSDAY_6PM,
                     callback_of="a-req")
    done = callback_state([placed, request()], THURSDAY_6PM)
    assert done.status == "placed" and done.placed_attempt_id == "a-cb"
    assert callback_state([], T0) is None
