"""Live Azure Monitor platform metrics for every VM and scale set of an inventory.

The batch API first (azure-monitor-querymetrics ``MetricsClient.query_resources``): one call per
<= 50 resources of one subscription, region and namespace, against the region's endpoint
(``https://<region>.metrics.monitor.azure.com``). Where a batch call is refused (401/403/404:
the identity lacks the subscription-level permission the batch API needs, or the region has no
endpoint), each of its resources is read through the per-resource API (azure-mgmt-monitor
``metrics.list``). Throttling (429 with Retry-After) and transient errors are retried by the
clients' own retry policy; what still fails becomes a note, and those resources are planned
as-is. The batch answers are read as the service's JSON, not as the SDK's per-point models
(:meth:`MetricsReader.query`), and summarised at once (``migrate.sources.metrics``), in worker
processes while the threads wait on HTTP (the answers reach them through memory mapped before
they fork): no raw point is kept.
"""

from __future__ import annotations

import mmap
import os
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_all_start_methods, get_context
from queue import Empty, SimpleQueue
from threading import BoundedSemaphore
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.monitor.querymetrics import MetricsClient

from migrate.errors import MigrateError
from migrate.jsonfile import paused_gc
from migrate.model import Inventory, Utilization, id_key, subscription_of
from migrate.sources.live import AzureConnection, arm_json
from migrate.sources.metrics import METRIC_NAMES, summarize, summarize_batch

BATCH_LIMIT = 50  # resources per batch call (one subscription, one region, one resource type)
# The batch API has no published quota of its own; its documentation ("Migrate from the metrics
# API to the getBatch API") points to Azure Resource Manager's throttling: a token bucket per
# subscription and principal of 250 reads, refilled at 25 per second. Answers past it are 429s
# with Retry-After, which the client's retry policy honours.
ARM_READS_BURST = 250
ARM_READS_PER_SECOND = 25
NAMESPACES = {
    "vms": "Microsoft.Compute/virtualMachines",
    "scale_sets": "Microsoft.Compute/virtualMachineScaleSets",
}
# What the inventory asks for: the metrics (Available Memory Percentage is newer and
# not on every VM: asking for a metric a resource lacks fails the whole call), and the hourly
# aggregations the summaries read: Maximum (Minimum for available memory, the busiest hour).
# Not Average: the summaries read it only where a point has neither (an export made with
# `--aggregation Average Maximum`), and it would make every answer a third larger (one call
# asks the same aggregations of every metric).
LIVE_METRICS = tuple(m for m in METRIC_NAMES if m != "Available Memory Percentage")
LIVE_AGGREGATIONS = ("Maximum", "Minimum")
_REFUSED = (401, 403, 404)
# Room for a batch answer in the memory shared with the summarising processes: per resource,
# metric and hour (a point with two aggregations in full precision is ~95 bytes of JSON),
# and per metric and resource (names, ids, units). A larger answer goes through the pool's pipe.
_BYTES_PER_POINT = 128
_BYTES_PER_METRIC = 4096
# What a batch call gives: the summaries with data, notes, the per-resource calls made.
_Read = tuple[list[Utilization], list[str], int]


def regional_endpoint(region: str) -> str:
    return f"https://{region.lower()}.metrics.monitor.azure.com"


@dataclass(frozen=True)
class Batch:
    subscription: str
    region: str
    namespace: str
    resource_ids: tuple[str, ...]


@dataclass
class MetricsReport:
    utilization: list[Utilization] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    batch_calls: int = 0
    fallback_calls: int = 0


