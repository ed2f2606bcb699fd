"""An AWS rule moto lacks, enforced in front of it: a target a load balancer has just seen is
``initial`` until it passed its health checks (about (healthyThreshold + 1) x interval); moto
reports it ``healthy`` at once. A small HTTP proxy on 127.0.0.1 rewrites DescribeTargetHealth
answers by the test's clock; every other call passes through unchanged."""

from __future__ import annotations

import http.client
import re
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from shift.wallclock import Clock

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
_MEMBER = re.compile(rb"<member>(.*?)</member>", re.S)
_ID = re.compile(rb"<Id>([^<]+)</Id>")
_STATE = re.compile(rb"<State>healthy</State>")


class TargetsTurnHealthy:
    def __init__(self, upstream: str, clock: Clock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds
        self.first_seen: dict[bytes, datetime] = {}
        parts = urlsplit(upstream)
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
                if action == "DescribeTargetHealth" and response.status == 200:
                    data = model.rewrite(data)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _relay  # noqa: N815
            do_GET = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def rewrite(self, body: bytes) -> bytes:
        now = self.clock.now()

        def member(match: re.Match[bytes]) -> bytes:
            found = _ID.search(match.group(1))
            if found is None:
                return match.group(0)
            seen = self.first_seen.setdefault(found.group(1), now)
            if (now - seen).total_seconds() >= self.seconds:
                return match.group(0)
            return _STATE.sub(b"<State>initial</State>", match.group(0))

        return _MEMBER.sub(member, body)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
