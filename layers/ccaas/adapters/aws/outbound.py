"""Outbound campaigns on DynamoDB (one single table, "Outbound", tenant first), the Amazon Connect dialer and
the End User Messaging SMS sender (agentless SMS).

Items (h(x) = SHA-256 of x: phone numbers, e-mail addresses and account ids never appear in keys):

    campaign     pk <t>#CAMPAIGNS            sk <campaign>          doc, status, version; run_pk/run_sk while RUNNING
                                                                    or settling (left RUNNING, calls may be in flight)
    list row     pk <t>#C#<c>#R#<row>        sk ROW                 doc, state, version, next_due; due_pk/due_sk while due
    attempt      pk <t>#C#<c>#R#<row>        sk ATT#<attempt id>    doc (attempt + its checks), disp, contact_id
                                                                    camp_pk/camp_sk, acct_pk/acct_sk, num_pk/num_sk
    day counters pk <t>#C#<c>#STATS          sk DAY#<yyyy-mm-dd>    one number per counter (ADD), TTL 400 days
    suppression  pk <t>#SUPP                 sk <kind>#h(value)     doc
    consent      pk <t>#CONSENT              sk <kind>#h(number)    doc, at
    conversation pk <t>#CONV#<kind>#h(value) sk <at ISO>#<source>   a call outside the dialer (Reg F), TTL 8 days
    ledger       pk <t>#LEDGER#<kind>#h(v)   sk LEDGER              doc (a debt's attempts of the last 7 days, a
                                                                    number's of the last 10 minutes), version;
                                                                    TTL 8 days after its newest attempt
    lease        pk <t>#LEASE#<name>         sk LEASE               owner, until_ms (a dial tick's, per queue), TTL
    hand-outs    pk <t>#HANDOUT#<queue>      sk HANDOUT             doc (answers handed to the queue's free agents,
                                                                    not offered yet), version; TTL 1 day

Sparse GSIs (an item is in an index only while it has the index's key attributes):
- `due` (due_pk = <t>#C#<c>, due_sk = <next due, ISO UTC>#<row>): a campaign's due rows, earliest first. A
  "due now" read is one Query with `due_sk <= now`, Limit N: it never touches rows that are done or wait
  for later, so a million-row list costs what the rows dialed cost. A row leaves the index when done.
- `running` (run_pk = RUNNING, run_sk = <t>#<c>): every running campaign, one Query per sweep; run_pk = SETTLING:
  the campaigns that left RUNNING until the sweep finds none of their calls in flight (`settled`).
- `by_campaign` (camp_sk = attempt id, time-sortable): the audit export and calls in flight.
- `by_account` / `by_number` (… _sk = <started ISO>#<attempt id>): Reg F's 7-day window per debt, per number.
A row and its attempts share a partition key: the row's history is one strongly consistent Query.

Per attempt: reads — the due Query (amortised over the rows it returns), the row's history Query, the account
Query, for a row with an account the conversation Query of the account and of each of its numbers (Reg F's
quiet period after an inbound call), one GetItem per suppression key (number, e-mail, account) and one for
consent, and the GetItem of the number's ledger and, for a row with an account, the debt's (a tick reads each once);
a tick that ends a row or finds none due adds one `due` index Query of one item (completion); writes — one
TransactWriteItems (attempt Put + row Update + campaign ConditionCheck + a ConditionCheck per suppression key + a
Put of each ledger at its next version: nothing is stored, and nothing dialed, if the campaign, the row, the
suppressions or the attempts on the number or about the debt changed since the check),
the outcome's write with its counters (an answered call's also puts the queue's hand-outs, then links its
contact; each hand-out still waiting costs a read of its attempt and its contact), the row's re-schedule, and a
counter ADD per tick.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from botocore.exceptions import ClientError

from ccaas.adapters.aws.batch_get import BatchIncomplete, batch_put
from ccaas.adapters.item_size import check_item_size
from ccaas.adapters.memory.outbound import (REFINABLE, SimulatedDialer, check_refinement, ledgers_after,
                                            suppression_keys, suppression_value)
from ccaas.domain.models import Conflict, NotFound
from ccaas.domain.outbound.metrics import counter_day
from ccaas.domain.outbound.compliance import Suppression, consent_supersedes
from ccaas.domain.outbound.models import (
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
)
from ccaas.domain.vocabulary import shown_value

OUTBOUND_TABLE_ENV = "OUTBOUND_TABLE"
UTC = timezone.utc
RUNNING = "RUNNING"
SETTLING = "SETTLING"
LEASE_TTL = timedelta(days=1)  # a lease item outlives its expiry by this (only a crashed holder leaves one)
COUNTER_TTL = timedelta(days=400)
CONVERSATION_TTL = timedelta(days=8)  # Reg F's quiet period is 7 days after a conversation
LEDGER_TTL = timedelta(days=8)  # past every ledger's window (a debt's: 7 days)
HANDOUT_TTL = timedelta(days=1)  # a hand-out holds its agent for a minute at most


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _iso(at: datetime) -> str:
    """Fixed width, UTC: sorts as time does."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def campaign_key(tenant_id: str, campaign_id: str) -> dict[str, Any]:
    return {"pk": _s(f"{tenant_id}#CAMPAIGNS"), "sk": _s(campaign_id)}


