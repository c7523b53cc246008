"""$connect reads a socket's key again after storing its connection, to refuse a secret revoked or rotated away while
the handshake ran (usecases/push.connect). On DynamoDB that read must be strongly consistent: an eventually consistent
GetItem may still return the key's item as it was before the revoke or rotation, and the socket would stay open."""
from __future__ import annotations

from typing import Any

from ccaas.adapters.aws.dynamodb import DynamoConfigStore


class _Recording:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {}


def test_the_key_reads_connect_repeats_are_strongly_consistent():
    client = _Recording()
    store = DynamoConfigStore(client, "Config")
    assert store.credential_for_key("0" * 64) is None
    try:
        store.get_api_key("demo", "k_1")
    except Exception:  # noqa: BLE001 - not found: only the request matters here
        pass
    assert [c.get("ConsistentRead") for c in client.calls] == [True, True]


def test_other_configuration_reads_stay_eventually_consistent():
    client = _Recording()
    store = DynamoConfigStore(client, "Config")
    try:
        store.get_tenant("demo")
    except Exception:  # noqa: BLE001
        pass
    assert client.calls[0].get("ConsistentRead") is False
