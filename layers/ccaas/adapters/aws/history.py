"""The History table (DynamoDB): one item collection per contact, tenant first.

    pk = <tenant>#CONTACT#<contact id>
      sk = ENTRY        the history row: `rec` (ContactRecord JSON) + `lu` (its last_updated_at),
                        survey answers `s_csat/s_ces/s_nps`, repeat flags `fbr/rpt`, analysis summary `an`;
                        GSI keys `day_pk/day_sk` (by_day) and `cust_pk/cust_sk` (by_customer)
      sk = SURVEY       the survey, comment redacted
      sk = ANALYSIS     the full transcript analysis (redacted segments, scores, evidence)
      sk = MSG#<ms>#<id>  one chat message, redacted
      sk = FLOW#<ms>#<id> one contact-flow milestone (FlowEvent); ENTRY counts them: `fl_n` (milestones),
                        `fl_last` (the last one's name), `fl_ss` (a self-service success was logged)
      sk = COMPLETION   a long contact's completion index (completed more than a day after its anchor
                        time): `lu` of the record version it indexes; GSI keys `day_pk/day_sk` (by_day)
      sk = ENQUEUE      the same for a contact enqueued more than a day after its anchor time (a Connect
                        scheduled task): its enqueue index
    pk = <tenant>#SERIES, sk = <local date>   cached per-day interval series for forecasting (`series`), or
                        only `dropped` (ms) once a record of the day was written after it was cached
    pk = <tenant>#OPEN_ACTIVITY, sk = <agent>   what each agent has been doing since when (and its version)
    pk = <tenant>#ACTIVITY#<UTC date of start>, sk = <start ms:013d>#<agent>   a closed activity span
    pk = <tenant>#ACTIVITY#<UTC date>, sk = CROSS#<start ms:013d>#<agent>      the same span again in each
                        later UTC day it crosses (not for OFFLINE), so a read finds it from any day it covers

    by_day:      day_pk = <tenant>#DAY#<UTC date of the anchor time>, day_sk = <anchor ms:013d>#<contact id>
                 day_pk = <tenant>#COMPLETED#<UTC date of completion>, day_sk = <completion ms:013d>#<contact id>
                 day_pk = <tenant>#ENQUEUED#<UTC date of enqueue>,     day_sk = <enqueue ms:013d>#<contact id>
    by_customer: cust_pk = <tenant>#CUST#<customer id>,              cust_sk = <anchor ms:013d>#<contact id>

Each writer touches only its own attributes of ENTRY with UpdateItem, so a survey, a flag refresh and
a record correction can land in any order. The record is replaced only when `lu` is strictly newer
(`attribute_not_exists(lu) OR lu < :lu`): that one condition makes the CTR stream's at-least-once,
out-of-order delivery and a retried workflow step idempotent. Only ENTRY items carry GSI keys, and only
once their record has arrived, so the indexes hold exactly the rows the KPI reads want; the exceptions,
a long contact's COMPLETION item and a late-enqueued one's ENQUEUE item, are pointers to its ENTRY (read back by BatchGetItem, checked against the
record held).

Reads deserialize by hand (a JSON string per part) instead of through boto3's TypeDeserializer: a day
of 50,000 entries is read on every KPI request and the generic path costs several times more.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from itertools import islice
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ccaas.adapters.aws import batch_get as batches  # BatchGetItem/BatchWriteItem rounds with backoff
from ccaas.adapters.aws.customer_window import newest_through_window
from ccaas.adapters.history_days import crossed_days, late_instant
from ccaas.adapters.item_size import check_item_size
from ccaas.domain.history import (
    AnalysisSummary, ChatMessage, FlowEvent, FlowSummary, HistoryEntry, OpenActivity, Survey, anchor_time,
    check_activity_range,
)
from ccaas.domain.kpis.records import ActivityKind, AgentActivity, ContactRecord
from ccaas.domain.models import Conflict

ENTRY = "ENTRY"


@dataclass(frozen=True)
class _Pointer:
    """An item filing a contact under a later day than its anchor's (history_days.late_instant)."""

    sk: str  # the pointer item's sort key
    day_kind: str  # its by_day partition: <tenant>#<day_kind>#<UTC date>
    instant: str  # the record's attribute it files by


