//! Servers (VMs that are not templates) and flavors (the configured size catalogue).
//!
//! - create: `CreateVM_Task` (a PVSCSI controller, a thin disk of the flavor's size on
//!   the default datastore, a VMXNET3 NIC per network) or, with an image,
//!   `CloneVM_Task` of the template with the flavor's CPU and memory; then power on.
//! - start/stop: `PowerOnVM_Task`/`PowerOffVM_Task`; hard reboot `ResetVM_Task`; soft
//!   reboot `ShutdownGuest`, wait for power-off, `PowerOnVM_Task` (needs VMware Tools).
//! - resize: `ReconfigVM_Task` with the flavor's `numCPUs` and `memoryMB` (a powered-on
//!   VM needs CPU/memory hot-add, else vCenter answers `InvalidPowerState` → `Conflict`).
//! - delete: power off when on, then `Destroy_Task`.

use std::sync::Arc;
use std::time::Duration;

use hybrid_core::model::*;
use hybrid_core::paging::{paginate, paginate_prefetch};
use hybrid_core::{
    async_trait, Compute, Error, ErrorKind, Feature, ItemStream, ListOptions, Operation, Page,
    PageToken, Result,
};

use crate::api::vm::{clone_vm_task, create_vm_task, reconfig_vm_task, this_call, this_task};
use crate::config::FlavorSpec;
use crate::inventory::{
    is_template, looks_like_uplink, net_info, server, NetBacking, NetInfo, NETWORK_SPECS, VM_PATHS,
};
use crate::protocol::requests::{
    Backing, CloneSpec, ConfigSpec, ConnectInfo, Device, DeviceChange, FileInfo, OptionString,
    OptionValue, PortConnection, RelocateSpec,
};
use crate::protocol::types::Mor;
use crate::protocol::xml::Node;
use crate::provider::{Inner, VsphereProvider};
use crate::task::{self, Step, Then};

pub(crate) fn vm(id: &str) -> Mor {
    Mor::new("VirtualMachine", id)
}

fn flavor(f: &FlavorSpec) -> Flavor {
    Flavor {
        id: FlavorId::new(&f.id),
        name: f.name.clone(),
        vcpus: f.vcpus,
        ram_mib: f.ram_mib,
        disk_gib: f.disk_gib,
        ephemeral_gib: 0,
        is_public: true,
        extra: Metadata::new(),
        raw: None,
    }
}

impl Inner {
    pub(crate) fn find_flavor(&self, id: &FlavorId) -> Result<&FlavorSpec> {
        self.config
            .flavors
            .iter()
            .find(|f| f.id == id.as_str())
            .ok_or_else(|| Error::not_found(format!("flavor {id}")))
    }

