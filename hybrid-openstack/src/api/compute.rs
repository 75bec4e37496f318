//! Nova calls (compute v2.1), sent with the negotiated microversion.

use hybrid_core::model::{Metadata, RawJson};
use hybrid_core::{Page, PageToken, Result};
use hybrid_http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{seg, unwrap_envelope, Api, Query};
use crate::capabilities::Microversion;
use crate::protocol::nova::HypervisorList;
use crate::session::Service::Compute;

/// `GET /servers/detail`: one page of servers (raw documents).
pub async fn list_servers(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        Compute,
        "servers/detail",
        "servers",
        "id",
        query,
        limit,
        marker,
        "list_servers",
    )
    .await
}

/// `GET /servers/detail`: one page of servers, each kept as its JSON text (what the
/// provider's listing decodes; cheaper than [`list_servers`] when the caller decodes
/// each server itself).
pub async fn list_servers_raw(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<RawJson>> {
    api.page_raw(
        Compute,
        "servers/detail",
        "servers",
        "id",
        query,
        limit,
        marker,
        "list_servers",
    )
    .await
}

/// `GET /servers/{id}`: the server document.
pub async fn get_server(api: &Api, id: &str) -> Result<Value> {
    let doc: Value = api
        .get(Compute, &format!("servers/{}", seg(id)), "get_server")
        .await?;
    unwrap_envelope(doc, "server")
}

/// `POST /servers` with a body from
/// [`requests::create_server`](crate::protocol::requests::create_server): the
/// created server's reservation (`id`, `links`, maybe `adminPass`). Never re-sent on a
/// retryable error, since the server may already exist.
pub async fn create_server(api: &Api, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            Compute,
            Method::POST,
            "servers",
            Some(body),
            "create_server",
        )
        .await?;
    unwrap_envelope(doc, "server")
}

/// `DELETE /servers/{id}`.
pub async fn delete_server(api: &Api, id: &str) -> Result<()> {
    api.send(
        Compute,
        Method::DELETE,
        &format!("servers/{}", seg(id)),
        None,
        "delete_server",
    )
    .await
}

/// `POST /servers/{id}/action` with an action body (`os-start`, `os-stop`, `reboot`,
/// `resize`, `confirmResize`, ...). `operation` names the call in errors.
pub async fn server_action(api: &Api, id: &str, body: &Value, operation: &str) -> Result<()> {
    api.send(
        Compute,
        Method::POST,
        &format!("servers/{}/action", seg(id)),
        Some(body),
        operation,
    )
    .await
}

/// `GET /flavors/detail`: one page of flavors, with filters such as
/// `is_public=None` (every flavor the caller may use, private ones included).
pub async fn list_flavors(
    api: &Api,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        Compute,
        "flavors/detail",
        "flavors",
        "id",
        query,
        limit,
        marker,
        "list_flavors",
    )
    .await
}

/// `GET /flavors/{id}`.
pub async fn get_flavor(api: &Api, id: &str) -> Result<Value> {
    let doc: Value = api
        .get(Compute, &format!("flavors/{}", seg(id)), "get_flavor")
        .await?;
    unwrap_envelope(doc, "flavor")
}

/// `GET /os-keypairs`: one page of key pairs, each wrapped as `{"keypair": {..}}`.
/// Paging (`limit`, `marker`) exists from microversion 2.35; below it the whole list
/// is one page.
pub async fn list_key_pairs(
    api: &Api,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    let pages = api.negotiated().nova >= Microversion::new(2, 35);
    api.page(
        Compute,
        "os-keypairs",
        "keypairs",
        "name",
        Vec::new(),
        limit.filter(|_| pages),
        marker.filter(|_| pages),
        "list_key_pairs",
    )
    .await
}

/// `GET /os-keypairs/{name}`.
pub async fn get_key_pair(api: &Api, name: &str) -> Result<Value> {
    let doc: Value = api
        .get(
            Compute,
            &format!("os-keypairs/{}", seg(name)),
            "get_key_pair",
        )
        .await?;
    unwrap_envelope(doc, "keypair")
}

