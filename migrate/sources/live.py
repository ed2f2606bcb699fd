"""Live adapter: the azure-mgmt clients' typed list operations -> Inventory.

Every (subscription, resource type) list runs in its own thread, so the latency of the ``nextLink``
pages overlaps. Each list is the SDK's own pager (``virtual_machines.list_all()``,
``autoscale_settings.list_by_subscription()``, ...): the client's pipeline sends it (credential,
ARM policies, the api-version the SDK pins, retries on 408/429/5xx honouring Retry-After) and the
SDK deserializes every item into its model. Each model is turned back into its ARM JSON through
the models' public API (:func:`arm_json`) and parsed by ``migrate.sources.arm``, the parser the
export adapter uses, so a resource gives the same neutral model whichever way it was read.

The SDK's model deserialization is CPU-bound and holds the GIL: on a large estate it, not the
page latency, sets the wall time (``bench/bench_migrate.py`` prints its share).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    DeserializationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

# Imported here, not in the worker threads: importing azure.mgmt.network alone takes ~0.5 s and
# the import lock would serialise the threads behind it.
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.network import NetworkManagementClient

from cutover.exitcodes import ENVIRONMENT
from migrate.errors import MigrateError
from migrate.jsonfile import paused_gc
from migrate.model import Inventory, SubscriptionResult, VmSize, subscription_of
from migrate.sources import arm, attach_sizes, collection, fold_network_interfaces


@dataclass(frozen=True)
class Listing:
    """One ARM list: the client that owns it, its typed pager, the ARM type of its items."""

    kind: str
    client: str  # compute | network | monitor
    pager: Callable[[Any], Iterable[Any]]  # client -> the SDK's ItemPaged of models
    rtype: str


LISTINGS = (
    Listing("virtualMachines", "compute", lambda c: c.virtual_machines.list_all(), arm.VM_TYPE),
    Listing(
        "virtualMachineScaleSets",
        "compute",
        lambda c: c.virtual_machine_scale_sets.list_all(),  # instance count: sku.capacity
        arm.VMSS_TYPE,
    ),
    Listing(
        "autoscaleSettings",
        "monitor",
        lambda c: c.autoscale_settings.list_by_subscription(),
        arm.AUTOSCALE_TYPE,
    ),
    Listing("loadBalancers", "network", lambda c: c.load_balancers.list_all(), arm.LB_TYPE),
    Listing(
        "applicationGateways",
        "network",
        lambda c: c.application_gateways.list_all(),
        arm.AGW_TYPE,
    ),
)
SKUS = Listing("resourceSkus", "compute", lambda c: c.resource_skus.list(), "")
# Listed only for subscriptions whose balancers name members by IP address: the NICs give the
# VMs' private IPs and virtual networks (migrate.matching scopes the match to them).
NICS = Listing(
    "networkInterfaces", "network", lambda c: c.network_interfaces.list_all(), arm.NIC_TYPE
)

ARM_SCOPE = "https://management.azure.com/.default"
CLIENTS = {
    "compute": ComputeManagementClient,
    "network": NetworkManagementClient,
    "monitor": MonitorManagementClient,
}


def arm_json(model: Any) -> dict[str, Any]:
    """An SDK model as ARM REST JSON (camelCase keys, ``properties`` wrapper), by public API.

    The hybrid models (azure-mgmt-compute 38+, -network 31+) are mappings of the wire JSON:
    ``as_dict()``. The msrest models (azure-mgmt-monitor 7): ``serialize(keep_readonly=True)``,
    which keeps the read-only ``id``/``name``/``type`` and wraps ``properties`` again (their
    ``as_dict()`` gives snake_case attribute names instead).
    """
    if isinstance(model, Mapping):
        return model.as_dict()
    return model.serialize(keep_readonly=True)


@dataclass
class AzureConnection:
    """How to reach ARM: a credential, an optional endpoint, and kwargs for every client.

    ``client_kwargs`` go to each azure-mgmt client as is: e.g. ``retry_total``,
    ``retry_backoff_factor``, ``authentication_policy``, ``connection_timeout``, ``transport``.
    """

    credential: Any = None
    base_url: str | None = None
    client_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.credential is None:
            from azure.identity import DefaultAzureCredential

            self.credential = DefaultAzureCredential()

    def _kwargs(self) -> dict[str, Any]:
        if self.base_url:
            return {**self.client_kwargs, "base_url": self.base_url}
        return dict(self.client_kwargs)

    def client(self, kind: str, subscription_id: str) -> Any:
        return CLIENTS[kind](self.credential, subscription_id, **self._kwargs())

    def graph_client(self) -> Any:
        from azure.mgmt.resourcegraph import ResourceGraphClient

        return ResourceGraphClient(self.credential, **self._kwargs())

    def check_credential(self) -> None:
        """Fetch one token up front: no credential is one clear error, not one per list."""
        scope = self.client_kwargs.get("credential_scopes", [ARM_SCOPE])[0]
        try:
            self.credential.get_token(scope)
        except ClientAuthenticationError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MigrateError(
                f"no usable Azure credential ({first}): sign in with `az login`, or set "
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (migrate/README.md)",
                ENVIRONMENT,
            ) from exc

    def subscription_ids(self) -> list[str]:
        """Every enabled subscription the credential can see."""
        try:
            from azure.mgmt.resource.subscriptions import SubscriptionClient
        except ImportError as exc:
            raise MigrateError(
                "listing subscriptions needs azure-mgmt-resource-subscriptions "
                "(pip install azure-mgmt-resource-subscriptions), or pass --subscription ID",
                ENVIRONMENT,
            ) from exc
        try:
            with SubscriptionClient(self.credential, **self._kwargs()) as client:
                # Enum members print as their names on 3.11: compare the value.
                subs = [
                    s
                    for s in client.subscriptions.list()
                    if getattr(s.state, "value", s.state) in (None, "Enabled")
                ]
        except (HttpResponseError, ServiceRequestError) as exc:
            raise MigrateError(f"cannot list subscriptions: {_short(exc)}", ENVIRONMENT) from exc
        return [s.subscription_id for s in subs if s.subscription_id]


def _short(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or getattr(exc, "reason", None) or type(exc).__name__
    message = getattr(error, "message", None) or str(exc).splitlines()[0]
    return f"{status} {code}: {message}" if status else f"{code}: {message}"


@dataclass
class _Outcome:
    subscription: str
    listing: Listing
    items: list[Any] = field(default_factory=list)
    skus: dict[str, VmSize] = field(default_factory=dict)
    error: str = ""
    denied: bool = False


def _run(connection: AzureConnection, subscription: str, listing: Listing) -> _Outcome:
    outcome = _Outcome(subscription, listing)
    source = f"azure:{subscription}/{listing.kind}"
    try:
        with connection.client(listing.client, subscription) as client:
            for model in listing.pager(client):
                item = arm_json(model)
                if listing is SKUS:
                    size = arm.parse_resource_sku(item)
                    if size is not None:
                        outcome.skus[size.name.lower()] = size
                else:
                    outcome.items.append(arm.parse(listing.rtype, item, source))
    except ClientAuthenticationError as exc:
        outcome.error, outcome.denied = _short(exc), True
    except HttpResponseError as exc:
        outcome.error, outcome.denied = _short(exc), exc.status_code in (401, 403)
    except (ServiceRequestError, ServiceResponseError) as exc:
        outcome.error = _short(exc)
    except DeserializationError as exc:
        # A resource the SDK's models cannot read is malformed, as in an export: stop with the
        # innermost reason (the SDK's own message quotes the whole page).
        cause: BaseException = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        raise MigrateError(f"{source}: the SDK could not deserialize the list: {cause}") from exc
    return outcome


class _Progress:
    """A rich progress bar on a terminal, nothing otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("[bold]inventory"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                transient=True,
            )
            self._task = self._bar.add_task("", total=total)
        self._lock = threading.Lock()

    def __enter__(self) -> _Progress:
        if self._bar:
            self._bar.start()
        return self

    def advance(self, text: str) -> None:
        if self._bar:
            with self._lock:
                self._bar.update(self._task, advance=1, description=text)

    def __exit__(self, *exc: object) -> None:
        if self._bar:
            self._bar.stop()


