"""The store's item size limit, checked before any write by every adapter (AWS and in-memory alike).

DynamoDB refuses an item over 400 KB with a ValidationException, which would surface as a 500 after
part of a use-case had run. An item's JSON text (UTF-8) is never smaller than DynamoDB's own measure
(attribute names plus values; a number takes at most its digit count), so checking the JSON length
against the limit refuses everything DynamoDB would, before the call.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ccaas.domain.vocabulary import TooLarge  # not domain.models: the analysis step imports this module

MAX_ITEM_BYTES = 400_000  # DynamoDB: 400 KB (409,600 bytes) per item, names included


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))


def check_item_size(values: Mapping[str, Any], what: str = "item", *, size: int | None = None) -> None:
    """TooLarge (413) naming the largest attribute when `values` would not fit in one item."""
    total = json_size(values) if size is None else size
    if total <= MAX_ITEM_BYTES:
        return
    largest = max(values, key=lambda name: json_size(values[name]))
    raise TooLarge(f"the {what} would take {total} bytes; a stored item holds at most {MAX_ITEM_BYTES} "
                   f"(largest field: {largest})", field=largest)
