"""Embedded data: Azure VM sizes, EC2 instance types and mapping tables (JSON files here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cutover.exitcodes import ENVIRONMENT
from cutover.files import write_text
from migrate.errors import MigrateError
from migrate.model import VmSize

CATALOG_DIR = Path(__file__).parent
AZURE_SIZES_FILE = CATALOG_DIR / "azure_vm_sizes.json"
EC2_TYPES_FILE = CATALOG_DIR / "ec2_instance_types.json"
MAPPING_FILE = CATALOG_DIR / "mapping.json"
AZURE_FAMILIES_FILE = CATALOG_DIR / "azure_size_families.json"


@dataclass(frozen=True, slots=True)
class Ec2Type:
    name: str
    vcpus: int
    memory_mib: int
    architectures: tuple[str, ...]
    manufacturer: str  # Intel | AMD | AWS | Apple | ...
    current_generation: bool
    bare_metal: bool
    burstable: bool
    gpus: float = 0  # fractional GPU types (g6f.large: 1/8 of an L4) record the fraction
    gpu_model: str = ""

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024


def load_data(path: Path) -> Any:
    """One embedded JSON data file (a MigrateError naming the file if it cannot be read)."""
    return _load(path)


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MigrateError(f"{path}: cannot read the embedded catalog ({exc})") from exc


@cache
def azure_sizes() -> dict[str, VmSize]:
    """Embedded Azure sizes by lower-case name."""
    out = {}
    for row in _load(AZURE_SIZES_FILE)["sizes"]:
        size = VmSize(
            name=row["name"],
            vcpus=int(row["vCPUs"]),
            memory_gb=float(row["memoryGB"]),
            architecture=row.get("architecture", "x64"),
            gpus=row.get("gpus", 0),
            gpu_model=row.get("gpuModel", ""),
            family=row.get("family", ""),
        )
        out[size.name.lower()] = size
    return out


@cache
def ec2_types() -> tuple[Ec2Type, ...]:
    """Every EC2 instance type of the embedded catalog (the loader infra validates against)."""
    rows = _load(EC2_TYPES_FILE)["instanceTypes"]
    return tuple(
        Ec2Type(
            name=r["instanceType"],
            vcpus=r["vcpus"],
            memory_mib=r["memoryMib"],
            architectures=tuple(r["architectures"]),
            manufacturer=r["manufacturer"],
            current_generation=r["currentGeneration"],
            bare_metal=r["bareMetal"],
            burstable=r["burstable"],
            gpus=r.get("gpus", 0),
            gpu_model=r.get("gpuModel", ""),
        )
        for r in rows
    )


@cache
def ec2_type_index() -> dict[str, Ec2Type]:
    """EC2 instance types by name (``ec2_type_index()["m7i.large"]``)."""
    return {t.name: t for t in ec2_types()}


def ec2_type(name: str) -> Ec2Type | None:
    """One EC2 instance type by name, None when the catalog does not know it."""
    return ec2_type_index().get(name)


@cache
def mapping() -> dict[str, Any]:
    return _load(MAPPING_FILE)


def ec2_row(item: dict[str, Any]) -> dict[str, Any]:
    """One `describe-instance-types` item -> one compact catalog row."""
    gpus = (item.get("GpuInfo") or {}).get("Gpus") or []
    count: float = sum(g.get("Count", 0) for g in gpus)
    if gpus:
        # A fractional-GPU type (g6f) reports one GPU with a share of its memory: record the
        # share, so sizing does not count it as a whole GPU.
        full = mapping().get("gpuMemoryMib", {}).get(gpus[0].get("Name", ""))
        have = sum((g.get("MemoryInfo") or {}).get("SizeInMiB", 0) for g in gpus)
        if full and have and count and have < full * count:
            count = round(have / full, 3)
    return {
        "instanceType": item["InstanceType"],
        "vcpus": item["VCpuInfo"]["DefaultVCpus"],
        "memoryMib": item["MemoryInfo"]["SizeInMiB"],
        "architectures": item["ProcessorInfo"]["SupportedArchitectures"],
        "manufacturer": item["ProcessorInfo"].get("Manufacturer", ""),
        "currentGeneration": bool(item.get("CurrentGeneration")),
        "bareMetal": bool(item.get("BareMetal")),
        "burstable": bool(item.get("BurstablePerformanceSupported")),
        "gpus": count,
        "gpuModel": gpus[0].get("Name", "") if gpus else "",
    }


def refresh_ec2(region: str, path: Path = EC2_TYPES_FILE) -> int:
    """Rewrite the EC2 catalog from `ec2 describe-instance-types` (boto3's default session).

    Honours AWS_ENDPOINT_URL (e.g. a moto server). Returns the number of instance types written.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("ec2", region_name=region)
    rows = []
    try:
        for page in client.get_paginator("describe_instance_types").paginate():
            rows.extend(ec2_row(item) for item in page["InstanceTypes"])
    except (BotoCoreError, ClientError) as exc:
        raise MigrateError(
            f"ec2 describe-instance-types in {region} failed: {exc}", ENVIRONMENT
        ) from exc
    if not rows:
        raise MigrateError(f"ec2 describe-instance-types in {region} returned no instance type")
    rows.sort(key=lambda r: r["instanceType"])
    body = {"source": f"ec2 describe-instance-types ({region})", "instanceTypes": rows}
    write_text(path, json.dumps(body, separators=(",", ":")).replace("},{", "},\n{") + "\n")
    ec2_types.cache_clear()
    return len(rows)
