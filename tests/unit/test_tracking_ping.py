"""`registry.ping`: a tracking server asked through MLflow's own client, with the MLflow settings
of the environment it is given, against a small HTTP stub and a dead port on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cml_bot.registry import ping


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


class _Api(http.server.BaseHTTPRequestHandler):
    """/health answers 200; the REST API answers ``reply`` (status, body) and records who asked."""

    reply: tuple[int, bytes] = (200, b"{}")
    seen: list[str | None] = []  # noqa: RUF012 - test-only, one list per server

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, b"OK")
        else:
            self._send(*self.reply)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(self.headers.get("Authorization"))
        self._send(*self.reply)

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def serve() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int, body: bytes) -> tuple[str, type[_Api]]:
        handler = type("Handler", (_Api,), {"reply": (status, body), "seen": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_a_dead_port_does_not_answer_and_the_password_stays_out() -> None:
    answer = ping(f"http://u:s3cret-pw@127.0.0.1:{dead_port()}", env={}, timeout=2)
    assert (answer.status, answer.health, answer.ok) == (None, None, False)
    assert "Connection refused" in answer.reason and "s3cret-pw" not in answer.reason
    assert answer.credentials  # the URI's user:password


def test_the_given_environment_is_used_and_the_process_environment_restored(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = serve(200, b"{}")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "outer")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    before = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    env = {"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p", "OTHER": "x"}
    answer = ping(url, env=env, timeout=5)
    assert (answer.status, answer.health, answer.ok, answer.credentials) == (200, 200, True, True)
    assert handler.seen == ["Basic dTpw"]  # u:p, not the process's own "outer"
    assert {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")} == before
    assert ping(url, env={}, timeout=5).credentials is False
    assert handler.seen == ["Basic dTpw", None]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, b"You are not authenticated."),  # MLflow's auth app: plain text
        (403, b'{"error_code": "PERMISSION_DENIED", "message": "no"}'),  # an MLflow JSON error
        (404, b"<html>not here</html>"),
        (418, b"teapot"),
        (503, b"busy"),  # retried by MLflow's client, but ping allows no retry
    ],
)
def test_an_http_error_is_reported_with_its_status(serve: Any, status: int, body: bytes) -> None:
    url, _ = serve(status, body)
    answer = ping(url, env={}, timeout=5)
    assert (answer.status, answer.health, answer.ok) == (status, 200, False)
    assert answer.reason
