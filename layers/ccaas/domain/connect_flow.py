"""Amazon Connect contact flows (pure): the "Invoke AWS Lambda function" event, read leniently, and the
reply, a flat map of strings under 32 KB.

The event (`{"Name": "ContactFlowEvent", "Details": {"ContactData": {...}, "Parameters": {...}}}`) is
parsed so that what Amazon Connect adds tomorrow does not break today's flows: unknown fields are
kept and ignored, enumerations (Channel, InitiationMethod, endpoint types, chat subtypes) stay plain
strings and are mapped to ours where we know them, null sections (Queue, CustomerEndpoint,
SystemEndpoint) are fine, and values that are not strings (attributes, parameters, the text fields of the event,
its Queue and its endpoints) are read as the strings Connect would have sent.

The reply is what the flow reads as `$.External.<key>`: string keys to string values, nothing nested,
at most 32 KB (Amazon Connect's limit; `REPLY_BUDGET` keeps a margin). `flat_reply` enforces it: when a
reply would be too large, optional keys are dropped (largest first) and the reply says so
(`truncated=true`, `dropped_keys=...`). Errors are replies too (`status=error`, `error_code`,
`error_message`): a flow branches on values, an exception would only take its generic Error branch.

Routing steps are rendered in Amazon Connect's routing-criteria shape (the JSON the "Set routing
criteria" block takes when set dynamically): skill `lang:es>=3` -> AttributeCondition Name "lang",
Value "es", ProficiencyLevel 3.0, NumberGreaterOrEqualTo; a skill without ":" uses `skill_attribute`
as its Name; and/or -> AndExpression/OrExpression; not -> NotAttributeCondition (pushed down to the
skill leaves by De Morgan's laws, the only negation Connect has); preferred agents -> an
AttributeCondition with MatchCriteria.AgentsCriteria.AgentIds and ComparisonOperator "Match". A skill "name:"
without its value (a queue stored before such skills were refused) has no Connect form: it is left out of the
criteria, and `routing_notes` names it.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ccaas.domain.connect_channels import connect_channel
from ccaas.domain.vocabulary import LONE_SURROGATE as _SURROGATE
from ccaas.domain.vocabulary import MAX_CONTACT_ID, Channel, InitiationMethod, shown_name, shown_value

if TYPE_CHECKING:  # the routing criteria read a plan already built (the contact's): FlowSettings' readers
    # (the history use-cases, the CTR consumer) do not build the routing conditions at their cold start
    from ccaas.domain.routing_engine.conditions import SkillAtLeast
    from ccaas.domain.routing_engine.plan import RoutingPlan

__all__ = [
    "ACTIONS",
    "FLOW_SETTINGS",
    "MAX_CONTACT_ID",
    "MAX_REASON",
    "MAX_REPLY_BYTES",
    "REPLY_BUDGET",
    "FlowContactData",
    "ContactFlowEvent",
    "FlowError",
    "FlowSettings",
    "channel_of",
    "error_reply",
    "expression",
    "flat_reply",
    "initiation_of",
    "parse_event",
    "reply_size",
    "requested_action",
    "routing_criteria",
]

ACTIONS = ("identify", "route", "wait_info", "hours", "staffing", "callback", "log_event")
MAX_REPLY_BYTES = 32 * 1024  # Amazon Connect refuses a larger Lambda response
REPLY_BUDGET = 30 * 1024  # what we fill at most: a margin for the envelope and our own accounting
ALWAYS_KEPT = ("status", "action", "error_code", "error_message", "truncated", "dropped_keys")
_MAX_ERROR_MESSAGE = 500
_CONTACT_IDS = ("ContactId", "InitialContactId", "PreviousContactId")
# The `reason` parameter, one rule for every action that takes it (identify, route, callback): POST /contacts' bound
# on a contact's reason (usecases.contacts.NewContact), so what route plans with is what a callback can keep.
MAX_REASON = 64


FLOW_SETTINGS = "connect"  # the tenant's Config settings document


class FlowSettings(BaseModel):
    """The tenant's Amazon Connect settings (Config settings document "connect"): read by the flow
    adapter (queue_arn in replies, a contact's Queue.ARN back to our queue id) and by the CTR consumer
    (a contact record's Queue.ARN to our queue id), so both map a Connect queue the same way."""

    model_config = ConfigDict(extra="forbid")

    queues: dict[str, str] = Field(default_factory=dict, description="our queue id -> Amazon Connect queue ARN")
    skill_attribute: str = Field(default="Skill", min_length=1, max_length=64,
                                 description="predefined attribute Name for skills without a ':' (routing criteria)")

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> FlowSettings:
        """From the stored settings document (None: never set, the defaults)."""
        return cls() if stored is None else cls.model_validate(stored)

    def queue_for_arn(self, arn: str) -> str | None:
        return next((q for q, a in self.queues.items() if a == arn), None)

    def queue_ids_by_arn(self) -> dict[str, str]:
        """Connect queue ARN -> our queue id (the first of ours when two share an ARN, as queue_for_arn)."""
        inverse: dict[str, str] = {}
        for queue_id, arn in self.queues.items():
            inverse.setdefault(arn, queue_id)
        return inverse


class FlowError(Exception):
    """A failure the flow can branch on: `code` becomes `$.External.error_code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------- the event
def _stringly(value: Any) -> str | None:
    """A parameter/attribute value as the string Connect would have sent (None is dropped)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    out = {}
    for key, item in value.items():
        text = _stringly(item)
        if text is not None:
            out[str(key)] = text
    return out


def _lenient_text(value: Any) -> str | None:
    """A text field Connect fills (an endpoint's address or type, a queue's name or ARN) as the string it would have
    sent, whatever its JSON type (a number, a list); a lone surrogate (no text) as U+FFFD; blank as absent."""
    text = _stringly(value)
    return (_SURROGATE.sub("\ufffd", text).strip() or None) if text is not None else None


# Read leniently: an odd-typed value in one section never fails the call (a queue named 5 is the queue "5")
LenientText = Annotated[str | None, BeforeValidator(_lenient_text)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, hide_input_in_errors=True)


class Endpoint(_Lenient):
    Address: LenientText = None
    Type: LenientText = None  # TELEPHONE_NUMBER, EMAIL_ADDRESS, ... (more may come)


class FlowQueue(_Lenient):
    Name: LenientText = None
    ARN: LenientText = None


class FlowContactData(_Lenient):
    ContactId: str | None = None
    InitialContactId: str | None = None
    PreviousContactId: str | None = None
    Channel: str | None = None  # VOICE, CHAT, TASK, EMAIL, ... kept as sent
    InitiationMethod: str | None = None
    InstanceARN: str | None = None
    LanguageCode: str | None = None
    CustomerEndpoint: Endpoint | None = None
    SystemEndpoint: Endpoint | None = None
    Queue: FlowQueue | None = None
    Attributes: dict[str, str] = Field(default_factory=dict)
    SegmentAttributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("Attributes", mode="before")
    @classmethod
    def _attributes(cls, value: Any) -> dict[str, str]:
        # read leniently, as the rest of the contact: a lone surrogate (no text) becomes U+FFFD
        return {_SURROGATE.sub("\ufffd", k): _SURROGATE.sub("\ufffd", v) for k, v in _string_map(value).items()}

    @field_validator("SegmentAttributes", mode="before")
    @classmethod
    def _segment_attributes(cls, value: Any) -> dict[str, Any]:
        return dict(value) if isinstance(value, Mapping) else {}

    @field_validator("CustomerEndpoint", "SystemEndpoint", "Queue", mode="before")
    @classmethod
    def _section(cls, value: Any) -> Any:
        return value if isinstance(value, Mapping) else None  # null, "", or anything odd: no section

    @field_validator(
        "ContactId", "InitialContactId", "PreviousContactId", "Channel", "InitiationMethod", "InstanceARN",
        "LanguageCode", mode="before",
    )
    @classmethod
    def _text(cls, value: Any) -> str | None:
        text = _stringly(value)
        if text is not None and _SURROGATE.search(text):
            raise ValueError("not text (a lone UTF-16 surrogate)")  # an id or ARN that is no text: bad_event
        return text.strip() or None if text is not None else None

    @property
    def subtype(self) -> str | None:
        """The chat subtype (`connect:SMS`, `connect:WhatsApp`, ...) from SegmentAttributes, if any."""
        held = self.SegmentAttributes.get("connect:Subtype")
        if isinstance(held, Mapping):
            held = held.get("ValueString")
        return held if isinstance(held, str) and held else None


class FlowDetails(_Lenient):
    ContactData: FlowContactData = Field(default_factory=FlowContactData)
    Parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("Parameters", mode="before")
    @classmethod
    def _parameters(cls, value: Any) -> dict[str, str]:
        return {k: v.strip() for k, v in _string_map(value).items()}

    @field_validator("ContactData", mode="before")
    @classmethod
    def _contact_data(cls, value: Any) -> Any:
        return value if isinstance(value, Mapping) else {}


class ContactFlowEvent(_Lenient):
    Name: LenientText = None
    Details: FlowDetails = Field(default_factory=FlowDetails)

    @property
    def contact(self) -> FlowContactData:
        return self.Details.ContactData

    @property
    def parameters(self) -> dict[str, str]:
        return self.Details.Parameters

    def parameter(self, *names: str) -> str | None:
        """The first non-empty of these parameters (names are matched case-insensitively)."""
        return _parameter(self.parameters, names)


def _parameter(parameters: Mapping[str, str], names: Iterable[str]) -> str | None:
    lowered = {k.lower(): v for k, v in parameters.items()}
    return next((lowered[n.lower()] for n in names if lowered.get(n.lower())), None)


def requested_action(raw: Any) -> str | None:
    """The `action` parameter, lower-cased, read from the raw event on its own (as parse_event reads parameters):
    an error reply names the action asked for even when the rest of the event cannot be read (bad_event)."""
    details = raw.get("Details") if isinstance(raw, Mapping) else None
    parameters = details.get("Parameters") if isinstance(details, Mapping) else None
    action = _parameter(FlowDetails.model_validate({"Parameters": parameters}).Parameters, ("action",))
    return action.lower() if action else None


def parse_event(raw: Any) -> ContactFlowEvent:
    """FlowError("bad_event") for something that is not a contact-flow event at all, or whose contact ids are
    no Amazon Connect ids (no text, or over MAX_CONTACT_ID); everything else (unknown fields and values, null
    sections) parses."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Details"), Mapping):
        raise FlowError("bad_event", "not an Amazon Connect contact-flow event (no Details)")
    try:
        event = ContactFlowEvent.model_validate(raw)
    except ValueError:
        raise FlowError("bad_event", "the contact-flow event could not be read") from None
    for field in _CONTACT_IDS:  # the field is named, never the value (it may be anything, of any size)
        value = getattr(event.contact, field)
        if value is not None and len(value) > MAX_CONTACT_ID:
            raise FlowError("bad_event", f"ContactData.{field} is not an Amazon Connect contact id "
                                         f"(longer than {MAX_CONTACT_ID} characters)")
    for name, value in event.parameters.items():
        if _SURROGATE.search(name + value):  # its name as the API shows a caller's key: not one with an @ or digits
            raise FlowError("invalid_parameter", f"parameter {shown_name(_SURROGATE.sub('?', name))!r} is not text "
                                                 "(it holds a lone UTF-16 surrogate)")
    return event


_INITIATIONS = {
    "INBOUND": InitiationMethod.INBOUND, "OUTBOUND": InitiationMethod.OUTBOUND, "TRANSFER": InitiationMethod.TRANSFER,
    "QUEUE_TRANSFER": InitiationMethod.TRANSFER, "EXTERNAL_OUTBOUND": InitiationMethod.OUTBOUND,
    "CALLBACK": InitiationMethod.CALLBACK, "API": InitiationMethod.API, "WEBRTC_API": InitiationMethod.API,
    "AGENT_REPLY": InitiationMethod.OUTBOUND, "CAMPAIGN": InitiationMethod.OUTBOUND, "FLOW": InitiationMethod.API,
}


def channel_of(contact: FlowContactData) -> Channel | None:
    """Our channel for Connect's (SMS and other messaging arrive as CHAT with a subtype); None when unknown.
    The table is CTR ingestion's too (domain/connect_channels.py): routed and reported as one channel."""
    return connect_channel(contact.Channel, contact.subtype)


def initiation_of(contact: FlowContactData) -> InitiationMethod:
    """Our initiation method for Connect's (a dozen values, more to come; unknown ones count as INBOUND,
    which is what a flow mostly handles)."""
    return _INITIATIONS.get((contact.InitiationMethod or "").upper(), InitiationMethod.INBOUND)


# --------------------------------------------------------------------------------------- the reply
def _flat(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return _stringly(value)


def reply_size(reply: Mapping[str, str]) -> int:
    """Bytes of the reply as Lambda returns it (JSON, UTF-8)."""
    return len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())


def flat_reply(values: Mapping[str, Any], *, budget: int = REPLY_BUDGET, keep: Iterable[str] = ALWAYS_KEPT) -> dict[str, str]:
    """Strings only (bools as true/false, lists comma-joined, mappings as JSON, None and non-finite
    numbers left out), and at most `budget` bytes: optional keys are dropped, largest first, until it
    fits; `truncated=true` and `dropped_keys` then say which."""
    # a lone surrogate in any value (an id or message echoed back) would fail the runtime's UTF-8 reply: U+FFFD
    reply = {_SURROGATE.sub("\ufffd", str(k)): _SURROGATE.sub("\ufffd", v)
             for k, v in ((k, _flat(v)) for k, v in values.items()) if v is not None}
    if "error_message" in reply:
        reply["error_message"] = reply["error_message"][:_MAX_ERROR_MESSAGE]
    if reply_size(reply) <= budget:
        return reply
    kept = set(keep)
    dropped: list[str] = []
    for key in sorted((k for k in reply if k not in kept), key=lambda k: (-len(reply[k].encode()), k)):
        del reply[key]
        dropped.append(key)
        marks = {"truncated": "true", "dropped_keys": ",".join(sorted(dropped))[:1000]}
        if reply_size({**reply, **marks}) <= budget:
            break
    reply["truncated"] = "true"
    reply["dropped_keys"] = ",".join(sorted(dropped))[:1000]
    for key in kept:  # what must stay is cut rather than dropped (only absurd values get here)
        if reply_size(reply) <= budget:
            break
        if key in reply and key not in ("truncated", "dropped_keys"):
            reply[key] = reply[key][:200]
    return reply


def error_reply(action: str | None, code: str, message: str) -> dict[str, str]:
    return flat_reply({"status": "error", "action": action or "", "error_code": code, "error_message": message})


# ------------------------------------------------------------------------------- routing criteria
def _valueless(leaf: SkillAtLeast) -> bool:
    """A skill "name:" without its value: refused where a client writes a skill (vocabulary.skill_with_value), yet a
    queue stored before that rule still routes with it. Connect has no form for it: an AttributeCondition's Value
    needs a character, and "Set routing criteria" fails on the whole criteria."""
    _, sep, value = leaf.skill.partition(":")
    return bool(sep) and not value


def _attribute(leaf: SkillAtLeast, skill_attribute: str) -> dict[str, Any]:
    name, sep, value = leaf.skill.partition(":")
    if not sep:
        name, value = skill_attribute, leaf.skill
    return {"Name": name, "Value": value, "ProficiencyLevel": float(leaf.min),
            "ComparisonOperator": "NumberGreaterOrEqualTo"}


def expression(cond: Any, *, skill_attribute: str = "Skill", negate: bool = False,
               left_out: list[str] | None = None) -> dict[str, Any] | None:
    """One of our skill conditions as a Connect routing-step Expression (module docstring). A valueless skill
    ("language:", `_valueless`) is read as if the condition did not name it, its name added to `left_out`: the step
    asks for the rest of its condition (a queue's other required skills) instead of failing the flow's block, and
    the reply's routing_notes tell the admin which skill to give its value. None when nothing is left."""
    from ccaas.domain.routing_engine.conditions import AllOf, AnyOf, NotOf, SkillAtLeast  # loaded with the plan

    if isinstance(cond, SkillAtLeast):
        if _valueless(cond):
            if left_out is not None:
                left_out.append(cond.skill)
            return None
        key = "NotAttributeCondition" if negate else "AttributeCondition"
        return {key: _attribute(cond, skill_attribute)}
    if isinstance(cond, NotOf):
        return expression(cond.not_, skill_attribute=skill_attribute, negate=not negate, left_out=left_out)
    if isinstance(cond, AllOf | AnyOf):
        children = cond.all if isinstance(cond, AllOf) else cond.any
        conjunction = isinstance(cond, AllOf) != negate  # De Morgan: not(a and b) = not a or not b
        parts = [part for part in (expression(c, skill_attribute=skill_attribute, negate=negate, left_out=left_out)
                                   for c in children) if part is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {("AndExpression" if conjunction else "OrExpression"): parts}
    raise TypeError(f"not a skill condition: {type(cond).__name__}")


def _agents(agent_ids: Iterable[str]) -> dict[str, Any]:
    return {"AttributeCondition": {"MatchCriteria": {"AgentsCriteria": {"AgentIds": list(agent_ids)}},
                                   "ComparisonOperator": "Match"}}


def routing_criteria(plan: RoutingPlan, *, skill_attribute: str = "Skill") -> tuple[dict[str, Any] | None, list[str]]:
    """(RoutingCriteria JSON for "Set routing criteria", notes). None when the plan has no step Connect
    can express. A step with neither a skill condition nor preferred agents lets any agent of the queue
    take the contact, which is what Connect does once the steps run out: the criteria stop there."""
    steps: list[dict[str, Any]] = []
    notes: list[str] = []
    previous = plan.planned_at
    for i, step in enumerate(plan.steps):
        parts = []
        if step.preferred_agents:
            parts.append(_agents(step.preferred_agents))
        if step.condition is not None:
            left_out: list[str] = []
            rendered_condition = expression(step.condition, skill_attribute=skill_attribute, left_out=left_out)
            if rendered_condition is not None:
                parts.append(rendered_condition)
            # the step by its number (routing_step_labels lists them): a label quotes the skill whole
            notes += [f"skill {shown_value(skill)!r} has no value after ':' (Connect needs one): left out of routing "
                      f"step {i + 1}" for skill in dict.fromkeys(left_out)]
        if not parts:
            if i < len(plan.steps) - 1:
                notes.append(f"steps after {step.label!r} (any agent) are left out")
            break
        rendered: dict[str, Any] = {"Expression": parts[0] if len(parts) == 1 else {"AndExpression": parts}}
        if step.expires_at is not None:
            rendered["Expiry"] = {"DurationInSeconds": max(1, round((step.expires_at - previous) / 1000))}
            previous = step.expires_at
        steps.append(rendered)
        if step.expires_at is None:
            break
    return ({"Steps": steps} if steps else None), notes
