"""Identity: the instance role and profile, allowing exactly what the hooks and the CodeDeploy
agent need. The hooks' actions come from ``hooks.permissions`` so the two never drift apart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from hooks import permissions


@dataclass
class InstanceIdentityArgs:
    region: str
    group_name: str
    revision_bucket_arn: pulumi.Input[str]
    target_group_arns: list[pulumi.Input[str]] = field(default_factory=list)
    classic_elb_arn: pulumi.Input[str] | None = None
    # The group's configured MaxSize: bounds what the instances may set with
    # UpdateAutoScalingGroup (see capacity_condition).
    max_size: int = 1
    ssm_session_manager: bool = False
    revisions_kms_key_arn: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # Blue/green: the hooks may act on each colour's group, ``<group_name>-<colour>``.
    colours: tuple[str, ...] = ()


CAPACITY_ACTION = "autoscaling:UpdateAutoScalingGroup"
SSM_MANAGED_POLICY = "AmazonSSMManagedInstanceCore"


def capacity_condition(max_size: int) -> dict[str, Any]:
    """The hooks lower MinSize/Desired for Standby and restore them; they never need more than
    MinSize <= MaxSize and MaxSize <= 2 x MaxSize (headroom for an operator's emergency
    scale-out and ExitStandby). IfExists: a call that leaves a bound alone passes."""
    return {
        "NumericLessThanEqualsIfExists": {
            "autoscaling:MinSize": str(max_size),
            "autoscaling:MaxSize": str(2 * max_size),
        }
    }


def group_arn_pattern(partition: str, region: str, account: str, group_name: str) -> str:
    """The ARN of the group called ``group_name``; a group ARN embeds a UUID, hence the ``*``."""
    return (
        f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*"
        f":autoScalingGroupName/{group_name}"
    )


def deployment_policy(
    *, partition: str, region: str, account: str, application: str, deployment_group: str
) -> dict[str, Any]:
    """The instance role's second policy: the hooks' repairs ask CodeDeploy about the
    deployments of this stack's deployment group only. Separate from instance_policy because
    the deployment group is created after the role (its service role needs the role's ARN)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "HooksOwnDeployments",
                "Effect": "Allow",
                "Action": list(permissions.DEPLOYMENT_ACTIONS),
                "Resource": [
                    permissions.deployment_group_arn(
                        partition, region, account, application, deployment_group
                    )
                ],
            }
        ],
    }


def instance_policy(
    *,
    partition: str,
    region: str,
    account: str,
    group_name: str,
    revision_bucket_arn: str,
    target_group_arns: list[str],
    classic_elb_arn: str | None,
    max_size: int = 1,
    kms_key_arn: str = "",
    colours: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The instance role's policy document. Mutating actions are scoped to this stack's group
    (each colour's, for blue/green) and load balancer; only the describe calls, which IAM cannot
    scope, get ``*``."""
    group_names = [f"{group_name}-{colour}" for colour in colours] or [group_name]
    group_arns = [group_arn_pattern(partition, region, account, name) for name in group_names]
    own_instances = permissions.instance_tag_condition(group_name)
    if colours:
        (tag_key,) = own_instances["StringEquals"]
        own_instances["StringEquals"] = {tag_key: group_names}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadRevisions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [
                f"{revision_bucket_arn}/*",
                # The agent's own installer and updates come from the regional CodeDeploy bucket.
                f"arn:{partition}:s3:::aws-codedeploy-{region}/*",
            ],
        },
        {
            "Sid": "ListRevisions",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [revision_bucket_arn],
        },
        {
            "Sid": "HooksDescribe",
            "Effect": "Allow",
            "Action": list(permissions.DESCRIBE_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "HooksOwnGroup",
            "Effect": "Allow",
            "Action": [a for a in permissions.GROUP_ACTIONS if a != CAPACITY_ACTION],
            "Resource": group_arns,
        },
        {
            # The hooks' per-instance entries: only on the group's instances, only their key.
            "Sid": "HooksOwnInstanceEntries",
            "Effect": "Allow",
            "Action": list(permissions.INSTANCE_TAG_ACTIONS),
            "Resource": [f"arn:{partition}:ec2:{region}:{account}:instance/*"],
            "Condition": own_instances,
        },
    ]
    if CAPACITY_ACTION in permissions.GROUP_ACTIONS:
        statements.append(
            {
                "Sid": "HooksGroupCapacity",
                "Effect": "Allow",
                "Action": [CAPACITY_ACTION],
                "Resource": group_arns,
                "Condition": capacity_condition(max_size),
            }
        )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptRevisions",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [kms_key_arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    if target_group_arns:
        statements.append(
            {
                "Sid": "HooksOwnTargetGroup",
                "Effect": "Allow",
                "Action": list(permissions.TARGET_GROUP_ACTIONS),
                "Resource": list(target_group_arns),
            }
        )
    if classic_elb_arn:
        statements.append(
            {
                "Sid": "HooksOwnClassicLoadBalancer",
                "Effect": "Allow",
                "Action": list(permissions.CLASSIC_ELB_ACTIONS),
                "Resource": [classic_elb_arn],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


class InstanceIdentity(pulumi.ComponentResource):
    """Role (assumed by EC2), its inline policy and the profile the launch template uses."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    profile_arn: pulumi.Output[str]
    profile_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: InstanceIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:identity:InstanceIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        # No aws:SourceAccount/SourceArn here: EC2 does not supply them when an instance assumes
        # its role (the instance profile is what binds the role to this stack's instances).
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            description="Cutover instances: CodeDeploy agent and deployment hooks",
            tags={**args.tags, "Name": f"{name}-role"},
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        document = pulumi.Output.all(
            partition=partition.partition,
            account=identity.account_id,
            bucket=args.revision_bucket_arn,
            target_groups=pulumi.Output.all(*args.target_group_arns),
            classic=args.classic_elb_arn,
        ).apply(
            lambda v: json.dumps(
                instance_policy(
                    partition=v["partition"],
                    region=args.region,
                    account=v["account"],
                    group_name=args.group_name,
                    revision_bucket_arn=v["bucket"],
                    target_group_arns=list(v["target_groups"]),
                    classic_elb_arn=v["classic"],
                    max_size=args.max_size,
                    kms_key_arn=args.revisions_kms_key_arn,
                    colours=args.colours,
                )
            )
        )
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=document, opts=child)
        resources: list[pulumi.Resource] = [policy]
        if args.ssm_session_manager:
            # Opt-in: Session Manager instead of SSH (no port 22 anywhere).
            resources.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-ssm",
                    role=role.name,
                    policy_arn=pulumi.Output.concat(
                        "arn:", partition.partition, f":iam::aws:policy/{SSM_MANAGED_POLICY}"
                    ),
                    opts=child,
                )
            )
        profile = aws.iam.InstanceProfile(
            f"{name}-profile",
            role=role.name,
            tags={**args.tags, "Name": f"{name}-profile"},
            opts=child,
        )
        self.role_arn, self.role_name = role.arn, role.name
        self.profile_arn, self.profile_name = profile.arn, profile.name
        # Instances must not start before their permissions exist: the fleet depends on these.
        self.resources = [*resources, profile]
        self.register_outputs({"roleArn": self.role_arn, "profileArn": self.profile_arn})
