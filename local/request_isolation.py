"""Per-invocation state of Powertools' REST resolver, so one function may run in several environments.

On AWS an execution environment runs one invocation at a time, and Powertools' event handler relies on
it: `ApiGatewayResolver.resolve` stores the request in CLASS attributes (`BaseRouter.current_event = ...`,
`BaseRouter.lambda_context = ...`), and the resolver keeps the matched route and its arguments in its
`context` dict. In this process the resolver is one object (`ccaas.api.app.app`, in the shared layer
package) whatever the number of environments of serve_api, so two API invocations at once would read
each other's request: another tenant's authorizer context (measured before this patch: the test in
tests/local/test_request_isolation.py sees foreign events within a few requests).

`apply()` gives those three attributes one value per invocation, held in context variables: each
invocation runs on its own thread (the API server's request thread, which calls the handler in-process),
and a thread's context variables are its own. Reads and writes keep their spelling and meaning
(`BaseRouter.current_event` at class level through a metaclass property, `self.current_event` and
`self.context` through data descriptors); nothing in the handlers changes. With it, local.runtime may
give the API function several execution environments (`LocalRuntime(api_environments=...)`).

`problems()` checks the Powertools source these assumptions come from (a test fails when it moves).
"""
from __future__ import annotations

import contextvars
import inspect
import threading
from typing import Any

_applied = False
_lock = threading.Lock()
_MISSING = object()


class _PerInvocation:
    """A data descriptor whose value lives in a context variable (one per attribute, shared by instances)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.var: contextvars.ContextVar[Any] = contextvars.ContextVar(f"powertools_{name}", default=_MISSING)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        value = self.var.get()
        if value is _MISSING:
            raise AttributeError(self.name)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self.var.set(value)


class _PerInvocationContext:
    """`resolver.context`: a dict per resolver and per invocation (created empty on first use)."""

    def __init__(self) -> None:
        self.var: contextvars.ContextVar[dict[int, dict] | None] = contextvars.ContextVar(
            "powertools_resolver_context", default=None)

    def _dicts(self) -> dict[int, dict]:
        dicts = self.var.get()
        if dicts is None:
            dicts = {}
            self.var.set(dicts)
        return dicts

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return self._dicts().setdefault(id(obj), {})

    def __set__(self, obj: Any, value: dict) -> None:
        self._dicts()[id(obj)] = value


def problems() -> list[str]:
    """What apply() relies on in Powertools' event handler, checked. Empty: all good."""
    out: list[str] = []
    try:
        from aws_lambda_powertools.event_handler import api_gateway as ag
    except Exception as exc:  # noqa: BLE001
        return [f"aws_lambda_powertools.event_handler.api_gateway not importable: {exc!r}"]
    source = inspect.getsource(ag)
    for needle in ("BaseRouter.current_event = self._to_proxy_event(", "BaseRouter.lambda_context = context",
                   "self.context: dict = {}", "self.context.clear()"):
        if needle not in source:
            out.append(f"Powertools' api_gateway no longer reads as request_isolation expects ({needle!r} is gone)")
    if type(ag.BaseRouter) is not type(ag.ApiGatewayResolver) and not _applied:
        out.append("BaseRouter's metaclass is not its subclasses'")
    for cls in (ag.ApiGatewayResolver, ag.APIGatewayRestResolver):  # what ccaas.api.app's resolver is made of
        for name in ("current_event", "lambda_context", "context"):
            if name in cls.__dict__ and not isinstance(cls.__dict__[name], (_PerInvocation, _PerInvocationContext)):
                out.append(f"{cls.__name__} defines {name} itself: request_isolation would not reach it")
    return out


def apply() -> None:
    """Idempotent. Raises RuntimeError when Powertools moved."""
    global _applied
    with _lock:
        if _applied:
            return
        found = problems()
        if found:
            raise RuntimeError("Powertools internals request_isolation patches have moved:\n- " + "\n- ".join(found))
        from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter

        event, lambda_context = _PerInvocation("current_event"), _PerInvocation("lambda_context")
        # Instance reads (`self.current_event`) and writes find these in the class dict ...
        type.__setattr__(BaseRouter, "current_event", event)
        type.__setattr__(BaseRouter, "lambda_context", lambda_context)
        # ... class-level reads and writes (`BaseRouter.current_event = ...`) go through the metaclass.
        meta = type(BaseRouter)
        isolating = type(
            f"PerInvocation{meta.__name__}",
            (meta,),
            {
                "current_event": property(lambda cls: event.__get__(None), lambda cls, v: event.__set__(None, v)),
                "lambda_context": property(lambda cls: lambda_context.__get__(None),
                                           lambda cls, v: lambda_context.__set__(None, v)),
            },
        )
        BaseRouter.__class__ = isolating
        type.__setattr__(ApiGatewayResolver, "context", _PerInvocationContext())
        _applied = True


def applied() -> bool:
    return _applied
