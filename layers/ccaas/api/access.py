"""Who may call what: every route declares the roles it admits, and the resolver enforces them.

Declaring: route modules use this module's `Router`, whose `get/post/put/patch/delete` take a required
`roles=` (a route without it does not import). The declaration travels with the route as the OpenAPI
extension `x-roles` (so the document tells it too) and is what `enforce` reads.

Enforcing: `ContactCenterApi` (ccaas.api.app) calls `enforce` once the route is matched, before request
validation, idempotency and the handler: a caller whose role is not declared gets 403 `forbidden`
naming the roles that are. An `agent` credential is confined to itself wherever the path names one:
- `<agent_id>`: only its own id (another agent's id is a 403: agent ids are not secret in a team);
- `<contact_id>`: only a contact offered or assigned to it (`contact.agent_id`); any other contact is a
  404, exactly as an unknown one is, so an agent cannot probe the tenant's contacts. Under its own
  `/agents/{id}/contacts/{cid}` a contact nobody holds that was offered to it goes on to the use-case, and so
  does an escalation to `take`, whoever holds it: the take use-case answers a 409 to every agent who could have
  taken it (one of its queue, the supervisor it names, one it was offered to: a lost race reads as a supervisor's
  does) and a 404 worded as for an unknown id to anyone else (`lifecycle.concerns_agent`).
A route may admit `agent` only when its path names one of these (`check_declarations`). The rule on
roles is `Credential.admitted` / `Credential.acts_as` (ccaas.domain.tenants), which the WebSocket routes
share.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router as _PowertoolsRouter
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, UnauthorizedError

from ccaas.domain import lifecycle
from ccaas.domain.models import NotFound
from ccaas.domain.tenants import ID_PATTERN, Credential, Role

ADMIN, SUPERVISOR, AGENT, INTEGRATION = Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.INTEGRATION
READERS = (ADMIN, SUPERVISOR)  # "reads everything of its tenant"
EXTENSION = "x-roles"
AGENT_SCOPES = ("agent_id", "contact_id")  # the path parameters an agent is confined by
_ID = re.compile(ID_PATTERN)


def _declared(roles: Iterable[Role], kwargs: dict[str, Any]) -> dict[str, Any]:
    roles = tuple(Role(r) for r in roles)
    if not roles:
        raise ValueError("a route admits at least one role")
    extensions = dict(kwargs.pop("openapi_extensions", None) or {})
    extensions[EXTENSION] = [r.value for r in Role if r in roles]
    return {**kwargs, "openapi_extensions": extensions}


class Router(_PowertoolsRouter):
    """Powertools' Router with the roles a route admits as a required argument."""

    def get(self, rule: str, *, roles: Iterable[Role], **kwargs: Any):  # noqa: ANN201 - as Powertools
        return super().get(rule, **_declared(roles, kwargs))

    def post(self, rule: str, *, roles: Iterable[Role], **kwargs: Any):  # noqa: ANN201
        return super().post(rule, **_declared(roles, kwargs))

    def put(self, rule: str, *, roles: Iterable[Role], **kwargs: Any):  # noqa: ANN201
        return super().put(rule, **_declared(roles, kwargs))

    def patch(self, rule: str, *, roles: Iterable[Role], **kwargs: Any):  # noqa: ANN201
        return super().patch(rule, **_declared(roles, kwargs))

    def delete(self, rule: str, *, roles: Iterable[Role], **kwargs: Any):  # noqa: ANN201
        return super().delete(rule, **_declared(roles, kwargs))


def roles_of(route: Any) -> tuple[Role, ...] | None:
    """The roles a (Powertools) route declares; None when it declares none."""
    declared = (route.openapi_extensions or {}).get(EXTENSION)
    return None if declared is None else tuple(Role(r) for r in declared)


def check_declarations(routes: Iterable[Any]) -> None:
    """At app build: every documented route declares its roles; an agent is admitted only where the
    path confines it."""
    for route in routes:
        if not route.include_in_schema:
            continue  # /openapi.json, /swagger: public, outside the authorizer
        roles = roles_of(route)
        if roles is None:
            raise RuntimeError(f"{route.method} {route.path} declares no roles (roles=...)")
        if AGENT in roles and not any(f"<{p}>" in route.path for p in AGENT_SCOPES):
            raise RuntimeError(f"{route.method} {route.path} admits agents but names neither agent_id nor contact_id")


