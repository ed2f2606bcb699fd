"""The AWS API actions the hooks call, grouped by what IAM can scope them to.

This module is the single source of truth shared by the hooks and the Pulumi program: infra
builds the instance role's policy from these tuples, and the hooks' tests record every call the
hooks make and check that each one is listed here. Change a hook's calls, change this file.
"""

# IAM cannot scope these describe calls to a resource: they need Resource "*".
DESCRIBE_ACTIONS: tuple[str, ...] = (
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeInstanceHealth",
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

ALL_ACTIONS: tuple[str, ...] = (
    DESCRIBE_ACTIONS + GROUP_ACTIONS + TARGET_GROUP_ACTIONS + CLASSIC_ELB_ACTIONS
)
