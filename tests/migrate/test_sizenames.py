"""Azure size names: the grammar, and sizes derived from the name against published figures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from migrate.model import Inventory, VirtualMachine
from migrate.sizenames import DERIVED_NOTE, derive_size, parse_azure_size
from migrate.sources import attach_sizes

PUBLISHED = Path(__file__).parent / "data" / "azure_published_sizes.csv"


def _published() -> list[tuple[str, int, float, float]]:
    lines = [line for line in PUBLISHED.read_text().splitlines() if not line.startswith("#")]
    return [
        (r["name"], int(r["vcpus"]), float(r["memory_gib"]), float(r["gpus"]))
        for r in csv.DictReader(lines)
    ]


def _matches(name: str, vcpus: int, memory: float) -> bool:
    size = derive_size(name)
    return size is not None and size.vcpus == vcpus and abs(size.memory_gb - memory) <= 0.1 * memory


def test_at_least_99_percent_of_published_sizes_derive_from_the_name() -> None:
    table = _published()
    missed = [name for name, vcpus, memory, _ in table if not _matches(name, vcpus, memory)]
    assert len(table) >= 240
    assert (len(table) - len(missed)) / len(table) >= 0.99, missed


@pytest.mark.parametrize(
    "family",
    [
        "D2a_v4",
        "Basic_A",
        "Standard_D1",
        "Standard_DS1",
        "_A5",
        "Promo",
        "E16-4s_v3",
        "_G",
        "_GS",
        "_H",
        "_NC",
        "_NV",
        "_ND",
    ],
)
def test_every_family_of_the_issue_is_in_the_table(family: str) -> None:
    names = [name for name, *_ in _published() if family in name]
    assert names and all(_matches(n, v, m) for n, v, m, _ in _published() if n in names)


def test_gpu_counts_and_fractions_derive_from_the_name() -> None:
    for name, _, _, gpus in _published():
        size = derive_size(name)
        assert size is not None and size.gpus == pytest.approx(gpus, abs=0.01), name
        assert bool(size.gpu_model) == bool(gpus), name


def test_grammar_parts() -> None:
    parsed = parse_azure_size("Standard_NC24ads_A100_v4")
    assert (parsed.family, parsed.number, parsed.features, parsed.accelerator, parsed.version) == (
        "NC",
        24,
        "ads",
        "A100",
        4,
    )
    constrained = parse_azure_size("Standard_E16-4s_v3")
    assert (constrained.number, constrained.active_vcpus, constrained.features) == (16, 4, "s")
    basic = parse_azure_size("Basic_A2")
    assert (basic.tier, basic.family, basic.number, basic.version) == ("Basic", "A", 2, 1)
    promo = parse_azure_size("Standard_NC6_Promo")
    assert promo.promo and promo.accelerator == ""
    assert parse_azure_size("Standard_D4ps_v5").vendor == "Arm64"
    assert parse_azure_size("Standard_D4as_v5").vendor == "AMD"
    assert parse_azure_size("not a size") is None


def test_unknown_family_or_index_is_not_guessed() -> None:
    assert derive_size("Standard_Q7_v9") is None
    assert derive_size("Standard_A99") is None  # an index the A table does not have


def test_inventory_resolution_order_subscription_catalog_name() -> None:
    inventory = Inventory(
        vms=[
            VirtualMachine(
                id=f"/subscriptions/s/vm{i}", name=f"vm{i}", location="x", vm_size=size, source="t"
            )
            for i, size in enumerate(["Standard_D2s_v5", "Standard_D4s_v5", "Standard_D2a_v4"])
        ]
    )
    from migrate.model import VmSize

    attach_sizes(inventory, {"Standard_D2s_v5": VmSize("Standard_D2s_v5", 2, 9)})

    origins = {name: s.origin for name, s in inventory.vm_sizes.items()}
    assert origins == {
        "Standard_D2s_v5": "subscription",
        "Standard_D4s_v5": "catalog",
        "Standard_D2a_v4": "name",
    }
    assert inventory.vm_sizes["Standard_D2s_v5"].memory_gb == 9
    assert DERIVED_NOTE == "derived from the size name"
