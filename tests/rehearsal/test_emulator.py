"""The rehearsal's moto server: one per process, reset between rehearsals (emulator.py)."""

from __future__ import annotations

from rehearsal.emulator import Emulator

REGION = "eu-west-1"


def _vpcs(emulator: Emulator) -> set[str]:
    return {v["CidrBlock"] for v in emulator.client("ec2").describe_vpcs()["Vpcs"]}


def test_the_next_rehearsal_reuses_the_server_with_nothing_of_the_last_one() -> None:
    with Emulator(REGION) as first:
        first.client("ec2").create_vpc(CidrBlock="10.99.0.0/16")
        first.client("autoscaling").create_launch_configuration(
            LaunchConfigurationName="leftover", ImageId="ami-12c6146b", InstanceType="t3.micro"
        )
        assert "10.99.0.0/16" in _vpcs(first)
        url = first.moto_url

    with Emulator(REGION) as second:
        assert second.moto_url == url  # the same server, not a new one
        assert "10.99.0.0/16" not in _vpcs(second) and _vpcs(second)  # the default VPC only
        configs = second.client("autoscaling").describe_launch_configurations()
        assert configs["LaunchConfigurations"] == []


def test_a_server_that_died_while_idle_is_replaced() -> None:
    with Emulator(REGION) as first:
        url = first.moto_url
        process = first._process
    assert process is not None
    process.kill()
    process.wait()

    with Emulator(REGION) as second:
        assert second.moto_url != url
        assert _vpcs(second)  # the new server answers
