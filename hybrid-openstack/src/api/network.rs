//! Neutron calls (network v2.0). Neutron's resources share one REST shape, so the
//! calls take the [`Resource`] they act on.

use hybrid_core::{Page, PageToken, Result};
use hybrid_http::Method;
use serde_json::Value;

use super::{seg, unwrap_envelope, Api, Query};
use crate::protocol::neutron::ExtensionList;
use crate::session::Service::Network;

/// A Neutron resource collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// The path below `v2.0/` (`security-groups`).
    pub path: &'static str,
    /// The key of one item (`security_group`).
    pub singular: &'static str,
    /// The key of a list (`security_groups`).
    pub plural: &'static str,
}

/// `networks`.
pub const NETWORKS: Resource = Resource {
    path: "networks",
    singular: "network",
    plural: "networks",
};
/// `subnets`.
pub const SUBNETS: Resource = Resource {
    path: "subnets",
    singular: "subnet",
    plural: "subnets",
};
/// `ports`.
pub const PORTS: Resource = Resource {
    path: "ports",
    singular: "port",
    plural: "ports",
};
/// `security-groups`.
pub const SECURITY_GROUPS: Resource = Resource {
    path: "security-groups",
    singular: "security_group",
    plural: "security_groups",
};
/// `security-group-rules`.
pub const SECURITY_GROUP_RULES: Resource = Resource {
    path: "security-group-rules",
    singular: "security_group_rule",
    plural: "security_group_rules",
};
/// `routers`.
pub const ROUTERS: Resource = Resource {
    path: "routers",
    singular: "router",
    plural: "routers",
};
/// `floatingips`.
pub const FLOATING_IPS: Resource = Resource {
    path: "floatingips",
    singular: "floatingip",
    plural: "floatingips",
};

fn op(verb: &str, r: &Resource) -> String {
    let noun = match r.singular {
        "floatingip" => "floating_ip",
        s => s,
    };
    match verb {
        "list" => format!("list_{noun}s"),
        v => format!("{v}_{noun}"),
    }
}

/// `GET /v2.0/{resource}` with field filters (`name`, `tags`, `network_id`, ...): one
/// page.
pub async fn list(
    api: &Api,
    r: &Resource,
    query: Query,
    limit: Option<u32>,
    marker: Option<PageToken>,
) -> Result<Page<Value>> {
    api.page(
        Network,
        r.path,
        r.plural,
        "id",
        query,
        limit,
        marker,
        &op("list", r),
    )
    .await
}

/// `GET /v2.0/{resource}/{id}`.
pub async fn get(api: &Api, r: &Resource, id: &str) -> Result<Value> {
    let doc: Value = api
        .get(Network, &format!("{}/{}", r.path, seg(id)), &op("get", r))
        .await?;
    unwrap_envelope(doc, r.singular)
}

/// `POST /v2.0/{resource}` with `{"<singular>": {..}}`: the created item (`201`).
pub async fn create(api: &Api, r: &Resource, body: &Value) -> Result<Value> {
    let doc = api
        .call(Network, Method::POST, r.path, Some(body), &op("create", r))
        .await?;
    unwrap_envelope(doc, r.singular)
}

/// `PUT /v2.0/{resource}/{id}` with `{"<singular>": {..}}`: the updated item.
pub async fn update(api: &Api, r: &Resource, id: &str, body: &Value) -> Result<Value> {
    let doc = api
        .call(
            Network,
            Method::PUT,
            &format!("{}/{}", r.path, seg(id)),
            Some(body),
            &op("update", r),
        )
        .await?;
    unwrap_envelope(doc, r.singular)
}

/// `DELETE /v2.0/{resource}/{id}` (`204`).
pub async fn delete(api: &Api, r: &Resource, id: &str) -> Result<()> {
    api.send(
        Network,
        Method::DELETE,
        &format!("{}/{}", r.path, seg(id)),
        None,
        &op("delete", r),
    )
    .await
}

/// `PUT /v2.0/routers/{id}/add_router_interface` with
/// [`requests::router_interface`](crate::protocol::requests::router_interface).
pub async fn add_router_interface(api: &Api, router: &str, body: &Value) -> Result<Value> {
    api.call(
        Network,
        Method::PUT,
        &format!("routers/{}/add_router_interface", seg(router)),
        Some(body),
        "add_router_interface",
    )
    .await
}

/// `PUT /v2.0/routers/{id}/remove_router_interface`.
pub async fn remove_router_interface(api: &Api, router: &str, body: &Value) -> Result<Value> {
    api.call(
        Network,
        Method::PUT,
        &format!("routers/{}/remove_router_interface", seg(router)),
        Some(body),
        "remove_router_interface",
    )
    .await
}

/// `GET /v2.0/extensions`.
pub async fn list_extensions(api: &Api) -> Result<ExtensionList> {
    api.get(Network, "extensions", "list_network_extensions")
        .await
}
