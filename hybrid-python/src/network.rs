//! `cloud.network`: networks, subnets, ports, security groups and rules, routers,
//! floating IPs.

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::prelude::*;

use hybrid::model::{
    CreateFloatingIp, CreateNetwork, CreatePort, CreateRouter, CreateSecurityGroup,
    CreateSecurityGroupRule, CreateSubnet, Direction, FixedIp, FloatingIp, FloatingIpId, NetworkId,
    NetworkKind, Port, PortId, Router, RouterId, RuleRemote, SecurityGroup, SecurityGroupId,
    SecurityGroupRuleId, Subnet, SubnetId,
};
use hybrid::{NetworkExt, Provider};

use crate::errors::invalid_input;
use crate::listing::{fetchers, list_options, token, PageOut};
use crate::models::Model;
use crate::operation::{OpOut, Waiting};
use crate::rt::twins;

/// Networks, subnets, ports, security groups and their rules, routers and floating
/// IPs of one provider (`cloud.network`).
///
/// Conventions as `ComputeService`: blocking methods release the GIL and have asyncio twins
/// prefixed with `a`; lists are lazy; mutations wait unless `wait=False`. Each method
/// names the capability it requires; a missing one raises `UnsupportedError` with the
/// reason (for example security groups on vSphere without NSX), without a request.
#[pyclass(frozen, name = "NetworkService", module = "hybrid")]
pub(crate) struct PyNetwork {
    pub(crate) p: Arc<dyn Provider>,
}

impl PyNetwork {
    fn provider(&self) -> Arc<dyn Provider> {
        self.p.clone()
    }
}

fn direction(py: Python<'_>, d: &str) -> PyResult<Direction> {
    match d {
        "ingress" => Ok(Direction::Ingress),
        "egress" => Ok(Direction::Egress),
        other => Err(invalid_input(
            py,
            format!("direction must be \"ingress\" or \"egress\", got {other:?}"),
        )),
    }
}

/// `fixed_ips` entries: an address, or `{"ip_address": ..., "subnet_id": ...}`.
fn fixed_ip(obj: &Bound<'_, PyAny>) -> PyResult<FixedIp> {
    if let Ok(s) = obj.extract::<String>() {
        return Ok(FixedIp {
            subnet_id: None,
            ip_address: s,
        });
    }
    crate::convert::from_py_data(obj, "fixed IP")
}

