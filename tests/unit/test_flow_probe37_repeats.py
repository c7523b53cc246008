"""Outside probe of the Connect flow adapter (session 37), repeat contacts: a billing contact minutes old stopped
counting as a repeat once the customer had 10 newer contacts with another reason (journey_of read the newest 10 only),
for identify, route and POST /contacts alike; with Connect contacts (history only) too. And identify without a reason
(a flow identifies before it asks one) names the latest contact within the FCR window, which route, planning the
contact, does not flag as a repeat: only the same reason is."""
from __future__ import annotations

import pytest

from ccaas.domain.models import Channel
from ccaas.usecases import contacts, routing
from tests.unit.test_connect_ctr_consistency import _ingest_answered
from tests.unit.test_connect_flow import TENANT, ask, deps, fixture  # noqa: F401 - the flow tenant fixture

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def _intake(deps, reason: str, customer_id: str = "c-gold"):  # noqa: F811
    """POST /contacts' use-case, a minute after the previous one."""
    deps.clock.advance(60)
    return contacts.create_contact(deps, TENANT, contacts.NewContact(
        channel=Channel.VOICE, queue_id="sales", customer_id=customer_id, reason=reason))


def _asks(deps, reason: str | None = "billing", customer_id: str = "c-gold") -> tuple[dict, dict]:  # noqa: F811
    """identify's and route's replies for the customer (by customer_id), with `reason` if any."""
    given = {"reason": reason} if reason else {}
    identify = ask(deps, fixture("voice_inbound", action="identify", customer_id=customer_id, **given))
    route = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", customer_id=customer_id, **given))
    return identify, route


@pytest.mark.parametrize("newer", [0, 9, 10, 40])
def test_a_repeat_is_seen_however_many_newer_contacts_came_since(deps, newer):  # noqa: F811
    billing = _intake(deps, "billing")
    for _ in range(newer):
        _intake(deps, "sales")
    deps.clock.advance(60)
    identify, route = _asks(deps)
    assert (identify["open_repeat_contact"], identify["repeat_contact_id"]) == ("true", billing.contact_id), identify
    assert (route["repeat_contact"], route["repeat_of"]) == ("true", billing.contact_id), route
    other = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", customer_id="c-gold", reason="delivery"))
    assert (other["repeat_contact"], int(route["priority"])) == ("false", int(other["priority"]) - 1)  # the boost
    intake = _intake(deps, "billing")  # POST /contacts plans the same way
    assert (intake.routing.repeat_contact, intake.routing.repeat_of) == (True, billing.contact_id)
    assert intake.priority == int(route["priority"])


def test_the_journey_stays_small_the_repeat_rides_along(deps):  # noqa: F811
    billing = _intake(deps, "billing")
    for _ in range(15):
        _intake(deps, "sales")
    journey = routing.journey_of(deps, TENANT, "c-gold", "billing", exclude="")
    assert len(journey.history) == routing._JOURNEY_DEPTH + 1 and journey.history[-1].contact_id == billing.contact_id
    # without a reason there is no repeat to look for: the newest only (no read through the window)
    assert len(routing.journey_of(deps, TENANT, "c-gold", None, exclude="").history) == routing._JOURNEY_DEPTH


def test_connect_contacts_in_history_only_are_seen_too(deps):  # noqa: F811
    now = deps.clock.now_ms()
    _ingest_answered(deps, "ctr-billing", now - 3 * 60 * MINUTE_MS, reason="billing")
    for i in range(12):
        _ingest_answered(deps, f"ctr-sales-{i:02d}", now - (100 - i) * MINUTE_MS, reason="sales")
    identify, route = _asks(deps, customer_id="c-plat")
    assert (identify["open_repeat_contact"], identify["repeat_contact_id"]) == ("true", "ctr-billing"), identify
    assert (route["repeat_contact"], route["repeat_of"]) == ("true", "ctr-billing"), route


def test_outside_the_fcr_window_or_past_the_cap_it_is_not_a_repeat(deps, monkeypatch):  # noqa: F811
    _intake(deps, "billing")
    deps.clock.advance(8 * DAY_MS / 1000)  # the default window is 7 days
    for _ in range(10):
        _intake(deps, "sales")
    identify, route = _asks(deps)
    assert (identify["open_repeat_contact"], route["repeat_contact"]) == ("false", "false")
    # the read through the window is bounded: REPEAT_WINDOW_CAP contacts of each store at most
    monkeypatch.setattr(routing, "REPEAT_WINDOW_CAP", 12)
    billing = _intake(deps, "billing")
    for _ in range(11):
        _intake(deps, "sales")
    assert _asks(deps)[1]["repeat_of"] == billing.contact_id  # 11 newer + the repeat: 12 read
    _intake(deps, "sales")
    assert _asks(deps)[1]["repeat_contact"] == "false"  # the 13th newest is past the cap


def test_without_a_reason_identify_names_the_latest_contact_in_the_window_route_flags_no_repeat(deps):  # noqa: F811
    """identify before the flow asks the reason: the latest contact within the FCR window (any reason), with its
    reason for the flow to ask about; route flags a repeat only for the same reason (DOMAIN.md, README)."""
    _intake(deps, "billing")
    latest = _intake(deps, "sales")
    identify, route = _asks(deps, reason=None)
    assert (identify["open_repeat_contact"], identify["repeat_contact_id"], identify["repeat_reason"]) == (
        "true", latest.contact_id, "sales")
    assert (route["repeat_contact"], "repeat_of" in route) == ("false", False)
    confirmed = _asks(deps, reason="sales")
    assert confirmed[0]["repeat_contact_id"] == confirmed[1]["repeat_of"] == latest.contact_id
