"""In-memory twin of the outbound store (same semantics as adapters/aws/outbound.py), the two dialers that
never leave the process (the simulated carrier and a recording dialer for tests) and the in-memory SMS sender."""
from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from ccaas.adapters.memory.carrier import CarrierProfile, SimulatedCarrier
from ccaas.domain.models import Conflict, NotFound
from ccaas.domain.outbound.compliance import (Suppression, consent_supersedes, email_suppression_key,
                                              email_suppression_keys)
from ccaas.domain.outbound.metrics import counter_day
from ccaas.domain.outbound.models import (
    AGENT_DISPOSITIONS,
    Attempt,
    CallbackRequest,
    Campaign,
    CampaignStatus,
    CheckResult,
    ConsentFlag,
    ContactListRow,
    Disposition,
)
from ccaas.ports_outbound import (
    AgentHandouts,
    AttemptLedger,
    AttemptRecord,
    CarrierOutcome,
    ConsentSeen,
    ConversationKey,
    DialerSettings,
    DialHandle,
    DialRequest,
    LedgerKind,
    SmsRequest,
    StoredRow,
    attempt_id_floor,
    ledger_keys,
)
from ccaas.domain.vocabulary import shown_value

# Shared by both implementations of the store.
REFINABLE = Disposition.ANSWERED  # the carrier's "a person answered"; the agent then says who it was


def suppression_keys(number: str | None, email: str | None, account_id: str | None) -> list[tuple[str, str]]:
    """(kind, value) of every suppression that would hold a row back, each once (the AWS store checks each key in
    one transaction); an e-mail by its suppression keys (compliance.email_suppression_keys)."""
    keys = [("number", number or ""), *(("email", key) for key in email_suppression_keys(email)),
            ("account", account_id or "")]
    return [k for k in keys if k[1]]


def suppression_value(entry: Suppression) -> str:
    """The value a suppression is kept under: an e-mail by its suppression key, as rows are matched."""
    return email_suppression_key(entry.value) if entry.kind == "email" else entry.value


def ledgers_after(record: AttemptRecord, ledgers: Sequence[AttemptLedger]) -> list[AttemptLedger]:
    """The attempt's ledgers (`ledger_keys`: its number's, its debt's) once `record` is stored."""
    given = {(ledger.kind, ledger.value): ledger for ledger in ledgers}
    wanted = ledger_keys(record.attempt)
    if len(ledgers) != len(wanted) or set(given) != set(wanted):
        raise ValueError(f"attempt {record.attempt_id} must be started with the ledgers of its number and its "
                         "debt, as its check read them")
    return [given[key].adding(record.attempt) for key in wanted]


def check_refinement(record: AttemptRecord, disposition: Disposition, callback: CallbackRequest | None = None) -> None:
    """The carrier's outcome once; then only an agent's disposition over ANSWERED (a second carrier outcome, e.g.
    an overlapping tick's ABANDONED, never rewrites a call that reached an agent). A callback time goes with the
    disposition callback_requested and only with it (ValueError: the caller's mistake, not a race)."""
    if (callback is not None) != (disposition is Disposition.CALLBACK_REQUESTED):
        raise ValueError("a callback time goes with the disposition callback_requested, and only with it")
    current = record.attempt.disposition
    if current is None or (current is REFINABLE and disposition in AGENT_DISPOSITIONS):
        return
    raise Conflict(f"attempt {shown_value(record.attempt_id)} already ended {current}; it cannot become {disposition}",
                   field="disposition")


class MemoryOutboundStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.campaigns: dict[tuple[str, str], Campaign] = {}
        self.rows: dict[tuple[str, str, str], StoredRow] = {}
        self.attempts: dict[tuple[str, str, str, str], AttemptRecord] = {}
        self.counts: dict[tuple[str, str, str], dict[str, int]] = {}
        self.suppressions: dict[tuple[str, str, str], Suppression] = {}
        self.consents: dict[tuple[str, str, str], ConsentFlag] = {}
        self.talks: dict[tuple[str, str, str], dict[str, datetime]] = {}  # (tenant, kind, value) -> source -> at
        self.ledgers: dict[tuple[str, str, str], AttemptLedger] = {}  # (tenant, kind, value)
        self.agent_handouts: dict[tuple[str, str], AgentHandouts] = {}  # (tenant, queue)
        self.settling: set[tuple[str, str]] = set()  # campaigns that left RUNNING, not settled yet
        self.leases: dict[tuple[str, str], tuple[str, datetime]] = {}  # (tenant, name) -> (owner, until)

    # --- campaigns ---------------------------------------------------------------------------------
    def put_campaign(self, tenant_id: str, campaign: Campaign, *, expected_version: int | None) -> None:
        with self._lock:
            held = self.campaigns.get((tenant_id, campaign.campaign_id))
            if expected_version is None and held is not None:
                raise Conflict(f"campaign {shown_value(campaign.campaign_id)} exists", field="campaign_id")
            if expected_version is not None and (held is None or held.version != expected_version):
                raise Conflict(f"campaign {shown_value(campaign.campaign_id)} changed concurrently; retry", field="version")
            self.campaigns[(tenant_id, campaign.campaign_id)] = campaign
            if campaign.status in (CampaignStatus.RUNNING, CampaignStatus.DRAFT):
                self.settling.discard((tenant_id, campaign.campaign_id))
            else:
                self.settling.add((tenant_id, campaign.campaign_id))

    def get_campaign(self, tenant_id: str, campaign_id: str) -> Campaign:
        held = self.campaigns.get((tenant_id, campaign_id))
        if held is None:
            raise NotFound(f"campaign {shown_value(campaign_id)} not found", field="campaign_id")
        return held

    def list_campaigns(self, tenant_id: str) -> list[Campaign]:
        return sorted((c for (t, _), c in self.campaigns.items() if t == tenant_id), key=lambda c: c.campaign_id)

    def running_campaigns(self) -> list[tuple[str, str]]:
        return sorted(k for k, c in self.campaigns.items() if c.status is CampaignStatus.RUNNING)

    def settling_campaigns(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self.settling)

    def settled(self, tenant_id: str, campaign_id: str, version: int) -> None:
        with self._lock:
            held = self.campaigns.get((tenant_id, campaign_id))
            if held is not None and held.version == version:
                self.settling.discard((tenant_id, campaign_id))

    def acquire_lease(self, tenant_id: str, name: str, owner: str, *, now: datetime, until: datetime) -> bool:
        with self._lock:
            held = self.leases.get((tenant_id, name))
            if held is not None and held[0] != owner and held[1] > now:
                return False
            self.leases[(tenant_id, name)] = (owner, until)
            return True

    def release_lease(self, tenant_id: str, name: str, owner: str) -> None:
        with self._lock:
            held = self.leases.get((tenant_id, name))
            if held is not None and held[0] == owner:
                del self.leases[(tenant_id, name)]

    # --- rows ----------------------------------------------------------------------------------------
    def put_rows(self, tenant_id: str, campaign_id: str, rows: Sequence[ContactListRow], due_at: datetime) -> int:
        with self._lock:
            for row in rows:
                key = (tenant_id, campaign_id, row.row_id)
                held = self.rows.get(key)
                self.rows[key] = StoredRow(tenant_id=tenant_id, campaign_id=campaign_id, row=row, state="due",
                                           next_due_at=due_at, version=(held.version + 1) if held else 0)
        return len(rows)

    def get_row(self, tenant_id: str, campaign_id: str, row_id: str) -> StoredRow:
        held = self.rows.get((tenant_id, campaign_id, row_id))
        if held is None:
            raise NotFound(f"row {shown_value(row_id)} not found", field="row_id")
        return held

    def due_rows(self, tenant_id: str, campaign_id: str, now: datetime, limit: int) -> list[StoredRow]:
        with self._lock:
            due = [r for (t, c, _), r in self.rows.items()
                   if t == tenant_id and c == campaign_id and r.state == "due" and r.next_due_at is not None
                   and r.next_due_at <= now]
        return sorted(due, key=lambda r: (r.next_due_at, r.row.row_id))[:limit]

    def schedule_row(self, row: StoredRow, *, next_due_at: datetime | None, blocked_by: Sequence[str] = (),
                     checks: Sequence[CheckResult] = ()) -> StoredRow:
        with self._lock:
            key = (row.tenant_id, row.campaign_id, row.row.row_id)
            self._check_row(key, row.version)
            moved = row.model_copy(update={"state": "due" if next_due_at else "done", "next_due_at": next_due_at,
                                           "blocked_by": tuple(blocked_by), "blocked_checks": tuple(checks),
                                           "version": row.version + 1})
            self.rows[key] = moved
            return moved

    def has_due_rows(self, tenant_id: str, campaign_id: str) -> bool:
        with self._lock:
            return any(t == tenant_id and c == campaign_id and r.state == "due" for (t, c, _), r in self.rows.items())

    def _check_row(self, key: tuple[str, str, str], version: int) -> None:
        held = self.rows.get(key)
        if held is None or held.version != version:
            raise Conflict(f"row {shown_value(key[2])} changed concurrently", field="row_id")

    # --- attempts --------------------------------------------------------------------------------------
    def start_attempt(self, record: AttemptRecord, row: StoredRow, *, next_due_at: datetime,
                      ledgers: Sequence[AttemptLedger], consent: ConsentSeen | None = None) -> None:
        a = record.attempt
        after = ledgers_after(record, ledgers)
        with self._lock:
            campaign = self.campaigns.get((record.tenant_id, a.campaign_id))
            if campaign is None or campaign.status is not CampaignStatus.RUNNING or campaign.version != record.campaign_version:
                raise Conflict("the campaign changed since the check (status or rules)", field="campaign_id")
            key = (record.tenant_id, a.campaign_id, a.row_id)
            self._check_row(key, row.version)
            if self.match_suppression(record.tenant_id, a.number, row.row.email, row.row.account_id) is not None:
                raise Conflict("suppressed since the check", field="number")
            if consent is not None and self.latest_consent(record.tenant_id, a.number, consent.kind) != consent.flag:
                raise Conflict("the consent changed since the check", field="number")
            akey = (record.tenant_id, a.campaign_id, a.row_id, a.attempt_id)
            if akey in self.attempts:
                raise Conflict(f"attempt {shown_value(a.attempt_id)} exists", field="attempt_id")
            for ledger in after:
                if self.ledger(record.tenant_id, ledger.kind, ledger.value).version != ledger.version - 1:
                    raise Conflict(f"another attempt on this {ledger.kind} was stored since the check", field=ledger.kind)
            for ledger in after:
                self.ledgers[(record.tenant_id, ledger.kind, ledger.value)] = ledger
            self.attempts[akey] = record
            self.rows[key] = row.model_copy(update={"state": "due", "next_due_at": next_due_at, "blocked_by": (),
                                                    "blocked_checks": (), "version": row.version + 1})

    def ledger(self, tenant_id: str, kind: LedgerKind, value: str) -> AttemptLedger:
        with self._lock:
            return self.ledgers.get((tenant_id, kind, value)) or AttemptLedger(kind=kind, value=value)

    def get_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str) -> AttemptRecord:
        held = self.attempts.get((tenant_id, campaign_id, row_id, attempt_id))
        if held is None:
            raise NotFound(f"attempt {shown_value(attempt_id)} not found", field="attempt_id")
        return held

    def finish_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *,
                       disposition: Disposition, at: datetime, contact_id: str | None = None,
                       ring_seconds: float | None = None, abandon_message_played: bool | None = None,
                       provider_id: str | None = None, dial_error: str | None = None,
                       counts: Mapping[str, int] | None = None, count_day: str | None = None,
                       handouts: AgentHandouts | None = None, callback: CallbackRequest | None = None) -> AttemptRecord:
        with self._lock:
            record = self.get_attempt(tenant_id, campaign_id, row_id, attempt_id)
            check_refinement(record, disposition, callback)
            if handouts is not None:
                if self.handouts(tenant_id, handouts.queue_id).version != handouts.version - 1:
                    raise Conflict(f"the hand-outs of queue {handouts.queue_id} changed since read", field="queue_id")
                self.agent_handouts[(tenant_id, handouts.queue_id)] = handouts
            attempt_update: dict = {"disposition": disposition, "callback": callback}
            if ring_seconds is not None:
                attempt_update["ring_seconds"] = ring_seconds
            if abandon_message_played is not None:
                attempt_update["abandon_message_played"] = abandon_message_played
            update: dict = {"attempt": record.attempt.model_copy(update=attempt_update), "ended_at": at}
            for name, value in (("contact_id", contact_id), ("provider_id", provider_id), ("dial_error", dial_error)):
                if value is not None:
                    update[name] = value
            done = record.model_copy(update=update)
            self.attempts[(tenant_id, campaign_id, row_id, attempt_id)] = done
            if counts:  # under the same lock: one write, as the DynamoDB store's transaction
                self._add_counts(tenant_id, campaign_id, count_day or counter_day(at), counts)
            return done

    def link_contact(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *, contact_id: str,
                     at: datetime, counts: Mapping[str, int] | None = None) -> AttemptRecord:
        with self._lock:
            record = self.get_attempt(tenant_id, campaign_id, row_id, attempt_id)
            if record.contact_id is not None:
                raise Conflict(f"attempt {shown_value(attempt_id)} is linked to contact {shown_value(record.contact_id)}", field="contact_id")
            done = record.model_copy(update={"contact_id": contact_id})
            self.attempts[(tenant_id, campaign_id, row_id, attempt_id)] = done
            if counts:
                self._add_counts(tenant_id, campaign_id, counter_day(at), counts)
            return done

    def handouts(self, tenant_id: str, queue_id: str) -> AgentHandouts:
        with self._lock:
            return self.agent_handouts.get((tenant_id, queue_id)) or AgentHandouts(queue_id=queue_id)

    def _all(self, tenant_id: str) -> list[AttemptRecord]:
        with self._lock:
            return sorted((r for (t, *_), r in self.attempts.items() if t == tenant_id),
                          key=lambda r: (r.attempt.started_at, r.attempt_id))

    def record_attempts(self, tenant_id: str, campaign_id: str, row_id: str) -> list[Attempt]:
        return [r.attempt for r in self._all(tenant_id) if r.attempt.campaign_id == campaign_id and r.attempt.row_id == row_id]

    def account_attempts(self, tenant_id: str, account_id: str, since: datetime) -> list[Attempt]:
        return [r.attempt for r in self._all(tenant_id) if r.attempt.account_id == account_id and r.attempt.started_at > since]

    def number_attempts(self, tenant_id: str, number: str, since: datetime) -> list[Attempt]:
        return [r.attempt for r in self._all(tenant_id) if r.attempt.number == number and r.attempt.started_at > since]

    def campaign_attempts(self, tenant_id: str, campaign_id: str, *, since: datetime, until: datetime | None = None,
                          after: str | None = None, limit: int = 1000) -> list[AttemptRecord]:
        out = [r for r in self._all(tenant_id) if r.attempt.campaign_id == campaign_id and r.attempt.started_at >= since
               and (until is None or r.attempt.started_at < until) and (after is None or r.attempt_id > after)
               and r.attempt_id >= attempt_id_floor(since)]
        return sorted(out, key=lambda r: r.attempt_id)[:limit]

    # --- counters --------------------------------------------------------------------------------------
    def add_counts(self, tenant_id: str, campaign_id: str, day: str, counts: Mapping[str, int]) -> None:
        self._add_counts(tenant_id, campaign_id, day, counts)

    def _add_counts(self, tenant_id: str, campaign_id: str, day: str, counts: Mapping[str, int]) -> None:
        with self._lock:
            held = self.counts.setdefault((tenant_id, campaign_id, day), {})
            for name, n in counts.items():
                held[name] = held.get(name, 0) + n

    def day_counts(self, tenant_id: str, campaign_id: str, first_day: str, last_day: str) -> dict[str, dict[str, int]]:
        with self._lock:
            return {d: dict(v) for (t, c, d), v in sorted(self.counts.items())
                    if t == tenant_id and c == campaign_id and first_day <= d <= last_day}

    # --- suppression and consent ----------------------------------------------------------------------
    def add_suppressions(self, tenant_id: str, entries: Sequence[Suppression]) -> int:
        with self._lock:
            for e in entries:
                self.suppressions.setdefault((tenant_id, e.kind, suppression_value(e)), e)
        return len(entries)

    def match_suppression(self, tenant_id: str, number: str, email: str | None, account_id: str | None) -> Suppression | None:
        for kind, value in suppression_keys(number, email, account_id):
            hit = self.suppressions.get((tenant_id, kind, value))
            if hit is not None:
                return hit
        return None

    def put_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"], flag: ConsentFlag) -> None:
        with self._lock:
            held = self.consents.get((tenant_id, number, kind))
            if held is None or consent_supersedes(flag, held):
                self.consents[(tenant_id, number, kind)] = flag

    def latest_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None:
        return self.consents.get((tenant_id, number, kind))

    # --- conversations outside the dialer ---------------------------------------------------------------
    def add_conversation(self, tenant_id: str, kind: ConversationKey, value: str, at: datetime, source: str) -> None:
        with self._lock:
            self.talks.setdefault((tenant_id, kind, value), {}).setdefault(source, at)

    def conversations(self, tenant_id: str, kind: ConversationKey, value: str, since: datetime) -> list[datetime]:
        with self._lock:
            held = self.talks.get((tenant_id, kind, value), {})
            return sorted(at for at in held.values() if at > since)