_COMPLETION = _Pointer("COMPLETION", "COMPLETED", "completed_at")
_ENQUEUE = _Pointer("ENQUEUE", "ENQUEUED", "enqueued_at")
_POINTERS = (_COMPLETION, _ENQUEUE)
_SAFE_MAX = "~"  # sorts after every character an id may hold
_DAY_MS = 86_400_000
# A span's copy in a later day it crosses. "C" sorts after every digit: a read of the spans starting in a
# range (sk BETWEEN <ms>#...) never meets a copy.
_CROSSING = "CROSS#"
_OPEN = "#OPEN_ACTIVITY"  # <tenant>#OPEN_ACTIVITY: the agents' open spans


def contact_pk(tenant_id: str, contact_id: str) -> str:
    return f"{tenant_id}#CONTACT#{contact_id}"


def day_pk(tenant_id: str, ms: int) -> str:
    return f"{tenant_id}#DAY#{datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()}"


def _series_key(tenant_id: str, day: str) -> dict[str, Any]:
    return {"pk": {"S": f"{tenant_id}#SERIES"}, "sk": {"S": day}}


def _utc_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def _key(tenant_id: str, contact_id: str, sk: str = ENTRY) -> dict[str, Any]:
    return {"pk": {"S": contact_pk(tenant_id, contact_id)}, "sk": {"S": sk}}


def _entry(tenant_id: str, contact_id: str, item: Mapping[str, Any]) -> HistoryEntry:
    values: dict[str, Any] = {}
    if "rec" in item:
        values["record"] = ContactRecord.model_validate_json(item["rec"]["S"])
    for attribute, name in (("s_csat", "csat"), ("s_ces", "ces"), ("s_nps", "nps")):
        if attribute in item:
            values[name] = int(item[attribute]["N"])
    for attribute, name in (("fbr", "followed_by_repeat"), ("rpt", "is_repeat")):
        if attribute in item:
            values[name] = item[attribute]["BOOL"]
    if "an" in item:
        values["analysis"] = AnalysisSummary.model_validate_json(item["an"]["S"])
    if "fl_n" in item:
        values["flow"] = FlowSummary(milestones=int(item["fl_n"]["N"]), last=item.get("fl_last", {}).get("S"),
                                     self_service=item.get("fl_ss", {}).get("BOOL", False))
    return HistoryEntry(tenant_id=tenant_id, contact_id=contact_id, **values)


def _contact_id(item: Mapping[str, Any]) -> str:
    return item["pk"]["S"].split("#CONTACT#", 1)[1]


