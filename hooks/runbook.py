"""The hooks as runbooks: each command is a list of named steps, run in order.

Every step reads what it needs from AWS before it writes, so a run killed between any two steps
and started again converges. Tests stop a run after step k with `stop_after=k`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from hooks.balancers import Balancers, Health, LoadBalancing
from hooks.clients import Clients, connect
from hooks.errors import EXIT_DEADLINE, EXIT_REFUSED, HookError
from hooks.group import (
    BASELINE_TAG,
    AutoScalingGroup,
    Baseline,
    GroupSnapshot,
    InFlight,
    find_group_of,
    restore_target,
)
from hooks.identity import InstanceMetadata
from hooks.settings import Settings
from hooks.statefile import MembershipRecord

ENTER_STANDBY_ATTEMPTS = 3


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017


@dataclass
class HookRun:
    """What one run of a hook knows; steps fill it in as they go."""

    settings: Settings
    clients: Clients
    instance_id: str
    deadline: float
    group: AutoScalingGroup | None = None
    lifecycle: str | None = None
    snapshot: GroupSnapshot | None = None
    balancers: Balancers = field(default_factory=Balancers)
    health: Health | None = None
    finished: bool = False

    @property
    def lb(self) -> LoadBalancing:
        return LoadBalancing(self.clients.elbv2, self.clients.elb, self.instance_id)

    @property
    def record(self) -> MembershipRecord:
        return MembershipRecord(self.settings.state_dir, self.instance_id)

    def log(self, message: str) -> None:
        who = self.instance_id or self.settings.asg or "-"
        print(f"{utc_now()} cutover-hooks {self.settings.command} {who}: {message}", flush=True)

    def wait(self, what: str, check: Callable[[], str | None]) -> None:
        """Poll `check` (None: done; else what is still awaited) until done or the deadline."""
        while True:
            pending = check()
            if pending is None:
                return
            if time.monotonic() + self.settings.poll_interval > self.deadline:
                raise HookError(
                    f"timed out after {self.settings.timeout:g}s waiting for {what} ({pending}); "
                    "raise --timeout (and the appspec timeout above it) or check the instance",
                    EXIT_DEADLINE,
                )
            time.sleep(self.settings.poll_interval)

    def read_group(self) -> GroupSnapshot:
        assert self.group is not None
        self.snapshot = self.group.describe()
        return self.snapshot


Step = Callable[[HookRun], None]


# Shared steps ---------------------------------------------------------------------------------


def locate_instance(run: HookRun) -> None:
    found = find_group_of(run.clients.autoscaling, run.instance_id)
    if found is None:
        run.log("step locate_instance: not in an Auto Scaling group (load balancers only)")
        return
    name, run.lifecycle = found
    run.group = AutoScalingGroup(run.clients.autoscaling, name)
    snap = run.read_group()
    run.log(f"step locate_instance: group {name}, {run.lifecycle}, capacity {snap.capacity}")
    if run.lifecycle.startswith("Pending") and run.instance_id not in snap.in_flight:
        # A scale-out launch: CodeDeploy deploys while the instance waits in Pending:Wait. It is
        # not in service and cannot enter Standby; the group registers it once it is InService
        # (after this deployment), so waiting for that here would wait for ourselves. (Pending
        # with our in-flight tag is an instance on its way back from Standby: carry on.)
        run.log(f"instance is launching ({run.lifecycle}): nothing to do")
        run.finished = True
    elif run.lifecycle.startswith("Terminating") and run.settings.command == "deregister":
        run.log(f"instance is {run.lifecycle}: nothing to take out")
        run.finished = True


def find_load_balancers(run: HookRun) -> None:
    s = run.settings
    if s.target_group_arns or s.load_balancer_names:
        source = "options"
        run.balancers = Balancers(dict.fromkeys(s.target_group_arns), list(s.load_balancer_names))
    elif run.snapshot is not None:
        source = "the group's attachments"
        attached = run.snapshot
        run.balancers = Balancers(
            dict.fromkeys(attached.target_group_arns), list(attached.load_balancer_names)
        )
    else:
        source = "a scan of the region"
        run.balancers = run.lb.discover()
    remembered = run.record.load()
    if remembered is not None:
        run.balancers.merge(remembered)
        source += " and the record of the last deregister"
    run.health = run.lb.health(run.balancers)
    run.log(f"step find_load_balancers: {run.balancers.describe()} (from {source})")


# Deregister -----------------------------------------------------------------------------------


def record_state(run: HookRun) -> None:
    """Persist what restoring needs, before anything changes."""
    run.record.save(run.balancers, run.settings.deployment_id)
    if run.group is None or run.snapshot is None:
        run.log(f"step record_state: load balancers recorded in {run.record.path}")
        return
    snap = run.snapshot
    deployment = run.settings.deployment_id
    tags = {}
    if snap.baseline is None:
        tags[BASELINE_TAG] = Baseline(snap.capacity, deployment).tag_value()
    mine = snap.in_flight.get(run.instance_id)
    if mine is None or mine.deployment != deployment:
        entry = InFlight(run.instance_id, deployment, utc_now())
        tags[entry.tag_key] = entry.tag_value()
    if tags:
        run.group.set_tags(tags)
    baseline = snap.baseline.capacity if snap.baseline else snap.capacity
    run.log(f"step record_state: baseline {baseline}, instance marked in flight ({deployment})")


def check_floor(run: HookRun) -> None:
    """Refuse when taking the instance out leaves too few healthy instances serving."""
    snap = run.read_group() if run.group is not None else None
    floor = run.settings.min_healthy
    if run.settings.allow_downtime or (snap is not None and snap.allows_downtime):
        why = "--allow-downtime" if run.settings.allow_downtime else "the group tag"
        run.log(f"step check_floor: downtime allowed by {why}")
        return
    if run.lifecycle not in (None, "InService"):
        run.log(f"step check_floor: instance already {run.lifecycle}, already out of service")
        return
    if run.balancers and run.health is not None and not run.lb.still_serving(run.health):
        run.log("step check_floor: instance already out of its load balancers")
        return
    excluded: set[str] = set()
    if snap is not None:
        out = {i for i, state in snap.lifecycle.items() if state != "InService"}
        excluded = set(snap.in_flight) | out
        excluded.discard(run.instance_id)
    if run.balancers and run.health is not None:
        counts = run.health.healthy_others(run.instance_id, excluded)
    elif snap is not None:
        others = [i for i in snap.lifecycle if i != run.instance_id and i not in excluded]
        counts = {f"group {snap.name}": len(others)}
    else:
        counts = {}
    short = {where: n for where, n in counts.items() if n < floor}
    if short:
        release(run, "check_floor")
        where = ", ".join(f"{w} has {n}" for w, n in short.items())
        busy = sorted(i for i in excluded if snap is not None and i in snap.in_flight)
        hint = f"; instances still out from a deployment: {', '.join(busy)}" if busy else ""
        raise HookError(
            f"refusing to take {run.instance_id} out: fewer than {floor} other healthy in-service "
            f"instance(s) would remain ({where}){hint}; run `python3 -m hooks reconcile --asg "
            "NAME` for a stuck group, or allow downtime with the group tag "
            "cutover:allow-downtime=true or --allow-downtime",
            EXIT_REFUSED,
        )
    run.log(f"step check_floor: healthy others {counts or 'n/a'} >= {floor}")


def _pending_standby(snap: GroupSnapshot, instance_id: str) -> set[str]:
    """Instances marked in flight that have not entered Standby yet (they will decrement)."""
    marked = set(snap.in_flight) | {instance_id}
    return {i for i in marked if snap.lifecycle.get(i) == "InService"}


def lower_min_size(run: HookRun) -> None:
    """Lower MinSize only as far as the pending EnterStandby calls need (Desired-1 >= Min)."""
    if run.group is None:
        run.log("step lower_min_size: no Auto Scaling group")
        return
    snap = run.snapshot if run.snapshot is not None else run.read_group()
    if snap.lifecycle.get(run.instance_id) != "InService":
        run.log(f"step lower_min_size: instance {snap.lifecycle.get(run.instance_id)}, no change")
        return
    needed = max(0, snap.capacity.desired - len(_pending_standby(snap, run.instance_id)))
    if snap.capacity.min_size > needed:
        run.group.set_min_size(needed)
        run.log(f"step lower_min_size: MinSize {snap.capacity.min_size} -> {needed}")
    else:
        run.log(f"step lower_min_size: MinSize {snap.capacity.min_size} already allows Standby")


def _lifecycle(run: HookRun) -> str:
    found = find_group_of(run.clients.autoscaling, run.instance_id)
    if found is None:
        raise HookError(f"{run.instance_id} left its Auto Scaling group during the hook")
    run.lifecycle = found[1]
    return run.lifecycle


def enter_standby(run: HookRun) -> None:
    if run.group is None:
        run.log("step enter_standby: no Auto Scaling group")
        return
    group = run.group
    # check_floor has just read the group: its lifecycle reading is fresh enough for attempt 1.
    if run.snapshot is not None and run.instance_id in run.snapshot.lifecycle:
        run.lifecycle = run.snapshot.lifecycle[run.instance_id]
    for attempt in range(1, ENTER_STANDBY_ATTEMPTS + 1):
        if attempt > 1 and _lifecycle(run) != "InService":
            break
        if run.lifecycle != "InService":
            break
        try:
            group.enter_standby(run.instance_id)
            break
        except ClientError as error:
            # Another instance of the group may have raised MinSize again between our read and
            # its write; real AWS then refuses (Desired-1 < Min). Read again and lower again.
            if error.response["Error"]["Code"] != "ValidationError" or (
                attempt == ENTER_STANDBY_ATTEMPTS
            ):
                raise
            run.snapshot = None
            lower_min_size(run)
    if run.lifecycle not in ("Standby", "EnteringStandby", "InService"):
        raise HookError(f"{run.instance_id} is {run.lifecycle}: cannot put it in Standby")
    run.wait("Standby", lambda: None if _lifecycle(run) == "Standby" else run.lifecycle)
    run.log(f"step enter_standby: Standby in {group.name} (desired capacity decremented)")


def deregister_from_load_balancers(run: HookRun) -> None:
    run.health = run.lb.health(run.balancers)
    done = run.lb.deregister(run.balancers, run.health)
    run.log(f"step deregister_from_load_balancers: deregistered from {', '.join(done) or 'none'}")


def wait_until_drained(run: HookRun) -> None:
    def drained() -> str | None:
        run.health = run.lb.health(run.balancers)
        waiting = run.lb.still_serving(run.health)
        if waiting:
            # Something registered it again (e.g. the group): deregister again.
            run.lb.deregister(run.balancers, run.health)
            return "still in " + ", ".join(waiting)
        return None

    run.wait("the load balancers to drain", drained)
    run.log(f"step wait_until_drained: out of {run.balancers.describe()}")


# Register -------------------------------------------------------------------------------------


def register_with_load_balancers(run: HookRun) -> None:
    if not run.balancers and run.group is None:
        raise HookError(
            f"no load balancer known for {run.instance_id}: it is in no Auto Scaling group, no "
            f"record in {run.record.path} and no target group lists it; pass "
            "--target-group-arn or --load-balancer-name"
        )
    health = run.health if run.health is not None else run.lb.health(run.balancers)
    done = run.lb.register(run.balancers, health)
    run.log(f"step register_with_load_balancers: registered with {', '.join(done) or 'none'}")


def exit_standby(run: HookRun) -> None:
    if run.group is None:
        run.log("step exit_standby: no Auto Scaling group")
        return
    # The lifecycle read by locate_instance is recent; ExitStandby refuses anything but Standby.
    if run.lifecycle == "EnteringStandby":
        run.wait("Standby", lambda: None if _lifecycle(run) == "Standby" else run.lifecycle)
    if run.lifecycle == "Standby":
        run.group.exit_standby(run.instance_id)
        run.log(f"step exit_standby: ExitStandby in {run.group.name}")
    else:
        run.log(f"step exit_standby: already {run.lifecycle}")


def wait_until_healthy(run: HookRun) -> None:
    def healthy() -> str | None:
        waiting = []
        if run.group is not None and _lifecycle(run) != "InService":
            waiting.append(f"lifecycle {run.lifecycle}")
        run.health = run.lb.health(run.balancers)
        not_healthy = run.lb.not_healthy(run.health)
        if not_healthy:
            run.lb.register(run.balancers, run.health)
            waiting.append("not healthy in " + ", ".join(not_healthy))
        return "; ".join(waiting) or None

    run.wait("InService and healthy targets", healthy)
    run.log(f"step wait_until_healthy: InService, healthy in {run.balancers.describe()}")


def restore_capacity(run: HookRun) -> None:
    release(run, "restore_capacity")


def forget_state(run: HookRun) -> None:
    run.record.forget()
    run.log("step forget_state: done")


def release(run: HookRun, step: str) -> None:
    """Take this instance off the in-flight list; the last one restores the baseline.

    Concurrent callers converge: whoever finds no instance in flight after its own change
    restores (restoring twice writes the same values)."""
    if run.group is None:
        run.log(f"step {step}: no Auto Scaling group to restore")
        return
    snap = run.read_group()
    my_key = InFlight(run.instance_id, "", "").tag_key
    mine = run.instance_id in snap.in_flight
    if set(snap.in_flight) - {run.instance_id}:
        if mine:
            run.group.delete_tags([my_key])
        snap = run.read_group()
        if snap.in_flight:
            others = ", ".join(sorted(snap.in_flight))
            run.log(f"step {step}: still in flight: {others}; the last one restores capacity")
            return
        mine = False
    finish(run, snap, [my_key] if mine else [], step)


def finish(run: HookRun, snap: GroupSnapshot, keys: list[str], step: str) -> None:
    """Restore the baseline capacity, then drop the tags that recorded it."""
    assert run.group is not None
    baseline = snap.baseline
    if baseline is None:
        run.group.delete_tags(keys)
        run.log(f"step {step}: no baseline recorded; capacity stays {snap.capacity}")
        return
    target = restore_target(snap.capacity, baseline.capacity)
    if target != snap.capacity:
        run.group.update_capacity(target)
    run.group.delete_tags(keys + [BASELINE_TAG])
    after = run.read_group()
    if after.in_flight and after.baseline is None:
        # A deployment started while we were finishing: it relies on the baseline, put it back.
        run.group.set_tags({BASELINE_TAG: Baseline(target, baseline.deployment).tag_value()})
    run.log(f"step {step}: capacity {snap.capacity} -> {target} (baseline {baseline.capacity})")


# Reconcile ------------------------------------------------------------------------------------


def _is_live(entry: InFlight, settings: Settings) -> bool:
    if settings.deployment_id != "manual" and entry.deployment == settings.deployment_id:
        return True
    if settings.stale_after <= 0 or not entry.since:
        return False
    try:
        since = datetime.fromisoformat(entry.since)
    except ValueError:
        return False
    age = (datetime.now(timezone.utc) - since).total_seconds()  # noqa: UP017
    return age < settings.stale_after


def read_named_group(run: HookRun) -> None:
    if not run.settings.asg:
        raise HookError("reconcile needs --asg NAME")
    run.group = AutoScalingGroup(run.clients.autoscaling, run.settings.asg)
    snap = run.read_group()
    stuck = ", ".join(sorted(snap.in_flight)) or "none"
    run.log(f"step read_group: capacity {snap.capacity}, in flight: {stuck}")


def return_stuck_instances(run: HookRun) -> None:
    """Bring back every instance left in flight by a deployment that is no longer running."""
    assert run.group is not None and run.snapshot is not None
    snap = run.snapshot
    for iid, entry in sorted(snap.in_flight.items()):
        if _is_live(entry, run.settings):
            run.log(f"step return_stuck_instances: {iid} belongs to a live deployment, kept")
            continue
        if iid in snap.lifecycle:
            stuck = HookRun(run.settings, run.clients, iid, run.deadline, group=run.group)
            stuck.snapshot, stuck.lifecycle = snap, snap.lifecycle[iid]
            find_load_balancers(stuck)
            for step in (register_with_load_balancers, exit_standby, wait_until_healthy):
                step(stuck)
        run.group.delete_tags([entry.tag_key])
        run.log(f"step return_stuck_instances: {iid} back in service ({entry.deployment})")
    for iid, state in sorted(snap.lifecycle.items()):
        if state == "Standby" and iid not in snap.in_flight:
            run.log(f"step return_stuck_instances: {iid} is in Standby without a hooks tag, left")


def restore_group(run: HookRun) -> None:
    snap = run.read_group()
    if snap.in_flight:
        run.log(f"step restore_group: live deployment in flight ({', '.join(snap.in_flight)})")
        return
    finish(run, snap, [], "restore_group")


DEREGISTER_STEPS: tuple[tuple[str, Step], ...] = (
    ("locate_instance", locate_instance),
    ("find_load_balancers", find_load_balancers),
    ("record_state", record_state),
    ("check_floor", check_floor),
    ("lower_min_size", lower_min_size),
    ("enter_standby", enter_standby),
    ("deregister_from_load_balancers", deregister_from_load_balancers),
    ("wait_until_drained", wait_until_drained),
)
REGISTER_STEPS: tuple[tuple[str, Step], ...] = (
    ("locate_instance", locate_instance),
    ("find_load_balancers", find_load_balancers),
    ("register_with_load_balancers", register_with_load_balancers),
    ("exit_standby", exit_standby),
    ("wait_until_healthy", wait_until_healthy),
    ("restore_capacity", restore_capacity),
    ("forget_state", forget_state),
)
RECONCILE_STEPS: tuple[tuple[str, Step], ...] = (
    ("read_group", read_named_group),
    ("return_stuck_instances", return_stuck_instances),
    ("restore_group", restore_group),
)
STEPS = {"deregister": DEREGISTER_STEPS, "register": REGISTER_STEPS, "reconcile": RECONCILE_STEPS}


def resolve_region(settings: Settings, metadata: InstanceMetadata) -> str:
    if settings.region:
        return settings.region
    if settings.command == "reconcile":
        env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if env:
            return env
    return metadata.region()


def start(settings: Settings, session: boto3.Session | None = None) -> HookRun:
    """Resolve identity and region (options first, then IMDSv2) and build the clients."""
    deadline = time.monotonic() + settings.timeout
    metadata = InstanceMetadata(timeout=settings.imds_timeout)
    instance_id = ""
    if settings.command != "reconcile":
        instance_id = settings.instance_id or metadata.instance_id()
    region = resolve_region(settings, metadata)
    return HookRun(settings, connect(settings, region, session), instance_id, deadline)


def run_steps(run: HookRun, steps: Sequence[tuple[str, Step]], stop_after: int | None) -> None:
    for index, (name, step) in enumerate(steps):
        if run.finished or (stop_after is not None and index >= stop_after):
            return
        try:
            step(run)
        except ClientError as error:
            info = error.response.get("Error", {})
            op = getattr(error, "operation_name", "?")
            raise HookError(
                f"step {name}: AWS {op} failed: {info.get('Code')}: {info.get('Message')}"
            ) from error
        except BotoCoreError as error:
            raise HookError(f"step {name}: AWS call failed: {error}") from error


def run_hook(
    settings: Settings, session: boto3.Session | None = None, stop_after: int | None = None
) -> HookRun:
    """Run one command's steps (all, or the first `stop_after`); raise HookError on failure."""
    if settings.command not in STEPS:
        raise HookError(f"unknown command {settings.command!r}")
    try:
        run = start(settings, session)
    except BotoCoreError as error:
        raise HookError(f"cannot set up AWS clients: {error}") from error
    run_steps(run, STEPS[settings.command], stop_after)
    if stop_after is None:
        run.log("done")
    sys.stdout.flush()
    return run
