"""The lake's writers (issue 19): agent activity spans, transcript-analysis summaries, surveys and
evaluation snapshots reach the lake through the LakeExport port, shaped by the same ccaas.domain.lake
functions the local exporter calls, after their DynamoDB write; a failed delivery raises (the event is
retried, then dead-lettered) and the retry delivers: nothing is silently dropped."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from ccaas.bootstrap import memory_dependencies
from ccaas.domain import lake
from ccaas.domain.events import Event
from ccaas.domain.history import ActivityKind, ParticipantRole
from ccaas.domain.kpis.intervals import TenantCalendar
from ccaas.domain.kpis.records import AgentActivity
from ccaas.domain.models import Agent, Queue, QueueAssignment
from ccaas.domain.tenants import Tenant
from ccaas.ports_lake import LakeExportFailed, install_export
from ccaas.usecases import admin, agents, analytics, contacts, history
from ccaas.usecases import lake as lake_export
from ccaas.usecases.agents import StatusChange
from ccaas.usecases.contacts import NewContact
from tests.lake_twin import installed_export
from tests.lambda_harness import context, kinesis_event, load_module

TENANT = "acme"
TZ = "America/New_York"
CAL = TenantCalendar(TZ)
# 2026-11-20 23:50 New York: a span from here crosses local midnight
LATE = int(datetime(2026, 11, 21, 4, 50, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000


@pytest.fixture
def export():
    with installed_export() as twin:
        yield twin


@pytest.fixture
def deps():
    d = memory_dependencies()
    d.clock.now = LATE + 60 * MINUTE  # after every agent event the tests feed (a consumer reads the past)
    d.config.put_tenant(Tenant(tenant_id=TENANT, name="Acme", time_zone=TZ))
    d.config.put_queue(Queue(tenant_id=TENANT, queue_id="sales", name="Sales", sl_threshold_s=20))
    admin.put_agent(d, Agent(tenant_id=TENANT, agent_id="ana", name="Ana", queues=(QueueAssignment(queue_id="sales"),)))
    return d


def _event(sequence: int, activity: str, at_ms: int, agent: str = "ana") -> Event:
    return Event(event_id=uuid.uuid4().hex, tenant_id=TENANT, type="agent.activity_changed",
                 occurred_at=datetime.fromtimestamp(at_ms / 1000, UTC), subject=f"agent/{agent}", sequence=sequence,
                 payload={"agent_id": agent, "activity": activity})


def _stored_spans(deps) -> list[AgentActivity]:
    return deps.history.agent_activities(TENANT, LATE - 2 * 86_400_000, LATE + 86_400_000)


# --- agent activity ------------------------------------------------------------------------------------
def test_each_closed_span_is_exported_once_shaped_as_the_local_exporter_shapes_it(deps, export):
    events = [_event(1, "AVAILABLE", LATE - 30 * MINUTE), _event(2, "ON_CONTACT", LATE - 20 * MINUTE),
              _event(3, "ACW", LATE - 15 * MINUTE), _event(4, "NOT_READY", LATE + 25 * MINUTE)]
    assert history.record_agent_activity(deps, events[0]) is True
    assert export.rows == []  # the agent's first event closes nothing
    for event in events[1:]:
        assert history.record_agent_activity(deps, event) is True
    spans = _stored_spans(deps)
    assert len(spans) == 3
    # the same pure function the local exporter writes agent_activity with: same rows, same order
    expected = [row for span in sorted(spans, key=lambda s: s.start_ms)
                for row in lake.agent_activity_rows(TENANT, [span], CAL)]
    assert export.of("agent_activity") == expected
    assert {t for t, _ in export.rows} == {"agent_activity"}
    # the ACW span crosses local midnight: one row per local day, as each day's partition holds its own time
    acw = [r for r in expected if r["kind"] == "ACW"]
    assert [(r["day"], r["start_ms"], r["end_ms"]) for r in acw] == [
        ("2026-11-20", LATE - 15 * MINUTE, LATE + 10 * MINUTE), ("2026-11-21", LATE + 10 * MINUTE, LATE + 25 * MINUTE)]
    on_contact = next(r for r in expected if r["kind"] == "ON_CONTACT")
    assert (on_contact["slots_busy"], on_contact["slots_available"], on_contact["tenant_id"]) == (1, 1, TENANT)
    assert set(on_contact) == {c.name for c in lake.TABLES["agent_activity"].all_columns}


def test_a_failed_delivery_raises_after_the_write_and_the_redelivered_event_exports_the_span(deps, export):
    history.record_agent_activity(deps, _event(1, "AVAILABLE", LATE - 30 * MINUTE))
    export.fail = 1
    closing = _event(2, "ON_CONTACT", LATE - 20 * MINUTE)
    with pytest.raises(LakeExportFailed):
        history.record_agent_activity(deps, closing)
    assert len(_stored_spans(deps)) == 1  # the DynamoDB write happened first and stays
    assert export.rows == []
    assert history.record_agent_activity(deps, closing) is False  # the retry: already applied...
    (row,) = export.of("agent_activity")  # ...and its span delivered now
    assert (row["kind"], row["start_ms"], row["end_ms"]) == ("AVAILABLE_IDLE", LATE - 30 * MINUTE, LATE - 20 * MINUTE)


def test_a_retried_event_finds_its_span_after_the_agent_moved_on_and_an_older_event_exports_nothing(deps, export):
    history.record_agent_activity(deps, _event(1, "AVAILABLE", LATE - 30 * MINUTE))
    history.record_agent_activity(deps, _event(2, "ON_CONTACT", LATE - 20 * MINUTE))
    history.record_agent_activity(deps, _event(3, "ACW", LATE - 15 * MINUTE))
    delivered = len(export.rows)
    # event 2 redelivered after event 3 (a batch retried from a failed record): its own span again
    assert history.record_agent_activity(deps, _event(2, "ON_CONTACT", LATE - 20 * MINUTE)) is False
    assert export.rows[delivered][1]["start_ms"] == LATE - 30 * MINUTE and len(export.rows) == delivered + 1
    # an event that never applied (older than what is held, at a time no span ends): nothing to deliver
    assert history.record_agent_activity(deps, _event(1, "NOT_READY", LATE - 40 * MINUTE)) is False
    assert len(export.rows) == delivered + 1


def test_without_a_lake_the_writer_only_writes(deps):
    previous = install_export(None)
    try:
        assert history.record_agent_activity(deps, _event(1, "AVAILABLE", LATE - 30 * MINUTE))
        assert history.record_agent_activity(deps, _event(2, "ACW", LATE - 20 * MINUTE))
        assert len(_stored_spans(deps)) == 1
    finally:
        install_export(previous)


def test_the_activity_consumer_reports_a_failed_delivery_as_a_batch_item_failure(deps, export, monkeypatch):
    module = load_module("record_agent_activity", prefix="lake_export")
    monkeypatch.setattr(module, "dependencies", lambda: deps)
    events = [_event(1, "AVAILABLE", LATE - 30 * MINUTE), _event(2, "ON_CONTACT", LATE - 20 * MINUTE)]
    batch = kinesis_event([e.model_dump_json().encode() for e in events])
    export.fail = 1
    response = module.lambda_handler(batch, context("record_agent_activity"))
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["kinesis"]["sequenceNumber"]}]}
    assert export.rows == []
    assert module.lambda_handler(batch, context("record_agent_activity")) == {"batchItemFailures": []}
    (row,) = export.of("agent_activity")
    assert row["end_ms"] == LATE - 20 * MINUTE


# --- transcript analyses and evaluations ---------------------------------------------------------------
def _chat(deps) -> str:
    agents.set_agent_status(deps, TENANT, "ana", StatusChange(status="AVAILABLE"))
    contact = contacts.create_contact(deps, TENANT, NewContact(channel="CHAT", queue_id="sales", customer_id="c-1",
                                                                reason="billing"))
    contacts.queue_and_route(deps, TENANT, contact.contact_id, "tok")
    deps.clock.advance(5)
    contacts.accept_contact(deps, TENANT, "ana", contact.contact_id)
    for role, text in ((ParticipantRole.CUSTOMER, "My card 4111 1111 1111 1111 was charged twice, this is ridiculous"),
                       (ParticipantRole.AGENT, "I understand, I am sorry. Let me refund the duplicate charge now.")):
        analytics.add_chat_message(deps, TENANT, contact.contact_id, analytics.NewMessage(participant_role=role,
                                                                                          content=text))
        deps.clock.advance(30)
    contacts.complete_contact(deps, TENANT, "ana", contact.contact_id)
    deps.clock.advance(10)
    contacts.end_after_contact_work(deps, TENANT, "ana", contact.contact_id)
    assert history.record_contact(deps, TENANT, contact.contact_id).has_transcript
    return contact.contact_id


def test_the_analysis_step_exports_its_summary_and_a_contact_snapshot_with_the_evaluation(deps, export, monkeypatch):
    cid = _chat(deps)
    before = len(export.of("contact_records"))
    module = load_module("analyze_contact", prefix="lake_export")
    monkeypatch.setattr(module, "dependencies", lambda: deps)
    result = module.lambda_handler({"tenant_id": TENANT, "contact_id": cid}, context("analyze_contact"))
    assert result["analyzed"] is True
    entry = deps.history.get_entry(TENANT, cid)
    (analysis,) = export.of("transcript_analyses")
    assert analysis == lake.analysis_rows([entry], CAL)[0]  # the local exporter's shaping
    assert set(analysis) == {c.name for c in lake.TABLES["transcript_analyses"].all_columns}
    text = json.dumps(export.rows)
    assert "4111" not in text and "ridiculous" not in text and "refund the duplicate" not in text  # no text at all
    snapshot = export.of("contact_records")[before:]
    assert [r["contact_id"] for r in snapshot] == [cid]
    assert snapshot[0]["evaluation_score"] == result["qa_score"] == analysis["qa_score"]


def test_a_failed_analysis_export_fails_the_step_after_the_analysis_is_stored(deps, export, monkeypatch):
    cid = _chat(deps)
    module = load_module("analyze_contact", prefix="lake_export")
    monkeypatch.setattr(module, "dependencies", lambda: deps)
    export.fail = 1
    with pytest.raises(LakeExportFailed):
        module.lambda_handler({"tenant_id": TENANT, "contact_id": cid}, context("analyze_contact"))
    assert deps.history.get_entry(TENANT, cid).analysis is not None  # stored first
    assert export.of("transcript_analyses") == []
    module.lambda_handler({"tenant_id": TENANT, "contact_id": cid}, context("analyze_contact"))  # the step's retry
    assert len(export.of("transcript_analyses")) == 1


def test_a_supervisor_override_exports_the_rescored_summary_and_snapshot(deps, export):
    cid = _chat(deps)
    analytics.analyze_contact(deps, TENANT, cid)
    evaluation = analytics.get_evaluation(deps, TENANT, cid).evaluation
    question = next(q for s in evaluation.sections for q in s.questions if q.type == "yes_no")
    deps.clock.advance(60)
    rows_before = len(export.rows)
    result = analytics.override_answer(deps, TENANT, cid, question.id, analytics.AnswerOverrideRequest(answer="no"),
                                       by="supervisor:sam")
    new = export.rows[rows_before:]
    assert [t for t, _ in new] == ["transcript_analyses", "contact_records"]
    assert new[0][1]["qa_score"] == result.evaluation.score and new[0][1]["contact_id"] == cid
    assert new[1][1]["evaluation_score"] == result.evaluation.score
    assert new[1][1]["exported_at"] == deps.clock.now_ms()  # a newer snapshot: the query keeps it
    assert new[1][1]["evaluation_tenths"] == round(result.evaluation.score * 10)


def test_a_re_analysis_exports_again(deps, export):
    cid = _chat(deps)
    analytics.analyze_contact(deps, TENANT, cid)
    deps.clock.advance(60)
    analytics.analyze_contact(deps, TENANT, cid)
    assert len(export.of("transcript_analyses")) == 2
    assert export.of("transcript_analyses")[-1]["analyzed_at"] == deps.clock.now_ms()


# --- surveys -------------------------------------------------------------------------------------------
def test_a_survey_exports_its_answers_without_the_comment_and_a_contact_snapshot(deps, export):
    cid = _chat(deps)
    deps.clock.advance(3600)
    history.record_survey(deps, TENANT, cid, history.SurveyAnswers(csat=2, nps=9, comment="call me at 555-0100"))
    (survey,) = export.of("surveys")
    entry = deps.history.get_entry(TENANT, cid)
    assert survey == lake.survey_rows([entry], CAL, {cid: deps.clock.now_ms()})[0]
    assert (survey["csat"], survey["nps"], survey["answered_at"]) == (2, 9, deps.clock.now_ms())
    assert "555-0100" not in json.dumps(export.rows) and "comment" not in survey
    assert export.of("contact_records")[-1]["csat"] == 2


# --- the AWS adapter: each table to its stream -------------------------------------------------------------
class StubFirehose:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict]]] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list) -> dict:  # noqa: N803
        self.calls.append((DeliveryStreamName, [json.loads(r["Data"]) for r in Records]))
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"} for _ in Records]}


def test_the_firehose_adapter_maps_each_table_to_its_environment_variable():
    from ccaas.adapters.aws.lake import STREAMS_ENV, FirehoseLakeExport, export_from_environment

    assert STREAMS_ENV == {"contact_records": "LAKE_CONTACT_RECORDS_STREAM",
                           "agent_activity": "LAKE_AGENT_ACTIVITY_STREAM", "surveys": "LAKE_SURVEYS_STREAM",
                           "transcript_analyses": "LAKE_TRANSCRIPT_ANALYSES_STREAM"}
    found = export_from_environment({"LAKE_AGENT_ACTIVITY_STREAM": "activity-s", "LAKE_SURVEYS_STREAM": "surveys-s"})
    assert found.streams == {"agent_activity": "activity-s", "surveys": "surveys-s"}
    client = StubFirehose()
    twin = FirehoseLakeExport(client, found.streams, sleep=lambda s: None)
    twin.put_rows("agent_activity", [{"tenant_id": TENANT, "day": "2026-11-20", "agent_id": "ana"}])
    assert client.calls == [("activity-s", [{"tenant_id": TENANT, "day": "2026-11-20", "agent_id": "ana"}])]
    with pytest.raises(LakeExportFailed, match="transcript_analyses"):  # a table this function has no stream for
        twin.put_rows("transcript_analyses", [{"tenant_id": TENANT, "day": "2026-11-20"}])


# --- the query side reads each appended span once ---------------------------------------------------------
def test_redelivered_activity_rows_count_once_in_the_lakes_kpi_query(deps, export, tmp_path):
    """On AWS rows are appended: a span exported twice (a retried event, a Firehose retry) lands twice in
    its day. The API's KPI query keeps one row per (agent, start), as contact snapshots keep the latest."""
    from local import lake as local_lake

    events = [_event(1, "AVAILABLE", LATE - 50 * MINUTE), _event(2, "ON_CONTACT", LATE - 40 * MINUTE),
              _event(3, "ACW", LATE - 30 * MINUTE), _event(4, "NOT_READY", LATE - 25 * MINUTE)]
    for event in events:
        history.record_agent_activity(deps, event)
    history.record_agent_activity(deps, events[2])  # a redelivery: its span exported a second time
    rows = export.of("agent_activity")
    assert len(rows) == 4 and rows[-1] == rows[1]
    from_ms, to_ms = lake.day_range_ms(CAL, "2026-11-20", "2026-11-20")

    def agent_time(activity_rows: list[dict]) -> tuple[int, int, int]:
        out = tmp_path / f"lake{len(activity_rows)}"
        con = local_lake.duckdb.connect()
        local_lake.write_table(con, lake.TABLES["agent_activity"], activity_rows, out)  # as Firehose appends them
        local_lake.write_table(con, lake.TABLES["lake_intervals"], lake.interval_rows(TENANT, CAL, from_ms, to_ms), out)
        local_lake.write_table(con, lake.TABLES["tenant_settings"],
                               [lake.settings_row(TENANT, TZ, history.kpi_settings(deps, TENANT))], out)
        local_lake.connect(out, con)
        query = lake.kpi_query(tenant_id=TENANT, from_ms=from_ms, to_ms=to_ms, interval="day", group_by=("agent",))
        cursor = con.execute(query.sql, list(query.parameters))
        names = [d[0] for d in cursor.description]
        (row,) = [dict(zip(names, r)) for r in cursor.fetchall()]
        return row["busy_ms"], row["idle_ms"], row["staffed_ms"]

    once = agent_time(rows[:3])
    assert once == (15 * MINUTE, 10 * MINUTE, 25 * MINUTE)
    assert agent_time(rows) == once