    /// A VM's properties; `NotFound` for a template when `template` is false (and the
    /// reverse).
    pub(crate) async fn vm_object(
        &self,
        id: &str,
        template: bool,
    ) -> Result<crate::protocol::types::ObjectContent> {
        let what = if template { "image" } else { "server" };
        let o = self
            .one(&vm(id), &[("VirtualMachine", VM_PATHS)])
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::NotFound {
                    Error::not_found(format!("{what} {id}")).with_source(e)
                } else {
                    e
                }
            })?;
        if is_template(&o)? != template {
            return Err(Error::not_found(format!("{what} {id}")));
        }
        Ok(o)
    }

    pub(crate) async fn get_server(&self, id: &str) -> Result<Server> {
        let o = self.vm_object(id, false).await?;
        let mut s = [server(&o, &self.config.flavors)?];
        self.fill_tags(&mut s).await?;
        let [s] = s;
        Ok(s)
    }

    async fn power_state(&self, id: &str) -> Result<String> {
        let o = self.vm_object(id, false).await?;
        Ok(o.text("runtime.powerState").unwrap_or("").to_owned())
    }

    /// Every network, read once (networks are few; NIC backings need their details).
    pub(crate) async fn networks(&self) -> Result<Vec<NetInfo>> {
        let objs = self.all("Network", NETWORK_SPECS).await?;
        objs.iter().map(|o| self.net_info(o)).collect()
    }

    /// A network object, with uplink port groups marked: from the port group's
    /// `config.uplink` or `SYSTEM/DVS.UPLINKPG` tag, from its switch's
    /// `config.uplinkPortgroup`, and, for a switch that lists none (vcsim 0.24.2), by
    /// vCenter's naming (`<switch>-DVUplinks…`) and a trunk of every VLAN.
    pub(crate) fn net_info(&self, o: &crate::protocol::types::ObjectContent) -> Result<NetInfo> {
        let mut n = net_info(o)?;
        let facts = self.facts();
        n.uplink |= facts.uplinks.contains(&n.mor.value);
        if let NetBacking::Distributed { switch, .. } = &n.backing {
            if !n.uplink && facts.switches_without_uplink_list.contains(&switch.value) {
                let name = facts
                    .switches
                    .iter()
                    .find(|(m, _, _)| m.value == switch.value)
                    .map(|(_, name, _)| name.as_str())
                    .unwrap_or("");
                n.uplink = looks_like_uplink(&n, name);
            }
        }
        Ok(n)
    }

    pub(crate) async fn find_network(&self, id: &str) -> Result<NetInfo> {
        self.networks()
            .await?
            .into_iter()
            .find(|n| n.mor.value == id && !n.uplink)
            .ok_or_else(|| Error::not_found(format!("network {id}")))
    }

    fn switch_uuid(&self, switch: &Mor) -> Option<String> {
        self.facts()
            .switches
            .iter()
            .find(|(m, _, _)| m.value == switch.value)
            .map(|(_, _, uuid)| uuid.clone())
    }

    /// A new VMXNET3 NIC on `net` with temporary key `key`.
    pub(crate) fn nic_device(&self, net: &NetInfo, key: i32) -> Result<Device> {
        let backing = match &net.backing {
            NetBacking::Standard => {
                let mut b = Backing::empty("VirtualEthernetCardNetworkBackingInfo");
                b.device_name = Some(net.name.clone());
                b.network = Some(net.mor.clone());
                b
            }
            NetBacking::Distributed { switch, key } => {
                let uuid = self.switch_uuid(switch).ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("the switch of port group {} is unknown", net.name),
                    )
                })?;
                let mut b = Backing::empty("VirtualEthernetCardDistributedVirtualPortBackingInfo");
                b.port = Some(PortConnection {
                    switch_uuid: uuid,
                    portgroup_key: key.clone(),
                });
                b
            }
            NetBacking::Opaque { id, kind } => {
                let mut b = Backing::empty("VirtualEthernetCardOpaqueNetworkBackingInfo");
                b.opaque_network_id = Some(id.clone());
                b.opaque_network_type = Some(kind.clone());
                b
            }
        };
        let mut d = Device::new("VirtualVmxnet3", key);
        d.backing = Some(backing);
        d.connectable = Some(ConnectInfo {
            start_connected: true,
            allow_guest_control: true,
            connected: true,
        });
        d.address_type = Some("generated");
        Ok(d)
    }

    /// A new thin disk of `gib` GiB on `datastore`, on controller `controller`.
    pub(crate) fn disk_device(
        datastore: &(Mor, String),
        key: i32,
        controller: i32,
        unit: i32,
        gib: u64,
    ) -> Device {
        let mut b = Backing::empty("VirtualDiskFlatVer2BackingInfo");
        b.file_name = Some(format!("[{}]", datastore.1));
        b.datastore = Some(datastore.0.clone());
        b.disk_mode = Some("persistent");
        b.thin_provisioned = Some(true);
        let mut d = Device::new("VirtualDisk", key);
        d.backing = Some(b);
        d.controller_key = Some(controller);
        d.unit_number = Some(unit);
        d.capacity_in_kb = Some(gib.saturating_mul(1024 * 1024));
        d
    }

    fn placement(&self, zone: Option<&str>) -> Result<(Mor, Mor, (Mor, String))> {
        let f = self.facts();
        let pool = match zone {
            Some(z) => f
                .clusters
                .iter()
                .find(|(name, _)| name == z)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "no cluster named {z:?} (availability zones are clusters)"
                    ))
                })?,
            None => f.pool.clone().ok_or_else(|| {
                Error::config("no resource pool to place VMs in: set GOVC_RESOURCE_POOL")
            })?,
        };
        let ds = f
            .datastore
            .clone()
            .ok_or_else(|| Error::config("no datastore for new VMs: set GOVC_DATASTORE"))?;
        Ok((f.vm_folder.clone(), pool, ds))
    }

    /// The network ids a new server is connected to: the spec's, else the configured
    /// default network.
    fn network_ids(&self, spec: &CreateServer) -> Result<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        for a in &spec.networks {
            match a {
                NetworkAttachment::Network { network, fixed_ip } => {
                    if fixed_ip.is_some() {
                        return Err(Error::invalid_input(
                            "vSphere assigns addresses in the guest (DHCP or guest customization), not at VM creation: fixed_ip is not supported",
                        ));
                    }
                    ids.push(network.as_str().to_owned());
                }
                NetworkAttachment::Port { .. } => {
                    return Err(Error::invalid_input(
                        "vSphere has no standalone ports: attach a network instead",
                    ))
                }
            }
        }
        if ids.is_empty() {
            if let Some(n) = &self.facts().network {
                ids.push(n.value.clone());
            }
        }
        Ok(ids)
    }

    /// New NICs on networks `ids`, with temporary keys from `first_key` down.
    async fn nics_on(&self, ids: &[String], first_key: i32) -> Result<Vec<DeviceChange>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let nets = self.networks().await?;
        let mut out = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let net = nets
                .iter()
                .find(|n| n.mor.value == *id && !n.uplink)
                .ok_or_else(|| Error::not_found(format!("network {id}")))?;
            out.push(DeviceChange {
                operation: "add",
                file_operation: None,
                device: self.nic_device(net, first_key - i as i32)?,
            });
        }
        Ok(out)
    }

    async fn nics_for(&self, spec: &CreateServer, first_key: i32) -> Result<Vec<DeviceChange>> {
        let ids = self.network_ids(spec)?;
        self.nics_on(&ids, first_key).await
    }

    /// Creates a server from OVF library item `item`: deploy (the OVF's networks on the
    /// first network), size to the flavor with the other networks and user data,
    /// tag, power on.
    fn deploy_server(
        self: &Arc<Inner>,
        spec: &CreateServer,
        item: String,
    ) -> Result<Operation<Server>> {
        self.caps().require(Feature::ImageUpload)?;
        let fl = self.find_flavor(&spec.flavor)?.clone();
        let (folder, pool, ds) = self.placement(spec.availability_zone.as_deref())?;
        let ids = self.network_ids(spec)?;
        let inner = self.clone();
        let name = spec.name.clone();
        let tags = spec.tags.clone();
        let extra = user_data(spec);
        let description = format!("create server {name} from OVF item {item}");
        let mut started = false;
        Ok(Operation::from_fn(description, move || {
            let inner = inner.clone();
            let (name, tags, extra, item, ids) = (
                name.clone(),
                tags.clone(),
                extra.clone(),
                item.clone(),
                ids.clone(),
            );
            let (folder, pool, ds, fl) = (folder.clone(), pool.clone(), ds.clone(), fl.clone());
            let again = std::mem::replace(&mut started, true);
            async move {
                if again {
                    return Err(Error::new(
                        ErrorKind::Other,
                        "the deployment was polled again after it ended",
                    ));
                }
                let vm_id = inner
                    .deploy_ovf(
                        &item,
                        &name,
                        &pool.value,
                        &folder.value,
                        &ds.0.value,
                        ids.first().map(String::as_str),
                    )
                    .await?;
                let nics = inner
                    .nics_on(ids.get(1..).unwrap_or_default(), -200)
                    .await?;
                let config = ConfigSpec {
                    num_cpus: Some(fl.vcpus),
                    memory_mb: Some(fl.ram_mib),
                    device_change: nics,
                    extra_config: extra,
                    ..ConfigSpec::default()
                };
                let t = reconfig_vm_task(&inner.session, &vm(&vm_id), &config).await?;
                let vmref = vm(&vm_id);
                let s = task::operation(
                    inner.clone(),
                    format!("ReconfigVM_Task {vm_id}"),
                    t,
                    Box::new(move |inner, _| {
                        Box::pin(async move {
                            inner.add_tags(&vmref.value, &tags).await?;
                            let task = this_task(&inner.session, "PowerOnVM_Task", &vmref).await?;
                            Ok(Step::Task {
                                task,
                                what: format!("PowerOnVM_Task {}", vmref.value),
                                then: then_server(vmref.value),
                            })
                        })
                    }),
                )
                .with_timeout(Duration::from_secs(3600))
                .await?;
                Ok(hybrid_core::PollResult::Ready(s))
            }
        }))
    }
}

