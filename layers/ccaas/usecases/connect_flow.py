"""Amazon Connect flows: one Lambda that answers a contact flow's "Invoke AWS Lambda function" block.

`answer(deps_factory, event)` always returns a flat string map (domain.connect_flow.flat_reply) and
never raises: failures are values the flow branches on (`status=error`, `error_code`,
`error_message`). The action is the `action` parameter; the tenant is the one the event's
InstanceARN is registered to (admin.register_connect_instance), never a parameter.

    identify   customer by customer_id / phone / email parameter, else the contact's CustomerEndpoint
    route      our routing policy for a contact arriving now: queue, priority, routing criteria
    wait_info  position and estimated wait in a queue (or of one of our contacts: contact_id)
    hours      open/closed now, next opening
    staffing   agents staffed / available
    callback   a queued callback for the customer's number (once per Connect contact)
    log_event  an IVR milestone (menu choice, self_service_success) against the Connect contact

Per tenant, an optional settings document "connect" (`put_flow_settings`) maps our queue ids to the
Connect queue ARNs (`queue_arn` in replies; a contact's Queue.ARN back to our queue id) and names the
predefined attribute used for skills without a ":" in routing criteria.

Personal data (phone numbers, e-mail addresses, names) is never logged and never put in an error
message; FlowOutcome, what the handler logs, holds ids, codes and timings only.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from ccaas.bootstrap import Dependencies
from ccaas.domain.connect_flow import (
    ACTIONS,
    FLOW_SETTINGS,
    MAX_REASON,
    ContactFlowEvent,
    FlowError,
    FlowSettings,
    channel_of,
    error_reply,
    flat_reply,
    initiation_of,
    parse_event,
    reply_size,
    requested_action,
    routing_criteria,
)
from ccaas.domain.customers import TIER_PATTERN, DEFAULT_TIER, Customer, normalise_email, normalise_phone
from ccaas.domain.models import Channel, Conflict, Contact, ContactState, DomainError, NotFound, Queue
from ccaas.domain.routing_engine.journey import analyse_journey
from ccaas.domain.vocabulary import shown_name
from ccaas.usecases import routing
from ccaas.usecases.customers import lookup_customer

# Imported by the actions that use them, not at cold start: ccaas.usecases.waiting (with the live metrics under it)
# by route, wait_info, hours and staffing; ccaas.usecases.history by log_event and callback; contacts by callback.

logger = logging.getLogger(__name__)

CALLBACK_MILESTONE = "callback_scheduled"
UNSUPPORTED_CHANNEL = "unsupported_channel"  # error_code: the queue does not take the contact's channel
_CALLBACK_IDS = uuid.UUID("5f0c8a4e-2b1d-4c7e-9a3f-6d2e8b1c0a47")  # namespace of the callback ids (tenant, ContactId)
_executor: ThreadPoolExecutor | None = None
_TIER = re.compile(TIER_PATTERN)  # the shape PUT /customers takes a tier in


class FlowOutcome(BaseModel):
    """What the handler logs about one invocation: no parameters, no personal data."""

    action: str | None = None
    status: str = "ok"
    error_code: str | None = None
    tenant_id: str | None = None
    contact_id: str | None = None  # Amazon Connect's ContactId
    duration_ms: float = 0.0
    reply_bytes: int = 0
    truncated: bool = False


def flow_settings(deps: Dependencies, tenant_id: str) -> FlowSettings:
    """Read through deps.config, which the Lambdas' wiring caches for a few seconds (CachedConfigStore)."""
    return FlowSettings.of(deps.config.get_settings(tenant_id, FLOW_SETTINGS))


def put_flow_settings(deps: Dependencies, tenant_id: str, settings: FlowSettings) -> FlowSettings:
    """Admin: the tenant's queue id -> Connect queue ARN map and skill attribute name."""
    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    deps.config.put_settings(tenant_id, FLOW_SETTINGS, settings.model_dump(mode="json"))
    return settings


