"""Amazon Connect contact records (tests/fixtures/ctr) → ContactRecord."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ccaas.domain.kpis import (
    Channel,
    CtrMapping,
    FinalState,
    MalformedContactRecord,
    contact_records_from_ctrs,
    dedupe_latest,
    parse_ctr,
    rollup,
    to_contact_record,
)
from ccaas.domain.kpis.ctr import parse_timestamp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"
TENANT = "acme"


def raw(name: str):
    return json.loads((FIXTURES / name).read_text())


def mapped(name: str, **mapping) -> object:
    return to_contact_record(parse_ctr(raw(name)), tenant_id=TENANT, mapping=CtrMapping(**mapping))


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_timestamps_with_and_without_milliseconds_or_offset():
    assert parse_timestamp("2026-11-20T10:15:02Z") == ms("2026-11-20T10:15:02")
    assert parse_timestamp("2026-11-20T10:15:02.250Z") == ms("2026-11-20T10:15:02") + 250
    assert parse_timestamp("2026-11-20T05:15:02-05:00") == ms("2026-11-20T10:15:02")
    assert parse_timestamp("2026-11-20T10:15:02") == ms("2026-11-20T10:15:02")  # naive = UTC
    assert parse_timestamp(None) is None and parse_timestamp("") is None


def test_inbound_voice_answered():
    r = mapped("inbound_voice_answered.json")
    assert (r.tenant_id, r.contact_id, r.channel, r.initiation_method) == (
        TENANT, "0a4a8c1e-1111-4c6e-9a52-3f1d2b7e0001", Channel.VOICE, "INBOUND")
    assert r.queue_id == "Sales"  # Queue.Name (no tenant mapping given; see test_the_queue_is_ours_by_...)
    assert r.agent_id == "6c7d8e9f-ann0-4a00-9000-000000000001"
    assert r.team == "East"  # deepest hierarchy level present (Level2)
    assert (r.reason, r.segment, r.customer_id, r.skill) == ("billing", "gold", "cust-0042", "billing_en")
    assert (r.csat, r.nps, r.ces) == (5, 9, None)
    assert r.final_state is FinalState.COMPLETED and not r.transferred
    assert r.enqueued_at == ms("2026-11-20T15:02:31") + 250
    assert r.connected_at == ms("2026-11-20T15:02:49") + 250
    assert r.disconnected_at == ms("2026-11-20T15:09:04") + 250  # agent's ACW start
    assert r.acw_ended_at == ms("2026-11-20T15:09:34") + 250
    assert (r.hold_ms, r.hold_count) == (45_000, 2)
    assert r.last_updated_at == ms("2026-11-20T15:10:40")
    # Queue.Duration 18 s; Connect's handle time = AgentInteractionDuration 330 + hold 45 + ACW 30 = 405 s
    assert r.queue_wait_ms == 18_000
    assert (r.talk_ms, r.acw_ms, r.handle_ms) == (330_000, 30_000, 405_000)


def test_handle_time_is_connects_durations_when_its_timestamps_disagree():
    """Connect's durations are whole seconds and its timestamps are not: they can differ by seconds.
    Handle time = AgentInteractionDuration + CustomerHoldDuration + AfterContactWorkDuration (DOMAIN.md)."""
    data = raw("inbound_voice_answered.json")
    agent = data["Agent"]  # connected 15:02:49.250; interaction 330 s, hold 45 s, ACW 30 s
    agent["AfterContactWorkStartTimestamp"] = "2026-11-20T15:09:06.900Z"  # 377.65 s after connection, not 375
    agent["AfterContactWorkEndTimestamp"] = "2026-11-20T15:09:38.100Z"  # 31.2 s of ACW by the clock, not 30
    r = to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert (r.talk_ms, r.hold_ms, r.acw_ms, r.handle_ms) == (330_000, 45_000, 30_000, 405_000)
    assert r.connected_at == ms("2026-11-20T15:02:49") + 250  # the answer time (ASA, SL) stays Connect's
    assert r.completed_at == r.connected_at + 405_000
    (day,) = rollup([r], tz="America/New_York", interval="day",
                    from_ms=ms("2026-11-20T05:00:00"), to_ms=ms("2026-11-21T05:00:00"))
    assert (day.aht_s, day.avg_acw_s) == (405.0, 30.0)
    # a duration Connect left out falls back to the timestamps; the others still win
    del agent["AfterContactWorkDuration"]
    r = to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert (r.talk_ms, r.hold_ms, r.acw_ms) == (330_000, 45_000, 31_200)
    del agent["AgentInteractionDuration"]
    r = to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert r.disconnected_at == ms("2026-11-20T15:09:06") + 900 and r.acw_ms == 31_200


def test_queue_wait_is_connects_queue_duration_not_its_timestamps():
    """Queue.Duration is the time in queue (DOMAIN.md: queue wait = Queue.Duration). The agent's phone rang
    7 s after the dequeue; a caller left 6 s after a flow took them out of the queue. Neither is queue wait,
    and talk/handle time and the completion stay Connect's."""
    answered = raw("inbound_voice_answered.json")  # enqueued 15:02:31.250, Duration 18 s
    answered["Agent"]["ConnectedToAgentTimestamp"] = "2026-11-20T15:02:56.250Z"
    abandoned = raw("inbound_voice_abandoned.json")  # enqueued 15:04:10
    abandoned["Queue"].update(Duration=15, DequeueTimestamp="2026-11-20T15:04:25Z")
    abandoned["DisconnectTimestamp"] = "2026-11-20T15:04:31Z"
    a = to_contact_record(parse_ctr(answered), tenant_id=TENANT)
    b = to_contact_record(parse_ctr(abandoned), tenant_id=TENANT)
    assert (a.queue_wait_ms, b.queue_wait_ms) == (18_000, 15_000)
    assert a.connected_at == ms("2026-11-20T15:02:56") + 250 and (a.talk_ms, a.handle_ms) == (330_000, 405_000)
    assert b.disconnected_at == ms("2026-11-20T15:04:31")
    (day,) = rollup([a, b], tz="UTC", interval="day", from_ms=ms("2026-11-20T00:00:00"),
                    to_ms=ms("2026-11-21T00:00:00"))
    assert (day.asa_s, day.answered_within_sl, day.service_level) == (18.0, 1, 1.0)  # T = 20 s
    assert (day.avg_time_to_abandon_s, day.abandoned_within_sl) == (15.0, 1)
    # A Duration the timestamps cannot hold, or none, leaves the timestamps (enqueue → connect: 25 s).
    for duration in (40, None):
        answered["Queue"]["Duration"] = duration
        r = to_contact_record(parse_ctr(answered), tenant_id=TENANT)
        assert r.enqueued_at == ms("2026-11-20T15:02:31") + 250 and r.queue_wait_ms == 25_000


