"""Outside probe 38 of the settings routes: each setting a tester could save that later broke something, or that read
back differently from what was written.

1. a simulated carrier's outcome probabilities over 1 (every dialing tick then failed);
2. a required skill or an agent skill "language:" (Connect criteria with "Value": ""), and queues stored with one;
3. (API tier: tests/handlers/test_settings_fixes_38.py) the agent's routing profile and cross-channel flag shown;
4. a quick connect's number (and ids not found) quoted in errors;
5. alert rules ignoring statuses no not-ready agent can have;
6. sets answered in an order that changed from process to process;
7. the KPI settings' default SL threshold bound, the queues' one."""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError


from ccaas.bootstrap import memory_dependencies
from ccaas.domain.alerts import AlertRules
from ccaas.domain.kpis.settings import KpiSettings
from ccaas.domain.models import (
    Agent,
    AgentProfile,
    Channel,
    DomainError,
    Queue,
    QueueSettings,
    SkillRequirement,
)
from ccaas.domain.routing_engine import RoutingPolicy
from ccaas.domain.routing_engine.conditions import AllOf, SkillAtLeast
from ccaas.domain.routing_engine.plan import PlannedStep
from ccaas.domain.routing_engine.steps import plan_contact, required_condition
from ccaas.domain.transfers import QuickConnect, TransferSettings
from ccaas.domain.vocabulary import STORED_DOCUMENT
from ccaas.ports_outbound import DialerSettings
from ccaas.usecases import admin, connect_flow, customers, outbound, transfers
from ccaas.usecases.outbound import DIALER_SETTINGS, CampaignRequest, ListUpload
from tests.outbound_builders import simulated_dialing_deps
from tests.unit.hash_seeds import answers_per_hash_seed

T = "t38"
NOW = datetime.fromtimestamp(1_764_000_000, tz=timezone.utc)  # FixedClock: 11:00 in New York
CARD_SHAPED = re.compile(r"\d{13}")


# --- 1. the simulated carrier's outcome probabilities ------------------------------------------------------------

def test_outcome_probabilities_over_one_are_a_422_naming_the_ones_given_never_their_values():
    with pytest.raises(ValidationError) as refused:
        DialerSettings.model_validate({"kind": "simulated", "seed": 7, "p_human": 0.6, "p_machine": 0.6,
                                       "ring_time_scale": 0.1})
    problems = refused.value.errors(include_url=False)
    assert [p["loc"] for p in problems] == [("p_human",), ("p_machine",)]
    assert all(p["type"] == "outcome_probabilities" and "0.6" not in p["msg"] for p in problems)
    assert "sum to at most 1" in problems[0]["msg"]


@pytest.mark.parametrize("probabilities", [
    {"p_human": 0.3, "p_machine": 0.3, "p_busy": 0.3, "p_invalid": 0.1},  # 0.9999999999999999 in binary: 1 as decimals
    {"p_human": 1.0, "p_machine": 0.0, "p_busy": 0.0, "p_invalid": 0.0},
    {"p_human": 0.7, "p_machine": 0.2, "p_busy": 0.05, "p_invalid": 0.05},
])
def test_outcome_probabilities_up_to_one_are_taken_and_dialed_with(probabilities):
    from ccaas.adapters.memory.outbound import SimulatedDialer

    settings = DialerSettings(kind="simulated", **probabilities)
    assert SimulatedDialer(settings).profile.p_human == probabilities["p_human"]  # the carrier takes what the model does


def test_a_connect_dialer_never_reads_the_simulated_probabilities():
    settings = DialerSettings.model_validate({"kind": "connect", "instance_id": "i-1", "contact_flow_id": "f-1",
                                              "p_human": 0.9, "p_machine": 0.9})
    assert settings.kind == "connect"


@pytest.fixture
def dialing():
    """Tenant T's running campaign c1 (10 rows) on the in-memory twins, with the simulated carrier."""
    deps = simulated_dialing_deps(T)
    outbound.create_campaign(deps, T, CampaignRequest(campaign_id="c1", name="c1", mode="progressive",
                                                      queue_id="sales", caller_id="+12125550199"))
    outbound.change_status(deps, T, "c1", "start")
    rows = "".join(f"r{i},+1212555{101 + i:04d},America/New_York,true\n" for i in range(10))
    outbound.upload_list(deps, T, "c1", ListUpload(format="csv", content="row_id,phone,time_zone,consent_automated_voice\n"
                                                                         + rows))
    return deps