# ----------------------------------------------------------------------------------- entry point
def answer(
    deps_factory: Callable[[], Dependencies], raw: Any, *, budget_s: float | None = None
) -> tuple[dict[str, str], FlowOutcome]:
    """The reply for one contact-flow event, and what to log about it. Never raises.

    With `budget_s`, the work runs on a worker thread and a reply (error_code=timeout) is returned
    when the budget is spent, so the flow always gets an answer it can branch on before Amazon
    Connect's own timeout (at most 8 s) sends it down the block's Error branch."""
    started = time.perf_counter()
    outcome = FlowOutcome()
    if budget_s is None:
        reply = _answer(deps_factory, raw, outcome)
    else:
        # The caller's context variables go along (an environment overlay, log keys, call attribution).
        future = _pool().submit(contextvars.copy_context().run, _answer, deps_factory, raw, outcome)
        try:
            reply = future.result(timeout=max(0.05, budget_s))
        except FutureTimeout:
            outcome.status, outcome.error_code = "error", "timeout"
            reply = error_reply(outcome.action, "timeout", "no answer within the time budget; it may still complete")
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    outcome.reply_bytes = reply_size(reply)
    outcome.truncated = reply.get("truncated") == "true"
    return reply, outcome


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        # A few workers: one invocation at a time per environment, plus ones still finishing after a timeout.
        _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="connect-flow")
    return _executor


def _answer(deps_factory: Callable[[], Dependencies], raw: Any, outcome: FlowOutcome) -> dict[str, str]:
    action = None
    try:
        try:
            event = parse_event(raw)
        except FlowError:
            # a reply to an event that cannot be read (bad_event) still names the action asked for: read on its own
            with contextlib.suppress(ValueError):
                action = requested_action(raw)
            outcome.action = _logged_action(action)
            raise
        action = (event.parameter("action") or "").lower() or None
        outcome.action = _logged_action(action)
        outcome.contact_id = event.contact.ContactId
        if action is None:
            raise FlowError("missing_parameter", f"parameter 'action' is required: one of {', '.join(ACTIONS)}")
        handler = _ACTIONS.get(action)
        if handler is None:
            raise FlowError("unknown_action", f"unknown action; use one of {', '.join(ACTIONS)}")
        deps = deps_factory()
        tenant_id = _tenant(deps, event)
        outcome.tenant_id = tenant_id
        values = handler(Flow(deps, tenant_id, event))
        return flat_reply({"status": "ok", "action": action, **values})
    except FlowError as error:
        code, message = error.code, str(error)
    except DomainError as error:
        code, message = _domain_reply(error)
    except ValidationError as error:
        code, message = "invalid_parameter", _validation_message(error)
    except Exception:  # noqa: BLE001 - a flow gets a value, never an exception
        logger.exception("connect flow action failed", extra={"action": action})
        code, message = "internal_error", "temporary failure; try again"
    outcome.status, outcome.error_code = "error", code
    return error_reply(action, code, message)


def _logged_action(action: str | None) -> str | None:
    """The action as logged: one of ours or "unknown" (an unknown action is a parameter's text: no parameters in logs)."""
    return action if action is None or action in _ACTIONS else "unknown"


def _domain_reply(error: DomainError) -> tuple[str, str]:
    """(error_code, error_message) for a domain error: the field and the kind of problem, never the domain's
    own message, which names the value it was given ("queue <queue_id> not found") and so would echo what the
    caller keyed in (a card number, a phone number, an e-mail address) back into the flow."""
    field = error.field
    if isinstance(error, NotFound):
        noun = field.removesuffix("_id").replace("_", " ") if field else None
        return "not_found", f"{field}: no such {noun}" if field else "not found"
    if isinstance(error, Conflict):
        return "conflict", f"{field}: conflicts with its current state" if field else "conflicts with the current state"
    if field == "channel":
        # A queue that does not take the contact's channel (Queue.require_channel, the rule POST /contacts
        # applies too) has its own code: the flow branches to a queue that does (or a message). Its message names
        # the channel and a queue the tenant's configuration holds (it was found), never the caller's text.
        return UNSUPPORTED_CHANNEL, f"channel: {error}"
    return "invalid_parameter", f"{field}: invalid value" if field else "a parameter has an invalid value"


# A model's field that a parameter of another name fills (a callback's `phone` is the contact's callback_number)
_PARAMETER_OF_FIELD = {"callback_number": "phone"}


