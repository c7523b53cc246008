"""The only place adapters are built: once per cold start, from the function's settings."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the dataclass never evaluates them
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from ccaas.ports import (
        AlertPublisher,
        AlertStore,
        Clock,
        ConfigStore,
        ConnectionStore,
        CustomerStore,
        EventDeduplicator,
        EventPublisher,
        HistoryStore,
        IdGenerator,
        LiveMetricsStore,
        PushChannel,
        SentimentEngines,
        StateStore,
        TranscriptStore,
        Workflow,
    )
    from ccaas.ports_journeys import JourneyAlarms, JourneyResultStore
    from ccaas.ports_outbound import DialerFactory, OutboundStore
    from ccaas.settings import Settings


@dataclass
class Dependencies:
    store: StateStore
    config: ConfigStore
    events: EventPublisher
    workflow: Workflow
    live: LiveMetricsStore
    dedup: EventDeduplicator
    clock: Clock
    ids: IdGenerator
    alerts: AlertStore
    alert_events: AlertPublisher
    history: HistoryStore
    transcripts: TranscriptStore
    customers: CustomerStore
    # Powertools idempotency records of the API's Idempotency-Key (ccaas.api.idempotency configures it on
    # first use: one idempotent operation per persistence layer, as Powertools freezes its configuration).
    idempotency: BasePersistenceLayer
    # Push over WebSocket (ccaas.usecases.push): the connections table and PostToConnection.
    connections: ConnectionStore
    push: PushChannel
    # Outbound campaigns (ccaas.usecases.outbound): the Outbound table and the dialer a tenant's settings name.
    outbound: OutboundStore
    dialers: DialerFactory
    # The sentiment engine a tenant's analytics setting names (the lexicon, or Amazon Comprehend).
    sentiment: SentimentEngines
    # Journey tests (ccaas.usecases.journeys): the last runs per journey, and a CloudWatch alarm per journey.
    journey_results: JourneyResultStore
    journey_alarms: JourneyAlarms


class _AwsDependencies:
    """Adapters built on first use, so a function pays only for the clients it touches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _session(self) -> Any:
        import boto3

        return boto3.session.Session()

    @property
    def session(self) -> Any:
        """The function's one boto3 session. Adapters built outside this wiring (the lake's, which a function
        finds in its environment) make their clients on it: another session costs a cold start ~75 ms and
        ~7.5 MB more (its own loader, endpoints and models), measured beside a first DynamoDB client."""
        return self._session

    def _client(self, service: str) -> Any:
        return self._session.client(service)

    @cached_property
    def _dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def store(self) -> StateStore:
        from ccaas.adapters.aws.dynamodb import DynamoStateStore
        from ccaas.adapters.prefetched_contact import PrefetchedContactStore

        s = self.settings
        # A function granted only one of the two tables gets a store that fails on the other, loudly. The
        # roster routing asks about is kept as long as the configuration (None: that age, looked up on first use).
        # An agent's request serves the use-case the contact its access check just read (ccaas.api.app), once:
        # a GetItem fewer per agent action (4.7 per completed contact on the busy day).
        return PrefetchedContactStore(DynamoStateStore(self._dynamodb, s.contacts_table, s.agents_table,
                                                       roster_max_age_s=None))

    @cached_property
    def config(self) -> ConfigStore:
        from ccaas.adapters.aws.dynamodb import DynamoConfigStore
        from ccaas.adapters.cached_config import CachedConfigStore

        # Queues and the routing policy are read by every decision: served from memory for a few seconds.
        return CachedConfigStore(DynamoConfigStore(self._dynamodb, self.settings.require("config_table")))

    @cached_property
    def events(self) -> EventPublisher:
        from ccaas.adapters.aws.services import KinesisEventPublisher

        return KinesisEventPublisher(self._client("kinesis"), self.settings.require("events_stream_name"))

    @cached_property
    def workflow(self) -> Workflow:
        from ccaas.adapters.aws.services import StepFunctionsWorkflow

        return StepFunctionsWorkflow(self._client("stepfunctions"), self.settings.contact_lifecycle_state_machine_arn,
                                     self.settings.post_contact_state_machine_arn)

    @cached_property
    def live(self) -> LiveMetricsStore:
        from ccaas.adapters.aws.dynamodb import DynamoLiveMetricsStore

        return DynamoLiveMetricsStore(self._dynamodb, self.settings.require("metrics_table"))

    @cached_property
    def dedup(self) -> EventDeduplicator:
        from ccaas.adapters.aws.services import DynamoDeduplicator

        # The function's one DynamoDB client: a session and client of its own cost consume_contact_events'
        # cold start ~90 ms and ~10 MB (wiring and first use, measured in a fresh process).
        ttl = {"expires_after_seconds": int(self.settings.event_dedup_ttl_s)} if self.settings.event_dedup_ttl_s else {}
        return DynamoDeduplicator(self.settings.require("idempotency_table"), client=self._dynamodb, **ttl)

    @cached_property
    def clock(self) -> Clock:
        from ccaas.adapters.aws.services import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from ccaas.adapters.aws.services import UuidIds

        return UuidIds()

    @cached_property
    def alerts(self) -> AlertStore:
        from ccaas.adapters.aws.alerts import DynamoAlertStore

        return DynamoAlertStore(self._dynamodb, self.settings.require("alerts_table"))

    @cached_property
    def alert_events(self) -> AlertPublisher:
        from ccaas.adapters.aws.alerts import EventBridgeAlertPublisher

        bus = EventBridgeAlertPublisher(self._client("events"), self.settings.require("alerts_bus_name"))
        if not (self.settings.connections_table and self.settings.websocket_endpoint):
            return bus
        from ccaas.usecases.alerts import PushingAlertPublisher

        # A function that may push (spec push_to_sockets) also tells the watching supervisors.
        return PushingAlertPublisher(bus, self.connections, self.push, self.clock)

    @cached_property
    def history(self) -> HistoryStore:
        from ccaas.adapters.aws.history import DynamoHistoryStore

        return DynamoHistoryStore(self._dynamodb, self.settings.require("history_table"))

    @cached_property
    def transcripts(self) -> TranscriptStore:
        from ccaas.adapters.aws.history import DynamoTranscriptStore

        return DynamoTranscriptStore(self._dynamodb, self.settings.require("history_table"))

    @cached_property
    def customers(self) -> CustomerStore:
        from ccaas.adapters.aws.customers import DynamoCustomerStore

        return DynamoCustomerStore(self._dynamodb, self.settings.require("customers_table"))

    @cached_property
    def idempotency(self) -> BasePersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        # Powertools' default schema, which the Idempotency table has: key "id", TTL "expiration".
        return DynamoDBPersistenceLayer(table_name=self.settings.require("idempotency_table"), boto3_client=self._dynamodb)

    @cached_property
    def connections(self) -> ConnectionStore:
        from ccaas.adapters.aws.push import DynamoConnectionStore

        return DynamoConnectionStore(self._dynamodb, self.settings.require("connections_table"))

    @cached_property
    def push(self) -> PushChannel:
        from ccaas.adapters.aws.push import ApiGatewayPushChannel

        # The WebSocket API's stage endpoint. boto3's own AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI wins
        # when set (the local runtime points it at its emulation of the management API).
        endpoint = None if os.environ.get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI") else self.settings.require("websocket_endpoint")
        return ApiGatewayPushChannel(self._session.client("apigatewaymanagementapi", endpoint_url=endpoint))

    @cached_property
    def outbound(self) -> OutboundStore:
        from ccaas.adapters.aws.outbound import OUTBOUND_TABLE_ENV, DynamoOutboundStore

        # Read here rather than through Settings (one table, one name for every function granted it).
        table = os.environ.get(OUTBOUND_TABLE_ENV)
        if not table:
            raise RuntimeError(f"setting {OUTBOUND_TABLE_ENV} is not configured for this function")
        return DynamoOutboundStore(self._dynamodb, table)

    @cached_property
    def sentiment(self) -> SentimentEngines:
        from ccaas.adapters.aws.comprehend import ComprehendEngines

        return ComprehendEngines(lambda: self._client("comprehend"))

    @cached_property
    def dialers(self) -> DialerFactory:
        from ccaas.adapters.aws.outbound import AwsDialers

        return AwsDialers(lambda: self._client("connect"), lambda: self._client("pinpoint-sms-voice-v2"))

    @cached_property
    def journey_results(self) -> JourneyResultStore:
        from ccaas.adapters.aws.journeys import DynamoJourneyResults

        return DynamoJourneyResults(self._dynamodb, self.settings.require("metrics_table"))

    @cached_property
    def journey_alarms(self) -> JourneyAlarms:
        from ccaas.adapters.aws.journeys import CloudWatchJourneyAlarms

        return CloudWatchJourneyAlarms.from_environment(lambda: self._client("cloudwatch"))


