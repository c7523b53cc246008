"""Ports of journey tests (a module of its own: a function that runs no journey imports none of this).

- `JourneyResultStore`: each run of a tenant's journey (ccaas.domain.journeys.JourneyRun: per-step timings,
  the failed step and why), the last KEEP_RUNS per journey, and the latest run of every journey in one read.
  DynamoDB (ccaas.adapters.aws.journeys.DynamoJourneyResults: items in the Metrics table, TTL) and memory
  (ccaas.adapters.memory.journeys.MemoryJourneyResults); tests/contract/test_journey_ports.py runs both.
- `JourneyAlarms`: a CloudWatch alarm per journey on its JourneySuccess metric (dimensions tenant, journey),
  created and deleted when the tenant's suite changes (PUT /settings/journeys): journey names are tenant
  data, so the alarms cannot be declared in CDK. boto3 put_metric_alarm / delete_alarms
  (ccaas.adapters.aws.journeys.CloudWatchJourneyAlarms) and memory (MemoryJourneyAlarms).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ccaas.domain.journeys import JourneyRun

__all__ = ["JourneyAlarms", "JourneyResultStore"]


class JourneyResultStore(Protocol):
    def record(self, run: JourneyRun) -> None:
        """Keep `run` as its journey's latest, and among its last KEEP_RUNS (the oldest beyond them goes)."""
        ...

    def latest(self, tenant_id: str) -> list[JourneyRun]:
        """The latest run of each of the tenant's journeys that ran (any order)."""
        ...

    def recent(self, tenant_id: str, journey: str, limit: int = 20) -> list[JourneyRun]:
        """The journey's last runs, newest first (at most KEEP_RUNS)."""
        ...


class JourneyAlarms(Protocol):
    def put(self, tenant_id: str, journeys: Sequence[str]) -> list[str]:
        """Create (or update) the alarm of each journey; returns the alarm names."""
        ...

    def delete(self, tenant_id: str, journeys: Sequence[str]) -> list[str]:
        """Delete the alarm of each journey (one that does not exist is no error); returns the names."""
        ...

    def alarmed_journeys(self, tenant_id: str) -> list[str]:
        """The tenant's journeys that have an alarm now (those named `<prefix><tenant>/<journey>`), sorted: what a
        suite change reconciles against, so alarms a concurrent change left behind go too."""
        ...
