"""A card typed over several chat messages (P27 finding 1): each message is redacted with the chat's last few
stored ones, and an earlier message that turns out to hold part of a card is rewritten, so neither
GET /contacts/{id}/messages nor a transfer's next agent ever sees the pieces."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from ccaas.domain.history import ChatMessage, ParticipantRole
from ccaas.usecases import agents, analytics, transfers
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.transfers import Destination, TransferRequest
from tests.unit.demo import TENANT, connected_chat, post_chat

C, A = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
SPLIT_CARD = [(C, "hi, I want to pay my bill"), (A, "sure, what is the card number?"), (C, "5555 5555"), (C, "5555 4444"),
              (A, "and the expiry and the code on the back?"), (C, "12/28"), (C, "123"), (C, "thanks")]
PIECES = ("5555", "4444", "12/28", "123")


def _chat():
    return connected_chat("bob")


_post = post_chat


def _leaks(texts):
    return [t for t in texts if any(piece in t for piece in PIECES)]


def test_a_card_typed_over_several_messages_is_not_stored_nor_served():
    deps, cid = _chat()
    posted = _post(deps, cid, SPLIT_CARD)
    page, _ = analytics.chat_messages(deps, TENANT, cid)
    served = [m.content for m in page]
    assert _leaks(served) == [], served
    assert served[2:4] == ["[CARD]", "[CARD]"] and served[0] == SPLIT_CARD[0][1] and served[-1] == "thanks"
    assert [m.message_id for m in page] == [m.message_id for m in posted]  # rewritten in place, none added
    # what POST answered for the message completing the card is its stored form
    assert posted[3].content == "[CARD]"


def test_the_next_agent_after_a_transfer_gets_the_redacted_messages():
    deps, cid = _chat()
    _post(deps, cid, SPLIT_CARD[:4])
    agents.set_agent_status(deps, TENANT, "bob", StatusChange(status="AVAILABLE"))
    transfers.transfer(deps, TENANT, "ana", cid, TransferRequest(to=Destination(agent_id="bob")))
    [offer] = agents.offers_of(deps, TENANT, "bob")
    earlier = [m.content for m in offer.earlier_messages]
    assert len(earlier) == 4 and _leaks(earlier) == [], earlier


def test_the_look_back_is_bounded_in_messages_and_time():
    deps, cid = _chat()
    _post(deps, cid, [(C, "5555 5555")])
    _post(deps, cid, [(A, f"one moment {n}") for n in range(analytics._LOOK_BACK)])  # pushed out of the window
    _post(deps, cid, [(C, "5555 4444")])
    stored = [m.content for m in deps.transcripts.messages(TENANT, cid)]
    assert stored[0] == "5555 5555" and stored[-1] == "5555 4444"
    deps2, cid2 = _chat()
    _post(deps2, cid2, [(C, "5555 5555")], seconds=analytics._LOOK_BACK_MS // 1000 + 1)  # too long ago
    _post(deps2, cid2, [(C, "5555 4444")])
    assert [m.content for m in deps2.transcripts.messages(TENANT, cid2)] == ["5555 5555", "5555 4444"]


def test_a_back_dated_message_is_redacted_with_its_neighbours():
    """The chat service delivers what the customer typed earlier (its send time given): the window is the one
    around that time, also when newer messages are stored."""
    deps, cid = _chat()
    first = deps.clock.now_ms()
    _post(deps, cid, [(C, "5555 5555")])
    _post(deps, cid, [(A, f"still there? {n}") for n in range(analytics._LOOK_BACK)])
    late = datetime.fromtimestamp((first + 1_000) / 1000, tz=UTC)
    posted = analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role=C, content="5555 4444",
                                                                                  absolute_time=late))
    stored = [m.content for m in deps.transcripts.messages(TENANT, cid)]
    assert stored[:2] == ["[CARD]", "[CARD]"] and posted.content == "[CARD]"


def test_a_concurrent_post_is_not_lost_and_the_rewrite_is_retried():
    """While one post rewrites the window, another post (the expiry) rewrites the same messages first: the
    conditional rewrite fails as a whole, the window is read again, and every message ends up redacted."""
    deps, cid = _chat()
    _post(deps, cid, [(A, "what is the card number and expiry?"), (C, "5555 5555")])
    replace, calls = deps.transcripts.replace_messages, []

    def another_post_first(tenant_id, contact_id, replacements):
        calls.append([new.content for _, new in replacements])
        if len(calls) == 1:
            _post(deps, cid, [(C, "12/28")])
        return replace(tenant_id, contact_id, replacements)

    deps.transcripts.replace_messages = another_post_first
    [posted] = _post(deps, cid, [(C, "5555 4444")])
    stored = [m.content for m in deps.transcripts.messages(TENANT, cid)]
    assert stored == ["what is the card number and expiry?", "[CARD]", "[CARD]", "[CARD_EXPIRY]"]
    assert posted.content == "[CARD]" and len(calls) >= 3  # ours, the other post's, ours again


def test_two_halves_posted_at_the_same_time_are_both_redacted():
    deps, cid = _chat()
    barrier = threading.Barrier(2)

    def post(text):
        barrier.wait()
        analytics.add_chat_message(deps, TENANT, cid, analytics.NewMessage(participant_role=C, content=text))

    for _ in range(20):
        threads = [threading.Thread(target=post, args=(text,)) for text in ("5555 5555", "5555 4444")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deps.clock.advance(analytics._LOOK_BACK_MS // 1000 + 1)  # the next pair on its own
    assert _leaks([m.content for m in deps.transcripts.messages(TENANT, cid)]) == []


def test_line_breaks_and_messages_without_pii_are_never_rewritten():
    deps, cid = _chat()
    replace, calls = deps.transcripts.replace_messages, []

    def recorded(tenant_id, contact_id, replacements):
        calls.extend(replacements)
        return replace(tenant_id, contact_id, replacements)

    deps.transcripts.replace_messages = recorded
    _post(deps, cid, [(C, "first line\nsecond line"), (A, "order 7781 is on its way\nanything else?"), (C, "no, thanks")])
    assert calls == []
    assert [m.content for m in deps.transcripts.messages(TENANT, cid)][0] == "first line\nsecond line"


@pytest.mark.parametrize("text", ["[CARD] 4111", "[CARD]5", "ref [CARD] 12345678"])
def test_a_card_placeholder_never_turns_back_into_digits(text):
    deps, cid = _chat()
    _post(deps, cid, [(C, text)])
    [stored] = deps.transcripts.messages(TENANT, cid)
    assert "4111111111111111" not in stored.content and "1111" not in stored.content


def test_long_pastes_leave_the_window():
    """The look-back is bounded in characters too: a post after long pastes redacts at most one paste's worth more."""
    deps, cid = _chat()
    _post(deps, cid, [(C, "x" * 4090), (C, "5555 5555")])  # the paste is cut off, the first half is not
    _post(deps, cid, [(C, "5555 4444")])
    assert [m.content for m in deps.transcripts.messages(TENANT, cid)][1:] == ["[CARD]", "[CARD]"]

    def message(n, size):
        return ChatMessage(message_id=f"m{n}", participant_role=C, content="x" * size, absolute_time=n)

    short, posted, long1, long2 = message(1, 9), message(2, 9), message(3, 4090), message(4, 4090)
    assert analytics._bounded([long1, short, posted], posted) == [short, posted]
    assert analytics._bounded([short, long2, long1, posted], posted) == [long1, posted]
    # given an older send time, before newer pastes: the oldest go first, then the newest
    assert analytics._bounded([short, posted, long1, long2], posted) == [posted, long1]


