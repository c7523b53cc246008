"""Follow-ups of fix 38 (found while fixing its neighbours), on the in-memory twins (API tier:
tests/handlers/test_followups_38.py).

1. a queue stored with a skill "language:" rendered into Connect's routing criteria as "Value": "" (refused);
2. a campaign's required_skills took "language:" (queues, agents and conditions refuse it);
3. a campaign's blackout dates (and a window's weekdays) answered in an order that followed the process's hash seed;
4. errors quoted caller values of 13 or more digits (a live segment's end_ms, a time zone, ids, a row's number);
5. an e-mail suppression was only lower-cased, while list rows' e-mails are read as the customer directory reads one;
6. the dial-outcome consumer read contact records with its own json.loads, without the CTR reader's bounds;
7. the contact-flow adapter's validation message showed a caller's key holding an @ or digits."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, PlainSerializer, ValidationError


from ccaas.bootstrap import memory_dependencies
from ccaas.domain.connect_flow import expression, routing_criteria
from ccaas.domain.kpis.ctr import MalformedContactRecord
from ccaas.domain.models import (
    AgentProfile,
    Channel,
    Contact,
    ContactState,
    DomainError,
    InitiationMethod,
    Queue,
    SkillRequirement,
)
from ccaas.domain.outbound.compliance import Suppression, SuppressionSet
from ccaas.domain.outbound.lists import parse_csv
from ccaas.domain.outbound.models import Campaign, CheckName, ContactListRow, PhoneEntry, valid_zone
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.conditions import AllOf, AnyOf, NotOf, SkillAtLeast
from ccaas.domain.routing_engine.steps import plan_contact
from ccaas.domain.vocabulary import sorted_members
from ccaas.usecases import admin, alerts, connect_flow, customers, outbound
from ccaas.usecases.alerts import LiveTranscriptPost
from ccaas.usecases.outbound import (
    CampaignPatch,
    CampaignRequest,
    DispositionRequest,
    ListUpload,
    SuppressionEntry,
    SuppressionRequest,
)
from tests.outbound_builders import simulated_dialing_deps
from tests.unit.hash_seeds import answers_per_hash_seed

T = "t38"
NOW = datetime.fromtimestamp(1_764_000_000, tz=timezone.utc)  # the twins' FixedClock: 11:00 in New York
CARD = "4111111111111111"
CARD_SHAPED = re.compile(r"\d{13}")
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/1b2c3d4e-0000-4000-8000-000000000001"


# --- 1. a valueless skill in Connect's routing criteria ------------------------------------------------------------

def _values(node: Any) -> list[Any]:
    """Every "Value" of the rendered criteria, however deep."""
    if isinstance(node, dict):
        return [v for k, child in node.items() for v in ([child] if k == "Value" else _values(child))]
    if isinstance(node, list):
        return [v for child in node for v in _values(child)]
    return []


def test_the_flow_leaves_a_stored_valueless_skill_out_of_the_criteria_and_says_so():
    from tests.unit.test_connect_flow import INSTANCE as FLOW_INSTANCE, fixture

    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name="Probe 38")
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=FLOW_INSTANCE)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="intl", name="International", channels=frozenset({Channel.VOICE}),
                                required_skills=(SkillRequirement(skill="billing"), SkillRequirement(skill="language:"))))
    customers.put_customer(deps, T, "c-plat", customers.CustomerProfile(tier="platinum", phones=["+1 415 555 0100"]))
    reply, _ = connect_flow.answer(lambda: deps, fixture("voice_inbound", action="route", queue_id="intl"))
    assert reply["status"] == "ok", reply
    criteria = json.loads(reply["routing_criteria"])
    assert "" not in _values(criteria) and "billing" in _values(criteria), criteria  # Connect refuses "Value": ""
    assert "'language:' has no value after ':'" in reply["routing_notes"], reply


@pytest.mark.parametrize(("condition", "rendered"), [
    (AnyOf(any=(SkillAtLeast(skill="lang:es"), SkillAtLeast(skill="language:"))), ["es"]),
    (AllOf(all=(SkillAtLeast(skill="billing", min=2), NotOf(not_=SkillAtLeast(skill="language:")))), ["billing"]),
    (NotOf(not_=AnyOf(any=(SkillAtLeast(skill="language:"), SkillAtLeast(skill="vip")))), ["vip"]),
    (AllOf(all=(SkillAtLeast(skill="language:"), SkillAtLeast(skill="x.y:", min=3))), []),
])
def test_every_expression_leaves_a_valueless_skill_out_and_names_it(condition, rendered):
    left_out: list[str] = []
    expressed = expression(condition, left_out=left_out)
    assert _values(expressed) == rendered and "" not in _values(expressed)
    assert set(left_out) <= {"language:", "x.y:"} and left_out


def test_a_step_asking_only_for_a_valueless_skill_lets_any_agent_take_the_contact():
    queue = Queue(tenant_id=T, queue_id="q", name="Q", required_skills=(SkillRequirement(skill="language:"),))
    policy = RoutingPolicy.model_validate({"segments": {"platinum": {"first_step_min_proficiency": 4}}})
    criteria, notes = routing_criteria(plan_contact(queue, policy, "platinum", None, 0))
    assert "" not in _values(criteria)
    assert any("'language:'" in note and "left out" in note for note in notes), notes


def test_a_card_shaped_valueless_skill_is_named_in_no_note():
    queue = Queue(tenant_id=T, queue_id="q", name="Q", required_skills=(SkillRequirement(skill=f"{CARD}:"),))
    policy = RoutingPolicy.model_validate({"segments": {"platinum": {"first_step_min_proficiency": 4}}})
    _, notes = routing_criteria(plan_contact(queue, policy, "platinum", None, 0))
    assert notes and not any(CARD_SHAPED.search(note) for note in notes), notes


# --- 2. a campaign's required skill has its value ------------------------------------------------------------------

CAMPAIGN = {"campaign_id": "c1", "name": "c1", "mode": "progressive", "queue_id": "sales", "caller_id": "+12125550199"}


def test_a_campaign_requiring_a_skill_without_its_value_is_refused_naming_it():
    skills = [{"skill": "billing"}, {"skill": "language:"}]
    for model, body in ((CampaignRequest, {**CAMPAIGN, "required_skills": skills}),
                        (CampaignPatch, {"required_skills": skills})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(body)
        (problem,) = refused.value.errors()
        assert problem["loc"] == ("required_skills", 1, "skill") and "no value after ':'" in problem["msg"]
    taken = CampaignRequest.model_validate({**CAMPAIGN, "required_skills": [{"skill": "language:es",
                                                                             "min_proficiency": 3}]})
    assert taken.required_skills[0].skill == "language:es"


def test_a_campaign_stored_with_such_a_skill_still_loads_and_takes_a_patch():
    deps = _dialing()
    stored = Campaign.model_validate({**CAMPAIGN, "campaign_id": "old", "required_skills": [{"skill": "language:"}]})
    deps.outbound.put_campaign(T, stored, expected_version=None)
    patched = outbound.update_campaign(deps, T, "old", CampaignPatch(name="renamed"))
    assert patched.name == "renamed" and patched.required_skills[0].skill == "language:"


# --- 3. sets answered sorted, whatever the process's hash seed -------------------------------------------------------

_DUMP = """
import sys
sys.path.insert(0, sys.argv[1])
from ccaas.domain.outbound.models import Campaign
days = [f"2026-{m:02d}-{d:02d}" for m in (12, 1, 7, 3) for d in (31, 1, 15, 9, 22) if not (m == 12 and d == 31)]
campaign = Campaign.model_validate({"campaign_id": "c1", "name": "c1", "mode": "progressive", "queue_id": "sales",
                                    "caller_id": "+12125550199", "blackout_dates": days,
                                    "window": {"weekdays": [7, 5, 3, 1, 2]},
                                    "state_windows": {"NY": {"weekdays": [6, 1, 4]}}})
