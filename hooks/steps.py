"""The named steps of deregister and register (one log line each). Every step reads what it
needs before it writes, so a run killed between any two steps and started again converges."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from hooks import coordination
from hooks.errors import EXIT_REFUSED, HookError
from hooks.group import AutoScalingGroup, GroupSnapshot, find_group_of
from hooks.membership import Balancers
from hooks.run import HookRun
from hooks.state import ENTRY_TAG, GROUP_NAME_TAG, STAGE_OUT, STAGE_STANDBY, Entry
from hooks.statefile import GroupHint

ENTER_STANDBY_ATTEMPTS = 3
EXIT_STANDBY_ATTEMPTS = 3
# Without Launch the group cannot return an instance from Standby (AWS refuses ExitStandby).
BLOCKING_PROCESSES = ("Launch",)
# The hooks do these themselves or never need them; a suspension is only logged.
NOTED_PROCESSES = ("Terminate", "HealthCheck", "ReplaceUnhealthy", "AddToLoadBalancer")


# Shared ---------------------------------------------------------------------------------------


def locate_instance(run: HookRun) -> None:
    """Find the instance's group and lifecycle state in as few calls as the case allows:
    deregister reads the instance (its group tag, VPC and entry) then the group; register takes
    the group from the local record of its deregister; either falls back to
    DescribeAutoScalingInstances when the group does not list the instance."""
    s = run.settings
    name = None if s.command in ("deregister", "heal") else run.record.group()
    hint = GroupHint(s.state_dir, run.instance_id) if s.command == "deregister" else None
    hinted = _HintedRead(run, hint.name() if hint is not None else None)
    if name is None and s.command == "deregister" and _scans(run):
        # The scan of find_load_balancers lists the region's target groups: read them now,
        # beside the instance's own DescribeInstances (neither depends on the other), and the
        # group of the last deployment (a hint, checked below).
        name, run.listed_target_groups, _ = run.together(
            lambda: describe_self(run), run.lb.list_target_groups, hinted
        )
    elif name is None:
        name, _ = run.together(lambda: describe_self(run), hinted)
    lifecycle = None
    if name is not None:
        run.group = AutoScalingGroup(run.clients.autoscaling, name)
        if hint is not None:
            hint.remember(name)
        early = _early_calls(run) if s.command == "register" else []
        if s.command == "register" and _owed_exit(run):
            # Its deregister entered Standby and nothing of this register has run yet: the
            # instance is in Standby (or still entering it, or someone else took it out: AWS
            # then refuses ExitStandby and exit_standby reads the group). No group read here.
            run.together(*early)
            run.lifecycle = "Standby"
            run.log(f"step locate_instance: group {name}, Standby (its deregister's record)")
            return
        if hinted.answered(name, run.instance_id):
            run.snapshot = hinted.snapshot
        else:
            # Register: the registration with the recorded load balancers and the entry's way
            # back to `out` do not depend on the group read: beside it.
            run.together(run.read_group, *early)
        assert run.snapshot is not None
        lifecycle = run.snapshot.lifecycle.get(run.instance_id)
    if lifecycle is None:
        found = find_group_of(run.clients.autoscaling, run.instance_id)
        if found is None:
            run.group = run.snapshot = None
            run.log("step locate_instance: not in an Auto Scaling group (load balancers only)")
            return
        name, lifecycle = found
        run.group = AutoScalingGroup(run.clients.autoscaling, name)
        run.read_group()
    run.lifecycle = lifecycle
    coordination.migrate_legacy(run)
    snap = run.snapshot
    assert snap is not None
    run.log(f"step locate_instance: group {name}, {run.lifecycle}, capacity {snap.capacity}")
    if run.lifecycle.startswith("Pending") and run.instance_id not in run.read_entries():
        # A scale-out launch: CodeDeploy deploys while the instance waits in Pending:Wait. It is
        # not in service and cannot enter Standby; the group registers it once it is InService
        # (after this deployment), so waiting for that here would wait for ourselves. (Pending
        # with our entry is an instance on its way back from Standby: carry on.)
        run.log(f"instance is launching ({run.lifecycle}): nothing to take out or bring back")
        settle_after_launch(run)
        run.finished = True
    elif run.lifecycle.startswith("Terminating") and s.command == "deregister":
        run.log(f"instance is {run.lifecycle}: nothing to take out")
        run.finished = True


def settle_after_launch(run: HookRun) -> None:
    """Restore what a deployment left lowered when nobody else will: a launching instance may
    be the group's replacement for the one instance that deployment took out (a one-instance
    group whose instance failed its install, or was lost). Its register never ran, so the
    record is still on the group; with nobody in flight, this run restores, through the same
    announce-then-look rule as a finishing register. With nothing to restore: no call."""
    snap = run.snapshot
    assert snap is not None
    gone = coordination.leftovers(snap, run.entries)
    if snap.record is None and not gone:
        return
    busy = coordination.in_flight(snap, run.entries, exclude=run.instance_id)
    if busy:
        run.log(f"still in flight: {', '.join(sorted(busy))}; the last one restores capacity")
        return
    run.log("no instance in flight and the hooks' record is on the group: restoring it")
    coordination.finish(run, "settle_after_launch")


def _early_calls(run: HookRun) -> list[Callable[[], None]]:
    """What register can do beside its group read, from its deregister's local record: register
    with the load balancers it names (register_with_load_balancers does the rest, if anything
    is left), and take the entry back from `sb` to `out` (exit_standby's first write: it must
    precede ExitStandby, and errs towards giving back nothing if the instance turns out to be
    still EnteringStandby; on an instance already back, `out` is what the entry says anyway,
    or a killed restore's `closing` that this run's own restore writes again)."""
    calls: list[Callable[[], None]] = []
    value = run.record.entry()
    if value is not None:
        mine = run.entries[run.instance_id] = Entry.parse(run.instance_id, value)
        if mine.stage == STAGE_STANDBY:
            calls.append(lambda: mark_standby(run, STAGE_OUT))
    remembered = run.record.load()
    if remembered:

        def register() -> None:
            done = run.lb.register(remembered, None)
            run.registered_early = (remembered.names(), done)
            if done:
                run.registered_at = time.monotonic()

        calls.insert(0, register)
    return calls


def _owed_exit(run: HookRun) -> bool:
    """Does the local record say this instance's deregister entered Standby and no register
    has brought it back yet (its entry as last written: `sb`)?"""
    mine = run.mine
    return mine is not None and mine.stage == STAGE_STANDBY and run.record.load() is not None


class _HintedRead:
    """The read of the group a GroupHint names, made beside the instance's DescribeInstances;
    a call the hint does not call for (none, or register) is no call."""

    def __init__(self, run: HookRun, name: str | None) -> None:
        self.run, self.name = run, name
        self.snapshot: GroupSnapshot | None = None

    def __call__(self) -> None:
        if self.name is None:
            return
        try:
            self.snapshot = AutoScalingGroup(self.run.clients.autoscaling, self.name).describe()
        except (HookError, ClientError):
            self.snapshot = None  # deleted or renamed since: read the group the tag names

    def answered(self, name: str, instance_id: str) -> bool:
        """The hinted read is the group the instance's tag names, and it lists the instance."""
        snap = self.snapshot
        return snap is not None and snap.name == name and instance_id in snap.lifecycle


