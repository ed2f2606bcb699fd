"""stack.load: one typed model, every rule, errors that name the key (and the file)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from stack.load import (
    CertificateRequest,
    ConfigError,
    FleetConfig,
    load_mapping,
    load_stack_file,
    read_stack_file,
    stack_file_path,
)

CERT = "arn:aws:acm:eu-central-1:123456789012:certificate/abc"
# The least a stack file needs: a region, an alternative instance type (AutoScaling.6) and a
# certificate for the internet-facing load balancer (ELB.1).
MINIMAL = {
    "aws:region": "eu-central-1",
    "cutover:fleet": {"instanceTypes": ["t3a.small"]},
    "cutover:loadBalancer": {"certificateArn": CERT},
}


def staging_values() -> dict[str, Any]:
    return copy.deepcopy(read_stack_file(stack_file_path("staging")))


def production_values() -> dict[str, Any]:
    return copy.deepcopy(read_stack_file(stack_file_path("production")))


def test_both_stack_files_load_with_their_settings():
    staging = load_stack_file(stack_file_path("staging"))
    production = load_stack_file(stack_file_path("production"))
    assert staging.stack == "staging" and staging.environment == "staging"
    assert (staging.fleet.min_size, staging.fleet.desired_capacity, staging.fleet.max_size) == (
        1,
        1,
        2,
    )
    assert staging.fleet.allow_downtime is True
    assert staging.scaling.mode == "step"
    assert staging.network.nat_gateways == "none"
    assert production.zero_downtime and not staging.zero_downtime
    assert staging.fleet.public_ips and not production.fleet.public_ips
    assert production.fleet.instance_types == ("m6a.large", "m5.large")
    assert production.network.availability_zones == 3
    assert (
        production.fleet.min_size,
        production.fleet.desired_capacity,
        production.fleet.max_size,
    ) == (2, 3, 6)
    assert production.queue.enabled and production.database.enabled
    assert production.database.deletion_protection is True  # on unless downtime is allowed
    assert production.group_name == "cutover-production-fleet"


def test_defaults_fill_a_minimal_mapping():
    config = load_mapping(MINIMAL, stack="dev")
    assert config.environment == "dev"  # the stack name
    assert config.fleet == FleetConfig(instance_types=("t3a.small",))
    assert config.zero_downtime and config.load_balancer.access_logs
    assert config.deployment.config == "CodeDeployDefault.OneAtATime"
    assert config.load_balancer.type == "application"
    assert [(x.protocol, x.port) for x in config.load_balancer.listeners] == [
        ("HTTP", 80),
        ("HTTPS", 443),
    ]
    assert config.load_balancer.redirects_http and config.load_balancer.waf.enabled
    assert config.network.subnet_cidrs() == (
        ["10.0.0.0/20", "10.0.16.0/20"],
        ["10.0.128.0/20", "10.0.144.0/20"],
    )


def test_structured_values_may_be_json_strings_as_pulumi_passes_them():
    values = {
        **MINIMAL,
        "cutover:fleet": json.dumps(
            {"minSize": 2, "maxSize": 4, "desiredCapacity": 3, "instanceTypes": ["t3a.small"]}
        ),
    }
    config = load_mapping(values, stack="dev")
    assert (config.fleet.min_size, config.fleet.desired_capacity, config.fleet.max_size) == (
        2,
        3,
        4,
    )


def test_a_certificate_adds_an_https_listener_by_default():
    config = load_mapping(MINIMAL, stack="dev")
    listeners = [(x.protocol, x.port, x.certificate_arn) for x in config.load_balancer.listeners]
    assert listeners == [("HTTP", 80, ""), ("HTTPS", 443, CERT)]


def test_a_requested_certificate_adds_an_https_listener_too():
    request = {"domainName": "www.example.com", "zoneId": "Z0123456789ABC"}
    config = load_mapping(
        {**MINIMAL, "cutover:loadBalancer": {"certificate": request}}, stack="dev"
    )
    lb = config.load_balancer
    assert [(x.protocol, x.port, x.certificate_arn) for x in lb.listeners] == [
        ("HTTP", 80, ""),
        ("HTTPS", 443, ""),  # the stack's certificate: its ARN is known at deployment
    ]
    assert lb.certificate == CertificateRequest("www.example.com", "Z0123456789ABC")
    assert lb.redirects_http and not lb.serves_plain_http


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("t3.small", "x86_64"),
        ("m6i.large", "x86_64"),
        ("m7g.large", "arm64"),
        ("c7gn.xlarge", "arm64"),
        ("t4g.micro", "arm64"),
        ("g5.xlarge", "x86_64"),
        ("g5g.xlarge", "arm64"),
        ("a1.large", "arm64"),
    ],
)
def test_architecture_follows_the_instance_family(instance_type, architecture):
    assert FleetConfig(instance_type=instance_type).architecture == architecture


def _set(path: str, value: Any):
    """A change to staging's values: ``section.key`` (or ``section.a.b``) = value."""

    def change(values: dict[str, Any]) -> None:
        section, *keys = path.split(".")
        target = values.setdefault(f"cutover:{section}", {})
        if not keys:
            values[f"cutover:{section}"] = value
            return
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value

    return change


