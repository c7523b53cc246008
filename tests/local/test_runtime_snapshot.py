"""A local runtime's deploy restored from the snapshot of a first one (tests/moto_snapshot.py through
local.runtime.DEPLOY_HOOK, which tests/conftest.py installs): the restored runtime registers the functions and records
the Deployment a deploy does, its moto state is the deployed one's, it serves the API and its stream consumers, two
restored runtimes share no object, and without the hook (`python -m local`, make run) every start deploys.

Four starts without the seed or the warm-up (two real deploys, two restores): ~1.5 s of CPU."""
from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local import deployer, runtime as runtime_module
from local.lambda_runtime import REGISTRY, FunctionSpec
from local.runtime import LocalRuntime
from local.seed import ACME
from local.testing import api, wait_until
from tests import moto_snapshot
from tests.moto_snapshot import StackSnapshots

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Start:
    """What one runtime start left: its Deployment, REGISTRY's specs and limits, and its moto backends (taken out of
    moto's BackendDicts once it stopped, so that the next start's reset does not empty them in place)."""

    deployment: Any
    specs: list[FunctionSpec]
    limits: dict[str, int]
    real_deploys: int
    backends: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)


def _backends_now() -> dict[tuple[str, str, str, str], Any]:
    dicts = moto_snapshot.backend_dicts()
    return {(dicts[i].service_name, type(b).__name__, account, region): b
            for i, account, region, b in moto_snapshot.populated(dicts)}


def _detach() -> dict[tuple[str, str, str, str], Any]:
    from moto.core.base_backend import BackendDict
    from moto.s3.models import s3_backends

    backends = _backends_now()
    for backend_dict in list(BackendDict._instances):  # noqa: SLF001
        dict.clear(backend_dict)
    BackendDict._instances.clear()  # noqa: SLF001
    s3_backends.bucket_accounts.clear()  # what the reset would have removed
    return backends


def _start(hook: Any, monkeypatch: pytest.MonkeyPatch, template: Path) -> tuple[LocalRuntime, Start]:
    """A runtime started with `hook` as local.runtime.DEPLOY_HOOK (None: make run's path), counting real deploys."""
    deploys: list[int] = []
    real = deployer.Deployer.deploy

    def counting(self: deployer.Deployer) -> Any:
        deploys.append(1)
        return real(self)

    with monkeypatch.context() as patch:
        patch.setattr(runtime_module, "DEPLOY_HOOK", hook)
        patch.setattr(deployer.Deployer, "deploy", counting)
        rt = LocalRuntime(template=template, seed=False, warm=False)
        rt.start()
    return rt, Start(rt.deployment, REGISTRY.specs(), dict(REGISTRY._limits), len(deploys))  # noqa: SLF001


