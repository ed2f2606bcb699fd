"""The interleaving explorer (tests/hooks/explorer.py): hook runs paused at every AWS call, the
schedule chosen by a seed or written down, the invariants checked after each schedule. The
benchmark (bench/bench_hooks.py) runs 500+ random schedules; here a few seeds per scenario and
the two races reported in the field, as written schedules."""

from __future__ import annotations

import pytest

from .explorer import Until, explore, scenarios

SEEDS = range(3)
BY_NAME = {s.name: s for s in scenarios()}


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
        Until("second", "CreateOrUpdateTags"),  # second has read the group, writes next
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
