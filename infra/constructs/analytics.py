"""Post-contact analytics: the Amazon Connect CTR stream with its consumer(s), and the Express
post-contact workflow (statemachines/post_contact.asl.json). The History table is in `Data`, with
the other tables, so it gets the same settings and per-index grants.

The CTR stream reuses `ConsumedStream` with settings for history rather than live metrics: a 5 s
batching window (fewer, fuller invocations; nobody watches history by the second), a day of max
record age (CTRs arriving late after an outage are still history) and 7 days of retention (a
consumer bug can be fixed and the stream replayed within the week).
"""
from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.events import ConsumedStream, Delivery
from infra.constructs.workflows import AslStateMachine
from infra.nag import acknowledge
from infra.naming import CONTACT_RECORDS_STREAM_ID, POST_CONTACT

# The functions PostContact's ASL invokes (its ${<Folder>FunctionArn} placeholders).
POST_CONTACT_TASKS = ("record_history", "analyze_contact")
CTR_DELIVERY = Delivery(max_batching_window=Duration.seconds(5), max_record_age=Duration.days(1))


class Analytics(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self._removal_policy = removal_policy
        self._log_retention = log_retention
        self.records = ConsumedStream(
            self,
            CONTACT_RECORDS_STREAM_ID,
            stream_id=CONTACT_RECORDS_STREAM_ID,
            removal_policy=removal_policy,
            retention=Duration.days(7),
            delivery=CTR_DELIVERY,
        )
        self.post_contact: AslStateMachine | None = None

    def add_post_contact_workflow(self, functions: Mapping[str, lambda_.IFunction]) -> AslStateMachine:
        """The Express workflow; `functions` are POST_CONTACT_TASKS by folder (built by the stack)."""
        missing = [f for f in POST_CONTACT_TASKS if f not in functions]
        if missing:
            raise ValueError(f"{POST_CONTACT} needs the functions {missing}")
        self.post_contact = AslStateMachine(
            self,
            POST_CONTACT,
            functions={f: functions[f] for f in POST_CONTACT_TASKS},
            express=True,
            log_retention=self._log_retention,
            removal_policy=self._removal_policy,
        )
        return self.post_contact


def allow_comprehend_sentiment(fn: lambda_.Function) -> None:
    """Tenants whose analytics setting picks `sentiment.engine: comprehend` (the stage's context
    `comprehendSentiment: true`): BatchDetectSentiment only, the one call the adapter makes."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["comprehend:BatchDetectSentiment"], resources=["*"]))
    assert fn.role is not None
    acknowledge(
        fn.role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5",
        "Amazon Comprehend's real-time DetectSentiment/BatchDetectSentiment take no resource (service "
        "authorization reference: no resource types), so Resource must be '*'; the action is the only one granted.",
        findings=["Resource::*"],
    )
