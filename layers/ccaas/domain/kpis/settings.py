"""Tenant choices that change how historical KPIs are counted or derived."""
from __future__ import annotations
from ccaas.domain.vocabulary import Float, Int, SlThresholdSeconds, is_stored

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

ServiceLevelVariant = Literal["default", "answered_over_offered", "abandons_count_as_met"]
AbandonmentVariant = Literal["exclude_short_abandons", "include_short_abandons"]
FcrPopulation = Literal["all", "handled_only"]


class KpiSettings(BaseModel):
    """Defaults are DOMAIN.md's; each variant is picked by name.

    `short_abandon_s` and `default_sl_threshold_s` change what is accumulated, `fcr_window_days` which
    records are flagged as repeats; every other field only changes how KPIs are derived from the
    counts, so it can be changed without re-reading history. Every number is finite and bounded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    short_abandon_s: Float = Field(default=5.0, ge=0, le=600)
    # Used for records whose queue threshold was not captured: the bound a queue's threshold has.
    default_sl_threshold_s: SlThresholdSeconds = 20
    service_level_variant: ServiceLevelVariant = "default"
    abandonment_variant: AbandonmentVariant = "exclude_short_abandons"
    # W for repeat_flags / mark_repeat_contacts (the flags are set on records before the roll-up).
    fcr_window_days: Int = Field(default=7, ge=0, le=90)
    # "all": every customer contact is in the FCR population (DOMAIN.md); "handled_only": only
    # contacts that reached an agent are judged resolved or not (follow-ups still count regardless).
    fcr_population: FcrPopulation = "all"
    # Cost per contact; None disables it (no agent cost rate known).
    agent_cost_per_staffed_hour: Float | None = Field(default=None, ge=0, le=10_000)
    infrastructure_cost_per_contact: Float = Field(default=0.0, ge=0, le=1_000)
    infrastructure_cost_per_handle_minute: Float = Field(default=0.0, ge=0, le=100)

    @field_validator("default_sl_threshold_s", mode="before")
    @classmethod
    def _stored_zero(cls, value: Any, info: ValidationInfo) -> Any:
        # Settings saved while 0 was taken still load (vocabulary.STORED_DOCUMENT): as 1, the least a queue takes
        # (within 0 s and within 1 s count nearly the same contacts: next to none).
        return 1 if value == 0 and type(value) is int and is_stored(info.context) else value