def test_an_applied_agent_event_costs_no_extra_read_with_a_lake(deps, export):
    """The store returns the span it closed: one call with a lake, as without."""
    calls: list[tuple[str, tuple]] = []
    store = deps.history

    class Counting:
        def __getattr__(self, name):
            found = getattr(store, name)
            if not callable(found):
                return found

            def call(*args, **kwargs):
                calls.append((name, args))
                return found(*args, **kwargs)
            return call

    deps.history = Counting()
    history.record_agent_activity(deps, _event(1, "AVAILABLE", LATE - 30 * MINUTE))
    calls.clear()
    history.record_agent_activity(deps, _event(2, "ON_CONTACT", LATE - 20 * MINUTE))
    assert [name for name, _ in calls] == ["apply_agent_activity_span"]
    assert export.of("agent_activity")[-1]["start_ms"] == LATE - 30 * MINUTE  # the span it closed
    install_export(None)
    calls.clear()
    history.record_agent_activity(deps, _event(3, "ACW", LATE - 10 * MINUTE))
    assert [name for name, _ in calls] == ["apply_agent_activity"]
    install_export(export)


# --- the span an agent event closed, returned by the store: no reads for the lake's export ----------------
@pytest.fixture(params=["memory", "moto"])
def activity_store(request):
    if request.param == "memory":
        yield memory_dependencies().history
        return
    import boto3
    from moto import mock_aws

    from ccaas.adapters.aws.history import DynamoHistoryStore

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="History", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield DynamoHistoryStore(client, "History")


