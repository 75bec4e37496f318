//! Microsoft.Compute: virtual machines, VM sizes, SSH public keys.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use hybrid_core::model::{
    AddressKind, Flavor, FlavorId, ImageId, KeyPair, Metadata, RawDocument, RawJson, Server,
    ServerAddress, ServerId, ServerStatus,
};
use hybrid_core::Result;
use serde::Deserialize;
use serde_json::Value;

use super::common::{
    name_of, split_tag_pairs, split_tags, Str, SubResource, Tags, TagsRef, KEY_NAME_TAG,
};
use crate::client::decode;

/// A virtual machine (`Microsoft.Compute/virtualMachines`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachine {
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
    /// Availability zones.
    #[serde(default)]
    pub zones: Vec<String>,
    /// The entity tag.
    #[serde(default)]
    pub etag: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: VmProperties,
}

/// A VM's properties.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmProperties {
    /// The VM's unique id.
    #[serde(default)]
    pub vm_id: Option<String>,
    /// Size.
    #[serde(default)]
    pub hardware_profile: HardwareProfile,
    /// Disks and image.
    #[serde(default)]
    pub storage_profile: StorageProfile,
    /// Computer name, administrator, SSH keys.
    #[serde(default)]
    pub os_profile: Option<OsProfile>,
    /// NICs.
    #[serde(default)]
    pub network_profile: NetworkProfile,
    /// `Creating`, `Updating`, `Succeeded`, `Failed`, `Deleting`, …
    #[serde(default)]
    pub provisioning_state: Option<String>,
    /// The instance view, with `$expand=instanceView`.
    #[serde(default)]
    pub instance_view: Option<InstanceView>,
    /// When the VM was created.
    #[serde(default)]
    pub time_created: Option<String>,
}

/// The VM size.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardwareProfile {
    /// The size, for example `Standard_D2s_v5`.
    #[serde(default)]
    pub vm_size: Option<String>,
}

/// The image and disks of a VM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageProfile {
    /// What the OS disk was made from.
    #[serde(default)]
    pub image_reference: Option<ImageReference>,
    /// The OS disk.
    #[serde(default)]
    pub os_disk: Option<OsDisk>,
    /// Data disks.
    #[serde(default)]
    pub data_disks: Vec<DataDisk>,
}

/// An image reference: a marketplace image, or a managed/gallery image by id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReference {
    /// A managed image or gallery image (version) id.
    #[serde(default)]
    pub id: Option<String>,
    /// Marketplace publisher.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Marketplace offer.
    #[serde(default)]
    pub offer: Option<String>,
    /// Marketplace SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Marketplace version (`latest` or a version).
    #[serde(default)]
    pub version: Option<String>,
    /// A shared gallery image id.
    #[serde(default)]
    pub shared_gallery_image_id: Option<String>,
    /// A community gallery image id.
    #[serde(default)]
    pub community_gallery_image_id: Option<String>,
}

impl ImageReference {
    /// The hybrid image id: the managed/gallery id, or `publisher:offer:sku:version`.
    pub fn image_id(&self) -> Option<String> {
        image_id_of(ImageFields {
            id: self.id.as_deref(),
            shared: self.shared_gallery_image_id.as_deref(),
            community: self.community_gallery_image_id.as_deref(),
            publisher: self.publisher.as_deref(),
            offer: self.offer.as_deref(),
            sku: self.sku.as_deref(),
            version: self.version.as_deref(),
        })
    }
}

/// The fields of an image reference the hybrid image id is made of.
struct ImageFields<'s> {
    id: Option<&'s str>,
    shared: Option<&'s str>,
    community: Option<&'s str>,
    publisher: Option<&'s str>,
    offer: Option<&'s str>,
    sku: Option<&'s str>,
    version: Option<&'s str>,
}

fn image_id_of(r: ImageFields<'_>) -> Option<String> {
    if let Some(id) = r.id.or(r.shared).or(r.community) {
        return Some(id.to_owned());
    }
    match (r.publisher, r.offer, r.sku) {
        (Some(p), Some(o), Some(s)) => {
            Some(format!("{p}:{o}:{s}:{}", r.version.unwrap_or("latest")))
        }
        _ => None,
    }
}

