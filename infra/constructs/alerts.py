"""Supervisor alerts: the EventBridge bus alert changes are published on, and the schedules that run
the time-based rules.

The bus carries no rule of ours: alert consumers (paging, chat webhooks through API destinations, a
tenant's own account) attach their rules per environment, matching on `detail.tenant_id`,
`detail.rule`, `detail.severity`. (It also keeps the bus deployable on the local moto emulation,
whose PutEvents fails when a rule targets a Lambda function or a state machine.)

Schedules are EventBridge Scheduler schedules (the successor of scheduled rules: per-target retry
policy and event age, a role per target instead of a resource policy on the function).
"""
from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.naming import ALERTS_BUS_ID, construct_id

ALERTS_BUS_PREFIX = "ccaas-alerts"
SCHEDULE_INPUT_SOURCE = "ccaas.schedule"
SCHEDULE_GROUP = "default"  # the schedules' group (CfnSchedule without group_name): the Scheduler metrics' dimension
SCHEDULED_EVENT_MAX_AGE_S = 60  # the least either service takes; a tick older than this is the next tick's job


class Alerts(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, stage: str) -> None:
        super().__init__(scope, construct_id_)
        # Named per stage: two stages in one account/region must not share (or fight over) one bus.
        self.bus = events.EventBus(self, ALERTS_BUS_ID, event_bus_name=f"{ALERTS_BUS_PREFIX}-{stage}")
        self.schedules: dict[str, scheduler.CfnSchedule] = {}

    def allow_publish(self, grantee: iam.IGrantable) -> None:
        """events:PutEvents on this bus only."""
        self.bus.grant_put_events_to(grantee)

    def add_schedule(self, folder: str, fn: lambda_.IFunction, expression: str) -> scheduler.CfnSchedule:
        """Invoke `fn` on `expression` with {"source", "schedule", "scheduled_time"} as the event, once per tick.

        L1 on purpose: the L2 target grants invoke on `<function ARN>:*` (every version) through a
        stack-wide role; this role may invoke exactly this function's unqualified ARN."""
        # Scheduler invokes asynchronously, so Lambda's own retries (2, over up to 6 h) would come on top of the
        # schedule's none: a failing sweep ran three times a tick and old ticks piled up under throttling. A failed
        # tick is the function's Errors alarm (infra.constructs.observability), the next tick a period later.
        fn.configure_async_invoke(retry_attempts=0, max_event_age=Duration.seconds(SCHEDULED_EVENT_MAX_AGE_S))
        cid = construct_id(folder)
        role = iam.Role(
            self,
            f"{cid}ScheduleRole",
            description=f"EventBridge Scheduler: invoke {folder}",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
        )
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn]))
        payload = {"source": SCHEDULE_INPUT_SOURCE, "schedule": folder, "scheduled_time": "<aws.scheduler.scheduled-time>"}
        schedule = scheduler.CfnSchedule(
            self,
            f"{cid}Schedule",
            description=f"{folder}: {expression}",
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=fn.function_arn,
                role_arn=role.role_arn,
                input=json.dumps(payload),
                # A missed tick is not worth retrying: the next one comes a period later.
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=0, maximum_event_age_in_seconds=SCHEDULED_EVENT_MAX_AGE_S
                ),
            ),
        )
        self.schedules[folder] = schedule
        return schedule
