"""In-memory twins of the AWS adapters, with the same semantics (atomic optimistic saves)."""
from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ccaas.adapters.item_size import check_item_size
from ccaas.adapters.memory.alerts import MemoryAlertPublisher, MemoryAlertStore  # noqa: F401  (re-exported)
from ccaas.domain.alerts import AlertRules
from ccaas.domain.events import Event
from ccaas.domain.live_metrics import WritePlan
from ccaas.domain.models import WAITING_STATES, Agent, Conflict, Contact, NotFound, Queue
from ccaas.domain.routing_engine.synthetic import is_synthetic
from ccaas.domain.tenants import ApiKeyRecord, Credential, Role, Tenant, legacy_key_id


def _check_version(stored: Any, entity: Any, what: str) -> None:
    expected = entity.version - 1
    current = None if stored is None else stored.version
    if (entity.version == 0 and stored is not None) or (entity.version > 0 and current != expected):
        raise Conflict(f"{what} changed concurrently (stored version {current}, expected {expected})")


class MemoryStateStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contacts: dict[tuple[str, str], Contact] = {}
        self.agents: dict[tuple[str, str], Agent] = {}
        self.routing_decisions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)

    def get_contact(self, tenant_id: str, contact_id: str) -> Contact:
        try:
            return self.contacts[(tenant_id, contact_id)]
        except KeyError:
            raise NotFound(f"contact {contact_id} not found", field="contact_id") from None

    def get_agent(self, tenant_id: str, agent_id: str) -> Agent:
        try:
            return self.agents[(tenant_id, agent_id)]
        except KeyError:
            raise NotFound(f"agent {agent_id} not found", field="agent_id") from None

    def get_agents(self, tenant_id: str, agent_ids: Sequence[str]) -> list[Agent]:
        return [self.agents[(tenant_id, a)] for a in dict.fromkeys(agent_ids) if (tenant_id, a) in self.agents]

    def list_agents(self, tenant_id: str) -> list[Agent]:
        return sorted((a for (t, _), a in self.agents.items() if t == tenant_id), key=lambda a: a.agent_id)

    def staffing_roster(self, tenant_id: str) -> list[Agent]:
        return self.list_agents(tenant_id)  # always current: the twin has no container to keep a copy in

    def available_agents(self, tenant_id: str, limit: int) -> list[Agent]:
        ready = [a for a in self.list_agents(tenant_id) if a.is_available and any(a.free_slots(c) for c in a.capacity)]
        return sorted(ready, key=lambda a: (a.idle_since(), a.agent_id))[:limit]

    def waiting_contacts(self, tenant_id: str, queue_id: str, limit: int) -> list[Contact]:
        waiting = [
            c
            for (t, _), c in self.contacts.items()
            if t == tenant_id and c.queue_id == queue_id and c.state in WAITING_STATES
        ]
        return sorted(waiting, key=lambda c: (c.enqueued_at or 0, c.contact_id))[:limit]

    def waiting_in_queues(self, tenant_id: str, queue_ids: Sequence[str], limit: int) -> dict[str, list[Contact]]:
        return {q: self.waiting_contacts(tenant_id, q, limit) for q in dict.fromkeys(queue_ids)}

    def save(
        self, *, contacts: Sequence[Contact] = (), agents: Sequence[Agent] = (),
        decisions: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    ) -> None:
        for entity in (*contacts, *agents):
            check_item_size(entity.model_dump(mode="json"), type(entity).__name__.lower())
        for _, _, decision in decisions:
            check_item_size(dict(decision), "decision")
        with self._lock:
            for c in contacts:
                _check_version(self.contacts.get((c.tenant_id, c.contact_id)), c, f"contact {c.contact_id}")
            for a in agents:
                _check_version(self.agents.get((a.tenant_id, a.agent_id)), a, f"agent {a.agent_id}")
            for c in contacts:
                self.contacts[(c.tenant_id, c.contact_id)] = c
            for a in agents:
                self.agents[(a.tenant_id, a.agent_id)] = a
            for tenant_id, contact_id, decision in decisions:
                self.routing_decisions[(tenant_id, contact_id)].append(dict(decision))


    def recent_contacts(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                        up_to: int = 0) -> list[Contact]:
        # as the AWS store's sparse index: a journey test's contact is not indexed under its customer
        mine = sorted((c for (t, _), c in list(self.contacts.items())
                       if t == tenant_id and c.customer_id == customer_id and not is_synthetic(c)),
                      key=lambda c: (c.initiated_at, c.contact_id), reverse=True)
        if since_ms is None:
            return mine[:limit]
        window = [c for c in mine[limit:] if c.initiated_at >= since_ms]
        return (mine[:limit] + window)[:max(limit, up_to)]

    def record_decision(self, tenant_id: str, contact_id: str, decision: Mapping[str, Any], *,
                        expires_at: int | None = None) -> None:  # no TTL in memory
        with self._lock:
            self.routing_decisions[(tenant_id, contact_id)].append(dict(decision))

    def decisions(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                  limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            kept = list(self.routing_decisions.get((tenant_id, contact_id), []))
        # the AWS sort key's shape (time, then a suffix): here the position, as decisions are only ever appended
        ordered = sorted(((f"{int(d.get('at', 0)):013d}#{n:08x}", d) for n, d in enumerate(kept)), key=lambda p: p[0])
        found = [(cursor, dict(d)) for cursor, d in ordered if after is None or cursor > after]
        return found if limit is None else found[:limit]


class MemoryConfigStore:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.keys: dict[str, str] = {}  # key hash -> tenant: keys stored before roles
        self.key_records: dict[tuple[str, str], ApiKeyRecord] = {}  # (tenant, key id) -> record
        self.key_hashes: dict[str, tuple[str, str]] = {}  # live key hash -> (tenant, key id)
        self._key_lock = threading.Lock()
        self.queues: dict[tuple[str, str], Queue] = {}
        self.alert_rules: dict[str, AlertRules] = {}
        self.connect_instances: dict[str, str] = {}
        self.sms_senders: dict[tuple[str, str], str] = {}  # (kind, name) -> tenant
        self.settings: dict[tuple[str, str], str] = {}

    def get_tenant(self, tenant_id: str) -> Tenant:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise NotFound(f"tenant {tenant_id} not found") from None

    def put_tenant(self, tenant: Tenant) -> None:
        self.tenants[tenant.tenant_id] = tenant

    def tenant_for_key(self, key_hash: str) -> str | None:
        credential = self.credential_for_key(key_hash)
        return None if credential is None else credential.tenant_id

    def put_api_key(self, key_hash: str, tenant_id: str) -> None:
        self.keys[key_hash] = tenant_id  # the shape before roles

    def credential_for_key(self, key_hash: str) -> Credential | None:
        held = self.key_hashes.get(key_hash)
        if held is not None:
            return self.key_records[held].credential()
        tenant_id = self.keys.get(key_hash)
        if tenant_id is None:
            return None
        return Credential(tenant_id=tenant_id, role=Role.ADMIN, key_id=legacy_key_id(key_hash))

    def add_api_key(self, record: ApiKeyRecord) -> None:
        with self._key_lock:
            where = (record.tenant_id, record.key_id)
            if where in self.key_records or record.key_hash in self.key_hashes or record.key_hash in self.keys:
                raise Conflict(f"key {record.key_id} exists")
            self.key_records[where] = record
            if record.revoked_at is None:
                self.key_hashes[record.key_hash] = where

    def get_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        try:
            return self.key_records[(tenant_id, key_id)]
        except KeyError:
            raise NotFound(f"key {key_id} not found", field="key_id") from None

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        return sorted((r for (t, _), r in self.key_records.items() if t == tenant_id), key=lambda r: r.key_id)

    def replace_api_key(self, current: ApiKeyRecord, updated: ApiKeyRecord) -> None:
        with self._key_lock:
            where = (current.tenant_id, current.key_id)
            if self.key_records.get(where) != current or (updated.tenant_id, updated.key_id) != where:
                raise Conflict(f"key {current.key_id} changed meanwhile")
            if updated.key_hash != current.key_hash and updated.key_hash in self.key_hashes:
                raise Conflict(f"key {current.key_id}: the new secret is taken")
            self.key_hashes.pop(current.key_hash, None)
            self.key_records[where] = updated
            if updated.revoked_at is None:
                self.key_hashes[updated.key_hash] = where

    def get_queue(self, tenant_id: str, queue_id: str) -> Queue:
        try:
            return self.queues[(tenant_id, queue_id)]
        except KeyError:
            raise NotFound(f"queue {queue_id} not found", field="queue_id") from None

    def list_queues(self, tenant_id: str) -> list[Queue]:
        return sorted((q for (t, _), q in self.queues.items() if t == tenant_id), key=lambda q: q.queue_id)

    def put_queue(self, queue: Queue) -> None:
        check_item_size(queue.model_dump(mode="json"), "queue")
        self.queues[(queue.tenant_id, queue.queue_id)] = queue

    def list_tenants(self) -> list[str]:
        return sorted(self.tenants)

    def get_alert_rules(self, tenant_id: str) -> AlertRules:
        return self.alert_rules.get(tenant_id) or AlertRules()

    def put_alert_rules(self, tenant_id: str, rules: AlertRules) -> None:
        check_item_size(rules.model_dump(mode="json"), "alert rules")
        self.alert_rules[tenant_id] = rules

    def put_connect_instance(self, instance_arn: str, tenant_id: str) -> None:
        self.connect_instances[instance_arn] = tenant_id

    def tenant_for_connect_instance(self, instance_arn: str) -> str | None:
        return self.connect_instances.get(instance_arn)

    def put_sms_sender(self, kind: str, name: str, tenant_id: str) -> None:
        self.sms_senders[(kind, name)] = tenant_id

    def tenant_for_sms_sender(self, kind: str, name: str) -> str | None:
        return self.sms_senders.get((kind, name))

    def get_settings(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        held = self.settings.get((tenant_id, name))
        return None if held is None else json.loads(held)

    def put_settings(self, tenant_id: str, name: str, values: Mapping[str, Any]) -> None:
        check_item_size(values, f"{name} settings")
        self.settings[(tenant_id, name)] = json.dumps(values)  # a copy, as a store would keep


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


class MemoryWorkflow:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, int]] = []
        self.post_contact: list[tuple[str, str]] = []
        self.answers: dict[str, tuple[str, Mapping[str, Any]]] = {}

    def start_contact(self, contact: Contact, wait_s: int) -> None:
        self.started.append((contact.tenant_id, contact.contact_id, wait_s))

    def start_post_contact(self, contact: Contact) -> None:
        self.post_contact.append((contact.tenant_id, contact.contact_id))

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        self._answer(token, ("success", dict(output)))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(token, ("failure", {"error": error, "cause": cause}))

    def _answer(self, token: str, answer: tuple[str, Mapping[str, Any]]) -> None:
        if token in self.answers:
            raise Conflict(f"task token answered twice: {token}")
        self.answers[token] = answer


class MemoryLiveMetricsStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        self.writes = 0
        # (tenant, queue, abandon page) -> its entries (ccaas.domain.live_metrics.abandon_page); expiry not kept
        self.abandon_pages: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self.abandon_reads = 0

    def snapshots(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {k: dict(self.items[k]) for k in keys if k in self.items}

    def write(self, tenant_id: str, queue_id: str, plan: WritePlan) -> dict[str, Any]:
        with self._lock:
            item = self.items[(tenant_id, queue_id)]
            for name, expected in plan.conditions.items():
                if item.get(name) != expected:
                    raise Conflict(f"live metrics item {tenant_id}/{queue_id} changed ({name})")
            for name in plan.removes:
                item.pop(name, None)
            item.update(plan.sets)
            for name, delta in plan.adds.items():
                item[name] = item.get(name, 0) + delta
            self.writes += 1
            return dict(item)

    def read(self, tenant_id: str, queue_id: str) -> dict[str, Any]:
        return dict(self.items.get((tenant_id, queue_id), {}))

    def add_abandons(self, tenant_id: str, queue_id: str, page: str, entries: Sequence[str], expires_at_s: int) -> set[str]:
        with self._lock:
            stored = self.abandon_pages[(tenant_id, queue_id, page)]
            stored.update(entries)
            return set(stored)

    def abandons(self, tenant_id: str, queue_id: str, days: Sequence[str]) -> dict[str, set[str]]:
        with self._lock:
            self.abandon_reads += 1
            return {day: {e for (t, q, page), entries in self.abandon_pages.items()
                          if (t, q) == (tenant_id, queue_id) and page.startswith(f"{day}#") for e in entries}
                    for day in days}


class MemoryDeduplicator:
    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def first_sequence(self, event: Event, sequence: str) -> str:
        return self.first.setdefault(event.event_id, sequence)

    def seen(self, event_ids: Sequence[str]) -> dict[str, str]:
        return {e: self.first[e] for e in event_ids if e in self.first}

    def remember(self, first_sequences: Mapping[str, str]) -> None:
        for event_id, sequence in first_sequences.items():
            self.first.setdefault(event_id, sequence)


class LocalSentimentEngines:
    """`SentimentEngines` twin: the offline lexicon whatever the engine (no Comprehend without AWS); it
    remembers what was asked, so tests can check a tenant's setting reaches the analysis."""

    def __init__(self) -> None:
        self.requested: list[tuple[str, str]] = []
        self._lexicon: Any = None

    def analyzer(self, engine: str, language: str) -> Any:
        from ccaas.domain.analytics.sentiment import LocalLexiconSentiment

        self.requested.append((engine, language))
        if self._lexicon is None:
            self._lexicon = LocalLexiconSentiment()
        return self._lexicon


class FixedClock:
    def __init__(self, now_ms: int = 1_764_000_000_000) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> str:
        return str(uuid.UUID(int=next(self._n)))
