"""The deployed stack restored into a fresh `mock_aws` from a snapshot, instead of being deployed into it again.

Why: the contract and handler tiers deploy the stack into a fresh `mock_aws` for each module (~90 deploys a run,
isolation between modules is the point of it): ~85 boto3 calls through moto, ~0.12 s of CPU each on a quiet
machine and ~0.25 s in a loaded suite, ~24 s of a run's CPU. Every deploy of the same template leaves the same
state in moto, so the first deploy of a template in a process is kept and the later ones are copies of it.

What is copied: after the first deploy, every region backend moto's BackendDicts hold (what the stack populated:
DynamoDB tables with their indexes, streams and TTL; Kinesis streams and shards; SQS queues; SNS topics and
subscriptions; IAM roles, and IAM's backend of each partition, which any request makes; Lambda layers and
functions; the CloudWatch Logs backend a function holds; Step Functions state machines; EventBridge buses and
rules; S3 buckets), pickled together into bytes, with the Deployment the deploy returned. A later deploy of that
template unpickles them into its fresh mock's BackendDicts: bytes, so nothing restored is an object of the
snapshot's or of another module's, and nothing a module writes reaches them. Outside the backends, S3's bucket
namespace (`s3_backends.bucket_accounts`) gets the snapshot's buckets back.

How: a pickler of our own (`_Copier`: its `reducer_override` and `persistent_id` hold for this copy only; no
copyreg or copy change in the process) makes
- locks and conditions new ones (moto's SQS queue has a Condition: never one object in two stacks);
- a WeakValueDictionary (Lambda's functions by ARN) from its items, pointing at the copied functions;
- a dict subclass from its raw contents (moto's S3 key store overrides `items()` and `__setitem__`);
- a Lambda function's Docker client None, as a new function's is;
and keeps, by identity as a deploy does, what is not the stack's own: moto's module-level objects (BackendDicts,
sentinels such as `moto.core.constants.MISSING`), the mock's account dicts, another service's
backend that is deployed for real (below), and local functions without state (Lambda's `defaultdict(lambda: {})`).
Each object is made by its class's `__new__`, so moto's instance tracking (local.moto_patches patch 7) lists
restored objects as it lists deployed ones. moto_patches' other per-object state (patch 25's index maps, patch
15's finished executions, patch 18's sizes) is keyed by identity and built on first use, and a restored table
has none yet, as a deployed one.

Correctness first: a service whose backends do not copy faithfully - pickling refuses an object, the copy differs
from the original (`differences`: types, values, which objects are shared, checked once, when the snapshot is
taken), its BackendDict holds state we do not know - is deployed for real on each restore: local.deployer's
handlers run for that service's resources (the others are answered from the snapshot), and unless that gives the
same Deployment the whole stack is deployed instead. A populated service no deployed resource accounts for makes
no snapshot at all. The snapshot is keyed by the template, its assets and metadata files (content), moto's
version and Step Functions mode and the caller's variant; anything else changed is another snapshot.

The local runtime's deploys too (`RUNTIME_SNAPSHOTS`, installed by tests/conftest.py as local.runtime.DEPLOY_HOOK;
`python -m local` has no hook): a runtime resets its process's moto server (one per process, serving moto's module-level
BackendDicts) before it deploys, so its first deploy of a template is kept as above and a later start restores it
into the same BackendDicts the server answers from. Its deployers register the stack's functions in
local.lambda_runtime's REGISTRY, which is outside moto: a restore registers them from the restored Deployment
(local.deployer.register_functions: the spec the deploy's function handler makes, in its order). Everything else the
runtime reads from a deploy (event source mappings, REST and WebSocket APIs, schedules, functions, names and ARNs)
is in the Deployment. The key's variant holds the runtime's moto endpoint (SQS queue URLs name it), region,
account and functions folder. The demo seed that follows a start is not copied: it writes times relative to now
(contacts, outbound due times) and draws new API keys.

Not copied: moto's random draws (a restore draws no ids: the same ARNs and ids in every module, each stack's as
consistent as a deploy's) and time (creation dates are the snapshot's).
"""
from __future__ import annotations

import copyreg
import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import io
import json
import os
import pickle
import re
import sys
import threading
import time
import types
import uuid
import warnings
import weakref
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any

from local.deployer import Deployer, Deployment, register_functions

