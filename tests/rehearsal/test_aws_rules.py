"""The AWS rules the rehearsal enforces in front of moto, over real HTTP with boto3, as a hook
would meet them."""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError


def _wait(check, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.02)


def test_enter_standby_is_refused_below_min_size_with_aws_message(account):
    autoscaling = account.client("autoscaling")
    first, second, _ = account.instances()
    autoscaling.enter_standby(
        AutoScalingGroupName=account.group, InstanceIds=[first], ShouldDecrementDesiredCapacity=True
    )
    with pytest.raises(ClientError) as refused:  # Desired 2 - 1 < Min 2
        autoscaling.enter_standby(
            AutoScalingGroupName=account.group,
            InstanceIds=[second],
            ShouldDecrementDesiredCapacity=True,
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "AutoScalingGroup cutover-production-fleet has min-size=2, max-size=6, and "
        "desired-capacity=2. To place into standby 1 instances, please update the "
        "AutoScalingGroup sizes appropriately."
    )


def test_exit_standby_is_refused_above_max_size(account):
    autoscaling = account.client("autoscaling")
    first = account.instances()[0]
    autoscaling.enter_standby(
        AutoScalingGroupName=account.group, InstanceIds=[first], ShouldDecrementDesiredCapacity=True
    )
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=account.group, MaxSize=2)
    with pytest.raises(ClientError, match="To exit standby 1 instances"):
        autoscaling.exit_standby(AutoScalingGroupName=account.group, InstanceIds=[first])


def test_standby_takes_at_most_twenty_instance_ids(account):
    autoscaling = account.client("autoscaling")
    ids = [f"i-{n:017x}" for n in range(21)]
    with pytest.raises(ClientError, match="limited to 20"):
        autoscaling.enter_standby(
            AutoScalingGroupName=account.group, InstanceIds=ids, ShouldDecrementDesiredCapacity=True
        )


def test_standby_deregisters_and_the_target_drains_for_the_delay(account):
    autoscaling = account.client("autoscaling")
    first = account.instances()[0]
    assert account.states()[first] == "healthy"
    account.clock.set_scale(0)  # emulated time stands still while we look
    autoscaling.enter_standby(
        AutoScalingGroupName=account.group, InstanceIds=[first], ShouldDecrementDesiredCapacity=True
    )
    began = account.clock.now()
    assert account.states()[first] == "draining"
    account.clock.set_scale(600)
    _wait(lambda: first not in account.states())
    # 120 s of deregistration delay on the rehearsal's clock (never less).
    assert account.clock.now() - began >= 120


def test_the_hooks_read_the_delay_and_health_check_the_world_runs_on(account):
    """The deregistration delay and health check a hook reads (moto, through the proxy) are
    the figures the world drains and checks with: one value each, as declared."""
    elbv2 = account.client("elbv2")
    arn = account.target_group
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    delay = {a["Key"]: a["Value"] for a in attributes}["deregistration_delay.timeout_seconds"]
    group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    balancer = account.world.balancers[arn]

    assert int(delay) == balancer.deregistration_delay == 120  # Pulumi.production.yaml
    assert group["HealthCheckIntervalSeconds"] == balancer.health_check.interval == 10
    assert group["HealthyThresholdCount"] * group["HealthCheckIntervalSeconds"] == (
        balancer.health_check.healthy_after
    )


def test_calls_are_counted_per_api_family(account):
    account.client("elbv2").describe_target_groups()
    account.client("autoscaling").describe_auto_scaling_groups()
    account.client("ec2").describe_instances()
    counted = account.world.counters.by_family
    assert [counted["rehearsal-i-test", f] for f in ("elb", "autoscaling", "ec2")] == [1, 1, 1]


