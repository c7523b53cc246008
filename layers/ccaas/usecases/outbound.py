"""Outbound campaigns: configure, load lists, start/pause/stop, the dialing loop, outcomes, audit, metrics.

The rules are the domain's (ccaas.domain.outbound: `check_attempt`, `pacing_mode`, `dials_to_place`,
list parsing); this module only orchestrates the ports:

- `dial_tick(deps, tenant, campaign, now)` is one step of the dialing loop, under the leases of every queue the
  campaign's agents serve (one tick at a time decides for an agent, whichever queues it serves): collect the
  outcomes the dialer knows (the simulated carrier; Amazon Connect's arrive as contact records instead; polled for
  a paused or stopped campaign too, until its calls have ended), derive the pacing state from live data (free /
  busy / wrapping agents of the campaign's queue, a free one less when an answer handed out waits for routing to
  offer it, counted as the next answer's hand-out counts it: `_staffing`; the calls still ringing for them from
  every campaign on a queue they serve, the rolling answer and 30-day abandonment counts), take that many due rows from the due index, check
  each row (`check_attempt`: every verdict kept), and for an allowed one store the attempt WITH its
  checks in one conditional write (campaign still RUNNING at the version the check used, row unchanged,
  no suppression since, the consent record the check read unchanged) BEFORE the dial. A write that loses any of those conditions dials nothing.
  A blocked row waits until its checks clear (`next_allowed_at`: calling hours, gaps, 7-in-7) or leaves
  the due index (a check that never clears by itself: DNC, consent, attempts exhausted). One person is
  never rung twice at once: a number with a call in flight (this campaign's, this tick's, or another
  campaign's: `_BusyNumbers`) is not dialed; the row takes its other number or waits BUSY_NUMBER_WAIT.
- Outcomes (`record_outcome`): the carrier's disposition once (one conditional write, before any contact is
  made); a person answering becomes an OUTBOUND contact routed to an agent of the campaign's queue through
  the ordinary lifecycle (routing and reservation as for inbound work), or, with no agent free (a free agent
  an earlier answer was handed to, not offered yet, is taken: `AgentHandouts`), an abandoned call that plays
  the identification message. Only the agent then refines ANSWERED (`dispose_contact`): right-party contact,
  wrong party, opted out (suppressed at once), ...; voicemail / machine / invalid number leave the answered
  calls the 3 % cap divides by.
- Counters per campaign and UTC day (attempts, carrier outcomes, agent dispositions, blocks by rule) feed
  the metrics and the pacing; the rolling 30-day abandonment rate is read from 31 day buckets (a window
  at least 30 days long: conservative for the cap).

Preview: the tick offers one record per free agent as an OUTBOUND contact (routing and reservation as for
inbound work); the agent dials it (`dial_preview`), which is when its checks run and the attempt is stored.

Agentless campaigns drop a voice message through the dialer, or (campaign channel `sms`) send a text through
the SmsSender port (End User Messaging SMS on AWS): the same checks first (calling hours, Reg F, DNC), with
consent for automated TEXTS, and the opt-out notice appended; a sent text ends its row (MESSAGE_SENT).

Inputs from outside the dialer, each through one call from where it enters:
- `inbound_text(deps, tenant_id, contact, text)`: a customer's chat / SMS message that is an opt-out keyword
  (STOP, UNSUBSCRIBE … ccaas.domain.outbound.messages) suppresses the sender's number at once, the same
  path as an agent's opted-out disposition and POST /suppressions (called by usecases.analytics on every
  customer message and usecases.contacts on a new text contact).
- `note_conversation(deps, contact)` / the contact records `record_ctr_outcome` reads: a finished voice
  contact an agent talked on (not a campaign call) starts Reg F's 7-day quiet period for the person's
  numbers and accounts (contact attributes, the customer profile), unless the contact says the person gave
  direct consent to be called (attribute `direct_consent`).
- A running campaign whose rows are all final (no row left in the due index) completes by itself: status
  COMPLETED and a `campaign.completed` event; the sweep stops ticking it once its calls in flight have ended.
  A callback requested on one of its rows afterwards reopens it (RUNNING) for that call (`dispose_contact`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from ccaas.bootstrap import Dependencies
from ccaas.domain.customers import normalise_email
from ccaas.domain.events import Event
from ccaas.domain.vocabulary import (NAME_PATTERN, Bool, Channel, Conflict, ContactState, DomainError, InitiationMethod,
                                     IsoDateTime, NotFound, RequiredSkill, SortedSet, iso_8601_date_text,
                                     iso_8601_date_time_text, shown_value, within_calendar)
from ccaas.domain.outbound.compliance import (
    AbandonmentStats,
    CallbackState,
    Decision,
    Suppression,
    agent_too_late,
    callback_state,
    check_attempt,
    consent_channel,
    pacing_mode,
)
from ccaas.domain.outbound.messages import is_opt_out, sms_text
from ccaas.domain.outbound.metrics import agent_disposition_counts, counter_day, outcome_metrics
from ccaas.domain.outbound.models import (
    AGENT_DISPOSITIONS,
    CALLBACK_MAX_AHEAD,
    Attempt,
    CallbackRequest,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckResult,
    ConsentFlag,
    Disposition,
    ListError,
)
from ccaas.domain.outbound.pacing import TICK_S, PacingState, dials_to_place
from ccaas.domain.spreadsheet import safe_cell
from ccaas.domain.routing_engine.synthetic import is_synthetic
from ccaas.usecases.tenancy import owns_connect_instance, owns_sms_sender
from ccaas.ports_outbound import (
    IN_FLIGHT,
    RINGING,
    AgentHandouts,
    AnswerHandout,
    AttemptLedger,
    AttemptRecord,
    CarrierOutcome,
    ConsentSeen,
    DialerSettings,
    DialRequest,
    LedgerKind,
    SmsRequest,
    StoredRow,
    ledger_keys,
    new_attempt_id,
)

if TYPE_CHECKING:  # annotations only: recording a dial's outcome builds no contact entity (nor its routing plan)
    from ccaas.domain.kpis.ctr import ConnectCtr  # read_dial_record loads it with the first record
    from ccaas.domain.models import Agent, Contact

logger = logging.getLogger(__name__)
UTC = timezone.utc

DIALER_SETTINGS = "outbound_dialer"  # the tenant's settings document naming its dialer
MAX_UPLOAD_ROWS = 10_000             # rows per upload request; a list is loaded in several uploads
MAX_UPLOAD_NUMBERS = 20_000          # phone numbers per upload (~0.3 ms each to parse and zone): it fits serve_api's time
# CSV text per upload: the route's body limit (api.request_body.LIST_UPLOAD_MAX_BODY_BYTES, 4 MiB), in characters. A
# character is at least a byte, so any body under the limit fits: above it the body is a 413, never a 422 here.
MAX_UPLOAD_CSV_CHARS = 4 * 1_048_576
ROW_GUARD = timedelta(minutes=10)    # a dialed row is not picked again before its outcome (or this long)
BUSY_NUMBER_WAIT = timedelta(minutes=2)  # a row whose number is in a call now is due again this much later
ABANDON_DAYS = 31                    # day buckets covering the rolling 30 days
ANSWER_RATE_DAYS = 7
DEFAULT_ANSWER_RATE = 0.3
MIN_OUTCOMES_FOR_RATE = 20
ROWS_PER_DIAL = 3                    # due rows read per dial wanted (blocked rows are skipped)
TALK_READ_MARGIN = timedelta(minutes=5)  # a tick's checks span seconds: one conversation read covers them all
MAX_ROWS_PER_TICK = 200
CAMPAIGN_ATTRIBUTES = ("campaign_id", "row_id", "attempt_id")  # on an OUTBOUND contact: its attempt
CAMPAIGN_COMPLETED = "campaign.completed"  # the event a campaign whose rows are all final publishes
TEXT_CHANNELS = frozenset({Channel.SMS, Channel.CHAT, Channel.SOCIAL})  # where a customer may text STOP
SENDER_ATTRIBUTES = ("customer_endpoint", "customer_phone", "phone_number", "phone")  # the customer's number
ACCOUNT_ATTRIBUTES = ("account_id", "debt_id")
MESSAGE_ATTRIBUTES = ("message", "text", "body")  # a new text contact's first message, when an integration sets it
_TRUE = frozenset({"true", "yes", "1", "y"})


# --- request models (derived from the domain's Campaign: one declaration of every field) ---------------
# The API's request and result models here are built by their first use (pydantic's defer_build): the dialer
# and the outcome consumer import this module and never build them at their cold start.
_SYSTEM_FIELDS = ("status", "version")
# What a client sends is ISO 8601 text (vocabulary.iso_8601_date_text): pydantic would read 1798156800 or "20261225"
# as a date. Its years stay _check_rules' (a 422 naming `blackout_dates`); a stored campaign is read as it was saved.
_BlackoutDate = Annotated[date, BeforeValidator(iso_8601_date_text)]
# The fields a request reads more strictly than a stored campaign loads: blackout dates as text (above), and a
# required skill "name:value" with its value (vocabulary.RequiredSkill, the queues' and agents' rule: a 422 naming
# `required_skills[i].skill`); a campaign stored with "language:" before the rule still loads (SkillRequirement).
_WRITTEN_AS = {"blackout_dates": SortedSet[_BlackoutDate], "required_skills": tuple[RequiredSkill, ...]}


def _request_fields() -> dict[str, tuple[Any, Any]]:
    """Campaign's fields a request may set, each with its bounds; stricter where _WRITTEN_AS says."""
    return {name: (_WRITTEN_AS.get(name, f.annotation), f) for name, f in Campaign.model_fields.items()
            if name not in _SYSTEM_FIELDS}


def _request_model() -> type[BaseModel]:
    fields = _request_fields()
    model = create_model("CampaignRequest", __config__=ConfigDict(extra="forbid", defer_build=True), **fields)  # type: ignore[call-overload]
    model.__doc__ = "POST /campaigns: a new campaign (status draft, version 1); see the README for each rule."
    return model


def _patch_model() -> type[BaseModel]:
    # Each field keeps its constraints (strictness and bounds: `true` is no max_abandon_rate), only optional.
    fields = {name: (Optional[Annotated[(annotation, *f.metadata)] if f.metadata else annotation],  # noqa: UP045
                     Field(default=None, description=f.description))
              for name, (annotation, f) in _request_fields().items() if name != "campaign_id"}
    model = create_model("CampaignPatch", __config__=ConfigDict(extra="forbid", defer_build=True), **fields)  # type: ignore[call-overload]
    model.__doc__ = "PATCH /campaigns/{id}: the fields to change; the rest stay. Applies from the next attempt."
    return model


CampaignRequest = _request_model()
CampaignPatch = _patch_model()


def _supported_region(v: str) -> str:
    from phonenumbers import SUPPORTED_REGIONS  # noqa: PLC0415 - only uploads need it (the dialer's cold start)

    if v not in SUPPORTED_REGIONS:
        raise ValueError(f"{v!r} is not a region phone numbers are parsed for (ISO 3166 alpha-2, e.g. US, GB)")
    return v


# The region of numbers written without + (national format): an upload's, a suppression's and a consent's alike,
# so "312 345 6789" suppressed for an Italian list is the Italian number the list holds, not a Chicago one.
Region = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="default region of numbers without + (a region "
                                                                  "phonenumbers supports)"),
                   AfterValidator(_supported_region)]


class ListUpload(BaseModel):
    """POST /campaigns/{id}/lists: CSV text (`format: csv`, `content`) or JSON rows (`format: json`, `rows`).
    The raw file itself is taken too, as the body with `Content-Type: text/csv` (`upload_csv_text`).

    `rows` takes any JSON value per item: an item that is no object (null, a string, a list) is one row
    error ("must be an object") at its index, never a 422 of the whole upload."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    format: Literal["csv", "json"] = "json"
    content: str | None = Field(default=None, max_length=MAX_UPLOAD_CSV_CHARS,
                                description="the CSV text, header line first")
    rows: list[Any] | None = Field(default=None, max_length=MAX_UPLOAD_ROWS,
                                   description=f"JSON rows (objects), at most {MAX_UPLOAD_ROWS} per upload")
    region: Region = "US"


class ListUploadResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    campaign_id: str
    accepted: int
    rejected: int = Field(description="rows with at least one error (none of them stored)")
    total: int
    error_count: int
    errors: list[ListError] = Field(description="line (CSV: the file's line, header = 1; JSON: 1-based index) and field")
    warnings: list[ListError] = Field(
        default_factory=list, description="loaded rows worth a look: a number an earlier row of the upload named "
                                          "(\"duplicate of line N\"; never called twice at once)")
    row_ids: str = Field(default="", description="the ids of this upload's rows that name no row_id: `line-<n>.<upload>` "
                                              "with n the row's line (GET /campaigns/{id}/rows/{row_id})")


class SuppressionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["number", "email", "account"]
    value: str = Field(min_length=1, max_length=254)


class SuppressionRequest(BaseModel):
    """POST /suppressions: opt-outs and do-not-call entries, honoured by the very next check."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    entries: list[SuppressionEntry] = Field(min_length=1, max_length=1000)
    region: Region = "US"
    source: str = Field(default="api", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="e.g. api, internal_dnc, list:<name>, sms_stop")


class SuppressionResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    stored: int
    numbers: list[str] = Field(default_factory=list, description="the numbers suppressed, as stored (E.164)")


class ConsentRequest(BaseModel):
    """POST /consents: a grant or a revocation of prior express consent for automated calls or texts to a
    number; the latest record wins over the list's flag at the next check (a revocation wins a tie)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    number: str = Field(min_length=3, max_length=32, description="the number, E.164 or national (of `region`)")
    region: Region = "US"
    kind: Literal["voice", "sms"] = "voice"
    granted: Bool
    source: str = Field(default="api", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="where it was given or revoked: web_form:signup, ivr, sms_stop, agent ...")
    at: IsoDateTime | None = Field(default=None, description="when (ISO 8601 with offset); default now")


class ConsentResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    number: str
    kind: Literal["voice", "sms"]
    granted: bool = Field(description="what the latest record on file says now")


class DispositionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    disposition: Disposition = Field(description="right_party_contact, callback_requested, wrong_party, voicemail, "
                                                 "answering_machine, opted_out or invalid_number")
    # ISO 8601 text (a number was read as an epoch), with its offset (AwareDatetime): the person's own clock time.
    callback_at: Annotated[AwareDatetime, BeforeValidator(iso_8601_date_time_text)] | None = Field(
        default=None, validate_default=True,
        description="callback_requested only (required): when the person asked to be called back, ISO 8601 with an "
                    "offset, in the future and at most 30 days after the call")

    @field_validator("callback_at")
    @classmethod
    def _callback_only_when_requested(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        requested = info.data.get("disposition") is Disposition.CALLBACK_REQUESTED
        if requested and v is None:
            raise ValueError("required with the disposition callback_requested")
        if not requested and v is not None and "disposition" in info.data:
            raise ValueError("only with the disposition callback_requested")
        return v


@dataclass
class TickResult:
    tenant_id: str
    campaign_id: str
    mode: str = ""
    wanted: int = 0
    dialed: int = 0
    blocked: int = 0
    deferred: int = 0
    ended: int = 0
    conflicts: int = 0
    outcomes: int = 0
    dial_errors: int = 0
    previews: int = 0  # preview records offered to agents (each dialed when its agent says so)
    texts: int = 0     # agentless SMS handed to the carrier
    number_busy: int = 0  # rows deferred because a call to their number was in flight (never two at once)
    rows_read: int = 0
    completed: bool = False  # every row was final: the campaign completed in this tick
    overlapped: bool = False  # another tick held the lease of a queue the campaign's agents serve: this one dialed nothing
    in_flight: int = 0  # the campaign's calls with no outcome yet (placed in the last IN_FLIGHT), after polling
    blocks: dict[str, int] = field(default_factory=dict)
    outcome_counts: dict[str, int] = field(default_factory=dict)  # the carrier outcomes' metric counts (metrics.outcome_metrics)


@dataclass
class SweepResult:
    campaigns: int = 0
    ticks: list[TickResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dialed(self) -> int:
        return sum(t.dialed for t in self.ticks)


# --- helpers -----------------------------------------------------------------------------------------------

def _now(deps: Dependencies) -> datetime:
    return datetime.fromtimestamp(deps.clock.now_ms() / 1000, tz=UTC)


_day = counter_day


def _retrying(operation: Callable[[], Any], attempts: int = 5) -> Any:
    for attempt in range(attempts):
        try:
            return operation()
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def dialer_settings(deps: Dependencies, tenant_id: str) -> DialerSettings | None:
    """The tenant's dialer; None when it has none, or when its Connect instance is not (or no longer) the
    tenant's: the dialer's grant covers every instance the deployment configures, so settings stored before
    the check, or an instance moved to another tenant since, must not dial through another business's instance."""
    raw = deps.config.get_settings(tenant_id, DIALER_SETTINGS)
    if raw is None:
        return None
    try:
        settings = DialerSettings.model_validate(raw)
    except ValidationError as error:
        # Saved before a rule it breaks (a simulated carrier's outcome probabilities over 1, which failed every
        # dialing tick): no dialer, as for a foreign instance, until saved again. What is wrong, never the values.
        logger.warning("dialer settings break a rule added since they were saved: nothing dialed (PUT "
                       "/settings/outbound again)", extra={"tenant_id": tenant_id, "problems": [
                           {"field": ".".join(map(str, e["loc"])), "type": e["type"]}
                           for e in error.errors(include_input=False, include_url=False)]})
        return None
    if settings.kind == "connect" and not owns_connect_instance(deps, tenant_id, settings.instance_arn):
        logger.warning("dialer settings name no Connect instance of the tenant: nothing dialed (PUT /settings/outbound "
                       "with its instance_arn)", extra={"tenant_id": tenant_id})
        return None
    return settings


def put_dialer_settings(deps: Dependencies, tenant_id: str, settings: DialerSettings) -> DialerSettings:
    if settings.kind == "connect" and not (settings.instance_arn and settings.contact_flow_id):
        raise DomainError("a connect dialer needs instance_arn and contact_flow_id", field="instance_arn")
    if settings.kind == "connect" and not owns_connect_instance(deps, tenant_id, settings.instance_arn):
        raise DomainError("not an Amazon Connect instance of this tenant (register it with the admin tool): the dialer "
                          "may reach every instance the deployment configures", field="instance_arn")
    foreign = _foreign_sms_sender(deps, tenant_id, settings, caller_id=None)
    if foreign is not None:
        kind, field_name = foreign
        raise DomainError(f"not an End User Messaging SMS {kind} of this tenant (register it with the admin tool): the "
                          "dialer may send from every identity of the account", field=field_name)
    deps.config.put_settings(tenant_id, DIALER_SETTINGS, settings.model_dump(mode="json"))
    return settings


# --- campaigns ---------------------------------------------------------------------------------------------

def _require_queue(deps: Dependencies, tenant_id: str, queue_id: str, mode: CampaignMode) -> None:
    try:
        queue = deps.config.get_queue(tenant_id, queue_id)
    except NotFound:
        raise DomainError(f"queue {shown_value(queue_id)} does not exist", field="queue_id") from None
    if mode is not CampaignMode.AGENTLESS and Channel.VOICE not in queue.channels:
        raise DomainError(f"queue {shown_value(queue_id)} takes no VOICE contacts", field="queue_id")


def _check_rules(campaign: Campaign, changed: Iterable[str]) -> None:
    """What a campaign's body may not say beyond its model's bounds, checked on the fields a request sets (a campaign
    stored before a check was added still loads and dials under the stricter reading, e.g. `rule_for`): a caller id
    the business must not show (premium-rate, personal, satellite: the check list rows and callback numbers get), a
    retry after an outcome that ends the row or number, a blackout date outside the years every body time keeps."""
    changed = set(changed)
    if "caller_id" in changed:
        from ccaas.domain.destinations import require_destination  # noqa: PLC0415 - phonenumbers: only saving campaigns

        require_destination(campaign.caller_id, "caller_id", "caller_id")
    if "policy" in changed:
        for disposition in campaign.policy.loosened():
            raise DomainError(f"policy.retry.{disposition}: {disposition} is never retried (after_minutes null or leave "
                              "it out)", field=f"policy.retry.{disposition}")
    if "blackout_dates" in changed:
        for day in sorted(campaign.blackout_dates):
            try:
                within_calendar(day)
            except ValueError as exc:
                raise DomainError(f"blackout_dates: {exc}", field="blackout_dates") from None


def create_campaign(deps: Dependencies, tenant_id: str, body: BaseModel) -> Campaign:
    campaign = Campaign.model_validate({**body.model_dump(), "status": CampaignStatus.DRAFT, "version": 1})
    _check_rules(campaign, Campaign.model_fields)
    _require_queue(deps, tenant_id, campaign.queue_id, campaign.mode)
    deps.outbound.put_campaign(tenant_id, campaign, expected_version=None)
    return campaign


def get_campaign(deps: Dependencies, tenant_id: str, campaign_id: str) -> Campaign:
    return deps.outbound.get_campaign(tenant_id, campaign_id)


def list_campaigns(deps: Dependencies, tenant_id: str) -> list[Campaign]:
    return deps.outbound.list_campaigns(tenant_id)


def update_campaign(deps: Dependencies, tenant_id: str, campaign_id: str, patch: BaseModel) -> Campaign:
    """Change the rules. Every check reads the campaign it dials under and the attempt write is conditioned
    on that version, so a change applies from the next attempt and never allows one retroactively."""
    changes = patch.model_dump(exclude_unset=True)

    def attempt() -> Campaign:
        current = deps.outbound.get_campaign(tenant_id, campaign_id)
        if current.status in (CampaignStatus.STOPPED, CampaignStatus.COMPLETED):
            raise Conflict(f"campaign {shown_value(campaign_id)} is {current.status}", field="status")
        merged = {**current.model_dump(), **changes, "version": current.version + 1}
        updated = Campaign.model_validate(merged)
        _check_rules(updated, changes)
        if "queue_id" in changes or "mode" in changes:
            _require_queue(deps, tenant_id, updated.queue_id, updated.mode)
        deps.outbound.put_campaign(tenant_id, updated, expected_version=current.version)
        return updated

    return _retrying(attempt)


_TRANSITIONS: dict[str, tuple[frozenset[CampaignStatus], CampaignStatus]] = {
    "start": (frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED}), CampaignStatus.RUNNING),
    "pause": (frozenset({CampaignStatus.RUNNING}), CampaignStatus.PAUSED),
    "stop": (frozenset({CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED}), CampaignStatus.STOPPED),
}


def change_status(deps: Dependencies, tenant_id: str, campaign_id: str, action: Literal["start", "pause", "stop"]) -> Campaign:
    sources, target = _TRANSITIONS[action]

    def attempt() -> Campaign:
        current = deps.outbound.get_campaign(tenant_id, campaign_id)
        if current.status is target:
            return current  # idempotent
        if current.status not in sources:
            raise Conflict(f"campaign {shown_value(campaign_id)} is {current.status}; it cannot {action}", field="status")
        if target is CampaignStatus.RUNNING and dialer_settings(deps, tenant_id) is None:
            raise Conflict("no dialer configured: PUT /settings/outbound first", field="status")
        return _put_status(deps, tenant_id, current, target)

    return _retrying(attempt)


def _put_status(deps: Dependencies, tenant_id: str, current: Campaign, status: CampaignStatus) -> Campaign:
    """The campaign at `status`, written over the version read (Conflict: it changed meanwhile)."""
    updated = current.model_copy(update={"status": status, "version": current.version + 1})
    deps.outbound.put_campaign(tenant_id, updated, expected_version=current.version)
    return updated


# --- lists -------------------------------------------------------------------------------------------------

def parse_number(raw: str, region: str = "US") -> tuple[str, tuple[str, ...]]:
    """ccaas.domain.outbound.lists.parse_number, imported on first use: the list parser and phonenumbers
    stay out of the cold start of functions that never parse a number (the dialer, its outcomes)."""
    from ccaas.domain.outbound.lists import parse_number as parse  # noqa: PLC0415

    return parse(raw, region)


def _row_redaction() -> Callable[[Mapping[str, str]], dict[str, str]]:
    """How a row's extra columns (`attributes`) are stored: never holding a card or social security number,
    like a contact's attributes (always: `redaction.contact_attributes` is never off)."""
    from ccaas.domain.analytics.redaction import redact_attributes  # noqa: PLC0415 - only list uploads

    return redact_attributes


def upload_list(deps: Dependencies, tenant_id: str, campaign_id: str, upload: ListUpload) -> ListUploadResult:
    """Parse, report every bad row with its line and field, store the good ones (due now)."""
    from ccaas.domain.outbound.lists import parse_csv, parse_json  # noqa: PLC0415 - see parse_number

    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    if campaign.status in (CampaignStatus.STOPPED, CampaignStatus.COMPLETED):
        raise Conflict(f"campaign {shown_value(campaign_id)} is {campaign.status}", field="status")
    if upload.format == "csv":
        if upload.content is None:
            raise DomainError("a csv upload carries the CSV text in content", field="content")
        parsed = parse_csv(upload.content, region=upload.region, max_rows=MAX_UPLOAD_ROWS, max_numbers=MAX_UPLOAD_NUMBERS,
                           redact=_row_redaction(), received_at=_now(deps))
    else:
        if upload.rows is None:
            raise DomainError("a json upload carries its rows in rows", field="rows")
        parsed = parse_json(upload.rows, region=upload.region, max_rows=MAX_UPLOAD_ROWS, max_numbers=MAX_UPLOAD_NUMBERS,
                            redact=_row_redaction(), received_at=_now(deps))
    if parsed.rows:
        deps.outbound.put_rows(tenant_id, campaign_id, parsed.rows, _now(deps))
    rejected = max(0, parsed.total - parsed.accepted)  # rows with an error (the header's problems are no row)
    return ListUploadResult(campaign_id=campaign_id, accepted=parsed.accepted, rejected=rejected,
                            total=parsed.total, error_count=parsed.error_count, errors=list(parsed.errors),
                            warnings=list(parsed.warnings), row_ids=f"line-<n>.{parsed.upload}" if parsed.upload else "")


