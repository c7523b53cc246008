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
            alarm_description=f"{folder}: stream consumer more than 60 s behind (live metrics are stale)",
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
