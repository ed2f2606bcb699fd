"""Benchmark of the assessment (issue 23): live metrics for many VMs, and performance sizing.

1. ``inventory --metrics`` for ``--vms`` VMs (default 10,000; 20 subscriptions, one region)
   through the real MetricsClient against the fake Azure Monitor (tests/migrate/fake_metrics.py)
   in its own process, ``--latency`` per request (default 50 ms), ``--days`` of hourly points for
   the six metrics. Bound: batch calls x latency / allowed concurrency (``--max-workers``).
2. ``plan`` with performance sizing for ``--plan-vms`` VMs (default 100,000) in groups of 10 by
   tag, each with a utilization summary (built in memory, as an inventory.json would load).

Run: ``.venv/bin/python bench/bench_assess.py [--vms N] [--days D] [--plan-vms N]``.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
from datetime import timedelta
from multiprocessing import Pipe, Process
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrate import catalog  # noqa: E402
from migrate.model import Inventory, MetricSummary, Utilization, VirtualMachine  # noqa: E402
from migrate.plan import PlanOptions, build_plan  # noqa: E402
from migrate.sources.live import AzureConnection  # noqa: E402
from migrate.sources.metrics_live import BATCH_LIMIT, MetricsReader, batches  # noqa: E402
from tests.migrate.fake_arm import FakeCredential, PlainHttpBearerPolicy  # noqa: E402
from tests.migrate.fake_metrics import FakeMonitor  # noqa: E402
from tests.migrate.metrics_bodies import START, az_metrics_body  # noqa: E402

REGION = "westeurope"
SUBSCRIPTIONS = 20


def _sub(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def _vm_id(i: int) -> str:
    sub = _sub(i % SUBSCRIPTIONS)
    return (
        f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i}"
    )


def serve(latency: float, days: int, conn) -> None:  # noqa: ANN001 (a multiprocessing Connection)
    template = az_metrics_body(_vm_id(0), cpu_p95=20, memory_gib=16, days=days, region=REGION)
    with FakeMonitor(latency=latency, template=template) as server:
        conn.send(server.url)
        conn.recv()  # until the parent is done


def inventory_bench(args: argparse.Namespace) -> None:
    parent, child = Pipe()
    process = Process(target=serve, args=(args.latency, args.days, child), daemon=True)
    process.start()
    url = parent.recv()
    inventory = Inventory(
        vms=[VirtualMachine(_vm_id(i), f"vm-{i}", REGION, "Standard_D4s_v5", "bench")
             for i in range(args.vms)]
    )  # fmt: skip
    credential = FakeCredential()
    connection = AzureConnection(
        credential=credential,
        client_kwargs={"authentication_policy": PlainHttpBearerPolicy(credential)},
    )
    calls = len(batches(inventory))
    bound = math.ceil(calls / args.max_workers) * args.latency
    end = START + timedelta(days=args.days)
    for run in range(args.repeat):
        reader = MetricsReader(
            connection, args.days, endpoint=lambda r: f"{url}/{r}",
            max_workers=args.max_workers, now=end,
        )  # fmt: skip
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = reader.read(inventory)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        assert len(report.utilization) == args.vms, report.notes[:3]
        print(
            f"inventory --metrics run {run + 1}: {args.vms} VMs, {args.days} days, {calls} batch "
            f"calls (<= {BATCH_LIMIT} each), {args.max_workers} in parallel, "
            f"{args.latency * 1000:.0f} ms latency: wall {wall:.2f} s, CPU {cpu:.2f} s, "
            f"bound {bound:.2f} s, ratio {wall / bound:.2f}"
        )
    parent.send("done")
    process.join(5)


def _summary(name: str, p95: float, hours: int) -> MetricSummary:
    return MetricSummary(
        name=name,
        unit="Percent" if name == "Percentage CPU" else "Bytes",
        aggregation="Maximum",
        points=hours,
        percentiles={f"p{p}": p95 * p / 95 for p in (1, 5, 50, 90, 95, 99)},
        maximum=p95 * 1.1,
        minimum=p95 * 0.01,
        mean=p95 / 2,
        daily=[p95] * 30,
    )


def plan_bench(args: argparse.Namespace) -> None:
    rng = random.Random(23)
    sizes = ["Standard_D4s_v5", "Standard_D8s_v5", "Standard_E4as_v5", "Standard_F8s_v2",
             "Standard_D4ps_v5", "Standard_D16s_v5"]  # fmt: skip
    known = catalog.azure_sizes()
    inventory = Inventory(vm_sizes={s: known[s.lower()] for s in sizes})
    hours = 720
    for i in range(args.plan_vms):
        group = i // 10
        size = sizes[group % len(sizes)]
        vm = VirtualMachine(_vm_id(i), f"vm-{i}", REGION, size, "bench",
                            tags={"workload": f"app-{group}"}, os_type="Linux")  # fmt: skip
        inventory.vms.append(vm)
        memory_gib = known[size.lower()].memory_gb
        available = memory_gib * (1 - rng.uniform(0.2, 0.8)) * 1024**3
        inventory.utilization.append(
            Utilization(
                resource_id=vm.id,
                source="bench",
                start="2026-11-01T00:00:00Z",
                end="2026-12-01T00:00:00Z",
                points_expected=hours,
                metrics=[
                    _summary(
                        "Percentage CPU", rng.uniform(3, 95), 48 if rng.random() < 0.01 else hours
                    ),
                    _summary("Available Memory Bytes", available, hours),
                ],
            )
        )
    for label, options in (("as-is", PlanOptions(sizing="as-is")), ("performance", PlanOptions())):
        started = time.perf_counter()
        plan = build_plan(inventory, options)
        took = time.perf_counter() - started
        resized = sum(
            1 for w in plan["workloads"] if w["aws"].get("sizing", {}).get("basis") == "performance"
        )
        print(
            f"plan --sizing {label}: {args.plan_vms} VMs, {len(plan['workloads'])} workloads "
            f"({resized} sized from performance): {took:.2f} s"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--max-workers", type=int, default=8, help="parallel batch calls")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--plan-vms", type=int, default=100_000)
    parser.add_argument("--skip-inventory", action="store_true")
    parser.add_argument("--skip-plan", action="store_true")
    args = parser.parse_args()
    if not args.skip_plan:
        plan_bench(args)
    if not args.skip_inventory:
        inventory_bench(args)


if __name__ == "__main__":
    main()
