"""infra.admin's people commands (create-user, list-users, disable-user) against a deployed stack: the
"deployed stack" is moto's CloudFormation with the real template's table outputs and a `UserPoolId`
output naming a moto Cognito pool made like infra/constructs/identity.py's (custom attributes
tenant_id, agent_id; one group per role). A created user's token claims must map, through the
authorizer's own rule (credential_from_claims), to the intended credential."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ccaas.domain.tenants import Credential, Role, credential_from_claims
from infra import admin
from tests.admin_stack import fake_stack_template, table_outputs
from tests.admin_stack import run_admin as _run
from infra.naming import STACK_NAME

REGION = "us-east-1"


def _one_line_error(code: int, out: str, err: str, message: str, exit_code: int = 1) -> None:
    assert code == exit_code and out == "", (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err


def _stack_template(synth: Any, pool_id: str) -> str:
    """The real tables and table outputs, and the real UserPoolId output's key with the moto pool's id."""
    assert admin.USER_POOL_OUTPUT in synth.json["Outputs"], "the stack no longer outputs UserPoolId"
    return fake_stack_template(synth, {**table_outputs(synth), admin.USER_POOL_OUTPUT: {"Value": pool_id}})


def _user_pool(cognito: Any) -> str:
    from infra.constructs.identity import AGENT_ATTRIBUTE, ROLE_GROUPS, TENANT_ATTRIBUTE

    pool_id = cognito.create_user_pool(
        PoolName="CcaasUsers",
        AliasAttributes=["email"],
        Schema=[
            {"Name": TENANT_ATTRIBUTE, "AttributeDataType": "String", "Mutable": False,
             "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "40"}},
            {"Name": AGENT_ATTRIBUTE, "AttributeDataType": "String", "Mutable": True,
             "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}},
        ],
    )["UserPool"]["Id"]  # fmt: skip
    for role in ROLE_GROUPS:
        cognito.create_group(UserPoolId=pool_id, GroupName=role)
    return pool_id


@pytest.fixture
def deployed(synth):
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = _user_pool(cognito)
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=STACK_NAME, TemplateBody=_stack_template(synth, pool_id))
        code, _, err = _run("--region", REGION, "create-tenant", "acme", "--name", "Acme Ltd")
        assert code == 0, err
        yield cognito, pool_id


def _user(cognito: Any, pool_id: str, email: str) -> dict[str, Any]:
    (user,) = cognito.list_users(UserPoolId=pool_id, Filter=f'email = "{email}"')["Users"]
    return user


def _claims(cognito: Any, pool_id: str, user: dict[str, Any]) -> dict[str, Any]:
    """What the user's ID token carries: its attributes (sub, email, custom:*) and its groups."""
    claims: dict[str, Any] = {a["Name"]: a["Value"] for a in user["Attributes"]}
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=user["Username"])["Groups"]
    claims["cognito:groups"] = [g["GroupName"] for g in groups]
    return {**claims, "token_use": "id", "exp": 2**31}  # what the verifier checked before the claims are read


