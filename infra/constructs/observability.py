"""A minimal dashboard and the alarms that say something failed: a DLQ with messages in it, a stream consumer
falling behind, a function's errors or throttles, a failed or timed-out workflow execution, the API's 5XX answers,
a schedule that could not invoke its function. Built to grow: `add_dead_letter_queue` / `add_stream_consumer` /
`add_functions` / `add_state_machine` / `add_api_stage` / `add_schedules` each add their widgets and alarms
(a fuller dashboard comes later). Every alarm notifies the alarm topic (infra.constructs.notifications)."""
from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.naming import STACK_NAME, construct_id

ITERATOR_AGE_ALARM_MS = 60_000  # Lambda's IteratorAge metric is in milliseconds
OLDEST_CONTACT_ALARM_S = 120
# Per-queue metrics carry the dimensions (service, tenant, queue) that Powertools EMF writes.
QUEUE_DIMENSIONS = "{%s,service,tenant,queue}"
PERIOD = Duration.minutes(1)
# Failures (a function error or throttle, a failed or timed-out execution, a 5XX answer, a schedule's target error):
# the first one in 5 minutes alarms. A healthy deployment has none, each is a contact step, a batch, a request or a
# tick that did not happen (an Express execution keeps no history: the alarm is all there is), and counts are
# too small for a rate to mean anything; 5 minutes keeps a burst to one notification.
FAILURE_PERIOD = Duration.minutes(5)
# Per-campaign counts (ccaas.usecases.outbound_metrics.emit_campaign_counts): service, tenant, campaign; blocks add rule.
CAMPAIGN_DIMENSIONS = "{%s,campaign,service,tenant}"
CAMPAIGN_RULE_DIMENSIONS = "{%s,campaign,rule,service,tenant}"
CAMPAIGN_PERIOD = Duration.minutes(5)
CAMPAIGN_ABANDON_ALARM_PCT = 3
CAMPAIGN_ALARM_MIN_ANSWERED = 20  # below this a day's rate is noise (1 drop of 10 is 10 %)
# The functions that record carrier outcomes and emit the dimensionless HumanAnswered / Abandoned roll-ups:
# Amazon Connect's contact records, and the dialing loop (the simulated carrier's outcomes).
CAMPAIGN_OUTCOME_SERVICES = ("record_dial_outcomes", "dial_campaign")