def row_pk(tenant_id: str, campaign_id: str, row_id: str) -> str:
    return f"{tenant_id}#C#{campaign_id}#R#{row_id}"


def row_key(tenant_id: str, campaign_id: str, row_id: str) -> dict[str, Any]:
    return {"pk": _s(row_pk(tenant_id, campaign_id, row_id)), "sk": _s("ROW")}


def attempt_key(tenant_id: str, campaign_id: str, row_id: str, attempt_id: str) -> dict[str, Any]:
    return {"pk": _s(row_pk(tenant_id, campaign_id, row_id)), "sk": _s(f"ATT#{attempt_id}")}


def suppression_key(tenant_id: str, kind: str, value: str) -> dict[str, Any]:
    return {"pk": _s(f"{tenant_id}#SUPP"), "sk": _s(f"{kind}#{_h(value)}")}


def consent_key(tenant_id: str, number: str, kind: str) -> dict[str, Any]:
    return {"pk": _s(f"{tenant_id}#CONSENT"), "sk": _s(f"{kind}#{_h(number)}")}


def ledger_key(tenant_id: str, kind: LedgerKind, value: str) -> dict[str, Any]:
    return {"pk": _s(f"{tenant_id}#LEDGER#{kind}#{_h(value)}"), "sk": _s("LEDGER")}


def handouts_key(tenant_id: str, queue_id: str) -> dict[str, Any]:
    return {"pk": _s(f"{tenant_id}#HANDOUT#{queue_id}"), "sk": _s("HANDOUT")}


