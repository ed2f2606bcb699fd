"""The EC2 instance types (vCPUs, memory, architectures, GPUs), as `ec2 describe-instance-types`
lists them: data in ``awsfacts/data/ec2_instance_types.json``, rewritten by
`python -m migrate catalog refresh-ec2`. Read by the sizing (migrate) and the stack rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cutover.exitcodes import ENVIRONMENT

EC2_TYPES_FILE = Path(__file__).parent / "data" / "ec2_instance_types.json"


class CatalogError(Exception):
    """The embedded catalog cannot be read: the installation is broken."""

    exit_code = ENVIRONMENT


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


def _load() -> Any:
    try:
        return json.loads(EC2_TYPES_FILE.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{EC2_TYPES_FILE}: cannot read the embedded catalog ({exc})") from exc


@cache
def ec2_types() -> tuple[Ec2Type, ...]:
    """Every EC2 instance type of the embedded catalog (the stack rules validate against it)."""
    rows = _load()["instanceTypes"]
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