CSV_MEDIA_TYPES = ("text/csv", "application/csv")


def upload_csv_text(deps: Dependencies, tenant_id: str, campaign_id: str, text: str, region: str = "US") -> ListUploadResult:
    """POST /campaigns/{id}/lists with `Content-Type: text/csv`: the raw file as the body (UTF-8, a BOM
    allowed); the same parsing and per-line, per-field report as a CSV in JSON."""
    if not text.strip():
        raise DomainError("the CSV body is empty: send the header line and the rows", field="body")
    try:
        upload = ListUpload(format="csv", content=text, region=region)
    except ValidationError as exc:  # too long, or a region that is not a two-letter code
        first = exc.errors()[0]
        field_name = "region" if "region" in first["loc"] else "body"
        raise DomainError(f"{field_name}: {first['msg']}", field=field_name) from None
    from ccaas.domain.outbound.lists import NothingToLoad  # noqa: PLC0415 - see parse_number

    try:
        return upload_list(deps, tenant_id, campaign_id, upload)
    except NothingToLoad as exc:  # the body is the file: blame it, as an empty one
        raise NothingToLoad("body: " + str(exc).removeprefix("content: "), field="body") from None


# --- suppression, consent ------------------------------------------------------------------------------------

def add_suppressions(deps: Dependencies, tenant_id: str, request: SuppressionRequest) -> SuppressionResult:
    from ccaas.domain.analytics.redaction import redact_attributes  # noqa: PLC0415 - see _row_redaction
    from ccaas.domain.outbound.lists import SENSITIVE_ID, holds_card_or_ssn  # noqa: PLC0415 - see parse_number

    at = _now(deps)
    entries = []
    for i, entry in enumerate(request.entries):
        value = entry.value.strip()
        if entry.kind == "number":
            try:
                value, _ = parse_number(value, request.region)
            except ValueError as exc:
                raise DomainError(f"entries.{i}.value: {exc}", field=f"entries.{i}.value") from None
        elif entry.kind == "email":
            try:  # as list rows and the customer directory read one (NFKC, lower case, a real address): they match
                value = normalise_email(value)
            except ValueError as exc:  # its reason never quotes the value
                raise DomainError(f"entries.{i}.value: {exc}", field=f"entries.{i}.value") from None
        elif entry.kind == "account" and holds_card_or_ssn("account_id", value, redact_attributes):
            # an account id is a key, as a list row's: a card or SSN is refused (nothing stored), never kept in clear
            raise DomainError(f"entries.{i}.value: {SENSITIVE_ID}", field=f"entries.{i}.value")
        entries.append(Suppression(kind=entry.kind, value=value, source=request.source, at=at))
    return SuppressionResult(stored=deps.outbound.add_suppressions(tenant_id, entries),
                             numbers=[e.value for e in entries if e.kind == "number"])


def opt_out(deps: Dependencies, tenant_id: str, number: str | None, account_id: str | None, source: str) -> None:
    """An opt-out from any channel: the number (and the account) are suppressed for every later check."""
    at = _now(deps)
    entries = [Suppression(kind="number", value=number, source=source, at=at)] if number else []
    if account_id:
        entries.append(Suppression(kind="account", value=account_id, source=source, at=at))
    if entries:
        deps.outbound.add_suppressions(tenant_id, entries)


def record_consent(deps: Dependencies, tenant_id: str, request: ConsentRequest) -> ConsentResult:
    try:
        number, _ = parse_number(request.number, request.region)
    except ValueError as exc:
        raise DomainError(f"number: {exc}", field="number") from None
    at = request.at or _now(deps)
    if at.tzinfo is None or at.utcoffset() is None:  # years: the request's IsoDateTime
        raise DomainError("at needs a UTC offset", field="at")
    from ccaas.domain.outbound.lists import CONSENT_CLOCK_SKEW  # noqa: PLC0415 - see parse_number

    if at > _now(deps) + CONSENT_CLOCK_SKEW:  # it would beat a revocation made before that time
        raise DomainError("at: in the future (is the UTC offset right?)", field="at")
    deps.outbound.put_consent(tenant_id, number, request.kind,
                              ConsentFlag(granted=request.granted, source=request.source, at=at))
    latest = deps.outbound.latest_consent(tenant_id, number, request.kind)
    return ConsentResult(number=number, kind=request.kind, granted=bool(latest and latest.granted))


# --- inputs from other channels: opt-out texts, conversations outside the dialer ---------------------------

def _number(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return parse_number(raw)[0]
    except ValueError:
        return None


def _person(deps: Dependencies, tenant_id: str, contact: Contact) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numbers, accounts) a contact names its customer by: the endpoint the contact came from (attributes
    customer_endpoint / customer_phone / phone_number / phone), its callback number, the customer profile's
    numbers, and the account ids of the contact's attributes and of the profile."""
    numbers = [n for n in (_number(contact.attributes.get(k)) for k in SENDER_ATTRIBUTES) if n]
    numbers += [n for n in (_number(contact.callback_number),) if n]
    accounts = [contact.attributes[k].strip() for k in ACCOUNT_ATTRIBUTES if (contact.attributes.get(k) or "").strip()]
    if contact.customer_id:
        profile = deps.customers.get(tenant_id, contact.customer_id)
        if profile is not None:
            numbers += [n for n in (_number(p) for p in profile.phones) if n]
            accounts += [profile.attributes[k].strip() for k in ACCOUNT_ATTRIBUTES if (profile.attributes.get(k) or "").strip()]
    return tuple(dict.fromkeys(numbers)), tuple(dict.fromkeys(a for a in accounts if len(a) <= 128))


def _sender(deps: Dependencies, tenant_id: str, contact: Contact) -> tuple[str, ...]:
    """The number a text came from: the contact's endpoint when it names one; else every number of the
    customer's profile (the sender is one of them: all are opted out rather than the wrong one)."""
    for key in SENDER_ATTRIBUTES:
        number = _number(contact.attributes.get(key))
        if number:
            return (number,)
    return _person(deps, tenant_id, contact)[0]


def inbound_text(deps: Dependencies, tenant_id: str, contact: Contact, text: str | None) -> tuple[str, ...]:
    """A customer's text on a chat / SMS contact: when the whole message is an opt-out keyword, the
    sender's number is suppressed at once (`opt_out`, source `<channel>_stop`), for every campaign's very
    next check and attempt write. Returns the numbers opted out (none: not an opt-out, or no number known)."""
    if contact.channel not in TEXT_CHANNELS or not is_opt_out(text):
        return ()
    numbers = _sender(deps, tenant_id, contact)
    source = f"{contact.channel.value.lower()}_stop"
    for number in numbers:
        opt_out(deps, tenant_id, number, None, source)
    if numbers:
        logger.info("opt-out keyword honoured", extra={"tenant_id": tenant_id, "contact_id": contact.contact_id,
                                                       "numbers": len(numbers), "source": source})
    return numbers


class UnknownTextNumber(LookupError):
    """A text came to a number no tenant registered (admin.register_sms_sender ID origination +E164): its reply
    cannot be honoured for anyone; the delivery fails (retried, then the dead-letter queue)."""


def inbound_sms(deps: Dependencies, message: str) -> tuple[str, ...]:
    """A text a customer sent to a tenant's number, as AWS End User Messaging SMS publishes it to the stack's
    inbound-texts topic (two-way SMS; JSON with originationNumber, destinationNumber, messageBody). The tenant is
    the one the destination number is registered to as an origination; a whole-message opt-out keyword
    (`is_opt_out`) suppresses the sender's number at once, for every campaign's next check, calls included:
    End User Messaging's own opt-out list stops only further texts. Returns the numbers opted out. ValueError for
    a message that is not such a payload, UnknownTextNumber for a destination no tenant registered."""
    try:
        payload = json.loads(message)
    except ValueError:
        raise ValueError("an inbound text is a JSON object (End User Messaging two-way SMS)") from None
    if not isinstance(payload, dict):
        raise ValueError("an inbound text is a JSON object (End User Messaging two-way SMS)")
    destination, sender, body = (payload.get(k) for k in ("destinationNumber", "originationNumber", "messageBody"))
    if not isinstance(destination, str) or not isinstance(sender, str) or not isinstance(body, str):
        raise ValueError("an inbound text names destinationNumber, originationNumber and messageBody (strings)")
    tenant_id = deps.config.tenant_for_sms_sender("origination", destination.strip())
    if tenant_id is None:
        raise UnknownTextNumber("a text to a number no tenant registered as an SMS origination")
    if not is_opt_out(body):
        return ()
    number = _number(sender)
    if number is None:
        raise ValueError("originationNumber is not a phone number")
    opt_out(deps, tenant_id, number, None, "sms_stop")
    logger.info("opt-out keyword honoured", extra={"tenant_id": tenant_id, "numbers": 1, "source": "sms_stop"})
    return (number,)


def inbound_message(deps: Dependencies, tenant_id: str, contact: Contact, role: str, text: str | None) -> tuple[str, ...]:
    """A chat / SMS message posted on a contact (POST /contacts/{id}/messages): the customer's (role
    CUSTOMER) goes through `inbound_text`; an agent's or the system's is never an opt-out."""
    return inbound_text(deps, tenant_id, contact, text) if str(role) == "CUSTOMER" else ()


def inbound_contact(deps: Dependencies, tenant_id: str, contact: Contact) -> tuple[str, ...]:
    """A new text contact whose first message (its reason, or attribute message / text / body) is an opt-out
    keyword: the same as `inbound_text`. A contact our campaigns made (OUTBOUND) carries no customer text.
    Called while a contact is created: a failure to store the opt-out is logged (ERROR), never fails the contact."""
    if contact.channel not in TEXT_CHANNELS or contact.initiation_method is InitiationMethod.OUTBOUND:
        return ()
    for text in (contact.reason, *(contact.attributes.get(k) for k in MESSAGE_ATTRIBUTES)):
        if is_opt_out(text):
            try:
                return inbound_text(deps, tenant_id, contact, text)
            except Exception:  # noqa: BLE001 - the contact goes on; the failure is loud in the logs
                logger.exception("opt-out keyword not stored", extra={"tenant_id": tenant_id, "contact_id": contact.contact_id})
                return ()
    return ()


def _campaign_call(deps: Dependencies, tenant_id: str, contact: Contact) -> bool:
    """Whether the contact is our dialer's call (or a later segment of one): only then are its campaign
    attributes (attempt_id, preview, ...) the system's. Any integration can send those names on the contacts
    it makes, and an inbound conversation must not escape Reg F's quiet period by carrying them."""
    if contact.initiation_method is InitiationMethod.OUTBOUND:
        return True
    if contact.initiation_method is not InitiationMethod.TRANSFER or not contact.initial_contact_id:
        return False
    try:
        first = deps.store.get_contact(tenant_id, contact.initial_contact_id)
    except NotFound:
        return False
    return first.initiation_method is InitiationMethod.OUTBOUND


def note_conversation(deps: Dependencies, tenant_id: str, contact: Contact) -> int:
    """A finished voice contact an agent talked on, other than a campaign's own call (whose disposition
    says whether it was the person): a telephone conversation with the customer, so Reg F's 7-day quiet
    period starts for every number and account the contact names (`_person`). Not when the contact says
    the person gave direct consent to be called (attribute direct_consent = true: 12 CFR 1006.14(b)(3)(i)).
    Idempotent (keyed by the contact). Returns how many numbers and accounts were noted."""
    if contact.channel is not Channel.VOICE or contact.connected_at is None or is_synthetic(contact):
        return 0  # a journey test's call talked to no one (its number may well be a customer's)
    if (contact.attributes.get("attempt_id") or contact.attributes.get("preview") == "1") and _campaign_call(
            deps, tenant_id, contact):
        return 0
    if (contact.attributes.get("direct_consent") or "").strip().lower() in _TRUE:
        return 0
    ended = contact.disconnected_at or contact.ended_at
    if ended is None:
        return 0
    at = datetime.fromtimestamp(ended / 1000, tz=UTC)
    try:
        numbers, accounts = _person(deps, tenant_id, contact)
        for number in numbers:
            deps.outbound.add_conversation(tenant_id, "number", number, at, contact.contact_id)
        for account in accounts:
            deps.outbound.add_conversation(tenant_id, "account", account, at, contact.contact_id)
    except Exception:  # noqa: BLE001 - the history step goes on; the failure is loud in the logs
        logger.exception("conversation not noted for Reg F", extra={"tenant_id": tenant_id, "contact_id": contact.contact_id})
        return 0
    return len(numbers) + len(accounts)


