"""Target group and classic ELB paths, with and without an Auto Scaling group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hooks.errors import EXIT_REFUSED, HookError

from .conftest import fast_session


def test_classic_elb_attached_to_the_group(make_fleet, hook):
    fleet = make_fleet(1, 3, 2, target_group=False, classic=True)
    iid, other = fleet.instance_ids

    hook("deregister", iid)
    # moto reports "Unknown" for a deregistered instance, real AWS "OutOfService": not InService.
    assert fleet.elb_instances().get(iid, "Unknown") != "InService"
    assert fleet.elb_instances()[other] == "InService"

    hook("register", iid)
    assert fleet.elb_instances()[iid] == "InService"
    assert fleet.capacity() == (1, 3, 2)
    assert fleet.hook_tags() == {}


def test_target_group_and_classic_elb_together(make_fleet, hook):
    fleet = make_fleet(2, 4, 3, classic=True)
    iid = fleet.instance_ids[0]

    hook("deregister", iid)
    assert iid not in fleet.targets()
    assert fleet.elb_instances().get(iid, "Unknown") != "InService"

    hook("register", iid)
    assert fleet.targets()[iid] == "healthy"
    assert fleet.elb_instances()[iid] == "InService"
    assert fleet.capacity() == (2, 4, 3)


def test_instance_outside_any_group_behind_a_target_group(make_fleet, hook, aws_env):
    fleet = make_fleet(desired=2, in_group=False)
    iid, other = fleet.instance_ids

    hook("deregister", iid)
    assert iid not in fleet.targets()
    assert fleet.targets()[other] == "healthy"
    record = Path(aws_env["CUTOVER_STATE_DIR"]) / f"balancers-{iid}.json"
    assert fleet.target_group_arn in json.loads(record.read_text())["balancers"]["targetGroups"]

    hook("register", iid)  # no load balancer lists it now: the record brings it back
    assert fleet.targets() == {iid: "healthy", other: "healthy"}
    assert not record.exists()


def test_instance_outside_any_group_behind_a_classic_elb(make_fleet, hook):
    fleet = make_fleet(desired=2, target_group=False, classic=True, in_group=False)
    iid, other = fleet.instance_ids

    hook("deregister", iid)
    assert fleet.elb_instances().get(iid, "Unknown") != "InService"

    hook("register", iid)
    assert fleet.elb_instances() == {iid: "InService", other: "InService"}


def test_lone_instance_outside_a_group_is_refused(make_fleet, hook):
    fleet = make_fleet(desired=1, in_group=False)
    (iid,) = fleet.instance_ids

    with pytest.raises(HookError) as error:
        hook("deregister", iid)

    assert error.value.exit_code == EXIT_REFUSED
    assert fleet.targets() == {iid: "healthy"}


def test_register_without_any_known_load_balancer_fails_clearly(make_fleet, hook):
    fleet = make_fleet(desired=1, target_group=False, in_group=False)
    with pytest.raises(HookError, match="no load balancer known"):
        hook("register", fleet.instance_ids[0])


def test_target_group_given_as_option_for_an_unattached_target_group(make_fleet, hook):
    fleet = make_fleet(2, 3, 2, attach=False)  # registered by hand, not attached to the group
    iid = fleet.instance_ids[0]

    hook("deregister", iid, target_group_arns=[fleet.target_group_arn])
    assert iid not in fleet.targets()

    hook("register", iid)  # the record from deregister remembers the target group
    assert fleet.targets()[iid] == "healthy"
    assert fleet.capacity() == (2, 3, 2)


def test_registered_port_is_kept(make_fleet, hook):
    fleet = make_fleet(desired=2, in_group=False)
    iid, _ = fleet.instance_ids
    fleet.elbv2.deregister_targets(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid}])
    fleet.elbv2.register_targets(
        TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": iid, "Port": 8080}]
    )

    hook("deregister", iid)
    hook("register", iid)

    health = fleet.elbv2.describe_target_health(TargetGroupArn=fleet.target_group_arn)
    ports = {d["Target"]["Id"]: d["Target"]["Port"] for d in health["TargetHealthDescriptions"]}
    assert ports[iid] == 8080


def _clients_created(session) -> list[str]:
    created: list[str] = []

    def record(event_name: str, **kwargs) -> None:
        created.append(event_name.removeprefix("creating-client-class."))

    session.events.register("creating-client-class", record)
    return created


@pytest.mark.parametrize("classic", [False, True])
def test_a_classic_elb_client_is_created_only_where_a_classic_elb_is(make_fleet, hook, classic):
    """Issue 25: each botocore client costs a hook process tens of milliseconds."""
    fleet = make_fleet(2, 3, 2, classic=classic)
    iid = fleet.instance_ids[0]
    session = fast_session()
    created = _clients_created(session)

    hook("deregister", iid, session=session)
    hook("register", iid, session=session)

    assert ("elastic-load-balancing" in created) is classic
    assert "codedeploy" not in created  # only repairs ask CodeDeploy
    assert fleet.capacity() == (2, 3, 2) and fleet.hook_tags() == {}
