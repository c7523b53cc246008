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
- Moving work between people (README "Transfers"): at the end of its talk time, the agent that accepted a
  customer's first segment may move it on instead of completing it: a blind transfer to another queue of
  the channel (the same queue when there is none; default 15%), a consult of such a queue then, once the
  consulted agent answered the leg, a warm transfer or a conference the sender leaves after a moment (5%;
  cancelled when nobody answers within consult_wait_s), or an escalation to the tenant's escalation queue
  (3%). Any agent may put the customer on hold for a few seconds mid-talk (10%). The new segment reaches
  its agent as an `offer` frame like any other; a consulted agent serves the leg once its sender completed
  the consult or left the conference. The sender still ends its after-contact work (the segment then ends
  TRANSFERRED). `completed` counts customer contacts (the last segment's COMPLETED), not segments.
- Time is scaled: talk 3-8 s, ACW 1-2 s, patience ~20 s by default.

A progress line (rewritten in place on a terminal, one line every few seconds otherwise) shows what
the live metrics say (in queue, service level, from GET /metrics/realtime) next to what the
simulation saw (connected, completed, abandoned), and the AWS calls per completed contact.
"""
from __future__ import annotations

import heapq
import http.client
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.parse
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


NO_ANSWER = 0  # ApiClient.call's status when the API did not answer (timeout, connection refused or reset)


class ApiClient:
    """The API over HTTP, as a client outside the runtime calls it. `keep_alive`: one HTTP/1.1 connection
    per calling thread, kept between calls (the simulated people's long-lived clients): a new connection per
    call cost a TCP handshake and a new server thread each time, ~10 % of the busy-day bench's CPU."""

    def __init__(self, api_url: str, api_key: str, timeout_s: float = 30.0, *, keep_alive: bool = False) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.keep_alive = keep_alive
        self._kept = threading.local()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.keep_alive:
            return self._call_kept(method, path, body)
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
        except (OSError, http.client.HTTPException) as exc:
            # No answer in timeout_s (an overloaded runtime), or the connection broke: the caller counts an
            # API error and goes on (an agent or customer thread must not die of it).
            return NO_ANSWER, repr(exc)

    def _call_kept(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        url = urllib.parse.urlsplit(self.api_url + path)
        target = url.path + (f"?{url.query}" if url.query else "")
        retried = False
        while True:
            conn = getattr(self._kept, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._kept.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout_s)
            try:
                conn.request(method, target, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused and not retried and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError)):
                    retried = True
                    continue  # the server had closed the idle connection before reading this request: once more
                return NO_ANSWER, repr(exc)  # as urlopen's caller saw it: no answer, the caller goes on
            if resp.will_close:
                self.close()
            if resp.status < 400:
                return resp.status, json.loads(raw) if raw else None
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw.decode(errors="replace")

    def close(self) -> None:
        """This thread's kept connection, if any (the next call opens another)."""
        conn = getattr(self._kept, "conn", None)
        self._kept.conn = None
        if conn is not None:
            conn.close()


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
    waits_s: list[float] = field(default_factory=list)  # first segments: the product's queue_wait_s at accept
    # first segments as the customer waited: POST /contacts answered -> the agent's accept answered (the
    # patience clock's span: includes starting the workflow, routing and the offer reaching the agent)
    answer_waits_s: list[float] = field(default_factory=list)
    # abandoned customers, as they waited (POST /contacts answered -> their abandon answered)
    abandon_waits_s: list[float] = field(default_factory=list)
    # Moving work between people (each counts the API call that succeeded).
    transfers: int = 0  # blind transfers
    consults: int = 0  # consults started
    consults_completed: int = 0  # warm transfers
    conferences: int = 0
    consults_cancelled: int = 0  # nobody answered the leg in time
    escalations: int = 0
    holds: int = 0
    segments_transferred: int = 0  # segments whose after-contact work ended TRANSFERRED
    outbound: int = 0  # answered campaign calls (OUTBOUND contacts) accepted, served like inbound ones
    outbound_dispositions: int = 0  # their dispositions recorded (POST /contacts/{id}/disposition)


@dataclass
class _AgentWork:
    contact_id: str
    talk_until: float
    acw_until: float | None = None
    queue_id: str = ""
    channel: str = ""
    first_segment: bool = True  # the customer's first segment: its agent may move it on
    decided: bool = False  # the end-of-talk choice was made (a cancelled consult then completes)
    hold_at: float | None = None  # puts the customer on hold then (once), for hold_for seconds
    hold_for: float = 0.0
    resume_at: float | None = None  # on hold until then
    leg: bool = False  # a consult leg: talks once its sender completed the consult or left the conference
    leg_since: float = 0.0
    leg_cancelled: bool = False  # the sender cancelled the consult: the leg is over
    consult_leg: str | None = None  # the leg of a consult in progress from this contact
    consult_then: str = "complete"  # "complete" (warm transfer) or "conference", once the leg is answered
    consult_until: float = 0.0  # cancelled when not answered by then
    conference_leg: str | None = None  # in conference with this leg: the sender leaves at leave_at
    leave_at: float | None = None
    outbound: bool = False  # an answered campaign call: completed (never moved on), then disposed


@dataclass
class _Leg:
    """A consult leg, as its two agents see it (their threads share it: the voices on the line)."""

    answered: bool = False
    released_at: float | None = None  # the sender completed the consult or left the conference
    cancelled: bool = False


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
        transfer_share: float = 0.15,
        consult_share: float = 0.05,
        escalate_share: float = 0.03,
        hold_share: float = 0.10,
        hold_s: tuple[float, float] = (1.0, 3.0),
        conference_s: tuple[float, float] = (1.0, 3.0),
        consult_wait_s: float = 15.0,
    ) -> None:
        self.runtime = runtime
        self.tenant = tenant
        # Each participant with its own key: customers arrive through the integration key, each agent
        # acts with its agent key, the progress line reads as a supervisor (local.seed issues them all).
        self._keys = getattr(runtime, "role_keys", {}).get(tenant) or {}
        admin_key = runtime.api_keys[tenant]
        self.client = ApiClient(runtime.api_url, self._keys.get("integration", admin_key), keep_alive=True)
        self.supervisor = ApiClient(runtime.api_url, self._keys.get("supervisor", admin_key), keep_alive=True)
        self.rate = rate_per_s
        self.mix = list(mix)
        self.talk_s = talk_s
        self.acw_s = acw_s
        self.mean_patience_s = mean_patience_s
        self.agent_poll_s = agent_poll_s
        self.push = push
        self.transfer_share = transfer_share
        self.consult_share = consult_share
        self.escalate_share = escalate_share
        self.hold_share = hold_share
        self.hold_s = hold_s
        self.conference_s = conference_s
        self.consult_wait_s = consult_wait_s
        # A seeded tenant without an escalation queue escalates nothing (an unknown tenant: the API says).
        self._escalates = True
        self._queues_by_channel = self._transfer_queues()
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
        self._no_arrivals = threading.Event()  # stop_arrivals(): agents serve what is there
        self._threads: list[threading.Thread] = []
        self._sockets: list[PushSocket] = []  # the agents' push sockets (stop() wakes their waits)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sim-customer")
        self._accepted: set[str] = set()
        self._created_at: dict[str, float] = {}  # customer contact -> when POST /contacts answered (until answered)
        self._timers: list[tuple[float, int, str]] = []  # (due, seq, contact id): patience
        self._timer_seq = 0
        self._timer_cv = threading.Condition()
        self._started_at = 0.0
        self.last_metrics: list[dict[str, Any]] = []
        self.agent_modes: dict[str, str] = {}  # agent id -> "push" | "polling"
        self._fallback_said = False
        self._requests_at_start = 0
        self._observer_requests = 0  # the progress line's and summary's own reads (not the traffic's)
        self._legs: dict[str, _Leg] = {}  # consult leg id -> what its two agents know
        # (kind, the segment moved on, the next segment): "transfer", "escalation", "warm", "conference"
        self.moves: list[tuple[str, str, str]] = []

    def _seeded_agents(self) -> list[str]:
        from local.seed import TENANTS

        for t in TENANTS:
            if t.tenant_id == self.tenant:
                return [a.agent_id for a in t.agents]
        return []

    def _transfer_queues(self) -> dict[str, list[str]]:
        """channel -> the queues a transfer or consult may target: the seeded tenant's (not its escalation
        queue), else the mix's."""
        from local.seed import TENANTS

        out: dict[str, list[str]] = {}
        for t in TENANTS:
            if t.tenant_id == self.tenant:
                escalation = (t.transfer_settings or {}).get("escalation_queue_id")
                self._escalates = escalation is not None
                for q in t.queues:
                    if q.queue_id != escalation:
                        for c in q.channels:
                            out.setdefault(c, []).append(q.queue_id)
                return out
        for queue_id, channel, _ in self.mix:
            if queue_id not in out.setdefault(channel, []):
                out[channel].append(queue_id)
        return out

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
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # an agent waiting up to 1 s for a frame sees the stop now
            sock.frames.put({"type": "stopping"})
        with self._timer_cv:
            self._timer_cv.notify_all()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.progress and self.tty:
            self.out.write("\n")
            self.out.flush()

    def stop_arrivals(self) -> None:
        """No more customers arrive; agents go on serving the contacts (and segments) there are."""
        self._no_arrivals.set()

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
        # Arrival times on the clock (a Poisson process): each gap counts from the previous arrival's due time,
        # not from when this thread got round to it (sleeping each gap after the work came ~3 % short at 3/s).
        due = time.monotonic()
        while True:
            due += self.customers_rng.expovariate(self.rate) if self.rate > 0 else 3600
            if not self._sleep(due - time.monotonic()):
                return
            if self._no_arrivals.is_set():
                return
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
                created_at = self._created_at.pop(contact_id, None)
                self.stats.abandoned += 1
                if created_at is not None:
                    self.stats.abandon_waits_s.append(time.monotonic() - created_at)
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
        client = ApiClient(self.runtime.api_url, key, keep_alive=True)
        # The socket first: an offer reserved the moment the agent turns AVAILABLE is pushed to it.
        sock = self._open_socket(key) if self.push else None
        with self._lock:
            self.agent_modes[agent_id] = "push" if sock is not None else "polling"
            if sock is not None:
                self._sockets.append(sock)
        status, _ = client.call("PUT", f"/agents/{agent_id}/status", {"status": "AVAILABLE"})
        while status == NO_ANSWER and self._sleep(1.0):  # an overloaded API: try again, do not log off
            self._api_error()
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
                    due = [self._due(w) for w in work.values()]
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
            client.close()

    def _open_socket(self, key: str) -> PushSocket | None:
        try:
            # 60 agents opening sockets at once queue behind the $connect function: give them time.
            return PushSocket(getattr(self.runtime, "websocket_url", None), key, open_timeout_s=30.0)
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
        now = time.monotonic()
        talk = self.rng.uniform(*self.talk_s)
        w = _AgentWork(contact_id, now + talk, queue_id=contact.get("queue_id") or "", channel=contact.get("channel") or "",
                       first_segment=contact.get("initiation_method") not in ("TRANSFER", "OUTBOUND"),
                       outbound=contact.get("initiation_method") == "OUTBOUND")
        if contact.get("consult_of"):
            # A consult leg: on the line with the sender (the customer on hold) until the sender completes
            # the consult (warm transfer) or leaves the conference; then the customer's, served as usual.
            w.leg, w.leg_since, w.talk_until = True, now, float("inf")
        elif self.hold_share > 0 and self.rng.random() < self.hold_share:
            w.hold_at = now + talk * self.rng.uniform(0.2, 0.6)
            w.hold_for = self.rng.uniform(*self.hold_s)
            w.talk_until += w.hold_for
        work[contact_id] = w
        with self._lock:
            if w.leg:
                self._legs.setdefault(contact_id, _Leg()).answered = True
            self._accepted.add(contact_id)
            created_at = self._created_at.pop(contact_id, None)
            if w.first_segment and created_at is not None:
                self.stats.answer_waits_s.append(now - created_at)
            self.stats.accepted += 1
            self.stats.outbound += w.outbound
            self.stats.connected_now += 1
            if w.first_segment and contact.get("queue_wait_s") is not None:
                self.stats.waits_s.append(float(contact["queue_wait_s"]))
        if w.outbound and (contact.get("attributes") or {}).get("preview") == "1":
            # a preview record: the agent read it, now dials it (the checks run then; 409 when one blocks it)
            if client.call("POST", f"/contacts/{contact_id}/dial", {})[0] != 200:
                w.talk_until, w.outbound = now, False  # not dialed: complete it, nothing to dispose

    def _due(self, w: _AgentWork) -> float:
        """When the agent next has something to do on `w` (waiting on a consult: soon, to look again)."""
        if w.acw_until is not None:
            return w.acw_until
        if w.leg and w.talk_until == float("inf") or w.consult_leg is not None:
            return time.monotonic() + 0.2
        if w.leave_at is not None:
            return w.leave_at
        if w.resume_at is not None:
            return w.resume_at
        return min(w.talk_until, w.hold_at if w.hold_at is not None else w.talk_until)

    def _do_due_work(self, client: ApiClient, agent_id: str, work: dict[str, _AgentWork]) -> None:
        for w in list(work.values()):
            now = time.monotonic()
            path = f"/agents/{agent_id}/contacts/{w.contact_id}"
            if w.acw_until is not None:
                if now >= w.acw_until:
                    self._end_acw(client, path, w, work)
            elif w.leg and w.talk_until == float("inf"):
                self._wait_for_sender(w, now)
            elif w.consult_leg is not None:
                self._consulting(client, path, w, now)
            elif w.leave_at is not None:
                if now >= w.leave_at:
                    self._leave_conference(client, path, w, work, now)
            elif w.resume_at is not None:
                if now >= w.resume_at:
                    w.resume_at = None
                    if client.call("POST", f"{path}/resume")[0] != 200:
                        self._api_error()
            elif w.hold_at is not None and now >= w.hold_at:
                w.hold_at = None
                if client.call("POST", f"{path}/hold")[0] == 200:
                    w.resume_at = now + w.hold_for
                    with self._lock:
                        self.stats.holds += 1
                else:
                    self._api_error()
            elif now >= w.talk_until:
                self._end_talk(client, path, w, work, now)

    def _end_talk(self, client: ApiClient, path: str, w: _AgentWork, work: dict[str, _AgentWork], now: float) -> None:
        """The agent's choice at the end of talk time: complete, or (the customer's first segment) move it on."""
        move = self._choose_move(w)
        if move == "transfer":
            status, body = client.call("POST", f"{path}/transfer", {
                "to": {"queue_id": self._other_queue(w)}, "reason": "simulated transfer",
                "note": "customer needs another team"})
            if self._moved(status, body, w, "transfer", now):
                return
        elif move == "escalation":
            status, body = client.call("POST", f"{path}/escalate", {
                "reason": "customer asked for a supervisor", "note": "simulated escalation"})
            if self._moved(status, body, w, "escalation", now):
                return
        elif move == "consult":
            status, body = client.call("POST", f"{path}/consult", {
                "to": {"queue_id": self._other_queue(w)}, "reason": "simulated consult",
                # the customer on hold and this agent wait on the leg: it goes before the queue's customers
                "priority": 1})
            if status == 200 and isinstance(body, dict) and body.get("contact_id"):
                w.consult_leg = body["contact_id"]
                w.consult_then = self.rng.choice(("complete", "conference"))
                w.consult_until = now + self.consult_wait_s
                with self._lock:
                    self._legs.setdefault(w.consult_leg, _Leg())
                    self.stats.consults += 1
                return
            self._api_error()
        status, _ = client.call("POST", f"{path}/complete")
        if status == 200:
            self._to_acw(w, now)
            if w.outbound:
                self._dispose(client, w)
        else:
            self._api_error()
            work.pop(w.contact_id)

    # (disposition, weight) of an answered campaign call, as the agent records it
    OUTBOUND_DISPOSITIONS = (("right_party_contact", 0.6), ("wrong_party", 0.2), ("voicemail", 0.12), ("opted_out", 0.08))

    def _dispose(self, client: ApiClient, w: _AgentWork) -> None:
        names, weights = zip(*self.OUTBOUND_DISPOSITIONS)
        status, _ = client.call("POST", f"/contacts/{w.contact_id}/disposition",
                                {"disposition": self.rng.choices(names, weights)[0]})
        with self._lock:
            if status == 200:
                self.stats.outbound_dispositions += 1
            else:
                self.stats.api_errors += 1

    def _choose_move(self, w: _AgentWork) -> str | None:
        if not w.first_segment or w.decided:
            return None
        w.decided = True
        draw = self.rng.random()
        for move, share in (("transfer", self.transfer_share), ("consult", self.consult_share),
                            ("escalation", self.escalate_share)):
            if draw < share:
                return move if move != "escalation" or self._escalates else None
            draw -= share
        return None

    def _other_queue(self, w: _AgentWork) -> str:
        """Another queue of the contact's channel; the same queue when there is none (another agent takes it)."""
        others = [q for q in self._queues_by_channel.get(w.channel, []) if q != w.queue_id]
        return self.rng.choice(others) if others else w.queue_id

    def _moved(self, status: int, body: Any, w: _AgentWork, kind: str, now: float) -> bool:
        """After a transfer or escalation: the sender's segment is in after-contact work."""
        if status != 200 or not isinstance(body, dict):
            self._api_error()
            return False
        with self._lock:
            if kind == "transfer":
                self.stats.transfers += 1
            else:
                self.stats.escalations += 1
            self.moves.append((kind, w.contact_id, str(body.get("contact_id"))))
        self._to_acw(w, now)
        return True

    def _to_acw(self, w: _AgentWork, now: float) -> None:
        w.acw_until = now + self.rng.uniform(*self.acw_s)
        with self._lock:
            self.stats.connected_now -= 1

    def _consulting(self, client: ApiClient, path: str, w: _AgentWork, now: float) -> None:
        """The sender waits for the consulted agent; then completes (warm transfer) or conferences; cancels
        when nobody answered in consult_wait_s."""
        leg_id = w.consult_leg or ""
        with self._lock:
            leg = self._legs.setdefault(leg_id, _Leg())
            answered = leg.answered
            if not answered and now >= w.consult_until:
                leg.cancelled = True  # before the call: an agent answering now finds the consult over
        if answered and w.consult_then == "complete":
            status, body = client.call("POST", f"{path}/consult/complete")
            w.consult_leg = None
            if status == 200:
                with self._lock:
                    leg.released_at = now
                    self.stats.consults_completed += 1
                    self.moves.append(("warm", w.contact_id, leg_id))
                self._to_acw(w, now)
                return
            self._consult_failed(leg, w, now)
        elif answered:
            status, body = client.call("POST", f"{path}/consult/conference")
            w.consult_leg = None
            if status == 200:
                w.conference_leg = leg_id
                w.leave_at = now + self.rng.uniform(*self.conference_s)
                with self._lock:
                    self.stats.conferences += 1
                return
            self._consult_failed(leg, w, now)
        elif now >= w.consult_until:
            status, _ = client.call("POST", f"{path}/consult/cancel")
            w.consult_leg = None
            w.talk_until = now + self.rng.uniform(*self.acw_s)  # a word with the customer, then complete
            if status == 200:
                with self._lock:
                    self.stats.consults_cancelled += 1
            else:
                self._api_error()

    def _consult_failed(self, leg: _Leg, w: _AgentWork, now: float) -> None:
        """The consult call failed: the consulted agent goes on (its hang-up ends the consult), the sender
        completes."""
        self._api_error()
        with self._lock:
            leg.released_at = now
        w.talk_until = now

    def _leave_conference(self, client: ApiClient, path: str, w: _AgentWork, work: dict[str, _AgentWork], now: float) -> None:
        """The sender leaves the conference: its segment ends TRANSFERRED, the customer stays with the leg."""
        leg_id, w.leave_at, w.conference_leg = w.conference_leg or "", None, None
        status, _ = client.call("POST", f"{path}/complete")
        with self._lock:
            self._legs.setdefault(leg_id, _Leg()).released_at = now
            if status == 200:
                self.moves.append(("conference", w.contact_id, leg_id))
        if status == 200:
            self._to_acw(w, now)
        else:
            self._api_error()
            work.pop(w.contact_id)

    def _wait_for_sender(self, w: _AgentWork, now: float) -> None:
        """A consult leg: served as the customer's segment once released; over when the sender cancelled."""
        with self._lock:
            leg = self._legs.setdefault(w.contact_id, _Leg())
            released, cancelled = leg.released_at, leg.cancelled
        if cancelled:
            w.leg_cancelled = True  # the cancel put this leg in after-contact work
            self._to_acw(w, now)
        elif released is not None:
            w.talk_until = max(now, released) + self.rng.uniform(*self.talk_s)
        elif now - w.leg_since > self.consult_wait_s + 30:
            w.talk_until = now  # the sender never came back: hanging up ends the consult

    def _end_acw(self, client: ApiClient, path: str, w: _AgentWork, work: dict[str, _AgentWork]) -> None:
        status, body = client.call("POST", f"{path}/end-acw")
        work.pop(w.contact_id)
        if status != 200:
            self._api_error()
            return
        with self._lock:
            if isinstance(body, dict) and body.get("state") == "TRANSFERRED":
                self.stats.segments_transferred += 1
            elif not w.leg_cancelled:
                self.stats.completed += 1
            if w.leg:
                self._legs.pop(w.contact_id, None)

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
            moved = (f"xfer {s.transfers} consult {s.consults} (conf {s.conferences}) esc {s.escalations} "
                     f"hold {s.holds}")
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
            f"API req/contact {'-' if rpc is None else f'{rpc:.1f}'} | {moved}"
        )

    def _progress(self) -> None:
        while self._sleep(self.progress_every_s):
            text = self.line()
            if self.tty:
                self.out.write("\r" + text.ljust(120)[:220])
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            s = self.stats
            waits = sorted(s.waits_s)
            answer_waits = sorted(s.answer_waits_s)
            summary = {
                "created": s.created,
                "accepted": s.accepted,
                "completed": s.completed,
                "abandoned_by_customer": s.abandoned,
                "abandon_lost_race": s.abandon_lost_race,
                "create_errors": s.create_errors,
                "api_errors": s.api_errors,
                "median_wait_s": waits[len(waits) // 2] if waits else None,
                "median_answer_wait_s": answer_waits[len(answer_waits) // 2] if answer_waits else None,
                "agents_push": sum(1 for m in self.agent_modes.values() if m == "push"),
                "agents_polling": sum(1 for m in self.agent_modes.values() if m == "polling"),
                "transfers": s.transfers,
                "consults": s.consults,
                "consults_completed": s.consults_completed,
                "conferences": s.conferences,
                "consults_cancelled": s.consults_cancelled,
                "escalations": s.escalations,
                "holds": s.holds,
                "segments_transferred": s.segments_transferred,
                "outbound": s.outbound,
                "outbound_dispositions": s.outbound_dispositions,
            }
        summary["api_requests"] = self.api_requests()
        summary["live_metrics"] = self.live_metrics()
        summary["aws_calls"] = self.runtime.call_counts.per_completed(summary["completed"])
        return summary
