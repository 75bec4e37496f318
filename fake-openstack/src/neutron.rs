//! Neutron (network v2.0) at `/network`: networks, subnets, ports, security groups
//! and rules, routers and their interfaces, floating IPs, tags, extensions.
//!
//! Resources are stored as the JSON documents Neutron returns, keyed by id (so the
//! default order, and marker paging, follow the id as in Neutron).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use http::Method;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::http::{ApiError, Resp, R};
use crate::service::{authenticate, App, Req};
use crate::util::{fmt_ipv4, iso, now_secs, parse_cidr4, parse_ipv4, Query};
use crate::world::World;

/// The resource kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Network,
    Subnet,
    Port,
    SecurityGroup,
    Rule,
    Router,
    FloatingIp,
}

impl Kind {
    fn from_collection(s: &str) -> Option<Kind> {
        Some(match s {
            "networks" => Kind::Network,
            "subnets" => Kind::Subnet,
            "ports" => Kind::Port,
            "security-groups" => Kind::SecurityGroup,
            "security-group-rules" => Kind::Rule,
            "routers" => Kind::Router,
            "floatingips" => Kind::FloatingIp,
            _ => return None,
        })
    }

    fn collection(self) -> &'static str {
        match self {
            Kind::Network => "networks",
            Kind::Subnet => "subnets",
            Kind::Port => "ports",
            Kind::SecurityGroup => "security-groups",
            Kind::Rule => "security-group-rules",
            Kind::Router => "routers",
            Kind::FloatingIp => "floatingips",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Kind::Network => "network",
            Kind::Subnet => "subnet",
            Kind::Port => "port",
            Kind::SecurityGroup => "security_group",
            Kind::Rule => "security_group_rule",
            Kind::Router => "router",
            Kind::FloatingIp => "floatingip",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Network => "networks",
            Kind::Subnet => "subnets",
            Kind::Port => "ports",
            Kind::SecurityGroup => "security_groups",
            Kind::Rule => "security_group_rules",
            Kind::Router => "routers",
            Kind::FloatingIp => "floatingips",
        }
    }

    fn extension(self) -> Option<&'static str> {
        match self {
            Kind::SecurityGroup | Kind::Rule => Some("security-group"),
            Kind::Router | Kind::FloatingIp => Some("router"),
            _ => None,
        }
    }

    fn not_found(self, id: &str) -> ApiError {
        let (ty, msg) = match self {
            Kind::Network => (
                "NetworkNotFound",
                format!("Network {id} could not be found."),
            ),
            Kind::Subnet => ("SubnetNotFound", format!("Subnet {id} could not be found.")),
            Kind::Port => ("PortNotFound", format!("Port {id} could not be found.")),
            Kind::SecurityGroup => (
                "SecurityGroupNotFound",
                format!("Security group {id} does not exist"),
            ),
            Kind::Rule => (
                "SecurityGroupRuleNotFound",
                format!("Security group rule {id} does not exist"),
            ),
            Kind::Router => ("RouterNotFound", format!("Router {id} could not be found")),
            Kind::FloatingIp => (
                "FloatingIPNotFound",
                format!("Floating IP {id} could not be found"),
            ),
        };
        ApiError::not_found(msg).kind(ty)
    }

    /// Attributes a PUT may change.
    fn updatable(self) -> &'static [&'static str] {
        match self {
            Kind::Network => &[
                "name",
                "admin_state_up",
                "shared",
                "router:external",
                "description",
                "mtu",
                "port_security_enabled",
                "dns_domain",
                "qos_policy_id",
            ],
            Kind::Subnet => &[
                "name",
                "gateway_ip",
                "enable_dhcp",
                "dns_nameservers",
                "host_routes",
                "allocation_pools",
                "description",
                "service_types",
            ],
            Kind::Port => &[
                "name",
                "admin_state_up",
                "security_groups",
                "device_id",
                "device_owner",
                "fixed_ips",
                "allowed_address_pairs",
                "description",
                "port_security_enabled",
                "binding:host_id",
                "binding:profile",
                "binding:vnic_type",
                "extra_dhcp_opts",
                "mac_address",
            ],
            Kind::SecurityGroup => &["name", "description", "stateful"],
            Kind::Rule => &["description"],
            Kind::Router => &[
                "name",
                "admin_state_up",
                "external_gateway_info",
                "routes",
                "description",
                "distributed",
                "ha",
            ],
            Kind::FloatingIp => &["port_id", "fixed_ip_address", "description"],
        }
    }
}

/// Neutron's state.
#[derive(Debug, Default)]
pub(crate) struct NeutronState {
    res: BTreeMap<Kind, BTreeMap<String, Value>>,
    /// Allocated addresses per subnet.
    used_ips: HashMap<String, BTreeSet<u32>>,
    next_segment: u64,
    extensions: Vec<String>,
    tenant_network_type: String,
    pub(crate) default_sg: String,
}

impl NeutronState {
    fn map(&self, k: Kind) -> Option<&BTreeMap<String, Value>> {
        self.res.get(&k)
    }

    fn map_mut(&mut self, k: Kind) -> &mut BTreeMap<String, Value> {
        self.res.entry(k).or_default()
    }

    fn get(&self, k: Kind, id: &str) -> Option<&Value> {
        self.map(k).and_then(|m| m.get(id))
    }

    fn get_mut(&mut self, k: Kind, id: &str) -> Option<&mut Value> {
        self.res.get_mut(&k).and_then(|m| m.get_mut(id))
    }

    fn values(&self, k: Kind) -> impl Iterator<Item = &Value> {
        self.map(k).into_iter().flat_map(|m| m.values())
    }

