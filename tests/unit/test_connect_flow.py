"""Amazon Connect flows: parsing realistic contact-flow events leniently, flat replies under 32 KB, routing
criteria in Connect's shape, and every action on the in-memory adapters."""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.connect_flow import (
    MAX_REPLY_BYTES,
    REPLY_BUDGET,
    FlowError,
    channel_of,
    flat_reply,
    initiation_of,
    parse_event,
    reply_size,
    routing_criteria,
)
from ccaas.domain.history import containment
from ccaas.domain.kpis import ContactRecord, FinalState
from ccaas.domain.models import (
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    DomainError,
    InitiationMethod,
    Queue,
    QueueAssignment,
)
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.conditions import parse_condition
from ccaas.domain.routing_engine.plan import PlannedStep, RoutingPlan
from ccaas.usecases import admin, connect_flow, contacts, customers, history, routing
from ccaas.usecases.connect_flow import FlowSettings
from tests.connect_tenant import add_flow_queues

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
TENANT = "acme"
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa"
SALES_ARN = f"{INSTANCE}/queue/1c8f8b5e-1d2a-4bd3-b2e2-61f3c5a0b8d4"
HOUR_MS = 3_600_000


def fixture(name: str, parameters: dict | None = None, **more: object) -> dict:
    """The fixture event; with parameters (a dict and/or keywords) its Parameters are replaced by them."""
    event = json.loads((FIXTURES / f"{name}.json").read_text())
    if parameters is not None or more:
        event["Details"]["Parameters"] = {**(parameters or {}), **more}
    return event


@pytest.fixture
def deps():
    deps = memory_dependencies()
    now = deps.clock.now_ms()  # Monday 2025-11-24 16:00 UTC
    admin.register_tenant(deps, tenant_id=TENANT, name="Acme")
    admin.register_connect_instance(deps, tenant_id=TENANT, instance_arn=INSTANCE)
    add_flow_queues(deps, TENANT, {
        "sales": {"steps": [{"name": "english sellers", "condition": "sales>=3 and language:en>=2", "expiry_s": 20},
                            {"condition": "sales>=2 and not trainee", "expiry_s": 40}]},
    })
    connect_flow.put_flow_settings(deps, TENANT, FlowSettings(queues={"sales": SALES_ARN}, skill_attribute="Team"))
    admin.put_agent(deps, Agent(tenant_id=TENANT, agent_id="ana", name="Ana", skills={"sales": 5, "language:en": 5},
                                queues=(QueueAssignment(queue_id="sales"),), status=AgentStatus.AVAILABLE))
    for cid, profile in {
        "c-plat": customers.CustomerProfile(tier="platinum", vip=True, preferred_language="en-US", phones=["+1 415 555 0100"], name="Pat"),
        "c-gold": customers.CustomerProfile(tier="gold", emails=["gold.customer@example.com"], phones=["+14155550101"]),
        "c-self": customers.CustomerProfile(tier="self_service", phones=["+447700900123"]),
    }.items():
        customers.put_customer(deps, TENANT, cid, profile)
    deps.store.save(contacts=[Contact(
        tenant_id=TENANT, contact_id="past-1", channel=Channel.VOICE, queue_id="billing", state=ContactState.COMPLETED,
        customer_id="c-gold", reason="billing", agent_id="ana", initiated_at=now - 2 * HOUR_MS, ended_at=now - HOUR_MS,
    )])
    return deps


def ask(deps, event) -> dict[str, str]:
    reply, _ = connect_flow.answer(lambda: deps, event)
    assert_flat(reply)
    return reply


def assert_flat(reply) -> None:
    assert isinstance(reply, dict) and reply
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in reply.items())
    assert reply_size(reply) <= MAX_REPLY_BYTES
    assert reply["status"] in ("ok", "error")
    if reply["status"] == "error":
        assert reply["error_code"] and reply["error_message"]


# --- parsing ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_parses(name):
    event = parse_event(fixture(name))
    assert event.contact.ContactId and event.contact.InstanceARN == INSTANCE and event.parameter("action")