INVALID = [
    # (id, stack values, change, key named in the error, words of the rule)
    (
        "min-above-desired",
        "staging",
        _set("fleet.minSize", 2),
        "cutover:fleet.desiredCapacity",
        "between minSize and maxSize",
    ),
    ("min-above-max", "staging", _set("fleet.maxSize", 0), "cutover:fleet.maxSize", ">= 1"),
    (
        "desired-above-max",
        "staging",
        _set("fleet.desiredCapacity", 3),
        "cutover:fleet.desiredCapacity",
        "between minSize and maxSize",
    ),
    (
        "min-above-max-size",
        "production",
        _set("fleet.minSize", 7),
        "cutover:fleet.minSize",
        "<= maxSize",
    ),
    (
        "size-not-a-number",
        "staging",
        _set("fleet.maxSize", "two"),
        "cutover:fleet.maxSize",
        "whole number",
    ),
    (
        "production-min-1",
        "production",
        lambda v: v["cutover:fleet"].update(minSize=1, desiredCapacity=1),
        "cutover:fleet.minSize",
        "must be >= 2 so a deployment never takes the last instance out",
    ),
    (
        "production-1-az",
        "production",
        _set("network.availabilityZones", 1),
        "cutover:network.availabilityZones",
        ">= 2",
    ),
    (
        "production-all-at-once",
        "production",
        _set("deployment.config", "CodeDeployDefault.AllAtOnce"),
        "cutover:deployment.config",
        "AllAtOnce",
    ),
    (
        "drain-too-long",
        "staging",
        _set("loadBalancer.deregistrationDelay", 340),
        "cutover:loadBalancer.deregistrationDelay",
        "which must exceed the deregistration delay 340 s + 20 s: use at least 401 s",
    ),
    (
        "register-too-short",
        "staging",
        _set("deployment.registerTimeout", 30),
        "cutover:deployment.registerTimeout",
        "healthyThreshold",
    ),
    (
        "bad-cidr",
        "staging",
        _set("network.vpcCidr", "10.20.0.0/33"),
        "cutover:network.vpcCidr",
        "CIDR",
    ),
    (
        "host-bits-set",
        "staging",
        _set("network.vpcCidr", "10.20.1.0/16"),
        "cutover:network.vpcCidr",
        "CIDR",
    ),
    (
        "public-cidr",
        "staging",
        _set("network.vpcCidr", "8.8.0.0/16"),
        "cutover:network.vpcCidr",
        "private",
    ),
    (
        "vpc-too-small",
        "staging",
        _set("network.vpcCidr", "10.20.0.0/26"),
        "cutover:network.vpcCidr",
        "/16 and /24",
    ),
    (
        "unknown-nat",
        "staging",
        _set("network.natGateways", "two"),
        "cutover:network.natGateways",
        "none | single | perAz",
    ),
    (
        "unknown-deployment-config",
        "staging",
        _set("deployment.config", "CodeDeployDefault.TwoAtATime"),
        "cutover:deployment.config",
        "CodeDeployDefault.OneAtATime",
    ),
    (
        "unknown-lb-type",
        "staging",
        _set("loadBalancer.type", "gateway"),
        "cutover:loadBalancer.type",
        "application | network | classic",
    ),
    (
        "https-without-certificate",
        "staging",
        _set("loadBalancer.listeners", [{"protocol": "HTTPS", "port": 443}]),
        "cutover:loadBalancer.listeners[0].certificateArn",
        "needs a certificate",
    ),
    (
        "network-http-listener",
        "staging",
        lambda v: v["cutover:loadBalancer"].update(type="network", healthCheck={"protocol": "TCP"}),
        "cutover:loadBalancer.listeners[0].protocol",
        "TCP | TLS",
    ),
    (
        "network-path-on-tcp-check",
        "staging",
        lambda v: v["cutover:loadBalancer"].update(
            type="network",
            listeners=[{"protocol": "TCP", "port": 80}],
            healthCheck={"protocol": "TCP", "path": "/health"},
        ),
        "cutover:loadBalancer.healthCheck.path",
        "only HTTP and HTTPS",
    ),
    (
        "duplicate-listener-port",
        "staging",
        _set(
            "loadBalancer.listeners",
            [{"protocol": "HTTP", "port": 80}, {"protocol": "HTTP", "port": 80}],
        ),
        "cutover:loadBalancer.listeners",
        "80 repeats",
    ),
    (
        "timeout-not-below-interval",
        "staging",
        _set("loadBalancer.healthCheck.timeout", 15),
        "cutover:loadBalancer.healthCheck.timeout",
        "shorter than interval",
    ),
    (
        "typo-in-section",
        "staging",
        _set("fleet.minsize", 1),
        "cutover:fleet.minsize",
        "unknown key",
    ),
    (
        "typo-in-nested-section",
        "staging",
        _set("scaling.scaleOut.cpuAbvoe", 80),
        "cutover:scaling.scaleOut.cpuAbvoe",
        "unknown key",
    ),
    (
        "typo-top-level",
        "staging",
        lambda v: v.update({"cutover:fleets": {}}),
        "cutover:fleets",
        "unknown key",
    ),
    (
        "unknown-scaling-mode",
        "staging",
        _set("scaling.mode", "predictive"),
        "cutover:scaling.mode",
        "targetTracking | step",
    ),
    (
        "scale-in-above-scale-out",
        "staging",
        _set("scaling.scaleIn.cpuBelow", 80),
        "cutover:scaling.scaleIn.cpuBelow",
        "below scaleOut.cpuAbove",
    ),
    (
        "scale-in-adds-capacity",
        "staging",
        _set("scaling.scaleIn.adjustment", 1),
        "cutover:scaling.scaleIn.adjustment",
        "negative",
    ),
    (
        "alarm-period",
        "staging",
        _set("scaling.scaleOut.period", 90),
        "cutover:scaling.scaleOut.period",
        "multiple of 60",
    ),
    (
        "bad-region",
        "staging",
        lambda v: v.update({"aws:region": "europe"}),
        "aws:region",
        "AWS region",
    ),
    ("missing-region", "staging", lambda v: v.pop("aws:region"), "aws:region", "AWS region"),
    ("bad-ami", "staging", _set("fleet.ami", "ubuntu"), "cutover:fleet.ami", "AMI id"),
    (
        "bad-bool",
        "staging",
        _set("fleet.allowDowntime", "yes"),
        "cutover:fleet.allowDowntime",
        "true or false",
    ),
    (
        "reserved-tag",
        "staging",
        _set("tags", {"cutover:allow-downtime": "true"}),
        "cutover:tags.cutover:allow-downtime",
        "reserved",
    ),
    (
        "hooks-state-tag",
        "staging",
        _set("tags", {"cutover:baseline": "{}"}),
        "cutover:tags.cutover:baseline",
        "reserved for the program and its hooks",
    ),
    (
        "reserved-db-user",
        "production",
        _set("database.username", "postgres"),
        "cutover:database.username",
        "reserved",
    ),
    (
        "custom-config-without-hosts",
        "staging",
        _set("deployment.config", "TwoAtATime"),
        "cutover:deployment.config",
        "minimumHealthyHosts",
    ),
    (
        "bad-environment",
        "staging",
        lambda v: v.update({"cutover:environment": "Prod!"}),
        "cutover:environment",
        "lowercase",
    ),
]


