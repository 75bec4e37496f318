//! Microsoft.Compute images: managed images and Azure Compute Gallery image versions.

use hybrid_core::model::{Image, ImageId, ImageLocality, ImageStatus, RawDocument, Visibility};
use hybrid_core::Result;
use serde::Deserialize;
use serde_json::Value;

use super::common::{name_of, split_tags, Tags};
use crate::client::decode;
use crate::ids::ResourceId;

/// The core image state of an ARM provisioning state.
pub fn image_status(state: Option<&str>) -> ImageStatus {
    match state {
        None => ImageStatus::Active,
        Some(s) if s.eq_ignore_ascii_case("Creating") || s.eq_ignore_ascii_case("Updating") => {
            ImageStatus::Saving
        }
        Some(s) if s.eq_ignore_ascii_case("Deleting") => ImageStatus::Deleting,
        Some(s) => ImageStatus::parse(s),
    }
}

/// A managed image (`Microsoft.Compute/images`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedImage {
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
    /// Properties.
    #[serde(default)]
    pub properties: ManagedImageProperties,
}

/// Properties of a managed image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedImageProperties {
    /// Its disks.
    #[serde(default)]
    pub storage_profile: ImageStorageProfile,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
    /// `V1` or `V2`.
    #[serde(default)]
    pub hyper_v_generation: Option<String>,
}

/// The disks of a managed image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStorageProfile {
    /// The OS disk.
    #[serde(default)]
    pub os_disk: Option<ImageOsDisk>,
}

/// The OS disk of a managed image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOsDisk {
    /// `Linux` or `Windows`.
    #[serde(default)]
    pub os_type: Option<String>,
    /// `Generalized` or `Specialized`.
    #[serde(default)]
    pub os_state: Option<String>,
    /// Size in GiB.
    #[serde(default, rename = "diskSizeGB")]
    pub disk_size_gb: Option<u64>,
}

impl ManagedImage {
    /// The core image: private, bound to its region (a managed image is usable only in
    /// its own location).
    pub fn to_image(&self, raw: Value) -> Image {
        let (tags, properties, _) = split_tags(&self.tags);
        let os = self.properties.storage_profile.os_disk.as_ref();
        let size = os.and_then(|o| o.disk_size_gb);
        Image {
            id: ImageId::new(&self.id),
            name: name_of(&self.name, &self.id),
            status: image_status(self.properties.provisioning_state.as_deref()),
            disk_format: Some("vhd".into()),
            container_format: Some("bare".into()),
            size_bytes: size.map(|g| g * (1 << 30)),
            checksum: None,
            visibility: Visibility::Private,
            min_disk_gib: size.unwrap_or(0),
            min_ram_mib: 0,
            os_family: os
                .and_then(|o| o.os_type.as_deref())
                .map(str::to_ascii_lowercase),
            locality: ImageLocality {
                bound_to: self.location.as_ref().map(|l| format!("region {l}")),
                shareable: false,
            },
            tags,
            properties,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a managed image document.
///
/// # Errors
/// `InvalidResponse` when it is not an image document.
pub fn managed_image_from(doc: Value) -> Result<Image> {
    let i: ManagedImage = decode(&doc, "a managed image")?;
    Ok(i.to_image(doc))
}

/// An Azure Compute Gallery (`Microsoft.Compute/galleries`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gallery {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Properties.
    #[serde(default)]
    pub properties: GalleryProperties,
}

/// Properties of a gallery.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryProperties {
    /// Sharing: `{"permissions": "Private" | "Groups" | "Community"}`.
    #[serde(default)]
    pub sharing_profile: Option<SharingProfile>,
}

/// How a gallery is shared.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SharingProfile {
    /// `Private`, `Groups` or `Community`.
    #[serde(default)]
    pub permissions: Option<String>,
}

impl Gallery {
    /// Who may use the gallery's images.
    pub fn visibility(&self) -> Visibility {
        match self
            .properties
            .sharing_profile
            .as_ref()
            .and_then(|s| s.permissions.as_deref())
        {
            Some(p) if p.eq_ignore_ascii_case("Groups") => Visibility::Shared,
            Some(p) if p.eq_ignore_ascii_case("Community") => Visibility::Community,
            _ => Visibility::Private,
        }
    }
}

/// A gallery image definition (`galleries/images`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryImage {
    /// The ARM id.
    pub id: String,
    /// The name (the id's last segment when ARM leaves it out).
    #[serde(default)]
    pub name: String,
    /// Properties.
    #[serde(default)]
    pub properties: GalleryImageProperties,
}

