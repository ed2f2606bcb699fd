"""The start of every hook run: identity and region (options first, then IMDSv2), the deadline,
and the AWS clients. Used by the runbook and by the shutdown settle alike."""

from __future__ import annotations

import os
import time

from hooks.clients import AwsSession, connect
from hooks.metadata import InstanceMetadata
from hooks.run import HookRun
from hooks.settings import Settings


def resolve_region(settings: Settings, metadata: InstanceMetadata) -> str:
    if settings.region:
        return settings.region
    if settings.command == "reconcile":
        env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if env:
            return env
    return metadata.region()


def start(settings: Settings, session: AwsSession = None) -> HookRun:
    """Resolve identity and region (options first, then IMDSv2) and build the clients."""
    deadline = time.monotonic() + settings.timeout
    metadata = InstanceMetadata(timeout=settings.imds_timeout)
    instance_id = ""
    if settings.command != "reconcile":
        instance_id = settings.instance_id or metadata.instance_id()
    region = resolve_region(settings, metadata)
    clients = connect(settings, region, session, deadline)
    return HookRun(settings, clients, instance_id, deadline, region=region)
