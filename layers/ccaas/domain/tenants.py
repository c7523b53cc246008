"""Tenants, their API keys and the credentials keys stand for. Keys are stored only as SHA-256 hashes.

A credential is a tenant and a role (`admin`, `supervisor`, `agent` bound to one agent id,
`integration`); what each role may call is declared route by route (ccaas.api.access) and checked by
`Credential.admitted`, the one rule REST and WebSocket share. People signing in through the Cognito
user pool get the same credential from their token's claims (`credential_from_claims`).
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccaas.domain.models import DomainError

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"  # the API's ids (agents, contacts, ...)
KEY_ID_PATTERN = r"^k_[A-Za-z0-9_-]{10}$"
LEGACY_KEY_PREFIX = "k_legacy"  # key ids of keys stored before roles (tenant only, read as admin)


class Tenant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(pattern=TENANT_ID_PATTERN)
    name: str
    time_zone: str = "UTC"


class Role(StrEnum):
    ADMIN = "admin"  # configuration, policy, settings, agent profiles, keys; reads everything
    SUPERVISOR = "supervisor"  # reads everything of its tenant, alerts, any agent's status
    AGENT = "agent"  # one agent: its status, its offers and contacts
    INTEGRATION = "integration"  # a system: contact intake, customers, surveys, transcripts


class Credential(BaseModel):
    """Who calls: what the authorizer resolves a key to (and passes on as its context)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    role: Role
    agent_id: str | None = None
    key_id: str
    # When the credential stops being valid (epoch seconds): a user token's `exp`; None for an API key (valid
    # until it is revoked or rotated). What a WebSocket opened with it is bounded by.
    expires_at: int | None = None

    def admitted(self, roles: Iterable[Role]) -> bool:
        return self.role in set(roles)

    def acts_as(self, agent_id: str) -> bool:
        """May this credential act on the agent `agent_id`? An agent only on itself."""
        return self.role != Role.AGENT or self.agent_id == agent_id


class ApiKeyInfo(BaseModel):
    """A key as it is listed: never its secret, never its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(pattern=KEY_ID_PATTERN)
    tenant_id: str
    role: Role
    agent_id: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str | None = Field(default=None, max_length=128)
    created_at: int = Field(description="epoch ms")
    revoked_at: int | None = None

    @model_validator(mode="after")
    def _agent_only_for_agents(self) -> ApiKeyInfo:
        check_key_role(self.role, self.agent_id)
        return self

    def credential(self) -> Credential:
        return Credential(tenant_id=self.tenant_id, role=self.role, agent_id=self.agent_id, key_id=self.key_id)


class ApiKeyRecord(ApiKeyInfo):
    """A key as it is stored: its info and the hash of its current secret."""

    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    def info(self) -> ApiKeyInfo:
        return ApiKeyInfo.model_validate(self.model_dump(exclude={"key_hash"}))


def check_key_role(role: Role, agent_id: str | None) -> None:
    if role == Role.AGENT and not agent_id:
        raise DomainError("an agent key needs the agent_id it acts as", field="agent_id")
    if role != Role.AGENT and agent_id is not None:
        raise DomainError(f"only agent keys carry an agent_id, not {role.value} keys", field="agent_id")
    if agent_id is not None and not re.fullmatch(ID_PATTERN, agent_id):  # `$` of match() takes "ana\n"
        raise DomainError("agent_id must match " + ID_PATTERN, field="agent_id")


def legacy_key_id(key_hash: str) -> str:
    """A stable id for a key stored before roles (its item holds only the tenant)."""
    return f"k_legacy{key_hash[:4]}"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


# --- people: Cognito user-pool tokens -------------------------------------------------------------------
# The user pool's convention: one group per role, named as the role (`admin`, `supervisor`, `agent`,
# `integration`); the tenant in the custom attribute `tenant_id`, an agent's id in `agent_id`.
TENANT_CLAIM = "custom:tenant_id"
AGENT_CLAIM = "custom:agent_id"
GROUPS_CLAIM = "cognito:groups"
_ROLE_NAMES = frozenset(r.value for r in Role)
USER_KEY_PREFIX = "jwt:"  # key_id of a person's credential: "jwt:" + the token's `sub`


def credential_from_claims(claims: Mapping[str, Any]) -> Credential:
    """A verified token's claims -> the credential (DomainError naming the claim when they do not make one).

    Exactly one of the user's groups must be a role (other groups are ignored); an agent needs its
    `custom:agent_id`; another role's `custom:agent_id` is ignored (only agents are addressed as agents)."""
    if claims.get("token_use") != "id":  # a pre-token trigger may put custom claims in an access token: never read
        raise DomainError("send the ID token (access tokens are refused)", field="token_use")
    tenant_id = claims.get(TENANT_CLAIM)
    if not isinstance(tenant_id, str) or not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise DomainError(f"the token has no valid {TENANT_CLAIM}", field=TENANT_CLAIM)
    groups = claims.get(GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    roles = sorted({g for g in groups if isinstance(g, str) and g in _ROLE_NAMES})
    if len(roles) != 1:
        raise DomainError(f"the user must be in exactly one role group of {[r.value for r in Role]}, not {roles}",
                          field=GROUPS_CLAIM)
    role = Role(roles[0])
    agent_id = (claims.get(AGENT_CLAIM) or None) if role == Role.AGENT else None
    if agent_id is not None and not isinstance(agent_id, str):
        raise DomainError(f"{AGENT_CLAIM} must be a string", field=AGENT_CLAIM)
    check_key_role(role, agent_id)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise DomainError("the token has no subject", field="sub")
    expires = claims.get("exp")  # the verifier has checked it is in the future (NumericDate: a JSON number)
    if isinstance(expires, bool) or not isinstance(expires, (int, float)) or not math.isfinite(expires):
        raise DomainError("the token has no valid exp", field="exp")  # never a credential without an end
    return Credential(tenant_id=tenant_id, role=role, agent_id=agent_id, key_id=USER_KEY_PREFIX + subject,
                      expires_at=int(expires))
