"""The boto3 clients the hooks use, with botocore's standard retry mode (throttling included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from hooks.settings import Settings


@dataclass(frozen=True)
class Clients:
    autoscaling: Any
    elbv2: Any
    elb: Any
    ec2: Any


def connect(settings: Settings, region: str, session: boto3.Session | None = None) -> Clients:
    """Clients for `region`. Endpoints and credentials come from the standard boto3 environment
    (AWS_ENDPOINT_URL, the instance profile, ...). A caller may pass its own session, e.g. to
    register botocore event handlers on it."""
    session = session or boto3.Session()
    config = Config(
        region_name=region,
        # botocore's max_attempts counts retries after the first attempt.
        retries={"mode": "standard", "max_attempts": settings.max_retries},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    return Clients(
        autoscaling=session.client("autoscaling", config=config),
        elbv2=session.client("elbv2", config=config),
        elb=session.client("elb", config=config),
        ec2=session.client("ec2", config=config),
    )
