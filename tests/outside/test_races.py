"""Outside tests: races on the stack deployed into moto. Threads call the use-cases the routes call, as
concurrent Lambda invocations would (one event per execution environment; the in-process handler harness
shares one Powertools resolver between threads, so it cannot be raced itself); reads go through the API.

Several threads override evaluation answers of one contact at once (different and same questions): every
request answers 200 or 409, never a 5xx, and every answer a 200 acknowledged is there afterwards (no silent
loss). Threads race start/pause/stop of a campaign: the final status is one a request asked for, every
answer is 200 or 409, and the dialer never ticks a campaign that is not running."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.analytics.rules import default_compliance
from ccaas.domain.models import AgentStatus, Conflict, DomainError
from ccaas.usecases import analytics, outbound
from tests.calling_hours import zone_in_hours
from tests.handlers.conftest import env, stack, tenant  # noqa: F401 - fixtures
from tests.history_data import record_handled_contact
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

SEGMENTS = [
    {"speaker": "AGENT", "begin_ms": 0, "end_ms": 3_000, "text": "Hello, this call may be recorded for quality."},
    {"speaker": "CUSTOMER", "begin_ms": 3_500, "end_ms": 6_000, "text": "Hi, I have a question about my bill."},
    {"speaker": "AGENT", "begin_ms": 6_500, "end_ms": 9_000, "text": "I have fixed the bill for you."},
    {"speaker": "CUSTOMER", "begin_ms": 9_500, "end_ms": 12_000, "text": "Great, thank you so much."},
]


def _analysed(tenant_id: str, contact_id: str) -> dict:
    record_handled_contact(tenant_id, contact_id)
    compliance = [r.model_dump(mode="json") for r in default_compliance() if r.name == "recording_disclosure"]
    assert api("PUT", "/settings/analytics", tenant_id, {"compliance": compliance})[0] == 200
    status, summary = api("POST", f"/contacts/{contact_id}/transcript", tenant_id, {"segments": SEGMENTS})
    assert status == 201, summary
    status, body = api("GET", f"/contacts/{contact_id}/evaluation", tenant_id)
    assert status == 200 and body["version"] == 1, body
    return body["evaluation"]


def _yes_no_questions(evaluation: dict) -> list[str]:
    return [q["id"] for s in evaluation["sections"] for q in s["questions"] if q["type"] == "yes_no"]


def _overrides(tenant_id: str, contact_id: str) -> tuple[int, dict[str, tuple[str, str]]]:
    status, body = api("GET", f"/contacts/{contact_id}/evaluation", tenant_id)
    assert status == 200, body
    held = {q["id"]: (q["override"]["value"], q["override"]["comment"]) for s in body["evaluation"]["sections"]
            for q in s["questions"] if q["override"]}
    return body["version"], held


def _race(calls: list[Callable[[], Any]], *, refusals: bool = False) -> list[tuple[int, Any]]:
    """Run the calls on threads at once, as concurrent Lambda invocations would (each its own
    environment: the use-case, not the shared Powertools resolver, which one environment runs one event
    at a time). Each outcome as the API would answer it: (200, result) or (409, Conflict), and with
    `refusals` (422, DomainError) too; any other exception would be a 5xx and is re-raised."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> tuple[int, Any]:
        barrier.wait()
        try:
            return 200, call()
        except Conflict as conflict:
            return 409, conflict
        except DomainError as refused:
            if not refusals:
                raise
            return 422, refused

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_overrides_of_different_questions_at_once_all_land_or_are_409s(tenant):
    questions = _yes_no_questions(_analysed(tenant.id, "r1"))
    assert len(questions) >= 4
    deps = dependencies()
    answers = _race([partial(analytics.override_answer, deps, tenant.id, "r1", q,
                             analytics.AnswerOverrideRequest(answer="no", comment=f"thread {i}"), by=f"supervisor:{i}")
                     for i, q in enumerate(questions)])
    landed = {q for q, (status, _) in zip(questions, answers) if status == 200}
    assert landed, "every writer lost"
    version, held = _overrides(tenant.id, "r1")
    assert landed <= set(held), f"acknowledged overrides lost: {landed - set(held)}"
    assert set(held) <= set(questions)
    assert all(held[q] == ("no", f"thread {i}") for i, q in enumerate(questions) if q in landed)
    assert version == 1 + len(landed)  # one version per acknowledged write, no write counted twice


