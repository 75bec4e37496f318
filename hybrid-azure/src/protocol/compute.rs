//! Microsoft.Compute: virtual machines, VM sizes, SSH public keys.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use hybrid_core::model::{
    AddressKind, Flavor, FlavorId, ImageId, KeyPair, Metadata, RawDocument, Server, ServerAddress,
    ServerId, ServerStatus,
};
use hybrid_core::Result;
use serde::Deserialize;
use serde_json::Value;

use super::common::{name_of, split_tags, SubResource, Tags, KEY_NAME_TAG};
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
        if let Some(id) = self
            .id
            .as_ref()
            .or(self.shared_gallery_image_id.as_ref())
            .or(self.community_gallery_image_id.as_ref())
        {
            return Some(id.clone());
        }
        match (&self.publisher, &self.offer, &self.sku) {
            (Some(p), Some(o), Some(s)) => Some(format!(
                "{p}:{o}:{s}:{}",
                self.version.as_deref().unwrap_or("latest")
            )),
            _ => None,
        }
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
        self.statuses.iter().find_map(|s| {
            let code = s.code.as_deref()?;
            let (kind, state) = code.split_once('/')?;
            kind.eq_ignore_ascii_case("PowerState").then_some(state)
        })
    }

    /// The first error status's text.
    pub fn fault(&self) -> Option<String> {
        self.statuses
            .iter()
            .find(|s| {
                s.level
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case("Error"))
            })
            .map(|s| {
                let head = s
                    .display_status
                    .clone()
                    .or_else(|| s.code.clone())
                    .unwrap_or_default();
                match &s.message {
                    Some(m) if !m.is_empty() => format!("{head}: {m}"),
                    _ => head,
                }
            })
    }
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

    #[test]
    fn fingerprints_like_openssh() {
        let k =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq x";
        let f = fingerprint(k).unwrap();
        assert!(f.starts_with("SHA256:") && f.len() == 50, "{f}");
        assert_eq!(fingerprint("garbage"), None);
    }
}
