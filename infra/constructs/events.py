"""The contact-events stream, its consumers' event source mappings, and their on-failure DLQ.

Consumers must be idempotent and report per-record failures; the mapping bisects failing batches,
retries a bounded number of times, drops nothing silently (records that run out of retries or age go
to the DLQ as failure metadata pointing at the shard/sequence range).
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from infra.naming import EVENTS_STREAM_ID


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)

        self.stream = kinesis.Stream(
            self,
            f"{EVENTS_STREAM_ID}Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=Duration.hours(24),
            removal_policy=removal_policy,
        )

        self.dlq = sqs.Queue(
            self,
            f"{EVENTS_STREAM_ID}Dlq",
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
        # consumer folder -> its mapping (the observability construct alarms on each)
        self.consumers: dict[str, lambda_.IFunction] = {}

    def add_consumer(self, folder: str, fn: lambda_.Function) -> None:
        """Kinesis -> Lambda mapping with the delivery settings every consumer uses."""
        fn.add_event_source(
            sources.KinesisEventSource(
                self.stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                max_batching_window=Duration.seconds(0),  # freshness: live metrics
                parallelization_factor=1,
                bisect_batch_on_error=True,
                retry_attempts=5,
                max_record_age=Duration.hours(1),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dlq),
            )
        )
        self.consumers[folder] = fn
