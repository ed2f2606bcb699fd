"""The group of the last deployment, read beside the instance's own DescribeInstances
(hooks/statefile.GroupHint): one round trip fewer out of service, and only a hint."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from hooks.statefile import GroupHint

from .conftest import fast_session, record_calls
from .test_aws_rules import _launching


def _hint(iid: str) -> GroupHint:
    return GroupHint(os.environ["CUTOVER_STATE_DIR"], iid)


def test_a_second_deregister_reads_its_group_beside_its_describe_instances(make_fleet, hook):
    fleet = make_fleet(2, 6, 3)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    hook("register", iid)
    assert _hint(iid).name() == fleet.asg

    # Each call waits until the other has started: side by side, or a timeout fails the run.
    both = threading.Barrier(2, timeout=5)
    seen: list[str] = []

    def meet(model, **kwargs) -> None:
        if model.name in ("DescribeInstances", "DescribeAutoScalingGroups") and len(seen) < 2:
            seen.append(model.name)
            both.wait()

    session = fast_session()
    session.events.register("before-call", meet)
    calls = record_calls(session)
    hook("deregister", iid, session=session)
    hook("register", iid)

    assert sorted(seen) == ["DescribeAutoScalingGroups", "DescribeInstances"]
    # The hinted read replaces the group read that followed DescribeInstances: no extra call.
    assert calls.count("autoscaling:DescribeAutoScalingGroups") == 2  # locate, the look
    assert fleet.capacity() == (2, 6, 3) and fleet.hook_tags() == {}


def test_a_hint_that_names_another_group_costs_one_read_and_is_corrected(make_fleet, hook):
    fleet = make_fleet(2, 6, 3)
    other = make_fleet(1, 3, 1)
    iid = fleet.instance_ids[0]
    _hint(iid).remember(other.asg)  # the instance was in that group once (detached since)

    session = fast_session()
    calls = record_calls(session)
    hook("deregister", iid, session=session)
    hook("register", iid)

    assert calls.count("autoscaling:DescribeAutoScalingGroups") == 3  # the hint's, then its own
    assert _hint(iid).name() == fleet.asg
    assert fleet.capacity() == (2, 6, 3) and fleet.hook_tags() == {}
    assert other.capacity() == (1, 3, 1) and other.lifecycle()[other.instance_ids[0]] == "InService"


def test_a_hint_naming_a_group_that_is_gone_is_no_error(make_fleet, hook):
    fleet = make_fleet(2, 6, 3)
    iid = fleet.instance_ids[0]
    _hint(iid).remember("cutover-deleted-group")

    hook("deregister", iid)
    hook("register", iid)

    assert _hint(iid).name() == fleet.asg
    assert fleet.capacity() == (2, 6, 3) and fleet.lifecycle()[iid] == "InService"


def test_an_unwritable_state_folder_loses_the_hint_only(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    hint = GroupHint(str(blocked / "state"), "i-0123456789abcdef0")
    hint.remember("cutover-production-fleet")  # no error: the next deregister reads the group
    assert hint.name() is None
    assert not Path(blocked / "state").exists()


def test_the_launch_deployment_leaves_the_hint_for_the_first_in_service_one(make_fleet, hook):
    """A scale-out launch: CodeDeploy deploys while the instance waits in Pending:Wait, and its
    deregister has nothing to take out, but it remembers the group: the instance's first
    deployment in service then reads the group beside its DescribeInstances."""
    fleet = make_fleet(2, 6, 3)
    iid = fleet.instance_ids[0]
    assert _hint(iid).name() is None
    session = fast_session()
    _launching(session, fleet, iid)
    hook("deregister", iid, session=session)
    assert _hint(iid).name() == fleet.asg
    assert fleet.capacity() == (2, 6, 3) and fleet.hook_tags() == {}