print(campaign.model_dump_json())
"""


def test_a_campaign_reads_back_the_same_sorted_sets_whatever_the_process_hash_seed():
    (answer,) = answers_per_hash_seed(_DUMP)  # one stored campaign, one answer
    campaign = json.loads(answer)
    for values in (campaign["blackout_dates"], campaign["window"]["weekdays"], campaign["state_windows"]["NY"]["weekdays"]):
        assert values == sorted(values)


def _parts(annotation: Any, metadata: tuple = ()) -> list[tuple[Any, tuple]]:
    """The types an annotation is made of (through Optional, Annotated, tuples and dicts), each with the
    Annotated metadata around it."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *more = get_args(annotation)
        return _parts(inner, (*metadata, *more))
    if origin in (Union, UnionType):
        return [p for arg in get_args(annotation) for p in _parts(arg, metadata)]
    if origin in (tuple, dict):
        return [p for arg in get_args(annotation) if arg is not Ellipsis for p in _parts(arg)]
    return [(annotation, metadata)]


def _set_fields(model: type[BaseModel], path: str = "") -> list[tuple[str, tuple]]:
    """(path, metadata) of every set-typed field of a model and of the models its fields hold."""
    found = []
    for name, info in model.model_fields.items():
        for part, metadata in _parts(info.annotation, tuple(info.metadata)):
            if get_origin(part) is frozenset:
                found.append((f"{path}{name}", metadata))
            elif isinstance(part, type) and issubclass(part, BaseModel) and part is not model:
                found += _set_fields(part, f"{path}{name}.")
    return found