def test_a_registered_target_turns_healthy_after_threshold_times_interval(account):
    autoscaling = account.client("autoscaling")
    first = account.instances()[0]
    autoscaling.enter_standby(
        AutoScalingGroupName=account.group, InstanceIds=[first], ShouldDecrementDesiredCapacity=True
    )
    _wait(lambda: first not in account.states())
    account.clock.set_scale(0)
    account.client("elbv2").register_targets(
        TargetGroupArn=account.target_group, Targets=[{"Id": first, "Port": 80}]
    )
    began = account.clock.now()
    assert account.states()[first] == "initial"
    account.clock.set_scale(600)
    _wait(lambda: account.states()[first] == "healthy")
    assert account.clock.now() - began >= 30  # healthyThreshold 3 x interval 10


def test_a_target_without_the_application_turns_unhealthy_and_is_replaced(account):
    world, first = account.world, account.instances()[0]
    autoscaling = account.client("autoscaling", "operator")
    autoscaling.suspend_processes(
        AutoScalingGroupName=account.group, ScalingProcesses=["HealthCheck"]
    )
    world.refresh()
    world.app_stopped(first)
    _wait(lambda: account.states().get(first) == "unhealthy")
    time.sleep(0.5)  # 300 emulated seconds: past the grace period, but HealthCheck is suspended
    assert first in account.instances() and world.replaced == []
    autoscaling.resume_processes(
        AutoScalingGroupName=account.group, ScalingProcesses=["HealthCheck"]
    )
    # Health check type ELB, grace period long over: the group replaces it.
    _wait(lambda: first not in account.instances())
    assert world.replaced == [first]
    _wait(lambda: len(account.instances()) == 3)


def test_an_operator_min_size_above_desired_raises_desired_as_aws_does(account):
    autoscaling = account.client("autoscaling", "operator")
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=account.group, MinSize=4)
    group = account.world.refresh()
    assert (group["MinSize"], group["DesiredCapacity"]) == (4, 4)


def test_group_tags_are_limited_per_call_per_resource_and_in_size(account):
    autoscaling = account.client("autoscaling")

    def tags(n: int, start: int = 0, value: str = "v") -> list[dict]:
        return [
            {
                "ResourceId": account.group,
                "ResourceType": "auto-scaling-group",
                "Key": f"k{start + i}",
                "Value": value,
                "PropagateAtLaunch": False,
            }
            for i in range(n)
        ]

    with pytest.raises(ClientError, match="at most 25 tags per call"):
        autoscaling.create_or_update_tags(Tags=tags(26))
    with pytest.raises(ClientError, match="length less than or equal to 256"):
        autoscaling.create_or_update_tags(Tags=tags(1, value="x" * 257))
    autoscaling.create_or_update_tags(Tags=tags(25))
    autoscaling.create_or_update_tags(Tags=tags(21, start=25))  # 4 stack tags + 46 = 50
    with pytest.raises(ClientError) as refused:
        autoscaling.create_or_update_tags(Tags=tags(1, start=46))
    assert refused.value.response["Error"]["Code"] == "LimitExceeded"
    assert account.world.counters.peak_group_tags == 50


def test_instance_tags_are_limited_too(account):
    ec2 = account.client("ec2")
    first = account.instances()[0]
    ec2.create_tags(Resources=[first], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(25)])
    existing = len(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [first]}])["Tags"])
    room = 50 - existing
    ec2.create_tags(Resources=[first], Tags=[{"Key": f"m{i}", "Value": "v"} for i in range(room)])
    with pytest.raises(ClientError) as refused:
        ec2.create_tags(Resources=[first], Tags=[{"Key": "one-more", "Value": "v"}])
    assert refused.value.response["Error"]["Code"] == "TagLimitExceeded"


