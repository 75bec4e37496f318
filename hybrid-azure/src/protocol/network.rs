//! Microsoft.Network: virtual networks, subnets, network interfaces, network security
//! groups and their rules, public IP addresses.
//!
//! Security rules: a hybrid rule is an *allow* rule for one protocol (or any), one port
//! range and one remote address range. It maps onto an NSG rule with `access: Allow`,
//! `Inbound` for ingress (the remote is the source, the ports are destination ports) or
//! `Outbound` for egress (the remote is the destination), any source port, and a
//! priority hybrid picks (the lowest free one from 100 in that direction). NSG rules
//! that cannot be read that way — `Deny` rules, port or address lists, source-port
//! restrictions, service tags — are left out of [`SecurityGroup::rules`] (they stay in
//! the raw document), as are the NSG's default rules. Rules naming another security
//! group as remote have no NSG equivalent (Azure has application security groups
//! instead) and are refused.

use std::net::IpAddr;

use hybrid_core::model::{
    Direction, FixedIp, FloatingIp, FloatingIpId, IpVersion, Network, NetworkId, NetworkKind,
    NetworkStatus, Port, PortId, RawDocument, RuleRemote, SecurityGroup, SecurityGroupId,
    SecurityGroupRule, SecurityGroupRuleId, ServerId, Subnet, SubnetId,
};
use hybrid_core::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};

use super::common::{name_of, provisioning_status, split_tags, SubResource, Tags, DESCRIPTION_TAG};
use crate::client::decode;
use crate::ids::ResourceId;

/// An IP prefix (`10.0.0.0/16`, `fd00::/64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The address as written.
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl Cidr {
    /// Parses `address/length`.
    ///
    /// # Errors
    /// `InvalidInput` when it is not a CIDR.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::invalid_input(format!("{s:?} is not a CIDR (like 10.0.0.0/24)"));
        let (a, l) = s.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(bad());
        }
        Ok(Cidr { addr, len })
    }

    fn bits(&self) -> (u128, u8) {
        match self.addr {
            IpAddr::V4(a) => (u32::from(a) as u128, 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    fn network(&self) -> u128 {
        let (b, width) = self.bits();
        if self.len == 0 {
            return 0;
        }
        let host = width - self.len;
        if host >= 128 {
            0
        } else {
            (b >> host) << host
        }
    }

    /// Whether `other` lies wholly inside this prefix.
    pub fn contains(&self, other: &Cidr) -> bool {
        if self.addr.is_ipv4() != other.addr.is_ipv4() || other.len < self.len {
            return false;
        }
        let (_, width) = self.bits();
        let shift = width - self.len;
        let (o, _) = other.bits();
        let on = if shift >= 128 {
            0
        } else {
            (o >> shift) << shift
        };
        on == self.network()
    }

    /// The IP version.
    pub fn version(&self) -> IpVersion {
        if self.addr.is_ipv4() {
            IpVersion::V4
        } else {
            IpVersion::V6
        }
    }

    /// Azure's gateway of an IPv4 subnet: its first address after the network address.
    pub fn azure_gateway(&self) -> Option<String> {
        match self.addr {
            IpAddr::V4(_) if self.len <= 29 => {
                let n = self.network() as u32 + 1;
                Some(std::net::Ipv4Addr::from(n).to_string())
            }
            _ => None,
        }
    }
}

/// A virtual network (`Microsoft.Network/virtualNetworks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetwork {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// The location.
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: VnetProperties,
}

/// Properties of a VNet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VnetProperties {
    /// The address space.
    #[serde(default)]
    pub address_space: Option<AddressSpace>,
    /// Its subnets.
    #[serde(default)]
    pub subnets: Vec<VnetSubnet>,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// An address space.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressSpace {
    /// The prefixes.
    #[serde(default)]
    pub address_prefixes: Vec<String>,
}

/// A subnet (`virtualNetworks/subnets`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VnetSubnet {
    /// The ARM id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: SubnetProperties,
}

