"""Outside review K27: a number written with its trunk prefix ("+44 020 …") is the number Connect reports and a
callback dials; one callback per Connect contact under overlapping or retried calls; a lone UTF-16 surrogate in a
flow parameter is an error the flow branches on, never an exception."""
from __future__ import annotations

import json
import threading
import time

import pytest

from ccaas.domain.connect_flow import error_reply, flat_reply, reply_size
from ccaas.domain.customers import normalise_phone
from ccaas.domain.destinations import check_destination
from ccaas.domain.models import Conflict
from ccaas.usecases import connect_flow, contacts, customers
from tests.unit.test_connect_flow import TENANT, ask, deps, fixture  # noqa: F401 - the flow tenant fixture

UK = "+442079460958"


@pytest.mark.parametrize(("written", "e164"), [
    ("+44 020 7946 0958", UK), ("0044 020 7946 0958", UK), ("+44 (0)20 7946 0958", UK), ("+4402079460958", UK),
    ("+49 030 1234567", "+49301234567"), ("+33 06 12 34 56 78", "+33612345678"), ("+1 1 202 555 0188", "+12025550188"),
    ("+39 06 1234 5678", "+390612345678"),  # Italy: the 0 is part of the number, dialled from abroad too
    ("+1 (415) 555-0100", "+14155550100"),  # an area code in brackets is no trunk prefix
])
def test_a_trunk_prefix_after_the_country_code_is_dropped_as_phonenumbers_drops_it(written, e164):
    assert normalise_phone(written) == e164 == normalise_phone(e164)


def test_a_number_written_with_its_trunk_zero_is_the_caller_connect_reports(deps):
    customers.put_customer(deps, TENANT, "c-uk", customers.CustomerProfile(tier="platinum", phones=["+44 020 7946 0958"]))
    assert customers.get_customer(deps, TENANT, "c-uk").phones == (UK,)
    event = fixture("voice_inbound", action="identify")
    event["Details"]["ContactData"]["CustomerEndpoint"] = {"Address": UK, "Type": "TELEPHONE_NUMBER"}
    reply = ask(deps, event)
    assert (reply["found"], reply["customer_id"], reply["tier"]) == ("true", "c-uk", "platinum")
    with pytest.raises(Conflict):  # one number, one customer
        customers.put_customer(deps, TENANT, "c-dup", customers.CustomerProfile(tier="standard", phones=[UK]))


def test_a_callback_typed_with_its_trunk_zero_dials_the_number_that_was_checked(deps):
    assert check_destination("+4402079460958") == UK  # what the check parsed is what is stored
    reply = ask(deps, fixture("voice_inbound", action="callback", queue_id="sales", phone="+44 020 7946 0958"))
    assert reply["scheduled"] == "true", reply
    assert deps.store.get_contact(TENANT, reply["callback_contact_id"]).callback_number == UK


def _callback_event(connect_id: str) -> dict:
    event = fixture("voice_inbound", action="callback", queue_id="sales")
    event["Details"]["ContactData"]["ContactId"] = connect_id
    return event


@pytest.fixture
def slow_scheduling(monkeypatch):
    real = contacts.schedule_callback

    def slow(*args, **kwargs):
        time.sleep(0.3)  # a busy moment: both calls are past the "already one?" read before either writes
        return real(*args, **kwargs)

    monkeypatch.setattr(contacts, "schedule_callback", slow)


def test_overlapping_calls_for_one_connect_contact_schedule_one_callback(deps, slow_scheduling):
    """The flow's block timed out while the first call was still scheduling, and the flow asked again."""
    event = _callback_event("overlap-1")
    replies: list[dict[str, str]] = []
    threads = [threading.Thread(target=lambda: replies.append(connect_flow.answer(lambda: deps, event)[0])) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert len({r["callback_contact_id"] for r in replies}) == 1, replies
    assert sorted(r["repeated"] for r in replies) == ["false", "true"] and {r["scheduled"] for r in replies} == {"true"}
    assert len([c for c in deps.store.contacts.values() if c.callback_number]) == 1


def test_the_retry_a_timeout_reply_invites_gets_the_same_callback(deps, slow_scheduling):
    event = _callback_event("timed-out-1")
    first, _ = connect_flow.answer(lambda: deps, event, budget_s=0.1)  # the work goes on after the reply
    assert first["error_code"] == "timeout"
    time.sleep(0.5)  # ... and completes
    retry, _ = connect_flow.answer(lambda: deps, event, budget_s=5)
    assert (retry["status"], retry["scheduled"]) == ("ok", "true"), retry
    assert retry["repeated"] == "true" and len([c for c in deps.store.contacts.values() if c.callback_number]) == 1
    milestones = [e.value for e in deps.history.flow_events(TENANT, "timed-out-1") if e.name == "callback_scheduled"]
    assert milestones == [retry["callback_contact_id"]]
    again = ask(deps, event)
    assert (again["callback_contact_id"], again["repeated"], again["scheduled"]) == (retry["callback_contact_id"], "true", "true")


SURROGATE_PARAMETERS = [
    {"action": "route", "queue_id": "\ud800"}, {"action": "log_event", "milestone": "menu_choice", "value": "1\ud800"},
    {"action": "route", "queue_id": "sales", "reason": "bill\ud800"}, {"action": "identify", "customer_id": "c\ud800"},
    {"action": "wait_info", "contact_id": "x\ud800"}, {"action": "x\ud800"}, {"action": "hours", "queue\udfff": "sales"},
]


@pytest.mark.parametrize("parameters", SURROGATE_PARAMETERS)
def test_a_lone_surrogate_in_a_parameter_is_an_invalid_parameter_reply(deps, parameters):
    raw = json.loads(json.dumps(fixture("voice_inbound", parameters)))  # a JSON "\ud800" escape, as the runtime decodes it
    reply, outcome = connect_flow.answer(lambda: deps, raw)
    assert (reply["status"], reply["error_code"], outcome.error_code) == ("error", "invalid_parameter", "invalid_parameter")
    assert "surrogate" in reply["error_message"]
    json.dumps(reply, ensure_ascii=False).encode()  # what the Lambda runtime sends: UTF-8


def test_a_surrogate_elsewhere_in_the_event_never_raises(deps):
    event = fixture("voice_inbound", action="identify")
    event["Details"]["ContactData"]["Attributes"]["said"] = "hi \ud83d"  # text a chat customer typed: read leniently
    assert ask(deps, event)["found"] == "true"
    event["Details"]["ContactData"]["ContactId"] = "5ca32fbd\udc00"  # an id that is no text: not a flow event
    assert ask(deps, event)["error_code"] == "bad_event"


def test_the_reply_path_never_raises_on_encoding():
    reply = error_reply("route\ud800", "not_found", "queue \ud800 not found")
    assert reply["error_message"] == "queue \ufffd not found" and reply["action"] == "route\ufffd"
    assert reply_size(reply) == len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())
    assert flat_reply({"status": "ok", "x\udfff": ["a\ud800"]}) == {"status": "ok", "x\ufffd": "a\ufffd"}
