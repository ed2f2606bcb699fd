"""What real AWS enforces and moto does not, emulated through botocore's event system: the hooks
must respect it. Also: every call the hooks make is allowed by hooks.permissions."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from hooks.permissions import ALL_ACTIONS, DESCRIBE_ACTIONS
from hooks.runbook import (
    DEREGISTER_STEPS,
    check_floor,
    enter_standby,
    find_load_balancers,
    locate_instance,
    start,
)
from hooks.settings import from_environment
from hooks.state import CapacityRecord

from .aws_rules import enforce_target_rules
from .conftest import REGION, fast_session, record_calls


class _Refused:
    status_code = 400


def enforce_standby_minimum(session, fleet, refusals: list[str]) -> None:
    """Answer EnterStandby like AWS does when Desired-1 would fall below MinSize."""

    def before_call(model: Any, **kwargs: Any):
        if model.name != "EnterStandby":
            return None
        min_size, _, desired = fleet.capacity()
        if desired - 1 >= min_size:
            return None
        refusals.append(f"{desired - 1} < {min_size}")
        message = (
            "AutoScalingGroup cannot have desired capacity less than min size "
            f"({desired - 1} < {min_size})"
        )
        return _Refused(), {"Error": {"Code": "ValidationError", "Message": message}}

    session.events.register("before-call.auto-scaling.EnterStandby", before_call)


def test_min_size_is_lowered_before_enter_standby(make_fleet, hook):
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    session, refusals = fast_session(), []
    enforce_standby_minimum(session, fleet, refusals)

    hook("deregister", fleet.instance_ids[0], session=session)
    hook("register", fleet.instance_ids[0], session=session)

    assert refusals == []
    assert fleet.capacity() == (1, 2, 1)


def test_concurrent_deregisters_respect_the_standby_minimum(make_fleet, hook):
    fleet = make_fleet(4, 4, 4)
    batch = fleet.instance_ids[:3]
    refusals: list[str] = []
    errors: list[BaseException] = []

    def cycle(iid: str) -> None:
        session = fast_session()
        enforce_standby_minimum(session, fleet, refusals)
        try:
            hook("deregister", iid, session=session)
            hook("register", iid, session=session)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=cycle, args=(i,)) for i in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # A refusal may happen in a race (another instance raised MinSize between our read and
    # its write); the hook then lowers again and retries, so every cycle still succeeds.
    assert errors == []
    assert fleet.capacity() == (4, 4, 4)
    assert set(fleet.lifecycle().values()) == {"InService"}


def test_enter_standby_refusal_is_retried_after_lowering_again(make_fleet, hook):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    session, refusals = fast_session(), []
    enforce_standby_minimum(session, fleet, refusals)
    # Run up to lower_min_size (MinSize 2 -> 1), then let "another instance" raise MinSize
    # back between our reading of the group and our EnterStandby.
    lowered = [name for name, _ in DEREGISTER_STEPS].index("lower_min_size") + 1
    hook("deregister", iid, session=session, stop_after=lowered)
    assert fleet.capacity() == (1, 3, 2)

    run = start(from_environment("deregister", instance_id=iid, region="us-east-1"), session)
    for step in (locate_instance, find_load_balancers, check_floor):
        step(run)
    fleet.autoscaling.update_auto_scaling_group(AutoScalingGroupName=fleet.asg, MinSize=2)
    enter_standby(run)

    assert refusals == ["1 < 2"]
    assert fleet.lifecycle()[iid] == "Standby"
    hook("deregister", iid, session=session)
    hook("register", iid, session=session)
    assert fleet.capacity() == (2, 3, 2)


def test_every_call_is_allowed_by_the_instance_policy(make_fleet, hook, monkeypatch, codedeploy):
    session = fast_session()
    calls = record_calls(session)
    grouped = make_fleet(2, 3, 2, classic=True)
    lone = make_fleet(desired=2, classic=True, in_group=False)

    for iid in (grouped.instance_ids[0], lone.instance_ids[0]):
        hook("deregister", iid, session=session)
        hook("register", iid, session=session)
    hook("deregister", grouped.instance_ids[1], session=session)
    monkeypatch.delenv("DEPLOYMENT_ID")
    hook("reconcile", asg=grouped.asg, session=session, force=True)
    # Without --force, reconcile asks CodeDeploy whether the entry's deployment is over.
    failed = codedeploy.start_deployment()
    monkeypatch.setenv("DEPLOYMENT_ID", failed)
    hook("deregister", grouped.instance_ids[1], session=session)
    monkeypatch.delenv("DEPLOYMENT_ID")
    codedeploy.end(failed, "Failed")
    hook("reconcile", asg=grouped.asg, session=session)

    made = set(calls)
    assert made - set(ALL_ACTIONS) == set()
    # The policy lists nothing the hooks never call (least privilege).
    assert set(ALL_ACTIONS) - made == set()


class _Ok:
    status_code = 200


def _launching(session, fleet, iid: str) -> None:
    """Make AWS describe `iid` as waiting in Pending:Wait (moto has no launch lifecycle hooks,
    so the answer is emulated)."""

    def pending_wait(model: Any, **kwargs: Any):
        if model.name != "DescribeAutoScalingInstances":
            return None
        item = {"InstanceId": iid, "AutoScalingGroupName": fleet.asg}
        return _Ok(), {"AutoScalingInstances": [{**item, "LifecycleState": "Pending:Wait"}]}

    def group_says_pending_wait(model: Any, parsed: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "DescribeAutoScalingGroups":
            for group in parsed.get("AutoScalingGroups", []):
                for instance in group.get("Instances", []):
                    if instance["InstanceId"] == iid:
                        instance["LifecycleState"] = "Pending:Wait"

    session.events.register("before-call", pending_wait)  # same level: runs after recording
    session.events.register("after-call", group_says_pending_wait)


def _left_lowered(fleet, baseline_min: int, lowered: int) -> None:
    """What a deployment whose only instance never came back leaves: MinSize lowered, the
    hooks' record still on the group."""
    fleet.autoscaling.update_auto_scaling_group(AutoScalingGroupName=fleet.asg, MinSize=lowered)
    max_size = fleet.capacity()[1]
    fleet.set_tag(
        "cutover:capacity", CapacityRecord(baseline_min, max_size, lowest_min=lowered).value()
    )


