"""Secure by default, and the AWS APIs' own limits, checked offline with the range in the error."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from hooks import group as hook_group
from stack import load as infra_config
from stack.load import (
    ConfigError,
    load_mapping,
    opt_out_lines,
    opted_out_controls,
    read_stack_file,
    stack_file_path,
)


def production() -> dict[str, Any]:
    return copy.deepcopy(read_stack_file(stack_file_path("production")))


def staging() -> dict[str, Any]:
    return copy.deepcopy(read_stack_file(stack_file_path("staging")))


def refused(values: dict[str, Any], stack: str = "production") -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load_mapping(values, stack=stack, source=f"Pulumi.{stack}.yaml")
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"Pulumi.{stack}.yaml: {raised.value.key}: ")
    return raised.value


# -- the environment is a label, not a switch --------------------------------------------------


def test_a_prod_label_with_one_instance_and_all_at_once_is_refused():
    # The issue's reproduction: `environment: prod` used to switch every production rule off.
    values = production()
    values["cutover:environment"] = "prod"
    values["cutover:fleet"].update(minSize=1, desiredCapacity=1)
    values["cutover:deployment"]["config"] = "CodeDeployDefault.AllAtOnce"
    error = refused(values)
    assert error.key == "cutover:fleet.minSize"
    assert "fleet.allowDowntime: true" in error.rule  # names the visible way out

    values["cutover:fleet"].update(minSize=2, desiredCapacity=2)
    assert refused(values).key == "cutover:deployment.config"


@pytest.mark.parametrize("label", ["production", "prod", "live", "anything"])
def test_the_opt_out_is_the_same_whatever_the_label_and_it_is_listed(label):
    values = staging()
    values["cutover:environment"] = label
    cfg = load_mapping(values, stack="qa")
    assert not cfg.zero_downtime
    assert any(line.startswith("fleet.allowDowntime: true") for line in opt_out_lines(cfg))
    assert {"EC2.9", "AutoScaling.6", "ELB.5", "ELB.6"} <= set(opted_out_controls(cfg))


def test_production_opts_out_of_nothing():
    cfg = load_mapping(production(), stack="production")
    assert opt_out_lines(cfg) == [] and opted_out_controls(cfg) == ()
    assert cfg.load_balancer.access_logs and cfg.load_balancer.deletion_protection


def test_one_instance_type_needs_a_visible_opt_out():
    values = production()
    del values["cutover:fleet"]["instanceTypes"]
    error = refused(values)
    assert error.key == "cutover:fleet.instanceTypes"
    assert "AutoScaling.6" in error.rule and "singleInstanceType: true" in error.rule
    values["cutover:fleet"]["singleInstanceType"] = True
    cfg = load_mapping(values, stack="production")
    assert opted_out_controls(cfg) == ("AutoScaling.6",)
    values["cutover:fleet"]["instanceTypes"] = ["m6a.large"]
    assert refused(values).key == "cutover:fleet.singleInstanceType"


def test_public_ips_are_an_explicit_opt_in():
    values = staging()
    del values["cutover:fleet"]["publicIps"]
    error = refused(values, "staging")
    assert error.key == "cutover:fleet.publicIps" and "opt in" in error.rule
    values = production()
    values["cutover:fleet"]["publicIps"] = True
    assert refused(values).key == "cutover:fleet.publicIps"


def test_access_logs_and_deletion_protection_default_on_and_can_be_turned_off_visibly():
    values = production()
    values["cutover:loadBalancer"].update(accessLogs=False, deletionProtection=False)
    cfg = load_mapping(values, stack="production")
    assert set(opted_out_controls(cfg)) == {"ELB.5", "ELB.6"}
    assert any("accessLogs: false" in line for line in opt_out_lines(cfg))


# -- values AWS would reject -------------------------------------------------------------------


def _lb(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    if "certificateArn" in changes:  # instead of the certificate production requests
        values["cutover:loadBalancer"].pop("certificate")
    values["cutover:loadBalancer"].update(changes)
    return values


def _check(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    values["cutover:loadBalancer"]["healthCheck"].update(changes)
    return values


REJECTED = [
    # (id, change of production's values, key, words of the rule)
    (
        "unknown-type",
        lambda v: v["cutover:fleet"].update(instanceType="foo.bar"),
        "cutover:fleet.instanceType",
        "not an EC2 instance type",
    ),
    (
        "typo-did-you-mean",
        lambda v: v["cutover:fleet"].update(instanceType="m6i.lrage"),
        "cutover:fleet.instanceType",
        "did you mean m6i.large?",
    ),
    (
        "alternative-typo",
        lambda v: v["cutover:fleet"].update(instanceTypes=["m6a.large", "m5.lareg"]),
        "cutover:fleet.instanceTypes[1]",
        "did you mean m5.large?",
    ),
    (
        "pinned-image-on-two-architectures",
        lambda v: v["cutover:fleet"].update(
            ami="ami-0123456789abcdef0", instanceTypes=["m7g.large"]
        ),
        "cutover:fleet.instanceTypes[0]",
        "serves one architecture",
    ),
    (
        "alternative-repeats-primary",
        lambda v: v["cutover:fleet"].update(instanceTypes=["m6i.large"]),
        "cutover:fleet.instanceTypes[0]",
        "listed twice",
    ),
    (
        "alb-matcher-100",
        lambda v: _check(v, matcher="100"),
        "cutover:loadBalancer.healthCheck.matcher",
        "200-499 for a application load balancer",
    ),
    (
        "alb-matcher-500",
        lambda v: _check(v, matcher="200-500"),
        "cutover:loadBalancer.healthCheck.matcher",
        "200-499",
    ),
    (
        "nlb-matcher-600",
        lambda v: _lb(
            v,
            type="network",
            listeners=[{"protocol": "TCP", "port": 80}],
            healthCheck={"protocol": "HTTP", "path": "/health", "matcher": "200-600"},
        ),
        "cutover:loadBalancer.healthCheck.matcher",
        "200-599 for a network load balancer",
    ),
    (
        "classic-timeout-90",
        lambda v: _lb(v, type="classic", healthCheck={"timeout": 90, "interval": 120}),
        "cutover:loadBalancer.healthCheck.timeout",
        "2..60 for a classic load balancer",
    ),
    (
        "classic-has-no-matcher",
        lambda v: _lb(v, type="classic", healthCheck={"matcher": "200"}),
        "cutover:loadBalancer.healthCheck.matcher",
        "no matcher",
    ),
    (
        "alb-timeout-121",
        lambda v: _check(v, timeout=121, interval=300),
        "cutover:loadBalancer.healthCheck.timeout",
        "2..120 for a application load balancer",
    ),
    (
        "alb-interval-4",
        lambda v: _check(v, interval=4, timeout=2),
        "cutover:loadBalancer.healthCheck.interval",
        "5..300",
    ),
    (
        "threshold-11",
        lambda v: _check(v, healthyThreshold=11),
        "cutover:loadBalancer.healthCheck.healthyThreshold",
        "2..10",
    ),
    (
        "alarm-period-30s",
        lambda v: v.update({"cutover:scaling": {"mode": "step", "scaleOut": {"period": 30}}}),
        "cutover:scaling.scaleOut.period",
        "must be >= 60",
    ),
    (
        "host-count-above-fleet",
        lambda v: v["cutover:deployment"].update(
            config="Cutover.Three", minimumHealthyHosts={"type": "HOST_COUNT", "value": 3}
        ),
        "cutover:deployment.minimumHealthyHosts.value",
        "HOST_COUNT must be 0..1 for a fleet of minSize 2",
    ),
    (
        "fleet-percent-keeps-everyone",
        lambda v: v["cutover:deployment"].update(
            config="Cutover.All", minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 75}
        ),
        "cutover:deployment.minimumHealthyHosts.value",
        "FLEET_PERCENT must be 0..50 for a fleet of minSize 2",
    ),
    (
        "rules-on-a-network-lb",
        lambda v: _lb(
            v,
            type="network",
            healthCheck={"protocol": "TCP"},
            listeners=[
                {
                    "protocol": "TCP",
                    "port": 80,
                    "rules": [{"pathPatterns": ["/a"], "targetPort": 81}],
                }
            ],
        ),
        "cutover:loadBalancer.listeners[0].rules",
        "application load balancer",
    ),
    (
        "rule-without-target-port",
        lambda v: _lb(
            v, listeners=[{"protocol": "HTTP", "port": 80, "rules": [{"pathPatterns": ["/a"]}]}]
        ),
        "cutover:loadBalancer.listeners[0].rules[0].targetPort",
        "required",
    ),
    (
        "rules-on-a-redirecting-http-listener",
        lambda v: _lb(
            v,
            certificateArn="arn:aws:acm:eu-central-1:123456789012:certificate/abc",
            listeners=[
                {
                    "protocol": "HTTP",
                    "port": 80,
                    "rules": [{"pathPatterns": ["/a"], "targetPort": 81}],
                },
                {"protocol": "HTTPS", "port": 443},
            ],
        ),
        "cutover:loadBalancer.listeners[0].rules",
        "redirects to HTTPS",
    ),
    (
        "too-many-tags",
        lambda v: v.update({"cutover:tags": {f"k{i}": "v" for i in range(41)}}),
        "cutover:tags",
        "at most 40 tags",
    ),
    (
        "certificate-without-https-listener",
        lambda v: _lb(
            v,
            certificateArn="arn:aws:acm:eu-central-1:123456789012:certificate/abc",
            listeners=[{"protocol": "HTTP", "port": 80}],
        ),
        "cutover:loadBalancer.listeners",
        "no listener is HTTPS",
    ),
    (
        "internet-facing-without-certificate",  # ELB.1: HTTPS unless the file opts out
        lambda v: _lb(v, certificate=None, listeners=[{"protocol": "HTTP", "port": 80}]),
        "cutover:loadBalancer.certificateArn",
        "allowPlainHttp: true",
    ),
    (
        "plain-http-opt-out-with-a-certificate",
        lambda v: _lb(v, allowPlainHttp=True),
        "cutover:loadBalancer.allowPlainHttp",
        "nothing to opt out of",
    ),
    (
        "classic-cannot-redirect",
        lambda v: _lb(v, type="classic", healthCheck={"protocol": "HTTP", "path": "/"}),
        "cutover:loadBalancer.listeners",
        "cannot redirect HTTP to HTTPS",
    ),
    (
        "both-certificates",
        lambda v: v["cutover:loadBalancer"].update(
            certificateArn="arn:aws:acm:eu-central-1:123456789012:certificate/a"
        ),
        "cutover:loadBalancer.certificate",
        "not both",
    ),
    (
        "certificate-without-zone",
        lambda v: _lb(v, certificate={"domainName": "www.example.com"}),
        "cutover:loadBalancer.certificate.zoneId",
        "is required",
    ),
    (
        "certificate-for-a-bad-name",
        lambda v: _lb(v, certificate={"domainName": "WWW example", "zoneId": "Z0123456789ABC"}),
        "cutover:loadBalancer.certificate.domainName",
        "DNS name",
    ),
    (
        "waf-on-a-network-balancer",
        lambda v: _lb(
            v,
            type="network",
            listeners=[{"protocol": "TLS", "port": 443}],
            healthCheck={"protocol": "TCP"},
            waf={"enabled": True},
        ),
        "cutover:loadBalancer.waf.enabled",
        "Application Load Balancers only",
    ),
    (
        "waf-unknown-rule-group",
        lambda v: _lb(v, waf={"managedRuleGroups": ["CommonRuleSet"]}),
        "cutover:loadBalancer.waf.managedRuleGroups[0]",
        "AWSManagedRules",
    ),
    (
        "waf-no-rule-group",
        lambda v: _lb(v, waf={"managedRuleGroups": []}),
        "cutover:loadBalancer.waf.managedRuleGroups",
        "at least one",
    ),
    (
        "waf-rate-limit-below-aws-minimum",
        lambda v: _lb(v, waf={"rateLimit": 5}),
        "cutover:loadBalancer.waf.rateLimit",
        "must be >= 10",
    ),
    (
        "waf-log-retention",
        lambda v: _lb(v, waf={"logRetentionDays": 100}),
        "cutover:loadBalancer.waf.logRetentionDays",
        "CloudWatch Logs retention period",
    ),
    (
        "target-protocol",
        lambda v: _lb(v, targetProtocol="TCP"),
        "cutover:loadBalancer.targetProtocol",
        "HTTP | HTTPS",
    ),
    (
        "log-statement-none",
        lambda v: v["cutover:database"].update(logStatement="none"),
        "cutover:database.logStatement",
        "ddl | mod | all",
    ),
    (
        "slow-statements-never-logged",
        lambda v: v["cutover:database"].update(logMinDurationStatement=-1),
        "cutover:database.logMinDurationStatement",
        "must be >= 0",
    ),
    (
        "target-port-out-of-range",
        lambda v: _lb(v, listeners=[{"protocol": "HTTP", "port": 80, "targetPort": 70000}]),
        "cutover:loadBalancer.listeners[0].targetPort",
        "<= 65535",
    ),
    (
        "monitoring-interval",
        lambda v: v["cutover:database"].update(monitoringInterval=7),
        "cutover:database.monitoringInterval",
        "0, 1, 5, 10, 15, 30, 60",
    ),
    (
        "termination-policy",
        lambda v: v["cutover:fleet"].update(terminationPolicies=["Oldest"]),
        "cutover:fleet.terminationPolicies[0]",
        "OldestInstance",
    ),
    (
        "kms-key",
        lambda v: v.update({"cutover:revisions": {"kmsKeyArn": "my-key"}}),
        "cutover:revisions.kmsKeyArn",
        "KMS key ARN",
    ),
    (
        "ami-ssm-reference-malformed",
        lambda v: v["cutover:fleet"].update(ami="resolve:ssm:"),
        "cutover:fleet.ami",
        "resolve:ssm:<parameter>",
    ),
]


@pytest.mark.parametrize(
    ("change", "key", "rule"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_values_aws_would_reject_are_refused_with_the_range(change, key, rule):
    values = production()
    change(values)
    error = refused(values)
    assert error.key == key, str(error)
    assert rule in error.rule, str(error)


@pytest.mark.parametrize(
    ("lb", "check"),
    [
        ("application", {"matcher": "200-499"}),
        ("application", {"matcher": "200,204,301-302"}),
        ("network", {"protocol": "HTTP", "path": "/", "matcher": "200-599"}),
        ("classic", {"timeout": 60, "interval": 61, "healthyThreshold": 2}),
    ],
)
def test_the_edges_of_aws_ranges_are_accepted(lb, check):
    values = production()
    listeners = [{"protocol": "TCP" if lb == "network" else "HTTPS", "port": 443}]
    values["cutover:loadBalancer"].update(type=lb, listeners=listeners, healthCheck=check)
    values["cutover:deployment"]["registerTimeout"] = 600  # room for a 61 s interval
    load_mapping(values, stack="production")


def test_listeners_keep_their_backend_ports():
    values = production()
    values["cutover:loadBalancer"]["listeners"] = [
        {"protocol": "HTTPS", "port": 443},
        {"protocol": "HTTPS", "port": 8080, "targetPort": 9000},
        {
            "protocol": "HTTPS",
            "port": 8443,
            "rules": [{"pathPatterns": ["/api/*"], "targetPort": 9100}],
        },
    ]
    cfg = load_mapping(values, stack="production")
    assert [x.target_port for x in cfg.load_balancer.listeners] == [80, 9000, 80]
    assert cfg.load_balancer.target_ports == (80, 9000, 9100)


@pytest.mark.parametrize(
    ("ami", "image"),
    [
        ("", "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
        ("ami-0123456789abcdef0", "ami-0123456789abcdef0"),
        ("resolve:ssm:/golden/web", "resolve:ssm:/golden/web"),
    ],
)
def test_the_image_never_changes_under_the_stack(ami, image):
    values = production()
    values["cutover:fleet"]["ami"] = ami
    assert load_mapping(values, stack="production").fleet.image_id == image


# -- one home per fact: the hooks' tags --------------------------------------------------------


def test_the_hooks_tag_prefix_is_derived_from_hooks_not_redefined():
    hook_tags = [
        value
        for name, value in vars(hook_group).items()
        if name.endswith(("_TAG", "_TAG_PREFIX")) and isinstance(value, str)
    ]
    assert hook_tags, "hooks.group defines its tag names"
    assert all(tag.startswith(infra_config.HOOK_TAG_PREFIX) for tag in hook_tags)
    assert infra_config.HOOK_TAG_PREFIX == "cutover:"
    for module in Path(infra_config.__file__).parent.glob("*.py"):
        source = module.read_text()
        for tag in hook_tags:
            assert f'"{tag}"' not in source, f"{module.name} redefines the hooks' tag {tag}"


# -- HTTPS, WAF and the database's parameters ---------------------------------------------------


def test_plain_http_is_a_visible_opt_out_listed_and_tagged():
    values = production()
    lb = values["cutover:loadBalancer"]
    del lb["certificate"]
    lb.update(listeners=[{"protocol": "HTTP", "port": 80}], allowPlainHttp=True)
    cfg = load_mapping(values, stack="production")
    assert cfg.load_balancer.serves_plain_http
    assert opted_out_controls(cfg) == ("ELB.1",)
    assert any(line.startswith("loadBalancer.allowPlainHttp: true") for line in opt_out_lines(cfg))


def test_the_web_acl_is_on_by_default_and_its_opt_out_is_listed_and_tagged():
    cfg = load_mapping(production(), stack="production")
    waf = cfg.load_balancer.waf
    assert waf.enabled and waf.rate_limit == 2000 and waf.log_retention_days == 365
    assert waf.managed_rule_groups == infra_config.WAF_MANAGED_RULE_GROUPS
    assert opted_out_controls(cfg) == () and opt_out_lines(cfg) == []

    values = production()
    values["cutover:loadBalancer"]["waf"] = {"enabled": False}
    cfg = load_mapping(values, stack="production")
    assert opted_out_controls(cfg) == ("ELB.16",)
    assert opt_out_lines(cfg) == [
        "loadBalancer.waf.enabled: false -- no WAF web ACL in front of it (ELB.16)"
    ]


@pytest.mark.parametrize(
    ("changes", "waf"),
    [
        ({"internal": True}, False),  # nothing from the internet to filter
        (
            {
                "type": "network",
                "listeners": [{"protocol": "TCP", "port": 80}],
                "healthCheck": {"protocol": "TCP"},
                "certificate": None,
            },
            False,  # AWS WAF cannot be associated with an NLB
        ),
    ],
)
def test_no_web_acl_where_it_cannot_or_need_not_be(changes, waf):
    values = production()
    values["cutover:loadBalancer"].pop("waf")
    values["cutover:loadBalancer"].update(changes)
    cfg = load_mapping(values, stack="production")
    assert cfg.load_balancer.waf.enabled is waf
    assert "ELB.16" not in opted_out_controls(cfg)


def test_an_internal_plain_http_balancer_says_so_without_a_key():
    values = production()
    lb = values["cutover:loadBalancer"]
    del lb["certificate"]
    lb.update(internal=True, listeners=[{"protocol": "HTTP", "port": 80}])
    cfg = load_mapping(values, stack="production")
    assert opted_out_controls(cfg) == ("ELB.1",)
    assert opt_out_lines(cfg) == [
        "internal load balancer serving plain HTTP inside the VPC (ELB.1)"
    ]


def test_database_parameters_default_to_ddl_and_slow_statements():
    db = load_mapping(production(), stack="production").database
    assert (db.log_statement, db.log_min_duration_statement) == ("ddl", 1000)
    assert db.parameter_group_family == "postgres16"
    values = production()
    values["cutover:database"].update(engineVersion="15.7", logStatement="mod")
    db = load_mapping(values, stack="production").database
    assert (db.parameter_group_family, db.log_statement) == ("postgres15", "mod")