# The moto services each resource type of local.deployer writes to (its handlers). Every request also makes IAM's
# backend of each partition (moto looks its access key up there). Record-only and skipped types write nothing.
WRITES: dict[str, frozenset[str]] = {
    "AWS::DynamoDB::Table": frozenset({"dynamodb"}),
    "AWS::DynamoDB::GlobalTable": frozenset({"dynamodb"}),
    "AWS::Kinesis::Stream": frozenset({"kinesis"}),
    "AWS::SQS::Queue": frozenset({"sqs"}),
    "AWS::SNS::Topic": frozenset({"sns"}),
    "AWS::SNS::Subscription": frozenset({"sns"}),
    "AWS::IAM::Role": frozenset({"iam"}),
    "AWS::Lambda::LayerVersion": frozenset({"lambda"}),
    "AWS::Lambda::Function": frozenset({"lambda", "logs"}),  # a function holds its region's Logs backend
    "AWS::StepFunctions::StateMachine": frozenset({"stepfunctions"}),
    "AWS::StepFunctions::Activity": frozenset({"stepfunctions"}),
    "AWS::SSM::Parameter": frozenset({"ssm"}),
    "AWS::Events::EventBus": frozenset({"events"}),
    "AWS::Events::Rule": frozenset({"events"}),
    "AWS::S3::Bucket": frozenset({"s3"}),
}
ANY_REQUEST_WRITES = frozenset({"iam"})
# What a deployer handler records in its Deployment besides the resource (answered from the snapshot when the
# resource's service is restored and another service is deployed for real).
_DEPLOYMENT_MAPS = ("tables", "streams", "queues", "state_machines", "event_buses", "buckets", "functions")
# BackendDict attributes of moto's own class; a subclass's others are state outside the backends.
_BACKEND_DICT_ATTRIBUTES = frozenset({"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"})
KEPT_SNAPSHOTS = 2  # templates a process keeps (a test changing the template, then the stack's again)


class Uncertain(Exception):
    """An object, or a service's state, this module does not know how to copy faithfully."""


class _Mismatch(Exception):
    """The services deployed for real did not give the snapshot's Deployment (their ids are not deterministic)."""


# -- what is shared by identity, and what is immutable ------------------------------------------------------

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())
_ATOMS = (str, bytes, int, float, complex, bool, type(None), decimal.Decimal, datetime.date, datetime.time,
          datetime.timedelta, datetime.timezone, uuid.UUID, range, PurePath, enum.Enum, re.Pattern)
_BY_NAME = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType,
            types.WrapperDescriptorType, types.GetSetDescriptorType, property, staticmethod, classmethod)
_REFUSED = (weakref.ref, weakref.WeakKeyDictionary, weakref.WeakSet, threading.Thread, types.GeneratorType,
            types.FrameType, types.CoroutineType, io.IOBase)


def module_level_objects(prefixes: tuple[str, ...] = ("moto",)) -> dict[int, Any]:
    """id -> object of every module-level object of moto's that a copy must not duplicate (sentinels such as MISSING,
    shared constants such as S3's ALL_USERS_GRANTEE, BackendDicts): what a deploy leaves in moto refers to them, and
    so must a restore. (moto keeps no stack's object in a module global: the stack's backends and account dicts are
    taken out of it anyway, see `_check_copy`.)"""
    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name in prefixes or name.startswith(tuple(p + "." for p in prefixes))):
            continue
        for value in list(vars(module).values()):
            if not isinstance(value, _ATOMS + _BY_NAME + (tuple, frozenset)):
                found[id(value)] = value
    return found


def _stateless_function(fn: types.FunctionType) -> bool:
    """A local function (not importable by name) that holds nothing: no closure, attributes or mutable defaults."""
    return (fn.__closure__ is None and not vars(fn) and not fn.__kwdefaults__
            and all(isinstance(d, _ATOMS) for d in fn.__defaults__ or ()))


def _importable(obj: Any) -> bool:
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    target: Any = module
    for part in getattr(obj, "__qualname__", "<locals>").split("."):
        target = getattr(target, part, None)
    return target is obj


def _set_dict_state(obj: dict, state: tuple[dict, dict | None]) -> None:
    raw, attributes = state
    dict.update(obj, raw)
    if attributes:
        obj.__dict__.update(attributes)


