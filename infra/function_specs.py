"""What each Lambda needs: grants, and the settings (env vars) that follow from them.

Functions are DISCOVERED from functions/<folder>/handler.py (infra.naming.function_folders()); this
table says what each one may touch. Synth fails if a folder has no spec or a spec has no folder.
The environment is derived from the grants (a table you may touch -> its <ID>_TABLE variable), so a
function never gets a setting it has no permission to use, and never lacks one it has.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from infra.naming import (
    ALERTS_BUS_ENV,
    CONTACT_LIFECYCLE_ARN_ENV,
    EVENTS_STREAM_ENV,
    POST_CONTACT_ARN_ENV,
    TABLE_IDS,
    WEBSOCKET_ENDPOINT_ENV,
    table_env_var,
)

# The prefix of the journey alarms' names (infra/constructs/journeys.py; ccaas.adapters.aws.journeys reads it).
JOURNEY_ALARM_PREFIX_ENV = "JOURNEY_ALARM_PREFIX"
# The stack's alarm topic (infra/constructs/notifications.py): the journey alarms notify it too.
ALARM_TOPIC_ARN_ENV = "ALARM_TOPIC_ARN"

# The Cognito user pool people sign in with (infra/constructs/identity.py); functions/authorize_request
# reads the same two names.
USER_POOL_ISSUER_ENV = "USER_POOL_ISSUER"
USER_POOL_CLIENT_ID_ENV = "USER_POOL_CLIENT_ID"


@dataclass(frozen=True)
class FunctionSpec:
    description: str
    read: tuple[str, ...] = ()  # table ids, read-only
    read_write: tuple[str, ...] = ()  # table ids, read and write
    put_events: bool = False  # kinesis:PutRecord(s) on the contact-events stream
    start_lifecycle: bool = False  # states:StartExecution on ContactLifecycle (+ its ARN in env)
    answer_tasks: bool = False  # states:SendTaskSuccess / SendTaskFailure (task tokens)
    # states:StartExecution on PostContact (+ its ARN): ends answered contacts (the lifecycle ends at the answer).
    # Built after the workflows, like start_lifecycle functions, so it implies start_lifecycle.
    start_post_contact: bool = False
    consumes_events: bool = False  # event source mapping on the contact-events stream (+ DLQ)
    consumes_contact_records: bool = False  # event source mapping on the Amazon Connect CTR stream (+ its DLQ)
    publish_alerts: bool = False  # events:PutEvents on the alerts bus (+ its name in env)
    schedule: str | None = None  # an EventBridge Scheduler expression, e.g. "rate(1 minute)"
    invoked_by_connect: bool = False  # Amazon Connect flows may invoke it (the configured instances only)
    push_to_sockets: bool = False  # execute-api:ManageConnections POST and DELETE on the WebSocket stage (+ its endpoint)
    verify_user_tokens: bool = False  # the user pool's issuer and app client id (Cognito JWTs; no IAM needed)
    analyzes_transcripts: bool = False  # comprehend:BatchDetectSentiment when the stage allows Comprehend sentiment
    dials_connect: bool = False  # connect:StartOutboundVoiceContact on the configured Connect instances only
    sends_texts: bool = False  # sms-voice:SendTextMessage from this account's origination identities
    journey_alarms: bool = False  # cloudwatch:PutMetricAlarm/DeleteAlarms on the stage's journey alarms (+ their prefix, the alarm topic)
    receives_texts: bool = False  # subscribed to the inbound-texts topic End User Messaging SMS publishes replies to (+ its DLQ)
    memory_mb: int = 512
    timeout_s: int = 10

    def __post_init__(self) -> None:
        unknown = sorted((set(self.read) | set(self.read_write)) - set(TABLE_IDS))
        if unknown:
            raise ValueError(f"unknown table id(s) {unknown}; known: {TABLE_IDS}")
        if self.start_post_contact and not self.start_lifecycle:
            raise ValueError("start_post_contact needs start_lifecycle (such functions are built after the workflows)")
        both = sorted(set(self.read) & set(self.read_write))
        if both:
            raise ValueError(f"table(s) {both} listed as both read and read_write")

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(t for t in TABLE_IDS if t in self.read or t in self.read_write)

    @property
    def stream_consumer(self) -> bool:
        """Invoked by an event source mapping on a Kinesis stream: no upstream trace (X-Ray tracing only with
        StageConfig.trace_stream_consumers)."""
        return self.consumes_events or self.consumes_contact_records

    @property
    def env_names(self) -> tuple[str, ...]:
        names = [table_env_var(t) for t in self.tables]
        if self.put_events:
            names.append(EVENTS_STREAM_ENV)
        if self.start_lifecycle:
            names.append(CONTACT_LIFECYCLE_ARN_ENV)
        if self.start_post_contact:
            names.append(POST_CONTACT_ARN_ENV)
        if self.publish_alerts:
            names.append(ALERTS_BUS_ENV)
        if self.push_to_sockets:
            names.append(WEBSOCKET_ENDPOINT_ENV)
        if self.verify_user_tokens:
            names += [USER_POOL_ISSUER_ENV, USER_POOL_CLIENT_ID_ENV]
        if self.journey_alarms:
            names += [JOURNEY_ALARM_PREFIX_ENV, ALARM_TOPIC_ARN_ENV]
        return tuple(names)


# The lake tables each writer function exports after its DynamoDB writes (ccaas.usecases.lake's export_*):
# contact-record snapshots from history, CTRs, surveys and evaluations; activity spans; survey answers;
# transcript-analysis summaries. Each gets PutRecordBatch on those tables' streams only.
LAKE_EXPORTS: dict[str, tuple[str, ...]] = {
    "record_history": ("contact_records",),
    "consume_contact_records": ("contact_records",),
    "serve_api": ("contact_records", "surveys", "transcript_analyses"),
    "analyze_contact": ("contact_records", "transcript_analyses"),
    "record_agent_activity": ("agent_activity",),
}
LAKE_EXPORTERS = tuple(LAKE_EXPORTS)

SPECS: Mapping[str, FunctionSpec] = {
    "authorize_request": FunctionSpec(
        "API Gateway TOKEN/REQUEST authorizer: API key or Cognito user token -> tenant, role, agent",
        read=("Config",),
        verify_user_tokens=True,
    ),
    "serve_api": FunctionSpec(
        "REST API (Lambda proxy, Powertools APIGatewayRestResolver)",
        # Idempotency: the Idempotency-Key records of its POSTs (ccaas.api.idempotency); item reads/writes only
        # Connections: alert acknowledgements/resolutions pushed to the watching supervisors (gone ones deleted)
        # Outbound: campaigns, lists, suppressions, dispositions, the audit export (routes/outbound.py)
        read_write=("Contacts", "Agents", "Config", "Metrics", "Alerts", "History", "Customers", "Idempotency", "Connections",
                    "Outbound"),
        put_events=True,
        publish_alerts=True,
        push_to_sockets=True,
        start_lifecycle=True,
        start_post_contact=True,  # POST /agents/{id}/contacts/{cid}/end-acw ends the contact
        answer_tasks=True,
        analyzes_transcripts=True,  # POST /contacts/{id}/transcript analyses in the request
        dials_connect=True,  # POST /contacts/{id}/dial: the agent's preview call
        journey_alarms=True,  # PUT /settings/journeys creates/deletes the alarm per journey
        # API Gateway waits 29 s: a list upload at its caps (10,000 rows, 20,000 numbers) or a transcript of 1 MiB
        # takes seconds of CPU at 512 MB (a third of a vCPU), more than the 10 s the other functions get
        timeout_s=29,
    ),
    "route_contact": FunctionSpec(
        "ContactLifecycle.AwaitAgent (waitForTaskToken): queue the contact, try to reserve an agent",
        read=("Config",),
        read_write=("Contacts", "Agents"),
        put_events=True,
        answer_tasks=True,
    ),
    "recheck_contact": FunctionSpec(
        "ContactLifecycle.Recheck: a wait timed out; abandon on queue timeout, re-offer a missed offer, wait again",
        read=("Config",),
        read_write=("Contacts", "Agents"),
        put_events=True,
        answer_tasks=True,
    ),
    "consume_contact_events": FunctionSpec(
        "Kinesis consumer: live queue metrics (DynamoDB + EMF), idempotent, partial batch failures",
        read=("Config", "Contacts"),
        read_write=("Metrics", "Idempotency", "Connections"),  # the fresh views pushed to watching supervisors
        consumes_events=True,
        push_to_sockets=True,
        timeout_s=60,  # up to 100 records per batch; stays well under the 1 h max record age
    ),
    "evaluate_alerts": FunctionSpec(
        "Kinesis consumer: supervisor alerts for the queues/agents a batch touched, partial batch failures",
        read=("Contacts", "Agents", "Config", "Metrics"),
        read_write=("Alerts", "Connections"),  # alerts also pushed to the watching supervisors
        publish_alerts=True,
        push_to_sockets=True,
        consumes_events=True,
        timeout_s=60,
    ),
    "sweep_alerts": FunctionSpec(
        "Every minute: time-based supervisor alerts (long wait, not ready, SL window) for every tenant",
        read=("Contacts", "Agents", "Config", "Metrics"),
        read_write=("Alerts", "Connections"),  # alerts also pushed to the watching supervisors
        publish_alerts=True,
        put_events=True,  # agent.guidance_prompted: the silence prompt for dead air still going on
        push_to_sockets=True,
        schedule="rate(1 minute)",
        timeout_s=55,  # under the schedule's period: two sweeps never overlap for long
    ),
    "record_history": FunctionSpec(
        "PostContact.RecordHistory: the ended contact's record into history, repeat flags refreshed",
        read=("Contacts", "Config", "Customers"),  # the person's numbers and accounts (Reg F conversations)
        read_write=("History", "Outbound"),  # a conversation starts the 7-day Reg F quiet period
        timeout_s=30,
    ),
    "analyze_contact": FunctionSpec(
        "PostContact.AnalyzeTranscript: redact, analyse and store the contact's chat transcript",
        read=("Config", "Alerts"),  # the contact's live guidance prompts, counted in its analysis
        read_write=("History",),
        analyzes_transcripts=True,
        timeout_s=60,
    ),
    "record_agent_activity": FunctionSpec(
        "Kinesis consumer: agent events into activity spans (occupancy, utilization, cost per contact), partial batch failures",
        read_write=("History",),
        read=("Config",),  # the tenant's time zone: the day partition of a span exported to the lake
        consumes_events=True,
        timeout_s=60,
    ),
    "connect_flow": FunctionSpec(
        "Amazon Connect flows: identify, route, wait info, hours, staffing, callback, IVR milestones (flat string replies)",
        # Agents: scheduling a callback plans its routing and asks who could satisfy the step in force (routing
        # reach: the agents Query for a skill step, the last agent's item for a journey step)
        read=("Config", "Metrics", "Customers", "Agents"),
        read_write=("Contacts", "History"),  # callbacks are contacts of ours; milestones join the contact's history
        start_lifecycle=True,  # a callback starts its contact's lifecycle
        invoked_by_connect=True,
        memory_mb=1024,  # more CPU: a shorter cold start inside the flow's 8 s
        timeout_s=8,  # Amazon Connect waits at most 8 s; the handler answers before this
    ),
    "consume_contact_records": FunctionSpec(
        "Kinesis consumer: Amazon Connect CTRs into history (latest LastUpdateTimestamp wins), partial batch failures",
        read=("Config",),
        read_write=("History",),
        consumes_contact_records=True,
        timeout_s=120,  # up to 100 CTRs, each a conditional write and a repeat-flag refresh
    ),
    "manage_connection": FunctionSpec(
        "WebSocket $connect/$disconnect/$default: the connections table (tenant and role from the authorizer), ping and subscribe frames",
        read=("Config",),  # $connect reads the API key again once its connection is stored (a revoke meanwhile)
        read_write=("Connections",),
        # No push_to_sockets: it never posts. The WebSocket construct's add_routes grants its routes' function
        # DeleteConnection only (a $connect closes a key's sockets over its bound), on the endpoint of the event.
    ),
    "push_updates": FunctionSpec(
        "Kinesis consumer: offers, contact states (agents) and queue metrics (supervisors) -> PostToConnection, partial batch failures",
        read=("Contacts", "Config", "Metrics", "Customers", "History"),  # the Offer view (a transfer's earlier messages), the live queue view
        read_write=("Connections",),  # gone connections are deleted
        consumes_events=True,
        push_to_sockets=True,
        timeout_s=60,
    ),
    "dial_campaign": FunctionSpec(
        "Every minute (EventBridge Scheduler): pacing ticks of every running outbound campaign for ~50 s: "
        "checks, attempts stored with their checks, dials; answered calls become OUTBOUND contacts",
        # free agents of the campaign queue; an answered call's routing plan (segment, estimated wait)
        read=("Agents", "Config", "Metrics", "Customers"),
        read_write=("Outbound", "Contacts"),  # attempts and rows; the OUTBOUND contact of an answered call
        put_events=True,  # campaign.completed
        start_lifecycle=True,  # an answered call's contact runs the ordinary lifecycle (routing, reservation)
        dials_connect=True,
        sends_texts=True,  # text campaigns
        schedule="rate(1 minute)",
        timeout_s=58,  # the loop stops at ~50 s: two sweeps never overlap for long
    ),
    "record_dial_outcomes": FunctionSpec(
        "Kinesis consumer: Amazon Connect CTRs of campaign calls -> the attempt's disposition (AMD, agent, errors), partial batch failures",
        read=("Config",),  # the Connect instance -> tenant mapping
        read_write=("Outbound",),
        consumes_contact_records=True,
        timeout_s=60,
    ),
    "receive_texts": FunctionSpec(
        "SNS subscriber: texts customers send to the tenants' numbers (End User Messaging two-way SMS); an opt-out "
        "keyword suppresses the sender for every campaign, calls included",
        read=("Config",),  # the receiving number -> tenant (registered SMS senders)
        read_write=("Outbound",),  # the suppression
        receives_texts=True,
    ),
    "run_journeys": FunctionSpec(
        "Every 5 minutes: every tenant's journey tests through the API resolver and the flow use-case in-process; "
        "JourneySuccess/JourneyLatency EMF metrics, results kept (Metrics table), journey_failed alerts",
        # what its API calls and flow actions touch: serve_api's tables and rights (synthetic contacts' lifecycle)
        read_write=("Contacts", "Agents", "Config", "Metrics", "Alerts", "History", "Customers", "Idempotency", "Connections",
                    "Outbound"),
        put_events=True, start_lifecycle=True, answer_tasks=True,  # a journey's contacts run the ordinary lifecycle
        start_post_contact=True,
        publish_alerts=True,  # journey_failed alerts opened / resolved (ccaas.usecases.journeys.record_runs)
        schedule="rate(5 minutes)",
        timeout_s=300,
    ),
}


def check_specs(folders: Iterable[str], specs: Mapping[str, FunctionSpec] = SPECS) -> None:
    """Fail synth when the discovered folders and the spec table disagree, either way."""
    found, known = set(folders), set(specs)
    problems = []
    if found - known:
        problems.append(
            f"functions/ folder(s) without a spec in infra/function_specs.py: {sorted(found - known)}"
        )
    if known - found:
        problems.append(f"spec(s) without a functions/<folder>/handler.py: {sorted(known - found)}")
    if problems:
        raise ValueError("; ".join(problems))
