//! Block-storage models: volumes, attachments, snapshots.

use serde::{Deserialize, Serialize};

use super::{status_enum, Metadata, RawDocument, ServerId};

crate::typed_id!(
    /// A volume (Cinder volume, virtual disk, managed disk) id.
    VolumeId
);
crate::typed_id!(
    /// A snapshot id.
    SnapshotId
);

status_enum!(
    /// Provider-neutral volume state.
    VolumeStatus {
        /// Being created.
        Creating => "creating",
        /// Ready and unattached.
        Available => "available" | "Unattached",
        /// Being attached.
        Attaching => "attaching",
        /// Attached to a server.
        InUse => "in-use" | "in_use" | "Attached",
        /// Being detached.
        Detaching => "detaching",
        /// Growing.
        Extending => "extending",
        /// Being deleted.
        Deleting => "deleting",
        /// Failed.
        Error => "error",
    }
);

status_enum!(
    /// Provider-neutral snapshot state.
    SnapshotStatus {
        /// Being created.
        Creating => "creating",
        /// Ready.
        Available => "available" | "Succeeded",
        /// Being deleted.
        Deleting => "deleting",
        /// Failed.
        Error => "error" | "Failed",
    }
);

/// A volume attached to a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The attachment's own id, where the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The volume.
    pub volume_id: VolumeId,
    /// The server.
    pub server_id: ServerId,
    /// Device name or controller slot, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// A block volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Id.
    pub id: VolumeId,
    /// Name.
    pub name: String,
    /// Size in GiB.
    pub size_gib: u64,
    /// State.
    pub status: VolumeStatus,
    /// Volume type, storage policy or SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    /// Whether it can be booted from.
    #[serde(default)]
    pub bootable: bool,
    /// Availability zone or datastore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateVolume {
    /// Name.
    pub name: String,
    /// Size in GiB (at least 1).
    pub size_gib: u64,
    /// Volume type, storage policy or SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    /// Availability zone or datastore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Create from this snapshot. Needs [`Feature::Snapshots`](crate::Feature::Snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<SnapshotId>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Metadata,
}

impl CreateVolume {
    /// A volume named `name` of `size_gib` GiB.
    pub fn new(name: impl Into<String>, size_gib: u64) -> Self {
        CreateVolume {
            name: name.into(),
            size_gib,
            ..CreateVolume::default()
        }
    }
}

/// A snapshot of a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Id.
    pub id: SnapshotId,
    /// The volume it was taken of.
    pub volume_id: VolumeId,
    /// Name.
    pub name: String,
    /// Size in GiB.
    pub size_gib: u64,
    /// State.
    pub status: SnapshotStatus,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSnapshot {
    /// The volume.
    pub volume_id: VolumeId,
    /// Name.
    pub name: String,
    /// Take it even while the volume is attached.
    #[serde(default)]
    pub force: bool,
}
