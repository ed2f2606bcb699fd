"""Whole rehearsals with the real hooks bundled into a revision and run as subprocesses, and the
same rehearsals with a deliberately broken hook: the verdict must FAIL for the right reason."""

from __future__ import annotations

import io
from dataclasses import replace

from rehearsal.run import Options, rehearse
from tests.rehearsal import broken_hooks
from tests.rehearsal.verdicts import body_of

# Fast clocks keep these small: the production drain (120 s) takes 2 s. The hooks' self-healing
# gets 600 emulated seconds (10 real): longer than an instance's own deregister, install and
# register, or it would return the instance while its deployment is still installing.
FAST = {"time_scale": 60.0, "heal_after": 600.0}


def _rehearse(fleet, **options):
    return rehearse(fleet, Options(**{**FAST, **options}), io.StringIO(), io.StringIO(), 400, 120)


def test_staging_deploys_its_one_instance_and_restores_the_group(staging):
    verdict = _rehearse(staging)
    assert verdict.ok, verdict.render()
    assert verdict.floor == 0  # staging accepts downtime: its one instance goes out
    assert verdict.capacity_after == verdict.capacity_before == verdict.expected_after
    assert [d.status for d in verdict.deployments] == ["Succeeded"]
    # The instance was out for the drain, the install and the health checks, in real seconds.
    (only,) = verdict.out_of_service
    assert only.seconds >= only.bound * 0.9
    body = body_of(verdict)
    assert body["verdict"] == "PASS" and body["capacityBefore"] == {
        "min": 1,
        "desired": 1,
        "max": 2,
    }
    assert body["peakTagsOnGroup"] <= 50 - body["stackTagsOnGroup"] + body["stackTagsOnGroup"]


def _slow_health_checks(fleet):
    """The fleet with health checks that take 300 s to pass (5 real s at the tests' scale), so a
    hook that does not wait for them cannot hide behind Python's start-up time."""
    (tg,) = fleet.group.target_groups
    slow = replace(tg, health_check=replace(tg.health_check, healthy_threshold=10, interval=30))
    return replace(fleet, group=replace(fleet.group, target_groups=[slow]))


def test_a_register_that_does_not_wait_for_health_breaks_the_floor(production):
    fleet = _slow_health_checks(production)
    verdict = _rehearse(fleet, patch_revision=broken_hooks.register_without_waiting)
    assert not verdict.ok
    assert verdict.lowest_in_service < verdict.floor == 2
    assert any(r.startswith("zero downtime violated") for r in verdict.reasons), verdict.reasons


def test_a_restore_that_writes_the_baseline_undoes_the_operator(production):
    patch = broken_hooks.restore_baseline_unconditionally(production.group.name)
    verdict = _rehearse(production, scenario="operator-change", patch_revision=patch)
    assert not verdict.ok
    # The operator's MinSize 3 / MaxSize 8 must be kept; Desired moved to 3 (+1) with MinSize.
    assert str(verdict.expected_after) == "3/4/8"
    assert verdict.capacity_after.min == 2 and verdict.capacity_after.max == 6
    assert any(r.startswith("capacity not as expected") for r in verdict.reasons)


def test_without_self_healing_the_last_failed_instance_stays_in_standby(production):
    verdict = _rehearse(
        production, scenario="fail-last", patch_revision=broken_hooks.no_self_healing
    )
    assert not verdict.ok
    (deployment,) = verdict.deployments
    assert deployment.status == "Succeeded"  # OneAtATime forgives the last instance
    assert verdict.left_in_standby == [deployment.instances[-1]]
    assert any(r.startswith("left in Standby") for r in verdict.reasons)
    # No watchdog, hook or deployment is left to bring it back: the rehearsal stops waiting
    # instead of sitting out the self-healing delay plus a drain and a health check (13.5 s).
    waits = FAST["heal_after"] + production.drain_seconds + production.healthy_seconds + 60
    assert verdict.settled_after < waits / FAST["time_scale"] / 2


def test_an_instance_terminated_in_standby_is_replaced_and_the_baseline_comes_back(production):
    """The hooks give back their EnterStandby decrement (Desired + 1); the group launches a
    replacement, which does not raise the floor before it first passes its health checks."""
    verdict = _rehearse(production, scenario="terminated-in-standby")
    assert verdict.ok, verdict.render()
    assert verdict.capacity_after == verdict.capacity_before == verdict.expected_after
    assert verdict.instances_after == verdict.instances_before == 3
    assert verdict.terminated_by_restore == []


# A one-instance group (staging: floor 0) has nobody else to restore it: the instance that
# failed or left is the group's only one, so its replacement, or the leaving instance itself,
# must put the baseline back.


def test_staging_instance_that_fails_install_is_replaced_and_min_size_comes_back(staging):
    """Install fails on the only instance; self-healing returns it, the group replaces it as
    unhealthy, and the replacement's launch hooks restore the MinSize the deregister lowered."""
    verdict = _rehearse(staging, scenario="fail-instance", fail_instance=1)
    assert verdict.ok, verdict.render()
    assert verdict.capacity_after == verdict.capacity_before == verdict.expected_after
    assert verdict.instances_after == 1
    assert verdict.terminated_by_restore == []


def test_staging_only_instance_terminated_in_standby_gives_back_its_decrement(staging):
    """The group's only instance is terminated in Standby: no register or later hook will ever
    run on it, so its watchdog, stopped by the instance's shutdown, gives the decrement back."""
    verdict = _rehearse(staging, scenario="terminated-in-standby")
    assert verdict.ok, verdict.render()
    assert verdict.capacity_after == verdict.capacity_before == verdict.expected_after
    assert verdict.instances_after == 1
    assert verdict.terminated_by_restore == []


# A verdict about the hooks, never about the host (issue 20 item 3) ----------------------------


def test_hooks_starved_by_a_slow_emulator_make_the_verdict_inconclusive(staging):
    """Every AWS call takes a second in the emulator: the deregister cannot finish within its
    appspec timeout. That says nothing about the hooks: INCONCLUSIVE, with the fix."""
    verdict = _rehearse(staging, call_delay=1.0, heal_after=60.0)
    assert verdict.word == "INCONCLUSIVE", verdict.render()
    assert verdict.starved and verdict.starved[0].emulator_seconds >= 5.0
    body = body_of(verdict)
    assert body["verdict"] == "INCONCLUSIVE" and "--time-scale" in body["inconclusive"]["fix"]


def test_a_hook_that_hangs_on_an_idle_machine_fails(staging):
    verdict = _rehearse(staging, patch_revision=broken_hooks.register_that_hangs)
    assert verdict.word == "FAIL", verdict.render()
    assert verdict.starved == []
