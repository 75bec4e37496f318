//! Neutron (network v2.0): networks, subnets, ports, security groups and rules,
//! routers, floating IPs, extensions.

use hybrid_core::model::{
    Direction, FixedIp, FloatingIp, FloatingIpId, IpVersion, Network, NetworkId, NetworkKind,
    NetworkStatus, Port, PortId, Router, RouterId, RuleRemote, SecurityGroup, SecurityGroupId,
    SecurityGroupRule, SecurityGroupRuleId, ServerId, Subnet, SubnetId,
};
use serde::Deserialize;

use super::nova::null_default;
use super::raw;

fn ip_version(v: Option<u8>) -> IpVersion {
    if v == Some(6) {
        IpVersion::V6
    } else {
        IpVersion::V4
    }
}

fn ethertype(e: Option<&str>) -> IpVersion {
    if e == Some("IPv6") {
        IpVersion::V6
    } else {
        IpVersion::V4
    }
}

/// A network as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronNetwork {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// `ACTIVE`, `DOWN`, `BUILD`, `ERROR`.
    #[serde(default)]
    pub status: Option<String>,
    /// Shared.
    #[serde(default)]
    pub shared: bool,
    /// External.
    #[serde(rename = "router:external", default)]
    pub external: bool,
    /// `flat`, `vlan`, `vxlan`, `geneve`, `gre`, `local`.
    #[serde(rename = "provider:network_type", default)]
    pub network_type: Option<String>,
    /// VLAN id or VNI.
    #[serde(rename = "provider:segmentation_id", default)]
    pub segmentation_id: Option<u32>,
    /// Subnets.
    #[serde(default, deserialize_with = "null_default")]
    pub subnets: Vec<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

impl NeutronNetwork {
    /// The core model. Without the provider extension's facts (non-admin users) the
    /// kind is `overlay` for tenant networks and `flat` for external ones.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Network {
        let kind = match self.network_type.as_deref() {
            Some(t) => NetworkKind::parse(t),
            None if self.external => NetworkKind::Flat,
            None => NetworkKind::Overlay,
        };
        Network {
            id: NetworkId::new(self.id),
            name: self.name,
            kind,
            segmentation_id: self.segmentation_id,
            status: NetworkStatus::parse(self.status.as_deref().unwrap_or("ACTIVE")),
            shared: self.shared,
            external: self.external,
            subnets: self.subnets.into_iter().map(SubnetId::new).collect(),
            tags: self.tags,
            raw: raw(doc),
        }
    }
}

/// A subnet as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronSubnet {
    /// Id.
    pub id: String,
    /// Network.
    pub network_id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// 4 or 6.
    #[serde(default)]
    pub ip_version: Option<u8>,
    /// Gateway.
    #[serde(default)]
    pub gateway_ip: Option<String>,
    /// DHCP.
    #[serde(default)]
    pub enable_dhcp: bool,
    /// DNS servers.
    #[serde(default, deserialize_with = "null_default")]
    pub dns_nameservers: Vec<String>,
}

impl NeutronSubnet {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Subnet {
        Subnet {
            id: SubnetId::new(self.id),
            network_id: NetworkId::new(self.network_id),
            name: self.name,
            cidr: self.cidr,
            ip_version: ip_version(self.ip_version),
            gateway_ip: self.gateway_ip,
            dhcp_enabled: self.enable_dhcp,
            dns_nameservers: self.dns_nameservers,
            raw: raw(doc),
        }
    }
}

/// A fixed IP of a port.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronFixedIp {
    /// Subnet.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Address.
    pub ip_address: String,
}

/// A port as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronPort {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Network.
    pub network_id: String,
    /// MAC.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Fixed IPs.
    #[serde(default, deserialize_with = "null_default")]
    pub fixed_ips: Vec<NeutronFixedIp>,
    /// The device (server) using it; `""` when none.
    #[serde(default)]
    pub device_id: Option<String>,
    /// What owns it: `compute:<zone>`, `network:router_interface`, `network:dhcp`, ...
    #[serde(default)]
    pub device_owner: Option<String>,
    /// Security groups.
    #[serde(default, deserialize_with = "null_default")]
    pub security_groups: Vec<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
}

