"""Ports of the outbound-campaign feature (a module of its own: a function that never dials imports none
of this, and ccaas.ports stays free of outbound models).

- `OutboundStore`: campaigns, list rows with their next-due time, attempts (with the checks that allowed
  them), suppressions (DNC, imported lists, opt-outs) and consents, plus per-day campaign counters.
  DynamoDB (ccaas.adapters.aws.outbound) and memory (ccaas.adapters.memory.outbound) implement it; the
  contract suite (tests/contract/test_outbound_store.py) runs both.
- `Dialer`: places one call for one stored attempt (Amazon Connect StartOutboundVoiceContact, or the
  simulated carrier); `DialerFactory` builds the one a tenant's dialer settings name, and (`.sms`) the
  `SmsSender` of an agentless SMS campaign (AWS End User Messaging SMS SendTextMessage, or in memory).

Records the store keeps beside the domain models (`StoredRow`, `AttemptRecord`) add only what storage and
the dialer need (state, versions, the contact an answered call became); the rules stay in
ccaas.domain.outbound.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import AwareDatetime, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ccaas.domain.vocabulary import (
    Bool,
    CONNECT_INSTANCE_ARN,
    Float,
    Frozen,
    Int,
    SMS_CONFIGURATION_SET,
    SMS_ORIGINATION,
)
from ccaas.domain.outbound.compliance import REG_F_WINDOW, Suppression
from ccaas.domain.outbound.models import (
    Attempt,
    CallbackRequest,
    Campaign,
    CampaignMode,
    CheckResult,
    ConsentFlag,
    ContactListRow,
    Disposition,
)

__all__ = [
    "attempt_id_floor", "ledger_keys", "new_attempt_id", "AttemptLedger", "AttemptRecord", "IN_FLIGHT", "LEDGER_WINDOWS",
    "RINGING",
    "LedgerKind", "CarrierOutcome", "DialHandle", "DialRequest", "Dialer", "DialerFactory", "DialerSettings",
    "AgentHandouts", "AnswerHandout", "ConsentSeen", "ConversationKey", "OutboundStore", "RowState", "SmsRequest", "SmsSender", "StoredRow",
]

RowState = Literal["due", "done"]
ConversationKey = Literal["number", "account"]  # how a conversation outside the dialer names the person
LedgerKind = Literal["number", "account"]
IN_FLIGHT = timedelta(minutes=10)  # an attempt younger than this without an outcome is a call in flight
# The longest a placed call waits for its answer: Amazon Connect's dialing timeout (60 s; the simulated carrier's
# calls end within 32 s) plus answering-machine detection. Past it, a call with no outcome yet was answered (its agent is busy,
# counted as such) or has ended (its outcome is on the way): it no longer rings for a free agent.
RINGING = timedelta(seconds=75)
# What a ledger keeps: a debt's calls of Reg F's window, a number's calls that may still be in flight.
LEDGER_WINDOWS: Mapping[LedgerKind, timedelta] = {"account": REG_F_WINDOW, "number": IN_FLIGHT}


def _letters(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 26)
        out.append(chr(97 + r))
    return "".join(reversed(out))


def attempt_id_floor(at: datetime) -> str:
    """The smallest attempt id of an attempt started at or after `at` (attempt ids sort by start time)."""
    return f"at{_letters(int(at.timestamp() * 1000), 10)}"


def new_attempt_id(at: datetime, unique: int) -> str:
    """Sortable by start time (a campaign's attempts list in start order); `unique` tells two apart. Letters
    only: a run of digits could pass for a card number and be redacted from a contact's attributes."""
    return f"{attempt_id_floor(at)}-{_letters(unique, 14)}"


class StoredRow(Frozen):
    """A list row and where it stands: `due` rows sit in the due index at `next_due_at`; `done` rows
    left it (a check that never clears by itself failed, e.g. DNC, no consent, attempts exhausted)."""

    tenant_id: str
    campaign_id: str
    row: ContactListRow
    state: RowState = "due"
    next_due_at: AwareDatetime | None = None
    blocked_by: tuple[str, ...] = Field(default=(), max_length=32, description="the checks that ended it")
    blocked_checks: tuple[CheckResult, ...] = Field(
        default=(), max_length=32, description="the failed checks of the last decision that held it back or ended "
                                               "it (with their facts: which list, which rule): the audit of a block")
    version: Int = Field(default=0, ge=0)


class AttemptLedger(Frozen):
    """The attempts about one debt (`account`) or on one number (`number`), read strongly consistently, and a
    version the attempt transaction holds them to.

    Why: two dialers can check one debt or one number at once (two campaigns' ticks, a preview dial beside a
    tick). The by-account and by-number indexes they read lag and take no lock, so both could see 6 calls about
    the debt and both store the 7th (Reg F 7-in-7), or both see the number free and ring it twice at once. An
    attempt's transaction therefore writes its debt's and its number's ledgers at `version + 1` only while the
    stored versions are still the ones its check read: one dialer's attempt is stored, the other's is a Conflict
    and dials nothing. A ledger keeps the attempts its check needs (LEDGER_WINDOWS), without their checks."""

    kind: LedgerKind
    value: str = Field(description="the account/debt id, or the E.164 number")
    version: Int = Field(default=0, ge=0, description="0: no attempt was stored with this ledger yet")
    attempts: tuple[Attempt, ...] = ()

    def adding(self, attempt: Attempt) -> AttemptLedger:
        """The ledger once `attempt` is stored: the next version, what left the window dropped."""
        since = attempt.started_at - LEDGER_WINDOWS[self.kind]
        kept = tuple(a for a in self.attempts if a.started_at > since)
        return self.model_copy(update={"version": self.version + 1,
                                       "attempts": (*kept, attempt.model_copy(update={"checks": ()}))})


def ledger_keys(attempt: Attempt) -> list[tuple[LedgerKind, str]]:
    """The ledgers an attempt is started with: its number's, and its debt's when it is about one."""
    keys: list[tuple[LedgerKind, str]] = [("number", attempt.number)]
    if attempt.account_id is not None:
        keys.append(("account", attempt.account_id))
    return keys


class AnswerHandout(Frozen):
    """One answered call handed to a queue's agents (its attempt), and when."""

    campaign_id: str
    row_id: str
    attempt_id: str
    at: AwareDatetime


class AgentHandouts(Frozen):
    """The answered campaign calls handed to one queue's free agents that routing may not have offered to an agent
    yet, read strongly consistently, and a version the next hand-out's write holds them to.

    Why: routing reserves an agent after the contact is made, asynchronously; until then that agent still reads as
    free, and every later answer of the tick would be handed to it too (the people beyond the free agents wait in a
    queue: abandoned calls recorded as connected). Each hand-out still waiting holds one free agent; an answer's
    disposition and its hand-out are one conditional write, so two writers never both take the last agent."""

    queue_id: str
    version: Int = Field(default=0, ge=0, description="0: no hand-out was stored yet")
    handouts: tuple[AnswerHandout, ...] = Field(default=(), max_length=1000)

    def adding(self, kept: Sequence[AnswerHandout], handout: AnswerHandout) -> AgentHandouts:
        """The hand-outs once `handout` is stored beside `kept` (those still waiting): the next version."""
        return self.model_copy(update={"version": self.version + 1, "handouts": (*kept, handout)})


class AttemptRecord(Frozen):
    """One attempt as stored: the domain Attempt (checks included) and what the service layer adds."""

    tenant_id: str
    attempt: Attempt
    dial_mode: CampaignMode
    campaign_version: Int = Field(ge=1, description="the campaign rules the checks were made under")
    contact_id: str | None = Field(default=None, description="the OUTBOUND contact an answered call became")
    provider_id: str | None = Field(default=None, description="the carrier's id of the call (Connect ContactId)")
    dial_error: str | None = Field(default=None, max_length=256, description="the dial request failed")
    channel: Literal["voice", "sms"] = Field(default="voice", description="a call, or an agentless text message")
    ended_at: AwareDatetime | None = None

    @property
    def attempt_id(self) -> str:
        return self.attempt.attempt_id


class ConsentSeen(Frozen):
    """The consent record of one kind (automated calls or texts) a dial's check read for its number: None when
    there was none. The attempt is stored only while that record is unchanged (a revocation since dials
    nothing)."""

    kind: Literal["voice", "sms"]
    flag: ConsentFlag | None = None


class OutboundStore(Protocol):
    # --- campaigns ---------------------------------------------------------------------------------
    def put_campaign(self, tenant_id: str, campaign: Campaign, *, expected_version: int | None) -> None:
        """Create (`expected_version=None`: Conflict if it exists) or replace the campaign, only if the
        stored version is still `expected_version` (Conflict otherwise). `campaign.version` is the new one."""
        ...
    def get_campaign(self, tenant_id: str, campaign_id: str) -> Campaign:
        """NotFound when the tenant has no such campaign."""
        ...
    def list_campaigns(self, tenant_id: str) -> list[Campaign]: ...
    def running_campaigns(self) -> list[tuple[str, str]]:
        """(tenant id, campaign id) of every RUNNING campaign, any tenant (what the dialer sweep walks)."""
        ...
    def settling_campaigns(self) -> list[tuple[str, str]]:
        """(tenant id, campaign id) of every campaign that left RUNNING (paused, stopped, completed) and was not
        `settled` since: its calls placed may still end, and the sweep polls their outcomes."""
        ...
    def settled(self, tenant_id: str, campaign_id: str, version: int) -> None:
        """The campaign has no call in flight: it leaves `settling_campaigns`, only if it is still there at
        `version` (a status change since puts it back, or makes it running)."""
        ...
    def acquire_lease(self, tenant_id: str, name: str, owner: str, *, now: datetime, until: datetime) -> bool:
        """Hold the tenant's lease `name` for `owner` until `until`: True when it was free, expired (at or before
        `now`) or already `owner`'s; False (nothing written) while another owner holds it."""
        ...
    def release_lease(self, tenant_id: str, name: str, owner: str) -> None:
        """Free the lease if `owner` still holds it (otherwise nothing happens)."""
        ...

    # --- list rows -------------------------------------------------------------------------------------
    def put_rows(self, tenant_id: str, campaign_id: str, rows: Sequence[ContactListRow], due_at: datetime) -> int:
        """Store (or replace) rows, each due at `due_at`. Attempts already made stay (they are history)."""
        ...
    def get_row(self, tenant_id: str, campaign_id: str, row_id: str) -> StoredRow: ...
    def due_rows(self, tenant_id: str, campaign_id: str, now: datetime, limit: int) -> list[StoredRow]:
        """Up to `limit` rows due at or before `now`, earliest first, from the due index (never a scan)."""
        ...
    def schedule_row(self, row: StoredRow, *, next_due_at: datetime | None, blocked_by: Sequence[str] = (),
                     checks: Sequence[CheckResult] = ()) -> StoredRow:
        """Move the row in the due index (`next_due_at`) or out of it (None: done), only if its stored
        version is still `row.version` (Conflict otherwise); `checks`: the failed checks that held it back."""
        ...
    def has_due_rows(self, tenant_id: str, campaign_id: str) -> bool:
        """Whether any row of the campaign is still in the due index (at any time): False once every row
        is final (done), which is when a running campaign completes. One index read of one item."""
        ...

    # --- attempts --------------------------------------------------------------------------------------
    def start_attempt(self, record: AttemptRecord, row: StoredRow, *, next_due_at: datetime,
                      ledgers: Sequence[AttemptLedger], consent: ConsentSeen | None = None) -> None:
        """Atomically: store the attempt with its checks and move the row to `next_due_at`, only if the
        campaign is still RUNNING at `record.campaign_version`, the row still at `row.version`, no
        suppression of the row's number, e-mail or account appeared since the check, the consent record of
        the attempt's number is still `consent.flag` (when given: what an automated dial's check read), and
        the attempt's ledgers (`ledger_keys`: its number's, its debt's) are still at the versions in `ledgers`
        (each becomes `ledger.adding(attempt)`). Conflict otherwise: nothing is written and nothing may be dialed. Ledgers
        other than exactly the attempt's are a ValueError (its check could not have seen every call)."""
        ...
    def ledger(self, tenant_id: str, kind: LedgerKind, value: str) -> AttemptLedger:
        """The ledger of a debt or a number (strongly consistent; version 0 and no attempts before its first)."""
        ...
    def get_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str) -> AttemptRecord: ...
    def finish_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *,
                       disposition: Disposition, at: datetime, contact_id: str | None = None,
                       ring_seconds: float | None = None, abandon_message_played: bool | None = None,
                       provider_id: str | None = None, dial_error: str | None = None,
                       counts: Mapping[str, int] | None = None, count_day: str | None = None,
                       handouts: AgentHandouts | None = None, callback: CallbackRequest | None = None) -> AttemptRecord:
        """Set the disposition: once from none (the carrier's outcome), then once more from ANSWERED to an
        agent's (AGENT_DISPOSITIONS; never ABANDONED over ANSWERED). Any other change is a Conflict (an audit
        trail is not rewritten). `counts` are added to the campaign's counters of `count_day` (default: `at`'s
        UTC day) in the same write: a retry that finds the disposition set has nothing left to count (counted
        apart, a failure between the two lost them for good). `handouts` (the queue's, at their next version)
        are stored in the same write only over the version read: Conflict otherwise, nothing written.
        `callback` (the time the person asked to be called back) goes with the disposition callback_requested, and
        only with it (a ValueError otherwise, nothing written); it is stored on the attempt in the same write."""
        ...
    def link_contact(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *, contact_id: str,
                     at: datetime, counts: Mapping[str, int] | None = None) -> AttemptRecord:
        """Name the contact an answered attempt became, once (Conflict when it names one already); `counts` are
        added to `at`'s UTC day in the same write."""
        ...
    def handouts(self, tenant_id: str, queue_id: str) -> AgentHandouts:
        """The queue's hand-outs (strongly consistent; version 0 and none before the first)."""
        ...
    def record_attempts(self, tenant_id: str, campaign_id: str, row_id: str) -> list[Attempt]:
        """The row's attempts in this campaign, oldest first (strongly consistent)."""
        ...
    def account_attempts(self, tenant_id: str, account_id: str, since: datetime) -> list[Attempt]:
        """Attempts about this account/debt in any campaign started after `since`, oldest first."""
        ...
    def number_attempts(self, tenant_id: str, number: str, since: datetime) -> list[Attempt]:
        """Attempts on this number in any campaign started after `since`, oldest first."""
        ...
    def campaign_attempts(self, tenant_id: str, campaign_id: str, *, since: datetime, until: datetime | None = None,
                          after: str | None = None, limit: int = 1000) -> list[AttemptRecord]:
        """The campaign's attempts started in [since, until), oldest first, after attempt id `after`."""
        ...

    # --- counters --------------------------------------------------------------------------------------
    def add_counts(self, tenant_id: str, campaign_id: str, day: str, counts: Mapping[str, int]) -> None:
        """Add to the campaign's counters of `day` (UTC ISO date): attempts, dispositions, blocks by rule."""
        ...
    def day_counts(self, tenant_id: str, campaign_id: str, first_day: str, last_day: str) -> dict[str, dict[str, int]]:
        """day -> counters, for the days in [first_day, last_day] that have any."""
        ...

    # --- suppression and consent ----------------------------------------------------------------------
    def add_suppressions(self, tenant_id: str, entries: Sequence[Suppression]) -> int:
        """Store entries (an existing entry is kept, with its first source and time); honoured at once."""
        ...
    def match_suppression(self, tenant_id: str, number: str, email: str | None, account_id: str | None) -> Suppression | None: ...
    def put_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"], flag: ConsentFlag) -> None:
        """Keep the record if it supersedes the stored one (later; a revocation wins a tie)."""
        ...
    def latest_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None: ...

    # --- conversations outside the dialer (Reg F's 7-day quiet period) -------------------------------
    def add_conversation(self, tenant_id: str, kind: ConversationKey, value: str, at: datetime, source: str) -> None:
        """A telephone conversation with the person named by a number or an account at `at` (an inbound
        call); `source` (the contact id) makes a repeat of the same conversation a no-op. Kept 8 days."""
        ...
    def conversations(self, tenant_id: str, kind: ConversationKey, value: str, since: datetime) -> list[datetime]:
        """When the conversations of that number / account after `since` took place, oldest first."""
        ...


