"""Outbound campaigns: configure, load lists, start/pause/stop, the dialing loop, outcomes, audit, metrics.

The rules are the domain's (ccaas.domain.outbound: `check_attempt`, `pacing_mode`, `dials_to_place`,
list parsing); this module only orchestrates the ports:

- `dial_tick(deps, tenant, campaign, now)` is one step of the dialing loop: collect the outcomes the
  dialer knows (the simulated carrier; Amazon Connect's arrive as contact records instead), derive the
  pacing state from live data (free / busy / wrapping agents of the campaign's queue, calls in flight,
  the rolling answer and 30-day abandonment counts), take that many due rows from the due index, check
  each row (`check_attempt`: every verdict kept), and for an allowed one store the attempt WITH its
  checks in one conditional write (campaign still RUNNING at the version the check used, row unchanged,
  no suppression since) BEFORE the dial. A write that loses any of those conditions dials nothing.
  A blocked row waits until its checks clear (`next_allowed_at`: calling hours, gaps, 7-in-7) or leaves
  the due index (a check that never clears by itself: DNC, consent, attempts exhausted).
- Outcomes (`record_outcome`): the carrier's disposition once; a person answering becomes an OUTBOUND
  contact routed to an agent of the campaign's queue through the ordinary lifecycle (routing and
  reservation as for inbound work), or, with no agent free, an abandoned call that plays the
  identification message. The agent then refines ANSWERED (`dispose_contact`): right-party contact,
  wrong party, opted out (suppressed at once), ...
- Counters per campaign and UTC day (attempts, carrier outcomes, agent dispositions, blocks by rule) feed
  the metrics and the pacing; the rolling 30-day abandonment rate is read from 31 day buckets (a window
  at least 30 days long: conservative for the cap).

Preview: the tick offers one record per free agent as an OUTBOUND contact (routing and reservation as for
inbound work); the agent dials it (`dial_preview`), which is when its checks run and the attempt is stored.

Not yet: agentless SMS through End User Messaging (agentless voice goes through the dialer like any call); an
SMS "STOP" is honoured when the integration posts it (POST /suppressions source sms_stop, or POST /consents
granted=false) — the chat intake does not parse it; inbound conversations about a debt are not yet fed to
Reg F's 7-day quiet period (`_History.conversations`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import Agent, Channel, Conflict, DomainError, InitiationMethod, NotFound
from ccaas.domain.outbound.compliance import (
    AbandonmentStats,
    Decision,
    Suppression,
    check_attempt,
    pacing_mode,
)
from ccaas.domain.outbound.lists import ListError, parse_csv, parse_json, parse_number
from ccaas.domain.outbound.models import (
    Attempt,
    Campaign,
    CampaignMode,
    CampaignStatus,
    CheckResult,
    ConsentFlag,
    Disposition,
)
from ccaas.domain.outbound.pacing import PacingState, dials_to_place
from ccaas.ports_outbound import AttemptRecord, CarrierOutcome, DialerSettings, DialRequest, StoredRow, new_attempt_id

logger = logging.getLogger(__name__)
UTC = timezone.utc

DIALER_SETTINGS = "outbound_dialer"  # the tenant's settings document naming its dialer
MAX_UPLOAD_ROWS = 10_000             # rows per upload request; a list is loaded in several uploads
IN_FLIGHT = timedelta(minutes=10)    # an attempt younger than this without an outcome is a call in flight
ROW_GUARD = timedelta(minutes=10)    # a dialed row is not picked again before its outcome (or this long)
ABANDON_DAYS = 31                    # day buckets covering the rolling 30 days
ANSWER_RATE_DAYS = 7
DEFAULT_ANSWER_RATE = 0.3
MIN_OUTCOMES_FOR_RATE = 20
ROWS_PER_DIAL = 3                    # due rows read per dial wanted (blocked rows are skipped)
MAX_ROWS_PER_TICK = 200
AGENT_DISPOSITIONS = frozenset({  # what an agent may say of the person the carrier reported as answered
    Disposition.RIGHT_PARTY_CONTACT, Disposition.WRONG_PARTY, Disposition.VOICEMAIL,
    Disposition.ANSWERING_MACHINE, Disposition.OPTED_OUT, Disposition.INVALID_NUMBER,
})
CAMPAIGN_ATTRIBUTES = ("campaign_id", "row_id", "attempt_id")  # on an OUTBOUND contact: its attempt


# --- request models (derived from the domain's Campaign: one declaration of every field) ---------------
_SYSTEM_FIELDS = ("status", "version")
def _request_model() -> type[BaseModel]:
    fields = {name: (f.annotation, f) for name, f in Campaign.model_fields.items() if name not in _SYSTEM_FIELDS}
    model = create_model("CampaignRequest", __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload]
    model.__doc__ = "POST /campaigns: a new campaign (status draft, version 1); see the README for each rule."
    return model


def _patch_model() -> type[BaseModel]:
    fields = {name: (Optional[f.annotation], Field(default=None, description=f.description))  # noqa: UP045
              for name, f in Campaign.model_fields.items() if name not in (*_SYSTEM_FIELDS, "campaign_id")}
    model = create_model("CampaignPatch", __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload]
    model.__doc__ = "PATCH /campaigns/{id}: the fields to change; the rest stay. Applies from the next attempt."
    return model


CampaignRequest = _request_model()
CampaignPatch = _patch_model()


class ListUpload(BaseModel):
    """POST /campaigns/{id}/lists: CSV text (`format: csv`, `content`) or JSON rows (`format: json`, `rows`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "json"] = "json"
    content: str | None = Field(default=None, max_length=1_000_000, description="the CSV text, header line first")
    rows: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_UPLOAD_ROWS,
                                              description=f"JSON rows, at most {MAX_UPLOAD_ROWS} per upload")
    region: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="default region of numbers without +")


