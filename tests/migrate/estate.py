"""Synthetic Azure estates in ARM REST shape, for the fake ARM server, tests and the benchmark."""

from __future__ import annotations

from typing import Any

from migrate import catalog

SIZES = (
    "Standard_D2s_v5",
    "Standard_D4s_v5",
    "Standard_E4as_v5",
    "Standard_F4s_v2",
    "Standard_B2ms",
    "Standard_D4ps_v5",
)


def subscription_id(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-{i:012x}"


def _rg(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers"


def sku_items(names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Resource SKU list items (as ``resource_skus.list`` returns) from the embedded catalog."""
    sizes = catalog.azure_sizes()
    wanted = [sizes[n.lower()] for n in names] if names else list(sizes.values())
    return [
        {
            "resourceType": "virtualMachines",
            "name": s.name,
            "tier": "Standard",
            "size": s.name.removeprefix("Standard_"),
            "family": s.family,
            "locations": ["westeurope"],
            "capabilities": [
                {"name": "vCPUs", "value": str(s.vcpus)},
                {"name": "MemoryGB", "value": f"{s.memory_gb:g}"},
                {"name": "CpuArchitectureType", "value": s.architecture},
                *([{"name": "GPUs", "value": f"{s.gpus:g}"}] if s.gpus else []),
            ],
        }
        for s in wanted
    ]


def _vm(
    sub: str, rg: str, name: str, size: str, *, avset: str = "", tags: dict[str, str] | None = None
) -> dict[str, Any]:
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers"
    props: dict[str, Any] = {
        "vmId": f"{sub[:8]}-{name}",
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {
            "imageReference": {
                "publisher": "Canonical",
                "offer": "ubuntu-24_04-lts",
                "sku": "server",
                "version": "latest",
            },
            "osDisk": {
                "osType": "Linux",
                "name": f"{name}-os",
                "createOption": "FromImage",
                "diskSizeGB": 30,
                "managedDisk": {"storageAccountType": "Premium_LRS"},
            },
        },
        "osProfile": {
            "computerName": name,
            "adminUsername": "azureuser",
            "linuxConfiguration": {"disablePasswordAuthentication": True},
        },
        "networkProfile": {
            "networkInterfaces": [
                {
                    "id": f"{base}/Microsoft.Network/networkInterfaces/{name}-nic",
                    "properties": {"primary": True},
                }
            ]
        },
        "provisioningState": "Succeeded",
    }
    if avset:
        props["availabilitySet"] = {"id": f"{base}/Microsoft.Compute/availabilitySets/{avset}"}
    return {
        "id": f"{base}/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": tags or {},
        "properties": props,
    }


def _scale_set(
    sub: str, rg: str, name: str, size: str, capacity: int, pool_id: str
) -> dict[str, Any]:
    return {
        "id": f"{_rg(sub, rg)}/Microsoft.Compute/virtualMachineScaleSets/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": "westeurope",
        "sku": {"name": size, "tier": "Standard", "capacity": capacity},
        "zones": ["1", "2", "3"],
        "properties": {
            "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": "Rolling"},
            "virtualMachineProfile": {
                "storageProfile": {"osDisk": {"osType": "Linux", "createOption": "FromImage"}},
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {
                                        "name": "ipconfig",
                                        "properties": {
                                            "loadBalancerBackendAddressPools": [{"id": pool_id}]
                                        },
                                    }
                                ],
                            },
                        }
                    ]
                },
            },
        },
    }


def _autoscale(sub: str, rg: str, name: str, target: str) -> dict[str, Any]:
    def rule(op: str, threshold: float, direction: str, cooldown: str) -> dict[str, Any]:
        return {
            "metricTrigger": {
                "metricName": "Percentage CPU",
                "metricResourceUri": target,
                "timeGrain": "PT1M",
                "statistic": "Average",
                "timeWindow": "PT5M",
                "timeAggregation": "Average",
                "operator": op,
                "threshold": threshold,
            },
            "scaleAction": {
                "direction": direction,
                "type": "ChangeCount",
                "value": "1",
                "cooldown": cooldown,
            },
        }

    return {
        "id": f"{_rg(sub, rg)}/microsoft.insights/autoscalesettings/{name}",
        "name": name,
        "type": "Microsoft.Insights/autoscaleSettings",
        "location": "westeurope",
        "properties": {
            "enabled": True,
            "targetResourceUri": target.lower(),
            "profiles": [
                {
                    "name": "default",
                    "capacity": {"minimum": "2", "maximum": "10", "default": "3"},
                    "rules": [
                        rule("GreaterThan", 70, "Increase", "PT5M"),
                        rule("LessThan", 30, "Decrease", "PT10M"),
                    ],
                }
            ],
        },
    }


def _load_balancer(sub: str, rg: str, name: str, pools: dict[str, list[str]]) -> dict[str, Any]:
    lb = (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/loadBalancers/{name}"
    )
    return {
        "id": lb,
        "name": name,
        "type": "Microsoft.Network/loadBalancers",
        "location": "westeurope",
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "frontendIPConfigurations": [
                {
                    "id": f"{lb}/frontendIPConfigurations/fe",
                    "name": "fe",
                    "properties": {"publicIPAddress": {"id": f"{lb}-pip"}},
                }
            ],
            "backendAddressPools": [
                {
                    "id": f"{lb}/backendAddressPools/{pool}",
                    "name": pool,
                    "properties": {"backendIPConfigurations": [{"id": m} for m in members]},
                }
                for pool, members in pools.items()
            ],
            "probes": [
                {
                    "id": f"{lb}/probes/http",
                    "name": "http",
                    "properties": {
                        "protocol": "Http",
                        "port": 80,
                        "requestPath": "/health",
                        "intervalInSeconds": 15,
                        "numberOfProbes": 2,
                    },
                }
            ],
            "loadBalancingRules": [
                {
                    "id": f"{lb}/loadBalancingRules/{pool}",
                    "name": pool,
                    "properties": {
                        "protocol": "Tcp",
                        "frontendPort": 80 + i,
                        "backendPort": 80,
                        "backendAddressPool": {"id": f"{lb}/backendAddressPools/{pool}"},
                        "probe": {"id": f"{lb}/probes/http"},
                    },
                }
                for i, pool in enumerate(pools)
            ],
        },
    }


def synthetic_subscription(
    sub: str, vms: int = 500, scale_sets: int = 50, lbs: int = 10
) -> list[dict[str, Any]]:
    """VMs (40% behind load balancers, 40% in availability sets of 4, the rest tagged in fives),
    scale sets each with a CPU autoscale setting and a load-balancer pool."""
    out: list[dict[str, Any]] = []
    rg = "rg-app"
    half = max(1, lbs // 2)
    ss_pools: dict[int, dict[str, list[str]]] = {k: {} for k in range(half)}
    for i in range(scale_sets):
        k = i % half
        pool = (
            f"{_rg(sub, rg)}/Microsoft.Network/loadBalancers/lb-ss-{k}/backendAddressPools/ss-{i}"
        )
        name = f"vmss-{i:03d}"
        ss = _scale_set(sub, rg, name, SIZES[i % len(SIZES)], 3, pool)
        ss_pools[k][f"ss-{i}"] = []
        out += [ss, _autoscale(sub, rg, f"autoscale-{name}", ss["id"])]
    vm_pools: dict[int, dict[str, list[str]]] = {k: {} for k in range(lbs - half)}
    behind_lb = int(vms * 0.4)
    in_avset = int(vms * 0.4)
    for i in range(vms):
        name = f"vm-{i:04d}"
        size = SIZES[(i // 4) % len(SIZES)]
        if i < behind_lb and lbs - half:
            vm = _vm(sub, rg, name, size)
            k = i % (lbs - half)
            vm_pools[k].setdefault(f"pool-{k}", []).append(
                vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
                + "/ipConfigurations/ipconfig1"
            )
        elif i < behind_lb + in_avset:
            vm = _vm(sub, rg, name, size, avset=f"avset-{i // 4}")
        else:
            vm = _vm(sub, rg, name, size, tags={"workload": f"batch-{i // 5}"})
        out.append(vm)
    out += [_load_balancer(sub, rg, f"lb-ss-{k}", pools) for k, pools in ss_pools.items()]
    out += [_load_balancer(sub, rg, f"lb-vm-{k}", pools) for k, pools in vm_pools.items() if pools]
    return out
