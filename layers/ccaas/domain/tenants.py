"""Tenants, their API keys and the credentials keys stand for. Keys are stored only as SHA-256 hashes.

A credential is a tenant and a role (`admin`, `supervisor`, `agent` bound to one agent id,
`integration`); what each role may call is declared route by route (ccaas.api.access) and checked by
`Credential.admitted`, the one rule REST and WebSocket share.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccaas.domain.models import DomainError

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"  # the API's ids (agents, contacts, ...)
KEY_ID_PATTERN = r"^k_[A-Za-z0-9_-]{10}$"
LEGACY_KEY_PREFIX = "k_legacy"  # key ids of keys stored before roles (tenant only, read as admin)


class Tenant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
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
    if agent_id is not None and not re.match(ID_PATTERN, agent_id):
        raise DomainError("agent_id must match " + ID_PATTERN, field="agent_id")


def legacy_key_id(key_hash: str) -> str:
    """A stable id for a key stored before roles (its item holds only the tenant)."""
    return f"k_legacy{key_hash[:4]}"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()
