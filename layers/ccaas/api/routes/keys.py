"""The tenant's API keys (admin only): issue one per role, list them (never a secret), rotate, revoke."""
from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from ccaas.api.access import ADMIN, Router
from ccaas.api.common import deps, tenant
from ccaas.api.views import iso
from ccaas.domain.tenants import KEY_ID_PATTERN, ApiKeyInfo, Role
from ccaas.usecases import admin

router = Router()

KeyId = Annotated[str, Path(min_length=12, max_length=12, pattern=KEY_ID_PATTERN)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # left out means none; the document says a string, and null is refused


class NewApiKey(admin.NewApiKey):
    """POST /keys: the role of the new key; an agent key names the agent it acts as. `name` is a string or
    left out, never null: the OpenAPI document and the validation say the same (the fuzzer's negative case
    "name: null" is a 422, as its schema, a string, says)."""

    name: str = Field(default=None, min_length=1, max_length=128,  # type: ignore[assignment] - None: left out
                      description="what the key is for (leave it out for none)", json_schema_extra=_no_default)


class KeyView(BaseModel):
    key_id: str
    role: Role
    agent_id: str | None
    name: str | None
    created_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, key: ApiKeyInfo | admin.IssuedKey) -> KeyView:
        return cls(key_id=key.key_id, role=key.role, agent_id=key.agent_id, name=key.name, created_at=iso(key.created_at),
                   revoked_at=iso(getattr(key, "revoked_at", None)))


class IssuedKeyView(KeyView):
    api_key: str  # the secret: shown this once


def _issued(key: admin.IssuedKey) -> IssuedKeyView:
    return IssuedKeyView(**KeyView.of(key).model_dump(), api_key=key.api_key)


@router.post("/keys", roles=[ADMIN], tags=["keys"], status_code=201,
             summary="Issue an API key of a role (an agent key names its agent); the secret is in this answer only")
def issue_key(body: NewApiKey) -> IssuedKeyView:
    return _issued(admin.issue_api_key(deps(), tenant(router), role=body.role, agent_id=body.agent_id, name=body.name))


@router.get("/keys", roles=[ADMIN], tags=["keys"], summary="The tenant's keys, revoked ones too (no secrets)")
def list_keys() -> list[KeyView]:
    return [KeyView.of(k) for k in admin.list_api_keys(deps(), tenant(router))]


@router.post("/keys/<key_id>/rotate", roles=[ADMIN], tags=["keys"],
             summary="A new secret for the key (same id, role, agent); the old one stops working")
def rotate_key(key_id: KeyId) -> IssuedKeyView:
    return _issued(admin.rotate_api_key(deps(), tenant(router), key_id))


@router.post("/keys/<key_id>/revoke", roles=[ADMIN], tags=["keys"], summary="The key stops working (idempotent)")
def revoke_key(key_id: KeyId) -> KeyView:
    return KeyView.of(admin.revoke_api_key(deps(), tenant(router), key_id))
