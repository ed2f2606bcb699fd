"""Deployment: the CodeDeploy application, its service role and the in-place deployment group
bound to the Auto Scaling group."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.roles import deployment_policy
from stack.load import DeploymentConfig

ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]
ALARM_ROLLBACK_EVENT = "DEPLOYMENT_STOP_ON_ALARM"


@dataclass
class DeploymentArgs:
    deployment: DeploymentConfig
    deployment_group_name: str
    group_name: pulumi.Input[str]
    instance_role_arn: pulumi.Input[str]
    # Every launch template of the group (one per architecture).
    launch_template_arns: list[pulumi.Input[str]]
    region: str = "eu-central-1"
    # Alarms that stop and roll back a deployment (empty: none).
    alarm_names: list[pulumi.Input[str]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # Blue/green: colour -> its group; one deployment group per colour, named
    # ``<deployment_group_name>-<colour>`` (a release deploys to the idle colour alone).
    colour_group_names: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # The instance role: its hooks may ask about this deployment group's deployments.
    instance_role_name: pulumi.Input[str] | None = None


def service_trust_policy(
    service: str, account: str, source_arn: str | None = None
) -> dict[str, object]:
    """Trust for an AWS service principal, only on behalf of this account (and, when the
    service supplies it, this resource): the confused-deputy guard, aws:SourceAccount /
    aws:SourceArn."""
    condition: dict[str, dict[str, str]] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


def launch_permissions(instance_role_arn: str, launch_template_arns: list[str]) -> dict:
    """What CodeDeploy needs on top of AWSCodeDeployRole for a group with a launch template,
    scoped to this stack's role and template."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PassInstanceRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": instance_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {
                "Sid": "LaunchFromTemplate",
                "Effect": "Allow",
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"ArnLike": {"ec2:LaunchTemplate": launch_template_arns}},
            },
            {
                "Sid": "TagAtLaunch",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}},
            },
        ],
    }


class Deployment(pulumi.ComponentResource):
    """In-place deployments to the group, rolled back automatically on failure.

    The deployment group has no load balancer info (``WITHOUT_TRAFFIC_CONTROL``): the hooks take
    each instance out of the load balancer and put it in Standby themselves, restoring the
    group's exact capacity; CodeDeploy deregistering it too would race them.
    """

    application_name: pulumi.Output[str]
    deployment_group_name: pulumi.Output[str]
    colour_deployment_group_names: dict[str, pulumi.Output[str]]  # blue/green only

    def __init__(self, name: str, args: DeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:deployment:Deployment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dep = args.deployment
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self))
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        role = aws.iam.Role(
            f"{name}-service-role",
            assume_role_policy=pulumi.Output.all(partition.partition, identity.account_id).apply(
                lambda v: json.dumps(
                    service_trust_policy(
                        "codedeploy.amazonaws.com",
                        v[1],
                        f"arn:{v[0]}:codedeploy:{args.region}:{v[1]}:deploymentgroup:*",
                    )
                )
            ),
            tags={**args.tags, "Name": f"{name}-service-role"},
            opts=child,
        )
        managed = aws.iam.RolePolicyAttachment(
            f"{name}-service-role-managed",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", partition.partition, ":iam::aws:policy/service-role/AWSCodeDeployRole"
            ),
            opts=child,
        )
        launch = aws.iam.RolePolicy(
            f"{name}-service-role-launch",
            role=role.id,
            policy=pulumi.Output.all(args.instance_role_arn, *args.launch_template_arns).apply(
                lambda arns: json.dumps(launch_permissions(arns[0], list(arns[1:])))
            ),
            opts=child,
        )
        application = aws.codedeploy.Application(
            f"{name}-app",
            compute_platform="Server",
            tags={**args.tags, "Name": f"{name}-app"},
            opts=child,
        )
        config_name: pulumi.Input[str] = dep.config
        if dep.minimum_healthy_hosts is not None:
            custom = aws.codedeploy.DeploymentConfig(
                f"{name}-config",
                deployment_config_name=dep.config,
                compute_platform="Server",
                minimum_healthy_hosts={
                    "type": dep.minimum_healthy_hosts.type,
                    "value": dep.minimum_healthy_hosts.value,
                },
                opts=child,
            )
            config_name = custom.deployment_config_name
        self._depends_on = [managed, launch]
        targets = {
            f"{args.deployment_group_name}-{colour}": (f"{name}-group-{colour}", [group])
            for colour, group in args.colour_group_names.items()
        } or {args.deployment_group_name: (f"{name}-group", [args.group_name])}
        created = {
            dg_name: self._group(logical, dg_name, groups, application, role, config_name, args)
            for dg_name, (logical, groups) in targets.items()
        }
        group = next(iter(created.values()))
        self.colour_deployment_group_names = {
            colour: created[f"{args.deployment_group_name}-{colour}"].deployment_group_name
            for colour in args.colour_group_names
        }
        if args.instance_role_name is not None:
            # The hooks ask CodeDeploy whether their deployment ended (hooks/permissions.py): one
            # statement per deployment group, created once the group's name is known.
            for dg_name, deployment_group in created.items():
                suffix = dg_name.removeprefix(args.deployment_group_name)
                aws.iam.RolePolicy(
                    f"{name}-hooks-deployments{suffix}",
                    role=args.instance_role_name,
                    policy=pulumi.Output.all(
                        partition.partition,
                        identity.account_id,
                        application.name,
                        deployment_group.deployment_group_name,
                    ).apply(
                        lambda v: json.dumps(
                            deployment_policy(
                                partition=v[0],
                                region=args.region,
                                account=v[1],
                                application=v[2],
                                deployment_group=v[3],
                            )
                        )
                    ),
                    opts=child,
                )
        self.application_name = application.name
        self.deployment_group_name = group.deployment_group_name
        self.register_outputs(
            {
                "applicationName": self.application_name,
                "deploymentGroupName": self.deployment_group_name,
            }
        )

    def _group(
        self,
        logical: str,
        dg_name: str,
        groups: list[pulumi.Input[str]],
        application: aws.codedeploy.Application,
        role: aws.iam.Role,
        config_name: pulumi.Input[str],
        args: DeploymentArgs,
    ) -> aws.codedeploy.DeploymentGroup:
        dep = args.deployment
        return aws.codedeploy.DeploymentGroup(
            logical,
            app_name=application.name,
            deployment_group_name=dg_name,
            service_role_arn=role.arn,
            autoscaling_groups=groups,
            deployment_config_name=config_name,
            deployment_style={
                "deployment_option": "WITHOUT_TRAFFIC_CONTROL",
                "deployment_type": "IN_PLACE",
            },
            auto_rollback_configuration={
                "enabled": dep.auto_rollback,
                "events": (ROLLBACK_EVENTS + ([ALARM_ROLLBACK_EVENT] if args.alarm_names else []))
                if dep.auto_rollback
                else None,
            },
            alarm_configuration={"enabled": True, "alarms": args.alarm_names}
            if args.alarm_names
            else None,
            # Instances launched during a deployment get the new revision too.
            outdated_instances_strategy="UPDATE",
            tags={**args.tags, "Name": dg_name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._depends_on),
        )
