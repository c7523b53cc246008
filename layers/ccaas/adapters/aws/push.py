"""Connections table (DynamoDB) and PostToConnection (API Gateway management API).

Item: pk "<tenant>" / sk "CONN#<connection id>", with the audience index `audience`:
aud_pk "<tenant>#AGENT#<agent id>" (agents) or "<tenant>#WATCH" (supervisors, admins), aud_sk the
connection id (a watcher's: "<key id>#<connection id>", so one credential's watchers are a begins_with Query).
An agent's connections, a tenant's watchers, or one credential's, are one Query. TTL `expires_at`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ccaas.domain.models import NotFound
from ccaas.domain.push import MAX_MESSAGE_OUT_BYTES, Connection, ConnectionGone, MessageRefused, frame_bytes

AUDIENCE_INDEX = "audience"


def _pk(tenant_id: str) -> str:
    return tenant_id


def _sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def audience_key(connection: Connection) -> str | None:
    if connection.watches_queues:
        return f"{connection.tenant_id}#WATCH"
    if connection.agent_id:
        return f"{connection.tenant_id}#AGENT#{connection.agent_id}"
    return None


def _to_item(c: Connection) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": _pk(c.tenant_id)},
        "sk": {"S": _sk(c.connection_id)},
        "tenant_id": {"S": c.tenant_id},
        "connection_id": {"S": c.connection_id},
        "role": {"S": c.role},
        "agent_id": {"S": c.agent_id},
        "key_id": {"S": c.key_id},
        "subscriptions": {"S": json.dumps(list(c.subscriptions))},
        "connected_at": {"N": str(c.connected_at)},
        "expires_at": {"N": str(c.expires_at)},
    }
    aud = audience_key(c)
    if aud:
        item["aud_pk"] = {"S": aud}
        item["aud_sk"] = {"S": f"{c.key_id}#{c.connection_id}" if c.watches_queues else c.connection_id}
    return item


def _from_item(item: Mapping[str, Any]) -> Connection:
    return Connection(
        tenant_id=item["tenant_id"]["S"],
        connection_id=item["connection_id"]["S"],
        role=item["role"]["S"],
        agent_id=item.get("agent_id", {}).get("S", ""),
        key_id=item.get("key_id", {}).get("S", ""),  # "" on a connection stored before sockets knew their key
        subscriptions=tuple(json.loads(item.get("subscriptions", {}).get("S", "[]"))),
        connected_at=int(item["connected_at"]["N"]),
        expires_at=int(item["expires_at"]["N"]),
    )


class DynamoConnectionStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db, self._table = client, table

    def put(self, connection: Connection) -> None:
        self._db.put_item(TableName=self._table, Item=_to_item(connection))

    def get(self, tenant_id: str, connection_id: str) -> Connection | None:
        out = self._db.get_item(TableName=self._table, Key={"pk": {"S": _pk(tenant_id)}, "sk": {"S": _sk(connection_id)}},
                                ConsistentRead=True)
        return _from_item(out["Item"]) if "Item" in out else None

    def delete(self, tenant_id: str, connection_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"pk": {"S": _pk(tenant_id)}, "sk": {"S": _sk(connection_id)}})

    def subscribe(self, tenant_id: str, connection_id: str, queues: Sequence[str]) -> Connection:
        try:
            out = self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": _pk(tenant_id)}, "sk": {"S": _sk(connection_id)}},
                UpdateExpression="SET subscriptions = :s",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":s": {"S": json.dumps(list(dict.fromkeys(queues)))}},
                ReturnValues="ALL_NEW",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"connection {connection_id} not found", field="connection_id") from None
        return _from_item(out["Attributes"])

    def _audience(self, key: str, sk_prefix: str | None = None) -> list[Connection]:
        found: list[Connection] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": AUDIENCE_INDEX,
            "KeyConditionExpression": "aud_pk = :a", "ExpressionAttributeValues": {":a": {"S": key}},
        }
        if sk_prefix is not None:
            kwargs["KeyConditionExpression"] += " AND begins_with(aud_sk, :p)"
            kwargs["ExpressionAttributeValues"][":p"] = {"S": sk_prefix}
        while True:
            out = self._db.query(**kwargs)
            found += [_from_item(i) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                return found
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def of_agent(self, tenant_id: str, agent_id: str) -> list[Connection]:
        if not agent_id:
            return []
        return [c for c in self._audience(f"{tenant_id}#AGENT#{agent_id}") if c.tenant_id == tenant_id and c.agent_id == agent_id]

    def watchers(self, tenant_id: str) -> list[Connection]:
        return [c for c in self._audience(f"{tenant_id}#WATCH") if c.tenant_id == tenant_id and c.watches_queues]

    def watchers_of(self, tenant_id: str, key_id: str) -> list[Connection]:
        # A row stored before aud_sk carried the key (deployed within its 2 h) is not found here: the push's
        # bound (usecases.push.watching) still counts it. The prefix may match a longer key id: filtered.
        return [c for c in self._audience(f"{tenant_id}#WATCH", f"{key_id}#")
                if c.tenant_id == tenant_id and c.watches_queues and c.key_id == key_id]


# PostToConnection's answers that sending the same message again would get again.
_REFUSALS = ("PayloadTooLargeException", "BadRequestException", "ForbiddenException")


class ApiGatewayPushChannel:
    """PostToConnection on the WebSocket API's stage endpoint (https://<api>.execute-api.<region>
    .amazonaws.com/<stage>); `client` is an `apigatewaymanagementapi` client made for that endpoint."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        data = frame_bytes(message)
        if len(data) > MAX_MESSAGE_OUT_BYTES:
            raise MessageRefused(f"{len(data)} bytes, over the {MAX_MESSAGE_OUT_BYTES} a WebSocket message may hold")
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            raise ConnectionGone(connection_id) from None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _REFUSALS:
                raise MessageRefused(error.response["Error"]["Code"]) from None
            raise

    def close(self, connection_id: str) -> None:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            pass  # closed already
