"""AgentIndex: available agents by (queue, channel), longest idle first, for the simulator and the
bench (in memory; the DynamoDB side mirrors it with sparse GSIs keyed the same way).

Structure: one binary heap per key, entries (idle_since, agent_id, token):
  (queue_id, channel)                       every agent serving the queue with a free slot on the channel
  (queue_id, channel, skill, level)         the same, split by each skill the agent has, at its level
An update (upsert/remove) bumps the agent's token; older entries become stale and are dropped when
they surface (lazy deletion), and the heaps are rebuilt when stale entries outnumber live ones 3 to 1.
An update costs O(q·c·(1 + s)·log n) for q queues, c channels, s skills of that agent.

candidates(queue, channel, step condition) pops, per proficiency level from 5 down to the step's
minimum on its driving skill, up to `per_level` agents that satisfy the whole condition (longest
idle first), then pushes them back: O(k log n) for k agents returned, independent of staff size,
as long as the condition's driving skill narrows the search (a step with only `not` terms or none
scans the queue's heap until `limit` agents match). Returned agents are sorted longest idle first.
The engine still checks every returned agent (eligibility is decided by selection.py, not here).
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping

from ccaas.domain.models import Agent, Channel
from ccaas.domain.routing_engine.conditions import AllOf, AnyOf, SkillAtLeast, matches

__all__ = ["AgentIndex"]


def _driving(cond) -> list[SkillAtLeast] | None:
    """Skill leaves such that every matching agent has at least one of them: None if there is none."""
    if cond is None:
        return None
    if isinstance(cond, SkillAtLeast):
        return [cond]
    if isinstance(cond, AllOf):
        best = None
        for child in cond.all:
            leaves = _driving(child)
            if leaves is not None and (best is None or len(leaves) < len(best)
                                       or (len(leaves) == len(best) == 1 and leaves[0].min > best[0].min)):
                best = leaves
        return best
    if isinstance(cond, AnyOf):
        out: list[SkillAtLeast] = []
        for child in cond.any:
            leaves = _driving(child)
            if leaves is None:
                return None
            out.extend(leaves)
        return out
    return None


class AgentIndex:
    def __init__(self, agents: Iterable[Agent] = (), *, queue_channels: Mapping[str, Iterable[Channel]] | None = None):
        self._agents: dict[str, Agent] = {}
        self._token: dict[str, int] = {}
        self._heaps: dict[tuple, list[tuple[int, str, int]]] = {}
        self._queue_channels = {q: frozenset(c) for q, c in (queue_channels or {}).items()}
        self._entries = 0
        self._live_entries = 0
        self._agent_entries: dict[str, int] = {}
        for agent in agents:
            self.upsert(agent)

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: str) -> bool:
        return agent_id in self._agents

    def get(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def agents(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    # ------------------------------------------------------------------ updates

    def upsert(self, agent: Agent) -> None:
        """Store the agent's current state (call after every change of status, work or profile)."""
        aid = agent.agent_id
        token = self._token.get(aid, 0) + 1
        self._token[aid] = token
        self._agents[aid] = agent
        self._live_entries -= self._agent_entries.get(aid, 0)
        pushed = 0
        if agent.is_available:
            idle = agent.idle_since()
            entry = (idle, aid, token)
            for assignment in agent.queues:
                q = assignment.queue_id
                allowed = self._queue_channels.get(q)
                for channel in agent.capacity:
                    if allowed is not None and channel not in allowed:
                        continue
                    if agent.free_slots(channel) < 1:
                        continue
                    heapq.heappush(self._heaps.setdefault((q, channel), []), entry)
                    pushed += 1
                    for skill, level in agent.skills.items():
                        heapq.heappush(self._heaps.setdefault((q, channel, skill, level), []), entry)
                        pushed += 1
        self._agent_entries[aid] = pushed
        self._live_entries += pushed
        self._entries += pushed
        if self._entries > 4 * self._live_entries + 1024:
            self._compact()

    def remove(self, agent_id: str) -> None:
        if agent_id in self._agents:
            self._token[agent_id] += 1
            del self._agents[agent_id]
            self._live_entries -= self._agent_entries.pop(agent_id, 0)

    def _compact(self) -> None:
        token = self._token
        for key, heap in list(self._heaps.items()):
            live = [e for e in heap if token.get(e[1]) == e[2]]
            if live:
                heapq.heapify(live)
                self._heaps[key] = live
            else:
                del self._heaps[key]
        self._entries = sum(len(h) for h in self._heaps.values())
        self._live_entries = self._entries

    # ------------------------------------------------------------------ queries

    def _take(self, key: tuple, want: int, cond, seen: set[str], out: list[Agent], max_scan: int) -> None:
        heap = self._heaps.get(key)
        if not heap:
            return
        token, agents = self._token, self._agents
        back: list[tuple[int, str, int]] = []
        got = scanned = 0
        try:
            while heap and got < want and scanned < max_scan:
                entry = heapq.heappop(heap)
                if token.get(entry[1]) != entry[2]:
                    self._entries -= 1
                    continue  # stale: dropped for good
                back.append(entry)
                scanned += 1
                aid = entry[1]
                if aid in seen:
                    continue
                agent = agents[aid]
                if cond is None or matches(cond, agent.skills):
                    seen.add(aid)
                    out.append(agent)
                    got += 1
        finally:
            for entry in back:
                heapq.heappush(heap, entry)

    def candidates(self, queue_id: str, channel: Channel, condition=None, preferred: Iterable[str] = (), *,
                   per_level: int = 10, limit: int = 50, max_scan: int | None = None) -> list[Agent]:
        """Available agents of the queue with a free slot on the channel, fit for the step, longest idle first."""
        preferred = tuple(preferred)
        if preferred:
            found = [a for p in preferred if (a := self._agents.get(p)) is not None and a.serves(queue_id)]
            return sorted(found, key=lambda a: (a.idle_since(), a.agent_id))
        out: list[Agent] = []
        seen: set[str] = set()
        scan = max_scan if max_scan is not None else 20 * limit
        leaves = _driving(condition)
        if leaves is None:
            self._take((queue_id, channel), limit, condition, seen, out, scan)
        else:
            for leaf in leaves:
                for level in range(5, leaf.min - 1, -1):
                    self._take((queue_id, channel, leaf.skill, level), per_level, condition, seen, out, scan)
        out.sort(key=lambda a: (a.idle_since(), a.agent_id))
        return out

    def available(self, queue_id: str, channel: Channel) -> int:
        """How many agents are indexed as free for (queue, channel) — O(heap size), for stats only."""
        token = self._token
        heap = self._heaps.get((queue_id, channel), [])
        return len({e[1] for e in heap if token.get(e[1]) == e[2]})
