"""What the AWS APIs themselves accept, so a value AWS would reject fails offline with the range.

Sources: the EC2 instance-type catalog (``awsfacts/data/ec2_instance_types.json``,
``ec2 describe-instance-types``), the Elastic Load Balancing API references (CreateTargetGroup,
ConfigureHealthCheck), CloudWatch PutMetricAlarm, Auto Scaling CreateAutoScalingGroup,
EnterStandby and CreateOrUpdateTags, and the tagging limits of the AWS General Reference.
moto enforces none of the tag and batch limits: the rehearsal's rules enforce them from here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from awsfacts.ec2 import Ec2Type, ec2_types

TAGS_PER_RESOURCE = 50  # user tags; keys starting with "aws:" do not count (documented)
TAGS_PER_CALL = 25  # tags added or removed per CreateOrUpdateTags / DeleteTags call
TAG_KEY_LENGTH = 128
TAG_VALUE_LENGTH = 256
STANDBY_IDS_PER_CALL = 20  # EnterStandby / ExitStandby InstanceIds (documented)
# What a target group drains for when deregistration_delay.timeout_seconds is not set.
DEFAULT_DEREGISTRATION_DELAY = 300


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


def tag_problem(tags: list[dict[str, str]]) -> str | None:
    """What AWS would refuse in one tagging call (count and sizes), or None."""
    if len(tags) > TAGS_PER_CALL:
        return f"at most {TAGS_PER_CALL} tags per call, got {len(tags)}"
    for number, tag in enumerate(tags, start=1):
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= TAG_KEY_LENGTH:
            return (
                f"1 validation error detected: Value at 'tags.{number}.member.key' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{TAG_KEY_LENGTH}"
            )
        if len(value) > TAG_VALUE_LENGTH:
            return (
                f"1 validation error detected: Value at 'tags.{number}.member.value' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{TAG_VALUE_LENGTH}"
            )
    return None


def counted(keys: set[str]) -> int:
    """Tags that count against the per-resource limit (AWS's own aws: tags do not)."""
    return sum(1 for key in keys if not key.startswith("aws:"))


@dataclass(frozen=True)
class EbsVolumeLimits:
    """What CreateVolume (and a launch template's block device) accepts for one volume type
    (EBS user guide, "Amazon EBS volume types"). IOPS and throughput 0: the type sets them."""

    size_gb: tuple[int, int]
    iops: tuple[int, int] | None = None  # provisionable IOPS; None: not provisionable
    iops_per_gb: int = 0  # at most this many IOPS per GiB of size
    throughput: tuple[int, int] | None = None  # provisionable MiB/s (gp3 only)
    baseline_iops: int = 0
    baseline_throughput: int = 0


EBS_VOLUME_TYPES: dict[str, EbsVolumeLimits] = {
    "gp3": EbsVolumeLimits(
        (1, 16384), (3000, 16000), 500, (125, 1000), baseline_iops=3000, baseline_throughput=125
    ),
    "gp2": EbsVolumeLimits((1, 16384)),
    "io1": EbsVolumeLimits((4, 16384), (100, 64000), 50),
    "io2": EbsVolumeLimits((4, 65536), (100, 256000), 1000),
    "st1": EbsVolumeLimits((125, 16384)),
    "sc1": EbsVolumeLimits((125, 16384)),
}
