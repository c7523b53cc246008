"""A long wait stays far under a Standard execution's 25,000 history events (outside review L27, finding 1: a contact
waiting over ~16 h looped AwaitAgent -> Recheck every 30 s until AWS failed the execution, leaving it stuck).

Two guards, both run here on the real ASL by the local runtime's engine:
- a QUEUED contact's safety-net check grows with its wait (routing_engine.next_check_at): a 7-day wait is hundreds of
  loops, not 20,160;
- after the guard's number of loops (AfterRecheck's first rule) the wait continues in a new execution of the same state
  machine (NextGeneration, ContinueAsNew: named <contact id>-<generation>) and the old one ends, whatever the loops.

The end-to-end test lowers the guard to 2 loops on the runtime's deployed definition (restored after), so a few
seconds of waiting cross several generations; the budget test takes the events a loop writes from those histories,
the guard and the retries from the ASL, and the loops of the longest wait the API allows from next_check_at.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from ccaas.domain.models import ContactState
from ccaas.domain.routing_engine import RoutingPolicy, next_check_at
from local.seed import AgentSeed, QueueSeed, TenantSeed
from local.testing import api, entered_states, history_of, wait_until
from tests.fixtures.routing.builders import T0, contact, queue, s

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ASL = json.loads((Path(__file__).resolve().parents[2] / "statemachines" / "contact_lifecycle.asl.json").read_text())
HISTORY_LIMIT = 25_000  # events of one Standard execution (a hard quota)
WEEK_S = 7 * 86_400  # the longest max_wait_s (queues and callbacks) the API takes
ATTEMPT_EVENTS = {"TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut"}
LOWERED = 2


def _guard() -> dict:
    rule = ASL["States"]["AfterRecheck"]["Choices"][0]
    assert rule["Next"] == "NextGeneration"
    return next(r for r in rule["And"] if r["Variable"] == "$.recheck.loop")


def _retries(state: str) -> int:
    return sum(r.get("MaxAttempts", 3) for r in ASL["States"][state].get("Retry", []))


@pytest.fixture(scope="module")
def scenario(runtime):
    """Two e-mails with a 1 s reservation timeout under a guard of 2 loops: `long` (an agent takes it after a few
    generations) and `short` (its 6 s queue timeout abandons it in a later generation)."""
    sfn = runtime.client("stepfunctions")
    arn = runtime.state_machine_arn("ContactLifecycle")
    deployed = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    lowered = json.loads(deployed)
    lowered["States"]["AfterRecheck"]["Choices"][0]["And"][1]["NumericGreaterThanEquals"] = LOWERED
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(lowered))
    try:
        tenant = f"wf-{uuid.uuid4().hex[:8]}"
        runtime.seed_tenant(TenantSeed(
            tenant_id=tenant, name="continue as new", time_zone="UTC",
            queues=(QueueSeed("long", "Long", ("EMAIL",), sl_threshold_s=20, max_wait_s=600),
                    QueueSeed("short", "Short", ("EMAIL",), sl_threshold_s=20, max_wait_s=6)),
            agents=(AgentSeed("a0", "Agent 0", {}, (("long", 1),)),)))
        client = api(runtime, tenant)
        policy = client.call("GET", "/routing/policy")[1]
        policy["reservation"]["timeout_s"] = 1
        assert client.call("PUT", "/routing/policy", policy)[0] == 200
        ids = {}
        for name in ("long", "short"):
            status, body = client.call("POST", "/contacts", {"channel": "EMAIL", "queue_id": name})
            assert status == 201, body
            ids[name] = body["contact_id"]

        def executions(cid: str) -> list[dict]:
            """The contact's executions by generation: <tenant>-<contact id>, then <contact id>-1, -2, ..."""
            found = {}
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                for ex in page["executions"]:
                    if ex["name"] == f"{tenant}-{cid}":
                        found[0] = ex
                    elif ex["name"].startswith(f"{cid}-"):
                        found[int(ex["name"].rsplit("-", 1)[1])] = ex
            assert sorted(found) == list(range(len(found))), sorted(found)  # no generation missing
            return [found[g] for g in sorted(found)]

        def ended(cid: str) -> list[dict] | None:
            exs = executions(cid)
            return exs if exs and all(ex["status"] != "RUNNING" for ex in exs) else None

        wait_until(lambda: len(executions(ids["long"])) >= 3, 30, what="the long wait in its third execution")
        assert client.call("PUT", "/agents/a0/status", {"status": "AVAILABLE"})[0] == 200
        wait_until(lambda: ids["long"] in (client.call("GET", "/agents/a0")[1].get("offers") or []), 30,
                   what="the long wait offered to a0")
        for step in ("accept", "complete", "end-acw"):
            status, body = client.call("POST", f"/agents/a0/contacts/{ids['long']}/{step}")
            assert status == 200, body
        out = {}
        for name, cid in ids.items():
            exs = wait_until(lambda cid=cid: ended(cid), 30, what=f"every execution of the {name} wait ended")
            out[name] = {
                "contact": client.call("GET", f"/contacts/{cid}")[1], "tenant": tenant,
                "executions": [{**ex, **sfn.describe_execution(executionArn=ex["executionArn"]),
                                "history": history_of(runtime, ex["executionArn"])} for ex in exs],
            }
        yield out
    finally:
        sfn.update_state_machine(stateMachineArn=arn, definition=deployed)