@pytest.mark.parametrize("model", [Campaign, CampaignRequest, CampaignPatch])
def test_every_set_a_campaign_answers_is_sorted(model):
    sets = _set_fields(model)
    assert {path.rsplit(".", 1)[-1] for path, _ in sets} >= {"blackout_dates", "weekdays"}
    for path, metadata in sets:
        assert any(isinstance(m, PlainSerializer) and m.func is sorted_members for m in metadata), path  # SortedSet


# --- 4. no value of 13 or more digits in an error ---------------------------------------------------------------------

def test_a_time_zone_refused_is_not_quoted_when_card_shaped():
    for zone in (CARD, f"America/{CARD}", f"Etc/GMT+{CARD}"):
        with pytest.raises(ValueError) as refused:
            valid_zone(zone)
        assert not CARD_SHAPED.search(str(refused.value)) and "not an IANA time zone" in str(refused.value)
    for model, body in ((PhoneEntry, {"number": "+12125550101", "zones": [CARD], "zone_source": "row"}),
                        (ContactListRow, {"row_id": "r1", "phones": [{"number": "+12125550101", "zones": ["UTC"],
                                                                      "zone_source": "row"}], "time_zone": CARD})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(body)
        assert not CARD_SHAPED.search(json.dumps(refused.value.errors(include_input=False), default=str))
    with pytest.raises(ValueError, match="'Mars/Base'"):  # a setting's own value is still named
        valid_zone("Mars/Base")


def _contact(contact_id: str, state: ContactState, connected_at: int | None = None) -> Contact:
    return Contact(tenant_id=T, contact_id=contact_id, channel=Channel.VOICE, queue_id="sales", state=state,
                   initiation_method=InitiationMethod.INBOUND, initiated_at=int(NOW.timestamp() * 1000) - 60_000,
                   connected_at=connected_at, agent_id="ana" if connected_at else None)


def test_a_live_segment_ending_in_the_future_is_refused_without_its_card_shaped_end():
    deps = memory_dependencies()
    now_ms = deps.clock.now_ms()
    contact = _contact("k1", ContactState.CONNECTED, connected_at=now_ms - 10_000)
    post = LiveTranscriptPost.model_validate({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 10**15,
                                                            "text": "hello"}]})
    with pytest.raises(DomainError) as refused:
        alerts._spoken_by_now(contact, post, now_ms)
    assert refused.value.field == "segments[0].end_ms" and "1000000000000000" not in str(refused.value)
    post = LiveTranscriptPost.model_validate({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 99_999_999,
                                                            "text": "hello"}]})
    with pytest.raises(DomainError, match="99999999 ms after connect"):  # fewer digits: still said
        alerts._spoken_by_now(contact, post, now_ms)


def test_a_live_transcript_for_a_contact_not_connected_does_not_quote_its_card_shaped_id():
    deps = memory_dependencies()
    deps.store.save(contacts=[_contact(CARD, ContactState.QUEUED)])
    post = LiveTranscriptPost.model_validate({"segments": [{"speaker": "AGENT", "begin_ms": 0, "end_ms": 1, "text": "hi"}]})
    with pytest.raises(DomainError) as refused:
        alerts.post_live_transcript(deps, T, CARD, post)
    assert refused.value.field == "contact_id" and CARD not in str(refused.value)


