"""DynamoDB round trips per routing decision (goal <= 3), counted at botocore on the real AWS adapters
over the synthesized stack deployed into moto, with the configuration cache the Lambdas use.

Decision = choosing and reserving: a queued contact gets an agent (route_contact: select_agent) or an
agent with room gets the best waiting contact (offer_work_to: select_contact). Queueing the contact
(its enqueue write) and the agent's own state change that freed it are not part of the decision.
"""
from __future__ import annotations

import collections
import os
from collections.abc import Callable

import boto3

from bench.table import print_table
from ccaas.adapters.cached_config import CachedConfigStore
from ccaas.domain.models import Agent, AgentStatus, Channel, Queue, QueueAssignment
from ccaas.usecases import admin, contacts
from ccaas.usecases.contacts import NewContact

DECISIONS = 20
PEAK_EXPERTS = 200
TENANT = "bench-rt"


class _Counter:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def __call__(self, model, **_: object) -> None:  # noqa: ANN001 - botocore's before-call hook
        self.calls[model.name] += 1

    def read(self, parsed, **_: object) -> None:  # noqa: ANN001 - botocore's after-call hook
        self.calls["items read"] += parsed.get("ScannedCount", 0) + ("Item" in parsed)


def _measure(counter: _Counter, action: Callable[[], object]) -> collections.Counter[str]:
    counter.calls.clear()
    action()
    return collections.Counter(counter.calls)


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from tests.aws_stack import deployed_stack, moto_dependencies

    counter = _Counter()
    with deployed_stack() as deployment:
        boto3.setup_default_session(region_name=os.environ["AWS_DEFAULT_REGION"])
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", counter)
        boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", counter.read)
        deps = moto_dependencies(deployment)
        deps.config = CachedConfigStore(deps.config)  # as bootstrap wires it for the Lambdas
        admin.register_tenant(deps, tenant_id=TENANT, name="Bench")
        for q in ("sales", "billing", "support"):
            admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id=q, name=q, max_wait_s=600))

        def agent(agent_id: str, queues: tuple[str, ...]) -> None:
            admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                        queues=tuple(QueueAssignment(queue_id=q) for q in queues),
                                        capacity={Channel.VOICE: 1}))

        def queued(queue_id: str) -> object:
            c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id=queue_id))
            deps.workflow = _NoWorkflow()
            return contacts.queue_and_route(deps, TENANT, c.contact_id, "token")

        deps.workflow = _NoWorkflow()
        rows = []
        # (1) a contact arrives, agents are free: select_agent + reservation.
        for i in range(DECISIONS + 1):
            agent(f"free-{i}", ("sales",))
        queued("sales")  # warm the configuration cache
        arrive: collections.Counter[str] = collections.Counter()
        for _ in range(DECISIONS):
            c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="sales"))
            waiting = _enqueue_only(deps, c.contact_id)
            arrive += _measure(counter, lambda w=waiting: contacts.route_contact(deps, w))
        rows.append(["contact arrives: select_agent + reserve", *_summary(arrive)])

        # (2) an agent frees up, contacts wait in its 1 or 3 queues: select_contact + reservation.
        for profile, name in ((("billing",), "1 queue"), (("billing", "support", "sales"), "3 queues")):
            frees: collections.Counter[str] = collections.Counter()
            for i in range(DECISIONS):
                for q in profile:
                    _enqueue_only(deps, contacts.create_contact(
                        deps, TENANT, NewContact(channel=Channel.VOICE, queue_id=q)).contact_id)
                agent_id = f"late-{name[0]}-{i}"
                agent(agent_id, profile)
                free = deps.store.get_agent(TENANT, agent_id)  # as the caller that freed it just wrote it
                frees += _measure(counter, lambda a=free: contacts.offer_work_to(deps, TENANT, a.agent_id, a))
            rows.append([f"agent frees, profile of {name}: select_contact + reserve", *_summary(frees)])

        # (3) the peak: every expert busy, a free agent without the skill the queue's first step asks. Whether
        # to pass the step over asks the roster (routing_engine.reach): read per decision, or kept in the
        # container (StateStore.staffing_roster, as bootstrap wires it for the Lambdas).
        from ccaas.adapters.aws.dynamodb import DynamoStateStore  # noqa: PLC0415
        from ccaas.domain.routing_engine import RoutingPolicy  # noqa: PLC0415
        from ccaas.usecases import routing  # noqa: PLC0415

        routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
            {"queues": {"support": {"steps": [{"name": "experts", "condition": "tax>=4", "expiry_s": 60}]}}}))
        for i in range(PEAK_EXPERTS):
            admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id=f"expert-{i:03d}", name="expert", status=AgentStatus.AVAILABLE,
                                        queues=(QueueAssignment(queue_id="support"),), skills={"tax": 5},
                                        capacity={Channel.VOICE: 1}, active={Channel.VOICE: 1}))
        agent("novice", ("support",))
        plain = deps.store
        for label, max_age_s in (("read each decision", 0), ("kept 5 s per container", 5)):
            deps.store = DynamoStateStore(plain._db, plain._contacts_name, plain._agents_name, roster_max_age_s=max_age_s)  # noqa: SLF001
            peak: collections.Counter[str] = collections.Counter()
            for _ in range(DECISIONS):
                c = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.VOICE, queue_id="support"))
                waiting = _enqueue_only(deps, c.contact_id)
                peak += _measure(counter, lambda w=waiting: contacts.route_contact(deps, w))
            rows.append([f"peak, {PEAK_EXPERTS} experts busy: no winner, roster {label}", *_summary(peak)])
        deps.store = plain
    print_table(f"DynamoDB round trips per routing decision (mean of {DECISIONS}; moto, config cache warm)",
                ["decision", "round trips", "by operation", "items read", "goal"], [[*r, "<= 3"] for r in rows])


def _enqueue_only(deps, contact_id: str):  # noqa: ANN001, ANN202
    """AwaitAgent's enqueue without its routing attempt (agents may be free: measured separately)."""
    from ccaas.domain import lifecycle
    from ccaas.domain.events import EventType

    contact = deps.store.get_contact(TENANT, contact_id)
    queue = deps.config.get_queue(TENANT, contact.queue_id)
    queued = lifecycle.enqueue(contact, queue, "token", deps.clock.now_ms())
    contacts.commit(deps, contacts=[(queued, EventType.CONTACT_QUEUED, {})])
    return queued


def _summary(calls: collections.Counter[str]) -> tuple[float, str, float]:
    items = calls.pop("items read", 0) / DECISIONS
    total = sum(calls.values()) / DECISIONS
    ops = ", ".join(f"{op} {n / DECISIONS:g}" for op, n in calls.most_common())
    return round(total, 2), ops, round(items, 1)


class _NoWorkflow:
    """Step Functions is not what this bench measures: starts and answers are dropped."""

    def start_contact(self, contact, wait_s: int) -> None:  # noqa: ANN001
        pass

    def succeed(self, token: str, output) -> None:  # noqa: ANN001
        pass

    def fail(self, token: str, error: str, cause: str) -> None:
        pass


if __name__ == "__main__":
    main()
