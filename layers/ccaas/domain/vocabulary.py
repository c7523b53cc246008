"""The contact center's shared terms (see shared DOMAIN.md): domain errors, channels, the contact lifecycle,
agent statuses, bounds, name patterns, the frozen value base and a skill requirement. No entities: a module that
needs a state, a channel or an error (history, KPI records, events, outbound) imports this one without building
the entities and the routing plan a contact carries (ccaas.domain.models, which re-exports every name here)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, Strict
from pydantic_core import PydanticCustomError

class DomainError(Exception):
    """A rule of the domain was broken; `code` is stable for API clients and flows to branch on."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The entity is not in a state that allows the operation (or a concurrent writer won)."""

    code = "conflict"


class TooLarge(DomainError):
    """What would be stored exceeds what a store item holds (DynamoDB: 400 KB)."""

    code = "too_large"


# Bounds shared by every model: an id, a count, seconds. Declared once, documented in the README.
# Strict: pydantic would read JSON `true` as 1 for a plain int; a client that sends a boolean (or "5")
# meant something else. (Stored items come back as ints: the adapters turn DynamoDB's Decimals into them.)
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]  # JSON true/false only: pydantic would take "off", "no", 0 and "1" as booleans
Float = Annotated[float, Strict()]  # a JSON number (an integer too): pydantic would take true as 1.0 and "5" as 5.0
MAX_SECONDS = 7 * 86_400  # the longest wait, timer or window any setting may name
Seconds = Annotated[int, Strict(), Field(ge=0, le=MAX_SECONDS)]
# "Answered within this many seconds counts as in SL": a queue's threshold and the KPI settings' default for records
# whose queue threshold was not captured take the same ones (0 would count no contact in SL).
SlThresholdSeconds = Annotated[int, Strict(), Field(ge=1, le=3_600)]

_Member = TypeVar("_Member")


def sorted_members(members: frozenset[Any]) -> list[Any]:
    return sorted(members)


# A set a client writes (channels, statuses, speakers): each member once, stored and answered in sorted order. A
# frozenset's own order follows string hashing, which differs from process to process: the same stored document
# read back two ways. Python keeps the frozenset (membership tests); only its JSON is sorted.
SortedSet = Annotated[frozenset[_Member], PlainSerializer(sorted_members, when_used="json")]


_Day = TypeVar("_Day", bound=date)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # times a request may name; far beyond them date arithmetic overflows


def within_calendar(value: _Day | None) -> _Day | None:
    """A time or day far outside the contact center's life is a 422, not an OverflowError later."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"year must be {FIRST_YEAR}-{LAST_YEAR}")
    return value


# A query string is text: "true" and "false" are its booleans. pydantic's lax bool would also take "1", "yes",
# "on", "off", "0" and "no" (README "Errors, limits and retries": booleans are booleans in every query field too).
_QUERY_BOOLEANS = {"true": True, "false": False}


def query_boolean(value: Any) -> Any:
    """A query parameter's boolean: the text `true` or `false`, nothing else."""
    if isinstance(value, str):
        if value not in _QUERY_BOOLEANS:
            raise PydanticCustomError("bool_parsing", "Input should be true or false")
        return _QUERY_BOOLEANS[value]
    return value  # a default, or a caller's own bool: Strict refuses anything else


QueryBool = Annotated[bool, BeforeValidator(query_boolean), Strict()]

# ISO 8601's extended form: a date, or a date-time (which starts with one). pydantic would read a number, or a
# string of digits ("1796538600000", and the basic form "20261201"), as epoch seconds or milliseconds, whichever
# its size suggests; the basic form is refused, saying the extended form is expected, rather than read by a second
# parser that would disagree with pydantic's on the rest of ISO 8601.
_EXTENDED = {"date": re.compile(r"\d{4}-\d{2}-\d{2}\Z"), "date-time": re.compile(r"\d{4}-\d{2}-\d{2}(\Z|[Tt ])")}
_ISO_EXAMPLES = {"date": "2026-12-01", "date-time": "2026-12-01T09:30:00Z, or a date: 2026-12-01"}


def _iso_8601_text(kind: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, date):  # a caller's own date or datetime, never a client's input (JSON has neither)
            return value
        if not isinstance(value, str) or not _EXTENDED[kind].match(value):
            raise PydanticCustomError(
                "iso_8601", f"Input should be an ISO 8601 {kind} in the extended form ({_ISO_EXAMPLES[kind]}): "
                            "not a number, not the basic form (20261201)")
        return value
    check.__qualname__ = check.__name__ = f"iso_8601_{kind.replace('-', '_')}_text"
    return check


iso_8601_date_text = _iso_8601_text("date")
iso_8601_date_time_text = _iso_8601_text("date-time")
# Every time a client sends, in a query or a body: ISO 8601 text (README: `from`/`to` ISO 8601), years 2000-2100. A
# date-time without an offset is left to the field's reader (the tenant's wall clock where a route says so).
IsoDateTime = Annotated[datetime, BeforeValidator(iso_8601_date_time_text), AfterValidator(within_calendar)]
IsoDate = Annotated[date, BeforeValidator(iso_8601_date_text), AfterValidator(within_calendar)]
ISO_TEXT_CHECKS = (iso_8601_date_text, iso_8601_date_time_text)  # what tests/unit/test_strict_times.py looks for