# --- dialing -----------------------------------------------------------------------------------------------

# The simulated carrier's outcomes of one call; what is left of 1 rings out unanswered.
OUTCOME_PROBABILITIES = ("p_human", "p_machine", "p_busy", "p_invalid")


def outcome_probabilities_fit(*probabilities: float) -> bool:
    """Whether outcome probabilities describe one call: each in [0, 1], together at most 1 (as decimals: 0.3 + 0.3
    + 0.3 + 0.1 is 1, whatever binary floats make of it). The settings' rule and the carrier's own check."""
    return all(0 <= p <= 1 for p in probabilities) and math.fsum(probabilities) <= 1 + 1e-9


class DialerSettings(Frozen):
    """A tenant's dialer (ConfigStore settings "outbound_dialer"): Amazon Connect, or the simulated carrier
    (the local runtime, demos, load tests)."""

    kind: Literal["connect", "simulated"]
    # Amazon Connect StartOutboundVoiceContact. The instance by its ARN, registered to the tenant with the admin
    # tool (the dialer's grant covers every instance the deployment configures: the ARN says whose it is).
    instance_arn: str | None = Field(default=None, max_length=200, pattern=CONNECT_INSTANCE_ARN, description=(
        "arn:aws:connect:<region>:<account>:instance/<id>, an instance registered to this tenant"))
    instance_id: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9-]+$",
                                    description="the id part of instance_arn (given or not, it is the ARN's)")
    contact_flow_id: str | None = Field(default=None, max_length=500, pattern=r"^[A-Za-z0-9-]+$")
    queues: dict[str, str] = Field(default_factory=dict, max_length=100,
                                   description="our queue id -> the Connect queue id an answered call goes to")
    answer_machine_detection: Bool = True
    # the simulated carrier
    seed: Int = 0
    p_human: Float = Field(default=0.30, ge=0, le=1)
    p_machine: Float = Field(default=0.20, ge=0, le=1)
    p_busy: Float = Field(default=0.05, ge=0, le=1)
    p_invalid: Float = Field(default=0.05, ge=0, le=1)
    ring_time_scale: Float = Field(
        default=1.0, gt=0, le=1,
        description="the simulated carrier's delays (ringing, answering) times this: a demo or a test compresses "
                    "them; the ring seconds reported stay the carrier's (the 15 s abandonment rule reads those)")
    # agentless SMS (AWS End User Messaging SMS, pinpoint-sms-voice-v2 SendTextMessage)
    sms_origination: str | None = Field(
        default=None, max_length=256, pattern=SMS_ORIGINATION,
        description="the phone number, pool or sender id (or its ARN) texts are sent from, registered to this tenant "
                    "(a connect dialer); default: the caller id")
    sms_configuration_set: str | None = Field(
        default=None, max_length=256, pattern=SMS_CONFIGURATION_SET,
        description="the configuration set texts are sent through, registered to this tenant (a connect dialer)")
    sms_message_type: Literal["TRANSACTIONAL", "PROMOTIONAL"] = "PROMOTIONAL"

    @model_validator(mode="before")
    @classmethod
    def _instance_of_the_arn(cls, data: object) -> object:
        if not isinstance(data, Mapping) or not isinstance(data.get("instance_arn"), str):
            return data
        own = data["instance_arn"].rsplit("/", 1)[-1]
        if data.get("instance_id") not in (None, own):
            raise ValueError("instance_id is not the instance of instance_arn")
        return {**data, "instance_id": own}

    @model_validator(mode="after")
    def _one_outcome_per_call(self) -> DialerSettings:
        """A simulated carrier's outcome probabilities sum to at most 1: over it, the carrier refused every call
        and every dialing tick failed. The 422 names the probabilities the client gave (each is in range on its
        own: the sum is what is wrong), never their values."""
        given = [getattr(self, name) for name in OUTCOME_PROBABILITIES]
        if self.kind != "simulated" or outcome_probabilities_fit(*given):
            return self
        blamed = [name for name in OUTCOME_PROBABILITIES if name in self.model_fields_set] or list(OUTCOME_PROBABILITIES)
        problem = PydanticCustomError("outcome_probabilities", "p_human + p_machine + p_busy + p_invalid must sum to at "
                                                               "most 1 (the rest of the calls ring out unanswered)")
        raise ValidationError.from_exception_data(type(self).__name__, [
            InitErrorDetails(type=problem, loc=(name,), input=getattr(self, name)) for name in blamed])


