"""`python -m infra.admin --endpoint <moto>` against a local runtime, as a user runs it beside `make run`:
a subprocess that finds the deployed tables at the endpoint and calls the admin use-cases. What it
creates is then used through the local API (keys) and the contact-flow function (Connect instances).

The key commands (issue/list/rotate/revoke) need ccaas.usecases.admin's key use-cases; they run through
`infra.admin.main` in the test process (`in_process`), against the same endpoint, to spare a dozen
interpreter starts. So do the user's mistakes: the one subprocess (create-tenant) imports every module they
import (checked when this was written), and its stderr is its one line: a fresh interpreter prints nothing
more."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local.simulation import ApiClient
from tests.cli_main import exit_code, fresh_interpreter_warnings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ROOT = Path(__file__).resolve().parents[2]
TENANT = "cli-tenant"
INSTANCE_ARN = "arn:aws:connect:us-east-1:123456789012:instance/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def cli(*argv: str, endpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)])}
    target = ["--endpoint", endpoint] if endpoint else []
    return subprocess.run(
        [sys.executable, "-m", "infra.admin", *target, *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def in_process(*argv: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    """`infra.admin.main` in the test process, answered as `cli` answers: the commands and their output are
    the same; only the interpreter start and imports (1-5 s a call on a busy machine) are left out. The
    subprocess test below shows `python -m infra.admin` finds the endpoint and exits with a code.
    What argparse prints and its exit (SystemExit) are answered too, and the warnings a fresh interpreter
    would print to stderr (pytest's filters would record them instead)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from infra import admin

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), fresh_interpreter_warnings(admin.__name__) as printed:
        code = exit_code(lambda: admin.main(["--endpoint", endpoint, *argv], out=out, err=err))
    return subprocess.CompletedProcess(["infra.admin", *argv], code, out.getvalue(), "".join(printed) + err.getvalue())


def ok(runtime, *argv: str, run=cli) -> str:
    done = run(*argv, endpoint=runtime.moto_endpoint)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0 and done.stdout == "", (done.returncode, done.stdout)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


def key_ok(runtime, *argv: str) -> str:
    return ok(runtime, *argv, run=in_process)


def status(runtime, key: str, path: str = "/queues") -> int:
    return ApiClient(runtime.api_url, key).call("GET", path)[0]


def flow_error_code(runtime, instance_arn: str) -> str | None:
    from local.flow import flow_event, invoke

    return invoke(runtime.client("lambda"), flow_event({"action": "identify"}, instance_arn=instance_arn)).get("error_code")


def test_create_tenant_prints_a_key_the_api_accepts(runtime) -> None:
    done = cli("create-tenant", TENANT, "--name", "CLI Tenant", "--time-zone", "Europe/London", endpoint=runtime.moto_endpoint)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith(f"ck_{TENANT}_") and done.stdout.count("\n") == 1
    assert "shown only once" in done.stderr and key not in done.stderr
    # one line: what the command says, and nothing a fresh interpreter's imports might print
    assert done.stderr.startswith(f"Created tenant {TENANT} ") and done.stderr.count("\n") == 1, done.stderr
    assert status(runtime, key) == 200
    assert status(runtime, key, "/routing/policy") == 200  # an admin key

    # a second create of the same tenant is refused (no silent rename, no stray key)
    again = one_line_error(in_process("create-tenant", TENANT, "--name", "Other", endpoint=runtime.moto_endpoint))
    assert "already exists" in again


# The commands below run in process (`in_process`, as the key commands further down): each subprocess is an
# interpreter start and its imports; the subprocess run above shows `python -m infra.admin` itself.
def test_register_connect_instance_maps_the_instance_for_the_flow_function(runtime) -> None:
    key_ok(runtime, "create-tenant", "cli-connect", "--name", "Connect Co")
    out = key_ok(runtime, "register-connect-instance", "cli-connect", INSTANCE_ARN, "--json")
    assert json.loads(out) == {"tenant_id": "cli-connect", "instance_arn": INSTANCE_ARN}
    # Probed only after registering: the function caches configuration reads per container, an absent
    # mapping too (Powertools' default max age), so an earlier "unknown" would be served again.
    assert flow_error_code(runtime, INSTANCE_ARN) is None
    assert flow_error_code(runtime, INSTANCE_ARN.replace("0b1c2d3e", "ffffffff")) == "unknown_instance"


