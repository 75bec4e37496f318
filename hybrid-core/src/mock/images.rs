//! Mock images: streamed uploads kept in memory, URL imports, chunked downloads.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::operation::{Operation, PollResult, Progress};
use crate::paging::{ListOptions, Page, PageToken};
use crate::provider::{ByteStream, ImageData, Images, ItemStream};

use super::state::{checksum, page_of, StoredImage, Transition};
use super::{mock_stream, poll_until, profiles, MockProvider};

/// Chunk size of mock downloads.
const CHUNK: usize = 64 * 1024;

/// Deterministic bytes for a URL import (the mock makes no network request).
fn import_bytes(url: &str, len: u64) -> Bytes {
    let mut seed = checksum(url.as_bytes()).into_bytes();
    seed.push(b'\n');
    Bytes::from(
        seed.iter()
            .copied()
            .cycle()
            .take(len as usize)
            .collect::<Vec<u8>>(),
    )
}

#[async_trait]
impl Images for MockProvider {
    fn list_images(&self, options: ListOptions) -> ItemStream<Image> {
        mock_stream!(self, options, list_images_page)
    }

    async fn list_images_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Image>> {
        self.enter("list_images").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.images,
            options,
            page.as_ref(),
            |i| options.matches(&i.image.name, &i.image.tags),
            |i| i.image.clone(),
        );
        Ok(Page::new(items, next))
    }

    async fn get_image(&self, id: &ImageId) -> Result<Image> {
        self.enter("get_image").await?;
        self.state()
            .images
            .get(id.as_str())
            .map(|i| i.image.clone())
            .ok_or_else(|| self.context(Error::not_found(format!("image {id}")), "get_image"))
    }

    async fn create_image(&self, spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        const OP: &str = "create_image";
        self.enter(OP).await?;
        if spec.name.trim().is_empty() {
            return Err(self.context(Error::invalid_input("an image needs a name"), OP));
        }
        let (bytes, status, delay) = match data {
            ImageData::Upload { mut stream, size } => {
                let mut buf = BytesMut::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| self.context(e, OP))?;
                    buf.extend_from_slice(&chunk);
                }
                if let Some(expected) = size {
                    if expected != buf.len() as u64 {
                        return Err(self.context(
                            Error::invalid_input(format!(
                                "the upload ended after {} bytes; {expected} were announced",
                                buf.len()
                            )),
                            OP,
                        ));
                    }
                }
                (buf.freeze(), ImageStatus::Saving, self.delays().action_ms)
            }
            ImageData::Url(url) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.context(
                        Error::invalid_input(format!(
                            "cannot import from {url:?}: only http and https URLs"
                        )),
                        OP,
                    ));
                }
                (
                    import_bytes(&url, self.delays().import_bytes),
                    ImageStatus::Importing,
                    self.delays().build_ms,
                )
            }
        };
        let at = self.after(delay);
        let mut st = self.state();
        let id = st.next_id("img");
        let locality = profiles::image_locality(st.profile, &st.region);
        let image = Image {
            id: ImageId::new(id.clone()),
            name: spec.name.clone(),
            status,
            disk_format: spec.disk_format.clone(),
            container_format: spec.container_format.clone(),
            size_bytes: Some(bytes.len() as u64),
            checksum: Some(checksum(&bytes)),
            visibility: spec.visibility.clone().unwrap_or(Visibility::Private),
            min_disk_gib: spec.min_disk_gib,
            min_ram_mib: spec.min_ram_mib,
            os_family: spec.os_family.clone(),
            locality,
            tags: spec.tags.clone(),
            properties: spec.properties.clone(),
            raw: None,
        };
        st.images.insert(
            id.clone(),
            StoredImage {
                image,
                data: Some(bytes),
            },
        );
        st.schedule(at, Transition::Image(id.clone(), ImageStatus::Active));
        drop(st);
        let me = self.clone();
        let iid = ImageId::new(id.clone());
        Ok(poll_until(
            format!("create image {}", spec.name),
            id,
            move || {
                let me = me.clone();
                let iid = iid.clone();
                async move {
                    let img = me.get_image(&iid).await?;
                    match img.status {
                        ImageStatus::Active => Ok(PollResult::Ready(img)),
                        ImageStatus::Error => Err(Error::new(
                            ErrorKind::OperationFailed,
                            format!("image {iid} failed"),
                        )),
                        s => Ok(PollResult::Pending(Progress::status(s.as_str()))),
                    }
                }
            },
        ))
    }

    async fn download_image(&self, id: &ImageId) -> Result<ByteStream> {
        const OP: &str = "download_image";
        self.enter(OP).await?;
        let st = self.state();
        let Some(img) = st.images.get(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("image {id}")), OP));
        };
        let data = match (&img.image.status, &img.data) {
            (ImageStatus::Active, Some(d)) => d.clone(),
            (s, _) => {
                return Err(self.context(
                    Error::new(
                        ErrorKind::Conflict,
                        format!("image {id} is {s}; it has no data to download yet"),
                    )
                    .with_http_status(409),
                    OP,
                ))
            }
        };
        let chunks: Vec<Result<Bytes>> = (0..data.len())
            .step_by(CHUNK)
            .map(|start| Ok(data.slice(start..(start + CHUNK).min(data.len()))))
            .collect();
        Ok(futures::stream::iter(chunks).boxed())
    }

    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
        const OP: &str = "delete_image";
        self.enter(OP).await?;
        let at = self.after(self.delays().delete_ms);
        let mut st = self.state();
        let Some(img) = st.images.get_mut(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("image {id}")), OP));
        };
        img.image.status = ImageStatus::Deleting;
        st.schedule(at, Transition::ImageGone(id.to_string()));
        drop(st);
        let me = self.clone();
        let iid = id.clone();
        Ok(poll_until(
            format!("delete image {id}"),
            id.to_string(),
            move || {
                let me = me.clone();
                let iid = iid.clone();
                async move {
                    match me.get_image(&iid).await {
                        Ok(i) => Ok(PollResult::Pending(Progress::status(i.status.as_str()))),
                        Err(e) if e.kind() == ErrorKind::NotFound => Ok(PollResult::Ready(())),
                        Err(e) => Err(e),
                    }
                }
            },
        ))
    }
}
