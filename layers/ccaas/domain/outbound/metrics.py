"""Campaign metrics, pure: what the stored attempts and the campaign's OUTBOUND contacts count as.

Per attempt (an `AttemptFact`: its start, disposition, whether it became a contact with an agent):
- **attempts**: dials placed (one stored attempt each; an agentless call is one too).
- **human_answered**: the disposition says a person answered (`Disposition.human_answered`: answered,
  right-party contact, wrong party, opted out, abandoned) — the denominator of the abandonment rate.
- **connects**: human-answered calls handed to an agent (the attempt became an OUTBOUND contact) and not
  dropped. A preview record is a contact before it is dialed, so only its human-answered outcomes count.
  An agent who re-disposes an answered call as voicemail / answering machine / invalid number says no
  person was there: that attempt is neither human-answered nor a connect, here and in the day counters
  (`agent_disposition_counts` moves it out of `outcome.answered` and `connects`), so the 30-day cap's
  denominator holds calls answered by a person only.
- **right_party_contacts**: attempts an agent disposed as a conversation with the person sought
  (`RIGHT_PARTY`: right-party contact, and callback requested — the person asked to be called back);
  **callbacks_requested**: those of them with callback_requested (a part of right_party_contacts, not added to it).
  The live figure reads the day counters `agent.<d>` of the same dispositions, the history the stored attempts.
- **opted_out**, **abandoned**: attempts with that disposition.
- **abandonment_rate**: abandoned ÷ human_answered (None with nothing answered). The compliance figure
  is the campaign's rolling 30 days (47 CFR 64.1200(a)(7)); `rolling_counts` sums the day counters for it.

Agent time on the campaign (DOMAIN.md: occupancy = time on contacts or in ACW ÷ (that time + available
idle time)), from the campaign's OUTBOUND contacts only (`CampaignCall`: agent, connected, work ended):
- an agent's **busy** time on a call = work end − connect = talk + hold + ACW, where work end is the end of
  ACW, else the disconnect (no ACW), else — a call still on — the end of the window measured;
- an agent's **idle between calls** = the next campaign call's connect − the previous one's work end, for
  consecutive calls of the same agent whose gap is at most `session_break_ms` (15 min by default). A longer
  gap is a break or the agent leaving the campaign, not time waiting for the dialer, and counts as neither
  busy nor idle. Time before an agent's first call and after its last is not known from the contacts and
  is not counted. (The dialer's wait for a person to answer is exactly this gap: predictive pacing
  shortens it.) An overlap (a gap below 0) counts as 0.
- **occupancy** = Σ busy ÷ (Σ busy + Σ idle) over the agents' calls — "logged time on the campaign" is the
  busy plus idle time of each agent's contiguous run of campaign calls; None with no call.
- **idle_between_calls_s** = the mean of the counted gaps; None with no gap (fewer than two calls of one
  agent within a session).
A call belongs to the interval its connect falls in; a gap to the interval of the call that ends it.
Limit: an inbound contact the agent took between two campaign calls lies inside that gap (the campaign's
contacts do not show it), so with blended agents idle is overstated and occupancy understated.

CloudWatch (`outcome_metrics`, `tick_metrics`, `agent_disposition_metrics`): the counts a handler emits as EMF per
(tenant, campaign); a callback requested counts in RightPartyContacts and in CallbacksRequested.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from pydantic import Field

from ccaas.domain.vocabulary import Frozen, Int
from ccaas.domain.outbound.models import Disposition

__all__ = [
    "ABANDON_WINDOW_DAYS", "AgentTime", "AttemptFact", "CampaignCall", "CampaignFigures", "RIGHT_PARTY",
    "SESSION_BREAK_MS",
    "agent_disposition_counts", "agent_disposition_metrics", "agent_time", "agent_time_by", "counter_day", "figures", "is_connect", "outcome_metrics", "rolling_counts", "tick_metrics",
]

SESSION_BREAK_MS = 15 * 60_000
ABANDON_WINDOW_DAYS = 30
# The agent dispositions that count as a right-party contact: a callback is requested in a conversation with the
# person (Reg F treats it as one: Attempt.conversation), so it is a right-party contact too.
RIGHT_PARTY = frozenset({Disposition.RIGHT_PARTY_CONTACT, Disposition.CALLBACK_REQUESTED})


class AttemptFact(Frozen):
    """One stored attempt as the figures read it."""

    started_ms: Int
    disposition: Disposition | None = None
    has_contact: bool = Field(default=False, description="the attempt is linked to an OUTBOUND contact")
    dial_error: bool = False


def counter_day(at: datetime) -> str:
    """The day a campaign counter is added to: `at`'s UTC date, ISO (the dialer, both stores and the reports agree)."""
    return at.astimezone(UTC).date().isoformat()


