"""Kinesis consumer (contact-events stream): agent events -> agent activity spans in history, which
occupancy, utilization and cost per contact are computed from.

Each agent event closes the agent's open span and opens the next, conditioned on the agent's version, so
redelivered and repeated events change nothing; other events, and a journey test agent's (`test_agent`),
are skipped. The batch is applied at once (ccaas.usecases.history.record_agent_activities: the agents' open
spans read in one call, the spans closed written together after the open items). The two writes of an event
are not one transaction: an event that fails between them is completed by its redelivery, so once an agent's
record fails, that agent's later records in the batch fail too, unapplied (Kinesis redelivers from the first
failure anyway; applied, they would overtake it). Spans that cannot be written fail the whole invocation: the
batch comes again and each event whose span is missing writes it.
With the analytics lake (`-c lake=true`), the spans the batch closed then go to the lake's agent_activity
stream (ccaas.usecases.lake; again on a redelivery, whose first export may be what failed). A record that is
not an event, an agent event from further ahead of now than a clock drifts, or one whose span the lake did not
accept, is a batch item failure (retried, bisected, then dead-lettered): never silently skipped. Powertools'
BatchProcessor reports each record's outcome (all failed: the invocation fails, as before).
"""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.domain.events import Event
from ccaas.usecases.history import record_agent_activities
from ccaas.logs import handler_logger
from ccaas.stream import process_and_report
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
outcomes: dict[str, bool | Exception] = {}  # this invocation's outcome per record sequence number


def _parsed(record: KinesisStreamRecord) -> Event | Exception:
    try:
        return Event.model_validate_json(record.kinesis.data_as_bytes())
    except Exception as error:  # noqa: BLE001 - not an event: this record's failure
        return error


def record_handler(record: KinesisStreamRecord) -> None:
    """The outcome the batch's use-case call decided for this record: an exception is its batch item failure."""
    outcome = outcomes[record.kinesis.sequence_number]
    if isinstance(outcome, Exception):
        raise outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcomes.clear()
    parsed = {r.kinesis.sequence_number: _parsed(r) for r in map(KinesisStreamRecord, event.get("Records", []))}
    events = {sequence: e for sequence, e in parsed.items() if isinstance(e, Event)}
    # Raises when the spans cannot be written: the whole batch is redelivered (see the module docstring).
    applied = record_agent_activities(dependencies(), list(events.values()))
    outcomes.update((sequence, e) for sequence, e in parsed.items() if isinstance(e, Exception))
    outcomes.update(zip(events, applied, strict=True))
    return process_and_report(event, record_handler, processor, context, lambda: _report(event))


def _report(event: dict) -> None:
    # DEBUG: a routine line a batch (a failed record is a batch item failure, retried and alarmed on its own)
    logger.debug("agent activity applied", extra={"spans": sum(o is True for o in outcomes.values()),
                                                  "records": len(event.get("Records", []))})
