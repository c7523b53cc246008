"""A client of the push API (README "Push over WebSocket"), as a desktop or a wallboard holds one:
`?token=<key>` at the handshake, JSON frames in and out.

    sock = PushSocket(runtime.websocket_url, key)      # raises PushUnavailable when it cannot connect
    frame = sock.get(timeout_s=1.0)                    # {"type", "at", "payload", "received": <time.time()>} or None
    sock.send({"action": "subscribe", "queues": []})
    sock.close()

Every socket of the process is read on one event loop thread (`_shared_loop`), which stamps each frame
with its arrival time (`received`, wall clock: comparable with the ISO times the API gives) and queues it;
`closed` is set when the server or the network ends it. One loop, not threads per socket: websockets' sync
client reads each connection on a thread of its own, and a reader thread of ours queued its frames, so the
busy-day simulation's 60 agents held 120 threads for their sockets (~60 KB each of stack and interpreter
state, local/README.md "Under load").
"""
from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from typing import Any
from urllib.parse import quote

_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _shared_loop() -> asyncio.AbstractEventLoop:
    """The event loop every PushSocket runs on (started on first use; a daemon thread)."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="push-sockets", daemon=True).start()
            _loop = loop
        return _loop


class PushUnavailable(Exception):
    """The socket could not be opened (no WebSocket API, refused handshake, nothing listening)."""


class PushSocket:
    def __init__(self, url: str | None, key: str, open_timeout_s: float = 10.0) -> None:
        if not url:
            raise PushUnavailable("no WebSocket URL")
        self._loop = _shared_loop()
        opening = asyncio.run_coroutine_threadsafe(_open(f"{url}?token={quote(key, safe='')}", open_timeout_s), self._loop)
        try:
            self.ws = opening.result(open_timeout_s + 5)
        except Exception as exc:  # noqa: BLE001 - InvalidStatus (401/403), OSError, timeouts: all "no push"
            opening.cancel()  # a handshake still under way is dropped, not left to open a socket nobody reads
            raise PushUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()
        self._reader = asyncio.run_coroutine_threadsafe(self._read(), self._loop)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                received = time.time()
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    frame["received"] = received
                    self.frames.put(frame)
        except Exception:  # noqa: BLE001 - closed under us: the same as a close
            pass
        finally:
            self.closed.set()

    def get(self, timeout_s: float | None) -> dict[str, Any] | None:
        """The next frame, or None after timeout_s (or at once when closed and drained)."""
        wait = None if timeout_s is None else max(0.0, timeout_s)
        try:
            return self.frames.get(block=not self.closed.is_set(), timeout=wait)
        except queue.Empty:
            return None

    def send(self, frame: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(self.ws.send(json.dumps(frame)), self._loop).result(timeout=30)

    def close(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.ws.close(), self._loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self._reader.result(timeout=5)
        except Exception:  # noqa: BLE001 - a reader that did not end in time is a daemon task of the loop
            pass


async def _open(url: str, open_timeout_s: float) -> Any:
    from websockets.asyncio.client import connect

    # compression=None: the local endpoint declines it anyway, so no offer
    return await connect(url, open_timeout=open_timeout_s, proxy=None, compression=None)