@dataclass
class Runs:
    snapshots: StackSnapshots
    global_counts: tuple[int, int]  # RUNTIME_SNAPSHOTS' (deploys, restores) around the make-run start
    make_run: Start
    first: Start  # deployed for real through the hook: the snapshot is taken of it
    restored: Start
    again: Start  # the next restore (its runtime still running)
    rt: LocalRuntime
    endpoint_served: list[str]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's template, frozen for the module (a synth meanwhile, of another process, is another template), its
    assets linked."""
    return moto_snapshot.frozen_template(tmp_path_factory.mktemp("cdk"))


@pytest.fixture(scope="module")
def runs(template: Path) -> Iterator[Runs]:
    patch = pytest.MonkeyPatch()
    snapshots = StackSnapshots(registers_functions=True)  # this module's: its first start here deploys for real
    starts: list[Start] = []
    rt = None
    try:
        before = (moto_snapshot.RUNTIME_SNAPSHOTS.deploys, moto_snapshot.RUNTIME_SNAPSHOTS.restores)
        for hook in (None, snapshots.deploy, snapshots.deploy):
            rt, start = _start(hook, patch, template)
            if hook is None:
                after = (moto_snapshot.RUNTIME_SNAPSHOTS.deploys, moto_snapshot.RUNTIME_SNAPSHOTS.restores)
            rt.stop()
            start.backends = _detach()
            starts.append(start)
        rt, again = _start(snapshots.deploy, patch, template)
        again.backends = _backends_now()
        served = rt.client("dynamodb").list_tables()["TableNames"]  # through the runtime's moto server
        yield Runs(snapshots, (after[0] - before[0], after[1] - before[1]), *starts, again, rt, served)
    finally:
        if rt is not None:
            rt.stop()
        patch.undo()


def _key(rt: LocalRuntime) -> str:
    variant = repr((rt.moto_endpoint, rt.region, runtime_module.ACCOUNT_ID, str(deployer.ROOT / "functions")))
    key, _ = moto_snapshot.snapshot_key(Path(rt.template), variant + "|registers_functions")
    return key


def _shared_ids(snapshot: moto_snapshot.Snapshot) -> set[int]:
    return set(moto_snapshot.module_level_objects()) | {id(o) for o in snapshot.shared}


def test_make_run_has_no_hook_and_deploys_every_start(runs: Runs) -> None:
    assert runs.make_run.real_deploys == 1 and runs.global_counts == (0, 0)  # no snapshot used, none taken
    # Only tests install the hook: nothing under local/ (what `python -m local` runs) sets it.
    assignments = {p.relative_to(ROOT).as_posix(): re.findall(r"DEPLOY_HOOK\b[^=\n(]*=(?!=)[^\n]*", p.read_text())
                   for p in (ROOT / "local").rglob("*.py")}
    assert {path: found for path, found in assignments.items() if found} == {
        "local/runtime.py": ["DEPLOY_HOOK: Callable[[Path, Callable[[], Deployer], str], Deployment] | None = None"]}


def test_the_first_start_deploys_the_later_ones_restore(runs: Runs) -> None:
    assert (runs.first.real_deploys, runs.restored.real_deploys, runs.again.real_deploys) == (1, 0, 0)
    assert (runs.snapshots.deploys, runs.snapshots.restores) == (1, 2)
    key = _key(runs.rt)
    snapshot = runs.snapshots.snapshot(key)
    assert runs.snapshots.refused(key) is None and snapshot is not None
    assert snapshot.replayed == frozenset(), snapshot.reasons  # every service restored, none deployed for real
    # The restore fills the BackendDicts the runtime's moto server answers from: moto's module-level ones.
    module_level = moto_snapshot.module_level_objects()
    assert all(id(d) in module_level for d in snapshot.dicts)
    assert sorted(runs.endpoint_served) == sorted(runs.again.deployment.tables.values())


def _without_drawn(dep: Any) -> dict[str, Any]:
    """The Deployment's fields but the ids moto draws at random when it creates a role or a subscription (a deploy of
    its own draws others; a restore has its snapshot's) and the deploy's time."""
    fields = {f.name: copy.deepcopy(getattr(dep, f.name)) for f in dataclasses.fields(dep) if f.name != "elapsed_s"}
    for resource in fields["resources"].values():
        if resource.type == "AWS::IAM::Role":
            resource.attributes["RoleId"] = "<drawn>"
        elif resource.type == "AWS::SNS::Subscription":
            resource.physical_id = resource.attributes["Arn"] = resource.physical_id.rsplit(":", 1)[0] + ":<drawn>"
    return fields


def test_a_restored_runtime_registers_and_records_what_a_deployed_one_does(runs: Runs) -> None:
    for start in (runs.restored, runs.again):
        assert moto_snapshot._same_deployment(start.deployment, runs.first.deployment)  # noqa: SLF001 - its deploy's
    for start in (runs.first, runs.restored, runs.again):
        assert start.specs == runs.make_run.specs  # REGISTRY: every function, its folder, handler, ids, in order
        assert start.limits == runs.make_run.limits  # the runtime's concurrency from the Deployment's mappings
        assert _without_drawn(start.deployment) == _without_drawn(runs.make_run.deployment)
    dep = runs.restored.deployment
    assert dep.event_source_mappings and dep.rest_api is not None and dep.websocket_apis and dep.functions
    assert [s.function_name for s in runs.restored.specs] == [f.name for f in dep.functions.values()]
    # moto's state: every object, attribute and value of the deployed stack, none of its objects.
    shared = _shared_ids(runs.snapshots.snapshot(_key(runs.rt)))
    assert runs.restored.backends.keys() == runs.first.backends.keys()
    assert moto_snapshot.differences(runs.first.backends, runs.restored.backends, shared) == []


def test_two_restored_runtimes_share_no_object(runs: Runs) -> None:
    one, two = runs.restored, runs.again
    shared = _shared_ids(runs.snapshots.snapshot(_key(runs.rt)))
    assert moto_snapshot.differences(one.backends, two.backends, shared) == []
    ids_one = {id(o) for o in moto_snapshot.reachable(one.backends, shared)}
    assert not [o for o in moto_snapshot.reachable(two.backends, shared) if id(o) in ids_one]
    ids_one = {id(o) for o in moto_snapshot.reachable(one.deployment)}
    assert not [o for o in moto_snapshot.reachable(two.deployment) if id(o) in ids_one]
    ids_one = {id(o) for o in moto_snapshot.reachable(one.specs)}
    assert not [o for o in moto_snapshot.reachable(two.specs) if id(o) in ids_one]


def test_a_restored_runtime_serves_the_api_and_its_stream_consumers(runs: Runs) -> None:
    rt = runs.rt
    rt.seed_tenant(ACME)
    acme = api(rt, "acme")
    assert [q["queue_id"] for q in acme.call("GET", "/queues")[1]] == ["support"]
    status, contact = acme.call("POST", "/contacts", {"channel": "VOICE", "queue_id": "support"})
    assert status == 201, contact
    # Kinesis -> the runtime's poller -> consume_contact_events -> MetricsTable -> the API
    metrics = wait_until(
        lambda: (lambda s, m: m if s == 200 and m["offered"] >= 1 else None)(
            *acme.call("GET", "/queues/support/metrics/realtime")),
        timeout_s=15, what="the contact in the support queue's live metrics",
    )
    assert metrics["queue_id"] == "support"
    consumer = rt.deployment.function_by_folder("consume_contact_events")
    (poller,) = [p for p in rt.pollers if rt.deployment.function_by_name_or_arn(p.mapping.function_name) == consumer]
    wait_until(lambda: poller.stats.records_succeeded >= 1, timeout_s=5, what="the poller's count of the delivery")
    assert poller.stats.function_errors == 0
