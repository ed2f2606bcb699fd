"""The stack's resources as a Terraform plan JSON document, for scanners that read one
(checkov ``--framework terraform_plan``, trivy ``config``).

pulumi-aws is bridged from the Terraform AWS provider: each Pulumi type is a Terraform resource
type and each input a Terraform argument in camelCase, with list blocks named in the plural
(``defaultActions`` is ``default_action``). ``convert`` maps the preview's captured resources
(type token, logical name, wire-named inputs, mocked outputs) to Terraform's names and writes
references between resources the way ``terraform show -json`` does: the referring argument is
unknown in ``planned_values`` (as in a real plan, where an ARN exists only after apply) and
``configuration`` carries its ``references``, so cross-resource checks (a load balancer and its
web ACL association, a database and its parameter group) can follow them.

A Pulumi type without a Terraform name here is an error: a scanner that silently skips a
resource would pass it unread. No pulumi import: the module converts plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

FORMAT_VERSION = "1.2"
# The Terraform release whose plan format this follows (recorded in the document only).
TERRAFORM_VERSION = "1.9.8"
PROVIDER = "registry.terraform.io/hashicorp/aws"

# Pulumi type token -> Terraform resource type (pulumi-aws v7 / Terraform AWS provider v6).
TERRAFORM_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:autoscaling/group:Group": "aws_autoscaling_group",
    "aws:autoscaling/policy:Policy": "aws_autoscaling_policy",
    "aws:autoscaling/tag:Tag": "aws_autoscaling_group_tag",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:codedeploy/application:Application": "aws_codedeploy_app",
    "aws:codedeploy/deploymentConfig:DeploymentConfig": "aws_codedeploy_deployment_config",
    "aws:codedeploy/deploymentGroup:DeploymentGroup": "aws_codedeploy_deployment_group",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:elb/loadBalancer:LoadBalancer": "aws_elb",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/healthCheck:HealthCheck": "aws_route53_health_check",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        "aws_vpc_security_group_egress_rule"
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "aws_vpc_security_group_ingress_rule"
    ),
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (
        "aws_wafv2_web_acl_logging_configuration"
    ),
}

# Pulumi's plural names for Terraform's repeated blocks (and a few list arguments), per
# Terraform type: Pulumi name -> Terraform name. Other names only change case.
RENAMES: dict[str, dict[str, str]] = {
    "aws_autoscaling_group": {
        "vpcZoneIdentifiers": "vpc_zone_identifier",
        "tags": "tag",  # a group's tags are `tag` blocks with propagate_at_launch
        "overrides": "override",
    },
    "aws_autoscaling_policy": {"stepAdjustments": "step_adjustment"},
    "aws_db_parameter_group": {"parameters": "parameter"},
    "aws_elb": {"listeners": "listener"},
    "aws_lb_listener": {"defaultActions": "default_action"},
    "aws_lb_listener_rule": {"actions": "action", "conditions": "condition"},
    "aws_route_table": {"routes": "route"},
    "aws_route53_record": {
        "aliases": "alias",
        "weightedRoutingPolicies": "weighted_routing_policy",
    },
    "aws_s3_bucket_lifecycle_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_wafv2_web_acl": {"rules": "rule"},
}
# Arguments that are maps in Terraform (their keys are data, not argument names).
MAPS = ("tags", "dimensions")
# Outputs another resource's argument may hold: a match makes that argument a reference.
REFERENCED_OUTPUTS = (
    "id",
    "arn",
    "name",
    "bucket",
    "arnSuffix",
    "dnsName",
    "fqdn",
    "certificateArn",
    "url",
    "zoneId",
)
# Outputs that are also inputs count only for these (a name the program sets is still the
# resource's identity; a zone id the program passes in is not the resource's own).
IDENTITY_INPUTS = ("name", "bucket")


class CapturedResource(Protocol):
    """What the preview captures of a resource (``preview.mocks.RecordedResource``)."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    custom: bool


class UnknownResourceType(ValueError):
    """A Pulumi type the converter has no Terraform name for."""


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def terraform_type(token: str) -> str:
    try:
        return TERRAFORM_TYPES[token]
    except KeyError:
        raise UnknownResourceType(
            f"{token}: no Terraform resource type known for it; add it to "
            "preview.terraformplan.TERRAFORM_TYPES (and RENAMES for its plural blocks)"
        ) from None


def convert(resources: Iterable[CapturedResource]) -> dict[str, Any]:
    """A Terraform plan JSON document (format 1.2) of the custom resources, all to create."""
    custom = [r for r in resources if r.custom]
    addresses = {id(r): f"{terraform_type(r.type)}.{r.name}" for r in custom}
    index = _reference_index(custom, addresses)
    planned, configured, changes = [], [], []
    for resource in custom:
        tf_type = terraform_type(resource.type)
        address = addresses[id(resource)]
        own = {v for v, (a, _) in index.items() if a == address}
        values, expressions, unknown = _arguments(
            resource.inputs, RENAMES.get(tf_type, {}), index, own
        )
        common = {"address": address, "mode": "managed", "type": tf_type, "name": resource.name}
        planned.append({**common, "provider_name": PROVIDER, "schema_version": 0, "values": values})
        configured.append(
            {
                **common,
                "provider_config_key": "aws",
                "expressions": expressions,
                "schema_version": 0,
            }
        )
        changes.append(
            {
                **common,
                "provider_name": PROVIDER,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": unknown,
                },
            }
        )
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER}},
            "root_module": {"resources": configured},
        },
    }


def _reference_index(
    resources: list[CapturedResource], addresses: dict[int, str]
) -> dict[str, tuple[str, str]]:
    """Output value -> (address, Terraform attribute) of the resource that produces it."""
    index: dict[str, tuple[str, str]] = {}
    for resource in resources:
        for key in REFERENCED_OUTPUTS:
            value = resource.outputs.get(key)
            given = key in resource.inputs and key not in IDENTITY_INPUTS
            if isinstance(value, str) and value and not given:
                index.setdefault(value, (addresses[id(resource)], snake(key)))
    return index


def _arguments(
    inputs: Mapping[str, Any],
    renames: Mapping[str, str],
    index: Mapping[str, tuple[str, str]],
    own: set[str],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(planned values, configuration expressions, after_unknown) of one block."""
    values: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in inputs.items():
        name = renames.get(key, snake(key))
        if key in MAPS and isinstance(value, Mapping):
            values[name] = dict(value)
            expressions[name] = {"constant_value": dict(value)}
            continue
        if isinstance(value, Mapping):
            value = [value]  # a single nested block: Terraform lists it
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            blocks = [_arguments(v, renames, index, own) for v in value]
            values[name] = [b[0] for b in blocks]
            expressions[name] = [b[1] for b in blocks]
            if any(b[2] for b in blocks):
                unknown[name] = [b[2] for b in blocks]
            continue
        references = _references(value, index, own)
        if references:
            values[name] = None
            expressions[name] = {"references": references}
            unknown[name] = True
        else:
            values[name] = value
            expressions[name] = {"constant_value": value}
    return values, expressions, unknown


def _references(value: Any, index: Mapping[str, tuple[str, str]], own: set[str]) -> list[str]:
    """Terraform's reference list for a value that holds other resources' outputs."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, str) and item in index and item not in own:
            address, attribute = index[item]
            found += [f"{address}.{attribute}", address]
    return found