/// Properties of a subnet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetProperties {
    /// The prefix.
    #[serde(default)]
    pub address_prefix: Option<String>,
    /// The prefixes, for dual-stack subnets.
    #[serde(default)]
    pub address_prefixes: Vec<String>,
    /// The NSG on the subnet.
    #[serde(default)]
    pub network_security_group: Option<SubResource>,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

impl VirtualNetwork {
    /// The core network: an overlay, never external, with its subnets.
    pub fn to_network(&self, raw: Value) -> Network {
        let (tags, _, _) = split_tags(&self.tags);
        Network {
            id: NetworkId::new(&self.id),
            name: name_of(&self.name, &self.id),
            kind: NetworkKind::Overlay,
            segmentation_id: None,
            status: provisioning_status(self.properties.provisioning_state.as_deref()),
            shared: false,
            external: false,
            subnets: self
                .properties
                .subnets
                .iter()
                .filter_map(|s| s.id.clone().map(SubnetId::new))
                .collect(),
            tags,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }

    /// The address prefixes.
    pub fn prefixes(&self) -> Vec<String> {
        self.properties
            .address_space
            .as_ref()
            .map(|a| a.address_prefixes.clone())
            .unwrap_or_default()
    }
}

/// Decodes a VNet document.
///
/// # Errors
/// `InvalidResponse` when it is not a VNet document.
pub fn network_from(doc: Value) -> Result<Network> {
    let v: VirtualNetwork = decode(&doc, "a virtual network")?;
    Ok(v.to_network(doc))
}

impl VnetSubnet {
    /// The subnet's first prefix.
    pub fn prefix(&self) -> Option<&str> {
        self.properties
            .address_prefix
            .as_deref()
            .or_else(|| self.properties.address_prefixes.first().map(String::as_str))
    }

    /// The core subnet; its network is the VNet in its id. DHCP is always on in Azure,
    /// and the gateway is the subnet's first address.
    pub fn to_subnet(&self, raw: Value) -> Subnet {
        let id = self.id.clone().unwrap_or_default();
        let network = ResourceId::parse(&id)
            .and_then(|r| r.parent())
            .map(|p| p.to_string())
            .unwrap_or_default();
        let cidr = self.prefix().unwrap_or("").to_owned();
        let parsed = Cidr::parse(&cidr).ok();
        Subnet {
            id: SubnetId::new(id.clone()),
            network_id: NetworkId::new(network),
            name: name_of(self.name.as_deref().unwrap_or(""), &id),
            ip_version: parsed.map(|c| c.version()).unwrap_or_default(),
            gateway_ip: parsed.and_then(|c| c.azure_gateway()),
            cidr,
            dhcp_enabled: true,
            dns_nameservers: Vec::new(),
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a subnet document.
///
/// # Errors
/// `InvalidResponse` when it is not a subnet document.
pub fn subnet_from(doc: Value) -> Result<Subnet> {
    let s: VnetSubnet = decode(&doc, "a subnet")?;
    Ok(s.to_subnet(doc))
}

/// A network interface (`Microsoft.Network/networkInterfaces`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInterface {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Properties.
    #[serde(default)]
    pub properties: NicProperties,
}

/// Properties of a NIC.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NicProperties {
    /// IP configurations.
    #[serde(default)]
    pub ip_configurations: Vec<IpConfiguration>,
    /// MAC address (`00-0D-3A-1B-C7-21`).
    #[serde(default)]
    pub mac_address: Option<String>,
    /// The VM using it.
    #[serde(default)]
    pub virtual_machine: Option<SubResource>,
    /// Its NSG.
    #[serde(default)]
    pub network_security_group: Option<SubResource>,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// An IP configuration of a NIC.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpConfiguration {
    /// The ARM id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: IpConfigurationProperties,
}

/// Properties of an IP configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpConfigurationProperties {
    /// The private address (sometimes with a prefix length).
    #[serde(default, rename = "privateIPAddress")]
    pub private_ip_address: Option<String>,
    /// The subnet.
    #[serde(default)]
    pub subnet: Option<SubResource>,
    /// The public IP.
    #[serde(default, rename = "publicIPAddress")]
    pub public_ip_address: Option<SubResource>,
    /// Whether this is the primary configuration.
    #[serde(default)]
    pub primary: Option<bool>,
}

impl IpConfiguration {
    /// The private address without a prefix length.
    pub fn address(&self) -> Option<String> {
        self.properties
            .private_ip_address
            .as_deref()
            .map(|a| a.split('/').next().unwrap_or(a).to_owned())
            .filter(|a| !a.is_empty())
    }

