//! `cloud.images`: list, get, create from bytes or a URL, download, delete.

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use hybrid::model::{CreateImage, Image, ImageId, Visibility};
use hybrid::{ImageData, ImagesExt, Provider};

use crate::errors::invalid_input;
use crate::listing::{fetchers, list_options, token, PageOut};
use crate::models::Model;
use crate::operation::{OpOut, Waiting};
use crate::rt::twins;

/// Images of one provider (`cloud.images`).
///
/// Conventions as `ComputeService`: blocking methods release the GIL and have asyncio twins
/// prefixed with `a`; lists are lazy; mutations wait unless `wait=False`. Each method
/// names the capability it requires; a missing one raises `UnsupportedError` with the
/// reason, without a request. On vSphere images are bound to their datastore
/// (`image.locality.shareable` is false).
#[pyclass(frozen, name = "ImageService", module = "hybrid")]
pub(crate) struct PyImages {
    pub(crate) p: Arc<dyn Provider>,
}

impl PyImages {
    fn provider(&self) -> Arc<dyn Provider> {
        self.p.clone()
    }
}

/// Downloaded bytes on their way to Python (`bytes`, not a list of ints).
pub(crate) struct BytesOut(Vec<u8>);

impl<'py> IntoPyObject<'py> for BytesOut {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.0))
    }
}

twins! {
    impl PyImages {
        /// One page of images. Requires `image.images`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_images_page / alist_images_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Image> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.images().list_images_page(&opts, token(page_token)).await?)) }
        }

        /// One image. Requires `image.images`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_image / aget_image (&self, _py, id: String) -> Model<Image> {
            let p = self.provider();
            async move { Ok(Model(p.images().get_image(&ImageId::new(id)).await?)) }
        }

        /// The image named exactly `name`, or `None`. Requires `image.images`.
        #[pyo3(signature = (name))]
        fn find_image / afind_image (&self, _py, name: String) -> Option<Model<Image>> {
            let p = self.provider();
            async move { Ok(p.images().find_image(&name).await?.map(Model)) }
        }

        /// Creates an image from `data` (bytes, uploaded; requires `image.upload`) or
        /// from `url` (imported by the service; requires `image.import_url`), exactly one
        /// of them, and returns it once active. Raises `InvalidInputError`,
        /// `QuotaExceededError`, `OperationFailedError` when the import fails.
        #[pyo3(signature = (name, *, data=None, url=None, disk_format=None, container_format=None, visibility=None, min_disk_gib=0, min_ram_mib=0, os_family=None, tags=None, properties=None, wait=true, timeout=None))]
        fn create_image / acreate_image (&self, py, name: String, data: Option<Vec<u8>>,
            url: Option<String>, disk_format: Option<String>, container_format: Option<String>,
            visibility: Option<String>, min_disk_gib: u64, min_ram_mib: u64,
            os_family: Option<String>, tags: Option<Vec<String>>,
            properties: Option<BTreeMap<String, String>>, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let source = match (data, url) {
                (Some(d), None) => ImageData::bytes(d),
                (None, Some(u)) => ImageData::Url(u),
                _ => return Err(invalid_input(py, "give exactly one of data (bytes) or url")),
            };
            let spec = CreateImage {
                name,
                disk_format,
                container_format,
                visibility: visibility.as_deref().map(Visibility::parse),
                min_disk_gib,
                min_ram_mib,
                os_family,
                tags: tags.unwrap_or_default(),
                properties: properties.unwrap_or_default(),
            };
            let p = self.provider();
            async move { waiting.finish(p.images().create_image(&spec, source).await?).await }
        }

        /// An image's data as `bytes`, refusing more than `max_bytes` (no limit when
        /// `None`). Requires `image.download`. Raises `NotFoundError`, `ConflictError`
        /// when it has no data yet, `InvalidResponseError` past `max_bytes`.
        #[pyo3(signature = (id, *, max_bytes=None))]
        fn download_image / adownload_image (&self, _py, id: String, max_bytes: Option<u64>) -> BytesOut {
            let p = self.provider();
            async move {
                Ok(BytesOut(
                    p.images()
                        .download_image_to_vec(&ImageId::new(id), max_bytes.unwrap_or(u64::MAX))
                        .await?,
                ))
            }
        }

        /// Deletes an image. Requires `image.images`. Raises `NotFoundError`,
        /// `ConflictError` while in use where the platform forbids that.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_image / adelete_image (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.images().delete_image(&ImageId::new(id)).await?).await }
        }

        lists {
            /// Images. Requires `image.images`.
            fn list_images / alist_images => images;
        }
        plain {
            fn __repr__(&self) -> String {
                format!("ImageService({})", self.p.info().name)
            }
        }
    }
}

fetchers! {
    impl PyImages {
        fn images => images.list_images_page;
    }
}