def _validation_message(error: ValidationError) -> str:
    """The first problem as `<parameter>: <kind>` (pydantic's message: a bound, a pattern, allowed values), never the
    value; a validator's own message may quote what it refused, so it is said as "invalid value". A location may
    hold a caller's key (a map's): each part as the API shows a name (vocabulary.shown_name: not one with an @ or
    3 or more digits)."""
    first = error.errors(include_input=False)[0]
    field = ".".join(shown_name(part) for part in first["loc"] if not isinstance(part, int))[:64]
    field = _PARAMETER_OF_FIELD.get(field, field)
    kind = "invalid value" if first["type"] in ("value_error", "assertion_error") else first["msg"]
    return f"{field}: {kind}" if field else f"a parameter has an invalid value ({kind})"


def _tenant(deps: Dependencies, event: ContactFlowEvent) -> str:
    arn = event.contact.InstanceARN
    if not arn:
        raise FlowError("bad_event", "the event has no ContactData.InstanceARN")
    # the config port itself (what usecases.history.tenant_of_instance reads): every call needs the tenant, and
    # the history use-cases, with the KPI models under them, only the actions that record a milestone
    tenant_id = deps.config.tenant_for_connect_instance(arn)
    if tenant_id is None:
        raise FlowError("unknown_instance", "this Amazon Connect instance is not registered to a tenant")
    return tenant_id


# --------------------------------------------------------------------------------------- actions
@dataclass
class Flow:
    deps: Dependencies
    tenant_id: str
    event: ContactFlowEvent

    @cached_property
    def settings(self) -> FlowSettings:  # read once per call of the flow
        return flow_settings(self.deps, self.tenant_id)

    def param(self, *names: str) -> str | None:
        return self.event.parameter(*names)

    def reason(self) -> str | None:
        """The `reason` parameter, one rule for identify, route and callback (POST /contacts' bound on a reason)."""
        reason = self.param("reason")
        if reason is not None and len(reason) > MAX_REASON:
            raise FlowError("invalid_parameter", f"reason: at most {MAX_REASON} characters")
        return reason

    def connect_contact_id(self) -> str:
        contact_id = self.event.contact.ContactId
        if not contact_id:
            raise FlowError("bad_event", "the event has no ContactData.ContactId")
        return contact_id

    def queue(self, action: str) -> Queue:
        """The queue parameter (our id), else the contact's Queue (its ARN through the settings, or a
        queue of ours with its name as id)."""
        wanted = self.param("queue_id", "queue")
        if wanted:
            return self.deps.config.get_queue(self.tenant_id, wanted)
        current = self.event.contact.Queue
        if current is not None and current.ARN:
            mapped = self.settings.queue_for_arn(current.ARN)
            if mapped:
                return self.deps.config.get_queue(self.tenant_id, mapped)
        if current is not None and current.Name:
            for candidate in dict.fromkeys((current.Name, current.Name.lower())):
                try:
                    return self.deps.config.get_queue(self.tenant_id, candidate)
                except (NotFound, ValueError):
                    continue
        raise FlowError("missing_parameter", f"action={action} needs parameter queue_id (or a known Queue on the contact)")

    def customer(self, *, phone_names_the_caller: bool = True) -> tuple[Customer | None, str | None]:
        """(customer, how it was looked up). Parameters first; then the contact's CustomerEndpoint,
        where an address that is not a number/e-mail (withheld, anonymous) simply finds nobody.
        `phone_names_the_caller` False: the `phone` parameter is a number to call (a callback's), not who calls."""
        by_id = self.param("customer_id")
        if by_id:
            return lookup_customer(self.deps, self.tenant_id, customer_id=by_id), "customer_id"
        phone = self.param("phone", "phone_number") if phone_names_the_caller else None
        email = self.param("email")
        if phone:
            return lookup_customer(self.deps, self.tenant_id, phone=phone), "phone"
        if email:
            return lookup_customer(self.deps, self.tenant_id, email=email), "email"
        endpoint = self.event.contact.CustomerEndpoint
        if endpoint is None or not endpoint.Address:
            return None, None
        kind = (endpoint.Type or "").upper()
        try:
            if kind == "EMAIL_ADDRESS" or (not kind and "@" in endpoint.Address):
                return self.deps.customers.find(self.tenant_id, email=normalise_email(endpoint.Address)), "email"
            return self.deps.customers.find(self.tenant_id, phone=normalise_phone(endpoint.Address)), "phone"
        except ValueError:
            return None, None

    def queue_arn(self, queue_id: str) -> str | None:
        return self.settings.queues.get(queue_id)