def _cancelled(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in ("TransactionCanceledException", "ConditionalCheckFailedException")


class DynamoOutboundStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    # --- campaigns ---------------------------------------------------------------------------------
    def _campaign_item(self, tenant_id: str, campaign: Campaign) -> dict[str, Any]:
        doc = campaign.model_dump_json()
        check_item_size({"doc": doc}, "campaign")
        item = {**campaign_key(tenant_id, campaign.campaign_id), "doc": _s(doc), "status": _s(str(campaign.status)),
                "version": {"N": str(campaign.version)}}
        if campaign.status is not CampaignStatus.DRAFT:
            index = RUNNING if campaign.status is CampaignStatus.RUNNING else SETTLING
            item.update(run_pk=_s(index), run_sk=_s(f"{tenant_id}#{campaign.campaign_id}"))
        return item

    def put_campaign(self, tenant_id: str, campaign: Campaign, *, expected_version: int | None) -> None:
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"} if expected_version is None
            else {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}})
        try:
            self._db.put_item(TableName=self._table, Item=self._campaign_item(tenant_id, campaign), **condition)
        except ClientError as error:
            if not _cancelled(error):
                raise
            if expected_version is None:
                raise Conflict(f"campaign {shown_value(campaign.campaign_id)} exists", field="campaign_id") from None
            raise Conflict(f"campaign {shown_value(campaign.campaign_id)} changed concurrently; retry", field="version") from None

    def get_campaign(self, tenant_id: str, campaign_id: str) -> Campaign:
        item = self._db.get_item(TableName=self._table, Key=campaign_key(tenant_id, campaign_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"campaign {shown_value(campaign_id)} not found", field="campaign_id")
        return Campaign.model_validate_json(item["doc"]["S"])

    def list_campaigns(self, tenant_id: str) -> list[Campaign]:
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _s(f"{tenant_id}#CAMPAIGNS")})
        return [Campaign.model_validate_json(i["doc"]["S"]) for i in items]

    def running_campaigns(self) -> list[tuple[str, str]]:
        return self._indexed(RUNNING)

    def settling_campaigns(self) -> list[tuple[str, str]]:
        return self._indexed(SETTLING)

    def _indexed(self, partition: str) -> list[tuple[str, str]]:
        items = self._query(IndexName="running", KeyConditionExpression="run_pk = :r",
                            ExpressionAttributeValues={":r": _s(partition)}, ProjectionExpression="run_sk")
        out = []
        for item in items:
            tenant_id, _, campaign_id = item["run_sk"]["S"].partition("#")
            out.append((tenant_id, campaign_id))
        return sorted(out)

    def settled(self, tenant_id: str, campaign_id: str, version: int) -> None:
        try:
            self._db.update_item(TableName=self._table, Key=campaign_key(tenant_id, campaign_id),
                                 UpdateExpression="REMOVE run_pk, run_sk", ConditionExpression="run_pk = :s AND version = :v",
                                 ExpressionAttributeValues={":s": _s(SETTLING), ":v": {"N": str(version)}})
        except ClientError as error:
            if not _cancelled(error):
                raise  # not settling, or changed since: its next tick looks again

    def acquire_lease(self, tenant_id: str, name: str, owner: str, *, now: datetime, until: datetime) -> bool:
        expires = until.astimezone(UTC) + LEASE_TTL
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"pk": _s(f"{tenant_id}#LEASE#{name}"), "sk": _s("LEASE"), "owner": _s(owner),
                      "until_ms": {"N": str(int(until.timestamp() * 1000))}, "expires_at": {"N": str(int(expires.timestamp()))}},
                ConditionExpression="attribute_not_exists(pk) OR until_ms <= :now OR #o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp() * 1000))}, ":o": _s(owner)})
        except ClientError as error:
            if not _cancelled(error):
                raise
            return False
        return True

    def release_lease(self, tenant_id: str, name: str, owner: str) -> None:
        try:
            self._db.delete_item(TableName=self._table, Key={"pk": _s(f"{tenant_id}#LEASE#{name}"), "sk": _s("LEASE")},
                                 ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                                 ExpressionAttributeValues={":o": _s(owner)})
        except ClientError as error:
            if not _cancelled(error):
                raise  # another owner's since (ours expired): theirs stays

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page_kwargs = dict(kwargs)
            if limit is not None:
                page_kwargs["Limit"] = limit - len(items)
            page = self._db.query(TableName=self._table, **page_kwargs)
            items += page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if last is None or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last

    # --- rows ----------------------------------------------------------------------------------------
    def _due(self, tenant_id: str, campaign_id: str, row_id: str, at: datetime) -> dict[str, Any]:
        return {"due_pk": _s(f"{tenant_id}#C#{campaign_id}"), "due_sk": _s(f"{_iso(at)}#{row_id}"),
                "next_due": _s(_iso(at))}

    def put_rows(self, tenant_id: str, campaign_id: str, rows: Sequence[ContactListRow], due_at: datetime) -> int:
        items: list[dict[str, Any]] = []
        for row in rows:
            doc = row.model_dump_json()
            check_item_size({"doc": doc}, "list row")
            item = {**row_key(tenant_id, campaign_id, row.row_id), "doc": _s(doc), "state": _s("due"),
                    "version": {"N": "0"}, "blocked_by": _s("[]"), **self._due(tenant_id, campaign_id, row.row_id, due_at)}
            items.append(item)
        try:
            batch_put(self._db, self._table, items)
        except BatchIncomplete:
            raise Conflict("the store is throttling list writes; upload again", field="rows") from None
        return len(rows)

    def _row(self, item: dict[str, Any], tenant_id: str, campaign_id: str) -> StoredRow:
        next_due = item.get("next_due", {}).get("S")
        return StoredRow(
            tenant_id=tenant_id, campaign_id=campaign_id, row=ContactListRow.model_validate_json(item["doc"]["S"]),
            state=item["state"]["S"], version=int(item["version"]["N"]),
            next_due_at=datetime.fromisoformat(next_due.replace("Z", "+00:00")) if next_due and item["state"]["S"] == "due" else None,
            blocked_by=tuple(json.loads(item.get("blocked_by", {}).get("S") or "[]")),
            blocked_checks=tuple(CheckResult.model_validate(c) for c in json.loads(item.get("blocked_checks", {}).get("S") or "[]")))

    def get_row(self, tenant_id: str, campaign_id: str, row_id: str) -> StoredRow:
        item = self._db.get_item(TableName=self._table, Key=row_key(tenant_id, campaign_id, row_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"row {shown_value(row_id)} not found", field="row_id")
        return self._row(item, tenant_id, campaign_id)

    def due_rows(self, tenant_id: str, campaign_id: str, now: datetime, limit: int) -> list[StoredRow]:
        if limit <= 0:
            return []
        items = self._query(limit=limit, IndexName="due", KeyConditionExpression="due_pk = :p AND due_sk <= :now",
                            ExpressionAttributeValues={":p": _s(f"{tenant_id}#C#{campaign_id}"), ":now": _s(f"{_iso(now)}#\uffff")})
        return [self._row(i, tenant_id, campaign_id) for i in items[:limit]]

    def _row_update(self, row: StoredRow, next_due_at: datetime | None, blocked_by: Sequence[str],
                    checks: Sequence[CheckResult] = ()) -> dict[str, Any]:
        values: dict[str, Any] = {":v": {"N": str(row.version)}, ":n": {"N": str(row.version + 1)},
                                  ":b": _s(json.dumps(list(blocked_by))),
                                  ":k": _s(json.dumps([c.model_dump(mode="json") for c in checks]))}
        if next_due_at is not None:
            due = self._due(row.tenant_id, row.campaign_id, row.row.row_id, next_due_at)
            values.update({":dp": due["due_pk"], ":ds": due["due_sk"], ":nd": due["next_due"], ":st": _s("due")})
            expression = ("SET version = :n, blocked_by = :b, blocked_checks = :k, #st = :st, due_pk = :dp, "
                          "due_sk = :ds, next_due = :nd")
        else:
            values[":st"] = _s("done")
            expression = "SET version = :n, blocked_by = :b, blocked_checks = :k, #st = :st REMOVE due_pk, due_sk, next_due"
        return {"TableName": self._table, "Key": row_key(row.tenant_id, row.campaign_id, row.row.row_id),
                "UpdateExpression": expression, "ConditionExpression": "version = :v",
                "ExpressionAttributeNames": {"#st": "state"}, "ExpressionAttributeValues": values}

    def schedule_row(self, row: StoredRow, *, next_due_at: datetime | None, blocked_by: Sequence[str] = (),
                     checks: Sequence[CheckResult] = ()) -> StoredRow:
        try:
            self._db.update_item(**self._row_update(row, next_due_at, blocked_by, checks))
        except ClientError as error:
            if not _cancelled(error):
                raise
            raise Conflict(f"row {shown_value(row.row.row_id)} changed concurrently", field="row_id") from None
        return row.model_copy(update={"state": "due" if next_due_at else "done", "next_due_at": next_due_at,
                                      "blocked_by": tuple(blocked_by), "blocked_checks": tuple(checks),
                                      "version": row.version + 1})

    def has_due_rows(self, tenant_id: str, campaign_id: str) -> bool:
        page = self._db.query(TableName=self._table, IndexName="due", KeyConditionExpression="due_pk = :p",
                              ExpressionAttributeValues={":p": _s(f"{tenant_id}#C#{campaign_id}")}, Limit=1,
                              ProjectionExpression="due_pk")
        return bool(page.get("Items"))

    # --- attempts --------------------------------------------------------------------------------------
    def _attempt_item(self, record: AttemptRecord) -> dict[str, Any]:
        a = record.attempt
        doc = record.model_dump_json()
        check_item_size({"doc": doc}, "attempt")
        started = _iso(a.started_at)
        item = {**attempt_key(record.tenant_id, a.campaign_id, a.row_id, a.attempt_id), "doc": _s(doc),
                "camp_pk": _s(f"{record.tenant_id}#C#{a.campaign_id}"), "camp_sk": _s(a.attempt_id),
                "num_pk": _s(f"{record.tenant_id}#NUM#{_h(a.number)}"), "num_sk": _s(f"{started}#{a.attempt_id}")}
        if a.account_id:
            item.update(acct_pk=_s(f"{record.tenant_id}#ACCT#{_h(a.account_id)}"), acct_sk=_s(f"{started}#{a.attempt_id}"))
        if a.disposition is not None:
            item["disp"] = _s(str(a.disposition))
        if record.contact_id is not None:
            item["contact_id"] = _s(record.contact_id)
        return item

    def start_attempt(self, record: AttemptRecord, row: StoredRow, *, next_due_at: datetime,
                      ledgers: Sequence[AttemptLedger], consent: ConsentSeen | None = None) -> None:
        a, t = record.attempt, record.tenant_id
        after = ledgers_after(record, ledgers)
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": self._attempt_item(record),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": self._row_update(row, next_due_at, ())},
            {"ConditionCheck": {"TableName": self._table, "Key": campaign_key(t, a.campaign_id),
                                "ConditionExpression": "#st = :running AND version = :cv",
                                "ExpressionAttributeNames": {"#st": "status"},
                                "ExpressionAttributeValues": {":running": _s(str(CampaignStatus.RUNNING)),
                                                              ":cv": {"N": str(record.campaign_version)}}}},
        ]
        for kind, value in suppression_keys(a.number, row.row.email, row.row.account_id):
            items.append({"ConditionCheck": {"TableName": self._table, "Key": suppression_key(t, kind, value),
                                             "ConditionExpression": "attribute_not_exists(pk)"}})
        if consent is not None:  # the consent record the check read, unchanged (put_consent writes the same JSON)
            held = ({"ConditionExpression": "attribute_not_exists(pk)"} if consent.flag is None else
                    {"ConditionExpression": "doc = :held", "ExpressionAttributeValues": {":held": _s(consent.flag.model_dump_json())}})
            items.append({"ConditionCheck": {"TableName": self._table, "Key": consent_key(t, a.number, consent.kind), **held}})
        items += [{"Put": self._ledger_put(t, ledger)} for ledger in after]
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if not _cancelled(error):
                raise
            raise Conflict("the campaign, the row, a suppression, the consent or the attempts on the number or about "
                           "the debt changed since the check: not dialed", field="attempt_id") from None

    def _ledger_put(self, tenant_id: str, ledger: AttemptLedger) -> dict[str, Any]:
        """The ledger at its new version, only over the version the check read (none yet: version 0)."""
        doc = ledger.model_dump_json()
        check_item_size({"doc": doc}, f"{ledger.kind} ledger")
        expires = max(a.started_at for a in ledger.attempts).astimezone(UTC) + LEDGER_TTL
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**ledger_key(tenant_id, ledger.kind, ledger.value), "doc": _s(doc), "version": {"N": str(ledger.version)},
                     "expires_at": {"N": str(int(expires.timestamp()))}},
        }
        if ledger.version == 1:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put.update(ConditionExpression="version = :read", ExpressionAttributeValues={":read": {"N": str(ledger.version - 1)}})
        return put

    def ledger(self, tenant_id: str, kind: LedgerKind, value: str) -> AttemptLedger:
        item = self._db.get_item(TableName=self._table, Key=ledger_key(tenant_id, kind, value), ConsistentRead=True).get("Item")
        return AttemptLedger(kind=kind, value=value) if item is None else AttemptLedger.model_validate_json(item["doc"]["S"])

    def get_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str) -> AttemptRecord:
        item = self._db.get_item(TableName=self._table, Key=attempt_key(tenant_id, campaign_id, row_id, attempt_id),
                                 ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"attempt {shown_value(attempt_id)} not found", field="attempt_id")
        return AttemptRecord.model_validate_json(item["doc"]["S"])

    def finish_attempt(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *,
                       disposition: Disposition, at: datetime, contact_id: str | None = None,
                       ring_seconds: float | None = None, abandon_message_played: bool | None = None,
                       provider_id: str | None = None, dial_error: str | None = None,
                       counts: Mapping[str, int] | None = None, count_day: str | None = None,
                       handouts: AgentHandouts | None = None, callback: CallbackRequest | None = None) -> AttemptRecord:
        record = self.get_attempt(tenant_id, campaign_id, row_id, attempt_id)
        check_refinement(record, disposition, callback)
        attempt_update: dict[str, Any] = {"disposition": disposition, "callback": callback}
        if ring_seconds is not None:
            attempt_update["ring_seconds"] = ring_seconds
        if abandon_message_played is not None:
            attempt_update["abandon_message_played"] = abandon_message_played
        update: dict[str, Any] = {"attempt": record.attempt.model_copy(update=attempt_update), "ended_at": at}
        for name, value in (("contact_id", contact_id), ("provider_id", provider_id), ("dial_error", dial_error)):
            if value is not None:
                update[name] = value
        done = record.model_copy(update=update)
        before = record.attempt.disposition
        condition = "attribute_not_exists(disp)" if before is None else "disp = :before"
        values: dict[str, Any] = {":doc": _s(done.model_dump_json()), ":disp": _s(str(disposition))}
        expression = "SET doc = :doc, disp = :disp"
        if before is not None:
            values[":before"] = _s(str(REFINABLE))
            # the doc as read: no contact linked since (link_contact); an item older than the attribute has none
            condition += (" AND attribute_not_exists(contact_id)" if record.contact_id is None
                          else " AND (contact_id = :held OR attribute_not_exists(contact_id))")
            if record.contact_id is not None:
                values[":held"] = _s(record.contact_id)
        if done.contact_id is not None:
            expression += ", contact_id = :cid"
            values[":cid"] = _s(done.contact_id)
        disposed = {"TableName": self._table, "Key": attempt_key(tenant_id, campaign_id, row_id, attempt_id),
                    "UpdateExpression": expression, "ConditionExpression": condition,
                    "ExpressionAttributeValues": values}
        items: list[dict[str, Any]] = [{"Update": disposed}]
        if counts:  # one transaction: a retry that finds the disposition set must not find the counters short
            items.append({"Update": self._counter_update(tenant_id, campaign_id, count_day or counter_day(at), counts)})
        if handouts is not None:  # the answer takes its free agent in the same write
            items.append({"Put": self._handouts_put(tenant_id, handouts)})
        try:
            if len(items) > 1:
                self._db.transact_write_items(TransactItems=items)
            else:
                self._db.update_item(**disposed)
        except ClientError as error:
            if not _cancelled(error):
                raise
            raise Conflict(f"attempt {shown_value(attempt_id)} changed concurrently", field="disposition") from None
        return done

    def link_contact(self, tenant_id: str, campaign_id: str, row_id: str, attempt_id: str, *, contact_id: str,
                     at: datetime, counts: Mapping[str, int] | None = None) -> AttemptRecord:
        record = self.get_attempt(tenant_id, campaign_id, row_id, attempt_id)
        if record.contact_id is not None:
            raise Conflict(f"attempt {shown_value(attempt_id)} is linked to contact {shown_value(record.contact_id)}", field="contact_id")
        done = record.model_copy(update={"contact_id": contact_id})
        held = record.attempt.disposition
        values: dict[str, Any] = {":doc": _s(done.model_dump_json()), ":cid": _s(contact_id)}
        if held is not None:
            values[":disp"] = _s(str(held))
        linked = {"TableName": self._table, "Key": attempt_key(tenant_id, campaign_id, row_id, attempt_id),
                  "UpdateExpression": "SET doc = :doc, contact_id = :cid", "ExpressionAttributeValues": values,
                  # the doc as read: same disposition (an agent's since rewrote it), no contact yet
                  "ConditionExpression": ("disp = :disp" if held is not None else "attribute_not_exists(disp)")
                                         + " AND attribute_not_exists(contact_id)"}
        try:
            if counts:
                self._db.transact_write_items(TransactItems=[
                    {"Update": linked}, {"Update": self._counter_update(tenant_id, campaign_id, counter_day(at), counts)}])
            else:
                self._db.update_item(**linked)
        except ClientError as error:
            if not _cancelled(error):
                raise
            raise Conflict(f"attempt {shown_value(attempt_id)} changed concurrently", field="contact_id") from None
        return done

    def handouts(self, tenant_id: str, queue_id: str) -> AgentHandouts:
        item = self._db.get_item(TableName=self._table, Key=handouts_key(tenant_id, queue_id), ConsistentRead=True).get("Item")
        return AgentHandouts(queue_id=queue_id) if item is None else AgentHandouts.model_validate_json(item["doc"]["S"])

    def _handouts_put(self, tenant_id: str, handouts: AgentHandouts) -> dict[str, Any]:
        """The hand-outs at their new version, only over the version read (none yet: version 0)."""
        doc = handouts.model_dump_json()
        check_item_size({"doc": doc}, "hand-outs")
        item = {**handouts_key(tenant_id, handouts.queue_id), "doc": _s(doc), "version": {"N": str(handouts.version)}}
        if handouts.handouts:
            newest = max(h.at for h in handouts.handouts).astimezone(UTC)
            item["expires_at"] = {"N": str(int((newest + HANDOUT_TTL).timestamp()))}
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        if handouts.version == 1:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put.update(ConditionExpression="version = :read", ExpressionAttributeValues={":read": {"N": str(handouts.version - 1)}})
        return put

    def record_attempts(self, tenant_id: str, campaign_id: str, row_id: str) -> list[Attempt]:
        items = self._query(KeyConditionExpression="pk = :pk AND begins_with(sk, :att)", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": _s(row_pk(tenant_id, campaign_id, row_id)), ":att": _s("ATT#")})
        return sorted((AttemptRecord.model_validate_json(i["doc"]["S"]).attempt for i in items),
                      key=lambda a: (a.started_at, a.attempt_id))

    def _window(self, index: str, pk_name: str, sk_name: str, pk: str, since: datetime) -> list[Attempt]:
        items = self._query(IndexName=index, KeyConditionExpression=f"{pk_name} = :p AND {sk_name} > :since",
                            ExpressionAttributeValues={":p": _s(pk), ":since": _s(_iso(since))})
        attempts = (AttemptRecord.model_validate_json(i["doc"]["S"]).attempt for i in items)
        return [a for a in attempts if a.started_at > since]

    def account_attempts(self, tenant_id: str, account_id: str, since: datetime) -> list[Attempt]:
        return self._window("by_account", "acct_pk", "acct_sk", f"{tenant_id}#ACCT#{_h(account_id)}", since)

    def number_attempts(self, tenant_id: str, number: str, since: datetime) -> list[Attempt]:
        return self._window("by_number", "num_pk", "num_sk", f"{tenant_id}#NUM#{_h(number)}", since)

    def campaign_attempts(self, tenant_id: str, campaign_id: str, *, since: datetime, until: datetime | None = None,
                          after: str | None = None, limit: int = 1000) -> list[AttemptRecord]:
        low = max(attempt_id_floor(since), after or "")
        values: dict[str, Any] = {":p": _s(f"{tenant_id}#C#{campaign_id}"), ":low": _s(low)}
        condition = "camp_pk = :p AND camp_sk > :low" if after and after >= attempt_id_floor(since) else "camp_pk = :p AND camp_sk >= :low"
        out: list[AttemptRecord] = []
        kwargs: dict[str, Any] = {"IndexName": "by_campaign", "KeyConditionExpression": condition,
                                  "ExpressionAttributeValues": values}
        while len(out) < limit:
            page = self._db.query(TableName=self._table, Limit=min(1000, limit - len(out)), **kwargs)
            for item in page.get("Items", []):
                record = AttemptRecord.model_validate_json(item["doc"]["S"])
                if until is not None and record.attempt.started_at >= until:
                    return out
                if record.attempt.started_at >= since:
                    out.append(record)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out[:limit]

    # --- counters --------------------------------------------------------------------------------------
    def add_counts(self, tenant_id: str, campaign_id: str, day: str, counts: Mapping[str, int]) -> None:
        if not counts:
            return
        self._db.update_item(**self._counter_update(tenant_id, campaign_id, day, counts))

    def _counter_update(self, tenant_id: str, campaign_id: str, day: str, counts: Mapping[str, int]) -> dict[str, Any]:
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values: dict[str, Any] = {f":c{i}": {"N": str(int(n))} for i, n in enumerate(counts.values())}
        expires = datetime.fromisoformat(day).replace(tzinfo=UTC) + COUNTER_TTL
        values[":exp"] = {"N": str(int(expires.timestamp()))}
        return {"TableName": self._table, "Key": {"pk": _s(f"{tenant_id}#C#{campaign_id}#STATS"), "sk": _s(f"DAY#{day}")},
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))) + " SET expires_at = :exp",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    def day_counts(self, tenant_id: str, campaign_id: str, first_day: str, last_day: str) -> dict[str, dict[str, int]]:
        items = self._query(KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": _s(f"{tenant_id}#C#{campaign_id}#STATS"),
                                                       ":a": _s(f"DAY#{first_day}"), ":b": _s(f"DAY#{last_day}")})
        out: dict[str, dict[str, int]] = {}
        for item in items:
            out[item["sk"]["S"][4:]] = {k: int(v["N"]) for k, v in item.items()
                                        if k not in ("pk", "sk", "expires_at") and "N" in v}
        return out

    # --- suppression and consent ----------------------------------------------------------------------
    def add_suppressions(self, tenant_id: str, entries: Sequence[Suppression]) -> int:
        for entry in entries:
            key = suppression_key(tenant_id, entry.kind, suppression_value(entry))  # an e-mail as rows are matched
            try:
                self._db.put_item(TableName=self._table, Item={**key, "doc": _s(entry.model_dump_json())},
                                  ConditionExpression="attribute_not_exists(pk)")
            except ClientError as error:
                if not _cancelled(error):
                    raise  # an existing entry keeps its first source and time
        return len(entries)

    def match_suppression(self, tenant_id: str, number: str, email: str | None, account_id: str | None) -> Suppression | None:
        keys = [suppression_key(tenant_id, kind, value) for kind, value in suppression_keys(number, email, account_id)]
        if not keys:
            return None
        found = self._db.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
        items = {item["sk"]["S"]: item for item in found.get("Responses", {}).get(self._table, [])}
        for key in keys:  # in the order number, e-mail, account
            item = items.get(key["sk"]["S"])
            if item is not None:
                return Suppression.model_validate_json(item["doc"]["S"])
        if found.get("UnprocessedKeys"):
            raise Conflict("the store throttled a suppression lookup; retry", field="number")
        return None

    def put_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"], flag: ConsentFlag) -> None:
        for _ in range(4):
            item = self._db.get_item(TableName=self._table, Key=consent_key(tenant_id, number, kind), ConsistentRead=True).get("Item")
            held = None if item is None else ConsentFlag.model_validate_json(item["doc"]["S"])
            if held is not None and not consent_supersedes(flag, held):
                return
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"} if item is None
                else {"ConditionExpression": "doc = :held", "ExpressionAttributeValues": {":held": item["doc"]}})
            try:
                self._db.put_item(TableName=self._table, Item={**consent_key(tenant_id, number, kind),
                                                               "doc": _s(flag.model_dump_json())}, **condition)
                return
            except ClientError as error:
                if not _cancelled(error):
                    raise
        raise Conflict("consent changed concurrently; retry", field="consent")

    def latest_consent(self, tenant_id: str, number: str, kind: Literal["voice", "sms"]) -> ConsentFlag | None:
        item = self._db.get_item(TableName=self._table, Key=consent_key(tenant_id, number, kind), ConsistentRead=True).get("Item")
        return None if item is None else ConsentFlag.model_validate_json(item["doc"]["S"])

    # --- conversations outside the dialer ---------------------------------------------------------------
    def add_conversation(self, tenant_id: str, kind: ConversationKey, value: str, at: datetime, source: str) -> None:
        expires = at.astimezone(UTC) + CONVERSATION_TTL
        self._db.put_item(TableName=self._table, Item={
            "pk": _s(f"{tenant_id}#CONV#{kind}#{_h(value)}"), "sk": _s(f"{_iso(at)}#{source[:128]}"),
            "expires_at": {"N": str(int(expires.timestamp()))}})

    def conversations(self, tenant_id: str, kind: ConversationKey, value: str, since: datetime) -> list[datetime]:
        items = self._query(KeyConditionExpression="pk = :pk AND sk > :since", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": _s(f"{tenant_id}#CONV#{kind}#{_h(value)}"),
                                                       ":since": _s(_iso(since))}, ProjectionExpression="sk")
        out = [datetime.fromisoformat(i["sk"]["S"].split("#", 1)[0].replace("Z", "+00:00")) for i in items]
        return sorted(at for at in out if at > since)


