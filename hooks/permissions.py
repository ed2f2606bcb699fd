"""The AWS API actions the hooks call, grouped by what IAM can scope them to.

This module is the single source of truth shared by the hooks and the Pulumi program: infra
builds the instance role's policy from these tuples, and the hooks' tests record every call the
hooks make and check that each one is listed here. Change a hook's calls, change this file.
"""

from hooks.state import ENTRY_TAG, GROUP_NAME_TAG

# IAM cannot scope these describe calls to a resource: they need Resource "*".
DESCRIBE_ACTIONS: tuple[str, ...] = (
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeInstanceHealth",
    # The deregistration delay (classic: connection draining), read once per deregister so
    # that the drain is slept through rather than polled.
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    # The entries of a group's instances (tags on the instances themselves), one paged call.
    "ec2:DescribeInstances",
)

# Scoped to the stack's Auto Scaling group ARN.
GROUP_ACTIONS: tuple[str, ...] = (
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:EnterStandby",
    "autoscaling:ExitStandby",
    "autoscaling:CreateOrUpdateTags",
    "autoscaling:DeleteTags",
)

# Scoped to the stack's target group ARN(s).
TARGET_GROUP_ACTIONS: tuple[str, ...] = (
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
)

# Scoped to the stack's classic load balancer ARN.
CLASSIC_ELB_ACTIONS: tuple[str, ...] = (
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
)

# Scoped to instances of the stack's group, and to the hooks' one tag key: see
# instance_tag_condition. Resource: arn:<partition>:ec2:<region>:<account>:instance/*.
INSTANCE_TAG_ACTIONS: tuple[str, ...] = (
    "ec2:CreateTags",
    "ec2:DeleteTags",
)

# Scoped to the stack's deployment group (deployment_group_arn): repairs (reconcile, the
# self-healing watchdog) ask CodeDeploy whether an entry's deployment is over.
DEPLOYMENT_ACTIONS: tuple[str, ...] = ("codedeploy:GetDeployment",)

ALL_ACTIONS: tuple[str, ...] = (
    DESCRIBE_ACTIONS
    + GROUP_ACTIONS
    + TARGET_GROUP_ACTIONS
    + CLASSIC_ELB_ACTIONS
    + INSTANCE_TAG_ACTIONS
    + DEPLOYMENT_ACTIONS
)


def deployment_group_arn(
    partition: str, region: str, account: str, application: str, deployment_group: str
) -> str:
    """The resource IAM checks GetDeployment against: the deployment's deployment group."""
    return (
        f"arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:"
        f"{application}/{deployment_group}"
    )


def instance_tag_condition(group_name: str) -> dict[str, dict[str, object]]:
    """IAM condition for INSTANCE_TAG_ACTIONS: only instances the group launched (AWS sets
    the aws:autoscaling:groupName tag; users cannot write aws: tags), only the hooks' key."""
    return {
        "StringEquals": {f"aws:ResourceTag/{GROUP_NAME_TAG}": group_name},
        "ForAllValues:StringEquals": {"aws:TagKeys": [ENTRY_TAG]},
    }
