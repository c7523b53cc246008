"""The ConfigStore's API keys, in memory and on (moto) DynamoDB: by hash for the authorizer, by id for
list/rotate/revoke, both changed together."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.models import Conflict, NotFound
from ccaas.domain.tenants import ApiKeyRecord, Role, Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Keys"))
    return tenant_id


def _record(tenant, n, **kw):
    kw.setdefault("role", Role.SUPERVISOR)
    return ApiKeyRecord(key_id=f"k_{n:010d}", tenant_id=tenant, created_at=1000 + n, key_hash=f"{n:x}".rjust(64, "a"), **kw)


def test_a_key_reads_back_by_hash_and_by_id(deps, tenant):
    agent_key = _record(tenant, 1, role=Role.AGENT, agent_id="ana", name="desk")
    deps.config.add_api_key(agent_key)
    deps.config.add_api_key(_record(tenant, 2))
    credential = deps.config.credential_for_key(agent_key.key_hash)
    assert credential.model_dump() == {"tenant_id": tenant, "role": Role.AGENT, "agent_id": "ana", "key_id": agent_key.key_id,
                                         "expires_at": None}  # a key lasts until it is revoked
    assert deps.config.tenant_for_key(agent_key.key_hash) == tenant
    assert deps.config.get_api_key(tenant, agent_key.key_id) == agent_key
    assert [r.key_id for r in deps.config.list_api_keys(tenant)] == ["k_0000000001", "k_0000000002"]
    assert deps.config.list_api_keys(f"{tenant}x") == []
    assert deps.config.credential_for_key("b" * 64) is None
    with pytest.raises(NotFound):
        deps.config.get_api_key(tenant, "k_9999999999")
    with pytest.raises(Conflict):
        deps.config.add_api_key(agent_key)  # never overwritten


def test_rotate_and_revoke_swap_the_hash_atomically(deps, tenant):
    key = _record(tenant, 3)
    deps.config.add_api_key(key)
    rotated = key.model_copy(update={"key_hash": "c" * 64})
    deps.config.replace_api_key(key, rotated)
    assert deps.config.credential_for_key(key.key_hash) is None
    assert deps.config.credential_for_key(rotated.key_hash).key_id == key.key_id
    with pytest.raises(Conflict):
        deps.config.replace_api_key(key, key.model_copy(update={"key_hash": "d" * 64}))  # stale: not the stored one
    assert deps.config.credential_for_key("d" * 64) is None
    revoked = rotated.model_copy(update={"revoked_at": 5000})
    deps.config.replace_api_key(rotated, revoked)
    assert deps.config.credential_for_key(rotated.key_hash) is None
    assert deps.config.get_api_key(tenant, key.key_id).revoked_at == 5000


def test_a_key_stored_before_roles_reads_as_admin(deps, tenant):
    deps.config.put_api_key("e" * 64, tenant)
    credential = deps.config.credential_for_key("e" * 64)
    assert credential.tenant_id == tenant and credential.role == Role.ADMIN and credential.agent_id is None
    assert credential.key_id == "k_legacyeeee"