def batches(inventory: Inventory) -> list[Batch]:
    """The VMs and scale sets in groups of <= 50 of one subscription, region and namespace."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for kind, namespace in NAMESPACES.items():
        for resource in getattr(inventory, kind):
            key = (subscription_of(resource.id).lower(), resource.location.lower(), namespace)
            groups[key].append(resource.id)
    out = []
    for (sub, region, namespace), ids in sorted(groups.items()):
        for i in range(0, len(ids), BATCH_LIMIT):
            out.append(Batch(sub, region, namespace, tuple(ids[i : i + BATCH_LIMIT])))
    return out


def _result_json(result: Any) -> dict[str, Any]:
    """A querymetrics ``MetricsQueryResult`` as the REST entry ``batch`` reads."""
    return {"value": [_metric_json(m) for m in result.metrics]}


def _metric_json(metric: Any) -> dict[str, Any]:
    """A querymetrics ``Metric`` as the REST metric object ``summarize`` reads."""
    return {
        "id": metric.id,
        "name": {"value": metric.name},
        "unit": str(getattr(metric.unit, "value", metric.unit) or ""),
        "timeseries": [
            {
                "data": [
                    {
                        "timeStamp": point.timestamp.isoformat(),
                        "average": point.average,
                        "maximum": point.maximum,
                        "minimum": point.minimum,
                    }
                    for point in series.data
                ]
            }
            for series in metric.timeseries
        ],
    }


class MetricsReader:
    """Reads the metrics of an inventory over the last ``days`` days (hourly)."""

    def __init__(
        self,
        connection: AzureConnection,
        days: int = 30,
        endpoint: Callable[[str], str] = regional_endpoint,
        max_workers: int = 8,
        now: datetime | None = None,
        processes: int | None = None,
    ) -> None:
        self.connection = connection
        self.endpoint = endpoint
        self.max_workers = max_workers
        # Summarising the answers is CPU-bound (JSON and Python per hourly point): it runs in
        # ``processes`` worker processes (default: one per CPU) while the threads wait on HTTP.
        self.processes = usable_cpus() if processes is None else processes
        self._summarizers: ProcessPoolExecutor | None = None
        self._answers = BoundedSemaphore(max(1, max_workers))
        self._slots: _Slots | None = None
        end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        self.start, self.end = end - timedelta(days=days), end
        self.hours = days * 24
        self.timespan = f"{_iso(self.start)}/{_iso(self.end)}"
        self._clients: dict[str, MetricsClient] = {}

    def client(self, region: str) -> MetricsClient:
        if region not in self._clients:
            kwargs = {
                # Answers run to megabytes: read them in 1 MiB blocks, not azure-core's 4 KiB.
                "connection_data_block_size": 1 << 20,
                **{
                    k: v
                    for k, v in self.connection.client_kwargs.items()
                    if k != "credential_scopes"
                },
            }
            self._clients[region] = MetricsClient(
                self.endpoint(region), self.connection.credential, **kwargs
            )
        return self._clients[region]

    def read(self, inventory: Inventory) -> MetricsReport:
        report = MetricsReport()
        work = batches(inventory)
        for region in {b.region for b in work}:
            self.client(region)  # built before the threads: one client (and pool) per region
        processes = min(self.processes, self.max_workers, len(work))
        with ExitStack() as stack:
            # The answers' JSON makes millions of short-lived objects and no cycles: the cyclic
            # GC would only rescan them. Paused while reading, switched back on after.
            stack.enter_context(paused_gc())
            if processes > 1 and "fork" in get_all_start_methods():
                # A thread hands an answer to the processes and goes on to its next call: the
                # calls keep their concurrency while the processes catch up. Answers held (being
                # read, or handed over and not yet summarised) are at most two per process
                # more than the calls in parallel (memory: a 30-day answer is ~22 MB).
                held = self.max_workers + 2 * processes
                self._answers = BoundedSemaphore(held)
                # They cross in memory mapped before the fork, one slot per answer held: pickled
                # through the pool's pipe, a 30-day answer (~18 MB) cost ~40 ms of CPU (copies
                # on both sides, the pipe's system calls), a fifth of summarising it.
                most = max(len(b.resource_ids) for b in work) * len(LIVE_METRICS)
                size = most * (self.hours * _BYTES_PER_POINT + _BYTES_PER_METRIC)
                self._slots = stack.enter_context(_Slots(held, size))
                # Forked workers: spawned ones would import the main module again (the CLI's too).
                self._summarizers = stack.enter_context(
                    ProcessPoolExecutor(
                        processes,
                        mp_context=get_context("fork"),
                        initializer=_adopt,
                        initargs=(self._slots,),
                    )
                )
                # A fork start launches every worker at the first task: here, before the threads.
                self._summarizers.submit(int).result()
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=max(1, self.max_workers)))
            try:
                for done in pool.map(self.batch, work):
                    found, notes, fallback = done.result() if isinstance(done, Future) else done
                    report.utilization += found
                    report.notes += notes
                    report.batch_calls += 1
                    report.fallback_calls += fallback
            finally:
                self._summarizers = self._slots = None
        return report

    def batch(self, batch: Batch) -> _Read | Future[_Read]:
        """One batch call: what it found, or (with summarising processes) its future."""
        self._answers.acquire()
        handed_over = False
        try:
            try:
                body = self.query(batch)
            except HttpResponseError as exc:
                if exc.status_code not in _REFUSED:
                    return [], [_failed(batch, exc)], 0
                return self.per_resource(batch, exc)
            except ServiceRequestError as exc:
                return [], [_failed(batch, exc)], 0
            if self._summarizers is None:
                found = summarize_batch(body, batch.resource_ids, self.timespan)
                return _with_data(found, batch.resource_ids, [], 0)
            summarised = self._hand_over(body, batch)
            handed_over = True
        finally:
            if not handed_over:
                self._answers.release()
        summarised.add_done_callback(lambda _: self._answers.release())
        return summarised

    def _hand_over(self, body: bytes, batch: Batch) -> Future[_Read]:
        """An answer to the summarising processes: through a shared slot where it fits."""
        assert self._summarizers is not None and self._slots is not None
        slot = self._slots.take(body)
        if slot is None:
            return self._summarizers.submit(
                _summarize_answer, body, batch.resource_ids, self.timespan
            )
        try:
            summarised = self._summarizers.submit(
                _summarize_slot, slot, len(body), batch.resource_ids, self.timespan
            )
        except BaseException:
            self._slots.give_back(slot)
            raise
        slots = self._slots
        summarised.add_done_callback(lambda _: slots.give_back(slot))
        return summarised

    def query(self, batch: Batch) -> bytes:
        """One batch call through ``MetricsClient.query_resources``: the answer's JSON body.

        ``query_resources`` otherwise turns every hourly point into the SDK's models
        (``model_base`` deserialization, then a ``MetricValue`` with an ISO 8601 parse per
        timestamp): ~50 us of CPU per point, 43 million points for 10,000 VMs over 30 days.
        The operation's own keywords ``stream=True`` and ``cls=`` (a callback the generated
        operation hands the pipeline response to) skip that: the SDK still builds and signs the
        request (its api-version, its query parameters), sends it through its pipeline (retries,
        Retry-After) and raises its errors; only the body is read here. :meth:`query_models` is
        the models' way, kept to show (tests/migrate/test_metrics_live.py) that both give the
        same summaries.
        """
        bodies: list[bytes] = []

        def keep_body(pipeline_response: Any, _stream: Any, _headers: Any) -> dict[str, Any]:
            bodies.append(pipeline_response.http_response.read())
            return {"values": []}  # nothing left for query_resources to turn into models

        models = self.client(batch.region).query_resources(
            **self._query(batch), stream=True, cls=keep_body
        )
        if len(bodies) != 1 or models:
            raise MigrateError(
                "azure-monitor-querymetrics no longer hands its raw response to `cls`: "
                "pin it below the installed version in requirements.txt, or read the models "
                "(MetricsReader.query_models)"
            )
        return bodies[0]

    def query_models(self, batch: Batch) -> dict[str, Any]:
        """The batch call as ``query_resources`` returns it, in its models, as REST JSON."""
        results = self.client(batch.region).query_resources(**self._query(batch))
        return {"values": [_result_json(r) for r in results]}

    def _query(self, batch: Batch) -> dict[str, Any]:
        return {
            "resource_ids": list(batch.resource_ids),
            "metric_namespace": batch.namespace,
            "metric_names": list(LIVE_METRICS),
            "timespan": (self.start, self.end),
            "granularity": timedelta(hours=1),
            "aggregations": list(LIVE_AGGREGATIONS),
        }

    def per_resource(self, batch: Batch, refused: HttpResponseError) -> _Read:
        """The per-resource API (azure-mgmt-monitor) for a batch the batch API refused."""
        client = self.connection.client("monitor", batch.subscription)
        notes = [
            f"metrics: batch API refused ({refused.status_code}) for {len(batch.resource_ids)} "
            f"resource(s) in {batch.subscription}/{batch.region}: read one by one"
        ]
        out = []
        for rid in batch.resource_ids:
            try:
                response = client.metrics.list(
                    resource_uri=rid.lstrip("/"),  # the operation's URL template adds the slash
                    timespan=self.timespan,
                    interval="PT1H",
                    metricnames=",".join(LIVE_METRICS),
                    aggregation=",".join(LIVE_AGGREGATIONS),
                    metricnamespace=batch.namespace,
                )
            except (HttpResponseError, ServiceRequestError) as exc:
                notes.append(f"metrics: {rid}: {_reason(exc)}; planned as-is")
                continue
            body = arm_json(response)
            out.append(
                summarize(
                    rid,
                    body.get("value") or [],
                    self.timespan,
                    "PT1H",
                    f"azure-monitor:{rid}",
                )
            )
        return _with_data(out, batch.resource_ids, notes, len(batch.resource_ids))


def _summarize_answer(answer: bytes, asked: tuple[str, ...], timespan: str) -> _Read:
    """A batch answer -> what ``MetricsReader.batch`` returns (in a summarising process)."""
    return _with_data(summarize_batch(answer, asked, timespan), asked, [], 0)


class _Slots:
    """Memory shared with the summarising processes (anonymous, mapped before they fork): one
    slot per answer held, each taken by a thread for one answer and given back once it is
    summarised."""

    def __init__(self, count: int, size: int) -> None:
        self.size = size
        self.maps = [mmap.mmap(-1, size) for _ in range(count)]
        self._free: SimpleQueue[int] = SimpleQueue()
        for slot in range(count):
            self._free.put(slot)

    def take(self, body: bytes) -> int | None:
        """A slot holding ``body``; None when it does not fit (or, defensively, none is free)."""
        if len(body) > self.size:
            return None
        try:
            slot = self._free.get_nowait()
        except Empty:
            return None
        self.maps[slot][: len(body)] = body
        return slot

    def give_back(self, slot: int) -> None:
        self._free.put(slot)

    def __enter__(self) -> _Slots:
        return self

    def __exit__(self, *exc: object) -> None:
        for shared in self.maps:
            shared.close()


# A summarising process's view of the reader's slots (set when it starts: see _adopt).
_ADOPTED: list[_Slots] = []


def _adopt(slots: _Slots) -> None:
    """Process pool initializer: forked, the worker shares the reader's mapped slots."""
    _ADOPTED[:] = [slots]


