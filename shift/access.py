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

# Every action `python -m shift` may call; documented in shift/README.md.
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
# Where the permissions of each command are documented (the access-denied line points there).
PERMISSIONS_README = "shift/README.md"


@contextmanager
def refusals(
    action: str,
    resource: str,
    *,
    needs: tuple[str, ...],
    readme: str,
    error: type[Exception],
) -> Iterator[None]:
    """Turn what AWS (or the network) says into one ``error`` line naming ``action`` and
    ``resource``: missing permissions (with every action the command ``needs`` and the
    ``readme`` that documents them), credentials, region and endpoints are environment
    problems (exit 3); other refusals are raised as they are, for the caller to word
    (``ClientError``). The release words its refusals with it too."""
    command = readme.split("/")[0]
    try:
        yield
    except ClientError as refused:
        if error_code(refused) in _DENIED:
            raise error(
                f"{action} on {resource}: access denied; the {command} needs "
                f"{', '.join(needs)} ({readme})",
                ENVIRONMENT,
            ) from None
        raise
    except NoCredentialsError:
        raise error(
            f"{action}: no AWS credentials (aws configure, AWS_PROFILE or SSO)", ENVIRONMENT
        ) from None
    except NoRegionError:
        raise error(f"{action}: no AWS region (--region or aws:region)", ENVIRONMENT) from None
    except EndpointConnectionError as unreachable:
        raise error(
            f"{action} on {resource}: AWS unreachable ({unreachable}); check the network and "
            "AWS_ENDPOINT_URL",
            ENVIRONMENT,
        ) from None
    except BotoCoreError as other:
        raise error(f"{action} on {resource}: {other}", ENVIRONMENT) from None


def aws_errors(action: str, resource: str):  # -> a context manager
    return refusals(
        action, resource, needs=SHIFT_ACTIONS, readme=PERMISSIONS_README, error=ShiftError
    )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