    fn has_ext(&self, alias: &str) -> bool {
        self.extensions.iter().any(|e| e == alias)
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn common(w: &mut World, kind: Kind, id: &str, obj: &mut Map<String, Value>) {
    let now = iso(now_secs());
    obj.insert("id".into(), json!(id));
    obj.insert("project_id".into(), json!(w.project_id));
    obj.insert("tenant_id".into(), json!(w.project_id));
    obj.entry("description").or_insert(json!(""));
    obj.insert("created_at".into(), json!(now));
    obj.insert("updated_at".into(), json!(now));
    obj.insert("revision_number".into(), json!(0));
    if w.neutron.has_ext("standard-attr-tag") && kind != Kind::Rule {
        let tags = obj
            .get("tags")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        obj.insert("tags".into(), Value::Array(tags));
    } else if kind == Kind::Rule {
        obj.insert("tags".into(), json!([]));
    } else {
        obj.remove("tags");
    }
}

fn touch(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert("updated_at".into(), json!(iso(now_secs())));
        let rev = o
            .get("revision_number")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        o.insert("revision_number".into(), json!(rev + 1));
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad(msg).kind("HTTPBadRequest")
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::bad(format!("Invalid input for operation: {}.", msg.into())).kind("InvalidInput")
}

pub(crate) fn seed(w: &mut World, cfg: &Config) {
    w.neutron.extensions = cfg.neutron_extensions.clone();
    w.neutron.tenant_network_type = cfg.tenant_network_type.clone();
    w.neutron.next_segment = 1000;
    if w.neutron.has_ext("security-group") {
        let mut body = Map::new();
        body.insert("name".into(), json!("default"));
        body.insert("description".into(), json!("Default security group"));
        if let Ok(id) = create_security_group(w, body) {
            for eth in ["IPv4", "IPv6"] {
                let mut r = Map::new();
                r.insert("security_group_id".into(), json!(id));
                r.insert("direction".into(), json!("ingress"));
                r.insert("ethertype".into(), json!(eth));
                r.insert("remote_group_id".into(), json!(id));
                let _ = create_rule(w, r);
            }
            w.neutron.default_sg = id;
        }
    }
    if w.neutron.has_ext("external-net") {
        let mut n = Map::new();
        n.insert("name".into(), json!("public"));
        n.insert("router:external".into(), json!(true));
        if w.neutron.has_ext("provider") {
            n.insert("provider:network_type".into(), json!("flat"));
            n.insert("provider:physical_network".into(), json!("public"));
        }
        if let Ok(net) = create_network(w, n) {
            let mut sn = Map::new();
            sn.insert("name".into(), json!("public-subnet"));
            sn.insert("network_id".into(), json!(net));
            sn.insert("ip_version".into(), json!(4));
            sn.insert("cidr".into(), json!("172.24.4.0/24"));
            sn.insert("enable_dhcp".into(), json!(false));
            let _ = create_subnet(w, sn);
        }
    }
}

fn check_attrs(
    w: &World,
    body: &Map<String, Value>,
    gated: &[(&str, &str)],
) -> Result<(), ApiError> {
    for (attr, ext) in gated {
        if body.contains_key(*attr) && !w.neutron.has_ext(ext) {
            return Err(bad(format!("Unrecognized attribute(s) '{attr}'")));
        }
    }
    Ok(())
}

fn create_network(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(
        w,
        &b,
        &[
            ("provider:network_type", "provider"),
            ("provider:physical_network", "provider"),
            ("provider:segmentation_id", "provider"),
            ("router:external", "external-net"),
            ("mtu", "net-mtu-writable"),
            ("port_security_enabled", "port-security"),
            ("tags", "standard-attr-tag"),
        ],
    )?;
    let id = w.rng.uuid();
    let ty = b
        .get("provider:network_type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| w.neutron.tenant_network_type.clone());
    let physnet = b
        .get("provider:physical_network")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let seg = b.get("provider:segmentation_id").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
    });
    let seg = match ty.as_str() {
        "flat" | "local" => {
            if ty == "flat" && physnet.is_none() {
                return Err(invalid(
                    "physical_network required for flat provider network",
                ));
            }
            if seg.is_some() {
                return Err(invalid(format!(
                    "segmentation_id specified for {ty} network"
                )));
            }
            if ty == "flat" {
                let taken = w.neutron.values(Kind::Network).any(|n| {
                    s(n, "provider:network_type") == "flat"
                        && Some(s(n, "provider:physical_network")) == physnet.as_deref()
                });
                if taken {
                    return Err(ApiError::conflict(format!(
                        "Unable to create the flat network. Physical network {} is in use.",
                        physnet.as_deref().unwrap_or("")
                    ))
                    .kind("FlatNetworkInUse"));
                }
            }
            None
        }
        "vlan" => {
            if physnet.is_none() {
                return Err(invalid(
                    "physical_network required for VLAN provider network",
                ));
            }
            let v = match seg {
                Some(v) if (1..=4094).contains(&v) => v,
                Some(v) => {
                    return Err(invalid(format!(
                        "segmentation_id out of range ({v} is not a valid VLAN tag)"
                    )))
                }
                None => {
                    w.neutron.next_segment += 1;
                    100 + w.neutron.next_segment % 3000
                }
            };
            let taken = w.neutron.values(Kind::Network).any(|n| {
                s(n, "provider:network_type") == "vlan"
                    && Some(s(n, "provider:physical_network")) == physnet.as_deref()
                    && n.get("provider:segmentation_id").and_then(Value::as_u64) == Some(v)
            });
            if taken {
                return Err(ApiError::conflict(format!(
                    "Unable to create the network. The VLAN {v} on physical network {} is in use.",
                    physnet.as_deref().unwrap_or("")
                ))
                .kind("VlanIdInUse"));
            }
            Some(v)
        }
        "vxlan" | "geneve" | "gre" => {
            if physnet.is_some() {
                return Err(invalid(format!(
                    "physical_network specified for {ty} network"
                )));
            }
            Some(seg.unwrap_or_else(|| {
                w.neutron.next_segment += 1;
                w.neutron.next_segment
            }))
        }
        other => {
            return Err(invalid(format!(
                "network_type value '{other}' not supported"
            )));
        }
    };
    b.entry("name").or_insert(json!(""));
    b.entry("admin_state_up").or_insert(json!(true));
    b.entry("shared").or_insert(json!(false));
    b.insert("status".into(), json!("ACTIVE"));
    b.insert("subnets".into(), json!([]));
    b.insert("availability_zone_hints".into(), json!([]));
    b.insert("availability_zones".into(), json!(["nova"]));
    b.insert("ipv4_address_scope".into(), Value::Null);
    b.insert("ipv6_address_scope".into(), Value::Null);
    if w.neutron.has_ext("external-net") {
        b.entry("router:external").or_insert(json!(false));
    }
    if w.neutron.has_ext("net-mtu") {
        let mtu = if matches!(ty.as_str(), "vxlan" | "geneve" | "gre") {
            1450
        } else {
            1500
        };
        b.entry("mtu").or_insert(json!(mtu));
    }
    if w.neutron.has_ext("port-security") {
        b.entry("port_security_enabled").or_insert(json!(true));
    }
    if w.neutron.has_ext("provider") {
        b.insert("provider:network_type".into(), json!(ty));
        b.insert("provider:physical_network".into(), json!(physnet));
        b.insert("provider:segmentation_id".into(), json!(seg));
    }
    common(w, Kind::Network, &id, &mut b);
    w.neutron
        .map_mut(Kind::Network)
        .insert(id.clone(), Value::Object(b));
    Ok(id)
}

fn create_subnet(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(w, &b, &[("tags", "standard-attr-tag")])?;
    let net = b
        .get("network_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Failed to parse request. Required attribute 'network_id' not specified")
        })?
        .to_owned();
    if w.neutron.get(Kind::Network, &net).is_none() {
        return Err(Kind::Network.not_found(&net));
    }
    let version = match b.get("ip_version") {
        Some(v) if v.as_u64() == Some(4) || v.as_str() == Some("4") => 4,
        Some(v) if v.as_u64() == Some(6) || v.as_str() == Some("6") => 6,
        Some(v) => {
            return Err(bad(format!(
                "Invalid input for ip_version. Reason: {v} is not in [4, 6]."
            )))
        }
        None => {
            return Err(bad(
                "Failed to parse request. Required attribute 'ip_version' not specified",
            ))
        }
    };
    let cidr = b
        .get("cidr")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Bad subnets request: a cidr must be specified in the absence of a subnet pool.")
        })?
        .to_owned();
    let id = w.rng.uuid();
    if version == 4 {
        let (netaddr, prefix) = parse_cidr4(&cidr).ok_or_else(|| {
            bad(format!(
                "Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet."
            ))
        })?;
        if prefix > 30 {
            return Err(bad(format!(
                "Invalid input for cidr. Reason: '{cidr}' is too small."
            )));
        }
        let size = 1u64 << (32 - prefix);
        let last = (u64::from(netaddr) + size - 1) as u32;
        for other in w.neutron.values(Kind::Subnet) {
            if s(other, "network_id") == net {
                if let Some((on, op)) = parse_cidr4(s(other, "cidr")) {
                    let olast = (u64::from(on) + (1u64 << (32 - op)) - 1) as u32;
                    if netaddr <= olast && on <= last {
                        return Err(invalid(format!(
                            "Requested subnet with cidr: {cidr} for network: {net} overlaps with another subnet"
                        )));
                    }
                }
            }
        }
        let gateway = match b.get("gateway_ip") {
            None => Some(netaddr + 1),
            Some(Value::Null) => None,
            Some(Value::String(g)) => {
                let g = parse_ipv4(g)
                    .filter(|g| *g > netaddr && *g < last)
                    .ok_or_else(|| {
                        bad(format!(
                            "Invalid input for gateway_ip. Reason: '{g}' is not in {cidr}."
                        ))
                    })?;
                Some(g)
            }
            Some(v) => {
                return Err(bad(format!(
                    "Invalid input for gateway_ip. Reason: '{v}' is not a valid IP address."
                )))
            }
        };
        let pools = match b.get("allocation_pools").and_then(Value::as_array) {
            Some(p) if !p.is_empty() => {
                for pool in p {
                    let range = parse_ipv4(s(pool, "start")).zip(parse_ipv4(s(pool, "end")));
                    match range {
                        Some((a, z)) if a <= z && a > netaddr && z < last => {}
                        _ => {
                            return Err(bad(format!(
                                "The allocation pool {pool} spans beyond the subnet cidr {cidr}."
                            ))
                            .kind("OutOfBoundsAllocationPool"))
                        }
                    }
                }
                Value::Array(p.clone())
            }
            _ => {
                let (start, end) = match gateway {
                    Some(g) if g == netaddr + 1 => (netaddr + 2, last - 1),
                    Some(g) if g == last - 1 => (netaddr + 1, last - 2),
                    _ => (netaddr + 1, last - 1),
                };
                json!([{"start": fmt_ipv4(start), "end": fmt_ipv4(end)}])
            }
        };
        b.insert(
            "cidr".into(),
            json!(format!("{}/{prefix}", fmt_ipv4(netaddr))),
        );
        b.insert("gateway_ip".into(), json!(gateway.map(fmt_ipv4)));
        b.insert("allocation_pools".into(), pools);
        w.neutron.used_ips.entry(id.clone()).or_default();
    } else {
        if !cidr.contains(':') || !cidr.contains('/') {
            return Err(bad(format!(
                "Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet."
            )));
        }
        let base = cidr.split('/').next().unwrap_or("").trim_end_matches(':');
        b.entry("gateway_ip").or_insert(json!(format!("{base}::1")));
        b.entry("allocation_pools").or_insert(
            json!([{"start": format!("{base}::2"), "end": format!("{base}:ffff:ffff:ffff:ffff")}]),
        );
        b.entry("ipv6_ra_mode").or_insert(Value::Null);
        b.entry("ipv6_address_mode").or_insert(Value::Null);
    }
    b.insert("ip_version".into(), json!(version));
    b.entry("name").or_insert(json!(""));
    b.entry("enable_dhcp").or_insert(json!(true));
    b.entry("dns_nameservers").or_insert(json!([]));
    b.entry("host_routes").or_insert(json!([]));
    b.entry("ipv6_ra_mode").or_insert(Value::Null);
    b.entry("ipv6_address_mode").or_insert(Value::Null);
    b.entry("subnetpool_id").or_insert(Value::Null);
    b.entry("service_types").or_insert(json!([]));
    common(w, Kind::Subnet, &id, &mut b);
    w.neutron
        .map_mut(Kind::Subnet)
        .insert(id.clone(), Value::Object(b));
    if let Some(n) = w.neutron.get_mut(Kind::Network, &net) {
        if let Some(list) = n.get_mut("subnets").and_then(Value::as_array_mut) {
            list.push(json!(id));
        }
        touch(n);
    }
    Ok(id)
}