def test_applying_an_agent_event_returns_the_span_it_closed_as_the_store_reads_it(activity_store):
    from ccaas.domain.history import OpenActivity

    def opened(kind, since, sequence):
        return OpenActivity(agent_id="ana", kind=kind, since=since, sequence=sequence)

    t0 = LATE - 60 * MINUTE
    assert activity_store.apply_agent_activity_span(TENANT, opened(ActivityKind.AVAILABLE_IDLE, t0, 1)) == (True, None)
    applied, closed = activity_store.apply_agent_activity_span(TENANT, opened(ActivityKind.ON_CONTACT, t0 + 10 * MINUTE, 2))
    assert applied is True
    assert closed == AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=t0, end_ms=t0 + 10 * MINUTE,
                                   kind=ActivityKind.AVAILABLE_IDLE)
    (stored,) = activity_store.agent_activities(TENANT, t0, t0 + 1)
    assert stored == closed  # exactly what a read after the write would have found
    # a redelivery or an older event changes nothing and closes nothing
    assert activity_store.apply_agent_activity_span(TENANT, opened(ActivityKind.ON_CONTACT, t0 + 10 * MINUTE, 2)) == (False, None)
    assert activity_store.apply_agent_activity_span(TENANT, opened(ActivityKind.OFFLINE, t0 + 5 * MINUTE, 1)) == (False, None)
    # the boolean form is unchanged
    assert activity_store.apply_agent_activity(TENANT, opened(ActivityKind.ACW, t0 + 20 * MINUTE, 3)) is True
    assert activity_store.apply_agent_activity(TENANT, opened(ActivityKind.ACW, t0 + 20 * MINUTE, 3)) is False


