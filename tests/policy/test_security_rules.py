"""Every hole the review found, and every control the program meets, on the resources the real
program registers: the shipped stack passes, and the one change that opens the hole fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from policy import rules
from policy.rules import Resource, Settings
from preview.cli import evaluate_stack

SETTINGS = Settings(deregister_timeout=400)
CERT = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c"


def _resources(evaluation) -> list[Resource]:
    return [
        Resource(r.type, r.name, {**r.outputs, **r.inputs})
        for r in evaluation.resources
        if r.custom
    ]


@pytest.fixture(scope="module")
def production() -> list[Resource]:
    return _resources(evaluate_stack("production"))


def _where(resources: list[Resource], type_: str, suffix: str = "") -> Resource:
    (found,) = [r for r in resources if r.type == type_ and r.name.endswith(suffix)]
    return found


def _change(resources: list[Resource], target: Resource, **props) -> list[Resource]:
    return [replace(r, props={**r.props, **props}) if r is target else r for r in resources]


def _without(resources: list[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type != type_]


def _ingress(group_id: str, port: int, **source) -> Resource:
    return Resource(
        rules.SG_INGRESS_RULE,
        f"opening-{port}-{'-'.join(map(str, source.values()))}",
        {
            "securityGroupId": group_id,
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
            **source,
        },
    )


def _sg(resources: list[Resource], role: str) -> str:
    return _where(resources, rules.SECURITY_GROUP, f"-{role}").props["id"]


def _statement(statement: dict) -> Resource:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return Resource("aws:iam/rolePolicy:RolePolicy", "extra", {"policy": json.dumps(document)})


def _policies(resources: list[Resource]) -> set[str]:
    return {v.policy for v in rules.check(resources, SETTINGS)}


def test_the_production_stack_passes_every_rule(production):
    assert rules.check(production, SETTINGS) == []


HOLES: list[tuple[str, Callable[[list[Resource]], list[Resource]], str]] = [
    (
        "ssh-via-two-halves",
        lambda r: [
            *r,
            _ingress(_sg(r, "lb"), 22, cidrIpv4="0.0.0.0/1"),
            _ingress(_sg(r, "lb"), 22, cidrIpv4="128.0.0.0/1"),
        ],
        "no-internet-ingress-to-instances",
    ),
    (
        "ssh-via-ipv6",
        lambda r: [*r, _ingress(_sg(r, "lb"), 22, cidrIpv6="::/0")],
        "no-internet-ingress-to-instances",
    ),
    (
        "ssh-via-prefix-list",
        lambda r: [*r, _ingress(_sg(r, "lb"), 22, prefixListId="pl-0123456789abcdef0")],
        "no-internet-ingress-to-instances",
    ),
    (
        "database-port-to-the-world",
        lambda r: [*r, _ingress(_sg(r, "database"), 5432, cidrIpv4="0.0.0.0/0")],
        "no-internet-ingress-to-instances",
    ),
    (
        "wildcard-behind-a-condition",
        lambda r: [
            *r,
            _statement(
                {
                    "Effect": "Allow",
                    "Action": "autoscaling:UpdateAutoScalingGroup",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ),
        ],
        "iam-least-privilege",
    ),
    (
        "not-action",
        lambda r: [*r, _statement({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        "iam-least-privilege",
    ),
    (
        "pass-role-anywhere",
        lambda r: [*r, _statement({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})],
        "iam-least-privilege",
    ),
    (
        "administrator-access",
        lambda r: [
            *r,
            Resource(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "admin",
                {"role": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
        ],
        "iam-least-privilege",
    ),
    (
        "unbounded-capacity-updates",
        lambda r: [
            *r,
            _statement(
                {
                    "Effect": "Allow",
                    "Action": "autoscaling:UpdateAutoScalingGroup",
                    "Resource": "arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:*",
                }
            ),
        ],
        "iam-least-privilege",
    ),
    (
        "trust-without-source-account",
        lambda r: [
            *r,
            Resource(
                "aws:iam/role:Role",
                "unbound",
                {
                    "assumeRolePolicy": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "codedeploy.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ]
                        }
                    )
                },
            ),
        ],
        "trust-bound-to-account",
    ),
    (
        "public-database",
        lambda r: _change(r, _where(r, "aws:rds/instance:Instance"), publiclyAccessible=True),
        "database-hardened",
    ),
    (
        "unencrypted-database",
        lambda r: _change(r, _where(r, "aws:rds/instance:Instance"), storageEncrypted=False),
        "database-hardened",
    ),
    (
        "no-database-log-exports",  # RDS.9
        lambda r: _change(
            r, _where(r, "aws:rds/instance:Instance"), enabledCloudwatchLogsExports=[]
        ),
        "database-hardened",
    ),
    (
        "no-database-iam-auth",  # RDS.10
        lambda r: _change(
            r, _where(r, "aws:rds/instance:Instance"), iamDatabaseAuthenticationEnabled=False
        ),
        "database-hardened",
    ),
    (
        "no-enhanced-monitoring",  # RDS.6
        lambda r: _change(r, _where(r, "aws:rds/instance:Instance"), monitoringInterval=0),
        "database-hardened",
    ),
    (
        "unencrypted-queue",
        lambda r: _change(
            r, _where(r, "aws:sqs/queue:Queue", "-queue"), sqsManagedSseEnabled=False
        ),
        "encrypted-at-rest",
    ),
    (
        "unencrypted-ebs",
        lambda r: _change(
            r,
            _where(r, rules.LAUNCH_TEMPLATE),
            blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}],
        ),
        "encrypted-at-rest",
    ),
    (
        "invalid-headers-kept",  # ELB.4
        lambda r: _change(
            r, _where(r, "aws:lb/loadBalancer:LoadBalancer"), dropInvalidHeaderFields=False
        ),
        "load-balancer-hardened",
    ),
    (
        "no-access-logs",  # ELB.5
        lambda r: _change(r, _where(r, "aws:lb/loadBalancer:LoadBalancer"), accessLogs=None),
        "load-balancer-hardened",
    ),
    (
        "no-deletion-protection",  # ELB.6
        lambda r: _change(
            r, _where(r, "aws:lb/loadBalancer:LoadBalancer"), enableDeletionProtection=False
        ),
        "load-balancer-hardened",
    ),
    (
        "hop-limit-2",
        lambda r: _change(
            r,
            _where(r, rules.LAUNCH_TEMPLATE),
            metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2},
        ),
        "imdsv2-required",
    ),
    (
        "public-ips",  # EC2.9
        lambda r: _change(
            r,
            _where(r, rules.LAUNCH_TEMPLATE),
            networkInterfaces=[{"associatePublicIpAddress": "true", "securityGroups": []}],
        ),
        "instances-without-public-ips",
    ),
    (
        "one-instance-type",  # AutoScaling.6
        lambda r: _change(r, _where(r, "aws:autoscaling/group:Group"), mixedInstancesPolicy=None),
        "mixed-instance-types",
    ),
    (
        "default-security-group-unmanaged",  # EC2.2
        lambda r: _without(r, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"),
        "vpc-hardened",
    ),
    (
        "default-security-group-with-rules",  # EC2.2
        lambda r: _change(
            r,
            _where(r, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"),
            ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
        ),
        "vpc-hardened",
    ),
    ("no-flow-logs", lambda r: _without(r, "aws:ec2/flowLog:FlowLog"), "vpc-hardened"),  # EC2.6
    (
        "no-access-logging",  # S3.9
        lambda r: _without(r, "aws:s3/bucketLogging:BucketLogging"),
        "buckets-logged-and-expiring",
    ),
    (
        "no-lifecycle",  # S3.10
        lambda r: _without(r, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
        "buckets-logged-and-expiring",
    ),
    (
        "host-count-above-the-fleet",
        lambda r: [
            *_change(
                r,
                _where(r, "aws:codedeploy/deploymentGroup:DeploymentGroup"),
                deploymentConfigName="Cutover.Three",
            ),
            Resource(
                "aws:codedeploy/deploymentConfig:DeploymentConfig",
                "three",
                {
                    "deploymentConfigName": "Cutover.Three",
                    "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 3},
                },
            ),
        ],
        "deployment-keeps-a-healthy-instance",
    ),
]


@pytest.mark.parametrize(("open_hole", "policy"), [h[1:] for h in HOLES], ids=[h[0] for h in HOLES])
def test_each_hole_is_caught_by_its_rule_alone(production, open_hole, policy):
    assert _policies(open_hole(list(production))) == {policy}


@pytest.mark.parametrize("kind", ["EC2,ELB", "ELB,EC2", "ELB"])
def test_health_check_types_including_elb_pass(production, kind):
    group = _where(production, "aws:autoscaling/group:Group")
    assert _policies(_change(production, group, healthCheckType=kind)) == set()


def test_an_http_listener_beside_https_must_redirect(evaluate_variant_resources):
    resources = evaluate_variant_resources(
        lambda v: v["cutover:loadBalancer"].update(certificateArn=CERT, listeners=None)
    )
    assert _policies(resources) == set()
    http = next(
        r
        for r in resources
        if r.type == "aws:lb/listener:Listener" and r.props["protocol"] == "HTTP"
    )
    forward = [{"type": "forward", "targetGroupArn": "arn:tg"}]
    assert _policies(_change(resources, http, defaultActions=forward)) == {"load-balancer-hardened"}


def test_an_opt_out_on_the_group_lifts_exactly_its_control(production):
    group = _where(production, "aws:autoscaling/group:Group")
    tags = [*group.props["tags"], {"key": rules.OPT_OUTS_TAG, "value": "ELB.5"}]
    lb = _where(production, "aws:lb/loadBalancer:LoadBalancer")
    no_logs = _change(production, lb, accessLogs=None, enableDeletionProtection=False)
    opted = [replace(r, props={**r.props, "tags": tags}) if r is group else r for r in no_logs]
    messages = [v.message for v in rules.check(opted, SETTINGS)]
    assert messages == ["has no deletion protection (ELB.6)"]


@pytest.fixture
def evaluate_variant_resources():
    from tests.infra.conftest import run_program, stack_values

    def run(change) -> list[Resource]:
        values = stack_values("production")
        change(values)
        return _resources(run_program("production", values))

    return run
