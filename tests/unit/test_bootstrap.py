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
