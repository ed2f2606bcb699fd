"""Azure VM size -> EC2 instance type, by fit: a pure function of the two catalogs and mapping.json.

The EC2 class follows what the size *is*, not its family letter: GPU sizes go to GPU types (the
GPU model first, then the count), HPC sizes to hpc types, local-NVMe (L) sizes to storage types,
burstable (B) sizes to burstable t types, and every other size to the general classes
(c, m, r, x, u) by its memory per vCPU. Within a class the order is: the same vCPUs, the
smallest memory-per-vCPU step that holds the memory, the same vendor and architecture, a plain
variant, the newest generation up to the cap (``maxGeneration``; raised for Azure v6 sizes),
the least memory; an architecture change (x86 <-> Arm) only when nothing else fits. The
rationale names the runner-up and the criterion it lost on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from migrate import catalog, sizenames
from migrate.catalog import Ec2Type
from migrate.model import VmSize
from migrate.sizenames import DERIVED_NOTE, parse_azure_size

__all__ = ["SizingChoice", "choose_instance_type", "parse_azure_size"]

# <series><generation><suffix>[-flex|-b200...].<size>; u-6tb1.112xlarge is handled apart.
_EC2_NAME = re.compile(
    r"^(?P<series>[a-z]+?)(?P<gen>\d+)(?P<suffix>[a-z]*)(?P<dash>-[a-z0-9]+)?\.(?P<size>[\w-]+)$"
)
_MEMORY_SLACK = 0.98  # Azure rounds some sizes up (E4as_v5 "32 GiB" vs r7a.xlarge 32768 MiB)


@dataclass(slots=True)
class SizingChoice:
    instance_type: str
    alternatives: list[str]
    rationale: str
    warnings: list[str] = field(default_factory=list)
    sizing_class: str = "general"  # general | burstable | gpu | hpc | storage
    runner_up: str | None = None
    runner_up_reason: str = ""
    size_origin: str = "catalog"  # subscription | catalog | name


@dataclass(frozen=True, slots=True)
class _Ec2Name:
    series: str
    generation: int
    suffix: str
    dash: str


@cache
def ec2_name(name: str) -> _Ec2Name | None:
    if name.startswith("u-"):
        return _Ec2Name("u", 1, "", "")
    match = _EC2_NAME.match(name)
    if not match:
        return None
    return _Ec2Name(match["series"], int(match["gen"]), match["suffix"], match["dash"] or "")


def ec2_vendor(t: Ec2Type) -> str:
    if "arm64" in t.architectures:
        return "Arm64"
    return "AMD" if t.manufacturer == "AMD" else "Intel"


def _source_vendor(size: VmSize) -> str:
    if size.architecture.lower().startswith("arm"):
        return "Arm64"
    parsed = parse_azure_size(size.name)
    if parsed and parsed.vendor:
        return parsed.vendor
    facts = sizenames.family_facts(parsed) if parsed else None
    return (facts or {}).get("vendor", "Intel")


def _vendor_penalty(want: str, got: str) -> int:
    if want == got:
        return 0
    return 2 if "Arm64" in (want, got) else 1  # an architecture change costs more than a vendor


@dataclass(frozen=True)
class _Want:
    size: VmSize
    vendor: str
    sizing_class: str
    max_generation: int
    local_disk: bool

    @property
    def mem_gib(self) -> float:
        return self.size.memory_gb


def _class_of(size: VmSize) -> str:
    traits = sizenames.flags(size.name)
    if size.gpus > 0:
        return "gpu"
    if traits["hpc"]:
        return "hpc"
    if traits["localNvme"]:
        return "storage"
    if traits["burstable"]:
        return "burstable"
    return "general"


def _want(size: VmSize) -> _Want:
    table = catalog.mapping()
    parsed = parse_azure_size(size.name)
    cap = table["maxGeneration"]
    if parsed is not None:
        for version, gen in table.get("maxGenerationFromAzureVersion", {}).items():
            if parsed.version >= int(version):
                cap = max(cap, gen)
    return _Want(
        size=size,
        vendor=_source_vendor(size),
        sizing_class=_class_of(size),
        max_generation=cap,
        local_disk=bool(parsed and "d" in parsed.features),
    )


def _in_series(t: Ec2Type, series: list[str]) -> bool:
    parts = ec2_name(t.name)
    return parts is not None and parts.series in series


@cache
def _pool(sizing_class: str) -> list[Ec2Type]:
    """Current-generation, virtualised types of one class (GPU: any type with a GPU)."""
    series = catalog.mapping()["series"]
    out = []
    for t in catalog.ec2_types():
        if not t.current_generation or t.bare_metal or ec2_name(t.name) is None:
            continue
        if sizing_class == "gpu":
            if t.gpus > 0:
                out.append(t)
        elif not t.gpus and _in_series(t, series[sizing_class]):
            out.append(t)
    return out


def _variant_penalty(t: Ec2Type, want: _Want) -> int:
    parts = ec2_name(t.name)
    assert parts is not None
    extra = set(catalog.mapping()["extraSuffixLetters"])
    if want.local_disk:
        extra.discard("d")  # Azure's local temporary disk: an EC2 instance-store variant is fine
    return 1 if (set(parts.suffix) & extra) or parts.dash else 0


def _generation_key(t: Ec2Type, want: _Want) -> tuple[int, int]:
    gen = ec2_name(t.name).generation  # type: ignore[union-attr]
    return (1 if gen > want.max_generation else 0, -gen)


def _mem_step(t: Ec2Type) -> int:
    """Memory per vCPU as a power-of-two step: c 2 GiB -> 1, m 4 -> 2, r 8 -> 3, x 16/32 -> 4/5."""
    return round(math.log2(max(t.memory_gib / t.vcpus, 0.25)))


# Each criterion: (name used in "lost on ...", key function). Order is precedence.
_Criterion = tuple[str, Callable[[Ec2Type, _Want], Any]]
_GENERAL: list[_Criterion] = [
    # An architecture change means a rebuild of the application: only when nothing else fits.
    ("architecture", lambda t, w: int(_vendor_penalty(w.vendor, ec2_vendor(t)) == 2)),
    ("the vCPU count", lambda t, w: (0, 0) if t.vcpus == w.size.vcpus else (1, t.vcpus)),
    ("memory per vCPU (a bigger memory class than needed)", lambda t, w: _mem_step(t)),
    ("vendor/architecture", lambda t, w: _vendor_penalty(w.vendor, ec2_vendor(t))),
    ("variant (a special-purpose variant)", _variant_penalty),
    ("generation", _generation_key),
    ("memory", lambda t, w: t.memory_mib),
]
_GPU: list[_Criterion] = [
    ("the GPU model", lambda t, w: 0 if _gpu_model_match(t, w) else 1),
    ("the GPU count", lambda t, w: round(t.gpus - w.size.gpus, 3)),
    ("memory (less than the source)", lambda t, w: 0 if _fits_memory(t, w) else 1),
    ("the vCPU count", lambda t, w: t.vcpus),
    ("generation", _generation_key),
    ("vendor/architecture", lambda t, w: _vendor_penalty(w.vendor, ec2_vendor(t))),
    ("memory", lambda t, w: t.memory_mib),
]


def _gpu_model_match(t: Ec2Type, want: _Want) -> bool:
    # The table names EC2 families by their full prefix (g4dn, p4d, p5e): compare that.
    return t.name.split(".")[0] in catalog.mapping()["gpuModels"].get(want.size.gpu_model, [])


def _fits_memory(t: Ec2Type, want: _Want) -> bool:
    return t.memory_gib >= want.mem_gib * _MEMORY_SLACK


def _fits(t: Ec2Type, want: _Want) -> bool:
    if t.vcpus < want.size.vcpus:
        return False
    if want.sizing_class == "gpu":
        return t.gpus >= want.size.gpus * 0.99
    return _fits_memory(t, want)


def _rank(candidates: list[Ec2Type], want: _Want) -> tuple[list[Ec2Type], list[_Criterion]]:
    criteria = _GPU if want.sizing_class == "gpu" else _GENERAL
    ranked = sorted(candidates, key=lambda t: (*(key(t, want) for _, key in criteria), t.name))
    return ranked, criteria


def _runner_up(
    ranked: list[Ec2Type], criteria: list[_Criterion], want: _Want
) -> tuple[Ec2Type | None, str]:
    """The best type of another series or vendor, and the first criterion it lost on."""
    best = ranked[0]
    best_key = (ec2_name(best.name).series, ec2_vendor(best))  # type: ignore[union-attr]
    for t in ranked[1:]:
        if (ec2_name(t.name).series, ec2_vendor(t)) == best_key:  # type: ignore[union-attr]
            continue
        for name, key in criteria:
            if key(t, want) != key(best, want):
                return t, name
        return t, "name order"
    return None, ""


def _describe(t: Ec2Type) -> str:
    gpu = f", {t.gpus:g} x {t.gpu_model}" if t.gpus else ""
    return f"{t.name} ({t.vcpus} vCPU, {t.memory_gib:g} GiB, {ec2_vendor(t)}{gpu})"


def choose_instance_type(size: VmSize) -> SizingChoice:
    """The EC2 type that fits ``size`` best, with the rationale, alternatives and warnings.

    Raises LookupError when no current-generation type can hold the size.
    """
    want = _want(size)
    warnings: list[str] = []
    sizing_class = want.sizing_class
    fitting = [t for t in _pool(sizing_class) if _fits(t, want)]
    if not fitting and sizing_class in ("burstable", "hpc", "storage"):
        warnings.append(
            f"no {sizing_class} EC2 type holds {size.name} ({size.vcpus} vCPU, "
            f"{size.memory_gb:g} GiB): general-purpose types considered instead"
        )
        sizing_class = "general"
        fitting = [t for t in _pool("general") if _fits(t, want)]
    if not fitting:
        raise LookupError(
            f"no current-generation {sizing_class} EC2 type has >= {size.vcpus} vCPUs and >= "
            f"{size.memory_gb:g} GiB" + (f" and >= {size.gpus:g} GPUs" if size.gpus else "")
        )
    ranked, criteria = _rank(fitting, want)
    best = ranked[0]
    runner, lost_on = _runner_up(ranked, criteria, want)
    warnings += _warnings(size, want, best, sizing_class)
    parts = ec2_name(best.name)
    purpose = sizenames.purpose(size.name) or "unknown family"
    origin = {"name": f", {DERIVED_NOTE}", "subscription": ", figures from the subscription"}.get(
        size.origin, ""
    )
    why = _why(size, want, best, sizing_class)
    rationale = (
        f"{size.name} ({size.vcpus} vCPU, {size.memory_gb:g} GiB, {want.vendor}"
        + (f", {size.gpus:g} x {size.gpu_model or 'GPU'}" if size.gpus else "")
        + f", {purpose}{origin}) -> {_describe(best)}: {why}, generation {parts.generation}"  # type: ignore[union-attr]
        + (
            f"; runner-up {_describe(runner)} lost on {lost_on}"
            if runner is not None
            else "; no other series fits"
        )
    )
    return SizingChoice(
        instance_type=best.name,
        alternatives=_alternatives(best, ranked),
        rationale=rationale,
        warnings=warnings,
        sizing_class=sizing_class,
        runner_up=runner.name if runner is not None else None,
        runner_up_reason=lost_on,
        size_origin=size.origin,
    )


def _why(size: VmSize, want: _Want, best: Ec2Type, sizing_class: str) -> str:
    same = "same vCPUs" if best.vcpus == size.vcpus else "nearest larger vCPU count"
    vendor = f"{want.vendor} kept" if ec2_vendor(best) == want.vendor else "vendor changed"
    if sizing_class == "gpu":
        model = "GPU model kept" if _gpu_model_match(best, want) else "no type with that GPU model"
        return f"GPU first ({model}), {same}, {vendor}"
    ratio = size.memory_gb / max(size.vcpus, 1)
    fit = f"fit by memory per vCPU ({ratio:.1f} GiB/vCPU -> {best.memory_gib / best.vcpus:g})"
    kind = {
        "burstable": "burstable source -> burstable type",
        "hpc": "HPC source -> HPC type",
        "storage": "local NVMe source -> storage-optimised type",
        "general": "not burstable -> no t type",
    }[sizing_class]
    return f"{kind}, {fit}, {same}, {vendor}"


def _warnings(size: VmSize, want: _Want, best: Ec2Type, sizing_class: str) -> list[str]:
    out = []
    if size.origin == "name":
        out.append(
            f"{size.name}: vCPUs and memory {DERIVED_NOTE} (not in the subscription's SKU list "
            "or the catalog): check them"
        )
    if sizenames.flags(size.name)["confidential"]:
        out.append(
            f"{size.name}: confidential-computing size (SGX/SEV): AWS offers Nitro Enclaves / "
            "AMD SEV-SNP instead; review the security design"
        )
    if sizing_class == "gpu":
        if best.gpus > size.gpus + 0.01:
            out.append(
                f"{best.name} has {best.gpus:g} GPUs for the {size.gpus:g} of {size.name}: the "
                "smallest type with that GPU model; consider another model if cost matters"
            )
        if not _gpu_model_match(best, want) or not _fits_memory(best, want):
            out.append(
                f"GPU size {size.name} ({size.gpus:g} x {size.gpu_model or 'GPU'}, "
                f"{size.vcpus} vCPU, {size.memory_gb:g} GiB) has no close EC2 match; "
                f"{_describe(best)} is the nearest: benchmark before moving"
            )
    elif best.vcpus != size.vcpus:
        burstable = "" if want.sizing_class == "burstable" else " non-burstable"
        out.append(
            f"no{burstable} EC2 type has exactly {size.vcpus} vCPUs with >= "
            f"{size.memory_gb:g} GiB; {best.name} has {best.vcpus} vCPUs"
            + (
                " (burstable t types are not used for a size that is not burstable)"
                if want.sizing_class != "burstable"
                else ""
            )
        )
    if (want.vendor == "Arm64") != (ec2_vendor(best) == "Arm64"):
        out.append(
            f"{size.name} runs on {want.vendor}, {best.name} on {ec2_vendor(best)}: the AMI and "
            "the application build must change architecture"
        )
    return out


def _alternatives(best: Ec2Type, ranked: list[Ec2Type]) -> list[str]:
    """Up to three: other vendors and other generations at the same size, best first."""
    out: list[str] = []
    seen = {(ec2_vendor(best), ec2_name(best.name).generation)}  # type: ignore[union-attr]
    for t in ranked[1:]:
        if t.vcpus != best.vcpus:
            continue
        key = (ec2_vendor(t), ec2_name(t.name).generation)  # type: ignore[union-attr]
        if key in seen:
            continue
        seen.add(key)
        out.append(t.name)
        if len(out) == 3:
            break
    return out
