"""The named scenarios: what happens around a deployment, and what the group should end at.

Each scenario drives the emulated CodeDeploy (`Session.deploy`) and, where it says so, acts as
an operator, the group's scaling, or "someone else" at a precise moment of the deployment (when
the first instance is in Standby, or when it is back). Those actors reach AWS through the same
rules as the hooks (so an operator's MinSize above the current size moves DesiredCapacity, as
AWS does) and record what their change did, which the verdict must then find kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rehearsal import shift
from rehearsal.changes import Change
from rehearsal.session import NEW_REVISION, Session

SCENARIOS: dict[str, str] = {
    "deploy": "one deployment across the fleet",
    "first-deploy": "a fresh fleet with no application installed receives its first revision",
    "fail-instance": "Install fails on the K-th instance (--fail-instance K); automatic rollback",
    "fail-last": "Install fails on the last instance (OneAtATime counts that as a success)",
    "kill-hook": "the first hook that logs --kill-hook-after STEP is killed (SIGKILL)",
    "scale-out-during": "an operator raises MaxSize and DesiredCapacity mid-deployment",
    "operator-change": "an operator raises MinSize and MaxSize mid-deployment",
    "scale-in-during": "the CPU scale-in policy lowers DesiredCapacity mid-deployment",
    "overlap": "two deployment groups deploy to the same Auto Scaling group at once",
    "terminated-in-standby": "someone else terminates an instance while it is in Standby",
    "shift": "the users move from Azure to the fleet: the real ramp 5,25,50,100 with its gates",
    "shift-rollback": "the shift, with the application failing on one instance at step 2",
    "blue-green": "a blue-green stack: the real release moves the users to the idle colour",
    "blue-green-rollback": "the release, with the new colour answering 5xx at its second step",
    "blue-green-scale-out": "the release, with an operator scaling out the live colour meanwhile",
}
# Rehearsed by rehearsal/bluegreen.py on a blue-green stack (deployment.style: blue-green).
BLUE_GREEN_SCENARIOS = ("blue-green", "blue-green-rollback", "blue-green-scale-out")


class Trigger:
    """Runs `action` once, when `event` has finished on the first instance of `deployment`."""

    def __init__(self, deployment_id: str, event: str, action: Callable[[str], None]) -> None:
        self.deployment_id, self.event, self.action = deployment_id, event, action
        self.fired = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, deployment: Any, iid: str, event: str) -> None:
        if deployment.deployment_id != self.deployment_id or event != self.event:
            return
        with self._lock:
            if self.fired.is_set():
                return
            self.fired.set()
        self.action(iid)


# -- the plays ---------------------------------------------------------------------------------
# Each takes the session (rehearsal/session.py) and the options, and returns the floor
# the verdict holds the in-service count to, when it differs from the stack's promise.


def _record(session: Session, change: Change) -> None:
    session.changes.append(change)
    session.observer.mark(change.description, "action")
    session.say(f"  {change.description}")


def capacity_call(
    session: Session,
    actor: str,
    description: str,
    call: Callable[[Any], None],
    min_size: int | None = None,
    max_size: int | None = None,
) -> None:
    before = session.group()["DesiredCapacity"]
    client = session.client("autoscaling", actor)
    refused = None
    try:
        call(client)
    except client.exceptions.ClientError as error:
        refused = error.response["Error"]["Message"]
    after = session.group()["DesiredCapacity"]
    change = Change(actor, description, min_size, max_size, after - before, refused)
    if refused:
        change.min_size = change.max_size = None
        change.description += f" (refused by AWS: {refused})"
    _record(session, change)


def _when(session: Session, event: str, action: Callable[[str], None]) -> None:
    session.agent.listeners.append(Trigger("d-1", event, action))


def play(name: str, session: Session, options: Any, events: dict[str, str]) -> int | None:
    """Run scenario `name`; `events` names the lifecycle events of deregister and register."""
    if session.traffic is not None:
        shift.play(session, options)  # the fleet as deployed receives the users; no deployment
        return None
    group_name = session.fleet.group.name
    baseline = session.group()
    order = session.order()
    standby, back = events["deregister"], events["register"]

    if name in ("fail-instance", "fail-last"):
        k = len(order) if name == "fail-last" else options.fail_instance
        session.agent.faults.fail_install.add(("d-1", order[k - 1]))
        first = session.deploy_and_settle(NEW_REVISION)
        if first.status == "Failed" and not session.fleet.deployment_group.auto_rollback:
            session.deploy_and_settle(NEW_REVISION)  # the operator deploys again
        return None
    if name == "scale-out-during":
        new_max = baseline["MaxSize"] + 4

        def scale_out(iid: str) -> None:
            desired = min(new_max - 2, session.group()["DesiredCapacity"] + 6)
            capacity_call(
                session,
                "operator",
                f"operator: MaxSize {baseline['MaxSize']} -> {new_max}, DesiredCapacity -> "
                f"{desired} while {iid} is in Standby",
                lambda c: c.update_auto_scaling_group(
                    AutoScalingGroupName=group_name, MaxSize=new_max, DesiredCapacity=desired
                ),
                max_size=new_max,
            )

        _when(session, standby, scale_out)
    elif name == "operator-change":
        new_min, new_max = baseline["MinSize"] + 1, baseline["MaxSize"] + 2

        def change(iid: str) -> None:
            capacity_call(
                session,
                "operator",
                f"operator: MinSize {baseline['MinSize']} -> {new_min}, MaxSize "
                f"{baseline['MaxSize']} -> {new_max} while {iid} is in Standby",
                lambda c: c.update_auto_scaling_group(
                    AutoScalingGroupName=group_name, MinSize=new_min, MaxSize=new_max
                ),
                min_size=new_min,
                max_size=new_max,
            )

        _when(session, standby, change)
    elif name == "scale-in-during":

        def scale_in(iid: str) -> None:
            desired = session.group()["DesiredCapacity"]
            capacity_call(
                session,
                "scaling",
                f"scale-in policy: DesiredCapacity {desired} -> {desired - 1} after {iid} is back",
                lambda c: c.set_desired_capacity(
                    AutoScalingGroupName=group_name,
                    DesiredCapacity=desired - 1,
                    HonorCooldown=False,
                ),
            )

        _when(session, back, scale_in)
    elif name == "terminated-in-standby":

        def terminate(iid: str) -> None:
            session.client("ec2", "someone-else").terminate_instances(InstanceIds=[iid])
            session.group()
            _record(session, Change("someone else", f"someone else terminated {iid} in Standby"))

        _when(session, standby, terminate)
    elif name == "kill-hook":
        session.agent.faults.kill_after_step = options.kill_hook_after
    elif name == "overlap":
        other = f"{session.fleet.deployment_group.name}-overlap"
        ids = [session.ids.next(), session.ids.next()]
        threads = [
            threading.Thread(
                target=session.deploy_and_settle, args=(NEW_REVISION, group, did, instances)
            )
            for group, did, instances in ((None, ids[0], order), (other, ids[1], order[::-1]))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Two groups each keeping their own minimum do not add up to the stack's promise: what
        # holds across them is the hooks' own floor (one other healthy instance).
        return 0 if session.fleet_allows_downtime else 1
    session.deploy_and_settle(NEW_REVISION)
    return None