def test_dialer_settings_stored_over_one_before_the_rule_dial_nothing_and_fail_no_tick(dialing, caplog):
    stored = DialerSettings(kind="simulated", seed=7).model_dump(mode="json")
    dialing.config.put_settings(T, DIALER_SETTINGS, {**stored, "p_human": 0.6, "p_machine": 0.6})
    caplog.set_level(logging.WARNING)
    result = outbound.dial_tick(dialing, T, "c1", NOW)  # raised the carrier's ValueError every tick
    assert result.dialed == 0
    assert outbound.dialer_settings(dialing, T) is None  # read as no dialer: GET /settings/outbound is a 404
    (warning,) = {r.getMessage() for r in caplog.records if "rule added since" in r.getMessage()}
    assert "PUT /settings/outbound" in warning
    problems = [r.__dict__.get("problems") for r in caplog.records if "rule added since" in r.getMessage()][0]
    assert {p["field"] for p in problems} == {"p_human", "p_machine", "p_busy", "p_invalid"}  # a document gives all
    assert "0.6" not in json.dumps(problems)
    outbound.put_dialer_settings(dialing, T, DialerSettings(kind="simulated", seed=7))  # saved again: dials again
    assert outbound.dial_tick(dialing, T, "c1", NOW).dialed == 1


# --- 2. a skill "name:value" has its value, written anywhere -------------------------------------------------------

def test_a_queue_requiring_a_skill_without_its_value_is_refused_naming_it():
    with pytest.raises(ValidationError) as refused:
        QueueSettings.model_validate({"name": "Probe", "required_skills": [{"skill": "billing"}, {"skill": "language:"}]})
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("required_skills", 1, "skill") and "no value after ':'" in problem["msg"]
    assert QueueSettings.model_validate({"name": "Probe", "required_skills": [{"skill": "language:es"}]})


@pytest.mark.parametrize("skill", ["language:", "a:", "x.y:"])
def test_an_agent_skill_without_its_value_is_refused_naming_it(skill):
    with pytest.raises(ValidationError) as refused:
        AgentProfile.model_validate({"name": "Probe", "skills": {"billing": 3, skill: 3}})
    (problem,) = refused.value.errors()
    assert problem["loc"][:2] == ("skills", skill) and "no value after ':'" in problem["msg"]
    assert AgentProfile.model_validate({"name": "Probe", "skills": {"language:es": 3}}).skills == {"language:es": 3}


def test_a_skill_error_never_quotes_a_card_shaped_skill():
    with pytest.raises(ValidationError) as refused:
        AgentProfile.model_validate({"name": "Probe", "skills": {"4111111111111111:": 3}})
    assert not CARD_SHAPED.search(refused.value.errors()[0]["msg"])
    with pytest.raises(ValidationError) as refused:
        AgentProfile.model_validate({"name": "Probe", "skills": {"4111111111111111": 9}})
    assert not CARD_SHAPED.search(refused.value.errors()[0]["msg"])


def test_queues_and_agents_stored_with_such_a_skill_still_load():
    queue = Queue.model_validate({"tenant_id": T, "queue_id": "q", "name": "Q", "required_skills": [{"skill": "language:"}]})
    agent = Agent.model_validate({"tenant_id": T, "agent_id": "a", "name": "A", "skills": {"language:": 3}})
    assert queue.required_skills[0].skill == "language:" and agent.skills == {"language:": 3}


def test_routing_reads_a_queue_stored_with_such_a_skill_without_failing():
    """Its conditions are built from the stored skills: refusing them again failed every routing decision of the
    queue (`all` of two skills) and every plan with a segment's best-agents step (the flow's route)."""
    queue = Queue(tenant_id=T, queue_id="q", name="Q",
                  required_skills=(SkillRequirement(skill="billing"), SkillRequirement(skill="language:")))
    assert isinstance(required_condition(queue), AllOf)
    assert PlannedStep(label="x", condition=SkillAtLeast(skill="language:", min=4)).condition.skill == "language:"
    policy = RoutingPolicy.model_validate({"segments": {"platinum": {"first_step_min_proficiency": 4}}})
    plan = plan_contact(queue, policy, "platinum", None, 0)
    assert plan.steps[0].condition is not None


