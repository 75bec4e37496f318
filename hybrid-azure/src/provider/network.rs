//! Network: virtual networks, subnets, NICs, network security groups, public IPs.

use async_trait::async_trait;
use hybrid_core::model::*;
use hybrid_core::paging::error_stream;
use hybrid_core::provider::{ItemStream, Network};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, ReasonKind, Result};
use serde_json::{json, Value};

use super::{
    check_filters, check_name, done, ensure_absent, make_page, short_id, sliced, AzureProvider,
    Cursor,
};
use crate::api;
use crate::capabilities::{NO_PROVIDER_NETWORKS, NO_ROUTERS};
use crate::client::{decode, RawPage};
use crate::ids::{self, same_id, ResourceId};
use crate::lro;
use crate::protocol::common::{arm_tags, Tags, DESCRIPTION_TAG};
use crate::protocol::network::{
    floating_ip_from, network_from, port_from, rule_properties, security_group_from, subnet_from,
    Cidr, NetworkInterface, NetworkSecurityGroup, PublicIpAddress, SecurityRule, VirtualNetwork,
};

impl AzureProvider {
    fn no_routers(&self, operation: &str) -> Error {
        self.unsupported(operation, ReasonKind::PlatformNever, NO_ROUTERS)
    }
}

/// The subnets of a page of VNets, as one page.
fn subnets_of(page: RawPage) -> RawPage {
    let items = page
        .items
        .iter()
        .flat_map(|v| {
            v.pointer("/properties/subnets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    RawPage {
        items,
        next: page.next,
    }
}

impl AzureProvider {
    async fn networks_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<hybrid_core::model::Network>> {
        check_filters(options, &["scope"], "networks")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = match options.filters.get("scope").map(String::as_str) {
            None | Some("resource_group") => {
                sliced(cursor, options.page_size, |n| async move {
                    api::network::list_vnets(&arm, n).await
                })
                .await?
            }
            Some("subscription") => {
                sliced(cursor, options.page_size, |n| async move {
                    api::network::list_all_vnets(&arm, n).await
                })
                .await?
            }
            Some(other) => {
                return Err(Error::invalid_input(format!(
                    "the scope filter is `resource_group` or `subscription`, not {other:?}"
                )))
            }
        };
        make_page(items, next, network_from, |n| {
            options.matches(&n.name, &n.tags)
        })
    }

    async fn subnets_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        check_filters(options, &["network"], "subnets")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = match options.filters.get("network") {
            Some(n) => {
                let vnet = ids::resolve_id(n, ids::VNET, self.scope())?;
                sliced(cursor, options.page_size, |next| async move {
                    api::network::list_subnets(&arm, &vnet, next).await
                })
                .await?
            }
            None => {
                sliced(cursor, options.page_size, |next| async move {
                    api::network::list_vnets(&arm, next).await.map(subnets_of)
                })
                .await?
            }
        };
        make_page(items, next, subnet_from, |s| options.matches(&s.name, &[]))
    }

    async fn ports_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Port>> {
        check_filters(options, &[], "ports")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::network::list_nics(&arm, n).await
        })
        .await?;
        make_page(items, next, port_from, |p| options.matches(&p.name, &[]))
    }

    async fn security_groups_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        check_filters(options, &[], "security groups")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::network::list_nsgs(&arm, n).await
        })
        .await?;
        make_page(items, next, security_group_from, |g| {
            options.matches(&g.name, &g.tags)
        })
    }

    async fn floating_ips_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        check_filters(options, &[], "floating IPs")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::network::list_public_ips(&arm, n).await
        })
        .await?;
        make_page(items, next, floating_ip_from, |_| true)
    }

    /// A public IP with the private address it maps to (read from its NIC).
    async fn floating_ip(&self, id: &ResourceId) -> Result<FloatingIp> {
        let arm = self.arm_client();
        let doc = api::network::get_public_ip(arm, id).await?;
        let pip: PublicIpAddress = decode(&doc, "a public IP address")?;
        let mut fip = pip.to_floating_ip(doc);
        if let (Some(cfg), Some(port)) = (pip.ip_configuration_id(), fip.port_id.as_ref()) {
            if let Some(nic_id) = ResourceId::parse(port.as_str()) {
                match api::network::get_nic(arm, &nic_id).await {
                    Ok(d) => {
                        let nic: NetworkInterface = decode(&d, "a network interface")?;
                        fip.fixed_address = nic
                            .properties
                            .ip_configurations
                            .iter()
                            .find(|c| c.id.as_deref().is_some_and(|i| same_id(i, cfg)))
                            .and_then(|c| c.address());
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(fip)
    }

    /// Points the primary IP configuration of `port` at public IP `pip` (or, with
    /// `None` for the port, unmaps `pip` from wherever it is).
    async fn associate(
        &self,
        pip_id: &ResourceId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        let arm = self.arm_client();
        let doc = api::network::get_public_ip(arm, pip_id).await?;
        let pip: PublicIpAddress = decode(&doc, "a public IP address")?;
        let current_cfg = pip.ip_configuration_id().map(str::to_owned);
        let (nic_id, mut nic_doc, cfg_index, set) = match port {
            Some(port) => {
                let nic_id = ids::resolve_id(port.as_str(), ids::NIC, self.scope())?;
                if let Some(cfg) = &current_cfg {
                    let nic_of =
                        crate::protocol::network::nic_of_ip_configuration(cfg).unwrap_or_default();
                    if same_id(&nic_of, &nic_id.to_string()) {
                        let f = self.floating_ip(pip_id).await?;
                        return Ok(done("associate floating IP", f));
                    }
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                            "floating IP {} is mapped to port {nic_of} already; unmap it first",
                            pip.name
                        ),
                    ));
                }
                let nic_doc = api::network::get_nic(arm, &nic_id).await?;
                let nic: NetworkInterface = decode(&nic_doc, "a network interface")?;
                let cfgs = &nic.properties.ip_configurations;
                let idx = cfgs
                    .iter()
                    .position(|c| c.properties.primary == Some(true))
                    .or(if cfgs.is_empty() { None } else { Some(0) })
                    .ok_or_else(|| {
                        Error::invalid_input(format!("port {} has no IP configuration", nic.name))
                    })?;
                if let Some(other) = cfgs[idx].public_ip_id() {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!("port {} is mapped to floating IP {other} already", nic.name),
                    ));
                }
                (nic_id, nic_doc, idx, true)
            }
            None => {
                let Some(cfg) = current_cfg else {
                    let f = self.floating_ip(pip_id).await?;
                    return Ok(done("unmap floating IP", f));
                };
                let nic_id = crate::protocol::network::nic_of_ip_configuration(&cfg)
                    .and_then(|n| ResourceId::parse(&n))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Unsupported,
                            format!("floating IP {} is mapped to {cfg}, which is not a network interface hybrid can change", pip.name),
                        )
                    })?;
                let nic_doc = api::network::get_nic(arm, &nic_id).await?;
                let nic: NetworkInterface = decode(&nic_doc, "a network interface")?;
                let idx = nic
                    .properties
                    .ip_configurations
                    .iter()
                    .position(|c| c.id.as_deref().is_some_and(|i| same_id(i, &cfg)))
                    .ok_or_else(|| Error::not_found(format!("IP configuration {cfg}")))?;
                (nic_id, nic_doc, idx, false)
            }
        };
        let slot = nic_doc
            .pointer_mut(&format!(
                "/properties/ipConfigurations/{cfg_index}/properties"
            ))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    "the network interface document has no IP configuration properties",
                )
            })?;
        if set {
            slot.insert("publicIPAddress".into(), json!({"id": pip_id.to_string()}));
        } else {
            slot.remove("publicIPAddress");
        }
        let op = if set {
            "associate_floating_ip"
        } else {
            "disassociate_floating_ip"
        };
        let lro = api::network::put_nic(arm, &nic_id, &nic_doc, op).await?;
        let p = self.clone();
        let pid = pip_id.clone();
        Ok(lro::operation(
            format!(
                "{} floating IP {}",
                if set { "map" } else { "unmap" },
                pip.name
            ),
            pip_id.to_string(),
            lro,
            move |_| {
                let p = p.clone();
                let pid = pid.clone();
                async move { p.floating_ip(&pid).await }
            },
        )
        .with_options(self.inner.wait))
    }
}