fn user_data(spec: &CreateServer) -> Vec<OptionValue> {
    use base64::Engine as _;
    let Some(ud) = &spec.user_data else {
        return Vec::new();
    };
    let s = |key: &str, v: String| OptionValue {
        xsi_type: "OptionValue",
        key: key.to_owned(),
        value: OptionString {
            xsi_type: "xsd:string",
            text: v,
        },
    };
    vec![
        s(
            "guestinfo.userdata",
            base64::engine::general_purpose::STANDARD.encode(ud),
        ),
        s("guestinfo.userdata.encoding", "base64".to_owned()),
    ]
}

/// The step that reads the server once the last task is done.
fn then_server(id: String) -> Then<Server> {
    Box::new(move |inner, _| Box::pin(async move { Ok(Step::Done(inner.get_server(&id).await?)) }))
}

/// Tag the VM the finished task returned, power it on, then read it.
fn then_power_on_created(method: &'static str, tags: Vec<String>) -> Then<Server> {
    Box::new(move |inner: Arc<Inner>, result: Option<Node>| {
        Box::pin(async move {
            let node = result.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("{method} returned no VM"),
                )
            })?;
            let vmref = Mor::from_node(&node).map_err(|e| crate::error::shape_error(method, e))?;
            inner.add_tags(&vmref.value, &tags).await?;
            let task = this_task(&inner.session, "PowerOnVM_Task", &vmref).await?;
            Ok(Step::Task {
                task,
                what: format!("PowerOnVM_Task {}", vmref.value),
                then: then_server(vmref.value),
            })
        })
    })
}

