"""The outside testers' customer-directory findings of session 38 through serve_api on moto (the domain and use-case
tests are tests/unit/test_customers_fixes_38.py): a customer stored with a number a second normalisation refuses
reads back everywhere (GET, POST /contacts, the agent's offers), a number normalisation cannot settle is a 422
naming the field (a lookup was a 502), one length bound for a number, a contact's segment in a tier's shape, and
a 422 that never names an attribute key holding a number or an address."""
from __future__ import annotations

import json

import boto3
import pytest

from ccaas.adapters.aws.customers import alias_key, customer_key
from tests.aws_stack import function_environment
from tests.lambda_harness import api, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_a_customer_an_earlier_release_stored_reads_back_on_every_route(stack, env, tenant):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = function_environment(stack, "serve_api")["CUSTOMERS_TABLE"]
    doc = {"tenant_id": tenant.id, "customer_id": "kr9", "tier": "gold", "phones": ["+82023009"], "emails": [],
           "updated_at": 1}  # what PUT answered for "+82088023009" before (a second pass refuses +82023009)
    client.put_item(TableName=table, Item={**customer_key(tenant.id, "kr9"), "doc": {"S": json.dumps(doc)},
                                           "rev": {"N": "1"}, "customer_id": {"S": "kr9"}, "aliases": {"S": "id-only"}})
    client.put_item(TableName=table, Item={**alias_key(tenant.id, "phone", "+82023009"), "customer_id": {"S": "kr9"}})

    status, body = api("GET", "/customers/kr9", tenant.id)
    assert status == 200 and body["phones"] == ["+82023009"] and body["tier"] == "gold", body
    api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})
    status, created = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "customer_id": "kr9"})
    assert status == 201, created
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": created["contact_id"], "task_token": "t"}, context())
    env("serve_api")
    status, offers = api("GET", "/agents/ana/offers", tenant.id)
    assert status == 200 and [o["contact"]["contact_id"] for o in offers] == [created["contact_id"]], offers
    assert offers[0]["customer"]["tier"] == "gold"
    # its holder sends the number again: now a 422 naming it, and the stored profile is untouched
    status, body = api("PUT", "/customers/kr9", tenant.id, {"tier": "gold", "phones": ["+82088023009"]})
    assert status == 422 and body["field"] == "phones[0]" and "82088023009" not in json.dumps(body), body
    assert api("GET", "/customers/kr9", tenant.id)[1]["phones"] == ["+82023009"]


@pytest.mark.parametrize("phone", ["+490085200", "+43 000 2229", "+61 0000 215", "+82 088 0230 77"])
def test_a_lookup_of_a_number_normalisation_cannot_settle_is_a_422_naming_phone(tenant, phone):
    status, body = api("GET", "/customers", tenant.id, query={"phone": phone})  # was a 502
    assert status == 422 and body["field"] == "phone" and phone not in json.dumps(body), body


def test_one_bound_for_a_number_and_any_separators(tenant):
    assert api("PUT", "/customers/c1", tenant.id, {"phones": ["+1 415 555 0101"]})[0] == 200
    spaced = "+1  415  555  0101" + " " * 30  # 48 characters: the lookup took 32, PUT any length
    status, body = api("GET", "/customers", tenant.id, query={"phone": spaced})
    assert status == 200 and body["customer_id"] == "c1", body
    for spelling in ("+1–415–555–0101", "+1‑415‑555‑0101", "＋１４１５５５５０１０１", " 1 415 555 0101"):
        assert api("GET", "/customers", tenant.id, query={"phone": spelling})[1]["customer_id"] == "c1", spelling
    status, body = api("GET", "/customers", tenant.id, query={"phone": "+1" + " " * 70 + "4155550101"})
    assert status == 422 and body["field"] == "phone"
    status, body = api("PUT", "/customers/c2", tenant.id, {"phones": ["+1" + " " * 70 + "4155550102"]})
    assert status == 422 and body["field"] == "phones[0]"


@pytest.mark.parametrize("segment", ["PLATINUM", "Gold"])
def test_a_contact_s_segment_takes_the_shape_of_a_tier(tenant, segment):
    status, body = api("POST", "/contacts", tenant.id, {"channel": "VOICE", "queue_id": "sales", "segment": segment})
    assert status == 422 and body["field"] == "segment", body


@pytest.mark.parametrize("attributes", [{"ssn 219-09-9999": "v" * 1025}, {"jo.doe@example.com +1 415 555 0101": 5}])
def test_a_422_never_names_an_attribute_key_holding_a_number_or_an_address(tenant, attributes):
    (key,) = attributes
    for method, path, body in (("PUT", "/customers/lim3", {"attributes": attributes}),
                               ("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales", "attributes": attributes})):
        status, answer = api(method, path, tenant.id, body)
        text = json.dumps(answer, ensure_ascii=False)
        assert status == 422 and answer["field"].startswith("attributes.<not shown"), answer
        assert all(piece not in text for piece in (key, "219", "example.com", "555")), text