@cache
def _aws_for(settings: Settings, endpoint_url: str | None, push_endpoint_url: str | None) -> Any:
    return _AwsDependencies(settings)


def dependencies() -> Dependencies:
    """AWS-backed dependencies for this function's environment (cached per distinct settings, so
    functions sharing one interpreter locally each get their own). The endpoint is part of the key:
    clients made for one AWS endpoint (or emulation) are never reused for another, nor for another
    emulation of the WebSocket management API (two local runtimes in one process)."""
    # Imported on first use, with the settings: pydantic is not loaded by `import ccaas.bootstrap`, so a
    # handler that imports Powertools' batch utility before its models keeps it from loading Powertools'
    # parser models (aws_lambda_powertools.utilities.batch.types imports them when pydantic is loaded).
    from ccaas.settings import Settings

    return _aws_for(  # type: ignore[return-value]
        Settings.from_env(os.environ), os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"),
    )


def memory_dependencies(**overrides: Any) -> Dependencies:
    from ccaas.adapters import memory

    parts: dict[str, Any] = {
        "store": memory.MemoryStateStore(),
        "config": memory.MemoryConfigStore(),
        "events": memory.MemoryEventPublisher(),
        "workflow": memory.MemoryWorkflow(),
        "live": memory.MemoryLiveMetricsStore(),
        "dedup": memory.MemoryDeduplicator(),
        "clock": memory.FixedClock(),
        "ids": memory.SequentialIds(),
        "alerts": memory.MemoryAlertStore(),
        "alert_events": memory.MemoryAlertPublisher(),
    }
    from ccaas.adapters.memory.history import MemoryHistoryTable

    history = MemoryHistoryTable()
    parts["history"], parts["transcripts"] = history.history, history.transcripts
    from ccaas.adapters.memory.customers import MemoryCustomerStore

    parts["customers"] = MemoryCustomerStore()
    from ccaas.adapters.memory.idempotency import MemoryIdempotencyStore

    parts["idempotency"] = MemoryIdempotencyStore()
    from ccaas.adapters.memory.push import MemoryConnectionStore, MemoryPushChannel

    parts["connections"], parts["push"] = MemoryConnectionStore(), MemoryPushChannel()
    from ccaas.adapters.memory.outbound import MemoryDialers, MemoryOutboundStore

    parts["outbound"], parts["dialers"] = MemoryOutboundStore(), MemoryDialers()
    parts["sentiment"] = memory.LocalSentimentEngines()
    from ccaas.adapters.memory.journeys import MemoryJourneyAlarms, MemoryJourneyResults

    parts["journey_results"], parts["journey_alarms"] = MemoryJourneyResults(), MemoryJourneyAlarms()
    parts.update(overrides)
    return Dependencies(**parts)
