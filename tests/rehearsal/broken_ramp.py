"""Deliberately broken ramps: the real `shift.ramp.Ramp` with one known defect put
back, so the shift scenarios' verdict can be shown to catch it (in the spirit of
`broken_hooks.py`). Passed to the rehearsal as `Options(ramp=...)`."""

from __future__ import annotations

from cutover.exitcodes import CHECK_FAILED
from shift.ramp import Ramp


class NoRollback(Ramp):
    """Reports the breach and exits 1, as the real one does, but never moves the weights back."""

    def _breach(self, records, live, k, step, held, breached):
        reason = "; ".join(f"{r.name} {r.value} ({r.limit})" for r in breached)
        self.progress.event(
            "rolled-back",
            f"gate breached at step {k} (AWS {step}%): {reason}; rolled back",
            verdict=True,
            step=k,
            percent=held,
            reason=reason,
        )
        return CHECK_FAILED


class LateRollback(Ramp):
    """Rolls back to the right step, but only after waiting the TTL and the hold once more."""

    def _breach(self, records, live, k, step, held, breached):
        self._wait(live.ttl, self.options.hold)
        return super()._breach(records, live, k, step, held, breached)
