"""Simulated traffic that drives the HTTP API exactly like real clients would.

- Customers arrive as a Poisson process (rate per second), pick a queue/channel from a mix, and
  POST /contacts. Each has a patience (exponential); if no agent has accepted the contact by then,
  the customer hangs up: POST /contacts/{id}/abandon (a 409 means an agent won the race).
- Each participant uses its own key (local.seed issues them): customers arrive through the
  integration key, each agent acts with its agent key, the progress line reads with the supervisor's.
- Agents open their desktop's push socket (the local WebSocket API, `?token=<agent key>`, one connection
  per agent as a desktop would), set themselves AVAILABLE (PUT /agents/{id}/status), accept each `offer`
  frame as it arrives (POST .../accept), talk for a while, complete (POST .../complete), do after-contact
  work and end it (POST .../end-acw). Chat and email agents may hold several contacts at once. When the
  socket cannot be opened (or closes), the agent polls GET /agents/{id} for `offers` instead (said once in
  the output); `push=False` makes every agent poll (the bench compares the two).
- API requests per completed contact (the API server's count, without the progress line's own reads)
  are in the summary next to the AWS calls per contact.
- Time is scaled: talk 3-8 s, ACW 1-2 s, patience ~20 s by default.

A progress line (rewritten in place on a terminal, one line every few seconds otherwise) shows what
the live metrics say (in queue, service level, from GET /metrics/realtime) next to what the
simulation saw (connected, completed, abandoned), and the AWS calls per completed contact.
"""
from __future__ import annotations

import heapq
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from local.ws_client import PushSocket, PushUnavailable

# (queue id, channel, weight) for the demo tenant.
DEFAULT_MIX: tuple[tuple[str, str, float], ...] = (
    ("sales", "VOICE", 0.40),
    ("support", "VOICE", 0.25),
    ("support", "CHAT", 0.20),
    ("billing", "EMAIL", 0.15),
)


class ApiClient:
    def __init__(self, api_url: str, api_key: str, timeout_s: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.api_url + path,
            method=method,
            data=data,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - loopback only
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw) if raw else None
            except ValueError:
                return err.code, raw.decode(errors="replace")


@dataclass
class SimStats:
    created: int = 0
    create_errors: int = 0
    accepted: int = 0
    completed: int = 0
    abandoned: int = 0  # by the customer, through the API
    abandon_lost_race: int = 0  # the customer hung up just as an agent accepted
    api_errors: int = 0
    connected_now: int = 0
    waits_s: list[float] = field(default_factory=list)


@dataclass
class _AgentWork:
    contact_id: str
    talk_until: float
    acw_until: float | None = None


