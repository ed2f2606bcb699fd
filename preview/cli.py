"""Offline preview: what a stack would create, evaluated under Pulumi mocks (no cloud account).

    python -m preview STACK [--config FILE] [--json] [--check] [--terraform-plan FILE]

Prints a table of every resource (type, logical name, key inputs) and the stack outputs, or with
``--json`` a JSON array of ``{"type", "name", "inputs"}`` (inputs as the engine receives them).
Invalid config exits with status 2 and one line on stderr naming the key and the rule.
``--check`` also runs the policy pack's rules (``policy/``) over the resources and exits with
status 1 when any is violated, as ``pulumi preview --policy-pack policy`` would.
``--terraform-plan FILE`` also writes the resources as a Terraform plan JSON document
(``preview.terraformplan``) for checkov or trivy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cutover.exitcodes import CHECK_FAILED, OK
from cutover.files import write_text
from cutover.main import run
from policy.rules import Resource, Settings, Violation, check
from preview.terraformplan import convert
from stack.load import (
    StackConfig,
    load_mapping,
    load_stack_file,
    opt_out_lines,
    read_stack_file,
    stack_file_path,
    to_pulumi_values,
)

# Inputs worth a column in the table, per type token (others: none).
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone"),
    "aws:ec2/natGateway:NatGateway": ("connectivityType",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName",),
    "aws:ec2/securityGroup:SecurityGroup": ("description",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "fromPort",
        "cidrIpv4",
        "referencedSecurityGroupId",
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        "fromPort",
        "cidrIpv4",
        "referencedSecurityGroupId",
    ),
    "aws:lb/loadBalancer:LoadBalancer": ("loadBalancerType", "internal"),
    "aws:lb/targetGroup:TargetGroup": ("protocol", "port", "deregistrationDelay"),
    "aws:lb/listener:Listener": ("protocol", "port"),
    "aws:elb/loadBalancer:LoadBalancer": ("connectionDrainingTimeout",),
    "aws:ec2/launchTemplate:LaunchTemplate": ("instanceType", "imageId"),
    "aws:autoscaling/group:Group": (
        "name",
        "minSize",
        "desiredCapacity",
        "maxSize",
        "healthCheckType",
    ),
    "aws:autoscaling/policy:Policy": ("policyType",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("comparisonOperator", "threshold"),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": (
        "deploymentGroupName",
        "deploymentConfigName",
    ),
    "aws:codedeploy/application:Application": ("computePlatform",),
    "aws:sqs/queue:Queue": ("visibilityTimeoutSeconds",),
    "aws:rds/instance:Instance": ("engine", "engineVersion", "instanceClass", "multiAz"),
    "aws:ec2/flowLog:FlowLog": ("trafficType", "logDestinationType"),
    "aws:lb/listenerRule:ListenerRule": ("priority",),
    "aws:autoscaling/tag:Tag": ("tag",),
}


def evaluate(stack: str, config_path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every resource of ``stack`` as ``{"type", "name", "inputs"}``; raises ``ConfigError``."""
    return [r.to_json() for r in evaluate_stack(stack, config_path).resources]


def evaluate_stack(stack: str, config_path: str | Path | None = None):  # -> mocks.Evaluation
    """Validate the stack file, then run the real program on it under the mocks."""
    path = Path(config_path) if config_path else stack_file_path(stack)
    values = read_stack_file(path)
    cfg = load_mapping(values, stack=stack, source=str(path))  # errors name the file
    from preview import mocks

    return mocks.evaluate(
        _run_program, stack=stack, values=to_pulumi_values(values), region=cfg.region
    )


def _run_program() -> None:
    # Imported here, under the mocks (pulumi_aws's modules are most of a preview's time: see
    # mocks.collector_paused). Deprecation warnings are not hidden: Python's default filters
    # already show only those raised by code run as __main__, not the ones pulumi_aws's own
    # modules raise on import.
    from infra import __main__ as program

    program.main(program.load_pulumi_config())


