"""A partial object in the routing policy keeps the defaults of its place: `reservation.timeout` sets the agent
not-ready unless told otherwise (reject does not), and a queue's partial `callback` or `hours` keeps the rest of
queue_defaults'. A stored policy (complete: saved after validation) loads exactly as it was saved."""
from __future__ import annotations

import pytest

from ccaas.domain.routing_engine import RoutingPolicy, after_failed_offer
from ccaas.domain.vocabulary import STORED_DOCUMENT
from ccaas.usecases import routing
from tests.fixtures.routing.builders import T0, contact
from tests.unit.demo import TENANT, demo_deps


def test_a_partial_timeout_object_keeps_setting_the_agent_not_ready():
    policy = RoutingPolicy.model_validate({"reservation": {"timeout_s": 5, "timeout": {"not_ready_status": "LUNCH"}}})
    assert policy.reservation.timeout.model_dump() == {"reoffer": True, "set_not_ready": True,
                                                       "not_ready_status": "LUNCH"}
    assert after_failed_offer(contact(), "a1", "timeout", policy, T0).agent_status == "LUNCH"
    assert RoutingPolicy.model_validate({"reservation": {"timeout": {}}}).reservation.timeout.set_not_ready
    assert RoutingPolicy.model_validate({"reservation": {}}).reservation == RoutingPolicy().reservation


def test_a_partial_reject_object_keeps_leaving_the_agent_available_and_either_can_be_set_explicitly():
    policy = RoutingPolicy.model_validate({"reservation": {"reject": {"not_ready_status": "LUNCH"}}})
    assert not policy.reservation.reject.set_not_ready
    assert after_failed_offer(contact(), "a1", "rejected", policy, T0).agent_status is None
    off = RoutingPolicy.model_validate({"reservation": {"timeout": {"set_not_ready": False}}})
    assert after_failed_offer(contact(), "a1", "timeout", off, T0).agent_status is None


def test_every_nested_default_of_the_policy_is_its_class_default_or_keeps_its_place_when_partial():
    """The class of defect: a field whose default instance differs from its class defaults. A partial object
    (here: empty) must give that field's default, not the class's."""
    default = RoutingPolicy()

    def nested(model, path=()):
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            if hasattr(type(value), "model_fields"):
                yield (*path, name), value
                yield from nested(value, (*path, name))

    checked = 0
    for path, value in nested(default):
        document: dict = {}
        node = document
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = {}
        partial = RoutingPolicy.model_validate(document)
        for key in path:
            partial = getattr(partial, key)
        assert partial == value, path
        checked += 1
    assert checked >= 6  # queue_defaults(.callback), journey, agent/contact scoring, reservation(.reject/.timeout)


def test_a_queues_partial_callback_keeps_the_default_offer_threshold():
    policy = RoutingPolicy.model_validate({
        "queue_defaults": {"callback": {"offer_when_wait_exceeds_s": 120, "max_wait_s": 3600}},
        "queues": {"billing": {"callback": {"keep_place": False}}, "sales": {"expected_aht_s": 60}}})
    billing = policy.for_queue("billing").callback
    assert (billing.offer_when_wait_exceeds_s, billing.max_wait_s, billing.keep_place) == (120, 3600, False)
    assert policy.for_queue("sales").callback == policy.queue_defaults.callback


def test_a_queues_partial_hours_keeps_the_default_time_zone_and_holidays():
    policy = RoutingPolicy.model_validate({
        "queue_defaults": {"hours": {"time_zone": "Europe/London", "holidays": [{"start": "2026-12-25"}],
                                     "weekly": {"mon": [{"start": "08:00", "end": "18:00"}]}}},
        "queues": {"billing": {"hours": {"weekly": {"tue": [{"start": "09:00", "end": "17:00"}]}}}}})
    hours = policy.for_queue("billing").hours
    assert hours.time_zone == "Europe/London" and len(hours.holidays) == 1
    assert set(hours.weekly) == {"tue"}  # the queue's week replaces the default's (a value, not merged)


def test_a_stored_policy_loads_as_it_was_saved():
    deps = demo_deps()
    # What the API stored for {"reservation": {"timeout": {"not_ready_status": "LUNCH"}}} before the fix: the
    # dump of the validated policy, so every field is there, set_not_ready false included.
    stored = RoutingPolicy().model_dump(mode="json")
    stored["reservation"]["timeout"] = {"reoffer": True, "set_not_ready": False, "not_ready_status": "LUNCH"}
    stored["queue_defaults"]["callback"]["offer_when_wait_exceeds_s"] = 90
    stored["queues"] = {"billing": {**stored["queue_defaults"],
                                    "callback": {"offer_when_wait_exceeds_s": None, "keep_place": False,
                                                 "max_wait_s": 86_400}}}
    deps.config.put_settings(TENANT, routing.ROUTING_SETTINGS, stored)
    loaded = routing.policy_of(deps, TENANT)
    assert loaded.model_dump(mode="json") == stored  # nothing filled in from the new defaults
    assert not loaded.reservation.timeout.set_not_ready
    assert loaded.for_queue("billing").callback.offer_when_wait_exceeds_s is None
    assert RoutingPolicy.model_validate(stored, context=STORED_DOCUMENT) == loaded


def test_saving_a_partial_policy_stores_it_complete():
    deps = demo_deps()
    saved = routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"reservation": {"timeout_s": 5, "timeout": {"not_ready_status": "LUNCH"}}}))
    stored = deps.config.get_settings(TENANT, routing.ROUTING_SETTINGS)
    assert stored["reservation"]["timeout"] == {"reoffer": True, "set_not_ready": True, "not_ready_status": "LUNCH"}
    assert routing.policy_of(deps, TENANT) == saved


@pytest.mark.parametrize("failure", ["timeout", "reject"])
def test_the_json_schema_shows_each_objects_own_default(failure):
    schema = RoutingPolicy.model_json_schema()
    reservation = schema["$defs"]["ReservationPolicy"]["properties"][failure]
    ref = (reservation.get("$ref") or reservation["allOf"][0]["$ref"]).rsplit("/", 1)[-1]
    assert schema["$defs"][ref]["properties"]["set_not_ready"]["default"] is (failure == "timeout")
