//! Cinder calls (block storage v3), sent with the negotiated microversion. Paths are
//! relative to the catalog endpoint, which carries the project id.

use hybrid_core::{Page, PageToken, Result};
use hybrid_http::Method;
use serde_json::Value;

use super::{seg, unwrap_envelope, Api, Query};
use crate::session::Service::BlockStorage;

/// `GET /volumes/detail`: one page of volumes.
pub async fn list_volumes(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        BlockStorage,
        "volumes/detail",
        "volumes",
        "id",
        query,
        limit,
        marker,
        "list_volumes",
    )
    .await
}

/// `GET /volumes/{id}`.
pub async fn get_volume(api: &Api, id: &str) -> Result<Value> {
    let doc: Value = api
        .get(BlockStorage, &format!("volumes/{}", seg(id)), "get_volume")
        .await?;
    unwrap_envelope(doc, "volume")
}

/// `POST /volumes` (`202`): the volume, usually `creating`.
pub async fn create_volume(api: &Api, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            BlockStorage,
            Method::POST,
            "volumes",
            Some(body),
            "create_volume",
        )
        .await?;
    unwrap_envelope(doc, "volume")
}

/// `DELETE /volumes/{id}` (`202`).
pub async fn delete_volume(api: &Api, id: &str) -> Result<()> {
    api.send(
        BlockStorage,
        Method::DELETE,
        &format!("volumes/{}", seg(id)),
        None,
        "delete_volume",
    )
    .await
}

/// `POST /volumes/{id}/action` (`os-extend`, ...). `operation` names the call.
pub async fn volume_action(api: &Api, id: &str, body: &Value, operation: &str) -> Result<()> {
    api.send(
        BlockStorage,
        Method::POST,
        &format!("volumes/{}/action", seg(id)),
        Some(body),
        operation,
    )
    .await
}

/// `GET /snapshots/detail`: one page of snapshots.
pub async fn list_snapshots(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        BlockStorage,
        "snapshots/detail",
        "snapshots",
        "id",
        query,
        limit,
        marker,
        "list_snapshots",
    )
    .await
}

/// `GET /snapshots/{id}`.
pub async fn get_snapshot(api: &Api, id: &str) -> Result<Value> {
    let doc: Value = api
        .get(
            BlockStorage,
            &format!("snapshots/{}", seg(id)),
            "get_snapshot",
        )
        .await?;
    unwrap_envelope(doc, "snapshot")
}

/// `POST /snapshots` (`202`).
pub async fn create_snapshot(api: &Api, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            BlockStorage,
            Method::POST,
            "snapshots",
            Some(body),
            "create_snapshot",
        )
        .await?;
    unwrap_envelope(doc, "snapshot")
}

/// `DELETE /snapshots/{id}` (`202`).
pub async fn delete_snapshot(api: &Api, id: &str) -> Result<()> {
    api.send(
        BlockStorage,
        Method::DELETE,
        &format!("snapshots/{}", seg(id)),
        None,
        "delete_snapshot",
    )
    .await
}

/// `GET /types`: the volume types (raw documents).
pub async fn list_volume_types(api: &Api) -> Result<Vec<Value>> {
    let mut doc: Value = api.get(BlockStorage, "types", "list_volume_types").await?;
    match doc.get_mut("volume_types").map(Value::take) {
        Some(Value::Array(types)) => Ok(types),
        _ => Err(hybrid_core::Error::new(
            hybrid_core::ErrorKind::InvalidResponse,
            "the response has no `volume_types` array",
        )),
    }
}
