"""Function settings: built from the environment on first use (never at import), validated once."""
from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    contacts_table: str = ""
    agents_table: str = ""
    config_table: str = ""
    metrics_table: str = ""
    idempotency_table: str = ""
    events_stream_name: str = ""
    contact_lifecycle_state_machine_arn: str = ""
    post_contact_state_machine_arn: str = ""  # the functions that end contacts start its executions
    alerts_table: str = ""
    alerts_bus_name: str = ""
    history_table: str = ""
    customers_table: str = ""
    connections_table: str = ""
    websocket_endpoint: str = ""  # https://<api id>.execute-api.<region>.amazonaws.com/<stage> (PostToConnection)
    event_dedup_ttl_s: str = ""  # seconds the event de-duplication records live (unset: two days; the local runtime's is short)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(**{name: env.get(name.upper(), "") for name in cls.model_fields})

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"setting {name.upper()} is not configured for this function")
        return value
