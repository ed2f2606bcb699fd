"""The AWS calls of one deregister + register cycle, per API family (issue 20 "Also": at most 20
calls a cycle, the state kept safe), counted against moto with the AWS rules moto lacks in front
of it: Standby bounds and tag limits, Standby taking the instance out of the group's target
groups (and ExitStandby putting it back), targets draining for the deregistration delay."""

from __future__ import annotations

import collections

import pytest

from .aws_rules import enforce_aws_rules, enforce_standby_membership, enforce_target_rules
from .conftest import fast_session, record_calls

TIME_SCALE = 100000.0  # the tests' clock (conftest): a 300 s delay is 3 ms here
GOAL = 20  # issue 20: at most 20 AWS calls per cycle


def cycle_calls(make_fleet, hook, min_size: int, desired: int, max_size: int, downtime: bool):
    """Calls per family of one cycle of the group's first instance, and the fleet after it."""
    fleet = make_fleet(min_size, max_size, desired, allow_downtime=downtime)
    session = fast_session(standby_membership=False)
    calls = record_calls(session)  # first: a rule answering a call must not hide it
    refusals: list[str] = []
    enforce_aws_rules(session.events, fleet, refusals)
    draining = enforce_target_rules(session.events, fleet.elbv2, TIME_SCALE)
    enforce_standby_membership(session.events, draining, TIME_SCALE)
    iid = fleet.instance_ids[0]

    hook("deregister", iid, session=session)
    hook("register", iid, session=session)

    assert refusals == []
    assert fleet.capacity() == (min_size, max_size, desired)
    assert fleet.hook_tags() == {}
    assert fleet.lifecycle()[iid] == "InService" and fleet.targets()[iid] == "healthy"
    return collections.Counter(call.split(":")[0] for call in calls), calls


@pytest.mark.parametrize(
    ("shape", "families"),
    [
        # MinSize must be lowered for the instance to enter Standby, and restored after.
        ((1, 1, 2, True), {"autoscaling": 7, "elasticloadbalancing": 5, "ec2": 8}),
        # MinSize leaves room: no bound is written.
        ((2, 3, 6, False), {"autoscaling": 5, "elasticloadbalancing": 5, "ec2": 8}),
    ],
    ids=["1-1-2-lowering-min-size", "2-3-6"],
)
def test_a_cycle_makes_at_most_20_calls(make_fleet, hook, shape, families):
    counted, calls = cycle_calls(make_fleet, hook, *shape)

    assert dict(counted) == families, calls
    assert sum(counted.values()) <= GOAL
