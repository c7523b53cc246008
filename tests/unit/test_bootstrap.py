"""The wiring cache: one set of adapters per distinct environment, never another emulation's clients."""
from __future__ import annotations

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


def test_a_function_s_adapters_share_one_session_and_one_dynamodb_client(monkeypatch):
    """The event deduplicator, the stores and the API's idempotency layer use the same DynamoDB client:
    a cold start makes one boto3 session (a second one cost the consumers ~400 KB and its setup time)."""
    import boto3.session

    sessions = []
    real_session = boto3.session.Session

    def counting_session(*args, **kwargs):
        sessions.append(1)
        return real_session(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", counting_session)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5")  # a wiring of its own (the cache's key)
    monkeypatch.setenv("CONTACTS_TABLE", "contacts")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setenv("HISTORY_TABLE", "history")
    deps = dependencies()
    clients = {id(deps.dedup._db), id(deps.store._db), id(deps.history._db), id(deps.idempotency.client)}  # noqa: SLF001
    assert len(clients) == 1
    assert len(sessions) == 1
