"""The fuzz tier of `make test`: schemathesis over every operation of a local runtime's API (its own
/v1/openapi.json, the demo tenant's key on every request), every operation again from another tenant with the
demo's ids (tenant isolation), then hand-made ugly payloads.

Bounded and deterministic: a fixed seed (FUZZ_SEED), a per-operation budget that sends at least
MIN_REQUESTS requests, one at a time. It fails on any 5xx, an undocumented status code or content type,
a body its status does not document, and a response slower than SLOW_S (sent once more first: only a
repeat over the limit counts, not a scheduling hiccup of a loaded machine); every failure of the run is
collected first, then printed as one table with the totals (and written as JSON to $FUZZ_REPORT).

Each pass is split into SHARDS tests (interleaved slices of the operations, fuzzing.shard), so no test
runs long and a failure names its slice; together they fuzz every operation with the same cases. Two
profiles (FUZZ_PROFILE): "default" (`make test`: every operation, each batch kind, a fifth to a third of
the cases: 6 schema-valid, 6 schema-invalid and 4 known-id cases per operation, at least 700 requests) and
"thorough" (the full budget: 30 schema-valid, 30 schema-invalid and 12 known-id cases per operation, at
least 2,000 requests); FUZZ_POSITIVE, FUZZ_NEGATIVE, FUZZ_KNOWN_IDS, FUZZ_MIN_REQUESTS override either.

    .venv/bin/python -m pytest tests/fuzz -s          # the tier alone, with the summary on stdout
    FUZZ_PROFILE=thorough FUZZ_REPORT=/tmp/fuzz.json FUZZ_SEED=7 .venv/bin/python -m pytest tests/fuzz
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
import requests

from tests.fuzz import fuzzing

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]

SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
# (positive, negative, known ids) per operation and the least requests of the admin pass
PROFILES = {"default": (6, 6, 4, 700), "thorough": (30, 30, 12, 2_000)}
_POSITIVE, _NEGATIVE, _KNOWN_IDS, _MIN_REQUESTS = PROFILES[os.environ.get("FUZZ_PROFILE", "default")]
BUDGET = fuzzing.Budget(
    positive=int(os.environ.get("FUZZ_POSITIVE", _POSITIVE)),
    negative=int(os.environ.get("FUZZ_NEGATIVE", _NEGATIVE)),
    known_ids=int(os.environ.get("FUZZ_KNOWN_IDS", _KNOWN_IDS)),
)
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", _MIN_REQUESTS))
SHARDS = 10  # tests of the admin pass (AGENT_SHARDS of the agent pass)
SLOW_S = 2.0
MB = 1_000_000


@pytest.fixture(scope="module")
def runtime():
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start(simulate=False, port=0)  # like `SIMULATE=0 make run`, on a free port of 127.0.0.1
    yield rt
    rt.stop()


def _report(section: str, content: dict[str, Any]) -> None:
    if path := os.environ.get("FUZZ_REPORT"):
        fuzzing.update_report(path, section, content)


def _known_ids(runtime) -> dict[str, str]:
    """Path ids that exist in the demo tenant: seeded ones and a contact made for the run."""
    from local.testing import api

    status, contact = api(runtime, "demo").call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})
    assert status in (200, 201), contact
    return {"agent_id": "ana", "queue_id": "sales", "customer_id": "cust-gold", "contact_id": contact["contact_id"]}


@pytest.fixture(scope="module")
def known_ids(runtime) -> dict[str, str]:
    return _known_ids(runtime)


@pytest.fixture(scope="module")
def admin_schema(runtime):  # noqa: ANN201 (a schemathesis schema)
    """The API's schema with the admin key, read and parsed once for every shard (~0.5 s of CPU a load);
    the shards draw their cases from it by their own seeds."""
    return fuzzing.load_schema(runtime.api_url, runtime.api_keys["demo"], slow_s=SLOW_S)


def _share(total: int, part: int, whole: int) -> int:
    """A shard's part of the least requests of a pass: in proportion to its operations, rounded up."""
    return -(-total * part // whole)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_schemathesis_over_every_operation(runtime, known_ids, admin_schema, shard: int) -> None:
    # The admin key: it reads every route and configures; the routes of other roles answer it 403,
    # which every operation documents (the check the fuzz makes of every answer).
    key, schema = runtime.api_keys["demo"], admin_schema
    every = [r.ok().label for r in schema.get_all_operations()]
    assert len(every) >= 40, every
    operations = fuzzing.shard(every, shard, SHARDS)
    least = _share(MIN_REQUESTS, len(operations), len(every))

    result = fuzzing.fuzz(
        schema, runtime.api_url, key, budget=BUDGET, seed=SEED, known_ids=known_ids, only=operations,
        min_requests=least, slow_s=SLOW_S, progress=lambda line: print(f"fuzz: {line}", flush=True),
    )
    summary = result.summary()
    print(summary)
    _report(f"schemathesis[{shard}]", {**result.as_dict(), "operations": operations})

    problems = []
    if result.requests < least:
        problems.append(f"only {result.requests} requests sent (at least {least})")
    if missing := [op for op in operations if op not in result.per_operation]:
        problems.append(f"operations never fuzzed: {missing}")
    if result.findings:
        problems.append(f"{len(result.findings)} check failures in {len({f.seq for f in result.findings})} responses")
    assert not problems, "; ".join(problems) + "\n" + summary


def _connected_to_ana(runtime) -> str:
    """A contact connected to ana, so the agent pass reaches the transfer, consult and hold operations
    with a contact they can act on (the first valid move changes it; later ones meet its new state)."""
    from local.testing import api, wait_until

    agent = api(runtime, "demo", agent_id="ana")
    # The admin pass may have left sales with random settings (no VOICE) and ana with a random profile
    # (capacity 0, other queues): sane ones first (sales as local.seed makes it).
    status, body = api(runtime, "demo").call(
        "PUT", "/queues/sales", {"name": "Sales", "channels": ["VOICE"], "sl_threshold_s": 20, "max_wait_s": 45})
    assert status == 200, body
    status, body = api(runtime, "demo").call("PUT", "/agents/ana", {"name": "Ana", "queues": [{"queue_id": "sales"}]})
    assert status == 200, body
    status, contact = api(runtime, "demo").call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})
    assert status == 201, contact
    assert agent.call("PUT", "/agents/ana/status", {"status": "AVAILABLE"})[0] == 200
    # Hers is this contact, or one still waiting from the admin pass: either will do.
    offers = wait_until(lambda: agent.call("GET", "/agents/ana")[1].get("offers"), what="an offer for ana")
    contact_id = offers[0]
    assert agent.call("POST", f"/agents/ana/contacts/{contact_id}/accept")[0] == 200
    return contact_id


