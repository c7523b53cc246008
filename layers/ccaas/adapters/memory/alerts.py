"""In-memory twins of the alert store and the alerts-bus publisher (same semantics as the AWS ones)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from ccaas.domain.alerts import Alert, AlertChange, AlertStatus, LiveTranscriptState
from ccaas.domain.models import Conflict, NotFound


class MemoryAlertStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alerts: dict[tuple[str, str], Alert] = {}  # (tenant, alert id) -> alert
        self.slots: dict[tuple[str, str, str], str] = {}  # (tenant, rule, subject) -> unresolved alert id
        self.transcripts: dict[tuple[str, str], LiveTranscriptState] = {}

    def open(self, alert: Alert) -> Alert:
        with self._lock:
            slot = (alert.tenant_id, alert.rule.value, alert.subject)
            holder = self.slots.get(slot)
            if holder is not None:
                return self.alerts[(alert.tenant_id, holder)]
            self.slots[slot] = alert.alert_id
            self.alerts[(alert.tenant_id, alert.alert_id)] = alert
            return alert

    def unresolved(self, tenant_id: str) -> list[Alert]:
        ids = sorted(a for (t, _, _), a in self.slots.items() if t == tenant_id)
        return [self.alerts[(tenant_id, i)] for i in ids]

    def get(self, tenant_id: str, alert_id: str) -> Alert:
        try:
            return self.alerts[(tenant_id, alert_id)]
        except KeyError:
            raise NotFound(f"alert {alert_id} not found", field="alert_id") from None

    def recent(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        return self._newest(tenant_id, limit, after, lambda a: True)

    def resolved(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        return self._newest(tenant_id, limit, after, lambda a: a.status == AlertStatus.RESOLVED)

    def index_resolved(self, tenant_id: str) -> int:
        return 0  # `resolved` reads the alerts' status: nothing is ever left out of it here

    def _newest(self, tenant_id: str, limit: int, after: str | None, wanted: Callable[[Alert], bool]) -> list[Alert]:
        mine = [a for (t, i), a in self.alerts.items() if t == tenant_id and (after is None or i < after) and wanted(a)]
        return sorted(mine, key=lambda a: a.alert_id, reverse=True)[:limit]

    def acknowledge(self, tenant_id: str, alert_id: str, at_ms: int) -> Alert:
        with self._lock:
            alert = self.get(tenant_id, alert_id)
            if alert.status == AlertStatus.RESOLVED:
                raise Conflict(f"alert {alert_id} is resolved", field="alert_id")
            if alert.status == AlertStatus.OPEN:
                alert = self.alerts[(tenant_id, alert_id)] = alert.acknowledged(at_ms)
            return alert

    def resolve(self, alert: Alert) -> bool:
        with self._lock:
            stored = self.get(alert.tenant_id, alert.alert_id)
            if stored.status == AlertStatus.RESOLVED:
                return False
            self.alerts[(alert.tenant_id, alert.alert_id)] = alert.model_copy(
                update={"acknowledged_at": stored.acknowledged_at, "published": stored.published}
            )
            slot = (alert.tenant_id, alert.rule.value, alert.subject)
            if self.slots.get(slot) == alert.alert_id:
                del self.slots[slot]
            return True

    def mark_published(self, alerts: Sequence[Alert]) -> None:
        with self._lock:
            for a in alerts:
                key = (a.tenant_id, a.alert_id)
                if key in self.alerts:
                    self.alerts[key] = self.alerts[key].model_copy(update={"published": True})

    def transcript_state(self, tenant_id: str, contact_id: str) -> LiveTranscriptState | None:
        return self.transcripts.get((tenant_id, contact_id))

    def save_transcript_state(self, state: LiveTranscriptState) -> None:
        with self._lock:
            key = (state.tenant_id, state.contact_id)
            current = self.transcripts.get(key)
            if (current.version if current else 0) != state.version - 1:
                raise Conflict(f"live transcript of contact {state.contact_id} changed concurrently")
            self.transcripts[key] = state


class MemoryAlertPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[AlertChange, Alert]] = []
        self.fail_next = 0  # tests: make the next N publish calls fail

    def publish(self, changes: Sequence[tuple[AlertChange, Alert]]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("alerts bus unavailable (test)")
        self.published.extend(changes)
