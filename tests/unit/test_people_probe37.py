"""Outside probe 37 (agents and supervisors as people): a token's claims make a credential only as an ID token says
them exactly (no access token a pre-token trigger filled, no "acme\\n" that `re.match`'s `$` let through, an `exp`
that is any JSON number), and names the platform operator reads as lines (`list-keys`, `list-tenants`) are
printable and bounded whoever writes them: the API's POST /keys and the admin tool alike."""
from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from ccaas.bootstrap import memory_dependencies
from ccaas.domain.models import DomainError
from ccaas.domain.tenants import Role, credential_from_claims
from ccaas.usecases import admin


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {"sub": "5f1c-77aa", "token_use": "id", "exp": now + 600, "cognito:groups": ["agent"],
              "custom:tenant_id": "acme", "custom:agent_id": "ana"}
    claims.update(changes)
    return claims


def test_the_claims_of_an_id_token_make_the_credential():
    credential = credential_from_claims(_claims())
    assert (credential.tenant_id, credential.role, credential.agent_id) == ("acme", Role.AGENT, "ana")


@pytest.mark.parametrize(("changes", "field"), [
    ({"token_use": "access"}, "token_use"),  # custom claims in an access token (a pre-token trigger): never read
    ({"custom:tenant_id": "acme\n"}, "custom:tenant_id"),  # re.match's `$` matched before the line break
    ({"custom:agent_id": "ana\n"}, "agent_id"),
    ({"exp": None}, "exp"), ({"exp": "1900000000"}, "exp"), ({"exp": True}, "exp"), ({"exp": float("inf")}, "exp"),
])
def test_claims_that_are_not_exactly_an_id_tokens_make_none(changes, field):
    with pytest.raises(DomainError) as refused:
        credential_from_claims(_claims(**changes))
    assert refused.value.field == field


def test_a_fractional_exp_still_ends_the_credential():
    """A JSON number with a fraction is a NumericDate too: it used to give expires_at None (never expiring)."""
    exp = time.time() + 600.5
    assert credential_from_claims(_claims(exp=exp)).expires_at == int(exp)


@pytest.mark.parametrize("name", ["crm\nk_FORGED001  admin", "crm\r\nk_x", "tab\there", "", "x" * 129])
def test_a_key_name_with_a_line_break_or_out_of_bounds_is_refused_by_the_api_and_the_tool(name):
    deps = memory_dependencies()
    admin.register_tenant(deps, tenant_id="acme", name="Acme")
    with pytest.raises(ValidationError) as refused:
        admin.issue_api_key(deps, "acme", role=Role.INTEGRATION, name=name)
    assert "name" in str(refused.value) and "FORGED" not in str(refused.value).split("input_value")[0]
    assert [k.name for k in deps.config.list_api_keys("acme")] == ["admin"]


@pytest.mark.parametrize("name", ["", "Ok\nacme       FORGED               UTC", "y" * 120_000])
def test_a_tenant_name_is_printable_and_bounded(name):
    deps = memory_dependencies()
    with pytest.raises(ValidationError):
        admin.register_tenant(deps, tenant_id="zz8", name=name)
    assert deps.config.list_tenants() == []  # nothing stored