twins! {
    impl PyNetwork {
        /// One page of networks. Requires `network.networks`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_networks_page / alist_networks_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<hybrid::model::Network> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_networks_page(&opts, token(page_token)).await?)) }
        }

        /// One network. Requires `network.networks`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_network / aget_network (&self, _py, id: String) -> Model<hybrid::model::Network> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_network(&NetworkId::new(id)).await?)) }
        }

        /// The network named exactly `name`, or `None`. Requires `network.networks`.
        #[pyo3(signature = (name))]
        fn find_network / afind_network (&self, _py, name: String) -> Option<Model<hybrid::model::Network>> {
            let p = self.provider();
            async move { Ok(p.network().find_network(&name).await?.map(Model)) }
        }

        /// Creates a network of `kind` (`"flat"`, `"vlan"`, `"overlay"`, ...) and returns
        /// it. Requires `network.networks`, and `network.sdn` for any kind but flat or
        /// VLAN. Raises `InvalidInputError`, `ConflictError` (VLAN in use),
        /// `QuotaExceededError`.
        #[pyo3(signature = (name, kind="vlan", *, segmentation_id=None, physical_network=None, tags=None, wait=true, timeout=None))]
        fn create_network / acreate_network (&self, py, name: String, kind: &str,
            segmentation_id: Option<u32>, physical_network: Option<String>, tags: Option<Vec<String>>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateNetwork {
                name,
                kind: NetworkKind::parse(kind),
                segmentation_id,
                physical_network,
                tags: tags.unwrap_or_default(),
            };
            let p = self.provider();
            async move { waiting.finish(p.network().create_network(&spec).await?).await }
        }

        /// Deletes a network. Requires `network.networks`. Raises `NotFoundError`,
        /// `ConflictError` while ports remain.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_network / adelete_network (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_network(&NetworkId::new(id)).await?).await }
        }

        /// One page of subnets. Requires `network.subnets`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_subnets_page / alist_subnets_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Subnet> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_subnets_page(&opts, token(page_token)).await?)) }
        }

        /// One subnet. Requires `network.subnets`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_subnet / aget_subnet (&self, _py, id: String) -> Model<Subnet> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_subnet(&SubnetId::new(id)).await?)) }
        }

        /// Creates a subnet on `network_id` with `cidr`. Requires `network.subnets`.
        /// Raises `NotFoundError` (network), `InvalidInputError` (CIDR), `ConflictError`
        /// (overlap).
        #[pyo3(signature = (network_id, name, cidr, *, ip_version=4, gateway_ip=None, dhcp_enabled=true, dns_nameservers=None, wait=true, timeout=None))]
        fn create_subnet / acreate_subnet (&self, py, network_id: String, name: String, cidr: String,
            ip_version: u8, gateway_ip: Option<String>, dhcp_enabled: bool,
            dns_nameservers: Option<Vec<String>>, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateSubnet {
                network_id: NetworkId::new(network_id),
                name,
                cidr,
                ip_version: crate::convert::ip_version(py, ip_version)?,
                gateway_ip,
                dhcp_enabled,
                dns_nameservers: dns_nameservers.unwrap_or_default(),
            };
            let p = self.provider();
            async move { waiting.finish(p.network().create_subnet(&spec).await?).await }
        }

        /// Deletes a subnet. Requires `network.subnets`. Raises `NotFoundError`,
        /// `ConflictError` while in use.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_subnet / adelete_subnet (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_subnet(&SubnetId::new(id)).await?).await }
        }

        /// One page of ports. Requires `network.ports`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_ports_page / alist_ports_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Port> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_ports_page(&opts, token(page_token)).await?)) }
        }

        /// One port. Requires `network.ports`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_port / aget_port (&self, _py, id: String) -> Model<Port> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_port(&PortId::new(id)).await?)) }
        }

        /// Creates a port on `network_id`; `fixed_ips` are addresses or
        /// `{"ip_address": ..., "subnet_id": ...}` dicts. Requires `network.ports`, and
        /// `network.security_groups` when it names groups. Raises `NotFoundError`
        /// (network), `ConflictError` (address in use).
        #[pyo3(signature = (network_id, name, *, fixed_ips=None, security_groups=None, wait=true, timeout=None))]
        fn create_port / acreate_port (&self, py, network_id: String, name: String,
            fixed_ips: Option<Vec<Bound<'_, PyAny>>>, security_groups: Option<Vec<String>>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreatePort {
                network_id: NetworkId::new(network_id),
                name,
                fixed_ips: fixed_ips
                    .unwrap_or_default()
                    .iter()
                    .map(fixed_ip)
                    .collect::<PyResult<_>>()?,
                security_groups: security_groups
                    .unwrap_or_default()
                    .into_iter()
                    .map(SecurityGroupId::new)
                    .collect(),
            };
            let p = self.provider();
            async move { waiting.finish(p.network().create_port(&spec).await?).await }
        }

        /// Deletes a port. Requires `network.ports`. Raises `NotFoundError`.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_port / adelete_port (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_port(&PortId::new(id)).await?).await }
        }

        /// One page of security groups. Requires `network.security_groups`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_security_groups_page / alist_security_groups_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<SecurityGroup> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_security_groups_page(&opts, token(page_token)).await?)) }
        }

        /// One security group with its rules. Requires `network.security_groups`. Raises
        /// `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_security_group / aget_security_group (&self, _py, id: String) -> Model<SecurityGroup> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_security_group(&SecurityGroupId::new(id)).await?)) }
        }

        /// The security group named exactly `name`, or `None`. Requires
        /// `network.security_groups`.
        #[pyo3(signature = (name))]
        fn find_security_group / afind_security_group (&self, _py, name: String) -> Option<Model<SecurityGroup>> {
            let p = self.provider();
            async move { Ok(p.network().find_security_group(&name).await?.map(Model)) }
        }

        /// Creates a security group. Requires `network.security_groups`. Raises
        /// `InvalidInputError`, `QuotaExceededError`.
        #[pyo3(signature = (name, description=String::new(), *, wait=true, timeout=None))]
        fn create_security_group / acreate_security_group (&self, py, name: String, description: String,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateSecurityGroup { name, description };
            let p = self.provider();
            async move { waiting.finish(p.network().create_security_group(&spec).await?).await }
        }

        /// Deletes a security group. Requires `network.security_groups`. Raises
        /// `NotFoundError`, `ConflictError` while in use.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_security_group / adelete_security_group (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_security_group(&SecurityGroupId::new(id)).await?).await }
        }

        /// Adds a rule to group `group_id`: `direction` `"ingress"` or `"egress"`,
        /// `protocol` (`"tcp"`, `"udp"`, `"icmp"`, a number, `None` for any), a port range,
        /// and a remote end (`remote_cidr` or `remote_group`, neither for anywhere).
        /// Requires `network.security_groups`. Raises `NotFoundError` (group),
        /// `AlreadyExistsError` (same rule), `InvalidInputError`.
        #[pyo3(signature = (group_id, direction="ingress", *, ip_version=4, protocol=None, port_min=None, port_max=None, remote_cidr=None, remote_group=None, wait=true, timeout=None))]
        fn create_security_group_rule / acreate_security_group_rule (&self, py, group_id: String,
            direction: &str, ip_version: u8, protocol: Option<String>, port_min: Option<u16>,
            port_max: Option<u16>, remote_cidr: Option<String>, remote_group: Option<String>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let remote = match (remote_cidr, remote_group) {
                (Some(_), Some(_)) => {
                    return Err(invalid_input(py, "give remote_cidr or remote_group, not both"));
                }
                (Some(c), None) => Some(RuleRemote::Cidr(c)),
                (None, Some(g)) => Some(RuleRemote::Group(SecurityGroupId::new(g))),
                (None, None) => None,
            };
            let spec = CreateSecurityGroupRule {
                group_id: SecurityGroupId::new(group_id),
                direction: self::direction(py, direction)?,
                ip_version: crate::convert::ip_version(py, ip_version)?,
                protocol,
                port_min,
                port_max,
                remote,
            };
            let p = self.provider();
            async move { waiting.finish(p.network().create_security_group_rule(&spec).await?).await }
        }

        /// Removes a rule. Requires `network.security_groups`. Raises `NotFoundError`.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_security_group_rule / adelete_security_group_rule (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(p.network().delete_security_group_rule(&SecurityGroupRuleId::new(id)).await?)
                    .await
            }
        }

        /// One page of routers. Requires `network.routers`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_routers_page / alist_routers_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Router> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_routers_page(&opts, token(page_token)).await?)) }
        }

        /// One router. Requires `network.routers`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_router / aget_router (&self, _py, id: String) -> Model<Router> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_router(&RouterId::new(id)).await?)) }
        }

        /// Creates a router, with its gateway on `external_network` when given. Requires
        /// `network.routers`. Raises `NotFoundError` (external network),
        /// `QuotaExceededError`.
        #[pyo3(signature = (name, *, external_network=None, wait=true, timeout=None))]
        fn create_router / acreate_router (&self, py, name: String, external_network: Option<String>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateRouter { name, external_network: external_network.map(NetworkId::new) };
            let p = self.provider();
            async move { waiting.finish(p.network().create_router(&spec).await?).await }
        }

        /// Deletes a router. Requires `network.routers`. Raises `NotFoundError`,
        /// `ConflictError` while interfaces remain.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_router / adelete_router (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_router(&RouterId::new(id)).await?).await }
        }

        /// Connects subnet `subnet` to router `router` and returns the router. Requires
        /// `network.routers`. Raises `NotFoundError`, `ConflictError` (already connected).
        #[pyo3(signature = (router, subnet, *, wait=true, timeout=None))]
        fn add_router_interface / aadd_router_interface (&self, py, router: String, subnet: String,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(p.network().add_router_interface(&RouterId::new(router), &SubnetId::new(subnet)).await?)
                    .await
            }
        }

        /// Disconnects subnet `subnet` from router `router` and returns the router.
        /// Requires `network.routers`. Raises `NotFoundError` when not connected.
        #[pyo3(signature = (router, subnet, *, wait=true, timeout=None))]
        fn remove_router_interface / aremove_router_interface (&self, py, router: String, subnet: String,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(p.network().remove_router_interface(&RouterId::new(router), &SubnetId::new(subnet)).await?)
                    .await
            }
        }

        /// One page of floating IPs. Requires `network.floating_ips`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_floating_ips_page / alist_floating_ips_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<FloatingIp> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.network().list_floating_ips_page(&opts, token(page_token)).await?)) }
        }

        /// One floating IP. Requires `network.floating_ips`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_floating_ip / aget_floating_ip (&self, _py, id: String) -> Model<FloatingIp> {
            let p = self.provider();
            async move { Ok(Model(p.network().get_floating_ip(&FloatingIpId::new(id)).await?)) }
        }

        /// Allocates a floating IP from `network_id` (the provider's default when
        /// omitted), mapped to `port_id` at once when given. Requires
        /// `network.floating_ips`. Raises `NotFoundError`, `QuotaExceededError`.
        #[pyo3(signature = (*, network_id=None, port_id=None, wait=true, timeout=None))]
        fn create_floating_ip / acreate_floating_ip (&self, py, network_id: Option<String>,
            port_id: Option<String>, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateFloatingIp {
                network_id: network_id.map(NetworkId::new),
                port_id: port_id.map(PortId::new),
            };
            let p = self.provider();
            async move { waiting.finish(p.network().create_floating_ip(&spec).await?).await }
        }

        /// Maps a floating IP to `port_id`, or unmaps it with `None`, and returns it.
        /// Requires `network.floating_ips`. Raises `NotFoundError`, `ConflictError`.
        #[pyo3(signature = (id, port_id, *, wait=true, timeout=None))]
        fn associate_floating_ip / aassociate_floating_ip (&self, py, id: String, port_id: Option<String>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                let port = port_id.map(PortId::new);
                waiting
                    .finish(p.network().associate_floating_ip(&FloatingIpId::new(id), port.as_ref()).await?)
                    .await
            }
        }

        /// Releases a floating IP. Requires `network.floating_ips`. Raises
        /// `NotFoundError`.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_floating_ip / adelete_floating_ip (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.network().delete_floating_ip(&FloatingIpId::new(id)).await?).await }
        }

        lists {
            /// Networks. Requires `network.networks`.
            fn list_networks / alist_networks => networks;
            /// Subnets. Requires `network.subnets`.
            fn list_subnets / alist_subnets => subnets;
            /// Ports. Requires `network.ports`.
            fn list_ports / alist_ports => ports;
            /// Security groups. Requires `network.security_groups`.
            fn list_security_groups / alist_security_groups => security_groups;
            /// Routers. Requires `network.routers`.
            fn list_routers / alist_routers => routers;
            /// Floating IPs. Requires `network.floating_ips`.
            fn list_floating_ips / alist_floating_ips => floating_ips;
        }
        plain {
            fn __repr__(&self) -> String {
                format!("NetworkService({})", self.p.info().name)
            }
        }
    }
}

fetchers! {
    impl PyNetwork {
        fn networks => network.list_networks_page;
        fn subnets => network.list_subnets_page;
        fn ports => network.list_ports_page;
        fn security_groups => network.list_security_groups_page;
        fn routers => network.list_routers_page;
        fn floating_ips => network.list_floating_ips_page;
    }
}
