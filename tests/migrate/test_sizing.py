"""The Azure size -> EC2 instance type mapping tables."""

from __future__ import annotations

import pytest

from migrate import catalog
from migrate.sizenames import derive_size
from migrate.sizing import choose_instance_type


def _choose(name: str):
    return choose_instance_type(catalog.azure_sizes().get(name.lower()) or derive_size(name))


# The cases of issue 10: the family follows the fit, not the letter.
@pytest.mark.parametrize(
    ("azure", "expected"),
    [
        (
            "Standard_DS12_v2",
            ("r7i.xlarge",),
        ),  # 4 vCPU / 28 GiB: memory-heavy -> r, not m7i.2xlarge
        ("Standard_A2m_v2", ("r7i.large",)),  # 2 vCPU / 16 GiB, not m7i.xlarge
        ("Standard_M8ms", ("x2iedn.2xlarge",)),  # 8 vCPU / 219 GiB, not x1.16xlarge (64 vCPU)
        ("Standard_HB120rs_v2", ("hpc7a.96xlarge",)),  # AMD HPC -> hpc7a, not r7i.48xlarge
        ("Standard_NC4as_T4_v3", ("g4dn.xlarge", "g4dn.2xlarge")),  # T4 -> g4dn, not g6e (L40S)
        ("Standard_E2ps_v5", ("r7g.large", "r8g.large")),  # Arm memory -> r7g/r8g, not r6g
        ("Standard_NC6s_v3", ("p3.2xlarge",)),  # V100 -> p3
        ("Standard_ND96isr_H100_v5", ("p5.48xlarge",)),  # H100 -> p5
        ("Standard_NC24ads_A100_v4", ("p4d.24xlarge",)),  # A100 -> p4d (model first)
        ("Standard_NV36ads_A10_v5", ("g5.16xlarge",)),  # A10 -> g5
    ],
)
def test_issue_cases_size_by_fit(azure: str, expected: tuple[str, ...]) -> None:
    assert _choose(azure).instance_type in expected


@pytest.mark.parametrize("azure", ["Standard_A0", "Standard_A1", "Basic_A1", "Standard_D1_v2"])
def test_a_size_that_is_not_burstable_never_gets_a_burstable_type(azure: str) -> None:
    choice = _choose(azure)
    ec2 = catalog.ec2_type(choice.instance_type)
    assert not choice.instance_type.startswith("t") and not ec2.burstable
    assert "not burstable -> no t type" in choice.rationale


def test_burstable_source_keeps_a_burstable_type_and_warns_when_none_is_big_enough() -> None:
    assert _choose("Standard_B2s").instance_type.startswith("t")
    big = _choose("Standard_B20ms")
    assert not big.instance_type.startswith("t")
    assert any("no burstable EC2 type holds Standard_B20ms" in w for w in big.warnings)


def test_rationale_names_the_runner_up_and_why_it_lost() -> None:
    choice = _choose("Standard_DS12_v2")
    assert choice.runner_up == "r7a.xlarge" and choice.runner_up_reason == "vendor/architecture"
    assert "runner-up r7a.xlarge (4 vCPU, 32 GiB, AMD) lost on vendor/architecture" in (
        choice.rationale
    )
    m8 = _choose("Standard_M8ms")
    assert "x1e.2xlarge" in m8.alternatives  # the older x1e is the same size, one generation back


def test_size_from_the_name_says_so() -> None:
    choice = _choose("Standard_D2a_v4")
    assert choice.instance_type == "m7a.large" and choice.size_origin == "name"
    assert "derived from the size name" in choice.rationale
    assert any("derived from the size name" in w for w in choice.warnings)


def test_azure_v6_sizes_may_take_the_eighth_generation() -> None:
    assert _choose("Standard_D2s_v6").instance_type == "m8i.large"
    assert _choose("Standard_D2s_v5").instance_type == "m7i.large"


def test_fractional_gpu_source_can_take_a_fractional_gpu_type() -> None:
    choice = _choose("Standard_NV4as_v4")  # 1/8 of an MI25
    ec2 = catalog.ec2_type(choice.instance_type)
    assert 0 < ec2.gpus < 1


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
        ("Standard_M128ms", "x2iedn.32xlarge"),  # M -> x, memory at least the source's
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
    assert choice.runner_up and choice.runner_up in choice.rationale


def test_gpu_size_without_close_match_warns() -> None:
    choice = _choose("Standard_NC6s_v3")  # 112 GiB; p3.2xlarge has 61
    ec2 = {t.name: t for t in catalog.ec2_types()}[choice.instance_type]
    assert ec2.gpus >= 1
    assert any("no close EC2 match" in w for w in choice.warnings)


def test_burstable_one_vcpu_without_exact_match_takes_the_nearest() -> None:
    choice = _choose("Standard_B1s")
    assert choice.instance_type.startswith("t")


def test_every_embedded_azure_size_maps_to_an_ec2_type() -> None:
    unmapped = []
    for size in catalog.azure_sizes().values():
        try:
            choose_instance_type(size)
        except LookupError:
            unmapped.append(size.name)
    assert not unmapped
