"""CodeDeploy as documented, for in-place deployments to an Auto Scaling group.

- Minimum healthy hosts: HOST_COUNT as given; FLEET_PERCENT of the instances in the deployment,
  rounded up; `CodeDeployDefault.OneAtATime` is MOST_CONCURRENCY 1 (all but one kept),
  `HalfAtATime` FLEET_PERCENT 50, `AllAtOnce` HOST_COUNT 0. A minimum the fleet cannot keep
  while deploying (as many healthy as instances, or more) fails the deployment at once.
- Up to (instances - minimum healthy - failed) instances deploy at a time; a deployment
  succeeds when at least the minimum succeeded. So OneAtATime succeeds when only its last
  instance fails, and stops at any earlier failure.
- Automatic rollback redeploys the last successful revision, as a new deployment, to the
  instances the failed one touched.
- Instances launched into the group meanwhile are held in Pending:Wait by the group's launch
  lifecycle hook until the last successful revision is installed on them; after a deployment,
  instances still on an older revision get an update deployment (outdatedInstancesStrategy
  UPDATE)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from awsfacts.codedeploy import PREDEFINED, MinimumHealthyHosts


class DeploymentConfigError(Exception):
    exit_code = 2


# A custom config on the command line: TYPE:VALUE, e.g. FLEET_PERCENT:50 or HOST_COUNT:2.
CUSTOM_TYPES = {"FLEET_PERCENT": range(0, 100), "HOST_COUNT": range(0, 100_000)}


def resolve(name: str, custom: MinimumHealthyHosts | None) -> MinimumHealthyHosts:
    if custom is not None:
        return custom
    if name in PREDEFINED:
        return PREDEFINED[name]
    kind, sep, raw = name.partition(":")
    if sep and kind in CUSTOM_TYPES:
        allowed = CUSTOM_TYPES[kind]
        if not raw.isdigit() or int(raw) not in allowed:
            raise DeploymentConfigError(
                f"deployment config {name!r}: {kind} takes a whole number from {allowed.start} "
                f"to {allowed.stop - 1}, e.g. {kind}:50"
            )
        return MinimumHealthyHosts(kind, int(raw))
    raise DeploymentConfigError(
        f"deployment config {name!r} is neither predefined nor declared by the stack; use "
        f"one of {', '.join(PREDEFINED)}, a custom minimum as FLEET_PERCENT:N or HOST_COUNT:N, "
        "or declare minimumHealthyHosts"
    )


@dataclass
class Deployment:
    deployment_id: str
    group: str  # deployment group name
    revision: str
    kind: str  # deploy | rollback | launch | update
    instances: list[str]
    minimum_healthy: int
    status: str = "InProgress"  # Succeeded | Failed
    rollback_of: str | None = None
    succeeded: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line per failed instance
    skipped: list[str] = field(default_factory=list)  # left the group meanwhile
    started: float = 0.0  # real seconds since the rehearsal started
    ended: float = 0.0

    @property
    def failed_instances(self) -> list[str]:
        return [line.split(":", 1)[0] for line in self.failures]

    def to_json(self) -> dict:
        return {
            "id": self.deployment_id,
            "status": self.status,
            "kind": self.kind,
            "deploymentGroup": self.group,
            "revision": self.revision,
            "rollbackOf": self.rollback_of,
            "instances": len(self.instances),
            "minimumHealthyHosts": self.minimum_healthy,
            "failures": self.failures,
        }


# What one instance's part of a deployment came to: None (succeeded), "gone", or a failure line.
InstanceRun = Callable[[Deployment, str], str | None]


def run(deployment: Deployment, instance_run: InstanceRun) -> None:
    """Deploy to the instances in order, as many at a time as the minimum allows."""
    n = len(deployment.instances)
    allowed = n - deployment.minimum_healthy
    if n and allowed <= 0:
        deployment.status = "Failed"
        deployment.failures.append(
            f"-: HEALTH_CONSTRAINTS_INVALID: the minimum of {deployment.minimum_healthy} healthy "
            f"instance(s) leaves none of {n} to deploy to"
        )
        return
    queue = list(deployment.instances)
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, allowed)) as pool:
        while queue or running:
            slots = allowed - len(deployment.failures) - len(running)
            while queue and slots > 0:
                iid = queue.pop(0)
                running[pool.submit(instance_run, deployment, iid)] = iid
                slots -= 1
            if not running:
                break  # no slot left: too many failures to go on
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                iid = running.pop(future)
                outcome = future.result()
                if outcome is None:
                    deployment.succeeded.append(iid)
                elif outcome == "gone":
                    deployment.skipped.append(iid)
                else:
                    deployment.failures.append(outcome)
    enough = len(deployment.succeeded) >= deployment.minimum_healthy - len(deployment.skipped)
    deployment.status = "Succeeded" if not queue and enough else "Failed"


class Ids:
    """Deployment ids d-1, d-2, ... in the order deployments are created."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._n += 1
            return f"d-{self._n}"
