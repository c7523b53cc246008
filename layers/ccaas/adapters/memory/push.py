"""In-memory twins of the connections table and the management API (PostToConnection)."""
from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ccaas.domain.models import NotFound
from ccaas.domain.push import Connection, ConnectionGone


class MemoryConnectionStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[tuple[str, str], Connection] = {}

    def put(self, connection: Connection) -> None:
        with self._lock:
            self.items[(connection.tenant_id, connection.connection_id)] = connection

    def get(self, tenant_id: str, connection_id: str) -> Connection | None:
        return self.items.get((tenant_id, connection_id))

    def delete(self, tenant_id: str, connection_id: str) -> None:
        with self._lock:
            self.items.pop((tenant_id, connection_id), None)

    def subscribe(self, tenant_id: str, connection_id: str, queues: Sequence[str]) -> Connection:
        with self._lock:
            current = self.items.get((tenant_id, connection_id))
            if current is None:
                raise NotFound(f"connection {connection_id} not found", field="connection_id")
            updated = current.model_copy(update={"subscriptions": tuple(dict.fromkeys(queues))})
            self.items[(tenant_id, connection_id)] = updated
            return updated

    def of_agent(self, tenant_id: str, agent_id: str) -> list[Connection]:
        return sorted((c for (t, _), c in list(self.items.items()) if t == tenant_id and c.agent_id == agent_id and agent_id),
                      key=lambda c: c.connection_id)

    def watchers(self, tenant_id: str) -> list[Connection]:
        return sorted((c for (t, _), c in list(self.items.items()) if t == tenant_id and c.watches_queues),
                      key=lambda c: c.connection_id)

    def watchers_of(self, tenant_id: str, key_id: str) -> list[Connection]:
        return [c for c in self.watchers(tenant_id) if c.key_id == key_id]


class MemoryPushChannel:
    """`sent[connection_id]` lists what reached it; `gone` ids answer 410, `failing` ids raise; `closed` lists the
    connections closed (a closed one is gone). `connecting` ids are in their $connect (the caller adds and removes
    them): as on API Gateway, a post answers 410 and a DeleteConnection closes nothing (its 410 reads as "closed
    already" to the caller); `missed_closes` lists those."""

    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.failing: set[str] = set()
        self.closed: list[str] = []  # DeleteConnection calls that closed a socket, in order
        self.connecting: set[str] = set()
        self.missed_closes: list[str] = []  # DeleteConnection calls on a connection still in its $connect

    def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        if connection_id in self.gone or connection_id in self.connecting:
            raise ConnectionGone(connection_id)
        if connection_id in self.failing:
            raise RuntimeError(f"PostToConnection failed for {connection_id}")
        self.sent[connection_id].append(dict(message))

    def close(self, connection_id: str) -> None:
        if connection_id in self.connecting:
            self.missed_closes.append(connection_id)
            return
        self.closed.append(connection_id)
        self.gone.add(connection_id)  # as API Gateway: a closed connection answers 410 from now on
