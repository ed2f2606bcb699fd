"""Performance-based sizing from `az monitor metrics list` exports (migrate/performance.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrate import catalog
from migrate.cli import main
from migrate.errors import MigrateError
from migrate.performance import PerformanceOptions, confidence
from migrate.plan import PlanOptions, build_plan
from migrate.sources.export import load_export
from migrate.sources.metrics import CPU, metric
from tests.migrate.metrics_bodies import az_metrics_body

SUB = "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-app"


def _vm(name: str, size: str, os_type: str = "Linux") -> dict[str, Any]:
    return {
        "id": f"{SUB}/providers/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "location": "westeurope",
        "tags": {"workload": name},
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {"osDisk": {"osType": os_type}},
        "networkProfile": {"networkInterfaces": []},
    }


def _estate(tmp_path: Path, vms: list[tuple[str, str, float, float | None]]) -> Path:
    """(name, size, P95 CPU, days present of 30) -> an export folder with metrics."""
    sizes = catalog.azure_sizes()
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "az-vm-list.json").write_text(json.dumps([_vm(n, s) for n, s, _, _ in vms]))
    for i, (name, size, cpu, days) in enumerate(vms):
        rid = f"{SUB}/providers/Microsoft.Compute/virtualMachines/{name}"
        body = az_metrics_body(
            rid, cpu_p95=cpu, memory_gib=sizes[size.lower()].memory_gb, used_memory_p95=0.3,
            days_present=days, seed=i,
        )  # fmt: skip
        (tmp_path / f"metrics-{name}.json").write_text(json.dumps(body))
    return tmp_path


def _by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in plan["workloads"]}


def _vcpus(instance_type: str) -> int:
    found = catalog.ec2_type(instance_type)
    assert found is not None
    return found.vcpus


def test_a_vm_at_p95_cpu_10_percent_on_8_vcpus_is_planned_on_fewer_vcpus(tmp_path: Path) -> None:
    plan = build_plan(load_export(_estate(tmp_path, [("idle", "Standard_D8s_v5", 10.0, None)])))
    idle = _by_name(plan)["idle"]["aws"]

    assert idle["sizing"]["asIs"] == "m7i.2xlarge" and _vcpus(idle["sizing"]["asIs"]) == 8
    assert _vcpus(idle["instanceType"]) < 8
    assert idle["performance"]["basis"] == "performance"
    assert idle["performance"]["cpuPercent"] == pytest.approx(10.0)
    assert idle["performance"]["confidence"] == 5
    assert "instead of as-is m7i.2xlarge" in idle["sizingRationale"]


def test_a_vm_at_p95_cpu_90_percent_keeps_at_least_its_vcpus(tmp_path: Path) -> None:
    plan = build_plan(load_export(_estate(tmp_path, [("busy", "Standard_D8s_v5", 90.0, None)])))
    busy = _by_name(plan)["busy"]["aws"]

    assert busy["performance"]["basis"] == "performance"
    assert _vcpus(busy["instanceType"]) >= 8
    assert busy["performance"]["requiredVcpus"] == 10  # 90 % x 8 x 1.3 = 9.36


def test_two_days_of_data_give_low_confidence_and_as_is_sizing(tmp_path: Path) -> None:
    plan = build_plan(load_export(_estate(tmp_path, [("new", "Standard_D8s_v5", 10.0, 2)])))
    new = _by_name(plan)["new"]

    assert new["aws"]["instanceType"] == new["aws"]["sizing"]["asIs"] == "m7i.2xlarge"
    perf = new["aws"]["performance"]
    assert perf["basis"] == "as-is" and perf["confidence"] == 1
    assert (perf["pointsPresent"], perf["pointsExpected"]) == (48, 720)
    assert "only 2.0 days of data" in perf["reason"]
    assert any("performance sizing not applied" in x for x in new["warnings"])


@pytest.mark.parametrize(
    ("share", "stars"), [(0.0, 1), (0.2, 1), (0.21, 2), (0.4, 2), (0.6, 3), (0.8, 4), (0.81, 5)]
)
def test_confidence_follows_azure_migrate_bands(share: float, stars: int) -> None:
    assert confidence(share) == stars


def test_as_is_sizing_ignores_the_metrics(tmp_path: Path) -> None:
    inventory = load_export(_estate(tmp_path, [("idle", "Standard_D8s_v5", 10.0, None)]))
    plan = build_plan(inventory, PlanOptions(sizing="as-is"))

    assert _by_name(plan)["idle"]["aws"]["instanceType"] == "m7i.2xlarge"
    assert "performance" not in _by_name(plan)["idle"]["aws"]


def test_percentile_and_comfort_factor_are_configurable(tmp_path: Path) -> None:
    inventory = load_export(_estate(tmp_path, [("app", "Standard_D8s_v5", 40.0, None)]))
    tight = PlanOptions(performance=PerformanceOptions(comfort_factor=1.0))
    roomy = PlanOptions(performance=PerformanceOptions(comfort_factor=2.5, percentile=99))

    need_tight = _by_name(build_plan(inventory, tight))["app"]["aws"]["performance"]
    need_roomy = _by_name(build_plan(inventory, roomy))["app"]["aws"]["performance"]
    assert need_tight["requiredVcpus"] == 4  # 40 % x 8 x 1.0 = 3.2
    assert need_roomy["requiredVcpus"] > 8 and need_roomy["percentile"] == 99


def test_a_scale_set_is_never_sized_below_what_its_autoscale_minimum_needs() -> None:
    # The sample's worker: P95 CPU 22 % of 8 vCPU measured at 2 instances, autoscale minimum 1:
    # one instance must carry twice the per-instance load.
    plan = build_plan(load_export(Path("migrate/sample")))
    worker = _by_name(plan)["worker"]["aws"]

    assert (worker["minSize"], worker["desiredCapacity"]) == (1, 2)
    assert worker["performance"]["requiredVcpus"] == 5  # 22 % x 8 x 1.3 x 2 = 4.58
    assert _vcpus(worker["instanceType"]) >= 5


def test_export_summary_keeps_percentiles_and_counts_not_points(tmp_path: Path) -> None:
    inventory = load_export(_estate(tmp_path, [("app", "Standard_D4s_v5", 35.0, 20)]))
    (util,) = inventory.utilization
    cpu = metric(util, CPU)

    assert util.points_expected == 720 and cpu is not None and cpu.points == 480
    assert cpu.aggregation == "Maximum"
    assert set(cpu.percentiles) == {"p1", "p5", "p50", "p90", "p95", "p99"}
    assert cpu.percentiles["p50"] <= cpu.percentiles["p95"] <= cpu.percentiles["p99"]
    assert cpu.maximum >= cpu.percentiles["p99"]
    assert len(cpu.daily) == 30 and cpu.daily[:10] == [None] * 10
    names = {m.name for m in util.metrics}
    assert {"Available Memory Bytes", "Network In Total", "Disk Read Operations/Sec"} <= names
    body = inventory.to_json()
    assert "data" not in json.dumps(body["utilization"])  # no raw points


def test_an_export_of_either_usual_aggregations_gives_the_same_summaries(tmp_path: Path) -> None:
    # `--aggregation Maximum Minimum` (the README's) and the issue's `Average Maximum`: memory
    # is read from its Minimum, else its Average (here the same figures), CPU from its Maximum.
    rid = f"{SUB}/providers/Microsoft.Compute/virtualMachines/app"
    read = {}
    for aggregations in (("maximum", "minimum"), ("average", "maximum")):
        folder = tmp_path / "-".join(aggregations)
        folder.mkdir()
        body = az_metrics_body(rid, cpu_p95=35.0, memory_gib=16, aggregations=aggregations)
        (folder / "metrics-app.json").write_text(json.dumps(body))
        (util,) = load_export(folder).utilization
        read[aggregations[0]] = {m.name: m for m in util.metrics}
    cpu, memory = CPU, "Available Memory Bytes"

    assert [(read[a][cpu].aggregation, read[a][memory].aggregation) for a in read] == [
        ("Maximum", "Minimum"),
        ("Maximum", "Average"),
    ]
    assert read["maximum"][cpu].percentiles["p95"] == 35.0
    # used memory's P95 is half of 16 GiB: available memory's P5 about the other half
    assert read["maximum"][memory].percentiles["p5"] == pytest.approx(8 * 1024**3, rel=0.01)
    for name in read["maximum"]:
        mine, issues = read["maximum"][name], read["average"][name]
        assert (mine.percentiles, mine.daily) == (issues.percentiles, issues.daily), name


def test_a_metrics_export_of_several_resources_is_refused(tmp_path: Path) -> None:
    first = az_metrics_body(f"{SUB}/providers/Microsoft.Compute/virtualMachines/a", cpu_p95=5)
    second = az_metrics_body(f"{SUB}/providers/Microsoft.Compute/virtualMachines/b", cpu_p95=5)
    first["value"] += second["value"]
    (tmp_path / "m.json").write_text(json.dumps(first))

    with pytest.raises(MigrateError, match="metrics of 2 resources; export one resource per file"):
        load_export(tmp_path)


def test_a_metrics_export_with_a_bad_interval_is_refused(tmp_path: Path) -> None:
    body = az_metrics_body(f"{SUB}/providers/Microsoft.Compute/virtualMachines/a", cpu_p95=5)
    body["interval"] = "weekly"
    (tmp_path / "m.json").write_text(json.dumps(body))

    with pytest.raises(MigrateError, match="interval 'weekly' is not understood"):
        load_export(tmp_path)


def test_plan_cli_options_reach_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = _estate(tmp_path / "export", [("idle", "Standard_D8s_v5", 10.0, None)])
    inventory, plan = tmp_path / "inventory.json", tmp_path / "plan.json"
    assert main(["inventory", "--from-export", str(folder), "-o", str(inventory)]) == 0
    args = ["plan", str(inventory), "-o", str(plan), "--no-prices", "--percentile", "99"]
    assert main([*args, "--comfort-factor", "1.5", "--min-history-days", "40"]) == 0

    idle = _by_name(json.loads(plan.read_text()))["idle"]["aws"]
    assert idle["performance"]["percentile"] == 99 and idle["performance"]["comfortFactor"] == 1.5
    assert idle["performance"]["basis"] == "as-is"  # 30 days < the minimum 40
    assert main([*args, "--comfort-factor", "0"]) == 2
    assert "comfort factor must be > 0" in capsys.readouterr().err