# --- Amazon Connect ----------------------------------------------------------------------------------------

ATTRIBUTE_PREFIX = "ccaas_"  # contact attributes carrying our ids (they come back on the contact record)


class ConnectDialer:
    """StartOutboundVoiceContact: the call is placed by Amazon Connect and runs the tenant's outbound
    contact flow (which plays the identification message on an abandoned call and queues an answered one
    to the Connect queue mapped from the campaign's queue). The attempt id is the idempotency token, and
    it travels as a contact attribute with the tenant, campaign and row ids: the contact record (CTR) of
    the call names the attempt its outcome belongs to. Outcomes arrive as contact records, not by polling."""

    def __init__(self, client: Any, settings: DialerSettings) -> None:
        if not (settings.instance_id and settings.contact_flow_id):
            raise ValueError("a connect dialer needs instance_id and contact_flow_id")
        self._connect = client
        self.settings = settings

    def dial(self, request: DialRequest) -> DialHandle:
        s = self.settings
        kwargs: dict[str, Any] = {
            "DestinationPhoneNumber": request.number,
            "ContactFlowId": s.contact_flow_id,
            "InstanceId": s.instance_id,
            "ClientToken": request.attempt_id,
            "SourcePhoneNumber": request.caller_id,
            "Attributes": {f"{ATTRIBUTE_PREFIX}{k}": v for k, v in (
                ("tenant_id", request.tenant_id), ("campaign_id", request.campaign_id), ("row_id", request.row_id),
                ("attempt_id", request.attempt_id), ("mode", str(request.mode)))},
            "AnswerMachineDetectionConfig": {"EnableAnswerMachineDetection": s.answer_machine_detection,
                                             "AwaitAnswerMachinePrompt": s.answer_machine_detection},
        }
        queue = s.queues.get(request.queue_id)
        if queue:
            kwargs["QueueId"] = queue
        answer = self._connect.start_outbound_voice_contact(**kwargs)
        return DialHandle(provider_id=answer["ContactId"])

    def poll(self, record: AttemptRecord, now: datetime) -> CarrierOutcome | None:
        return None  # outcomes arrive as contact records (ccaas.usecases.outbound.outcome_from_ctr)


