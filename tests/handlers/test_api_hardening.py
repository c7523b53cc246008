"""Hardening of the API from outside: every bad input a clear 4xx naming the field, live state never
client input, bounded values, redacted free text, and an OpenAPI document that says what routes answer.
Each test sends what an outside test of main once turned into a 5xx or a forged state."""
from __future__ import annotations

import base64
import re

import pytest

from ccaas.bootstrap import dependencies
from tests.lambda_harness import api, api_response

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

CARD = "4111 1111 1111 1111"


def assert_names(body: dict, field: str) -> None:
    """A 4xx body: stable code, a message, and the field to blame."""
    assert body["error"] and body["message"], body
    assert body.get("field") == field or any(field in map(str, p["loc"]) for p in body.get("detail") or []), body


# -- 5xx causes ----------------------------------------------------------------------------------
def test_a_body_that_is_not_utf8_is_a_400(tenant):
    status, body, _ = api_response("POST", "/contacts", tenant.id, raw_body=base64.b64encode(b"\xff\xfe{").decode(),
                                   base64_body=True)
    assert status == 400 and body["error"] == "invalid_body" and "UTF-8" in body["message"]


def test_json_nested_past_the_recursion_limit_is_a_400(tenant):
    status, body, _ = api_response("PUT", "/routing/policy", tenant.id, raw_body="[" * 100_000)
    assert status == 400 and body["error"] == "invalid_json"


@pytest.mark.parametrize("digits", [39, 4_301, 100_000])
def test_an_integer_too_long_to_store_is_a_400_not_a_5xx(tenant, digits):
    """Python refuses to convert integers of over 4,300 digits (a ValueError in json.loads: once a 502);
    DynamoDB keeps 38 significant digits. Both are refused before any route, naming the digits."""
    raw = '{"name": "Q", "channels": ["VOICE"], "priority": -' + "7" * digits + "}"
    status, body, _ = api_response("PUT", "/queues/long", tenant.id, raw_body=raw)
    assert status == 400 and body["error"] == "invalid_json", body
    assert f"{digits} digits" in body["message"] and "7777" not in body["message"], body
    assert "long" not in [q["queue_id"] for q in api("GET", "/queues", tenant.id)[1]]  # nothing written
    status, body = api("PUT", "/queues/long", tenant.id, {"name": "Q", "channels": ["VOICE"], "priority": 10**37})
    assert status == 422 and body["field"] == "priority", body  # 38 digits parse: the model says what is allowed


def test_a_value_over_the_item_limit_is_refused_before_any_write(tenant):
    status, body = api("PUT", "/queues/big", tenant.id, {"name": "q" * 500_000})
    assert status == 422 and body["field"] == "name" and "128" in body["message"]
    status, body = api("PUT", "/queues/big", tenant.id, {"name": "q" * 1_100_000})
    assert status == 413 and body["error"] == "body_too_large"
    assert api("GET", "/queues", tenant.id)[1] == [q for q in api("GET", "/queues", tenant.id)[1] if q["queue_id"] != "big"]