def check_stack(evaluation, cfg: StackConfig) -> list[Violation]:
    """The policy pack's violations for an evaluated stack (inputs plus the mocked ids/ARNs)."""
    resources = [
        Resource(r.type, r.name, {**r.outputs, **r.inputs})
        for r in evaluation.resources
        if r.custom
    ]
    settings = Settings(
        deregister_timeout=cfg.deployment.deregister_timeout,
        register_timeout=cfg.deployment.register_timeout,
    )
    return check(resources, settings)


def _summary(inputs: dict[str, Any], keys: tuple[str, ...]) -> str:
    parts = []
    for key in keys:
        value = inputs.get(key)
        if value not in (None, "", []):
            shown = json.dumps(value) if isinstance(value, bool) else value
            parts.append(f"{key}={shown}")
    return " ".join(parts)


def display_type(type_token: str) -> str:
    """``aws:s3/bucketPolicy:BucketPolicy`` -> ``aws:s3:BucketPolicy`` (as the Pulumi CLI shows)."""
    package, module, kind = type_token.split(":", 2)
    return f"{package}:{module.split('/')[0]}:{kind}"


def render_table(evaluation) -> str:
    rows = [
        (display_type(r.type), r.name, _summary(r.inputs, KEY_INPUTS.get(r.type, ())))
        for r in evaluation.resources
    ]
    width_type = max(len(row[0]) for row in rows)
    width_name = max(len(row[1]) for row in rows)
    lines = [f"{'TYPE':<{width_type}}  {'NAME':<{width_name}}  KEY INPUTS"]
    lines += [f"{t:<{width_type}}  {n:<{width_name}}  {s}".rstrip() for t, n, s in rows]
    custom = sum(1 for r in evaluation.resources if r.custom)
    lines.append(
        f"\n{len(rows)} resources ({custom} AWS resources, {len(rows) - custom} components)"
    )
    lines.append("Outputs:")
    lines += [f"  {key}: {value}" for key, value in sorted(evaluation.outputs.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Exit codes (the convention of every Cutover command): 0 ok, 1 a policy violation,
    2 bad config or usage, 3 an environment problem (an unreadable file), 70 unexpected (one
    line; the traceback with ``--debug``)."""
    parser = argparse.ArgumentParser(
        prog="python -m preview",
        description=__doc__.split("\n")[0],
        epilog="Exit codes: 0 ok, 1 policy violation (--check), 2 invalid config or usage, "
        "3 environment problem, 70 unexpected error (rerun with --debug).",
    )
    parser.add_argument("stack", help="stack name, e.g. staging or production")
    parser.add_argument(
        "--config", help="stack file (default: Pulumi.STACK.yaml at the repository root)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array of resources")
    parser.add_argument(
        "--check", action="store_true", help="run the policy pack's rules; exit 1 on a violation"
    )
    parser.add_argument(
        "--terraform-plan",
        metavar="FILE",
        help="also write the resources as a Terraform plan JSON document (for checkov, trivy)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an unexpected error"
    )
    args = parser.parse_args(argv)
    return run("python -m preview", lambda: _preview(args), ["--debug"] if args.debug else [])


def _preview(args: argparse.Namespace) -> int:
    evaluation = evaluate_stack(args.stack, args.config)
    cfg = load_stack_file(args.config or stack_file_path(args.stack), stack=args.stack)
    violations = check_stack(evaluation, cfg) if args.check else []
    if args.terraform_plan:
        plan = json.dumps(convert(evaluation.resources), indent=1, default=str)
        write_text(Path(args.terraform_plan), plan + "\n")
    if args.json:
        print(json.dumps([r.to_json() for r in evaluation.resources], indent=2, default=str))
    else:
        print(f"Stack {args.stack}: what `pulumi up` would create (offline, under mocks)\n")
        print(render_table(evaluation))
    for line in opt_out_lines(cfg):
        print(f"opt-out: {line}", file=sys.stderr)
    if args.check:
        for violation in violations:
            print(f"policy violation: {violation}", file=sys.stderr)
        verdict = f"{len(violations)} violation(s)" if violations else "all rules pass"
        print(f"Policy pack on {args.stack}: {verdict}", file=sys.stderr)
        return CHECK_FAILED if violations else OK
    return OK


if __name__ == "__main__":
    sys.exit(main())