def test_register_sms_sender_lets_the_tenants_dialer_text_from_it(runtime) -> None:
    key = key_ok(runtime, "create-tenant", "cli-texts", "--name", "Texts Co").strip()
    instance = INSTANCE_ARN.replace("0b1c2d3e", "5e5e5e5e")
    key_ok(runtime, "register-connect-instance", "cli-texts", instance)
    dialer = {"kind": "connect", "instance_arn": instance, "contact_flow_id": "flow-1",
              "sms_origination": "+12065550199", "sms_configuration_set": "texts-co"}
    client = ApiClient(runtime.api_url, key)
    status_code, body = client.call("PUT", "/settings/outbound", dialer)
    assert status_code == 422 and body["field"] == "sms_origination", body  # nobody's
    # (registered before the API first asks: a container caches what it read, an absent owner too, for seconds)
    out = key_ok(runtime, "register-sms-sender", "cli-texts", "origination", "+12065550100", "--json")
    assert json.loads(out) == {"tenant_id": "cli-texts", "kind": "origination", "name": "+12065550100"}
    assert "belongs to tenant cli-texts" in key_ok(runtime, "register-sms-sender", "cli-texts", "configuration-set", "texts-co")
    status_code, body = client.call("PUT", "/settings/outbound", {**dialer, "sms_origination": "+12065550100"})
    assert status_code == 200 and body["sms_origination"] == "+12065550100", body
    bad = one_line_error(done := in_process("register-sms-sender", "cli-texts", "origination", "+1 206", endpoint=runtime.moto_endpoint))
    assert "not an End User Messaging SMS origination" in bad and done.returncode == 1


def test_list_tenants_shows_the_seeded_and_the_created_tenants(runtime) -> None:
    key_ok(runtime, "create-tenant", "cli-listed", "--name", "Listed", "--time-zone", "America/New_York")
    tenants = {t["tenant_id"]: t for t in json.loads(key_ok(runtime, "list-tenants", "--json"))}
    assert {"demo", "acme", "cli-listed"} <= set(tenants)
    assert tenants["cli-listed"] == {"tenant_id": "cli-listed", "name": "Listed", "time_zone": "America/New_York"}
    lines = key_ok(runtime, "list-tenants").splitlines()
    assert lines[0].split() == ["tenant_id", "name", "time_zone"]
    assert any(line.split()[0] == "cli-listed" and "America/New_York" in line for line in lines[1:])


def test_user_mistakes_are_one_line_errors(runtime) -> None:
    endpoint = runtime.moto_endpoint
    # argparse's errors exit (SystemExit: in_process answers its code), the use-cases' are a returned code
    assert "invalid choice" in one_line_error(done := in_process("make-coffee", endpoint=endpoint)) and done.returncode == 2
    bad_id = one_line_error(done := in_process("create-tenant", "Not_A_Tenant", "--name", "x", endpoint=endpoint))
    assert "invalid tenant id" in bad_id and done.returncode == 2
    no_name = one_line_error(in_process("create-tenant", "x-y", endpoint=endpoint))
    assert "the following arguments are required: --name" in no_name
    bad_arn = one_line_error(done := in_process("register-connect-instance", "demo", "arn:aws:s3:::bucket", endpoint=endpoint))
    assert "not an Amazon Connect instance ARN" in bad_arn and done.returncode == 1
    unknown = one_line_error(done := in_process("register-connect-instance", "nobody-here", INSTANCE_ARN, endpoint=endpoint))
    assert "nobody-here" in unknown and "not found" in unknown and done.returncode == 1
    both = one_line_error(in_process("--region", "eu-west-1", "list-tenants", endpoint=endpoint))
    assert "--profile and --region" in both

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    unreachable = one_line_error(done := in_process("list-tenants", endpoint=closed))
    assert f"cannot reach {closed}" in unreachable and done.returncode == 1


