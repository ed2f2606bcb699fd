"""Is an entry's deployment over? CodeDeploy says (GetDeployment); the clock only when it cannot.

An entry names the deployment that wrote it (`d`, the agent's DEPLOYMENT_ID). Repairs
(`reconcile`, the watchdog) bring an instance back as soon as that deployment is over:
Succeeded, Failed or Stopped, or unknown to CodeDeploy (DeploymentDoesNotExistException: it
was deleted with its application, or never was one). When CodeDeploy cannot answer (access
denied, unreachable) or the entry names no deployment (`manual`), the time rule decides:
the entry is live until it is --stale-after (CUTOVER_HEAL_AFTER) seconds old."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# CodeDeploy's final deployment statuses (the others: Created, Queued, InProgress, Baking,
# Ready).
ENDED = ("Succeeded", "Failed", "Stopped")
UNKNOWN_CODES = ("DeploymentDoesNotExistException", "InvalidDeploymentIdException")
# Entries written outside CodeDeploy: nothing to ask.
NO_DEPLOYMENT = ("", "manual")


@dataclass(frozen=True)
class DeploymentState:
    """What CodeDeploy said about one deployment. `over` is None when it could not answer."""

    deployment_id: str
    over: bool | None
    status: str  # a CodeDeploy status, "unknown to CodeDeploy", or why there is no answer

    def describe(self) -> str:
        if self.over is None:
            return f"CodeDeploy cannot answer for deployment {self.deployment_id} ({self.status})"
        return f"deployment {self.deployment_id} is {self.status}"


def ask(codedeploy: Any, deployment_id: str) -> DeploymentState:
    """One GetDeployment. Never raises for AWS errors: an unanswered question is a state."""
    if deployment_id in NO_DEPLOYMENT:
        return DeploymentState(deployment_id, None, "the entry names no deployment")
    try:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        if code in UNKNOWN_CODES:
            return DeploymentState(deployment_id, True, "unknown to CodeDeploy")
        return DeploymentState(deployment_id, None, f"GetDeployment: {code}")
    except BotoCoreError as error:
        return DeploymentState(deployment_id, None, f"GetDeployment: {error}")
    status = str(info.get("status", "?"))
    return DeploymentState(deployment_id, status in ENDED, status)