def test_a_burst_of_calls_is_throttled_and_counted(account):
    autoscaling = account.client("autoscaling", "rehearsal-i-burst")
    account.clock.set_scale(0)  # time stands still: no refill, the bucket of 40 runs dry
    refused = 0
    for _ in range(45):
        try:
            autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[account.group])
        except ClientError as error:
            assert error.response["Error"]["Code"] == "Throttling"
            refused += 1
    assert refused == 5  # a bucket of 40 reads, then every call (retries too) is throttled
    counters = account.world.counters
    assert counters.throttled["rehearsal-i-burst"] == counters.calls["rehearsal-i-burst"] - 40


def test_a_crash_of_the_emulator_reaches_the_hooks_as_an_aws_failure_they_retry():
    """moto answers an internal error with an HTML page, which the hooks rightly take for
    something that is not AWS (exit 5). AWS answers its own failures with an error document
    and status 500, which clients retry: the proxy says it as AWS would."""
    from botocore.parsers import create_parser

    from rehearsal.wire import Call, Reply, server_failure

    call = Call("ec2", "DescribeInstances", [], "rehearsal-i-x")
    page = Reply(500, b"<!doctype html>\n<title>500 Internal Server Error</title>", {})
    failed = server_failure(call, page)

    assert failed is not None and failed.status == 500
    parsed = create_parser("ec2").parse(
        {"body": failed.body, "headers": failed.headers, "status_code": 500}, None
    )
    assert parsed["Error"]["Code"] == "InternalError"
    assert server_failure(call, Reply(200, b"<DescribeInstancesResponse/>", {})) is None
    assert server_failure(call, failed) is None  # already AWS's shape


def test_the_worlds_copy_of_the_group_follows_standby_without_describing_it_again(account):
    """EnterStandby and ExitStandby are applied to the world's copy of the group (rule checks
    read it), not re-read from moto after each call: the copy must equal moto's group."""
    autoscaling = account.client("autoscaling")
    first, second = account.instances()[:2]
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=account.group, MinSize=1)

    def same_as_moto() -> None:
        world = account.world
        with world.write_lock:
            copy = world.group
            moto = world.autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=[account.group]
            )["AutoScalingGroups"][0]
        assert copy["DesiredCapacity"] == moto["DesiredCapacity"]
        states = {i["InstanceId"]: i["LifecycleState"] for i in moto["Instances"]}
        assert {i["InstanceId"]: i["LifecycleState"] for i in copy["Instances"]} == states
        assert world.lifecycle == states

    autoscaling.enter_standby(
        AutoScalingGroupName=account.group,
        InstanceIds=[first, second],
        ShouldDecrementDesiredCapacity=True,
    )
    same_as_moto()
    assert account.world.group["DesiredCapacity"] == 1
    autoscaling.exit_standby(AutoScalingGroupName=account.group, InstanceIds=[first])
    same_as_moto()
    assert account.world.group["DesiredCapacity"] == 2


def _moto_ec2(account):
    """A client straight to moto, past the proxy: what moto itself answers."""
    return boto3.client(
        "ec2",
        region_name=account.fleet.region,
        endpoint_url=account.world.autoscaling.meta.endpoint_url,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="x",
    )


def _described(answer: dict) -> list:
    return [
        (r["ReservationId"], r["OwnerId"], r.get("Groups"), r["Instances"])
        for r in answer["Reservations"]
    ]


