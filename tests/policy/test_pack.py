"""The CrossGuard adapter: the rules run on pulumi_policy's own resource objects."""

from __future__ import annotations

from pulumi_policy import PolicyResource, PolicyResourceOptions, StackValidationArgs

from policy.pack import policies
from policy.rules import RULES


def _resource(type_: str, name: str, props: dict, deps: dict | None = None) -> PolicyResource:
    options = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        additional_secret_outputs=[],
        custom_timeouts=None,
    )
    return PolicyResource(
        resource_type=type_,
        props=props,
        urn=f"urn:pulumi:production::cutover::{type_}::{name}",
        name=name,
        opts=options,
        provider=None,
        parent=None,
        dependencies=[],
        property_dependencies=deps or {},
    )


def _violations(resources: list[PolicyResource], config: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for policy in policies():
        args = StackValidationArgs(resources, config)
        policy.validate(
            args, lambda message, urn, name=policy.name: found.setdefault(name, []).append(message)
        )
    return found


def test_every_rule_is_a_mandatory_stack_policy():
    assert [p.name for p in policies()] == list(RULES)
    assert all(p.enforcement_level.value == "mandatory" for p in policies())


def test_property_dependencies_resolve_references_whose_values_are_not_known_yet():
    # During a first preview the subnets' ids are unknown; the engine still says which resources
    # the group's vpcZoneIdentifiers came from.
    subnet_a = _resource(
        "aws:ec2/subnet:Subnet", "private-a", {"availabilityZone": "eu-central-1a"}
    )
    subnet_b = _resource(
        "aws:ec2/subnet:Subnet", "private-b", {"availabilityZone": "eu-central-1b"}
    )
    group_props = {
        "minSize": 2,
        "healthCheckType": "ELB",
        "vpcZoneIdentifiers": [],
        "tags": [{"key": "cutover:environment", "value": "production"}],
    }
    two_zones = _resource(
        "aws:autoscaling/group:Group",
        "web",
        group_props,
        {"vpcZoneIdentifiers": [subnet_a, subnet_b]},
    )
    one_zone = _resource(
        "aws:autoscaling/group:Group", "web", group_props, {"vpcZoneIdentifiers": [subnet_a]}
    )

    assert "zero-downtime-group-capacity" not in _violations([subnet_a, subnet_b, two_zones], {})
    assert _violations([subnet_a, subnet_b, one_zone], {})["zero-downtime-group-capacity"] == [
        "web: spans 1 availability zone(s); needs >= 2"
    ]


def test_policy_config_sets_the_deregister_hook_timeout():
    target_group = _resource(
        "aws:lb/targetGroup:TargetGroup", "web-tg", {"deregistrationDelay": 200}
    )
    assert "deregistration-delay-fits-hook" not in _violations(
        [target_group], {"deregisterTimeout": 400}
    )
    assert _violations([target_group], {"deregisterTimeout": 200})[
        "deregistration-delay-fits-hook"
    ] == ["web-tg: drains for 200 s but the deregister hook times out after 200 s (needs <= 139 s)"]


def test_the_log_bucket_is_recognised_before_its_name_is_known():
    # First preview: bucket names are unknown; the engine still says where targetBucket and
    # bucket came from, so the log bucket is not asked to log its own access (S3.9).
    logs = _resource("aws:s3/bucket:Bucket", "logs", {})
    revisions = _resource("aws:s3/bucket:Bucket", "revisions", {})
    logging = _resource(
        "aws:s3/bucketLogging:BucketLogging",
        "revisions-access-logs",
        {"bucket": "", "targetBucket": ""},
        {"bucket": [revisions], "targetBucket": [logs]},
    )
    found = _violations([logs, revisions, logging], {})["buckets-logged-and-expiring"]
    assert "revisions: has no lifecycle rules (S3.10)" in found
    assert not [m for m in found if "access logging" in m]
    unlogged = _violations([logs, revisions], {})["buckets-logged-and-expiring"]
    assert "revisions: has no server access logging (S3.9)" in unlogged
