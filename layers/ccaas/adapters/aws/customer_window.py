"""The newest items of a customer on a time-sorted customer index, read on through a window: the Contacts table's
`customer` index (keys) and History's `by_customer` (whole entries) both key a customer's items by `cust_pk` and sort
them by `cust_sk` = `<13-digit epoch ms>#…` (routing.journey_of: a repeat within the FCR window)."""
from __future__ import annotations

from itertools import islice
from typing import Any


def newest_through_window(db: Any, *, table: str, index: str, partition: str, limit: int, since_ms: int | None,
                          up_to: int) -> list[dict[str, Any]]:
    """The newest `limit` items of the partition, newest first; with `since_ms`, the older ones at or after it too,
    at most max(limit, up_to) in all. One Query when the first page holds the window (it is not full, or its oldest
    item is older than `since_ms`); else a Query bounded by time from that oldest item back to `since_ms`, paged."""
    newest = {"TableName": table, "IndexName": index, "ScanIndexForward": False}
    customer = {":p": {"S": partition}}
    page = db.query(**newest, KeyConditionExpression="cust_pk = :p", ExpressionAttributeValues=customer, Limit=limit)
    items, most = page["Items"], max(limit, up_to)
    if since_ms is None or "LastEvaluatedKey" not in page or not items or len(items) >= most:
        return items
    since, oldest = f"{max(0, since_ms):013d}#", items[-1]["cust_sk"]["S"]
    if oldest < since:
        return items
    # the rest of the window: from the oldest read (read again: BETWEEN is inclusive) back to `since`
    pages = db.get_paginator("query").paginate(
        **newest, KeyConditionExpression="cust_pk = :p AND cust_sk BETWEEN :since AND :oldest",
        ExpressionAttributeValues={**customer, ":since": {"S": since}, ":oldest": {"S": oldest}},
        PaginationConfig={"MaxItems": most - len(items) + 1, "PageSize": most - len(items) + 1})
    older = (item for page in pages for item in page["Items"] if item["cust_sk"]["S"] != oldest)
    return items + list(islice(older, most - len(items)))
