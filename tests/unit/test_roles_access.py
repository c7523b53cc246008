"""The role rule and the key use-cases on the in-memory twins (the handler-level matrix is
tests/handlers/test_roles.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, UnauthorizedError

from ccaas.api import access
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import Conflict, DomainError, NotFound
from ccaas.domain.tenants import Credential, Role
from ccaas.usecases import admin


def _route(method: str, path: str, roles=None, include_in_schema: bool = True):
    extensions = None if roles is None else {access.EXTENSION: [r.value for r in roles]}
    return SimpleNamespace(method=method, path=path, openapi_extensions=extensions, include_in_schema=include_in_schema)


def _context(role: str, agent_id: str = "") -> dict[str, str]:
    return {"tenant_id": "t1", "role": role, "agent_id": agent_id, "key_id": "k_0123456789"}


def test_a_declaration_names_roles_and_an_agent_route_names_what_confines_it():
    access.check_declarations([_route("GET", "/agents/<agent_id>", [Role.AGENT]), _route("GET", "/doc", None, False)])
    with pytest.raises(RuntimeError, match="declares no roles"):
        access.check_declarations([_route("GET", "/queues")])
    with pytest.raises(RuntimeError, match="admits agents"):
        access.check_declarations([_route("GET", "/queues", [Role.AGENT])])


def test_enforce_admits_the_declared_roles_and_confines_agents():
    holders = {"c-ana": "ana", "c-ben": "ben"}

    def contact_of(tenant_id, contact_id):
        if contact_id not in holders:
            raise NotFound("no such contact", field="contact_id")
        return SimpleNamespace(agent_id=holders[contact_id], declined_by=(), handover=None)

    status = _route("PUT", "/agents/<agent_id>/status", [Role.SUPERVISOR, Role.AGENT])
    assert access.enforce(status, _context("supervisor"), {"agent_id": "ben"}, contact_of).role == Role.SUPERVISOR
    assert access.enforce(status, _context("agent", "ana"), {"agent_id": "ana"}, contact_of).agent_id == "ana"
    with pytest.raises(ForbiddenError, match="only as agent ana"):
        access.enforce(status, _context("agent", "ana"), {"agent_id": "ben"}, contact_of)
    with pytest.raises(ForbiddenError, match=r"needs role supervisor or agent; this key is admin"):
        access.enforce(status, _context("admin"), {"agent_id": "ben"}, contact_of)
    messages = _route("POST", "/contacts/<contact_id>/messages", [Role.AGENT, Role.INTEGRATION])
    access.enforce(messages, _context("agent", "ana"), {"contact_id": "c-ana"}, contact_of)
    for contact_id in ("c-ben", "c-nobody"):
        with pytest.raises(NotFound):
            access.enforce(messages, _context("agent", "ana"), {"contact_id": contact_id}, contact_of)
    access.enforce(messages, _context("integration"), {"contact_id": "c-ben"}, contact_of)  # not confined
    with pytest.raises(UnauthorizedError):
        access.enforce(messages, None, {"contact_id": "c-ana"}, contact_of)
    assert access.enforce(_route("GET", "/openapi.json", None, False), None, {}, contact_of) is None
    # a context from before roles: admin
    assert access.credential({"tenant_id": "t1", "principalId": "t1"}).role == Role.ADMIN


def test_on_its_own_contact_paths_an_agent_reaches_only_contacts_that_concern_it():
    """Under /agents/{own id}/contacts/{cid}: its own; one nobody holds that was offered to it before (missed or
    rejected: the use-case's 409 says what became of it); a waiting escalation (the take use-case decides). A
    contact waiting in a queue, or another agent's, is a 404 as an unknown one is."""
    escalation = SimpleNamespace(mode="ESCALATION")
    contacts = {
        "c-mine": SimpleNamespace(agent_id="ana", declined_by=(), handover=None),
        "c-missed": SimpleNamespace(agent_id=None, declined_by=("bob", "ana"), handover=None),
        "c-escalation": SimpleNamespace(agent_id=None, declined_by=(), handover=escalation),
        "c-waiting": SimpleNamespace(agent_id=None, declined_by=("bob",), handover=SimpleNamespace(mode="BLIND")),
        "c-bens": SimpleNamespace(agent_id="ben", declined_by=("ana",), handover=escalation),
    }
    accept = _route("POST", "/agents/<agent_id>/contacts/<contact_id>/accept", [Role.AGENT])
    take = _route("POST", "/agents/<agent_id>/contacts/<contact_id>/take", [Role.AGENT])
    messages = _route("GET", "/contacts/<contact_id>/messages", [Role.AGENT])
    contact_of = lambda tenant_id, contact_id: contacts[contact_id]  # noqa: E731
    for contact_id in ("c-mine", "c-missed"):
        access.enforce(accept, _context("agent", "ana"), {"agent_id": "ana", "contact_id": contact_id}, contact_of)
    # a waiting escalation only to be taken: accept's 409 would say it exists
    access.enforce(take, _context("agent", "ana"), {"agent_id": "ana", "contact_id": "c-escalation"}, contact_of)
    for contact_id in ("c-waiting", "c-bens", "c-escalation"):
        with pytest.raises(NotFound, match=f"contact {contact_id} not found"):
            access.enforce(accept, _context("agent", "ana"), {"agent_id": "ana", "contact_id": contact_id}, contact_of)
    # off its own agent paths only its own contacts
    access.enforce(messages, _context("agent", "ana"), {"contact_id": "c-mine"}, contact_of)
    for contact_id in ("c-missed", "c-escalation", "c-waiting", "c-bens"):
        with pytest.raises(NotFound):
            access.enforce(messages, _context("agent", "ana"), {"contact_id": contact_id}, contact_of)


def test_the_natural_role_prefers_admin():
    assert access.natural_role([Role.AGENT, Role.INTEGRATION]) == Role.INTEGRATION
    assert access.natural_role(list(Role)) == Role.ADMIN
    assert Credential(tenant_id="t", role=Role.SUPERVISOR, key_id="k_0123456789").acts_as("anyone")


def test_key_use_cases_on_the_memory_twin():
    deps = memory_dependencies()
    first = admin.register_tenant(deps, tenant_id="demo", name="Demo")
    second = admin.register_tenant(deps, tenant_id="demo", name="Demo")  # a new admin key each time
    assert first != second and admin.credential_for_api_key(deps, first).role == Role.ADMIN
    agent = admin.issue_api_key(deps, "demo", role="agent", agent_id="ana", name="desk")
    assert agent.key_id.startswith("k_") and len(agent.key_id) == 12 and agent.api_key.startswith("ck_demo_")
    listed = admin.list_api_keys(deps, "demo")
    assert [k.role for k in listed].count(Role.ADMIN) == 2 and not any(hasattr(k, "api_key") or hasattr(k, "key_hash") for k in listed)
    rotated = admin.rotate_api_key(deps, "demo", agent.key_id)
    assert admin.credential_for_api_key(deps, agent.api_key) is None
    assert admin.credential_for_api_key(deps, rotated.api_key) == Credential(
        tenant_id="demo", role=Role.AGENT, agent_id="ana", key_id=agent.key_id)
    assert admin.revoke_api_key(deps, "demo", agent.key_id).revoked_at is not None
    assert admin.credential_for_api_key(deps, rotated.api_key) is None and admin.credential_for_api_key(deps, "") is None
    with pytest.raises(Conflict):
        admin.rotate_api_key(deps, "demo", agent.key_id)
    with pytest.raises(DomainError, match="agent_id"):
        admin.issue_api_key(deps, "demo", role="agent")
    with pytest.raises(DomainError, match="agent_id"):
        admin.issue_api_key(deps, "demo", role="integration", agent_id="ana")
    with pytest.raises(NotFound):
        admin.issue_api_key(deps, "nowhere", role="admin")
    with pytest.raises(NotFound):
        admin.revoke_api_key(deps, "demo", "k_0123456789")


def test_the_authorizer_reads_the_key_from_either_event():
    from tests.lambda_harness import load_module

    key_of = load_module("authorize_request").api_key_of
    assert key_of({"type": "TOKEN", "authorizationToken": "Bearer ck_a"}) == "ck_a"
    assert key_of({"type": "TOKEN", "authorizationToken": "ck_a"}) == "ck_a"
    assert key_of({"type": "REQUEST", "headers": {"authorization": "bearer ck_b"}}) == "ck_b"
    assert key_of({"type": "REQUEST", "headers": {}, "queryStringParameters": {"token": "ck_c"}}) == "ck_c"
    assert key_of({"type": "REQUEST", "headers": None, "queryStringParameters": None}) == ""
