"""Benchmark of the assessment (issue 23): live metrics for many VMs, and performance sizing.

1. ``inventory --metrics`` for ``--vms`` VMs (default 10,000; 20 subscriptions, one region)
   through the real MetricsClient against the fake Azure Monitor (tests/migrate/fake_metrics.py)
   in its own process, ``--latency`` per request (default 50 ms), ``--days`` of hourly points for
   the six metrics. Bound: the batch calls, ``--max-workers`` at a time, x latency, or Azure's
   read quota per subscription when that is longer (the issue's: the goal is 1.3 x it). Beside
   it, a volume-aware bound that this one ignores: the answers' JSON over a ``--link-gbps``
   link (the fake answers over loopback, so the runs do not pay it), and the client's CPU per
   GB of it (one answer parsed and summarised, timed before the runs). The fake renders its
   answers beforehand (``--prerender``, default under 2 GB), so that the runs measure the
   client.
2. ``plan`` with performance sizing for ``--plan-vms`` VMs (default 100,000) in groups of 10 by
   tag, each with a utilization summary (built in memory, as an inventory.json would load).

Run: ``.venv/bin/python bench/bench_assess.py [--vms N] [--days D] [--plan-vms N]``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from multiprocessing import Pipe, Process
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrate import catalog  # noqa: E402
from migrate.model import Inventory, MetricSummary, Utilization, VirtualMachine  # noqa: E402
from migrate.plan import PlanOptions, build_plan  # noqa: E402
from migrate.sources.live import AzureConnection  # noqa: E402
from migrate.sources.metrics import summarize_batch  # noqa: E402
from migrate.sources.metrics_live import (  # noqa: E402
    ARM_READS_BURST,
    ARM_READS_PER_SECOND,
    BATCH_LIMIT,
    LIVE_AGGREGATIONS,
    Batch,
    MetricsReader,
    batches,
    usable_cpus,
)
from tests.migrate.fake_arm import FakeCredential, PlainHttpBearerPolicy  # noqa: E402
from tests.migrate.fake_metrics import FakeMonitor  # noqa: E402
from tests.migrate.metrics_bodies import START, az_metrics_body  # noqa: E402

REGION = "westeurope"
GOAL = 1.3  # issue 23: within 1.3 x the bound
SUBSCRIPTIONS = 20


def _sub(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def _vm_id(i: int) -> str:
    sub = _sub(i % SUBSCRIPTIONS)
    return (
        f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i}"
    )


def _inventory(vms: int) -> Inventory:
    return Inventory(
        vms=[VirtualMachine(_vm_id(i), f"vm-{i}", REGION, "Standard_D4s_v5", "bench")
             for i in range(vms)]
    )  # fmt: skip


def _template(args: argparse.Namespace) -> dict:
    return az_metrics_body(_vm_id(0), cpu_p95=20, memory_gib=16, days=args.days, region=REGION)


def _query(args: argparse.Namespace) -> dict[str, str]:
    """The query parameters of the reader's calls that shape the fake's answers."""
    return {
        "starttime": _iso(START),
        "endtime": _iso(START + timedelta(days=args.days)),
        "aggregation": ",".join(LIVE_AGGREGATIONS),
    }


def serve(args: argparse.Namespace, conn) -> None:  # noqa: ANN001 (a multiprocessing Connection)
    """The fake Azure Monitor, in its own process; with ``--prerender`` every batch answer is
    rendered before the clock starts, so that the runs measure the client, not the fake."""
    with FakeMonitor(latency=args.latency, template=_template(args)) as server:
        rendered, volume, cpu = 0, 0, time.process_time()
        for batch in batches(_inventory(args.vms)):
            ids = list(batch.resource_ids)
            if args.prerender:
                rendered += server.render(ids, _query(args))
            volume += server.templated_size(ids, _query(args))
        conn.send((server.url, rendered, volume, time.process_time() - cpu))
        while conn.recv() == "cpu":  # until the parent is done
            conn.send(time.process_time())


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def bound(work: list[Batch], workers: int, latency: float) -> tuple[float, str]:
    """The time no client can beat: the batch calls, ``workers`` at a time, each ``latency``;
    and Azure's read quota per subscription (a burst, then a refill rate), when it is lower."""
    calls = Counter(b.subscription for b in work)
    waves = math.ceil(len(work) / workers) * latency
    quota = max(max(0, n - ARM_READS_BURST) / ARM_READS_PER_SECOND for n in calls.values())
    why = (
        f"{len(work)} calls / {workers} parallel x {latency * 1000:.0f} ms; quota: at most "
        f"{max(calls.values())} call(s) per subscription against a burst of {ARM_READS_BURST} "
        f"reads, then {ARM_READS_PER_SECOND}/s"
    )
    return max(waves, quota), why