def _summarize_slot(slot: int, size: int, asked: tuple[str, ...], timespan: str) -> _Read:
    """A batch answer in a shared slot -> what ``MetricsReader.batch`` returns."""
    with memoryview(_ADOPTED[0].maps[slot])[:size] as answer:
        return _with_data(summarize_batch(answer, asked, timespan), asked, [], 0)


def _with_data(
    found: list[Utilization], asked: tuple[str, ...], notes: list[str], calls: int
) -> _Read:
    """The summaries that hold data; a note for each resource without any (planned as-is)."""
    kept = [u for u in found if u.metrics]
    have = {id_key(u.resource_id) for u in kept}
    noted = " ".join(notes)
    notes = notes + [
        f"metrics: {rid}: no data point in the period; planned as-is"
        for rid in asked
        if id_key(rid) not in have and rid not in noted
    ]
    return kept, notes, calls


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    message = str(getattr(exc, "message", "") or exc).splitlines()[0][:200]
    return f"{status} {message}" if status else message


def _failed(batch: Batch, exc: Exception) -> str:
    return (
        f"metrics: {len(batch.resource_ids)} resource(s) in {batch.subscription}/{batch.region} "
        f"not read ({_reason(exc)}); planned as-is"
    )


def read_metrics(
    inventory: Inventory, connection: AzureConnection, days: int = 30, **kwargs: Any
) -> MetricsReport:
    """Add every VM's and scale set's utilization to ``inventory`` (and its notes); the report."""
    report = MetricsReader(connection, days, **kwargs).read(inventory)
    inventory.utilization += report.utilization
    inventory.notes += report.notes
    return report
