//! vSphere tags (vAPI tagging) and the core's server tags.
//!
//! **Convention.** A core server tag `web` is the vSphere tag named `web` in the
//! category [`VsphereConfig::tag_category`](crate::VsphereConfig::tag_category)
//! (default `hybrid`), attached to the VM. The category is created on demand the first
//! time a tag is set (cardinality `MULTIPLE`, associable with `VirtualMachine`), and a
//! tag the first time it is used. A server's core `tags` are the names of its tags in
//! that category, sorted; tags of other categories are left alone by `set_server_tags`
//! and not reported as server tags. Every vSphere tag, of any category, is reachable
//! through the tagging extras on [`VsphereProvider`].
//!
//! **Cost.** Listing servers reads the tags of a whole page in one
//! `list-attached-tags-on-objects` call, never one call per VM; the category's tag names
//! are cached (refreshed when an unknown tag id shows up).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hybrid_core::model::{Server, ServerId};
use hybrid_core::{Error, ErrorKind, Feature, Result};

use crate::api::tagging;
use crate::protocol::vapi::{
    CategoryCreateSpec, CategoryModel, DynamicId, TagCreateSpec, TagModel,
};
use crate::provider::{Inner, VsphereProvider};

/// How long "the server-tag category does not exist" is believed before asking again.
const ABSENT_FOR: Duration = Duration::from_secs(30);

/// The longest tag name vSphere accepts.
pub(crate) const MAX_TAG_NAME: usize = 256;

/// What is known about the server-tag category.
#[derive(Debug, Default)]
pub(crate) struct TagCache {
    category: Option<String>,
    absent_since: Option<Instant>,
    /// Tag id → name, for the tags of the category.
    names: HashMap<String, String>,
    /// Tag ids known to belong to other categories.
    foreign: HashSet<String>,
}

/// A vSphere tag category.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagCategory {
    /// The category id, for example `urn:vmomi:InventoryServiceCategory:…:GLOBAL`.
    pub id: String,
    /// The name, unique on the vCenter.
    pub name: String,
    /// The description.
    pub description: String,
    /// `SINGLE` (one tag of the category per object) or `MULTIPLE`.
    pub cardinality: String,
    /// The object types its tags can be attached to (empty: all).
    pub associable_types: Vec<String>,
}

impl From<CategoryModel> for TagCategory {
    fn from(c: CategoryModel) -> Self {
        TagCategory {
            id: c.id,
            name: c.name,
            description: c.description,
            cardinality: c.cardinality,
            associable_types: c.associable_types,
        }
    }
}

/// A vSphere tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VsphereTag {
    /// The tag id, for example `urn:vmomi:InventoryServiceTag:…:GLOBAL`.
    pub id: String,
    /// The category it belongs to.
    pub category_id: String,
    /// The name, unique within its category.
    pub name: String,
    /// The description.
    pub description: String,
}

impl From<TagModel> for VsphereTag {
    fn from(t: TagModel) -> Self {
        VsphereTag {
            id: t.id,
            category_id: t.category_id,
            name: t.name,
            description: t.description,
        }
    }
}

/// A vSphere object tags are attached to: a managed-object type and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TaggedObject {
    /// The managed-object type, for example `VirtualMachine`.
    pub kind: String,
    /// The managed-object id, for example `vm-42`.
    pub id: String,
}

impl TaggedObject {
    /// A VM (a core server or template).
    pub fn vm(id: impl Into<String>) -> TaggedObject {
        TaggedObject {
            kind: "VirtualMachine".to_owned(),
            id: id.into(),
        }
    }

    fn dynamic(&self) -> DynamicId {
        DynamicId {
            kind: self.kind.clone(),
            id: self.id.clone(),
        }
    }
}

pub(crate) fn check_tag(tag: &str) -> Result<()> {
    if tag.trim().is_empty() {
        return Err(Error::invalid_input("a tag must not be empty"));
    }
    if tag.chars().count() > MAX_TAG_NAME {
        return Err(Error::invalid_input(format!(
            "a vSphere tag name has at most {MAX_TAG_NAME} characters"
        )));
    }
    if tag.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            "a tag must not contain control characters",
        ));
    }
    Ok(())
}

