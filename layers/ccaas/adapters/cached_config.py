"""A ConfigStore that keeps tenant configuration (queues, settings such as the routing policy, alert rules) for a few
seconds per Lambda container, with Powertools Parameters' cache (a custom BaseProvider).

Why: a routing decision reads the queue and the tenant's routing policy; read from DynamoDB each
time they are two of its round trips. Configuration changes rarely, so every container serves them
from memory for `max_age_s` (Powertools' POWERTOOLS_PARAMETERS_MAX_AGE, default 5 s): a change made
through another container takes effect within that time; one made through this store at once
(writes clear the cache). Lookups that fail (NotFound) are not cached.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parameters.base import BaseProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from ccaas.ports import ConfigStore

MAX_AGE_ENV = "POWERTOOLS_PARAMETERS_MAX_AGE"
DEFAULT_MAX_AGE_S = 5
_ABSENT = {"__absent__": True}  # Powertools does not cache None: a missing settings document is this


def _absent_as_marker(read: Any) -> Any:
    """A loader that may find nothing (None), made cacheable: Powertools caches _ABSENT in its place."""
    return lambda *args: _ABSENT if (value := read(*args)) is None else value


def configured_max_age_s() -> int:
    """How long a container keeps what it read (POWERTOOLS_PARAMETERS_MAX_AGE, else 5 s)."""
    return int(os.environ.get(MAX_AGE_ENV, DEFAULT_MAX_AGE_S))


class TimedReads(BaseProvider):
    """Each cached read is a named loader; the parameter name is (loader, *args) joined."""

    def __init__(self) -> None:
        super().__init__()
        self.loaders: dict[str, Callable[..., Any]] = {}

    def _get(self, name: str, **_: Any) -> Any:
        loader, *args = name.split("\x1f")
        return self.loaders[loader](*args)

    def _get_multiple(self, path: str, **_: Any) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def _name(loader: str, *args: str) -> str:
        return "\x1f".join((loader, *args))

    def read(self, loader: str, *args: str, max_age: int) -> Any:
        try:
            return self.get(self._name(loader, *args), max_age=max_age)
        except GetParameterError as error:  # Powertools wraps the loader's error (implicitly chained): give back ours
            raise (error.__cause__ or error.__context__ or error) from None

    def keep_only(self, loader: str, *args: str) -> None:
        """Forget every value but this read's (expired or not): for values so large (a roster) that a process keeps
        one at a time; Powertools would keep each until it is read again."""
        name = self._name(loader, *args)
        for key in [key for key in self.store if key[0] != name]:
            del self.store[key]


class CachedConfigStore:
    def __init__(self, store: ConfigStore, max_age_s: int | None = None) -> None:
        self._store = store
        # Powertools' own default is 300 s: a change made through another container (a queue, the
        # routing policy, a Connect instance) would take minutes to show. Ours is 5 s unless set.
        self._max_age = max_age_s if max_age_s is not None else configured_max_age_s()
        self._reads = TimedReads()
        self._reads.loaders.update(
            queue=store.get_queue,
            queues=store.list_queues,
            settings=_absent_as_marker(store.get_settings),
            tenant=store.get_tenant,
            alert_rules=store.get_alert_rules,  # the alert evaluator reads them every batch
            connect_instance=_absent_as_marker(store.tenant_for_connect_instance),
            sms_sender=_absent_as_marker(store.tenant_for_sms_sender),  # read for every text a campaign sends
        )

    def _cached(self, loader: str, *args: str) -> Any:
        return self._reads.read(loader, *args, max_age=self._max_age)

    def _cached_or_none(self, loader: str, *args: str) -> Any:
        value = self._cached(loader, *args)
        return None if value == _ABSENT else value

    def _written(self) -> None:
        self._reads.clear_cache()

    # cached reads
    def get_queue(self, tenant_id: str, queue_id: str):  # noqa: ANN201 - as ConfigStore
        return self._cached("queue", tenant_id, queue_id)

    def list_queues(self, tenant_id: str):  # noqa: ANN201
        return self._cached("queues", tenant_id)

    def get_settings(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        return self._cached_or_none("settings", tenant_id, name)

    def get_tenant(self, tenant_id: str):  # noqa: ANN201
        return self._cached("tenant", tenant_id)

    def get_alert_rules(self, tenant_id: str):  # noqa: ANN201
        return self._cached("alert_rules", tenant_id)

    def tenant_for_connect_instance(self, instance_arn: str) -> str | None:
        return self._cached_or_none("connect_instance", instance_arn)

    def tenant_for_sms_sender(self, kind: str, name: str) -> str | None:
        return self._cached_or_none("sms_sender", kind, name)

    # writes clear this container's cache
    def put_queue(self, queue) -> None:  # noqa: ANN001
        self._store.put_queue(queue)
        self._written()

    def put_settings(self, tenant_id: str, name: str, values: Mapping[str, Any]) -> None:
        self._store.put_settings(tenant_id, name, values)
        self._written()

    def put_tenant(self, tenant) -> None:  # noqa: ANN001
        self._store.put_tenant(tenant)
        self._written()

    def put_connect_instance(self, instance_arn: str, tenant_id: str) -> None:
        self._store.put_connect_instance(instance_arn, tenant_id)
        self._written()

    def put_sms_sender(self, kind: str, name: str, tenant_id: str) -> None:
        self._store.put_sms_sender(kind, name, tenant_id)
        self._written()

    def put_alert_rules(self, tenant_id: str, rules) -> None:  # noqa: ANN001
        self._store.put_alert_rules(tenant_id, rules)
        self._written()

    def __getattr__(self, name: str) -> Any:
        # Everything else (API keys, …) reads through.
        return getattr(self._store, name)
