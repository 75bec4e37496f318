//! Mock network: networks, subnets, ports, security groups, routers, floating IPs.
//! Network changes are synchronous, as in Neutron: their operations are ready at once.

use std::net::IpAddr;

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::operation::Operation;
use crate::paging::{ListOptions, Page, PageToken};
use crate::provider::{ItemStream, Network as NetworkApi};

use super::state::{ip_for, page_of};
use super::{mock_stream, MockProvider};

type Net = crate::model::Network;

fn conflict(msg: String) -> Error {
    Error::new(ErrorKind::Conflict, msg).with_http_status(409)
}

/// Parses `a.b.c.d/n` or an IPv6 CIDR, returning the version.
fn parse_cidr(cidr: &str) -> Result<IpVersion> {
    let bad = || Error::invalid_input(format!("invalid CIDR {cidr:?}"));
    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    match addr {
        IpAddr::V4(_) if len <= 32 => Ok(IpVersion::V4),
        IpAddr::V6(_) if len <= 128 => Ok(IpVersion::V6),
        _ => Err(bad()),
    }
}

fn first_host(cidr: &str) -> Option<String> {
    let (addr, _) = cidr.split_once('/')?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.1", o[0], o[1], o[2]))
        }
        IpAddr::V6(_) => Some(format!("{}1", addr.trim_end_matches(':').to_owned() + "::")),
    }
}

macro_rules! get_or_404 {
    ($self:ident, $map:expr, $id:expr, $what:literal, $op:literal) => {
        $map.get($id.as_str()).cloned().ok_or_else(|| {
            $self.context(Error::not_found(format!(concat!($what, " {}"), $id)), $op)
        })
    };
}

#[async_trait]
impl NetworkApi for MockProvider {
    fn list_networks(&self, options: ListOptions) -> ItemStream<Net> {
        mock_stream!(self, options, list_networks_page)
    }

