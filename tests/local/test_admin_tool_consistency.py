"""The admin tool and the API share the key use-cases (ccaas.usecases.admin), so they agree, beside `make run`: an
outside probe found `list-keys nosuch` printing an empty table with exit 0 (README: exit 1 for "no such tenant"),
`issue-key ... --name ""` storing a name POST /keys refuses with a 422, and `--json list-keys` showing
`created_at` to the second (`…T06:25:21Z`) where the API shows milliseconds (`…T06:25:21.864Z`; README: "times ISO
8601 UTC, as the API shows them"). The commands run in process (`in_process`, as tests/local/test_admin_cli.py's key
commands do) against the runtime's embedded AWS; the API is called over HTTP."""
from __future__ import annotations

import io
import json
import subprocess

import pytest

from local.simulation import ApiClient
from tests.cli_main import exit_code, fresh_interpreter_warnings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

TENANT = "cli-agree"


def tool(runtime, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m infra.admin --endpoint <moto> ...`, in the test process: exit code, stdout, stderr."""
    from infra import admin

    out, err = io.StringIO(), io.StringIO()
    with fresh_interpreter_warnings(admin.__name__) as printed:
        code = exit_code(lambda: admin.main(["--endpoint", runtime.moto_endpoint, *argv], out=out, err=err))
    return subprocess.CompletedProcess(["infra.admin", *argv], code, out.getvalue(), "".join(printed) + err.getvalue())


def failed(done: subprocess.CompletedProcess[str]) -> str:
    """A failure as README says: exit 1, nothing on stdout, one line on stderr."""
    assert done.returncode == 1 and done.stdout == "", (done.returncode, done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def admin_key(runtime) -> str:
    done = tool(runtime, "create-tenant", TENANT, "--name", "Agree Co")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_listing_the_keys_of_a_tenant_that_does_not_exist_fails(runtime, admin_key):
    for argv in (("list-keys", "nosuch"), ("--json", "list-keys", "nosuch")):
        message = failed(tool(runtime, *argv))
        assert "nosuch" in message and "not found" in message, message


def test_a_key_name_the_api_refuses_is_refused_by_the_tool_and_nothing_is_stored(runtime, admin_key):
    api = ApiClient(runtime.api_url, admin_key)
    status, body = api.call("POST", "/keys", {"role": "integration", "name": ""})
    assert status == 422 and body["field"] == "name", body
    status, body = api.call("POST", "/keys", {"role": "integration", "name": "n" * 129})
    assert status == 422 and body["field"] == "name", body
    before = api.call("GET", "/keys")[1]
    message = failed(tool(runtime, "issue-key", TENANT, "--role", "integration", "--name", ""))
    assert "name" in message and "at least 1 character" in message, message
    message = failed(tool(runtime, "issue-key", TENANT, "--role", "integration", "--name", "n" * 129))
    assert "name" in message and "at most 128 characters" in message, message
    assert api.call("GET", "/keys")[1] == before  # no key was issued


def test_key_times_read_as_the_api_shows_them(runtime, admin_key):
    done = tool(runtime, "--json", "issue-key", TENANT, "--role", "supervisor", "--name", "wallboard")
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    revoked = tool(runtime, "--json", "revoke-key", TENANT, issued["key_id"])
    assert revoked.returncode == 0, revoked.stderr

    status, api_keys = ApiClient(runtime.api_url, admin_key).call("GET", "/keys")
    assert status == 200, api_keys
    shown = {k["key_id"]: (k["created_at"], k["revoked_at"]) for k in api_keys}
    listed = {k["key_id"]: (k["created_at"], k["revoked_at"]) for k in
              json.loads(tool(runtime, "--json", "list-keys", TENANT).stdout)}
    assert listed == shown, (listed, shown)  # milliseconds and Z, revoked_at too
    assert issued["created_at"] == shown[issued["key_id"]][0]
    assert json.loads(revoked.stdout)["revoked_at"] == shown[issued["key_id"]][1]
    assert all(t.endswith("Z") and len(t) == len("2026-12-06T06:25:21.864Z") for t, _ in listed.values()), listed
    table = tool(runtime, "list-keys", TENANT).stdout
    assert shown[issued["key_id"]][0] in table and shown[issued["key_id"]][1] in table, table
