"""Was a hook killed by its appspec timeout because this machine, not the hook, was slow?

A rehearsal squeezes a fleet's hooks onto a few shared cores and one emulator. When a hook is
killed by its appspec timeout, two measurements say whether it was starved:

- the real seconds its instance's AWS calls spent in the emulator (queued behind other calls
  and answered), from the proxy (`CallTimes`);
- how late this machine woke a short sleeper during the run (`HostLag`): CPU starvation.

If together they exceed the allowance the rehearsal adds to every appspec timeout for latency
on a busy machine (agent.START_ALLOWANCE), the hook would have finished in time on its own
instance: the verdict is INCONCLUSIVE (about the host), never FAIL (about the hooks). A hook
that could not even start within agent.START_CAP is starved by definition."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# How often the host-lag probe wakes (real seconds), and the oversleep below which it is noise.
TICK = 0.05
NOISE = 0.005


class CallTimes:
    """Real-second intervals each caller spent inside the proxy, for windowed sums."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._spans: dict[str, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def add(self, caller: str, start: float, end: float) -> None:
        with self._lock:
            self._spans.setdefault(caller, []).append((start, end))

    def seconds(self, caller: str, start: float, end: float) -> float:
        with self._lock:
            spans = list(self._spans.get(caller, ()))
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


class HostLag:
    """A thread that sleeps TICK and records how late it woke: the host's scheduling lag."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._times: list[float] = []
        self._lags: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True, name="host-lag")

    def start(self) -> HostLag:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)

    def _probe(self) -> None:
        while not self._stop.is_set():
            before = time.monotonic()
            time.sleep(TICK)
            late = time.monotonic() - before - TICK
            if late > NOISE:
                self._times.append(self.now())
                self._lags.append(late)

    def seconds(self, start: float, end: float) -> float:
        times, lags = list(self._times), list(self._lags)
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_right(times, end)
        return sum(lags[lo:hi])


@dataclass(frozen=True)
class StarvedHook:
    instance: str
    event: str
    deployment: str
    seconds: float  # how long it ran before it was killed (real)
    emulator_seconds: float  # its instance's calls, inside the emulator, during the run
    host_lag_seconds: float
    not_started: bool = False

    def describe(self) -> str:
        if self.not_started:
            return f"{self.instance} {self.event} did not start within {self.seconds:.0f} s"
        return (
            f"{self.instance} {self.event} killed by its appspec timeout after "
            f"{self.seconds:.1f} s; its AWS calls spent {self.emulator_seconds:.1f} s in the "
            f"emulator and the host lagged {self.host_lag_seconds:.1f} s meanwhile"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "event": self.event,
            "deployment": self.deployment,
            "seconds": round(self.seconds, 2),
            "emulatorSeconds": round(self.emulator_seconds, 2),
            "hostLagSeconds": round(self.host_lag_seconds, 2),
        }


def starved(
    run: Any, caller: str, calls: CallTimes, lag: HostLag, allowance: float
) -> StarvedHook | None:
    """The starvation of one timed-out hook run (agent.HookRun), or None if it was not."""
    end = run.started + run.seconds
    emulator = calls.seconds(caller, run.started, end)
    host = lag.seconds(run.started, end)
    found = StarvedHook(
        run.instance_id,
        run.event,
        run.deployment_id,
        run.seconds,
        emulator,
        host,
        not_started=run.not_started,
    )
    if run.not_started or emulator + host >= allowance:
        return found
    return None


@dataclass
class ActionTimes:
    """Per API action: calls, real seconds in the proxy (queued and answered) and real seconds
    waiting on moto, for finding where the emulator's time goes (bench/bench_rehearse.py)."""

    calls: int = 0
    seconds: float = 0.0
    forwarded: int = 0
    moto_seconds: float = 0.0
    slowest: float = 0.0


class EmulatorStats:
    def __init__(self) -> None:
        self.actions: dict[str, ActionTimes] = {}
        self._lock = threading.Lock()

    def _entry(self, call: Any) -> ActionTimes:
        key = f"{call.service}:{call.action}"
        found = self.actions.get(key)
        if found is None:
            found = self.actions.setdefault(key, ActionTimes())
        return found

    def answered(self, call: Any, seconds: float) -> None:
        with self._lock:
            entry = self._entry(call)
            entry.calls += 1
            entry.seconds += seconds
            entry.slowest = max(entry.slowest, seconds)

    def forwarded(self, call: Any, seconds: float) -> None:
        with self._lock:
            entry = self._entry(call)
            entry.forwarded += 1
            entry.moto_seconds += seconds

    def table(self) -> str:
        """One line per action, the most time first."""
        with self._lock:
            rows = sorted(self.actions.items(), key=lambda kv: -kv[1].seconds)
        lines = [
            f"{'action':48} {'calls':>6} {'s in proxy':>10} {'mean ms':>8} {'max s':>6} "
            f"{'to moto':>7} {'s in moto':>9} {'mean ms':>8}"
        ]
        for key, t in rows:
            lines.append(
                f"{key:48} {t.calls:6d} {t.seconds:10.1f} {1000 * t.seconds / max(1, t.calls):8.1f}"
                f" {t.slowest:6.2f} {t.forwarded:7d} {t.moto_seconds:9.1f} "
                f"{1000 * t.moto_seconds / max(1, t.forwarded):8.1f}"
            )
        return "\n".join(lines)
