"""The per-container config cache: reads once within its age, sees another container's change after it."""
from __future__ import annotations

from ccaas.adapters.cached_config import DEFAULT_MAX_AGE_S, MAX_AGE_ENV, CachedConfigStore
from ccaas.adapters.memory import MemoryConfigStore
from ccaas.domain.models import Queue


def test_the_default_age_is_seconds_not_powertools_five_minutes(monkeypatch):
    monkeypatch.delenv(MAX_AGE_ENV, raising=False)
    assert CachedConfigStore(MemoryConfigStore())._max_age == DEFAULT_MAX_AGE_S == 5
    monkeypatch.setenv(MAX_AGE_ENV, "30")
    assert CachedConfigStore(MemoryConfigStore())._max_age == 30


def test_a_change_made_elsewhere_shows_once_the_cache_ages(monkeypatch):
    store = MemoryConfigStore()
    store.put_queue(Queue(tenant_id="t", queue_id="q", name="Before"))
    cached = CachedConfigStore(store, max_age_s=0)  # every read goes to the store
    assert cached.get_queue("t", "q").name == "Before"
    store.put_queue(Queue(tenant_id="t", queue_id="q", name="After"))  # another container's write
    assert cached.get_queue("t", "q").name == "After"
    held = CachedConfigStore(store, max_age_s=60)
    assert held.get_queue("t", "q").name == "After"
    store.put_queue(Queue(tenant_id="t", queue_id="q", name="Later"))
    assert held.get_queue("t", "q").name == "After"  # within its age: the container's copy
    assert held.tenant_for_connect_instance("arn:x") is None
    store.put_connect_instance("arn:x", "t")  # registered through another container
    assert held.tenant_for_connect_instance("arn:x") is None  # 'absent' is cached too, for its age
    held.put_connect_instance("arn:x", "t")  # a write through this container clears its cache at once
    assert held.tenant_for_connect_instance("arn:x") == "t"
    assert held.tenant_for_sms_sender("origination", "+12065550100") is None
    store.put_sms_sender("origination", "+12065550100", "t")
    assert held.tenant_for_sms_sender("origination", "+12065550100") is None  # read for every text: cached, absent too
    held.put_sms_sender("origination", "+12065550100", "t")
    assert held.tenant_for_sms_sender("origination", "+12065550100") == "t"


def test_alert_rules_are_kept_for_their_age_and_a_write_here_shows_at_once():
    """The alert evaluator reads the tenant's rules every batch: one read per container and age."""
    from ccaas.domain.alerts import AlertRules  # noqa: PLC0415

    store = MemoryConfigStore()
    reads: list[str] = []
    original = store.get_alert_rules
    store.get_alert_rules = lambda tenant_id: reads.append(tenant_id) or original(tenant_id)  # type: ignore[method-assign]
    held = CachedConfigStore(store, max_age_s=60)
    first = held.get_alert_rules("t")
    assert held.get_alert_rules("t") == first and reads == ["t"]
    changed = AlertRules(service_level=first.service_level.model_copy(update={"enabled": not first.service_level.enabled}))
    store.put_alert_rules("t", changed)  # another container's write: not seen within the age
    assert reads == ["t"] and held.get_alert_rules("t") == first
    held.put_alert_rules("t", changed)  # through this container: the cache is cleared
    assert held.get_alert_rules("t") == changed and reads == ["t", "t"]
