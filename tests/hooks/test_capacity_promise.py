"""Issue 8: the capacity promise under what real fleets see during a deployment: operators,
scaling, instances leaving, a first deployment, suspended processes, abandoned deployments."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hooks.errors import EXIT_REFUSED, HookError

from .aws_rules import enforce_aws_rules
from .conftest import REGION, fast_session, record_calls


def in_service(fleet) -> set[str]:
    return {i for i, s in fleet.lifecycle().items() if s == "InService"}


# 1. Compare-and-restore ------------------------------------------------------------------------


def test_operator_emergency_scale_out_is_kept_and_nothing_terminated(make_fleet, hook):
    fleet = make_fleet(2, 6, 6)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    fleet.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=fleet.asg, MaxSize=10, DesiredCapacity=8
    )
    running = len(fleet.lifecycle())

    hook("register", iid)

    # Desired 8 set while one instance was in Standby, plus that instance back: 9 of 9 kept.
    assert fleet.capacity() == (2, 10, 9)
    assert len(fleet.lifecycle()) == running == 9
    assert in_service(fleet) == set(fleet.lifecycle())
    assert fleet.hook_tags() == {}


@pytest.mark.parametrize(("operator_min", "expected"), [(1, (1, 8, 3)), (4, (4, 8, 5))])
def test_operator_bounds_set_mid_deployment_are_kept(
    make_fleet, hook, capsys, operator_min, expected
):
    fleet = make_fleet(3, 6, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    assert fleet.capacity() == (2, 6, 2)  # the hooks lowered MinSize 3 -> 2
    fleet.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=fleet.asg, MinSize=operator_min, MaxSize=8
    )

    hook("register", iid)

    # Min 4 above Desired 2 made the group launch up to 4; the Standby instance came back on top.
    assert fleet.capacity() == expected
    out = capsys.readouterr().out
    assert f"MinSize {operator_min} was set by someone else during the deployment" in out
    assert "MaxSize 8 was set by someone else" in out
    assert len(fleet.lifecycle()) == expected[2] and fleet.hook_tags() == {}


def test_lowered_min_size_is_restored(make_fleet, hook):
    fleet = make_fleet(2, 2, 2, allow_downtime=True)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    assert fleet.capacity() == (1, 2, 1)
    hook("register", iid)
    assert fleet.capacity() == (2, 2, 2)


def test_record_left_by_an_aborted_deployment_does_not_revert_later_operator_bounds(
    make_fleet, hook, monkeypatch
):
    fleet = make_fleet(2, 6, 3)
    stuck, other = fleet.instance_ids[:2]
    hook("deregister", stuck)  # the deployment is aborted: no register
    fleet.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=fleet.asg, MinSize=4, MaxSize=10
    )

    monkeypatch.setenv("DEPLOYMENT_ID", "d-TEST00002")
    hook("deregister", other)
    hook("register", other)
    hook("reconcile", asg=fleet.asg, force=True)

    assert fleet.capacity()[:2] == (4, 10)
    assert fleet.hook_tags() == {}
    assert in_service(fleet) == set(fleet.lifecycle())


def test_exit_standby_into_a_full_group_raises_max_size_minimally(make_fleet, hook):
    """AWS refuses ExitStandby when Desired+1 > Max (moto does not: enforced here)."""
    fleet = make_fleet(1, 3, 3)
    iid = fleet.instance_ids[0]
    session, refusals = fast_session(), []
    enforce_aws_rules(session.events, fleet, refusals)
    hook("deregister", iid, session=session)
    fleet.autoscaling.set_desired_capacity(AutoScalingGroupName=fleet.asg, DesiredCapacity=3)

    hook("register", iid, session=session)

    # Register tries ExitStandby without reading the group first (its deregister's record says
    # the instance is in Standby): AWS's refusal makes it read, raise MaxSize, and come back.
    assert refusals == ["ExitStandby 4 > 3"]
    # Max could not go back to 3 without terminating one of the 4 instances now desired.
    assert fleet.capacity() == (1, 4, 4)
    assert in_service(fleet) == set(fleet.lifecycle()) and len(fleet.lifecycle()) == 4
    assert fleet.hook_tags() == {}


def test_register_of_an_instance_someone_else_brought_back_changes_no_capacity(make_fleet, hook):
    """Register tries ExitStandby without reading the group (its deregister's record says
    Standby). AWS refuses it for an instance no longer in Standby (moto would raise Desired
    once more; the tests' Standby rule answers as AWS does) and register goes on from a read."""
    fleet = make_fleet(2, 4, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    fleet.autoscaling.exit_standby(AutoScalingGroupName=fleet.asg, InstanceIds=[iid])  # by hand

    hook("register", iid)

    assert fleet.capacity() == (2, 4, 3)
    assert fleet.hook_tags() == {}
    assert set(fleet.lifecycle().values()) == {"InService"}


def test_register_of_an_instance_detached_in_standby_registers_it_with_its_load_balancers(
    make_fleet, hook
):
    """Refused ExitStandby, and the group no longer lists the instance: it carries on as for an
    instance in no group (its load balancers only), as a register that read the group would."""
    fleet = make_fleet(2, 4, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    fleet.autoscaling.detach_instances(
        AutoScalingGroupName=fleet.asg, InstanceIds=[iid], ShouldDecrementDesiredCapacity=True
    )

    run = hook("register", iid)

    assert run.group is None
    assert fleet.targets()[iid] == "healthy"
    assert iid not in fleet.lifecycle()


# 4. Entries of instances that left the group ---------------------------------------------------


def test_entry_of_an_instance_terminated_in_standby_does_not_block_later_restores(
    make_fleet, hook, monkeypatch
):
    fleet = make_fleet(2, 4, 3)
    lost, a = fleet.instance_ids[:2]
    hook("deregister", lost)
    fleet.autoscaling.terminate_instance_in_auto_scaling_group(
        InstanceId=lost, ShouldDecrementDesiredCapacity=False
    )
    monkeypatch.setenv("DEPLOYMENT_ID", "d-TEST00002")

    hook("deregister", a)
    hook("register", a)

    assert fleet.capacity()[:2] == (2, 4)
    assert fleet.record() is None


# 5. First deployment ---------------------------------------------------------------------------


def every_target_initial(session) -> None:
    """A fresh stack: the application is not installed, no target has passed a health check
    (moto reports registered targets healthy at once; AWS says `initial`, then `unhealthy`)."""

    def rewrite(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name != "DescribeTargetHealth":
            return
        for item in parsed.get("TargetHealthDescriptions", []):
            if item["TargetHealth"]["State"] == "healthy":
                item["TargetHealth"] = {"State": "initial", "Reason": "Elb.InitialHealthChecking"}

    session.events.register("after-call", rewrite)


def test_first_deployment_is_not_refused_by_the_floor(make_fleet, hook, capsys):
    fleet = make_fleet(1, 2, 1)  # one instance, no downtime allowed
    (iid,) = fleet.instance_ids
    session = fast_session()
    every_target_initial(session)

    hook("deregister", iid, session=session)

    assert fleet.lifecycle() == {iid: "Standby"}
    assert "healthy in none of its load balancers" in capsys.readouterr().out
    hook("register", iid)
    assert fleet.capacity() == (1, 2, 1)


# 7. Target groups not attached to the group ----------------------------------------------------


def test_every_target_group_holding_the_instance_is_drained(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    vpc = fleet.elbv2.describe_target_groups(TargetGroupArns=[fleet.target_group_arn])[
        "TargetGroups"
    ][0]["VpcId"]
    by_hand = fleet.elbv2.create_target_group(
        Name=f"byhand-{fleet.asg[-8:]}", Protocol="HTTP", Port=81, VpcId=vpc
    )["TargetGroups"][0]["TargetGroupArn"]
    fleet.elbv2.register_targets(
        TargetGroupArn=by_hand, Targets=[{"Id": i, "Port": 8081} for i in fleet.instance_ids]
    )
    other = fleet.instance_ids[1]

    def states() -> dict[str, str]:
        answer = fleet.elbv2.describe_target_health(TargetGroupArn=by_hand)
        return {
            d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in answer["TargetHealthDescriptions"]
        }

    hook("deregister", iid)
    assert states() == {other: "healthy"}

    hook("register", iid)  # the local record brings it back, on its port
    assert states() == {iid: "healthy", other: "healthy"}
    answer = fleet.elbv2.describe_target_health(TargetGroupArn=by_hand)
    ports = {d["Target"]["Id"]: d["Target"]["Port"] for d in answer["TargetHealthDescriptions"]}
    assert ports[iid] == 8081


# 8. Suspended processes ------------------------------------------------------------------------


def test_suspended_launch_is_refused_with_the_reason_and_nothing_changes(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    fleet.autoscaling.suspend_processes(AutoScalingGroupName=fleet.asg, ScalingProcesses=["Launch"])

    with pytest.raises(HookError) as error:
        hook("deregister", iid)

    assert error.value.exit_code == EXIT_REFUSED
    assert "Launch process suspended" in str(error.value)
    assert "--ignore-suspended" in str(error.value)
    assert fleet.capacity() == (2, 3, 2) and fleet.hook_tags() == {}
    assert in_service(fleet) == set(fleet.instance_ids)


def test_ignore_suspended_goes_on_and_leaves_processes_as_found(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    fleet.autoscaling.suspend_processes(
        AutoScalingGroupName=fleet.asg, ScalingProcesses=["Launch", "AZRebalance"]
    )

    hook("deregister", iid, ignore_suspended=True)
    hook("register", iid)

    assert fleet.capacity() == (2, 3, 2)
    suspended = {p["ProcessName"] for p in fleet.group()["SuspendedProcesses"]}
    assert suspended == {"Launch", "AZRebalance"}


# 9. reconcile during a live deployment ---------------------------------------------------------


def test_reconcile_never_returns_an_instance_of_a_live_deployment_unless_forced(
    make_fleet, hook, monkeypatch
):
    fleet = make_fleet(2, 4, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    monkeypatch.delenv("DEPLOYMENT_ID")  # an operator: the deployment id is unknown to them

    # CodeDeploy says the entry's deployment is still running: kept, and exit 1.
    with pytest.raises(HookError, match="--force"):
        hook("reconcile", asg=fleet.asg)
    assert fleet.lifecycle()[iid] == "Standby"

    hook("reconcile", asg=fleet.asg, force=True)
    assert fleet.lifecycle()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 3)
    assert fleet.hook_tags() == {}


# 4/6. Self-healing -----------------------------------------------------------------------------


def heal_log(aws_env: dict[str, str], iid: str) -> str:
    return (Path(aws_env["CUTOVER_STATE_DIR"]) / f"heal-{iid}.log").read_text()


def test_last_instance_failure_is_healed_without_a_human(make_fleet, hook, monkeypatch, aws_env):
    """OneAtATime: CodeDeploy counts the deployment as succeeded when only the last instance
    fails; register never runs there. The watchdog deregister armed brings it back."""
    fleet = make_fleet(2, 3, 2)
    last = fleet.instance_ids[1]
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_AFTER", "1")

    run = hook("deregister", last)
    assert fleet.lifecycle()[last] == "Standby"
    assert run.watchdog is not None
    assert run.watchdog.wait(timeout=60) == 0, heal_log(aws_env, last)

    assert fleet.lifecycle() == dict.fromkeys(fleet.instance_ids, "InService")
    assert fleet.capacity() == (2, 3, 2)
    assert fleet.hook_tags() == {}
    assert "bringing it back" in heal_log(aws_env, last)


def test_watchdog_leaves_an_instance_whose_register_completed(
    make_fleet, hook, monkeypatch, aws_env
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_AFTER", "2")

    run = hook("deregister", iid)
    hook("register", iid)
    began = time.monotonic()
    assert run.watchdog is not None and run.watchdog.wait(timeout=60) == 0

    assert time.monotonic() - began > 0.5  # it slept until due, it did not act at once
    assert "register completed" in heal_log(aws_env, iid)
    assert fleet.capacity() == (2, 3, 2) and fleet.hook_tags() == {}


def test_watchdog_never_acts_while_the_deployment_may_still_install(
    make_fleet, hook, monkeypatch, aws_env
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_AFTER", "3600")

    run = hook("deregister", iid)
    assert run.watchdog is not None
    try:
        with pytest.raises(Exception, match="timed out"):
            run.watchdog.wait(timeout=2)
        assert fleet.lifecycle()[iid] == "Standby"
        log = heal_log(aws_env, iid)
        assert "sleeping" in log and "bringing it back" not in log
    finally:
        run.watchdog.kill()
        run.watchdog.wait()
    hook("register", iid)
    assert fleet.capacity() == (2, 3, 2)


def test_entries_are_compact_and_on_the_instance(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    value = fleet.entries()[iid]
    assert len(value) <= 256
    assert json.loads(value)["b"] == [2, 3]
    hook("register", iid)


def test_the_watchdog_does_not_hold_the_agents_pipes(make_fleet):
    """The agent reads a script's output to its end: a watchdog that kept the pipes open would
    hold the lifecycle event until it timed out."""
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    env = {**os.environ, "CUTOVER_HEAL": "on", "CUTOVER_HEAL_AFTER": "3600"}
    command = [sys.executable, "-m", "hooks", "deregister", "--instance-id", iid]
    root = Path(__file__).resolve().parents[2]

    out = subprocess.run(
        [*command, "--region", REGION],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert out.returncode == 0, out.stderr
    pid = int(re.search(r"self-healing armed \(pid (\d+)\)", out.stdout).group(1))
    try:
        os.kill(pid, 0)  # still asleep, detached from the finished hook
    finally:
        os.kill(pid, signal.SIGKILL)


def test_an_entry_of_an_instance_no_longer_in_the_group_is_cleaned_by_the_next_run(
    make_fleet, hook
):
    """E.g. detached while in Standby with the group's tag kept: ignored, then deleted."""
    fleet = make_fleet(2, 4, 3)
    subnet = fleet.group()["VPCZoneIdentifier"]
    old = json.dumps({"d": "d-OLD", "t": time.time() - 3600, "s": "out", "b": [2, 4]})
    tags = [
        {"Key": "aws:autoscaling:groupName", "Value": fleet.asg},
        {"Key": "cutover:deploy", "Value": old},
    ]
    outside = fleet.ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )["Instances"][0]["InstanceId"]
    iid = fleet.instance_ids[0]

    hook("deregister", iid)
    hook("register", iid)

    assert fleet.capacity() == (2, 4, 3)
    assert fleet.record() is None
    described = fleet.ec2.describe_instances(InstanceIds=[outside])["Reservations"][0]
    assert "cutover:deploy" not in {t["Key"] for t in described["Instances"][0]["Tags"]}


def test_the_decrement_of_an_instance_terminated_in_standby_is_given_back(make_fleet, hook):
    """Rehearsal terminated-in-standby: someone else terminates (ec2 TerminateInstances) an
    instance the hooks put in Standby. The group drops it without a replacement; the hooks' own
    EnterStandby decrement must come back once the deployment ends (the group then launches a
    replacement), and only once."""
    fleet = make_fleet(2, 6, 3)
    lost, *others = fleet.instance_ids
    session, refusals = fast_session(), []
    enforce_aws_rules(session.events, fleet, refusals)
    hook("deregister", lost, session=session)
    assert fleet.capacity() == (2, 6, 2)
    fleet.ec2.terminate_instances(InstanceIds=[lost])
    assert lost not in fleet.lifecycle() and fleet.capacity() == (2, 6, 2)

    for iid in others:
        hook("deregister", iid, session=session)
        hook("register", iid, session=session)

    assert refusals == []
    assert fleet.capacity() == (2, 6, 3)
    assert len(fleet.lifecycle()) == 3 and in_service(fleet) == set(fleet.lifecycle())
    assert fleet.record() is None
    described = fleet.ec2.describe_instances(InstanceIds=[lost])["Reservations"][0]
    assert "cutover:deploy" not in {t["Key"] for t in described["Instances"][0].get("Tags", [])}
    # A later deployment does not give it back twice.
    hook("deregister", others[0], session=session)
    hook("register", others[0], session=session)
    assert fleet.capacity() == (2, 6, 3)


class Killed(Exception):
    """The hook's process dies here (raised from botocore's public before-call event)."""


def test_a_restore_killed_after_the_give_back_does_not_give_it_back_twice(make_fleet, hook):
    fleet = make_fleet(2, 6, 3)
    lost, other = fleet.instance_ids[:2]
    hook("deregister", lost)
    fleet.ec2.terminate_instances(InstanceIds=[lost])
    hook("deregister", other)
    dying = fast_session()

    def die(params: dict[str, Any], **_: Any) -> None:
        if lost in str(params.get("body")):
            raise Killed  # after the Desired write, before the lost entry is deleted

    dying.events.register("before-call.ec2.DeleteTags", die)
    with pytest.raises(Killed):
        hook("register", other, session=dying)
    assert fleet.capacity() == (2, 6, 3)
    assert fleet.record()["g"] == [lost]

    hook("register", other)  # the agent retries; or the watchdog, or reconcile

    assert fleet.capacity() == (2, 6, 3)
    assert len(fleet.lifecycle()) == 3 and in_service(fleet) == set(fleet.lifecycle())
    assert fleet.record() is None and fleet.hook_tags() == {}


def test_a_finisher_that_is_not_the_last_hands_its_lowered_min_size_to_the_group_record(
    make_fleet, hook
):
    """Rule 2 on the entries: A's entry says the MinSize A lowered. A finishes while B is still
    out, so A's entry goes: first its value goes to the group record (the only group tag the
    hooks write here), which B's restore reads beside B's own entry."""
    fleet = make_fleet(2, 4, 2, allow_downtime=True)
    a, b = fleet.instance_ids
    hook("deregister", a)  # MinSize 2 -> 1, said by a's entry
    hook("deregister", b)  # MinSize 1 -> 0, said by b's entry
    assert fleet.capacity() == (0, 4, 0) and fleet.record() is None
    assert json.loads(fleet.entries()[a])["lo"] == 1 and json.loads(fleet.entries()[b])["lo"] == 0

    session = fast_session()
    calls = record_calls(session)
    hook("register", a, session=session)

    assert calls.count("autoscaling:CreateOrUpdateTags") == 1
    assert fleet.record() == {"min": 2, "max": 4, "lo": 1}
    assert a not in fleet.entries()
    hook("register", b)
    assert fleet.capacity() == (2, 4, 2)
    assert fleet.hook_tags() == {}