# --- dialers that stay in the process -----------------------------------------------------------------

_OUTCOMES = {"machine": Disposition.ANSWERING_MACHINE, "busy": Disposition.BUSY,
             "invalid": Disposition.INVALID_NUMBER, "no_answer": Disposition.NO_ANSWER}


class SimulatedDialer:
    """The simulated carrier behind the Dialer port. Stateless: each attempt's outcome and its delay are
    drawn from a generator seeded by (settings seed, attempt id), so any invocation (any Lambda container)
    that polls an in-flight attempt sees the same outcome at the same time, and nothing is kept between
    invocations. A person answering whom AMD takes for a machine is hung up on: an abandoned call."""

    def __init__(self, settings: DialerSettings) -> None:
        self.settings = settings
        self.profile = CarrierProfile(p_human=settings.p_human, p_machine=settings.p_machine,
                                      p_busy=settings.p_busy, p_invalid=settings.p_invalid)
        self.dialed: list[DialRequest] = []

    def _draw(self, attempt_id: str, number: str):  # noqa: ANN202 - the carrier's result
        rng = random.Random(f"{self.settings.seed}:{attempt_id}")
        return SimulatedCarrier(rng, self.profile).place_call(number)

    def dial(self, request: DialRequest) -> DialHandle:
        self.dialed.append(request)
        return DialHandle(provider_id=f"sim-{request.attempt_id}")

    def poll(self, record: AttemptRecord, now: datetime) -> CarrierOutcome | None:
        a = record.attempt
        result = self._draw(a.attempt_id, a.number)
        at = a.started_at + timedelta(seconds=result.seconds * self.settings.ring_time_scale)
        if at > now:
            return None
        if result.outcome == "human":
            disposition = Disposition.ABANDONED if result.amd_machine else Disposition.ANSWERED
        else:
            disposition = _OUTCOMES[result.outcome]
        return CarrierOutcome(disposition=disposition, at=at, ring_seconds=round(result.seconds, 1))


