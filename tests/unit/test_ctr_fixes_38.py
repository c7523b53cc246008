"""Outside findings on Amazon Connect CTR ingestion (fix 38): the reader is total (a surrogate, an overflowing
duration, an overlong id or name, anything unforeseen: the record's rejection with a reason, never a crash), its
reasons never quote the record, TELECOM_ORIGINATOR_CANCEL means what Connect says, and what it stores is bounded
(an undocumented initiation method, long or card-bearing names, a LastUpdateTimestamp from the future)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ccaas.domain.kpis import CtrMapping, FinalState, MalformedContactRecord, parse_ctr, to_contact_record
from ccaas.domain.kpis import ctr as ctr_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"
TENANT = "acme"
CARD = "4111111111111111"
PHONE = "+14155550199"
IDS = ["ContactId", "InitialContactId", "PreviousContactId", "NextContactId", "InstanceARN"]


def raw(name: str = "inbound_voice_answered.json") -> dict:
    return json.loads((FIXTURES / name).read_text())


def mapped(data: dict | str | bytes, **mapping):
    return to_contact_record(parse_ctr(data), tenant_id=TENANT, mapping=CtrMapping(**mapping))


def rejected(data: dict | str | bytes, **mapping) -> MalformedContactRecord:
    with pytest.raises(MalformedContactRecord) as caught:
        mapped(data, **mapping)
    return caught.value


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


# --- #2: the reader is total --------------------------------------------------------------------------------
def test_a_lone_surrogate_in_an_attribute_or_a_name_is_read_as_u_fffd_and_the_record_serializes():
    data = raw()
    data["Attributes"]["reason"] = "caf\ud800e"
    data["Queue"]["Name"] = "Sal\udc00es"
    data["Agent"]["HierarchyGroups"]["Level2"]["GroupName"] = "Ea\ud83dst"
    text = json.dumps(data)  # ensure_ascii: the "\ud800" escapes a JavaScript producer sends
    record = mapped(text)
    assert (record.reason, record.queue_id, record.team) == ("caf\ufffde", "Sal\ufffdes", "Ea\ufffdst")
    record.model_dump_json()  # the history write serializes it: "surrogates not allowed" before
    record.reason.encode("utf-8")


@pytest.mark.parametrize("field", IDS)
def test_an_id_holding_a_lone_surrogate_is_refused_naming_it(field):
    data = raw()
    data[field] = "0a4a8c1e-1111-4c6e-9a52-3f1d2b7e\ud800"
    error = rejected(json.dumps(data))
    assert error.reason.startswith(f"{field}: ") and "surrogate" in error.reason
    # the rejection (logged) carries no id that is itself the fault
    assert error.contact_id == (None if field == "ContactId" else data["ContactId"])


@pytest.mark.parametrize(("section", "field"), [
    ("Queue", "Duration"), ("Agent", "CustomerHoldDuration"), ("Agent", "AgentInteractionDuration"),
    ("Agent", "AfterContactWorkDuration"),
])
def test_a_finite_duration_no_contact_has_is_refused_naming_it_not_an_overflow(section, field):
    data = raw()
    data[section][field] = 1e308  # finite: allow_inf_nan let it through; in ms, round() raised OverflowError
    error = rejected(data)
    assert error.reason.startswith(f"{section}.{field}: ") and error.contact_id == data["ContactId"]
    data[section][field] = ctr_module.MAX_DURATION_S + 1
    assert rejected(data).reason.startswith(f"{section}.{field}: ")


def test_a_hold_count_no_store_holds_is_refused_naming_it():
    data = raw()
    data["Agent"]["NumberOfHolds"] = 10**40  # over DynamoDB's 38 digits
    assert rejected(data).reason.startswith("Agent.NumberOfHolds: ")


def test_an_integer_past_pythons_digit_limit_is_not_json_not_a_crash():
    text = json.dumps(raw()).replace('"NumberOfHolds": 2', '"NumberOfHolds": ' + "9" * 5000)
    assert rejected(text).reason.startswith("not JSON")


@pytest.mark.parametrize("field", IDS)
def test_an_id_longer_than_connects_is_refused_naming_it(field):
    data = raw()
    data[field] = "L" * 3000  # a ContactId of 3,000 characters was past DynamoDB's 2,048-byte key: a crash
    error = rejected(data)
    assert error.reason.startswith(f"{field}: ") and "256" in error.reason
    assert error.contact_id == (None if field == "ContactId" else data["ContactId"])
    assert "L" * 300 not in str(error)
    data[field] = "L" * 256  # Connect's own bound on its ids is kept
    mapped(data)


def test_anything_else_the_mapping_raises_is_the_records_rejection_with_its_type(monkeypatch):
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("from a value of the record")

    monkeypatch.setattr(ctr_module, "_agent_part", broken)
    error = rejected(raw())
    assert error.reason == "cannot be mapped (ZeroDivisionError)" and error.contact_id == raw()["ContactId"]
    assert "value of the record" not in str(error)


# --- #3: a reason never quotes the record ---------------------------------------------------------------------
@pytest.mark.parametrize("mutate", [
    lambda d: d.update(InitiationTimestamp=f"call me {PHONE} card {CARD}"),
    lambda d: d["Queue"].update(EnqueueTimestamp=f"call me {PHONE} card {CARD}"),
    lambda d: d.update(Channel=f"call me {PHONE} card {CARD}"),
    lambda d: d.update(LastUpdateTimestamp=f"{CARD}"),
])
def test_a_rejection_names_the_field_and_never_quotes_the_record(mutate):
    data = raw()
    mutate(data)
    error = rejected(data)
    assert CARD not in str(error) and PHONE not in str(error) and CARD not in error.reason


def test_bytes_that_are_not_utf8_are_not_quoted():
    error = rejected(b'{"ContactId": "x", "Channel": "\xff\xfe"}')
    assert error.reason == "not JSON: not UTF-8 text"


def test_a_hierarchy_key_the_record_chose_is_never_an_error_location():
    data = raw()
    data["Agent"]["HierarchyGroups"][CARD] = 5  # not a level: ignored (its key was the error's location before)
    assert mapped(data).team == "East"


# --- #4: TELECOM_ORIGINATOR_CANCEL is Connect's "cancelled by the originating party before the connection" -------
@pytest.mark.parametrize(("method", "state", "abandoned"), [
    ("INBOUND", FinalState.ABANDONED, True),  # the customer placed the call and hung up before an agent
    ("WEBRTC_API", FinalState.ABANDONED, True),
    ("TRANSFER", FinalState.ABANDONED, True),
    ("OUTBOUND", FinalState.FAILED, False),  # we placed it: our side cancelled, or 60 s unanswered
    ("CALLBACK", FinalState.FAILED, False),
    ("API", FinalState.FAILED, False),
])
def test_originator_cancel_is_the_customers_abandon_only_on_a_call_the_customer_placed(method, state, abandoned):
    data = raw("inbound_voice_abandoned.json")
    data.update(DisconnectReason="TELECOM_ORIGINATOR_CANCEL", InitiationMethod=method)
    record = mapped(data)
    assert (record.final_state, record.abandoned, record.timed_out, record.offered) == (state, abandoned, False, True)


# --- #5: what is stored is bounded ---------------------------------------------------------------------------
def test_an_undocumented_initiation_method_is_stored_as_unknown_never_as_sent():
    data = raw()
    data["InitiationMethod"] = CARD
    assert mapped(data).initiation_method == "UNKNOWN"
    data["InitiationMethod"] = "disconnect"
    assert mapped(data).initiation_method == "DISCONNECT"


@pytest.mark.parametrize(("path", "mapping"), [
    (("Agent", "HierarchyGroups", "Level1", "GroupName"), {"team_hierarchy_level": 1}),
    (("Queue", "Name"), {}),
    (("Agent", "Username"), {"agent_key": "username"}),
    (("Queue", "ARN"), {}),
    (("CustomerEndpoint", "Address"), {"customer_id_from_endpoint": True}),
])
def test_a_connect_name_longer_than_connect_allows_is_refused_naming_it(path, mapping):
    data = raw()
    *parents, leaf = path
    section = data
    for key in parents:
        section = section[key]
    section[leaf] = "t" * 390_000  # a team name of 390,000 characters became a dimension of the KPI CSV
    error = rejected(data, **mapping)
    assert error.reason.startswith(".".join(path) + ": ") and "t" * 300 not in str(error)
    section[leaf] = "t" * 256
    mapped(data, **mapping)


def test_a_long_attribute_label_is_cut_and_a_long_customer_id_dropped():
    data = raw()
    data["Attributes"].update(reason="r" * 5000, segment="s" * 300, customer_id="c" * 300)
    record = mapped(data)
    assert (record.reason, record.segment, record.customer_id) == ("r" * 256, "s" * 256, None)


def test_a_team_name_holding_a_card_number_is_stored_redacted():
    data = raw()
    data["Agent"]["HierarchyGroups"]["Level2"]["GroupName"] = f"East {CARD}"
    team = mapped(data).team
    assert team and team.startswith("East") and CARD not in team


@pytest.mark.parametrize(("path", "mapping", "field"), [
    (("Queue", "Name"), {}, "Queue.Name"),
    (("Queue", "Name"), {"queue_key": "id"}, None),  # the ARN's id is the queue's: the name is not stored
    (("Agent", "Username"), {"agent_key": "username"}, "Agent.Username"),
    (("Agent", "Username"), {}, None),  # the ARN's id is the agent's: the user name is not stored
])
def test_a_name_that_would_be_an_id_holding_a_card_number_is_refused_naming_it(path, mapping, field):
    data = raw()
    data[path[0]][path[1]] = f"card {CARD}"
    if field is None:
        record = mapped(data, **mapping)
        assert CARD not in record.model_dump_json()
        return
    error = rejected(data, **mapping)
    assert error.reason == f"{field} holds a card or social security number" and CARD not in str(error)


def test_a_time_ahead_of_the_readers_now_is_refused_naming_it():
    data = raw()
    now = ms("2026-11-20T15:11:00")
    assert parse_ctr(data, now_ms=now).LastUpdateTimestamp == ms("2026-11-20T15:10:40")
    data["LastUpdateTimestamp"] = "2099-01-01T00:00:00Z"  # the newest copy for good: every correction "stale"
    with pytest.raises(MalformedContactRecord) as caught:
        parse_ctr(data, now_ms=now)
    assert caught.value.reason == "LastUpdateTimestamp: more than 5 minutes ahead of now"
    data["LastUpdateTimestamp"] = "2026-11-20T15:15:59Z"  # within a clock's drift
    assert parse_ctr(data, now_ms=now).LastUpdateTimestamp == ms("2026-11-20T15:15:59")
    data["Agent"]["AfterContactWorkEndTimestamp"] = "2026-11-21T00:00:00Z"
    with pytest.raises(MalformedContactRecord) as caught:
        parse_ctr(data, now_ms=now)
    assert caught.value.reason.startswith("Agent.AfterContactWorkEndTimestamp: more than")