def is_connect(disposition: Disposition | None, has_contact: bool) -> bool:
    """A person answered and the call was handed to an agent (see the module docstring)."""
    return (has_contact and disposition is not None and disposition.human_answered
            and disposition is not Disposition.ABANDONED)


class CampaignFigures(Frozen):
    attempts: Int = 0
    completed: Int = Field(default=0, description="attempts with an outcome")
    human_answered: Int = 0
    connects: Int = 0
    right_party_contacts: Int = Field(default=0, description="right-party contacts and callbacks requested")
    callbacks_requested: Int = 0
    abandoned: Int = 0
    opted_out: Int = 0
    dial_errors: Int = 0
    outcomes: dict[str, int] = Field(default_factory=dict, description="attempts by final disposition")

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.human_answered if self.human_answered else None


def figures(facts: Iterable[AttemptFact]) -> CampaignFigures:
    attempts = completed = human = connects = rpc = callbacks = abandoned = opted = errors = 0
    outcomes: dict[str, int] = {}
    for f in facts:
        attempts += 1
        errors += f.dial_error
        d = f.disposition
        if d is None:
            continue
        completed += 1
        outcomes[str(d)] = outcomes.get(str(d), 0) + 1
        human += d.human_answered
        connects += is_connect(d, f.has_contact)
        rpc += d in RIGHT_PARTY
        callbacks += d is Disposition.CALLBACK_REQUESTED
        abandoned += d is Disposition.ABANDONED
        opted += d is Disposition.OPTED_OUT
    return CampaignFigures(attempts=attempts, completed=completed, human_answered=human, connects=connects,
                           right_party_contacts=rpc, callbacks_requested=callbacks, abandoned=abandoned,
                           opted_out=opted, dial_errors=errors,
                           outcomes=dict(sorted(outcomes.items())))


# --- agent time ------------------------------------------------------------------------------------------

class CampaignCall(Frozen):
    """One OUTBOUND contact of the campaign that reached an agent."""

    agent_id: str = Field(min_length=1)
    connected_ms: Int
    work_ended_ms: Int | None = Field(default=None, description="end of ACW, else disconnect; None: still on")

    def busy_ms(self, until_ms: int) -> int:
        end = self.work_ended_ms if self.work_ended_ms is not None else until_ms
        return max(0, end - self.connected_ms)

    def end_ms(self, until_ms: int) -> int:
        return max(self.connected_ms, self.work_ended_ms if self.work_ended_ms is not None else until_ms)


class AgentTime(Frozen):
    calls: Int = 0
    agents: Int = 0
    busy_ms: Int = 0
    idle_ms: Int = 0
    gaps: Int = Field(default=0, description="idle spans counted (consecutive calls within a session)")

    @property
    def occupancy(self) -> float | None:
        total = self.busy_ms + self.idle_ms
        return self.busy_ms / total if total else None

    @property
    def idle_between_calls_s(self) -> float | None:
        return self.idle_ms / self.gaps / 1000 if self.gaps else None


def _per_agent(calls: Iterable[CampaignCall]) -> dict[str, list[CampaignCall]]:
    by_agent: dict[str, list[CampaignCall]] = {}
    for call in calls:
        by_agent.setdefault(call.agent_id, []).append(call)
    for runs in by_agent.values():
        runs.sort(key=lambda c: c.connected_ms)
    return by_agent


