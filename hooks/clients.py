"""The AWS clients the hooks use: the standard-library client (hooks/awsclient.py) by default,
botocore's where the environment asks for what only botocore does (or CUTOVER_AWS_CLIENT=
botocore, or a caller's own session); adaptive rate limiting, retries until the hook's deadline
(hooks/retries.py), region checked, and the last operation remembered for error messages."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hooks import awsclient, awscredentials
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


def hooks_session() -> Any:
    """A botocore session that finds the hooks' reduced service models first (see
    hooks/servicemodels.py). Plain botocore: boto3's own import (s3transfer and its resource
    layer) costs a tenth of a second the hooks have no use for."""
    # Imported here: botocore's session and client machinery cost a hook process two tenths
    # of a second, paid only when botocore makes the calls.
    import botocore.session

    session = botocore.session.get_session()
    session.set_config_variable("data_path", data_path())
    return session


def _remember(operation: str, endpoint: str) -> None:
    last_call.operation, last_call.endpoint = operation, endpoint


def connect(
    settings: Settings,
    region: str,
    session: AwsSession = None,
    deadline: float | None = None,
) -> Clients:
    """Clients for `region`. Endpoints and credentials come from the standard AWS environment
    (AWS_ENDPOINT_URL, the instance profile, ...). A caller may pass its own session (a
    boto3.Session or a botocore session), e.g. to register botocore event handlers on it: its
    clients are botocore's. `deadline` (time.monotonic() based; default: now +
    settings.timeout) bounds every retry."""
    check_region(region, "the region (--region, CUTOVER_REGION, AWS_REGION or IMDS)")
    retry = RetryUntilDeadline(
        deadline if deadline is not None else time.monotonic() + settings.timeout,
        settings.timeout,
        settings.max_retries,
        settings.retry_max_delay,
        time_scale=settings.time_scale,
    )
    if session is None and settings.aws_client == "standard":
        standard = _standard(settings, region, retry)
        if standard is not None:
            return Clients(standard)
    return Clients(_botocore(settings, region, session, retry))


def _standard(
    settings: Settings, region: str, retry: RetryUntilDeadline
) -> Callable[[str], Any] | None:
    """The standard-library clients' factory, or None where the environment needs botocore's
    (see hooks/awscredentials.py); a service whose endpoint is behind a proxy gets botocore's."""
    environ = dict(os.environ)
    if awscredentials.unsupported(environ) is not None:
        return None
    caller = awsclient.Caller(
        credentials=awscredentials.CredentialChain(environ, settings.imds_timeout),
        connections=awsclient.Connections(
            settings.connect_timeout, settings.read_timeout, awscredentials.ca_bundle(environ)
        ),
        retry=retry,
        adaptive=settings.retry_mode == "adaptive",
        on_call=_remember,
    )
    fallback = _botocore(settings, region, None, retry)

    def make(service: str) -> Any:
        client = awsclient.Client(service, region, caller, environ)
        return fallback(service) if awsclient.proxied(client.endpoint.url) else client

    return make


def _botocore(
    settings: Settings, region: str, session: AwsSession, retry: RetryUntilDeadline
) -> Callable[[str], Any]:
    made: list[Any] = [session]

    def make(service: str) -> Any:
        # Imported on a botocore client's creation only (see hooks_session).
        from botocore.config import Config

        if made[0] is None:
            made[0] = hooks_session()
        # boto3.Session.client and botocore's Session.create_client take the same arguments.
        create = getattr(made[0], "create_client", None) or made[0].client
        config = Config(
            region_name=region,
            # Adaptive: botocore's client-side rate limiter backs off when AWS throttles. Its
            # own retries are off (one attempt): RetryUntilDeadline decides, up to the deadline.
            retries={"mode": settings.retry_mode, "total_max_attempts": 1},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        client = create(service, config=config)
        client.meta.events.register("needs-retry", retry)
        endpoint = client.meta.endpoint_url
        client.meta.events.register(
            "before-call", lambda model, **kwargs: _remember(model.name, endpoint)
        )
        return client

    return make
