"""Issue 19: every shape Azure documents plans, passes the plan schema, and nothing is dropped
silently. The resources are built in the documented shapes of tests/migrate/azure_shapes.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrate import findings, schemas
from migrate.cli import main
from migrate.plan import build_plan
from migrate.sources.export import load_export
from tests.migrate import azure_shapes as az


def _export(tmp_path: Path, resources: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "estate.json").write_text(json.dumps({"value": resources}))
    return folder


def _plan(tmp_path: Path, resources: list[dict[str, Any]]) -> dict[str, Any]:
    plan = build_plan(load_export(_export(tmp_path, resources)))
    assert schemas.problems(json.loads(json.dumps(plan)), "plan") == []
    return plan


def _workload(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in plan["workloads"] if w["name"] == name)


def _skipped(plan: dict[str, Any], resource_id: str) -> str:
    return next(s["reason"] for s in plan["skipped"] if s["id"].lower() == resource_id.lower())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _web(lb: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return az.scale_set("vmss-web", pools=[f"{lb['id']}/backendAddressPools/be-lb"], **kwargs)


# -- 1. a relative probe path ---------------------------------------------------------------------


def test_a_relative_probe_path_is_planned_as_an_absolute_health_check_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lb = az.load_balancer("lb")
    folder = _export(tmp_path, [lb, _web(lb)])
    inventory, plan_file = tmp_path / "inventory.json", tmp_path / "plan.json"

    assert _run(capsys, "inventory", "--from-export", str(folder), "-o", str(inventory))[0] == 0
    assert _run(capsys, "plan", str(inventory), "-o", str(plan_file))[0] == 0
    check = json.loads(plan_file.read_text())["workloads"][0]["aws"]["healthCheck"]
    assert check["path"] == "/healthcheck.aspx"
    for fmt in ("md", "html", "csv", "json"):
        code, _, err = _run(capsys, "report", str(plan_file), "--format", fmt)
        assert code == 0, err
    code, out, err = _run(
        capsys, "stack-config", str(plan_file), "--workload", "web", "--stack", "staging", "-o", "-"
    )
    assert code == 0, err
    assert "path: /healthcheck.aspx" in out


def test_plan_never_writes_a_plan_its_schema_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lb = az.load_balancer("lb")
    folder = _export(tmp_path, [lb, _web(lb)])
    inventory, plan_file = tmp_path / "inventory.json", tmp_path / "plan.json"
    assert _run(capsys, "inventory", "--from-export", str(folder), "-o", str(inventory))[0] == 0
    real = build_plan

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:  # a planner bug, simulated
        plan = real(*args, **kwargs)
        plan["workloads"][0]["aws"]["healthCheck"]["path"] = "healthcheck.aspx"
        return plan

    monkeypatch.setattr("migrate.cli.build_plan", broken)
    code, _, err = _run(capsys, "plan", str(inventory), "-o", str(plan_file))

    assert code == 70
    assert "$.workloads[0].aws.healthCheck.path" in err and err.count("\n") == 1
    assert not plan_file.exists()


# -- 2. instance mix ------------------------------------------------------------------------------

MIX = ["Standard_D2as_v4", "Standard_D2as_v5", "Standard_D2s_v5"]


@pytest.mark.parametrize(
    ("azure", "on_demand", "spot"),
    [
        ("LowestPrice", "lowest-price", "lowest-price"),
        ("CapacityOptimized", "prioritized", "capacity-optimized"),
    ],
)
def test_a_scale_set_of_several_sizes_plans_a_mixed_instances_group(
    tmp_path: Path, azure: str, on_demand: str, spot: str
) -> None:
    profile = {"vmSizes": [{"name": s} for s in MIX], "allocationStrategy": azure}
    lb = az.load_balancer("lb")
    plan = _plan(tmp_path, [lb, _web(lb, sku_profile=profile)])

    web = _workload(plan, "web")
    assert web["azure"]["vmSizes"] == MIX
    types = web["aws"]["instanceTypes"]
    assert types[0] == web["aws"]["instanceType"] and len(types) == len(set(types)) >= 2
    strategy = web["aws"]["allocationStrategy"]
    assert (strategy["azure"], strategy["onDemand"], strategy["spot"]) == (azure, on_demand, spot)
    assert strategy["reason"]
    assert not any("Mix" in s["reason"] for s in plan["skipped"])


def test_a_mixed_instances_plan_becomes_fleet_instance_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = {"vmSizes": [{"name": s} for s in MIX], "allocationStrategy": "CapacityOptimized"}
    lb = az.load_balancer("lb")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(_plan(tmp_path, [lb, _web(lb, sku_profile=profile)])))
    aws = json.loads(plan_file.read_text())["workloads"][0]["aws"]

    code, out, err = _run(
        capsys, "stack-config", str(plan_file), "--workload", "web", "--stack", "staging", "-o", "-"
    )
    assert code == 0, err
    for instance_type in aws["instanceTypes"]:
        assert instance_type in out
    assert "capacity-optimized" in err  # what infra's policy does differently is said


def test_the_strategies_stack_config_names_are_the_ones_infra_builds() -> None:
    """What stack-config compares a plan with is what the program's group declares."""
    from preview.cli import evaluate_stack
    from stack.config import ON_DEMAND_ALLOCATION_STRATEGY, SPOT_ALLOCATION_STRATEGY

    evaluation = evaluate_stack("production", None)
    (group,) = [r for r in evaluation.resources if r.type == "aws:autoscaling/group:Group"]
    policy = group.inputs["mixedInstancesPolicy"]["instancesDistribution"]
    assert policy["onDemandAllocationStrategy"] == ON_DEMAND_ALLOCATION_STRATEGY
    assert policy["spotAllocationStrategy"] == SPOT_ALLOCATION_STRATEGY


