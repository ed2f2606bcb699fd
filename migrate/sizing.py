"""Azure VM size -> EC2 instance type: a pure function of the two catalogs and the mapping table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migrate import catalog
from migrate.catalog import Ec2Type
from migrate.model import VmSize

# Standard_<family letters><vCPUs>[-<constrained>]<feature letters>[_<accelerator>][_v<version>]
_AZURE_NAME = re.compile(
    r"^(?:Standard|Basic)_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?:-\d+)?(?P<features>[a-z]*)"
    r"(?:_(?P<accel>[A-Z][A-Za-z0-9]*))?(?:_v(?P<version>\d+))?$"
)
# <series letters><generation><suffix>.<size>, e.g. m7i.large, c7i-flex.xlarge, u-6tb1.112xlarge
_EC2_NAME = re.compile(r"^(?P<series>[a-z]+)-?(?P<gen>\d+)(?P<suffix>[a-z0-9\-]*)\.(?P<size>\w+)$")


@dataclass(frozen=True, slots=True)
class AzureSizeName:
    family: str
    features: str
    accelerator: str
    version: int


@dataclass(slots=True)
class SizingChoice:
    instance_type: str
    alternatives: list[str]
    rationale: str
    warnings: list[str] = field(default_factory=list)


def parse_azure_size(name: str) -> AzureSizeName | None:
    match = _AZURE_NAME.match(name)
    if not match:
        return None
    return AzureSizeName(
        family=match["family"],
        features=match["features"],
        accelerator=match["accel"] or "",
        version=int(match["version"] or 1),
    )


def _family_rule(parsed: AzureSizeName | None) -> dict:
    families = catalog.mapping()["families"]
    if parsed is not None:
        for rule in families:  # ordered: longer prefixes first in the table
            if parsed.family.startswith(rule["azure"]):
                return rule
    return {"azure": "?", "purpose": "unknown family", "aws": ["m"]}


def _vendor(size: VmSize, parsed: AzureSizeName | None) -> str:
    if size.architecture.lower().startswith("arm") or (parsed and "p" in parsed.features):
        return "Arm64"
    if parsed and "a" in parsed.features:
        return "AMD"
    return "Intel"


def _ec2_parts(name: str) -> tuple[str, int, str] | None:
    match = _EC2_NAME.match(name)
    if not match:
        return None
    return match["series"], int(match["gen"]), match["suffix"]


def _ec2_vendor(t: Ec2Type) -> str:
    if "arm64" in t.architectures:
        return "Arm64"
    return "AMD" if t.manufacturer == "AMD" else "Intel"


def _candidates(series: list[str], gpu: bool, strict: bool) -> list[Ec2Type]:
    table = catalog.mapping()
    extra = set(table["extraSuffixLetters"])
    max_gen = table["maxGeneration"]
    out = []
    for t in catalog.ec2_types():
        parts = _ec2_parts(t.name)
        if parts is None or not t.current_generation or t.bare_metal:
            continue
        s, gen, suffix = parts
        if gpu:
            # Any generation or variant: GPU families are named by model (g4dn, g5, p4d).
            if not t.gpus or s not in series:
                continue
        else:
            if t.gpus or s not in series:
                continue
            # Strict: widely available generations, plain variants (no local NVMe, network,
            # high-frequency, flex ... variants). The fallback takes any variant.
            if strict and (gen > max_gen or "-" in suffix or (set(suffix) & extra)):
                continue
        out.append(t)
    return out


def _score(t: Ec2Type, want_vendor: str, vcpus: int, mem_mib: float, gpu_series: list[str]):
    parts = _ec2_parts(t.name) or ("", 0, "")
    if gpu_series is not None:
        model_rank = 0 if any(t.name.startswith(p + ".") for p in gpu_series) else 1
        return (0 if t.vcpus == vcpus else 1, t.gpus, t.vcpus, t.memory_mib, model_rank, t.name)
    return (
        0 if t.vcpus == vcpus else 1,
        0 if _ec2_vendor(t) == want_vendor else 1,
        t.vcpus,
        t.memory_mib - mem_mib,
        -parts[1],
        t.name,
    )


def choose_instance_type(size: VmSize) -> SizingChoice:
    """Pick the EC2 type for an Azure size: family by purpose, same vendor, same vCPUs, memory >=.

    Falls back to the smallest bigger type (with a warning) when nothing matches exactly.
    """
    parsed = parse_azure_size(size.name)
    rule = _family_rule(parsed)
    vendor = _vendor(size, parsed)
    mem_mib = size.memory_gb * 1024
    warnings: list[str] = []
    if "warning" in rule:
        warnings.append(f"{size.name}: {rule['warning']}")
    series = list(rule["aws"])
    if parsed and "lowMemory" in rule and "l" in parsed.features:
        series = list(rule["lowMemory"])
    gpu = size.gpus > 0
    gpu_series = catalog.mapping()["gpuModels"].get(size.gpu_model, []) if gpu else None

    fitting: list[Ec2Type] = []
    # The purpose's series first; then the general-purpose fallback (e.g. B12ms is bigger than
    # any t type); strict (plain, widely available) variants before any variant.
    attempts = [(series, True), (series, False)]
    fallback = [f for f in rule.get("fallback", ["m", "r"]) if f not in series]
    attempts += [(fallback, True), (fallback, False)]
    for tried, strict in attempts:
        fitting = [
            t
            for t in _candidates(tried, gpu, strict)
            # 2% slack: Azure rounds some sizes up (E4as_v5 "32 GiB" vs r7a.xlarge 32768 MiB).
            if t.memory_mib >= mem_mib * 0.98
            and t.vcpus >= size.vcpus
            and (not gpu or t.gpus >= max(1, round(size.gpus)))
        ]
        if fitting:
            if tried is not series:
                warnings.append(
                    f"no {'/'.join(series)} type is big enough for {size.name}: "
                    f"{'/'.join(tried)} used"
                )
                series = tried
            break
    if not fitting:
        raise LookupError(
            f"no current-generation EC2 type in series {'/'.join(series)} has >= {size.vcpus} "
            f"vCPUs and >= {size.memory_gb:g} GiB"
        )
    fitting.sort(key=lambda t: _score(t, vendor, size.vcpus, mem_mib, gpu_series))
    best = fitting[0]
    exact = best.vcpus == size.vcpus
    if gpu:
        close = exact and any(best.name.startswith(p + ".") for p in gpu_series or [])
        if not close:
            warnings.append(
                f"GPU size {size.name} ({size.gpus:g} x {size.gpu_model or 'GPU'}, "
                f"{size.vcpus} vCPU, "
                f"{size.memory_gb:g} GiB) has no close EC2 match; {best.name} ({best.gpus} x "
                f"{best.gpu_model}, {best.vcpus} vCPU) is the nearest: benchmark before moving"
            )
    elif not exact:
        warnings.append(
            f"no {'/'.join(series)} type has exactly {size.vcpus} vCPUs with >= "
            f"{size.memory_gb:g} GiB; {best.name} has {best.vcpus} vCPUs"
        )
    if (vendor == "Arm64") != (_ec2_vendor(best) == "Arm64"):
        warnings.append(
            f"{size.name} runs on {vendor}, {best.name} on {_ec2_vendor(best)}: the AMI and the "
            "application build must change architecture"
        )
    alternatives = _alternatives(best, fitting, vendor, size.vcpus)
    rationale = (
        f"{size.name} ({size.vcpus} vCPU, {size.memory_gb:g} GiB, {vendor}, {rule['purpose']}) -> "
        f"{best.name} ({best.vcpus} vCPU, {best.memory_mib / 1024:g} GiB, {_ec2_vendor(best)}): "
        f"family {rule['azure']}->{'/'.join(series)} by purpose"
        + (", same vCPUs" if exact else ", nearest larger vCPU count")
        + ", memory >= source, current generation"
        + (f", {vendor} kept" if _ec2_vendor(best) == vendor else "")
    )
    return SizingChoice(best.name, alternatives, rationale, warnings)


def _alternatives(best: Ec2Type, fitting: list[Ec2Type], vendor: str, vcpus: int) -> list[str]:
    """Up to three: the other vendors and another generation at the same size, best first."""
    out: list[str] = []
    seen_keys = {(_ec2_vendor(best), (_ec2_parts(best.name) or ("", 0, ""))[1])}
    for t in fitting[1:]:
        if t.vcpus != best.vcpus:
            continue
        key = (_ec2_vendor(t), (_ec2_parts(t.name) or ("", 0, ""))[1])
        if key in seen_keys:
            continue
        seen_keys.add(key)
        out.append(t.name)
        if len(out) == 3:
            break
    return out