def test_overrides_of_one_question_at_once_keep_an_acknowledged_answer(tenant):
    (question, *_) = _yes_no_questions(_analysed(tenant.id, "r2"))
    deps = dependencies()
    requests = [analytics.AnswerOverrideRequest(answer="yes" if i % 2 else "no", comment=f"writer {i}") for i in range(6)]
    answers = _race([partial(analytics.override_answer, deps, tenant.id, "r2", question, r, by=f"supervisor:{i}")
                     for i, r in enumerate(requests)])
    acknowledged = {(r.answer, r.comment) for r, (status, _) in zip(requests, answers) if status == 200}
    assert acknowledged
    version, held = _overrides(tenant.id, "r2")
    assert held[question] in acknowledged  # the last acknowledged writer's answer, not one that got a 409
    assert version == 1 + len(acknowledged)
    for status, outcome in answers:  # a loser is told why, naming the field (the API's 409)
        if status == 409:
            assert outcome.field == "contact_id"


def _with_outbound(deps: Any, **methods: Callable[..., Any]) -> Any:
    """`deps` whose outbound store answers `methods` itself (a step of another writer between a tick's reads and
    its writes) and everything else as the real store."""
    store = deps.outbound

    class Store:
        def __getattr__(self, name: str) -> Any:
            return methods[name] if name in methods else getattr(store, name)

    class Deps:
        outbound = Store()

        def __getattr__(self, name: str) -> Any:
            return getattr(deps, name)

    return Deps()


CAMPAIGN = {"campaign_id": "race", "name": "Race", "mode": "progressive", "queue_id": "sales",
            "caller_id": "+12125550199", "policy": {"max_attempts": 3, "min_gap_minutes": 60}}
FINAL = {"start": "running", "pause": "paused", "stop": "stopped"}


@pytest.mark.parametrize("actions", [
    ["start", "pause"] * 4,
    ["start", "pause", "stop", "start", "pause", "start"],
    ["start"] * 6,
])
def test_racing_start_pause_stop_ends_in_a_requested_status_and_never_ticks_a_stopped_campaign(tenant, actions):
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated", "seed": 3})[0] == 200
    assert api("POST", "/campaigns", tenant.id, CAMPAIGN)[0] == 201
    daytime = zone_in_hours()  # the row is dialable now: a running campaign dials it
    assert api("POST", "/campaigns/race/lists", tenant.id, {"format": "json", "rows": [
        {"row_id": "a", "phone": daytime.number(1), "time_zone": daytime.zone, "consent_automated_voice": True}]})[1]["accepted"] == 1
    deps = dependencies()
    answers = [(s, r.model_dump(mode="json") if s == 200 else r)
               for s, r in _race([partial(outbound.change_status, deps, tenant.id, "race", a) for a in actions])]
    status, campaign = api("GET", "/campaigns/race", tenant.id)
    assert status == 200
    succeeded = {FINAL[a] for a, (s, _) in zip(actions, answers) if s == 200}
    assert campaign["status"] in succeeded, (campaign["status"], answers)
    # every 200 showed a status its action asked for, and versions only grew by acknowledged changes
    for action, (s, body) in zip(actions, answers):
        if s == 200:
            assert body["status"] == FINAL[action]
    assert campaign["version"] <= 1 + sum(1 for s, _ in answers if s == 200)

    for agent in deps.store.list_agents(tenant.id):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    # the scheduler's index of running campaigns agrees with the status
    assert ((tenant.id, "race") in deps.outbound.running_campaigns()) == (campaign["status"] == "running")
    tick = outbound.dial_tick(deps, tenant.id, "race")
    attempts = api("GET", "/campaigns/race/attempts", tenant.id, role="supervisor")[1]
    if campaign["status"] == "running":
        assert tick.dialed == 1 and [a["attempt"]["row_id"] for a in attempts] == ["a"]
        assert attempts[0]["campaign_version"] == campaign["version"]
    else:  # paused or stopped: the dialer does nothing
        assert tick.dialed == 0 and tick.wanted == 0 and attempts == []


@pytest.mark.parametrize("body", [
    {"answer": None}, {"answer": ""}, {"answer": "YES"}, {"answer": 1}, {"answer": 1.5}, {"answer": 1e308},
    {"answer": 1.0}, {"answer": "true"}, {"answer": [1]}, {"answer": {"value": "yes"}}, {"answer": "na"}, {},
    {"answer": "yes", "comment": "😀" * 1_001}, {"answer": "yes", "comment": 5}, {"answer": True, "comment": None},
])
def test_ugly_override_bodies_are_422s_at_answer_and_change_nothing(tenant, body):
    evaluation = _analysed(tenant.id, "u1")
    question = next(q for s in evaluation["form"]["sections"] for q in s["questions"]
                    if q["type"] == "yes_no" and not q["not_applicable_allowed"])["id"]
    status, answer = api("PUT", f"/contacts/u1/evaluation/answers/{question}", tenant.id, body, role="supervisor")
    version, held = _overrides(tenant.id, "u1")
    if body == {"answer": True, "comment": None}:
        assert status == 200 and version == 2 and held[question] == ("yes", None)
        return
    assert status == 422, answer
    assert answer["field"] == ("comment" if "comment" in body else "answer")  # one field, not `answer.bool`
    assert (version, held) == (1, {})


