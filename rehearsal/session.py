"""One rehearsal in progress: the emulated account, the agent, CodeDeploy and the observer, and
the operations scenarios use (`deploy`, the actors' clients, the group as it is now)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from awsfacts.codedeploy import minimum_healthy
from hooks.group import ALLOW_DOWNTIME_TAG
from rehearsal import codedeploy
from rehearsal.agent import Agent
from rehearsal.changes import Change
from rehearsal.clock import Clock
from rehearsal.codedeploy import Deployment, Ids
from rehearsal.declared import DeclaredFleet, MinimumHealthyHosts
from rehearsal.emulator import Emulated
from rehearsal.observer import Observer

FIRST_REVISION = "r0"  # what the fleet runs before the rehearsal (none for first-deploy)
NEW_REVISION = "r1"


@dataclass
class Session:
    fleet: DeclaredFleet
    clock: Clock
    emulated: Emulated
    agent: Agent
    observer: Observer
    config: MinimumHealthyHosts
    config_name: str
    progress: Any
    last_good: str | None
    deployments: list[Deployment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    launched_during: set[str] = field(default_factory=set)
    ids: Ids = field(default_factory=Ids)
    lock: threading.Lock = field(default_factory=threading.Lock)
    background: list[threading.Thread] = field(default_factory=list)
    traffic: Any = None  # the shift scenarios' estate (rehearsal/shift.py)

    # -- the group ---------------------------------------------------------------------------
    def group(self) -> dict[str, Any]:
        return self.emulated.world.refresh()

    def order(self) -> list[str]:
        """The deployment order: instances out of service first, then by id (as before)."""
        states = self.emulated.world.presented_lifecycle()
        eligible = [i for i, s in states.items() if s in ("InService", "Standby")]
        return sorted(eligible, key=lambda i: (states[i] == "InService", i))

    def client(self, service: str, actor: str) -> Any:
        """A client for an actor (operator, scaling policy), through the AWS rules."""
        return boto3.client(
            service,
            region_name=self.fleet.region,
            endpoint_url=self.emulated.url,
            aws_access_key_id=actor,
            aws_secret_access_key="rehearsal",
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )

    def say(self, line: str) -> None:
        with self.lock:
            self.progress.write(line + "\n")
            self.progress.flush()

    # -- CodeDeploy ----------------------------------------------------------------------------
    def deploy(
        self,
        revision: str,
        kind: str = "deploy",
        instances: list[str] | None = None,
        group: str | None = None,
        rollback_of: str | None = None,
        deployment_id: str | None = None,
    ) -> Deployment:
        targets = self.order() if instances is None else instances
        minimum = minimum_healthy(self.config, len(targets))
        if kind == "launch":
            minimum = 0
        deployment = Deployment(
            deployment_id or self.ids.next(),
            group or self.fleet.deployment_group.name,
            revision,
            kind,
            targets,
            minimum,
            rollback_of=rollback_of,
            started=self.clock.real(),
        )
        with self.lock:
            self.deployments.append(deployment)
        label = f"{deployment.deployment_id} {kind} {revision}"
        if kind != "launch":
            self.observer.mark(f"{label} starts", "rollback" if kind == "rollback" else "info")
            self.say(
                f"deployment {deployment.deployment_id} ({kind}, {revision}, {deployment.group}): "
                f"{len(targets)} instances, minimum healthy {minimum} ({self.config_name})"
            )
        codedeploy.run(deployment, self.agent.instance)
        deployment.ended = self.clock.real()
        if deployment.status == "Succeeded" and kind != "launch":
            self.last_good = revision
        if kind != "launch":
            self.observer.mark(
                f"{deployment.deployment_id} {deployment.status.lower()}",
                "failed" if deployment.status == "Failed" else "info",
            )
            self.say(f"deployment {deployment.deployment_id}: {deployment.status}")
            for failure in deployment.failures:
                self.say(f"  {failure}")
        return deployment

    @property
    def fleet_allows_downtime(self) -> bool:
        return any(
            t["key"] == ALLOW_DOWNTIME_TAG and t["value"] == "true" for t in self.fleet.group.tags
        )

    def deploy_and_settle(
        self,
        revision: str,
        group: str | None = None,
        deployment_id: str | None = None,
        instances: list[str] | None = None,
    ) -> Deployment:
        """A deployment, then what CodeDeploy does after it: the automatic rollback of a failed
        one, and the update of instances launched meanwhile."""
        good_before = self.last_good
        deployment = self.deploy(
            revision, instances=instances, group=group, deployment_id=deployment_id
        )
        if deployment.status == "Failed":
            # CodeDeploy deploys to unhealthy (failed) instances first.
            touched = deployment.failed_instances + deployment.succeeded
            if self.fleet.deployment_group.auto_rollback and good_before and touched:
                self.deploy(
                    good_before,
                    "rollback",
                    touched,
                    group=group,
                    rollback_of=deployment.deployment_id,
                )
            return deployment
        self.update_outdated(revision, group)
        return deployment

    def update_outdated(self, revision: str, group: str | None = None) -> None:
        world = self.emulated.world
        for thread in list(self.background):
            thread.join()
        states = world.presented_lifecycle()
        with world.lock:
            outdated = [
                iid
                for iid in sorted(self.launched_during)
                if states.get(iid) == "InService" and world.instances[iid].revision != revision
            ]
        if outdated:
            self.deploy(revision, "update", outdated, group=group)

    def on_launch(self, iid: str) -> None:
        """CodeDeploy's launch lifecycle hook: install the last good revision, then release."""
        self.launched_during.add(iid)
        world = self.emulated.world
        if self.last_good is None:
            world.complete_launch(iid)
            return

        def launch() -> None:
            self.deploy(self.last_good or FIRST_REVISION, "launch", [iid])
            world.complete_launch(iid)

        thread = threading.Thread(target=launch, name=f"launch-{iid}", daemon=True)
        self.background.append(thread)
        thread.start()
