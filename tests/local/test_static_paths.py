"""`make run`'s API server serves the static folder (the wallboard) outside the stage: a path that cannot name a file
there is answered like any other path without a file (the API's 4xx), never with a dropped connection. An outside
probe's `curl "http://127.0.0.1:PORT/index.html%00"` got an empty reply: `(root / rel).resolve()` raised
"ValueError: embedded null byte" outside the try/except that protected the API's requests."""
from __future__ import annotations


import pytest

from local.api_server import ApiGateway, ApiServer
from tests.local.test_api_server import FakeLambda, build_api, raw_exchange as _raw

NO_FILE = ["/index.html%00", "/%00", "/a%00b", "/wallboard.js%00", "/%00/index.html", "/index.html%00.txt",
           "/" + "a" * 5000, "/" + "/".join(["b" * 255] * 20)]  # a NUL; a name and a path too long for the system


@pytest.fixture
def server(tmp_path):
    (tmp_path / "index.html").write_text("<h1>wallboard</h1>")
    (tmp_path / "wallboard.js").write_text("// js")
    fake = FakeLambda()
    server = ApiServer(ApiGateway(build_api(), fake, static_dir=tmp_path), port=0).start()
    server.fake = fake
    yield server
    server.stop()


@pytest.mark.parametrize("path", NO_FILE)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_path_that_cannot_be_a_file_is_answered_4xx_never_dropped(server, path, method, capfd):
    answer = _raw(server, f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert b"wallboard" not in answer and b"\x00" not in answer
    assert "Traceback" not in capfd.readouterr().err


def test_the_answer_is_the_one_any_path_without_a_file_gets(server):
    """No file there: the request goes on to the API (without the stage prefix), as `/nope.html` does."""
    def status(path: str) -> bytes:
        return _raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()).split(b"\r\n")[0]

    assert status("/index.html%00") == status("/nope.html") == status("/a%00b")
    assert status("/index.html").startswith(b"HTTP/1.1 200") and status("/wallboard.js").startswith(b"HTTP/1.1 200")


def test_the_connection_stays_usable_after_such_a_path(server):
    """Keep-alive: the next request on the same connection is answered too (the server thread did not die)."""
    answer = _raw(server, b"GET /index.html%00 HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 4") and answer.count(b"HTTP/1.1 ") == 2 and answer.endswith(b"<h1>wallboard</h1>")


@pytest.mark.parametrize("target", [b"http://[x/index.html", b"http://a]b/"])
def test_a_target_urlsplit_cannot_read_is_a_400(server, target, capfd):
    """An absolute-form target whose host urlsplit refuses ("Invalid IPv6 URL") is no path at all."""
    answer = _raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert server.fake.calls == [] and "Traceback" not in capfd.readouterr().err


def test_a_static_lookup_that_fails_otherwise_still_gets_an_answer(server, monkeypatch):
    """Whatever else goes wrong on the static side is an answer (502), not a dropped connection."""
    def broken(self, method, path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ApiGateway, "_static", broken)
    answer = _raw(server, b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 502"), answer[:200]
