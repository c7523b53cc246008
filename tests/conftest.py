"""Shared fixtures. Tests never reach the network or a real AWS account."""
from __future__ import annotations

import gc
import os
import sys

import pytest

from tests import precompile
from tests.worker_exit import pytest_configure, pytest_unconfigure  # noqa: F401 (hooks: xdist workers skip freeing their heap)

# pytest rewrites the asserts of every test module (and of pytest plugins' modules) on import, and keeps the
# rewritten code in __pycache__ only when bytecode may be written: with PYTHONDONTWRITEBYTECODE set (as some
# shells and containers do) every run, and every xdist worker, rewrote ~460 modules again (~9 s of CPU each).
# The caches are ignored by git (.gitignore) and checked against each source file's mtime and size.
sys.dont_write_bytecode = False
# The suite's heap is large (botocore's models, moto's state, local runtimes, Hypothesis): with Python's
# default thresholds the cyclic collector ran thousands of full passes over it, ~15-20 % of the suite's CPU
# (tests/unit/test_lake_*.py: 6.7 of 32 s). Rarer young collections make the full ones rare too; a test
# that measures memory calls gc.collect() itself.
gc.set_threshold(20_000, 50, 100)

# Any boto3 client a test forgets to mock fails fast instead of finding real credentials.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CcaasTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


def _share_botocore_data_loader() -> None:
    """Every botocore session of the test process reads the SDK's JSON models once (local.botocore_data, as
    the local runtime does): the moto tiers make hundreds of sessions (the deployer makes one per client,
    each module deploys the stack), each parsing endpoints.json and its service models again (~0.3 s)."""
    from local import botocore_data

    botocore_data.install()


_share_botocore_data_loader()


def _sign_cheaply_under_moto_mocks() -> None:
    """While a `mock_aws` is active its stubber answers every request and reads only the Authorization header's
    credential scope and access key, never the signature: SigV4's canonical request (with a hash of the body)
    and its HMACs are skipped there (~8 % of a call's CPU in the contract, handler and outside tiers, whose
    module fixtures also deploy the stack: ~85 calls each). The header keeps its shape (scope, signed headers,
    a fixed signature), as local.inprocess_transport signs requests to the embedded moto; with no mock active
    (a real endpoint, tests/local/test_inprocess_transport.py's stub) SigV4 signs as before."""
    from botocore.auth import SigV4Auth

    canonical_request, signature = SigV4Auth.canonical_request, SigV4Auth.signature

    def mocked(auth: SigV4Auth) -> bool:
        models = sys.modules.get("moto.core.models")  # no moto imported: nothing is mocked
        return type(auth) is SigV4Auth and models is not None and models.botocore_stubber.enabled

    def cheap_canonical_request(self: SigV4Auth, request):  # noqa: ANN001, ANN202 (botocore's signature)
        return "" if mocked(self) else canonical_request(self, request)

    def cheap_signature(self: SigV4Auth, string_to_sign, request):  # noqa: ANN001, ANN202
        return "0" * 64 if mocked(self) else signature(self, string_to_sign, request)

    SigV4Auth.canonical_request = cheap_canonical_request  # type: ignore[method-assign]
    SigV4Auth.signature = cheap_signature  # type: ignore[method-assign]


_sign_cheaply_under_moto_mocks()


def _hypothesis_profiles() -> None:
    """Property tests draw fewer cases in `make test` than in a thorough run: "quick" (the default) draws
    30 of Hypothesis' 100 for a test that names no number, and local.testing.examples(n) scales the tests
    that do; HYPOTHESIS_PROFILE=thorough draws them all. The properties are the same in both."""
    from hypothesis import settings

    settings.register_profile("quick", max_examples=30)
    settings.register_profile("thorough", max_examples=100)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


_hypothesis_profiles()


@pytest.fixture(scope="module")
def runtime():
    """A local runtime per test module (its own moto, stack and seeded demo, serving only: a test that
    wants traffic starts a Simulation). Modules that start it otherwise define their own."""
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()