def test_launching_replacement_restores_what_no_register_came_back_to(make_fleet, hook):
    """A one-instance group whose instance failed its install and was replaced: the deregister
    lowered MinSize, no register ever ran. The replacement's launch hooks restore it."""
    fleet = make_fleet(1, 2, 1)
    iid = fleet.instance_ids[0]
    _left_lowered(fleet, baseline_min=1, lowered=0)
    session = fast_session()
    _launching(session, fleet, iid)

    hook("deregister", iid, session=session)

    assert fleet.capacity() == (1, 2, 1)
    assert fleet.hook_tags() == {}


def test_launching_instance_leaves_the_restore_to_a_deployment_in_flight(make_fleet, hook):
    fleet = make_fleet(2, 3, 3)
    launching, busy = fleet.instance_ids[0], fleet.instance_ids[1]
    _left_lowered(fleet, baseline_min=2, lowered=1)
    live = json.dumps({"d": "d-other", "t": time.time(), "s": "sb", "b": [2, 3]})
    fleet.ec2.create_tags(Resources=[busy], Tags=[{"Key": "cutover:deploy", "Value": live}])
    session = fast_session()
    calls = record_calls(session)
    _launching(session, fleet, launching)

    hook("deregister", launching, session=session)

    assert set(calls) - set(DESCRIBE_ACTIONS) == set()  # reads only
    assert fleet.capacity() == (1, 3, 3)
    assert set(fleet.entries()) == {busy}


def test_launching_instance_is_left_to_the_group(make_fleet, hook):
    """On scale-out CodeDeploy deploys while the instance waits in Pending:Wait: both hooks must
    leave it alone."""
    fleet = make_fleet(1, 3, 2)
    iid = fleet.instance_ids[0]
    session = fast_session()
    calls = record_calls(session)  # first: the emulated answer below ends the handler chain
    _launching(session, fleet, iid)

    hook("deregister", iid, session=session)
    hook("register", iid, session=session)

    assert set(calls) - set(DESCRIBE_ACTIONS) == set()  # reads only
    assert fleet.capacity() == (1, 3, 2)
    assert fleet.hook_tags() == {}


