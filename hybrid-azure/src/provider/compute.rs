//! Compute: virtual machines, VM sizes, SSH public keys, tags and metadata.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use hybrid_core::model::*;
use hybrid_core::provider::{Compute, ItemStream};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, Result};
use hybrid_http::{ExposeSecret, SecretString, Url};
use serde_json::{json, Value};

use super::{
    check_filters, check_name, ensure_absent, listing, make_page, sliced, AzureProvider, Cursor,
};
use crate::api;
use crate::api::compute::VmAction;
use crate::api::resources::TagsOperation;
use crate::client::{decode, RawPage};
use crate::ids::{self, ResourceId};
use crate::lro;
use crate::protocol::common::{arm_tags, check_metadata, split_tags, tag_key, Tags, KEY_NAME_TAG};
use crate::protocol::compute::{
    listed_server, with_addresses, ListedVm, SshPublicKeyResource, VirtualMachine, VmSize,
};
use crate::protocol::network::{Cidr, NetworkInterface, PublicIpAddress, VirtualNetwork};

/// Where a VM listing lists from.
enum VmSource {
    /// The resource group (VirtualMachines_List).
    Group,
    /// The subscription (VirtualMachines_ListAll).
    Subscription,
    /// A location of the subscription (VirtualMachines_ListByLocation).
    Location(String),
}

/// How many instance views are read at once when listing servers.
const INSTANCE_VIEW_CONCURRENCY: usize = 8;

/// A random administrator password Azure accepts (upper, lower, digit, symbol), for VMs
/// created without an SSH key: no one learns it, so the VM has no password login.
fn unknown_password() -> Result<SecretString> {
    use ring::rand::{SecureRandom, SystemRandom};
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut b = [0u8; 28];
    SystemRandom::new().fill(&mut b).map_err(|_| {
        Error::new(
            ErrorKind::Other,
            "the system's random number generator failed; no administrator password can be made",
        )
    })?;
    let body: String = b
        .iter()
        .map(|x| CHARS[*x as usize % CHARS.len()] as char)
        .collect();
    Ok(SecretString::from(format!("Hy1!{body}")))
}

/// The image reference of a hybrid image id: a managed image or gallery image (version)
/// id, a shared or community gallery id, `publisher:offer:sku:version`, a managed image
/// name, or `gallery/definition/version` in the resource group.
pub(crate) fn image_reference(id: &str, p: &AzureProvider) -> Result<Value> {
    let id = id.trim();
    let lower = id.to_ascii_lowercase();
    if lower.starts_with("/sharedgalleries/") {
        return Ok(json!({"sharedGalleryImageId": id}));
    }
    if lower.starts_with("/communitygalleries/") {
        return Ok(json!({"communityGalleryImageId": id}));
    }
    if id.starts_with('/') {
        let r = ResourceId::parse(id)
            .ok_or_else(|| Error::invalid_input(format!("{id:?} is not an image id")))?;
        let ok = r.is_type("Microsoft.Compute", &["images"])
            || r.is_type("Microsoft.Compute", &["galleries", "images"])
            || r.is_type("Microsoft.Compute", &["galleries", "images", "versions"]);
        if !ok {
            return Err(Error::invalid_input(format!(
                "{id} is a {}, not an image",
                r.resource_type()
            )));
        }
        return Ok(json!({"id": r.to_string()}));
    }
    let parts: Vec<&str> = id.split(':').collect();
    if parts.len() == 4 && parts.iter().all(|p| !p.is_empty()) {
        return Ok(
            json!({"publisher": parts[0], "offer": parts[1], "sku": parts[2], "version": parts[3]}),
        );
    }
    let r = if id.contains('/') {
        ids::resolve_id(id, ids::GALLERY_IMAGE_VERSION, p.scope())?
    } else {
        ids::resolve_id(id, ids::IMAGE, p.scope())?
    };
    Ok(json!({"id": r.to_string()}))
}

