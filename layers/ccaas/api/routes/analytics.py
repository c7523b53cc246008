"""Transcripts (chat messages, uploads), analysis results, search and root-cause views."""
from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from ccaas.api.access import ADMIN, AGENT, INTEGRATION, READERS, SUPERVISOR, Router, credential
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import PAGED, next_page
from ccaas.api.routes.history import From, To
from ccaas.domain.analytics import AnalyticsRules
from ccaas.domain.history import AnalysisSummary, ChatMessage, ParticipantRole
from ccaas.domain.insights import (
    Dimension,
    Metric,
    Performer,
    PerformersReport,
    ReasonsReport,
    ReasonStat,
    RepeatDriver,
    RepeatDriversReport,
)
from ccaas.domain.vocabulary import QueryBool
from ccaas.usecases import analytics

router = Router()

Name = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


@router.post("/contacts/<contact_id>/messages", roles=[INTEGRATION, AGENT], tags=["analytics"], status_code=201,
             summary="A chat participant's message (redacted before it is stored; analysed when the contact ends)")
def add_message(contact_id: Id, body: analytics.NewMessage) -> ChatMessage:
    # The customer's messages come from the chat service (integration), and so do given send times; an agent's
    # desktop posting as the customer (or the system), or back-dating its own message, would forge the transcript
    # that the contact's sentiment, compliance timing ("within 30 s", "before the payment request") and QA read.
    if credential(router.current_event.request_context.authorizer).role == AGENT:
        if body.participant_role != ParticipantRole.AGENT:
            raise ForbiddenError("an agent key posts its own messages only: participant_role AGENT")
        if body.absolute_time is not None:
            raise ForbiddenError("an agent key's messages are timed when they arrive: absolute_time is the chat service's to give")
    return analytics.add_chat_message(deps(), tenant(router), contact_id, body)


Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{13}#[A-Za-z0-9_.:-]{1,64}$", max_length=80,
                                      description="the `cursor` the previous page's Link header gave")]


@router.get("/contacts/<contact_id>/messages", roles=[*READERS, INTEGRATION, AGENT], tags=["analytics"],
            summary="The chat's messages, redacted, in time order: a page of at most `limit` (and ~4 MB); a `Link` "
                    "header (rel=\"next\") names the next page while there is one", responses=PAGED)
def list_messages(contact_id: Id, after: Cursor = None,
                  limit: Annotated[int, Query(ge=1, le=analytics.MESSAGES_PAGE)] = analytics.MESSAGES_PAGE) -> Response[list[ChatMessage]]:
    page, following = analytics.chat_messages(deps(), tenant(router), contact_id, after=after, limit=limit)
    headers = next_page(router.current_event, following, limit) if following is not None else {}
    return Response(status_code=200, content_type="application/json", body=page, headers=headers)


@router.post(
    "/contacts/<contact_id>/transcript", roles=[INTEGRATION],
    tags=["analytics"],
    summary="Upload a transcript (our segments, chat messages, Contact Lens or Transcribe JSON): redacted, analysed, stored",
    status_code=201,
)
def upload_transcript(
    contact_id: Id,
    body: Annotated[dict[str, Any] | list[Any], Body(description="the transcript document, in any supported format")],
) -> AnalysisSummary:
    return analytics.upload_transcript(deps(), tenant(router), contact_id, body)


@router.get("/contacts/<contact_id>/analysis", roles=READERS, tags=["analytics"], summary="The full analysis (redacted segments, sentiment, categories, compliance, QA)")
def get_analysis(contact_id: Id) -> dict[str, Any]:
    return analytics.get_analysis(deps(), tenant(router), contact_id)


@router.get("/contacts/<contact_id>/evaluation", roles=READERS, tags=["analytics"],
            summary="The contact's evaluation: the form as scored, automatic answers with transcript evidence, supervisor overrides")
def get_evaluation(contact_id: Id) -> analytics.ContactEvaluation:
    return analytics.get_evaluation(deps(), tenant(router), contact_id)


@router.put("/contacts/<contact_id>/evaluation/answers/<question_id>", roles=[ADMIN, SUPERVISOR], tags=["analytics"],
            summary="A supervisor's answer to one evaluation question: kept beside the automatic answer, wins, re-scores")
def override_evaluation_answer(contact_id: Id, question_id: Id, body: analytics.AnswerOverrideRequest) -> analytics.ContactEvaluation:
    caller = credential(router.current_event.request_context.authorizer)
    return analytics.override_answer(deps(), tenant(router), contact_id, question_id, body,
                                     by=f"{caller.role.value}:{caller.key_id}")


