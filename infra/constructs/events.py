"""Kinesis streams with Lambda consumers: the stream, its consumers' event source mappings, and where
what they give up on is kept. `ConsumedStream` is the reusable construct; `Events` is the contact-events stream.

Consumers must be idempotent and report per-record failures; the mapping bisects failing batches,
retries a bounded number of times, drops nothing silently: records that run out of retries or age are
written to the stream's failure bucket, one S3 object per discarded batch holding the failure's metadata
*and the records themselves* (the mapping's S3 on-failure destination). An SQS destination receives the
metadata alone, a pointer at a shard/sequence range that the stream trims after its 24 h retention: a
poison record noticed on a Monday morning was gone. `python -m infra.admin redrive-stream-failures`
hands each kept batch back to the function that failed it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
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


@jsii.implements(lambda_.IEventSourceDlq)
class KeptFailures:
    """The mapping's S3 on-failure destination, with what writing there takes and no more: s3:PutObject on the
    bucket's objects and s3:ListBucket (Lambda's documented needs), in a policy of the consumer's own. CDK's
    S3OnFailureDestination grants the function read, write *and delete* of every object (grantReadWrite): a
    consumer could then read or erase what other consumers of the stream gave up on."""

    def __init__(self, bucket: s3.IBucket) -> None:
        self.bucket = bucket

    def bind(self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction) -> lambda_.DlqDestinationConfig:
        assert target_handler.role is not None
        policy = iam.Policy(
            target_handler, "KeepFailuresPolicy", roles=[target_handler.role],
            statements=[
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects("*")]),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]),
            ],
        )
        bucket_id = Stack.of(self.bucket).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(policy, "AwsSolutions-IAM5",
                    "The event source mapping names each discarded batch's object itself "
                    "(aws/lambda/<mapping>/<shard>/<date>/<time>-<uuid>): PutObject can only be granted on the "
                    "bucket's objects; no Get or Delete.",
                    findings=[f"Resource::<{bucket_id}.Arn>/*"])
        # Lambda checks the role can write to the destination when it creates the mapping: not before the grant.
        target.node.add_dependency(policy)
        return lambda_.DlqDestinationConfig(destination=self.bucket.bucket_arn)


# How long a discarded batch is kept for its redrive (and its notice on the DLQ).
FAILURE_RETENTION = Duration.days(14)


class ConsumedStream(Construct):
    """One on-demand, encrypted Kinesis stream `<stream_id>Stream`, its failure bucket `<stream_id>Failures`, and an
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
        self.stream_id = stream_id

        self.stream = kinesis.Stream(
            self,
            f"{stream_id}Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=retention,
            removal_policy=removal_policy,
        )

        # One object per discarded batch (metadata + the records): kept FAILURE_RETENTION, read and deleted by
        # the admin tool's redrive. S3-managed keys: what the mapping writes with its function's role.
        self.failures = s3.Bucket(
            self,
            f"{stream_id}Failures",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-kept-failures", expiration=FAILURE_RETENTION)],
            # Kept when the stack goes, even a dev stack: what the consumers gave up on outlives them (emptying
            # it on delete takes a custom-resource Lambda; an empty bucket left behind costs nothing).
            removal_policy=RemovalPolicy.RETAIN,
        )
        # EventBridge notifications set on the bucket itself (CloudFormation's own property: the L2's
        # event_bridge_enabled deploys a custom-resource Lambda to do the same).
        self.failures.node.default_child.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(  # type: ignore[union-attr]
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True))
        acknowledge(
            self.failures,
            "AwsSolutions-S1",
            "Written only by the stream's event source mappings (a discarded batch each) and read/deleted only by "
            "the admin tool's redrive; every object written is announced on the alarmed DLQ below.",
        )
        # The DLQ: one message (S3's "Object Created" event, naming the object) per kept batch, via EventBridge.
        # Its depth is alarmed and stays so until the redrive has handed the batch back and deleted both.
        self.dlq = sqs.Queue(
            self,
            f"{stream_id}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILURE_RETENTION,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue IS the dead-letter notice (one message per batch the consumers gave up on, the batch "
            "itself in the failure bucket); a DLQ of a DLQ would only move the problem. Its depth is alarmed.",
        )
        events.Rule(
            self,
            f"{stream_id}FailureKept",
            description=f"{stream_id}: a consumer discarded a batch (kept in the failure bucket)",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                # the mappings' objects only: the redrive's moves (handed-back/, discarded/) are no new failures
                detail={"bucket": {"name": [self.failures.bucket_name]}, "object": {"key": [{"prefix": "aws/lambda/"}]}},
            ),
            targets=[targets.SqsQueue(self.dlq)],
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
                on_failure=KeptFailures(self.failures),
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