impl NeutronPort {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Port {
        Port {
            id: PortId::new(self.id),
            name: self.name,
            network_id: NetworkId::new(self.network_id),
            mac_address: self.mac_address,
            fixed_ips: self
                .fixed_ips
                .into_iter()
                .map(|f| FixedIp {
                    subnet_id: f.subnet_id.map(SubnetId::new),
                    ip_address: f.ip_address,
                })
                .collect(),
            device_id: self.device_id.filter(|d| !d.is_empty()).map(ServerId::new),
            security_groups: self
                .security_groups
                .into_iter()
                .map(SecurityGroupId::new)
                .collect(),
            status: NetworkStatus::parse(self.status.as_deref().unwrap_or("DOWN")),
            raw: raw(doc),
        }
    }
}

/// A security-group rule as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronRule {
    /// Id.
    pub id: String,
    /// Group.
    pub security_group_id: String,
    /// `ingress` or `egress`.
    pub direction: String,
    /// `IPv4` or `IPv6`.
    #[serde(default)]
    pub ethertype: Option<String>,
    /// Protocol.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Lowest port.
    #[serde(default)]
    pub port_range_min: Option<u16>,
    /// Highest port.
    #[serde(default)]
    pub port_range_max: Option<u16>,
    /// Remote CIDR.
    #[serde(default)]
    pub remote_ip_prefix: Option<String>,
    /// Remote group.
    #[serde(default)]
    pub remote_group_id: Option<String>,
}

impl NeutronRule {
    /// The core model.
    pub fn into_core(self) -> SecurityGroupRule {
        SecurityGroupRule {
            id: SecurityGroupRuleId::new(self.id),
            group_id: SecurityGroupId::new(self.security_group_id),
            direction: if self.direction == "egress" {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            ip_version: ethertype(self.ethertype.as_deref()),
            protocol: self.protocol,
            port_min: self.port_range_min,
            port_max: self.port_range_max,
            remote: match (self.remote_ip_prefix, self.remote_group_id) {
                (Some(c), _) => Some(RuleRemote::Cidr(c)),
                (None, Some(g)) => Some(RuleRemote::Group(SecurityGroupId::new(g))),
                (None, None) => None,
            },
        }
    }
}

/// A security group as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronSecurityGroup {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Rules.
    #[serde(default, deserialize_with = "null_default")]
    pub security_group_rules: Vec<NeutronRule>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

impl NeutronSecurityGroup {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> SecurityGroup {
        SecurityGroup {
            id: SecurityGroupId::new(self.id),
            name: self.name,
            description: self.description,
            rules: self
                .security_group_rules
                .into_iter()
                .map(NeutronRule::into_core)
                .collect(),
            tags: self.tags,
            raw: raw(doc),
        }
    }
}

/// A router's gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayInfo {
    /// External network.
    #[serde(default)]
    pub network_id: Option<String>,
}

/// A router as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronRouter {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Gateway.
    #[serde(default)]
    pub external_gateway_info: Option<GatewayInfo>,
}

impl NeutronRouter {
    /// The core model. Neutron does not list a router's interfaces on the router;
    /// pass them (from the router's `network:router_interface` ports).
    pub fn into_core(self, interfaces: Vec<SubnetId>, doc: Option<serde_json::Value>) -> Router {
        Router {
            id: RouterId::new(self.id),
            name: self.name,
            external_network: self
                .external_gateway_info
                .and_then(|g| g.network_id)
                .map(NetworkId::new),
            interfaces,
            status: NetworkStatus::parse(self.status.as_deref().unwrap_or("ACTIVE")),
            raw: raw(doc),
        }
    }
}

/// A floating IP as Neutron sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NeutronFloatingIp {
    /// Id.
    pub id: String,
    /// Public address.
    pub floating_ip_address: String,
    /// External network.
    #[serde(default)]
    pub floating_network_id: Option<String>,
    /// Port.
    #[serde(default)]
    pub port_id: Option<String>,
    /// Private address.
    #[serde(default)]
    pub fixed_ip_address: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
}

impl NeutronFloatingIp {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> FloatingIp {
        FloatingIp {
            id: FloatingIpId::new(self.id),
            address: self.floating_ip_address,
            network_id: self.floating_network_id.map(NetworkId::new),
            port_id: self.port_id.map(PortId::new),
            fixed_address: self.fixed_ip_address,
            status: NetworkStatus::parse(self.status.as_deref().unwrap_or("ACTIVE")),
            raw: raw(doc),
        }
    }
}

/// An API extension (`GET /v2.0/extensions`).
#[derive(Debug, Clone, Deserialize)]
pub struct Extension {
    /// Alias, for example `router` or `security-group`.
    pub alias: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `{"extensions": [..]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtensionList {
    /// The extensions.
    pub extensions: Vec<Extension>,
}