class DialRequest(Frozen):
    tenant_id: str
    campaign_id: str
    row_id: str
    attempt_id: str
    number: str
    caller_id: str
    queue_id: str
    mode: CampaignMode
    agentless_message: str | None = None
    ring_timeout_s: Int = Field(default=28, ge=15, le=120, description="ring at least 15 s before a no-answer")


class DialHandle(Frozen):
    provider_id: str


class CarrierOutcome(Frozen):
    """What the far side said about one dial: who or what answered, and when."""

    disposition: Disposition
    at: AwareDatetime
    ring_seconds: float | None = None
    agent_wait_s: float | None = Field(default=None, description="an agent of the carrier's own connected this long "
                                                                  "after the person answered (Connect's contact record)")


class Dialer(Protocol):
    def dial(self, request: DialRequest) -> DialHandle:
        """Place the call (after the attempt and its checks are stored). Raises on a refused request."""
        ...
    def poll(self, record: AttemptRecord, now: datetime) -> CarrierOutcome | None:
        """The outcome of an in-flight call if this dialer knows it by now; None when it arrives as an
        event instead (Amazon Connect: contact records) or is not known yet."""
        ...


class SmsRequest(Frozen):
    """One agentless text message of one stored attempt (the opt-out notice already appended)."""

    tenant_id: str
    campaign_id: str
    row_id: str
    attempt_id: str
    number: str
    origination: str = Field(description="the number, pool or sender id it is sent from")
    text: str = Field(min_length=1, max_length=1600)


class SmsSender(Protocol):
    def send(self, request: SmsRequest) -> DialHandle:
        """Hand the message to the carrier (after the attempt and its checks are stored). Raises on a refusal."""
        ...


class DialerFactory(Protocol):
    def __call__(self, settings: DialerSettings) -> Dialer: ...
    def sms(self, settings: DialerSettings) -> SmsSender: ...
