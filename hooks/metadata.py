"""Instance identity and region from the instance metadata service, IMDSv2 only.

What it answers is checked: an instance id must look like one (i- and 8 or 17 hex digits), a
region like a region. A proxy answering for 169.254.169.254 (an HTML page with status 200) is
an error, never an empty or odd identity the hooks would then find in no group. Requests never
go through HTTP(S)_PROXY: the metadata service is link-local, only the instance can reach it."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from hooks.errors import EXIT_ENVIRONMENT, HookError, one_line
from hooks.settings import check_instance_id, check_region

if TYPE_CHECKING:
    import urllib.request

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL_SECONDS = "300"
# Longer answers are not metadata values (an instance id is 19 characters, a token 56).
MAX_ANSWER = 4096


def metadata_endpoint() -> str:
    """The endpoint boto3 would use: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the link-local one."""
    return os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def _request(url: str, **options: object) -> urllib.request.Request:
    import urllib.request  # noqa: PLC0415 (imported on first use: see InstanceMetadata)

    return urllib.request.Request(url, **options)  # type: ignore[arg-type]


class InstanceMetadata:
    """Reads metadata paths with a session token (PUT /latest/api/token first)."""

    def __init__(self, endpoint: str | None = None, timeout: float = 2.0) -> None:
        self.endpoint = endpoint or metadata_endpoint()
        self.timeout = timeout
        self._token: str | None = None
        # urllib.request is imported on the first read: a hook given its identity and region
        # (and credentials) never asks the metadata service, and the module costs ~5 ms.
        self._opener: urllib.request.OpenerDirector | None = None

    def _fail(self, url: str, what: str) -> HookError:
        return HookError(
            f"instance metadata (IMDSv2) at {self.endpoint} failed for {url}: {what}; pass "
            "--instance-id and --region when not running on EC2",
            EXIT_ENVIRONMENT,
        )

    def _read(self, request: urllib.request.Request) -> bytes:
        import urllib.error  # noqa: PLC0415 (see __init__)
        import urllib.request  # noqa: PLC0415

        if self._opener is None:
            self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.read(MAX_ANSWER + 1)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise self._fail(request.full_url, one_line(error)) from error

    def _open(self, request: urllib.request.Request) -> str:
        data = self._read(request)
        try:
            text = data.decode("ascii").strip()
        except UnicodeDecodeError:
            text = ""
        if len(data) > MAX_ANSWER or not text or not text.isprintable() or "<" in text:
            shown = one_line(data[:80].decode("utf-8", "replace")) or "an empty answer"
            raise self._fail(
                request.full_url,
                f"the answer is not a metadata value ({shown!r}); is a proxy or another server "
                "answering for the metadata service?",
            )
        return text

    def token(self) -> str:
        if self._token is None:
            request = _request(
                f"{self.endpoint}/latest/api/token",
                method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS},
            )
            self._token = self._open(request)
        return self._token

    def get(self, path: str) -> str:
        request = _request(
            f"{self.endpoint}/latest/meta-data/{path}",
            headers={"X-aws-ec2-metadata-token": self.token()},
        )
        return self._open(request)

    def document(self, path: str) -> dict[str, object]:
        """A JSON object at `path` (the instance role's credentials)."""
        request = _request(
            f"{self.endpoint}/latest/meta-data/{path}",
            headers={"X-aws-ec2-metadata-token": self.token()},
        )
        data = self._read(request)
        try:
            answer = json.loads(data) if len(data) <= MAX_ANSWER else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            shown = one_line(data[:80].decode("utf-8", "replace")) or "an empty answer"
            raise self._fail(request.full_url, f"the answer is not a JSON object ({shown!r})")
        return answer

    def instance_id(self) -> str:
        source = f"the instance id from the metadata service at {self.endpoint}"
        return check_instance_id(self.get("instance-id"), source, EXIT_ENVIRONMENT)

    def region(self) -> str:
        source = f"the region from the metadata service at {self.endpoint}"
        return check_region(self.get("placement/region"), source, EXIT_ENVIRONMENT)
