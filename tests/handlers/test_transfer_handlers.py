"""Transfers through serve_api on moto (DynamoDB transactions): the README's consult that becomes a
conference, and every refusal as a 409/422 naming the reason, with nothing written."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.usecases import admin
from tests.lambda_harness import api, connected_contact, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _team(tenant, *others: str) -> None:
    deps = dependencies()
    admin.put_queue(deps, Queue(tenant_id=tenant.id, queue_id="billing", name="Billing"))
    admin.put_queue(deps, Queue(tenant_id=tenant.id, queue_id="mail", name="Mail", channels=frozenset({"EMAIL"})))
    for agent_id in others:
        admin.put_agent(deps, Agent(tenant_id=tenant.id, agent_id=agent_id, name=agent_id.title(),
                                    queues=(QueueAssignment(queue_id="sales"), QueueAssignment(queue_id="billing"))))
        assert api("PUT", f"/agents/{agent_id}/status", tenant.id, {"status": "AVAILABLE"})[0] == 200


def _route(env, tenant, contact_id: str, token: str) -> None:
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": contact_id, "task_token": token}, context())
    env("serve_api")


def _connected(tenant, env) -> str:
    return connected_contact(tenant, env, customer_id="cust-1")


def test_a_consult_that_becomes_a_conference_as_the_readme_shows(tenant, env):
    cid = _connected(tenant, env)
    _team(tenant, "ben")
    status, leg = api("POST", f"/agents/ana/contacts/{cid}/consult", tenant.id,
                      {"to": {"agent_id": "ben"}, "reason": "refund", "note": "double charge on the 3rd"})
    assert status == 200, leg
    assert leg["consult_of"] == cid and leg["state"] == "OFFERED" and leg["agent_id"] == "ben"
    assert leg["handover"]["mode"] == "CONSULT" and leg["handover"]["note"] == "double charge on the 3rd"
    status, source = api("GET", f"/contacts/{cid}", tenant.id)
    assert source["on_hold"] and source["consult_contact_id"] == leg["contact_id"]
    # ben sees the offer with who sent it and why.
    status, offers = api("GET", "/agents/ben/offers", tenant.id)
    assert offers[0]["contact"]["handover"]["from_agent_id"] == "ana"
    assert api("POST", f"/agents/ben/contacts/{leg['contact_id']}/accept", tenant.id)[0] == 200
    status, joined = api("POST", f"/agents/ana/contacts/{cid}/consult/conference", tenant.id)
    assert status == 200, joined
    assert joined["conference_with"] == leg["contact_id"] and not joined["on_hold"] and joined["hold_count"] == 1
    # ana leaves: her segment ends TRANSFERRED after ACW; ben keeps the customer.
    status, left = api("POST", f"/agents/ana/contacts/{cid}/complete", tenant.id)
    assert status == 200 and left["state"] == "ACW" and left["next_contact_id"] == leg["contact_id"]
    assert api("POST", f"/agents/ana/contacts/{cid}/end-acw", tenant.id)[1]["state"] == "TRANSFERRED"
    status, chain = api("GET", f"/contacts/{leg['contact_id']}/segments", tenant.id)
    assert [(c["contact_id"], c["state"]) for c in chain] == [(cid, "TRANSFERRED"), (leg["contact_id"], "CONNECTED")]
    assert chain[1]["initial_contact_id"] == cid and chain[1]["initiation_method"] == "TRANSFER"


def test_refusals_name_the_reason_and_write_nothing(tenant, env):
    cid = _connected(tenant, env)
    _team(tenant, "ben")
    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="off", name="Off", queues=(QueueAssignment(queue_id="sales"),)))
    before = api("GET", f"/contacts/{cid}", tenant.id)[1]
    cases = [
        ({"to": {"agent_id": "off"}}, 409, "conflict", "not AVAILABLE"),
        ({"to": {"agent_id": "ana"}}, 422, "agent_id", "agent who holds it"),
        ({"to": {"queue_id": "mail"}}, 422, "channel", "does not take VOICE"),
        ({"to": {"queue_id": "elsewhere"}}, 422, "queue_id", "does not exist"),
        ({"to": {"queue_id": "billing", "agent_id": "ben"}}, 422, "to", "exactly one"),
        ({"to": {"quick_connect_id": "legal"}}, 422, "quick_connect_id", "does not exist"),
        ({"to": {"queue_id": "billing"}, "priority": True}, 422, "priority", ""),
    ]
    for body, status, where, message in cases:
        got, answer = api("POST", f"/agents/ana/contacts/{cid}/transfer", tenant.id, body)
        assert got == status, (body, answer)
        assert message in answer["message"] or any(message in (d.get("message") or "") for d in answer.get("details", [])), answer
        assert where in str(answer), answer
    assert api("GET", f"/contacts/{cid}", tenant.id)[1] == before
    status, answer = api("POST", f"/agents/ben/contacts/{cid}/transfer", tenant.id, {"to": {"queue_id": "billing"}})
    assert status == 404 and answer["message"] == f"contact {cid} not found"  # an agent learns nothing of another's contact


def test_another_tenants_queue_is_unknown_to_the_caller(tenant, env):
    cid = _connected(tenant, env)
    deps = dependencies()
    admin.register_tenant(deps, tenant_id=f"{tenant.id}x", name="Other")
    admin.put_queue(deps, Queue(tenant_id=f"{tenant.id}x", queue_id="vault", name="Vault"))
    status, answer = api("POST", f"/agents/ana/contacts/{cid}/transfer", tenant.id, {"to": {"queue_id": "vault"}})
    assert status == 422 and answer["field"] == "queue_id"


def test_settings_are_the_admins_and_quick_connects_reach_an_external_number(tenant, env):
    cid = _connected(tenant, env)
    settings = {"quick_connects": {"legal": {"name": "Legal", "phone_number": "+14155550100"}}}
    assert api("PUT", "/settings/transfers", tenant.id, settings, role="supervisor")[0] == 403
    assert api("PUT", "/settings/transfers", tenant.id, {"quick_connects": {"x": {"name": "X", "phone_number": "555"}}})[0] == 422
    # numbers no carrier routes, and premium-rate lines (the caller's company pays per minute: toll fraud)
    for number, why in (("+19005550100", "premium-rate"), ("+10005550100", "not a valid"), ("+999123456789", "not a valid"),
                        ("+18815550100", "not a valid")):
        status, body = api("PUT", "/settings/transfers", tenant.id, {"quick_connects": {"x": {"name": "X", "phone_number": number}}})
        assert status == 422 and body["field"] == "quick_connects.x.phone_number" and why in body["message"], (number, body)
    assert api("PUT", "/settings/transfers", tenant.id, settings)[0] == 200
    assert api("GET", "/settings/transfers", tenant.id, role="supervisor")[1]["quick_connects"]["legal"]["phone_number"] == "+14155550100"
    status, sent = api("POST", f"/agents/ana/contacts/{cid}/transfer", tenant.id, {"to": {"quick_connect_id": "legal"}})
    assert status == 200 and sent["contact_id"] == cid and sent["transferred_to"]["kind"] == "EXTERNAL"


def test_hold_resume_and_the_customer_hanging_up(tenant, env):
    cid = _connected(tenant, env)
    assert api("POST", f"/agents/ana/contacts/{cid}/hold", tenant.id)[1]["on_hold"] is True
    assert api("POST", f"/agents/ana/contacts/{cid}/hold", tenant.id)[0] == 409
    assert api("POST", f"/agents/ana/contacts/{cid}/resume", tenant.id)[1]["hold_count"] == 1
    status, ended = api("POST", f"/contacts/{cid}/disconnect", tenant.id)
    assert status == 200 and ended["state"] == "ACW"
    assert api("POST", f"/contacts/{cid}/disconnect", tenant.id)[0] == 409
