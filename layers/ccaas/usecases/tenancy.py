"""Tenant facts many use-cases need, cached for the life of the process (they change rarely)."""
from __future__ import annotations

import time

from ccaas.bootstrap import Dependencies
from ccaas.domain.models import NotFound

_TTL_S = 300
_zones: dict[tuple[int, str], tuple[float, str]] = {}


def time_zone_of(deps: Dependencies, tenant_id: str) -> str:
    key = (id(deps.config), tenant_id)
    cached = _zones.get(key)
    # Monotonic process time only bounds the cache's age; domain time still comes from deps.clock.
    if cached and time.monotonic() - cached[0] < _TTL_S:
        return cached[1]
    try:
        zone = deps.config.get_tenant(tenant_id).time_zone
    except NotFound:
        zone = "UTC"
    _zones[key] = (time.monotonic(), zone)
    return zone
