"""A minimal dashboard and the two alarms that matter first: a DLQ with messages in it, and a stream
consumer falling behind. Built to grow: `add_dead_letter_queue` / `add_stream_consumer` /
`add_functions` each add their widgets and alarms (a fuller dashboard comes later)."""
from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.naming import STACK_NAME, construct_id

ITERATOR_AGE_ALARM_MS = 60_000  # Lambda's IteratorAge metric is in milliseconds
OLDEST_CONTACT_ALARM_S = 120
# Per-queue metrics carry the dimensions (service, tenant, queue) that Powertools EMF writes.
QUEUE_DIMENSIONS = "{%s,service,tenant,queue}"
PERIOD = Duration.minutes(1)


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, stage: str) -> None:
        super().__init__(scope, construct_id_)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{STACK_NAME}-{stage}",
            default_interval=Duration.hours(3),
        )
        self.alarms: dict[str, cw.Alarm] = {}

    def add_dead_letter_queue(self, name: str, queue: sqs.IQueue) -> cw.Alarm:
        """A widget and an alarm (> 0 visible messages) per DLQ: anything there is lost work."""
        visible = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
        alarm = cw.Alarm(
            self,
            f"{name}DlqNotEmpty",
            alarm_description=f"{name}: messages in the dead-letter queue (records a consumer gave up on)",
            metric=visible,
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title=f"{name} DLQ depth",
                left=[visible],
                left_annotations=[alarm.to_annotation()],
                width=8,
            )
        )
        self.alarms[f"{name}DlqNotEmpty"] = alarm
        return alarm

    def add_stream_consumer(self, folder: str, fn: lambda_.IFunction) -> cw.Alarm:
        """Iterator age (how far behind the stream head the consumer is), alarmed above 60 s."""
        name = construct_id(folder)
        age = fn.metric("IteratorAge", period=PERIOD, statistic="Maximum")
        alarm = cw.Alarm(
            self,
            f"{name}IteratorAge",
            alarm_description=f"{folder}: stream consumer more than 60 s behind (what it derives from the stream is stale)",
            metric=age,
            threshold=ITERATOR_AGE_ALARM_MS,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title=f"{folder} iterator age (ms)",
                left=[age],
                left_annotations=[alarm.to_annotation()],
                width=8,
            )
        )
        self.alarms[f"{name}IteratorAge"] = alarm
        return alarm

    def add_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """One widget: errors of every function (graph only; per-function alarms come later)."""
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Lambda errors",
                left=[
                    fn.metric_errors(period=PERIOD, statistic="Sum", label=folder)
                    for folder, fn in sorted(functions.items())
                ],
                width=8,
            )
        )

    def add_queue_metrics(self, namespace: str) -> None:
        """Live queue widgets for every (tenant, queue), whatever queues exist at run time (SEARCH),
        and the alarms on the dimensionless roll-ups the consumer emits."""
        dims = QUEUE_DIMENSIONS % namespace

        def per_queue(metric: str, statistic: str, label: str) -> cw.MathExpression:
            return cw.MathExpression(
                expression=f"SEARCH('{dims} MetricName=\"{metric}\"', '{statistic}', 60)",
                label=label,
                using_metrics={},
                period=PERIOD,
            )

        widgets = [
            ("Service level today (%) per queue", "ServiceLevel", "Minimum"),
            ("Contacts in queue per queue", "InQueue", "Maximum"),
            ("Oldest contact age (s) per queue", "OldestContactAge", "Maximum"),
            ("Abandonment rate today (%) per queue", "AbandonmentRate", "Maximum"),
            ("ASA today (s) per queue", "AverageSpeedOfAnswer", "Maximum"),
        ]
        self.dashboard.add_widgets(
            *(cw.GraphWidget(title=title, left=[per_queue(metric, stat, metric)], width=8) for title, metric, stat in widgets)
        )
        agent_states = ["AgentsAvailable", "AgentsReserved", "AgentsOnContact", "AgentsAfterContactWork", "AgentsNotReady"]
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Agents by state per queue",
                left=[per_queue(m, "Maximum", m) for m in agent_states],
                stacked=True,
                width=16,
            )
        )
        below = cw.Metric(namespace=namespace, metric_name="QueuesBelowServiceLevelTarget", statistic="Maximum",
                          period=PERIOD, dimensions_map={"service": "consume_contact_events"})
        self.alarms["ServiceLevelBelowTarget"] = cw.Alarm(
            self,
            "ServiceLevelBelowTarget",
            alarm_description="a queue's service level today is below its target for 5 minutes",
            metric=below,
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=5,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        oldest = cw.Metric(namespace=namespace, metric_name="OldestContactAgeMax", statistic="Maximum",
                           period=PERIOD, dimensions_map={"service": "consume_contact_events"})
        self.alarms["OldestContactTooOld"] = cw.Alarm(
            self,
            "OldestContactTooOld",
            alarm_description=f"a contact has waited more than {OLDEST_CONTACT_ALARM_S} s in some queue",
            metric=oldest,
            threshold=OLDEST_CONTACT_ALARM_S,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
