"""Pages of a list answer that fit the API's response (pure).

Lambda answers API Gateway with at most 6 MB, the body escaped once more inside the proxy response: a list
answered whole (a long chat's messages, the agents of a large tenant at their largest profile) was a 502 on
every read. A page holds at most `limit` items and ~PAGE_BYTES as the proxy response carries them, and at
least one item (a single item is bounded by its own limits).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["PAGE_BYTES", "fitting_page"]

PAGE_BYTES = 4 * 1024 * 1024  # well under Lambda's 6 MB response

T = TypeVar("T")


def fitting_page(items: Sequence[T], limit: int, document: Callable[[T], Any]) -> list[T]:
    """The first of `items` that fit a page; `document(item)` is the item's JSON-able form in the answer."""
    page: list[T] = []
    size = 0
    for item in items[:limit]:
        # as the proxy envelope carries it: the body's JSON (ASCII: an emoji is \ud83d\ude00), escaped once more
        size += len(json.dumps(json.dumps(document(item), default=str)))
        if page and size > PAGE_BYTES:
            break
        page.append(item)
    return page
