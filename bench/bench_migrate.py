"""Benchmark: live inventory of a synthetic estate through the fake ARM server, and planning it.

    .venv/bin/python bench/bench_migrate.py [--scale 0.25] [--latency 0.05] [--page-size 100]
                                            [--graph-scale 10]

Two live paths are measured on the same estate: the per-subscription lists and one Azure
Resource Graph query (``inventory --resource-graph``). Resource Graph goals: 10k VMs within
1.3 x the bound (pages x latency); with ``--graph-scale 10`` (100k VMs, in a child process so
its peak memory is its own) within 1.2 x max(pages x latency, quota floor) and under 400 MB,
where the quota floor is what 15 queries per 5 s allow: (ceil(pages / 15) - 1) x 5 s.

Full size (scale 1): 20 subscriptions x (500 VMs + 50 scale sets with autoscale + 10 load
balancers), 50 ms per request, 100 items per page. The fake server runs in its own process so
the client's CPU and memory are measured alone. Prints the wall time, the critical-path bound
(the longest chain of sequential page requests x latency), their ratio, the CPU time of the
listing process, the client's peak memory (max RSS), and the plan time for the same estate from
an export. Goals: ratio < 2, peak < 400 MB, plan of the 10k-VM estate < 2 s.

To show where the listing's CPU goes, it also times, in one thread, the SDK's model
deserialization of every listed item (the model classes the pagers build, through their public
constructors: ``VirtualMachine(item)``, ``AutoscaleSettingResourceCollection.deserialize(page)``)
and the adapter's conversion of those models to the neutral model.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azure.mgmt.compute import models as compute_models  # noqa: E402
from azure.mgmt.monitor import models as monitor_models  # noqa: E402
from azure.mgmt.network import models as network_models  # noqa: E402

from migrate.plan import build_plan  # noqa: E402
from migrate.sources import arm, graph  # noqa: E402
from migrate.sources.export import load_export  # noqa: E402
from migrate.sources.live import AzureConnection, arm_json, inventory_live  # noqa: E402
from tests.migrate.estate import SIZES, sku_items, subscription_id, synthetic_subscription  # noqa: E402
from tests.migrate.fake_arm import FakeArm, FakeCredential, PlainHttpBearerPolicy  # noqa: E402


def _sizes(scale: float) -> tuple[int, int, int, int]:
    # above 1: more subscriptions of the same size (scale 10 = 200 x 500 = 100,000 VMs)
    subs = max(1, round(20 * scale)) if scale > 1 else max(1, round(20 * min(1.0, scale)))
    vms = max(1, round(500 * min(1.0, scale * 4 if scale < 1 else 1)))
    return subs, vms, max(1, vms // 10), 10


def estate(scale: float) -> dict[str, list[dict]]:
    subs, vms, scale_sets, lbs = _sizes(scale)
    return {
        subscription_id(i): synthetic_subscription(subscription_id(i), vms, scale_sets, lbs)
        for i in range(subs)
    }


def serve(scale: float, latency: float, page_size: int, conn) -> None:
    """Child process: build the estate, serve it, report url and page counts; on 'stop' report
    the requests served and the server's CPU seconds."""
    arm = FakeArm(page_size=page_size, latency=latency)
    for resources in estate(scale).values():
        arm.add_resources(resources)
    arm.add(arm.subscription_ids[0], "Microsoft.Compute/skus", sku_items(SIZES))
    arm.ensure_collections()
    arm.start()
    pages = {f"{k[0]}|{k[1]}": max(1, math.ceil(len(v) / page_size)) for k, v in arm.items.items()}
    subs = sorted({key.split("|")[0] for key in pages})
    arm.warm_graph(subs, graph.query_for(graph.TYPES))
    conn.send((arm.url, pages))
    while conn.recv() == "count":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        queries = len(arm.requests_for("/providers/Microsoft.ResourceGraph/resources"))
        conn.send((len(arm.log), usage.ru_utime + usage.ru_stime, queries))
    arm.stop()


def _warm_up(connection: AzureConnection, sub: str) -> None:
    """One request, so lazy imports inside azure-core/requests are not timed."""
    with connection.client("network", sub) as client:
        list(client.application_gateways.list_all())


# ARM type -> the model class its pager deserializes each item into (hybrid models) or each page
# into (the msrest collection of azure-mgmt-monitor).
ITEM_MODELS = {
    arm.VM_TYPE: compute_models.VirtualMachine,
    arm.VMSS_TYPE: compute_models.VirtualMachineScaleSet,
    arm.LB_TYPE: network_models.LoadBalancer,
    arm.AGW_TYPE: network_models.ApplicationGateway,
}
PAGE_MODELS = {arm.AUTOSCALE_TYPE: monitor_models.AutoscaleSettingResourceCollection}


