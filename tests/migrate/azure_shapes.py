"""Azure resources in the shapes Azure documents, for the tests of issue 19.

Each builder follows one documented shape (ARM REST bodies as `az rest` or the list operations
return them, `properties` wrapper included); the source is named beside it. Names, ids and
addresses are our own; only the structure and the property names are Azure's.
"""

from __future__ import annotations

from typing import Any

SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/rg1/providers"
NET = f"{RG}/Microsoft.Network"
VNET = f"{NET}/virtualNetworks/vnetlb"
SUBNET = f"{VNET}/subnets/subnetlb"


def lb_id(name: str) -> str:
    return f"{NET}/loadBalancers/{name}"


def _ref(value: str) -> dict[str, str]:
    return {"id": value}


def scale_set(
    name: str,
    *,
    size: str = "Standard_D2s_v5",
    capacity: int = 3,
    pools: list[str] = (),  # type: ignore[assignment]
    nat_pools: list[str] = (),  # type: ignore[assignment]
    agw_pools: list[str] = (),  # type: ignore[assignment]
    sku_profile: dict[str, Any] | None = None,
    placement: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Uniform scale set (VirtualMachineScaleSets_Get response body). ``sku_profile``: instance
    mix (sku.name "Mix", learn.microsoft.com "Use multiple VM sizes with instance mix");
    ``placement``: automatic zone placement (top-level ``placement``, "Automatic zone placement
    for Virtual Machine Scale Sets")."""
    ip_config: dict[str, Any] = {"subnet": _ref(SUBNET)}
    if pools:
        ip_config["loadBalancerBackendAddressPools"] = [_ref(p) for p in pools]
    if nat_pools:
        ip_config["loadBalancerInboundNatPools"] = [_ref(p) for p in nat_pools]
    if agw_pools:
        ip_config["applicationGatewayBackendAddressPools"] = [_ref(p) for p in agw_pools]
    body: dict[str, Any] = {
        "id": f"{RG}/Microsoft.Compute/virtualMachineScaleSets/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": "eastus",
        "sku": {"name": size, "tier": "Standard", "capacity": capacity},
        "properties": {
            "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "storageProfile": {
                    "imageReference": {
                        "publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy",
                        "sku": "22_04-lts-gen2",
                        "version": "latest",
                    },
                    "osDisk": {"osType": "Linux", "createOption": "FromImage"},
                },
                "osProfile": {"computerNamePrefix": name, "linuxConfiguration": {}},
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": f"{name}-nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {"name": f"{name}-ipconfig", "properties": ip_config}
                                ],
                            },
                        }
                    ]
                },
            },
            **(properties or {}),
        },
    }
    if sku_profile is not None:
        body["sku"] = {"name": "Mix", "tier": None, "capacity": capacity}
        body["properties"]["skuProfile"] = sku_profile
    if placement is not None:
        body["placement"] = placement
    return body


def probe(lb: str, name: str = "probe-lb", path: str = "healthcheck.aspx") -> dict[str, Any]:
    """An HTTP probe with a relative ``requestPath``, as every LoadBalancers example of the REST
    API documents it (and `New-AzLoadBalancerProbeConfig -RequestPath healthcheck.aspx`)."""
    return {
        "name": name,
        "id": f"{lb}/probes/{name}",
        "type": "Microsoft.Network/loadBalancers/probes",
        "properties": {
            "intervalInSeconds": 15,
            "numberOfProbes": 2,
            "port": 80,
            "probeThreshold": 1,
            "requestPath": path,
            "protocol": "Http",
            "provisioningState": "Succeeded",
        },
    }


def rule(lb: str, name: str = "rulelb", pool: str = "be-lb", frontend: str = "fe-lb") -> dict:
    return {
        "name": name,
        "id": f"{lb}/loadBalancingRules/{name}",
        "properties": {
            "backendAddressPool": _ref(f"{lb}/backendAddressPools/{pool}"),
            "backendPort": 80,
            "disableOutboundSnat": False,
            "enableFloatingIP": False,
            "frontendIPConfiguration": _ref(f"{lb}/frontendIPConfigurations/{frontend}"),
            "frontendPort": 80,
            "idleTimeoutInMinutes": 15,
            "loadDistribution": "Default",
            "probe": _ref(f"{lb}/probes/probe-lb"),
            "protocol": "Tcp",
        },
    }