# -- 3. automatic zone placement ------------------------------------------------------------------


def test_automatic_zone_placement_carries_the_included_zones(tmp_path: Path) -> None:
    lb = az.load_balancer("lb")
    placement = {"zonePlacementPolicy": "Auto", "includeZones": ["1", "2"]}
    web = _workload(_plan(tmp_path, [lb, _web(lb, placement=placement)]), "web")
    assert web["azure"]["zones"] == ["1", "2"]
    assert web["azure"]["zonePlacement"]["policy"] == "Auto"
    assert any("zonePlacementPolicy Auto" in w for w in web["warnings"])


def test_automatic_zone_placement_with_excluded_zones_says_how_many(tmp_path: Path) -> None:
    lb = az.load_balancer("lb")
    placement = {"zonePlacementPolicy": "Auto", "excludeZones": ["3"]}
    web = _workload(_plan(tmp_path, [lb, _web(lb, placement=placement)]), "web")
    zone_placement = web["azure"]["zonePlacement"]
    assert zone_placement["excludeZones"] == ["3"] and zone_placement["availabilityZones"] == 2
    assert any("excluding zone 3" in w and "2 availability zones" in w for w in web["warnings"])


# -- 4. and 5. gateway load balancers -------------------------------------------------------------


def test_a_gateway_load_balancer_is_never_planned_as_a_plain_nlb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = az.gateway_provider_lb("lb-nva")
    nva = az.scale_set("vmss-nva", pools=[f"{provider['id']}/backendAddressPools/be-lb"])
    plan = _plan(tmp_path, [provider, nva])

    workload = _workload(plan, "nva")
    assert workload["aws"]["loadBalancerType"] is None
    reason = _skipped(plan, provider["id"])
    assert "Gateway Load Balancer" in reason and "GENEVE" in reason and "VXLAN" in reason
    warning = next(w for w in workload["warnings"] if "Gateway Load Balancer" in w)
    assert findings.warning_severity(warning) == findings.BLOCKER
    assert not any("no load balancer in Azure" in w for w in workload["warnings"])

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    code, _, err = _run(
        capsys, "stack-config", str(plan_file), "--workload", "nva", "--stack", "staging", "-o", "-"
    )
    assert code == 2 and "Gateway Load Balancer" in err