def test_campaign_errors_never_quote_a_card_shaped_id():
    deps = _dialing()
    with pytest.raises(DomainError) as refused:  # no such queue
        outbound.create_campaign(deps, T, CampaignRequest.model_validate({**CAMPAIGN, "campaign_id": "c2",
                                                                           "queue_id": CARD}))
    assert refused.value.field == "queue_id" and CARD not in str(refused.value)
    deps.config.put_queue(Queue(tenant_id=T, queue_id=CARD, name="Chat", channels=frozenset({Channel.CHAT})))
    with pytest.raises(DomainError) as refused:  # a queue that takes no calls
        outbound.create_campaign(deps, T, CampaignRequest.model_validate({**CAMPAIGN, "campaign_id": "c2",
                                                                           "queue_id": CARD}))
    assert refused.value.field == "queue_id" and CARD not in str(refused.value)
    outbound.create_campaign(deps, T, CampaignRequest.model_validate({**CAMPAIGN, "campaign_id": CARD}))
    outbound.change_status(deps, T, CARD, "stop")
    for change in (lambda: outbound.update_campaign(deps, T, CARD, CampaignPatch(name="x")),
                   lambda: outbound.change_status(deps, T, CARD, "start"),
                   lambda: outbound.upload_list(deps, T, CARD, ListUpload(format="csv", content="phone\n+12125550101\n"))):
        with pytest.raises(DomainError) as refused:
            change()
        assert refused.value.field == "status" and CARD not in str(refused.value), refused.value
    deps.store.save(contacts=[_contact(CARD, ContactState.CONNECTED, connected_at=deps.clock.now_ms())])
    with pytest.raises(DomainError) as refused:  # not a campaign call
        outbound.dispose_contact(deps, T, CARD, DispositionRequest(disposition="wrong_party"))
    assert refused.value.field == "contact_id" and CARD not in str(refused.value)
    with pytest.raises(DomainError) as refused:  # not a preview record
        outbound.dial_preview(deps, T, CARD, outbound.PreviewDialRequest())
    assert refused.value.field == "contact_id" and CARD not in str(refused.value)


def test_a_list_rows_long_number_is_not_quoted_in_its_warning():
    long_number = "+4915123456789"  # a German mobile number: 13 digits
    parsed = parse_csv(f"row_id,phone,time_zone\nr1,{long_number},Europe/Berlin\nr2,{long_number},Europe/Berlin\n")
    assert parsed.accepted == 2
    (warning,) = parsed.warnings
    assert warning.message.startswith("duplicate of line 2") and long_number not in warning.message
    short = parse_csv("row_id,phone,time_zone\nr1,+12125550101,America/New_York\nr2,+12125550101,America/New_York\n")
    assert "+12125550101 again" in short.warnings[0].message  # fewer digits: still said


# --- 5. e-mail suppressions read as list rows' e-mails are ---------------------------------------------------------------

def _dialing() -> Any:
    return simulated_dialing_deps(T)


def test_an_email_suppressed_in_any_form_holds_back_the_row_with_that_address():
    deps = _dialing()
    outbound.create_campaign(deps, T, CampaignRequest.model_validate(CAMPAIGN))
    outbound.change_status(deps, T, "c1", "start")
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,email,consent_automated_voice\n"
        "r1,+12125550101,America/New_York,jo@example.com,true\n")))
    suppressed = SuppressionEntry(kind="email", value=" JO@ＥＸＡＭＰＬＥ.com ")
    outbound.add_suppressions(deps, T, SuppressionRequest(entries=[suppressed]))
    result = outbound.dial_tick(deps, T, "c1", NOW)
    assert result.dialed == 0 and result.blocks.get(str(CheckName.SUPPRESSION)) == 1, result
    assert deps.outbound.get_row(T, "c1", "r1").blocked_by == (CheckName.SUPPRESSION,)


def test_a_suppression_set_matches_an_email_whatever_its_form():
    suppressions = SuppressionSet([Suppression(kind="email", value="JO@ＥＸＡＭＰＬＥ.com")])
    assert suppressions.match("+12125550101", "jo@example.com", None) is not None
    assert SuppressionSet([Suppression(kind="email", value="jo@example.com")]).match(
        "+12125550101", "Jo@Ｅxample.COM", None) is not None  # a row loaded before rows' e-mails were read so


@pytest.mark.parametrize("email", ["<jo@example.com>", "mailto:jo@example.com", "jo", f"{CARD}@", "a@b.12",
                                   "jo\u200b@x.com"])
def test_an_email_suppression_that_is_no_address_is_refused_naming_it_and_nothing_is_stored(email):
    deps = _dialing()
    request = SuppressionRequest(entries=[SuppressionEntry(kind="number", value="+12125550101"),
                                          SuppressionEntry(kind="email", value=email)])
    with pytest.raises(DomainError) as refused:
        outbound.add_suppressions(deps, T, request)
    assert refused.value.field == "entries.1.value" and email not in str(refused.value) and CARD not in str(refused.value)
    assert deps.outbound.suppressions == {}  # nothing partly written