def note_ctr_conversation(deps: Dependencies, ctr: DialRecord | Mapping[str, Any] | str | bytes) -> int:
    """The same for an Amazon Connect contact record: a voice contact connected to an agent that our
    dialer did not place; the person by its CustomerEndpoint and the contact's account_id / debt_id."""
    record = read_dial_record(ctr)
    c = record.ctr
    attributes = c.Attributes or {}
    if c.Channel != "VOICE" or attributes.get(f"{CTR_ATTRIBUTE_PREFIX}attempt_id"):
        return 0
    connected = c.Agent.ConnectedToAgentTimestamp if c.Agent else None
    if connected is None or str(attributes.get("direct_consent") or "").lower() in _TRUE:
        return 0
    at = _ctr_time(c.DisconnectTimestamp) or _ctr_time(connected)
    tenant_id = deps.config.tenant_for_connect_instance(c.InstanceARN or "")
    if at is None or tenant_id is None:
        return 0
    keys = [("number", n) for n in (_number(c.CustomerEndpoint.Address if c.CustomerEndpoint else None),) if n]
    # an account id a list row can hold (an id of ours: nothing longer, no control character or lone surrogate)
    keys += [("account", account) for account in (str(attributes.get(k) or "").strip() for k in ACCOUNT_ATTRIBUTES)
             if _OUR_ID.fullmatch(account)]
    for kind, value in keys:
        deps.outbound.add_conversation(tenant_id, kind, value, at, c.ContactId[:128])  # type: ignore[arg-type]
    return len(keys)


# --- the views check_attempt reads -----------------------------------------------------------------------

class _Ledgers:
    """The ledgers of the numbers and debts a tick (or a preview dial) checks: each read strongly consistently
    once, then kept current with its own attempts. An attempt is started with its number's and its debt's, and
    its transaction holds them to these versions (ccaas.ports_outbound.AttemptLedger: the indexes may lag)."""

    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id
        self._held: dict[tuple[LedgerKind, str], AttemptLedger] = {}

    def get(self, kind: LedgerKind, value: str) -> AttemptLedger:
        if (kind, value) not in self._held:
            self._held[(kind, value)] = self._deps.outbound.ledger(self._tenant, kind, value)
        return self._held[(kind, value)]

    def merged(self, kind: LedgerKind, value: str, indexed: Sequence[Attempt], since: datetime) -> list[Attempt]:
        """The index's attempts (which carry outcomes) plus the ledger's the index does not show yet."""
        seen = {a.attempt_id for a in indexed}
        return [*indexed, *(a for a in self.get(kind, value).attempts if a.started_at > since and a.attempt_id not in seen)]

    def of(self, attempt: Attempt) -> list[AttemptLedger]:
        return [self.get(kind, value) for kind, value in ledger_keys(attempt)]

    def stored(self, attempt: Attempt, ledgers: Sequence[AttemptLedger]) -> None:
        """`attempt`, started with `ledgers`, is stored: each is one attempt on."""
        for ledger in ledgers:
            self._held[(ledger.kind, ledger.value)] = ledger.adding(attempt)

    def refused(self, attempt: Attempt) -> None:
        """`attempt` was refused (Conflict): another dialer may have moved its ledgers; read them again."""
        for key in ledger_keys(attempt):
            self._held.pop(key, None)


class _History:
    """AttemptHistory over the store; a debt's attempts are the by-account index's plus its ledger's."""

    def __init__(self, deps: Dependencies, tenant_id: str, ledgers: _Ledgers) -> None:
        self._deps, self._tenant, self._ledgers = deps, tenant_id, ledgers
        self._records: dict[tuple[str, str], list[Attempt]] = {}
        self._talked: dict[tuple[str, str], list[datetime]] = {}

    def account_attempts(self, account_id: str, since: datetime) -> Sequence[Attempt]:
        indexed = self._deps.outbound.account_attempts(self._tenant, account_id, since)
        return self._ledgers.merged("account", account_id, indexed, since)

    def record_attempts(self, campaign_id: str, row_id: str) -> Sequence[Attempt]:
        key = (campaign_id, row_id)
        if key not in self._records:
            self._records[key] = self._deps.outbound.record_attempts(self._tenant, campaign_id, row_id)
        return self._records[key]

    def _talks(self, kind: Literal["number", "account"], value: str, since: datetime) -> Sequence[datetime]:
        """Conversations outside the dialer, read once per tick and key (a row's numbers are checked in turn)."""
        key = (kind, value)
        if key not in self._talked:
            self._talked[key] = self._deps.outbound.conversations(self._tenant, kind, value, since - TALK_READ_MARGIN)
        return [t for t in self._talked[key] if t > since]

    def conversations(self, account_id: str, since: datetime) -> Sequence[datetime]:
        return self._talks("account", account_id, since)

    def number_conversations(self, number: str, since: datetime) -> Sequence[datetime]:
        return self._talks("number", number, since)


class _Suppressions:
    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id

    def match(self, number: str, email: str | None, account_id: str | None) -> Suppression | None:
        return self._deps.outbound.match_suppression(self._tenant, number, email, account_id)


class _Consents:
    """The consent records the checks read, kept so the attempt is stored only while each is unchanged."""

    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id
        self._read: dict[tuple[str, str], ConsentFlag | None] = {}

    def latest(self, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None:
        flag = self._read[(number, kind)] = self._deps.outbound.latest_consent(self._tenant, number, kind)
        return flag

    def seen(self, number: str, kind: Literal["voice", "sms"]) -> ConsentSeen | None:
        """What the check of `number` read (None when it read nothing: a preview dial checks no consent)."""
        if (number, kind) not in self._read:
            return None
        return ConsentSeen(kind=kind, flag=self._read[(number, kind)])


# --- live pacing state -------------------------------------------------------------------------------------

def _campaign_agents(deps: Dependencies, tenant_id: str, campaign: Campaign) -> list[Agent]:
    return [a for a in deps.store.list_agents(tenant_id)
            if a.serves(campaign.queue_id) and a.has_skills(campaign.required_skills)]


def _agent_queues(campaign: Campaign, agents: Sequence[Agent]) -> frozenset[str]:
    """The campaign's queue and every queue its agents serve: a campaign on any of them may count one of these
    agents free, so its calls ringing are subtracted here and its ticks never run beside this campaign's."""
    return frozenset({campaign.queue_id, *(q.queue_id for a in agents for q in a.queues)})


def _free(agent: Agent) -> bool:
    return agent.free_slots(Channel.VOICE) > 0 and not agent.offered_contact_ids


@dataclass(frozen=True)
class _Staffing:
    """The campaign's agents as both the pacer and an answer's hand-out count them (`_staffing`): one reading, so
    the tick never dials for an agent the next answer's hand-out would find held (that answer was dropped)."""

    agents: list[Agent]
    handouts: AgentHandouts  # the campaign queue's, at the version the next hand-out's write holds them to
    waiting: list[AnswerHandout]  # of those, the answers still holding a free agent (`_holds_agent`)
    waiting_elsewhere: int  # answers holding an agent on the agents' other queues

    @property
    def free(self) -> int:
        """Free agents (`_free`) no answer waiting for routing's offer holds."""
        return max(0, sum(1 for a in self.agents if _free(a)) - len(self.waiting) - self.waiting_elsewhere)


def _answers_waiting(deps: Dependencies, tenant_id: str, queue_ids: Iterable[str], now: datetime) -> int:
    return sum(1 for queue_id in sorted(queue_ids) for h in deps.outbound.handouts(tenant_id, queue_id).handouts
               if _holds_agent(deps, tenant_id, h, now))


def _staffing(deps: Dependencies, tenant_id: str, campaign: Campaign, now: datetime,
              queues: frozenset[str] | None = None) -> _Staffing:
    """The campaign's agents and the answers handed out on any queue they serve that routing has not offered yet,
    each holding one free agent. Routing offers a contact after it is made, asynchronously: until then its agent
    still reads as free, to a tick that has just handed it an answer as much as to the next answer (an answer
    rejected back into the queue holds its agent again, within HANDOUT_HOLD). The hand-outs are read before the
    agents: an offer landing between the two reads counts its agent twice (one call fewer), never not at all.
    `queues`: the queues to read hand-outs of (default: those the agents serve now); a queue the agents joined
    since is read too. Conservative: an answer waiting on another queue counts even when its agent is not one of
    this campaign's."""
    queues = queues if queues is not None else _agent_queues(campaign, _campaign_agents(deps, tenant_id, campaign))
    handouts = deps.outbound.handouts(tenant_id, campaign.queue_id)
    waiting = [h for h in handouts.handouts if _holds_agent(deps, tenant_id, h, now)]
    elsewhere = _answers_waiting(deps, tenant_id, queues - {campaign.queue_id}, now)
    agents = _campaign_agents(deps, tenant_id, campaign)
    joined = _agent_queues(campaign, agents) - queues - {campaign.queue_id}  # joined since the first read (rare)
    elsewhere += _answers_waiting(deps, tenant_id, joined, now)
    return _Staffing(agents=agents, handouts=handouts, waiting=waiting, waiting_elsewhere=elsewhere)


def _ringing(record: AttemptRecord, now: datetime) -> bool:
    """A call the pacer placed that may still ring for a free agent: no outcome yet and placed less than RINGING
    ago. Later it was answered (its agent is busy, counted as such: Amazon Connect's record comes only when the
    call ends) or it has ended. A preview's call is not one: its agent holds it."""
    return (record.attempt.disposition is None and record.channel == "voice"
            and record.dial_mode in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)
            and record.attempt.started_at > now - RINGING)


def _calls_ringing(deps: Dependencies, tenant_id: str, campaign: Campaign, own: Sequence[AttemptRecord],
                   now: datetime, queues: frozenset[str]) -> int:
    """The calls ringing for the campaign's agents: its own (`own`, polled) and those of the tenant's other
    campaigns whose calls may be in flight (running, or settling: a paused campaign's calls still ring) on any
    queue its agents serve (`queues`, `_agent_queues`): an agent of two queues is one agent, and each campaign
    counting it free as its own would place a call for it per campaign. Conservative: another queue's calls
    count whole even when only some of its agents are this campaign's (a little under-dialing, never over)."""
    count = sum(1 for r in own if _ringing(r, now))
    settling: set[tuple[str, str]] | None = None
    for other in deps.outbound.list_campaigns(tenant_id):
        if (other.campaign_id == campaign.campaign_id or other.queue_id not in queues
                or other.mode not in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)
                or other.status is CampaignStatus.DRAFT):
            continue
        if other.status is not CampaignStatus.RUNNING:
            settling = set(deps.outbound.settling_campaigns()) if settling is None else settling
            if (tenant_id, other.campaign_id) not in settling:
                continue  # no call of it in flight: nothing to read
        count += sum(1 for r in deps.outbound.campaign_attempts(tenant_id, other.campaign_id, since=now - RINGING)
                     if _ringing(r, now))
    return count


TICK_LEASE = timedelta(seconds=60)  # longer than a dialer invocation may run (58 s): a live tick never outlasts it


@contextmanager
def _queue_lease(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime,
                 result: TickResult) -> Iterator[frozenset[str] | None]:
    """The queues whose leases this tick holds (all released when it ends), None when another tick holds one of
    them (the tick is `overlapped`). Two ticks reading the same free agents and calls in flight before either
    dials would each place a call per free agent: an overlapping or doubled dialer invocation (the scheduler
    delivers at least once), or two campaigns whose agents overlap ticked by two invocations. So a tick leases
    every queue its campaign's agents serve (`_agent_queues`): two campaigns sharing agent x both lease the
    queue of the other (x serves it), whichever queues their other agents serve. Taken in sorted order, none
    waited for: two ticks racing for the same set fail at the first lease of it, not each at a different one."""
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    queues = _agent_queues(campaign, _campaign_agents(deps, tenant_id, campaign))
    owner, held = uuid.uuid4().hex, []
    try:
        for queue_id in sorted(queues):
            if not deps.outbound.acquire_lease(tenant_id, f"dial#{queue_id}", owner, now=now, until=now + TICK_LEASE):
                result.overlapped = True
                yield None
                return
            held.append(queue_id)
        yield queues
    finally:
        for queue_id in reversed(held):
            deps.outbound.release_lease(tenant_id, f"dial#{queue_id}", owner)