class ListUploadResult(BaseModel):
    campaign_id: str
    accepted: int
    rejected: int = Field(description="rows with at least one error (none of them stored)")
    total: int
    error_count: int
    errors: list[ListError] = Field(description="line (CSV: the file's line, header = 1; JSON: 1-based index) and field")


class SuppressionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["number", "email", "account"]
    value: str = Field(min_length=1, max_length=254)


class SuppressionRequest(BaseModel):
    """POST /suppressions: opt-outs and do-not-call entries, honoured by the very next check."""

    model_config = ConfigDict(extra="forbid")

    entries: list[SuppressionEntry] = Field(min_length=1, max_length=1000)
    source: str = Field(default="api", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="e.g. api, internal_dnc, list:<name>, sms_stop")


class SuppressionResult(BaseModel):
    stored: int


class ConsentRequest(BaseModel):
    """POST /consents: a grant or a revocation of prior express consent for automated calls or texts to a
    number; the latest record wins over the list's flag at the next check (a revocation wins a tie)."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32, description="the number, E.164 or national (US)")
    kind: Literal["voice", "sms"] = "voice"
    granted: bool
    source: str = Field(default="api", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="where it was given or revoked: web_form:signup, ivr, sms_stop, agent ...")
    at: datetime | None = Field(default=None, description="when (ISO 8601 with offset); default now")


class ConsentResult(BaseModel):
    number: str
    kind: Literal["voice", "sms"]
    granted: bool = Field(description="what the latest record on file says now")


class DispositionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: Disposition = Field(description="right_party_contact, wrong_party, voicemail, "
                                                 "answering_machine, opted_out or invalid_number")


class CampaignMetrics(BaseModel):
    campaign_id: str
    status: CampaignStatus
    mode: CampaignMode
    window_days: int = 30
    attempts: int
    human_answered: int
    connects: int = Field(description="answered calls handed to an agent (an OUTBOUND contact)")
    right_party_contacts: int
    abandoned: int
    abandonment_rate: float = Field(description="abandoned / answered by a person, rolling 30 days")
    max_abandon_rate: float
    opted_out: int
    dial_errors: int
    outcomes: dict[str, int] = Field(description="the carrier's dispositions")
    agent_dispositions: dict[str, int]
    blocks_by_rule: dict[str, int] = Field(description="checks that held a row back, by rule")
    calls_in_flight: int
    rows_due_now: int = Field(description="up to 100: rows the due index holds for now")


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
    blocks: dict[str, int] = field(default_factory=dict)


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


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def _retrying(operation: Callable[[], Any], attempts: int = 5) -> Any:
    for attempt in range(attempts):
        try:
            return operation()
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def dialer_settings(deps: Dependencies, tenant_id: str) -> DialerSettings | None:
    raw = deps.config.get_settings(tenant_id, DIALER_SETTINGS)
    return None if raw is None else DialerSettings.model_validate(raw)


def put_dialer_settings(deps: Dependencies, tenant_id: str, settings: DialerSettings) -> DialerSettings:
    if settings.kind == "connect" and not (settings.instance_id and settings.contact_flow_id):
        raise DomainError("a connect dialer needs instance_id and contact_flow_id", field="instance_id")
    deps.config.put_settings(tenant_id, DIALER_SETTINGS, settings.model_dump(mode="json"))
    return settings


# --- campaigns ---------------------------------------------------------------------------------------------

def _require_queue(deps: Dependencies, tenant_id: str, queue_id: str, mode: CampaignMode) -> None:
    try:
        queue = deps.config.get_queue(tenant_id, queue_id)
    except NotFound:
        raise DomainError(f"queue {queue_id} does not exist", field="queue_id") from None
    if mode is not CampaignMode.AGENTLESS and Channel.VOICE not in queue.channels:
        raise DomainError(f"queue {queue_id} takes no VOICE contacts", field="queue_id")


def create_campaign(deps: Dependencies, tenant_id: str, body: BaseModel) -> Campaign:
    campaign = Campaign.model_validate({**body.model_dump(), "status": CampaignStatus.DRAFT, "version": 1})
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
            raise Conflict(f"campaign {campaign_id} is {current.status}", field="status")
        merged = {**current.model_dump(), **changes, "version": current.version + 1}
        updated = Campaign.model_validate(merged)
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
            raise Conflict(f"campaign {campaign_id} is {current.status}; it cannot {action}", field="status")
        if target is CampaignStatus.RUNNING and dialer_settings(deps, tenant_id) is None:
            raise Conflict("no dialer configured: PUT /settings/outbound first", field="status")
        updated = current.model_copy(update={"status": target, "version": current.version + 1})
        deps.outbound.put_campaign(tenant_id, updated, expected_version=current.version)
        return updated

    return _retrying(attempt)


# --- lists -------------------------------------------------------------------------------------------------

def upload_list(deps: Dependencies, tenant_id: str, campaign_id: str, upload: ListUpload) -> ListUploadResult:
    """Parse, report every bad row with its line and field, store the good ones (due now)."""
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    if campaign.status in (CampaignStatus.STOPPED, CampaignStatus.COMPLETED):
        raise Conflict(f"campaign {campaign_id} is {campaign.status}", field="status")
    if upload.format == "csv":
        if upload.content is None:
            raise DomainError("a csv upload carries the CSV text in content", field="content")
        parsed = parse_csv(upload.content, region=upload.region, max_rows=MAX_UPLOAD_ROWS)
    else:
        if upload.rows is None:
            raise DomainError("a json upload carries its rows in rows", field="rows")
        parsed = parse_json(upload.rows, region=upload.region, max_rows=MAX_UPLOAD_ROWS)
    if parsed.rows:
        deps.outbound.put_rows(tenant_id, campaign_id, parsed.rows, _now(deps))
    rejected = len({e.line for e in parsed.errors})
    return ListUploadResult(campaign_id=campaign_id, accepted=parsed.accepted, rejected=max(rejected, parsed.total - parsed.accepted),
                            total=parsed.total, error_count=parsed.error_count, errors=list(parsed.errors))


# --- suppression, consent ------------------------------------------------------------------------------------

def add_suppressions(deps: Dependencies, tenant_id: str, request: SuppressionRequest) -> SuppressionResult:
    at = _now(deps)
    entries = []
    for i, entry in enumerate(request.entries):
        value = entry.value.strip()
        if entry.kind == "number":
            try:
                value, _ = parse_number(value)
            except ValueError as exc:
                raise DomainError(f"entries.{i}.value: {exc}", field=f"entries.{i}.value") from None
        entries.append(Suppression(kind=entry.kind, value=value, source=request.source, at=at))
    return SuppressionResult(stored=deps.outbound.add_suppressions(tenant_id, entries))


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
        number, _ = parse_number(request.number)
    except ValueError as exc:
        raise DomainError(f"number: {exc}", field="number") from None
    at = request.at or _now(deps)
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("at needs a UTC offset", field="at")
    if not 2000 <= at.year <= 2100:
        raise DomainError("at: year must be 2000-2100", field="at")
    deps.outbound.put_consent(tenant_id, number, request.kind,
                              ConsentFlag(granted=request.granted, source=request.source, at=at))
    latest = deps.outbound.latest_consent(tenant_id, number, request.kind)
    return ConsentResult(number=number, kind=request.kind, granted=bool(latest and latest.granted))


# --- the views check_attempt reads -----------------------------------------------------------------------

class _History:
    """AttemptHistory over the store, plus the attempts this tick made (the account index may lag them)."""

    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id
        self.fresh: list[Attempt] = []
        self._records: dict[tuple[str, str], list[Attempt]] = {}

    def account_attempts(self, account_id: str, since: datetime) -> Sequence[Attempt]:
        stored = self._deps.outbound.account_attempts(self._tenant, account_id, since)
        seen = {a.attempt_id for a in stored}
        return [*stored, *(a for a in self.fresh if a.account_id == account_id and a.started_at > since
                           and a.attempt_id not in seen)]

    def record_attempts(self, campaign_id: str, row_id: str) -> Sequence[Attempt]:
        key = (campaign_id, row_id)
        if key not in self._records:
            self._records[key] = self._deps.outbound.record_attempts(self._tenant, campaign_id, row_id)
        return self._records[key]

    def conversations(self, account_id: str, since: datetime) -> Sequence[datetime]:
        return []  # inbound conversations about a debt are not linked to accounts yet (README: outbound)


class _Suppressions:
    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id

    def match(self, number: str, email: str | None, account_id: str | None) -> Suppression | None:
        return self._deps.outbound.match_suppression(self._tenant, number, email, account_id)


class _Consents:
    def __init__(self, deps: Dependencies, tenant_id: str) -> None:
        self._deps, self._tenant = deps, tenant_id

    def latest(self, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None:
        return self._deps.outbound.latest_consent(self._tenant, number, kind)


# --- live pacing state -------------------------------------------------------------------------------------

def _campaign_agents(deps: Dependencies, tenant_id: str, campaign: Campaign) -> list[Agent]:
    return [a for a in deps.store.list_agents(tenant_id)
            if a.serves(campaign.queue_id) and a.has_skills(campaign.required_skills)]


def _free(agent: Agent) -> bool:
    return agent.free_slots(Channel.VOICE) > 0 and not agent.offered_contact_ids


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


def dial_tick(deps: Dependencies, tenant_id: str, campaign_id: str, now: datetime | None = None) -> TickResult:
    """One step of the dialing loop for one campaign (see the module docstring)."""
    now = now or _now(deps)
    result = TickResult(tenant_id=tenant_id, campaign_id=campaign_id)
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    if campaign.status is not CampaignStatus.RUNNING:
        return result
    settings = dialer_settings(deps, tenant_id)
    if settings is None:
        logger.warning("campaign running without a dialer", extra={"tenant_id": tenant_id, "campaign_id": campaign_id})
        return result
    dialer = deps.dialers(settings)

    # 1. outcomes the dialer knows by now (the simulated carrier; Connect's come as contact records)
    in_flight = []
    for record in deps.outbound.campaign_attempts(tenant_id, campaign_id, since=now - IN_FLIGHT):
        if record.attempt.disposition is not None:
            continue
        outcome = dialer.poll(record, now)
        if outcome is None:
            in_flight.append(record)
            continue
        try:
            record_outcome(deps, tenant_id, campaign_id, record.attempt.row_id, record.attempt_id, outcome,
                           contact_id=record.contact_id if record.dial_mode is CampaignMode.PREVIEW else None)
            result.outcomes += 1
        except Conflict:
            pass  # another writer recorded it first

    # 2. pacing from live data
    agents = _campaign_agents(deps, tenant_id, campaign)
    counts30 = _window_counts(deps, tenant_id, campaign_id, now, ABANDON_DAYS)
    stats = abandonment(counts30)
    mode = pacing_mode(campaign, stats)
    result.mode = str(mode)
    if mode is CampaignMode.PREVIEW:
        _offer_previews(deps, campaign, sum(1 for a in agents if _free(a)), now, result)
        _count(deps, result, now)
        return result
    state = PacingState(
        agents_free=sum(1 for a in agents if _free(a)),
        agents_on_call=sum(1 for a in agents if a.active.get(Channel.VOICE) and not a.acw_contact_ids),
        agents_in_wrap_up=sum(1 for a in agents if a.acw_contact_ids),
        calls_in_flight=len(in_flight),
        answer_rate=_answer_rate(_window_counts(deps, tenant_id, campaign_id, now, ANSWER_RATE_DAYS)),
        measured_abandon_rate=min(1.0, stats.rate),
        max_abandon_rate=campaign.max_abandon_rate,
        max_dials=MAX_ROWS_PER_TICK,
    )
    wanted = dials_to_place(mode, state)
    result.wanted = wanted
    if wanted <= 0:
        _count(deps, result, now)
        return result

    # 3. due rows: check, store the attempt with its checks, then dial
    history = _History(deps, tenant_id)
    suppressions, consents = _Suppressions(deps, tenant_id), _Consents(deps, tenant_id)
    rows = deps.outbound.due_rows(tenant_id, campaign_id, now, min(MAX_ROWS_PER_TICK, wanted * ROWS_PER_DIAL))
    for row in rows:
        if result.dialed >= wanted:
            break
        number, decision = _decide(campaign, row, now, history, suppressions, consents, mode, stats)
        if not decision.allowed:
            _hold_back(deps, row, decision, result)
            continue
        attempt = Attempt(attempt_id=_new_attempt_id(deps, now), campaign_id=campaign_id, row_id=row.row.row_id,
                          account_id=row.row.account_id, number=number, started_at=now, checks=decision.checks)
        record = AttemptRecord(tenant_id=tenant_id, attempt=attempt, dial_mode=mode, campaign_version=campaign.version)
        try:
            deps.outbound.start_attempt(record, row, next_due_at=now + ROW_GUARD)
        except Conflict:
            result.conflicts += 1  # the campaign, the row or a suppression changed since the check: not dialed
            continue
        history.fresh.append(attempt)
        result.dialed += 1
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
                                         disposition=Disposition.NO_ANSWER, at=now, dial_error=type(exc).__name__[:256])
    _count(deps, result, now)
    return result


PREVIEW_HOLD = timedelta(hours=1)  # a previewed row is not offered again before it is dialed (or this long)


def _offer_previews(deps: Dependencies, campaign: Campaign, free: int, now: datetime, result: TickResult) -> None:
    """Preview: one record per free agent becomes an OUTBOUND contact routed like inbound work (the same
    routing and reservation); the agent reads it, then dials it (`dial_preview`), which is when the checks
    run and the attempt is stored. Rows a check would block now are held back here already."""
    if free <= 0:
        return
    result.wanted = free
    history = _History(deps, result.tenant_id)
    suppressions, consents = _Suppressions(deps, result.tenant_id), _Consents(deps, result.tenant_id)
    stats = AbandonmentStats(answered=0, abandoned=0)
    for row in deps.outbound.due_rows(result.tenant_id, campaign.campaign_id, now, min(MAX_ROWS_PER_TICK, free * ROWS_PER_DIAL)):
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
    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$",
                               description="which of the record's numbers (default: the first one a check allows)")


class PreviewDialResult(BaseModel):
    contact_id: str
    attempt_id: str
    number: str
    checks: list[CheckResult]


def dial_preview(deps: Dependencies, tenant_id: str, contact_id: str, request: PreviewDialRequest) -> PreviewDialResult:
    """The agent holding a preview contact dials its record: checked now (every check, as for any dial), the
    attempt stored with its checks, then dialed. Blocked: 409 naming the failed checks, nothing dialed."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    campaign_id, row_id = contact.attributes.get("campaign_id"), contact.attributes.get("row_id")
    if contact.attributes.get("preview") != "1" or not campaign_id or not row_id:
        raise DomainError(f"contact {contact_id} is not a preview record", field="contact_id")
    if contact.attributes.get("attempt_id"):
        raise Conflict(f"contact {contact_id} was dialed already", field="contact_id")
    if str(contact.state) != "CONNECTED":
        raise Conflict(f"contact {contact_id} is {contact.state}: accept it first", field="contact_id")
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    row = deps.outbound.get_row(tenant_id, campaign_id, row_id)
    now = _now(deps)
    history = _History(deps, tenant_id)
    suppressions, consents = _Suppressions(deps, tenant_id), _Consents(deps, tenant_id)
    stats = AbandonmentStats(answered=0, abandoned=0)
    if request.number is not None and request.number not in row.row.numbers:
        raise DomainError("not a number of this record", field="number")
    if request.number is not None:
        number = request.number
        decision = check_attempt(campaign, row.row, number, now, history, suppressions, consents,
                                 dial_mode=CampaignMode.PREVIEW, abandonment=stats)
    else:
        number, decision = _decide(campaign, row, now, history, suppressions, consents, CampaignMode.PREVIEW, stats)
    if not decision.allowed:
        raise Conflict("blocked by " + ", ".join(str(n) for n in decision.failed), field="checks")
    attempt = Attempt(attempt_id=_new_attempt_id(deps, now), campaign_id=campaign_id, row_id=row_id,
                      account_id=row.row.account_id, number=number, started_at=now, checks=decision.checks)
    record = AttemptRecord(tenant_id=tenant_id, attempt=attempt, dial_mode=CampaignMode.PREVIEW,
                           campaign_version=campaign.version, contact_id=contact_id)
    deps.outbound.start_attempt(record, row, next_due_at=now + ROW_GUARD)  # Conflict: changed since the check
    deps.outbound.add_counts(tenant_id, campaign_id, _day(now), {"attempts": 1})
    settings = dialer_settings(deps, tenant_id)
    try:
        if settings is None:
            raise RuntimeError("no dialer configured")
        deps.dialers(settings).dial(DialRequest(
            tenant_id=tenant_id, campaign_id=campaign_id, row_id=row_id, attempt_id=attempt.attempt_id, number=number,
            caller_id=campaign.caller_id, queue_id=campaign.queue_id, mode=CampaignMode.PREVIEW))
    except Exception as exc:  # noqa: BLE001 - stored attempt: its failure is recorded
        deps.outbound.finish_attempt(tenant_id, campaign_id, row_id, attempt.attempt_id, disposition=Disposition.NO_ANSWER,
                                     at=now, dial_error=type(exc).__name__[:256])
        deps.outbound.add_counts(tenant_id, campaign_id, _day(now), {"dial_errors": 1, f"outcome.{Disposition.NO_ANSWER}": 1})
    _link(deps, tenant_id, contact_id, attempt.attempt_id)
    return PreviewDialResult(contact_id=contact_id, attempt_id=attempt.attempt_id, number=number, checks=list(decision.checks))


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
            consents: _Consents, mode: CampaignMode, stats: AbandonmentStats) -> tuple[str, Decision]:
    """The first of the row's numbers a check allows; else the first number's decision, waiting until the
    earliest time any number clears (None when none ever clears by itself)."""
    decisions = []
    for number in row.row.numbers:
        decision = check_attempt(campaign, row.row, number, now, history, suppressions, consents,
                                 dial_mode=mode, abandonment=stats)
        if decision.allowed:
            return number, decision
        decisions.append((number, decision))
    number, first = decisions[0]
    waits = [d.next_allowed_at for _, d in decisions if d.next_allowed_at is not None]
    return number, first.model_copy(update={"next_allowed_at": min(waits) if waits else None})


