"""The whole backend in one process: synthesized template -> moto -> in-process handlers -> HTTP API.

    with LocalRuntime().start() as rt:          # or rt = LocalRuntime().start(); ...; rt.stop()
        rt.api_url, rt.api_keys["demo"], rt.moto_endpoint, rt.call_counts

Start-up, in order (each step timed in `rt.timings`):
1. synth: `python -m infra.app` unless cdk.out/ is newer than every source (local.synth);
2. moto: one ThreadedMotoServer per process on 127.0.0.1 (reset if a previous runtime used it), the
   three moto patches (local.moto_patches), fake credentials, AWS_ENDPOINT_URL and MOTO_PORT;
3. deploy: the template into moto (local.deployer), every function registered for in-process runs;
4. warm: each handler imported once in its own environment (a cold start, paid before "ready");
5. pollers: one Kinesis poller per recorded event source mapping (local.kinesis_poller);
6. seed: tenants "demo" and "acme" with queues, agents and API keys per role (local.seed), then the
   template's EventBridge Scheduler schedules start ticking (local.scheduler);
6b. history (history_days > 0, `python -m local` asks for 42): weeks of the demo tenant's past,
   generated (or reused from a start of the same day with the same code: local.demo_history.prepare)
   and put straight into moto's History table (local.demo_history);
7. API: the template's REST API on 127.0.0.1:<port> (local.api_server);
8. simulate (optional): simulated customers and agents driving the API (local.simulation).
"""
from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import (
    botocore_data,
    call_counter,
    deployer,
    env_overlay,
    inprocess_transport,
    lambda_runtime,
    log_sink,
    moto_patches,
    moto_server,
)
from local.api_server import ApiGateway, ApiServer
from local.deployer import Deployer, Deployment
from local.kinesis_poller import KinesisPoller
from local.lambda_runtime import REGISTRY
from local.memory_release import collector_paused

log = logging.getLogger("local")

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Only one runtime at a time per process: they share moto, os.environ and the handler registry.
_ACTIVE_LOCK = threading.Lock()
# The deployer's boto3 clients by (moto endpoint, region), kept from one runtime's start to the next: the process's
# moto server outlives its runtimes (reset, not restarted) and a client holds no AWS state. Making them again took
# ~45 ms of CPU of each start (nine clients; the test tiers start a runtime per module).
_DEPLOY_CLIENTS: dict[tuple[str, str], dict[str, Any]] = {}
# The deploy step's hook, for tests only (tests/conftest.py installs tests.moto_snapshot's): called as
# DEPLOY_HOOK(template, new_deployer, variant) instead of new_deployer().deploy(), into the freshly reset moto, it
# returns the Deployment (and leaves moto and local.lambda_runtime's REGISTRY as that deploy would); `variant` is what
# else decides the deploy. None (`python -m local`, make run): every start deploys the template.
DEPLOY_HOOK: Callable[[Path, Callable[[], Deployer], str], Deployment] | None = None


@dataclass
class Timings:
    synth_s: float = 0.0
    synthesized: bool = False
    moto_s: float = 0.0
    deploy_s: float = 0.0
    warm_s: float = 0.0
    seed_s: float = 0.0
    history_s: float = 0.0
    api_s: float = 0.0
    ready_s: float = 0.0
    per_function_init_ms: dict[str, float] = field(default_factory=dict)


def _default_static_dir() -> Path | None:
    for name in ("wallboard", "web", "static"):
        for base in (ROOT / "local", ROOT):
            p = base / name
            if p.is_dir():
                return p
    return None


