"""Deploy cycles of an Auto Scaling group behind a target group: the field's failure cases."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from hooks.errors import EXIT_REFUSED, HookError
from hooks.runbook import DEREGISTER_STEPS, REGISTER_STEPS

from .conftest import fast_session, record_calls


def assert_back_to(fleet, capacity, instances=None):
    assert fleet.capacity() == capacity
    assert fleet.hook_tags() == {}
    lifecycle = fleet.lifecycle()
    assert set(lifecycle.values()) == {"InService"}
    assert sorted(lifecycle) == sorted(instances or fleet.instance_ids)
    assert fleet.live_instances() == set(instances or fleet.instance_ids)
    if fleet.target_group_arn:
        targets = fleet.targets()
        assert {i: targets.get(i) for i in lifecycle} == dict.fromkeys(lifecycle, "healthy")


def test_single_instance_group_cycle_ends_at_original_capacity(make_fleet, hook):
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    (iid,) = fleet.instance_ids

    hook("deregister", iid)

    assert fleet.lifecycle() == {iid: "Standby"}
    assert fleet.capacity() == (0, 2, 0)
    assert iid not in fleet.targets()  # by EnterStandby, as on AWS (the tests' Standby rule)
    # State: one entry on the instance itself, saying the baseline bounds and the lowest
    # MinSize its deregister wrote; nothing on the group (no record: nobody else lowered).
    assert fleet.record() is None
    assert [k for k in fleet.tags() if k.startswith("cutover:")] == ["cutover:allow-downtime"]
    entry = json.loads(fleet.entries()[iid])
    # Stage `sb`: in Standby through the hooks' EnterStandby, its ExitStandby still owed.
    assert entry["d"] == os.environ["DEPLOYMENT_ID"] and entry["b"] == [1, 2] and entry["s"] == "sb"
    assert entry["lo"] == 0

    hook("register", iid)

    assert_back_to(fleet, (1, 2, 1))


def test_failed_deployment_then_successful_one_restores_min_size(make_fleet, hook, monkeypatch):
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    (iid,) = fleet.instance_ids
    hook("deregister", iid)  # the deployment fails after BeforeInstall: no register

    monkeypatch.setenv("DEPLOYMENT_ID", "d-TEST00002")
    hook("deregister", iid)
    assert fleet.capacity() == (0, 2, 0)
    hook("register", iid)

    assert_back_to(fleet, (1, 2, 1))


def test_min_size_lowered_only_as_far_as_needed(make_fleet, hook):
    fleet = make_fleet(2, 5, 4)
    iid = fleet.instance_ids[0]

    hook("deregister", iid)
    assert fleet.capacity() == (2, 5, 3)  # 4-1 >= 2: MinSize untouched

    hook("register", iid)
    assert_back_to(fleet, (2, 5, 4))


def test_deregister_refuses_below_the_healthy_floor(make_fleet, hook):
    fleet = make_fleet(1, 2, 1)
    (iid,) = fleet.instance_ids

    with pytest.raises(HookError) as error:
        hook("deregister", iid)

    assert error.value.exit_code == EXIT_REFUSED
    assert "refusing to take" in str(error.value)
    assert "cutover:allow-downtime" in str(error.value)
    assert_back_to(fleet, (1, 2, 1))  # nothing changed, nothing recorded


def test_floor_counts_instances_already_out(make_fleet, hook):
    fleet = make_fleet(2, 4, 2)
    first, second = fleet.instance_ids
    hook("deregister", first)

    with pytest.raises(HookError, match=f"still out from a deployment: {first}"):
        hook("deregister", second)

    assert fleet.lifecycle()[second] == "InService"
    hook("register", first)
    assert_back_to(fleet, (2, 4, 2))


def test_allow_downtime_option_lifts_the_floor(make_fleet, hook):
    fleet = make_fleet(1, 1, 1)
    (iid,) = fleet.instance_ids

    hook("deregister", iid, allow_downtime=True)
    assert fleet.lifecycle() == {iid: "Standby"}
    hook("register", iid)

    assert_back_to(fleet, (1, 1, 1))


def test_higher_floor_is_configurable(make_fleet, hook):
    fleet = make_fleet(3, 3, 3)
    with pytest.raises(HookError, match="fewer than 3 other"):
        hook("deregister", fleet.instance_ids[0], min_healthy=3)
    assert_back_to(fleet, (3, 3, 3))


@pytest.mark.parametrize("concurrent", [2, 3])
def test_concurrent_instances_end_at_original_capacity(make_fleet, hook, concurrent):
    fleet = make_fleet(4, 6, 4)
    deploying = fleet.instance_ids[:concurrent]
    errors: list[BaseException] = []

    def cycle(iid: str) -> None:
        try:
            hook("deregister", iid)
            hook("register", iid)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=cycle, args=(i,)) for i in deploying]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    assert_back_to(fleet, (4, 6, 4))  # no extra instance launched, none lost


def test_concurrent_deregisters_then_registers_end_exact(make_fleet, hook):
    """HalfAtATime: all of a batch deregister, then all register, interleaved."""
    fleet = make_fleet(4, 8, 6)
    batch = fleet.instance_ids[:3]

    def all_at_once(command: str) -> None:
        threads = [threading.Thread(target=hook, args=(command, i)) for i in batch]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    all_at_once("deregister")
    assert fleet.capacity() == (3, 8, 3)
    assert sorted(i for i, s in fleet.lifecycle().items() if s == "Standby") == sorted(batch)
    all_at_once("register")

    assert_back_to(fleet, (4, 8, 6))


@pytest.mark.parametrize("killed_after", range(1, len(DEREGISTER_STEPS)))
def test_deregister_killed_after_each_step_converges(make_fleet, hook, killed_after):
    fleet = make_fleet(1, 3, 2)
    iid = fleet.instance_ids[0]

    hook("deregister", iid, stop_after=killed_after)
    hook("deregister", iid)
    assert fleet.lifecycle()[iid] == "Standby"
    assert iid not in fleet.targets()
    hook("register", iid)

    assert_back_to(fleet, (1, 3, 2))


@pytest.mark.parametrize("killed_after", range(1, len(REGISTER_STEPS)))
def test_register_killed_after_each_step_converges(make_fleet, hook, killed_after):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)

    hook("register", iid, stop_after=killed_after)
    hook("register", iid)

    assert_back_to(fleet, (2, 3, 2))


def test_running_each_hook_twice_is_harmless(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[1]
    hook("deregister", iid)
    hook("deregister", iid)
    assert fleet.capacity() == (1, 3, 1)
    hook("register", iid)
    hook("register", iid)
    assert_back_to(fleet, (2, 3, 2))


def test_reconcile_repairs_a_stuck_group(make_fleet, hook, monkeypatch):
    fleet = make_fleet(2, 4, 3)
    stuck = fleet.instance_ids[:2]
    hook("deregister", stuck[0])
    hook("deregister", stuck[1])
    assert fleet.capacity() == (1, 4, 1)

    monkeypatch.delenv("DEPLOYMENT_ID")  # an operator, once the deployment is over
    hook("reconcile", asg=fleet.asg, force=True)
    assert_back_to(fleet, (2, 4, 3))

    hook("reconcile", asg=fleet.asg, force=True)  # idempotent
    assert_back_to(fleet, (2, 4, 3))


def test_reconcile_keeps_instances_of_the_live_deployment(make_fleet, hook):
    fleet = make_fleet(2, 4, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)

    # DEPLOYMENT_ID is the same deployment: it is live; the group is not at rest (exit 1).
    with pytest.raises(HookError, match=f"{iid}.*--force") as kept:
        hook("reconcile", asg=fleet.asg)

    assert kept.value.exit_code == 1
    assert fleet.lifecycle()[iid] == "Standby"
    assert fleet.capacity() == (2, 4, 2)
    hook("register", iid)
    assert_back_to(fleet, (2, 4, 3))


def test_reconcile_drops_an_instance_that_left_the_group(make_fleet, hook, monkeypatch):
    fleet = make_fleet(1, 3, 2)
    gone, kept = fleet.instance_ids
    hook("deregister", gone)
    fleet.autoscaling.detach_instances(
        AutoScalingGroupName=fleet.asg, InstanceIds=[gone], ShouldDecrementDesiredCapacity=False
    )
    monkeypatch.delenv("DEPLOYMENT_ID")

    hook("reconcile", asg=fleet.asg)

    # The entry stays on the detached instance (no longer the group's to touch: the instance
    # policy only allows tags on the group's instances) and no longer counts for the group.
    assert {k: v for k, v in fleet.hook_tags().items() if k != gone} == {}
    assert fleet.capacity()[:2] == (1, 3)
    assert fleet.lifecycle()[kept] == "InService"


def test_scaling_during_deployment_is_kept(make_fleet, hook):
    fleet = make_fleet(2, 6, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    # A scale-out policy fires while the instance is out.
    fleet.autoscaling.set_desired_capacity(AutoScalingGroupName=fleet.asg, DesiredCapacity=4)

    hook("register", iid)

    assert fleet.capacity() == (2, 6, 5)
    assert fleet.hook_tags() == {}


def test_reconcile_repairs_a_deregister_killed_after_lowering_min_size(
    make_fleet, hook, monkeypatch
):
    fleet = make_fleet(2, 2, 2)
    iid = fleet.instance_ids[0]
    lowered = [name for name, _ in DEREGISTER_STEPS].index("lower_min_size") + 1
    hook("deregister", iid, stop_after=lowered)
    assert fleet.capacity() == (1, 2, 2)

    monkeypatch.delenv("DEPLOYMENT_ID")
    hook("reconcile", asg=fleet.asg, force=True)

    assert_back_to(fleet, (2, 2, 2))


def test_deployment_starting_while_the_last_one_finishes_keeps_its_baseline(make_fleet, hook):
    """B marks itself in flight just before A, the last one of its deployment, marks itself
    closing: A must see B and leave the restore to B (else MinSize stays lowered)."""
    fleet = make_fleet(3, 3, 3)
    a, b = fleet.instance_ids[:2]
    hook("deregister", a)
    session, interleaved = fast_session(), []

    def b_starts(model, params, **kwargs):
        if model.name == "CreateTags" and not interleaved:  # A's `closing` mark
            interleaved.append(b)
            hook("deregister", b)

    session.events.register("before-call.ec2.CreateTags", b_starts)
    hook("register", a, session=session)
    assert interleaved == [b]
    assert fleet.record() is not None
    # B counted A (still marked, InService) as about to enter Standby too: MinSize 1, not 2.
    assert fleet.capacity() == (1, 3, 2)

    hook("register", b)
    assert_back_to(fleet, (3, 3, 3))


def test_a_deregister_waits_only_for_registers_closing_when_it_announced(
    make_fleet, hook, monkeypatch
):
    """Issue 14: at fleet scale registers finish one after another, so a deregister that waited
    until no entry at all was `closing` found a new one at every poll and ran out of time. A
    register that marks `closing` after the deregister's entry was written reads that entry and
    leaves the restore to others: only the ones seen at the first look may restore."""
    import boto3

    from hooks.state import ENTRY_TAG, Entry

    from .conftest import REGION

    monkeypatch.setenv("CUTOVER_POLL_INTERVAL", "0.05")
    fleet = make_fleet(2, 4, 4)
    a, b, c = fleet.instance_ids[:3]
    ec2 = boto3.client("ec2", region_name=REGION)
    session, reads = fast_session(), []

    def another_register_closes(model, params, **kwargs):
        # The group's entries (a filtered DescribeInstances), not the instance reading itself.
        if model.name != "DescribeInstances" or "Filter.1.Name" not in params["body"]:
            return
        reads.append(1)
        closer = (b, c)[len(reads) % 2]
        entry = Entry(closer, "d-OTHER", time.time(), (2, 4), "closing")
        ec2.create_tags(Resources=[closer], Tags=[{"Key": ENTRY_TAG, "Value": entry.value()}])

    session.events.register("before-call", another_register_closes)
    hook("deregister", a, session=session, timeout=20)

    assert fleet.lifecycle()[a] == "Standby"
    assert len(reads) <= 3


def test_a_register_killed_while_closing_holds_a_deregister_only_until_its_deadline(
    make_fleet, hook, monkeypatch
):
    """Issue 14: a register killed (by its appspec timeout) after marking `closing` held every
    deregister that saw it for 300 s, longer than their own deadlines. Its entry now says when
    the register's deadline is: past it, plus a grace, nobody waits for it."""
    import boto3

    from hooks.state import CLOSING_GRACE_SECONDS, ENTRY_TAG, Entry

    from .conftest import REGION

    monkeypatch.setenv("CUTOVER_POLL_INTERVAL", "0.05")
    fleet = make_fleet(2, 4, 4)
    a, killed = fleet.instance_ids[:2]
    now = time.time()
    # Killed a moment ago: its deadline passes (with the grace) 2 s from now.
    entry = Entry(killed, "d-OTHER", now, (2, 4)).as_closing(until=now - CLOSING_GRACE_SECONDS + 2)
    boto3.client("ec2", region_name=REGION).create_tags(
        Resources=[killed], Tags=[{"Key": ENTRY_TAG, "Value": entry.value()}]
    )

    hook("deregister", a, timeout=20)  # would time out waiting 300 s before

    assert fleet.lifecycle()[a] == "Standby"
    hook("register", a)
    assert fleet.lifecycle()[a] == "InService"
    assert fleet.capacity() == (2, 4, 4)
    assert a not in fleet.entries() and killed not in fleet.entries()  # the stale one cleaned