/// Properties of an image definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryImageProperties {
    /// `Linux` or `Windows`.
    #[serde(default)]
    pub os_type: Option<String>,
    /// `Generalized` or `Specialized`.
    #[serde(default)]
    pub os_state: Option<String>,
}

/// A gallery image version (`galleries/images/versions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryImageVersion {
    /// The ARM id.
    pub id: String,
    /// The version, for example `1.0.0`.
    pub name: String,
    /// The location.
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: GalleryImageVersionProperties,
}

/// Properties of an image version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryImageVersionProperties {
    /// Replication.
    #[serde(default)]
    pub publishing_profile: Option<PublishingProfile>,
    /// Disks.
    #[serde(default)]
    pub storage_profile: GalleryStorageProfile,
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// Where an image version is replicated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishingProfile {
    /// The regions.
    #[serde(default)]
    pub target_regions: Vec<TargetRegion>,
    /// Whether `latest` skips it.
    #[serde(default)]
    pub exclude_from_latest: Option<bool>,
}

/// A replication region.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetRegion {
    /// The region.
    pub name: String,
    /// Replicas there.
    #[serde(default)]
    pub regional_replica_count: Option<u32>,
}

/// The disks of an image version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryStorageProfile {
    /// The OS disk image.
    #[serde(default)]
    pub os_disk_image: Option<GalleryDiskImage>,
}

/// A disk image of a version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryDiskImage {
    /// Size in GiB.
    #[serde(default, rename = "sizeInGB")]
    pub size_in_gb: Option<u64>,
}

impl GalleryImageVersion {
    /// The core image. Its name is `gallery/definition/version`; it is shareable (a
    /// gallery replicates it to its target regions, which `properties` lists as
    /// `target_regions`); `os_family` comes from the definition when known.
    pub fn to_image(
        &self,
        raw: Value,
        definition: Option<&GalleryImage>,
        gallery: Option<&Gallery>,
    ) -> Image {
        let (tags, mut properties, _) = split_tags(&self.tags);
        let parsed = ResourceId::parse(&self.id)
            .filter(|r| r.is_type("Microsoft.Compute", &["galleries", "images", "versions"]));
        let name = match &parsed {
            Some(r) => format!(
                "{}/{}/{}",
                r.name_at(0).unwrap_or(""),
                r.name_at(1).unwrap_or(""),
                r.name_at(2).unwrap_or("")
            ),
            None => name_of(&self.name, &self.id),
        };
        let regions: Vec<String> = self
            .properties
            .publishing_profile
            .as_ref()
            .map(|p| p.target_regions.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        if !regions.is_empty() {
            properties.insert("target_regions".into(), regions.join(","));
        }
        let size = self
            .properties
            .storage_profile
            .os_disk_image
            .as_ref()
            .and_then(|d| d.size_in_gb);
        let gallery_name = parsed
            .as_ref()
            .and_then(|r| r.name_at(0).map(str::to_owned))
            .or_else(|| gallery.map(|g| name_of(&g.name, &g.id)));
        Image {
            id: ImageId::new(&self.id),
            name,
            status: image_status(self.properties.provisioning_state.as_deref()),
            disk_format: Some("vhd".into()),
            container_format: Some("bare".into()),
            size_bytes: size.map(|g| g * (1 << 30)),
            checksum: None,
            visibility: gallery
                .map(Gallery::visibility)
                .unwrap_or(Visibility::Private),
            min_disk_gib: size.unwrap_or(0),
            min_ram_mib: 0,
            os_family: definition
                .and_then(|d| d.properties.os_type.as_deref())
                .map(str::to_ascii_lowercase),
            locality: ImageLocality {
                bound_to: gallery_name.map(|g| format!("gallery {g}")),
                shareable: true,
            },
            tags,
            properties,
            raw: Some(RawDocument::from_value(&raw)),
        }
    }
}

/// Decodes a gallery image version document.
///
/// # Errors
/// `InvalidResponse` when it is not an image version document.
pub fn gallery_version_from(
    doc: Value,
    definition: Option<&GalleryImage>,
    gallery: Option<&Gallery>,
) -> Result<Image> {
    let v: GalleryImageVersion = decode(&doc, "a gallery image version")?;
    Ok(v.to_image(doc, definition, gallery))
}
