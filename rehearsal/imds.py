"""An IMDSv2 endpoint for one emulated instance, so the hooks find their identity as on EC2."""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler

from rehearsal.httpserver import LocalServer


class InstanceMetadata:
    """Serves /latest/api/token (PUT) and the instance's meta-data (GET, token required)."""

    def __init__(self, instance_id: str, region: str, zone: str) -> None:
        token = secrets.token_hex(16)
        values = {
            "instance-id": instance_id,
            "placement/region": region,
            "placement/availability-zone": zone,
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: str = "") -> None:
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the caller gave up (a killed or late hook)

            def do_PUT(self) -> None:  # noqa: N802
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                if self.path != "/latest/api/token" or not ttl:
                    return self._reply(400)
                self._reply(200, token)

            def do_GET(self) -> None:  # noqa: N802
                if self.headers.get("X-aws-ec2-metadata-token") != token:
                    return self._reply(401)  # IMDSv1 is off, as the launch template requires
                key = self.path.removeprefix("/latest/meta-data/")
                if key not in values:
                    return self._reply(404)
                self._reply(200, values[key])

        self._server = LocalServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