def test_the_queue_is_ours_by_the_tenants_arn_map_or_by_its_name():
    data = raw("inbound_voice_answered.json")  # Queue.Name "Sales", ARN …/queue/5d1e1b1a-sales-…
    arn = data["Queue"]["ARN"]

    def queue_id(**mapping):
        return to_contact_record(parse_ctr(data), tenant_id=TENANT, mapping=CtrMapping(**mapping)).queue_id

    assert queue_id(queue_ids_by_arn={arn: "inbound-sales"}, known_queue_ids={"sales"}) == "inbound-sales"
    assert queue_id(known_queue_ids={"sales", "support"}) == "sales"  # Name, lower-cased when that is our queue
    assert queue_id(known_queue_ids={"Sales", "sales"}) == "Sales"  # the Name as is first
    assert queue_id() == "Sales"  # a queue we do not configure keeps its Connect name
    assert queue_id(queue_key="id") == "5d1e1b1a-sales-4f00-8000-000000000001"  # a tenant whose ids are Connect's
    assert queue_id(queue_key="id", queue_ids_by_arn={arn: "sales"}) == "sales"  # the tenant's map first
    data["Queue"]["Name"] = None
    assert queue_id() == "5d1e1b1a-sales-4f00-8000-000000000001"  # nothing else to go by


def test_inbound_voice_abandoned_with_null_agent():
    r = mapped("inbound_voice_abandoned.json")
    assert r.final_state is FinalState.ABANDONED and r.abandoned
    assert r.agent_id is None and r.team is None and r.connected_at is None
    assert r.queue_wait_ms == 52_000  # DisconnectTimestamp − EnqueueTimestamp = Queue.Duration
    assert r.handle_ms == 0