@pytest.mark.parametrize("path, query, field", [
    ("/metrics/historical", {"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ("/metrics/historical", {"to": "9999-12-31T23:59:59"}, "to"),
    ("/metrics/historical/summary", {"from": "9999-12-30"}, "from"),
    ("/forecast/staffing", {"queue": "sales", "date": "9999-12-31"}, "date"),
    ("/forecast/staffing", {"queue": "sales", "date": "0001-01-01"}, "date"),
])
def test_dates_at_the_calendars_edges_are_a_422_naming_the_parameter(tenant, path, query, field):
    status, body = api("GET", path, tenant.id, query=query)
    assert status == 422, body
    assert_names(body, field)
    assert "2000-2100" in body["message"]


# -- forged state ----------------------------------------------------------------------------------
def test_creating_an_agent_takes_only_its_profile(tenant):
    forged = {"name": "Mallory", "capacity": {"VOICE": 1}, "active": {"VOICE": -5}, "status": "AVAILABLE",
              "active_contact_ids": ["c1"], "handled_today": 99, "version": 7}
    status, body = api("PUT", "/agents/mallory", tenant.id, forged)
    assert status == 422 and body["error"] == "validation_error"
    assert {p["loc"][-1] for p in body["detail"]} == {"active", "status", "active_contact_ids", "handled_today", "version"}
    status, created = api("PUT", "/agents/mallory", tenant.id, {"name": "Mallory", "capacity": {"VOICE": 1},
                                                                 "queues": [{"queue_id": "sales"}]})
    assert status == 200 and created["status"] == "OFFLINE"
    stored = dependencies().store.get_agent(tenant.id, "mallory")
    assert (stored.active, stored.active_contact_ids, stored.handled_today, stored.version) == ({}, (), 0, 0)


def test_replacing_a_profile_keeps_live_state_and_real_queue_assignments(tenant):
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, body = api("PUT", "/agents/ana", tenant.id, {"name": "Ana B", "queues": [{"queue_id": "sales", "priority": 2}]})
    assert status == 200 and body["status"] == "AVAILABLE" and body["name"] == "Ana B"
    stored = dependencies().store.get_agent(tenant.id, "ana")
    assert stored.serves("sales").priority == 2 and stored.version >= 1


def test_tenant_and_id_in_a_queue_body_are_refused_not_silently_replaced(tenant):
    status, body = api("PUT", "/queues/support", tenant.id, {"name": "Support", "tenant_id": "other", "queue_id": "x"})
    assert status == 422 and {p["loc"][-1] for p in body["detail"]} == {"tenant_id", "queue_id"}


def test_a_client_cannot_declare_system_made_contacts_or_link_to_unknown_ones(tenant):
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "initiation_method": "CALLBACK"})
    assert status == 422 and body["field"] == "initiation_method" and "INBOUND" in body["message"]
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "previous_contact_id": "nope"})
    assert status == 422 and body["field"] == "previous_contact_id"


@pytest.mark.parametrize("number, why", [
    ("+19005550100", "premium-rate"), ("+4909001234567", "premium-rate"), ("+979123456789", "premium-rate"),
    ("+15005550000", "personal"), ("+881612345678", "non-geographic"), ("+10005550100", "not a valid"),
])
def test_a_callback_number_that_bills_the_business_is_a_422_and_changes_nothing(tenant, number, why):
    """Callback features are a revenue-share fraud target: the number a caller gives is dialed on the account."""
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "callback_number": number})
    assert status == 422 and body["field"] == "callback_number" and why in body["message"], body
    assert number[1:] not in str(body)  # personal data: the reason, never the number
    status, waiting = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    cid = waiting["contact_id"]
    status, body = api("POST", f"/contacts/{cid}/callback", tenant.id, {"phone_number": number})
    assert status == 422 and body["field"] == "phone_number" and why in body["message"], body
    status, after = api("GET", f"/contacts/{cid}", tenant.id)
    assert after["state"] == waiting["state"] and not after.get("callback"), after


# -- unbounded numbers and garbage -----------------------------------------------------------------
@pytest.mark.parametrize("path, payload, field", [
    ("/agents/bob", {"name": "Bob", "capacity": {"CHAT": -1}}, "capacity"),
    ("/agents/bob", {"name": "Bob", "capacity": {"CHAT": 10**9}}, "capacity"),
    ("/agents/bob", {"name": "Bob", "skills": {f"s{i}": 3 for i in range(1000)}}, "skills"),
    ("/agents/bob", {"name": "Bob", "queues": [{"queue_id": "sales"}, {"queue_id": "sales"}]}, "queues"),
    ("/queues/q1", {"name": "Q", "max_wait_s": 10**23}, "max_wait_s"),
    ("/queues/q1", {"name": "Q", "channels": []}, "channels"),
    ("/queues/q1", {"name": "Q", "priority": True}, "priority"),
    ("/queues/q1", {"name": "Q", "sl_threshold_s": 0}, "sl_threshold_s"),
    ("/queues/q1", {"name": "Q", "sl_target": 5e-324}, "sl_target"),  # the fuzz tier's 502 (Decimal underflow)
    ("/queues/q1", {"name": "Q", "channels": ["VOICE"], "required_skills": [{"skill": "x" * 65}]}, "required_skills"),
])
def test_out_of_bounds_values_are_a_422_naming_the_field(tenant, path, payload, field):
    status, body = api("PUT", path, tenant.id, payload)
    assert status == 422, body
    assert_names(body, field)