def _hold_back(deps: Dependencies, row: StoredRow, decision: Decision, result: TickResult) -> None:
    failed = [str(name) for name in decision.failed]
    result.blocked += 1
    for name in failed:
        result.blocks[name] = result.blocks.get(name, 0) + 1
    try:
        deps.outbound.schedule_row(row, next_due_at=decision.next_allowed_at,
                                   blocked_by=() if decision.next_allowed_at else failed)
    except Conflict:
        return
    if decision.next_allowed_at is None:
        result.ended += 1
    else:
        result.deferred += 1


def _count(deps: Dependencies, result: TickResult, now: datetime) -> None:
    counts = {f"blocked.{name}": n for name, n in result.blocks.items()}
    if result.dialed:
        counts["attempts"] = result.dialed
    if result.dial_errors:
        counts["dial_errors"] = result.dial_errors
        counts[f"outcome.{Disposition.NO_ANSWER}"] = result.dial_errors
    if counts:
        deps.outbound.add_counts(result.tenant_id, result.campaign_id, _day(now), counts)


def dial_sweep(deps: Dependencies, now: datetime | None = None,
               on_error: Callable[[str, str, Exception], None] | None = None) -> SweepResult:
    """One tick of every RUNNING campaign of every tenant; a failing campaign does not stop the others."""
    result = SweepResult()
    for tenant_id, campaign_id in deps.outbound.running_campaigns():
        result.campaigns += 1
        try:
            result.ticks.append(dial_tick(deps, tenant_id, campaign_id, now))
        except Exception as exc:  # noqa: BLE001 - reported per campaign
            result.failed.append((tenant_id, campaign_id))
            if on_error is not None:
                on_error(tenant_id, campaign_id, exc)
    return result


