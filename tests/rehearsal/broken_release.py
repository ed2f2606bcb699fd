"""Deliberately broken releases: the real `release.run.Release` with one known defect put back,
so the blue-green rollback scenario's verdict can be shown to catch it (in the spirit of
`broken_ramp.py`). Passed to the rehearsal as `Options(release=...)`."""

from __future__ import annotations

from cutover.exitcodes import CHECK_FAILED
from release.errors import ReleaseError
from release.run import Release


class NoRollback(Release):
    """Reports the breach and exits 1, as the real one does, but leaves the users where they
    are (no listener change)."""

    def _roll_back_after(self, new, old, breached):
        reason = "; ".join(map(str, breached))
        self._note(f"gate breached on {new}: {reason}")
        raise ReleaseError(f"gate breached on {new} ({reason})", CHECK_FAILED)


class LateRollback(Release):
    """Rolls every user back, but only after holding the breached step once more."""

    def _roll_back_after(self, new, old, breached):
        self.clock.sleep(self.options.hold)
        return super()._roll_back_after(new, old, breached)
