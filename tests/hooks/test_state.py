"""Issue 14: state that scales. The group carries at most one hooks tag whatever the number of
instances in flight, AWS tag limits hold (enforced here: moto has none), earlier versions' tags
are migrated, and the calls per hook run do not grow with the group."""

from __future__ import annotations

import json
import threading
from collections import Counter

from hooks.state import CLOSING_GRACE_SECONDS, CLOSING_STALE_SECONDS, Entry

from .aws_rules import enforce_aws_rules
from .conftest import fast_session, record_calls


def test_a_group_with_48_user_tags_deploys_half_at_a_time(make_fleet, hook):
    fleet = make_fleet(4, 10, 10)
    for start in (0, 24):  # AWS takes 25 tags per call at most
        fleet.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": fleet.asg,
                    "ResourceType": "auto-scaling-group",
                    "Key": f"team:{n}",
                    "Value": "x" * 256,
                    "PropagateAtLaunch": False,
                }
                for n in range(start, start + 24)
            ]
        )
    batch = fleet.instance_ids[:5]
    refusals: list[str] = []
    errors: list[BaseException] = []
    peak = [0]

    def cycle(command: str, iid: str) -> None:
        session = fast_session()
        enforce_aws_rules(session.events, fleet, refusals)
        try:
            hook(command, iid, session=session)
            peak[0] = max(peak[0], len(fleet.tags()))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    for command in ("deregister", "register"):
        threads = [threading.Thread(target=cycle, args=(command, i)) for i in batch]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

    assert errors == [] and refusals == []
    assert peak[0] <= 49  # 48 of the user's + the hooks' one record
    assert fleet.capacity() == (4, 10, 10)
    assert fleet.hook_tags() == {}


def test_tags_of_an_earlier_version_are_migrated(make_fleet, hook, monkeypatch):
    fleet = make_fleet(2, 4, 3)
    stuck, other = fleet.instance_ids[:2]
    # What the previous hooks left: a baseline and a Standby instance of an aborted deployment.
    fleet.autoscaling.update_auto_scaling_group(AutoScalingGroupName=fleet.asg, MinSize=1)
    fleet.autoscaling.enter_standby(
        AutoScalingGroupName=fleet.asg, InstanceIds=[stuck], ShouldDecrementDesiredCapacity=True
    )
    fleet.set_tag("cutover:baseline", '{"min":2,"max":4,"desired":3,"d":"d-OLD"}')
    fleet.set_tag(f"cutover:standby:{stuck}", '{"d":"d-OLD","t":"2026-01-01T00:00:00+00:00"}')

    hook("deregister", other)

    tags = fleet.tags()
    assert "cutover:baseline" not in tags
    assert not [k for k in tags if k.startswith("cutover:standby:")]
    assert json.loads(fleet.entries()[stuck])["d"] == "d-OLD"
    assert fleet.record()["min"] == 2 and fleet.record()["max"] == 4

    hook("register", other)
    monkeypatch.delenv("DEPLOYMENT_ID")
    hook("reconcile", asg=fleet.asg, force=True)
    assert fleet.capacity() == (2, 4, 3)
    assert fleet.hook_tags() == {}


def calls_per_cycle(fleet, hook) -> list[str]:
    session = fast_session()
    calls = record_calls(session)
    iid = fleet.instance_ids[0]
    hook("deregister", iid, session=session)
    hook("register", iid, session=session)
    return calls


def test_calls_per_hook_run_do_not_grow_with_the_group(make_fleet, hook):
    small = calls_per_cycle(make_fleet(2, 4, 2), hook)
    large = calls_per_cycle(make_fleet(30, 40, 30), hook)  # same shape, 15 times the size

    assert sorted(large) == sorted(small)
    # hooks/README "API budget": 7 Auto Scaling (1 to lower MinSize, the entry saying so since
    # its announcement; 1 to restore it; no wait for Standby after EnterStandby), 5 ELB
    # (EnterStandby takes the target out of the group's target group; the drain slept through
    # from its start, no look after it; register looks once the target can be healthy), 8 EC2
    # (2 of them keep the entry's Standby stage, which the give-back of an instance lost in
    # Standby depends on; register takes its entry from its deregister's local record).
    families = Counter(c.split(":")[0] for c in small)
    assert families == {"autoscaling": 7, "elasticloadbalancing": 5, "ec2": 8}, small
    assert "autoscaling:DescribeAutoScalingInstances" not in small


def test_a_closing_entry_carries_its_registers_deadline_compactly():
    entry = Entry("i-0123456789abcdef0", "d-" + "X" * 80, 1796097903.963, (2, 6))
    closing = entry.as_closing(until=1796098003.2)
    value = closing.value()

    assert '"x":1796098004' in value  # whole seconds, rounded up
    assert len(value) < 160  # AWS allows 256
    parsed = Entry.parse(entry.instance_id, value)
    assert parsed.closing and parsed.until == 1796098004
    assert not parsed.closing_is_stale(now=1796098004 + CLOSING_GRACE_SECONDS)
    assert parsed.closing_is_stale(now=1796098004 + CLOSING_GRACE_SECONDS + 1)


def test_a_closing_entry_of_an_earlier_version_is_stale_after_300_seconds():
    value = '{"d":"d-OLD","t":1000.0,"s":"closing","b":[2,6]}'  # no deadline
    old = Entry.parse("i-0123456789abcdef0", value)

    assert old.closing and old.until is None and old.baseline == (2, 6)
    assert not old.closing_is_stale(now=1000.0 + CLOSING_STALE_SECONDS)
    assert old.closing_is_stale(now=1000.0 + CLOSING_STALE_SECONDS + 1)
    assert Entry.parse("i-0123456789abcdef0", old.value()) == old
