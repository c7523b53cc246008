"""One botocore data loader for every session of the process: the SDK's JSON files parsed once.

Each botocore session builds its own `Loader` (`botocore.session` calls `botocore.loaders.create_loader`
when the session first needs data) and each loader parses the files it is asked for again and keeps them:
`endpoints.json` for every session, then each service's model, paginators and endpoint rules. On AWS a
Lambda execution environment is its own process and pays that once. Here every execution environment
(a function's handler module imported again: local.lambda_runtime) builds its adapters on a new
`boto3.session.Session()`, and environments are made while traffic runs (a second concurrent request, a
new shard's consumer): profiled at the busy-day bench's load, those parses were ~100 MB of the first
minute's RSS growth and their CPU came out of the traffic's.

`install()` makes `create_loader` return one loader per search path: sessions share the parsed data, as
clients of one session always did (botocore does not change what it loaded). boto3 appends its own data
folder to a new session's loader each time: the shared loader's search path keeps each folder once.
`uninstall()` restores botocore's function (loaders already handed out stay shared).

Two more pieces of per-session work are done once per process while installed, both pure functions of what
they are asked: the aliased name of an event (botocore's `EventAliaser` caches it per instance, and every
session and client has one: its ~500 handler registrations each walked the alias table again) and whether a
handler accepts `**kwargs` (`inspect.getfullargspec` on every registration; remembered per function, weakly).
A session with one client took 12.1 -> 4.6 ms of CPU (20 of them, the loader already shared).
"""
from __future__ import annotations

import threading
import weakref
from typing import Any

_lock = threading.Lock()
_loaders: dict[Any, Any] = {}
# event name -> its aliased name, for every EventAliaser on botocore's default alias table
_aliased_names: dict[str, str] = {}
# a handler's function -> whether it accepts **kwargs
_accepts_kwargs: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
# what install() replaced, by name: empty when not installed
_originals: dict[str, Any] = {}


class _PathsOnce(list):  # type: ignore[type-arg]
    """A loader's search path where appending a folder already there changes nothing (boto3 appends its
    data folder to every new session's loader)."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


def install() -> None:
    """Idempotent."""
    import botocore.loaders
    import botocore.session

    with _lock:
        if _originals:
            return
        _originals["create_loader"] = botocore.session.create_loader

        def create_loader(search_path_string: Any = None) -> Any:
            with _lock:
                loader = _loaders.get(search_path_string)
                if loader is None:
                    loader = _loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
                    loader._search_paths = _PathsOnce(loader._search_paths)  # noqa: SLF001
                return loader

        botocore.session.create_loader = create_loader
        _share_hook_work()


def _share_hook_work() -> None:
    import botocore.hooks

    aliaser_init = _originals["EventAliaser.__init__"] = botocore.hooks.EventAliaser.__init__
    accepts_kwargs = _originals["accepts_kwargs"] = botocore.hooks.accepts_kwargs

    def __init__(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        aliaser_init(self, event_emitter, event_aliases)
        if event_aliases is None:  # the default table: the same answer for a name in every session
            self._alias_name_cache = _aliased_names

    def remembered_accepts_kwargs(func: Any) -> bool:
        key = getattr(func, "__func__", func)  # a bound method: its function (one per client otherwise)
        try:
            return _accepts_kwargs[key]
        except (KeyError, TypeError):  # not seen, or not weakly referenceable
            pass
        answer = accepts_kwargs(func)
        try:
            _accepts_kwargs[key] = answer
        except TypeError:
            pass
        return answer

    botocore.hooks.EventAliaser.__init__ = __init__  # type: ignore[method-assign]
    botocore.hooks.accepts_kwargs = remembered_accepts_kwargs


def uninstall() -> None:
    import botocore.hooks
    import botocore.session

    with _lock:
        if _originals:
            botocore.session.create_loader = _originals.pop("create_loader")
            botocore.hooks.EventAliaser.__init__ = _originals.pop("EventAliaser.__init__")  # type: ignore[method-assign]
            botocore.hooks.accepts_kwargs = _originals.pop("accepts_kwargs")


def installed() -> bool:
    return bool(_originals)


def problems() -> list[str]:
    """What install() relies on in botocore, checked (empty: all good)."""
    import inspect

    import botocore.hooks
    import botocore.loaders
    import botocore.session

    out = []
    if "create_loader(" not in inspect.getsource(botocore.session.Session._register_data_loader):
        out.append("botocore.session.Session no longer builds its loader with create_loader")
    if "self._alias_name_cache" not in inspect.getsource(botocore.hooks.EventAliaser._alias_event_name):
        out.append("botocore.hooks.EventAliaser no longer caches aliased names in _alias_name_cache")
    if "accepts_kwargs(" not in inspect.getsource(botocore.hooks.HierarchicalEmitter._verify_accept_kwargs):
        out.append("botocore.hooks no longer checks handlers with accepts_kwargs")
    loader = botocore.loaders.create_loader()
    if not isinstance(getattr(loader, "_search_paths", None), list) or loader.search_paths is not loader._search_paths:  # noqa: SLF001
        out.append("botocore.loaders.Loader no longer keeps its search path in _search_paths")
    return out