def load_balancer(
    name: str,
    *,
    sku: dict[str, str] | None = None,
    frontend: dict[str, Any] | None = None,
    pools: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    nat_pools: list[dict[str, Any]] | None = None,
    outbound_rules: list[dict[str, Any]] | None = None,
    probes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A load balancer (LoadBalancers_Get response body, api-version 2025-03-01 examples)."""
    lb = lb_id(name)
    front = frontend or {
        "privateIPAddress": "10.0.1.4",
        "privateIPAllocationMethod": "Dynamic",
        "subnet": _ref(SUBNET),
    }
    return {
        "name": name,
        "id": lb,
        "type": "Microsoft.Network/loadBalancers",
        "location": "eastus",
        "sku": sku or {"name": "Standard"},
        "properties": {
            "frontendIPConfigurations": [
                {"name": "fe-lb", "id": f"{lb}/frontendIPConfigurations/fe-lb", "properties": front}
            ],
            "backendAddressPools": pools
            if pools is not None
            else [{"name": "be-lb", "id": f"{lb}/backendAddressPools/be-lb", "properties": {}}],
            "loadBalancingRules": rules if rules is not None else [rule(lb)],
            "probes": probes if probes is not None else [probe(lb)],
            "inboundNatRules": [],
            "inboundNatPools": nat_pools or [],
            "outboundRules": outbound_rules or [],
        },
    }


def gateway_provider_lb(name: str = "lb-nva") -> dict[str, Any]:
    """A Gateway-SKU load balancer whose pool is two VXLAN tunnel interfaces
    (LoadBalancerCreateGatewayLoadBalancerProviderWithOneBackendPool.json, the 200 body)."""
    lb = lb_id(name)
    pool = {
        "name": "be-lb",
        "id": f"{lb}/backendAddressPools/be-lb",
        "properties": {
            "tunnelInterfaces": [
                {"type": "Internal", "identifier": 900, "port": 15000, "protocol": "VXLAN"},
                {"type": "Internal", "identifier": 901, "port": 15001, "protocol": "VXLAN"},
            ]
        },
    }
    body = load_balancer(name, sku={"name": "Gateway"}, pools=[pool])
    body["properties"]["loadBalancingRules"][0]["properties"]["enableFloatingIP"] = True
    return body


def gateway_consumer_lb(name: str = "lb", provider: str = "lb-nva") -> dict[str, Any]:
    """A Standard load balancer whose frontend is chained to a gateway load balancer's frontend
    (LoadBalancerCreateGatewayLoadBalancerConsumer.json): its traffic passes the appliances."""
    return load_balancer(
        name,
        frontend={
            "gatewayLoadBalancer": _ref(f"{lb_id(provider)}/frontendIPConfigurations/fe-lb"),
            "privateIPAddress": "10.0.1.5",
            "privateIPAllocationMethod": "Dynamic",
            "subnet": _ref(SUBNET),
        },
    )


def global_lb(name: str, regional: list[str]) -> dict[str, Any]:
    """A cross-region (Global tier) load balancer whose pool names regional load balancers'
    frontends (LoadBalancerCreateGlobalTier.json)."""
    lb = lb_id(name)
    pool = {
        "name": "be-lb",
        "id": f"{lb}/backendAddressPools/be-lb",
        "properties": {
            "loadBalancerBackendAddresses": [
                {
                    "name": f"{r}-address",
                    "properties": {
                        "loadBalancerFrontendIPConfiguration": _ref(
                            f"{lb_id(r)}/frontendIPConfigurations/fe-lb"
                        )
                    },
                }
                for r in regional
            ]
        },
    }
    return load_balancer(name, sku={"name": "Standard", "tier": "Global"}, pools=[pool])


def public_frontend(pip: str) -> dict[str, Any]:
    return {"privateIPAllocationMethod": "Dynamic", "publicIPAddress": _ref(pip)}


def outbound_rule(lb: str, pool: str = "be-lb", ports: int = 10000) -> dict[str, Any]:
    """An outbound (SNAT) rule, as the load balancer docs print it (`outboundRules`)."""
    return {
        "name": "myOutboundRule",
        "id": f"{lb}/outboundRules/myOutboundRule",
        "properties": {
            "allocatedOutboundPorts": ports,
            "protocol": "All",
            "enableTcpReset": False,
            "idleTimeoutInMinutes": 15,
            "backendAddressPool": _ref(f"{lb}/backendAddressPools/{pool}"),
            "frontendIPConfigurations": [_ref(f"{lb}/frontendIPConfigurations/fe-lb")],
        },
    }


def inbound_nat_pool(lb: str, name: str = "natpool") -> dict[str, Any]:
    """An inbound NAT pool (per-instance port forwarding to a scale set), as the scale-set
    quickstart builds it (`New-AzLoadBalancerInboundNatPoolConfig ... -FrontendPortRangeStart
    3360 -FrontendPortRangeEnd 3362 -BackendPort 3370`)."""
    return {
        "name": name,
        "id": f"{lb}/inboundNatPools/{name}",
        "properties": {
            "frontendIPConfiguration": _ref(f"{lb}/frontendIPConfigurations/fe-lb"),
            "protocol": "Tcp",
            "frontendPortRangeStart": 3360,
            "frontendPortRangeEnd": 3362,
            "backendPort": 3370,
            "idleTimeoutInMinutes": 4,
        },
    }


def public_ip(name: str, ip_configuration: str | None) -> dict[str, Any]:
    """A public IP address (PublicIPAddresses_Get response body): ``ipConfiguration`` names the
    NIC ip configuration or load balancer frontend that uses it."""
    props: dict[str, Any] = {
        "publicIPAllocationMethod": "Static",
        "publicIPAddressVersion": "IPv4",
        "ipAddress": "20.0.0.1",
        "idleTimeoutInMinutes": 4,
    }
    if ip_configuration:
        props["ipConfiguration"] = _ref(ip_configuration)
    return {
        "name": name,
        "id": f"{NET}/publicIPAddresses/{name}",
        "type": "Microsoft.Network/publicIPAddresses",
        "location": "eastus",
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": props,
    }


def vm(name: str, nic: str, size: str = "Standard_D2s_v5") -> dict[str, Any]:
    return {
        "id": f"{RG}/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"osDisk": {"osType": "Linux"}},
            "networkProfile": {"networkInterfaces": [_ref(nic)]},
        },
    }


def nic(name: str, vm_name: str, ip: str, pip: str = "") -> dict[str, Any]:
    """A network interface (NetworkInterfaces_Get response body)."""
    nic_id = f"{NET}/networkInterfaces/{name}"
    ip_props: dict[str, Any] = {
        "privateIPAddress": ip,
        "privateIPAllocationMethod": "Dynamic",
        "subnet": _ref(SUBNET),
        "primary": True,
    }
    if pip:
        ip_props["publicIPAddress"] = _ref(pip)
    return {
        "name": name,
        "id": nic_id,
        "type": "Microsoft.Network/networkInterfaces",
        "location": "eastus",
        "properties": {
            "ipConfigurations": [
                {"name": "ipconfig1", "id": f"{nic_id}/ipConfigurations/ipconfig1",
                 "properties": ip_props}
            ],
            "virtualMachine": _ref(f"{RG}/Microsoft.Compute/virtualMachines/{vm_name}"),
            "primary": True,
        },
    }  # fmt: skip


def application_gateway(name: str = "appgw", *, jwt: bool = True) -> dict[str, Any]:
    """An application gateway with a rewrite rule set and Entra ID JWT validation on its routing
    rule (ApplicationGatewayCreate.json, api-version 2025-03-01, the 200 body)."""
    agw = f"{NET}/applicationGateways/{name}"
    routing: dict[str, Any] = {
        "backendAddressPool": _ref(f"{agw}/backendAddressPools/appgwpool"),
        "backendHttpSettings": _ref(f"{agw}/backendHttpSettingsCollection/appgwbhs"),
        "httpListener": _ref(f"{agw}/httpListeners/appgwhl"),
        "priority": 10,
        "rewriteRuleSet": _ref(f"{agw}/rewriteRuleSets/rewriteRuleSet1"),
        "ruleType": "Basic",
    }
    if jwt:
        routing["entraJWTValidationConfig"] = _ref(
            f"{agw}/entraJWTValidationConfigs/entraJWTValidationConfig1"
        )
    return {
        "name": name,
        "id": agw,
        "type": "Microsoft.Network/applicationGateways",
        "location": "eastus",
        "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 3},
            "gatewayIPConfigurations": [
                {"name": "appgwipc", "id": f"{agw}/gatewayIPConfigurations/appgwipc",
                 "properties": {"subnet": _ref(f"{VNET}/subnets/appgwsubnet")}}
            ],
            "frontendIPConfigurations": [
                {"name": "appgwfip", "id": f"{agw}/frontendIPConfigurations/appgwfip",
                 "properties": {"publicIPAddress": _ref(f"{NET}/publicIPAddresses/appgwpip")}}
            ],
            "frontendPorts": [
                {"name": "appgwfp", "id": f"{agw}/frontendPorts/appgwfp",
                 "properties": {"port": 443}}
            ],
            "backendAddressPools": [
                {"name": "appgwpool", "id": f"{agw}/backendAddressPools/appgwpool",
                 "properties": {"backendAddresses": [{"ipAddress": "10.0.1.1"},
                                                     {"ipAddress": "10.0.1.2"}]}}
            ],
            "backendHttpSettingsCollection": [
                {"name": "appgwbhs", "id": f"{agw}/backendHttpSettingsCollection/appgwbhs",
                 "properties": {"cookieBasedAffinity": "Disabled", "port": 80,
                                "requestTimeout": 30, "protocol": "Http"}}
            ],
            "httpListeners": [
                {"name": "appgwhl", "id": f"{agw}/httpListeners/appgwhl",
                 "properties": {
                     "frontendIPConfiguration": _ref(f"{agw}/frontendIPConfigurations/appgwfip"),
                     "frontendPort": _ref(f"{agw}/frontendPorts/appgwfp"),
                     "requireServerNameIndication": False,
                     "sslCertificate": _ref(f"{agw}/sslCertificates/sslcert"),
                     "protocol": "Https"}}
            ],
            "requestRoutingRules": [
                {"name": "appgwrule", "id": f"{agw}/requestRoutingRules/appgwrule",
                 "properties": routing}
            ],
            "rewriteRuleSets": [
                {"name": "rewriteRuleSet1", "id": f"{agw}/rewriteRuleSets/rewriteRuleSet1",
                 "properties": {"rewriteRules": [{
                     "name": "Set X-Forwarded-For",
                     "ruleSequence": 102,
                     "conditions": [{"ignoreCase": True, "negate": False, "pattern": "^Bearer",
                                     "variable": "http_req_Authorization"}],
                     "actionSet": {
                         "requestHeaderConfigurations": [
                             {"headerName": "X-Forwarded-For",
                              "headerValue": "{var_add_x_forwarded_for_proxy}"},
                             {"headerName": "X-Tenant", "headerValue": "contoso"}],
                         "responseHeaderConfigurations": [
                             {"headerName": "Strict-Transport-Security",
                              "headerValue": "max-age=31536000"},
                             {"headerName": "X-Powered-By", "headerValue": ""}],
                         "urlConfiguration": {"modifiedPath": "/abc"},
                     },
                 }]}}
            ],
            "entraJWTValidationConfigs": [
                {"name": "entraJWTValidationConfig1",
                 "id": f"{agw}/entraJWTValidationConfigs/entraJWTValidationConfig1",
                 "properties": {"clientId": "37293f5a-97b3-451d-b786-f532d711c9ff",
                                "tenantId": "70a036f6-8e4d-4615-bad6-149c02e7720d",
                                "unAuthorizedRequestAction": "Deny"}}
            ],
        },
    }  # fmt: skip