@pytest.mark.parametrize("payload, field", [
    ({"channel": "VOICE", "queue_id": "sales", "priority": True}, "priority"),
    ({"channel": "VOICE", "queue_id": "sales", "attributes": {"k" * 100_000: "v"}}, "attributes"),
    ({"channel": "VOICE", "queue_id": "sales", "attributes": {"k": "v" * 2000}}, "attributes"),
    ({"channel": "VOICE", "queue_id": "sales", "attributes": {f"k{i}": "v" for i in range(51)}}, "attributes"),
    ({"channel": "PIGEON", "queue_id": "sales"}, "channel"),
])
def test_contact_intake_refuses_garbage_naming_the_field(tenant, payload, field):
    status, body = api("POST", "/contacts", tenant.id, payload)
    assert status == 422, body
    assert_names(body, field)


def test_a_422_says_what_is_allowed_and_never_echoes_the_input(tenant):
    status, body = api("POST", "/contacts", tenant.id, {"channel": "PIGEON", "queue_id": "sales", "reason": CARD})
    assert status == 422 and body["field"] == "channel"
    problem = next(p for p in body["detail"] if p["loc"] == ["body", "channel"])
    assert all(c in problem["msg"] for c in ("VOICE", "CHAT", "TASK")) and "body.channel" in body["message"]
    assert "PIGEON" not in str(body) and "4111" not in str(body)


# -- a JSON body is JSON whatever the header says --------------------------------------------------
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_the_readmes_curl_without_a_content_type_works(tenant, content_type):
    """`curl -d '{...}'` sends form encoding; other clients text/plain or nothing: JSON is JSON."""
    status, body, _ = api_response("PUT", "/agents/ana/status", tenant.id, raw_body='{"status":"AVAILABLE"}',
                                   content_type=content_type)
    assert status == 200 and body["status"] == "AVAILABLE"
    status, body, _ = api_response("PUT", "/agents/ana/status", tenant.id, raw_body="status=AVAILABLE",
                                   content_type="application/x-www-form-urlencoded")
    assert status == 415 and "JSON" in body["message"]


# -- redaction of free text ------------------------------------------------------------------------
def test_reason_and_attribute_values_are_redacted_before_storage(tenant):
    status, body = api("POST", "/contacts", tenant.id, {
        "channel": "CHAT", "queue_id": "sales", "reason": f"card {CARD}",
        "attributes": {"note": f"paid with {CARD}", "ssn": "SSN 123-45-6789", "order": "A-1001"}})
    assert status == 201
    stored = dependencies().store.get_contact(tenant.id, body["contact_id"])
    text = f"{stored.reason} {stored.attributes}"
    assert not re.search(r"4111|6789", text), text
    assert stored.attributes["order"] == "A-1001" and "[CARD]" in stored.attributes["note"]


# -- the contact view says why a contact was abandoned --------------------------------------------
def test_an_abandoned_contact_shows_its_reason(tenant):
    _, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales"})
    status, gone = api("POST", f"/contacts/{created['contact_id']}/abandon", tenant.id)
    assert status == 200 and gone["state"] == "ABANDONED" and gone["abandon_reason"] == "CUSTOMER_LEFT"


# -- the OpenAPI document tells the truth ----------------------------------------------------------
def test_every_route_documents_the_statuses_it_answers(tenant):
    status, document = api("GET", "/openapi.json", tenant.id)
    assert status == 200
    error_schema = document["components"]["schemas"]["ErrorBody"]
    assert {"error", "message"} <= set(error_schema["required"])
    assert "msg" in document["components"]["schemas"]["FieldProblem"]["required"]
    created = {("post", "/contacts"), ("post", "/contacts/{contact_id}/messages"),
               ("post", "/contacts/{contact_id}/transcript"), ("post", "/contacts/{contact_id}/survey"),
               ("post", "/keys"), ("post", "/campaigns")}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            success = "201" if (method, path) in created else "200"
            assert success in codes and {"401", "403", "422"} <= codes, (method, path, codes)
            assert ("{" not in path) or "404" in codes, (method, path)
            if method in ("post", "put"):
                assert {"400", "409", "413", "415"} <= codes, (method, path, codes)
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)


