"""Load balancer targets as AWS runs them, on the rehearsal's clock.

A registered target is `initial` until healthyThreshold x interval has passed with the
application running (then `healthy`), or unhealthyThreshold x interval without it (then
`unhealthy`). A deregistered target that was taking traffic stays `draining` for the
deregistration delay; one that was not (initial, unhealthy) leaves at once, as AWS completes a
deregistration with no connections in flight. moto does all of this instantly."""

from __future__ import annotations

from dataclasses import dataclass, field

from rehearsal.declared import HealthCheck

SERVING = "healthy"


@dataclass
class Target:
    state: str  # initial | healthy | unhealthy | draining
    since: float
    port: int
    drain_until: float = 0.0


@dataclass
class Balancer:
    """One target group (key: its ARN) or classic ELB (key: its name)."""

    key: str
    classic: bool
    health_check: HealthCheck
    deregistration_delay: int
    port: int
    targets: dict[str, Target] = field(default_factory=dict)

    def advance(self, now: float, running: dict[str, float | None]) -> None:
        """Move every target to the state it has at emulated time `now`.

        `running[iid]` is the emulated time the application started on the instance, or None
        when it is not running (not installed, or stopped for an install)."""
        check = self.health_check
        for iid in list(self.targets):
            target = self.targets[iid]
            started = running.get(iid)
            if target.state == "draining":
                if now >= target.drain_until:
                    del self.targets[iid]
                continue
            if started is not None:
                if target.state != "healthy" and now >= max(target.since, started) + (
                    check.healthy_after
                ):
                    target.state, target.since = "healthy", now
            elif target.state in ("initial", "healthy") and now >= target.since + (
                check.unhealthy_after
            ):
                target.state, target.since = "unhealthy", now

    def app_stopped(self, iid: str, now: float) -> None:
        target = self.targets.get(iid)
        if target is not None and target.state == "healthy":
            target.since = now  # the failing checks start counting now

    def register(self, iid: str, now: float, port: int | None = None) -> None:
        target = self.targets.get(iid)
        if target is None or target.state == "draining":
            self.targets[iid] = Target("initial", now, port or self.port)

    def deregister(self, iid: str, now: float) -> bool:
        """Start draining `iid`; False if it was not registered."""
        target = self.targets.get(iid)
        if target is None or target.state == "draining":
            return target is not None
        if target.state == "healthy" and self.deregistration_delay > 0:
            target.state, target.since = "draining", now
            target.drain_until = now + self.deregistration_delay
        else:
            del self.targets[iid]
        return True

    def state(self, iid: str) -> str:
        target = self.targets.get(iid)
        return target.state if target else "unused"

    def serving(self) -> set[str]:
        return {iid for iid, t in self.targets.items() if t.state == SERVING}
