"""Samples the fleet many times a second as AWS would show it: who is InService and healthy
behind every one of the group's load balancers, and the group's Min/Desired/Max. It reads the
world directly, so its looks cost the hooks no API calls and no throttling tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rehearsal.clock import Clock
from rehearsal.world import World


@dataclass(frozen=True)
class Sample:
    """What the observer saw at `t` real seconds after the rehearsal started."""

    t: float
    serving: frozenset[str]  # InService and healthy in every load balancer
    standby: frozenset[str]
    instances: frozenset[str]
    launching: frozenset[str]  # held in Pending:Wait by CodeDeploy's launch hook
    min_size: int
    desired_capacity: int
    max_size: int

    @property
    def in_service(self) -> int:
        return len(self.serving)


@dataclass(frozen=True)
class Mark:
    """A moment worth labelling on the chart (a deployment starting, an operator's action)."""

    t: float
    label: str
    kind: str = "info"  # info | failed | rollback | action


class Observer:
    """A background thread recording a `Sample` every `interval` real seconds until `stop()`."""

    def __init__(self, world: World, clock: Clock, interval: float) -> None:
        self._world = world
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self.samples: list[Sample] = []
        self.marks: list[Mark] = []
        self.error: Exception | None = None

    def mark(self, label: str, kind: str = "info") -> None:
        self.marks.append(Mark(self._clock.real(), label, kind))

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sample()
            except Exception as error:  # reported by stop(): a blind observer proves nothing
                self.error = error
                return

    def sample(self) -> Sample:
        world = self._world
        world.advance()
        with world.lock:
            group = world.group
            states = world.presented_lifecycle()
            serving = world.serving()
        in_service = {iid for iid, state in states.items() if state == "InService"}
        sample = Sample(
            t=self._clock.real(),
            serving=frozenset(in_service & serving),
            standby=frozenset(i for i, s in states.items() if s == "Standby"),
            instances=frozenset(states),
            launching=frozenset(i for i, s in states.items() if s.startswith("Pending")),
            min_size=group["MinSize"],
            desired_capacity=group["DesiredCapacity"],
            max_size=group["MaxSize"],
        )
        self.samples.append(sample)
        return sample
