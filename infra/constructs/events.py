"""Kinesis streams with Lambda consumers: the stream, its consumers' event source mappings, and their
on-failure DLQ. `ConsumedStream` is the reusable construct; `Events` is the contact-events stream.

Consumers must be idempotent and report per-record failures; the mapping bisects failing batches,
retries a bounded number of times, drops nothing silently (records that run out of retries or age go
to the DLQ as failure metadata pointing at the shard/sequence range).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from infra.naming import EVENTS_STREAM_ID


@dataclass(frozen=True)
class Delivery:
    """How a stream's mappings deliver: the same for every consumer of one stream, but for the batching
    window of the consumers named in `consumer_windows` (folder -> window)."""

    batch_size: int = 100
    max_batching_window: Duration = Duration.seconds(0)
    consumer_windows: Mapping[str, Duration] = field(default_factory=dict)
    retry_attempts: int = 5  # bounded: a poison record cannot block its shard for long
    max_record_age: Duration = Duration.hours(1)
    parallelization_factor: int = 1


class ConsumedStream(Construct):
    """One on-demand, encrypted Kinesis stream `<stream_id>Stream`, its DLQ `<stream_id>Dlq`, and an
    event source mapping per consumer (bisect on error, bounded retries, max record age, partial
    batch responses, on-failure DLQ)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream_id: str,
        removal_policy: RemovalPolicy,
        retention: Duration = Duration.hours(24),
        delivery: Delivery = Delivery(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.delivery = delivery

        self.stream = kinesis.Stream(
            self,
            f"{stream_id}Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=retention,
            removal_policy=removal_policy,
        )

        self.dlq = sqs.Queue(
            self,
            f"{stream_id}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue IS the dead-letter destination (on-failure destination of the stream consumers' "
            "event source mappings); a DLQ of a DLQ would only move the problem. Its depth is alarmed.",
        )
        # consumer folder -> its function (the observability construct alarms on each)
        self.consumers: dict[str, lambda_.IFunction] = {}

    def add_consumer(self, folder: str, fn: lambda_.Function) -> None:
        """Kinesis -> Lambda mapping with this stream's delivery settings."""
        d = self.delivery
        fn.add_event_source(
            sources.KinesisEventSource(
                self.stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=d.batch_size,
                max_batching_window=d.consumer_windows.get(folder, d.max_batching_window),
                parallelization_factor=d.parallelization_factor,
                bisect_batch_on_error=True,
                retry_attempts=d.retry_attempts,
                max_record_age=d.max_record_age,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dlq),
            )
        )
        self.consumers[folder] = fn


# Consumers whose freshness is not the wallboard's 1 s (live metrics) nor an agent's offer frame (push):
# gathering their batches for a few seconds turns ~1.7 records an invocation into ~5.5 at 1 M contacts a
# month (bench cost), and what they pay per batch (the alert evaluator's reads of rules and open alerts,
# each invocation's log lines, invocations and traces) is paid ~3x less often. The cost: an alert is raised,
# and an agent activity span written, up to this much later.
SLOWER_CONSUMER_WINDOW = Duration.seconds(5)


class Events(ConsumedStream):
    """The contact-events stream: live metrics and agents' offer frames read it, so their batches are not
    held back; the alert evaluator and the agent activity recorder gather for SLOWER_CONSUMER_WINDOW."""

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(
            scope,
            construct_id,
            stream_id=EVENTS_STREAM_ID,
            removal_policy=removal_policy,
            delivery=Delivery(
                max_batching_window=Duration.seconds(0),  # freshness: live metrics, offer frames
                consumer_windows={"evaluate_alerts": SLOWER_CONSUMER_WINDOW, "record_agent_activity": SLOWER_CONSUMER_WINDOW},
            ),
        )