/// Allocates an address on a subnet (the given one, or the next free one).
fn allocate_ip(w: &mut World, subnet: &str, want: Option<&str>) -> Result<String, ApiError> {
    let sn = w
        .neutron
        .get(Kind::Subnet, subnet)
        .ok_or_else(|| Kind::Subnet.not_found(subnet))?
        .clone();
    if s(&sn, "ip_version") == "6" || sn.get("ip_version").and_then(Value::as_u64) == Some(6) {
        let base = s(&sn, "cidr")
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(':')
            .to_owned();
        let used = w.neutron.used_ips.entry(subnet.to_owned()).or_default();
        if let Some(ip) = want {
            return Ok(ip.to_owned());
        }
        let n = used.len() as u32 + 2;
        used.insert(n);
        return Ok(format!("{base}::{n:x}"));
    }
    let gateway = parse_ipv4(s(&sn, "gateway_ip"));
    let pools: Vec<(u32, u32)> = sn
        .get("allocation_pools")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((parse_ipv4(s(p, "start"))?, parse_ipv4(s(p, "end"))?)))
                .collect()
        })
        .unwrap_or_default();
    let (netaddr, prefix) = parse_cidr4(s(&sn, "cidr")).unwrap_or((0, 32));
    let used = w.neutron.used_ips.entry(subnet.to_owned()).or_default();
    if let Some(ip) = want {
        let v = parse_ipv4(ip).ok_or_else(|| {
            bad(format!(
                "Invalid input for fixed_ips. Reason: '{ip}' is not a valid IP address."
            ))
        })?;
        let size = 1u64 << (32 - prefix);
        if u64::from(v) < u64::from(netaddr) || u64::from(v) >= u64::from(netaddr) + size {
            return Err(bad(format!(
                "IP address {ip} is not a valid IP for the specified subnet."
            ))
            .kind("InvalidIpForSubnet"));
        }
        if used.contains(&v) {
            return Err(ApiError::conflict(format!(
                "IP address {ip} already allocated in subnet {subnet}"
            ))
            .kind("IpAddressAlreadyAllocated"));
        }
        used.insert(v);
        return Ok(ip.to_owned());
    }
    let free = |from: u64, end: u64| -> Option<u32> {
        (from..=end)
            .map(|c| c as u32)
            .find(|c| !used.contains(c) && Some(*c) != gateway)
    };
    for (start, end) in pools {
        // Fast path: past the highest allocated address of the pool; then from the
        // start of the pool (addresses freed earlier).
        let after_last = used
            .range(start..=end)
            .next_back()
            .map(|l| u64::from(*l) + 1)
            .unwrap_or(u64::from(start));
        let found =
            free(after_last, u64::from(end)).or_else(|| free(u64::from(start), u64::from(end)));
        if let Some(c) = found {
            used.insert(c);
            return Ok(fmt_ipv4(c));
        }
    }
    Err(ApiError::conflict(format!(
        "No more IP addresses available on network {}.",
        s(&sn, "network_id")
    ))
    .kind("IpAddressGenerationFailure"))
}

fn release_ips(w: &mut World, port: &Value) {
    if let Some(ips) = port.get("fixed_ips").and_then(Value::as_array) {
        for ip in ips {
            if let (Some(set), Some(v)) = (
                w.neutron.used_ips.get_mut(s(ip, "subnet_id")),
                parse_ipv4(s(ip, "ip_address")),
            ) {
                set.remove(&v);
            }
        }
    }
}

fn network_subnets(w: &World, net: &str) -> Vec<String> {
    w.neutron
        .get(Kind::Network, net)
        .and_then(|n| n.get("subnets"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn fixed_ips_for(w: &mut World, net: &str, req: Option<&Value>) -> Result<Value, ApiError> {
    let mut out = Vec::new();
    match req.and_then(Value::as_array) {
        Some(list) => {
            for f in list {
                let ip = f.get("ip_address").and_then(Value::as_str);
                let subnet = match f.get("subnet_id").and_then(Value::as_str) {
                    Some(sid) => {
                        let sn = w
                            .neutron
                            .get(Kind::Subnet, sid)
                            .ok_or_else(|| Kind::Subnet.not_found(sid))?;
                        if s(sn, "network_id") != net {
                            return Err(bad(format!("Invalid input for operation: Failed to create port on network {net}, because fixed_ips included invalid subnet {sid}.")).kind("InvalidInput"));
                        }
                        sid.to_owned()
                    }
                    None => {
                        let ipv = ip.and_then(parse_ipv4);
                        network_subnets(w, net)
                            .into_iter()
                            .find(|sid| {
                                w.neutron
                                    .get(Kind::Subnet, sid)
                                    .and_then(|sn| parse_cidr4(s(sn, "cidr")))
                                    .zip(ipv)
                                    .is_some_and(|((n, p), v)| {
                                        let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                                        v & mask == n
                                    })
                            })
                            .ok_or_else(|| bad(format!("IP address {} is not a valid IP for any subnet on network {net}.", ip.unwrap_or(""))).kind("InvalidIpForNetwork"))?
                    }
                };
                let addr = allocate_ip(w, &subnet, ip)?;
                out.push(json!({"subnet_id": subnet, "ip_address": addr}));
            }
        }
        None => {
            if let Some(first) = network_subnets(w, net).into_iter().next() {
                let addr = allocate_ip(w, &first, None)?;
                out.push(json!({"subnet_id": first, "ip_address": addr}));
            }
        }
    }
    Ok(Value::Array(out))
}

fn resolve_sgs(w: &World, v: &Value) -> Result<Vec<String>, ApiError> {
    let list = v
        .as_array()
        .ok_or_else(|| bad("Invalid input for security_groups."))?;
    list.iter()
        .map(|g| {
            let id = g.as_str().unwrap_or("");
            if w.neutron.get(Kind::SecurityGroup, id).is_some() {
                Ok(id.to_owned())
            } else {
                Err(Kind::SecurityGroup.not_found(id))
            }
        })
        .collect()
}

fn create_port(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(
        w,
        &b,
        &[
            ("security_groups", "security-group"),
            ("port_security_enabled", "port-security"),
            ("extra_dhcp_opts", "extra_dhcp_opt"),
            ("tags", "standard-attr-tag"),
        ],
    )?;
    let net = b
        .get("network_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Failed to parse request. Required attribute 'network_id' not specified")
        })?
        .to_owned();
    if w.neutron.get(Kind::Network, &net).is_none() {
        return Err(Kind::Network.not_found(&net));
    }
    let owner = b
        .get("device_owner")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let sgs = match b.get("security_groups") {
        Some(v) => resolve_sgs(w, v)?,
        None if w.neutron.has_ext("security-group")
            && !owner.starts_with("network:")
            && !w.neutron.default_sg.is_empty() =>
        {
            vec![w.neutron.default_sg.clone()]
        }
        None => Vec::new(),
    };
    let id = w.rng.uuid();
    let fixed = fixed_ips_for(w, &net, b.get("fixed_ips"))?;
    let mac = match b.get("mac_address").and_then(Value::as_str) {
        Some(m) => m.to_owned(),
        None => w.rng.mac(),
    };
    let device_id = b
        .get("device_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    b.insert("network_id".into(), json!(net));
    b.entry("name").or_insert(json!(""));
    b.entry("admin_state_up").or_insert(json!(true));
    b.insert("mac_address".into(), json!(mac));
    b.insert("fixed_ips".into(), fixed);
    b.insert("device_id".into(), json!(device_id));
    b.insert("device_owner".into(), json!(owner));
    b.insert(
        "status".into(),
        json!(if device_id.is_empty() {
            "DOWN"
        } else {
            "ACTIVE"
        }),
    );
    b.entry("allowed_address_pairs").or_insert(json!([]));
    if w.neutron.has_ext("security-group") {
        b.insert("security_groups".into(), json!(sgs));
    }
    if w.neutron.has_ext("port-security") {
        b.entry("port_security_enabled").or_insert(json!(true));
    }
    if w.neutron.has_ext("extra_dhcp_opt") {
        b.entry("extra_dhcp_opts").or_insert(json!([]));
    }
    if w.neutron.has_ext("binding") {
        b.entry("binding:vnic_type").or_insert(json!("normal"));
        b.entry("binding:host_id").or_insert(json!(""));
        b.entry("binding:profile").or_insert(json!({}));
        b.insert(
            "binding:vif_type".into(),
            json!(if device_id.is_empty() {
                "unbound"
            } else {
                "ovs"
            }),
        );
        b.insert("binding:vif_details".into(), json!({}));
    }
    common(w, Kind::Port, &id, &mut b);
    w.neutron
        .map_mut(Kind::Port)
        .insert(id.clone(), Value::Object(b));
    Ok(id)
}

fn create_security_group(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(w, &b, &[("tags", "standard-attr-tag")])?;
    if let Some(n) = b.get("name") {
        if !n.is_string() {
            return Err(bad(format!(
                "Invalid input for name. Reason: '{n}' is not a valid string."
            )));
        }
    }
    let id = w.rng.uuid();
    b.entry("name").or_insert(json!(""));
    b.entry("stateful").or_insert(json!(true));
    b.insert("shared".into(), json!(false));
    common(w, Kind::SecurityGroup, &id, &mut b);
    w.neutron
        .map_mut(Kind::SecurityGroup)
        .insert(id.clone(), Value::Object(b));
    for eth in ["IPv4", "IPv6"] {
        let mut r = Map::new();
        r.insert("security_group_id".into(), json!(id));
        r.insert("direction".into(), json!("egress"));
        r.insert("ethertype".into(), json!(eth));
        create_rule(w, r)?;
    }
    if let Some(sg) = w.neutron.get_mut(Kind::SecurityGroup, &id) {
        sg["revision_number"] = json!(1);
    }
    Ok(id)
}

const PROTOCOLS: [&str; 20] = [
    "ah",
    "dccp",
    "egp",
    "esp",
    "gre",
    "hopopt",
    "icmp",
    "icmpv6",
    "igmp",
    "ipip",
    "ipv6-encap",
    "ipv6-frag",
    "ipv6-icmp",
    "ipv6-nonxt",
    "ipv6-opts",
    "ipv6-route",
    "ospf",
    "pgm",
    "rsvp",
    "sctp",
];

fn port_num(v: Option<&Value>) -> Result<Option<u64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            .filter(|p| *p <= 65535)
            .map(Some)
            .ok_or_else(|| bad(format!("Invalid value for port {x}")).kind("InvalidInput")),
    }
}

