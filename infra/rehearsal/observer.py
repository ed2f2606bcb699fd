"""Samples the fleet many times a second: who is in service behind the load balancer, and the
group's Min/Desired/Max."""

from __future__ import annotations

import threading
import time
from typing import Any

from infra.rehearsal.chart import Mark, Sample
from infra.rehearsal.emulator import Fleet

HEALTHY = {"healthy", "InService"}  # target group / classic ELB words for "taking traffic"


class Observer:
    """A background thread recording a `Sample` every `interval` seconds until `stop()`."""

    def __init__(self, clients: dict[str, Any], fleet: Fleet, interval: float) -> None:
        self._autoscaling = clients["autoscaling"]
        self._elbv2 = clients["elbv2"]
        self._elb = clients["elb"]
        self._fleet = fleet
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._start = time.monotonic()
        self.samples: list[Sample] = []
        self.marks: list[Mark] = []
        self.error: Exception | None = None

    def now(self) -> float:
        return time.monotonic() - self._start

    def mark(self, label: str) -> None:
        self.marks.append(Mark(self.now(), label))

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

    def _serving(self) -> set[str]:
        """Instances the load balancer(s) send traffic to: healthy in every one of them."""
        serving: set[str] | None = None
        for arn in self._fleet.target_group_arns:
            found = self._elbv2.describe_target_health(TargetGroupArn=arn)
            ids = {
                d["Target"]["Id"]
                for d in found["TargetHealthDescriptions"]
                if d["TargetHealth"]["State"] in HEALTHY
            }
            serving = ids if serving is None else serving & ids
        if self._fleet.classic_elb_name:
            found = self._elb.describe_instance_health(
                LoadBalancerName=self._fleet.classic_elb_name
            )
            ids = {s["InstanceId"] for s in found["InstanceStates"] if s["State"] in HEALTHY}
            serving = ids if serving is None else serving & ids
        return serving or set()

    def sample(self) -> Sample:
        group = self._autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self._fleet.group_name]
        )["AutoScalingGroups"][0]
        serving = self._serving()
        in_service = {
            i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"
        }
        sample = Sample(
            t=self.now(),
            in_service=len(in_service & serving),
            registered=len(serving),
            min_size=group["MinSize"],
            desired_capacity=group["DesiredCapacity"],
            max_size=group["MaxSize"],
        )
        self.samples.append(sample)
        return sample