@router.get("/contacts", roles=READERS, tags=["analytics"], summary="Search analysed contacts (newest first)")
def search_contacts(
    from_: From = None,
    to: To = None,
    category: Name = None,
    agent: Name = None,
    queue: Name = None,
    reason: Name = None,
    min_sentiment: Annotated[float | None, Query(ge=-5, le=5, description="customer's overall sentiment at least")] = None,
    qa_below: Annotated[float | None, Query(ge=0, le=100, description="QA score below")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[analytics.ContactInsight]:
    return analytics.search_contacts(
        deps(), tenant(router), start=from_, end=to, category=category, agent=agent, queue=queue, reason=reason,
        min_sentiment=min_sentiment, qa_below=qa_below, limit=limit,
    )


# The insights views answer a bare list (as they always have) with what the range lacks in the
# X-Warnings header ("; "-separated); ?envelope=true answers {items, coverage, warnings} instead, the
# warnings as GET /metrics/historical has them (domain.insights.coverage). A query boolean: true or false only.
Envelope = Annotated[QueryBool, Query(description="true: {items, coverage, warnings} instead of the bare list (the "
                                 "warnings are also in the X-Warnings header of the list)")]
_WARNINGS_HEADER = "X-Warnings"


def _insight(report: ReasonsReport | RepeatDriversReport | PerformersReport, envelope: bool):  # noqa: ANN202
    if envelope:
        return report
    headers = {_WARNINGS_HEADER: "; ".join(report.warnings)} if report.warnings else None
    return Response(status_code=200, content_type="application/json", body=report.items, headers=headers)


_LIST_WARNINGS = {_WARNINGS_HEADER: {"description": "what the range lacks, '; '-separated (absent: nothing)",
                                     "schema": {"type": "string"}}}


@router.get("/insights/reasons", roles=READERS, tags=["analytics"], summary="Top contact reasons by volume, with AHT, repeat rate and CSAT",
            responses={200: {"description": "the reasons (a list), or with envelope=true the report with its warnings",
                             "headers": _LIST_WARNINGS}})
def top_reasons(from_: From = None, to: To = None, limit: Annotated[int, Query(ge=1, le=100)] = 10,
                envelope: Envelope = False) -> list[ReasonStat] | ReasonsReport:
    return _insight(analytics.reasons_insight(deps(), tenant(router), start=from_, end=to, limit=limit), envelope)


@router.get("/insights/repeat-drivers", roles=READERS, tags=["analytics"], summary="Reasons ranked by repeat-contact rate (1 - FCR)",
            responses={200: {"description": "the reasons (a list), or with envelope=true the report with its warnings",
                             "headers": _LIST_WARNINGS}})
def repeat_drivers(
    from_: From = None, to: To = None, min_contacts: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 10, envelope: Envelope = False,
) -> list[RepeatDriver] | RepeatDriversReport:
    return _insight(analytics.repeat_drivers_insight(deps(), tenant(router), start=from_, end=to,
                                                     min_contacts=min_contacts, limit=limit), envelope)


@router.get("/insights/lowest", roles=READERS, tags=["analytics"], summary="Agents or queues with the lowest QA score or FCR",
            responses={200: {"description": "the agents or queues (a list), or with envelope=true the report with its "
                             "warnings", "headers": _LIST_WARNINGS}})
def lowest(
    dimension: Annotated[Dimension, Query()] = "agent",
    metric: Annotated[Metric, Query()] = "qa",
    from_: From = None,
    to: To = None,
    min_contacts: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    envelope: Envelope = False,
) -> list[Performer] | PerformersReport:
    return _insight(analytics.lowest_performers_insight(
        deps(), tenant(router), dimension=dimension, metric=metric, start=from_, end=to,
        min_contacts=min_contacts, limit=limit,
    ), envelope)


@router.get("/settings/analytics", roles=READERS, tags=["analytics"], summary="The tenant's analytics rules (categories, compliance, reasons, evaluation form, redaction); form null: the default form")
def get_analytics_rules() -> AnalyticsRules:
    return analytics.analytics_rules(deps(), tenant(router))


@router.put("/settings/analytics", roles=[ADMIN], tags=["analytics"])
def put_analytics_rules(body: AnalyticsRules) -> AnalyticsRules:
    return analytics.put_analytics_rules(deps(), tenant(router), body)