def test_chat_with_alternate_attribute_keys_and_null_hold():
    r = mapped("chat_answered.json")
    assert (r.channel, r.initiation_method) == (Channel.CHAT, "API")
    assert (r.reason, r.segment, r.ces) == ("order_status", "standard", 2)  # contact_reason, customer_segment
    assert r.team == "Chat Pod 3"
    assert (r.hold_ms, r.hold_count) == (0, 0)
    # Connect's AgentInteractionDuration 610 s (its clock says 15:11:20.100 → 15:21:30.600 = 610.5 s), + 60 s ACW
    assert (r.talk_ms, r.acw_ms, r.handle_ms) == (610_000, 60_000, 670_000)


def test_sms_arrives_as_chat_with_a_subtype():
    r = mapped("sms_chat.json")
    assert r.channel is Channel.SMS
    assert r.customer_id is None  # no customer_id attribute, endpoint fallback off by default
    assert mapped("sms_chat.json", customer_id_from_endpoint=True).customer_id == "+12025550199"


def test_transfer_to_a_queue_links_two_contacts():
    leg1, leg2 = mapped("voice_transfer_leg1.json"), mapped("voice_transfer_leg2.json")
    assert leg1.final_state is FinalState.TRANSFERRED and leg1.transferred
    assert leg1.disconnected_at == ms("2026-11-20T15:24:00")  # the agent's part, not the 15:31:10 disconnect
    assert leg1.handle_ms == (240 + 20) * 1000
    assert (leg2.initiation_method, leg2.previous_contact_id, leg2.initial_contact_id) == (
        "TRANSFER", leg1.contact_id, leg1.contact_id)
    assert leg2.final_state is FinalState.COMPLETED and leg2.queue_id == "Billing"
    assert leg2.csat == 4


def test_transfer_to_an_external_number_counts_only_the_agent_part():
    r = mapped("voice_transfer_external.json")
    assert r.final_state is FinalState.TRANSFERRED and r.transferred
    # 15:20:32 → 15:28:12 = 460 s − 221 s hold = 239 s = AgentInteractionDuration; + 221 + ACW 5
    assert (r.talk_ms, r.hold_ms, r.acw_ms) == (239_000, 221_000, 5_000)
    assert r.queue_wait_ms == 346_000


def test_queued_callback():
    original, callback = mapped("callback_requested.json"), mapped("callback_contact.json")
    assert original.final_state is FinalState.CALLBACK_SCHEDULED
    assert not original.abandoned and not original.transferred and original.offered
    assert callback.initiation_method == "CALLBACK" and callback.previous_contact_id == original.contact_id
    assert callback.final_state is FinalState.COMPLETED
    assert callback.queue_wait_ms == 21_000  # 16:38:39 → 16:39:00
    # without the flag the original is a queue transfer (it has a successor), still not an abandon
    plain = copy.deepcopy(raw("callback_requested.json"))
    del plain["Attributes"]["callback_requested"]
    r = to_contact_record(parse_ctr(plain), tenant_id=TENANT)
    assert r.final_state is FinalState.TRANSFERRED and not r.abandoned


def test_null_sections_and_unknown_fields_are_fine():
    r = mapped("self_service_null_sections.json")
    assert r.queue_id is None and r.agent_id is None and r.reason is None
    assert r.final_state is FinalState.COMPLETED  # ended in the IVR
    assert not r.offered and not r.handled
    # unknown top-level and nested fields are ignored
    data = raw("inbound_voice_answered.json")
    data["SomethingAdded2027"] = {"deep": [1, {"x": None}]}
    data["Agent"]["NewAgentMetric"] = 3.5
    assert to_contact_record(parse_ctr(data), tenant_id=TENANT) == mapped("inbound_voice_answered.json")


