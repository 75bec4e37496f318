//! vSphere Automation (vAPI) REST wire types: sessions, tagging, content library,
//! update and download sessions, OVF deployment, and vAPI error bodies.
//!
//! Both path flavours use the same documents; they differ in the envelope: `/api`
//! (vSphere 7.0U2+) sends and answers bare documents, the older `/rest` wraps request
//! bodies in a named field (`{"create_spec": …}`) and answers in `{"value": …}`, and
//! writes maps as `[{"key": …, "value": …}]` lists.
//!
//! Readers are lenient where vCenters differ without meaning anything different: an
//! absent or `null` list is an empty list (vcsim writes `null` for empty lists), and
//! unknown fields are ignored. Enumerations stay strings, so a value a newer vCenter
//! adds is kept, never a decoding error.

use serde::{Deserialize, Deserializer, Serialize};

/// Which vAPI path flavour a vCenter answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// `/api/...` (vSphere 7.0 U2 and later).
    Api,
    /// `/rest/...` (vSphere 6.5 to 8; what vcsim answers).
    Rest,
}

impl Flavour {
    /// `/api` or `/rest`.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Flavour::Api => "/api",
            Flavour::Rest => "/rest",
        }
    }
}

/// A `null` or absent list read as an empty one.
pub(crate) fn null_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A `null` or absent string read as an empty one.
pub(crate) fn null_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The `{"value": …}` envelope of `/rest` answers.
#[derive(Debug, Deserialize)]
pub(crate) struct Wrapped<T> {
    #[serde(default = "Option::default")]
    pub(crate) value: Option<T>,
}

/// A message of a vAPI error or result (`vapi.std.localizable_message`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LocalizableMessage {
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) id: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) default_message: String,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) args: Vec<String>,
}

/// A vSphere object a tag is attached to (`vapi.std.dynamic_ID`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct DynamicId {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) id: String,
}

/// `cis.tagging.category_model`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CategoryModel {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) description: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) cardinality: String,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) associable_types: Vec<String>,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) used_by: Vec<String>,
}

/// `cis.tagging.category.create_spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CategoryCreateSpec {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) cardinality: String,
    pub(crate) associable_types: Vec<String>,
}

/// `cis.tagging.tag_model`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct TagModel {
    pub(crate) id: String,
    pub(crate) category_id: String,
    pub(crate) name: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) description: String,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) used_by: Vec<String>,
}

/// `cis.tagging.tag.create_spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TagCreateSpec {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) category_id: String,
}

/// `cis.tagging.tag_association.object_to_tags`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ObjectToTags {
    pub(crate) object_id: DynamicId,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) tag_ids: Vec<String>,
}

/// `content.library.storage_backing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StorageBacking {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) datastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) storage_uri: Option<String>,
}

/// `content.library_model` (what is read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct LibraryModel {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(rename = "type", default, deserialize_with = "null_string")]
    pub(crate) kind: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) description: String,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) storage_backings: Vec<StorageBacking>,
}

/// `content.library.publish_info` of a library that is not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PublishInfo {
    pub(crate) authentication_method: String,
    pub(crate) published: bool,
}

/// `content.library_model` as sent to create a local library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LocalLibraryCreateSpec {
    pub(crate) name: String,
    pub(crate) description: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) storage_backings: Vec<StorageBacking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) publish_info: Option<PublishInfo>,
}

/// `content.library.item_model` (what is read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ItemModel {
    pub(crate) id: String,
    pub(crate) library_id: String,
    pub(crate) name: String,
    #[serde(rename = "type", default, deserialize_with = "null_string")]
    pub(crate) kind: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
    #[serde(default)]
    pub(crate) cached: Option<bool>,
    #[serde(default)]
    pub(crate) creation_time: Option<String>,
    #[serde(default)]
    pub(crate) content_version: Option<String>,
}

/// `content.library.item_model` as sent to create an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ItemCreateSpec {
    pub(crate) library_id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    /// Absent for a generic item (plain files).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
}

/// `content.library.item.file_model`: a file of an item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ItemFile {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
    #[serde(default)]
    pub(crate) cached: Option<bool>,
    #[serde(default)]
    pub(crate) version: Option<String>,
}

/// `content.library.item.update_session_model` (and `download_session_model`) as sent
/// to create a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UpdateSessionCreateSpec {
    pub(crate) library_item_id: String,
}

/// `content.library.item.update_session_model` (what is read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct UpdateSessionModel {
    pub(crate) id: String,
    pub(crate) library_item_id: String,
    /// `ACTIVE`, `DONE`, `ERROR`, `CANCELED`.
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) error_message: Option<LocalizableMessage>,
    #[serde(default)]
    pub(crate) client_progress: Option<i64>,
}

/// `content.library.item.transfer_endpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TransferEndpoint {
    pub(crate) uri: String,
}

/// `content.library.item.updatesession.file.add_spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileAddSpec {
    pub(crate) name: String,
    /// `PUSH` (the client uploads) or `PULL` (the vCenter fetches `source_endpoint`).
    pub(crate) source_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source_endpoint: Option<TransferEndpoint>,
}

/// `content.library.item.updatesession.file.info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct UpdateFileInfo {
    pub(crate) name: String,
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) source_type: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
    /// `WAITING_FOR_TRANSFER`, `TRANSFERRING`, `READY`, `VALIDATING`, `ERROR`.
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) upload_endpoint: Option<TransferEndpoint>,
    #[serde(default)]
    pub(crate) bytes_transferred: Option<u64>,
    #[serde(default)]
    pub(crate) error_message: Option<LocalizableMessage>,
}