fn create_rule(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    let sg = b
        .get("security_group_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Failed to parse request. Required attribute 'security_group_id' not specified")
        })?
        .to_owned();
    if w.neutron.get(Kind::SecurityGroup, &sg).is_none() {
        return Err(Kind::SecurityGroup.not_found(&sg));
    }
    let direction = b
        .get("direction")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if direction != "ingress" && direction != "egress" {
        return Err(bad(format!(
            "Invalid input for direction. Reason: '{direction}' is not in ['ingress', 'egress']."
        )));
    }
    let ethertype = b
        .get("ethertype")
        .and_then(Value::as_str)
        .unwrap_or("IPv4")
        .to_owned();
    if ethertype != "IPv4" && ethertype != "IPv6" {
        return Err(bad(format!(
            "Invalid input for ethertype. Reason: '{ethertype}' is not in ['IPv4', 'IPv6']."
        )));
    }
    let protocol = match b.get("protocol") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(p)) if p.is_empty() || p == "any" => Value::Null,
        Some(Value::String(p)) => {
            let lower = p.to_ascii_lowercase();
            let ok = matches!(lower.as_str(), "tcp" | "udp" | "udplite")
                || PROTOCOLS.contains(&lower.as_str())
                || lower.parse::<u8>().is_ok();
            if !ok {
                return Err(ApiError::bad(format!("Security group rule protocol {p} not supported. Only protocol values [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'icmp', 'igmp', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.")).kind("SecurityGroupRuleInvalidProtocol"));
            }
            json!(lower)
        }
        Some(Value::Number(n)) => json!(n.to_string()),
        Some(v) => return Err(bad(format!("Invalid protocol {v}"))),
    };
    let min = port_num(b.get("port_range_min"))?;
    let max = port_num(b.get("port_range_max"))?;
    if (min.is_some() || max.is_some()) && protocol.is_null() {
        return Err(
            ApiError::bad("Must also specify protocol if port range is given.")
                .kind("SecurityGroupProtocolRequiredWithPorts"),
        );
    }
    if let (Some(a), Some(z)) = (min, max) {
        if matches!(protocol.as_str(), Some("tcp" | "udp")) && a > z {
            return Err(ApiError::bad(
                "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            )
            .kind("SecurityGroupInvalidPortRange"));
        }
    }
    let prefix = b
        .get("remote_ip_prefix")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let rgroup = b
        .get("remote_group_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if prefix.is_some() && rgroup.is_some() {
        return Err(
            ApiError::bad("Only remote_ip_prefix or remote_group_id may be provided.")
                .kind("SecurityGroupRemoteGroupAndRemoteIpPrefix"),
        );
    }
    if let Some(g) = &rgroup {
        if w.neutron.get(Kind::SecurityGroup, g).is_none() {
            return Err(Kind::SecurityGroup.not_found(g));
        }
    }
    let normalized = match &prefix {
        Some(p) if p.contains(':') => json!(p),
        Some(p) => {
            let (n, l) = parse_cidr4(p)
                .or_else(|| parse_ipv4(p).map(|a| (a, 32)))
                .ok_or_else(|| bad(format!("Invalid input for remote_ip_prefix. Reason: '{p}' is not a valid IP prefix.")))?;
            json!(format!("{}/{l}", fmt_ipv4(n)))
        }
        None => Value::Null,
    };
    b.insert("direction".into(), json!(direction));
    b.insert("ethertype".into(), json!(ethertype));
    b.insert("protocol".into(), protocol);
    b.insert("port_range_min".into(), json!(min));
    b.insert("port_range_max".into(), json!(max));
    b.insert("remote_ip_prefix".into(), json!(prefix));
    b.insert("remote_group_id".into(), json!(rgroup));
    b.insert("remote_address_group_id".into(), Value::Null);
    b.insert("normalized_cidr".into(), normalized);
    // Duplicate check on the rule's meaning.
    let key_fields = [
        "security_group_id",
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "normalized_cidr",
        "remote_group_id",
    ];
    if let Some(dup) = w
        .neutron
        .values(Kind::Rule)
        .find(|r| key_fields.iter().all(|k| r.get(*k) == b.get(*k)))
    {
        return Err(ApiError::conflict(format!(
            "Security group rule already exists. Rule id is {}.",
            s(dup, "id")
        ))
        .kind("SecurityGroupRuleExists"));
    }
    b.entry("description").or_insert(json!(""));
    let id = w.rng.uuid();
    common(w, Kind::Rule, &id, &mut b);
    w.neutron
        .map_mut(Kind::Rule)
        .insert(id.clone(), Value::Object(b));
    if let Some(g) = w.neutron.get_mut(Kind::SecurityGroup, &sg) {
        touch(g);
    }
    Ok(id)
}

fn external_network(w: &World, id: &str, what: &str) -> Result<(), ApiError> {
    let n = w
        .neutron
        .get(Kind::Network, id)
        .ok_or_else(|| Kind::Network.not_found(id))?;
    if n.get("router:external").and_then(Value::as_bool) != Some(true) {
        return Err(ApiError::bad(format!(
            "Bad {what} request: Network {id} is not a valid external network."
        ))
        .kind("BadRequest"));
    }
    Ok(())
}

fn set_gateway(w: &mut World, router: &str, info: &Value) -> Result<Value, ApiError> {
    if info.is_null() {
        return Ok(Value::Null);
    }
    let net = info
        .get("network_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Invalid input for external_gateway_info. Reason: 'network_id' is required.")
        })?
        .to_owned();
    external_network(w, &net, "router")?;
    let mut p = Map::new();
    p.insert("network_id".into(), json!(net));
    p.insert("device_owner".into(), json!("network:router_gateway"));
    p.insert("device_id".into(), json!(router));
    if let Some(f) = info.get("external_fixed_ips") {
        p.insert("fixed_ips".into(), f.clone());
    }
    let port = create_port(w, p)?;
    let ips = w
        .neutron
        .get(Kind::Port, &port)
        .and_then(|p| p.get("fixed_ips"))
        .cloned()
        .unwrap_or(json!([]));
    Ok(json!({
        "network_id": net,
        "enable_snat": info.get("enable_snat").and_then(Value::as_bool).unwrap_or(true),
        "external_fixed_ips": ips,
    }))
}

fn clear_gateway(w: &mut World, router: &str) -> Result<(), ApiError> {
    let in_use = w
        .neutron
        .values(Kind::FloatingIp)
        .any(|f| s(f, "router_id") == router);
    if in_use {
        return Err(ApiError::conflict(format!(
            "Gateway cannot be updated for router {router}, since a gateway to external network is required by one or more floating IPs."
        ))
        .kind("RouterExternalGatewayInUseByFloatingIp"));
    }
    let ports: Vec<String> = w
        .neutron
        .values(Kind::Port)
        .filter(|p| s(p, "device_id") == router && s(p, "device_owner") == "network:router_gateway")
        .map(|p| s(p, "id").to_owned())
        .collect();
    for p in ports {
        remove_port(w, &p);
    }
    Ok(())
}

fn create_router(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(w, &b, &[("tags", "standard-attr-tag")])?;
    let id = w.rng.uuid();
    let gw = match b.get("external_gateway_info").cloned() {
        Some(info) => set_gateway(w, &id, &info)?,
        None => Value::Null,
    };
    b.insert("external_gateway_info".into(), gw);
    b.entry("name").or_insert(json!(""));
    b.entry("admin_state_up").or_insert(json!(true));
    b.insert("status".into(), json!("ACTIVE"));
    b.entry("routes").or_insert(json!([]));
    b.entry("distributed").or_insert(json!(false));
    b.entry("ha").or_insert(json!(false));
    b.insert("availability_zone_hints".into(), json!([]));
    b.insert("availability_zones".into(), json!(["nova"]));
    b.insert("flavor_id".into(), Value::Null);
    common(w, Kind::Router, &id, &mut b);
    w.neutron
        .map_mut(Kind::Router)
        .insert(id.clone(), Value::Object(b));
    Ok(id)
}

/// The router that connects the floating network to the port's subnet.
fn reachable_router(w: &World, floating_net: &str, subnet: &str) -> Option<String> {
    w.neutron.values(Kind::Router).find_map(|r| {
        let gw = r.get("external_gateway_info")?;
        if s(gw, "network_id") != floating_net {
            return None;
        }
        let rid = s(r, "id");
        let has_iface = w.neutron.values(Kind::Port).any(|p| {
            s(p, "device_id") == rid
                && s(p, "device_owner") == "network:router_interface"
                && p.get("fixed_ips")
                    .and_then(Value::as_array)
                    .is_some_and(|ips| ips.iter().any(|i| s(i, "subnet_id") == subnet))
        });
        has_iface.then(|| rid.to_owned())
    })
}