/// A managed disk reference.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDiskRef {
    /// The disk's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Its SKU.
    #[serde(default)]
    pub storage_account_type: Option<String>,
}

/// The OS disk of a VM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsDisk {
    /// `Linux` or `Windows`.
    #[serde(default)]
    pub os_type: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Size.
    #[serde(default, rename = "diskSizeGB")]
    pub disk_size_gb: Option<u64>,
    /// The managed disk.
    #[serde(default)]
    pub managed_disk: Option<ManagedDiskRef>,
}

/// A data disk of a VM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataDisk {
    /// The logical unit number.
    pub lun: u32,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The managed disk.
    #[serde(default)]
    pub managed_disk: Option<ManagedDiskRef>,
    /// Size.
    #[serde(default, rename = "diskSizeGB")]
    pub disk_size_gb: Option<u64>,
    /// Being detached.
    #[serde(default)]
    pub to_be_detached: Option<bool>,
}

/// The OS profile of a VM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsProfile {
    /// The host name.
    #[serde(default)]
    pub computer_name: Option<String>,
    /// The administrator.
    #[serde(default)]
    pub admin_username: Option<String>,
}

/// The NICs of a VM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkProfile {
    /// The NIC references.
    #[serde(default)]
    pub network_interfaces: Vec<NicReference>,
}

/// A NIC reference with its `primary` flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NicReference {
    /// The NIC id.
    #[serde(default)]
    pub id: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: Option<NicReferenceProperties>,
}

/// Properties of a NIC reference.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NicReferenceProperties {
    /// Whether this is the primary NIC.
    #[serde(default)]
    pub primary: Option<bool>,
}

/// A VM's instance view.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Status entries: `ProvisioningState/…`, `PowerState/…`, errors.
    #[serde(default)]
    pub statuses: Vec<InstanceViewStatus>,
    /// The guest's host name.
    #[serde(default)]
    pub computer_name: Option<String>,
}

/// One status of an instance view.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceViewStatus {
    /// For example `PowerState/running`.
    #[serde(default)]
    pub code: Option<String>,
    /// `Info`, `Warning` or `Error`.
    #[serde(default)]
    pub level: Option<String>,
    /// Human text.
    #[serde(default)]
    pub display_status: Option<String>,
    /// Details.
    #[serde(default)]
    pub message: Option<String>,
}

impl InstanceView {
    /// The power state, for example `running` (from `PowerState/running`).
    pub fn power_state(&self) -> Option<&str> {
        power_state_of(self.statuses.iter().map(|s| s.code.as_deref()))
    }

    /// The first error status's text.
    pub fn fault(&self) -> Option<String> {
        fault_of(self.statuses.iter().map(|s| StatusFields {
            code: s.code.as_deref(),
            level: s.level.as_deref(),
            display_status: s.display_status.as_deref(),
            message: s.message.as_deref(),
        }))
    }
}

/// The power state among status codes (`PowerState/running` → `running`).
fn power_state_of<'s>(mut codes: impl Iterator<Item = Option<&'s str>>) -> Option<&'s str> {
    codes.find_map(|code| {
        let (kind, state) = code?.split_once('/')?;
        kind.eq_ignore_ascii_case("PowerState").then_some(state)
    })
}

/// The fields of an instance view status a fault is made of.
struct StatusFields<'s> {
    code: Option<&'s str>,
    level: Option<&'s str>,
    display_status: Option<&'s str>,
    message: Option<&'s str>,
}

/// The first error status's text: its display status (or code), and its message.
fn fault_of<'s>(mut statuses: impl Iterator<Item = StatusFields<'s>>) -> Option<String> {
    statuses
        .find(|s| s.level.is_some_and(|l| l.eq_ignore_ascii_case("Error")))
        .map(|s| {
            let head = s.display_status.or(s.code).unwrap_or_default();
            match s.message {
                Some(m) if !m.is_empty() => format!("{head}: {m}"),
                _ => head.to_owned(),
            }
        })
}

