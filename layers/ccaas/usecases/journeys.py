"""Journey tests: run a tenant's journeys (ccaas.domain.journeys) through the real entry points.

The entry points are a small port, `EntryPoints`: `flow(event)` sends the contact-flow Lambda an
"Invoke AWS Lambda function" event and returns its flat reply; `api(method, path, body, role=, agent_id=)`
calls the REST API as a role (or as one agent) and returns (status, body). Implementations:
- local.journeys.RuntimeEntryPoints: a LocalRuntime's API (its seeded keys) and its flow Lambda (moto's
  Lambda Invoke, the in-process handler): the in-process runner of tests, the CI gate and the bench;
- ccaas.adapters.aws.journeys.HttpEntryPoints: a deployed stage's API (a base URL and keys) and its flow
  Lambda through boto3 `lambda.invoke` with the caller's credentials.

`run_journey(entry, spec, tenant_id=...)` runs one journey step by step, each step timed and evaluated
(ccaas.domain.journeys.evaluate); the first failing step ends the journey. The whole journey runs on
a worker thread under `spec.timeout_s`: past it the result is a failure naming the step in progress,
never a hang, and the worker makes no further call (it stops before its next step or API call; the call
in flight was given the time left). Once the worker stopped (or STOP_GRACE_S later, and again when it
stops) the journey cleans up what it made: every contact a step created (create_contact, transfer, the flow's
callback, and the CALLBACK contact a scheduled callback became) still waiting is abandoned, contacts still
with its test agent are completed, whatever else its test agents still hold (offers included) is cleared, and
they go OFFLINE again (each contact is synthetic: none of this counts in metrics, history or alerts). The
agents a journey acts as must be test agents (the `ccaas:test_agent` skill): PUT /settings/journeys refuses
any other, and the runner checks again before it changes an agent's status (a real agent's status is never
touched).

`run_suite` runs a suite (sequentially: journeys share test agents) and `suite_metrics` renders the
results as CloudWatch EMF-ready numbers (JourneySuccess, JourneyLatency per journey).
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ccaas.domain.journeys import (
    FLOW_ACTIONS,
    KEEP_RUNS,
    JourneyRun,
    StepTiming,
    JourneyResult,
    JourneySpec,
    JourneySuite,
    Observation,
    StepResult,
    contact_values,
    evaluate,
    flow_values,
    loc_path,
    synthetic_attributes,
)
from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_SKILL, is_test_agent

logger = logging.getLogger(__name__)

JOURNEYS_SETTINGS = "journeys"  # the tenant's Config settings document (PUT /settings/journeys)
# While a step waits (an offer, a state) it polls the API: every 50 ms at first, since most waits are short and
# a step's latency is what the journey measures, then less often, up to every 0.25 s. On a deployed stage each
# poll is an API Gateway request and a Lambda invocation: a 10 s wait makes 45 of them, not ~200.
_POLL_FIRST_S, _POLL_GROWTH, _POLL_MAX_S = 0.05, 1.5, 0.25
_WAITING = ("INITIATED", "QUEUED", "OFFERED", "CALLBACK_SCHEDULED")
_WITH_AGENT = ("CONNECTED", "ACW")
# Reply keys naming a contact a step created: the API's contact views (create_contact, transfer) and the flow's
# callback. The contact a scheduled callback becomes when reached is named by the original's attribute
# FOLLOWED_BY, which the clean-up follows.
_CREATED = ("contact_id", "callback_contact_id")
FOLLOWED_BY = "callback_contact_id"
# How long a timed-out journey's worker may take to finish its call in flight before the journey cleans up
# anyway (and once more when the worker stops): an entry point that ignores its timeout (the in-process flow).
STOP_GRACE_S = 10.0


class EntryPoints(Protocol):
    """The real entry points a journey goes through (module docstring)."""

    instance_arn: str  # the tenant's Amazon Connect instance: flow events come from it

    def flow(self, event: dict[str, Any], timeout_s: float) -> dict[str, str]: ...

    def api(self, method: str, path: str, body: Any = None, *, role: str = "integration",
            agent_id: str | None = None, timeout_s: float = 30.0) -> tuple[int, Any]: ...


@dataclass
class _ForeignInstance:
    """Entry points whose flow steps are refused: the suite names a Connect instance that is not (or no longer)
    its tenant's, and the flow would answer as that instance's tenant (its customers, its queues)."""

    entry: EntryPoints
    instance_arn: str

    def flow(self, event: dict[str, Any], timeout_s: float) -> dict[str, str]:
        raise LookupError(f"{self.instance_arn} is not an Amazon Connect instance of this tenant: flow steps cannot run")

    def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.entry.api(method, path, body, **kwargs)


def _foreign_instance(deps: Any, tenant_id: str, suite: JourneySuite) -> bool:
    from ccaas.usecases.tenancy import owns_connect_instance

    return suite.connect_instance_arn is not None and not owns_connect_instance(deps, tenant_id, suite.connect_instance_arn)


def poll_waits() -> Iterator[float]:
    """Seconds between a waiting step's polls: 0.05, 0.075, 0.1125, ... then 0.25 on."""
    wait = _POLL_FIRST_S
    while True:
        yield wait
        wait = min(_POLL_MAX_S, wait * _POLL_GROWTH)