AGENT_MIN_REQUESTS = MIN_REQUESTS * 3 // 10  # 600 of the thorough 2,000
AGENT_SHARDS = 2
# Half the random budget: most random agent ids are another agent's (403); the known ids carry the pass.
AGENT_BUDGET = fuzzing.Budget(positive=BUDGET.positive // 2, negative=BUDGET.negative // 2, known_ids=BUDGET.known_ids)


@pytest.fixture(scope="module")
def anas_contact(runtime) -> str:
    """Made once, after the admin pass, for every shard of the agent pass."""
    return _connected_to_ana(runtime)


@pytest.fixture(scope="module")
def agent_schema(runtime):  # noqa: ANN201 (a schemathesis schema)
    """The API's schema with ana's key, once for both shards of the agent pass."""
    return fuzzing.load_schema(runtime.api_url, runtime.key("demo", agent_id="ana"), slow_s=SLOW_S)


@pytest.mark.parametrize("shard", range(AGENT_SHARDS))
def test_schemathesis_as_an_agent_over_the_agents_operations(runtime, anas_contact, agent_schema, shard: int) -> None:
    """The admin pass meets 403 on the agent's routes: this pass sends them as the agent ana, with her
    connected contact among the known ids (transfer, consult, hold, escalate bodies reach the use-cases)."""
    key, schema = runtime.key("demo", agent_id="ana"), agent_schema
    every = [op.label for op in fuzzing.operations_of(schema, "agent")]
    assert any("/transfer" in op for op in every) and len(every) >= 15, every
    operations = fuzzing.shard(every, shard, AGENT_SHARDS)
    known = {"agent_id": "ana", "contact_id": anas_contact}
    result = fuzzing.fuzz(schema, runtime.api_url, key, budget=AGENT_BUDGET, seed=SEED, known_ids=known,
                          min_requests=_share(AGENT_MIN_REQUESTS, len(operations), len(every)), slow_s=SLOW_S,
                          role="agent", only=operations,
                          progress=lambda line: print(f"fuzz (agent): {line}", flush=True))
    summary = result.summary()
    print(summary)
    _report(f"schemathesis_agent[{shard}]", {**result.as_dict(), "operations": operations})
    problems = []
    if missing := [op for op in operations if op not in result.per_operation]:
        problems.append(f"operations never fuzzed: {missing}")
    if result.findings:
        problems.append(f"{len(result.findings)} check failures in {len({f.seq for f in result.findings})} responses")
    assert not problems, "; ".join(problems) + "\n" + summary


# -- another tenant with the same ids ------------------------------------------------------------------
SWEEP_CASES = 2  # schema-valid cases per operation and role: the path ids are the point, not the bodies
# What only the demo tenant holds (its seed: local.seed.DEMO): a rival's 2xx must carry none of it.
DEMO_ONLY = ("+14155550100", "+14155550101", "+447700900123", "pat.platinum@example.com", "gold.customer@example.com",
             "Ana Alves", "Demo Contact Center")


def _rival(runtime) -> dict[str, str]:
    """A tenant whose agents, queues and customers have the demo's ids (its own names and numbers); its key
    of each role, the agent key ana's."""
    import dataclasses

    from local import seed

    demo = seed.DEMO
    rival = dataclasses.replace(
        demo, tenant_id="rival", name="Rival Corp", connect_instance_arn=None, connect_queue_arns={}, outbound_demo=False,
        agents=tuple(dataclasses.replace(a, name=f"Rival {a.agent_id}") for a in demo.agents),
        customers=tuple(dataclasses.replace(c, phones=(f"+1415555018{i}",), emails=(f"{c.customer_id}@rival.example.com",),
                                            last_contact=None) for i, c in enumerate(demo.customers)))
    runtime.seed_tenant(rival)
    keys = runtime.role_keys["rival"]
    return {"admin": keys["admin"], "supervisor": keys["supervisor"], "integration": keys["integration"],
            "agent": keys["agent:ana"]}


def _parked_contact(runtime) -> str:
    """A demo contact that waits in a queue no agent serves for as long as a queue allows: its state changes
    only if someone changes it."""
    from local.testing import api

    demo = api(runtime, "demo")
    status, body = demo.call("PUT", "/queues/parked", {"name": "Parked", "channels": ["VOICE"], "max_wait_s": 7 * 86_400})
    assert status == 200, body
    status, contact = demo.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "parked", "customer_id": "cust-gold"})
    assert status == 201, contact
    return contact["contact_id"]


