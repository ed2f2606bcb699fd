"""Fixtures for the rehearsal tests: the fleets the shipped stacks declare (read once from the
program under the preview's mocks), and an emulated account built from one of them."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from rehearsal.clock import Clock
from rehearsal.declared import DeclaredFleet, declared_fleet
from rehearsal.emulator import Emulated, Emulator


@pytest.fixture(scope="session")
def production() -> DeclaredFleet:
    return declared_fleet("production")


@pytest.fixture(scope="session")
def staging() -> DeclaredFleet:
    return declared_fleet("staging")


class Account:
    """An emulated account holding the production fleet, with clients as a hook would have."""

    def __init__(self, emulated: Emulated, fleet: DeclaredFleet, clock: Clock) -> None:
        self.emulated, self.fleet, self.clock = emulated, fleet, clock
        self.world = emulated.world
        self.group = fleet.group.name
        self.target_group = emulated.target_groups[0]

    def client(self, service: str, caller: str = "rehearsal-i-test") -> object:
        return boto3.client(
            service,
            region_name=self.fleet.region,
            endpoint_url=self.emulated.url,
            aws_access_key_id=caller,
            aws_secret_access_key="x",
            config=boto3.session.Config(retries={"mode": "standard", "max_attempts": 1}),
        )

    def instances(self) -> list[str]:
        group = self.world.refresh()
        return sorted(i["InstanceId"] for i in group["Instances"])

    def states(self) -> dict[str, str]:
        elbv2 = self.client("elbv2")
        found = elbv2.describe_target_health(TargetGroupArn=self.target_group)
        return {
            d["Target"]["Id"]: d["TargetHealth"]["State"] for d in found["TargetHealthDescriptions"]
        }


@pytest.fixture
def account(production: DeclaredFleet) -> Iterator[Account]:
    # 600 emulated seconds per real one: the 120 s drain takes 0.2 s, health checks 0.05 s.
    clock = Clock(600.0)
    with Emulator(production.region) as emulator:
        emulated = emulator.build(production, clock, 3, "r0")
        emulated.world.start()
        yield Account(emulated, production, clock)
