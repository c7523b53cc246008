"""Evaluations through the real API handler on moto: an uploaded transcript is scored by the default
form (an automatic-fail question failed zeroes it), a supervisor's override is kept beside the automatic
answer and re-scores the contact everywhere (summary, search, lowest performers), re-analysis keeps the
overrides, two supervisors overriding at once both land, and the routes answer 403/404/422 as declared."""
from __future__ import annotations

import pytest

from ccaas.bootstrap import dependencies
from ccaas.domain.analytics.rules import default_compliance
from ccaas.usecases import analytics
from tests.history_data import record_handled_contact
from tests.lambda_harness import api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

RUDE = [
    {"speaker": "AGENT", "begin_ms": 0, "end_ms": 3_000, "text": "Hello, this call may be recorded for quality."},
    {"speaker": "CUSTOMER", "begin_ms": 3_500, "end_ms": 6_000, "text": "Hi, I have a question about my bill."},
    {"speaker": "AGENT", "begin_ms": 6_500, "end_ms": 9_000, "text": "Honestly, that is not my problem."},
    {"speaker": "AGENT", "begin_ms": 9_500, "end_ms": 12_000, "text": "But I have fixed the bill for you."},
    {"speaker": "CUSTOMER", "begin_ms": 12_500, "end_ms": 15_000, "text": "Great, thank you so much, that is perfect."},
]


def _recorded(tenant_id: str, contact_id: str) -> None:
    record_handled_contact(tenant_id, contact_id)


def _question(evaluation: dict, question_id: str) -> dict:
    return next(q for s in evaluation["sections"] for q in s["questions"] if q["id"] == question_id)


@pytest.fixture
def scored(tenant, env):
    # the tenant's compliance rules, pinned (the defaults grow): the default form answers from these
    compliance = [r.model_dump(mode="json") for r in default_compliance()
                  if r.name in ("recording_disclosure", "mini_miranda", "prohibited_language")]
    assert api("PUT", "/settings/analytics", tenant.id, {"compliance": compliance})[0] == 200
    _recorded(tenant.id, "e1")
    status, summary = api("POST", "/contacts/e1/transcript", tenant.id, {"segments": RUDE})
    assert status == 201, summary
    return summary


def test_an_auto_failed_contact_overridden_by_a_supervisor(tenant, scored):
    assert scored["auto_failed"] is True and scored["qa_score"] == 0.0
    status, body = api("GET", "/contacts/e1/evaluation", tenant.id, role="supervisor")
    assert status == 200, body
    evaluation = body["evaluation"]
    assert evaluation["auto_failed"] and evaluation["score"] == 0.0
    rude = _question(evaluation, "no_prohibited_language")
    assert rude["answer"] == "no" and rude["failed"] and rude["override"] is None
    assert [(e["segment_index"], e["begin_ms"], e["phrase"]) for e in rude["automatic"]["evidence"]] == [(2, 6_500, "not my problem")]
    assert evaluation["form"]["name"] == "Default evaluation"

    status, body = api("PUT", "/contacts/e1/evaluation/answers/no_prohibited_language", tenant.id,
                       {"answer": "yes", "comment": "the agent was quoting the customer"}, role="supervisor")
    assert status == 200, body
    evaluation = body["evaluation"]
    assert not evaluation["auto_failed"] and evaluation["score"] == 100.0 and evaluation["overridden"] == 1
    kept = _question(evaluation, "no_prohibited_language")
    assert kept["automatic"]["value"] == "no" and kept["automatic"]["evidence"]  # the automatic answer stays
    assert kept["override"]["value"] == "yes" and kept["override"]["by"] == "supervisor:k_supervisor"
    assert kept["override"]["comment"] == "the agent was quoting the customer" and kept["override"]["at"] > 0
    assert body["version"] == 2
    # the stored analysis, search and the lowest-performer view all see the new score
    assert api("GET", "/contacts/e1/analysis", tenant.id)[1]["qa"] == {"score": 100.0, "auto_failed": False, "items": []}
    found = api("GET", "/contacts", tenant.id, query={"agent": "ana"})[1]
    assert [(c["contact_id"], c["qa_score"], c["auto_failed"]) for c in found] == [("e1", 100.0, False)]
    lowest = api("GET", "/insights/lowest", tenant.id, query={"dimension": "agent"})[1]
    assert [(p["value"], p["score"], p["auto_failed"]) for p in lowest] == [("ana", 100.0, 0)]


def test_an_evaluators_comment_is_redacted_before_it_is_stored(tenant, scored):
    status, body = api("PUT", "/contacts/e1/evaluation/answers/no_prohibited_language", tenant.id,
                       {"answer": "yes", "comment": "agent read back 4111 1111 1111 1111 aloud"}, role="supervisor")
    assert status == 200, body
    assert _question(body["evaluation"], "no_prohibited_language")["override"]["comment"] == "agent read back [CARD] aloud"
    assert "4111" not in str(analytics.get_analysis(dependencies(), tenant.id, "e1"))  # what the table holds


