"""A blue-green account in the emulator: what the release meets besides the two groups.

- `ReleaseCodeDeploy`: CodeDeploy as the release calls it. CreateDeployment to a colour's
  deployment group runs one of the rehearsal's own deployments (the agent, the bundled hooks as
  subprocesses) on that colour's instances in service at that moment; a deployment group with
  none fails at once, as AWS fails it (NO_INSTANCES). GetDeployment and ListDeployments answer
  from the rehearsal's deployments (the hooks' repairs ask too).
- `Listener`: every ModifyListener / ModifyRule the release makes reaches moto unchanged; the
  weights it leaves, both groups' capacities and in-service counts are kept at that moment.
- `ColourUsers`: the users, split by the listener's weights over the colours' target groups
  and spread over each one's healthy targets, with the load balancer's per-target-group metrics
  in moto's CloudWatch (what the release's 5xx gate reads).
- `BothWorlds`: the two worlds as the agent and the metadata servers see one."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rehearsal.clock import Clock
from rehearsal.codedeploy import Deployment
from rehearsal.session import NEW_REVISION, Session
from rehearsal.users import REQUESTS_PER_SECOND, AccountedRequests
from rehearsal.wire import Reply
from rehearsal.world import World
from release.gates import target_group_dimension

CODEDEPLOY_PREFIX = "CodeDeploy_20141006."
_JSON = {"Content-Type": "application/x-amz-json-1.1"}


def _answer(payload: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(payload).encode(), dict(_JSON))


class ReleaseCodeDeploy:
    def __init__(self, sessions: dict[str, Session]) -> None:
        self.sessions = sessions  # by deployment group name
        self.created: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (group, revision)
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @staticmethod
    def _target(headers: dict[str, str]) -> str:
        return next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")

    def handles(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        return self._target(headers).startswith(CODEDEPLOY_PREFIX)

    def deployments(self) -> list[Deployment]:
        return [
            d for s in {id(s): s for s in self.sessions.values()}.values() for d in s.deployments
        ]

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes, forward) -> Any:
        action = self._target(headers).removeprefix(CODEDEPLOY_PREFIX)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return forward(method, path, headers, body)
        if action == "CreateDeployment" and payload.get("deploymentGroupName") in self.sessions:
            return _answer({"deploymentId": self._create(payload)})
        if action == "GetDeployment":
            info = self._info(str(payload.get("deploymentId", "")))
            return forward(method, path, headers, body) if info is None else _answer(info)
        if action == "ListDeployments" and payload.get("deploymentGroupName") in self.sessions:
            group = payload["deploymentGroupName"]
            with self._lock:
                ids = [i for i, (g, _) in self.created.items() if g == group]
            return _answer({"deployments": ids})
        return forward(method, path, headers, body)

    def _create(self, payload: dict[str, Any]) -> str:
        group = str(payload["deploymentGroupName"])
        session = self.sessions[group]
        deployment_id = session.ids.next()
        instances = session.order()  # the instances in service now, as CodeDeploy takes them
        with self._lock:
            self.created[deployment_id] = (group, dict(payload.get("revision") or {}))
        thread = threading.Thread(
            target=self._deploy,
            args=(session, deployment_id, group, instances),
            name=f"release-{deployment_id}",
            daemon=True,
        )
        self.threads.append(thread)
        thread.start()
        return deployment_id

    @staticmethod
    def _deploy(session: Session, deployment_id: str, group: str, instances: list[str]) -> None:
        if instances:
            session.deploy_and_settle(
                NEW_REVISION, group=group, deployment_id=deployment_id, instances=instances
            )
            return
        failed = Deployment(deployment_id, group, NEW_REVISION, "deploy", [], 0, "Failed")
        failed.failures.append(
            "-: NO_INSTANCES: the deployment failed because no instances were found for the "
            "deployment group (none in service when it was created)"
        )
        failed.started = failed.ended = session.clock.real()
        with session.lock:
            session.deployments.append(failed)
        session.observer.mark(f"{deployment_id} failed (no instances)", "failed")
        session.say(f"deployment {deployment_id} ({group}): Failed, no instance in service")

    def _info(self, deployment_id: str) -> dict[str, Any] | None:
        found = next((d for d in self.deployments() if d.deployment_id == deployment_id), None)
        with self._lock:
            created = self.created.get(deployment_id)
        if found is None and created is None:
            return None
        info: dict[str, Any] = {
            "deploymentId": deployment_id,
            "deploymentGroupName": found.group if found else created[0],  # type: ignore[index]
            "status": found.status if found else "Created",
        }
        if created is not None:
            info["revision"] = created[1]
        return {"deploymentInfo": info}


@dataclass
class Change:
    """One listener change as moto holds it afterwards, with both groups at that moment."""

    at_real: float
    at: float  # emulated seconds
    weights: dict[str, int]
    capacity: dict[str, tuple[int, int, int]]
    in_service: dict[str, int]


@dataclass
class Listener:
    """Watches the release's ModifyListener / ModifyRule calls (see the module docstring)."""

    listener_arn: str
    elbv2: Any  # straight to moto
    worlds: dict[str, World]
    target_groups: dict[str, str]  # colour -> its target group (moto's ARN)
    clock: Clock
    timeline: list[dict[str, Any]]
    initial: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    on_change: Callable[[Change], None] = lambda change: None

    def handles(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        return method == "POST" and (
            b"Action=ModifyListener" in body[:200] or b"Action=ModifyRule" in body[:200]
        )

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes, forward) -> Any:
        reply = forward(method, path, headers, body)
        if reply.status == 200:
            self._record()
        return reply

    def weights(self) -> dict[str, int]:
        listener = self.elbv2.describe_listeners(ListenerArns=[self.listener_arn])["Listeners"][0]
        found = {c: 0 for c in self.worlds}
        for action in listener["DefaultActions"]:
            for entry in action.get("ForwardConfig", {}).get("TargetGroups", []):
                for colour, arn in self.target_groups.items():
                    if entry["TargetGroupArn"] == arn:
                        found[colour] = int(entry.get("Weight", 0))
        return found

    def _record(self) -> None:
        capacity, serving = {}, {}
        for colour, world in self.worlds.items():
            with world.write_lock:  # as the world's own look: never a read older than a write
                group = world.refresh()
            capacity[colour] = (group["MinSize"], group["DesiredCapacity"], group["MaxSize"])
            states = world.presented_lifecycle()
            serving[colour] = len(
                {i for i, s in states.items() if s == "InService"} & world.serving()
            )
        change = Change(self.clock.real(), self.clock.now(), self.weights(), capacity, serving)
        self.changes.append(change)
        self.timeline.append({"event": "change", "atReal": change.at_real, "change": change})
        self.on_change(change)

    def weights_at(self, emulated: float) -> dict[str, int]:
        current = self.initial
        for change in self.changes:
            if change.at <= emulated:
                current = change.weights
        return current

    def weights_at_real(self, real: float) -> dict[str, int]:
        current = self.initial
        for change in self.changes:
            if change.at_real <= real:
                current = change.weights
        return current


