"""Faults for at-least-once tests: a port method that fails once, as a throttled store does once boto3's own
retries are spent."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Throttled(Exception):
    """What a DynamoDB or Firehose throttle looks like to the caller after boto3's retries."""


class FailingOnce:
    """`method` with its `fail_on`-th call raising Throttled (1: the first); `calls` counts them all."""

    def __init__(self, method: Callable[..., Any], fail_on: int = 1) -> None:
        self.method, self.fail_on, self.calls = method, fail_on, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_on:
            raise Throttled
        return self.method(*args, **kwargs)
