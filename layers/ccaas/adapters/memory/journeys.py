"""In-memory twins of the journey ports (ccaas.ports_journeys)."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ccaas.adapters.item_size import check_item_size
from ccaas.domain.journeys import KEEP_RUNS, JourneyRun, alarm_name


class MemoryJourneyResults:
    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], list[JourneyRun]] = {}
        self._lock = threading.Lock()

    def record(self, run: JourneyRun) -> None:
        check_item_size(run.model_dump(mode="json"), "journey run")
        with self._lock:
            runs = self._runs.setdefault((run.tenant_id, run.journey), [])
            runs.append(run)
            del runs[:-KEEP_RUNS]

    def latest(self, tenant_id: str) -> list[JourneyRun]:
        with self._lock:
            return [runs[-1] for (t, _), runs in self._runs.items() if t == tenant_id and runs]

    def recent(self, tenant_id: str, journey: str, limit: int = KEEP_RUNS) -> list[JourneyRun]:
        with self._lock:
            runs = list(self._runs.get((tenant_id, journey), []))
        return sorted(runs, key=lambda r: r.at, reverse=True)[: max(0, min(limit, KEEP_RUNS))]


class MemoryJourneyAlarms:
    """`alarms`: name -> the put_metric_alarm parameters the AWS adapter would send."""

    def __init__(self, prefix: str = "ccaas-journey-", namespace: str = "Ccaas") -> None:
        self.prefix = prefix
        self.namespace = namespace
        self.alarms: dict[str, dict[str, Any]] = {}

    def put(self, tenant_id: str, journeys: Sequence[str]) -> list[str]:
        from ccaas.adapters.aws.journeys import alarm_parameters

        names = []
        for journey in journeys:
            params = alarm_parameters(self.prefix, self.namespace, tenant_id, journey)
            self.alarms[params["AlarmName"]] = params
            names.append(params["AlarmName"])
        return names

    def delete(self, tenant_id: str, journeys: Sequence[str]) -> list[str]:
        names = [alarm_name(self.prefix, tenant_id, j) for j in journeys]
        for name in names:
            self.alarms.pop(name, None)
        return names

    def alarmed_journeys(self, tenant_id: str) -> list[str]:
        mine = alarm_name(self.prefix, tenant_id, "")
        return sorted(name.removeprefix(mine) for name in self.alarms if name.startswith(mine))