def test_documented_error_statuses_are_the_ones_answered(tenant):
    """Each error status the document promises is produced by a real request, in the documented shape."""
    answers = {
        404: api("GET", "/contacts/nope", tenant.id),
        409: api("POST", "/agents/ana/contacts/nope/accept", tenant.id),
        422: api("POST", "/contacts", tenant.id, {"channel": "VOICE"}),
        400: api_response("POST", "/contacts", tenant.id, raw_body="{")[:2],
        415: api_response("POST", "/contacts", tenant.id, raw_body="a=b", content_type="application/xml")[:2],
        401: api("GET", "/agents", None),
    }
    for expected, (status, body) in answers.items():
        if expected == 409:  # an unknown contact for a known agent is a 404 first
            assert status == 404
            continue
        assert status == expected, (expected, body)
        assert set(body) >= {"error", "message"}, body


def test_a_routing_policy_too_large_to_store_is_a_422_naming_queues(tenant):
    status, body = api("PUT", "/routing/policy", tenant.id, {"queues": {f"q{i}": {} for i in range(201)}})
    assert status == 422 and body["field"] == "queues", body
    status, body = api("PUT", "/routing/policy", tenant.id, {"queues": {"x" * 1_000: {}}})
    assert status == 422 and body["field"].startswith("queues"), body


def test_hours_starting_at_24_00_are_a_422_naming_start_and_leave_the_queue_answering(tenant):
    """Accepted once, such a range made every later hours check raise: GET /queues/{id}/hours and POST /contacts 5xx."""
    weekly = {"mon": [{"start": "24:00", "end": "02:00"}]}
    status, body = api("PUT", "/routing/policy", tenant.id, {"queue_defaults": {"hours": {"weekly": weekly}}})
    assert status == 422 and body["field"] == "queue_defaults.hours.weekly.mon[0].start", body
    assert api("GET", "/queues/sales/hours", tenant.id)[0] == 200
    assert api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})[0] == 201


def test_a_422_in_a_list_names_the_item_by_its_position(tenant):
    """`field` is the path as written in the body: which list item is wrong, not just which list."""
    skills = [{"skill": "billing"}, {"skill": "x" * 65}]
    status, body = api("PUT", "/queues/q1", tenant.id, {"name": "Q", "channels": ["VOICE"], "required_skills": skills})
    assert status == 422, body
    assert body["field"] == "required_skills[1].skill", body
    assert body["message"].startswith("body.required_skills.1.skill: "), body
    status, body = api("PUT", "/queues/q1", tenant.id, {"name": "Q", "channels": ["VOICE", "PIGEON"]})
    assert status == 422 and body["field"] == "channels[1]", body


@pytest.mark.parametrize("path, extra", [("/agents/named", {}), ("/queues/named", {"channels": ["VOICE"]})])
def test_names_people_read_refuse_control_characters_and_keep_any_other_text(tenant, path, extra):
    for name in ("A\u0000B", "line one\nline two", "tab\there", "del\u007f"):
        status, body = api("PUT", path, tenant.id, {"name": name, **extra})
        assert status == 422 and body["field"] == "name", (name, body)
        listing, _, entity_id = path.rpartition("/")
        written = [i.get("agent_id", i.get("queue_id")) for i in api("GET", listing, tenant.id)[1]]
        assert entity_id not in written  # nothing written (there is no GET /queues/{id})
    status, body = api("PUT", path, tenant.id, {"name": "Zoë Ångström 😀 — 東京", **extra})
    assert status == 200 and body["name"] == "Zoë Ångström 😀 — 東京", body
