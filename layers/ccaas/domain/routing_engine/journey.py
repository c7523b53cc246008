"""Journey context: what we know of this customer's recent contacts, and what routing makes of it (pure).

- Last agent: the agent of the customer's most recent handled contact is preferred (as the plan's
  first step) when that contact ended within `last_agent_window_s` of now (boundary included).
- Repeat contact: a previous contact of the same customer with the same reason that *started*
  within the FCR window (default 7 days, boundary included: exactly W days earlier still counts),
  as in kpis/repeats.py, so routing and the FCR KPI flag the same contacts. A repeat raises the
  priority and is flagged on the plan.
- The offer carries a JourneySummary: the repeat (if any), the last agent and the few most recent
  contacts, small enough to ride along with every offer.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JourneyContext", "JourneyInsight", "JourneySummary", "PastContact", "analyse_journey"]

_DAY_MS = 86_400_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PastContact(_Frozen):
    contact_id: str
    started_at: int = Field(description="epoch ms the customer reached out (KPI contact_time)")
    ended_at: int | None = None
    agent_id: str | None = None
    queue_id: str | None = None
    channel: str | None = None
    reason: str | None = None
    outcome: str | None = Field(default=None, description="e.g. COMPLETED, ABANDONED, TRANSFERRED")
    sentiment: float | None = Field(default=None, ge=-5, le=5)


class JourneyContext(_Frozen):
    """Looked up at intake by the caller (the engine reads no store)."""

    customer_id: str | None = None
    reason: str | None = Field(default=None, description="reason/intent of the contact being planned")
    history: tuple[PastContact, ...] = ()
    sentiment: float | None = Field(default=None, ge=-5, le=5, description="recent overall sentiment")


class JourneySummary(_Frozen):
    """What an offer shows the agent about the customer's journey."""

    customer_id: str | None = None
    repeat_contact: bool = False
    repeat_of: str | None = None
    last_agent_id: str | None = None
    recent: tuple[PastContact, ...] = ()
    sentiment: float | None = None


class JourneyInsight(_Frozen):
    last_agent_id: str | None = None
    last_agent_ended_at: int | None = None
    repeat_of: PastContact | None = None
    summary: JourneySummary


def analyse_journey(
    journey: JourneyContext,
    now_ms: int,
    *,
    last_agent_window_s: float,
    fcr_window_days: float,
    recent_limit: int = 5,
) -> JourneyInsight:
    history = sorted(journey.history, key=lambda p: (p.started_at, p.contact_id), reverse=True)
    last = next((p for p in history if p.agent_id and p.started_at <= now_ms), None)
    last_agent = None
    last_end = None
    if last is not None:
        last_end = last.ended_at if last.ended_at is not None else last.started_at
        if 0 <= now_ms - last_end <= last_agent_window_s * 1000:
            last_agent = last.agent_id
    repeat = None
    if journey.reason is not None:
        window = fcr_window_days * _DAY_MS
        repeat = next(
            (p for p in history if p.reason == journey.reason and 0 <= now_ms - p.started_at <= window),
            None,
        )
    summary = JourneySummary(
        customer_id=journey.customer_id,
        repeat_contact=repeat is not None,
        repeat_of=repeat.contact_id if repeat else None,
        last_agent_id=last.agent_id if last else None,
        recent=tuple(history[:recent_limit]),
        sentiment=journey.sentiment,
    )
    return JourneyInsight(last_agent_id=last_agent, last_agent_ended_at=last_end if last_agent else None,
                          repeat_of=repeat, summary=summary)