def test_a_routing_policy_still_refuses_a_condition_naming_such_a_skill():
    with pytest.raises(ValidationError) as refused:
        RoutingPolicy.model_validate({"queues": {"q": {"steps": [{"condition": "billing>=2 and language:"}]}}})
    assert "no value after ':'" in str(refused.value)
    stored = RoutingPolicy.model_validate({"queues": {"q": {"steps": [{"condition": "language:"}]}}},
                                          context=STORED_DOCUMENT)
    assert stored.queues["q"].steps[0].condition.skill == "language:"  # stored before the rule: loads


def test_the_flow_routes_a_platinum_caller_into_a_queue_stored_with_such_a_skill():
    from tests.unit.test_connect_flow import INSTANCE, fixture

    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id=T, name="Probe 38")
    admin.register_connect_instance(deps, tenant_id=T, instance_arn=INSTANCE)
    admin.put_queue(deps, Queue(tenant_id=T, queue_id="intl", name="International", channels=frozenset({Channel.VOICE}),
                                required_skills=(SkillRequirement(skill="language:"),)))  # stored before the rule
    customers.put_customer(deps, T, "c-plat", customers.CustomerProfile(tier="platinum", phones=["+1 415 555 0100"]))
    reply, _ = connect_flow.answer(lambda: deps, fixture("voice_inbound", action="route", queue_id="intl"))
    assert (reply["status"], reply["queue_id"], reply["segment"]) == ("ok", "intl", "platinum"), reply


# --- 4. errors never quote a number ------------------------------------------------------------------------------------

def test_a_quick_connect_number_refused_is_named_by_its_field_never_quoted():
    deps = memory_dependencies()
    settings = TransferSettings(quick_connects={"legal": QuickConnect(name="Legal", phone_number="+378282246310005")})
    with pytest.raises(DomainError) as refused:
        transfers.put_settings(deps, T, settings)
    assert refused.value.field == "quick_connects.legal.phone_number"
    assert "378282246310005" not in str(refused.value) and "not a valid phone number" in str(refused.value)


def test_an_id_not_found_is_quoted_only_when_it_cannot_be_a_card_number():
    deps = memory_dependencies()
    with pytest.raises(DomainError) as refused:
        transfers.put_settings(deps, T, TransferSettings(escalation_queue_id="4111111111111111"))
    assert refused.value.field == "escalation_queue_id" and not CARD_SHAPED.search(str(refused.value))
    with pytest.raises(DomainError, match="queue vault does not exist"):
        transfers.put_settings(deps, T, TransferSettings(escalation_queue_id="vault"))


@pytest.mark.parametrize("condition", ["billing>=4111111111111111", "billing >= 2 and 4111 1111 1111 1111 >=",
                                       "(billing and 4111111111111111 or"])
def test_a_bad_condition_is_not_quoted_when_it_holds_a_card_shaped_number(condition):
    with pytest.raises(ValidationError) as refused:
        RoutingPolicy.model_validate({"queues": {"q": {"steps": [{"condition": condition}]}}})
    (problem,) = refused.value.errors(include_input=False)
    assert "bad skill condition" in problem["msg"] and not re.search(r"(\d\D?){13}", problem["msg"]), problem


def test_a_time_zone_refused_is_not_quoted_when_it_holds_a_card_shaped_number():
    with pytest.raises(ValidationError) as refused:
        RoutingPolicy.model_validate({"queues": {"q": {"hours": {"time_zone": "4111111111111111"}}}})
    assert not any(CARD_SHAPED.search(p["msg"]) for p in refused.value.errors(include_input=False)), refused.value


# --- 5. statuses no not-ready agent can have -------------------------------------------------------------------------

NEVER_NOT_READY = ["RESERVED", "ON_CONTACT", "ACW", "AVAILABLE_IDLE", "AVAILABLE", "OFFLINE", "Lunch", "L"]