# ---- the key commands: need ccaas.usecases.admin's issue/list/rotate/revoke_api_key ----------------
# (run in process, `in_process`: a dozen commands, each an interpreter start in a subprocess)
def test_issue_and_list_keys(runtime) -> None:
    key_ok(runtime, "create-tenant", "cli-keys", "--name", "Keys")
    issued = json.loads(key_ok(runtime, "issue-key", "cli-keys", "--role", "supervisor", "--name", "wallboard", "--json"))
    assert issued["role"] == "supervisor" and issued["name"] == "wallboard" and issued["tenant_id"] == "cli-keys"
    assert issued["created_at"].endswith("Z")  # ISO 8601 UTC, as the API shows key times
    assert status(runtime, issued["api_key"]) == 200

    done = in_process("issue-key", "cli-keys", "--role", "agent", "--agent-id", "ana", endpoint=runtime.moto_endpoint)
    assert done.returncode == 0, done.stderr
    agent_key = done.stdout.strip()
    assert agent_key and done.stdout.count("\n") == 1 and "shown only once" in done.stderr

    listed = json.loads(key_ok(runtime, "list-keys", "cli-keys", "--json"))
    by_id = {k["key_id"]: k for k in listed}
    assert issued["key_id"] in by_id and by_id[issued["key_id"]]["revoked_at"] is None
    assert {"agent": "ana"} == {k["role"]: k["agent_id"] for k in listed if k["role"] == "agent"}
    assert "admin" in {k["role"] for k in listed}  # the first key, from create-tenant
    table = key_ok(runtime, "list-keys", "cli-keys")
    assert table.splitlines()[0].split() == ["key_id", "role", "agent", "name", "created", "revoked"]
    assert issued["key_id"] in table
    for secret in (issued["api_key"], agent_key):  # no secrets in a listing
        assert secret not in table and secret not in json.dumps(listed)


def test_rotate_and_revoke_keys(runtime) -> None:
    key_ok(runtime, "create-tenant", "cli-rotate", "--name", "Rotate")
    # Keys never presented before they change: the gateway caches an authorizer's answer for its TTL.
    old = json.loads(key_ok(runtime, "issue-key", "cli-rotate", "--role", "integration", "--json"))
    new = json.loads(key_ok(runtime, "rotate-key", "cli-rotate", old["key_id"], "--json"))
    assert new["api_key"] != old["api_key"] and (new["key_id"], new["role"]) == (old["key_id"], "integration")
    assert status(runtime, new["api_key"]) == 200
    assert status(runtime, old["api_key"]) == 401

    doomed = json.loads(key_ok(runtime, "issue-key", "cli-rotate", "--role", "admin", "--json"))
    out = key_ok(runtime, "revoke-key", "cli-rotate", doomed["key_id"])
    assert doomed["key_id"] in out and "Revoked" in out
    assert status(runtime, doomed["api_key"]) == 401
    listed = {k["key_id"]: k for k in json.loads(key_ok(runtime, "list-keys", "cli-rotate", "--json"))}
    assert listed[doomed["key_id"]]["revoked_at"] is not None

    gone = one_line_error(in_process("revoke-key", "cli-rotate", "no-such-key", endpoint=runtime.moto_endpoint))
    assert "no-such-key" in gone or "not found" in gone


def test_key_commands_name_the_missing_use_case_on_an_older_backend(runtime, monkeypatch) -> None:
    """In process: a backend without a key use-case is one line, not an AttributeError."""
    import io

    from ccaas.usecases import admin as usecases
    from infra import admin

    monkeypatch.delattr(usecases, "issue_api_key", raising=False)
    err = io.StringIO()
    code = admin.main(["--endpoint", runtime.moto_endpoint, "issue-key", "demo", "--role", "agent"], out=io.StringIO(), err=err)
    assert code == 1
    assert err.getvalue() == "python -m infra.admin: error: this version of the backend has no issue-key (ccaas.usecases.admin.issue_api_key)\n"


def test_index_resolved_alerts_is_an_upgrade_step_that_runs_again_harmlessly(runtime) -> None:
    key_ok(runtime, "create-tenant", "cli-alerts", "--name", "Alerts Co")
    assert json.loads(key_ok(runtime, "index-resolved-alerts", "cli-alerts", "--json")) == {
        "tenant_id": "cli-alerts", "indexed": 0}
    assert "cli-nobody" in one_line_error(in_process("index-resolved-alerts", "cli-nobody", endpoint=runtime.moto_endpoint))