def _demo_state(runtime, contact_id: str) -> dict[str, Any]:
    """What a rival's writes could change and nothing else does meanwhile: the demo's configuration, ana's
    profile, a customer, the keys and a parked contact, as the demo's admin reads them."""
    from local.testing import api

    demo = api(runtime, "demo")
    paths = ["/queues", "/routing/policy", "/alerts/rules", "/campaigns",
             *(f"/settings/{name}" for name in ("kpis", "analytics", "guidance", "transfers", "outbound", "journeys"))]
    state: dict[str, Any] = {path: demo.call("GET", path) for path in paths}
    agent, customer, contact = (demo.call("GET", path)[1] for path in (
        "/agents/ana", "/customers/cust-gold", f"/contacts/{contact_id}"))
    state["ana"] = {k: agent[k] for k in ("name", "skills", "queues", "capacity")}
    state["cust-gold"] = {k: customer[k] for k in ("tier", "vip", "phones", "emails", "name", "attributes")}
    state["contact"] = {k: contact[k] for k in ("state", "queue_id", "agent_id", "customer_id", "attributes", "priority")}
    state["/keys"] = sorted((k["key_id"], k["role"], k["revoked_at"]) for k in demo.call("GET", "/keys")[1])
    return state


def test_another_tenant_with_the_same_ids_reaches_nothing_of_this_tenants(runtime, known_ids, anas_contact) -> None:
    """Every operation, as each role it admits, called by a tenant whose agents, queues and customers have the
    demo's ids, with the demo's contact, campaign and key ids in the path (schema-valid cases): never a 5xx,
    no 2xx carries what only the demo holds (its contacts' and keys' ids, its customers' numbers, its names),
    and the demo's state is as it was."""
    from local.testing import api

    keys = _rival(runtime)
    parked = _parked_contact(runtime)
    demo_keys = [k["key_id"] for k in api(runtime, "demo").call("GET", "/keys")[1]]
    ids = {**known_ids, "contact_id": parked, "campaign_id": "demo-outbound", "key_id": demo_keys[0],
           "alert_id": "demo-alert", "row_id": "row-1", "question_id": "greeting", "name": "smoke",
           "query_id": "demo-query.e30"}  # a lake query id: another tenant's is a 404 (tests/handlers/test_lake_api.py)
    demo_only = (*DEMO_ONLY, parked, known_ids["contact_id"], anas_contact, *demo_keys)
    before = _demo_state(runtime, parked)
    schema = fuzzing.load_schema(runtime.api_url, keys["admin"], slow_s=SLOW_S)
    problems, sent = [], 0
    with fuzzing.local_session() as session, fuzzing.without_local_constants():
        for operation in fuzzing.operations_of(schema):
            fixed = {p.name: ids[p.name] for p in operation.path_parameters}
            strategy = operation.as_strategy(generation_mode=fuzzing.GenerationMode.POSITIVE, path_parameters=fixed)
            cases = fuzzing.draw(strategy, SWEEP_CASES, SEED) if fixed else fuzzing.draw(strategy, 1, SEED)
            for role in operation.definition.raw.get("x-roles") or ["admin"]:
                for case in cases:
                    response = case.call(base_url=runtime.api_url, session=session, timeout=60,
                                         headers={"Authorization": f"Bearer {keys[role]}"})
                    sent += 1
                    leaked = [v for v in demo_only if v in response.text] if 200 <= response.status_code < 300 else []
                    if response.status_code >= 500 or leaked:
                        problems.append(f"{role} {response.request.method} {response.request.path_url}: "
                                        f"{response.status_code} {leaked} {response.text[:200]}")
    runtime.wait_for_stream_idle(flush=True)
    after = _demo_state(runtime, parked)
    changed = {k: (v, after[k]) for k, v in before.items() if after[k] != v}
    print(f"rival sweep: {sent} requests, {len(problems)} problems, {len(changed)} demo reads changed")
    assert sent >= 150 and not problems and not changed, (problems, changed)


