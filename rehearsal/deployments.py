"""GetDeployment as CodeDeploy answers it, for the rehearsal's own deployments.

The rehearsal runs its deployments itself (rehearsal/codedeploy.py); moto knows none of them
and would answer DeploymentDoesNotExistException, which the hooks' repairs rightly read as
"over" and would step in mid-deployment. This API answers GetDeployment from the session's
deployments (InProgress until they end, then Succeeded or Failed) and forwards every other
CodeDeploy call, and unknown ids, to moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rehearsal.codedeploy import Deployment
from rehearsal.wire import Reply

TARGET_PREFIX = "CodeDeploy_20141006."


class DeploymentsApi:
    def __init__(self, deployments: Callable[[], list[Deployment]]) -> None:
        self.deployments = deployments
        self.asked = 0

    @staticmethod
    def _target(headers: dict[str, str]) -> str:
        return next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")

    def handles(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        return self._target(headers).startswith(TARGET_PREFIX)

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes, forward) -> Any:
        if self._target(headers) != TARGET_PREFIX + "GetDeployment":
            return forward(method, path, headers, body)
        self.asked += 1
        try:
            wanted = json.loads(body or b"{}").get("deploymentId", "")
        except ValueError:
            return forward(method, path, headers, body)
        found = next((d for d in self.deployments() if d.deployment_id == wanted), None)
        if found is None:
            return forward(method, path, headers, body)
        info = {
            "deploymentId": found.deployment_id,
            "deploymentGroupName": found.group,
            "status": found.status,
        }
        data = json.dumps({"deploymentInfo": info}).encode()
        return Reply(200, data, {"Content-Type": "application/x-amz-json-1.1"})
