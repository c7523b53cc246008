"""Outbound campaigns: configure (admin), start/pause/stop (supervisor, admin), lists, the audit export of
attempts with their checks (JSON or CSV), metrics; opt-outs and DNC entries; an agent's disposition of its
own outbound call; the tenant's dialer."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from ccaas.api.access import ADMIN, AGENT, INTEGRATION, READERS, SUPERVISOR, Router
from ccaas.api.common import CSV_MEDIA_TYPE, Id, deps, tenant
from ccaas.api.errors import errors
from ccaas.domain.models import NotFound
from ccaas.domain.outbound.metrics import agent_disposition_metrics
from ccaas.domain.outbound.models import Attempt, Campaign
from ccaas.domain.vocabulary import IsoDateTime
from ccaas.ports_outbound import DialerSettings
from ccaas.usecases import outbound, outbound_metrics
from ccaas.usecases.outbound import (
    CampaignPatch,
    CampaignRequest,
    ConsentRequest,
    ConsentResult,
    DispositionRequest,
    ListUpload,
    ListUploadResult,
    PreviewDialRequest,
    PreviewDialResult,
    SuppressionRequest,
    SuppressionResult,
)

router = Router()
OPERATORS = (ADMIN, SUPERVISOR)  # start, pause, stop
TAGS = ["outbound"]


class AttemptView(BaseModel):
    """One attempt as the audit export shows it: the attempt, the checks that allowed it, the outcome."""

    attempt: Attempt
    dial_mode: str
    campaign_version: int
    contact_id: str | None
    dial_error: str | None
    ended_at: datetime | None


# ISO 8601 text only (vocabulary.IsoDateTime, years 2000-2100): an epoch number was read as seconds or milliseconds.
From = Annotated[IsoDateTime | None, Query(alias="from", description="attempts started at or after (ISO 8601)")]
To = Annotated[IsoDateTime | None, Query(alias="to", description="attempts started before")]


@router.post("/campaigns", roles=[ADMIN], tags=TAGS, status_code=201, responses=errors(409),
             summary="Create a campaign (draft): mode, queue, caller id, attempt policy, stricter windows, blackouts")
def create_campaign(body: CampaignRequest) -> Campaign:  # type: ignore[valid-type]
    return outbound.create_campaign(deps(), tenant(router), body)


@router.get("/campaigns", roles=READERS, tags=TAGS, summary="The tenant's campaigns")
def list_campaigns() -> list[Campaign]:
    return outbound.list_campaigns(deps(), tenant(router))


@router.get("/campaigns/<campaign_id>", roles=READERS, tags=TAGS, summary="A campaign")
def get_campaign(campaign_id: Id) -> Campaign:
    return outbound.get_campaign(deps(), tenant(router), campaign_id)


@router.patch("/campaigns/<campaign_id>", roles=[ADMIN], tags=TAGS,
              summary="Change a campaign's rules; they apply from the next attempt, never to one already decided")
def update_campaign(campaign_id: Id, body: CampaignPatch) -> Campaign:  # type: ignore[valid-type]
    return outbound.update_campaign(deps(), tenant(router), campaign_id, body)


@router.post("/campaigns/<campaign_id>/lists", roles=[ADMIN], tags=TAGS, responses=errors(409),
             summary="Load list rows (≤ 10,000 per upload, a body ≤ 4 MiB): JSON (ListUpload: rows, or CSV text in "
                     "content), or the raw file with Content-Type: text/csv (UTF-8; ?region=GB for numbers without +). "
                     "Bad rows reported with line and field, the rest stored; a number an earlier row named is a "
                     "warning (duplicate of line N), never called twice at once")
def upload_list(
    campaign_id: Id,
    region: Annotated[str, Query(pattern=r"^[A-Z]{2}$", description="text/csv: the default region of numbers without +")] = "US",
) -> ListUploadResult:
    event = router.current_event
    media_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type in outbound.CSV_MEDIA_TYPES:
        return outbound.upload_csv_text(deps(), tenant(router), campaign_id, event.body or "", region)
    return outbound.upload_list(deps(), tenant(router), campaign_id, ListUpload.model_validate(event.json_body))


def _status(campaign_id: str, action: Literal["start", "pause", "stop"]) -> Campaign:
    return outbound.change_status(deps(), tenant(router), campaign_id, action)


@router.post("/campaigns/<campaign_id>/start", roles=OPERATORS, tags=TAGS, summary="Start (or resume) dialing")
def start_campaign(campaign_id: Id) -> Campaign:
    return _status(campaign_id, "start")


@router.post("/campaigns/<campaign_id>/pause", roles=OPERATORS, tags=TAGS, summary="Pause dialing (calls in flight end normally)")
def pause_campaign(campaign_id: Id) -> Campaign:
    return _status(campaign_id, "pause")


@router.post("/campaigns/<campaign_id>/stop", roles=OPERATORS, tags=TAGS, summary="Stop for good")
def stop_campaign(campaign_id: Id) -> Campaign:
    return _status(campaign_id, "stop")


@router.get(
    "/campaigns/<campaign_id>/attempts", roles=READERS, tags=TAGS,
    summary="Audit export: attempts with the checks that allowed each (JSON, or CSV with format=csv)",
    responses={200: {"description": "attempts (JSON), or the same as CSV",
                     "content": {"application/json": {"model": list[AttemptView]},
                                 CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def list_attempts(  # noqa: ANN201 - JSON list or CSV text (documented in `responses`)
    campaign_id: Id,
    from_: From = None,
    to: To = None,
    after: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                                       description="the last attempt id of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
):
    records = outbound.attempts_export(deps(), tenant(router), campaign_id, since=from_, until=to, after=after, limit=limit)
    if format_ == "csv":
        return Response(status_code=200, content_type=CSV_MEDIA_TYPE, body=outbound.attempts_csv(records),
                        headers={"Content-Disposition": f'attachment; filename="{campaign_id}-attempts.csv"'})
    return [AttemptView(attempt=r.attempt, dial_mode=str(r.dial_mode), campaign_version=r.campaign_version,
                        contact_id=r.contact_id, dial_error=r.dial_error, ended_at=r.ended_at) for r in records]


@router.get("/campaigns/<campaign_id>/rows/<row_id>", roles=READERS, tags=TAGS, responses=errors(404),
            summary="One list row's audit: its state, the failed checks that held it back or ended it (an opt-out names "
                    "its source), and its attempts with the checks that allowed each")
def row_audit(campaign_id: Id, row_id: Id) -> outbound.RowAudit:
    return outbound.row_audit(deps(), tenant(router), campaign_id, row_id)


@router.get("/campaigns/<campaign_id>/metrics", roles=READERS, tags=TAGS,
            summary="Attempts, connects, right-party contacts, abandonment rate (rolling 30 days), blocks by rule, "
                    "agents' occupancy and idle time between calls")
def campaign_metrics(campaign_id: Id) -> outbound_metrics.CampaignMetrics:
    return outbound_metrics.campaign_metrics(deps(), tenant(router), campaign_id)


HistoryFrom = Annotated[IsoDateTime | None, Query(alias="from", description="start, ISO 8601 (years 2000-2100); a time "
                                                   "without offset is the tenant's wall clock; default: 7 days (day) or 1 day (hour) before `to`")]
HistoryTo = Annotated[IsoDateTime | None, Query(alias="to", description="end (exclusive); default now")]


@router.get("/campaigns/<campaign_id>/metrics/historical", roles=READERS, tags=TAGS, responses=errors(404),
            summary="The campaign's figures per day or hour (tenant time zone) from its stored attempts: attempts, "
                    "connects, right-party contacts, abandonment (interval and rolling 30 days), occupancy, idle between "
                    "calls; blocks by rule per UTC day. At most 93 days (day) or 7 days (hour)")
def campaign_metrics_historical(
    campaign_id: Id,
    from_: HistoryFrom = None,
    to: HistoryTo = None,
    interval: Annotated[Literal["day", "hour"], Query()] = "day",
) -> outbound_metrics.CampaignHistory:
    return outbound_metrics.campaign_history(deps(), tenant(router), campaign_id, start=from_, end=to, interval=interval)


@router.post("/suppressions", roles=[ADMIN, INTEGRATION], tags=TAGS,
             summary="Opt-outs and do-not-call entries (numbers, e-mail addresses, accounts): honoured by the next check")
def add_suppressions(body: SuppressionRequest) -> SuppressionResult:
    return outbound.add_suppressions(deps(), tenant(router), body)


@router.post("/consents", roles=[ADMIN, INTEGRATION], tags=TAGS,
             summary="Record a grant or revocation of consent for automated calls/texts to a number (the latest wins)")
def record_consent(body: ConsentRequest) -> ConsentResult:
    return outbound.record_consent(deps(), tenant(router), body)


class DispositionView(BaseModel):
    contact_id: str
    attempt_id: str
    disposition: str
    callback_at: datetime | None = Field(default=None, description="callback_requested: the time stored (UTC); "
                                                                   "null for the other dispositions")


@router.post("/contacts/<contact_id>/disposition", roles=[AGENT, SUPERVISOR], tags=TAGS,
             summary="The outcome of an outbound call the agent handled (opted_out suppresses the number at once; "
                     "callback_requested with callback_at schedules the call the person asked for)")
def dispose_contact(contact_id: Id, body: DispositionRequest) -> DispositionView:
    done = outbound.dispose_contact(deps(), tenant(router), contact_id, body)
    outbound_metrics.emit_campaign_counts(tenant(router), done.attempt.campaign_id, agent_disposition_metrics(body.disposition))
    callback = done.attempt.callback
    return DispositionView(contact_id=contact_id, attempt_id=done.attempt_id, disposition=str(done.attempt.disposition),
                           callback_at=callback.at if callback else None)


@router.post("/contacts/<contact_id>/dial", roles=[AGENT], tags=TAGS, responses=errors(409),
             summary="Preview: dial the record of the preview contact the agent accepted (checked now; 409 names the blocking checks)")
def dial_preview(contact_id: Id, body: PreviewDialRequest) -> PreviewDialResult:
    return outbound.dial_preview(deps(), tenant(router), contact_id, body)


@router.get("/settings/outbound", roles=READERS, tags=TAGS, responses=errors(404),
            summary="The tenant's dialer (404 until set)")
def get_dialer() -> DialerSettings:
    settings = outbound.dialer_settings(deps(), tenant(router))
    if settings is None:
        raise NotFound("no dialer configured", field="kind")
    return settings


@router.put("/settings/outbound", roles=[ADMIN], tags=TAGS,
            summary="The tenant's dialer: Amazon Connect (instance, contact flow, queues) or the simulated carrier")
def put_dialer(body: DialerSettings) -> DialerSettings:
    return outbound.put_dialer_settings(deps(), tenant(router), body)
