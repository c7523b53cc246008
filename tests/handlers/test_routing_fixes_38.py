"""Round 38's routing fixes through the API on moto (tests/unit/test_routing_fixes_38.py has the rules): a supervisor
logs off an agent whose desktop died, mid-conversation and in after-contact work, and may end its ACW."""
from __future__ import annotations

from tests.handlers.conftest import new_tenant
from tests.lambda_harness import api, connected_contact


def test_a_supervisor_logs_off_an_agent_whose_desktop_died_mid_contact(tenant, env):
    contact_id = connected_contact(tenant, env)
    status, body = api("PUT", "/agents/ana/status", tenant.id, {"status": "OFFLINE"}, role="agent", agent_id="ana")
    assert status == 409 and "finish them" in body["message"]  # the agent's own: still finish first

    status, body = api("PUT", "/agents/ana/status", tenant.id, {"status": "OFFLINE"}, role="supervisor")
    assert status == 200, body  # was 409 "has contacts in progress"
    assert (body["status"], body["next_status"], body["activity"]) == ("AVAILABLE", "OFFLINE", "ON_CONTACT")
    assert api("GET", "/agents/ana", tenant.id)[1]["next_status"] == "OFFLINE"

    assert api("POST", f"/contacts/{contact_id}/disconnect", tenant.id, role="integration")[0] == 200
    status, body = api("POST", f"/agents/ana/contacts/{contact_id}/end-acw", tenant.id, role="supervisor")
    assert status == 200 and body["state"] == "COMPLETED", body  # was 403: agent role only
    shown = api("GET", "/agents/ana", tenant.id)[1]
    assert (shown["status"], shown["next_status"], shown["activity"]) == ("OFFLINE", None, "OFFLINE")


def test_a_supervisors_offline_ends_the_acw_of_an_agent_in_it(tenant, env):
    contact_id = connected_contact(tenant, env)
    assert api("POST", f"/contacts/{contact_id}/disconnect", tenant.id, role="integration")[0] == 200
    status, body = api("PUT", "/agents/ana/status", tenant.id, {"status": "OFFLINE"}, role="supervisor")
    assert status == 200 and (body["status"], body["activity"], body["acw_contact_ids"]) == ("OFFLINE", "OFFLINE", [])
    assert api("GET", f"/contacts/{contact_id}", tenant.id)[1]["state"] == "COMPLETED"


def test_a_supervisor_ends_only_its_own_tenants_acw(tenant, env):
    contact_id = connected_contact(tenant, env)
    assert api("POST", f"/contacts/{contact_id}/disconnect", tenant.id, role="integration")[0] == 200
    other = new_tenant()
    status, body = api("POST", f"/agents/ana/contacts/{contact_id}/end-acw", other.id, role="supervisor")
    assert status == 404, body
    assert api("GET", f"/contacts/{contact_id}", tenant.id)[1]["state"] == "ACW"
