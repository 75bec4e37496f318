//! `Network` over Neutron. Neutron's calls are synchronous: every returned
//! [`Operation`] is already done.

use std::collections::HashMap;

use async_trait::async_trait;
use hybrid_core::model::{
    CreateFloatingIp, CreateNetwork, CreatePort, CreateRouter, CreateSecurityGroup,
    CreateSecurityGroupRule, CreateSubnet, FloatingIp, FloatingIpId, Network as NetworkModel,
    NetworkId, Port, PortId, Router, RouterId, SecurityGroup, SecurityGroupId, SecurityGroupRule,
    SecurityGroupRuleId, Subnet, SubnetId,
};
use hybrid_core::provider::{ItemStream, Network};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, Result};
use serde_json::Value;

use super::{convert_page, listing, query, Dialect, Inner, OpenStackProvider};
use crate::api::network::{self as neutron, Resource};
use crate::api::{self, Query};
use crate::protocol::neutron::{
    NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronRouter, NeutronRule,
    NeutronSecurityGroup, NeutronSubnet,
};
use crate::protocol::requests;

fn network(v: Value) -> Result<NetworkModel> {
    let n: NeutronNetwork = api::decode(&v, "a network")?;
    Ok(n.into_core(Some(v)))
}
fn subnet(v: Value) -> Result<Subnet> {
    let n: NeutronSubnet = api::decode(&v, "a subnet")?;
    Ok(n.into_core(Some(v)))
}
fn port(v: Value) -> Result<Port> {
    let n: NeutronPort = api::decode(&v, "a port")?;
    Ok(n.into_core(Some(v)))
}
fn security_group(v: Value) -> Result<SecurityGroup> {
    let n: NeutronSecurityGroup = api::decode(&v, "a security group")?;
    Ok(n.into_core(Some(v)))
}
fn rule(v: Value) -> Result<SecurityGroupRule> {
    let n: NeutronRule = api::decode(&v, "a security group rule")?;
    Ok(n.into_core())
}
fn floating_ip(v: Value) -> Result<FloatingIp> {
    let n: NeutronFloatingIp = api::decode(&v, "a floating IP")?;
    Ok(n.into_core(Some(v)))
}

/// Router ids per ports query (about 47 bytes each in the URL).
const ROUTER_BATCH: usize = 100;

/// Device owners of the ports that connect a router to its subnets.
fn is_router_interface(owner: &str) -> bool {
    owner.starts_with("network:router_interface")
        || owner == "network:ha_router_replicated_interface"
}

impl Inner {
    async fn neutron_page<T>(
        &self,
        r: &Resource,
        options: &ListOptions,
        token: Option<PageToken>,
        convert: fn(Value) -> Result<T>,
        keep: impl Fn(&T, &ListOptions) -> bool,
    ) -> Result<Page<T>> {
        let page = neutron::list(
            &self.api,
            r,
            query(options, Dialect::Neutron),
            options.page_size,
            token,
        )
        .await?;
        let page = convert_page(page, convert)?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|t| keep(t, options))
                .collect(),
            page.next,
        ))
    }

    /// The subnets each router of `routers` is connected to, from their interface
    /// ports (one listing for all of them).
    async fn router_interfaces(
        &self,
        routers: &[String],
    ) -> Result<HashMap<String, Vec<SubnetId>>> {
        let mut out: HashMap<String, Vec<SubnetId>> = HashMap::new();
        if routers.is_empty() {
            return Ok(out);
        }
        // Batches keep the request line under the ~8 KiB servers accept.
        for batch in routers.chunks(ROUTER_BATCH) {
            self.router_interfaces_batch(batch, &mut out).await?;
        }
        Ok(out)
    }

    async fn router_interfaces_batch(
        &self,
        routers: &[String],
        out: &mut HashMap<String, Vec<SubnetId>>,
    ) -> Result<()> {
        let q: Query = routers
            .iter()
            .map(|id| ("device_id".to_owned(), id.clone()))
            .collect();
        let mut token = None;
        loop {
            let page = neutron::list(&self.api, &neutron::PORTS, q.clone(), None, token).await?;
            for v in page.items {
                let p: NeutronPort = api::decode(&v, "a port")?;
                if !p.device_owner.as_deref().is_some_and(is_router_interface) {
                    continue;
                }
                let Some(dev) = p.device_id.clone() else {
                    continue;
                };
                let entry = out.entry(dev).or_default();
                for ip in p.fixed_ips {
                    if let Some(s) = ip.subnet_id {
                        let s = SubnetId::new(s);
                        if !entry.contains(&s) {
                            entry.push(s);
                        }
                    }
                }
            }
            match page.next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(())
    }

    async fn routers_from(&self, docs: Vec<Value>) -> Result<Vec<Router>> {
        let mut routers = Vec::with_capacity(docs.len());
        for v in docs {
            let r: NeutronRouter = api::decode(&v, "a router")?;
            routers.push((r, v));
        }
        let ids: Vec<String> = routers.iter().map(|(r, _)| r.id.clone()).collect();
        let mut ifaces = self.router_interfaces(&ids).await?;
        Ok(routers
            .into_iter()
            .map(|(r, v)| {
                let i = ifaces.remove(&r.id).unwrap_or_default();
                r.into_core(i, Some(v))
            })
            .collect())
    }

    async fn routers_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Router>> {
        let page = neutron::list(
            &self.api,
            &neutron::ROUTERS,
            query(options, Dialect::Neutron),
            options.page_size,
            token,
        )
        .await?;
        let routers = self.routers_from(page.items).await?;
        Ok(Page::new(
            routers
                .into_iter()
                .filter(|r| options.matches(&r.name, &[]))
                .collect(),
            page.next,
        ))
    }

    async fn router(&self, id: &str) -> Result<Router> {
        let v = neutron::get(&self.api, &neutron::ROUTERS, id).await?;
        let mut r = self.routers_from(vec![v]).await?;
        r.pop()
            .ok_or_else(|| Error::not_found(format!("router {id}")))
    }

    /// The first external network, for a floating IP asked for without one.
    async fn external_network(&self) -> Result<String> {
        let q = vec![("router:external".to_owned(), "true".to_owned())];
        let page = neutron::list(&self.api, &neutron::NETWORKS, q, Some(1), None).await?;
        page.items
            .first()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "no external network to allocate a floating IP from; name one in the request",
                )
                .with_operation("create_floating_ip")
            })
    }
}

