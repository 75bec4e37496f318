//! Glance (image v2): images and their locality.

use hybrid_core::model::{Image, ImageId, ImageLocality, ImageStatus, Metadata, Visibility};
use serde::Deserialize;

use super::nova::null_default;
use super::raw;

/// `{"images": [..], "next": "/v2/images?marker=.."}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageList {
    /// The images.
    pub images: Vec<GlanceImage>,
    /// The next page's path, when there is one.
    #[serde(default)]
    pub next: Option<String>,
}

/// An image as Glance sends it (properties are top-level keys).
#[derive(Debug, Clone, Deserialize)]
pub struct GlanceImage {
    /// Id.
    pub id: String,
    /// Name (may be `null`).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Status.
    pub status: String,
    /// Disk format.
    #[serde(default)]
    pub disk_format: Option<String>,
    /// Container format.
    #[serde(default)]
    pub container_format: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// MD5 checksum (legacy).
    #[serde(default)]
    pub checksum: Option<String>,
    /// Multihash algorithm.
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    /// Multihash value.
    #[serde(default)]
    pub os_hash_value: Option<String>,
    /// Visibility.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Minimum disk in GiB.
    #[serde(default, deserialize_with = "null_default")]
    pub min_disk: u64,
    /// Minimum memory in MiB.
    #[serde(default, deserialize_with = "null_default")]
    pub min_ram: u64,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Every other top-level key: image properties such as `os_type`, `vmware_*`,
    /// `hw_*` (string values only; others are in the raw document).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Keys that are facts of the image, not user properties.
const NOT_PROPERTIES: &[&str] = &[
    "self",
    "file",
    "schema",
    "created_at",
    "updated_at",
    "owner",
    "protected",
    "os_hidden",
    "virtual_size",
    "direct_url",
    "locations",
    "stores",
];

impl GlanceImage {
    /// The core model. `vmware_backed` marks a region whose Glance stores images in the
    /// VMware datastore: those images are bound to it and not shareable.
    pub fn into_core(
        self,
        region: Option<&str>,
        vmware_backed: bool,
        doc: Option<serde_json::Value>,
    ) -> Image {
        let mut properties = Metadata::new();
        for (k, v) in &self.other {
            if NOT_PROPERTIES.contains(&k.as_str()) {
                continue;
            }
            if let Some(s) = v.as_str() {
                properties.insert(k.clone(), s.to_owned());
            }
        }
        let is_vmdk = self.disk_format.as_deref() == Some("vmdk")
            || properties.keys().any(|k| k.starts_with("vmware_"));
        let locality = if vmware_backed {
            ImageLocality {
                bound_to: Some("vmware datastore store".into()),
                shareable: false,
            }
        } else {
            ImageLocality {
                bound_to: Some(format!("glance ({})", region.unwrap_or("default region"))),
                shareable: !is_vmdk,
            }
        };
        let checksum = match (&self.os_hash_algo, &self.os_hash_value) {
            (Some(a), Some(v)) => Some(format!("{a}:{v}")),
            _ => self.checksum.map(|c| format!("md5:{c}")),
        };
        Image {
            id: ImageId::new(self.id),
            name: self.name,
            status: ImageStatus::parse(&self.status),
            disk_format: self.disk_format,
            container_format: self.container_format,
            size_bytes: self.size,
            checksum,
            visibility: Visibility::parse(self.visibility.as_deref().unwrap_or("private")),
            min_disk_gib: self.min_disk,
            min_ram_mib: self.min_ram,
            os_family: properties.get("os_type").cloned(),
            locality,
            tags: self.tags,
            properties,
            raw: raw(doc),
        }
    }
}
