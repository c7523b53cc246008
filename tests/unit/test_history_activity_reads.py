"""Reading agent activity spans is bounded: the DynamoDB store queries one UTC day partition at a time,
so a range is capped (a read from epoch 0 was ~20,000 queries, 131 s on moto) and refused beyond the cap
with a DomainError naming the field, in both stores, before any query."""
from __future__ import annotations

from datetime import datetime

import pytest

from ccaas.adapters.aws.history import DynamoHistoryStore
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.history import DAY_MS, MAX_ACTIVITY_READ_DAYS
from ccaas.domain.models import DomainError
from ccaas.domain.tenants import Tenant
from ccaas.usecases import history

T0 = 1_795_737_000_000  # 2026-11-26 23:50 UTC


class CountingClient:
    """Just enough of a DynamoDB client: counts the Query calls and their partitions, returns no items."""

    def __init__(self) -> None:
        self.partitions: list[str] = []

    def query(self, **kwargs):
        self.partitions.append(kwargs["ExpressionAttributeValues"][":p"]["S"])
        return {"Items": []}


def test_a_read_queries_one_partition_per_utc_day_of_its_range():
    client = CountingClient()
    store = DynamoHistoryStore(client, "History")
    assert store.agent_activities("t1", T0 - DAY_MS, T0 + DAY_MS) == []
    assert client.partitions == ["t1#ACTIVITY#2026-11-25", "t1#ACTIVITY#2026-11-26", "t1#ACTIVITY#2026-11-27"]
    client.partitions.clear()
    longest = MAX_ACTIVITY_READ_DAYS * DAY_MS
    store.agent_activities("t1", T0 - longest, T0)
    assert len(client.partitions) == MAX_ACTIVITY_READ_DAYS + 1 == len(set(client.partitions))


@pytest.mark.parametrize("from_ms", [0, T0 - MAX_ACTIVITY_READ_DAYS * DAY_MS - 1])
def test_a_longer_range_is_refused_before_any_query(from_ms):
    client = CountingClient()
    with pytest.raises(DomainError) as refused:
        DynamoHistoryStore(client, "History").agent_activities("t1", from_ms, T0)
    assert refused.value.field == "from" and client.partitions == []
    with pytest.raises(DomainError) as twin:  # the in-memory twin keeps the same contract
        memory_dependencies().history.agent_activities("t1", from_ms, T0)
    assert twin.value.field == "from"


def test_the_kpi_reads_longest_range_fits_one_activity_read():
    deps = memory_dependencies()
    deps.clock.now = T0
    deps.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="UTC"))
    report = history.historical_metrics(deps, "acme", start=datetime(2026, 8, 25), end=datetime(2026, 11, 26),
                                        interval="day")  # 93 days, and the day of look-back before them
    assert report.rows == [] or all(r.staffed_ms == 0 for r in report.rows)
    with pytest.raises(DomainError) as too_long:
        history.historical_metrics(deps, "acme", start=datetime(1970, 1, 1), end=datetime(2026, 11, 26), interval="day")
    assert too_long.value.field == "to"  # the API range check answers first, as before


def test_an_overlap_read_queries_its_days_the_day_before_and_the_first_day_s_crossing_spans():
    """However long ago a span began: the read is one Query per UTC day of the range, one for the day before
    it (spans stored before crossing copies existed) and one for the copies filed in the range's first day."""
    client = CountingClient()
    store = DynamoHistoryStore(client, "History")
    day = T0 + 10 * 60_000  # 2026-11-27 00:00 UTC
    assert store.agent_activities_overlapping("t1", day, day + DAY_MS) == []
    assert client.partitions == ["t1#ACTIVITY#2026-11-26", "t1#ACTIVITY#2026-11-27", "t1#ACTIVITY#2026-11-27"]
    with pytest.raises(DomainError) as refused:
        store.agent_activities_overlapping("t1", 0, T0)
    assert refused.value.field == "from" and len(client.partitions) == 3


def test_a_closed_span_is_filed_again_in_every_later_day_it_crosses_but_an_offline_one_is_not():
    from ccaas.adapters.history_days import MAX_CROSSED_DAYS, crossed_days
    from ccaas.domain.kpis import ActivityKind

    start = T0 - 60_000  # 2026-11-26 23:49 UTC
    assert crossed_days(start, start + 50 * 3_600_000, ActivityKind.AVAILABLE_IDLE) == ["2026-11-27", "2026-11-28", "2026-11-29"]
    assert crossed_days(start, T0 + 10 * 60_000, ActivityKind.ON_CONTACT) == []  # ends at midnight: nothing after it
    assert crossed_days(start, T0 + 10 * 60_000 + 1, ActivityKind.ON_CONTACT) == ["2026-11-27"]
    assert crossed_days(start, start + 14 * DAY_MS, ActivityKind.OFFLINE) == []  # in no KPI: no copies
    forgotten = crossed_days(start, start + 5 * 365 * DAY_MS, ActivityKind.AVAILABLE_IDLE)  # never logged out
    assert len(forgotten) == MAX_CROSSED_DAYS and forgotten[0] == "2026-11-27"  # its close is bounded writes