class EndUserMessagingSms:
    """SmsSender on AWS End User Messaging SMS (`pinpoint-sms-voice-v2` SendTextMessage): one text per stored
    attempt, from the tenant's origination identity, with the attempt's ids as the message's context (they
    come back on the delivery events of the configuration set). MaxPrice is not set: the account's spend
    limit bounds it."""

    def __init__(self, client: Any, settings: DialerSettings) -> None:
        self._sms = client
        self.settings = settings

    def send(self, request: SmsRequest) -> DialHandle:
        kwargs: dict[str, Any] = {
            "DestinationPhoneNumber": request.number,
            "OriginationIdentity": request.origination,
            "MessageBody": request.text,
            "MessageType": self.settings.sms_message_type,
            "Context": {f"{ATTRIBUTE_PREFIX}{k}": v for k, v in (
                ("tenant_id", request.tenant_id), ("campaign_id", request.campaign_id), ("row_id", request.row_id),
                ("attempt_id", request.attempt_id))},
        }
        if self.settings.sms_configuration_set:
            kwargs["ConfigurationSetName"] = self.settings.sms_configuration_set
        answer = self._sms.send_text_message(**kwargs)
        return DialHandle(provider_id=answer["MessageId"])


def _sms_client_like(connect: Any) -> Any:
    """A pinpoint-sms-voice-v2 client in the Connect client's region and botocore config."""
    import boto3

    return boto3.client("pinpoint-sms-voice-v2", region_name=connect.meta.region_name, config=connect.meta.config)


class AwsDialers:
    """DialerFactory on AWS: Amazon Connect, or the simulated carrier when the tenant chose it; texts through
    End User Messaging SMS (`sms`), or kept in memory for a simulated dialer."""

    def __init__(self, connect_client: Callable[[], Any], sms_client: Callable[[], Any] | None = None) -> None:
        self._connect_client = connect_client
        self._sms_client = sms_client
        self._client: Any = None
        self._sms: Any = None
        self.simulated_texts: Any = None

    def sms(self, settings: DialerSettings) -> Any:
        if settings.kind == "simulated":
            from ccaas.adapters.memory.outbound import MemorySmsSender

            if self.simulated_texts is None:
                self.simulated_texts = MemorySmsSender()
            return self.simulated_texts
        if self._sms is None:
            self._sms = self._sms_client() if self._sms_client is not None else _sms_client_like(self._connection())
        return EndUserMessagingSms(self._sms, settings)

    def _connection(self) -> Any:
        if self._client is None:
            self._client = self._connect_client()
        return self._client

    def __call__(self, settings: DialerSettings) -> ConnectDialer | SimulatedDialer:
        if settings.kind == "simulated":
            return SimulatedDialer(settings)
        return ConnectDialer(self._connection(), settings)
