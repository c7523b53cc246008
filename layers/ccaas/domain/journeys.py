"""Journey tests (pure): a scripted synthetic customer through the real entry points, with expectations.

A **journey** is a name, tenant-relative inputs (the caller's phone, channel, contact attributes) and an
ordered list of **steps**. A step is either a Connect flow action, answered by the contact-flow Lambda
exactly as a flow's "Invoke AWS Lambda function" block gets it (`identify`, `route`, `wait_info`, `hours`,
`callback`: ccaas.domain.connect_flow.ACTIONS), or an API call (`create_contact`, `agent_answers`: a
named test agent takes the offer, `transfer`, `complete`, `survey`, `wait_for` a contact state). Each
step carries expectations (`expect`): outcome, queue, segment, priority, routing criteria, estimated
wait bounds, closed, state, exact reply values, and a latency budget.

Specs are strict: every model forbids unknown fields and bounds every list, map and text, so a typo is
refused, never ignored. `parse_suite` / `parse_journey` raise `SpecError` naming the path of the first
offending key as written (`steps[2].expect.queue_id`, `journeys[0].steps[1].action`); `spec_errors` names
every problem that way (the API's 422 for PUT /settings/journeys lists them).

`evaluate(step, observed)` compares what a runner observed for one step (an `Observation`: normalised
values, latency, an error) with the step's expectations and returns the failed expectations (empty:
the step passed). Runners (ccaas.usecases.journeys) normalise replies into `Observation.values`.

Synthetic contacts: a contact a journey creates carries the reserved attributes
`ccaas:synthetic=<journey name>` and, when the spec names an agent, `ccaas:test_agent=<agent id>`
(ccaas.domain.routing_engine.synthetic): routing offers it only to test agents or that agent, and live
metrics, history and alerts leave it out.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ccaas.domain.routing_engine.synthetic import SYNTHETIC_ATTRIBUTE, TEST_AGENT_ATTRIBUTE
from ccaas.domain.vocabulary import Bool, CONNECT_INSTANCE_ARN, Float, is_stored

__all__ = [
    "API_ACTIONS",
    "FLOW_ACTIONS",
    "JourneySpec",
    "JourneySuite",
    "Observation",
    "SpecError",
    "SpecErrors",
    "StepResult",
    "JourneyResult",
    "ExpectationFailure",
    "evaluate",
    "loc_path",
    "parse_journey",
    "parse_suite",
    "spec_errors",
    "scale_latency_budgets",
    "synthetic_attributes",
    "JourneyRun",
    "StepTiming",
    "alarm_name",
    "journey_findings",
    "journey_run",
]

FLOW_ACTIONS = ("identify", "route", "wait_info", "hours", "callback")
API_ACTIONS = ("create_contact", "agent_answers", "transfer", "complete", "survey", "wait_for")
MAX_STEPS = 30
MAX_JOURNEYS = 50  # also the CloudWatch `journey` dimension's cardinality bound per tenant
MAX_CRITERIA_BYTES = 4096
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Name = Annotated[str, Field(pattern=_NAME)]
Text = Annotated[str, Field(min_length=1, max_length=256)]
Key = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
Value = Annotated[str, Field(max_length=1024)]
Strict_int = Annotated[int, Field(strict=True)]
STATES = ("INITIATED", "QUEUED", "OFFERED", "CONNECTED", "ACW", "COMPLETED", "ABANDONED", "CALLBACK_SCHEDULED",
          "FAILED", "TRANSFERRED")
State = Literal["INITIATED", "QUEUED", "OFFERED", "CONNECTED", "ACW", "COMPLETED", "ABANDONED",
                "CALLBACK_SCHEDULED", "FAILED", "TRANSFERRED"]
Channel = Literal["VOICE", "CHAT", "EMAIL", "SMS", "SOCIAL", "VIDEO", "TASK"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# ------------------------------------------------------------------------------------ expectations
class Expect(_Strict):
    """What a step must observe; every field is optional, an absent one is not checked."""

    status: Literal["ok", "error"] | None = Field(default=None, description="flow reply status / API call success")
    error_code: Name | None = Field(default=None, description="the flow's error_code or the API's error")
    outcome: Literal["queue", "closed", "self_service"] | None = Field(
        default=None, description="the routing outcome (flow route; create_contact's routing_outcome)")
    queue_id: Name | None = None
    segment: Name | None = None
    priority: Strict_int | None = Field(default=None, ge=1, le=10)
    routing_steps: Strict_int | None = Field(default=None, ge=0, le=50, description="number of routing-criteria steps")
    routing_criteria: dict[str, Any] | None = Field(
        default=None, description="a subset of the routing criteria JSON (dicts match by key, lists element-wise)")
    ewt_min_s: Strict_int | None = Field(default=None, ge=0, le=604_800, description="estimated wait at least")
    ewt_max_s: Strict_int | None = Field(default=None, ge=0, le=604_800, description="estimated wait at most")
    open: Bool | None = Field(default=None, description="hours: open now")
    closed: Bool | None = Field(default=None, description="the caller hears the closed message (outcome closed / hours closed)")
    closed_message: Text | None = Field(
        default=None, description="text the closed message must contain (it names the next opening, local time)")
    found: Bool | None = Field(default=None, description="identify: the customer was found")
    tier: Name | None = None
    state: State | None = Field(default=None, description="the contact's state after the step")
    agent_id: Name | None = None
    reply: dict[Key, Value] | None = Field(default=None, max_length=20, description="exact values of reply keys")
    latency_ms: Strict_int | None = Field(default=None, ge=1, le=600_000, description="latency budget of the step")

    @field_validator("routing_criteria")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, separators=(",", ":"))) > MAX_CRITERIA_BYTES:
            raise ValueError(f"at most {MAX_CRITERIA_BYTES} bytes of JSON")
        return value

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Expect:
        if self.ewt_min_s is not None and self.ewt_max_s is not None and self.ewt_min_s > self.ewt_max_s:
            raise ValueError("ewt_min_s is above ewt_max_s")
        return self


# ----------------------------------------------------------------------------------------- steps
class _Step(_Strict):
    label: Text | None = Field(default=None, description="shown in results (default: the action)")
    expect: Expect = Expect()

    @property
    def name(self) -> str:
        return self.label or self.action  # type: ignore[attr-defined]

    @property
    def kind(self) -> str:
        return "flow" if self.action in FLOW_ACTIONS else "api"  # type: ignore[attr-defined]


class FlowStep(_Step):
    """A Connect flow action: the flow Lambda's `action` parameter plus these parameters."""

    action: Literal["identify", "route", "wait_info", "hours", "callback"]
    parameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")], Value] = Field(
        default_factory=dict, max_length=20, description="more function input parameters (queue_id, reason, ...)")
    queue: Name | None = Field(default=None, description="the contact's current Connect queue (ContactData.Queue)")

    @field_validator("parameters")
    @classmethod
    def _no_action(cls, value: dict[str, str]) -> dict[str, str]:
        if any(k.lower() == "action" for k in value):
            raise ValueError("the action is the step's `action`, not a parameter")
        return value


