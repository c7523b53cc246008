"""The stack deployed into moto once per module, and each function's template environment."""
from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.usecases import admin
from infra.function_specs import SPECS
from tests.aws_stack import deployed_stack, function_environment


@pytest.fixture(scope="module")
def stack():
    with deployed_stack() as deployment:
        yield deployment


@pytest.fixture
def env(stack, monkeypatch):
    """env("folder") switches the process environment to that function's (serve_api's to start): its
    variables set, and the previous function's that it does not have removed, so a handler that reaches a
    table or setting its template does not give it fails here as it would on AWS (it used to find the
    previous function's: a flow callback read the Agents table its template does not name)."""
    current: set[str] = set()

    def use(folder: str) -> None:
        environment = function_environment(stack, folder)
        for key in current - environment.keys():
            monkeypatch.delenv(key, raising=False)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        current.clear()
        current.update(environment)

    use("serve_api")
    return use


@pytest.fixture
def tenant(env):
    """A fresh tenant (its admin API key too) with a `sales` queue and an agent `ana` serving it. Calls
    through tests.lambda_harness.api act as the route's own role unless a test names one."""
    return new_tenant()


def new_tenant() -> SimpleNamespace:
    """The `tenant` fixture's tenant, made in the current function environment (serve_api's under `env`)."""
    tenant_id = f"t{uuid.uuid4().hex[:8]}"
    deps = dependencies()
    key = admin.register_tenant(deps, tenant_id=tenant_id, name="Handlers")
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales"))
    admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    return SimpleNamespace(id=tenant_id, key=key)


class CapturedLogs(logging.Handler):
    """Every record of ours at DEBUG with its structured extras (the root logger and each function's
    Powertools logger, which does not propagate): what CloudWatch Logs would receive and more. The AWS
    SDK's wire logs (botocore/boto3/urllib3 at DEBUG print request and response bodies) are left out:
    they are off unless someone turns the root logger to DEBUG, and stored items hold phone numbers."""

    THIRD_PARTY = ("botocore", "boto3", "urllib3", "s3transfer")

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in self.THIRD_PARTY:
            return
        if not any(r is record for r in self.records):  # seen by a service logger and again by root
            self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in self.records)


@pytest.fixture
def logs():
    """The records every function and the layer logged during the test (CapturedLogs)."""
    from aws_lambda_powertools import Logger

    for service in SPECS:
        Logger(service=service)  # Powertools sets its logger up once per name: do it before we attach
    handler = CapturedLogs()
    loggers = [logging.getLogger(), *map(logging.getLogger, SPECS)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels):
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.fixture
def caplog(caplog):
    """pytest's caplog, listening to every function's own Powertools logger too: those print once, by their own
    handler, and do not propagate to the root logger caplog listens on (ccaas.logs.handler_logger)."""
    loggers = [logging.getLogger(service) for service in SPECS]
    for lg in loggers:
        lg.addHandler(caplog.handler)
    yield caplog
    for lg in loggers:
        lg.removeHandler(caplog.handler)