/// The core state of a VM: failures and transitions of provisioning first, then the
/// power state (`running` → `ACTIVE`, `stopped`/`deallocated` → `SHUTOFF`, other power
/// states kept as `Other`).
pub fn server_status(provisioning: Option<&str>, power: Option<&str>) -> ServerStatus {
    match provisioning.map(str::to_ascii_lowercase).as_deref() {
        Some("creating") => return ServerStatus::Building,
        Some("deleting") => return ServerStatus::Deleting,
        Some("failed") => return ServerStatus::Error,
        _ => {}
    }
    match power {
        Some(p) => ServerStatus::parse(p),
        None => ServerStatus::Other(provisioning.unwrap_or("unknown").to_owned()),
    }
}

impl VirtualMachine {
    /// The core server; addresses are filled by the caller (they live on the NICs).
    pub fn to_server(&self, raw: Value) -> Server {
        let p = &self.properties;
        let (tags, metadata, own) = split_tags(&self.tags);
        let iv = p.instance_view.as_ref();
        Server {
            id: ServerId::new(&self.id),
            name: name_of(&self.name, &self.id),
            status: server_status(
                p.provisioning_state.as_deref(),
                iv.and_then(InstanceView::power_state),
            ),
            flavor: p.hardware_profile.vm_size.clone().map(FlavorId::new),
            image: p
                .storage_profile
                .image_reference
                .as_ref()
                .and_then(ImageReference::image_id)
                .map(ImageId::new),
            addresses: Vec::new(),
            key_name: own.get(KEY_NAME_TAG).cloned(),
            availability_zone: self.zones.first().cloned(),
            tags,
            metadata,
            created_at: p.time_created.clone(),
            progress: None,
            fault: iv.and_then(InstanceView::fault),
            raw: Some(RawDocument::from_value(&raw)),
        }
    }

    /// The NIC ids, the primary first.
    pub fn nic_ids(&self) -> Vec<String> {
        let mut nics: Vec<(bool, String)> = self
            .properties
            .network_profile
            .network_interfaces
            .iter()
            .filter_map(|n| {
                let primary = n
                    .properties
                    .as_ref()
                    .and_then(|p| p.primary)
                    .unwrap_or(false);
                n.id.clone().map(|id| (primary, id))
            })
            .collect();
        nics.sort_by_key(|(primary, _)| !*primary);
        nics.into_iter().map(|(_, id)| id).collect()
    }
}

/// Decodes a VM document into the core server (without addresses).
///
/// # Errors
/// `InvalidResponse` when it is not a VM document.
pub fn server_from(doc: Value) -> Result<Server> {
    let vm: VirtualMachine = decode(&doc, "a virtual machine")?;
    Ok(vm.to_server(doc))
}

/// A virtual machine read from its JSON text with its strings borrowed where the text
/// lends them ([`Str`]): the same fields, types and errors as [`VirtualMachine`] (it
/// decodes exactly the documents `VirtualMachine` decodes, into the same [`Server`]),
/// without a copy of the strings it only looks at or leaves out. What the provider
/// decodes listed VMs with: each VM once, from the text of the listing page, the text
/// kept as the server's raw document ([`listed_server`]).
///
/// Its fields are `VirtualMachine`'s, in the same order (serde also reads a struct from
/// a JSON array, by position).
#[derive(Debug, Deserialize)]
pub struct VirtualMachineRef<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(default, borrow)]
    name: Str<'a>,
    // Read to refuse what `VirtualMachine` refuses; not part of the server.
    #[serde(default, borrow)]
    #[allow(dead_code)]
    location: Option<Str<'a>>,
    #[serde(default, borrow)]
    tags: TagsRef<'a>,
    #[serde(default, borrow)]
    zones: Vec<Str<'a>>,
    #[serde(default, borrow)]
    #[allow(dead_code)]
    etag: Option<Str<'a>>,
    #[serde(default, borrow)]
    properties: lent::VmProperties<'a>,
}

/// The borrowed counterparts of [`VirtualMachine`]'s parts, field for field and in the
/// same order. The fields the server is not made of are decoded only to refuse the
/// same documents.
#[allow(dead_code)]
mod lent {
    use serde::Deserialize;