class Channel(StrEnum):
    VOICE = "VOICE"
    CHAT = "CHAT"
    EMAIL = "EMAIL"
    SMS = "SMS"
    SOCIAL = "SOCIAL"
    VIDEO = "VIDEO"
    TASK = "TASK"


class InitiationMethod(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"
    TRANSFER = "TRANSFER"
    CALLBACK = "CALLBACK"
    API = "API"


class ContactState(StrEnum):
    INITIATED = "INITIATED"
    QUEUED = "QUEUED"
    OFFERED = "OFFERED"
    CONNECTED = "CONNECTED"
    ACW = "ACW"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"
    CALLBACK_SCHEDULED = "CALLBACK_SCHEDULED"
    FAILED = "FAILED"
    TRANSFERRED = "TRANSFERRED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {ContactState.COMPLETED, ContactState.ABANDONED, ContactState.FAILED, ContactState.TRANSFERRED}
)

# The lifecycle as a graph: every write checks its transition against this table.
ALLOWED_TRANSITIONS: dict[ContactState, frozenset[ContactState]] = {
    # INITIATED -> CALLBACK_SCHEDULED: a callback requested at intake (e.g. from a flow) enters the queue as one.
    ContactState.INITIATED: frozenset(
        {ContactState.QUEUED, ContactState.CALLBACK_SCHEDULED, ContactState.ABANDONED, ContactState.FAILED}
    ),
    ContactState.QUEUED: frozenset(
        {ContactState.OFFERED, ContactState.ABANDONED, ContactState.CALLBACK_SCHEDULED, ContactState.FAILED}
    ),
    # An offer that is rejected or times out puts the contact back in the queue.
    ContactState.OFFERED: frozenset(
        {ContactState.CONNECTED, ContactState.QUEUED, ContactState.ABANDONED, ContactState.FAILED}
    ),
    ContactState.CONNECTED: frozenset({ContactState.ACW, ContactState.TRANSFERRED, ContactState.FAILED}),
    # A transferred segment's agent does its after-contact work too; its end names the disposition.
    ContactState.ACW: frozenset({ContactState.COMPLETED, ContactState.TRANSFERRED}),
    # COMPLETED: reached (a CALLBACK contact took over); ABANDONED: cancelled or expired unanswered.
    ContactState.CALLBACK_SCHEDULED: frozenset({ContactState.COMPLETED, ContactState.ABANDONED, ContactState.FAILED}),
    ContactState.COMPLETED: frozenset(),
    ContactState.ABANDONED: frozenset(),
    ContactState.FAILED: frozenset(),
    ContactState.TRANSFERRED: frozenset(),
}


# Waiting for an agent, in queue order: a scheduled callback keeps its place like a held contact.
WAITING_STATES = frozenset({ContactState.QUEUED, ContactState.CALLBACK_SCHEDULED})


def check_transition(current: ContactState, target: ContactState) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise Conflict(f"contact in state {current} cannot become {target}", field="state")


class AgentStatus(StrEnum):
    """Set by the agent. Anything else an agent may pick is a named not-ready reason."""

    OFFLINE = "OFFLINE"
    AVAILABLE = "AVAILABLE"
    NOT_READY = "NOT_READY"


class ActivityKind(StrEnum):
    """What an agent's time was spent on, as the activity spans (and the KPIs read from them) name it."""

    AVAILABLE_IDLE = "AVAILABLE_IDLE"
    ON_CONTACT = "ON_CONTACT"
    ACW = "ACW"
    NOT_READY = "NOT_READY"
    OFFLINE = "OFFLINE"


DEFAULT_CAPACITY: dict[Channel, int] = {
    Channel.VOICE: 1,
    Channel.VIDEO: 1,
    Channel.CHAT: 3,
    Channel.SMS: 3,
    Channel.SOCIAL: 3,
    Channel.EMAIL: 5,
    Channel.TASK: 5,
}

# A lone UTF-16 surrogate: what a JSON "\ud800" escape decodes to (a JavaScript client's JSON.stringify of broken
# text). It is no text: UTF-8 cannot encode it, so neither DynamoDB nor the Lambda runtime's reply can carry it. Read
# as U+FFFD in texts, refused in ids (the flow adapter's events, Connect's contact records).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# The contact ids Amazon Connect sends (a flow event, a contact record). ContactId keys the contact's history item
# ("<tenant>#CONTACT#<id>") and a callback's id; DynamoDB refuses a partition key over 2,048 bytes. Connect's ids are
# 36-character UUIDs (its other ids at most 128 characters); 256 characters (at most 1 KB in UTF-8) is far above them
# and, with the tenant prefix (at most 40 characters), far below the key limit.
MAX_CONTACT_ID = 256

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
NAME_PATTERN = _NAME
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # a phone number as the API takes one: + country code, 7-15 digits
Name = Annotated[str, Field(pattern=_NAME)]
# Text people read (names, labels): any text but control characters, which would forge lines in CSV
# exports and logs or hide text on a wallboard.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# A customer's id: the directory's key, so a contact's customer_id, the customers API's path and the directory take
# the same ones (a contact created for "../x" named a customer nobody could ever read or update).
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$"
# A named not-ready reason an agent can set (BREAK, LUNCH_2): the agents API, routing policies and alert rules
# (ignore_statuses) take the same ones.
NOT_READY_REASON = r"[A-Z][A-Z0-9_]{1,31}"
# A client's text holding this many digits or more may be a card number: an error names where it is, never quotes it.
CARD_SHAPED_DIGITS = 13