class LocalRuntime:
    def __init__(
        self,
        *,
        template: Path | None = None,
        force_synth: bool = False,
        static_dir: Path | None = None,
        seed: bool = True,
        warm: bool = True,
        capture_handler_output: bool = False,
        log_file: Path | None = None,
        poll_interval_s: float = 0.05,
        simulation_options: Mapping[str, Any] | None = None,
        region: str = REGION,
        history_days: int = 0,
        inprocess_aws: bool = True,
        api_environments: int = 4,
        finished_executions_kept: int | None = None,
        stream_read_interval_s: float = 0.0,
        function_environments: int = 1,
        release_memory_every_s: float | None = None,
        ttl_sweep_every_s: float | None = None,
        event_dedup_ttl_s: int | None = None,
    ) -> None:
        self.template = template
        self.force_synth = force_synth
        self.static_dir = static_dir if static_dir is not None else _default_static_dir()
        self.seed_data = seed
        self.warm = warm
        # A log file is where handler output goes: asking for one asks for the capture.
        self.capture_handler_output = capture_handler_output or log_file is not None
        self.log_file = log_file
        self.poll_interval_s = poll_interval_s
        self.simulation_options = dict(simulation_options or {})
        self.region = region
        # Days of the demo tenant's past loaded at start (0: none; tests and the shared fixture pay nothing).
        self.history_days = history_days
        self.history: Any = None  # local.demo_history.LoadReport once loaded
        # This process's AWS calls go into moto's app without HTTP (local.inprocess_transport); False: over
        # the loopback HTTP server, as other processes do.
        self.inprocess_aws = inprocess_aws
        # Execution environments of the REST API's functions (Powertools' request state is made
        # per-invocation first: local.request_isolation); 1 = one request at a time, as before.
        self.api_environments = max(1, api_environments)
        # Finished Step Functions executions kept per state machine (local.moto_patches patch 15); None: all,
        # as moto does (tests and the cost bench read every execution); `python -m local` keeps a few hundred.
        self.finished_executions_kept = finished_executions_kept
        # How often a stream consumer may read a caught-up shard (local.kinesis_poller): 0 = as soon as a put
        # wakes it (tests: quickest delivery); `python -m local` uses Lambda's 1 s.
        self.stream_read_interval_s = stream_read_interval_s
        # Execution environments per function (each its own import of the handler: local.lambda_runtime), e.g.
        # route_contact's, which Step Functions invokes per contact: 1 = one invocation at a time, the others
        # queue. Stream consumers get at least one per shard, the API's functions api_environments.
        self.function_environments = max(1, function_environments)
        # Free memory handed back to the OS every so often (local.memory_release; None: never, as in tests).
        self.release_memory_every_s = release_memory_every_s
        self.memory_releaser: Any = None
        # Expired items deleted every so often, as DynamoDB's TTL does (local.ttl; None: never, as in tests), and
        # the de-duplication records of consume_contact_events kept this long (None: the product's two days).
        # Locally a copy of an event can only come within seconds (a producer's retry; a consumer's redelivery
        # is skipped by the shard watermark), and the stream keeps only what was not delivered yet.
        self.ttl_sweep_every_s = ttl_sweep_every_s
        self.event_dedup_ttl_s = event_dedup_ttl_s
        self.ttl_sweeper: Any = None
        self.lake: Any = None  # local.lake_queries.LocalLake: History as Parquet for long ranges (issue 19)
        self.timings = Timings()
        self.deployment: Deployment | None = None
        self.api_server: ApiServer | None = None
        self.pollers: list[KinesisPoller] = []
        self.api_keys: dict[str, str] = {}  # tenant -> its admin key
        # tenant -> {"admin", "supervisor", "integration", "agent:<agent id>"} -> key (local.seed)
        self.role_keys: dict[str, dict[str, str]] = {}
        self.typing_timers = False  # set by timers_for_typing (SIMULATE=0)
        self.moto_endpoint: str = ""
        self.simulation: Any = None
        self.journey_ticker: Any = None  # local.journeys' ticker of the demo's IVR journeys (start_simulation)
        self.scheduler: Any = None
        self.websocket_server: Any = None  # local.websocket_server.WebSocketServer (push over WebSocket)
        self._clients: dict[str, Any] = {}
        # One botocore session for the runtime's and the deployer's clients: a session parses the
        # service models and endpoints JSON again for each new one (~0.1-0.4 s a client).
        self._boto_session: Any = None
        self._clients_lock = threading.Lock()
        self._saved_env: dict[str, str | None] = {}
        self._started = False
        self._owns_lock = False

    # -- public surface ---------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        assert self.api_server is not None, "start() first"
        return self.api_server.api_url

    @property
    def websocket_url(self) -> str | None:
        """ws://127.0.0.1:<port>/v1 (connect with ?token=<API key>); None when the template has none."""
        return self.websocket_server.url if self.websocket_server is not None else None

    @property
    def base_url(self) -> str:
        assert self.api_server is not None, "start() first"
        return self.api_server.base_url

    @property
    def call_counts(self) -> call_counter.CallCounter:
        return call_counter.COUNTER

    def calls_per_completed(self, completed: int) -> dict[str, Any]:
        return call_counter.COUNTER.per_completed(completed)

    def boto_session(self) -> Any:
        """The boto3 session the runtime's own clients (and the deployer's) are made from."""
        with self._clients_lock:
            if self._boto_session is None:
                import boto3

                self._boto_session = boto3.session.Session()
            return self._boto_session

    def client(self, service: str) -> Any:
        if service in self._clients:
            return self._clients[service]
        session = self.boto_session()
        with self._clients_lock:  # a boto3 session makes clients one thread at a time
            if service in self._clients:
                return self._clients[service]
            from botocore.config import Config

            self._clients[service] = session.client(
                service,
                region_name=self.region,
                endpoint_url=self.moto_endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(
                    retries={"total_max_attempts": 1},
                    read_timeout=300,
                    connect_timeout=10,
                    max_pool_connections=64,
                ),
            )
        return self._clients[service]

    def function_environment(self, folder: str) -> dict[str, str]:
        assert self.deployment is not None
        fn = self.deployment.function_by_folder(folder)
        return {**fn.environment, "AWS_ENDPOINT_URL": self.moto_endpoint, "AWS_REGION": self.region}

    def seed_tenant(self, tenant: Any) -> str:
        """Create one more tenant (a local.seed.TenantSeed) with a key per role; returns its admin key."""
        from local import seed

        keys = seed.seed(self._seed_environment(), (tenant,))[tenant.tenant_id]
        self.role_keys[tenant.tenant_id] = keys
        self.api_keys[tenant.tenant_id] = keys["admin"]
        return keys["admin"]

    def load_history(self, tenant: Any = None, *, days: int = 42, end_day: Any = None, seed: int | None = None) -> Any:
        """Generate `days` of `tenant`'s past (a local.seed.TenantSeed, default the demo) ending yesterday
        (or `end_day`) and put it into the History table; returns the local.demo_history.LoadReport."""
        from local import demo_history
        from local.seed import DEMO

        tenant = tenant or DEMO
        plan = demo_history.HistoryPlan(days=days) if seed is None else demo_history.HistoryPlan(days=days, seed=seed)
        last = end_day or demo_history.yesterday(tenant.time_zone)
        generated = demo_history.prepare(tenant, end_day=last, plan=plan)  # reuses a same-day start's items
        table = self._seed_environment()["HISTORY_TABLE"]
        report = demo_history.load_into_moto(table, generated, account_id=ACCOUNT_ID, region=self.region)
        log.info("history: %s", demo_history.summary_line(report))
        return report

    def key(self, tenant: str, role: str = "admin", agent_id: str | None = None) -> str:
        """A seeded key of `tenant`: of `role`, or the agent key of `agent_id`."""
        return self.role_keys[tenant][f"agent:{agent_id}" if agent_id else role]

    def state_machine_arn(self, logical_id_prefix: str = "") -> str:
        assert self.deployment is not None
        for lid, arn in self.deployment.state_machines.items():
            if lid.startswith(logical_id_prefix):
                return arn
        raise KeyError(logical_id_prefix)

    def wait_for_stream_idle(self, timeout_s: float = 10.0, settle_s: float = 0.2, *, flush: bool = False) -> bool:
        """Until every poller has delivered everything it fetched (twice in a row, settle_s apart). With
        `flush`, a poller holding records delivers them at once instead of after its mapping's batching
        window (KinesisPoller.flush; the history, alert and activity consumers gather up to 5 s): for
        callers waiting on the consumers' effects. The mappings keep their windows otherwise."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline:
            quiet = quiet + 1 if all(p.idle() for p in self.pollers) else 0
            if quiet >= 2:
                return True
            if flush:
                for p in self.pollers:
                    if not p.idle():
                        p.flush()
            time.sleep(settle_s)
        return False

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        return self if self._started else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, simulate: bool = False, port: int = 0) -> LocalRuntime:
        if self._started:
            return self
        if not _ACTIVE_LOCK.acquire(blocking=False):
            raise RuntimeError("another LocalRuntime is running in this process; stop it first")
        self._owns_lock = True
        t0 = time.perf_counter()
        # Start-up makes millions of long-lived objects (moto's models, the handlers' modules, the demo history).
        with collector_paused():
            try:
                self._start(simulate, port, t0)
            except BaseException:
                self.stop()
                raise
        return self

    def _start(self, simulate: bool, port: int, t0: float) -> None:
        # 1. synth
        if self.template is None:
            from local import synth

            self.template, self.timings.synth_s, self.timings.synthesized = synth.synth(force=self.force_synth)
        # 2. moto
        t = time.perf_counter()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request otherwise
        env_overlay.install()
        botocore_data.install()  # every session (each execution environment makes one) shares the SDK's data
        call_counter.install_hook()
        if self.capture_handler_output:
            log_sink.install(self._log_path())
            # moto's ASL engine logs every failed task at ERROR with the whole state: keep it in the file
            log_sink.route_logger("moto")
            logging.captureWarnings(True)  # Powertools' UserWarnings are handler output too
            log_sink.route_logger("py.warnings")
        moto_patches.apply()
        moto_patches.FINISHED_EXECUTIONS_KEPT = self.finished_executions_kept
        first_use = not moto_server._server  # noqa: SLF001
        self.moto_endpoint = moto_server.ensure_started()
        if self.inprocess_aws:
            # This process's clients call the server's app directly (no socket, no server thread).
            inprocess_transport.install(self.moto_endpoint, moto_server.app())
        else:
            inprocess_transport.uninstall()
        self._set_process_env(
            {
                "AWS_ENDPOINT_URL": self.moto_endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": None,
                "AWS_SECURITY_TOKEN": None,
                "AWS_PROFILE": None,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "MOTO_PORT": str(moto_server.port()),
            }
        )
        if not first_use:
            moto_server.reset()
        REGISTRY.clear()
        REGISTRY.max_concurrency = self.function_environments
        lambda_runtime.ENDPOINT["url"] = self.moto_endpoint
        call_counter.COUNTER.reset()
        lambda_runtime.STATS.reset()
        self._started = True
        self.timings.moto_s = time.perf_counter() - t
        # 3. deploy
        t = time.perf_counter()
        new_deployer = functools.partial(
            Deployer, Path(self.template), endpoint_url=self.moto_endpoint, region=self.region, account_id=ACCOUNT_ID,
            session=self.boto_session(), clients=_DEPLOY_CLIENTS.setdefault((self.moto_endpoint, self.region), {}),
        )
        if DEPLOY_HOOK is not None and Deployer is deployer.Deployer:  # a test's stand-in deployer runs
            variant = repr((self.moto_endpoint, self.region, ACCOUNT_ID, str(deployer.ROOT / "functions")))
            self.deployment = DEPLOY_HOOK(Path(self.template), new_deployer, variant)
        else:
            self.deployment = new_deployer().deploy()
        self.timings.deploy_s = time.perf_counter() - t
        # Lambda runs one concurrent invocation per shard (x ParallelizationFactor) of a stream source.
        for mapping in self.deployment.event_source_mappings:
            fn = self.deployment.function_by_name_or_arn(mapping.function_name)
            if fn is not None:
                shards = self.client("kinesis").list_shards(StreamARN=mapping.event_source_arn)["Shards"]
                REGISTRY.set_concurrency(
                    fn.name, max(REGISTRY.max_concurrency, len(shards) * mapping.parallelization_factor)
                )
        if self.event_dedup_ttl_s is not None:
            for spec in REGISTRY.specs():  # read by ccaas.bootstrap's deduplicator (settings.event_dedup_ttl_s)
                spec.extra_env["EVENT_DEDUP_TTL_S"] = str(self.event_dedup_ttl_s)
        # The REST API's functions may run several requests at once (each in its own environment).
        if self.api_environments > 1 and self.deployment.rest_api is not None:
            from local import request_isolation

            request_isolation.apply()
            for name in self._api_function_names():
                REGISTRY.set_concurrency(name, self.api_environments)
        # 4. warm
        if self.warm:
            t = time.perf_counter()
            self._warm()
            self.timings.warm_s = time.perf_counter() - t
        # 4b. WebSocket API + management API (PostToConnection), before the push consumer's poller
        if self.deployment.websocket_apis:
            from local.websocket_server import WebSocketGateway, WebSocketServer

            ws_api = next(iter(self.deployment.websocket_apis.values()))
            gateway_ws = WebSocketGateway(ws_api, self.client("lambda"), region=self.region, account_id=ACCOUNT_ID)
            self.websocket_server = WebSocketServer(gateway_ws).start()
            self._set_process_env({"AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": self.websocket_server.management_url})
        # 5. pollers (before anything writes to the stream)
        for mapping in self.deployment.event_source_mappings:
            fn = self.deployment.function_by_name_or_arn(mapping.function_name)
            if fn is None:
                raise RuntimeError(f"event source mapping {mapping.logical_id}: unknown function {mapping.function_name}")
            poller = KinesisPoller(
                mapping,
                kinesis=self.client("kinesis"),
                lambda_client=self.client("lambda"),
                sqs=self.client("sqs"),
                sns=self.client("sns"),
                s3=self.client("s3"),
                function_arn=fn.arn,
                identity_arn=fn.role_arn,
                region=self.region,
                poll_interval_s=self.poll_interval_s,
                min_read_interval_s=self.stream_read_interval_s,
            )
            self.pollers.append(poller.start())
        # 6. seed
        if self.seed_data:
            t = time.perf_counter()
            from local import seed

            env = self._seed_environment()
            self.role_keys = seed.seed(env)
            self.api_keys = {t: keys["admin"] for t, keys in self.role_keys.items()}
            self.timings.seed_s = time.perf_counter() - t
            if self.history_days > 0:
                t = time.perf_counter()
                self.history = self.load_history(days=self.history_days)
                self.timings.history_s = time.perf_counter() - t
                from local.lake_queries import LocalLake

                self.lake = LocalLake.start(self, days=self.history_days)
                log.info("%s", self.lake.how_to_query())
        # schedules (EventBridge Scheduler): after the seed, so a first tick finds the tenants
        if self.deployment.schedules:
            from local.scheduler import LocalScheduler

            self.scheduler = LocalScheduler(
                self.deployment.schedules, self.client("lambda"), account_id=ACCOUNT_ID, region=self.region
            ).start()
        # 7. API
        t = time.perf_counter()
        if self.deployment.rest_api is not None:
            gateway = ApiGateway(self.deployment, self.client("lambda"), static_dir=self.static_dir)
            self.api_server = ApiServer(gateway, port=port).start()
        self.timings.api_s = time.perf_counter() - t
        self.timings.ready_s = time.perf_counter() - t0
        if self.release_memory_every_s:
            from local.memory_release import MemoryReleaser

            self.memory_releaser = MemoryReleaser(self.release_memory_every_s).start()
        if self.ttl_sweep_every_s:
            from moto.dynamodb.models import dynamodb_backends

            from local.ttl import TtlSweeper

            self.ttl_sweeper = TtlSweeper(dynamodb_backends[ACCOUNT_ID][self.region], self.ttl_sweep_every_s).start()
        # 8. simulate
        if simulate:
            self.start_simulation()

    def start_simulation(self) -> Any:
        """The simulated traffic (local.simulation with `simulation_options`) and, on a runtime with history
        (`python -m local`, make run), the demo tenant's IVR journeys stored and fired every minute
        (local.journeys.schedule_demo_journeys). start(simulate=True) calls it, and `python -m local` once its
        banner is out. Returns the Simulation."""
        from local.simulation import Simulation

        self.simulation = Simulation(self, **self.simulation_options).start()
        if self.history_days > 0 and self.journey_ticker is None:
            from local.journeys import schedule_demo_journeys

            self.journey_ticker = schedule_demo_journeys(self)
        return self.simulation

    def stop(self, *, process_exits: bool = False) -> None:
        """Stop everything it started. `process_exits`: the process ends right after (`python -m local`'s Ctrl-C):
        the running workflows are left to end with it instead of one StopExecution each (800 waiting contacts took
        ~8 s of a Ctrl-C whose goal is 5 s); a runtime in a longer-lived process (the tests) stops them."""
        if self.lake is not None:
            try:
                self.lake.stop()
            except Exception as exc:  # noqa: BLE001 - best effort: the rest of the stop must run
                log.debug("stopping the lake failed: %s", exc)
            self.lake = None
        if self.simulation is not None:
            try:
                self.simulation.stop()
            finally:
                self.simulation = None
        if self.journey_ticker is not None:
            self.journey_ticker.stop()
            self.journey_ticker = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.memory_releaser is not None:
            self.memory_releaser.stop()
            self.memory_releaser = None
        if self.ttl_sweeper is not None:
            self.ttl_sweeper.stop()
            self.ttl_sweeper = None
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None
        for p in self.pollers:
            p.stop()
        self.pollers = []
        if self.websocket_server is not None:
            self.websocket_server.stop()
            self.websocket_server = None
        if self._started and not process_exits:
            try:
                self._stop_executions()
            except Exception as exc:  # noqa: BLE001 - best effort
                log.debug("stopping executions failed: %s", exc)
        self._restore_process_env()
        moto_patches.restore_step_functions_config()
        moto_patches.FINISHED_EXECUTIONS_KEPT = None
        REGISTRY.max_concurrency = 1
        self._clients.clear()
        self._boto_session = None
        self._started = False
        if self._owns_lock:
            self._owns_lock = False
            _ACTIVE_LOCK.release()

    # -- internals --------------------------------------------------------------------------------
    def _log_path(self) -> Path:
        if self.log_file is not None:
            return self.log_file
        return Path(tempfile.gettempdir()) / "ccaas-local" / f"lambda-{os.getpid()}.log"

    def _set_process_env(self, values: Mapping[str, str | None]) -> None:
        for k, v in values.items():
            if k not in self._saved_env:
                self._saved_env[k] = os.environ.get(k)
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def _restore_process_env(self) -> None:
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._saved_env.clear()

    def timers_for_typing(self, tenant_id: str = "demo") -> None:
        """Long offer and queue timers for a person at a shell (local.seed.timers_for_typing)."""
        from local import seed

        seed.timers_for_typing(self._seed_environment(), tenant_id)
        self.typing_timers = True

    def _seed_environment(self) -> dict[str, str]:
        assert self.deployment is not None
        # The function with the most settings (the API handler has every table).
        fn = max(self.deployment.functions.values(), key=lambda f: len(f.environment))
        return {**fn.environment, "AWS_ENDPOINT_URL": self.moto_endpoint, "AWS_REGION": self.region}

    def _api_function_names(self) -> set[str]:
        """The functions the REST API integrates (its authorizers keep one environment each)."""
        assert self.deployment is not None and self.deployment.rest_api is not None
        names = set()
        for method in self.deployment.rest_api.methods:
            arn = method.integration_function_arn
            fn = self.deployment.function_by_name_or_arn(arn) if arn else None
            if fn is not None:
                names.add(fn.name)
        return names

    def _warm(self) -> None:
        assert self.deployment is not None
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[ACCOUNT_ID][self.region]
        for fn in self.deployment.functions.values():
            spec = REGISTRY.get(fn.name)
            if spec is None:
                continue
            moto_fn = backend.get_function(fn.name)
            env = lambda_runtime._lambda_env(moto_fn, spec, self.moto_endpoint)  # noqa: SLF001
            with REGISTRY.environment(spec) as (environment, _), env_overlay.overlay(env), log_sink.capture(fn.name, "warm"):
                _, cold, init_ms = environment.load()
            self.timings.per_function_init_ms[fn.folder] = round(init_ms, 1)

    def _stop_executions(self) -> None:
        if self.deployment is None:
            return
        sfn = self.client("stepfunctions")
        for arn in self.deployment.state_machines.values():
            paginator = sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=arn, statusFilter="RUNNING"):
                for ex in page["executions"]:
                    try:
                        sfn.stop_execution(executionArn=ex["executionArn"], cause="local runtime stopped")
                    except Exception:  # noqa: BLE001
                        pass

    def report(self) -> dict[str, Any]:
        dep = self.deployment
        return {
            "timings": self.timings.__dict__,
            "resources": dep.counts() if dep else {},
            "functions": {f.folder: f.name for f in dep.functions.values()} if dep else {},
            "calls": call_counter.COUNTER.snapshot(),
            "functions_stats": lambda_runtime.STATS.snapshot(),
            "call_latency": call_counter.COUNTER.latency(),
            "pollers": [p.stats.as_dict() for p in self.pollers],
        }
