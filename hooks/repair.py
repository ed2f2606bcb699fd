"""Repairs without a deployment running the hooks: `reconcile --asg NAME` (an operator) and
`heal` (the watchdog a deregister arms). Both bring back instances whose deployment is over and
restore the group once nobody is in flight."""

from __future__ import annotations

from hooks import coordination
from hooks.errors import HookError
from hooks.group import AutoScalingGroup
from hooks.run import HookRun
from hooks.settings import Settings
from hooks.state import Entry
from hooks.steps import (
    exit_standby,
    find_load_balancers,
    locate_instance,
    register_with_load_balancers,
    wait_until_healthy,
)


def is_live(entry: Entry, settings: Settings) -> bool:
    """May the entry's deployment still be installing? Then reconcile leaves it (unless forced)."""
    if settings.force:
        return False
    if settings.deployment_id != "manual" and entry.deployment == settings.deployment_id:
        return True
    return entry.age() < settings.stale_after


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
    for iid, entry in sorted(coordination.members(snap, run.entries).items()):
        if is_live(entry, run.settings):
            age = entry.age()
            run.log(
                f"step return_stuck_instances: {iid} belongs to deployment {entry.deployment} "
                f"marked {age:.0f}s ago (< --stale-after {run.settings.stale_after:g}s): kept; "
                "pass --force once that deployment is over"
            )
            continue
        stuck = HookRun(run.settings, run.clients, iid, run.deadline, group=run.group)
        stuck.snapshot, stuck.lifecycle = snap, snap.lifecycle[iid]
        stuck.entries = {iid: entry}
        find_load_balancers(stuck)
        for step in (register_with_load_balancers, exit_standby, wait_until_healthy):
            step(stuck)
        run.tags.delete([iid])
        run.log(f"step return_stuck_instances: {iid} back in service ({entry.deployment})")
    gone = coordination.leftovers(snap, run.entries)
    lost = coordination.lost_in_standby(snap, run.entries, gone)
    dropped = [i for i in gone if i not in lost]  # the restore gives back and drops the others
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
