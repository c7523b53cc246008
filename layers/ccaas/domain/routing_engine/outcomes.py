"""Policy outcomes around offers (pure): reservation timeout, refused/missed offers, callback-in-queue.

Reservation: an offer expires at offered_at + reservation.timeout_s (default 30 s). When the agent
rejects it or lets it time out, the contact goes back to the queue keeping its place (lifecycle.decline
adds the agent to declined_by) and is re-offered to the next best agent; the agent is optionally set
not-ready (default: on timeout, as "MISSED"; not on an explicit reject). With reservation.max_declines
set, once that many agents have refused, the refusals are forgotten so the contact can reach anyone but the
agent who refused last (offered straight back, it bounced on that agent while others stood free). A transferred
segment's sender kept away from it (lifecycle.excluded_sender: a consult leg's, an escalation's, a blind
transfer's with exclusion on) is no refusal: not counted, and still kept away once the refusals are forgotten.

Callback-in-queue: when the estimated wait exceeds callback.offer_when_wait_exceeds_s, the decision
is "callback"; with keep_place the callback contact keeps the original enqueued_at, so it is served
in the order it would have been (the customer just does not hold the line).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ccaas.domain.lifecycle import excluded_sender
from ccaas.domain.models import Agent, Contact, ContactState, InitiationMethod, Queue
from ccaas.domain.routing_engine.decisions import Decision
from ccaas.domain.routing_engine.estimates import WaitEstimate
from ccaas.domain.routing_engine.policy import RoutingPolicy
from ccaas.domain.routing_engine.reach import StaffedAgents, as_staff, resolve_step
from ccaas.domain.routing_engine.steps import current_step

__all__ = ["OfferFollowUp", "after_failed_offer", "decide_callback", "next_check_at", "offer_wakes_workflow",
           "offers_callback", "queued_check_ms", "reservation_deadline", "waits_as_callback", "wait_deadline"]


def reservation_deadline(offered_at: int, policy: RoutingPolicy) -> int:
    return offered_at + int(policy.reservation.timeout_s * 1000)


def waits_as_callback(contact: Contact) -> bool:
    """Whether the contact's wait is a callback's: a scheduled one (or one that will wait as one), and the CALLBACK
    contact it became, which waits again after a rejected or missed offer (its customer still off the line)."""
    return (contact.state == ContactState.CALLBACK_SCHEDULED
            or (contact.state == ContactState.INITIATED and contact.callback_number is not None)
            or contact.initiation_method == InitiationMethod.CALLBACK)


def wait_deadline(contact: Contact, queue: Queue, policy: RoutingPolicy, since_ms: int) -> tuple[int, str]:
    """When the system ends the contact's wait, and the abandon reason it gives: a callback's at
    callback.max_wait_s (CALLBACK_EXPIRED), any other at the queue's max_wait_s (QUEUE_TIMEOUT), both from
    enqueued_at (`since_ms` when not enqueued yet). A CALLBACK contact carries its scheduled callback's enqueued_at
    (lifecycle.reach_callback): its deadline is the very instant the scheduled callback had."""
    start = contact.enqueued_at if contact.enqueued_at is not None else since_ms
    if waits_as_callback(contact):
        return start + int(policy.for_queue(queue.queue_id).callback.max_wait_s * 1000), "CALLBACK_EXPIRED"
    return start + queue.max_wait_s * 1000, "QUEUE_TIMEOUT"


QUEUED_CHECK_SHARE = 0.1  # of the time waited so far
QUEUED_CHECK_MAX_MS = 15 * 60 * 1000


def queued_check_ms(waited_ms: int, policy: RoutingPolicy) -> int:
    """The safety net of a QUEUED contact's timer (next_check_at): at least one reservation timeout (a
    contact answered within it costs nothing), a tenth of the wait so far, at most 15 minutes."""
    reservation_ms = int(policy.reservation.timeout_s * 1000)
    return max(reservation_ms, min(int(max(waited_ms, 0) * QUEUED_CHECK_SHARE), QUEUED_CHECK_MAX_MS))


OFFER_WAKE_SLACK_MS = 5_000  # a timer ending this little after the reservation takes a missed offer back itself


def offer_wakes_workflow(contact: Contact, policy: RoutingPolicy) -> bool:
    """Whether an offer must wake the contact's workflow: its timer (`check_at`, the safety net of a long wait) ends
    more than OFFER_WAKE_SLACK_MS after the offer's reservation deadline. The timer cannot move, so the workflow is
    woken (Recheck then times the offer by its reservation); left alone, a missed offer held its agent up to 15
    minutes. Never in a caller's first 5 minutes: the safety net is then one reservation timeout, which ends
    before the reservation of any offer made during it."""
    if contact.state != ContactState.OFFERED or contact.offered_at is None or contact.check_at is None:
        return False
    return contact.workflow_token is not None and (
        contact.check_at > reservation_deadline(contact.offered_at, policy) + OFFER_WAKE_SLACK_MS)


def next_check_at(contact: Contact, queue: Queue, policy: RoutingPolicy, now_ms: int, *,
                  staffed: StaffedAgents | Iterable[Agent] | Callable[[], Iterable[Agent]] | None = None) -> int | None:
    """When the workflow must look at a waiting contact again although no event came (epoch ms):
    the queue timeout, the in-force routing step's expiry (the next step widens the agent pool), the
    offer's reservation deadline; None once the contact no longer waits.

    With `staffed` (the tenant's agents, or a callable loading them) the step in force is the one a
    decision would use (reach.resolve_step): a step no staffed agent can satisfy is passed over, so
    the timer is not set for its expiry. It is consulted only when that expiry would set the timer.

    A contact QUEUED now may be offered at any moment during the wait (a freed agent takes it), and the
    workflow's timer cannot be moved once started; so its wait is also capped by a safety net that bounds how
    late a missed offer is noticed: one reservation timeout at first, then a tenth of the time the contact has
    waited, at most 15 minutes (queued_check_ms). A day-long wait is then about 130 checks, not 2,880 (each costs
    three Standard transitions and 13 history events). An offer whose reservation ends well before that timer
    wakes the workflow (offer_wakes_workflow), so a missed one is still noticed at its reservation deadline.

    With `staffed`, the end of a staffed agent's queue delay (QueueAssignment.delay_s) is a check too: an agent
    idle while the contact is too young for it hears of nothing when the contact comes of age (no event), so the
    contact waited for the next timer — a callback for its whole day, a call past its queue timeout.
    """
    start = contact.enqueued_at if contact.enqueued_at is not None else now_ms
    if contact.state == ContactState.OFFERED:
        return reservation_deadline(contact.offered_at or now_ms, policy)
    if contact.state not in (ContactState.INITIATED, ContactState.QUEUED, ContactState.CALLBACK_SCHEDULED):
        return None
    deadline, _ = wait_deadline(contact, queue, policy, now_ms)
    times = [deadline]
    if contact.state != ContactState.CALLBACK_SCHEDULED and not (
            contact.state == ContactState.INITIATED and contact.callback_number is not None):
        # QUEUED (a CALLBACK contact back from a failed offer too): offered at any moment, so the safety net
        times.append(now_ms + queued_check_ms(now_ms - start, policy))
    staff = as_staff(staffed)
    if staff is not None:
        times.extend(end for end in (start + delay for delay in staff.delays_ms(queue)) if end > now_ms)
    step = current_step(contact, queue, policy, now_ms)
    if staff is not None and step.expires_at is not None and now_ms < step.expires_at < min(times):
        step = resolve_step(contact, queue, policy, now_ms, staff, step)
    expiry = step.expires_at
    if expiry is not None and expiry > now_ms:
        times.append(expiry)
    return min(times)


class OfferFollowUp(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reoffer: bool
    agent_status: str | None  # set the agent to this not-ready status, or leave it
    reset_declines: bool
    # With reset_declines: the contact's declined_by once the refusals are forgotten (the excluded sender first).
    still_declined: tuple[str, ...] = ()
    decision: Decision


def after_failed_offer(contact: Contact, agent_id: str, failure: Literal["rejected", "timeout"],
                       policy: RoutingPolicy, now_ms: int) -> OfferFollowUp:
    rp = policy.reservation
    rule = rp.reject if failure == "rejected" else rp.timeout
    sender = excluded_sender(contact)  # in declined_by for having sent it: not a refusal
    refusals = len({a for a in contact.declined_by if a != sender} | {agent_id})
    reset = rp.max_declines is not None and refusals >= rp.max_declines
    status = rule.not_ready_status if rule.set_not_ready else None
    why = f"offer {failure} by {agent_id}: " + ("re-offer to the next best agent" if rule.reoffer else "keep waiting")
    if status:
        why += f"; agent set {status}"
    kept: tuple[str, ...] = ()
    if reset:
        kept = tuple(dict.fromkeys(a for a in (sender, agent_id) if a))
        plural = "refusal" if refusals == 1 else "refusals"
        why += f"; {refusals} {plural} reached max_declines={rp.max_declines}: exclusions cleared but {agent_id}"
        if sender and sender != agent_id:
            why += f" and the sender {sender}"
    decision = Decision(kind="reservation", outcome="reoffer" if rule.reoffer else "queue", winner=None,
                        subject=contact.contact_id, at=now_ms, why=why,
                        data={"failure": failure, "agent_id": agent_id, "refusals": refusals,
                              **({"excluded_sender": sender} if sender else {})})
    return OfferFollowUp(reoffer=rule.reoffer, agent_status=status, reset_declines=reset, still_declined=kept,
                         decision=decision)


def offers_callback(policy: RoutingPolicy, queue_id: str, ewt_s: float) -> bool:
    """Whether the queue's policy offers a callback at this estimated wait (inf: nobody staffed)."""
    limit = policy.for_queue(queue_id).callback.offer_when_wait_exceeds_s
    return limit is not None and ewt_s > limit


def decide_callback(contact: Contact, policy: RoutingPolicy, estimate: WaitEstimate, now_ms: int) -> Decision:
    cb = policy.for_queue(contact.queue_id).callback
    limit = cb.offer_when_wait_exceeds_s
    data = {"ewt_s": round(estimate.ewt_s, 1), "position": estimate.position, "limit_s": limit}
    if not offers_callback(policy, contact.queue_id, estimate.ewt_s):
        return Decision(kind="callback", outcome="queue", winner=None, subject=contact.contact_id, at=now_ms,
                        why="estimated wait within limit" if limit is not None else "callbacks not offered",
                        data=data)
    keep = contact.enqueued_at if cb.keep_place and contact.enqueued_at is not None else now_ms
    data["keep_place_since"] = keep
    return Decision(kind="callback", outcome="callback", winner=None, subject=contact.contact_id, at=now_ms,
                    why=f"estimated wait {estimate.ewt_s:.0f} s > {limit:g} s: offer a callback"
                        + (" keeping its place in queue" if cb.keep_place else ""), data=data)
