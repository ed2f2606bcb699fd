"""The AWS calls the shift makes (the IAM actions its caller needs) and how a refusal reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from cutover.exitcodes import ENVIRONMENT
from shift.errors import ShiftError

# Every action `python -m shift` may call; documented in migrate/README.md.
SHIFT_ACTIONS = (
    "route53:GetHostedZone",
    "route53:ListHostedZonesByName",
    "route53:ListResourceRecordSets",
    "route53:ChangeResourceRecordSets",
    "route53:GetChange",
    "route53:GetHealthCheckStatus",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricData",
    "cloudwatch:DescribeAlarms",
)

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}


@contextmanager
def aws_errors(action: str, resource: str) -> Iterator[None]:
    """Turn what AWS (or the network) says into one line naming ``action`` and ``resource``.

    Missing permissions, credentials and endpoints are environment problems (exit 3); other
    refusals are raised as they are, for the caller to word (``ClientError``)."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _DENIED:
            raise ShiftError(
                f"{action} on {resource}: access denied; the shift needs "
                f"{', '.join(SHIFT_ACTIONS)} (migrate/README.md)",
                ENVIRONMENT,
            ) from None
        raise
    except NoCredentialsError:
        raise ShiftError(
            f"{action}: no AWS credentials (aws configure, AWS_PROFILE or SSO)", ENVIRONMENT
        ) from None
    except NoRegionError:
        raise ShiftError(f"{action}: no AWS region (--region or aws:region)", ENVIRONMENT) from None
    except EndpointConnectionError as error:
        raise ShiftError(
            f"{action} on {resource}: AWS unreachable ({error}); check the network and "
            "AWS_ENDPOINT_URL",
            ENVIRONMENT,
        ) from None
    except BotoCoreError as error:
        raise ShiftError(f"{action} on {resource}: {error}", ENVIRONMENT) from None


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