def test_channels_subtypes_and_initiation_methods_map_leniently():
    kinds = {n: parse_event(fixture(n)).contact for n in NAMES}
    assert channel_of(kinds["voice_inbound"]) is Channel.VOICE
    assert channel_of(kinds["chat_sms"]) is Channel.SMS  # CHAT + connect:SMS
    assert channel_of(kinds["task_null_sections"]) is Channel.TASK
    assert channel_of(kinds["email_inbound"]) is Channel.EMAIL
    assert channel_of(kinds["unknown_values"]) is None and kinds["unknown_values"].Channel == "HOLOGRAM"
    assert initiation_of(kinds["unknown_values"]) is InitiationMethod.INBOUND
    assert initiation_of(kinds["chat_sms"]) is InitiationMethod.API
    chat_whatsapp = parse_event({"Details": {"ContactData": {"Channel": "CHAT", "SegmentAttributes": {
        "connect:Subtype": {"ValueString": "connect:WhatsApp"}}}}}).contact
    assert channel_of(chat_whatsapp) is Channel.SOCIAL


def test_null_sections_unknown_fields_and_non_string_values():
    task = parse_event(fixture("task_null_sections")).contact
    assert task.CustomerEndpoint is None and task.SystemEndpoint is None and task.Queue is None
    odd = parse_event(fixture("unknown_values"))
    assert odd.contact.Attributes == {"campaign": "spring", "score": "7", "opt_in": "true"}  # null dropped
    assert odd.parameters == {"action": "hours", "queue_id": "sales", "retries": "2"}
    assert odd.contact.model_extra["TotalPauseCount"] == 0 and odd.contact.Queue.Name is None
    assert odd.contact.CustomerEndpoint.Type == "WITHHELD"
    assert odd.parameter("ACTION") == "hours"  # parameter names are matched case-insensitively


@pytest.mark.parametrize("raw", [None, [], "text", {}, {"Details": "x"}, {"Name": "ContactFlowEvent"}])
def test_something_else_than_an_event_is_a_bad_event_reply(deps, raw):
    with pytest.raises(FlowError):
        parse_event(raw)
    reply = ask(deps, raw)
    assert (reply["status"], reply["error_code"]) == ("error", "bad_event")


LONG_ID = "5ca32fbd-8f92-46af-92a5-6b0f970f0efe" + "x" * 2_964  # 3,000 characters: no Connect id


@pytest.mark.parametrize("field", ["ContactId", "InitialContactId", "PreviousContactId"])
def test_an_oversize_contact_id_is_a_bad_event_naming_the_field_not_the_value(field):
    """A 3,000-character ContactId keyed the history item ("<tenant>#CONTACT#<id>", DynamoDB refuses a key over
    2,048 bytes): callback created its contact, then failed writing the milestone (outside review)."""
    for length in (257, 3_000):
        event = fixture("voice_inbound", action="callback", queue_id="support")
        event["Details"]["ContactData"][field] = LONG_ID[:length]
        with pytest.raises(FlowError) as refused:
            parse_event(event)
        assert refused.value.code == "bad_event" and f"ContactData.{field}" in str(refused.value)
        assert "5ca32fbd" not in str(refused.value) and "xxx" not in str(refused.value)
    event = fixture("voice_inbound")
    event["Details"]["ContactData"][field] = LONG_ID[:256]  # the bound itself still parses
    assert getattr(parse_event(event).contact, field) == LONG_ID[:256]


def test_an_oversize_contact_id_is_refused_before_any_side_effect(deps):
    before = dict(deps.store.contacts)
    for parameters in ({"action": "callback", "queue_id": "support"}, {"action": "log_event", "milestone": "menu_choice"}):
        event = fixture("voice_inbound", parameters)
        event["Details"]["ContactData"]["ContactId"] = LONG_ID
        reply = ask(deps, event)
        assert (reply["status"], reply["error_code"]) == ("error", "bad_event"), reply
        assert "ContactData.ContactId" in reply["error_message"] and "xxx" not in json.dumps(reply)
        assert deps.history.flow_events(TENANT, LONG_ID) == []
    assert deps.store.contacts == before  # no callback was created
    event = fixture("voice_inbound", action="callback", queue_id="support")
    event["Details"]["ContactData"]["ContactId"] = "0b5e6c1a-8d3f-4a27-9e61-2f4c7d9a1b38"  # a real one: a UUID
    assert ask(deps, event)["scheduled"] == "true"


