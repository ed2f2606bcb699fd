"""Load balancers like for like: type and scheme with reasons, target ports, HA ports, paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from migrate.plan import PlanOptions, build_plan
from migrate.sources.export import load_export
from tests.migrate.conftest import SAMPLE

SUB = "11111111-2222-4333-8444-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-db/providers"
LB = f"{RG}/Microsoft.Network/loadBalancers/lb-oracle"
VNET = f"{RG}/Microsoft.Network/virtualNetworks/vnet-db"


def _vm(name: str, size: str = "Standard_E4s_v3") -> dict[str, Any]:
    return {
        "id": f"{RG}/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "availabilitySet": {"id": f"{RG}/Microsoft.Compute/availabilitySets/avset-db"},
            "networkProfile": {
                "networkInterfaces": [
                    {"id": f"{RG}/Microsoft.Network/networkInterfaces/{name}-nic"}
                ]
            },
        },
    }


def _internal_basic_lb(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's case: an internal Basic LB in front of a database, TCP 1521, HTTP probe 80."""
    members = [
        {"id": f"{RG}/Microsoft.Network/networkInterfaces/db-{i}-nic/ipConfigurations/ipconfig1"}
        for i in (1, 2)
    ]
    return {
        "id": LB,
        "name": "lb-oracle",
        "type": "Microsoft.Network/loadBalancers",
        "location": "westeurope",
        "sku": {"name": "Basic"},
        "properties": {
            "frontendIPConfigurations": [
                {
                    "id": f"{LB}/frontendIPConfigurations/fe",
                    "name": "fe",
                    "properties": {
                        "privateIPAddress": "10.1.0.10",
                        "subnet": {"id": f"{VNET}/subnets/snet-db"},
                    },
                }
            ],
            # az before 2.46 printed this key with a lower-case p
            "backendAddressPools": [
                {
                    "id": f"{LB}/backendAddressPools/be",
                    "name": "be",
                    "properties": {"backendIpConfigurations": members},
                }
            ],
            "probes": [
                {
                    "id": f"{LB}/probes/http80",
                    "name": "http80",
                    "properties": {"protocol": "Http", "port": 80, "requestPath": "/"},
                }
            ],
            "loadBalancingRules": rules,
        },
    }


def _rule(name: str, protocol: str, front: int, back: int) -> dict[str, Any]:
    return {
        "id": f"{LB}/loadBalancingRules/{name}",
        "name": name,
        "properties": {
            "protocol": protocol,
            "frontendPort": front,
            "backendPort": back,
            "frontendIPConfiguration": {"id": f"{LB}/frontendIPConfigurations/fe"},
            "backendAddressPool": {"id": f"{LB}/backendAddressPools/be"},
            "probe": {"id": f"{LB}/probes/http80"},
        },
    }