class RecordingDialer:
    """Tests: records each request; outcomes are whatever the test sets in `outcomes` (by attempt id)."""

    def __init__(self, settings: DialerSettings | None = None, *, fail: bool = False) -> None:
        self.settings = settings
        self.dialed: list[DialRequest] = []
        self.outcomes: dict[str, CarrierOutcome] = {}
        self.fail = fail

    def dial(self, request: DialRequest) -> DialHandle:
        if self.fail:
            raise RuntimeError("carrier refused the call")
        self.dialed.append(request)
        return DialHandle(provider_id=f"rec-{len(self.dialed)}")

    def poll(self, record: AttemptRecord, now: datetime) -> CarrierOutcome | None:
        outcome = self.outcomes.get(record.attempt_id)
        return outcome if outcome is not None and outcome.at <= now else None


class MemorySmsSender:
    """The SmsSender twin: keeps every message it was handed (tests and the local runtime read `.sent`);
    `fail` makes it refuse like a carrier would."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[SmsRequest] = []
        self.fail = fail

    def send(self, request: SmsRequest) -> DialHandle:
        if self.fail:
            raise RuntimeError("the carrier refused the message")
        self.sent.append(request)
        return DialHandle(provider_id=f"sms-{request.attempt_id}")


class MemoryDialers:
    """DialerFactory for the in-memory dependencies: one dialer per settings value (tests read `.made`), one
    SMS sender for all (`.texts`)."""

    def __init__(self) -> None:
        self.made: dict[str, object] = {}
        self.texts = MemorySmsSender()

    def sms(self, settings: DialerSettings) -> MemorySmsSender:
        return self.texts

    def __call__(self, settings: DialerSettings):  # noqa: ANN204 - a Dialer
        key = settings.model_dump_json()
        if key not in self.made:
            self.made[key] = SimulatedDialer(settings) if settings.kind == "simulated" else RecordingDialer(settings)
        return self.made[key]
