"""EventBridge Scheduler schedules from the template, run locally.

`rate(N unit)` schedules fire every N units, the first time one period after start (as a new
schedule does); `at(...)` fires once at that time; `cron(...)` is not emulated (logged and skipped).
Lambda targets are invoked asynchronously through moto's Lambda Invoke (the in-process seam), with the
target's Input and its context attributes (<aws.scheduler.scheduled-time>, ...) filled in.
`fire(name)` runs a schedule now (tests, or to avoid waiting a minute).
"""
from __future__ import annotations

import datetime as dt
import heapq
import logging
import re
import threading
import time
import uuid
from typing import Any

from local.deployer import ScheduleSpec

log = logging.getLogger("local.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def interval_s(expression: str) -> float | None:
    m = _RATE.match(expression.strip())
    return None if m is None else int(m.group(1)) * _UNITS[m.group(2)]


def at_time(expression: str) -> float | None:
    m = re.match(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$", expression.strip())
    if m is None:
        return None
    return dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=dt.UTC).timestamp()


def render_input(template: str | None, spec: ScheduleSpec, arn: str, when: float) -> str:
    text = template if template is not None else "{}"
    values = {
        "<aws.scheduler.scheduled-time>": dt.datetime.fromtimestamp(when, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.schedule-arn>": arn,
        "<aws.scheduler.attempt-number>": "1",
    }
    for k, v in values.items():
        text = text.replace(k, v)
    return text


class LocalScheduler:
    def __init__(self, schedules: list[ScheduleSpec], lambda_client: Any, *, account_id: str = "123456789012",
                 region: str = "us-east-1", clock: Any = time.time) -> None:
        self.schedules = {s.name: s for s in schedules}
        self.lambda_client = lambda_client
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.fired: dict[str, int] = {s.name: 0 for s in schedules}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heap: list[tuple[float, str]] = []
        self._workers: dict[str, threading.Thread] = {}

    def arn(self, spec: ScheduleSpec) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account_id}:schedule/default/{spec.name}"

    def start(self) -> LocalScheduler:
        now = self.clock()
        for spec in self.schedules.values():
            if not spec.enabled:
                continue
            every = interval_s(spec.expression)
            once = at_time(spec.expression)
            if every is not None:
                heapq.heappush(self._heap, (now + every, spec.name))
            elif once is not None and once >= now:
                heapq.heappush(self._heap, (once, spec.name))
            else:
                log.warning("schedule %s (%s) is not run locally: only rate() and at() are", spec.name, spec.expression)
        if self._heap:
            self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while self._heap and not self._stop.is_set():
            due, name = self._heap[0]
            if self._stop.wait(max(0.0, due - self.clock())):
                return
            heapq.heappop(self._heap)
            self._fire_in_background(name, due)
            every = interval_s(self.schedules[name].expression)
            if every is not None:
                heapq.heappush(self._heap, (due + every, name))

    def _fire_in_background(self, name: str, due: float) -> None:
        """Each schedule on its own thread, as the service does not wait for a target: a target that runs
        for most of its period (functions/dial_campaign loops ~50 s) delays no other schedule. A tick that
        finds the previous one of the same schedule still running is skipped (logged)."""
        running = self._workers.get(name)
        if running is not None and running.is_alive():
            log.info("schedule %s: previous invocation still running; tick skipped", name)
            return
        worker = threading.Thread(target=self.fire, args=(name,), kwargs={"scheduled": due},
                                  name=f"local-scheduler-{name}"[:60], daemon=True)
        self._workers[name] = worker
        worker.start()

    def fire(self, name: str, scheduled: float | None = None) -> str | None:
        """Invoke the schedule's target now; returns the payload sent (None if not a Lambda target)."""
        spec = self.schedules[name]
        if ":lambda:" not in spec.target_arn:
            log.warning("schedule %s: target %s is not a Lambda function; not emulated", name, spec.target_arn)
            return None
        payload = render_input(spec.input, spec, self.arn(spec), scheduled if scheduled is not None else self.clock())
        try:
            self.lambda_client.invoke(FunctionName=spec.target_arn, InvocationType="Event", Payload=payload.encode())
        except Exception as exc:  # noqa: BLE001 - a failed tick must not stop the scheduler
            log.warning("schedule %s: invoke failed: %s", name, exc)
        self.fired[name] += 1
        return payload
