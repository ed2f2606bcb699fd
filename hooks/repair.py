"""Repairs without a deployment running the hooks: `reconcile --asg NAME` (an operator) and
`heal` (the watchdog a deregister arms). Both bring back instances whose deployment is over and
restore the group once nobody is in flight."""

from __future__ import annotations

from hooks import coordination, deployment
from hooks.deployment import DeploymentState
from hooks.errors import HookError
from hooks.group import AutoScalingGroup
from hooks.run import HookRun
from hooks.state import Entry
from hooks.steps import (
    exit_standby,
    find_load_balancers,
    locate_instance,
    register_with_load_balancers,
    wait_until_healthy,
)


def is_live(entry: Entry, run: HookRun, asked: dict[str, DeploymentState]) -> str | None:
    """Why the entry's deployment may still be installing (then reconcile leaves it, unless
    forced), or None when it is over. CodeDeploy decides; the time rule only when it cannot."""
    settings = run.settings
    if settings.force:
        return None
    if settings.deployment_id != "manual" and entry.deployment == settings.deployment_id:
        return f"deployment {entry.deployment} is the one running this reconcile"
    state = asked.get(entry.deployment)
    if state is None:
        state = asked[entry.deployment] = deployment.ask(run.clients.codedeploy, entry.deployment)
        run.log(f"step return_stuck_instances: {state.describe()}")
    if state.over is not None:
        return None if state.over else f"{state.describe()} (still running)"
    age = entry.age()
    if age < settings.stale_after:
        return (
            f"{state.describe()}; time rule: marked {age:.0f}s ago "
            f"(< --stale-after {settings.stale_after:g}s)"
        )
    return None


# Reconcile ------------------------------------------------------------------------------------


def read_named_group(run: HookRun) -> None:
    if not run.settings.asg:
        raise HookError("reconcile needs --asg NAME")
    run.group = AutoScalingGroup(run.clients.autoscaling, run.settings.asg)
    run.read_state()
    coordination.migrate_legacy(run)
    snap = run.snapshot
    assert snap is not None
    stuck = ", ".join(sorted(coordination.in_flight(snap, run.entries))) or "none"
    run.log(f"step read_group: capacity {snap.capacity}, in flight: {stuck}")


def return_stuck_instances(run: HookRun) -> None:
    """Bring back every instance left in flight by a deployment that is no longer running."""
    assert run.group is not None and run.snapshot is not None
    snap = run.snapshot
    asked: dict[str, DeploymentState] = {}
    returning = {}
    for iid, entry in sorted(coordination.members(snap, run.entries).items()):
        live = is_live(entry, run, asked)
        if live is not None:
            run.kept[iid] = live
            run.log(f"step return_stuck_instances: {iid} kept: {live}")
            continue
        returning[iid] = entry
    gone = coordination.leftovers(snap, run.entries)
    lost = coordination.lost_in_standby(snap, run.entries, gone)
    dropped = [i for i in gone if i not in lost]  # the restore gives back and drops the others
    # A MinSize their deregisters lowered goes to the group record before their entries go.
    coordination.hand_off(run, [*returning, *dropped])
    latest = run.snapshot
    for iid, entry in returning.items():
        stuck = HookRun(run.settings, run.clients, iid, run.deadline, group=run.group)
        stuck.snapshot, stuck.lifecycle = latest, snap.lifecycle[iid]
        stuck.entries = {iid: entry}
        find_load_balancers(stuck)
        for step in (register_with_load_balancers, exit_standby, wait_until_healthy):
            step(stuck)
        latest = stuck.snapshot  # re-read if exit_standby raised MaxSize (and the record)
        run.tags.delete([iid])
        run.log(f"step return_stuck_instances: {iid} back in service ({entry.deployment})")
    if dropped:
        run.tags.delete(dropped)
        run.log(f"step return_stuck_instances: dropped entries of {', '.join(dropped)}")
    for iid, state in sorted(snap.lifecycle.items()):
        if state == "Standby" and iid not in run.entries:
            run.log(f"step return_stuck_instances: {iid} is in Standby without a hooks entry, left")


def restore_group(run: HookRun) -> None:
    snap = run.read_state()
    busy = coordination.in_flight(snap, run.entries)
    if busy:
        run.log(f"step restore_group: still in flight: {', '.join(sorted(busy))}")
        return
    gone = coordination.leftovers(snap, run.entries)
    coordination.restore(run, snap, "restore_group", gone)


def check_at_rest(run: HookRun) -> None:
    """Exit 0 only when the group is at rest: nobody in flight and its bounds restored.
    Otherwise say which instance and why (exit 1); --force reports it and exits 0."""
    snap = run.read_state()
    problems = []
    for iid, entry in sorted(coordination.in_flight(snap, run.entries).items()):
        why = run.kept.get(iid) or f"deployment {entry.deployment}, stage {entry.stage}"
        problems.append(f"{iid} left {snap.lifecycle.get(iid, '?')} ({why})")
    record = snap.record
    from_entries = coordination.carried(run.entries)
    if from_entries is not None:
        record = record.merged(from_entries) if record is not None else from_entries
    if record is not None:
        problems.append(
            f"the group stays lowered: MinSize {snap.capacity.min_size}, MaxSize "
            f"{snap.capacity.max_size}, DesiredCapacity {snap.capacity.desired} "
            f"(baseline {record.min_size}/{record.max_size}, restored once nobody is in flight)"
        )
    if not problems:
        run.log(f"step check_at_rest: group at rest, capacity {snap.capacity}")
        return
    message = f"group {snap.name} is not at rest: " + "; ".join(problems)
    if run.settings.force:
        run.log(f"step check_at_rest: {message} (--force: exit 0)")
        return
    raise HookError(
        f"{message}; run reconcile again once that deployment is over, or pass --force if "
        "you know it is"
    )


# Heal -----------------------------------------------------------------------------------------


def wait_out_deployment(run: HookRun) -> None:
    """The deployment must be over now (run_hook slept first): go on only if register never
    finished."""
    locate_instance(run)
    mine = run.mine
    armed = run.settings.heal_since
    if run.group is None or mine is None or abs(mine.since - armed) > 0.001 or mine.closing:
        run.log("step wait_out_deployment: register completed (or a later run took over)")
        run.finished = True
        return
    run.log(
        f"step wait_out_deployment: deployment {mine.deployment} left {run.instance_id} "
        f"{run.lifecycle} for {mine.age():.0f}s: bringing it back"
    )