def test_re_analysis_keeps_the_overrides(tenant, scored):
    assert api("PUT", "/contacts/e1/evaluation/answers/customer_sentiment_trend", tenant.id, {"answer": "no"},
               role="admin")[0] == 200
    assert api("PUT", "/contacts/e1/evaluation/answers/no_prohibited_language", tenant.id, {"answer": True})[0] == 200
    status, summary = api("POST", "/contacts/e1/transcript", tenant.id, {"segments": RUDE})  # analysed again
    assert status == 201 and summary["auto_failed"] is False
    body = api("GET", "/contacts/e1/evaluation", tenant.id)[1]
    evaluation = body["evaluation"]
    assert evaluation["overridden"] == 2 and body["version"] == 4
    trend = _question(evaluation, "customer_sentiment_trend")
    assert (trend["automatic"]["value"], trend["override"]["value"], trend["override"]["by"]) == ("yes", "no", "admin:k_admin_____")
    assert summary["qa_score"] == evaluation["score"] < 100.0


def test_two_supervisors_overriding_at_once_both_land(tenant, scored):
    """The second writer read the document before the first one's override landed: its conditional
    write fails, it re-reads, merges and writes again (nothing is lost silently)."""
    deps = dependencies()
    stale = deps.transcripts.get_analysis(tenant.id, "e1")
    analytics.override_answer(deps, tenant.id, "e1", "no_complaint", analytics.AnswerOverrideRequest(answer="no"), by="supervisor:a")

    class StaleOnce:
        def __init__(self, store):
            self.store, self.served = store, False

        def get_analysis(self, tenant_id, contact_id):
            if not self.served:
                self.served = True
                return stale
            return self.store.get_analysis(tenant_id, contact_id)

        def put_analysis(self, *args, **kwargs):
            return self.store.put_analysis(*args, **kwargs)

    class Racing:  # the same dependencies, with the stale first read
        transcripts = StaleOnce(deps.transcripts)

        def __getattr__(self, name):
            return getattr(deps, name)

    racing = Racing()
    result = analytics.override_answer(racing, tenant.id, "e1", "no_escalation",
                                       analytics.AnswerOverrideRequest(answer="no"), by="supervisor:b")
    overrides = {q["id"]: q["override"]["by"] for s in result.model_dump()["evaluation"]["sections"]
                 for q in s["questions"] if q["override"]}
    assert overrides == {"no_complaint": "supervisor:a", "no_escalation": "supervisor:b"}
    stored = api("GET", "/contacts/e1/evaluation", tenant.id)[1]
    assert stored["evaluation"]["overridden"] == 2 and stored["version"] == 3


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("integration", 403), ("supervisor", 200), ("admin", 200)])
def test_who_may_override(tenant, scored, role, status):
    got, body = api("PUT", "/contacts/e1/evaluation/answers/no_complaint", tenant.id, {"answer": "no"}, role=role,
                    agent_id="ana" if role == "agent" else None)
    assert got == status, body


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/contacts/e1/evaluation/answers/no_such_question", {"answer": "yes"}, 404, "question_id"),
        ("/contacts/nobody/evaluation/answers/no_complaint", {"answer": "yes"}, 404, "contact_id"),
        ("/contacts/e1/evaluation/answers/no_complaint", {"answer": "maybe"}, 422, "answer"),
        ("/contacts/e1/evaluation/answers/no_complaint", {"answer": "na"}, 422, "answer"),
        ("/contacts/e1/evaluation/answers/customer_end_sentiment", {"answer": 9}, 422, "answer"),
        ("/contacts/e1/evaluation/answers/no_complaint", {"answer": "yes", "extra": 1}, 422, "extra"),
        ("/contacts/e1/evaluation/answers/no_complaint", {"answer": "yes", "comment": "x" * 1001}, 422, "comment"),
    ],
)
def test_bad_overrides_are_refused_naming_what(tenant, scored, path, body, status, field):
    got, answer = api("PUT", path, tenant.id, body, role="supervisor")
    assert got == status, answer
    assert answer["field"] == field
    evaluation = api("GET", "/contacts/e1/evaluation", tenant.id)[1]
    assert evaluation["evaluation"]["overridden"] == 0 and evaluation["version"] == 1  # nothing changed


def test_a_contact_without_analysis_has_no_evaluation(tenant, env):
    _recorded(tenant.id, "e2")
    status, body = api("GET", "/contacts/e2/evaluation", tenant.id)
    assert status == 404 and body["field"] == "contact_id"
    status, body = api("PUT", "/contacts/e2/evaluation/answers/no_complaint", tenant.id, {"answer": "yes"})
    assert status == 404 and body["field"] == "contact_id"
    # analysed before evaluation forms: readable analysis, but no evaluation until it is analysed again
    deps = dependencies()
    from ccaas.domain.history import AnalysisSummary

    deps.transcripts.put_analysis(tenant.id, "e2", {"segments": [], "qa": {"score": 80.0, "items": []}}, AnalysisSummary(qa_score=80))
    status, body = api("GET", "/contacts/e2/evaluation", tenant.id)
    assert status == 404 and "before evaluation forms" in body["message"]


