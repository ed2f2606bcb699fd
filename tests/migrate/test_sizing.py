"""The Azure size -> EC2 instance type mapping tables."""

from __future__ import annotations

import pytest

from migrate import catalog
from migrate.sizing import choose_instance_type, parse_azure_size


def _choose(name: str):
    return choose_instance_type(catalog.azure_sizes()[name.lower()])


@pytest.mark.parametrize(
    ("azure", "ec2"),
    [
        ("Standard_D4s_v5", "m7i.xlarge"),  # D -> m, Intel kept
        ("Standard_D2s_v3", "m7i.large"),  # older Azure generation -> current EC2 generation
        ("Standard_D4as_v5", "m7a.xlarge"),  # AMD kept
        ("Standard_D4ps_v5", "m7g.xlarge"),  # Arm -> Graviton
        ("Standard_E4as_v5", "r7a.xlarge"),  # E -> r
        ("Standard_F8s_v2", "c7i.2xlarge"),  # F -> c
        ("Standard_D8ls_v5", "c7i.2xlarge"),  # low-memory D -> c
        ("Standard_B2s", "t3.medium"),  # B -> t
        ("Standard_B2ps_v2", "t4g.large"),
        ("Standard_M128ms", "x1e.32xlarge"),  # M -> x, memory at least the source's
    ],
)
def test_family_vendor_and_size_mapping(azure: str, ec2: str) -> None:
    assert _choose(azure).instance_type == ec2


@pytest.mark.parametrize(
    "azure",
    [
        "Standard_D4s_v5",
        "Standard_E16s_v5",
        "Standard_F4s_v2",
        "Standard_L8s_v3",
        "Standard_D8ps_v5",
    ],
)
def test_same_vcpus_and_at_least_the_memory(azure: str) -> None:
    size = catalog.azure_sizes()[azure.lower()]
    choice = choose_instance_type(size)
    ec2 = {t.name: t for t in catalog.ec2_types()}[choice.instance_type]
    assert ec2.vcpus == size.vcpus
    assert ec2.memory_mib >= size.memory_gb * 1024 * 0.98
    assert ec2.current_generation
    assert choice.alternatives and choice.instance_type not in choice.alternatives
    assert choice.rationale.startswith(azure)
    assert not choice.warnings


def test_gpu_size_without_close_match_warns() -> None:
    choice = _choose("Standard_NC6s_v3")
    ec2 = {t.name: t for t in catalog.ec2_types()}[choice.instance_type]
    assert ec2.gpus >= 1
    assert any("no close EC2 match" in w for w in choice.warnings)


def test_burstable_one_vcpu_without_exact_match_takes_the_nearest() -> None:
    choice = _choose("Standard_B1s")
    assert choice.instance_type.startswith("t")


def test_size_name_parsing() -> None:
    parsed = parse_azure_size("Standard_NC24ads_A100_v4")
    assert (parsed.family, parsed.features, parsed.accelerator, parsed.version) == (
        "NC",
        "ads",
        "A100",
        4,
    )
    assert parse_azure_size("Standard_E4-2s_v5").features == "s"
    assert parse_azure_size("not a size") is None


def test_every_embedded_azure_size_maps_to_an_ec2_type() -> None:
    unmapped = []
    for size in catalog.azure_sizes().values():
        try:
            choose_instance_type(size)
        except LookupError:
            unmapped.append(size.name)
    assert not unmapped