def test_a_frontend_chained_to_a_gateway_load_balancer_says_traffic_passes_appliances(
    tmp_path: Path,
) -> None:
    provider, consumer = az.gateway_provider_lb("lb-nva"), az.gateway_consumer_lb("lb", "lb-nva")
    nva = az.scale_set("vmss-nva", pools=[f"{provider['id']}/backendAddressPools/be-lb"])
    plan = _plan(tmp_path, [provider, consumer, nva, _web(consumer)])

    web = _workload(plan, "web")
    assert web["aws"]["loadBalancerType"] == "network"
    chained = next(w for w in web["warnings"] if "appliances" in w)
    assert "lb-nva" in chained and "Gateway Load Balancer endpoint" in chained
    assert findings.warning_severity(chained) == findings.ACTION


# -- 6. cross-region load balancers ---------------------------------------------------------------


def test_a_global_load_balancer_is_recognised_and_its_regional_balancers_planned(
    tmp_path: Path,
) -> None:
    regional = az.load_balancer("regional-lb")
    glb = az.global_lb("glb", ["regional-lb", "regional-lb-westus"])
    plan = _plan(tmp_path, [regional, glb, _web(regional)])

    web = _workload(plan, "web")
    assert web["azure"]["loadBalancers"] == [regional["id"]]
    reason = _skipped(plan, glb["id"])
    assert "without any backend member" not in reason
    assert "Global Accelerator" in reason and "regional-lb" in reason
    assert "regional-lb-westus" in reason and "not in the inventory" in reason
    assert any("glb" in w and "Global Accelerator" in w for w in web["warnings"])


# -- 7. outbound rules ----------------------------------------------------------------------------


def test_outbound_rules_say_what_the_aws_side_needs_for_egress(tmp_path: Path) -> None:
    pip = f"{az.NET}/publicIPAddresses/lb-pip"
    lb = az.load_balancer("lb", frontend=az.public_frontend(pip))
    lb["properties"]["outboundRules"] = [az.outbound_rule(lb["id"])]
    web = _workload(_plan(tmp_path, [lb, _web(lb)]), "web")
    egress = next(w for w in web["warnings"] if "outbound rule" in w)
    assert "NAT gateway" in egress and "10000" in egress


# -- 8. inbound NAT pools -------------------------------------------------------------------------


def test_a_fleet_reached_only_through_an_inbound_nat_pool_names_that_balancer(
    tmp_path: Path,
) -> None:
    lb = az.load_balancer("lb", rules=[], probes=[])
    lb["properties"]["inboundNatPools"] = [az.inbound_nat_pool(lb["id"])]
    ss = az.scale_set("vmss-web", nat_pools=[f"{lb['id']}/inboundNatPools/natpool"])
    plan = _plan(tmp_path, [lb, ss])

    web = _workload(plan, "web")
    assert web["azure"]["loadBalancers"] == [lb["id"]]
    assert not any("no load balancer in Azure" in w for w in web["warnings"])
    nat = next(w for w in web["warnings"] if "natpool" in w)
    assert "SSM Session Manager" in nat and "3360-3362" in nat
    assert not any(s["id"] == lb["id"] for s in plan["skipped"])


# -- 9. application gateway rewrites and JWT validation -------------------------------------------


def _gateway_estate(jwt: bool = True) -> list[dict[str, Any]]:
    return [
        az.application_gateway(jwt=jwt),
        az.vm("shop-1", f"{az.NET}/networkInterfaces/shop-1-nic"),
        az.vm("shop-2", f"{az.NET}/networkInterfaces/shop-2-nic"),
        az.nic("shop-1-nic", "shop-1", "10.0.1.1"),
        az.nic("shop-2-nic", "shop-2", "10.0.1.2"),
    ]


def test_gateway_rewrites_map_to_alb_features_or_the_application(tmp_path: Path) -> None:
    shop = _workload(_plan(tmp_path, _gateway_estate(jwt=False)), "appgw")
    rewrites = [w for w in shop["warnings"] if "rewrite" in w]
    text = " | ".join(rewrites)
    assert "X-Forwarded-For" in text and "X-Tenant" in text and "X-Powered-By" in text
    assert "Strict-Transport-Security" in text and "/abc" in text
    by_header = {h: next(w for w in rewrites if h in w) for h in ("X-Forwarded-For", "X-Tenant")}
    assert "ALB adds" in by_header["X-Forwarded-For"]
    assert "application" in by_header["X-Tenant"]
    assert any("url-rewrite" in w for w in rewrites)


