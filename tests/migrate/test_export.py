"""Export parsing: az-CLI (flattened) and ARM (``properties``) shapes, files, bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from migrate.errors import MigrateError
from migrate.model import Inventory
from migrate.sources.arm import duration_seconds, frontend_internal
from migrate.sources.export import load_export
from tests.migrate.conftest import SAMPLE


def _flatten(resource: Any) -> Any:
    """ARM REST body -> the flattened shape `az ... list` prints."""
    if isinstance(resource, list):
        return [_flatten(r) for r in resource]
    if not isinstance(resource, dict):
        return resource
    out = {k: _flatten(v) for k, v in resource.items() if k != "properties"}
    out.update({k: _flatten(v) for k, v in (resource.get("properties") or {}).items()})
    return out


def _write(tmp_path: Path, name: str, body: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def _legacy(name: str) -> Any:
    return json.loads((SAMPLE / "contoso-legacy" / name).read_text())


def _without_source(inventory: Inventory) -> dict:
    body = inventory.to_json()
    for key in ("vms", "scaleSets", "autoscale", "loadBalancers"):
        for item in body[key]:
            item.pop("source")
    return body


def test_az_cli_and_arm_shapes_parse_to_the_same_model(tmp_path: Path) -> None:
    arm_dir, az_dir = tmp_path / "arm", tmp_path / "az"
    arm_dir.mkdir(), az_dir.mkdir()
    for name in ("arm-virtualMachines.json", "arm-loadBalancers.json"):
        body = _legacy(name)
        _write(arm_dir, name, body)
        _write(az_dir, name, _flatten(body["value"]))  # az prints a bare list
    agw = _legacy("arm-applicationGateway-agw-shop.json")
    _write(arm_dir, "agw.json", agw)
    _write(az_dir, "agw.json", [_flatten(agw)])

    from_arm, from_az = load_export(arm_dir), load_export(az_dir)

    assert len(from_arm.vms) == 6 and len(from_arm.load_balancers) == 3
    assert _without_source(from_arm) == _without_source(from_az)


def test_sample_estate_reads_every_resource(sample_inventory: Inventory) -> None:
    assert len(sample_inventory.vms) == 7
    assert len(sample_inventory.scale_sets) == 2
    assert len(sample_inventory.autoscale) == 3
    kinds = sorted(lb.kind for lb in sample_inventory.load_balancers)
    assert kinds == ["applicationGateway", "loadBalancer", "loadBalancer", "loadBalancer"]
    web = next(s for s in sample_inventory.scale_sets if s.name == "vmss-web")
    assert web.capacity == 3 and web.zones == ["1", "2", "3"]
    assert web.lb_pool_ids[0].endswith("backendAddressPools/bepool-web")
    worker = next(s for s in sample_inventory.scale_sets if s.name == "vmss-worker")
    assert worker.priority == "Spot"
    rule = (
        next(a for a in sample_inventory.autoscale if a.name == "autoscale-worker")
        .profiles[0]
        .rules[0]
    )
    assert (rule.cooldown_s, rule.time_window_s) == (300, 600)  # "0:05:00" as older az prints it
    win = next(vm for vm in sample_inventory.vms if vm.name == "vm-report-01")
    assert win.os_type == "Windows" and win.tags["workload"] == "reporting"


def test_inventory_json_round_trips(sample_inventory: Inventory) -> None:
    body = json.loads(json.dumps(sample_inventory.to_json()))
    assert body["schemaVersion"] == 1 and "scaleSets" in body and "loadBalancers" in body
    assert Inventory.from_json(body).to_json() == body


def test_a_single_arm_resource_file_is_accepted(tmp_path: Path) -> None:
    vm = _legacy("arm-virtualMachines.json")["value"][0]
    inventory = load_export(_write(tmp_path, "one.json", vm))
    assert [v.name for v in inventory.vms] == ["vm-shop-1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT5M", 300),
        ("PT1H30M", 5400),
        ("PT45S", 45),
        ("P1D", 86400),
        ("0:10:00", 600),
        ("1 day, 0:00:00", 86400),
    ],
)
def test_durations_in_iso_and_clock_form(text: str, expected: int) -> None:
    assert duration_seconds(text, "cooldown") == expected


def test_malformed_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "vms.json"
    path.write_text('[{"id": "/subscriptions/x",\n  "name": }]')
    with pytest.raises(MigrateError, match=r"vms\.json: malformed JSON at line 2"):
        load_export(path)


def test_missing_vm_size_names_the_file_and_the_resource(tmp_path: Path) -> None:
    body = _legacy("arm-virtualMachines.json")
    del body["value"][1]["properties"]["hardwareProfile"]
    path = _write(tmp_path, "vms.json", body)
    with pytest.raises(MigrateError) as error:
        load_export(path)
    message = str(error.value)
    assert "vms.json[1]" in message and "virtualMachines/vm-shop-2" in message
    assert "missing 'hardwareProfile.vmSize'" in message


def test_autoscale_without_capacity_is_a_clear_error(tmp_path: Path) -> None:
    body = json.loads((SAMPLE / "contoso-prod" / "az-monitor-autoscale-list.json").read_text())
    del body[0]["profiles"][0]["capacity"]["maximum"]
    path = _write(tmp_path, "autoscale.json", body)
    with pytest.raises(MigrateError, match=r"autoscale setting .*autoscale-web: missing 'maximum'"):
        load_export(path)


def test_a_resource_without_id_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "x.json", [{"name": "vm-1", "type": "Microsoft.Compute/virtualMachines"}]
    )
    with pytest.raises(MigrateError, match=r"x\.json\[0\]: resource vm-1 has no 'id'"):
        load_export(path)


def test_not_an_export_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(MigrateError, match="not an `az ... list` array"):
        load_export(_write(tmp_path, "x.json", {"hello": "world"}))
    with pytest.raises(MigrateError, match="no such file"):
        load_export(tmp_path / "missing")


def test_duplicates_are_noted_and_other_types_kept(tmp_path: Path) -> None:
    vms = _legacy("arm-virtualMachines.json")
    _write(tmp_path, "a.json", vms)
    _write(tmp_path, "b.json", _flatten(vms["value"][:1]))
    nic = {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkInterfaces/n1",
        "type": "Microsoft.Network/networkInterfaces",
    }
    _write(tmp_path, "c.json", [nic])

    inventory = load_export(tmp_path)

    assert len(inventory.vms) == 6
    assert any("vm-shop-1 appears in" in note for note in inventory.notes)
    assert [o.type for o in inventory.other_resources] == ["microsoft.network/networkinterfaces"]


def test_az_vm_list_skus_output_feeds_sizes(tmp_path: Path) -> None:
    vm = copy.deepcopy(_legacy("arm-virtualMachines.json")["value"][0])
    vm["properties"]["hardwareProfile"]["vmSize"] = "Standard_Z99_v9"
    sku = {
        "resourceType": "virtualMachines",
        "name": "Standard_Z99_v9",
        "capabilities": [{"name": "vCPUs", "value": "4"}, {"name": "MemoryGB", "value": "16"}],
    }
    inventory = load_export(_write(tmp_path, "x.json", [vm, sku]))
    assert inventory.vm_sizes["Standard_Z99_v9"].vcpus == 4


def _old_az_case(value: Any) -> Any:
    """Keys as az printed them before 2.46 (`backendIpConfigurations`, `privateIpAddress`)."""
    if isinstance(value, list):
        return [_old_az_case(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k.replace("IPConfiguration", "IpConfiguration").replace(
            "IPAddress", "IpAddress"
        ): _old_az_case(v)
        for k, v in value.items()
    }


def test_every_az_era_key_case_gives_the_same_model(tmp_path: Path) -> None:
    new_dir, old_dir = tmp_path / "new", tmp_path / "old"
    new_dir.mkdir(), old_dir.mkdir()
    for name in ("arm-virtualMachines.json", "arm-loadBalancers.json"):
        flat = _flatten(_legacy(name)["value"])
        _write(new_dir, name, flat)
        _write(old_dir, name, _old_az_case(flat))
    assert "backendIpConfigurations" in (old_dir / "arm-loadBalancers.json").read_text()

    new, old = load_export(new_dir), load_export(old_dir)

    assert _without_source(new) == _without_source(old)
    legacy = next(lb for lb in old.load_balancers if lb.name == "lb-legacy")
    assert legacy.pools[0].member_ids  # membership kept with the old key
    assert all(r.frontend_internal is False for r in legacy.rules)  # publicIpAddress
    assert frontend_internal({"privateIpAddress": "10.0.0.4"}) is True  # old az case
    assert frontend_internal({"properties": {"PrivateIPAddress": "10.0.0.4"}}) is True


def test_az_vm_list_sizes_output_feeds_sizes(tmp_path: Path) -> None:
    vm = copy.deepcopy(_legacy("arm-virtualMachines.json")["value"][0])
    vm["properties"]["hardwareProfile"]["vmSize"] = "Standard_Z99_v9"
    size = {
        "maxDataDiskCount": 8,
        "memoryInMb": 28672,
        "name": "Standard_Z99_v9",
        "numberOfCores": 4,
        "osDiskSizeInMb": 1047552,
        "resourceDiskSizeInMb": 57344,
    }
    inventory = load_export(_write(tmp_path, "x.json", [vm, size]))
    resolved = inventory.vm_sizes["Standard_Z99_v9"]
    assert (resolved.vcpus, resolved.memory_gb, resolved.origin) == (4, 28, "subscription")
