"""A small HTTP proxy on 127.0.0.1 between the hooks and moto: every call passes `Rules`.

The hooks reach it through the standard `AWS_ENDPOINT_URL`, exactly as they would reach AWS.
Each instance signs with its own access key id, so calls and throttles are counted per instance.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from rehearsal import ec2view, wire
from rehearsal.awsrules import CACHED_READS, GROUP_WRITES, Rules
from rehearsal.httpserver import LocalServer
from rehearsal.wire import Call, Reply

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Proxy:
    def __init__(self, upstream: str, rules: Rules) -> None:
        self.rules = rules
        parts = urlsplit(upstream)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        local = threading.local()

        def forward(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = http.client.HTTPConnection(host, port, timeout=60)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
            except (OSError, http.client.HTTPException):
                connection.close()  # a stale keep-alive connection: one fresh attempt
                connection = local.connection = http.client.HTTPConnection(host, port, timeout=60)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
            data = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
            return Reply(response.status, data, kept)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, reply: Reply) -> None:
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the caller is gone (a killed hook)

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                for api in list(rules.apis):
                    if api.handles(self.command, self.path, headers, body):
                        return self._send(
                            api.relay(self.command, self.path, headers, body, forward)
                        )
                query = "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "")
                if self.command != "POST" or not body or not query:
                    return self._send(forward(self.command, self.path, headers, body))
                call = Call.parse(body, self.headers.get("Authorization", ""))
                times = rules.call_times
                began = times.now() if times is not None else 0.0
                clock = time.perf_counter()
                try:
                    if rules.call_delay:
                        time.sleep(rules.call_delay)
                    self._answer(call, headers, body)
                finally:
                    if times is not None:
                        times.add(call.caller, began, times.now())
                    rules.stats.answered(call, time.perf_counter() - clock)

            def _answer(self, call: Call, headers: dict[str, str], body: bytes) -> None:
                # Only the group's own writes queue behind each other (an instance's EC2
                # DeleteTags shares the action's name, not the group).
                group_write = call.service == "autoscaling" and call.action in GROUP_WRITES
                lock = rules.group_lock if group_write else contextlib.nullcontext()
                with lock:
                    answered, amended = rules.before(call)
                    if answered is not None:
                        return self._send(answered)
                    reply = None
                    if call.service == "ec2" and call.action == "DescribeInstances":
                        fetch = ec2view.fetcher(forward, self.path, headers)
                        composed = rules.instances.answer(call, fetch)
                        if composed is not None:
                            reply = Reply(200, composed, {"Content-Type": "text/xml"})
                    cacheable = reply is None and (call.service, call.action) in CACHED_READS
                    if cacheable:
                        cached, generation = rules.cache.get(call)
                        if cached is not None:
                            reply = Reply(200, cached, {"Content-Type": "text/xml"})
                    if reply is None:
                        asked = time.perf_counter()
                        reply = forward("POST", self.path, headers, amended or body)
                        rules.stats.forwarded(call, time.perf_counter() - asked)
                        failed = wire.server_failure(call, reply)
                        if failed is not None:
                            rules.world.counters.refused[f"{call.action}: emulator failure"] += 1
                            reply = failed
                        if cacheable and reply.status == 200:
                            rules.cache.put(call, generation, reply.body)
                    reply.body = rules.after(call, reply.status, reply.body)
                self._send(reply)

            do_POST = _relay  # noqa: N815
            do_GET = _relay  # noqa: N815

        self._server = LocalServer(("127.0.0.1", 0), Handler)
        # shutdown() waits up to one poll interval: 0.5 s by default, per rehearsal.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        address, port_ = self._server.server_address[:2]
        self.url = f"http://{address}:{port_}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