def _pause(waits: Iterator[float], limit: float) -> bool:
    """Sleep until the next poll, never past `limit` (one last poll at it); False once `limit` has passed."""
    left = limit - time.monotonic()
    if left <= 0:
        return False
    time.sleep(min(next(waits), left))
    return True


class StepTimeout(Exception):
    """A wait inside a step (an offer, a state) ran out of its step's or the journey's time."""


class NotATestAgent(Exception):
    """A journey's agent without the test agent skill (made so after the suite was saved): left alone."""


class _Cancelled(Exception):
    """The journey's time is up: its worker makes no further call."""


def flow_event(instance_arn: str, action: str, parameters: dict[str, str], *, contact_id: str, phone: str | None,
               channel: str, queue: str | None, attributes: dict[str, str]) -> dict[str, Any]:
    """The event Amazon Connect's "Invoke AWS Lambda function" block sends (local.flow.flow_event's shape)."""
    data: dict[str, Any] = {
        "Attributes": attributes, "Channel": "CHAT" if channel in ("SMS", "SOCIAL") else channel,
        "ContactId": contact_id, "InitialContactId": contact_id, "InitiationMethod": "INBOUND",
        "InstanceARN": instance_arn, "LanguageCode": "en-US",
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"} if phone else None,
        "SystemEndpoint": {"Address": "+18005550199", "Type": "TELEPHONE_NUMBER"},
        "Queue": {"ARN": f"{instance_arn}/queue/{queue}", "Name": queue} if queue else None,
        "SegmentAttributes": {"connect:Subtype": {"ValueString": f"connect:{channel.title()}"}}
        if channel in ("SMS",) else {},
    }
    return {"Name": "ContactFlowEvent", "Details": {"Parameters": {"action": action, **parameters}, "ContactData": data}}


@dataclass
class _Run:
    """One journey's state while it runs (shared with the watchdog: the step in progress)."""

    spec: JourneySpec
    deadline: float
    connect_contact_id: str = field(default_factory=lambda: f"journey-{uuid.uuid4()}")
    contact_id: str | None = None
    contact: dict[str, Any] = field(default_factory=dict)
    agent_id: str | None = None
    contacts: list[str] = field(default_factory=list)
    agents_used: set[str] = field(default_factory=set)
    current: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    done: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: bool = False  # the worker returned (under lock)
    clean_when_stopped: bool = False  # run_journey stopped waiting: the worker cleans up when it stops (under lock)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def track(self, reply: Any) -> None:
        """Keep the contacts a step's reply names (_CREATED), so the clean-up finds every contact the journey made."""
        if not isinstance(reply, dict):
            return
        for key in _CREATED:
            contact_id = reply.get(key)
            if isinstance(contact_id, str) and contact_id and contact_id not in self.contacts:
                self.contacts.append(contact_id)

    def check_time(self) -> None:
        if self.cancelled.is_set() or self.remaining() <= 0:
            raise _Cancelled


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _api_error(status: int, body: Any) -> dict[str, Any]:
    code = body.get("error") if isinstance(body, dict) else None
    return {"status": "error", "error_code": code or f"http_{status}", "http_status": status}