def _scans(run: HookRun) -> bool:
    """Will find_load_balancers scan the region's target groups for this deregister?"""
    s = run.settings
    return s.discover_target_groups and not (s.target_group_arns or s.load_balancer_names)


def describe_self(run: HookRun) -> str | None:
    """One DescribeInstances: the group AWS tagged the instance with, its VPC, its entry."""
    answer = run.clients.ec2.describe_instances(InstanceIds=[run.instance_id])
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            run.vpc_id = instance.get("VpcId")
            tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
            if ENTRY_TAG in tags:
                run.entries[run.instance_id] = Entry.parse(run.instance_id, tags[ENTRY_TAG])
            return tags.get(GROUP_NAME_TAG)
    return None


def find_load_balancers(run: HookRun) -> None:
    s = run.settings
    if s.target_group_arns or s.load_balancer_names:
        source = "options"
        run.balancers = Balancers(dict.fromkeys(s.target_group_arns), list(s.load_balancer_names))
    elif run.group is not None and run.snapshot is None:
        # Register, the group not read (see locate_instance): its deregister's record names
        # the group's attachments and every other load balancer it took the instance out of.
        source = "its deregister's record"
        run.balancers = Balancers()
    elif run.snapshot is not None:
        source = "the group's attachments"
        attached = run.snapshot
        run.balancers = Balancers(
            dict.fromkeys(attached.target_group_arns), list(attached.load_balancer_names)
        )
        if s.command == "deregister" and s.discover_target_groups:
            # Target groups someone registered the instance with by hand still route to it.
            extra = run.lb.discover_target_groups(
                run.vpc_id, run.balancers.target_groups, run.listed_target_groups
            )
            run.balancers.merge(extra)  # also the health checks the scan read
            if extra:
                source += f" and {len(extra.target_groups)} more that hold it"
    else:
        source = "a scan of the region"
        run.balancers = run.lb.discover(run.vpc_id, run.listed_target_groups)
    remembered = run.record.load()
    if remembered is not None:
        run.balancers.merge(remembered)
        source += " and the record of the last deregister"
    # Deregister decides from the instance's health (the floor, what to drain): record_state
    # reads it beside its announcement. Register registers everywhere (RegisterTargets is
    # idempotent) and reads health only to wait.
    run.health = None
    run.log(f"step find_load_balancers: {run.balancers.describe()} (from {source})")


