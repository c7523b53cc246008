"""The synthesized stack deployed into in-process moto: tables, stream and state machine exactly as the
template declares them (one source of truth), for the contract and handler tiers. A process deploys a template once;
its later modules get a copy of that deploy's moto state in their fresh mock (tests/moto_snapshot.py)."""
from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from ccaas.adapters.aws.alerts import DynamoAlertStore, EventBridgeAlertPublisher
from ccaas.adapters.aws.customers import DynamoCustomerStore
from ccaas.adapters.aws.dynamodb import DynamoConfigStore, DynamoLiveMetricsStore, DynamoStateStore
from ccaas.adapters.aws.history import DynamoHistoryStore, DynamoTranscriptStore
from ccaas.adapters.aws.services import KinesisEventPublisher, DynamoDeduplicator
from ccaas.bootstrap import Dependencies, memory_dependencies
from local import deployer as local_deployer, moto_patches, synth
from local.memory_release import collector_paused
from local.deployer import Deployer, Deployment
from tests import moto_snapshot


# The deployer's clients, kept from one deploy to the next: each module's mock_aws starts empty, and a client holds
# no AWS state. Making them again took ~0.1 s of CPU of each deploy (~290 -> ~210 ms a deploy; ~35 deploys a run).
_DEPLOY_CLIENTS: dict[str, Any] = {}


@contextmanager
def deployed_stack() -> Iterator[Deployment]:
    with ExitStack() as stack:
        with collector_paused():  # a deploy makes moto's long-lived models
            template, _, _ = synth.synth()
            moto_patches.apply()  # serialises moto's DynamoDB/Kinesis request handling: atomic conditions
            moto_patches.restore_step_functions_config()  # these tiers start executions without running them
            stack.enter_context(mock_aws())
            new_deployer = functools.partial(Deployer, template, register_functions=False, clients=_DEPLOY_CLIENTS)
            if Deployer is local_deployer.Deployer:
                # The first deploy of this template in the process is kept; each later module's fresh mock gets a copy
                # of what it left in moto (tests/moto_snapshot.py: ~85 calls through moto -> a few ms of unpickling).
                deployment = moto_snapshot.SNAPSHOTS.deploy(template, new_deployer, variant="register_functions=False")
            else:  # a test's stand-in deployer: it runs
                deployment = new_deployer().deploy()
        yield deployment


def function_environment(deployment: Deployment, folder: str) -> dict[str, str]:
    return dict(deployment.function_by_folder(folder).environment)


def moto_dependencies(deployment: Deployment, **overrides) -> Dependencies:
    env = function_environment(deployment, "serve_api")
    consumer = function_environment(deployment, "consume_contact_events")
    db = boto3.client("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parts = {
        "store": DynamoStateStore(db, env["CONTACTS_TABLE"], env["AGENTS_TABLE"]),
        "config": DynamoConfigStore(db, env["CONFIG_TABLE"]),
        "live": DynamoLiveMetricsStore(db, consumer["METRICS_TABLE"]),
        "events": KinesisEventPublisher(boto3.client("kinesis"), env["EVENTS_STREAM_NAME"]),
        "dedup": DynamoDeduplicator(consumer["IDEMPOTENCY_TABLE"], client=db),  # one client, as ccaas.bootstrap wires it
        "alerts": DynamoAlertStore(db, env["ALERTS_TABLE"]),
        "alert_events": EventBridgeAlertPublisher(boto3.client("events"), env["ALERTS_BUS_NAME"]),
        "history": DynamoHistoryStore(db, env["HISTORY_TABLE"]),
        "transcripts": DynamoTranscriptStore(db, env["HISTORY_TABLE"]),
        "customers": DynamoCustomerStore(db, env["CUSTOMERS_TABLE"]),
        "idempotency": DynamoDBPersistenceLayer(table_name=env["IDEMPOTENCY_TABLE"], boto3_client=db),
    }
    parts.update(overrides)
    return memory_dependencies(**parts)
