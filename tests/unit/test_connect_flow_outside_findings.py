"""Outside review of the Connect flow adapter: error replies name the parameter, never repeat its value (a card number,
phone number or e-mail keyed in at the wrong prompt); a stranger's `tier` has the shape PUT /customers takes; a too-long
log_event `value` is named as such."""
from __future__ import annotations

import json

import pytest

from tests.unit.test_connect_flow import ask, deps, fixture  # noqa: F401 - the flow tenant fixture

CARD, PHONE, EMAIL = "4111111111111111", "+14155550101", "bob@example.com"


def _error(reply: dict[str, str], code: str, field: str, *never: str) -> None:
    assert (reply["status"], reply["error_code"]) == ("error", code), reply
    assert reply["error_message"].startswith(f"{field}: "), reply
    text = json.dumps(reply)
    for value in never:
        assert value not in text, reply


@pytest.mark.parametrize("action", ["route", "hours", "staffing", "wait_info"])
@pytest.mark.parametrize("value", [CARD, PHONE, EMAIL, "q" * 100_000])
def test_an_unknown_queue_is_named_never_echoed(deps, action, value):
    reply = ask(deps, fixture("voice_inbound", action=action, queue_id=value))
    _error(reply, "not_found", "queue_id", value, value[:20])
    assert reply["error_message"] == "queue_id: no such queue"


@pytest.mark.parametrize("value", [CARD, PHONE, EMAIL])
def test_an_unknown_contact_is_named_never_echoed(deps, value):
    reply = ask(deps, fixture("voice_inbound", action="wait_info", contact_id=value))
    _error(reply, "not_found", "contact_id", value)


@pytest.mark.parametrize("tier", [CARD, PHONE, EMAIL, "g" * 5_000, "Gold", "9lives"])
def test_a_strangers_tier_must_have_the_shape_put_customers_takes(deps, tier):
    reply = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", customer_id="stranger1", tier=tier))
    _error(reply, "invalid_parameter", "tier", tier, tier[:20])
    assert "segment" not in reply


def test_a_strangers_well_formed_tier_is_still_taken(deps):
    reply = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", customer_id="stranger1", tier="gold"))
    assert (reply["status"], reply["segment"]) == ("ok", "gold"), reply


def test_a_too_long_log_event_value_names_value(deps):
    reply = ask(deps, fixture("voice_inbound", action="log_event", milestone="menu_choice", value="1" * 129))
    _error(reply, "invalid_parameter", "value", "1" * 129)
    assert "milestone" not in reply["error_message"]
    bad_name = ask(deps, fixture("voice_inbound", action="log_event", milestone="9menu", value="1"))
    _error(bad_name, "invalid_parameter", "milestone")
    assert ask(deps, fixture("voice_inbound", action="log_event", milestone="menu_choice", value="1" * 128))["status"] == "ok"
