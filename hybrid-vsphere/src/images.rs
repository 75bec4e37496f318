//! Images: VM templates (`config.template` true) and content-library items (see
//! [`crate::library`]), both bound to this vCenter (a template to its datastores, an
//! item to its library and the library's datastore) and never shareable with other
//! environments.
//!
//! Ids tell them apart: a template's id is its managed-object id (`vm-42`), an item's
//! is its UUID. Listing walks the templates (PropertyCollector pages), then the library
//! items (page tokens `t:<collector token>` and `l:<offset>`). Deleting a template
//! destroys it; deleting an item deletes it from its library. Creating and downloading
//! images goes through the content library.

use std::sync::Arc;

use hybrid_core::model::*;
use hybrid_core::paging::paginate_prefetch;
use hybrid_core::{
    async_trait, ByteStream, Error, Feature, ImageData, Images, ItemStream, ListOptions, Operation,
    Page, PageToken, Result,
};

use crate::api::vm::this_task;
use crate::compute::vm;
use crate::inventory::{image, is_template, VM_PATHS};
use crate::library::is_item_id;
use crate::provider::{Inner, VsphereProvider};
use crate::task;

pub(crate) async fn get(inner: &Inner, id: &str) -> Result<Image> {
    if is_item_id(id) && inner.caps().supports(Feature::ImageUpload) {
        return inner.library_item_image(id).await;
    }
    let o = inner.vm_object(id, true).await?;
    image(&o, &inner.vcenter_name(), &inner.facts().datastores)
}

fn bad_token() -> Error {
    Error::invalid_input("not an image page token of this provider")
}

async fn page(
    inner: Arc<Inner>,
    options: ListOptions,
    token: Option<PageToken>,
) -> Result<Page<Image>> {
    let library = inner.caps().supports(Feature::ImageUpload);
    let size = options.page_size.unwrap_or(inner.config.page_size).max(1) as usize;
    let phase = token.as_ref().map(|t| t.as_str().split_once(':'));
    let mut items = Vec::new();
    let next = match phase {
        None | Some(Some(("t", _))) => {
            let pc = match phase {
                Some(Some((_, t))) => Some(PageToken::new(t)),
                _ => None,
            };
            let (objs, next) = inner
                .page(
                    "VirtualMachine",
                    &[("VirtualMachine", VM_PATHS)],
                    options.page_size,
                    pc.as_ref(),
                )
                .await?;
            let vc = inner.vcenter_name();
            let ds = inner.facts().datastores.clone();
            for o in &objs {
                if is_template(o)? {
                    items.push(image(o, &vc, &ds)?);
                }
            }
            match next {
                Some(t) => Some(PageToken::new(format!("t:{}", t.as_str()))),
                None if library => Some(PageToken::new("l:0")),
                None => None,
            }
        }
        Some(Some(("l", offset))) => {
            if !library {
                return Err(bad_token());
            }
            let offset: usize = offset.parse().map_err(|_| bad_token())?;
            let (imgs, next) = inner.library_images(offset, size).await?;
            items = imgs;
            next.map(|n| PageToken::new(format!("l:{n}")))
        }
        _ => return Err(bad_token()),
    };
    items.retain(|i| options.matches(&i.name, &i.tags));
    Ok(Page::new(items, next))
}

#[async_trait]
impl Images for VsphereProvider {
    fn list_images(&self, options: ListOptions) -> ItemStream<Image> {
        let inner = self.inner.clone();
        // The next page's round trip overlaps the consumer's work on this one.
        paginate_prefetch(
            move |token| page(inner.clone(), options.clone(), token),
            None,
        )
    }

    async fn list_images_page(
        &self,
        options: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Image>> {
        page(self.inner.clone(), options.clone(), p).await
    }

    async fn get_image(&self, id: &ImageId) -> Result<Image> {
        get(&self.inner, id.as_str()).await
    }

    async fn create_image(&self, spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        self.core_create_image(spec, data).await
    }

    async fn download_image(&self, id: &ImageId) -> Result<ByteStream> {
        self.inner.caps().require(Feature::ImageDownload)?;
        if !is_item_id(id.as_str()) {
            // A template exists or not; either way it is no byte stream.
            self.inner.vm_object(id.as_str(), true).await?;
            return Err(Error::invalid_input(format!(
                "image {id} is a VM template; only content-library items can be downloaded (export the template to a library first)"
            )));
        }
        self.inner.download_item(id.as_str()).await
    }

    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
        if is_item_id(id.as_str()) && self.inner.caps().supports(Feature::ImageUpload) {
            crate::api::library::delete_item(&self.inner.vapi, id.as_str())
                .await
                .map_err(|e| {
                    if e.kind() == hybrid_core::ErrorKind::NotFound {
                        Error::not_found(format!("image {id}")).with_source(e)
                    } else {
                        e
                    }
                })?;
            return Ok(
                Operation::ready(format!("delete image {id}"), ()).with_resource(id.as_str())
            );
        }
        self.inner.vm_object(id.as_str(), true).await?;
        let t = this_task(&self.inner.session, "Destroy_Task", &vm(id.as_str())).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("delete image {id}"),
            t,
            task::done_unit(),
        )
        .with_resource(id.as_str()))
    }
}
