"""IP-based pool membership is scoped to the subscription and the virtual network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrate.plan import build_plan
from migrate.sources.export import load_export

SUB_A = "aaaaaaaa-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"


def _rg(sub: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/rg/providers"


def _vnet(sub: str, name: str) -> str:
    return f"{_rg(sub)}/Microsoft.Network/virtualNetworks/{name}"


def _vm(sub: str, name: str, ip: str) -> dict[str, Any]:
    # `az vm list -d` prints privateIps; no network is known without the NICs
    return {
        "id": f"{_rg(sub)}/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "networkProfile": {
            "networkInterfaces": [
                {"id": f"{_rg(sub)}/Microsoft.Network/networkInterfaces/{name}-nic"}
            ]
        },
        "privateIps": ip,
    }


def _nic(sub: str, vm: str, ip: str, vnet: str) -> dict[str, Any]:
    return {
        "id": f"{_rg(sub)}/Microsoft.Network/networkInterfaces/{vm}-nic",
        "name": f"{vm}-nic",
        "type": "Microsoft.Network/networkInterfaces",
        "virtualMachine": {"id": f"{_rg(sub)}/Microsoft.Compute/virtualMachines/{vm}"},
        "ipConfigurations": [
            {
                "name": "ipconfig1",
                "privateIPAddress": ip,
                "subnet": {"id": f"{_vnet(sub, vnet)}/subnets/default"},
            }
        ],
    }


def _gateway(sub: str, vnet: str, addresses: list[str]) -> dict[str, Any]:
    agw = f"{_rg(sub)}/Microsoft.Network/applicationGateways/agw-app"
    return {
        "id": agw,
        "name": "agw-app",
        "type": "Microsoft.Network/applicationGateways",
        "location": "westeurope",
        "gatewayIPConfigurations": [
            {
                "id": f"{agw}/gatewayIPConfigurations/gw",
                "subnet": {"id": f"{_vnet(sub, vnet)}/subnets/agw"},
            }
        ],
        "frontendIPConfigurations": [
            {"id": f"{agw}/frontendIPConfigurations/fe", "publicIPAddress": {"id": f"{agw}-pip"}}
        ],
        "frontendPorts": [{"id": f"{agw}/frontendPorts/p80", "port": 80}],
        "backendAddressPools": [
            {
                "id": f"{agw}/backendAddressPools/pool",
                "name": "pool",
                "backendAddresses": [{"ipAddress": a} for a in addresses],
            }
        ],
        "backendHttpSettingsCollection": [
            {"id": f"{agw}/backendHttpSettingsCollection/s", "port": 80, "protocol": "Http"}
        ],
        "httpListeners": [
            {
                "id": f"{agw}/httpListeners/l",
                "name": "l",
                "frontendIPConfiguration": {"id": f"{agw}/frontendIPConfigurations/fe"},
                "frontendPort": {"id": f"{agw}/frontendPorts/p80"},
                "protocol": "Http",
            }
        ],
        "requestRoutingRules": [
            {
                "id": f"{agw}/requestRoutingRules/r",
                "name": "r",
                "ruleType": "Basic",
                "httpListener": {"id": f"{agw}/httpListeners/l"},
                "backendAddressPool": {"id": f"{agw}/backendAddressPools/pool"},
                "backendHttpSettings": {"id": f"{agw}/backendHttpSettingsCollection/s"},
            }
        ],
    }


def _plan(tmp_path: Path, resources: list[dict[str, Any]]) -> dict[str, Any]:
    (tmp_path / "estate.json").write_text(json.dumps(resources))
    return build_plan(load_export(tmp_path))


def _gateway_workload(plan: dict[str, Any]) -> dict[str, Any] | None:
    return next((w for w in plan["workloads"] if w["azure"]["loadBalancers"]), None)


def test_an_address_never_matches_a_vm_of_another_subscription(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        [
            _gateway(SUB_A, "vnet-a", ["10.0.0.4"]),
            _vm(SUB_A, "app-a", "10.0.0.4"),
            _vm(SUB_B, "app-b", "10.0.0.4"),
        ],
    )
    workload = _gateway_workload(plan)
    assert workload is not None
    assert [i.rsplit("/", 1)[-1] for i in workload["azure"]["ids"]] == ["app-a"]


def test_an_ambiguous_address_is_a_warning_never_a_silent_pick(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        [
            _gateway(SUB_A, "vnet-a", ["10.0.0.4"]),
            _vm(SUB_A, "app-1", "10.0.0.4"),
            _vm(SUB_A, "app-2", "10.0.0.4"),
        ],
    )
    assert _gateway_workload(plan) is None  # neither VM was assumed a member
    skipped = {s["id"].rsplit("/", 1)[-1]: s["reason"] for s in plan["skipped"]}
    assert "address 10.0.0.4 matches several VMs (app-1, app-2)" in skipped["agw-app"]


def test_the_virtual_network_decides_when_the_nics_are_exported(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        [
            _gateway(SUB_A, "vnet-a", ["10.0.0.4"]),
            _vm(SUB_A, "app-1", "10.0.0.4"),
            _vm(SUB_A, "app-2", "10.0.0.4"),
            _nic(SUB_A, "app-1", "10.0.0.4", "vnet-other"),
            _nic(SUB_A, "app-2", "10.0.0.4", "vnet-a"),
        ],
    )
    workload = _gateway_workload(plan)
    assert [i.rsplit("/", 1)[-1] for i in workload["azure"]["ids"]] == ["app-2"]
    assert not any("address 10.0.0.4" in w for w in workload["warnings"])


def test_a_single_match_with_an_unknown_network_is_taken_with_a_warning(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path, [_gateway(SUB_A, "vnet-a", ["10.0.0.4"]), _vm(SUB_A, "app-1", "10.0.0.4")]
    )
    workload = _gateway_workload(plan)
    assert [i.rsplit("/", 1)[-1] for i in workload["azure"]["ids"]] == ["app-1"]
    assert any("virtual network is not known" in w for w in workload["warnings"])


def test_nics_live_in_the_vms_not_as_skipped_resources(tmp_path: Path) -> None:
    (tmp_path / "estate.json").write_text(
        json.dumps([_vm(SUB_A, "app-1", ""), _nic(SUB_A, "app-1", "10.0.0.9", "vnet-a")])
    )
    inventory = load_export(tmp_path)
    assert inventory.vms[0].private_ips == ["10.0.0.9"]
    assert inventory.vms[0].virtual_networks == [_vnet(SUB_A, "vnet-a").lower()]
    assert inventory.other_resources == []
