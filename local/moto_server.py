"""One embedded moto server per process, reset between runtimes.

Why one per process: handlers cache their boto3 clients per cold start (ccaas.bootstrap builds
adapters once per distinct settings), exactly as on AWS. A second runtime in the same process (the
next test module) must therefore be reachable at the same endpoint; moto's state is reset instead
(POST /moto-api/reset, what mock_aws does between tests) and the stack is redeployed with the same
deterministic names.
"""
from __future__ import annotations

import logging
import threading
import urllib.request
from typing import Any

log = logging.getLogger("local.moto")

_lock = threading.Lock()
_server = None
_endpoint: str | None = None


def ensure_started() -> str:
    """Start the server on first use (127.0.0.1, a free port); returns its endpoint URL."""
    global _server, _endpoint
    with _lock:
        if _server is None:
            from moto.server import ThreadedMotoServer

            server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server, _endpoint = server, f"http://{host}:{port}"
            log.info("moto server on %s", _endpoint)
        assert _endpoint is not None
        return _endpoint


def port() -> int:
    return int(ensure_started().rsplit(":", 1)[1])


def app() -> Any:
    """The server's WSGI application (moto's DomainDispatcherApplication): what local.inprocess_transport
    calls for this process's own clients."""
    ensure_started()
    assert _server is not None
    return _server._server.app  # noqa: SLF001 - ThreadedMotoServer keeps its werkzeug server there


def reset() -> None:
    """Drop every resource in every moto backend."""
    endpoint = ensure_started()
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback only
        resp.read()


def shutdown() -> None:
    """Stop the server (end of process; a later ensure_started() starts a new one on a new port)."""
    global _server, _endpoint
    with _lock:
        if _server is not None:
            _server.stop()
        _server, _endpoint = None, None
