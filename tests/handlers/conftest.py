"""The stack deployed into moto once per module, and each function's template environment."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.usecases import admin
from tests.aws_stack import deployed_stack, function_environment


@pytest.fixture(scope="module")
def stack():
    with deployed_stack() as deployment:
        yield deployment


@pytest.fixture
def env(stack, monkeypatch):
    """env("folder") switches the process environment to that function's (serve_api's to start)."""

    def use(folder: str) -> None:
        for key, value in function_environment(stack, folder).items():
            monkeypatch.setenv(key, value)

    use("serve_api")
    return use


@pytest.fixture
def tenant(env):
    """A fresh tenant (its API key too) with a `sales` queue and an agent `ana` serving it."""
    tenant_id = f"t{uuid.uuid4().hex[:8]}"
    deps = dependencies()
    key = admin.register_tenant(deps, tenant_id=tenant_id, name="Handlers")
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales"))
    admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    return SimpleNamespace(id=tenant_id, key=key)
