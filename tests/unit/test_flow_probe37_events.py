"""Outside probe of the Connect flow adapter (session 37), the event and the parameters: one odd-typed text field
(a Queue's Name, an endpoint's Address or Type as a number) failed every action with bad_event, whose reply named no
action; `callback` refused a `reason` that route and identify took, with a message naming no parameter."""
from __future__ import annotations

import json
from types import NoneType, UnionType
from typing import Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from ccaas.domain import connect_flow as flow_events
from ccaas.domain.connect_flow import ContactFlowEvent, parse_event
from ccaas.domain.models import Channel
from ccaas.usecases import connect_flow, contacts
from tests.unit.test_connect_flow import LONG_ID, TENANT, ask, deps, fixture  # noqa: F401 - the flow tenant fixture

ODD = [5, 18005550199, 2.5, True, ["x", 1], {"k": "v"}]


def _text_fields(model: type[BaseModel], path: tuple[str, ...] = ()):
    """Every text field of the event model, nested sections included, as a path from the event."""
    for name, field in model.model_fields.items():
        kinds = get_args(field.annotation) if get_origin(field.annotation) in (Union, UnionType) else (field.annotation,)
        kinds = [k for k in kinds if k is not NoneType]
        sections = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
        if sections:
            yield from _text_fields(sections[0], (*path, name))
        elif str in kinds:
            yield (*path, name)


TEXT_FIELDS = list(_text_fields(ContactFlowEvent))


def _with(event: dict, path: tuple[str, ...], value: object) -> dict:
    """The event with the field at `path` set to `value` (the fixture holds every section)."""
    event = json.loads(json.dumps(event))
    holder = event
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value
    return event


def test_the_walk_finds_the_sections_text_fields():
    assert {("Name",), ("Details", "ContactData", "Queue", "Name"), ("Details", "ContactData", "Queue", "ARN"),
            ("Details", "ContactData", "CustomerEndpoint", "Address"), ("Details", "ContactData", "SystemEndpoint", "Type"),
            ("Details", "ContactData", "ContactId")} <= set(TEXT_FIELDS)


@pytest.mark.parametrize("path", TEXT_FIELDS, ids=".".join)
@pytest.mark.parametrize("value", ODD, ids=lambda v: type(v).__name__)
def test_a_text_field_of_any_json_type_is_read_as_a_string(path, value):
    event = parse_event(_with(fixture("voice_inbound", action="hours", queue_id="sales"), path, value))
    read = event
    for part in path:
        read = getattr(read, part)
    assert isinstance(read, str) and read


@pytest.mark.parametrize("path", [p for p in TEXT_FIELDS if p[-1] != "InstanceARN"], ids=".".join)
def test_an_odd_typed_field_never_fails_an_action(deps, path):  # noqa: F811
    for action in ({"action": "hours", "queue_id": "sales"}, {"action": "identify"}):
        reply = ask(deps, _with(fixture("voice_inbound", action), path, 5))
        assert reply["status"] == "ok", reply


def test_the_probes_events(deps):  # noqa: F811
    """/tmp/probe-flows/repro_lenient.py: each was bad_event."""
    base = fixture("voice_inbound", action="hours", queue_id="sales")
    instance = base["Details"]["ContactData"]["InstanceARN"]
    for section, value in {"Queue": {"Name": 5, "ARN": f"{instance}/queue/sales"},
                           "SystemEndpoint": {"Address": 18005550199, "Type": "TELEPHONE_NUMBER"},
                           "CustomerEndpoint": {"Address": "+14155550100", "Type": 1}}.items():
        reply = ask(deps, _with(base, ("Details", "ContactData", section), value))
        assert (reply["status"], reply["action"], reply["open"]) == ("ok", "hours", "true"), reply
    by_name = _with(fixture("voice_inbound", action="route"), ("Details", "ContactData", "Queue"), {"Name": "sales", "ARN": 7})
    assert ask(deps, by_name)["queue_id"] == "sales"  # the ARN (no mapped one) is passed over, the Name still read


def test_a_lone_surrogate_in_a_section_is_read_leniently(deps):  # noqa: F811
    event = _with(fixture("voice_inbound", action="route"), ("Details", "ContactData", "Queue"),
                  {"Name": "sales\ud800", "ARN": "arn\udc00"})
    reply = ask(deps, event)
    assert (reply["status"], reply["error_code"]) == ("error", "missing_parameter"), reply  # no queue of that name
    json.dumps(reply, ensure_ascii=False).encode()


def test_an_error_reply_names_the_action_even_for_an_event_it_cannot_read(deps):  # noqa: F811
    event = fixture("voice_inbound", action="Callback", queue_id="support")
    event["Details"]["ContactData"]["ContactId"] = LONG_ID
    reply, outcome = connect_flow.answer(lambda: deps, event)
    assert (reply["error_code"], reply["action"], outcome.action) == ("bad_event", "callback", "callback")
    surrogate = fixture("voice_inbound", action="route", queue_id="sales\ud800")
    assert ask(deps, surrogate)["action"] == "route"  # invalid_parameter, before the event was read
    assert ask(deps, {"Details": {"Parameters": {"action": "hours"}, "ContactData": []}})["action"] == "hours"
    assert ask(deps, None)["action"] == ""  # no event at all: no action to name


# --- reason: one rule for every action ----------------------------------------------------------------
def test_the_flows_reason_bound_is_post_contacts():
    bound = next(m.max_length for m in contacts.NewContact.model_fields["reason"].metadata if hasattr(m, "max_length"))
    assert flow_events.MAX_REASON == bound == 64


@pytest.mark.parametrize("parameters", [
    {"action": "identify"}, {"action": "identify", "customer_id": "nobody"}, {"action": "route", "queue_id": "sales"},
    {"action": "callback", "queue_id": "support"},
])
def test_a_too_long_reason_is_refused_by_every_action_naming_it(deps, parameters):  # noqa: F811
    before = dict(deps.store.contacts)
    reason = "card 4111111111111111 " + "r" * 60
    reply = ask(deps, fixture("voice_inbound", parameters, reason=reason))
    assert (reply["status"], reply["error_code"], reply["error_message"]) == (
        "error", "invalid_parameter", "reason: at most 64 characters"), reply
    assert "4111111111111111" not in json.dumps(reply) and reply["action"] == parameters["action"]
    assert deps.store.contacts == before  # no callback was created
    fits = ask(deps, fixture("voice_inbound", parameters, reason="r" * 64))
    assert fits["status"] == "ok", fits


def test_a_validation_error_names_the_parameter_never_the_value(deps, monkeypatch):  # noqa: F811
    """Past the flow's own checks, the model's ValidationError (the generic branch) names the field and the kind."""
    monkeypatch.setattr(connect_flow, "MAX_REASON", 1_000, raising=False)  # let the reason reach NewContact
    reason = "4111111111111111" + "r" * 60
    reply = ask(deps, fixture("voice_inbound", action="callback", queue_id="support", reason=reason))
    assert (reply["error_code"], reply["error_message"]) == (
        "invalid_parameter", "reason: String should have at most 64 characters"), reply
    assert "4111111111111111" not in json.dumps(reply)
    with pytest.raises(ValidationError) as refused:
        contacts.NewContact(channel=Channel.VOICE, queue_id="support", callback_number="call me 4111111111111111")
    message = connect_flow._validation_message(refused.value)
    assert message.startswith("phone: String should match pattern") and "4111" not in message