def test_deregister_reads_the_delay_once_and_sleeps_it_without_looking(make_fleet, hook, capsys):
    """The drain lasts the deregistration delay: one attributes call, then the delay slept (on
    CUTOVER_TIME_SCALE's clock) from the drain's start. AWS reports `draining` until the delay
    expires and nothing observes an earlier end: no look after it (issue 20 item 4)."""
    fleet = make_fleet(2, 3, 2)
    fleet.elbv2.modify_target_group_attributes(
        TargetGroupArn=fleet.target_group_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "45"}],
    )
    session = fast_session()
    calls = record_calls(session)

    hook("deregister", fleet.instance_ids[0], session=session)

    assert calls.count("elasticloadbalancing:DescribeTargetGroupAttributes") == 1
    # The last calls are the two made side by side after EnterStandby: the entry's `sb` and the
    # delay (EnterStandby took the target out of the group's own target group, as on AWS);
    # nothing looks at the target after them.
    last = calls[calls.index("autoscaling:EnterStandby") + 1 :]
    assert sorted(last) == [
        "ec2:CreateTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
    ]
    assert "(deregistration delay 45s: slept" in capsys.readouterr().out


def test_deregister_looks_when_its_deadline_cuts_the_drain_short(
    make_fleet, hook, capsys, monkeypatch
):
    fleet = make_fleet(2, 3, 2)
    fleet.elbv2.modify_target_group_attributes(
        TargetGroupArn=fleet.target_group_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "3000"}],
    )
    monkeypatch.setenv("CUTOVER_TIME_SCALE", "1000")  # 3 s here, beyond the 2 s deadline
    session = fast_session()
    calls = record_calls(session)

    hook("deregister", fleet.instance_ids[0], session=session, timeout=2)

    last = calls[calls.index("autoscaling:EnterStandby") + 1 :]
    assert sorted(last[:2]) == [
        "ec2:CreateTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
    ]
    assert last[2:] == ["elasticloadbalancing:DescribeTargetHealth"]  # moto: drained at once


@pytest.mark.parametrize("discover", ["on", "off"])
def test_register_looks_once_the_target_can_be_healthy(
    make_fleet, hook, capsys, monkeypatch, discover
):
    """healthyThreshold x interval comes from deregister's scan of the target groups (kept in
    the local record) or, without the scan, from one DescribeTargetGroups in register."""
    monkeypatch.setenv("CUTOVER_DISCOVER_TARGET_GROUPS", discover)
    fleet = make_fleet(2, 3, 2)
    fleet.elbv2.modify_target_group(
        TargetGroupArn=fleet.target_group_arn,
        HealthCheckIntervalSeconds=10,
        HealthyThresholdCount=3,
    )
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    session = fast_session()
    calls = record_calls(session)
    capsys.readouterr()
    hook("register", iid, session=session)

    described = calls.count("elasticloadbalancing:DescribeTargetGroups")
    assert described == (0 if discover == "on" else 1)
    assert calls.count("elasticloadbalancing:DescribeTargetHealth") == 1  # moto: healthy at once
    assert "(healthy 30s after registration: slept" in capsys.readouterr().out
