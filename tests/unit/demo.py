"""A tiny tenant for use-case tests: two queues, agents with skills."""
from __future__ import annotations

from ccaas.bootstrap import Dependencies, memory_dependencies
from ccaas.domain.models import Agent, Channel, QueueAssignment, Queue, SkillRequirement
from ccaas.usecases import admin

TENANT = "demo"


def demo_deps() -> Dependencies:
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=TENANT, name="Demo")
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE, Channel.CHAT}), sl_threshold_s=20, max_wait_s=60))
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="spanish", name="Spanish", required_skills=(SkillRequirement(skill="lang_es", min_proficiency=3),)))
    return deps


def add_agent(deps: Dependencies, agent_id: str, *, queues=("sales",), skills=None, capacity=None, priority=1) -> Agent:
    agent = Agent(
        tenant_id=TENANT,
        agent_id=agent_id,
        name=agent_id.title(),
        skills=skills or {},
        queues=tuple(QueueAssignment(queue_id=q, priority=priority) for q in queues),
        **({"capacity": capacity} if capacity else {}),
    )
    return admin.put_agent(deps, agent)


def ana_consults(*others: str, channel: Channel = Channel.VOICE) -> tuple[Dependencies, str, str]:
    """ana holds a contact of `sales` and consults `sales` (the leg routed: offered to an idle other, else waiting):
    the tenant's deps, the customer's contact id and the leg's."""
    from ccaas.usecases import contacts, transfers
    from ccaas.usecases.transfers import ConsultDestination, ConsultRequest

    deps = demo_deps()
    contact_id = ana_holds_a_contact(deps, *others, channel=channel)
    leg = transfers.consult(deps, TENANT, "ana", contact_id, ConsultRequest(to=ConsultDestination(queue_id="sales")))
    contacts.queue_and_route(deps, TENANT, leg.contact_id, "tok-leg")
    return deps, contact_id, leg.contact_id


def ana_holds_a_contact(deps: Dependencies, *others: str, channel: Channel = Channel.VOICE) -> str:
    """ana is connected to a new contact of `sales` (its id returned); `others` serve sales and are AVAILABLE."""
    from ccaas.usecases import agents, contacts
    from ccaas.usecases.agents import StatusChange
    from ccaas.usecases.contacts import NewContact

    add_agent(deps, "ana")
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    created = contacts.create_contact(deps, TENANT, NewContact(channel=channel, queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, created.contact_id, "tok-call")
    contacts.accept_contact(deps, TENANT, "ana", created.contact_id)
    for agent_id in others:
        add_agent(deps, agent_id)
        agents.set_agent_status(deps, TENANT, agent_id, StatusChange(status="AVAILABLE"))
    return created.contact_id


def routing_memory_deps(monkeypatch) -> Dependencies:  # noqa: ANN001 (pytest's monkeypatch)
    """In-memory dependencies whose contact workflow runs its first step (QueueAndRoute) at once, as the ASL runs it,
    and that every handler's `dependencies()` returns (a journey's LambdaEntryPoints call the handlers in-process)."""
    import ccaas.api.common as common
    import ccaas.bootstrap as bootstrap
    from ccaas.adapters.memory import MemoryWorkflow
    from ccaas.usecases import contacts

    class RoutingWorkflow(MemoryWorkflow):
        def start_contact(self, contact, wait_s):  # noqa: ANN001, ANN202 (the port's signature)
            super().start_contact(contact, wait_s)
            contacts.queue_and_route(deps, contact.tenant_id, contact.contact_id, f"tok-{contact.contact_id}")

    deps = memory_dependencies(workflow=RoutingWorkflow())
    monkeypatch.setattr(common, "dependencies", lambda: deps)
    monkeypatch.setattr(bootstrap, "dependencies", lambda: deps)
    return deps


def connected_chat(*also_agents: str) -> tuple[Dependencies, str]:
    """A demo tenant whose agent ana holds a connected chat in sales (customer c-1); `also_agents` are added to sales,
    not logged in. Returns (deps, the chat's contact id)."""
    from ccaas.usecases import agents, contacts
    from ccaas.usecases.agents import StatusChange
    from ccaas.usecases.contacts import NewContact

    deps = demo_deps()
    for agent_id in ("ana", *also_agents):
        add_agent(deps, agent_id, queues=("sales",))
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, TENANT, NewContact(channel=Channel.CHAT, queue_id="sales", customer_id="c-1"))
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok")
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    return deps, contact.contact_id


def post_chat(deps: Dependencies, contact_id: str, messages, seconds: int = 5) -> list:  # noqa: ANN001
    """Each (participant role, text) posted to the chat, `seconds` apart; the stored messages."""
    from ccaas.usecases import analytics

    posted = []
    for role, text in messages:
        posted.append(analytics.add_chat_message(deps, TENANT, contact_id,
                                                 analytics.NewMessage(participant_role=role, content=text)))
        deps.clock.advance(seconds)
    return posted