class _Steps:
    def __init__(self, entry: EntryPoints, run: _Run) -> None:
        self.entry = entry
        self.run = run

    def timeout(self, step_timeout: float | None = None) -> float:
        left = self.run.remaining()
        return max(0.05, min(left, step_timeout) if step_timeout is not None else left)

    def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        self.run.check_time()
        return self.entry.api(method, path, body, timeout_s=self.timeout(30.0), **kwargs)

    # -- flow actions ---------------------------------------------------------------------------
    def flow(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        spec = self.run.spec
        queue = step.queue or step.parameters.get("queue_id")
        event = flow_event(self.entry.instance_arn, step.action, dict(step.parameters),
                           contact_id=self.run.connect_contact_id, phone=spec.inputs.phone, channel=spec.inputs.channel,
                           queue=queue, attributes=synthetic_attributes(spec))
        self.run.check_time()
        reply = self.entry.flow(event, self.timeout())
        self.run.track(reply)  # the callback action's contact (and the CALLBACK contact it becomes)
        return flow_values(step.action, reply), dict(reply)

    # -- API calls ----------------------------------------------------------------------------------
    def create_contact(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        spec = self.run.spec
        body = {"channel": step.channel or spec.inputs.channel, "queue_id": step.queue_id,
                "attributes": synthetic_attributes(spec)}
        for name in ("customer_id", "reason", "priority", "segment", "callback_number"):
            value = getattr(step, name)
            if value is not None:
                body[name] = value
        status, view = self.api("POST", "/contacts", body, role="integration")
        if not _ok(status):
            return _api_error(status, view), view if isinstance(view, dict) else {}
        self.run.contact_id, self.run.contact = view["contact_id"], view
        self.run.track(view)
        if (step.expect.ewt_min_s is not None or step.expect.ewt_max_s is not None) and view.get("state") in _WAITING:
            status, read = self.api("GET", f"/contacts/{view['contact_id']}", role="integration")
            if _ok(status):
                view = read
        return contact_values(view), view

    def agent_answers(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        agent = step.agent_id or self.run.spec.test_agent
        contact_id = self.run.contact_id
        # Checked again before any status change: the agent may have lost the skill since the suite was saved.
        status, profile = self.api("GET", f"/agents/{agent}", role="agent", agent_id=agent)
        if not _ok(status):
            return _api_error(status, profile), profile if isinstance(profile, dict) else {}
        if TEST_AGENT_SKILL not in (profile.get("skills") or {}):
            raise NotATestAgent(f"{agent} is not a test agent (no {TEST_AGENT_SKILL} skill): its status is left alone")
        self.run.agents_used.add(agent)
        status, body = self.api("PUT", f"/agents/{agent}/status", {"status": "AVAILABLE"}, role="agent", agent_id=agent)
        if not _ok(status):
            return _api_error(status, body), body if isinstance(body, dict) else {}
        limit = time.monotonic() + self.timeout(step.timeout_s)
        waits = poll_waits()
        while True:
            status, offers = self.api("GET", f"/agents/{agent}/offers", role="agent", agent_id=agent)
            if _ok(status) and any(o.get("contact", {}).get("contact_id") == contact_id for o in offers or []):
                break
            if not _pause(waits, limit):
                raise StepTimeout(f"no offer of contact {contact_id} to {agent} within {step.timeout_s:g} s")
        status, view = self.api("POST", f"/agents/{agent}/contacts/{contact_id}/accept", role="agent", agent_id=agent)
        if not _ok(status):
            return _api_error(status, view), view if isinstance(view, dict) else {}
        self.run.agent_id, self.run.contact = agent, view
        return contact_values(view), view

    def transfer(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        agent, contact_id = self.run.agent_id, self.run.contact_id
        if agent is None:
            return {"status": "error", "error_code": "no_agent"}, {}
        body: dict[str, Any] = {"to": {"queue_id": step.queue_id}, "exclude_me": step.exclude_me}
        if step.reason:
            body["reason"] = step.reason
        status, view = self.api("POST", f"/agents/{agent}/contacts/{contact_id}/transfer", body, role="agent",
                                agent_id=agent)
        if not _ok(status):
            return _api_error(status, view), view if isinstance(view, dict) else {}
        self.run.contact_id, self.run.contact, self.run.agent_id = view["contact_id"], view, None
        self.run.track(view)
        return contact_values(view), view

    def complete(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        agent, contact_id = self.run.agent_id, self.run.contact_id
        if agent is None:
            return {"status": "error", "error_code": "no_agent"}, {}
        path = f"/agents/{agent}/contacts/{contact_id}"
        status, view = self.api("POST", f"{path}/complete", role="agent", agent_id=agent)
        if _ok(status) and step.end_acw:
            status, view = self.api("POST", f"{path}/end-acw", role="agent", agent_id=agent)
        if not _ok(status):
            return _api_error(status, view), view if isinstance(view, dict) else {}
        self.run.contact = view
        return contact_values(view), view

    def survey(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        body = {k: v for k in ("csat", "ces", "nps") if (v := getattr(step, k)) is not None}
        status, view = self.api("POST", f"/contacts/{self.run.contact_id}/survey", body, role="integration")
        if not _ok(status):
            return _api_error(status, view), view if isinstance(view, dict) else {}
        return {"status": "ok", "state": self.run.contact.get("state")}, view or {}

    def wait_for(self, step: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        limit = time.monotonic() + self.timeout(step.timeout_s)
        waits = poll_waits()
        while True:
            status, view = self.api("GET", f"/contacts/{self.run.contact_id}", role="integration")
            if _ok(status) and view.get("state") == step.state:
                self.run.contact = view
                return contact_values(view), view
            if not _pause(waits, limit):
                seen = view.get("state") if isinstance(view, dict) else status
                raise StepTimeout(f"contact {self.run.contact_id} not {step.state} within {step.timeout_s:g} s (is {seen})")


def _play(entry: EntryPoints, run: _Run) -> None:
    steps = _Steps(entry, run)
    for index, step in enumerate(run.spec.steps):
        if run.cancelled.is_set() or run.remaining() <= 0:
            return  # out of time (not done): run_journey reports the step in progress
        run.current = f"steps[{index}] {step.name}"
        started = time.perf_counter()
        try:
            handler = steps.flow if step.action in FLOW_ACTIONS else getattr(steps, step.action)
            values, reply = handler(step)
            observed = Observation(values=values, reply=reply, latency_ms=(time.perf_counter() - started) * 1000)
        except _Cancelled:
            return
        except StepTimeout as exc:
            observed = Observation(error=f"timeout: {exc}", latency_ms=(time.perf_counter() - started) * 1000)
        except NotATestAgent as exc:
            observed = Observation(error=str(exc), latency_ms=(time.perf_counter() - started) * 1000)
        except Exception as exc:  # noqa: BLE001 - an entry point that failed is a failed step, not a crash
            observed = Observation(error=f"{type(exc).__name__}: {exc}", latency_ms=(time.perf_counter() - started) * 1000)
        failures = evaluate(step, observed)
        run.steps.append(StepResult(index=index, name=step.name, action=step.action, kind=step.kind,
                                    latency_ms=round(observed.latency_ms, 1), passed=not failures, failures=failures,
                                    error=observed.error))
        if failures:
            break
    run.done = True


def _work(entry: EntryPoints, run: _Run) -> None:
    """The worker: the journey's steps, then (when run_journey stopped waiting for it) the clean-up of
    what its last call made."""
    try:
        _play(entry, run)
    finally:
        with run.lock:
            run.stopped = True
            late = run.clean_when_stopped
        if late:  # the next journey may hold the test agent by now: only what this one made is cleared
            cleanup(entry, run, what_agents_hold=False)


def cleanup(entry: EntryPoints, run: _Run, *, what_agents_hold: bool = True) -> None:
    """Leave nothing behind: the journey's test agents first stop taking work (NOT_READY: an abandoned offer or an
    ended ACW would offer them the next waiting contact, and OFFLINE is refused while they hold one); then every
    contact the journey made, and the one a scheduled callback of it became, is abandoned while waiting or
    completed while with its test agent, and so, with `what_agents_hold`, is whatever else its test agents still
    hold (offers included: only synthetic contacts reach a test agent, and the runner plays one journey at a time
    on it, so that is a journey's leftover); then the test agents go OFFLINE. Only synthetic contacts are touched.
    Best effort (a failure is logged, the result stands)."""
    agents = sorted(run.agents_used)
    for agent in agents:
        _api_quietly(entry, "PUT", f"/agents/{agent}/status", {"status": "NOT_READY"}, role="agent", agent_id=agent)
    ahead = list(run.contacts)
    for agent in agents if what_agents_hold else []:
        status, profile = _api_quietly(entry, "GET", f"/agents/{agent}", role="agent", agent_id=agent)
        if _ok(status) and isinstance(profile, dict):
            for key in ("offers", "active_contact_ids", "acw_contact_ids"):
                ahead += [c for c in profile.get(key) or () if isinstance(c, str)]
    seen: set[str] = set()
    while ahead:
        contact_id = ahead.pop(0)
        if contact_id in seen:
            continue
        seen.add(contact_id)
        follow = _clear_contact(entry, run, contact_id)
        if follow:
            ahead.append(follow)
    for agent in agents:
        _api_quietly(entry, "PUT", f"/agents/{agent}/status", {"status": "OFFLINE"}, role="agent", agent_id=agent)


def _clear_contact(entry: EntryPoints, run: _Run, contact_id: str) -> str | None:
    """Abandon the synthetic contact while it waits, complete it while with one of the journey's test agents;
    returns the contact it was followed by (a scheduled callback reached: its CALLBACK contact)."""
    status, view = _api_quietly(entry, "GET", f"/contacts/{contact_id}", role="integration")
    if not _ok(status) or not isinstance(view, dict):
        return None
    attributes = view.get("attributes") or {}
    if attributes.get(SYNTHETIC_ATTRIBUTE) is None:
        return None  # never touch a contact that is not a journey's own
    state, agent = view.get("state"), view.get("agent_id")
    if state in _WAITING:
        _api_quietly(entry, "POST", f"/contacts/{contact_id}/abandon", role="integration")
    elif state in _WITH_AGENT and agent in run.agents_used:
        path = f"/agents/{agent}/contacts/{contact_id}"
        if state == "CONNECTED":
            _api_quietly(entry, "POST", f"{path}/complete", role="agent", agent_id=agent)
        _api_quietly(entry, "POST", f"{path}/end-acw", role="agent", agent_id=agent)
    follow = attributes.get(FOLLOWED_BY)
    return follow if isinstance(follow, str) and follow else None


def _api_quietly(entry: EntryPoints, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    """A clean-up call: (0, None) when it raised (logged; the clean-up goes on with the rest)."""
    try:
        return entry.api(method, path, body, timeout_s=10, **kwargs)
    except Exception as exc:  # noqa: BLE001
        logger.warning("journey cleanup: %s %s failed: %s", method, path.split("?")[0], exc)
        return 0, None


def run_journey(entry: EntryPoints, spec: JourneySpec, *, clean: bool = True) -> JourneyResult:
    """Run one journey (module docstring); never raises, never runs past spec.timeout_s (+ cleanup)."""
    started = time.perf_counter()
    run = _Run(spec=spec, deadline=time.monotonic() + spec.timeout_s)
    # The caller's context variables go along (an environment overlay, log keys), as connect_flow.answer does.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(_work, entry, run),
                              name=f"journey-{spec.name}"[:60], daemon=True)
    worker.start()
    worker.join(spec.timeout_s)
    run.cancelled.set()  # past the timeout the worker makes no further call (a no-op when it is done)
    done, steps, current = run.done, list(run.steps), run.current
    if worker.is_alive():
        worker.join(STOP_GRACE_S)  # its call in flight; cleaning up under it would leave what that call makes
    if not done:
        failure = f"journey timed out after {spec.timeout_s:g} s in {current or 'its first step'}"
        result = JourneyResult(journey=spec.name, passed=False, steps=steps, failed_step=current, failure=failure)
    else:
        failed = next((s for s in steps if not s.passed), None)
        result = JourneyResult(
            journey=spec.name, passed=failed is None, steps=steps,
            failed_step=None if failed is None else f"steps[{failed.index}] {failed.name}",
            failure=None if failed is None else "; ".join(str(f) for f in failed.failures),
        )
    with run.lock:
        run.clean_when_stopped = clean and not run.stopped
    if run.clean_when_stopped:
        logger.warning("journey %s: a call still in flight %g s after its timeout; cleaning up now and again when "
                       "it returns", spec.name, STOP_GRACE_S)
    if clean:  # after a timeout too: what the worker made so far is abandoned / released
        cleanup(entry, run)
    result.total_ms = round((time.perf_counter() - started) * 1000, 1)
    result.contacts = list(run.contacts)
    return result


def run_suite(entry: EntryPoints, suite: JourneySuite, *, names: Iterable[str] | None = None,
              on_result: Callable[[JourneyResult], None] | None = None,
              order: Sequence[JourneySpec] | None = None,
              fits: Callable[[JourneySpec], bool] | None = None) -> list[JourneyResult]:
    """The suite's journeys (or those `names`), in the suite's order or `order`; with `fits`, the run stops
    before the first journey it says no longer fits (the scheduled runner's time left)."""
    wanted = set(names) if names is not None else None
    results = []
    for spec in order if order is not None else suite.journeys:
        if wanted is not None and spec.name not in wanted:
            continue
        if fits is not None and not fits(spec):
            break
        result = run_journey(entry, spec)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def suite_metrics(results: Iterable[JourneyResult]) -> list[dict[str, Any]]:
    """Per journey: {journey, JourneySuccess (1/0), JourneyLatency (ms)} — the `journey` dimension's values
    are the tenant's journey names (at most MAX_JOURNEYS: bounded cardinality)."""
    return [{"journey": r.journey, "JourneySuccess": 1 if r.passed else 0, "JourneyLatency": r.total_ms} for r in results]


# --- the tenant's journeys (PUT/GET /settings/journeys) ----------------------------------------------
def journeys_of(deps: Any, tenant_id: str) -> JourneySuite:
    from ccaas.usecases.tenancy import settings_of

    return settings_of(deps, tenant_id, JOURNEYS_SETTINGS, JourneySuite)


def _real_agent(deps: Any, tenant_id: str, agent_id: str) -> bool:
    """An agent of the tenant without the test agent skill. An unknown one is no one's agent yet: the
    runner checks again before it acts as it."""
    from ccaas.domain.models import NotFound

    try:
        return not is_test_agent(deps.store.get_agent(tenant_id, agent_id))
    except NotFound:
        return False


# The scheduled runner's Lambda runs 300 s and keeps 60 s for recording: a journey longer than this could never run
# there (one stored before the bound runs with it).
SCHEDULED_TIMEOUT_S = 180.0


def put_journeys(deps: Any, tenant_id: str, suite: JourneySuite) -> JourneySuite:
    """Store the suite, then follow the suite stored (_follow_suite): the `journey_failed` alerts of journeys no
    longer in it are resolved, and the tenant's alarms become one per journey of it. An alarm call that fails
    fails the request after the suite is stored; the next PUT, whatever it changes, tries again."""
    from ccaas.usecases.tenancy import save_settings

    from ccaas.domain.models import DomainError

    deps.config.get_tenant(tenant_id)  # NotFound for an unknown tenant
    for i, spec in enumerate(suite.journeys):
        if spec.timeout_s > SCHEDULED_TIMEOUT_S:
            raise DomainError(f"at most {SCHEDULED_TIMEOUT_S:g} s: the scheduled runner could never run it",
                              field=f"journeys[{i}].timeout_s")
        for loc, agent_id in spec.agent_uses():
            if _real_agent(deps, tenant_id, agent_id):
                raise DomainError(f"{agent_id} is not a test agent (skill {TEST_AGENT_SKILL}): each run sets the "
                                  "status of the journey's agents", field=loc_path(("journeys", i, *loc)))
    if _foreign_instance(deps, tenant_id, suite):
        raise DomainError("not an Amazon Connect instance of this tenant (register it with the admin tool): the "
                          "flow answers as the instance's tenant", field="connect_instance_arn")
    if suite.connect_instance_arn is None:
        # Stored, such a journey would fail every scheduled run ("names no connect_instance_arn") and alert on it. A
        # spec file for the CI gate may leave it out: its runner names a sandbox instance.
        flows = [(i, k, step.action) for i, spec in enumerate(suite.journeys) for k, step in enumerate(spec.steps)
                 if step.action in FLOW_ACTIONS]
        if flows:
            i, k, action = flows[0]
            raise DomainError(f"journeys[{i}].steps[{k}] is a flow step ({action}): flow steps run as the tenant's "
                              "Amazon Connect instance; name it in connect_instance_arn", field="connect_instance_arn")
    saved = save_settings(deps, tenant_id, JOURNEYS_SETTINGS, suite)
    _follow_suite(deps, tenant_id)
    return saved


# Times _follow_suite reconciles the alarms at most: again while a concurrent PUT changed the suite meanwhile.
_FOLLOW_PASSES = 3


def _follow_suite(deps: Any, tenant_id: str) -> None:
    """Bring the tenant's journey alerts and alarms in line with the suite as stored now, read back after the save:
    under concurrent PUTs each one follows the last writer's suite, not its own (a PUT that followed its own left
    the other's alarms standing, and no later PUT deleted them). Removing a journey resolves its `journey_failed`
    alert (the scheduled runner skips a tenant without journeys: nothing else would). The alarms are reconciled
    with those that exist (JourneyAlarms.alarmed_journeys, by their name prefix): the missing ones are created,
    those of journeys not in the suite deleted; read again, a suite changed meanwhile is followed again."""
    from ccaas.domain.alerts import AlertRule, reconcile
    from ccaas.usecases.alerts import apply_decisions

    names = _stored_journeys(deps, tenant_id)
    mine = [a for a in deps.alerts.unresolved(tenant_id) if a.rule == AlertRule.JOURNEY_FAILED]
    apply_decisions(deps, tenant_id, reconcile([], mine, lambda alert: alert.subject_id not in names), mine)
    for _ in range(_FOLLOW_PASSES):
        alarmed = set(deps.journey_alarms.alarmed_journeys(tenant_id))
        missing, stale = sorted(names - alarmed), sorted(alarmed - names)
        if missing:
            deps.journey_alarms.put(tenant_id, missing)
        if stale:
            deps.journey_alarms.delete(tenant_id, stale)
        followed, names = names, _stored_journeys(deps, tenant_id)
        if names == followed:
            return


def _stored_journeys(deps: Any, tenant_id: str) -> set[str]:
    return {j.name for j in journeys_of(deps, tenant_id).journeys}




# --- results (written by the scheduled runner; GET /journeys/results, GET /journeys/{name}/results) ----------
def record_runs(deps: Any, tenant_id: str, suite: JourneySuite, results: Sequence[JourneyResult]) -> Any:
    """Store each result (per-step timings) and keep the `journey_failed` alerts in step with them: a failed
    journey opens one (one unresolved per journey: no duplicate while it keeps failing), the next passing
    run resolves it, and so does the journey leaving the suite. Returns the alerts use-case's Applied."""
    from ccaas.domain.alerts import AlertRule, reconcile
    from ccaas.domain.journeys import journey_findings, journey_run, journey_subject
    from ccaas.usecases.alerts import apply_decisions

    now = deps.clock.now_ms()
    for result in results:
        deps.journey_results.record(journey_run(tenant_id, result, now))
    mine = [a for a in deps.alerts.unresolved(tenant_id) if a.rule == AlertRule.JOURNEY_FAILED]
    ran = {journey_subject(r.journey) for r in results}
    names = {j.name for j in suite.journeys}
    decisions = reconcile(journey_findings(results), mine,
                          lambda a: a.subject in ran or a.subject_id not in names)
    return apply_decisions(deps, tenant_id, decisions, mine)


class JourneyLatest(BaseModel):
    """A journey's latest run (the wallboard's journey panel reads exactly this)."""

    journey: str
    passed: bool
    at: str = Field(description="when the run ended, ISO 8601 UTC")
    total_ms: float
    failed_step: str | None
    failure: str | None


class JourneyResults(BaseModel):
    journeys: list[JourneyLatest]
    warnings: list[str]


class JourneyRunView(JourneyLatest):
    steps: list[StepTiming]


class JourneyHistory(BaseModel):
    journey: str
    runs: list[JourneyRunView] = Field(description=f"newest first, at most {KEEP_RUNS}")


def _iso(ms: int) -> str:
    from ccaas.domain.alerts import iso

    return iso(ms) or ""


def _latest_view(run: JourneyRun) -> JourneyLatest:
    return JourneyLatest(journey=run.journey, passed=run.passed, at=_iso(run.at), total_ms=run.total_ms,
                         failed_step=run.failed_step, failure=run.failure)


def latest_results(deps: Any, tenant_id: str) -> JourneyResults:
    """The latest run of each journey of the tenant's suite, in the suite's order; a warning for each journey
    that has not run yet (and when the tenant has no journeys). Runs of journeys no longer in the suite are
    left out."""
    suite = journeys_of(deps, tenant_id)
    latest = {r.journey: r for r in deps.journey_results.latest(tenant_id)}
    views, warnings = [], []
    for spec in suite.journeys:
        run = latest.get(spec.name)
        if run is None:
            warnings.append(f"journey {spec.name} has not run yet")
        else:
            views.append(_latest_view(run))
    if not suite.journeys:
        warnings.append("no journeys configured (PUT /settings/journeys)")
    return JourneyResults(journeys=views, warnings=warnings)


def journey_history(deps: Any, tenant_id: str, journey: str) -> JourneyHistory:
    """The journey's last runs with per-step timings; NotFound for a journey neither in the suite nor run."""
    from ccaas.domain.models import NotFound

    runs = deps.journey_results.recent(tenant_id, journey, KEEP_RUNS)
    if not runs and journey not in {j.name for j in journeys_of(deps, tenant_id).journeys}:
        raise NotFound(f"no journey {journey}", field="name")
    return JourneyHistory(journey=journey, runs=[
        JourneyRunView(**_latest_view(r).model_dump(), steps=list(r.steps)) for r in runs])


# --- the scheduled runner (functions/run_journeys) -----------------------------------------------------
class TenantRun(BaseModel):
    tenant_id: str
    results: list[JourneyResult]

    @property
    def failed(self) -> list[JourneyResult]:
        return [r for r in self.results if not r.passed]


def run_scheduled(deps: Any, entry_for: Callable[[str, JourneySuite], EntryPoints], *,
                  keep_going: Callable[[], bool] = lambda: True, time_left_s: Callable[[], float] | None = None,
                  record: bool = True) -> list[TenantRun]:
    """Every tenant's journeys (tenants without any are skipped); `entry_for(tenant, suite)` gives the
    entry points. With `record`, each tenant's results are stored and its journey alerts opened/resolved
    (record_runs) as soon as its journeys ran; a tenant whose recording fails is logged and the others go on.

    The journeys that waited longest go first (never run: first of all), tenant by tenant (the tenant whose
    journey waited longest first, then its journeys by their wait), and a journey runs only while `keep_going()`
    holds and its `timeout_s` fits in `time_left_s()`. A tick that cannot run everything stops there, and the next
    one goes on where it stopped: one tenant's long or failing suite delays the others by a tick at most, never
    every tick (it ran in full before, past the Lambda's timeout, and nothing at all was recorded)."""
    plans = []
    for tenant_id in deps.config.list_tenants():
        suite = journeys_of(deps, tenant_id)
        if suite.journeys:
            last = {r.journey: r.at for r in deps.journey_results.latest(tenant_id)}
            order = sorted(suite.journeys, key=lambda spec: last.get(spec.name, 0))  # stable: the suite's order
            # the longest wait first; between equal waits (never run), the tenant that ran nothing for longest
            plans.append(((last.get(order[0].name, 0), max(last.values(), default=0)), tenant_id, suite, order))
    plans.sort(key=lambda plan: plan[0])

    def fits(spec: JourneySpec) -> bool:
        return keep_going() and (time_left_s is None or time_left_s() >= min(spec.timeout_s, SCHEDULED_TIMEOUT_S))

    runs = []
    for _, tenant_id, suite, order in plans:
        if not fits(order[0]):
            break
        entry = entry_for(tenant_id, suite)
        if _foreign_instance(deps, tenant_id, suite):  # stored before the check, or moved to another tenant since
            entry = _ForeignInstance(entry, suite.connect_instance_arn or "")
        order = [s if s.timeout_s <= SCHEDULED_TIMEOUT_S else s.model_copy(update={"timeout_s": SCHEDULED_TIMEOUT_S})
                 for s in order]
        run = TenantRun(tenant_id=tenant_id, results=run_suite(entry, suite, order=order, fits=fits))
        runs.append(run)
        if record and run.results:
            try:
                record_runs(deps, tenant_id, suite, run.results)
            except Exception:  # noqa: BLE001 - one tenant's store failure does not stop the others
                logger.exception("recording the journey results of tenant %s failed", tenant_id)
        if len(run.results) < len(order):
            break  # out of time: the rest wait for the next tick, first in line
    return runs
