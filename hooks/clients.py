"""The boto3 clients the hooks use: adaptive rate limiting, retries until the hook's deadline
(hooks/retries.py), region checked, and the last operation remembered for error messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config

from hooks.retries import RetryUntilDeadline
from hooks.servicemodels import data_path
from hooks.settings import Settings, check_region


@dataclass
class LastCall:
    """The AWS operation in progress, for errors that do not name one (parser errors)."""

    operation: str | None = None
    endpoint: str | None = None

    def describe(self) -> str | None:
        if self.operation is None:
            return None
        return f"{self.operation} at {self.endpoint}" if self.endpoint else self.operation


# A boto3.Session or a botocore session: their clients are created with the same arguments.
AwsSession = Any

# One hook run per process: the CLI reads this when an error escapes without its operation.
last_call = LastCall()


class Clients:
    """The run's clients, each created on first use: building a botocore client costs tens of
    milliseconds of a hook's run, and most runs need only some of them (a classic ELB client
    only where a classic ELB is, CodeDeploy only for repairs)."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self._make = make
        self._made: dict[str, Any] = {}
        # Clients are thread-safe, their session is not: botocore's maintainers say not to
        # create clients from one session in parallel (a step's calls side by side may each
        # be a client's first use), so creation is one at a time.
        self._creating = threading.Lock()

    def _client(self, service: str) -> Any:
        client = self._made.get(service)
        if client is None:
            with self._creating:
                client = self._made.get(service)
                if client is None:
                    client = self._made[service] = self._make(service)
        return client

    @property
    def autoscaling(self) -> Any:
        return self._client("autoscaling")

    @property
    def elbv2(self) -> Any:
        return self._client("elbv2")

    @property
    def elb(self) -> Any:
        return self._client("elb")

    @property
    def ec2(self) -> Any:
        return self._client("ec2")

    @property
    def codedeploy(self) -> Any:
        return self._client("codedeploy")


def hooks_session() -> botocore.session.Session:
    """A botocore session that finds the hooks' reduced service models first (see
    hooks/servicemodels.py). Plain botocore: boto3's own import (s3transfer and its resource
    layer) costs a tenth of a second the hooks have no use for."""
    session = botocore.session.get_session()
    session.set_config_variable("data_path", data_path())
    return session


def connect(
    settings: Settings,
    region: str,
    session: AwsSession = None,
    deadline: float | None = None,
) -> Clients:
    """Clients for `region`. Endpoints and credentials come from the standard boto3 environment
    (AWS_ENDPOINT_URL, the instance profile, ...). A caller may pass its own session (a
    boto3.Session or a botocore session), e.g. to register botocore event handlers on it, and
    the run's deadline (time.monotonic() based; default: now + settings.timeout), which bounds
    every retry."""
    check_region(region, "the region (--region, CUTOVER_REGION, AWS_REGION or IMDS)")
    session = session if session is not None else hooks_session()
    # boto3.Session.client and botocore's Session.create_client take the same arguments.
    create = getattr(session, "create_client", None) or session.client
    config = Config(
        region_name=region,
        # Adaptive: botocore's client-side rate limiter backs off when AWS throttles. Its own
        # retries are off (one attempt): RetryUntilDeadline decides, up to the deadline.
        retries={"mode": settings.retry_mode, "total_max_attempts": 1},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    retry = RetryUntilDeadline(
        deadline if deadline is not None else time.monotonic() + settings.timeout,
        settings.timeout,
        settings.max_retries,
        settings.retry_max_delay,
        time_scale=settings.time_scale,
    )

    def make(service: str) -> Any:
        client = create(service, config=config)
        client.meta.events.register("needs-retry", retry)
        client.meta.events.register("before-call", _remember(client.meta.endpoint_url))
        return client

    return Clients(make)


def _remember(endpoint: str) -> Any:
    def before_call(model: Any, **kwargs: Any) -> None:
        last_call.operation, last_call.endpoint = model.name, endpoint

    return before_call