def client_cpu(args: argparse.Namespace, work: list[Batch]) -> tuple[float, float, int]:
    """The client's CPU for one answer of the largest batch (best of 3): orjson's parse alone,
    and the parse and summary (``summarize_batch``, what each answer costs); its size."""
    batch = max(work, key=lambda b: len(b.resource_ids))
    answer = FakeMonitor(template=_template(args)).templated(list(batch.resource_ids), _query(args))
    timespan = f"{_iso(START)}/{_iso(START + timedelta(days=args.days))}"

    def best(run: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            cpu = time.process_time()
            run()
            times.append(time.process_time() - cpu)
        return min(times)

    parse = best(lambda: orjson.loads(answer))
    summary = best(lambda: summarize_batch(answer, batch.resource_ids, timespan))
    return parse, summary, len(answer)


def inventory_bench(args: argparse.Namespace) -> None:
    parent, child = Pipe()
    process = Process(target=serve, args=(args, child), daemon=True)
    process.start()
    url, rendered, volume, render_cpu = parent.recv()
    inventory = _inventory(args.vms)
    credential = FakeCredential()
    connection = AzureConnection(
        credential=credential,
        client_kwargs={"authentication_policy": PlainHttpBearerPolicy(credential)},
    )
    work = batches(inventory)
    limit, why = bound(work, args.max_workers, args.latency)
    points = args.vms * 6 * 24 * args.days
    print(
        f"inventory --metrics: {args.vms} VMs x {args.days} days: {len(work)} batch calls "
        f"(<= {BATCH_LIMIT} resources each), {points / 1e6:.2f} M hourly points; the fake's "
        + (
            f"answers ({rendered / 1e6:.0f} MB) rendered beforehand in {render_cpu:.1f} s"
            if rendered
            else "answers rendered on request (from a template)"
        )
    )
    print(f"bound {limit:.2f} s: {why}")
    link = volume * 8 / (args.link_gbps * 1e9)
    volume_limit = max(limit, link)
    parse, summary, size = client_cpu(args, work)
    cpus = usable_cpus()
    print(
        f"volume-aware bound {volume_limit:.2f} s (beside the issue's, which ignores the data): "
        f"{volume / 1e9:.2f} GB of JSON over a {args.link_gbps:g} Gbit/s link take {link:.2f} s "
        "(the fake answers over loopback: the runs do not pay it); the client's CPU per GB "
        f"{summary / size * 1e9:.1f} s ({parse / size * 1e9:.1f} s of it orjson's parse; one "
        f"{size / 1e6:.1f} MB answer in {summary * 1e3:.1f} ms, gc off), "
        f"{summary / size * volume:.1f} s in all, {summary / size * volume / cpus:.1f} s on "
        f"{cpus} CPUs"
    )
    end = START + timedelta(days=args.days)
    walls, loads = [], []
    for run in range(args.repeat):
        reader = MetricsReader(
            connection, args.days, endpoint=lambda r: f"{url}/{r}",
            max_workers=args.max_workers, now=end, processes=args.processes,
        )  # fmt: skip
        parent.send("cpu")
        server0, load = parent.recv(), os.getloadavg()[0]
        times0, wall0 = os.times(), time.perf_counter()
        report = reader.read(inventory)
        wall, times = time.perf_counter() - wall0, os.times()
        parent.send("cpu")
        server = parent.recv() - server0
        main = sum(times[:2]) - sum(times0[:2])
        workers = sum(times[2:4]) - sum(times0[2:4])  # the summarising processes (joined)
        assert len(report.utilization) == args.vms, report.notes[:3]
        split = (
            f"threads {main:.2f} s, {reader.processes} summarising processes {workers:.2f} s"
            if reader.processes > 1
            else "summarised in the threads"
        )
        print(
            f"  run {run + 1}: wall {wall:.2f} s, ratio {wall / limit:.2f} (to the volume-aware "
            f"bound {wall / volume_limit:.2f}); CPU: client "
            f"{main + workers:.2f} s ({split}), fake server {server:.2f} s; peak RSS {_rss()}; "
            f"load average before {load:.1f} on {os.cpu_count()} CPUs"
        )
        walls.append(wall)
        loads += [load, os.getloadavg()[0]]
    goal = GOAL * limit
    met = sum(w <= goal for w in walls)
    print(
        f"wall {min(walls):.2f}-{max(walls):.2f} s (ratio {min(walls) / limit:.2f}-"
        f"{max(walls) / limit:.2f}) at load averages {min(loads):.1f}-{max(loads):.1f}; goal "
        f"<= {GOAL} x bound = {goal:.3f} s: met in {met} of {len(walls)} run(s); ratio to the "
        f"volume-aware bound {min(walls) / volume_limit:.2f}-{max(walls) / volume_limit:.2f}"
    )
    parent.send("done")
    process.join(5)


def _rss() -> str:
    main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"{main:.0f} MB (a summarising process {worker:.0f} MB)"


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
    print(f"peak RSS {rss:.0f} MB (in memory, the inventory built here)")
    plan_cli(inventory)


def plan_cli(inventory: Inventory) -> None:
    """``migrate plan inventory.json -o plan.json`` as a user runs it, in a process of its own:
    the file read and checked against its schema, the plan built (default price cache) and
    checked, then written."""
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "inventory.json", Path(folder) / "plan.json"
        source.write_bytes(orjson.dumps(inventory.to_json()))
        print(f"the CLI on a {source.stat().st_size / 1e6:.0f} MB inventory.json:")
        for sizing in ("as-is", "performance"):
            argv = [sys.executable, "-m", "migrate", "plan", str(source), "-o", str(out)]
            started = time.perf_counter()
            child = subprocess.Popen([*argv, "--sizing", sizing], stderr=subprocess.PIPE)
            assert child.stderr is not None
            said = child.stderr.read().decode().strip()
            _, status, usage = os.wait4(child.pid, 0)
            took = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, for Popen
            assert child.returncode == 0, said
            print(
                f"  migrate plan --sizing {sizing}: {took:.2f} s wall, CPU "
                f"{usage.ru_utime + usage.ru_stime:.2f} s, peak RSS {usage.ru_maxrss / 1024:.0f} "
                f"MB, plan.json {out.stat().st_size / 1e6:.0f} MB; load average "
                f"{os.getloadavg()[0]:.1f}: {said.splitlines()[-1]}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--max-workers", type=int, default=8, help="parallel batch calls")
    parser.add_argument(
        "--link-gbps", type=float, default=1.0, help="link for the volume-aware bound (Gbit/s)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--processes", type=int, default=None, help="summarising processes (default: CPUs)"
    )
    parser.add_argument(
        "--prerender", action=argparse.BooleanOptionalAction, default=None,
        help="render the fake's answers before the runs (default: when under 2 GB)",
    )  # fmt: skip
    parser.add_argument("--plan-vms", type=int, default=100_000)
    parser.add_argument("--skip-inventory", action="store_true")
    parser.add_argument("--skip-plan", action="store_true")
    args = parser.parse_args()
    if args.prerender is None:  # ~105 bytes of JSON per hourly point
        args.prerender = args.vms * 6 * 24 * args.days * 105 < 2e9
    if not args.skip_plan:
        plan_bench(args)
    if not args.skip_inventory:
        inventory_bench(args)


if __name__ == "__main__":
    main()