impl Inner {
    /// The id of the server-tag category; created when `create` and it is missing.
    async fn server_category(&self, create: bool) -> Result<Option<String>> {
        let mut cache = self.tag_cache.lock().await;
        if let Some(id) = &cache.category {
            return Ok(Some(id.clone()));
        }
        if !create && cache.absent_since.is_some_and(|t| t.elapsed() < ABSENT_FOR) {
            return Ok(None);
        }
        let want = self.config.tag_category.as_str();
        let found = self.find_category(want).await?;
        let id = match (found, create) {
            (Some(id), _) => id,
            (None, false) => {
                cache.absent_since = Some(Instant::now());
                return Ok(None);
            }
            (None, true) => {
                let spec = CategoryCreateSpec {
                    name: want.to_owned(),
                    description: "server tags of hybrid (one tag per core tag string)".to_owned(),
                    cardinality: "MULTIPLE".to_owned(),
                    associable_types: vec!["VirtualMachine".to_owned()],
                };
                match tagging::create_category(&self.vapi, &spec).await {
                    Ok(id) => id,
                    // Someone else created it meanwhile.
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        self.find_category(want).await?.ok_or(e)?
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        cache.category = Some(id.clone());
        cache.absent_since = None;
        Ok(Some(id))
    }

    async fn find_category(&self, name: &str) -> Result<Option<String>> {
        for id in tagging::list_categories(&self.vapi).await? {
            match tagging::get_category(&self.vapi, &id).await {
                Ok(c) if c.name == name => return Ok(Some(c.id)),
                Ok(_) => {}
                // Deleted between the list and the get.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Re-reads the tags of the category into the cache.
    async fn refresh_tag_names(&self, category: &str) -> Result<()> {
        let ids = match tagging::list_tags_for_category(&self.vapi, category).await {
            Ok(ids) => ids,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // The category was deleted behind our back.
                *self.tag_cache.lock().await = TagCache::default();
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let known: HashMap<String, String> = self.tag_cache.lock().await.names.clone();
        let mut names = HashMap::new();
        for id in ids {
            if let Some(n) = known.get(&id) {
                names.insert(id, n.clone());
                continue;
            }
            match tagging::get_tag(&self.vapi, &id).await {
                Ok(t) => {
                    names.insert(t.id, t.name);
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut cache = self.tag_cache.lock().await;
        cache.names = names;
        cache.foreign.clear();
        Ok(())
    }

    /// The id of tag `name` of the category; created when `create` and missing.
    async fn tag_id(&self, category: &str, name: &str, create: bool) -> Result<Option<String>> {
        let lookup = |cache: &TagCache| {
            cache
                .names
                .iter()
                .find(|(_, n)| n.as_str() == name)
                .map(|(id, _)| id.clone())
        };
        if let Some(id) = lookup(&*self.tag_cache.lock().await) {
            return Ok(Some(id));
        }
        self.refresh_tag_names(category).await?;
        if let Some(id) = lookup(&*self.tag_cache.lock().await) {
            return Ok(Some(id));
        }
        if !create {
            return Ok(None);
        }
        let spec = TagCreateSpec {
            name: name.to_owned(),
            description: String::new(),
            category_id: category.to_owned(),
        };
        match tagging::create_tag(&self.vapi, &spec).await {
            Ok(id) => {
                self.tag_cache
                    .lock()
                    .await
                    .names
                    .insert(id.clone(), name.to_owned());
                Ok(Some(id))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                self.refresh_tag_names(category).await?;
                Ok(lookup(&*self.tag_cache.lock().await))
            }
            Err(e) => Err(e),
        }
    }

    /// The names of `ids` that are tags of the category (sorted), refreshing the cache
    /// once when an id is unknown.
    async fn names_of(&self, category: &str, ids: &[Vec<String>]) -> Result<Vec<Vec<String>>> {
        let unknown = {
            let cache = self.tag_cache.lock().await;
            ids.iter()
                .flatten()
                .any(|id| !cache.names.contains_key(id) && !cache.foreign.contains(id))
        };
        if unknown {
            self.refresh_tag_names(category).await?;
        }
        let mut cache = self.tag_cache.lock().await;
        let mut out = Vec::with_capacity(ids.len());
        for list in ids {
            let mut names: Vec<String> = Vec::new();
            for id in list {
                match cache.names.get(id) {
                    Some(n) => names.push(n.clone()),
                    None => {
                        cache.foreign.insert(id.clone());
                    }
                }
            }
            names.sort();
            names.dedup();
            out.push(names);
        }
        Ok(out)
    }

    /// The server tags of VMs `ids`, in one vAPI call (none when the category does not
    /// exist).
    pub(crate) async fn server_tags(&self, ids: &[String]) -> Result<HashMap<String, Vec<String>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let Some(category) = self.server_category(false).await? else {
            return Ok(HashMap::new());
        };
        let objects: Vec<DynamicId> = ids
            .iter()
            .map(|id| TaggedObject::vm(id.clone()).dynamic())
            .collect();
        let attached = tagging::list_attached_tags_on_objects(&self.vapi, &objects).await?;
        let (vms, lists): (Vec<String>, Vec<Vec<String>>) = attached
            .into_iter()
            .map(|o| (o.object_id.id, o.tag_ids))
            .unzip();
        let names = self.names_of(&category, &lists).await?;
        Ok(vms.into_iter().zip(names).collect())
    }

    /// Fills the `tags` of `servers` when server tags are supported.
    pub(crate) async fn fill_tags(&self, servers: &mut [Server]) -> Result<()> {
        if !self.caps().supports(Feature::ServerTags) || servers.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = servers.iter().map(|s| s.id.as_str().to_owned()).collect();
        let mut tags = self.server_tags(&ids).await?;
        for s in servers {
            s.tags = tags.remove(s.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    /// The ids and names of the category's tags on VM `id`.
    async fn attached_server_tags(
        &self,
        category: &str,
        id: &str,
    ) -> Result<Vec<(String, String)>> {
        let ids = tagging::list_attached_tags(&self.vapi, &TaggedObject::vm(id).dynamic()).await?;
        // Refreshes the cached names when an id is unknown.
        self.names_of(category, std::slice::from_ref(&ids)).await?;
        let cache = self.tag_cache.lock().await;
        Ok(ids
            .into_iter()
            .filter_map(|t| cache.names.get(&t).map(|n| (t.clone(), n.clone())))
            .collect())
    }

    /// Attaches `tags` (created as needed) to VM `id`.
    pub(crate) async fn add_tags(&self, id: &str, tags: &[String]) -> Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        for t in tags {
            check_tag(t)?;
        }
        let category = self.server_category(true).await?.ok_or_else(|| {
            Error::new(ErrorKind::Other, "the server-tag category was not created")
        })?;
        let obj = TaggedObject::vm(id).dynamic();
        for t in tags {
            let tag = self
                .tag_id(&category, t, true)
                .await?
                .ok_or_else(|| Error::new(ErrorKind::Other, format!("tag {t} was not created")))?;
            tagging::attach(&self.vapi, &tag, &obj).await?;
        }
        Ok(())
    }
}

impl VsphereProvider {
    pub(crate) async fn core_set_server_tags(
        &self,
        id: &ServerId,
        tags: &[String],
    ) -> Result<Vec<String>> {
        for t in tags {
            check_tag(t)?;
        }
        let inner = &self.inner;
        inner.vm_object(id.as_str(), false).await?;
        let mut wanted: Vec<String> = Vec::new();
        for t in tags {
            if !wanted.contains(t) {
                wanted.push(t.clone());
            }
        }
        let category = inner.server_category(!wanted.is_empty()).await?;
        let Some(category) = category else {
            return Ok(wanted); // no category: no tags before, none wanted
        };
        let current = inner.attached_server_tags(&category, id.as_str()).await?;
        let obj = TaggedObject::vm(id.as_str()).dynamic();
        for (tag, name) in &current {
            if !wanted.contains(name) {
                tagging::detach(&inner.vapi, tag, &obj).await?;
            }
        }
        let missing: Vec<String> = wanted
            .iter()
            .filter(|w| !current.iter().any(|(_, n)| n == *w))
            .cloned()
            .collect();
        inner.add_tags(id.as_str(), &missing).await?;
        Ok(wanted)
    }

    pub(crate) async fn core_add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        check_tag(tag)?;
        self.inner.vm_object(id.as_str(), false).await?;
        self.inner.add_tags(id.as_str(), &[tag.to_owned()]).await
    }

    pub(crate) async fn core_remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        let inner = &self.inner;
        inner.vm_object(id.as_str(), false).await?;
        let absent =
            || Error::not_found(format!("tag {tag:?} on server {id}")).with_resource(id.as_str());
        let Some(category) = inner.server_category(false).await? else {
            return Err(absent());
        };
        let current = inner.attached_server_tags(&category, id.as_str()).await?;
        let Some((tag_id, _)) = current.iter().find(|(_, n)| n == tag) else {
            return Err(absent());
        };
        tagging::detach(
            &inner.vapi,
            tag_id,
            &TaggedObject::vm(id.as_str()).dynamic(),
        )
        .await
    }

    fn tagging(&self) -> Result<Arc<Inner>> {
        self.inner.caps().require(Feature::ServerTags)?;
        Ok(self.inner.clone())
    }

    /// Every vSphere tag category (one call to list them, one per category to read it).
    ///
    /// Requires [`Feature::ServerTags`] (the vSphere Automation API).
    ///
    /// # Errors
    /// Transport and service errors.
    pub async fn list_tag_categories(&self) -> Result<Vec<TagCategory>> {
        let inner = self.tagging()?;
        let mut out = Vec::new();
        for id in tagging::list_categories(&inner.vapi).await? {
            match tagging::get_category(&inner.vapi, &id).await {
                Ok(c) => out.push(c.into()),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Creates a tag category whose tags can be attached to `associable_types` (for
    /// example `["VirtualMachine"]`; empty: every type), with one tag per object
    /// (`multiple` false) or many.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `InvalidInput` (empty name), `AlreadyExists` (the name is taken).
    pub async fn create_tag_category(
        &self,
        name: &str,
        description: &str,
        multiple: bool,
        associable_types: &[&str],
    ) -> Result<TagCategory> {
        let inner = self.tagging()?;
        if name.trim().is_empty() {
            return Err(Error::invalid_input("a tag category needs a name"));
        }
        let spec = CategoryCreateSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            cardinality: if multiple { "MULTIPLE" } else { "SINGLE" }.to_owned(),
            associable_types: associable_types.iter().map(|s| (*s).to_owned()).collect(),
        };
        let id = tagging::create_category(&inner.vapi, &spec).await?;
        Ok(tagging::get_category(&inner.vapi, &id).await?.into())
    }

    /// Deletes a tag category and its tags.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn delete_tag_category(&self, id: &str) -> Result<()> {
        let inner = self.tagging()?;
        tagging::delete_category(&inner.vapi, id).await?;
        let mut cache = inner.tag_cache.lock().await;
        if cache.category.as_deref() == Some(id) {
            *cache = TagCache::default();
        }
        Ok(())
    }

    /// The tags of category `category_id`, or every tag.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound` (category), transport and service errors.
    pub async fn list_tags(&self, category_id: Option<&str>) -> Result<Vec<VsphereTag>> {
        let inner = self.tagging()?;
        let ids = match category_id {
            Some(c) => tagging::list_tags_for_category(&inner.vapi, c).await?,
            None => tagging::list_tags(&inner.vapi).await?,
        };
        let mut out = Vec::new();
        for id in ids {
            match tagging::get_tag(&inner.vapi, &id).await {
                Ok(t) => out.push(t.into()),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Creates tag `name` in category `category_id`.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `InvalidInput` (bad name), `NotFound` (category), `AlreadyExists`.
    pub async fn create_tag(
        &self,
        category_id: &str,
        name: &str,
        description: &str,
    ) -> Result<VsphereTag> {
        let inner = self.tagging()?;
        check_tag(name)?;
        let spec = TagCreateSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            category_id: category_id.to_owned(),
        };
        let id = tagging::create_tag(&inner.vapi, &spec).await?;
        Ok(tagging::get_tag(&inner.vapi, &id).await?.into())
    }

    /// Deletes a tag (it is detached from everything).
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn delete_tag(&self, id: &str) -> Result<()> {
        let inner = self.tagging()?;
        tagging::delete_tag(&inner.vapi, id).await?;
        inner.tag_cache.lock().await.names.remove(id);
        Ok(())
    }

    /// Attaches tag `tag_id` to `object`.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound` (tag), `InvalidInput` (the category does not allow the object's type).
    pub async fn attach_tag(&self, tag_id: &str, object: &TaggedObject) -> Result<()> {
        let inner = self.tagging()?;
        tagging::attach(&inner.vapi, tag_id, &object.dynamic()).await
    }

    /// Detaches tag `tag_id` from `object`.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound` (tag).
    pub async fn detach_tag(&self, tag_id: &str, object: &TaggedObject) -> Result<()> {
        let inner = self.tagging()?;
        tagging::detach(&inner.vapi, tag_id, &object.dynamic()).await
    }

    /// The tags attached to `object`, of every category.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// Transport and service errors.
    pub async fn list_attached_tags(&self, object: &TaggedObject) -> Result<Vec<VsphereTag>> {
        let inner = self.tagging()?;
        let mut out = Vec::new();
        for id in tagging::list_attached_tags(&inner.vapi, &object.dynamic()).await? {
            match tagging::get_tag(&inner.vapi, &id).await {
                Ok(t) => out.push(t.into()),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The objects tag `tag_id` is attached to.
    ///
    /// Requires [`Feature::ServerTags`].
    ///
    /// # Errors
    /// `NotFound` (tag).
    pub async fn list_tagged_objects(&self, tag_id: &str) -> Result<Vec<TaggedObject>> {
        let inner = self.tagging()?;
        Ok(tagging::list_attached_objects(&inner.vapi, tag_id)
            .await?
            .into_iter()
            .map(|d| TaggedObject {
                kind: d.kind,
                id: d.id,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_checked() {
        assert!(check_tag("web").is_ok());
        assert_eq!(check_tag(" ").unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(
            check_tag(&"x".repeat(MAX_TAG_NAME + 1)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            check_tag("a\nb").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