impl VsphereProvider {
    /// One page of servers, tags included.
    async fn page_servers(
        inner: Arc<Inner>,
        options: ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Server>> {
        let page = Self::page_servers_untagged(&inner, &options, token).await?;
        let items = Self::tag_and_filter(&inner, &options, page.items).await?;
        Ok(Page::new(items, page.next))
    }

    /// One page of servers without their tags: the page's `RetrievePropertiesEx` (or
    /// `ContinueRetrievePropertiesEx`) call.
    async fn page_servers_untagged(
        inner: &Inner,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Server>> {
        let (objs, next) = inner
            .page(
                "VirtualMachine",
                &[("VirtualMachine", VM_PATHS)],
                options.page_size,
                token.as_ref(),
            )
            .await?;
        let mut all = Vec::with_capacity(objs.len());
        for o in &objs {
            if is_template(o)? {
                continue;
            }
            all.push(server(o, &inner.config.flavors)?);
        }
        Ok(Page::new(all, next))
    }

    /// Fills the tags of a page's servers (one vAPI call for the whole page) and applies
    /// the name and tag filters.
    async fn tag_and_filter(
        inner: &Inner,
        options: &ListOptions,
        mut servers: Vec<Server>,
    ) -> Result<Vec<Server>> {
        inner.fill_tags(&mut servers).await?;
        servers.retain(|s| options.matches(&s.name, &s.tags));
        Ok(servers)
    }

    /// Clones server or template `source` into a new VM `name` in the default folder,
    /// pool and datastore, optionally powered on.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `NotFound` (source), `Conflict` (`DuplicateName`), task errors.
    pub async fn clone_server(
        &self,
        source: &ServerId,
        name: &str,
        power_on: bool,
    ) -> Result<Operation<Server>> {
        self.inner.caps().require(Feature::Servers)?;
        let src = self
            .inner
            .one(&vm(source.as_str()), &[("VirtualMachine", &["name"])])
            .await?;
        let (folder, pool, ds) = self.inner.placement(None)?;
        let spec = CloneSpec {
            location: RelocateSpec {
                datastore: Some(ds.0),
                pool: Some(pool),
                ..RelocateSpec::default()
            },
            template: false,
            config: None,
            power_on,
        };
        let t = clone_vm_task(&self.inner.session, &src.obj, &folder, name, &spec).await?;
        let then: Then<Server> = Box::new(|inner, result| {
            Box::pin(async move {
                let node = result.ok_or_else(|| {
                    Error::new(ErrorKind::InvalidResponse, "CloneVM_Task returned no VM")
                })?;
                let m = Mor::from_node(&node)
                    .map_err(|e| crate::error::shape_error("CloneVM_Task", e))?;
                Ok(Step::Done(inner.get_server(&m.value).await?))
            })
        });
        Ok(task::operation(
            self.inner.clone(),
            format!("CloneVM_Task {name}"),
            t,
            then,
        ))
    }

    /// Turns server `id` into a template, so it lists as an image. The VM must be
    /// powered off.
    ///
    /// Requires [`Feature::Images`].
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (`InvalidPowerState`).
    pub async fn mark_as_template(&self, id: &ServerId) -> Result<Image> {
        self.inner.caps().require(Feature::Images)?;
        self.inner.vm_object(id.as_str(), false).await?;
        this_call(&self.inner.session, "MarkAsTemplate", &vm(id.as_str())).await?;
        crate::images::get(&self.inner, id.as_str()).await
    }

    /// Asks the guest OS to shut down (`ShutdownGuest`, needs VMware Tools) and returns
    /// at once; the VM powers off when the guest is done.
    ///
    /// Requires [`Feature::Power`].
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (not running, or no tools: `ToolsUnavailable` is `Other`).
    pub async fn shutdown_guest(&self, id: &ServerId) -> Result<()> {
        self.inner.caps().require(Feature::Power)?;
        this_call(&self.inner.session, "ShutdownGuest", &vm(id.as_str())).await
    }
}

#[async_trait]
impl Compute for VsphereProvider {
    /// Pages are fetched one ahead ([`paginate_prefetch`] on the consumer's task): the
    /// next page's `ContinueRetrievePropertiesEx` goes out as soon as a page's answer
    /// arrives, so vCenter works on it while this page's tags are fetched and its
    /// servers taken by the consumer; it is read and decoded once they are used up (one
    /// page of decoded servers in memory at a time). A consumer that stops early may
    /// cause one SOAP request more than it uses; dropping the stream abandons the fetch
    /// in flight. An error ends the stream after the servers before it.
    fn list_servers(&self, options: ListOptions) -> ItemStream<Server> {
        use futures::stream::{self, StreamExt};
        let pages = {
            let (inner, options) = (self.inner.clone(), options.clone());
            // One item per SOAP page: its servers, untagged.
            paginate_prefetch(
                move |token| {
                    let (inner, options) = (inner.clone(), options.clone());
                    async move {
                        let page =
                            VsphereProvider::page_servers_untagged(&inner, &options, token).await?;
                        Ok(Page::new(vec![page.items], page.next))
                    }
                },
                None,
            )
        };
        // Each page tagged as it is taken; nothing is read or tagged after an error (a
        // failed tag call leaves the next page untagged).
        let state = (pages, self.inner.clone(), options, false);
        stream::unfold(state, |(mut pages, inner, options, failed)| async move {
            if failed {
                return None;
            }
            let page = match pages.next().await? {
                Ok(servers) => VsphereProvider::tag_and_filter(&inner, &options, servers).await,
                Err(e) => Err(e),
            };
            let failed = page.is_err();
            Some((page, (pages, inner, options, failed)))
        })
        .flat_map(|page| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::once(futures::future::ready(Err(e))).right_stream(),
        })
        .boxed()
    }

    async fn list_servers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Server>> {
        VsphereProvider::page_servers(self.inner.clone(), options.clone(), page).await
    }

    async fn get_server(&self, id: &ServerId) -> Result<Server> {
        self.inner.get_server(id.as_str()).await
    }

    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        let inner = &self.inner;
        if spec.name.trim().is_empty() {
            return Err(Error::invalid_input("a server needs a name"));
        }
        for t in &spec.tags {
            crate::tags::check_tag(t)?;
        }
        if spec.boot_volume.is_some() {
            return Err(Error::invalid_input(
                "booting from a volume is not supported on vSphere: use an image (template)",
            ));
        }
        if let Some(image) = &spec.image {
            if crate::library::is_item_id(image.as_str()) {
                return inner.deploy_server(spec, image.as_str().to_owned());
            }
        }
        let fl = inner.find_flavor(&spec.flavor)?.clone();
        let (folder, pool, ds) = inner.placement(spec.availability_zone.as_deref())?;
        let nics = inner.nics_for(spec, -200).await?;
        let description = format!("create server {}", spec.name);
        match &spec.image {
            Some(image) => {
                let template = inner.vm_object(image.as_str(), true).await?;
                let config = ConfigSpec {
                    num_cpus: Some(fl.vcpus),
                    memory_mb: Some(fl.ram_mib),
                    device_change: nics,
                    extra_config: user_data(spec),
                    ..ConfigSpec::default()
                };
                let clone = CloneSpec {
                    location: RelocateSpec {
                        datastore: Some(ds.0.clone()),
                        pool: Some(pool),
                        ..RelocateSpec::default()
                    },
                    template: false,
                    config: Some(config),
                    power_on: false,
                };
                let t = clone_vm_task(&inner.session, &template.obj, &folder, &spec.name, &clone)
                    .await?;
                Ok(task::operation(
                    inner.clone(),
                    description,
                    t,
                    then_power_on_created("CloneVM_Task", spec.tags.clone()),
                ))
            }
            None => {
                let mut changes = vec![
                    DeviceChange {
                        operation: "add",
                        file_operation: None,
                        device: {
                            let mut c = Device::new("ParaVirtualSCSIController", -100);
                            c.bus_number = Some(0);
                            c.shared_bus = Some("noSharing");
                            c
                        },
                    },
                    DeviceChange {
                        operation: "add",
                        file_operation: Some("create"),
                        device: Inner::disk_device(&ds, -101, -100, 0, fl.disk_gib.max(1)),
                    },
                ];
                changes.extend(nics);
                let config = ConfigSpec {
                    name: Some(spec.name.clone()),
                    guest_id: Some(inner.config.guest_id.clone()),
                    files: Some(FileInfo {
                        vm_path_name: format!("[{}]", ds.1),
                    }),
                    num_cpus: Some(fl.vcpus),
                    memory_mb: Some(fl.ram_mib),
                    device_change: changes,
                    extra_config: user_data(spec),
                    ..ConfigSpec::default()
                };
                let t = create_vm_task(&inner.session, &folder, &config, &pool, None).await?;
                Ok(task::operation(
                    inner.clone(),
                    description,
                    t,
                    then_power_on_created("CreateVM_Task", spec.tags.clone()),
                ))
            }
        }
    }

    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>> {
        let state = self.inner.power_state(id.as_str()).await?;
        let m = vm(id.as_str());
        let description = format!("delete server {id}");
        let destroy: Then<()> = Box::new(move |inner, _| {
            Box::pin(async move {
                let t = this_task(&inner.session, "Destroy_Task", &m).await?;
                Ok(Step::Task {
                    task: t,
                    what: format!("Destroy_Task {}", m.value),
                    then: task::done_unit(),
                })
            })
        });
        if state == "poweredOff" {
            let t = this_task(&self.inner.session, "Destroy_Task", &vm(id.as_str())).await?;
            return Ok(
                task::operation(self.inner.clone(), description, t, task::done_unit())
                    .with_resource(id.as_str()),
            );
        }
        let t = this_task(&self.inner.session, "PowerOffVM_Task", &vm(id.as_str())).await?;
        Ok(task::operation(self.inner.clone(), description, t, destroy).with_resource(id.as_str()))
    }

    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        if self.inner.power_state(id.as_str()).await? == "poweredOn" {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("server {id} is already powered on"),
            )
            .with_resource(id.as_str()));
        }
        let t = this_task(&self.inner.session, "PowerOnVM_Task", &vm(id.as_str())).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("start server {id}"),
            t,
            then_server(id.as_str().to_owned()),
        ))
    }

    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        if self.inner.power_state(id.as_str()).await? == "poweredOff" {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("server {id} is already powered off"),
            )
            .with_resource(id.as_str()));
        }
        let t = this_task(&self.inner.session, "PowerOffVM_Task", &vm(id.as_str())).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("stop server {id}"),
            t,
            then_server(id.as_str().to_owned()),
        ))
    }

    async fn reboot_server(&self, id: &ServerId, kind: RebootKind) -> Result<Operation<Server>> {
        if self.inner.power_state(id.as_str()).await? != "poweredOn" {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("server {id} is not powered on"),
            )
            .with_resource(id.as_str()));
        }
        let sid = id.as_str().to_owned();
        match kind {
            RebootKind::Hard => {
                let t = this_task(&self.inner.session, "ResetVM_Task", &vm(&sid)).await?;
                Ok(task::operation(
                    self.inner.clone(),
                    format!("reboot server {id} (hard)"),
                    t,
                    then_server(sid),
                ))
            }
            RebootKind::Soft => {
                this_call(&self.inner.session, "ShutdownGuest", &vm(&sid)).await?;
                let inner = self.inner.clone();
                let op = Operation::from_fn(format!("reboot server {id} (soft)"), move || {
                    let inner = inner.clone();
                    let sid = sid.clone();
                    async move {
                        let state = inner.power_state(&sid).await?;
                        if state != "poweredOff" {
                            return Ok(hybrid_core::PollResult::Pending(
                                hybrid_core::Progress::status(format!(
                                    "guest shutting down ({state})"
                                )),
                            ));
                        }
                        let t = this_task(&inner.session, "PowerOnVM_Task", &vm(&sid)).await?;
                        let s = task::operation(
                            inner.clone(),
                            format!("PowerOnVM_Task {sid}"),
                            t,
                            then_server(sid.clone()),
                        )
                        .with_timeout(Duration::from_secs(600))
                        .await?;
                        Ok(hybrid_core::PollResult::Ready(s))
                    }
                });
                Ok(op)
            }
        }
    }

    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>> {
        let fl = self.inner.find_flavor(flavor)?.clone();
        self.inner.vm_object(id.as_str(), false).await?;
        let spec = ConfigSpec {
            num_cpus: Some(fl.vcpus),
            memory_mb: Some(fl.ram_mib),
            ..ConfigSpec::default()
        };
        let t = reconfig_vm_task(&self.inner.session, &vm(id.as_str()), &spec).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("resize server {id} to {flavor}"),
            t,
            then_server(id.as_str().to_owned()),
        ))
    }

    fn list_flavors(&self, options: ListOptions) -> ItemStream<Flavor> {
        let inner = self.inner.clone();
        paginate(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { flavor_page(&inner.config.flavors, &options, token) }
        })
    }

    async fn list_flavors_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        flavor_page(&self.inner.config.flavors, options, page)
    }

    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor> {
        Ok(flavor(self.inner.find_flavor(id)?))
    }

    fn list_key_pairs(&self, _options: ListOptions) -> ItemStream<KeyPair> {
        hybrid_core::paging::error_stream(self.unsupported(Feature::KeyPairs))
    }
    async fn list_key_pairs_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        Err(self.unsupported(Feature::KeyPairs))
    }
    async fn get_key_pair(&self, _name: &str) -> Result<KeyPair> {
        Err(self.unsupported(Feature::KeyPairs))
    }
    async fn create_key_pair(&self, _spec: &CreateKeyPair) -> Result<KeyPair> {
        Err(self.unsupported(Feature::KeyPairs))
    }
    async fn delete_key_pair(&self, _name: &str) -> Result<()> {
        Err(self.unsupported(Feature::KeyPairs))
    }
    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>> {
        self.inner.caps().require(Feature::ServerTags)?;
        self.core_set_server_tags(id, tags).await
    }
    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.inner.caps().require(Feature::ServerTags)?;
        self.core_add_server_tag(id, tag).await
    }
    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.inner.caps().require(Feature::ServerTags)?;
        self.core_remove_server_tag(id, tag).await
    }
    async fn set_server_metadata(&self, _id: &ServerId, _m: &Metadata) -> Result<Metadata> {
        Err(self.unsupported(Feature::ServerMetadata))
    }
    async fn delete_server_metadata(&self, _id: &ServerId, _key: &str) -> Result<()> {
        Err(self.unsupported(Feature::ServerMetadata))
    }
}

