"""Alerts on DynamoDB (the Alerts table) and the alerts bus on EventBridge.

Items, all tenant-first:
- `pk=<tenant>#ALERTS, sk=ALERT#<alert id>`: the alert. Ids sort by opening time, so the newest are a
  reverse Query away. Resolved alerts get a TTL (`expires_at`, RESOLVED_RETENTION_DAYS) and
  `resolved_pk=<tenant>#RESOLVED`: the sparse GSI `resolved` (resolved_pk, sk) lists them newest first
  without reading past the open ones. (Alerts resolved before it was written show under `recent` only, until
  `index_resolved` — the admin tool's `index-resolved-alerts` — indexes them.)
- `pk=<tenant>#ALERTS, sk=SLOT#<rule>#<subject>`: `{alert_id}` while that alert is unresolved. It is
  created with the alert in one transaction conditioned on its absence: the one-unresolved-alert-per-
  (rule, subject) guarantee. Listing unresolved alerts is a Query of the slots plus a BatchGetItem.
- `pk=<tenant>#TRANSCRIPT#<contact id>, sk=LIVE`: live-transcript rule state (no text), TTL 2 days.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from ccaas.adapters.aws.batch_get import batch_get
from ccaas.adapters.aws.dynamodb import from_item, to_item
from ccaas.domain.alerts import EVENT_SOURCE, Alert, AlertChange, AlertStatus, LiveTranscriptState, event_detail
from ccaas.domain.models import Conflict, NotFound

RESOLVED_RETENTION_DAYS = 30
TRANSCRIPT_STATE_TTL_S = 2 * 24 * 3600
_OPEN_ATTEMPTS = 4
_MAX_PUT_ATTEMPTS = 4
RESOLVED_INDEX = "resolved"
_KEYS = ("pk", "sk", "expires_at", "resolved_pk")  # storage, not the model


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in from_item(item).items() if k not in _KEYS}
    # Numbers come back as Decimal: a JSON round trip gives ints and floats back.
    return json.loads(json.dumps(values, default=lambda d: int(d) if d == d.to_integral_value() else float(d)))


def _failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")


class DynamoAlertStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    @staticmethod
    def _pk(tenant_id: str) -> str:
        return f"{tenant_id}#ALERTS"

    @classmethod
    def _record_key(cls, tenant_id: str, alert_id: str) -> dict[str, Any]:
        return to_item({"pk": cls._pk(tenant_id), "sk": f"ALERT#{alert_id}"})

    @classmethod
    def _slot_key(cls, alert: Alert) -> dict[str, Any]:
        return to_item({"pk": cls._pk(alert.tenant_id), "sk": f"SLOT#{alert.rule.value}#{alert.subject}"})

    def _record(self, alert: Alert) -> dict[str, Any]:
        values = {"pk": self._pk(alert.tenant_id), "sk": f"ALERT#{alert.alert_id}", **alert.model_dump(mode="json")}
        if alert.resolved_at:
            values["expires_at"] = alert.resolved_at // 1000 + RESOLVED_RETENTION_DAYS * 24 * 3600
        return to_item(values)

    def open(self, alert: Alert) -> Alert:
        for _ in range(_OPEN_ATTEMPTS):
            try:
                self._db.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                                 "Item": {**self._slot_key(alert), "alert_id": {"S": alert.alert_id}}}},
                        {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                                 "Item": self._record(alert)}},
                    ]  # fmt: skip
                )
                return alert
            except ClientError as error:
                if not _failed(error):
                    raise
            holder = self._db.get_item(TableName=self._table, Key=self._slot_key(alert), ConsistentRead=True).get("Item")
            if holder is not None:
                return self.get(alert.tenant_id, holder["alert_id"]["S"])
            # The holder was resolved between our write and our read: try again.
        raise Conflict(f"alert slot {alert.rule.value} {alert.subject} keeps changing; retry")

    def unresolved(self, tenant_id: str) -> list[Alert]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :slot)",
            ExpressionAttributeValues={":pk": {"S": self._pk(tenant_id)}, ":slot": {"S": "SLOT#"}},
            ConsistentRead=True,
        )
        ids = sorted({item["alert_id"]["S"] for page in pages for item in page["Items"]})
        keys = [self._record_key(tenant_id, i) for i in ids]
        found = {alert.alert_id: alert for alert in (Alert.model_validate(_plain(item))
                                                     for item in batch_get(self._db, self._table, keys, consistent=True))}
        return [found[i] for i in ids if i in found]

    def get(self, tenant_id: str, alert_id: str) -> Alert:
        item = self._db.get_item(TableName=self._table, Key=self._record_key(tenant_id, alert_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"alert {alert_id} not found", field="alert_id")
        return Alert.model_validate(_plain(item))

    @staticmethod
    def _resolved_pk(tenant_id: str) -> str:
        return f"{tenant_id}#RESOLVED"

    def recent(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        return self._newest(
            limit, after and self._record_key(tenant_id, after),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :alert)",
            ExpressionAttributeValues={":pk": {"S": self._pk(tenant_id)}, ":alert": {"S": "ALERT#"}},
        )

    def resolved(self, tenant_id: str, limit: int, after: str | None = None) -> list[Alert]:
        start = after and {**self._record_key(tenant_id, after), "resolved_pk": {"S": self._resolved_pk(tenant_id)}}
        return self._newest(
            limit, start, IndexName=RESOLVED_INDEX,
            KeyConditionExpression="resolved_pk = :rpk",
            ExpressionAttributeValues={":rpk": {"S": self._resolved_pk(tenant_id)}},
        )

    def index_resolved(self, tenant_id: str) -> int:
        """A Query of the tenant's alerts (resolved ones without `resolved_pk` only, as a filter) and an update of
        each found, conditioned on it still being so: an upgrade's one-off, run again it finds nothing."""
        indexed, start = 0, None
        while True:
            page = self._db.query(
                TableName=self._table, KeyConditionExpression="pk = :pk AND begins_with(sk, :alert)",
                FilterExpression="#s = :resolved AND attribute_not_exists(resolved_pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pk": {"S": self._pk(tenant_id)}, ":alert": {"S": "ALERT#"},
                                           ":resolved": {"S": AlertStatus.RESOLVED.value}},
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for item in page["Items"]:
                try:
                    self._db.update_item(
                        TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]},
                        UpdateExpression="SET resolved_pk = :rpk",
                        ConditionExpression="#s = :resolved AND attribute_not_exists(resolved_pk)",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={":rpk": {"S": self._resolved_pk(tenant_id)},
                                                   ":resolved": {"S": AlertStatus.RESOLVED.value}},
                    )
                    indexed += 1
                except ClientError as error:
                    if not _failed(error):  # a failed condition: expired or indexed meanwhile, nothing to do
                        raise
            start = page.get("LastEvaluatedKey")
            if not start:
                return indexed

    def _newest(self, limit: int, start: dict[str, Any] | None, **query: Any) -> list[Alert]:
        """Up to `limit` alerts of the query, newest first, from after the key `start` (an alert id's keys)."""
        found: list[Alert] = []
        while len(found) < limit:
            page = self._db.query(TableName=self._table, ScanIndexForward=False, Limit=limit - len(found),
                                  **({"ExclusiveStartKey": start} if start else {}), **query)
            found += [Alert.model_validate(_plain(i)) for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return found

    def acknowledge(self, tenant_id: str, alert_id: str, at_ms: int) -> Alert:
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=self._record_key(tenant_id, alert_id),
                UpdateExpression="SET #s = :ack, acknowledged_at = :at",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":ack": {"S": AlertStatus.ACKNOWLEDGED.value},
                    ":open": {"S": AlertStatus.OPEN.value},
                    ":at": {"N": str(at_ms)},
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return Alert.model_validate(_plain(item))
        except ClientError as error:
            if not _failed(error):
                raise
        alert = self.get(tenant_id, alert_id)  # NotFound for an unknown id (or another tenant's)
        if alert.status == AlertStatus.RESOLVED:
            raise Conflict(f"alert {alert_id} is resolved", field="alert_id")
        return alert

    def resolve(self, alert: Alert) -> bool:
        expires = (alert.resolved_at or 0) // 1000 + RESOLVED_RETENTION_DAYS * 24 * 3600
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {"Update": {
                        "TableName": self._table, "Key": self._record_key(alert.tenant_id, alert.alert_id),
                        "UpdateExpression": "SET #s = :resolved, resolved_at = :at, resolution = :why, expires_at = :exp, "
                                            "resolved_pk = :rpk",
                        "ConditionExpression": "attribute_exists(pk) AND #s <> :resolved",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":resolved": {"S": AlertStatus.RESOLVED.value},
                            ":at": {"N": str(alert.resolved_at or 0)},
                            ":why": {"S": alert.resolution.value if alert.resolution else "manual"},
                            ":exp": {"N": str(expires)},
                            ":rpk": {"S": self._resolved_pk(alert.tenant_id)},
                        },
                    }},
                    {"Delete": {
                        "TableName": self._table, "Key": self._slot_key(alert),
                        "ConditionExpression": "attribute_not_exists(pk) OR alert_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": alert.alert_id}},
                    }},
                ]  # fmt: skip
            )
            return True
        except ClientError as error:
            if _failed(error):
                return False
            raise

    def mark_published(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=self._record_key(alert.tenant_id, alert.alert_id),
                    UpdateExpression="SET published = :t",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
            except ClientError as error:
                if not _failed(error):
                    raise

    @staticmethod
    def _transcript_key(tenant_id: str, contact_id: str) -> dict[str, Any]:
        return to_item({"pk": f"{tenant_id}#TRANSCRIPT#{contact_id}", "sk": "LIVE"})

    def transcript_state(self, tenant_id: str, contact_id: str) -> LiveTranscriptState | None:
        item = self._db.get_item(TableName=self._table, Key=self._transcript_key(tenant_id, contact_id), ConsistentRead=True).get("Item")
        return None if item is None else LiveTranscriptState.model_validate(_plain(item))

    def save_transcript_state(self, state: LiveTranscriptState) -> None:
        values = {
            **from_item(self._transcript_key(state.tenant_id, state.contact_id)),
            **state.model_dump(mode="json"),
            "expires_at": state.updated_at // 1000 + TRANSCRIPT_STATE_TTL_S,
        }
        if state.version == 1:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(state.version - 1)}},
            }
        try:
            self._db.put_item(TableName=self._table, Item=to_item(values), **condition)
        except ClientError as error:
            if _failed(error):
                raise Conflict(f"live transcript of contact {state.contact_id} changed concurrently") from error
            raise


class AlertEventsNotAccepted(RuntimeError):
    """The bus kept refusing some alert events after the publisher's own retries (named, as the contact events'
    EventsNotAccepted is, so a caller or a workflow can tell it from a bug)."""


class EventBridgeAlertPublisher:
    """PutEvents in chunks of 10 (the API's limit); entries EventBridge rejects are retried, never dropped."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, changes: Sequence[tuple[AlertChange, Alert]]) -> None:
        for start in range(0, len(changes), 10):
            pending = [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": change.value,
                    "Detail": json.dumps(event_detail(alert)),
                    "EventBusName": self._bus,
                }
                for change, alert in changes[start : start + 10]
            ]
            for attempt in range(_MAX_PUT_ATTEMPTS):
                response = self._events.put_events(Entries=pending)
                if not response.get("FailedEntryCount"):
                    break
                pending = [e for e, result in zip(pending, response["Entries"], strict=False) if result.get("ErrorCode")]
                time.sleep(0.05 * 2**attempt)
            else:
                raise AlertEventsNotAccepted(f"{len(pending)} alert events not accepted by the bus after {_MAX_PUT_ATTEMPTS} attempts")
