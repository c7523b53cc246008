"""Losing the race for an escalation reads the same from an agent's key as from a supervisor's: 409 "already taken".
An agent key lost with 404 "contact … not found" once the winner held it (the access check let an agent's key reach
an escalation only while nobody held it). An agent who never could have taken it still gets the 404 an unknown id
gets. README "Transfers" (take an escalation) and "Roles"."""
from __future__ import annotations

import json
import uuid

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.usecases import admin
from tests.lambda_harness import api, connected_contact, context, load_handler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def _escalation_waiting(tenant, env) -> tuple[str, str]:
    """ana escalates her call into `supervisors` while sam and emma (its agents) are OFFLINE; its workflow queues
    it; then both come AVAILABLE (saved as such: nothing offers it to them). ben serves only sales."""
    deps = dependencies()
    admin.put_queue(deps, Queue(tenant_id=tenant.id, queue_id="supervisors", name="Supervisors"))
    for agent_id, queue_id in (("sam", "supervisors"), ("emma", "supervisors"), ("ben", "sales")):
        admin.put_agent(deps, Agent(tenant_id=tenant.id, agent_id=agent_id, name=agent_id.title(),
                                    queues=(QueueAssignment(queue_id=queue_id),)))
    cid = connected_contact(tenant, env)
    assert api("PUT", "/settings/transfers", tenant.id, {"escalation_queue_id": "supervisors"})[0] == 200
    status, segment = api("POST", f"/agents/ana/contacts/{cid}/escalate", tenant.id, {"reason": "manager"},
                          role="agent", agent_id="ana")
    assert status == 200, segment
    env("route_contact")
    load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": segment["contact_id"], "task_token": "tok"},
                                  context())
    env("serve_api")
    for agent_id in ("sam", "emma", "ben"):
        held = deps.store.get_agent(tenant.id, agent_id)
        deps.store.save(agents=[held.model_copy(update={"status": "AVAILABLE", "version": held.version + 1})])
    assert api("GET", f"/contacts/{segment['contact_id']}", tenant.id, role="supervisor")[1]["state"] == "QUEUED"
    return cid, segment["contact_id"]


def test_an_agent_who_loses_the_race_gets_the_supervisors_409_and_one_who_never_could_a_404(tenant, env):
    _, seg = _escalation_waiting(tenant, env)
    status, taken = api("POST", f"/agents/sam/contacts/{seg}/take", tenant.id, role="supervisor")
    assert status == 200 and taken["agent_id"] == "sam" and taken["state"] == "CONNECTED", taken
    # emma serves the escalation's queue: she could have taken it, and loses as a supervisor's key does
    by_supervisor = api("POST", f"/agents/emma/contacts/{seg}/take", tenant.id, role="supervisor")
    by_agent = api("POST", f"/agents/emma/contacts/{seg}/take", tenant.id, role="agent", agent_id="emma")
    assert by_agent == by_supervisor, (by_agent, by_supervisor)
    assert by_agent[0] == 409 and "already taken" in by_agent[1]["message"] and by_agent[1]["field"] == "contact_id"
    # ben (sales only) and ana (who sent it) never could: answered exactly as an unknown id is, nothing named
    unknown = f"c{uuid.uuid4().hex[:10]}"
    for agent_id in ("ben", "ana"):
        expected = api("POST", f"/agents/{agent_id}/contacts/{unknown}/take", tenant.id, role="agent", agent_id=agent_id)
        status, answer = api("POST", f"/agents/{agent_id}/contacts/{seg}/take", tenant.id, role="agent", agent_id=agent_id)
        assert expected[0] == 404 and (status, json.dumps(answer).replace(seg, unknown)) == (404, json.dumps(expected[1]))
        assert "sam" not in answer["message"] and "CONNECTED" not in answer["message"]
    # every other verb on sam's escalation is still a 404 for emma's key (only `take` tells a lost race)
    for verb in ("accept", "reject", "complete", "hold"):
        status, answer = api("POST", f"/agents/emma/contacts/{seg}/{verb}", tenant.id, {}, role="agent", agent_id="emma")
        assert status == 404 and "sam" not in answer["message"], (verb, answer)


def test_the_supervisor_an_escalation_names_loses_with_a_409_too(tenant, env):
    """Named, it is offered to emma at once; she misses it, it waits in ana's queue, and ben (of that queue) takes
    it: emma, whom it named, learns it was taken."""
    deps = dependencies()
    admin.put_queue(deps, Queue(tenant_id=tenant.id, queue_id="supervisors", name="Supervisors"))
    admin.put_agent(deps, Agent(tenant_id=tenant.id, agent_id="emma", name="Emma",
                                queues=(QueueAssignment(queue_id="supervisors"),)))
    admin.put_agent(deps, Agent(tenant_id=tenant.id, agent_id="ben", name="Ben", queues=(QueueAssignment(queue_id="sales"),)))
    cid = connected_contact(tenant, env)
    assert api("PUT", "/agents/emma/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, seg = api("POST", f"/agents/ana/contacts/{cid}/escalate", tenant.id, {"reason": "x", "supervisor_id": "emma"},
                      role="agent", agent_id="ana")
    assert status == 200 and seg["agent_id"] == "emma", seg
    assert api("POST", f"/agents/emma/contacts/{seg['contact_id']}/reject", tenant.id, role="agent", agent_id="emma")[0] == 200
    assert api("PUT", "/agents/ben/status", tenant.id, {"status": "AVAILABLE"})[0] == 200  # offered to ben at once
    assert api("POST", f"/agents/ben/contacts/{seg['contact_id']}/accept", tenant.id, role="agent", agent_id="ben")[0] == 200
    status, answer = api("POST", f"/agents/emma/contacts/{seg['contact_id']}/take", tenant.id, role="agent", agent_id="emma")
    assert status == 409 and "already taken" in answer["message"], answer
