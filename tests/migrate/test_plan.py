"""Planning: workloads, capacity, scaling, load balancing, warnings, the accounted-for rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from migrate.errors import MigrateError
from migrate.model import Inventory
from migrate.plan import PlanOptions, build_plan, check_accounted
from migrate.sources.export import load_export
from tests.migrate.conftest import SAMPLE
from tests.migrate.estate import synthetic_subscription
from tests.migrate.fake_arm import FakeArm


@pytest.fixture
def plan(sample_inventory: Inventory) -> dict:
    return build_plan(sample_inventory)


def _workload(plan: dict, name: str) -> dict:
    return next(w for w in plan["workloads"] if w["name"] == name)


def test_sample_estate_workloads(plan: dict) -> None:
    summary = {
        w["name"]: (w["azure"]["kind"], len(w["azure"]["ids"]), w["aws"]["instanceType"])
        for w in plan["workloads"]
    }
    assert summary == {
        "web": ("scaleSet", 1, "m7i.xlarge"),
        "worker": ("scaleSet", 1, "c7i.2xlarge"),
        # Sized from the sample's synthetic metrics (performance): as-is r7a.xlarge, P95 CPU 8 %
        "shop": ("vmGroup", 2, "r7a.large"),  # app-gateway pool (also one availability set)
        "legacy": ("vmGroup", 1, "c7i.large"),  # Basic LB pool; A2_v2 is not burstable: no t3
        "gpu-01": ("vmGroup", 1, "p3.2xlarge"),  # V100 -> p3
        "reporting": ("vmGroup", 1, "m7i.large"),  # by tag workload=reporting
        "batch": ("vmGroup", 2, "m7g.large"),  # by tag workload=batch, Arm kept; as-is m7g.xlarge
    }


def test_plan_matches_the_contract_schema(plan: dict) -> None:
    assert plan["schemaVersion"] == 1
    for w in plan["workloads"]:
        assert set(w) >= {"name", "azure", "aws", "warnings"}
        assert set(w["azure"]) >= {"kind", "ids", "vmSize", "instances", "location", "zones"}
        assert set(w["aws"]) >= {
            "instanceType",
            "alternatives",
            "minSize",
            "maxSize",
            "desiredCapacity",
            "scalingPolicies",
            "healthCheck",
            "listeners",
            "loadBalancerType",
        }
        assert w["aws"]["loadBalancerType"] in ("application", "network", None)
        assert w["aws"]["minSize"] <= w["aws"]["desiredCapacity"] <= w["aws"]["maxSize"]
    json.dumps(plan)


def test_scale_set_capacity_and_cpu_rules_from_the_default_profile(plan: dict) -> None:
    web = _workload(plan, "web")["aws"]
    assert (web["minSize"], web["desiredCapacity"], web["maxSize"]) == (2, 3, 10)
    out, scale_in = web["scalingPolicies"]
    assert (out["direction"], out["threshold"], out["adjustment"], out["cooldown"]) == (
        "out",
        70,
        1,
        300,
    )
    assert (out["period"], out["evaluationPeriods"], out["comparison"]) == (
        60,
        5,
        "GreaterThanThreshold",
    )
    assert (
        scale_in["direction"],
        scale_in["threshold"],
        scale_in["adjustment"],
        scale_in["cooldown"],
    ) == ("in", 30, -1, 600)
    assert scale_in["evaluationPeriods"] == 10


def test_recurrence_profile_and_other_metrics_become_warnings(plan: dict) -> None:
    web, worker = _workload(plan, "web"), _workload(plan, "worker")
    assert any(
        "recurrence profile 'business-hours'" in w and "scheduled action" in w
        for w in web["warnings"]
    )
    assert worker["aws"]["scalingPolicies"] == []
    assert sum("ApproximateMessageCount" in w for w in worker["warnings"]) == 2
    assert (
        worker["aws"]["minSize"],
        worker["aws"]["desiredCapacity"],
        worker["aws"]["maxSize"],
    ) == (1, 2, 8)


def test_azure_load_balancer_is_an_nlb_like_for_like_and_says_why(plan: dict) -> None:
    web = _workload(plan, "web")["aws"]
    assert web["loadBalancerType"] == "network"
    assert web["loadBalancer"]["type"] == "network"
    assert web["loadBalancer"]["reason"].startswith("Azure Load Balancer is a layer-4 balancer")
    assert "--prefer-alb" in web["loadBalancer"]["reason"]  # eligible: the option is named
    assert web["loadBalancer"]["scheme"] == "internet-facing"
    assert web["listeners"] == [{"protocol": "TCP", "port": 80, "targetPort": 80}]
    assert web["healthCheck"]["protocol"] == "HTTP"  # an NLB can check over HTTP


def test_prefer_alb_upgrades_an_http_probed_l4_balancer(sample_inventory: Inventory) -> None:
    web = _workload(build_plan(sample_inventory, PlanOptions(prefer_alb=True)), "web")["aws"]
    assert web["loadBalancerType"] == "application"
    assert web["loadBalancer"]["reason"].startswith("--prefer-alb: every rule is TCP")
    assert web["listeners"] == [{"protocol": "HTTP", "port": 80, "targetPort": 80}]
    assert web["healthCheck"] == {
        "protocol": "HTTP",
        "port": 80,
        "path": "/health",
        "interval": 15,
        "timeout": 5,
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "matcher": "200",
    }


def test_application_gateway_becomes_an_alb_with_its_listeners(plan: dict) -> None:
    shop = _workload(plan, "shop")["aws"]
    assert shop["loadBalancerType"] == "application"
    assert shop["loadBalancer"]["reason"].startswith("Application Gateway is a layer-7")
    assert shop["listeners"] == [
        {"protocol": "HTTP", "port": 80, "targetPort": 8080},
        {"protocol": "HTTPS", "port": 443, "targetPort": 8080},
    ]
    assert shop["healthCheck"]["path"] == "/healthz" and shop["healthCheck"]["port"] == 8080
    assert shop["healthCheck"]["matcher"] == "200-399"
    assert (shop["targetPort"], shop["deregistrationDelay"]) == (8080, 60)


def test_tcp_rule_makes_an_nlb_and_basic_sku_warns(plan: dict) -> None:
    legacy = _workload(plan, "legacy")
    assert legacy["aws"]["loadBalancerType"] == "network"
    assert legacy["aws"]["listeners"] == [{"protocol": "TCP", "port": 443, "targetPort": 8443}]
    assert (
        legacy["aws"]["healthCheck"]["protocol"] == "TCP"
        and "path" not in legacy["aws"]["healthCheck"]
    )
    assert any("Basic SKU" in w for w in legacy["warnings"])
    assert any("inbound NAT" in w for w in legacy["warnings"])


def test_migration_warnings(plan: dict) -> None:
    def warned(name: str, text: str) -> bool:
        return any(text in w for w in _workload(plan, name)["warnings"])

    assert warned("legacy", "cannot be deployed without downtime")
    assert not warned("web", "cannot be deployed without downtime")
    assert warned("worker", "Spot")
    assert warned("reporting", "Windows image")
    assert warned("gpu-01", "no close EC2 match")
    assert warned("web", "Azure zones 1, 2, 3")


def test_unused_resources_are_skipped_with_a_reason(plan: dict) -> None:
    skipped = {s["id"].rsplit("/", 1)[-1]: s["reason"] for s in plan["skipped"]}
    assert set(skipped) == {"lb-internal-old", "autoscale-api-plan"}
    assert "without any backend member" in skipped["lb-internal-old"]
    assert "not a VM scale set" in skipped["autoscale-api-plan"]


def test_every_resource_is_accounted_for_in_the_sample(
    sample_inventory: Inventory, plan: dict
) -> None:
    ids = [i.lower() for w in plan["workloads"] for i in w["azure"]["ids"]] + [
        s["id"].lower() for s in plan["skipped"]
    ]
    for resource in [*sample_inventory.vms, *sample_inventory.scale_sets]:
        assert ids.count(resource.id.lower()) == 1
    used = {
        i.lower()
        for w in plan["workloads"]
        for i in w["azure"]["loadBalancers"] + w["azure"]["autoscaleSettings"]
    }
    for resource in [*sample_inventory.load_balancers, *sample_inventory.autoscale]:
        assert resource.id.lower() in used or resource.id.lower() in ids


def test_accounted_check_catches_a_lost_or_duplicated_resource(
    sample_inventory: Inventory, plan: dict
) -> None:
    lost = copy.deepcopy(plan)
    lost["workloads"] = [w for w in lost["workloads"] if w["name"] != "batch"]
    with pytest.raises(MigrateError, match=r"vm-batch-1 appears 0 times"):
        check_accounted(sample_inventory, lost)
    twice = copy.deepcopy(plan)
    twice["skipped"].append({"id": _workload(plan, "web")["azure"]["ids"][0], "reason": "again"})
    with pytest.raises(MigrateError, match="appears 2 times"):
        check_accounted(sample_inventory, twice)
    unused = copy.deepcopy(plan)
    unused["skipped"] = [s for s in unused["skipped"] if "lb-internal-old" not in s["id"]]
    with pytest.raises(MigrateError, match="lb-internal-old is neither used"):
        check_accounted(sample_inventory, unused)


def test_accounted_for_on_a_large_synthetic_estate(tmp_path: Path) -> None:
    arm = FakeArm()
    arm.add_resources(
        synthetic_subscription(
            "00000000-0000-4000-8000-000000000009", vms=300, scale_sets=20, lbs=6
        )
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for (_sub, collection), items in arm.items.items():
        (folder / f"{collection.replace('/', '_')}.json").write_text(json.dumps({"value": items}))
    plan = build_plan(load_export(folder))  # build_plan runs check_accounted itself
    assert sum(len(w["azure"]["ids"]) for w in plan["workloads"]) == 320


def test_unknown_size_skips_the_workload_with_a_reason(tmp_path: Path) -> None:
    body = json.loads((SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text())
    body["value"][2]["properties"]["hardwareProfile"]["vmSize"] = "Standard_Q7_v9"  # vm-legacy-01
    (tmp_path / "vms.json").write_text(json.dumps(body))
    (tmp_path / "lbs.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-loadBalancers.json").read_text()
    )

    plan = build_plan(load_export(tmp_path))

    reasons = {s["id"].rsplit("/", 1)[-1]: s["reason"] for s in plan["skipped"]}
    assert (
        "Standard_Q7_v9" in reasons["vm-legacy-01"]
        and "azure_vm_sizes.json" in reasons["vm-legacy-01"]
    )
    assert "was skipped" in reasons["lb-legacy"]


def test_dangling_backend_reference_is_a_warning(tmp_path: Path) -> None:
    lbs = json.loads((SAMPLE / "contoso-legacy" / "arm-loadBalancers.json").read_text())
    pool = lbs["value"][0]["properties"]["backendAddressPools"][0]["properties"]
    ghost = (
        "/subscriptions/x/resourceGroups/gone/providers/Microsoft.Network/networkInterfaces/ghost"
    )
    pool["backendIPConfigurations"].append({"id": f"{ghost}/ipConfigurations/ip"})
    (tmp_path / "lbs.json").write_text(json.dumps(lbs))
    (tmp_path / "vms.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text()
    )

    legacy = _workload(build_plan(load_export(tmp_path)), "legacy")

    assert any("dangling" in w and "ghost" in w for w in legacy["warnings"])


def test_group_tag_is_configurable(sample_inventory: Inventory) -> None:
    plan = build_plan(sample_inventory, PlanOptions(group_tag="owner"))
    names = {w["name"] for w in plan["workloads"]}
    assert "batch" not in names and {"batch-1", "batch-2"} <= names
    assert "finance-it" in names  # vm-report-01 grouped by its owner tag now


def test_plan_of_a_large_estate_accounts_for_every_resource(tmp_path: Path) -> None:
    # Its speed is a benchmark (bench/bench_migrate.py prints the plan time), not a test.
    arm = FakeArm()
    for i in range(4):
        arm.add_resources(synthetic_subscription(f"00000000-0000-4000-8000-00000000010{i}"))
    folder = tmp_path / "big"
    folder.mkdir()
    for (sub, collection), items in arm.items.items():
        (folder / f"{sub}-{collection.replace('/', '_')}.json").write_text(json.dumps(items))
    plan = build_plan(load_export(folder))
    assert len(plan["workloads"]) > 400
    assert sum(len(w["azure"]["ids"]) for w in plan["workloads"]) == 4 * (500 + 50)


def test_flexible_scale_set_takes_its_vms(tmp_path: Path) -> None:
    vms = json.loads((SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text())
    sub = "9e8d7c6b-5a4f-4e3d-8c2b-1f0e9d8c7b6a"
    rg = f"/subscriptions/{sub}/resourceGroups/rg-batch/providers"
    flex_id = f"{rg}/Microsoft.Compute/virtualMachineScaleSets/vmss-batch"
    flex = {
        "id": flex_id,
        "name": "vmss-batch",
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": "germanywestcentral",
        "properties": {"orchestrationMode": "Flexible", "platformFaultDomainCount": 1},
    }
    for vm in vms["value"]:
        if vm["name"].startswith("vm-batch"):
            vm["properties"]["virtualMachineScaleSet"] = {"id": flex_id.upper()}  # case differs
    (tmp_path / "vms.json").write_text(json.dumps(vms))
    (tmp_path / "vmss.json").write_text(json.dumps([flex]))

    plan = build_plan(load_export(tmp_path))

    batch = _workload(plan, "batch")
    assert batch["azure"]["kind"] == "scaleSet" and len(batch["azure"]["ids"]) == 3
    assert batch["azure"]["instances"] == 2 and batch["aws"]["instanceType"] == "m7g.xlarge"


def test_udp_and_ha_ports_rules(tmp_path: Path) -> None:
    lbs = json.loads((SAMPLE / "contoso-legacy" / "arm-loadBalancers.json").read_text())
    rules = lbs["value"][0]["properties"]["loadBalancingRules"]
    udp = copy.deepcopy(rules[0])
    udp["name"] = "dns"
    udp["properties"].update(protocol="Udp", frontendPort=53, backendPort=53)
    ha = copy.deepcopy(rules[0])
    ha["name"] = "ha-ports"
    ha["properties"].update(protocol="All", frontendPort=0, backendPort=0)
    rules += [udp, ha]
    (tmp_path / "lbs.json").write_text(json.dumps(lbs))
    (tmp_path / "vms.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text()
    )

    legacy = _workload(build_plan(load_export(tmp_path)), "legacy")

    # each rule keeps its backend port; the HA-ports rule is a warning, never a port-0 listener
    assert legacy["aws"]["listeners"] == [
        {"protocol": "TCP", "port": 443, "targetPort": 8443},
        {"protocol": "UDP", "port": 53, "targetPort": 53},
    ]
    assert legacy["aws"]["targetPorts"] == [53, 8443]
    assert any("ha-ports is an HA-ports rule" in w for w in legacy["warnings"])


def test_unknown_scale_set_size_skips_its_autoscale_and_load_balancer(tmp_path: Path) -> None:
    prod = SAMPLE / "contoso-prod"
    vmss = json.loads((prod / "az-vmss-list.json").read_text())
    vmss[0]["sku"]["name"] = "Standard_Q7_v9"  # vmss-web
    (tmp_path / "vmss.json").write_text(json.dumps(vmss))
    for name in ("az-monitor-autoscale-list.json", "az-network-lb-list.json"):
        (tmp_path / name).write_text((prod / name).read_text())

    plan = build_plan(load_export(tmp_path))  # would raise if anything were unaccounted for

    reasons = {s["id"].rsplit("/", 1)[-1]: s["reason"] for s in plan["skipped"]}
    assert "Standard_Q7_v9" in reasons["vmss-web"]
    assert reasons["autoscale-web"].startswith("its scale set was skipped")
    assert "was skipped" in reasons["lb-web"]