@pytest.mark.parametrize("action", ["pause", "stop"])
def test_a_pause_or_stop_landing_mid_tick_dials_nothing(tenant, action):
    """The tick read the campaign RUNNING; the supervisor's pause/stop lands before the attempt is stored:
    the attempt's transaction (conditioned on RUNNING at the version read) fails and nothing is dialed."""
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated", "seed": 3})[0] == 200
    assert api("POST", "/campaigns", tenant.id, {**CAMPAIGN, "campaign_id": "mid"})[0] == 201
    daytime = zone_in_hours()  # dialable now: the tick gets as far as storing an attempt
    rows = [{"row_id": f"m{i}", "phone": daytime.number(i), "time_zone": daytime.zone, "consent_automated_voice": True}
            for i in range(3)]
    assert api("POST", "/campaigns/mid/lists", tenant.id, {"format": "json", "rows": rows})[1]["accepted"] == 3
    assert api("POST", "/campaigns/mid/start", tenant.id, role="supervisor")[0] == 200
    deps = dependencies()
    for agent in deps.store.list_agents(tenant.id):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])

    def due_rows(*args, **kwargs):  # the supervisor's click between the tick's reads and its writes
        due = deps.outbound.due_rows(*args, **kwargs)
        assert api("POST", f"/campaigns/mid/{action}", tenant.id, role="supervisor")[0] == 200
        return due

    tick = outbound.dial_tick(_with_outbound(deps, due_rows=due_rows), tenant.id, "mid")
    assert tick.dialed == 0 and tick.conflicts >= 1
    assert api("GET", "/campaigns/mid/attempts", tenant.id, role="supervisor")[1] == []
    assert api("GET", "/campaigns/mid", tenant.id)[1]["status"] == FINAL[action]


def test_two_campaigns_ticking_one_debt_at_once_store_its_7th_call_once(tenant):
    """Reg F's 7-in-7 is per debt across campaigns. Two campaigns' ticks check one debt that has 6 calls in the
    week, both allow a 7th, then both write: DynamoDB's transaction holds the debt's ledger to the version each
    check read, so one attempt is stored and dialed, the other is a conflict and dials nothing."""
    assert api("PUT", "/settings/outbound", tenant.id, {"kind": "simulated", "seed": 3})[0] == 200
    daytime = zone_in_hours()  # every row is dialable now
    lists = {"debt-a": range(6), "debt-b": [6], "debt-c": [7]}
    queues = {"debt-a": "sales", "debt-b": "q-b", "debt-c": "q-c"}  # campaigns of one queue tick one at a time (its lease)
    for queue_id in ("q-b", "q-c"):
        assert api("PUT", f"/queues/{queue_id}", tenant.id, {"name": queue_id, "channels": ["VOICE"]})[0] in (200, 201)
        assert api("PUT", f"/agents/a-{queue_id}", tenant.id, {"name": queue_id, "queues": [{"queue_id": queue_id}]})[0] == 200
        assert api("PUT", f"/agents/a-{queue_id}/status", tenant.id, {"status": "AVAILABLE"}, role="supervisor")[0] == 200
    for campaign_id, numbers in lists.items():
        body = {**CAMPAIGN, "campaign_id": campaign_id, "queue_id": queues[campaign_id]}
        assert api("POST", "/campaigns", tenant.id, body)[0] == 201
        rows = [{"row_id": f"n{i}", "phone": daytime.number(i), "time_zone": daytime.zone, "account_id": "debt-9",
                 "consent_automated_voice": True} for i in numbers]
        assert api("POST", f"/campaigns/{campaign_id}/lists", tenant.id, {"format": "json", "rows": rows})[1]["accepted"] == len(rows)
        assert api("POST", f"/campaigns/{campaign_id}/start", tenant.id, role="supervisor")[0] == 200
    deps = dependencies()
    for agent in deps.store.list_agents(tenant.id):
        deps.store.save(agents=[agent.model_copy(update={"status": AgentStatus.AVAILABLE, "version": agent.version + 1})])
    extra = [f"x{i}" for i in range(6)]  # enough free agents for six calls in one tick
    for agent_id in extra:
        assert api("PUT", f"/agents/{agent_id}", tenant.id, {"name": agent_id, "queues": [{"queue_id": "sales"}]})[0] == 200
        assert api("PUT", f"/agents/{agent_id}/status", tenant.id, {"status": "AVAILABLE"}, role="supervisor")[0] == 200
    assert outbound.dial_tick(deps, tenant.id, "debt-a").dialed == 6
    both_checked = threading.Barrier(2, timeout=20)

    def start_attempt(*args, **kwargs):  # both ticks' checks done before either writes
        both_checked.wait()
        return deps.outbound.start_attempt(*args, **kwargs)

    racing = _with_outbound(deps, start_attempt=start_attempt)
    ticks = [tick for _, tick in _race([partial(outbound.dial_tick, racing, tenant.id, c) for c in ("debt-b", "debt-c")])]
    assert sorted(t.dialed for t in ticks) == [0, 1] and sorted(t.conflicts for t in ticks) == [0, 1]
    attempts = [a for c in lists for a in api("GET", f"/campaigns/{c}/attempts", tenant.id, role="supervisor")[1]]
    assert len(attempts) == 7 and {a["attempt"]["account_id"] for a in attempts} == {"debt-9"}


