"""Tenants, API keys, Amazon Connect instances and SMS senders from the command line, for `make run` or a deployed stack.

    .venv/bin/python -m infra.admin --endpoint http://127.0.0.1:<moto port> create-tenant acme --name "Acme Ltd"
    .venv/bin/python -m infra.admin [--stack Ccaas] [--profile P] [--region R] list-tenants
    .venv/bin/python -m infra.admin ... issue-key acme --role agent --agent-id ana --name "Ana's softphone"
    .venv/bin/python -m infra.admin ... list-keys acme | rotate-key acme KEY_ID | revoke-key acme KEY_ID
    .venv/bin/python -m infra.admin ... register-connect-instance acme arn:aws:connect:...:instance/...
    .venv/bin/python -m infra.admin ... register-sms-sender acme origination +12065550100 | configuration-set acme-texts
    .venv/bin/python -m infra.admin [--stack ...] create-user acme ana@example.com --role agent --agent-id ana --name "Ana"
    .venv/bin/python -m infra.admin [--stack ...] list-users acme | disable-user ana@example.com
    .venv/bin/python -m infra.admin ... index-resolved-alerts acme   (once, after upgrading to session 26's alerts)
    .venv/bin/python -m infra.admin ... redrive-stream-failures [--stream ContactEvents] [--dry-run]

Target: `--endpoint` is the embedded AWS `make run` prints (us-east-1, dummy credentials; the stack's
tables are found by their logical ids, as local.flow finds its function); otherwise the deployed stack
`--stack` (default Ccaas), read with the caller's AWS credentials (`--profile`, `--region`, or the usual
AWS_* variables) from its CloudFormation outputs `<Id>TableName`. The tool builds the `ccaas`
Dependencies from those names as a function's settings would (ccaas.bootstrap) and calls the use-cases
of ccaas.usecases.admin: it never writes an item itself, so there is one implementation of keys.
People (create-user, list-users, disable-user) are users of the deployed stack's Cognito user pool
(output `UserPoolId`; `make run` has none), made to the convention ccaas.domain.tenants.credential_from_claims
reads: one role group, custom:tenant_id, custom:agent_id for agents.

Exit codes: 0 done, 1 failed (unreachable AWS, unknown stack or tenant, a refused value), 2 usage error.
Errors are one line on stderr. New keys are printed once, on stdout; only their hashes are stored.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn, TextIO

from infra.naming import (
    CONTACT_RECORDS_STREAM_ID, EVENTS_STREAM_ID, STACK_NAME, TABLE_IDS, WEBSOCKET_ENDPOINT_ENV, table_construct_id,
    table_env_var, table_name_placeholder,
)

PROG = "python -m infra.admin"
LOCAL_REGION = "us-east-1"  # make run's embedded AWS (local.runtime.REGION)
ROLES = ("admin", "supervisor", "agent", "integration")
# Stack output -> the setting (environment variable) a function reads it from: every table, as
# infra/stack.py declares them. tests/infra/test_admin_stack_outputs.py checks them against the synthesized template.
STACK_OUTPUTS: Mapping[str, str] = {table_name_placeholder(t): table_env_var(t) for t in TABLE_IDS}
REQUIRED_TABLE = "Config"  # tenants, key hashes, Connect instances
# The WebSocket stage's @connections endpoint (infra/stack.py): revoke-key and rotate-key close the key's sockets.
SOCKET_OUTPUT = "WebSocketCallbackUrl"
CACHE_NOTE = " (by API Gateway once its cached authorizer answer for it expires)"
USER_POOL_OUTPUT = "UserPoolId"  # infra/constructs/identity.py
NO_USER_POOL = "this target has no user pool (make run has none; use a deployed stack)"
USER_COMMANDS = frozenset({"create-user", "list-users", "disable-user"})
STREAMS = (EVENTS_STREAM_ID, CONTACT_RECORDS_STREAM_ID)  # the consumed streams (infra/stack.py's failure outputs)
KEY_WARNING = "Store this key now (e.g. in a secrets manager): it is shown only once; only its hash is kept."


class Failure(Exception):
    """A command that could not be done: one line on stderr, exit code 1."""


# ------------------------------------------------------------------------------------------ target
def endpoint_tables(dynamodb: Any, stack: str = STACK_NAME) -> dict[str, str]:
    """Settings (<ID>_TABLE -> name) from the tables of a local deployment: the local deployer names a
    table "<stack>-<logical id>" (e.g. Ccaas-DataConfigTable6430BC6B), CloudFormation adds a suffix."""
    names = [n for page in dynamodb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    found: dict[str, str] = {}
    for table_id in TABLE_IDS:
        pattern = re.compile(rf"^{re.escape(stack)}-\w*?{table_construct_id(table_id)}[0-9A-F]{{8}}(-[A-Za-z0-9]+)?$")
        matches = sorted(n for n in names if pattern.match(n))
        if len(matches) > 1:
            raise Failure(f"more than one {table_id} table of stack {stack}: {', '.join(matches)}")
        if matches:
            found[table_env_var(table_id)] = matches[0]
    if table_env_var(REQUIRED_TABLE) not in found:
        raise Failure(f"no {stack} {REQUIRED_TABLE} table at this endpoint: is `make run` running (and is --stack its stack)?")
    return found


def stack_tables(cloudformation: Any, stack: str = STACK_NAME) -> dict[str, str]:
    """Settings (<ID>_TABLE -> name, and the WebSocket stage's endpoint) from a deployed stack's outputs."""
    from infra.publish_wallboard import stack_outputs

    outputs = stack_outputs(cloudformation, stack)
    required = table_name_placeholder(REQUIRED_TABLE)
    if required not in outputs:
        raise Failure(f"stack {stack} has no output {required}: is it this project's stack, deployed by `make deploy`?")
    settings = {env: outputs[key] for key, env in STACK_OUTPUTS.items() if key in outputs}
    if SOCKET_OUTPUT in outputs:
        settings[WEBSOCKET_ENDPOINT_ENV] = outputs[SOCKET_OUTPUT]
    return settings


@contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (None: unset) environment variables for the duration; restored after."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _aws_environment(args: argparse.Namespace) -> dict[str, str | None]:
    """Where boto3 goes and as whom, as AWS_* variables (what ccaas.bootstrap's session reads)."""
    if args.endpoint:
        return {"AWS_ENDPOINT_URL": args.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": None, "AWS_SECURITY_TOKEN": None, "AWS_PROFILE": None,
                "AWS_DEFAULT_REGION": LOCAL_REGION, "AWS_REGION": LOCAL_REGION}  # fmt: skip
    env: dict[str, str | None] = {}
    if args.profile:
        # A profile names its own credentials: keys in the environment would win over it in boto3.
        env.update(AWS_PROFILE=args.profile, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_SESSION_TOKEN=None)
    if args.region:
        env.update(AWS_DEFAULT_REGION=args.region, AWS_REGION=args.region)
    return env


def _discover(args: argparse.Namespace) -> dict[str, str]:
    """The target's settings: its table names, and the region it is in (so every client agrees)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    if args.endpoint:
        # One attempt, a short connect timeout: a stopped `make run` is an error at once, not after retries.
        client = session.client("dynamodb", config=Config(retries={"total_max_attempts": 1}, connect_timeout=3, read_timeout=30))
        return endpoint_tables(client, args.stack)
    if session.region_name is None:
        raise Failure("no AWS region: pass --region, or set one in your AWS profile or AWS_DEFAULT_REGION")
    try:
        tables = stack_tables(session.client("cloudformation"), args.stack)
    except Exception as exc:
        if _aws_code(exc) == "ValidationError" and "does not exist" in str(exc):
            hint = f" (AWS_ENDPOINT_URL is set to {os.environ['AWS_ENDPOINT_URL']}; for `make run` use --endpoint)" \
                if os.environ.get("AWS_ENDPOINT_URL") else " (--stack, --region, --profile)"
            raise Failure(f"stack {args.stack} not found in {session.region_name}{hint}") from exc
        raise
    return {**tables, "AWS_DEFAULT_REGION": session.region_name, "AWS_REGION": session.region_name}


def _aws_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None


# ----------------------------------------------------------------------------------------- commands
def _use_case(command: str, name: str) -> Callable[..., Any]:
    """The use-case, looked up when the command runs: a backend without it says so, in one line."""
    from ccaas.usecases import admin

    fn = getattr(admin, name, None)
    if fn is None:
        raise Failure(f"this version of the backend has no {command} (ccaas.usecases.admin.{name})")
    return fn


def _fields(obj: Any) -> dict[str, Any]:
    """A use-case's result as plain values, its times (`*_at`) in ISO 8601 UTC as the API shows them."""
    if hasattr(obj, "model_dump"):
        fields = obj.model_dump(mode="json")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = dataclasses.asdict(obj)
    else:
        fields = dict(obj) if isinstance(obj, Mapping) else dict(vars(obj))
    return {k: (None if v is None else _when(v)) if k.endswith("_at") else v for k, v in fields.items()}


def _when(value: Any) -> str:
    """A time for people: epoch ms/s, datetime or ISO text -> ISO 8601 UTC, written as the API writes it (its own
    `ccaas.api.views.iso`: milliseconds, `Z`); nothing -> '-'."""
    from ccaas.api.views import iso

    if isinstance(value, int | float) and not isinstance(value, bool):
        ms = value if value > 1e11 else value * 1000  # the use-cases' times are epoch ms; seconds are small numbers
        return iso(int(ms)) or "-"
    if isinstance(value, datetime) and value.tzinfo:
        return iso(round(value.timestamp() * 1000)) or "-"
    if value is None or value == "":
        return "-"
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str], out: TextIO) -> None:
    cells = [list(header)] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")