@pytest.mark.parametrize("status", NEVER_NOT_READY)
def test_an_ignored_status_no_not_ready_agent_can_have_is_a_422_naming_its_place(status):
    with pytest.raises(ValidationError) as refused:
        AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": ["LUNCH", status]}})
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("agent_not_ready", "ignore_statuses", 1)
    stored = AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": [status]}}, context=STORED_DOCUMENT)
    assert stored.agent_not_ready.ignore_statuses == {status}  # rules stored before the check still load


@pytest.mark.parametrize("status", [*NEVER_NOT_READY, "NOT_READY", "LUNCH", "MISSED", "BREAK_2"])
def test_alert_rules_and_routing_policies_agree_on_a_not_ready_status(status):
    """One definition (events.NotReadyStatus): what a missed offer may set an agent to is what a rule may ignore."""
    def taken(validate) -> bool:
        try:
            validate()
        except ValidationError:
            return False
        return True

    as_ignored = taken(lambda: AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": [status]}}))
    as_missed = taken(lambda: RoutingPolicy.model_validate({"reservation": {"timeout": {"not_ready_status": status}}}))
    assert as_ignored == as_missed == (status in ("NOT_READY", "LUNCH", "MISSED", "BREAK_2"))


# --- 6. sets are answered sorted, in every process --------------------------------------------------------------------

def test_a_queue_answers_its_channels_sorted():
    sent = ["VOICE", "CHAT", "EMAIL", "SMS", "VOICE"]
    queue = QueueSettings.model_validate({"name": "Q", "channels": sent})
    assert queue.model_dump(mode="json")["channels"] == sorted(set(sent))
    assert json.loads(QueueSettings.model_validate({"name": "Q"}).model_dump_json())["channels"] == sorted(Channel)


_DUMPS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from ccaas.domain.alerts import AlertRules
from ccaas.domain.models import QueueSettings
from ccaas.domain.routing_engine import RoutingPolicy
rules = AlertRules.model_validate({"agent_not_ready": {"ignore_statuses": ["LUNCH", "BREAK", "TRAINING", "MEETING",
                                   "COACHING", "NOT_READY"]}, "escalation_phrase": {"speakers": ["CUSTOMER", "AGENT"]}})
queue = QueueSettings.model_validate({"name": "Q", "channels": ["VOICE", "CHAT", "EMAIL", "SMS", "TASK"]})
policy = RoutingPolicy.model_validate({"profiles": {"p": {"cross_channel": {"blocks": {"VOICE": ["CHAT", "EMAIL",
                                       "SMS", "TASK", "SOCIAL"]}}}}})
print(json.dumps([rules.agent_not_ready.model_dump(mode="json")["ignore_statuses"],
                  rules.escalation_phrase.model_dump(mode="json")["speakers"], queue.model_dump(mode="json")["channels"],
                  policy.model_dump(mode="json")["profiles"]["p"]["cross_channel"]["blocks"]["VOICE"]]))
"""


def test_stored_sets_read_back_the_same_sorted_order_whatever_the_process_hash_seed():
    (answer,) = answers_per_hash_seed(_DUMPS)
    assert all(values == sorted(values) for values in json.loads(answer))


# --- 7. one SL threshold bound -----------------------------------------------------------------------------------------

def test_the_kpi_default_sl_threshold_has_the_queues_bounds():
    for threshold in (0, 3_601):
        for model, field in ((KpiSettings, "default_sl_threshold_s"), (QueueSettings, "sl_threshold_s")):
            with pytest.raises(ValidationError) as refused:
                model.model_validate({"name": "Q", field: threshold} if model is QueueSettings else {field: threshold})
            assert refused.value.errors()[0]["loc"] == (field,)
    assert KpiSettings(default_sl_threshold_s=1).default_sl_threshold_s == 1
    assert KpiSettings(default_sl_threshold_s=3_600).default_sl_threshold_s == 3_600


def test_kpi_settings_stored_with_a_zero_threshold_still_load():
    stored = KpiSettings.model_validate({"default_sl_threshold_s": 0}, context=STORED_DOCUMENT)
    assert stored.default_sl_threshold_s == 1  # the least a queue takes
