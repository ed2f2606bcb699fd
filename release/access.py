"""The AWS calls the release makes (the IAM actions its caller needs) and how a refusal reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from cutover.exitcodes import ENVIRONMENT
from release.errors import ReleaseError

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

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}


@contextmanager
def aws_errors(action: str, resource: str) -> Iterator[None]:
    """Missing permissions, credentials, region or endpoint: one line, exit 3. Other refusals
    are raised as they are, for the caller to word."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code", "") in _DENIED:
            raise ReleaseError(
                f"{action} on {resource}: access denied; the release needs "
                f"{', '.join(RELEASE_ACTIONS)} (release/README.md)",
                ENVIRONMENT,
            ) from None
        raise
    except NoCredentialsError:
        raise ReleaseError(f"{action}: no AWS credentials", ENVIRONMENT) from None
    except NoRegionError:
        raise ReleaseError(
            f"{action}: no AWS region (--region or aws:region)", ENVIRONMENT
        ) from None
    except BotoCoreError as error:
        raise ReleaseError(f"{action} on {resource}: {error}", ENVIRONMENT) from None