# --- outcomes ----------------------------------------------------------------------------------------------

def record_outcome(deps: Dependencies, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str,
                   outcome: CarrierOutcome, *, contact_id: str | None = None) -> AttemptRecord:
    """The carrier's outcome of one attempt (idempotent: a repeated outcome returns the stored attempt).

    A person answering a call of an agent-worked campaign becomes an OUTBOUND contact of the campaign's
    queue when an agent is free now; otherwise the call is dropped with the recorded identification
    message: an abandoned call (it counts against the 3 % cap). `contact_id` given: the carrier itself
    connected the call (Amazon Connect's contact), nothing is routed here."""
    record = deps.outbound.get_attempt(tenant_id, campaign_id, row_id, attempt_id)
    if record.attempt.disposition is not None:
        return record
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    disposition, message = outcome.disposition, None
    if contact_id is None and disposition is Disposition.ANSWERED and campaign.mode is not CampaignMode.AGENTLESS:
        if any(_free(a) for a in _campaign_agents(deps, tenant_id, campaign)):
            contact_id = _outbound_contact(deps, tenant_id, campaign, record)
        else:
            disposition, message = Disposition.ABANDONED, True
    elif disposition is Disposition.ABANDONED:
        message = True
    done = deps.outbound.finish_attempt(
        tenant_id, campaign_id, row_id, attempt_id, disposition=disposition, at=outcome.at, contact_id=contact_id,
        ring_seconds=outcome.ring_seconds, abandon_message_played=message)
    counts = {f"outcome.{disposition}": 1}
    if contact_id and disposition is Disposition.ANSWERED:
        counts["connects"] = 1
    deps.outbound.add_counts(tenant_id, campaign_id, _day(outcome.at), counts)
    _due_again(deps, tenant_id, campaign_id, row_id, outcome.at)
    return done


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