def deserialization_cost(scale: float, page_size: int) -> tuple[float, float, int]:
    """Single-thread CPU seconds of the SDK's model deserialization of every listed item, and of
    the adapter's model -> neutral model step (arm_json + the ARM parser); and the item count."""
    by_type: dict[str, list[dict]] = {}
    for resources in estate(scale).values():
        for item in resources:
            by_type.setdefault(arm.resource_type(item), []).append(item)
    sdk = convert = 0.0
    count = 0
    for rtype, items in by_type.items():
        # Each page's JSON is decoded afresh by the pipeline: give each pass fresh dicts too.
        pages = [
            json.loads(json.dumps(items[i : i + page_size]))
            for i in range(0, len(items), page_size)
        ]
        started = time.process_time()
        if rtype in PAGE_MODELS:
            models = [
                m for page in pages for m in PAGE_MODELS[rtype].deserialize({"value": page}).value
            ]
        else:
            models = [ITEM_MODELS[rtype](item) for page in pages for item in page]
        sdk += time.process_time() - started
        started = time.process_time()
        for model in models:
            arm.parse(rtype, arm_json(model), "bench")
        convert += time.process_time() - started
        count += len(models)
    skus = json.loads(json.dumps(sku_items(SIZES)))
    started = time.process_time()
    models = [compute_models.ResourceSku(item) for item in skus]
    sdk += time.process_time() - started
    started = time.process_time()
    for model in models:
        arm.parse_resource_sku(arm_json(model))
    convert += time.process_time() - started
    return sdk, convert, count + len(models)


QUOTA, WINDOW = 15, 5.0


def quota_floor(pages: int) -> float:
    """The least time ``pages`` queries take at 15 per 5 s (the first 15 go at once)."""
    return (math.ceil(pages / QUOTA) - 1) * WINDOW


def graph_runs(connection: AzureConnection, subs: list[str], parent, repeat: int) -> list[tuple]:
    """(wall, cpu, queries) of ``repeat`` Resource Graph inventories."""
    runs = []
    for _ in range(max(1, repeat)):
        parent.send("count")
        _, _, before = parent.recv()
        started, cpu_started = time.perf_counter(), time.process_time()
        inventory = inventory_live(subs, connection, progress=False, resource_graph=True)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        parent.send("count")
        _, _, after = parent.recv()
        runs.append((wall, cpu, after - before, len(inventory.vms)))
        time.sleep(WINDOW)  # a fresh quota window for the next run, as a new user session
    return runs


