"""The handlers' Powertools Tracer, without the X-Ray SDK when tracing is off.

Powertools' Tracer builds its default provider (`aws_xray_sdk.core.xray_recorder`) on construction even
when tracing is disabled, and the X-Ray SDK's core imports botocore's session and client machinery: about
as much as `import boto3`, paid by every cold start that never sends a trace (the local runtime, the tests,
POWERTOOLS_TRACE_DISABLED). Powertools decides whether tracing is on (its own rule: POWERTOOLS_TRACE_DISABLED,
not in Lambda, SAM CLI or Chalice local); when it is off the Tracer gets a provider of no-op segments through
its documented `provider` argument, and everything else (decorators, capture_response, the disabled SDK) stays
Powertools'. When tracing is on, it is Powertools' default Tracer, X-Ray and its patching included.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _Untraced(BaseSegment):
    """A segment that records nothing (what X-Ray's disabled SDK hands out, without the SDK)."""

    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class UntracedProvider(BaseProvider):
    """The Tracer's provider when tracing is off: no-op segments, nothing patched, nothing imported."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _Untraced()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _Untraced()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


def tracing_enabled() -> bool:
    """Powertools' own answer (Tracer._is_tracer_disabled, read from the environment on each call)."""
    return not Tracer._is_tracer_disabled()  # noqa: SLF001 - the rule Tracer() itself applies


def lambda_tracer() -> Tracer:
    """`Tracer()` as a handler declares it at import: Powertools' X-Ray tracer when tracing is on, else a
    disabled Tracer over UntracedProvider (the X-Ray SDK's core, and botocore with it, never imported)."""
    if tracing_enabled():
        return Tracer()
    return Tracer(disabled=True, auto_patch=False, provider=UntracedProvider())
