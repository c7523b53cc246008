"""Cold start, guarded without timing (bench/bench_coldstart.py measures it): importing a handler in a fresh
process, with its Lambda's environment and tracing off, loads none of the heavy modules it does not need."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from infra.function_specs import SPECS
from infra.naming import FUNCTIONS_DIR

HANDLERS = sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/handler.py"))

# Never at a handler's import: the X-Ray SDK's core (botocore's session with it) while tracing is off,
# boto3 (bootstrap builds clients on first use), the API's routes and Powertools' OpenAPI models (ccaas.api.app
# includes the routers a request needs when it comes), Powertools idempotency (it imports boto3), Powertools'
# parser models (~25 pydantic models of every event source: aws_lambda_powertools.utilities.batch.types imports
# them when pydantic is already loaded, so the batch utility must come before our models; ccaas.bootstrap
# imports its pydantic Settings on first use for that).
EVERYWHERE = ("aws_xray_sdk.core", "boto3", "botocore.session", "ccaas.api.routes.", "ccaas.usecases.agents",
              "aws_lambda_powertools.event_handler.openapi.models", "aws_lambda_powertools.utilities.idempotency",
              "aws_lambda_powertools.utilities.parser.models")
TRANSCRIPT_ANALYSIS = ("ccaas.domain.analytics.analyzer", "ccaas.domain.analytics.qa", "ccaas.usecases.analytics",
                       "ccaas.domain.insights")
ALERTS = ("ccaas.domain.alerts", "ccaas.domain.analytics.", "ccaas.domain.guidance", "ccaas.usecases.alerts")
KPIS = ("ccaas.domain.kpis.", "ccaas.domain.history", "ccaas.usecases.history")
ROUTING = ("ccaas.domain.routing_engine.selection", "ccaas.usecases.contacts", "ccaas.usecases.routing")
LIST_PARSING = ("ccaas.domain.outbound.lists", "phonenumbers")  # uploads and number parsing only
API = ("ccaas.api.",)
# The contact/agent models and the routing plan: the stream consumers read events and the read side, and
# import what errors and enums they need from ccaas.domain.vocabulary.
CONTACT_MODELS = ("ccaas.domain.models", "ccaas.domain.routing_engine.plan")
# Feature modules each handler must not load at import (beyond EVERYWHERE).
NOT_NEEDED: dict[str, tuple[str, ...]] = {
    "analyze_contact": (*API, *ROUTING),
    "authorize_request": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING),
    "connect_flow": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS),
    "consume_contact_events": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *CONTACT_MODELS),
    "consume_contact_records": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *ROUTING, *CONTACT_MODELS),
    "dial_campaign": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *LIST_PARSING),  # routing only once a call is answered
    "evaluate_alerts": (*API, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *CONTACT_MODELS),
    "manage_connection": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING),
    "push_updates": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *CONTACT_MODELS),
    "recheck_contact": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS),
    "record_agent_activity": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *ROUTING, *CONTACT_MODELS),
    "receive_texts": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *LIST_PARSING, *CONTACT_MODELS),
    "record_dial_outcomes": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING, *LIST_PARSING, *CONTACT_MODELS),
    "record_history": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *ROUTING),
    "run_journeys": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING),  # loaded per journey step, not at import
    "route_contact": (*API, *ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS),
    "serve_api": (*ALERTS, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING),
    "sweep_alerts": (*API, *TRANSCRIPT_ANALYSIS, *KPIS, *ROUTING),
}
_MODULES = "import json, sys; sys.path.insert(0, sys.argv[1]); import handler; print(json.dumps(sorted(sys.modules)))"


def lambda_environment(folder: str, **extra: str) -> dict[str, str]:
    """As infra/constructs/function_factory.py builds it (dummy values: settings are read lazily), tracing off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "_X_AMZN"))}
    env.pop("PYTHONPATH", None)
    env.update({name: f"test-{name.lower()}" for name in SPECS[folder].env_names})
    env.update(POWERTOOLS_SERVICE_NAME=folder, POWERTOOLS_METRICS_NAMESPACE="CcaasTest", LOG_LEVEL="INFO",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_LAMBDA_FUNCTION_NAME=folder,
               POWERTOOLS_TRACE_DISABLED="true")
    env.update(extra)
    return env


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_handler_has_a_list():
    assert sorted(NOT_NEEDED) == HANDLERS