impl AzureProvider {
    pub(crate) fn vm_id(&self, id: &ServerId) -> Result<ResourceId> {
        ids::resolve_id(id.as_str(), ids::VM, self.scope())
    }

    /// A VM's document with its instance view, decoded.
    async fn vm_with_view(&self, id: &ResourceId) -> Result<(VirtualMachine, Value)> {
        let doc = api::compute::get_vm(self.arm_client(), id, true).await?;
        let vm: VirtualMachine = decode(&doc, "a virtual machine")?;
        Ok((vm, doc))
    }

    /// The addresses on a VM's NICs: private ones (network: the VNet's id) and the
    /// public IPs associated with them. NICs or public IPs gone meanwhile are skipped.
    async fn addresses(&self, vm: &VirtualMachine) -> Result<Vec<(String, String, AddressKind)>> {
        let arm = self.arm_client();
        let mut out = Vec::new();
        for nic_id in vm.nic_ids() {
            let Some(nic_ref) = ResourceId::parse(&nic_id) else {
                continue;
            };
            let doc = match api::network::get_nic(arm, &nic_ref).await {
                Ok(d) => d,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let nic: NetworkInterface = decode(&doc, "a network interface")?;
            for c in &nic.properties.ip_configurations {
                let network = c
                    .subnet_id()
                    .and_then(crate::protocol::network::vnet_of_subnet)
                    .unwrap_or_default();
                if let Some(a) = c.address() {
                    out.push((network.clone(), a, AddressKind::Fixed));
                }
                if let Some(pip) = c.public_ip_id().and_then(ResourceId::parse) {
                    match api::network::get_public_ip(arm, &pip).await {
                        Ok(d) => {
                            let ip: PublicIpAddress = decode(&d, "a public IP address")?;
                            if let Some(a) = ip.properties.ip_address {
                                out.push((network.clone(), a, AddressKind::Floating));
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(out)
    }

    /// The server `id` with its state and addresses.
    pub(crate) async fn server(&self, id: &ResourceId) -> Result<Server> {
        let (vm, doc) = self.vm_with_view(id).await?;
        let addresses = self.addresses(&vm).await?;
        Ok(with_addresses(vm.to_server(doc), addresses))
    }

    /// A listed VM that came without its instance view, with its state from the
    /// instance view read now (`None` when the VM is gone meanwhile).
    async fn with_instance_view(&self, vm: ListedVm) -> Result<Option<Server>> {
        let Some(id) = ResourceId::parse(vm.server.id.as_str()) else {
            return Ok(Some(vm.server));
        };
        let view = match api::compute::get_instance_view(self.arm_client(), &id).await {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        vm.with_instance_view(view).map(Some)
    }

    /// Turns a finished LRO into the server's current state.
    fn server_operation(&self, what: String, id: ResourceId, lro: lro::Lro) -> Operation<Server> {
        let p = self.clone();
        let rid = id.clone();
        lro::operation(what, id.to_string(), lro, move |_| {
            let p = p.clone();
            let rid = rid.clone();
            async move { p.server(&rid).await }
        })
        .with_options(self.inner.wait)
    }

    /// Runs a power action after checking that the state allows it.
    async fn power(
        &self,
        id: &ServerId,
        action: VmAction,
        refuse: impl Fn(&ServerStatus) -> Option<&'static str>,
    ) -> Result<Operation<Server>> {
        let rid = self.vm_id(id)?;
        let (vm, doc) = self.vm_with_view(&rid).await?;
        let s = vm.to_server(doc);
        if let Some(why) = refuse(&s.status) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("server {} is {}: {why}", rid.name(), s.status),
            )
            .with_resource(rid.to_string()));
        }
        let lro = api::compute::vm_action(self.arm_client(), &rid, action).await?;
        Ok(self.server_operation(
            format!("{} server {}", action.segment(), rid.name()),
            rid,
            lro,
        ))
    }

    /// Deallocates a VM: stops it and releases its compute (no charge for it while
    /// deallocated), whatever [`AzureConfig::stop_deallocates`](crate::AzureConfig::stop_deallocates)
    /// says. Requires [`Feature::Power`](hybrid_core::Feature::Power).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when it is stopped already; as
    /// [`ArmClient::execute`](crate::client::ArmClient::execute).
    pub async fn deallocate_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.power(id, VmAction::Deallocate, |s| {
            (*s == ServerStatus::Stopped).then_some("it is stopped already")
        })
        .await
    }

    /// Powers a VM off and keeps it allocated (still charged), whatever
    /// [`AzureConfig::stop_deallocates`](crate::AzureConfig::stop_deallocates) says.
    /// Requires [`Feature::Power`](hybrid_core::Feature::Power).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when it is stopped already; as
    /// [`ArmClient::execute`](crate::client::ArmClient::execute).
    pub async fn power_off_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.power(id, VmAction::PowerOff, |s| {
            (*s == ServerStatus::Stopped).then_some("it is stopped already")
        })
        .await
    }

    /// The VM sizes of the location, listed at most every ten minutes.
    async fn sizes(&self, force: bool) -> Result<Arc<Vec<Value>>> {
        let mut cache = self.inner.sizes.lock().await;
        if let Some((at, sizes)) = cache.as_ref() {
            if !force && at.elapsed() < super::SIZES_TTL {
                return Ok(sizes.clone());
            }
            if force && at.elapsed() < std::time::Duration::from_secs(60) {
                return Ok(sizes.clone());
            }
        }
        let sizes =
            Arc::new(api::compute::list_vm_sizes(self.arm_client(), &self.scope().location).await?);
        *cache = Some((tokio::time::Instant::now(), sizes.clone()));
        Ok(sizes)
    }

    /// The current ARM tags of a VM.
    async fn vm_tags(&self, rid: &ResourceId) -> Result<Tags> {
        let doc = api::compute::get_vm(self.arm_client(), rid, false).await?;
        let vm: VirtualMachine = decode(&doc, "a virtual machine")?;
        Ok(vm.tags)
    }

    async fn change_tags(
        &self,
        rid: &ResourceId,
        op: TagsOperation,
        tags: &Tags,
        what: &str,
    ) -> Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let lro = api::resources::update_tags(self.arm_client(), rid, op, tags, what).await?;
        self.wait_lro(format!("{what} {}", rid.name()), lro)
            .await
            .map(drop)
    }

    /// Creates the NIC of a new server on `network` (its subnet holding `fixed_ip`, or
    /// its first subnet), with `nsg`.
    async fn create_server_nic(
        &self,
        name: &str,
        network: &NetworkId,
        fixed_ip: Option<&str>,
        nsg: Option<&ResourceId>,
    ) -> Result<ResourceId> {
        let arm = self.arm_client();
        let vnet_id = ids::resolve_id(network.as_str(), ids::VNET, self.scope())?;
        let doc = api::network::get_vnet(arm, &vnet_id).await?;
        let vnet: VirtualNetwork = decode(&doc, "a virtual network")?;
        let subnet = match fixed_ip {
            Some(ip) => {
                let addr: std::net::IpAddr = ip
                    .parse()
                    .map_err(|_| Error::invalid_input(format!("{ip:?} is not an IP address")))?;
                let host = Cidr {
                    addr,
                    len: if addr.is_ipv4() { 32 } else { 128 },
                };
                vnet.properties.subnets.iter().find(|s| {
                    s.prefix()
                        .and_then(|p| Cidr::parse(p).ok())
                        .is_some_and(|c| c.contains(&host))
                })
            }
            None => vnet.properties.subnets.first(),
        };
        let subnet_id = subnet.and_then(|s| s.id.clone()).ok_or_else(|| {
            Error::invalid_input(format!(
                "network {} has no subnet{}; create one first",
                vnet.name,
                fixed_ip
                    .map(|ip| format!(" holding {ip}"))
                    .unwrap_or_default()
            ))
        })?;
        let nic = self
            .arm_client()
            .group_id("Microsoft.Network", &[("networkInterfaces", name)])?;
        let mut ipc = json!({
            "name": "ipconfig1",
            "properties": {"subnet": {"id": subnet_id}, "primary": true, "privateIPAllocationMethod": "Dynamic"}
        });
        if let Some(ip) = fixed_ip {
            ipc["properties"]["privateIPAllocationMethod"] = json!("Static");
            ipc["properties"]["privateIPAddress"] = json!(ip);
        }
        let mut body = json!({
            "location": self.scope().location,
            "properties": {"ipConfigurations": [ipc]}
        });
        if let Some(n) = nsg {
            body["properties"]["networkSecurityGroup"] = json!({"id": n.to_string()});
        }
        let lro = api::network::put_nic(arm, &nic, &body, "create_server").await?;
        self.wait_lro(format!("create port {name}"), lro).await?;
        Ok(nic)
    }

    /// Deletes NICs made for a server whose creation failed (best effort).
    async fn drop_nics(&self, nics: &[ResourceId]) {
        for n in nics {
            match api::network::delete_nic(self.arm_client(), n).await {
                Ok(lro) => {
                    let _ = self
                        .wait_lro(format!("delete port {}", n.name()), lro)
                        .await;
                }
                Err(e) => {
                    tracing::warn!(port = %n, error = %e, "could not delete the port of a failed server")
                }
            }
        }
    }

    async fn create_server_inner(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        let arm = self.arm_client();
        check_name(&spec.name, "virtual machine")?;
        if spec.name.len() > 64 {
            return Err(Error::invalid_input(format!(
                "the server name {:?} is longer than Azure's 64 characters",
                spec.name
            )));
        }
        if spec.flavor.as_str().trim().is_empty() {
            return Err(Error::invalid_input("a server needs a flavor (a VM size)"));
        }
        if spec.networks.is_empty() {
            return Err(Error::invalid_input(
                "an Azure VM needs at least one network interface: give a network or a port",
            ));
        }
        if spec.security_groups.len() > 1 {
            return Err(Error::invalid_input(
                "an Azure network interface takes one network security group; give at most one",
            ));
        }
        let vm_id = arm.group_id("Microsoft.Compute", &[("virtualMachines", &spec.name)])?;
        let nsg = match spec.security_groups.first() {
            Some(g) => Some(ids::resolve_id(g, ids::NSG, self.scope())?),
            None => None,
        };
        if nsg.is_some()
            && !spec
                .networks
                .iter()
                .any(|n| matches!(n, NetworkAttachment::Network { .. }))
        {
            return Err(Error::invalid_input(
                "security groups apply to the network interfaces hybrid creates for networks; set the group on the existing port instead",
            ));
        }
        let mut own = Tags::new();
        if let Some(k) = &spec.key_name {
            own.insert(KEY_NAME_TAG.to_owned(), k.clone());
        }
        let tags = arm_tags(&spec.tags, &spec.metadata, &own)?;

        let mut storage = json!({});
        let mut os_profile = None;
        match (&spec.image, &spec.boot_volume) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "give an image or a boot volume, not both",
                ))
            }
            (None, None) => {
                return Err(Error::invalid_input(
                    "a server needs an image or a boot volume",
                ))
            }
            (Some(image), None) => {
                storage["imageReference"] = image_reference(image.as_str(), self)?;
                storage["osDisk"] = json!({"createOption": "FromImage", "deleteOption": "Delete"});
                // Linux host names take no '_'.
                let mut profile = json!({
                    "computerName": spec.name.replace('_', "-"),
                    "adminUsername": self.inner.settings.admin_username,
                });
                if let Some(data) = &spec.user_data {
                    profile["customData"] = json!(STANDARD.encode(data));
                }
                match &spec.key_name {
                    Some(k) => {
                        let key_id = ids::resolve_id(k, ids::SSH_KEY, self.scope())?;
                        let doc = api::compute::get_ssh_key(arm, &key_id).await?;
                        let key: SshPublicKeyResource = decode(&doc, "an SSH public key")?;
                        let public = key.properties.public_key.unwrap_or_default();
                        if public.trim().is_empty() {
                            return Err(Error::invalid_input(format!(
                                "key pair {k} holds no public key"
                            )));
                        }
                        profile["linuxConfiguration"] = json!({
                            "disablePasswordAuthentication": true,
                            "ssh": {"publicKeys": [{
                                "path": format!("/home/{}/.ssh/authorized_keys", self.inner.settings.admin_username),
                                "keyData": public.trim(),
                            }]}
                        });
                    }
                    None => {
                        let password = unknown_password()?;
                        profile["adminPassword"] = json!(password.expose_secret());
                    }
                }
                os_profile = Some(profile);
            }
            (None, Some(vol)) => {
                if spec.key_name.is_some() || spec.user_data.is_some() {
                    return Err(Error::invalid_input(
                        "a server booted from an existing volume keeps that disk's OS setup: Azure takes no key pair or user data for it",
                    ));
                }
                let disk = ids::resolve_id(vol.as_str(), ids::DISK, self.scope())?;
                let doc = api::disks::get_disk(arm, &disk).await?;
                let os_type = doc
                    .pointer("/properties/osType")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "volume {} has no OS type, so Azure cannot boot from it",
                            disk.name()
                        ))
                    })?;
                storage["osDisk"] = json!({
                    "createOption": "Attach",
                    "osType": os_type,
                    "managedDisk": {"id": disk.to_string()},
                });
            }
        }

        ensure_absent(
            api::compute::get_vm(arm, &vm_id, false),
            format!("server {}", spec.name),
        )
        .await?;

        let mut created: Vec<ResourceId> = Vec::new();
        let mut nics = Vec::new();
        for (i, att) in spec.networks.iter().enumerate() {
            let (nic, delete_option) = match att {
                NetworkAttachment::Network { network, fixed_ip } => {
                    let name = format!("{}-nic{i}", spec.name);
                    match self
                        .create_server_nic(&name, network, fixed_ip.as_deref(), nsg.as_ref())
                        .await
                    {
                        Ok(n) => {
                            created.push(n.clone());
                            (n, "Delete")
                        }
                        Err(e) => {
                            self.drop_nics(&created).await;
                            return Err(e);
                        }
                    }
                }
                NetworkAttachment::Port { port } => (
                    ids::resolve_id(port.as_str(), ids::NIC, self.scope())?,
                    "Detach",
                ),
            };
            nics.push(json!({
                "id": nic.to_string(),
                "properties": {"primary": i == 0, "deleteOption": delete_option}
            }));
        }

        let mut properties = json!({
            "hardwareProfile": {"vmSize": spec.flavor.as_str()},
            "storageProfile": storage,
            "networkProfile": {"networkInterfaces": nics},
        });
        if let Some(p) = os_profile {
            properties["osProfile"] = p;
        }
        let mut body = json!({
            "location": self.scope().location,
            "properties": properties,
        });
        if !tags.is_empty() {
            body["tags"] = json!(tags);
        }
        if let Some(z) = &spec.availability_zone {
            body["zones"] = json!([z]);
        }
        let lro = match api::compute::create_or_update_vm(arm, &vm_id, &body).await {
            Ok(l) => l,
            Err(e) => {
                self.drop_nics(&created).await;
                return Err(e);
            }
        };
        Ok(self.server_operation(format!("create server {}", spec.name), vm_id, lro))
    }

    /// One ARM page of VMs of `source`, each VM as its JSON text: the resource group's
    /// and the subscription's listings ask for the instance views
    /// (`$expand=instanceView`) unless ARM has refused that once (`400`), in which case
    /// the first page is asked for again without it and later listings go without it.
    async fn vm_list_page(&self, source: &VmSource, next: Option<Url>) -> Result<RawPage<RawJson>> {
        let arm = self.arm_client();
        let list = |expand: bool, next: Option<Url>| async move {
            match source {
                VmSource::Group => api::compute::list_vms(arm, expand, next).await,
                VmSource::Subscription => api::compute::list_all_vms(arm, expand, next).await,
                VmSource::Location(loc) => api::compute::list_vms_by_location(arm, loc, next).await,
            }
        };
        let refused = &self.inner.vm_list_expand_refused;
        let expand = next.is_none()
            && !matches!(source, VmSource::Location(_))
            && !refused.load(Ordering::Relaxed);
        match list(expand, next.clone()).await {
            Err(e) if expand && e.http_status() == Some(400) => {
                tracing::warn!(error = %e, "ARM refused $expand=instanceView on a VM listing; listing without it and reading each VM's instance view");
                refused.store(true, Ordering::Relaxed);
                list(false, next).await
            }
            r => r,
        }
    }

    async fn servers_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Server>> {
        check_filters(options, &["scope", "location"], "servers")?;
        let scope = options.filters.get("scope").map(String::as_str);
        let source = match (scope, options.filters.get("location")) {
            (_, Some(loc)) => VmSource::Location(loc.clone()),
            (Some("subscription"), None) => VmSource::Subscription,
            (None | Some("resource_group"), None) => VmSource::Group,
            (Some(other), None) => {
                return Err(Error::invalid_input(format!(
                    "the scope filter is `resource_group` or `subscription`, not {other:?}"
                )))
            }
        };
        let cursor = Cursor::decode(token.as_ref())?;
        let first = cursor.offset;
        let (items, next) =
            sliced(cursor, options.page_size, |n| self.vm_list_page(&source, n)).await?;
        // Each VM decoded once from its text, which becomes its raw document.
        let mut i = first;
        let page = make_page(
            items,
            next,
            |doc| {
                i += 1;
                listed_server(doc, i - 1)
            },
            |vm| options.matches(&vm.server.name, &vm.server.tags),
        )?;
        if page.items.iter().all(|vm| vm.has_instance_view) {
            return Ok(Page::new(
                page.items.into_iter().map(|vm| vm.server).collect(),
                page.next,
            ));
        }
        // Only where the listing gave no instance view (by location, or when ARM left
        // it out): one instance-view read per such VM, eight at a time.
        let servers: Vec<Server> =
            futures::stream::iter(page.items.into_iter().map(|vm| async move {
                if vm.has_instance_view {
                    Ok(Some(vm.server))
                } else {
                    self.with_instance_view(vm).await
                }
            }))
            .buffered(INSTANCE_VIEW_CONCURRENCY)
            .try_filter_map(|s| async move { Ok(s) })
            .try_collect()
            .await?;
        Ok(Page::new(servers, page.next))
    }

    async fn flavors_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        check_filters(options, &[], "flavors")?;
        let cursor = Cursor::decode(token.as_ref())?;
        let sizes = self.sizes(false).await?;
        let mut all = Vec::with_capacity(sizes.len());
        for v in sizes.iter() {
            let s: VmSize = decode(v, "a VM size")?;
            let f = s.to_flavor(v.clone());
            if options.name.as_deref().is_none_or(|n| n == f.name) && options.tags.is_empty() {
                all.push(f);
            }
        }
        let start = cursor.offset.min(all.len());
        let end = match options.page_size {
            Some(n) if n > 0 => (start + n as usize).min(all.len()),
            _ => all.len(),
        };
        let next = (end < all.len()).then(|| Cursor {
            offset: end,
            ..Cursor::default()
        });
        Ok(Page::new(
            all[start..end].to_vec(),
            next.map(|c| c.encode()),
        ))
    }

    async fn key_pairs_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        check_filters(options, &[], "key pairs")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let (items, next) = sliced(cursor, options.page_size, |n| async move {
            api::compute::list_ssh_keys(&arm, n).await
        })
        .await?;
        make_page(
            items,
            next,
            |v| Ok(decode::<SshPublicKeyResource>(&v, "an SSH public key")?.to_key_pair()),
            |k| options.matches(&k.name, &[]),
        )
    }
}

