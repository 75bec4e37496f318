//! Glance calls (image v2). Uploads and downloads are streamed: no image is ever held
//! in memory whole.

use hybrid_core::provider::ByteStream;
use hybrid_core::{Error, ErrorKind, Page, PageToken, Result};
use hybrid_http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::{seg, Api, Query};
use crate::session::Service::Image;

/// `GET /v2/images`: one page of images (Glance pages by marker and says `next`).
pub async fn list_images(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        Image,
        "images",
        "images",
        "id",
        query,
        limit,
        marker,
        "list_images",
    )
    .await
}

/// `GET /v2/images/{id}`: the image (Glance sends it unwrapped).
pub async fn get_image(api: &Api, id: &str) -> Result<Value> {
    api.get(Image, &format!("images/{}", seg(id)), "get_image")
        .await
}

/// `POST /v2/images` (`201`): the image record, `queued`.
pub async fn create_image(api: &Api, body: &Value) -> Result<Value> {
    api.call(Image, Method::POST, "images", Some(body), "create_image")
        .await
}

/// `PUT /v2/images/{id}/file` (`204`) with the data streamed as
/// `application/octet-stream`. Sent once (a stream cannot be replayed).
pub async fn upload_image_data(
    api: &Api,
    id: &str,
    data: ByteStream,
    size: Option<u64>,
) -> Result<()> {
    api.request(
        Image,
        Method::PUT,
        &format!("images/{}/file", seg(id)),
        "upload_image",
    )
    .await?
    .body_stream(data, size, "application/octet-stream")
    .send()
    .await
    .map(drop)
}

/// `GET /v2/images/{id}/file`: the data as a stream. A `204` (no data yet) is
/// [`ErrorKind::Conflict`].
pub async fn download_image_data(api: &Api, id: &str) -> Result<ByteStream> {
    let resp = api
        .request(
            Image,
            Method::GET,
            &format!("images/{}/file", seg(id)),
            "download_image",
        )
        .await?
        .header("Accept", "application/octet-stream")
        .send()
        .await?;
    if resp.status() == StatusCode::NO_CONTENT {
        return Err(
            Error::new(ErrorKind::Conflict, format!("image {id} has no data yet"))
                .with_operation("download_image")
                .with_http_status(204),
        );
    }
    Ok(resp.bytes_stream())
}

/// `POST /v2/images/{id}/import` (`202`) with
/// [`requests::import_web_download`](crate::protocol::requests::import_web_download).
pub async fn import_image(api: &Api, id: &str, body: &Value) -> Result<()> {
    api.send(
        Image,
        Method::POST,
        &format!("images/{}/import", seg(id)),
        Some(body),
        "import_image",
    )
    .await
}

/// `DELETE /v2/images/{id}` (`204`).
pub async fn delete_image(api: &Api, id: &str) -> Result<()> {
    api.send(
        Image,
        Method::DELETE,
        &format!("images/{}", seg(id)),
        None,
        "delete_image",
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ImportInfo {
    #[serde(rename = "import-methods")]
    import_methods: ImportMethods,
}

#[derive(Debug, Deserialize)]
struct ImportMethods {
    #[serde(default)]
    value: Vec<String>,
}

/// `GET /v2/info/import`: the interoperable import methods offered
/// (`glance-direct`, `web-download`, ...).
pub async fn import_methods(api: &Api) -> Result<Vec<String>> {
    let info: ImportInfo = api.get(Image, "info/import", "image_import_info").await?;
    Ok(info.import_methods.value)
}

/// A Glance store.
#[derive(Debug, Clone, Deserialize)]
pub struct Store {
    /// Id.
    pub id: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it is the default store.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Deserialize)]
struct Stores {
    stores: Vec<Store>,
}

/// `GET /v2/info/stores` (multi-store deployments only; others answer `404`).
pub async fn list_stores(api: &Api) -> Result<Vec<Store>> {
    let s: Stores = api.get(Image, "info/stores", "image_stores").await?;
    Ok(s.stores)
}