def _iso(ms: int | None, zone: str | None = None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if zone:
        return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="minutes")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def identify(flow: Flow) -> dict[str, Any]:
    reason = flow.reason()
    customer, lookup_by = flow.customer()
    if customer is None:
        return {"found": False, "lookup_by": lookup_by or "none"}
    deps, now = flow.deps, flow.deps.clock.now_ms()
    policy = routing.policy_of(deps, flow.tenant_id).journey
    data = flow.event.contact  # its own earlier segments (their CTRs in history) are not an earlier contact
    journey = routing.journey_of(deps, flow.tenant_id, customer.customer_id, reason,
                                 exclude=data.InitialContactId or data.ContactId or "",
                                 fcr_window_days=policy.fcr_window_days)
    insight = analyse_journey(journey, now, last_agent_window_s=policy.last_agent_window_s,
                              fcr_window_days=policy.fcr_window_days, recent_limit=policy.recent_limit)
    repeat = insight.repeat_of
    # No reason given yet (a flow identifies before it asks one): the latest contact within the FCR window, whatever
    # its reason, with repeat_reason for the flow to ask "calling about <reason>?". Not a repeat for routing: route
    # flags one (and raises the priority) for the same reason only, so the flow passes the reason it confirmed.
    if repeat is None and reason is None:
        window = policy.fcr_window_days * 86_400_000
        repeat = next((p for p in sorted(journey.history, key=lambda p: p.started_at, reverse=True)
                       if 0 <= now - p.started_at <= window), None)
    last = insight.summary.recent[0] if insight.summary.recent else None
    return {
        "found": True, "lookup_by": lookup_by, "customer_id": customer.customer_id, "tier": customer.tier or DEFAULT_TIER,
        "vip": customer.vip, "preferred_language": customer.preferred_language,
        "open_repeat_contact": repeat is not None,
        "repeat_contact_id": repeat.contact_id if repeat else None,
        "repeat_reason": repeat.reason if repeat else None,
        "last_agent_id": insight.summary.last_agent_id,
        "last_contact_at": _iso(last.started_at) if last else None,
    }


def route(flow: Flow) -> dict[str, Any]:
    from ccaas.usecases import waiting  # noqa: PLC0415 - see the imports above

    deps = flow.deps
    queue = flow.queue("route")
    reason = flow.reason()
    data = flow.event.contact
    channel = channel_of(data)
    if channel is None:  # a channel Connect added after us: planned as one the queue takes (read leniently)
        channel = sorted(queue.channels)[0] if queue.channels else Channel.VOICE
    queue.require_channel(channel)  # an SMS into a voice-only queue: error_code=unsupported_channel
    customer, _ = flow.customer()
    # a known customer's tier (or the default one), never the flow's claim; the parameter only for a stranger,
    # in the shape PUT /customers takes (it comes back as `segment`)
    segment = (customer.tier or DEFAULT_TIER) if customer else flow.param("tier", "segment")
    if customer is None and segment is not None and not _TIER.match(segment):
        raise FlowError("invalid_parameter", "tier: lower-case letters, digits, _ and -, a letter first (at most 32)")
    contact = Contact(  # transient: planned, never saved (Amazon Connect holds the contact)
        tenant_id=flow.tenant_id, contact_id=data.ContactId or "connect-flow", channel=channel,
        initial_contact_id=data.InitialContactId,  # journey_of leaves the contact's own segments out
        initiation_method=initiation_of(data), queue_id=queue.queue_id, priority=queue.priority,
        customer_id=customer.customer_id if customer else None, reason=reason,
        initiated_at=deps.clock.now_ms(), sl_threshold_s=queue.sl_threshold_s,
    )
    plan = routing.plan_for(deps, contact, queue, segment,
                            arrival_wait_s=lambda: waiting.arrival_wait_s(deps, flow.tenant_id, queue.queue_id))
    criteria, notes = routing_criteria(plan, skill_attribute=flow.settings.skill_attribute)
    closed = plan.outcome == "closed"
    queue_hours = routing.policy_of(deps, flow.tenant_id).for_queue(queue.queue_id).hours if closed else None
    return {
        "outcome": plan.outcome, "queue_id": queue.queue_id, "queue_arn": flow.queue_arn(queue.queue_id),
        "priority": plan.priority, "segment": plan.segment, "customer_id": contact.customer_id,
        "vip": customer.vip if customer else None,
        "repeat_contact": plan.repeat_contact, "repeat_of": plan.repeat_of,
        "last_agent_id": plan.journey.last_agent_id if plan.journey else None,
        "routing_steps": len(criteria["Steps"]) if criteria else 0,
        "routing_criteria": criteria,
        "routing_step_labels": " | ".join(s.label for s in plan.steps) or None,
        "next_open_at": _iso(plan.next_open_at) if closed else None,
        "next_open_local": _iso(plan.next_open_at, queue_hours.time_zone) if queue_hours else None,
        "flags": plan.flags or None,
        "routing_notes": "; ".join(notes) or None,
    }