def _ctr_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def outcome_from_ctr(ctr: Mapping[str, Any]) -> tuple[dict[str, str], CarrierOutcome] | None:
    """The ids (tenant, campaign, row, attempt) and the outcome a Connect contact record gives a campaign
    call; None for any other record. AMD's status first (voicemail, fax, busy and invalid-number SIT tones,
    unanswered); else a call connected to an agent is ANSWERED, one the flow answered that no agent took is
    ABANDONED (the flow played the message), a destination error INVALID_NUMBER, the rest NO_ANSWER."""
    attributes = ctr.get("Attributes") or {}
    if not isinstance(attributes, Mapping) or ctr.get("InitiationMethod") != "OUTBOUND":
        return None
    ids = {k: str(attributes.get(f"{CTR_ATTRIBUTE_PREFIX}{k}") or "")
           for k in ("tenant_id", "campaign_id", "row_id", "attempt_id")}
    if not all(ids.values()):
        return None
    agent = ctr.get("Agent") if isinstance(ctr.get("Agent"), Mapping) else {}
    started = _ctr_time(ctr.get("InitiationTimestamp"))
    system_at = _ctr_time(ctr.get("ConnectedToSystemTimestamp"))
    ended = _ctr_time(ctr.get("DisconnectTimestamp")) or system_at or started
    if ended is None:
        return None
    disposition = _AMD.get(str(ctr.get("AnsweringMachineDetectionStatus") or ""))
    if disposition is None:
        if agent.get("ConnectedToAgentTimestamp"):
            disposition = Disposition.ANSWERED
        elif system_at is not None:
            disposition = Disposition.ABANDONED
        elif str(ctr.get("DisconnectReason") or "") == "OUTBOUND_DESTINATION_ENDPOINT_ERROR":
            disposition = Disposition.INVALID_NUMBER
        else:
            disposition = Disposition.NO_ANSWER
    ring = (system_at - started).total_seconds() if system_at and started else None
    return ids, CarrierOutcome(disposition=disposition, at=ended,
                               ring_seconds=ring if ring is not None and 0 <= ring <= 600 else None)


