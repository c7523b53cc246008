"""BatchGetItem (and BatchWriteItem's puts) to the end: a hundred keys a request (its limit), the keys DynamoDB leaves unprocessed (a throttled
partition) asked again with exponential backoff, a bounded number of rounds, then BatchIncomplete. Asking them
again at once, without a bound, hammered a throttled table until the function timed out (outside review)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

KEYS_PER_REQUEST = 100
ATTEMPTS = 8
BACKOFF_CAP_S = 1.0


class BatchIncomplete(RuntimeError):
    """DynamoDB kept leaving some of the keys unprocessed (throttled): the caller's work fails, to be retried."""


def backoff(attempt: int) -> None:
    """Before the next round of a batch call's unprocessed part (none after the last round)."""
    if attempt + 1 < ATTEMPTS:
        time.sleep(min(BACKOFF_CAP_S, 0.025 * 2**attempt))


def batch_get(db: Any, table: str, keys: Sequence[dict[str, Any]], *, consistent: bool = False) -> list[dict[str, Any]]:
    """Every item of `table` with one of these keys (those that exist), in no particular order."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), KEYS_PER_REQUEST):
        request: dict[str, Any] = {table: {"Keys": list(keys[start : start + KEYS_PER_REQUEST]),
                                           **({"ConsistentRead": True} if consistent else {})}}
        for attempt in range(ATTEMPTS):
            page = db.batch_get_item(RequestItems=request)
            items += page.get("Responses", {}).get(table, [])
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
            backoff(attempt)
        else:
            raise BatchIncomplete(f"items of {table} left unread after {ATTEMPTS} rounds")
    return items


def batch_put(db: Any, table: str, items: Sequence[dict[str, Any]]) -> None:
    """Put every item: 25 a BatchWriteItem (its limit), the unprocessed ones sent again in the same rounds."""
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        for attempt in range(ATTEMPTS):
            pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            backoff(attempt)
        else:
            raise BatchIncomplete(f"items of {table} left unwritten after {ATTEMPTS} rounds")