def _seconds(value: float | None) -> int | None:
    return None if value is None or math.isinf(value) else int(math.ceil(value))


def wait_info(flow: Flow) -> dict[str, Any]:
    from ccaas.usecases import waiting  # noqa: PLC0415 - see the imports above

    contact_id = flow.param("contact_id")
    queue_id = None if contact_id else flow.queue("wait_info").queue_id
    info = waiting.wait_info(flow.deps, flow.tenant_id, queue_id or "", contact_id=contact_id)
    ewt = _seconds(info.ewt_s)
    minutes = None if ewt is None else math.ceil(ewt / 60)  # what a prompt says: "about N minutes"
    return {
        "queue_id": info.queue_id, "position": info.position, "in_queue": info.in_queue,
        "ewt_known": ewt is not None, "ewt_s": ewt, "ewt_minutes": minutes,
        "p90_s": _seconds(info.p90_s), "agents_staffed": info.agents_staffed, "agents_available": info.agents_available,
        "offer_callback": info.offer_callback,
    }


def hours(flow: Flow) -> dict[str, Any]:
    from ccaas.usecases import waiting  # noqa: PLC0415 - see the imports above

    queue = flow.queue("hours")
    status = waiting.queue_hours(flow.deps, flow.tenant_id, queue.queue_id)
    now = flow.deps.clock.now_ms()
    opening = None if status.open else status.next_open_at  # None while open, or when it never opens again
    return {
        "queue_id": queue.queue_id, "open": status.open, "time_zone": status.time_zone,
        "next_open_at": _iso(opening), "next_open_local": _iso(opening, status.time_zone),
        "opens_in_minutes": None if opening is None else math.ceil((opening - now) / 60_000),
        "never_opens": not status.open and opening is None,
        "next_close_at": _iso(status.next_close_at) if status.open else None,
    }


def staffing(flow: Flow) -> dict[str, Any]:
    from ccaas.usecases import waiting  # noqa: PLC0415 - see the imports above

    queue = flow.queue("staffing")
    now = waiting.queue_now(flow.deps, queue)  # counts only: no estimate, so no read of who may take a contact
    return {"queue_id": queue.queue_id, "staffed": now.live.agents_staffed > 0, "agents_staffed": now.live.agents_staffed,
            "agents_available": now.live.agents_available, "in_queue": now.in_queue}


