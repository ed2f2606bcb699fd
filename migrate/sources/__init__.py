"""Source adapters: live Azure (SDK clients) and exports (az CLI / ARM JSON) -> ``Inventory``."""

from __future__ import annotations

from typing import Any

from migrate import catalog, sizenames
from migrate.model import Inventory, NetworkInterface, OtherResource, VmSize, id_key
from migrate.sources import arm


def collection(inventory: Inventory, rtype: str) -> list[Any] | None:
    """The inventory list that holds resources of ARM type `rtype` (None: not one we model)."""
    return {
        arm.VM_TYPE: inventory.vms,
        arm.VMSS_TYPE: inventory.scale_sets,
        arm.AUTOSCALE_TYPE: inventory.autoscale,
        arm.LB_TYPE: inventory.load_balancers,
        arm.AGW_TYPE: inventory.load_balancers,
        arm.PIP_TYPE: inventory.public_ips,
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
    used |= {size for ss in inventory.scale_sets for size in ss.vm_sizes}
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


def fold_network_interfaces(inventory: Inventory, nics: list[tuple[NetworkInterface, str]]) -> None:
    """Give each VM its NICs' private IPs and virtual networks (for IP-based pool membership,
    scoped to the network). Every NIC is kept, so the plan accounts for it: a folded one in
    ``network_interfaces``, one attached to no VM of the inventory as an other resource."""
    by_nic = {id_key(nic): vm for vm in inventory.vms for nic in vm.nic_ids}
    by_vm = {id_key(vm.id): vm for vm in inventory.vms}
    for nic, source in nics:
        vm = by_nic.get(id_key(nic.id)) or by_vm.get(id_key(nic.vm_id))
        if vm is None:
            inventory.other_resources.append(OtherResource(nic.id, arm.NIC_TYPE, source))
            continue
        vm.private_ips = list(dict.fromkeys([*vm.private_ips, *nic.private_ips]))
        vm.virtual_networks = sorted({*vm.virtual_networks, *nic.virtual_networks})
        nic.vm_id = nic.vm_id or vm.id
        inventory.network_interfaces.append(nic)
