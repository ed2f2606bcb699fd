"""The AWS calls the release makes (the IAM actions its caller needs) and how a refusal reads."""

from __future__ import annotations

from release.errors import ReleaseError
from shift.access import refusals

# Every action `python -m release` may call; documented in release/README.md.
RELEASE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:CreateOrUpdateTags",
    "autoscaling:DeleteTags",
    "codedeploy:CreateDeployment",
    "codedeploy:GetDeployment",
    "codedeploy:ListDeployments",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricData",
    "cloudwatch:DescribeAlarms",
)

PERMISSIONS_README = "release/README.md"


def aws_errors(action: str, resource: str):  # -> a context manager
    """Missing permissions, credentials, region or endpoint: one line, exit 3 (the shift's
    wording, ``shift.access.refusals``). Other refusals are raised as they are, for the caller
    to word."""
    return refusals(
        action, resource, needs=RELEASE_ACTIONS, readme=PERMISSIONS_README, error=ReleaseError
    )
