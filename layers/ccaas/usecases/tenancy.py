"""Tenant facts many use-cases need, cached for the life of the process (they change rarely)."""
from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from ccaas.bootstrap import Dependencies
from ccaas.domain.vocabulary import STORED_DOCUMENT, NotFound

if TYPE_CHECKING:
    from ccaas.domain.kpis.settings import KpiSettings

Settings = TypeVar("Settings", bound=BaseModel)

_TTL_S = 300
# Per config store (weakly: a store that goes away takes its cache with it, and a new store at the
# same address never sees another's entries), then per tenant: (cached at, time zone).
_zones: weakref.WeakKeyDictionary[object, dict[str, tuple[float, str]]] = weakref.WeakKeyDictionary()


def time_zone_of(deps: Dependencies, tenant_id: str) -> str:
    cache = _zones.setdefault(deps.config, {})
    cached = cache.get(tenant_id)
    # Monotonic process time only bounds the cache's age; domain time still comes from deps.clock.
    if cached and time.monotonic() - cached[0] < _TTL_S:
        return cached[1]
    try:
        zone = deps.config.get_tenant(tenant_id).time_zone
    except NotFound:
        zone = "UTC"
    cache[tenant_id] = (time.monotonic(), zone)
    return zone


def settings_of(deps: Dependencies, tenant_id: str, name: str, model: type[Settings]) -> Settings:
    """The tenant's settings document `name` as `model`; the model's defaults when never set. Read as a stored
    document: a rule tightened after it was saved does not stop it loading (vocabulary.STORED_DOCUMENT)."""
    stored = deps.config.get_settings(tenant_id, name)
    return model() if stored is None else model.model_validate(stored, context=STORED_DOCUMENT)


def save_settings(deps: Dependencies, tenant_id: str, name: str, settings: Settings) -> Settings:
    deps.config.put_settings(tenant_id, name, settings.model_dump(mode="json"))
    return settings


KPI_SETTINGS = "kpis"


def kpi_settings_of(deps: Dependencies, tenant_id: str) -> KpiSettings:
    """The tenant's KPI settings (short abandons, variants, cost rates), as history, live metrics and alerts read
    them: through deps.config, which the Lambdas' wiring keeps a few seconds per container (CachedConfigStore)."""
    from ccaas.domain.kpis.settings import KpiSettings  # noqa: PLC0415 - the KPI package, only where it is read

    return settings_of(deps, tenant_id, KPI_SETTINGS, KpiSettings)


def owns_connect_instance(deps: Dependencies, tenant_id: str, instance_arn: str | None) -> bool:
    """Whether the Amazon Connect instance is registered to the tenant (the admin tool registers instances; the
    flow answers, and a deployment's grants reach, as the instance's tenant): what a tenant's settings may name."""
    return instance_arn is not None and deps.config.tenant_for_connect_instance(instance_arn) == tenant_id


def owns_sms_sender(deps: Dependencies, tenant_id: str, kind: str, name: str | None) -> bool:
    """Whether an End User Messaging SMS origination identity or configuration set is registered to the tenant
    (admin.register_sms_sender): what its texts may be sent from and through."""
    return name is not None and deps.config.tenant_for_sms_sender(kind, name) == tenant_id
