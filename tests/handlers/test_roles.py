"""Roles, route by route: every route of the app × every role (and an agent acting on another agent),
through the real serve_api handler with the authorizer's context, against what the route declares.

Generated from the app's route table: a new route without `roles=` does not even import
(ccaas.api.access.Router), and every declared route is called here as every role.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest

from ccaas.api import access
from ccaas.api.app import ROUTES
from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, Channel, Contact, ContactState, QueueAssignment
from ccaas.domain.tenants import Role
from tests.handlers.conftest import new_tenant
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

DECLARED = [r for r in ROUTES if r.include_in_schema]
CALLERS = {  # name -> (role, the agent the key acts as)
    "admin": (Role.ADMIN, None),
    "supervisor": (Role.SUPERVISOR, None),
    "integration": (Role.INTEGRATION, None),
    "agent": (Role.AGENT, "ana"),  # on its own agent id and its own contact
    "agent-other": (Role.AGENT, "ben"),  # the same paths, as another agent
}


def _name(route) -> str:
    return f"{route.method} {route.path}"


def test_every_route_declares_its_roles_and_the_document_says_them():
    assert len(DECLARED) >= 55
    status, document = api("GET", "/openapi.json", None)
    assert status == 200
    for route in DECLARED:
        roles = access.roles_of(route)
        assert roles, _name(route)
        path = re.sub(r"<(\w+)>", r"{\1}", route.path)
        operation = document["paths"][path][route.method.lower()]
        assert operation["x-roles"] == [r.value for r in roles], _name(route)
        assert " or ".join(r.value for r in roles) in operation["responses"]["403"]["description"]


def test_a_route_without_roles_does_not_import():
    router = access.Router()
    with pytest.raises(TypeError):
        router.get("/nowhere")  # roles= is required
    with pytest.raises(ValueError):
        router.get("/nowhere", roles=[])


def _with_ben(tenant):  # noqa: ANN001, ANN202 (the tenant fixture's namespace)
    from ccaas.usecases import admin

    admin.put_agent(dependencies(), Agent(tenant_id=tenant.id, agent_id="ben", name="Ben",
                                          queues=(QueueAssignment(queue_id="sales"),)))
    return tenant


@pytest.fixture
def team(tenant):
    return _with_ben(tenant)


@pytest.fixture(scope="module")
def teams() -> dict:
    return {}


@pytest.fixture
def route_team(env, teams, route):  # noqa: ANN001, ANN201
    """The team of one route: its five callers share a tenant (one route's calls never meet another's
    data), ~12 moto calls made once per route instead of once per call."""
    if _name(route) not in teams:
        teams[_name(route)] = _with_ben(new_tenant())
    return teams[_name(route)]


def _contact_of_ana(tenant_id: str) -> str:
    """A contact offered to ana (saved directly: no workflow, nothing else touches it)."""
    contact_id = f"c{uuid.uuid4().hex[:10]}"
    dependencies().store.save(contacts=[Contact(
        tenant_id=tenant_id, contact_id=contact_id, channel=Channel.CHAT, queue_id="sales", state=ContactState.OFFERED,
        agent_id="ana", initiated_at=1_764_000_000_000, enqueued_at=1_764_000_000_000, offered_at=1_764_000_001_000,
    )])
    return contact_id


def _move(tenant_id: str, contact_id: str, state: ContactState) -> None:
    """The contact saved in `state` (still ana's), as the lifecycle would leave it."""
    store = dependencies().store
    held = store.get_contact(tenant_id, contact_id)
    store.save(contacts=[held.model_copy(update={"state": state, "version": held.version + 1})])


def _path(route, tenant_id: str, caller: str) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "agent_id":
            return "ana"
        if name == "contact_id":
            return _contact_of_ana(tenant_id)
        if name == "key_id":
            return "k_0123456789"
        return "x1"

    return re.sub(r"<(\w+)>", value, route.path)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("route", DECLARED, ids=_name)
def test_each_route_admits_exactly_its_declared_roles(route_team, route, caller):
    role, agent_id = CALLERS[caller]
    declared = access.roles_of(route)
    path = _path(route, route_team.id, caller)
    status, body = api(route.method, path, route_team.id, role=role.value, agent_id=agent_id)
    if role not in declared:
        assert status == 403, (_name(route), caller, status, body)
        assert body["error"] == "forbidden" and f"needs role {' or '.join(r.value for r in declared)}" in body["message"]
    elif caller == "agent-other" and "<agent_id>" in route.path:
        assert status == 403 and body["error"] == "forbidden" and "only as agent ben" in body["message"], (status, body)
    elif caller == "agent-other":  # a contact that is not its own: as if it did not exist
        assert status == 404 and body["field"] == "contact_id", (_name(route), status, body)
    else:
        assert status != 403, (_name(route), caller, status, body)
        assert status < 500


def test_an_agent_acts_only_as_itself_and_only_in_its_tenant(team):
    other = f"{team.id}z"
    status, body = api("PUT", "/agents/ben/status", team.id, {"status": "AVAILABLE"}, role="agent", agent_id="ana")
    assert status == 403 and body["error"] == "forbidden"
    assert api("PUT", "/agents/ana/status", team.id, {"status": "AVAILABLE"}, role="agent", agent_id="ana")[0] == 200
    assert api("GET", "/agents/ben/offers", team.id, role="agent", agent_id="ana")[0] == 403
    contact_id = _contact_of_ana(team.id)
    status, _ = api("POST", f"/agents/ben/contacts/{contact_id}/accept", team.id, role="agent", agent_id="ana")
    assert status == 403
    status, _ = api("POST", f"/agents/ana/contacts/{contact_id}/accept", team.id, role="agent", agent_id="ben")
    assert status == 403
    # ben, on its own path, on ana's offer: a 404 as for an unknown contact (no state, no holder named), nothing changes
    for verb in ("accept", "reject", "complete", "end-acw", "hold", "resume", "escalate", "take"):
        status, body = api("POST", f"/agents/ben/contacts/{contact_id}/{verb}", team.id, {"reason": "x"}, role="agent", agent_id="ben")
        assert status == 404 and "ana" not in body["message"] and "OFFERED" not in body["message"], (verb, body)
    status, body = api("GET", f"/contacts/{contact_id}", team.id, role="agent", agent_id="ana")
    assert status == 200 and body["agent_id"] == "ana"
    assert api("GET", f"/contacts/{contact_id}", team.id, role="agent", agent_id="ben")[0] == 404
    # Another tenant's credential never reaches this tenant's data (the tenant is the credential's).
    assert api("GET", f"/contacts/{contact_id}", other, role="agent", agent_id="ana")[0] == 404
    assert api("GET", "/agents/ana", other, role="agent", agent_id="ana")[0] == 404
    assert api("GET", f"/contacts/{contact_id}", other, role="supervisor")[0] == 404


_AGENT_VERBS = ("accept", "reject", "complete", "end-acw", "hold", "resume", "transfer", "consult", "escalate",
                "take", "consult/cancel", "consult/complete", "consult/conference")


def test_a_contact_nobody_holds_is_not_found_on_an_agents_own_paths_as_an_unknown_one(team):
    """A contact waiting in a queue (or ended before anyone answered) is not ben's: on ben's own contact paths every
    verb answers exactly as for an id that does not exist, never a 409 naming its state (an agent's key could probe
    the tenant's contacts otherwise). Ben serves the contact's queue, so only the answer stands between."""
    waiting = _contact_of_ana(team.id)
    _move(team.id, waiting, ContactState.QUEUED)
    store = dependencies().store
    held = store.get_contact(team.id, waiting)
    store.save(contacts=[held.model_copy(update={"agent_id": None, "offered_at": None, "version": held.version + 1})])
    ended = _contact_of_ana(team.id)
    held = store.get_contact(team.id, ended)
    store.save(contacts=[held.model_copy(update={"state": ContactState.ABANDONED, "agent_id": None, "version": held.version + 1})])
    unknown = f"c{uuid.uuid4().hex[:10]}"
    body = {"reason": "x", "to": {"queue_id": "sales"}}
    for verb in _AGENT_VERBS:
        expected = api("POST", f"/agents/ben/contacts/{unknown}/{verb}", team.id, body, role="agent", agent_id="ben")
        assert expected[0] == 404, (verb, expected)
        for contact_id in (waiting, ended):
            status, answer = api("POST", f"/agents/ben/contacts/{contact_id}/{verb}", team.id, body, role="agent", agent_id="ben")
            assert (status, json.dumps(answer).replace(contact_id, unknown)) == (404, json.dumps(expected[1])), (verb, answer)
    assert store.get_contact(team.id, waiting).state == ContactState.QUEUED
    # An offer ben missed went back to the queue: ben may still learn what became of it (a 409, not a 404).
    held = store.get_contact(team.id, waiting)
    store.save(contacts=[held.model_copy(update={"declined_by": ("ben",), "version": held.version + 1})])
    status, answer = api("POST", f"/agents/ben/contacts/{waiting}/accept", team.id, role="agent", agent_id="ben")
    assert status == 409 and "QUEUED" in answer["message"], answer
    # A supervisor's key reads everything of its tenant: its answers may say why.
    status, answer = api("POST", f"/agents/ben/contacts/{waiting}/take", team.id, role="supervisor")
    assert status == 422 and "not an escalation" in answer["message"], answer


def test_an_agent_posts_its_own_chat_messages_never_the_customers(team):
    """The customer's messages come from the chat service, and so do given send times: an agent key posting as
    the customer (or the system), or back-dating its own message, would forge what the contact's sentiment,
    compliance timing and QA score are read from."""
    contact_id = _contact_of_ana(team.id)
    path = f"/contacts/{contact_id}/messages"
    for forged in ("CUSTOMER", "SYSTEM"):
        status, body = api("POST", path, team.id, {"participant_role": forged, "content": "best agent ever, thanks!"},
                           role="agent", agent_id="ana")
        assert status == 403 and body["error"] == "forbidden" and "participant_role AGENT" in body["message"], body
    back_dated = {"participant_role": "AGENT", "content": "calls are recorded", "absolute_time": "2026-01-01T00:00:00Z"}
    status, body = api("POST", path, team.id, back_dated, role="agent", agent_id="ana")
    assert status == 403 and "absolute_time" in body["message"], body
    own = {"participant_role": "AGENT", "content": "happy to help"}
    # not into an offer it has not accepted
    status, body = api("POST", path, team.id, own, role="agent", agent_id="ana")
    assert status == 409 and "CONNECTED" in body["message"], body
    _move(team.id, contact_id, ContactState.CONNECTED)
    assert api("POST", path, team.id, own, role="agent", agent_id="ana")[0] == 201
    assert api("POST", path, team.id, {"participant_role": "CUSTOMER", "content": "thanks"}, role="integration")[0] == 201
    # nor into the closed transcript once it left the conversation; the customer's late words still arrive
    _move(team.id, contact_id, ContactState.COMPLETED)
    assert api("POST", path, team.id, {"participant_role": "AGENT", "content": "added later"}, role="agent", agent_id="ana")[0] == 409
    assert api("POST", path, team.id, {"participant_role": "CUSTOMER", "content": "bye"}, role="integration")[0] == 201
    stored = api("GET", path, team.id, role="supervisor")[1]
    assert [(m["participant_role"], m["content"]) for m in stored] == [("AGENT", "happy to help"), ("CUSTOMER", "thanks"),
                                                                       ("CUSTOMER", "bye")]


def test_a_supervisor_changes_any_agents_status_but_does_not_answer_for_it(team):
    status, body = api("PUT", "/agents/ben/status", team.id, {"status": "NOT_READY"}, role="supervisor")
    assert status == 200 and body["status"] == "NOT_READY"
    contact_id = _contact_of_ana(team.id)
    status, body = api("POST", f"/agents/ana/contacts/{contact_id}/accept", team.id, role="supervisor")
    assert status == 403 and "needs role agent" in body["message"]
    status, body = api("PUT", "/routing/policy", team.id, {}, role="supervisor")
    assert status == 403 and "needs role admin" in body["message"]


def test_a_context_without_a_role_is_an_admin_one(team):
    """An authorizer answer cached from before roles (tenant only) still speaks for the tenant as admin."""
    from tests.lambda_harness import context, load_handler

    event = {"resource": "/{proxy+}", "path": "/queues", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
             "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": {"proxy": "queues"}, "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"stage": "v1", "requestId": "r", "httpMethod": "GET", "path": "/v1/queues",
                                "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                                "authorizer": {"tenant_id": team.id, "principalId": team.id}}}
    response = load_handler("serve_api")(event, context("serve_api"))
    assert response["statusCode"] == 200
    event["path"] = "/contacts"
    event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
    event["body"] = '{"channel":"VOICE","queue_id":"sales"}'
    assert load_handler("serve_api")(event, context("serve_api"))["statusCode"] == 403
