"""PUT /settings/journeys follows the suite stored (outside probe 37, journeys findings 3 and 4): removing a journey,
down to an empty suite, resolves its `journey_failed` alert (the scheduled runner skips a tenant without journeys,
so nothing else ever did); and the alarms are reconciled with those that exist after the save, so concurrent PUTs
leave the last writer's alarms only, and a stale alarm goes at the next PUT whatever it changes."""
from __future__ import annotations

import pytest

from ccaas.adapters.memory.journeys import MemoryJourneyAlarms
from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import AlertChange, AlertStatus
from ccaas.domain.journeys import ExpectationFailure, JourneyResult, StepResult, parse_suite
from ccaas.usecases import admin, alerts, journeys

TENANT = "acme"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-0000-4000-8000-000000000037"


class ListingAlarms(MemoryJourneyAlarms):
    """The memory alarms with a hook run once before the first put (another PUT racing this one)."""

    def __init__(self) -> None:
        super().__init__()
        self.before_put = None

    def put(self, tenant_id, names):
        hook, self.before_put = self.before_put, None
        if hook is not None:
            hook()
        return super().put(tenant_id, names)


@pytest.fixture
def deps():
    deps = memory_dependencies()
    deps.journey_alarms = ListingAlarms()
    admin.register_tenant(deps, tenant_id=TENANT, name="Acme")
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=INSTANCE)
    return deps


def _suite(*names: str):
    return parse_suite({"connect_instance_arn": INSTANCE, "journeys": [
        {"name": n, "steps": [{"action": "hours", "parameters": {"queue_id": "sales"}}]} for n in names]})


def _failed(name: str) -> JourneyResult:
    step = StepResult(index=0, name="hours", action="hours", kind="flow", latency_ms=7.0, passed=False,
                      failures=[ExpectationFailure(expectation="open", expected=True, observed=False)])
    return JourneyResult(journey=name, passed=False, steps=[step], failed_step="steps[0] hours", failure="open")


def _alarms(deps) -> list[str]:
    return deps.journey_alarms.alarmed_journeys(TENANT)


# -------------------------------------------------------------------------------- finding 3: alerts
@pytest.mark.parametrize("kept", [(), ("kept",)])
def test_removing_a_failing_journey_resolves_its_alert_at_once_even_down_to_an_empty_suite(deps, kept):
    suite = journeys.put_journeys(deps, TENANT, _suite("gone", *kept))
    journeys.record_runs(deps, TENANT, suite, [_failed("gone"), *(_failed(k) for k in kept)])
    assert {a.subject for a in alerts.list_alerts(deps, TENANT)} == {"journey/gone", *(f"journey/{k}" for k in kept)}
    journeys.put_journeys(deps, TENANT, _suite(*kept))  # no run follows: an empty suite is never run again
    assert [a.subject for a in alerts.list_alerts(deps, TENANT)] == [f"journey/{k}" for k in kept]
    [resolved] = alerts.list_alerts(deps, TENANT, alerts.StatusFilter.RESOLVED)
    assert resolved.subject == "journey/gone" and resolved.status == AlertStatus.RESOLVED
    assert (AlertChange.RESOLVED, "journey/gone") in [(c, a.subject) for c, a in deps.alert_events.published]


# -------------------------------------------------------------------------------- finding 4: alarms
def test_racing_puts_leave_the_alarms_of_the_suite_stored_last(deps):
    """A stores [a] and, before its alarm calls, B stores [b] and makes its alarms: A used to create a's alarm for
    a suite no longer stored (and delete only what its own `before` named), and no later PUT deleted it."""
    journeys.put_journeys(deps, TENANT, _suite("base"))
    deps.journey_alarms.before_put = lambda: journeys.put_journeys(deps, TENANT, _suite("b"))
    journeys.put_journeys(deps, TENANT, _suite("a"))
    assert [j.name for j in journeys.journeys_of(deps, TENANT).journeys] == ["b"]
    assert _alarms(deps) == ["b"]


def test_a_stale_alarm_goes_at_the_next_put_even_one_that_changes_nothing(deps):
    journeys.put_journeys(deps, TENANT, _suite("a", "b"))
    deps.journey_alarms.put(TENANT, ["left-by-a-race"])  # an alarm no suite names
    deps.journey_alarms.delete(TENANT, ["b"])  # a journey whose alarm is missing (its put failed)
    journeys.put_journeys(deps, TENANT, _suite("a", "b"))
    assert _alarms(deps) == ["a", "b"]
    journeys.put_journeys(deps, TENANT, _suite())
    assert _alarms(deps) == []