def _set_list_state(obj: list, state: tuple[list, dict | None]) -> None:
    raw, attributes = state
    list.extend(obj, raw)
    if attributes:
        obj.__dict__.update(attributes)


def _plain_subclass(obj: Any, base: type) -> bool:
    """A Python subclass of dict/list whose pickling is the default one (its own methods may override items())."""
    for cls in type(obj).__mro__:
        if cls is base:
            return True
        if any(name in vars(cls) for name in ("__reduce__", "__reduce_ex__", "__getstate__", "__setstate__",
                                               "__getnewargs__", "__getnewargs_ex__")):
            return False
        if vars(cls).get("__slots__"):
            return False
    return False


class _Shared:
    """The objects a pickle refers to by identity: its persistent ids are indexes into `objects`."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self._index: dict[int, int] = {}

    def add(self, obj: Any) -> tuple[str, int]:
        key = id(obj)
        if key not in self._index:
            self._index[key] = len(self.objects)
            self.objects.append(obj)
        return ("shared", self._index[key])

    def ids(self) -> set[int]:
        return set(self._index)


class _Copier(pickle.Pickler):
    """Pickles moto's state for a copy: `reducer_override` and `persistent_id` apply to this pickler only."""

    def __init__(self, file: Any, by_identity: dict[int, Any], live: dict[int, tuple], shared: _Shared) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._by_identity = by_identity  # id -> object kept as is (module-level objects)
        self._live = live  # id -> persistent id of an object that is the restoring mock's own (accounts, backends)
        self._shared = shared
        from moto.utilities.docker_utilities import DockerModel

        self._docker = DockerModel

    def persistent_id(self, obj: Any) -> Any:
        key = id(obj)
        live = self._live.get(key)
        if live is not None:
            return live
        if key in self._by_identity:
            return self._shared.add(obj)
        if type(obj) is types.FunctionType and not _importable(obj):
            if not _stateless_function(obj):
                raise Uncertain(f"a local function with state: {obj.__qualname__}")
            return self._shared.add(obj)
        return None

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _LOCK:
            return threading.Lock, ()
        if kind is _RLOCK:
            return threading.RLock, ()
        if kind is threading.Condition:
            return threading.Condition, (obj._lock,)  # noqa: SLF001 - a new condition on the copy of its lock
        if kind is weakref.WeakValueDictionary:
            return weakref.WeakValueDictionary, (), None, None, iter(list(obj.items()))
        if isinstance(obj, _REFUSED) and not isinstance(obj, (io.BytesIO, io.StringIO)):
            raise Uncertain(f"cannot copy a {kind.__module__}.{kind.__qualname__}")
        if isinstance(obj, self._docker) and "_DockerModel__docker_client" in vars(obj):
            state = obj.__getstate__()  # moto's: every attribute but the client, which a new function has None of
            return copyreg.__newobj__, (kind,), {name: state.get(name) for name in vars(obj)}
        if kind is not dict and isinstance(obj, dict) and _plain_subclass(obj, dict):
            return copyreg.__newobj__, (kind,), (dict(dict.items(obj)), vars(obj) or None), None, None, _set_dict_state
        if kind is not list and isinstance(obj, list) and _plain_subclass(obj, list):
            return copyreg.__newobj__, (kind,), (list(list.__iter__(obj)), vars(obj) or None), None, None, _set_list_state
        if isinstance(obj, (set, frozenset)) and kind not in (set, frozenset):
            raise Uncertain(f"cannot copy a set subclass {kind.__qualname__}")
        return NotImplemented


class _Restorer(pickle.Unpickler):
    def __init__(self, data: bytes, shared: list[Any], resolve: Callable[[tuple], Any]) -> None:
        super().__init__(io.BytesIO(data))
        self._shared_objects = shared
        self._resolve = resolve

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "shared":
            return self._shared_objects[pid[1]]
        return self._resolve(pid)


# -- comparing a copy with its original ---------------------------------------------------------------------