def _json(value: Any, out: TextIO) -> None:
    json.dump(value, out, indent=2, sort_keys=True, default=str)
    out.write("\n")


def _new_key(issued: Any, tenant_id: str, args: argparse.Namespace, out: TextIO, err: TextIO, what: str) -> None:
    """The secret alone on stdout (`KEY=$(...)` works), what it is and the warning on stderr."""
    fields = {**_fields(issued), "tenant_id": tenant_id}
    if args.json:
        _json(fields, out)
    else:
        err.write(what.format(key=f"key {fields['key_id']} ({fields['role']}) of tenant {tenant_id}") + f" {KEY_WARNING}\n")
        out.write(f"{fields['api_key']}\n")


def cmd_create_tenant(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    from ccaas.domain.models import NotFound

    register = _use_case(args.command, "register_tenant")
    try:
        deps.config.get_tenant(args.tenant_id)
    except NotFound:
        pass
    else:
        raise Failure(f"tenant {args.tenant_id} already exists (issue-key gives it another key)")
    api_key = register(deps, tenant_id=args.tenant_id, name=args.name, time_zone=args.time_zone)
    if args.json:
        _json({"tenant_id": args.tenant_id, "name": args.name, "time_zone": args.time_zone, "role": "admin",
               "api_key": api_key}, out)  # fmt: skip
    else:
        err.write(f"Created tenant {args.tenant_id} ({args.name}, {args.time_zone}). Its first admin key follows. {KEY_WARNING}\n")
        out.write(f"{api_key}\n")


def cmd_issue_key(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    issue = _use_case(args.command, "issue_api_key")
    issued = issue(deps, args.tenant_id, role=args.role, agent_id=args.agent_id, name=args.key_name)
    _new_key(issued, args.tenant_id, args, out, err, "Issued {key}.")


def cmd_list_keys(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    keys = [_fields(k) for k in _use_case(args.command, "list_api_keys")(deps, args.tenant_id)]
    for k in keys:
        k.pop("api_key", None)  # never a secret in a listing, whatever the backend returns
    if args.json:
        _json(keys, out)
        return
    rows = [(k["key_id"], k["role"], k.get("agent_id") or "-", k.get("name") or "-", _when(k.get("created_at")),
             _when(k.get("revoked_at"))) for k in keys]  # fmt: skip
    _table(rows, ("key_id", "role", "agent", "name", "created", "revoked"), out)


def cmd_rotate_key(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    issued = _use_case(args.command, "rotate_api_key")(deps, args.tenant_id, args.key_id)
    _new_key(issued, args.tenant_id, args, out, err, "New secret for {key}; the old one is refused from now on" + CACHE_NOTE + ".")


def cmd_revoke_key(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    info = _fields(_use_case(args.command, "revoke_api_key")(deps, args.tenant_id, args.key_id))
    if args.json:
        _json({**info, "tenant_id": args.tenant_id}, out)
    else:
        out.write(f"Revoked key {info['key_id']} ({info['role']}) of tenant {args.tenant_id} at {_when(info.get('revoked_at'))}"
                  f"{CACHE_NOTE}\n")


def cmd_register_connect_instance(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    _use_case(args.command, "register_connect_instance")(deps, tenant_id=args.tenant_id, instance_arn=args.instance_arn)
    if args.json:
        _json({"tenant_id": args.tenant_id, "instance_arn": args.instance_arn}, out)
    else:
        out.write(f"Amazon Connect instance {args.instance_arn} belongs to tenant {args.tenant_id}: its flows and "
                  "contact records are that tenant's. For its flows to invoke the contact-flow function, add the "
                  "ARN to cdk.json's connectInstanceArns and deploy.\n")  # fmt: skip


def cmd_register_sms_sender(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    _use_case(args.command, "register_sms_sender")(deps, tenant_id=args.tenant_id, kind=args.kind, name=args.name)
    if args.json:
        _json({"tenant_id": args.tenant_id, "kind": args.kind, "name": args.name}, out)
    else:
        out.write(f"End User Messaging SMS {args.kind} {args.name} belongs to tenant {args.tenant_id}: its dialer "
                  f"settings may name it ({'sms_origination, or a campaign caller_id' if args.kind == 'origination' else 'sms_configuration_set'}).\n")


def cmd_list_tenants(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    from ccaas.domain.models import NotFound

    tenants = []
    for tenant_id in deps.config.list_tenants():
        try:
            tenants.append(deps.config.get_tenant(tenant_id).model_dump(mode="json"))
        except NotFound:  # registered, then its item removed by hand
            tenants.append({"tenant_id": tenant_id, "name": None, "time_zone": None})
    if args.json:
        _json(tenants, out)
    else:
        _table([(t["tenant_id"], t["name"] or "-", t["time_zone"] or "-") for t in tenants], ("tenant_id", "name", "time_zone"), out)

# -------------------------------------------------------------------------------- people (Cognito)
def _user_pool(args: argparse.Namespace) -> tuple[Any, str]:
    """The deployed stack's Cognito client and user pool id (its output UserPoolId)."""
    import boto3

    from infra.publish_wallboard import stack_outputs

    if args.endpoint:
        raise Failure(NO_USER_POOL)
    session = boto3.session.Session()
    pool_id = stack_outputs(session.client("cloudformation"), args.stack).get(USER_POOL_OUTPUT)
    if not pool_id:
        raise Failure(f"stack {args.stack} has no output {USER_POOL_OUTPUT}: {NO_USER_POOL.split(' (')[0]}")
    return session.client("cognito-idp"), pool_id


def _cognito_failure(exc: Exception, email: str, pool_id: str) -> Failure:
    """A Cognito error as one line naming what it is about."""
    code = _aws_code(exc)
    message = {
        "UsernameExistsException": f"user {email} already exists",
        "AliasExistsException": f"user {email} already exists",
        "UserNotFoundException": f"no user {email}",
        "ResourceNotFoundException": f"user pool {pool_id} not found (is the stack's UserPoolId output current?)",
        "NotAuthorizedException": "not authorized on the user pool (cognito-idp:Admin* and ListUsers are needed)",
        "AccessDeniedException": "not authorized on the user pool (cognito-idp:Admin* and ListUsers are needed)",
    }.get(code or "")
    return Failure(message) if message else Failure(_describe(exc))


def _users_by_email(cognito: Any, pool_id: str, email: str) -> list[dict[str, Any]]:
    escaped = email.replace("\\", "\\\\").replace('"', '\\"')
    return cognito.list_users(UserPoolId=pool_id, Filter=f'email = "{escaped}"').get("Users", [])


def _attributes(user: Mapping[str, Any]) -> dict[str, str]:
    return {a["Name"]: a.get("Value", "") for a in user.get("Attributes") or user.get("UserAttributes") or []}


def _check_user(tenant_id: str, role: str, agent_id: str | None) -> None:
    """The claims such a user's ID token will carry must make a credential (the authorizer's own rule)."""
    from ccaas.domain.tenants import AGENT_CLAIM, GROUPS_CLAIM, TENANT_CLAIM, credential_from_claims

    if role == "agent" and not agent_id:
        raise Failure("an agent user needs --agent-id (the agent it acts as)")
    if role != "agent" and agent_id is not None:
        raise Failure(f"only agent users carry an --agent-id, not {role} users")
    # as an ID token says them (token_use, an exp: what the verifier has already checked)
    claims = {TENANT_CLAIM: tenant_id, GROUPS_CLAIM: [role], "sub": "new-user", "token_use": "id", "exp": 2**31}
    if agent_id is not None:
        claims[AGENT_CLAIM] = agent_id
    credential_from_claims(claims)  # DomainError (one line) if the authorizer would refuse it


def cmd_create_user(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    import uuid

    from ccaas.domain.models import NotFound

    _check_user(args.tenant_id, args.role, args.agent_id)
    try:
        deps.config.get_tenant(args.tenant_id)
    except NotFound:
        raise Failure(f"no tenant {args.tenant_id} (create-tenant creates it)") from None
    cognito, pool_id = _user_pool(args)
    from botocore.exceptions import ClientError

    try:
        if _users_by_email(cognito, pool_id, args.email):
            raise Failure(f"user {args.email} already exists")
        # The pool signs in by username or e-mail alias; an alias pool refuses a username in e-mail
        # format, so the username is a fresh id and people sign in with their e-mail.
        username = str(uuid.uuid4())
        attributes = {"email": args.email, "email_verified": "true", "custom:tenant_id": args.tenant_id}
        if args.agent_id is not None:
            attributes["custom:agent_id"] = args.agent_id
        if args.user_name:
            attributes["name"] = args.user_name
        cognito.admin_create_user(UserPoolId=pool_id, Username=username, DesiredDeliveryMediums=["EMAIL"],
                                  UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])  # fmt: skip
        try:
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=args.role)
        except ClientError as exc:
            cognito.admin_delete_user(UserPoolId=pool_id, Username=username)  # no user without a role
            if _aws_code(exc) in ("ResourceNotFoundException", "GroupNotFoundException"):
                raise Failure(f"user pool {pool_id} has no group {args.role} (deploy the stack again); "
                              f"user {args.email} not created") from exc
            raise
    except ClientError as exc:
        raise _cognito_failure(exc, args.email, pool_id) from exc
    if args.json:
        _json({"username": username, "email": args.email, "tenant_id": args.tenant_id, "role": args.role,
               "agent_id": args.agent_id, "name": args.user_name, "invitation": "email"}, out)  # fmt: skip
    else:
        who = f"{args.role} {args.agent_id}" if args.agent_id else args.role
        out.write(f"Created user {username} ({args.email}, {who} of tenant {args.tenant_id}); an invitation with a "
                  "temporary password was e-mailed to it: it signs in with its e-mail and sets a new password.\n")  # fmt: skip


def cmd_list_users(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    from ccaas.domain.models import NotFound

    try:
        deps.config.get_tenant(args.tenant_id)
    except NotFound:
        raise Failure(f"no tenant {args.tenant_id} (create-tenant creates it)") from None
    cognito, pool_id = _user_pool(args)
    from botocore.exceptions import ClientError

    users = []
    try:
        # ListUsers cannot filter on a custom attribute: every user of the pool, kept by tenant.
        request: dict[str, Any] = {"UserPoolId": pool_id}
        while True:
            page = cognito.list_users(**request)
            for user in page.get("Users", []):
                attrs = _attributes(user)
                if attrs.get("custom:tenant_id") != args.tenant_id:
                    continue
                groups = [g["GroupName"] for g in
                          cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=user["Username"]).get("Groups", [])]
                roles = sorted(g for g in groups if g in ROLES)
                users.append({"username": user["Username"], "email": attrs.get("email"), "role": ",".join(roles) or None,
                              "agent_id": attrs.get("custom:agent_id"), "name": attrs.get("name"),
                              "status": user.get("UserStatus"), "enabled": bool(user.get("Enabled", True))})  # fmt: skip
            if not page.get("PaginationToken"):
                break
            request["PaginationToken"] = page["PaginationToken"]
    except ClientError as exc:
        raise _cognito_failure(exc, "-", pool_id) from exc
    if args.json:
        _json(users, out)
    else:
        rows = [(u["email"] or "-", u["role"] or "-", u["agent_id"] or "-", u["name"] or "-", u["status"] or "-",
                 "yes" if u["enabled"] else "no", u["username"]) for u in users]  # fmt: skip
        _table(rows, ("email", "role", "agent", "name", "status", "enabled", "username"), out)


def cmd_disable_user(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    cognito, pool_id = _user_pool(args)
    from botocore.exceptions import ClientError

    try:
        found = _users_by_email(cognito, pool_id, args.email)
        if not found:
            raise Failure(f"no user {args.email}")
        for user in found:
            cognito.admin_disable_user(UserPoolId=pool_id, Username=user["Username"])
    except ClientError as exc:
        raise _cognito_failure(exc, args.email, pool_id) from exc
    tenants = sorted({_attributes(u).get("custom:tenant_id") or "-" for u in found})
    if args.json:
        _json({"email": args.email, "usernames": [u["Username"] for u in found], "tenant_id": ",".join(tenants),
               "enabled": False}, out)  # fmt: skip
    else:
        out.write(f"Disabled user {args.email} of tenant {','.join(tenants)}: it can no longer sign in or refresh; "
                  "an ID token it already holds is honoured until it expires (at most 1 h, plus the authorizer's "
                  "300 s cache).\n")


def cmd_index_resolved_alerts(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    indexed = _use_case(args.command, "index_resolved_alerts")(deps, args.tenant_id)
    if args.json:
        _json({"tenant_id": args.tenant_id, "indexed": indexed}, out)
    else:
        out.write(f"Indexed {indexed} resolved alert(s) of tenant {args.tenant_id} for GET /alerts?status=resolved.\n")


# ------------------------------------------------------------------------ stream failures (infra.stream_failures)
def _failure_stores(args: argparse.Namespace, stream: str) -> tuple[str, str | None]:
    """A consumed stream's failure bucket and DLQ URL: the stack's outputs, or (make run) the bucket and queue
    the local deployer named after their logical ids."""
    import boto3

    session = boto3.session.Session()
    if not args.endpoint:
        from infra.publish_wallboard import stack_outputs

        outputs = stack_outputs(session.client("cloudformation"), args.stack)
        if f"{stream}FailureBucket" not in outputs:
            raise Failure(f"stack {args.stack} has no output {stream}FailureBucket: deploy this version first")
        return outputs[f"{stream}FailureBucket"], outputs.get(f"{stream}DeadLetterQueueUrl")
    buckets = [b["Name"] for b in session.client("s3").list_buckets().get("Buckets", [])]
    pattern = re.compile(rf"^{re.escape(args.stack.lower())}-\w*?{stream.lower()}failures[0-9a-f]{{8}}$")
    found = [b for b in buckets if pattern.match(b)]
    if len(found) != 1:
        raise Failure(f"{len(found)} failure buckets of stream {stream} at this endpoint (is `make run` running?)")
    queue = re.compile(rf"^{re.escape(args.stack)}-\w*?{stream}Dlq[0-9A-F]{{8}}$")
    urls = [u for u in session.client("sqs").list_queues().get("QueueUrls", []) if queue.match(u.rsplit("/", 1)[-1])]
    return found[0], (urls[0] if len(urls) == 1 else None)


def cmd_redrive_stream_failures(deps: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    import boto3

    from infra.stream_failures import redrive

    from botocore.config import Config

    session = boto3.session.Session()
    # One attempt, waited for as long as a consumer may run (consume_contact_records: 120 s): a retried timeout
    # would run the same batch twice at once.
    invoke = Config(read_timeout=900, connect_timeout=10, retries={"total_max_attempts": 1})
    s3, sqs, lambda_client = session.client("s3"), session.client("sqs"), session.client("lambda", config=invoke)
    report: dict[str, Any] = {}
    for stream in (args.stream,) if args.stream else STREAMS:
        bucket, queue_url = _failure_stores(args, stream)
        done = redrive(s3, sqs, lambda_client, bucket=bucket, queue_url=queue_url, dry_run=args.dry_run)
        report[stream] = done.as_json()
        if not args.json:
            out.write(f"{stream}: {len(done.handed_back)} batch(es) handed back ({done.records} record(s)), "
                      f"{len(done.kept)} kept, {len(done.discarded)} discarded, {done.notices_deleted} DLQ notice(s) cleared.\n")
            for key, why in done.kept.items():
                out.write(f"  kept {key}: {why}\n")
            for key, note in done.notes.items():
                out.write(f"  handed back {key}: {note}\n")
            for key in done.expired:
                out.write(f"  expired before a redrive (its records are lost): {key}\n")
            for pointer in done.old_pointers:
                out.write(f"  a DLQ message from before the failure bucket (records in the stream only, 24 h): {pointer}\n")
    if args.json:
        _json(report, out)
    if any(r["kept"] for r in report.values()) and not args.dry_run:
        raise Failure("some batches failed again: they stay in the failure bucket (and their notices in the DLQ)")


COMMANDS: Mapping[str, Callable[[Any, argparse.Namespace, TextIO, TextIO], None]] = {
    "create-tenant": cmd_create_tenant,
    "issue-key": cmd_issue_key,
    "list-keys": cmd_list_keys,
    "rotate-key": cmd_rotate_key,
    "revoke-key": cmd_revoke_key,
    "register-connect-instance": cmd_register_connect_instance,
    "register-sms-sender": cmd_register_sms_sender,
    "list-tenants": cmd_list_tenants,
    "create-user": cmd_create_user,
    "list-users": cmd_list_users,
    "disable-user": cmd_disable_user,
    "index-resolved-alerts": cmd_index_resolved_alerts,
    "redrive-stream-failures": cmd_redrive_stream_failures,
}


# ------------------------------------------------------------------------------------------ parsing
class _Parser(argparse.ArgumentParser):
    """Usage errors are one line (and exit code 2), not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (--help for usage)\n")


def _tenant_id(value: str) -> str:
    """The domain's own rule (ccaas.domain.tenants.Tenant), checked before anything is called."""
    from pydantic import ValidationError

    from ccaas.domain.tenants import Tenant

    try:
        Tenant(tenant_id=value, name=value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(f"invalid tenant id {value!r}: {exc.errors()[0]['msg']}") from None
    return value


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {value!r} (an IANA name such as Europe/London)") from None
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise argparse.ArgumentTypeError(f"invalid e-mail address {value!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    def target_options(p: argparse.ArgumentParser, *, on_command: bool) -> None:
        # On the main parser and on every command, so options may come before or after the command;
        # a command's copies default to SUPPRESS so they never overwrite what came before it.
        def d(value: Any) -> Any:
            return argparse.SUPPRESS if on_command else value

        g = p.add_argument_group("target")
        g.add_argument("--endpoint", default=d(None), metavar="URL", help="the embedded AWS `make run` prints")
        g.add_argument("--stack", default=d(STACK_NAME), help=f"the CDK stack (default {STACK_NAME})")
        g.add_argument("--profile", default=d(None), help="AWS profile (deployed stack only)")
        g.add_argument("--region", default=d(None), help="AWS region (deployed stack only)")
        p.add_argument("--json", action="store_true", default=d(False), help="machine-readable output")

    p = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    target_options(p, on_command=False)
    sub = p.add_subparsers(dest="command", metavar="command", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_)
        target_options(c, on_command=True)
        return c

    c = command("create-tenant", "create a tenant and print its first admin key (once)")
    c.add_argument("tenant_id", type=_tenant_id)
    c.add_argument("--name", required=True, help="the tenant's display name")
    c.add_argument("--time-zone", default="UTC", type=_time_zone, help="IANA time zone of its day (default UTC)")
    c = command("issue-key", "issue an API key and print it (once)")
    c.add_argument("tenant_id", type=_tenant_id)
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--agent-id", default=None, help="the agent the key acts as")
    c.add_argument("--name", dest="key_name", default=None, help="what the key is for")
    c = command("list-keys", "the tenant's keys (no secrets)")
    c.add_argument("tenant_id", type=_tenant_id)
    for name, help_ in (("rotate-key", "replace a key by a new one and print it (once)"), ("revoke-key", "revoke a key")):
        c = command(name, help_)
        c.add_argument("tenant_id", type=_tenant_id)
        c.add_argument("key_id")
    c = command("register-connect-instance", "route an Amazon Connect instance's flows and contact records to a tenant")
    c.add_argument("tenant_id", type=_tenant_id)
    c.add_argument("instance_arn")
    c = command("register-sms-sender", "let a tenant text from an End User Messaging SMS origination identity, "
                                       "or through a configuration set")
    c.add_argument("tenant_id", type=_tenant_id)
    c.add_argument("kind", choices=("origination", "configuration-set"))
    c.add_argument("name", help="a phone number (E.164), pool or sender id, or its ARN; a configuration set's name or ARN")
    command("list-tenants", "every tenant")
    c = command("create-user", "a person who signs in (deployed stack's user pool); Cognito e-mails the invitation")
    c.add_argument("tenant_id", type=_tenant_id)
    c.add_argument("email", type=_email)
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--agent-id", default=None, help="the agent the user is (role agent only, and required for it)")
    c.add_argument("--name", dest="user_name", default=None, metavar="NAME", help="the person's name")
    c = command("index-resolved-alerts", "an upgrade's one-off: list the tenant's alerts resolved before "
                                          "GET /alerts?status=resolved had its index under it too")
    c.add_argument("tenant_id", type=_tenant_id)
    c = command("redrive-stream-failures", "hand the batches a stream's consumers gave up on back to them "
                                            "(kept in the stream's failure bucket), once the cause is fixed")
    c.add_argument("--stream", choices=STREAMS, default=None, help="one stream (default: both)")
    c.add_argument("--dry-run", action="store_true", help="list what would be handed back")
    c = command("list-users", "the tenant's users (deployed stack's user pool)")
    c.add_argument("tenant_id", type=_tenant_id)
    c = command("disable-user", "stop a user signing in (deployed stack's user pool)")
    c.add_argument("email", type=_email)
    return p


# ---------------------------------------------------------------------------------------------- main
def _describe(exc: BaseException) -> str:
    """One line for a failure the user can act on."""
    code = _aws_code(exc)
    if code is not None:
        message = (getattr(exc, "response", {}).get("Error") or {}).get("Message") or str(exc)
        return f"AWS refused ({code}): {message}"
    field = getattr(exc, "field", None)
    return f"{exc} ({field})" if field and field not in str(exc) else str(exc)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.endpoint and (args.profile or args.region):
        parser.error("--profile and --region are for a deployed stack; --endpoint is make run's (us-east-1, no credentials)")
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
    from pydantic import ValidationError

    from ccaas.domain.models import DomainError

    try:
        if args.endpoint and args.command in USER_COMMANDS:
            raise Failure(NO_USER_POOL)
        with _environment(_aws_environment(args)):
            settings = _discover(args)
            with _environment(settings):
                from ccaas.bootstrap import dependencies

                COMMANDS[args.command](dependencies(), args, out, err)
    except EndpointConnectionError as exc:
        where = f"{args.endpoint}: is `make run` running?" if args.endpoint else exc.kwargs.get("endpoint_url", "AWS")
        err.write(f"{PROG}: error: cannot reach {where}\n")
        return 1
    except ValidationError as exc:
        first = exc.errors()[0]
        err.write(f"{PROG}: error: invalid {'.'.join(str(p) for p in first['loc']) or 'value'}: {first['msg']}\n")
        return 1
    except (Failure, DomainError, BotoCoreError, ClientError) as exc:
        err.write(f"{PROG}: error: {_describe(exc)}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
