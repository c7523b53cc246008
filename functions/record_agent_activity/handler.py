"""Kinesis consumer (contact-events stream): agent events -> agent activity spans in history, which
occupancy, utilization and cost per contact are computed from.

Each agent event closes the agent's open span and opens the next, conditioned on the agent's version, so
redelivered and repeated events change nothing; other events, and a journey test agent's (`test_agent`),
are skipped. The two writes are not one transaction (HistoryStore.apply_agent_activity): a record that
fails between them is completed by its redelivery, so once an agent's record fails, that agent's later
records in the batch fail too, unapplied (Kinesis redelivers from the first failure anyway; applied, they would overtake it).
With the analytics lake (`-c lake=true`), the span an event closed then goes to the lake's
agent_activity stream (ccaas.usecases.lake.export_agent_activity; again on a redelivery, whose first
export may be what failed). A record that is not an event, an agent event from further ahead of now than a
clock drifts, or one whose span the lake did not accept, is a batch item failure (retried, bisected, then
dead-lettered): never silently skipped.
"""
from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.usecases.history import record_agent_activity
from ccaas.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
counts = {"spans": 0}
failed_agents: set[str] = set()  # partition keys (tenant#agent/<id>) of this invocation's failed records


class EarlierRecordFailed(Exception):
    """An earlier record of the same agent failed in this batch: this one waits for its redelivery."""


def record_handler(record: KinesisStreamRecord) -> None:
    event = Event.model_validate_json(record.kinesis.data_as_bytes())
    if event.partition_key in failed_agents:
        raise EarlierRecordFailed(f"an earlier record of {event.subject} failed in this batch")
    try:
        applied = record_agent_activity(dependencies(), event)
    except Exception:
        failed_agents.add(event.partition_key)
        raise
    if applied:
        counts["spans"] += 1


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    counts["spans"] = 0
    failed_agents.clear()
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    # DEBUG: a routine line a batch (a failed record is a batch item failure, retried and alarmed on its own)
    logger.debug("agent activity applied", extra={"spans": counts["spans"], "records": len(event.get("Records", []))})
    return response
