//! `Images` over Glance v2: records, streamed upload and download, and interoperable
//! import (`web-download`).

use async_trait::async_trait;
use hybrid_core::model::{CreateImage, Image, ImageId, ImageStatus};
use hybrid_core::provider::{ByteStream, ImageData, Images, ItemStream};
use hybrid_core::{ListOptions, Operation, Page, PageToken, Result};
use serde_json::Value;

use super::{convert_page, listing, poll_until, query, Dialect, Inner, OpenStackProvider, Step};
use crate::api::{self, image as glance};
use crate::protocol::glance::GlanceImage;
use crate::protocol::requests;

impl Inner {
    fn to_image(&self, v: Value) -> Result<Image> {
        let g: GlanceImage = api::decode(&v, "an image")?;
        Ok(g.into_core(self.region.as_deref(), self.facts.is_vmware(), Some(v)))
    }

    async fn image(&self, id: &str) -> Result<Image> {
        self.to_image(glance::get_image(&self.api, id).await?)
    }

    async fn images_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Image>> {
        let page = glance::list_images(
            &self.api,
            query(options, Dialect::Glance),
            options.page_size,
            token,
        )
        .await?;
        let page = convert_page(page, |v| self.to_image(v))?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|i| options.matches(&i.name, &i.tags))
                .collect(),
            page.next,
        ))
    }
}

/// Glance marks a failed interoperable import by putting the image back to `queued`
/// with the store in `os_glance_failed_import`.
fn failed_import(i: &Image) -> Option<String> {
    i.properties
        .get("os_glance_failed_import")
        .filter(|s| !s.trim().is_empty())
        .cloned()
}

#[async_trait]
impl Images for OpenStackProvider {
    fn list_images(&self, options: ListOptions) -> ItemStream<Image> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.images_page(&options, token).await }
        })
    }

    async fn list_images_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Image>> {
        self.inner.images_page(options, page).await
    }

    async fn get_image(&self, id: &ImageId) -> Result<Image> {
        self.inner.image(id.as_str()).await
    }

    /// Creates the record, then streams the upload (`PUT /v2/images/{id}/file`) or
    /// starts a `web-download` import. When the upload fails, the empty record is
    /// deleted (best effort) and the upload's error returned.
    async fn create_image(&self, spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        let created = self.inner.to_image(
            glance::create_image(&self.inner.api, &requests::create_image(spec)).await?,
        )?;
        let id = created.id.clone();
        let importing = matches!(data, ImageData::Url(_));
        let sent = match data {
            ImageData::Upload { stream, size } => {
                glance::upload_image_data(&self.inner.api, id.as_str(), stream, size).await
            }
            ImageData::Url(url) => {
                glance::import_image(
                    &self.inner.api,
                    id.as_str(),
                    &requests::import_web_download(&url),
                )
                .await
            }
        };
        if let Err(e) = sent {
            if let Err(cleanup) = glance::delete_image(&self.inner.api, id.as_str()).await {
                tracing::warn!(image = %id, error = %cleanup, "could not delete the image record after a failed upload");
            }
            return Err(e.with_resource(id.to_string()));
        }
        let inner = self.inner.clone();
        let iid = id.as_str().to_owned();
        Ok(poll_until(
            format!("{} image {id}", if importing { "import" } else { "upload" }),
            id.to_string(),
            move || {
                let inner = inner.clone();
                let iid = iid.clone();
                async move { inner.image(&iid).await }
            },
            move |i: &Image| match &i.status {
                ImageStatus::Active => Step::Done,
                ImageStatus::Error | ImageStatus::Deleted | ImageStatus::Deleting => {
                    Step::Failed(format!("image {} went to {}", i.id, i.status))
                }
                ImageStatus::Queued if importing => match failed_import(i) {
                    Some(stores) => Step::Failed(format!(
                        "Glance's import of image {} failed (stores: {stores})",
                        i.id
                    )),
                    None => Step::Pending("queued".into()),
                },
                s => Step::Pending(s.to_string()),
            },
        ))
    }

    async fn download_image(&self, id: &ImageId) -> Result<ByteStream> {
        glance::download_image_data(&self.inner.api, id.as_str()).await
    }

    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
        glance::delete_image(&self.inner.api, id.as_str()).await?;
        Ok(Operation::ready(format!("delete image {id}"), ()))
    }
}