def agent_time_by(calls: Iterable[CampaignCall], *, until_ms: int, key: Callable[[int], int] = lambda _ms: 0,
                  session_break_ms: int = SESSION_BREAK_MS) -> dict[int, AgentTime]:
    """AgentTime per bucket: `key(connected_ms)` names the bucket of a call (and of the gap it ends)."""
    acc: dict[int, dict[str, int]] = {}
    agents: dict[int, set[str]] = {}
    for agent_id, runs in _per_agent(calls).items():
        previous: CampaignCall | None = None
        for call in runs:
            b = key(call.connected_ms)
            cell = acc.setdefault(b, {"calls": 0, "busy": 0, "idle": 0, "gaps": 0})
            agents.setdefault(b, set()).add(agent_id)
            cell["calls"] += 1
            cell["busy"] += call.busy_ms(until_ms)
            if previous is not None:
                gap = call.connected_ms - previous.end_ms(until_ms)
                if gap <= session_break_ms:
                    cell["idle"] += max(0, gap)
                    cell["gaps"] += 1
            previous = call
    return {b: AgentTime(calls=c["calls"], agents=len(agents[b]), busy_ms=c["busy"], idle_ms=c["idle"], gaps=c["gaps"])
            for b, c in acc.items()}


def agent_time(calls: Iterable[CampaignCall], *, until_ms: int, session_break_ms: int = SESSION_BREAK_MS) -> AgentTime:
    """Occupancy and idle between calls over all `calls` (see the module docstring)."""
    return agent_time_by(calls, until_ms=until_ms, session_break_ms=session_break_ms).get(0, AgentTime())


# --- day counters ----------------------------------------------------------------------------------------

def rolling_counts(days: Mapping[str, Mapping[str, int]], last_day: date,
                   window_days: int = ABANDON_WINDOW_DAYS) -> dict[str, int]:
    """The campaign's day counters (UTC ISO date -> counts) summed over the `window_days` days ending with
    `last_day` (inclusive): the rolling window of the abandonment cap."""
    first = (last_day - timedelta(days=window_days - 1)).isoformat()
    end = last_day.isoformat()
    out: dict[str, int] = {}
    for day, counts in days.items():
        if first <= day <= end:
            for name, n in counts.items():
                out[name] = out.get(name, 0) + int(n)
    return out


# --- CloudWatch counts -----------------------------------------------------------------------------------

def outcome_metrics(disposition: Disposition, connected: bool) -> dict[str, int]:
    """The EMF counts of one carrier outcome (or agent disposition) of one attempt."""
    out = {"Outcomes": 1}
    if disposition.human_answered:
        out["HumanAnswered"] = 1
    if connected and disposition.human_answered and disposition is not Disposition.ABANDONED:
        out["Connects"] = 1
    if disposition is Disposition.ABANDONED:
        out["Abandoned"] = 1
    return out


def tick_metrics(dialed: int, blocks: Mapping[str, int], dial_errors: int = 0) -> tuple[dict[str, int], dict[str, int]]:
    """(counts, blocks by rule) of one dialing tick: Attempts, DialErrors, and Blocked per rule."""
    counts = {"Attempts": dialed}
    if dial_errors:
        counts["DialErrors"] = dial_errors
    return counts, {str(rule): n for rule, n in sorted(blocks.items()) if n}


def agent_disposition_counts(disposition: Disposition, connected: bool) -> dict[str, int]:
    """The day counters an agent's disposition of an answered call adds (to the day the answer was counted on):
    `agent.<d>`; a disposition that says no person was there (voicemail, answering machine, invalid number) also
    moves the call from `outcome.answered` (and `connects`, when it reached an agent) to `outcome.<d>`."""
    counts = {f"agent.{disposition}": 1}
    if not disposition.human_answered:
        counts[f"outcome.{Disposition.ANSWERED}"] = -1
        counts[f"outcome.{disposition}"] = 1
        if connected:
            counts["connects"] = -1
    return counts


def agent_disposition_metrics(disposition: Disposition) -> dict[str, int]:
    """The EMF counts of an agent's disposition of an answered call (a callback requested is a right-party contact
    too: the two series agree with right_party_contacts and callbacks_requested of the API)."""
    if disposition is Disposition.CALLBACK_REQUESTED:
        return {"RightPartyContacts": 1, "CallbacksRequested": 1}
    if disposition is Disposition.RIGHT_PARTY_CONTACT:
        return {"RightPartyContacts": 1}
    if disposition is Disposition.OPTED_OUT:
        return {"OptedOut": 1}
    return {}