def test_a_form_that_cannot_be_evaluated_is_refused_by_path(tenant, env):
    before = api("GET", "/settings/analytics", tenant.id)[1]
    assert before["form"] is None  # the default form
    form = {"name": "Collections", "sections": [
        {"title": "Greeting", "questions": [{"id": "hello", "text": "Greeted?"}]},
        {"title": "Compliance", "questions": [{"id": "t", "text": "No threats?", "auto_fail": True,
                                               "automation": {"source": "rule", "rule": "no_such_rule"}}]},
    ]}  # fmt: skip
    status, body = api("PUT", "/settings/analytics", tenant.id, {"form": form})
    assert status == 422, body
    assert body["field"] == "form.sections[1].questions[0].automation.rule"  # the key, not just "form"
    assert body["detail"][0]["loc"] == ["body", "form", "sections", 1, "questions", 0, "automation", "rule"]
    assert "form.sections[1].questions[0].automation.rule: unknown compliance rule 'no_such_rule'" in body["message"]
    assert api("GET", "/settings/analytics", tenant.id)[1] == before
    form["sections"][1]["questions"][0]["automation"]["rule"] = "prohibited_language"
    status, body = api("PUT", "/settings/analytics", tenant.id, {"form": form})
    assert status == 200 and body["form"]["name"] == "Collections"


def test_a_transcript_of_thousands_of_tiny_segments_is_stored_cut_to_an_item_never_a_502(tenant, env):
    """4,600 one-letter segments (322 KB, under the 1 MiB body cap): the analysis, ~90 bytes a segment even
    without texts, was over DynamoDB's 400 KB and the upload answered 502 (the analysis step failed the same
    way on every retry for a chat of ~4,500 messages). The trailing segments are cut, the count kept."""
    import boto3
    import os

    _recorded(tenant.id, "tiny")
    segments = [{"speaker": "AGENT", "begin_ms": i, "end_ms": i, "text": "a"} for i in range(4_600)]
    status, summary = api("POST", "/contacts/tiny/transcript", tenant.id, {"segments": segments})
    assert status == 201, summary
    stored = boto3.client("dynamodb").get_item(TableName=os.environ["HISTORY_TABLE"],
                                               Key={"pk": {"S": f"{tenant.id}#CONTACT#tiny"}, "sk": {"S": "ANALYSIS"}})["Item"]
    assert len(stored["analysis"]["S"].encode()) <= 300_000
    status, analysis = api("GET", "/contacts/tiny/analysis", tenant.id, role="supervisor")
    assert status == 200 and analysis["segments_dropped"] > 0
    assert len(analysis["segments"]) + analysis["segments_dropped"] == 4_600


def test_overrides_on_an_analysis_at_the_limit_shed_segment_texts_never_a_502(tenant, env):
    """Each override keeps its comment with the analysis: on an analysis already at its size limit (2,000 spoken
    segments), four comments of 990 emoji took the item over DynamoDB's 400 KB and the fifth PUT answered 502.
    Overrides count in the budget now: the analysis sheds more trailing segment texts and every PUT lands."""
    import boto3
    import os

    _recorded(tenant.id, "big")
    segments = [{"speaker": "AGENT" if i % 2 else "CUSTOMER", "begin_ms": i * 1000, "end_ms": i * 1000 + 900,
                 "text": f"segment {i} " + "we talked about the bill and the plan " * 4} for i in range(2_000)]
    assert api("POST", "/contacts/big/transcript", tenant.id, {"segments": segments})[0] == 201
    status, evaluation = api("GET", "/contacts/big/evaluation", tenant.id, role="supervisor")
    assert status == 200, evaluation
    questions = [q for s in evaluation["evaluation"]["form"]["sections"] for q in s["questions"] if q["type"] == "yes_no"]
    assert len(questions) >= 5
    for n, question in enumerate(questions):
        status, body = api("PUT", f"/contacts/big/evaluation/answers/{question['id']}", tenant.id,
                           {"answer": "yes", "comment": "\U0001F600" * 990 + str(n)}, role="supervisor")
        assert status == 200, (n, body)
    stored = boto3.client("dynamodb").get_item(TableName=os.environ["HISTORY_TABLE"],
                                               Key={"pk": {"S": f"{tenant.id}#CONTACT#big"}, "sk": {"S": "ANALYSIS"}})["Item"]
    assert len(stored["analysis"]["S"].encode()) <= 300_000
    assert api("GET", "/contacts/big/analysis", tenant.id, role="supervisor")[1]["segment_texts_dropped"] > 0
