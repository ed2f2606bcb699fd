"""Azure disks reach the stack (issue 22): OS and data disk sizes in inventory.json, the plan,
stack-config's keys and the launch template; a finding where EBS has no like-for-like type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from migrate import findings
from migrate.disks import ebs_volume
from migrate.model import Disk, Inventory
from migrate.plan import build_plan
from migrate.stackconfig import render, write_stack_config
from tests.migrate.conftest import SAMPLE


def _by_name(inventory: Inventory) -> dict:
    return {r.name: r for r in [*inventory.vms, *inventory.scale_sets]}


def test_os_and_data_disks_reach_the_inventory(sample_inventory: Inventory) -> None:
    found = _by_name(sample_inventory)
    assert found["vm-report-01"].os_disk.size_gb == 127  # az CLI shape (diskSizeGb)
    assert found["vm-shop-1"].os_disk.size_gb == 64  # ARM shape (diskSizeGB)
    web = found["vmss-web"]
    assert web.data_disks == [Disk(64, "Premium_LRS", "ReadOnly", 0)]
    body = sample_inventory.to_json()
    vmss = next(s for s in body["scaleSets"] if s["name"] == "vmss-web")
    assert vmss["osDisk"]["sizeGb"] == 30 and vmss["dataDisks"][0]["sizeGb"] == 64
    assert Inventory.from_json(json.loads(json.dumps(body))).scale_sets[0].os_disk is not None


def test_the_plan_sizes_the_root_volume_and_the_data_volumes(sample_inventory: Inventory) -> None:
    plan = {w["name"]: w for w in build_plan(sample_inventory)["workloads"]}
    assert plan["reporting"]["aws"]["rootVolumeSizeGb"] == 127
    assert plan["shop"]["aws"]["rootVolumeSizeGb"] == 64
    web = plan["web"]
    assert web["aws"]["rootVolumeSizeGb"] == 30
    assert web["aws"]["dataVolumes"] == [{"lun": 0, "sizeGb": 64, "volumeType": "gp3"}]
    assert web["azure"]["dataDisks"][0]["caching"] == "ReadOnly"


@pytest.mark.parametrize(
    ("disk", "volume"),
    [
        (Disk(1024, "UltraSSD_LRS", "None", 0, 20000, 500), ("io2", 20000, None)),
        (Disk(256, "PremiumV2_LRS", "None", 1, 8000, 300), ("gp3", 8000, 300)),
        (Disk(256, "PremiumV2_LRS", "None", 1, 40000, 600), ("io2", 40000, None)),
        (Disk(128, "Premium_ZRS", "ReadOnly", 2), ("gp3", None, None)),
    ],
)
def test_no_like_for_like_type_is_mapped_with_its_performance_and_a_finding(
    disk: Disk, volume: tuple
) -> None:
    planned, why = ebs_volume(disk)
    assert (planned["volumeType"], planned.get("iops"), planned.get("throughput")) == volume
    assert why


def test_an_ultra_disk_is_an_action_in_the_report(sample_inventory: Inventory) -> None:
    web = next(s for s in sample_inventory.scale_sets if s.name == "vmss-web")
    web.data_disks.append(Disk(512, "UltraSSD_LRS", "None", 1, 20000, 400))
    workload = next(w for w in build_plan(sample_inventory)["workloads"] if w["name"] == "web")
    warning = next(w for w in workload["warnings"] if "UltraSSD_LRS" in w)
    assert findings.classify(warning, "warnings") == ("disk-not-like-for-like", findings.ACTION)
    assert workload["aws"]["dataVolumes"][1] == {
        "lun": 1,
        "sizeGb": 512,
        "volumeType": "io2",
        "iops": 20000,
    }


def test_stack_config_writes_the_volumes_and_infra_accepts_them(
    sample_inventory: Inventory, tmp_path: Path
) -> None:
    plan = build_plan(sample_inventory)
    target = tmp_path / "Pulumi.production.yaml"
    merged = write_stack_config(plan, "web", "production", target)  # validated by infra
    fleet = yaml.safe_load(target.read_text())["config"]["cutover:fleet"]
    assert fleet["rootVolumeSizeGb"] == 30
    assert fleet["dataVolumes"] == [{"sizeGb": 64, "type": "gp3"}]
    assert "Azure data disks: LUN 0 64 GiB Premium_LRS caching ReadOnly" in target.read_text()
    assert any("host caching" in n for n in merged.notes)
    text, _ = render(plan, "reporting", "staging", None)
    assert yaml.safe_load(text)["config"]["cutover:fleet"]["rootVolumeSizeGb"] == 127


def test_the_sample_export_has_the_disks_the_readme_names() -> None:
    text = (SAMPLE / "contoso-prod" / "az-vm-list.json").read_text()
    assert '"diskSizeGb": 127' in text