def credential(authorizer: Mapping[str, Any] | None, now_s: float | None = None) -> Credential:
    """The caller, from the authorizer's context. A context without a role comes from an authorizer
    that predates roles (a cached policy during a deployment): it spoke for the whole tenant, as admin.
    A person's token past its `expires_at` is refused (401): API Gateway answers from the authorizer's cached
    Allow for 300 s whatever the token's exp, so the API checks it (as a socket ends at it)."""
    authorizer = authorizer or {}
    tenant_id = authorizer.get("tenant_id")
    if not tenant_id:
        raise UnauthorizedError("no tenant in the request's authorization")
    expires_at = _expires_at(authorizer.get("expires_at"))
    if expires_at and (time.time() if now_s is None else now_s) >= expires_at:
        raise UnauthorizedError("the token has expired; sign in again")
    return Credential(tenant_id=tenant_id, role=Role(authorizer.get("role") or Role.ADMIN),
                      agent_id=authorizer.get("agent_id") or None,
                      key_id=authorizer.get("key_id") or "k_unknown00", expires_at=expires_at or None)


def _expires_at(value: Any) -> int:
    """The context's `expires_at` (epoch seconds; 0 or absent: an API key). API Gateway passes a REST authorizer's
    context values as strings. One that is not a number is refused, never read as no expiry."""
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UnauthorizedError("the authorization's expiry is not readable") from None


def enforce(route: Any, authorizer: Mapping[str, Any] | None, path_args: Mapping[str, str],
            contact_of: Any) -> Credential | None:
    """Raise unless the caller may call `route` with these path arguments (403 ForbiddenError, 404
    NotFound for a contact that is not the agent's, 401 without a tenant). `contact_of(tenant, contact)` returns
    the contact (NotFound when there is no such contact)."""
    roles = roles_of(route)
    if roles is None:
        return None  # not behind the authorizer (the documentation routes)
    caller = credential(authorizer)
    if not caller.admitted(roles):
        names = " or ".join(r.value for r in roles)
        raise ForbiddenError(f"{route.method} {route.path.replace('<', '{').replace('>', '}')} needs role {names}; "
                             f"this key is {caller.role.value}")
    if caller.role != AGENT:
        return caller
    agent_id = path_args.get("agent_id")
    if agent_id is not None and not caller.acts_as(agent_id):
        raise ForbiddenError(f"an agent key acts only as agent {caller.agent_id}")
    contact_id = path_args.get("contact_id")
    if contact_id is not None and _ID.fullmatch(contact_id):
        contact = contact_of(caller.tenant_id, contact_id)
        # Under /agents/{own id}/contacts/{cid} a contact nobody holds reaches the use-case only where it concerns
        # the agent (its offer that just expired: 409); an escalation to take reaches it whoever holds it (the take
        # use-case decides between "already taken" and "not found"). Anything else is a 404 everywhere, as an
        # unknown id is: the use-cases' 409s name a contact's state and holder.
        mine = contact.agent_id == caller.agent_id
        taking = route.path.endswith("/take")
        if not (mine or (agent_id is not None and lifecycle.concerns_agent(contact, caller.agent_id, taking=taking))):
            raise NotFound(f"contact {contact_id} not found", field="contact_id")
    return caller


def matching(routes: Iterable[Any], method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """The route a request would reach, and its path arguments (for tools that pick a role by route)."""
    for route in routes:
        if route.method == method.upper() and (found := route.rule.match(path)):
            return route, found.groupdict()
    return None


def natural_role(roles: Iterable[Role]) -> Role:
    """The first of admin, supervisor, integration, agent that `roles` admits: the caller a test or a
    tool stands for when it does not say (admin whenever admin may)."""
    roles = set(roles)
    return next(r for r in (ADMIN, SUPERVISOR, INTEGRATION, AGENT) if r in roles)