@pytest.mark.parametrize(
    ("role", "agent_id"),
    [("agent", "ana"), ("supervisor", None), ("admin", None), ("integration", None)],
)
def test_create_user_makes_a_user_whose_token_is_the_intended_credential(deployed, role, agent_id) -> None:
    cognito, pool_id = deployed
    email = f"{role}@acme.example"
    argv = ["--region", REGION, "create-user", "acme", email, "--role", role, "--name", "Ana Smith"]
    code, out, err = _run(*argv, *(["--agent-id", agent_id] if agent_id else []))
    assert code == 0, err
    assert out.count("\n") == 1 and email in out and "invitation" in out

    user = _user(cognito, pool_id, email)
    assert user["Username"] in out and user["Enabled"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # the e-mailed temporary password
    claims = _claims(cognito, pool_id, user)
    assert claims["email"] == email and claims["email_verified"] == "true" and claims["name"] == "Ana Smith"
    assert claims["custom:tenant_id"] == "acme"
    assert claims["cognito:groups"] == [role]
    assert claims.get("custom:agent_id") == agent_id

    credential = credential_from_claims(claims)
    assert credential == Credential(tenant_id="acme", role=Role(role), agent_id=agent_id, key_id=f"jwt:{claims['sub']}",
                                    expires_at=2**31)


def test_list_users_and_disable_user(deployed) -> None:
    cognito, pool_id = deployed
    assert _run("--region", REGION, "create-user", "acme", "ana@acme.example", "--role", "agent", "--agent-id", "ana")[0] == 0
    assert _run("--region", REGION, "create-tenant", "other", "--name", "Other")[0] == 0
    assert _run("--region", REGION, "create-user", "other", "bo@other.example", "--role", "supervisor")[0] == 0

    code, out, err = _run("--region", REGION, "list-users", "acme", "--json")
    assert code == 0, err
    (listed,) = json.loads(out)
    assert {k: listed[k] for k in ("email", "role", "agent_id", "enabled")} == \
        {"email": "ana@acme.example", "role": "agent", "agent_id": "ana", "enabled": True}

    code, out, err = _run("--region", REGION, "disable-user", "ana@acme.example")
    assert code == 0, err
    assert "Disabled user ana@acme.example of tenant acme" in out
    assert _user(cognito, pool_id, "ana@acme.example")["Enabled"] is False
    assert _user(cognito, pool_id, "bo@other.example")["Enabled"] is True

    _one_line_error(*_run("--region", REGION, "disable-user", "nobody@acme.example"), "no user nobody@acme.example")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create-user", "acme", "a@acme.example", "--role", "agent"], "an agent user needs --agent-id"),
        (["create-user", "acme", "a@acme.example", "--role", "supervisor", "--agent-id", "ana"],
         "only agent users carry an --agent-id"),
        (["create-user", "acme", "a@acme.example", "--role", "agent", "--agent-id", "bad id!"], "agent_id must match"),
        (["create-user", "nobody", "a@acme.example", "--role", "admin"], "no tenant nobody"),
        (["list-users", "nobody"], "no tenant nobody"),
    ],
)
def test_refused_users_are_one_line_and_create_nothing(deployed, argv, message) -> None:
    cognito, pool_id = deployed
    _one_line_error(*_run("--region", REGION, *argv), message)
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_a_duplicate_user_is_one_line(deployed) -> None:
    cognito, pool_id = deployed
    assert _run("--region", REGION, "create-user", "acme", "ana@acme.example", "--role", "admin")[0] == 0
    _one_line_error(*_run("--region", REGION, "create-user", "acme", "ana@acme.example", "--role", "supervisor"),
                    "user ana@acme.example already exists")
    assert len(cognito.list_users(UserPoolId=pool_id)["Users"]) == 1


def test_a_cognito_error_is_one_line(deployed) -> None:
    cognito, pool_id = deployed
    cognito.delete_group(UserPoolId=pool_id, GroupName="supervisor")
    _one_line_error(*_run("--region", REGION, "create-user", "acme", "s@acme.example", "--role", "supervisor"),
                    "has no group supervisor")
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []  # no user left without a role


def test_a_malformed_email_is_a_usage_error(capsys) -> None:
    code, out, _ = _run("create-user", "acme", "not-an-email", "--role", "admin")
    _one_line_error(code, out, capsys.readouterr().err, "invalid e-mail address", exit_code=2)  # argparse's stderr


@pytest.mark.parametrize("command", [["create-user", "acme", "a@acme.example", "--role", "admin"],
                                     ["list-users", "acme"], ["disable-user", "a@acme.example"]])
def test_make_run_has_no_user_pool(command) -> None:
    # refused before anything is reached: no `make run` needs to be running
    _one_line_error(*_run("--endpoint", "http://127.0.0.1:9", *command), admin.NO_USER_POOL)
    assert "no user pool (make run has none; use a deployed stack)" in admin.NO_USER_POOL