def test_a_long_wait_continues_in_new_executions_and_ends_where_its_contact_does(scenario, runtime):
    for name, expected in (("long", "COMPLETED"), ("short", "ABANDONED")):
        run = scenario[name]
        cid, executions = run["contact"]["contact_id"], run["executions"]
        assert run["contact"]["state"] == expected, run["contact"]
        assert len(executions) >= 3, [ex["name"] for ex in executions]
        for generation, ex in enumerate(executions):
            assert ex["status"] == "SUCCEEDED", (name, generation, ex.get("error"), str(ex.get("cause"))[:300])
            given = json.loads(ex["input"])
            assert given["contact_id"] == cid
            if generation:  # the same input, counted: a new execution starts its loops again
                assert ex["name"] == f"{cid}-{generation}"
                assert given["recheck"]["generation"] == generation and given["recheck"]["loop"] == 0
            states = entered_states(ex["history"])
            assert states.count("Recheck") <= LOWERED, states  # the guard held in every execution
            if generation < len(executions) - 1:
                assert states[-2:] == ["NextGeneration", "ContinueAsNew"], states
        last = entered_states(executions[-1]["history"])
        if name == "short":  # abandoned by the last generation's Recheck, which starts post-contact as before
            assert last[-3:] == ["Recheck", "AfterRecheck", "StartPostContact"], last
            post = runtime.state_machine_arn("AnalyticsPostContact").replace(":stateMachine:", ":execution:")
            sfn = runtime.client("stepfunctions")
            started = sfn.describe_execution(executionArn=f"{post}:{executions[-1]['name']}")
            assert json.loads(started["input"])["contact_id"] == cid
        else:  # answered: the last AwaitAgent (or a Recheck that found it answered) ended the workflow
            assert last[-1] in ("AwaitAgent", "Connected"), last


def _longest_wait_loops(policy: RoutingPolicy, state: ContactState = ContactState.QUEUED) -> int:
    """Rechecks of a contact waiting the longest max_wait_s the API takes with nobody to take it: the timer is
    next_check_at (whole seconds, at least 1, as Recheck sets it)."""
    waiting = contact().model_copy(update={"state": state})
    now, loops = T0, 0
    while now < s(WEEK_S):
        now = max(now + 1000, -(-next_check_at(waiting, queue(max_wait_s=WEEK_S), policy, now) // 1000) * 1000)
        loops += 1
    return loops


def test_the_longest_wait_fits_the_history_quota_and_the_cost_target(scenario):
    """Events per loop as the engine wrote them; every retry the ASL allows on top; the guard's loops per execution."""
    history = scenario["long"]["executions"][0]["history"]
    entered = [i for i, e in enumerate(history) if "stateEnteredEventDetails" in e]
    names = [history[i]["stateEnteredEventDetails"]["name"] for i in entered]
    assert names[:4] == ["AwaitAgent", "Recheck", "AfterRecheck", "AwaitAgent"], names
    start_events = entered[0]  # ExecutionStarted
    loop_events = entered[3] - entered[0]
    tail_events = len(history) - entered[names.index("NextGeneration")]  # the continuation, ExecutionSucceeded too

    def attempt_events(k: int) -> int:  # one attempt of the task entered k-th: scheduled ... timed out / succeeded
        return sum(e["type"] in ATTEMPT_EVENTS for e in history[entered[k]:entered[k + 1]])

    await_attempt, recheck_attempt = attempt_events(0), attempt_events(1)
    continue_attempt = sum(e["type"] in ATTEMPT_EVENTS for e in history[entered[names.index("ContinueAsNew")]:])
    assert 10 <= loop_events <= 16 and await_attempt >= 3 and recheck_attempt >= 3, (loop_events, history)

    loops_per_execution = _guard()["NumericGreaterThanEquals"]
    worst_loop = loop_events + _retries("AwaitAgent") * await_attempt + _retries("Recheck") * recheck_attempt
    tail = tail_events + _retries("ContinueAsNew") * continue_attempt
    follow = tail + _retries("RecordOriginal") * continue_attempt  # once: RecordOriginal + FollowCallback, alike
    worst = start_events + loops_per_execution * worst_loop + tail + follow
    usual = start_events + loops_per_execution * loop_events + tail
    assert worst <= 0.8 * HISTORY_LIMIT, (worst, worst_loop)  # every step retried in full on every loop
    assert usual <= 0.2 * HISTORY_LIMIT, usual

    # The longest wait: queued, or as a scheduled callback, at the default reservation timeout and the shortest.
    for timeout_s in (30, 0.001):
        policy = RoutingPolicy.model_validate({"reservation": {"timeout_s": timeout_s},
                                               "queue_defaults": {"callback": {"max_wait_s": WEEK_S}}})
        loops = _longest_wait_loops(policy)
        continuations = (loops - 1) // loops_per_execution
        transitions = 1 + 3 * loops + 2 * continuations  # AwaitAgent; Recheck, AfterRecheck, next; the hand-over
        assert loops < 800 and continuations <= 3, (timeout_s, loops)  # was 20,160 loops in one execution at 30 s
        assert transitions * 0.025 / 1000 < 0.06, transitions  # dollars for a week in queue (was $1.51)
        assert _longest_wait_loops(policy, ContactState.CALLBACK_SCHEDULED) <= 2  # no safety net: the expiry
