//! Cinder (block storage v3): volumes, attachments, snapshots.

use hybrid_core::model::{
    Attachment, Metadata, ServerId, Snapshot, SnapshotId, SnapshotStatus, Volume, VolumeId,
    VolumeStatus,
};
use serde::{Deserialize, Deserializer};

use super::nova::null_default;
use super::raw;

/// Cinder sends `bootable` as the strings `"true"`/`"false"`; accept booleans too.
fn bool_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
        Null(()),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Str(s) => s.eq_ignore_ascii_case("true"),
        B::Null(()) => false,
    })
}

/// An attachment as listed on a volume.
#[derive(Debug, Clone, Deserialize)]
pub struct CinderAttachment {
    /// Attachment id.
    #[serde(default)]
    pub attachment_id: Option<String>,
    /// Volume.
    #[serde(default)]
    pub volume_id: Option<String>,
    /// Server.
    #[serde(default)]
    pub server_id: Option<String>,
    /// Device path.
    #[serde(default)]
    pub device: Option<String>,
}

/// A volume as Cinder sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct CinderVolume {
    /// Id.
    pub id: String,
    /// Name (may be `null`).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Size in GiB.
    pub size: u64,
    /// Status.
    pub status: String,
    /// Type.
    #[serde(default)]
    pub volume_type: Option<String>,
    /// Bootable.
    #[serde(default, deserialize_with = "bool_string")]
    pub bootable: bool,
    /// Availability zone.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Attachments.
    #[serde(default, deserialize_with = "null_default")]
    pub attachments: Vec<CinderAttachment>,
    /// Metadata.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: Metadata,
}

impl CinderVolume {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Volume {
        let vid = self.id.clone();
        Volume {
            id: VolumeId::new(self.id),
            name: self.name,
            size_gib: self.size,
            status: VolumeStatus::parse(&self.status),
            volume_type: self.volume_type,
            bootable: self.bootable,
            availability_zone: self.availability_zone,
            attachments: self
                .attachments
                .into_iter()
                .filter_map(|a| {
                    Some(Attachment {
                        id: a.attachment_id,
                        volume_id: VolumeId::new(a.volume_id.unwrap_or_else(|| vid.clone())),
                        server_id: ServerId::new(a.server_id?),
                        device: a.device,
                    })
                })
                .collect(),
            metadata: self.metadata,
            raw: raw(doc),
        }
    }
}

/// A snapshot as Cinder sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct CinderSnapshot {
    /// Id.
    pub id: String,
    /// Volume.
    pub volume_id: String,
    /// Name (may be `null`).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Size in GiB.
    pub size: u64,
    /// Status.
    pub status: String,
}

impl CinderSnapshot {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Snapshot {
        Snapshot {
            id: SnapshotId::new(self.id),
            volume_id: VolumeId::new(self.volume_id),
            name: self.name,
            size_gib: self.size,
            status: SnapshotStatus::parse(&self.status),
            raw: raw(doc),
        }
    }
}
