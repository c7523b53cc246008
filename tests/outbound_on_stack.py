"""Builders the outbound tests on the stack deployed into moto share: the OutboundStore under test (in memory or
on moto) and an answered campaign call through the real serve_api handler."""
from __future__ import annotations

import uuid

import boto3

from ccaas.adapters.aws.outbound import DynamoOutboundStore
from ccaas.bootstrap import Dependencies, dependencies, memory_dependencies
from ccaas.domain.models import Agent, AgentStatus, Channel, Contact, ContactState, InitiationMethod, QueueAssignment
from ccaas.domain.outbound.models import Disposition
from ccaas.ports_outbound import AttemptRecord, OutboundStore
from ccaas.usecases import outbound
from tests.aws_stack import function_environment
from tests.calling_hours import DaytimeZone
from tests.lambda_harness import api


# --- the OutboundStore contract ----------------------------------------------------------------------------

def outbound_store(kind: str, stack, function: str = "serve_api") -> OutboundStore:
    """The store under test: the in-memory twin ("memory") or, on the stack deployed into moto, the Outbound
    table `function`'s template environment names ("moto")."""
    if kind == "memory":
        return memory_dependencies().outbound
    env = function_environment(stack, function)
    return DynamoOutboundStore(boto3.client("dynamodb", region_name="us-east-1"), env["OUTBOUND_TABLE"])


# --- through the real serve_api handler (tests/handlers) ---------------------------------------------------

def add_ben(deps: Dependencies, t: str) -> None:
    """Agent ben, available, serving sales."""
    deps.store.save(agents=[Agent(tenant_id=t, agent_id="ben", name="Ben", status=AgentStatus.AVAILABLE,
                                  queues=(QueueAssignment(queue_id="sales"),))])


def all_agents_available(deps: Dependencies, t: str) -> None:
    """Every agent of tenant `t` available, and ben added (available, on sales)."""
    for agent in deps.store.list_agents(t):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    add_ben(deps, t)


def answered_outbound_call(t: str, daytime: DaytimeZone) -> tuple[Dependencies, AttemptRecord, str]:
    """Campaign renewals (made, on queue sales) started with one row r1 on `daytime`'s number 1, dialed and
    answered, and the OUTBOUND contact agent ana is on for it: (deps, the attempt's record, the contact's id)."""
    api("POST", "/campaigns/renewals/lists", t, {"format": "json", "rows": [
        {"row_id": "r1", "phone": daytime.number(1), "time_zone": daytime.zone, "account_id": "acct-1",
         "consent_automated_voice": True}]})
    api("POST", "/campaigns/renewals/start", t, role="supervisor")
    deps = dependencies()
    add_ben(deps, t)
    assert outbound.dial_tick(deps, t, "renewals").dialed == 1
    (record,) = outbound.attempts_export(deps, t, "renewals")
    deps.outbound.finish_attempt(t, "renewals", "r1", record.attempt_id, disposition=Disposition.ANSWERED,
                                 at=record.attempt.started_at)
    contact_id = f"k{uuid.uuid4().hex[:10]}"
    deps.store.save(contacts=[Contact(
        tenant_id=t, contact_id=contact_id, channel=Channel.VOICE, queue_id="sales", state=ContactState.CONNECTED,
        initiation_method=InitiationMethod.OUTBOUND, agent_id="ana", initiated_at=1, connected_at=2,
        attributes={"campaign_id": "renewals", "row_id": "r1", "attempt_id": record.attempt_id})])
    return deps, record, contact_id
