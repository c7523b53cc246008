"""The wiring cache: one set of adapters per distinct environment, never another emulation's clients."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies


def test_a_new_management_api_endpoint_gets_new_clients(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://127.0.0.1:2")
    first = dependencies()
    assert dependencies() is first  # built once per cold start
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://127.0.0.1:3")  # a second local runtime
    assert dependencies() is not first
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4")
    assert dependencies() is not first


@pytest.fixture
def sessions_made(monkeypatch) -> list:
    """Every boto3 session made while the test runs: the wiring's own and boto3's default one (which
    `boto3.client` makes from `boto3.Session`)."""
    import boto3
    import boto3.session

    made: list = []

    class CountingSession(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", CountingSession)
    monkeypatch.setattr(boto3, "Session", CountingSession)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return made


def test_a_function_s_adapters_share_one_session_and_one_dynamodb_client(monkeypatch, sessions_made):
    """The event deduplicator, the stores and the API's idempotency layer use the same DynamoDB client: a
    cold start makes one boto3 session (the deduplicator's own cost consume_contact_events ~90 ms and ~10 MB,
    wiring and first use measured in a fresh process)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5")  # a wiring of its own (the cache's key)
    monkeypatch.setenv("CONTACTS_TABLE", "contacts")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setenv("HISTORY_TABLE", "history")
    deps = dependencies()
    clients = {id(deps.dedup._db), id(deps.store._db), id(deps.history._db), id(deps.idempotency.client)}  # noqa: SLF001
    assert len(clients) == 1
    assert sessions_made == [deps.session]


def test_the_lake_adapters_a_function_finds_in_its_environment_use_its_session(monkeypatch, sessions_made):
    """A writer with lake streams, the API's Athena engine and the reference-data writer: their clients
    are made on the function's session, not on boto3's default one (a second session per cold start)."""
    from ccaas import ports_lake
    from ccaas.usecases.lake import lake_export, lake_queries
    from ccaas.usecases.lake_reference import lake_reference

    for installed in ("_installed", "_installed_export", "_installed_reference"):  # none (as on AWS)
        monkeypatch.setattr(ports_lake, installed, None)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:6")
    monkeypatch.setenv("LAKE_WORKGROUP", "wg")
    monkeypatch.setenv("LAKE_DATABASE", "db")
    monkeypatch.setenv("LAKE_CONTACT_RECORDS_STREAM", "records")
    monkeypatch.setenv("LAKE_BUCKET", "bucket")
    deps = dependencies()
    built = [lake_queries(deps), lake_export(deps), lake_reference(deps)]
    assert all(b is not None for b in built)
    assert sessions_made == [deps.session]  # one session: the function's
    assert {b.client.meta.service_model.service_name for b in built} == {"athena", "firehose", "s3"}


def test_the_event_deduplicator_keeps_its_records_two_days_unless_the_function_says_otherwise(monkeypatch, sessions_made):
    """EVENT_DEDUP_TTL_S is set by the local runtime only (`make run`: a copy of an event comes within seconds
    there, and the records would fill its memory); a deployed function has none and keeps two days."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    assert dependencies().dedup._ttl_s == 2 * 24 * 3600  # noqa: SLF001
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8")  # a wiring of its own (the cache's key)
    monkeypatch.setenv("EVENT_DEDUP_TTL_S", "120")
    assert dependencies().dedup._ttl_s == 120  # noqa: SLF001
