"""The interleaving explorer (tests/hooks/explorer.py): hook runs paused at every AWS call, the
schedule chosen by a seed or written down, the invariants checked after each schedule. The
benchmark (bench/bench_hooks.py) runs 500+ random schedules; here a few seeds per scenario and
the two races reported in the field, as written schedules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REGION
from .explorer import Until, explore, scenarios

SEEDS = range(3)
BY_NAME = {s.name: s for s in scenarios()}
SHUTDOWN = "an instance terminated in Standby settles on shutdown while another deploys"


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.name.replace(" ", "-"))
def test_every_schedule_is_equivalent_to_a_serial_order(aws_env, scenario):
    failed = [str(r) for r in (explore(scenario, seed) for seed in SEEDS) if r.violations]
    assert failed == []


def test_a_deregister_reading_just_before_the_last_restore_keeps_the_baseline(aws_env):
    """Issue 8 item 2: the second deployment reads the group (baseline present) just before the
    first one's last register restores and deletes it; it then lowers MinSize with no baseline
    left, and MinSize stayed lowered with every hook exiting 0."""
    script = [
        Until("first", "UpdateAutoScalingGroup", nth=2),  # first's restore is next
        Until("second", "UpdateAutoScalingGroup"),  # second has read the group, lowers next
    ]
    result = explore(BY_NAME["a deployment starting while another finishes"], 0, script)
    assert result.violations == [], str(result)


def test_a_stale_read_never_launches_an_extra_instance(aws_env):
    """Issue 8 item 3: the finishing register read DesiredCapacity, another instance entered
    Standby, and the register wrote the stale Desired back: one instance too many."""
    script = [
        Until("first", "UpdateAutoScalingGroup", nth=2),  # first's restore is next
        Until("second", "RegisterTargets"),  # second's whole deregister runs in between
    ]
    result = explore(BY_NAME["a deployment starting while another finishes"], 0, script)
    assert result.violations == [], str(result)


def test_a_shutdown_settle_never_gives_the_decrement_back_twice(aws_env):
    """Seed 37 found it: the other instance's register, restoring, gave back the lost
    instance's decrement and dropped its entry between the watchdog's look and its `closing`
    write; the watchdog's write made it owed again and it gave it back a second time (2/6/4).
    The watchdog now waits for restoring registers before it looks."""
    result = explore(BY_NAME[SHUTDOWN], 37)
    assert result.violations == [], str(result)


def test_concurrent_cycles_as_real_processes_end_exact(make_fleet):
    """The same runs as the CodeDeploy agent makes them: one process per hook, two instances of
    two overlapping deployments at once (the field saw 3 of 24 such trials lose the baseline)."""
    fleet = make_fleet(3, 6, 3)
    root = Path(__file__).resolve().parents[2]

    def cycle(iid: str, deployment: str) -> subprocess.Popen:
        script = (
            f"{sys.executable} -m hooks deregister --instance-id {iid} --region {REGION} && "
            f"{sys.executable} -m hooks register --instance-id {iid} --region {REGION}"
        )
        env = {**os.environ, "DEPLOYMENT_ID": deployment}
        return subprocess.Popen(
            ["/bin/sh", "-c", script],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    for _ in range(2):
        runs = [
            cycle(fleet.instance_ids[0], "d-PROC00001"),
            cycle(fleet.instance_ids[1], "d-PROC00002"),
        ]
        errors = [p.communicate(timeout=120)[1] for p in runs]
        assert [p.returncode for p in runs] == [0, 0], errors
        assert fleet.capacity() == (3, 6, 3)
        assert fleet.hook_tags() == {}
        assert set(fleet.lifecycle().values()) == {"InService"}
        assert len(fleet.lifecycle()) == 3