class CreateContactStep(_Step):
    action: Literal["create_contact"]
    queue_id: Name
    channel: Channel | None = Field(default=None, description="default: the journey's channel")
    customer_id: Name | None = None
    reason: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    priority: Strict_int | None = Field(default=None, ge=1, le=10)
    segment: Annotated[str, Field(max_length=32, pattern=_NAME)] | None = None
    callback_number: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = None

    @field_validator("segment")
    @classmethod
    def _a_tier(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The shape POST /contacts takes a segment in (a tier as PUT /customers takes it): "Gold" was stored and
        # failed only when the suite ran; a suite stored before this check still loads.
        from ccaas.domain.customers import TIER_PATTERN  # noqa: PLC0415 - as _a_phone_number's import

        if value is not None and not is_stored(info.context) and re.fullmatch(TIER_PATTERN, value) is None:
            raise ValueError("a tier as PUT /customers takes it: lower case letters, digits, _ and -, a letter first")
        return value


class AgentAnswersStep(_Step):
    """The named test agent goes AVAILABLE, finds the journey's contact among its offers and accepts it."""

    action: Literal["agent_answers"]
    agent_id: Name | None = Field(default=None, description="default: the journey's test_agent")
    timeout_s: Float = Field(default=10.0, gt=0, le=300)


class TransferStep(_Step):
    """The agent on the contact transfers it to a queue (the new segment becomes the journey's contact)."""

    action: Literal["transfer"]
    queue_id: Name
    reason: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    exclude_me: Bool = Field(default=False, description="not offered back to the transferring agent (the journey's "
                             "test agent usually answers the next segment too)")


class CompleteStep(_Step):
    action: Literal["complete"]
    end_acw: Bool = Field(default=True, description="also end the after-contact work")


class SurveyStep(_Step):
    action: Literal["survey"]
    csat: Strict_int | None = Field(default=None, ge=1, le=5)
    ces: Strict_int | None = Field(default=None, ge=1, le=7)
    nps: Strict_int | None = Field(default=None, ge=0, le=10)

    @model_validator(mode="after")
    def _some(self) -> SurveyStep:
        if self.csat is None and self.ces is None and self.nps is None:
            raise ValueError("a survey needs at least one of csat, ces, nps")
        return self


class WaitForStep(_Step):
    action: Literal["wait_for"]
    state: State
    timeout_s: Float = Field(default=10.0, gt=0, le=300)


Step = Annotated[
    FlowStep | CreateContactStep | AgentAnswersStep | TransferStep | CompleteStep | SurveyStep | WaitForStep,
    Field(discriminator="action"),
]


class JourneyInputs(_Strict):
    phone: Annotated[str, Field(max_length=32)] | None = Field(
        default=None, description="the caller's number (CustomerEndpoint): a number the flow reads as one (E.164, "
        "separators allowed), kept as written; none for a caller without one")
    channel: Channel = "VOICE"
    attributes: dict[Key, Value] = Field(default_factory=dict, max_length=20, description="contact attributes")

    @field_validator("phone")
    @classmethod
    def _a_phone_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Any text went through as the caller's number (an SSN-like 123-45-6789 stored in the suite): refused as the
        # flow would read it (the error never quotes it); a suite stored before this check still loads.
        if value is not None and not is_stored(info.context):
            from ccaas.domain.customers import normalise_phone  # noqa: PLC0415 - phonenumbers: suites with a phone only

            normalise_phone(value)
        return value

    @field_validator("attributes")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = [k for k in value if k.startswith("ccaas:")]
        if reserved:
            raise ValueError(f"attributes starting with 'ccaas:' are reserved (set by the runner): {reserved[0]}")
        return value


class JourneySpec(_Strict):
    name: Name
    description: Annotated[str, Field(max_length=500)] | None = None
    inputs: JourneyInputs = JourneyInputs()
    test_agent: Name | None = Field(default=None, description="the agent that may take this journey's contacts")
    timeout_s: Float = Field(default=30.0, gt=0, le=900, description="the whole journey; past it: a failure naming the step")
    steps: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _contact_before_use(self) -> JourneySpec:
        has_contact = False
        for i, step in enumerate(self.steps):
            if step.action == "create_contact":
                has_contact = True
            elif step.action in ("agent_answers", "transfer", "complete", "survey", "wait_for") and not has_contact:
                raise SpecError.at(("steps", i), f"{step.action} needs a create_contact step before it")
            if step.action == "agent_answers" and step.agent_id is None and self.test_agent is None:
                raise SpecError.at(("steps", i), "agent_answers needs an agent_id or the journey's test_agent")
        return self

    def agents(self) -> tuple[str, ...]:
        """Every agent the journey acts as (test agents)."""
        return tuple(dict.fromkeys(agent for _, agent in self.agent_uses()))

    def agent_uses(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        """Each key naming an agent the journey acts as, with that agent: (("test_agent",), "bot"),
        (("steps", 3, "agent_id"), "bot-2"). The runner sets these agents' status: they must be test agents."""
        named = [(("steps", i, "agent_id"), s.agent_id) for i, s in enumerate(self.steps)
                 if s.action == "agent_answers" and s.agent_id]
        return (*([(("test_agent",), self.test_agent)] if self.test_agent else []), *named)


class JourneySuite(_Strict):
    """A tenant's journeys (PUT /settings/journeys, a file for the CI gate)."""

    journeys: tuple[JourneySpec, ...] = Field(default=(), max_length=MAX_JOURNEYS)
    connect_instance_arn: Annotated[str, Field(max_length=256, pattern=CONNECT_INSTANCE_ARN)] | None = Field(
        default=None, description="the tenant's Amazon Connect instance flow events come from (flow steps need it)")

    @model_validator(mode="after")
    def _unique(self) -> JourneySuite:
        seen: set[str] = set()
        for i, j in enumerate(self.journeys):
            if j.name in seen:
                raise SpecError.at(("journeys", i, "name"), f"{j.name!r} is used twice")
            seen.add(j.name)
        return self


def synthetic_attributes(journey: JourneySpec, agent_id: str | None = None) -> dict[str, str]:
    """The contact attributes that mark a journey's contact (and the agent allowed to take it)."""
    marks = {SYNTHETIC_ATTRIBUTE: journey.name}
    agent = agent_id or journey.test_agent
    if agent:
        marks[TEST_AGENT_ATTRIBUTE] = agent
    return {**journey.inputs.attributes, **marks}


# ------------------------------------------------------------------------------------ refusals
class SpecError(ValueError):
    """A spec refused: `path` is the offending key as written (`steps[2].expect.queue_id`), `loc` the same
    key as a tuple (("steps", 2, "expect", "queue_id")), `kind` pydantic's error type (extra_forbidden, ...).

    A model validator raises it (`SpecError.at(loc, message)`) to blame a key below the model it checks."""

    def __init__(self, path: str, message: str, *, loc: Sequence[str | int] = (), kind: str = "value_error") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.loc = tuple(loc)
        self.kind = kind

    @classmethod
    def at(cls, loc: Sequence[str | int], message: str, kind: str = "value_error") -> SpecError:
        return cls(loc_path(loc), message, loc=loc, kind=kind)


class SpecErrors(ValueError):
    """Every problem of one document, one SpecError each (`problems`), in pydantic's order."""

    def __init__(self, problems: Sequence[SpecError]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


_TAGS = frozenset((*FLOW_ACTIONS, *API_ACTIONS))


def _written(loc: Sequence[Any]) -> tuple[str | int, ...]:
    """pydantic's loc without the discriminated union's tag (not a key of the document)."""
    kept: list[str | int] = []
    previous: Any = None
    for item in loc:
        if not (isinstance(previous, int) and item in _TAGS):
            kept.append(item)
        previous = item
    return tuple(kept)


def loc_path(loc: Sequence[Any], error_type: str = "") -> str:
    """pydantic's loc as written in the document: indexes in brackets, the union's tag left out, and a
    step whose action is unknown or missing blamed on its `action` key."""
    parts: list[str] = []
    for item in _written(loc):
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + str(item))
    if error_type in ("union_tag_invalid", "union_tag_not_found"):
        parts.append(".action" if parts else "action")
    return "".join(parts)


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "union_tag_invalid":
        return f"unknown action; use one of {', '.join((*FLOW_ACTIONS, *API_ACTIONS))}"
    if error["type"] == "union_tag_not_found":
        return "a step needs an action"
    return str(error["msg"]).removeprefix("Value error, ")


def _echo(error: Mapping[str, Any], errors: Sequence[Mapping[str, Any]]) -> bool:
    """pydantic's "too short" for a sequence whose items failed (counted after the failed ones were
    dropped): not a problem of its own."""
    loc = tuple(error["loc"])
    return error["type"] == "too_short" and any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in errors)


def spec_errors(exc: ValidationError) -> list[SpecError]:
    """Every problem of a refused spec, one SpecError each, named as written (the README's
    `journeys[0].steps[2].expect.queue_idx: unknown field`); a validator's SpecError keeps its key."""
    errors = exc.errors()
    problems: list[SpecError] = []
    for error in errors:
        if _echo(error, errors):
            continue
        loc = _written(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SpecErrors):
            problems += [SpecError.at((*loc, *p.loc), p.message, p.kind) for p in cause.problems]
        elif isinstance(cause, SpecError):
            problems.append(SpecError.at((*loc, *cause.loc), cause.message, cause.kind))
        else:
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "action")
            problems.append(SpecError.at(loc, _message(error), error["type"]))
    return _unique_problems(problems)