/// Associates (or with `None` disassociates) a floating IP.
fn associate(
    w: &mut World,
    fip: &str,
    port: Option<&str>,
    fixed: Option<&str>,
) -> Result<(), ApiError> {
    let f = w
        .neutron
        .get(Kind::FloatingIp, fip)
        .ok_or_else(|| Kind::FloatingIp.not_found(fip))?
        .clone();
    let Some(port) = port else {
        let v = w
            .neutron
            .get_mut(Kind::FloatingIp, fip)
            .ok_or_else(|| Kind::FloatingIp.not_found(fip))?;
        v["port_id"] = Value::Null;
        v["fixed_ip_address"] = Value::Null;
        v["router_id"] = Value::Null;
        v["status"] = json!("DOWN");
        if v.get("port_details").is_some() {
            v["port_details"] = Value::Null;
        }
        touch(v);
        return Ok(());
    };
    let p = w
        .neutron
        .get(Kind::Port, port)
        .ok_or_else(|| Kind::Port.not_found(port))?
        .clone();
    let ips = p
        .get("fixed_ips")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ip = match fixed {
        Some(a) => ips
            .iter()
            .find(|i| s(i, "ip_address") == a)
            .cloned()
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "Bad floatingip request: Port {port} does not have fixed ip {a}."
                ))
                .kind("BadRequest")
            })?,
        None => ips
            .iter()
            .find(|i| !s(i, "ip_address").contains(':'))
            .cloned()
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "Bad floatingip request: Port {port} does not have any IPv4 address."
                ))
                .kind("BadRequest")
            })?,
    };
    if let Some(other) = w
        .neutron
        .values(Kind::FloatingIp)
        .find(|o| s(o, "port_id") == port && s(o, "id") != fip)
    {
        return Err(ApiError::conflict(format!(
            "Cannot associate floating IP {} ({fip}) with port {port} using fixed IP {}, as that fixed IP already has a floating IP on external network {}.",
            s(&f, "floating_ip_address"), s(&ip, "ip_address"), s(other, "floating_network_id")
        )).kind("FloatingIPPortAlreadyAssociated"));
    }
    let subnet = s(&ip, "subnet_id").to_owned();
    let fnet = s(&f, "floating_network_id").to_owned();
    let router = reachable_router(w, &fnet, &subnet).ok_or_else(|| {
        ApiError::not_found(format!(
            "External network {fnet} is not reachable from subnet {subnet}.  Therefore, cannot associate Port {port} with a Floating IP."
        ))
        .kind("ExternalGatewayForFloatingIPNotFound")
    })?;
    let details = json!({
        "name": p.get("name"), "network_id": p.get("network_id"), "mac_address": p.get("mac_address"),
        "admin_state_up": p.get("admin_state_up"), "status": p.get("status"),
        "device_id": p.get("device_id"), "device_owner": p.get("device_owner"),
    });
    let v = w
        .neutron
        .get_mut(Kind::FloatingIp, fip)
        .ok_or_else(|| Kind::FloatingIp.not_found(fip))?;
    v["port_id"] = json!(port);
    v["fixed_ip_address"] = json!(s(&ip, "ip_address"));
    v["router_id"] = json!(router);
    v["status"] = json!("ACTIVE");
    if v.get("port_details").is_some() {
        v["port_details"] = details;
    }
    touch(v);
    Ok(())
}

fn create_floatingip(w: &mut World, mut b: Map<String, Value>) -> Result<String, ApiError> {
    check_attrs(w, &b, &[("tags", "standard-attr-tag")])?;
    let net = b
        .get("floating_network_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Failed to parse request. Required attribute 'floating_network_id' not specified")
        })?
        .to_owned();
    external_network(w, &net, "floatingip")?;
    let subnet = network_subnets(w, &net)
        .into_iter()
        .find(|sid| {
            w.neutron
                .get(Kind::Subnet, sid)
                .and_then(|x| x.get("ip_version"))
                .and_then(Value::as_u64)
                == Some(4)
        })
        .ok_or_else(|| {
            ApiError::bad(format!(
                "Bad floatingip request: Network {net} does not contain any IPv4 subnet."
            ))
            .kind("BadRequest")
        })?;
    let want = b
        .get("floating_ip_address")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id = w.rng.uuid();
    let mut p = Map::new();
    p.insert("network_id".into(), json!(net));
    p.insert("device_owner".into(), json!("network:floatingip"));
    p.insert("device_id".into(), json!(id));
    let mut fixed = json!({"subnet_id": subnet});
    if let Some(a) = &want {
        fixed["ip_address"] = json!(a);
    }
    p.insert("fixed_ips".into(), json!([fixed]));
    let fport = create_port(w, p)?;
    let addr = w
        .neutron
        .get(Kind::Port, &fport)
        .and_then(|p| p.get("fixed_ips"))
        .and_then(|f| f.get(0))
        .map(|f| s(f, "ip_address").to_owned())
        .unwrap_or_default();
    let port_id = b.get("port_id").and_then(Value::as_str).map(str::to_owned);
    let fixed_req = b
        .get("fixed_ip_address")
        .and_then(Value::as_str)
        .map(str::to_owned);
    b.insert("floating_network_id".into(), json!(net));
    b.insert("floating_ip_address".into(), json!(addr));
    b.insert("port_id".into(), Value::Null);
    b.insert("fixed_ip_address".into(), Value::Null);
    b.insert("router_id".into(), Value::Null);
    b.insert("status".into(), json!("DOWN"));
    if w.neutron.has_ext("fip-port-details") {
        b.insert("port_details".into(), Value::Null);
    }
    common(w, Kind::FloatingIp, &id, &mut b);
    w.neutron
        .map_mut(Kind::FloatingIp)
        .insert(id.clone(), Value::Object(b));
    if let Some(port) = port_id {
        if let Err(e) = associate(w, &id, Some(&port), fixed_req.as_deref()) {
            w.neutron.map_mut(Kind::FloatingIp).remove(&id);
            remove_port(w, &fport);
            return Err(e);
        }
    }
    Ok(id)
}

/// Deletes a port record and its addresses, and detaches it from its server.
fn remove_port(w: &mut World, id: &str) {
    let Some(p) = w.neutron.map_mut(Kind::Port).remove(id) else {
        return;
    };
    release_ips(w, &p);
    let fips: Vec<String> = w
        .neutron
        .values(Kind::FloatingIp)
        .filter(|f| s(f, "port_id") == id)
        .map(|f| s(f, "id").to_owned())
        .collect();
    for f in fips {
        let _ = associate(w, &f, None, None);
    }
    let device = s(&p, "device_id");
    if let Some(seq) = w.nova.ids.get(device).copied() {
        if let Some(server) = w.nova.servers.get_mut(&seq) {
            server.ports.retain(|(pid, _)| pid != id);
        }
    }
}

fn delete(w: &mut World, kind: Kind, id: &str) -> Result<(), ApiError> {
    let v = w
        .neutron
        .get(kind, id)
        .ok_or_else(|| kind.not_found(id))?
        .clone();
    match kind {
        Kind::Network => {
            let busy = w
                .neutron
                .values(Kind::Port)
                .any(|p| s(p, "network_id") == id && s(p, "device_owner") != "network:dhcp");
            if busy {
                return Err(ApiError::conflict(format!(
                    "Unable to complete operation on network {id}. There are one or more ports still in use on the network."
                ))
                .kind("NetworkInUse"));
            }
            for sn in network_subnets(w, id) {
                w.neutron.map_mut(Kind::Subnet).remove(&sn);
                w.neutron.used_ips.remove(&sn);
            }
            w.neutron.map_mut(Kind::Network).remove(id);
        }
        Kind::Subnet => {
            let busy = w.neutron.values(Kind::Port).any(|p| {
                s(p, "device_owner") != "network:dhcp"
                    && p.get("fixed_ips")
                        .and_then(Value::as_array)
                        .is_some_and(|ips| ips.iter().any(|i| s(i, "subnet_id") == id))
            });
            if busy {
                return Err(ApiError::conflict(format!(
                    "Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."
                ))
                .kind("SubnetInUse"));
            }
            w.neutron.map_mut(Kind::Subnet).remove(id);
            w.neutron.used_ips.remove(id);
            let net = s(&v, "network_id").to_owned();
            if let Some(n) = w.neutron.get_mut(Kind::Network, &net) {
                if let Some(list) = n.get_mut("subnets").and_then(Value::as_array_mut) {
                    list.retain(|x| x.as_str() != Some(id));
                }
                touch(n);
            }
        }
        Kind::Port => {
            let owner = s(&v, "device_owner");
            if owner == "network:router_interface"
                || owner == "network:router_gateway"
                || owner == "network:floatingip"
            {
                return Err(ApiError::conflict(format!(
                    "Port {id} cannot be deleted directly via the port API: has device owner {owner}."
                ))
                .kind("ServicePortInUse"));
            }
            remove_port(w, id);
        }
        Kind::SecurityGroup => {
            if id == w.neutron.default_sg {
                return Err(ApiError::conflict(
                    "Insufficient rights for removing default security group.",
                )
                .kind("SecurityGroupCannotRemoveDefault"));
            }
            let busy = w.neutron.values(Kind::Port).any(|p| {
                p.get("security_groups")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|g| g.as_str() == Some(id)))
            });
            if busy {
                return Err(ApiError::conflict(format!("Security Group {id} in use."))
                    .kind("SecurityGroupInUse"));
            }
            w.neutron
                .map_mut(Kind::Rule)
                .retain(|_, r| s(r, "security_group_id") != id);
            w.neutron.map_mut(Kind::SecurityGroup).remove(id);
        }
        Kind::Rule => {
            w.neutron.map_mut(Kind::Rule).remove(id);
            let sg = s(&v, "security_group_id").to_owned();
            if let Some(g) = w.neutron.get_mut(Kind::SecurityGroup, &sg) {
                touch(g);
            }
        }
        Kind::Router => {
            let busy = w.neutron.values(Kind::Port).any(|p| {
                s(p, "device_id") == id && s(p, "device_owner") == "network:router_interface"
            });
            if busy {
                return Err(
                    ApiError::conflict(format!("Router {id} still has ports")).kind("RouterInUse")
                );
            }
            clear_gateway(w, id)?;
            w.neutron.map_mut(Kind::Router).remove(id);
        }
        Kind::FloatingIp => {
            w.neutron.map_mut(Kind::FloatingIp).remove(id);
            let ports: Vec<String> = w
                .neutron
                .values(Kind::Port)
                .filter(|p| s(p, "device_id") == id && s(p, "device_owner") == "network:floatingip")
                .map(|p| s(p, "id").to_owned())
                .collect();
            for p in ports {
                remove_port(w, &p);
            }
        }
    }
    Ok(())
}

