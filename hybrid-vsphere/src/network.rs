//! Networks: standard port groups, distributed port groups and NSX opaque networks as
//! core networks; new flat/VLAN networks are distributed port groups
//! (`AddDVPortgroup_Task`) on the switch named by `physical_network` (else the first
//! one); deleting one is `Destroy_Task`. Standard port groups (host configuration) and
//! NSX networks (NSX Manager's) cannot be deleted here.

use hybrid_core::model::*;
use hybrid_core::paging::{error_stream, paginate_prefetch};
use hybrid_core::{
    async_trait, Error, ErrorKind, Feature, ItemStream, ListOptions, Network, Operation, Page,
    PageToken, Result,
};

use crate::api::network::add_dv_portgroup_task;
use crate::api::vm::this_task;
use crate::inventory::{network, NetBacking, NETWORK_SPECS};
use crate::provider::{Inner, VsphereProvider};
use crate::task::{self, Step, Then};

use std::sync::Arc;

async fn page(
    inner: Arc<Inner>,
    options: ListOptions,
    token: Option<PageToken>,
) -> Result<Page<hybrid_core::model::Network>> {
    let (objs, next) = inner
        .page("Network", NETWORK_SPECS, options.page_size, token.as_ref())
        .await?;
    let mut items = Vec::new();
    for o in &objs {
        let n = inner.net_info(o)?;
        if n.uplink {
            continue;
        }
        let net = network(&n);
        if options.matches(&net.name, &[]) {
            items.push(net);
        }
    }
    Ok(Page::new(items, next))
}

#[async_trait]
impl Network for VsphereProvider {
    fn list_networks(&self, options: ListOptions) -> ItemStream<hybrid_core::model::Network> {
        let inner = self.inner.clone();
        // The next page's SOAP round trip overlaps the consumer's work on this one.
        paginate_prefetch(
            move |token| page(inner.clone(), options.clone(), token),
            None,
        )
    }