def record_ctr_outcome(deps: Dependencies, ctr: Mapping[str, Any]) -> AttemptRecord | None:
    """A Connect contact record of a campaign call: its outcome on the attempt it names (None: not one).
    The tenant is the Connect instance's; the record's own attributes must agree with it."""
    found = outcome_from_ctr(ctr)
    if found is None:
        return None
    ids, outcome = found
    tenant_id = deps.config.tenant_for_connect_instance(str(ctr.get("InstanceARN") or ""))
    if tenant_id is None or tenant_id != ids["tenant_id"]:
        raise DomainError("the contact record's instance does not belong to the attempt's tenant", field="InstanceARN")
    contact_id = str(ctr.get("ContactId") or "") or None
    return record_outcome(deps, tenant_id, ids["campaign_id"], ids["row_id"], ids["attempt_id"], outcome,
                          contact_id=contact_id if outcome.disposition is Disposition.ANSWERED else None)


def dispose_contact(deps: Dependencies, tenant_id: str, contact_id: str, request: DispositionRequest) -> AttemptRecord:
    """The agent's disposition of an OUTBOUND contact; opted out suppresses the number and account at once."""
    contact = deps.store.get_contact(tenant_id, contact_id)
    ids = [contact.attributes.get(k) for k in CAMPAIGN_ATTRIBUTES]
    if contact.initiation_method is not InitiationMethod.OUTBOUND or not all(ids):
        raise DomainError(f"contact {contact_id} is not a campaign call", field="contact_id")
    if request.disposition not in AGENT_DISPOSITIONS:
        raise DomainError(f"an agent cannot record {request.disposition}", field="disposition")
    campaign_id, row_id, attempt_id = ids
    now = _now(deps)
    done = deps.outbound.finish_attempt(tenant_id, campaign_id, row_id, attempt_id,  # type: ignore[arg-type]
                                        disposition=request.disposition, at=now)
    if request.disposition is Disposition.OPTED_OUT:
        opt_out(deps, tenant_id, done.attempt.number, done.attempt.account_id, "agent")
    deps.outbound.add_counts(tenant_id, campaign_id, _day(now), {f"agent.{request.disposition}": 1})  # type: ignore[arg-type]
    return done


