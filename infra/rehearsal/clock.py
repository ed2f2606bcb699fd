"""The rehearsal's clock: emulated AWS seconds run `scale` times faster than real ones.

Every AWS delay the rehearsal models (deregistration delay, health checks, grace period, the
hooks' polling and deadlines, token-bucket refills) is counted in emulated seconds; every figure
the rehearsal reports is converted back to real seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Clock:
    scale: float
    started: float = field(default_factory=time.monotonic)

    def real(self) -> float:
        """Real seconds since the rehearsal started."""
        return time.monotonic() - self.started

    def now(self) -> float:
        """Emulated seconds since the rehearsal started."""
        return self.real() * self.scale

    def to_real(self, emulated: float) -> float:
        return emulated / self.scale

    def sleep(self, emulated: float) -> None:
        time.sleep(max(0.0, emulated / self.scale))
