"""Cold start of the handlers that record history (analysis, agent activity, contact records), guarded without
timing (bench/bench_coldstart.py measures it): the analysis step builds no contact entity (nor its routing plan)
and no KPI roll-up; the stream consumers that import the history use-cases build no report model and no KPI row
(those are built by their first use, as the API's)."""
from __future__ import annotations

import json

from ccaas.domain import models, vocabulary
from tests.unit.test_cold_start import FUNCTIONS_DIR, _run, lambda_environment

# In a fresh process: import the handler as Lambda does; the loaded modules, and which of the history and KPI
# report models pydantic has built (a deferred model is built by its first validation).
_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
built = {}
for module, names in {"ccaas.domain.kpis.ledger": ["KpiRow"],
                      "ccaas.usecases.history": ["HistoricalReport", "HistoricalSummary", "CompactHistoricalReport"]}.items():
    for name in names:
        if module in sys.modules:
            built[name] = getattr(sys.modules[module], name).__pydantic_complete__
print(json.dumps({"modules": sorted(sys.modules), "built": built}))
"""

# the contact entities (ccaas.domain.models) and the routing plan they carry; the KPI roll-up, CTR parser, export
ANALYSIS_UNLOADED = ("ccaas.domain.models", "ccaas.domain.routing_engine.plan", "ccaas.domain.routing_engine.conditions",
                     "ccaas.domain.kpis.ledger", "ccaas.domain.kpis.ctr", "ccaas.domain.kpis.export",
                     "ccaas.domain.kpis.accumulators")


def _probe(folder: str) -> dict:
    return json.loads(_run(_PROBE, str(FUNCTIONS_DIR / folder), env=lambda_environment(folder)))


def test_analysis_import_builds_no_contact_entity_and_no_kpi_rollup():
    found = _probe("analyze_contact")
    assert "ccaas.domain.history" in found["modules"] and "ccaas.domain.kpis.records" in found["modules"]
    early = [m for m in found["modules"] if m in ANALYSIS_UNLOADED]
    assert early == [], f"analyze_contact imports {early} at cold start"


def test_stream_consumers_build_no_report_model_at_import():
    for folder in ("record_agent_activity", "consume_contact_records"):
        found = _probe(folder)
        assert "ccaas.usecases.history" in found["modules"]
        assert found["built"] and not any(found["built"].values()), f"{folder} built {found['built']} at cold start"


def test_kpis_package_exports_the_rollup_function_whatever_was_imported_first():
    # the roll-up's module is not named `rollup`: importing it never turns the package's `rollup` into a module
    code = ("import json; import ccaas.domain.kpis.ledger, ccaas.domain.kpis.export; "
            "from ccaas.domain.kpis import rollup, KpiRow, ContactRecord; "
            "print(json.dumps([callable(rollup), rollup.__module__, KpiRow.__name__, ContactRecord.__module__]))")
    assert json.loads(_run(code, env=lambda_environment("serve_api"))) == [
        True, "ccaas.domain.kpis.ledger", "KpiRow", "ccaas.domain.kpis.records"]


def test_models_reexports_the_vocabulary():
    for name in ("DomainError", "NotFound", "Conflict", "Channel", "ContactState", "Int", "check_transition",
                 "within_calendar", "NAME_PATTERN", "TERMINAL_STATES"):
        assert getattr(models, name) is getattr(vocabulary, name)


def test_deferred_report_models_validate_on_first_use():
    code = ("import json; from ccaas.usecases.history import HistoricalReport; from ccaas.domain.kpis import KpiRow; "
            "before = [HistoricalReport.__pydantic_complete__, KpiRow.__pydantic_complete__]; "
            "row = KpiRow(tenant_id='t', interval='day', interval_start='a', interval_end='b', interval_start_ms=0, "
            "interval_end_ms=1, group_by=()); "
            "report = HistoricalReport(time_zone='UTC', interval='day', group_by=(), service_level_variant='default', rows=[row]); "
            "bad = None\n"
            "try:\n    HistoricalReport(time_zone='UTC', interval='fortnight', group_by=(), service_level_variant='default', rows=[])\n"
            "except ValueError as error:\n    bad = type(error).__name__\n"
            "print(json.dumps(before + [report.rows[0].offered, bad]))")
    assert json.loads(_run(code, env=lambda_environment("serve_api"))) == [False, False, 0, "ValidationError"]


def test_recording_agent_activity_builds_no_contact_entity_through_its_first_call_imports():
    # the first call wires the ports and imports the lake's use-cases (to export when a lake is installed): none
    # of them needs the contact entities, so they are not moved from the import to the first call
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import handler; "
            "from ccaas.bootstrap import dependencies; dependencies(); from ccaas.usecases import lake; "
            "print(json.dumps(['ccaas.domain.models' in sys.modules, 'ccaas.domain.routing_engine.plan' in sys.modules]))")
    folder = "record_agent_activity"
    assert json.loads(_run(code, str(FUNCTIONS_DIR / folder), env=lambda_environment(folder))) == [False, False]