macro_rules! neutron_list {
    ($self:ident, $options:ident, $res:expr, $conv:expr, $keep:expr) => {{
        let inner = $self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = $options.clone();
            async move {
                inner
                    .neutron_page(&$res, &options, token, $conv, $keep)
                    .await
            }
        })
    }};
}

fn by_name_tags(n: &NetworkModel, o: &ListOptions) -> bool {
    o.matches(&n.name, &n.tags)
}
fn sg_name_tags(n: &SecurityGroup, o: &ListOptions) -> bool {
    o.matches(&n.name, &n.tags)
}
fn subnet_name(n: &Subnet, o: &ListOptions) -> bool {
    o.matches(&n.name, &[])
}
fn port_name(n: &Port, o: &ListOptions) -> bool {
    o.matches(&n.name, &[])
}
/// Floating IPs have no name: only the server-side filters apply.
fn any_fip(_: &FloatingIp, _: &ListOptions) -> bool {
    true
}

#[async_trait]
impl Network for OpenStackProvider {
    fn list_networks(&self, options: ListOptions) -> ItemStream<NetworkModel> {
        neutron_list!(self, options, neutron::NETWORKS, network, by_name_tags)
    }

    async fn list_networks_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<NetworkModel>> {
        self.inner
            .neutron_page(&neutron::NETWORKS, options, page, network, by_name_tags)
            .await
    }

    async fn get_network(&self, id: &NetworkId) -> Result<NetworkModel> {
        network(neutron::get(&self.inner.api, &neutron::NETWORKS, id.as_str()).await?)
    }

