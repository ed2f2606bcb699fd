"""Source adapters: live Azure (SDK clients) and exports (az CLI / ARM JSON) -> ``Inventory``."""

from __future__ import annotations

from typing import Any

from migrate import catalog, sizenames
from migrate.model import Inventory, VmSize
from migrate.sources import arm


def collection(inventory: Inventory, rtype: str) -> list[Any] | None:
    """The inventory list that holds resources of ARM type `rtype` (None: not one we model)."""
    return {
        arm.VM_TYPE: inventory.vms,
        arm.VMSS_TYPE: inventory.scale_sets,
        arm.AUTOSCALE_TYPE: inventory.autoscale,
        arm.LB_TYPE: inventory.load_balancers,
        arm.AGW_TYPE: inventory.load_balancers,
    }.get(rtype)


def attach_sizes(inventory: Inventory, discovered: dict[str, VmSize] | None = None) -> None:
    """Record vCPUs/memory for every size the inventory uses: the subscription's own figures
    (resource SKUs, `az vm list-sizes` / `list-skus`) first, else the embedded catalog, else
    derived from the size name (``migrate.sizenames``). Sizes none of these resolves are left
    out; the plan skips their workloads with the reason."""
    discovered = {k.lower(): v for k, v in (discovered or {}).items()}
    for size in discovered.values():
        size.origin = "subscription"
    embedded = catalog.azure_sizes()
    used = {vm.vm_size for vm in inventory.vms} | {ss.vm_size for ss in inventory.scale_sets}
    for name in sorted(n for n in used if n):
        size = (
            discovered.get(name.lower())
            or embedded.get(name.lower())
            or sizenames.derive_size(name)
        )
        if size is not None:
            if size.gpus and not size.gpu_model:
                derived = sizenames.derive_size(name)
                size.gpu_model = derived.gpu_model if derived else ""
            known = embedded.get(name.lower())
            if known is not None and not size.gpu_model:
                size.gpu_model = known.gpu_model  # resource SKUs count GPUs but do not name them
            inventory.vm_sizes[name] = size