    use super::super::common::Str;

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct VmProperties<'a> {
        #[serde(default, borrow)]
        pub vm_id: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub hardware_profile: HardwareProfile<'a>,
        #[serde(default, borrow)]
        pub storage_profile: StorageProfile<'a>,
        #[serde(default, borrow)]
        pub os_profile: Option<OsProfile<'a>>,
        #[serde(default, borrow)]
        pub network_profile: NetworkProfile<'a>,
        #[serde(default, borrow)]
        pub provisioning_state: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub instance_view: Option<InstanceView<'a>>,
        #[serde(default, borrow)]
        pub time_created: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct HardwareProfile<'a> {
        #[serde(default, borrow)]
        pub vm_size: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct StorageProfile<'a> {
        #[serde(default, borrow)]
        pub image_reference: Option<ImageReference<'a>>,
        #[serde(default, borrow)]
        pub os_disk: Option<OsDisk<'a>>,
        #[serde(default, borrow)]
        pub data_disks: Vec<DataDisk<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ImageReference<'a> {
        #[serde(default, borrow)]
        pub id: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub publisher: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub offer: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub sku: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub version: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub shared_gallery_image_id: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub community_gallery_image_id: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ManagedDisk<'a> {
        #[serde(default, borrow)]
        pub id: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub storage_account_type: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct OsDisk<'a> {
        #[serde(default, borrow)]
        pub os_type: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub name: Option<Str<'a>>,
        #[serde(default, rename = "diskSizeGB")]
        pub disk_size_gb: Option<u64>,
        #[serde(default, borrow)]
        pub managed_disk: Option<ManagedDisk<'a>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct DataDisk<'a> {
        pub lun: u32,
        #[serde(default, borrow)]
        pub name: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub managed_disk: Option<ManagedDisk<'a>>,
        #[serde(default, rename = "diskSizeGB")]
        pub disk_size_gb: Option<u64>,
        #[serde(default)]
        pub to_be_detached: Option<bool>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct OsProfile<'a> {
        #[serde(default, borrow)]
        pub computer_name: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub admin_username: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct NetworkProfile<'a> {
        #[serde(default, borrow)]
        pub network_interfaces: Vec<NicReference<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct NicReference<'a> {
        #[serde(default, borrow)]
        pub id: Option<Str<'a>>,
        #[serde(default)]
        pub properties: Option<NicReferenceProperties>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct NicReferenceProperties {
        #[serde(default)]
        pub primary: Option<bool>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct InstanceView<'a> {
        #[serde(default, borrow)]
        pub statuses: Vec<InstanceViewStatus<'a>>,
        #[serde(default, borrow)]
        pub computer_name: Option<Str<'a>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct InstanceViewStatus<'a> {
        #[serde(default, borrow)]
        pub code: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub level: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub display_status: Option<Str<'a>>,
        #[serde(default, borrow)]
        pub message: Option<Str<'a>>,
    }
}

fn opt<'s>(s: &'s Option<Str<'_>>) -> Option<&'s str> {
    s.as_ref().map(Str::as_str)
}

impl VirtualMachineRef<'_> {
    /// Whether the document carries its instance view (`$expand=instanceView`, or a
    /// listing that expands it), so that the power state is known.
    pub fn has_instance_view(&self) -> bool {
        self.properties.instance_view.is_some()
    }

    /// The core server, as [`VirtualMachine::to_server`] makes it, with `raw` as its raw
    /// document.
    pub fn into_server(self, raw: Option<RawDocument>) -> Server {
        let p = self.properties;
        let (tags, metadata, own) =
            split_tag_pairs(self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let iv = p.instance_view.as_ref();
        let status = server_status(
            opt(&p.provisioning_state),
            iv.and_then(|v| power_state_of(v.statuses.iter().map(|s| opt(&s.code)))),
        );
        let fault = iv.and_then(|v| {
            fault_of(v.statuses.iter().map(|s| StatusFields {
                code: opt(&s.code),
                level: opt(&s.level),
                display_status: opt(&s.display_status),
                message: opt(&s.message),
            }))
        });
        let image = p.storage_profile.image_reference.as_ref().and_then(|r| {
            image_id_of(ImageFields {
                id: opt(&r.id),
                shared: opt(&r.shared_gallery_image_id),
                community: opt(&r.community_gallery_image_id),
                publisher: opt(&r.publisher),
                offer: opt(&r.offer),
                sku: opt(&r.sku),
                version: opt(&r.version),
            })
        });
        Server {
            name: name_of(self.name.as_str(), self.id.as_str()),
            id: ServerId::new(self.id.owned()),
            status,
            flavor: p.hardware_profile.vm_size.map(|s| FlavorId::new(s.owned())),
            image: image.map(ImageId::new),
            addresses: Vec::new(),
            key_name: own.get(KEY_NAME_TAG).cloned(),
            availability_zone: self.zones.into_iter().next().map(Str::owned),
            tags,
            metadata,
            created_at: p.time_created.map(Str::owned),
            progress: None,
            fault,
            raw,
        }
    }
}

/// A VM of a listing, decoded ([`listed_server`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedVm {
    /// The server; its raw document is the VM's JSON text.
    pub server: Server,
    /// Whether the document carried the instance view. Without it the state is only
    /// the provisioning state's: [`ListedVm::with_instance_view`] completes it.
    pub has_instance_view: bool,
    /// `properties.provisioningState`.
    pub provisioning_state: Option<String>,
}

impl ListedVm {
    /// The server with its state and fault from `view`, the VM's instance view (as
    /// `GET …/instanceView` answers it), which also joins its raw document as
    /// `properties.instanceView`, as `$expand=instanceView` would have put it.
    ///
    /// # Errors
    /// `InvalidResponse` when `view` is not an instance view.
    pub fn with_instance_view(self, view: Value) -> Result<Server> {
        let iv: InstanceView = decode(&view, "an instance view")?;
        let mut s = self.server;
        s.status = server_status(self.provisioning_state.as_deref(), iv.power_state());
        s.fault = iv.fault();
        if let Some(mut doc) = s
            .raw
            .as_ref()
            .and_then(RawDocument::as_json)
            .and_then(|j| j.to_value().ok())
        {
            if let Some(props) = doc
                .as_object_mut()
                .map(|o| {
                    o.entry("properties")
                        .or_insert_with(|| Value::Object(Default::default()))
                })
                .and_then(Value::as_object_mut)
            {
                props.insert("instanceView".into(), view);
                s.raw = Some(RawDocument::from_value(&doc));
            }
        }
        Ok(s)
    }
}

/// Item `index` of a VM listing page, from its JSON text: decoded once
/// ([`VirtualMachineRef`]), the text kept as the server's raw document.
///
/// # Errors
/// `InvalidResponse` naming the item when the text is not a VM document.
pub fn listed_server(doc: RawJson, index: usize) -> Result<ListedVm> {
    let (s, has_instance_view, provisioning_state) = {
        let vm: VirtualMachineRef<'_> = doc.deserialize().map_err(|e| {
            hybrid_core::Error::invalid_response(
                format!("item {index} of the VM listing is not the expected JSON"),
                e,
            )
        })?;
        let has_view = vm.has_instance_view();
        let prov = opt(&vm.properties.provisioning_state).map(str::to_owned);
        (vm.into_server(None), has_view, prov)
    };
    Ok(ListedVm {
        server: Server {
            raw: Some(RawDocument::Json(doc)),
            ..s
        },
        has_instance_view,
        provisioning_state,
    })
}

