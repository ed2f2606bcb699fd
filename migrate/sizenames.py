"""Azure VM size names: the naming grammar, and a size derived from its name alone.

Azure names sizes ``[Standard_|Basic_]<family><sub-family?><number>[-<active vCPUs>]<features>
[_<accelerator>][_v<version>][_Promo]``, e.g. ``Standard_E16-4s_v3``, ``Standard_NC24ads_A100_v4``,
``Basic_A2``, ``Standard_D11_v2_Promo``. The number is the vCPU count in current families and an
index in old ones (A0-A11, D1-D15, G1-G5, H8/H16); a constrained size (``E16-4s_v3``) keeps the
memory of its parent and runs the active vCPUs only. Feature letters add up: a AMD, p Arm,
d local temporary disk, s premium storage, i isolated, b block-storage performance, l less
memory, m more memory, t tiny memory, r RDMA.

The per-family facts (memory per vCPU, vendor, GPU model, the index tables) are data:
``catalog/azure_size_families.json``. :func:`derive_size` resolves a size that neither the
subscription nor the embedded catalog knows; the plan then says "derived from the size name".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from migrate import catalog
from migrate.model import VmSize

_NAME = re.compile(
    r"^(?:(?P<tier>Standard|Basic)_)?(?P<family>[A-Z]+)(?P<number>\d+)(?:-(?P<active>\d+))?"
    r"(?P<features>[a-z]*)(?:_(?!Promo$)(?P<accel>[A-Z][A-Za-z0-9]*?))?"
    r"(?:_v(?P<version>\d+))?(?:_(?P<promo>Promo))?$"
)
DERIVED_NOTE = "derived from the size name"


@dataclass(frozen=True, slots=True)
class AzureSizeName:
    """The parts of an Azure size name."""

    family: str  # the letters before the number: A, D, DS, DC, E, NC, HB, ...
    number: int  # vCPUs (current families) or the size index (old families)
    active_vcpus: int | None  # constrained sizes: E16-4s_v3 -> 4
    features: str  # a, p, d, s, i, b, l, m, t, r ... in name order
    accelerator: str  # T4, A100, H100, A10, ...
    version: int  # 1 when the name has no _vN
    tier: str = "Standard"  # Standard | Basic
    promo: bool = False

    @property
    def vendor(self) -> str:
        """The CPU vendor the feature letters state ('' when they do not say)."""
        if "p" in self.features:
            return "Arm64"
        return "AMD" if "a" in self.features else ""


def parse_azure_size(name: str) -> AzureSizeName | None:
    """The parts of ``name``, or None when it does not follow the grammar."""
    match = _NAME.match(name.strip())
    if not match:
        return None
    return AzureSizeName(
        family=match["family"],
        number=int(match["number"]),
        active_vcpus=int(match["active"]) if match["active"] else None,
        features=match["features"],
        accelerator=match["accel"] or "",
        version=int(match["version"] or 1),
        tier=match["tier"] or "Standard",
        promo=bool(match["promo"]),
    )


@cache
def _families() -> dict[str, dict[str, Any]]:
    return catalog.load_data(catalog.AZURE_FAMILIES_FILE)["families"]


def family_facts(parsed: AzureSizeName) -> dict[str, Any] | None:
    """The family entry for a parsed name: FAMILY_ACCEL_vN, FAMILY_ACCEL, FAMILY_vN, FAMILY,
    then the same with a shorter family (NCC -> NC), first found."""
    table = _families()
    family = parsed.family
    while family:
        keys = []
        if parsed.accelerator:
            keys += [
                f"{family}_{parsed.accelerator}_v{parsed.version}",
                f"{family}_{parsed.accelerator}",
            ]
        keys += [f"{family}_v{parsed.version}", family]
        for key in keys:
            if key in table:
                return table[key]
        family = family[:-1]
    return None


def _mem_feature(features: str) -> str:
    for letter in "mlt":
        if letter in features:
            return letter
    return ""


def derive_size(name: str) -> VmSize | None:
    """vCPUs, memory, vendor and GPUs of ``name`` from the family facts (None if unknown)."""
    parsed = parse_azure_size(name)
    if parsed is None:
        return None
    facts = family_facts(parsed)
    if facts is None:
        return None
    sizes = facts.get("sizes", {})
    mem_letter = _mem_feature(parsed.features)
    exact = None
    for key in (f"{parsed.number}{parsed.features}", f"{parsed.number}{mem_letter}"):
        if key in sizes:
            exact = sizes[key]
            break
    if exact is None and not mem_letter and str(parsed.number) in sizes:
        exact = sizes[str(parsed.number)]
    gpus = 0.0
    if isinstance(exact, list):
        vcpus, memory = int(exact[0]), float(exact[1])
        gpus = float(exact[2]) if len(exact) > 2 else 0.0
    elif facts.get("number") == "index":
        return None  # an index the table does not list: the number is not a vCPU count
    else:
        vcpus = parsed.number
        per_vcpu = facts.get("featureMemPerVcpu", {}).get(mem_letter, facts.get("memPerVcpu"))
        if per_vcpu is None:
            return None
        memory = float(exact) if exact is not None else round(vcpus * per_vcpu, 2)
        gpus = _gpu_count(vcpus * facts.get("gpusPerVcpu", 0))
    if parsed.active_vcpus:
        vcpus = parsed.active_vcpus  # constrained: the parent's memory, fewer active vCPUs
    vendor = parsed.vendor or facts.get("vendor", "Intel")
    return VmSize(
        name=name,
        vcpus=vcpus,
        memory_gb=memory,
        architecture="Arm64" if vendor == "Arm64" else "x64",
        gpus=gpus,
        gpu_model=facts.get("gpuModel", "") if gpus else "",
        family=parsed.family,
        origin="name",
    )


def _gpu_count(value: float) -> float:
    """A whole number of GPUs when close to one, else the fraction (0.125, 0.333, ...)."""
    if value >= 0.95:
        return float(round(value))
    return round(value, 3)


def purpose(name: str) -> str:
    """The family's purpose, e.g. 'memory optimised' ('' when the family is unknown)."""
    parsed = parse_azure_size(name)
    facts = family_facts(parsed) if parsed else None
    return (facts or {}).get("purpose", "")


def flags(name: str) -> dict[str, bool]:
    """Family traits that decide the EC2 class: burstable, hpc, localNvme, confidential."""
    parsed = parse_azure_size(name)
    facts = (family_facts(parsed) if parsed else None) or {}
    return {k: bool(facts.get(k)) for k in ("burstable", "hpc", "localNvme", "confidential")}
