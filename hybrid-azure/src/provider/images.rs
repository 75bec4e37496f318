//! Images: managed images of the resource group, then the image versions of its Azure
//! Compute Galleries.

use async_trait::async_trait;
use hybrid_core::model::*;
use hybrid_core::provider::{ByteStream, ImageData, Images, ItemStream};
use hybrid_core::{Error, ListOptions, Operation, Page, PageToken, ReasonKind, Result};
use serde_json::{json, Value};

use super::{check_filters, make_page, sliced, AzureProvider, Cursor};
use crate::api;
use crate::capabilities::{NO_DOWNLOAD, NO_IMPORT_URL, NO_UPLOAD};
use crate::client::{decode, ArmClient, RawPage};
use crate::ids::{self, ResourceId};
use crate::lro;
use crate::protocol::images::{gallery_version_from, managed_image_from, Gallery, GalleryImage};

/// Listing source: managed images.
const MANAGED: u8 = 0;
/// Listing source: gallery image versions.
const GALLERY: u8 = 1;

/// Every image version of the galleries of one page of galleries, each wrapped with its
/// definition and gallery: `{"version", "definition", "gallery"}`.
async fn gallery_versions(arm: &ArmClient, next: Option<hybrid_http::Url>) -> Result<RawPage> {
    let galleries = api::images::list_galleries(arm, next).await?;
    let mut items = Vec::new();
    for g in &galleries.items {
        let gallery: Gallery = decode(g, "a gallery")?;
        let Some(gid) = ResourceId::parse(&gallery.id) else {
            continue;
        };
        let mut defs = Vec::new();
        let mut n = None;
        loop {
            let page = api::images::list_gallery_images(arm, &gid, n).await?;
            defs.extend(page.items);
            match page.next {
                Some(u) => n = Some(u),
                None => break,
            }
        }
        for d in defs {
            let def: GalleryImage = decode(&d, "a gallery image definition")?;
            let Some(did) = ResourceId::parse(&def.id) else {
                continue;
            };
            let mut n = None;
            loop {
                let page = api::images::list_gallery_image_versions(arm, &did, n).await?;
                for v in page.items {
                    items.push(json!({"version": v, "definition": d, "gallery": g}));
                }
                match page.next {
                    Some(u) => n = Some(u),
                    None => break,
                }
            }
        }
    }
    Ok(RawPage {
        items,
        next: galleries.next,
    })
}

fn wrapped_version(v: Value) -> Result<Image> {
    let def: Option<GalleryImage> = v
        .get("definition")
        .map(|d| decode(d, "a gallery image definition"))
        .transpose()?;
    let gal: Option<Gallery> = v
        .get("gallery")
        .map(|d| decode(d, "a gallery"))
        .transpose()?;
    let doc = v.get("version").cloned().unwrap_or(Value::Null);
    gallery_version_from(doc, def.as_ref(), gal.as_ref())
}

/// Which kind of image an id names.
enum ImageRef {
    Managed(ResourceId),
    Version(ResourceId),
}

impl AzureProvider {
    fn image_ref(&self, id: &ImageId) -> Result<ImageRef> {
        let s = id.as_str().trim();
        if s.starts_with('/') {
            let r = ResourceId::parse(s).ok_or_else(|| {
                Error::invalid_input(format!("{s:?} is not an Azure resource id"))
            })?;
            if r.is_type("Microsoft.Compute", &["images"]) {
                return Ok(ImageRef::Managed(r));
            }
            if r.is_type("Microsoft.Compute", &["galleries", "images", "versions"]) {
                return Ok(ImageRef::Version(r));
            }
            return Err(Error::invalid_input(format!(
                "{s} is a {}, not a managed image or gallery image version",
                r.resource_type()
            )));
        }
        if s.contains('/') {
            Ok(ImageRef::Version(ids::resolve_id(
                s,
                ids::GALLERY_IMAGE_VERSION,
                self.scope(),
            )?))
        } else {
            Ok(ImageRef::Managed(ids::resolve_id(
                s,
                ids::IMAGE,
                self.scope(),
            )?))
        }
    }

    async fn images_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Image>> {
        check_filters(options, &[], "images")?;
        let arm = self.arm_client().clone();
        let cursor = Cursor::decode(token.as_ref())?;
        let source = cursor.source;
        let (items, mut next) = match source {
            MANAGED => {
                sliced(cursor, options.page_size, |n| async move {
                    api::images::list_images(&arm, n).await
                })
                .await?
            }
            GALLERY => {
                sliced(cursor, options.page_size, |n| async move {
                    gallery_versions(&arm, n).await
                })
                .await?
            }
            other => {
                return Err(Error::invalid_input(format!(
                    "the page token names an unknown image source {other}"
                )))
            }
        };
        if source == MANAGED && next.is_none() {
            next = Some(Cursor {
                source: GALLERY,
                ..Cursor::default()
            });
        }
        let convert = if source == MANAGED {
            managed_image_from as fn(Value) -> Result<Image>
        } else {
            wrapped_version
        };
        make_page(items, next, convert, |i| options.matches(&i.name, &i.tags))
    }
}

#[async_trait]
impl Images for AzureProvider {
    fn list_images(&self, options: ListOptions) -> ItemStream<Image> {
        let p = self.clone();
        super::listing(move |t| {
            let p = p.clone();
            let o = options.clone();
            async move { p.images_page(&o, t).await }
        })
    }

    async fn list_images_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Image>> {
        self.images_page(options, page).await
    }

    async fn get_image(&self, id: &ImageId) -> Result<Image> {
        let arm = self.arm_client();
        match self.image_ref(id)? {
            ImageRef::Managed(r) => managed_image_from(api::images::get_image(arm, &r).await?),
            ImageRef::Version(r) => {
                let doc = api::images::get_gallery_image_version(arm, &r).await?;
                let def = match r.parent() {
                    Some(d) => Some(decode::<GalleryImage>(
                        &api::images::get_gallery_image(arm, &d).await?,
                        "a gallery image definition",
                    )?),
                    None => None,
                };
                let gal = match r.parent().and_then(|d| d.parent()) {
                    Some(g) => Some(decode::<Gallery>(
                        &api::images::get_gallery(arm, &g).await?,
                        "a gallery",
                    )?),
                    None => None,
                };
                gallery_version_from(doc, def.as_ref(), gal.as_ref())
            }
        }
    }

    async fn create_image(&self, _spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        Err(match data {
            ImageData::Upload { .. } => {
                self.unsupported("create_image", ReasonKind::NotImplemented, NO_UPLOAD)
            }
            ImageData::Url(_) => {
                self.unsupported("create_image", ReasonKind::NotImplemented, NO_IMPORT_URL)
            }
        })
    }

    async fn download_image(&self, _id: &ImageId) -> Result<ByteStream> {
        Err(self.unsupported("download_image", ReasonKind::NotImplemented, NO_DOWNLOAD))
    }

    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
        let arm = self.arm_client();
        let (r, lro) = match self.image_ref(id)? {
            ImageRef::Managed(r) => {
                let l = api::images::delete_image(arm, &r).await?;
                (r, l)
            }
            ImageRef::Version(r) => {
                let l = api::images::delete_gallery_image_version(arm, &r).await?;
                (r, l)
            }
        };
        Ok(
            lro::operation_unit(format!("delete image {}", r.name()), r.to_string(), lro)
                .with_options(self.inner.wait),
        )
    }
}