def callback(flow: Flow) -> dict[str, Any]:
    deps, tenant_id = flow.deps, flow.tenant_id
    connect_id = flow.connect_contact_id()
    queue = flow.queue("callback")
    queue.require_channel(Channel.VOICE)  # a callback is a call (create_contact applies the same rule)
    reason = flow.reason()
    # One callback per Connect contact however often, and however concurrently, the flow asks (a loop, the retry a
    # timeout reply invites): its id comes from the ContactId, and creating a contact whose id exists is a Conflict.
    callback_id = str(uuid.uuid5(_CALLBACK_IDS, f"{tenant_id}#{connect_id}"))
    held = _held(deps, tenant_id, callback_id)
    if held is not None:
        return _callback_reply(held, repeated=True)
    raw = flow.param("phone", "phone_number", "callback_number")
    endpoint = flow.event.contact.CustomerEndpoint
    if raw is None and endpoint is not None and (endpoint.Type or "TELEPHONE_NUMBER").upper() == "TELEPHONE_NUMBER":
        raw = endpoint.Address
    if not raw:
        raise FlowError("missing_parameter", "action=callback needs parameter phone (or a phone number as CustomerEndpoint)")
    from ccaas.domain.destinations import check_destination  # noqa: PLC0415 - phonenumbers: callbacks only
    from ccaas.usecases import contacts, history  # noqa: PLC0415 - see the imports above

    try:
        # the E.164 checked is the number stored and dialled; a premium-rate or satellite one: no call on the account
        number = check_destination(normalise_phone(raw))
    except ValueError as error:
        raise FlowError("invalid_parameter", f"phone: {error}") from None
    # The number typed at the prompt is where to call back, not who is calling: it made another customer's
    # (or nobody's) contact of the caller, with that customer's tier, name and journey on the offer.
    customer, _ = flow.customer(phone_names_the_caller=False)

    from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE, is_synthetic

    # A journey test's call (its contact attributes mark it) makes a synthetic callback: kept out of KPIs,
    # metrics and alerts, offered to test agents only, removed after (ccaas.domain.routing_engine.synthetic).
    marks = {k: v for k, v in flow.event.contact.Attributes.items() if k in (SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE)}
    try:
        contact = contacts.schedule_callback(deps, tenant_id, queue.queue_id, number,
                                            customer_id=customer.customer_id if customer else None,
                                            reason=reason, attributes=marks, contact_id=callback_id)
    except Conflict:  # a concurrent call for this Connect contact created it first
        held = _held(deps, tenant_id, callback_id)
        if held is None:
            raise
        return _callback_reply(held, repeated=True)
    reply = _callback_reply(contact, repeated=False)
    if reply["scheduled"] and not is_synthetic(contact):  # a journey test's call never becomes history (no TTL there)
        history.record_flow_event(deps, tenant_id, connect_id, CALLBACK_MILESTONE, contact.contact_id)
    return reply


def _held(deps: Dependencies, tenant_id: str, contact_id: str) -> Contact | None:
    try:
        return deps.store.get_contact(tenant_id, contact_id)
    except NotFound:
        return None


def _callback_reply(contact: Contact, *, repeated: bool) -> dict[str, Any]:
    # Not scheduled: answered at once (a closed queue that turns callers away) or its workflow never started.
    scheduled = contact.enqueued_at is not None or contact.state not in (ContactState.COMPLETED, ContactState.FAILED)
    # A new callback is INITIATED until its workflow's first step queues it: say what it is becoming.
    state = ContactState.CALLBACK_SCHEDULED if contact.state == ContactState.INITIATED else contact.state
    return {"queue_id": contact.queue_id, "scheduled": scheduled, "repeated": repeated,
            "callback_contact_id": contact.contact_id, "state": state.value,
            "outcome": contact.routing.outcome if contact.routing is not None else None}


def log_event(flow: Flow) -> dict[str, Any]:
    milestone = flow.param("milestone", "event")
    if not milestone:
        raise FlowError("missing_parameter", "action=log_event needs parameter milestone (e.g. menu_choice, self_service_success)")
    from ccaas.domain.history import FlowEvent  # noqa: PLC0415 - see the imports above
    from ccaas.domain.routing_engine.synthetic import marked_synthetic  # noqa: PLC0415 - see the imports above
    from ccaas.usecases import history  # noqa: PLC0415 - see the imports above

    value = flow.param("value")
    try:  # the reply names the parameter at fault (history's own error names the milestone for either)
        checked = FlowEvent(name=milestone.lower(), value=value, at=0)
    except ValidationError as error:
        problem = error.errors()[0]
        if problem["loc"][0] == "value":
            raise FlowError("invalid_parameter", f"value: at most {problem.get('ctx', {}).get('max_length', 128)} characters") from None
        raise FlowError("invalid_parameter", "milestone: lower-case letters, digits and _, a letter first (at most 64)") from None
    contact_id = flow.connect_contact_id()
    if marked_synthetic(flow.event.contact.Attributes):
        # A journey test's call (ccaas.domain.routing_engine.synthetic) never becomes history, which has no TTL: its
        # milestone is checked as any other and not kept.
        return {"recorded": False, "milestone": checked.name, "self_service": checked.self_service}
    event = history.record_caller_milestone(flow.deps, flow.tenant_id, contact_id, milestone.lower(), value)
    return {"recorded": True, "milestone": event.name, "self_service": event.self_service}


_ACTIONS: Mapping[str, Callable[[Flow], dict[str, Any]]] = {
    "identify": identify, "route": route, "wait_info": wait_info, "hours": hours, "staffing": staffing,
    "callback": callback, "log_event": log_event,
}
assert tuple(_ACTIONS) == ACTIONS