# ELBv2 draining and idempotent deregistration, as AWS answers them -------------------------


def _rules_session(fleet, time_scale: float, delay_seconds: int):
    fleet.elbv2.modify_target_group_attributes(
        TargetGroupArn=fleet.target_group_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay_seconds)}],
    )
    session = fast_session()
    enforce_target_rules(session.events, fleet.elbv2, time_scale)
    return session


def _states(client, arn: str) -> dict[str, str]:
    answer = client.describe_target_health(TargetGroupArn=arn)
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in answer["TargetHealthDescriptions"]
    }


def test_aws_keeps_a_deregistered_target_draining_until_its_delay_expires(make_fleet):
    fleet = make_fleet(1, 2, 1)
    iid = fleet.instance_ids[0]
    # 1.5 s here: room for a loaded machine's pause between the two calls (0.5 s was not).
    session = _rules_session(fleet, time_scale=100.0, delay_seconds=150)
    elbv2 = session.client("elbv2", region_name=REGION)

    elbv2.deregister_targets(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid}])

    assert _states(elbv2, fleet.target_group_arn) == {iid: "draining"}
    assert fleet.targets() == {}  # moto dropped it at once
    time.sleep(1.6)
    assert _states(elbv2, fleet.target_group_arn) == {}


def test_deregistering_a_target_that_is_not_registered_succeeds_as_on_aws(make_fleet):
    fleet = make_fleet(1, 2, 1)
    iid = fleet.instance_ids[0]
    fleet.elbv2.deregister_targets(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid}])
    with pytest.raises(ClientError, match="InvalidTarget"):  # moto, not AWS
        fleet.elbv2.deregister_targets(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid}])
    elbv2 = _rules_session(fleet, 100.0, 50).client("elbv2", region_name=REGION)

    elbv2.deregister_targets(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid}])

    assert _states(elbv2, fleet.target_group_arn) == {}


def test_deregister_waits_out_the_drain_aws_reports_and_reruns_cleanly(
    make_fleet, hook, monkeypatch
):
    fleet = make_fleet(1, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("CUTOVER_TIME_SCALE", "100")
    session = _rules_session(fleet, time_scale=100.0, delay_seconds=50)
    elbv2 = session.client("elbv2", region_name=REGION)

    began = time.monotonic()
    hook("deregister", iid, session=session)
    assert time.monotonic() - began >= 0.5
    assert iid not in _states(elbv2, fleet.target_group_arn)  # the drain is over on AWS too
    hook("deregister", iid, session=session)  # the agent retries: changes nothing
    hook("register", iid, session=session)

    assert fleet.capacity() == (1, 3, 2)
    assert _states(elbv2, fleet.target_group_arn)[iid] == "healthy"
    assert fleet.hook_tags() == {}


def test_register_waits_while_aws_still_says_entering_standby(make_fleet, hook):
    """deregister no longer waits for Standby after EnterStandby (issue 20 item 4): AWS may
    still say EnteringStandby when register comes; ExitStandby would be refused then."""
    fleet = make_fleet(1, 3, 2)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    session = fast_session()
    looks: list[str] = []

    def entering_standby_at_first(model: Any, parsed: dict[str, Any], **kwargs: Any) -> None:
        if model.name not in ("DescribeAutoScalingGroups", "DescribeAutoScalingInstances"):
            return
        looks.append(model.name)
        if len(looks) > 1:
            return
        for group in parsed.get("AutoScalingGroups", []):
            for instance in group.get("Instances", []):
                if instance["InstanceId"] == iid:
                    instance["LifecycleState"] = "EnteringStandby"

    session.events.register("after-call", entering_standby_at_first)
    hook("register", iid, session=session)

    assert len(looks) >= 2  # it looked again before ExitStandby
    assert fleet.capacity() == (1, 3, 2)
    assert set(fleet.lifecycle().values()) == {"InService"}
    assert fleet.hook_tags() == {}