def test_unknown_initiation_methods_are_unknown_and_connect_variants_fold():
    # an undocumented method is stored as UNKNOWN, as a missing one, never as sent (it is the record's text)
    data = raw("inbound_voice_abandoned.json")
    for method, expected in [("FLOW", "FLOW"), ("QUEUE_TRANSFER", "TRANSFER"), ("EXTERNAL_OUTBOUND", "OUTBOUND"),
                             ("SOMETHING_NEW", "UNKNOWN"), (None, "UNKNOWN"), ("monitor", "MONITOR")]:
        data["InitiationMethod"] = method
        assert to_contact_record(parse_ctr(data), tenant_id=TENANT).initiation_method == expected


def test_mapping_options():
    r = mapped("chat_answered.json", team_hierarchy_level=1, queue_key="name", agent_key="username",
               sl_threshold_s_by_queue={"Support": 45})
    assert (r.team, r.queue_id, r.agent_id, r.sl_threshold_s) == ("Americas", "Support", "bob.diaz", 45)
    r = mapped("chat_answered.json", reason_keys=("intent",))
    assert r.reason is None


def test_bad_survey_values_are_ignored_not_fatal():
    data = raw("inbound_voice_answered.json")
    data["Attributes"].update({"csat": "excellent", "nps": "11", "ces": "4.0"})
    r = to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert (r.csat, r.nps, r.ces) == (None, None, 4)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("ContactId"), "missing ContactId"),
        (lambda d: d.update(ContactId=""), "missing ContactId"),
        (lambda d: d.update(ContactId=None), "missing ContactId"),
        (lambda d: d.update(InitiationTimestamp="20/11/2026 10:15"), "InitiationTimestamp: not an ISO 8601 timestamp"),
        (lambda d: d["Queue"].update(EnqueueTimestamp="yesterday"), "Queue.EnqueueTimestamp: not an ISO 8601 timestamp"),
        (lambda d: d.update(LastUpdateTimestamp=1795186800), "LastUpdateTimestamp: timestamp must be"),
    ],
)
def test_malformed_records_raise_with_a_reason(mutate, reason):
    data = raw("inbound_voice_answered.json")
    mutate(data)
    with pytest.raises(MalformedContactRecord) as caught:
        parse_ctr(data)
    assert caught.value.reason.startswith(reason)


@pytest.mark.parametrize(
    ("name", "mutate", "reason"),
    [
        # an abandon 8,000 years long: its queue wait became the queue's patience estimate, and Erlang A's
        # what-if for that queue computed for minutes
        ("inbound_voice_abandoned.json", lambda d: d.update(DisconnectTimestamp="9999-12-31T23:59:59Z"), "a time outside"),
        ("inbound_voice_abandoned.json", lambda d: d.update(InitiationTimestamp="1999-12-31T23:59:59Z"), "a time outside"),
        ("inbound_voice_abandoned.json", lambda d: d.update(DisconnectTimestamp="2026-12-20T15:05:02Z"), "its times span 30.0 days"),
        # a duration that disagrees with every timestamp (talk of 31 years): refused as read, naming it
        ("inbound_voice_answered.json", lambda d: d["Agent"].update(AgentInteractionDuration=1e9),
         "Agent.AgentInteractionDuration: Input should be less than or equal to"),
        # one within the bound that the timestamps cannot hold still is
        ("inbound_voice_answered.json", lambda d: d["Agent"].update(AgentInteractionDuration=15 * 86_400),
         "its times span"),
    ],
)
def test_records_whose_times_no_contact_could_have_are_malformed(name, mutate, reason):
    data = raw(name)
    mutate(data)
    with pytest.raises(MalformedContactRecord) as caught:
        to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert caught.value.reason.startswith(reason) and caught.value.contact_id == data["ContactId"]
    # a long but possible contact (a chat of six days) is a record like any other
    data = raw("inbound_voice_abandoned.json")
    data.update(DisconnectTimestamp="2026-11-26T15:05:02Z")
    assert to_contact_record(parse_ctr(data), tenant_id=TENANT).disconnected_at == ms("2026-11-26T15:05:02")