def _unique_problems(problems: Sequence[SpecError]) -> list[SpecError]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            unique.append(p)
    return unique


def _first_error(exc: ValidationError) -> SpecError:
    return spec_errors(exc)[0]


def parse_journey(data: Any) -> JourneySpec:
    try:
        return JourneySpec.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


def parse_suite(data: Any) -> JourneySuite:
    """A suite document: {"journeys": [...]} (a bare list of journeys is accepted too)."""
    if isinstance(data, list):
        data = {"journeys": data}
    try:
        return JourneySuite.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


# ---------------------------------------------------------------------------------- evaluation
class Observation(BaseModel):
    """What a runner saw for one step: normalised values (keys as Expect's), the latency, an error."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(default_factory=dict)
    reply: dict[str, Any] = Field(default_factory=dict, description="the raw reply (flow: flat strings)")
    latency_ms: float = 0.0
    error: str | None = Field(default=None, description="the step could not be run (a timeout, a refused call)")


class ExpectationFailure(BaseModel):
    model_config = ConfigDict(frozen=True)

    expectation: str
    expected: Any = None
    observed: Any = None
    absent: bool = Field(default=False, description="the reply has no value for the key (none, or null): `observed` "
                                                    "is then no value at all")

    def __str__(self) -> str:
        seen = "the reply has no value for it" if self.absent else f"observed {self.observed!r}"
        return f"{self.expectation}: expected {self.expected!r}, {seen}"


class StepResult(BaseModel):
    index: int
    name: str
    action: str
    kind: str
    latency_ms: float
    passed: bool
    failures: list[ExpectationFailure] = Field(default_factory=list)
    error: str | None = None


class JourneyResult(BaseModel):
    journey: str
    passed: bool
    steps: list[StepResult] = Field(default_factory=list)
    failed_step: str | None = None
    failure: str | None = None
    total_ms: float = 0.0
    contacts: list[str] = Field(default_factory=list, description="synthetic contacts created")


def _subset(expected: Any, observed: Any) -> bool:
    if isinstance(expected, Mapping):
        return isinstance(observed, Mapping) and all(k in observed and _subset(v, observed[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(observed, list) and len(expected) <= len(observed)
                and all(_subset(e, o) for e, o in zip(expected, observed)))
    return expected == observed


_EQUAL = ("status", "error_code", "outcome", "queue_id", "segment", "priority", "routing_steps", "open", "found",
          "tier", "state", "agent_id", "closed")


def evaluate(step: Any, observed: Observation) -> list[ExpectationFailure]:
    """The expectations of `step` that `observed` does not meet (in the order of Expect's fields)."""
    expect: Expect = step.expect
    if observed.error is not None:
        return [ExpectationFailure(expectation="completed", expected=True, observed=observed.error)]
    failures: list[ExpectationFailure] = []
    values = observed.values
    if expect.status is None and values.get("status") == "error":
        failures.append(ExpectationFailure(expectation="status", expected="ok", observed=values.get("error_code") or "error"))
    for name in _EQUAL:
        wanted = getattr(expect, name)
        if wanted is not None and values.get(name) != wanted:
            failures.append(ExpectationFailure(expectation=name, expected=wanted, observed=values.get(name)))
    if expect.routing_criteria is not None and not _subset(expect.routing_criteria, values.get("routing_criteria")):
        failures.append(ExpectationFailure(expectation="routing_criteria", expected=expect.routing_criteria,
                                           observed=values.get("routing_criteria")))
    ewt = values.get("ewt_s")
    if expect.ewt_min_s is not None and (ewt is None or ewt < expect.ewt_min_s):
        failures.append(ExpectationFailure(expectation="ewt_min_s", expected=expect.ewt_min_s, observed=ewt))
    if expect.ewt_max_s is not None and (ewt is None or ewt > expect.ewt_max_s):
        failures.append(ExpectationFailure(expectation="ewt_max_s", expected=expect.ewt_max_s, observed=ewt))
    if expect.closed_message is not None and expect.closed_message not in (values.get("closed_message") or ""):
        failures.append(ExpectationFailure(expectation="closed_message", expected=expect.closed_message,
                                           observed=values.get("closed_message")))
    for key, wanted in (expect.reply or {}).items():
        value = observed.reply.get(key)
        if value is None:  # no such key (the flow leaves out what has no value), or null: str(None) matched "None"
            failures.append(ExpectationFailure(expectation=f"reply.{key}", expected=wanted, absent=True))
        elif str(value) != wanted:
            failures.append(ExpectationFailure(expectation=f"reply.{key}", expected=wanted, observed=value))
    if expect.latency_ms is not None and observed.latency_ms > expect.latency_ms:
        failures.append(ExpectationFailure(expectation="latency_ms", expected=expect.latency_ms,
                                           observed=round(observed.latency_ms, 1)))
    return failures


def closed_message(queue_id: str, next_open_local: str | None, time_zone: str | None) -> str:
    """What a caller hears when the queue is closed (the flow plays it from the route/hours reply)."""
    if not next_open_local:
        return f"{queue_id} is closed"
    return f"{queue_id} is closed; we open again at {next_open_local}{f' ({time_zone})' if time_zone else ''}"


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower()) if value is not None else None


