"""LakeReferenceData on S3: the lake's calendar and settings tables as JSON lines objects.

`lake_intervals` and `tenant_settings` are JSON tables in Glue (OpenX JSON SerDe, text input format; the
infra's Lake construct: JSON_TABLES), with the same partition projection as the Parquet tables. The Lambda
layer has no Parquet writer, and these tables are tiny (a day's calendar is 96 rows, ~40 KB), written once
per tenant and day, so JSON is the cheap way to write them from the API function:

- `lake_intervals/tenant_id=<t>/day=<d>/calendar.json`: the day's quarter-hours, one JSON object a line,
  deterministic (same rows, same keys, same order: a re-put by a racing request writes the same bytes).
  Which days are missing: ONE ListObjectsV2 over the tenant's prefix (paginated; 13 months ≈ 400 keys,
  one page), then a PutObject per missing day on a few threads.
- `tenant_settings/tenant_id=<t>/settings.json`: the tenant's one row, overwritten with the current settings.

Rows are written with exactly the Glue table's data columns (partition columns come from the key), each
value as its column's type: bigint columns as JSON integers, double columns as JSON floats, strings as
strings. Encryption: the bucket's default (SSE-KMS with the lake key, bucket key on); the request names
none, because naming `aws:kms` without a key id would pick the account's aws/s3 key instead.

The function's environment names the bucket (LAKE_BUCKET: the infra's Lake.grant_reference sets it).
"""
from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from ccaas.domain.lake import TABLES, Table

BUCKET_ENV = "LAKE_BUCKET"
CALENDAR_FILE = "calendar.json"
SETTINGS_FILE = "settings.json"
CONTENT_TYPE = "application/x-ndjson"
_DAY_KEY = re.compile(r"/day=(\d{4}-\d{2}-\d{2})/" + re.escape(CALENDAR_FILE) + r"$")
logger = logging.getLogger(__name__)


def _failure(error: BaseException) -> str:
    """The kind of an S3 failure, for a message an API answer may carry: S3's error code (AccessDenied,
    SlowDown, …) or the exception's name, never its text (a connection error's names the URL: bucket and key)."""
    code = ((getattr(error, "response", None) or {}).get("Error") or {}).get("Code")
    return str(code) if code else type(error).__name__


def calendar_prefix(tenant_id: str) -> str:
    return f"lake_intervals/tenant_id={tenant_id}/"


def calendar_key(tenant_id: str, day: str) -> str:
    return f"{calendar_prefix(tenant_id)}day={day}/{CALENDAR_FILE}"


def settings_key(tenant_id: str) -> str:
    return f"tenant_settings/tenant_id={tenant_id}/{SETTINGS_FILE}"


def _typed(value: Any, kind: str, column: str) -> Any:
    """A row value as its Glue column type reads it from JSON (None stays null)."""
    if value is None:
        return None
    if kind in ("bigint", "int"):
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"column {column} ({kind}): not an integer: {value!r}")
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"column {column} (boolean): {value!r}")
        return value
    if kind == "string":
        return str(value)
    return value


def json_lines(table: Table, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The rows as JSON lines with the table's data columns only, in declaration order, typed."""
    lines = []
    for row in rows:
        lines.append(json.dumps({c.name: _typed(row.get(c.name), c.type, c.name) for c in table.columns},
                                separators=(",", ":"), allow_nan=False))
    return ("\n".join(lines) + "\n").encode()


class S3LakeReferenceData:
    """LakeReferenceData on the lake bucket (see the module doc). S3 errors become LakeExportFailed."""

    def __init__(self, client: Any, bucket: str, *, workers: int = 8, page_size: int = 1000) -> None:
        self.client = client
        self.bucket = bucket
        self.workers = workers
        self.page_size = page_size  # keys per ListObjectsV2 page (S3's maximum: 1,000)

    def calendar_days(self, tenant_id: str) -> set[str]:
        """The days whose calendar object exists (one paginated ListObjectsV2 over the tenant's prefix)."""
        days: set[str] = set()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=calendar_prefix(tenant_id),
                                       PaginationConfig={"PageSize": self.page_size}):
            for item in page.get("Contents", ()):
                found = _DAY_KEY.search(item["Key"])
                if found:
                    days.add(found.group(1))
        return days

    def ensure_calendar(self, tenant_id: str, days: Sequence[str],
                        rows_for_day: Callable[[str], list[dict[str, Any]]]) -> int:
        from ccaas.ports_lake import LakeExportFailed

        try:
            held = self.calendar_days(tenant_id)
        except Exception as error:  # botocore's client and connection errors
            logger.warning("lake: listing the calendar of tenant %s failed: %s", tenant_id, error)
            raise LakeExportFailed(f"could not list the calendar of tenant {tenant_id} ({_failure(error)})") from error
        missing = [d for d in dict.fromkeys(days) if d not in held]
        if not missing:
            return 0
        table = TABLES["lake_intervals"]

        def put(day: str) -> None:
            self.client.put_object(Bucket=self.bucket, Key=calendar_key(tenant_id, day),
                                   Body=json_lines(table, rows_for_day(day)), ContentType=CONTENT_TYPE)

        failed: list[str] = []
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(missing)))) as pool:
            for day, future in [(d, pool.submit(put, d)) for d in missing]:
                error = future.exception()
                if error is not None:
                    logger.warning("lake: writing the calendar of tenant %s, %s failed: %s", tenant_id, day, error)
                    failed.append(f"{day}: {_failure(error)}")
        if failed:
            raise LakeExportFailed(f"{len(failed)} of {len(missing)} calendar day(s) of tenant {tenant_id} not "
                                   f"written: {failed[0]}")
        return len(missing)

    def put_settings(self, tenant_id: str, row: Mapping[str, Any]) -> None:
        from ccaas.ports_lake import LakeExportFailed

        try:
            self.client.put_object(Bucket=self.bucket, Key=settings_key(tenant_id),
                                   Body=json_lines(TABLES["tenant_settings"], [row]), ContentType=CONTENT_TYPE)
        except Exception as error:
            logger.warning("lake: writing the settings of tenant %s failed: %s", tenant_id, error)
            raise LakeExportFailed(f"could not write the settings of tenant {tenant_id} ({_failure(error)})") from error


@cache
def _from(bucket: str, endpoint: str | None, session: Any) -> S3LakeReferenceData:
    from ccaas.adapters.aws.lake import client_of

    return S3LakeReferenceData(client_of(session, "s3"), bucket)


def from_environment(env: Mapping[str, str] | None = None, session: Any = None) -> S3LakeReferenceData | None:
    """The S3 writer of the bucket the function's environment names (built once per cold start, on
    `session`), else None."""
    env = os.environ if env is None else env
    bucket = env.get(BUCKET_ENV)
    if not bucket:
        return None
    return _from(bucket, env.get("AWS_ENDPOINT_URL"), session)