class ColourUsers(AccountedRequests):
    """`REQUESTS_PER_SECOND` requests every emulated second, split by the listener's weights;
    each colour's share spread over its target group's healthy targets (none: the load
    balancer's own 503), an instance whose application fails answering 5xx. Published per
    target group (dimensions LoadBalancer and TargetGroup), accounted up to every CloudWatch
    read, each read kept in the timeline (the release's gate checks)."""

    def __init__(
        self,
        listener: Listener,
        clock: Clock,
        epoch: datetime,
        cloudwatch: Any,
        load_balancer_dimension: str,
    ) -> None:
        super().__init__(clock, epoch, cloudwatch, load_balancer_dimension)
        self.listener = listener
        self.requests: dict[str, float] = {c: 0.0 for c in listener.worlds}
        self.target_5xx: dict[str, float] = {c: 0.0 for c in listener.worlds}
        self.elb_5xx = 0.0

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes, forward) -> Any:
        self.flush()
        self.listener.timeline.append({"event": "metrics", "atReal": self.clock.real()})
        return forward(method, path, headers, body)

    def breakpoints(self) -> list[float]:
        return [c.at for c in self.listener.changes]

    def _stretch(self, a: float, b: float) -> list[dict[str, Any]]:
        weights = self.listener.weights_at(a)
        total = sum(weights.values())
        requests = REQUESTS_PER_SECOND * (b - a)
        data = []
        for colour, world in self.listener.worlds.items():
            share = requests * weights.get(colour, 0) / total if total else 0.0
            arn = self.listener.target_groups[colour]
            with world.lock:
                healthy = sorted(world.balancers[arn].serving())
            failing = [i for i in healthy if self.failing.get(i, math.inf) <= a]
            target_5xx = share * len(failing) / len(healthy) if healthy else 0.0
            self.requests[colour] += share
            self.target_5xx[colour] += target_5xx
            self.elb_5xx += share if not healthy else 0.0
            when = self.epoch + timedelta(seconds=a)
            dims = [
                {"Name": "LoadBalancer", "Value": self.dimension},
                {"Name": "TargetGroup", "Value": target_group_dimension(arn)},
            ]
            data += [
                {"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value}
                for name, value in (
                    ("RequestCount", share),
                    ("HTTPCode_Target_5XX_Count", target_5xx),
                )
                if value > 0 or name == "RequestCount"
            ]
        return data


class BothWorlds:
    """The colours' worlds as one, for the agent (which instance is gone, the application on
    it stopped or installed) and the metadata servers (an instance's zone)."""

    def __init__(self, worlds: list[World]) -> None:
        self.worlds = worlds
        self.lock = threading.RLock()

    def _merged(self, attribute: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for world in self.worlds:
            with world.lock:
                found.update(getattr(world, attribute))
        return found

    @property
    def gone(self) -> dict[str, float]:
        return self._merged("gone")

    @property
    def instances(self) -> dict[str, Any]:
        return self._merged("instances")

    def _of(self, iid: str) -> World | None:
        for world in self.worlds:
            with world.lock:
                if iid in world.instances:
                    return world
        return None

    def app_stopped(self, iid: str) -> None:
        world = self._of(iid)
        if world is not None:
            world.app_stopped(iid)

    def app_installed(self, iid: str, revision: str) -> None:
        world = self._of(iid)
        if world is not None:
            world.app_installed(iid, revision)
