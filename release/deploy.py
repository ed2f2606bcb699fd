"""CodeDeploy to the idle colour: one in-place deployment of the revision to the colour's own
deployment group. The group serves no traffic yet, so nothing needs Standby or draining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cutover.exitcodes import BAD_INPUT
from release.access import aws_errors
from release.errors import ReleaseError
from shift.wallclock import Clock

DONE = ("Succeeded", "Failed", "Stopped")
# CodeDeploy's bundle types, by the key's ending.
BUNDLE_TYPES = {".zip": "zip", ".tar": "tar", ".tar.gz": "tgz", ".tgz": "tgz"}


@dataclass(frozen=True)
class Revision:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def bundle_type(self) -> str:
        return next((kind for end, kind in BUNDLE_TYPES.items() if self.key.endswith(end)), "zip")

    def location(self) -> dict[str, Any]:
        return {
            "revisionType": "S3",
            "s3Location": {
                "bucket": self.bucket,
                "key": self.key,
                "bundleType": self.bundle_type,
            },
        }


def parse_revision(text: str) -> Revision:
    """``s3://BUCKET/KEY``; the key ends in .zip, .tar, .tar.gz or .tgz."""
    parts = urlsplit(text)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise ReleaseError(
            f"--revision {text!r}: give the bundle's S3 location, s3://BUCKET/KEY", BAD_INPUT
        )
    if not any(key.endswith(end) for end in BUNDLE_TYPES):
        raise ReleaseError(
            f"--revision {text!r}: the key must end in {', '.join(BUNDLE_TYPES)}", BAD_INPUT
        )
    if len(text) > 256:
        raise ReleaseError(
            f"--revision: at most 256 characters (it is kept in a group tag), got {len(text)}",
            BAD_INPUT,
        )
    return Revision(parts.netloc, key)


class CodeDeploy:
    """Create a deployment and wait for its end, polling GetDeployment."""

    def __init__(self, client: Any, clock: Clock, poll: float = 15.0) -> None:
        self.client, self.clock, self.poll = client, clock, poll

    def create(self, application: str, deployment_group: str, revision: Revision) -> str:
        with aws_errors("codedeploy:CreateDeployment", deployment_group):
            answer = self.client.create_deployment(
                applicationName=application,
                deploymentGroupName=deployment_group,
                revision=revision.location(),
                description=f"cutover release {revision.uri}",
            )
        return str(answer["deploymentId"])

    def status(self, deployment_id: str) -> str:
        with aws_errors("codedeploy:GetDeployment", deployment_id):
            answer = self.client.get_deployment(deploymentId=deployment_id)
        return str(answer["deploymentInfo"]["status"])

    def wait(self, deployment_id: str, timeout: float) -> str:
        """The deployment's final status, or ReleaseError after ``timeout`` seconds."""
        waited = 0.0
        while True:
            status = self.status(deployment_id)
            if status in DONE:
                return status
            if waited >= timeout:
                raise ReleaseError(
                    f"deployment {deployment_id}: still {status} after {timeout:g} s "
                    "(--deploy-timeout); the users were not moved",
                    1,
                )
            self.clock.sleep(self.poll)
            waited += self.poll

    def succeeded_before(self, application: str, deployment_group: str, revision: Revision) -> bool:
        """Whether a deployment of ``revision`` to the group already succeeded (a resumed
        release does not deploy it twice)."""
        with aws_errors("codedeploy:ListDeployments", deployment_group):
            answer = self.client.list_deployments(
                applicationName=application, deploymentGroupName=deployment_group
            )
        for deployment_id in answer.get("deployments", []):
            with aws_errors("codedeploy:GetDeployment", deployment_id):
                info = self.client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            location = info.get("revision", {}).get("s3Location", {})
            same = (location.get("bucket"), location.get("key")) == (revision.bucket, revision.key)
            if same and self.status(deployment_id) == "Succeeded":
                return True
        return False
