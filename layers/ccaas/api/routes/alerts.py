"""Supervisor alerts: list, acknowledge, resolve; the tenant's rules; live transcript segments."""
from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from ccaas.api.access import ADMIN, AGENT, INTEGRATION, READERS, SUPERVISOR, Router, credential
from ccaas.api.common import Id, deps, tenant
from ccaas.api.paging import PAGED, After, next_page
from ccaas.domain.alerts import Alert, AlertRules, LiveSegment, event_detail
from ccaas.domain.analytics.transcript import Speaker
from ccaas.domain.guidance import Prompt
from ccaas.usecases import alerts
from ccaas.usecases.alerts import LiveTranscriptPost, StatusFilter

router = Router()


class AlertView(BaseModel):
    """An alert as the API and the alerts bus show it (times ISO 8601 UTC)."""

    alert_id: str
    sequence: int  # orders the alert's changes: a pushed or polled copy with a lower one is stale
    rule: str
    severity: str
    status: str
    subject: str
    queue_id: str | None
    agent_id: str | None
    contact_id: str | None
    message: str
    details: dict[str, Any]
    opened_at: str | None
    acknowledged_at: str | None
    resolved_at: str | None
    resolution: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertView:
        return cls.model_validate(event_detail(alert), from_attributes=False, strict=False)

    model_config = {"extra": "ignore"}


class LiveTranscriptView(BaseModel):
    contact_id: str
    accepted: int
    redactions: dict[str, int]
    segments: list[LiveSegment]
    opened: list[AlertView]
    prompts: list[Prompt]  # guidance for the contact's agent (also pushed to it)


@router.get("/alerts", roles=READERS, tags=["alerts"],
            summary="Alerts of the tenant, newest first (default: the open ones): a page of at most `limit`; a `Link` "
                    "header (rel=\"next\") names the next page while there is one", responses=PAGED)
def list_alerts(
    status: Annotated[StatusFilter, Query(description="open (= not resolved), unacknowledged, acknowledged, resolved, all")] = StatusFilter.OPEN,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Response[list[AlertView]]:
    page, following = alerts.alerts_page(deps(), tenant(router), status, limit, after)
    headers = next_page(router.current_event, following, limit, status=status.value) if following else {}
    return Response(status_code=200, content_type="application/json",
                    body=[AlertView.of(a).model_dump(mode="json") for a in page], headers=headers)


# Registered before /alerts/<alert_id>, which would match "rules" too.
@router.get("/alerts/rules", roles=READERS, tags=["alerts"], summary="The tenant's alert rules (defaults until set)")
def get_rules() -> AlertRules:
    return alerts.get_rules(deps(), tenant(router))


@router.put("/alerts/rules", roles=[ADMIN], tags=["alerts"], summary="Replace the tenant's alert rules; omitted sections take defaults")
def put_rules(body: AlertRules) -> AlertRules:
    return alerts.put_rules(deps(), tenant(router), body)


@router.get("/alerts/<alert_id>", roles=READERS, tags=["alerts"])
def get_alert(alert_id: Id) -> AlertView:
    return AlertView.of(alerts.get_alert(deps(), tenant(router), alert_id))


@router.post("/alerts/<alert_id>/acknowledge", roles=[SUPERVISOR], tags=["alerts"], summary="Acknowledge (idempotent); it stays open")
def acknowledge(alert_id: Id) -> AlertView:
    return AlertView.of(alerts.acknowledge(deps(), tenant(router), alert_id))


@router.post("/alerts/<alert_id>/resolve", roles=[SUPERVISOR], tags=["alerts"], summary="Resolve by hand (idempotent)")
def resolve(alert_id: Id) -> AlertView:
    return AlertView.of(alerts.resolve(deps(), tenant(router), alert_id))


@router.post(
    "/contacts/<contact_id>/transcript/live", roles=[INTEGRATION, AGENT],
    tags=["alerts"],
    summary="Segments of a CONNECTED contact's conversation: redacted, scored, checked against the alert rules",
)
def post_live_transcript(contact_id: Id, body: LiveTranscriptPost) -> LiveTranscriptView:
    # The customer's side comes from the transcription service (integration): an agent's desktop posting the
    # customer's words would steer the sentiment alerts supervisors act on (close one, or open an escalation).
    if credential(router.current_event.request_context.authorizer).role == AGENT:
        if any(s.speaker != Speaker.AGENT for s in body.segments):
            raise ForbiddenError("an agent key posts its own speech only: speaker AGENT")
    result = alerts.post_live_transcript(deps(), tenant(router), contact_id, body)
    return LiveTranscriptView(
        contact_id=result.contact_id,
        accepted=result.accepted,
        redactions=result.redactions,
        segments=result.segments,
        opened=[AlertView.of(a) for a in result.opened],
        prompts=result.prompts,
    )