# -- card numbers typed anywhere ----------------------------------------------------------------------
CARDS_INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/ca4d5ca4-0000-4000-8000-000000000001"


def _cards_tenant(runtime) -> dict[str, str]:
    """A tenant of its own for the card sweep, with its own Connect instance: the admin pass above leaves the
    demo's settings random (no evaluation form, attribute redaction off, ...). Its keys by role."""
    from local import seed

    runtime.seed_tenant(seed.TenantSeed(
        tenant_id="cards", name="Card sweep", time_zone="UTC", connect_instance_arn=CARDS_INSTANCE,
        queues=(seed.QueueSeed("desk", "Desk", ("VOICE", "CHAT")), seed.QueueSeed("waiting", "Waiting", ("VOICE",))),
        agents=(seed.AgentSeed("pia", "Pia", {}, (("desk", 1),)),),
        transfer_settings={"escalation_queue_id": "waiting"}))
    return runtime.role_keys["cards"]


def _serving(admin, agent, channel: str) -> str:
    """A new contact of the desk queue, connected to pia."""
    from local.testing import wait_until

    status, contact = admin.call("POST", "/contacts", {"channel": channel, "queue_id": "desk"})
    assert status == 201, contact
    assert agent.call("PUT", "/agents/pia/status", {"status": "AVAILABLE"})[0] == 200
    contact_id = contact["contact_id"]
    wait_until(lambda: contact_id in (agent.call("GET", "/agents/pia")[1].get("offers") or []) or None,
               what=f"{contact_id} offered to pia")
    assert agent.call("POST", f"/agents/pia/contacts/{contact_id}/accept")[0] == 200
    return contact_id