def differences(original: Any, copied: Any, shared: set[int] = frozenset(), limit: int = 20) -> list[str]:  # noqa: C901
    """Where `copied` is not a faithful deep copy of `original`: a type or value that differs, an object of the
    original found in the copy (only `shared` ids, classes and functions may be), or objects one of them shares and
    the other does not. [] when faithful. Locks and conditions must be new and of the same kind."""
    found: list[str] = []
    pairs: dict[int, Any] = {}  # id(original object) -> its copy
    stack: list[tuple[Any, Any, str]] = [(original, copied, "")]
    while stack and len(found) < limit:
        a, b, path = stack.pop()
        kind = type(a)
        if kind is not type(b):
            found.append(f"{path}: {kind.__name__} became {type(b).__name__}")
            continue
        if id(a) in shared:
            if a is not b:
                found.append(f"{path}: a shared {kind.__name__} was copied")
            continue
        if isinstance(a, _ATOMS):
            if not (a == b or (a != a and b != b)):
                found.append(f"{path}: {a!r} became {b!r}")
            continue
        if isinstance(a, _BY_NAME) and not isinstance(a, types.BuiltinFunctionType):
            if a is not b:
                found.append(f"{path}: {kind.__name__} {getattr(a, '__qualname__', a)!r} is another object")
            continue
        seen = pairs.get(id(a))
        if seen is not None:
            if seen is not b:
                found.append(f"{path}: an object the original shares is two objects in the copy")
            continue
        pairs[id(a)] = b
        if kind not in (tuple, frozenset) and a is b:
            found.append(f"{path}: the copy holds the original's {kind.__name__}")
            continue
        if kind in (_LOCK, _RLOCK):
            continue
        if kind is threading.Condition:
            stack.append((a._lock, b._lock, path + "._lock"))  # noqa: SLF001
            continue
        if kind is types.BuiltinFunctionType or kind is types.MethodType:
            owner = a.__self__
            if owner is None or isinstance(owner, types.ModuleType):
                if a is not b:
                    found.append(f"{path}: builtin {a!r} is another object")
            else:
                if getattr(a, "__func__", a.__name__) != getattr(b, "__func__", b.__name__):
                    found.append(f"{path}: a method of another function")
                stack.append((owner, b.__self__, path + ".__self__"))
            continue
        if isinstance(a, functools.partial):
            stack.extend([(a.func, b.func, path + ".func"), (a.args, b.args, path + ".args"),
                          (a.keywords, b.keywords, path + ".keywords")])
            continue
        if isinstance(a, weakref.WeakValueDictionary):
            a, b = dict(a.items()), dict(b.items())
        if isinstance(a, dict):
            if isinstance(a, defaultdict):
                stack.append((a.default_factory, b.default_factory, path + ".default_factory"))
            keys_a, keys_b = list(dict.keys(a)), list(dict.keys(b))
            if keys_a != keys_b:
                found.append(f"{path}: keys {keys_a[:5]}... became {keys_b[:5]}...")
                continue
            for (ka, va), (kb, vb) in zip(dict.items(a), dict.items(b), strict=True):
                if not isinstance(ka, _ATOMS + (tuple,)):
                    stack.append((ka, kb, f"{path}{{key}}"))
                stack.append((va, vb, f"{path}[{str(ka)[:40]!r}]"))
        elif isinstance(a, (list, tuple, deque)):
            if len(a) != len(b):
                found.append(f"{path}: {len(a)} elements became {len(b)}")
                continue
            stack.extend((x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
        elif isinstance(a, (set, frozenset)):
            if not all(isinstance(x, _ATOMS + (tuple,)) for x in a) or a != b:
                found.append(f"{path}: a set of {len(a)} that does not compare by value")
            continue
        elif not hasattr(a, "__dict__") and not any(getattr(c, "__slots__", ()) for c in kind.__mro__):
            if kind.__eq__ is object.__eq__ or a != b:
                found.append(f"{path}: a {kind.__module__}.{kind.__qualname__} cannot be compared")
            continue
        attributes_a = getattr(a, "__dict__", None)
        if attributes_a is not None and not isinstance(a, type):
            stack.append((attributes_a, b.__dict__, path + ".__dict__"))
        for cls in kind.__mro__:
            slots = vars(cls).get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                if slot in ("__dict__", "__weakref__"):
                    continue
                has_a, has_b = hasattr(a, slot), hasattr(b, slot)
                if has_a != has_b:
                    found.append(f"{path}.{slot}: set in one of them only")
                elif has_a:
                    stack.append((getattr(a, slot), getattr(b, slot), f"{path}.{slot}"))
    return found


def reachable(root: Any, skip: set[int] = frozenset()) -> Iterator[Any]:
    """Every object reachable from `root` through containers, attributes and slots (not through `skip` ids,
    classes or functions): what a test compares across two stacks."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in skip or isinstance(obj, _BY_NAME) or isinstance(obj, _ATOMS):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, threading.Condition):
            stack.append(obj._lock)  # noqa: SLF001
        elif isinstance(obj, weakref.WeakValueDictionary):
            stack.extend(obj.values())
        elif isinstance(obj, dict):
            stack.extend(dict.keys(obj))
            stack.extend(dict.values(obj))
        elif isinstance(obj, (list, tuple, set, frozenset, deque)):
            stack.extend(obj)
        elif isinstance(obj, types.MethodType):
            stack.append(obj.__self__)
        if hasattr(obj, "__dict__") and not isinstance(obj, (types.MethodType, threading.Condition)):
            stack.append(vars(obj))
        for cls in type(obj).__mro__:
            slots = vars(cls).get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                    stack.append(getattr(obj, slot))


# -- the snapshot -------------------------------------------------------------------------------------------

def backend_dicts() -> list[Any]:
    """moto's BackendDicts with state in the current mock (mock_aws resets this list when it starts)."""
    from moto.core.base_backend import BackendDict

    return list(BackendDict._instances)  # noqa: SLF001


def populated(dicts: list[Any]) -> list[tuple[int, str, str, Any]]:
    """(index in `dicts`, account, region, backend) of every region backend there."""
    return [(index, account, region, backend) for index, backend_dict in enumerate(dicts)
            for account, accounts in list(backend_dict.items())
            for region, backend in list(dict.items(accounts))]


@dataclasses.dataclass
class Snapshot:
    key: str
    template_text: str
    dicts: list[Any]  # the BackendDicts the stack populated (this process's objects)
    accounts: list[tuple[int, str]]  # (dict index, account) of each account dict they hold
    backends: bytes  # [(dict index, account, region, backend)] of the restored services, pickled
    shared: list[Any]  # what `backends` refers to by identity
    deployment: bytes  # the Deployment, pickled (its template: json.loads(template_text))
    bucket_accounts: dict[str, tuple[str, str]]  # S3's bucket namespace entries of the stack's buckets
    replayed: frozenset[str]  # services deployed for real on each restore
    replayed_types: frozenset[str]  # and their resource types
    reasons: dict[str, str]  # why each replayed service is

    def restore_backends(self) -> None:
        """The restored services' backends, new objects, into the current (fresh) mock."""

        def resolve(pid: tuple) -> Any:
            if pid[0] == "account":
                return self.dicts[pid[1]][pid[2]]
            if pid[0] == "backend":  # a service deployed for real: its backend, which the deploy then fills
                return self.dicts[pid[1]][pid[2]][pid[3]]
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")

        for index, account in self.accounts:
            self.dicts[index][account]  # noqa: B018 - makes the account's dict, lists the BackendDict (as a deploy)
        for index, account, region, backend in _Restorer(self.backends, self.shared, resolve).load():
            accounts = self.dicts[index][account]
            if region in dict.keys(accounts):
                raise Uncertain(f"{self.dicts[index].service_name} {account}/{region} exists before its restore")
            dict.__setitem__(accounts, region, backend)
        if self.bucket_accounts:
            from moto.s3.models import s3_backends

            s3_backends.bucket_accounts.update(self.bucket_accounts)

    def restore_deployment(self) -> Deployment:
        return _load_deployment(self.deployment, self.template_text)


def snapshot_key(template: Path, variant: str = "") -> tuple[str, str]:
    """(key, template text): the template, assets and metadata files' contents and what else decides a deploy."""
    import moto
    from moto.core.config import default_user_config

    digest = hashlib.sha256()
    text = template.read_text()
    digest.update(text.encode())
    stem = template.name.removesuffix(".template.json")
    for sibling in (f"{stem}.assets.json", f"{stem}.metadata.json"):
        path = template.parent / sibling
        digest.update(b"\0" + (path.read_bytes() if path.is_file() else b"-"))
    sfn = (default_user_config.get("stepfunctions") or {}).get("execute_state_machine", False)  # which backend
    context = (moto.__version__, sfn, os.environ.get("MOTO_ACCOUNT_ID"), str(template.resolve()), variant)
    digest.update(repr(context).encode())
    return digest.hexdigest(), text


def take(key: str, template_text: str, deployment: Deployment, replay: frozenset[str] = frozenset()) -> Snapshot:
    """The snapshot of what `deployment` left in the current mock (call it right after the deploy). Raises Uncertain
    when nothing can be kept (a populated service that no deployed resource explains, a Deployment that does not
    copy, a template that changed under the deploy)."""
    if json.loads(template_text) != deployment.template:
        raise Uncertain("the template changed during the deploy")
    dicts = backend_dicts()
    backends = populated(dicts)
    created = {r.type for r in deployment.resources.values() if r.status == "created"}
    explained = ANY_REQUEST_WRITES.union(*(WRITES.get(t, frozenset()) for t in created))
    unexplained = {dicts[i].service_name for i, _, _, _ in backends} - explained
    if unexplained or not created <= WRITES.keys():
        raise Uncertain(f"moto state no deployed resource explains: {sorted(unexplained)} "
                        f"{sorted(created - WRITES.keys())}")
    by_identity = module_level_objects()
    services = sorted({dicts[i].service_name for i, _, _, _ in backends})
    reasons = {service: "asked to" for service in replay}
    bucket_accounts: dict[str, tuple[str, str]] = {}
    for index, backend_dict in enumerate(dicts):  # state a BackendDict holds besides its backends
        extra = set(vars(backend_dict)) - _BACKEND_DICT_ATTRIBUTES
        if extra == {"bucket_accounts"} and backend_dict.service_name == "s3":
            buckets = {b.name for _, _, _, backend in backends if backend.__class__.__name__ == "S3Backend"
                       for b in backend.buckets.values()}
            bucket_accounts = {n: v for n, v in backend_dict.bucket_accounts.items() if n in buckets}
        elif extra and any(vars(backend_dict)[name] for name in extra):
            reasons.setdefault(backend_dict.service_name, f"its BackendDict holds {sorted(extra)}")
    for _, _, _, backend in backends:  # the stack's own objects are never "module-level"
        by_identity.pop(id(backend), None)
    for backend_dict in dicts:
        for accounts in backend_dict.values():
            by_identity.pop(id(accounts), None)
    # Each service copied on its own first: the ones that do not copy faithfully are deployed for real.
    for service in services:
        if service in reasons:
            continue
        mine = [b for b in backends if dicts[b[0]].service_name == service]
        try:
            _check_copy(mine, backends, dicts, by_identity)
        except (Uncertain, pickle.PicklingError, pickle.UnpicklingError, TypeError, AttributeError,
                ValueError, RecursionError) as exc:
            reasons[service] = f"{type(exc).__name__}: {exc}"
    replayed, replayed_types = _replay_closure(frozenset(reasons), created)
    if "s3" in replayed:
        bucket_accounts = {}
    kept = [b for b in backends if dicts[b[0]].service_name not in replayed]
    backends_bytes, shared = _check_copy(kept, backends, dicts, by_identity)
    deployment_bytes = _pickle_deployment(deployment, template_text)
    accounts = [(i, account) for i, backend_dict in enumerate(dicts) for account in backend_dict]
    return Snapshot(key, template_text, dicts, accounts, backends_bytes, shared, deployment_bytes, bucket_accounts,
                    replayed, replayed_types, {s: reasons.get(s, "deployed with it") for s in replayed})


def _replay_closure(uncertain: frozenset[str], created: set[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The services to deploy for real and their resource types: a type writing to one of them is deployed, and
    every service it writes to is then deployed too (so no restored object is created a second time)."""
    services, types_ = set(uncertain), set()
    while True:
        more = {t for t in created if WRITES[t] & services} - types_
        if not more:
            return frozenset(services), frozenset(types_)
        types_ |= more
        services |= set().union(*(WRITES[t] for t in more))


def _check_copy(mine: list, every: list, dicts: list, by_identity: dict[int, Any]) -> tuple[bytes, list]:
    """`mine` ((dict index, account, region, backend) of `every`) pickled, the other backends and the account dicts
    by persistent id, then loaded back and compared with the originals: (the bytes, the objects they share).
    Raises when the copy is not faithful."""
    mine_ids = {id(b[3]) for b in mine}
    live: dict[int, tuple] = {id(backend): ("backend", i, account, region)
                              for i, account, region, backend in every if id(backend) not in mine_ids}
    for i, backend_dict in enumerate(dicts):
        for account, accounts in backend_dict.items():
            live[id(accounts)] = ("account", i, account)
    shared = _Shared()
    buffer = io.BytesIO()
    _Copier(buffer, by_identity, live, shared).dump(mine)
    data = buffer.getvalue()
    by_pid: dict[tuple, Any] = {("backend", i, account, region): backend for i, account, region, backend in every}
    for i, backend_dict in enumerate(dicts):
        for account, accounts in backend_dict.items():
            by_pid[("account", i, account)] = accounts
    copied = _Restorer(data, shared.objects, by_pid.__getitem__).load()
    same_objects = shared.ids() | set(live)
    found = differences(mine, copied, same_objects)
    if found:
        raise Uncertain("the copy differs: " + "; ".join(found[:3]))
    return data, shared.objects


def _pickle_deployment(deployment: Deployment, template_text: str) -> bytes:
    """The Deployment pickled, its template left out (loaded from the template's text again on each restore: json is
    several times faster at it than pickle). Raises Uncertain when the copy is not equal to it."""
    template = deployment.template

    class DeploymentPickler(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return ("template",) if obj is template else None

    buffer = io.BytesIO()
    DeploymentPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(deployment)
    data = buffer.getvalue()
    if not _same_deployment(_load_deployment(data, template_text), deployment):
        raise Uncertain("the Deployment does not copy")
    return data


def _load_deployment(data: bytes, template_text: str) -> Deployment:
    def resolve(pid: tuple) -> Any:
        if pid == ("template",):
            return json.loads(template_text)
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")

    return _Restorer(data, [], resolve).load()


def _same_deployment(a: Deployment, b: Deployment) -> bool:
    return all(getattr(a, f.name) == getattr(b, f.name) for f in dataclasses.fields(Deployment) if f.name != "elapsed_s")


def _answer_from(recorded: Deployment, deployer: Deployer, lid: str, props: dict, res: dict) -> Any:
    """A restored service's resource in a partial deploy: what the snapshot's deploy made of it, no call."""
    restored = _deep(recorded.resources[lid])
    dep = deployer._dep  # noqa: SLF001 - the deploy in progress
    for name in _DEPLOYMENT_MAPS:
        value = getattr(recorded, name).get(lid)
        if value is not None:
            getattr(dep, name)[lid] = _deep(value)
    if res.get("Type") == "AWS::Lambda::LayerVersion":
        deployer._layer_arns.add(restored.physical_id)  # noqa: SLF001 - the functions' layers are local ones
    return restored


def _reset_backends() -> None:
    from moto.core.base_backend import BackendDict

    BackendDict.reset()  # what mock_aws does when it starts (S3's bucket namespace included)


def _deep(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


class StackSnapshots:
    """Deploys a template into the current mock: for real the first time (then keeps a snapshot), restored after.

    `replay`: services always deployed for real (what the snapshot does when a service does not copy; the tests
    ask for it). `registers_functions`: the deployers register the stack's functions in local.lambda_runtime's
    REGISTRY (the local runtime's: `Deployer(register_functions=True)`), a side effect outside moto: a restore
    registers them from the restored Deployment (local.deployer.register_functions, what the deploy's function
    handler does, in the deploy's order). A deployer that does not do what the snapshots were made for is not
    snapshotted."""

    def __init__(self, replay: frozenset[str] = frozenset(), kept: int = KEPT_SNAPSHOTS,
                 registers_functions: bool = False) -> None:
        self.replay = frozenset(replay)
        self.kept = kept
        self.registers_functions = registers_functions
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()
        self._refused: dict[str, str] = {}  # key -> why no snapshot is kept of it
        self.deploys = 0  # deploys for real
        self.restores = 0

    def snapshot(self, key: str) -> Snapshot | None:
        return self._snapshots.get(key)

    def refused(self, key: str) -> str | None:
        return self._refused.get(key)

    def deploy(self, template: Path, new_deployer: Callable[[], Deployer], variant: str = "") -> Deployment:
        """The Deployment of `template` in the current mock_aws, which must be fresh (just started). `new_deployer`
        makes the Deployer a deploy for real uses; `variant`: what else in `new_deployer` decides the deploy."""
        if backend_dicts():  # not a fresh mock: its state would be taken for the stack's, or be in the way
            self.deploys += 1
            return new_deployer().deploy()
        if self.registers_functions:
            variant += "|registers_functions"
        key, text = snapshot_key(template, variant)
        snapshot = self._snapshots.get(key)
        if snapshot is not None:
            self._snapshots.move_to_end(key)
            try:
                deployment = self._restore(snapshot, new_deployer)
                if self.registers_functions:
                    register_functions(deployment)
                self.restores += 1
                return deployment
            except Exception as exc:  # noqa: BLE001 - _Mismatch, or a restore that failed: deployed whole instead
                self._refuse(key, exc)
                del self._snapshots[key]
                _reset_backends()  # the partial restore's state goes
        self.deploys += 1
        deployer = new_deployer()
        deployment = deployer.deploy()
        if deployer.register_functions != self.registers_functions:  # local.lambda_runtime's registry, outside moto
            self._refused.setdefault(key, "the deployer registers functions" if deployer.register_functions
                                     else "the deployer does not register functions")
        if key not in self._refused:
            try:
                self._snapshots[key] = take(key, text, deployment, self.replay)
            except Exception as exc:  # noqa: BLE001 - no snapshot: every deploy of it is for real (and says why)
                self._refuse(key, exc)
            while len(self._snapshots) > self.kept:
                self._snapshots.popitem(last=False)
        return deployment

    def _refuse(self, key: str, exc: Exception) -> None:
        self._refused[key] = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, (Uncertain, _Mismatch)):  # not a known limit: a fault of this module's, say so
            warnings.warn(f"the stack's snapshot is not used: {self._refused[key]}", RuntimeWarning, stacklevel=3)

    @staticmethod
    def _restore(snapshot: Snapshot, new_deployer: Callable[[], Deployer]) -> Deployment:
        started = time.perf_counter()
        snapshot.restore_backends()
        recorded = snapshot.restore_deployment()
        recorded.elapsed_s = time.perf_counter() - started  # this deploy's time, not the snapshot's
        if not snapshot.replayed_types:
            return recorded
        # Some services deployed for real, the others' resources answered from the snapshot.
        deployer = new_deployer()
        real = deployer._handler_for  # noqa: SLF001

        def handler_for(rtype: str) -> Any:
            if rtype in WRITES and rtype not in snapshot.replayed_types:
                return functools.partial(_answer_from, recorded, deployer)
            return real(rtype)

        deployer._handler_for = handler_for  # type: ignore[method-assign]  # noqa: SLF001
        deployment = deployer.deploy()
        if not _same_deployment(deployment, recorded):
            raise _Mismatch(f"deploying {sorted(snapshot.replayed)} for real gave another Deployment")
        return deployment


# The test tiers' snapshots (tests/aws_stack.py): one per template, per test process.
SNAPSHOTS = StackSnapshots()
# The local runtime's (local.runtime.DEPLOY_HOOK, installed by tests/conftest.py): its deployers register functions.
RUNTIME_SNAPSHOTS = StackSnapshots(registers_functions=True)


def install_runtime_hook(snapshots: StackSnapshots | None = None) -> None:
    """Each LocalRuntime start of this (test) process deploys through `snapshots` (RUNTIME_SNAPSHOTS): its first deploy
    of a template is kept, later starts restore it into the runtime's moto (reset by then: local.moto_server serves
    moto's module-level BackendDicts, which a restore fills) and register the functions as the deploy did."""
    import local.runtime

    local.runtime.DEPLOY_HOOK = (snapshots or RUNTIME_SNAPSHOTS).deploy


def frozen_template(folder: Path) -> Path:
    """The synthesized template copied into `folder` with its assets and metadata files (the assets linked): a test's
    own snapshot key, which a synth meanwhile (another process's, another template) does not change."""
    import shutil

    from local import synth

    path, _, _ = synth.synth()
    stem = path.name.removesuffix(".template.json")
    for name in (path.name, f"{stem}.assets.json", f"{stem}.metadata.json"):
        shutil.copyfile(path.parent / name, folder / name)
    for asset in path.parent.glob("asset.*"):
        (folder / asset.name).symlink_to(asset)
    return folder / path.name
