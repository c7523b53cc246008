"""The stream consumers' DynamoDB levers (issue 17): an idempotency record only for events that count in a
queue, no alert evaluation reads for a batch that touched nothing, and the alert rules read once per
warm container within their age, with the same figures and alerts as before."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccaas.adapters.cached_config import CachedConfigStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import AlertRules
from ccaas.domain.live_metrics import SequencedEvent, contributions, pad_sequence
from ccaas.usecases import agents, alerts, contacts, metrics
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.unit.demo import TENANT, add_agent, demo_deps


class CountingDedup:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.read: list[str] = []
        self.written: list[str] = []

    def first_sequence(self, event, sequence):  # noqa: ANN001, ANN201
        return self.inner.first_sequence(event, sequence)

    def seen(self, event_ids: Sequence[str]) -> dict[str, str]:
        self.read += list(event_ids)
        return self.inner.seen(event_ids)

    def remember(self, first_sequences: Mapping[str, str]) -> None:
        self.written += list(first_sequences)
        self.inner.remember(first_sequences)


def _day():
    """Contacts queued, a hold, answered and completed; agents changing state."""
    deps = demo_deps()
    add_agent(deps, "ana")
    made = []
    for i in range(3):
        c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
        contacts.queue_and_route(deps, TENANT, c.contact_id, f"t{i}")
        made.append(c.contact_id)
        deps.clock.advance(5)
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    (cid,) = agents.get_agent(deps, TENANT, "ana").offered_contact_ids
    contacts.accept_contact(deps, TENANT, "ana", cid)
    deps.clock.advance(10)
    contacts.complete_contact(deps, TENANT, "ana", cid)
    contacts.end_after_contact_work(deps, TENANT, "ana", cid)
    return deps


def test_only_events_that_count_in_a_queue_get_an_idempotency_record_and_the_figures_do_not_change():
    source = _day()
    records = [SequencedEvent(event=e, shard_id="shardId-0", sequence=pad_sequence(str(1000 + i)))
               for i, e in enumerate(source.events.events)]
    counting = CountingDedup(memory_dependencies().dedup)
    deps = memory_dependencies(clock=source.clock, config=source.config, store=source.store, dedup=counting)
    for start in range(0, len(records), 4):
        metrics.apply_records(deps, "shardId-0", records[start : start + 4])
    counted = {r.event.event_id for r in records if any(c.queue_id for c in contributions(r.event))}
    assert 0 < len(counted) < len(records)  # the day has events that add nothing to a queue
    assert set(counting.written) == counted and set(counting.read) == counted
    view = metrics.realtime_queue_metrics(deps, TENANT, "sales")
    assert (view.offered, view.answered, view.completed, view.in_queue) == (3, 1, 1, 2)
    # a re-published copy of a counted event (another stream record) is still dropped
    again = [SequencedEvent(event=records[0].event, shard_id="shardId-0", sequence=pad_sequence("5000"))]
    metrics.apply_records(deps, "shardId-0", again)
    assert metrics.realtime_queue_metrics(deps, TENANT, "sales").offered == 3
    # a batch of events that count nowhere reads and writes no idempotency record
    before = (len(counting.read), len(counting.written))
    quiet = [r for r in records if r.event.event_id not in counted]
    assert metrics.apply_records(deps, "shardId-0", quiet) == []
    assert (len(counting.read), len(counting.written)) == before


class CountingConfig:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.rule_reads = 0

    def get_alert_rules(self, tenant_id: str) -> AlertRules:
        self.rule_reads += 1
        return self.inner.get_alert_rules(tenant_id)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)


class CountingAlerts:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.unresolved_reads = 0

    def unresolved(self, tenant_id: str):  # noqa: ANN201
        self.unresolved_reads += 1
        return self.inner.unresolved(tenant_id)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)


def test_a_batch_that_touches_nothing_reads_nothing_and_rules_are_read_once_within_their_age():
    deps = demo_deps()
    config, store = CountingConfig(deps.config), CountingAlerts(deps.alerts)
    cached = CachedConfigStore(config, max_age_s=60)  # as the AWS wiring keeps configuration per container
    deps.config, deps.alerts = cached, store
    assert alerts.evaluate_touched(deps, TENANT, alerts.Touched()).opened == []
    assert (config.rule_reads, store.unresolved_reads) == (0, 0)

    c = contacts.create_contact(deps, TENANT, NewContact(channel="VOICE", queue_id="sales"))
    contacts.queue_and_route(deps, TENANT, c.contact_id, "t0")
    touched = alerts.touched_by(deps.events.events)[TENANT]
    assert touched.queues == {"sales"}
    assert alerts.evaluate_touched(deps, TENANT, touched).opened == []
    assert alerts.evaluate_touched(deps, TENANT, touched).opened == []
    assert (config.rule_reads, store.unresolved_reads) == (1, 2)  # open alerts every batch, rules once

    # a stricter rule through this process applies at once: one waiting contact is now enough
    alerts.put_rules(deps, TENANT, AlertRules.model_validate({"queue_depth": {"threshold": 1}}))
    opened = alerts.evaluate_touched(deps, TENANT, touched).opened
    assert [a.queue_id for a in opened] == ["sales"] and config.rule_reads == 2

    # a change made elsewhere (another container) shows once the cached copy is older than its age
    config.inner.put_alert_rules(TENANT, AlertRules())
    alerts.evaluate_touched(deps, TENANT, touched)
    assert config.rule_reads == 2
    cached._reads.clear_cache()  # the cached copy expired (its age elapsed)
    alerts.evaluate_touched(deps, TENANT, touched)
    assert config.rule_reads == 3
