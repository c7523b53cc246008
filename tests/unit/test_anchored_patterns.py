"""Ids checked with Python's `re` against a `^…$` pattern are checked whole: `re.match` lets `$` match before a
final newline, so "<a valid id>\\n" passed (an instance registered with a newline no flow event ever names, an
Idempotency-Key, a lake query id or a SQL relation name with one)."""
from __future__ import annotations

import pytest

from ccaas.api.idempotency import _key_problem
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.lake import _relation
from ccaas.domain.models import DomainError, NotFound
from ccaas.domain.tenants import Tenant
from ccaas.usecases import admin, lake

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/abc-123"


@pytest.fixture
def deps():
    deps = memory_dependencies()
    deps.config.put_tenant(Tenant(tenant_id="t1", name="T1"))
    return deps


def test_an_admin_registers_an_instance_or_a_sender_only_by_its_whole_name(deps):
    with pytest.raises(DomainError) as refused:
        admin.register_connect_instance(deps, tenant_id="t1", instance_arn=INSTANCE + "\n")
    assert refused.value.field == "instance_arn"
    with pytest.raises(DomainError) as refused:
        admin.register_sms_sender(deps, tenant_id="t1", kind="origination", name="+12125550199\n")
    assert refused.value.field == "name"
    admin.register_connect_instance(deps, tenant_id="t1", instance_arn=INSTANCE)
    admin.register_sms_sender(deps, tenant_id="t1", kind="origination", name="+12125550199")
    assert deps.config.tenant_for_connect_instance(INSTANCE) == "t1"


def test_keys_ids_and_relation_names_with_a_final_newline_are_refused(deps):
    assert _key_problem({"order-42\n"}) is not None and _key_problem({"order-42"}) is None
    with pytest.raises(NotFound):
        lake.query_result(deps, object(), "t1", "engine-1.abc\n")  # refused before the engine is asked
    with pytest.raises(ValueError, match="not a table name"):
        _relation("contact_segments\n")
    assert _relation("contact_segments") == "contact_segments"