# --- replies ------------------------------------------------------------------------------------------
def test_flat_reply_turns_everything_into_strings():
    reply = flat_reply({"status": "ok", "yes": True, "no": False, "n": 3, "x": 2.50, "whole": 4.0, "none": None,
                        "inf": float("inf"), "ids": ["a", "b"], "doc": {"k": [1]}})
    assert reply == {"status": "ok", "yes": "true", "no": "false", "n": "3", "x": "2.5", "whole": "4", "ids": "a,b",
                     "doc": '{"k":[1]}'}


def test_an_oversize_reply_drops_optional_keys_largest_first_and_says_so():
    values = {"status": "ok", "action": "route", "small": "s", "medium": "m" * 5_000, "huge": "h" * 40_000, "big": "b" * 28_000}
    reply = flat_reply(values)
    assert reply_size(reply) <= REPLY_BUDGET < MAX_REPLY_BYTES
    assert reply["truncated"] == "true" and reply["dropped_keys"] == "big,huge"
    assert reply["small"] == "s" and reply["medium"] == values["medium"] and reply["status"] == "ok"
    absurd = flat_reply({"status": "error", "action": "x", "error_code": "e", "error_message": "z" * 100_000})
    assert reply_size(absurd) <= REPLY_BUDGET and len(absurd["error_message"]) <= 500


# --- routing criteria ---------------------------------------------------------------------------------
def test_routing_criteria_in_connect_shape():
    plan = RoutingPlan(queue_id="sales", planned_at=0, priority=2, steps=(
        PlannedStep(label="last agent", preferred_agents=("agent-7",), expires_at=20_000),
        PlannedStep(label="best", condition=parse_condition("sales>=4 and (language:es>=3 or language:pt)"), expires_at=50_000),
        PlannedStep(label="no trainees", condition=parse_condition("not (trainee or sales_new>=2)"), expires_at=None),
        PlannedStep(label="unreachable", condition=parse_condition("x"), expires_at=None),
    ))
    criteria, notes = routing_criteria(plan, skill_attribute="Team")
    assert notes == []
    assert criteria == {"Steps": [
        {"Expression": {"AttributeCondition": {"MatchCriteria": {"AgentsCriteria": {"AgentIds": ["agent-7"]}},
                                               "ComparisonOperator": "Match"}},
         "Expiry": {"DurationInSeconds": 20}},
        {"Expression": {"AndExpression": [
            {"AttributeCondition": {"Name": "Team", "Value": "sales", "ProficiencyLevel": 4.0,
                                    "ComparisonOperator": "NumberGreaterOrEqualTo"}},
            {"OrExpression": [
                {"AttributeCondition": {"Name": "language", "Value": "es", "ProficiencyLevel": 3.0,
                                        "ComparisonOperator": "NumberGreaterOrEqualTo"}},
                {"AttributeCondition": {"Name": "language", "Value": "pt", "ProficiencyLevel": 1.0,
                                        "ComparisonOperator": "NumberGreaterOrEqualTo"}},
            ]},
        ]}, "Expiry": {"DurationInSeconds": 30}},
        # not (a or b) = not a and not b: Connect negates attribute conditions only
        {"Expression": {"AndExpression": [
            {"NotAttributeCondition": {"Name": "Team", "Value": "trainee", "ProficiencyLevel": 1.0,
                                       "ComparisonOperator": "NumberGreaterOrEqualTo"}},
            {"NotAttributeCondition": {"Name": "Team", "Value": "sales_new", "ProficiencyLevel": 2.0,
                                       "ComparisonOperator": "NumberGreaterOrEqualTo"}},
        ]}},
    ]}


def test_routing_criteria_stop_at_an_any_agent_step():
    plan = RoutingPlan(queue_id="q", planned_at=0, priority=5, steps=(
        PlannedStep(label="any", expires_at=10_000), PlannedStep(label="later", condition=parse_condition("x"), expires_at=None)))
    criteria, notes = routing_criteria(plan)
    assert criteria is None and notes == ["steps after 'any' (any agent) are left out"]


# --- tenant -------------------------------------------------------------------------------------------
def test_the_tenant_comes_from_the_instance_mapping_only(deps):
    event = fixture("voice_inbound", action="identify", tenant_id="someone-else")
    assert ask(deps, event)["customer_id"] == "c-plat"
    stranger = copy.deepcopy(event)
    stranger["Details"]["ContactData"]["InstanceARN"] = INSTANCE.replace("9308c2a1", "00000000")
    assert ask(deps, stranger)["error_code"] == "unknown_instance"
    del stranger["Details"]["ContactData"]["InstanceARN"]
    assert ask(deps, stranger)["error_code"] == "bad_event"
    admin.register_tenant(deps, tenant_id="other", name="Other")
    customers.put_customer(deps, "other", "o-1", customers.CustomerProfile(tier="gold", phones=["+14155550102"]))
    assert ask(deps, fixture("voice_inbound", action="identify", phone="+14155550102"))["found"] == "false"


