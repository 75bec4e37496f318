//! Network models: networks, subnets, ports, security groups, routers, floating IPs.

use serde::{Deserialize, Serialize};

use super::{status_enum, Direction, IpVersion, RawDocument, ServerId};

crate::typed_id!(
    /// A network (Neutron network, port group, VNet) id.
    NetworkId
);
crate::typed_id!(
    /// A subnet id.
    SubnetId
);
crate::typed_id!(
    /// A port or network-interface id.
    PortId
);
crate::typed_id!(
    /// A security group (network security group) id.
    SecurityGroupId
);
crate::typed_id!(
    /// A security-group rule id.
    SecurityGroupRuleId
);
crate::typed_id!(
    /// A router id.
    RouterId
);
crate::typed_id!(
    /// A floating or public IP id.
    FloatingIpId
);

status_enum!(
    /// How a network is built.
    NetworkKind {
        /// Untagged, flat network (flat DHCP on vSphere).
        Flat => "flat",
        /// A VLAN on a physical network (a port group on vSphere).
        Vlan => "vlan",
        /// A software-defined overlay (VXLAN, Geneve, NSX segment, Azure VNet).
        Overlay => "overlay" | "vxlan" | "geneve" | "gre" | "nsx",
        /// A provider's local-only network.
        Local => "local",
    }
);

impl NetworkKind {
    /// Whether creating this kind of network needs SDN ([`Feature::Sdn`](crate::Feature::Sdn)).
    pub fn needs_sdn(&self) -> bool {
        !matches!(self, NetworkKind::Flat | NetworkKind::Vlan)
    }
}

status_enum!(
    /// State of a network resource.
    NetworkStatus {
        /// Usable.
        Active => "ACTIVE" | "Succeeded" | "Available",
        /// Not forwarding.
        Down => "DOWN",
        /// Being built.
        Build => "BUILD" | "Updating" | "Creating",
        /// Failed.
        Error => "ERROR" | "Failed",
    }
);

/// A network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Id.
    pub id: NetworkId,
    /// Name.
    pub name: String,
    /// How it is built.
    pub kind: NetworkKind,
    /// VLAN id or VNI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation_id: Option<u32>,
    /// State.
    pub status: NetworkStatus,
    /// Shared with other projects.
    #[serde(default)]
    pub shared: bool,
    /// An external (provider, public) network.
    #[serde(default)]
    pub external: bool,
    /// Its subnets.
    #[serde(default)]
    pub subnets: Vec<SubnetId>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateNetwork {
    /// Name.
    pub name: String,
    /// Kind. Overlay (and anything but flat or VLAN) needs [`Feature::Sdn`](crate::Feature::Sdn).
    pub kind: NetworkKind,
    /// VLAN id, for [`NetworkKind::Vlan`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation_id: Option<u32>,
    /// Physical network or switch, for flat and VLAN networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_network: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl CreateNetwork {
    /// A network of `kind` named `name`.
    pub fn new(name: impl Into<String>, kind: NetworkKind) -> Self {
        CreateNetwork {
            name: name.into(),
            kind,
            segmentation_id: None,
            physical_network: None,
            tags: Vec::new(),
        }
    }
}

/// A subnet: an address range on a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// Id.
    pub id: SubnetId,
    /// Its network.
    pub network_id: NetworkId,
    /// Name.
    pub name: String,
    /// CIDR, for example `10.0.0.0/24`.
    pub cidr: String,
    /// IP version.
    pub ip_version: IpVersion,
    /// Gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<String>,
    /// Whether DHCP serves it.
    #[serde(default)]
    pub dhcp_enabled: bool,
    /// DNS servers handed out.
    #[serde(default)]
    pub dns_nameservers: Vec<String>,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSubnet {
    /// The network.
    pub network_id: NetworkId,
    /// Name.
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// IP version.
    #[serde(default)]
    pub ip_version: IpVersion,
    /// Gateway address (the provider picks one when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<String>,
    /// Whether DHCP serves it.
    #[serde(default = "yes")]
    pub dhcp_enabled: bool,
    /// DNS servers.
    #[serde(default)]
    pub dns_nameservers: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A fixed IP on a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedIp {
    /// The subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<SubnetId>,
    /// The address.
    pub ip_address: String,
}

/// A port (Neutron port, vNIC, Azure network interface).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Id.
    pub id: PortId,
    /// Name.
    pub name: String,
    /// Its network.
    pub network_id: NetworkId,
    /// MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// Fixed IPs.
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    /// The server using it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<ServerId>,
    /// Security groups applied.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupId>,
    /// State.
    pub status: NetworkStatus,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePort {
    /// The network.
    pub network_id: NetworkId,
    /// Name.
    pub name: String,
    /// Fixed IPs to request.
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    /// Security groups. Needs [`Feature::SecurityGroups`](crate::Feature::SecurityGroups) when not empty.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupId>,
}

/// The other end of a security-group rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRemote {
    /// An address range.
    Cidr(String),
    /// Members of another group.
    Group(SecurityGroupId),
}

/// A rule of a security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    /// Id.
    pub id: SecurityGroupRuleId,
    /// Its group.
    pub group_id: SecurityGroupId,
    /// Direction.
    pub direction: Direction,
    /// IP version.
    pub ip_version: IpVersion,
    /// Protocol (`tcp`, `udp`, `icmp`, a number), `None` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Lowest port, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_min: Option<u16>,
    /// Highest port, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_max: Option<u16>,
    /// Remote end, `None` for anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RuleRemote>,
}

/// A new rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSecurityGroupRule {
    /// The group.
    pub group_id: SecurityGroupId,
    /// Direction.
    pub direction: Direction,
    /// IP version.
    #[serde(default)]
    pub ip_version: IpVersion,
    /// Protocol, `None` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Lowest port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_min: Option<u16>,
    /// Highest port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_max: Option<u16>,
    /// Remote end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RuleRemote>,
}

/// A security group (network security group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    /// Id.
    pub id: SecurityGroupId,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Rules.
    #[serde(default)]
    pub rules: Vec<SecurityGroupRule>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSecurityGroup {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// A router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Router {
    /// Id.
    pub id: RouterId,
    /// Name.
    pub name: String,
    /// The external network it routes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_network: Option<NetworkId>,
    /// Subnets with an interface on it.
    #[serde(default)]
    pub interfaces: Vec<SubnetId>,
    /// State.
    pub status: NetworkStatus,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRouter {
    /// Name.
    pub name: String,
    /// External network for its gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_network: Option<NetworkId>,
}

/// A floating (public) IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatingIp {
    /// Id.
    pub id: FloatingIpId,
    /// The public address.
    pub address: String,
    /// The external network it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<NetworkId>,
    /// The port it maps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_id: Option<PortId>,
    /// The private address it maps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_address: Option<String>,
    /// State.
    pub status: NetworkStatus,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new floating IP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateFloatingIp {
    /// The external network to allocate from (the provider's default when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<NetworkId>,
    /// A port to map it to at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_id: Option<PortId>,
}