def shown_value(value: object) -> str:
    """A configuration value as an error names it (a skill, an id it did not find); not at all when it holds
    CARD_SHAPED_DIGITS digits or more (README: errors never show a value of 13 or more digits)."""
    text = str(value)
    if sum(c.isdigit() for c in text) >= CARD_SHAPED_DIGITS:
        return f"<not shown: {CARD_SHAPED_DIGITS} or more digits>"
    return text


MAX_NAME_CHARS = 64  # a client's name (a key, a field) as an error shows it: cut here
# A name holding this many digits may hold a number about a person (an SSN, a phone number, a date of birth, the
# last four of a card); fewer (`line2`, `u0`, `abandonment_rate_30d`) is a name. No field of ours has more.
_NUMBER_DIGITS = 3


def shown_name(name: Any) -> str:
    """A client's name (a key, a field) as an error shows it: cut to MAX_NAME_CHARS, and not at all when it holds an
    @ or _NUMBER_DIGITS digits or more (an attribute key "ssn 219-09-9999" or "jo@example.com +1 415 555 0101" is
    personal data), said as CARD_SHAPED_DIGITS or more where it holds that many (a card number typed as a key).
    The API's rule (ccaas.api.errors) and the use-cases' that answer errors themselves (the contact-flow adapter)."""
    text = shown_value(name)
    if text != str(name):
        return text  # card-shaped: said as such
    if sum(c.isdigit() for c in text) >= _NUMBER_DIGITS or "@" in unicodedata.normalize("NFKC", text):
        return "<not shown: digits or @>"
    return text if len(text) <= MAX_NAME_CHARS else text[:MAX_NAME_CHARS] + "…"


# A customer the directory knows without a tier is routed at this one (never at the tier a request claims).
DEFAULT_TIER = "standard"

# Validation context of a document read back from the store: a rule tightened later (a bound, a refused value)
# applies to what is written from then on; what was accepted once still loads, or one stored setting over the
# new bound would stop the whole feature for the tenant until an admin saved it again.
STORED_DOCUMENT = {"stored": True}


def is_stored(context: object) -> bool:
    """Whether a validator runs on a document read back from the store (its ValidationInfo.context)."""
    return isinstance(context, dict) and bool(context.get("stored"))
DisplayName = Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE_PATTERN)]
# The same name as stored: names written before control characters were refused must still load.
StoredName = Annotated[str, Field(min_length=1, max_length=128)]
MAX_SKILLS = 100
MAX_AGENT_QUEUES = 100
MAX_CAPACITY = 50  # contacts of one channel at once; Amazon Connect allows at most 10 chats


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def skill_with_value(skill: str) -> str:
    """A skill "name:value" (an attribute and its value in Amazon Connect's routing criteria) has its value:
    "language:" would be criteria with "Value": "", which no agent matches. One rule for every skill a client
    writes: a queue's required skills, an agent's skills, a routing policy's step conditions."""
    _, colon, value = skill.partition(":")
    if colon and not value:
        raise ValueError(f"skill \"{shown_value(skill)}\" has no value after ':' (write name:value, e.g. language:es)")
    return skill


# A skill as a client writes it. Stored queues and agents keep the plain Name (one written before the rule loads).
SkillName = Annotated[str, Field(pattern=_NAME), AfterValidator(skill_with_value)]


class SkillRequirement(Frozen):
    """A skill and the least proficiency in it, as stored (a queue, a campaign, a replay)."""

    skill: Name
    min_proficiency: Int = Field(default=1, ge=1, le=5)


class RequiredSkill(SkillRequirement):
    """A queue's required skill as a client writes it (PUT /queues/{id}): a "name:value" skill has its value."""

    skill: SkillName


# An Amazon Connect instance's ARN: what the admin tool registers to a tenant, what its dialer settings name.
CONNECT_INSTANCE_ARN = r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[A-Za-z0-9-]{1,64}$"
# AWS End User Messaging SMS: an origination identity (phone number in E.164, its id, a pool id, a sender id, or the
# ARN of one) and a configuration set (its name or ARN), as SendTextMessage takes them.
SMS_ORIGINATION = r"^[A-Za-z0-9_:/+.-]{1,256}$"
SMS_CONFIGURATION_SET = r"^[A-Za-z0-9_:/.-]{1,256}$"
# What the admin tool registers to a tenant, each kind its own namespace (a sender id and a configuration set may
# share a name).
SMS_SENDER_KINDS = {"origination": SMS_ORIGINATION, "configuration-set": SMS_CONFIGURATION_SET}