# -- xdist work units (`make test`: pytest -n 3 --dist loadgroup) --------------------------------------
# pytest 9.2 made an item's node id a structured value (Node._id); pytest-xdist 3.8 still appends the
# xdist_group name to the old `_nodeid` attribute, which nothing reads any more: --dist loadgroup silently
# became --dist load, one test per unit, and every module-scoped fixture (a local runtime, the stack
# deployed into moto) was set up on both workers. This conftest gives xdist the scheduler instead: a unit
# per test file (a module's fixtures are set up once), and one unit for a directory whose tests share a
# session or package fixture (tests/infra: the synthesized app; tests/workflows: one local runtime). The
# units are handed out heaviest first (the items are ordered so in every worker; xdist's reordering by
# test count is off): a long module started last is the run's tail.
SHARED_DIRS = ("tests/infra/", "tests/workflows/")
# Files that join a shared directory's unit: test_lake_infra.py synthesizes a CDK app as tests/infra does, and
# on the other worker it started a second jsii kernel (Node, the CDK's modules: ~15 s of a worker).
JOINS = {"tests/unit/test_lake_infra.py": "tests/infra/"}
# A unit's estimated seconds beyond its tests at 0.01 s each (unit_cost), on a quiet 2-core machine with both
# workers busy: its wall time in a `make test` run (Chromium, Node and subprocesses included), measured per
# file with a throwaway plugin (time.process_time() and wall per file) and scaled to a quiet machine (x0.6 of
# a run beside other work); a file not listed costs what its directory says. Only the order matters: the
# heavy units start first, and the small ones fill in whichever worker is free. (Last measured after the
# stream waits were flushed, #17: the lake's SQL, cold-start and reference tests had grown past their guesses;
# the SQL dialect file then halved with sqlglot's compiled parser.)
UNIT_COST = {
    "tests/fuzz/": 34, "tests/infra/": 30, "tests/local/test_wallboard.py": 17, "tests/unit/test_lake_conformance.py": 15,
    "tests/unit/test_lake_sql_dialect.py": 7, "tests/local/test_moto_patches.py": 13,
    "tests/local/test_simulation_transfers.py": 13, "tests/local/test_journeys_local.py": 11, "tests/workflows/": 11,
    "tests/outside/test_outbound_journeys_api.py": 10, "tests/unit/test_cold_start.py": 10,
    "tests/local/test_demo_history.py": 9, "tests/local/test_simulation_push.py": 9, "tests/local/test_day_report.py": 8,
    "tests/local/test_cli_errors.py": 7, "tests/unit/test_lake_api.py": 7, "tests/handlers/test_lake_api.py": 7,
    "tests/local/test_end_to_end.py": 6, "tests/handlers/test_history_handlers.py": 6, "tests/local/test_make_run.py": 5,
    "tests/unit/test_lake_reference.py": 5, "tests/local/test_readme_walkthrough.py": 5, "tests/local/test_lake_local.py": 5,
    "tests/unit/test_demo_history_shape.py": 5, "tests/outside/test_races.py": 4, "tests/unit/test_campaign_bench.py": 4,
    "tests/unit/test_lake_query_cap.py": 4, "tests/local/test_admin_cli.py": 4, "tests/local/test_outbound_local.py": 4,
    "tests/handlers/test_roles.py": 4, "tests/unit/test_plot_forecast.py": 3, "tests/unit/test_outbound_pacing.py": 3,
    "tests/unit/test_erlang.py": 3, "tests/handlers/test_documented_shapes.py": 3,
    "tests/local/": 2, "tests/outside/": 3, "tests/handlers/": 2, "tests/contract/": 1,
}


def work_unit(nodeid: str) -> str:
    """The xdist unit of a test: its directory when the directory shares a fixture (or the file joins one),
    else its file."""
    path = nodeid.split("::", 1)[0]
    return JOINS.get(path) or next((d for d in SHARED_DIRS if path.startswith(d)), path)


def unit_cost(unit: str, tests: int) -> float:
    return next((cost for d, cost in UNIT_COST.items() if unit.startswith(d)), 0) + tests / 100


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: no error where it is not installed
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 (xdist's hook)
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # the workers' collection order is already heaviest first
    return SharedFixtureScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # an xdist worker has dist "no" and loadgroup set; the controller does not collect
    if not (getattr(config.option, "loadgroup", False) or getattr(config.option, "dist", "no") == "loadgroup"):
        return
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(work_unit(item.nodeid), []).append(item)
    ordered = sorted(units.items(), key=lambda kv: -unit_cost(kv[0], len(kv[1])))  # stable: ties keep order
    items[:] = [item for _, unit in ordered for item in unit]


# Every xdist worker collects the whole suite: a module-level CDK import costs each ~2 s of CPU and a Node process.
COLLECTION_FORBIDDEN = ("aws_cdk", "cdk_nag", "cfnlint", "jsii", "constructs")
_first_importer: dict[str, str] = {}
_loaded_before: set[str] = set()  # what the process had before the session (pytest.main in a process that has them)


def pytest_sessionstart(session: pytest.Session) -> None:
    precompile.pytest_sessionstart(session)  # the xdist controller compiles before its workers collect
    _loaded_before.clear()
    _loaded_before.update(name for name in COLLECTION_FORBIDDEN if name in sys.modules)
    _snapshot_local_runtime_deploys(session.config)


def _snapshot_local_runtime_deploys(config: pytest.Config) -> None:
    """The local runtimes a test process starts (~21 a run, a module fixture each) deploy the stack once: the first
    deploy is kept and the later starts restore it into their moto (tests/moto_snapshot.py's RUNTIME_SNAPSHOTS through
    local.runtime.DEPLOY_HOOK, which `python -m local` leaves unset): ~0.4 s of CPU a start. Not in xdist's controller,
    which starts none."""
    if config.pluginmanager.has_plugin("dsession"):
        return
    from tests import moto_snapshot

    moto_snapshot.install_runtime_hook()


def _forbidden_loaded() -> list[str]:
    return [name for name in COLLECTION_FORBIDDEN if name in sys.modules and name not in _loaded_before]


def pytest_collectreport(report: pytest.CollectReport) -> None:
    for name in _forbidden_loaded():
        _first_importer.setdefault(name, report.nodeid or "a conftest or plugin")


def pytest_collection_finish(session: pytest.Session) -> None:
    loaded = _forbidden_loaded()
    if loaded:
        found = ", ".join(f"{name} (first after collecting {_first_importer.get(name, '?')})" for name in loaded)
        raise pytest.UsageError(
            f"collecting the tests imported {found}: import these inside the tests or fixtures that use them")
