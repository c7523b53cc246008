"""Amazon Connect contacts count as ours do: a queued wait the system ended is no abandon (K27 #2), a customer's
earlier Connect contacts (CTRs in history) are their journey (K27 #3), and the flow and CTR ingestion map a
channel alike (K27 #6)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ccaas.domain.connect_flow import channel_of, parse_event
from ccaas.domain.history import record_from_contact
from ccaas.domain.kpis.ctr import parse_ctr, to_contact_record
from ccaas.domain.kpis.records import FinalState
from ccaas.domain.models import Channel
from ccaas.usecases import history, routing
from tests.lake_twin import installed_export
from tests.unit.test_connect_flow import INSTANCE, TENANT, ask, deps, fixture  # noqa: F401 - the flow's tenant

CTR = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"
FLOW = Path(__file__).resolve().parents[1] / "fixtures" / "connect"


def _ctr(name: str, **changes) -> dict:
    return {**json.loads((CTR / f"{name}.json").read_text()), **changes}


# --- #2: who ended a queued contact's wait -------------------------------------------------------------------
@pytest.mark.parametrize(("reason", "state", "abandoned", "timed_out"), [
    ("CUSTOMER_DISCONNECT", FinalState.ABANDONED, True, False),
    ("CUSTOMER_CONNECTION_NOT_ESTABLISHED", FinalState.ABANDONED, True, False),
    (None, FinalState.ABANDONED, True, False),  # no reason: read as before
    ("CONTACT_FLOW_DISCONNECT", FinalState.ABANDONED, False, True),  # the queue flow's Disconnect after the max wait
    ("EXPIRED", FinalState.ABANDONED, False, True),
    ("API", FinalState.ABANDONED, False, True),
    ("OTHER", FinalState.ABANDONED, False, True),
    ("TELECOM_PROBLEM", FinalState.FAILED, False, False),
    ("SYSTEM_ERROR", FinalState.FAILED, False, False),
])
def test_a_queued_wait_the_system_ended_is_timed_out_not_abandoned(reason, state, abandoned, timed_out):
    record = to_contact_record(parse_ctr(_ctr("inbound_voice_abandoned", DisconnectReason=reason)), tenant_id="t")
    assert (record.final_state, record.abandoned, record.timed_out, record.offered) == (state, abandoned, timed_out, True)


def test_system_ended_waits_leave_the_abandonment_rate_and_reach_the_lake_as_timed_out():
    from ccaas.bootstrap import memory_dependencies
    from ccaas.domain.models import Queue
    from ccaas.domain.tenants import Tenant
    from ccaas.usecases import admin

    d = memory_dependencies()
    d.config.put_tenant(Tenant(tenant_id="acme", name="Acme", time_zone="America/New_York"))
    d.config.put_queue(Queue(tenant_id="acme", queue_id="sales", name="Sales", sl_threshold_s=20))
    base = _ctr("inbound_voice_abandoned")
    admin.register_connect_instance(d, tenant_id="acme", instance_arn=base["InstanceARN"])
    ids = []
    with installed_export() as lake:
        for i, reason in enumerate(("CUSTOMER_DISCONNECT", "CONTACT_FLOW_DISCONNECT", "EXPIRED", "TELECOM_PROBLEM")):
            ids.append(base["ContactId"][:-1] + str(i))
            history.ingest_ctr(d, json.dumps({**base, "ContactId": ids[-1], "DisconnectReason": reason}).encode())
    row = history.historical_metrics(d, "acme", start=datetime(2026, 11, 20), end=datetime(2026, 11, 21),
                                     interval="day").rows[0]
    assert (row.offered, row.abandoned, row.timed_out, row.abandonment_rate) == (4, 1, 2, 0.25)
    exported = {r["contact_id"]: r for r in lake.of("contact_records")}  # the latest snapshot per contact
    assert [(exported[c]["final_state"], exported[c]["timed_out"]) for c in ids] == [
        ("ABANDONED", False), ("ABANDONED", True), ("ABANDONED", True), ("FAILED", False)]


# --- #6: one channel table -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("channel", "subtype", "ours"), [
    ("CHAT", "connect:SMS", Channel.SMS), ("CHAT", "connect:sms", Channel.SMS),
    ("CHAT", "connect:WhatsApp", Channel.SOCIAL), ("CHAT", "connect:Apple", Channel.SOCIAL),
    ("CHAT", "connect:Facebook", Channel.SOCIAL), ("CHAT", "connect:WebRTC", Channel.VIDEO),
    ("CHAT", "connect:Unknown", Channel.CHAT), ("chat", None, Channel.CHAT), ("VOICE", "connect:SMS", Channel.VOICE),
])
def test_flow_and_ctr_map_a_channel_alike(channel, subtype, ours):
    segment = {"connect:Subtype": {"ValueString": subtype}} if subtype else {}
    event = json.loads((FLOW / "chat_sms.json").read_text())
    event["Details"]["ContactData"].update(Channel=channel, SegmentAttributes=segment)
    ctr = _ctr("sms_chat", Channel=channel, SegmentAttributes=segment)
    assert channel_of(parse_event(event).contact) is ours
    assert to_contact_record(parse_ctr(ctr), tenant_id="t").channel is ours


# --- #3: a customer's Connect contacts are their journey ------------------------------------------------------
def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _ingest_answered(deps, contact_id: str, at: int, *, customer="c-plat", reason="billing", agent="ana",  # noqa: F811
                     initial: str | None = None, next_id: str | None = None) -> None:
    ctr = _ctr("inbound_voice_answered", InstanceARN=INSTANCE, ContactId=contact_id, InitialContactId=initial,
               NextContactId=next_id, InitiationTimestamp=_iso(at), ConnectedToSystemTimestamp=_iso(at),
               DisconnectTimestamp=_iso(at + 600_000), LastUpdateTimestamp=_iso(at + 700_000),
               Attributes={"customer_id": customer, "reason": reason})
    ctr["Queue"] = {**ctr["Queue"], "Name": "sales", "EnqueueTimestamp": _iso(at + 10_000),
                    "DequeueTimestamp": _iso(at + 20_000), "Duration": 10}
    ctr["Agent"] = {**ctr["Agent"], "ARN": f"{INSTANCE}/agent/{agent}", "ConnectedToAgentTimestamp": _iso(at + 20_000),
                    "AfterContactWorkStartTimestamp": _iso(at + 500_000), "AfterContactWorkEndTimestamp": _iso(at + 530_000)}
    assert history.ingest_ctr(deps, json.dumps(ctr).encode()).stored


def test_identify_and_route_see_the_customers_earlier_connect_contacts(deps):  # noqa: F811
    _ingest_answered(deps, "ctr-earlier-1", deps.clock.now_ms() - 3_600_000)
    reply = ask(deps, fixture("voice_inbound", action="identify", reason="billing"))  # the caller is c-plat
    assert (reply["customer_id"], reply["open_repeat_contact"], reply["repeat_contact_id"], reply["last_agent_id"]) == (
        "c-plat", "true", "ctr-earlier-1", "ana")
    reply = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", reason="billing"))
    assert (reply["repeat_contact"], reply["repeat_of"], reply["last_agent_id"]) == ("true", "ctr-earlier-1", "ana")
    assert reply["routing_step_labels"].startswith("last agent ana")


def test_a_contact_in_both_stores_counts_once_and_the_journey_stays_bounded(deps):  # noqa: F811
    now = deps.clock.now_ms()
    for i in range(routing._JOURNEY_DEPTH + 3):
        _ingest_answered(deps, f"ctr-{i:02d}", now - (i + 1) * 3_600_000)
    # c-gold's native past-1 (the Contacts table) is also in history, as its record: one past contact
    deps.history.put_record(record_from_contact(deps.store.get_contact(TENANT, "past-1")))
    gold = routing.journey_of(deps, TENANT, "c-gold", "billing", exclude="")
    assert [p.contact_id for p in gold.history] == ["past-1"]
    plat = routing.journey_of(deps, TENANT, "c-plat", "billing", exclude="")
    assert [p.contact_id for p in plat.history] == [f"ctr-{i:02d}" for i in range(routing._JOURNEY_DEPTH)]


def test_a_connect_transfer_is_not_a_repeat_of_its_own_earlier_segment(deps):  # noqa: F811
    event = fixture("voice_inbound", action="route", queue_id="sales", reason="billing")
    data = event["Details"]["ContactData"]
    first = data["InitialContactId"]
    # the first segment (ana transferred the caller away) is already in history; this is the second segment
    _ingest_answered(deps, first, deps.clock.now_ms() - 700_000, next_id="seg-2")
    data.update(ContactId="seg-2", PreviousContactId=first, InitiationMethod="TRANSFER")
    reply = ask(deps, event)
    assert (reply["repeat_contact"], reply.get("repeat_of"), reply.get("last_agent_id")) == ("false", None, None)
    identify = fixture("voice_inbound", action="identify", reason="billing")
    identify["Details"]["ContactData"].update(ContactId="seg-2", PreviousContactId=first)
    assert ask(deps, identify)["open_repeat_contact"] == "false"