def test_malformed_payloads():
    with pytest.raises(MalformedContactRecord, match="not JSON"):
        parse_ctr(b"{not json")
    with pytest.raises(MalformedContactRecord, match="not a JSON object"):
        parse_ctr("[1, 2]")
    with pytest.raises(MalformedContactRecord, match="nested too deeply"):  # a RecursionError in the decoder
        parse_ctr(b'{"ContactId": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    data = raw("inbound_voice_abandoned.json")
    data["Channel"] = "CARRIER_PIGEON"
    with pytest.raises(MalformedContactRecord, match="unsupported Channel") as caught:
        to_contact_record(parse_ctr(data), tenant_id=TENANT)
    assert caught.value.contact_id == data["ContactId"]
    # JSON text (as decoded from a Kinesis record) is accepted too
    assert parse_ctr(json.dumps(raw("chat_answered.json")).encode()).ContactId == "0a4a8c1e-3333-4c6e-9a52-3f1d2b7e0003"


def test_dedupe_keeps_the_latest_copy_per_contact_in_first_seen_order():
    # stream: X@15:10:40, Y, X@2026-11-21T09:30:00.500, Z, X@16:00, Y (exact dup), Z (tie, ces 7), X@15:10:40
    ctrs = dedupe_latest(raw("stream_at_least_once.json"))
    assert [c.ContactId[-4:] for c in ctrs] == ["0001", "0002", "0003"]
    x, y, z = ctrs
    assert x.LastUpdateTimestamp == ms("2026-11-21T09:30:00") + 500 and x.Attributes["csat"] == "4"
    assert y.LastUpdateTimestamp == ms("2026-11-20T15:05:40")
    assert z.Attributes["ces"] == "2"  # tie on LastUpdateTimestamp: the first seen wins


def test_dedupe_of_any_order_gives_the_same_result():
    stream = raw("stream_at_least_once.json")
    expected = {c.ContactId: c for c in dedupe_latest(stream)}
    for order in (stream[::-1], stream[3:] + stream[:3]):
        got = {c.ContactId: c for c in dedupe_latest(order)}
        assert {k: v.LastUpdateTimestamp for k, v in got.items()} == {
            k: v.LastUpdateTimestamp for k, v in expected.items()}
        assert got["0a4a8c1e-1111-4c6e-9a52-3f1d2b7e0001"] == expected["0a4a8c1e-1111-4c6e-9a52-3f1d2b7e0001"]


def test_a_batch_end_to_end_with_one_bad_record():
    batch = raw("stream_at_least_once.json") + [{"Channel": "VOICE"}, b"\x00garbage"]
    records, errors = contact_records_from_ctrs(batch, tenant_id=TENANT)
    assert len(records) == 3 and [e.reason for e in errors][0] == "missing ContactId"
    assert len(errors) == 2
    by_id = {r.contact_id[-4:]: r for r in records}
    assert by_id["0001"].csat == 4


def test_fixtures_roll_up():
    names = ["inbound_voice_answered.json", "inbound_voice_abandoned.json", "chat_answered.json", "sms_chat.json",
             "voice_transfer_leg1.json", "voice_transfer_leg2.json", "voice_transfer_external.json",
             "callback_requested.json", "callback_contact.json", "self_service_null_sections.json"]
    records, errors = contact_records_from_ctrs([raw(n) for n in names], tenant_id=TENANT)
    assert not errors
    (day,) = rollup(records, tz="America/New_York", interval="day",
                    from_ms=ms("2026-11-20T05:00:00"), to_ms=ms("2026-11-21T05:00:00"))
    # offered: every record with a Queue (9; the self-service one has none); answered: 7 (all but the
    # abandon and the callback request); abandoned: 1; transferred of handled: leg1 + external = 2
    assert (day.offered, day.answered, day.abandoned, day.handled, day.transferred) == (9, 7, 1, 7, 2)


@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e400"])
def test_a_non_finite_duration_is_a_malformed_record_not_an_arithmetic_error(value):
    """Python's JSON reads Infinity, NaN and 1e400 as floats: before, round() raised OverflowError/ValueError after
    parsing, and the record failed unclassified instead of being rejected with its reason (outside review)."""
    for section, field in (("Queue", "Duration"), ("Agent", "AgentInteractionDuration")):
        text = json.dumps(raw("inbound_voice_answered.json")).replace(
            f'"{field}": ', f'"{field}": {value}, "was": ', 1)
        with pytest.raises(MalformedContactRecord, match=field):
            to_contact_record(parse_ctr(text), tenant_id=TENANT)
