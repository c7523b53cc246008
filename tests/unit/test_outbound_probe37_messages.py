"""Outside probe 37, finding 3: an agentless text that merely mentioned "reply STOP" went out without the opt-out
notice ('Do not reply STOP to this number; ...'). The notice is left out only when a clause of the message already is
an opt-out instruction (messages.sms_text); any other message gets "Reply STOP to opt out." appended."""
from __future__ import annotations

import pytest

from ccaas.domain.outbound.messages import OPT_OUT_NOTICE, sms_text


@pytest.mark.parametrize("message", [
    "Do not reply STOP to this number; call 800-555-0100 for help.",
    "Don't text stop to us, we can't read replies.",
    "Please do not reply STOP.",
    "We will never ask you to reply STOP to keep your account.",
    "Reply STOP to this number if you like.",
    "Text STOP to 55555 now",
    "Your bus will not stop at Elm St. Reply with questions.",
    "Reply STOPPING to opt out",
])
def test_a_message_that_only_mentions_stop_gets_the_notice(message):
    assert sms_text(message) == f"{message} {OPT_OUT_NOTICE}"


@pytest.mark.parametrize("message", [
    "Your renewal is due. Reply STOP to opt out.",
    "Your renewal is due. Reply STOP to end texts.",
    "Your renewal is due. reply stop to unsubscribe",
    "Payment received. Text STOP to 55555 to opt out of alerts.",
    "Payment received. Txt STOP to cancel, HELP for help.",
    'Payment received. Reply "STOP" to opt-out.',
    "Payment received. Reply with STOP to quit",
    "Reply STOP to opt out. Your payment is due Friday.",           # holds it as a sentence, not last
    "Don't want these texts? Reply STOP to stop receiving them!",
    "If you no longer wish to hear from us, reply STOP to opt out.",
    "To opt out, reply STOP.",
    "Payment received.\nReply STOP to cancel",
    "Payment received. ＲＥＰＬＹ ＳＴＯＰ to opt out",                 # fullwidth letters (NFKC)
])
def test_a_message_holding_an_opt_out_instruction_is_sent_as_it_is(message):
    assert sms_text(message) == message.strip()


def test_an_empty_message_is_the_notice_alone_and_the_notice_is_never_doubled():
    assert sms_text("  ") == OPT_OUT_NOTICE
    once = sms_text("Your renewal is due.")
    assert once == f"Your renewal is due. {OPT_OUT_NOTICE}" and sms_text(once) == once
