"""bench_cost's lake counters: what the History writers deliver (rows, bytes as Firehose is sent them, the
5 KB billing steps, the contact segments) and what the Kinesis-sourced delivery stream reads (only the
contact-events stream's records); and the stated Athena load."""
from __future__ import annotations

import base64
import json

import pytest

from bench import bench_cost, cost_model


class Inner:
    def __init__(self) -> None:
        self.got: list[tuple[str, list]] = []

    def put_rows(self, table, rows):  # noqa: ANN001, ANN201
        self.got.append((table, list(rows)))


def test_lake_rows_are_counted_as_firehose_is_sent_them_and_forwarded():
    inner = Inner()
    counter = bench_cost._LakeRows(inner)
    rows = [{"tenant_id": "t", "day": "2026-12-02", "contact_id": "c1", "note": "x" * 6000},
            {"tenant_id": "t", "day": "2026-12-02", "contact_id": "c2"}]
    counter.put_rows("contact_records", rows)  # not counting yet (before the run's window)
    assert counter.rows == {} and len(inner.got) == 1
    counter.on = True
    counter.put_rows("contact_records", rows)
    counter.put_rows("contact_records", rows[:1])  # a later snapshot of c1
    counter.put_rows("agent_activity", [{"tenant_id": "t", "day": "2026-12-02", "agent_id": "a"}])
    sizes = [len((json.dumps(r, separators=(",", ":")) + "\n").encode()) for r in rows]
    assert counter.rows == {"contact_records": 3, "agent_activity": 1}
    assert counter.bytes["contact_records"] == 2 * sizes[0] + sizes[1]
    assert counter.billed["contact_records"] == 2 * 10 * 1024 + 5 * 1024  # 6 KB rows bill 10 KB, small ones 5 KB
    assert counter.segments == {("t", "c1"), ("t", "c2")}
    assert len(inner.got) == 4  # every delivery still reaches the runtime's own lake


def test_only_the_contact_events_stream_feeds_the_lake():
    payloads = bench_cost._Payloads()
    data = base64.b64encode(b"e" * 1500).decode()
    put = {"StreamName": "Ccaas-EventsContactEventsStream7E49", "Records": [{"Data": data, "PartitionKey": "t#c"}] * 3}
    payloads._account("fn", "kinesis", "PutRecords", put, {})
    payloads._account("fn", "kinesis", "PutRecord", {"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/Ccaas-ContactRecordsStream",
                                                     "Data": data, "PartitionKey": "x"}, {})
    assert payloads.kinesis_records == 4
    assert payloads.lake_stream_records == 3 and payloads.lake_stream_bytes == 3 * 1500
    assert payloads.lake_stream_billed == 3 * 5 * 1024


def test_the_stated_athena_load():
    prices = cost_model.load_prices()
    a = bench_cost.athena_load(prices, tenant_contacts=1_000_000, queries_per_day=20, months=13)
    assert a["bytes_per_query"] == 13 * 1_000_000 * bench_cost.LAKE_PARQUET_B_PER_SEGMENT
    tb = prices["athena.tb_scanned"]["usd"]
    # 600 queries of ceil(741 MB / 1 MiB) = 707 MiB
    assert a["monthly"]["total_usd"] == pytest.approx(600 * 707 / 1024**2 * tb + 1200 * prices["glue.requests"]["usd"] / 1e6)
    assert a["usd_per_1000_contacts"] == pytest.approx(a["monthly"]["total_usd"] / 1000)