/// Adds addresses to a server: `(network, address, kind)` from its NICs.
pub fn with_addresses(mut s: Server, addresses: Vec<(String, String, AddressKind)>) -> Server {
    s.addresses = addresses
        .into_iter()
        .map(|(network, address, kind)| ServerAddress {
            network,
            address,
            kind,
        })
        .collect();
    s
}

/// A VM size of a location.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmSize {
    /// The size's name, for example `Standard_D2s_v5`.
    pub name: String,
    /// vCPUs.
    #[serde(default)]
    pub number_of_cores: u32,
    /// The largest OS disk, in MB.
    #[serde(default, rename = "osDiskSizeInMB")]
    pub os_disk_size_in_mb: Option<u64>,
    /// The temporary (resource) disk, in MB.
    #[serde(default, rename = "resourceDiskSizeInMB")]
    pub resource_disk_size_in_mb: Option<u64>,
    /// Memory, in MB.
    #[serde(default, rename = "memoryInMB")]
    pub memory_in_mb: u64,
    /// The most data disks.
    #[serde(default)]
    pub max_data_disk_count: Option<u32>,
}

impl VmSize {
    /// The core flavor: id and name are the size's name; the root disk is 0 (the image
    /// decides), the temporary disk is the ephemeral disk; the largest OS disk and the
    /// most data disks are in `extra`.
    pub fn to_flavor(&self, raw: Value) -> Flavor {
        let mut extra = Metadata::new();
        if let Some(os) = self.os_disk_size_in_mb {
            extra.insert("max_os_disk_mib".into(), os.to_string());
        }
        if let Some(n) = self.max_data_disk_count {
            extra.insert("max_data_disks".into(), n.to_string());
        }
        Flavor {
            id: FlavorId::new(&self.name),
            name: self.name.clone(),
            vcpus: self.number_of_cores,
            ram_mib: self.memory_in_mb,
            disk_gib: 0,
            ephemeral_gib: self.resource_disk_size_in_mb.unwrap_or(0) / 1024,
            is_public: true,
            extra,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// An SSH public key resource (`Microsoft.Compute/sshPublicKeys`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshPublicKeyResource {
    /// The ARM id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Properties.
    #[serde(default)]
    pub properties: SshPublicKeyProperties,
}

/// Properties of an SSH public key resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshPublicKeyProperties {
    /// The OpenSSH public key (absent until one is set or generated).
    #[serde(default)]
    pub public_key: Option<String>,
}

/// The OpenSSH SHA-256 fingerprint (`SHA256:…`) of a public key line, when it parses.
pub fn fingerprint(public_key: &str) -> Option<String> {
    let blob = public_key.split_whitespace().nth(1)?;
    let bytes = STANDARD.decode(blob).ok()?;
    let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
    Some(format!("SHA256:{}", STANDARD_NO_PAD.encode(d.as_ref())))
}

impl SshPublicKeyResource {
    /// The core key pair.
    pub fn to_key_pair(&self) -> KeyPair {
        let key = self.properties.public_key.clone().unwrap_or_default();
        KeyPair {
            name: name_of(&self.name, self.id.as_deref().unwrap_or("")),
            fingerprint: fingerprint(&key),
            public_key: key,
        }
    }
}

/// The ids of a VM's managed disks attached as data disks, with their LUNs.
pub fn data_disk_ids(vm: &VirtualMachine) -> Vec<(u32, String)> {
    vm.properties
        .storage_profile
        .data_disks
        .iter()
        .filter_map(|d| {
            d.managed_disk
                .as_ref()
                .and_then(|m| m.id.clone())
                .map(|id| (d.lun, id))
        })
        .collect()
}

/// A reference by id, for request bodies.
pub fn sub_resource(id: &str) -> SubResource {
    SubResource {
        id: Some(id.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses() {
        assert_eq!(
            server_status(Some("Succeeded"), Some("running")),
            ServerStatus::Active
        );
        assert_eq!(
            server_status(Some("Succeeded"), Some("deallocated")),
            ServerStatus::Stopped
        );
        assert_eq!(
            server_status(Some("Updating"), Some("stopped")),
            ServerStatus::Stopped
        );
        assert_eq!(
            server_status(Some("Creating"), None),
            ServerStatus::Building
        );
        assert_eq!(
            server_status(Some("Failed"), Some("running")),
            ServerStatus::Error
        );
        assert_eq!(
            server_status(Some("Succeeded"), Some("starting")),
            ServerStatus::Other("starting".into())
        );
        assert_eq!(
            server_status(Some("Succeeded"), None),
            ServerStatus::Other("Succeeded".into())
        );
    }

    /// Every VM document of the official examples (`id` present), and each again with
    /// the example instance view inside, as `$expand=instanceView` answers.
    fn sample_vms() -> Vec<Value> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure/compute");
        let read = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
        };
        let view = read("vm-instance-view.json")["responses"]["200"]["body"].clone();
        assert!(view["statuses"].is_array());
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the compute fixtures") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("vm-") || !name.ends_with(".json") {
                continue;
            }
            let doc = read(&name);
            let Some(responses) = doc["responses"].as_object() else {
                continue;
            };
            for r in responses.values() {
                let body = &r["body"];
                let items = match body.get("value") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => vec![body.clone()],
                };
                for item in items.into_iter().filter(|i| i["id"].is_string()) {
                    let mut expanded = item.clone();
                    expanded["properties"]["instanceView"] = view.clone();
                    out.push(item);
                    out.push(expanded);
                }
            }
        }
        out
    }

    /// What each decoder makes of `v`: the owned one from the parsed value, the
    /// borrowed one from the JSON text (where escaped strings are copied).
    fn both(v: &Value) -> (Option<Server>, Option<Server>) {
        let raw = || Some(RawDocument::from_value(v));
        let owned = serde_json::from_value::<VirtualMachine>(v.clone())
            .ok()
            .map(|vm| vm.to_server(v.clone()));
        let text = v.to_string();
        let lent = serde_json::from_str::<VirtualMachineRef<'_>>(&text)
            .ok()
            .map(|vm| vm.into_server(raw()));
        let listed = RawJson::from_text(text.clone())
            .ok()
            .and_then(|doc| listed_server(doc, 0).ok())
            .map(|l| l.server);
        assert_eq!(lent, listed, "listed_server on {text}");
        (owned, lent)
    }

    #[test]
    fn the_borrowed_decoder_agrees_with_virtual_machine_on_every_sample() {
        let samples = sample_vms();
        assert!(samples.len() >= 10, "found {} sample VMs", samples.len());
        let (mut active, mut expected) = (0, 0);
        for s in &samples {
            let (owned, lent) = both(s);
            let owned = owned.unwrap_or_else(|| panic!("the sample decodes: {s}"));
            active += usize::from(owned.status == ServerStatus::Active);
            // the example instance view says `PowerState/running`; a VM being created
            // or deleted is in that state whatever its power state
            let prov = s["properties"]["provisioningState"].as_str().unwrap_or("");
            expected += usize::from(
                s["properties"]["instanceView"].is_object()
                    && !["creating", "deleting", "failed"]
                        .contains(&prov.to_ascii_lowercase().as_str()),
            );
            assert_eq!(Some(owned), lent, "on {s}");
        }
        assert!(expected >= 5, "{expected}");
        assert_eq!(active, expected);
    }

    /// Every path of `v` to an object member.
    fn member_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    at.push(k.clone());
                    out.push(at.clone());
                    member_paths(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    member_paths(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn at_mut<'v>(v: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
        path.iter().try_fold(v, |v, k| match v {
            Value::Object(m) => m.get_mut(k),
            Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?),
            _ => None,
        })
    }

    #[test]
    fn the_borrowed_decoder_agrees_with_virtual_machine_on_edited_documents() {
        let replacements = [
            json!(null),
            json!(7),
            json!(-1),
            json!(u64::MAX),
            json!(1.5),
            json!(true),
            json!(""),
            json!("x"),
            json!("PowerState/stopped"),
            json!([]),
            json!([1, "a", null]),
            json!([{"code": "PowerState/deallocated", "level": "Error", "message": "m"}]),
            json!({}),
            json!({"id": "i"}),
            json!({"hybrid:tag:web": "", "hybrid:Key-Name": "k", "env": "prod"}),
        ];
        let samples = sample_vms();
        // The largest documents (each once with its instance view) cover every field.
        let mut largest: Vec<&Value> = samples.iter().collect();
        largest.sort_by_key(|v| std::cmp::Reverse(v.to_string().len()));
        let mut compared = 0;
        for s in largest.into_iter().take(4) {
            let mut paths = Vec::new();
            member_paths(s, &mut Vec::new(), &mut paths);
            paths.push(vec!["not-a-field".into()]);
            paths.push(vec!["properties".into(), "not-a-field".into()]);
            for path in paths {
                for r in &replacements {
                    let mut edited = s.clone();
                    match path.split_last() {
                        Some((last, parent)) => match at_mut(&mut edited, parent) {
                            Some(Value::Object(m)) => {
                                m.insert(last.clone(), r.clone());
                            }
                            _ => continue,
                        },
                        None => continue,
                    }
                    let (owned, lent) = both(&edited);
                    assert_eq!(owned, lent, "{path:?} = {r} in {edited}");
                    compared += 1;
                }
                let mut without = s.clone();
                if let Some((last, parent)) = path.split_last() {
                    if let Some(Value::Object(m)) = at_mut(&mut without, parent) {
                        m.remove(last);
                    }
                }
                let (owned, lent) = both(&without);
                assert_eq!(owned, lent, "without {path:?}");
            }
        }
        assert!(compared > 2000, "{compared}");
    }

    #[test]
    fn the_borrowed_decoder_reads_escaped_strings_and_refuses_what_the_owned_one_refuses() {
        let text = r#"{"id": "\/subscriptions\/s\/vm\u002d1", "name": "",
            "tags": {"hybrid:tag:w\u00e9b": "", "k\"": "v\n"},
            "properties": {"hardwareProfile": {"vmSize": "Standard\u005fB1s"},
                "instanceView": {"statuses": [{"code": "PowerState\/running"}]}}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let (owned, lent) = both(&v);
        let s = lent.unwrap();
        assert_eq!(owned.unwrap(), s);
        assert_eq!(s.id.as_str(), "/subscriptions/s/vm-1");
        assert_eq!(s.name, "vm-1");
        assert_eq!(s.status, ServerStatus::Active);
        assert_eq!(s.tags, vec!["wéb".to_owned()]);
        assert_eq!(s.metadata.get("k\"").map(String::as_str), Some("v\n"));
        assert_eq!(s.flavor.unwrap().as_str(), "Standard_B1s");
        // the raw document is the text itself
        let doc = RawJson::from_text(text).unwrap();
        let listed = listed_server(doc, 0).unwrap();
        assert!(listed.has_instance_view);
        assert_eq!(listed.server.raw.unwrap().as_json().unwrap().as_str(), text);
        let plain = listed_server(
            RawJson::from_text(
                r#"{"id": "/x/vm", "properties": {"provisioningState": "Succeeded"}}"#,
            )
            .unwrap(),
            0,
        )
        .unwrap();
        assert!(!plain.has_instance_view);
        assert_eq!(plain.provisioning_state.as_deref(), Some("Succeeded"));
        assert_eq!(plain.server.status, ServerStatus::Other("Succeeded".into()));
        // the instance view read afterwards completes it, as the expansion would have
        let view = json!({"statuses": [{"code": "PowerState/deallocated"},
            {"code": "ProvisioningState/failed/x", "level": "Error", "displayStatus": "Bad", "message": "disk"}]});
        let done = plain.clone().with_instance_view(view.clone()).unwrap();
        assert_eq!(done.status, ServerStatus::Stopped);
        assert_eq!(done.fault.as_deref(), Some("Bad: disk"));
        let mut expanded = json!({"id": "/x/vm", "properties": {"provisioningState": "Succeeded"}});
        expanded["properties"]["instanceView"] = view;
        assert_eq!(*done.raw.as_ref().unwrap().as_json().unwrap(), expanded);
        let (owned, _) = both(&expanded);
        assert_eq!(owned.unwrap(), done);
        let e = plain
            .with_instance_view(json!({"statuses": 3}))
            .unwrap_err();
        assert_eq!(e.kind(), hybrid_core::ErrorKind::InvalidResponse);
        // serde reads a struct from an array too, by position: the same positions
        let by_position = json!(["/x/vm", "n", "westeurope", {"k": "v"}, ["1"], "e",
            {"provisioningState": "Creating"}]);
        let (owned, lent) = both(&by_position);
        assert_eq!(
            owned.as_ref().map(|s| &s.status),
            Some(&ServerStatus::Building)
        );
        assert_eq!(owned, lent);
        for bad in [
            r#"{"name": "no-id"}"#,
            r#"{"id": 5}"#,
            r#"[]"#,
            r#"{"id": "x", "tags": null}"#,
        ] {
            let e = listed_server(RawJson::from_text(bad).unwrap(), 3).unwrap_err();
            assert_eq!(e.kind(), hybrid_core::ErrorKind::InvalidResponse, "{bad}");
            assert!(e.to_string().contains("item 3 of the VM listing"), "{e}");
            assert!(
                serde_json::from_str::<VirtualMachine>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn fingerprints_like_openssh() {
        let k =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq x";
        let f = fingerprint(k).unwrap();
        assert!(f.starts_with("SHA256:") && f.len() == 50, "{f}");
        assert_eq!(fingerprint("garbage"), None);
    }
}