def graph_child(scale: float, latency: float, page_size: int, conn) -> None:
    """Child process: serve an estate, inventory it once through Resource Graph, report the
    wall time, the queries, the VMs and this process's peak RSS."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(scale, latency, page_size, child), daemon=True)
    server.start()
    url, pages = parent.recv()
    credential = FakeCredential()
    connection = AzureConnection(
        credential=credential,
        base_url=url,
        client_kwargs={"authentication_policy": PlainHttpBearerPolicy(credential)},
    )
    subs = sorted({key.split("|")[0] for key in pages})
    _warm_up(connection, subs[0])
    runs = graph_runs(connection, subs, parent, 1)
    parent.send("stop")
    server.join(timeout=30)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((*runs[0], peak_mb))


def print_graph(
    label: str,
    wall: float,
    queries: int,
    vms: int,
    latency: float,
    goal: float,
    peak_mb: float | None = None,
) -> None:
    bound = queries * latency
    floor = quota_floor(queries)
    limit = max(bound, floor)
    print(
        f"{label}: {vms} VMs, {queries} queries, wall {wall:.3f} s; pages x latency "
        f"{bound:.3f} s, quota floor {floor:.3f} s -> ratio {wall / limit:.2f} (goal <= {goal})"
        + (f", peak RSS {peak_mb:.0f} MB (goal < 400)" if peak_mb is not None else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full estate")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--max-workers", type=int, default=100, help="parallel list calls")
    parser.add_argument("--repeat", type=int, default=3, help="inventory runs (best and median)")
    parser.add_argument(
        "--graph-scale",
        type=float,
        default=10.0,
        help="the large Resource Graph run (10 = 100,000 VMs); 0 skips it",
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(
        target=serve, args=(args.scale, args.latency, args.page_size, child), daemon=True
    )
    server.start()
    url, pages = parent.recv()
    chains = list(pages.values())  # the fake serves exactly the collections the inventory lists
    bound = max(chains) * args.latency

    credential = FakeCredential()
    connection = AzureConnection(
        credential=credential,
        base_url=url,
        client_kwargs={"authentication_policy": PlainHttpBearerPolicy(credential)},
    )
    subs = sorted({key.split("|")[0] for key in pages})
    _warm_up(connection, subs[0])
    runs = []
    for _ in range(max(1, args.repeat)):
        parent.send("count")
        requests_before, server_cpu_before, _ = parent.recv()
        started, cpu_started = time.perf_counter(), time.process_time()
        inventory = inventory_live(subs, connection, progress=False, max_workers=args.max_workers)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        parent.send("count")
        requests_after, server_cpu_after, _ = parent.recv()
        runs.append(
            (wall, cpu, server_cpu_after - server_cpu_before, requests_after - requests_before)
        )
    graph = graph_runs(connection, subs, parent, args.repeat)
    parent.send("stop")
    server.join(timeout=10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    failed = [s for s in inventory.subscriptions if s.status != "ok"]
    gc.collect()
    gc.disable()  # as inventory_live does while listing
    sdk_cpu, convert_cpu, items = deserialization_cost(args.scale, args.page_size)
    gc.enable()

    with tempfile.TemporaryDirectory() as tmp:
        for sub, resources in estate(args.scale).items():
            (Path(tmp) / f"{sub}.json").write_text(json.dumps({"value": resources}))
        t0 = time.perf_counter()
        exported = load_export(tmp)
        t1 = time.perf_counter()
        plan = build_plan(exported)
        t2 = time.perf_counter()
    live_plan_workloads = len(build_plan(inventory)["workloads"])

    walls = sorted(r[0] for r in runs)
    best, median = walls[0], statistics.median(walls)
    cpu, server_cpu, requests = (
        statistics.median(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
        runs[-1][3],
    )
    subs_n, vms, scale_sets, lbs = _sizes(args.scale)
    print(
        f"estate: {subs_n} subscriptions x ({vms} VMs + {scale_sets} scale sets + autoscale "
        f"+ {lbs} LBs), {args.latency * 1000:.0f} ms/request, {args.page_size} items/page, "
        f"{requests} requests, {os.cpu_count()} CPUs"
    )
    print(
        f"inventory: {len(inventory.vms)} VMs, {len(inventory.scale_sets)} scale sets, "
        f"{len(inventory.autoscale)} autoscale, {len(inventory.load_balancers)} LBs, "
        f"{len(failed)} failed subscriptions"
    )
    print(f"wall time:            best {best:.3f} s, median {median:.3f} s of {len(runs)} runs")
    print(
        f"listing CPU time:     {cpu:.3f} s on {os.cpu_count()} CPUs (server process: "
        f"{server_cpu:.3f} s); the GIL lets one thread at a time run Python"
    )
    print(
        f"  SDK deserialization: {sdk_cpu:.3f} s in one thread, {sdk_cpu / cpu:.0%} of the "
        f"listing CPU ({sdk_cpu / items * 1000:.3f} ms per item, {items} items)"
    )
    print(
        f"  models -> neutral:   {convert_cpu:.3f} s in one thread, {convert_cpu / cpu:.0%} "
        "(as_dict / serialize + the ARM parser)"
    )
    print(
        f"  the rest:            {cpu - sdk_cpu - convert_cpu:.3f} s (HTTP pipeline, JSON "
        "decoding, threads)"
    )
    print(
        f"critical-path bound:  {bound:.3f} s ({max(chains)} sequential pages x "
        f"{args.latency * 1000:.0f} ms)"
    )
    print(f"ratio:                best {best / bound:.2f}, median {median / bound:.2f}  (goal < 2)")
    print(f"peak memory (RSS):    {peak_mb:.0f} MB  (goal < 400)")
    print(f"export load:          {t1 - t0:.3f} s")
    walls = sorted(g[0] for g in graph)
    print(
        f"Resource Graph, same estate: best {walls[0]:.3f} s, median "
        f"{statistics.median(walls):.3f} s of {len(graph)} runs"
    )
    best_graph = min(graph)
    print_graph("  best run", best_graph[0], best_graph[2], best_graph[3], args.latency, 1.3)
    print(
        f"  CPU time of the best run: {best_graph[1]:.3f} s (listing process); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    if args.graph_scale:
        parent, child = ctx.Pipe()
        big = ctx.Process(
            target=graph_child, args=(args.graph_scale, args.latency, args.page_size, child)
        )
        big.start()
        wall, big_cpu, queries, vms, big_peak = parent.recv()
        big.join(timeout=60)
        print_graph(
            f"Resource Graph, --graph-scale {args.graph_scale:g}",
            wall,
            queries,
            vms,
            args.latency,
            1.2,
            big_peak,
        )
        print(f"  CPU time: {big_cpu:.3f} s (listing process)")
    print(
        f"plan time:            {t2 - t1:.3f} s  (goal < 2)  -> {len(plan['workloads'])} "
        f"workloads, {len(plan['skipped'])} skipped (live: {live_plan_workloads} workloads)"
    )


if __name__ == "__main__":
    main()
