"""The users during a traffic shift, and the load balancer's metrics they leave in CloudWatch.

`REQUESTS_PER_SECOND` requests arrive every emulated second, split between Azure and AWS by
the weights Route 53 has in sync (`route53.py`). The load balancer spreads its share over its
healthy targets: with none it answers 503 itself (`HTTPCode_ELB_5XX_Count`); an instance whose
application fails (a fault the scenario injects) answers 5xx (`HTTPCode_Target_5XX_Count`).

The requests are accounted up to the moment anyone reads the metrics (the proxy flushes before
every CloudWatch call), one datapoint per stretch within a whole minute, timestamped on the
rehearsal's clock: what a reader sees never depends on how busy the machine was. A target's
state is taken as it is at the flush (the faults the scenarios inject do not change it)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rehearsal.clock import Clock
from rehearsal.world import World

REQUESTS_PER_SECOND = 50.0
NAMESPACE = "AWS/ApplicationELB"


@dataclass
class Totals:
    azure: float = 0.0
    aws: float = 0.0
    elb_5xx: float = 0.0
    target_5xx: float = 0.0

    def to_json(self) -> dict[str, int]:
        return {
            "azure": round(self.azure),
            "aws": round(self.aws),
            "awsElb5xx": round(self.elb_5xx),
            "awsTarget5xx": round(self.target_5xx),
        }


class AccountedRequests:
    """Users whose requests are accounted up to every CloudWatch read (the proxy hands every
    CloudWatch call to `relay`), one stretch per whole minute, per breakpoint (a weight change)
    and per injected fault, published on the rehearsal's clock. `_stretch(a, b)` says what one
    stretch publishes; `breakpoints()` when the split of the requests changed."""

    def __init__(self, clock: Clock, epoch: datetime, cloudwatch: Any, dimension: str) -> None:
        self.clock, self.epoch = clock, epoch
        self.cloudwatch, self.dimension = cloudwatch, dimension
        self.failing: dict[str, float] = {}  # instance -> emulated time its application fails
        self.accounted = clock.now()
        self._lock = threading.Lock()

    def fail(self, *ids: str) -> None:
        """From now on the application on each of `ids` answers 5xx to the users (its target
        group health check still passes)."""
        self.flush()
        with self._lock:
            for iid in ids:
                self.failing.setdefault(iid, self.clock.now())

    def handles(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        """Any CloudWatch call (query, JSON or CBOR protocol)."""
        marker = "GraniteServiceVersion20100801"
        return (
            marker in path
            or marker in headers.get("X-Amz-Target", "")
            or (method == "POST" and b"Action=GetMetricData" in body[:200])
        )

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes, forward) -> Any:
        self.flush()
        return forward(method, path, headers, body)

    def breakpoints(self) -> list[float]:
        return []

    def flush(self) -> None:
        """Account the requests up to now and publish them as the load balancer's metrics."""
        with self._lock:
            start, end = self.accounted, self.clock.now()
            if end <= start:
                return
            self.accounted = end
            cuts = {start, end}
            cuts |= {60.0 * m for m in range(math.floor(start / 60) + 1, math.ceil(end / 60))}
            cuts |= {t for t in self.breakpoints() if start < t < end}
            cuts |= {t for t in self.failing.values() if start < t < end}
            points = sorted(cuts)
            data = []
            for a, b in zip(points, points[1:], strict=False):
                data += self._stretch(a, b)
        for chunk in range(0, len(data), 500):
            self.cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[chunk:][:500])

    def _stretch(self, a: float, b: float) -> list[dict[str, Any]]:
        raise NotImplementedError


class Users(AccountedRequests):
    def __init__(
        self,
        world: World,
        clock: Clock,
        epoch: datetime,
        cloudwatch: Any,  # straight to moto: the load balancer publishing, not a caller
        dimension: str,
        target_group: str,
        weights_at: Callable[[float], dict[str, int]],
        breakpoints: Callable[[], list[float]],
    ) -> None:
        super().__init__(clock, epoch, cloudwatch, dimension)
        self.world, self.target_group = world, target_group
        self.weights_at, self._breakpoints = weights_at, breakpoints
        self.totals = Totals()

    def breakpoints(self) -> list[float]:
        return self._breakpoints()

    def _stretch(self, a: float, b: float) -> list[dict[str, Any]]:
        weights = self.weights_at(a)
        total = weights.get("azure", 0) + weights.get("aws", 0)
        requests = REQUESTS_PER_SECOND * (b - a)
        aws = requests * weights.get("aws", 0) / total if total else 0.0
        with self.world.lock:
            healthy = sorted(self.world.balancers[self.target_group].serving())
        elb_5xx = aws if not healthy else 0.0
        failing = [i for i in healthy if self.failing.get(i, math.inf) <= a]
        target_5xx = aws * len(failing) / len(healthy) if healthy else 0.0
        self.totals.azure += requests - aws
        self.totals.aws += aws
        self.totals.elb_5xx += elb_5xx
        self.totals.target_5xx += target_5xx
        when = self.epoch + timedelta(seconds=a)
        dims = [{"Name": "LoadBalancer", "Value": self.dimension}]
        return [
            {"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value}
            for name, value in (
                ("RequestCount", aws),
                ("HTTPCode_ELB_5XX_Count", elb_5xx),
                ("HTTPCode_Target_5XX_Count", target_5xx),
            )
            if value > 0 or name == "RequestCount"
        ]

    def checkers(self, n: int) -> list[bool]:
        """Route 53's `n` checkers of the load balancer: each request goes to the next healthy
        target; it fails with no healthy target, or on one whose application fails."""
        with self.world.lock:
            healthy = sorted(self.world.balancers[self.target_group].serving())
        if not healthy:
            return [False] * n
        now = self.clock.now()
        return [self.failing.get(healthy[i % len(healthy)], math.inf) > now for i in range(n)]