def flow_values(action: str, reply: Mapping[str, str]) -> dict[str, Any]:
    """A flow's flat string reply as typed values (keys as Expect's)."""
    values: dict[str, Any] = {"status": reply.get("status"), "error_code": reply.get("error_code"),
                              "queue_id": reply.get("queue_id")}
    if action == "identify":
        values.update(found=_as_bool(reply.get("found")), tier=reply.get("tier"))
    if action == "route":
        criteria = reply.get("routing_criteria")
        try:
            parsed = json.loads(criteria) if criteria else None
        except ValueError:
            parsed = None
        values.update(outcome=reply.get("outcome"), segment=reply.get("segment"), priority=_as_int(reply.get("priority")),
                      routing_steps=_as_int(reply.get("routing_steps")), routing_criteria=parsed,
                      closed=reply.get("outcome") == "closed")
        if values["closed"]:
            values["closed_message"] = closed_message(reply.get("queue_id") or "", reply.get("next_open_local"), None)
    if action == "wait_info":
        values.update(ewt_s=_as_int(reply.get("ewt_s")))
    if action == "hours":
        is_open = _as_bool(reply.get("open"))
        values.update(open=is_open, closed=None if is_open is None else not is_open)
        if is_open is False:
            values["closed_message"] = closed_message(reply.get("queue_id") or "", reply.get("next_open_local"),
                                                      reply.get("time_zone"))
    if action == "callback":
        values.update(state=reply.get("state"), outcome=reply.get("outcome"))
    return values


