"""POST /contacts/{id}/disposition with callback_requested through the real serve_api handler on the stack
deployed into moto: the 422s naming callback_at, the 200, the row audit showing the pending callback, the dialer
placing it at its time (direct consent), and the store's round trip of a callback (in memory and on moto)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import Attempt, CallbackRequest, Campaign, CampaignMode, CampaignStatus, Disposition
from ccaas.ports_outbound import AttemptRecord, ledger_keys, new_attempt_id
from ccaas.usecases import outbound
from tests.calling_hours import zone_in_hours
from tests.lambda_harness import api
from tests.outbound_on_stack import answered_outbound_call, outbound_store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
UTC = timezone.utc
CAMPAIGN = {"campaign_id": "renewals", "name": "Renewals", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199", "debt_collection": True, "policy": {"max_attempts": 3, "min_gap_minutes": 60}}


def _answered_call(t: str):
    """A campaign call to r1 a person answered, and the OUTBOUND contact ana is on."""
    assert api("PUT", "/settings/outbound", t, {"kind": "simulated", "seed": 3})[0] == 200
    assert api("POST", "/campaigns", t, CAMPAIGN)[0] == 201
    return answered_outbound_call(t, zone_in_hours())


def _dispose(t: str, contact_id: str, body: dict):
    return api("POST", f"/contacts/{contact_id}/disposition", t, body, role="agent", agent_id="ana")


def test_callback_requested_422s_name_callback_at_then_200_schedules_the_call(tenant):
    t = tenant.id
    deps, record, contact_id = _answered_call(t)
    now = datetime.now(UTC)
    later = now + timedelta(days=2)
    for body in ({"disposition": "callback_requested"},                                      # required
                 {"disposition": "right_party_contact", "callback_at": later.isoformat()},   # only with it
                 {"disposition": "callback_requested", "callback_at": "2030-01-01T18:00:00"},  # no offset
                 {"disposition": "callback_requested", "callback_at": (now - timedelta(minutes=5)).isoformat()},
                 {"disposition": "callback_requested", "callback_at": (now + timedelta(days=31)).isoformat()}):
        status, error = _dispose(t, contact_id, body)
        assert status == 422 and error["field"] == "callback_at", (body, error)
    assert deps.outbound.get_attempt(t, "renewals", "r1", record.attempt_id).attempt.disposition is Disposition.ANSWERED

    at = later.astimezone(timezone(timedelta(hours=-5))).replace(microsecond=0)  # any offset: stored as the instant
    status, body = _dispose(t, contact_id, {"disposition": "callback_requested", "callback_at": at.isoformat()})
    assert status == 200 and body["disposition"] == "callback_requested"

    status, audit = api("GET", "/campaigns/renewals/rows/r1", t, role="supervisor")
    assert status == 200 and audit["state"] == "due"
    assert datetime.fromisoformat(audit["next_due_at"]) == at
    assert audit["callback"]["status"] == "pending" and datetime.fromisoformat(audit["callback"]["at"]) == at
    assert audit["callback"]["attempt_id"] == record.attempt_id
    assert datetime.fromisoformat(audit["attempts"][0]["callback"]["at"]) == at
    status, attempts = api("GET", "/campaigns/renewals/attempts", t, role="supervisor")
    assert status == 200 and attempts[0]["attempt"]["callback"] is not None

    # The dialer places it at its time, in the quiet period of Monday's conversation: direct consent.
    assert outbound.dial_tick(deps, t, "renewals", now=at - timedelta(minutes=1)).dialed == 0
    assert outbound.dial_tick(deps, t, "renewals", now=at).dialed == 1
    placed = deps.outbound.record_attempts(t, "renewals", "r1")[-1]
    assert placed.callback_of == record.attempt_id and placed.direct_consent
    status, audit = api("GET", "/campaigns/renewals/rows/r1", t, role="supervisor")
    assert audit["callback"]["status"] == "placed" and audit["callback"]["placed_attempt_id"] == placed.attempt_id


T0 = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "moto"])
def store(request, stack):
    return outbound_store(request.param, stack)


def test_store_round_trip_of_a_callback_request(store):
    """The OutboundStore contract for finish_attempt's `callback` (both implementations): stored with the
    disposition callback_requested, read back by every attempt read, refused (nothing written) without it."""
    tenant = f"t{uuid.uuid4().hex[:10]}"
    store.put_campaign(tenant, Campaign(campaign_id="c1", name="C", mode=CampaignMode.PROGRESSIVE, queue_id="sales",
                                        caller_id="+12125550199", status=CampaignStatus.RUNNING), expected_version=None)
    (row,) = parse_csv("row_id,phone,time_zone,account_id\nr0,+12125550000,America/New_York,acct-0\n").rows
    store.put_rows(tenant, "c1", [row], T0)
    attempt = Attempt(attempt_id=new_attempt_id(T0, 0), campaign_id="c1", row_id="r0", account_id="acct-0",
                      number=row.numbers[0], started_at=T0)
    record = AttemptRecord(tenant_id=tenant, attempt=attempt, dial_mode=CampaignMode.PROGRESSIVE, campaign_version=1)
    ledgers = [store.ledger(tenant, kind, value) for kind, value in ledger_keys(attempt)]
    store.start_attempt(record, store.get_row(tenant, "c1", "r0"), next_due_at=T0, ledgers=ledgers)
    store.finish_attempt(tenant, "c1", "r0", attempt.attempt_id, disposition=Disposition.ANSWERED, at=T0)
    callback = CallbackRequest(at=T0 + timedelta(days=3), requested_at=T0 + timedelta(minutes=4))
    with pytest.raises(ValueError):
        store.finish_attempt(tenant, "c1", "r0", attempt.attempt_id, disposition=Disposition.RIGHT_PARTY_CONTACT,
                             at=T0, callback=callback)
    with pytest.raises(ValueError):
        store.finish_attempt(tenant, "c1", "r0", attempt.attempt_id, disposition=Disposition.CALLBACK_REQUESTED, at=T0)
    assert store.get_attempt(tenant, "c1", "r0", attempt.attempt_id).attempt.disposition is Disposition.ANSWERED
    done = store.finish_attempt(tenant, "c1", "r0", attempt.attempt_id, disposition=Disposition.CALLBACK_REQUESTED,
                                at=T0 + timedelta(minutes=4), callback=callback)
    assert done.attempt.callback == callback
    assert store.get_attempt(tenant, "c1", "r0", attempt.attempt_id) == done
    (read,) = store.record_attempts(tenant, "c1", "r0")
    assert read.callback == callback and read.disposition is Disposition.CALLBACK_REQUESTED
    assert store.account_attempts(tenant, "acct-0", T0 - timedelta(days=1))[0].callback == callback