# Deregister -----------------------------------------------------------------------------------


def check_processes(run: HookRun) -> None:
    """Refuse before any change when a suspended process would keep the instance out."""
    snap = run.snapshot
    if snap is None:
        run.log("step check_processes: no Auto Scaling group")
        return
    blocking = [p for p in snap.suspended if p in BLOCKING_PROCESSES]
    noted = [p for p in snap.suspended if p not in BLOCKING_PROCESSES]
    if noted:
        run.log(f"step check_processes: suspended {', '.join(noted)} (the hooks do not need them)")
    if blocking and not run.settings.ignore_suspended:
        raise HookError(
            f"refusing to take {run.instance_id} out: group {snap.name} has the "
            f"{', '.join(blocking)} process suspended, so AWS would refuse to bring it back from "
            "Standby (and could not replace a failed instance); resume it "
            f"(aws autoscaling resume-processes --auto-scaling-group-name {snap.name} "
            f"--scaling-processes {' '.join(blocking)}) or pass --ignore-suspended",
            EXIT_REFUSED,
        )
    if blocking:
        run.log(f"step check_processes: {', '.join(blocking)} suspended, ignored as asked")
    elif not noted:
        run.log("step check_processes: no process suspended")


def record_state(run: HookRun) -> None:
    """Persist what restoring needs, before anything changes, and announce this instance."""
    group = run.group.name if run.group is not None else None
    run.record.save(run.balancers, run.settings.deployment_id, group)
    known = run.balancers.to_json()

    def read_health() -> None:
        run.health = run.lb.health(run.balancers)  # also the ports the instance is on

    if run.group is None or run.snapshot is None:
        read_health()
        if run.balancers.to_json() != known:
            run.record.save(run.balancers, run.settings.deployment_id, group)
        run.log(f"step record_state: load balancers recorded in {run.record.path}")
        return

    # The health read does not depend on the entry: beside it. The record names every load
    # balancer before anything changes; the ports health shows follow it, beside the look,
    # before any change to the instance's membership (EnterStandby, deregistration).
    def record_ports() -> None:
        if run.balancers.to_json() != known:
            run.record.save(run.balancers, run.settings.deployment_id, group)

    coordination.announce(run, beside=read_health, while_looking=record_ports)
    mine = run.mine
    assert mine is not None
    if run.settings.heal:
        from hooks import watchdog  # noqa: PLC0415 (its subprocess module: only when armed)

        watchdog.arm(run)
    run.log(
        f"step record_state: entry {mine.value()} on {run.instance_id}"
        + (f", self-healing armed (pid {run.watchdog.pid})" if run.watchdog else "")
    )


def check_floor(run: HookRun) -> None:
    """Refuse when taking the instance out leaves too few healthy instances serving. The group
    is the one record_state's look read, after announcing this instance."""
    snap = run.snapshot if run.group is not None else None
    floor = run.settings.min_healthy
    if run.settings.allow_downtime or (snap is not None and snap.allows_downtime):
        why = "--allow-downtime" if run.settings.allow_downtime else "the group tag"
        run.log(f"step check_floor: downtime allowed by {why}")
        return
    if run.lifecycle not in (None, "InService"):
        run.log(f"step check_floor: instance already {run.lifecycle}, already out of service")
        return
    if run.balancers and run.health is not None and not run.lb.healthy_anywhere(run.health):
        run.log(
            "step check_floor: the instance is healthy in none of its load balancers (a first "
            "deployment, or it is failing): taking it out reduces nothing"
        )
        return
    excluded: set[str] = set()
    if snap is not None:
        out = {i for i, state in snap.lifecycle.items() if state != "InService"}
        excluded = set(coordination.in_flight(snap, run.entries)) | out
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
        busy = sorted(
            i
            for i in excluded
            if snap is not None and i in coordination.in_flight(snap, run.entries)
        )
        if run.group is not None:
            coordination.finish(run, "check_floor")
        where = ", ".join(f"{w} has {n}" for w, n in short.items())
        hint = f"; instances still out from a deployment: {', '.join(busy)}" if busy else ""
        raise HookError(
            f"refusing to take {run.instance_id} out: fewer than {floor} other healthy in-service "
            f"instance(s) would remain ({where}){hint}; run `python3 -m hooks reconcile --asg "
            "NAME` for a stuck group, or allow downtime with the group tag "
            "cutover:allow-downtime=true or --allow-downtime",
            EXIT_REFUSED,
        )
    run.log(f"step check_floor: healthy others {counts or 'n/a'} >= {floor}")