def inventory_live(
    subscriptions: list[str] | None = None,
    connection: AzureConnection | None = None,
    *,
    max_workers: int = 100,
    progress: bool | None = None,
    resource_graph: bool = False,
) -> Inventory:
    """List VMs, scale sets, autoscale settings, load balancers and application gateways.

    ``resource_graph``: one Azure Resource Graph query across the subscriptions
    (``migrate.sources.graph``), falling back to the per-subscription lists when the identity
    may not query it (403). Otherwise subscriptions (given, or all visible) and resource types
    run in parallel, one thread per (subscription, type) list. A subscription that answers
    401/403 (or fails after the SDK's retries) is recorded in ``inventory.subscriptions`` with
    its error; the others are still listed.
    """
    connection = connection or AzureConnection()
    connection.check_credential()
    subs = list(dict.fromkeys(subscriptions or connection.subscription_ids()))
    if not subs:
        raise MigrateError("the credential sees no enabled subscription: pass --subscription ID")
    note = ""
    if resource_graph:
        from migrate.sources.graph import GraphDenied

        try:
            return _paused_gc(lambda: _inventory_graph(subs, connection))
        except GraphDenied as exc:
            note = f"Resource Graph query not permitted ({exc}): listed per subscription instead"
    inventory = _paused_gc(lambda: _inventory_lists(subs, connection, max_workers, progress))
    if note:
        inventory.notes.append(note)
    return inventory


def _paused_gc(run: Callable[[], Inventory]) -> Inventory:
    # The SDK builds a dozen model objects per VM and none is garbage until the list ends: the
    # cyclic GC would rescan them again and again. Paused while listing, it saves ~15% of the
    # CPU and of the wall time on 10,000 VMs (bench/bench_migrate.py, median of 5: 8.7 -> 7.3 s)
    # for ~30 MB more peak memory; it is switched back on (not forced) when the lists are done.
    with paused_gc():
        return run()


