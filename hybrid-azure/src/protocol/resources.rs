//! Microsoft.Resources: resource groups and tags.

use serde::Deserialize;

use super::common::Tags;

/// A resource group.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// The ARM id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: ResourceGroupProperties,
}

/// Properties of a resource group.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupProperties {
    /// The provisioning state.
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// The tags of a resource (`{scope}/providers/Microsoft.Resources/tags/default`).
#[derive(Debug, Clone, Deserialize)]
pub struct TagsResource {
    /// Properties.
    #[serde(default)]
    pub properties: TagsProperties,
}

/// The tag set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagsProperties {
    /// Name → value.
    #[serde(default)]
    pub tags: Tags,
}