fn update(w: &mut World, kind: Kind, id: &str, body: &Map<String, Value>) -> Result<(), ApiError> {
    let current = w
        .neutron
        .get(kind, id)
        .ok_or_else(|| kind.not_found(id))?
        .clone();
    for k in body.keys() {
        if !kind.updatable().contains(&k.as_str()) {
            return Err(if current.get(k).is_some() {
                bad(format!("Cannot update read-only attribute {k}"))
            } else {
                bad(format!("Unrecognized attribute(s) '{k}'"))
            });
        }
    }
    let mut body = body.clone();
    match kind {
        Kind::Port => {
            if let Some(sg) = body.get("security_groups") {
                let ids = resolve_sgs(w, sg)?;
                body.insert("security_groups".into(), json!(ids));
            }
            if let Some(f) = body.get("fixed_ips").cloned() {
                release_ips(w, &current);
                let net = s(&current, "network_id").to_owned();
                match fixed_ips_for(w, &net, Some(&f)) {
                    Ok(v) => {
                        body.insert("fixed_ips".into(), v);
                    }
                    Err(e) => {
                        // Re-take the old addresses.
                        for ip in current
                            .get("fixed_ips")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let (Some(set), Some(v)) = (
                                w.neutron.used_ips.get_mut(s(ip, "subnet_id")),
                                parse_ipv4(s(ip, "ip_address")),
                            ) {
                                set.insert(v);
                            }
                        }
                        return Err(e);
                    }
                }
            }
            if let Some(d) = body.get("device_id").and_then(Value::as_str) {
                body.insert(
                    "status".into(),
                    json!(if d.is_empty() { "DOWN" } else { "ACTIVE" }),
                );
            }
        }
        Kind::Router => {
            if let Some(info) = body.get("external_gateway_info").cloned() {
                clear_gateway(w, id)?;
                let gw = set_gateway(w, id, &info)?;
                body.insert("external_gateway_info".into(), gw);
            }
        }
        Kind::FloatingIp if body.contains_key("port_id") => {
            let port = body
                .get("port_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let fixed = body
                .get("fixed_ip_address")
                .and_then(Value::as_str)
                .map(str::to_owned);
            associate(w, id, port.as_deref(), fixed.as_deref())?;
            body.remove("port_id");
            body.remove("fixed_ip_address");
        }
        Kind::Network
            if body.contains_key("router:external") && !w.neutron.has_ext("external-net") =>
        {
            return Err(bad("Unrecognized attribute(s) 'router:external'"));
        }
        _ => {}
    }
    let v = w
        .neutron
        .get_mut(kind, id)
        .ok_or_else(|| kind.not_found(id))?;
    if let Some(o) = v.as_object_mut() {
        for (k, val) in body {
            o.insert(k, val);
        }
    }
    touch(v);
    Ok(())
}

fn render(w: &World, kind: Kind, v: &Value, fields: &[&str]) -> Value {
    let mut v = v.clone();
    if kind == Kind::SecurityGroup {
        let id = s(&v, "id").to_owned();
        let rules: Vec<Value> = w
            .neutron
            .values(Kind::Rule)
            .filter(|r| s(r, "security_group_id") == id)
            .cloned()
            .collect();
        v["security_group_rules"] = Value::Array(rules);
    }
    if fields.is_empty() {
        return v;
    }
    let mut m = Map::new();
    for f in fields {
        if let Some(x) = v.get(*f) {
            m.insert((*f).to_owned(), x.clone());
        }
    }
    Value::Object(m)
}

const RESERVED_QUERY: [&str; 10] = [
    "limit",
    "marker",
    "fields",
    "sort_key",
    "sort_dir",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
];

fn value_matches(v: &Value, wanted: &str) -> bool {
    match v {
        Value::String(s) => s == wanted,
        Value::Bool(b) => {
            wanted.eq_ignore_ascii_case(if *b { "true" } else { "false" })
                || wanted == if *b { "1" } else { "0" }
        }
        Value::Number(n) => n.to_string() == wanted,
        Value::Null => wanted.is_empty() || wanted == "None",
        Value::Array(a) => a.iter().any(|x| value_matches(x, wanted)),
        Value::Object(_) => false,
    }
}