# An outside probe of make run posted these (each a list of the customer's messages) and read them back stored whole.
@pytest.mark.parametrize(("messages", "stored"), [
    (["my social security number is 078 05", "1120"], ["my social security number is [SSN]", "[SSN]"]),
    (["my ssn is 078-05", "1120"], ["my ssn is [SSN]", "[SSN]"]),
    (["my social security number is 078", "05 1120"], ["my social security number is [SSN]", "[SSN]"]),
    # the card's last digit typed into the next message, the code after it
    (["my card is 4111 1111 1111 111", "1 and the code is 123"],
     ["my card is [CARD]", "[CARD] and the code is [CARD_SECURITY_CODE]"]),
    # its last group was read as a code: the first message kept twelve digits of the card
    (["my card is 4111 1111 1111", "1111 cvv 123"], ["my card is [CARD]", "[CARD] cvv [CARD_SECURITY_CODE]"]),
    # the split card was found, its code after it was not
    (["my card is 4111 1111 1111", "1111 and the code is 123"],
     ["my card is [CARD]", "[CARD] and the code is [CARD_SECURITY_CODE]"]),
])
def test_an_ssn_or_a_card_and_its_code_typed_over_two_messages_is_not_stored(messages, stored):
    deps, cid = _chat()
    _post(deps, cid, [(C, text) for text in messages])
    page, _ = analytics.chat_messages(deps, TENANT, cid)
    assert [m.content for m in page] == stored


def test_a_code_answered_after_the_agents_thanks_is_a_code():
    deps, cid = _chat()
    _post(deps, cid, [(C, "my card is 4111 1111 1111 1111"), (A, "thanks, and the code?"), (C, "123")])
    page, _ = analytics.chat_messages(deps, TENANT, cid)
    assert [m.content for m in page] == ["my card is [CARD]", "thanks, and the code?", "[CARD_SECURITY_CODE]"]


@pytest.mark.parametrize("messages", [
    ["order 1234 5678 9012", "3456 total 123"],  # an order number (no card's prefix), and its total
    ["i have 2", "3 kids"],
    ["my ssn is on file", "order 123 45 678"],
])
def test_numbers_over_two_messages_that_are_no_card_or_ssn_are_kept(messages):
    deps, cid = _chat()
    _post(deps, cid, [(C, text) for text in messages])
    page, _ = analytics.chat_messages(deps, TENANT, cid)
    assert [m.content for m in page] == messages
