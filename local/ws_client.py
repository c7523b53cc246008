"""A client of the push API (README "Push over WebSocket"), as a desktop or a wallboard holds one:
`?token=<key>` at the handshake, JSON frames in and out.

    sock = PushSocket(runtime.websocket_url, key)      # raises PushUnavailable when it cannot connect
    frame = sock.get(timeout_s=1.0)                    # {"type", "at", "payload", "received": <time.time()>} or None
    sock.send({"action": "subscribe", "queues": []})
    sock.close()

A reader thread stamps each frame with its arrival time (`received`, wall clock: comparable with the
ISO times the API gives) and queues it; `closed` is set when the server or the network ends it.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any
from urllib.parse import quote


class PushUnavailable(Exception):
    """The socket could not be opened (no WebSocket API, refused handshake, nothing listening)."""


class PushSocket:
    def __init__(self, url: str | None, key: str, open_timeout_s: float = 10.0) -> None:
        if not url:
            raise PushUnavailable("no WebSocket URL")
        from websockets.sync.client import connect

        try:
            url = f"{url}?token={quote(key, safe='')}"
            self.ws = connect(url, open_timeout=open_timeout_s, proxy=None, legacy=True,
                              compression=None)  # the local endpoint declines it anyway: no offer
        except Exception as exc:  # noqa: BLE001 - InvalidStatus (401/403), OSError, timeouts: all "no push"
            raise PushUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="push-socket", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
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
        self.ws.send(json.dumps(frame))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - already gone
            pass
        self._reader.join(timeout=5)
