"""The idle colour of a blue/green release: no user is on it, so no Standby and no drain.

`python -m release` writes the group tag `cutover:idle` = the id of the CodeDeploy deployment
it has just created on the idle colour (the colour with no listener weight), and deletes it
before that colour gets any weight. An instance's deregister and register skip Standby, the
drain and the capacity bookkeeping when, and only when, all of these hold (read from the
DescribeAutoScalingGroups answer locate_instance already has: no extra AWS call):

- the group carries `cutover:idle` and its value is this hook's own `DEPLOYMENT_ID` (set by the
  CodeDeploy agent). A tag left by a crashed release names a deployment that is over, so it
  matches no later deployment: a stale tag never makes a hook skip;
- the instance is InService (one in Standby, or on its way, takes the ordinary path, so an
  instance some earlier run put in Standby is always brought back);
- register only: the group carries no hooks record (`cutover:capacity`), so nothing lowered
  waits for a restore (if one does, the ordinary register restores it).

The register still waits until the instance is healthy in the group's target groups (one
DescribeTargetHealth per target group and poll, nothing slept): a revision that does not come
up fails the deployment at its first instance, as in place, instead of reaching them all.
"""

from __future__ import annotations

from hooks.membership import Balancers
from hooks.run import HookRun
from hooks.state import RECORD_TAG

IDLE_TAG = "cutover:idle"


def idle_deployment(run: HookRun) -> str | None:
    """Why this run may skip Standby (the release's deployment on the idle colour), or None."""
    snap = run.snapshot
    if snap is None or run.settings.command not in ("deregister", "register"):
        return None
    marked = snap.tags.get(IDLE_TAG)
    if marked is None or marked != run.settings.deployment_id:
        return None
    if run.lifecycle != "InService":
        return None
    if run.settings.command == "register" and RECORD_TAG in snap.tags:
        return None
    return f"group {snap.name} is the idle colour of release deployment {marked} ({IDLE_TAG})"


def check_idle_colour(run: HookRun) -> None:
    """Finish the run early on the idle colour of a release (see the module's rule)."""
    if run.finished:
        return
    why = idle_deployment(run)
    if why is None:
        run.log("step check_idle_colour: not the idle colour of this deployment")
        return
    assert run.group is not None
    if run.settings.command == "deregister":
        # The group's name saves the register a DescribeInstances; no balancer was left.
        run.record.save(Balancers(), run.settings.deployment_id, run.group.name)
        run.log(f"step check_idle_colour: {why}: no user on it, no Standby and no drain")
    else:
        snap = run.snapshot
        assert snap is not None
        run.balancers = Balancers(
            dict.fromkeys(snap.target_group_arns), list(snap.load_balancer_names)
        )
        if run.balancers:
            run.wait("healthy targets", lambda: _not_healthy(run))
        run.record.forget()
        run.log(f"step check_idle_colour: {why}: healthy in {run.balancers.describe()}")
    run.finished = True


def _not_healthy(run: HookRun) -> str | None:
    run.health = run.lb.health(run.balancers)
    waiting = run.lb.not_healthy(run.health)
    return "not healthy in " + ", ".join(waiting) if waiting else None
