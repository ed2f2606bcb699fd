"""CodeDeploy as the hooks see it, in front of moto over real HTTP.

moto answers GetDeployment (and DeploymentDoesNotExistException for an id it never created),
but its deployments never move on from `Created`. AWS ends them: Succeeded, Failed or Stopped.
This proxy forwards every CodeDeploy call to moto and, for the deployments a test ended, answers
GetDeployment with the status AWS would give. It can also refuse every call (AccessDenied, an
instance role without codedeploy:GetDeployment) to exercise the hooks' fallback.

The hooks reach it through AWS_ENDPOINT_URL_CODEDEPLOY (botocore's service-specific endpoint),
so the watchdog's own process goes through it too."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class CodeDeployRules:
    """The proxy's state: which deployments ended (and how), whether calls are refused."""

    def __init__(self, upstream: str, region: str) -> None:
        self.upstream = upstream
        self.region = region
        self.ended: dict[str, str] = {}
        self.refuse = False
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self._client = boto3.client(
            "codedeploy",
            region_name=region,
            endpoint_url=upstream,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.application = "cutover-tests"
        self.group = "cutover-tests-group"
        self._client.create_application(applicationName=self.application)
        self._client.create_deployment_group(
            applicationName=self.application,
            deploymentGroupName=self.group,
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        )

    def start_deployment(self) -> str:
        """A deployment in moto, in progress until `end` (moto: status Created)."""
        return self._client.create_deployment(
            applicationName=self.application,
            deploymentGroupName=self.group,
            revision={
                "revisionType": "S3",
                "s3Location": {"bucket": "revisions", "key": "app.zip", "bundleType": "zip"},
            },
        )["deploymentId"]

    def end(self, deployment_id: str, status: str = "Failed") -> None:
        with self.lock:
            self.ended[deployment_id] = status

    def answer(self, target: str, body: bytes) -> tuple[int, bytes] | None:
        """The reply AWS gives where moto's differs (None: moto's answer stands)."""
        action = target.rsplit(".", 1)[-1]
        with self.lock:
            self.calls.append(action)
            refuse = self.refuse
        if refuse:
            error = {
                "__type": "AccessDeniedException",
                "message": f"not authorized to perform: codedeploy:{action}",
            }
            return 400, json.dumps(error).encode()
        return None

    def amend(self, target: str, status: int, data: bytes) -> bytes:
        if status != 200 or not target.endswith(".GetDeployment"):
            return data
        reply = json.loads(data)
        info = reply.get("deploymentInfo", {})
        with self.lock:
            ended = self.ended.get(info.get("deploymentId", ""))
        if ended:
            info["status"] = ended
        return json.dumps(reply).encode()

    def serve(self) -> str:
        rules = self
        host = self.upstream.removeprefix("http://")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                answered = rules.answer(target, body)
                if answered is not None:
                    kind = {"Content-Type": "application/x-amz-json-1.1"}
                    return self._send(*answered, kind)
                conn = http.client.HTTPConnection(host, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn.request("POST", self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = rules.amend(target, reply.status, reply.read())
                kept = {k: v for k, v in reply.getheaders() if k.lower() not in HOP_BY_HOP}
                conn.close()
                self._send(reply.status, data, kept)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.refuse = False
            self.calls.clear()