    async fn list_networks_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Net>> {
        self.enter("list_networks").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.networks,
            options,
            page.as_ref(),
            |n| options.matches(&n.name, &n.tags),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_network(&self, id: &NetworkId) -> Result<Net> {
        self.enter("get_network").await?;
        get_or_404!(self, self.state().networks, id, "network", "get_network")
    }

    async fn create_network(&self, spec: &CreateNetwork) -> Result<Operation<Net>> {
        const OP: &str = "create_network";
        self.enter(OP).await?;
        if spec.name.trim().is_empty() {
            return Err(self.context(Error::invalid_input("a network needs a name"), OP));
        }
        if spec.kind == NetworkKind::Vlan
            && !spec
                .segmentation_id
                .is_some_and(|v| (1..=4094).contains(&v))
        {
            return Err(self.context(
                Error::invalid_input("a VLAN network needs a segmentation id between 1 and 4094"),
                OP,
            ));
        }
        let mut st = self.state();
        if spec.kind == NetworkKind::Vlan
            && st
                .networks
                .values()
                .any(|n| n.kind == NetworkKind::Vlan && n.segmentation_id == spec.segmentation_id)
        {
            return Err(self.context(
                conflict(format!(
                    "VLAN {} is already in use",
                    spec.segmentation_id.unwrap_or(0)
                )),
                OP,
            ));
        }
        let id = st.next_id("net");
        let net = Net {
            id: NetworkId::new(id.clone()),
            name: spec.name.clone(),
            kind: spec.kind.clone(),
            segmentation_id: spec.segmentation_id,
            status: NetworkStatus::Active,
            shared: false,
            external: false,
            subnets: Vec::new(),
            tags: spec.tags.clone(),
            raw: None,
        };
        st.networks.insert(id, net.clone());
        Ok(Operation::ready(
            format!("create network {}", spec.name),
            net,
        ))
    }

    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>> {
        const OP: &str = "delete_network";
        self.enter(OP).await?;
        let mut st = self.state();
        if !st.networks.contains_key(id.as_str()) {
            return Err(self.context(Error::not_found(format!("network {id}")), OP));
        }
        if st.ports.values().any(|p| p.network_id == *id) {
            return Err(self.context(conflict(format!("network {id} still has ports")), OP));
        }
        st.subnets.retain(|_, s| s.network_id != *id);
        st.networks.remove(id.as_str());
        Ok(Operation::ready(format!("delete network {id}"), ()))
    }

    fn list_subnets(&self, options: ListOptions) -> ItemStream<Subnet> {
        mock_stream!(self, options, list_subnets_page)
    }

    async fn list_subnets_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        self.enter("list_subnets").await?;
        let net = options.filters.get("network_id");
        let st = self.state();
        let (items, next) = page_of(
            &st.subnets,
            options,
            page.as_ref(),
            |s| options.matches(&s.name, &[]) && net.is_none_or(|n| n == s.network_id.as_str()),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_subnet(&self, id: &SubnetId) -> Result<Subnet> {
        self.enter("get_subnet").await?;
        get_or_404!(self, self.state().subnets, id, "subnet", "get_subnet")
    }

    async fn create_subnet(&self, spec: &CreateSubnet) -> Result<Operation<Subnet>> {
        const OP: &str = "create_subnet";
        self.enter(OP).await?;
        let version = parse_cidr(&spec.cidr).map_err(|e| self.context(e, OP))?;
        if version != spec.ip_version {
            return Err(self.context(
                Error::invalid_input(format!("CIDR {} is not {:?}", spec.cidr, spec.ip_version)),
                OP,
            ));
        }
        let mut st = self.state();
        if !st.networks.contains_key(spec.network_id.as_str()) {
            return Err(self.context(Error::not_found(format!("network {}", spec.network_id)), OP));
        }
        if st
            .subnets
            .values()
            .any(|s| s.network_id == spec.network_id && s.cidr == spec.cidr)
        {
            return Err(self.context(
                conflict(format!("CIDR {} overlaps an existing subnet", spec.cidr)),
                OP,
            ));
        }
        let id = st.next_id("subnet");
        let subnet = Subnet {
            id: SubnetId::new(id.clone()),
            network_id: spec.network_id.clone(),
            name: spec.name.clone(),
            cidr: spec.cidr.clone(),
            ip_version: spec.ip_version,
            gateway_ip: spec.gateway_ip.clone().or_else(|| first_host(&spec.cidr)),
            dhcp_enabled: spec.dhcp_enabled,
            dns_nameservers: spec.dns_nameservers.clone(),
            raw: None,
        };
        st.subnets.insert(id.clone(), subnet.clone());
        if let Some(n) = st.networks.get_mut(spec.network_id.as_str()) {
            n.subnets.push(SubnetId::new(id));
        }
        Ok(Operation::ready(
            format!("create subnet {}", spec.name),
            subnet,
        ))
    }

    async fn delete_subnet(&self, id: &SubnetId) -> Result<Operation<()>> {
        const OP: &str = "delete_subnet";
        self.enter(OP).await?;
        let mut st = self.state();
        let Some(subnet) = st.subnets.get(id.as_str()).cloned() else {
            return Err(self.context(Error::not_found(format!("subnet {id}")), OP));
        };
        let in_use = st
            .ports
            .values()
            .any(|p| p.fixed_ips.iter().any(|f| f.subnet_id.as_ref() == Some(id)))
            || st.routers.values().any(|r| r.interfaces.contains(id));
        if in_use {
            return Err(self.context(conflict(format!("subnet {id} is in use")), OP));
        }
        st.subnets.remove(id.as_str());
        if let Some(n) = st.networks.get_mut(subnet.network_id.as_str()) {
            n.subnets.retain(|s| s != id);
        }
        Ok(Operation::ready(format!("delete subnet {id}"), ()))
    }

    fn list_ports(&self, options: ListOptions) -> ItemStream<Port> {
        mock_stream!(self, options, list_ports_page)
    }

    async fn list_ports_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Port>> {
        self.enter("list_ports").await?;
        let net = options.filters.get("network_id");
        let device = options.filters.get("device_id");
        let st = self.state();
        let (items, next) = page_of(
            &st.ports,
            options,
            page.as_ref(),
            |p| {
                options.matches(&p.name, &[])
                    && net.is_none_or(|n| n == p.network_id.as_str())
                    && device.is_none_or(|d| p.device_id.as_ref().is_some_and(|x| x.as_str() == d))
            },
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_port(&self, id: &PortId) -> Result<Port> {
        self.enter("get_port").await?;
        get_or_404!(self, self.state().ports, id, "port", "get_port")
    }

    async fn create_port(&self, spec: &CreatePort) -> Result<Operation<Port>> {
        const OP: &str = "create_port";
        self.enter(OP).await?;
        let mut st = self.state();
        let Some(net) = st.networks.get(spec.network_id.as_str()).cloned() else {
            return Err(self.context(Error::not_found(format!("network {}", spec.network_id)), OP));
        };
        for g in &spec.security_groups {
            if !st.security_groups.contains_key(g.as_str()) {
                return Err(self.context(Error::not_found(format!("security group {g}")), OP));
            }
        }
        for f in &spec.fixed_ips {
            if st.ports.values().any(|p| {
                p.network_id == spec.network_id
                    && p.fixed_ips.iter().any(|x| x.ip_address == f.ip_address)
            }) {
                return Err(self.context(
                    conflict(format!("IP address {} is already in use", f.ip_address)),
                    OP,
                ));
            }
        }
        let id = st.next_id("port");
        let seq: u64 = id
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let fixed_ips = if spec.fixed_ips.is_empty() {
            net.subnets
                .first()
                .map(|s| {
                    vec![FixedIp {
                        subnet_id: Some(s.clone()),
                        ip_address: ip_for(seq),
                    }]
                })
                .unwrap_or_default()
        } else {
            spec.fixed_ips.clone()
        };
        let port = Port {
            id: PortId::new(id.clone()),
            name: spec.name.clone(),
            network_id: spec.network_id.clone(),
            mac_address: Some(format!(
                "fa:16:3e:{:02x}:{:02x}:{:02x}",
                (seq >> 16) & 0xff,
                (seq >> 8) & 0xff,
                seq & 0xff
            )),
            fixed_ips,
            device_id: None,
            security_groups: spec.security_groups.clone(),
            status: NetworkStatus::Down,
            raw: None,
        };
        st.ports.insert(id, port.clone());
        Ok(Operation::ready(format!("create port {}", spec.name), port))
    }

    async fn delete_port(&self, id: &PortId) -> Result<Operation<()>> {
        const OP: &str = "delete_port";
        self.enter(OP).await?;
        let mut st = self.state();
        if st.ports.remove(id.as_str()).is_none() {
            return Err(self.context(Error::not_found(format!("port {id}")), OP));
        }
        for f in st.floating_ips.values_mut() {
            if f.port_id.as_ref() == Some(id) {
                f.port_id = None;
                f.fixed_address = None;
            }
        }
        Ok(Operation::ready(format!("delete port {id}"), ()))
    }

    fn list_security_groups(&self, options: ListOptions) -> ItemStream<SecurityGroup> {
        mock_stream!(self, options, list_security_groups_page)
    }

    async fn list_security_groups_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        self.enter("list_security_groups").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.security_groups,
            options,
            page.as_ref(),
            |g| options.matches(&g.name, &g.tags),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_security_group(&self, id: &SecurityGroupId) -> Result<SecurityGroup> {
        self.enter("get_security_group").await?;
        get_or_404!(
            self,
            self.state().security_groups,
            id,
            "security group",
            "get_security_group"
        )
    }

    async fn create_security_group(
        &self,
        spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>> {
        const OP: &str = "create_security_group";
        self.enter(OP).await?;
        if spec.name.trim().is_empty() {
            return Err(self.context(Error::invalid_input("a security group needs a name"), OP));
        }
        let mut st = self.state();
        let id = st.next_id("sg");
        let g = SecurityGroup {
            id: SecurityGroupId::new(id.clone()),
            name: spec.name.clone(),
            description: spec.description.clone(),
            rules: Vec::new(),
            tags: Vec::new(),
            raw: None,
        };
        st.security_groups.insert(id, g.clone());
        Ok(Operation::ready(
            format!("create security group {}", spec.name),
            g,
        ))
    }

    async fn delete_security_group(&self, id: &SecurityGroupId) -> Result<Operation<()>> {
        const OP: &str = "delete_security_group";
        self.enter(OP).await?;
        let mut st = self.state();
        if !st.security_groups.contains_key(id.as_str()) {
            return Err(self.context(Error::not_found(format!("security group {id}")), OP));
        }
        if st.ports.values().any(|p| p.security_groups.contains(id)) {
            return Err(self.context(
                conflict(format!("security group {id} is in use by a port")),
                OP,
            ));
        }
        st.security_groups.remove(id.as_str());
        Ok(Operation::ready(format!("delete security group {id}"), ()))
    }

    async fn create_security_group_rule(
        &self,
        spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>> {
        const OP: &str = "create_security_group_rule";
        self.enter(OP).await?;
        if let (Some(a), Some(b)) = (spec.port_min, spec.port_max) {
            if a > b {
                return Err(self.context(
                    Error::invalid_input(format!("port range {a}-{b} is reversed")),
                    OP,
                ));
            }
        }
        if (spec.port_min.is_some() || spec.port_max.is_some())
            && !matches!(spec.protocol.as_deref(), Some("tcp" | "udp" | "sctp"))
        {
            return Err(self.context(
                Error::invalid_input("a port range needs protocol tcp, udp or sctp"),
                OP,
            ));
        }
        let mut st = self.state();
        if let Some(RuleRemote::Group(g)) = &spec.remote {
            if !st.security_groups.contains_key(g.as_str()) {
                return Err(self.context(Error::not_found(format!("security group {g}")), OP));
            }
        }
        let id = st.next_id("sgr");
        let Some(group) = st.security_groups.get_mut(spec.group_id.as_str()) else {
            return Err(self.context(
                Error::not_found(format!("security group {}", spec.group_id)),
                OP,
            ));
        };
        let rule = SecurityGroupRule {
            id: SecurityGroupRuleId::new(id),
            group_id: spec.group_id.clone(),
            direction: spec.direction,
            ip_version: spec.ip_version,
            protocol: spec.protocol.clone(),
            port_min: spec.port_min,
            port_max: spec.port_max,
            remote: spec.remote.clone(),
        };
        let same = |r: &SecurityGroupRule| {
            r.direction == rule.direction
                && r.ip_version == rule.ip_version
                && r.protocol == rule.protocol
                && r.port_min == rule.port_min
                && r.port_max == rule.port_max
                && r.remote == rule.remote
        };
        if group.rules.iter().any(same) {
            return Err(self.context(
                Error::new(ErrorKind::AlreadyExists, "an identical rule already exists")
                    .with_http_status(409),
                OP,
            ));
        }
        group.rules.push(rule.clone());
        Ok(Operation::ready(
            format!("create rule in {}", spec.group_id),
            rule,
        ))
    }

    async fn delete_security_group_rule(&self, id: &SecurityGroupRuleId) -> Result<Operation<()>> {
        const OP: &str = "delete_security_group_rule";
        self.enter(OP).await?;
        let mut st = self.state();
        for g in st.security_groups.values_mut() {
            let before = g.rules.len();
            g.rules.retain(|r| r.id != *id);
            if g.rules.len() != before {
                return Ok(Operation::ready(format!("delete rule {id}"), ()));
            }
        }
        Err(self.context(Error::not_found(format!("security group rule {id}")), OP))
    }

    fn list_routers(&self, options: ListOptions) -> ItemStream<Router> {
        mock_stream!(self, options, list_routers_page)
    }

    async fn list_routers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Router>> {
        self.enter("list_routers").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.routers,
            options,
            page.as_ref(),
            |r| options.matches(&r.name, &[]),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_router(&self, id: &RouterId) -> Result<Router> {
        self.enter("get_router").await?;
        get_or_404!(self, self.state().routers, id, "router", "get_router")
    }

    async fn create_router(&self, spec: &CreateRouter) -> Result<Operation<Router>> {
        const OP: &str = "create_router";
        self.enter(OP).await?;
        let mut st = self.state();
        if let Some(ext) = &spec.external_network {
            match st.networks.get(ext.as_str()) {
                None => return Err(self.context(Error::not_found(format!("network {ext}")), OP)),
                Some(n) if !n.external => {
                    return Err(self.context(
                        Error::invalid_input(format!("network {ext} is not external")),
                        OP,
                    ))
                }
                Some(_) => {}
            }
        }
        let id = st.next_id("router");
        let r = Router {
            id: RouterId::new(id.clone()),
            name: spec.name.clone(),
            external_network: spec.external_network.clone(),
            interfaces: Vec::new(),
            status: NetworkStatus::Active,
            raw: None,
        };
        st.routers.insert(id, r.clone());
        Ok(Operation::ready(format!("create router {}", spec.name), r))
    }

    async fn delete_router(&self, id: &RouterId) -> Result<Operation<()>> {
        const OP: &str = "delete_router";
        self.enter(OP).await?;
        let mut st = self.state();
        match st.routers.get(id.as_str()) {
            None => return Err(self.context(Error::not_found(format!("router {id}")), OP)),
            Some(r) if !r.interfaces.is_empty() => {
                return Err(self.context(conflict(format!("router {id} still has interfaces")), OP))
            }
            Some(_) => {}
        }
        st.routers.remove(id.as_str());
        Ok(Operation::ready(format!("delete router {id}"), ()))
    }

    async fn add_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        const OP: &str = "add_router_interface";
        self.enter(OP).await?;
        let mut st = self.state();
        if !st.subnets.contains_key(subnet.as_str()) {
            return Err(self.context(Error::not_found(format!("subnet {subnet}")), OP));
        }
        let Some(r) = st.routers.get_mut(router.as_str()) else {
            return Err(self.context(Error::not_found(format!("router {router}")), OP));
        };
        if r.interfaces.contains(subnet) {
            return Err(self.context(
                conflict(format!("subnet {subnet} is already on router {router}")),
                OP,
            ));
        }
        r.interfaces.push(subnet.clone());
        Ok(Operation::ready(
            format!("add {subnet} to router {router}"),
            r.clone(),
        ))
    }

    async fn remove_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        const OP: &str = "remove_router_interface";
        self.enter(OP).await?;
        let mut st = self.state();
        let Some(r) = st.routers.get_mut(router.as_str()) else {
            return Err(self.context(Error::not_found(format!("router {router}")), OP));
        };
        let before = r.interfaces.len();
        r.interfaces.retain(|s| s != subnet);
        if before == r.interfaces.len() {
            return Err(self.context(
                Error::not_found(format!("interface for subnet {subnet} on router {router}")),
                OP,
            ));
        }
        Ok(Operation::ready(
            format!("remove {subnet} from router {router}"),
            r.clone(),
        ))
    }

    fn list_floating_ips(&self, options: ListOptions) -> ItemStream<FloatingIp> {
        mock_stream!(self, options, list_floating_ips_page)
    }

    async fn list_floating_ips_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        self.enter("list_floating_ips").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.floating_ips,
            options,
            page.as_ref(),
            |_| true,
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_floating_ip(&self, id: &FloatingIpId) -> Result<FloatingIp> {
        self.enter("get_floating_ip").await?;
        get_or_404!(
            self,
            self.state().floating_ips,
            id,
            "floating IP",
            "get_floating_ip"
        )
    }

    async fn create_floating_ip(&self, spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>> {
        const OP: &str = "create_floating_ip";
        self.enter(OP).await?;
        let mut st = self.state();
        let network_id = match &spec.network_id {
            Some(n) => match st.networks.get(n.as_str()) {
                None => return Err(self.context(Error::not_found(format!("network {n}")), OP)),
                Some(net) if !net.external => {
                    return Err(self.context(
                        Error::invalid_input(format!("network {n} is not external")),
                        OP,
                    ))
                }
                Some(_) => Some(n.clone()),
            },
            None => st
                .networks
                .values()
                .find(|n| n.external)
                .map(|n| n.id.clone()),
        };
        let fixed_address = match &spec.port_id {
            None => None,
            Some(p) => match st.ports.get(p.as_str()) {
                None => return Err(self.context(Error::not_found(format!("port {p}")), OP)),
                Some(port) => port.fixed_ips.first().map(|f| f.ip_address.clone()),
            },
        };
        let id = st.next_id("fip");
        let seq = st.floating_ips.len() as u64 + 10;
        let fip = FloatingIp {
            id: FloatingIpId::new(id.clone()),
            address: format!("203.0.{}.{}", (seq >> 8) & 0xff, seq & 0xff),
            network_id,
            port_id: spec.port_id.clone(),
            fixed_address,
            status: NetworkStatus::Active,
            raw: None,
        };
        st.floating_ips.insert(id, fip.clone());
        Ok(Operation::ready("create floating IP", fip))
    }

    async fn associate_floating_ip(
        &self,
        id: &FloatingIpId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        const OP: &str = "associate_floating_ip";
        self.enter(OP).await?;
        let mut st = self.state();
        let fixed = match port {
            None => None,
            Some(p) => {
                let Some(port) = st.ports.get(p.as_str()) else {
                    return Err(self.context(Error::not_found(format!("port {p}")), OP));
                };
                if st
                    .floating_ips
                    .values()
                    .any(|f| f.id != *id && f.port_id.as_ref() == Some(p))
                {
                    return Err(
                        self.context(conflict(format!("port {p} already has a floating IP")), OP)
                    );
                }
                port.fixed_ips.first().map(|f| f.ip_address.clone())
            }
        };
        let Some(f) = st.floating_ips.get_mut(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("floating IP {id}")), OP));
        };
        f.port_id = port.cloned();
        f.fixed_address = fixed;
        Ok(Operation::ready(
            format!("associate floating IP {id}"),
            f.clone(),
        ))
    }

    async fn delete_floating_ip(&self, id: &FloatingIpId) -> Result<Operation<()>> {
        const OP: &str = "delete_floating_ip";
        self.enter(OP).await?;
        if self.state().floating_ips.remove(id.as_str()).is_none() {
            return Err(self.context(Error::not_found(format!("floating IP {id}")), OP));
        }
        Ok(Operation::ready(format!("delete floating IP {id}"), ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("10.0.0.0/24").unwrap(), IpVersion::V4);
        assert_eq!(parse_cidr("fd00::/64").unwrap(), IpVersion::V6);
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("nonsense").is_err());
        assert_eq!(first_host("10.1.2.0/24").unwrap(), "10.1.2.1");
    }
}
