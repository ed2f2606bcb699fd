"""The rehearsal's clock: emulated AWS seconds run `scale` times faster than real ones.

Every AWS delay the rehearsal models (deregistration delay, health checks, grace period, the
hooks' polling and deadlines, token-bucket refills) is counted in emulated seconds; every figure
the rehearsal reports is converted back to real seconds."""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.started = time.monotonic()
        self._base_real = 0.0  # real seconds at the last change of scale
        self._base_emulated = 0.0  # emulated seconds then
        self._lock = threading.Lock()

    def real(self) -> float:
        """Real seconds since the rehearsal started."""
        return time.monotonic() - self.started

    def now(self) -> float:
        """Emulated seconds since the rehearsal started."""
        with self._lock:
            return self._base_emulated + (self.real() - self._base_real) * self.scale

    def set_scale(self, scale: float) -> None:
        """Run faster or slower from now on (0 stops emulated time), without a jump."""
        with self._lock:
            real = self.real()
            self._base_emulated += (real - self._base_real) * self.scale
            self._base_real = real
            self.scale = scale

    def to_real(self, emulated: float) -> float:
        return emulated / self.scale

    def sleep(self, emulated: float) -> None:
        time.sleep(max(0.0, emulated / self.scale))
