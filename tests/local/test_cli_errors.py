"""The local command-line tools fail in one line naming the problem (issue #14 item 7).

A missing file, a file that is not JSON, a file that fails validation, a bad argument, an unreachable or
refusing API. Exit code 2 for usage and input errors, 1 for runtime failures; stderr is one line, names the
file and the field, and holds no traceback (unless --debug). And local.replay labels two compared policies
of the same name by their file names.

Each tool runs once as the user runs it, `python -m local.<tool> ...` in a subprocess (`tool`): its fresh
interpreter's stderr is the one line, with whatever its imports might print, and the user's exit code. That
interpreter imports every module the tool's other cases here import (checked when this was written), so
those run `local.<tool>.main(argv)` in the test process (`in_process`, answered as `tool` answers), which
spares an interpreter start and its imports (~0.3 s of CPU) a case.
"""
from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local import cli
from tests.cli_main import exit_code, fresh_interpreter_warnings

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "routing"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once
PLOT = ["--queue", "q", "--day", "2026-11-02"]


def tool(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "CCAAS_DEBUG")}
    environment.update({"PYTHONPATH": f"{REPO / 'layers'}:{REPO}", "MPLBACKEND": "Agg", **(env or {})})
    return subprocess.run([sys.executable, "-m", f"local.{name}", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=30)


@pytest.fixture()
def in_process(capfd, monkeypatch):
    """`tool` as a call of `local.<name>.main(args)` in the test process: the same environment and working
    directory, the exit code (argparse's SystemExit too), stdout and stderr (file descriptors too), and the
    warnings a fresh interpreter would print to stderr (pytest's filters would record them instead)."""
    for name in ("AWS_ENDPOINT_URL", "CCAAS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(REPO)

    def call(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        module = f"local.{name}"
        main = importlib.import_module(module).main
        capfd.readouterr()
        with monkeypatch.context() as patch, fresh_interpreter_warnings(module) as printed:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            code = exit_code(lambda: main(list(args)))
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess([module, *args], code, out, "".join(printed) + err)

    return call


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, *names: str) -> str:
    err = done.stderr
    assert done.returncode == code, (done.returncode, err)
    assert "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("python -m local.") and ": error: " in err, err
    for name in names:
        assert name in err, (name, err)
    return err


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "missing": tmp_path / "missing.json",
        "not_json": tmp_path / "not_json.json",
        "bad_policy": tmp_path / "bad_policy.json",
        "bad_day": tmp_path / "bad_day.json",
        "bad_history": tmp_path / "bad_history.json",
    }
    made["not_json"].write_text("{name: default")
    made["bad_policy"].write_text(json.dumps({"name": "x", "reservation": {"timeout_s": "soon"}}))
    made["bad_day"].write_text(json.dumps({"name": "d", "queues": [], "agents": [], "duration_s": -1}))
    made["bad_history"].write_text(json.dumps({"intervals": [
        {"queue_id": "q", "interval_start": "2026-11-01T00:00:00", "offered": 3},
        {"queue_id": "q", "interval_start": "yesterday", "offered": 1}]}))
    return made


# --- local.replay ---------------------------------------------------------------------------------
def test_replay_a_missing_policy_file(files, in_process):
    assert_one_line(in_process("replay", "--policy", str(files["missing"])), 2, str(files["missing"]), "no such file")


def test_replay_a_policy_that_is_not_json(files, in_process):
    assert_one_line(in_process("replay", "--policy", str(files["not_json"])), 2, str(files["not_json"]), "not JSON",
                    "line 1 column 2")


def test_replay_an_invalid_policy_names_the_file_and_the_field(files):
    # local.replay as the user runs it: its deepest error (pydantic's validation) from a fresh interpreter
    err = assert_one_line(tool("replay", "--policy", str(files["bad_policy"])), 2, str(files["bad_policy"]),
                          "reservation.timeout_s")
    assert "errors.pydantic.dev" not in err  # pydantic's message, not its report


def test_replay_an_invalid_day_names_the_file_and_the_field(files, in_process):
    assert_one_line(in_process("replay", "--policy", str(FIXTURES / "policy_fifo.json"), "--day",
                               str(files["bad_day"])), 2, f"day {files['bad_day']}", "duration_s")


def test_replay_a_bad_argument_is_one_line_not_the_usage_block(in_process):
    assert_one_line(in_process("replay", "--policy", "p.json", "--seeds", "many"), 2, "--seeds", "'many'")
    assert_one_line(in_process("replay"), 2, "--policy")


def test_replay_debug_shows_the_traceback(files, in_process):
    for done in (in_process("replay", "--policy", str(files["missing"]), "--debug"),
                 in_process("replay", "--policy", str(files["missing"]), env={"CCAAS_DEBUG": "1"})):
        assert done.returncode == 2 and "Traceback" in done.stderr and "FileNotFoundError" in done.stderr
        assert done.stderr.splitlines()[-1].endswith("no such file")


def test_replay_labels_policies_of_the_same_name_by_file_name(tmp_path, in_process):
    day = tmp_path / "day.json"
    day.write_text(json.dumps({"name": "tiny", "duration_s": 60, "drain_s": 60,
                               "queues": [{"queue_id": "billing", "sl_threshold_s": 20}],
                               "agents": [{"prefix": "a", "count": 1, "skills": {"billing": 3},
                                           "queues": [{"queue_id": "billing"}]}],
                               "contacts": [{"contact_id": "c1", "arrival_s": 0, "queue_id": "billing",
                                             "handle_s": 30}]}))
    (tmp_path / "fifo.json").write_text(json.dumps({"name": "default", "contact_scoring": {"mode": "fifo"}}))
    (tmp_path / "scored.json").write_text(json.dumps({"name": "default"}))
    args = ("--policy", str(tmp_path / "fifo.json"), "--compare", str(tmp_path / "scored.json"), "--day", str(day))
    done = in_process("replay", *args)
    assert done.returncode == 0, done.stderr
    assert "## fifo on tiny" in done.stdout and "## scored on tiny" in done.stdout
    assert "## A = fifo  vs  B = scored  (labelled by file name: both policies are named 'default')" in done.stdout
    assert "labelled by file name (fifo, scored)" in done.stderr and "Traceback" not in done.stderr
    as_json = in_process("replay", *args, "--json")
    assert [r["policy"] for r in json.loads(as_json.stdout)] == ["fifo", "scored"]


def test_replay_labels_by_name_when_the_names_differ():
    from local.replay import labels

    assert labels(["a", "b"], ["x/p.json", "y/p.json"]) is None
    assert labels(["default", "default"], ["x/one.json", "y/two.json"]) == ["one", "two"]
    assert labels(["default", "default"], ["x/p.json", "y/p.json"]) == ["x/p.json", "y/p.json"]
    assert labels(["default", "default"], ["p.json", "p.json"]) == ["p.json (A)", "p.json (B)"]


# --- local.plot_forecast --------------------------------------------------------------------------
def test_plot_forecast_a_missing_history_file(files, tmp_path, in_process):
    assert_one_line(in_process("plot_forecast", "--input", str(files["missing"]), *PLOT, "--out",
                               str(tmp_path / "o.png")), 2, str(files["missing"]), "no such file")


def test_plot_forecast_a_history_that_is_not_json(files, tmp_path, in_process):
    assert_one_line(in_process("plot_forecast", "--input", str(files["not_json"]), *PLOT, "--out",
                               str(tmp_path / "o.png")), 2, str(files["not_json"]), "not JSON")


def test_plot_forecast_an_invalid_history_names_the_file_and_the_field(files, tmp_path, in_process):
    assert_one_line(in_process("plot_forecast", "--input", str(files["bad_history"]), *PLOT, "--out",
                               str(tmp_path / "o.png")), 2, str(files["bad_history"]), "intervals[1].interval_start",
                    "'yesterday'")


def test_plot_forecast_a_bad_argument(tmp_path, in_process):
    assert_one_line(in_process("plot_forecast", "--synthetic", "--queue", "q", "--day", "2026-13-01", "--out",
                               str(tmp_path / "o.png")), 2, "--day", "'2026-13-01'")
    assert_one_line(in_process("plot_forecast", "--api", UNREACHABLE, *PLOT, "--out", str(tmp_path / "o.png")), 2,
                    "--key")


def test_plot_forecast_an_unreachable_api_fails_fast_in_one_line(tmp_path):
    import time

    # local.plot_forecast as the user runs it: fast from the interpreter's start to its exit code
    started = time.monotonic()
    done = tool("plot_forecast", "--api", f"{UNREACHABLE}/v1", "--key", "k", *PLOT, "--out", str(tmp_path / "o.png"))
    assert time.monotonic() - started < 5
    assert_one_line(done, 1, f"GET {UNREACHABLE}/v1/forecast/staffing", "cannot reach")
    assert not (tmp_path / "o.png").exists()


class _Refusing(BaseHTTPRequestHandler):
    """API Gateway's answer to a wrong key, and the API's own error body for anything else."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status, body = ((401, {"message": "Unauthorized"}) if "Bearer bad" in self.headers.get("Authorization", "")
                        else (404, {"error": "not_found", "message": "no queue q", "field": "queue"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def refusing_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_plot_forecast_a_refusal_names_the_url_the_status_and_the_message(refusing_api, tmp_path, in_process):
    out = str(tmp_path / "o.png")
    assert_one_line(in_process("plot_forecast", "--api", refusing_api, "--key", "bad", *PLOT, "--out", out), 1,
                    f"GET {refusing_api}/forecast/staffing?", "HTTP 401: Unauthorized")
    assert_one_line(in_process("plot_forecast", "--api", refusing_api, "--key", "good", *PLOT, "--out", out), 1,
                    "HTTP 404: not_found: no queue q")


# --- local.flow -----------------------------------------------------------------------------------
def test_flow_an_unreachable_endpoint_fails_fast_in_one_line():
    import time

    # local.flow as the user runs it: fast from the interpreter's start to its exit code
    started = time.monotonic()
    done = tool("flow", "--endpoint", UNREACHABLE, "identify")
    assert time.monotonic() - started < 5
    assert_one_line(done, 1, f"cannot reach {UNREACHABLE}")


def test_flow_usage_errors_are_one_line(in_process):
    assert_one_line(in_process("flow", "identify"), 2, "--endpoint")
    assert_one_line(in_process("flow", "--endpoint", UNREACHABLE, "route", "queue"), 2, "key=value", "'queue'")
    assert_one_line(in_process("flow", "--endpoint", "not a url", "identify"), 2, "--endpoint", "not a url")


# --- the shared runner ----------------------------------------------------------------------------
def test_an_unexpected_error_is_one_line_and_exit_code_1_and_debug_prints_its_traceback(monkeypatch):
    monkeypatch.delenv("CCAAS_DEBUG", raising=False)

    def broken() -> int:
        raise RuntimeError("the engine broke\nover two lines")

    err = io.StringIO()
    assert cli.run("prog", broken, err=err) == 1
    assert err.getvalue() == "prog: error: RuntimeError: the engine broke over two lines (--debug for the traceback)\n"
    err = io.StringIO()
    assert cli.run("prog", broken, debug=True, err=err) == 1
    assert err.getvalue().startswith("Traceback") and err.getvalue().endswith("(--debug for the traceback)\n")
