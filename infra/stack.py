"""The Ccaas stack: composes the constructs and applies each function's spec (grants + settings).

Creation order avoids the one possible cycle: the ContactLifecycle ASL references the task functions
(route/track/abandon), and serve_api needs the state machine's ARN. So functions that start the
lifecycle are created after it, everything else before it; a task function that asked for the
state machine ARN would be a cycle and fails synth with a clear message. The lifecycle's terminal
states start the Express PostContact workflow, so PostContact (and its functions) come before it.
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.alerts import SCHEDULE_GROUP, Alerts
from infra.constructs.analytics import POST_CONTACT_TASKS, Analytics, allow_comprehend_sentiment
from infra.constructs.connect import allow_connect_invoke
from infra.constructs.api import STAGE_NAME, Api
from infra.constructs.data import Data
from infra.constructs.events import Events
from infra.constructs.function_factory import METRICS_NAMESPACE, FunctionFactory
from infra.constructs.identity import Identity
from infra.constructs.journeys import JOURNEY_ALARM_PREFIX_ENV, allow_journey_alarms, journey_alarm_prefix
from infra.constructs.lake import Lake, analyst_tenants

from infra.constructs.layer import Layers
from infra.constructs.notifications import AlarmNotifications
from infra.constructs.observability import Observability
from infra.constructs.outbound import InboundTexts, allow_outbound_dial, allow_outbound_sms
from infra.constructs.wallboard import Wallboard
from infra.constructs.websocket import WebSocket
from infra.constructs.workflows import AslStateMachine
from infra.function_specs import ALARM_TOPIC_ARN_ENV, LAKE_EXPORTS, SPECS, FunctionSpec, check_specs
from infra.naming import (
    ALERTS_BUS_ENV,
    CONTACT_LIFECYCLE,
    CONTACT_LIFECYCLE_ARN_ENV,
    EVENTS_STREAM_ENV,
    POST_CONTACT,
    POST_CONTACT_ARN_ENV,
    STACK_NAME,
    WEBSOCKET_ENDPOINT_ENV,
    function_folders,
    state_machine_arn_placeholder,
    table_env_var,
    table_name_placeholder,
)

# The functions ContactLifecycle's ASL invokes (its ${<Folder>FunctionArn} placeholders).
LIFECYCLE_TASKS = ("route_contact", "recheck_contact")
API_HANDLER = "serve_api"
API_AUTHORIZER = "authorize_request"


class CcaasStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = STACK_NAME,
        *,
        config: StageConfig,
        folders: Sequence[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"Serverless contact center backend ({config.stage})", **kwargs
        )
        self.config = config
        # Data (tables, stream, failure buckets, DLQ, logs) is kept in prod; code and wiring are not.
        removal = RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY
        retention = logs.RetentionDays.THREE_MONTHS if config.is_prod else logs.RetentionDays.ONE_WEEK

        folders = sorted(function_folders() if folders is None else folders)
        check_specs(folders)

        self.data = Data(self, "Data", removal_policy=removal)
        self.events = Events(self, "Events", removal_policy=removal)
        self.alerts = Alerts(self, "Alerts", stage=config.stage)
        self.analytics = Analytics(self, "Analytics", removal_policy=removal, log_retention=retention)
        self.lake: Lake | None = None
        if str(self.node.try_get_context("lake")).lower() in ("1", "true", "yes"):  # analytics lake (issue 19), -c lake=true
            self.lake = Lake(self, "Lake", events_stream=self.events.stream, removal_policy=removal,
                             analyst_tenants=analyst_tenants(self.node.try_get_context("lake_analyst_tenants")))
        layers = Layers(self, "Layers")
        self.factory = FunctionFactory(
            self, "Functions", layers=layers.all, log_retention=retention, removal_policy=removal
        )

        # ONE settings dict; each function gets only the names its spec derives.
        self.settings: dict[str, str] = {table_env_var(t): tbl.table_name for t, tbl in self.data.tables.items()}
        self.settings[EVENTS_STREAM_ENV] = self.events.stream.stream_name
        self.settings[ALERTS_BUS_ENV] = self.alerts.bus.event_bus_name
        self.websocket = WebSocket(self, "WebSocket", log_retention=retention, removal_policy=removal)
        self.settings[WEBSOCKET_ENDPOINT_ENV] = self.websocket.endpoint
        self.identity = Identity(self, "Identity", removal_policy=removal)
        self.settings.update(self.identity.settings)  # the authorizer verifies the user pool's tokens
        self.settings[JOURNEY_ALARM_PREFIX_ENV] = journey_alarm_prefix(config.stage)
        # Every alarm notifies one topic (template alarms by an Aspect, journey alarms by this setting).
        self.notifications = AlarmNotifications(self, "AlarmNotifications", emails=config.alarm_emails, removal_policy=removal)
        self.settings[ALARM_TOPIC_ARN_ENV] = self.notifications.topic_arn
        self.inbound_texts = InboundTexts(self, "InboundTexts", removal_policy=removal)

        for folder in folders:
            if not SPECS[folder].start_lifecycle:
                self._build(folder)

        cyclic = [f for f in LIFECYCLE_TASKS if SPECS[f].start_lifecycle]
        if cyclic:
            raise ValueError(
                f"{cyclic} are invoked by {CONTACT_LIFECYCLE} and also need its ARN: that is a circular "
                "dependency (state machine -> function -> state machine). Pass the ARN another way."
            )
        # Every terminal path of the lifecycle starts the post-contact workflow: build that one first.
        self.post_contact = self.analytics.add_post_contact_workflow(
            {f: self.factory.functions[f] for f in POST_CONTACT_TASKS}
        )
        self.lifecycle = AslStateMachine(
            self,
            CONTACT_LIFECYCLE,
            functions={f: self.factory.functions[f] for f in LIFECYCLE_TASKS},
            values={state_machine_arn_placeholder(POST_CONTACT): self.post_contact.arn},
            log_retention=retention,
            removal_policy=removal,
        )
        self.post_contact.state_machine.grant_start_execution(self.lifecycle.state_machine)
        self.settings[CONTACT_LIFECYCLE_ARN_ENV] = self.lifecycle.arn
        self.settings[POST_CONTACT_ARN_ENV] = self.post_contact.arn  # the functions that end answered contacts

        for folder in folders:
            if SPECS[folder].start_lifecycle:
                self._build(folder)

        fns = self.factory.functions
        if self.lake is not None:
            # Long ranges of GET /metrics/historical run on Athena (after writing the tenant's calendar and
            # settings: the reference tables the query joins); History writers export snapshots.
            self.lake.grant_query(fns["serve_api"])
            self.lake.grant_reference(fns["serve_api"])
            for writer, tables in LAKE_EXPORTS.items():
                if writer in fns:
                    self.lake.grant_export(fns[writer], tables)
        self.api = Api(
            self,
            "Api",
            handler=fns[API_HANDLER],
            authorizer_handler=fns[API_AUTHORIZER],
            log_retention=retention,
            removal_policy=removal,
            sampling_rule_name=f"ccaas-api-{config.stage}",  # unique in the account's region, at most 32 characters
        )
        self.websocket.add_routes(handler=fns["manage_connection"], authorizer_handler=fns[API_AUTHORIZER])
        self.wallboard = Wallboard(self, "Wallboard", rest_api=self.api.rest_api, stage_name=STAGE_NAME, removal_policy=removal)

        self.observability = Observability(self, "Observability", stage=config.stage)
        self.observability.add_dead_letter_queue("ContactEvents", self.events.dlq)
        self.observability.add_dead_letter_queue("ContactRecords", self.analytics.records.dlq)
        self.observability.add_dead_letter_queue("InboundTexts", self.inbound_texts.dlq)
        for folder, fn in {**self.events.consumers, **self.analytics.records.consumers}.items():
            self.observability.add_stream_consumer(folder, fn)
        self.observability.add_functions(fns)
        self.observability.add_state_machine(CONTACT_LIFECYCLE, self.lifecycle.state_machine)
        self.observability.add_state_machine(POST_CONTACT, self.post_contact.state_machine)
        self.observability.add_api_stage(self.api.rest_api.deployment_stage)
        if self.alerts.schedules:
            self.observability.add_schedules(SCHEDULE_GROUP)
        self.observability.add_queue_metrics(METRICS_NAMESPACE)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the v1 stage")
        CfnOutput(self, "WebSocketUrl", value=self.websocket.url, description="wss:// push endpoint (?token=<API key>)")
        CfnOutput(self, "WebSocketCallbackUrl", value=self.websocket.endpoint,
                  description="https:// @connections endpoint: the admin tool closes a revoked key's sockets there")
        CfnOutput(self, "StateMachineArn", value=self.lifecycle.arn, description="ContactLifecycle")
        for table_id, table in self.data.tables.items():
            CfnOutput(self, table_name_placeholder(table_id), value=table.table_name)
        CfnOutput(self, "EventsStreamName", value=self.events.stream.stream_name)
        CfnOutput(self, "ContactRecordsStreamName", value=self.analytics.records.stream.stream_name,
                  description="point the Amazon Connect instance's contact-record streaming here")
        for stream in (self.events, self.analytics.records):
            CfnOutput(self, f"{stream.stream_id}FailureBucket", value=stream.failures.bucket_name,
                      description="batches the stream's consumers gave up on (infra.admin redrive-stream-failures)")
            CfnOutput(self, f"{stream.stream_id}DeadLetterQueueUrl", value=stream.dlq.queue_url,
                      description="one notice per kept batch (alarmed); the redrive deletes those it handed back")
        CfnOutput(self, "PostContactStateMachineArn", value=self.post_contact.arn, description="PostContact (Express)")
        CfnOutput(self, "AlertsBusName", value=self.alerts.bus.event_bus_name)
        CfnOutput(self, "InboundTextsTopicArn", value=self.inbound_texts.topic.topic_arn,
                  description="the two-way SMS destination of the tenants' End User Messaging numbers (STOP replies)")
        CfnOutput(self, "AlarmTopicArn", value=self.notifications.topic_arn,
                  description="every alarm notifies it (ALARM and OK); -c alarmEmails=... subscribes e-mail addresses")
        CfnOutput(self, "ConnectFlowFunctionArn", value=fns["connect_flow"].function_arn,
                  description="add it to the Amazon Connect instance; flows call it with an `action` parameter")
        CfnOutput(self, "WallboardUrl", value=self.wallboard.url, description="the wallboard (and the API under /v1)")
        CfnOutput(self, "WallboardBucketName", value=self.wallboard.bucket.bucket_name)
        CfnOutput(self, "WallboardDistributionId", value=self.wallboard.distribution.distribution_id)

    def _build(self, folder: str) -> lambda_.Function:
        spec: FunctionSpec = SPECS[folder]
        fn = self.factory.create(folder, spec, self.settings,
                                 traced=not spec.stream_consumer or self.config.trace_stream_consumers)
        for table_id in spec.tables:
            self.data.grant(table_id, fn, write=table_id in spec.read_write)
        if spec.put_events:
            self.events.stream.grant_write(fn)
        if spec.start_lifecycle:
            self.lifecycle.state_machine.grant_start_execution(fn)
        if spec.start_post_contact:
            self.post_contact.state_machine.grant_start_execution(fn)
        if spec.answer_tasks:
            self.factory.allow_task_responses(folder)
        if spec.consumes_events:
            self.events.add_consumer(folder, fn)
        if spec.consumes_contact_records:
            self.analytics.records.add_consumer(folder, fn)
        if spec.publish_alerts:
            self.alerts.allow_publish(fn)
        if spec.schedule:
            self.alerts.add_schedule(folder, fn, spec.schedule)
        if spec.invoked_by_connect:
            allow_connect_invoke(fn, self.config.connect_instance_arns)
        if spec.push_to_sockets:
            self.websocket.allow_push(fn)
        if spec.dials_connect:
            allow_outbound_dial(fn, self.config.connect_instance_arns)
        if spec.sends_texts:
            allow_outbound_sms(fn)
        if spec.journey_alarms:
            allow_journey_alarms(fn, self.settings[JOURNEY_ALARM_PREFIX_ENV])
        if spec.receives_texts:
            self.inbound_texts.subscribe(fn)
        if spec.analyzes_transcripts and self.config.comprehend_sentiment:
            allow_comprehend_sentiment(fn)
        return fn