def test_exporting_the_returned_span_delivers_the_same_rows_with_no_read(deps, export):
    """The wiring record_agent_activity can use: apply_agent_activity_span, then export_closed_span for an
    applied event (one store call, no read), export_agent_activity only for a repeated one. Same rows as the
    reading path, the midnight cut included."""
    events = [_event(1, "AVAILABLE", LATE - 50 * MINUTE), _event(2, "ON_CONTACT", LATE - 40 * MINUTE),
              _event(3, "ACW", LATE + 30 * MINUTE), _event(4, "NOT_READY", LATE + 35 * MINUTE)]
    for event in events:  # the current path: reads before and after the write
        history.record_agent_activity(deps, event)
    reading = export.of("agent_activity")
    assert len(reading) == 4  # ON_CONTACT from 23:10 to 00:20 is cut at local midnight

    other = memory_dependencies()
    other.clock.now = deps.clock.now
    other.config.put_tenant(Tenant(tenant_id=TENANT, name="Acme", time_zone=TZ))
    calls: list[str] = []
    store = other.history

    class Counting:
        def __getattr__(self, name):
            found = getattr(store, name)
            if not callable(found):
                return found

            def call(*args, **kwargs):
                calls.append(name)
                return found(*args, **kwargs)
            return call

    other.history = Counting()
    export.rows.clear()
    from ccaas.domain.history import OpenActivity, activity_kind

    for event in events:
        opened = OpenActivity(agent_id="ana", kind=activity_kind(event.payload["activity"]), since=event.occurred_ms,
                              sequence=event.sequence)
        applied, closed = other.history.apply_agent_activity_span(TENANT, opened)
        assert applied
        lake_export.export_closed_span(other, TENANT, closed)
    assert calls == ["apply_agent_activity_span"] * 4  # no open_activities, no agent_activities
    assert export.of("agent_activity") == reading
    assert lake_export.export_closed_span(other, TENANT, None) == 0  # the agent's first event closes nothing
    zero = AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=LATE, end_ms=LATE, kind=ActivityKind.ACW)
    assert lake_export.export_closed_span(other, TENANT, zero) == 0  # a zero-length span counts in no KPI
    export.fail = 1
    span = AgentActivity(agent_id="ana", tenant_id=TENANT, start_ms=LATE, end_ms=LATE + MINUTE, kind=ActivityKind.ACW)
    with pytest.raises(LakeExportFailed):
        lake_export.export_closed_span(other, TENANT, span)  # the event is retried, never skipped
