//! Image models, including where an image lives and whether it can travel.

use serde::{Deserialize, Serialize};

use super::{status_enum, Metadata, RawDocument};

crate::typed_id!(
    /// An image (Glance image, content-library item, Azure image) id.
    ImageId
);

status_enum!(
    /// Provider-neutral image state.
    ImageStatus {
        /// Registered, no data yet.
        Queued => "queued",
        /// Data being uploaded.
        Saving => "saving" | "uploading",
        /// Being imported.
        Importing => "importing",
        /// Ready.
        Active => "active" | "Succeeded",
        /// Disabled by an administrator.
        Deactivated => "deactivated",
        /// Being deleted.
        Deleting => "pending_delete" | "deleting",
        /// Gone.
        Deleted => "deleted",
        /// Failed.
        Error => "killed" | "error" | "Failed",
    }
);

status_enum!(
    /// Who may use an image.
    Visibility {
        /// Everyone.
        Public => "public",
        /// The owner only.
        Private => "private",
        /// The owner and explicit members.
        Shared => "shared",
        /// Everyone, listed on request.
        Community => "community",
    }
);

/// Where an image lives and whether it can be used elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLocality {
    /// The store it is bound to: a datastore, content library, region or gallery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<String>,
    /// Whether other environments can use it as it is. VMware images never can: they
    /// are bound to the vCenter datastore.
    pub shareable: bool,
}

impl Default for ImageLocality {
    fn default() -> Self {
        ImageLocality {
            bound_to: None,
            shareable: true,
        }
    }
}

/// An image servers can boot from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Id.
    pub id: ImageId,
    /// Name.
    pub name: String,
    /// State.
    pub status: ImageStatus,
    /// Disk format (`qcow2`, `raw`, `vmdk`, `vhd`, `ova`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_format: Option<String>,
    /// Container format (`bare`, `ova`, `ovf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_format: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Checksum of the data, as the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Who may use it.
    pub visibility: Visibility,
    /// Minimum root disk in GiB.
    #[serde(default)]
    pub min_disk_gib: u64,
    /// Minimum memory in MiB.
    #[serde(default)]
    pub min_ram_mib: u64,
    /// Operating-system family (`linux`, `windows`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// Where it lives and whether it can travel.
    pub locality: ImageLocality,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Properties.
    #[serde(default)]
    pub properties: Metadata,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// A new image's description (the data comes separately).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateImage {
    /// Name.
    pub name: String,
    /// Disk format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_format: Option<String>,
    /// Container format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_format: Option<String>,
    /// Visibility (the provider's default when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Minimum root disk in GiB.
    #[serde(default)]
    pub min_disk_gib: u64,
    /// Minimum memory in MiB.
    #[serde(default)]
    pub min_ram_mib: u64,
    /// Operating-system family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Properties.
    #[serde(default)]
    pub properties: Metadata,
}

impl CreateImage {
    /// An image named `name` with disk and container formats.
    pub fn new(name: impl Into<String>, disk_format: &str, container_format: &str) -> Self {
        CreateImage {
            name: name.into(),
            disk_format: Some(disk_format.to_owned()),
            container_format: Some(container_format.to_owned()),
            ..CreateImage::default()
        }
    }
}