def _plan(tmp_path: Path, resources: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    (tmp_path / "estate.json").write_text(json.dumps(resources))
    return build_plan(load_export(tmp_path), PlanOptions(**options))


def _db(plan: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in plan["workloads"] if w["name"] == "oracle")


def test_internal_basic_lb_in_front_of_a_database_stays_an_internal_nlb(tmp_path: Path) -> None:
    resources = [_vm("db-1"), _vm("db-2"), _internal_basic_lb([_rule("sql", "Tcp", 1521, 1521)])]

    for prefer_alb in (False, True):
        aws = _db(_plan(tmp_path, resources, prefer_alb=prefer_alb))["aws"]

        assert aws["loadBalancerType"] == "network"
        assert aws["loadBalancer"]["scheme"] == "internal"
        assert "only a private IP" in aws["loadBalancer"]["schemeReason"]
        assert aws["listeners"] == [{"protocol": "TCP", "port": 1521, "targetPort": 1521}]
        assert aws["healthCheck"]["protocol"] == "HTTP" and aws["healthCheck"]["port"] == 80
    # --prefer-alb is refused, and the plan says why
    assert "probed on port 80, not its backend port" in aws["loadBalancer"]["reason"]


def test_old_az_backend_ip_configurations_key_keeps_the_membership(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path, [_vm("db-1"), _vm("db-2"), _internal_basic_lb([_rule("sql", "Tcp", 1521, 1521)])]
    )
    assert len(_db(plan)["azure"]["ids"]) == 2
    assert _db(plan)["azure"]["loadBalancers"] == [LB]


def test_each_rule_keeps_its_backend_port(tmp_path: Path) -> None:
    rules = [_rule("a", "Tcp", 1521, 1521), _rule("b", "Tcp", 5500, 5501)]
    aws = _db(_plan(tmp_path, [_vm("db-1"), _vm("db-2"), _internal_basic_lb(rules)]))["aws"]
    assert aws["listeners"] == [
        {"protocol": "TCP", "port": 1521, "targetPort": 1521},
        {"protocol": "TCP", "port": 5500, "targetPort": 5501},
    ]
    assert aws["targetPorts"] == [1521, 5501]


def test_ha_ports_rule_is_a_warning_never_a_port_zero_listener(tmp_path: Path) -> None:
    rules = [_rule("ha", "All", 0, 0)]
    for prefer_alb in (False, True):
        workload = _db(
            _plan(
                tmp_path,
                [_vm("db-1"), _vm("db-2"), _internal_basic_lb(rules)],
                prefer_alb=prefer_alb,
            )
        )
        assert workload["aws"]["listeners"] == []
        assert all(lst["port"] != 0 for lst in workload["aws"]["listeners"])
        assert any("HA-ports rule" in w for w in workload["warnings"])


def test_public_frontend_is_internet_facing(tmp_path: Path) -> None:
    lb = _internal_basic_lb([_rule("web", "Tcp", 80, 80)])
    lb["properties"]["frontendIPConfigurations"][0]["properties"] = {
        "publicIPAddress": {"id": f"{RG}/Microsoft.Network/publicIPAddresses/pip"}
    }
    aws = _db(_plan(tmp_path, [_vm("db-1"), _vm("db-2"), lb]))["aws"]
    assert aws["loadBalancer"]["scheme"] == "internet-facing"


def test_frontend_of_unknown_nature_is_planned_internal_with_a_warning(tmp_path: Path) -> None:
    lb = _internal_basic_lb([_rule("web", "Tcp", 80, 80)])
    lb["properties"]["frontendIPConfigurations"][0]["properties"] = {}
    workload = _db(_plan(tmp_path, [_vm("db-1"), _vm("db-2"), lb]))
    assert workload["aws"]["loadBalancer"]["scheme"] == "internal"
    assert any("does not say whether the frontend is public" in w for w in workload["warnings"])


def _path_gateway() -> dict[str, Any]:
    """The sample gateway, its HTTP rule made path-based: /api/* and /img/* to the same pool
    on other ports, /admin/* to a pool of another fleet."""
    agw = copy.deepcopy(
        json.loads((SAMPLE / "contoso-legacy" / "arm-applicationGateway-agw-shop.json").read_text())
    )
    base = agw["id"]
    props = agw["properties"]
    pool = props["backendAddressPools"][0]["id"]
    props["backendAddressPools"].append(
        {"id": f"{base}/backendAddressPools/pool-admin", "name": "pool-admin", "properties": {}}
    )
    for port in (9000, 9100):
        props["backendHttpSettingsCollection"].append(
            {
                "id": f"{base}/backendHttpSettingsCollection/http-{port}",
                "name": f"http-{port}",
                "properties": {"port": port, "protocol": "Http"},
            }
        )

    def settings(port: int) -> dict[str, str]:
        return {"id": f"{base}/backendHttpSettingsCollection/http-{port}"}

    props["urlPathMaps"] = [
        {
            "id": f"{base}/urlPathMaps/paths",
            "name": "paths",
            "properties": {
                "defaultBackendAddressPool": {"id": pool},
                "defaultBackendHttpSettings": settings(8080),
                "pathRules": [
                    {
                        "id": f"{base}/urlPathMaps/paths/pathRules/api",
                        "name": "api",
                        "properties": {
                            "paths": ["/api/*"],
                            "backendAddressPool": {"id": pool},
                            "backendHttpSettings": settings(9000),
                        },
                    },
                    {
                        "id": f"{base}/urlPathMaps/paths/pathRules/img",
                        "name": "img",
                        "properties": {
                            "paths": ["/img/*", "/static/*"],
                            "backendAddressPool": {"id": pool},
                            "backendHttpSettings": settings(9100),
                        },
                    },
                    {
                        "id": f"{base}/urlPathMaps/paths/pathRules/admin",
                        "name": "admin",
                        "properties": {
                            "paths": ["/admin/*"],
                            "backendAddressPool": {"id": f"{base}/backendAddressPools/pool-admin"},
                            "backendHttpSettings": settings(9000),
                        },
                    },
                ],
            },
        }
    ]
    rule = next(r for r in props["requestRoutingRules"] if r["name"] == "rule-http")
    rule["properties"] = {
        "ruleType": "PathBasedRouting",
        "priority": 100,
        "httpListener": rule["properties"]["httpListener"],
        "urlPathMap": {"id": f"{base}/urlPathMaps/paths"},
    }
    return agw


def test_path_based_gateway_rules_for_the_same_fleet_become_listener_rules(tmp_path: Path) -> None:
    (tmp_path / "vms.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text()
    )
    (tmp_path / "agw.json").write_text(json.dumps(_path_gateway()))

    shop = next(w for w in build_plan(load_export(tmp_path))["workloads"] if w["name"] == "shop")

    http = next(lst for lst in shop["aws"]["listeners"] if lst["port"] == 80)
    assert http == {
        "protocol": "HTTP",
        "port": 80,
        "targetPort": 8080,
        "rules": [
            {"pathPatterns": ["/api/*"], "targetPort": 9000},
            {"pathPatterns": ["/img/*", "/static/*"], "targetPort": 9100},
        ],
    }
    assert shop["aws"]["targetPorts"] == [8080, 9000, 9100]
    assert any(
        "path rule rule-http/admin (/admin/*) goes to another pool" in w for w in shop["warnings"]
    )
    assert not any("only its default pool is mapped" in w for w in shop["warnings"])
