//! The `api` stratum: one function per ARM call, on an [`ArmClient`], returning ARM's
//! documents (`serde_json::Value`, decoded by [`crate::protocol`]), listing pages
//! ([`RawPage`], whose `next` is a checked `nextLink`; the VM listings keep each VM as
//! its JSON text, [`RawJson`]) or, for long-running calls, an [`Lro`] to follow. The provider composes these; they are public so that a caller can
//! make one exact ARM call the portable API does not cover.
//!
//! Every function names its call (`METHOD path`) and its `api-version`
//! ([`versions`]). Errors are those of [`ArmClient::execute`]: ARM's error body mapped to
//! a kind, with the HTTP status, `x-ms-request-id` and correlation id.
//!
//! ## What is sent again
//!
//! `hybrid-http` retries a `429` for every request (ARM refused it before acting on
//! it), after the `Retry-After` ARM asked for. It retries `408`, `5xx`, timeouts and
//! lost connections only for requests that are safe to repeat. Here that is:
//!
//! - every `GET`, `DELETE` and `PUT`. An ARM `PUT` is create-or-update with the whole
//!   desired state, idempotent by ARM's contract: a `PUT` whose answer was lost and
//!   that is sent again converges on the same resource (one VM, not two; the running
//!   operation is replaced by the new one). `hybrid-azure/tests/fault_matrix.rs`
//!   proves it with the fake's counts;
//! - the VM actions that converge on a state (`start`, `powerOff`, `deallocate`), a
//!   disk `PATCH` (absolute sizes and SKUs), a VM `PATCH` with `If-Match`, and a tags
//!   `Merge` or `Replace`;
//! - not `restart`, a VM `PATCH` without an etag, nor a tags `Delete`: those are sent
//!   once, and a `5xx` to them is an error that is not marked retryable (the work may
//!   have begun). When the attempts run out under a `429` storm, the error carries
//!   ARM's `Retry-After` ([`hybrid_core::Error::retry_after`]).

pub mod compute;
pub mod disks;
pub mod images;
pub mod network;
pub mod resources;

use hybrid_core::model::RawJson;
use hybrid_core::Result;
use hybrid_http::{Method, Url};
use serde_json::Value;

use crate::client::{ArmClient, RawPage};
use crate::ids::ResourceId;
use crate::lro::Lro;

/// The `api-version` of each resource type.
pub mod versions {
    /// `Microsoft.Resources/resourceGroups`.
    pub const RESOURCE_GROUPS: &str = "2021-04-01";
    /// `Microsoft.Resources/tags`.
    pub const TAGS: &str = "2021-04-01";
    /// `Microsoft.Compute/virtualMachines`.
    pub const VIRTUAL_MACHINES: &str = "2024-07-01";
    /// `Microsoft.Compute/locations/vmSizes`.
    pub const VM_SIZES: &str = "2024-07-01";
    /// `Microsoft.Compute/images`.
    pub const IMAGES: &str = "2024-07-01";
    /// `Microsoft.Compute/sshPublicKeys`.
    pub const SSH_PUBLIC_KEYS: &str = "2024-07-01";
    /// `Microsoft.Compute/disks`.
    pub const DISKS: &str = "2024-03-02";
    /// `Microsoft.Compute/snapshots`.
    pub const SNAPSHOTS: &str = "2024-03-02";
    /// `Microsoft.Compute/galleries` (and their images and versions).
    pub const GALLERIES: &str = "2023-07-03";
    /// `Microsoft.Network/virtualNetworks` (and subnets).
    pub const VIRTUAL_NETWORKS: &str = "2024-05-01";
    /// `Microsoft.Network/networkInterfaces`.
    pub const NETWORK_INTERFACES: &str = "2024-05-01";
    /// `Microsoft.Network/networkSecurityGroups` (and security rules).
    pub const NETWORK_SECURITY_GROUPS: &str = "2024-05-01";
    /// `Microsoft.Network/publicIPAddresses`.
    pub const PUBLIC_IP_ADDRESSES: &str = "2024-05-01";
}

/// `GET` a resource's document.
pub(crate) async fn get(
    arm: &ArmClient,
    id: &ResourceId,
    version: &str,
    op: &str,
) -> Result<Value> {
    arm.get_value(arm.resource_url(id, version), op).await
}

/// A listing page: `next` when continuing, else `first`.
pub(crate) async fn page(
    arm: &ArmClient,
    first: Url,
    next: Option<Url>,
    op: &str,
) -> Result<RawPage> {
    arm.list_page(next.unwrap_or(first), op).await
}

/// A listing page with each item as its JSON text: `next` when continuing, else
/// `first`.
pub(crate) async fn page_raw(
    arm: &ArmClient,
    first: Url,
    next: Option<Url>,
    op: &str,
) -> Result<RawPage<RawJson>> {
    arm.list_page_raw(next.unwrap_or(first), op).await
}

/// Sends a long-running request and starts following it.
pub(crate) async fn begin(
    arm: &ArmClient,
    method: Method,
    url: Url,
    body: Option<&Value>,
    op: &str,
    what: String,
    idempotent: Option<bool>,
) -> Result<Lro> {
    let resp = arm
        .execute(method.clone(), url.clone(), body, op, idempotent)
        .await?;
    let resource = {
        let mut u = url.clone();
        // a POST action's resource is the URL without the action
        if method == Method::POST {
            if let Ok(mut segs) = u.path_segments_mut() {
                segs.pop();
            }
        }
        u
    };
    Lro::start(arm, method, resource, resp, what).map_err(|e| e.with_operation(op))
}

/// `PUT` a resource and follow the operation.
pub(crate) async fn put(
    arm: &ArmClient,
    id: &ResourceId,
    version: &str,
    body: &Value,
    op: &str,
    what: String,
) -> Result<Lro> {
    begin(
        arm,
        Method::PUT,
        arm.resource_url(id, version),
        Some(body),
        op,
        what,
        None,
    )
    .await
}

/// `DELETE` a resource and follow the operation. ARM answers `204 No Content` when
/// the resource does not exist; that is `NotFound` here.
pub(crate) async fn delete(
    arm: &ArmClient,
    id: &ResourceId,
    version: &str,
    op: &str,
    what: String,
) -> Result<Lro> {
    let url = arm.resource_url(id, version);
    let resp = arm
        .execute(Method::DELETE, url.clone(), None, op, None)
        .await?;
    if resp.status == 204 {
        let mut e = hybrid_core::Error::new(
            hybrid_core::ErrorKind::NotFound,
            format!("{what}: there is no such resource ({id})"),
        )
        .with_http_status(204)
        .with_operation(op)
        .with_resource(id.to_string());
        if let Some(r) = &resp.request_id {
            e = e.with_request_id(r.clone());
        }
        return Err(e);
    }
    Lro::start(arm, Method::DELETE, url, resp, what).map_err(|e| e.with_operation(op))
}

/// The URL of `collection` (a resource type) in the scope's resource group.
pub(crate) fn group_url(arm: &ArmClient, namespace: &str, ty: &str, version: &str) -> Url {
    arm.group_collection_url(namespace, ty, version)
}

/// `{id}/{segment}?api-version={version}`: an action or view of a resource.
pub(crate) fn sub_url(arm: &ArmClient, id: &ResourceId, segment: &str, version: &str) -> Url {
    let mut url = id.url(arm.endpoint());
    if let Ok(mut s) = url.path_segments_mut() {
        s.push(segment);
    }
    url.query_pairs_mut().append_pair("api-version", version);
    url
}
