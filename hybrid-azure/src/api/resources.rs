//! Microsoft.Resources calls: resource groups and tags.

use hybrid_core::Result;
use hybrid_http::{Method, Url};
use serde_json::{json, Value};

use super::begin;
use super::versions::{RESOURCE_GROUPS, TAGS};
use crate::client::ArmClient;
use crate::ids::ResourceId;
use crate::lro::Lro;
use crate::protocol::common::Tags;

/// `GET /subscriptions/{s}/resourcegroups/{g}` (ResourceGroups_Get) of the scope's
/// resource group.
///
/// # Errors
/// `NotFound` when the group does not exist; `Unauthenticated`, `PermissionDenied`; as
/// [`ArmClient::execute`].
pub async fn get_resource_group(arm: &ArmClient) -> Result<Value> {
    let s = arm.scope();
    let url = arm.url(
        &[
            "subscriptions",
            &s.subscription_id,
            "resourcegroups",
            &s.resource_group,
        ],
        RESOURCE_GROUPS,
    );
    arm.get_value(url, "check").await
}

/// How [`update_tags`] changes a resource's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagsOperation {
    /// Adds tags, overwriting the values of tags of the same names.
    Merge,
    /// Deletes the given tags (by name and value).
    Delete,
    /// Replaces the whole set.
    Replace,
}

impl TagsOperation {
    /// ARM's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TagsOperation::Merge => "Merge",
            TagsOperation::Delete => "Delete",
            TagsOperation::Replace => "Replace",
        }
    }
}

/// The URL of a resource's tags: `{id}/providers/Microsoft.Resources/tags/default`.
pub fn tags_url(arm: &ArmClient, resource: &ResourceId) -> Url {
    let mut url = resource.url(arm.endpoint());
    if let Ok(mut s) = url.path_segments_mut() {
        s.extend(["providers", "Microsoft.Resources", "tags", "default"]);
    }
    url.query_pairs_mut().append_pair("api-version", TAGS);
    url
}

/// `PATCH {id}/providers/Microsoft.Resources/tags/default` (Tags_UpdateAtScope) with
/// `{"operation": …, "properties": {"tags": …}}`: changes some tags of a resource
/// without touching the others, followed as an LRO.
///
/// # Errors
/// `NotFound` when the resource does not exist; `InvalidInput` for invalid tags; as
/// [`ArmClient::execute`].
pub async fn update_tags(
    arm: &ArmClient,
    resource: &ResourceId,
    operation: TagsOperation,
    tags: &Tags,
    op: &str,
) -> Result<Lro> {
    let body = json!({"operation": operation.as_str(), "properties": {"tags": tags}});
    begin(
        arm,
        Method::PATCH,
        tags_url(arm, resource),
        Some(&body),
        op,
        format!("update the tags of {}", resource.name()),
        Some(operation != TagsOperation::Delete),
    )
    .await
}

/// `GET {id}/providers/Microsoft.Resources/tags/default` (Tags_GetAtScope).
///
/// # Errors
/// `NotFound` when the resource does not exist; as [`ArmClient::execute`].
pub async fn get_tags(arm: &ArmClient, resource: &ResourceId) -> Result<Value> {
    arm.get_value(tags_url(arm, resource), "get_tags").await
}
