"""What the API returns: times as ISO 8601 UTC, internal fields (workflow tokens, versions) left out."""
from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from ccaas.domain.models import Agent, Contact


def iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ContactView(BaseModel):
    contact_id: str
    channel: str
    initiation_method: str
    queue_id: str
    state: str
    priority: int
    customer_id: str | None
    reason: str | None
    attributes: dict[str, str]
    agent_id: str | None
    previous_contact_id: str | None
    initial_contact_id: str | None
    initiated_at: str | None
    enqueued_at: str | None
    offered_at: str | None
    connected_at: str | None
    disconnected_at: str | None
    acw_ended_at: str | None
    queue_wait_s: float | None

    @classmethod
    def of(cls, c: Contact) -> ContactView:
        wait = c.queue_wait_ms()
        return cls(
            **c.model_dump(
                mode="json",
                include={
                    "contact_id", "channel", "initiation_method", "queue_id", "state", "priority", "customer_id",
                    "reason", "attributes", "agent_id", "previous_contact_id", "initial_contact_id",
                },
            ),
            initiated_at=iso(c.initiated_at),
            enqueued_at=iso(c.enqueued_at),
            offered_at=iso(c.offered_at),
            connected_at=iso(c.connected_at),
            disconnected_at=iso(c.disconnected_at),
            acw_ended_at=iso(c.acw_ended_at),
            queue_wait_s=None if wait is None else wait / 1000,
        )


class AgentView(BaseModel):
    agent_id: str
    name: str
    status: str
    status_since: str | None
    activity: str
    activity_since: str | None
    handled_today: int
    skills: dict[str, int]
    queues: list[dict]
    capacity: dict[str, int]
    active: dict[str, int]
    offers: list[str]
    active_contact_ids: list[str]
    acw_contact_ids: list[str]

    @classmethod
    def of(cls, a: Agent, today: str | None = None) -> AgentView:
        """`today` (tenant-local YYYYMMDD) decides whether the stored handled count is today's."""
        from ccaas.domain.events import agent_activity

        dumped = a.model_dump(mode="json")
        return cls(
            agent_id=a.agent_id,
            name=a.name,
            status=a.status,
            status_since=iso(a.status_since),
            activity=agent_activity(a),
            activity_since=iso(a.activity_since),
            handled_today=a.handled_today if today is None or a.handled_day == today else 0,
            skills=a.skills,
            queues=dumped["queues"],
            capacity=dumped["capacity"],
            active=dumped["active"],
            offers=list(a.offered_contact_ids),
            active_contact_ids=list(a.active_contact_ids),
            acw_contact_ids=list(a.acw_contact_ids),
        )
