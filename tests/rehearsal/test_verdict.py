"""The verdict's rules on their own: what the group must end at, and each broken promise."""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import pytest

from rehearsal.agent import HookRun
from rehearsal.changes import Change
from rehearsal.codedeploy import Deployment
from rehearsal.run import starved_hooks
from rehearsal.starvation import CallTimes, HostLag, StarvedHook, starved
from rehearsal.timescale import choose
from rehearsal.verdict import Capacity, Verdict, expected_after
from tests.rehearsal.verdicts import body_of


def test_the_expected_capacity_keeps_what_operators_and_scaling_did():
    before = Capacity(2, 3, 6)
    assert expected_after(before, []) == before
    operator = Change("operator", "Min 3 Max 8", min_size=3, max_size=8, desired_delta=1)
    assert expected_after(before, [operator]) == Capacity(3, 4, 8)
    refused = Change("scaling", "-1", desired_delta=0, refused="below min")
    assert expected_after(before, [refused]) == before


def _verdict(**changes) -> Verdict:
    good = Verdict(
        stack="production",
        scenario="deploy",
        floor=2,
        lowest_in_service=2,
        lowest_at=1.0,
        capacity_before=Capacity(2, 3, 6),
        capacity_after=Capacity(2, 3, 6),
        expected_after=Capacity(2, 3, 6),
        instances_before=3,
        instances_after=3,
        terminated_by_restore=[],
        left_in_standby=[],
        replaced_unhealthy=[],
        deployments=[Deployment("d-1", "g", "r1", "deploy", ["a", "b", "c"], 2, "Succeeded")],
        expected_failures=set(),
        out_of_service=[],
        calls_per_instance={"i-a": 12},
        throttled=0,
        refused={},
        peak_group_tags=5,
        stack_group_tags=4,
        peak_instance_tags=0,
        changes=[],
        seconds=1.0,
        time_scale=30.0,
        hook_runs=6,
    )
    return replace(good, **changes)


def test_a_good_verdict_passes():
    assert _verdict().ok and body_of(_verdict())["verdict"] == "PASS"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lowest_in_service": 1}, "zero downtime violated"),
        ({"terminated_by_restore": ["i-b"]}, "the hooks' capacity writes terminated i-b"),
        ({"left_in_standby": ["i-c"]}, "left in Standby at the end: i-c"),
        ({"capacity_after": Capacity(1, 3, 6)}, "capacity not as expected"),
        ({"instances_after": 4}, "the group has 4 instances at the end, expected 3"),
        ({"replaced_unhealthy": ["i-a"]}, "the group replaced instance(s) unhealthy"),
        (
            {"deployments": [Deployment("d-1", "g", "r1", "deploy", ["a"], 0, "Failed")]},
            "deployment d-1 failed",
        ),
    ],
)
def test_each_broken_promise_fails_with_its_reason(changes, reason):
    verdict = _verdict(**changes)
    assert not verdict.ok
    assert any(r.startswith(reason) for r in verdict.reasons), verdict.reasons
    body = body_of(verdict)
    assert body["verdict"] == "FAIL" and body["reasons"] == verdict.reasons


# A verdict about the hooks, never about the host (issue 20 item 3) --------------------------

STARVED = StarvedHook("i-b", "BeforeInstall", "d-1", 14.0, 9.5, 2.0)
FAILED = [Deployment("d-1", "g", "r1", "deploy", ["a"], 0, "Failed")]


def test_a_hook_starved_into_its_timeout_makes_the_verdict_inconclusive_not_fail():
    verdict = _verdict(deployments=FAILED, left_in_standby=["i-b"], starved=[STARVED])

    assert not verdict.ok and verdict.word == "INCONCLUSIVE"
    body = body_of(verdict)
    assert body["verdict"] == "INCONCLUSIVE"
    assert "9.5 s in the emulator" in body["inconclusive"]["cause"]
    assert "--time-scale 15" in body["inconclusive"]["fix"]  # half the 30 it ran at
    assert body["starvedHooks"] == [
        {
            "instance": "i-b",
            "event": "BeforeInstall",
            "deployment": "d-1",
            "seconds": 14.0,
            "emulatorSeconds": 9.5,
            "hostLagSeconds": 2.0,
        }
    ]
    assert "fix: rehearse again with a lower --time-scale" in verdict.render()


