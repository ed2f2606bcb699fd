"""Each policy rule against a stack that passes and the one change that makes it fail."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from policy import rules
from policy.rules import Resource, Settings

ASG_ARN = (
    "arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web"
)


def _good_stack() -> dict[str, Resource]:
    """A small zero-downtime stack, as the engine would see it (camelCase wire names)."""
    instance_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["autoscaling:DescribeAutoScalingGroups"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": ["autoscaling:EnterStandby", "autoscaling:ExitStandby"],
                "Resource": ASG_ARN,
            },
        ],
    }
    resources = [
        Resource(
            "aws:ec2/subnet:Subnet",
            "private-a",
            {"id": "subnet-a", "availabilityZone": "eu-central-1a"},
        ),
        Resource(
            "aws:ec2/subnet:Subnet",
            "private-b",
            {"id": "subnet-b", "availabilityZone": "eu-central-1b"},
        ),
        Resource(
            "aws:autoscaling/group:Group",
            "web",
            {
                "id": "web",
                "name": "web",
                "minSize": 2,
                "maxSize": 6,
                "desiredCapacity": 3,
                "healthCheckType": "ELB",
                "vpcZoneIdentifiers": ["subnet-a", "subnet-b"],
                "tags": [{"key": "cutover:environment", "value": "production"}],
            },
        ),
        Resource(
            "aws:codedeploy/deploymentGroup:DeploymentGroup",
            "web-deploy",
            {"deploymentConfigName": "CodeDeployDefault.OneAtATime", "autoscalingGroups": ["web"]},
        ),
        Resource(
            "aws:lb/targetGroup:TargetGroup", "web-tg", {"id": "tg", "deregistrationDelay": 120}
        ),
        Resource(
            "aws:ec2/launchTemplate:LaunchTemplate",
            "web-lt",
            {
                "metadataOptions": {"httpTokens": "required"},
                "vpcSecurityGroupIds": ["sg-instances"],
            },
        ),
        Resource(
            "aws:ec2/securityGroup:SecurityGroup",
            "alb-sg",
            {
                "id": "sg-alb",
                "ingress": [
                    {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]},
                    {
                        "protocol": "tcp",
                        "fromPort": 443,
                        "toPort": 443,
                        "cidrBlocks": ["0.0.0.0/0"],
                    },
                ],
            },
        ),
        Resource(
            "aws:ec2/securityGroup:SecurityGroup",
            "instance-sg",
            {
                "id": "sg-instances",
                "ingress": [
                    {"protocol": "tcp", "fromPort": 80, "toPort": 80, "securityGroups": ["sg-alb"]}
                ],
            },
        ),
        Resource(
            "aws:s3/bucket:Bucket",
            "revisions",
            {"id": "revisions-bucket", "bucket": "revisions-bucket"},
        ),
        Resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "revisions-private",
            {
                "bucket": "revisions-bucket",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        Resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "revisions-sse",
            {
                "bucket": "revisions-bucket",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
        ),
        Resource(
            "aws:iam/rolePolicy:RolePolicy",
            "instance-policy",
            {"policy": json.dumps(instance_policy)},
        ),
    ]
    return {r.name: r for r in resources}


def _with(stack: dict[str, Resource], name: str, **props) -> list[Resource]:
    changed = dict(stack)
    changed[name] = replace(stack[name], props={**stack[name].props, **props})
    return list(changed.values())


def _messages(resources, rule: str, settings: Settings | None = None) -> list[str]:
    return [str(v) for v in rules.check(resources, settings) if v.policy == rule]


# The rules the small stack above models; the others are exercised on the real program's
# resources (tests/policy/test_shipped_stacks.py, test_security_rules.py).
MODELLED = (
    "zero-downtime-group-capacity",
    "deployment-keeps-a-healthy-instance",
    "deregistration-delay-fits-hook",
    "imdsv2-required",
    "no-internet-ingress-to-instances",
    "buckets-private-encrypted",
    "iam-least-privilege",
)


def test_the_good_stack_passes_the_rules_it_models():
    assert [v for v in rules.check(_good_stack().values()) if v.policy in MODELLED] == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"minSize": 1}, "MinSize is 1"),
        ({"vpcZoneIdentifiers": ["subnet-a"]}, "spans 1 availability zone"),
        ({"healthCheckType": "EC2"}, "healthCheckType is 'EC2'"),
    ],
)
def test_zero_downtime_group_capacity_fails(change, expected):
    messages = _messages(_with(_good_stack(), "web", **change), "zero-downtime-group-capacity")
    assert len(messages) == 1 and expected in messages[0]


@pytest.mark.parametrize("label", ["staging", "prod", "production"])
def test_the_environment_label_switches_nothing(label):
    tags = [{"key": "cutover:environment", "value": label}]
    resources = _with(_good_stack(), "web", minSize=1, tags=tags)
    assert _messages(resources, "zero-downtime-group-capacity")
    opted_out = [*tags, {"key": "cutover:allow-downtime", "value": "true"}]
    resources = _with(_good_stack(), "web", minSize=1, tags=opted_out)
    assert _messages(resources, "zero-downtime-group-capacity") == []


@pytest.mark.parametrize(("kind", "fails"), [("EC2,ELB", False), ("ELB,EC2", False), ("EC2", True)])
def test_health_check_types_that_include_elb_pass(kind, fails):
    resources = _with(_good_stack(), "web", healthCheckType=kind)
    assert bool(_messages(resources, "zero-downtime-group-capacity")) is fails


@pytest.mark.parametrize(
    ("config", "min_size", "fails"),
    [
        ("CodeDeployDefault.OneAtATime", 2, False),
        ("CodeDeployDefault.OneAtATime", 1, True),
        ("CodeDeployDefault.HalfAtATime", 2, False),
        ("CodeDeployDefault.HalfAtATime", 1, True),
        ("CodeDeployDefault.AllAtOnce", 6, True),
    ],
)
def test_deployment_config_keeps_a_healthy_instance(config, min_size, fails):
    stack = _good_stack()
    resources = _with(stack, "web-deploy", deploymentConfigName=config)
    resources = [
        replace(r, props={**r.props, "minSize": min_size}) if r.name == "web" else r
        for r in resources
    ]
    assert bool(_messages(resources, "deployment-keeps-a-healthy-instance")) is fails


@pytest.mark.parametrize(
    ("hosts", "fails"),
    [
        ({"type": "HOST_COUNT", "value": 1}, False),
        ({"type": "HOST_COUNT", "value": 0}, True),
        ({"type": "FLEET_PERCENT", "value": 25}, False),  # ceil(2 * 25%) = 1 kept
        ({"type": "FLEET_PERCENT", "value": 0}, True),
    ],
)
def test_custom_minimum_healthy_hosts(hosts, fails):
    custom = Resource(
        "aws:codedeploy/deploymentConfig:DeploymentConfig",
        "custom",
        {"deploymentConfigName": "web-custom", "minimumHealthyHosts": hosts},
    )
    resources = _with(_good_stack(), "web-deploy", deploymentConfigName="web-custom") + [custom]
    assert bool(_messages(resources, "deployment-keeps-a-healthy-instance")) is fails


def test_allow_downtime_tag_exempts_a_group_from_the_deployment_floor():
    tags = [
        {"key": "cutover:environment", "value": "staging"},
        {"key": "cutover:allow-downtime", "value": "true"},
    ]
    resources = _with(_good_stack(), "web", minSize=1, desiredCapacity=1, tags=tags)
    assert _messages(resources, "deployment-keeps-a-healthy-instance") == []


@pytest.mark.parametrize(
    ("hosts", "fails"),
    [({"type": "HOST_COUNT", "value": 2}, True), ({"type": "FLEET_PERCENT", "value": 100}, True)],
)
def test_a_floor_the_fleet_cannot_keep_is_refused_not_clamped(hosts, fails):
    custom = Resource(
        "aws:codedeploy/deploymentConfig:DeploymentConfig",
        "custom",
        {"deploymentConfigName": "web-custom", "minimumHealthyHosts": hosts},
    )
    resources = _with(_good_stack(), "web-deploy", deploymentConfigName="web-custom") + [custom]
    messages = _messages(resources, "deployment-keeps-a-healthy-instance")
    assert bool(messages) is fails and "could not take one out" in messages[0]


def test_deregistration_delay_must_fit_the_hook_timeout():
    stack = _good_stack()
    assert (
        _messages(_with(stack, "web-tg", deregistrationDelay=339), "deregistration-delay-fits-hook")
        == []
    )
    assert _messages(
        _with(stack, "web-tg", deregistrationDelay=340), "deregistration-delay-fits-hook"
    ) == [
        "[deregistration-delay-fits-hook] web-tg: drains for 340 s but the deregister hook times "
        "out after 400 s (needs <= 339 s)"
    ]
    # AWS drains for 300 s when nothing is set: too long for a 300 s hook.
    no_delay = _with(stack, "web-tg", deregistrationDelay=None)
    assert _messages(no_delay, "deregistration-delay-fits-hook", Settings(deregister_timeout=300))


def test_imdsv2_is_required():
    resources = _with(_good_stack(), "web-lt", metadataOptions={"httpTokens": "optional"})
    assert _messages(resources, "imdsv2-required") == [
        "[imdsv2-required] web-lt: metadataOptions.httpTokens must be 'required' (IMDSv2)"
    ]


def test_ssh_from_the_internet_is_refused_anywhere():
    ssh = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
    stack = _good_stack()
    resources = _with(stack, "alb-sg", ingress=[*stack["alb-sg"].props["ingress"], ssh])
    assert _messages(resources, "no-internet-ingress-to-instances") == [
        "[no-internet-ingress-to-instances] alb-sg: opens administration port 22 to 0.0.0.0/0"
    ]


def test_the_app_port_open_to_the_internet_on_instances_is_refused():
    open_app = {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}
    resources = _with(_good_stack(), "instance-sg", ingress=[open_app])
    assert any(
        "instance security group instance-sg" in m
        for m in _messages(resources, "no-internet-ingress-to-instances")
    )


def test_separate_ingress_rule_resources_are_checked_too():
    rule = Resource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "ipv6-ssh",
        {
            "securityGroupId": "sg-instances",
            "ipProtocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrIpv6": "::/0",
        },
    )
    messages = _messages([*_good_stack().values(), rule], "no-internet-ingress-to-instances")
    assert len(messages) == 2 and all(
        m.startswith("[no-internet-ingress-to-instances] ipv6-ssh") for m in messages
    )


@pytest.mark.parametrize(
    ("drop", "expected"),
    [("revisions-private", "public access block"), ("revisions-sse", "encryption")],
)
def test_revision_bucket_must_be_private_and_encrypted(drop, expected):
    resources = [r for r in _good_stack().values() if r.name != drop]
    messages = _messages(resources, "buckets-private-encrypted")
    assert len(messages) == 1 and expected in messages[0]


def test_a_public_acl_on_the_bucket_is_refused():
    resources = _with(_good_stack(), "revisions", acl="public-read")
    assert _messages(resources, "buckets-private-encrypted") == [
        "[buckets-private-encrypted] revisions: has a public ACL"
    ]


@pytest.mark.parametrize(
    ("statement", "fails"),
    [
        (
            {"Effect": "Allow", "Action": "autoscaling:UpdateAutoScalingGroup", "Resource": "*"},
            True,
        ),
        ({"Effect": "Allow", "Action": "elasticloadbalancing:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "autoscaling:*Standby", "Resource": "*"}, True),
        (
            {
                "Effect": "Allow",
                "Action": "elasticloadbalancing:DescribeTargetHealth",
                "Resource": "*",
            },
            False,
        ),
        ({"Effect": "Allow", "Action": "autoscaling:EnterStandby", "Resource": ASG_ARN}, False),
        (
            {
                "Effect": "Allow",
                "Action": "autoscaling:EnterStandby",
                "Resource": "*",
                "Condition": {"StringEquals": {"autoscaling:ResourceTag/app": "web"}},
            },
            True,  # a Condition does not hide a wildcard resource
        ),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
    ],
)
def test_instance_policy_has_no_wildcard_mutations(statement, fails):
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    resources = _with(_good_stack(), "instance-policy", policy=document)
    assert bool(_messages(resources, "iam-least-privilege")) is fails


@pytest.mark.parametrize(
    ("config", "hosts", "fleet", "kept"),
    [
        ("CodeDeployDefault.OneAtATime", None, 3, 2),
        ("CodeDeployDefault.HalfAtATime", None, 5, 3),  # deploys to 2: half, rounded down
        ("CodeDeployDefault.HalfAtATime", None, 4, 2),
        ("CodeDeployDefault.AllAtOnce", None, 4, 0),
        ("custom", {"type": "FLEET_PERCENT", "value": 50}, 3, 2),  # 1.5 rounds up to 2
        ("custom", {"type": "FLEET_PERCENT", "value": 100}, 3, 2),  # one must go out to deploy
        ("custom", {"type": "HOST_COUNT", "value": 2}, 5, 2),
        ("CodeDeployDefault.OneAtATime", None, 1, 0),
    ],
)
def test_instances_kept_healthy(config, hosts, fleet, kept):
    assert rules.instances_kept_healthy(config, hosts, fleet) == kept


def test_an_unknown_predefined_config_is_an_error():
    with pytest.raises(ValueError, match="CodeDeployDefault.Typo"):
        rules.instances_kept_healthy("CodeDeployDefault.Typo", None, 3)