def contact_values(contact: Mapping[str, Any]) -> dict[str, Any]:
    """An API contact view (GET /contacts/{id}) as typed values (keys as Expect's)."""
    wait = contact.get("wait") or {}
    ewt = wait.get("ewt_s")
    return {"status": "ok", "outcome": contact.get("routing_outcome"), "queue_id": contact.get("queue_id"),
            "segment": contact.get("segment"), "priority": contact.get("priority"), "state": contact.get("state"),
            "agent_id": contact.get("agent_id"), "ewt_s": None if ewt is None else int(-(-float(ewt) // 1)),
            "closed": contact.get("routing_outcome") == "closed",
            **({"closed_message": closed_message(contact.get("queue_id") or "", contact.get("next_open_at"), None)}
               if contact.get("routing_outcome") == "closed" else {})}


# ---------------------------------------------------------------------------- stored runs, alarms
KEEP_RUNS = 20  # runs kept per journey (GET /journeys/{name}/results)
MAX_TEXT = 500  # characters of a stored failure / step failure (a stored run stays small)


def _clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


class StepTiming(BaseModel):
    """One step of a stored run: its timing and, when it failed, why (texts clipped)."""

    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    action: str
    kind: str
    latency_ms: float
    passed: bool
    error: str | None = None
    failures: tuple[str, ...] = ()


class JourneyRun(BaseModel):
    """One run of one journey as stored (ccaas.ports_journeys.JourneyResultStore): `at` is epoch ms."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    journey: str
    at: int
    passed: bool
    total_ms: float
    failed_step: str | None = None
    failure: str | None = None
    steps: tuple[StepTiming, ...] = ()


def journey_run(tenant_id: str, result: JourneyResult, at_ms: int) -> JourneyRun:
    return JourneyRun(
        tenant_id=tenant_id, journey=result.journey, at=at_ms, passed=result.passed, total_ms=result.total_ms,
        failed_step=result.failed_step, failure=_clip(result.failure),
        steps=tuple(StepTiming(index=s.index, name=s.name, action=s.action, kind=s.kind, latency_ms=s.latency_ms,
                               passed=s.passed, error=_clip(s.error),
                               failures=tuple(_clip(str(f)) or "" for f in s.failures[:10])) for s in result.steps),
    )


def journey_subject(journey: str) -> str:
    """The alert subject of a journey (ccaas.domain.alerts: one unresolved alert per rule and subject)."""
    return f"journey/{journey}"


def journey_findings(results: Sequence[JourneyResult]) -> list[Any]:
    """A `journey_failed` finding per failed journey (ccaas.domain.alerts.Finding)."""
    from ccaas.domain.alerts import AlertRule, Finding, Severity

    return [
        Finding(AlertRule.JOURNEY_FAILED, journey_subject(r.journey), Severity.CRITICAL,
                f"journey {r.journey} failed at {r.failed_step or 'its start'}: {_clip(r.failure, 200) or 'failed'}",
                {"journey": r.journey, "failed_step": r.failed_step, "failure": _clip(r.failure)})
        for r in results if not r.passed
    ]


# A CloudWatch alarm per journey (ccaas.ports_journeys.JourneyAlarms) on the runner's JourneySuccess metric
# (dimensions tenant, journey; one datapoint per 5-minute run): ALARM when 2 of the last 3 periods saw a failure.
ALARM_METRIC = "JourneySuccess"
ALARM_PERIOD_S = 300
ALARM_EVALUATION_PERIODS = 3
ALARM_DATAPOINTS = 2


def alarm_name(prefix: str, tenant_id: str, journey: str) -> str:
    """`<prefix><tenant>/<journey>`: the IAM grant is scoped to `<prefix>*` (at most 255 characters:
    prefix + 40 + 1 + 64)."""
    return f"{prefix}{tenant_id}/{journey}"


def scale_latency_budgets(suite: JourneySuite, factor: float | None) -> JourneySuite:
    """The suite with every step's latency budget multiplied by `factor` (a loaded machine: e.g. 3), or
    removed (`factor` None); steps without a budget are unchanged."""
    if factor is not None and not factor > 0:
        raise ValueError("the latency scale must be above 0")
    journeys = []
    for journey in suite.journeys:
        steps = []
        for step in journey.steps:
            budget = step.expect.latency_ms
            if budget is not None:
                scaled = None if factor is None else min(600_000, max(1, round(budget * factor)))
                step = step.model_copy(update={"expect": step.expect.model_copy(update={"latency_ms": scaled})})
            steps.append(step)
        journeys.append(journey.model_copy(update={"steps": tuple(steps)}))
    return suite.model_copy(update={"journeys": tuple(journeys)})