    async fn list_networks_page(
        &self,
        options: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<hybrid_core::model::Network>> {
        page(self.inner.clone(), options.clone(), p).await
    }

    async fn get_network(&self, id: &NetworkId) -> Result<hybrid_core::model::Network> {
        Ok(network(&self.inner.find_network(id.as_str()).await?))
    }

    async fn create_network(
        &self,
        spec: &CreateNetwork,
    ) -> Result<Operation<hybrid_core::model::Network>> {
        if spec.kind.needs_sdn() {
            return Err(self.unsupported(Feature::Sdn));
        }
        let vlan = match spec.kind {
            NetworkKind::Flat => 0,
            _ => spec.segmentation_id.ok_or_else(|| {
                Error::invalid_input("a VLAN network needs a segmentation_id (the VLAN id)")
            })?,
        };
        if vlan > 4094 {
            return Err(Error::invalid_input(format!(
                "VLAN id {vlan} is outside 0-4094"
            )));
        }
        let facts = self.inner.facts();
        let switch = match &spec.physical_network {
            Some(want) => facts
                .switches
                .iter()
                .find(|(m, name, _)| name == want || m.value == *want),
            None => facts.switches.first(),
        }
        .ok_or_else(|| match &spec.physical_network {
            Some(w) => Error::not_found(format!("distributed switch {w}")),
            None => Error::new(
                ErrorKind::Unsupported,
                "this datacenter has no distributed switch to create port groups on",
            ),
        })?;
        let t = add_dv_portgroup_task(
            &self.inner.session,
            &switch.0,
            &spec.name,
            vlan,
            "created by hybrid",
        )
        .await?;
        let name = spec.name.clone();
        let then: Then<hybrid_core::model::Network> = Box::new(move |inner, _| {
            Box::pin(async move {
                let nets = inner.networks().await?;
                let n = nets
                    .iter()
                    .find(|n| n.name == name && matches!(n.backing, NetBacking::Distributed { .. }))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            format!("port group {name} is not listed after AddDVPortgroup_Task"),
                        )
                    })?;
                Ok(Step::Done(network(n)))
            })
        });
        Ok(task::operation(
            self.inner.clone(),
            format!("create network {}", spec.name),
            t,
            then,
        ))
    }

    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>> {
        let n = self.inner.find_network(id.as_str()).await?;
        match n.backing {
            NetBacking::Distributed { .. } if !n.nsx => {
                let t = this_task(&self.inner.session, "Destroy_Task", &n.mor).await?;
                Ok(task::operation(self.inner.clone(), format!("delete network {id}"), t, task::done_unit()).with_resource(id.as_str()))
            }
            NetBacking::Standard => Err(Error::new(ErrorKind::Unsupported, format!("{} is a standard port group: it is configuration of each host, not a vCenter object hybrid can delete", n.name))),
            _ => Err(Error::new(ErrorKind::Unsupported, format!("{} is an NSX network: delete it in NSX Manager", n.name))),
        }
    }

    fn list_subnets(&self, _o: ListOptions) -> ItemStream<Subnet> {
        error_stream(self.unsupported(Feature::Subnets))
    }
    async fn list_subnets_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        Err(self.unsupported(Feature::Subnets))
    }
    async fn get_subnet(&self, _id: &SubnetId) -> Result<Subnet> {
        Err(self.unsupported(Feature::Subnets))
    }
    async fn create_subnet(&self, _spec: &CreateSubnet) -> Result<Operation<Subnet>> {
        Err(self.unsupported(Feature::Subnets))
    }
    async fn delete_subnet(&self, _id: &SubnetId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::Subnets))
    }
    fn list_ports(&self, _o: ListOptions) -> ItemStream<Port> {
        error_stream(self.unsupported(Feature::Ports))
    }
    async fn list_ports_page(&self, _o: &ListOptions, _p: Option<PageToken>) -> Result<Page<Port>> {
        Err(self.unsupported(Feature::Ports))
    }
    async fn get_port(&self, _id: &PortId) -> Result<Port> {
        Err(self.unsupported(Feature::Ports))
    }
    async fn create_port(&self, _spec: &CreatePort) -> Result<Operation<Port>> {
        Err(self.unsupported(Feature::Ports))
    }
    async fn delete_port(&self, _id: &PortId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::Ports))
    }
    fn list_security_groups(&self, _o: ListOptions) -> ItemStream<SecurityGroup> {
        error_stream(self.unsupported(Feature::SecurityGroups))
    }
    async fn list_security_groups_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    async fn get_security_group(&self, _id: &SecurityGroupId) -> Result<SecurityGroup> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    async fn create_security_group(
        &self,
        _spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    async fn delete_security_group(&self, _id: &SecurityGroupId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    fn list_routers(&self, _o: ListOptions) -> ItemStream<Router> {
        error_stream(self.unsupported(Feature::Routers))
    }
    async fn list_routers_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<Router>> {
        Err(self.unsupported(Feature::Routers))
    }
    async fn get_router(&self, _id: &RouterId) -> Result<Router> {
        Err(self.unsupported(Feature::Routers))
    }
    async fn create_router(&self, _spec: &CreateRouter) -> Result<Operation<Router>> {
        Err(self.unsupported(Feature::Routers))
    }
    async fn delete_router(&self, _id: &RouterId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::Routers))
    }
    fn list_floating_ips(&self, _o: ListOptions) -> ItemStream<FloatingIp> {
        error_stream(self.unsupported(Feature::FloatingIps))
    }
    async fn list_floating_ips_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        Err(self.unsupported(Feature::FloatingIps))
    }
    async fn get_floating_ip(&self, _id: &FloatingIpId) -> Result<FloatingIp> {
        Err(self.unsupported(Feature::FloatingIps))
    }
    async fn create_floating_ip(&self, _spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>> {
        Err(self.unsupported(Feature::FloatingIps))
    }
    async fn delete_floating_ip(&self, _id: &FloatingIpId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::FloatingIps))
    }
    async fn create_security_group_rule(
        &self,
        _spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    async fn delete_security_group_rule(&self, _id: &SecurityGroupRuleId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::SecurityGroups))
    }
    async fn add_router_interface(
        &self,
        _r: &RouterId,
        _s: &SubnetId,
    ) -> Result<Operation<Router>> {
        Err(self.unsupported(Feature::Routers))
    }
    async fn remove_router_interface(
        &self,
        _r: &RouterId,
        _s: &SubnetId,
    ) -> Result<Operation<Router>> {
        Err(self.unsupported(Feature::Routers))
    }
    async fn associate_floating_ip(
        &self,
        _id: &FloatingIpId,
        _port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        Err(self.unsupported(Feature::FloatingIps))
    }
}
