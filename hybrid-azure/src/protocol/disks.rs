//! Microsoft.Compute disks and snapshots (the DiskRP API).

use hybrid_core::model::{
    Attachment, RawDocument, ServerId, Snapshot, SnapshotId, SnapshotStatus, Volume, VolumeId,
    VolumeStatus,
};
use hybrid_core::Result;
use serde::Deserialize;
use serde_json::Value;

use super::common::{name_of, split_tags, Tags};
use crate::client::decode;

/// A disk SKU.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DiskSku {
    /// For example `Premium_LRS`.
    #[serde(default)]
    pub name: Option<String>,
}

/// What a disk or snapshot was made from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationData {
    /// `Empty`, `Copy`, `FromImage`, `Import`, …
    #[serde(default)]
    pub create_option: Option<String>,
    /// The source disk or snapshot, for `Copy`.
    #[serde(default)]
    pub source_resource_id: Option<String>,
}

/// A managed disk (`Microsoft.Compute/disks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
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
    /// The SKU.
    #[serde(default)]
    pub sku: Option<DiskSku>,
    /// The VM it is attached to.
    #[serde(default)]
    pub managed_by: Option<String>,
    /// The VMs of a shared disk.
    #[serde(default)]
    pub managed_by_extended: Vec<String>,
    /// Properties.
    #[serde(default)]
    pub properties: DiskProperties,
}

/// Properties of a disk.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskProperties {
    /// Size in GiB.
    #[serde(default, rename = "diskSizeGB")]
    pub disk_size_gb: Option<u64>,
    /// `Unattached`, `Attached`, `Reserved`, `ActiveSAS`, `ReadyToUpload`, …
    #[serde(default)]
    pub disk_state: Option<String>,
    /// `Succeeded`, `Updating`, `Failed`, …
    #[serde(default)]
    pub provisioning_state: Option<String>,
    /// `Linux` or `Windows` for OS disks.
    #[serde(default)]
    pub os_type: Option<String>,
    /// Origin.
    #[serde(default)]
    pub creation_data: CreationData,
}

/// A volume's state from a disk's provisioning and disk states.
pub fn volume_status(disk: &Disk) -> VolumeStatus {
    let p = &disk.properties;
    match p
        .provisioning_state
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("failed") => return VolumeStatus::Error,
        Some("creating") => return VolumeStatus::Creating,
        Some("deleting") => return VolumeStatus::Deleting,
        _ => {}
    }
    match p.disk_state.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("Reserved") => VolumeStatus::InUse,
        Some(s) => VolumeStatus::parse(s),
        None if disk.managed_by.is_some() => VolumeStatus::InUse,
        None => VolumeStatus::Available,
    }
}

impl Disk {
    /// The core volume. Attachments name the VM (`managedBy`, and every VM of a shared
    /// disk); `device` is filled by the caller when it knows the LUN.
    pub fn to_volume(&self, raw: Value) -> Volume {
        let (_, metadata, _) = split_tags(&self.tags);
        let mut vms: Vec<&String> = self.managed_by.iter().collect();
        for v in &self.managed_by_extended {
            if !vms.iter().any(|x| crate::ids::same_id(x, v)) {
                vms.push(v);
            }
        }
        Volume {
            id: VolumeId::new(&self.id),
            name: name_of(&self.name, &self.id),
            size_gib: self.properties.disk_size_gb.unwrap_or(0),
            status: volume_status(self),
            volume_type: self.sku.as_ref().and_then(|s| s.name.clone()),
            bootable: self.properties.os_type.is_some(),
            availability_zone: self.zones.first().cloned(),
            attachments: vms
                .into_iter()
                .map(|vm| Attachment {
                    id: None,
                    volume_id: VolumeId::new(&self.id),
                    server_id: ServerId::new(vm),
                    device: None,
                })
                .collect(),
            metadata,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a disk document into the core volume.
///
/// # Errors
/// `InvalidResponse` when it is not a disk document.
pub fn volume_from(doc: Value) -> Result<Volume> {
    let d: Disk = decode(&doc, "a managed disk")?;
    Ok(d.to_volume(doc))
}

/// A snapshot (`Microsoft.Compute/snapshots`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskSnapshot {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: DiskProperties,
}

impl DiskSnapshot {
    /// The core snapshot: its volume is the `Copy` source.
    pub fn to_snapshot(&self, raw: Value) -> Snapshot {
        let p = &self.properties;
        let status = match p.provisioning_state.as_deref() {
            None => SnapshotStatus::Available,
            Some(s) if s.eq_ignore_ascii_case("Creating") || s.eq_ignore_ascii_case("Updating") => {
                SnapshotStatus::Creating
            }
            Some(s) if s.eq_ignore_ascii_case("Deleting") => SnapshotStatus::Deleting,
            Some(s) => SnapshotStatus::parse(s),
        };
        Snapshot {
            id: SnapshotId::new(&self.id),
            volume_id: VolumeId::new(
                p.creation_data
                    .source_resource_id
                    .clone()
                    .unwrap_or_default(),
            ),
            name: name_of(&self.name, &self.id),
            size_gib: p.disk_size_gb.unwrap_or(0),
            status,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a snapshot document into the core snapshot.
///
/// # Errors
/// `InvalidResponse` when it is not a snapshot document.
pub fn snapshot_from(doc: Value) -> Result<Snapshot> {
    let s: DiskSnapshot = decode(&doc, "a snapshot")?;
    Ok(s.to_snapshot(doc))
}