def test_overrides_racing_a_re_analysis_are_kept(tenant):
    """A transcript uploaded again (re-analysis) while supervisors override: every acknowledged override
    is in the stored evaluation afterwards and the re-analysis's score counts them."""
    questions = _yes_no_questions(_analysed(tenant.id, "r3"))[:4]
    deps = dependencies()
    calls: list[Callable[[], Any]] = [
        partial(analytics.override_answer, deps, tenant.id, "r3", q, analytics.AnswerOverrideRequest(answer="no"),
                by=f"supervisor:{i}") for i, q in enumerate(questions)]
    calls.insert(2, partial(analytics.upload_transcript, deps, tenant.id, "r3", {"segments": SEGMENTS}))
    answers = _race(calls)
    landed = {q for q, (status, _) in zip(questions, answers[:2] + answers[3:]) if status == 200}
    assert landed
    version, held = _overrides(tenant.id, "r3")
    assert landed <= set(held)
    assert version == 1 + sum(1 for status, _ in answers if status == 200)
    stored = api("GET", "/contacts/r3/evaluation", tenant.id)[1]["evaluation"]
    assert api("GET", "/contacts/r3/analysis", tenant.id)[1]["qa"]["score"] == stored["score"]


@pytest.mark.parametrize("completes", [0, 2], ids=["moves", "moves and completes"])
def test_moves_racing_on_one_connected_contact_leave_one_winner_and_one_chain(tenant, env, completes):
    """An agent's client double-firing (or two tabs): blind transfers, consults, completes and holds of one
    connected contact at once (a complete, the cheapest, wins when it is in the race). One move wins; every
    other request is a 409 or 422 with its reason (never a 5xx), and the customer's contact has at most one
    next segment (raced against `make run` first: it held there too)."""
    from ccaas.usecases import contacts, transfers
    from tests.handlers.test_transfer_handlers import _connected, _team

    cid = _connected(tenant, env)
    _team(tenant)  # the billing queue
    deps = dependencies()
    to_billing = {"to": {"queue_id": "billing"}}
    moves = ([("transfer", partial(transfers.transfer, deps, tenant.id, "ana", cid, transfers.TransferRequest(**to_billing)))] * 3
             + [("consult", partial(transfers.consult, deps, tenant.id, "ana", cid, transfers.ConsultRequest(**to_billing)))] * 3
             + [("complete", partial(contacts.complete_contact, deps, tenant.id, "ana", cid))] * completes
             + [("hold", partial(transfers.hold, deps, tenant.id, "ana", cid))] * 2)

    outcomes = _race([call for _, call in moves], refusals=True)
    won = [kind for (kind, _), (status, _) in zip(moves, outcomes) if status == 200 and kind != "hold"]
    assert len(won) == 1, list(zip([k for k, _ in moves], outcomes))
    refused = [result for status, result in outcomes if status in (409, 422)]
    assert all(str(r) for r in refused) and len(refused) >= len(moves) - 1 - 2, outcomes  # 2: the holds may land
    status, chain = api("GET", f"/contacts/{cid}/segments", tenant.id)
    assert status == 200, chain
    following = [c for c in chain if c.get("previous_contact_id") == cid]  # the new segment, or the consult leg
    assert len(following) == (0 if won == ["complete"] else 1), (won, chain)
    status, contact = api("GET", f"/contacts/{cid}", tenant.id)
    assert (contact["consult_contact_id"] is not None) == (won == ["consult"]), (won, contact)
    if following:
        assert (following[0].get("consult_of") == cid) == (won == ["consult"]), (won, following)
