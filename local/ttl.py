"""DynamoDB Time to Live for the local runtime: moto stores a table's TTL setting but never deletes an item.

On AWS, DynamoDB deletes an item some time (usually within days) after the epoch second in the table's TTL
attribute has passed; until then reads still return it, which is why every reader here checks the
attribute itself (the event de-duplicator, the API's idempotency records, resolved alerts, journey
contacts). `TtlSweeper` does the deleting locally, every `every_s` seconds: under the lock every DynamoDB
request of the embedded moto takes (local/moto_patches.py patch 2), it finds each TTL-enabled table's
expired items and deletes them from moto's table, keeping patch 25's index maps current. Holding the lock,
no request can write an item between the check and the delete; a DeleteItem request per item instead
waited its turn behind the handlers' requests: at 3 contacts a second, 276 deletes took 99 s.

Why it matters locally: a long `make run` keeps every item in memory, and the de-duplication records of
consume_contact_events were about half of the items a busy minute writes (local/README.md "Under load").
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("local.ttl")


def _expired(table: Any, attribute: str, now_s: int) -> list[tuple[Any, Any]]:
    """(hash key, range key or None) of the table's items whose TTL attribute is a number before `now_s`."""
    found = []
    for held in table.items.values():
        for item in held.values() if table.range_key_attr else (held,):
            value = item.attrs.get(attribute)
            if value is None or value.type != "N":
                continue  # not a number: DynamoDB's TTL ignores the item
            try:
                if float(value.value) < now_s:
                    found.append((item.hash_key, item.range_key if table.range_key_attr else None))
            except ValueError:
                continue
    return found


class TtlSweeper:
    """Deletes expired items of every TTL-enabled table of `backend` (moto's DynamoDB backend) every
    `every_s` seconds on a daemon thread."""

    def __init__(self, backend: Any, every_s: float, clock: Callable[[], float] = time.time) -> None:
        self._backend, self.every_s, self._clock = backend, every_s, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.deleted = 0

    def sweep_once(self) -> int:
        from local.moto_patches import DYNAMODB_LOCK, reindex_item

        now_s = int(self._clock())
        deleted = 0
        with DYNAMODB_LOCK:
            for table in list(self._backend.tables.values()):
                ttl = table.ttl
                if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
                    continue
                for hash_key, range_key in _expired(table, ttl["AttributeName"], now_s):
                    if table.delete_item(hash_key, range_key) is not None:
                        reindex_item(table, hash_key, range_key)
                        deleted += 1
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