@pytest.mark.parametrize("parameters, code", [
    ({}, "missing_parameter"),
    ({"action": "teleport"}, "unknown_action"),
    ({"action": "route"}, "missing_parameter"),  # chat_sms has no Queue: a queue_id is needed
    ({"action": "hours", "queue_id": "nope"}, "not_found"),
    ({"action": "identify", "phone": "555-0100"}, "invalid_parameter"),
    ({"action": "identify", "email": "not-an-address"}, "invalid_parameter"),
    ({"action": "log_event"}, "missing_parameter"),
    ({"action": "log_event", "milestone": "Menu Choice!"}, "invalid_parameter"),
    ({"action": "wait_info", "contact_id": "unknown"}, "not_found"),
])
def test_missing_and_bad_parameters_have_clear_error_codes(deps, parameters, code):
    reply = ask(deps, fixture("chat_sms", parameters))
    assert (reply["status"], reply["error_code"]) == ("error", code), reply
    assert "+447700900123" not in json.dumps(reply)  # never the caller's number


def test_an_unknown_action_is_logged_as_unknown_never_as_sent(deps):
    """The outcome line holds no parameters: an action that is not ours is a parameter's text (a flow can pass
    what a caller keyed in), so it is logged as "unknown" while the flow still gets its error code."""
    sent = "+14155550102 ../../etc/passwd " + "x" * 4000
    reply, outcome = connect_flow.answer(lambda: deps, fixture("chat_sms", {"action": sent}))
    assert reply["error_code"] == "unknown_action" and outcome.action == "unknown"
    assert "+14155550102" not in outcome.model_dump_json()
    assert connect_flow.answer(lambda: deps, fixture("chat_sms", {"action": "Hours", "queue_id": "sales"}))[1].action == "hours"


# --- identify -----------------------------------------------------------------------------------------
def test_identify_by_the_calling_number(deps):
    reply = ask(deps, fixture("voice_inbound", action="identify"))
    assert reply == {"status": "ok", "action": "identify", "found": "true", "lookup_by": "phone", "customer_id": "c-plat",
                     "tier": "platinum", "vip": "true", "preferred_language": "en-US", "open_repeat_contact": "false"}


def test_identify_by_email_with_journey(deps):
    reply = ask(deps, fixture("email_inbound", action="identify"))  # Gold.Customer@Example.com
    assert (reply["customer_id"], reply["tier"], reply["vip"], reply["lookup_by"]) == ("c-gold", "gold", "false", "email")
    assert reply["last_agent_id"] == "ana" and reply["last_contact_at"] == "2025-11-24T14:00:00Z"
    assert (reply["open_repeat_contact"], reply["repeat_contact_id"], reply["repeat_reason"]) == ("true", "past-1", "billing")
    other_reason = ask(deps, fixture("email_inbound", action="identify", reason="delivery"))
    assert other_reason["open_repeat_contact"] == "false" and "repeat_contact_id" not in other_reason


def test_identify_by_parameters_and_an_anonymous_caller(deps):
    assert ask(deps, fixture("task_null_sections", action="identify", customer_id="c-self"))["tier"] == "self_service"
    assert ask(deps, fixture("task_null_sections", action="identify", phone="0044 7700 900123"))["customer_id"] == "c-self"
    assert ask(deps, fixture("task_null_sections", action="identify")) == {
        "status": "ok", "action": "identify", "found": "false", "lookup_by": "none"}
    assert ask(deps, fixture("unknown_values", action="identify"))["found"] == "false"  # "anonymous" finds nobody


