"""What the AWS APIs themselves accept, so a value AWS would reject fails offline with the range.

Sources: the EC2 instance-type catalog migrate ships (``migrate/catalog/ec2_instance_types.json``,
``ec2 describe-instance-types``), the Elastic Load Balancing API references (CreateTargetGroup,
ConfigureHealthCheck), CloudWatch PutMetricAlarm and Auto Scaling CreateAutoScalingGroup.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from migrate.catalog import Ec2Type, ec2_types


@dataclass(frozen=True)
class HealthCheckLimits:
    """Ranges one load-balancer type accepts for its health check."""

    interval: tuple[int, int]
    timeout: tuple[int, int]
    threshold: tuple[int, int]
    # The HTTP codes a matcher may name; None: the type has no matcher (classic ELB).
    matcher: tuple[int, int] | None
    matcher_default: str


HEALTH_CHECK_LIMITS: dict[str, HealthCheckLimits] = {
    # CreateTargetGroup: interval 5-300, timeout 2-120, thresholds 2-10; Matcher.HttpCode
    # 200-499 for Application Load Balancers, 200-599 for Network Load Balancers.
    "application": HealthCheckLimits((5, 300), (2, 120), (2, 10), (200, 499), "200"),
    "network": HealthCheckLimits((5, 300), (2, 120), (2, 10), (200, 599), "200-399"),
    # ConfigureHealthCheck: interval 5-300, timeout 2-60, thresholds 2-10; any answer but
    # "200 OK" is unhealthy, so there is no matcher.
    "classic": HealthCheckLimits((5, 300), (2, 60), (2, 10), None, ""),
}

# CreateAutoScalingGroup TerminationPolicies.
TERMINATION_POLICIES = (
    "Default",
    "AllocationStrategy",
    "OldestLaunchTemplate",
    "OldestLaunchConfiguration",
    "ClosestToNextInstanceHour",
    "NewestInstance",
    "OldestInstance",
)

# RDS MonitoringInterval (enhanced monitoring), seconds; 0 turns it off.
RDS_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)

# EC2 detailed monitoring publishes one data point a minute: an alarm period on an EC2 metric
# must be a multiple of 60 s (10 s and 30 s exist only for high-resolution custom metrics).
EC2_METRIC_PERIOD = 60

_MATCHER = re.compile(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*")


@cache
def _catalog() -> dict[str, Ec2Type]:
    return {t.name: t for t in ec2_types()}


def instance_type(name: str) -> Ec2Type | None:
    """The catalog's entry for ``name``, or None when EC2 has no such type."""
    return _catalog().get(name)


def suggest_instance_type(name: str) -> str:
    """`` (did you mean m6i.large?)`` for a near miss, else ``""``."""
    family, _, size = name.partition(".")
    names = _catalog()
    same_family = [n for n in names if n.split(".", 1)[0] == family]
    close = difflib.get_close_matches(name, same_family or list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def matcher_problem(matcher: str, lb_type: str) -> str | None:
    """Why ``matcher`` is not an HTTP-code matcher ``lb_type`` accepts, or None if it is."""
    limits = HEALTH_CHECK_LIMITS[lb_type]
    if limits.matcher is None:
        return "a classic load balancer has no matcher (only 200 OK is healthy)"
    low, high = limits.matcher
    allowed = f"HTTP codes {low}-{high} for a {lb_type} load balancer, e.g. 200, 200-399, 200,204"
    if not _MATCHER.fullmatch(matcher):
        return f"must be {allowed}"
    for part in matcher.split(","):
        bounds = [int(code) for code in part.split("-")]
        if any(not low <= code <= high for code in bounds) or bounds != sorted(bounds):
            return f"must be {allowed}, got {matcher!r}"
    return None
