"""The journey spec language's loose ends found by outside probe 37 (journeys finding 6 and the caller's number):
`expect.reply` passed on a key the reply does not have when the expected value was "None" (str(None)); and
`inputs.phone` took any text (an SSN-like 123-45-6789) as the caller's number."""
from __future__ import annotations

import json

import pytest

import ccaas.api.common as common
import ccaas.bootstrap as bootstrap
from ccaas.adapters.aws.journeys import LambdaEntryPoints
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.journeys import JourneySuite, Observation, SpecError, evaluate, parse_journey, parse_suite
from ccaas.domain.vocabulary import STORED_DOCUMENT
from ccaas.usecases import admin, journeys

IDENTIFY = {"action": "identify"}


def _step(reply: dict):
    return parse_journey({"name": "j", "steps": [{**IDENTIFY, "expect": {"reply": reply}}]}).steps[0]


# ------------------------------------------------------------------------------------- expect.reply
@pytest.mark.parametrize("wanted", ["None", "", "x"])
def test_a_reply_key_the_reply_does_not_have_fails_naming_the_key(wanted):
    step = _step({"no_such_key": wanted})
    for reply in ({"status": "ok"}, {"status": "ok", "no_such_key": None}):  # left out (the flow's way), or null
        [failure] = evaluate(step, Observation(values={"status": "ok"}, reply=reply))
        assert failure.expectation == "reply.no_such_key" and failure.absent
        assert str(failure) == f"reply.no_such_key: expected {wanted!r}, the reply has no value for it"


def test_a_reply_value_is_compared_as_text():
    step = _step({"tier": "None", "found": "true"})
    assert evaluate(step, Observation(reply={"tier": "None", "found": "true"})) == []
    [failure] = evaluate(step, Observation(reply={"tier": "gold", "found": "true"}))
    assert str(failure) == "reply.tier: expected 'None', observed 'gold'" and not failure.absent


# ------------------------------------------------------------------------------------- inputs.phone
@pytest.mark.parametrize("phone", ["not a phone", "", "123-45-6789", "+0123", "+1 415"])
def test_a_caller_number_the_flow_would_not_read_as_one_is_refused_naming_the_key(phone):
    with pytest.raises(SpecError) as refused:
        parse_suite({"journeys": [{"name": "j", "inputs": {"phone": phone}, "steps": [IDENTIFY]}]})
    assert refused.value.path == "journeys[0].inputs.phone" and "E.164" in refused.value.message
    assert not phone or phone not in str(refused.value)


@pytest.mark.parametrize("phone", ["+14155550101", "+44 (0)20 7946 0000", "0044 20 7946 0000"])
def test_a_number_as_the_flow_reads_it_is_kept_as_written(phone):
    suite = parse_suite({"journeys": [{"name": "j", "inputs": {"phone": phone}, "steps": [IDENTIFY]}]})
    assert suite.journeys[0].inputs.phone == phone  # the flow's own normalisation is what a journey may test


def test_put_settings_journeys_answers_422_without_the_value_and_a_suite_stored_before_still_loads(monkeypatch):
    deps = memory_dependencies()
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    monkeypatch.setattr(bootstrap, "dependencies", lambda: deps)
    admin.register_tenant(deps, tenant_id="acme", name="Acme")
    body = {"journeys": [{"name": "j", "inputs": {"phone": "123-45-6789"},
                          "steps": [{"action": "create_contact", "queue_id": "sales"}]}]}
    status, answer = LambdaEntryPoints("acme", None).api("PUT", "/settings/journeys", body, role="admin")
    assert (status, answer["field"]) == (422, "journeys[0].inputs.phone")
    assert "123-45-6789" not in json.dumps(answer)
    assert journeys.journeys_of(deps, "acme").journeys == ()  # nothing stored
    deps.config.put_settings("acme", journeys.JOURNEYS_SETTINGS, body)  # stored before the check
    assert journeys.journeys_of(deps, "acme").journeys[0].inputs.phone == "123-45-6789"
    assert JourneySuite.model_validate(body, context=STORED_DOCUMENT).journeys[0].name == "j"