def test_describe_instances_answered_by_the_proxy_is_what_moto_answers(account):
    """The proxy answers DescribeInstances from moto's own descriptions (moto renders every
    instance again per call, 0.4-0.6 s for the hooks' entries read at 100 instances): the
    answers must be moto's, filter for filter, and moto must not be asked again."""
    ec2, moto = account.client("ec2"), _moto_ec2(account)
    first, second, third = account.instances()
    ec2.create_tags(Resources=[first, second], Tags=[{"Key": "cutover:entry", "Value": "a-1"}])
    group = [{"Name": "tag:aws:autoscaling:groupName", "Values": [account.group]}]
    queries = [
        {"Filters": [*group, {"Name": "tag-key", "Values": ["cutover:entry"]}], "MaxResults": 1000},
        {"Filters": [{"Name": "tag:cutover:entry", "Values": ["a-?"]}]},
        {"Filters": [{"Name": "tag-value", "Values": ["a*"]}, *group]},
        {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]},
        {"Filters": [{"Name": "instance-state-name", "Values": ["terminated"]}]},
        {"Filters": [{"Name": "tag-key", "Values": ["nobody"]}]},
        {"InstanceIds": [third]},
        {"InstanceIds": [third, first], "Filters": [{"Name": "tag-key", "Values": ["cutover:*"]}]},
        {},
    ]
    for query in queries:
        assert _described(ec2.describe_instances(**query)) == _described(
            moto.describe_instances(**query)
        ), query
    assert _described(ec2.describe_instances(**queries[0]))[0][3][0]["InstanceId"] in {
        first,
        second,
    }
    stats = account.emulated.rules.stats.actions["ec2:DescribeInstances"]
    # The proxy counts a call once its answer is sent: the last one may still be counting.
    deadline = time.monotonic() + 5
    while stats.calls < len(queries) + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stats.calls == len(queries) + 1 and stats.forwarded == 0
    with pytest.raises(ClientError) as unknown:  # moto's error, as before
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    assert unknown.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_the_proxys_describe_instances_follows_every_write(account):
    """Tag writes, terminations, launches and the rehearsal's own writes to moto all show in
    the next DescribeInstances through the proxy."""
    ec2, moto = account.client("ec2"), _moto_ec2(account)
    autoscaling = account.client("autoscaling")
    first, second, _ = account.instances()
    entries = {"Filters": [{"Name": "tag-key", "Values": ["cutover:entry"]}]}

    def ids(query: dict) -> set[str]:
        answer = ec2.describe_instances(**query)
        found = {i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]}
        mine = moto.describe_instances(**query)
        assert found == {i["InstanceId"] for r in mine["Reservations"] for i in r["Instances"]}
        return found

    view = account.emulated.rules.instances
    assert ids(entries) == set()
    described = view.described
    ec2.create_tags(Resources=[first], Tags=[{"Key": "cutover:entry", "Value": "1"}])
    assert ids(entries) == {first}
    ec2.create_tags(Resources=[first], Tags=[{"Key": "Name", "Value": "<b>&"}])  # in place
    assert ids({"Filters": [{"Name": "tag:Name", "Values": ["<b>&"]}]}) == {first}
    ec2.delete_tags(Resources=[first], Tags=[{"Key": "cutover:entry"}])
    assert ids(entries) == set()
    assert _described(ec2.describe_instances()) == _described(moto.describe_instances())
    assert view.described == described  # the tag writes applied as moto does, not re-read
    ec2.delete_tags(Resources=[first], Tags=[{"Key": "Name", "Value": "other"}])  # moto's rule
    assert ids({"Filters": [{"Name": "tag:Name", "Values": ["<b>&"]}]}) == {first}
    # Past the proxy (the world's own writes): the world says moto changed.
    moto.create_tags(Resources=[second], Tags=[{"Key": "cutover:entry", "Value": "2"}])
    account.emulated.rules.forget()
    assert ids(entries) == {second}
    ec2.terminate_instances(InstanceIds=[second])
    assert ids({"Filters": [{"Name": "instance-state-name", "Values": ["terminated"]}]}) == {second}
    before = ids({})
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=account.group, MaxSize=6, DesiredCapacity=4
    )
    assert len(ids({}) - before) >= 1  # the group launched: EC2 describes the new instance