    /// The subnet id.
    pub fn subnet_id(&self) -> Option<&str> {
        self.properties
            .subnet
            .as_ref()
            .and_then(|s| s.id.as_deref())
    }

    /// The public IP id.
    pub fn public_ip_id(&self) -> Option<&str> {
        self.properties
            .public_ip_address
            .as_ref()
            .and_then(|s| s.id.as_deref())
    }
}

/// The VNet id of a subnet id.
pub fn vnet_of_subnet(subnet_id: &str) -> Option<String> {
    ResourceId::parse(subnet_id)
        .and_then(|r| r.parent())
        .map(|p| p.to_string())
}

impl NetworkInterface {
    /// The primary IP configuration (or the first).
    pub fn primary_config(&self) -> Option<&IpConfiguration> {
        let c = &self.properties.ip_configurations;
        c.iter()
            .find(|c| c.properties.primary == Some(true))
            .or_else(|| c.first())
    }

    /// The core port: its network is the VNet of the primary configuration's subnet;
    /// the MAC address is written `00:0d:3a:…`.
    pub fn to_port(&self, raw: Value) -> Port {
        let p = &self.properties;
        let network = self
            .primary_config()
            .and_then(IpConfiguration::subnet_id)
            .and_then(vnet_of_subnet)
            .unwrap_or_default();
        Port {
            id: PortId::new(&self.id),
            name: name_of(&self.name, &self.id),
            network_id: NetworkId::new(network),
            mac_address: p
                .mac_address
                .as_ref()
                .map(|m| m.replace('-', ":").to_ascii_lowercase()),
            fixed_ips: p
                .ip_configurations
                .iter()
                .filter_map(|c| {
                    c.address().map(|a| FixedIp {
                        subnet_id: c.subnet_id().map(SubnetId::new),
                        ip_address: a,
                    })
                })
                .collect(),
            device_id: p
                .virtual_machine
                .as_ref()
                .and_then(|v| v.id.clone())
                .map(ServerId::new),
            security_groups: p
                .network_security_group
                .as_ref()
                .and_then(|n| n.id.clone())
                .map(SecurityGroupId::new)
                .into_iter()
                .collect(),
            status: provisioning_status(p.provisioning_state.as_deref()),
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a NIC document.
///
/// # Errors
/// `InvalidResponse` when it is not a NIC document.
pub fn port_from(doc: Value) -> Result<Port> {
    let n: NetworkInterface = decode(&doc, "a network interface")?;
    Ok(n.to_port(doc))
}

/// A network security group (`Microsoft.Network/networkSecurityGroups`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSecurityGroup {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: NsgProperties,
}

/// Properties of an NSG.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NsgProperties {
    /// The rules.
    #[serde(default)]
    pub security_rules: Vec<SecurityRule>,
    /// Azure's default rules.
    #[serde(default)]
    pub default_security_rules: Vec<SecurityRule>,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// A security rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRule {
    /// The ARM id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: SecurityRuleProperties,
}

/// Properties of a security rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRuleProperties {
    /// `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah` or `*`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The source port range.
    #[serde(default)]
    pub source_port_range: Option<String>,
    /// The destination port range.
    #[serde(default)]
    pub destination_port_range: Option<String>,
    /// Several source port ranges.
    #[serde(default)]
    pub source_port_ranges: Vec<String>,
    /// Several destination port ranges.
    #[serde(default)]
    pub destination_port_ranges: Vec<String>,
    /// The source prefix, `*` or a service tag.
    #[serde(default)]
    pub source_address_prefix: Option<String>,
    /// Several source prefixes.
    #[serde(default)]
    pub source_address_prefixes: Vec<String>,
    /// The destination prefix.
    #[serde(default)]
    pub destination_address_prefix: Option<String>,
    /// Several destination prefixes.
    #[serde(default)]
    pub destination_address_prefixes: Vec<String>,
    /// Source application security groups.
    #[serde(default)]
    pub source_application_security_groups: Vec<Value>,
    /// Destination application security groups.
    #[serde(default)]
    pub destination_application_security_groups: Vec<Value>,
    /// `Allow` or `Deny`.
    #[serde(default)]
    pub access: Option<String>,
    /// 100–4096.
    #[serde(default)]
    pub priority: Option<u32>,
    /// `Inbound` or `Outbound`.
    #[serde(default)]
    pub direction: Option<String>,
}

fn is_any(s: Option<&str>) -> bool {
    matches!(s.map(str::trim), None | Some("*") | Some(""))
}

/// Parses a destination port range: `*` → none, `22`, `1000-2000`.
fn port_range(s: Option<&str>) -> Option<(Option<u16>, Option<u16>)> {
    let s = s.map(str::trim).unwrap_or("*");
    if s == "*" || s.is_empty() {
        return Some((None, None));
    }
    match s.split_once('-') {
        Some((a, b)) => Some((Some(a.trim().parse().ok()?), Some(b.trim().parse().ok()?))),
        None => {
            let p: u16 = s.parse().ok()?;
            Some((Some(p), Some(p)))
        }
    }
}

fn remote_of(prefix: Option<&str>) -> Option<Option<(RuleRemote, IpVersion)>> {
    let p = prefix.map(str::trim).unwrap_or("*");
    if p == "*" || p.is_empty() {
        return Some(None);
    }
    let cidr = if p.contains('/') {
        Cidr::parse(p).ok()?
    } else {
        let addr: IpAddr = p.parse().ok()?;
        Cidr {
            addr,
            len: if addr.is_ipv4() { 32 } else { 128 },
        }
    };
    Some(Some((RuleRemote::Cidr(p.to_owned()), cidr.version())))
}

impl SecurityRule {
    /// The hybrid rule this NSG rule is, when it can be read as one (see the module
    /// docs); `group` is the NSG's id.
    pub fn to_rule(&self, group: &str) -> Option<SecurityGroupRule> {
        let p = &self.properties;
        if !p.access.as_deref()?.eq_ignore_ascii_case("Allow") {
            return None;
        }
        let direction = match p.direction.as_deref()? {
            d if d.eq_ignore_ascii_case("Inbound") => Direction::Ingress,
            d if d.eq_ignore_ascii_case("Outbound") => Direction::Egress,
            _ => return None,
        };
        if !p.source_port_ranges.is_empty()
            || !p.destination_port_ranges.is_empty()
            || !p.source_address_prefixes.is_empty()
            || !p.destination_address_prefixes.is_empty()
            || !p.source_application_security_groups.is_empty()
            || !p.destination_application_security_groups.is_empty()
            || !is_any(p.source_port_range.as_deref())
        {
            return None;
        }
        let (remote_prefix, local_prefix) = match direction {
            Direction::Ingress => (&p.source_address_prefix, &p.destination_address_prefix),
            Direction::Egress => (&p.destination_address_prefix, &p.source_address_prefix),
        };
        if !is_any(local_prefix.as_deref()) {
            return None;
        }
        let remote = remote_of(remote_prefix.as_deref())?;
        let (port_min, port_max) = port_range(p.destination_port_range.as_deref())?;
        let protocol = match p.protocol.as_deref().map(str::trim) {
            None | Some("*") => None,
            Some(x) => Some(x.to_ascii_lowercase()),
        };
        let ip_version = remote.as_ref().map(|(_, v)| *v).unwrap_or(IpVersion::V4);
        Some(SecurityGroupRule {
            id: SecurityGroupRuleId::new(self.id.clone()?),
            group_id: SecurityGroupId::new(group),
            direction,
            ip_version,
            protocol,
            port_min,
            port_max,
            remote: remote.map(|(r, _)| r),
        })
    }
}

impl NetworkSecurityGroup {
    /// The core security group: its description from the `hybrid:description` tag, its
    /// rules those of [`SecurityRule::to_rule`] (default rules left out).
    pub fn to_security_group(&self, raw: Value) -> SecurityGroup {
        let (tags, _, own) = split_tags(&self.tags);
        SecurityGroup {
            id: SecurityGroupId::new(&self.id),
            name: name_of(&self.name, &self.id),
            description: own.get(DESCRIPTION_TAG).cloned().unwrap_or_default(),
            rules: self
                .properties
                .security_rules
                .iter()
                .filter_map(|r| r.to_rule(&self.id))
                .collect(),
            tags,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes an NSG document.
///
/// # Errors
/// `InvalidResponse` when it is not an NSG document.
pub fn security_group_from(doc: Value) -> Result<SecurityGroup> {
    let n: NetworkSecurityGroup = decode(&doc, "a network security group")?;
    Ok(n.to_security_group(doc))
}

/// The NSG protocol for a hybrid protocol (`tcp`, `udp`, `icmp`, `esp`, `ah`, their IP
/// numbers, or any).
///
/// # Errors
/// `InvalidInput` for another protocol.
pub fn nsg_protocol(protocol: Option<&str>) -> Result<&'static str> {
    Ok(match protocol.map(|p| p.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("any") | Some("*") => "*",
        Some("tcp") | Some("6") => "Tcp",
        Some("udp") | Some("17") => "Udp",
        Some("icmp") | Some("1") | Some("icmpv6") | Some("58") => "Icmp",
        Some("esp") | Some("50") => "Esp",
        Some("ah") | Some("51") => "Ah",
        Some(other) => {
            return Err(Error::invalid_input(format!(
                "Azure network security groups filter TCP, UDP, ICMP, ESP, AH or any protocol, not {other:?}"
            )))
        }
    })
}

/// The NSG rule properties of a hybrid rule at `priority`.
///
/// # Errors
/// `InvalidInput` for an unsupported protocol, a port range with only one end or with
/// its ends reversed, or a remote that is not a CIDR; `Unsupported` for a remote
/// security group.
pub fn rule_properties(
    direction: Direction,
    protocol: Option<&str>,
    port_min: Option<u16>,
    port_max: Option<u16>,
    remote: Option<&RuleRemote>,
    priority: u32,
) -> Result<Value> {
    let proto = nsg_protocol(protocol)?;
    let ports = match (port_min, port_max) {
        (None, None) => "*".to_owned(),
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) if a < b => format!("{a}-{b}"),
        (Some(a), None) => a.to_string(),
        (None, Some(b)) => b.to_string(),
        (Some(a), Some(b)) => {
            return Err(Error::invalid_input(format!(
                "the port range {a}-{b} runs backwards"
            )))
        }
    };
    let remote = match remote {
        None => "*".to_owned(),
        Some(RuleRemote::Cidr(c)) => {
            let c = c.trim();
            if c != "0.0.0.0/0" && c != "::/0" {
                if c.contains('/') {
                    Cidr::parse(c)?;
                } else {
                    c.parse::<IpAddr>().map_err(|_| {
                        Error::invalid_input(format!("{c:?} is not an address or CIDR"))
                    })?;
                }
                c.to_owned()
            } else {
                "*".to_owned()
            }
        }
        Some(RuleRemote::Group(g)) => {
            return Err(Error::unsupported(hybrid_core::Reason::new(
                hybrid_core::ReasonKind::PlatformNever,
                format!(
                    "Azure security rules cannot name another network security group ({g}) as their remote end; use an address range"
                ),
            )))
        }
    };
    let (dir, src, dst) = match direction {
        Direction::Ingress => ("Inbound", remote.as_str(), "*"),
        Direction::Egress => ("Outbound", "*", remote.as_str()),
    };
    Ok(json!({
        "protocol": proto,
        "sourcePortRange": "*",
        "destinationPortRange": ports,
        "sourceAddressPrefix": src,
        "destinationAddressPrefix": dst,
        "access": "Allow",
        "priority": priority,
        "direction": dir,
    }))
}

/// A public IP address (`Microsoft.Network/publicIPAddresses`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIpAddress {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Properties.
    #[serde(default)]
    pub properties: PublicIpProperties,
}

/// Properties of a public IP.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIpProperties {
    /// The address, once allocated.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The NIC IP configuration it is associated with.
    #[serde(default)]
    pub ip_configuration: Option<SubResource>,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// The NIC id of a NIC IP configuration id (`…/networkInterfaces/n/ipConfigurations/c`).
pub fn nic_of_ip_configuration(id: &str) -> Option<String> {
    let r = ResourceId::parse(id)?;
    if !r.is_type(
        "Microsoft.Network",
        &["networkInterfaces", "ipConfigurations"],
    ) {
        return None;
    }
    r.parent().map(|p| p.to_string())
}

impl PublicIpAddress {
    /// The NIC IP configuration it is associated with.
    pub fn ip_configuration_id(&self) -> Option<&str> {
        self.properties
            .ip_configuration
            .as_ref()
            .and_then(|c| c.id.as_deref())
    }

