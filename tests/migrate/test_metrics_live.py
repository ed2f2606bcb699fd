"""Live metrics through the real clients (azure-monitor-querymetrics MetricsClient,
azure-mgmt-monitor) against the fake Azure Monitor on 127.0.0.1 (tests/migrate/fake_metrics.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from migrate.errors import MigrateError
from migrate.model import Inventory, VirtualMachine
from migrate.plan import build_plan
from migrate.sources.export import load_export
from migrate.sources.metrics import summarize, summarize_batch
from migrate.sources.metrics_live import (
    _BYTES_PER_METRIC,
    _BYTES_PER_POINT,
    BATCH_LIMIT,
    LIVE_METRICS,
    MetricsReader,
    batches,
    read_metrics,
)
from tests.migrate.conftest import SAMPLE, connection_for
from tests.migrate.fake_metrics import FakeMonitor
from tests.migrate.metrics_bodies import az_metrics_body

# The sample's metrics cover 2026-11-01 to 2026-11-15.
SAMPLE_END = datetime(2026, 11, 15, tzinfo=UTC)
SUB = "22222222-3333-4444-8555-666666666666"
VM_PROVIDER = "providers/Microsoft.Compute/virtualMachines"


@pytest.fixture
def monitor() -> Iterator[FakeMonitor]:
    with FakeMonitor() as server:
        yield server


def _without_metrics() -> Inventory:
    inventory = load_export(SAMPLE)
    inventory.utilization = []
    return inventory


def _summaries(inventory: Inventory) -> list[dict[str, Any]]:
    body = inventory.to_json()["utilization"]
    for u in body:
        u.pop("source")
    return sorted(body, key=lambda u: u["resourceId"].lower())


def test_batch_metrics_of_the_sample_equal_its_az_exports(monitor: FakeMonitor) -> None:
    monitor.add_export_folder(SAMPLE)
    inventory = _without_metrics()

    report = read_metrics(
        inventory, connection_for(monitor), days=14, endpoint=monitor.endpoint, now=SAMPLE_END
    )

    assert _summaries(inventory) == _summaries(load_export(SAMPLE))
    assert report.fallback_calls == 0
    assert [n.split(": ")[1].rsplit("/", 1)[-1] for n in report.notes] == ["vm-legacy-01"]
    # one call per (subscription, region, namespace): prod VMs, prod scale sets, legacy VMs
    assert sorted(n for kind, n, status in monitor.log if kind == "batch") == [1, 2, 6]


def _estate(monitor: FakeMonitor, count: int, regions: tuple[str, ...]) -> Inventory:
    inventory = Inventory()
    for i in range(count):
        region = regions[i % len(regions)]
        rid = f"/subscriptions/{SUB}/resourceGroups/rg/{VM_PROVIDER}/vm-{i}"
        inventory.vms.append(VirtualMachine(rid, f"vm-{i}", region, "Standard_D4s_v5", "t"))
        monitor.add(az_metrics_body(rid, cpu_p95=20, memory_gib=16, days=2, region=region, seed=i))
    return inventory


def test_batch_calls_hold_at_most_50_resources_of_one_subscription_and_region(
    monitor: FakeMonitor,
) -> None:
    inventory = _estate(monitor, 130, ("westeurope", "northeurope"))

    read_metrics(
        inventory, connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, tzinfo=UTC),
    )  # fmt: skip

    sizes = sorted(n for kind, n, status in monitor.log if kind == "batch" and status == 200)
    assert sizes == [15, 15, 50, 50] and max(sizes) <= BATCH_LIMIT
    assert len(inventory.utilization) == 130  # the fake refuses mixed regions or subscriptions


def test_the_raw_batch_answer_summarises_as_the_sdk_models_do(monitor: FakeMonitor) -> None:
    inventory = _estate(monitor, 60, ("westeurope",))
    partial, no_memory = inventory.vms[3].id, inventory.vms[4].id
    monitor.add(az_metrics_body(partial, cpu_p95=70, memory_gib=8, days=2, days_present=0.6))
    monitor.add(az_metrics_body(no_memory, cpu_p95=35, days=2, seed=4))
    reader = MetricsReader(
        connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, 5, tzinfo=UTC),
    )  # fmt: skip

    def summaries(raw: bool) -> list[Any]:
        return [
            utilization
            for batch in batches(inventory)
            for utilization in summarize_batch(
                reader.query(batch) if raw else reader.query_models(batch),
                batch.resource_ids,
                reader.timespan,
            )
        ]

    raw, models = summaries(raw=True), summaries(raw=False)

    assert raw == models and len(raw) == 60
    points = {u.metrics[0].points for u in raw}
    assert points == {48, 14}  # 0.6 of a day present for one VM
    assert {len(u.metrics) for u in raw} == {5, 6}  # one VM without memory


def test_worker_processes_summarise_as_the_threads_do(monitor: FakeMonitor) -> None:
    inventory = _estate(monitor, 130, ("westeurope", "northeurope"))
    now = datetime(2026, 11, 3, tzinfo=UTC)

    def read(processes: int) -> tuple[list[Any], int]:
        reader = MetricsReader(
            connection_for(monitor), days=2, endpoint=monitor.endpoint, now=now, processes=processes
        )
        report = reader.read(inventory)
        return sorted(report.utilization, key=lambda u: u.resource_id), report.batch_calls

    in_threads, in_processes = read(1), read(2)

    assert in_threads == in_processes and len(in_threads[0]) == 130 and in_threads[1] == 4


def test_an_answer_larger_than_its_shared_slot_reaches_the_processes_too(
    monitor: FakeMonitor,
) -> None:
    # The answers cross to the summarising processes in slots sized per resource, metric and
    # hour; a VM whose CPU comes in 40 time series makes its answer larger than its slot.
    inventory = _estate(monitor, 2, ("westeurope", "northeurope"))  # two calls of one VM
    body = az_metrics_body(inventory.vms[0].id, cpu_p95=20, days=2)
    body["value"][0]["timeseries"] *= 40
    monitor.add(body)
    now = datetime(2026, 11, 3, tzinfo=UTC)

    def read(processes: int) -> list[Any]:
        reader = MetricsReader(
            connection_for(monitor), days=2, endpoint=monitor.endpoint, now=now, processes=processes
        )
        return sorted(reader.read(inventory).utilization, key=lambda u: u.resource_id)

    in_threads, in_processes = read(1), read(2)

    assert in_threads == in_processes and len(in_threads) == 2
    slot = len(LIVE_METRICS) * (48 * _BYTES_PER_POINT + _BYTES_PER_METRIC)
    assert len(json.dumps(body, separators=(",", ":"))) > slot


@pytest.mark.parametrize("processes", [1, 2])
def test_a_malformed_answer_names_the_resource(monitor: FakeMonitor, processes: int) -> None:
    inventory = _estate(monitor, 60, ("westeurope",))
    broken = inventory.vms[55].id
    body = az_metrics_body(broken, cpu_p95=20, days=2)
    body["value"][0]["timeseries"][0]["data"][3]["timeStamp"] = "yesterday"
    monitor.add(body)
    reader = MetricsReader(
        connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, tzinfo=UTC), processes=processes,
    )  # fmt: skip

    with pytest.raises(MigrateError, match=f"azure-monitor-batch:{broken}: 'yesterday' is not"):
        reader.read(inventory)


def test_throttled_batch_calls_are_retried_after_retry_after(monitor: FakeMonitor) -> None:
    monitor.add_export_folder(SAMPLE)
    monitor.throttle(2, retry_after="1")
    inventory = _without_metrics()

    started = datetime.now(UTC)
    read_metrics(
        inventory, connection_for(monitor), days=14, endpoint=monitor.endpoint, now=SAMPLE_END,
        max_workers=1,
    )  # fmt: skip

    statuses = [status for kind, _, status in monitor.log if kind == "batch"]
    assert statuses[:2] == [429, 429] and statuses.count(200) == 3
    assert (datetime.now(UTC) - started).total_seconds() >= 2  # Retry-After honoured
    assert _summaries(inventory) == _summaries(load_export(SAMPLE))


@pytest.mark.parametrize("refused", [False, True])
def test_the_calls_ask_only_the_aggregations_the_summaries_read(
    monitor: FakeMonitor, refused: bool
) -> None:
    # Azure answers every aggregation asked for (a third more JSON per aggregation): the calls
    # ask Maximum and Minimum, not Average, and give the summaries of a body holding all three.
    inventory = _estate(monitor, 3, ("westeurope",))
    full = {}
    for vm in inventory.vms:
        body = az_metrics_body(
            vm.id, cpu_p95=40, memory_gib=8, days=2, aggregations=("average", "maximum", "minimum")
        )
        monitor.add(body)
        full[vm.id] = summarize(vm.id, body["value"], body["timespan"], "PT1H", "export")
    if refused:
        monitor.refuse_batch(403)

    read_metrics(
        inventory, connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, tzinfo=UTC),
    )  # fmt: skip

    asked = {frozenset(a.split(",")) for a in monitor.aggregations}
    assert asked == {frozenset({"Maximum", "Minimum"})}
    assert len(monitor.aggregations) == (4 if refused else 1)  # the batch call, then 3 alone
    assert {u.resource_id: u.metrics for u in inventory.utilization} == {
        rid: u.metrics for rid, u in full.items()
    }
    memory = [m for u in inventory.utilization for m in u.metrics if m.name.startswith("Avail")]
    assert {m.aggregation for m in memory} == {"Minimum"}


def test_a_refused_batch_api_falls_back_to_the_per_resource_api(monitor: FakeMonitor) -> None:
    monitor.add_export_folder(SAMPLE)
    monitor.refuse_batch(403)
    inventory = _without_metrics()

    report = read_metrics(
        inventory, connection_for(monitor), days=14, endpoint=monitor.endpoint, now=SAMPLE_END
    )

    assert report.fallback_calls == 9  # vm-legacy-01 has no metrics: 404, a note
    assert [kind for kind, _, status in monitor.log if status == 200] == ["resource"] * 8
    assert any("vm-legacy-01: 404" in n for n in report.notes)
    assert any("batch API refused (403)" in n for n in report.notes)
    assert _summaries(inventory) == _summaries(load_export(SAMPLE))


def test_throttling_beyond_the_retries_leaves_those_resources_as_is(monitor: FakeMonitor) -> None:
    monitor.add_export_folder(SAMPLE)
    monitor.throttle(100, retry_after="0")
    inventory = _without_metrics()

    report = read_metrics(
        inventory, connection_for(monitor, retry_total=1), days=14, endpoint=monitor.endpoint,
        now=SAMPLE_END,
    )  # fmt: skip

    assert inventory.utilization == [] and len(report.notes) == 3
    assert all("429" in n and "planned as-is" in n for n in report.notes)
    plan = build_plan(inventory)
    assert all("performance" not in w["aws"] for w in plan["workloads"])


def test_partial_data_gives_low_confidence_and_a_resource_without_data_stays_as_is(
    monitor: FakeMonitor,
) -> None:
    inventory = _estate(monitor, 2, ("westeurope",))
    # vm-0 has 12 of 48 hours; vm-1 has no metrics at all
    first = inventory.vms[0].id
    monitor.add(az_metrics_body(first, cpu_p95=10, memory_gib=16, days=2, days_present=0.5))
    monitor.bodies.pop(inventory.vms[1].id.lower())
    for vm in inventory.vms:
        vm.tags = {"workload": vm.name}
    inventory.vm_sizes["Standard_D4s_v5"] = load_export(SAMPLE).vm_sizes["Standard_D4s_v5"]

    read_metrics(
        inventory, connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, tzinfo=UTC),
    )  # fmt: skip
    plan = {
        w["azure"]["ids"][0].rsplit("/", 1)[-1]: w["aws"]
        for w in build_plan(inventory)["workloads"]
    }

    assert plan["vm-0"]["performance"]["confidence"] == 2  # 12 of 48 points: 25 %
    assert plan["vm-0"]["performance"]["basis"] == "as-is"
    assert "performance" not in plan["vm-1"]
    assert any("vm-1: no data point in the period; planned as-is" in n for n in inventory.notes)


def test_inventory_cli_refuses_metrics_with_an_export(capsys: pytest.CaptureFixture) -> None:
    from migrate.cli import main

    assert main(["inventory", "--from-export", str(SAMPLE), "--metrics", "-o", "-"]) == 2
    assert "put `az monitor metrics list` files in the export" in capsys.readouterr().err


def test_the_fake_refuses_resources_of_two_regions_in_one_call(monitor: FakeMonitor) -> None:
    inventory = _estate(monitor, 2, ("westeurope", "northeurope"))
    for vm in inventory.vms:  # lie about the location: one batch, two real regions
        vm.location = "westeurope"

    report = read_metrics(
        inventory, connection_for(monitor), days=2, endpoint=monitor.endpoint,
        now=datetime(2026, 11, 3, tzinfo=UTC),
    )  # fmt: skip

    assert inventory.utilization == [] and "not in region westeurope" in report.notes[0]