fn tag_list(q: &Query, key: &str) -> Vec<String> {
    q.all(key)
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn list(app: &App, w: &World, kind: Kind, q: &Query) -> R {
    let limit = match q.get("limit") {
        None => 0usize,
        Some(l) => l.parse::<usize>().map_err(|_| {
            bad(format!(
                "Bad limit request: Limit must be an integer 0 or greater and not '{l}'."
            ))
        })?,
    };
    let mut filters: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in &q.0 {
        if !RESERVED_QUERY.contains(&k.as_str()) {
            filters.entry(k.as_str()).or_default().push(v.as_str());
        }
    }
    let fields: Vec<&str> = q
        .all("fields")
        .iter()
        .flat_map(|f| f.split(','))
        .filter(|f| !f.is_empty())
        .collect();
    let tags = tag_list(q, "tags");
    let tags_any = tag_list(q, "tags-any");
    let not_tags = tag_list(q, "not-tags");
    let not_tags_any = tag_list(q, "not-tags-any");
    let empty = BTreeMap::new();
    let map = w.neutron.map(kind).unwrap_or(&empty);
    if w.neutron.has_ext("filter-validation") {
        if let Some(sample) = map.values().next() {
            for k in filters.keys() {
                let known = sample.get(*k).is_some() || (*k == "fixed_ips" && kind == Kind::Port);
                if !known {
                    return Err(bad(format!("['{k}'] is invalid attribute for filtering")));
                }
            }
        }
    }
    let reverse = q
        .get("page_reverse")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let marker = q.get("marker");
    if let Some(mk) = marker {
        if !map.contains_key(mk) {
            return Err(kind.not_found(mk));
        }
    }
    let matches = |v: &Value| {
        for (k, wanted) in &filters {
            if *k == "fixed_ips" {
                let ips = v
                    .get("fixed_ips")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let ok = wanted.iter().any(|spec| {
                    let (fk, fv) = spec.split_once('=').unwrap_or(("ip_address", spec));
                    ips.iter().any(|i| s(i, fk) == fv)
                });
                if !ok {
                    return false;
                }
                continue;
            }
            match v.get(*k) {
                Some(val) => {
                    if !wanted.iter().any(|x| value_matches(val, x)) {
                        return false;
                    }
                }
                None => return false,
            }
        }
        let has = |t: &String| {
            v.get("tags")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(t)))
        };
        (tags.is_empty() || tags.iter().all(has))
            && (tags_any.is_empty() || tags_any.iter().any(has))
            && (not_tags.is_empty() || !not_tags.iter().all(has))
            && (not_tags_any.is_empty() || !not_tags_any.iter().any(has))
    };
    let take = if limit == 0 { usize::MAX } else { limit };
    let mut page: Vec<&Value> = if reverse {
        let iter: Box<dyn Iterator<Item = (&String, &Value)>> = match marker {
            Some(mk) => Box::new(
                map.range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(mk)))
                    .rev(),
            ),
            None => Box::new(map.iter().rev()),
        };
        let mut p: Vec<&Value> = iter
            .map(|(_, v)| v)
            .filter(|v| matches(v))
            .take(take)
            .collect();
        p.reverse();
        p
    } else {
        let iter: Box<dyn Iterator<Item = (&String, &Value)>> = match marker {
            Some(mk) => Box::new(
                map.range::<str, _>((std::ops::Bound::Excluded(mk), std::ops::Bound::Unbounded)),
            ),
            None => Box::new(map.iter()),
        };
        iter.map(|(_, v)| v)
            .filter(|v| matches(v))
            .take(take)
            .collect()
    };
    let items: Vec<Value> = page
        .drain(..)
        .map(|v| render(w, kind, v, &fields))
        .collect();
    let first_id = items.first().map(|v| s(v, "id").to_owned());
    let last_id = items.last().map(|v| s(v, "id").to_owned());
    let mut body = Map::new();
    let full = limit > 0 && items.len() == limit;
    body.insert(kind.plural().into(), Value::Array(items));
    if limit > 0 {
        let url = format!("{}/network/v2.0/{}", app.base, kind.collection());
        let mut links = Vec::new();
        if let (true, Some(last)) = (full, &last_id) {
            let mut qq = q.clone();
            qq.0.retain(|(k, _)| k != "page_reverse");
            links.push(json!({"rel": "next", "href": format!("{url}?{}", qq.with_marker(last))}));
        }
        if let (Some(_), Some(first)) = (marker, &first_id) {
            let mut qq = q.clone();
            qq.0.retain(|(k, _)| k != "page_reverse");
            qq.0.push(("page_reverse".into(), "True".into()));
            links.push(
                json!({"rel": "previous", "href": format!("{url}?{}", qq.with_marker(first))}),
            );
        }
        if !links.is_empty() {
            body.insert(format!("{}_links", kind.plural()), Value::Array(links));
        }
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

fn router_interface(w: &mut World, router: &str, body: &Value, add: bool) -> R {
    let r = w
        .neutron
        .get(Kind::Router, router)
        .ok_or_else(|| Kind::Router.not_found(router))?
        .clone();
    let subnet = body
        .get("subnet_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let port = body
        .get("port_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if subnet.is_some() == port.is_some() {
        return Err(ApiError::bad(
            "Bad router request: Either subnet_id or port_id must be specified.",
        )
        .kind("BadRequest"));
    }
    let iface_ports = |w: &World| -> Vec<Value> {
        w.neutron
            .values(Kind::Port)
            .filter(|p| {
                s(p, "device_id") == router && s(p, "device_owner") == "network:router_interface"
            })
            .cloned()
            .collect()
    };
    let port_subnets = |p: &Value| -> Vec<String> {
        p.get("fixed_ips")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|i| s(i, "subnet_id").to_owned()).collect())
            .unwrap_or_default()
    };
    let port_id = if add {
        if let Some(sid) = &subnet {
            let sn = w
                .neutron
                .get(Kind::Subnet, sid)
                .ok_or_else(|| Kind::Subnet.not_found(sid))?
                .clone();
            if iface_ports(w).iter().any(|p| port_subnets(p).contains(sid)) {
                return Err(ApiError::bad(format!(
                    "Bad router request: Router already has a port on subnet {sid}."
                ))
                .kind("BadRequest"));
            }
            let gw = sn
                .get("gateway_ip")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::bad(format!(
                        "Bad router request: Subnet {sid} does not have a gateway IP."
                    ))
                    .kind("BadRequest")
                })?;
            let mut p = Map::new();
            p.insert("network_id".into(), json!(s(&sn, "network_id")));
            p.insert("device_owner".into(), json!("network:router_interface"));
            p.insert("device_id".into(), json!(router));
            p.insert(
                "fixed_ips".into(),
                json!([{"subnet_id": sid, "ip_address": gw}]),
            );
            create_port(w, p)?
        } else {
            let pid = port.clone().unwrap_or_default();
            let p = w
                .neutron
                .get(Kind::Port, &pid)
                .ok_or_else(|| Kind::Port.not_found(&pid))?
                .clone();
            if !s(&p, "device_id").is_empty() {
                return Err(
                    ApiError::conflict(format!("Port {pid} is still in use.")).kind("PortInUse")
                );
            }
            if port_subnets(&p).is_empty() {
                return Err(ApiError::bad(
                    "Bad router request: Router port must have at least one fixed IP.",
                )
                .kind("BadRequest"));
            }
            let v = w
                .neutron
                .get_mut(Kind::Port, &pid)
                .ok_or_else(|| Kind::Port.not_found(&pid))?;
            v["device_id"] = json!(router);
            v["device_owner"] = json!("network:router_interface");
            v["status"] = json!("ACTIVE");
            touch(v);
            pid
        }
    } else {
        let found = match (&subnet, &port) {
            (Some(sid), _) => iface_ports(w)
                .into_iter()
                .find(|p| port_subnets(p).contains(sid))
                .ok_or_else(|| {
                    ApiError::not_found(format!("Router {router} has no interface on subnet {sid}"))
                        .kind("RouterInterfaceNotFoundForSubnet")
                })?,
            (_, Some(pid)) => iface_ports(w)
                .into_iter()
                .find(|p| s(p, "id") == pid)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "Router {router} does not have an interface with id {pid}"
                    ))
                    .kind("RouterInterfaceNotFound")
                })?,
            _ => unreachable!("checked above"),
        };
        let pid = s(&found, "id").to_owned();
        for sid in port_subnets(&found) {
            let used = w.neutron.values(Kind::FloatingIp).any(|f| {
                s(f, "router_id") == router
                    && w.neutron
                        .get(Kind::Port, s(f, "port_id"))
                        .is_some_and(|p| port_subnets(p).contains(&sid))
            });
            if used {
                return Err(ApiError::conflict(format!(
                    "Router interface for subnet {sid} on router {router} cannot be deleted, as it is required by one or more floating IPs."
                )).kind("RouterInterfaceInUseByFloatingIP"));
            }
        }
        pid
    };
    let p = w
        .neutron
        .get(Kind::Port, &port_id)
        .cloned()
        .unwrap_or(Value::Null);
    let subnets = port_subnets(&p);
    if !add {
        remove_port(w, &port_id);
    }
    if let Some(rv) = w.neutron.get_mut(Kind::Router, router) {
        touch(rv);
    }
    Ok(Resp::json(
        200,
        &json!({
            "id": router,
            "tenant_id": s(&r, "tenant_id"),
            "project_id": s(&r, "project_id"),
            "port_id": port_id,
            "subnet_id": subnets.first(),
            "subnet_ids": subnets,
            "network_id": s(&p, "network_id"),
        }),
    ))
}

fn tags_api(w: &mut World, kind: Kind, id: &str, tag: Option<&str>, req: &Req) -> R {
    if !w.neutron.has_ext("standard-attr-tag") {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let v = w
        .neutron
        .get_mut(kind, id)
        .ok_or_else(|| kind.not_found(id))?;
    let tags: Vec<String> = v
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let valid = |t: &str| !t.is_empty() && t.len() <= 255 && !t.contains(',');
    match (tag, req.method.clone()) {
        (None, Method::GET) => Ok(Resp::json(200, &json!({ "tags": tags }))),
        (None, Method::PUT) => {
            let body = req.json()?;
            let list = body
                .get("tags")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("Invalid input for tags."))?;
            let mut new: Vec<String> = Vec::new();
            for t in list {
                let t = t.as_str().filter(|t| valid(t)).ok_or_else(|| {
                    bad(format!(
                        "Invalid input for tags. Reason: '{t}' is not a valid tag."
                    ))
                })?;
                if !new.iter().any(|x| x == t) {
                    new.push(t.to_owned());
                }
            }
            v["tags"] = json!(new);
            touch(v);
            Ok(Resp::json(200, &json!({ "tags": new })))
        }
        (None, Method::DELETE) => {
            v["tags"] = json!([]);
            touch(v);
            Ok(Resp::empty(204))
        }
        (Some(t), Method::GET) => {
            if tags.iter().any(|x| x == t) {
                Ok(Resp::empty(204))
            } else {
                Err(ApiError::not_found(format!("Tag {t} could not be found.")).kind("TagNotFound"))
            }
        }
        (Some(t), Method::PUT) => {
            if !valid(t) {
                return Err(bad(format!(
                    "Invalid input for tags. Reason: '{t}' is not a valid tag."
                )));
            }
            if !tags.iter().any(|x| x == t) {
                let mut new = tags;
                new.push(t.to_owned());
                v["tags"] = json!(new);
                touch(v);
            }
            Ok(Resp::empty(201))
        }
        (Some(t), Method::DELETE) => {
            if !tags.iter().any(|x| x == t) {
                return Err(
                    ApiError::not_found(format!("Tag {t} could not be found.")).kind("TagNotFound")
                );
            }
            let new: Vec<String> = tags.into_iter().filter(|x| x != t).collect();
            v["tags"] = json!(new);
            touch(v);
            Ok(Resp::empty(204))
        }
        _ => Err(ApiError::new(
            405,
            "The method is not allowed for the requested URL.",
        )),
    }
}

fn extension_doc(alias: &str) -> Value {
    let name = match alias {
        "router" => "Neutron L3 Router",
        "security-group" => "security-group",
        "external-net" => "Neutron external network",
        "provider" => "Provider Network",
        "standard-attr-tag" => "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip",
        "extra_dhcp_opt" => "Neutron Extra DHCP options",
        _ => alias,
    };
    json!({
        "name": name,
        "alias": alias,
        "description": format!("The {alias} extension."),
        "updated": "2013-01-20T00:00:00-00:00",
        "links": [],
    })
}

