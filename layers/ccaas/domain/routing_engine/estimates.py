"""Position in queue and estimated wait time (EWT) for a waiting contact (pure).

Position: 1 + the contacts of the same queue that a free agent would take first, in the order the router
takes them now: `order` is select_contact's key within one queue (scoring.waiting_order: by contact score
— priority, time waited over T, SL risk — in the default "scored" mode, so a long wait overtakes a better
priority; priority then the earlier enqueued in "fifo" mode). Without it, that fifo order.

EWT: with N effective agents serving the queue, `free` of them available now, and AHT from recent
handle times, the contact needs k = position − free agent releases (0 when k ≤ 0: it is answered
now). While all N are busy, releases come at rate N/AHT (each busy agent finishes at rate 1/AHT,
memoryless), so the time to the k-th release is Gamma(k, AHT/N):
    EWT = k · AHT / N                    (the classic position × AHT / agents, counting free agents)
    p90 ≈ AHT/N · k · (1 − 1/(9k) + 1.2816/(3√k))³    (Wilson–Hilferty quantile of the Gamma)
Refinements (documented heuristics):
- N counts an agent who serves several queues fractionally: share = 1 / (number of queues in its
  profile at the same or a better priority), since it splits its releases among them;
- AHT blends recent handle times with a prior: (Σ h + prior·w) / (n + w), so a quiet queue starts
  from the configured AHT and a busy one follows its recent contacts.
- Steps still ahead (`ready_in_s`, from reach.ready_in_s): the available agents count as `free` only
  for a contact whose steps let one of them take it. When its step in force is one that no available
  agent satisfies (a best-agents step while only generalists are free, a last agent still busy), it
  cannot be answered before its steps relax to one that an available agent satisfies, R seconds from
  now; so EWT = max(R, the estimate above) and the same for p90 (an agent of the step in force who
  frees up earlier would take it sooner: the figure stays on the upper side, like the rest). When no
  step ahead is ever satisfied by an available agent (R = None), the available agents are not counted
  at all: k = position, it waits for releases. R = 0 (the default): the formula above unchanged.
Left out: contacts ahead that will abandon (the estimate is an upper-side figure under abandonment).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # annotations only: live metrics and alerts read estimates without building the entities
    from ccaas.domain.models import Agent, Contact

__all__ = ["QueueStats", "WaitEstimate", "blended_aht", "effective_agents", "estimate_wait", "position_in_queue"]


class QueueStats(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aht_s: float = Field(gt=0)
    agents: float = Field(ge=0, description="effective staffed agents serving the queue")
    available: int = Field(default=0, ge=0, description="agents free to take a contact of the queue now")
    service_level: float | None = Field(default=None, ge=0, le=1, description="SL so far in the interval")


class WaitEstimate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    ewt_s: float
    p90_s: float
    formula: str = "max(0, position - available) * AHT / agents"


def _fifo_order() -> Callable[[Contact], tuple]:
    """Priority (the plan's, as routing uses it), then the earlier enqueued: "fifo" mode's order."""
    # imported here: live metrics import this module without the entities and plans
    from ccaas.domain.routing_engine.steps import plan_priority  # noqa: PLC0415

    return lambda c: (plan_priority(c), c.enqueued_at or 0, c.contact_id)


def position_in_queue(contact: Contact, waiting: Iterable[Contact],
                      order: Callable[[Contact], tuple] | None = None) -> int:
    """1 + the waiting contacts that come before `contact` by `order` (module docstring; default: fifo order)."""
    key = order if order is not None else _fifo_order()
    mine = key(contact)
    return 1 + sum(1 for c in waiting if c.contact_id != contact.contact_id and key(c) < mine)


def estimate_wait(position: int, stats: QueueStats, *, ready_in_s: float | None = 0.0) -> WaitEstimate:
    """EWT and p90 (module docstring). `ready_in_s`: seconds until the contact's steps let an agent
    available now take it (0: they do now; None: they never do), see "Steps still ahead"."""
    if ready_in_s is None:
        return _estimate(position, position, stats).model_copy(
            update={"formula": "position * AHT / agents (no available agent satisfies its steps)"})
    estimate = _estimate(position, position - stats.available, stats)
    if ready_in_s <= 0:
        return estimate
    return WaitEstimate(position=position, ewt_s=max(ready_in_s, estimate.ewt_s),
                        p90_s=max(ready_in_s, estimate.p90_s),
                        formula="max(steps ahead, max(0, position - available) * AHT / agents)")


def _estimate(position: int, k: int, stats: QueueStats) -> WaitEstimate:
    if k <= 0:
        return WaitEstimate(position=position, ewt_s=0.0, p90_s=0.0)
    if stats.agents <= 0:
        return WaitEstimate(position=position, ewt_s=math.inf, p90_s=math.inf)
    step = stats.aht_s / stats.agents
    p90 = step * k * (1 - 1 / (9 * k) + 1.2816 / (3 * math.sqrt(k))) ** 3
    return WaitEstimate(position=position, ewt_s=k * step, p90_s=max(p90, k * step))


def blended_aht(mean_s: float | None, count: int, prior_s: float, prior_weight: float = 10.0) -> float:
    """(Σ h + prior·w) / (n + w) from the recent contacts' mean handle time and count."""
    return ((mean_s or 0.0) * count + prior_s * prior_weight) / (count + prior_weight)


def effective_agents(agents: Iterable[Agent], queue_id: str) -> float:
    total = 0.0
    for agent in agents:
        if not agent.is_staffed:
            continue
        mine = agent.serves(queue_id)
        if mine is None:
            continue
        total += 1.0 / sum(1 for q in agent.queues if q.priority <= mine.priority)
    return total