def campaign_abandonment_rate(namespace: str) -> cw.MathExpression:
    """100 × abandoned ÷ answered by a person over one day, summed over the outcome services; 0 below the
    minimum volume."""
    using: dict[str, cw.IMetric] = {}
    for i, service in enumerate(CAMPAIGN_OUTCOME_SERVICES):
        for key, name in (("a", "Abandoned"), ("h", "HumanAnswered")):
            using[f"{key}{i}"] = cw.Metric(namespace=namespace, metric_name=name, statistic="Sum",
                                           period=Duration.days(1), dimensions_map={"service": service})
    n = range(len(CAMPAIGN_OUTCOME_SERVICES))
    abandoned = " + ".join(f"FILL(a{i}, 0)" for i in n)
    answered = " + ".join(f"FILL(h{i}, 0)" for i in n)
    return cw.MathExpression(
        expression=f"IF(({answered}) >= {CAMPAIGN_ALARM_MIN_ANSWERED}, 100 * ({abandoned}) / ({answered}), 0)",
        using_metrics=using, label="Abandonment rate (%)", period=Duration.days(1),
    )


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

    def _failure_alarm(self, name: str, metric: cw.IMetric, description: str) -> cw.Alarm:
        """Alarms on the first failure in FAILURE_PERIOD (`metric` a Sum over that period)."""
        alarm = cw.Alarm(
            self,
            name,
            alarm_description=description,
            metric=metric,
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.alarms[name] = alarm
        return alarm

    def add_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """One widget (errors of every function) and two alarms per function: Errors (a step, a batch, a request
        or a scheduled tick failed) and Throttles (an invocation refused for concurrency)."""
        for folder, fn in sorted(functions.items()):
            name = construct_id(folder)
            self._failure_alarm(f"{name}Errors", fn.metric_errors(period=FAILURE_PERIOD, statistic="Sum"),
                                f"{folder}: the function failed (raised, timed out or ran out of memory)")
            self._failure_alarm(f"{name}Throttles", fn.metric_throttles(period=FAILURE_PERIOD, statistic="Sum"),
                                f"{folder}: invocations throttled (the account's or the function's concurrency)")
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

    def add_state_machine(self, name: str, machine: sfn.IStateMachine) -> None:
        """Alarms on failed and on timed-out executions: a step's error its retries did not cure (a contact left
        without its timer or its history record), or an Express execution stopped at its 5 minutes."""
        self._failure_alarm(f"{name}ExecutionsFailed", machine.metric_failed(period=FAILURE_PERIOD, statistic="Sum"),
                            f"{name}: executions failed (a step's error outlasted its retries)")
        self._failure_alarm(f"{name}ExecutionsTimedOut",
                            machine.metric_timed_out(period=FAILURE_PERIOD, statistic="Sum"),
                            f"{name}: executions timed out (stopped mid-step)")

    def add_api_stage(self, stage: apigw.Stage) -> None:
        """Alarms on 5XX answers of the REST API's stage (a handler's or the integration's failure; 4XX are the
        callers' own)."""
        self._failure_alarm("Api5XXError", stage.metric_server_error(period=FAILURE_PERIOD, statistic="Sum"),
                            f"API stage {stage.stage_name}: 5XX answers")

    def add_schedules(self, group: str) -> None:
        """Alarms when EventBridge Scheduler could not invoke a target of the schedule group (throttled, the
        function or its permission gone): the tick is lost, the function never ran, so its Errors say nothing."""
        metric = cw.Metric(namespace="AWS/Scheduler", metric_name="TargetErrorCount", statistic="Sum",
                           period=FAILURE_PERIOD, dimensions_map={"ScheduleGroup": group})
        self._failure_alarm("ScheduleTargetErrors", metric, f"schedule group {group}: a scheduled invocation failed")

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
        self.add_campaign_metrics(namespace)

    def add_campaign_metrics(self, namespace: str) -> None:
        """The outbound campaigns' row: attempts, connects, right-party contacts, abandoned vs answered by a
        person, blocks by rule — per (tenant, campaign) whatever campaigns exist at run time (SEARCH) — and
        an alarm on the abandonment rate above 3 % (metric math over the dimensionless roll-ups the outcome
        handlers emit). The alarm is a day's early warning: the cap itself is per campaign over 30 days
        (47 CFR 64.1200(a)(7)), which the pacer enforces and GET /campaigns/{id}/metrics reports."""
        dims = CAMPAIGN_DIMENSIONS % namespace
        rule_dims = CAMPAIGN_RULE_DIMENSIONS % namespace

        def per_campaign(metric: str, label: str, schema: str = dims) -> cw.MathExpression:
            return cw.MathExpression(
                expression=f"SEARCH('{schema} MetricName=\"{metric}\"', 'Sum', 300)",
                label=label, using_metrics={}, period=CAMPAIGN_PERIOD,
            )

        rate = campaign_abandonment_rate(namespace)
        alarm = cw.Alarm(
            self,
            "CampaignAbandonmentRate",
            alarm_description=(
                f"outbound: calls dropped above {CAMPAIGN_ABANDON_ALARM_PCT} % of calls answered by a person over the "
                f"last day (at least {CAMPAIGN_ALARM_MIN_ANSWERED} answered); the legal cap is 3 % per campaign over "
                "30 days: check GET /campaigns/{id}/metrics and the campaigns' pacing"),
            metric=rate,
            threshold=CAMPAIGN_ABANDON_ALARM_PCT,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.alarms["CampaignAbandonmentRate"] = alarm
        self.dashboard.add_widgets(
            cw.TextWidget(markdown="### Outbound campaigns (per tenant and campaign, 5-minute sums)", width=24, height=1),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Campaign attempts", left=[per_campaign("Attempts", "Attempts")], width=6),
            cw.GraphWidget(title="Campaign connects, right-party contacts and callbacks requested",
                           left=[per_campaign("Connects", "Connects"),
                                 per_campaign("RightPartyContacts", "RightPartyContacts"),
                                 # a part of RightPartyContacts: the promised calls the dialer owes
                                 per_campaign("CallbacksRequested", "CallbacksRequested")], width=6),
            cw.GraphWidget(title="Campaign calls answered by a person and abandoned",
                           left=[per_campaign("HumanAnswered", "HumanAnswered"), per_campaign("Abandoned", "Abandoned")],
                           width=6),
            cw.GraphWidget(title="Campaign rows blocked, by rule",
                           left=[per_campaign("Blocked", "Blocked", rule_dims)], stacked=True, width=6),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Outbound abandonment rate, last day (%)", left=[rate],
                           left_annotations=[alarm.to_annotation()], width=12),
        )