def test_the_store_keeps_an_email_suppression_under_its_suppression_key_whoever_writes_it():
    deps = _dialing()
    imported = Suppression(kind="email", value="JO@ＥＸＡＭＰＬＥ.com", source="import", at=NOW)
    deps.outbound.add_suppressions(T, [imported])
    hit = deps.outbound.match_suppression(T, "+12125550101", "jo@example.com", None)
    assert hit is not None and hit.source == "import"


def test_suppressions_stored_before_keep_matching_the_rows_they_matched():
    deps = _dialing()
    at = NOW
    # kept under their lower case, as before: an address, and a value no address (never matched a normalised row)
    deps.outbound.suppressions[(T, "email", "jo@example.com")] = Suppression(kind="email", value="JO@example.com", at=at)
    deps.outbound.suppressions[(T, "email", "jo@ｅxample.com")] = Suppression(kind="email", value="Jo@Ｅxample.com",
                                                                             at=at)
    assert deps.outbound.match_suppression(T, "+12125550101", "jo@example.com", None) is not None
    assert deps.outbound.match_suppression(T, "+12125550101", "JO@Ｅxample.com", None) is not None  # a row stored raw
    assert deps.outbound.match_suppression(T, "+12125550101", "ann@example.com", None) is None


# --- 6. the dial-outcome consumer reads records as the CTR reader does ------------------------------------------------

def _campaign_ctr(**changes: Any) -> dict:
    base = {"ContactId": "connect-contact-1", "InstanceARN": INSTANCE, "InitiationMethod": "OUTBOUND", "Channel": "VOICE",
            "InitiationTimestamp": "2025-11-24T16:00:00Z", "DisconnectTimestamp": "2025-11-24T16:03:00Z",
            "Attributes": {"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r1",
                           "ccaas_attempt_id": "at0000000000-abcdefghijklmn"}}
    return {**base, **changes}


@pytest.mark.parametrize(("record", "reason"), [
    (b"not json", "not JSON"),  # the stream's bytes, as the consumer hands them over
    (b"[1]", "not a JSON object"),
    (_campaign_ctr(DisconnectTimestamp="9999-12-31T23:59:59Z"), "outside the years"),
    (_campaign_ctr(InitiationTimestamp=1_764_000_000_000), "InitiationTimestamp"),
    (_campaign_ctr(InitiationTimestamp=CARD), "InitiationTimestamp"),
    (_campaign_ctr(ContactId="c\ud800"), "ContactId"),
    (_campaign_ctr(InstanceARN="x" * 3000), "InstanceARN"),
    (_campaign_ctr(Attributes={"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r" * 3000,
                               "ccaas_attempt_id": "a1"}), "ccaas_row_id"),
    (_campaign_ctr(Attributes={"ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": CARD + "\ud800",
                               "ccaas_attempt_id": "a1"}), "ccaas_row_id"),
    (_campaign_ctr(Agent={"AgentInteractionDuration": 1e308}), "AgentInteractionDuration"),
])
def test_a_record_that_cannot_be_read_is_its_rejection_with_a_reason_never_quoting_it(record, reason):
    deps = memory_dependencies()
    deps.config.put_connect_instance(INSTANCE, T)
    with pytest.raises(MalformedContactRecord) as rejected:
        outbound.record_ctr_outcome(deps, record)
    assert reason in rejected.value.reason, rejected.value.reason
    assert not CARD_SHAPED.search(str(rejected.value)) and "9999" not in str(rejected.value)


def test_a_record_of_a_real_call_dated_past_the_calendar_is_rejected_and_nothing_is_written():
    deps = _dialing()
    deps.config.put_connect_instance(INSTANCE, T)
    outbound.create_campaign(deps, T, CampaignRequest.model_validate(CAMPAIGN))
    outbound.change_status(deps, T, "c1", "start")
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content=(
        "row_id,phone,time_zone,consent_automated_voice\nr1,+12125550101,America/New_York,true\n")))
    assert outbound.dial_tick(deps, T, "c1", NOW).dialed == 1
    (attempt,) = outbound.attempts_export(deps, T, "c1")
    record = _campaign_ctr(DisconnectTimestamp="9999-12-31T23:59:59Z", Attributes={
        "ccaas_tenant_id": T, "ccaas_campaign_id": "c1", "ccaas_row_id": "r1", "ccaas_attempt_id": attempt.attempt_id})
    with pytest.raises(MalformedContactRecord, match="outside the years"):  # recorded as ending in 9999 before: its
        outbound.record_ctr_outcome(deps, record)                          # counts on a day no rate ever reads
    assert outbound.attempts_export(deps, T, "c1")[0].attempt.disposition is None  # nothing written