# --- audit and metrics -------------------------------------------------------------------------------------

def attempts_export(deps: Dependencies, tenant_id: str, campaign_id: str, *, since: datetime | None = None,
                    until: datetime | None = None, after: str | None = None, limit: int = 1000) -> list[AttemptRecord]:
    deps.outbound.get_campaign(tenant_id, campaign_id)  # 404 for an unknown campaign
    start = since or datetime(2000, 1, 1, tzinfo=UTC)
    return deps.outbound.campaign_attempts(tenant_id, campaign_id, since=start, until=until, after=after, limit=limit)


CSV_COLUMNS = ("attempt_id", "campaign_id", "campaign_version", "row_id", "account_id", "number", "started_at",
               "ended_at", "dial_mode", "disposition", "contact_id", "allowed_by", "checks")


def _checks_text(checks: Sequence[CheckResult]) -> str:
    return " | ".join(f"{c.name}={'pass' if c.passed else 'fail'}: {c.detail}" for c in checks)


def attempts_csv(records: Sequence[AttemptRecord]) -> str:
    """The audit export as CSV: one line per attempt, its checks (each with its verdict and reason)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        a = r.attempt
        writer.writerow([
            a.attempt_id, a.campaign_id, r.campaign_version, a.row_id, a.account_id or "", a.number,
            a.started_at.isoformat(), r.ended_at.isoformat() if r.ended_at else "", str(r.dial_mode),
            str(a.disposition or ""), r.contact_id or "", ";".join(str(c.name) for c in a.checks if c.passed),
            _checks_text(a.checks),
        ])
    return out.getvalue()


def campaign_metrics(deps: Dependencies, tenant_id: str, campaign_id: str) -> CampaignMetrics:
    campaign = deps.outbound.get_campaign(tenant_id, campaign_id)
    now = _now(deps)
    counts = _window_counts(deps, tenant_id, campaign_id, now, 30)
    stats = abandonment(counts)
    in_flight = sum(1 for r in deps.outbound.campaign_attempts(tenant_id, campaign_id, since=now - IN_FLIGHT)
                    if r.attempt.disposition is None)

    def prefixed(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    agent = prefixed("agent.")
    return CampaignMetrics(
        campaign_id=campaign_id, status=campaign.status, mode=campaign.mode, attempts=counts.get("attempts", 0),
        human_answered=stats.answered, connects=counts.get("connects", 0),
        right_party_contacts=agent.get(str(Disposition.RIGHT_PARTY_CONTACT), 0), abandoned=stats.abandoned,
        abandonment_rate=round(stats.rate, 5), max_abandon_rate=campaign.max_abandon_rate,
        opted_out=agent.get(str(Disposition.OPTED_OUT), 0), dial_errors=counts.get("dial_errors", 0),
        outcomes=prefixed("outcome."), agent_dispositions=agent, blocks_by_rule=prefixed("blocked."),
        calls_in_flight=in_flight, rows_due_now=len(deps.outbound.due_rows(tenant_id, campaign_id, now, 100)),
    )


__all__ = [
    "CampaignMetrics", "CampaignPatch", "ConsentRequest", "ConsentResult", "record_consent", "CampaignRequest", "DispositionRequest", "ListUpload", "ListUploadResult",
    "SuppressionRequest", "SuppressionResult", "TickResult", "add_suppressions", "attempts_csv", "attempts_export",
    "PreviewDialRequest", "PreviewDialResult", "dial_preview",
    "campaign_metrics", "change_status", "outcome_from_ctr", "record_ctr_outcome", "create_campaign", "dial_sweep", "dial_tick", "dispose_contact",
    "get_campaign", "list_campaigns", "opt_out", "put_dialer_settings", "record_outcome", "update_campaign",
    "upload_list",
]