class Simulation:
    def __init__(
        self,
        runtime: Any,
        *,
        tenant: str = "demo",
        rate_per_s: float = 0.5,
        mix: Sequence[tuple[str, str, float]] = DEFAULT_MIX,
        talk_s: tuple[float, float] = (3.0, 8.0),
        acw_s: tuple[float, float] = (1.0, 2.0),
        mean_patience_s: float = 20.0,
        agent_poll_s: float = 1.5,
        agents: Sequence[str] | None = None,
        duration_s: float | None = None,
        progress: bool = True,
        out: TextIO | None = None,
        progress_every_s: float | None = None,
        seed: int | None = None,
        push: bool = True,
    ) -> None:
        self.runtime = runtime
        self.tenant = tenant
        # Each participant with its own key: customers arrive through the integration key, each agent
        # acts with its agent key, the progress line reads as a supervisor (local.seed issues them all).
        self._keys = getattr(runtime, "role_keys", {}).get(tenant) or {}
        admin_key = runtime.api_keys[tenant]
        self.client = ApiClient(runtime.api_url, self._keys.get("integration", admin_key))
        self.supervisor = ApiClient(runtime.api_url, self._keys.get("supervisor", admin_key))
        self.rate = rate_per_s
        self.mix = list(mix)
        self.talk_s = talk_s
        self.acw_s = acw_s
        self.mean_patience_s = mean_patience_s
        self.agent_poll_s = agent_poll_s
        self.push = push
        self.agent_ids = list(agents) if agents is not None else self._seeded_agents()
        self.duration_s = duration_s
        self.progress = progress
        self.out = out or sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.progress_every_s = progress_every_s or (1.0 if self.tty else 5.0)
        # Customers draw from their own generator: with a seed, every run sees the same arrivals whatever
        # the agents do (push and polling agents draw differently).
        self.customers_rng = random.Random(seed)
        self.rng = random.Random(None if seed is None else seed + 1)
        self.stats = SimStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.finished = threading.Event()  # set when duration_s elapsed
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sim-customer")
        self._accepted: set[str] = set()
        self._created_at: dict[str, float] = {}
        self._timers: list[tuple[float, int, str]] = []  # (due, seq, contact id): patience
        self._timer_seq = 0
        self._timer_cv = threading.Condition()
        self._started_at = 0.0
        self.last_metrics: list[dict[str, Any]] = []
        self.agent_modes: dict[str, str] = {}  # agent id -> "push" | "polling"
        self._fallback_said = False
        self._requests_at_start = 0
        self._observer_requests = 0  # the progress line's and summary's own reads (not the traffic's)

    def _seeded_agents(self) -> list[str]:
        from local.seed import TENANTS

        for t in TENANTS:
            if t.tenant_id == self.tenant:
                return [a.agent_id for a in t.agents]
        return []

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Simulation:
        self._started_at = time.monotonic()
        self._requests_at_start = self._api_requests()
        if self.push and not getattr(self.runtime, "websocket_url", None):
            self._say_fallback("the runtime serves no WebSocket API")
        targets = [("sim-arrivals", self._arrivals), ("sim-patience", self._patience)]
        targets += [(f"sim-agent-{a}", lambda a=a: self._agent(a)) for a in self.agent_ids]
        if self.progress:
            targets.append(("sim-progress", self._progress))
        for name, target in targets:
            t = threading.Thread(target=self._guard(target), name=name, daemon=True)
            self._threads.append(t)
            t.start()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        with self._timer_cv:
            self._timer_cv.notify_all()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.progress and self.tty:
            self.out.write("\n")
            self.out.flush()

    def _guard(self, target: Any) -> Any:
        def run() -> None:
            try:
                target()
            except Exception as exc:  # noqa: BLE001 - a simulation thread must not die silently
                if not self._stop.is_set():
                    self.out.write(f"\nsimulation thread {threading.current_thread().name} failed: {exc!r}\n")
        return run

    def _sleep(self, seconds: float) -> bool:
        """False when stopping."""
        return not self._stop.wait(max(0.0, seconds))

    # -- customers --------------------------------------------------------------------------------
    def _arrivals(self) -> None:
        weights = [w for _, _, w in self.mix]
        while self._sleep(self.customers_rng.expovariate(self.rate) if self.rate > 0 else 3600):
            if self.duration_s is not None and time.monotonic() - self._started_at > self.duration_s:
                self.finished.set()
                return
            queue_id, channel, _ = self.customers_rng.choices(self.mix, weights)[0]
            patience = self.customers_rng.expovariate(1 / self.mean_patience_s) if self.mean_patience_s > 0 else None
            self._pool.submit(self._guard(lambda q=queue_id, c=channel, p=patience: self._arrive(q, c, p)))

    def _arrive(self, queue_id: str, channel: str, patience: float | None) -> None:
        status, body = self.client.call("POST", "/contacts", {"channel": channel, "queue_id": queue_id})
        with self._lock:
            if status != 201:
                self.stats.create_errors += 1
                return
            self.stats.created += 1
            self._created_at[body["contact_id"]] = time.monotonic()
        if patience is not None:
            with self._timer_cv:
                self._timer_seq += 1
                heapq.heappush(self._timers, (time.monotonic() + patience, self._timer_seq, body["contact_id"]))
                self._timer_cv.notify()

    def _patience(self) -> None:
        while not self._stop.is_set():
            with self._timer_cv:
                while not self._stop.is_set() and (not self._timers or self._timers[0][0] > time.monotonic()):
                    timeout = (self._timers[0][0] - time.monotonic()) if self._timers else None
                    self._timer_cv.wait(timeout if timeout is None else max(0.0, timeout))
                if self._stop.is_set():
                    return
                _, _, contact_id = heapq.heappop(self._timers)
            with self._lock:
                if contact_id in self._accepted:
                    continue
            self._pool.submit(self._guard(lambda c=contact_id: self._hang_up(c)))

    def _hang_up(self, contact_id: str) -> None:
        status, _ = self.client.call("POST", f"/contacts/{contact_id}/abandon")
        with self._lock:
            if status == 200:
                self.stats.abandoned += 1
            elif status == 409:
                self.stats.abandon_lost_race += 1  # answered (or timed out) just before
            else:
                self.stats.api_errors += 1

    # -- agents -----------------------------------------------------------------------------------
    def _agent(self, agent_id: str) -> None:
        # Stagger log-ins so the first wave is spread out.
        if not self._sleep(self.rng.uniform(0, self.agent_poll_s)):
            return
        key = self._keys.get(f"agent:{agent_id}", self.runtime.api_keys[self.tenant])
        client = ApiClient(self.runtime.api_url, key)
        # The socket first: an offer reserved the moment the agent turns AVAILABLE is pushed to it.
        sock = self._open_socket(key) if self.push else None
        with self._lock:
            self.agent_modes[agent_id] = "push" if sock is not None else "polling"
        status, _ = client.call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})
        if status != 200:
            self._api_error()
            if sock is not None:
                sock.close()
            return
        work: dict[str, _AgentWork] = {}
        try:
            while not self._stop.is_set():
                if sock is not None and sock.closed.is_set():
                    self._say_fallback(f"agent {agent_id}'s socket closed")
                    with self._lock:
                        self.agent_modes[agent_id] = "polling"
                    sock = None
                if sock is not None:
                    # Wait for a frame until the next piece of work is due (at most 1 s, to notice a stop).
                    due = [w.talk_until if w.acw_until is None else w.acw_until for w in work.values()]
                    frame = sock.get(min([1.0, *(d - time.monotonic() for d in due)]))
                    if frame is not None and frame.get("type") == "offer":
                        self._accept(client, agent_id, frame["payload"]["contact"]["contact_id"], work)
                    # offer_withdrawn, contact_state: nothing to do (the accept already answered)
                else:
                    if not self._sleep(self.agent_poll_s * self.rng.uniform(0.8, 1.2)):
                        return
                    status, agent = client.call("GET", f"/agents/{agent_id}")
                    if status != 200:
                        self._api_error()
                    else:
                        for contact_id in agent.get("offers", []):
                            self._accept(client, agent_id, contact_id, work)
                self._do_due_work(client, agent_id, work)
        finally:
            if sock is not None:
                sock.close()

    def _open_socket(self, key: str) -> PushSocket | None:
        try:
            return PushSocket(getattr(self.runtime, "websocket_url", None), key)
        except PushUnavailable as exc:
            self._say_fallback(str(exc))
            return None

    def _say_fallback(self, why: str) -> None:
        with self._lock:
            if self._fallback_said:
                return
            self._fallback_said = True
        self.out.write(f"\nagents: no push socket ({why}); polling GET /agents/{{id}} every {self.agent_poll_s:g} s\n")
        self.out.flush()

    def _accept(self, client: ApiClient, agent_id: str, contact_id: str, work: dict[str, _AgentWork]) -> None:
        if contact_id in work:
            return
        status, contact = client.call("POST", f"/agents/{agent_id}/contacts/{contact_id}/accept")
        if status != 200:
            return  # the customer left, or the offer went elsewhere
        work[contact_id] = _AgentWork(contact_id, time.monotonic() + self.rng.uniform(*self.talk_s))
        with self._lock:
            self._accepted.add(contact_id)
            self.stats.accepted += 1
            self.stats.connected_now += 1
            if contact.get("queue_wait_s") is not None:
                self.stats.waits_s.append(float(contact["queue_wait_s"]))

    def _do_due_work(self, client: ApiClient, agent_id: str, work: dict[str, _AgentWork]) -> None:
        now = time.monotonic()
        for w in list(work.values()):
            if w.acw_until is None and now >= w.talk_until:
                status, _ = client.call("POST", f"/agents/{agent_id}/contacts/{w.contact_id}/complete")
                if status == 200:
                    w.acw_until = now + self.rng.uniform(*self.acw_s)
                    with self._lock:
                        self.stats.connected_now -= 1
                else:
                    self._api_error()
                    work.pop(w.contact_id)
            elif w.acw_until is not None and now >= w.acw_until:
                status, _ = client.call("POST", f"/agents/{agent_id}/contacts/{w.contact_id}/end-acw")
                work.pop(w.contact_id)
                if status == 200:
                    with self._lock:
                        self.stats.completed += 1
                else:
                    self._api_error()

    def _api_error(self) -> None:
        with self._lock:
            self.stats.api_errors += 1

    # -- progress ---------------------------------------------------------------------------------
    def _api_requests(self) -> int:
        server = getattr(self.runtime, "api_server", None)
        return int(server.gateway.stats["requests"]) if server is not None else 0

    def api_requests(self) -> dict[str, Any]:
        """Requests the API server answered since start(), without this simulation's own progress reads."""
        with self._lock:
            completed, observer = self.stats.completed, self._observer_requests
        total = self._api_requests() - self._requests_at_start - observer
        return {"requests": total, "completed": completed, "per_contact": total / completed if completed else None}

    def live_metrics(self) -> dict[str, Any]:
        with self._lock:
            self._observer_requests += 1
        status, queues = self.supervisor.call("GET", "/metrics/realtime")
        if status != 200 or not isinstance(queues, list):
            return {}
        self.last_metrics = queues
        in_queue = sum(int(q.get("in_queue") or 0) for q in queues)
        within = sum(int(q.get("answered_within_sl") or 0) for q in queues)
        base = 0.0
        for q in queues:
            sl = q.get("service_level")
            if sl:
                base += int(q.get("answered_within_sl") or 0) / sl
            else:
                base += int(q.get("answered") or 0) + int(q.get("abandoned") or 0)
        return {
            "in_queue": in_queue,
            "service_level": within / base if base else None,
            "offered": sum(int(q.get("offered") or 0) for q in queues),
            "abandoned": sum(int(q.get("abandoned") or 0) for q in queues),
        }

    def line(self) -> str:
        m = self.live_metrics()
        with self._lock:
            s = self.stats
            completed, connected, abandoned = s.completed, s.connected_now, s.abandoned
        calls = self.runtime.call_counts.per_completed(completed)
        rpc = self.api_requests()["per_contact"]
        sl = m.get("service_level")
        elapsed = time.monotonic() - self._started_at
        cpc = calls["calls_per_contact"]
        lpc = calls["lifecycle_calls_per_contact"]
        return (
            f"[{elapsed:5.0f}s] in queue {m.get('in_queue', '?'):>3} | connected {connected:>3} | "
            f"completed {completed:>5} | abandoned {abandoned:>4} (all {m.get('abandoned', '?')}) | "
            f"SL {'-' if sl is None else f'{sl:.0%}':>4} | AWS calls/contact "
            f"{'-' if cpc is None else f'{cpc:.1f}'} (lifecycle {'-' if lpc is None else f'{lpc:.1f}'}) | "
            f"API req/contact {'-' if rpc is None else f'{rpc:.1f}'}"
        )

    def _progress(self) -> None:
        while self._sleep(self.progress_every_s):
            text = self.line()
            if self.tty:
                self.out.write("\r" + text.ljust(120)[:160])
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            s = self.stats
            waits = sorted(s.waits_s)
            summary = {
                "created": s.created,
                "accepted": s.accepted,
                "completed": s.completed,
                "abandoned_by_customer": s.abandoned,
                "abandon_lost_race": s.abandon_lost_race,
                "create_errors": s.create_errors,
                "api_errors": s.api_errors,
                "median_wait_s": waits[len(waits) // 2] if waits else None,
                "agents_push": sum(1 for m in self.agent_modes.values() if m == "push"),
                "agents_polling": sum(1 for m in self.agent_modes.values() if m == "polling"),
            }
        summary["api_requests"] = self.api_requests()
        summary["live_metrics"] = self.live_metrics()
        summary["aws_calls"] = self.runtime.call_counts.per_completed(summary["completed"])
        return summary