def test_standby_patches_the_groups_cached_answers_to_what_moto_answers(account):
    """EnterStandby and ExitStandby rewrite the proxy's cached group answers (moto renders the
    whole group again per read: 36 ms at 100 instances asked alone, per instance per
    Standby) instead of dropping them: what the hooks read must be what moto answers."""
    autoscaling = account.client("autoscaling")
    moto = account.world.autoscaling
    first, second, _ = account.instances()
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=account.group, MinSize=1)
    stats = account.emulated.rules.stats.actions

    def same_as_moto() -> None:
        names = {"AutoScalingGroupNames": [account.group]}
        mine = autoscaling.describe_auto_scaling_groups(**names)["AutoScalingGroups"]
        assert mine == moto.describe_auto_scaling_groups(**names)["AutoScalingGroups"]
        for iid in (first, second):
            ids = {"InstanceIds": [iid]}
            mine = autoscaling.describe_auto_scaling_instances(**ids)["AutoScalingInstances"]
            assert mine == moto.describe_auto_scaling_instances(**ids)["AutoScalingInstances"]

    same_as_moto()  # read once: cached
    asked = stats["autoscaling:DescribeAutoScalingGroups"].forwarded
    autoscaling.enter_standby(
        AutoScalingGroupName=account.group, InstanceIds=[first], ShouldDecrementDesiredCapacity=True
    )
    same_as_moto()
    autoscaling.exit_standby(AutoScalingGroupName=account.group, InstanceIds=[first])
    same_as_moto()
    assert stats["autoscaling:DescribeAutoScalingGroups"].forwarded == asked  # patched, not read
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=account.group, MinSize=2)
    same_as_moto()
    assert stats["autoscaling:DescribeAutoScalingGroups"].forwarded == asked + 1


def test_the_proxy_leaves_to_moto_the_describe_instances_queries_it_does_not_model():
    from rehearsal.ec2view import Query
    from rehearsal.wire import Call

    def query(*params: tuple[str, str]) -> Query | None:
        base = [("Action", "DescribeInstances"), ("Version", "2016-11-15")]
        return Query.of(Call("ec2", "DescribeInstances", base + list(params), "rehearsal-i-x"))

    entries = (("Filter.1.Name", "tag-key"), ("Filter.1.Value.1", "cutover:entry"))
    assert query(*entries, ("MaxResults", "1000")) is not None  # the hooks' read of entries
    assert query(("InstanceId.1", "i-1")) is not None
    assert query(*entries, ("NextToken", "r-1")) is None  # a later page: moto's
    assert query(("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-1")) is None
    assert query(("InstanceId.1", "i-1"), ("MaxResults", "5")) is None  # AWS refuses both
    assert query(*entries, ("MaxResults", "2000")) is None  # out of AWS's range: moto says so
    assert query(("Filter.1.Name", "tag-key"), ("Filter.1.Value.1", "a\\*")) is None  # escapes
    assert query(*entries, ("DryRun", "true")) is None


def test_a_group_write_does_not_wait_for_the_worlds_look_at_moto(account):
    """At a hundred instances moto takes half a second to describe the group, and the world
    looks every half second: a look that held the write lock made every hook's EnterStandby
    queue behind it (the emulator's cost, counted as the hooks' time out of service). A write
    made while the look's read is in flight completes, and the look's stale read is not
    stored over it."""
    world = account.world
    autoscaling = account.client("autoscaling")
    written = threading.Event()
    during: list[bool] = []

    def write_during_the_read(**kwargs) -> None:
        if threading.current_thread() is not world._thread or during:
            return
        writer = threading.Thread(
            target=lambda: (
                autoscaling.update_auto_scaling_group(
                    AutoScalingGroupName=account.group, MaxSize=5
                ),
                written.set(),
            )
        )
        writer.start()
        during.append(written.wait(3.0))  # the write ends while this read is in flight

    world.autoscaling.meta.events.register(
        "before-call.auto-scaling.DescribeAutoScalingGroups", write_during_the_read
    )
    _wait(lambda: bool(during), seconds=10.0)
    assert during == [True], "the group write waited for the world's read of moto"
    _wait(lambda: world.group["MaxSize"] == 5)
    time.sleep(2.5)  # several more looks: none stores a read from before the write
    assert world.group["MaxSize"] == 5
