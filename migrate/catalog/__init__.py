"""Embedded data: Azure VM sizes and the Azure-to-AWS mapping tables (JSON files here). The EC2
instance types are an AWS fact (awsfacts/ec2.py); `migrate catalog refresh-ec2` rewrites them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from awsfacts.ec2 import EC2_TYPES_FILE, Ec2Type, ec2_type, ec2_type_index, ec2_types
from cutover.exitcodes import ENVIRONMENT
from cutover.files import write_text
from migrate.errors import MigrateError
from migrate.model import VmSize

__all__ = ["EC2_TYPES_FILE", "Ec2Type", "ec2_type", "ec2_type_index", "ec2_types"]

CATALOG_DIR = Path(__file__).parent
AZURE_SIZES_FILE = CATALOG_DIR / "azure_vm_sizes.json"
MAPPING_FILE = CATALOG_DIR / "mapping.json"
AZURE_FAMILIES_FILE = CATALOG_DIR / "azure_size_families.json"


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