/// `POST /os-keypairs` (import with a public key).
pub async fn create_key_pair(api: &Api, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            Compute,
            Method::POST,
            "os-keypairs",
            Some(body),
            "create_key_pair",
        )
        .await?;
    unwrap_envelope(doc, "keypair")
}

/// `DELETE /os-keypairs/{name}`.
pub async fn delete_key_pair(api: &Api, name: &str) -> Result<()> {
    api.send(
        Compute,
        Method::DELETE,
        &format!("os-keypairs/{}", seg(name)),
        None,
        "delete_key_pair",
    )
    .await
}

#[derive(Deserialize)]
struct Tags {
    tags: Vec<String>,
}

/// `PUT /servers/{id}/tags` (2.26+): replaces every tag; returns the new set.
pub async fn replace_server_tags(api: &Api, id: &str, tags: &[String]) -> Result<Vec<String>> {
    let doc = api
        .call(
            Compute,
            Method::PUT,
            &format!("servers/{}/tags", seg(id)),
            Some(&json!({ "tags": tags })),
            "set_server_tags",
        )
        .await?;
    Ok(super::decode::<Tags>(&doc, "the tag list")?.tags)
}

/// `PUT /servers/{id}/tags/{tag}` (2.26+).
pub async fn add_server_tag(api: &Api, id: &str, tag: &str) -> Result<()> {
    api.send(
        Compute,
        Method::PUT,
        &format!("servers/{}/tags/{}", seg(id), seg(tag)),
        None,
        "add_server_tag",
    )
    .await
}

/// `DELETE /servers/{id}/tags/{tag}` (2.26+).
pub async fn delete_server_tag(api: &Api, id: &str, tag: &str) -> Result<()> {
    api.send(
        Compute,
        Method::DELETE,
        &format!("servers/{}/tags/{}", seg(id), seg(tag)),
        None,
        "remove_server_tag",
    )
    .await
}

#[derive(Deserialize)]
struct MetadataDoc {
    metadata: Metadata,
}

/// `POST /servers/{id}/metadata`: merges entries; returns all of them.
pub async fn merge_server_metadata(api: &Api, id: &str, metadata: &Metadata) -> Result<Metadata> {
    let doc = api
        .call(
            Compute,
            Method::POST,
            &format!("servers/{}/metadata", seg(id)),
            Some(&crate::protocol::requests::merge_metadata(metadata)),
            "set_server_metadata",
        )
        .await?;
    Ok(super::decode::<MetadataDoc>(&doc, "the metadata")?.metadata)
}

/// `DELETE /servers/{id}/metadata/{key}`.
pub async fn delete_server_metadata_item(api: &Api, id: &str, key: &str) -> Result<()> {
    api.send(
        Compute,
        Method::DELETE,
        &format!("servers/{}/metadata/{}", seg(id), seg(key)),
        None,
        "delete_server_metadata",
    )
    .await
}

/// `POST /servers/{id}/os-volume_attachments`: the attachment document
/// (`id`, `serverId`, `volumeId`, `device`).
pub async fn attach_volume(api: &Api, server: &str, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            Compute,
            Method::POST,
            &format!("servers/{}/os-volume_attachments", seg(server)),
            Some(body),
            "attach_volume",
        )
        .await?;
    unwrap_envelope(doc, "volumeAttachment")
}

/// `DELETE /servers/{id}/os-volume_attachments/{volume_id}`.
pub async fn detach_volume(api: &Api, server: &str, volume: &str) -> Result<()> {
    api.send(
        Compute,
        Method::DELETE,
        &format!(
            "servers/{}/os-volume_attachments/{}",
            seg(server),
            seg(volume)
        ),
        None,
        "detach_volume",
    )
    .await
}

/// `GET /os-hypervisors/detail`, every page (`hypervisors_links`, 2.33+), usually
/// admin-only: a `403` means the policy hides them.
pub async fn list_hypervisors(api: &Api) -> Result<HypervisorList> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = api
            .page(
                Compute,
                "os-hypervisors/detail",
                "hypervisors",
                "id",
                Vec::new(),
                None,
                token,
                "list_hypervisors",
            )
            .await?;
        for v in &page.items {
            all.push(super::decode(v, "a hypervisor")?);
        }
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(HypervisorList { hypervisors: all })
}
