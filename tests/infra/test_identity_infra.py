"""People sign in with a Cognito user pool: no self sign-up, tenant and agent as custom attributes the
app client cannot write, one group per role, a secretless SRP/password client, and the authorizer told
the pool's issuer and client (nothing else is)."""
from __future__ import annotations

import json

from functions.authorize_request import handler as authorizer
from infra.function_specs import SPECS, USER_POOL_CLIENT_ID_ENV, USER_POOL_ISSUER_ENV

from ccaas.domain.tenants import AGENT_CLAIM, TENANT_CLAIM, Role


def _env(synth, folder):
    fn = synth.stack.factory.functions[folder]
    return synth.resources[synth.logical_id(fn)]["Properties"]["Environment"]["Variables"]


def test_one_user_pool_without_self_sign_up_and_an_immutable_tenant(synth):
    (pool_lid, pool), = synth.of_type("AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    attributes = {a["Name"]: a for a in props["Schema"]}
    assert attributes["tenant_id"]["Mutable"] is False and attributes["agent_id"]["Mutable"] is True
    assert {f"custom:{n}" for n in ("tenant_id", "agent_id")} == {TENANT_CLAIM, AGENT_CLAIM}
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["MfaConfiguration"] == "OPTIONAL" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert synth.json["Outputs"]["UserPoolId"]["Value"] == {"Ref": pool_lid}


def test_a_group_per_role_named_as_the_role(synth):
    from infra.constructs.identity import ROLE_GROUPS

    groups = {g["Properties"]["GroupName"] for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(ROLE_GROUPS) == {r.value for r in Role}


def test_the_desktop_client_has_no_secret_srp_and_password_auth_and_cannot_write_custom_attributes(synth):
    (client_lid, client), = synth.of_type("AWS::Cognito::UserPoolClient").items()
    props = client["Properties"]
    assert props.get("GenerateSecret") in (None, False)
    assert set(props["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert not any(a.startswith("custom:") for a in props["WriteAttributes"])
    assert "AllowedOAuthFlows" not in props or not props.get("AllowedOAuthFlowsUserPoolClient")
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert synth.json["Outputs"]["UserPoolClientId"]["Value"] == {"Ref": client_lid}


def test_only_the_authorizer_knows_the_pool_and_its_names_match_the_handler(synth):
    assert (authorizer.USER_POOL_ISSUER_ENV, authorizer.USER_POOL_CLIENT_ID_ENV) == (USER_POOL_ISSUER_ENV, USER_POOL_CLIENT_ID_ENV)
    holders = [f for f in SPECS if USER_POOL_ISSUER_ENV in _env(synth, f)]
    assert holders == ["authorize_request"]
    env = _env(synth, "authorize_request")
    (pool_lid,) = synth.of_type("AWS::Cognito::UserPool")
    (client_lid,) = synth.of_type("AWS::Cognito::UserPoolClient")
    assert pool_lid in json.dumps(env[USER_POOL_ISSUER_ENV]) and "ProviderURL" in json.dumps(env[USER_POOL_ISSUER_ENV])
    assert env[USER_POOL_CLIENT_ID_ENV] == {"Ref": client_lid}
