"""Instance identity and region from the instance metadata service, IMDSv2 only."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from hooks.errors import HookError

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL_SECONDS = "300"


def metadata_endpoint() -> str:
    """The endpoint boto3 would use: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the link-local one."""
    return os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


class InstanceMetadata:
    """Reads metadata paths with a session token (PUT /latest/api/token first)."""

    def __init__(self, endpoint: str | None = None, timeout: float = 2.0) -> None:
        self.endpoint = endpoint or metadata_endpoint()
        self.timeout = timeout
        self._token: str | None = None

    def _open(self, request: urllib.request.Request) -> str:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.read().decode("utf-8").strip()
        except (urllib.error.URLError, OSError) as error:
            raise HookError(
                f"instance metadata (IMDSv2) at {self.endpoint} failed for {request.full_url}: "
                f"{error}; pass --instance-id and --region when not running on EC2"
            ) from error

    def token(self) -> str:
        if self._token is None:
            request = urllib.request.Request(
                f"{self.endpoint}/latest/api/token",
                method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS},
            )
            self._token = self._open(request)
        return self._token

    def get(self, path: str) -> str:
        request = urllib.request.Request(
            f"{self.endpoint}/latest/meta-data/{path}",
            headers={"X-aws-ec2-metadata-token": self.token()},
        )
        value = self._open(request)
        if not value:
            raise HookError(f"instance metadata returned nothing for {path}")
        return value

    def instance_id(self) -> str:
        return self.get("instance-id")

    def region(self) -> str:
        return self.get("placement/region")
