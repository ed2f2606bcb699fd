"""Azure managed disks -> the launch template's EBS volumes: a pure function of the model.

The root volume is as large as the largest OS disk of the workload's members (at least EBS's
8 GiB for Amazon Linux); each data disk of the member with the most becomes a data volume of
the same size, its type from ``catalog/disks.json``. Where EBS has no like-for-like volume type
(Ultra Disk, Premium SSD v2, zone-redundant storage) the plan says so in a warning (the finding
kind ``disk-not-like-for-like``); host caching has no EBS equivalent and is carried for the
record.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from awsfacts.limits import EBS_VOLUME_TYPES
from migrate.catalog import load_data
from migrate.model import Disk, ScaleSet, VirtualMachine

DISKS_FILE = Path(__file__).parent / "catalog" / "disks.json"
MIN_ROOT_GB = 8  # the smallest root volume infra accepts (Amazon Linux 2023's image)
NOT_LIKE_FOR_LIKE = "has no like-for-like volume type"  # the finding's pattern (findings.json)


@cache
def _types() -> dict[str, Any]:
    return load_data(DISKS_FILE)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def ebs_volume(disk: Disk) -> tuple[dict[str, Any], str]:
    """The data volume for ``disk`` and, when EBS has no like-for-like type, why (else "")."""
    table = _types()
    mapped = table["types"].get(disk.storage_type.lower(), table["unknown"])
    volume_type = mapped["volumeType"]
    size = max(1, disk.size_gb)
    gp3 = EBS_VOLUME_TYPES["gp3"]
    if volume_type == "gp3" and disk.iops > gp3.iops[1]:  # type: ignore[index]
        volume_type = "io2"  # more than gp3 provisions
    limits = EBS_VOLUME_TYPES[volume_type]
    size = _clamp(size, *limits.size_gb)
    volume: dict[str, Any] = {"lun": disk.lun, "sizeGb": size, "volumeType": volume_type}
    if disk.iops and limits.iops is not None:
        volume["iops"] = _clamp(
            disk.iops, limits.iops[0], min(limits.iops[1], limits.iops_per_gb * size)
        )
    if volume_type == "io2" and "iops" not in volume:
        volume["iops"] = _clamp(3000, limits.iops[0], limits.iops_per_gb * size)  # type: ignore[index]
    if disk.mbps and limits.throughput is not None:
        volume["throughput"] = _clamp(disk.mbps, *limits.throughput)
    why = "" if mapped["likeForLike"] else mapped["why"]
    return volume, why


def plan_disks(
    members: Sequence[VirtualMachine | ScaleSet], warnings: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(azure, aws) fields of a workload's disks: ``osDiskGb``/``dataDisks`` as Azure has them,
    ``rootVolumeSizeGb``/``dataVolumes`` as planned. Empty when Azure said nothing."""
    azure: dict[str, Any] = {}
    aws: dict[str, Any] = {}
    os_sizes = [m.os_disk.size_gb for m in members if m.os_disk and m.os_disk.size_gb]
    if os_sizes:
        azure["osDiskGb"] = max(os_sizes)
        aws["rootVolumeSizeGb"] = max(MIN_ROOT_GB, max(os_sizes))
    layouts = {tuple((d.lun, d.size_gb, d.storage_type) for d in m.data_disks) for m in members}
    richest = max(members, key=lambda m: sum(d.size_gb for d in m.data_disks), default=None)
    if richest is None or not richest.data_disks:
        return azure, aws
    if len(layouts) > 1:
        warnings.append(
            f"members have different data disks: planned from {richest.name}'s "
            f"({len(richest.data_disks)}); check the others"
        )
    azure["dataDisks"] = [
        {
            "lun": d.lun,
            "sizeGb": d.size_gb,
            "storageType": d.storage_type,
            "caching": d.caching,
            **({"iops": d.iops} if d.iops else {}),
            **({"mbps": d.mbps} if d.mbps else {}),
        }
        for d in sorted(richest.data_disks, key=lambda d: d.lun)
    ]
    volumes = []
    for disk in sorted(richest.data_disks, key=lambda d: d.lun):
        volume, why = ebs_volume(disk)
        volumes.append(volume)
        if why:
            performance = f", {disk.iops} IOPS" if disk.iops else ""
            performance += f", {disk.mbps} MB/s" if disk.mbps else ""
            warnings.append(
                f"data disk LUN {disk.lun} ({disk.storage_type}, {disk.size_gb} GiB"
                f"{performance}): EBS {NOT_LIKE_FOR_LIKE}; planned as {volume['volumeType']}"
                + (f" with {volume['iops']} IOPS" if "iops" in volume else "")
                + f" ({why}): benchmark before moving"
            )
    aws["dataVolumes"] = volumes
    return azure, aws