# --- route --------------------------------------------------------------------------------------------
def test_route_a_platinum_caller_with_connect_routing_criteria(deps):
    reply = ask(deps, fixture("voice_inbound", action="route", queue_id="sales"))
    assert (reply["outcome"], reply["queue_id"], reply["queue_arn"]) == ("queue", "sales", SALES_ARN)
    assert (reply["priority"], reply["segment"], reply["customer_id"], reply["vip"]) == ("1", "platinum", "c-plat", "true")
    criteria = json.loads(reply["routing_criteria"])
    assert reply["routing_steps"] == str(len(criteria["Steps"])) == "3"
    first = criteria["Steps"][0]  # platinum: the queue's skills raised to 4 (best agents first), 30 s
    assert first["Expiry"] == {"DurationInSeconds": 30}
    assert {c["AttributeCondition"]["Value"]: c["AttributeCondition"]["ProficiencyLevel"]
            for c in first["Expression"]["AndExpression"]} == {"sales": 4.0, "en": 4.0}
    assert criteria["Steps"][2]["Expression"]["AndExpression"][1] == {"NotAttributeCondition": {
        "Name": "Team", "Value": "trainee", "ProficiencyLevel": 1.0, "ComparisonOperator": "NumberGreaterOrEqualTo"}}
    assert "segment platinum" in reply["routing_step_labels"]


def test_route_takes_the_queue_from_the_contact_when_no_parameter(deps):
    by_arn = ask(deps, fixture("voice_inbound", action="route"))  # Queue.ARN mapped in the tenant's settings
    assert by_arn["queue_id"] == "sales"
    by_name = ask(deps, fixture("email_inbound", action="route"))  # Queue.Name "Billing" -> billing
    assert by_name["queue_id"] == "billing"


def test_route_self_service_closed_and_repeat(deps):
    deflected = ask(deps, fixture("chat_sms", action="route", queue_id="support"))  # +447700900123 is self_service
    assert (deflected["outcome"], deflected["segment"]) == ("self_service", "self_service")
    closed = ask(deps, fixture("email_inbound", action="route", queue_id="billing", reason="billing"))
    assert closed["outcome"] == "closed"
    assert (closed["next_open_at"], closed["next_open_local"]) == ("2025-11-29T09:00:00Z", "2025-11-29T09:00")
    assert (closed["repeat_contact"], closed["repeat_of"], closed["segment"]) == ("true", "past-1", "gold")
    anonymous = ask(deps, fixture("unknown_values", action="route", queue_id="support", tier="gold"))
    assert anonymous["segment"] == "gold" and "customer_id" not in anonymous  # tier from the flow: nobody to look up


def test_route_and_callback_refuse_a_channel_the_queue_does_not_take(deps):
    """One intake rule (Queue.require_channel) for POST /contacts and the flow: an SMS is not queued into
    a voice-only queue; the flow gets error_code=unsupported_channel to branch on."""
    refused = ask(deps, fixture("chat_sms", action="route", queue_id="sales"))  # sales takes VOICE only
    assert (refused["status"], refused["error_code"]) == ("error", "unsupported_channel")
    assert "SMS" in refused["error_message"] and "+447700900123" not in json.dumps(refused)
    with pytest.raises(DomainError) as api:  # what POST /contacts answers for the same contact
        contacts.create_contact(deps, TENANT, contacts.NewContact(channel=Channel.SMS, queue_id="sales"))
    assert api.value.field == "channel"
    _, outcome = connect_flow.answer(lambda: deps, fixture("chat_sms", action="route", queue_id="sales"))
    assert (outcome.status, outcome.error_code) == ("error", "unsupported_channel")
    assert ask(deps, fixture("chat_sms", action="route", queue_id="support"))["status"] == "ok"  # support takes SMS
    hologram = ask(deps, fixture("unknown_values", action="route", queue_id="sales"))  # a channel we do not know yet
    assert (hologram["status"], hologram["queue_id"]) == ("ok", "sales")  # read leniently: planned as the queue's
    # a callback is a call: a queue without VOICE refuses it before anything is created
    admin.put_queue(deps, Queue(tenant_id=TENANT, queue_id="webchat", name="Web chat", channels=frozenset({Channel.CHAT})))
    callback = ask(deps, fixture("voice_inbound", action="callback", queue_id="webchat"))
    assert (callback["status"], callback["error_code"]) == ("error", "unsupported_channel")
    assert not [c for c in deps.store.contacts.values() if c.callback_number]
    assert not deps.history.flow_events(TENANT, parse_event(fixture("voice_inbound")).contact.ContactId)