def test_no_card_number_typed_into_any_field_is_stored_or_logged(runtime, capsys) -> None:
    """Each free-text field a customer, an agent, a supervisor or an integration fills (attribute keys and
    values, names, reasons, notes, comments, messages, transcripts, CSV cells and headers, a flow's inputs)
    gets its own Luhn-valid card number; afterwards none of them is in any table, object, execution, stream
    record, dead-letter queue or line of handler output. Ids are identifiers, stored as given (README), and
    configuration text is the admin's: neither is typed here."""
    from local import flow
    from local.simulation import ApiClient
    from local.testing import api, wait_for_contacts_recorded
    from tests.fuzz import stores
    from tests.history_data import card_leaks

    cards: dict[str, str] = {}

    def card(label: str, *, bare: bool = False) -> str:
        number = stores.luhn_card(len(cards))
        cards[number] = label
        return number if bare else f"card {' '.join(number[i:i + 4] for i in range(0, 16, 4))} ok"

    keys = _cards_tenant(runtime)
    # each route with the key of the role it serves (the directory is the integration's, overrides a supervisor's)
    admin, agent = api(runtime, "cards"), ApiClient(runtime.api_url, keys["agent:pia"])
    sent: list[tuple[str, int, Any]] = []

    def call(client, method: str, path: str, body: Any) -> Any:
        status, answer = client.call(method, path, body)
        sent.append((f"{method} {path}", status, answer))
        assert 200 <= status < 300, sent[-1]
        return answer

    on = "/agents/pia/contacts"
    call(admin, "PUT", "/customers/pat", {"name": card("customer name"), "phones": ["+14155550177"], "attributes": {
        "card_on_file": card("customer attribute value"), card("customer attribute key", bare=True): "x"}})
    made = call(admin, "POST", "/contacts", {"channel": "VOICE", "queue_id": "waiting", "customer_id": "pat",
                                             "reason": card("contact reason", bare=True), "attributes": {
        "note": card("contact attribute value"), card("contact attribute key", bare=True): "x"}})
    chat = _serving(admin, agent, "CHAT")
    call(admin, "POST", f"/contacts/{chat}/messages", {"participant_role": "CUSTOMER", "content": card("customer message")})
    call(agent, "POST", f"/contacts/{chat}/messages", {"participant_role": "AGENT", "content": card("agent message")})
    call(agent, "POST", f"{on}/{chat}/complete", {})
    call(agent, "POST", f"{on}/{chat}/end-acw", {})
    voice = _serving(admin, agent, "VOICE")
    call(admin, "POST", f"/contacts/{voice}/transcript/live", {"segments": [
        {"speaker": "CUSTOMER", "text": card("live transcript"), "begin_ms": 0, "end_ms": 1_000}]})
    call(agent, "POST", f"{on}/{voice}/consult", {"to": {"queue_id": "waiting"}, "reason": card("consult reason", bare=True),
                                                 "note": card("consult note")})
    call(agent, "POST", f"{on}/{voice}/consult/cancel", {})
    call(agent, "POST", f"{on}/{voice}/transfer", {"to": {"queue_id": "waiting"}, "reason": card("transfer reason", bare=True),
                                                  "note": card("transfer note")})
    call(agent, "POST", f"{on}/{voice}/end-acw", {})
    escalated = _serving(admin, agent, "VOICE")
    call(agent, "POST", f"{on}/{escalated}/escalate", {"reason": card("escalation reason", bare=True),
                                                      "note": card("escalation note")})
    call(agent, "POST", f"{on}/{escalated}/end-acw", {})
    ended = _serving(admin, agent, "VOICE")
    call(agent, "POST", f"{on}/{ended}/complete", {})
    call(agent, "POST", f"{on}/{ended}/end-acw", {})
    call(admin, "POST", f"/contacts/{ended}/survey", {"csat": 2, "comment": card("survey comment")})
    call(admin, "POST", f"/contacts/{ended}/transcript", {"segments": [
        {"speaker": "CUSTOMER", "begin_ms": 0, "end_ms": 2_000, "text": card("uploaded transcript")}]})
    call(admin, "PUT", f"/contacts/{ended}/evaluation/answers/no_prohibited_language",
         {"answer": "yes", "comment": card("evaluation comment")})
    call(admin, "POST", "/campaigns", {"campaign_id": "sweep", "name": "Card sweep", "mode": "preview",
                                       "queue_id": "desk", "caller_id": "+12125550199"})
    listed = call(admin, "POST", "/campaigns/sweep/lists", {"format": "json", "rows": [
        {"row_id": "pii-row", "phone": "+12125550143", "account_id": "acct-pii",
         "attributes": {"note": card("list row attribute value"), card("list row attribute key", bare=True): "x"}}]})
    csv = f"phone,account_id,notes,{card('CSV header', bare=True)}\n(212) 555-0144,acct-p2,\"{card('CSV cell')}\",y\n"
    response = requests.post(f"{runtime.api_url}/campaigns/sweep/lists?region=US", data=csv.encode(), timeout=30,
                             headers={"Authorization": f"Bearer {keys['admin']}", "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert listed["accepted"] == 1 and response.json()["accepted"] == 1, (listed["errors"], response.json()["errors"])
    lambda_client = runtime.client("lambda")
    for parameters in ({"action": "log_event", "milestone": "card_entry", "value": card("flow log_event value", bare=True)},
                       {"action": "route", "queue_id": "desk", "entered": card("flow parameter", bare=True)}):
        event = flow.flow_event(parameters, instance_arn=CARDS_INSTANCE, queue="desk")
        event["Details"]["ContactData"]["Attributes"]["card"] = card(f"flow {parameters['action']} attribute", bare=True)
        reply = flow.invoke(lambda_client, event)
        assert reply["status"] == "ok", reply
    # Kept, redacted: not refused, not dropped.
    assert admin.call("GET", "/customers/pat")[1]["attributes"] == {"card_on_file": "card [CARD] ok", "[CARD]": "x"}
    assert admin.call("GET", f"/contacts/{made['contact_id']}")[1]["attributes"] == {"note": "card [CARD] ok", "[CARD]": "x"}

    wait_for_contacts_recorded(runtime, "cards", [chat, ended])
    runtime.wait_for_stream_idle(timeout_s=30, flush=True)
    stored = list(stores.everything_stored(runtime.client, [made["contact_id"], chat, voice, escalated, ended]))
    leaks = {(cards[number], where) for where, text in stored for number in card_leaks(text, cards)}
    assert any("Outbound" in where and "pii-row" in text and "card [CARD] ok" in text for where, text in stored)
    output = capsys.readouterr()
    leaks |= {(cards[number], "handler output") for number in card_leaks(output.out + output.err, cards)}
    print(f"card sweep: {len(cards)} numbers typed in {len(sent) + 1} requests and 2 flow invocations; "
          f"{len(stored)} stored things read; {len(leaks)} cards found")
    assert len(cards) >= 25 and not leaks, sorted(leaks)


# -- hand-made ugly payloads --------------------------------------------------------------------------
# (name, method, path, headers, body, expected status (None: a 4xx), words of which the error names one)
JSON = {"Content-Type": "application/json"}
UGLY: list[tuple[str, str, str, dict[str, str], bytes | None, int | None, tuple[str, ...]]] = [
    ("body not UTF-8", "POST", "/contacts", JSON, b"\xff\xfe", None,
     ("utf-8", "utf8", "encod", "decod", "json", "body")),
    ("JSON nested 100,000 deep", "POST", "/contacts", JSON, b"[" * 100_000, None,
     ("nest", "deep", "depth", "json", "body")),
    ("1 MB contact attribute", "POST", "/contacts", JSON,
     json.dumps({"channel": "VOICE", "queue_id": "sales", "attributes": {"note": "x" * MB}}).encode(), None,
     ("attributes", "note", "too large", "too long", "size")),
    ("1 MB queue name", "PUT", "/queues/fuzz-big", JSON,
     json.dumps({"name": "q" * MB, "channels": ["VOICE"]}).encode(), None,
     ("name", "too large", "too long")),
    ("year 1 dates", "GET", "/metrics/historical?from=0001-01-01&to=0001-01-02", {}, None, None,
     ("from", "to", "date", "range", "year")),
    ("year 9999 date", "GET", "/forecast/staffing?date=9999-12-31&queue=sales", {}, None, None,
     ("date", "range", "year")),
    ("JSON body without content-type", "PUT", "/agents/ana/status", {}, b'{"status": "AVAILABLE"}', 200, ()),
    # text/plain is what clients send when nobody set a type: read as JSON, so this one is not JSON
    ("text/plain body", "POST", "/contacts", {"Content-Type": "text/plain"}, b"please route me to sales", None,
     ("content-type", "content_type", "content type", "media type", "text/plain", "json")),
    ("XML body", "POST", "/contacts", {"Content-Type": "application/xml"}, b"<contact><channel>VOICE</channel></contact>",
     None, ("content-type", "content_type", "content type", "media type", "application/xml")),
]


def test_ugly_payloads(runtime) -> None:
    """Never a 5xx; a 4xx whose JSON error names the problem (a JSON body sent without a content type is
    read as JSON). Every payload is sent; the failures are listed together at the end."""
    outcomes = [_send_ugly(runtime, *case) for case in UGLY]
    rows = [f"  {o['name']:<32} {o['request'][:60]:<60} {o.get('status')!s:<5} "
            f"{'; '.join(o['problems']) or 'ok'}" + (f" [{o['handler_error'][0]}]" if o.get("handler_error") else "")
            for o in outcomes]
    summary = "ugly payloads:\n" + "\n".join(rows)
    print(summary)
    _report("ugly_payloads", {o["name"]: o for o in outcomes})
    failed = [o for o in outcomes if o["problems"]]
    assert not failed, f"{len(failed)} of {len(outcomes)} ugly payloads mishandled\n{summary}\n" + "\n".join(
        f"{o['name']}: {o.get('status')} {o.get('body', '')[:300]}" for o in failed)


def _key_for(runtime, method: str, path: str) -> str:
    """The demo key of the role the route serves (an ugly payload tests the body, not the role)."""
    from local.testing import api

    return api(runtime, "demo").key_for(method, path)


def _send_ugly(runtime, name: str, method: str, path: str, headers: dict[str, str], body: bytes | None,
               expected: int | None, words: tuple[str, ...]) -> dict[str, Any]:
    outcome: dict[str, Any] = {"name": name, "request": f"{method} {path}"}
    started = time.perf_counter()
    with fuzzing.GatewayLog.installed() as gateway_log:
        try:
            response = requests.request(
                method, runtime.api_url + path, data=body, timeout=60,
                headers={"Authorization": f"Bearer {_key_for(runtime, method, path)}", **headers},
            )
        except requests.RequestException as exc:
            return {**outcome, "problems": [f"no response: {type(exc).__name__}: {exc}"]}
    outcome.update(
        seconds=round(time.perf_counter() - started, 3), status=response.status_code,
        content_type=response.headers.get("Content-Type"), bytes=len(response.content),
        body=fuzzing.excerpt(response.content, 500), problems=_problems(response, expected, words),
    )
    if response.status_code >= 500:
        outcome["handler_error"] = fuzzing.handler_error(gateway_log.take())
    return outcome


def _problems(response: requests.Response, expected: int | None, words: tuple[str, ...]) -> list[str]:
    if response.status_code >= 500:
        return ["a 5xx"]
    if expected is not None:
        return [] if response.status_code == expected else [f"expected {expected}"]
    if not 400 <= response.status_code < 500:
        return ["expected a 4xx"]
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return [] if _names_the_problem(body, words) else [f"the error does not name the problem (one of {list(words)})"]


def _names_the_problem(body: Any, words: tuple[str, ...]) -> bool:
    """A JSON error with a message (or validation details) in which one of `words` appears."""
    if not isinstance(body, dict) or not (isinstance(body.get("message"), str) or body.get("detail")):
        return False
    text = json.dumps({k: v for k, v in body.items() if k in ("message", "detail", "error", "field")}).lower()
    return any(w in text for w in words)


def test_the_shards_fuzz_every_operation_once() -> None:
    labels = [f"GET /op{i}" for i in range(47)]
    for shards in (1, 2, SHARDS, 47, 50):
        slices = [fuzzing.shard(labels, i, shards) for i in range(shards)]
        assert sorted(op for s in slices for op in s) == sorted(labels)
        assert max(map(len, slices)) - min(map(len, slices)) <= 1
    with pytest.raises(ValueError):
        fuzzing.shard(labels, SHARDS, SHARDS)
    assert sum(_share(MIN_REQUESTS, len(fuzzing.shard(labels, i, SHARDS)), len(labels)) for i in range(SHARDS)) >= MIN_REQUESTS


def test_the_stream_consumers_took_everything_the_fuzzed_api_published(runtime) -> None:
    """Whatever the passes above made the API publish (over a thousand requests, the rival's included), every
    stream consumer applied: no invocation failed and no record was reported or dead-lettered. No answer of the
    API would show a consumer failing behind it."""
    from local.testing import api

    # one contact of its own, so the consumers have something to take when this test runs alone
    assert api(runtime, "demo").call("POST", "/contacts", {"channel": "VOICE", "queue_id": "sales"})[0] == 201
    assert runtime.wait_for_stream_idle(timeout_s=30, flush=True)
    pollers = [(p.function_arn.rsplit(":", 1)[-1], p.stats) for p in runtime.pollers]
    assert sum(s.invocations for _, s in pollers) > 0
    failing = {name: {"function errors": s.function_errors, "partial failures": s.partial_failures,
                      "DLQ records": s.dlq_records, "last function error": s.last_function_error}
               for name, s in pollers if s.function_errors or s.partial_failures or s.dlq_records}
    assert not failing, failing