pub(crate) fn handle(app: &App, req: &Req) -> R {
    let segs = req.seg_refs();
    let m = req.method.clone();
    match segs.as_slice() {
        [] if m == Method::GET => {
            return Ok(Resp::json(
                200,
                &json!({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": format!("{}/network/v2.0/", app.base)}]}]}),
            ))
        }
        ["v2.0", ..] => {}
        _ => return Err(ApiError::not_found("The resource could not be found.")),
    }
    authenticate(app, req)?;
    let rest = &segs[1..];
    let mut w = app.world();
    match rest {
        [] if m == Method::GET => {
            let res: Vec<Value> = [
                "network",
                "subnet",
                "port",
                "security_group",
                "router",
                "floatingip",
            ]
            .iter()
            .map(|r| json!({"name": r, "collection": format!("{r}s")}))
            .collect();
            Ok(Resp::json(200, &json!({ "resources": res })))
        }
        ["extensions"] if m == Method::GET => {
            let list: Vec<Value> = w
                .neutron
                .extensions
                .iter()
                .map(|e| extension_doc(e))
                .collect();
            Ok(Resp::json(200, &json!({ "extensions": list })))
        }
        ["extensions", alias] if m == Method::GET => {
            if !w.neutron.has_ext(alias) {
                return Err(ApiError::not_found(format!(
                    "Extension with alias {alias} does not exist"
                ))
                .kind("HTTPNotFound"));
            }
            Ok(Resp::json(
                200,
                &json!({ "extension": extension_doc(alias) }),
            ))
        }
        [coll, tail @ ..] => {
            let coll = coll.trim_end_matches(".json");
            let kind = Kind::from_collection(coll)
                .ok_or_else(|| ApiError::not_found("The resource could not be found."))?;
            if let Some(ext) = kind.extension() {
                if !w.neutron.has_ext(ext) {
                    return Err(ApiError::not_found("The resource could not be found."));
                }
            }
            match (tail, m) {
                ([], Method::GET) => list(app, &w, kind, &req.query),
                ([], Method::POST) => {
                    let body = req.json()?;
                    let obj = body
                        .get(kind.singular())
                        .and_then(Value::as_object)
                        .cloned()
                        .ok_or_else(|| {
                            bad(format!(
                                "Resource body required: '{}' is missing.",
                                kind.singular()
                            ))
                        })?;
                    let id = match kind {
                        Kind::Network => create_network(&mut w, obj)?,
                        Kind::Subnet => create_subnet(&mut w, obj)?,
                        Kind::Port => create_port(&mut w, obj)?,
                        Kind::SecurityGroup => create_security_group(&mut w, obj)?,
                        Kind::Rule => create_rule(&mut w, obj)?,
                        Kind::Router => create_router(&mut w, obj)?,
                        Kind::FloatingIp => create_floatingip(&mut w, obj)?,
                    };
                    let v = w.neutron.get(kind, &id).cloned().unwrap_or(Value::Null);
                    Ok(Resp::json(
                        201,
                        &json!({ kind.singular(): render(&w, kind, &v, &[]) }),
                    ))
                }
                ([id], Method::GET) => {
                    let v = w.neutron.get(kind, id).ok_or_else(|| kind.not_found(id))?;
                    let fields: Vec<&str> = req.query.all("fields");
                    Ok(Resp::json(
                        200,
                        &json!({ kind.singular(): render(&w, kind, v, &fields) }),
                    ))
                }
                ([id], Method::PUT) => {
                    let body = req.json()?;
                    let obj = body
                        .get(kind.singular())
                        .and_then(Value::as_object)
                        .cloned()
                        .ok_or_else(|| {
                            bad(format!(
                                "Resource body required: '{}' is missing.",
                                kind.singular()
                            ))
                        })?;
                    update(&mut w, kind, id, &obj)?;
                    let v = w.neutron.get(kind, id).cloned().unwrap_or(Value::Null);
                    Ok(Resp::json(
                        200,
                        &json!({ kind.singular(): render(&w, kind, &v, &[]) }),
                    ))
                }
                ([id], Method::DELETE) => {
                    delete(&mut w, kind, id)?;
                    Ok(Resp::empty(204))
                }
                (
                    [id, action @ ("add_router_interface" | "remove_router_interface")],
                    Method::PUT,
                ) if kind == Kind::Router => {
                    let body = req.json()?;
                    router_interface(&mut w, id, &body, *action == "add_router_interface")
                }
                ([id, "tags"], _) => tags_api(&mut w, kind, id, None, req),
                ([id, "tags", tag], _) => tags_api(&mut w, kind, id, Some(tag), req),
                _ => Err(ApiError::not_found("The resource could not be found.")),
            }
        }
        _ => Err(ApiError::not_found("The resource could not be found.")),
    }
}

// ---- helpers for Nova -------------------------------------------------------

/// Whether the security-group extension is enabled.
pub(crate) fn security_groups_enabled(w: &World) -> bool {
    w.neutron.has_ext("security-group")
}

/// A security group by name or id; returns its name.
pub(crate) fn find_security_group(w: &World, name_or_id: &str) -> Option<String> {
    w.neutron
        .values(Kind::SecurityGroup)
        .find(|g| s(g, "id") == name_or_id || s(g, "name") == name_or_id)
        .map(|g| s(g, "name").to_owned())
}

/// The network Nova picks for `networks: "auto"`: the first tenant network with a subnet.
pub(crate) fn auto_network(w: &World) -> Option<String> {
    w.neutron
        .values(Kind::Network)
        .find(|n| {
            n.get("router:external").and_then(Value::as_bool) != Some(true)
                && n.get("subnets")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
        })
        .map(|n| s(n, "id").to_owned())
}

/// Checks that a server can boot on a network (Nova's 400s).
pub(crate) fn check_bootable_network(w: &World, id: &str) -> Result<(), ApiError> {
    let n = w
        .neutron
        .get(Kind::Network, id)
        .ok_or_else(|| ApiError::bad(format!("Network {id} could not be found.")))?;
    if n.get("subnets")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
    {
        return Err(ApiError::bad(format!(
            "Network {id} requires a subnet in order to boot instances on."
        )));
    }
    Ok(())
}

/// Checks that a port exists and is free (Nova's 400 / 409).
pub(crate) fn check_free_port(w: &World, id: &str) -> Result<(), ApiError> {
    let p = w
        .neutron
        .get(Kind::Port, id)
        .ok_or_else(|| ApiError::bad(format!("Port {id} could not be found.")))?;
    if !s(p, "device_id").is_empty() {
        return Err(ApiError::conflict(format!("Port {id} is still in use.")));
    }
    Ok(())
}

/// Creates the port Nova makes for a server on a network.
pub(crate) fn create_compute_port(
    w: &mut World,
    network: &str,
    server: &str,
    fixed_ip: Option<&str>,
    sg_names: &[String],
) -> Result<String, ApiError> {
    let mut p = Map::new();
    p.insert("network_id".into(), json!(network));
    p.insert("device_id".into(), json!(server));
    p.insert("device_owner".into(), json!("compute:nova"));
    if let Some(ip) = fixed_ip {
        p.insert("fixed_ips".into(), json!([{ "ip_address": ip }]));
    }
    if w.neutron.has_ext("security-group") {
        let ids: Vec<String> = sg_names
            .iter()
            .filter_map(|n| {
                w.neutron
                    .values(Kind::SecurityGroup)
                    .find(|g| s(g, "name") == n || s(g, "id") == n)
                    .map(|g| s(g, "id").to_owned())
            })
            .collect();
        p.insert("security_groups".into(), json!(ids));
    }
    if w.neutron.has_ext("binding") {
        p.insert("binding:host_id".into(), json!("compute-0"));
    }
    create_port(w, p).map_err(|e| ApiError::bad(e.message))
}

/// Binds a user-created port to a server.
pub(crate) fn bind_port(w: &mut World, port: &str, server: &str) -> Result<(), ApiError> {
    let binding = w.neutron.has_ext("binding");
    let p = w
        .neutron
        .get_mut(Kind::Port, port)
        .ok_or_else(|| ApiError::bad(format!("Port {port} could not be found.")))?;
    p["device_id"] = json!(server);
    p["device_owner"] = json!("compute:nova");
    p["status"] = json!("ACTIVE");
    if binding {
        p["binding:host_id"] = json!("compute-0");
        p["binding:vif_type"] = json!("ovs");
    }
    touch(p);
    Ok(())
}

/// Deletes the ports Nova created for a server and unbinds the others.
pub(crate) fn release_server_ports(w: &mut World, ports: &[(String, bool)]) {
    let binding = w.neutron.has_ext("binding");
    for (id, created) in ports {
        if *created {
            remove_port(w, id);
        } else if let Some(p) = w.neutron.get_mut(Kind::Port, id) {
            p["device_id"] = json!("");
            p["device_owner"] = json!("");
            p["status"] = json!("DOWN");
            if binding {
                p["binding:host_id"] = json!("");
                p["binding:vif_type"] = json!("unbound");
            }
            touch(p);
        }
    }
}

/// A server's `addresses`: fixed addresses per network name, plus floating ones.
pub(crate) fn server_addresses(w: &World, ports: &[(String, bool)]) -> Value {
    let mut out = Map::new();
    for (pid, _) in ports {
        let Some(p) = w.neutron.get(Kind::Port, pid) else {
            continue;
        };
        let net = s(p, "network_id");
        let name = w
            .neutron
            .get(Kind::Network, net)
            .map(|n| s(n, "name").to_owned())
            .unwrap_or_else(|| net.to_owned());
        let mac = s(p, "mac_address");
        let entry = out.entry(name).or_insert_with(|| json!([]));
        let Some(list) = entry.as_array_mut() else {
            continue;
        };
        for ip in p
            .get("fixed_ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let addr = s(ip, "ip_address");
            list.push(json!({
                "version": if addr.contains(':') { 6 } else { 4 },
                "addr": addr,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": mac,
            }));
        }
        for f in w
            .neutron
            .values(Kind::FloatingIp)
            .filter(|f| s(f, "port_id") == pid)
        {
            list.push(json!({
                "version": 4,
                "addr": s(f, "floating_ip_address"),
                "OS-EXT-IPS:type": "floating",
                "OS-EXT-IPS-MAC:mac_addr": mac,
            }));
        }
    }
    Value::Object(out)
}
