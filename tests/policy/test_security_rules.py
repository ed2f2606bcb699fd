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
LISTENER = "aws:lb/listener:Listener"
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


def _http_listener(resources: list[Resource]) -> Resource:
    (found,) = [r for r in resources if r.type == LISTENER and r.props["protocol"] == "HTTP"]
    return found


def _without_https(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if not (r.type == LISTENER and r.props["protocol"] == "HTTPS")]


def _parameters(resources: list[Resource], changes: dict[str, str]) -> list[Resource]:
    group = _where(resources, "aws:rds/parameterGroup:ParameterGroup")
    values = {p["name"]: p["value"] for p in group.props["parameters"]}
    values.update(changes)
    parameters = [{"name": k, "value": v} for k, v in values.items()]
    return _change(resources, group, parameters=parameters)


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
        "http-only-internet-facing-alb",  # ELB.1: the HTTPS listener gone, HTTP forwards
        lambda r: _change(
            _without_https(r),
            _http_listener(r),
            defaultActions=[{"type": "forward", "targetGroupArn": "arn:tg"}],
        ),
        "load-balancer-hardened",
    ),
    (
        "redirect-to-a-port-without-https",  # ELB.1: the redirect leads nowhere
        lambda r: _without_https(r),
        "load-balancer-hardened",
    ),
    (
        "alb-without-web-acl",  # ELB.16
        lambda r: _without(r, "aws:wafv2/webAclAssociation:WebAclAssociation"),
        "web-acl-on-public-albs",
    ),
    (
        "web-acl-not-logged",  # WAF.11
        lambda r: _without(r, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"),
        "web-acl-on-public-albs",
    ),
    (
        "web-acl-logs-to-a-misnamed-group",  # WAF delivers only to aws-waf-logs-*
        lambda r: _change(
            r,
            _where(r, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"),
            logDestinationConfigs=["arn:aws:logs:eu-central-1:123456789012:log-group:waf"],
        ),
        "web-acl-on-public-albs",
    ),
    (
        "web-acl-without-rules",  # WAF.10
        lambda r: _change(r, _where(r, "aws:wafv2/webAcl:WebAcl"), rules=[]),
        "web-acl-on-public-albs",
    ),
    (
        "database-on-the-default-parameter-group",
        lambda r: _without(r, "aws:rds/parameterGroup:ParameterGroup"),
        "database-hardened",
    ),
    (
        "database-without-forced-tls",
        lambda r: _parameters(r, {"rds.force_ssl": "0"}),
        "database-hardened",
    ),
    (
        "database-without-ddl-logging",
        lambda r: _parameters(r, {"log_statement": "none"}),
        "database-hardened",
    ),
    (
        "database-without-slow-query-logging",
        lambda r: _parameters(r, {"log_min_duration_statement": "-1"}),
        "database-hardened",
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
        lambda v: v["cutover:loadBalancer"].update(
            certificateArn=CERT, certificate=None, listeners=None
        )
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


@pytest.mark.parametrize(
    ("control", "hole"),
    [
        ("ELB.1", "http-only-internet-facing-alb"),
        ("ELB.16", "alb-without-web-acl"),
    ],
)
def test_the_opt_out_tag_lifts_the_https_and_waf_rules(production, control, hole):
    open_hole = next(h[1] for h in HOLES if h[0] == hole)
    opened = open_hole(list(production))
    group = _where(opened, "aws:autoscaling/group:Group")
    tags = [*group.props["tags"], {"key": rules.OPT_OUTS_TAG, "value": control}]
    assert _policies(_change(opened, group, tags=tags)) == set()


def test_staging_passes_with_its_plain_http_opt_out_and_fails_without_it():
    staging = _resources(evaluate_stack("staging"))
    assert _policies(staging) == set()
    group = _where(staging, "aws:autoscaling/group:Group")
    tags = [
        {**t, "value": t["value"].replace("ELB.1", "")} if t["key"] == rules.OPT_OUTS_TAG else t
        for t in group.props["tags"]
    ]
    violations = rules.check(_change(staging, group, tags=tags), SETTINGS)
    assert [(v.policy, v.message.split(" (")[0]) for v in violations] == [
        ("load-balancer-hardened", "serves plain HTTP with no HTTPS listener to redirect to")
    ]


def test_a_classic_balancer_serving_plain_http_is_caught():
    elb = Resource(
        "aws:elb/loadBalancer:LoadBalancer",
        "classic",
        {
            "accessLogs": {"enabled": True, "bucket": "logs"},
            "listeners": [{"lbPort": 80, "lbProtocol": "HTTP", "instancePort": 80}],
        },
    )
    assert [v.message for v in rules.check([elb], SETTINGS)] == [
        "serves plain HTTP on 80; a classic load balancer cannot redirect: HTTPS/SSL listeners "
        "only (ELB.3)"
    ]
    https = {"lbPort": 443, "lbProtocol": "HTTPS", "instancePort": 80}
    assert rules.check([replace(elb, props={**elb.props, "listeners": [https]})], SETTINGS) == []


def test_an_internal_alb_needs_no_web_acl(production):
    lb = _where(production, "aws:lb/loadBalancer:LoadBalancer")
    without = _without(production, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert _policies(_change(without, lb, internal=True)) == set()


@pytest.fixture
def evaluate_variant_resources():
    from tests.infra.conftest import run_program, stack_values

    def run(change) -> list[Resource]:
        values = stack_values("production")
        change(values)
        return _resources(run_program("production", values))

    return run