@pytest.mark.parametrize("folder", HANDLERS)
def test_handler_import_loads_only_what_it_uses(folder: str):
    loaded = json.loads(_run(_MODULES, str(FUNCTIONS_DIR / folder), env=lambda_environment(folder)))
    # journey specs (~25 ms at import) are for the journey runner; others reach them on an error path only
    forbidden = EVERYWHERE + NOT_NEEDED[folder] + (() if folder == "run_journeys" else ("ccaas.domain.journeys",))
    unexpected = [m for m in loaded if any(m == f or m.startswith(f if f.endswith(".") else f + ".") for f in forbidden)]
    assert unexpected == [], f"{folder} imports {unexpected} at cold start"


def test_bootstrap_import_loads_no_pydantic():
    """Settings (pydantic) are imported with the first dependencies(): a stream handler's batch utility,
    imported after ccaas.bootstrap, then still finds pydantic unloaded and skips the parser models."""
    code = ("import json, sys; import ccaas.bootstrap; print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('pydantic', 'pydantic_core', 'boto3', 'botocore'))))")
    assert json.loads(_run(code, env=lambda_environment("route_contact"))) == []


_TRACER = r"""
import json, sys
from ccaas.tracing import lambda_tracer, UntracedProvider
tracer = lambda_tracer()

@tracer.capture_lambda_handler
def handler(event, context):
    if event == "boom":
        raise ValueError("boom")
    return {"ok": event}

answer = handler("x", None)
try:
    handler("boom", None)
    raised = False
except ValueError:
    raised = True
print(json.dumps({"disabled": bool(tracer.disabled), "untraced": isinstance(tracer.provider, UntracedProvider),
                  "xray": "aws_xray_sdk.core" in sys.modules, "answer": answer, "raised": raised}))
"""


def test_tracer_without_xray_when_tracing_is_off():
    result = json.loads(_run(_TRACER, env=lambda_environment("route_contact")))
    assert result == {"disabled": True, "untraced": True, "xray": False, "answer": {"ok": "x"}, "raised": True}


def test_tracer_is_powertools_xray_when_tracing_is_on():
    # As deployed (active tracing): in Lambda (LAMBDA_TASK_ROOT), POWERTOOLS_TRACE_DISABLED unset.
    env = lambda_environment("route_contact", LAMBDA_TASK_ROOT=str(FUNCTIONS_DIR / "route_contact"))
    env.pop("POWERTOOLS_TRACE_DISABLED")
    code = ("import json, sys; from ccaas.tracing import lambda_tracer, UntracedProvider; t = lambda_tracer(); "
            "print(json.dumps({'disabled': bool(t.disabled), 'untraced': isinstance(t.provider, UntracedProvider), "
            "'xray': type(t.provider).__module__.startswith('aws_xray_sdk')}))")
    assert json.loads(_run(code, env=env)) == {"disabled": False, "untraced": False, "xray": True}


def test_route_modules_table_matches_the_routes():
    """ccaas.api.app includes, for a request, the routers ROUTE_MODULES names for its first path segment."""
    from ccaas.api import app

    found: dict[str, list[str]] = {}
    for name in app.ROUTERS:
        for rule, *_ in importlib.import_module(f"ccaas.api.routes.{name}").router._routes:  # noqa: SLF001
            modules = found.setdefault(rule.split("/")[1], [])
            if name not in modules:
                modules.append(name)
    assert {segment: tuple(modules) for segment, modules in found.items()} == app.ROUTE_MODULES