    /// The core floating IP; `fixed_address` is filled by the caller (it lives on the
    /// NIC). A public IP belongs to no network.
    pub fn to_floating_ip(&self, raw: Value) -> FloatingIp {
        FloatingIp {
            id: FloatingIpId::new(&self.id),
            address: self.properties.ip_address.clone().unwrap_or_default(),
            network_id: None,
            port_id: self
                .ip_configuration_id()
                .and_then(nic_of_ip_configuration)
                .map(PortId::new),
            fixed_address: None,
            status: match self.properties.provisioning_state.as_deref() {
                None => NetworkStatus::Active,
                Some(s) => NetworkStatus::parse(s),
            },
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a public IP document.
///
/// # Errors
/// `InvalidResponse` when it is not a public IP document.
pub fn floating_ip_from(doc: Value) -> Result<FloatingIp> {
    let p: PublicIpAddress = decode(&doc, "a public IP address")?;
    Ok(p.to_floating_ip(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let space = Cidr::parse("10.0.0.0/16").unwrap();
        assert!(space.contains(&Cidr::parse("10.0.7.0/24").unwrap()));
        assert!(!space.contains(&Cidr::parse("10.251.7.0/24").unwrap()));
        assert!(!space.contains(&Cidr::parse("10.0.0.0/8").unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(&space));
        let v6 = Cidr::parse("fd00::/48").unwrap();
        assert!(v6.contains(&Cidr::parse("fd00:0:0:1::/64").unwrap()));
        assert!(!v6.contains(&space));
        assert_eq!(
            Cidr::parse("10.1.2.0/24")
                .unwrap()
                .azure_gateway()
                .as_deref(),
            Some("10.1.2.1")
        );
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "fd00::/129"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_round_trip() {
        let p = rule_properties(
            Direction::Ingress,
            Some("tcp"),
            Some(22),
            Some(22),
            Some(&RuleRemote::Cidr("192.0.2.0/24".into())),
            100,
        )
        .unwrap();
        assert_eq!(p["destinationPortRange"], "22");
        assert_eq!(p["sourceAddressPrefix"], "192.0.2.0/24");
        let rule = SecurityRule {
            id: Some("/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/r".into()),
            name: Some("r".into()),
            properties: serde_json::from_value(p).unwrap(),
        };
        let r = rule.to_rule("nsg").unwrap();
        assert_eq!(r.direction, Direction::Ingress);
        assert_eq!(r.protocol.as_deref(), Some("tcp"));
        assert_eq!((r.port_min, r.port_max), (Some(22), Some(22)));
        assert_eq!(r.remote, Some(RuleRemote::Cidr("192.0.2.0/24".into())));
        let egress =
            rule_properties(Direction::Egress, None, Some(1000), Some(2000), None, 4096).unwrap();
        assert_eq!(egress["destinationPortRange"], "1000-2000");
        assert_eq!(egress["protocol"], "*");
        assert!(rule_properties(Direction::Egress, Some("sctp"), None, None, None, 100).is_err());
        let e = rule_properties(
            Direction::Ingress,
            None,
            None,
            None,
            Some(&RuleRemote::Group(SecurityGroupId::new("g"))),
            100,
        )
        .unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::Unsupported);
    }
}