#[async_trait]
impl Network for AzureProvider {
    fn list_networks(&self, options: ListOptions) -> ItemStream<hybrid_core::model::Network> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.networks_page(&o, t).await }
        })
    }

    async fn list_networks_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<hybrid_core::model::Network>> {
        self.networks_page(options, page).await
    }

    async fn get_network(&self, id: &NetworkId) -> Result<hybrid_core::model::Network> {
        let rid = ids::resolve_id(id.as_str(), ids::VNET, self.scope())?;
        network_from(api::network::get_vnet(self.arm_client(), &rid).await?)
    }

    async fn create_network(
        &self,
        spec: &CreateNetwork,
    ) -> Result<Operation<hybrid_core::model::Network>> {
        match spec.kind {
            NetworkKind::Overlay => {}
            NetworkKind::Flat | NetworkKind::Vlan => {
                return Err(self.unsupported(
                    "create_network",
                    ReasonKind::PlatformNever,
                    NO_PROVIDER_NETWORKS,
                ))
            }
            ref other => {
                return Err(Error::invalid_input(format!(
                    "Azure virtual networks are overlays; a {other} network cannot be created"
                )))
            }
        }
        if spec.segmentation_id.is_some() || spec.physical_network.is_some() {
            return Err(Error::invalid_input(
                "Azure virtual networks have no segmentation id or physical network",
            ));
        }
        check_name(&spec.name, "virtual network")?;
        let arm = self.arm_client();
        let id = arm.group_id("Microsoft.Network", &[("virtualNetworks", &spec.name)])?;
        let tags = arm_tags(&spec.tags, &Default::default(), &Tags::new())?;
        ensure_absent(
            api::network::get_vnet(arm, &id),
            format!("network {}", spec.name),
        )
        .await?;
        let mut body = json!({
            "location": self.scope().location,
            "properties": {"addressSpace": {"addressPrefixes": self.inner.settings.vnet_address_space}},
        });
        if !tags.is_empty() {
            body["tags"] = json!(tags);
        }
        let lro = api::network::put_vnet(arm, &id, &body, "create_network").await?;
        Ok(self.resource_operation(
            format!("create network {}", spec.name),
            &id,
            lro,
            |arm, id| async move { api::network::get_vnet(&arm, &id).await },
            network_from,
        ))
    }

    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::VNET, self.scope())?;
        let lro = api::network::delete_vnet(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete network {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    fn list_subnets(&self, options: ListOptions) -> ItemStream<Subnet> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.subnets_page(&o, t).await }
        })
    }

    async fn list_subnets_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        self.subnets_page(options, page).await
    }

    async fn get_subnet(&self, id: &SubnetId) -> Result<Subnet> {
        let rid = ids::resolve_id(id.as_str(), ids::SUBNET, self.scope())?;
        subnet_from(api::network::get_subnet(self.arm_client(), &rid).await?)
    }

    async fn create_subnet(&self, spec: &CreateSubnet) -> Result<Operation<Subnet>> {
        let vnet_id = ids::resolve_id(spec.network_id.as_str(), ids::VNET, self.scope())?;
        check_name(&spec.name, "subnet")?;
        let cidr = Cidr::parse(&spec.cidr)?;
        if cidr.version() != spec.ip_version {
            return Err(Error::invalid_input(format!(
                "{} is not an {:?} range",
                spec.cidr, spec.ip_version
            )));
        }
        if !spec.dhcp_enabled {
            return Err(Error::invalid_input(
                "Azure subnets always serve DHCP; it cannot be turned off",
            ));
        }
        if let Some(g) = &spec.gateway_ip {
            if cidr.azure_gateway().as_deref() != Some(g.as_str()) {
                return Err(Error::invalid_input(format!(
                    "Azure's gateway of {} is its first address ({}); it cannot be {g}",
                    spec.cidr,
                    cidr.azure_gateway().unwrap_or_else(|| "none".into())
                )));
            }
        }
        if !spec.dns_nameservers.is_empty() {
            return Err(Error::invalid_input(
                "DNS servers are a setting of the Azure virtual network, not of a subnet",
            ));
        }
        let arm = self.arm_client();
        let mut doc = api::network::get_vnet(arm, &vnet_id).await?;
        let vnet: VirtualNetwork = decode(&doc, "a virtual network")?;
        if vnet.properties.subnets.iter().any(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&spec.name))
        }) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "subnet {} of network {} already exists",
                    spec.name, vnet.name
                ),
            ));
        }
        let prefixes = vnet.prefixes();
        let inside = prefixes
            .iter()
            .filter_map(|p| Cidr::parse(p).ok())
            .any(|p| p.contains(&cidr));
        if !inside {
            // Widen the VNet's address space to hold the subnet: a PUT of the whole
            // document (subnets included) with one more prefix.
            let mut widened = prefixes.clone();
            widened.push(spec.cidr.trim().to_owned());
            let props = doc
                .get_mut("properties")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        "the virtual network document has no properties",
                    )
                })?;
            props.insert("addressSpace".into(), json!({"addressPrefixes": widened}));
            let lro = api::network::put_vnet(arm, &vnet_id, &doc, "create_subnet").await?;
            self.wait_lro(format!("widen network {}", vnet.name), lro)
                .await?;
        }
        let id = vnet_id.child("subnets", &spec.name)?;
        let body = json!({"properties": {"addressPrefix": spec.cidr.trim()}});
        let lro = api::network::put_subnet(arm, &id, &body).await?;
        Ok(self.resource_operation(
            format!("create subnet {}", spec.name),
            &id,
            lro,
            |arm, id| async move { api::network::get_subnet(&arm, &id).await },
            subnet_from,
        ))
    }

    async fn delete_subnet(&self, id: &SubnetId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::SUBNET, self.scope())?;
        let lro = api::network::delete_subnet(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete subnet {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    fn list_ports(&self, options: ListOptions) -> ItemStream<Port> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.ports_page(&o, t).await }
        })
    }

    async fn list_ports_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Port>> {
        self.ports_page(options, page).await
    }

    async fn get_port(&self, id: &PortId) -> Result<Port> {
        let rid = ids::resolve_id(id.as_str(), ids::NIC, self.scope())?;
        port_from(api::network::get_nic(self.arm_client(), &rid).await?)
    }

    async fn create_port(&self, spec: &CreatePort) -> Result<Operation<Port>> {
        let vnet_id = ids::resolve_id(spec.network_id.as_str(), ids::VNET, self.scope())?;
        check_name(&spec.name, "network interface")?;
        if spec.security_groups.len() > 1 {
            return Err(Error::invalid_input(
                "an Azure network interface takes one network security group; give at most one",
            ));
        }
        let nsg = match spec.security_groups.first() {
            Some(g) => Some(ids::resolve_id(g.as_str(), ids::NSG, self.scope())?),
            None => None,
        };
        let arm = self.arm_client();
        let vdoc = api::network::get_vnet(arm, &vnet_id).await?;
        let vnet: VirtualNetwork = decode(&vdoc, "a virtual network")?;
        let subnet_for = |fixed: Option<&FixedIp>| -> Result<String> {
            if let Some(sid) = fixed.and_then(|f| f.subnet_id.as_ref()) {
                let r = ids::resolve_id(sid.as_str(), ids::SUBNET, self.scope())?;
                if !r.parent().is_some_and(|p| p == vnet_id) {
                    return Err(Error::invalid_input(format!(
                        "subnet {sid} is not on network {}",
                        vnet.name
                    )));
                }
                return Ok(r.to_string());
            }
            let want = fixed
                .filter(|f| !f.ip_address.is_empty())
                .map(|f| {
                    f.ip_address
                        .parse::<std::net::IpAddr>()
                        .map(|a| Cidr {
                            addr: a,
                            len: if a.is_ipv4() { 32 } else { 128 },
                        })
                        .map_err(|_| {
                            Error::invalid_input(format!("{:?} is not an IP address", f.ip_address))
                        })
                })
                .transpose()?;
            vnet.properties
                .subnets
                .iter()
                .find(|s| match &want {
                    None => true,
                    Some(host) => s
                        .prefix()
                        .and_then(|p| Cidr::parse(p).ok())
                        .is_some_and(|c| c.contains(host)),
                })
                .and_then(|s| s.id.clone())
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "network {} has no subnet for the port; create one first",
                        vnet.name
                    ))
                })
        };
        let mut configs = Vec::new();
        if spec.fixed_ips.is_empty() {
            configs.push(json!({
                "name": "ipconfig1",
                "properties": {"subnet": {"id": subnet_for(None)?}, "privateIPAllocationMethod": "Dynamic", "primary": true}
            }));
        }
        for (i, f) in spec.fixed_ips.iter().enumerate() {
            let mut c = json!({
                "name": format!("ipconfig{}", i + 1),
                "properties": {"subnet": {"id": subnet_for(Some(f))?}, "privateIPAllocationMethod": "Dynamic", "primary": i == 0}
            });
            if !f.ip_address.is_empty() {
                c["properties"]["privateIPAllocationMethod"] = json!("Static");
                c["properties"]["privateIPAddress"] = json!(f.ip_address);
            }
            configs.push(c);
        }
        let id = arm.group_id("Microsoft.Network", &[("networkInterfaces", &spec.name)])?;
        ensure_absent(
            api::network::get_nic(arm, &id),
            format!("port {}", spec.name),
        )
        .await?;
        let mut body = json!({
            "location": self.scope().location,
            "properties": {"ipConfigurations": configs},
        });
        if let Some(n) = nsg {
            body["properties"]["networkSecurityGroup"] = json!({"id": n.to_string()});
        }
        let lro = api::network::put_nic(arm, &id, &body, "create_port").await?;
        Ok(self.resource_operation(
            format!("create port {}", spec.name),
            &id,
            lro,
            |arm, id| async move { api::network::get_nic(&arm, &id).await },
            port_from,
        ))
    }

    async fn delete_port(&self, id: &PortId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::NIC, self.scope())?;
        let lro = api::network::delete_nic(self.arm_client(), &rid).await?;
        Ok(
            lro::operation_unit(format!("delete port {}", rid.name()), rid.to_string(), lro)
                .with_options(self.inner.wait),
        )
    }

    fn list_security_groups(&self, options: ListOptions) -> ItemStream<SecurityGroup> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.security_groups_page(&o, t).await }
        })
    }

    async fn list_security_groups_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        self.security_groups_page(options, page).await
    }

    async fn get_security_group(&self, id: &SecurityGroupId) -> Result<SecurityGroup> {
        let rid = ids::resolve_id(id.as_str(), ids::NSG, self.scope())?;
        security_group_from(api::network::get_nsg(self.arm_client(), &rid).await?)
    }

    async fn create_security_group(
        &self,
        spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>> {
        check_name(&spec.name, "network security group")?;
        if spec.description.chars().count() > 256 {
            return Err(Error::invalid_input(
                "the description is longer than the 256 characters an Azure tag holds",
            ));
        }
        let arm = self.arm_client();
        let id = arm.group_id(
            "Microsoft.Network",
            &[("networkSecurityGroups", &spec.name)],
        )?;
        ensure_absent(
            api::network::get_nsg(arm, &id),
            format!("security group {}", spec.name),
        )
        .await?;
        let mut body = json!({"location": self.scope().location, "properties": {}});
        if !spec.description.is_empty() {
            body["tags"] = json!({DESCRIPTION_TAG: spec.description});
        }
        let lro = api::network::put_nsg(arm, &id, &body).await?;
        Ok(self.resource_operation(
            format!("create security group {}", spec.name),
            &id,
            lro,
            |arm, id| async move { api::network::get_nsg(&arm, &id).await },
            security_group_from,
        ))
    }

    async fn delete_security_group(&self, id: &SecurityGroupId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::NSG, self.scope())?;
        let lro = api::network::delete_nsg(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete security group {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    async fn create_security_group_rule(
        &self,
        spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>> {
        let nsg_id = ids::resolve_id(spec.group_id.as_str(), ids::NSG, self.scope())?;
        // Validate before any request.
        let candidate = rule_properties(
            spec.direction,
            spec.protocol.as_deref(),
            spec.port_min,
            spec.port_max,
            spec.remote.as_ref(),
            100,
        )?;
        let arm = self.arm_client();
        let doc = api::network::get_nsg(arm, &nsg_id).await?;
        let nsg: NetworkSecurityGroup = decode(&doc, "a network security group")?;
        let group = nsg.id.clone();
        let as_rule = |props: &Value| -> Option<SecurityGroupRule> {
            SecurityRule {
                id: Some("candidate".into()),
                name: None,
                properties: serde_json::from_value(props.clone()).ok()?,
            }
            .to_rule(&group)
        };
        let want = as_rule(&candidate).ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                "the new rule does not read back as a rule",
            )
        })?;
        let same = |r: &SecurityGroupRule| {
            r.direction == want.direction
                && r.protocol == want.protocol
                && r.port_min == want.port_min
                && r.port_max == want.port_max
                && r.remote == want.remote
        };
        if let Some(existing) = nsg
            .properties
            .security_rules
            .iter()
            .filter_map(|r| r.to_rule(&group))
            .find(same)
        {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "security group {} has this rule already ({})",
                    nsg.name, existing.id
                ),
            ));
        }
        let dir = if spec.direction == Direction::Ingress {
            "Inbound"
        } else {
            "Outbound"
        };
        let used: Vec<u32> = nsg
            .properties
            .security_rules
            .iter()
            .filter(|r| {
                r.properties
                    .direction
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(dir))
            })
            .filter_map(|r| r.properties.priority)
            .collect();
        let priority = (100..=4096u32).find(|p| !used.contains(p)).ok_or_else(|| {
            Error::new(
                ErrorKind::QuotaExceeded,
                format!("security group {} has no free rule priority left", nsg.name),
            )
        })?;
        let props = rule_properties(
            spec.direction,
            spec.protocol.as_deref(),
            spec.port_min,
            spec.port_max,
            spec.remote.as_ref(),
            priority,
        )?;
        let rule_id = nsg_id.child("securityRules", &format!("hybrid-{}", short_id()))?;
        let lro =
            api::network::put_security_rule(arm, &rule_id, &json!({"properties": props})).await?;
        let arm2 = arm.clone();
        let rid = rule_id.clone();
        Ok(lro::operation(
            format!("create a rule in security group {}", nsg.name),
            rule_id.to_string(),
            lro,
            move |v| {
                let arm = arm2.clone();
                let rid = rid.clone();
                let group = group.clone();
                async move {
                    let doc = match v {
                        Some(d) if d.get("id").is_some() => d,
                        _ => api::network::get_security_rule(&arm, &rid).await?,
                    };
                    let r: SecurityRule = decode(&doc, "a security rule")?;
                    r.to_rule(&group).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            "the created security rule does not read back as an allow rule",
                        )
                    })
                }
            },
        )
        .with_options(self.inner.wait))
    }

    async fn delete_security_group_rule(&self, id: &SecurityGroupRuleId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::NSG_RULE, self.scope())?;
        let lro = api::network::delete_security_rule(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete security rule {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    fn list_routers(&self, _options: ListOptions) -> ItemStream<Router> {
        error_stream(self.no_routers("list_routers"))
    }

    async fn list_routers_page(
        &self,
        _options: &ListOptions,
        _page: Option<PageToken>,
    ) -> Result<Page<Router>> {
        Err(self.no_routers("list_routers_page"))
    }

    async fn get_router(&self, _id: &RouterId) -> Result<Router> {
        Err(self.no_routers("get_router"))
    }

    async fn create_router(&self, _spec: &CreateRouter) -> Result<Operation<Router>> {
        Err(self.no_routers("create_router"))
    }

    async fn delete_router(&self, _id: &RouterId) -> Result<Operation<()>> {
        Err(self.no_routers("delete_router"))
    }

    async fn add_router_interface(
        &self,
        _router: &RouterId,
        _subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        Err(self.no_routers("add_router_interface"))
    }

    async fn remove_router_interface(
        &self,
        _router: &RouterId,
        _subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        Err(self.no_routers("remove_router_interface"))
    }

    fn list_floating_ips(&self, options: ListOptions) -> ItemStream<FloatingIp> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.floating_ips_page(&o, t).await }
        })
    }

    async fn list_floating_ips_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        self.floating_ips_page(options, page).await
    }

    async fn get_floating_ip(&self, id: &FloatingIpId) -> Result<FloatingIp> {
        let rid = ids::resolve_id(id.as_str(), ids::PUBLIC_IP, self.scope())?;
        self.floating_ip(&rid).await
    }

    async fn create_floating_ip(&self, spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>> {
        if let Some(n) = &spec.network_id {
            return Err(Error::invalid_input(format!(
                "Azure public IP addresses come from no network; leave network_id ({n}) unset"
            )));
        }
        let port = match &spec.port_id {
            Some(p) => Some(ids::resolve_id(p.as_str(), ids::NIC, self.scope())?),
            None => None,
        };
        let arm = self.arm_client();
        let name = format!("hybrid-pip-{}", short_id());
        let id = arm.group_id("Microsoft.Network", &[("publicIPAddresses", &name)])?;
        let body = json!({
            "location": self.scope().location,
            "sku": {"name": self.inner.settings.public_ip_sku},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
        });
        let lro = api::network::put_public_ip(arm, &id, &body).await?;
        let p = self.clone();
        let rid = id.clone();
        Ok(lro::operation(
            format!("create floating IP {name}"),
            id.to_string(),
            lro,
            move |_| {
                let p = p.clone();
                let rid = rid.clone();
                let port = port.clone();
                async move {
                    if let Some(port) = port {
                        p.associate(&rid, Some(&PortId::new(port.to_string())))
                            .await?
                            .with_options(p.inner.wait)
                            .await?;
                    }
                    p.floating_ip(&rid).await
                }
            },
        )
        .with_options(self.inner.wait))
    }

    async fn associate_floating_ip(
        &self,
        id: &FloatingIpId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        let rid = ids::resolve_id(id.as_str(), ids::PUBLIC_IP, self.scope())?;
        self.associate(&rid, port).await
    }

    async fn delete_floating_ip(&self, id: &FloatingIpId) -> Result<Operation<()>> {
        let rid = ids::resolve_id(id.as_str(), ids::PUBLIC_IP, self.scope())?;
        let lro = api::network::delete_public_ip(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete floating IP {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }
}
