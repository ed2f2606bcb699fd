"""The emulator's servers: a client that drops its kept-alive connection prints nothing."""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler

from rehearsal.httpserver import LocalServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive: the server waits for a next request

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/fail":
            raise ValueError("a handler's own bug")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class Observed(LocalServer):
    """Counts connections whose handling ended (after handle_error, if it ran)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.ended = threading.Semaphore(0)

    def shutdown_request(self, request) -> None:  # noqa: ANN001
        super().shutdown_request(request)
        self.ended.release()


def _serve() -> Observed:
    server = Observed()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    return server


def _ask(server, path: str, reset: bool) -> bytes:
    sock = socket.create_connection(server.server_address[:2])
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    answer = b""
    while not answer.endswith(b"ok"):  # the whole answer, or the server closed (a failure)
        chunk = sock.recv(1024)
        if not chunk:
            break
        answer += chunk
    if reset:  # as a process that ends: the kept-alive connection is reset, not closed
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return answer


def _settle(server: Observed, connections: int) -> None:
    """Every connection's handling over (its traceback, if any, printed), then stop."""
    for _ in range(connections):
        assert server.ended.acquire(timeout=5), "a connection's handling never ended"
    server.shutdown()
    server.server_close()


def test_a_client_that_resets_its_kept_alive_connection_prints_no_traceback(capfd):
    server = _serve()
    try:
        assert _ask(server, "/", reset=True).endswith(b"ok")
        assert _ask(server, "/", reset=True).endswith(b"ok")
    finally:
        _settle(server, 2)
    assert "Traceback" not in capfd.readouterr().err


def test_any_other_error_of_a_handler_is_still_printed(capfd):
    server = _serve()
    try:
        _ask(server, "/fail", reset=False)
    finally:
        _settle(server, 1)
    err = capfd.readouterr().err
    assert "ValueError: a handler's own bug" in err
