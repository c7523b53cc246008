"""Forecast and staffing from the tenant's history (Erlang C and A)."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from ccaas.api.access import READERS, Router
from ccaas.api.common import deps, tenant
from ccaas.api.errors import errors
from ccaas.domain.models import Channel
from ccaas.domain.vocabulary import IsoDate
from ccaas.usecases import forecasting

router = Router()


@router.get(
    "/forecast/staffing", roles=READERS,
    tags=["forecast"],
    responses=errors(404),
    summary="Per 15-minute interval of a day: forecast volume and AHT, agents required (Erlang C and A), expected SL / ASA / abandonment; `warnings` when the history is missing or shorter than `weeks`",
)
def staffing(
    queue: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")],
    date_: Annotated[IsoDate, Query(alias="date", description="the tenant-local day to plan (ISO 8601, 2026-12-01; "
                                                         "years 2000-2100)")],
    channel: Annotated[Channel | None, Query()] = None,
    weeks: Annotated[int, Query(ge=1, le=12, description="weeks of history to fit on")] = 6,
    shrinkage: Annotated[float, Query(ge=0, le=forecasting.MAX_SHRINKAGE,
                                      description="share of paid time off the phones (0-0.9)")] = 0.0,
    patience_s: Annotated[float | None, Query(
        ge=forecasting.MIN_PATIENCE_S, le=forecasting.MAX_PATIENCE_S,
        description="Erlang A mean patience (s); default: estimated from history")] = None,
    # A cap below 0.5 staffs more than twice the load and asks for millions of agents at 1e-6: a typo, not a plan.
    max_occupancy: Annotated[float | None, Query(ge=0.5, le=1, description="occupancy cap, 0.5-1")] = None,
    max_abandon: Annotated[float, Query(ge=0.001, le=1, description="Erlang A's required agents lose at most this "
                                        "share of callers (default 0.05)")] = forecasting.DEFAULT_MAX_ABANDON,
) -> forecasting.StaffingForecast:
    query = forecasting.ForecastQuery(queue_id=queue, day=date_, channel=channel, weeks=weeks)
    return forecasting.staffing_forecast(
        deps(), tenant(router), query, shrinkage=shrinkage, patience_s=patience_s, max_occupancy=max_occupancy,
        max_abandon=max_abandon,
    )


@router.post("/forecast/what-if", roles=READERS, tags=["forecast"], responses=errors(404), summary="Expected SL, ASA, occupancy (and abandonment, Erlang A) with N agents per interval")
def what_if(body: forecasting.WhatIfRequest) -> forecasting.WhatIfReport:
    return forecasting.staffing_what_if(deps(), tenant(router), body)
