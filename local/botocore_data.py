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
"""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_original: Any = None
_loaders: dict[Any, Any] = {}


class _PathsOnce(list):  # type: ignore[type-arg]
    """A loader's search path where appending a folder already there changes nothing (boto3 appends its
    data folder to every new session's loader)."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


def install() -> None:
    """Idempotent."""
    global _original
    import botocore.loaders
    import botocore.session

    with _lock:
        if _original is not None:
            return
        _original = botocore.session.create_loader

        def create_loader(search_path_string: Any = None) -> Any:
            with _lock:
                loader = _loaders.get(search_path_string)
                if loader is None:
                    loader = _loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
                    loader._search_paths = _PathsOnce(loader._search_paths)  # noqa: SLF001
                return loader

        botocore.session.create_loader = create_loader


def uninstall() -> None:
    global _original
    import botocore.session

    with _lock:
        if _original is not None:
            botocore.session.create_loader = _original
            _original = None


def installed() -> bool:
    return _original is not None


def problems() -> list[str]:
    """What install() relies on in botocore, checked (empty: all good)."""
    import inspect

    import botocore.loaders
    import botocore.session

    out = []
    if "create_loader(" not in inspect.getsource(botocore.session.Session._register_data_loader):
        out.append("botocore.session.Session no longer builds its loader with create_loader")
    loader = botocore.loaders.create_loader()
    if not isinstance(getattr(loader, "_search_paths", None), list) or loader.search_paths is not loader._search_paths:  # noqa: SLF001
        out.append("botocore.loaders.Loader no longer keeps its search path in _search_paths")
    return out