# --- queue actions ------------------------------------------------------------------------------------
def _queue_one(deps, customer_id=None) -> Contact:
    contact = contacts.create_contact(deps, TENANT, contacts.NewContact(channel=Channel.VOICE, queue_id="support",
                                                                         customer_id=customer_id))
    return contacts.queue_and_route(deps, TENANT, contact.contact_id, f"token-{contact.contact_id}")


def test_wait_info_for_a_new_caller_and_for_one_of_our_contacts(deps):
    first = _queue_one(deps)
    _queue_one(deps)
    reply = ask(deps, fixture("voice_inbound", action="wait_info", queue_id="support"))
    assert (reply["queue_id"], reply["position"], reply["in_queue"]) == ("support", "3", "2")
    assert reply["ewt_known"] == "false" and "ewt_s" not in reply and reply["agents_staffed"] == "0"  # nobody staffed
    assert reply["offer_callback"] == "false"  # the default policy offers no callbacks
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(
        {"queues": {"support": {"callback": {"offer_when_wait_exceeds_s": 60}}}}))
    assert ask(deps, fixture("voice_inbound", action="wait_info", queue_id="support"))["offer_callback"] == "true"
    mine = ask(deps, fixture("task_null_sections", action="wait_info", contact_id=first.contact_id))
    assert (mine["queue_id"], mine["position"]) == ("support", "1")


def test_hours_open_and_closed(deps):
    assert ask(deps, fixture("unknown_values"))["open"] == "true"  # action=hours, queue_id=sales: no hours = open
    closed = ask(deps, fixture("voice_inbound", action="hours", queue_id="billing"))
    assert (closed["open"], closed["time_zone"], closed["next_open_local"]) == ("false", "Europe/London", "2025-11-29T09:00")
    assert closed["opens_in_minutes"] == str(4 * 24 * 60 + 17 * 60)  # Mon 16:00 -> Sat 09:00 UTC
    assert "next_close_at" not in closed


def test_hours_of_a_queue_open_around_the_clock_give_no_closing_time(deps):
    """A 24/7 schedule answered the look-ahead horizon's end (400 days on) as next_close_at: now none, as
    for a queue without hours."""
    every_day = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate({"queues": {"sales": {"hours": {"weekly": every_day}}}}))
    reply = ask(deps, fixture("unknown_values"))  # action=hours, queue_id=sales
    assert reply["open"] == "true" and "next_close_at" not in reply


def test_staffing(deps):
    reply = ask(deps, fixture("task_null_sections"))  # action=staffing, queue_id=billing
    assert reply == {"status": "ok", "action": "staffing", "queue_id": "billing", "staffed": "false",
                     "agents_staffed": "0", "agents_available": "0", "in_queue": "0"}


def test_staffing_reads_the_counts_only_never_an_estimate(deps, monkeypatch):
    """The flow's staffing answers counts: no wait estimate, so no read of the agents who may take a contact (a
    Query each time a flow asked while anyone was available)."""
    from ccaas.usecases import waiting

    def estimate(*_, **__):
        raise AssertionError("staffing made a wait estimate")

    monkeypatch.setattr(waiting, "_wait", estimate)
    monkeypatch.setattr(waiting, "_readiness", estimate)
    reply = ask(deps, fixture("task_null_sections"))  # action=staffing, queue_id=billing
    assert reply == {"status": "ok", "action": "staffing", "queue_id": "billing", "staffed": "false",
                     "agents_staffed": "0", "agents_available": "0", "in_queue": "0"}


def test_the_number_to_call_back_is_not_who_is_calling(deps):
    """c-plat calls (CustomerEndpoint +14155550100) and types c-gold's number at the callback prompt: the callback
    was c-gold's contact, with c-gold's tier, name and journey on the offer (outside review, session 25)."""
    reply = ask(deps, fixture("voice_inbound", action="callback", queue_id="support", phone="+14155550101"))
    contact = deps.store.get_contact(TENANT, reply["callback_contact_id"])
    assert contact.callback_number == "+14155550101" and contact.customer_id == "c-plat"


def test_callback_once_per_connect_contact(deps):
    event = fixture("voice_inbound", action="callback", queue_id="support")
    reply = ask(deps, event)
    assert (reply["scheduled"], reply["repeated"], reply["state"]) == ("true", "false", "CALLBACK_SCHEDULED")
    contact = deps.store.get_contact(TENANT, reply["callback_contact_id"])
    assert contact.callback_number == "+14155550100" and contact.customer_id == "c-plat"
    again = ask(deps, event)
    assert (again["callback_contact_id"], again["repeated"]) == (reply["callback_contact_id"], "true")
    assert len([c for c in deps.store.contacts.values() if c.callback_number]) == 1
    assert ask(deps, fixture("task_null_sections", action="callback", queue_id="support"))["error_code"] == "missing_parameter"
    assert ask(deps, fixture("task_null_sections", action="callback", queue_id="support", phone="12"))["error_code"] == "invalid_parameter"