#[async_trait]
impl Compute for AzureProvider {
    fn list_servers(&self, options: ListOptions) -> ItemStream<Server> {
        let p = self.clone();
        listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.servers_page(&o, t).await }
        })
    }

    async fn list_servers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Server>> {
        self.servers_page(options, page).await
    }

    async fn get_server(&self, id: &ServerId) -> Result<Server> {
        let rid = self.vm_id(id)?;
        self.server(&rid).await
    }

    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        self.create_server_inner(spec).await
    }

    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>> {
        let rid = self.vm_id(id)?;
        let lro = api::compute::delete_vm(self.arm_client(), &rid).await?;
        Ok(lro::operation_unit(
            format!("delete server {}", rid.name()),
            rid.to_string(),
            lro,
        )
        .with_options(self.inner.wait))
    }

    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.power(id, VmAction::Start, |s| {
            (*s == ServerStatus::Active).then_some("it is running already")
        })
        .await
    }

    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        let action = if self.inner.settings.stop_deallocates {
            VmAction::Deallocate
        } else {
            VmAction::PowerOff
        };
        self.power(id, action, |s| {
            (*s == ServerStatus::Stopped).then_some("it is stopped already")
        })
        .await
    }

    /// Azure has one restart; soft and hard reboots both use it.
    async fn reboot_server(&self, id: &ServerId, _kind: RebootKind) -> Result<Operation<Server>> {
        self.power(id, VmAction::Restart, |s| {
            (*s == ServerStatus::Stopped).then_some("start it instead of rebooting it")
        })
        .await
    }

    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>> {
        let rid = self.vm_id(id)?;
        if flavor.as_str().trim().is_empty() {
            return Err(Error::invalid_input("the new flavor is empty"));
        }
        let doc = api::compute::get_vm(self.arm_client(), &rid, false).await?;
        let vm: VirtualMachine = decode(&doc, "a virtual machine")?;
        if vm
            .properties
            .hardware_profile
            .vm_size
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(flavor.as_str()))
        {
            return Err(Error::invalid_input(format!(
                "server {} already has flavor {flavor}",
                rid.name()
            )));
        }
        let patch = json!({"properties": {"hardwareProfile": {"vmSize": flavor.as_str()}}});
        let lro = api::compute::update_vm(
            self.arm_client(),
            &rid,
            &patch,
            vm.etag.as_deref(),
            "resize_server",
        )
        .await?;
        Ok(self.server_operation(
            format!("resize server {} to {flavor}", rid.name()),
            rid,
            lro,
        ))
    }

    fn list_flavors(&self, options: ListOptions) -> ItemStream<Flavor> {
        let p = self.clone();
        listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.flavors_page(&o, t).await }
        })
    }

    async fn list_flavors_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        self.flavors_page(options, page).await
    }

    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor> {
        for force in [false, true] {
            let sizes = self.sizes(force).await?;
            for v in sizes.iter() {
                let s: VmSize = decode(v, "a VM size")?;
                if s.name.eq_ignore_ascii_case(id.as_str()) {
                    return Ok(s.to_flavor(v.clone()));
                }
            }
        }
        Err(Error::not_found(format!(
            "flavor {id} (VM size in {})",
            self.scope().location
        )))
    }

    fn list_key_pairs(&self, options: ListOptions) -> ItemStream<KeyPair> {
        let p = self.clone();
        listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.key_pairs_page(&o, t).await }
        })
    }

    async fn list_key_pairs_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        self.key_pairs_page(options, page).await
    }

    async fn get_key_pair(&self, name: &str) -> Result<KeyPair> {
        let id = ids::resolve_id(name, ids::SSH_KEY, self.scope())?;
        let doc = api::compute::get_ssh_key(self.arm_client(), &id).await?;
        Ok(decode::<SshPublicKeyResource>(&doc, "an SSH public key")?.to_key_pair())
    }

    async fn create_key_pair(&self, spec: &CreateKeyPair) -> Result<KeyPair> {
        check_name(&spec.name, "SSH public key")?;
        let key = spec.public_key.trim();
        if key.split_whitespace().count() < 2 {
            return Err(Error::invalid_input(
                "the public key is not an OpenSSH public key line (type, base64 key, comment)",
            ));
        }
        let arm = self.arm_client();
        let id = arm.group_id("Microsoft.Compute", &[("sshPublicKeys", &spec.name)])?;
        ensure_absent(
            api::compute::get_ssh_key(arm, &id),
            format!("key pair {}", spec.name),
        )
        .await?;
        let body = json!({"location": self.scope().location, "properties": {"publicKey": key}});
        let doc = api::compute::create_ssh_key(arm, &id, &body).await?;
        Ok(decode::<SshPublicKeyResource>(&doc, "an SSH public key")?.to_key_pair())
    }

    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        let id = ids::resolve_id(name, ids::SSH_KEY, self.scope())?;
        api::compute::delete_ssh_key(self.arm_client(), &id).await
    }

    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>> {
        let rid = self.vm_id(id)?;
        let mut wanted: Vec<String> = Vec::new();
        for t in tags {
            tag_key(t)?;
            if !wanted.contains(t) {
                wanted.push(t.clone());
            }
        }
        let current = self.vm_tags(&rid).await?;
        let (have, _, _) = split_tags(&current);
        let stale: Tags = current
            .iter()
            .filter(|(k, _)| {
                have.iter().any(|t| {
                    !wanted.contains(t) && tag_key(t).is_ok_and(|tk| tk.eq_ignore_ascii_case(k))
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.change_tags(&rid, TagsOperation::Delete, &stale, "set_server_tags")
            .await?;
        let add: Tags = wanted
            .iter()
            .filter(|t| !have.contains(t))
            .map(|t| Ok((tag_key(t)?, String::new())))
            .collect::<Result<_>>()?;
        self.change_tags(&rid, TagsOperation::Merge, &add, "set_server_tags")
            .await?;
        Ok(wanted)
    }

    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        let rid = self.vm_id(id)?;
        let add: Tags = [(tag_key(tag)?, String::new())].into();
        self.change_tags(&rid, TagsOperation::Merge, &add, "add_server_tag")
            .await
    }

    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        let rid = self.vm_id(id)?;
        let key = tag_key(tag)?;
        let current = self.vm_tags(&rid).await?;
        let found: Tags = current
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(&key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if found.is_empty() {
            return Err(Error::not_found(format!(
                "tag {tag:?} of server {}",
                rid.name()
            )));
        }
        self.change_tags(&rid, TagsOperation::Delete, &found, "remove_server_tag")
            .await
    }

    async fn set_server_metadata(&self, id: &ServerId, metadata: &Metadata) -> Result<Metadata> {
        let rid = self.vm_id(id)?;
        for (k, v) in metadata {
            check_metadata(k, v)?;
        }
        let entries: Tags = metadata.clone();
        if entries.is_empty() {
            let (_, m, _) = split_tags(&self.vm_tags(&rid).await?);
            return Ok(m);
        }
        self.change_tags(&rid, TagsOperation::Merge, &entries, "set_server_metadata")
            .await?;
        let (_, m, _) = split_tags(&self.vm_tags(&rid).await?);
        Ok(m)
    }

    async fn delete_server_metadata(&self, id: &ServerId, key: &str) -> Result<()> {
        let rid = self.vm_id(id)?;
        check_metadata(key, "")?;
        let current = self.vm_tags(&rid).await?;
        let (_, m, _) = split_tags(&current);
        let found: Tags = match m.get_key_value(key) {
            Some((k, v)) => [(k.clone(), v.clone())].into(),
            None => m
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        if found.is_empty() {
            return Err(Error::not_found(format!(
                "metadata key {key:?} of server {}",
                rid.name()
            )));
        }
        self.change_tags(
            &rid,
            TagsOperation::Delete,
            &found,
            "delete_server_metadata",
        )
        .await
    }
}
