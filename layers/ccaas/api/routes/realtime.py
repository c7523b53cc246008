from __future__ import annotations

from ccaas.api.access import READERS, Router
from ccaas.api.common import Id, deps, tenant
from ccaas.domain.live_metrics import RealtimeQueueMetrics
from ccaas.usecases import metrics

router = Router()


@router.get("/queues/<queue_id>/metrics/realtime", roles=READERS, tags=["metrics"])
def queue_realtime(queue_id: Id) -> RealtimeQueueMetrics:
    return metrics.realtime_queue_metrics(deps(), tenant(router), queue_id)


@router.get("/metrics/realtime", roles=READERS, tags=["metrics"], summary="Real-time metrics of every queue")
def realtime() -> list[RealtimeQueueMetrics]:
    return metrics.realtime_all_queues(deps(), tenant(router))