def test_a_callback_to_a_number_that_bills_the_business_is_refused(deps):
    """Revenue-share fraud on callback features: the caller types a premium-rate, personal or satellite number
    and the contact center calls it on its own account. The flow gets an error it can branch on, naming the
    reason but never the number, and no callback waits."""
    for number, why in (("+19005550100", "premium-rate"), ("+448712345678", "premium-rate"),
                        ("+881612345678", "non-geographic"), ("+15005550000", "personal"), ("+10005550100", "not a valid")):
        reply = ask(deps, fixture("task_null_sections", action="callback", queue_id="support", phone=number))
        assert (reply["status"], reply["error_code"]) == ("error", "invalid_parameter"), number
        assert why in reply["error_message"] and number[1:] not in json.dumps(reply), reply
    assert not [c for c in deps.store.contacts.values() if c.callback_number]
    # international freephone is a number the business may call
    reply = ask(deps, fixture("task_null_sections", action="callback", queue_id="support", phone="+80012345678"))
    assert reply["status"] == "ok", reply


def test_log_event_feeds_self_service_containment(deps):
    cid = parse_event(fixture("chat_sms")).contact.ContactId
    assert ask(deps, fixture("chat_sms", action="log_event", milestone="menu_choice", value="2"))["self_service"] == "false"
    reply = ask(deps, fixture("chat_sms", action="log_event", milestone="self_service_success", value="balance"))
    assert reply == {"status": "ok", "action": "log_event", "recorded": "true", "milestone": "self_service_success",
                     "self_service": "true"}
    assert [(e.name, e.value) for e in deps.history.flow_events(TENANT, cid)] == [("menu_choice", "2"), ("self_service_success", "balance")]
    now = deps.clock.now_ms()
    history.store_record(deps, ContactRecord(tenant_id=TENANT, contact_id=cid, channel=Channel.SMS, initiated_at=now - 60_000,
                                             disconnected_at=now, final_state=FinalState.COMPLETED, last_updated_at=now))
    entry = deps.history.get_entry(TENANT, cid)
    assert (entry.flow.milestones, entry.flow.last, entry.flow.self_service) == (2, "self_service_success", True)
    assert containment([entry]).containment_rate == 1.0
    summary = history.historical_summary(deps, TENANT, start=None, end=None)
    assert (summary.self_service.in_flow, summary.self_service.contained) == (1, 1)
    assert deps.history.flow_events("other", cid) == []  # tenant-scoped


def test_a_milestone_value_keyed_in_by_the_caller_is_stored_redacted(deps):
    """`value=$.StoredCustomerInput` at the wrong prompt: a card number, a phone number, an e-mail
    address typed by the caller are never stored; a menu choice is kept as it was."""
    cid = parse_event(fixture("chat_sms")).contact.ContactId
    for value in ("4111111111111111", "4111 1111 1111 1111", "+14155550101", "jane.doe@example.com", "2"):
        reply = ask(deps, fixture("chat_sms", action="log_event", milestone="menu_choice", value=value))
        assert reply["status"] == "ok", reply
    stored = [e.value for e in deps.history.flow_events(TENANT, cid)]
    assert stored == ["[CARD]", "[CARD]", "[PHONE]", "[EMAIL]", "2"], stored
    too_long = ask(deps, fixture("chat_sms", action="log_event", milestone="menu_choice", value="x" * 5000))
    assert too_long["error_code"] == "invalid_parameter", too_long  # still refused, not cut to fit


# --- limits -------------------------------------------------------------------------------------------
def test_an_oversize_attribute_map_is_read_and_never_echoed(deps):
    event = fixture("voice_inbound", action="identify")
    event["Details"]["ContactData"]["Attributes"] = {f"attr_{i:05d}": "v" * 64 for i in range(5_000)}  # ~400 KB
    reply = ask(deps, event)
    assert reply["customer_id"] == "c-plat" and reply_size(reply) < 1_000


