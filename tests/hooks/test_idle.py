"""The idle colour of a blue/green release (group tag `cutover:idle` = this deployment): the
hooks take nothing out of service; anything else is the ordinary cycle."""

from __future__ import annotations

import os

from hooks.idle import IDLE_TAG

from .conftest import fast_session, record_calls

WRITES = {
    "autoscaling:EnterStandby",
    "autoscaling:ExitStandby",
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:CreateOrUpdateTags",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
    "ec2:CreateTags",
}


def test_idle_colour_instance_deregisters_without_standby_or_drain(make_fleet, hook):
    fleet = make_fleet(2, 4, 2)
    fleet.set_tag(IDLE_TAG, os.environ["DEPLOYMENT_ID"])
    iid = fleet.instance_ids[0]
    session = fast_session()
    calls = record_calls(session)

    run = hook("deregister", iid, session=session)

    assert run.finished
    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 2)  # MinSize not lowered, Desired not decremented
    assert fleet.targets()[iid] == "healthy"  # never deregistered, nothing drained
    assert fleet.hook_tags() == {IDLE_TAG: os.environ["DEPLOYMENT_ID"]}  # no record, no entry
    assert not WRITES & set(calls), calls
    # Reads only: the instance, beside it the region's target groups (the scan, side by side
    # before the group says it is idle), then the group.
    assert sorted(calls) == [
        "autoscaling:DescribeAutoScalingGroups",
        "ec2:DescribeInstances",
        "elasticloadbalancing:DescribeTargetGroups",
    ]

    calls.clear()
    hook("register", iid, session=session)

    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 2)
    assert not WRITES & set(calls), calls
    # The group's name from the deregister's record, then one health read: it is healthy.
    assert calls == [
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    ]
    assert not run.record.path.exists()


def test_untagged_group_takes_the_ordinary_cycle(make_fleet, hook):
    fleet = make_fleet(2, 4, 2)
    iid = fleet.instance_ids[0]

    hook("deregister", iid)

    assert fleet.lifecycle()[iid] == "Standby"
    assert iid not in fleet.targets()
    assert fleet.capacity() == (1, 4, 1)
    hook("register", iid)
    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 2)


def test_a_stale_idle_tag_of_another_deployment_is_ignored(make_fleet, hook):
    fleet = make_fleet(2, 4, 2)
    fleet.set_tag(IDLE_TAG, "d-CRASHED01")  # left by a release that died during its deployment
    iid = fleet.instance_ids[0]

    hook("deregister", iid)

    assert fleet.lifecycle()[iid] == "Standby"
    assert iid not in fleet.targets()
    hook("register", iid)
    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 2)


def test_register_brings_back_an_instance_in_standby_although_the_tag_appeared(make_fleet, hook):
    # The release tags its deployment just after creating it: the first deregister may have read
    # the group before, and put its instance in Standby. Its register must bring it back.
    fleet = make_fleet(2, 4, 2)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    assert fleet.lifecycle()[iid] == "Standby"

    fleet.set_tag(IDLE_TAG, os.environ["DEPLOYMENT_ID"])
    hook("register", iid)

    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.targets()[iid] == "healthy"
    assert fleet.capacity() == (2, 4, 2)
    assert fleet.hook_tags() == {IDLE_TAG: os.environ["DEPLOYMENT_ID"]}


def test_an_idle_instance_registering_while_another_is_still_out_keeps_the_capacity(
    make_fleet, hook
):
    # The first deregister read the group before the release's tag: its instance went into
    # Standby and lowered MinSize (the hooks' record). The second took the idle path. The
    # second registers first: the record sends it down the ordinary path, with no entry of its
    # own and nothing to bring back; the first one's register restores the group.
    fleet = make_fleet(2, 4, 2)
    first, second = fleet.instance_ids[:2]
    hook("deregister", first)
    assert fleet.lifecycle()[first] == "Standby" and fleet.capacity() == (1, 4, 1)
    fleet.set_tag(IDLE_TAG, os.environ["DEPLOYMENT_ID"])
    hook("deregister", second)
    assert fleet.lifecycle()[second] == "InService" and fleet.targets()[second] == "healthy"

    hook("register", second)
    assert fleet.lifecycle() == {first: "Standby", second: "InService"}
    assert fleet.capacity() == (1, 4, 1)  # not restored while the first is still out
    hook("register", first)

    assert fleet.lifecycle() == {first: "InService", second: "InService"}
    assert fleet.capacity() == (2, 4, 2)
    assert fleet.hook_tags() == {IDLE_TAG: os.environ["DEPLOYMENT_ID"]}