def test_entra_jwt_validation_on_a_routing_rule_is_a_blocker_until_alb_verifies_it(
    tmp_path: Path,
) -> None:
    shop = _workload(_plan(tmp_path, _gateway_estate()), "appgw")
    jwt = next(w for w in shop["warnings"] if "JWT" in w)
    assert findings.warning_severity(jwt) == findings.BLOCKER
    assert "70a036f6-8e4d-4615-bad6-149c02e7720d" in jwt and "JWKS" in jwt
    assert "security regression" in jwt


# -- 10. every resource accounted for -------------------------------------------------------------


def test_every_network_interface_and_public_ip_is_accounted_for(tmp_path: Path) -> None:
    lb_pip = az.public_ip("lb-pip", f"{az.lb_id('lb')}/frontendIPConfigurations/fe-lb")
    lb = az.load_balancer("lb", frontend=az.public_frontend(lb_pip["id"]))
    shop_ipc = f"{az.NET}/networkInterfaces/shop-1-nic/ipConfigurations/ipconfig1"
    vm_pip = az.public_ip("shop-1-pip", shop_ipc)
    loose = az.public_ip("unused-pip", None)
    orphan_nic = az.nic("orphan-nic", "gone", "10.0.9.9")
    estate = [lb, _web(lb), *_gateway_estate(), lb_pip, vm_pip, loose, orphan_nic]
    plan = _plan(tmp_path, estate)

    used = {
        r["id"].lower(): (w["name"], r["usedBy"])
        for w in plan["workloads"]
        for r in w["azure"].get("networkResources", [])
    }
    shop_1 = f"{az.RG}/Microsoft.Compute/virtualMachines/shop-1"
    assert used[f"{az.NET}/networkInterfaces/shop-1-nic".lower()] == ("appgw", shop_1)
    assert used[vm_pip["id"].lower()] == ("appgw", shop_1)
    assert used[lb_pip["id"].lower()] == ("web", lb["id"])
    assert "attached to nothing" in _skipped(plan, loose["id"])
    assert _skipped(plan, orphan_nic["id"])


# -- over any export ------------------------------------------------------------------------------


def _every_shape() -> list[dict[str, Any]]:
    """One estate holding every documented shape above, side by side."""
    lb_pip = az.public_ip("lb-pip", f"{az.lb_id('lb-public')}/frontendIPConfigurations/fe-lb")
    public = az.load_balancer("lb-public", frontend=az.public_frontend(lb_pip["id"]))
    public["properties"]["outboundRules"] = [az.outbound_rule(public["id"])]
    provider, consumer = az.gateway_provider_lb("lb-nva"), az.gateway_consumer_lb("lb", "lb-nva")
    regional, glb = az.load_balancer("regional-lb"), az.global_lb("glb", ["regional-lb"])
    nat = az.load_balancer("lb-nat", rules=[], probes=[])
    nat["properties"]["inboundNatPools"] = [az.inbound_nat_pool(nat["id"])]
    mix = {"vmSizes": [{"name": s} for s in MIX], "allocationStrategy": "CapacityOptimized"}
    return [
        public, provider, consumer, regional, glb, nat, lb_pip,
        az.scale_set("vmss-public", pools=[f"{public['id']}/backendAddressPools/be-lb"]),
        az.scale_set("vmss-nva", pools=[f"{provider['id']}/backendAddressPools/be-lb"]),
        az.scale_set("vmss-web", pools=[f"{consumer['id']}/backendAddressPools/be-lb"],
                     sku_profile=mix),
        az.scale_set("vmss-regional", pools=[f"{regional['id']}/backendAddressPools/be-lb"],
                     placement={"zonePlacementPolicy": "Auto", "excludeZones": ["3"]}),
        az.scale_set("vmss-nat", nat_pools=[f"{nat['id']}/inboundNatPools/natpool"]),
        az.public_ip("unused-pip", None),
        *_gateway_estate(),
    ]  # fmt: skip