ACTION_PARAMETERS = [
    {"action": "identify"}, {"action": "identify", "reason": "billing"}, {"action": "route", "queue_id": "sales"},
    {"action": "route"}, {"action": "wait_info", "queue_id": "support"}, {"action": "wait_info"},
    {"action": "hours", "queue_id": "billing"}, {"action": "staffing", "queue_id": "sales"},
    {"action": "callback", "queue_id": "support"}, {"action": "log_event", "milestone": "menu_choice"},
    {"action": "log_event"}, {}, {"action": "identify", "phone": "+"}, {"action": "nope"},
]


@pytest.mark.parametrize("name", NAMES)
def test_every_reply_is_a_flat_string_map_under_32_kb(deps, name):
    policy = routing.policy_of(deps, TENANT).model_dump(mode="json")  # the longest steps a policy may have: huge criteria
    policy["queues"]["sales"]["steps"] = [{"preferred_agents": [f"agent-{s:02d}-{i:02d}-{'x' * 52}" for i in range(20)],
                                           "expiry_s": 10} for s in range(20)]  # 20 steps of 20 ids of 64 characters
    routing.put_policy(deps, TENANT, RoutingPolicy.model_validate(policy))
    for parameters in ACTION_PARAMETERS:
        reply = ask(deps, fixture(name, parameters))  # assert_flat inside
        if parameters.get("action") == "route" and reply["status"] == "ok" and reply["outcome"] == "queue" \
                and reply["queue_id"] == "sales":
            assert reply["truncated"] == "true" and "routing_criteria" in reply["dropped_keys"]


def test_a_slow_answer_becomes_a_timeout_reply_within_the_budget(deps):
    def slow():
        time.sleep(1.0)
        return deps

    started = time.perf_counter()
    reply, outcome = connect_flow.answer(slow, fixture("voice_inbound", action="identify"), budget_s=0.1)
    assert time.perf_counter() - started < 0.5
    assert (reply["status"], reply["error_code"], outcome.error_code) == ("error", "timeout", "timeout")


def test_a_failing_adapter_is_an_internal_error_reply_not_an_exception(deps):
    class Broken:
        def __getattr__(self, name):
            raise RuntimeError("+14155550100 leaked?")

    def broken():
        return Broken()

    reply, outcome = connect_flow.answer(broken, fixture("voice_inbound", action="identify"), budget_s=2)
    assert (reply["error_code"], outcome.status) == ("internal_error", "error")
    assert "+1415" not in json.dumps(reply)


def test_numbers_and_addresses_written_two_ways_name_one_customer(deps):
    """"+44 (0)20 …" was stored as +4402…, a number nobody dials, leaving the real one free for a second
    customer; "josé" composed and decomposed, or in full-width letters, were two addresses (outside review)."""
    from ccaas.domain.customers import normalise_email, normalise_phone
    from ccaas.domain.models import Conflict

    assert normalise_phone("+44 (0)20 7946 0958") == normalise_phone("0044 (0) 20 7946 0958") == "+442079460958"
    assert normalise_phone("+1 (415) 555-0100") == "+14155550100"  # an area code in brackets is no trunk prefix
    assert normalise_email("jose\u0301@example.com") == normalise_email("jos\u00e9@example.com")
    assert normalise_email("\uff4a\uff4f\uff53\uff45@Example.com") == "jose@example.com"
    with pytest.raises(ValueError, match="invisible"):
        normalise_email("jose\u200b@example.com")
    customers.put_customer(deps, TENANT, "uk-1", customers.CustomerProfile(tier="platinum", phones=["+44 (0)20 7946 0958"]))
    with pytest.raises(Conflict):
        customers.put_customer(deps, TENANT, "uk-2", customers.CustomerProfile(tier="self_service", phones=["+44 20 7946 0958"]))


def test_a_known_customer_without_a_tier_is_routed_standard_whatever_the_flow_claims(deps):
    customers.put_customer(deps, TENANT, "c-none", customers.CustomerProfile(phones=["+14155550177"]))
    for claimed in ("platinum", "self_service", None):
        extra = {"tier": claimed} if claimed else {}
        reply = ask(deps, fixture("voice_inbound", action="route", queue_id="sales", phone="+14155550177", **extra))
        assert reply["status"] == "ok" and reply.get("outcome") != "self_service" and reply.get("segment") == "standard", reply
