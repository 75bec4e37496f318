//! Images: VM templates (`config.template` true), bound to their datastores on this
//! vCenter and never shareable with other environments. Deleting an image destroys the
//! template. Creating and downloading images (content library) is not implemented yet.

use std::sync::Arc;

use hybrid_core::model::*;
use hybrid_core::paging::paginate;
use hybrid_core::{
    async_trait, ByteStream, Feature, ImageData, Images, ItemStream, ListOptions, Operation, Page,
    PageToken, Result,
};

use crate::api::vm::this_task;
use crate::compute::vm;
use crate::inventory::{image, is_template, VM_PATHS};
use crate::provider::{Inner, VsphereProvider};
use crate::task;

fn vcenter_name(inner: &Inner) -> String {
    let about = &inner.session.content.about;
    let host = url::Url::parse(&inner.config.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    match &about.instance_uuid {
        Some(u) if !u.is_empty() => format!("{host} ({u})"),
        _ => host,
    }
}

pub(crate) async fn get(inner: &Inner, id: &str) -> Result<Image> {
    let o = inner.vm_object(id, true).await?;
    image(&o, &vcenter_name(inner), &inner.facts().datastores)
}

async fn page(
    inner: Arc<Inner>,
    options: ListOptions,
    token: Option<PageToken>,
) -> Result<Page<Image>> {
    let (objs, next) = inner
        .page(
            "VirtualMachine",
            &[("VirtualMachine", VM_PATHS)],
            options.page_size,
            token.as_ref(),
        )
        .await?;
    let vc = vcenter_name(&inner);
    let ds = inner.facts().datastores.clone();
    let mut items = Vec::new();
    for o in &objs {
        if !is_template(o)? {
            continue;
        }
        let i = image(o, &vc, &ds)?;
        if options.matches(&i.name, &i.tags) {
            items.push(i);
        }
    }
    Ok(Page::new(items, next))
}

#[async_trait]
impl Images for VsphereProvider {
    fn list_images(&self, options: ListOptions) -> ItemStream<Image> {
        let inner = self.inner.clone();
        paginate(move |token| page(inner.clone(), options.clone(), token))
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

    async fn create_image(&self, _spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        Err(match data {
            ImageData::Upload { .. } => self.unsupported(Feature::ImageUpload),
            ImageData::Url(_) => self.unsupported(Feature::ImageImportUrl),
        })
    }

    async fn download_image(&self, _id: &ImageId) -> Result<ByteStream> {
        Err(self.unsupported(Feature::ImageDownload))
    }

    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
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