def _query(db: Any, table: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = db.query(TableName=table, **kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _update_expression(sets: list[str], removes: list[str]) -> str:
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    return " ".join(parts)


def _conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")


def _span(tenant_id: str, item: Mapping[str, Any]) -> AgentActivity:
    return _span_of(tenant_id, json.loads(item["span"]["S"]))


def _span_of(tenant_id: str, values: Mapping[str, Any]) -> AgentActivity:
    """A stored span's JSON (slot counts only on spans recorded with them)."""
    return AgentActivity(tenant_id=tenant_id, agent_id=values["agent_id"], start_ms=values["start_ms"],
                         end_ms=values["end_ms"], kind=ActivityKind(values["kind"]),
                         slots_busy=values.get("slots_busy"), slots_available=values.get("slots_available"))


def _span_json(span: AgentActivity) -> dict[str, Any]:
    values = {"agent_id": span.agent_id, "start_ms": span.start_ms, "end_ms": span.end_ms, "kind": span.kind.value}
    if span.slots_busy is not None and span.slots_available is not None:
        values.update(slots_busy=span.slots_busy, slots_available=span.slots_available)
    return values


def _span_items(tenant_id: str, span: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The span in its start's day, and a copy in each later UTC day it crosses (crossed_days): a report of any
    day it covers finds it with one Query of that day, however long ago it began. Same keys and content on a
    redelivery."""
    start, agent = span["start_ms"], span["agent_id"]
    text = {"S": json.dumps(span, separators=(",", ":"))}
    crossed = crossed_days(start, span["end_ms"], ActivityKind(span["kind"]))
    days = [(_utc_date(start), ""), *((day, _CROSSING) for day in crossed)]
    return [{"pk": {"S": f"{tenant_id}#ACTIVITY#{day}"}, "sk": {"S": f"{prefix}{start:013d}#{agent}"}, "span": text}
            for day, prefix in days]


class ActivityBatchIncomplete(RuntimeError):
    """DynamoDB kept leaving some of a batch's open items unread or spans unwritten (throttled)."""


class DynamoHistoryStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def put_record(self, record: ContactRecord) -> bool:
        tenant, cid = record.tenant_id, record.contact_id
        anchor = anchor_time(record)
        names = {"#lu": "lu"}
        values: dict[str, Any] = {
            ":rec": {"S": record.model_dump_json(exclude_defaults=True)},
            ":lu": {"N": str(record.last_updated_at)},
            ":dpk": {"S": day_pk(tenant, anchor)},
            ":dsk": {"S": f"{anchor:013d}#{cid}"},
        }
        sets = ["rec = :rec", "#lu = :lu", "day_pk = :dpk", "day_sk = :dsk"]
        removes = []
        if record.customer_id:
            values[":cpk"] = {"S": f"{tenant}#CUST#{record.customer_id}"}
            values[":csk"] = {"S": f"{anchor:013d}#{cid}"}
            sets += ["cust_pk = :cpk", "cust_sk = :csk"]
        else:
            removes += ["cust_pk", "cust_sk"]
        expression = _update_expression(sets, removes)
        for pointer in _POINTERS:
            at = late_instant(record, pointer.instant)
            if at is not None:
                self._index_pointer(record, pointer, at)
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_key(tenant, cid),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#lu) OR #lu < :lu",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _conflict(error):
                return False  # a duplicate or an older version: the stored record stays
            raise
        return True

    def _index_pointer(self, record: ContactRecord, pointer: _Pointer, at: int) -> None:
        """File a long contact under its completion day too (COMPLETION), a late-enqueued one under its enqueue day
        (ENQUEUE), before its record: a failure in between leaves a pointer whose record is not there yet (skipped on
        read), and the record's redelivery writes the record. Conditioned on the version like the record, so an
        older version's arriving late cannot move the pointer away from the instant of the record held. A newer
        version that no longer qualifies leaves the pointer in place: reads check every pointer against the record
        held (entries_completed_between, entries_enqueued_between)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_key(record.tenant_id, record.contact_id, pointer.sk),
                UpdateExpression="SET #lu = :lu, day_pk = :dpk, day_sk = :dsk",
                ConditionExpression="attribute_not_exists(#lu) OR #lu < :lu",
                ExpressionAttributeNames={"#lu": "lu"},
                ExpressionAttributeValues={
                    ":lu": {"N": str(record.last_updated_at)},
                    ":dpk": {"S": f"{record.tenant_id}#{pointer.day_kind}#{_utc_date(at)}"},
                    ":dsk": {"S": f"{at:013d}#{record.contact_id}"},
                },
            )
        except ClientError as error:
            if not _conflict(error):
                raise  # a duplicate or an older version: the pointer of the newer one stays

    def get_entry(self, tenant_id: str, contact_id: str) -> HistoryEntry | None:
        item = self._db.get_item(TableName=self._table, Key=_key(tenant_id, contact_id), ConsistentRead=True).get("Item")
        return None if item is None else _entry(tenant_id, contact_id, item)

    def entries_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        for item in self._by_day(tenant_id, "DAY", from_ms, to_ms):
            yield _entry(tenant_id, _contact_id(item), item)

    def _by_day(self, tenant_id: str, kind: str, from_ms: int, to_ms: int) -> Iterator[dict[str, Any]]:
        """The by_day index's items keyed in [from, to) under `<tenant>#<kind>#<UTC date>`: one Query per day."""
        if to_ms <= from_ms:
            return
        day = datetime.fromtimestamp(from_ms / 1000, tz=UTC).date()
        last = datetime.fromtimestamp((to_ms - 1) / 1000, tz=UTC).date()
        while day <= last:
            yield from _query(
                self._db,
                self._table,
                IndexName="by_day",
                KeyConditionExpression="day_pk = :p AND day_sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": f"{tenant_id}#{kind}#{day.isoformat()}"},
                    ":a": {"S": f"{from_ms:013d}#"},
                    ":b": {"S": f"{to_ms - 1:013d}#{_SAFE_MAX}"},
                },
            )
            day += timedelta(days=1)

    def entries_completed_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        return self._pointed(tenant_id, _COMPLETION, from_ms, to_ms)

    def entries_enqueued_between(self, tenant_id: str, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        return self._pointed(tenant_id, _ENQUEUE, from_ms, to_ms)

    def _pointed(self, tenant_id: str, pointer: _Pointer, from_ms: int, to_ms: int) -> Iterator[HistoryEntry]:
        """One by_day Query per UTC day of the range for the pointers, then their entries by BatchGetItem; a
        pointer whose record no longer has that instant late, or in the range, is skipped."""
        contact_ids = [_contact_id(item) for item in self._by_day(tenant_id, pointer.day_kind, from_ms, to_ms)]
        for entry in self._entries(tenant_id, contact_ids):
            at = late_instant(entry.record, pointer.instant) if entry.record is not None else None
            if at is not None and from_ms <= at < to_ms:
                yield entry

    def _entries(self, tenant_id: str, contact_ids: list[str]) -> list[HistoryEntry]:
        """The ENTRY items of these contacts (100 keys a BatchGetItem), in the order given; missing ones left out."""
        keys = [_key(tenant_id, c) for c in dict.fromkeys(contact_ids)]
        found = {_contact_id(item): _entry(tenant_id, _contact_id(item), item)
                 for item in batches.batch_get(self._db, self._table, keys)}
        return [found[c] for c in dict.fromkeys(contact_ids) if c in found]

    def customer_entries(self, tenant_id: str, customer_id: str, from_ms: int, to_ms: int) -> list[HistoryEntry]:
        items = _query(
            self._db,
            self._table,
            IndexName="by_customer",
            KeyConditionExpression="cust_pk = :p AND cust_sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": f"{tenant_id}#CUST#{customer_id}"},
                ":a": {"S": f"{max(0, from_ms):013d}#"},
                ":b": {"S": f"{to_ms:013d}#{_SAFE_MAX}"},
            },
        )
        return [_entry(tenant_id, _contact_id(item), item) for item in items]

    def recent_customer_entries(self, tenant_id: str, customer_id: str, limit: int, *, since_ms: int | None = None,
                                up_to: int = 0) -> list[HistoryEntry]:
        if limit <= 0:
            return []
        # the index projects whole entries, newest first
        items = newest_through_window(self._db, table=self._table, index="by_customer",
                                      partition=f"{tenant_id}#CUST#{customer_id}", limit=limit, since_ms=since_ms,
                                      up_to=up_to)
        return [_entry(tenant_id, _contact_id(item), item) for item in items]

    def update_flags(self, tenant_id: str, changes: Mapping[str, Mapping[str, bool | None]]) -> None:
        attributes = {"followed_by_repeat": "fbr", "is_repeat": "rpt"}
        for contact_id, change in changes.items():
            sets, removes, values = [], [], {}
            for name, value in change.items():
                attribute = attributes[name]
                if value is None:
                    removes.append(attribute)
                else:
                    sets.append(f"{attribute} = :{attribute}")
                    values[f":{attribute}"] = {"BOOL": value}
            expression = _update_expression(sets, removes)
            if not expression:
                continue
            kwargs: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
            self._db.update_item(TableName=self._table, Key=_key(tenant_id, contact_id), UpdateExpression=expression, **kwargs)

    def put_survey(self, tenant_id: str, contact_id: str, survey: Survey) -> None:
        sets, removes, values = [], [], {}
        for name in ("csat", "ces", "nps"):
            answer = getattr(survey, name)
            if answer is None:
                removes.append(f"s_{name}")
            else:
                sets.append(f"s_{name} = :{name}")
                values[f":{name}"] = {"N": str(answer)}
        expression = _update_expression(sets, removes)
        self._db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": {**_key(tenant_id, contact_id, "SURVEY"),
                                                             "survey": {"S": survey.model_dump_json()}}}},
                {"Update": {"TableName": self._table, "Key": _key(tenant_id, contact_id), "UpdateExpression": expression,
                            "ExpressionAttributeValues": values}},
            ]
        )

    def get_survey(self, tenant_id: str, contact_id: str) -> Survey | None:
        item = self._db.get_item(TableName=self._table, Key=_key(tenant_id, contact_id, "SURVEY")).get("Item")
        return None if item is None else Survey.model_validate_json(item["survey"]["S"])

    def get_series(self, tenant_id: str, day: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key=_series_key(tenant_id, day)).get("Item")
        return None if item is None or "series" not in item else json.loads(item["series"]["S"])

    def put_series(self, tenant_id: str, day: str, series: Mapping[str, Any], *,
                   unless_dropped_since: int | None = None) -> bool:
        condition: dict[str, Any] = {}
        if unless_dropped_since is not None:
            condition = {"ConditionExpression": "attribute_not_exists(#d) OR #d < :since",
                         "ExpressionAttributeNames": {"#d": "dropped"},
                         "ExpressionAttributeValues": {":since": {"N": str(unless_dropped_since)}}}
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**_series_key(tenant_id, day), "series": {"S": json.dumps(series, separators=(",", ":"))}},
                **condition,
            )
        except ClientError as error:
            if _conflict(error):
                return False  # dropped while it was computed: the next read computes it again
            raise
        return True

    def drop_series(self, tenant_id: str, day: str, at_ms: int) -> None:
        # An item even where none was cached: a read computing the day right now must not cache it without the record.
        self._db.update_item(
            TableName=self._table, Key=_series_key(tenant_id, day), UpdateExpression="SET #d = :at REMOVE series",
            ExpressionAttributeNames={"#d": "dropped"}, ExpressionAttributeValues={":at": {"N": str(at_ms)}},
        )

    def _open_key(self, tenant_id: str, agent_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"{tenant_id}{_OPEN}"}, "sk": {"S": agent_id}}

    def _read_open(self, tenant_id: str, agent_id: str) -> dict[str, Any] | None:
        key = self._open_key(tenant_id, agent_id)
        return self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")

    def _put_open(self, tenant_id: str, opened: OpenActivity, held: OpenActivity | None,
                  span: Mapping[str, Any] | None) -> dict[str, Any]:
        """The open item of `opened`, carrying the span it closes, put only over `held` (the item read before);
        returns the item written. ConditionalCheckFailed: another writer got there first."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"} if held is None else
            {"ConditionExpression": "seq = :seq", "ExpressionAttributeValues": {":seq": {"N": str(held.sequence)}}}
        )  # fmt: skip
        carried = {} if span is None else {"closed": {"S": json.dumps(span, separators=(",", ":"))}}
        item = {**self._open_key(tenant_id, opened.agent_id), "open": {"S": opened.model_dump_json()},
                "seq": {"N": str(opened.sequence)}, **carried}
        self._db.put_item(TableName=self._table, Item=item, **condition)
        return item

    def apply_agent_activity(self, tenant_id: str, opened: OpenActivity) -> bool:
        return self.apply_agent_activity_span(tenant_id, opened)[0]

    def apply_agent_activity_span(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        """Two puts, no transaction (a transaction bills each put twice: it was most of this consumer's write
        units): the open item first, conditioned on the sequence read (consistently) before it, carrying the
        span it closes; then that span. A failure between the two leaves the open item ahead: the event's
        redelivery (its sequence equal to the open one's) writes the carried span again, the same key and
        content. The agent's later events must wait for that redelivery (the consumer fails them with it:
        functions/record_agent_activity), or the next open item would replace the carried span. A racing
        writer's event retries on the newer open item. The span closed is known from the open item read:
        no read after the write. (A stream batch's events: agent_activity_batch, the same protocol in fewer calls.)"""
        for _ in range(3):
            item = self._read_open(tenant_id, opened.agent_id)
            held = None if item is None else OpenActivity.model_validate_json(item["open"]["S"])
            if held is not None and opened.sequence <= held.sequence:
                if opened.sequence == held.sequence and "closed" in item:  # this event again: finish its writes
                    self._put_span(tenant_id, json.loads(item["closed"]["S"]))
                return False, None
            span = None if held is None else _span_json(held.until(opened.since, tenant_id))
            try:
                self._put_open(tenant_id, opened, held, span)
            except ClientError as error:
                if not _conflict(error):
                    raise
                continue
            if span is None:
                return True, None
            self._put_span(tenant_id, span)
            return True, _span_of(tenant_id, span)
        return False, None

    def _put_span(self, tenant_id: str, span: Mapping[str, Any]) -> None:
        for item in _span_items(tenant_id, span):
            self._db.put_item(TableName=self._table, Item=item)

    def agent_activity_batch(self, agents: Iterable[tuple[str, str]]) -> _DynamoActivityBatch:
        return _DynamoActivityBatch(self, self._open_items(agents))

    def _open_items(self, agents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
        """The open items of these (tenant, agent) pairs, strongly consistent, None for an agent with none: one
        BatchGetItem a hundred keys, its unprocessed keys asked again with backoff."""
        wanted = list(dict.fromkeys(agents))
        found: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(wanted)
        try:
            items = batches.batch_get(self._db, self._table, [self._open_key(t, a) for t, a in wanted], consistent=True)
        except batches.BatchIncomplete as error:
            raise ActivityBatchIncomplete(f"open activity items unread in {self._table}: {error}") from None
        for item in items:
            found[(item["pk"]["S"].removesuffix(_OPEN), item["sk"]["S"])] = item
        return found

    def _write_items(self, items: Sequence[dict[str, Any]]) -> None:
        """The spans' items by BatchWriteItem (adapters/aws/batch_get.py: 25 a request, unprocessed ones again)."""
        try:
            batches.batch_put(self._db, self._table, items)
        except batches.BatchIncomplete as error:
            raise ActivityBatchIncomplete(f"activity spans unwritten in {self._table}: {error}") from None

    def agent_activities(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        """One Query per UTC day partition of the range, so the range is bounded (check_activity_range)."""
        if to_ms <= from_ms:
            return []
        check_activity_range(from_ms, to_ms)
        return self._spans_starting(tenant_id, from_ms, to_ms)

    def agent_activities_overlapping(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        """The spans starting in the range or the day before it (one Query per UTC day, as agent_activities: the
        day before finds the spans stored before the crossing copies existed), and the copies in the range's
        first UTC day (one Query more): a span begun earlier that overlaps the range crosses that day."""
        if to_ms <= from_ms:
            return []
        check_activity_range(from_ms, to_ms)
        spans = {(a.agent_id, a.start_ms): a for a in self._spans_starting(tenant_id, max(0, from_ms - _DAY_MS), to_ms)}
        for item in _query(
            self._db,
            self._table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :c)",
            ExpressionAttributeValues={":p": {"S": f"{tenant_id}#ACTIVITY#{_utc_date(from_ms)}"},
                                       ":c": {"S": _CROSSING}},
        ):
            span = _span(tenant_id, item)
            spans.setdefault((span.agent_id, span.start_ms), span)
        return sorted((a for a in spans.values() if a.start_ms < to_ms and a.end_ms > from_ms),
                      key=lambda a: (a.start_ms, a.agent_id))

    def _spans_starting(self, tenant_id: str, from_ms: int, to_ms: int) -> list[AgentActivity]:
        spans = []
        day = datetime.fromtimestamp(from_ms / 1000, tz=UTC).date()
        last = datetime.fromtimestamp((to_ms - 1) / 1000, tz=UTC).date()
        while day <= last:
            for item in _query(
                self._db,
                self._table,
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": f"{tenant_id}#ACTIVITY#{day.isoformat()}"},
                    ":a": {"S": f"{from_ms:013d}#"},
                    ":b": {"S": f"{to_ms - 1:013d}#{_SAFE_MAX}"},
                },
            ):
                spans.append(_span(tenant_id, item))
            day += timedelta(days=1)
        return spans

    def open_activities(self, tenant_id: str) -> list[OpenActivity]:
        items = _query(self._db, self._table, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": f"{tenant_id}#OPEN_ACTIVITY"}})
        return [OpenActivity.model_validate_json(item["open"]["S"]) for item in items]

    def add_flow_event(self, tenant_id: str, contact_id: str, event: FlowEvent) -> None:
        sets = ["fl_n = if_not_exists(fl_n, :zero) + :one", "fl_last = :name"]
        values: dict[str, Any] = {":zero": {"N": "0"}, ":one": {"N": "1"}, ":name": {"S": event.name}}
        if event.self_service:
            sets.append("fl_ss = :ss")
            values[":ss"] = {"BOOL": True}
        sk = f"FLOW#{event.at:013d}#{uuid.uuid4().hex[:12]}"
        self._db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": {**_key(tenant_id, contact_id, sk),
                                                             "event": {"S": event.model_dump_json(exclude_none=True)}}}},
                {"Update": {"TableName": self._table, "Key": _key(tenant_id, contact_id),
                            "UpdateExpression": "SET " + ", ".join(sets), "ExpressionAttributeValues": values}},
            ]
        )

    def flow_events(self, tenant_id: str, contact_id: str) -> list[FlowEvent]:
        items = _query(
            self._db,
            self._table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :f)",
            ExpressionAttributeValues={":p": {"S": contact_pk(tenant_id, contact_id)}, ":f": {"S": "FLOW#"}},
            ConsistentRead=True,
        )
        return [FlowEvent.model_validate_json(item["event"]["S"]) for item in items]