@pytest.mark.parametrize("hard", [{"terminated_by_restore": ["i-b"]}, {"lowest_in_service": 1}])
def test_starvation_never_excuses_what_a_killed_hook_cannot_cause(hard):
    verdict = _verdict(deployments=FAILED, starved=[STARVED], **hard)
    assert verdict.word == "FAIL"
    assert body_of(verdict)["inconclusive"] is None


def test_a_hook_killed_without_starvation_is_not_excused():
    calls, lag = CallTimes(lambda: 0.0), HostLag(lambda: 0.0)
    run = HookRun("d-1", "i-b", "BeforeInstall", "x", -9, 1.0, 12.0, timed_out=True)
    calls.add("rehearsal-i-b", 2.0, 2.5)  # half a second in the emulator
    assert starved(run, "rehearsal-i-b", calls, lag, allowance=5.0) is None

    calls.add("rehearsal-i-b", 3.0, 9.0)  # six more: its calls queued
    found = starved(run, "rehearsal-i-b", calls, lag, allowance=5.0)
    assert found is not None and found.emulator_seconds == pytest.approx(6.5)
    calls.add("rehearsal-i-b", 20.0, 30.0)  # after the run: not its starvation
    assert starved(run, "rehearsal-i-b", calls, lag, 5.0).emulator_seconds == pytest.approx(6.5)


def test_the_host_lag_probe_sees_a_starved_scheduler():
    clock = time.monotonic
    lag = HostLag(clock).start()
    began = clock()
    spin_until = began + 0.4
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1.0)  # this thread keeps the interpreter: the probe wakes late
    try:
        while clock() < spin_until:
            pass
    finally:
        sys.setswitchinterval(switch)
    time.sleep(0.2)
    lag.stop()
    assert lag.seconds(began, clock()) > 0.2


def test_the_time_scale_is_chosen_from_the_fleet_and_the_calibration():
    # 100 instances, HalfAtATime: 50 at once, each cycle 3.5 hook start-ups of CPU (2 hooks, the
    # watchdog, the emulator's answers), on 2 cores, within 1.5 x a 160 s cycle's real time:
    # 0.32 s to start one (an idle moment) gives 8.5; 0.71 s (a loaded one) 3.8.
    quiet = choose(50, 160.0, 30.0, startup=0.32, cores=2)
    assert quiet.scale == 5.7 and "calibrated" in quiet.reason and "2 core(s)" in quiet.reason
    assert choose(50, 160.0, 30.0, startup=0.71, cores=2).scale == 2.5
    assert choose(1, 160.0, 30.0, startup=0.5, cores=2).scale == 30.0  # capped at the default
    assert choose(5000, 160.0, 30.0, startup=2.0, cores=1).scale == 1.0  # never below 1


def test_a_hook_that_ran_out_of_its_own_deadline_while_starved_counts_as_starved():
    """The hooks' deadline is the appspec timeout minus a margin: a hook that gave up at it
    (exit 3) while its calls queued was starved as much as one the agent killed."""
    calls, lag = CallTimes(lambda: 0.0), HostLag(lambda: 0.0)
    calls.add("rehearsal-i-b", 1.0, 9.0)
    gave_up = HookRun("d-1", "i-b", "BeforeInstall", "x", 3, 0.0, 10.0)
    failed = HookRun("d-1", "i-b", "BeforeInstall", "x", 1, 0.0, 10.0)
    assert [h.instance for h in starved_hooks([gave_up, failed], calls, lag)] == ["i-b"]