@pytest.mark.parametrize(
    ("stack", "change", "key", "rule"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_config_names_the_key_and_the_rule(stack, change, key, rule):
    values = staging_values() if stack == "staging" else production_values()
    change(values)
    with pytest.raises(ConfigError) as raised:
        load_mapping(values, stack=stack, source=f"Pulumi.{stack}.yaml")
    error = raised.value
    assert error.key == key, str(error)
    assert rule in error.rule, str(error)
    assert str(error).startswith(f"Pulumi.{stack}.yaml: {key}: ")
    assert "\n" not in str(error)


def test_an_error_from_a_stack_file_names_the_file(tmp_path: Path):
    text = stack_file_path("staging").read_text().replace("minSize: 1", "minSize: 5")
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(text)
    with pytest.raises(
        ConfigError, match=r"Pulumi\.qa\.yaml: cutover:fleet\.minSize: must be <= maxSize"
    ):
        load_stack_file(path)


def test_the_stack_name_comes_from_the_file_name(tmp_path: Path):
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(
        stack_file_path("staging").read_text().replace("  cutover:environment: staging\n", "")
    )
    config = load_stack_file(path)
    assert (config.stack, config.environment, config.group_name) == ("qa", "qa", "cutover-qa-fleet")


def test_a_custom_deployment_config_needs_its_minimum_healthy_hosts():
    values = {
        **MINIMAL,
        "cutover:fleet": {"minSize": 3, "maxSize": 6, "instanceTypes": ["t3a.small"]},
        "cutover:deployment": {
            "config": "Cutover.TwoAtATime",
            "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 2},
        },
    }
    config = load_mapping(values, stack="dev")
    assert config.deployment.is_custom and config.deployment.minimum_healthy_hosts.value == 2


def test_unreadable_yaml_is_a_config_error(tmp_path: Path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_stack_file(path)