/// `content.library.item.updatesession.file.validation_error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ValidationError {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) error_message: Option<LocalizableMessage>,
}

/// `content.library.item.updatesession.file.validation_result`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ValidationResult {
    pub(crate) has_errors: bool,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) missing_files: Vec<String>,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) invalid_files: Vec<ValidationError>,
}

/// `content.library.item.downloadsession.file.info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct DownloadFileInfo {
    pub(crate) name: String,
    /// `UNPREPARED`, `PREPARE_REQUESTED`, `PREPARING`, `PREPARED`, `ERROR`.
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
    #[serde(default)]
    pub(crate) download_endpoint: Option<TransferEndpoint>,
    #[serde(default)]
    pub(crate) error_message: Option<LocalizableMessage>,
}

/// `vcenter.ovf.library_item.deployment_target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeploymentTarget {
    pub(crate) resource_pool_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) folder_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) host_id: Option<String>,
}

/// One entry of a `/rest` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MapEntry {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// `vcenter.ovf.library_item.resource_pool_deployment_spec`, with the network
/// mappings already in the flavour's shape (an object for `/api`, a list of
/// [`MapEntry`] for `/rest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) annotation: Option<String>,
    #[serde(rename = "accept_all_EULA")]
    pub(crate) accept_all_eula: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) network_mappings: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) storage_provisioning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_datastore_id: Option<String>,
}

/// The body of `…/ovf/library-item/{id}?action=deploy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeployRequest {
    pub(crate) target: DeploymentTarget,
    pub(crate) deployment_spec: DeploymentSpec,
}

/// The body of `…/ovf/library-item/{id}?action=filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FilterRequest {
    pub(crate) target: DeploymentTarget,
}

/// `vcenter.ovf.library_item.ovf_summary` (what is read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct OvfSummary {
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) name: String,
    /// The OVF's network names. vcsim 0.24.2 spells the field `Networks`.
    #[serde(default, alias = "Networks", deserialize_with = "null_list")]
    pub(crate) networks: Vec<String>,
    #[serde(default, alias = "EULAs", deserialize_with = "null_list")]
    pub(crate) eulas: Vec<String>,
}

/// `vcenter.ovf.library_item.deployable_identity`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ResourceId {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) id: String,
}

/// One entry of a deployment's `errors`, `warnings` or `information`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct OvfMessage {
    #[serde(default, deserialize_with = "null_string")]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) error: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) message: Option<LocalizableMessage>,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) messages: Vec<LocalizableMessage>,
}

impl OvfMessage {
    /// The human text of this entry.
    pub(crate) fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(m) = &self.message {
            if !m.default_message.is_empty() {
                parts.push(m.default_message.clone());
            }
        }
        parts.extend(
            self.messages
                .iter()
                .filter(|m| !m.default_message.is_empty())
                .map(|m| m.default_message.clone()),
        );
        if let Some(e) = &self.error {
            if let Some(ms) = e.get("messages").and_then(|m| m.as_array()) {
                parts.extend(
                    ms.iter()
                        .filter_map(|m| m.get("default_message").and_then(|d| d.as_str()))
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        if parts.is_empty() {
            self.category.clone()
        } else {
            parts.join("; ")
        }
    }
}

/// `vcenter.ovf.library_item.result_info`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ResultInfo {
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) errors: Vec<OvfMessage>,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) warnings: Vec<OvfMessage>,
    #[serde(default, deserialize_with = "null_list")]
    pub(crate) information: Vec<OvfMessage>,
}

/// `vcenter.ovf.library_item.deployment_result`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct DeploymentResult {
    #[serde(default)]
    pub(crate) succeeded: bool,
    #[serde(default)]
    pub(crate) resource_id: Option<ResourceId>,
    #[serde(default)]
    pub(crate) error: Option<ResultInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_empty_lists_and_unknown_fields_are_ignored() {
        let v: Wrapped<Vec<ObjectToTags>> = serde_json::from_str(
            r#"{"value":[{"object_id":{"type":"VirtualMachine","id":"vm-1"},"tag_ids":null,"new":1}]}"#,
        )
        .unwrap();
        let v = v.value.unwrap();
        assert_eq!(v[0].object_id.id, "vm-1");
        assert!(v[0].tag_ids.is_empty());
        let empty: Wrapped<Vec<String>> = serde_json::from_str(r#"{"value":null}"#).unwrap();
        assert!(empty.value.is_none());
        let c: CategoryModel = serde_json::from_str(
            r#"{"id":"c","name":"n","cardinality":"SOMETHING_NEW","associable_types":null}"#,
        )
        .unwrap();
        assert_eq!(c.cardinality, "SOMETHING_NEW");
    }

    #[test]
    fn deployment_errors_have_text() {
        let r: DeploymentResult = serde_json::from_str(
            r#"{"succeeded":false,"error":{"errors":[{"category":"SERVER","error":{"@class":"com.vmware.vapi.std.errors.error","messages":[{"default_message":"no ovf"}]}}]}}"#,
        )
        .unwrap();
        assert!(!r.succeeded);
        assert_eq!(r.error.unwrap().errors[0].text(), "no ovf");
        let s: OvfSummary =
            serde_json::from_str(r#"{"name":"x","Networks":["VM Network"]}"#).unwrap();
        assert_eq!(s.networks, vec!["VM Network".to_owned()]);
    }
}