    async fn create_network(&self, spec: &CreateNetwork) -> Result<Operation<NetworkModel>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::NETWORKS,
            &requests::create_network(spec),
        )
        .await?;
        let n = network(v)?;
        Ok(Operation::ready(format!("create network {}", n.id), n))
    }

    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::NETWORKS, id.as_str()).await?;
        Ok(Operation::ready(format!("delete network {id}"), ()))
    }

    fn list_subnets(&self, options: ListOptions) -> ItemStream<Subnet> {
        neutron_list!(self, options, neutron::SUBNETS, subnet, subnet_name)
    }

    async fn list_subnets_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        self.inner
            .neutron_page(&neutron::SUBNETS, options, page, subnet, subnet_name)
            .await
    }

    async fn get_subnet(&self, id: &SubnetId) -> Result<Subnet> {
        subnet(neutron::get(&self.inner.api, &neutron::SUBNETS, id.as_str()).await?)
    }

    async fn create_subnet(&self, spec: &CreateSubnet) -> Result<Operation<Subnet>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::SUBNETS,
            &requests::create_subnet(spec),
        )
        .await?;
        let s = subnet(v)?;
        Ok(Operation::ready(format!("create subnet {}", s.id), s))
    }

    async fn delete_subnet(&self, id: &SubnetId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::SUBNETS, id.as_str()).await?;
        Ok(Operation::ready(format!("delete subnet {id}"), ()))
    }

    fn list_ports(&self, options: ListOptions) -> ItemStream<Port> {
        neutron_list!(self, options, neutron::PORTS, port, port_name)
    }

    async fn list_ports_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Port>> {
        self.inner
            .neutron_page(&neutron::PORTS, options, page, port, port_name)
            .await
    }

    async fn get_port(&self, id: &PortId) -> Result<Port> {
        port(neutron::get(&self.inner.api, &neutron::PORTS, id.as_str()).await?)
    }

    async fn create_port(&self, spec: &CreatePort) -> Result<Operation<Port>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::PORTS,
            &requests::create_port(spec),
        )
        .await?;
        let p = port(v)?;
        Ok(Operation::ready(format!("create port {}", p.id), p))
    }

    async fn delete_port(&self, id: &PortId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::PORTS, id.as_str()).await?;
        Ok(Operation::ready(format!("delete port {id}"), ()))
    }

    fn list_security_groups(&self, options: ListOptions) -> ItemStream<SecurityGroup> {
        neutron_list!(
            self,
            options,
            neutron::SECURITY_GROUPS,
            security_group,
            sg_name_tags
        )
    }

    async fn list_security_groups_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        self.inner
            .neutron_page(
                &neutron::SECURITY_GROUPS,
                options,
                page,
                security_group,
                sg_name_tags,
            )
            .await
    }

    async fn get_security_group(&self, id: &SecurityGroupId) -> Result<SecurityGroup> {
        security_group(neutron::get(&self.inner.api, &neutron::SECURITY_GROUPS, id.as_str()).await?)
    }

    async fn create_security_group(
        &self,
        spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::SECURITY_GROUPS,
            &requests::create_security_group(spec),
        )
        .await?;
        let g = security_group(v)?;
        Ok(Operation::ready(
            format!("create security group {}", g.id),
            g,
        ))
    }

    async fn delete_security_group(&self, id: &SecurityGroupId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::SECURITY_GROUPS, id.as_str()).await?;
        Ok(Operation::ready(format!("delete security group {id}"), ()))
    }

    async fn create_security_group_rule(
        &self,
        spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::SECURITY_GROUP_RULES,
            &requests::create_security_group_rule(spec),
        )
        .await?;
        let r = rule(v)?;
        Ok(Operation::ready(
            format!("create security group rule {}", r.id),
            r,
        ))
    }

    async fn delete_security_group_rule(&self, id: &SecurityGroupRuleId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::SECURITY_GROUP_RULES, id.as_str()).await?;
        Ok(Operation::ready(
            format!("delete security group rule {id}"),
            (),
        ))
    }

    fn list_routers(&self, options: ListOptions) -> ItemStream<Router> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.routers_page(&options, token).await }
        })
    }

    async fn list_routers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Router>> {
        self.inner.routers_page(options, page).await
    }

    async fn get_router(&self, id: &RouterId) -> Result<Router> {
        self.inner.router(id.as_str()).await
    }

    async fn create_router(&self, spec: &CreateRouter) -> Result<Operation<Router>> {
        let v = neutron::create(
            &self.inner.api,
            &neutron::ROUTERS,
            &requests::create_router(spec),
        )
        .await?;
        let r: NeutronRouter = api::decode(&v, "a router")?;
        let r = r.into_core(Vec::new(), Some(v));
        Ok(Operation::ready(format!("create router {}", r.id), r))
    }

    async fn delete_router(&self, id: &RouterId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::ROUTERS, id.as_str()).await?;
        Ok(Operation::ready(format!("delete router {id}"), ()))
    }

    async fn add_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        neutron::add_router_interface(
            &self.inner.api,
            router.as_str(),
            &requests::router_interface(subnet),
        )
        .await?;
        let r = self.inner.router(router.as_str()).await?;
        Ok(Operation::ready(
            format!("connect subnet {subnet} to router {router}"),
            r,
        ))
    }

    async fn remove_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>> {
        neutron::remove_router_interface(
            &self.inner.api,
            router.as_str(),
            &requests::router_interface(subnet),
        )
        .await?;
        let r = self.inner.router(router.as_str()).await?;
        Ok(Operation::ready(
            format!("disconnect subnet {subnet} from router {router}"),
            r,
        ))
    }

    fn list_floating_ips(&self, options: ListOptions) -> ItemStream<FloatingIp> {
        neutron_list!(self, options, neutron::FLOATING_IPS, floating_ip, any_fip)
    }

    async fn list_floating_ips_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        self.inner
            .neutron_page(&neutron::FLOATING_IPS, options, page, floating_ip, any_fip)
            .await
    }

    async fn get_floating_ip(&self, id: &FloatingIpId) -> Result<FloatingIp> {
        floating_ip(neutron::get(&self.inner.api, &neutron::FLOATING_IPS, id.as_str()).await?)
    }

    async fn create_floating_ip(&self, spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>> {
        let network = match &spec.network_id {
            Some(n) => n.as_str().to_owned(),
            None => self.inner.external_network().await?,
        };
        let v = neutron::create(
            &self.inner.api,
            &neutron::FLOATING_IPS,
            &requests::create_floating_ip(spec, &network),
        )
        .await?;
        let f = floating_ip(v)?;
        Ok(Operation::ready(
            format!("allocate floating IP {}", f.id),
            f,
        ))
    }

    async fn associate_floating_ip(
        &self,
        id: &FloatingIpId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        let v = neutron::update(
            &self.inner.api,
            &neutron::FLOATING_IPS,
            id.as_str(),
            &requests::associate_floating_ip(port),
        )
        .await?;
        let f = floating_ip(v)?;
        Ok(Operation::ready(format!("associate floating IP {id}"), f))
    }

    async fn delete_floating_ip(&self, id: &FloatingIpId) -> Result<Operation<()>> {
        neutron::delete(&self.inner.api, &neutron::FLOATING_IPS, id.as_str()).await?;
        Ok(Operation::ready(format!("release floating IP {id}"), ()))
    }
}
