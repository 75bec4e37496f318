//! Microsoft.Compute image calls: managed images and Azure Compute Gallery images.

use hybrid_core::Result;
use hybrid_http::Url;
use serde_json::Value;

use super::versions::{GALLERIES, IMAGES};
use super::{get, group_url, page, sub_url};
use crate::client::{ArmClient, RawPage};
use crate::ids::ResourceId;
use crate::lro::Lro;

const NS: &str = "Microsoft.Compute";

/// `GET …/images/{image}` (Images_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_image(arm: &ArmClient, image: &ResourceId) -> Result<Value> {
    get(arm, image, IMAGES, "get_image").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/images`
/// (Images_ListByResourceGroup), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_images(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "images", IMAGES),
        next,
        "list_images",
    )
    .await
}

/// `DELETE …/images/{image}` (Images_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn delete_image(arm: &ArmClient, image: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        image,
        IMAGES,
        "delete_image",
        format!("delete image {}", image.name()),
    )
    .await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/galleries`
/// (Galleries_ListByResourceGroup), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_galleries(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "galleries", GALLERIES),
        next,
        "list_images",
    )
    .await
}

/// `GET …/galleries/{gallery}` (Galleries_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_gallery(arm: &ArmClient, gallery: &ResourceId) -> Result<Value> {
    get(arm, gallery, GALLERIES, "get_image").await
}

/// `GET …/galleries/{gallery}/images` (GalleryImages_ListByGallery), or the page at
/// `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_gallery_images(
    arm: &ArmClient,
    gallery: &ResourceId,
    next: Option<Url>,
) -> Result<RawPage> {
    page(
        arm,
        sub_url(arm, gallery, "images", GALLERIES),
        next,
        "list_images",
    )
    .await
}

/// `GET …/galleries/{gallery}/images/{image}` (GalleryImages_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_gallery_image(arm: &ArmClient, definition: &ResourceId) -> Result<Value> {
    get(arm, definition, GALLERIES, "get_image").await
}

/// `GET …/galleries/{gallery}/images/{image}/versions`
/// (GalleryImageVersions_ListByGalleryImage), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_gallery_image_versions(
    arm: &ArmClient,
    definition: &ResourceId,
    next: Option<Url>,
) -> Result<RawPage> {
    page(
        arm,
        sub_url(arm, definition, "versions", GALLERIES),
        next,
        "list_images",
    )
    .await
}

/// `GET …/galleries/{gallery}/images/{image}/versions/{version}`
/// (GalleryImageVersions_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_gallery_image_version(arm: &ArmClient, version: &ResourceId) -> Result<Value> {
    get(arm, version, GALLERIES, "get_image").await
}

/// `DELETE …/galleries/{gallery}/images/{image}/versions/{version}`
/// (GalleryImageVersions_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn delete_gallery_image_version(arm: &ArmClient, version: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        version,
        GALLERIES,
        "delete_image",
        format!("delete image version {}", version.name()),
    )
    .await
}
