"""Through serve_api: GET /queues/{id}/wait?contact_id= answers for the queue in the path only, and PUT
/routing/policy keeps a partial reservation.timeout's default (the agent set not-ready)."""
from __future__ import annotations

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Queue
from ccaas.usecases import admin
from tests.lambda_harness import api


def test_the_wait_of_a_contact_is_answered_by_its_own_queue_only(tenant):
    admin.put_queue(dependencies(), Queue(tenant_id=tenant.id, queue_id="support", name="Support"))
    status, created = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})
    assert status == 201, created
    contact_id = created["contact_id"]
    status, body = api("GET", "/queues/no-such-queue/wait", tenant.id, query={"contact_id": contact_id})
    assert status == 404 and body["field"] == "queue_id", body
    status, body = api("GET", "/queues/support/wait", tenant.id, query={"contact_id": contact_id})
    assert status == 404 and body["field"] == "contact_id" and "sales" not in str(body), body
    status, body = api("GET", "/queues/sales/wait", tenant.id, query={"contact_id": contact_id})
    assert status == 200 and body["queue_id"] == "sales" and body["contact_id"] == contact_id, body


def test_a_partial_timeout_object_keeps_setting_the_agent_not_ready(tenant):
    status, body = api("PUT", "/routing/policy", tenant.id,
                       {"reservation": {"timeout_s": 5, "timeout": {"not_ready_status": "LUNCH"}}})
    assert status == 200, body
    assert body["reservation"]["timeout"] == {"reoffer": True, "set_not_ready": True, "not_ready_status": "LUNCH"}
    assert api("GET", "/routing/policy", tenant.id)[1]["reservation"]["timeout"]["set_not_ready"] is True