def _ip_pool_subscriptions(inventory: Inventory) -> list[str]:
    """Subscriptions with a balancer whose pool names members by IP address."""
    return sorted(
        {
            subscription_of(lb.id)
            for lb in inventory.load_balancers
            if any(pool.addresses for pool in lb.pools)
        }
        - {""}
    )


def _inventory_graph(subs: list[str], connection: AzureConnection) -> Inventory:
    from migrate.sources.graph import query_resources

    with ThreadPoolExecutor(max_workers=1) as pool:
        skus = pool.submit(_run, connection, subs[0], SKUS)  # overlaps the query
        with connection.graph_client() as client:
            result = query_resources(client, subs)
            inventory = Inventory(
                vms=result.items[arm.VM_TYPE],
                scale_sets=result.items[arm.VMSS_TYPE],
                autoscale=result.items[arm.AUTOSCALE_TYPE],
                load_balancers=result.items[arm.LB_TYPE] + result.items[arm.AGW_TYPE],
                subscriptions=[SubscriptionResult(sub) for sub in subs],
            )
            seen = {subscription_of(r.id).lower() for items in result.items.values() for r in items}
            for sub in subs:
                if sub.lower() not in seen:
                    # Resource Graph leaves out what the identity may not read, silently.
                    inventory.notes.append(
                        f"Resource Graph returned nothing for subscription {sub}: it is empty, "
                        "or the identity lacks the Reader role on it"
                    )
            nic_subs = _ip_pool_subscriptions(inventory)
            if nic_subs:
                nics = query_resources(client, nic_subs, (arm.NIC_TYPE,)).items[arm.NIC_TYPE]
                fold_network_interfaces(inventory, [(n, "resourcegraph") for n in nics])
        sku_outcome = skus.result()
    if sku_outcome.error:
        inventory.notes.append(
            f"resource SKUs not listed ({sku_outcome.error}): embedded catalog used"
        )
    attach_sizes(inventory, sku_outcome.skus)
    return inventory


def _inventory_lists(
    subs: list[str], connection: AzureConnection, max_workers: int, progress: bool | None
) -> Inventory:
    jobs = [(sub, listing) for sub in subs for listing in LISTINGS] + [(subs[0], SKUS)]
    show = sys.stderr.isatty() if progress is None else progress
    outcomes = []
    with (
        _Progress(len(jobs), show) as bar,
        ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(jobs)))) as pool,
    ):
        futures = [pool.submit(_run, connection, sub, listing) for sub, listing in jobs]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            bar.advance(f"{outcome.subscription[:8]} {outcome.listing.kind}")
        inventory = _assemble(subs, jobs, outcomes)
        ok = {s.id for s in inventory.subscriptions if s.status == "ok"}
        nic_subs = [s for s in _ip_pool_subscriptions(inventory) if s in ok]
        nic_outcomes = [
            f.result() for f in [pool.submit(_run, connection, sub, NICS) for sub in nic_subs]
        ]
    nics = []
    for outcome in nic_outcomes:
        if outcome.error:
            inventory.notes.append(
                f"network interfaces of {outcome.subscription} not listed ({outcome.error}): "
                "IP-based pool members are matched without their virtual network"
            )
        nics += [(nic, f"azure:{outcome.subscription}/networkInterfaces") for nic in outcome.items]
    fold_network_interfaces(inventory, nics)
    return inventory


def _assemble(
    subs: list[str], jobs: list[tuple[str, Listing]], outcomes: list[_Outcome]
) -> Inventory:
    inventory = Inventory()
    order = {(sub, listing.kind): i for i, (sub, listing) in enumerate(jobs)}
    outcomes.sort(key=lambda o: order[(o.subscription, o.listing.kind)])
    errors: dict[str, list[str]] = {}
    skus: dict[str, VmSize] = {}
    for outcome in outcomes:
        if outcome.error and outcome.listing.kind == SKUS.kind:
            inventory.notes.append(
                f"resource SKUs not listed ({outcome.error}): embedded catalog used"
            )
        elif outcome.error:
            errors.setdefault(outcome.subscription, []).append(
                f"{outcome.listing.kind}: {outcome.error}"
            )
    for outcome in outcomes:
        # Half a subscription would group its VMs wrongly (e.g. VMs without their load
        # balancers): a subscription with any failed listing contributes nothing.
        if outcome.error or (outcome.listing.kind != SKUS.kind and outcome.subscription in errors):
            continue
        skus.update(outcome.skus)
        target = collection(inventory, outcome.listing.rtype)
        if target is not None:
            target.extend(outcome.items)
    for sub in subs:
        if sub in errors:
            first, more = errors[sub][0], len(errors[sub]) - 1
            text = first + (f" (and {more} more list(s) failed)" if more else "")
            inventory.subscriptions.append(SubscriptionResult(sub, "failed", text))
        else:
            inventory.subscriptions.append(SubscriptionResult(sub))
    attach_sizes(inventory, skus)
    return inventory
