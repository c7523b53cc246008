"""DynamoDB Time to Live for the local runtime: moto stores a table's TTL setting but never deletes an item.

On AWS, DynamoDB deletes an item some time (usually within days) after the epoch second in the table's TTL
attribute has passed; until then reads still return it, which is why every reader here checks the
attribute itself (the event de-duplicator, the API's idempotency records, resolved alerts, journey
contacts). `TtlSweeper` does the deleting locally, every `every_s` seconds: it walks each TTL-enabled
table's items in moto (read only) and deletes the expired ones through the runtime's own DynamoDB client
with DeleteItem conditioned on the attribute still being in the past, so an item written again since the
walk is kept, and every moto patch that follows writes sees the delete (local/moto_patches.py).

Why it matters locally: a long `make run` keeps every item in memory, and the de-duplication records of
consume_contact_events were ~40 % of the items a busy minute writes (local/README.md "Under load").
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("local.ttl")


def _expired_keys(table: Any, attribute: str, now_s: int) -> Iterator[dict[str, Any]]:
    """Keys (in the wire format) of the table's items whose TTL attribute is a number before `now_s`.
    Snapshots of moto's dicts: the runtime's handlers write to them on other threads meanwhile."""
    for held in list(table.items.values()):
        for item in list(held.values()) if table.range_key_attr else [held]:
            value = item.attrs.get(attribute)
            if value is None or value.type != "N":
                continue  # not a number: DynamoDB's TTL ignores the item
            try:
                expired = float(value.value) < now_s
            except ValueError:
                continue
            if expired:
                key = {table.hash_key_attr: item.hash_key.to_json()}
                if table.range_key_attr:
                    key[table.range_key_attr] = item.range_key.to_json()
                yield key


class TtlSweeper:
    """Deletes expired items of every TTL-enabled table of `backend` (moto's DynamoDB backend) through
    `client` (a boto3 DynamoDB client on the same moto), every `every_s` seconds on a daemon thread."""

    def __init__(self, backend: Any, client: Any, every_s: float, clock: Callable[[], float] = time.time) -> None:
        self._backend, self._client, self.every_s, self._clock = backend, client, every_s, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.deleted = 0

    def sweep_once(self) -> int:
        now_s = int(self._clock())
        deleted = 0
        for name, table in list(self._backend.tables.items()):
            ttl = table.ttl
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
                continue
            attribute = ttl["AttributeName"]
            for key in list(_expired_keys(table, attribute, now_s)):
                try:
                    self._client.delete_item(TableName=name, Key=key, ConditionExpression="#ttl < :now",
                                             ExpressionAttributeNames={"#ttl": attribute},
                                             ExpressionAttributeValues={":now": {"N": str(now_s)}})
                    deleted += 1
                except self._client.exceptions.ConditionalCheckFailedException:
                    pass  # written again since the walk: not expired any more
        self.deleted += deleted
        return deleted

    def start(self) -> TtlSweeper:
        self._thread = threading.Thread(target=self._run, name="local-ttl", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.sweep_once()
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next period; the runtime goes on
                log.exception("TTL sweep failed")
