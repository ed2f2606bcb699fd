"""The hooks' timing contract: appspec timeouts, the hooks' own deadlines, and the margins
between them. Facts the hooks own: infra and policy import them from here, never the reverse.

    appspec timeout (the agent kills the script)   e.g. 400 s
      - APPSPEC_MARGIN                             40 s: start Python, last API calls, report
      = the hook's deadline (CUTOVER_DEREGISTER_TIMEOUT)    360 s
      - DRAIN_MARGIN                               20 s: Standby, deregister calls, last polls
      > the load balancer's deregistration delay   must be shorter
"""

from __future__ import annotations

from dataclasses import dataclass

# CodeDeploy's defaults for where the hooks go, and its limit per lifecycle event.
DEFAULT_DEREGISTER_TIMEOUT = 400
DEFAULT_REGISTER_TIMEOUT = 300
MAX_EVENT_TIMEOUT = 3600

# Seconds between the appspec timeout and the hook's own deadline, per command.
DEREGISTER_MARGIN = 40
REGISTER_MARGIN = 20
# Seconds the deregister hook needs besides the drain itself.
DRAIN_MARGIN = 20
# The drain plus everything else must fit in the appspec timeout: delay + this < timeout.
DEREGISTER_HOOK_MARGIN = DEREGISTER_MARGIN + DRAIN_MARGIN
# What AWS uses when a target group does not set deregistration_delay.timeout_seconds.
AWS_DEFAULT_DEREGISTRATION_DELAY = 300
# The least time register needs to put an instance back and see it healthy.
MIN_REGISTER_DEADLINE = 20

DEFAULT_DEADLINES = {
    "deregister": float(DEFAULT_DEREGISTER_TIMEOUT - DEREGISTER_MARGIN),
    "register": float(DEFAULT_REGISTER_TIMEOUT - REGISTER_MARGIN),
    "reconcile": 300.0,
    "heal": 300.0,
}


@dataclass(frozen=True)
class HookTimeouts:
    """The appspec timeouts of the two hooks and what they must make room for."""

    deregister: int = DEFAULT_DEREGISTER_TIMEOUT
    register: int = DEFAULT_REGISTER_TIMEOUT
    # The longest deregistration delay (connection draining) of the instance's load balancers.
    deregistration_delay: int = AWS_DEFAULT_DEREGISTRATION_DELAY
    # (healthy threshold + 1) x interval of the health check, when known.
    time_to_healthy: int = 0

    @property
    def deregister_deadline(self) -> int:
        return self.deregister - DEREGISTER_MARGIN

    @property
    def register_deadline(self) -> int:
        return self.register - REGISTER_MARGIN

    @property
    def register_needs(self) -> int:
        """Seconds the register hook's deadline must exceed: the time to turn healthy, at least
        MIN_REGISTER_DEADLINE."""
        return max(MIN_REGISTER_DEADLINE, self.time_to_healthy)

    def range_problems(self) -> list[str]:
        """Timeouts outside CodeDeploy's limit per lifecycle event."""
        return [
            f"the {name} timeout must be 1..{MAX_EVENT_TIMEOUT} s (CodeDeploy's limit per "
            f"lifecycle event), got {value}"
            for name, value in (("deregister", self.deregister), ("register", self.register))
            if not 1 <= value <= MAX_EVENT_TIMEOUT
        ]

    def deregister_problem(self) -> str | None:
        """Why the deregister timeout cannot hold the drain, or None."""
        if self.deregister_deadline > self.deregistration_delay + DRAIN_MARGIN:
            return None
        return (
            f"the deregister timeout {self.deregister} s gives the hook a deadline of "
            f"{self.deregister_deadline} s ({DEREGISTER_MARGIN} s less), which must exceed "
            f"the deregistration delay {self.deregistration_delay} s + {DRAIN_MARGIN} s: "
            f"use at least {self.deregistration_delay + DEREGISTER_HOOK_MARGIN + 1} s or "
            "shorten the delay"
        )

    def register_problem(self) -> str | None:
        """Why the register timeout cannot wait for the instance to turn healthy, or None."""
        need = self.register_needs
        if self.register_deadline > need:
            return None
        why = (
            f"the {self.time_to_healthy} s a registered instance needs to turn healthy"
            if self.time_to_healthy > MIN_REGISTER_DEADLINE
            else f"{MIN_REGISTER_DEADLINE} s"
        )
        return (
            f"the register timeout {self.register} s gives the hook a deadline of "
            f"{self.register_deadline} s ({REGISTER_MARGIN} s less), which must exceed {why}: "
            f"use at least {need + REGISTER_MARGIN + 1} s"
        )

    def problems(self) -> list[str]:
        """Why these timeouts cannot work (empty when they can)."""
        found = self.range_problems()
        found += [p for p in (self.deregister_problem(), self.register_problem()) if p]
        return found
