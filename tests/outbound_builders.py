"""Builders the outbound tests share: the domain's campaign and row, and the dialing loop on the in-memory twins
(tests/outbound_on_stack.py: the ones for the stack deployed into moto)."""
from __future__ import annotations

from datetime import datetime, timezone

from ccaas.adapters.memory.outbound import RecordingDialer
from ccaas.bootstrap import Dependencies, memory_dependencies
from ccaas.domain.models import Agent, AgentStatus, Channel, Queue, QueueAssignment
from ccaas.domain.outbound.models import Campaign, CampaignMode, CampaignStatus, ConsentFlag, ContactListRow, PhoneEntry
from ccaas.domain.tenants import Tenant
from ccaas.ports_outbound import DialerSettings
from ccaas.usecases import outbound

# --- the domain's models (compliance checks) --------------------------------------------------------------

NY = "America/New_York"
NUMBER = "+12125550134"


def campaign(**changes) -> Campaign:
    """A running progressive campaign c1 on queue q1, with `changes`."""
    base = dict(campaign_id="c1", name="Collections", mode=CampaignMode.PROGRESSIVE, queue_id="q1",
                caller_id="+12125550100", status=CampaignStatus.RUNNING)
    return Campaign(**{**base, **changes})


def row(*zones: str, consent: bool | None = True, account: str | None = "A1", state: str | None = None,
        email: str | None = "pat@example.com", numbers: tuple[str, ...] = (NUMBER,)) -> ContactListRow:
    """Row r1: its numbers in `zones` (New York's by default), automated-voice consent given on the web."""
    return ContactListRow(
        row_id="r1", phones=tuple(PhoneEntry(number=n, zones=zones or (NY,), zone_source="row") for n in numbers),
        account_id=account, state=state, email=email,
        consent_automated_voice=None if consent is None else ConsentFlag(granted=consent, source="web"))


# --- the dialing loop on the in-memory twins ---------------------------------------------------------------

T = "t1"
# FixedClock's default instant: 2025-11-24 16:00 UTC = 11:00 in New York, 08:00 in Los Angeles.
NOW = datetime.fromtimestamp(1_764_000_000, tz=timezone.utc)


class Dialers:
    """One recording dialer whatever the settings (the tests script its outcomes)."""

    def __init__(self) -> None:
        self.dialer = RecordingDialer()

    def __call__(self, settings: DialerSettings) -> RecordingDialer:
        return self.dialer


def outbound_deps(**tenant) -> Dependencies:
    """Tenant T (with `tenant`'s fields) and its voice queue sales, served by ana and ben (both available),
    dialing through a Dialers (the simulated dialer's settings)."""
    d = memory_dependencies(dialers=Dialers())
    d.config.put_tenant(Tenant(tenant_id=T, name="Outbound", **tenant))
    d.config.put_queue(Queue(tenant_id=T, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    for agent_id in ("ana", "ben"):
        d.store.save(agents=[Agent(tenant_id=T, agent_id=agent_id, name=agent_id, status=AgentStatus.AVAILABLE,
                                   queues=(QueueAssignment(queue_id="sales"),))])
    outbound.put_dialer_settings(d, T, DialerSettings(kind="simulated"))
    return d


def simulated_dialing_deps(tenant_id: str) -> Dependencies:
    """Tenant `tenant_id`'s voice queue sales, ana available, dialing through the seeded simulated carrier (its own
    outcome probabilities, not a script)."""
    d = memory_dependencies()
    d.config.put_tenant(Tenant(tenant_id=tenant_id, name="Outbound"))
    d.config.put_queue(Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", channels=frozenset({Channel.VOICE})))
    d.store.save(agents=[Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", status=AgentStatus.AVAILABLE,
                               queues=(QueueAssignment(queue_id="sales"),))])
    outbound.put_dialer_settings(d, tenant_id, DialerSettings(kind="simulated", seed=7))
    return d


def overlapped_tick(deps, outer: str, inner: str, now: datetime):
    """Campaign `outer`'s tick at `now`, with campaign `inner`'s run inside it (once) when the outer one has read
    its free agents and calls in flight but not dialed yet: (the outer tick, the inner one)."""
    store, original, ticks = deps.outbound, deps.outbound.due_rows, []

    def overlapping(*args, **kwargs):
        if not ticks:
            ticks.append(outbound.dial_tick(deps, T, inner, now))
        return original(*args, **kwargs)

    store.due_rows = overlapping
    try:
        return outbound.dial_tick(deps, T, outer, now), ticks[0]
    finally:
        store.due_rows = original