class _DynamoActivityBatch:
    """DynamoHistoryStore.agent_activity_batch: per event one conditional put of the open item (carrying the span
    it closes, as apply_agent_activity_span), against the open items read for the whole batch by one BatchGetItem
    (a hundred agents a request); the spans then go together by BatchWriteItem (write_spans, 25 items a request),
    not a PutItem each (GetItem + 2 PutItem an event were 16 % of all AWS calls on the busy-day bench).

    Why the deferred span is safe: until written it is carried by its agent's open item (`unwritten`), whose
    event is in this batch, so a batch that fails before write_spans is redelivered and that event, now equal to
    the open sequence, puts the carried span again. The one thing that would lose it is a newer open item
    replacing the one carrying it: so the span is written first (apply, before the put). An open item read after
    a conflict was just written by another writer, whose span may still be unwritten: written first too."""

    def __init__(self, store: DynamoHistoryStore, items: dict[tuple[str, str], dict[str, Any] | None]) -> None:
        self._store = store
        self._items = items  # (tenant, agent) -> the open item as read for the batch or written since (None: none)
        self._unwritten: dict[tuple[str, str], dict[str, Any]] = {}  # span JSON carried by the agent's open item

    def apply(self, tenant_id: str, opened: OpenActivity) -> tuple[bool, AgentActivity | None]:
        key = (tenant_id, opened.agent_id)
        item = self._items[key] if key in self._items else self._store._read_open(tenant_id, opened.agent_id)
        for attempt in range(3):
            if attempt:  # another writer replaced the item read: read it fresh; its span may still be unwritten
                item = self._store._read_open(tenant_id, opened.agent_id)
                if item is not None and "closed" in item:
                    self._unwritten[key] = json.loads(item["closed"]["S"])
            held = None if item is None else OpenActivity.model_validate_json(item["open"]["S"])
            if held is not None and opened.sequence <= held.sequence:
                if opened.sequence == held.sequence and "closed" in item:  # this event again: finish its writes
                    self._unwritten[key] = json.loads(item["closed"]["S"])
                self._items[key] = item
                return False, None
            span = None if held is None else _span_json(held.until(opened.since, tenant_id))
            self._write({key})  # the span the item about to be replaced carries
            try:
                item = self._store._put_open(tenant_id, opened, held, span)
            except ClientError as error:
                if not _conflict(error):
                    raise
                continue
            self._items[key] = item
            if span is None:
                return True, None
            self._unwritten[key] = span
            return True, _span_of(tenant_id, span)
        self._items.pop(key, None)  # three other writers in a row: read it again next time
        return False, None

    def write_spans(self) -> None:
        self._write(set(self._unwritten))

    def _write(self, keys: set[tuple[str, str]]) -> None:
        """These agents' unwritten spans (and crossing-day copies), forgotten only once written."""
        spans = [(key, self._unwritten[key]) for key in keys if key in self._unwritten]
        if not spans:
            return
        items = {(i["pk"]["S"], i["sk"]["S"]): i for (tenant_id, _), span in spans for i in _span_items(tenant_id, span)}
        self._store._write_items(list(items.values()))
        for key, _ in spans:
            del self._unwritten[key]


class DynamoTranscriptStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def add_message(self, tenant_id: str, contact_id: str, message: ChatMessage) -> None:
        sk = f"MSG#{message.absolute_time:013d}#{message.message_id}"
        self._db.put_item(
            TableName=self._table,
            Item={**_key(tenant_id, contact_id, sk), "message": {"S": message.stored_json()}},
        )

    def messages(self, tenant_id: str, contact_id: str, *, after: str | None = None,
                 limit: int | None = None) -> list[ChatMessage]:
        # sk = MSG#<cursor>: "after" is a range on the sort key, past the last MSG# item ("MSG$" sorts after it)
        condition = "pk = :p AND sk BETWEEN :from AND :to"
        values = {":p": {"S": contact_pk(tenant_id, contact_id)}, ":from": {"S": f"MSG#{after}#" if after else "MSG#"},
                  ":to": {"S": "MSG$"}}
        page = {"Limit": limit} if limit is not None else {}
        items = _query(self._db, self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values,
                       ConsistentRead=True, **page)
        found = [ChatMessage.from_stored(item["message"]["S"]) for item in islice(items, limit)]
        return [m for m in found if after is None or m.cursor > after]

    def latest_messages(self, tenant_id: str, contact_id: str, limit: int, *,
                        through: str | None = None) -> list[ChatMessage]:
        if limit <= 0:
            return []
        # newest first from `through` (its own MSG# key included) down, one page of `limit` items
        values = {":p": {"S": contact_pk(tenant_id, contact_id)}, ":from": {"S": "MSG#"},
                  ":to": {"S": f"MSG#{through}" if through else "MSG$"}}
        items = self._db.query(TableName=self._table, KeyConditionExpression="pk = :p AND sk BETWEEN :from AND :to",
                               ExpressionAttributeValues=values, ScanIndexForward=False, Limit=limit,
                               ConsistentRead=True)["Items"]
        return [ChatMessage.from_stored(item["message"]["S"]) for item in reversed(items)]

    def replace_messages(self, tenant_id: str, contact_id: str,
                         replacements: Sequence[tuple[ChatMessage, ChatMessage]]) -> None:
        if not replacements:
            return
        if any(new.cursor != old.cursor for old, new in replacements):
            raise Conflict(f"the messages of contact {contact_id} changed concurrently; retry", field="contact_id")
        puts = [{"Put": {
            "TableName": self._table,
            "Item": {**_key(tenant_id, contact_id, f"MSG#{new.cursor}"), "message": {"S": new.stored_json()}},
            "ConditionExpression": "#m = :expected",  # the JSON as add_message (or the last rewrite) wrote it
            "ExpressionAttributeNames": {"#m": "message"},
            "ExpressionAttributeValues": {":expected": {"S": old.stored_json()}},
        }} for old, new in replacements]
        try:
            self._db.transact_write_items(TransactItems=puts)
        except ClientError as error:
            if _conflict(error):
                raise Conflict(f"the messages of contact {contact_id} changed concurrently; retry",
                               field="contact_id") from error
            raise

    def put_analysis(
        self, tenant_id: str, contact_id: str, analysis: Mapping[str, Any], summary: AnalysisSummary,
        *, expected_version: int | None = None,
    ) -> None:
        text = json.dumps(analysis, ensure_ascii=False, separators=(",", ":"))  # UTF-8: an emoji 4 bytes, not 12
        # TooLarge, never DynamoDB's ValidationException (a 502); the text's own bytes (its quotes are not escaped)
        check_item_size({"analysis": text}, "analysis", size=len(text.encode()) + 256)
        put: dict[str, Any] = {"TableName": self._table, "Item": {
            **_key(tenant_id, contact_id, "ANALYSIS"), "analysis": {"S": text},
            "ver": {"N": str(int(analysis.get("version", 0)))},
        }}
        if expected_version is not None:  # the stored document's version (0: none, or one from before versions)
            put["ConditionExpression"] = (
                "attribute_not_exists(ver) OR ver = :expected" if expected_version == 0 else "ver = :expected"
            )
            put["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {"Put": put},
                    {"Update": {"TableName": self._table, "Key": _key(tenant_id, contact_id), "UpdateExpression": "SET an = :an",
                                "ExpressionAttributeValues": {":an": {"S": summary.model_dump_json()}}}},
                ]
            )
        except ClientError as error:
            if expected_version is not None and _conflict(error):
                raise Conflict(f"the analysis of contact {contact_id} changed concurrently; retry", field="contact_id") from error
            raise

    def get_analysis(self, tenant_id: str, contact_id: str, *, consistent: bool = True) -> dict[str, Any] | None:
        """The stored analysis. Consistent by default: the use-cases read it to merge and write it back
        conditionally (ccaas.usecases.analytics retries a Conflict 3 times), and an eventually consistent
        re-read after a conflict may return the same stale version each time. `consistent=False` for a
        read that only shows the document (half the read cost)."""
        item = self._db.get_item(TableName=self._table, Key=_key(tenant_id, contact_id, "ANALYSIS"),
                                 ConsistentRead=consistent).get("Item")
        return None if item is None else json.loads(item["analysis"]["S"])