fn flavor_page(
    flavors: &[FlavorSpec],
    options: &ListOptions,
    token: Option<PageToken>,
) -> Result<Page<Flavor>> {
    let all: Vec<Flavor> = flavors
        .iter()
        .map(flavor)
        .filter(|f| options.matches(&f.name, &[]) || options.name.as_deref() == Some(f.id.as_str()))
        .collect();
    let start = match token {
        None => 0,
        Some(t) => t
            .as_str()
            .parse::<usize>()
            .map_err(|_| Error::invalid_input("not a flavor page token"))?,
    };
    let size = options.page_size.map_or(all.len(), |s| s.max(1) as usize);
    let end = (start + size).min(all.len());
    let items = all
        .get(start..end)
        .map(<[Flavor]>::to_vec)
        .unwrap_or_default();
    let next = (end < all.len()).then(|| PageToken::new(end.to_string()));
    Ok(Page::new(items, next))
}

impl VsphereProvider {
    /// The `Unsupported` error of `feature`, with the capability's reason. The gate
    /// refuses these calls before they get here; this answers a caller that holds the
    /// provider ungated.
    pub(crate) fn unsupported(&self, feature: Feature) -> Error {
        match self.inner.caps().require(feature) {
            Err(e) => e,
            Ok(()) => Error::new(
                ErrorKind::Unsupported,
                format!("{feature} is not available on vSphere"),
            ),
        }
    }
}
