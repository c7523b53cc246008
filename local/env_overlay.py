"""Per-invocation environment variables for Lambda handlers that share one interpreter.

On AWS every function has its own process and so its own `os.environ`. Locally all handlers run in
one process, concurrently, on moto's request threads. `install()` replaces `os.environ` with an
`os._Environ` subclass that first looks in a context-variable overlay: code running inside
`overlay({...})` sees (and writes to) its own variables; code outside sees the process environment.

A context variable (not a thread-local) is used so the overlay follows the code: it is per thread,
is not inherited by new threads (each thread starts with an empty context, like a fresh invocation),
and is restored exactly on exit even when invocations nest (an API handler whose boto3 call makes
moto run another handler on another thread).

`os.getenv`, `os.environ[...]`, pydantic-settings and Powertools all read `os.environ` at call time,
so they see the overlay. Code that captured the original mapping object before `install()` (rare:
`from os import environ` at import time) does not: keep configuration reads lazy.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator, Mapping

_DELETED = object()
_overlay: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "local_env_overlay", default=None
)
_install_lock = threading.Lock()


class OverlayEnviron(os._Environ):  # type: ignore[name-defined,misc]
    """os.environ with a per-context overlay. Shares its storage with the original mapping."""

    def __init__(self, base: os._Environ):  # type: ignore[name-defined]
        super().__init__(base._data, base.encodekey, base.decodekey, base.encodevalue, base.decodevalue)
        self._original = base

    # -- reads -----------------------------------------------------------------------------
    def __getitem__(self, key: str) -> str:
        layer = _overlay.get()
        if layer is not None and key in layer:
            value = layer[key]
            if value is _DELETED:
                raise KeyError(key)
            return value  # type: ignore[return-value]
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        layer = _overlay.get()
        if not layer:
            yield from super().__iter__()
            return
        seen = set()
        for key in super().__iter__():
            seen.add(key)
            if layer.get(key, None) is not _DELETED:
                yield key
        for key, value in list(layer.items()):
            if key not in seen and value is not _DELETED:
                yield key

    def __len__(self) -> int:
        if not _overlay.get():
            return super().__len__()
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"environ({dict(self)!r})"

    def copy(self) -> dict[str, str]:
        return dict(self)

    # -- writes: inside an overlay they stay in it (one invocation cannot leak into another) --
    def __setitem__(self, key: str, value: str) -> None:
        layer = _overlay.get()
        if layer is not None:
            if not isinstance(value, str):
                raise TypeError(f"str expected, not {type(value).__name__}")
            layer[key] = value
            return
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        layer = _overlay.get()
        if layer is not None:
            if key not in self:
                raise KeyError(key)
            layer[key] = _DELETED
            return
        super().__delitem__(key)


def install() -> OverlayEnviron:
    """Idempotent. Returns the installed mapping."""
    with _install_lock:
        if not isinstance(os.environ, OverlayEnviron):
            os.environ = OverlayEnviron(os.environ)  # type: ignore[assignment]
        return os.environ  # type: ignore[return-value]


def installed() -> bool:
    return isinstance(os.environ, OverlayEnviron)


@contextlib.contextmanager
def overlay(variables: Mapping[str, str]) -> Iterator[None]:
    """Run a block with `variables` layered over the process environment (this context only)."""
    install()
    token = _overlay.set({str(k): str(v) for k, v in variables.items()})
    try:
        yield
    finally:
        _overlay.reset(token)


def current_overlay() -> dict[str, str] | None:
    layer = _overlay.get()
    if layer is None:
        return None
    return {k: v for k, v in layer.items() if v is not _DELETED}  # type: ignore[misc]