def test_every_documented_shape_plans_a_valid_plan_that_accounts_for_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.migrate.conftest import SAMPLE

    folder = _export(tmp_path, _every_shape())
    for sample in SAMPLE.rglob("*.json"):
        (folder / f"sample-{sample.parent.name}-{sample.name}").write_text(sample.read_text())
    inventory, plan_file = tmp_path / "inventory.json", tmp_path / "plan.json"
    assert _run(capsys, "inventory", "--from-export", str(folder), "-o", str(inventory))[0] == 0
    code, _, err = _run(capsys, "plan", str(inventory), "-o", str(plan_file))
    assert code == 0, err

    plan = json.loads(plan_file.read_text())
    assert schemas.problems(plan, "plan") == []
    inv = json.loads(inventory.read_text())
    planned = {
        r.lower()
        for w in plan["workloads"]
        for r in [*w["azure"]["ids"], *w["azure"]["loadBalancers"]]
        + [n["id"] for n in w["azure"].get("networkResources", [])]
        + w["azure"].get("autoscaleSettings", [])
    }
    skipped = {s["id"].lower() for s in plan["skipped"]}
    every = [
        r["id"]
        for key in ("vms", "scaleSets", "autoscale", "loadBalancers", "otherResources",
                    "networkInterfaces", "publicIps")
        for r in inv.get(key, [])
    ]  # fmt: skip
    assert [r for r in every if r.lower() not in planned | skipped] == []
    machines = [r["id"].lower() for r in inv["vms"] + inv["scaleSets"]]
    sized = [m for m in machines if m in planned]
    assert len(sized) >= 0.99 * len(machines)
    for w in plan["workloads"]:  # internal stays internal
        frontend = (w["aws"].get("loadBalancer") or {}).get("schemeReason", "")
        if "only a private IP" in frontend:
            assert w["aws"]["loadBalancer"]["scheme"] == "internal"
    for fmt in ("md", "html", "csv", "json"):
        code, out, err = _run(capsys, "report", str(plan_file), "--format", fmt)
        assert code == 0 and "Traceback" not in err, err
    for w in plan["workloads"]:
        if w["aws"].get("gatewayLoadBalancer"):
            continue
        args = ["stack-config", str(plan_file), "--workload", w["name"], "--stack", "staging"]
        code, _, err = _run(capsys, *args, "-o", "-")
        blocked = findings.status(findings.workload_findings(w)) == "blocked"
        if blocked:  # refused unless --force (issue 22); forced, infra accepts what is written
            assert code == 1 and "is blocked" in err, f"{w['name']}: {err}"
            code, _, err = _run(capsys, *args, "-o", "-", "--force")
        assert code == 0, f"{w['name']}: {err}"


def test_each_new_finding_is_reported_with_its_severity_blockers_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(_plan(tmp_path, _every_shape())))
    markers = {
        "a plain NLB would bypass the appliances": findings.BLOCKER,
        "authentication at the edge is dropped": findings.BLOCKER,
        "passes through the appliances": findings.ACTION,
        "Global Accelerator": findings.ACTION,
        "SNAT egress": findings.ACTION,
        "inbound NAT pool natpool": findings.ACTION,
        "an ALB cannot set request headers": findings.ACTION,
        "zonePlacementPolicy Auto": findings.NOTE,
        "planned as a mixed-instances group": findings.NOTE,
        "adjusted to '/healthcheck.aspx'": findings.NOTE,
    }
    reports = {
        fmt: _run(capsys, "report", str(plan_file), "--format", fmt)[1]
        for fmt in ("md", "html", "csv", "json")
    }
    body = json.loads(reports["json"])
    order = [findings.SEVERITIES.index(f["severity"]) for f in body["findings"]]
    assert order == sorted(order)
    for marker, severity in markers.items():
        found = [
            f for f in body["findings"] if marker in f["text"] and not f["subject"].startswith("/")
        ]
        assert found and {f["severity"] for f in found} == {severity}, marker
        assert marker in reports["md"] and marker in reports["csv"], marker
        assert marker.replace("'", "&#x27;") in reports["html"], marker
    assert "blocker: " in reports["csv"]  # the CSV names each finding's severity