def lower_min_size(run: HookRun) -> None:
    """Lower MinSize only as far as the pending EnterStandby calls need (Desired-1 >= Min)."""
    if run.group is None:
        run.log("step lower_min_size: no Auto Scaling group")
        return
    snap = run.snapshot if run.snapshot is not None else run.read_group()
    if snap.lifecycle.get(run.instance_id) != "InService":
        run.log(f"step lower_min_size: instance {snap.lifecycle.get(run.instance_id)}, no change")
        return
    needed = coordination.min_needed(snap, run.entries, run.instance_id)
    if needed is not None:
        coordination.lower_min(run, needed)
        run.log(f"step lower_min_size: MinSize {snap.capacity.min_size} -> {needed}")
    else:
        run.log(f"step lower_min_size: MinSize {snap.capacity.min_size} already allows Standby")


def _lifecycle(run: HookRun) -> str:
    found = find_group_of(run.clients.autoscaling, run.instance_id)
    if found is None:
        raise HookError(f"{run.instance_id} left its Auto Scaling group during the hook")
    run.lifecycle = found[1]
    return run.lifecycle


def _refused_by_bounds(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ValidationError"


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
            # AWS deregisters an instance entering Standby from the group's load balancers:
            # their drain starts now.
            run.drain_from = time.monotonic()
            run.entered_standby = True
            break
        except ClientError as error:
            # Another run may have raised MinSize between our read and our call; real AWS then
            # refuses (Desired-1 < Min). Read again, lower again.
            if not _refused_by_bounds(error) or attempt == ENTER_STANDBY_ATTEMPTS:
                raise
            run.snapshot = None
            run.read_entries()
            lower_min_size(run)
    if run.lifecycle not in ("Standby", "EnteringStandby", "InService"):
        raise HookError(f"{run.instance_id} is {run.lifecycle}: cannot put it in Standby")
    # At once: the entry's `sb`, the hooks' own deregistration and the read of the delays
    # (none depends on another; each must follow EnterStandby only).
    run.together(
        lambda: mark_standby(run, STAGE_STANDBY),
        lambda: _deregister(run),
        lambda: _read_delays(run),
    )
    # No wait for Standby here: nothing in this hook needs it, and register (or reconcile, the
    # watchdog) waits for it before ExitStandby if the instance is still EnteringStandby.
    run.log(f"step enter_standby: Standby in {group.name} (desired capacity decremented)")


def _deregister(run: HookRun) -> None:
    # find_load_balancers read the health a few calls ago; a re-run reads it again there.
    run.health = run.health if run.health is not None else run.lb.health(run.balancers)
    balancers = run.balancers
    if run.entered_standby and run.snapshot is not None:
        # This run's EnterStandby took the instance out of the group's own target groups and
        # classic ELBs (AWS does, and reports it `draining` there for the delay). Only those
        # the group does not know (found by the scan, or named by options) are left to do.
        attached = run.snapshot
        balancers = balancers.without([*attached.target_group_arns, *attached.load_balancer_names])
    run.deregistered = run.lb.deregister(balancers, run.health)
    if run.deregistered:
        run.drain_from = time.monotonic()  # those drain from now: the later start


def _read_delays(run: HookRun) -> None:
    """The deregistration delays of the load balancers the instance is healthy in."""
    if run.health is not None:
        run.lb.read_delays(run.balancers, run.lb.serving_in(run.health))


def mark_standby(run: HookRun, stage: str) -> None:
    """Say on the entry whether the hooks owe the group an ExitStandby (stage `sb`): written
    after EnterStandby and taken back before ExitStandby, so an instance lost in between is
    given back by the restore, and one lost outside that window never is (README "The
    give-back"). Errs towards giving back nothing rather than one instance too many."""
    mine = run.mine
    if mine is None and stage == STAGE_OUT:
        # Register does not read its entry otherwise: its deregister left it in the local
        # record (the entry is the instance's own: only its hooks write it while the instance
        # is in Standby), else one DescribeInstances.
        value = run.record.entry()
        if value is not None:
            run.entries[run.instance_id] = Entry.parse(run.instance_id, value)
        else:
            describe_self(run)
        mine = run.mine
    if mine is None or mine.closing or mine.stage == stage:
        return
    mine = mine.at_stage(stage)
    run.tags.write(mine)
    run.entries[run.instance_id] = mine
    # The local record follows (`out`: a re-run of register reads the group again).
    run.record.save_entry(mine.value())


def deregister_from_load_balancers(run: HookRun) -> None:
    """Deregister wherever the instance is still registered (enter_standby did it already, beside
    its other calls, for an instance in a group)."""
    if run.deregistered is None:
        run.together(lambda: _deregister(run), lambda: _read_delays(run))
    done = run.deregistered or []
    note = " (EnterStandby took it out of the group's own)" if run.entered_standby else ""
    run.log(
        f"step deregister_from_load_balancers: deregistered from {', '.join(done) or 'none'}{note}"
    )


def wait_until_drained(run: HookRun) -> None:
    """Sleep the deregistration delay of the load balancers the instance was serving in
    (read once: one attributes call per load balancer), then poll until none lists it."""
    serving = run.lb.serving_in(run.health) if run.health is not None else []
    known_start = run.drain_from is not None and bool(serving)
    note = ""
    if known_start:
        assert run.drain_from is not None
        run.lb.read_delays(run.balancers, serving)
        delay = max(run.balancers.timing[key].delay or 0.0 for key in serving)
        # Exactly the delay: nothing looks after it (a look would be spread, see sleep_until),
        # and every extra moment is time out of service.
        slept = run.sleep_until(run.drain_from, delay, spread=False)
        note = f" (deregistration delay {delay:g}s: slept {slept:.1f}s)"
        if run.drained_at(run.drain_from, delay):
            # AWS ends a drain exactly when the delay expires (DescribeTargetHealth says
            # `draining` until then, nothing observes an earlier end): having slept the whole
            # delay since this run's own EnterStandby/deregistration, there is nothing to look at.
            run.log(f"step wait_until_drained: out of {run.balancers.describe()}{note}")
            return

    def drained() -> str | None:
        run.health = run.lb.health(run.balancers)
        waiting = run.lb.still_serving(run.health)
        if waiting:
            # Something registered it again (e.g. the group): deregister again.
            run.lb.deregister(run.balancers, run.health)
            return "still in " + ", ".join(waiting)
        return None

    # After the delay the drain is over: poll at the interval. A drain whose start this run
    # did not see (a re-run) may last up to the whole delay: back off rather than poll every
    # interval of it.
    run.wait("the load balancers to drain", drained, backoff=not known_start)
    run.log(f"step wait_until_drained: out of {run.balancers.describe()}{note}")


# Register -------------------------------------------------------------------------------------


def register_with_load_balancers(run: HookRun) -> None:
    if not run.balancers and run.group is None:
        raise HookError(
            f"no load balancer known for {run.instance_id}: it is in no Auto Scaling group, no "
            f"record in {run.record.path} and no target group lists it; pass "
            "--target-group-arn or --load-balancer-name"
        )
    keys, early = run.registered_early or ([], [])
    done = run.lb.register(run.balancers.without(keys), run.health)
    if done:
        run.registered_at = time.monotonic()
    done = early + done
    run.log(f"step register_with_load_balancers: registered with {', '.join(done) or 'none'}")


def exit_standby(run: HookRun) -> None:
    if run.group is None:
        run.log("step exit_standby: no Auto Scaling group")
        return
    if run.snapshot is None and run.lifecycle == "Standby" and _exit_presumed(run):
        return
    if run.group is None:  # detached meanwhile (found by _exit_presumed)
        return
    # The lifecycle read by locate_instance is recent; ExitStandby refuses anything but Standby.
    if run.lifecycle == "EnteringStandby":
        run.wait("Standby", lambda: None if _lifecycle(run) == "Standby" else run.lifecycle)
    if run.lifecycle != "Standby":
        run.log(f"step exit_standby: already {run.lifecycle}")
        return
    for attempt in range(1, EXIT_STANDBY_ATTEMPTS + 1):
        snap = run.read_group() if attempt > 1 or run.snapshot is None else run.snapshot
        c = snap.capacity
        if c.desired + 1 > c.max_size:
            # AWS refuses ExitStandby when Desired+1 > Max (scaling or an operator filled the
            # group meanwhile). Raise MaxSize by what is missing; the restore lowers it again
            # as far as the group's Desired then allows.
            coordination.raise_max(run, c.desired + 1)
            run.log(f"step exit_standby: MaxSize {c.max_size} -> {c.desired + 1} to come back")
        if attempt == 1:
            mark_standby(run, STAGE_OUT)
        try:
            _exit(run)
            break
        except ClientError as error:
            if not _refused_by_bounds(error) or attempt == EXIT_STANDBY_ATTEMPTS:
                raise


def _exit_presumed(run: HookRun) -> bool:
    """ExitStandby at once, the instance presumed in Standby from the local record (locate_instance
    read no group). AWS refuses it unless the instance is in Standby and Desired+1 <= MaxSize:
    then read the group and leave the rest to exit_standby. True when the instance is back."""
    assert run.group is not None
    mark_standby(run, STAGE_OUT)
    try:
        _exit(run)
        return True
    except ClientError as error:
        if not _refused_by_bounds(error):
            raise
        run.log(f"step exit_standby: refused ({_message(error)}): reading the group")
    run.lifecycle = run.read_group().lifecycle.get(run.instance_id)
    if run.lifecycle is None:
        found = find_group_of(run.clients.autoscaling, run.instance_id)
        if found is None:
            # Detached meanwhile: as locate_instance would have found it.
            run.log("step exit_standby: not in an Auto Scaling group any more")
            run.group = run.snapshot = None
            return False
        run.group = AutoScalingGroup(run.clients.autoscaling, found[0])
        run.read_group()
        run.lifecycle = found[1]
    return False


def _exit(run: HookRun) -> None:
    assert run.group is not None
    run.group.exit_standby(run.instance_id)
    # AWS registers an instance leaving Standby with the group's load balancers.
    if run.registered_at is None:
        run.registered_at = time.monotonic()
    run.log(f"step exit_standby: ExitStandby in {run.group.name}")


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", error))


def wait_until_healthy(run: HookRun) -> None:
    def healthy() -> str | None:
        waiting = []
        # With load balancers, their health is the stricter signal; restore_capacity confirms
        # InService from the group read it makes anyway.
        if run.group is not None and not run.balancers and _lifecycle(run) != "InService":
            waiting.append(f"lifecycle {run.lifecycle}")
        run.health = run.lb.health(run.balancers)
        not_healthy = run.lb.not_healthy(run.health)
        if not_healthy:
            run.lb.register(run.balancers, run.health)
            waiting.append("not healthy in " + ", ".join(not_healthy))
        return "; ".join(waiting) or None

    interval, note = None, ""
    if run.balancers:
        # A target turns healthy healthyThreshold x interval after its registration, and only
        # at a health check: look first then, and then once per check.
        run.lb.read_health_checks(run.balancers)
        timing = [run.balancers.timing.get(key) for key in run.balancers.names()]
        after = max((t.healthy_after or 0.0 for t in timing if t), default=0.0)
        checks = [t.interval for t in timing if t and t.interval]
        if checks:
            interval = max(run.settings.poll_interval, min(checks) / run.settings.time_scale)
        if run.registered_at is not None and after:
            slept = run.sleep_until(run.registered_at, after)
            note = f" (healthy {after:g}s after registration: slept {slept:.1f}s before looking)"
    run.wait("InService and healthy targets", healthy, interval=interval)
    run.log(f"step wait_until_healthy: InService, healthy in {run.balancers.describe()}{note}")


def restore_capacity(run: HookRun) -> None:
    if run.group is None:
        run.log("step restore_capacity: no Auto Scaling group to restore")
        return
    coordination.finish(run, "restore_capacity")
    snap = run.snapshot
    if snap is not None and snap.lifecycle.get(run.instance_id, "InService") != "InService":
        run.wait("InService", lambda: None if _lifecycle(run) == "InService" else run.lifecycle)


def forget_state(run: HookRun) -> None:
    run.record.forget()
    run.log("step forget_state: done")