def _sum_counts(days: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for counts in days.values():
        for name, n in counts.items():
            out[name] = out.get(name, 0) + int(n)
    return out


def _window_counts(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime, days: int) -> dict[str, int]:
    first = _day(now - timedelta(days=days - 1))
    return _sum_counts(deps.outbound.day_counts(tenant_id, campaign_id, first, _day(now)))


def _human(counts: Mapping[str, int]) -> int:
    return counts.get(f"outcome.{Disposition.ANSWERED}", 0) + counts.get(f"outcome.{Disposition.ABANDONED}", 0)


def abandonment(counts: Mapping[str, int]) -> AbandonmentStats:
    return AbandonmentStats(answered=_human(counts), abandoned=counts.get(f"outcome.{Disposition.ABANDONED}", 0))


def _answer_rate(counts: Mapping[str, int]) -> float:
    outcomes = sum(n for name, n in counts.items() if name.startswith("outcome."))
    return _human(counts) / outcomes if outcomes >= MIN_OUTCOMES_FOR_RATE else DEFAULT_ANSWER_RATE


# --- the dialing loop --------------------------------------------------------------------------------------

def _new_attempt_id(deps: Dependencies, now: datetime) -> str:
    unique = int.from_bytes(hashlib.sha256(deps.ids.new_id().encode()).digest()[:8], "big")
    return new_attempt_id(now, unique)


def dial_tick(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime | None = None,
              tick_s: float = TICK_S) -> TickResult:
    """One step of the dialing loop for one campaign (see the module docstring). What the tick did (attempts,
    blocks) is counted even when it fails part way (a throttled write after some dials): the pacing's rates and
    the campaign's figures read these counters."""
    now = now or _now(deps)
    result = TickResult(tenant_id=tenant_id, campaign_id=campaign_id)
    try:
        with _queue_lease(deps, tenant_id, campaign_id, now, result) as leased:
            if leased is not None:
                _tick(deps, tenant_id, campaign_id, now, result, tick_s, leased)
    finally:
        _count(deps, result, now)
    return result


def _tick(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime, result: TickResult,
          tick_s: float, leased: frozenset[str]) -> None:
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    running = campaign.status is CampaignStatus.RUNNING
    settings = dialer_settings(deps, tenant_id)
    if settings is None:
        if running:
            logger.warning("campaign running without a dialer", extra={"tenant_id": tenant_id, "campaign_id": campaign_id})
        else:
            deps.outbound.settled(tenant_id, campaign_id, campaign.version)  # no dialer to poll its calls with
        return
    dialer = deps.dialers(settings)

    # 1. outcomes the dialer knows by now (the simulated carrier; Connect's come as contact records), whatever the
    #    status: the calls a paused, stopped or completed campaign placed still end (`settling_campaigns`)
    in_flight = []
    for record in deps.outbound.campaign_attempts(tenant_id, campaign_id, since=now - IN_FLIGHT):
        if record.attempt.disposition is not None or record.channel == "sms":
            continue  # a text's outcome is recorded when it is sent
        outcome = dialer.poll(record, now)
        if outcome is None:
            in_flight.append(record)
            continue
        try:
            done = record_outcome(deps, tenant_id, campaign_id, record.attempt.row_id, record.attempt_id, outcome,
                                  contact_id=record.contact_id if record.dial_mode is CampaignMode.PREVIEW else None)
        except Conflict:
            continue  # another writer recorded it first
        result.outcomes += 1
        if done.attempt.disposition is not None:
            for name, n in outcome_metrics(done.attempt.disposition, connected=done.contact_id is not None).items():
                result.outcome_counts[name] = result.outcome_counts.get(name, 0) + n
    result.in_flight = len(in_flight)
    if not running:
        if not in_flight:
            deps.outbound.settled(tenant_id, campaign_id, campaign.version)
        return

    # 2. pacing from live data: the free agents no answer handed out (step 1's too) holds, as `_hand_out` counts them
    staffing = _staffing(deps, tenant_id, campaign, now, leased)
    agents = staffing.agents
    queues = _agent_queues(campaign, agents)
    if not queues <= leased:
        # an agent joined another queue (or the campaign's queue or skills changed) since the leases were taken:
        # a tick of that queue's campaigns may read the agent now; the next tick leases it
        logger.info("campaign agents' queues changed under the tick",
                    extra={"tenant_id": tenant_id, "campaign_id": campaign_id})
        result.overlapped = True
        return
    counts30 = _window_counts(deps, tenant_id, campaign_id, now, ABANDON_DAYS)
    stats = abandonment(counts30)
    mode = pacing_mode(campaign, stats)
    result.mode = str(mode)
    if mode is CampaignMode.PREVIEW:
        free = staffing.free - _calls_ringing(deps, tenant_id, campaign, in_flight, now, queues)
        _offer_previews(deps, campaign, max(0, free), now, result)
        _complete_if_final(deps, campaign, counts30, now, result)
        return
    state = PacingState(
        agents_free=staffing.free,
        agents_on_call=sum(1 for a in agents if a.active.get(Channel.VOICE) and not a.acw_contact_ids),
        agents_in_wrap_up=sum(1 for a in agents if a.acw_contact_ids),
        # agentless: its own lines; else the calls ringing for the queue's agents (a connected one's agent is busy)
        calls_in_flight=(len(in_flight) if mode is CampaignMode.AGENTLESS
                         else _calls_ringing(deps, tenant_id, campaign, in_flight, now, queues)),
        answer_rate=_answer_rate(_window_counts(deps, tenant_id, campaign_id, now, ANSWER_RATE_DAYS)),
        answered_30d=stats.answered,
        abandoned_30d=stats.abandoned,
        max_abandon_rate=campaign.max_abandon_rate,
        max_dials=MAX_ROWS_PER_TICK,
        tick_s=tick_s,  # agentless: calls_per_second over the time until the next tick
    )
    wanted = dials_to_place(mode, state)
    result.wanted = wanted
    if wanted <= 0:
        _complete_if_final(deps, campaign, counts30, now, result)
        return

    # 3. due rows: check, store the attempt with its checks, then dial
    ledgers = _Ledgers(deps, tenant_id)
    history = _History(deps, tenant_id, ledgers)
    suppressions, consents = _Suppressions(deps, tenant_id), _Consents(deps, tenant_id)
    rows = deps.outbound.due_rows(tenant_id, campaign_id, now, min(MAX_ROWS_PER_TICK, wanted * ROWS_PER_DIAL))
    result.rows_read = len(rows)
    texting = consent_channel(campaign, mode) == "sms"
    busy = _BusyNumbers(deps, tenant_id, campaign_id, now, ledgers, [r.attempt.number for r in in_flight])
    for row in rows:
        if result.dialed >= wanted:
            break
        picked = _pick(campaign, row, now, history, suppressions, consents, mode, stats, busy)
        if picked is None:
            _defer_busy(deps, row, now, result)
            continue
        number, decision = picked
        if not decision.allowed:
            _hold_back(deps, row, decision, result)
            continue
        attempt = Attempt(attempt_id=_new_attempt_id(deps, now), campaign_id=campaign_id, row_id=row.row.row_id,
                          account_id=row.row.account_id, number=number, started_at=now, checks=decision.checks,
                          direct_consent=decision.direct_consent, callback_of=decision.callback_of)
        record = AttemptRecord(tenant_id=tenant_id, attempt=attempt, dial_mode=mode, campaign_version=campaign.version,
                               channel="sms" if texting else "voice")
        held = ledgers.of(attempt)
        try:
            deps.outbound.start_attempt(record, row, next_due_at=now + ROW_GUARD, ledgers=held,
                                        consent=consents.seen(number, consent_channel(campaign, mode)))
        except Conflict:
            # the campaign, the row, a suppression, the consent, or the number's or the debt's attempts changed
            # since the check: not dialed
            ledgers.refused(attempt)
            result.conflicts += 1
            continue
        ledgers.stored(attempt, held)
        busy.add(number)
        result.dialed += 1
        if texting:
            _send_text(deps, settings, campaign, attempt, now, result)
            continue
        try:
            dialer.dial(DialRequest(
                tenant_id=tenant_id, campaign_id=campaign_id, row_id=row.row.row_id, attempt_id=attempt.attempt_id,
                number=number, caller_id=campaign.caller_id, queue_id=campaign.queue_id, mode=mode,
                agentless_message=campaign.agentless_message))
        except Exception as exc:  # noqa: BLE001 - the attempt is stored; its failure is recorded, never retried blind
            logger.warning("dial failed", extra={"tenant_id": tenant_id, "campaign_id": campaign_id,
                                                 "attempt_id": attempt.attempt_id, "error": type(exc).__name__})
            result.dial_errors += 1
            deps.outbound.finish_attempt(tenant_id, campaign_id, row.row.row_id, attempt.attempt_id,
                                         disposition=Disposition.NO_ANSWER, at=now, dial_error=type(exc).__name__[:256],
                                         counts=DIAL_ERROR_COUNTS)
    _complete_if_final(deps, campaign, counts30, now, result)


class SmsSenderNotTheTenants(PermissionError):
    """A text would go from, or through, an End User Messaging SMS resource not registered to the tenant."""


def _foreign_sms_sender(deps: Dependencies, tenant_id: str, settings: DialerSettings,
                        caller_id: str | None) -> tuple[str, str] | None:
    """The first End User Messaging SMS resource a connect dialer's texts would go from or through that is not
    registered to the tenant, as (kind, the setting that names it); None when all are its own. From: the
    origination identity, else the campaign's caller id; through: the configuration set. The simulated carrier
    texts from nothing real."""
    if settings.kind != "connect":
        return None
    origination = ("sms_origination", settings.sms_origination) if settings.sms_origination else ("caller_id", caller_id)
    for kind, (field_name, name) in (("origination", origination),
                                     ("configuration-set", ("sms_configuration_set", settings.sms_configuration_set))):
        if name is not None and not owns_sms_sender(deps, tenant_id, kind, name):
            return kind, field_name
    return None


def _send_text(deps: Dependencies, settings: DialerSettings, campaign: Campaign, attempt: Attempt, now: datetime,
               result: TickResult) -> None:
    """An agentless SMS of a stored, checked attempt: the message with the opt-out notice, from the tenant's
    origination identity (default: the caller id). Sent: MESSAGE_SENT ends the row at its next check; refused:
    the attempt records the error (like a failed dial) and the retry rule of no-answer applies."""
    ids = {"tenant_id": result.tenant_id, "campaign_id": campaign.campaign_id, "row_id": attempt.row_id,
           "attempt_id": attempt.attempt_id}
    try:
        # settings stored before the check, a sender moved to another tenant since, the campaign's caller id
        foreign = _foreign_sms_sender(deps, result.tenant_id, settings, campaign.caller_id)
        if foreign is not None:
            raise SmsSenderNotTheTenants(f"{foreign[1]} is not an End User Messaging SMS {foreign[0]} of the tenant")
        handle = deps.dialers.sms(settings).send(SmsRequest(
            **ids, number=attempt.number, origination=settings.sms_origination or campaign.caller_id,
            text=sms_text(campaign.agentless_message or "")))
    except Exception as exc:  # noqa: BLE001 - the attempt is stored; its failure is recorded, never retried blind
        logger.warning("text refused", extra={**ids, "error": type(exc).__name__})
        result.dial_errors += 1
        deps.outbound.finish_attempt(result.tenant_id, campaign.campaign_id, attempt.row_id, attempt.attempt_id,
                                     disposition=Disposition.NO_ANSWER, at=now, dial_error=type(exc).__name__[:256],
                                     counts=DIAL_ERROR_COUNTS)
        return
    deps.outbound.finish_attempt(result.tenant_id, campaign.campaign_id, attempt.row_id, attempt.attempt_id,
                                 disposition=Disposition.MESSAGE_SENT, at=now, provider_id=handle.provider_id[:256],
                                 counts={f"outcome.{Disposition.MESSAGE_SENT}": 1})
    result.texts += 1
    _due_again(deps, result.tenant_id, campaign.campaign_id, attempt.row_id, now)


def _complete_if_final(deps: Dependencies, campaign: Campaign, counts: Mapping[str, int], now: datetime,
                       result: TickResult) -> None:
    """A running campaign whose rows are all final (done: dispositions that end a row, opt-outs, DNC, no
    consent, attempts exhausted, invalid numbers) completes: status COMPLETED (the sweep no longer ticks it)
    and a `campaign.completed` event. Looked at when this tick ended a row or found none due now, and only
    for a campaign that has worked (an attempt or a block in 30 days): a campaign started before its list
    is loaded keeps waiting for it. One index read (`has_due_rows`)."""
    if result.rows_read and not result.ended:
        return  # rows were due and none ended: work remains
    if not result.ended and not any(k == "attempts" or k.startswith("blocked.") for k in counts):
        return
    if deps.outbound.has_due_rows(result.tenant_id, campaign.campaign_id):
        return
    try:
        done = _put_status(deps, result.tenant_id, campaign, CampaignStatus.COMPLETED)
    except Conflict:
        return  # changed meanwhile (paused, edited, completed by another tick): the next tick looks again
    if deps.outbound.has_due_rows(result.tenant_id, campaign.campaign_id):
        # A row came due between the read and the write: a callback requested meanwhile, whose disposition read the
        # campaign still RUNNING (it reopens only a COMPLETED one). Its row was written before that read, so it is
        # seen here, after this write: put the campaign back, or the promised call would never be placed.
        try:
            _put_status(deps, result.tenant_id, done, campaign.status)
        except Conflict:
            pass  # changed again (the disposition's own reopen, a supervisor): theirs stands
        return
    result.completed = True
    if not result.in_flight:  # else the sweep polls its calls until they end (`settling_campaigns`)
        deps.outbound.settled(result.tenant_id, campaign.campaign_id, done.version)
    logger.info("campaign completed", extra={"tenant_id": result.tenant_id, "campaign_id": campaign.campaign_id})
    try:  # the status is the record; the event tells the consumers (a lost event costs no rule)
        deps.events.publish([Event(
            event_id=deps.ids.new_id(), tenant_id=result.tenant_id, type=CAMPAIGN_COMPLETED, occurred_at=now,
            subject=f"campaign/{campaign.campaign_id}", sequence=done.version,
            payload={"campaign_id": campaign.campaign_id, "mode": str(campaign.mode), "status": str(done.status)})])
    except Exception:  # noqa: BLE001 - logged loudly; the campaign is completed either way
        logger.exception("campaign.completed not published", extra={"tenant_id": result.tenant_id,
                                                                    "campaign_id": campaign.campaign_id})


PREVIEW_HOLD = timedelta(hours=1)  # a previewed row is not offered again before it is dialed (or this long)


def _offer_previews(deps: Dependencies, campaign: Campaign, free: int, now: datetime, result: TickResult) -> None:
    """Preview: one record per free agent becomes an OUTBOUND contact routed like inbound work (the same
    routing and reservation); the agent reads it, then dials it (`dial_preview`), which is when the checks
    run and the attempt is stored. Rows a check would block now are held back here already."""
    if free <= 0:
        return
    result.wanted = free
    history = _History(deps, result.tenant_id, _Ledgers(deps, result.tenant_id))
    suppressions, consents = _Suppressions(deps, result.tenant_id), _Consents(deps, result.tenant_id)
    stats = AbandonmentStats(answered=0, abandoned=0)
    rows = deps.outbound.due_rows(result.tenant_id, campaign.campaign_id, now, min(MAX_ROWS_PER_TICK, free * ROWS_PER_DIAL))
    result.rows_read = len(rows)
    for row in rows:
        if result.previews >= free:
            return
        _, decision = _decide(campaign, row, now, history, suppressions, consents, CampaignMode.PREVIEW, stats)
        if not decision.allowed:
            _hold_back(deps, row, decision, result)
            continue
        try:
            deps.outbound.schedule_row(row, next_due_at=now + PREVIEW_HOLD)
        except Conflict:
            result.conflicts += 1
            continue
        from ccaas.usecases.contacts import NewContact, create_contact

        shown = dict(list(row.row.attributes.items())[:40])
        attributes = {**shown, "campaign_id": campaign.campaign_id, "row_id": row.row.row_id, "preview": "1"}
        create_contact(deps, result.tenant_id, NewContact(
            channel=Channel.VOICE, queue_id=campaign.queue_id, initiation_method=InitiationMethod.OUTBOUND,
            reason="outbound preview", attributes=attributes))
        result.previews += 1


class PreviewDialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$",
                               description="which of the record's numbers (default: the first one a check allows)")


class PreviewDialResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    contact_id: str
    attempt_id: str
    number: str
    checks: list[CheckResult]
    # The dial request failed (its exception's class, as the attempt stores it): nothing rings, so the desktop
    # must say so rather than wait for a call (the attempt is stored as a dial error, never retried by itself).
    dial_error: str | None = None


def dial_preview(deps: Dependencies, tenant_id: str, contact_id: str, request: PreviewDialRequest) -> PreviewDialResult:
    """The agent holding a preview contact dials its record: checked now (every check, as for any dial), the
    attempt stored with its checks, then dialed. Blocked: 409 naming the failed checks, nothing dialed; a
    call in flight to the number (any campaign): 409 at `number`, nothing dialed."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    campaign_id, row_id = contact.attributes.get("campaign_id"), contact.attributes.get("row_id")
    if (contact.initiation_method is not InitiationMethod.OUTBOUND or contact.attributes.get("preview") != "1"
            or not campaign_id or not row_id):  # the marks alone are any integration's to send
        raise DomainError(f"contact {shown_value(contact_id)} is not a preview record", field="contact_id")
    if contact.attributes.get("attempt_id"):
        raise Conflict(f"contact {shown_value(contact_id)} was dialed already", field="contact_id")
    if str(contact.state) != "CONNECTED":
        raise Conflict(f"contact {shown_value(contact_id)} is {contact.state}: accept it first", field="contact_id")
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    row = deps.outbound.get_row(tenant_id, campaign_id, row_id)
    now = _now(deps)
    ledgers = _Ledgers(deps, tenant_id)
    history = _History(deps, tenant_id, ledgers)
    suppressions, consents = _Suppressions(deps, tenant_id), _Consents(deps, tenant_id)
    stats = AbandonmentStats(answered=0, abandoned=0)
    if request.number is not None and request.number not in row.row.numbers:
        raise DomainError("not a number of this record", field="number")
    busy = _BusyNumbers(deps, tenant_id, None, now, ledgers)  # a preview dial: calls in flight of every campaign count
    if request.number is not None:
        number = request.number
        decision = check_attempt(campaign, row.row, number, now, history, suppressions, consents,
                                 dial_mode=CampaignMode.PREVIEW, abandonment=stats)
        picked: tuple[str, Decision] | None = (number, decision)
        if decision.allowed and busy.elsewhere(number):
            picked = None
    else:
        picked = _pick(campaign, row, now, history, suppressions, consents, CampaignMode.PREVIEW, stats, busy)
    if picked is None:
        raise Conflict("a call to this record's number is in flight now: dial when it has ended", field="number")
    number, decision = picked
    if not decision.allowed:
        raise Conflict("blocked by " + ", ".join(str(n) for n in decision.failed), field="checks")
    attempt = Attempt(attempt_id=_new_attempt_id(deps, now), campaign_id=campaign_id, row_id=row_id,
                      account_id=row.row.account_id, number=number, started_at=now, checks=decision.checks,
                      direct_consent=decision.direct_consent, callback_of=decision.callback_of)
    record = AttemptRecord(tenant_id=tenant_id, attempt=attempt, dial_mode=CampaignMode.PREVIEW,
                           campaign_version=campaign.version, contact_id=contact_id)
    # Conflict: the campaign, the row, a suppression, or the number's or the debt's attempts changed since the check
    deps.outbound.start_attempt(record, row, next_due_at=now + ROW_GUARD, ledgers=ledgers.of(attempt))
    deps.outbound.add_counts(tenant_id, campaign_id, _day(now), {"attempts": 1})
    settings = dialer_settings(deps, tenant_id)
    dial_error = None
    try:
        if settings is None:
            raise RuntimeError("no dialer configured")
        deps.dialers(settings).dial(DialRequest(
            tenant_id=tenant_id, campaign_id=campaign_id, row_id=row_id, attempt_id=attempt.attempt_id, number=number,
            caller_id=campaign.caller_id, queue_id=campaign.queue_id, mode=CampaignMode.PREVIEW))
    except Exception as exc:  # noqa: BLE001 - stored attempt: its failure is recorded
        dial_error = type(exc).__name__[:256]
        logger.warning("preview dial failed", extra={"tenant_id": tenant_id, "campaign_id": campaign_id,
                                                     "attempt_id": attempt.attempt_id, "error": dial_error})
        deps.outbound.finish_attempt(tenant_id, campaign_id, row_id, attempt.attempt_id, disposition=Disposition.NO_ANSWER,
                                     at=now, dial_error=dial_error, counts=DIAL_ERROR_COUNTS)
    _link(deps, tenant_id, contact_id, attempt.attempt_id)
    return PreviewDialResult(contact_id=contact_id, attempt_id=attempt.attempt_id, number=number,
                             checks=list(decision.checks), dial_error=dial_error)


def _link(deps: Dependencies, tenant_id: str, contact_id: str, attempt_id: str) -> None:
    """The preview contact names its attempt (the agent's disposition finds it through it)."""
    def attempt() -> None:
        contact = deps.store.get_contact(tenant_id, contact_id)
        deps.store.save(contacts=[contact.model_copy(update={
            "attributes": {**contact.attributes, "attempt_id": attempt_id}, "version": contact.version + 1})])

    try:
        _retrying(attempt)
    except Conflict:
        logger.warning("preview contact not linked to its attempt", extra={"contact_id": contact_id, "attempt_id": attempt_id})


def _decide(campaign: Campaign, row: StoredRow, now: datetime, history: _History, suppressions: _Suppressions,
            consents: _Consents, mode: CampaignMode, stats: AbandonmentStats,
            numbers: Sequence[str] | None = None) -> tuple[str, Decision]:
    """The first of the row's numbers (or of `numbers`, some of them) a check allows; else the first
    number's decision, waiting until the earliest time any number clears (None when none ever clears by
    itself)."""
    decisions = []
    for number in numbers or row.row.numbers:
        decision = check_attempt(campaign, row.row, number, now, history, suppressions, consents,
                                 dial_mode=mode, abandonment=stats)
        if decision.allowed:
            return number, decision
        decisions.append((number, decision))
    number, first = decisions[0]
    waits = [d.next_allowed_at for _, d in decisions if d.next_allowed_at is not None]
    return number, first.model_copy(update={"next_allowed_at": min(waits) if waits else None})


class _BusyNumbers:
    """The numbers a call is in flight to, so one person is never rung twice at once (duplicated rows, two
    debts of one person, two campaigns): this campaign's calls in flight and this tick's dials (`local`,
    from data the tick read anyway), and, before a number is dialed, calls in flight to it from any other
    campaign of the tenant (`elsewhere`: the number's attempts in the last IN_FLIGHT, from its index and ledger)."""

    def __init__(self, deps: Dependencies, tenant_id: str, campaign_id: str | None, now: datetime, ledgers: _Ledgers,
                 in_flight: Sequence[str] = ()) -> None:
        self._deps, self._tenant, self._campaign, self._now = deps, tenant_id, campaign_id, now
        self._ledgers = ledgers
        self.local: set[str] = set(in_flight)

    def add(self, number: str) -> None:
        self.local.add(number)

    def elsewhere(self, number: str) -> bool:
        """A call to `number` of another campaign (of any, `campaign_id` None) without an outcome yet, started
        in the last IN_FLIGHT (then `number` joins `local`)."""
        since = self._now - IN_FLIGHT
        indexed = self._deps.outbound.number_attempts(self._tenant, number, since)
        busy = any(a.disposition is None and a.campaign_id != self._campaign and a.started_at <= self._now
                   for a in self._ledgers.merged("number", number, indexed, since))
        if busy:
            self.local.add(number)
        return busy


def _pick(campaign: Campaign, row: StoredRow, now: datetime, history: _History, suppressions: _Suppressions,
          consents: _Consents, mode: CampaignMode, stats: AbandonmentStats,
          busy: _BusyNumbers) -> tuple[str, Decision] | None:
    """`_decide` over the row's numbers no call is in flight to; None when the row must wait for a call in
    flight to one of its numbers (every number busy, or the free ones blocked: the busy one may be the
    number a check allows once its call ends), so it is deferred, never held back or ended for it."""
    numbers = row.row.numbers
    while True:
        free = [n for n in numbers if n not in busy.local]
        if not free:
            return None
        number, decision = _decide(campaign, row, now, history, suppressions, consents, mode, stats, free)
        if decision.allowed and busy.elsewhere(number):
            continue  # in a call of another campaign: try the row's other numbers
        if not decision.allowed and len(free) < len(numbers):
            return None
        return number, decision


def _defer_busy(deps: Dependencies, row: StoredRow, now: datetime, result: TickResult) -> None:
    """A row whose number is in a call now: due again shortly (not a compliance block: nothing is stored)."""
    result.number_busy += 1
    try:
        deps.outbound.schedule_row(row, next_due_at=now + BUSY_NUMBER_WAIT)
    except Conflict:
        pass  # moved by another writer: its next check decides


def _hold_back(deps: Dependencies, row: StoredRow, decision: Decision, result: TickResult) -> None:
    failed = [str(name) for name in decision.failed]
    result.blocked += 1
    for name in failed:
        result.blocks[name] = result.blocks.get(name, 0) + 1
    try:
        deps.outbound.schedule_row(row, next_due_at=decision.next_allowed_at,
                                   blocked_by=() if decision.next_allowed_at else failed,
                                   checks=[c for c in decision.checks if not c.passed])
    except Conflict:
        return
    if decision.next_allowed_at is None:
        result.ended += 1
    else:
        result.deferred += 1


# A failed dial or text is a no-answer attempt, counted with its disposition (ports_outbound.finish_attempt).
DIAL_ERROR_COUNTS = {"dial_errors": 1, f"outcome.{Disposition.NO_ANSWER}": 1}


def _count(deps: Dependencies, result: TickResult, now: datetime) -> None:
    counts = {f"blocked.{name}": n for name, n in result.blocks.items()}
    if result.dialed:
        counts["attempts"] = result.dialed
    if counts:
        deps.outbound.add_counts(result.tenant_id, result.campaign_id, _day(now), counts)


def dial_sweep(deps: Dependencies, now: datetime | None = None,
               on_error: Callable[[str, str, Exception], None] | None = None, tick_s: float = TICK_S) -> SweepResult:
    """One tick of every RUNNING campaign of every tenant, and first of every campaign that left RUNNING while calls
    it placed may still end (their outcomes are polled, nothing is dialed: the running campaigns sharing their
    agents then see those calls ended); a failing campaign does not stop the others."""
    result = SweepResult()
    for tenant_id, campaign_id in dict.fromkeys([*deps.outbound.settling_campaigns(), *deps.outbound.running_campaigns()]):
        result.campaigns += 1
        try:
            result.ticks.append(dial_tick(deps, tenant_id, campaign_id, now, tick_s))
        except Exception as exc:  # noqa: BLE001 - reported per campaign
            result.failed.append((tenant_id, campaign_id))
            if on_error is not None:
                on_error(tenant_id, campaign_id, exc)
    return result


# --- outcomes ----------------------------------------------------------------------------------------------

HANDOUT_HOLD = timedelta(minutes=1)  # a hand-out routing has not offered by then no longer holds an agent
_UNOFFERED = frozenset({ContactState.INITIATED, ContactState.QUEUED})  # routing has not offered it to an agent


def record_outcome(deps: Dependencies, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str,
                   outcome: CarrierOutcome, *, contact_id: str | None = None) -> AttemptRecord:
    """The carrier's outcome of one attempt (idempotent: a repeated outcome returns the stored attempt).

    A person answering a call of an agent-worked campaign becomes an OUTBOUND contact of the campaign's queue
    when one of its free agents is not held by an earlier answer routing has not offered yet (`_hand_out`);
    otherwise the call is dropped with the recorded identification message: an abandoned call (it counts
    against the 3 % cap). The outcome is one conditional write (the attempt's first disposition, with the
    answer's hand-out) made before the contact: of two writers of one outcome (overlapping ticks) one stores
    it and routes the contact, the other returns what was stored. `contact_id` given: the carrier itself
    connected the call (Amazon Connect's contact, a preview's), nothing is routed here."""
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    ids = (tenant_id, campaign_id, row_id, attempt_id)
    routed = (contact_id is None and outcome.disposition is Disposition.ANSWERED
              and campaign.mode is not CampaignMode.AGENTLESS)

    def claim() -> tuple[AttemptRecord, bool]:
        record = deps.outbound.get_attempt(*ids)
        if record.attempt.disposition is not None:
            return record, False  # recorded already: a repeat, or another writer's
        disposition, message, handouts = outcome.disposition, None, None
        if routed:
            handouts = _hand_out(deps, tenant_id, campaign, record.attempt)
            if handouts is None:
                disposition, message = Disposition.ABANDONED, True
        elif disposition is Disposition.ABANDONED:  # an agent of the carrier's came too late: message not known
            message = True if outcome.agent_wait_s is None else None
        counts = {f"outcome.{disposition}": 1}
        if contact_id and disposition is Disposition.ANSWERED:
            counts["connects"] = 1
        return deps.outbound.finish_attempt(
            *ids, disposition=disposition, at=outcome.at, contact_id=contact_id, ring_seconds=outcome.ring_seconds,
            abandon_message_played=message, counts=counts, handouts=handouts), True

    done, claimed = _retrying(claim)  # Conflict: another writer's outcome or hand-out came first: read again
    if not claimed:
        return done
    if routed and done.attempt.disposition is Disposition.ANSWERED:
        made = _outbound_contact(deps, tenant_id, campaign, done)
        done = _retrying(lambda: deps.outbound.link_contact(*ids, contact_id=made, at=outcome.at, counts={"connects": 1}))
    _due_again(deps, tenant_id, campaign_id, row_id, outcome.at)
    return done


def _hand_out(deps: Dependencies, tenant_id: str, campaign: Campaign, attempt: Attempt) -> AgentHandouts | None:
    """The queue's hand-outs with this answer added, when the campaign's free agents outnumber the earlier answers
    still waiting for routing's offer (`_staffing`, the pacer's count too); None when each free agent is held (the
    answer is dropped).

    Waiting answers count from every queue the campaign's agents serve (`_agent_queues`, as the tick counts calls
    ringing): an answer handed out on queue B may take the agent B shares with this queue. The answer is stored in
    its own queue's hand-outs (conditional on their version: two writers of one queue never both take the last agent); writers of
    two queues sharing an agent are serialised by the leases instead: an answer is handed out only when the
    simulated carrier's outcome is polled, in a tick holding the leases of every queue its agents serve (Amazon
    Connect's answered calls name their contact: nothing is handed out here)."""
    now = _now(deps)
    staffing = _staffing(deps, tenant_id, campaign, now)
    if staffing.free <= 0:
        return None
    return staffing.handouts.adding(staffing.waiting, AnswerHandout(
        campaign_id=attempt.campaign_id, row_id=attempt.row_id, attempt_id=attempt.attempt_id, at=now))


def _holds_agent(deps: Dependencies, tenant_id: str, handout: AnswerHandout, now: datetime) -> bool:
    """An earlier answer still holds a free agent: its contact is not made yet, or routing has not offered it (an
    offered or connected contact's agent no longer reads as free). HANDOUT_HOLD at most: a contact routing never
    takes (its workflow failed) does not hold an agent for good."""
    if now - handout.at > HANDOUT_HOLD:
        return False
    try:
        record = deps.outbound.get_attempt(tenant_id, handout.campaign_id, handout.row_id, handout.attempt_id)
        return record.contact_id is None or deps.store.get_contact(tenant_id, record.contact_id).state in _UNOFFERED
    except NotFound:
        return False


def _due_again(deps: Dependencies, tenant_id: str, campaign_id: str, row_id: str, at: datetime) -> None:
    """The row's next check decides (retry rule by disposition, gaps, caps): put it back in the due index."""
    try:
        row = deps.outbound.get_row(tenant_id, campaign_id, row_id)
        if row.state == "due":
            deps.outbound.schedule_row(row, next_due_at=at)
    except (Conflict, NotFound):
        pass  # moved by another writer, or the row was replaced: its next check decides anyway


def _outbound_contact(deps: Dependencies, tenant_id: str, campaign: Campaign, record: AttemptRecord) -> str:
    from ccaas.usecases.contacts import NewContact, create_contact

    a = record.attempt
    attributes = {"campaign_id": a.campaign_id, "row_id": a.row_id, "attempt_id": a.attempt_id}
    if a.account_id:
        attributes["account_id"] = a.account_id
    contact = create_contact(deps, tenant_id, NewContact(
        channel=Channel.VOICE, queue_id=campaign.queue_id, initiation_method=InitiationMethod.OUTBOUND,
        reason="outbound", attributes=attributes))
    return contact.contact_id


# --- Amazon Connect: outcomes from contact records ----------------------------------------------------------

CTR_ATTRIBUTE_PREFIX = "ccaas_"  # ccaas.adapters.aws.outbound.ConnectDialer puts our ids there
_AMD = {  # AnsweringMachineDetectionStatus -> the carrier's disposition (absent: decided by the agent leg)
    "VOICEMAIL_BEEP": Disposition.VOICEMAIL, "VOICEMAIL_NO_BEEP": Disposition.VOICEMAIL,
    "FAX_MACHINE_DETECTED": Disposition.ANSWERING_MACHINE, "SIT_TONE_BUSY": Disposition.BUSY,
    "SIT_TONE_INVALID_NUMBER": Disposition.INVALID_NUMBER, "SIT_TONE_DETECTED": Disposition.INVALID_NUMBER,
    "AMD_UNANSWERED": Disposition.NO_ANSWER,
}
_OUR_ID = re.compile(NAME_PATTERN)  # a campaign's, a row's, an attempt's or a list row's account id
_CAMPAIGN_IDS = ("campaign_id", "row_id", "attempt_id")  # keys of the store: ours, or no record of our calls


@dataclass(frozen=True)
class DialRecord:
    """A Connect contact record as the dial outcomes read it: the KPIs' reading of a CTR (`ctr`: its bounds) and
    AMD's verdict, which that reading leaves out (`amd_status`: only looked up in _AMD)."""

    ctr: ConnectCtr
    amd_status: str | None = None


def read_dial_record(raw: DialRecord | Mapping[str, Any] | str | bytes, *, now_ms: int | None = None) -> DialRecord:
    """One contact record, read as the KPIs' CTR consumer reads it (ccaas.domain.kpis.ctr.parse_ctr: JSON, a
    ContactId, a lone surrogate as U+FFFD and none in an id, ids and names at most 256 characters, durations bounded,
    with `now_ms` no time ahead of now), and the times the outcome reads within the years 2000-2100 and one contact's
    span. What it cannot read raises MalformedContactRecord: that record's rejection, with a reason that never quotes
    the record. The CTR reader is loaded by the first record, not at a consumer's cold start."""
    if isinstance(raw, DialRecord):
        return raw
    from ccaas.domain.kpis.ctr import check_times, parse_ctr  # noqa: PLC0415 - see the docstring

    document: Any = raw
    if isinstance(raw, (str, bytes, bytearray)):
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            document = raw  # parse_ctr rejects it with its reason (not JSON, not UTF-8, a number too long, too deep)
    ctr = parse_ctr(document, now_ms=now_ms)
    check_times(ctr.ContactId, ctr.InitiationTimestamp, ctr.ConnectedToSystemTimestamp, ctr.DisconnectTimestamp,
                 ctr.Agent.ConnectedToAgentTimestamp if ctr.Agent else None)
    status = document.get("AnsweringMachineDetectionStatus") if isinstance(document, Mapping) else None
    return DialRecord(ctr=ctr, amd_status=status if isinstance(status, str) else None)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ctr_time(ms: int | None) -> datetime | None:
    """A time of the record (epoch ms, as the CTR reader gives it) as an aware datetime."""
    return None if ms is None else _EPOCH + timedelta(milliseconds=ms)


def _campaign_ids(record: DialRecord) -> dict[str, str] | None:
    """The ids (tenant, campaign, row, attempt) our dialer put on the call; None: not a campaign call. Ids that are
    no ids of ours name no attempt (a 3,000-character or surrogate row id was a key no store writes): the record's
    rejection, naming the attribute."""
    from ccaas.domain.kpis.ctr import MalformedContactRecord  # noqa: PLC0415 - loaded by read_dial_record

    attributes = record.ctr.Attributes or {}
    if record.ctr.InitiationMethod != "OUTBOUND":
        return None
    ids = {k: str(attributes.get(f"{CTR_ATTRIBUTE_PREFIX}{k}") or "")
           for k in ("tenant_id", "campaign_id", "row_id", "attempt_id")}
    if not all(ids.values()):
        return None
    for key in _CAMPAIGN_IDS:
        if not _OUR_ID.fullmatch(ids[key]):
            raise MalformedContactRecord(f"Attributes.{CTR_ATTRIBUTE_PREFIX}{key}: not an id of ours",
                                         contact_id=record.ctr.ContactId)
    return ids


def outcome_from_ctr(ctr: DialRecord | Mapping[str, Any] | str | bytes) -> tuple[dict[str, str], CarrierOutcome] | None:
    """The ids (tenant, campaign, row, attempt) and the outcome a Connect contact record gives a campaign
    call; None for any other record. AMD's status first (voicemail, fax, busy and invalid-number SIT tones,
    unanswered); else a call connected to an agent within 2 s of the person's answer is ANSWERED, one whose agent
    came later ABANDONED all the same (47 CFR 64.1200(a)(7): it waited in the queue; `agent_wait_s` says it
    reached one), one the flow answered that no agent took is ABANDONED (the flow played the message), a
    destination error INVALID_NUMBER, the rest NO_ANSWER. The record is read by `read_dial_record`
    (MalformedContactRecord for one it cannot read)."""
    record = read_dial_record(ctr)
    ids = _campaign_ids(record)
    if ids is None:
        return None
    c = record.ctr
    started = _ctr_time(c.InitiationTimestamp)
    system_at = _ctr_time(c.ConnectedToSystemTimestamp)
    ended = _ctr_time(c.DisconnectTimestamp) or system_at or started
    if ended is None:
        return None
    agent_at = _ctr_time(c.Agent.ConnectedToAgentTimestamp) if c.Agent else None
    agent_wait = (agent_at - system_at).total_seconds() if agent_at and system_at else None
    disposition = _AMD.get(record.amd_status or "")
    if disposition is None:
        if agent_at is not None:
            late = system_at is not None and agent_too_late(system_at, agent_at)
            disposition = Disposition.ABANDONED if late else Disposition.ANSWERED
        elif system_at is not None:
            disposition = Disposition.ABANDONED
        elif c.DisconnectReason == "OUTBOUND_DESTINATION_ENDPOINT_ERROR":
            disposition = Disposition.INVALID_NUMBER
        else:
            disposition = Disposition.NO_ANSWER
    ring = (system_at - started).total_seconds() if system_at and started else None
    return ids, CarrierOutcome(disposition=disposition, at=ended,
                               ring_seconds=ring if ring is not None and 0 <= ring <= 600 else None,
                               agent_wait_s=agent_wait if disposition in (Disposition.ANSWERED, Disposition.ABANDONED)
                               else None)


def record_ctr_outcome(deps: Dependencies, ctr: DialRecord | Mapping[str, Any] | str | bytes) -> AttemptRecord | None:
    """A Connect contact record of a campaign call: its outcome on the attempt it names (None: not one).
    The tenant is the Connect instance's; the record's own attributes must agree with it. Read as the KPIs'
    CTR consumer reads a record (`read_dial_record`; the stream's consumer reads it first, with its clock): one it
    cannot read raises MalformedContactRecord, that record's rejection with a reason."""
    record = read_dial_record(ctr)
    found = outcome_from_ctr(record)
    if found is None:
        note_ctr_conversation(deps, record)  # not a campaign call: perhaps a conversation Reg F must know of
        return None
    ids, outcome = found
    tenant_id = deps.config.tenant_for_connect_instance(record.ctr.InstanceARN or "")
    if tenant_id is None or tenant_id != ids["tenant_id"]:
        raise DomainError("the contact record's instance does not belong to the attempt's tenant", field="InstanceARN")
    contact_id = record.ctr.ContactId  # every record read has one: Connect's own contact, which took the call
    late = outcome.disposition is Disposition.ABANDONED and outcome.agent_wait_s is not None  # an agent, too late
    done = record_outcome(deps, tenant_id, ids["campaign_id"], ids["row_id"], ids["attempt_id"], outcome,
                          contact_id=contact_id if outcome.disposition is Disposition.ANSWERED or late else None)
    if late and done.attempt.disposition is Disposition.ABANDONED:
        # a drop for the cap, yet the person talked to an agent: Reg F's 7-day quiet period starts all the same.
        # A requested callback's too (direct_consent): the consent excuses that call, not the calls after its
        # conversation (an ANSWERED callback is a conversation by its disposition just so: Attempt.conversation)
        a = done.attempt
        for kind, value in (("number", a.number), ("account", a.account_id)):
            if value:
                deps.outbound.add_conversation(tenant_id, kind, value, outcome.at,  # type: ignore[arg-type]
                                               (contact_id or a.attempt_id)[:128])
    return done


def dispose_contact(deps: Dependencies, tenant_id: str, contact_id: str, request: DispositionRequest) -> AttemptRecord:
    """The agent's disposition of an OUTBOUND contact; opted out suppresses the number and account at once.
    callback_requested (a conversation in which the person asked to be called back at `callback_at`) stores the
    time with the disposition and moves the row to it: the next check places the callback then (compliance)."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    ids = [contact.attributes.get(k) for k in CAMPAIGN_ATTRIBUTES]
    if contact.initiation_method is not InitiationMethod.OUTBOUND or not all(ids):
        raise DomainError(f"contact {shown_value(contact_id)} is not a campaign call", field="contact_id")
    if request.disposition not in AGENT_DISPOSITIONS:
        raise DomainError(f"an agent cannot record {request.disposition}", field="disposition")
    campaign_id, row_id, attempt_id = ids
    now = _now(deps)
    held = deps.outbound.get_attempt(tenant_id, campaign_id, row_id, attempt_id)  # type: ignore[arg-type]
    callback = None
    if request.disposition is Disposition.CALLBACK_REQUESTED:
        assert request.callback_at is not None  # the request model requires it
        # The consent given directly dates from the conversation, not from this POST: a disposition recorded days
        # after the call must not make old consent look fresh (the waiver holds while it is < 7 days old).
        # A late disposition is not refused for its lateness: dated so, it cannot stretch the waiver, and the
        # person's request (after-call work finished the next morning) is still theirs. Refused: a callback_at
        # already past (it cannot be honoured) or more than 30 days after the conversation (not after the POST).
        asked_at = _conversation_at(held, contact, now)
        if not now < request.callback_at <= asked_at + CALLBACK_MAX_AHEAD:
            raise DomainError(f"callback_at must be in the future and at most {CALLBACK_MAX_AHEAD.days} days after "
                              f"the call ({asked_at.isoformat()})", field="callback_at")
        callback = CallbackRequest(at=request.callback_at.astimezone(UTC), requested_at=asked_at)
    if request.disposition is Disposition.OPTED_OUT:
        # Before the disposition: a failed suppression after it would leave the retry a Conflict and the person
        # dialed again. Suppressing twice is harmless (the first source and time are kept).
        opt_out(deps, tenant_id, held.attempt.number, held.attempt.account_id, "agent")
    # Counted on the day the answer was: "no person" (a machine) takes it back out of that day's answered calls.
    done = deps.outbound.finish_attempt(tenant_id, campaign_id, row_id, attempt_id,  # type: ignore[arg-type]
                                        disposition=request.disposition, at=now, callback=callback,
                                        counts=agent_disposition_counts(request.disposition, held.contact_id is not None),
                                        count_day=counter_day(held.ended_at) if held.ended_at else None)
    if callback is not None and _due_at_callback(deps, tenant_id, campaign_id, row_id,  # type: ignore[arg-type]
                                                 callback.at):
        _reopen_for_callback(deps, tenant_id, campaign_id)  # type: ignore[arg-type]
    return done


def _conversation_at(held: AttemptRecord, contact: Contact, now: datetime) -> datetime:
    """When the conversation of `held` took place, as early as the records show: the carrier's outcome stored on
    the attempt (Connect: the call's end; the simulated carrier: the answer) or the contact's disconnect, never
    later than `now`, never before the dial (a contact's clock cannot date it earlier than the call)."""
    times = [now]
    if held.ended_at is not None:
        times.append(held.ended_at)
    if contact.disconnected_at is not None:
        times.append(datetime.fromtimestamp(contact.disconnected_at / 1000, tz=UTC))
    return max(min(times), held.attempt.started_at)


def _due_at_callback(deps: Dependencies, tenant_id: str, campaign_id: str, row_id: str, at: datetime) -> bool:
    """The row comes due at the requested callback, even if a check held it back for days (the conversation's quiet
    period) or ended it (its attempts used up) before the agent's disposition: the check then decides. False: no
    such row any more."""
    def move() -> None:
        deps.outbound.schedule_row(deps.outbound.get_row(tenant_id, campaign_id, row_id), next_due_at=at)

    try:
        _retrying(move)  # Conflict: a tick moved the row meanwhile: read it again
    except NotFound:
        return False  # the row was replaced by a new list: nothing to call back from this campaign
    return True


def _reopen_for_callback(deps: Dependencies, tenant_id: str, campaign_id: str) -> None:
    """A callback requested on a row of a COMPLETED campaign (its rows were all final before the disposition, e.g.
    the call was the row's last attempt) reopens it: COMPLETED -> RUNNING, so the dialer ticks it again and places
    the callback at its time; with no row due after it, the campaign completes again by itself.

    Reopened rather than refused (409): the person asked for the call and the agent promised it; COMPLETED is the
    dialer's own bookkeeping (it ran out of rows), not a supervisor's decision, and a collections supervisor expects
    the promised call to be made, inside the campaign's checks and audit trail, not the request lost or moved to a
    manual dial outside them. PAUSED and STOPPED are a supervisor's decisions and are kept (paused: the callback
    waits for the resume, within its grace; stopped: it lapses). Called after the row is due: a tick that completed
    the campaign before that is undone here."""
    def attempt() -> None:
        current = deps.outbound.get_campaign(tenant_id, campaign_id)
        if current.status is not CampaignStatus.COMPLETED:
            return
        _put_status(deps, tenant_id, current, CampaignStatus.RUNNING)
        logger.info("completed campaign reopened for a requested callback",
                    extra={"tenant_id": tenant_id, "campaign_id": campaign_id})

    _retrying(attempt)  # Conflict: changed meanwhile (a late outcome's settling): read it again


# --- audit and metrics -------------------------------------------------------------------------------------

def attempts_export(deps: Dependencies, tenant_id: str, campaign_id: str, *, since: datetime | None = None,
                    until: datetime | None = None, after: str | None = None, limit: int = 1000) -> list[AttemptRecord]:
    deps.outbound.get_campaign(tenant_id, campaign_id)  # 404 for an unknown campaign
    start = since or datetime(2000, 1, 1, tzinfo=UTC)
    return deps.outbound.campaign_attempts(tenant_id, campaign_id, since=start, until=until, after=after, limit=limit)


class RowAudit(BaseModel):
    """GET /campaigns/{id}/rows/{row_id}: one list row's audit — where it stands, the failed checks of the
    decision that last held it back or ended it (an opt-out's suppression names its source: sms_stop, agent
    …), and every attempt on it with the checks that allowed it."""

    model_config = ConfigDict(defer_build=True)

    campaign_id: str
    row_id: str
    state: str
    next_due_at: datetime | None
    blocked_by: list[str] = Field(description="the checks that ended the row (empty while it is due)")
    blocked_checks: list[CheckResult] = Field(description="the failed checks of its last hold-back or end")
    callback: CallbackState | None = Field(
        default=None, description="the latest callback the person asked for: its time, and pending, placed or lapsed")
    attempts: list[Attempt]


def row_audit(deps: Dependencies, tenant_id: str, campaign_id: str, row_id: str) -> RowAudit:
    deps.outbound.get_campaign(tenant_id, campaign_id)  # 404 for an unknown campaign
    row = deps.outbound.get_row(tenant_id, campaign_id, row_id)
    attempts = deps.outbound.record_attempts(tenant_id, campaign_id, row_id)
    return RowAudit(campaign_id=campaign_id, row_id=row_id, state=row.state, next_due_at=row.next_due_at,
                    blocked_by=list(row.blocked_by), blocked_checks=list(row.blocked_checks),
                    callback=callback_state(attempts, _now(deps)), attempts=attempts)


CSV_COLUMNS = ("attempt_id", "campaign_id", "campaign_version", "row_id", "account_id", "number", "started_at",
               "ended_at", "dial_mode", "disposition", "contact_id", "allowed_by", "checks")


def _checks_text(checks: Sequence[CheckResult]) -> str:
    return " | ".join(f"{c.name}={'pass' if c.passed else 'fail'}: {c.detail}" for c in checks)


def attempts_csv(records: Sequence[AttemptRecord]) -> str:
    """The audit export as CSV: one line per attempt, its checks (each with its verdict and reason); no cell
    a spreadsheet runs as a formula (ccaas.domain.spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        a = r.attempt
        writer.writerow([safe_cell(str(cell)) for cell in (
            a.attempt_id, a.campaign_id, r.campaign_version, a.row_id, a.account_id or "", a.number,
            a.started_at.isoformat(), r.ended_at.isoformat() if r.ended_at else "", r.dial_mode,
            a.disposition or "", r.contact_id or "", ";".join(str(c.name) for c in a.checks if c.passed),
            _checks_text(a.checks),
        )])
    return out.getvalue()


__all__ = [
    "CampaignPatch", "ConsentRequest", "ConsentResult", "record_consent", "CampaignRequest", "DispositionRequest", "ListUpload", "ListUploadResult",
    "SuppressionRequest", "SuppressionResult", "TickResult", "add_suppressions", "attempts_csv", "attempts_export",
    "PreviewDialRequest", "PreviewDialResult", "dial_preview",
    "change_status", "outcome_from_ctr", "record_ctr_outcome", "create_campaign", "dial_sweep", "dial_tick", "dispose_contact",
    "get_campaign", "list_campaigns", "opt_out", "put_dialer_settings", "record_outcome", "update_campaign",
    "upload_list", "upload_csv_text", "inbound_message", "inbound_text", "inbound_contact", "note_conversation", "note_ctr_conversation",
    "CAMPAIGN_COMPLETED", "RowAudit", "row_audit", "DialRecord", "read_dial_record",
]
