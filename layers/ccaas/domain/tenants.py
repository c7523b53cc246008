"""Tenants and their API keys. Keys are stored only as SHA-256 hashes."""
from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field


class Tenant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    name: str
    time_zone: str = "UTC"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()