def test_a_conversation_record_keeps_no_text_that_is_no_text():
    deps = memory_dependencies()
    deps.config.put_connect_instance(INSTANCE, T)
    record = {"ContactId": "in-1", "InstanceARN": INSTANCE, "InitiationMethod": "INBOUND", "Channel": "VOICE",
              "CustomerEndpoint": {"Address": "+1212555\ud8000101", "Type": "TELEPHONE_NUMBER"},
              "Agent": {"ConnectedToAgentTimestamp": "2025-11-24T15:50:00Z"},
              "DisconnectTimestamp": "2025-11-24T15:55:00Z", "Attributes": {"debt_id": "D\ud8001", "account_id": "A-7"}}
    assert outbound.record_ctr_outcome(deps, json.dumps(record).encode()) is None
    keys = {(kind, value) for (_, kind, value) in deps.outbound.talks}
    assert keys == {("account", "A-7")}  # the broken number and debt id are no person's: never stored


def test_the_outcome_of_a_readable_record_is_read_as_before():
    ids, outcome = outbound.outcome_from_ctr(_campaign_ctr(AnsweringMachineDetectionStatus="SIT_TONE_BUSY"))
    assert ids["row_id"] == "r1" and outcome.disposition == "busy"
    assert outcome.at == datetime(2025, 11, 24, 16, 3, tzinfo=timezone.utc)
    assert outbound.outcome_from_ctr(json.dumps(_campaign_ctr(InitiationMethod="INBOUND"))) is None


def test_the_consumers_read_refuses_a_time_ahead_of_its_clock():
    late = _campaign_ctr(DisconnectTimestamp=(NOW + timedelta(hours=1)).isoformat())
    with pytest.raises(MalformedContactRecord, match="ahead of now"):
        outbound.read_dial_record(json.dumps(late).encode(), now_ms=int(NOW.timestamp() * 1000))


# --- 7. the flow adapter's messages never show a caller's key holding an @ or digits -------------------------------------

def test_vocabulary_shown_name_is_the_apis():
    from ccaas.api import errors
    from ccaas.domain import vocabulary

    assert errors.shown_name is vocabulary.shown_name
    assert vocabulary.shown_name("jo@example.com") == "<not shown: digits or @>"
    assert vocabulary.shown_name("ssn 219-09-9999") == "<not shown: digits or @>"
    assert vocabulary.shown_name(CARD) == "<not shown: 13 or more digits>"
    assert vocabulary.shown_name("line2") == "line2"


@pytest.mark.parametrize("key", ["jo@example.com", "ssn 219-09-9999", f"card {CARD}"])
def test_the_flow_validation_message_never_shows_a_personal_key(key):
    from ccaas.usecases.connect_flow import _validation_message

    with pytest.raises(ValidationError) as refused:
        AgentProfile.model_validate({"name": "A", "skills": {key: 3}})  # a key that is no skill name
    message = _validation_message(refused.value)
    assert key not in message and not re.search(r"\d{3}", message), message
    assert message.startswith("skills.<not shown"), message


@pytest.mark.parametrize("name", ["jo@example.com", "ssn 219-09-9999"])
def test_a_flow_parameter_that_is_no_text_is_refused_without_showing_a_personal_name(name):
    from tests.unit.test_connect_flow import INSTANCE as FLOW_INSTANCE, fixture

    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name="Probe 38")
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=FLOW_INSTANCE)
    reply, _ = connect_flow.answer(lambda: deps, fixture("voice_inbound", {"action": "hours", name: "x\ud800"}))
    assert reply["error_code"] == "invalid_parameter", reply
    assert name not in reply["error_message"] and "not shown" in reply["error_message"], reply
    reply, _ = connect_flow.answer(lambda: deps, fixture("voice_inbound", {"action": "hours", "lang": "x\ud800"}))
    assert "'lang'" in reply["error_message"]  # a name of ours is still said

