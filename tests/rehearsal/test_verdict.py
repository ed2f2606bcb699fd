"""The verdict's rules on their own: what the group must end at, and each broken promise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rehearsal.changes import Change
from rehearsal.codedeploy import Deployment
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
