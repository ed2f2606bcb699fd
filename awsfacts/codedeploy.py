"""CodeDeploy's deployment configs and their arithmetic (in-place deployments to EC2).

Minimum healthy hosts: HOST_COUNT as given; FLEET_PERCENT of the instances in the deployment,
rounded up; the predefined configs are OneAtATime (all but one), HalfAtATime (FLEET_PERCENT 50)
and AllAtOnce (HOST_COUNT 0). A deployment takes at least one instance out, so a minimum the
fleet cannot keep fails the deployment (HEALTH_CONSTRAINTS_INVALID). Used by the stack rules, the
Pulumi program (the instance refresh's floor), the policy pack and the rehearsal's CodeDeploy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HOST_COUNT = "HOST_COUNT"
FLEET_PERCENT = "FLEET_PERCENT"
# Not an API value: "all but `value`", how OneAtATime behaves.
MOST_CONCURRENCY = "MOST_CONCURRENCY"
CUSTOM_TYPES = (HOST_COUNT, FLEET_PERCENT)
DEFAULT_CONFIG = "CodeDeployDefault.OneAtATime"
# The longest a lifecycle event (a hook script and its siblings) may run, in seconds.
MAX_EVENT_TIMEOUT = 3600


@dataclass(frozen=True)
class MinimumHealthyHosts:
    type: str  # HOST_COUNT | FLEET_PERCENT (| MOST_CONCURRENCY for OneAtATime)
    value: int

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> MinimumHealthyHosts:
        """From a deployment config's ``minimumHealthyHosts`` ({"type": ..., "value": ...})."""
        try:
            value = int(props.get("value") or 0)
        except (TypeError, ValueError):
            value = 0
        return cls(str(props.get("type") or ""), value)


PREDEFINED: dict[str, MinimumHealthyHosts] = {
    "CodeDeployDefault.OneAtATime": MinimumHealthyHosts(MOST_CONCURRENCY, 1),
    "CodeDeployDefault.HalfAtATime": MinimumHealthyHosts(FLEET_PERCENT, 50),
    "CodeDeployDefault.AllAtOnce": MinimumHealthyHosts(HOST_COUNT, 0),
}
PREDEFINED_CONFIGS = tuple(PREDEFINED)


def minimum_healthy(hosts: MinimumHealthyHosts, instances: int) -> int:
    """Instances CodeDeploy keeps healthy while deploying to ``instances`` instances."""
    if hosts.type == MOST_CONCURRENCY:
        return max(0, instances - hosts.value)
    if hosts.type == FLEET_PERCENT:
        return math.ceil(instances * hosts.value / 100)
    return hosts.value


def hosts_of(config: str, custom: MinimumHealthyHosts | None = None) -> MinimumHealthyHosts:
    """The minimum of ``config``: the custom one when given, else the predefined one."""
    if custom is not None:
        return custom
    if config not in PREDEFINED:
        raise ValueError(f"unknown deployment config {config!r}")
    return PREDEFINED[config]


def instances_kept_healthy(config: str, custom: MinimumHealthyHosts | None, fleet: int) -> int:
    """How many of ``fleet`` instances an in-place deployment with ``config`` keeps in service.
    A deployment takes at least one instance out, so a one-instance fleet keeps none."""
    return max(0, min(minimum_healthy(hosts_of(config, custom), fleet), fleet - 1))


def fits(hosts: MinimumHealthyHosts, fleet: int) -> bool:
    """A deployment with this minimum can take one instance of ``fleet`` out."""
    return minimum_healthy(hosts, fleet) <= fleet - 1


def highest_percent(fleet: int) -> int:
    """The highest FLEET_PERCENT that still lets a deployment take one of ``fleet`` out."""
    return max(p for p in range(100) if fits(MinimumHealthyHosts(FLEET_PERCENT, p), fleet))
